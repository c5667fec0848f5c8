//! Snapshot layout version 1.
//!
//! One row per keyed state, ordered by pane start, then group key (Arrow row
//! order), then fragment start:
//!
//! | column | type | |
//! |---|---|---|
//! | `pane_start` | Int64 | pane (session: grid cell) start, ms |
//! | `fragment_first`, `fragment_last` | Int64 | session views only |
//! | `group.<field>` | the field's type | one per group field |
//! | `<measure>.count` | UInt64 | count, sum, avg |
//! | `<measure>.sum` | FixedSizeBinary(16) | sum/avg of int64/timestamp: i128 LE |
//! | `<measure>.sum` | Binary | sum/avg of float64: flags byte + canonical exact partials (f64 LE) |
//! | `<measure>.value` | field type (Int64 for timestamps) | min, max; null when no value |
//! | `<measure>.hll` | Binary | distinct: `[p, form]` + sparse u32 entries or dense registers |
//! | `<measure>.sketch` | Binary | quantile: DDSketch varints |

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, FixedSizeBinaryBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::Header;
use crate::exact_sum::ExactSum;
use crate::keys::hash_key;
use crate::measure::{Column, FloatSum, IntSum, Measure};
use crate::pane::Pane;
use crate::sketch::{DdSketch, HyperLogLog};
use crate::state::{ViewState, MAX_EVENT_TIME_MS};
use crate::WindowError;

/// Most rows per record batch.
const MAX_ROWS: usize = 16_384;
/// Keeps each Binary column of a batch well under its 2 GiB offset limit.
const MAX_BATCH_STATE_BYTES: usize = 1 << 30;

/// The state columns of one measure: `(suffix, type, nullable)`.
fn state_fields(m: &Measure) -> Vec<Field> {
    let col = m.new_column();
    let f = |part: &str, dt: DataType, nullable: bool| {
        Field::new(format!("{}.{part}", m.name), dt, nullable)
    };
    match col {
        Column::Count(_) => vec![f("count", DataType::UInt64, false)],
        Column::IntSum(_) => vec![
            f("count", DataType::UInt64, false),
            f("sum", DataType::FixedSizeBinary(16), false),
        ],
        Column::FloatSum(_) => vec![
            f("count", DataType::UInt64, false),
            f("sum", DataType::Binary, false),
        ],
        Column::IntMin(_) | Column::IntMax(_) => vec![f("value", DataType::Int64, true)],
        Column::FloatMin(_) | Column::FloatMax(_) => vec![f("value", DataType::Float64, true)],
        Column::Distinct(_) => vec![f("hll", DataType::Binary, false)],
        Column::Quantile(_) => vec![f("sketch", DataType::Binary, false)],
    }
}

/// Upper bound of one row's encoded state bytes, to size batches.
fn max_row_bytes(state: &ViewState) -> usize {
    state
        .def
        .measures
        .iter()
        .map(|m| match m.new_column() {
            Column::Distinct(_) => 2 + (1usize << m.precision),
            Column::Quantile(_) => 24 + 2 * 10 * m.dd.max_buckets() as usize,
            Column::FloatSum(_) => 1 + 8 * 80,
            _ => 16,
        })
        .sum::<usize>()
        .max(1)
}

fn schema_of(state: &ViewState) -> SchemaRef {
    let def = &*state.def;
    let mut fields = vec![Field::new("pane_start", DataType::Int64, false)];
    if def.is_session() {
        fields.push(Field::new("fragment_first", DataType::Int64, false));
        fields.push(Field::new("fragment_last", DataType::Int64, false));
    }
    for g in &def.group_fields {
        fields.push(Field::new(
            format!("group.{}", g.name()),
            g.data_type().clone(),
            true,
        ));
    }
    for m in &def.measures {
        fields.extend(state_fields(m));
    }
    Arc::new(Schema::new(fields).with_metadata(Header::write(state)))
}

/// One snapshot row: a state of a pane.
struct Row<'a> {
    start: i64,
    pane: &'a Pane,
    entry: u32,
    key: u32,
    first: i64,
    last: i64,
}

pub(super) fn encode(state: &ViewState) -> Result<Vec<u8>, WindowError> {
    let def = &*state.def;
    let arrow_err = |e| WindowError::Arrow {
        view: def.name().to_string(),
        source: e,
    };
    let schema = schema_of(state);
    let mut rows: Vec<Row<'_>> = Vec::new();
    for (&start, pane) in &state.panes {
        let at = rows.len();
        rows.extend(
            pane.entries()
                .into_iter()
                .map(|(entry, key, first, last)| Row {
                    start,
                    pane,
                    entry,
                    key,
                    first,
                    last,
                }),
        );
        rows[at..].sort_unstable_by(|a, b| {
            pane.keys
                .key(a.key)
                .cmp(pane.keys.key(b.key))
                .then(a.first.cmp(&b.first))
        });
    }
    let per_batch = (MAX_BATCH_STATE_BYTES / max_row_bytes(state)).clamp(1, MAX_ROWS);
    let mut out = Vec::new();
    {
        let mut writer = StreamWriter::try_new(&mut out, &schema).map_err(arrow_err)?;
        for chunk in rows.chunks(per_batch) {
            let batch = encode_rows(state, &schema, chunk).map_err(arrow_err)?;
            writer.write(&batch).map_err(arrow_err)?;
        }
        writer.finish().map_err(arrow_err)?;
    }
    Ok(out)
}

fn encode_rows(
    state: &ViewState,
    schema: &SchemaRef,
    rows: &[Row<'_>],
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let def = &*state.def;
    let mut cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from_iter_values(
        rows.iter().map(|r| r.start),
    ))];
    if def.is_session() {
        cols.push(Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.first),
        )));
        cols.push(Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.last),
        )));
    }
    cols.extend(
        def.keys
            .decode(rows.iter().map(|r| r.pane.keys.key(r.key)))?,
    );
    for m in &def.measures {
        let state_of = || {
            rows.iter()
                .map(|r| (&r.pane.columns[m.state], r.entry as usize))
        };
        match m.new_column() {
            Column::Count(_) => cols.push(Arc::new(UInt64Array::from_iter_values(state_of().map(
                |(c, e)| match c {
                    Column::Count(v) => v[e],
                    _ => unreachable!(),
                },
            )))),
            Column::IntSum(_) => {
                let sums: Vec<IntSum> = state_of()
                    .map(|(c, e)| match c {
                        Column::IntSum(v) => v[e],
                        _ => unreachable!(),
                    })
                    .collect();
                cols.push(Arc::new(UInt64Array::from_iter_values(
                    sums.iter().map(|s| s.n),
                )));
                let mut b = FixedSizeBinaryBuilder::with_capacity(sums.len(), 16);
                for s in &sums {
                    b.append_value(s.sum.to_le_bytes())?;
                }
                cols.push(Arc::new(b.finish()));
            }
            Column::FloatSum(_) => {
                let mut counts = Vec::with_capacity(rows.len());
                let mut b = BinaryBuilder::new();
                let mut buf = Vec::new();
                for (c, e) in state_of() {
                    let Column::FloatSum(v) = c else {
                        unreachable!()
                    };
                    counts.push(v[e].n);
                    let canonical = v[e].sum.canonical();
                    let (special, partials) = canonical.parts();
                    buf.clear();
                    buf.push(special);
                    for p in partials {
                        buf.extend_from_slice(&p.to_le_bytes());
                    }
                    b.append_value(&buf);
                }
                cols.push(Arc::new(UInt64Array::from(counts)));
                cols.push(Arc::new(b.finish()));
            }
            Column::IntMin(_) | Column::IntMax(_) => cols.push(Arc::new(Int64Array::from_iter(
                state_of().map(|(c, e)| match c {
                    Column::IntMin(v) | Column::IntMax(v) => v[e],
                    _ => unreachable!(),
                }),
            ))),
            Column::FloatMin(_) | Column::FloatMax(_) => cols.push(Arc::new(
                Float64Array::from_iter(state_of().map(|(c, e)| match c {
                    Column::FloatMin(v) | Column::FloatMax(v) => v[e],
                    _ => unreachable!(),
                })),
            )),
            Column::Distinct(_) => {
                let mut b = BinaryBuilder::new();
                let mut buf = Vec::new();
                for (c, e) in state_of() {
                    let Column::Distinct(v) = c else {
                        unreachable!()
                    };
                    buf.clear();
                    v[e].encode(&mut buf);
                    b.append_value(&buf);
                }
                cols.push(Arc::new(b.finish()));
            }
            Column::Quantile(_) => {
                let mut b = BinaryBuilder::new();
                let mut buf = Vec::new();
                for (c, e) in state_of() {
                    let Column::Quantile(v) = c else {
                        unreachable!()
                    };
                    buf.clear();
                    v[e].encode(&mut buf);
                    b.append_value(&buf);
                }
                cols.push(Arc::new(b.finish()));
            }
        }
    }
    RecordBatch::try_new(schema.clone(), cols)
}

/// Rebuilds the panes of `state` from layout-1 batches.
pub(super) fn decode(
    state: &mut ViewState,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), String> {
    let expected = schema_of(state);
    for f in expected.fields() {
        let got = schema
            .field_with_name(f.name())
            .map_err(|_| format!("column '{}' is missing", f.name()))?;
        if got.data_type() != f.data_type() {
            return Err(format!(
                "column '{}' is {}, layout 1 has {}",
                f.name(),
                got.data_type(),
                f.data_type()
            ));
        }
    }
    for batch in batches {
        decode_batch(state, batch)?;
    }
    Ok(())
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, String> {
    batch
        .column_by_name(name)
        .ok_or_else(|| format!("column '{name}' is missing"))
}

fn non_null_i64<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a [i64], String> {
    let c = column(batch, name)?;
    if c.null_count() > 0 {
        return Err(format!("column '{name}' has nulls"));
    }
    Ok(c.as_primitive::<Int64Type>().values())
}

fn decode_batch(state: &mut ViewState, batch: &RecordBatch) -> Result<(), String> {
    let def = state.def.clone();
    let n = batch.num_rows();
    let starts = non_null_i64(batch, "pane_start")?;
    let frags = if def.is_session() {
        Some((
            non_null_i64(batch, "fragment_first")?,
            non_null_i64(batch, "fragment_last")?,
        ))
    } else {
        None
    };
    let group_cols: Vec<ArrayRef> = def
        .group_fields
        .iter()
        .map(|g| column(batch, &format!("group.{}", g.name())).cloned())
        .collect::<Result<_, _>>()?;
    let keys = def
        .keys
        .encode_columns(&group_cols)
        .map_err(|e| format!("group columns: {e}"))?;
    let states: Vec<Column> = def
        .measures
        .iter()
        .map(|m| decode_states(m, batch))
        .collect::<Result<_, _>>()?;
    for row in 0..n {
        let start = starts[row];
        if !(-MAX_EVENT_TIME_MS..=MAX_EVENT_TIME_MS).contains(&start) {
            return Err(format!(
                "row {row}: pane start {start} is outside ±{MAX_EVENT_TIME_MS} ms"
            ));
        }
        if start.rem_euclid(def.pane_ms) != 0 {
            return Err(format!(
                "row {row}: pane start {start} is not on the {} ms grid",
                def.pane_ms
            ));
        }
        let pane = state
            .panes
            .entry(start)
            .or_insert_with(|| Pane::new(&def.states, def.is_session()));
        let key = keys.key(row);
        let before = pane.keys.len();
        let id = pane.key_id(hash_key(key), key, &def.states);
        let target = match frags {
            Some((firsts, lasts)) => {
                let (first, last) = (firsts[row], lasts[row]);
                if first > last || first < start || last >= start + def.pane_ms {
                    return Err(format!(
                        "row {row}: fragment [{first}, {last}] does not lie in cell [{start}, {})",
                        start + def.pane_ms
                    ));
                }
                pane.place(id, first, last, def.gap(), &def.states)
            }
            None => {
                if pane.keys.len() == before {
                    return Err(format!("row {row}: group key repeated within pane {start}"));
                }
                id
            }
        };
        // A shared column takes its owner's state; the copy each sharing
        // measure carries is decoded (a malformed one is still an error)
        // but not merged a second time.
        for (mi, m) in def.measures.iter().enumerate() {
            if !m.shares {
                pane.columns[m.state].merge_entry(target as usize, &states[mi], row, m);
            }
        }
    }
    Ok(())
}

/// Decodes one measure's state columns: one state per batch row.
fn decode_states(m: &Measure, batch: &RecordBatch) -> Result<Column, String> {
    let name = |part: &str| format!("{}.{part}", m.name);
    let counts = |batch: &RecordBatch| -> Result<Vec<u64>, String> {
        let c = column(batch, &name("count"))?;
        if c.null_count() > 0 {
            return Err(format!("column '{}' has nulls", name("count")));
        }
        Ok(c.as_primitive::<UInt64Type>().values().to_vec())
    };
    let binary = |part: &str| -> Result<Vec<&[u8]>, String> {
        let c = column(batch, &name(part))?;
        if c.null_count() > 0 {
            return Err(format!("column '{}' has nulls", name(part)));
        }
        Ok(c.as_binary::<i32>()
            .iter()
            .map(|v| v.unwrap_or_default())
            .collect())
    };
    let bad = |row: usize, why: String| format!("row {row}, measure '{}': {why}", m.name);
    Ok(match m.new_column() {
        Column::Count(_) => Column::Count(counts(batch)?),
        Column::IntSum(_) => {
            let n = counts(batch)?;
            let sums = column(batch, &name("sum"))?.as_fixed_size_binary();
            let mut out = Vec::with_capacity(n.len());
            for (row, &n) in n.iter().enumerate() {
                let bytes: [u8; 16] = sums
                    .value(row)
                    .try_into()
                    .map_err(|_| bad(row, "sum is not 16 bytes".into()))?;
                let sum = i128::from_le_bytes(bytes);
                if n == 0 && sum != 0 {
                    return Err(bad(row, "non-zero sum of no values".into()));
                }
                out.push(IntSum { n, sum });
            }
            Column::IntSum(out)
        }
        Column::FloatSum(_) => {
            let n = counts(batch)?;
            let mut out = Vec::with_capacity(n.len());
            for (row, (bytes, n)) in binary("sum")?.into_iter().zip(n).enumerate() {
                if bytes.is_empty() || (bytes.len() - 1) % 8 != 0 {
                    return Err(bad(
                        row,
                        format!("float sum state has {} bytes", bytes.len()),
                    ));
                }
                let partials: Vec<f64> = bytes[1..]
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk")))
                    .collect();
                if partials.iter().any(|p| !p.is_finite()) {
                    return Err(bad(row, "non-finite partial in float sum".into()));
                }
                out.push(FloatSum {
                    n,
                    sum: ExactSum::from_parts(bytes[0], &partials),
                });
            }
            Column::FloatSum(out)
        }
        c @ (Column::IntMin(_) | Column::IntMax(_)) => {
            let v: Vec<Option<i64>> = column(batch, &name("value"))?
                .as_primitive::<Int64Type>()
                .iter()
                .collect();
            match c {
                Column::IntMin(_) => Column::IntMin(v),
                _ => Column::IntMax(v),
            }
        }
        c @ (Column::FloatMin(_) | Column::FloatMax(_)) => {
            let v: Vec<Option<f64>> = column(batch, &name("value"))?
                .as_primitive::<Float64Type>()
                .iter()
                .collect();
            if let Some(row) = v.iter().position(|x| x.is_some_and(f64::is_nan)) {
                return Err(bad(row, "NaN min/max".into()));
            }
            match c {
                Column::FloatMin(_) => Column::FloatMin(v),
                _ => Column::FloatMax(v),
            }
        }
        Column::Distinct(_) => Column::Distinct(
            binary("hll")?
                .into_iter()
                .enumerate()
                .map(|(row, b)| HyperLogLog::decode(b, m.precision).map_err(|e| bad(row, e)))
                .collect::<Result<_, _>>()?,
        ),
        Column::Quantile(_) => Column::Quantile(
            binary("sketch")?
                .into_iter()
                .enumerate()
                .map(|(row, b)| DdSketch::decode(b, &m.dd).map_err(|e| bad(row, e)))
                .collect::<Result<_, _>>()?,
        ),
    })
}
