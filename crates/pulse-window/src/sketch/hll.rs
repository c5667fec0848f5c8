//! HyperLogLog (Flajolet et al. 2007) for `distinct`, with a sparse form for
//! the many tiny states a pane holds.
//!
//! The state is the register array: register `j` holds the largest rank
//! (position of the first 1-bit) among the hashes whose top `p` bits are `j`.
//! Merge takes the register-wise maximum, so it is exact, associative and
//! commutative. While at most `m / 4` registers are set, they are kept as a
//! sorted list of `(index, rank)` pairs (4 bytes each, no bigger than the
//! dense array); beyond that, as `m` bytes. The form depends only on the
//! register values, never on the order of inserts or merges, so equal
//! states encode to equal bytes.
//!
//! Estimate: the harmonic-mean estimator with linear counting below `2.5 m`
//! (small-range correction); standard error ≈ 1.04 / √m. Hashes are 64-bit,
//! so no large-range correction is needed.

use std::sync::OnceLock;

use smallvec::SmallVec;

use super::codec::Reader;

/// Smallest and largest supported precision (`m = 2^p` registers).
pub const MIN_PRECISION: u8 = 4;
pub const MAX_PRECISION: u8 = 18;

const SPARSE: u8 = 0;
const DENSE: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Registers {
    /// Set registers as `index << 8 | rank`, sorted by index, one per index.
    Sparse(SmallVec<[u32; 2]>),
    /// All `m` registers.
    Dense(Box<[u8]>),
}

impl Registers {
    /// No register set. A constant, so a new sketch is written in place
    /// rather than built on the stack and copied (see [`HyperLogLog::p`]).
    const EMPTY: Registers = Registers::Sparse(SmallVec::new_const());
}

/// A HyperLogLog sketch of precision `p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HyperLogLog {
    /// The precision, kept in a whole word: a one-byte field was stored
    /// alone and then copied as a word with its padding when a new sketch
    /// was pushed into a state vector, stalling store forwarding once per
    /// new group.
    p: u64,
    regs: Registers,
}

/// `f64::round` (half away from zero) of a non-negative value, by hand:
/// the baseline x86-64 target makes `f64::round` a library call. Exact:
/// below 2^53 the fraction `e - t` is computed without rounding.
#[inline]
fn round_non_negative(e: f64) -> u64 {
    let t = e as u64;
    if e - t as f64 >= 0.5 {
        t + 1
    } else {
        t
    }
}

/// Linear counting: `m · ln(m / zeros)`.
#[inline]
fn linear_counting(m: usize, zeros: usize) -> f64 {
    let m = m as f64;
    m * (m / zeros as f64).ln()
}

/// Estimates of sparse sketches of precision `p`, by number of set
/// registers. A sparse sketch has at most m/4 registers set, so at least
/// 3m/4 are zero, the raw estimate stays below α·m/0.75 < 2.5·m, and the
/// estimate is always linear counting: it depends on that number alone, so
/// it is computed once per precision instead of once per window.
fn sparse_estimates(p: u8) -> &'static [u64] {
    const PRECISIONS: usize = (MAX_PRECISION - MIN_PRECISION + 1) as usize;
    static TABLES: [OnceLock<Box<[u64]>>; PRECISIONS] = [const { OnceLock::new() }; PRECISIONS];
    TABLES[(p - MIN_PRECISION) as usize].get_or_init(|| {
        let m = 1usize << p;
        (0..=m / 4)
            .map(|set| round_non_negative(linear_counting(m, m - set)))
            .collect()
    })
}

impl HyperLogLog {
    /// An empty sketch; `p` must lie in `4..=18` (checked by the view spec).
    pub fn new(p: u8) -> Self {
        debug_assert!((MIN_PRECISION..=MAX_PRECISION).contains(&p));
        HyperLogLog {
            p: p as u64,
            regs: Registers::EMPTY,
        }
    }

    pub fn precision(&self) -> u8 {
        self.p as u8
    }

    fn m(&self) -> usize {
        1 << self.p
    }

    /// Most registers the sparse form holds before turning dense.
    fn sparse_limit(&self) -> usize {
        self.m() / 4
    }

    /// Adds one 64-bit hash of a value.
    #[inline]
    pub fn insert_hash(&mut self, hash: u64) {
        let p = self.p as u32;
        let index = (hash >> (64 - p)) as u32;
        // The guard bit bounds the rank by 64 - p + 1.
        let rank = ((hash << p) | (1u64 << (p - 1))).leading_zeros() as u8 + 1;
        self.set_max(index, rank);
    }

    #[inline]
    fn set_max(&mut self, index: u32, rank: u8) {
        let limit = self.sparse_limit();
        match &mut self.regs {
            Registers::Dense(r) => {
                let slot = &mut r[index as usize];
                if *slot < rank {
                    *slot = rank;
                }
            }
            Registers::Sparse(list) => match list.binary_search_by_key(&index, |e| e >> 8) {
                Ok(at) => {
                    if (list[at] & 0xff) < rank as u32 {
                        list[at] = index << 8 | rank as u32;
                    }
                }
                Err(at) => {
                    list.insert(at, index << 8 | rank as u32);
                    if list.len() > limit {
                        self.densify();
                    }
                }
            },
        }
    }

    fn densify(&mut self) {
        if let Registers::Sparse(list) = &self.regs {
            let mut dense = vec![0u8; self.m()].into_boxed_slice();
            for e in list {
                dense[(e >> 8) as usize] = (e & 0xff) as u8;
            }
            self.regs = Registers::Dense(dense);
        }
    }

    /// Register-wise maximum with `other` (same precision required).
    pub fn merge(&mut self, other: &HyperLogLog) {
        debug_assert_eq!(self.p, other.p);
        match &other.regs {
            Registers::Sparse(list) => {
                if let (Registers::Sparse(mine), true) = (&self.regs, list.len() > 1) {
                    // Merge two sorted lists in one pass.
                    let mut out: SmallVec<[u32; 2]> =
                        SmallVec::with_capacity(mine.len() + list.len());
                    let (mut i, mut j) = (0, 0);
                    while i < mine.len() && j < list.len() {
                        let (a, b) = (mine[i], list[j]);
                        match (a >> 8).cmp(&(b >> 8)) {
                            std::cmp::Ordering::Less => {
                                out.push(a);
                                i += 1;
                            }
                            std::cmp::Ordering::Greater => {
                                out.push(b);
                                j += 1;
                            }
                            std::cmp::Ordering::Equal => {
                                out.push(a.max(b));
                                i += 1;
                                j += 1;
                            }
                        }
                    }
                    out.extend_from_slice(&mine[i..]);
                    out.extend_from_slice(&list[j..]);
                    let dense = out.len() > self.sparse_limit();
                    self.regs = Registers::Sparse(out);
                    if dense {
                        self.densify();
                    }
                } else {
                    for e in list {
                        self.set_max(e >> 8, (e & 0xff) as u8);
                    }
                }
            }
            Registers::Dense(theirs) => {
                self.densify();
                if let Registers::Dense(mine) = &mut self.regs {
                    for (a, b) in mine.iter_mut().zip(theirs.iter()) {
                        *a = (*a).max(*b);
                    }
                }
            }
        }
    }

    /// The cardinality estimate, rounded to the nearest integer.
    pub fn estimate(&self) -> u64 {
        match &self.regs {
            Registers::Sparse(list) if list.len() <= self.sparse_limit() => {
                sparse_estimates(self.p as u8)[list.len()]
            }
            _ => self.estimate_from_registers(),
        }
    }

    /// The estimate from the registers themselves: the harmonic mean, or
    /// linear counting while many registers are still zero.
    fn estimate_from_registers(&self) -> u64 {
        let m = self.m() as f64;
        let (zeros, sum) = match &self.regs {
            Registers::Sparse(list) => {
                let set: f64 = list.iter().map(|e| inv_pow2((e & 0xff) as u8)).sum();
                let zeros = self.m() - list.len();
                (zeros, zeros as f64 + set)
            }
            Registers::Dense(r) => {
                let zeros = r.iter().filter(|&&x| x == 0).count();
                (zeros, r.iter().map(|&x| inv_pow2(x)).sum())
            }
        };
        let raw = alpha(self.m()) * m * m / sum;
        let e = if raw <= 2.5 * m && zeros > 0 {
            linear_counting(self.m(), zeros)
        } else {
            raw
        };
        round_non_negative(e)
    }

    /// Encodes the registers: `[p, form]` then the sorted `u32` entries (LE)
    /// or the `m` register bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.p as u8);
        match &self.regs {
            Registers::Sparse(list) => {
                out.push(SPARSE);
                for e in list {
                    out.extend_from_slice(&e.to_le_bytes());
                }
            }
            Registers::Dense(r) => {
                out.push(DENSE);
                out.extend_from_slice(r);
            }
        }
    }

    /// Decodes [`encode`](Self::encode) output for a sketch of precision `p`,
    /// checking every register; the result is put in canonical form.
    pub fn decode(bytes: &[u8], p: u8) -> Result<HyperLogLog, String> {
        let mut r = Reader::new(bytes);
        let got = r.u8().ok_or("empty HyperLogLog state")?;
        if got != p {
            return Err(format!("HyperLogLog precision {got}, the view has {p}"));
        }
        let max_rank = 64 - p + 1;
        let mut hll = HyperLogLog::new(p);
        match r.u8().ok_or("truncated HyperLogLog state")? {
            SPARSE => {
                let body = r
                    .take(bytes.len() - 2)
                    .ok_or("truncated HyperLogLog state")?;
                if body.len() % 4 != 0 {
                    return Err("HyperLogLog sparse entries are not 4-byte aligned".into());
                }
                let mut last: Option<u32> = None;
                for chunk in body.chunks_exact(4) {
                    let e = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                    let (index, rank) = (e >> 8, (e & 0xff) as u8);
                    if index as usize >= hll.m() || rank == 0 || rank > max_rank {
                        return Err(format!(
                            "HyperLogLog entry out of range: index {index}, rank {rank}"
                        ));
                    }
                    if last.is_some_and(|l| l >= index) {
                        return Err("HyperLogLog sparse entries are not sorted".into());
                    }
                    last = Some(index);
                    hll.set_max(index, rank);
                }
            }
            DENSE => {
                let regs = r.take(hll.m()).ok_or("truncated HyperLogLog registers")?;
                if !r.is_done() {
                    return Err("trailing bytes after HyperLogLog registers".into());
                }
                if regs.iter().any(|&x| x > max_rank) {
                    return Err("HyperLogLog register out of range".into());
                }
                let set = regs.iter().filter(|&&x| x != 0).count();
                if set > hll.sparse_limit() {
                    hll.regs = Registers::Dense(regs.into());
                } else {
                    for (i, &x) in regs.iter().enumerate() {
                        if x != 0 {
                            hll.set_max(i as u32, x);
                        }
                    }
                }
            }
            other => return Err(format!("unknown HyperLogLog form {other}")),
        }
        Ok(hll)
    }

    /// Heap bytes held beyond the struct itself.
    pub fn heap_bytes(&self) -> usize {
        match &self.regs {
            Registers::Sparse(l) if l.spilled() => l.capacity() * 4,
            Registers::Sparse(_) => 0,
            Registers::Dense(r) => r.len(),
        }
    }
}

/// 2^-x for a register value.
#[inline]
fn inv_pow2(x: u8) -> f64 {
    f64::from_bits((1023u64 - x as u64) << 52)
}

/// The bias constant α_m of the raw estimator.
fn alpha(m: usize) -> f64 {
    match m {
        16 => 0.673,
        32 => 0.697,
        64 => 0.709,
        _ => 0.7213 / (1.0 + 1.079 / m as f64),
    }
}

/// The relative standard error of a sketch of precision `p`: 1.04 / √m.
pub fn standard_error(p: u8) -> f64 {
    1.04 / ((1u64 << p) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_estimates_equal_the_register_formula() {
        for p in MIN_PRECISION..=12 {
            let mut h = HyperLogLog::new(p);
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ p as u64;
            while matches!(h.regs, Registers::Sparse(_)) {
                assert_eq!(h.estimate(), h.estimate_from_registers(), "p {p}");
                x = x.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(1);
                h.insert_hash(x);
            }
            assert_eq!(h.estimate(), h.estimate_from_registers(), "p {p}, dense");
        }
    }

    #[test]
    fn rounding_matches_std() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut values = vec![
            0.0,
            0.5,
            1.5,
            2.5,
            0.499_999_999_999_999_94,
            1e15 + 0.5,
            9e15,
        ];
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push((x >> 11) as f64 / (1u64 << 53) as f64 * 1e6);
        }
        for v in values {
            assert_eq!(round_non_negative(v), v.round() as u64, "{v}");
        }
    }
    use proptest::prelude::*;
    use xxhash_rust::xxh3::xxh3_64;

    fn sketch(p: u8, values: impl IntoIterator<Item = u64>) -> HyperLogLog {
        let mut h = HyperLogLog::new(p);
        for v in values {
            h.insert_hash(xxh3_64(&v.to_le_bytes()));
        }
        h
    }

    #[test]
    fn estimates_within_three_standard_errors() {
        // Deterministic inputs across the linear-counting and raw ranges.
        for p in [4u8, 8, 12, 14, 18] {
            for n in [0u64, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] {
                let est = sketch(p, 0..n).estimate() as f64;
                let tolerance = (3.0 * standard_error(p) * n as f64).max(1.0);
                assert!(
                    (est - n as f64).abs() <= tolerance,
                    "p={p} n={n} estimate={est} tolerance={tolerance}"
                );
            }
        }
    }

    #[test]
    fn sparse_turns_dense_past_a_quarter_of_the_registers() {
        let h = sketch(4, 0..3);
        assert!(matches!(h.regs, Registers::Sparse(_)));
        let h = sketch(4, 0..100);
        assert!(matches!(h.regs, Registers::Dense(_)));
    }

    #[test]
    fn decode_rejects_garbage() {
        assert!(HyperLogLog::decode(&[], 12).is_err());
        assert!(HyperLogLog::decode(&[11, 0], 12).is_err());
        assert!(HyperLogLog::decode(&[12, 7], 12).is_err());
        assert!(HyperLogLog::decode(&[12, 0, 1, 2, 3], 12).is_err());
        assert!(HyperLogLog::decode(&[12, 1, 0], 12).is_err());
        // Rank 0 and out-of-order entries.
        let mut bad = vec![12, 0];
        bad.extend_from_slice(&(5u32 << 8).to_le_bytes());
        assert!(HyperLogLog::decode(&bad, 12).is_err());
        let mut unsorted = vec![12, 0];
        unsorted.extend_from_slice(&(5u32 << 8 | 1).to_le_bytes());
        unsorted.extend_from_slice(&(4u32 << 8 | 1).to_le_bytes());
        assert!(HyperLogLog::decode(&unsorted, 12).is_err());
    }

    proptest! {
        #[test]
        fn merge_of_any_split_equals_the_whole(
            p in MIN_PRECISION..=MAX_PRECISION,
            values in proptest::collection::vec(any::<u64>(), 0..3000),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            let whole = sketch(p, values.iter().copied());
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(values.len() + 1)).collect();
            bounds.push(0);
            bounds.push(values.len());
            bounds.sort_unstable();
            let mut merged = HyperLogLog::new(p);
            for w in bounds.windows(2).rev() {
                merged.merge(&sketch(p, values[w[0]..w[1]].iter().copied()));
            }
            prop_assert_eq!(&merged, &whole);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            merged.encode(&mut a);
            whole.encode(&mut b);
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(HyperLogLog::decode(&a, p).unwrap(), whole);
        }
    }
}
