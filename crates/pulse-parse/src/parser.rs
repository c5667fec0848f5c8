//! The stream: chunks in, records out. Finds record boundaries across
//! chunks, tracks lines and byte offsets, skips the BOM, enforces the record
//! size limit and UTF-8, then hands each record to its format's reader.

use std::sync::Arc;

use arrow_schema::SchemaRef;
use memchr::{memchr, memchr_iter, memrchr};
use pulse_schema::Schema;

use crate::columns::{Columns as Builders, ParsedBatch, Slot};
use crate::csv::{self, find_record_end, Layout, Plain, ScanState, Span};
use crate::json::JsonReader;
use crate::options::{Format, ParseError, ParseOptions};
use crate::reject::{raw_text, RecordError, Reject, RejectCode, RAW_BYTES};

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// Running totals since the parser was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Records read (rows + rejects); a good CSV header is not a record.
    pub records: u64,
    pub rows: u64,
    pub rejects: u64,
    /// Bytes pushed.
    pub bytes: u64,
}

/// The record that began in an earlier chunk and has not ended yet.
#[derive(Default)]
struct Pending {
    active: bool,
    /// Its bytes so far, or only the first `RAW_BYTES` once it is too large.
    bytes: Vec<u8>,
    too_large: bool,
    /// Length so far, and LFs inside it (CSV quoted newlines).
    len: u64,
    /// Whether its last byte so far is a CR (dropped if the LF follows).
    ends_with_cr: bool,
    newlines: u64,
    line: u64,
    offset: u64,
    state: ScanState,
}

/// A chunked CSV / NDJSON parser; see the crate docs.
pub struct Parser {
    schema: Arc<Schema>,
    opts: ParseOptions,
    delim: u8,
    /// CSV bytes that end a plain field: delimiter, quote, LF.
    plain_stop: [bool; 256],
    builders: Builders,
    rejects: Vec<Reject>,
    stats: ParseStats,
    json: JsonReader,
    layout: Layout,
    /// Line of the next record.
    line: u64,
    /// Stream offset of the next byte fed.
    pos: u64,
    /// At the stream start, the bytes that may still be a BOM.
    bom: Option<Vec<u8>>,
    pending: Pending,
    slots: Vec<Slot>,
    spans: Vec<Span>,
    scratch: String,
}

impl Parser {
    pub fn new(schema: Arc<Schema>, opts: ParseOptions) -> Result<Parser, ParseError> {
        schema.validate()?;
        opts.validate()?;
        let layout = if opts.format == Format::Csv && opts.header {
            Layout::AwaitingHeader
        } else {
            Layout::Ready(csv::Columns::positional(&schema))
        };
        let mut plain_stop = [false; 256];
        for c in [opts.delimiter_byte(), b'"', b'\n'] {
            plain_stop[c as usize] = true;
        }
        Ok(Parser {
            plain_stop,
            delim: opts.delimiter_byte(),
            builders: Builders::new(&schema, opts.batch_size),
            json: JsonReader::new(&schema),
            slots: vec![Slot::Absent; schema.fields.len()],
            rejects: Vec::new(),
            stats: ParseStats::default(),
            layout,
            line: 1,
            pos: 0,
            bom: Some(Vec::with_capacity(3)),
            pending: Pending::default(),
            spans: Vec::new(),
            scratch: String::new(),
            schema,
            opts,
        })
    }

    /// Feeds the next chunk; complete records are parsed now, a trailing
    /// partial record is kept. Bad data becomes rejects, never an error.
    pub fn push(&mut self, chunk: &[u8]) {
        self.stats.bytes += chunk.len() as u64;
        let Some(head) = self.bom.as_mut() else {
            self.feed(chunk);
            return;
        };
        let take = (3 - head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..take]);
        if head[..] == BOM[..head.len()] {
            if head.len() < 3 {
                return;
            }
            self.bom = None;
            self.pos = 3;
        } else if let Some(head) = self.bom.take() {
            self.feed(&head);
        }
        self.feed(&chunk[take..]);
    }

    /// End of input: parses a final record that has no newline, and reports
    /// an unterminated quoted field.
    pub fn finish(&mut self) {
        if let Some(head) = self.bom.take() {
            self.feed(&head);
        }
        if self.pending.active {
            self.end_pending(true);
        }
    }

    /// Starts a new stream (a new object): line and offset counters, header
    /// and BOM detection start over. An unfinished record of the old stream
    /// is finished first, never dropped. Built rows and rejects not yet
    /// taken are kept.
    pub fn reset(&mut self) {
        self.finish();
        self.line = 1;
        self.pos = 0;
        self.bom = Some(Vec::with_capacity(3));
        if self.opts.format == Format::Csv && self.opts.header {
            self.layout = Layout::AwaitingHeader;
        }
    }

    /// Batches completed so far, each holding `batch_size` rows.
    pub fn take_batches(&mut self) -> Vec<ParsedBatch> {
        self.builders.take_batches()
    }

    /// Closes the batch being filled, so `take_batches` returns every row.
    pub fn flush(&mut self) {
        self.builders.close_batch();
    }

    pub fn take_rejects(&mut self) -> Vec<Reject> {
        std::mem::take(&mut self.rejects)
    }

    pub fn arrow_schema(&self) -> SchemaRef {
        self.builders.arrow_schema()
    }

    pub fn stats(&self) -> ParseStats {
        self.stats
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Rows parsed but not yet in a closed batch.
    pub fn pending_rows(&self) -> usize {
        self.builders.pending_rows()
    }

    /// Finds where the record that starts at `from` ends (its LF).
    #[inline]
    fn record_end(&self, data: &[u8], from: usize, state: &mut ScanState) -> Option<usize> {
        match self.opts.format {
            Format::Ndjson => memchr(b'\n', &data[from..]).map(|r| from + r),
            Format::Csv => {
                if *state == ScanState::FieldStart {
                    // Fast path: a line without quotes ends at its LF.
                    if let Some(r) = memchr::memchr2(b'"', b'\n', &data[from..]) {
                        if data[from + r] == b'\n' {
                            return Some(from + r);
                        }
                    }
                }
                find_record_end(data, from, state, self.delim)
            }
        }
    }

    fn feed(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let base = self.pos;
        self.pos += data.len() as u64;
        let mut i = 0;
        if self.pending.active {
            let mut state = self.pending.state;
            let end = self.record_end(data, 0, &mut state);
            self.pending.state = state;
            match end {
                None => {
                    self.extend_pending(data);
                    return;
                }
                Some(end) => {
                    self.extend_pending(&data[..end]);
                    self.end_pending(false);
                    i = end + 1;
                }
            }
        }
        // Validate UTF-8 once for every complete line of the chunk: LF is
        // ASCII, so each record inside a valid span is valid too.
        let start = i;
        let valid = memrchr(b'\n', &data[i..])
            .and_then(|r| simdutf8::basic::from_utf8(&data[start..start + r]).ok());
        while i < data.len() {
            let mut state = ScanState::FieldStart;
            // CSV records without quotes are split into fields in the same
            // pass that finds their end.
            let (end, split) = match self.opts.format {
                Format::Csv => {
                    match csv::scan_plain(data, i, self.delim, &self.plain_stop, &mut self.spans) {
                        Plain::End(end) => (Some(end), true),
                        Plain::Quoted => (self.record_end(data, i, &mut state), false),
                        Plain::NoEnd => {
                            // The tail has no LF: find the scan state it leaves.
                            find_record_end(data, i, &mut state, self.delim);
                            (None, false)
                        }
                    }
                }
                Format::Ndjson => (self.record_end(data, i, &mut state), false),
            };
            match end {
                Some(end) => {
                    let text = valid
                        .filter(|v| end - start <= v.len())
                        .map(|v| &v[i - start..end - start]);
                    let newlines = split.then_some(0);
                    self.record(&data[i..end], text, base + i as u64, newlines, split);
                    i = end + 1;
                }
                None => {
                    self.start_pending(data, i, base, state);
                    return;
                }
            }
        }
    }

    /// Keeps `data[i..]`, a record that goes on in the next chunk.
    fn start_pending(&mut self, data: &[u8], i: usize, base: u64, state: ScanState) {
        self.pending = Pending {
            active: true,
            bytes: std::mem::take(&mut self.pending.bytes),
            line: self.line,
            offset: base + i as u64,
            state,
            ..Pending::default()
        };
        self.pending.bytes.clear();
        self.extend_pending(&data[i..]);
    }

    /// Adds bytes to the pending record, switching to counting only once it
    /// is certainly too large (one byte of slack for a CR before the LF).
    fn extend_pending(&mut self, data: &[u8]) {
        let p = &mut self.pending;
        if let Some(&last) = data.last() {
            p.ends_with_cr = last == b'\r';
        }
        p.len += data.len() as u64;
        if self.opts.format == Format::Csv {
            p.newlines += memchr_iter(b'\n', data).count() as u64;
        }
        if !p.too_large && p.len > self.opts.max_record_bytes as u64 + 1 {
            p.too_large = true;
            p.bytes.truncate(RAW_BYTES);
        }
        if p.too_large {
            let keep = RAW_BYTES.saturating_sub(p.bytes.len()).min(data.len());
            p.bytes.extend_from_slice(&data[..keep]);
        } else {
            p.bytes.extend_from_slice(data);
        }
    }

    /// The pending record has ended (at an LF, or at the end of input).
    fn end_pending(&mut self, at_eof: bool) {
        let mut p = std::mem::take(&mut self.pending);
        let (line, offset) = (p.line, p.offset);
        if p.too_large {
            if p.ends_with_cr {
                // The CR of a CRLF terminator is not part of the record.
                if p.bytes.len() as u64 == p.len {
                    p.bytes.pop();
                }
                p.len -= 1;
            }
            self.too_large(&p.bytes, p.len, p.newlines, line, offset);
        } else if at_eof && p.state == ScanState::Quoted {
            let rec = strip_cr(&p.bytes);
            if rec.len() > self.opts.max_record_bytes {
                self.too_large(rec, rec.len() as u64, p.newlines, line, offset);
            } else {
                self.line += 1 + p.newlines;
                self.stats.records += 1;
                self.reject(
                    line,
                    offset,
                    rec,
                    RecordError::record(RejectCode::MalformedCsv, "unterminated quoted field"),
                );
                self.header_failed(line);
            }
        } else {
            self.record(&p.bytes, None, offset, Some(p.newlines), false);
        }
        p.bytes.clear();
        self.pending.bytes = p.bytes;
    }

    fn too_large(&mut self, head: &[u8], len: u64, newlines: u64, line: u64, offset: u64) {
        self.line += 1 + newlines;
        self.stats.records += 1;
        let max = self.opts.max_record_bytes;
        self.reject(
            line,
            offset,
            head,
            RecordError::record(
                RejectCode::RecordTooLarge,
                format!("record is larger than maxRecordBytes ({max}): {len} bytes"),
            ),
        );
        self.header_failed(line);
    }

    /// One complete record (without its LF). `text` is the record as
    /// already-validated UTF-8, when known; `split`: a quote-free CSV record
    /// whose fields are already in `spans`.
    fn record(
        &mut self,
        rec: &[u8],
        text: Option<&str>,
        offset: u64,
        newlines: Option<u64>,
        split: bool,
    ) {
        let line = self.line;
        let newlines = newlines.unwrap_or_else(|| match self.opts.format {
            Format::Csv if memchr(b'"', rec).is_some() => memchr_iter(b'\n', rec).count() as u64,
            _ => 0,
        });
        let full = rec.len();
        let rec = strip_cr(rec);
        if split && rec.len() < full {
            // The CR belonged to the last field's span.
            if let Some(Span::Plain(_, e)) = self.spans.last_mut() {
                *e -= 1;
            }
        }
        if rec.len() > self.opts.max_record_bytes {
            self.too_large(rec, rec.len() as u64, newlines, line, offset);
            return;
        }
        self.line += 1 + newlines;
        if is_blank(self.opts.format, rec) {
            return;
        }
        let text = match text {
            Some(t) => &t[..rec.len()],
            None => match simdutf8::basic::from_utf8(rec) {
                Ok(t) => t,
                Err(_) => {
                    let at = std::str::from_utf8(rec)
                        .err()
                        .map_or(0, |e| e.valid_up_to());
                    self.stats.records += 1;
                    self.reject(
                        line,
                        offset,
                        rec,
                        RecordError::record(
                            RejectCode::InvalidUtf8,
                            format!("invalid UTF-8 at byte {at} of the record"),
                        ),
                    );
                    self.header_failed(line);
                    return;
                }
            },
        };
        match self.opts.format {
            Format::Ndjson => self.ndjson_record(text, line, offset),
            Format::Csv => self.csv_record(text, line, offset, split),
        }
    }

    fn ndjson_record(&mut self, rec: &str, line: u64, offset: u64) {
        self.stats.records += 1;
        match self
            .json
            .read(rec, &mut self.slots, &mut self.scratch, &self.schema)
        {
            Ok(()) => self.accept(rec, line, offset),
            Err(e) => self.reject(line, offset, rec.as_bytes(), e),
        }
    }

    fn csv_record(&mut self, rec: &str, line: u64, offset: u64, split: bool) {
        let columns = match &self.layout {
            Layout::Ready(c) => c,
            Layout::AwaitingHeader => {
                self.header(rec, line, offset);
                return;
            }
            Layout::NoHeader { line: header_line } => {
                let reason = format!(
                    "no usable header: the header record (line {header_line}) was rejected"
                );
                self.stats.records += 1;
                self.reject(
                    line,
                    offset,
                    rec.as_bytes(),
                    RecordError::record(RejectCode::MalformedCsv, reason),
                );
                return;
            }
        };
        self.stats.records += 1;
        match csv::read_record(
            &self.schema,
            columns,
            rec,
            (!split).then_some(self.delim),
            &mut self.spans,
            &mut self.slots,
            &mut self.scratch,
        ) {
            Ok(()) => self.accept(rec, line, offset),
            Err(e) => self.reject(line, offset, rec.as_bytes(), e),
        }
    }

    fn header(&mut self, rec: &str, line: u64, offset: u64) {
        self.scratch.clear();
        match csv::split_fields(rec, self.delim, &mut self.spans, &mut self.scratch) {
            Ok(()) => {
                let names: Vec<&str> = self
                    .spans
                    .iter()
                    .map(|s| csv::span_text(rec, &self.scratch, *s))
                    .collect();
                self.layout = Layout::Ready(csv::Columns::from_header(&self.schema, &names));
            }
            Err(e) => {
                self.stats.records += 1;
                self.reject(line, offset, rec.as_bytes(), e);
                self.layout = Layout::NoHeader { line };
            }
        }
    }

    /// A record rejected before it could be read: if it was the header, no
    /// later record can be placed in columns.
    fn header_failed(&mut self, line: u64) {
        if self.layout == Layout::AwaitingHeader {
            self.layout = Layout::NoHeader { line };
        }
    }

    #[inline]
    fn accept(&mut self, rec: &str, line: u64, offset: u64) {
        self.builders
            .append(&self.slots, rec, &self.scratch, line, offset);
        self.stats.rows += 1;
    }

    fn reject(&mut self, line: u64, byte_offset: u64, rec: &[u8], e: RecordError) {
        let e = e.into_detail();
        self.stats.rejects += 1;
        self.rejects.push(Reject {
            line,
            byte_offset,
            field: e.field,
            code: e.code,
            reason: e.reason,
            raw: raw_text(rec),
        });
    }
}

/// A record without the CR of a CRLF terminator.
#[inline]
fn strip_cr(rec: &[u8]) -> &[u8] {
    match rec.last() {
        Some(b'\r') => &rec[..rec.len() - 1],
        _ => rec,
    }
}

/// Blank lines are skipped: empty in CSV, JSON whitespace only in NDJSON.
#[inline]
fn is_blank(format: Format, rec: &[u8]) -> bool {
    match format {
        Format::Csv => rec.is_empty(),
        Format::Ndjson => rec.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r')),
    }
}
