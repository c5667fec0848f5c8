//! Property tests: generated streams of good and bad records (quotes,
//! embedded delimiters and newlines, CRLF, BOM, unicode, escapes, nulls)
//! parse to exactly the rows and rejects the generator expects, and to the
//! same output under every chunking, down to one-byte chunks. Arbitrary
//! bytes never panic and are chunk-invariant too.

mod common;

use common::*;
use proptest::prelude::*;
use pulse_schema::format_iso_ms;

const SCHEMA: &str = r#"{"fields":[
    {"name":"ts","type":"timestamp","nullable":false},
    {"name":"name","type":"string"},
    {"name":"n","type":"int64"},
    {"name":"x","type":"float64"},
    {"name":"ok","type":"bool"}],"eventTime":"ts"}"#;
const MAX_RECORD: usize = 1000;

#[derive(Debug, Clone)]
struct Rec {
    ts: i64,
    name: Option<String>,
    n: Option<i64>,
    x: Option<f64>,
    ok: Option<bool>,
}

impl Rec {
    fn cells(&self) -> Vec<Cell> {
        vec![
            i(self.ts),
            self.name.as_deref().map_or(N, s),
            self.n.map_or(N, i),
            self.x.map_or(N, f),
            self.ok.map_or(N, b),
        ]
    }
}

/// What a generated item should become.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Row(Vec<Cell>),
    Reject(&'static str),
    Blank,
}

/// How a good record's values are written (the generator's free choices).
#[derive(Debug, Clone)]
struct Style {
    iso_ts: bool,
    escape_all: bool,
    quote_all: bool,
    null_as_missing: bool,
    exp_floats: bool,
    order: Vec<usize>,
    extras: Vec<usize>,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..10).prop_map(|v| v.into_iter().collect()),
        "[a-z,\"\r\n ]{0,8}",
        Just(String::new()),
    ]
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        -2_000_000_000_000i64..5_000_000_000_000,
        prop::option::of(text()),
        prop::option::of(any::<i64>()),
        prop::option::of(any::<f64>().prop_filter("finite", |v| v.is_finite())),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(ts, name, n, x, ok)| Rec { ts, name, n, x, ok })
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        Just((0..5).collect::<Vec<usize>>()).prop_shuffle(),
        prop::collection::vec(0..EXTRAS.len(), 0..3),
    )
        .prop_map(
            |(iso_ts, escape_all, quote_all, null_as_missing, exp_floats, order, extras)| Style {
                iso_ts,
                escape_all,
                quote_all,
                null_as_missing,
                exp_floats,
                order,
                extras,
            },
        )
}

const EXTRAS: [&str; 5] = [
    r#"{"a":[1,{"b":"c\"]}"}],"d":null}"#,
    "[[[]],{}]",
    r#""str \\ with \n escapes \ud83d\ude00""#,
    "-1.5e3",
    "true",
];

fn json_string(s: &str, escape_all: bool) -> String {
    if !escape_all {
        return serde_json::to_string(s).unwrap();
    }
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

fn float_text(v: f64, exp: bool) -> String {
    if exp {
        format!("{v:e}")
    } else {
        format!("{v:?}")
    }
}

fn ts_text(r: &Rec, st: &Style) -> (String, bool) {
    if st.iso_ts {
        (format_iso_ms(r.ts), true)
    } else {
        (r.ts.to_string(), false)
    }
}

fn ndjson_good(r: &Rec, st: &Style) -> String {
    let mut members = Vec::new();
    for &k in &st.order {
        let v = match k {
            0 => {
                let (t, quoted) = ts_text(r, st);
                Some(if quoted { format!("\"{t}\"") } else { t })
            }
            1 => r.name.as_ref().map(|s| json_string(s, st.escape_all)),
            2 => r.n.map(|v| v.to_string()),
            3 => r.x.map(|v| float_text(v, st.exp_floats)),
            _ => r.ok.map(|v| v.to_string()),
        };
        let key = ["ts", "name", "n", "x", "ok"][k];
        match v {
            Some(v) => members.push(format!("\"{key}\":{v}")),
            None if st.null_as_missing => {}
            None => members.push(format!("\"{key}\" : null")),
        }
    }
    for (j, &e) in st.extras.iter().enumerate() {
        members.insert(j.min(members.len()), format!("\"extra{j}\":{}", EXTRAS[e]));
    }
    format!("{{{}}}", members.join(","))
}

fn ndjson_bad() -> impl Strategy<Value = (Vec<u8>, &'static str)> {
    let fixed: Vec<(&'static str, &'static str)> = vec![
        ("[1,2]", "not_an_object"),
        ("5", "not_an_object"),
        ("\"s\"", "not_an_object"),
        (r#"{"ts":1,"ts":2}"#, "duplicate_key"),
        (r#"{"ts":1,"n":"5"}"#, "type_mismatch"),
        (r#"{"ts":1,"n":1.5}"#, "type_mismatch"),
        (r#"{"ts":1,"name":{"a":1}}"#, "type_mismatch"),
        (r#"{"ts":1,"n":1e30}"#, "out_of_range"),
        (r#"{"ts":"2026-01-01"}"#, "invalid_timestamp"),
        (r#"{"name":"x"}"#, "missing_field"),
        (r#"{"ts":null}"#, "missing_field"),
        (r#"{"ts":1,"name":"\ud800"}"#, "invalid_utf8"),
        (r#"{"ts":1,}"#, "malformed_json"),
        ("{\"ts\":1,\"name\":\"a\u{0}b\"}", "malformed_json"),
    ];
    prop_oneof![
        prop::sample::select(fixed).prop_map(|(t, c)| (t.as_bytes().to_vec(), c)),
        (rec(), style(), any::<prop::sample::Index>()).prop_map(|(r, st, at)| {
            let t = ndjson_good(&r, &st);
            let mut cut = 1 + at.index(t.len() - 1);
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            (t.as_bytes()[..cut].to_vec(), "malformed_json")
        }),
        invalid_utf8().prop_map(|bad| {
            let mut v = br#"{"ts":1,"name":""#.to_vec();
            v.extend(bad);
            v.extend(br#""}"#);
            (v, "invalid_utf8")
        }),
        Just((
            format!(r#"{{"ts":1,"name":"{}"}}"#, "x".repeat(2 * MAX_RECORD)).into_bytes(),
            "record_too_large"
        )),
    ]
}

fn invalid_utf8() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        b"\xff".to_vec(),
        b"\xc3\x28".to_vec(),
        b"\xed\xa0\x80".to_vec(),
        b"\xf4\x90\x80\x80".to_vec(),
        b"\xe2\x82".to_vec(),
        b"\xc0\xaf".to_vec(),
    ])
}

fn csv_cell(text: &str, quote: bool) -> String {
    if quote || text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_good(r: &Rec, st: &Style, columns: &[usize]) -> String {
    let cells: Vec<String> = columns
        .iter()
        .map(|&k| match k {
            0 => csv_cell(&ts_text(r, st).0, st.quote_all),
            1 => match &r.name {
                None => String::new(),
                Some(s) => csv_cell(s, st.quote_all || s.is_empty()),
            },
            2 => {
                r.n.map_or(String::new(), |v| csv_cell(&v.to_string(), st.quote_all))
            }
            3 => r.x.map_or(String::new(), |v| {
                csv_cell(&float_text(v, st.exp_floats), st.quote_all)
            }),
            4 => r.ok.map_or(String::new(), |v| {
                if st.escape_all {
                    v.to_string().to_uppercase()
                } else {
                    v.to_string()
                }
            }),
            _ => csv_cell("extra, ignored", st.quote_all),
        })
        .collect();
    cells.join(",")
}

/// A bad CSV record for `columns` (5 schema columns, maybe an extra one).
fn csv_bad(columns: Vec<usize>) -> impl Strategy<Value = (Vec<u8>, &'static str)> {
    let with = move |k: usize, v: &str| -> Vec<u8> {
        columns
            .iter()
            .map(|&c| match c {
                0 if k != 0 => "1".to_string(),
                c if c == k => v.to_string(),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(",")
            .into_bytes()
    };
    let fixed = vec![
        (with(1, "ab\"c"), "malformed_csv"),
        (with(1, "\"ab\"c"), "malformed_csv"),
        (b"1,a".to_vec(), "field_count"),
        (with(1, "a,b,c"), "field_count"),
        (with(2, "abc"), "type_mismatch"),
        (with(2, "1.5"), "type_mismatch"),
        (with(4, "yes"), "type_mismatch"),
        (with(2, "1e30"), "out_of_range"),
        (with(0, "yesterday"), "invalid_timestamp"),
        (with(0, "2026-01-01T00:00:00"), "invalid_timestamp"),
        (with(0, ""), "missing_field"),
        (with(1, &"x".repeat(2 * MAX_RECORD)), "record_too_large"),
    ];
    let utf8_with = with(1, "PLACEHOLDER");
    prop_oneof![
        prop::sample::select(fixed),
        invalid_utf8().prop_map(move |bad| {
            let text = String::from_utf8(utf8_with.clone()).unwrap();
            let (a, z) = text.split_once("PLACEHOLDER").unwrap();
            let mut v = a.as_bytes().to_vec();
            v.extend(bad);
            v.extend(z.as_bytes());
            (v, "invalid_utf8")
        }),
    ]
}

/// A generated stream: its bytes and what each item should become.
#[derive(Debug, Clone)]
struct Stream {
    bytes: Vec<u8>,
    rows: Vec<Vec<Cell>>,
    lines: Vec<u64>,
    rejects: Vec<(u64, &'static str)>,
}

fn assemble(
    header: Option<String>,
    items: Vec<(Vec<u8>, Expect)>,
    bom: bool,
    crlf: &[bool],
    final_newline: bool,
) -> Stream {
    let mut bytes = Vec::new();
    if bom {
        bytes.extend(b"\xEF\xBB\xBF");
    }
    let mut line = 1u64;
    if let Some(h) = header {
        bytes.extend(h.as_bytes());
        bytes.extend(b"\n");
        line += 1;
    }
    let (mut rows, mut lines, mut rejects) = (Vec::new(), Vec::new(), Vec::new());
    let count = items.len();
    for (k, (item, expect)) in items.into_iter().enumerate() {
        match expect {
            Expect::Row(r) => {
                rows.push(r);
                lines.push(line);
            }
            Expect::Reject(c) => rejects.push((line, c)),
            Expect::Blank => {}
        }
        line += 1 + item.iter().filter(|&&c| c == b'\n').count() as u64;
        bytes.extend(&item);
        if k + 1 < count || final_newline {
            bytes.extend(if crlf[k % crlf.len()] {
                &b"\r\n"[..]
            } else {
                b"\n"
            });
        }
    }
    Stream {
        bytes,
        rows,
        lines,
        rejects,
    }
}

fn ndjson_stream() -> impl Strategy<Value = Stream> {
    let item = prop_oneof![
        6 => (rec(), style()).prop_map(|(r, st)| (ndjson_good(&r, &st).into_bytes(), Expect::Row(r.cells()))),
        3 => ndjson_bad().prop_map(|(b, c)| (b, Expect::Reject(c))),
        1 => prop::sample::select(vec!["", " ", "\t ", "\r"]).prop_map(|b| (b.as_bytes().to_vec(), Expect::Blank)),
    ];
    (
        prop::collection::vec(item, 0..24),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 1..4),
        any::<bool>(),
    )
        .prop_map(|(items, bom, crlf, nl)| assemble(None, items, bom, &crlf, nl))
}

fn csv_stream() -> impl Strategy<Value = (Stream, bool)> {
    (
        any::<bool>(),
        Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
        any::<bool>(),
    )
        .prop_flat_map(|(header, order, extra)| {
            let columns: Vec<usize> = if header {
                order.into_iter().filter(|&c| extra || c != 5).collect()
            } else {
                (0..5).collect()
            };
            let cols = columns.clone();
            let good = (rec(), style()).prop_map(move |(r, st)| {
                (
                    csv_good(&r, &st, &cols).into_bytes(),
                    Expect::Row(r.cells()),
                )
            });
            let item = prop_oneof![
                6 => good,
                3 => csv_bad(columns.clone()).prop_map(|(b, c)| (b, Expect::Reject(c))),
                1 => Just((Vec::new(), Expect::Blank)),
            ];
            (
                prop::collection::vec(item, 0..24),
                any::<bool>(),
                prop::collection::vec(any::<bool>(), 1..4),
                any::<bool>(),
                Just(columns),
                Just(header),
            )
        })
        .prop_map(|(items, bom, crlf, nl, columns, header)| {
            let names = ["ts", "name", "n", "x", "ok", "extra"];
            let head = header.then(|| {
                columns
                    .iter()
                    .map(|&c| names[c])
                    .collect::<Vec<_>>()
                    .join(",")
            });
            (assemble(head, items, bom, &crlf, nl), header)
        })
}

fn cuts_of(len: usize) -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        prop::collection::vec(0..=len, 0..12).prop_map(|mut v| {
            v.sort();
            v
        }),
        Just((1..len).collect::<Vec<_>>()),
    ]
}

fn check(stream: &Stream, opts: &str, cuts: &[usize]) -> Result<(), TestCaseError> {
    let whole = run(SCHEMA, opts, &stream.bytes);
    let got: Vec<(u64, &str)> = whole
        .rejects
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    prop_assert_eq!(&got, &stream.rejects, "rejects: {:?}", whole.rejects);
    prop_assert_eq!(&whole.rows, &stream.rows);
    prop_assert_eq!(&whole.lines, &stream.lines);
    let chunked = run_cut(&mut parser(SCHEMA, opts), &stream.bytes, cuts);
    prop_assert_eq!(&chunked, &whole);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn ndjson_streams_parse_as_generated_under_any_chunking(
        (stream, cuts) in ndjson_stream().prop_flat_map(|s| { let n = s.bytes.len(); (Just(s), cuts_of(n)) })
    ) {
        check(&stream, &format!(r#"{{"format":"ndjson","maxRecordBytes":{MAX_RECORD},"batchSize":7}}"#), &cuts)?;
    }

    #[test]
    fn csv_streams_parse_as_generated_under_any_chunking(
        ((stream, header), cuts) in csv_stream().prop_flat_map(|s| { let n = s.0.bytes.len(); (Just(s), cuts_of(n)) })
    ) {
        let opts = format!(r#"{{"format":"csv","header":{header},"maxRecordBytes":{MAX_RECORD},"batchSize":5}}"#);
        check(&stream, &opts, &cuts)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_are_chunk_invariant(
        bytes in prop::collection::vec(prop_oneof![
            4 => prop::sample::select(b"{}[]\":,\\\n\r tfnu0123456789.-eE\xEF\xBB\xBF\xff\xc3ab".to_vec()),
            1 => any::<u8>(),
        ], 0..400),
        cut_seed in prop::collection::vec(0usize..400, 0..10),
        csv in any::<bool>(),
        header in any::<bool>(),
        small in any::<bool>(),
    ) {
        let max = if small { 16 } else { 1 << 20 };
        let opts = if csv {
            format!(r#"{{"format":"csv","header":{header},"maxRecordBytes":{max},"batchSize":3}}"#)
        } else {
            format!(r#"{{"format":"ndjson","maxRecordBytes":{max},"batchSize":3}}"#)
        };
        let mut cuts: Vec<usize> = cut_seed.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.sort();
        let mut p = parser(SCHEMA, &opts);
        let whole = run_cut(&mut p, &bytes, &[]);
        let st = p.stats();
        prop_assert_eq!(st.records, st.rows + st.rejects);
        prop_assert_eq!(st.rows as usize, whole.rows.len());
        let chunked = run_cut(&mut parser(SCHEMA, &opts), &bytes, &cuts);
        prop_assert_eq!(&chunked, &whole);
        let ones = run_cut(&mut parser(SCHEMA, &opts), &bytes, &(1..bytes.len()).collect::<Vec<_>>());
        prop_assert_eq!(&ones, &whole);
    }
}
