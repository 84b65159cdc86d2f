//! How well BurstCCN's updates follow backprop's (the paper's "angle to backprop") and
//! feedback alignment's, how well Q cancels Y, and the mean activity of every layer.
//!
//! The angle between two updates ΔW = δ₁ᵀX and ΔW' = δ₂ᵀX is computed without forming
//! either matrix: ⟨δ₁ᵀX, δ₂ᵀX⟩_F = Σ_{s,t} (δ₁δ₂ᵀ)_{st} (XXᵀ)_{st}, a sum over B×B Gram
//! matrices. So diagnostics cost O(B²·n) per layer on top of the extra backward passes.
//! Conv layers form the three kernel updates instead (small kernels, many positions).

use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::network::Network;
use crate::kernels::{MatMut, MatRef};

/// Per weight layer (k = 0 is the first hidden layer; the last is the output layer).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerDiagnostics {
    /// Angle in degrees between BurstCCN's ΔW and backprop's −∇W (0 = same direction, 90 = unrelated).
    pub angle_bp: f32,
    /// Angle in degrees between BurstCCN's ΔW and feedback alignment's ΔW.
    pub angle_fa: f32,
    /// Angle in degrees between Y_k and Q_k (hidden layers; NaN for the output layer).
    pub angle_yq: f32,
    /// Mean event rate e over units and batch.
    pub event_rate: f32,
    /// Mean burst probability p.
    pub burst_prob: f32,
    /// Mean burst rate b = p·e.
    pub burst_rate: f32,
    /// Mean |u| of the apical potential (hidden layers; NaN for the output layer).
    pub abs_apical: f32,
}

/// Everything [`Network::diagnose`] measures on one batch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// One entry per weight layer.
    pub layers: Vec<LayerDiagnostics>,
    /// Mean |u| over all hidden units and samples.
    pub mean_abs_apical: f32,
}

/// Angle in degrees between two vectors given their dot product and squared norms.
/// Returns NaN when either vector is zero (the angle is undefined).
pub fn angle_degrees(dot: f64, norm2_a: f64, norm2_b: f64) -> f32 {
    if norm2_a <= 0.0 || norm2_b <= 0.0 {
        return f32::NAN;
    }
    let c = (dot / (libm::sqrt(norm2_a) * libm::sqrt(norm2_b))).clamp(-1.0, 1.0);
    (libm::acos(c) * (180.0 / core::f64::consts::PI)) as f32
}

fn dot_and_norms(a: &[f32], b: &[f32]) -> (f64, f64, f64) {
    let (mut d, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        d += x * y;
        na += x * x;
        nb += y * y;
    }
    (d, na, nb)
}

fn mean(v: &[f32]) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    (v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64) as f32
}

/// Measure BurstCCN on the network's current batch: requires the burst pass and both gradient
/// passes to have run (the `burst_prob`, `delta_bp` and `delta_fa` buffers are read).
pub(super) fn measure(net: &Network) -> Diagnostics {
    measure_update(net, true)
}

/// Measure a comparison model (Burstprop, EDN) built on `net`: its update direction is the
/// plasticity signal its own sweep left in every layer's `delta`. Its feedback has no Q, so
/// the Y–Q angle is NaN.
pub(super) fn measure_model(net: &Network) -> Diagnostics {
    measure_update(net, false)
}

fn measure_update(net: &Network, burstccn: bool) -> Diagnostics {
    let rows = net.rows();
    let kern = net.kernels();
    let layers = net.layers();
    let gram = |a: &[f32], b: &[f32], n: usize| -> Vec<f32> {
        let mut g = vec![0.0f32; rows * rows];
        kern.gemm_nt(1.0, MatRef::new(&a[..rows * n], rows, n), MatRef::new(&b[..rows * n], rows, n), 0.0, MatMut::new(&mut g, rows, rows));
        g
    };
    let frob = |g1: &[f32], g2: &[f32]| -> f64 { g1.iter().zip(g2).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum() };
    let pb = net.config().p_baseline;
    let mut out = Vec::with_capacity(layers.len());
    let (mut apical_sum, mut apical_count) = (0.0f64, 0usize);
    for (k, layer) in layers.iter().enumerate() {
        let n = layer.n_out;
        // BurstCCN's δ is (p − p_b)·e regardless of the rule in use: recompute it from p and e.
        let e = net.event_rate(k);
        let burst: Vec<f32> = if burstccn {
            net.burst_prob(k).iter().zip(e).map(|(&p, &e)| (p - pb) * e).collect()
        } else {
            layer.delta[..rows * n].to_vec()
        };
        // ⟨burst, bp⟩, ⟨burst, fa⟩ and the squared norms of the three updates.
        let (bp, bf, nb, np, nf) = match &layer.shape.conv {
            // Conv layers: B·positions rows would make the Gram matrices huge, and the kernels
            // are small, so form the three updates corr(x, δ) = δᵀ·windows and compare them.
            Some(g) => {
                let m = rows * g.positions();
                let windows = MatRef::new(&layer.cols[..m * g.window()], m, g.window());
                let update = |delta: &[f32]| -> Vec<f32> {
                    let mut w = vec![0.0f32; g.weight_len()];
                    kern.gemm_tn(1.0, MatRef::new(&delta[..m * g.c_out], m, g.c_out), windows, 0.0, MatMut::new(&mut w, g.c_out, g.window()));
                    w
                };
                let (ub, up, uf) = (update(&burst), update(&layer.delta_bp), update(&layer.delta_fa));
                let (d_bp, n_b, n_p) = dot_and_norms(&ub, &up);
                let (d_bf, _, n_f) = dot_and_norms(&ub, &uf);
                (d_bp, d_bf, n_b, n_p, n_f)
            }
            None => {
                let x = net.layer_input(k);
                let gx = gram(x, x, layer.n_in);
                let g_bb = gram(&burst, &burst, n);
                let g_pp = gram(&layer.delta_bp, &layer.delta_bp, n);
                let g_ff = gram(&layer.delta_fa, &layer.delta_fa, n);
                let g_bp = gram(&burst, &layer.delta_bp, n);
                let g_bf = gram(&burst, &layer.delta_fa, n);
                (frob(&g_bp, &gx), frob(&g_bf, &gx), frob(&g_bb, &gx), frob(&g_pp, &gx), frob(&g_ff, &gx))
            }
        };
        let angle_yq = match net.feedback().get(k) {
            Some(fb) if burstccn => {
                let (d, ny, nq) = dot_and_norms(&fb.y, &fb.q);
                angle_degrees(d, ny, nq)
            }
            _ => f32::NAN,
        };
        let apical = net.apical(k);
        let abs_apical = if apical.is_empty() {
            f32::NAN
        } else {
            let s: f64 = apical.iter().map(|&u| f64::from(u.abs())).sum();
            apical_sum += s;
            apical_count += apical.len();
            (s / apical.len() as f64) as f32
        };
        out.push(LayerDiagnostics {
            angle_bp: angle_degrees(bp, nb, np),
            angle_fa: angle_degrees(bf, nb, nf),
            angle_yq,
            event_rate: mean(e),
            burst_prob: mean(net.burst_prob(k)),
            burst_rate: mean(net.burst_rate(k)),
            abs_apical,
        });
    }
    Diagnostics {
        layers: out,
        mean_abs_apical: if apical_count > 0 { (apical_sum / apical_count as f64) as f32 } else { f32::NAN },
    }
}
