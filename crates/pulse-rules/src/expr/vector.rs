//! The value of an expression over a batch: a whole Arrow array, or one
//! constant standing for every row (never broadcast unless an operation
//! needs it).

use arrow_array::builder::StringBuilder;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use arrow_buffer::{BooleanBuffer, NullBuffer};

use super::value::{Scalar, Ty};
use crate::RuleError;

#[derive(Debug, Clone)]
pub enum Vector {
    /// int64 and timestamp values (epoch ms).
    Int(Int64Array),
    Float(Float64Array),
    Bool(BooleanArray),
    Str(StringArray),
    Const(Scalar),
}

impl Vector {
    /// Reads column `array` as a value of type `ty`, without copying.
    pub fn from_column(array: &ArrayRef, ty: Ty) -> Result<Vector, RuleError> {
        let any = array.as_any();
        let wrong = || {
            RuleError::Schema(format!(
                "expected a {} column, found {}",
                ty.name(),
                array.data_type()
            ))
        };
        Ok(match ty {
            Ty::Int => Vector::Int(any.downcast_ref::<Int64Array>().ok_or_else(wrong)?.clone()),
            Ty::Ts => {
                let ts = any
                    .downcast_ref::<TimestampMillisecondArray>()
                    .ok_or_else(wrong)?;
                Vector::Int(Int64Array::new(ts.values().clone(), ts.nulls().cloned()))
            }
            Ty::Float => Vector::Float(
                any.downcast_ref::<Float64Array>()
                    .ok_or_else(wrong)?
                    .clone(),
            ),
            Ty::Bool => Vector::Bool(
                any.downcast_ref::<BooleanArray>()
                    .ok_or_else(wrong)?
                    .clone(),
            ),
            Ty::Str => Vector::Str(any.downcast_ref::<StringArray>().ok_or_else(wrong)?.clone()),
            Ty::Null => Vector::Const(Scalar::Null),
        })
    }

    pub fn nulls(&self) -> Option<&NullBuffer> {
        match self {
            Vector::Int(a) => a.nulls(),
            Vector::Float(a) => a.nulls(),
            Vector::Bool(a) => a.nulls(),
            Vector::Str(a) => a.nulls(),
            Vector::Const(_) => None,
        }
    }

    pub fn is_const_null(&self) -> bool {
        matches!(self, Vector::Const(Scalar::Null))
    }

    /// Row `i` as a constant (tests compare vectors row by row).
    #[cfg(test)]
    pub fn scalar_at(&self, i: usize) -> Scalar {
        if self.nulls().is_some_and(|n| n.is_null(i)) {
            return Scalar::Null;
        }
        match self {
            Vector::Int(a) => Scalar::Int(a.value(i)),
            Vector::Float(a) => Scalar::Float(a.value(i)),
            Vector::Bool(a) => Scalar::Bool(a.value(i)),
            Vector::Str(a) => Scalar::Str(a.value(i).into()),
            Vector::Const(c) => c.clone(),
        }
    }

    /// Materialises a constant as an array of `n` rows of type `ty`.
    pub fn broadcast(self, ty: Ty, n: usize) -> Vector {
        let Vector::Const(c) = self else {
            return self;
        };
        let nulls = || Some(NullBuffer::new_null(n));
        match (c, ty) {
            (Scalar::Int(v), _) => Vector::Int(Int64Array::from_value(v, n)),
            (Scalar::Float(v), _) => Vector::Float(Float64Array::from_value(v, n)),
            (Scalar::Bool(v), _) => Vector::Bool(BooleanArray::new(
                if v {
                    BooleanBuffer::new_set(n)
                } else {
                    BooleanBuffer::new_unset(n)
                },
                None,
            )),
            (Scalar::Str(s), _) => {
                let mut b = StringBuilder::with_capacity(n, s.len() * n);
                for _ in 0..n {
                    b.append_value(&*s);
                }
                Vector::Str(b.finish())
            }
            (Scalar::Null, Ty::Int | Ty::Ts) => {
                Vector::Int(Int64Array::new(vec![0; n].into(), nulls()))
            }
            (Scalar::Null, Ty::Float) => {
                Vector::Float(Float64Array::new(vec![0.0; n].into(), nulls()))
            }
            (Scalar::Null, Ty::Str) => Vector::Str(StringArray::new_null(n)),
            (Scalar::Null, Ty::Bool | Ty::Null) => {
                Vector::Bool(BooleanArray::new(BooleanBuffer::new_unset(n), nulls()))
            }
        }
    }

    /// The rows where the value is TRUE (null and false excluded): the
    /// meaning of a derivation's `when` and a view's `filter`.
    pub fn true_mask(&self, n: usize) -> BooleanBuffer {
        match self {
            Vector::Const(Scalar::Bool(true)) => BooleanBuffer::new_set(n),
            Vector::Bool(a) => match a.nulls() {
                Some(nb) => a.values() & nb.inner(),
                None => a.values().clone(),
            },
            _ => BooleanBuffer::new_unset(n),
        }
    }

    /// The rows where the value is FALSE (null excluded): where an `expr`
    /// check fails.
    pub fn false_mask(&self, n: usize) -> BooleanBuffer {
        match self {
            Vector::Const(Scalar::Bool(false)) => BooleanBuffer::new_set(n),
            Vector::Bool(a) => {
                let f = !a.values();
                match a.nulls() {
                    Some(nb) => &f & nb.inner(),
                    None => f,
                }
            }
            _ => BooleanBuffer::new_unset(n),
        }
    }
}

/// Wraps a validity bitmap as a `NullBuffer`, or `None` when every row is valid.
pub fn nulls_from(valid: BooleanBuffer) -> Option<NullBuffer> {
    let nb = NullBuffer::new(valid);
    (nb.null_count() > 0).then_some(nb)
}

/// A string array from optional values (used by string functions).
pub fn strings<'a>(n: usize, it: impl Iterator<Item = Option<&'a str>>) -> Vector {
    let mut b = StringBuilder::with_capacity(n, n * 8);
    for v in it {
        b.append_option(v);
    }
    Vector::Str(b.finish())
}
