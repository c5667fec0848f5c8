//! Thin napi-rs binding over `pulse-core`: `Buffer`s and JSON specs in,
//! Arrow IPC bytes and plain objects out. No domain logic lives here; each
//! module mirrors one core crate.

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
