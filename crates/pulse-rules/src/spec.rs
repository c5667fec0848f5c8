//! The rules spec: serde of the contract's JSON (`docs/native-contract.md`,
//! section "Rules"), camelCase, unknown keys rejected. Shape errors inside a
//! check name the check's id, so a bad config points at the rule to fix.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::RuleError;
use pulse_schema::FieldType;

/// What `evaluate` does when a row fails an error-severity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Reject the row and go on.
    #[default]
    Skip,
    /// Stop: `evaluate` returns an error naming the rule and the row.
    Halt,
}

/// `error` rejects a failing row; `warn` keeps it and counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Error,
    Warn,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        }
    }
}

/// The whole rule set: checks, then derivations.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RulesSpec {
    #[serde(default)]
    pub on_error: OnError,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    #[serde(default)]
    pub derive: Vec<DeriveSpec>,
}

impl RulesSpec {
    pub fn from_json(s: &str) -> Result<Self, RuleError> {
        serde_json::from_str(s).map_err(|e| RuleError::Json(e.to_string()))
    }
}

/// A range bound: a number, or (for timestamp fields) an ISO-8601 string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    Number(serde_json::Number),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RangeSpec {
    #[serde(default)]
    pub min: Option<Bound>,
    #[serde(default)]
    pub max: Option<Bound>,
    #[serde(default)]
    pub min_exclusive: bool,
    #[serde(default)]
    pub max_exclusive: bool,
}

/// Length bounds in Unicode scalar values, inclusive.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthSpec {
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
}

/// The one thing a check verifies.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    Required(bool),
    Range(RangeSpec),
    In(Vec<Value>),
    Regex(String),
    Length(LengthSpec),
    Type(FieldType),
    Expr(String),
}

impl CheckKind {
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Required(_) => "required",
            CheckKind::Range(_) => "range",
            CheckKind::In(_) => "in",
            CheckKind::Regex(_) => "regex",
            CheckKind::Length(_) => "length",
            CheckKind::Type(_) => "type",
            CheckKind::Expr(_) => "expr",
        }
    }
}

/// One validation check: an id, exactly one kind, a field for field checks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Value")]
pub struct CheckSpec {
    pub id: String,
    pub field: Option<String>,
    pub severity: Severity,
    pub message: Option<String>,
    pub kind: CheckKind,
}

/// The check's JSON as written, before "exactly one kind" is enforced.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawCheck {
    id: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    range: Option<RangeSpec>,
    #[serde(default, rename = "in")]
    in_list: Option<Vec<Value>>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    length: Option<LengthSpec>,
    #[serde(default, rename = "type")]
    ty: Option<FieldType>,
    #[serde(default)]
    expr: Option<String>,
}

impl TryFrom<Value> for CheckSpec {
    type Error = String;

    fn try_from(v: Value) -> Result<Self, String> {
        let label = match v.get("id").and_then(Value::as_str) {
            Some(id) => format!("rule '{id}'"),
            None => "rule without an id".to_string(),
        };
        let raw: RawCheck = serde_json::from_value(v).map_err(|e| format!("{label}: {e}"))?;
        let mut kinds: Vec<CheckKind> = Vec::with_capacity(1);
        kinds.extend(raw.required.map(CheckKind::Required));
        kinds.extend(raw.range.map(CheckKind::Range));
        kinds.extend(raw.in_list.map(CheckKind::In));
        kinds.extend(raw.regex.map(CheckKind::Regex));
        kinds.extend(raw.length.map(CheckKind::Length));
        kinds.extend(raw.ty.map(CheckKind::Type));
        kinds.extend(raw.expr.map(CheckKind::Expr));
        if kinds.len() != 1 {
            let names: Vec<&str> = kinds.iter().map(CheckKind::name).collect();
            return Err(format!(
                "{label}: a check needs exactly one of required, range, in, regex, length, type, expr (found {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ));
        }
        let kind = kinds.remove(0);
        match (&kind, &raw.field) {
            (CheckKind::Expr(_), Some(_)) => {
                return Err(format!("{label}: an expr check takes no field"));
            }
            (CheckKind::Expr(_), None) => {}
            (_, None) => {
                return Err(format!("{label}: a {} check needs a field", kind.name()));
            }
            _ => {}
        }
        Ok(CheckSpec {
            id: raw.id,
            field: raw.field,
            severity: raw.severity,
            message: raw.message,
            kind,
        })
    }
}

/// A derivation: appends the Utf8 column `column`, set by the first case
/// whose `when` is TRUE, else `default` (or null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeriveSpec {
    pub column: String,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub cases: Vec<CaseSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub when: String,
    pub set: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_example() {
        let spec = RulesSpec::from_json(
            r#"{ "onError": "skip",
  "checks": [
    { "id": "amount_required", "field": "amount", "required": true },
    { "id": "amount_range", "field": "amount", "range": { "min": 0, "max": 10000, "minExclusive": true }, "severity": "error", "message": "amount out of range" },
    { "id": "currency_known", "field": "currency", "in": ["USD", "EUR"], "severity": "warn" },
    { "id": "email_shape", "field": "email", "regex": "^[^@]+@[^@]+$" },
    { "id": "name_length", "field": "name", "length": { "min": 1, "max": 64 } },
    { "id": "code_is_int", "field": "code", "type": "int64" },
    { "id": "debit_le_credit", "expr": "debit <= credit or credit is null" } ],
  "derive": [
    { "column": "category", "default": "other",
      "cases": [ { "when": "contains(lower(merchant), 'market')", "set": "groceries" } ] } ] }"#,
        )
        .unwrap();
        assert_eq!(spec.checks.len(), 7);
        assert_eq!(spec.checks[2].severity, Severity::Warn);
        assert!(
            matches!(spec.checks[1].kind, CheckKind::Range(ref r) if r.min_exclusive && !r.max_exclusive)
        );
        assert!(matches!(
            spec.checks[5].kind,
            CheckKind::Type(FieldType::Int64)
        ));
        assert_eq!(spec.derive[0].default.as_deref(), Some("other"));
    }

    #[test]
    fn shape_errors_name_the_rule() {
        let two = r#"{"checks":[{"id":"r1","field":"a","required":true,"regex":"x"}]}"#;
        let e = RulesSpec::from_json(two).unwrap_err().to_string();
        assert!(
            e.contains("rule 'r1'") && e.contains("required, regex"),
            "{e}"
        );
        let none = r#"{"checks":[{"id":"r2","field":"a"}]}"#;
        let e = RulesSpec::from_json(none).unwrap_err().to_string();
        assert!(e.contains("rule 'r2'") && e.contains("found none"), "{e}");
        let typo = r#"{"checks":[{"id":"r3","field":"a","requird":true}]}"#;
        let e = RulesSpec::from_json(typo).unwrap_err().to_string();
        assert!(e.contains("rule 'r3'") && e.contains("requird"), "{e}");
        let no_field = r#"{"checks":[{"id":"r4","in":[1]}]}"#;
        let e = RulesSpec::from_json(no_field).unwrap_err().to_string();
        assert!(
            e.contains("rule 'r4'") && e.contains("needs a field"),
            "{e}"
        );
        let bad_len = r#"{"checks":[{"id":"r5","field":"a","length":{"min":-1}}]}"#;
        let e = RulesSpec::from_json(bad_len).unwrap_err().to_string();
        assert!(e.contains("rule 'r5'"), "{e}");
        let bad_on_error = r#"{"onError":"explode"}"#;
        assert!(matches!(
            RulesSpec::from_json(bad_on_error),
            Err(RuleError::Json(_))
        ));
    }
}
