//! EDN, the dendritic error network (REFERENCE.md §7), against a step computed by hand
//! (tests/reference/comparison_models.py), an independent f64 ndarray implementation and real
//! MNIST; its ties, snapshots, configuration errors and divergence handling.
#![cfg(not(target_arch = "wasm32"))]

mod common_models;

use burstccn::kernels;
use burstccn::model::{AnyModel, Edn, EdnConfig, FeedbackMode, ModelConfig, ModelKind};
use burstccn::rng::Random;
use burstccn::{snapshot, Error};
use common_models::*;
use ndarray::{Array1, Array2, Axis};

/// Two steps of a 2-3-2 EDN network, every quantity against the values the plain-Python
/// reference script prints (computed outside this code base, from REFERENCE.md §7.3–7.4).
#[test]
fn hand_computed_two_three_two_steps() {
    let cfg = EdnConfig {
        layers: vec![2, 3, 2],
        lr: 0.1,
        lambda_output: 0.2,
        lambda_interneuron: 0.3,
        lambda_hidden: 0.4,
        interneuron_lr_scale: 2.0,
        momentum: 0.5,
        weight_decay: 0.01,
        batch_size: 1,
        ..EdnConfig::default()
    };
    let mut m = Edn::new(cfg).unwrap();
    m.set_kernels(kernels::scalar());
    m.set_weight(0, &[0.1, -0.2, 0.4, 0.3, -0.5, 0.6], &[0.0, 0.1, -0.1]).unwrap();
    m.set_weight(1, &[0.7, -0.3, 0.2, -0.4, 0.5, 0.9], &[0.05, -0.05]).unwrap();
    m.set_y(0, &[0.3, -0.6, 0.1, 0.2, 0.4, -0.5]).unwrap();
    m.set_interneuron_weights(0, &[0.6, -0.2, 0.3, -0.3, 0.45, 0.8], &[0.02, -0.04], &[0.25, -0.5, 0.15, 0.1, 0.35, -0.45]).unwrap();
    m.load_inputs(&[0.5, 1.0]).unwrap();
    m.present(&[1]).unwrap();
    let tol = 3e-7;
    assert_close("v1", m.potential(0), &[-0.15, 0.6, 0.25], tol);
    assert_close("e1", m.network().event_rate(0), &[0.462570155, 0.645656306, 0.562176501], tol);
    assert_close("e2", m.network().event_rate(1), &[0.572617245, 0.644227156], tol);
    assert_close("vt2", m.nudged_potential(1), &[-0.043228859, 0.752266026], tol);
    assert_close("et2", m.nudged_rate(1), &[0.489194468, 0.679672254], tol);
    assert_close("interneuron rate", m.interneuron_rate(0), &[0.555514182, 0.649932075], tol);
    assert_close("apical", m.apical_error(0), &[0.078821038, 0.028633085, -0.081774374], tol);
    assert_close("et1", m.nudged_rate(0), &[0.470416697, 0.648272233, 0.554109830], tol);
    assert!(m.interneuron_rate(1).is_empty() && m.apical_error(1).is_empty(), "the output layer has no interneurons");

    m.train_step(&[1], false).unwrap();
    let l = m.network().layers();
    assert_close("step 1 W1", &l[0].weight, &[0.099392327, -0.197215346, 0.396130796, 0.297261593, -0.495403334, 0.593193333], tol);
    assert_close("step 1 b1", &l[0].bias, &[0.000784654, 0.099261593, -0.099806667], tol);
    assert_close("step 1 W2", &l[1].weight, &[0.689141111, -0.302386244, 0.193310167, -0.394360416, 0.497288535, 0.892992640], tol);
    assert_close("step 1 b2", &l[1].bias, &[0.041157722, -0.045955490], tol);
    let (w_pi, c_pi, w_ip) = m.interneuron_weights(0);
    assert_close("step 1 W_PI", w_pi, &[0.597369155, -0.203625517, 0.296901094, -0.298764784, 0.451702227, 0.801454976], tol);
    assert_close("step 1 c_PI", c_pi, &[0.014407415, -0.037374210], tol);
    assert_close("step 1 W_IP", w_ip, &[0.258757241, -0.496818783, 0.140914635, 0.110245664, 0.353721912, -0.460629558], tol);
    assert_close("Y unchanged", &m.network().feedback()[0].y, &[0.3, -0.6, 0.1, 0.2, 0.4, -0.5], 1e-7);

    m.load_inputs(&[0.9, 0.2]).unwrap();
    m.train_step(&[0], false).unwrap();
    let l = m.network().layers();
    assert_close("step 2 W1", &l[0].weight, &[0.099254039, -0.194704316, 0.391574093, 0.294272930, -0.490762602, 0.586833258], tol);
    assert_close("step 2 b1", &l[0].bias, &[0.001901881, 0.097665558, -0.099335973], tol);
    assert_close("step 2 W2", &l[1].weight, &[0.683043855, -0.298729829, 0.191129638, -0.394141275, 0.487911112, 0.881559428], tol);
    assert_close("step 2 b2", &l[1].bias, &[0.041887314, -0.052587132], tol);
    let (w_pi, c_pi, w_ip) = m.interneuron_weights(0);
    assert_close("step 2 W_PI", w_pi, &[0.598824695, -0.201893810, 0.298002763, -0.301434904, 0.448525493, 0.799434017], tol);
    assert_close("step 2 c_PI", c_pi, &[0.017206406, -0.042508824], tol);
    assert_close("step 2 W_IP", w_ip, &[0.267427511, -0.506050040, 0.139379830, 0.118682846, 0.344738825, -0.462123102], tol);
}

/// An independent f64 implementation of REFERENCE.md §7 in ndarray, against the engine over
/// three steps (the last one smaller) on a random 3-hidden-layer network with momentum,
/// weight decay and learned interneurons.
#[test]
fn three_steps_match_an_independent_ndarray_implementation() {
    let layers = vec![20, 16, 12, 10, 5];
    let cfg = EdnConfig {
        layers: layers.clone(),
        lr: 0.3,
        lambda_output: 0.15,
        lambda_interneuron: 0.25,
        lambda_hidden: 0.35,
        interneuron_mode: FeedbackMode::Random,
        interneuron_scale: 0.5,
        lr_interneuron: Some(0.05),
        momentum: 0.6,
        weight_decay: 0.002,
        batch_size: 6,
        seed: 21,
        ..EdnConfig::default()
    };
    let (lo, li, lh, lr, lri, mu, lam) = (0.15, 0.25, 0.35, 0.3, 0.05, 0.6, 0.002);
    let mut m = Edn::new(cfg).unwrap();
    let depth = layers.len() - 1;
    let net = m.network();
    let mut ws: Vec<Array2<f64>> = net.layers().iter().map(|l| to2(&l.weight, l.n_out, l.n_in)).collect();
    let mut cs: Vec<Array1<f64>> = net.layers().iter().map(|l| to1(&l.bias)).collect();
    let ys: Vec<Array2<f64>> = (0..depth - 1).map(|k| to2(&net.feedback()[k].y, layers[k + 2], layers[k + 1])).collect();
    let mut w_pi: Vec<Array2<f64>> = (0..depth - 1).map(|k| to2(m.interneuron_weights(k).0, layers[k + 2], layers[k + 1])).collect();
    let mut c_pi: Vec<Array1<f64>> = (0..depth - 1).map(|k| to1(m.interneuron_weights(k).1)).collect();
    let mut w_ip: Vec<Array2<f64>> = (0..depth - 1).map(|k| to2(m.interneuron_weights(k).2, layers[k + 2], layers[k + 1])).collect();
    let mut mw: Vec<Array2<f64>> = ws.iter().map(|w| Array2::zeros(w.dim())).collect();
    let mut mc: Vec<Array1<f64>> = cs.iter().map(|c| Array1::zeros(c.dim())).collect();
    let mut rng = Random::new(5, 5);
    for rows in [6usize, 6, 4] {
        let x = random_inputs(&mut rng, rows, layers[0]);
        let labels = random_labels(&mut rng, rows, 5);
        let b = rows as f64;
        // Forward: potentials, rates, interneuron potentials.
        let mut e = vec![to2(&x, rows, layers[0])];
        let mut v = vec![Array2::<f64>::zeros((0, 0))];
        for (w, c) in ws.iter().zip(&cs) {
            let pot = e.last().unwrap().dot(&w.t()) + c;
            e.push(pot.mapv(sig));
            v.push(pot);
        }
        let vi: Vec<Array2<f64>> = (1..depth).map(|k| e[k].dot(&w_pi[k - 1].t()) + &c_pi[k - 1]).collect();
        // Top-down: the output nudged towards logit(0.2 + 0.6 t), then every hidden layer.
        let target = one_hot(&labels, 5).mapv(|t| {
            let s = 0.2 + 0.6 * t;
            (s / (1.0 - s)).ln()
        });
        let mut vt = vec![Array2::<f64>::zeros((0, 0)); depth + 1];
        let mut et = vt.clone();
        let mut ri = vt.clone();
        let mut apical = vt.clone();
        vt[depth] = &v[depth] * (1.0 - lo) + &target * lo;
        et[depth] = vt[depth].mapv(sig);
        for k in (1..depth).rev() {
            ri[k] = (&vi[k - 1] * (1.0 - li) + &vt[k + 1] * li).mapv(sig);
            apical[k] = et[k + 1].dot(&ys[k - 1]) - ri[k].dot(&w_ip[k - 1]);
            vt[k] = &v[k] + &apical[k] * lh;
            et[k] = vt[k].mapv(sig);
        }
        for k in 1..=depth {
            let delta = &et[k] - &e[k];
            // m ← μ·m + g with g = −δᵀx/B;  W ← W − η·m − λ·W (biases alike).
            mw[k - 1] = &mw[k - 1] * mu - delta.t().dot(&e[k - 1]) / b;
            ws[k - 1] = &ws[k - 1] - &mw[k - 1] * lr - &ws[k - 1] * lam;
            mc[k - 1] = &mc[k - 1] * mu - delta.sum_axis(Axis(0)) / b;
            cs[k - 1] = &cs[k - 1] - &mc[k - 1] * lr - &cs[k - 1] * lam;
        }
        for k in 1..depth {
            let d = &ri[k] - vi[k - 1].mapv(sig);
            w_pi[k - 1] = &w_pi[k - 1] + d.t().dot(&et[k]) * (lri / b);
            c_pi[k - 1] = &c_pi[k - 1] + d.sum_axis(Axis(0)) * (lri / b);
            w_ip[k - 1] = &w_ip[k - 1] + ri[k].t().dot(&apical[k]) * (lri / b);
        }
        m.load_inputs(&x).unwrap();
        m.train_step(&labels, false).unwrap();
    }
    for k in 0..depth {
        assert_close(&format!("W{k}"), &m.network().layers()[k].weight, &flat(&ws[k]), 2e-6);
        assert_close(&format!("b{k}"), &m.network().layers()[k].bias, &cs[k].to_vec(), 2e-6);
    }
    for k in 0..depth - 1 {
        let (a, c, w) = m.interneuron_weights(k);
        assert_close(&format!("W_PI{k}"), a, &flat(&w_pi[k]), 2e-6);
        assert_close(&format!("c_PI{k}"), c, &c_pi[k].to_vec(), 2e-6);
        assert_close(&format!("W_IP{k}"), w, &flat(&w_ip[k]), 2e-6);
        assert_close(&format!("Y{k} fixed"), &m.network().feedback()[k].y, &flat(&ys[k]), 0.0);
    }
}

/// Initialisation and ties (REFERENCE.md §7.4–7.5).
#[test]
fn interneurons_start_and_stay_as_their_mode_says() {
    let mut rng = Random::new(2, 2);
    let x = random_inputs(&mut rng, 4, 12);
    let step = |cfg: EdnConfig| {
        let mut m = Edn::new(cfg).unwrap();
        m.load_inputs(&x).unwrap();
        m.train_step(&[0, 1, 2, 0], false).unwrap();
        m
    };
    let base = EdnConfig { layers: vec![12, 8, 6, 3], interneuron_scale: 0.7, batch_size: 4, ..EdnConfig::default() };
    // Symmetric at initialisation: W^PI = W_{k+1}, c^PI = c_{k+1}, W^IP = scale·Y.
    let fresh = Edn::new(base.clone()).unwrap();
    for k in 0..2 {
        let (w_pi, c_pi, w_ip) = fresh.interneuron_weights(k);
        assert_eq!(w_pi, &fresh.network().layers()[k + 1].weight[..]);
        assert_eq!(c_pi, &fresh.network().layers()[k + 1].bias[..]);
        let y: Vec<f32> = fresh.network().feedback()[k].y.iter().map(|v| 0.7 * v).collect();
        assert_eq!(w_ip, &y[..]);
    }
    // Then they learn away from it…
    let learned = step(base.clone());
    assert_ne!(learned.interneuron_weights(0).0, &learned.network().layers()[1].weight[..]);
    // …unless tied (Y tied as well: Y = y_scale·W_{k+1}, W^IP = scale·Y after every update).
    let tied = step(EdnConfig { interneuron_mode: FeedbackMode::Tied, y_mode: FeedbackMode::Tied, y_scale: 0.5, ..base.clone() });
    for k in 0..2 {
        let above = &tied.network().layers()[k + 1];
        let (w_pi, c_pi, w_ip) = tied.interneuron_weights(k);
        assert_eq!(w_pi, &above.weight[..]);
        assert_eq!(c_pi, &above.bias[..]);
        let y: Vec<f32> = above.weight.iter().map(|w| 0.5 * w).collect();
        assert_eq!(&tied.network().feedback()[k].y, &y);
        let ip: Vec<f32> = y.iter().map(|v| 0.7 * v).collect();
        assert_eq!(w_ip, &ip[..]);
    }
    // Random: W^PI Xavier (gain 3.6), c^PI = 0, W^IP ~ N(0, scale²).
    let random = Edn::new(EdnConfig { layers: vec![12, 200, 100, 3], interneuron_mode: FeedbackMode::Random, ..base }).unwrap();
    let (w_pi, c_pi, w_ip) = random.interneuron_weights(0);
    let std = |v: &[f32]| (v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    let xavier = 3.6 * (2.0f64 / 300.0).sqrt();
    assert!((std(w_pi) / xavier - 1.0).abs() < 0.05, "W^PI std {} vs {xavier}", std(w_pi));
    assert!((std(w_ip) / 0.7 - 1.0).abs() < 0.05, "W^IP std {}", std(w_ip));
    assert!(c_pi.iter().all(|&c| c == 0.0));
    assert_ne!(w_pi, &random.network().layers()[1].weight[..]);
}

/// Without a teacher the output is not nudged (its δ is exactly 0), but the hidden layers'
/// apical potentials still move them and the interneurons still learn.
#[test]
fn without_a_teacher_the_output_is_not_nudged() {
    let mut m = Edn::new(EdnConfig { layers: vec![10, 8, 4], interneuron_mode: FeedbackMode::Random, batch_size: 4, ..EdnConfig::default() }).unwrap();
    let mut rng = Random::new(4, 4);
    m.load_inputs(&random_inputs(&mut rng, 4, 10)).unwrap();
    let before = m.clone();
    m.train_step_without_teacher(false).unwrap();
    assert_eq!(m.nudged_rate(1), m.network().event_rate(1));
    assert_eq!(m.network().layers()[1].weight, before.network().layers()[1].weight);
    assert_ne!(m.network().layers()[0].weight, before.network().layers()[0].weight);
    assert_ne!(m.interneuron_weights(0).2, before.interneuron_weights(0).2);
}

/// EDN's update follows feedback alignment's in the last hidden layer at initialisation (its
/// apical potential is (eᵗ − rᴵ)·Y with symmetric interneurons); EDN has no bursts.
#[test]
fn diagnostics_of_edn() {
    let mut rng = Random::new(9, 9);
    let mut m = Edn::new(EdnConfig { layers: vec![30, 20, 20, 6], batch_size: 16, seed: 3, ..EdnConfig::default() }).unwrap();
    m.load_inputs(&random_inputs(&mut rng, 16, 30)).unwrap();
    let d = m.diagnose(&random_labels(&mut rng, 16, 6)).unwrap();
    assert!(d.layers[1].angle_fa < 20.0, "{:?}", d.layers[1]);
    // The output is nudged towards the softened target 0.2 + 0.6·t, not t: close to backprop's
    // direction, not on it.
    assert!(d.layers[2].angle_bp > 1.0 && d.layers[2].angle_bp < 30.0, "{:?}", d.layers[2]);
    assert!(d.layers.iter().all(|l| l.burst_prob.is_nan() && l.burst_rate.is_nan() && l.angle_yq.is_nan()));
    assert!(d.layers[0].abs_apical > 0.0 && d.layers[2].abs_apical.is_nan());
}

#[test]
fn same_seed_same_result_and_different_seed_differs() {
    let run = |seed: u64| {
        let cfg = EdnConfig { layers: vec![16, 12, 8, 4], interneuron_mode: FeedbackMode::Random, batch_size: 8, seed, ..EdnConfig::default() };
        parameters(&train_a_little(cfg.into(), 16, 4))
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

fn trained() -> AnyModel {
    let cfg = EdnConfig { layers: vec![12, 9, 7, 4], momentum: 0.9, weight_decay: 1e-3, batch_size: 6, seed: 77, ..EdnConfig::default() };
    train_a_little(cfg.into(), 12, 4)
}

#[test]
fn snapshots_round_trip_exactly() {
    round_trip(&trained());
}

#[test]
fn bad_snapshots_are_refused() {
    let m = trained();
    let json = snapshot::to_json(&m);
    assert!(json.contains("\"version\":3") && json.contains("\"model\":\"edn\"") && !json.contains("\"q\""));
    assert!(snapshot_error(snapshot::load(json.as_bytes()).map(AnyModel::from)).contains("edn"));
    let names = ["interneuron_weight[1]", "interneuron_bias[1]", "interneuron_to_pyramid[1]"];
    for name in names {
        let renamed = edit(&json, &format!("\"name\":\"{name}\""), "\"name\":\"pyramid[1]\"");
        assert!(snapshot_error(snapshot::model_from_json(&renamed)).contains(name));
        let short = shorten_first_array_after(&json, &format!("\"name\":\"{name}\",\"values\":["));
        assert!(snapshot_error(snapshot::model_from_json(&short)).contains(&format!("{name} has")));
    }
    // A snapshot from a different architecture: the layer sizes disagree with the arrays.
    assert!(snapshot_error(snapshot::model_from_json(&edit(&json, "\"layers\":[12,9,7,4]", "\"layers\":[12,9,8,4]"))).contains("expected"));
    // EDN has no conv layers and no p_b: those fields are unknown to it.
    assert!(snapshot_error(snapshot::model_from_json(&edit(&json, "\"lr\":", "\"p_baseline\":0.2,\"lr\":"))).contains("p_baseline"));
    let m2 = snapshot_error(snapshot::model_from_json(&edit(&json, "\"lambda_hidden\":0.1", "\"lambda_hidden\":2.0")));
    assert!(m2.contains("lambda_hidden"), "{m2}");
    let nan = corrupt_last_array_value(&snapshot::to_bytes(&m));
    assert!(snapshot_error(snapshot::model_from_bytes(&nan)).contains("interneuron_to_pyramid[1][27] is NaN"));
}

#[test]
fn bad_configurations_name_the_field() {
    let cases: Vec<(EdnConfig, &str)> = vec![
        (EdnConfig { layers: vec![784, 0, 10], ..EdnConfig::default() }, "layers"),
        (EdnConfig { lr: -0.1, ..EdnConfig::default() }, "lr"),
        (EdnConfig { lambda_output: 1.5, ..EdnConfig::default() }, "lambda_output"),
        (EdnConfig { lambda_interneuron: f32::NAN, ..EdnConfig::default() }, "lambda_interneuron"),
        (EdnConfig { lambda_hidden: -0.1, ..EdnConfig::default() }, "lambda_hidden"),
        (EdnConfig { interneuron_scale: f32::INFINITY, ..EdnConfig::default() }, "interneuron_scale"),
        (EdnConfig { interneuron_lr_scale: -2.0, ..EdnConfig::default() }, "interneuron_lr_scale"),
        (EdnConfig { lr_interneuron: Some(f32::NAN), ..EdnConfig::default() }, "lr_interneuron"),
        (EdnConfig { weight_decay: 1.0, ..EdnConfig::default() }, "weight_decay"),
        (EdnConfig { batch_size: 5000, ..EdnConfig::default() }, "batch_size"),
    ];
    for (cfg, field) in cases {
        match Edn::new(cfg.clone()) {
            Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{cfg:?}"),
            other => panic!("{cfg:?} gave {other:?}"),
        }
    }
    let base = ModelConfig::defaults(ModelKind::Edn);
    for (patch, field) in [
        (serde_json::json!({"conv": [{"channels": 2, "kernel": 3, "stride": 1}]}), "conv"),
        (serde_json::json!({"p_baseline": 0.3}), "p_baseline"),
        (serde_json::json!({"lambda_output": "much"}), "lambda_output"),
        (serde_json::json!({"interneuron_mode": "random_init"}), "interneuron_mode"),
        (serde_json::json!({"lr_interneuron": -1}), "lr_interneuron"),
    ] {
        match base.patched(&patch) {
            Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{patch}"),
            other => panic!("{patch} gave {other:?}"),
        }
    }
    // Settings read from JSON: the model field, defaults for what is missing.
    let cfg = ModelConfig::from_value(&serde_json::json!({"model": "edn", "layers": [784, 50, 10], "lambda_hidden": 0.2})).unwrap();
    let ModelConfig::Edn(e) = &cfg else { panic!("not EDN") };
    assert_eq!((e.lambda_hidden, e.lambda_output, e.interneuron_lr()), (0.2, 0.1, 0.2));
    assert_eq!(ModelConfig::from_value(&cfg.to_value()).unwrap(), cfg);
    // A conv BurstCCN switched to EDN keeps its batch and seed but not its conv layers.
    let conv = ModelConfig::Burstccn(burstccn::model::Config::mnist_conv());
    let ModelConfig::Edn(e) = conv.patched(&serde_json::json!({"model": "edn"})).unwrap() else { panic!("not EDN") };
    assert_eq!((e.layers.clone(), e.batch_size), (vec![784, 500, 500, 500, 10], 4));
}

#[test]
fn divergence_stops_before_the_update_and_keeps_the_state() {
    let mut m = Edn::new(EdnConfig { layers: vec![8, 6, 4], batch_size: 8, momentum: 0.5, ..EdnConfig::default() }).unwrap();
    let mut rng = Random::new(3, 0);
    m.load_inputs(&random_inputs(&mut rng, 8, 8)).unwrap();
    m.train_step(&[0, 1, 2, 3, 0, 1, 2, 3], false).unwrap();
    let (w_pi, c_pi, mut w_ip) = {
        let (a, b, c) = m.interneuron_weights(0);
        (a.to_vec(), b.to_vec(), c.to_vec())
    };
    w_ip[5] = f32::NAN;
    m.set_interneuron_weights(0, &w_pi, &c_pi, &w_ip).unwrap();
    let before = parameters(&AnyModel::from(m.clone()));
    let err = m.train_step(&[0, 1, 2, 3, 0, 1, 2, 3], false).unwrap_err();
    assert!(matches!(err, Error::Diverged(_)), "{err:?}");
    assert!(same_bits(&before, &parameters(&AnyModel::from(m.clone()))), "a parameter changed");
    assert_eq!(m.network().progress().0, 1);
}

/// With the authors' command-line defaults on their 784-500-500-500-10 network, the
/// interneuron → pyramid learning is unstable: each step moves the apical potential by about
/// −η_IP·|rᴵ|²·a, and with 500 interneurons at rates near ½, η_IP·|rᴵ|² ≈ 0.2·125 ≫ 2. The
/// apical potentials grow by about ×10 a step until they overflow; training stops there,
/// before the bad update, with every parameter still finite.
#[test]
fn the_authors_defaults_diverge_on_wide_layers_and_stop_cleanly() {
    let (train, _) = mnist();
    let mut m = AnyModel::new(EdnConfig::default().into()).unwrap();
    let mut steps = 0;
    let err = loop {
        let b = steps % 1000;
        m.load_images_u8(&train.images[b * 32 * 784..(b + 1) * 32 * 784]).unwrap();
        match m.train_step(&train.labels[b * 32..(b + 1) * 32], false) {
            Ok(_) => steps += 1,
            Err(e) => break e,
        }
        assert!(steps < 200, "the authors' defaults did not diverge in 200 steps");
    };
    assert!(matches!(err, Error::Diverged(_)), "{err}");
    // The message says why and what keeps it stable: η_IP below 2/m for m = 500 interneurons.
    let msg = err.to_string();
    assert!(msg.contains("η_IP = 0.2 on 500 interneurons") && msg.contains("2/500 = 0.0040 (--lr-interneuron)"), "{msg}");
    assert_eq!(m.progress().0, steps as u64);
    let snapshot = snapshot::to_json(&m);
    assert!(snapshot::model_from_json(&snapshot).is_ok(), "the last good state is finite and loads");
    // A smaller interneuron rate (η_IP·|rᴵ|² < 2) trains on.
    let mut stable = AnyModel::new(EdnConfig { lr_interneuron: Some(0.005), ..EdnConfig::default() }.into()).unwrap();
    for b in 0..(steps + 20) {
        stable.load_images_u8(&train.images[b * 32 * 784..(b + 1) * 32 * 784]).unwrap();
        stable.train_step(&train.labels[b * 32..(b + 1) * 32], false).unwrap();
    }
}

/// Real MNIST, a small network, two passes over 30,000 images in batches of 8: far from
/// chance (90 %); measured 15.4 % (the `train` command with these settings).
#[test]
fn learns_mnist_digits() {
    let (train, test) = mnist();
    let cfg = EdnConfig { layers: vec![784, 100, 10], lr: 0.3, batch_size: 8, ..EdnConfig::default() };
    let error = learn_mnist(cfg.into(), &train, &test, 30_000, 2);
    assert!(error < 0.25, "test error {error}");
}

/// `train --model edn` with the authors' defaults stops at the divergence with a message and
/// saves the last good state, which `eval` reads; flags of other models are refused by name.
#[test]
fn the_command_line_stops_a_diverging_edn_and_keeps_the_last_good_state() {
    let snap = tmp("edn.snap");
    let out = burstccn(&["train", "--model", "edn", "--train-limit", "3200", "--save", snap.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("diverged") && stderr.contains("last good state is saved"), "{stderr}");
    let out = burstccn(&["eval", "--load", snap.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(e["steps"].as_u64().unwrap() > 0 && e["steps"].as_u64().unwrap() < 100, "{e}");
    // A stable interneuron rate, and EDN's own settings, train.
    let out = burstccn(&[
        "train", "--model", "edn", "--layers", "784,40,10", "--lr-interneuron", "0.01", "--lambda-hidden", "0.2",
        "--interneuron-mode", "random", "--train-limit", "1600", "--json", "--diagnostic-batches", "2",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(record["diagnostics"]["burst_prob"][0].is_null(), "EDN has no bursts");
    for (args, says) in [
        (vec!["--model", "edn", "--p-baseline", "0.3"], "--p-baseline is a BurstCCN and Burstprop setting"),
        (vec!["--model", "edn", "--rule", "fa"], "--rule is a BurstCCN setting"),
        (vec!["--model", "edn", "--y-learning"], "--y-learning is a Burstprop setting"),
        (vec!["--model", "edn", "--lambda-output", "2"], "lambda_output"),
    ] {
        let out = burstccn(&[&["train", "--epochs", "1"][..], &args].concat());
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
