//! Convolutions as matrix products: the geometry of one conv layer, `im2col` (the windows of
//! the input laid out as rows, so the forward pass and the weight update are one GEMM each over
//! the whole batch) and its adjoint `col2im` (the transposed convolution's scatter-add).
//!
//! Layout: activations are NHWC, i.e. one sample is `H × W × C` with the channel fastest.
//! A conv layer's output, viewed as a `(B·H_out·W_out) × C_out` matrix, is exactly what
//! `im2col(x) · Wᵀ` produces, and the bias is then one value per column (per channel), so the
//! forward pass needs no transposition and reuses the dense bias + sigmoid kernel. Kernels are
//! `C_out × (k · k · C_in)` with the input channel fastest, matching the window rows: for each
//! window row `i`, the `k·C_in` values it reads are contiguous in the input, so `im2col` is a
//! sequence of `memcpy`s. NCHW would need per-sample products with only 9–25 columns for the
//! deeper CIFAR layers and element-by-element gathers. (`burstccn bench --model paper-cifar`
//! reports both layouts' forward-pass speed.)
//!
//! Cross-correlation, stride `s`, no padding: `out[n, y, x, co] = Σ_{i,j,ci} in[n, s·y+i, s·x+j, ci]
//! · W[co, i, j, ci]`, with `H_out = ⌊(H − k)/s⌋ + 1`. Input positions no window reads (the
//! last rows/columns when `(H − k)` is not a multiple of `s`) get exactly 0 from `col2im`.

use alloc::vec;
use alloc::vec::Vec;

/// The shape of one convolution: input `h × w × c_in` → output `h_out × w_out × c_out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    /// Input channels.
    pub c_in: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels (kernels).
    pub c_out: usize,
    /// Kernel size k (k × k windows).
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Output height, ⌊(h − k)/stride⌋ + 1.
    pub h_out: usize,
    /// Output width.
    pub w_out: usize,
}

impl ConvGeom {
    /// The geometry, or `None` if the kernel does not fit the input or a size is zero.
    pub fn new(c_in: usize, h: usize, w: usize, c_out: usize, k: usize, stride: usize) -> Option<Self> {
        if c_in == 0 || c_out == 0 || k == 0 || stride == 0 || k > h || k > w {
            return None;
        }
        Some(ConvGeom { c_in, h, w, c_out, k, stride, h_out: (h - k) / stride + 1, w_out: (w - k) / stride + 1 })
    }

    /// Output positions per sample, `h_out · w_out`.
    pub fn positions(&self) -> usize {
        self.h_out * self.w_out
    }

    /// Length of one window (one row of `im2col`, one kernel): `k · k · c_in`.
    pub fn window(&self) -> usize {
        self.k * self.k * self.c_in
    }

    /// Values of one input sample, `h · w · c_in`.
    pub fn input_len(&self) -> usize {
        self.h * self.w * self.c_in
    }

    /// Values of one output sample, `h_out · w_out · c_out`.
    pub fn output_len(&self) -> usize {
        self.positions() * self.c_out
    }

    /// Weights of the layer, `c_out · k · k · c_in`.
    pub fn weight_len(&self) -> usize {
        self.c_out * self.window()
    }
}

/// `cols[(n·h_out + y)·w_out + x, (i·k + j)·c_in + ci] = input[n, s·y + i, s·x + j, ci]` for
/// `rows` samples: `cols` is `(rows · positions) × window`, every element overwritten.
pub fn im2col(g: &ConvGeom, rows: usize, input: &[f32], cols: &mut [f32]) {
    let (run, win) = (g.k * g.c_in, g.window());
    assert!(input.len() >= rows * g.input_len() && cols.len() >= rows * g.positions() * win, "im2col buffers too small");
    let mut m = 0;
    for n in 0..rows {
        let sample = &input[n * g.input_len()..(n + 1) * g.input_len()];
        for y in 0..g.h_out {
            for x in 0..g.w_out {
                let row = &mut cols[m * win..(m + 1) * win];
                for i in 0..g.k {
                    let src = ((g.stride * y + i) * g.w + g.stride * x) * g.c_in;
                    row[i * run..(i + 1) * run].copy_from_slice(&sample[src..src + run]);
                }
                m += 1;
            }
        }
    }
}

/// The adjoint of [`im2col`]: `out ← β·out + col2im(cols)`, where every window value is added
/// back to the input position it was read from (β = 0 overwrites, so positions no window reads
/// come out exactly 0). This is the transposed convolution once `cols = δ · W`.
pub fn col2im(g: &ConvGeom, rows: usize, cols: &[f32], beta: f32, out: &mut [f32]) {
    let (run, win) = (g.k * g.c_in, g.window());
    assert!(out.len() >= rows * g.input_len() && cols.len() >= rows * g.positions() * win, "col2im buffers too small");
    let out = &mut out[..rows * g.input_len()];
    if beta == 0.0 {
        out.fill(0.0);
    } else if beta != 1.0 {
        out.iter_mut().for_each(|v| *v *= beta);
    }
    let mut m = 0;
    for n in 0..rows {
        let sample = &mut out[n * g.input_len()..(n + 1) * g.input_len()];
        for y in 0..g.h_out {
            for x in 0..g.w_out {
                let row = &cols[m * win..(m + 1) * win];
                for i in 0..g.k {
                    let dst = ((g.stride * y + i) * g.w + g.stride * x) * g.c_in;
                    for (o, &v) in sample[dst..dst + run].iter_mut().zip(&row[i * run..(i + 1) * run]) {
                        *o += v;
                    }
                }
                m += 1;
            }
        }
    }
}

// ---------------------------------------------------------------- direct references

/// The convolution by its definition, seven plain loops in f64: `out[n, y, x, co] = Σ in · W`
/// (no bias). The reference the im2col + GEMM path is tested against.
pub fn conv_reference(g: &ConvGeom, rows: usize, input: &[f32], weight: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * g.output_len()];
    for n in 0..rows {
        for y in 0..g.h_out {
            for x in 0..g.w_out {
                for co in 0..g.c_out {
                    let mut acc = 0.0f64;
                    for i in 0..g.k {
                        for j in 0..g.k {
                            for ci in 0..g.c_in {
                                let xin = input[n * g.input_len() + ((g.stride * y + i) * g.w + g.stride * x + j) * g.c_in + ci];
                                let wv = weight[co * g.window() + (i * g.k + j) * g.c_in + ci];
                                acc += f64::from(xin) * f64::from(wv);
                            }
                        }
                    }
                    out[n * g.output_len() + (y * g.w_out + x) * g.c_out + co] = acc as f32;
                }
            }
        }
    }
    out
}

/// The transposed convolution by its definition: `out[n, y', x', ci] = Σ_{y,x,i,j,co : s·y+i=y',
/// s·x+j=x'} z[n, y, x, co] · W[co, i, j, ci]`, in f64.
pub fn conv_transpose_reference(g: &ConvGeom, rows: usize, z: &[f32], weight: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f64; rows * g.input_len()];
    for n in 0..rows {
        for y in 0..g.h_out {
            for x in 0..g.w_out {
                for co in 0..g.c_out {
                    let zv = f64::from(z[n * g.output_len() + (y * g.w_out + x) * g.c_out + co]);
                    for i in 0..g.k {
                        for j in 0..g.k {
                            for ci in 0..g.c_in {
                                let wv = f64::from(weight[co * g.window() + (i * g.k + j) * g.c_in + ci]);
                                out[n * g.input_len() + ((g.stride * y + i) * g.w + g.stride * x + j) * g.c_in + ci] += zv * wv;
                            }
                        }
                    }
                }
            }
        }
    }
    out.into_iter().map(|v| v as f32).collect()
}

/// The weight correlation by its definition: `corr(in, δ)[co, i, j, ci] = Σ_{n,y,x} δ[n, y, x, co]
/// · in[n, s·y+i, s·x+j, ci]`, in f64.
pub fn conv_weight_corr_reference(g: &ConvGeom, rows: usize, input: &[f32], delta: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f64; g.weight_len()];
    for n in 0..rows {
        for y in 0..g.h_out {
            for x in 0..g.w_out {
                for co in 0..g.c_out {
                    let d = f64::from(delta[n * g.output_len() + (y * g.w_out + x) * g.c_out + co]);
                    for i in 0..g.k {
                        for j in 0..g.k {
                            for ci in 0..g.c_in {
                                let xin = input[n * g.input_len() + ((g.stride * y + i) * g.w + g.stride * x + j) * g.c_in + ci];
                                out[co * g.window() + (i * g.k + j) * g.c_in + ci] += d * f64::from(xin);
                            }
                        }
                    }
                }
            }
        }
    }
    out.into_iter().map(|v| v as f32).collect()
}
