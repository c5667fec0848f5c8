//! Exact floating-point summation, so float sums merge without drift.
//!
//! A plain `f64` running sum depends on the order of its additions, so the
//! merged sum of two partial states would differ in the last bits from the
//! sum of all events, and the batch/realtime merge would not be exact. This
//! accumulator keeps the exact sum as a list of non-overlapping partials
//! (Shewchuk's algorithm, as in Python's `math.fsum`) and rounds once, to
//! nearest-even, when the value is read. The result is the correctly rounded
//! exact sum, independent of order and grouping.
//!
//! Non-finite inputs are tracked apart: any NaN, or +∞ together with −∞,
//! gives NaN; otherwise an infinity wins. A finite running total that leaves
//! the f64 range saturates to ±∞ (documented in `docs/windows.md`).

use smallvec::SmallVec;

const POS_INF: u8 = 1;
const NEG_INF: u8 = 2;
const NAN: u8 = 4;

/// The exact sum of a multiset of `f64` values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactSum {
    /// Non-overlapping partials in increasing magnitude; their exact sum is the value.
    partials: SmallVec<[f64; 2]>,
    /// Bit set of non-finite contributions (`POS_INF`, `NEG_INF`, `NAN`).
    special: u8,
}

impl ExactSum {
    /// Zero, as a constant (written in place when a state is created).
    pub const ZERO: ExactSum = ExactSum {
        partials: SmallVec::new_const(),
        special: 0,
    };

    /// Adds one value exactly.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.special |= if x.is_nan() {
                NAN
            } else if x > 0.0 {
                POS_INF
            } else {
                NEG_INF
            };
            return;
        }
        let mut x = x;
        let mut kept = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            if !hi.is_finite() {
                // The finite total left the f64 range: saturate.
                self.special |= if hi > 0.0 { POS_INF } else { NEG_INF };
                self.partials.clear();
                return;
            }
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        self.partials.truncate(kept);
        // Zeros are dropped, so ±0 never makes two equal sums differ.
        if x != 0.0 {
            self.partials.push(x);
        }
    }

    /// Adds every partial of `other`: the exact sum of both multisets.
    pub fn merge(&mut self, other: &ExactSum) {
        self.special |= other.special;
        for &p in &other.partials {
            self.add(p);
        }
    }

    /// The exact sum rounded once to the nearest `f64` (ties to even).
    pub fn value(&self) -> f64 {
        if self.special & NAN != 0 || self.special & (POS_INF | NEG_INF) == POS_INF | NEG_INF {
            return f64::NAN;
        }
        if self.special & POS_INF != 0 {
            return f64::INFINITY;
        }
        if self.special & NEG_INF != 0 {
            return f64::NEG_INFINITY;
        }
        round_partials(&self.partials)
    }

    /// A canonical form: the same exact value always gives the same partials
    /// (greedy expansion: each partial is the rounded value of what remains),
    /// so snapshots of equal sums are byte-identical.
    pub fn canonical(&self) -> ExactSum {
        if self.special != 0 {
            return ExactSum {
                partials: SmallVec::new(),
                special: self.special,
            };
        }
        let mut rest = self.clone();
        let mut terms: SmallVec<[f64; 2]> = SmallVec::new();
        loop {
            let head = round_partials(&rest.partials);
            if head == 0.0 {
                break;
            }
            terms.push(head);
            rest.add(-head);
            if rest.special != 0 {
                // Unreachable for finite partials; keep the head-only form.
                break;
            }
        }
        terms.reverse(); // increasing magnitude, like `add` keeps them
        ExactSum {
            partials: terms,
            special: 0,
        }
    }

    /// Raw parts for snapshots: the non-finite flags and the partials.
    pub fn parts(&self) -> (u8, &[f64]) {
        (self.special, &self.partials)
    }

    /// Rebuilds a sum from snapshot parts (re-added, so any input is valid).
    pub fn from_parts(special: u8, partials: &[f64]) -> ExactSum {
        let mut s = ExactSum {
            partials: SmallVec::new(),
            special: special & (POS_INF | NEG_INF | NAN),
        };
        for &p in partials {
            s.add(p);
        }
        s
    }

    /// Heap bytes beyond the inline storage.
    pub fn heap_bytes(&self) -> usize {
        if self.partials.spilled() {
            self.partials.capacity() * 8
        } else {
            0
        }
    }
}

/// Correctly rounded sum of non-overlapping partials in increasing magnitude
/// (the final step of Python's `math.fsum`).
fn round_partials(p: &[f64]) -> f64 {
    let mut n = p.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = p[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = p[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    // Half-way cases: round towards the side the remaining partials lie on.
    if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sum_of(xs: &[f64]) -> ExactSum {
        let mut s = ExactSum::default();
        for &x in xs {
            s.add(x);
        }
        s
    }

    #[test]
    fn cancels_exactly() {
        assert_eq!(sum_of(&[1e100, 1.0, -1e100]).value(), 1.0);
        // The four doubles sum to exactly 2^-55; naive addition gives 2^-53.
        assert_eq!(sum_of(&[0.1, 0.2, 0.3, -0.6]).value(), 2f64.powi(-55));
        assert_eq!(sum_of(&[]).value(), 0.0);
        assert_eq!(sum_of(&[-0.0, 0.0]).value().to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn non_finite_values() {
        assert_eq!(sum_of(&[1.0, f64::INFINITY]).value(), f64::INFINITY);
        assert!(sum_of(&[f64::INFINITY, f64::NEG_INFINITY]).value().is_nan());
        assert!(sum_of(&[f64::NAN, 2.0]).value().is_nan());
        assert_eq!(sum_of(&[f64::MAX, f64::MAX]).value(), f64::INFINITY);
    }

    /// Dyadic values sum exactly in i128, an independent oracle.
    fn dyadic() -> impl Strategy<Value = i64> {
        -(1i64 << 40)..(1i64 << 40)
    }

    proptest! {
        #[test]
        fn equals_integer_oracle(xs in proptest::collection::vec(dyadic(), 0..200), shift in 0u32..60) {
            let scale = (2.0f64).powi(-(shift as i32));
            let s = sum_of(&xs.iter().map(|&x| x as f64 * scale).collect::<Vec<_>>());
            let exact: i128 = xs.iter().map(|&x| x as i128).sum();
            prop_assert_eq!(s.value(), exact as f64 * scale);
        }

        #[test]
        fn order_and_grouping_do_not_matter(
            xs in proptest::collection::vec(-1e12f64..1e12, 0..100),
            cut in 0usize..100,
        ) {
            let direct = sum_of(&xs);
            let mut rev = xs.clone();
            rev.reverse();
            let cut = cut.min(xs.len());
            let mut merged = sum_of(&rev[..cut]);
            merged.merge(&sum_of(&rev[cut..]));
            prop_assert_eq!(direct.value().to_bits(), merged.value().to_bits());
            prop_assert_eq!(direct.canonical(), merged.canonical());
        }

        #[test]
        fn parts_round_trip(xs in proptest::collection::vec(-1e300f64..1e300, 0..50)) {
            let s = sum_of(&xs);
            let (special, partials) = s.parts();
            let back = ExactSum::from_parts(special, partials);
            prop_assert_eq!(back.value().to_bits(), s.value().to_bits());
            prop_assert_eq!(back.canonical(), s.canonical());
        }
    }
}
