//! The logistic function σ(x) = 1 / (1 + e^(−x)), used for every unit's event rate and for the
//! hidden burst probability.
//!
//! [`sigmoid`] is branch-free (range reduction e^x = 2^n · e^r with a degree-6 polynomial for
//! e^r, relative error ≈ 2e-7), so the slice loops below vectorise under any SIMD flag and give
//! the same values natively and in wasm. [`sigmoid_reference`] uses libm's `expf`.

/// σ(x), accurate to a few ulp, the same on every target.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp_approx(-x))
}

/// 1.5·2^23: adding it to a float below 2^22 in size rounds that to an integer.
const ROUND: f32 = 12_582_912.0;
/// ROUND's bits: the integer added to it sits in the low mantissa bits of the sum.
const ROUND_BITS: u32 = 0x4b40_0000;

/// e^x for x in any range (clamped to ±87 so it never overflows to inf or flushes oddly).
#[inline(always)]
pub fn exp_approx(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 87.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // e^r on |r| ≤ ln2/2, Taylor to degree 6 (error < 2e-7 relative).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n from t's bits: |n| ≤ 126, so t's mantissa holds ROUND + n exactly and this equals
    // `((n as i32 + 127) as u32) << 23`; unlike the saturating `as i32`, which x86 compilers
    // turn into 16 scalar conversions a vector, it stays in vector registers.
    let scale = f32::from_bits(t.to_bits().wrapping_sub(ROUND_BITS).wrapping_add(127) << 23);
    p * scale
}

/// σ(x) via libm's `expf`: the reference the fast version is checked against.
pub fn sigmoid_reference(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// `x[r, j] ← σ(x[r, j] + bias[j])`, reference version.
pub fn bias_sigmoid_reference(bias: &[f32], x: &mut [f32]) {
    if bias.is_empty() {
        return;
    }
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v = sigmoid_reference(*v + b);
        }
    }
}

/// `x[r, j] ← σ(x[r, j] + bias[j])`, branch-free (vectorised by the compiler).
#[inline(always)]
pub fn bias_sigmoid_portable(bias: &[f32], x: &mut [f32]) {
    if bias.is_empty() {
        return;
    }
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v = sigmoid(*v + b);
        }
    }
}

/// In place σ over a slice, branch-free.
#[inline(always)]
pub fn sigmoid_slice(x: &mut [f32]) {
    for v in x {
        *v = sigmoid(*v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2^n taken from t's bits is the value the integer conversion gives, for every n the
    /// clamp allows, so the faster form changed no result.
    #[test]
    fn scale_from_bits_is_the_conversion() {
        assert_eq!(ROUND.to_bits(), ROUND_BITS);
        for n in -126i32..=126 {
            for frac in [-0.5f32, -0.49, -0.1, 0.0, 0.1, 0.49, 0.5] {
                let t = (n as f32 + frac) + ROUND;
                let m = t - ROUND;
                let converted = f32::from_bits(((m as i32 + 127) as u32) << 23);
                let bits = f32::from_bits(t.to_bits().wrapping_sub(ROUND_BITS).wrapping_add(127) << 23);
                assert_eq!(converted.to_bits(), bits.to_bits(), "n {n} frac {frac}");
            }
        }
        // And end to end: every x from −90 to 90 in steps of 2^-10 gives the bits the
        // conversion form gave.
        let old = |x: f32| {
            let x = x.clamp(-87.0, 87.0);
            let n = (x * core::f32::consts::LOG2_E + ROUND) - ROUND;
            let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
            let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
            p * f32::from_bits(((n as i32 + 127) as u32) << 23)
        };
        for i in -(90 << 10)..=(90 << 10) {
            let x = i as f32 / 1024.0;
            assert_eq!(exp_approx(x).to_bits(), old(x).to_bits(), "x {x}");
        }
        assert!(exp_approx(f32::NAN).is_nan());
    }

    #[test]
    fn matches_libm_everywhere() {
        let mut worst = 0.0f32;
        let mut x = -100.0f32;
        while x < 100.0 {
            let d = (sigmoid(x) - sigmoid_reference(x)).abs();
            worst = worst.max(d);
            x += 0.001_37;
        }
        assert!(worst < 3e-7, "max abs error {worst}");
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(1e30) == 1.0 && sigmoid(-1e30) >= 0.0 && sigmoid(-1e30) < 1e-37);
        assert!(sigmoid(f32::NAN).is_nan(), "NaN must propagate so divergence is detected");
    }
}
