//! NDJSON: one flat JSON object per line, read straight into [`Slot`]s.
//!
//! A hand-written scanner over the record's bytes: keys are matched to
//! schema fields (trying the field after the previous one first, since keys
//! usually come in schema order: its whole `"name":` literal is compared
//! before the key is scanned at all), values are parsed into their field's type
//! on the spot, and values of unknown keys are skipped — validated but never
//! built. Nesting is tracked on an explicit stack, so depth cannot overflow
//! the call stack.

use ahash::AHashMap;
use pulse_schema::{EpochUnit, FieldType, Schema};

use crate::columns::Slot;
use crate::reject::{RecordError, RejectCode};
use crate::value::{
    float64_from_number, int64_from_number, mismatch, scan_number, timestamp_from_number,
    timestamp_from_text, NumberToken,
};
use crate::word;

/// Bytes that end a fast run inside a JSON string: quote, backslash and
/// the control characters JSON forbids unescaped.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The first byte at or after `i` that ends a fast run in a string
/// (see [`STRING_STOP`]), or `b.len()`: eight bytes per step while a whole
/// word is left (quote, backslash and control bytes flagged at once).
#[inline]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let w = word::load(b, i);
        let stop = word::equal(w, word::splat(b'"'))
            | word::equal(w, word::splat(b'\\'))
            | word::below(w, 0x20);
        if stop != 0 {
            return i + word::first(stop);
        }
        i += 8;
    }
    while i < b.len() && !STRING_STOP[b[i] as usize] {
        i += 1;
    }
    i
}

/// What the reader needs of one schema field.
struct FieldInfo {
    name: String,
    ty: FieldType,
    unit: EpochUnit,
    /// The bytes `"name":` when the name needs no escape in JSON: records
    /// written by one producer repeat their keys in schema order, so the
    /// reader first tries the expected field's key as one literal.
    key_literal: Option<Box<[u8]>>,
}

/// `"name":`, or `None` when the name holds a byte JSON would escape (such
/// a key never appears verbatim, and its raw bytes could match broken text).
fn key_literal(name: &str) -> Option<Box<[u8]>> {
    if name.bytes().any(|c| STRING_STOP[c as usize]) {
        return None;
    }
    let mut lit = Vec::with_capacity(name.len() + 3);
    lit.push(b'"');
    lit.extend_from_slice(name.as_bytes());
    lit.extend_from_slice(b"\":");
    Some(lit.into_boxed_slice())
}

/// Reads NDJSON records against one schema.
pub struct JsonReader {
    fields: Vec<FieldInfo>,
    lookup: AHashMap<Box<[u8]>, usize>,
    /// Open containers while skipping a nested value.
    stack: Vec<u8>,
    key: String,
}

/// A string token: the bytes between its quotes and whether it has escapes.
#[derive(Clone, Copy)]
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

/// The syntax is broken; the message says where. Boxed to keep `Syntax`
/// results small on the hot path.
struct Malformed(Box<str>);

type Syntax<T> = Result<T, Malformed>;

#[cold]
fn malformed<T>(at: usize, what: &str) -> Syntax<T> {
    Err(Malformed(
        format!("malformed JSON at byte {at}: {what}").into_boxed_str(),
    ))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn expect(&mut self, c: u8, what: &str) -> Syntax<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            malformed(self.i, what)
        }
    }

    /// Scans a string whose opening quote is at `i`. Always inlined, so the
    /// token stays in registers (returned through memory, it stalled the
    /// reads that follow).
    #[inline(always)]
    fn string(&mut self) -> Syntax<Str> {
        let b = self.b;
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = skip_plain(b, i);
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(Str {
                        start,
                        end: i,
                        escaped,
                    });
                }
                Some(b'\\') => {
                    escaped = true;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            if b.len() < i + 6 || !b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
                            {
                                return malformed(i, "\\u needs four hex digits");
                            }
                            i += 6;
                        }
                        _ => return malformed(i, "invalid escape"),
                    }
                }
                Some(_) => return malformed(i, "control character in string"),
                None => return malformed(i, "unterminated string"),
            }
        }
    }

    /// Checks for a literal (`true`, `false`, `null`) at `i`.
    #[inline]
    fn literal(&mut self, word: &[u8]) -> Syntax<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            malformed(self.i, "invalid literal")
        }
    }

    #[inline]
    fn number(&mut self) -> Syntax<(usize, NumberToken)> {
        let start = self.i;
        match scan_number(self.b, start) {
            Some(t) => {
                self.i = t.end;
                Ok((start, t))
            }
            None => malformed(start, "invalid number"),
        }
    }

    /// Skips one value of any kind, checking its syntax.
    fn skip_value(&mut self, stack: &mut Vec<u8>) -> Syntax<()> {
        stack.clear();
        'value: loop {
            self.ws();
            match self.peek() {
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'{') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                    } else {
                        stack.push(b'}');
                        self.member_key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    } else {
                        stack.push(b']');
                        continue 'value;
                    }
                }
                Some(_) => return malformed(self.i, "expected a value"),
                None => return malformed(self.i, "unexpected end of record"),
            }
            // After a value: close containers or move to the next element.
            loop {
                let Some(&close) = stack.last() else {
                    return Ok(());
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if close == b'}' {
                            self.ws();
                            self.member_key()?;
                        }
                        continue 'value;
                    }
                    Some(c) if c == close => {
                        self.i += 1;
                        stack.pop();
                    }
                    _ => return malformed(self.i, "expected ',' or a closing bracket"),
                }
            }
        }
    }

    /// `"key" :` inside an object being skipped.
    fn member_key(&mut self) -> Syntax<()> {
        if self.peek() != Some(b'"') {
            return malformed(self.i, "expected a key");
        }
        self.string()?;
        self.ws();
        self.expect(b':', "expected ':'")
    }
}

/// Appends a string token's decoded text to `out`; `false` when it holds an
/// unpaired surrogate escape (which has no UTF-8 form).
fn decode_into(rec: &str, s: Str, out: &mut String) -> bool {
    let b = rec.as_bytes();
    let mut whole = true;
    let mut i = s.start;
    let mut run = i;
    while i < s.end {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&rec[run..i]);
        let c = b[i + 1];
        i += 2;
        match c {
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let unit = hex4(&b[i..i + 4]);
                i += 4;
                let ch = if (0xD800..0xDC00).contains(&unit) {
                    let low = (b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u'))
                        .then(|| hex4(&b[i + 2..i + 6]))
                        .filter(|u| (0xDC00..0xE000).contains(u));
                    match low {
                        Some(low) => {
                            i += 6;
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        }
                        None => None,
                    }
                } else {
                    char::from_u32(unit)
                };
                match ch {
                    Some(ch) => out.push(ch),
                    None => {
                        whole = false;
                        out.push('\u{FFFD}');
                    }
                }
            }
            other => out.push(other as char),
        }
        run = i;
    }
    out.push_str(&rec[run..s.end]);
    whole
}

fn hex4(h: &[u8]) -> u32 {
    h.iter().fold(0, |v, &c| {
        v * 16
            + match c {
                b'0'..=b'9' => (c - b'0') as u32,
                b'a'..=b'f' => (c - b'a' + 10) as u32,
                _ => (c - b'A' + 10) as u32,
            }
    })
}

/// The first problem of a record: syntax beats everything, then a
/// duplicated key, then field problems in schema order.
#[derive(Default)]
struct Problems {
    duplicate: Option<usize>,
    field: Option<(usize, RecordError)>,
}

impl Problems {
    #[inline]
    fn field_error(&mut self, index: usize, e: RecordError) {
        if self.field.as_ref().is_none_or(|(i, _)| index < *i) {
            self.field = Some((index, e));
        }
    }
}

impl JsonReader {
    pub fn new(schema: &Schema) -> JsonReader {
        JsonReader {
            fields: schema
                .fields
                .iter()
                .map(|f| FieldInfo {
                    name: f.name.clone(),
                    ty: f.ty,
                    unit: f.unit,
                    key_literal: key_literal(&f.name),
                })
                .collect(),
            lookup: schema
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.as_bytes().into(), i))
                .collect(),
            stack: Vec::new(),
            key: String::new(),
        }
    }

    /// Reads one record (a line without its terminator) into `slots`.
    /// `Ok` means the record is good and every slot is filled; the caller
    /// still checks non-nullable fields.
    pub fn read(
        &mut self,
        rec: &str,
        slots: &mut [Slot],
        scratch: &mut String,
        schema: &Schema,
    ) -> Result<(), RecordError> {
        slots.fill(Slot::Absent);
        scratch.clear();
        let mut problems = Problems::default();
        let mut cur = Cursor {
            b: rec.as_bytes(),
            i: 0,
        };
        let syntax = self.object(rec, &mut cur, slots, scratch, &mut problems);
        match syntax {
            Err(Malformed(reason)) => {
                return Err(RecordError::record(RejectCode::MalformedJson, reason));
            }
            Ok(false) => {
                return Err(RecordError::record(
                    RejectCode::NotAnObject,
                    "the record is valid JSON but not an object",
                ));
            }
            Ok(true) => {}
        }
        if let Some(i) = problems.duplicate {
            let name = &self.fields[i].name;
            return Err(RecordError::field(
                RejectCode::DuplicateKey,
                name,
                format!("key '{name}' appears more than once"),
            ));
        }
        for (i, f) in schema.fields.iter().enumerate() {
            if let Some((_, e)) = problems.field.take_if(|(at, _)| *at == i) {
                return Err(e);
            }
            if !f.nullable && slots[i].is_null() {
                return Err(RecordError::field(
                    RejectCode::MissingField,
                    &f.name,
                    format!("field '{}' is required but missing or null", f.name),
                ));
            }
        }
        Ok(())
    }

    /// Scans the whole record. `Ok(false)`: valid JSON, but not an object.
    fn object(
        &mut self,
        rec: &str,
        cur: &mut Cursor,
        slots: &mut [Slot],
        scratch: &mut String,
        problems: &mut Problems,
    ) -> Syntax<bool> {
        cur.ws();
        if cur.peek() != Some(b'{') {
            cur.skip_value(&mut self.stack)?;
            cur.ws();
            return if cur.i == cur.b.len() {
                Ok(false)
            } else {
                malformed(cur.i, "unexpected text after the value")
            };
        }
        cur.i += 1;
        cur.ws();
        let mut expected = 0usize;
        if cur.peek() == Some(b'}') {
            cur.i += 1;
        } else {
            loop {
                let schema_field = match self.expected_key(cur, expected) {
                    Some(f) => Some(f),
                    None => {
                        if cur.peek() != Some(b'"') {
                            return malformed(cur.i, "expected a key");
                        }
                        let key = cur.string()?;
                        cur.ws();
                        cur.expect(b':', "expected ':'")?;
                        self.field_of(rec, key, expected)
                    }
                };
                cur.ws();
                match schema_field {
                    Some(f) => {
                        expected = f + 1;
                        if slots[f] != Slot::Absent {
                            problems.duplicate.get_or_insert(f);
                            cur.skip_value(&mut self.stack)?;
                        } else {
                            slots[f] = Slot::Null;
                            let field = &self.fields[f];
                            let slot = &mut slots[f];
                            if let Err(e) = value(field, rec, cur, &mut self.stack, scratch, slot)?
                            {
                                problems.field_error(f, e);
                            }
                        }
                    }
                    None => cur.skip_value(&mut self.stack)?,
                }
                cur.ws();
                match cur.peek() {
                    Some(b',') => {
                        cur.i += 1;
                        cur.ws();
                    }
                    Some(b'}') => {
                        cur.i += 1;
                        break;
                    }
                    _ => return malformed(cur.i, "expected ',' or '}'"),
                }
            }
        }
        cur.ws();
        if cur.i != cur.b.len() {
            return malformed(cur.i, "unexpected text after the object");
        }
        Ok(true)
    }

    /// The expected field, when its key literal (`"name":`) is next: the
    /// cursor moves past it. Anything else (escapes, spaces before the
    /// colon, another key) takes the general path.
    #[inline(always)]
    fn expected_key(&self, cur: &mut Cursor, expected: usize) -> Option<usize> {
        let lit = self.fields.get(expected)?.key_literal.as_deref()?;
        let end = cur.i + lit.len();
        if end <= cur.b.len() && same_key(lit, &cur.b[cur.i..end]) {
            cur.i = end;
            Some(expected)
        } else {
            None
        }
    }

    /// The schema field a key names, trying the expected one first.
    #[inline]
    fn field_of(&mut self, rec: &str, key: Str, expected: usize) -> Option<usize> {
        let bytes = if key.escaped {
            self.key.clear();
            let mut k = std::mem::take(&mut self.key);
            let whole = decode_into(rec, key, &mut k);
            self.key = k;
            if !whole {
                return None;
            }
            self.key.as_bytes()
        } else {
            &rec.as_bytes()[key.start..key.end]
        };
        if let Some(f) = self.fields.get(expected) {
            if same_key(f.name.as_bytes(), bytes) {
                return Some(expected);
            }
        }
        self.lookup.get(bytes).copied()
    }
}

/// Key equality without a `memcmp` call: keys are short, and a library
/// call per key cost more than the comparison itself. Two overlapping word
/// loads cover every length up to 16 bytes.
#[inline(always)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word4 = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap());
    let word8 = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

/// Reads the value of `field` into `slot` (left `Null` on a field error).
/// The outer `Result` is syntax; the inner one is the field's own verdict.
/// Each arm stores its own slot: returning the slot by value merged every
/// arm into one odd-sized copy of the enum, a store-forwarding stall per
/// field.
#[inline]
fn value(
    field: &FieldInfo,
    rec: &str,
    cur: &mut Cursor,
    stack: &mut Vec<u8>,
    scratch: &mut String,
    slot: &mut Slot,
) -> Syntax<Result<(), RecordError>> {
    let ty = field.ty;
    let name = field.name.as_str();
    Ok(match cur.peek() {
        Some(b'"') => {
            let s = cur.string()?;
            match ty {
                FieldType::String if !s.escaped => {
                    *slot = Slot::text(s.start, s.end);
                    Ok(())
                }
                FieldType::String => {
                    let from = scratch.len();
                    if decode_into(rec, s, scratch) {
                        *slot = Slot::Scratch(from as u32, scratch.len() as u32);
                        Ok(())
                    } else {
                        Err(RecordError::field(
                            RejectCode::InvalidUtf8,
                            name,
                            format!("field '{name}': string holds an unpaired surrogate escape"),
                        ))
                    }
                }
                FieldType::Timestamp if !s.escaped => {
                    timestamp_from_text(name, &rec.as_bytes()[s.start..s.end])
                        .map(|v| *slot = Slot::Int(v))
                }
                FieldType::Timestamp => {
                    let mut text = String::new();
                    decode_into(rec, s, &mut text);
                    timestamp_from_text(name, text.as_bytes()).map(|v| *slot = Slot::Int(v))
                }
                _ => Err(mismatch(name, ty.name(), "string")),
            }
        }
        Some(b'-' | b'0'..=b'9') => {
            let (start, t) = cur.number()?;
            let tok = &rec.as_bytes()[start..cur.i];
            let small = t.small_int;
            match ty {
                FieldType::Int64 => {
                    int64_from_number(name, tok, small).map(|v| *slot = Slot::Int(v))
                }
                FieldType::Float64 => {
                    float64_from_number(name, tok, small, t.decimal).map(|v| *slot = Slot::Float(v))
                }
                FieldType::Timestamp => timestamp_from_number(name, tok, small, field.unit)
                    .map(|v| *slot = Slot::Int(v)),
                _ => Err(mismatch(name, ty.name(), "number")),
            }
        }
        Some(b't') => {
            cur.literal(b"true")?;
            if ty == FieldType::Bool {
                *slot = Slot::Bool(true);
                Ok(())
            } else {
                Err(mismatch(name, ty.name(), "boolean"))
            }
        }
        Some(b'f') => {
            cur.literal(b"false")?;
            if ty == FieldType::Bool {
                *slot = Slot::Bool(false);
                Ok(())
            } else {
                Err(mismatch(name, ty.name(), "boolean"))
            }
        }
        Some(b'n') => {
            cur.literal(b"null")?;
            Ok(())
        }
        Some(c @ (b'{' | b'[')) => {
            cur.skip_value(stack)?;
            Err(mismatch(
                name,
                ty.name(),
                if c == b'{' { "object" } else { "array" },
            ))
        }
        Some(_) => return malformed(cur.i, "expected a value"),
        None => return malformed(cur.i, "unexpected end of record"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::from_json(
            r#"{"fields":[
                {"name":"ts","type":"timestamp","nullable":false},
                {"name":"s","type":"string"},
                {"name":"i","type":"int64"},
                {"name":"f","type":"float64"},
                {"name":"b","type":"bool"}],"eventTime":"ts"}"#,
        )
        .unwrap()
    }

    fn read(rec: &str) -> Result<(Vec<Slot>, String), RecordError> {
        let s = schema();
        let mut r = JsonReader::new(&s);
        let mut slots = vec![Slot::Absent; s.fields.len()];
        let mut scratch = String::new();
        r.read(rec, &mut slots, &mut scratch, &s)?;
        Ok((slots, scratch))
    }

    fn code(rec: &str) -> RejectCode {
        read(rec).unwrap_err().code
    }

    /// Reads `rec` with and without the key-literal fast path.
    fn read_both(rec: &str) -> [Result<(Vec<Slot>, String), RecordError>; 2] {
        let s = schema();
        let mut fast = JsonReader::new(&s);
        let mut general = JsonReader::new(&s);
        for f in &mut general.fields {
            f.key_literal = None;
        }
        [&mut fast, &mut general].map(|r| {
            let mut slots = vec![Slot::Absent; s.fields.len()];
            let mut scratch = String::new();
            r.read(rec, &mut slots, &mut scratch, &s)
                .map(|()| (slots, scratch))
        })
    }

    #[test]
    fn key_literals_only_for_names_json_writes_verbatim() {
        assert_eq!(key_literal("ts").as_deref(), Some(&b"\"ts\":"[..]));
        assert_eq!(key_literal("a\"b"), None);
        assert_eq!(key_literal("a\\b"), None);
        assert_eq!(key_literal("tab\there"), None);
    }

    proptest::proptest! {
        /// The fast path reads exactly what the general path reads: keys in
        /// or out of order, escaped, spaced, repeated, unknown or cut short,
        /// and values of any kind.
        #[test]
        fn expected_key_literals_read_like_the_general_path(
            members in proptest::collection::vec((0usize..9, 0usize..4, 0usize..8), 0..8),
            cut in proptest::option::of(0usize..80),
        ) {
            const KEYS: [&str; 9] = ["ts", "s", "i", "f", "b", "x", "t\\u0073", "tsx", "s\\\"q"];
            const SEPS: [&str; 4] = [":", " :", ": ", "\t:\n"];
            const VALUES: [&str; 8] = ["1000", "\"abc\"", "-3", "2.5", "true", "null", "{\"k\":[1]}", "\"1970-01-01T00:00:01Z\""];
            let body: Vec<String> = members
                .iter()
                .map(|&(k, sep, v)| format!("\"{}\"{}{}", KEYS[k], SEPS[sep], VALUES[v]))
                .collect();
            let mut rec = format!("{{{}}}", body.join(","));
            if let Some(at) = cut {
                rec.truncate(at.min(rec.len()));
            }
            let [fast, general] = read_both(&rec);
            proptest::prop_assert_eq!(fast, general, "record {}", rec);
        }
    }

    #[test]
    fn reads_a_flat_object() {
        let rec = r#"{"ts":1000,"s":"abc","i":-3,"f":2.5,"b":true}"#;
        let (slots, _) = read(rec).unwrap();
        assert_eq!(slots[0], Slot::Int(1000));
        assert_eq!(slots[1], Slot::text(16, 19));
        assert_eq!(slots[2], Slot::Int(-3));
        assert_eq!(slots[3], Slot::Float(2.5));
        assert_eq!(slots[4], Slot::Bool(true));
    }

    #[test]
    fn keys_in_any_order_unknown_keys_skipped() {
        let rec = r#" { "b" : false , "x":{"deep":[1,{"a":[]},"s\"]"]}, "ts":"1970-01-01T00:00:01Z","y":null } "#;
        let (slots, _) = read(rec).unwrap();
        assert_eq!(slots[0], Slot::Int(1000));
        assert_eq!(slots[1], Slot::Absent);
        assert_eq!(slots[4], Slot::Bool(false));
    }

    #[test]
    fn escapes_and_surrogates() {
        let rec = r#"{"ts":0,"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00z"}"#;
        let (slots, scratch) = read(rec).unwrap();
        let Slot::Scratch(a, b) = slots[1] else {
            panic!("expected decoded text")
        };
        assert_eq!(
            &scratch[a as usize..b as usize],
            "a\"\\/\u{8}\u{c}\n\r\té😀z"
        );
        let e = read(r#"{"ts":0,"s":"\ud83d"}"#).unwrap_err();
        assert_eq!(e.code, RejectCode::InvalidUtf8);
        assert_eq!(e.field.as_deref(), Some("s"));
        assert_eq!(code(r#"{"ts":0,"s":"\udc00x"}"#), RejectCode::InvalidUtf8);
        // An escaped key still names its field.
        let (slots, _) = read(r#"{"\u0074s":5}"#).unwrap();
        assert_eq!(slots[0], Slot::Int(5));
    }

    #[test]
    fn syntax_errors_are_malformed() {
        for rec in [
            r#"{"ts":1"#,
            r#"{"ts":1,}"#,
            r#"{"ts" 1}"#,
            r#"{ts:1}"#,
            r#"{"ts":01}"#,
            r#"{"ts":1} x"#,
            r#"{"ts":1}{"ts":2}"#,
            r#"{"ts":tru}"#,
            r#"{"ts":1,"x":[1,2}"#,
            r#"{"ts":1,"x":"a\qb"}"#,
            "{\"ts\":1,\"x\":\"a\tb\"}",
            r#"{"ts":1,"x":"\u12"}"#,
            r#"{"ts":NaN}"#,
            r#"[1,2"#,
            "",
            "\u{feff}{\"ts\":1}",
        ] {
            assert_eq!(code(rec), RejectCode::MalformedJson, "{rec}");
        }
    }

    #[test]
    fn non_objects() {
        for rec in ["[1,2]", "5", "\"x\"", "null", "true", " [ ] "] {
            assert_eq!(code(rec), RejectCode::NotAnObject, "{rec}");
        }
    }

    #[test]
    fn precedence_syntax_then_duplicate_then_schema_order() {
        // A type error before a syntax error: the syntax error wins.
        assert_eq!(code(r#"{"ts":"x","i":1"#), RejectCode::MalformedJson);
        // A duplicate beats type errors.
        let e = read(r#"{"ts":0,"i":"x","i":2}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (RejectCode::DuplicateKey, Some("i"))
        );
        // Unknown keys may repeat.
        assert!(read(r#"{"ts":0,"x":1,"x":2}"#).is_ok());
        // Field errors are reported in schema order, not key order.
        let e = read(r#"{"b":1,"i":"x","ts":0}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("i"));
        let e = read(r#"{"b":1,"i":2}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (RejectCode::MissingField, Some("ts"))
        );
    }

    #[test]
    fn strict_types() {
        assert_eq!(code(r#"{"ts":0,"i":"3"}"#), RejectCode::TypeMismatch);
        assert_eq!(code(r#"{"ts":0,"i":3.5}"#), RejectCode::TypeMismatch);
        assert_eq!(code(r#"{"ts":0,"i":1e19}"#), RejectCode::OutOfRange);
        assert_eq!(code(r#"{"ts":0,"f":"1.5"}"#), RejectCode::TypeMismatch);
        assert_eq!(code(r#"{"ts":0,"f":1e999}"#), RejectCode::OutOfRange);
        assert_eq!(code(r#"{"ts":0,"b":1}"#), RejectCode::TypeMismatch);
        assert_eq!(code(r#"{"ts":0,"s":1}"#), RejectCode::TypeMismatch);
        assert_eq!(code(r#"{"ts":0,"s":{"a":1}}"#), RejectCode::TypeMismatch);
        assert_eq!(code(r#"{"ts":0,"s":[]}"#), RejectCode::TypeMismatch);
        assert_eq!(code(r#"{"ts":true}"#), RejectCode::TypeMismatch);
        assert_eq!(
            code(r#"{"ts":"2026-01-01T00:00:00"}"#),
            RejectCode::InvalidTimestamp
        );
        assert_eq!(
            code(r#"{"ts":"1700000000000"}"#),
            RejectCode::InvalidTimestamp
        );
        assert_eq!(code(r#"{"ts":null}"#), RejectCode::MissingField);
        let (slots, _) = read(r#"{"ts":0,"i":3e2,"f":-0}"#).unwrap();
        assert_eq!(slots[2], Slot::Int(300));
        assert_eq!(slots[3], Slot::Float(-0.0));
    }

    #[test]
    fn plain_runs_stop_where_the_table_says() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let len = (rng % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    // Mostly plain text, some stops and high bytes.
                    match rng % 16 {
                        0 => b'"',
                        1 => b'\\',
                        2 => (rng >> 8) as u8 % 0x20,
                        3 => 0x80 | (rng >> 8) as u8,
                        _ => b'a' + (rng >> 8) as u8 % 26,
                    }
                })
                .collect();
            for from in 0..=len {
                let want = (from..len)
                    .find(|&k| STRING_STOP[bytes[k] as usize])
                    .unwrap_or(len);
                assert_eq!(skip_plain(&bytes, from), want, "{bytes:?} from {from}");
            }
        }
    }

    #[test]
    fn key_equality_at_every_length() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_key(&a, &a.clone()));
            for at in 0..n {
                let mut b = a.clone();
                b[at] = b'#';
                assert!(!same_key(&a, &b), "length {n}, differs at {at}");
            }
            assert!(!same_key(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn deep_nesting_is_iterative() {
        let depth = 200_000;
        let rec = format!(
            "{{\"ts\":0,\"x\":{}{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(read(&rec).is_ok());
        let bad = format!("{{\"ts\":0,\"x\":{}}}", "[".repeat(depth));
        assert_eq!(code(&bad), RejectCode::MalformedJson);
    }
}
