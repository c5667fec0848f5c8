//! `ViewState`: the partial states of one view, keyed by (pane start, group
//! key), with the watermark and the counters. Update, merge, evict and slice
//! live here; query and snapshot have their own modules.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMillisecondType};
use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::keys::{hash_key, BatchKeys};
use crate::measure::mask_true;
use crate::pane::Pane;
use crate::spec::ViewSpec;
use crate::view::ViewDef;
use crate::WindowError;

/// Event times beyond ±8.64e15 ms (the ECMAScript date range, ±275 000
/// years) are refused: pane arithmetic stays far from overflow.
pub const MAX_EVENT_TIME_MS: i64 = 8_640_000_000_000_000;

/// How a state treats late events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateOptions {
    /// `None`: nothing is late (batch). `Some(l)`: a row whose event time is
    /// below `watermark − l` is late.
    #[serde(default)]
    pub allowed_lateness_ms: Option<i64>,
}

/// What an update did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateOutcome {
    /// Rows applied to the state.
    pub applied: u64,
    /// Indices of rows rejected as late (not applied).
    pub late_rows: Vec<u32>,
}

/// Size and counters of a state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateStats {
    /// Panes (session views: grid cells) held.
    pub panes: usize,
    /// Keyed states held: (pane, group key) pairs, or live session fragments.
    pub keys: usize,
    /// Approximate heap bytes of keys and states.
    pub approx_bytes: usize,
    /// Rows rejected as late since the state was created (or restored).
    pub late_rows: u64,
    /// Rows applied since the state was created (or restored).
    pub applied_rows: u64,
}

/// The mergeable partial states of one view.
#[derive(Debug, Clone)]
pub struct ViewState {
    pub(crate) def: Arc<ViewDef>,
    pub(crate) opts: StateOptions,
    pub(crate) panes: BTreeMap<i64, Pane>,
    pub(crate) watermark: Option<i64>,
    pub(crate) applied: u64,
    pub(crate) late: u64,
}

impl ViewState {
    /// An empty state of `view` over batches of schema `input`, bucketed by
    /// the `event_time` column.
    pub fn new(
        input: SchemaRef,
        event_time: &str,
        view: ViewSpec,
        opts: StateOptions,
    ) -> Result<Self, WindowError> {
        if let Some(l) = opts.allowed_lateness_ms {
            if l < 0 {
                return Err(WindowError::Spec {
                    view: view.name.clone(),
                    path: "allowedLatenessMs".into(),
                    message: format!("must not be negative, got {l}"),
                });
            }
        }
        let def = ViewDef::compile(input, event_time, view)?;
        Ok(ViewState {
            def: Arc::new(def),
            opts,
            panes: BTreeMap::new(),
            watermark: None,
            applied: 0,
            late: 0,
        })
    }

    fn input_err(&self, message: String) -> WindowError {
        WindowError::Input {
            view: self.def.name().to_string(),
            message,
        }
    }

    /// Checks that `batch` has the input schema's column types where the
    /// view reads them.
    fn check_batch(
        &self,
        batch: &RecordBatch,
        mask: Option<&BooleanArray>,
    ) -> Result<(), WindowError> {
        let expected = &self.def.input;
        if batch.num_columns() != expected.fields().len() {
            return Err(self.input_err(format!(
                "batch has {} columns, the input schema has {}",
                batch.num_columns(),
                expected.fields().len()
            )));
        }
        for (i, (f, col)) in expected.fields().iter().zip(batch.columns()).enumerate() {
            if col.data_type() != f.data_type() {
                return Err(self.input_err(format!(
                    "column {i} ('{}') is {}, the input schema says {}",
                    f.name(),
                    col.data_type(),
                    f.data_type()
                )));
            }
        }
        if let Some(m) = mask {
            if m.len() != batch.num_rows() {
                return Err(self.input_err(format!(
                    "mask has {} rows, the batch has {}",
                    m.len(),
                    batch.num_rows()
                )));
            }
        }
        Ok(())
    }

    /// Checks, without applying anything, that [`update`](Self::update)
    /// would accept `batch`: column types, mask length, event times present
    /// and in range. Lets a caller refuse a multi-batch input as a whole.
    pub fn validate(
        &self,
        batch: &RecordBatch,
        mask: Option<&BooleanArray>,
    ) -> Result<(), WindowError> {
        self.check_batch(batch, mask)?;
        let (ts, nulls) = self.event_times(batch);
        for (i, &t) in ts.iter().enumerate() {
            if mask.is_none_or(|m| mask_true(m, i)) {
                self.check_event_time(nulls.as_ref(), i, t)?;
            }
        }
        Ok(())
    }

    fn event_times<'b>(&self, batch: &'b RecordBatch) -> (&'b [i64], Option<NullBuffer>) {
        let col = batch.column(self.def.event_time);
        let ts: &[i64] = match col.data_type() {
            DataType::Int64 => col.as_primitive::<Int64Type>().values(),
            _ => col.as_primitive::<TimestampMillisecondType>().values(),
        };
        (ts, col.logical_nulls())
    }

    fn check_event_time(
        &self,
        nulls: Option<&NullBuffer>,
        i: usize,
        t: i64,
    ) -> Result<(), WindowError> {
        if nulls.is_some_and(|n| n.is_null(i)) {
            let name = self.def.input.field(self.def.event_time).name();
            return Err(self.input_err(format!("event time '{name}' is null at row {i}")));
        }
        if !(-MAX_EVENT_TIME_MS..=MAX_EVENT_TIME_MS).contains(&t) {
            return Err(self.input_err(format!(
                "event time {t} at row {i} is outside ±{MAX_EVENT_TIME_MS} ms"
            )));
        }
        Ok(())
    }

    /// Applies the rows of `batch` whose mask is true (`None`: all rows).
    ///
    /// Lateness is decided row by row against the watermark *as it stands
    /// when the row arrives* (the largest event time applied before it), so
    /// the outcome depends only on the order of the rows, never on how they
    /// are split into batches. Nothing is applied when the batch is refused
    /// (wrong column types, a null or out-of-range event time).
    pub fn update(
        &mut self,
        batch: &RecordBatch,
        mask: Option<&BooleanArray>,
    ) -> Result<UpdateOutcome, WindowError> {
        self.check_batch(batch, mask)?;
        let (ts, ts_nulls) = self.event_times(batch);
        let mut selected: Vec<u32> = Vec::with_capacity(batch.num_rows());
        let mut late_rows = Vec::new();
        let mut watermark = self.watermark;
        for (i, &t) in ts.iter().enumerate() {
            if mask.is_some_and(|m| !mask_true(m, i)) {
                continue;
            }
            self.check_event_time(ts_nulls.as_ref(), i, t)?;
            if let (Some(l), Some(w)) = (self.opts.allowed_lateness_ms, watermark) {
                if t < w.saturating_sub(l) {
                    late_rows.push(i as u32);
                    continue;
                }
            }
            watermark = Some(watermark.map_or(t, |w| w.max(t)));
            selected.push(i as u32);
        }
        if !selected.is_empty() {
            let keys = self
                .def
                .keys
                .encode(batch)
                .map_err(|e| WindowError::Arrow {
                    view: self.def.name().to_string(),
                    source: e,
                })?;
            if self.def.is_session() {
                self.apply_sessions(batch, ts, &selected, &keys);
            } else {
                self.apply_panes(batch, ts, &selected, &keys);
            }
        }
        self.watermark = watermark;
        self.applied += selected.len() as u64;
        self.late += late_rows.len() as u64;
        Ok(UpdateOutcome {
            applied: selected.len() as u64,
            late_rows,
        })
    }

    /// Tumbling and hopping: rows are taken in runs that share a pane (one
    /// pane lookup per run), keys hashed once per row, then each measure
    /// runs one typed loop over the run.
    fn apply_panes(&mut self, batch: &RecordBatch, ts: &[i64], selected: &[u32], keys: &BatchKeys) {
        let def = &*self.def;
        let mut entries: Vec<u32> = Vec::with_capacity(selected.len().min(1 << 16));
        let mut i = 0;
        while i < selected.len() {
            let start = def.pane_start(ts[selected[i] as usize]);
            let end = start + def.pane_ms;
            let mut j = i + 1;
            while j < selected.len() && (start..end).contains(&ts[selected[j] as usize]) {
                j += 1;
            }
            let run = &selected[i..j];
            if !self.panes.contains_key(&start) {
                // A new pane usually holds about as many keys as the latest
                // one: sizing it so spares rehashing and regrowing its
                // state vectors key by key.
                let hint = self.panes.last_key_value().map_or(0, |(_, p)| p.keys.len());
                self.panes
                    .insert(start, Pane::with_capacity(&def.states, false, hint));
            }
            let pane = self.panes.get_mut(&start).expect("inserted above");
            entries.clear();
            for &r in run {
                let key = keys.key(r as usize);
                entries.push(pane.key_id(hash_key(key), key, &def.states));
            }
            for (m, col) in def.states.iter().zip(pane.columns.iter_mut()) {
                m.update(col, batch, run, &entries);
            }
            i = j;
        }
    }

    /// Sessions: each row is placed in its cell's fragments (joining or
    /// bridging fragments within the gap), then applied to that fragment.
    fn apply_sessions(
        &mut self,
        batch: &RecordBatch,
        ts: &[i64],
        selected: &[u32],
        keys: &BatchKeys,
    ) {
        let def = &*self.def;
        let gap = def.gap();
        for &r in selected {
            let t = ts[r as usize];
            let pane = self
                .panes
                .entry(def.pane_start(t))
                .or_insert_with(|| Pane::new(&def.states, true));
            let key = keys.key(r as usize);
            let id = pane.key_id(hash_key(key), key, &def.states);
            let frag = pane.place(id, t, t, gap, &def.states);
            for (m, col) in def.states.iter().zip(pane.columns.iter_mut()) {
                m.update(col, batch, &[r], &[frag]);
            }
        }
    }

    /// Merges `other` (a state of the same view definition) into this one:
    /// the result equals the state of both event sets. The watermark is the
    /// larger one; the counters add up.
    pub fn merge(&mut self, other: &ViewState) -> Result<(), WindowError> {
        if self.def.hash != other.def.hash {
            return Err(WindowError::Incompatible {
                view: self.def.name().to_string(),
                message: format!(
                    "definition {} differs from the other state's {} ('{}')",
                    self.def.hash,
                    other.def.hash,
                    other.def.name()
                ),
            });
        }
        let def = &*self.def;
        for (&start, theirs) in &other.panes {
            match self.panes.get_mut(&start) {
                Some(mine) => mine.merge(theirs, def.gap(), &def.states),
                None => {
                    self.panes.insert(start, theirs.clone());
                }
            }
        }
        self.watermark = match (self.watermark, other.watermark) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.applied += other.applied;
        self.late += other.late;
        Ok(())
    }

    /// Drops panes (session views: cells, with their fragments) ending at
    /// or before `t`; returns how many were dropped.
    pub fn evict_through(&mut self, t: i64) -> usize {
        // A pane [s, s + len) ends at or before t when s ≤ t − len.
        let first_kept = t.saturating_sub(self.def.pane_ms).saturating_add(1);
        let kept = self.panes.split_off(&first_kept);
        let dropped = self.panes.len();
        self.panes = kept;
        dropped
    }

    /// A state holding copies of the panes starting in `[from, to)`. It
    /// keeps this state's watermark; its counters start at zero.
    pub fn slice(&self, from: i64, to: i64) -> ViewState {
        let panes = if from < to {
            self.panes
                .range(from..to)
                .map(|(&s, p)| (s, p.clone()))
                .collect()
        } else {
            BTreeMap::new()
        };
        ViewState {
            def: self.def.clone(),
            opts: self.opts,
            panes,
            watermark: self.watermark,
            applied: 0,
            late: 0,
        }
    }

    /// Largest event time applied, if any.
    pub fn watermark(&self) -> Option<i64> {
        self.watermark
    }

    /// The pane grid every batch/realtime boundary must sit on.
    pub fn alignment_ms(&self) -> i64 {
        self.def.pane_ms
    }

    pub fn stats(&self) -> StateStats {
        StateStats {
            panes: self.panes.len(),
            keys: self.panes.values().map(Pane::live_len).sum(),
            approx_bytes: self.panes.values().map(Pane::approx_bytes).sum(),
            late_rows: self.late,
            applied_rows: self.applied,
        }
    }

    /// Stable hash of the view definition and the types it reads.
    pub fn definition_hash(&self) -> String {
        self.def.hash.clone()
    }

    /// The view this state aggregates.
    pub fn view(&self) -> &ViewSpec {
        &self.def.spec
    }

    pub fn options(&self) -> StateOptions {
        self.opts
    }
}
