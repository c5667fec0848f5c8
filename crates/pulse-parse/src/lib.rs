//! Chunked CSV / NDJSON → Arrow record batches plus rejects.
//!
//! A [`Parser`] is a stream: bytes are pushed in chunks of any size, a record
//! may span chunks, and the concatenated output (rows, rejects, their lines
//! and byte offsets) is identical for every chunking. Bad data never stops
//! it: each bad record becomes a [`Reject`] with its line, byte offset, code
//! and reason, and the good records around it are kept. [`ParseError`] is
//! only for bad options or a bad schema.
//!
//! The contract is `docs/native-contract.md`, section "Parser"; the user's
//! view of it is `docs/parser.md`.

mod columns;
mod csv;
mod json;
mod options;
mod parser;
mod reject;
mod value;
mod word;

pub use columns::ParsedBatch;
pub use options::{Format, ParseError, ParseOptions};
pub use parser::{ParseStats, Parser};
pub use reject::{Reject, RejectCode, RAW_BYTES};
