//! Keyed event-time windows as mergeable partial states.
//!
//! A [`ViewState`] holds, for one view, the partial aggregate states of
//! every (pane, group key): counts, exact sums, min/max, HyperLogLog
//! registers, DDSketch buckets. Windows are assembled from panes only at
//! query time, and states merge exactly, so the batch layer's states (events
//! before the boundary T) and the speed layer's (events from T on) combine
//! into the answer a single run over all events would give. See
//! `docs/windows.md` for window kinds, measures, error bounds, lateness and
//! the snapshot layout.

mod error;
mod exact_sum;
mod keys;
mod measure;
mod pane;
mod query;
pub mod sketch;
mod snapshot;
mod spec;
mod state;
mod view;

pub use error::WindowError;
pub use exact_sum::ExactSum;
pub use query::Query;
pub use snapshot::CURRENT_VERSION as SNAPSHOT_VERSION;
pub use spec::{
    MeasureOp, MeasureSpec, ViewSpec, WindowSpec, DEFAULT_PRECISION, DEFAULT_SESSION_ALIGN_MS,
};
pub use state::{StateOptions, StateStats, UpdateOutcome, ViewState, MAX_EVENT_TIME_MS};
