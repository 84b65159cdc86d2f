//! wasm relaxed-simd kernels: `f32x4_relaxed_madd` (one FMA instruction where the CPU has it).
//! Tiles: 4 rows of A × 2 rows of B (dot) and 4 rows × 2 vectors (broadcast), measured in
//! Chromium (median of 9 interleaved rounds): 28 % faster than 4 × 3, whose 12 accumulators
//! leave V8 too few registers, and 10 % faster than 3 × 3.
//! Shipped as a second .wasm, loaded only where the browser validates relaxed-simd.

use core::arch::wasm32::*;

use super::wasm_simd::{self, Madd};
use super::{check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// Relaxed-simd kernels.
#[derive(Clone, Copy, Debug, Default)]
pub struct RelaxedSimd;

struct RelaxedMadd;

impl Madd for RelaxedMadd {
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_relaxed_madd(a, b, c)
    }
}

impl Kernels for RelaxedSimd {
    fn name(&self) -> &'static str {
        "relaxed-simd"
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nt(&a, &b, &c);
        wasm_simd::gemm_nt::<RelaxedMadd, 4, 2>(alpha, &a, &b, beta, &mut c)
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        wasm_simd::gemm_axpy::<RelaxedMadd, 4, 2>(alpha, a.ptr(), a.stride, 1, a.cols, &b, beta, &mut c)
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        wasm_simd::gemm_axpy::<RelaxedMadd, 4, 2>(alpha, a.ptr(), 1, a.stride, a.rows, &b, beta, &mut c)
    }
}
