//! x86-64 AVX2 + FMA kernels (8 lanes of f32, 16 vector registers), chosen at run time.
//!
//! `A·B` and `Aᵀ·B` go through the blocked, packed driver in `blocked.rs` with a 6 × 16
//! micro-kernel: 12 accumulators, 2 vectors of packed B
//! and 1 broadcast of A, 15 of the 16 registers. `A·Bᵀ` keeps a dot-product kernel (`dot_tile`,
//! 4 rows of A against 3 rows of B, lane-parallel partial sums reduced at the end), which
//! reads both operands in place along k.
//!
//! Every product runs with denormals flushed to zero ([`FlushDenormals`]).

use core::arch::x86_64::*;

use super::blocked::{self, a_layout, MicroKernel};
use super::{check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// Rows of the output per micro-tile (dot kernel).
const MR: usize = 4;
/// Rows of B per micro-tile in the dot kernel.
const NR_DOT: usize = 3;

/// AVX2 + FMA kernels. Construct through [`Avx2Fma::detect`].
#[derive(Debug)]
pub struct Avx2Fma {
    _private: (),
}

static INSTANCE: Avx2Fma = Avx2Fma { _private: () };

fn ok() -> bool {
    #[cfg(feature = "std")]
    let ok = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
    #[cfg(not(feature = "std"))]
    let ok = cfg!(all(target_feature = "avx2", target_feature = "fma"));
    ok
}

impl Avx2Fma {
    /// The kernels, if this CPU has AVX2 and FMA.
    pub fn detect() -> Option<&'static dyn Kernels> {
        if ok() { Some(&INSTANCE) } else { None }
    }
}

/// Denormal (subnormal) floats flushed to zero, as inputs (DAZ) and results (FTZ), while this
/// guard lives; the caller's MXCSR is restored when it drops. A product that meets subnormals
/// (event rates of saturated units, ~1e-38, times small weights) otherwise takes a microcode
/// assist on every such multiply-add: measured, `paper-cifar` trained at 622 samples per CPU
/// second without and 951 with. Only values below 1.2e-38 change.
pub(crate) struct FlushDenormals {
    saved: u32,
}

impl FlushDenormals {
    const FTZ_DAZ: u32 = 0x8040;

    #[inline(always)]
    pub(crate) fn new() -> Self {
        let mut saved = 0u32;
        // SAFETY: stmxcsr/ldmxcsr only read and write the SSE control register (every x86-64
        // CPU has it); the bits set are the architected FTZ (15) and DAZ (6) flags.
        unsafe {
            core::arch::asm!("stmxcsr [{}]", in(reg) &mut saved, options(nostack, preserves_flags));
            let flushed = saved | Self::FTZ_DAZ;
            core::arch::asm!("ldmxcsr [{}]", in(reg) &flushed, options(nostack, preserves_flags));
        }
        FlushDenormals { saved }
    }
}

impl Drop for FlushDenormals {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: as in `new`, restoring the value read there.
        unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &self.saved, options(nostack, preserves_flags)) }
    }
}

impl Kernels for Avx2Fma {
    fn name(&self) -> &'static str {
        "avx2"
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nt(&a, &b, &c);
        let _ftz = FlushDenormals::new();
        // The dot-product kernel: packing Bᵀ without AVX-512's gathers costs more than it
        // saves (32x2304x1480: 43 against 50 GFLOP/s).
        // SAFETY: shapes checked; the CPU has AVX2+FMA (only `detect` constructs Self).
        unsafe { gemm_nt(alpha, &a, &b, beta, &mut c) }
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        let _ftz = FlushDenormals::new();
        // A·B: op(A)(i, p) = A[i, p], op(B)(p, j) = B[p, j].
        unsafe { gemm(c.rows, c.cols, a.cols, alpha, a.ptr(), a.stride, 1, b.ptr(), b.stride, 1, beta, c.ptr(), c.stride) }
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        let _ftz = FlushDenormals::new();
        // Aᵀ·B: op(A)(i, p) = A[p, i].
        unsafe { gemm(c.rows, c.cols, a.rows, alpha, a.ptr(), 1, a.stride, b.ptr(), b.stride, 1, beta, c.ptr(), c.stride) }
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

// ---------------------------------------------------------------- the packed micro-kernel

/// The blocked product for every layout (see `blocked.rs`).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gemm(m: usize, n: usize, k: usize, alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize, b_cs: usize, beta: f32, c: *mut f32, ldc: usize) {
    blocked::gemm::<Tile>(m, n, k, alpha, a, a_rs, a_ks, b, b_ks, b_cs, beta, c, ldc)
}

/// 6 rows × 2 vectors: 12 accumulators + 2 vectors of B + 1 broadcast = 15 of the 16 registers.
pub(crate) type Tile = Ymm<6, 2>;

/// An `MR × 8·NV` AVX2 micro-kernel.
pub(crate) struct Ymm<const MR: usize, const NV: usize>;

impl<const MR: usize, const NV: usize> MicroKernel for Ymm<MR, NV> {
    const MR: usize = MR;
    const NR: usize = 8 * NV;

    // Plain index loops over the constant-size tile: written with iterators, LLVM kept the
    // accumulators in memory.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn tile<const AL: u8>(kc: usize, a: *const f32, lda: usize, bp: *const f32, alpha: f32, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize) {
        // Fetch the tile of C early (see avx512.rs).
        for r in 0..MR.min(rows) {
            for l in 0..NV.div_ceil(2) {
                _mm_prefetch::<_MM_HINT_T0>(c.add(r * ldc + 16 * l) as *const i8);
            }
        }
        let mut acc = [[_mm256_setzero_ps(); NV]; MR];
        let a_step = match AL {
            a_layout::PACKED => MR,
            a_layout::ROWS => 1,
            _ => lda,
        };
        let (mut ap, mut bq) = (a, bp);
        for _ in 0..kc {
            let mut bv = [_mm256_setzero_ps(); NV];
            for v in 0..NV {
                bv[v] = _mm256_loadu_ps(bq.add(8 * v));
            }
            for r in 0..MR {
                let x = if AL == a_layout::ROWS { ap.add(r * lda) } else { ap.add(r) };
                let av = _mm256_broadcast_ss(&*x);
                for v in 0..NV {
                    acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
                }
            }
            ap = ap.add(a_step);
            bq = bq.add(8 * NV);
        }
        let va = _mm256_set1_ps(alpha);
        let vb = _mm256_set1_ps(beta);
        for r in 0..MR.min(rows) {
            let crow = c.add(r * ldc);
            for v in 0..NV {
                if cols <= 8 * v {
                    break;
                }
                let n = cols - 8 * v;
                let dst = crow.add(8 * v);
                if n >= 8 {
                    let out = if beta == 0.0 { _mm256_mul_ps(va, acc[r][v]) } else { _mm256_fmadd_ps(va, acc[r][v], _mm256_mul_ps(vb, _mm256_loadu_ps(dst))) };
                    _mm256_storeu_ps(dst, out);
                } else {
                    let m = mask(n);
                    let out = if beta == 0.0 {
                        _mm256_mul_ps(va, acc[r][v])
                    } else {
                        _mm256_fmadd_ps(va, acc[r][v], _mm256_mul_ps(vb, _mm256_maskload_ps(dst, m)))
                    };
                    _mm256_maskstore_ps(dst, m, out);
                }
            }
        }
    }
}
