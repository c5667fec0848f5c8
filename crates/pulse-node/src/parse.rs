//! Binding for `pulse_core::parse`: a chunked parser object. Each call
//! returns the rows it completed as one Arrow IPC stream (flushed, so a
//! call's rows are never held back) plus the records it rejected.
//!
//! The parser lives behind `Arc<Mutex<…>>` so `pushAsync` can run on the
//! libuv pool. The lock makes calls exclusive but not ordered: callers start
//! an async call only after the previous one settled (`src/core/parser.ts`
//! queues them).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Task};
use napi_derive::napi;
use pulse_core::parse::{ParseOptions, Parser, Reject};
use pulse_core::schema::Schema;

use crate::convert::{batches_to_buffer, js_err};

/// A refused record, as a plain JS object.
#[napi(object)]
pub struct ParseReject {
    pub line: i64,
    pub byte_offset: i64,
    pub field: Option<String>,
    pub code: String,
    pub reason: String,
    pub raw: String,
}

impl From<Reject> for ParseReject {
    fn from(r: Reject) -> Self {
        ParseReject {
            line: r.line as i64,
            byte_offset: r.byte_offset as i64,
            field: r.field,
            code: r.code.as_str().to_string(),
            reason: r.reason,
            raw: r.raw,
        }
    }
}

/// What one call produced.
#[napi(object)]
pub struct ParseOutput {
    /// Arrow IPC stream of the rows completed by this call (schema only when none).
    pub batches: Buffer,
    pub rows: u32,
    pub rejects: Vec<ParseReject>,
    /// Nanoseconds the core spent on the call (parse and IPC encoding), so
    /// callers can tell the boundary's own cost from the compute.
    pub compute_ns: f64,
}

/// Running totals of a parser.
#[napi(object)]
pub struct ParseStats {
    pub records: i64,
    pub rows: i64,
    pub rejects: i64,
    pub bytes: i64,
}

type Shared = Arc<Mutex<Parser>>;

/// Runs `step` on the parser, then drains everything it completed.
fn run(parser: &Shared, step: impl FnOnce(&mut Parser)) -> napi::Result<ParseOutput> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let started = Instant::now();
        let mut p = parser
            .lock()
            .map_err(|_| js_err("parser is unusable after an earlier internal error"))?;
        step(&mut p);
        p.flush();
        let batches: Vec<_> = p.take_batches().into_iter().map(|b| b.batch).collect();
        let rows = batches.iter().map(|b| b.num_rows()).sum::<usize>() as u32;
        let rejects = p
            .take_rejects()
            .into_iter()
            .map(ParseReject::from)
            .collect();
        let batches = batches_to_buffer(&p.arrow_schema(), &batches)?;
        Ok(ParseOutput {
            batches,
            rows,
            rejects,
            compute_ns: started.elapsed().as_nanos() as f64,
        })
    }));
    outcome.unwrap_or_else(|_| Err(js_err("internal error in the native parser")))
}

/// A chunked CSV / NDJSON parser (see `docs/parser.md`).
#[napi]
pub struct NativeParser {
    inner: Shared,
}

#[napi]
impl NativeParser {
    /// `schemaJson` and `optionsJson` follow `docs/native-contract.md`.
    #[napi(constructor)]
    pub fn new(schema_json: String, options_json: String) -> napi::Result<Self> {
        let schema = Schema::from_json(&schema_json).map_err(js_err)?;
        let opts = ParseOptions::from_json(&options_json).map_err(js_err)?;
        let parser = Parser::new(Arc::new(schema), opts).map_err(js_err)?;
        Ok(NativeParser {
            inner: Arc::new(Mutex::new(parser)),
        })
    }

    /// Parses a chunk on the calling thread (for small chunks).
    #[napi]
    pub fn push(&self, chunk: Buffer) -> napi::Result<ParseOutput> {
        run(&self.inner, |p| p.push(&chunk))
    }

    /// Parses a chunk on the libuv pool, reading the Buffer in place: it
    /// stays referenced until the task ends and must not be modified
    /// meanwhile.
    #[napi(ts_return_type = "Promise<ParseOutput>")]
    pub fn push_async(&self, chunk: Buffer) -> AsyncTask<ParseTask> {
        AsyncTask::new(ParseTask {
            parser: self.inner.clone(),
            chunk: Some(chunk),
        })
    }

    /// End of input: the final record without a newline, and an
    /// unterminated quoted field, are handled now.
    #[napi]
    pub fn finish(&self) -> napi::Result<ParseOutput> {
        run(&self.inner, Parser::finish)
    }

    #[napi(ts_return_type = "Promise<ParseOutput>")]
    pub fn finish_async(&self) -> AsyncTask<ParseTask> {
        AsyncTask::new(ParseTask {
            parser: self.inner.clone(),
            chunk: None,
        })
    }

    /// Starts a new stream (a new object): lines, offsets, header and BOM
    /// detection start over. Any unfinished record is finished first.
    #[napi]
    pub fn reset(&self) -> napi::Result<ParseOutput> {
        run(&self.inner, Parser::reset)
    }

    #[napi]
    pub fn stats(&self) -> napi::Result<ParseStats> {
        let p = self
            .inner
            .lock()
            .map_err(|_| js_err("parser is unusable after an earlier internal error"))?;
        let s = p.stats();
        Ok(ParseStats {
            records: s.records as i64,
            rows: s.rows as i64,
            rejects: s.rejects as i64,
            bytes: s.bytes as i64,
        })
    }
}

/// `pushAsync` (with a chunk) or `finishAsync` (without) off the event loop.
pub struct ParseTask {
    parser: Shared,
    chunk: Option<Buffer>,
}

impl Task for ParseTask {
    type Output = ParseOutput;
    type JsValue = ParseOutput;

    fn compute(&mut self) -> napi::Result<ParseOutput> {
        match &self.chunk {
            // Read in place: the JS Buffer is referenced by this task.
            Some(chunk) => run(&self.parser, |p| p.push(chunk)),
            None => run(&self.parser, Parser::finish),
        }
    }

    fn resolve(&mut self, _env: Env, output: ParseOutput) -> napi::Result<ParseOutput> {
        Ok(output)
    }
}
