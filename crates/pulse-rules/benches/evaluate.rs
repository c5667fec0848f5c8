//! `cargo bench -p pulse-rules`: `RuleSet::evaluate` alone (no IPC, no
//! napi) on 1M sensor-like rows, the rule set of `bench/suites/rules.ts`.
//! Prints the median of several runs as rows/s and rule evaluations/s.

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use pulse_rules::{RuleSet, RulesSpec};

const ROWS: usize = 1_000_000;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("device", DataType::Utf8, false),
        Field::new("site", DataType::Utf8, false),
        Field::new("temperature", DataType::Float64, true),
        Field::new("humidity", DataType::Float64, true),
        Field::new("battery", DataType::Int64, true),
        Field::new("status", DataType::Utf8, false),
        Field::new("user", DataType::Utf8, true),
    ]))
}

/// Seeded readings shaped like `bench/lib/data.ts`: 1k devices, 20 sites, ~1% nulls.
fn readings() -> RecordBatch {
    let mut x: u64 = 42;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut ts = 1_767_225_600_000i64;
    let (mut t, mut dev, mut site, mut temp, mut hum, mut bat, mut st, mut user) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for _ in 0..ROWS {
        ts += (next() % 200) as i64;
        let d = next() % 1000;
        t.push(ts);
        dev.push(format!("dev-{d}"));
        site.push(format!("site-{}", d % 20));
        temp.push((next() % 100 != 0).then(|| 15.0 + (next() % 3000) as f64 / 100.0));
        hum.push((next() % 100 != 0).then(|| (next() % 10000) as f64 / 100.0));
        bat.push((next() % 100 != 0).then(|| (next() % 101) as i64));
        st.push(["ok", "ok", "degraded", "offline", "maintenance"][(next() % 5) as usize]);
        user.push((next() % 20 != 0).then(|| format!("u{}", next() % 50_000)));
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(t).with_timezone("UTC")),
        Arc::new(StringArray::from(dev)),
        Arc::new(StringArray::from(site)),
        Arc::new(Float64Array::from(temp)),
        Arc::new(Float64Array::from(hum)),
        Arc::new(Int64Array::from(bat)),
        Arc::new(StringArray::from(st)),
        Arc::new(StringArray::from(user)),
    ];
    RecordBatch::try_new(schema(), cols).expect("valid batch")
}

const BASIC: &str = r#"
  { "id": "temperature_present", "field": "temperature", "required": true, "severity": "warn" },
  { "id": "temperature_range", "field": "temperature", "range": { "min": -40, "max": 85 } },
  { "id": "humidity_range", "field": "humidity", "range": { "min": 0, "max": 100 } },
  { "id": "battery_range", "field": "battery", "range": { "min": 0, "max": 100 } },
  { "id": "status_known", "field": "status", "in": ["ok", "degraded", "offline", "maintenance"] },
  { "id": "site_known", "field": "site", "in": ["site-0","site-1","site-2","site-3","site-4","site-5","site-6","site-7","site-8","site-9","site-10","site-11","site-12","site-13","site-14","site-15","site-16","site-17","site-18","site-19"] },
  { "id": "recent", "field": "ts", "range": { "min": "2025-12-31T00:00:00Z" } }"#;
const DEVICE: &str = r#"{ "id": "device_shape", "field": "device", "regex": "^dev-[0-9]+$" }"#;
const USER: &str =
    r#"{ "id": "user_shape", "field": "user", "regex": "^u[0-9]{1,5}$", "severity": "warn" }"#;
const EXPR: &str = r#"{ "id": "battery_sane", "expr": "not (status = 'ok' and battery < 3) or temperature is null", "severity": "warn" }"#;
const DERIVE: &str = r#"[{ "column": "health", "default": "check", "cases": [
  { "when": "battery < 10", "set": "battery_low" },
  { "when": "temperature > 40 or humidity > 90", "set": "hot" },
  { "when": "status = 'ok'", "set": "healthy" } ] }]"#;

fn run(name: &str, spec: &str, checks: usize, batch: &RecordBatch) {
    let spec = RulesSpec::from_json(spec).expect("bench spec parses");
    let rules = RuleSet::compile(&batch.schema(), &spec).expect("bench spec compiles");
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let t0 = Instant::now();
            let ev = rules.evaluate(batch).expect("evaluates");
            std::hint::black_box(ev.valid.num_rows());
            t0.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let rows_per_s = ROWS as f64 / median;
    println!(
        "{name:<34} {:>8.2} ms  {:>7.1} M rows/s  {:>7.1} M rule evaluations/s",
        median * 1e3,
        rows_per_s / 1e6,
        rows_per_s * checks as f64 / 1e6
    );
}

fn main() {
    let batch = readings();
    println!("RuleSet::evaluate on {ROWS} rows (median of 7)");
    let full =
        format!(r#"{{ "checks": [{BASIC}, {DEVICE}, {USER}, {EXPR}], "derive": {DERIVE} }}"#);
    run("10 checks + derivation", &full, 10, &batch);
    run(
        "10 checks",
        &format!(r#"{{ "checks": [{BASIC}, {DEVICE}, {USER}, {EXPR}] }}"#),
        10,
        &batch,
    );
    run(
        "null/range/enum checks only",
        &format!(r#"{{ "checks": [{BASIC}] }}"#),
        7,
        &batch,
    );
    run(
        "device_shape alone",
        &format!(r#"{{ "checks": [{DEVICE}] }}"#),
        1,
        &batch,
    );
    run(
        "user_shape alone",
        &format!(r#"{{ "checks": [{USER}] }}"#),
        1,
        &batch,
    );
    run(
        "battery_sane alone",
        &format!(r#"{{ "checks": [{EXPR}] }}"#),
        1,
        &batch,
    );
    run(
        "derivation alone",
        &format!(r#"{{ "derive": {DERIVE} }}"#),
        0,
        &batch,
    );
}
