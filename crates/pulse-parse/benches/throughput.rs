//! `cargo bench -p pulse-parse`: one-core parse throughput of the bench's
//! 8-column sensor data, NDJSON and CSV, beside arrow-json's `Decoder` on
//! the same schema and bytes. Prints the median MB/s of several runs.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use arrow_schema::DataType;
use pulse_parse::{Format, ParseOptions, Parser};
use pulse_schema::Schema;

const SCHEMA: &str = r#"{"fields":[
    {"name":"ts","type":"timestamp","nullable":false},
    {"name":"device","type":"string","nullable":false},
    {"name":"site","type":"string","nullable":false},
    {"name":"temperature","type":"float64"},
    {"name":"humidity","type":"float64"},
    {"name":"battery","type":"int64"},
    {"name":"status","type":"string","nullable":false},
    {"name":"user","type":"string"}],"eventTime":"ts"}"#;

/// xorshift64*: a small seeded generator, enough for benchmark data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows shaped like `bench/lib/data.ts`: 1k devices, 20 sites, ~1% nulls.
fn data(rows: usize) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng(42);
    let mut ts = 1_767_225_600_000i64;
    let (mut nd, mut csv) = (
        Vec::new(),
        b"ts,device,site,temperature,humidity,battery,status,user\n".to_vec(),
    );
    let statuses = ["ok", "degraded", "offline", "maintenance"];
    for _ in 0..rows {
        ts += (rng.next() * 200.0) as i64;
        let d = (rng.next() * 1000.0) as u32;
        let temp = (rng.next() >= 0.01)
            .then(|| format!("{}", ((15.0 + rng.next() * 30.0) * 100.0).round() / 100.0));
        let hum =
            (rng.next() >= 0.01).then(|| format!("{}", (rng.next() * 10000.0).round() / 100.0));
        let bat = (rng.next() >= 0.01).then(|| format!("{}", (rng.next() * 101.0) as u32));
        let status = statuses[(rng.next() * rng.next() * 4.0) as usize];
        let user = (rng.next() >= 0.05).then(|| format!("u{}", (rng.next() * 50_000.0) as u32));
        let js = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
        let q = |v: &Option<String>| v.as_ref().map_or("null".into(), |s| format!("\"{s}\""));
        nd.extend(
            format!(
                "{{\"ts\":{ts},\"device\":\"dev-{d}\",\"site\":\"site-{}\",\"temperature\":{},\"humidity\":{},\"battery\":{},\"status\":\"{status}\",\"user\":{}}}\n",
                d % 20, js(&temp), js(&hum), js(&bat), q(&user)
            )
            .as_bytes(),
        );
        let c = |v: &Option<String>| v.clone().unwrap_or_default();
        csv.extend(
            format!(
                "{ts},dev-{d},site-{},{},{},{},{status},{}\n",
                d % 20,
                c(&temp),
                c(&hum),
                c(&bat),
                c(&user)
            )
            .as_bytes(),
        );
    }
    (nd, csv)
}

fn median_mb_s(bytes: usize, runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut secs = Vec::new();
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        rows = f();
        secs.push(t.elapsed().as_secs_f64());
    }
    secs.sort_by(f64::total_cmp);
    (bytes as f64 / 1e6 / secs[runs / 2], rows)
}

/// Feeds `bytes` in 1 MiB chunks, as the batch layer does with S3 streams.
fn pulse(schema: &Arc<Schema>, format: Format, bytes: &[u8]) -> usize {
    let mut p = Parser::new(schema.clone(), ParseOptions::new(format)).unwrap();
    let mut rows = 0;
    for chunk in bytes.chunks(1 << 20) {
        p.push(chunk);
        rows += p
            .take_batches()
            .iter()
            .map(|b| b.batch.num_rows())
            .sum::<usize>();
    }
    p.finish();
    p.flush();
    rows += p
        .take_batches()
        .iter()
        .map(|b| b.batch.num_rows())
        .sum::<usize>();
    assert!(p.take_rejects().is_empty());
    black_box(rows)
}

fn arrow_json(schema: &Arc<Schema>, bytes: &[u8]) -> usize {
    // arrow-json resolves named zones only with chrono-tz; "+00:00" is the same instant.
    let fields: Vec<arrow_schema::Field> = schema
        .arrow_schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(unit, _) => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(*unit, Some("+00:00".into()))),
            _ => f.as_ref().clone(),
        })
        .collect();
    let mut d = arrow_json::ReaderBuilder::new(Arc::new(arrow_schema::Schema::new(fields)))
        .with_batch_size(65_536)
        .build_decoder()
        .unwrap();
    let mut rows = 0;
    for mut chunk in bytes.chunks(1 << 20) {
        while !chunk.is_empty() {
            let n = d.decode(chunk).unwrap();
            chunk = &chunk[n..];
            if !chunk.is_empty() || d.len() >= 65_536 {
                if let Some(b) = d.flush().unwrap() {
                    rows += b.num_rows();
                }
            }
        }
    }
    if let Some(b) = d.flush().unwrap() {
        rows += b.num_rows();
    }
    black_box(rows)
}

fn main() {
    let rows: usize = std::env::var("PULSE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("PULSE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let schema = Arc::new(Schema::from_json(SCHEMA).unwrap());
    // `npm run bench` hands over its own data files, so both sides of its
    // report measure the same bytes; alone, the bench generates its data.
    let (nd, csv) = match (
        std::env::var("PULSE_BENCH_NDJSON"),
        std::env::var("PULSE_BENCH_CSV"),
    ) {
        (Ok(n), Ok(c)) => (std::fs::read(n).unwrap(), std::fs::read(c).unwrap()),
        _ => data(rows),
    };
    let ms = |mb_s: f64, len: usize| len as f64 / 1e6 / mb_s * 1e3;
    let (a, r1) = median_mb_s(nd.len(), runs, || pulse(&schema, Format::Ndjson, &nd));
    let (b, r2) = median_mb_s(nd.len(), runs, || arrow_json(&schema, &nd));
    let (c, r3) = median_mb_s(csv.len(), runs, || pulse(&schema, Format::Csv, &csv));
    assert_eq!(r1, r2);
    assert_eq!(r1, r3);
    if std::env::var("PULSE_BENCH_JSON").is_ok() {
        // One line for bench/suites/parse.ts: median ms per subject.
        println!(
            "{{\"rows\":{r1},\"runs\":{runs},\"ndjsonBytes\":{},\"csvBytes\":{},\"pulseNdjsonMs\":{},\"arrowJsonMs\":{},\"pulseCsvMs\":{}}}",
            nd.len(),
            csv.len(),
            ms(a, nd.len()),
            ms(b, nd.len()),
            ms(c, csv.len())
        );
        return;
    }
    println!(
        "{r1} rows; NDJSON {} MB, CSV {} MB; median of {runs} runs, one core",
        nd.len() / 1_000_000,
        csv.len() / 1_000_000
    );
    println!("ndjson  pulse-parse        {a:8.1} MB/s");
    println!(
        "ndjson  arrow-json Decoder {b:8.1} MB/s   (pulse-parse is {:.2}×)",
        a / b
    );
    println!("csv     pulse-parse        {c:8.1} MB/s");
}
