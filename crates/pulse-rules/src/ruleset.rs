//! A compiled rule set: checks evaluated column-wise into one failure bitmap
//! per check, rows failing an error-severity check rejected with one
//! `filter`, derivations appended to the kept rows.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow_buffer::BooleanBuffer;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use arrow_select::filter::filter_record_batch;
use serde_json::Value;

use crate::check::{self, FieldCheck};
use crate::derive::Derivation;
use crate::expr::bind::TExpr;
use crate::expr::{compile_condition, eval::eval};
use crate::spec::{Bound, CheckKind, CheckSpec, OnError, RulesSpec, Severity};
use crate::{batch, RuleError};

/// Cumulative counts of one check since the rule set was compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCounter {
    pub id: String,
    pub severity: Severity,
    /// Rows the check ran on.
    pub evaluated: u64,
    /// Rows that failed it (either severity).
    pub failed: u64,
    /// Failed rows kept because the check is `warn` (and no error check rejected them).
    pub warned: u64,
}

/// A rejected row and the error-severity checks it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFailure {
    /// Row index in the evaluated batch.
    pub row: u32,
    /// Indices into [`RuleSet::rule_ids`], in rule order.
    pub rules: Vec<u16>,
}

/// The outcome of evaluating one batch.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Kept rows (no error check failed), derived columns appended.
    pub valid: RecordBatch,
    /// Index in the input batch of each row of `valid`.
    pub valid_rows: Vec<u32>,
    pub rejected: Vec<RowFailure>,
    /// Kept rows that failed at least one warn check.
    pub warned_rows: u64,
}

#[derive(Debug)]
enum Test {
    Field(FieldCheck),
    /// Fails where the expression is FALSE.
    Expr(TExpr),
}

#[derive(Debug)]
struct Check {
    id: String,
    severity: Severity,
    message: String,
    test: Test,
}

#[derive(Debug, Default)]
struct Counter {
    evaluated: AtomicU64,
    failed: AtomicU64,
    warned: AtomicU64,
}

#[derive(Debug)]
pub struct RuleSet {
    input: SchemaRef,
    output: SchemaRef,
    on_error: OnError,
    checks: Vec<Check>,
    ids: Vec<String>,
    derivations: Vec<Derivation>,
    counters: Vec<Counter>,
}

fn bound_text(b: &Bound) -> String {
    match b {
        Bound::Number(n) => n.to_string(),
        Bound::Text(s) => s.clone(),
    }
}

/// The message a check reports when its spec gives none.
fn default_message(spec: &CheckSpec) -> String {
    let field = spec.field.as_deref().unwrap_or("");
    match &spec.kind {
        CheckKind::Required(_) => format!("{field} is required"),
        CheckKind::Range(r) => {
            let lo = r.min.as_ref().map(|b| {
                format!(
                    "{} {}",
                    if r.min_exclusive { ">" } else { ">=" },
                    bound_text(b)
                )
            });
            let hi = r.max.as_ref().map(|b| {
                format!(
                    "{} {}",
                    if r.max_exclusive { "<" } else { "<=" },
                    bound_text(b)
                )
            });
            let parts: Vec<String> = lo.into_iter().chain(hi).collect();
            format!("{field} must be {}", parts.join(" and "))
        }
        CheckKind::In(values) => {
            let shown: Vec<String> = values
                .iter()
                .take(10)
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            let more = if values.len() > 10 { ", …" } else { "" };
            format!("{field} must be one of {}{more}", shown.join(", "))
        }
        CheckKind::Regex(re) => format!("{field} must match /{re}/"),
        CheckKind::Length(l) => match (l.min, l.max) {
            (Some(a), Some(b)) => format!("{field} must have {a} to {b} characters"),
            (Some(a), None) => format!("{field} must have at least {a} characters"),
            (None, Some(b)) => format!("{field} must have at most {b} characters"),
            (None, None) => format!("{field} has a length check"),
        },
        CheckKind::Type(t) => format!("{field} must be a valid {}", t.name()),
        CheckKind::Expr(e) => format!("expression is false: {e}"),
    }
}

/// The schema of [`Evaluation::rejects_batch`].
pub fn rejects_schema() -> SchemaRef {
    let item = Arc::new(Field::new("item", DataType::Utf8, true));
    Arc::new(Schema::new(vec![
        Field::new("row", DataType::UInt32, false),
        Field::new("rule_ids", DataType::List(item.clone()), false),
        Field::new("messages", DataType::List(item), false),
    ]))
}

impl RuleSet {
    /// Compiles `spec` against the schema of the batches it will evaluate.
    pub fn compile(input: &SchemaRef, spec: &RulesSpec) -> Result<RuleSet, RuleError> {
        if spec.checks.len() > u16::MAX as usize + 1 {
            return Err(RuleError::compile("rules", "more than 65536 checks"));
        }
        let mut seen = HashSet::new();
        let mut checks = Vec::with_capacity(spec.checks.len());
        for c in &spec.checks {
            let subject = format!("rule '{}'", c.id);
            if c.id.is_empty() {
                return Err(RuleError::compile("rule ''", "a rule id must not be empty"));
            }
            if !seen.insert(c.id.as_str()) {
                return Err(RuleError::compile(&subject, "duplicate rule id"));
            }
            let test = match (&c.kind, &c.field) {
                (CheckKind::Expr(text), _) => Test::Expr(compile_condition(text, input, &subject)?),
                (kind, Some(field)) => Test::Field(check::compile(&subject, field, kind, input)?),
                (kind, None) => {
                    return Err(RuleError::compile(
                        &subject,
                        format!("a {} check needs a field", kind.name()),
                    ))
                }
            };
            checks.push(Check {
                id: c.id.clone(),
                severity: c.severity,
                message: c.message.clone().unwrap_or_else(|| default_message(c)),
                test,
            });
        }
        let mut fields: Vec<Arc<Field>> = input.fields().iter().cloned().collect();
        let mut derivations = Vec::with_capacity(spec.derive.len());
        for d in &spec.derive {
            let scope = Schema::new(fields.clone());
            let derivation = Derivation::compile(d, &scope)?;
            fields.push(Arc::new(derivation.field()));
            derivations.push(derivation);
        }
        let output = Arc::new(Schema::new_with_metadata(fields, input.metadata().clone()));
        Ok(RuleSet {
            input: input.clone(),
            output,
            on_error: spec.on_error,
            ids: checks.iter().map(|c| c.id.clone()).collect(),
            counters: checks.iter().map(|_| Counter::default()).collect(),
            checks,
            derivations,
        })
    }

    /// The schema of the batches this rule set evaluates.
    pub fn input_schema(&self) -> SchemaRef {
        self.input.clone()
    }

    /// Input schema + derived columns: the schema of `Evaluation::valid`.
    pub fn output_schema(&self) -> SchemaRef {
        self.output.clone()
    }

    pub fn rule_ids(&self) -> &[String] {
        &self.ids
    }

    /// The message reported for check `index` (its spec's, or a default).
    pub fn rule_message(&self, index: usize) -> Option<&str> {
        self.checks.get(index).map(|c| c.message.as_str())
    }

    pub fn rule_severity(&self, index: usize) -> Option<Severity> {
        self.checks.get(index).map(|c| c.severity)
    }

    pub fn on_error(&self) -> OnError {
        self.on_error
    }

    /// Cumulative per-rule counters since compile.
    pub fn counters(&self) -> Vec<RuleCounter> {
        self.checks
            .iter()
            .zip(&self.counters)
            .map(|(c, k)| RuleCounter {
                id: c.id.clone(),
                severity: c.severity,
                evaluated: k.evaluated.load(Ordering::Relaxed),
                failed: k.failed.load(Ordering::Relaxed),
                warned: k.warned.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Evaluates every check over `batch`, rejects rows failing an error
    /// check, derives the tag columns of the kept rows. With `onError:
    /// halt`, the first such row makes this an error instead (counters are
    /// then left unchanged).
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Evaluation, RuleError> {
        let cols = batch::columns(batch, &self.input)?;
        let n = batch.num_rows();
        let failures = self.failures(&cols, n)?;
        let Some(reject) = failures.union(Severity::Error) else {
            // Nothing rejected: every row is kept as it is.
            let valid = self.derive(cols, n)?;
            self.count(&failures, n, None);
            return Ok(Evaluation {
                valid,
                valid_rows: (0..n as u32).collect(),
                rejected: Vec::new(),
                warned_rows: failures.kept_count(Severity::Warn, None),
            });
        };
        if self.on_error == OnError::Halt {
            if let Some(row) = reject.set_indices().next() {
                if let Some(c) = failures
                    .errors_at(row)
                    .next()
                    .and_then(|i| self.checks.get(i))
                {
                    return Err(RuleError::Halted {
                        rule: c.id.clone(),
                        message: c.message.clone(),
                        row: row as u32,
                    });
                }
            }
        }
        let keep = !&reject;
        let input = RecordBatch::try_new_with_options(
            self.input.clone(),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        let kept = filter_record_batch(&input, &BooleanArray::new(keep.clone(), None))?;
        let valid_rows: Vec<u32> = keep.set_indices().map(|i| i as u32).collect();
        let valid = self.derive(kept.columns().to_vec(), valid_rows.len())?;
        let rejected = reject
            .set_indices()
            .map(|row| RowFailure {
                row: row as u32,
                rules: failures.errors_at(row).map(|i| i as u16).collect(),
            })
            .collect();
        self.count(&failures, n, Some(&keep));
        Ok(Evaluation {
            valid,
            valid_rows,
            rejected,
            warned_rows: failures.kept_count(Severity::Warn, Some(&keep)),
        })
    }

    /// Runs every check: per check, the bitmap of rows that fail it.
    fn failures(&self, cols: &[ArrayRef], n: usize) -> Result<Failures<'_>, RuleError> {
        let mut bits = Vec::with_capacity(self.checks.len());
        for c in &self.checks {
            bits.push(match &c.test {
                Test::Field(f) => f.failures(cols, n)?,
                Test::Expr(e) => {
                    let m = eval(e, cols, n)?.false_mask(n);
                    m.has_true().then_some(m)
                }
            });
        }
        Ok(Failures {
            checks: &self.checks,
            bits,
        })
    }

    /// Appends the derived columns to the kept rows' columns.
    fn derive(&self, mut cols: Vec<ArrayRef>, n: usize) -> Result<RecordBatch, RuleError> {
        for d in &self.derivations {
            let col = d.evaluate(&cols, n)?;
            cols.push(col);
        }
        Ok(RecordBatch::try_new_with_options(
            self.output.clone(),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?)
    }

    /// Adds one batch to the cumulative counters.
    fn count(&self, failures: &Failures, n: usize, keep: Option<&BooleanBuffer>) {
        for ((c, f), k) in self.checks.iter().zip(&failures.bits).zip(&self.counters) {
            k.evaluated.fetch_add(n as u64, Ordering::Relaxed);
            if let Some(f) = f {
                k.failed
                    .fetch_add(f.count_set_bits() as u64, Ordering::Relaxed);
                if c.severity == Severity::Warn {
                    k.warned.fetch_add(kept(f, keep) as u64, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Set bits of `f` among the kept rows (all rows when `keep` is `None`).
fn kept(f: &BooleanBuffer, keep: Option<&BooleanBuffer>) -> usize {
    match keep {
        Some(k) => (f & k).count_set_bits(),
        None => f.count_set_bits(),
    }
}

/// Per check (in rule order), the rows that failed it; `None` when none did.
struct Failures<'a> {
    checks: &'a [Check],
    bits: Vec<Option<BooleanBuffer>>,
}

impl Failures<'_> {
    fn of(&self, sev: Severity) -> impl Iterator<Item = (usize, &BooleanBuffer)> {
        self.checks
            .iter()
            .zip(&self.bits)
            .enumerate()
            .filter(move |(_, (c, _))| c.severity == sev)
            .filter_map(|(i, (_, f))| f.as_ref().map(|f| (i, f)))
    }

    /// Rows failing at least one check of severity `sev`.
    fn union(&self, sev: Severity) -> Option<BooleanBuffer> {
        self.of(sev).fold(None, |acc, (_, f)| {
            Some(match acc {
                None => f.clone(),
                Some(a) => &a | f,
            })
        })
    }

    /// Kept rows failing at least one check of severity `sev`.
    fn kept_count(&self, sev: Severity, keep: Option<&BooleanBuffer>) -> u64 {
        self.union(sev).map_or(0, |u| kept(&u, keep)) as u64
    }

    /// The error-severity checks `row` failed, in rule order.
    fn errors_at(&self, row: usize) -> impl Iterator<Item = usize> + '_ {
        self.of(Severity::Error)
            .filter(move |(_, f)| f.value(row))
            .map(|(i, _)| i)
    }
}

impl Evaluation {
    /// The rejects as a record batch: `row` (UInt32), `rule_ids` and
    /// `messages` (List<Utf8>, one entry per failed error check).
    pub fn rejects_batch(&self, rules: &RuleSet) -> RecordBatch {
        let mut row = UInt32Builder::with_capacity(self.rejected.len());
        let mut ids = ListBuilder::new(StringBuilder::new());
        let mut messages = ListBuilder::new(StringBuilder::new());
        for r in &self.rejected {
            row.append_value(r.row);
            for &i in &r.rules {
                let i = i as usize;
                ids.values()
                    .append_option(rules.rule_ids().get(i).map(String::as_str));
                messages.values().append_option(rules.rule_message(i));
            }
            ids.append(true);
            messages.append(true);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(row.finish()),
            Arc::new(ids.finish()),
            Arc::new(messages.finish()),
        ];
        // The arrays are built to the schema's exact types, so this cannot fail;
        // an empty batch stands in should that ever change.
        RecordBatch::try_new(rejects_schema(), columns)
            .unwrap_or_else(|_| RecordBatch::new_empty(rejects_schema()))
    }
}
