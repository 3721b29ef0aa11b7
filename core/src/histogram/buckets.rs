//! The bucket schemes of a [`Histogram`](super::Histogram): the default
//! log-linear one, whose bucket is computed, and the bounds of the
//! declaration, as decimal text checked in `const` code.

use super::INF_BOUND;

/// The number of buckets of the default scheme (52 bounded ones and `+Inf`).
pub const DEFAULT_BUCKETS: usize = 53;

/// Bits of the mantissa that select the bucket within a power of two: two
/// buckets per power of two.
const SUB_BITS: u32 = 1;

/// The default bounds as name values (checked against [`log_linear_bound`]
/// at compile time, below).
pub(super) const DEFAULT_LE: [&str; DEFAULT_BUCKETS] = [
    "1", "2", "3", "4", "6", "8", "12", "16", "24", "32", "48", "64", "96", "128", "192", "256",
    "384", "512", "768", "1024", "1536", "2048", "3072", "4096", "6144", "8192", "12288", "16384",
    "24576", "32768", "49152", "65536", "98304", "131072", "196608", "262144", "393216", "524288",
    "786432", "1048576", "1572864", "2097152", "3145728", "4194304", "6291456", "8388608",
    "12582912", "16777216", "25165824", "33554432", "50331648", "67108864", INF_BOUND,
];

const _: () = {
    let mut i = 0;
    while i + 1 < DEFAULT_BUCKETS {
        assert!(parse_bound(DEFAULT_LE[i]) == log_linear_bound(i));
        assert!(log_linear_index(log_linear_bound(i)) == i);
        assert!(log_linear_index(log_linear_bound(i) + 1) == i + 1);
        i += 1;
    }
};

/// The bucket of `value` in the default scheme.
///
/// Buckets hold `(b(i-1), bi]`; on `x = value - 1` (0 for 0) they are the
/// half-open ranges of an HDR-style log-linear scheme: `x`'s exponent `e`
/// (at least `SUB_BITS`) and its `SUB_BITS` bits below the leading one.
#[inline(always)]
pub(super) const fn log_linear_index(value: u64) -> usize {
    let x = value.saturating_sub(1);
    let log = 63 - (x | 1).leading_zeros();
    let exponent = if log > SUB_BITS { log } else { SUB_BITS };
    let shift = exponent - SUB_BITS;
    let index = ((shift as usize) << SUB_BITS) + (x >> shift) as usize;
    if index < DEFAULT_BUCKETS - 1 {
        index
    } else {
        DEFAULT_BUCKETS - 1
    }
}

/// The upper bound of bucket `i` of the default scheme (`u64::MAX` for the
/// last): the smallest `x` of bucket `i + 1`.
const fn log_linear_bound(i: usize) -> u64 {
    if i + 1 >= DEFAULT_BUCKETS {
        return u64::MAX;
    }
    let next = (i + 1) as u64;
    let (q, r) = (next >> SUB_BITS, next & ((1 << SUB_BITS) - 1));
    if q == 0 {
        next
    } else {
        ((1 << SUB_BITS) + r) << (q - 1)
    }
}

/// The value of a bound's text: a decimal `u64` without sign or leading
/// zero.
///
/// # Panics
///
/// When `text` is not one (a compile-time error in a `static`).
pub(super) const fn parse_bound(text: &str) -> u64 {
    let bytes = text.as_bytes();
    if bytes.is_empty() || (bytes[0] == b'0' && bytes.len() > 1) {
        panic!("a histogram bound is a decimal integer without leading zeros");
    }
    let mut value: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i];
        if !digit.is_ascii_digit() {
            panic!("a histogram bound is a decimal integer without leading zeros");
        }
        value = match value.checked_mul(10) {
            Some(v) => match v.checked_add((digit - b'0') as u64) {
                Some(v) => v,
                None => panic!("a histogram bound is at most u64::MAX"),
            },
            None => panic!("a histogram bound is at most u64::MAX"),
        };
        i += 1;
    }
    value
}

/// Checks given bounds: decimal integers without leading zeros, strictly
/// increasing.
///
/// # Panics
///
/// When they are not (a compile-time error in a `static`).
pub(super) const fn check_bounds(bounds: &[&str]) {
    let mut previous: Option<u64> = None;
    let mut i = 0;
    while i < bounds.len() {
        let bound = parse_bound(bounds[i]);
        if let Some(p) = previous
            && bound <= p
        {
            panic!("histogram bounds must increase strictly");
        }
        previous = Some(bound);
        i += 1;
    }
}
