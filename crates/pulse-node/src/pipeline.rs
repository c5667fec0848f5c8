//! Binding for `pulse_core::pipeline` (filled in by its crate's work).
