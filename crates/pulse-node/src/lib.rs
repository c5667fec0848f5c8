//! Thin napi-rs binding over `pulse-core`: `Buffer`s and JSON specs in,
//! Arrow IPC bytes and plain objects out. No domain logic lives here; each
//! module mirrors one core crate.

/// Every buffer of the addon (Arrow columns, view states) comes from
/// mimalloc: per-batch allocation churn is a measurable share of the hot
/// path with the system allocator (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod convert;
mod parse;
mod pipeline;
mod rules;
mod window;

use napi_derive::napi;

/// Version of the native core.
#[napi]
pub fn native_version() -> String {
    pulse_core::version().to_string()
}
