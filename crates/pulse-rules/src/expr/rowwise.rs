//! A row-at-a-time interpreter of typed trees: the oracle the vectorised
//! evaluator is tested against. It shares only the per-value functions of
//! `value.rs`; all array, bitmap and constant handling is independent.

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMillisecondArray,
};

use super::bind::{Node, TExpr};
use super::eval::{scalar_cmp, scalar_in};
use super::value::{and3, arith_f64, arith_i64, char_len, or3, Scalar, Ty};

fn truth(s: &Scalar) -> Option<bool> {
    match s {
        Scalar::Bool(b) => Some(*b),
        _ => None,
    }
}

fn from_truth(b: Option<bool>) -> Scalar {
    b.map_or(Scalar::Null, Scalar::Bool)
}

/// The value of column `a` at `row`, read as `ty`.
pub fn cell(a: &ArrayRef, ty: Ty, row: usize) -> Scalar {
    if a.is_null(row) {
        return Scalar::Null;
    }
    let any = a.as_any();
    match ty {
        Ty::Int => Scalar::Int(any.downcast_ref::<Int64Array>().unwrap().value(row)),
        Ty::Ts => Scalar::Int(
            any.downcast_ref::<TimestampMillisecondArray>()
                .unwrap()
                .value(row),
        ),
        Ty::Float => Scalar::Float(any.downcast_ref::<Float64Array>().unwrap().value(row)),
        Ty::Bool => Scalar::Bool(any.downcast_ref::<BooleanArray>().unwrap().value(row)),
        Ty::Str => Scalar::Str(any.downcast_ref::<StringArray>().unwrap().value(row).into()),
        Ty::Null => Scalar::Null,
    }
}

pub fn eval_row(e: &TExpr, cols: &[ArrayRef], row: usize) -> Scalar {
    let ev = |x: &TExpr| eval_row(x, cols, row);
    match &e.node {
        Node::Column(i) => cell(&cols[*i], e.ty, row),
        Node::Const(c) => c.clone(),
        Node::Neg(a) => match ev(a) {
            Scalar::Int(x) => x.checked_neg().map_or(Scalar::Null, Scalar::Int),
            Scalar::Float(x) => Scalar::Float(-x),
            _ => Scalar::Null,
        },
        Node::ToFloat(a) => match ev(a) {
            Scalar::Int(x) => Scalar::Float(x as f64),
            other => other,
        },
        Node::Arith(op, a, b) => match (ev(a), ev(b)) {
            (Scalar::Int(x), Scalar::Int(y)) => {
                arith_i64(*op, x, y).map_or(Scalar::Null, Scalar::Int)
            }
            (Scalar::Float(x), Scalar::Float(y)) => {
                arith_f64(*op, x, y).map_or(Scalar::Null, Scalar::Float)
            }
            _ => Scalar::Null,
        },
        Node::Cmp(op, a, b) => scalar_cmp(*op, &ev(a), &ev(b)),
        Node::Not(a) => from_truth(truth(&ev(a)).map(|b| !b)),
        Node::And(a, b) => from_truth(and3(truth(&ev(a)), truth(&ev(b)))),
        Node::Or(a, b) => from_truth(or3(truth(&ev(a)), truth(&ev(b)))),
        Node::IsNull { expr, negated } => Scalar::Bool(ev(expr).is_null() != *negated),
        Node::In {
            expr,
            set,
            has_null,
            negated,
        } => scalar_in(&ev(expr), set, *has_null, *negated),
        Node::Case(case, a) => match ev(a) {
            Scalar::Str(s) => Scalar::Str(case.apply(&s).into()),
            _ => Scalar::Null,
        },
        Node::Length(a) => match ev(a) {
            Scalar::Str(s) => Scalar::Int(char_len(&s)),
            _ => Scalar::Null,
        },
        Node::StrTest(t, a, b) => match (ev(a), ev(b)) {
            (Scalar::Str(x), Scalar::Str(y)) => Scalar::Bool(t.holds(&x, &y)),
            _ => Scalar::Null,
        },
        Node::Abs(a) => match ev(a) {
            Scalar::Int(x) => x.checked_abs().map_or(Scalar::Null, Scalar::Int),
            Scalar::Float(x) => Scalar::Float(x.abs()),
            _ => Scalar::Null,
        },
        Node::Coalesce(args) => args
            .iter()
            .map(ev)
            .find(|v| !v.is_null())
            .unwrap_or(Scalar::Null),
    }
}
