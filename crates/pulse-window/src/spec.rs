//! The view definition as the config hands it over (`docs/native-contract.md`,
//! "Views"), re-validated here because the core never trusts its caller.

use serde::{Deserialize, Serialize};

use crate::sketch::ddsketch::DEFAULT_RELATIVE_ACCURACY;
use crate::sketch::hll::{MAX_PRECISION, MIN_PRECISION};
use crate::WindowError;

/// Default grid of session fragments.
pub const DEFAULT_SESSION_ALIGN_MS: i64 = 60_000;
/// Default HyperLogLog precision.
pub const DEFAULT_PRECISION: u8 = 12;
/// Output column names a measure or group field may not take.
pub const RESERVED_COLUMNS: [&str; 2] = ["window_start", "window_end"];

/// A view: a window, the group fields and the measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ViewSpec {
    pub name: String,
    pub window: WindowSpec,
    #[serde(default)]
    pub group_by: Vec<String>,
    #[serde(default)]
    pub measures: Vec<MeasureSpec>,
    /// Row filter; evaluated by the caller (the rule engine), which passes a mask.
    #[serde(default)]
    pub filter: Option<String>,
}

/// The window kind and its sizes in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum WindowSpec {
    Tumbling {
        size_ms: i64,
    },
    Hopping {
        size_ms: i64,
        slide_ms: i64,
    },
    Session {
        gap_ms: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        align_ms: Option<i64>,
    },
}

/// The aggregate operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasureOp {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Distinct,
    Quantile,
}

impl MeasureOp {
    pub fn name(self) -> &'static str {
        match self {
            MeasureOp::Count => "count",
            MeasureOp::Sum => "sum",
            MeasureOp::Min => "min",
            MeasureOp::Max => "max",
            MeasureOp::Avg => "avg",
            MeasureOp::Distinct => "distinct",
            MeasureOp::Quantile => "quantile",
        }
    }
}

/// One measure; `name` defaults to `count` or `<op>_<field>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeasureSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub op: MeasureOp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// HyperLogLog precision (distinct only), 4–18.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u8>,
    /// The quantile (quantile only), 0–1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<f64>,
    /// DDSketch relative accuracy α (quantile only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_accuracy: Option<f64>,
}

impl MeasureSpec {
    /// The output column name.
    pub fn output_name(&self) -> String {
        match (&self.name, &self.field) {
            (Some(n), _) => n.clone(),
            (None, None) => self.op.name().to_string(),
            (None, Some(f)) => format!("{}_{}", self.op.name(), f),
        }
    }

    pub fn precision_or_default(&self) -> u8 {
        self.precision.unwrap_or(DEFAULT_PRECISION)
    }

    pub fn relative_accuracy_or_default(&self) -> f64 {
        self.relative_accuracy.unwrap_or(DEFAULT_RELATIVE_ACCURACY)
    }
}

impl WindowSpec {
    /// Pane length: the finest unit every window of the view is made of.
    /// Tumbling: the size; hopping: gcd(size, slide); session: the grid.
    pub fn pane_ms(&self) -> i64 {
        match *self {
            WindowSpec::Tumbling { size_ms } => size_ms,
            WindowSpec::Hopping { size_ms, slide_ms } => gcd(size_ms, slide_ms),
            WindowSpec::Session { align_ms, .. } => align_ms.unwrap_or(DEFAULT_SESSION_ALIGN_MS),
        }
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// Largest window, slide, gap or grid accepted: a year of milliseconds, far
/// inside the range where pane arithmetic cannot overflow.
const MAX_DURATION_MS: i64 = 366 * 86_400_000;

impl ViewSpec {
    /// Parses and validates a view from its JSON description.
    pub fn from_json(s: &str) -> Result<Self, WindowError> {
        let spec: ViewSpec = serde_json::from_str(s).map_err(|e| WindowError::Spec {
            view: view_name_hint(s),
            path: "$".into(),
            message: format!("invalid view JSON: {e}"),
        })?;
        spec.validate()?;
        Ok(spec)
    }

    fn err(&self, path: impl Into<String>, message: impl Into<String>) -> WindowError {
        WindowError::Spec {
            view: self.name.clone(),
            path: path.into(),
            message: message.into(),
        }
    }

    /// Checks the definition on its own (the input schema is checked when a
    /// state is built).
    pub fn validate(&self) -> Result<(), WindowError> {
        if self.name.is_empty() {
            return Err(self.err("name", "must not be empty"));
        }
        let duration = |path: &str, v: i64| {
            if v <= 0 || v > MAX_DURATION_MS {
                Err(self.err(
                    path,
                    format!("must be between 1 and {MAX_DURATION_MS} ms, got {v}"),
                ))
            } else {
                Ok(())
            }
        };
        match self.window {
            WindowSpec::Tumbling { size_ms } => duration("window.sizeMs", size_ms)?,
            WindowSpec::Hopping { size_ms, slide_ms } => {
                duration("window.sizeMs", size_ms)?;
                duration("window.slideMs", slide_ms)?;
                if slide_ms > size_ms {
                    return Err(self.err(
                        "window.slideMs",
                        format!("must not exceed sizeMs ({slide_ms} > {size_ms})"),
                    ));
                }
            }
            WindowSpec::Session { gap_ms, align_ms } => {
                duration("window.gapMs", gap_ms)?;
                if let Some(a) = align_ms {
                    duration("window.alignMs", a)?;
                }
            }
        }
        let mut names: Vec<String> = Vec::new();
        for (i, g) in self.group_by.iter().enumerate() {
            let path = format!("groupBy[{i}]");
            if g.is_empty() {
                return Err(self.err(path, "must not be empty"));
            }
            if RESERVED_COLUMNS.contains(&g.as_str()) {
                return Err(self.err(path, format!("'{g}' is a reserved output column")));
            }
            if names.contains(g) {
                return Err(self.err(path, format!("duplicate group field '{g}'")));
            }
            names.push(g.clone());
        }
        for (i, m) in self.measures.iter().enumerate() {
            self.validate_measure(i, m, &mut names)?;
        }
        Ok(())
    }

    fn validate_measure(
        &self,
        i: usize,
        m: &MeasureSpec,
        names: &mut Vec<String>,
    ) -> Result<(), WindowError> {
        let at = |key: &str| format!("measures[{i}].{key}");
        if m.op != MeasureOp::Count && m.field.is_none() {
            return Err(self.err(at("field"), format!("{} needs a field", m.op.name())));
        }
        if m.precision.is_some() && m.op != MeasureOp::Distinct {
            return Err(self.err(at("precision"), "applies to distinct only"));
        }
        if (m.q.is_some() || m.relative_accuracy.is_some()) && m.op != MeasureOp::Quantile {
            let key = if m.q.is_some() {
                "q"
            } else {
                "relativeAccuracy"
            };
            return Err(self.err(at(key), "applies to quantile only"));
        }
        if m.op == MeasureOp::Distinct {
            let p = m.precision_or_default();
            if !(MIN_PRECISION..=MAX_PRECISION).contains(&p) {
                return Err(self.err(
                    at("precision"),
                    format!("must be between {MIN_PRECISION} and {MAX_PRECISION}, got {p}"),
                ));
            }
        }
        if m.op == MeasureOp::Quantile {
            match m.q {
                None => return Err(self.err(at("q"), "quantile needs q")),
                Some(q) if !(0.0..=1.0).contains(&q) => {
                    return Err(self.err(at("q"), format!("must be between 0 and 1, got {q}")))
                }
                Some(_) => {}
            }
            let a = m.relative_accuracy_or_default();
            if !(1e-6..1.0).contains(&a) {
                return Err(self.err(
                    at("relativeAccuracy"),
                    format!("must be at least 1e-6 and below 1, got {a}"),
                ));
            }
        }
        let name = m.output_name();
        let path = if m.name.is_some() {
            at("name")
        } else {
            format!("measures[{i}]")
        };
        if name.is_empty() {
            return Err(self.err(path, "name must not be empty"));
        }
        if RESERVED_COLUMNS.contains(&name.as_str()) {
            return Err(self.err(path, format!("'{name}' is a reserved output column")));
        }
        if names.contains(&name) {
            return Err(self.err(
                path,
                format!("output column '{name}' clashes with a group field or another measure"),
            ));
        }
        names.push(name);
        Ok(())
    }
}

/// The view name for an error about JSON that did not parse, when it can be seen.
fn view_name_hint(s: &str) -> String {
    serde_json::from_str::<serde_json::Value>(s)
        .ok()
        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_of(json: &str) -> String {
        ViewSpec::from_json(json).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_contract_example() {
        let v = ViewSpec::from_json(
            r#"{ "name": "temp_by_device_1m",
                 "window": { "type": "tumbling", "sizeMs": 60000 },
                 "groupBy": ["device"],
                 "measures": [
                   { "name": "n", "op": "count" },
                   { "name": "total", "op": "sum", "field": "amount" },
                   { "op": "max", "field": "amount" },
                   { "name": "users", "op": "distinct", "field": "user", "precision": 12 },
                   { "name": "p95", "op": "quantile", "field": "latency", "q": 0.95, "relativeAccuracy": 0.01 } ],
                 "filter": "status = 'ok'" }"#,
        )
        .unwrap();
        assert_eq!(v.window.pane_ms(), 60_000);
        assert_eq!(v.measures[2].output_name(), "max_amount");
        assert_eq!(v.filter.as_deref(), Some("status = 'ok'"));
    }

    #[test]
    fn window_kinds_and_panes() {
        let hop = ViewSpec::from_json(
            r#"{"name":"h","window":{"type":"hopping","sizeMs":600000,"slideMs":240000},"measures":[]}"#,
        )
        .unwrap();
        assert_eq!(hop.window.pane_ms(), 120_000);
        let ses = ViewSpec::from_json(
            r#"{"name":"s","window":{"type":"session","gapMs":30000},"measures":[]}"#,
        )
        .unwrap();
        assert_eq!(ses.window.pane_ms(), 60_000);
        let ses = ViewSpec::from_json(
            r#"{"name":"s","window":{"type":"session","gapMs":30000,"alignMs":3600000},"measures":[]}"#,
        )
        .unwrap();
        assert_eq!(ses.window.pane_ms(), 3_600_000);
    }

    #[test]
    fn errors_name_their_path() {
        assert!(
            err_of(r#"{"name":"v","window":{"type":"tumbling","sizeMs":0}}"#)
                .contains("window.sizeMs")
        );
        assert!(
            err_of(r#"{"name":"v","window":{"type":"hopping","sizeMs":10,"slideMs":20}}"#)
                .contains("window.slideMs: must not exceed sizeMs")
        );
        assert!(
            err_of(r#"{"name":"v","window":{"type":"tumbling","sizeMs":10,"extra":1}}"#)
                .contains("unknown field")
        );
        assert!(err_of(r#"{"name":"v","window":{"type":"weekly"}}"#).contains("invalid view JSON"));
        let m = |measure: &str| {
            err_of(&format!(
                r#"{{"name":"v","window":{{"type":"tumbling","sizeMs":10}},"groupBy":["g"],"measures":[{measure}]}}"#
            ))
        };
        assert!(m(r#"{"op":"sum"}"#).contains("measures[0].field: sum needs a field"));
        assert!(
            m(r#"{"op":"distinct","field":"u","precision":3}"#).contains("measures[0].precision")
        );
        assert!(m(r#"{"op":"quantile","field":"x"}"#).contains("measures[0].q: quantile needs q"));
        assert!(m(r#"{"op":"quantile","field":"x","q":1.5}"#).contains("between 0 and 1"));
        assert!(
            m(r#"{"op":"quantile","field":"x","q":0.5,"relativeAccuracy":0}"#)
                .contains("relativeAccuracy")
        );
        assert!(m(r#"{"op":"sum","field":"x","q":0.5}"#).contains("applies to quantile only"));
        assert!(m(r#"{"op":"count","name":"g"}"#).contains("clashes"));
        assert!(m(r#"{"op":"count","name":"window_end"}"#).contains("reserved"));
        assert!(m(r#"{"op":"count"},{"op":"count"}"#).contains("measures[1]"));
        assert!(err_of("{").contains("view '?'"));
    }
}
