//! Example-based tests: query semantics (filters, limits, rollups, session
//! ends), lateness accounting, eviction, and clear errors for bad input,
//! bad queries and bad snapshots.

mod common;

use std::sync::Arc;

use arrow_array::{BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use common::*;
use pulse_window::{Query, StateOptions, ViewSpec, ViewState, WindowError};

fn ev(ts: i64, dev: Option<&str>, amount: Option<i64>) -> Event {
    Event {
        ts,
        dev: dev.map(str::to_string),
        site: Some(1),
        temp: amount.map(|a| a as f64 / 4.0),
        amount,
        user: dev.map(|d| format!("user-{d}")),
        flag: Some(amount.is_some_and(|a| a % 2 == 0)),
    }
}

fn tumbling() -> String {
    view_json(r#"{"type":"tumbling","sizeMs":60000}"#, &["dev"])
}

fn query(s: &ViewState, q: &str) -> Result<Vec<String>, WindowError> {
    Ok(rows(&s.query(&Query::from_json(q).unwrap())?))
}

#[test]
fn tumbling_rows_are_sorted_by_start_then_key_with_nulls_first() {
    let s = state_of(
        &tumbling(),
        &[
            ev(61_000, Some("b"), Some(1)),
            ev(1_000, Some("b"), Some(2)),
            ev(2_000, None, Some(3)),
            ev(3_000, Some("a"), None),
        ],
        &[4],
    );
    let out = query(&s, "{}").unwrap();
    let heads: Vec<String> = out
        .iter()
        .map(|r| r.split(" | ").take(4).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        heads,
        vec![
            "t:0 t:60000 null i:1",
            "t:0 t:60000 s:a i:1",
            "t:0 t:60000 s:b i:1",
            "t:60000 t:120000 s:b i:1"
        ]
    );
    let schema = s.query_schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(&names[..4], &["window_start", "window_end", "dev", "n"]);
    assert_eq!(
        schema.field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    assert_eq!(
        schema.field_with_name("first_ts").unwrap().data_type(),
        schema.field(0).data_type()
    );
    assert_eq!(
        schema.field_with_name("total").unwrap().data_type(),
        &DataType::Int64
    );
    assert_eq!(
        schema.field_with_name("mean_i").unwrap().data_type(),
        &DataType::Float64
    );
}

/// Keys sharing their first encoded bytes (the sort's eight-byte prefix)
/// still come out in byte order, in every kind of window.
#[test]
fn keys_with_long_shared_prefixes_sort_by_their_bytes() {
    let devs = [
        "sensor-b-long",
        "sensor-a-long",
        "sensor-a",
        "sensor-ab",
        "sensor-",
        "sensor-a-lon",
        "sensor-a-longer-still-past-one-block-of-thirty-two-bytes",
        "sensor-a-longer-still-past-one-block-of-thirty-two-bytez",
    ];
    let evs: Vec<Event> = devs
        .iter()
        .enumerate()
        .map(|(i, d)| ev(1_000 + i as i64, Some(d), Some(1)))
        .collect();
    let mut want: Vec<String> = devs.iter().map(|d| format!("s:{d}")).collect();
    want.sort();
    for window in [
        r#"{"type":"tumbling","sizeMs":60000}"#,
        r#"{"type":"hopping","sizeMs":60000,"slideMs":60000}"#,
    ] {
        let s = state_of(&view_json(window, &["dev"]), &evs, &[3]);
        let got: Vec<String> = query(&s, "{}")
            .unwrap()
            .iter()
            .map(|r| r.split(" | ").nth(2).unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{window}");
        let limited: Vec<String> = query(&s, r#"{"limit":3}"#)
            .unwrap()
            .iter()
            .map(|r| r.split(" | ").nth(2).unwrap().to_string())
            .collect();
        assert_eq!(limited, want[..3], "{window}");
    }
}

#[test]
fn query_range_filters_and_limit() {
    let evs: Vec<Event> = (0..10)
        .map(|i| ev(i * 60_000 + 5, Some(["a", "b"][i as usize % 2]), Some(i)))
        .collect();
    let s = state_of(&tumbling(), &evs, &[3]);
    assert_eq!(
        query(&s, r#"{"from":120000,"to":300000}"#).unwrap().len(),
        3
    );
    let only_a = query(&s, r#"{"groups":{"dev":"a"}}"#).unwrap();
    assert_eq!(only_a.len(), 5);
    assert!(only_a.iter().all(|r| r.contains("| s:a |")));
    assert_eq!(query(&s, r#"{"groups":[["dev","zzz"]]}"#).unwrap().len(), 0);
    let limited = query(&s, r#"{"limit":2}"#).unwrap();
    assert_eq!(limited, query(&s, "{}").unwrap()[..2].to_vec());
    // Rollup to 5 minutes: two buckets per device.
    let rolled = query(&s, r#"{"granularityMs":300000}"#).unwrap();
    assert_eq!(rolled.len(), 4);
    assert!(rolled[0].starts_with("t:0 | t:300000 | s:a | i:3"));
}

#[test]
fn filters_are_typed_by_the_group_field() {
    let view = view_json(r#"{"type":"tumbling","sizeMs":60000}"#, &["site", "flag"]);
    let s = state_of(
        &view,
        &[ev(0, Some("a"), Some(2)), ev(1, Some("a"), Some(3))],
        &[2],
    );
    assert_eq!(
        query(&s, r#"{"groups":{"site":"1","flag":"true"}}"#)
            .unwrap()
            .len(),
        1
    );
    let err = |q: &str| query(&s, q).unwrap_err().to_string();
    assert!(err(r#"{"groups":{"site":"one"}}"#).contains("value 'one' for 'site' is not an int64"));
    assert!(err(r#"{"groups":{"flag":"yes"}}"#).contains("not true or false"));
    assert!(err(r#"{"groups":{"dev":"a"}}"#).contains("'dev' is not a group field"));
    assert!(err(r#"{"from":10,"to":5}"#).contains("from (10) is after to (5)"));
    assert!(err(r#"{"granularityMs":90000}"#).contains("multiple of the window size 60000"));
    let hop = state_of(
        &view_json(r#"{"type":"hopping","sizeMs":120000,"slideMs":60000}"#, &[]),
        &[ev(0, None, None)],
        &[1],
    );
    assert!(hop
        .query(&Query {
            granularity_ms: Some(120_000),
            ..Query::default()
        })
        .unwrap_err()
        .to_string()
        .contains("tumbling views only"));
    assert!(Query::from_json(r#"{"form":1}"#)
        .unwrap_err()
        .contains("unknown field"));
}

#[test]
fn timestamp_group_filters_take_iso_or_epoch() {
    let view = r#"{"name":"by_ts","window":{"type":"tumbling","sizeMs":60000},"groupBy":["ts"],"measures":[{"op":"count"}]}"#;
    let s = state_of(view, &[ev(1_000, None, None), ev(2_000, None, None)], &[2]);
    assert_eq!(
        query(&s, r#"{"groups":{"ts":"1970-01-01T00:00:01Z"}}"#)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(query(&s, r#"{"groups":{"ts":"2000"}}"#).unwrap().len(), 1);
    assert!(query(&s, r#"{"groups":{"ts":"yesterday"}}"#).is_err());
}

#[test]
fn session_end_is_last_event_plus_gap_and_joins_across_cells() {
    let view = view_json(
        r#"{"type":"session","gapMs":30000,"alignMs":60000}"#,
        &["dev"],
    );
    // 50 s, 70 s, 95 s: one session across the 60 s cell edge; 200 s alone.
    let s = state_of(
        &view,
        &[
            ev(95_000, Some("a"), Some(1)),
            ev(50_000, Some("a"), Some(1)),
            ev(200_000, Some("a"), Some(1)),
            ev(70_000, Some("a"), Some(1)),
        ],
        &[1],
    );
    let out = query(&s, "{}").unwrap();
    assert_eq!(out.len(), 2);
    assert!(
        out[0].starts_with("t:50000 | t:125000 | s:a | i:3"),
        "{}",
        out[0]
    );
    assert!(
        out[1].starts_with("t:200000 | t:230000 | s:a | i:1"),
        "{}",
        out[1]
    );
    // Sessions are selected by their start.
    assert_eq!(query(&s, r#"{"from":60000}"#).unwrap().len(), 1);
    assert_eq!(s.alignment_ms(), 60_000);
}

#[test]
fn late_rows_are_counted_returned_and_not_applied() {
    let mut s = new_state(&tumbling(), Some(10_000));
    let out = s
        .update(
            &batch(&[
                ev(100_000, Some("a"), Some(1)),
                ev(95_000, Some("a"), Some(1)),
                ev(80_000, Some("a"), Some(1)),
            ]),
            None,
        )
        .unwrap();
    assert_eq!(out.applied, 2);
    assert_eq!(out.late_rows, vec![2]);
    let out = s
        .update(
            &batch(&[ev(89_999, Some("b"), None), ev(90_000, Some("b"), None)]),
            None,
        )
        .unwrap();
    assert_eq!(
        out.late_rows,
        vec![0],
        "exactly watermark − lateness is on time"
    );
    assert_eq!(s.watermark(), Some(100_000));
    let stats = s.stats();
    assert_eq!((stats.applied_rows, stats.late_rows), (3, 2));
    // Without lateness (batch) nothing is late.
    let mut b = new_state(&tumbling(), None);
    assert!(b
        .update(&batch(&[ev(100_000, None, None), ev(0, None, None)]), None)
        .unwrap()
        .late_rows
        .is_empty());
}

#[test]
fn masks_select_rows_and_null_mask_entries_are_false() {
    let mut s = new_state(&tumbling(), None);
    let evs = [
        ev(1, Some("a"), Some(1)),
        ev(2, Some("a"), Some(2)),
        ev(3, Some("a"), Some(4)),
    ];
    let mask = BooleanArray::from(vec![Some(true), None, Some(false)]);
    assert_eq!(s.update(&batch(&evs), Some(&mask)).unwrap().applied, 1);
    assert!(query(&s, "{}").unwrap()[0].contains("| i:1 | i:1 | i:1 |"));
    let short = BooleanArray::from(vec![true]);
    assert!(s
        .update(&batch(&evs), Some(&short))
        .unwrap_err()
        .to_string()
        .contains("mask has 1 rows, the batch has 3"));
}

#[test]
fn refused_batches_change_nothing() {
    let mut s = new_state(&tumbling(), Some(0));
    s.update(&batch(&[ev(5, Some("a"), Some(1))]), None)
        .unwrap();
    let before = s.snapshot().unwrap();
    // Wrong column type.
    let bad_schema = Arc::new(Schema::new(vec![Field::new("ts", DataType::Int64, false)]));
    let bad = RecordBatch::try_new(bad_schema, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
    assert!(s
        .update(&bad, None)
        .unwrap_err()
        .to_string()
        .contains("batch has 1 columns"));
    let mut cols = batch(&[ev(6, Some("a"), Some(1))]).columns().to_vec();
    cols[1] = Arc::new(Int64Array::from(vec![1]));
    let fields: Vec<Field> = schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == 1 {
                Field::new("dev", DataType::Int64, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let wrong = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    assert!(s
        .update(&wrong, None)
        .unwrap_err()
        .to_string()
        .contains("column 1 ('dev') is Int64, the input schema says Utf8"));
    // Out-of-range event time after good rows: the whole batch is refused.
    let far = batch(&[
        ev(7, Some("a"), Some(1)),
        ev(9_000_000_000_000_000, Some("a"), Some(1)),
    ]);
    assert!(s
        .update(&far, None)
        .unwrap_err()
        .to_string()
        .contains("outside"));
    // A null event time (the parser never emits one; a caller might).
    let nullable = Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("dev", DataType::Utf8, true),
    ]));
    let mut n = ViewState::new(nullable.clone(), "ts", ViewSpec::from_json(r#"{"name":"n","window":{"type":"tumbling","sizeMs":10},"groupBy":["dev"],"measures":[{"op":"count"}]}"#).unwrap(), StateOptions::default()).unwrap();
    let b = RecordBatch::try_new(
        nullable,
        vec![
            Arc::new(TimestampMillisecondArray::from(vec![Some(1), None]).with_timezone("UTC")),
            Arc::new(StringArray::from(vec!["x", "y"])),
        ],
    )
    .unwrap();
    assert!(n
        .update(&b, None)
        .unwrap_err()
        .to_string()
        .contains("event time 'ts' is null at row 1"));
    assert_eq!(n.stats().applied_rows, 0);
    assert_eq!(s.snapshot().unwrap(), before);
}

#[test]
fn views_that_do_not_fit_the_schema_are_refused() {
    let mk = |view: &str| {
        ViewState::new(
            schema(),
            "ts",
            ViewSpec::from_json(view).unwrap(),
            StateOptions::default(),
        )
        .unwrap_err()
        .to_string()
    };
    let v = |group: &str, measure: &str| {
        format!(
            r#"{{"name":"x","window":{{"type":"tumbling","sizeMs":10}},"groupBy":[{group}],"measures":[{measure}]}}"#
        )
    };
    assert!(mk(&v(r#""nope""#, r#"{"op":"count"}"#)).contains("groupBy[0]: unknown field 'nope'"));
    assert!(mk(&v("", r#"{"op":"sum","field":"dev"}"#))
        .contains("sum needs a numeric or timestamp field, 'dev' is string"));
    assert!(mk(&v("", r#"{"op":"avg","field":"flag"}"#)).contains("'flag' is bool"));
    assert!(mk(&v("", r#"{"op":"max","field":"missing"}"#))
        .contains("measures[0].field: unknown field 'missing'"));
    let no_et = ViewState::new(
        schema(),
        "dev",
        ViewSpec::from_json(&v("", r#"{"op":"count"}"#)).unwrap(),
        StateOptions::default(),
    );
    assert!(no_et
        .unwrap_err()
        .to_string()
        .contains("event-time field 'dev' must be a millisecond timestamp"));
    let neg = ViewState::new(
        schema(),
        "ts",
        ViewSpec::from_json(&v("", r#"{"op":"count"}"#)).unwrap(),
        StateOptions {
            allowed_lateness_ms: Some(-1),
        },
    );
    assert!(neg
        .unwrap_err()
        .to_string()
        .contains("allowedLatenessMs: must not be negative"));
}

#[test]
fn merge_refuses_other_definitions() {
    let mut a = new_state(&tumbling(), None);
    let b = new_state(
        &view_json(r#"{"type":"tumbling","sizeMs":120000}"#, &["dev"]),
        None,
    );
    assert!(a
        .merge(&b)
        .unwrap_err()
        .to_string()
        .contains("cannot merge: definition"));
    // Renaming the view keeps the definition (and its snapshots) valid.
    let renamed = tumbling().replace(r#""name": "v""#, r#""name": "renamed""#);
    assert_ne!(renamed, tumbling());
    assert_eq!(
        new_state(&renamed, None).definition_hash(),
        a.definition_hash()
    );
    assert_eq!(a.definition_hash().len(), 32);
}

#[test]
fn restore_checks_version_hash_and_bytes() {
    let s = state_of(&tumbling(), &[ev(5, Some("a"), Some(1))], &[1]);
    let bytes = s.snapshot().unwrap();
    let restore = |view: &str, bytes: &[u8]| {
        ViewState::restore(
            schema(),
            "ts",
            ViewSpec::from_json(view).unwrap(),
            StateOptions::default(),
            bytes,
        )
    };
    let other = view_json(r#"{"type":"tumbling","sizeMs":120000}"#, &["dev"]);
    assert!(restore(&other, &bytes)
        .unwrap_err()
        .to_string()
        .contains("the view definition or input types changed"));
    assert!(restore(&tumbling(), b"garbage")
        .unwrap_err()
        .to_string()
        .contains("not an Arrow IPC stream"));
    assert!(restore(&tumbling(), &bytes[..bytes.len() / 2]).is_err());
    // A stream without the version key is not a state snapshot.
    let plain = {
        let b = batch(&[ev(1, None, None)]);
        let mut out = Vec::new();
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &b.schema()).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        drop(w);
        out
    };
    assert!(restore(&tumbling(), &plain)
        .unwrap_err()
        .to_string()
        .contains("not a view state snapshot"));
    // An unknown future layout is named.
    let future = reversion(&bytes, "99");
    assert!(restore(&tumbling(), &future)
        .unwrap_err()
        .to_string()
        .contains("unsupported state layout version '99'"));
    assert_eq!(
        all(&restore(&tumbling(), &reversion(&bytes, "1")).unwrap()),
        all(&s)
    );
}

/// Rewrites the layout version in a snapshot's schema metadata.
fn reversion(bytes: &[u8], version: &str) -> Vec<u8> {
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    let schema = reader.schema();
    let mut meta = schema.metadata().clone();
    meta.insert("pulse.state.version", version);
    let schema = Arc::new(Schema::new_with_metadata(schema.fields().clone(), meta));
    let batches: Vec<RecordBatch> = reader
        .map(|b| RecordBatch::try_new(schema.clone(), b.unwrap().columns().to_vec()).unwrap())
        .collect();
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &schema).unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    drop(w);
    out
}

#[test]
fn int_sums_that_overflow_int64_are_an_error_not_a_wrong_number() {
    let evs = [
        ev(1, Some("a"), Some(i64::MAX)),
        ev(2, Some("a"), Some(i64::MAX)),
    ];
    let s = state_of(&tumbling(), &evs, &[2]);
    let err = s.query(&Query::default()).unwrap_err().to_string();
    assert!(
        err.contains("measure 'total'") && err.contains("does not fit in int64"),
        "{err}"
    );
}

#[test]
fn eviction_drops_panes_ending_at_or_before_t() {
    let evs: Vec<Event> = (0..5).map(|i| ev(i * 60_000, Some("a"), Some(i))).collect();
    let mut s = state_of(&tumbling(), &evs, &[5]);
    assert_eq!(
        s.evict_through(119_999),
        1,
        "pane [0, 60000) ends at 60000 ≤ t"
    );
    assert_eq!(s.evict_through(120_000), 1);
    assert_eq!(s.stats().panes, 3);
    assert_eq!(s.evict_through(i64::MAX), 3);
    assert!(query(&s, "{}").unwrap().is_empty());
}

#[test]
fn ungrouped_views_and_empty_states_answer() {
    let view = r#"{"name":"all","window":{"type":"hopping","sizeMs":120000,"slideMs":60000},"measures":[{"op":"count"}]}"#;
    let empty = new_state(view, None);
    assert!(query(&empty, "{}").unwrap().is_empty());
    assert_eq!(empty.watermark(), None);
    let s = state_of(view, &[ev(30_000, None, None)], &[1]);
    assert_eq!(
        query(&s, "{}").unwrap(),
        vec!["t:-60000 | t:60000 | i:1", "t:0 | t:120000 | i:1"]
    );
}

#[test]
fn validate_checks_without_applying() {
    let s = new_state(&tumbling(), Some(0));
    let good = batch(&[ev(5, Some("a"), Some(1)), ev(0, Some("a"), Some(1))]);
    s.validate(&good, None).unwrap();
    assert_eq!(s.stats().applied_rows, 0);
    let far = batch(&[ev(-9_000_000_000_000_000, None, None)]);
    assert!(s
        .validate(&far, None)
        .unwrap_err()
        .to_string()
        .contains("outside"));
    // A masked-out row is not checked.
    assert!(s
        .validate(&far, Some(&BooleanArray::from(vec![false])))
        .is_ok());
}

#[test]
fn view_state_can_move_between_threads() {
    fn sendable<T: Send + Sync + Clone + 'static>() {}
    sendable::<ViewState>();
    let s = state_of(&tumbling(), &[ev(5, Some("a"), Some(1))], &[1]);
    let answer = std::thread::spawn(move || all(&s)).join().unwrap();
    assert_eq!(answer.len(), 1);
}

#[test]
fn restore_refuses_corrupt_rows_without_panicking() {
    let view = view_json(r#"{"type":"session","gapMs":1000}"#, &["dev"]);
    let s = state_of(
        &view,
        &[ev(5, Some("a"), Some(1)), ev(70_000, Some("a"), Some(2))],
        &[2],
    );
    let bytes = s.snapshot().unwrap();
    // Rewrite one column of the snapshot and try to restore it.
    let tamper = |name: &str, f: &dyn Fn(&arrow_array::ArrayRef) -> arrow_array::ArrayRef| {
        let reader =
            arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(&bytes), None).unwrap();
        let snap_schema = reader.schema();
        let batches: Vec<RecordBatch> = reader
            .map(|b| {
                let b = b.unwrap();
                let cols = b
                    .columns()
                    .iter()
                    .zip(snap_schema.fields())
                    .map(|(c, fl)| if fl.name() == name { f(c) } else { c.clone() })
                    .collect();
                RecordBatch::try_new(snap_schema.clone(), cols).unwrap()
            })
            .collect();
        let mut out = Vec::new();
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &snap_schema).unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap();
        drop(w);
        ViewState::restore(
            schema(),
            "ts",
            ViewSpec::from_json(&view).unwrap(),
            StateOptions::default(),
            &out,
        )
        .unwrap_err()
        .to_string()
    };
    let ints = |v: i64| {
        move |c: &arrow_array::ArrayRef| -> arrow_array::ArrayRef {
            Arc::new(Int64Array::from(vec![v; c.len()]))
        }
    };
    assert!(tamper("pane_start", &ints(i64::MAX - i64::MAX % 60_000)).contains("outside"));
    assert!(tamper("pane_start", &ints(7)).contains("not on the 60000 ms grid"));
    assert!(tamper("fragment_first", &ints(59_999_999)).contains("does not lie in cell"));
    let garbage = |c: &arrow_array::ArrayRef| -> arrow_array::ArrayRef {
        Arc::new(arrow_array::BinaryArray::from_iter_values(
            std::iter::repeat_n(&[12u8, 9][..], c.len()),
        ))
    };
    assert!(tamper("users.hll", &garbage).contains("measure 'users'"));
    assert!(tamper("p90.sketch", &garbage).contains("measure 'p90'"));
}
