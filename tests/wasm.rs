//! In headless Chromium (wasm-pack test --headless --chrome): the SIMD kernels against the
//! scalar reference, a training run against the native engine's result, snapshots, and every
//! bad-input path of the JavaScript API (each throws, and the engine keeps working).
#![cfg(target_arch = "wasm32")]

mod common;

use burstccn::kernels::{self, Kernels, MatMut, MatRef};
use burstccn::rng::Random;
use burstccn::snapshot;
use burstccn::wasm::Engine;
use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn random(rng: &mut Random, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform_in(-1.0, 1.0)).collect()
}

/// One product of each kind with `k` and with the scalar reference; compare.
fn compare(k: &dyn Kernels, m: usize, n: usize, kk: usize, pad: usize, beta: f32, seed: u64) {
    let mut rng = Random::new(seed, 0);
    let ld = |cols: usize| cols + pad;
    for kind in 0..3 {
        let (ar, ac, br, bc) = match kind {
            0 => (m, kk, n, kk),
            1 => (m, kk, kk, n),
            _ => (kk, m, kk, n),
        };
        let a = random(&mut rng, ar * ld(ac));
        let b = random(&mut rng, br * ld(bc));
        let init = if beta == 0.0 { vec![f32::NAN; m * ld(n)] } else { random(&mut rng, m * ld(n)) };
        let run = |kern: &dyn Kernels| {
            let mut c = init.clone();
            let (av, bv) = (MatRef::strided(&a, ar, ac, ld(ac)), MatRef::strided(&b, br, bc, ld(bc)));
            let cv = MatMut::strided(&mut c, m, n, ld(n));
            match kind {
                0 => kern.gemm_nt(0.7, av, bv, beta, cv),
                1 => kern.gemm_nn(0.7, av, bv, beta, cv),
                _ => kern.gemm_tn(0.7, av, bv, beta, cv),
            }
            c
        };
        let (want, got) = (run(kernels::scalar()), run(k));
        let tol = 1e-5 * (kk as f32 + 1.0);
        for i in 0..m {
            for j in 0..n {
                let (w, g) = (want[i * ld(n) + j], got[i * ld(n) + j]);
                assert!((w - g).abs() <= tol, "{} kind {kind} {m}x{n}x{kk} pad {pad} β={beta}: ({i},{j}) {g} vs {w}", k.name());
            }
            for j in n..ld(n) {
                let (w, g) = (want[i * ld(n) + j], got[i * ld(n) + j]);
                assert!(w.to_bits() == g.to_bits(), "{}: wrote into padding", k.name());
            }
        }
    }
}

fn simd_kernels() -> Vec<&'static dyn Kernels> {
    let names = kernels::available();
    assert!(names.contains(&"simd128"), "this build must have simd128 kernels: {names:?}");
    let ks: Vec<_> = names.iter().filter(|n| **n != "scalar").map(|n| kernels::by_name(n).unwrap()).collect();
    // The relaxed build (RUSTFLAGS with +relaxed-simd) must use and test the relaxed kernels.
    if cfg!(target_feature = "relaxed-simd") {
        assert!(ks.iter().any(|k| k.name() == "relaxed-simd"));
        assert_eq!(kernels::best().name(), "relaxed-simd");
    } else {
        assert_eq!(kernels::best().name(), "simd128");
    }
    ks
}

#[wasm_bindgen_test]
fn simd_kernels_match_the_scalar_reference_on_odd_shapes() {
    let dims = [1usize, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31];
    let mut rng = Random::new(3, 3);
    let mut cases = 0;
    for k in simd_kernels() {
        for _ in 0..120 {
            let pick = |rng: &mut Random| dims[rng.below(dims.len() as u32) as usize];
            let (m, n, kk) = (pick(&mut rng), pick(&mut rng), pick(&mut rng));
            let pad = rng.below(3) as usize;
            let beta = [0.0, 1.0, 0.5][rng.below(3) as usize];
            compare(k, m, n, kk, pad, beta, cases);
            cases += 1;
        }
        // The model's shapes, and k crossing the 256-row panels.
        compare(k, 32, 500, 784, 0, 0.0, 1);
        compare(k, 32, 10, 500, 0, 1.0, 2);
        compare(k, 9, 21, 600, 1, 0.5, 3);
    }
    assert!(cases >= 120);
}

#[wasm_bindgen_test]
fn simd_sigmoid_matches_the_reference() {
    let mut rng = Random::new(4, 4);
    let bias = random(&mut rng, 13);
    let x: Vec<f32> = (0..5 * 13).map(|_| rng.uniform_in(-40.0, 40.0)).collect();
    let mut want = x.clone();
    kernels::scalar().bias_sigmoid(&bias, &mut want);
    let mut got = x;
    kernels::best().bias_sigmoid(&bias, &mut got);
    for (w, g) in want.iter().zip(&got) {
        assert!((w - g).abs() < 5e-7, "{g} vs {w}");
    }
}

#[wasm_bindgen_test]
fn training_in_wasm_equals_the_native_result() {
    let native = snapshot::from_json(common::FIXTURE).expect("fixture");
    let wasm_fast = common::fixture_run(kernels::best());
    let wasm_scalar = common::fixture_run(kernels::scalar());
    let d_fast = common::max_difference(&wasm_fast, &native);
    let d_scalar = common::max_difference(&wasm_scalar, &native);
    assert!(d_fast <= 1e-5, "wasm {} vs native: max |Δ| = {d_fast}", kernels::best().name());
    assert!(d_scalar <= 1e-5, "wasm scalar vs native: max |Δ| = {d_scalar}");
    // (Initial weights come from the portable RNG; had they differed, so would these.)
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn message(e: JsError) -> String {
    let v: JsValue = e.into();
    js_sys::Error::from(v).message().into()
}

fn small_engine() -> Engine {
    let layers = js_sys::Array::of3(&JsValue::from(16), &JsValue::from(12), &JsValue::from(4));
    Engine::new(obj(&[("layers", layers.into()), ("batch_size", JsValue::from(4)), ("seed", JsValue::from(5))])).unwrap()
}

fn pixels(n: usize) -> JsValue {
    Uint8Array::from(&(0..n).map(|i| (i * 37 % 256) as u8).collect::<Vec<u8>>()[..]).into()
}

/// A tiny IDX pair: `count` images of 4×4 and their labels.
fn idx(count: usize) -> (Vec<u8>, Vec<u8>) {
    let mut images = vec![0, 0, 8, 3];
    for d in [count as u32, 4, 4] {
        images.extend_from_slice(&d.to_be_bytes());
    }
    images.extend((0..count * 16).map(|i| (i * 13 % 256) as u8));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&(count as u32).to_be_bytes());
    labels.extend((0..count).map(|i| (i % 4) as u8));
    (images, labels)
}

#[wasm_bindgen_test]
fn every_bad_input_throws_and_the_engine_keeps_working() {
    // Bad settings name the field.
    let bad = [
        (obj(&[("lr", JsValue::from_str("fast"))]), "lr"),
        (obj(&[("learning_rate", JsValue::from(0.1))]), "learning_rate"),
        (obj(&[("p_baseline", JsValue::from(1.5))]), "p_baseline"),
        (obj(&[("layers", js_sys::Array::of2(&JsValue::from(784), &JsValue::from(0)).into())]), "layers"),
        (obj(&[("rule", JsValue::from_str("hebb"))]), "rule"),
        (obj(&[("batch_size", JsValue::from(-3))]), "batch_size"),
        (JsValue::from(42), "config"),
    ];
    for (cfg, field) in bad {
        let m = message(Engine::new(cfg).err().expect("bad settings must throw"));
        assert!(m.contains(field), "message {m:?} should name {field}");
    }

    let mut e = small_engine();
    let baseline = e.predict(pixels(16)).unwrap().to_vec();
    assert_eq!(baseline.len(), 4);

    // No data yet.
    assert!(message(e.train(1, false).err().unwrap()).contains("no training data"));
    assert!(message(e.evaluate(None).err().unwrap()).contains("no test data"));
    // Garbage and mismatched data.
    let (imgs, labels) = idx(20);
    assert!(message(e.load_data(b"garbage".to_vec(), labels.to_vec(), imgs.to_vec(), labels.to_vec()).err().unwrap()).contains("magic"));
    assert!(message(e.load_data(imgs.to_vec(), labels[..labels.len() - 1].to_vec(), imgs.to_vec(), labels.to_vec()).err().unwrap()).contains("truncated"));
    let (big, big_labels) = idx(21);
    assert!(e.load_data(imgs.to_vec(), big_labels.to_vec(), big.to_vec(), big_labels.to_vec()).is_err());
    // Wrong input sizes and labels.
    assert!(message(e.predict(pixels(15)).err().unwrap()).contains("15"));
    assert!(e.predict(JsValue::from_str("a digit")).is_err());
    assert!(message(e.teach(pixels(16), 9).err().unwrap()).contains("out of range"));
    assert!(e.teach(pixels(32), 1).is_err(), "teach takes one image");
    let nan = Float32Array::from(&[f32::NAN; 16][..]);
    assert!(e.predict(nan.into()).is_err());
    // Settings that need a reset, and unknown layers.
    assert!(message(e.set_config(obj(&[("layers", js_sys::Array::of3(&JsValue::from(16), &JsValue::from(13), &JsValue::from(4)).into())])).err().unwrap()).contains("layers"));
    assert!(message(e.set_config(obj(&[("seed", JsValue::from(9))])).err().unwrap()).contains("seed"));
    assert!(message(e.set_config(obj(&[("momentum", JsValue::from(1.0))])).err().unwrap()).contains("momentum"));
    assert!(e.event_rate(7).is_err());
    assert!(e.layer_size(2).is_err());
    assert!(e.test_image(0).is_err());
    // Bad snapshots.
    assert!(message(e.import_snapshot(b"not a snapshot").err().unwrap()).contains("snapshot"));
    let mut snap = e.export_snapshot().to_vec();
    let last = snap.len() - 10;
    snap[last] ^= 1;
    assert!(message(e.import_snapshot(&snap).err().unwrap()).contains("checksum"));

    // Nothing above changed the network.
    assert_eq!(e.predict(pixels(16)).unwrap().to_vec(), baseline);

    // And everything still works.
    let counts = e.load_data(imgs.to_vec(), labels.to_vec(), imgs.to_vec(), labels.to_vec()).unwrap();
    assert_eq!(Reflect::get(&counts, &"train".into()).unwrap().as_f64(), Some(20.0));
    e.train(10, true).unwrap();
    e.evaluate(Some(5)).unwrap();
    e.set_config(obj(&[("lr", JsValue::from(0.05)), ("rule", JsValue::from_str("fa"))])).unwrap();
    e.train(2, false).unwrap();
    assert!(e.teach(pixels(16), 2).is_ok());
    assert_eq!(e.event_rate(0).unwrap().length(), 12, "one row after teach");
}

#[wasm_bindgen_test]
fn snapshot_round_trip_through_the_js_api() {
    let mut a = small_engine();
    let (imgs, labels) = idx(40);
    a.load_data(imgs.to_vec(), labels.to_vec(), imgs.to_vec(), labels.to_vec()).unwrap();
    a.train(7, false).unwrap();
    let bytes = a.export_snapshot().to_vec();
    let mut b = small_engine();
    b.load_data(imgs.to_vec(), labels.to_vec(), imgs.to_vec(), labels.to_vec()).unwrap();
    b.import_snapshot(&bytes).unwrap();
    assert_eq!(b.export_snapshot().to_vec(), bytes, "byte-identical re-export");
    assert_eq!(a.predict(pixels(32)).unwrap().to_vec(), b.predict(pixels(32)).unwrap().to_vec());
    let json = a.export_snapshot_json();
    b.import_snapshot(json.as_bytes()).unwrap();
    assert_eq!(b.export_snapshot().to_vec(), bytes);
}

#[wasm_bindgen_test]
fn random_seeds_are_valid_and_differ() {
    let a = burstccn::wasm::random_seed().unwrap();
    let b = burstccn::wasm::random_seed().unwrap();
    assert_ne!(a, b);
    for s in [a, b] {
        assert!(s >= 0.0 && s <= burstccn::model::MAX_SEED as f64 && s.fract() == 0.0);
        Engine::new(obj(&[("seed", JsValue::from(s))])).unwrap();
    }
}

#[wasm_bindgen_test]
fn views_look_into_the_activity_buffers() {
    let mut e = small_engine();
    e.present(pixels(32), 3).unwrap();
    let (rate, prob, burst) = (e.event_rate(0).unwrap().to_vec(), e.burst_prob(0).unwrap().to_vec(), e.burst_rate(0).unwrap().to_vec());
    assert_eq!(rate.len(), 2 * 12);
    for i in 0..rate.len() {
        assert!((burst[i] - prob[i] * rate[i]).abs() < 1e-6, "b = p·e");
    }
    assert_eq!(e.apical(1).unwrap().length(), 0, "the output layer has no apical potential");
    assert_eq!(e.apical(0).unwrap().length(), 24);
    let out = e.output().to_vec();
    assert_eq!(out, e.event_rate(1).unwrap().to_vec());
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

fn num(v: &JsValue, key: &str) -> f64 {
    get(v, key).as_f64().unwrap_or_else(|| panic!("{key} is not a number"))
}

#[wasm_bindgen_test]
fn a_training_set_that_arrives_in_pieces_trains_as_it_grows() {
    let mut e = small_engine();
    let (imgs, labels) = idx(40);
    let (header, body) = imgs.split_at(16);
    let h = e.begin_training_set(header, labels.clone()).unwrap();
    assert_eq!((num(&h, "count"), num(&h, "rows"), num(&h, "cols")), (40.0, 4.0, 4.0));
    assert!(message(e.train(1, false).err().unwrap()).contains("no training images have arrived yet"));

    // Ten images in two pieces; training on them revisits (more samples than images).
    assert_eq!(e.append_training_images(&body[..3 * 16]).unwrap(), 3);
    assert_eq!(e.append_training_images(&body[3 * 16..10 * 16]).unwrap(), 10);
    let r = e.train(5, true).unwrap();
    assert_eq!(num(&r, "samples"), 20.0);
    assert_eq!(num(&r, "epochs_done"), 0.0);
    assert_eq!(num(&r, "epoch"), 10.0 / 40.0, "epoch 1 counts distinct images seen of the full set");
    let s = e.training_status().unwrap();
    assert_eq!((num(&s, "arrived"), num(&s, "count")), (10.0, 40.0));
    assert_eq!(get(&s, "complete").as_bool(), Some(false));
    assert_eq!(get(&s, "first_pass").as_bool(), Some(true));
    assert_eq!(num(&s, "revisits"), 10.0);
    assert!(e.train_image(9).is_ok());
    assert!(message(e.train_image(10).err().unwrap()).contains("has not arrived"));

    // Bad pieces change nothing.
    assert!(message(e.append_training_images(&body[10 * 16..10 * 16 + 5]).err().unwrap()).contains("not whole images"));
    let too_many = [body[10 * 16..].to_vec(), vec![0; 16]].concat();
    assert!(message(e.append_training_images(&too_many).err().unwrap()).contains("more data than its header promises"));
    assert_eq!(num(&e.training_status().unwrap(), "arrived"), 10.0);

    // The rest arrives: the pass finishes on unseen images only (no revisits), and a train
    // call stops exactly at the end of epoch 1.
    assert_eq!(e.append_training_images(&body[10 * 16..]).unwrap(), 40);
    let s = e.training_status().unwrap();
    assert_eq!(get(&s, "complete").as_bool(), Some(true));
    assert_eq!(num(&s, "revisits"), 10.0, "only while the set was short");
    let r = e.train(100, false).unwrap();
    assert_eq!(num(&r, "samples"), 30.0, "the 30 images not yet seen, then the epoch ends");
    assert_eq!((num(&r, "epochs_done"), num(&r, "epoch")), (1.0, 1.0));
    assert_eq!(get(&e.training_status().unwrap(), "first_pass").as_bool(), Some(false));
    // Epoch 2 is an ordinary pass over all 40 images (batch 4: 10 steps).
    let r = e.train(10, false).unwrap();
    assert_eq!((num(&r, "epochs_done"), num(&r, "epoch")), (2.0, 2.0));
    assert_eq!(e.train_label(39).unwrap(), labels[8 + 39]);
}

#[wasm_bindgen_test]
fn the_arriving_set_is_held_once_in_memory_reserved_up_front() {
    // MNIST's size: 60,000 images of 784 pixels = 47 MB, appended in 64 kB pieces. Without the
    // reservation the buffer would double as it fills (tens of MB more wasm memory).
    let layers = js_sys::Array::of3(&JsValue::from(784), &JsValue::from(8), &JsValue::from(10));
    let mut e = Engine::new(obj(&[("layers", layers.into())])).unwrap();
    let n = 60_000usize;
    let mut header = vec![0, 0, 8, 3];
    for d in [n as u32, 28, 28] {
        header.extend_from_slice(&d.to_be_bytes());
    }
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&(n as u32).to_be_bytes());
    labels.extend((0..n).map(|i| (i % 10) as u8));
    let before = Engine::memory_bytes();
    e.begin_training_set(&header, labels).unwrap();
    let reserved = Engine::memory_bytes();
    assert!(reserved - before >= (n * 784) as f64, "the whole set is reserved at the start");
    let piece: Vec<u8> = (0..81 * 784).map(|i| (i % 251) as u8).collect();
    let mut arrived = 0;
    while arrived < n {
        let k = (n - arrived).min(81);
        arrived = e.append_training_images(&piece[..k * 784]).unwrap() as usize;
        if arrived == 3000 {
            e.train(2, false).unwrap(); // training while it grows allocates only batch buffers
        }
    }
    e.train(2, false).unwrap();
    let grown = Engine::memory_bytes() - reserved;
    assert!(grown < 2.0 * 1024.0 * 1024.0, "wasm memory grew {grown} bytes while the reserved set filled");
}

#[wasm_bindgen_test]
fn the_arriving_set_checks_its_inputs_and_reset_or_import_restart_the_first_pass() {
    let mut e = small_engine();
    let (imgs, labels) = idx(24);
    // Foreign or mismatched files: named, and nothing changes.
    assert!(message(e.append_training_images(&imgs[16..32]).err().unwrap()).contains("call beginTrainingSet first"));
    assert!(message(e.begin_training_set(b"PK\x03\x04 a zip file", labels.clone()).err().unwrap()).contains("wrong magic number"));
    assert!(message(e.begin_training_set(&imgs[..10], labels.clone()).err().unwrap()).contains("truncated inside its header"));
    let mut wide = imgs[..16].to_vec();
    wide[8..16].copy_from_slice(&[0, 0, 0, 5, 0, 0, 0, 5]);
    assert!(message(e.begin_training_set(&wide, labels.clone()).err().unwrap()).contains("25 pixels but the network takes 16 inputs"));
    assert!(message(e.begin_training_set(&imgs[..16], labels[..20].to_vec()).err().unwrap()).contains("truncated"));
    let (_, other_labels) = idx(23);
    assert!(message(e.begin_training_set(&imgs[..16], other_labels).err().unwrap()).contains("24 images but the labels file has 23"));
    assert_eq!(num(&e.training_status().unwrap(), "count"), 0.0);

    e.begin_training_set(&imgs[..16], labels.clone()).unwrap();
    e.append_training_images(&imgs[16..16 + 12 * 16]).unwrap();
    e.train(2, false).unwrap();
    let weights = e.export_snapshot().to_vec();
    // Reset while the set arrives: a fresh network, epoch 1 starts again on what is in.
    e.reset(JsValue::UNDEFINED).unwrap();
    let p = e.progress().unwrap();
    assert_eq!((num(&p, "epoch"), num(&p, "total_samples")), (0.0, 0.0));
    assert_eq!(get(&e.training_status().unwrap(), "first_pass").as_bool(), Some(true));
    e.train(1, false).unwrap();
    assert_eq!(num(&e.progress().unwrap(), "epoch"), 4.0 / 24.0);
    // A snapshot loaded mid-stream also starts the pass afresh, with its own weights.
    e.import_snapshot(&weights).unwrap();
    assert_eq!(e.export_snapshot().to_vec(), weights);
    assert_eq!(num(&e.progress().unwrap(), "epoch"), 0.0);
    assert!(message(e.reset(obj(&[("layers", js_sys::Array::of2(&JsValue::from(9), &JsValue::from(4)).into())])).err().unwrap()).contains("16 pixels"));

    // The test set may come later; a bad one is refused and the good one kept.
    assert!(e.evaluate(None).is_err());
    assert!(message(e.load_test_set(b"hello".to_vec(), labels.clone()).err().unwrap()).contains("magic"));
    assert_eq!(e.load_test_set(imgs.clone(), labels.clone()).unwrap(), 24);
    assert!(e.load_test_set(imgs[..100].to_vec(), labels.clone()).is_err());
    assert_eq!(num(&e.evaluate(None).unwrap(), "count"), 24.0);

    // Complete, then reset: ordinary shuffled epochs (the same seed, the same order).
    e.append_training_images(&imgs[16 + 12 * 16..]).unwrap();
    e.reset(JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&e.training_status().unwrap(), "first_pass").as_bool(), Some(false));
    let r = e.train(6, false).unwrap();
    assert_eq!((num(&r, "epochs_done"), num(&r, "epoch")), (1.0, 1.0));
    // loadData replaces an arriving set outright.
    e.begin_training_set(&imgs[..16], labels.clone()).unwrap();
    e.load_data(imgs.clone(), labels.clone(), imgs.clone(), labels.clone()).unwrap();
    let s = e.training_status().unwrap();
    assert_eq!((get(&s, "complete").as_bool(), get(&s, "first_pass").as_bool()), (Some(true), Some(false)));
}
