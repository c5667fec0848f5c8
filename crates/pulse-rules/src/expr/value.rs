//! Expression types, constant values and the per-value semantics every
//! evaluator shares: the vectorised kernels apply these same functions to
//! whole arrays, so a row and a column can never disagree.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_schema::{DataType, TimeUnit};

/// The static type of an expression. `Null` is the type of the literal
/// `null`, which fits wherever any other type does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Ts,
    Null,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "int64",
            Ty::Float => "float64",
            Ty::Bool => "bool",
            Ty::Str => "string",
            Ty::Ts => "timestamp",
            Ty::Null => "null",
        }
    }

    /// The expression type of an Arrow column, if the language can read it.
    pub fn of_arrow(dt: &DataType) -> Option<Ty> {
        match dt {
            DataType::Int64 => Some(Ty::Int),
            DataType::Float64 => Some(Ty::Float),
            DataType::Boolean => Some(Ty::Bool),
            DataType::Utf8 => Some(Ty::Str),
            DataType::Timestamp(TimeUnit::Millisecond, _) => Some(Ty::Ts),
            _ => None,
        }
    }

    /// Whether values of the two types share one storage domain (i64 for
    /// int64 and timestamps) so columns can be compared without casts.
    pub fn is_integer(self) -> bool {
        matches!(self, Ty::Int | Ty::Ts)
    }
}

/// A constant: a literal, or the value of an expression over constants.
/// Timestamps are `Int` (epoch ms); the static type tells them apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Arc<str>),
}

impl Scalar {
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Reads an ordering; `None` (an unordered float pair: NaN) satisfies
    /// only `!=`, as in IEEE 754.
    #[inline(always)]
    pub fn holds(self, o: Option<Ordering>) -> bool {
        match o {
            None => self == CmpOp::Ne,
            Some(o) => match self {
                CmpOp::Eq => o == Ordering::Equal,
                CmpOp::Ne => o != Ordering::Equal,
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                CmpOp::Ge => o != Ordering::Less,
            },
        }
    }

    #[inline(always)]
    pub fn i64(self, a: i64, b: i64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }

    #[inline(always)]
    pub fn f64(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }

    /// Strings compare by Unicode code point (UTF-8 byte order is the same).
    #[inline(always)]
    pub fn str(self, a: &str, b: &str) -> bool {
        self.holds(Some(a.as_bytes().cmp(b.as_bytes())))
    }

    /// Booleans support only `=` and `!=` (the type checker enforces it).
    #[inline(always)]
    pub fn bool(self, a: bool, b: bool) -> bool {
        match self {
            CmpOp::Ne => a != b,
            _ => a == b,
        }
    }
}

/// Integer arithmetic, checked: overflow and a zero divisor give `None` (null).
/// `Div` never reaches here: `/` always works on floats.
#[inline(always)]
pub fn arith_i64(op: ArithOp, a: i64, b: i64) -> Option<i64> {
    match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div => {
            if b == 0 {
                None
            } else {
                Some(a.wrapping_div(b))
            }
        }
        ArithOp::Rem => a.checked_rem(b),
    }
}

/// Float arithmetic: IEEE 754, except that `/` and `%` by zero give `None`.
#[inline(always)]
pub fn arith_f64(op: ArithOp, a: f64, b: f64) -> Option<f64> {
    match op {
        ArithOp::Add => Some(a + b),
        ArithOp::Sub => Some(a - b),
        ArithOp::Mul => Some(a * b),
        ArithOp::Div => (b != 0.0).then(|| a / b),
        ArithOp::Rem => (b != 0.0).then(|| a % b),
    }
}

/// Whether float `/` or `%` by `b` yields a value.
#[inline(always)]
pub fn f64_divisor_ok(op: ArithOp, b: f64) -> bool {
    !matches!(op, ArithOp::Div | ArithOp::Rem) || b != 0.0
}

/// Unicode scalar values in `s`: UTF-8 bytes that do not continue a sequence.
#[inline(always)]
pub fn char_len(s: &str) -> i64 {
    s.as_bytes().iter().filter(|&&b| (b as i8) >= -0x40).count() as i64
}

/// Kleene AND over optional booleans.
pub fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Kleene OR over optional booleans.
pub fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_len_counts_scalar_values() {
        assert_eq!(char_len(""), 0);
        assert_eq!(char_len("abc"), 3);
        assert_eq!(char_len("é😀ß"), 3);
    }

    #[test]
    fn checked_integer_arithmetic() {
        assert_eq!(arith_i64(ArithOp::Add, i64::MAX, 1), None);
        assert_eq!(arith_i64(ArithOp::Rem, i64::MIN, -1), None);
        assert_eq!(arith_i64(ArithOp::Rem, 7, 0), None);
        assert_eq!(arith_i64(ArithOp::Rem, -7, 3), Some(-1));
        assert_eq!(arith_f64(ArithOp::Div, 1.0, -0.0), None);
        assert_eq!(arith_f64(ArithOp::Rem, -7.5, 2.0), Some(-1.5));
    }

    #[test]
    fn kleene_tables() {
        let vals = [Some(true), Some(false), None];
        for a in vals {
            for b in vals {
                let and = and3(a, b);
                let or = or3(a, b);
                assert_eq!(and, and3(b, a));
                assert_eq!(or, or3(b, a));
                if a == Some(false) || b == Some(false) {
                    assert_eq!(and, Some(false));
                }
                if a == Some(true) || b == Some(true) {
                    assert_eq!(or, Some(true));
                }
            }
        }
        assert_eq!(and3(Some(true), None), None);
        assert_eq!(or3(Some(false), None), None);
    }
}
