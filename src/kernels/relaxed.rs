//! wasm relaxed-simd kernels: `f32x4_relaxed_madd` (one FMA instruction where the CPU has it).
//! With no temporary per product, a 4 × 3 tile (12 accumulators) fits the 16 registers.
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
        wasm_simd::gemm_nt::<RelaxedMadd, 4, 3>(alpha, &a, &b, beta, &mut c)
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        wasm_simd::gemm_axpy::<RelaxedMadd, 4, 3>(alpha, a.ptr(), a.stride, 1, a.cols, &b, beta, &mut c)
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        wasm_simd::gemm_axpy::<RelaxedMadd, 4, 3>(alpha, a.ptr(), 1, a.stride, a.rows, &b, beta, &mut c)
    }
}
