//! The dense (fully connected) layers' products (SPEC.md, "Discrete-time model"):
//! - forward: `e_l = σ(e_{l−1} W_lᵀ + b_l)`;
//! - burst pass onto the layer below: `u_{l−1} = b_l Y_{l−1} − e_l Q_{l−1}`, and backprop's and
//!   feedback alignment's deltas through W_l or Y_{l−1} the same way;
//! - plasticity: `W_l += η·δ_lᵀ e_{l−1}/B`, `b_l += η·mean_rows(δ_l)`.
//!
//! Conv layers have the same three operations in conv.rs; network.rs picks by layer kind.

// BLAS-style signatures: shapes, scalars and buffers, named as in the equations.
#![allow(clippy::too_many_arguments)]

use crate::kernels::{Kernels, MatMut, MatRef};

/// `e ← σ(x·Wᵀ + b)` for `rows` samples of `n_in` values into `n_out` units.
pub(super) fn forward(kern: &dyn Kernels, rows: usize, n_in: usize, n_out: usize, x: &[f32], weight: &[f32], bias: &[f32], e: &mut [f32]) {
    let e = &mut e[..rows * n_out];
    kern.gemm_nt(1.0, MatRef::new(&x[..rows * n_in], rows, n_in), MatRef::new(weight, n_out, n_in), 0.0, MatMut::new(e, rows, n_out));
    kern.bias_sigmoid(bias, e);
}

/// `out ← Σ_t α_t·z_t·M_t`, overwriting `out` (`rows × n_in`), for each (α, z, M) with z shaped
/// like this layer's units (`rows × n_out`) and M like its weights (`n_out × n_in`).
pub(super) fn transpose(kern: &dyn Kernels, rows: usize, n_in: usize, n_out: usize, terms: &[(f32, &[f32], &[f32])], out: &mut [f32]) {
    for (t, &(alpha, z, matrix)) in terms.iter().enumerate() {
        let beta = if t == 0 { 0.0 } else { 1.0 };
        kern.gemm_nn(
            alpha,
            MatRef::new(&z[..rows * n_out], rows, n_out),
            MatRef::new(matrix, n_out, n_in),
            beta,
            MatMut::new(&mut out[..rows * n_in], rows, n_in),
        );
    }
}

/// `W ← β·W + α·δᵀ·x`.
pub(super) fn correlate_into(kern: &dyn Kernels, rows: usize, n_in: usize, n_out: usize, alpha: f32, delta: &[f32], x: &[f32], beta: f32, w: &mut [f32]) {
    kern.gemm_tn(
        alpha,
        MatRef::new(&delta[..rows * n_out], rows, n_out),
        MatRef::new(&x[..rows * n_in], rows, n_in),
        beta,
        MatMut::new(w, n_out, n_in),
    );
}

/// `out[j] = scale · Σ_r m[r, j]` over the rows of a matrix with `cols` columns.
pub(super) fn column_sums(m: &[f32], cols: usize, scale: f32, out: &mut [f32]) {
    out.fill(0.0);
    for row in m.chunks_exact(cols) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
    for o in out.iter_mut() {
        *o *= scale;
    }
}
