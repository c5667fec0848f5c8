//! PulseStream's rule engine: validation checks, derivations (tagging) and
//! view filters over Arrow record batches.
//!
//! A [`RulesSpec`] (the contract's JSON, `docs/native-contract.md`) is
//! compiled once against the input schema into a [`RuleSet`]: field checks
//! become single-pass kernels over raw column slices, expressions become
//! typed trees evaluated a whole array at a time, and every check yields a
//! bitmap of failing rows. `evaluate` combines the bitmaps, rejects rows that
//! failed an error-severity check with one `filter`, and appends derived
//! columns to the kept rows. `docs/rules.md` documents the language.

mod batch;
mod check;
mod derive;
mod error;
mod expr;
mod predicate;
mod ruleset;
pub mod spec;
mod text;

pub use error::RuleError;
pub use predicate::{compile_predicate, Predicate};
pub use ruleset::{rejects_schema, Evaluation, RowFailure, RuleCounter, RuleSet};
pub use spec::{
    Bound, CaseSpec, CheckKind, CheckSpec, DeriveSpec, LengthSpec, OnError, RangeSpec, RulesSpec,
    Severity,
};

#[cfg(test)]
mod tests;
