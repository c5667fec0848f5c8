//! Eight bytes per step: tests on a little-endian `u64` word that flag, in
//! each byte's high bit, the bytes of interest. Every flag is exact (no
//! borrow or carry crosses bytes), so a word's flags can be walked from the
//! lowest up. Used where fields and strings are too short for a `memchr`
//! call to pay off.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// The eight bytes of `b` from `at` (the caller checks `at + 8 <= b.len()`).
#[inline(always)]
pub(crate) fn load(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// `c` in every byte.
#[inline(always)]
pub(crate) const fn splat(c: u8) -> u64 {
    ONES * c as u64
}

/// Flags the bytes of `w` equal to the byte `splat` was made of.
#[inline(always)]
pub(crate) fn equal(w: u64, splat: u64) -> u64 {
    let v = w ^ splat;
    !(((v & LOW7) + LOW7) | v | LOW7)
}

/// Flags the bytes of `w` below `n` (`n` ≤ 0x80).
#[inline(always)]
pub(crate) fn below(w: u64, n: u8) -> u64 {
    !(((w & LOW7) + splat(0x80 - n)) | w) & HIGH
}

/// Index in the word of the byte of the lowest flag.
#[inline(always)]
pub(crate) fn first(flags: u64) -> usize {
    (flags.trailing_zeros() / 8) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_exact_for_every_byte_pair() {
        // Every value of one byte next to every value of its neighbour
        // (a borrow or carry would show there).
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let w = u64::from_le_bytes([a, b, a, b, b, a, b, a]);
                for (k, &c) in w.to_le_bytes().iter().enumerate() {
                    let bit = 0x80u64 << (8 * k);
                    assert_eq!(equal(w, splat(b'"')) & bit != 0, c == b'"');
                    assert_eq!(below(w, 0x20) & bit != 0, c < 0x20);
                }
            }
        }
    }
}
