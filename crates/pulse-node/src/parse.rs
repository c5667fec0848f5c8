//! Binding for `pulse_core::parse` (filled in by its crate's work).
