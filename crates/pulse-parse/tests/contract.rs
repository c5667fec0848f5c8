//! One test per rule of the parser contract (`docs/native-contract.md`,
//! "Parser"), through the public API.

mod common;

use common::*;
use pulse_parse::RejectCode;

const SCHEMA: &str = r#"{"fields":[
    {"name":"ts","type":"timestamp","nullable":false},
    {"name":"device","type":"string","nullable":false},
    {"name":"temp","type":"float64"},
    {"name":"n","type":"int64"},
    {"name":"ok","type":"bool"}],"eventTime":"ts"}"#;
const CSV: &str = r#"{"format":"csv"}"#;
const NDJSON: &str = r#"{"format":"ndjson"}"#;

fn none() -> Option<String> {
    None
}
fn some(f: &str) -> Option<String> {
    Some(f.to_string())
}

#[test]
fn csv_header_matched_by_name_extra_columns_ignored() {
    let out = run(
        SCHEMA,
        CSV,
        b"extra,ok,n,temp,device,ts\nx,true,7,1.5,d1,1000\ny,false,,,d2,2000\n",
    );
    assert_eq!(
        out.rows,
        vec![
            vec![i(1000), s("d1"), f(1.5), i(7), b(true)],
            vec![i(2000), s("d2"), N, N, b(false)],
        ]
    );
    assert_eq!(out.lines, vec![2, 3]);
    assert_eq!(out.offsets, vec![26, 47]);
    assert!(out.rejects.is_empty());
}

#[test]
fn csv_missing_nullable_column_is_null_missing_required_rejects_all() {
    let out = run(SCHEMA, CSV, b"ts,device\n1,a\n2,b\n");
    assert_eq!(out.rows.len(), 2);
    assert_eq!(out.rows[1], vec![i(2), s("b"), N, N, N]);
    let out = run(SCHEMA, CSV, b"ts,temp\n1,2.5\n2,3.5\n");
    assert!(out.rows.is_empty());
    assert_eq!(
        codes(&out),
        vec![
            (2, "missing_field", some("device")),
            (3, "missing_field", some("device"))
        ]
    );
    assert!(out.rejects[0].reason.contains("header has no such column"));
}

#[test]
fn csv_positional_without_header() {
    let out = run(
        SCHEMA,
        r#"{"format":"csv","header":false,"delimiter":";"}"#,
        b"1;a;2.5;3;TRUE\n2;b;;;\n3;c\n",
    );
    assert_eq!(
        out.rows,
        vec![
            vec![i(1), s("a"), f(2.5), i(3), b(true)],
            vec![i(2), s("b"), N, N, N]
        ]
    );
    assert_eq!(codes(&out), vec![(3, "field_count", none())]);
    assert_eq!(out.rejects[0].reason, "expected 5 fields, got 2");
}

#[test]
fn csv_quotes_hold_delimiters_quotes_and_newlines() {
    let data = b"ts,device\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n4,\"\"\n5,\n";
    let out = run(SCHEMA, CSV, data);
    let devices: Vec<Cell> = out.rows.iter().map(|r| r[1].clone()).collect();
    assert_eq!(
        devices,
        vec![s("a,b"), s("say \"hi\""), s("two\nlines"), s("")]
    );
    // The multi-line record moves the next record's line on by two.
    assert_eq!(out.lines, vec![2, 3, 4, 6]);
    // An empty unquoted field is null: a required field is then missing.
    assert_eq!(codes(&out), vec![(7, "missing_field", some("device"))]);
}

#[test]
fn csv_crlf_and_bom() {
    let out = run(
        SCHEMA,
        CSV,
        b"\xEF\xBB\xBFts,device\r\n1,a\r\n2,\"b\r\nc\"\r\n3,d",
    );
    assert_eq!(
        out.rows.iter().map(|r| r[1].clone()).collect::<Vec<_>>(),
        vec![s("a"), s("b\r\nc"), s("d")]
    );
    assert_eq!(out.lines, vec![2, 3, 5]);
    // Offsets count the BOM: they are stream offsets.
    assert_eq!(out.offsets, vec![14, 19, 29]);
}

#[test]
fn csv_malformed_records() {
    let out = run(
        SCHEMA,
        CSV,
        b"ts,device\n1,a\"b\n2,\"x\"y\n3,ok\n4,\"open\n",
    );
    assert_eq!(out.rows, vec![vec![i(3), s("ok"), N, N, N]]);
    assert_eq!(
        codes(&out),
        vec![
            (2, "malformed_csv", none()),
            (3, "malformed_csv", none()),
            (5, "malformed_csv", none())
        ]
    );
    assert!(out.rejects[0].reason.contains("stray quote"));
    assert!(out.rejects[2].reason.contains("unterminated"));
    assert_eq!(out.rejects[2].raw, "4,\"open\n");
}

#[test]
fn csv_blank_lines_are_skipped_but_counted() {
    let out = run(SCHEMA, CSV, b"\nts,device\n\n1,a\r\n\r\n2,b\n\n");
    assert_eq!(out.lines, vec![4, 6]);
    assert!(out.rejects.is_empty());
}

#[test]
fn csv_duplicate_header_column_rejects_records() {
    let out = run(SCHEMA, CSV, b"ts,device,ts\n1,a,2\n");
    assert_eq!(codes(&out), vec![(2, "duplicate_key", some("ts"))]);
}

#[test]
fn csv_rejected_header_rejects_every_record() {
    let out = run(SCHEMA, CSV, b"ts,\"dev\"ice\n1,a\n2,b\n");
    assert_eq!(
        codes(&out),
        vec![
            (1, "malformed_csv", none()),
            (2, "malformed_csv", none()),
            (3, "malformed_csv", none())
        ]
    );
    assert!(out.rejects[1].reason.contains("no usable header"));
    let out = run(SCHEMA, CSV, b"ts,dev\xffice\n1,a\n");
    assert_eq!(
        codes(&out),
        vec![(1, "invalid_utf8", none()), (2, "malformed_csv", none())]
    );
}

#[test]
fn csv_types_per_field() {
    let out = run(
        SCHEMA,
        CSV,
        b"ts,device,temp,n,ok\n\
          2026-01-31T12:00:00.250+01:00,a,1e2,3.0,false\n\
          1,a,abc,,\n\
          1,a,,1.5,\n\
          1,a,,99999999999999999999,\n\
          1,a,,,yes\n\
          2026-01-31T12:00:00,a,,,\n\
          1,a,1e400,,\n",
    );
    assert_eq!(
        out.rows,
        vec![vec![i(1_769_857_200_250), s("a"), f(100.0), i(3), b(false)]]
    );
    assert_eq!(
        codes(&out),
        vec![
            (3, "type_mismatch", some("temp")),
            (4, "type_mismatch", some("n")),
            (5, "out_of_range", some("n")),
            (6, "type_mismatch", some("ok")),
            (7, "invalid_timestamp", some("ts")),
            (8, "out_of_range", some("temp")),
        ]
    );
    assert_eq!(
        out.rejects[0].reason,
        "field 'temp': expected float64, got 'abc'"
    );
}

#[test]
fn ndjson_rules() {
    let data = br#"{"ts":1,"device":"a","temp":1.5,"n":2,"ok":true,"extra":{"x":[1,2]}}

{"device":"b","ts":"1970-01-01T00:00:00.002Z","temp":null}
  	
{"ts":3,"device":"c","n":3e2}
"#;
    let out = run(SCHEMA, NDJSON, data);
    assert_eq!(
        out.rows,
        vec![
            vec![i(1), s("a"), f(1.5), i(2), b(true)],
            vec![i(2), s("b"), N, N, N],
            vec![i(3), s("c"), N, i(300), N],
        ]
    );
    assert_eq!(out.lines, vec![1, 3, 5]);
    assert_eq!(out.offsets, vec![0, 70, 133]);
}

#[test]
fn ndjson_rejects_with_codes_lines_and_fields() {
    let data = [
        r#"{"ts":1,"device":"a"}"#,
        r#"{"ts":1,"device":"a""#,
        r#"[1,2]"#,
        r#"{"ts":1,"device":"a","device":"b"}"#,
        r#"{"ts":1,"device":"a","temp":"1.5"}"#,
        r#"{"ts":1,"device":"a","n":1.5}"#,
        r#"{"ts":1,"device":"a","n":9223372036854775808}"#,
        r#"{"ts":"2026-01-01T00:00:00","device":"a"}"#,
        r#"{"ts":1}"#,
        r#"{"ts":1,"device":"a","ok":"true"}"#,
        r#"{"ts":2,"device":"z"}"#,
    ]
    .join("\n");
    let out = run(SCHEMA, NDJSON, data.as_bytes());
    assert_eq!(
        out.rows,
        vec![vec![i(1), s("a"), N, N, N], vec![i(2), s("z"), N, N, N]]
    );
    assert_eq!(out.lines, vec![1, 11]);
    assert_eq!(
        codes(&out),
        vec![
            (2, "malformed_json", none()),
            (3, "not_an_object", none()),
            (4, "duplicate_key", some("device")),
            (5, "type_mismatch", some("temp")),
            (6, "type_mismatch", some("n")),
            (7, "out_of_range", some("n")),
            (8, "invalid_timestamp", some("ts")),
            (9, "missing_field", some("device")),
            (10, "type_mismatch", some("ok")),
        ]
    );
    let r = &out.rejects[3];
    assert_eq!(r.reason, "field 'temp': expected float64, got string");
    assert_eq!(r.raw, r#"{"ts":1,"device":"a","temp":"1.5"}"#);
    assert_eq!(r.byte_offset, 22 + 21 + 6 + 35);
}

#[test]
fn invalid_utf8_is_rejected_per_record() {
    let out = run(
        SCHEMA,
        NDJSON,
        b"{\"ts\":1,\"device\":\"\xc3\x28\"}\n{\"ts\":2,\"device\":\"ok\"}\n{\"ts\":3,\"device\":\"\xed\xa0\x80\"}\n",
    );
    assert_eq!(out.rows.len(), 1);
    assert_eq!(
        codes(&out),
        vec![(1, "invalid_utf8", none()), (3, "invalid_utf8", none())]
    );
    assert_eq!(
        out.rejects[0].reason,
        "invalid UTF-8 at byte 18 of the record"
    );
    assert!(out.rejects[0].raw.contains('\u{FFFD}'));
}

#[test]
fn record_too_large_in_a_chunk_and_across_chunks() {
    let opts = r#"{"format":"ndjson","maxRecordBytes":40}"#;
    let big = format!(r#"{{"ts":1,"device":"{}"}}"#, "x".repeat(100));
    let data =
        format!("{big}\n{{\"ts\":2,\"device\":\"a\"}}\n{big}\r\n{{\"ts\":3,\"device\":\"b\"}}");
    for cuts in [vec![], (1..data.len()).collect::<Vec<_>>()] {
        let out = run_cut(&mut parser(SCHEMA, opts), data.as_bytes(), &cuts);
        assert_eq!(out.lines, vec![2, 4]);
        assert_eq!(
            codes(&out),
            vec![
                (1, "record_too_large", none()),
                (3, "record_too_large", none())
            ]
        );
        assert_eq!(out.rejects[0].raw.len(), 120);
        assert_eq!(out.rejects[1].byte_offset, 143);
    }
    // Exactly the limit is fine, even with CRLF.
    let rec = r#"{"ts":1,"device":"0123456789abcdefghij"}"#;
    assert_eq!(rec.len(), 40);
    let out = run(SCHEMA, opts, format!("{rec}\r\n{rec}").as_bytes());
    assert_eq!(out.rows.len(), 2);
}

#[test]
fn csv_record_too_large_counts_its_lines() {
    let opts = r#"{"format":"csv","maxRecordBytes":16}"#;
    let data = "ts,device\n1,\"a\nb\nc\nd\ne\nf\ng\nh\"\n2,b\n";
    for cuts in [vec![], (1..data.len()).collect::<Vec<_>>()] {
        let out = run_cut(&mut parser(SCHEMA, opts), data.as_bytes(), &cuts);
        assert_eq!(codes(&out), vec![(2, "record_too_large", none())]);
        assert_eq!(out.lines, vec![10]);
    }
}

#[test]
fn raw_keeps_the_first_256_bytes() {
    let long = format!("{{\"ts\":\"{}\"}}", "é".repeat(300));
    let out = run(SCHEMA, NDJSON, long.as_bytes());
    assert_eq!(out.rejects.len(), 1);
    // 256 bytes cut inside a two-byte character: the half becomes U+FFFD.
    assert_eq!(out.rejects[0].raw.len(), 7 + 248 + 3);
    assert!(out.rejects[0].raw.ends_with('\u{FFFD}'));
    assert_eq!(out.rejects[0].code, RejectCode::InvalidTimestamp);
}

#[test]
fn batches_hold_at_most_batch_size_rows() {
    let data: String = (0..10)
        .map(|k| format!("{{\"ts\":{k},\"device\":\"d\"}}\n"))
        .collect();
    let mut p = parser(SCHEMA, r#"{"format":"ndjson","batchSize":4}"#);
    p.push(data.as_bytes());
    let full = p.take_batches();
    assert_eq!(
        full.iter().map(|b| b.batch.num_rows()).collect::<Vec<_>>(),
        vec![4, 4]
    );
    assert_eq!(full[1].lines, vec![5, 6, 7, 8]);
    assert_eq!(p.pending_rows(), 2);
    p.flush();
    let rest = p.take_batches();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].batch.num_rows(), 2);
    assert_eq!(rest[0].batch.schema(), p.arrow_schema());
    let st = p.stats();
    assert_eq!((st.records, st.rows, st.rejects), (10, 10, 0));
    assert_eq!(st.bytes, data.len() as u64);
}

#[test]
fn reset_starts_a_new_stream() {
    let mut p = parser(SCHEMA, CSV);
    p.push(b"device,ts\na,1\nb,2");
    p.reset();
    p.push(b"\xEF\xBB\xBFts,device\n3,c\n");
    p.finish();
    p.flush();
    let mut out = Output::default();
    collect(&mut p, &mut out, true);
    assert_eq!(
        out.rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        vec![i(1), i(2), i(3)]
    );
    assert_eq!(out.lines, vec![2, 3, 2]);
    assert_eq!(out.offsets, vec![10, 14, 13]);
}

#[test]
fn a_lone_bom_prefix_is_data() {
    let out = run(SCHEMA, r#"{"format":"csv","header":false}"#, b"\xEF\xBB");
    assert_eq!(codes(&out), vec![(1, "invalid_utf8", none())]);
    let out = run(SCHEMA, NDJSON, b"\xEF\xBB\xBF");
    assert!(out.rejects.is_empty() && out.rows.is_empty());
}

#[test]
fn stats_add_up() {
    let out_parser = &mut parser(SCHEMA, NDJSON);
    let out = run_cut(
        out_parser,
        b"{\"ts\":1,\"device\":\"a\"}\n[]\n\n{\"ts\":2",
        &[],
    );
    let st = out_parser.stats();
    assert_eq!(st.records, 3);
    assert_eq!(st.rows, 1);
    assert_eq!(st.rejects, 2);
    assert_eq!(st.records, st.rows + st.rejects);
    assert_eq!(out.rejects[1].code, RejectCode::MalformedJson);
}
