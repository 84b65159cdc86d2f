//! ConvBurstCCN in headless Chromium: the conv products through each wasm SIMD kernel against
//! the direct convolutions, and a conv net's training run against the native engine's result
//! (tests/fixtures/conv-step.json, written by tests/fixture.rs).
#![cfg(target_arch = "wasm32")]

mod common;

use burstccn::kernels::conv::{col2im, conv_reference, conv_transpose_reference, conv_weight_corr_reference, im2col, ConvGeom};
use burstccn::kernels::{self, MatMut, MatRef};
use burstccn::rng::Random;
use burstccn::snapshot;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn random(rng: &mut Random, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform_in(-1.0, 1.0)).collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}[{i}]: {g} vs {w}");
    }
}

#[wasm_bindgen_test]
fn conv_products_match_direct_convolutions_in_every_wasm_kernel() {
    let names = kernels::available();
    assert!(names.contains(&"simd128"), "{names:?}");
    if cfg!(target_feature = "relaxed-simd") {
        assert!(names.contains(&"relaxed-simd"), "{names:?}");
    }
    let mut rng = Random::new(31, 0);
    // Odd sizes, strides that leave rows unread, 1 to 17 channels, window lengths 9–147.
    for &(c, h, w, co, k, s, rows) in &[(1, 7, 6, 3, 3, 2, 2), (3, 9, 9, 5, 5, 2, 3), (17, 6, 6, 9, 2, 1, 1), (3, 13, 11, 7, 7, 3, 2), (2, 4, 4, 17, 4, 1, 1)] {
        let g = ConvGeom::new(c, h, w, co, k, s).unwrap();
        let m = rows * g.positions();
        let x = random(&mut rng, rows * g.input_len());
        let wt = random(&mut rng, g.weight_len());
        let z = random(&mut rng, rows * g.output_len());
        let (want_f, want_t, want_c) = (conv_reference(&g, rows, &x, &wt), conv_transpose_reference(&g, rows, &z, &wt), conv_weight_corr_reference(&g, rows, &x, &z));
        for name in &names {
            let kern = kernels::by_name(name).unwrap();
            let what = format!("{g:?} × {rows} with {name}");
            let mut cols = vec![f32::NAN; m * g.window()];
            im2col(&g, rows, &x, &mut cols);
            let mut out = vec![f32::NAN; m * g.c_out];
            kern.gemm_nt(1.0, MatRef::new(&cols, m, g.window()), MatRef::new(&wt, g.c_out, g.window()), 0.0, MatMut::new(&mut out, m, g.c_out));
            assert_close(&format!("forward {what}"), &out, &want_f);
            let mut corr = vec![f32::NAN; g.weight_len()];
            kern.gemm_tn(1.0, MatRef::new(&z, m, g.c_out), MatRef::new(&cols, m, g.window()), 0.0, MatMut::new(&mut corr, g.c_out, g.window()));
            assert_close(&format!("corr {what}"), &corr, &want_c);
            let mut back = vec![f32::NAN; m * g.window()];
            kern.gemm_nn(1.0, MatRef::new(&z, m, g.c_out), MatRef::new(&wt, g.c_out, g.window()), 0.0, MatMut::new(&mut back, m, g.window()));
            let mut t = vec![f32::NAN; rows * g.input_len()];
            col2im(&g, rows, &back, 0.0, &mut t);
            assert_close(&format!("transpose {what}"), &t, &want_t);
        }
    }
}

#[wasm_bindgen_test]
fn conv_training_in_wasm_equals_the_native_result() {
    let native = snapshot::from_json(common::CONV_FIXTURE).expect("conv fixture");
    assert!(native.config().is_conv());
    for kern in [kernels::best(), kernels::scalar()] {
        let run = common::conv_fixture_run(kern);
        let d = common::max_difference(&run, &native);
        assert!(d <= 1e-5, "wasm {} vs native: max |Δ| = {d}", kern.name());
    }
}
