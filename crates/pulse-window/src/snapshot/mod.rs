//! Snapshots: a view state as an Arrow IPC stream, and back.
//!
//! The stream's schema metadata carries `pulse.state.version` (the layout),
//! `pulse.view.hash` (the definition hash), `pulse.view.name`, the
//! watermark and the counters. Each layout version has its own decoder,
//! kept when the layout evolves, so old checkpoints and batch views still
//! restore. The current layout is described in `v1.rs` and
//! `docs/windows.md`.

mod v1;

use std::io::Cursor;

use arrow_ipc::reader::StreamReader;
use arrow_schema::{Metadata, SchemaRef};

use crate::spec::ViewSpec;
use crate::state::{StateOptions, ViewState};
use crate::WindowError;

pub(crate) const VERSION_KEY: &str = "pulse.state.version";
pub(crate) const HASH_KEY: &str = "pulse.view.hash";
pub(crate) const NAME_KEY: &str = "pulse.view.name";
pub(crate) const WATERMARK_KEY: &str = "pulse.state.watermark";
pub(crate) const APPLIED_KEY: &str = "pulse.state.applied";
pub(crate) const LATE_KEY: &str = "pulse.state.late";

/// The layout version new snapshots are written in.
pub const CURRENT_VERSION: &str = "1";

impl ViewState {
    /// Encodes the state as Arrow IPC stream bytes (layout version 1). Rows
    /// are in a canonical order and states in canonical form, so equal
    /// states give equal bytes.
    pub fn snapshot(&self) -> Result<Vec<u8>, WindowError> {
        v1::encode(self)
    }

    /// Rebuilds a state from [`snapshot`](Self::snapshot) bytes. The view
    /// must have the definition hash the snapshot was taken with.
    pub fn restore(
        input: SchemaRef,
        event_time: &str,
        view: ViewSpec,
        opts: StateOptions,
        bytes: &[u8],
    ) -> Result<Self, WindowError> {
        let mut state = ViewState::new(input, event_time, view, opts)?;
        let view_name = state.def.name().to_string();
        let err = |message: String| WindowError::Snapshot {
            view: view_name.clone(),
            message,
        };
        let reader = StreamReader::try_new(Cursor::new(bytes), None)
            .map_err(|e| err(format!("not an Arrow IPC stream: {e}")))?;
        let schema = reader.schema();
        let meta = schema.metadata();
        let version = meta.get(VERSION_KEY).ok_or_else(|| {
            err(format!(
                "no '{VERSION_KEY}' in the schema metadata: not a view state snapshot"
            ))
        })?;
        let hash = meta.get(HASH_KEY).map(String::as_str).unwrap_or("");
        if hash != state.def.hash {
            let taken = meta.get(NAME_KEY).map(String::as_str).unwrap_or("?");
            return Err(err(format!(
                "snapshot of view '{taken}' has definition hash {hash}, this view's is {}: \
                 the view definition or input types changed",
                state.def.hash
            )));
        }
        let header = Header::read(meta).map_err(&err)?;
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(format!("reading record batches: {e}")))?;
        match version.as_str() {
            "1" => v1::decode(&mut state, &schema, &batches).map_err(&err)?,
            other => {
                return Err(err(format!(
                "unsupported state layout version '{other}' (this build reads: {CURRENT_VERSION})"
            )))
            }
        }
        state.watermark = header.watermark;
        state.applied = header.applied;
        state.late = header.late;
        Ok(state)
    }
}

/// Watermark and counters from the schema metadata.
struct Header {
    watermark: Option<i64>,
    applied: u64,
    late: u64,
}

impl Header {
    fn read(meta: &Metadata) -> Result<Header, String> {
        let int = |key: &str| -> Result<Option<i64>, String> {
            match meta.get(key).map(String::as_str) {
                None | Some("") => Ok(None),
                Some(v) => v
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("metadata '{key}' is not an integer: '{v}'")),
            }
        };
        let count = |key: &str| -> Result<u64, String> {
            let v = int(key)?.unwrap_or(0);
            u64::try_from(v).map_err(|_| format!("metadata '{key}' is negative: {v}"))
        };
        Ok(Header {
            watermark: int(WATERMARK_KEY)?,
            applied: count(APPLIED_KEY)?,
            late: count(LATE_KEY)?,
        })
    }

    fn write(state: &ViewState) -> Metadata {
        Metadata::new()
            .with(VERSION_KEY, CURRENT_VERSION)
            .with(HASH_KEY, state.def.hash.as_str())
            .with(NAME_KEY, state.def.name())
            .with(
                WATERMARK_KEY,
                state.watermark.map(|w| w.to_string()).unwrap_or_default(),
            )
            .with(APPLIED_KEY, state.applied.to_string())
            .with(LATE_KEY, state.late.to_string())
    }
}
