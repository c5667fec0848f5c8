//! The core's error type: every failure of a crate below, plus spec errors
//! found while wiring them together.

use arrow_schema::ArrowError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("pipeline spec: {0}")]
    Spec(String),
    #[error("unknown view '{0}'")]
    UnknownView(String),
    #[error(transparent)]
    Parse(#[from] pulse_parse::ParseError),
    #[error(transparent)]
    Rules(#[from] pulse_rules::RuleError),
    #[error(transparent)]
    Window(#[from] pulse_window::WindowError),
    #[error(transparent)]
    Arrow(#[from] ArrowError),
}
