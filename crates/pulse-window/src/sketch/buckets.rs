//! The bucket counts of one sign of a DDSketch.
//!
//! A window's sketch usually holds a handful of values, spread over buckets
//! far enough apart that a dense vector of counts needs the heap. So up to
//! [`FEW`] non-empty buckets are kept inline, and only more of them go to a
//! dense vector. Both forms stand for the same thing, a set of buckets with
//! counts; equality, encoding and every operation depend on that alone, so
//! which form a store has never shows.
//!
//! The cap: no bucket lies below `top − cap + 1`, where `top` is the highest
//! non-empty bucket; a count that would go lower is added to that lowest
//! kept bucket instead. Folding is anchored at the top, so the result does
//! not depend on the order counts arrive in (see the DDSketch module).

use super::codec::{put_varint, put_varint_signed, Reader};

/// Most non-empty buckets kept inline.
const FEW: usize = 3;

#[derive(Debug, Clone)]
pub(super) enum Store {
    /// Up to `FEW` non-empty buckets by ascending index, each count at most
    /// `u32::MAX`.
    Few {
        len: u8,
        index: [i32; FEW],
        count: [u32; FEW],
    },
    /// Counts of every bucket from `offset`; the first and last are non-zero.
    Dense { offset: i32, counts: Vec<u64> },
}

/// Up to `FEW + 1` buckets being rebuilt by [`Store::add`].
struct Scratch {
    len: usize,
    index: [i32; FEW + 1],
    count: [u64; FEW + 1],
}

impl Scratch {
    /// Appends a bucket not below the last one, joining an equal index.
    #[inline]
    fn push(&mut self, i: i32, c: u64) {
        if self.len > 0 && self.index[self.len - 1] == i {
            self.count[self.len - 1] += c;
        } else {
            self.index[self.len] = i;
            self.count[self.len] = c;
            self.len += 1;
        }
    }
}

/// The lowest bucket kept under `top`.
#[inline]
fn floor_of(top: i32, cap: u32) -> i32 {
    top.saturating_sub(cap as i32 - 1)
}

impl Store {
    pub(super) const EMPTY: Store = Store::Few {
        len: 0,
        index: [0; FEW],
        count: [0; FEW],
    };

    pub(super) fn is_empty(&self) -> bool {
        match self {
            Store::Few { len, .. } => *len == 0,
            Store::Dense { counts, .. } => counts.is_empty(),
        }
    }

    /// Calls `f(index, count)` for every non-empty bucket, ascending.
    pub(super) fn each(&self, mut f: impl FnMut(i32, u64)) {
        match self {
            Store::Few { len, index, count } => {
                for k in 0..*len as usize {
                    f(index[k], count[k] as u64);
                }
            }
            Store::Dense { offset, counts } => {
                for (k, &c) in counts.iter().enumerate() {
                    if c != 0 {
                        f(offset + k as i32, c);
                    }
                }
            }
        }
    }

    /// The non-empty buckets, ascending.
    pub(super) fn buckets(&self) -> Vec<(i32, u64)> {
        let mut out = Vec::new();
        self.each(|i, c| out.push((i, c)));
        out
    }

    /// Walks the buckets ascending (descending when `down`), adding their
    /// counts to `seen`; returns the bucket where `seen` passes `rank`.
    #[inline]
    pub(super) fn find(&self, rank: u64, seen: &mut u64, down: bool) -> Option<i32> {
        match self {
            Store::Few { len, index, count } => {
                let n = *len as usize;
                for j in 0..n {
                    let k = if down { n - 1 - j } else { j };
                    *seen += count[k] as u64;
                    if *seen > rank {
                        return Some(index[k]);
                    }
                }
                None
            }
            Store::Dense { offset, counts } => {
                let n = counts.len();
                for j in 0..n {
                    let k = if down { n - 1 - j } else { j };
                    *seen += counts[k];
                    if *seen > rank {
                        return Some(offset + k as i32);
                    }
                }
                None
            }
        }
    }

    /// Highest non-empty bucket and its count (the store must not be empty).
    fn top(&self) -> (i32, u64) {
        match self {
            Store::Few { len, index, count } => {
                let k = *len as usize - 1;
                (index[k], count[k] as u64)
            }
            Store::Dense { offset, counts } => {
                (offset + counts.len() as i32 - 1, counts[counts.len() - 1])
            }
        }
    }

    /// Adds `count` values to bucket `index`, keeping every bucket within
    /// `cap` of the top.
    #[inline]
    pub(super) fn add(&mut self, index: i32, count: u64, cap: u32) {
        match self {
            Store::Few {
                len,
                index: idx,
                count: cnt,
            } => {
                let n = *len as usize;
                let top = if n == 0 { index } else { idx[n - 1].max(index) };
                let floor = floor_of(top, cap);
                // The common cases in place: nothing folds, and the bucket
                // is already there or there is room for it.
                if (n == 0 || idx[0] >= floor) && index >= floor {
                    let k = idx[..n].iter().position(|&i| i >= index).unwrap_or(n);
                    if k < n && idx[k] == index {
                        if let Some(c) = u32::try_from(count)
                            .ok()
                            .and_then(|c| cnt[k].checked_add(c))
                        {
                            cnt[k] = c;
                            return;
                        }
                    } else if n < FEW {
                        if let Ok(c) = u32::try_from(count) {
                            idx.copy_within(k..n, k + 1);
                            cnt.copy_within(k..n, k + 1);
                            idx[k] = index;
                            cnt[k] = c;
                            *len += 1;
                            return;
                        }
                    }
                }
                let target = index.max(floor);
                let mut s = Scratch {
                    len: 0,
                    index: [0; FEW + 1],
                    count: [0; FEW + 1],
                };
                let mut placed = false;
                for k in 0..n {
                    let i = idx[k].max(floor);
                    if !placed && target <= i {
                        s.push(target, count);
                        placed = true;
                    }
                    s.push(i, cnt[k] as u64);
                }
                if !placed {
                    s.push(target, count);
                }
                *self = Store::from_scratch(&s);
            }
            Store::Dense { offset, counts } => dense_add(offset, counts, index, count, cap),
        }
    }

    /// The store holding `s`'s buckets (ascending, within the cap).
    fn from_scratch(s: &Scratch) -> Store {
        if s.len <= FEW && s.count[..s.len].iter().all(|&c| c <= u32::MAX as u64) {
            let mut index = [0; FEW];
            let mut count = [0; FEW];
            for k in 0..s.len {
                index[k] = s.index[k];
                count[k] = s.count[k] as u32;
            }
            return Store::Few {
                len: s.len as u8,
                index,
                count,
            };
        }
        let offset = s.index[0];
        let mut counts = vec![0u64; (s.index[s.len - 1] - offset) as usize + 1];
        for k in 0..s.len {
            counts[(s.index[k] - offset) as usize] = s.count[k];
        }
        Store::Dense { offset, counts }
    }

    /// Adds every bucket of `other`.
    pub(super) fn merge(&mut self, other: &Store, cap: u32) {
        if other.is_empty() {
            return;
        }
        // Raise the top first, so lower buckets fold at most once.
        let (top, top_count) = other.top();
        self.add(top, top_count, cap);
        other.each(|i, c| {
            if i != top {
                self.add(i, c, cap);
            }
        });
    }

    /// Encodes as varints: bucket span, then (when not empty) the lowest
    /// index and the count of every bucket of the span, zeros included.
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Store::Dense { offset, counts } => {
                put_varint(out, counts.len() as u64);
                put_varint_signed(out, *offset as i64);
                for &c in counts {
                    put_varint(out, c);
                }
            }
            Store::Few { len: 0, .. } => put_varint(out, 0),
            Store::Few { len, index, count } => {
                let n = *len as usize;
                let offset = index[0];
                put_varint(out, (index[n - 1] - offset) as u64 + 1);
                put_varint_signed(out, offset as i64);
                let mut next = offset;
                for k in 0..n {
                    for _ in next..index[k] {
                        put_varint(out, 0);
                    }
                    put_varint(out, count[k] as u64);
                    next = index[k] + 1;
                }
            }
        }
    }

    /// Decodes [`encode`](Self::encode) output, checking its shape.
    pub(super) fn decode(r: &mut Reader<'_>, cap: u32) -> Result<Store, String> {
        let len = r.varint().ok_or("truncated DDSketch store")?;
        if len > cap as u64 {
            return Err(format!(
                "DDSketch store has {len} buckets, the cap is {cap}"
            ));
        }
        if len == 0 {
            return Ok(Store::EMPTY);
        }
        let offset = r.varint_signed().ok_or("truncated DDSketch store")?;
        let offset = i32::try_from(offset).map_err(|_| "DDSketch bucket index out of range")?;
        if (offset as i64 + len as i64 - 1) > i32::MAX as i64 {
            return Err("DDSketch bucket index out of range".into());
        }
        let mut counts = Vec::with_capacity(len as usize);
        for k in 0..len {
            let c = r.varint().ok_or("truncated DDSketch counts")?;
            if (k == 0 || k == len - 1) && c == 0 {
                return Err("DDSketch store has an empty edge bucket".into());
            }
            counts.push(c);
        }
        let few = counts.iter().filter(|&&c| c != 0).count() <= FEW
            && counts.iter().all(|&c| c <= u32::MAX as u64);
        let dense = Store::Dense { offset, counts };
        if !few {
            return Ok(dense);
        }
        let mut s = Scratch {
            len: 0,
            index: [0; FEW + 1],
            count: [0; FEW + 1],
        };
        dense.each(|i, c| s.push(i, c));
        Ok(Store::from_scratch(&s))
    }

    /// Heap bytes held beyond the store itself.
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Store::Few { .. } => 0,
            Store::Dense { counts, .. } => counts.capacity() * 8,
        }
    }

    /// Buckets from the lowest to the highest non-empty one.
    #[cfg(test)]
    pub(super) fn span(&self) -> usize {
        match self.buckets().first() {
            None => 0,
            Some(&(low, _)) => (self.top().0 - low) as usize + 1,
        }
    }

    #[cfg(test)]
    pub(super) fn total(&self) -> u64 {
        let mut t = 0;
        self.each(|_, c| t += c);
        t
    }
}

/// [`Store::add`] on the dense form.
fn dense_add(offset: &mut i32, counts: &mut Vec<u64>, index: i32, count: u64, cap: u32) {
    let max = *offset + counts.len() as i32 - 1;
    if index > max {
        let floor = floor_of(index, cap);
        if floor > *offset {
            // The new top pushes the window up: fold everything at or below
            // the new floor first, so the store never grows past the cap,
            // however far the new value is.
            let folded: u64 = counts[..=((floor - *offset) as usize).min(counts.len() - 1)]
                .iter()
                .sum();
            let mut out: Vec<u64> = Vec::with_capacity((index - floor) as usize + 1);
            out.push(folded);
            for i in floor + 1..=index {
                let k = i - *offset;
                out.push(if i <= max { counts[k as usize] } else { 0 });
            }
            *counts = out;
            *offset = floor;
        } else {
            counts.resize((index - *offset) as usize + 1, 0);
        }
        counts[(index - *offset) as usize] += count;
        return;
    }
    let index = index.max(floor_of(max, cap));
    if index < *offset {
        let grow = (*offset - index) as usize;
        counts.splice(0..0, std::iter::repeat_n(0, grow));
        *offset = index;
    }
    counts[(index - *offset) as usize] += count;
}

impl Default for Store {
    fn default() -> Store {
        Store::EMPTY
    }
}

/// Equal when they hold the same buckets with the same counts, whatever
/// their form.
impl PartialEq for Store {
    fn eq(&self, other: &Store) -> bool {
        self.buckets() == other.buckets()
    }
}

impl Eq for Store {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// The meaning of a store: buckets with counts, every bucket below
    /// `top − cap + 1` folded into that one.
    fn model(adds: &[(i32, u64)], cap: u32) -> Vec<(i32, u64)> {
        let Some(top) = adds.iter().map(|a| a.0).max() else {
            return Vec::new();
        };
        let floor = floor_of(top, cap);
        let mut m: BTreeMap<i32, u64> = BTreeMap::new();
        for &(i, c) in adds {
            *m.entry(i.max(floor)).or_default() += c;
        }
        m.into_iter().collect()
    }

    fn store_of(adds: &[(i32, u64)], cap: u32) -> Store {
        let mut s = Store::EMPTY;
        for &(i, c) in adds {
            s.add(i, c, cap);
        }
        s
    }

    fn encoded(s: &Store) -> Vec<u8> {
        let mut out = Vec::new();
        s.encode(&mut out);
        out
    }

    proptest! {
        /// Any sequence of adds, split anywhere and merged, holds the
        /// model's buckets; equal stores encode to equal bytes, and decoding
        /// gives the store back.
        #[test]
        fn stores_hold_the_models_buckets(
            adds in proptest::collection::vec(
                (prop_oneof![-40i32..40, -3i32..3, -100_000i32..100_000],
                 prop_oneof![1u64..4, Just(u32::MAX as u64), Just(u32::MAX as u64 + 1)]),
                0..12,
            ),
            cap in prop_oneof![Just(4u32), Just(16), Just(64)],
            cut in 0usize..12,
        ) {
            let whole = store_of(&adds, cap);
            prop_assert_eq!(whole.buckets(), model(&adds, cap));
            let cut = cut.min(adds.len());
            let mut merged = store_of(&adds[..cut], cap);
            merged.merge(&store_of(&adds[cut..], cap), cap);
            prop_assert_eq!(merged.buckets(), model(&adds, cap));
            prop_assert_eq!(encoded(&merged), encoded(&whole));
            let bytes = encoded(&whole);
            let back = Store::decode(&mut Reader::new(&bytes), cap).unwrap();
            prop_assert_eq!(&back, &whole);
            prop_assert_eq!(encoded(&back), bytes);
            prop_assert!(whole.span() as u32 <= cap);
        }
    }

    #[test]
    fn the_form_follows_the_buckets() {
        let s = store_of(&[(5, 1), (9, 2), (1, 1)], 64);
        assert!(matches!(s, Store::Few { len: 3, .. }));
        let d = store_of(&[(5, 1), (9, 2), (1, 1), (7, 1)], 64);
        assert!(matches!(d, Store::Dense { offset: 1, .. }));
        let big = store_of(&[(5, u32::MAX as u64 + 1)], 64);
        assert!(matches!(big, Store::Dense { .. }));
        // Folding under the cap can bring four buckets back to few.
        let folded = store_of(&[(1, 1), (2, 1), (3, 1), (100, 1)], 4);
        assert_eq!(folded.buckets(), vec![(97, 3), (100, 1)]);
    }
}
