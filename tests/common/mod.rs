//! Shared by the native and the wasm tests: one deterministic training run whose result is
//! kept in tests/fixtures/step.json, so wasm can be compared with native value by value.
#![allow(dead_code)]

use burstccn::model::{Config, Network};
use burstccn::rng::Random;

/// The fixture's network: small enough to commit, deep enough to exercise every kernel
/// (odd widths, Q learning on).
pub fn fixture_config() -> Config {
    Config { layers: vec![100, 67, 33, 10], batch_size: 16, seed: 7, lr_q: 0.01, ..Config::default() }
}

/// The conv fixture's network: 3×12×12 → conv 8 3×3 s2 → conv 12 3×3 s1 → 20 → 10, with
/// Q learning on in the dense hidden layer and odd window lengths (27, 72).
pub fn conv_fixture_config() -> Config {
    let base = Config { batch_size: 8, seed: 7, lr: 0.2, lr_q: 0.01, y_scale: 1.0, ..Config::default() };
    base.with_stack("c8k3s2,c12k3s1,f20", [3, 12, 12], 10).expect("a valid conv net")
}

/// Three training steps on seeded byte images; returns the network after them.
pub fn fixture_run(kernels: &'static dyn burstccn::kernels::Kernels) -> Network {
    run_config(fixture_config(), kernels)
}

/// The same three steps with the conv fixture's network.
pub fn conv_fixture_run(kernels: &'static dyn burstccn::kernels::Kernels) -> Network {
    run_config(conv_fixture_config(), kernels)
}

fn run_config(cfg: Config, kernels: &'static dyn burstccn::kernels::Kernels) -> Network {
    let mut net = Network::new(cfg.clone()).unwrap();
    net.set_kernels(kernels);
    let mut rng = Random::new(2024, 0);
    for _ in 0..3 {
        let pixels: Vec<u8> = (0..cfg.batch_size * cfg.input_len()).map(|_| rng.below(256) as u8).collect();
        let labels: Vec<u8> = (0..cfg.batch_size).map(|_| rng.below(10) as u8).collect();
        net.load_images_u8(&pixels).unwrap();
        net.train_step(&labels, false).unwrap();
    }
    net
}

/// Largest absolute difference between two networks' parameters (W, b, Y, Q).
pub fn max_difference(a: &Network, b: &Network) -> f32 {
    let mut worst = 0.0f32;
    let mut cmp = |x: &[f32], y: &[f32]| {
        assert_eq!(x.len(), y.len());
        for (p, q) in x.iter().zip(y) {
            worst = worst.max((p - q).abs());
        }
    };
    for (x, y) in a.layers().iter().zip(b.layers()) {
        cmp(&x.weight, &y.weight);
        cmp(&x.bias, &y.bias);
    }
    for (x, y) in a.feedback().iter().zip(b.feedback()) {
        cmp(&x.y, &y.y);
        cmp(&x.q, &y.q);
    }
    worst
}

pub const FIXTURE: &str = include_str!("../fixtures/step.json");
pub const CONV_FIXTURE: &str = include_str!("../fixtures/conv-step.json");
