//! The fused pipeline: raw bytes → parse → rules → lateness → view states,
//! in one native call per chunk. Both layers run exactly this code with the
//! same compiled spec (invariant 1), so given the same events they build
//! identical partial states.

use std::sync::Arc;

use arrow_array::{Array, BooleanArray, RecordBatch, TimestampMillisecondArray};
use arrow_schema::SchemaRef;
use arrow_select::filter::filter_record_batch;
use serde::Deserialize;

use pulse_parse::{ParseOptions, ParsedBatch, Parser};
use pulse_rules::{compile_predicate, Predicate, RuleCounter, RuleSet, RulesSpec};
use pulse_schema::Schema;
use pulse_window::{Query, StateOptions, ViewSpec, ViewState};

use crate::error::CoreError;

/// Everything a pipeline is compiled from, as the config normalises it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineSpec {
    pub schema: Schema,
    pub parse: ParseOptions,
    #[serde(default)]
    pub rules: Option<RulesSpec>,
    #[serde(default)]
    pub views: Vec<ViewSpec>,
    /// Rows older than `watermark - allowedLatenessMs` are late rejects.
    /// Absent for the batch layer: nothing is late when recomputing history.
    #[serde(default)]
    pub allowed_lateness_ms: Option<i64>,
}

impl PipelineSpec {
    pub fn from_json(json: &str) -> Result<Self, CoreError> {
        let spec: PipelineSpec =
            serde_json::from_str(json).map_err(|e| CoreError::Spec(e.to_string()))?;
        spec.schema
            .validate()
            .map_err(|e| CoreError::Spec(e.to_string()))?;
        Ok(spec)
    }
}

/// Why a record did not reach the views.
#[derive(Debug, Clone, PartialEq)]
pub enum RejectKind {
    /// The parser refused it; the code is the parser's (`malformed_json`, …).
    Parse(String),
    /// One or more error-severity rules failed.
    Rule,
    /// Older than the watermark minus the allowed lateness.
    Late,
}

impl RejectKind {
    pub fn as_str(&self) -> &str {
        match self {
            RejectKind::Parse(code) => code,
            RejectKind::Rule => "rule_failed",
            RejectKind::Late => "late",
        }
    }
}

/// A record that was not applied, with where it was and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineReject {
    pub line: u64,
    pub byte_offset: u64,
    pub kind: RejectKind,
    pub field: Option<String>,
    pub rule_ids: Vec<String>,
    pub reason: String,
    /// The record's first bytes, when the parser kept them.
    pub raw: Option<String>,
}

/// What one `push`/`finish` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushReport {
    /// Records seen (parsed rows + parse rejects).
    pub records: u64,
    /// Rows applied to the views.
    pub applied: u64,
    /// Rows kept despite failing a warn-severity rule.
    pub warned: u64,
    pub parse_rejects: u64,
    pub rule_rejects: u64,
    pub late: u64,
    /// Rows a view skipped because they fall outside its time range (the batch/speed boundary).
    pub out_of_range: u64,
    pub rejects: Vec<PipelineReject>,
    /// Largest event time applied so far.
    pub watermark: Option<i64>,
}

struct ViewSlot {
    spec: ViewSpec,
    state: ViewState,
    filter: Option<Predicate>,
    /// Only events in `[from, to)` belong in this state: the boundary T
    /// splits batch (< T) from realtime (≥ T).
    range: (i64, i64),
}

/// A compiled pipeline holding its parser stream and one state per view.
pub struct Pipeline {
    spec: PipelineSpec,
    parser: Parser,
    rules: Option<RuleSet>,
    input: SchemaRef,
    event_time: Option<usize>,
    views: Vec<ViewSlot>,
    watermark: Option<i64>,
}

impl Pipeline {
    pub fn new(spec: PipelineSpec) -> Result<Self, CoreError> {
        let schema = Arc::new(spec.schema.clone());
        let parser = Parser::new(schema.clone(), spec.parse.clone())?;
        let parsed = parser.arrow_schema();
        let rules = match &spec.rules {
            Some(r) => Some(RuleSet::compile(&parsed, r)?),
            None => None,
        };
        let input = rules.as_ref().map(|r| r.output_schema()).unwrap_or(parsed);
        let event_time = spec.schema.event_time.clone();
        if !spec.views.is_empty() && event_time.is_none() {
            return Err(CoreError::Spec(
                "schema.eventTime is required when views are defined".into(),
            ));
        }
        let mut views = Vec::with_capacity(spec.views.len());
        for v in &spec.views {
            let filter = match &v.filter {
                Some(f) => Some(
                    compile_predicate(f, &input)
                        .map_err(|e| CoreError::Spec(format!("view '{}': filter: {e}", v.name)))?,
                ),
                None => None,
            };
            let state = ViewState::new(
                input.clone(),
                event_time.as_deref().unwrap_or_default(),
                v.clone(),
                StateOptions {
                    allowed_lateness_ms: None,
                },
            )?;
            views.push(ViewSlot {
                spec: v.clone(),
                state,
                filter,
                range: (i64::MIN, i64::MAX),
            });
        }
        let event_time = event_time.and_then(|n| input.index_of(&n).ok());
        Ok(Pipeline {
            spec,
            parser,
            rules,
            input,
            event_time,
            views,
            watermark: None,
        })
    }

    pub fn spec(&self) -> &PipelineSpec {
        &self.spec
    }

    /// Schema of the rows the views see: parsed columns + derived columns.
    pub fn input_schema(&self) -> &SchemaRef {
        &self.input
    }

    /// Feeds one chunk of raw bytes and applies every record it completes.
    pub fn push(&mut self, chunk: &[u8]) -> Result<PushReport, CoreError> {
        self.parser.push(chunk);
        self.parser.flush();
        self.drain()
    }

    /// Ends the current stream (object or micro-batch): a final record
    /// without newline is applied, an unterminated one rejected.
    pub fn finish(&mut self) -> Result<PushReport, CoreError> {
        self.parser.finish();
        self.parser.flush();
        let report = self.drain()?;
        self.parser.reset();
        Ok(report)
    }

    fn drain(&mut self) -> Result<PushReport, CoreError> {
        let mut report = PushReport::default();
        for r in self.parser.take_rejects() {
            report.records += 1;
            report.parse_rejects += 1;
            report.rejects.push(PipelineReject {
                line: r.line,
                byte_offset: r.byte_offset,
                kind: RejectKind::Parse(r.code.as_str().to_string()),
                field: r.field,
                rule_ids: Vec::new(),
                reason: r.reason,
                raw: Some(r.raw),
            });
        }
        for parsed in self.parser.take_batches() {
            self.apply(parsed, &mut report)?;
        }
        // Parse rejects and rule rejects interleave in input order for readers.
        report.rejects.sort_by_key(|r| r.byte_offset);
        report.watermark = self.watermark;
        Ok(report)
    }

    fn apply(&mut self, parsed: ParsedBatch, report: &mut PushReport) -> Result<(), CoreError> {
        let ParsedBatch {
            batch,
            lines,
            offsets,
        } = parsed;
        report.records += batch.num_rows() as u64;
        let (batch, rows): (RecordBatch, Option<Vec<u32>>) = match &self.rules {
            Some(rules) => {
                let eval = rules.evaluate(&batch)?;
                report.warned += eval.warned_rows;
                report.rule_rejects += eval.rejected.len() as u64;
                let ids = rules.rule_ids();
                for f in &eval.rejected {
                    let row = f.row as usize;
                    let failed: Vec<String> =
                        f.rules.iter().map(|&i| ids[i as usize].clone()).collect();
                    report.rejects.push(PipelineReject {
                        line: lines[row],
                        byte_offset: offsets[row],
                        kind: RejectKind::Rule,
                        field: None,
                        reason: rule_reason(rules, &f.rules),
                        rule_ids: failed,
                        raw: None,
                    });
                }
                (eval.valid, Some(eval.valid_rows))
            }
            None => (batch, None),
        };
        let source_row = |i: usize| rows.as_ref().map(|r| r[i] as usize).unwrap_or(i);
        let batch = self.reject_late(batch, &source_row, &lines, &offsets, report)?;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let times = self.event_times(&batch);
        for slot in &mut self.views {
            let mut mask = slot.filter.as_ref().map(|f| f.mask(&batch));
            if slot.range != (i64::MIN, i64::MAX) {
                if let Some(ts) = times {
                    let (from, to) = slot.range;
                    let in_range: BooleanArray = ts
                        .values()
                        .iter()
                        .enumerate()
                        .map(|(i, &t)| {
                            let keep = t >= from && t < to;
                            if !keep {
                                report.out_of_range += 1;
                            }
                            Some(keep && mask.as_ref().is_none_or(|m| m.is_valid(i) && m.value(i)))
                        })
                        .collect();
                    mask = Some(in_range);
                }
            }
            slot.state.update(&batch, mask.as_ref())?;
        }
        report.applied += batch.num_rows() as u64;
        if let Some(ts) = times {
            let max = ts.values().iter().copied().max();
            self.watermark = self.watermark.max(max);
        }
        Ok(())
    }

    fn event_times<'a>(&self, batch: &'a RecordBatch) -> Option<&'a TimestampMillisecondArray> {
        self.event_time.and_then(|i| {
            batch
                .column(i)
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
        })
    }

    /// Drops rows older than the running watermark minus the allowed
    /// lateness. The watermark advances row by row, so the outcome does not
    /// depend on how rows were cut into chunks.
    fn reject_late(
        &mut self,
        batch: RecordBatch,
        source_row: &dyn Fn(usize) -> usize,
        lines: &[u64],
        offsets: &[u64],
        report: &mut PushReport,
    ) -> Result<RecordBatch, CoreError> {
        let Some(lateness) = self.spec.allowed_lateness_ms else {
            return Ok(batch);
        };
        let Some(ts) = self.event_times(&batch) else {
            return Ok(batch);
        };
        let mut wm = self.watermark;
        let mut keep = Vec::with_capacity(ts.len());
        let mut late = 0;
        for (i, &t) in ts.values().iter().enumerate() {
            let is_late = wm.is_some_and(|w| t < w.saturating_sub(lateness));
            if is_late {
                late += 1;
                let row = source_row(i);
                report.rejects.push(PipelineReject {
                    line: lines[row],
                    byte_offset: offsets[row],
                    kind: RejectKind::Late,
                    field: self.spec.schema.event_time.clone(),
                    rule_ids: Vec::new(),
                    reason: format!(
                        "event time {} is older than the watermark {} minus the allowed lateness {} ms",
                        pulse_schema::format_iso_ms(t),
                        pulse_schema::format_iso_ms(wm.unwrap_or_default()),
                        lateness
                    ),
                    raw: None,
                });
            } else {
                wm = wm.max(Some(t));
            }
            keep.push(!is_late);
        }
        if late == 0 {
            return Ok(batch);
        }
        report.late += late;
        Ok(filter_record_batch(&batch, &BooleanArray::from(keep))?)
    }

    pub fn watermark(&self) -> Option<i64> {
        self.watermark
    }

    /// Raises the watermark to at least `t`. A restore rebuilds the
    /// watermark from the view states, which never saw rows a view's filter
    /// or time range kept out; the speed layer raises it back to the one its
    /// checkpoint recorded, so a replay decides lateness exactly as before.
    pub fn raise_watermark(&mut self, t: i64) {
        self.watermark = self.watermark.max(Some(t));
    }

    pub fn view_names(&self) -> impl Iterator<Item = &str> {
        self.views.iter().map(|v| v.state_name())
    }

    fn slot(&self, view: &str) -> Result<&ViewSlot, CoreError> {
        self.views
            .iter()
            .find(|v| v.state_name() == view)
            .ok_or_else(|| CoreError::UnknownView(view.into()))
    }

    fn slot_mut(&mut self, view: &str) -> Result<&mut ViewSlot, CoreError> {
        self.views
            .iter_mut()
            .find(|v| v.state_name() == view)
            .ok_or_else(|| CoreError::UnknownView(view.into()))
    }

    pub fn state(&self, view: &str) -> Result<&ViewState, CoreError> {
        Ok(&self.slot(view)?.state)
    }

    /// Restricts a view to events in `[from, to)` (the time boundary).
    pub fn set_view_range(&mut self, view: &str, from: i64, to: i64) -> Result<(), CoreError> {
        self.slot_mut(view)?.range = (from, to);
        Ok(())
    }

    pub fn snapshot(&self, view: &str) -> Result<Vec<u8>, CoreError> {
        Ok(self.slot(view)?.state.snapshot()?)
    }

    /// Replaces a view's state by a snapshot (restore after a crash).
    pub fn restore(&mut self, view: &str, bytes: &[u8]) -> Result<(), CoreError> {
        let input = self.input.clone();
        let event_time = self.spec.schema.event_time.clone().unwrap_or_default();
        let slot = self.slot_mut(view)?;
        let spec = slot.state_spec();
        slot.state = ViewState::restore(
            input,
            &event_time,
            spec,
            StateOptions {
                allowed_lateness_ms: None,
            },
            bytes,
        )?;
        if let Some(w) = slot.state.watermark() {
            self.watermark = self.watermark.max(Some(w));
        }
        Ok(())
    }

    /// Merges another pipeline's states view by view (shards of one batch run).
    pub fn merge(&mut self, other: &Pipeline) -> Result<(), CoreError> {
        for (mine, theirs) in self.views.iter_mut().zip(&other.views) {
            mine.state.merge(&theirs.state)?;
        }
        self.watermark = self.watermark.max(other.watermark);
        Ok(())
    }

    /// Drops panes ending at or before `t` in every view (a new batch view
    /// now covers them).
    pub fn evict_through(&mut self, view: &str, t: i64) -> Result<usize, CoreError> {
        Ok(self.slot_mut(view)?.state.evict_through(t))
    }

    pub fn query(&self, view: &str, q: &Query) -> Result<RecordBatch, CoreError> {
        Ok(self.slot(view)?.state.query(q)?)
    }

    /// Cumulative per-rule counters since compile.
    pub fn rule_counters(&self) -> Vec<RuleCounter> {
        self.rules
            .as_ref()
            .map(|r| r.counters())
            .unwrap_or_default()
    }
}

/// A rule reject's reason: each failed check's id with its configured
/// message (or the default one the rule set derives from the check), so a
/// dead letter or an error object says why without the config at hand.
fn rule_reason(rules: &RuleSet, failed: &[u16]) -> String {
    let ids = rules.rule_ids();
    let parts: Vec<String> = failed
        .iter()
        .map(|&i| {
            let id = &ids[i as usize];
            match rules.rule_message(i as usize) {
                Some(message) if !message.is_empty() => format!("{id}: {message}"),
                _ => id.clone(),
            }
        })
        .collect();
    parts.join("; ")
}

impl ViewSlot {
    fn state_name(&self) -> &str {
        self.spec.name.as_str()
    }

    fn state_spec(&self) -> ViewSpec {
        self.spec.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{
        "schema": { "fields": [ { "name": "ts", "type": "timestamp", "nullable": false }, { "name": "k", "type": "string" } ], "eventTime": "ts" },
        "parse": { "format": "ndjson" },
        "views": [ { "name": "v", "window": { "type": "tumbling", "sizeMs": 1000 }, "groupBy": ["k"], "measures": [ { "name": "n", "op": "count" } ], "filter": "k = 'a'" } ],
        "allowedLatenessMs": 1000
    }"#;

    #[test]
    fn a_raised_watermark_decides_lateness_after_a_restore() {
        let mut p = Pipeline::new(PipelineSpec::from_json(SPEC).unwrap()).unwrap();
        // The newest event is filtered out of the view, so its snapshot does not carry it.
        p.push(b"{\"ts\":1000,\"k\":\"a\"}\n{\"ts\":9000,\"k\":\"b\"}\n")
            .unwrap();
        assert_eq!(p.watermark(), Some(9000));
        let snapshot = p.snapshot("v").unwrap();

        let mut restored = Pipeline::new(PipelineSpec::from_json(SPEC).unwrap()).unwrap();
        restored.restore("v", &snapshot).unwrap();
        assert_eq!(restored.watermark(), Some(1000));
        restored.raise_watermark(9000);
        restored.raise_watermark(5000);
        assert_eq!(restored.watermark(), Some(9000));
        let report = restored.push(b"{\"ts\":2000,\"k\":\"a\"}\n").unwrap();
        assert_eq!((report.late, report.applied), (1, 0));
    }

    #[test]
    fn a_rule_reject_gives_each_failed_check_with_its_message() {
        let spec = r#"{
            "schema": { "fields": [ { "name": "ts", "type": "timestamp", "nullable": false }, { "name": "t", "type": "int64" } ], "eventTime": "ts" },
            "parse": { "format": "ndjson" },
            "rules": { "checks": [
                { "id": "t_range", "field": "t", "range": { "min": 0, "max": 100 }, "message": "t is a percentage" },
                { "id": "t_known", "field": "t", "in": [1, 2] }
            ] },
            "views": []
        }"#;
        let mut p = Pipeline::new(PipelineSpec::from_json(spec).unwrap()).unwrap();
        let report = p
            .push(b"{\"ts\":1,\"t\":1}\n{\"ts\":2,\"t\":200}\n")
            .unwrap();
        assert_eq!(report.rejects.len(), 1);
        let reject = &report.rejects[0];
        assert_eq!((reject.line, &reject.kind), (2, &RejectKind::Rule));
        assert_eq!(reject.rule_ids, ["t_range", "t_known"]);
        assert_eq!(
            reject.reason,
            "t_range: t is a percentage; t_known: t must be one of 1, 2"
        );
    }
}
