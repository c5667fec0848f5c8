//! Group keys: the group-by columns of a row encoded as one byte string
//! (Arrow's row format, which orders like the values and keeps nulls), and
//! the per-pane index from key bytes to a dense key id.

use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{ArrowError, DataType};
use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Per-process seed of the in-memory key hash (never persisted), so crafted
/// keys cannot aim at one bucket.
fn key_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        h.finish()
    })
}

/// Hash of encoded key bytes.
#[inline]
pub(crate) fn hash_key(bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, key_seed())
}

/// Encodes and decodes the group-by columns of a view.
#[derive(Debug, Clone)]
pub(crate) struct KeyCodec {
    /// Input column index of each group field.
    columns: Vec<usize>,
    /// `None` when the view has no group fields: every row has the empty key.
    converter: Option<Arc<RowConverter>>,
}

/// The encoded keys of one batch.
pub(crate) enum BatchKeys {
    Ungrouped,
    Rows(Rows),
}

impl BatchKeys {
    #[inline]
    pub(crate) fn key(&self, row: usize) -> &[u8] {
        match self {
            BatchKeys::Ungrouped => &[],
            BatchKeys::Rows(rows) => rows.row(row).data(),
        }
    }
}

impl KeyCodec {
    pub(crate) fn new(columns: Vec<usize>, types: Vec<DataType>) -> Result<Self, ArrowError> {
        let converter = if types.is_empty() {
            None
        } else {
            let fields = types.into_iter().map(SortField::new).collect();
            Some(Arc::new(RowConverter::new(fields)?))
        };
        Ok(KeyCodec { columns, converter })
    }

    /// Encodes the group columns of every row of `batch`.
    pub(crate) fn encode(&self, batch: &RecordBatch) -> Result<BatchKeys, ArrowError> {
        let cols: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        self.encode_columns(&cols)
    }

    /// Encodes group columns given directly (snapshot restore, query filters).
    pub(crate) fn encode_columns(&self, cols: &[ArrayRef]) -> Result<BatchKeys, ArrowError> {
        match &self.converter {
            None => Ok(BatchKeys::Ungrouped),
            Some(c) => Ok(BatchKeys::Rows(c.convert_columns(cols)?)),
        }
    }

    /// Decodes key bytes (produced by [`encode`](Self::encode)) back into
    /// one typed column per group field.
    pub(crate) fn decode<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<ArrayRef>, ArrowError> {
        match &self.converter {
            None => Ok(Vec::new()),
            Some(c) => {
                let parser = c.parser();
                let keys: Vec<&[u8]> = keys.into_iter().collect();
                c.convert_rows(keys.iter().map(|k| parser.parse(k)))
            }
        }
    }
}

/// The distinct keys of one pane: their bytes in one arena, their hashes,
/// and an open-addressing table from hash to key id. Ids are dense and
/// never reused, so per-key states live in plain vectors indexed by id.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex {
    bytes: Vec<u8>,
    /// End offset in `bytes` of each key.
    ends: Vec<usize>,
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

impl KeyIndex {
    /// An empty index with room for `keys` keys (of a guessed 16 bytes each).
    pub(crate) fn with_capacity(keys: usize) -> KeyIndex {
        KeyIndex {
            bytes: Vec::with_capacity(keys * 16),
            ends: Vec::with_capacity(keys),
            hashes: Vec::with_capacity(keys),
            table: HashTable::with_capacity(keys),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    pub(crate) fn key(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.bytes[start..self.ends[id]]
    }

    pub(crate) fn hash_of(&self, id: u32) -> u64 {
        self.hashes[id as usize]
    }

    /// The id of `key` (whose hash is `hash`), if the pane holds it.
    #[inline]
    pub(crate) fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        self.table
            .find(hash, |&id| {
                self.hashes[id as usize] == hash && self.key(id) == key
            })
            .copied()
    }

    /// The id of `key` (whose hash is `hash`), adding it when new; the flag
    /// says whether it was added.
    #[inline]
    pub(crate) fn find_or_insert(&mut self, hash: u64, key: &[u8]) -> (u32, bool) {
        let KeyIndex {
            bytes,
            ends,
            hashes,
            table,
        } = self;
        let slice_of = |id: u32| {
            let id = id as usize;
            let start = if id == 0 { 0 } else { ends[id - 1] };
            &bytes[start..ends[id]]
        };
        if let Some(&id) = table.find(hash, |&id| {
            hashes[id as usize] == hash && slice_of(id) == key
        }) {
            return (id, false);
        }
        let id = ends.len() as u32;
        table.insert_unique(hash, id, |&id| hashes[id as usize]);
        bytes.extend_from_slice(key);
        ends.push(bytes.len());
        hashes.push(hash);
        (id, true)
    }

    /// Approximate heap bytes.
    pub(crate) fn approx_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.ends.capacity() * 8
            + self.hashes.capacity() * 8
            + self.table.capacity() * 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{Field, Schema};

    #[test]
    fn keys_round_trip_with_nulls() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("x"), None, Some("x"), None])),
                Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(1), None])),
            ],
        )
        .unwrap();
        let codec = KeyCodec::new(vec![0, 1], vec![DataType::Utf8, DataType::Int64]).unwrap();
        let keys = codec.encode(&batch).unwrap();
        let mut index = KeyIndex::default();
        let ids: Vec<u32> = (0..4)
            .map(|r| index.find_or_insert(hash_key(keys.key(r)), keys.key(r)).0)
            .collect();
        assert_eq!(ids, vec![0, 1, 0, 2]);
        let decoded = codec.decode((0..3).map(|id| index.key(id))).unwrap();
        assert_eq!(
            decoded[0].as_ref(),
            &StringArray::from(vec![Some("x"), None, None]) as &dyn arrow_array::Array
        );
        assert_eq!(
            decoded[1].as_ref(),
            &Int64Array::from(vec![Some(1), Some(2), None]) as &dyn arrow_array::Array
        );
    }
}
