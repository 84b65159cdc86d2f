//! The model against hand-computed values, finite differences, an independent ndarray
//! implementation of SPEC.md, and the paper's theory.
#![cfg(not(target_arch = "wasm32"))]

use burstccn::kernels;
use burstccn::model::{angle_degrees, Config, FeedbackMode, Network, Rule};
use burstccn::rng::Random;
use burstccn::Error;
use ndarray::{Array1, Array2, Axis};

fn assert_close(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((f64::from(g) - w).abs() <= tol, "{what}[{i}] = {g}, expected {w}");
    }
}

fn small_config(layers: &[usize]) -> Config {
    Config { layers: layers.to_vec(), batch_size: 8, seed: 11, ..Config::default() }
}

fn random_inputs(rng: &mut Random, rows: usize, n: usize) -> Vec<f32> {
    (0..rows * n).map(|_| rng.uniform()).collect()
}

fn random_labels(rng: &mut Random, rows: usize, classes: usize) -> Vec<u8> {
    (0..rows).map(|_| rng.below(classes as u32) as u8).collect()
}

/// A 2-3-2 network, one sample, every quantity checked against values computed by hand
/// (in double precision, outside this code base, from SPEC.md's equations).
#[test]
fn hand_computed_two_three_two_step() {
    let cfg = Config {
        layers: vec![2, 3, 2],
        lr: 0.1,
        lr_q: 0.05,
        p_baseline: 0.5,
        y_mode: FeedbackMode::Random,
        q_mode: FeedbackMode::Random,
        batch_size: 1,
        ..Config::default()
    };
    let mut net = Network::new(cfg).unwrap();
    net.set_kernels(kernels::scalar());
    net.set_weight(0, &[0.1, -0.2, 0.4, 0.3, -0.5, 0.6], &[0.0, 0.1, -0.1]).unwrap();
    net.set_weight(1, &[0.7, -0.3, 0.2, -0.4, 0.5, 0.9], &[0.05, -0.05]).unwrap();
    net.set_feedback(0, &[0.3, -0.6, 0.1, 0.2, 0.4, -0.5], &[0.1, -0.2, 0.3, -0.1, 0.25, -0.15]).unwrap();
    net.load_inputs(&[0.5, 1.0]).unwrap();
    net.present(&[1]).unwrap();
    let tol = 2e-7;
    assert_close("e1", net.event_rate(0), &[0.462570155, 0.645656306, 0.562176501], tol);
    assert_close("e2", net.event_rate(1), &[0.572617245, 0.644227156], tol);
    assert_close("p2", net.burst_prob(1), &[0.377636632, 0.563287158], tol);
    assert_close("b2", net.burst_rate(1), &[0.216241248, 0.362884884], tol);
    assert_close("u1", net.apical(0), &[0.144610342, -0.031124135, -0.234969417], tol);
    assert_close("p1", net.burst_prob(0), &[0.577098008, 0.488973147, 0.398552377], tol);
    assert_close("b1", net.burst_rate(0), &[0.266948315, 0.315708596, 0.224056781], tol);
    assert!(net.apical(1).is_empty(), "the output layer has no apical compartment");

    net.train_step(&[1], false).unwrap();
    let l = net.layers();
    assert_close("W1 after", &l[0].weight, &[0.101783162, -0.196433676, 0.399644022, 0.299288044, -0.502851573, 0.594296853], tol);
    assert_close("b1 after", &l[0].bias, &[0.003566324, 0.099288044, -0.105703147], tol);
    assert_close("W2 after", &l[1].weight, &[0.696758892, -0.304523944, 0.196060977, -0.398114041, 0.502632425, 0.902292067], tol);
    assert_close("b2 after", &l[1].bias, &[0.042993263, -0.045922869], tol);
    assert_close("Q after", &net.feedback()[0].q, &[0.104140319, -0.200891111, 0.293272623, -0.095341905, 0.248997449, -0.157568684], tol);
    assert_close("Y unchanged", &net.feedback()[0].y, &[0.3, -0.6, 0.1, 0.2, 0.4, -0.5], 1e-7);
}

/// The backprop gradient against central finite differences of L = (1/B)·Σ ½‖e − t‖².
#[test]
fn backprop_gradient_matches_finite_differences() {
    let cfg = Config { layers: vec![6, 5, 4, 3], batch_size: 4, seed: 3, ..Config::default() };
    let mut net = Network::new(cfg).unwrap();
    net.set_kernels(kernels::scalar());
    let mut rng = Random::new(1, 1);
    let x = random_inputs(&mut rng, 4, 6);
    let labels = [0u8, 2, 1, 2];
    net.load_inputs(&x).unwrap();
    let grads = net.backprop_gradient(&labels).unwrap();
    let h = 1e-2f32;
    let mut checked = 0;
    for (k, (grad_w, grad_b)) in grads.iter().enumerate() {
        let (w0, b0) = (net.layers()[k].weight.clone(), net.layers()[k].bias.clone());
        for i in 0..w0.len() + b0.len() {
            let perturbed = |d: f32| {
                let (mut w, mut b) = (w0.clone(), b0.clone());
                if i < w.len() { w[i] += d } else { b[i - w0.len()] += d }
                (w, b)
            };
            let mut loss = |d: f32| {
                let (w, b) = perturbed(d);
                net.set_weight(k, &w, &b).unwrap();
                net.half_squared_error(&labels).unwrap()
            };
            let numeric = (loss(h) - loss(-h)) / (2.0 * f64::from(h));
            let analytic = if i < w0.len() { grad_w[i] } else { grad_b[i - w0.len()] };
            let err = (numeric - f64::from(analytic)).abs();
            assert!(err <= 2e-3 * numeric.abs().max(1e-3), "layer {k} parameter {i}: analytic {analytic}, numeric {numeric}");
            checked += 1;
        }
        net.set_weight(k, &w0, &b0).unwrap();
    }
    assert_eq!(checked, 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3);
}

/// SPEC.md's theory: with Y = W_{l+1}, Q = p_b·Y and a tiny output error, BurstCCN's ΔW is
/// p_b × backprop's −∇W in every layer (angle under 1°, scale within 1 %).
#[test]
fn burstccn_equals_scaled_backprop_with_symmetric_feedback() {
    let cfg = Config {
        layers: vec![20, 30, 25, 15, 10],
        y_mode: FeedbackMode::Tied,
        y_scale: 1.0,
        q_mode: FeedbackMode::Tied,
        lr: 0.3,
        batch_size: 16,
        seed: 5,
        ..Config::default()
    };
    let mut net = Network::new(cfg).unwrap();
    net.set_kernels(kernels::scalar());
    // Make the output close to its target for every sample (all labelled 3): a tiny error.
    let last = net.layers().len() - 1;
    // (Small, not minute: p − p_b must stay well above f32 resolution around 0.5.)
    let w: Vec<f32> = net.layers()[last].weight.iter().map(|w| 0.2 * w).collect();
    let b: Vec<f32> = (0..10).map(|j| if j == 3 { 3.0 } else { -3.0 }).collect();
    net.set_weight(last, &w, &b).unwrap();
    let mut rng = Random::new(2, 2);
    net.load_inputs(&random_inputs(&mut rng, 16, 20)).unwrap();
    let labels = [3u8; 16];
    let burst = net.proposed_updates(&labels, Rule::Burstccn).unwrap();
    let grads = net.backprop_gradient(&labels).unwrap();
    let pb = 0.5f64;
    for (k, ((dw, _), (gw, _))) in burst.iter().zip(&grads).enumerate() {
        let (mut dot, mut n1, mut n2) = (0.0, 0.0, 0.0);
        for (&a, &g) in dw.iter().zip(gw) {
            let b = -0.3 * pb * f64::from(g); // η · p_b · (−∇W)
            dot += f64::from(a) * b;
            n1 += f64::from(a) * f64::from(a);
            n2 += b * b;
        }
        let angle = angle_degrees(dot, n1, n2);
        let scale = (n1 / n2).sqrt();
        assert!(n1 > 0.0, "layer {k}: no update at all");
        assert!(angle < 1.0, "layer {k}: angle {angle}°");
        assert!((scale - 1.0).abs() < 0.01, "layer {k}: scale {scale}");
    }
    // The diagnostics report the same alignment.
    let d = net.diagnose(&labels).unwrap();
    for (k, l) in d.layers.iter().enumerate() {
        assert!(l.angle_bp < 1.0, "diagnostics layer {k}: {}", l.angle_bp);
        if k + 1 < d.layers.len() {
            assert!(l.angle_yq < 0.05, "tied Q is p_b·Y: {}", l.angle_yq);
        } else {
            assert!(l.angle_yq.is_nan(), "the output layer has no feedback");
        }
    }
}

/// With random Y, BurstCCN follows feedback alignment rather than backprop at the start.
#[test]
fn random_feedback_follows_feedback_alignment() {
    let cfg = Config { layers: vec![20, 30, 30, 10], q_mode: FeedbackMode::Tied, batch_size: 16, seed: 9, ..Config::default() };
    let mut net = Network::new(cfg).unwrap();
    let mut rng = Random::new(4, 4);
    net.load_inputs(&random_inputs(&mut rng, 16, 20)).unwrap();
    let labels = random_labels(&mut rng, 16, 10);
    let d = net.diagnose(&labels).unwrap();
    // Output layer: identical signals. Hidden layers: far from backprop (random Y), and much
    // closer to FA than to backprop (Q = p_b·Y cancels the baseline exactly).
    assert!(d.layers[2].angle_bp < 1e-2 && d.layers[2].angle_fa < 1e-2, "{:?}", d.layers[2]);
    for l in &d.layers[..2] {
        assert!(l.angle_bp > 45.0, "{l:?}");
        assert!(l.angle_fa < l.angle_bp / 2.0, "{l:?}");
    }
}

/// Q learning without a teacher drives the apical potentials to zero and Q toward p_b·Y.
#[test]
fn q_learning_without_teacher_silences_apical_potentials() {
    let cfg = Config {
        layers: vec![30, 40, 40, 10],
        lr: 0.0,
        lr_q: 0.1,
        q_mode: FeedbackMode::Random,
        batch_size: 32,
        seed: 21,
        ..Config::default()
    };
    let mut net = Network::new(cfg).unwrap();
    let mut rng = Random::new(8, 8);
    let inputs: Vec<Vec<f32>> = (0..20).map(|_| random_inputs(&mut rng, 32, 30)).collect();
    net.load_inputs(&inputs[0]).unwrap();
    let measure = |net: &mut Network| {
        let mut apical = 0.0;
        for x in &inputs[..4] {
            net.load_inputs(x).unwrap();
            net.predict();
            let u: Vec<f32> = (0..2).flat_map(|k| net.apical(k).to_vec()).collect();
            apical += u.iter().map(|v| f64::from(v.abs())).sum::<f64>() / u.len() as f64;
        }
        let yq: Vec<f64> = net
            .feedback()
            .iter()
            .map(|f| {
                let (d, a, b) = f.y.iter().zip(&f.q).fold((0.0, 0.0, 0.0), |(d, a, b), (&y, &q)| {
                    (d + f64::from(y * q), a + f64::from(y * y), b + f64::from(q * q))
                });
                f64::from(angle_degrees(d, a, b))
            })
            .collect();
        (apical / 4.0, yq)
    };
    let (apical0, yq0) = measure(&mut net);
    let mut checkpoints = vec![yq0.clone()];
    let mut apical1 = apical0;
    for step in 0..3000 {
        net.load_inputs(&inputs[step % inputs.len()]).unwrap();
        net.train_step_without_teacher(false).unwrap();
        if step % 1000 == 999 {
            let (a, yq) = measure(&mut net);
            apical1 = a;
            checkpoints.push(yq);
        }
    }
    assert!(apical1 * 10.0 <= apical0, "mean |apical| {apical0} → {apical1}");
    for layer in 0..yq0.len() {
        let angles: Vec<f64> = checkpoints.iter().map(|c| c[layer]).collect();
        assert!(angles[0] > 80.0, "random Q starts unaligned: {angles:?}");
        assert!(angles.windows(2).all(|w| w[1] < w[0]), "layer {layer}: Y–Q angle must fall steadily: {angles:?}");
        assert!(angles[0] - angles[3] > 15.0, "layer {layer}: Y–Q angle {angles:?}");
    }
    // W never moved (lr = 0).
    let fresh = Network::new(net.config().clone()).unwrap();
    assert_eq!(fresh.layers()[0].weight, net.layers()[0].weight);
}

/// An independent implementation of one BurstCCN step in ndarray (f64), straight from
/// SPEC.md, against the engine on a random network with Q learning, momentum and decay.
#[test]
fn one_step_matches_an_independent_ndarray_implementation() {
    let cfg = Config {
        layers: vec![50, 40, 30, 10],
        lr: 0.3,
        lr_q: 0.01,
        lr_y: 0.002,
        weight_decay: 0.01,
        batch_size: 12,
        seed: 17,
        ..Config::default()
    };
    let mut net = Network::new(cfg.clone()).unwrap();
    let mut rng = Random::new(6, 6);
    let x = random_inputs(&mut rng, 12, 50);
    let labels = random_labels(&mut rng, 12, 10);
    let to2 = |v: &[f32], r: usize, c: usize| Array2::from_shape_vec((r, c), v.iter().map(|&a| f64::from(a)).collect()).unwrap();
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let ws: Vec<Array2<f64>> = net.layers().iter().map(|l| to2(&l.weight, l.n_out, l.n_in)).collect();
    let bs: Vec<Array1<f64>> = net.layers().iter().map(|l| l.bias.iter().map(|&b| f64::from(b)).collect()).collect();
    let ys: Vec<Array2<f64>> = net.feedback().iter().zip(&cfg.layers[1..]).zip(&cfg.layers[2..]).map(|((f, &n), &m)| to2(&f.y, m, n)).collect();
    let qs: Vec<Array2<f64>> = net.feedback().iter().zip(&cfg.layers[1..]).zip(&cfg.layers[2..]).map(|((f, &n), &m)| to2(&f.q, m, n)).collect();

    // Reference step.
    let b = 12.0;
    let pb = 0.5;
    let mut e = vec![to2(&x, 12, 50)];
    for (w, bias) in ws.iter().zip(&bs) {
        let a = e.last().unwrap().dot(&w.t()) + bias;
        e.push(a.mapv(sig));
    }
    let mut t = Array2::<f64>::zeros((12, 10));
    for (r, &l) in labels.iter().enumerate() {
        t[[r, l as usize]] = 1.0;
    }
    let depth = ws.len();
    let mut p = vec![Array2::<f64>::zeros((0, 0)); depth + 1];
    let mut u = vec![Array2::<f64>::zeros((0, 0)); depth];
    let el = &e[depth];
    p[depth] = ((&t - el) * (1.0 - el) + 1.0) * pb;
    for k in (1..depth).rev() {
        let burst_above = &p[k + 1] * &e[k + 1];
        u[k] = burst_above.dot(&ys[k - 1]) - e[k + 1].dot(&qs[k - 1]);
        p[k] = (&u[k] * 4.0 * (1.0 - &e[k])).mapv(sig);
    }
    let lr = 0.3;
    let decay = 1.0 - lr * 0.01;
    let mut new_w = Vec::new();
    let mut new_b = Vec::new();
    for k in 1..=depth {
        let delta = (&p[k] - pb) * &e[k];
        new_w.push(&ws[k - 1] * decay + delta.t().dot(&e[k - 1]) * (lr / b));
        new_b.push(&bs[k - 1] * decay + delta.mean_axis(Axis(0)).unwrap() * lr);
    }
    let new_q: Vec<Array2<f64>> = (1..depth).map(|k| &qs[k - 1] + e[k + 1].t().dot(&u[k]) * (0.01 / b)).collect();
    let new_y: Vec<Array2<f64>> = (1..depth).map(|k| &ys[k - 1] - e[k + 1].t().dot(&u[k]) * (0.002 / b)).collect();

    net.load_inputs(&x).unwrap();
    net.train_step(&labels, false).unwrap();
    let flat = |a: &Array2<f64>| a.iter().copied().collect::<Vec<f64>>();
    for k in 0..depth {
        assert_close(&format!("W{k}"), &net.layers()[k].weight, &flat(&new_w[k]), 2e-6);
        assert_close(&format!("b{k}"), &net.layers()[k].bias, &new_b[k].to_vec(), 2e-6);
    }
    for k in 0..depth - 1 {
        assert_close(&format!("Q{k}"), &net.feedback()[k].q, &flat(&new_q[k]), 2e-6);
        assert_close(&format!("Y{k}"), &net.feedback()[k].y, &flat(&new_y[k]), 2e-6);
    }
}

#[test]
fn same_seed_same_result_and_different_seed_differs() {
    let run = |seed: u64| {
        let mut net = Network::new(Config { seed, ..small_config(&[16, 12, 8, 4]) }).unwrap();
        let mut rng = Random::new(3, 0);
        for _ in 0..20 {
            net.load_inputs(&random_inputs(&mut rng, 8, 16)).unwrap();
            net.train_step(&random_labels(&mut rng, 8, 4), false).unwrap();
        }
        net.layers().iter().flat_map(|l| l.weight.clone()).collect::<Vec<f32>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn kernels_give_the_same_training_trajectory() {
    // A few steps with the fast kernels stay within float rounding of the scalar reference.
    let train = |k: &'static dyn kernels::Kernels| {
        let mut net = Network::new(small_config(&[64, 48, 48, 10])).unwrap();
        net.set_kernels(k);
        let mut rng = Random::new(3, 0);
        for _ in 0..10 {
            net.load_inputs(&random_inputs(&mut rng, 8, 64)).unwrap();
            net.train_step(&random_labels(&mut rng, 8, 10), false).unwrap();
        }
        net.layers().iter().flat_map(|l| l.weight.clone()).collect::<Vec<f32>>()
    };
    let reference = train(kernels::scalar());
    let fast = train(kernels::best());
    let worst = reference.iter().zip(&fast).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "max difference {worst}");
}

#[test]
fn divergence_stops_before_the_update_and_keeps_the_weights() {
    let mut net = Network::new(Config { lr: 100.0, ..small_config(&[8, 6, 4]) }).unwrap();
    let mut rng = Random::new(3, 0);
    let x = random_inputs(&mut rng, 8, 8);
    net.load_inputs(&x).unwrap();
    // Corrupt one weight (as an overflowing update would): the next step must refuse.
    let mut w = net.layers()[0].weight.clone();
    w[3] = f32::NAN;
    let b = net.layers()[0].bias.clone();
    net.set_weight(0, &w, &b).unwrap();
    let before: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight.clone()).collect();
    let q_before = net.feedback()[0].q.clone();
    let err = net.train_step(&[0, 1, 2, 3, 0, 1, 2, 3], false).unwrap_err();
    assert!(matches!(err, Error::Diverged(_)), "{err:?}");
    assert!(err.to_string().contains("last good"), "{err}");
    let after: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight.clone()).collect();
    for (a, b) in before.iter().flatten().zip(after.iter().flatten()) {
        assert!(a.to_bits() == b.to_bits(), "a weight changed");
    }
    assert_eq!(q_before, net.feedback()[0].q);
    assert_eq!(net.progress().0, 0, "no step was counted");
}

#[test]
fn bad_configurations_name_the_field() {
    let cases: Vec<(Config, &str)> = vec![
        (Config { layers: vec![784], ..Config::default() }, "layers"),
        (Config { layers: vec![784, 0, 10], ..Config::default() }, "layers"),
        (Config { layers: vec![784, 1 << 20, 10], ..Config::default() }, "layers"),
        (Config { layers: vec![60000, 60000, 60000, 10], ..Config::default() }, "layers"),
        (Config { lr: f32::NAN, ..Config::default() }, "lr"),
        (Config { lr: -1.0, ..Config::default() }, "lr"),
        (Config { p_baseline: 1.0, ..Config::default() }, "p_baseline"),
        (Config { p_baseline: 0.0, ..Config::default() }, "p_baseline"),
        (Config { y_scale: f32::INFINITY, ..Config::default() }, "y_scale"),
        (Config { lr_q: -0.1, ..Config::default() }, "lr_q"),
        (Config { momentum: 1.0, ..Config::default() }, "momentum"),
        (Config { batch_size: 0, ..Config::default() }, "batch_size"),
        (Config { batch_size: 100_000, ..Config::default() }, "batch_size"),
        (Config { seed: u64::MAX, ..Config::default() }, "seed"),
    ];
    for (cfg, field) in cases {
        match Network::new(cfg.clone()) {
            Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{cfg:?}"),
            other => panic!("{cfg:?} gave {other:?}"),
        }
    }
}

#[test]
fn bad_api_inputs_are_errors() {
    let mut net = Network::new(small_config(&[4, 3, 2])).unwrap();
    assert!(matches!(net.load_inputs(&[0.0; 5]), Err(Error::Shape(_))));
    assert!(matches!(net.load_inputs(&[]), Err(Error::Shape(_))));
    assert!(matches!(net.load_inputs(&[0.0, 1.0, f32::NAN, 0.0]), Err(Error::Shape(_))));
    assert!(matches!(net.load_images_u8(&[0; 7]), Err(Error::Shape(_))));
    net.load_inputs(&[0.0; 8]).unwrap();
    assert!(matches!(net.train_step(&[0], false), Err(Error::Shape(_))), "label count");
    assert!(matches!(net.train_step(&[0, 2], false), Err(Error::Shape(_))), "label range");
    assert!(net.set_config(Config { layers: vec![4, 5, 2], ..net.config().clone() }).is_err());
    // Changing rates keeps the weights.
    let w = net.layers()[0].weight.clone();
    net.set_config(Config { lr: 0.01, rule: Rule::Fa, momentum: 0.9, ..net.config().clone() }).unwrap();
    assert_eq!(w, net.layers()[0].weight);
    net.train_step(&[0, 1], false).unwrap();
}

#[test]
fn every_rule_learns_a_small_problem() {
    // Two Gaussian blobs per class in 10-D; all three rules must get the training error down.
    let mut rng = Random::new(12, 0);
    let centres: Vec<Vec<f32>> = (0..4).map(|_| random_inputs(&mut rng, 1, 10)).collect();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..256 {
        let c = i % 4;
        for v in &centres[c] {
            x.push((v + 0.1 * rng.normal()).clamp(0.0, 1.0));
        }
        y.push(c as u8);
    }
    for rule in [Rule::Burstccn, Rule::Backprop, Rule::Fa] {
        let mut net = Network::new(Config { layers: vec![10, 32, 32, 4], rule, lr: 0.5, batch_size: 32, seed: 4, ..Config::default() }).unwrap();
        let mut last_errors = 0;
        for epoch in 0..200 {
            let mut errors = 0;
            for b in 0..8 {
                net.load_inputs(&x[b * 320..(b + 1) * 320]).unwrap();
                errors += net.train_step(&y[b * 32..(b + 1) * 32], epoch % 50 == 0).unwrap().errors;
            }
            last_errors = errors;
        }
        assert!(last_errors <= 5, "{rule:?}: {last_errors} of 256 still wrong");
    }
}
