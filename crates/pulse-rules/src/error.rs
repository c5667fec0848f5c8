//! The one error type of the rule engine. Every compile error names what it
//! is about (a rule id, a derivation's column, a view filter) and, for
//! expressions, the 1-based column in the expression text.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// The rules JSON is not valid JSON or does not have the contract's shape.
    Json(String),
    /// A check, derivation or filter that cannot be compiled.
    Compile {
        /// What the error is about: `rule 'amount_range'`, `derivation 'category'`, `filter`.
        subject: String,
        /// 1-based column (in characters) in the expression text, for expression errors.
        column: Option<usize>,
        message: String,
    },
    /// `onError: halt` and a row failed an error-severity check.
    Halted {
        rule: String,
        message: String,
        /// Row index in the evaluated batch.
        row: u32,
    },
    /// The evaluated batch does not have the schema the rule set was compiled for.
    Schema(String),
    /// An Arrow kernel failed (for instance a non-nullable column holding nulls).
    Arrow(String),
}

impl RuleError {
    pub(crate) fn compile(subject: &str, message: impl Into<String>) -> Self {
        RuleError::Compile {
            subject: subject.to_string(),
            column: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(subject: &str, column: usize, message: impl Into<String>) -> Self {
        RuleError::Compile {
            subject: subject.to_string(),
            column: Some(column),
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Json(m) => write!(f, "rules JSON is invalid: {m}"),
            RuleError::Compile {
                subject,
                column: Some(c),
                message,
            } => write!(f, "{subject}: column {c}: {message}"),
            RuleError::Compile {
                subject, message, ..
            } => write!(f, "{subject}: {message}"),
            RuleError::Halted { rule, message, row } => {
                write!(f, "rule '{rule}' failed on row {row}: {message}")
            }
            RuleError::Schema(m) => write!(f, "batch does not match the rule set's schema: {m}"),
            RuleError::Arrow(m) => write!(f, "arrow error: {m}"),
        }
    }
}

impl std::error::Error for RuleError {}

impl From<arrow_schema::ArrowError> for RuleError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        RuleError::Arrow(e.to_string())
    }
}
