//! Seeded random streams. Every random step derives its own stream from the master seed and a
//! label, so adding a new random step never shifts the numbers another step draws.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random generator used everywhere in the crate.
pub type Rng = ChaCha8Rng;

/// A generator for the step named `label`, derived from the master `seed`.
///
/// The derivation (FNV-1a over the label, mixed with the seed by SplitMix64) is fixed, so the
/// same seed and label always give the same stream on every platform.
///
/// ```
/// use rand::Rng as _;
/// let a: u64 = customer_intel::rng::stream(42, "cv").r#gen();
/// let b: u64 = customer_intel::rng::stream(42, "cv").r#gen();
/// let c: u64 = customer_intel::rng::stream(42, "bootstrap").r#gen();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
pub fn stream(seed: u64, label: &str) -> Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(splitmix64(seed ^ h))
}

/// A child seed for sub-step `index` of a step (for example one CV repeat).
pub fn child_seed(seed: u64, index: u64) -> u64 {
    splitmix64(seed.wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
