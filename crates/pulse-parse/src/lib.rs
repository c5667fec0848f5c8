//! pulse-parse
