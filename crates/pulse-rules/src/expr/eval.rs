//! Vectorised evaluation: each node of a typed tree runs once over whole
//! arrays (slices of values plus validity bitmaps); constants stay scalars.
//! The per-value semantics come from `value.rs`, shared with the row-wise
//! interpreter the tests compare against.

use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow_buffer::{BooleanBuffer, NullBuffer};

use super::bind::{Case, InSet, Node, StrTest, TExpr};
use super::value::{
    and3, arith_f64, arith_i64, char_len, f64_divisor_ok, or3, ArithOp, CmpOp, Scalar, Ty,
};
use super::vector::{nulls_from, strings, Vector};
use crate::RuleError;

/// Evaluates `e` over `n` rows whose columns are `cols`.
pub fn eval(e: &TExpr, cols: &[ArrayRef], n: usize) -> Result<Vector, RuleError> {
    Ok(match &e.node {
        Node::Column(i) => {
            let a = cols
                .get(*i)
                .ok_or_else(|| RuleError::Schema(format!("column {i} is missing")))?;
            if a.len() != n {
                return Err(RuleError::Schema(format!(
                    "column {i} has {} rows, expected {n}",
                    a.len()
                )));
            }
            Vector::from_column(a, e.ty)?
        }
        Node::Const(c) => Vector::Const(c.clone()),
        Node::Neg(a) => neg(eval(a, cols, n)?, n),
        Node::ToFloat(a) => to_float(eval(a, cols, n)?),
        Node::Arith(op, a, b) => {
            let float = a.ty == Ty::Float;
            let (a, b) = (eval(a, cols, n)?, eval(b, cols, n)?);
            if float {
                arith_float(*op, &a, &b, n)
            } else {
                arith_int(*op, &a, &b, n)
            }
        }
        Node::Cmp(op, a, b) => cmp(*op, &eval(a, cols, n)?, &eval(b, cols, n)?, n),
        Node::Not(a) => not(eval(a, cols, n)?),
        Node::And(a, b) => logic(true, eval(a, cols, n)?, eval(b, cols, n)?, n),
        Node::Or(a, b) => logic(false, eval(a, cols, n)?, eval(b, cols, n)?, n),
        Node::IsNull { expr, negated } => is_null(&eval(expr, cols, n)?, *negated),
        Node::In {
            expr,
            set,
            has_null,
            negated,
        } => in_set(&eval(expr, cols, n)?, set, *has_null, *negated, n),
        Node::Case(case, a) => change_case(*case, eval(a, cols, n)?, n),
        Node::Length(a) => length(eval(a, cols, n)?),
        Node::StrTest(t, a, b) => str_test(*t, &eval(a, cols, n)?, &eval(b, cols, n)?, n),
        Node::Abs(a) => abs(eval(a, cols, n)?, n),
        Node::Coalesce(args) => {
            let mut acc: Option<Vector> = None;
            for a in args.iter().rev() {
                let v = eval(a, cols, n)?;
                acc = Some(match acc {
                    None => v,
                    Some(rest) => coalesce2(v, rest, e.ty, n),
                });
            }
            acc.unwrap_or(Vector::Const(Scalar::Null))
        }
    })
}

/// One operand of a numeric kernel: a slice of values or one constant.
#[derive(Clone, Copy)]
enum Num<'a, T> {
    Arr(&'a [T]),
    Val(T),
}

fn ints(v: &Vector) -> Option<Num<'_, i64>> {
    match v {
        Vector::Int(a) => Some(Num::Arr(a.values())),
        Vector::Const(Scalar::Int(x)) => Some(Num::Val(*x)),
        _ => None,
    }
}

fn floats(v: &Vector) -> Option<Num<'_, f64>> {
    match v {
        Vector::Float(a) => Some(Num::Arr(a.values())),
        Vector::Const(Scalar::Float(x)) => Some(Num::Val(*x)),
        _ => None,
    }
}

/// Applies `f` row by row to two operands, collecting the results.
#[inline(always)]
fn map2<A: Copy, B: Copy, R>(
    n: usize,
    a: Num<A>,
    b: Num<B>,
    mut f: impl FnMut(A, B) -> R,
) -> Vec<R> {
    match (a, b) {
        (Num::Arr(x), Num::Arr(y)) => x.iter().zip(y).map(|(&p, &q)| f(p, q)).collect(),
        (Num::Arr(x), Num::Val(q)) => x.iter().map(|&p| f(p, q)).collect(),
        (Num::Val(p), Num::Arr(y)) => y.iter().map(|&q| f(p, q)).collect(),
        (Num::Val(p), Num::Val(q)) => (0..n).map(|_| f(p, q)).collect(),
    }
}

/// Applies a predicate row by row to two operands, packing the bits.
#[inline(always)]
fn bits2<A: Copy, B: Copy>(
    n: usize,
    a: Num<A>,
    b: Num<B>,
    f: impl Fn(A, B) -> bool,
) -> BooleanBuffer {
    match (a, b) {
        (Num::Arr(x), Num::Arr(y)) => BooleanBuffer::collect_bool(n, |i| f(x[i], y[i])),
        (Num::Arr(x), Num::Val(q)) => BooleanBuffer::collect_bool(n, |i| f(x[i], q)),
        (Num::Val(p), Num::Arr(y)) => BooleanBuffer::collect_bool(n, |i| f(p, y[i])),
        (Num::Val(p), Num::Val(q)) => BooleanBuffer::collect_bool(n, |_| f(p, q)),
    }
}

fn and_nulls(a: Option<&NullBuffer>, extra: BooleanBuffer) -> Option<NullBuffer> {
    NullBuffer::union(a, nulls_from(extra).as_ref())
}

fn arith_int(op: ArithOp, a: &Vector, b: &Vector, n: usize) -> Vector {
    let (Some(x), Some(y)) = (ints(a), ints(b)) else {
        return Vector::Const(Scalar::Null);
    };
    if let (Num::Val(p), Num::Val(q)) = (x, y) {
        return Vector::Const(arith_i64(op, p, q).map_or(Scalar::Null, Scalar::Int));
    }
    let mut bad = false;
    let values: Vec<i64> = match op {
        ArithOp::Add => map2(n, x, y, |p, q| {
            let (v, o) = p.overflowing_add(q);
            bad |= o;
            v
        }),
        ArithOp::Sub => map2(n, x, y, |p, q| {
            let (v, o) = p.overflowing_sub(q);
            bad |= o;
            v
        }),
        ArithOp::Mul => map2(n, x, y, |p, q| {
            let (v, o) = p.overflowing_mul(q);
            bad |= o;
            v
        }),
        ArithOp::Div | ArithOp::Rem => map2(n, x, y, |p, q| match arith_i64(op, p, q) {
            Some(v) => v,
            None => {
                bad = true;
                0
            }
        }),
    };
    let mut nulls = NullBuffer::union(a.nulls(), b.nulls());
    if bad {
        let ok = bits2(n, x, y, |p, q| arith_i64(op, p, q).is_some());
        nulls = and_nulls(nulls.as_ref(), ok);
    }
    Vector::Int(Int64Array::new(values.into(), nulls))
}

fn arith_float(op: ArithOp, a: &Vector, b: &Vector, n: usize) -> Vector {
    let (Some(x), Some(y)) = (floats(a), floats(b)) else {
        return Vector::Const(Scalar::Null);
    };
    if let (Num::Val(p), Num::Val(q)) = (x, y) {
        return Vector::Const(arith_f64(op, p, q).map_or(Scalar::Null, Scalar::Float));
    }
    let values: Vec<f64> = match op {
        ArithOp::Add => map2(n, x, y, |p, q| p + q),
        ArithOp::Sub => map2(n, x, y, |p, q| p - q),
        ArithOp::Mul => map2(n, x, y, |p, q| p * q),
        ArithOp::Div => map2(n, x, y, |p, q| p / q),
        ArithOp::Rem => map2(n, x, y, |p, q| p % q),
    };
    let mut nulls = NullBuffer::union(a.nulls(), b.nulls());
    if matches!(op, ArithOp::Div | ArithOp::Rem) {
        let zero = match y {
            Num::Arr(d) => d.contains(&0.0),
            Num::Val(q) => q == 0.0,
        };
        if zero {
            let ok = bits2(n, x, y, |_, q| f64_divisor_ok(op, q));
            nulls = and_nulls(nulls.as_ref(), ok);
        }
    }
    Vector::Float(Float64Array::new(values.into(), nulls))
}

fn neg(v: Vector, n: usize) -> Vector {
    match v {
        Vector::Int(a) => {
            let mut bad = false;
            let values: Vec<i64> = a
                .values()
                .iter()
                .map(|&x| {
                    let (r, o) = x.overflowing_neg();
                    bad |= o;
                    r
                })
                .collect();
            let mut nulls = a.nulls().cloned();
            if bad {
                let vals = a.values();
                let ok = BooleanBuffer::collect_bool(n, |i| vals[i] != i64::MIN);
                nulls = and_nulls(nulls.as_ref(), ok);
            }
            Vector::Int(Int64Array::new(values.into(), nulls))
        }
        Vector::Float(a) => Vector::Float(Float64Array::new(
            a.values().iter().map(|&x| -x).collect(),
            a.nulls().cloned(),
        )),
        Vector::Const(Scalar::Int(x)) => {
            Vector::Const(x.checked_neg().map_or(Scalar::Null, Scalar::Int))
        }
        Vector::Const(Scalar::Float(x)) => Vector::Const(Scalar::Float(-x)),
        other => other,
    }
}

fn to_float(v: Vector) -> Vector {
    match v {
        Vector::Int(a) => Vector::Float(Float64Array::new(
            a.values().iter().map(|&x| x as f64).collect(),
            a.nulls().cloned(),
        )),
        Vector::Const(Scalar::Int(x)) => Vector::Const(Scalar::Float(x as f64)),
        other => other,
    }
}

fn abs(v: Vector, n: usize) -> Vector {
    match v {
        Vector::Int(a) => {
            let vals = a.values();
            let values: Vec<i64> = vals.iter().map(|&x| x.wrapping_abs()).collect();
            let mut nulls = a.nulls().cloned();
            if vals.contains(&i64::MIN) {
                let ok = BooleanBuffer::collect_bool(n, |i| vals[i] != i64::MIN);
                nulls = and_nulls(nulls.as_ref(), ok);
            }
            Vector::Int(Int64Array::new(values.into(), nulls))
        }
        Vector::Float(a) => Vector::Float(Float64Array::new(
            a.values().iter().map(|&x| x.abs()).collect(),
            a.nulls().cloned(),
        )),
        Vector::Const(Scalar::Int(x)) => {
            Vector::Const(x.checked_abs().map_or(Scalar::Null, Scalar::Int))
        }
        Vector::Const(Scalar::Float(x)) => Vector::Const(Scalar::Float(x.abs())),
        other => other,
    }
}

/// Expands to a `bits2` call with the comparison operator fixed outside the
/// loop, so each loop body is a single compare.
macro_rules! cmp_bits {
    ($op:expr, $n:expr, $x:expr, $y:expr) => {
        match $op {
            CmpOp::Eq => bits2($n, $x, $y, |p, q| p == q),
            CmpOp::Ne => bits2($n, $x, $y, |p, q| p != q),
            CmpOp::Lt => bits2($n, $x, $y, |p, q| p < q),
            CmpOp::Le => bits2($n, $x, $y, |p, q| p <= q),
            CmpOp::Gt => bits2($n, $x, $y, |p, q| p > q),
            CmpOp::Ge => bits2($n, $x, $y, |p, q| p >= q),
        }
    };
}

fn cmp(op: CmpOp, a: &Vector, b: &Vector, n: usize) -> Vector {
    if a.is_const_null() || b.is_const_null() {
        return Vector::Const(Scalar::Null);
    }
    let nulls = NullBuffer::union(a.nulls(), b.nulls());
    let bits = match (a, b) {
        (Vector::Const(p), Vector::Const(q)) => {
            return Vector::Const(scalar_cmp(op, p, q));
        }
        (Vector::Int(_), _) | (_, Vector::Int(_)) => {
            let (Some(x), Some(y)) = (ints(a), ints(b)) else {
                return Vector::Const(Scalar::Null);
            };
            cmp_bits!(op, n, x, y)
        }
        (Vector::Float(_), _) | (_, Vector::Float(_)) => {
            let (Some(x), Some(y)) = (floats(a), floats(b)) else {
                return Vector::Const(Scalar::Null);
            };
            cmp_bits!(op, n, x, y)
        }
        (Vector::Str(_), _) | (_, Vector::Str(_)) => {
            let (Some(x), Some(y)) = (str_side(a), str_side(b)) else {
                return Vector::Const(Scalar::Null);
            };
            // Equality tests lengths before bytes; only ordering needs a full compare.
            match op {
                CmpOp::Eq => str_bits(n, x, y, |p, q| p == q),
                CmpOp::Ne => str_bits(n, x, y, |p, q| p != q),
                _ => str_bits(n, x, y, |p, q| op.str(p, q)),
            }
        }
        (Vector::Bool(_), _) | (_, Vector::Bool(_)) => {
            let (Some(x), Some(y)) = (bool_values(a, n), bool_values(b, n)) else {
                return Vector::Const(Scalar::Null);
            };
            match op {
                CmpOp::Ne => &x ^ &y,
                _ => !&(&x ^ &y),
            }
        }
    };
    Vector::Bool(BooleanArray::new(bits, nulls))
}

/// Compares two constants (the same semantics as the kernels).
pub fn scalar_cmp(op: CmpOp, p: &Scalar, q: &Scalar) -> Scalar {
    match (p, q) {
        (Scalar::Int(x), Scalar::Int(y)) => Scalar::Bool(op.i64(*x, *y)),
        (Scalar::Float(x), Scalar::Float(y)) => Scalar::Bool(op.f64(*x, *y)),
        (Scalar::Str(x), Scalar::Str(y)) => Scalar::Bool(op.str(x, y)),
        (Scalar::Bool(x), Scalar::Bool(y)) => Scalar::Bool(op.bool(*x, *y)),
        _ => Scalar::Null,
    }
}

/// The value bits of a boolean operand (constants broadcast).
fn bool_values(v: &Vector, n: usize) -> Option<BooleanBuffer> {
    match v {
        Vector::Bool(a) => Some(a.values().clone()),
        Vector::Const(Scalar::Bool(true)) => Some(BooleanBuffer::new_set(n)),
        Vector::Const(Scalar::Bool(false)) => Some(BooleanBuffer::new_unset(n)),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Str<'a> {
    Arr(&'a StringArray),
    Val(&'a str),
}

fn str_side(v: &Vector) -> Option<Str<'_>> {
    match v {
        Vector::Str(a) => Some(Str::Arr(a)),
        Vector::Const(Scalar::Str(s)) => Some(Str::Val(s)),
        _ => None,
    }
}

fn str_bits(n: usize, a: Str, b: Str, f: impl Fn(&str, &str) -> bool) -> BooleanBuffer {
    match (a, b) {
        (Str::Arr(x), Str::Arr(y)) => BooleanBuffer::collect_bool(n, |i| f(x.value(i), y.value(i))),
        (Str::Arr(x), Str::Val(q)) => BooleanBuffer::collect_bool(n, |i| f(x.value(i), q)),
        (Str::Val(p), Str::Arr(y)) => BooleanBuffer::collect_bool(n, |i| f(p, y.value(i))),
        (Str::Val(p), Str::Val(q)) => BooleanBuffer::collect_bool(n, |_| f(p, q)),
    }
}

/// A boolean operand split into value bits and (optional) validity bits.
enum Logic {
    Arr(BooleanBuffer, Option<BooleanBuffer>),
    Val(Option<bool>),
}

fn logic_side(v: Vector) -> Logic {
    match v {
        Vector::Bool(a) => {
            let (values, nulls) = a.into_parts();
            Logic::Arr(values, nulls.map(|nb| nb.into_inner()))
        }
        Vector::Const(Scalar::Bool(b)) => Logic::Val(Some(b)),
        _ => Logic::Val(None),
    }
}

fn bool_vector(values: BooleanBuffer, valid: Option<BooleanBuffer>) -> Vector {
    Vector::Bool(BooleanArray::new(values, valid.and_then(nulls_from)))
}

/// Kleene AND (`and_op`) or OR of two boolean vectors.
fn logic(and_op: bool, a: Vector, b: Vector, n: usize) -> Vector {
    // The absorbing element: FALSE for and, TRUE for or.
    let absorbing = !and_op;
    match (logic_side(a), logic_side(b)) {
        (Logic::Val(x), Logic::Val(y)) => {
            let r = if and_op { and3(x, y) } else { or3(x, y) };
            Vector::Const(r.map_or(Scalar::Null, Scalar::Bool))
        }
        (Logic::Val(Some(x)), _) | (_, Logic::Val(Some(x))) if x == absorbing => {
            Vector::Const(Scalar::Bool(absorbing))
        }
        (Logic::Val(Some(_)), Logic::Arr(v, valid))
        | (Logic::Arr(v, valid), Logic::Val(Some(_))) => bool_vector(v, valid),
        (Logic::Val(None), Logic::Arr(v, valid)) | (Logic::Arr(v, valid), Logic::Val(None)) => {
            // null AND x is FALSE where x is FALSE, else null; null OR x is
            // TRUE where x is TRUE, else null.
            let decided = if and_op { !&v } else { v.clone() };
            let decided = match valid {
                Some(va) => &decided & &va,
                None => decided,
            };
            let values = if and_op {
                BooleanBuffer::new_unset(n)
            } else {
                decided.clone()
            };
            bool_vector(values, Some(decided))
        }
        (Logic::Arr(av, va), Logic::Arr(bv, vb)) => {
            if va.is_none() && vb.is_none() {
                let values = if and_op { &av & &bv } else { &av | &bv };
                return bool_vector(values, None);
            }
            let va = va.unwrap_or_else(|| BooleanBuffer::new_set(n));
            let vb = vb.unwrap_or_else(|| BooleanBuffer::new_set(n));
            if and_op {
                let valid = &(&(&va & &vb) | &(&va & &!&av)) | &(&vb & &!&bv);
                bool_vector(&av & &bv, Some(valid))
            } else {
                let a_true = &av & &va;
                let b_true = &bv & &vb;
                let valid = &(&(&va & &vb) | &a_true) | &b_true;
                bool_vector(&a_true | &b_true, Some(valid))
            }
        }
    }
}

fn not(v: Vector) -> Vector {
    match v {
        Vector::Bool(a) => {
            let (values, nulls) = a.into_parts();
            Vector::Bool(BooleanArray::new(!&values, nulls))
        }
        Vector::Const(Scalar::Bool(b)) => Vector::Const(Scalar::Bool(!b)),
        other => other,
    }
}

fn is_null(v: &Vector, negated: bool) -> Vector {
    match v {
        Vector::Const(c) => Vector::Const(Scalar::Bool(c.is_null() != negated)),
        _ => match v.nulls() {
            None => Vector::Const(Scalar::Bool(negated)),
            Some(nb) => {
                let values = if negated {
                    nb.inner().clone()
                } else {
                    !nb.inner()
                };
                Vector::Bool(BooleanArray::new(values, None))
            }
        },
    }
}

/// Whether constant `v` is in the set (SQL: a null operand or a miss
/// against a list holding null is null).
pub fn scalar_in(v: &Scalar, set: &InSet, has_null: bool, negated: bool) -> Scalar {
    let hit = match v {
        Scalar::Null => return Scalar::Null,
        Scalar::Int(x) => set.has_i64(*x),
        Scalar::Float(x) => set.has_f64(*x),
        Scalar::Str(s) => set.has_str(s),
        Scalar::Bool(b) => set.has_bool(*b),
    };
    if !hit && has_null {
        return Scalar::Null;
    }
    Scalar::Bool(hit != negated)
}

fn in_set(v: &Vector, set: &InSet, has_null: bool, negated: bool, n: usize) -> Vector {
    let hits = match v {
        Vector::Const(c) => return Vector::Const(scalar_in(c, set, has_null, negated)),
        Vector::Int(a) => {
            let x = a.values();
            match set {
                InSet::I64(list, _) if list.len() == 1 => {
                    let only = list[0];
                    BooleanBuffer::collect_bool(n, |i| x[i] == only)
                }
                _ => BooleanBuffer::collect_bool(n, |i| set.has_i64(x[i])),
            }
        }
        Vector::Float(a) => {
            let x = a.values();
            BooleanBuffer::collect_bool(n, |i| set.has_f64(x[i]))
        }
        Vector::Str(a) => BooleanBuffer::collect_bool(n, |i| set.has_str(a.value(i))),
        Vector::Bool(a) => {
            let x = a.values();
            BooleanBuffer::collect_bool(n, |i| set.has_bool(x.value(i)))
        }
    };
    let mut nulls = v.nulls().cloned();
    if has_null {
        nulls = and_nulls(nulls.as_ref(), hits.clone());
    }
    let values = if negated { !&hits } else { hits };
    Vector::Bool(BooleanArray::new(values, nulls))
}

fn change_case(case: Case, v: Vector, n: usize) -> Vector {
    match v {
        Vector::Str(a) => {
            let mut scratch = String::new();
            let mut b = arrow_array::builder::StringBuilder::with_capacity(n, a.value_data().len());
            for i in 0..n {
                if a.is_null(i) {
                    b.append_null();
                    continue;
                }
                let s = a.value(i);
                if s.is_ascii() {
                    scratch.clear();
                    scratch.push_str(s);
                    match case {
                        Case::Lower => scratch.make_ascii_lowercase(),
                        Case::Upper => scratch.make_ascii_uppercase(),
                    }
                    b.append_value(&scratch);
                } else {
                    b.append_value(case.apply(s));
                }
            }
            Vector::Str(b.finish())
        }
        Vector::Const(Scalar::Str(s)) => Vector::Const(Scalar::Str(case.apply(&s).into())),
        other => other,
    }
}

fn length(v: Vector) -> Vector {
    match v {
        Vector::Str(a) => {
            let values: Vec<i64> = (0..a.len()).map(|i| char_len(a.value(i))).collect();
            Vector::Int(Int64Array::new(values.into(), a.nulls().cloned()))
        }
        Vector::Const(Scalar::Str(s)) => Vector::Const(Scalar::Int(char_len(&s))),
        _ => Vector::Const(Scalar::Null),
    }
}

fn str_test(t: StrTest, a: &Vector, b: &Vector, n: usize) -> Vector {
    let (Some(x), Some(y)) = (str_side(a), str_side(b)) else {
        return Vector::Const(Scalar::Null);
    };
    if let (Str::Val(p), Str::Val(q)) = (x, y) {
        return Vector::Const(Scalar::Bool(t.holds(p, q)));
    }
    let bits = str_bits(n, x, y, |p, q| t.holds(p, q));
    Vector::Bool(BooleanArray::new(
        bits,
        NullBuffer::union(a.nulls(), b.nulls()),
    ))
}

/// `coalesce(a, b)`: `a` where it is valid, else `b`.
fn coalesce2(a: Vector, b: Vector, ty: Ty, n: usize) -> Vector {
    match &a {
        Vector::Const(Scalar::Null) => return b,
        Vector::Const(_) => return a,
        _ if a.nulls().is_none() || b.is_const_null() => return a,
        _ => {}
    }
    let b = b.broadcast(ty, n);
    let Some(va) = a.nulls().map(|nb| nb.inner().clone()) else {
        return a;
    };
    let valid = match b.nulls() {
        Some(vb) => &va | vb.inner(),
        None => BooleanBuffer::new_set(n),
    };
    match (&a, &b) {
        (Vector::Int(x), Vector::Int(y)) => {
            let (x, y) = (x.values(), y.values());
            let values: Vec<i64> = (0..n)
                .map(|i| if va.value(i) { x[i] } else { y[i] })
                .collect();
            Vector::Int(Int64Array::new(values.into(), nulls_from(valid)))
        }
        (Vector::Float(x), Vector::Float(y)) => {
            let (x, y) = (x.values(), y.values());
            let values: Vec<f64> = (0..n)
                .map(|i| if va.value(i) { x[i] } else { y[i] })
                .collect();
            Vector::Float(Float64Array::new(values.into(), nulls_from(valid)))
        }
        (Vector::Bool(x), Vector::Bool(y)) => {
            let values = &(x.values() & &va) | &(y.values() & &!&va);
            bool_vector(values, Some(valid))
        }
        (Vector::Str(x), Vector::Str(y)) => strings(
            n,
            (0..n).map(|i| {
                if va.value(i) {
                    Some(x.value(i))
                } else if y.is_valid(i) {
                    Some(y.value(i))
                } else {
                    None
                }
            }),
        ),
        _ => a,
    }
}
