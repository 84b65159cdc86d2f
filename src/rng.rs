//! Seeded, portable randomness: the same seed gives bit-identical weights and batch orders
//! natively and in wasm (32-bit `usize`), so a shared link reproduces a run.
//!
//! The generator is PCG-64 (`rand_pcg::Pcg64Mcg`, a documented, stable algorithm). Uniform and
//! normal draws are done here from raw `u32`/`u64` words with `libm`, rather than through
//! distribution code whose output may depend on the platform or the crate version.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The crate's random source.
#[derive(Clone, Debug)]
pub struct Random(Pcg64Mcg);

impl Random {
    /// A generator for `seed`; `stream` separates independent uses of one seed
    /// (weights, feedback, batch order) so that changing one does not shift the others.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mixed = splitmix64(seed ^ splitmix64(stream.wrapping_add(0x9E37_79B9_7F4A_7C15)));
        Random(Pcg64Mcg::seed_from_u64(mixed))
    }

    /// Uniform in [0, 1) with 24 random bits.
    pub fn uniform(&mut self) -> f32 {
        (self.0.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in [lo, hi).
    pub fn uniform_in(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal by Box–Muller (one draw per call; simple and portable).
    pub fn normal(&mut self) -> f32 {
        // 53-bit uniforms in (0, 1] and [0, 1).
        let u1 = ((self.0.next_u64() >> 11) as f64 + 1.0) * (1.0 / 9_007_199_254_740_992.0);
        let u2 = (self.0.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
        (libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)) as f32
    }

    /// Uniform integer in [0, n) for n ≥ 1 (Lemire's method on 32-bit words: portable).
    pub fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        let mut m = u64::from(self.0.next_u32()) * u64::from(n);
        if (m as u32) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u32) < threshold {
                m = u64::from(self.0.next_u32()) * u64::from(n);
            }
        }
        (m >> 32) as u32
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u32 + 1) as usize;
            items.swap(i, j);
        }
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_has_unit_moments() {
        let mut r = Random::new(7, 0);
        let n = 200_000;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let x = r.normal() as f64;
            s += x;
            s2 += x * x;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut r = Random::new(1, 2);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[r.below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
    }

    #[test]
    fn streams_differ_and_seeds_repeat() {
        let a: [f32; 4] = core::array::from_fn({
            let mut r = Random::new(5, 0);
            move |_| r.uniform()
        });
        let b: [f32; 4] = core::array::from_fn({
            let mut r = Random::new(5, 0);
            move |_| r.uniform()
        });
        let c: [f32; 4] = core::array::from_fn({
            let mut r = Random::new(5, 1);
            move |_| r.uniform()
        });
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
