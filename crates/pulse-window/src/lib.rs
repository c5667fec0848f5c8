//! pulse-window
