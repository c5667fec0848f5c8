//! Field checks compiled against the input schema, each evaluated with one
//! pass over the column's raw values into a bitmap of failing rows. Every
//! check but `required` passes on null.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_schema::Schema;
use pulse_schema::FieldType;
use regex::Regex;
use serde_json::Value;

use crate::expr::bind::InSet;
use crate::expr::value::{char_len, Ty};
use crate::spec::{Bound, CheckKind, LengthSpec, RangeSpec};
use crate::{text, RuleError};

/// A compiled field check on column `column`.
#[derive(Debug)]
pub struct FieldCheck {
    pub column: usize,
    pub ty: Ty,
    pub test: FieldTest,
}

#[derive(Debug)]
pub enum FieldTest {
    /// Fails on null.
    Required,
    /// Never fails (`required: false`, or `type` naming the field's own type).
    Pass,
    /// Integer (int64/timestamp) values within `[lo, hi]`; `empty` when no
    /// integer can satisfy the bounds.
    IntRange {
        lo: i64,
        hi: i64,
        empty: bool,
    },
    /// Values compared as floats (float fields, or an int field with a
    /// fractional bound): `lo`/`hi` default to ∓∞, NaN is never in range.
    FloatRange {
        lo: f64,
        lo_excl: bool,
        hi: f64,
        hi_excl: bool,
    },
    In(Arc<InSet>),
    Regex(Regex),
    Length {
        min: u64,
        max: u64,
    },
    /// The text of a string field parses as `FieldType`.
    Parses(FieldType),
}

fn field_type(ty: Ty) -> FieldType {
    match ty {
        Ty::Int => FieldType::Int64,
        Ty::Float => FieldType::Float64,
        Ty::Bool => FieldType::Bool,
        Ty::Ts => FieldType::Timestamp,
        Ty::Str | Ty::Null => FieldType::String,
    }
}

/// Compiles a field check; `subject` names the rule in errors.
pub fn compile(
    subject: &str,
    field: &str,
    kind: &CheckKind,
    schema: &Schema,
) -> Result<FieldCheck, RuleError> {
    let (column, f) = schema
        .fields()
        .iter()
        .enumerate()
        .find(|(_, f)| f.name() == field)
        .ok_or_else(|| RuleError::compile(subject, format!("unknown field '{field}'")))?;
    let ty = Ty::of_arrow(f.data_type()).ok_or_else(|| {
        RuleError::compile(
            subject,
            format!(
                "field '{field}' has Arrow type {}, which checks cannot read",
                f.data_type()
            ),
        )
    })?;
    let wrong = |what: &str| {
        Err(RuleError::compile(
            subject,
            format!(
                "{} needs {what}, but field '{field}' is {}",
                kind.name(),
                ty.name()
            ),
        ))
    };
    let test = match kind {
        CheckKind::Required(true) => FieldTest::Required,
        CheckKind::Required(false) => FieldTest::Pass,
        CheckKind::Range(r) => match ty {
            Ty::Int | Ty::Float | Ty::Ts => range(subject, field, ty, r)?,
            _ => return wrong("a numeric or timestamp field"),
        },
        CheckKind::In(values) => FieldTest::In(Arc::new(in_set(subject, field, ty, values)?)),
        CheckKind::Regex(re) => {
            if ty != Ty::Str {
                return wrong("a string field");
            }
            let re = Regex::new(re)
                .map_err(|e| RuleError::compile(subject, format!("invalid regex: {e}")))?;
            FieldTest::Regex(re)
        }
        CheckKind::Length(LengthSpec { min, max }) => {
            if ty != Ty::Str {
                return wrong("a string field");
            }
            if min.is_none() && max.is_none() {
                return Err(RuleError::compile(subject, "length needs min or max"));
            }
            FieldTest::Length {
                min: min.unwrap_or(0),
                max: max.unwrap_or(u64::MAX),
            }
        }
        CheckKind::Type(t) => {
            if *t == field_type(ty) {
                FieldTest::Pass
            } else if ty == Ty::Str {
                FieldTest::Parses(*t)
            } else {
                return Err(RuleError::compile(
                    subject,
                    format!(
                        "type {} applies to string fields (or a field of that type), but field '{field}' is {}",
                        t.name(),
                        ty.name()
                    ),
                ));
            }
        }
        CheckKind::Expr(_) => {
            return Err(RuleError::compile(
                subject,
                "an expr check is not a field check",
            ))
        }
    };
    Ok(FieldCheck { column, ty, test })
}

/// A range bound read for a field of type `ty`.
enum Num {
    I(i64),
    F(f64),
}

fn bound(subject: &str, field: &str, ty: Ty, b: &Bound) -> Result<Num, RuleError> {
    match (ty, b) {
        (Ty::Ts, Bound::Text(s)) => pulse_schema::parse_iso8601(s.as_bytes())
            .map(Num::I)
            .ok_or_else(|| {
                RuleError::compile(
                    subject,
                    format!("range bound '{s}' is not an ISO-8601 timestamp with an offset"),
                )
            }),
        (_, Bound::Text(s)) => Err(RuleError::compile(
            subject,
            format!(
                "range bound '{s}' must be a number for {} field '{field}'",
                ty.name()
            ),
        )),
        (Ty::Float, Bound::Number(n)) => Ok(Num::F(n.as_f64().unwrap_or(f64::NAN))),
        (_, Bound::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(Num::I(i));
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            if ty == Ty::Ts {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    return Ok(Num::I(f as i64));
                }
                return Err(RuleError::compile(
                    subject,
                    format!("range bound {n} must be whole milliseconds or an ISO-8601 string"),
                ));
            }
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Ok(Num::I(f as i64))
            } else {
                Ok(Num::F(f))
            }
        }
    }
}

fn range(subject: &str, field: &str, ty: Ty, r: &RangeSpec) -> Result<FieldTest, RuleError> {
    if r.min.is_none() && r.max.is_none() {
        return Err(RuleError::compile(subject, "range needs min or max"));
    }
    let lo = r
        .min
        .as_ref()
        .map(|b| bound(subject, field, ty, b))
        .transpose()?;
    let hi = r
        .max
        .as_ref()
        .map(|b| bound(subject, field, ty, b))
        .transpose()?;
    for n in [&lo, &hi].into_iter().flatten() {
        if let Num::F(f) = n {
            if f.is_nan() {
                return Err(RuleError::compile(subject, "range bounds must be numbers"));
            }
        }
    }
    let any_float =
        ty == Ty::Float || matches!(lo, Some(Num::F(_))) || matches!(hi, Some(Num::F(_)));
    if any_float {
        let f = |n: &Option<Num>, dflt: f64| match n {
            None => dflt,
            Some(Num::I(i)) => *i as f64,
            Some(Num::F(f)) => *f,
        };
        return Ok(FieldTest::FloatRange {
            lo: f(&lo, f64::NEG_INFINITY),
            lo_excl: r.min_exclusive && lo.is_some(),
            hi: f(&hi, f64::INFINITY),
            hi_excl: r.max_exclusive && hi.is_some(),
        });
    }
    let int = |n: &Option<Num>| match n {
        Some(Num::I(i)) => Some(*i),
        _ => None,
    };
    let mut empty = false;
    let lo = match int(&lo) {
        None => i64::MIN,
        Some(v) if r.min_exclusive => v.checked_add(1).unwrap_or_else(|| {
            empty = true;
            i64::MAX
        }),
        Some(v) => v,
    };
    let hi = match int(&hi) {
        None => i64::MAX,
        Some(v) if r.max_exclusive => v.checked_sub(1).unwrap_or_else(|| {
            empty = true;
            i64::MIN
        }),
        Some(v) => v,
    };
    Ok(FieldTest::IntRange { lo, hi, empty })
}

fn in_set(subject: &str, field: &str, ty: Ty, values: &[Value]) -> Result<InSet, RuleError> {
    if values.is_empty() {
        return Err(RuleError::compile(subject, "in needs at least one value"));
    }
    let bad = |v: &Value, what: &str| {
        Err(RuleError::compile(
            subject,
            format!(
                "in values for {} field '{field}' must be {what}, found {v}",
                ty.name()
            ),
        ))
    };
    let whole = |v: &Value| -> Option<i64> {
        v.as_i64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
    };
    Ok(match ty {
        Ty::Int => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                match whole(v) {
                    Some(i) => out.push(i),
                    None => return bad(v, "integers"),
                }
            }
            InSet::from_i64(out)
        }
        Ty::Ts => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                let ms = match v {
                    Value::String(s) => pulse_schema::parse_iso8601(s.as_bytes()),
                    _ => whole(v),
                };
                match ms {
                    Some(i) => out.push(i),
                    None => return bad(v, "whole milliseconds or ISO-8601 strings with an offset"),
                }
            }
            InSet::from_i64(out)
        }
        Ty::Float => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                match v.as_f64() {
                    Some(f) if v.is_number() => out.push(f),
                    _ => return bad(v, "numbers"),
                }
            }
            InSet::F64(out)
        }
        Ty::Str => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Value::String(s) => out.push(Arc::<str>::from(s.as_str())),
                    _ => return bad(v, "strings"),
                }
            }
            InSet::from_strs(out)
        }
        Ty::Bool | Ty::Null => {
            let (mut has_true, mut has_false) = (false, false);
            for v in values {
                match v {
                    Value::Bool(true) => has_true = true,
                    Value::Bool(false) => has_false = true,
                    _ => return bad(v, "true or false"),
                }
            }
            InSet::Bool {
                has_true,
                has_false,
            }
        }
    })
}

/// Marks failing rows among the valid ones (a check passes on null).
fn on_valid(bits: BooleanBuffer, nulls: Option<&NullBuffer>) -> BooleanBuffer {
    match nulls {
        Some(nb) => &bits & nb.inner(),
        None => bits,
    }
}

fn downcast<T: 'static>(a: &ArrayRef, ty: Ty) -> Result<&T, RuleError> {
    a.as_any().downcast_ref::<T>().ok_or_else(|| {
        RuleError::Schema(format!(
            "expected a {} column, found {}",
            ty.name(),
            a.data_type()
        ))
    })
}

/// The integer values of an int64 or timestamp column.
fn int_values(a: &ArrayRef, ty: Ty) -> Result<&[i64], RuleError> {
    Ok(match ty {
        Ty::Ts => downcast::<TimestampMillisecondArray>(a, ty)?.values(),
        _ => downcast::<Int64Array>(a, ty)?.values(),
    })
}

impl FieldCheck {
    /// The rows that fail the check, or `None` when none can.
    pub fn failures(
        &self,
        cols: &[ArrayRef],
        n: usize,
    ) -> Result<Option<BooleanBuffer>, RuleError> {
        let a = cols
            .get(self.column)
            .ok_or_else(|| RuleError::Schema(format!("column {} is missing", self.column)))?;
        if a.len() != n {
            return Err(RuleError::Schema(format!(
                "column {} has {} rows, expected {n}",
                self.column,
                a.len()
            )));
        }
        let nulls = a.nulls();
        let bits = match &self.test {
            FieldTest::Pass => return Ok(None),
            FieldTest::Required => return Ok(nulls.map(|nb| !nb.inner())),
            FieldTest::IntRange { lo, hi, empty } => {
                let (lo, hi) = (*lo, *hi);
                if *empty {
                    BooleanBuffer::new_set(n)
                } else {
                    let v = int_values(a, self.ty)?;
                    BooleanBuffer::collect_bool(n, |i| v[i] < lo || v[i] > hi)
                }
            }
            FieldTest::FloatRange {
                lo,
                lo_excl,
                hi,
                hi_excl,
            } => {
                let (lo, hi, lx, hx) = (*lo, *hi, *lo_excl, *hi_excl);
                let inside =
                    move |x: f64| (x > lo || (!lx && x == lo)) && (x < hi || (!hx && x == hi));
                if self.ty == Ty::Float {
                    let v = downcast::<Float64Array>(a, self.ty)?.values();
                    BooleanBuffer::collect_bool(n, |i| !inside(v[i]))
                } else {
                    let v = int_values(a, self.ty)?;
                    BooleanBuffer::collect_bool(n, |i| !inside(v[i] as f64))
                }
            }
            FieldTest::In(set) => match self.ty {
                Ty::Int | Ty::Ts => {
                    let v = int_values(a, self.ty)?;
                    BooleanBuffer::collect_bool(n, |i| !set.has_i64(v[i]))
                }
                Ty::Float => {
                    let v = downcast::<Float64Array>(a, self.ty)?.values();
                    BooleanBuffer::collect_bool(n, |i| !set.has_f64(v[i]))
                }
                Ty::Str => {
                    let s = downcast::<StringArray>(a, self.ty)?;
                    BooleanBuffer::collect_bool(n, |i| !set.has_str(s.value(i)))
                }
                Ty::Bool | Ty::Null => {
                    let b = downcast::<BooleanArray>(a, self.ty)?.values();
                    BooleanBuffer::collect_bool(n, |i| !set.has_bool(b.value(i)))
                }
            },
            FieldTest::Regex(re) => {
                let s = downcast::<StringArray>(a, self.ty)?;
                // Matching is the costly part: run it on valid rows only.
                BooleanBuffer::collect_bool(n, |i| s.is_valid(i) && !re.is_match(s.value(i)))
            }
            FieldTest::Length { min, max } => {
                let s = downcast::<StringArray>(a, self.ty)?;
                let (min, max) = (*min, *max);
                BooleanBuffer::collect_bool(n, |i| {
                    let v = s.value(i);
                    let bytes = v.len() as u64;
                    // A string of b bytes has between ⌈b/4⌉ and b scalar
                    // values: most rows are decided without counting.
                    let (fewest, most) = (bytes.div_ceil(4), bytes);
                    if most < min || fewest > max {
                        return true;
                    }
                    if fewest >= min && most <= max {
                        return false;
                    }
                    let c = char_len(v) as u64;
                    c < min || c > max
                })
            }
            FieldTest::Parses(t) => {
                let s = downcast::<StringArray>(a, self.ty)?;
                let t = *t;
                BooleanBuffer::collect_bool(n, |i| s.is_valid(i) && !text::parses_as(s.value(i), t))
            }
        };
        let bits = on_valid(bits, nulls);
        Ok(bits.has_true().then_some(bits))
    }
}
