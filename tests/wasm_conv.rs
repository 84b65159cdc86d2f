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

// ------------------------------------------------------------ the page's CIFAR-10 API

mod cifar_api {
    use burstccn::wasm::{CifarReader, Engine};
    use js_sys::Reflect;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_test::*;

    const RECORD: usize = 3073;
    const FILES: [&str; 6] = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

    /// `n` records of a batch: label r % 10, pixels from the label and position.
    fn batch(n: usize, salt: u8) -> Vec<u8> {
        let mut out = vec![0u8; n * RECORD];
        for (r, rec) in out.chunks_exact_mut(RECORD).enumerate() {
            let label = (r % 10) as u8;
            rec[0] = label;
            for (i, p) in rec[1..].iter_mut().enumerate() {
                *p = (i as u8).wrapping_mul(label.wrapping_add(1)).wrapping_add(salt);
            }
        }
        out
    }

    fn js(text: &str) -> JsValue {
        js_sys::JSON::parse(text).unwrap()
    }

    fn get(v: &JsValue, key: &str) -> JsValue {
        Reflect::get(v, &JsValue::from_str(key)).unwrap()
    }

    fn num(v: &JsValue, key: &str) -> f64 {
        get(v, key).as_f64().unwrap_or_else(|| panic!("{key} is not a number"))
    }

    fn message(e: JsError) -> String {
        let v: JsValue = e.into();
        js_sys::Error::from(v).message().into()
    }

    /// A reader that has read the six batch files (`per` records each, the test batch `test`).
    fn read_all(per: usize, test: usize, chunk: usize) -> CifarReader {
        let mut reader = CifarReader::new();
        for (b, name) in FILES.iter().enumerate() {
            let bytes = batch(if b == 5 { test } else { per }, b as u8);
            reader.begin_file(name, Some(bytes.len() as f64)).unwrap();
            for piece in bytes.chunks(chunk) {
                reader.push(piece).unwrap();
            }
            reader.end_file().unwrap();
        }
        reader
    }

    /// A small conv net on 3 × 32 × 32 inputs: 4 maps 5 × 5 stride 2 (14 × 14), then 10 outputs.
    fn cifar_engine() -> Engine {
        Engine::new(js(r#"{"input_shape":[3,32,32],"conv":[{"channels":4,"kernel":5,"stride":2}],"layers":[784,10],"batch_size":4,"seed":3}"#)).unwrap()
    }

    #[wasm_bindgen_test]
    fn cifar_from_bin_files_trains_and_scores_in_slices_that_add_up() {
        let mut engine = cifar_engine();
        let mut reader = read_all(12, 20, 1000);
        assert!(reader.bytes_held() >= (5 * 12 + 20) as f64 * 3072.0);
        let loaded = engine.load_cifar(&mut reader).unwrap();
        assert_eq!((num(&loaded, "train"), num(&loaded, "test")), (60.0, 20.0));
        // The reader gave its data away: a second use is refused, by name.
        assert!(message(engine.load_cifar(&mut reader).err().unwrap()).contains("already been given"));
        let info = engine.data_info().unwrap();
        assert_eq!(get(&info, "kind").as_string().unwrap(), "cifar10");
        let classes: Vec<String> = js_sys::Array::from(&get(&info, "classes")).iter().map(|c| c.as_string().unwrap()).collect();
        assert_eq!(classes[0], "airplane");
        assert_eq!(classes[9], "truck");
        assert_eq!(engine.test_count(), 20);
        // Test images are the records' bytes, planes as in the file.
        let img = engine.test_image(3).unwrap().to_vec();
        assert_eq!(img, batch(20, 5)[3 * RECORD + 1..4 * RECORD].to_vec());
        assert_eq!(engine.test_label(3).unwrap(), 3);
        // The conv layer's shape and kernels.
        let shape = engine.layer_shape(0).unwrap();
        assert_eq!(get(&shape, "kind").as_string().unwrap(), "conv");
        assert_eq!((num(&shape, "channels"), num(&shape, "height"), num(&shape, "kernel"), num(&shape, "in_channels")), (4.0, 14.0, 5.0, 3.0));
        assert_eq!(engine.weights(0).unwrap().length(), 4 * 5 * 5 * 3);
        let before = engine.weights(0).unwrap().to_vec();
        engine.train(5, false).unwrap();
        assert_ne!(engine.weights(0).unwrap().to_vec(), before, "the kernels learn");
        // Two slices score exactly as the whole set.
        let whole = engine.evaluate(None).unwrap();
        let (a, b) = (engine.evaluate_slice(0, 7).unwrap(), engine.evaluate_slice(7, 100).unwrap());
        assert_eq!(num(&a, "count") + num(&b, "count"), 20.0);
        let wrong = num(&a, "wrong") + num(&b, "wrong");
        assert!((wrong / 20.0 - num(&whole, "error_rate")).abs() < 1e-9);
        let sse = num(&a, "sse") + num(&b, "sse");
        assert!((sse / 200.0 - num(&whole, "loss")).abs() < 1e-5, "{sse} vs {}", num(&whole, "loss"));
        // Presenting a test image: its output, and the input normalised as in training.
        assert_eq!(engine.present_test(2).unwrap().length(), 10);
        assert!(message(engine.present_test(20).err().unwrap()).contains("out of range"));
    }

    #[wasm_bindgen_test]
    fn wrong_cifar_input_is_refused_and_the_engine_keeps_its_data() {
        let mut engine = cifar_engine();
        let mut good = read_all(10, 10, 4096);
        engine.load_cifar(&mut good).unwrap();
        // Not CIFAR-10 at all.
        let mut png = CifarReader::new();
        png.begin_file("holiday.png", None).unwrap();
        let m = message(png.push(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").and_then(|()| png.end_file()).expect_err("a PNG is refused"));
        assert!(m.contains("holiday.png") && m.contains("PNG"), "{m}");
        assert!(png.end_file().is_err(), "later calls repeat the error");
        assert!(engine.load_cifar(&mut png).is_err());
        // Incomplete: a batch missing.
        let mut some = CifarReader::new();
        let bytes = batch(5, 0);
        some.begin_file("data_batch_1.bin", Some(bytes.len() as f64)).unwrap();
        some.push(&bytes).unwrap();
        some.end_file().unwrap();
        let m = message(engine.load_cifar(&mut some).err().unwrap());
        assert!(m.contains("incomplete") && m.contains("test_batch.bin"), "{m}");
        // The engine still has the first data.
        assert_eq!(engine.test_count(), 10);
        engine.train(1, false).unwrap();
        // An MNIST-sized network cannot be built over CIFAR-10 alone, and says why.
        let m = message(engine.reset(js(r#"{"input_shape":null,"conv":[],"layers":[784,10]}"#)).err().unwrap());
        assert!(m.contains("CIFAR-10") && m.contains("3072"), "{m}");
        assert_eq!(get(&engine.data_info().unwrap(), "kind").as_string().unwrap(), "cifar10");
    }
}
