//! Conversions shared by every binding module: core errors → JS errors,
//! record batches → Arrow IPC bytes.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use napi::bindgen_prelude::Buffer;

/// Maps any displayable core error to a JS `Error` with its message.
pub fn js_err<E: std::fmt::Display>(e: E) -> napi::Error {
    napi::Error::from_reason(e.to_string())
}

/// Encodes batches as Arrow IPC stream bytes handed to JS without a copy.
pub fn batches_to_buffer(schema: &SchemaRef, batches: &[RecordBatch]) -> napi::Result<Buffer> {
    let bytes = pulse_core::ipc::encode_stream(schema, batches).map_err(js_err)?;
    Ok(Buffer::from(bytes))
}
