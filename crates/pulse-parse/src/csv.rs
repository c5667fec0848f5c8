//! CSV (RFC 4180): where records end, how a record splits into fields, the
//! header, and field text → typed [`Slot`]s.
//!
//! A double quote opens a quoted field only at the start of a field; inside
//! one, `""` is a quote and delimiters and newlines are data. A quote
//! anywhere else is a stray quote: the record is `malformed_csv`, but the
//! quote does not change where the record ends, so one bad record never
//! swallows the good ones after it.

use memchr::{memchr, memchr3, memchr_iter};
use pulse_schema::{FieldType, Schema};

use crate::columns::Slot;
use crate::reject::{RecordError, RejectCode};
use crate::value::{
    float64_from_number, int64_from_number, mismatch, shown, timestamp_from_number,
    timestamp_from_text, whole_number,
};
use crate::word;

/// Where the record scanner stands, kept across chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanState {
    /// At the start of a field: a quote here opens a quoted field.
    #[default]
    FieldStart,
    Unquoted,
    Quoted,
    /// Just after a quote inside a quoted field: `""` or the closing quote.
    QuoteInQuoted,
}

/// Finds the LF that ends the record, scanning `b` from `from` in `state`.
/// Returns `None` (with `state` updated) when the record goes on past `b`.
#[inline]
pub fn find_record_end(b: &[u8], from: usize, state: &mut ScanState, delim: u8) -> Option<usize> {
    let mut i = from;
    loop {
        match *state {
            ScanState::FieldStart => {
                let c = *b.get(i)?;
                i += 1;
                match c {
                    b'"' => *state = ScanState::Quoted,
                    b'\n' => return Some(i - 1),
                    c if c == delim => {}
                    _ => *state = ScanState::Unquoted,
                }
            }
            ScanState::Unquoted => {
                let j = i + memchr3(delim, b'"', b'\n', b.get(i..)?)?;
                i = j + 1;
                match b[j] {
                    b'\n' => return Some(j),
                    b'"' => {}
                    _ => *state = ScanState::FieldStart,
                }
            }
            ScanState::Quoted => {
                i += memchr(b'"', b.get(i..)?)? + 1;
                *state = ScanState::QuoteInQuoted;
            }
            ScanState::QuoteInQuoted => {
                let c = *b.get(i)?;
                i += 1;
                match c {
                    b'"' => *state = ScanState::Quoted,
                    b'\n' => return Some(i - 1),
                    c if c == delim => *state = ScanState::FieldStart,
                    _ => *state = ScanState::Unquoted,
                }
            }
        }
    }
}

/// What [`scan_plain`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain {
    /// The record ends at this LF; its fields are in the spans.
    End(usize),
    /// The record has a quote: it needs the full scanner.
    Quoted,
    /// No LF before the end of the data.
    NoEnd,
}

/// One pass over a record starting at `from` that, as long as it meets no
/// quote, both finds its LF and records its fields (spans relative to
/// `from`). `stop` marks `delim`, `"` and LF. Eight bytes per step while a
/// whole word is left (fields are short, so a `memchr` call per field would
/// cost more than it saves), then byte by byte.
#[inline]
pub fn scan_plain(
    b: &[u8],
    from: usize,
    delim: u8,
    stop: &[bool; 256],
    spans: &mut Vec<Span>,
) -> Plain {
    let (d, q, lf) = (word::splat(delim), word::splat(b'"'), word::splat(b'\n'));
    spans.clear();
    let mut start = from;
    let mut j = from;
    // What to do at a stop byte `c` at `k`: `Some` ends the scan.
    let mut at_stop = |c: u8, k: usize, start: &mut usize| -> Option<Plain> {
        let span = Span::Plain((*start - from) as u32, (k - from) as u32);
        match c {
            b'\n' => {
                spans.push(span);
                Some(Plain::End(k))
            }
            b'"' => Some(Plain::Quoted),
            _ => {
                spans.push(span);
                *start = k + 1;
                None
            }
        }
    };
    while j + 8 <= b.len() {
        let w = word::load(b, j);
        let mut m = word::equal(w, d) | word::equal(w, q) | word::equal(w, lf);
        while m != 0 {
            let k = j + word::first(m);
            if let Some(end) = at_stop(b[k], k, &mut start) {
                return end;
            }
            m &= m - 1;
        }
        j += 8;
    }
    for (k, &c) in b.iter().enumerate().skip(j) {
        if stop[c as usize] {
            if let Some(end) = at_stop(c, k, &mut start) {
                return end;
            }
        }
    }
    Plain::NoEnd
}

/// One field of a split record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Unquoted text, a byte range of the record.
    Plain(u32, u32),
    /// Quoted text without `""`, a byte range of the record.
    Quoted(u32, u32),
    /// Quoted text that had `""`, unescaped into the scratch string.
    Unescaped(u32, u32),
}

/// Splits a complete record (terminator removed) into fields.
pub fn split_fields(
    rec: &str,
    delim: u8,
    spans: &mut Vec<Span>,
    scratch: &mut String,
) -> Result<(), RecordError> {
    spans.clear();
    let b = rec.as_bytes();
    if memchr(b'"', b).is_none() {
        let mut start = 0;
        for d in memchr_iter(delim, b) {
            spans.push(Span::Plain(start as u32, d as u32));
            start = d + 1;
        }
        spans.push(Span::Plain(start as u32, b.len() as u32));
        return Ok(());
    }
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut has_pairs = false;
            let end = loop {
                match memchr(b'"', &b[j..]) {
                    None => {
                        return Err(RecordError::record(
                            RejectCode::MalformedCsv,
                            format!("unterminated quoted field starting at byte {i}"),
                        ))
                    }
                    Some(r) if b.get(j + r + 1) == Some(&b'"') => {
                        has_pairs = true;
                        j += r + 2;
                    }
                    Some(r) => break j + r,
                }
            };
            spans.push(if has_pairs {
                let from = scratch.len();
                scratch.push_str(&rec[start..end].replace("\"\"", "\""));
                Span::Unescaped(from as u32, scratch.len() as u32)
            } else {
                Span::Quoted(start as u32, end as u32)
            });
            i = end + 1;
            match b.get(i) {
                None => return Ok(()),
                Some(&c) if c == delim => i += 1,
                Some(_) => {
                    return Err(RecordError::record(
                        RejectCode::MalformedCsv,
                        format!("unexpected text after the closing quote at byte {end}"),
                    ))
                }
            }
        } else {
            let end = memchr(delim, &b[i..]).map_or(b.len(), |r| i + r);
            if let Some(q) = memchr(b'"', &b[i..end]) {
                return Err(RecordError::record(
                    RejectCode::MalformedCsv,
                    format!("stray quote at byte {} in an unquoted field", i + q),
                ));
            }
            spans.push(Span::Plain(i as u32, end as u32));
            if end == b.len() {
                return Ok(());
            }
            i = end + 1;
        }
    }
}

/// How the columns of a record map to schema fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// Waiting for the header record.
    AwaitingHeader,
    /// The header record was rejected: no record can be placed.
    NoHeader {
        line: u64,
    },
    Ready(Columns),
}

/// Column → field mapping of a header (or of positional mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// Per column, the schema field it fills (`None`: ignored).
    pub fields: Vec<Option<usize>>,
    /// Per schema field, whether some column fills it.
    pub present: Vec<bool>,
    /// A schema field named by two header columns.
    pub duplicate: Option<usize>,
}

impl Columns {
    /// Columns in schema order: no header.
    pub fn positional(schema: &Schema) -> Columns {
        let n = schema.fields.len();
        Columns {
            fields: (0..n).map(Some).collect(),
            present: vec![true; n],
            duplicate: None,
        }
    }

    /// Columns named by a header record.
    pub fn from_header(schema: &Schema, names: &[&str]) -> Columns {
        let mut present = vec![false; schema.fields.len()];
        let mut duplicate = None;
        let fields = names
            .iter()
            .map(|name| {
                let f = schema.index_of(name)?;
                if present[f] {
                    duplicate.get_or_insert(f);
                    return None;
                }
                present[f] = true;
                Some(f)
            })
            .collect();
        Columns {
            fields,
            present,
            duplicate,
        }
    }
}

/// The text of a span.
#[inline]
pub fn span_text<'a>(rec: &'a str, scratch: &'a str, span: Span) -> &'a str {
    match span {
        Span::Plain(s, e) | Span::Quoted(s, e) => &rec[s as usize..e as usize],
        Span::Unescaped(s, e) => &scratch[s as usize..e as usize],
    }
}

/// Converts one field's text into `slot`, of the field's type (`Null` for
/// an empty plain field; untouched on an error). Each arm stores its own
/// slot: a returned `Slot` was merged into one odd-sized copy of the enum,
/// which stalled store forwarding once per field.
#[inline]
pub fn convert(
    field: &pulse_schema::Field,
    rec: &str,
    scratch: &str,
    span: Span,
    slot: &mut Slot,
) -> Result<(), RecordError> {
    let text = span_text(rec, scratch, span);
    if text.is_empty() && matches!(span, Span::Plain(..)) {
        *slot = Slot::Null;
        return Ok(());
    }
    let name = field.name.as_str();
    let b = text.as_bytes();
    match field.ty {
        FieldType::String => {
            *slot = match span {
                Span::Plain(s, e) | Span::Quoted(s, e) => Slot::Text(s, e),
                Span::Unescaped(s, e) => Slot::Scratch(s, e),
            };
            Ok(())
        }
        FieldType::Int64 => match whole_number(b) {
            Some(t) => int64_from_number(name, b, t.small_int).map(|v| *slot = Slot::Int(v)),
            None => Err(mismatch(name, "int64", &format!("'{}'", shown(b)))),
        },
        FieldType::Float64 => match whole_number(b) {
            Some(t) => {
                float64_from_number(name, b, t.small_int, t.decimal).map(|v| *slot = Slot::Float(v))
            }
            None => Err(mismatch(name, "float64", &format!("'{}'", shown(b)))),
        },
        FieldType::Bool => {
            if b.eq_ignore_ascii_case(b"true") {
                *slot = Slot::Bool(true);
                Ok(())
            } else if b.eq_ignore_ascii_case(b"false") {
                *slot = Slot::Bool(false);
                Ok(())
            } else {
                Err(mismatch(name, "bool", &format!("'{}'", shown(b))))
            }
        }
        FieldType::Timestamp => match whole_number(b) {
            Some(t) => timestamp_from_number(name, b, t.small_int, field.unit)
                .map(|v| *slot = Slot::Int(v)),
            None => timestamp_from_text(name, b).map(|v| *slot = Slot::Int(v)),
        },
    }
}

/// Reads one data record into `slots`, given the column layout. With a
/// delimiter the record is split first; without, `spans` already holds its
/// fields.
pub fn read_record(
    schema: &Schema,
    columns: &Columns,
    rec: &str,
    split_on: Option<u8>,
    spans: &mut Vec<Span>,
    slots: &mut [Slot],
    scratch: &mut String,
) -> Result<(), RecordError> {
    scratch.clear();
    if let Some(delim) = split_on {
        split_fields(rec, delim, spans, scratch)?;
    }
    if let Some(f) = columns.duplicate {
        let name = &schema.fields[f].name;
        return Err(RecordError::field(
            RejectCode::DuplicateKey,
            name,
            format!("column '{name}' appears more than once in the header"),
        ));
    }
    if spans.len() != columns.fields.len() {
        return Err(RecordError::record(
            RejectCode::FieldCount,
            format!(
                "expected {} fields, got {}",
                columns.fields.len(),
                spans.len()
            ),
        ));
    }
    slots.fill(Slot::Absent);
    let mut first_error: Option<(usize, RecordError)> = None;
    for (span, target) in spans.iter().zip(&columns.fields) {
        let Some(f) = *target else { continue };
        if let Err(e) = convert(&schema.fields[f], rec, scratch, *span, &mut slots[f]) {
            if first_error.as_ref().is_none_or(|(at, _)| f < *at) {
                first_error = Some((f, e));
            }
        }
    }
    for (i, field) in schema.fields.iter().enumerate() {
        if let Some((_, e)) = first_error.take_if(|(at, _)| *at == i) {
            return Err(e);
        }
        if !field.nullable && slots[i].is_null() {
            let reason = if columns.present[i] {
                format!("field '{}' is required but empty", field.name)
            } else {
                format!(
                    "field '{}' is required but the header has no such column",
                    field.name
                )
            };
            return Err(RecordError::field(
                RejectCode::MissingField,
                &field.name,
                reason,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(b: &str) -> Vec<usize> {
        let b = b.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        let mut st = ScanState::FieldStart;
        while let Some(e) = find_record_end(b, i, &mut st, b',') {
            out.push(e);
            i = e + 1;
            st = ScanState::FieldStart;
        }
        out
    }

    /// The byte-at-a-time scan that `scan_plain` must agree with.
    fn scan_plain_reference(b: &[u8], from: usize, delim: u8) -> (Plain, Vec<Span>) {
        let mut spans = Vec::new();
        let mut start = from;
        for (j, &c) in b.iter().enumerate().skip(from) {
            let span = Span::Plain((start - from) as u32, (j - from) as u32);
            if c == b'\n' {
                spans.push(span);
                return (Plain::End(j), spans);
            } else if c == b'"' {
                return (Plain::Quoted, spans);
            } else if c == delim {
                spans.push(span);
                start = j + 1;
            }
        }
        (Plain::NoEnd, spans)
    }

    #[test]
    fn word_scan_matches_the_byte_scan() {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for delim in [b',', b';', b'\t', b'|'] {
            let mut stop = [false; 256];
            for c in [delim, b'"', b'\n'] {
                stop[c as usize] = true;
            }
            for _ in 0..5_000 {
                let len = (next() % 48) as usize;
                // Stops, their neighbours (a borrow-based test would flag
                // them), high bytes and plain text.
                let bytes: Vec<u8> = (0..len)
                    .map(|_| match next() % 12 {
                        0 => delim,
                        1 => delim ^ 1,
                        2 => b'\n',
                        3 if next() % 4 == 0 => b'"',
                        4 => 0x80 | next() as u8,
                        5 => 0,
                        _ => b'a' + (next() % 26) as u8,
                    })
                    .collect();
                for from in 0..=len {
                    let mut spans = Vec::new();
                    let got = scan_plain(&bytes, from, delim, &stop, &mut spans);
                    let (want, want_spans) = scan_plain_reference(&bytes, from, delim);
                    assert_eq!(got, want, "{bytes:?} from {from}");
                    if want != Plain::Quoted {
                        assert_eq!(spans, want_spans, "{bytes:?} from {from}");
                    }
                }
            }
        }
    }

    #[test]
    fn record_ends_respect_quotes() {
        assert_eq!(ends("a,b\nc,d\n"), vec![3, 7]);
        assert_eq!(ends("a,\"b\nc\",d\ne\n"), vec![9, 11]);
        assert_eq!(ends("\"a\"\"\n\"\nx\n"), vec![6, 8]);
        // A stray quote does not open a quoted section.
        assert_eq!(ends("ab\"c,d\ne\n"), vec![6, 8]);
        // After a closing quote, junk returns to unquoted scanning.
        assert_eq!(ends("\"a\"x\"\ny\n"), vec![5, 7]);
    }

    #[test]
    fn record_ends_resume_across_chunks() {
        let whole = b"a,\"b\nc\"\"d\",e\nf\n";
        for cut in 0..whole.len() {
            let mut st = ScanState::FieldStart;
            let first = find_record_end(&whole[..cut], 0, &mut st, b',');
            let end = match first {
                Some(e) => e,
                None => cut + find_record_end(&whole[cut..], 0, &mut st, b',').unwrap(),
            };
            assert_eq!(end, 12, "cut at {cut}");
        }
    }

    fn split(rec: &str) -> Result<Vec<String>, RejectCode> {
        let mut spans = Vec::new();
        let mut scratch = String::new();
        split_fields(rec, b',', &mut spans, &mut scratch).map_err(|e| e.code)?;
        Ok(spans
            .iter()
            .map(|s| span_text(rec, &scratch, *s).to_string())
            .collect())
    }

    #[test]
    fn splits_fields() {
        assert_eq!(split("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(split("").unwrap(), [""]);
        assert_eq!(split(",").unwrap(), ["", ""]);
        assert_eq!(
            split("\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",").unwrap(),
            ["a,b", "say \"hi\"", "x\ny", ""]
        );
        assert_eq!(split("\"\"").unwrap(), [""]);
        assert_eq!(split("ab\"c").unwrap_err(), RejectCode::MalformedCsv);
        assert_eq!(split("\"ab\"c,d").unwrap_err(), RejectCode::MalformedCsv);
        assert_eq!(split("\"ab").unwrap_err(), RejectCode::MalformedCsv);
        assert_eq!(split("x,\"ab\"\"").unwrap_err(), RejectCode::MalformedCsv);
    }

    #[test]
    fn header_maps_columns() {
        let schema = Schema::from_json(
            r#"{"fields":[{"name":"a","type":"int64"},{"name":"b","type":"string","nullable":false}]}"#,
        )
        .unwrap();
        let c = Columns::from_header(&schema, &["x", "b", "a"]);
        assert_eq!(c.fields, vec![None, Some(1), Some(0)]);
        assert_eq!(c.duplicate, None);
        let c = Columns::from_header(&schema, &["a", "a"]);
        assert_eq!(c.duplicate, Some(0));
        assert_eq!(c.present, vec![true, false]);
    }

    #[test]
    fn converts_text() {
        let schema = Schema::from_json(
            r#"{"fields":[{"name":"i","type":"int64"},{"name":"f","type":"float64"},
                {"name":"b","type":"bool"},{"name":"t","type":"timestamp","unit":"s"},
                {"name":"s","type":"string"}]}"#,
        )
        .unwrap();
        let conv = |f: usize, rec: &str, span: Span| {
            let mut slot = Slot::Absent;
            convert(&schema.fields[f], rec, "", span, &mut slot).map(|()| slot)
        };
        assert_eq!(conv(0, "42", Span::Plain(0, 2)), Ok(Slot::Int(42)));
        assert_eq!(conv(0, "", Span::Plain(0, 0)), Ok(Slot::Null));
        assert_eq!(
            conv(0, "", Span::Quoted(0, 0)).unwrap_err().code,
            RejectCode::TypeMismatch
        );
        assert_eq!(conv(0, "4.0", Span::Plain(0, 3)), Ok(Slot::Int(4)));
        assert_eq!(
            conv(0, " 4", Span::Plain(0, 2)).unwrap_err().code,
            RejectCode::TypeMismatch
        );
        assert_eq!(conv(1, "-1.5e1", Span::Plain(0, 6)), Ok(Slot::Float(-15.0)));
        assert_eq!(conv(2, "TRUE", Span::Plain(0, 4)), Ok(Slot::Bool(true)));
        assert_eq!(conv(2, "False", Span::Plain(0, 5)), Ok(Slot::Bool(false)));
        assert_eq!(
            conv(2, "1", Span::Plain(0, 1)).unwrap_err().code,
            RejectCode::TypeMismatch
        );
        assert_eq!(conv(3, "2", Span::Plain(0, 1)), Ok(Slot::Int(2000)));
        assert_eq!(
            conv(3, "1970-01-01T00:00:01+00:00", Span::Plain(0, 25)),
            Ok(Slot::Int(1000))
        );
        assert_eq!(
            conv(3, "yesterday", Span::Plain(0, 9)).unwrap_err().code,
            RejectCode::InvalidTimestamp
        );
        assert_eq!(conv(4, "\"\"", Span::Quoted(1, 1)), Ok(Slot::Text(1, 1)));
    }
}
