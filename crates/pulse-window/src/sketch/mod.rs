//! Mergeable sketches for the approximate measures: HyperLogLog for
//! `distinct`, DDSketch for `quantile`. Both keep a canonical state, so the
//! state of any split of the events, merged, is byte-identical to the state
//! of all of them.

mod buckets;
pub(crate) mod codec;
pub mod ddsketch;
pub mod hll;

pub use ddsketch::{BucketValues, DdSketch, DdSketchConfig};
pub use hll::HyperLogLog;
