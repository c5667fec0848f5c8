//! Rejects: a bad record, where it started, and why it was refused.

/// Why a record was refused. The snake_case names are the contract's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectCode {
    MalformedJson,
    NotAnObject,
    DuplicateKey,
    MalformedCsv,
    FieldCount,
    MissingField,
    TypeMismatch,
    OutOfRange,
    InvalidTimestamp,
    InvalidUtf8,
    RecordTooLarge,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MalformedJson => "malformed_json",
            RejectCode::NotAnObject => "not_an_object",
            RejectCode::DuplicateKey => "duplicate_key",
            RejectCode::MalformedCsv => "malformed_csv",
            RejectCode::FieldCount => "field_count",
            RejectCode::MissingField => "missing_field",
            RejectCode::TypeMismatch => "type_mismatch",
            RejectCode::OutOfRange => "out_of_range",
            RejectCode::InvalidTimestamp => "invalid_timestamp",
            RejectCode::InvalidUtf8 => "invalid_utf8",
            RejectCode::RecordTooLarge => "record_too_large",
        }
    }
}

impl std::fmt::Display for RejectCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One refused record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based line where the record starts.
    pub line: u64,
    /// Offset of the record's first byte in the stream.
    pub byte_offset: u64,
    /// The schema field at fault, for field-level codes.
    pub field: Option<String>,
    pub code: RejectCode,
    pub reason: String,
    /// The record's first `RAW_BYTES` bytes, lossy UTF-8.
    pub raw: String,
}

/// How much of a bad record a reject keeps.
pub const RAW_BYTES: usize = 256;

/// The reject's `raw`: the first `RAW_BYTES` bytes, invalid UTF-8 replaced.
pub fn raw_text(record: &[u8]) -> String {
    String::from_utf8_lossy(&record[..record.len().min(RAW_BYTES)]).into_owned()
}

/// A record-level problem found while reading one record; the stream layer
/// adds the position and the raw bytes. Boxed, so a per-field result on the
/// hot path (`Result<Slot, RecordError>`) stays two machine words: a wide
/// error type made every read of a good value copy (and stall on) a
/// 64-byte enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(Box<RecordErrorDetail>);

/// What a [`RecordError`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordErrorDetail {
    pub code: RejectCode,
    pub field: Option<String>,
    pub reason: String,
}

impl std::ops::Deref for RecordError {
    type Target = RecordErrorDetail;
    fn deref(&self) -> &RecordErrorDetail {
        &self.0
    }
}

impl RecordError {
    #[cold]
    pub fn record(code: RejectCode, reason: impl Into<String>) -> RecordError {
        RecordError(Box::new(RecordErrorDetail {
            code,
            field: None,
            reason: reason.into(),
        }))
    }

    #[cold]
    pub fn field(code: RejectCode, field: &str, reason: impl Into<String>) -> RecordError {
        RecordError(Box::new(RecordErrorDetail {
            code,
            field: Some(field.to_string()),
            reason: reason.into(),
        }))
    }

    pub fn into_detail(self) -> RecordErrorDetail {
        *self.0
    }
}
