//! Binding for `pulse_core::rules` (filled in by its crate's work).
