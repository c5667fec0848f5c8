//! Binding for `pulse_core::window` (filled in by its crate's work).
