//! wasm simd128 kernels: 4 lanes, multiply then add (no fused multiply-add in simd128).
//! Tiles: 4 rows of A × 2 rows of B (dot) and 4 rows × 2 vectors (broadcast): 8 accumulators.
//! Chosen by measurement in Chromium (median of 9 interleaved rounds on the model's shapes):
//! 4 × 2 beat 3 × 3 by 37 % and 4 × 3 by 28 % — V8 keeps fewer vector registers free than the
//! 16 of x86-64, and the unfused product needs a temporary.

use core::arch::wasm32::*;

use super::wasm_simd::{self, Madd};
use super::{check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// Plain simd128 kernels.
#[derive(Clone, Copy, Debug, Default)]
pub struct Simd128;

struct MulAdd;

impl Madd for MulAdd {
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_add(f32x4_mul(a, b), c)
    }
}

impl Kernels for Simd128 {
    fn name(&self) -> &'static str {
        "simd128"
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nt(&a, &b, &c);
        wasm_simd::gemm_nt::<MulAdd, 4, 2>(alpha, &a, &b, beta, &mut c)
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        wasm_simd::gemm_axpy::<MulAdd, 4, 2>(alpha, a.ptr(), a.stride, 1, a.cols, &b, beta, &mut c)
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        wasm_simd::gemm_axpy::<MulAdd, 4, 2>(alpha, a.ptr(), 1, a.stride, a.rows, &b, beta, &mut c)
    }
}
