//! ConvBurstCCN (REFERENCE.md §4): the conv kernels against direct convolutions for every
//! kernel variant, the transposed convolution as the adjoint, the backprop gradient against
//! finite differences, the paper's theory in conv form, a tiny step against values computed
//! outside this code base, and the conv configuration's errors and snapshots.
#![cfg(not(target_arch = "wasm32"))]
// The hand-computed values are printed with 9 digits by the reference script.
#![allow(clippy::excessive_precision)]

use burstccn::kernels::conv::{col2im, conv_reference, conv_transpose_reference, conv_weight_corr_reference, im2col, ConvGeom};
use burstccn::kernels::{self, Kernels, MatMut, MatRef};
use burstccn::model::{angle_degrees, Config, ConvSpec, FeedbackMode, Network, Rule};
use burstccn::rng::Random;
use burstccn::{snapshot, Error};

fn random(rng: &mut Random, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| scale * (2.0 * rng.uniform() - 1.0)).collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}] = {g}, expected {w}");
    }
}

/// Geometries with odd sizes, strides that do not divide the input, single and many channels,
/// kernels as large as the input, and windows whose length is not a multiple of any SIMD width.
fn geometries() -> Vec<(ConvGeom, usize)> {
    let specs = [
        (1, 5, 5, 1, 1, 1, 1),
        (1, 7, 6, 3, 3, 2, 2),
        (3, 9, 9, 5, 5, 2, 3),
        (2, 4, 4, 17, 4, 1, 1),
        (5, 11, 7, 8, 3, 3, 2),
        (17, 6, 6, 33, 2, 1, 1),
        (3, 32, 32, 64, 5, 2, 2), // the paper's conv 1
        (64, 14, 14, 128, 5, 2, 1), // conv 2
        (13, 5, 5, 9, 3, 1, 3),
    ];
    specs.iter().map(|&(c, h, w, co, k, s, rows)| (ConvGeom::new(c, h, w, co, k, s).unwrap(), rows)).collect()
}

fn every_kernel() -> Vec<&'static dyn Kernels> {
    kernels::available().into_iter().map(|n| kernels::by_name(n).unwrap()).collect()
}

/// The three conv products through im2col/col2im and each kernel variant equal the direct
/// definitions (forward, transposed, weight correlation); outputs are pre-filled with NaN to
/// prove every element is written.
#[test]
fn im2col_products_equal_direct_convolutions_for_every_kernel() {
    let mut rng = Random::new(4, 4);
    let kerns = every_kernel();
    assert!(kerns.len() >= 2, "at least the scalar and one SIMD variant: {:?}", kernels::available());
    for (g, rows) in geometries() {
        let m = rows * g.positions();
        let x = random(&mut rng, rows * g.input_len(), 1.0);
        let w = random(&mut rng, g.weight_len(), 0.5);
        let z = random(&mut rng, rows * g.output_len(), 1.0);
        let want_fwd = conv_reference(&g, rows, &x, &w);
        let want_t = conv_transpose_reference(&g, rows, &z, &w);
        let want_corr = conv_weight_corr_reference(&g, rows, &x, &z);
        for k in &kerns {
            let what = format!("{g:?} × {rows}, {}", k.name());
            let mut cols = vec![f32::NAN; m * g.window()];
            im2col(&g, rows, &x, &mut cols);
            let mut out = vec![f32::NAN; m * g.c_out];
            k.gemm_nt(1.0, MatRef::new(&cols, m, g.window()), MatRef::new(&w, g.c_out, g.window()), 0.0, MatMut::new(&mut out, m, g.c_out));
            assert_close(&format!("forward {what}"), &out, &want_fwd, 1e-4);

            let mut corr = vec![f32::NAN; g.weight_len()];
            k.gemm_tn(1.0, MatRef::new(&z, m, g.c_out), MatRef::new(&cols, m, g.window()), 0.0, MatMut::new(&mut corr, g.c_out, g.window()));
            assert_close(&format!("corr {what}"), &corr, &want_corr, 1e-4);

            let mut back = vec![f32::NAN; m * g.window()];
            k.gemm_nn(1.0, MatRef::new(&z, m, g.c_out), MatRef::new(&w, g.c_out, g.window()), 0.0, MatMut::new(&mut back, m, g.window()));
            let mut t = vec![f32::NAN; rows * g.input_len()];
            col2im(&g, rows, &back, 0.0, &mut t);
            assert_close(&format!("transpose {what}"), &t, &want_t, 1e-4);
        }
    }
}

/// `col2im` with β ≠ 0 adds to what is there.
#[test]
fn col2im_accumulates_with_beta() {
    let g = ConvGeom::new(2, 5, 4, 3, 2, 2).unwrap();
    let mut rng = Random::new(8, 8);
    let cols = random(&mut rng, 2 * g.positions() * g.window(), 1.0);
    let start = random(&mut rng, 2 * g.input_len(), 1.0);
    let mut plain = vec![0.0; start.len()];
    col2im(&g, 2, &cols, 0.0, &mut plain);
    let mut acc = start.clone();
    col2im(&g, 2, &cols, 0.5, &mut acc);
    let want: Vec<f32> = start.iter().zip(&plain).map(|(s, p)| 0.5 * s + p).collect();
    assert_close("β = 0.5", &acc, &want, 1e-6);
}

/// The transposed convolution is the adjoint of the convolution: ⟨conv x, y⟩ = ⟨x, convᵀ y⟩.
#[test]
fn transposed_convolution_is_the_adjoint() {
    let mut rng = Random::new(5, 5);
    for (g, rows) in geometries() {
        let x = random(&mut rng, rows * g.input_len(), 1.0);
        let y = random(&mut rng, rows * g.output_len(), 1.0);
        let w = random(&mut rng, g.weight_len(), 1.0);
        let m = rows * g.positions();
        let k = kernels::best_single();
        let mut cols = vec![0.0; m * g.window()];
        im2col(&g, rows, &x, &mut cols);
        let mut cx = vec![0.0; m * g.c_out];
        k.gemm_nt(1.0, MatRef::new(&cols, m, g.window()), MatRef::new(&w, g.c_out, g.window()), 0.0, MatMut::new(&mut cx, m, g.c_out));
        k.gemm_nn(1.0, MatRef::new(&y, m, g.c_out), MatRef::new(&w, g.c_out, g.window()), 0.0, MatMut::new(&mut cols, m, g.window()));
        let mut ty = vec![0.0; rows * g.input_len()];
        col2im(&g, rows, &cols, 0.0, &mut ty);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(&p, &q)| f64::from(p) * f64::from(q)).sum::<f64>();
        let (lhs, rhs) = (dot(&cx, &y), dot(&x, &ty));
        let scale = dot(&cx, &cx).sqrt() * dot(&y, &y).sqrt();
        assert!((lhs - rhs).abs() <= 1e-5 * scale, "{g:?}: ⟨conv x, y⟩ = {lhs}, ⟨x, convᵀ y⟩ = {rhs}");
    }
}

/// A small conv net: 2×7×7 → conv 3 3×3 s2 (3×3) → conv 4 2×2 s1 (2×2) → 5 → 3.
fn small_conv(rule: Rule) -> Config {
    let base = Config { rule, batch_size: 4, seed: 3, lr: 0.1, y_scale: 1.0, lr_q: 0.0, ..Config::default() };
    base.with_stack("c3k3s2,c4k2s1,f5", [2, 7, 7], 3).unwrap()
}

#[test]
fn conv_backprop_gradient_matches_finite_differences_for_every_parameter() {
    let mut net = Network::new(small_conv(Rule::Backprop)).unwrap();
    net.set_kernels(kernels::scalar());
    let mut rng = Random::new(1, 1);
    let x: Vec<f32> = (0..4 * 98).map(|_| rng.uniform()).collect();
    let labels = [0u8, 2, 1, 2];
    net.load_inputs(&x).unwrap();
    let grads = net.backprop_gradient(&labels).unwrap();
    let h = 1e-2f32;
    let mut checked = 0;
    for (k, (grad_w, grad_b)) in grads.iter().enumerate() {
        let (w0, b0) = (net.layers()[k].weight.clone(), net.layers()[k].bias.clone());
        assert_eq!((grad_w.len(), grad_b.len()), (w0.len(), b0.len()));
        for i in 0..w0.len() + b0.len() {
            let mut loss = |d: f32| {
                let (mut w, mut b) = (w0.clone(), b0.clone());
                if i < w.len() { w[i] += d } else { b[i - w0.len()] += d }
                net.set_weight(k, &w, &b).unwrap();
                net.half_squared_error(&labels).unwrap()
            };
            let numeric = (loss(h) - loss(-h)) / (2.0 * f64::from(h));
            let analytic = f64::from(if i < w0.len() { grad_w[i] } else { grad_b[i - w0.len()] });
            // The forward pass is f32, so the differences carry ~1e-6 of rounding noise.
            assert!(
                (numeric - analytic).abs() <= 3e-3 * numeric.abs() + 5e-6,
                "layer {k} parameter {i}: analytic {analytic}, numeric {numeric}"
            );
            checked += 1;
        }
        net.set_weight(k, &w0, &b0).unwrap();
    }
    // conv 1: 3·3·3·2 + 3, conv 2: 4·2·2·3 + 4, dense 16 → 5, 5 → 3.
    assert_eq!(checked, 54 + 3 + 48 + 4 + 16 * 5 + 5 + 5 * 3 + 3);
}

/// SPEC.md's theory in conv form: Y tied to W_{l+1}, Q = p_b·Y and a small output error give
/// a BurstCCN ΔW equal to p_b × (−∇W) in every layer, conv layers included.
#[test]
fn conv_burstccn_equals_scaled_backprop_with_symmetric_feedback() {
    let base = Config {
        y_mode: FeedbackMode::Tied,
        y_scale: 1.0,
        q_mode: FeedbackMode::Tied,
        lr: 0.3,
        lr_q: 0.0,
        batch_size: 8,
        seed: 5,
        ..Config::default()
    };
    let cfg = base.with_stack("c6k3s2,c8k3s1,f20", [3, 11, 11], 10).unwrap();
    let mut net = Network::new(cfg).unwrap();
    net.set_kernels(kernels::scalar());
    let last = net.layers().len() - 1;
    let w: Vec<f32> = net.layers()[last].weight.iter().map(|w| 0.2 * w).collect();
    let b: Vec<f32> = (0..10).map(|j| if j == 3 { 3.0 } else { -3.0 }).collect();
    net.set_weight(last, &w, &b).unwrap();
    let mut rng = Random::new(2, 2);
    let x: Vec<f32> = (0..8 * 363).map(|_| rng.uniform()).collect();
    net.load_inputs(&x).unwrap();
    let labels = [3u8; 8];
    let burst = net.proposed_updates(&labels, Rule::Burstccn).unwrap();
    let grads = net.backprop_gradient(&labels).unwrap();
    for (k, ((dw, _), (gw, _))) in burst.iter().zip(&grads).enumerate() {
        let (mut dot, mut n1, mut n2) = (0.0, 0.0, 0.0);
        for (&a, &g) in dw.iter().zip(gw) {
            let b = -0.3 * 0.5 * f64::from(g);
            dot += f64::from(a) * b;
            n1 += f64::from(a) * f64::from(a);
            n2 += b * b;
        }
        let (angle, scale) = (angle_degrees(dot, n1, n2), (n1 / n2).sqrt());
        assert!(n1 > 0.0, "layer {k}: no update at all");
        assert!(angle < 1.0, "layer {k}: angle {angle}°");
        assert!((scale - 1.0).abs() < 0.01, "layer {k}: scale {scale}");
    }
    let d = net.diagnose(&labels).unwrap();
    for (k, l) in d.layers.iter().enumerate() {
        assert!(l.angle_bp < 1.0, "diagnostics layer {k}: {}", l.angle_bp);
    }
}

/// With random Y, the conv net's updates follow feedback alignment's, not backprop's.
#[test]
fn conv_random_feedback_follows_feedback_alignment() {
    let cfg = Config { batch_size: 8, seed: 9, lr_q: 0.0, ..Config::default() }.with_stack("c6k3s2,c8k3s1,f20", [3, 11, 11], 10).unwrap();
    let mut net = Network::new(cfg).unwrap();
    let mut rng = Random::new(3, 3);
    let x: Vec<f32> = (0..8 * 363).map(|_| rng.uniform()).collect();
    net.load_inputs(&x).unwrap();
    let d = net.diagnose(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    let out = d.layers.len() - 1;
    assert!(d.layers[out].angle_bp < 0.1 && d.layers[out].angle_fa < 0.1, "the output layer's update is backprop's: {:?}", d.layers[out]);
    for l in &d.layers[..out] {
        assert!(l.angle_fa < 20.0, "hidden layers follow FA: {l:?}");
        assert!(l.angle_bp > 45.0, "random feedback is far from backprop at initialisation: {l:?}");
    }
}

/// One step of a 1×3×3 → conv 2 2×2 s1 → 2 network on one sample, every quantity against
/// values computed outside this code base (plain Python loops over SPEC.md / REFERENCE.md §4).
#[test]
fn tiny_conv_step_computed_by_hand() {
    let base = Config { lr: 0.1, lr_q: 0.05, p_baseline: 0.5, y_mode: FeedbackMode::Random, q_mode: FeedbackMode::Random, batch_size: 1, ..Config::default() };
    let cfg = base.with_stack("c2k2s1", [1, 3, 3], 2).unwrap();
    assert_eq!(cfg.layers, vec![8, 2]);
    let mut net = Network::new(cfg).unwrap();
    net.set_kernels(kernels::scalar());
    net.set_weight(0, &[0.5, -0.3, 0.2, 0.8, -0.6, 0.4, 0.7, -0.1], &[0.05, -0.1]).unwrap();
    let w2 = [0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, -0.3, -0.5, 0.4, -0.1, 0.3, 0.2, -0.6, 0.4, 0.1];
    net.set_weight(1, &w2, &[0.1, -0.05]).unwrap();
    let y = [0.2, 0.1, -0.3, 0.4, 0.5, -0.2, 0.1, 0.3, -0.4, 0.3, 0.2, -0.1, 0.6, 0.2, -0.5, 0.1];
    let q = [0.1, -0.2, 0.15, 0.05, -0.1, 0.3, -0.25, 0.2, 0.2, 0.1, -0.3, 0.25, 0.1, -0.15, 0.05, -0.2];
    net.set_feedback(0, &y, &q).unwrap();
    net.load_inputs(&[0.2, 0.9, 0.4, 0.7, 0.1, 0.5, 0.3, 0.8, 0.6]).unwrap();
    net.present(&[1]).unwrap();
    let tol = 3e-7;
    assert_close("e1", net.event_rate(0), &[0.524979187, 0.650218549, 0.689974481, 0.386985824, 0.744596916, 0.413382421, 0.643365146, 0.631812418], tol);
    assert_close("e2", net.event_rate(1), &[0.598797180, 0.553819034], tol);
    assert_close("p2", net.burst_prob(1), &[0.379880441, 0.599538727], tol);
    assert_close("u1", net.apical(0), &[-0.257963641, 0.186735454, 0.074491924, -0.110609678, 0.317455058, -0.075653375, -0.021262502, 0.092449368], tol);
    assert_close("p1", net.burst_prob(0), &[0.379857668, 0.564947574, 0.523077988, 0.432607316, 0.580375734, 0.455736578, 0.492417632, 0.533986222], tol);
    assert_close("b1", net.burst_rate(0), &[0.199417370, 0.367339391, 0.360910463, 0.167412899, 0.432145981, 0.188393490, 0.316804342, 0.337379126], tol);
    net.train_step(&[1], false).unwrap();
    let l = net.layers();
    assert_close("W1 after", &l[0].weight, &[0.504312190, -0.304685008, 0.197149344, 0.804660547, -0.602568710, 0.403648179, 0.703864210, -0.101057142], tol);
    assert_close("b1 after", &l[0].bias, &[0.050782029, -0.098067470], tol);
    assert_close(
        "W2 after",
        &l[1].weight,
        &[0.296223969, -0.204676843, 0.495037203, 0.097216517, -0.405355681, 0.597026654, 0.195372451, -0.304544453, -0.497105977, 0.403584423, -0.096196416, 0.302133315, 0.204104698, -0.597721170, 0.403546643, 0.103482957],
        tol,
    );
    assert_close("b2 after", &l[1].bias, &[0.092807275, -0.044487356], tol);
    // Conv layers have no Q or Y learning (the authors', REFERENCE.md §4.4), even with η_Q set.
    assert_eq!(net.feedback()[0].q, q.to_vec());
    assert_eq!(net.feedback()[0].y, y.to_vec());
}

/// Positions of a conv layer that the layer above never reads get no apical input: u = 0, so
/// p = σ(0) = 0.5 = p_b and nothing changes there (REFERENCE.md §4.3, conv 1's last row and
/// column in the paper's net).
#[test]
fn positions_the_layer_above_never_reads_stay_at_baseline() {
    let cfg = Config { batch_size: 2, ..Config::default() }.with_stack("c4k3s1,c3k2s2,f6", [1, 8, 8], 3).unwrap();
    // conv 1 is 6×6; conv 2 (k2 s2) reads rows and columns 0–5: all of them. Make it 7×7.
    let cfg7 = Config { batch_size: 2, ..Config::default() }.with_stack("c4k2s1,c3k2s2,f6", [1, 8, 8], 3).unwrap();
    for (cfg, unread) in [(cfg, false), (cfg7, true)] {
        let mut net = Network::new(cfg).unwrap();
        let mut rng = Random::new(6, 6);
        let x: Vec<f32> = (0..2 * 64).map(|_| rng.uniform()).collect();
        net.load_inputs(&x).unwrap();
        net.present(&[0, 2]).unwrap();
        let g = net.layers()[0].shape.conv.unwrap();
        let u = net.apical(0);
        let mut zeros = 0;
        for r in 0..2 {
            for y in 0..g.h_out {
                for x in 0..g.w_out {
                    for c in 0..g.c_out {
                        let v = u[r * g.output_len() + (y * g.w_out + x) * g.c_out + c];
                        let edge = y == g.h_out - 1 || x == g.w_out - 1;
                        if unread && edge {
                            assert_eq!(v, 0.0, "unread position ({y}, {x}) has apical input");
                            assert_eq!(net.burst_prob(0)[r * g.output_len() + (y * g.w_out + x) * g.c_out + c], 0.5);
                            zeros += 1;
                        } else {
                            assert_ne!(v, 0.0, "position ({y}, {x}) should be read");
                        }
                    }
                }
            }
        }
        assert_eq!(zeros, if unread { 2 * (2 * g.h_out - 1) * g.c_out } else { 0 });
    }
}

/// When Q = p_b·Y (symmetric or tied Q, never learned), the burst pass takes one product,
/// δ·Y, instead of b·Y − e·Q; both give the same apical potentials.
#[test]
fn one_product_burst_pass_equals_the_two_product_one() {
    let cfg = Config { batch_size: 3, seed: 12, lr_q: 0.0, ..Config::default() }.with_stack("c5k3s2,f12", [2, 9, 9], 4).unwrap();
    assert_eq!(cfg.q_mode, FeedbackMode::SymmetricInit);
    let mut fused = Network::new(cfg.clone()).unwrap();
    let mut plain = Network::new(cfg).unwrap();
    // Break Q = p_b·Y exactly, by one unit in the last place of one entry: the two-product path.
    for k in 0..plain.feedback().len() {
        let (y, mut q) = (plain.feedback()[k].y.clone(), plain.feedback()[k].q.clone());
        q[0] = f32::from_bits(q[0].to_bits() + 1);
        plain.set_feedback(k, &y, &q).unwrap();
    }
    let mut rng = Random::new(7, 7);
    let x: Vec<f32> = (0..3 * 162).map(|_| rng.uniform()).collect();
    for net in [&mut fused, &mut plain] {
        net.load_inputs(&x).unwrap();
        net.present(&[0, 1, 3]).unwrap();
    }
    for k in 0..fused.layers().len() - 1 {
        assert_close(&format!("u{k}"), fused.apical(k), plain.apical(k), 1e-5);
        assert_close(&format!("p{k}"), fused.burst_prob(k), plain.burst_prob(k), 1e-6);
    }
}

#[test]
fn paper_cifar_network_has_the_papers_shapes_and_initialisation() {
    let cfg = Config::paper_cifar();
    assert_eq!(cfg.describe(), "3x32x32-c64k5s2-c128k5s2-c256k3s1-f1480-10");
    let shapes = cfg.shapes();
    let units: Vec<usize> = shapes.iter().map(|s| s.n_out).collect();
    assert_eq!(units, vec![64 * 14 * 14, 128 * 5 * 5, 256 * 3 * 3, 1480, 10]);
    let weights: Vec<usize> = shapes.iter().map(|s| s.weight_len()).collect();
    assert_eq!(weights, vec![64 * 3 * 25, 128 * 64 * 25, 256 * 128 * 9, 1480 * 2304, 10 * 1480]);
    assert_eq!((cfg.lr, cfg.y_scale, cfg.lr_q, cfg.p_baseline, cfg.batch_size), (0.1, 1.0, 0.0, 0.5, 32));
    let net = Network::new(cfg).unwrap();
    // REFERENCE.md §4.1: Xavier-normal with gain 3.6; std 0.1244, 0.07348, 0.0866, 0.08276, 0.13189.
    for (layer, want) in net.layers().iter().zip([0.1244, 0.07348, 0.0866, 0.08276, 0.13189]) {
        let n = layer.weight.len() as f64;
        let std = (layer.weight.iter().map(|&w| f64::from(w) * f64::from(w)).sum::<f64>() / n).sqrt();
        assert!((std - want).abs() < 0.02 * want + 3.0 * want / n.sqrt(), "std {std}, expected {want}");
        assert!(layer.bias.iter().all(|&b| b == 0.0));
    }
    // Y and Q have the kernel shapes of the layer above.
    for (k, fb) in net.feedback().iter().enumerate() {
        assert_eq!(fb.y.len(), net.layers()[k + 1].weight.len());
        assert_eq!(fb.q.len(), fb.y.len());
    }
}

#[test]
fn same_seed_same_result_and_snapshots_round_trip() {
    let cfg = Config { momentum: 0.5, ..small_conv(Rule::Burstccn) };
    let run = |cfg: &Config| {
        let mut net = Network::new(cfg.clone()).unwrap();
        let mut rng = Random::new(10, 10);
        for _ in 0..3 {
            let x: Vec<f32> = (0..4 * 98).map(|_| rng.uniform()).collect();
            net.load_inputs(&x).unwrap();
            net.train_step(&[0, 1, 2, 1], false).unwrap();
        }
        net
    };
    let (a, b) = (run(&cfg), run(&cfg));
    let c = run(&Config { seed: 4, ..cfg.clone() });
    for ((la, lb), lc) in a.layers().iter().zip(b.layers()).zip(c.layers()) {
        assert_eq!(la.weight, lb.weight);
        assert_ne!(la.weight, lc.weight);
    }
    for bytes in [snapshot::to_bytes(&a), snapshot::to_json(&a).into_bytes()] {
        let back = snapshot::load(&bytes).unwrap();
        assert_eq!(back.config(), a.config());
        for (x, y) in back.layers().iter().zip(a.layers()) {
            assert_eq!((&x.weight, &x.bias), (&y.weight, &y.bias));
        }
        for (x, y) in back.feedback().iter().zip(a.feedback()) {
            assert_eq!((&x.y, &x.q), (&y.y, &y.q));
        }
        assert_eq!(snapshot::to_bytes(&back), snapshot::to_bytes(&a), "a loaded snapshot saves to the same bytes");
    }
}

fn config_error(r: Result<Config, Error>) -> (String, String) {
    match r {
        Err(Error::Config { field, reason }) => (field, reason),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn impossible_conv_shapes_are_errors_naming_the_layer() {
    let base = Config::default();
    let (field, reason) = config_error(base.with_stack("c8k5s1,c8k5s1,c8k5s1", [1, 12, 12], 10));
    assert_eq!(field, "conv[2]");
    assert!(reason.contains("conv layer 3") && reason.contains("does not fit a 4×4 input"), "{reason}");
    for (spec, item) in [("c8", "item 1"), ("c8k", "item 1"), ("c8k3s", "item 1"), ("f10,c8k3", "item 2"), ("x5", "item 1"), ("c8k3q2", "item 1"), ("fz", "item 1")] {
        let (field, reason) = config_error(base.with_stack(spec, [1, 28, 28], 10));
        assert_eq!(field, "layers");
        assert!(reason.contains(item), "{spec}: {reason}");
    }
    let (field, reason) = config_error(base.with_stack("c0k3s1", [1, 28, 28], 10));
    assert_eq!(field, "conv[0]");
    assert!(reason.contains("0 channels"), "{reason}");
    let (field, _) = config_error(base.with_stack("c4k3s0", [1, 28, 28], 10));
    assert_eq!(field, "conv[0]");
    let (field, _) = config_error(base.with_stack("c4k3", [0, 28, 28], 10));
    assert_eq!(field, "input_shape");
    // The same errors through the JSON the page and snapshots use.
    let good = Config::mnist_conv_page();
    let bad = |patch: serde_json::Value| config_error(good.patched(&patch));
    assert_eq!(bad(serde_json::json!({"layers": [1000, 500, 10]})).0, "layers");
    assert!(bad(serde_json::json!({"layers": [1000, 500, 10]})).1.contains("1600"));
    assert_eq!(bad(serde_json::json!({"conv": [{"channels": 32, "kernel": 30, "stride": 1}]})).0, "conv[0]");
    assert_eq!(bad(serde_json::json!({"input_shape": null})).0, "input_shape");
    assert_eq!(bad(serde_json::json!({"conv": [{"channels": 32, "kernel": 3}]})).0, "conv");
    // 3.2 million units in one conv layer is allowed, but not a batch of 4096 of them.
    assert_eq!(bad(serde_json::json!({"batch_size": 4096, "conv": [{"channels": 4096, "kernel": 1, "stride": 1}], "layers": [3211264, 10]})).0, "batch_size");
    assert!(good.patched(&serde_json::json!({"batch_size": 1, "conv": [{"channels": 4096, "kernel": 1, "stride": 1}], "layers": [3211264, 10]})).is_ok());
    // A batch whose activity would not fit in memory.
    let big = Config { batch_size: 4096, ..Config::paper_cifar() };
    assert_eq!(config_error(big.validate().map(|_| big.clone())).0, "batch_size");
    // A snapshot cannot change a network's conv stack through set_config.
    let mut net = Network::new(Config::mnist_conv_page()).unwrap();
    let other = Config { conv: vec![ConvSpec { channels: 16, kernel: 5, stride: 2 }, ConvSpec { channels: 64, kernel: 3, stride: 2 }], ..Config::mnist_conv_page() };
    assert!(net.set_config(other).is_err());
}

/// A version 1 snapshot written by the engine before conv layers existed (the previous
/// release's command line: `train --layers 784,16,10 --epochs 1 --train-limit 96 --seed 3`).
#[test]
fn version_one_mlp_snapshots_still_load() {
    for (name, bytes) in [("binary", &include_bytes!("fixtures/mlp-v1.snap")[..]), ("json", &include_bytes!("fixtures/mlp-v1.json")[..])] {
        let net = snapshot::load(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(net.config().layers, vec![784, 16, 10], "{name}");
        assert!(!net.config().is_conv());
        assert_eq!(net.progress(), (3, 96), "{name}: three steps of 32");
        // Written again, it is version 2 and loads to the same network.
        let again = snapshot::load(&snapshot::to_bytes(&net)).unwrap();
        assert_eq!(again.layers()[0].weight, net.layers()[0].weight);
    }
    let json = String::from_utf8(include_bytes!("fixtures/mlp-v1.json").to_vec()).unwrap();
    assert!(json.contains("\"version\":1"));
    // A version 1 document cannot carry conv layers.
    let conv = json.replacen("\"layers\":[784,16,10]", "\"input_shape\":[1,28,28],\"conv\":[{\"channels\":2,\"kernel\":3,\"stride\":1}],\"layers\":[1352,16,10]", 1);
    assert!(snapshot::from_json(&conv).unwrap_err().to_string().contains("version 1"));
}

/// Every rule learns a small image task on a conv net: bright bars, horizontal or vertical.
#[test]
fn every_rule_learns_bars_with_a_conv_net() {
    let mut rng = Random::new(21, 21);
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..256 {
        let vertical = rng.below(2) == 1;
        let at = rng.below(8) as usize;
        for y in 0..8 {
            for x in 0..8 {
                let on = if vertical { x == at } else { y == at };
                images.push(if on { 0.9 } else { 0.1 * rng.uniform() });
            }
        }
        labels.push(u8::from(vertical));
    }
    for rule in [Rule::Burstccn, Rule::Backprop, Rule::Fa] {
        let cfg = Config { rule, lr: 2.0, batch_size: 16, seed: 2, lr_q: 0.0, ..Config::default() }.with_stack("c4k3s1,f16", [1, 8, 8], 2).unwrap();
        let mut net = Network::new(cfg).unwrap();
        let mut errors = Vec::new();
        for epoch in 0..40 {
            let mut wrong = 0;
            for b in 0..16 {
                net.load_inputs(&images[b * 16 * 64..(b + 1) * 16 * 64]).unwrap();
                wrong += net.train_step(&labels[b * 16..(b + 1) * 16], epoch == 0 && b == 0).unwrap().errors;
            }
            errors.push(wrong);
        }
        assert!(errors[0] > 40, "{rule:?}: starts near chance ({errors:?})");
        assert!(*errors.last().unwrap() < 10, "{rule:?}: learns the bars ({errors:?})");
    }
}
