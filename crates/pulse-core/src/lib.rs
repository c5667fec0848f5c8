//! PulseStream's native core: the fused parse → rules → window pipeline.
//! Pure Rust; the napi binding (`pulse-node`) is a thin layer over it.
//!
//! The work is split the arrow-rs way, one crate per job, re-exported here:
//! `schema` (types, time grammar), `parse` (CSV/NDJSON → record batches +
//! rejects), `rules` (validation, tagging, expressions), `window` (mergeable
//! windowed partial states).

mod error;
pub mod ipc;
pub mod pipeline;

pub use error::CoreError;

pub use pulse_parse as parse;
pub use pulse_rules as rules;
pub use pulse_schema as schema;
pub use pulse_window as window;

/// Version of the native core, reported by `pulse --version`.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
