//! Where the fused pipeline's time goes, stage by stage, without napi:
//! `PULSE_BENCH_SPEC=spec.json PULSE_BENCH_INPUT=data.ndjson cargo bench -p pulse-core --bench stages`.
//! Prints the median of each stage over `PULSE_BENCH_RUNS` runs (default 7).

use std::time::Instant;

use pulse_core::ipc::encode_stream;
use pulse_core::pipeline::{Pipeline, PipelineSpec};
use pulse_core::window::Query;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// A count from the environment, or `default`.
fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (Ok(spec), Ok(input)) = (
        std::env::var("PULSE_BENCH_SPEC"),
        std::env::var("PULSE_BENCH_INPUT"),
    ) else {
        eprintln!(
            "set PULSE_BENCH_SPEC (pipeline spec JSON file) and PULSE_BENCH_INPUT (data file)"
        );
        return;
    };
    let runs = env_count("PULSE_BENCH_RUNS", 7);
    let repeat = env_count("PULSE_BENCH_QUERY_REPEAT", 1);
    let spec = PipelineSpec::from_json(&std::fs::read_to_string(spec).unwrap()).unwrap();
    let bytes = std::fs::read(input).unwrap();
    let view = spec.views.first().map(|v| v.name.clone());
    let stages = ["push", "query", "ipc encode", "drop"];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); stages.len()];
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut p = Pipeline::new(spec.clone()).unwrap();
        p.push(&bytes).unwrap();
        p.finish().unwrap();
        let t1 = Instant::now();
        // PULSE_BENCH_QUERY_REPEAT > 1 repeats the query (to profile it alone).
        for _ in 1..repeat {
            if let Some(v) = &view {
                p.query(v, &Query::default()).unwrap();
            }
        }
        let batch = view
            .as_ref()
            .map(|v| p.query(v, &Query::default()).unwrap());
        let t2 = Instant::now();
        let ipc = batch.map(|b| encode_stream(&b.schema(), &[b]).unwrap());
        let t3 = Instant::now();
        drop(p);
        drop(ipc);
        let t4 = Instant::now();
        for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3].into_iter().enumerate() {
            times[i].push(d.as_secs_f64() * 1e3);
        }
    }
    let mut total = 0.0;
    for (name, t) in stages.iter().zip(times) {
        let m = median(t);
        total += m;
        println!("{name:>12}: {m:7.1} ms");
    }
    println!(
        "{:>12}: {total:7.1} ms ({} bytes, median of {runs} runs)",
        "sum",
        bytes.len()
    );
}
