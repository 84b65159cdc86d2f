//! The wasm SIMD kernels, generic over how a multiply-add is done ([`Madd`]): plain simd128
//! (`f32x4_add(f32x4_mul(a, b), c)`, see `simd128.rs`) or relaxed-simd (`f32x4_relaxed_madd`,
//! one fused instruction where the CPU has FMA, see `relaxed.rs`).
//!
//! Same structure as the AVX2 kernels with 4 lanes: a dot-product tile for `A·Bᵀ` and a
//! broadcast tile for `A·B` / `Aᵀ·B`. V8 gives wasm 16 vector registers; the tile shapes
//! (chosen per flavour) leave room for the loaded operands and, for plain simd128, the
//! product's temporary. Tails along k (dot) and n (broadcast) are finished in scalar code.

// Index loops over the constant-size tiles are deliberate (they keep accumulators in registers).
#![allow(clippy::needless_range_loop)]

use core::arch::wasm32::*;

use super::{blend, MatMut, MatRef};

/// One fused or unfused multiply-add on 4 lanes: `a·b + c`.
pub(crate) trait Madd {
    fn madd(a: v128, b: v128, c: v128) -> v128;
}

/// Rows of B (k) per panel in the broadcast kernels (256 × 16 × 4 B = 16 KiB).
const KC: usize = 256;

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
fn hsum(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
}

// ---------------------------------------------------------------- A·Bᵀ

#[inline(always)]
unsafe fn dot_tile<M: Madd, const R: usize, const C: usize>(
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
) -> [[f32; C]; R] {
    let mut acc = [[f32x4_splat(0.0); C]; R];
    let k4 = k & !3;
    let mut p = 0;
    while p < k4 {
        let mut bv = [f32x4_splat(0.0); C];
        for j in 0..C {
            bv[j] = load(b.add(j * ldb + p));
        }
        for i in 0..R {
            let av = load(a.add(i * lda + p));
            for j in 0..C {
                acc[i][j] = M::madd(av, bv[j], acc[i][j]);
            }
        }
        p += 4;
    }
    let mut out = [[0.0f32; C]; R];
    for i in 0..R {
        for j in 0..C {
            let mut s = hsum(acc[i][j]);
            for q in k4..k {
                s += *a.add(i * lda + q) * *b.add(j * ldb + q);
            }
            out[i][j] = s;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn nt_block<M: Madd, const R: usize, const C: usize>(alpha: f32, a: &MatRef, b: &MatRef, beta: f32, c: &mut MatMut, i: usize, j: usize) {
    let sums = dot_tile::<M, R, C>(a.cols, a.ptr().add(i * a.stride), a.stride, b.ptr().add(j * b.stride), b.stride);
    let cp = c.ptr();
    for (r, row) in sums.iter().enumerate() {
        for (q, &s) in row.iter().enumerate() {
            let dst = cp.add((i + r) * c.stride + j + q);
            *dst = blend(*dst, beta, alpha, s);
        }
    }
}

/// `C ← β·C + α·A·Bᵀ` with tiles of up to `R` rows of A × `C` rows of B.
pub(crate) fn gemm_nt<M: Madd, const R: usize, const C: usize>(alpha: f32, a: &MatRef, b: &MatRef, beta: f32, c: &mut MatMut) {
    let (m, n) = (a.rows, b.rows);
    let mut j = 0;
    while j < n {
        let nr = C.min(n - j);
        let mut i = 0;
        while i < m {
            let mr = R.min(m - i);
            // SAFETY: shapes were checked by the caller; tiles stay inside [i, i+mr) × [j, j+nr).
            unsafe {
                if mr == R && nr == C {
                    nt_block::<M, R, C>(alpha, a, b, beta, c, i, j);
                } else {
                    // Edge tiles: one row and one column at a time.
                    for ii in i..i + mr {
                        for jj in j..j + nr {
                            nt_block::<M, 1, 1>(alpha, a, b, beta, c, ii, jj);
                        }
                    }
                }
            }
            i += mr;
        }
        j += nr;
    }
}

// ---------------------------------------------------------------- A·B and Aᵀ·B

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn axpy_block<M: Madd, const R: usize, const V: usize>(
    alpha: f32,
    beta: f32,
    kc: usize,
    a: *const f32,
    a_rs: usize,
    a_ks: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
) {
    let mut acc = [[f32x4_splat(0.0); V]; R];
    for p in 0..kc {
        let brow = b.add(p * ldb);
        let mut bv = [f32x4_splat(0.0); V];
        for v in 0..V {
            bv[v] = load(brow.add(4 * v));
        }
        let ap = a.add(p * a_ks);
        for r in 0..R {
            let av = f32x4_splat(*ap.add(r * a_rs));
            for v in 0..V {
                acc[r][v] = M::madd(av, bv[v], acc[r][v]);
            }
        }
    }
    let va = f32x4_splat(alpha);
    let vb = f32x4_splat(beta);
    for r in 0..R {
        for v in 0..V {
            let dst = c.add(r * ldc + 4 * v) as *mut v128;
            let out = if beta == 0.0 {
                f32x4_mul(va, acc[r][v])
            } else {
                f32x4_add(f32x4_mul(vb, v128_load(dst)), f32x4_mul(va, acc[r][v]))
            };
            v128_store(dst, out);
        }
    }
}

/// `C ← β·C + α·op(A)·B`, op(A)(i, p) at `a + i·a_rs + p·a_ks`, with tiles of `R` rows × `V`
/// vectors; columns beyond the last whole vector are done in scalar code.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_axpy<M: Madd, const R: usize, const V: usize>(
    alpha: f32,
    a: *const f32,
    a_rs: usize,
    a_ks: usize,
    k: usize,
    b: &MatRef,
    beta: f32,
    c: &mut MatMut,
) {
    let (m, n) = (c.rows, c.cols);
    if m == 0 || n == 0 {
        return;
    }
    let (bp, ldb, ldc, cp) = (b.ptr(), b.stride, c.stride, c.ptr());
    let n_vec = n & !3;
    // SAFETY: shapes checked by the caller; every access is inside the views.
    unsafe {
        let mut k0 = 0;
        while k0 < k {
            let kc = KC.min(k - k0);
            let beta_k = if k0 == 0 { beta } else { 1.0 };
            let (a_k, b_k) = (a.add(k0 * a_ks), bp.add(k0 * ldb));
            let mut j = 0;
            while j < n_vec {
                let vecs = V.min((n_vec - j) / 4);
                let mut i = 0;
                while i < m {
                    let mr = R.min(m - i);
                    let (a_t, b_t, c_t) = (a_k.add(i * a_rs), b_k.add(j), cp.add(i * ldc + j));
                    if mr == R && vecs == V {
                        axpy_block::<M, R, V>(alpha, beta_k, kc, a_t, a_rs, a_ks, b_t, ldb, c_t, ldc);
                    } else {
                        for r in 0..mr {
                            for v in 0..vecs {
                                axpy_block::<M, 1, 1>(alpha, beta_k, kc, a_t.add(r * a_rs), a_rs, a_ks, b_t.add(4 * v), ldb, c_t.add(r * ldc + 4 * v), ldc);
                            }
                        }
                    }
                    i += mr;
                }
                j += 4 * vecs;
            }
            k0 += kc;
        }
        // The last n % 4 columns.
        for i in 0..m {
            for j in n_vec..n {
                let mut s = 0.0f32;
                for p in 0..k {
                    s += *a.add(i * a_rs + p * a_ks) * *bp.add(p * ldb + j);
                }
                let dst = cp.add(i * ldc + j);
                *dst = blend(*dst, beta, alpha, s);
            }
        }
    }
    if k == 0 {
        for i in 0..m {
            for x in c.row_mut(i) {
                *x = if beta == 0.0 { 0.0 } else { beta * *x };
            }
        }
    }
}
