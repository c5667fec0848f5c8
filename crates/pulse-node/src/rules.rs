//! Binding for `pulse_core::rules`: a compiled rule set evaluating Arrow IPC
//! streams. Each batch of the stream is evaluated on its own; kept rows come
//! back as one IPC stream (derived columns appended) and rejects as another
//! (`row`, `rule_ids`, `messages`), with `row` counted across the stream.

use std::panic::RefUnwindSafe;
use std::ptr::NonNull;
use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Buffer, BufferSlice};
use napi::{Env, ScopedTask};
use napi_derive::napi;
use pulse_core::rules::{rejects_schema, RuleSet, RulesSpec};
use pulse_core::schema::Schema;

use crate::convert::js_err;

/// What `evaluate` returns: two IPC streams and the row counts. The
/// streams are copied into buffers the JS engine owns, so the collector frees
/// them like any Buffer. External buffers (no copy) are freed by finalizers
/// that only run when the event loop turns: a synchronous loop evaluating
/// 1M-row batches grew to 23 GB with them.
#[napi(object)]
pub struct RulesEvaluation<'env> {
    /// Kept rows, derived columns appended (Arrow IPC stream).
    pub valid: BufferSlice<'env>,
    /// `row` UInt32, `rule_ids` List<Utf8>, `messages` List<Utf8> (Arrow IPC stream).
    pub rejects: BufferSlice<'env>,
    pub valid_rows: i64,
    pub rejected_rows: i64,
    pub warned_rows: i64,
}

/// Cumulative counts of one check since compile.
#[napi(object)]
pub struct RuleCounter {
    pub id: String,
    /// `error` or `warn`.
    pub severity: String,
    pub evaluated: i64,
    pub failed: i64,
    pub warned: i64,
}

/// The evaluation of a whole stream, before it becomes JS values.
pub struct StreamEvaluation {
    valid: Vec<u8>,
    rejects: Vec<u8>,
    valid_rows: usize,
    rejected_rows: usize,
    warned_rows: u64,
}

impl StreamEvaluation {
    fn into_js(self, env: &Env) -> napi::Result<RulesEvaluation<'_>> {
        Ok(RulesEvaluation {
            valid: BufferSlice::copy_from(env, &self.valid)?,
            rejects: BufferSlice::copy_from(env, &self.rejects)?,
            valid_rows: self.valid_rows as i64,
            rejected_rows: self.rejected_rows as i64,
            warned_rows: self.warned_rows as i64,
        })
    }
}

/// Keeps the caller's Buffer referenced while Arrow arrays read its bytes.
struct JsBytes(#[allow(dead_code)] Buffer);

impl RefUnwindSafe for JsBytes {}

/// The caller's IPC bytes as an Arrow buffer, without copying them.
///
/// Only for synchronous calls: the JS thread is blocked for the whole call,
/// so nothing can write to the Buffer, and `evaluate_stream` drops every
/// array decoded from it before it returns (its output is fresh `Vec`s).
fn borrow_js_bytes(ipc: Buffer) -> arrow_buffer::Buffer {
    let len = ipc.len();
    match NonNull::new(ipc.as_ptr().cast_mut()) {
        Some(ptr) if len > 0 => {
            // SAFETY: `ptr` is valid for `len` bytes for as long as the JS
            // Buffer is referenced, which the `JsBytes` owner guarantees;
            // see the function's note for why no one writes to it meanwhile.
            unsafe {
                arrow_buffer::Buffer::from_custom_allocation(ptr, len, Arc::new(JsBytes(ipc)))
            }
        }
        _ => arrow_buffer::Buffer::from_vec(Vec::<u8>::new()),
    }
}

fn evaluate_stream(rules: &RuleSet, ipc: arrow_buffer::Buffer) -> napi::Result<StreamEvaluation> {
    let (_, batches) = pulse_core::ipc::decode_stream(ipc).map_err(js_err)?;
    let mut valid = Vec::with_capacity(batches.len());
    let mut rejects = Vec::with_capacity(batches.len());
    let (mut offset, mut valid_rows, mut rejected_rows, mut warned_rows) = (0u32, 0, 0, 0);
    for batch in &batches {
        let mut ev = rules.evaluate(batch).map_err(js_err)?;
        for r in &mut ev.rejected {
            r.row += offset;
        }
        offset = offset.saturating_add(u32::try_from(batch.num_rows()).unwrap_or(u32::MAX));
        valid_rows += ev.valid.num_rows();
        rejected_rows += ev.rejected.len();
        warned_rows += ev.warned_rows;
        rejects.push(ev.rejects_batch(rules));
        valid.push(ev.valid);
    }
    Ok(StreamEvaluation {
        valid: pulse_core::ipc::encode_stream(&rules.output_schema(), &valid).map_err(js_err)?,
        rejects: pulse_core::ipc::encode_stream(&rejects_schema(), &rejects).map_err(js_err)?,
        valid_rows,
        rejected_rows,
        warned_rows,
    })
}

/// Evaluation off the event loop (libuv pool); the input is read there.
pub struct EvaluateTask {
    rules: Arc<RuleSet>,
    ipc: Buffer,
}

impl<'task> ScopedTask<'task> for EvaluateTask {
    type Output = StreamEvaluation;
    type JsValue = RulesEvaluation<'task>;

    fn compute(&mut self) -> napi::Result<StreamEvaluation> {
        // JS runs while this does: take a private copy of the bytes first.
        evaluate_stream(&self.rules, arrow_buffer::Buffer::from(&self.ipc[..]))
    }

    fn resolve(
        &mut self,
        env: &'task Env,
        output: StreamEvaluation,
    ) -> napi::Result<RulesEvaluation<'task>> {
        output.into_js(env)
    }
}

/// A rule set compiled once against a schema.
#[napi]
pub struct NativeRuleSet {
    inner: Arc<RuleSet>,
}

#[napi]
impl NativeRuleSet {
    /// Compiles `rulesJson` (the contract's rules spec) against `schemaJson`
    /// (the pulse schema); errors name the rule id and expression column.
    #[napi(factory, catch_unwind)]
    pub fn compile(schema_json: String, rules_json: String) -> napi::Result<NativeRuleSet> {
        let schema = Schema::from_json(&schema_json).map_err(js_err)?;
        let spec = RulesSpec::from_json(&rules_json).map_err(js_err)?;
        let rules = RuleSet::compile(&schema.arrow_schema(), &spec).map_err(js_err)?;
        Ok(NativeRuleSet {
            inner: Arc::new(rules),
        })
    }

    /// Evaluates an Arrow IPC stream on the calling thread.
    #[napi(catch_unwind)]
    pub fn evaluate<'env>(
        &self,
        env: &'env Env,
        ipc: Buffer,
    ) -> napi::Result<RulesEvaluation<'env>> {
        evaluate_stream(&self.inner, borrow_js_bytes(ipc))?.into_js(env)
    }

    /// Evaluates an Arrow IPC stream on the libuv thread pool.
    #[napi(ts_return_type = "Promise<RulesEvaluation>")]
    pub fn evaluate_async(&self, ipc: Buffer) -> AsyncTask<EvaluateTask> {
        AsyncTask::new(EvaluateTask {
            rules: self.inner.clone(),
            ipc,
        })
    }

    #[napi]
    pub fn counters(&self) -> Vec<RuleCounter> {
        self.inner
            .counters()
            .into_iter()
            .map(|c| RuleCounter {
                id: c.id,
                severity: c.severity.as_str().to_string(),
                evaluated: c.evaluated as i64,
                failed: c.failed as i64,
                warned: c.warned as i64,
            })
            .collect()
    }

    #[napi]
    pub fn rule_ids(&self) -> Vec<String> {
        self.inner.rule_ids().to_vec()
    }
}
