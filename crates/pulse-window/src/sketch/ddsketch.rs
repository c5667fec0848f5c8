//! DDSketch (Masson, Rim, Lee, VLDB 2019) for `quantile`: a relative-error
//! quantile sketch whose merge is exact.
//!
//! A positive value `x` falls in bucket `i = ⌈log_γ x⌉` with
//! `γ = (1 + α) / (1 − α)`, i.e. `γ^(i−1) < x ≤ γ^i`; the bucket is read back
//! as `2γ^i / (γ + 1)`, within relative error `α` of every value in it.
//! Negative values go to a mirror store by magnitude, zeros to a counter.
//! Merge adds bucket counts, so it is exact, associative and commutative.
//!
//! Each store keeps at most `max_buckets` buckets: when a value would widen
//! it further, the lowest-magnitude buckets collapse into the lowest kept
//! one. The kept window is anchored at the largest index, so the state is a
//! function of the values alone (collapsing twice lands in the same bucket
//! as collapsing once) and merges stay exact. Values whose magnitude falls
//! in collapsed buckets lose the accuracy guarantee; with the default cap
//! this needs a dynamic range above 10^18 within one pane and key.
//!
//! Logarithms come from `libm`, a pure-Rust port, so every machine puts a
//! value in the same bucket. NaN and ±∞ are not sketched (skipped by the
//! caller).

use super::buckets::Store;
use super::codec::{put_varint, Reader};

/// Default relative accuracy α.
pub const DEFAULT_RELATIVE_ACCURACY: f64 = 0.01;

/// The mapping shared by all sketches of one measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DdSketchConfig {
    alpha: f64,
    ln_gamma: f64,
    /// 1 / ln γ.
    multiplier: f64,
    /// ln(2 / (γ + 1)): scales a bucket's upper bound to its representative.
    ln_representative: f64,
    max_buckets: u32,
}

impl DdSketchConfig {
    /// A mapping with relative accuracy `alpha` (0 < α < 1, checked by the
    /// view spec). The bucket cap covers a dynamic range of 10^18 per store,
    /// clamped to 64..=32 768 buckets.
    pub fn new(alpha: f64) -> Self {
        let gamma = (1.0 + alpha) / (1.0 - alpha);
        let ln_gamma = libm::log(gamma);
        let wanted = (libm::log(1e18) / ln_gamma).ceil();
        DdSketchConfig {
            alpha,
            ln_gamma,
            multiplier: 1.0 / ln_gamma,
            ln_representative: libm::log(2.0 / (gamma + 1.0)),
            max_buckets: wanted.clamp(64.0, 32_768.0) as u32,
        }
    }

    pub fn relative_accuracy(&self) -> f64 {
        self.alpha
    }

    pub fn max_buckets(&self) -> u32 {
        self.max_buckets
    }

    /// Bucket index of a positive finite magnitude.
    #[inline]
    fn index(&self, x: f64) -> i32 {
        ceil_i32(libm::log(x) * self.multiplier)
    }

    /// Representative value of bucket `i`: 2γ^i / (γ + 1), computed in log
    /// space so the top buckets do not overflow.
    fn value(&self, i: i32) -> f64 {
        libm::exp(i as f64 * self.ln_gamma + self.ln_representative)
    }
}

/// `v.ceil() as i32` by hand: the baseline x86-64 target has no rounding
/// instruction, so `f64::ceil` is a library call per event. Same result,
/// saturation included (a value beyond `i32` saturates either way).
#[inline]
fn ceil_i32(v: f64) -> i32 {
    let t = v as i32;
    if (t as f64) < v {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Bucket values met during one query. `exp` was the costliest step of
/// finalising a quantile, and a query meets the same few buckets again and
/// again: a direct-mapped table keeps them (a miss computes the value, so
/// the answer is the same either way). The table is made on first use, so
/// measures that are not quantiles allocate nothing.
#[derive(Default)]
pub struct BucketValues {
    slots: Vec<(i64, f64)>,
}

impl BucketValues {
    #[inline]
    pub fn get(&mut self, i: i32, cfg: &DdSketchConfig) -> f64 {
        if self.slots.is_empty() {
            self.slots = vec![(i64::MIN, 0.0); 256];
        }
        let slot = &mut self.slots[(i as u32 & 255) as usize];
        if slot.0 != i as i64 {
            *slot = (i as i64, cfg.value(i));
        }
        slot.1
    }
}

/// A DDSketch: counts of positive and negative buckets plus zeros.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DdSketch {
    /// Values sketched: kept, so a quantile reads no bucket twice (most
    /// window sketches are small and a quantile is read once per window).
    count: u64,
    zeros: u64,
    positive: Store,
    negative: Store,
}

impl DdSketch {
    /// An empty sketch as a constant: pushed into a state vector, it is
    /// written in place, where a built-then-copied value stalled store
    /// forwarding once per new group.
    pub const EMPTY: DdSketch = DdSketch {
        count: 0,
        zeros: 0,
        positive: Store::EMPTY,
        negative: Store::EMPTY,
    };

    /// Adds a finite value (the caller skips NaN and ±∞).
    #[inline]
    pub fn insert(&mut self, x: f64, cfg: &DdSketchConfig) {
        debug_assert!(x.is_finite());
        self.count += 1;
        if x > 0.0 {
            self.positive.add(cfg.index(x), 1, cfg.max_buckets);
        } else if x < 0.0 {
            self.negative.add(cfg.index(-x), 1, cfg.max_buckets);
        } else {
            self.zeros += 1;
        }
    }

    /// Adds all of `other`'s buckets.
    pub fn merge(&mut self, other: &DdSketch, cfg: &DdSketchConfig) {
        self.count += other.count;
        self.zeros += other.zeros;
        self.positive.merge(&other.positive, cfg.max_buckets);
        self.negative.merge(&other.negative, cfg.max_buckets);
    }

    /// Number of values sketched.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q`-quantile: an estimate of the value at 0-based rank
    /// `⌊q · (n − 1)⌋` in ascending order, within relative error α of it.
    /// `None` when the sketch is empty.
    pub fn quantile(&self, q: f64, cfg: &DdSketchConfig) -> Option<f64> {
        self.quantile_by(q, |i| cfg.value(i))
    }

    /// [`quantile`](Self::quantile), with bucket values from `memo`.
    #[inline]
    pub fn quantile_with(
        &self,
        q: f64,
        cfg: &DdSketchConfig,
        memo: &mut BucketValues,
    ) -> Option<f64> {
        self.quantile_by(q, |i| memo.get(i, cfg))
    }

    #[inline]
    fn quantile_by(&self, q: f64, mut value: impl FnMut(i32) -> f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        // Non-negative, so truncation is `floor` (without a library call).
        let rank = (q.clamp(0.0, 1.0) * (n - 1) as f64) as u64;
        let mut seen = 0u64;
        // Negative values ascending: largest magnitude first.
        if let Some(i) = self.negative.find(rank, &mut seen, true) {
            return Some(-value(i));
        }
        seen += self.zeros;
        if seen > rank {
            return Some(0.0);
        }
        self.positive.find(rank, &mut seen, false).map(value)
    }

    /// Encodes as varints: zeros, then the positive and negative stores
    /// (bucket count, first index, counts).
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.zeros);
        self.positive.encode(out);
        self.negative.encode(out);
    }

    /// Decodes [`encode`](Self::encode) output, checking its shape.
    pub fn decode(bytes: &[u8], cfg: &DdSketchConfig) -> Result<DdSketch, String> {
        let mut r = Reader::new(bytes);
        let zeros = r.varint().ok_or("truncated DDSketch state")?;
        let positive = Store::decode(&mut r, cfg.max_buckets)?;
        let negative = Store::decode(&mut r, cfg.max_buckets)?;
        if !r.is_done() {
            return Err("trailing bytes after DDSketch state".into());
        }
        let mut count = Some(zeros);
        for store in [&positive, &negative] {
            store.each(|_, c| count = count.and_then(|n| n.checked_add(c)));
        }
        let count = count.ok_or("DDSketch counts overflow")?;
        Ok(DdSketch {
            count,
            zeros,
            positive,
            negative,
        })
    }

    /// Heap bytes held beyond the struct itself.
    pub fn heap_bytes(&self) -> usize {
        self.positive.heap_bytes() + self.negative.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sketch(values: &[f64], cfg: &DdSketchConfig) -> DdSketch {
        let mut s = DdSketch::default();
        for &v in values {
            s.insert(v, cfg);
        }
        s
    }

    fn exact_rank_value(values: &[f64], q: f64) -> f64 {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
    }

    fn within(est: f64, exact: f64, alpha: f64) -> bool {
        (est - exact).abs() <= alpha * exact.abs() * (1.0 + 1e-9)
    }

    #[test]
    fn ceil_matches_std() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut values = vec![
            0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 1e-300, -1e-300, 3e9, -3e9,
        ];
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1e4);
        }
        for v in values {
            assert_eq!(ceil_i32(v), v.ceil() as i32, "{v}");
        }
    }

    #[test]
    fn memoised_quantiles_are_the_same() {
        let cfg = DdSketchConfig::new(0.01);
        let mut memo = BucketValues::default();
        let mut x = 7u64;
        for _ in 0..2_000 {
            let mut s = DdSketch::default();
            for _ in 0..(x % 9) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.insert(((x >> 11) as f64 / (1u64 << 53) as f64 - 0.3) * 1e6, &cfg);
            }
            for q in [0.0, 0.25, 0.5, 0.95, 1.0] {
                assert_eq!(s.quantile_with(q, &cfg, &mut memo), s.quantile(q, &cfg));
            }
        }
    }

    #[test]
    fn buckets_bound_their_values() {
        let cfg = DdSketchConfig::new(0.01);
        for x in [
            1e-300,
            1e-3,
            0.5,
            1.0,
            1.02,
            3.0,
            1e6,
            1.7e308,
            f64::MIN_POSITIVE / 8.0,
        ] {
            let est = sketch(&[x], &cfg).quantile(0.5, &cfg).unwrap();
            assert!(within(est, x, 0.01), "{x} → {est}");
            let est = sketch(&[-x], &cfg).quantile(0.5, &cfg).unwrap();
            assert!(within(est, -x, 0.01), "{} → {est}", -x);
        }
        assert_eq!(sketch(&[0.0], &cfg).quantile(0.3, &cfg), Some(0.0));
        assert_eq!(DdSketch::default().quantile(0.5, &cfg), None);
    }

    #[test]
    fn cap_collapses_the_lowest_magnitudes() {
        let cfg = DdSketchConfig::new(0.2); // γ = 1.5: a small cap of 103 buckets
        let values: Vec<f64> = (0..400).map(|k| 1.5f64.powi(k - 200)).collect();
        let s = sketch(&values, &cfg);
        assert!(s.positive.span() as u32 <= cfg.max_buckets());
        assert_eq!(s.count(), 400);
        // Upper quantiles keep their guarantee.
        let exact = exact_rank_value(&values, 0.99);
        assert!(within(s.quantile(0.99, &cfg).unwrap(), exact, 0.2));
    }

    #[test]
    fn far_apart_values_stay_within_the_cap_in_any_order() {
        let cfg = DdSketchConfig::new(1e-6); // 32 768 buckets span only ×1.07
        let up = sketch(&[1e-300, 1e300, 2e300], &cfg);
        let down = sketch(&[2e300, 1e300, 1e-300], &cfg);
        assert_eq!(up, down);
        assert_eq!(up.positive.span() as u32, cfg.max_buckets());
        assert_eq!(up.count(), 3);
        let est = up.quantile(1.0, &cfg).unwrap();
        assert!(within(est, 2e300, 1e-6));
    }

    #[test]
    fn decode_rejects_garbage() {
        let cfg = DdSketchConfig::new(0.01);
        assert!(DdSketch::decode(&[], &cfg).is_err());
        assert!(DdSketch::decode(&[0, 1, 2, 0, 0], &cfg).is_err()); // empty edge bucket
        assert!(DdSketch::decode(&[0, 0, 0, 9], &cfg).is_err()); // trailing byte
        assert!(DdSketch::decode(&[0, 0xff, 0xff, 0x03], &cfg).is_err()); // over the cap
    }

    /// Values spanning a range the default cap keeps whole (10^16).
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            -1e6f64..1e6,
            Just(0.0),
            (-8i32..8, 1.0f64..10.0).prop_map(|(e, m)| m * 10f64.powi(e)),
            (-8i32..8, 1.0f64..10.0).prop_map(|(e, m)| -m * 10f64.powi(e)),
        ]
    }

    /// Values spanning 10^600, so stores collapse.
    fn wide_value() -> impl Strategy<Value = f64> {
        prop_oneof![
            value(),
            (-300i32..300).prop_map(|e| 10f64.powi(e) * 1.234),
            (-300i32..300).prop_map(|e| -(10f64.powi(e))),
        ]
    }

    proptest! {
        #[test]
        fn merge_of_any_split_equals_the_whole(
            values in proptest::collection::vec(wide_value(), 1..400),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
            alpha in prop_oneof![Just(0.01), Just(0.05), 0.001f64..0.3],
        ) {
            let cfg = DdSketchConfig::new(alpha);
            let whole = sketch(&values, &cfg);
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(values.len() + 1)).collect();
            bounds.extend([0, values.len()]);
            bounds.sort_unstable();
            let mut merged = DdSketch::default();
            for w in bounds.windows(2).rev() {
                merged.merge(&sketch(&values[w[0]..w[1]], &cfg), &cfg);
            }
            prop_assert_eq!(&merged, &whole);
            prop_assert_eq!(whole.count(), whole.zeros + whole.positive.total() + whole.negative.total());
            let mut bytes = Vec::new();
            whole.encode(&mut bytes);
            prop_assert_eq!(DdSketch::decode(&bytes, &cfg).unwrap(), whole);
        }

        #[test]
        fn quantiles_within_relative_accuracy(
            values in proptest::collection::vec(value(), 1..400),
            q in 0.0f64..=1.0,
        ) {
            let cfg = DdSketchConfig::new(0.01);
            let s = sketch(&values, &cfg);
            let exact = exact_rank_value(&values, q);
            let est = s.quantile(q, &cfg).unwrap();
            prop_assert!(within(est, exact, 0.01), "q={} exact={} est={}", q, exact, est);
        }
    }
}
