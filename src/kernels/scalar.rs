//! The reference kernels: plain loops, one multiply-add at a time, in f32.
//! Every other kernel is tested against these (tests/kernels.rs).

use super::{blend, check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// Plain scalar loops.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scalar;

impl Kernels for Scalar {
    fn name(&self) -> &'static str {
        "scalar"
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nt(&a, &b, &c);
        for i in 0..a.rows {
            let ai = a.row(i);
            let ci = c.row_mut(i);
            for (j, cij) in ci.iter_mut().enumerate() {
                let bj = b.row(j);
                let mut acc = 0.0f32;
                for (x, y) in ai.iter().zip(bj) {
                    acc += x * y;
                }
                *cij = blend(*cij, beta, alpha, acc);
            }
        }
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_nn(&a, &b, &c);
        for i in 0..a.rows {
            let ci = c.row_mut(i);
            for (j, cij) in ci.iter_mut().enumerate() {
                let mut acc = 0.0f32;
                for k in 0..a.cols {
                    acc += a.at(i, k) * b.at(k, j);
                }
                *cij = blend(*cij, beta, alpha, acc);
            }
        }
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
        check_tn(&a, &b, &c);
        for i in 0..a.cols {
            let ci = c.row_mut(i);
            for (j, cij) in ci.iter_mut().enumerate() {
                let mut acc = 0.0f32;
                for k in 0..a.rows {
                    acc += a.at(k, i) * b.at(k, j);
                }
                *cij = blend(*cij, beta, alpha, acc);
            }
        }
    }

    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        super::sigmoid::bias_sigmoid_reference(bias, x)
    }
}
