//! The authors' harness options: their form of weight decay in the model core, and (through
//! the command line, on the real MNIST files) the validation split, early stopping and
//! training without a teacher.
#![cfg(not(target_arch = "wasm32"))]

use burstccn::model::{Config, Network, Rule, WeightDecayForm};
use burstccn::rng::Random;

fn batch(seed: u64, rows: usize, n: usize) -> (Vec<f32>, Vec<u8>) {
    let mut rng = Random::new(seed, 3);
    let x = (0..rows * n).map(|_| rng.uniform()).collect();
    let labels = (0..rows).map(|_| rng.below(10) as u8).collect();
    (x, labels)
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
            let mut probe = net.clone();
            probe.load_inputs(&x).unwrap();
            let updates = probe.proposed_updates(&labels, Rule::Burstccn).unwrap();
            let before: Vec<(Vec<f32>, Vec<f32>)> = net.layers().iter().map(|l| (l.weight.clone(), l.bias.clone())).collect();
            net.load_inputs(&x).unwrap();
            net.train_step(&labels, false).unwrap();
            for k in 0..depth {
                let (dw, db) = &updates[k];
                let (vw, vb) = &mut vel[k];
                let mut want = |old: &[f32], d: &[f32], v: &mut [f64]| -> Vec<f64> {
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
