//! x86-64 AVX-512F kernels (16 lanes of f32, 32 vector registers), chosen at run time where
//! the CPU has them; the edges of each product (rows and columns that do not fill a whole tile)
//! are handed to the AVX2 kernels, which every AVX-512 CPU also has.
//!
//! Same two micro-kernels as `avx2.rs`, with tiles sized for 32 registers:
//! - `dot_tile` (`A·Bᵀ`): 4 rows of A × 4 rows of B, 16 accumulators, masked loads for the
//!   k tail;
//! - `axpy_tile` (`A·B`, `Aᵀ·B`): 8 rows × 2 vectors (32 columns), 16 accumulators, with k cut
//!   into L1-sized panels of [`KC`] rows.

use core::arch::x86_64::*;

use super::{avx2, check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// Rows of B (k) per panel in the broadcast kernel: 256 × 32 × 4 B = 32 KiB.
const KC: usize = 256;
/// Tile of the dot kernel: rows of A × rows of B.
const DOT_R: usize = 4;
const DOT_C: usize = 4;
/// Tile of the broadcast kernel: rows × 16-lane vectors.
const AXPY_R: usize = 8;
const AXPY_V: usize = 2;

/// AVX-512F kernels. Construct through [`Avx512::detect`].
#[derive(Debug)]
pub struct Avx512 {
    _private: (),
}

static INSTANCE: Avx512 = Avx512 { _private: () };

impl Avx512 {
    /// The kernels, if this CPU has AVX-512F (and the AVX2 + FMA used for the edges).
    pub fn detect() -> Option<&'static dyn Kernels> {
        #[cfg(feature = "std")]
        let ok = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma");
        #[cfg(not(feature = "std"))]
        let ok = cfg!(all(target_feature = "avx512f", target_feature = "avx2", target_feature = "fma"));
        if ok { Some(&INSTANCE) } else { None }
    }
}

impl Kernels for Avx512 {
    fn name(&self) -> &'static str {
        "avx512"
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nt(&a, &b, &c);
        // SAFETY: shapes checked; the CPU has AVX-512F, AVX2 and FMA (only `detect` constructs Self).
        unsafe { gemm_nt(alpha, &a, &b, beta, &mut c) }
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        unsafe { gemm_axpy(alpha, a.ptr(), a.stride, 1, a.cols, &b, beta, &mut c) }
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        unsafe { gemm_axpy(alpha, a.ptr(), 1, a.stride, a.rows, &b, beta, &mut c) }
    }

    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        unsafe { bias_sigmoid(bias, x) }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn bias_sigmoid(bias: &[f32], x: &mut [f32]) {
    super::sigmoid::bias_sigmoid_portable(bias, x)
}

// ---------------------------------------------------------------- A·Bᵀ

// Index loops over the constant-size tile keep the accumulators in registers.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn dot_tile(k: usize, a: *const f32, lda: usize, b: *const f32, ldb: usize) -> [[f32; DOT_C]; DOT_R] {
    let mut acc = [[_mm512_setzero_ps(); DOT_C]; DOT_R];
    let mut p = 0;
    while p < k {
        let rem = k - p;
        let m: __mmask16 = if rem >= 16 { 0xffff } else { (1u16 << rem) - 1 };
        let mut bv = [_mm512_setzero_ps(); DOT_C];
        for j in 0..DOT_C {
            bv[j] = _mm512_maskz_loadu_ps(m, b.add(j * ldb + p));
        }
        for i in 0..DOT_R {
            let av = _mm512_maskz_loadu_ps(m, a.add(i * lda + p));
            for j in 0..DOT_C {
                acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
            }
        }
        p += 16;
    }
    let mut out = [[0.0f32; DOT_C]; DOT_R];
    for i in 0..DOT_R {
        for j in 0..DOT_C {
            out[i][j] = _mm512_reduce_add_ps(acc[i][j]);
        }
    }
    out
}

#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemm_nt(alpha: f32, a: &MatRef, b: &MatRef, beta: f32, c: &mut MatMut) {
    let (m, n) = (a.rows, b.rows);
    let (m_full, n_full) = (m / DOT_R * DOT_R, n / DOT_C * DOT_C);
    let cp = c.ptr();
    for j in (0..n_full).step_by(DOT_C) {
        for i in (0..m_full).step_by(DOT_R) {
            let sums = dot_tile(a.cols, a.ptr().add(i * a.stride), a.stride, b.ptr().add(j * b.stride), b.stride);
            for (r, row) in sums.iter().enumerate() {
                for (q, &s) in row.iter().enumerate() {
                    let dst = cp.add((i + r) * c.stride + j + q);
                    *dst = super::blend(*dst, beta, alpha, s);
                }
            }
        }
    }
    // The edges: the last rows of A (all of B), then the last rows of B (the other rows of A).
    if m_full < m {
        avx2::gemm_nt(alpha, &a.rows_range(m_full, m - m_full), b, beta, &mut c.sub(m_full, m - m_full, 0, n));
    }
    if n_full < n && m_full > 0 {
        avx2::gemm_nt(alpha, &a.rows_range(0, m_full), &b.rows_range(n_full, n - n_full), beta, &mut c.sub(0, m_full, n_full, n - n_full));
    }
}

// ---------------------------------------------------------------- A·B and Aᵀ·B

#[allow(clippy::needless_range_loop, clippy::too_many_arguments)]
#[inline(always)]
unsafe fn axpy_block(
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
    let mut acc = [[_mm512_setzero_ps(); AXPY_V]; AXPY_R];
    for p in 0..kc {
        let brow = b.add(p * ldb);
        let mut bv = [_mm512_setzero_ps(); AXPY_V];
        for v in 0..AXPY_V {
            bv[v] = _mm512_loadu_ps(brow.add(16 * v));
        }
        let ap = a.add(p * a_ks);
        for r in 0..AXPY_R {
            let av = _mm512_set1_ps(*ap.add(r * a_rs));
            for v in 0..AXPY_V {
                acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
    let va = _mm512_set1_ps(alpha);
    let vb = _mm512_set1_ps(beta);
    for r in 0..AXPY_R {
        for v in 0..AXPY_V {
            let dst = c.add(r * ldc + 16 * v);
            let out = if beta == 0.0 {
                _mm512_mul_ps(va, acc[r][v])
            } else {
                _mm512_fmadd_ps(va, acc[r][v], _mm512_mul_ps(vb, _mm512_loadu_ps(dst)))
            };
            _mm512_storeu_ps(dst, out);
        }
    }
}

/// `C ← β·C + α·op(A)·B`, op(A)(i, p) at `a + i·a_rs + p·a_ks`: whole 8 × 32 tiles here, the
/// rest by the AVX2 kernel.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemm_axpy(alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, k: usize, b: &MatRef, beta: f32, c: &mut MatMut) {
    let (m, n) = (c.rows, c.cols);
    const COLS: usize = 16 * AXPY_V;
    let (m_full, n_full) = (m / AXPY_R * AXPY_R, n / COLS * COLS);
    if m_full > 0 && n_full > 0 && k > 0 {
        let (bp, ldb, ldc, cp) = (b.ptr(), b.stride, c.stride, c.ptr());
        let mut k0 = 0;
        while k0 < k {
            let kc = KC.min(k - k0);
            let beta_k = if k0 == 0 { beta } else { 1.0 };
            let (a_k, b_k) = (a.add(k0 * a_ks), bp.add(k0 * ldb));
            for j in (0..n_full).step_by(COLS) {
                for i in (0..m_full).step_by(AXPY_R) {
                    axpy_block(alpha, beta_k, kc, a_k.add(i * a_rs), a_rs, a_ks, b_k.add(j), ldb, cp.add(i * ldc + j), ldc);
                }
            }
            k0 += kc;
        }
    } else {
        // Nothing for the whole tiles: all of C goes to the AVX2 kernel below.
        return avx2::gemm_axpy(alpha, a, a_rs, a_ks, k, b, beta, c);
    }
    if m_full < m {
        avx2::gemm_axpy(alpha, a.add(m_full * a_rs), a_rs, a_ks, k, b, beta, &mut c.sub(m_full, m - m_full, 0, n));
    }
    if n_full < n {
        avx2::gemm_axpy(alpha, a, a_rs, a_ks, k, &b.cols_range(n_full, n - n_full), beta, &mut c.sub(0, m_full, n_full, n - n_full));
    }
}
