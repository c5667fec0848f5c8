//! Binding for `pulse_core::window`: `NativeViewState`, a view's mergeable
//! partial states. Record batches come in as Arrow IPC stream bytes (read
//! in place, without copying the caller's Buffer); query results and
//! snapshots go out as IPC bytes handed to JS without a copy.

use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Task};
use napi_derive::napi;
use pulse_core::window::{Query, StateOptions, StateStats, UpdateOutcome, ViewSpec, ViewState};
use serde::Deserialize;

use crate::convert::{batches_to_buffer, js_err};

/// `optionsJson`: the state options plus the derived (tagging) columns the
/// rule set appends to the schema's columns, as nullable Utf8.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OptionsJson {
    #[serde(default)]
    allowed_lateness_ms: Option<i64>,
    #[serde(default)]
    derived_columns: Vec<String>,
}

/// Everything a state is built from, parsed from the three JSON arguments.
struct Definition {
    input: SchemaRef,
    event_time: String,
    view: ViewSpec,
    opts: StateOptions,
}

fn definition(schema_json: &str, view_json: &str, options_json: &str) -> napi::Result<Definition> {
    let schema = pulse_core::schema::Schema::from_json(schema_json).map_err(js_err)?;
    let event_time = schema.event_time.clone().ok_or_else(|| {
        napi::Error::from_reason("schema: eventTime is required for a view state")
    })?;
    let options: OptionsJson = if options_json.trim().is_empty() {
        OptionsJson::default()
    } else {
        serde_json::from_str(options_json)
            .map_err(|e| js_err(format!("view state options: {e}")))?
    };
    let base = schema.arrow_schema();
    let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
    for name in &options.derived_columns {
        if fields.iter().any(|f| f.name() == name) {
            return Err(js_err(format!(
                "view state options: derived column '{name}' clashes with a schema field"
            )));
        }
        fields.push(Field::new(name, DataType::Utf8, true));
    }
    Ok(Definition {
        input: Arc::new(Schema::new(fields)),
        event_time,
        view: ViewSpec::from_json(view_json).map_err(js_err)?,
        opts: StateOptions {
            allowed_lateness_ms: options.allowed_lateness_ms,
        },
    })
}

/// Reads IPC stream bytes in place: the arrow buffer borrows the JS Buffer's
/// memory and owns the Buffer (hence its reference to the JS object), so the
/// bytes stay alive while any decoded array uses them.
fn read_batches(ipc: Buffer) -> napi::Result<Vec<RecordBatch>> {
    let len = ipc.len();
    let data = if len == 0 {
        arrow_buffer::Buffer::from_vec(Vec::<u8>::new())
    } else {
        let ptr = NonNull::new(ipc.as_ptr() as *mut u8).ok_or_else(|| js_err("null Buffer"))?;
        // SAFETY: `ptr` points at `len` bytes of the JS Buffer that the
        // owner holds until the arrow buffer is dropped; nothing writes them.
        unsafe { arrow_buffer::Buffer::from_custom_allocation(ptr, len, Arc::new(ipc)) }
    };
    let (_, batches) = pulse_core::ipc::decode_stream(data)
        .map_err(|e| js_err(format!("input is not an Arrow IPC stream: {e}")))?;
    Ok(batches)
}

/// Applies every batch of `ipc`, with the optional byte-per-row mask
/// (non-zero = apply) spanning all of them. Late row indices are counted
/// across the whole stream. The stream is checked first, so a refused input
/// applies nothing.
fn apply(state: &mut ViewState, ipc: Buffer, mask: Option<&[u8]>) -> napi::Result<UpdateOutcome> {
    let batches = read_batches(ipc)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if let Some(m) = mask {
        if m.len() != rows {
            return Err(js_err(format!(
                "mask has {} entries, the input has {rows} rows",
                m.len()
            )));
        }
    }
    let mut masks = Vec::with_capacity(batches.len());
    let mut offset = 0usize;
    for batch in &batches {
        let n = batch.num_rows();
        let m = mask
            .map(|m| BooleanArray::from_iter(m[offset..offset + n].iter().map(|&b| Some(b != 0))));
        if batches.len() > 1 {
            state.validate(batch, m.as_ref()).map_err(|e| {
                js_err(format!(
                    "{e} (in the batch starting at row {offset} of the input)"
                ))
            })?;
        }
        masks.push(m);
        offset += n;
    }
    let mut total = UpdateOutcome::default();
    offset = 0;
    for (batch, m) in batches.iter().zip(&masks) {
        let out = state.update(batch, m.as_ref()).map_err(js_err)?;
        total.applied += out.applied;
        total
            .late_rows
            .extend(out.late_rows.iter().map(|&r| r + offset as u32));
        offset += batch.num_rows();
    }
    Ok(total)
}

/// Result of an update.
#[napi(object)]
pub struct ViewUpdate {
    /// Rows applied.
    pub applied: i64,
    /// Indices of the rows rejected as late (across the whole IPC stream).
    pub late_rows: Vec<u32>,
}

impl From<UpdateOutcome> for ViewUpdate {
    fn from(o: UpdateOutcome) -> Self {
        ViewUpdate {
            applied: o.applied as i64,
            late_rows: o.late_rows,
        }
    }
}

/// Size and counters of a view state.
#[napi(object)]
pub struct ViewStats {
    pub panes: i64,
    pub keys: i64,
    pub approx_bytes: i64,
    pub late_rows: i64,
    pub applied_rows: i64,
}

impl From<StateStats> for ViewStats {
    fn from(s: StateStats) -> Self {
        ViewStats {
            panes: s.panes as i64,
            keys: s.keys as i64,
            approx_bytes: s.approx_bytes as i64,
            late_rows: s.late_rows as i64,
            applied_rows: s.applied_rows as i64,
        }
    }
}

type Shared = Arc<Mutex<ViewState>>;

fn lock(state: &Shared) -> napi::Result<MutexGuard<'_, ViewState>> {
    state
        .lock()
        .map_err(|_| js_err("view state is unusable: an earlier call panicked while holding it"))
}

/// A view's mergeable partial states.
#[napi]
pub struct NativeViewState {
    state: Shared,
}

impl NativeViewState {
    fn wrap(state: ViewState) -> Self {
        NativeViewState {
            state: Arc::new(Mutex::new(state)),
        }
    }
}

#[napi]
impl NativeViewState {
    /// An empty state: `schemaJson` (the record schema, with `eventTime`),
    /// `viewJson` (one view), `optionsJson` (`{ allowedLatenessMs?,
    /// derivedColumns? }`).
    #[napi(constructor, catch_unwind)]
    pub fn new(schema_json: String, view_json: String, options_json: String) -> napi::Result<Self> {
        let d = definition(&schema_json, &view_json, &options_json)?;
        let state = ViewState::new(d.input, &d.event_time, d.view, d.opts).map_err(js_err)?;
        Ok(Self::wrap(state))
    }

    /// Rebuilds a state from `snapshot()` bytes.
    #[napi(factory, catch_unwind)]
    pub fn restore(
        schema_json: String,
        view_json: String,
        options_json: String,
        bytes: Buffer,
    ) -> napi::Result<Self> {
        let d = definition(&schema_json, &view_json, &options_json)?;
        let state =
            ViewState::restore(d.input, &d.event_time, d.view, d.opts, &bytes).map_err(js_err)?;
        Ok(Self::wrap(state))
    }

    /// Applies record batches (Arrow IPC stream); `mask`: one byte per row,
    /// non-zero to apply the row.
    #[napi(catch_unwind)]
    pub fn update(&self, ipc: Buffer, mask: Option<Buffer>) -> napi::Result<ViewUpdate> {
        let mut state = lock(&self.state)?;
        apply(&mut state, ipc, mask.as_deref()).map(ViewUpdate::from)
    }

    /// `update` off the event loop (on the libuv pool).
    #[napi(ts_return_type = "Promise<ViewUpdate>")]
    pub fn update_async(&self, ipc: Buffer, mask: Option<Buffer>) -> AsyncTask<UpdateTask> {
        AsyncTask::new(UpdateTask {
            state: self.state.clone(),
            ipc,
            mask,
        })
    }

    /// Merges another state of the same view definition into this one.
    #[napi(catch_unwind)]
    pub fn merge(&self, other: &NativeViewState) -> napi::Result<()> {
        if Arc::ptr_eq(&self.state, &other.state) {
            let mut mine = lock(&self.state)?;
            let copy = mine.clone();
            return mine.merge(&copy).map_err(js_err);
        }
        // Lock in address order, so two opposite merges cannot deadlock.
        let self_first = Arc::as_ptr(&self.state) < Arc::as_ptr(&other.state);
        let (mut mine, theirs) = if self_first {
            let mine = lock(&self.state)?;
            (mine, lock(&other.state)?)
        } else {
            let theirs = lock(&other.state)?;
            (lock(&self.state)?, theirs)
        };
        mine.merge(&theirs).map_err(js_err)
    }

    /// Drops panes ending at or before `t` (ms); returns how many.
    #[napi(catch_unwind)]
    pub fn evict_through(&self, t: i64) -> napi::Result<u32> {
        Ok(lock(&self.state)?.evict_through(t) as u32)
    }

    /// A new state holding the panes starting in `[from, to)`.
    #[napi(catch_unwind)]
    pub fn slice(&self, from: i64, to: i64) -> napi::Result<NativeViewState> {
        Ok(Self::wrap(lock(&self.state)?.slice(from, to)))
    }

    /// Snapshot as Arrow IPC stream bytes (versioned layout).
    #[napi(catch_unwind)]
    pub fn snapshot(&self) -> napi::Result<Buffer> {
        let bytes = lock(&self.state)?.snapshot().map_err(js_err)?;
        Ok(Buffer::from(bytes))
    }

    /// `snapshot` off the event loop.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn snapshot_async(&self) -> AsyncTask<SnapshotTask> {
        AsyncTask::new(SnapshotTask {
            state: self.state.clone(),
        })
    }

    /// Query (`{ from?, to?, groups?, granularityMs?, limit? }`); returns
    /// the result as Arrow IPC stream bytes.
    #[napi(catch_unwind)]
    pub fn query(&self, query_json: String) -> napi::Result<Buffer> {
        run_query(&self.state, &query_json)
    }

    /// `query` off the event loop.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn query_async(&self, query_json: String) -> AsyncTask<QueryTask> {
        AsyncTask::new(QueryTask {
            state: self.state.clone(),
            query_json,
        })
    }

    /// Largest event time applied (ms), or null.
    #[napi(catch_unwind)]
    pub fn watermark(&self) -> napi::Result<Option<i64>> {
        Ok(lock(&self.state)?.watermark())
    }

    /// The pane grid (ms) a batch/realtime boundary must sit on.
    #[napi(catch_unwind)]
    pub fn alignment_ms(&self) -> napi::Result<i64> {
        Ok(lock(&self.state)?.alignment_ms())
    }

    /// Stable hash of the view definition (manifests record it).
    #[napi(catch_unwind)]
    pub fn definition_hash(&self) -> napi::Result<String> {
        Ok(lock(&self.state)?.definition_hash())
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> napi::Result<ViewStats> {
        Ok(lock(&self.state)?.stats().into())
    }
}

fn run_query(state: &Shared, query_json: &str) -> napi::Result<Buffer> {
    let q = if query_json.trim().is_empty() {
        Query::default()
    } else {
        Query::from_json(query_json).map_err(js_err)?
    };
    let guard = lock(state)?;
    let batch = guard.query(&q).map_err(js_err)?;
    batches_to_buffer(&batch.schema(), &[batch])
}

pub struct UpdateTask {
    state: Shared,
    ipc: Buffer,
    mask: Option<Buffer>,
}

impl Task for UpdateTask {
    type Output = UpdateOutcome;
    type JsValue = ViewUpdate;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let mut state = lock(&self.state)?;
        apply(
            &mut state,
            std::mem::take(&mut self.ipc),
            self.mask.as_deref(),
        )
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output.into())
    }
}

pub struct SnapshotTask {
    state: Shared,
}

impl Task for SnapshotTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        lock(&self.state)?.snapshot().map_err(js_err)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(Buffer::from(output))
    }
}

pub struct QueryTask {
    state: Shared,
    query_json: String,
}

impl Task for QueryTask {
    type Output = Buffer;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        run_query(&self.state, &self.query_json)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}
