//! Arrow IPC stream encoding: how record batches cross the napi boundary.
//!
//! Decoding goes through `StreamDecoder` over one `arrow_buffer::Buffer`, so
//! aligned column data is sliced out of the caller's bytes, not copied.

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, SchemaRef};

/// Encodes batches (all of `schema`) as one Arrow IPC stream.
pub fn encode_stream(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::with_capacity(
        batches
            .iter()
            .map(|b| b.get_array_memory_size())
            .sum::<usize>()
            + 1024,
    );
    {
        let mut w = StreamWriter::try_new(&mut out, schema)?;
        for b in batches {
            w.write(b)?;
        }
        w.finish()?;
    }
    Ok(out)
}

/// Decodes an Arrow IPC stream held in `buf`; returns its schema and batches.
pub fn decode_stream(mut buf: Buffer) -> Result<(Option<SchemaRef>, Vec<RecordBatch>), ArrowError> {
    let mut decoder = StreamDecoder::new();
    let mut batches = Vec::new();
    while !buf.is_empty() {
        match decoder.decode(&mut buf)? {
            Some(batch) => batches.push(batch),
            None => {
                if buf.is_empty() {
                    break;
                }
            }
        }
    }
    decoder.finish()?;
    let schema = batches
        .first()
        .map(|b| b.schema())
        .or_else(|| decoder.schema());
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn round_trips_batches() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])),
                Arc::new(StringArray::from(vec![Some("x"), Some("y"), None])),
            ],
        )
        .unwrap();
        let bytes = encode_stream(&schema, &[batch.clone(), batch.clone()]).unwrap();
        let (s, out) = decode_stream(Buffer::from_vec(bytes)).unwrap();
        assert_eq!(s.unwrap(), schema);
        assert_eq!(out, vec![batch.clone(), batch]);
    }

    #[test]
    fn empty_stream_keeps_schema() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let bytes = encode_stream(&schema, &[]).unwrap();
        let (s, out) = decode_stream(Buffer::from_vec(bytes)).unwrap();
        assert_eq!(s.unwrap(), schema);
        assert!(out.is_empty());
    }
}
