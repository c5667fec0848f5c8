//! Shared helpers: run a parser over bytes cut into chunks and collect its
//! rows (as plain cells), row positions and rejects.

#![allow(dead_code)]

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::Array;
use arrow_schema::DataType;
use pulse_parse::{ParseOptions, Parser, Reject};
use pulse_schema::Schema;

/// One cell of a parsed row, comparable across runs (floats by bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Str(String),
    Int(i64),
    Float(u64),
    Bool(bool),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub rows: Vec<Vec<Cell>>,
    pub lines: Vec<u64>,
    pub offsets: Vec<u64>,
    pub rejects: Vec<Reject>,
    pub batch_sizes: Vec<usize>,
}

pub fn parser(schema: &str, opts: &str) -> Parser {
    let schema = Arc::new(Schema::from_json(schema).expect("schema"));
    Parser::new(schema, ParseOptions::from_json(opts).expect("options")).expect("parser")
}

/// Pushes `bytes` cut at `cuts` (sorted offsets), finishes and collects.
pub fn run_cut(p: &mut Parser, bytes: &[u8], cuts: &[usize]) -> Output {
    let mut out = Output::default();
    let mut start = 0;
    for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let c = c.clamp(start, bytes.len());
        p.push(&bytes[start..c]);
        start = c;
        collect(p, &mut out, false);
    }
    p.finish();
    collect(p, &mut out, true);
    out
}

/// Parses `bytes` in one chunk.
pub fn run(schema: &str, opts: &str, bytes: &[u8]) -> Output {
    run_cut(&mut parser(schema, opts), bytes, &[])
}

pub fn collect(p: &mut Parser, out: &mut Output, flush: bool) {
    if flush {
        p.flush();
    }
    for b in p.take_batches() {
        out.batch_sizes.push(b.batch.num_rows());
        assert_eq!(b.lines.len(), b.batch.num_rows());
        assert_eq!(b.offsets.len(), b.batch.num_rows());
        out.lines.extend(&b.lines);
        out.offsets.extend(&b.offsets);
        for r in 0..b.batch.num_rows() {
            out.rows.push(
                b.batch
                    .columns()
                    .iter()
                    .map(|c| cell(c.as_ref(), r))
                    .collect(),
            );
        }
    }
    out.rejects.extend(p.take_rejects());
}

pub fn cell(a: &dyn Array, r: usize) -> Cell {
    if a.is_null(r) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Utf8 => Cell::Str(a.as_string::<i32>().value(r).to_string()),
        DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(r)),
        DataType::Timestamp(..) => Cell::Int(a.as_primitive::<TimestampMillisecondType>().value(r)),
        DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(r).to_bits()),
        DataType::Boolean => Cell::Bool(a.as_boolean().value(r)),
        t => panic!("unexpected column type {t}"),
    }
}

/// Short forms for expected cells.
pub fn s(v: &str) -> Cell {
    Cell::Str(v.to_string())
}
pub fn i(v: i64) -> Cell {
    Cell::Int(v)
}
pub fn f(v: f64) -> Cell {
    Cell::Float(v.to_bits())
}
pub fn b(v: bool) -> Cell {
    Cell::Bool(v)
}
pub const N: Cell = Cell::Null;

/// (line, code, field) of each reject.
pub fn codes(out: &Output) -> Vec<(u64, &'static str, Option<String>)> {
    out.rejects
        .iter()
        .map(|r| (r.line, r.code.as_str(), r.field.clone()))
        .collect()
}
