//! ConvBurstCCN's convolutional layers (REFERENCE.md §4): the three places where a conv layer
//! differs from a dense one. Everything else — the burst probability `p = σ(4·u·(1 − e))`,
//! the burst rate `b = p·e`, the plasticity signal `δ = (p − p_b)·e` — is elementwise and
//! shared with the dense layers (network.rs), because a conv layer's units are simply all its
//! positions × feature maps.
//!
//! With `conv_s(x, W)` the stride-s cross-correlation and `convT_s` its adjoint (the transposed
//! convolution):
//! - forward: `e_l = σ(conv_s(e_{l−1}, W_l) + c_l)`, one bias per feature map;
//! - burst pass onto the layer below a conv layer: `u_{l−1} = convT_s(b_l, Y_{l−1}) −
//!   convT_s(e_l, Q_{l−1})`, where Y and Q have W_l's kernel shape; backprop's and feedback
//!   alignment's deltas go down the same way with W_l or Y_{l−1};
//! - plasticity: `W_l += η·corr(e_{l−1}, δ_l)/B` and `c_l += η·Σ_{n,y,x} δ_l/B` (positions
//!   summed, divided by the batch only).
//!
//! All three are products over the whole batch through `im2col` (kernels/conv.rs): the
//! windows of the input become rows, so `conv = im2col(x)·Wᵀ`, `corr = δᵀ·im2col(x)` and
//! `convT = col2im(z·W)`. `im2col` and `col2im` work sample by sample, so with a team of
//! threads each takes a block of the batch's samples.

// BLAS-style signatures: shapes, scalars and buffers, named as in the equations.
#![allow(clippy::too_many_arguments)]

use crate::kernels::conv::{col2im, im2col, ConvGeom};
use crate::kernels::{for_item_blocks, Kernels, MatMut, MatRef};

/// `e ← σ(conv(x, W) + c)` for `rows` samples; fills `cols` with the windows of `x` (kept for
/// the weight update). `weight_t` receives Wᵀ (`window × c_out`): the product is taken as
/// `cols · Wᵀ` in the broadcast form `A·B`, which runs 2–3× faster than the dot-product form
/// `A·Bᵀ` on windows of 25–1,600 values (`burstccn bench --model paper-cifar`); transposing
/// the small kernel matrix costs one pass over it.
pub(super) fn forward(kern: &dyn Kernels, g: &ConvGeom, rows: usize, x: &[f32], weight: &[f32], bias: &[f32], cols: &mut [f32], weight_t: &mut [f32], e: &mut [f32]) {
    let (m, win) = (rows * g.positions(), g.window());
    let cols = &mut cols[..m * win];
    let (per_sample, in_len) = (g.positions() * win, g.input_len());
    for_item_blocks(kern, rows, per_sample, [(cols, per_sample)], &|first, n, [cols]| {
        im2col(g, n, &x[first * in_len..(first + n) * in_len], cols)
    });
    let weight_t = &mut weight_t[..win * g.c_out];
    let weight = &weight[..g.c_out * win];
    for_item_blocks(kern, win, g.c_out, [(weight_t, g.c_out)], &|first, n, [rows_t]| transpose_rows(weight, g.c_out, win, first, n, rows_t));
    let e = &mut e[..m * g.c_out];
    kern.gemm_nn(1.0, MatRef::new(cols, m, win), MatRef::new(weight_t, win, g.c_out), 0.0, MatMut::new(e, m, g.c_out));
    // The output viewed as (positions × feature maps): one bias per column.
    kern.bias_sigmoid(bias, e);
}

/// `out ← Σ_t α_t·convT(z_t, M_t)`, overwriting `out` (`rows × h·w·c_in`): the transposed
/// convolution of this layer's geometry, for each (α, z, M) with z shaped like this layer's
/// units and M like its kernels. `scratch` holds `rows·positions × window` values.
pub(super) fn transpose(kern: &dyn Kernels, g: &ConvGeom, rows: usize, terms: &[(f32, &[f32], &[f32])], scratch: &mut [f32], out: &mut [f32]) {
    let m = rows * g.positions();
    let cols = &mut scratch[..m * g.window()];
    for (t, &(alpha, z, matrix)) in terms.iter().enumerate() {
        let beta = if t == 0 { 0.0 } else { 1.0 };
        kern.gemm_nn(
            alpha,
            MatRef::new(&z[..m * g.c_out], m, g.c_out),
            MatRef::new(matrix, g.c_out, g.window()),
            beta,
            MatMut::new(cols, m, g.window()),
        );
    }
    let (per_sample, in_len) = (g.positions() * g.window(), g.input_len());
    let cols = &*cols;
    for_item_blocks(kern, rows, per_sample, [(out, in_len)], &|first, n, [out]| {
        col2im(g, n, &cols[first * per_sample..(first + n) * per_sample], 0.0, out)
    });
}

/// `W ← β·W + α·corr(x, δ)` from the windows `cols` of the input: `δᵀ·cols`.
pub(super) fn correlate_into(kern: &dyn Kernels, g: &ConvGeom, rows: usize, alpha: f32, delta: &[f32], cols: &[f32], beta: f32, w: &mut [f32]) {
    let m = rows * g.positions();
    kern.gemm_tn(
        alpha,
        MatRef::new(&delta[..m * g.c_out], m, g.c_out),
        MatRef::new(&cols[..m * g.window()], m, g.window()),
        beta,
        MatMut::new(w, g.c_out, g.window()),
    );
}

/// `out[c] = factor · Σ_{n,y,x} δ[n, y, x, c] / rows`: the bias step of each feature map.
pub(super) fn bias_sums(g: &ConvGeom, rows: usize, delta: &[f32], factor: f32, out: &mut [f32]) {
    super::dense::column_sums(&delta[..rows * g.output_len()], g.c_out, factor / rows as f32, out);
}

/// Rows `first..first + n` of `srcᵀ` into `dst` (`n × rows`), for a row-major `rows × cols`
/// source, in tiles of 16 × 16: a tile's 16 source rows stay in cache while its 16 output rows
/// are written in runs of 16. (A plain loop over the whole matrix took 5 % of a CIFAR-10
/// training step; one tile column at a time, writing each value to a different output row,
/// still 4 %.)
fn transpose_rows(src: &[f32], rows: usize, cols: usize, first: usize, n: usize, dst: &mut [f32]) {
    const TILE: usize = 16;
    let (src, dst) = (&src[..rows * cols], &mut dst[..n * rows]);
    // Entries a partial tile leaves stale are never read (only rows r0..r1, columns c0..c1).
    let mut tile = [[0.0f32; TILE]; TILE];
    for c0 in (first..first + n).step_by(TILE) {
        let c1 = (c0 + TILE).min(first + n);
        for r0 in (0..rows).step_by(TILE) {
            let r1 = (r0 + TILE).min(rows);
            for (r, line) in (r0..r1).zip(tile.iter_mut()) {
                let from = &src[r * cols + c0..r * cols + c1];
                // A full tile row copies as one fixed-size move (a call to memmove otherwise).
                match <&[f32; TILE]>::try_from(from) {
                    Ok(full) => *line = *full,
                    Err(_) => line[..from.len()].iter_mut().zip(from).for_each(|(t, &v)| *t = v),
                }
            }
            for (c, dst_row) in (c0..c1).zip(dst[(c0 - first) * rows..].chunks_exact_mut(rows)) {
                for (o, line) in dst_row[r0..r1].iter_mut().zip(&tile) {
                    *o = line[c - c0];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::transpose_rows;

    /// Every block of rows of the transpose, on shapes with partial tiles both ways.
    #[test]
    fn transpose_rows_matches_the_definition() {
        for (rows, cols) in [(1usize, 1usize), (3, 75), (37, 53), (64, 16), (17, 33), (128, 40)] {
            let src: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.5 - 7.0).collect();
            for (first, n) in [(0, cols), (0, cols.div_ceil(2)), (cols / 3, cols - cols / 3), (cols - 1, 1)] {
                let mut dst = vec![f32::NAN; n * rows + 5];
                transpose_rows(&src, rows, cols, first, n, &mut dst);
                for c in 0..n {
                    for r in 0..rows {
                        assert_eq!(dst[c * rows + r], src[r * cols + first + c], "{rows}×{cols} block {first}+{n} at ({c}, {r})");
                    }
                }
                assert!(dst[n * rows..].iter().all(|v| v.is_nan()), "wrote past the block");
            }
        }
    }
}
