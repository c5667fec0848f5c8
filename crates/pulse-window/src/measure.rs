//! Measures: a view's aggregates compiled against the input schema, and the
//! columns of partial states a pane keeps for them (one state per key or
//! session fragment, struct-of-arrays, so an update runs one typed loop per
//! measure over a run of rows).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, TimestampMillisecondArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use xxhash_rust::xxh3::xxh3_64;

use crate::exact_sum::ExactSum;
use crate::sketch::{BucketValues, DdSketch, DdSketchConfig, HyperLogLog};
use crate::spec::{MeasureOp, MeasureSpec};

/// The value types a group or measure field may have (the schema's five).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueType {
    Utf8,
    Int64,
    Float64,
    Bool,
    /// Timestamp in milliseconds, with the field's time zone.
    Timestamp(Option<Arc<str>>),
}

impl ValueType {
    pub(crate) fn of(dt: &DataType) -> Option<ValueType> {
        match dt {
            DataType::Utf8 => Some(ValueType::Utf8),
            DataType::Int64 => Some(ValueType::Int64),
            DataType::Float64 => Some(ValueType::Float64),
            DataType::Boolean => Some(ValueType::Bool),
            DataType::Timestamp(TimeUnit::Millisecond, tz) => {
                Some(ValueType::Timestamp(tz.clone()))
            }
            _ => None,
        }
    }

    /// The stable name used in the definition hash.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ValueType::Utf8 => "string",
            ValueType::Int64 => "int64",
            ValueType::Float64 => "float64",
            ValueType::Bool => "bool",
            ValueType::Timestamp(_) => "timestamp",
        }
    }

    pub(crate) fn data_type(&self) -> DataType {
        match self {
            ValueType::Utf8 => DataType::Utf8,
            ValueType::Int64 => DataType::Int64,
            ValueType::Float64 => DataType::Float64,
            ValueType::Bool => DataType::Boolean,
            ValueType::Timestamp(tz) => DataType::Timestamp(TimeUnit::Millisecond, tz.clone()),
        }
    }

    fn is_integer(&self) -> bool {
        matches!(self, ValueType::Int64 | ValueType::Timestamp(_))
    }
}

/// A measure compiled against the input schema.
#[derive(Debug, Clone)]
pub(crate) struct Measure {
    pub(crate) name: String,
    pub(crate) op: MeasureOp,
    /// Input column and its type; `None` for `count` without a field.
    pub(crate) field: Option<(usize, ValueType)>,
    pub(crate) spec: MeasureSpec,
    pub(crate) precision: u8,
    pub(crate) q: f64,
    pub(crate) dd: DdSketchConfig,
    /// Index of the pane column holding this measure's states (see
    /// [`share_states`]).
    pub(crate) state: usize,
    /// True when an earlier measure of the view owns that column.
    pub(crate) shares: bool,
}

impl Measure {
    /// Compiles `spec` against `schema`; the error says why it does not fit.
    pub(crate) fn compile(
        spec: &MeasureSpec,
        schema: &Schema,
        index: usize,
    ) -> Result<Measure, String> {
        let field = match &spec.field {
            None => None,
            Some(name) => {
                let i = schema
                    .index_of(name)
                    .map_err(|_| format!("measures[{index}].field: unknown field '{name}'"))?;
                let dt = schema.field(i).data_type();
                let vt = ValueType::of(dt).ok_or_else(|| {
                    format!("measures[{index}].field: field '{name}' has unsupported type {dt}")
                })?;
                let numeric = matches!(
                    vt,
                    ValueType::Int64 | ValueType::Float64 | ValueType::Timestamp(_)
                );
                let needs_numeric = matches!(
                    spec.op,
                    MeasureOp::Sum
                        | MeasureOp::Avg
                        | MeasureOp::Min
                        | MeasureOp::Max
                        | MeasureOp::Quantile
                );
                if needs_numeric && !numeric {
                    return Err(format!(
                        "measures[{index}].field: {} needs a numeric or timestamp field, '{name}' is {}",
                        spec.op.name(),
                        vt.name()
                    ));
                }
                Some((i, vt))
            }
        };
        Ok(Measure {
            name: spec.output_name(),
            op: spec.op,
            field,
            spec: spec.clone(),
            precision: spec.precision_or_default(),
            q: spec.q.unwrap_or(0.5),
            dd: DdSketchConfig::new(spec.relative_accuracy_or_default()),
            state: index,
            shares: false,
        })
    }

    /// What decides the partial state: its kind, the field it reads, and the
    /// sketch settings. Measures with equal keys keep identical states.
    fn state_key(&self) -> (std::mem::Discriminant<Column>, Option<usize>, u8, u64) {
        (
            std::mem::discriminant(&self.new_column()),
            self.field.as_ref().map(|(i, _)| *i),
            self.precision,
            self.dd.relative_accuracy().to_bits(),
        )
    }

    fn value_type(&self) -> Option<&ValueType> {
        self.field.as_ref().map(|(_, t)| t)
    }

    fn integer_field(&self) -> bool {
        self.value_type().is_some_and(ValueType::is_integer)
    }

    /// The Arrow type of the finalised output column.
    pub(crate) fn output_type(&self) -> DataType {
        match self.op {
            MeasureOp::Count | MeasureOp::Distinct => DataType::Int64,
            MeasureOp::Avg | MeasureOp::Quantile => DataType::Float64,
            MeasureOp::Sum if self.integer_field() => DataType::Int64,
            MeasureOp::Sum => DataType::Float64,
            MeasureOp::Min | MeasureOp::Max => self
                .value_type()
                .map_or(DataType::Null, ValueType::data_type),
        }
    }

    /// An empty column of this measure's states.
    pub(crate) fn new_column(&self) -> Column {
        let int = self.integer_field();
        match self.op {
            MeasureOp::Count => Column::Count(Vec::new()),
            MeasureOp::Sum | MeasureOp::Avg if int => Column::IntSum(Vec::new()),
            MeasureOp::Sum | MeasureOp::Avg => Column::FloatSum(Vec::new()),
            MeasureOp::Min if int => Column::IntMin(Vec::new()),
            MeasureOp::Max if int => Column::IntMax(Vec::new()),
            MeasureOp::Min => Column::FloatMin(Vec::new()),
            MeasureOp::Max => Column::FloatMax(Vec::new()),
            MeasureOp::Distinct => Column::Distinct(Vec::new()),
            MeasureOp::Quantile => Column::Quantile(Vec::new()),
        }
    }

    /// Applies rows `rows` of `batch` to the states `entries` (same length):
    /// row `rows[k]` goes to state `entries[k]`. Nulls are skipped by every
    /// measure but `count` without a field.
    pub(crate) fn update(
        &self,
        col: &mut Column,
        batch: &RecordBatch,
        rows: &[u32],
        entries: &[u32],
    ) {
        let Some((field, vt)) = &self.field else {
            if let Column::Count(c) = col {
                for &e in entries {
                    c[e as usize] += 1;
                }
            }
            return;
        };
        let arr = batch.column(*field);
        let nulls = arr.logical_nulls();
        let nulls = nulls.as_ref();
        match col {
            Column::Count(c) => each_valid(nulls, rows, entries, |_, e| c[e] += 1),
            Column::IntSum(s) => {
                let v = i64_values(arr);
                each_valid(nulls, rows, entries, |r, e| s[e].add(v[r]));
            }
            Column::FloatSum(s) => {
                let v = arr.as_primitive::<Float64Type>().values();
                each_valid(nulls, rows, entries, |r, e| s[e].add(v[r]));
            }
            Column::IntMin(s) => {
                let v = i64_values(arr);
                each_valid(nulls, rows, entries, |r, e| {
                    s[e] = Some(s[e].map_or(v[r], |m| m.min(v[r])))
                });
            }
            Column::IntMax(s) => {
                let v = i64_values(arr);
                each_valid(nulls, rows, entries, |r, e| {
                    s[e] = Some(s[e].map_or(v[r], |m| m.max(v[r])))
                });
            }
            Column::FloatMin(s) => {
                let v = arr.as_primitive::<Float64Type>().values();
                each_valid(nulls, rows, entries, |r, e| float_min(&mut s[e], v[r]));
            }
            Column::FloatMax(s) => {
                let v = arr.as_primitive::<Float64Type>().values();
                each_valid(nulls, rows, entries, |r, e| float_max(&mut s[e], v[r]));
            }
            Column::Distinct(s) => match vt {
                ValueType::Utf8 => {
                    let a = arr.as_string::<i32>();
                    each_valid(nulls, rows, entries, |r, e| {
                        s[e].insert_hash(hash_bytes(a.value(r).as_bytes()))
                    });
                }
                ValueType::Int64 | ValueType::Timestamp(_) => {
                    let v = i64_values(arr);
                    each_valid(nulls, rows, entries, |r, e| {
                        s[e].insert_hash(hash_i64(v[r]))
                    });
                }
                ValueType::Float64 => {
                    let v = arr.as_primitive::<Float64Type>().values();
                    each_valid(nulls, rows, entries, |r, e| {
                        s[e].insert_hash(hash_f64(v[r]))
                    });
                }
                ValueType::Bool => {
                    let a = arr.as_boolean();
                    each_valid(nulls, rows, entries, |r, e| {
                        s[e].insert_hash(hash_bytes(&[a.value(r) as u8]))
                    });
                }
            },
            Column::Quantile(s) => {
                let cfg = &self.dd;
                if vt.is_integer() {
                    let v = i64_values(arr);
                    each_valid(nulls, rows, entries, |r, e| s[e].insert(v[r] as f64, cfg));
                } else {
                    let v = arr.as_primitive::<Float64Type>().values();
                    each_valid(nulls, rows, entries, |r, e| {
                        if v[r].is_finite() {
                            s[e].insert(v[r], cfg)
                        }
                    });
                }
            }
        }
    }

    /// The finalised value of state `i` of `col`. Always inlined into the
    /// query's loop, so the value stays in registers.
    #[inline(always)]
    pub(crate) fn final_value(
        &self,
        col: &Column,
        i: usize,
        memo: &mut BucketValues,
    ) -> Result<Final, String> {
        Ok(match col {
            Column::Count(c) => Final::Int(Some(c[i] as i64)),
            Column::IntSum(s) if self.op == MeasureOp::Avg => {
                Final::Float((s[i].n > 0).then(|| s[i].sum as f64 / s[i].n as f64))
            }
            Column::IntSum(s) => Final::Int(match s[i] {
                IntSum { n: 0, .. } => None,
                IntSum { sum, .. } => Some(
                    i64::try_from(sum).map_err(|_| format!("sum {sum} does not fit in int64"))?,
                ),
            }),
            Column::FloatSum(s) if self.op == MeasureOp::Avg => {
                Final::Float((s[i].n > 0).then(|| s[i].sum.value() / s[i].n as f64))
            }
            Column::FloatSum(s) => Final::Float((s[i].n > 0).then(|| s[i].sum.value())),
            Column::IntMin(s) | Column::IntMax(s) => Final::Int(s[i]),
            Column::FloatMin(s) | Column::FloatMax(s) => Final::Float(s[i]),
            Column::Distinct(s) => Final::Int(Some(s[i].estimate() as i64)),
            Column::Quantile(s) => Final::Float(s[i].quantile_with(self.q, &self.dd, memo)),
        })
    }

    /// The output field of this measure.
    pub(crate) fn output_field(&self) -> Field {
        Field::new(
            &self.name,
            self.output_type(),
            self.op != MeasureOp::Count && self.op != MeasureOp::Distinct,
        )
    }
}

/// The output column of one measure, filled value by value: straight into
/// typed values and validity flags (packed into a bitmap once, at the end),
/// without a vector of [`Final`]s.
pub(crate) struct FinalColumn {
    ty: DataType,
    ints: Vec<i64>,
    floats: Vec<f64>,
    valid: Vec<bool>,
}

impl FinalColumn {
    pub(crate) fn new(m: &Measure, rows: usize) -> FinalColumn {
        let ty = m.output_type();
        let float = ty == DataType::Float64;
        FinalColumn {
            ints: Vec::with_capacity(if float { 0 } else { rows }),
            floats: Vec::with_capacity(if float { rows } else { 0 }),
            valid: Vec::with_capacity(rows),
            ty,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: Final) {
        let present = match v {
            Final::Int(x) => {
                self.ints.push(x.unwrap_or(0));
                x.is_some()
            }
            Final::Float(x) => {
                self.floats.push(x.unwrap_or(0.0));
                x.is_some()
            }
        };
        self.valid.push(present);
    }

    pub(crate) fn finish(self) -> ArrayRef {
        let nulls = if self.valid.iter().all(|&v| v) {
            None
        } else {
            Some(NullBuffer::from(self.valid))
        };
        match self.ty {
            DataType::Float64 => Arc::new(Float64Array::new(self.floats.into(), nulls)),
            DataType::Timestamp(_, tz) => Arc::new(
                TimestampMillisecondArray::new(self.ints.into(), nulls).with_timezone_opt(tz),
            ),
            _ => Arc::new(Int64Array::new(self.ints.into(), nulls)),
        }
    }
}

/// Gives measures that would keep identical partial states one column of
/// states: `sum` and `avg` of a field (both an exact sum and a count), or
/// quantiles at several `q` of a field with one accuracy. The shared column
/// is updated once per row, and each measure finalises its own value from
/// it. Returns the measures owning a column, in column order; snapshots still
/// carry one state per measure, so their layout does not depend on sharing.
pub(crate) fn share_states(measures: &mut [Measure]) -> Vec<Measure> {
    let mut owners: Vec<Measure> = Vec::new();
    for m in measures.iter_mut() {
        let key = m.state_key();
        match owners.iter().position(|o| o.state_key() == key) {
            Some(i) => {
                m.state = i;
                m.shares = true;
            }
            None => {
                m.state = owners.len();
                m.shares = false;
                owners.push(m.clone());
            }
        }
    }
    owners
}

/// A finalised measure value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Final {
    Int(Option<i64>),
    Float(Option<f64>),
}

/// Calls `f(row, entry)` for every pair whose row is not null.
#[inline]
fn each_valid(
    nulls: Option<&NullBuffer>,
    rows: &[u32],
    entries: &[u32],
    mut f: impl FnMut(usize, usize),
) {
    match nulls {
        None => {
            for (&r, &e) in rows.iter().zip(entries) {
                f(r as usize, e as usize);
            }
        }
        Some(n) => {
            for (&r, &e) in rows.iter().zip(entries) {
                if n.is_valid(r as usize) {
                    f(r as usize, e as usize);
                }
            }
        }
    }
}

/// The `i64` values of an Int64 or Timestamp(ms) column.
fn i64_values(arr: &ArrayRef) -> &[i64] {
    match arr.data_type() {
        DataType::Timestamp(..) => arr.as_primitive::<TimestampMillisecondType>().values(),
        _ => arr.as_primitive::<Int64Type>().values(),
    }
}

/// Distinct values are hashed with xxh3 (seed 0) over a canonical byte form:
/// UTF-8 bytes, little-endian integers, one byte for booleans, and float
/// bits with −0 folded into +0 and every NaN into one. Snapshots keep
/// registers, so this function must never change.
#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    xxh3_64(b)
}

#[inline]
fn hash_i64(v: i64) -> u64 {
    xxh3_64(&v.to_le_bytes())
}

#[inline]
fn hash_f64(v: f64) -> u64 {
    let canonical = if v == 0.0 {
        0.0f64
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    };
    xxh3_64(&canonical.to_bits().to_le_bytes())
}

/// Float min/max skip NaN and order by `total_cmp`, so −0 < +0 and the
/// result never depends on the order of the values.
#[inline]
fn float_min(slot: &mut Option<f64>, v: f64) {
    if v.is_nan() {
        return;
    }
    match slot {
        Some(m) if m.total_cmp(&v).is_le() => {}
        _ => *slot = Some(v),
    }
}

#[inline]
fn float_max(slot: &mut Option<f64>, v: f64) {
    if v.is_nan() {
        return;
    }
    match slot {
        Some(m) if m.total_cmp(&v).is_ge() => {}
        _ => *slot = Some(v),
    }
}

/// Sum state of an integer field: exact in i128.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IntSum {
    pub(crate) n: u64,
    pub(crate) sum: i128,
}

impl IntSum {
    #[inline]
    fn add(&mut self, v: i64) {
        self.n += 1;
        self.sum += v as i128;
    }
}

/// Sum state of a float field: exact, rounded once when read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FloatSum {
    pub(crate) n: u64,
    pub(crate) sum: ExactSum,
}

impl FloatSum {
    #[inline]
    fn add(&mut self, v: f64) {
        self.n += 1;
        self.sum.add(v);
    }
}

/// One measure's partial states, indexed by key id or fragment id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Column {
    Count(Vec<u64>),
    IntSum(Vec<IntSum>),
    FloatSum(Vec<FloatSum>),
    IntMin(Vec<Option<i64>>),
    IntMax(Vec<Option<i64>>),
    FloatMin(Vec<Option<f64>>),
    FloatMax(Vec<Option<f64>>),
    Distinct(Vec<HyperLogLog>),
    Quantile(Vec<DdSketch>),
}

impl Column {
    /// Makes room for `additional` more states.
    pub(crate) fn reserve(&mut self, additional: usize) {
        match self {
            Column::Count(v) => v.reserve(additional),
            Column::IntSum(v) => v.reserve(additional),
            Column::FloatSum(v) => v.reserve(additional),
            Column::IntMin(v) | Column::IntMax(v) => v.reserve(additional),
            Column::FloatMin(v) | Column::FloatMax(v) => v.reserve(additional),
            Column::Distinct(v) => v.reserve(additional),
            Column::Quantile(v) => v.reserve(additional),
        }
    }

    /// Appends an empty state.
    #[inline]
    pub(crate) fn push_empty(&mut self, m: &Measure) {
        match self {
            Column::Count(v) => v.push(0),
            Column::IntSum(v) => v.push(IntSum::default()),
            Column::FloatSum(v) => v.push(FloatSum {
                n: 0,
                sum: ExactSum::ZERO,
            }),
            Column::IntMin(v) | Column::IntMax(v) => v.push(None),
            Column::FloatMin(v) | Column::FloatMax(v) => v.push(None),
            Column::Distinct(v) => v.push(HyperLogLog::new(m.precision)),
            Column::Quantile(v) => v.push(DdSketch::EMPTY),
        }
    }

    /// Merges state `s` of `src` (a column of the same measure) into state `d`.
    pub(crate) fn merge_entry(&mut self, d: usize, src: &Column, s: usize, m: &Measure) {
        match (self, src) {
            (Column::Count(a), Column::Count(b)) => a[d] += b[s],
            (Column::IntSum(a), Column::IntSum(b)) => {
                a[d].n += b[s].n;
                a[d].sum += b[s].sum;
            }
            (Column::FloatSum(a), Column::FloatSum(b)) => {
                a[d].n += b[s].n;
                a[d].sum.merge(&b[s].sum);
            }
            (Column::IntMin(a), Column::IntMin(b)) => a[d] = opt_merge(a[d], b[s], i64::min),
            (Column::IntMax(a), Column::IntMax(b)) => a[d] = opt_merge(a[d], b[s], i64::max),
            (Column::FloatMin(a), Column::FloatMin(b)) => {
                if let Some(v) = b[s] {
                    float_min(&mut a[d], v)
                }
            }
            (Column::FloatMax(a), Column::FloatMax(b)) => {
                if let Some(v) = b[s] {
                    float_max(&mut a[d], v)
                }
            }
            (Column::Distinct(a), Column::Distinct(b)) => a[d].merge(&b[s]),
            (Column::Quantile(a), Column::Quantile(b)) => a[d].merge(&b[s], &m.dd),
            _ => unreachable!("columns of one measure always have the same kind"),
        }
    }

    /// Merges state `s` into state `d` of the same column, then empties `s`
    /// (a session fragment absorbed by another).
    pub(crate) fn absorb(&mut self, d: usize, s: usize, m: &Measure) {
        let mut taken = m.new_column();
        taken.push_empty(m);
        self.swap_out(s, &mut taken);
        self.merge_entry(d, &taken, 0, m);
    }

    /// Swaps state `i` with the single state of `other`.
    fn swap_out(&mut self, i: usize, other: &mut Column) {
        match (self, other) {
            (Column::Count(a), Column::Count(b)) => std::mem::swap(&mut a[i], &mut b[0]),
            (Column::IntSum(a), Column::IntSum(b)) => std::mem::swap(&mut a[i], &mut b[0]),
            (Column::FloatSum(a), Column::FloatSum(b)) => std::mem::swap(&mut a[i], &mut b[0]),
            (Column::IntMin(a), Column::IntMin(b)) | (Column::IntMax(a), Column::IntMax(b)) => {
                std::mem::swap(&mut a[i], &mut b[0])
            }
            (Column::FloatMin(a), Column::FloatMin(b))
            | (Column::FloatMax(a), Column::FloatMax(b)) => std::mem::swap(&mut a[i], &mut b[0]),
            (Column::Distinct(a), Column::Distinct(b)) => std::mem::swap(&mut a[i], &mut b[0]),
            (Column::Quantile(a), Column::Quantile(b)) => std::mem::swap(&mut a[i], &mut b[0]),
            _ => unreachable!("columns of one measure always have the same kind"),
        }
    }

    /// Approximate bytes held (states plus sketch heaps).
    pub(crate) fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        match self {
            Column::Count(v) => v.capacity() * size_of::<u64>(),
            Column::IntSum(v) => v.capacity() * size_of::<IntSum>(),
            Column::FloatSum(v) => {
                v.capacity() * size_of::<FloatSum>()
                    + v.iter().map(|s| s.sum.heap_bytes()).sum::<usize>()
            }
            Column::IntMin(v) | Column::IntMax(v) => v.capacity() * size_of::<Option<i64>>(),
            Column::FloatMin(v) | Column::FloatMax(v) => v.capacity() * size_of::<Option<f64>>(),
            Column::Distinct(v) => {
                v.capacity() * size_of::<HyperLogLog>()
                    + v.iter().map(HyperLogLog::heap_bytes).sum::<usize>()
            }
            Column::Quantile(v) => {
                v.capacity() * size_of::<DdSketch>()
                    + v.iter().map(DdSketch::heap_bytes).sum::<usize>()
            }
        }
    }
}

fn opt_merge<T: Copy>(a: Option<T>, b: Option<T>, f: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// A boolean mask's truth at `i` (null counts as false, like a WHERE clause).
#[inline]
pub(crate) fn mask_true(mask: &BooleanArray, i: usize) -> bool {
    mask.is_valid(i) && mask.value(i)
}
