use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use pulse_window::{StateOptions, ViewSpec, ViewState};

fn main() {
    let n = 1_000_000usize;
    let mut seed = 42u64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut ts = 1_767_225_600_000i64;
    let mut t = Vec::with_capacity(n);
    let mut dev = Vec::with_capacity(n);
    let mut temp = Vec::with_capacity(n);
    let mut bat = Vec::with_capacity(n);
    let mut user = Vec::with_capacity(n);
    for _ in 0..n {
        ts += (rnd() * 200.0) as i64;
        t.push(ts);
        dev.push(format!("dev-{}", (rnd() * 1000.0) as u32));
        temp.push(if rnd() < 0.01 {
            None
        } else {
            Some(15.0 + rnd() * 30.0)
        });
        bat.push(if rnd() < 0.01 {
            None
        } else {
            Some((rnd() * 101.0) as i64)
        });
        user.push(if rnd() < 0.05 {
            None
        } else {
            Some(format!("u{}", (rnd() * 50000.0) as u32))
        });
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("device", DataType::Utf8, false),
        Field::new("temperature", DataType::Float64, true),
        Field::new("battery", DataType::Int64, true),
        Field::new("user", DataType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(t).with_timezone("UTC")),
        Arc::new(StringArray::from(dev)),
        Arc::new(Float64Array::from(temp)),
        Arc::new(Int64Array::from(bat)),
        Arc::new(StringArray::from(user)),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let which = std::env::args().nth(1).unwrap_or_default();
    let measures = match which.as_str() {
        "count" => r#"[{"op":"count"}]"#,
        "simple" => {
            r#"[{"op":"count"},{"op":"sum","field":"battery"},{"op":"avg","field":"temperature"},{"op":"max","field":"temperature"}]"#
        }
        "distinct" => r#"[{"op":"distinct","field":"user"}]"#,
        "quantile" => r#"[{"op":"quantile","field":"temperature","q":0.95}]"#,
        _ => {
            r#"[{"op":"count"},{"op":"sum","field":"battery"},{"op":"avg","field":"temperature"},{"op":"max","field":"temperature"},{"op":"distinct","field":"user"},{"op":"quantile","field":"temperature","q":0.95}]"#
        }
    };
    let view = format!(
        r#"{{"name":"v","window":{{"type":"tumbling","sizeMs":60000}},"groupBy":["device"],"measures":{measures}}}"#
    );
    for _ in 0..5 {
        let mut s = ViewState::new(
            schema.clone(),
            "ts",
            ViewSpec::from_json(&view).unwrap(),
            StateOptions::default(),
        )
        .unwrap();
        let t0 = Instant::now();
        for off in (0..n).step_by(65536) {
            let len = 65536.min(n - off);
            s.update(&batch.slice(off, len), None).unwrap();
        }
        let dt = t0.elapsed();
        let st = s.stats();
        println!(
            "{which}: {:.1} ms, {:.2} M rows/s, panes {}, keys {}, ~{} MB",
            dt.as_secs_f64() * 1e3,
            n as f64 / dt.as_secs_f64() / 1e6,
            st.panes,
            st.keys,
            st.approx_bytes >> 20
        );
        let tq = Instant::now();
        let out = s.query(&pulse_window::Query::default()).unwrap();
        println!(
            "  query {:.1} ms, {} rows",
            tq.elapsed().as_secs_f64() * 1e3,
            out.num_rows()
        );
        let ts = Instant::now();
        let snap = s.snapshot().unwrap();
        println!(
            "  snapshot {:.1} ms, {} MB",
            ts.elapsed().as_secs_f64() * 1e3,
            snap.len() >> 20
        );
        let t1 = Instant::now();
        drop(s);
        println!("  drop {:.1} ms", t1.elapsed().as_secs_f64() * 1e3);
    }
}
