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

/// e^x for x in any range (clamped to ±87 so it never overflows to inf or flushes oddly).
#[inline(always)]
pub fn exp_approx(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 87.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // e^r on |r| ≤ ln2/2, Taylor to degree 6 (error < 2e-7 relative).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
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
