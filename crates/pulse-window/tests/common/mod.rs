//! Shared test fixtures: a sensor-like schema, event generators with nulls,
//! batch building, and a direct (one pass over the raw events) aggregation
//! that window states must agree with.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use proptest::prelude::*;
use pulse_window::sketch::{DdSketch, DdSketchConfig, HyperLogLog};
use pulse_window::{ExactSum, Query, StateOptions, ViewSpec, ViewState};
use xxhash_rust::xxh3::xxh3_64;

/// One raw event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub ts: i64,
    pub dev: Option<String>,
    pub site: Option<i64>,
    pub temp: Option<f64>,
    pub amount: Option<i64>,
    pub user: Option<String>,
    pub flag: Option<bool>,
}

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("dev", DataType::Utf8, true),
        Field::new("site", DataType::Int64, true),
        Field::new("temp", DataType::Float64, true),
        Field::new("amount", DataType::Int64, true),
        Field::new("user", DataType::Utf8, true),
        Field::new("flag", DataType::Boolean, true),
    ]))
}

pub fn batch(events: &[Event]) -> RecordBatch {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMillisecondArray::from_iter_values(events.iter().map(|e| e.ts))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter(events.iter().map(|e| e.dev.clone()))),
        Arc::new(Int64Array::from_iter(events.iter().map(|e| e.site))),
        Arc::new(Float64Array::from_iter(events.iter().map(|e| e.temp))),
        Arc::new(Int64Array::from_iter(events.iter().map(|e| e.amount))),
        Arc::new(StringArray::from_iter(
            events.iter().map(|e| e.user.clone()),
        )),
        Arc::new(BooleanArray::from_iter(events.iter().map(|e| e.flag))),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

/// Events between `base` and `base + span` (ms), nulls in every nullable field.
pub fn event(base: i64, span: i64) -> impl Strategy<Value = Event> {
    let temp = prop_oneof![
        12 => -50.0f64..50.0,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(1.0e15),
        1 => Just(-3.0e-12),
    ];
    // Half the times sit on a 10 s grid, so events exactly one gap apart
    // and events exactly on pane edges are common.
    let dt = prop_oneof![0..span, (0..span / 10_000).prop_map(|k| k * 10_000)];
    (
        dt,
        proptest::option::weighted(0.9, prop_oneof![Just("a"), Just("b"), Just("c"), Just("d")]),
        proptest::option::weighted(0.8, 0..3i64),
        proptest::option::weighted(0.85, temp),
        proptest::option::weighted(0.85, -1_000_000i64..1_000_000),
        proptest::option::weighted(0.9, 0..40u32),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(move |(dt, dev, site, temp, amount, user, flag)| Event {
            ts: base + dt,
            dev: dev.map(str::to_string),
            site,
            temp,
            amount,
            user: user.map(|u| format!("u{u}")),
            flag,
        })
}

/// Every measure kind, over int, float, string and timestamp fields.
pub const MEASURES: &str = r#"[
    { "name": "n", "op": "count" },
    { "name": "n_temp", "op": "count", "field": "temp" },
    { "name": "total", "op": "sum", "field": "amount" },
    { "name": "tsum", "op": "sum", "field": "temp" },
    { "name": "lo", "op": "min", "field": "temp" },
    { "name": "hi", "op": "max", "field": "amount" },
    { "name": "mean", "op": "avg", "field": "temp" },
    { "name": "mean_i", "op": "avg", "field": "amount" },
    { "name": "users", "op": "distinct", "field": "user", "precision": 10 },
    { "name": "p90", "op": "quantile", "field": "temp", "q": 0.9, "relativeAccuracy": 0.02 },
    { "name": "first_ts", "op": "min", "field": "ts" }
]"#;

pub fn view_json(window: &str, group_by: &[&str]) -> String {
    let groups: Vec<String> = group_by.iter().map(|g| format!("\"{g}\"")).collect();
    format!(
        r#"{{ "name": "v", "window": {window}, "groupBy": [{}], "measures": {MEASURES} }}"#,
        groups.join(",")
    )
}

pub fn new_state(view: &str, lateness: Option<i64>) -> ViewState {
    ViewState::new(
        schema(),
        "ts",
        ViewSpec::from_json(view).unwrap(),
        StateOptions {
            allowed_lateness_ms: lateness,
        },
    )
    .unwrap()
}

/// A state fed `events` in batches of the given sizes (cycled).
pub fn state_of(view: &str, events: &[Event], chunks: &[usize]) -> ViewState {
    let mut s = new_state(view, None);
    let mut at = 0;
    let mut k = 0;
    while at < events.len() {
        let n = chunks
            .get(k % chunks.len().max(1))
            .copied()
            .unwrap_or(events.len())
            .max(1);
        let end = (at + n).min(events.len());
        s.update(&batch(&events[at..end]), None).unwrap();
        at = end;
        k += 1;
    }
    s
}

/// Formats every row of a query result as text (floats by their bits), so
/// comparisons are exact and failures readable.
pub fn rows(b: &RecordBatch) -> Vec<String> {
    (0..b.num_rows())
        .map(|r| {
            b.columns()
                .iter()
                .map(|c| cell(c, r))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

fn cell(c: &ArrayRef, r: usize) -> String {
    if c.is_null(r) {
        return "null".into();
    }
    match c.data_type() {
        DataType::Timestamp(..) => format!(
            "t:{}",
            c.as_primitive::<TimestampMillisecondType>().value(r)
        ),
        DataType::Int64 => format!("i:{}", c.as_primitive::<Int64Type>().value(r)),
        DataType::Float64 => fmt_f(c.as_primitive::<Float64Type>().value(r)),
        DataType::Utf8 => format!("s:{}", c.as_string::<i32>().value(r)),
        DataType::Boolean => format!("b:{}", c.as_boolean().value(r)),
        other => panic!("unexpected output type {other}"),
    }
}

fn fmt_f(v: f64) -> String {
    format!("f:{v:?}/{:x}", v.to_bits())
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "null".into(), f)
}

/// Output column values of the test measures over one window's events,
/// computed directly from the events.
pub fn direct_measures(events: &[&Event]) -> Vec<String> {
    let temps: Vec<f64> = events.iter().filter_map(|e| e.temp).collect();
    let amounts: Vec<i64> = events.iter().filter_map(|e| e.amount).collect();
    let mut tsum = ExactSum::default();
    temps.iter().for_each(|&t| tsum.add(t));
    let isum: i128 = amounts.iter().map(|&a| a as i128).sum();
    let lo = temps
        .iter()
        .copied()
        .filter(|t| !t.is_nan())
        .min_by(f64::total_cmp);
    let mut hll = HyperLogLog::new(10);
    for e in events {
        if let Some(u) = &e.user {
            hll.insert_hash(xxh3_64(u.as_bytes()));
        }
    }
    let cfg = DdSketchConfig::new(0.02);
    let mut dd = DdSketch::default();
    temps
        .iter()
        .filter(|t| t.is_finite())
        .for_each(|&t| dd.insert(t, &cfg));
    let some_t = !temps.is_empty();
    let some_a = !amounts.is_empty();
    vec![
        format!("i:{}", events.len()),
        format!("i:{}", temps.len()),
        if some_a {
            format!("i:{}", i64::try_from(isum).unwrap())
        } else {
            "null".into()
        },
        if some_t {
            fmt_f(tsum.value())
        } else {
            "null".into()
        },
        opt(lo, fmt_f),
        opt(amounts.iter().max().copied(), |v| format!("i:{v}")),
        if some_t {
            fmt_f(tsum.value() / temps.len() as f64)
        } else {
            "null".into()
        },
        if some_a {
            fmt_f(isum as f64 / amounts.len() as f64)
        } else {
            "null".into()
        },
        format!("i:{}", hll.estimate()),
        opt(dd.quantile(0.9, &cfg), fmt_f),
        opt(events.iter().map(|e| e.ts).min(), |v| format!("t:{v}")),
    ]
}

/// The group key of an event for `group_by` (subset of dev, site, flag),
/// formatted like query output; sorts like Arrow's row format (nulls first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyPart {
    Str(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

pub fn key_of(e: &Event, group_by: &[&str]) -> Vec<KeyPart> {
    group_by
        .iter()
        .map(|g| match *g {
            "dev" => KeyPart::Str(e.dev.clone()),
            "site" => KeyPart::Int(e.site),
            "flag" => KeyPart::Bool(e.flag),
            other => panic!("no group field {other}"),
        })
        .collect()
}

fn fmt_key(k: &[KeyPart]) -> Vec<String> {
    k.iter()
        .map(|p| match p {
            KeyPart::Str(v) => opt(v.clone(), |s| format!("s:{s}")),
            KeyPart::Int(v) => opt(*v, |i| format!("i:{i}")),
            KeyPart::Bool(v) => opt(*v, |b| format!("b:{b}")),
        })
        .collect()
}

/// Windows of a direct computation: `(start, key) → (end, events)`.
pub type DirectWindows<'a> = BTreeMap<(i64, Vec<KeyPart>), (i64, Vec<&'a Event>)>;

/// Direct answer rows for windows given as `(start, key) → (end, events)`.
pub fn direct_rows(windows: DirectWindows<'_>) -> Vec<String> {
    windows
        .into_iter()
        .map(|((start, key), (end, evs))| {
            let mut cells = vec![format!("t:{start}"), format!("t:{end}")];
            cells.extend(fmt_key(&key));
            cells.extend(direct_measures(&evs));
            cells.join(" | ")
        })
        .collect()
}

/// Tumbling or hopping windows computed from the events.
pub fn direct_hopping(events: &[Event], size: i64, slide: i64, group_by: &[&str]) -> Vec<String> {
    let mut w = DirectWindows::new();
    for e in events {
        let mut s = e.ts - e.ts.rem_euclid(slide);
        while s > e.ts - size {
            w.entry((s, key_of(e, group_by)))
                .or_insert((s + size, Vec::new()))
                .1
                .push(e);
            s -= slide;
        }
    }
    direct_rows(w)
}

/// Sessions computed from the events: per key, sorted times split where
/// the next event is `gap` or more after the previous one.
pub fn direct_sessions(events: &[Event], gap: i64, group_by: &[&str]) -> Vec<String> {
    let mut by_key: BTreeMap<Vec<KeyPart>, Vec<&Event>> = BTreeMap::new();
    for e in events {
        by_key.entry(key_of(e, group_by)).or_default().push(e);
    }
    let mut w = DirectWindows::new();
    for (key, mut evs) in by_key {
        evs.sort_by_key(|e| e.ts);
        let mut current: Vec<&Event> = Vec::new();
        for e in evs {
            if let Some(last) = current.last() {
                if e.ts - last.ts >= gap {
                    let start = current[0].ts;
                    let end = current.last().unwrap().ts + gap;
                    w.insert((start, key.clone()), (end, std::mem::take(&mut current)));
                }
            }
            current.push(e);
        }
        if !current.is_empty() {
            let start = current[0].ts;
            let end = current.last().unwrap().ts + gap;
            w.insert((start, key.clone()), (end, current));
        }
    }
    direct_rows(w)
}

pub fn all(state: &ViewState) -> Vec<String> {
    rows(&state.query(&Query::default()).unwrap())
}
