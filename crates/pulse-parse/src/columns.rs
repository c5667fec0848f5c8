//! Typed Arrow column builders fed one accepted record at a time.
//!
//! A record is first read into [`Slot`]s (one per schema field) and only
//! appended once it is known to be good, so a reject never leaves half a row
//! behind in the builders.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_buffer::{Buffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::SchemaRef;
use pulse_schema::{FieldType, Schema};

/// One field's value in the record being read. Text is kept as byte ranges,
/// into the record itself or into the reader's scratch string (for text
/// that had escapes), so reading allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slot {
    /// The record did not mention the field.
    Absent,
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(u32, u32),
    Scratch(u32, u32),
}

impl Slot {
    #[inline]
    pub fn text(start: usize, end: usize) -> Slot {
        Slot::Text(start as u32, end as u32)
    }

    #[inline]
    pub fn is_null(self) -> bool {
        matches!(self, Slot::Absent | Slot::Null)
    }
}

/// A batch plus, per row, where its record started (for rejects raised
/// later by rules or windows).
#[derive(Debug, Clone)]
pub struct ParsedBatch {
    pub batch: RecordBatch,
    pub lines: Vec<u64>,
    pub offsets: Vec<u64>,
}

/// A Utf8 column built by hand: field texts are a few bytes long, and
/// arrow's `StringBuilder` copied each with a `memcpy` call that cost more
/// than the copy. Texts up to 16 bytes are moved with fixed-size copies.
struct TextColumn {
    offsets: Vec<i32>,
    values: Vec<u8>,
    nulls: NullBufferBuilder,
}

impl TextColumn {
    fn with_capacity(rows: usize, bytes: usize) -> TextColumn {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TextColumn {
            offsets,
            values: Vec::with_capacity(bytes),
            nulls: NullBufferBuilder::new(rows),
        }
    }

    #[inline]
    fn append_value(&mut self, text: &str) {
        push_bytes(&mut self.values, text.as_bytes());
        self.offsets.push(self.end());
        self.nulls.append_non_null();
    }

    #[inline]
    fn append_null(&mut self) {
        self.offsets.push(self.end());
        self.nulls.append_null();
    }

    #[inline]
    fn end(&self) -> i32 {
        i32::try_from(self.values.len()).expect("a batch's text stays under 2 GiB")
    }

    fn values_len(&self) -> usize {
        self.values.len()
    }

    fn finish(&mut self) -> StringArray {
        // The caller sizes the next batch's column (`Columns::close_batch`).
        let done = std::mem::replace(self, TextColumn::with_capacity(0, 0));
        let offsets = OffsetBuffer::new(ScalarBuffer::from(done.offsets));
        let mut nulls = done.nulls;
        // SAFETY: offsets start at 0 and never decrease, the last one is the
        // length of `values`, and every appended text was a `&str`, so the
        // values are UTF-8 with a char boundary at every offset.
        unsafe {
            StringArray::new_unchecked(offsets, Buffer::from_vec(done.values), nulls.finish())
        }
    }
}

/// Appends `b` to `v`; lengths up to 16 as two overlapping fixed-size
/// copies (the first, the truncation to its final place, the second), so
/// no library call is made for short texts.
#[inline]
fn push_bytes(v: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    let at = v.len();
    v.reserve(16);
    match n {
        0 => {}
        1..=3 => {
            v.push(b[0]);
            if n > 1 {
                v.push(b[1]);
            }
            if n > 2 {
                v.push(b[2]);
            }
        }
        4..=7 => {
            v.extend_from_slice(&<[u8; 4]>::try_from(&b[..4]).unwrap());
            v.truncate(at + n - 4);
            v.extend_from_slice(&<[u8; 4]>::try_from(&b[n - 4..]).unwrap());
        }
        8..=16 => {
            v.extend_from_slice(&<[u8; 8]>::try_from(&b[..8]).unwrap());
            v.truncate(at + n - 8);
            v.extend_from_slice(&<[u8; 8]>::try_from(&b[n - 8..]).unwrap());
        }
        _ => v.extend_from_slice(b),
    }
}

enum Column {
    Utf8(TextColumn),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMillisecondBuilder),
}

impl Column {
    fn new(ty: FieldType, rows: usize, text_bytes: usize) -> Column {
        match ty {
            FieldType::String => Column::Utf8(TextColumn::with_capacity(rows, text_bytes)),
            FieldType::Int64 => Column::Int64(Int64Builder::with_capacity(rows)),
            FieldType::Float64 => Column::Float64(Float64Builder::with_capacity(rows)),
            FieldType::Bool => Column::Bool(BooleanBuilder::with_capacity(rows)),
            FieldType::Timestamp => Column::Timestamp(
                TimestampMillisecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
        }
    }

    #[inline]
    fn append(&mut self, slot: Slot, record: &str, scratch: &str) {
        match (self, slot) {
            (Column::Utf8(b), Slot::Text(s, e)) => b.append_value(&record[s as usize..e as usize]),
            (Column::Utf8(b), Slot::Scratch(s, e)) => {
                b.append_value(&scratch[s as usize..e as usize])
            }
            (Column::Int64(b), Slot::Int(v)) => b.append_value(v),
            (Column::Timestamp(b), Slot::Int(v)) => b.append_value(v),
            (Column::Float64(b), Slot::Float(v)) => b.append_value(v),
            (Column::Bool(b), Slot::Bool(v)) => b.append_value(v),
            (c, s) => {
                debug_assert!(s.is_null(), "slot {s:?} does not fit its column");
                c.append_null()
            }
        }
    }

    fn append_null(&mut self) {
        match self {
            Column::Utf8(b) => b.append_null(),
            Column::Int64(b) => b.append_null(),
            Column::Float64(b) => b.append_null(),
            Column::Bool(b) => b.append_null(),
            Column::Timestamp(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Utf8(b) => Arc::new(b.finish()),
            Column::Int64(b) => Arc::new(b.finish()),
            Column::Float64(b) => Arc::new(b.finish()),
            Column::Bool(b) => Arc::new(b.finish()),
            Column::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

/// The builders of the batch being filled, and the batches already full.
pub struct Columns {
    arrow: SchemaRef,
    types: Vec<FieldType>,
    columns: Vec<Column>,
    lines: Vec<u64>,
    offsets: Vec<u64>,
    batch_size: usize,
    done: Vec<ParsedBatch>,
}

impl Columns {
    pub fn new(schema: &Schema, batch_size: usize) -> Columns {
        // Builders grow as needed; the hint only avoids early reallocations.
        let hint = batch_size.min(8192);
        Columns {
            arrow: schema.arrow_schema(),
            types: schema.fields.iter().map(|f| f.ty).collect(),
            columns: schema
                .fields
                .iter()
                .map(|f| Column::new(f.ty, hint, hint * 16))
                .collect(),
            lines: Vec::with_capacity(hint),
            offsets: Vec::with_capacity(hint),
            batch_size,
            done: Vec::new(),
        }
    }

    pub fn arrow_schema(&self) -> SchemaRef {
        self.arrow.clone()
    }

    /// Appends one accepted record; closes the batch when it is full.
    #[inline]
    pub fn append(&mut self, slots: &[Slot], record: &str, scratch: &str, line: u64, offset: u64) {
        for (column, slot) in self.columns.iter_mut().zip(slots) {
            column.append(*slot, record, scratch);
        }
        self.lines.push(line);
        self.offsets.push(offset);
        if self.lines.len() >= self.batch_size {
            self.close_batch();
        }
    }

    /// Rows appended but not yet in a closed batch.
    pub fn pending_rows(&self) -> usize {
        self.lines.len()
    }

    /// Closes the batch being filled, even when not full.
    pub fn close_batch(&mut self) {
        if self.lines.is_empty() {
            return;
        }
        // The next batch is likely the size of this one: its builders start
        // at that capacity, instead of growing from empty by doubling
        // (a copy of every column per batch) as finished builders would.
        let rows = self.lines.len();
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .zip(&self.types)
            .map(|(column, &ty)| {
                let text_bytes = match column {
                    Column::Utf8(b) => b.values_len(),
                    _ => 0,
                };
                std::mem::replace(column, Column::new(ty, rows, text_bytes)).finish()
            })
            .collect();
        let batch = RecordBatch::try_new(self.arrow.clone(), arrays)
            .expect("builders follow the schema's types and row count");
        self.done.push(ParsedBatch {
            batch,
            lines: std::mem::replace(&mut self.lines, Vec::with_capacity(rows)),
            offsets: std::mem::replace(&mut self.offsets, Vec::with_capacity(rows)),
        });
    }

    pub fn take_batches(&mut self) -> Vec<ParsedBatch> {
        std::mem::take(&mut self.done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::StringBuilder;

    #[test]
    fn text_column_matches_arrows_builder() {
        let texts: Vec<Option<String>> = (0..200)
            .map(|i: usize| {
                (i % 7 != 3).then(|| "é-abcdefghijklmnopqrstu".chars().take(i % 24).collect())
            })
            .collect();
        let mut ours = TextColumn::with_capacity(4, 4);
        let mut theirs = StringBuilder::new();
        for t in &texts {
            match t {
                Some(t) => {
                    ours.append_value(t);
                    theirs.append_value(t);
                }
                None => {
                    ours.append_null();
                    theirs.append_null();
                }
            }
        }
        assert_eq!(ours.finish(), theirs.finish());
        // A finished column starts over, empty.
        ours.append_value("x");
        assert_eq!(ours.values_len(), 1);
        assert_eq!(ours.finish(), StringArray::from(vec!["x"]));
    }

    #[test]
    fn push_bytes_at_every_length() {
        let src: Vec<u8> = (0..40u8).map(|i| b'a' + i).collect();
        for n in 0..40 {
            let mut v = b"head".to_vec();
            push_bytes(&mut v, &src[..n]);
            assert_eq!(&v[..4], b"head");
            assert_eq!(&v[4..], &src[..n], "length {n}");
        }
    }
}
