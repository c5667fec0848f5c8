//! Parser options as they arrive from the TypeScript side, re-checked here.

use serde::Deserialize;

/// Errors for bad options or a bad schema. Bad *data* never raises one: it
/// becomes a reject.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("parse options JSON is invalid: {0}")]
    Options(String),
    #[error("delimiter: {0}")]
    Delimiter(String),
    #[error("batchSize: must be at least 1")]
    BatchSize,
    #[error("maxRecordBytes: must be at least 1")]
    MaxRecordBytes,
    #[error(transparent)]
    Schema(#[from] pulse_schema::SchemaError),
}

/// The two input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Ndjson,
}

/// How the byte stream is read; see `docs/native-contract.md`, "Parser".
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParseOptions {
    pub format: Format,
    /// CSV field separator: one ASCII character other than `"`, CR or LF.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// CSV: the first record names the columns (else columns are positional).
    #[serde(default = "default_header")]
    pub header: bool,
    /// Longest record, without its line terminator, before it is rejected.
    #[serde(default = "default_max_record_bytes")]
    pub max_record_bytes: usize,
    /// Rows per emitted record batch.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_delimiter() -> char {
    ','
}
fn default_header() -> bool {
    true
}
fn default_max_record_bytes() -> usize {
    1 << 20
}
fn default_batch_size() -> usize {
    65_536
}

impl ParseOptions {
    /// Options with every default for `format`.
    pub fn new(format: Format) -> ParseOptions {
        ParseOptions {
            format,
            delimiter: default_delimiter(),
            header: default_header(),
            max_record_bytes: default_max_record_bytes(),
            batch_size: default_batch_size(),
        }
    }

    /// Parses and checks options from their JSON description.
    pub fn from_json(s: &str) -> Result<Self, ParseError> {
        let opts: ParseOptions =
            serde_json::from_str(s).map_err(|e| ParseError::Options(e.to_string()))?;
        opts.validate()?;
        Ok(opts)
    }

    /// Checks values serde cannot: the delimiter's byte and positive sizes.
    pub fn validate(&self) -> Result<(), ParseError> {
        let d = self.delimiter;
        if !d.is_ascii() {
            return Err(ParseError::Delimiter(format!(
                "must be one ASCII character, got {d:?}"
            )));
        }
        if matches!(d, '"' | '\r' | '\n') {
            return Err(ParseError::Delimiter(format!(
                "{d:?} cannot separate fields"
            )));
        }
        if self.batch_size == 0 {
            return Err(ParseError::BatchSize);
        }
        if self.max_record_bytes == 0 {
            return Err(ParseError::MaxRecordBytes);
        }
        Ok(())
    }

    /// The delimiter as the byte the CSV scanner looks for.
    pub fn delimiter_byte(&self) -> u8 {
        self.delimiter as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in() {
        let o = ParseOptions::from_json(r#"{"format":"ndjson"}"#).unwrap();
        assert_eq!(o, ParseOptions::new(Format::Ndjson));
        assert_eq!(o.max_record_bytes, 1_048_576);
        assert_eq!(o.batch_size, 65_536);
        assert!(o.header);
        assert_eq!(o.delimiter_byte(), b',');
    }

    #[test]
    fn bad_options_are_errors() {
        assert!(matches!(
            ParseOptions::from_json(r#"{"format":"xml"}"#),
            Err(ParseError::Options(_))
        ));
        assert!(matches!(
            ParseOptions::from_json(r#"{"format":"csv","delimiter":"é"}"#),
            Err(ParseError::Delimiter(_))
        ));
        assert!(matches!(
            ParseOptions::from_json(r#"{"format":"csv","delimiter":"\""}"#),
            Err(ParseError::Delimiter(_))
        ));
        assert!(matches!(
            ParseOptions::from_json(r#"{"format":"csv","delimiter":";;"}"#),
            Err(ParseError::Options(_))
        ));
        assert_eq!(
            ParseOptions::from_json(r#"{"format":"csv","batchSize":0}"#),
            Err(ParseError::BatchSize)
        );
        assert_eq!(
            ParseOptions::from_json(r#"{"format":"csv","maxRecordBytes":0}"#),
            Err(ParseError::MaxRecordBytes)
        );
        assert!(matches!(
            ParseOptions::from_json(r#"{"format":"csv","quote":"'"}"#),
            Err(ParseError::Options(_))
        ));
    }

    #[test]
    fn tab_delimiter_is_fine() {
        let o =
            ParseOptions::from_json(r#"{"format":"csv","delimiter":"\t","header":false}"#).unwrap();
        assert_eq!(o.delimiter_byte(), b'\t');
        assert!(!o.header);
    }
}
