//! Binding for `pulse_core::pipeline`: the fused parse → rules → window call
//! both data layers make once per chunk or micro-batch.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Task};
use napi_derive::napi;

use pulse_core::pipeline::{Pipeline, PipelineReject, PipelineSpec, PushReport};
use pulse_core::window::Query;

use crate::convert::{batches_to_buffer, js_err};

/// A record that did not reach the views, for the rejects store or the DLQ.
#[napi(object)]
pub struct JsPipelineReject {
    pub line: i64,
    pub byte_offset: i64,
    /// A parser code (`malformed_json`, …), `rule_failed` or `late`.
    pub kind: String,
    pub field: Option<String>,
    pub rule_ids: Vec<String>,
    pub reason: String,
    pub raw: Option<String>,
}

/// What one push or finish did.
#[napi(object)]
pub struct JsPushReport {
    pub records: i64,
    pub applied: i64,
    pub warned: i64,
    pub parse_rejects: i64,
    pub rule_rejects: i64,
    pub late: i64,
    pub out_of_range: i64,
    pub rejects: Vec<JsPipelineReject>,
    pub watermark: Option<i64>,
}

/// Cumulative counters of one rule.
#[napi(object)]
pub struct JsPipelineRuleCounter {
    pub id: String,
    pub severity: String,
    pub evaluated: i64,
    pub failed: i64,
    pub warned: i64,
}

fn to_js(r: PushReport) -> JsPushReport {
    JsPushReport {
        records: r.records as i64,
        applied: r.applied as i64,
        warned: r.warned as i64,
        parse_rejects: r.parse_rejects as i64,
        rule_rejects: r.rule_rejects as i64,
        late: r.late as i64,
        out_of_range: r.out_of_range as i64,
        rejects: r.rejects.into_iter().map(reject_to_js).collect(),
        watermark: r.watermark,
    }
}

fn reject_to_js(r: PipelineReject) -> JsPipelineReject {
    JsPipelineReject {
        line: r.line as i64,
        byte_offset: r.byte_offset as i64,
        kind: r.kind.as_str().to_string(),
        field: r.field,
        rule_ids: r.rule_ids,
        reason: r.reason,
        raw: r.raw,
    }
}

/// The compiled pipeline and its view states. Shared with in-flight async
/// tasks, which lock it on the libuv pool, never on the event loop.
#[napi]
pub struct NativePipeline {
    /// `None` once closed: the states are freed then, not at the wrapper's
    /// garbage collection, which V8 schedules without seeing native memory.
    inner: Shared,
}

type Shared = Arc<Mutex<Option<Pipeline>>>;

/// A locked pipeline that is known to be open.
struct Held<'a>(MutexGuard<'a, Option<Pipeline>>);

impl Deref for Held<'_> {
    type Target = Pipeline;
    fn deref(&self) -> &Pipeline {
        self.0.as_ref().expect("`lock` returns open pipelines only")
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Pipeline {
        self.0.as_mut().expect("`lock` returns open pipelines only")
    }
}

fn lock(p: &Shared) -> napi::Result<Held<'_>> {
    let guard = p
        .lock()
        .map_err(|_| napi::Error::from_reason("pipeline poisoned by an earlier panic"))?;
    if guard.is_none() {
        return Err(napi::Error::from_reason("pipeline is closed"));
    }
    Ok(Held(guard))
}

#[napi]
impl NativePipeline {
    /// Compiles a pipeline from its JSON spec (schema, parse, rules, views).
    #[napi(constructor)]
    pub fn new(spec_json: String) -> napi::Result<Self> {
        let spec = PipelineSpec::from_json(&spec_json).map_err(js_err)?;
        let pipeline = Pipeline::new(spec).map_err(js_err)?;
        Ok(NativePipeline {
            inner: Arc::new(Mutex::new(Some(pipeline))),
        })
    }

    /// Frees the view states now; every later call fails with "closed".
    /// An async call in flight finishes first (it holds the lock).
    #[napi]
    pub fn close(&self) -> napi::Result<()> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| napi::Error::from_reason("pipeline poisoned by an earlier panic"))?;
        *guard = None;
        Ok(())
    }

    /// Feeds one chunk on the calling thread (small chunks).
    #[napi]
    pub fn push(&self, chunk: Buffer) -> napi::Result<JsPushReport> {
        lock(&self.inner)?.push(&chunk).map(to_js).map_err(js_err)
    }

    /// Feeds one chunk on the libuv pool.
    #[napi(ts_return_type = "Promise<JsPushReport>")]
    pub fn push_async(&self, chunk: Buffer) -> AsyncTask<PushTask> {
        AsyncTask::new(PushTask {
            pipeline: self.inner.clone(),
            chunk: Some(chunk),
        })
    }

    /// Ends the current stream (object or micro-batch).
    #[napi]
    pub fn finish(&self) -> napi::Result<JsPushReport> {
        lock(&self.inner)?.finish().map(to_js).map_err(js_err)
    }

    #[napi(ts_return_type = "Promise<JsPushReport>")]
    pub fn finish_async(&self) -> AsyncTask<PushTask> {
        AsyncTask::new(PushTask {
            pipeline: self.inner.clone(),
            chunk: None,
        })
    }

    #[napi]
    pub fn set_view_range(&self, view: String, from: i64, to: i64) -> napi::Result<()> {
        lock(&self.inner)?
            .set_view_range(&view, from, to)
            .map_err(js_err)
    }

    #[napi]
    pub fn snapshot(&self, view: String) -> napi::Result<Buffer> {
        lock(&self.inner)?
            .snapshot(&view)
            .map(Buffer::from)
            .map_err(js_err)
    }

    #[napi]
    pub fn restore(&self, view: String, snapshot: Buffer) -> napi::Result<()> {
        lock(&self.inner)?.restore(&view, &snapshot).map_err(js_err)
    }

    /// Merges another pipeline's view states into this one's.
    #[napi]
    pub fn merge(&self, other: &NativePipeline) -> napi::Result<()> {
        if Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(napi::Error::from_reason("a pipeline cannot merge itself"));
        }
        let theirs = lock(&other.inner)?;
        lock(&self.inner)?.merge(&theirs).map_err(js_err)
    }

    #[napi]
    pub fn evict_through(&self, view: String, t: i64) -> napi::Result<u32> {
        lock(&self.inner)?
            .evict_through(&view, t)
            .map(|n| n as u32)
            .map_err(js_err)
    }

    /// Finalised windows of one view as Arrow IPC stream bytes.
    #[napi]
    pub fn query(&self, view: String, query_json: String) -> napi::Result<Buffer> {
        let q = Query::from_json(&query_json).map_err(js_err)?;
        let p = lock(&self.inner)?;
        let batch = p.query(&view, &q).map_err(js_err)?;
        batches_to_buffer(&batch.schema(), &[batch])
    }

    #[napi]
    pub fn watermark(&self) -> napi::Result<Option<i64>> {
        Ok(lock(&self.inner)?.watermark())
    }

    /// Raises the watermark to at least `t` (restoring a checkpoint's watermark).
    #[napi]
    pub fn raise_watermark(&self, t: i64) -> napi::Result<()> {
        lock(&self.inner)?.raise_watermark(t);
        Ok(())
    }

    #[napi]
    pub fn view_names(&self) -> napi::Result<Vec<String>> {
        Ok(lock(&self.inner)?
            .view_names()
            .map(str::to_string)
            .collect())
    }

    #[napi]
    pub fn rule_counters(&self) -> napi::Result<Vec<JsPipelineRuleCounter>> {
        Ok(lock(&self.inner)?
            .rule_counters()
            .into_iter()
            .map(|c| JsPipelineRuleCounter {
                id: c.id,
                severity: c.severity.as_str().to_string(),
                evaluated: c.evaluated as i64,
                failed: c.failed as i64,
                warned: c.warned as i64,
            })
            .collect())
    }
}

/// `push`/`finish` on the libuv pool. The chunk stays referenced by the
/// task until it resolves, so reading it in `compute` needs no copy.
pub struct PushTask {
    pipeline: Shared,
    chunk: Option<Buffer>,
}

impl Task for PushTask {
    type Output = PushReport;
    type JsValue = JsPushReport;

    fn compute(&mut self) -> napi::Result<PushReport> {
        let mut p = lock(&self.pipeline)?;
        match &self.chunk {
            Some(chunk) => p.push(chunk),
            None => p.finish(),
        }
        .map_err(js_err)
    }

    fn resolve(&mut self, _env: Env, output: PushReport) -> napi::Result<JsPushReport> {
        Ok(to_js(output))
    }
}
