//! pulse-rules
