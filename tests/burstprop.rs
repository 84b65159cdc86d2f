//! Burstprop (REFERENCE.md §6) against a step computed by hand (tests/reference/
//! comparison_models.py), an independent f64 ndarray implementation, the conv references, and
//! real MNIST; its snapshots, configuration errors and divergence handling.
#![cfg(not(target_arch = "wasm32"))]

mod common_models;

use burstccn::kernels;
use burstccn::model::{AnyModel, Burstprop, BurstpropConfig, FeedbackMode, ModelConfig, ModelKind};
use burstccn::rng::Random;
use burstccn::{snapshot, Error};
use common_models::*;
use ndarray::{Array1, Array2, Axis};

/// The 2-3-2 network of the reference script: recurrence, Y learning, momentum, the authors'
/// weight decay, one sample per step with B_cfg = 2 (so every update is halved).
fn tiny() -> Burstprop {
    let cfg = BurstpropConfig {
        layers: vec![2, 3, 2],
        lr: 0.1,
        p_baseline: 0.2,
        y_learning: true,
        recurrent: true,
        lr_recurrent: 0.05,
        momentum: 0.5,
        weight_decay: 0.01,
        batch_size: 2,
        ..BurstpropConfig::default()
    };
    let mut m = Burstprop::new(cfg).unwrap();
    m.set_kernels(kernels::scalar());
    m.set_weight(0, &[0.1, -0.2, 0.4, 0.3, -0.5, 0.6], &[0.0, 0.1, -0.1]).unwrap();
    m.set_weight(1, &[0.7, -0.3, 0.2, -0.4, 0.5, 0.9], &[0.05, -0.05]).unwrap();
    m.set_y(0, &[0.3, -0.6, 0.1, 0.2, 0.4, -0.5]).unwrap();
    m.set_recurrent_weights(0, &[0.02, -0.01, 0.03, 0.01, 0.04, -0.02, -0.03, 0.02, 0.01]).unwrap();
    m
}

/// Two steps of a 2-3-2 Burstprop network, every quantity against the values the plain-Python
/// reference script prints (computed outside this code base, from REFERENCE.md §6.2).
#[test]
fn hand_computed_two_three_two_steps() {
    let mut m = tiny();
    m.load_inputs(&[0.5, 1.0]).unwrap();
    m.present(&[1]).unwrap();
    let tol = 3e-7;
    let net = m.network();
    assert_close("e1", net.event_rate(0), &[0.462570155, 0.645656306, 0.562176501], tol);
    assert_close("e2", net.event_rate(1), &[0.572617245, 0.644227156], tol);
    assert_close("p2 teacher", m.teacher_burst_prob(1), &[0.151054653, 0.225314863], tol);
    assert_close("p2 baseline", m.baseline_burst_prob(1), &[0.2, 0.2], 1e-7);
    assert_close("ubar1", m.baseline_apical(0), &[0.022540048, -0.015797857, -0.025182158], tol);
    assert_close("ut1", net.apical(0), &[0.019774229, -0.007527625, -0.029979371], tol);
    assert_close("pbar1", m.baseline_burst_prob(0), &[0.505634773, 0.496050618, 0.493704793], tol);
    assert_close("p1 teacher", m.teacher_burst_prob(0), &[0.504943396, 0.498118103, 0.492505718], tol);
    assert!(m.baseline_apical(1).is_empty(), "the output layer has no apical compartment");

    m.train_step(&[1], false).unwrap();
    let l = m.network().layers();
    assert_close("step 1 W1", &l[0].weight, &[0.098992005, -0.198015991, 0.396033372, 0.297066744, -0.495016852, 0.593966295], tol);
    assert_close("step 1 b1", &l[0].bias, &[-0.000015991, 0.100066744, -0.100033705], tol);
    assert_close("step 1 W2", &l[1].weight, &[0.692351778, -0.297904789, 0.197212195, -0.395622808, 0.495526485, 0.891458413], tol);
    assert_close("step 1 b2", &l[1].bias, &[0.048598653, -0.049184574], tol);
    assert_close("step 1 Y", &m.network().feedback()[0].y, &[0.296351778, -0.594904789, 0.098212195, 0.198377192, 0.396526485, -0.494541587], tol);
    let r1 = [0.020268493, -0.009639296, 0.030308399, 0.009811819, 0.039747190, -0.020216150, -0.030299965, 0.019597015, 0.009655451];
    assert_close("step 1 R", m.recurrent_weights(0).unwrap(), &r1, tol);

    m.load_inputs(&[0.9, 0.2]).unwrap();
    m.train_step(&[0], false).unwrap();
    let l = m.network().layers();
    assert_close("step 2 W1", &l[0].weight, &[0.097999410, -0.196043532, 0.392026910, 0.294115490, -0.490031276, 0.588019521], tol);
    assert_close("step 2 b1", &l[0].bias, &[-0.000022516, 0.100030323, -0.100001853], tol);
    assert_close("step 2 W2", &l[1].weight, &[0.685639223, -0.294724193, 0.195258574, -0.392216520, 0.489931857, 0.882203817], tol);
    assert_close("step 2 b2", &l[1].bias, &[0.048942297, -0.050218283], tol);
    assert_close("step 2 Y", &m.network().feedback()[0].y, &[0.293599223, -0.588754193, 0.097248574, 0.195843480, 0.391921857, -0.489936183], tol);
    let r2 = [0.020532090, -0.009329401, 0.030501098, 0.009565676, 0.039457814, -0.020396090, -0.030683690, 0.019145892, 0.009374933];
    assert_close("step 2 R", m.recurrent_weights(0).unwrap(), &r2, tol);
    assert_eq!(m.network().progress(), (2, 2));
}

/// An independent f64 implementation of REFERENCE.md §6.2 in ndarray, against the engine over
/// three steps on a random 3-hidden-layer network with recurrence, Y learning, momentum and
/// weight decay; the last batch is smaller than B_cfg.
#[test]
fn three_steps_match_an_independent_ndarray_implementation() {
    let layers = vec![20, 16, 12, 10, 5];
    let cfg = BurstpropConfig {
        layers: layers.clone(),
        lr: 0.3,
        y_learning: true,
        lr_recurrent: 0.01,
        recurrent_scale: 0.1,
        momentum: 0.6,
        weight_decay: 0.002,
        batch_size: 6,
        seed: 21,
        ..BurstpropConfig::default()
    };
    let (pb, lr, lr_r, mu, lam, b_cfg) = (0.2, 0.3, 0.01, 0.6, 0.002, 6.0);
    let mut m = Burstprop::new(cfg).unwrap();
    let depth = layers.len() - 1;
    let net = m.network();
    let mut ws: Vec<Array2<f64>> = net.layers().iter().map(|l| to2(&l.weight, l.n_out, l.n_in)).collect();
    let mut cs: Vec<Array1<f64>> = net.layers().iter().map(|l| to1(&l.bias)).collect();
    // ys[k] carries layer k+1's bursts down to layer k: shaped like W_{k+1}.
    let mut ys: Vec<Array2<f64>> = (0..depth - 1).map(|k| to2(&net.feedback()[k].y, layers[k + 2], layers[k + 1])).collect();
    let mut rs: Vec<Array2<f64>> = (0..depth - 1).map(|k| to2(m.recurrent_weights(k).unwrap(), layers[k + 1], layers[k + 1])).collect();
    let mut vw: Vec<Array2<f64>> = ws.iter().map(|w| Array2::zeros(w.dim())).collect();
    let mut vc: Vec<Array1<f64>> = cs.iter().map(|c| Array1::zeros(c.dim())).collect();
    let mut vy: Vec<Array2<f64>> = ys.iter().map(|y| Array2::zeros(y.dim())).collect();
    let mut rng = Random::new(5, 5);
    for rows in [6usize, 6, 4] {
        let x = random_inputs(&mut rng, rows, layers[0]);
        let labels = random_labels(&mut rng, rows, 5);
        // Reference step.
        let mut e = vec![to2(&x, rows, layers[0])];
        for (w, c) in ws.iter().zip(&cs) {
            let v = e.last().unwrap().dot(&w.t()) + c;
            e.push(v.mapv(sig));
        }
        let t = one_hot(&labels, 5);
        let mut b_bar = vec![Array2::<f64>::zeros((0, 0)); depth + 1];
        let mut b = b_bar.clone();
        let mut delta = b_bar.clone();
        let mut u_bar = b_bar.clone();
        let mut r_prov = b_bar.clone();
        let el = &e[depth];
        let p_t = ((&t - el) * (1.0 - el) + 1.0) * pb;
        b_bar[depth] = el * pb;
        b[depth] = &p_t * el;
        delta[depth] = &b[depth] - &b_bar[depth];
        for k in (1..depth).rev() {
            let a = b_bar[k + 1].dot(&ys[k - 1]);
            let at = b[k + 1].dot(&ys[k - 1]);
            let r = a.mapv(sig) * &e[k];
            let rr = r.dot(&rs[k - 1].t());
            let ub = &a * (1.0 - &e[k]) - &rr;
            let ut = &at * (1.0 - &e[k]) - &rr;
            b_bar[k] = ub.mapv(sig) * &e[k];
            b[k] = ut.mapv(sig) * &e[k];
            delta[k] = &b[k] - &b_bar[k];
            u_bar[k] = ub;
            r_prov[k] = r;
        }
        for k in 1..=depth {
            let g = delta[k].t().dot(&e[k - 1]) * (lr / b_cfg);
            vw[k - 1] = &g + &vw[k - 1] * mu;
            ws[k - 1] = &ws[k - 1] + &vw[k - 1] - &ws[k - 1] * lam;
            vc[k - 1] = delta[k].sum_axis(Axis(0)) * (lr / b_cfg) + &vc[k - 1] * mu;
            cs[k - 1] = &cs[k - 1] + &vc[k - 1];
            if k >= 2 {
                vy[k - 2] = &g + &vy[k - 2] * mu;
                ys[k - 2] = &ys[k - 2] + &vy[k - 2] - &ys[k - 2] * lam;
            }
        }
        for k in 1..depth {
            rs[k - 1] = &rs[k - 1] + u_bar[k].t().dot(&r_prov[k]) * lr_r;
        }
        m.load_inputs(&x).unwrap();
        m.train_step(&labels, false).unwrap();
    }
    for k in 0..depth {
        assert_close(&format!("W{k}"), &m.network().layers()[k].weight, &flat(&ws[k]), 2e-6);
        assert_close(&format!("b{k}"), &m.network().layers()[k].bias, &cs[k].to_vec(), 2e-6);
    }
    for k in 0..depth - 1 {
        assert_close(&format!("Y{k}"), &m.network().feedback()[k].y, &flat(&ys[k]), 2e-6);
        assert_close(&format!("R{k}"), m.recurrent_weights(k).unwrap(), &flat(&rs[k]), 2e-6);
    }
}

/// ConvBurstprop on a small stack: the baseline and teacher sweeps go down through the
/// transposed convolutions, corr(in, δ)/B_cfg updates the kernels, the dense hidden layer has
/// recurrence and conv layers none; checked against the conv reference loops.
#[test]
fn conv_burstprop_step_matches_the_conv_references() {
    use burstccn::kernels::conv::{conv_transpose_reference, conv_weight_corr_reference};
    let base = BurstpropConfig { lr: 0.5, lr_recurrent: 0.02, recurrent_scale: 0.05, batch_size: 3, seed: 4, ..BurstpropConfig::default() };
    let cfg = base.with_stack("c3k3s2,c4k2s1,f6", [2, 7, 7], 3).unwrap();
    let mut m = Burstprop::new(cfg.clone()).unwrap();
    m.set_kernels(kernels::scalar());
    assert!(m.recurrent_weights(0).is_none() && m.recurrent_weights(1).is_none(), "conv layers have no recurrence");
    let r = m.recurrent_weights(2).expect("the dense hidden layer has R").to_vec();
    assert!(r.iter().all(|v| v.abs() <= 0.05) && r.iter().any(|v| v.abs() > 0.02), "R ~ U(−s, s) in a conv net");
    let mut rng = Random::new(8, 1);
    let rows = 3;
    let x = random_inputs(&mut rng, rows, cfg.network_config().input_len());
    let labels = vec![0u8, 2, 1];
    m.load_inputs(&x).unwrap();
    m.present(&labels).unwrap();
    let shapes = cfg.network_config().shapes();
    let net = m.network();
    let before: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight.clone()).collect();
    let before_b: Vec<Vec<f32>> = net.layers().iter().map(|l| l.bias.clone()).collect();
    // The sweeps: every hidden layer's potentials from the layer above through Y.
    for k in (0..shapes.len() - 1).rev() {
        let above = &shapes[k + 1];
        let y = &net.feedback()[k].y;
        let (a, at) = match &above.conv {
            Some(g) => (conv_transpose_reference(g, rows, m.baseline_burst_rate(k + 1), y), conv_transpose_reference(g, rows, m.teacher_burst_rate(k + 1), y)),
            None => {
                let yy = to2(y, above.n_out, above.n_in).mapv(|v| v as f32);
                let lift = |z: &[f32]| to2(z, rows, above.n_out).mapv(|v| v as f32).dot(&yy).iter().copied().collect::<Vec<f32>>();
                (lift(m.baseline_burst_rate(k + 1)), lift(m.teacher_burst_rate(k + 1)))
            }
        };
        let e = net.event_rate(k);
        let rr: Vec<f64> = match m.recurrent_weights(k) {
            Some(rw) => {
                let n = shapes[k].n_out;
                let prov: Vec<f64> = a.iter().zip(e).map(|(&a, &e)| sig(f64::from(a)) * f64::from(e)).collect();
                let prov = Array2::from_shape_vec((rows, n), prov).unwrap();
                prov.dot(&to2(rw, n, n).t()).iter().copied().collect()
            }
            None => vec![0.0; a.len()],
        };
        let ub: Vec<f64> = a.iter().zip(e).zip(&rr).map(|((&a, &e), &c)| f64::from(a) * (1.0 - f64::from(e)) - c).collect();
        let ut: Vec<f64> = at.iter().zip(e).zip(&rr).map(|((&a, &e), &c)| f64::from(a) * (1.0 - f64::from(e)) - c).collect();
        assert_close(&format!("ubar{k}"), m.baseline_apical(k), &ub, 2e-6);
        assert_close(&format!("ut{k}"), net.apical(k), &ut, 2e-6);
    }
    // The plasticity: W += lr·corr(in, δ)/B_cfg (conv) or lr·δᵀx/B_cfg (dense); δ = b − b̄.
    let deltas: Vec<Vec<f32>> = (0..shapes.len()).map(|k| m.teacher_burst_rate(k).iter().zip(m.baseline_burst_rate(k)).map(|(b, bb)| b - bb).collect()).collect();
    let inputs: Vec<Vec<f32>> = (0..shapes.len()).map(|k| if k == 0 { x.clone() } else { net.event_rate(k - 1).to_vec() }).collect();
    m.train_step(&labels, false).unwrap();
    for (k, shape) in shapes.iter().enumerate() {
        let corr: Vec<f32> = match &shape.conv {
            Some(g) => conv_weight_corr_reference(g, rows, &inputs[k], &deltas[k]),
            None => {
                let d = to2(&deltas[k], rows, shape.n_out);
                d.t().dot(&to2(&inputs[k], rows, shape.n_in)).iter().map(|&v| v as f32).collect()
            }
        };
        let want: Vec<f64> = before[k].iter().zip(&corr).map(|(&w, &c)| f64::from(w) + 0.5 * f64::from(c) / 3.0).collect();
        assert_close(&format!("W{k}"), &m.network().layers()[k].weight, &want, 2e-6);
        let per = shape.bias_len();
        let mut sums = vec![0.0f64; per];
        for (i, d) in deltas[k].iter().enumerate() {
            sums[i % per] += f64::from(*d);
        }
        let want_b: Vec<f64> = before_b[k].iter().zip(&sums).map(|(&b, &s)| f64::from(b) + 0.5 * s / 3.0).collect();
        assert_close(&format!("b{k}"), &m.network().layers()[k].bias, &want_b, 2e-6);
    }
}

#[test]
fn the_papers_conv_burstprop_networks() {
    let fixed = BurstpropConfig::paper_cifar(false);
    assert_eq!(fixed.network_config().describe(), "3x32x32-c64k5s2-c256k5s2-c256k3s1-f1480-10");
    assert!(!fixed.y_learning && fixed.recurrent && fixed.p_baseline == 0.2 && fixed.lr == 0.1);
    let learned = BurstpropConfig::paper_cifar(true);
    assert_eq!(learned.network_config().describe(), "3x32x32-c64k5s2-c128k5s2-c256k3s1-f1024-10");
    assert!(learned.y_learning);
    let m = Burstprop::new(learned).unwrap();
    // Only the dense hidden layer (k = 3) has R, 1024 × 1024.
    assert!((0..3).all(|k| m.recurrent_weights(k).is_none()));
    assert_eq!(m.recurrent_weights(3).map(<[f32]>::len), Some(1024 * 1024));
}

/// Conv layers' Y never learn in the authors' code (only −λY), dense layers' Y follow W.
#[test]
fn conv_layers_y_only_decays() {
    let base = BurstpropConfig { y_learning: true, weight_decay: 0.1, batch_size: 2, seed: 2, ..BurstpropConfig::default() };
    let cfg = base.with_stack("c2k3s1,c2k2s1,f4", [1, 6, 6], 2).unwrap();
    let mut m = Burstprop::new(cfg).unwrap();
    let y0: Vec<Vec<f32>> = m.network().feedback().iter().map(|f| f.y.clone()).collect();
    let mut rng = Random::new(1, 1);
    m.load_inputs(&random_inputs(&mut rng, 2, 36)).unwrap();
    m.train_step(&[0, 1], false).unwrap();
    let y1: Vec<Vec<f32>> = m.network().feedback().iter().map(|f| f.y.clone()).collect();
    // feedback 0 is conv layer 2's kernel: exactly 0.9·Y.
    for (a, b) in y0[0].iter().zip(&y1[0]) {
        assert_eq!(*b, 0.9 * a);
    }
    // feedback 1 and 2 are dense: learned, not just decayed.
    assert!(y0[2].iter().zip(&y1[2]).any(|(a, b)| (b - 0.9 * a).abs() > 1e-7));
}

/// With Y tied to W, the last hidden layer's update points close to backprop's; with random
/// Y it follows feedback alignment instead (the diagnostics machinery shared with BurstCCN).
#[test]
fn diagnostics_angles_follow_the_feedback() {
    let mut rng = Random::new(9, 9);
    let x = random_inputs(&mut rng, 16, 30);
    let labels = random_labels(&mut rng, 16, 6);
    let angles = |y_mode: FeedbackMode| {
        let cfg = BurstpropConfig { layers: vec![30, 20, 20, 6], y_mode, recurrent: false, batch_size: 16, seed: 3, ..BurstpropConfig::default() };
        let mut m = Burstprop::new(cfg).unwrap();
        m.load_inputs(&x).unwrap();
        m.diagnose(&labels).unwrap()
    };
    let tied = angles(FeedbackMode::Tied);
    let random = angles(FeedbackMode::Random);
    assert!(tied.layers[1].angle_bp < 15.0, "tied: {:?}", tied.layers[1]);
    assert!(tied.layers[2].angle_bp < 0.1, "the output layer's update is backprop's");
    assert!(random.layers[1].angle_bp > 45.0, "random Y: {:?}", random.layers[1]);
    assert!(random.layers[1].angle_fa < 15.0, "random Y follows FA: {:?}", random.layers[1]);
    assert!(random.layers.iter().all(|l| l.angle_yq.is_nan()), "Burstprop has no Q");
}

#[test]
fn same_seed_same_result_and_different_seed_differs() {
    let run = |seed: u64| {
        let mut m = AnyModel::new(BurstpropConfig { layers: vec![16, 12, 8, 4], batch_size: 8, seed, ..BurstpropConfig::default() }.into()).unwrap();
        let mut rng = Random::new(3, 0);
        for _ in 0..10 {
            m.load_inputs(&random_inputs(&mut rng, 8, 16)).unwrap();
            m.train_step(&random_labels(&mut rng, 8, 4), false).unwrap();
        }
        parameters(&m)
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

fn trained() -> AnyModel {
    let cfg = BurstpropConfig { layers: vec![12, 9, 7, 4], y_learning: true, momentum: 0.9, weight_decay: 1e-3, batch_size: 6, seed: 77, ..BurstpropConfig::default() };
    train_a_little(cfg.into(), 12, 4)
}

#[test]
fn snapshots_round_trip_exactly() {
    for model in [trained(), train_a_little(BurstpropConfig::default().with_stack("c3k3s2,f5", [1, 9, 9], 3).unwrap().into(), 81, 3)] {
        round_trip(&model);
    }
}

#[test]
fn bad_snapshots_are_refused() {
    let m = trained();
    let json = snapshot::to_json(&m);
    assert!(json.contains("\"version\":3") && json.contains("\"model\":\"burstprop\""));
    assert!(!json.contains("\"q\""), "Burstprop has no Q");
    // A BurstCCN reader is told what the file holds.
    assert!(snapshot_error(snapshot::from_json(&json).map(AnyModel::from)).contains("burstprop"));
    // The model's own tensors: names, order and lengths.
    assert!(snapshot_error(snapshot::model_from_json(&edit(&json, "\"name\":\"recurrent[0]\"", "\"name\":\"recurrent[9]\""))).contains("recurrent[9]"));
    let m2 = edit(&json, "\"tensors\":[", "\"tensors\":[{\"name\":\"extra\",\"values\":[1.0]},");
    assert!(snapshot_error(snapshot::model_from_json(&m2)).contains("tensors, expected"));
    let short = shorten_first_array_after(&json, "\"name\":\"recurrent[1]\",\"values\":[");
    assert!(snapshot_error(snapshot::model_from_json(&short)).contains("recurrent[1] has"));
    // Y momentum buffers exist only when Y learns with momentum.
    assert!(snapshot_error(snapshot::model_from_json(&edit(&json, "\"y_learning\":true", "\"y_learning\":false"))).contains("tensors, expected"));
    // A Q where the model has none; a version-3 file without its model; an unknown model.
    let with_q = edit(&json, "\"feedback\":[{\"y\":[", "\"feedback\":[{\"q\":[0.0],\"y\":[");
    assert!(snapshot_error(snapshot::model_from_json(&with_q)).contains("no Q"));
    assert!(snapshot_error(snapshot::model_from_json(&edit(&json, "\"model\":\"burstprop\",", ""))).contains("version 3"));
    assert!(snapshot_error(snapshot::model_from_json(&edit(&json, "\"model\":\"burstprop\"", "\"model\":\"hopfield\""))).contains("hopfield"));
    assert!(snapshot_error(snapshot::model_from_json(&edit(&json, "\"version\":3", "\"version\":2"))).contains("version 2"));
    // A bad value in the model's configuration names it.
    let m3 = snapshot_error(snapshot::model_from_json(&edit(&json, "\"lr_recurrent\":0.0001", "\"lr_recurrent\":-1.0")));
    assert!(m3.contains("lr_recurrent"), "{m3}");
    // A non-finite recurrent weight in a binary file with a valid checksum.
    let bytes = snapshot::to_bytes(&m);
    let nan = corrupt_last_array_value(&bytes);
    assert!(snapshot_error(snapshot::model_from_bytes(&nan)).contains("not a finite number"));
    assert!(snapshot_error(snapshot::model_from_bytes(&bytes[..bytes.len() - 3])).contains("checksum"));
}

#[test]
fn bad_configurations_name_the_field() {
    let cases: Vec<(BurstpropConfig, &str)> = vec![
        (BurstpropConfig { layers: vec![784], ..BurstpropConfig::default() }, "layers"),
        (BurstpropConfig { p_baseline: 1.0, ..BurstpropConfig::default() }, "p_baseline"),
        (BurstpropConfig { lr: f32::NAN, ..BurstpropConfig::default() }, "lr"),
        (BurstpropConfig { lr_recurrent: -1.0, ..BurstpropConfig::default() }, "lr_recurrent"),
        (BurstpropConfig { recurrent_scale: f32::INFINITY, ..BurstpropConfig::default() }, "recurrent_scale"),
        (BurstpropConfig { weight_decay: 1.0, ..BurstpropConfig::default() }, "weight_decay"),
        (BurstpropConfig { momentum: 1.0, ..BurstpropConfig::default() }, "momentum"),
        (BurstpropConfig { batch_size: 0, ..BurstpropConfig::default() }, "batch_size"),
        (BurstpropConfig { layers: vec![60000, 30000, 10], ..BurstpropConfig::default() }, "layers"),
        (BurstpropConfig { layers: vec![784, 16000, 10], ..BurstpropConfig::default() }, "recurrent"),
    ];
    for (cfg, field) in cases {
        match Burstprop::new(cfg.clone()) {
            Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{cfg:?}"),
            other => panic!("{cfg:?} gave {other:?}"),
        }
    }
    // Through the one settings object every front end uses.
    let base = ModelConfig::defaults(ModelKind::Burstprop);
    for (patch, field) in [
        (serde_json::json!({"lr_recurrent": "fast"}), "lr_recurrent"),
        (serde_json::json!({"recurrent": 1}), "recurrent"),
        (serde_json::json!({"q_mode": "tied"}), "q_mode"),
        (serde_json::json!({"model": "burstprob"}), "model"),
        (serde_json::json!({"model": 3}), "model"),
        (serde_json::json!({"y_mode": "sideways"}), "y_mode"),
    ] {
        match base.patched(&patch) {
            Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{patch}"),
            other => panic!("{patch} gave {other:?}"),
        }
    }
    // Switching model keeps the architecture, batch and seed, and takes the new model's defaults.
    let ccn = ModelConfig::from_value(&serde_json::json!({"layers": [50, 20, 10], "batch_size": 8, "seed": 5, "lr": 0.7})).unwrap();
    let ModelConfig::Burstprop(bp) = ccn.patched(&serde_json::json!({"model": "burstprop"})).unwrap() else { panic!("not burstprop") };
    assert_eq!((bp.layers.clone(), bp.batch_size, bp.seed, bp.lr, bp.p_baseline), (vec![50, 20, 10], 8, 5, 0.1, 0.2));
    // A running model refuses a change of model or architecture but takes new rates.
    let mut m = AnyModel::new(bp.clone().into()).unwrap();
    assert!(m.set_config(ccn.clone()).is_err());
    assert!(m.set_config(BurstpropConfig { layers: vec![50, 21, 10], ..bp.clone() }.into()).is_err());
    let w = m.network().layers()[0].weight.clone();
    m.set_config(BurstpropConfig { lr: 0.01, momentum: 0.5, recurrent: false, ..bp.clone() }.into()).unwrap();
    assert_eq!(w, m.network().layers()[0].weight);
    assert!(m.as_burstprop().unwrap().recurrent_weights(0).is_none());
}

#[test]
fn divergence_stops_before_the_update_and_keeps_the_state() {
    let mut m = Burstprop::new(BurstpropConfig { layers: vec![8, 6, 4], batch_size: 8, momentum: 0.5, ..BurstpropConfig::default() }).unwrap();
    let mut rng = Random::new(3, 0);
    m.load_inputs(&random_inputs(&mut rng, 8, 8)).unwrap();
    m.train_step(&[0, 1, 2, 3, 0, 1, 2, 3], false).unwrap();
    // A recurrent weight gone infinite (as an overflowing update would leave it).
    let mut r = m.recurrent_weights(0).unwrap().to_vec();
    r[4] = f32::INFINITY;
    m.set_recurrent_weights(0, &r).unwrap();
    let before = parameters(&AnyModel::from(m.clone()));
    let err = m.train_step(&[0, 1, 2, 3, 0, 1, 2, 3], false).unwrap_err();
    assert!(matches!(err, Error::Diverged(_)), "{err:?}");
    assert!(err.to_string().contains("last good"), "{err}");
    let after = parameters(&AnyModel::from(m.clone()));
    assert!(same_bits(&before, &after), "a parameter changed");
    assert_eq!(m.network().progress().0, 1, "the failed step was not counted");
}

/// Real MNIST, a small network, two passes over 30,000 images in batches of 8: far from
/// chance (90 %); measured 12.4 % (the `train` command with these settings).
#[test]
fn learns_mnist_digits() {
    let (train, test) = mnist();
    let cfg = BurstpropConfig { layers: vec![784, 100, 10], lr: 0.5, batch_size: 8, ..BurstpropConfig::default() };
    let error = learn_mnist(cfg.into(), &train, &test, 30_000, 2);
    assert!(error < 0.25, "test error {error}");
}

/// `train --model burstprop`: JSON records with the angles, a snapshot that `eval` and a
/// resumed `train` read, and flags of other models refused by name.
#[test]
fn the_command_line_trains_saves_and_evaluates_burstprop() {
    let snap = tmp("burstprop.snap");
    let out = burstccn(&[
        "train", "--model", "burstprop", "--layers", "784,50,10", "--lr", "0.5", "--batch-size", "8",
        "--train-limit", "4000", "--json", "--diagnostic-batches", "2", "--save", snap.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &record["diagnostics"];
    assert_eq!(d["angle_bp"].as_array().unwrap().len(), 2);
    assert!(d["angle_yq"][0].is_null(), "Burstprop has no Q: {d}");
    let test_error = record["test_error"].as_f64().unwrap();
    let out = burstccn(&["eval", "--load", snap.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["test_error"].as_f64().unwrap(), test_error);
    let loaded = snapshot::load_model(&std::fs::read(&snap).unwrap()).unwrap();
    assert_eq!(loaded.kind(), ModelKind::Burstprop);
    assert_eq!(loaded.progress().0, 500);
    // Resume with new rates; a BurstCCN flag on a Burstprop snapshot is refused.
    let out = burstccn(&["train", "--load", snap.to_str().unwrap(), "--lr-recurrent", "0", "--train-limit", "800", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = burstccn(&["train", "--load", snap.to_str().unwrap(), "--lr-q", "0.1", "--train-limit", "800"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lr-q is a BurstCCN setting"));
    for (args, says) in [
        (vec!["--model", "burstprop", "--lambda-output", "0.2"], "--lambda-output is a EDN setting"),
        (vec!["--model", "mlp", "--recurrent", "false"], "--recurrent is a Burstprop setting"),
        (vec!["--model", "conv-burstprop"], "CIFAR-10 cannot be downloaded here"),
        (vec!["--model", "conv-burstprop", "--dataset", "mnist"], "takes 3×32×32 CIFAR-10 images"),
        (vec!["--model", "burstprop", "--p-baseline", "1.5"], "p_baseline"),
        (vec!["--model", "burstprop:c4k30s1", "--train-limit", "10"], "does not fit"),
    ] {
        let out = burstccn(&[&["train", "--epochs", "1"][..], &args].concat());
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
