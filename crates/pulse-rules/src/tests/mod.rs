//! Tests of the rule engine: `unit` pins behaviour on hand-written cases,
//! `props` compares the vectorised evaluator with row-by-row
//! interpretation on random rule sets and batches.

mod props;
mod support;
mod unit;
