//! x86-64 AVX2 + FMA kernels (8 lanes of f32, 16 vector registers), chosen at run time.
//!
//! Two register-blocked micro-kernels, each keeping a 4 × 3 tile of 8-lane accumulators
//! (12 of the 16 registers) so every loaded value feeds several FMAs:
//! - `dot_tile` for `A·Bᵀ` (both operands contiguous along k): 4 rows of A against 3 rows of B,
//!   lane-parallel partial sums reduced at the end;
//! - `axpy_tile` for `A·B` and `Aᵀ·B` (B contiguous along n): a broadcast element of A times
//!   16 consecutive columns of B (a 6 × 2 tile), so it serves both layouts of A through its two strides.
//!
//! Blocking: the k dimension of `A·B` is cut into panels of [`KC`] rows so a 24-column panel of
//! B stays in L1 while all row blocks of A pass over it. Edge tiles use smaller instantiations
//! of the same kernels and masked loads/stores, never reading or writing out of bounds.

use core::arch::x86_64::*;

use super::{check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// Rows of B (k) per L1 panel in the broadcast kernels: 256 × 16 × 4 B = 16 KiB.
const KC: usize = 256;
/// Rows of the output per micro-tile (dot kernel).
const MR: usize = 4;
/// Rows of the output per micro-tile (broadcast kernels).
const MR_AXPY: usize = 6;
/// 8-lane vectors of output columns per micro-tile in the broadcast kernels (16 columns):
/// 6 × 2 accumulators + 2 rows of B + 1 broadcast = 15 of the 16 registers.
const NV: usize = 2;
/// Rows of B per micro-tile in the dot kernel.
const NR_DOT: usize = 3;

/// AVX2 + FMA kernels. Construct through [`Avx2Fma::detect`].
#[derive(Debug)]
pub struct Avx2Fma {
    _private: (),
}

static INSTANCE: Avx2Fma = Avx2Fma { _private: () };

impl Avx2Fma {
    /// The kernels, if this CPU has AVX2 and FMA.
    pub fn detect() -> Option<&'static dyn Kernels> {
        #[cfg(feature = "std")]
        let ok = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        #[cfg(not(feature = "std"))]
        let ok = cfg!(all(target_feature = "avx2", target_feature = "fma"));
        if ok { Some(&INSTANCE) } else { None }
    }
}

impl Kernels for Avx2Fma {
    fn name(&self) -> &'static str {
        "avx2"
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nt(&a, &b, &c);
        // SAFETY: shapes checked; the CPU has AVX2+FMA (only `detect` constructs Self).
        unsafe { gemm_nt(alpha, &a, &b, beta, &mut c) }
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        // A·B: element (i, p) of A is at i·stride + p.
        unsafe { gemm_axpy(alpha, a.ptr(), a.stride, 1, a.cols, &b, beta, &mut c) }
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        // Aᵀ·B: element (i, p) of Aᵀ is A[p, i], at p·stride + i.
        unsafe { gemm_axpy(alpha, a.ptr(), 1, a.stride, a.rows, &b, beta, &mut c) }
    }

    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        unsafe { bias_sigmoid(bias, x) }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn bias_sigmoid(bias: &[f32], x: &mut [f32]) {
    // The portable loop, compiled here with AVX2+FMA so it runs 8 lanes at a time.
    super::sigmoid::bias_sigmoid_portable(bias, x)
}

/// Lane mask with the first `n` (0..=8) lanes on.
#[inline(always)]
unsafe fn mask(n: usize) -> __m256i {
    const LANES: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
    _mm256_loadu_si256(LANES.as_ptr().add(8 - n) as *const __m256i)
}

#[inline(always)]
unsafe fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

#[inline(always)]
fn blend(c: f32, beta: f32, alpha: f32, acc: f32) -> f32 {
    super::blend(c, beta, alpha, acc)
}

// ---------------------------------------------------------------- A·Bᵀ (dot products along k)

/// Sums of `R × C` dot products of length k: rows of A at `a + r·lda`, rows of B at `b + c·ldb`.
#[inline(always)]
unsafe fn dot_tile<const R: usize, const C: usize>(
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
) -> [[f32; C]; R] {
    let mut acc = [[_mm256_setzero_ps(); C]; R];
    let mut p = 0;
    while p + 8 <= k {
        let mut bv = [_mm256_setzero_ps(); C];
        for (j, v) in bv.iter_mut().enumerate() {
            *v = _mm256_loadu_ps(b.add(j * ldb + p));
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let av = _mm256_loadu_ps(a.add(i * lda + p));
            for (j, acc) in row.iter_mut().enumerate() {
                *acc = _mm256_fmadd_ps(av, bv[j], *acc);
            }
        }
        p += 8;
    }
    if p < k {
        let m = mask(k - p);
        let mut bv = [_mm256_setzero_ps(); C];
        for (j, v) in bv.iter_mut().enumerate() {
            *v = _mm256_maskload_ps(b.add(j * ldb + p), m);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let av = _mm256_maskload_ps(a.add(i * lda + p), m);
            for (j, acc) in row.iter_mut().enumerate() {
                *acc = _mm256_fmadd_ps(av, bv[j], *acc);
            }
        }
    }
    let mut out = [[0.0f32; C]; R];
    for i in 0..R {
        for j in 0..C {
            out[i][j] = hsum(acc[i][j]);
        }
    }
    out
}

#[inline(always)]
unsafe fn nt_block<const R: usize, const C: usize>(
    alpha: f32,
    a: &MatRef,
    b: &MatRef,
    beta: f32,
    c: &mut MatMut,
    i: usize,
    j: usize,
) {
    let sums = dot_tile::<R, C>(a.cols, a.ptr().add(i * a.stride), a.stride, b.ptr().add(j * b.stride), b.stride);
    let cp = c.ptr();
    for (r, row) in sums.iter().enumerate() {
        for (q, &s) in row.iter().enumerate() {
            let dst = cp.add((i + r) * c.stride + j + q);
            *dst = blend(*dst, beta, alpha, s);
        }
    }
}

#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gemm_nt(alpha: f32, a: &MatRef, b: &MatRef, beta: f32, c: &mut MatMut) {
    let (m, n) = (a.rows, b.rows);
    if m == 0 || n == 0 {
        return;
    }
    let mut j = 0;
    while j < n {
        let nr = NR_DOT.min(n - j);
        let mut i = 0;
        while i < m {
            let mr = MR.min(m - i);
            match (mr, nr) {
                (4, 3) => nt_block::<4, 3>(alpha, a, b, beta, c, i, j),
                (4, 2) => nt_block::<4, 2>(alpha, a, b, beta, c, i, j),
                (4, 1) => nt_block::<4, 1>(alpha, a, b, beta, c, i, j),
                (3, 3) => nt_block::<3, 3>(alpha, a, b, beta, c, i, j),
                (3, 2) => nt_block::<3, 2>(alpha, a, b, beta, c, i, j),
                (3, 1) => nt_block::<3, 1>(alpha, a, b, beta, c, i, j),
                (2, 3) => nt_block::<2, 3>(alpha, a, b, beta, c, i, j),
                (2, 2) => nt_block::<2, 2>(alpha, a, b, beta, c, i, j),
                (2, 1) => nt_block::<2, 1>(alpha, a, b, beta, c, i, j),
                (1, 3) => nt_block::<1, 3>(alpha, a, b, beta, c, i, j),
                (1, 2) => nt_block::<1, 2>(alpha, a, b, beta, c, i, j),
                _ => nt_block::<1, 1>(alpha, a, b, beta, c, i, j),
            }
            i += mr;
        }
        j += nr;
    }
}

// ---------------------------------------------------- A·B and Aᵀ·B (broadcast A, stream B rows)

/// Accumulate `R` rows × `V` vectors of output over `kc` steps: element (r, p) of op(A) is at
/// `a + r·a_rs + p·a_ks`; row p of B starts at `b + p·ldb`. The last vector is masked by `tail`.
// Plain index loops over the constant-size tile: written with iterators, LLVM kept the
// accumulators in memory (4 × 3 tile: 31 GFLOP/s instead of 55).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn axpy_tile<const R: usize, const V: usize, const MASKED: bool>(
    kc: usize,
    a: *const f32,
    a_rs: usize,
    a_ks: usize,
    b: *const f32,
    ldb: usize,
    tail: __m256i,
) -> [[__m256; V]; R] {
    let mut acc = [[_mm256_setzero_ps(); V]; R];
    for p in 0..kc {
        let brow = b.add(p * ldb);
        let mut bv = [_mm256_setzero_ps(); V];
        for v in 0..V {
            bv[v] = if MASKED && v == V - 1 {
                _mm256_maskload_ps(brow.add(8 * v), tail)
            } else {
                _mm256_loadu_ps(brow.add(8 * v))
            };
        }
        let ap = a.add(p * a_ks);
        for r in 0..R {
            let av = _mm256_broadcast_ss(&*ap.add(r * a_rs));
            for v in 0..V {
                acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
    acc
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn axpy_block<const R: usize, const V: usize, const MASKED: bool>(
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
    tail: __m256i,
) {
    let acc = axpy_tile::<R, V, MASKED>(kc, a, a_rs, a_ks, b, ldb, tail);
    let va = _mm256_set1_ps(alpha);
    let vb = _mm256_set1_ps(beta);
    for (r, row) in acc.iter().enumerate() {
        let crow = c.add(r * ldc);
        for (v, &s) in row.iter().enumerate() {
            let dst = crow.add(8 * v);
            let masked = MASKED && v == V - 1;
            let out = if beta == 0.0 {
                _mm256_mul_ps(va, s)
            } else {
                let old = if masked { _mm256_maskload_ps(dst, tail) } else { _mm256_loadu_ps(dst) };
                _mm256_fmadd_ps(va, s, _mm256_mul_ps(vb, old))
            };
            if masked {
                _mm256_maskstore_ps(dst, tail, out);
            } else {
                _mm256_storeu_ps(dst, out);
            }
        }
    }
}

/// Call `axpy_block::<rows, V, MASKED>` for a run-time row count of 1 to 6.
macro_rules! by_rows {
    ($mr:expr, $v:literal, $masked:literal, $($arg:expr),*) => {
        match $mr {
            6 => axpy_block::<6, $v, $masked>($($arg),*),
            5 => axpy_block::<5, $v, $masked>($($arg),*),
            4 => axpy_block::<4, $v, $masked>($($arg),*),
            3 => axpy_block::<3, $v, $masked>($($arg),*),
            2 => axpy_block::<2, $v, $masked>($($arg),*),
            _ => axpy_block::<1, $v, $masked>($($arg),*),
        }
    };
}

/// `C ← β·C + α·op(A)·B` where op(A)(i, p) is at `a + i·a_rs + p·a_ks` and k = `k`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gemm_axpy(alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, k: usize, b: &MatRef, beta: f32, c: &mut MatMut) {
    let (m, n) = (c.rows, c.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for i in 0..m {
            for x in c.row_mut(i) {
                *x = if beta == 0.0 { 0.0 } else { beta * *x };
            }
        }
        return;
    }
    let (bp, ldb, ldc, cp) = (b.ptr(), b.stride, c.stride, c.ptr());
    let mut k0 = 0;
    while k0 < k {
        let kc = KC.min(k - k0);
        // The first panel applies β; later panels add to what is there.
        let beta_k = if k0 == 0 { beta } else { 1.0 };
        let a_k = a.add(k0 * a_ks);
        let b_k = bp.add(k0 * ldb);
        let mut j = 0;
        while j < n {
            let cols = (8 * NV).min(n - j);
            let full = cols / 8;
            let rem = cols % 8;
            let tail = mask(rem);
            let mut i = 0;
            while i < m {
                let mr = MR_AXPY.min(m - i);
                let (a_t, b_t, c_t) = (a_k.add(i * a_rs), b_k.add(j), cp.add(i * ldc + j));
                match (full, rem > 0) {
                    (2, _) => by_rows!(mr, 2, false, alpha, beta_k, kc, a_t, a_rs, a_ks, b_t, ldb, c_t, ldc, tail),
                    (1, true) => by_rows!(mr, 2, true, alpha, beta_k, kc, a_t, a_rs, a_ks, b_t, ldb, c_t, ldc, tail),
                    (1, false) => by_rows!(mr, 1, false, alpha, beta_k, kc, a_t, a_rs, a_ks, b_t, ldb, c_t, ldc, tail),
                    _ => by_rows!(mr, 1, true, alpha, beta_k, kc, a_t, a_rs, a_ks, b_t, ldb, c_t, ldc, tail),
                }
                i += mr;
            }
            j += cols;
        }
        k0 += kc;
    }
}
