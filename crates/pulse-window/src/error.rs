//! The one error type of the window crate. Every message names what it is
//! about (view, path, column, row) so a caller can act on it.

use arrow_schema::ArrowError;

#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// The view definition is invalid; `path` points into the view JSON.
    #[error("view '{view}': {path}: {message}")]
    Spec {
        view: String,
        path: String,
        message: String,
    },
    /// The view does not fit the input schema (unknown or mistyped field).
    #[error("view '{view}': {message}")]
    Schema { view: String, message: String },
    /// A record batch handed to `update` cannot be applied.
    #[error("view '{view}': update rejected: {message}")]
    Input { view: String, message: String },
    /// Two states of different view definitions cannot be merged.
    #[error("view '{view}': cannot merge: {message}")]
    Incompatible { view: String, message: String },
    /// A snapshot cannot be restored.
    #[error("view '{view}': cannot restore snapshot: {message}")]
    Snapshot { view: String, message: String },
    /// A query is invalid for this view.
    #[error("view '{view}': query: {message}")]
    Query { view: String, message: String },
    /// A finalised value does not fit its output type.
    #[error("view '{view}': measure '{measure}': {message}")]
    Overflow {
        view: String,
        measure: String,
        message: String,
    },
    #[error("view '{view}': arrow: {source}")]
    Arrow {
        view: String,
        #[source]
        source: ArrowError,
    },
}
