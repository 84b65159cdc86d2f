//! x86-64 AVX-512F kernels (16 lanes of f32, 32 vector registers), chosen at run time where
//! the CPU has them.
//!
//! Every product goes through the blocked, packed driver in `blocked.rs`; this file holds the
//! micro-kernel, an `MR × 16·NV` tile of accumulators fed by one broadcast of A and `NV`
//! vector loads of packed B per step, and packing routines that use masked loads/stores and
//! gathers (for the transposing layouts: B of `A·Bᵀ`, the edge rows of A in `A·B`). Masked
//! loads and stores handle every edge, so no tail needs another kernel. Denormals are flushed
//! to zero during each product (`avx2::FlushDenormals`).

use core::arch::x86_64::*;

use super::avx2;
use super::blocked::{self, a_layout, MicroKernel};
use super::{check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// An `MR × 16·NV` AVX-512 micro-kernel. Two are used (see [`gemm`]): 6 × 4 (24 accumulators,
/// 4 loaded vectors of B, the broadcast of A folded into each multiply-add: 28 of the 32
/// registers) and 8 × 2 (16 + 2) where 64-column tiles would waste too much of a narrow C.
pub(crate) struct Zmm<const MR: usize, const NV: usize>;

/// AVX-512F kernels. Construct through [`Avx512::detect`].
#[derive(Debug)]
pub struct Avx512 {
    _private: (),
}

static INSTANCE: Avx512 = Avx512 { _private: () };

impl Avx512 {
    /// The kernels, if this CPU has AVX-512F (and the AVX2 + FMA the driver is compiled with).
    pub fn detect() -> Option<&'static dyn Kernels> {
        if ok() { Some(&INSTANCE) } else { None }
    }
}

fn ok() -> bool {
    #[cfg(feature = "std")]
    let ok = std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
    #[cfg(not(feature = "std"))]
    let ok = cfg!(all(target_feature = "avx512f", target_feature = "avx2", target_feature = "fma"));
    ok
}

impl Kernels for Avx512 {
    fn name(&self) -> &'static str {
        "avx512"
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nt(&a, &b, &c);
        let _ftz = avx2::FlushDenormals::new();
        // A·Bᵀ: op(B)(p, j) = B[j, p].
        // SAFETY: shapes checked; the CPU has AVX-512F, AVX2 and FMA (only `detect` constructs Self).
        unsafe { gemm(c.rows, c.cols, a.cols, alpha, a.ptr(), a.stride, 1, b.ptr(), 1, b.stride, beta, c.ptr(), c.stride) }
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        let _ftz = avx2::FlushDenormals::new();
        unsafe { gemm(c.rows, c.cols, a.cols, alpha, a.ptr(), a.stride, 1, b.ptr(), b.stride, 1, beta, c.ptr(), c.stride) }
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        let _ftz = avx2::FlushDenormals::new();
        // Aᵀ·B: op(A)(i, p) = A[p, i].
        unsafe { gemm(c.rows, c.cols, a.rows, alpha, a.ptr(), 1, a.stride, b.ptr(), b.stride, 1, beta, c.ptr(), c.stride) }
    }

    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        unsafe { bias_sigmoid(bias, x) }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn bias_sigmoid(bias: &[f32], x: &mut [f32]) {
    super::sigmoid::bias_sigmoid_portable(bias, x)
}

/// The blocked product with the tile that wastes least of C: 6 × 64 unless its padding of the
/// rows and columns costs more than 5 % over 8 × 32's. Measured on the paper's CIFAR-10 shapes
/// (`burstccn bench --gemm-only`), 6 × 64 was 5–10 % faster wherever it fits (it loads A half
/// as often per multiply-add), 8 × 32 up to 30 % faster on the narrow (n = 75) and 32-row ones.
/// Both sum k in the same order, so the choice never changes a result.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemm(m: usize, n: usize, k: usize, alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize, b_cs: usize, beta: f32, c: *mut f32, ldc: usize) {
    if blocked::transposed_pays(m, n, k, b_ks) {
        return blocked::gemm_transposed(m, n, k, alpha, a, a_rs, a_ks, b, b_ks, b_cs, beta, c, ldc, gemm_direct);
    }
    gemm_direct(m, n, k, alpha, a, a_rs, a_ks, b, b_ks, b_cs, beta, c, ldc)
}

/// [`gemm`] without the transposed route (which calls this on the transposed problem).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemm_direct(m: usize, n: usize, k: usize, alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize, b_cs: usize, beta: f32, c: *mut f32, ldc: usize) {
    let wide = m.next_multiple_of(6) * n.next_multiple_of(64);
    let narrow = m.next_multiple_of(8) * n.next_multiple_of(32);
    if wide * 20 <= narrow * 21 {
        blocked::gemm::<Zmm<6, 4>>(m, n, k, alpha, a, a_rs, a_ks, b, b_ks, b_cs, beta, c, ldc)
    } else {
        blocked::gemm::<Zmm<8, 2>>(m, n, k, alpha, a, a_rs, a_ks, b, b_ks, b_cs, beta, c, ldc)
    }
}

/// Mask of the first `n` (0..=16) lanes.
#[inline(always)]
fn lanes(n: usize) -> __mmask16 {
    if n >= 16 { 0xffff } else { ((1u32 << n) - 1) as __mmask16 }
}

impl<const MR: usize, const NV: usize> MicroKernel for Zmm<MR, NV> {
    const MR: usize = MR;
    const NR: usize = 16 * NV;

    // Index loops over the constant-size tile keep the accumulators in registers.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn tile<const AL: u8>(kc: usize, a: *const f32, lda: usize, bp: *const f32, alpha: f32, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize) {
        // Start fetching the tile of C now, so the loads (or the stores' line fills) at the
        // end do not wait for memory: that matters when kc is short (the weight updates).
        for r in 0..MR.min(rows) {
            for l in 0..NV {
                _mm_prefetch::<_MM_HINT_T0>(c.add(r * ldc + 16 * l) as *const i8);
            }
        }
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        let a_step = match AL {
            a_layout::PACKED => MR,
            a_layout::ROWS => 1,
            _ => lda,
        };
        let (mut ap, mut bq) = (a, bp);
        for _ in 0..kc {
            let mut bv = [_mm512_setzero_ps(); NV];
            for v in 0..NV {
                bv[v] = _mm512_loadu_ps(bq.add(16 * v));
            }
            for r in 0..MR {
                let x = if AL == a_layout::ROWS { *ap.add(r * lda) } else { *ap.add(r) };
                let av = _mm512_set1_ps(x);
                for v in 0..NV {
                    acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
                }
            }
            ap = ap.add(a_step);
            bq = bq.add(16 * NV);
        }
        let va = _mm512_set1_ps(alpha);
        let vb = _mm512_set1_ps(beta);
        for r in 0..MR.min(rows) {
            let crow = c.add(r * ldc);
            for v in 0..NV {
                if cols <= 16 * v {
                    break;
                }
                let mask = lanes(cols - 16 * v);
                let dst = crow.add(16 * v);
                let out = if beta == 0.0 {
                    _mm512_mul_ps(va, acc[r][v])
                } else {
                    _mm512_fmadd_ps(va, acc[r][v], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, dst)))
                };
                _mm512_mask_storeu_ps(dst, mask, out);
            }
        }
    }

    #[inline(always)]
    unsafe fn pack_b(kc: usize, b: *const f32, b_ks: usize, b_cs: usize, cols: usize, dst: *mut f32) {
        if b_cs == 1 {
            // Rows of B: masked copies (lanes past `cols` load as 0).
            for p in 0..kc {
                let (s, d) = (b.add(p * b_ks), dst.add(p * 16 * NV));
                for v in 0..NV {
                    let mask = lanes(cols.saturating_sub(16 * v));
                    _mm512_storeu_ps(d.add(16 * v), _mm512_maskz_loadu_ps(mask, s.add(16 * v)));
                }
            }
        } else if b_ks == 1 && b_cs * 16 * NV < (1 << 29) {
            // Columns of B (A·Bᵀ): one gather of 16 columns per vector and step.
            let step = _mm512_set1_epi32(b_cs as i32);
            let base = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), step);
            let mut idx = [base; NV];
            for (v, x) in idx.iter_mut().enumerate() {
                *x = _mm512_add_epi32(base, _mm512_set1_epi32((16 * v * b_cs) as i32));
            }
            for p in 0..kc {
                let d = dst.add(p * 16 * NV);
                for (v, &ix) in idx.iter().enumerate() {
                    let mask = lanes(cols.saturating_sub(16 * v));
                    let g = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), mask, ix, b.add(p));
                    _mm512_storeu_ps(d.add(16 * v), g);
                }
            }
        } else {
            blocked::pack_b_portable(16 * NV, kc, b, b_ks, b_cs, cols, dst)
        }
    }

    #[inline(always)]
    unsafe fn pack_a(kc: usize, a: *const f32, a_rs: usize, a_ks: usize, rows: usize, dst: *mut f32) {
        let (load, store) = (lanes(rows), lanes(MR));
        if MR <= 16 && a_rs == 1 {
            for p in 0..kc {
                _mm512_mask_storeu_ps(dst.add(p * MR), store, _mm512_maskz_loadu_ps(load, a.add(p * a_ks)));
            }
        } else if MR <= 16 && a_ks == 1 && a_rs * 16 < (1 << 29) {
            let ix = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(a_rs as i32));
            for p in 0..kc {
                let g = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), load, ix, a.add(p));
                _mm512_mask_storeu_ps(dst.add(p * MR), store, g);
            }
        } else {
            blocked::pack_a_portable(MR, kc, a, a_rs, a_ks, rows, dst)
        }
    }
}
