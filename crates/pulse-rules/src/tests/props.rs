//! Property tests: the vectorised evaluator against row-by-row
//! interpretation, on random batches (nulls included) and random rule sets.

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use proptest::prelude::*;
use regex::Regex;
use serde_json::{json, Value};

use super::support::{batch, schema, Gen, Row};
use crate::expr::eval::eval;
use crate::expr::rowwise::eval_row;
use crate::expr::value::Scalar;
use crate::expr::{compile, compile_condition};
use crate::spec::{Bound, CheckKind, RulesSpec, Severity};
use crate::{text, RuleSet};

fn same(a: &Scalar, b: &Scalar) -> bool {
    match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => a == b,
    }
}

/// A value of the generated row, by field name.
fn value(r: &Row, field: &str) -> Scalar {
    let s = |v: &Option<String>| {
        v.as_ref()
            .map_or(Scalar::Null, |x| Scalar::Str(x.as_str().into()))
    };
    let i = |v: Option<i64>| v.map_or(Scalar::Null, Scalar::Int);
    match field {
        "i" => i(r.i),
        "j" => i(r.j),
        "f" => r.f.map_or(Scalar::Null, Scalar::Float),
        "b" => r.b.map_or(Scalar::Null, Scalar::Bool),
        "s" => s(&r.s),
        "u" => s(&r.u),
        "t" => i(r.t),
        _ => i(r.t2),
    }
}

fn number(b: &Bound, field: &str) -> Scalar {
    match b {
        Bound::Text(s) => Scalar::Int(pulse_schema::parse_iso8601(s.as_bytes()).unwrap()),
        Bound::Number(n) if field == "f" => Scalar::Float(n.as_f64().unwrap()),
        Bound::Number(n) => match n.as_i64() {
            Some(v) => Scalar::Int(v),
            None => Scalar::Float(n.as_f64().unwrap()),
        },
    }
}

/// `v op bound` read straight from the spec (ints exactly, else as floats).
fn holds(v: &Scalar, bound: &Scalar, lower: bool, exclusive: bool) -> bool {
    let ord = match (v, bound) {
        (Scalar::Int(a), Scalar::Int(b)) => a.partial_cmp(b),
        (Scalar::Int(a), Scalar::Float(b)) => (*a as f64).partial_cmp(b),
        (Scalar::Float(a), Scalar::Int(b)) => a.partial_cmp(&(*b as f64)),
        (Scalar::Float(a), Scalar::Float(b)) => a.partial_cmp(b),
        _ => None,
    };
    use std::cmp::Ordering::*;
    match (ord, lower, exclusive) {
        (None, _, _) => false,
        (Some(o), true, true) => o == Greater,
        (Some(o), true, false) => o != Less,
        (Some(o), false, true) => o == Less,
        (Some(o), false, false) => o != Greater,
    }
}

/// Whether `r` fails check `kind` on `field`, interpreted from the spec alone.
fn field_fails(kind: &CheckKind, field: &str, r: &Row) -> bool {
    let v = value(r, field);
    if v.is_null() {
        return matches!(kind, CheckKind::Required(true));
    }
    match kind {
        CheckKind::Required(_) => false,
        CheckKind::Range(rs) => {
            let lo_ok = rs
                .min
                .as_ref()
                .is_none_or(|b| holds(&v, &number(b, field), true, rs.min_exclusive));
            let hi_ok = rs
                .max
                .as_ref()
                .is_none_or(|b| holds(&v, &number(b, field), false, rs.max_exclusive));
            !(lo_ok && hi_ok)
        }
        CheckKind::In(values) => !values.iter().any(|x| match (&v, x) {
            (Scalar::Int(a), Value::Number(n)) => n.as_i64() == Some(*a),
            (Scalar::Int(a), Value::String(s)) => {
                pulse_schema::parse_iso8601(s.as_bytes()) == Some(*a)
            }
            (Scalar::Float(a), Value::Number(n)) => n.as_f64() == Some(*a),
            (Scalar::Str(a), Value::String(s)) => &**a == s.as_str(),
            (Scalar::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        }),
        CheckKind::Regex(re) => match &v {
            Scalar::Str(s) => !Regex::new(re).unwrap().is_match(s),
            _ => false,
        },
        CheckKind::Length(l) => match &v {
            Scalar::Str(s) => {
                let c = s.chars().count() as u64;
                l.min.is_some_and(|m| c < m) || l.max.is_some_and(|m| c > m)
            }
            _ => false,
        },
        CheckKind::Type(t) => match &v {
            Scalar::Str(s) => !text::parses_as(s, *t),
            _ => false,
        },
        CheckKind::Expr(_) => false,
    }
}

fn vector_cell(a: &ArrayRef, row: usize) -> Option<String> {
    a.as_any()
        .downcast_ref::<StringArray>()
        .and_then(|s| s.is_valid(row).then(|| s.value(row).to_string()))
}

fn check_rule_set(seed: u64) -> Result<(), TestCaseError> {
    let mut g = Gen::new(seed);
    let spec_json = g.rules();
    let rows = g.rows(40);
    let spec = RulesSpec::from_json(&spec_json.to_string())
        .map_err(|e| TestCaseError::fail(format!("{e}: {spec_json}")))?;
    let rules = RuleSet::compile(&schema(), &spec)
        .map_err(|e| TestCaseError::fail(format!("{e}: {spec_json}")))?;
    let b = batch(&rows);
    let out = rules
        .evaluate(&b)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let cols = b.columns().to_vec();

    // Row by row: which error/warn checks fail.
    let mut expected_valid = Vec::new();
    let mut expected_rejects = Vec::new();
    let mut warned = 0;
    for (row, r) in rows.iter().enumerate() {
        let mut errors = Vec::new();
        let mut warns = false;
        for (k, c) in spec.checks.iter().enumerate() {
            let failed = match &c.kind {
                CheckKind::Expr(text) => {
                    let e = compile_condition(text, &schema(), "test").unwrap();
                    eval_row(&e, &cols, row) == Scalar::Bool(false)
                }
                kind => field_fails(kind, c.field.as_deref().unwrap(), r),
            };
            if failed {
                match c.severity {
                    Severity::Error => errors.push(k as u16),
                    Severity::Warn => warns = true,
                }
            }
        }
        if errors.is_empty() {
            expected_valid.push(row as u32);
            warned += u64::from(warns);
        } else {
            expected_rejects.push((row as u32, errors));
        }
    }
    prop_assert_eq!(
        &out.valid_rows,
        &expected_valid,
        "valid rows for {}",
        spec_json
    );
    let got: Vec<(u32, Vec<u16>)> = out
        .rejected
        .iter()
        .map(|f| (f.row, f.rules.clone()))
        .collect();
    prop_assert_eq!(got, expected_rejects, "rejects for {}", spec_json);
    prop_assert_eq!(out.warned_rows, warned);
    prop_assert_eq!(out.valid.num_rows(), expected_valid.len());

    // Derived labels, row by row over the kept rows (earlier tags visible to later ones).
    let mut kept_cols: Vec<ArrayRef> = out.valid.columns()[..cols.len()].to_vec();
    for (d, dspec) in spec.derive.iter().enumerate() {
        let got = out.valid.column(cols.len() + d);
        let scope = rules.output_schema();
        let scope = arrow_schema::Schema::new(scope.fields()[..cols.len() + d].to_vec());
        for (k, &src) in expected_valid.iter().enumerate() {
            let mut label = dspec.default.clone();
            for c in &dspec.cases {
                let e = compile_condition(&c.when, &scope, "test").unwrap();
                if eval_row(&e, &kept_cols, k) == Scalar::Bool(true) {
                    label = Some(c.set.clone());
                    break;
                }
            }
            prop_assert_eq!(
                vector_cell(got, k),
                label,
                "row {} derive {}",
                src,
                dspec.column
            );
        }
        kept_cols.push(got.clone());
    }
    Ok(())
}

fn check_expressions(seed: u64) -> Result<(), TestCaseError> {
    let mut g = Gen::new(seed);
    let rows = g.rows(30);
    let b = batch(&rows);
    let cols = b.columns().to_vec();
    let n = b.num_rows();
    for _ in 0..8 {
        let text = match g.below(5) {
            0 => g.int_expr(3),
            1 => g.float_expr(3),
            2 => g.str_expr(3),
            3 => g.ts_expr(3),
            _ => g.boolean(4),
        };
        let e = compile(&text, &schema(), "test")
            .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        let v = eval(&e, &cols, n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for row in 0..n {
            let vec = v.scalar_at(row);
            let one = eval_row(&e, &cols, row);
            prop_assert!(
                same(&vec, &one),
                "{text} at row {row}: vectorised {vec:?}, row-wise {one:?}"
            );
        }
        // A batch of one row, and the same expression sliced, agree too.
        if n > 2 {
            let sliced: Vec<ArrayRef> = cols.iter().map(|c| c.slice(1, n - 2)).collect();
            let vs = eval(&e, &sliced, n - 2).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for row in 0..n - 2 {
                prop_assert!(
                    same(&vs.scalar_at(row), &v.scalar_at(row + 1)),
                    "{text} sliced at row {row}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn vectorised_expressions_equal_row_by_row(seed in any::<u64>()) {
        check_expressions(seed)?;
    }

    #[test]
    fn rule_sets_equal_row_by_row_interpretation(seed in any::<u64>()) {
        check_rule_set(seed)?;
    }

    #[test]
    fn no_spec_panics(
        field in "[a-z]{1,2}",
        regex in "[a-z^$.*+?()\\[\\]{}|\\\\0-9-]{0,12}",
        lo in prop_oneof![any::<i64>().prop_map(|v| json!(v)), any::<f64>().prop_map(|v| json!(v)), "[0-9T:Z-]{0,24}".prop_map(|v| json!(v))],
        hi in prop_oneof![any::<i64>().prop_map(|v| json!(v)), any::<f64>().prop_map(|v| json!(v)), Just(Value::Null)],
        values in prop::collection::vec(prop_oneof![any::<i64>().prop_map(|v| json!(v)), any::<bool>().prop_map(|v| json!(v)), "[a-z]{0,3}".prop_map(|v| json!(v)), Just(Value::Null)], 0..4),
        len in (any::<u64>(), any::<u64>()),
        seed in any::<u64>(),
    ) {
        // Every kind of check on every field with arbitrary parameters:
        // compiling returns Ok or Err, and what compiles evaluates.
        let specs = [
            json!({ "id": "x", "field": field, "required": true }),
            json!({ "id": "x", "field": field, "regex": regex }),
            json!({ "id": "x", "field": field, "range": { "min": lo, "max": hi, "minExclusive": true } }),
            json!({ "id": "x", "field": field, "in": values }),
            json!({ "id": "x", "field": field, "length": { "min": len.0, "max": len.1 } }),
            json!({ "id": "x", "field": field, "type": "timestamp" }),
        ];
        let mut g = Gen::new(seed);
        let b = batch(&g.rows(20));
        for check in specs {
            let text = json!({ "checks": [check] }).to_string();
            if let Ok(spec) = RulesSpec::from_json(&text) {
                if let Ok(rules) = RuleSet::compile(&schema(), &spec) {
                    prop_assert!(rules.evaluate(&b).is_ok(), "{}", text);
                }
            }
        }
    }

    #[test]
    fn no_input_text_panics(text in "[a-z0-9 ()'\",.<>=!+*/%_-]{0,40}|(not |- |\\(|lower\\()*[ijfbstu0-9.'\"]{0,6}") {
        // Compiling anything returns Ok or Err; what compiles also evaluates.
        if let Ok(e) = compile(&text, &schema(), "fuzz") {
            let mut g = Gen::new(text.len() as u64);
            let b = batch(&g.rows(10));
            let _ = eval(&e, b.columns(), b.num_rows());
        }
    }
}

#[test]
fn typed_columns_read_as_expected() {
    // The fixture's arrays have the types the evaluator downcasts to.
    let b = batch(&[Row::default()]);
    assert!(b.column(0).as_any().is::<Int64Array>());
    assert!(b.column(2).as_any().is::<Float64Array>());
    assert!(b.column(3).as_any().is::<BooleanArray>());
    assert!(b.column(6).as_any().is::<TimestampMillisecondArray>());
}
