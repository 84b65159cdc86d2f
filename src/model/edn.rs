//! EDN, the dendritic error network (Sacramento, Ponte Costa, Bengio & Senn 2018), in the
//! steady-state, single-sweep form the BurstCCN authors compare against (REFERENCE.md §7).
//! MLP only (the authors have no conv variant).
//!
//! Every hidden layer k has, besides its pyramidal units, one interneuron per unit of the
//! layer above (m = n_{k+1}): input weights W^PI_k (m × n_k) and bias c^PI_k from the
//! pyramids, output weights W^IP_k (m × n_k) onto the pyramids' apical dendrites. With our
//! layer index k (SPEC's l = k + 1):
//!
//! - forward: somatic potential `v_k = e_{k−1}W_kᵀ + c_k`, `e_k = σ(v_k)`; interneuron
//!   potential `vᴵ_k = e_k W^PIᵀ_k + c^PI_k`;
//! - one top-down sweep, no settling. Output: target potential `v* = logit(0.2 + 0.6·t)`
//!   (±ln 4), nudged `vᵗ = (1 − λ_out)·v + λ_out·v*`, `eᵗ = σ(vᵗ)` (no teacher: `v* = v`).
//!   Hidden k, from the nudged layer above: interneurons `rᴵ = σ((1 − λ_int)·vᴵ +
//!   λ_int·vᵗ_{k+1})`; **apical potential** (the dendritic error) `a_k = eᵗ_{k+1}·Y_k −
//!   rᴵ·W^IP_k`; nudged soma `vᵗ_k = v_k + λ_hid·a_k`, `eᵗ_k = σ(vᵗ_k)`;
//! - plasticity: pyramids `δ_k = eᵗ_k − e_k`, `W_k += η·δᵀe_{k−1}/B`, `c_k += η·mean(δ)`
//!   through SGD with momentum (`m ← μ·m + g`, step `−η·m`), then the authors' decay
//!   `−λ·W, −λ·c` (λ not scaled by η; biases decay too); pyramid → interneuron
//!   `W^PI += η_PI·(rᴵ − σ(vᴵ))ᵀ·eᵗ_k/B`, `c^PI += η_PI·mean(rᴵ − σ(vᴵ))` — the presynaptic
//!   factor is the *nudged* rate eᵗ_k although vᴵ was computed from e_k (REFERENCE.md §7.4
//!   [AMBIG]; we reproduce the authors' form); interneuron → pyramid `W^IP += η_IP·rᴵᵀ·a_k/B`
//!   (drives a → 0). η_PI = η_IP = interneuron_lr_scale·η unless lr_interneuron is set. No
//!   momentum or decay on the interneuron weights. Y does not learn (the authors' Y learning
//!   crashes: its update is never defined).
//! - ties after every update: Y tied ⇒ `Y_k = y_scale·W_{k+1}`; interneurons tied ⇒
//!   `W^PI_k = W_{k+1}`, `c^PI_k = c_{k+1}`, `W^IP_k = interneuron_scale·Y_k`.
//!
//! Init: W Xavier-normal gain 3.6, c = 0; Y per its mode; interneurons symmetric (the
//! default) or tied: `W^PI = W_{k+1}`, `c^PI = c_{k+1}`, `W^IP = interneuron_scale·Y_k`;
//! random: W^PI Xavier gain 3.6, c^PI = 0, W^IP ~ N(0, interneuron_scale²).
//!
//! The wrapped [`Network`] holds W, b, Y, the event rates, the apical potentials (its
//! `apical` buffers hold a_k) and the backprop/FA reference deltas (from the raw one-hot t);
//! this file adds the potentials, the nudged rates and the interneurons.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::config::{finite_in, Config, FeedbackMode, Rule, MAX_BATCH_ACTIVITY, MAX_WEIGHTS};
use super::diagnostics::{self, Diagnostics};
use super::network::{Network, Parts, StepReport};
use crate::kernels::sigmoid::sigmoid;
use crate::kernels::{Kernels, MatMut, MatRef};
use crate::rng::Random;
use crate::Error;

/// Stream of the interneurons' random draws (interneuron_mode random).
const STREAM_INTERNEURONS: u64 = 61;

/// EDN's settings. Defaults are the authors' command line (REFERENCE.md §2.1): 784-500-500-
/// 500-10, η = 0.1, Y random with scale 1.0, λ_out = λ_int = λ_hid = 0.1, interneurons
/// symmetric at initialisation with scale 1.0 and learned at 2·η, plain SGD, batch 32.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdnConfig {
    /// Units per layer, input first.
    pub layers: Vec<usize>,
    /// η, the learning rate of W and c.
    pub lr: f32,
    /// How Y (top-down, pyramid → apical dendrite below) is set up.
    pub y_mode: FeedbackMode,
    /// Scale of Y.
    pub y_scale: f32,
    /// λ_out: how far the output potential is nudged towards the target's.
    pub lambda_output: f32,
    /// λ_int: how far an interneuron's potential is nudged towards its pyramid's above.
    pub lambda_interneuron: f32,
    /// λ_hid: how much the apical potential moves a hidden soma.
    pub lambda_hidden: f32,
    /// How the interneuron weights are set up: `symmetric_init`, `tied` or `random`.
    pub interneuron_mode: FeedbackMode,
    /// Scale of W^IP: its factor on Y (symmetric, tied) or its standard deviation (random).
    pub interneuron_scale: f32,
    /// η_PI = η_IP = interneuron_lr_scale·η, unless `lr_interneuron` is set.
    pub interneuron_lr_scale: f32,
    /// η_PI = η_IP outright (overrides the scale).
    pub lr_interneuron: Option<f32>,
    /// SGD momentum μ.
    pub momentum: f32,
    /// Weight decay λ in the authors' form: W ← W + ΔW − λ·W and c ← c + Δc − λ·c.
    pub weight_decay: f32,
    /// Samples per step (B).
    pub batch_size: usize,
    /// Seed of the weights, Y, the interneurons and the batch order.
    pub seed: u64,
}

impl Default for EdnConfig {
    fn default() -> Self {
        EdnConfig {
            layers: vec![784, 500, 500, 500, 10],
            lr: 0.1,
            y_mode: FeedbackMode::Random,
            y_scale: 1.0,
            lambda_output: 0.1,
            lambda_interneuron: 0.1,
            lambda_hidden: 0.1,
            interneuron_mode: FeedbackMode::SymmetricInit,
            interneuron_scale: 1.0,
            interneuron_lr_scale: 2.0,
            lr_interneuron: None,
            momentum: 0.0,
            weight_decay: 0.0,
            batch_size: 32,
            seed: 1,
        }
    }
}

impl EdnConfig {
    /// The wrapped network's configuration (its own plasticity and its Q are never used).
    pub fn network_config(&self) -> Config {
        Config {
            layers: self.layers.clone(),
            rule: Rule::Burstccn,
            lr: self.lr,
            y_mode: self.y_mode,
            y_scale: self.y_scale,
            q_mode: FeedbackMode::SymmetricInit,
            lr_q: 0.0,
            lr_y: 0.0,
            momentum: self.momentum,
            weight_decay: 0.0,
            batch_size: self.batch_size,
            seed: self.seed,
            ..Config::default()
        }
    }

    /// η_PI = η_IP.
    pub fn interneuron_lr(&self) -> f32 {
        self.lr_interneuron.unwrap_or(self.interneuron_lr_scale * self.lr)
    }

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        let net = self.network_config();
        net.validate()?;
        for (name, v) in [("lambda_output", self.lambda_output), ("lambda_interneuron", self.lambda_interneuron), ("lambda_hidden", self.lambda_hidden)] {
            finite_in(name, v, 0.0, 1.0)?;
        }
        finite_in("interneuron_scale", self.interneuron_scale, 0.0, 100.0)?;
        finite_in("interneuron_lr_scale", self.interneuron_lr_scale, 0.0, 100.0)?;
        if let Some(v) = self.lr_interneuron {
            finite_in("lr_interneuron", v, 0.0, 100.0)?;
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay < 1.0) {
            return Err(Error::config("weight_decay", format!("must be in [0, 1) (W ← W + ΔW − λ·W), got {}", self.weight_decay)));
        }
        // Potentials, nudged potentials and rates per unit; two interneuron buffers per unit above.
        let units: usize = self.layers.iter().skip(1).sum();
        let above: usize = self.layers.iter().skip(2).sum();
        if units.saturating_mul(3).saturating_add(above.saturating_mul(3)).saturating_mul(self.batch_size) > MAX_BATCH_ACTIVITY {
            return Err(Error::config("batch_size", format!("a batch of {} needs more than {MAX_BATCH_ACTIVITY} activity values with the interneurons; use a smaller batch or network", self.batch_size)));
        }
        let interneuron_weights: usize = self.layers.windows(3).map(|w| w[1].saturating_mul(w[2]).saturating_mul(2).saturating_add(w[2])).fold(0, usize::saturating_add);
        if net.weight_count().saturating_add(interneuron_weights) > MAX_WEIGHTS {
            return Err(Error::config("layers", format!("with the interneurons, more than the limit of {MAX_WEIGHTS} weights")));
        }
        Ok(())
    }
}

/// An EDN network: a [`Network`] plus potentials, nudged rates and interneurons.
#[derive(Clone, Debug)]
pub struct Edn {
    cfg: EdnConfig,
    net: Network,
    /// Per layer: somatic potential v, nudged potential vᵗ, nudged rate eᵗ (`rows × n`).
    potential: Vec<Vec<f32>>,
    nudged_potential: Vec<Vec<f32>>,
    nudged_rate: Vec<Vec<f32>>,
    /// Per hidden layer: the interneurons' basal potential vᴵ and nudged rate rᴵ (`rows × m`).
    interneuron_potential: Vec<Vec<f32>>,
    interneuron_rate: Vec<Vec<f32>>,
    /// Per hidden layer: W^PI (`m × n`), c^PI (`m`), W^IP (`m × n`).
    w_pi: Vec<Vec<f32>>,
    c_pi: Vec<Vec<f32>>,
    w_ip: Vec<Vec<f32>>,
    capacity: usize,
}

impl Edn {
    /// A freshly initialised network from `cfg.seed`.
    pub fn new(cfg: EdnConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let net = Network::new(cfg.network_config())?;
        let depth = net.layers().len();
        let mut rng = Random::new(cfg.seed, STREAM_INTERNEURONS);
        let (mut w_pi, mut c_pi, mut w_ip) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..depth - 1 {
            let (above, y) = (&net.layers()[k + 1], &net.feedback()[k].y);
            match cfg.interneuron_mode {
                FeedbackMode::SymmetricInit | FeedbackMode::Tied => {
                    w_pi.push(above.weight.clone());
                    c_pi.push(above.bias.clone());
                    w_ip.push(y.iter().map(|v| cfg.interneuron_scale * v).collect());
                }
                FeedbackMode::Random => {
                    // W^PI is m × n_k: fan_in n_k, fan_out m, as the layer above's W.
                    let std = 3.6 * libm::sqrtf(2.0 / (above.n_in + above.n_out) as f32);
                    w_pi.push((0..above.weight.len()).map(|_| std * rng.normal()).collect());
                    c_pi.push(vec![0.0; above.n_out]);
                    w_ip.push((0..y.len()).map(|_| cfg.interneuron_scale * rng.normal()).collect());
                }
            }
        }
        let mut model = Edn {
            net,
            potential: vec![Vec::new(); depth],
            nudged_potential: vec![Vec::new(); depth],
            nudged_rate: vec![Vec::new(); depth],
            interneuron_potential: vec![Vec::new(); depth - 1],
            interneuron_rate: vec![Vec::new(); depth - 1],
            w_pi,
            c_pi,
            w_ip,
            capacity: 0,
            cfg,
        };
        model.ensure_capacity(model.cfg.batch_size);
        Ok(model)
    }

    fn ensure_capacity(&mut self, rows: usize) {
        if rows <= self.capacity {
            return;
        }
        self.capacity = rows;
        let layers = self.net.layers();
        for (k, l) in layers.iter().enumerate() {
            for buf in [&mut self.potential[k], &mut self.nudged_potential[k], &mut self.nudged_rate[k]] {
                *buf = vec![0.0; rows * l.n_out];
            }
            if k + 1 < layers.len() {
                let m = layers[k + 1].n_out;
                self.interneuron_potential[k] = vec![0.0; rows * m];
                self.interneuron_rate[k] = vec![0.0; rows * m];
            }
        }
    }

    // ------------------------------------------------------------------ accessors

    super::network_accessors!(EdnConfig, "W, b, Y, the event rates and the apical potentials");

    /// Set W and b of layer k (tests: hand-built networks); tied feedback follows.
    pub fn set_weight(&mut self, k: usize, w: &[f32], b: &[f32]) -> Result<(), Error> {
        self.net.set_weight(k, w, b)?;
        self.tie_interneurons();
        Ok(())
    }

    /// Set Y of feedback k (shaped like W_{k+1}; tests and demonstrations).
    pub fn set_y(&mut self, k: usize, y: &[f32]) -> Result<(), Error> {
        let q = self.net.feedback().get(k).map(|f| f.q.clone()).unwrap_or_default();
        self.net.set_feedback(k, y, &q)?;
        self.tie_interneurons();
        Ok(())
    }

    fn rows_of(&self, k: usize) -> usize {
        self.net.rows() * self.net.layers()[k].n_out
    }

    /// Somatic (= basal) potential v of layer k, `rows × n`.
    pub fn potential(&self, k: usize) -> &[f32] {
        &self.potential[k][..self.rows_of(k)]
    }

    /// Nudged potential vᵗ of layer k after the top-down sweep.
    pub fn nudged_potential(&self, k: usize) -> &[f32] {
        &self.nudged_potential[k][..self.rows_of(k)]
    }

    /// Nudged rate eᵗ = σ(vᵗ) of layer k.
    pub fn nudged_rate(&self, k: usize) -> &[f32] {
        &self.nudged_rate[k][..self.rows_of(k)]
    }

    /// The apical potential a_k (the dendritic error) of hidden layer k; empty for the output.
    pub fn apical_error(&self, k: usize) -> &[f32] {
        self.net.apical(k)
    }

    /// Interneuron rates rᴵ of hidden layer k (`rows × n_{k+1}`) after the sweep; empty for
    /// the output layer.
    pub fn interneuron_rate(&self, k: usize) -> &[f32] {
        match self.interneuron_rate.get(k) {
            Some(r) => &r[..self.rows_of(k + 1)],
            None => &[],
        }
    }

    /// The interneuron weights of hidden layer k: (W^PI, c^PI, W^IP).
    pub fn interneuron_weights(&self, k: usize) -> (&[f32], &[f32], &[f32]) {
        (&self.w_pi[k], &self.c_pi[k], &self.w_ip[k])
    }

    /// Set the interneuron weights of hidden layer k (tests and demonstrations).
    pub fn set_interneuron_weights(&mut self, k: usize, w_pi: &[f32], c_pi: &[f32], w_ip: &[f32]) -> Result<(), Error> {
        if k >= self.w_pi.len() {
            return Err(Error::Shape(format!("no hidden layer {k}")));
        }
        if w_pi.len() != self.w_pi[k].len() || c_pi.len() != self.c_pi[k].len() || w_ip.len() != self.w_ip[k].len() {
            return Err(Error::Shape(format!("hidden layer {k} needs {} + {} + {} interneuron weights", self.w_pi[k].len(), self.c_pi[k].len(), self.w_ip[k].len())));
        }
        self.w_pi[k].copy_from_slice(w_pi);
        self.c_pi[k].copy_from_slice(c_pi);
        self.w_ip[k].copy_from_slice(w_ip);
        Ok(())
    }

    /// The tensors beyond the wrapped network's, by name, for snapshots.
    pub(crate) fn extra_tensors(&self) -> Vec<(String, &[f32])> {
        let mut out: Vec<(String, &[f32])> = Vec::new();
        for k in 0..self.w_pi.len() {
            out.push((format!("interneuron_weight[{k}]"), &self.w_pi[k]));
            out.push((format!("interneuron_bias[{k}]"), &self.c_pi[k]));
            out.push((format!("interneuron_to_pyramid[{k}]"), &self.w_ip[k]));
        }
        out
    }

    pub(crate) fn extra_tensors_mut(&mut self) -> Vec<(String, &mut Vec<f32>)> {
        let mut out: Vec<(String, &mut Vec<f32>)> = Vec::new();
        for (k, ((a, b), c)) in self.w_pi.iter_mut().zip(self.c_pi.iter_mut()).zip(self.w_ip.iter_mut()).enumerate() {
            out.push((format!("interneuron_weight[{k}]"), a));
            out.push((format!("interneuron_bias[{k}]"), b));
            out.push((format!("interneuron_to_pyramid[{k}]"), c));
        }
        out
    }

    /// Change learning settings without touching any weight; the layer sizes and the seed need
    /// a new network. A mode switched to `tied` ties at once.
    pub fn set_config(&mut self, cfg: EdnConfig) -> Result<(), Error> {
        cfg.validate()?;
        if cfg.layers != self.cfg.layers {
            return Err(Error::config("layers", "changing layer sizes needs a new network (reset)"));
        }
        if cfg.seed != self.cfg.seed {
            return Err(Error::config("seed", "changing the seed needs a new network (reset)"));
        }
        self.net.set_config(cfg.network_config())?;
        self.cfg = cfg;
        self.ensure_capacity(self.cfg.batch_size.max(self.net.rows()));
        self.tie_interneurons();
        Ok(())
    }

    // ------------------------------------------------------------------ the model

    /// Forward pass and the sweep without a teacher (the output is not nudged). No plasticity.
    pub fn predict(&mut self) {
        self.net.set_teacher(None).expect("no labels to check");
        self.forward();
        self.sweep(false);
    }

    /// Forward pass and the sweep with a teacher, no plasticity: (sum of squared errors, misclassified).
    pub fn present(&mut self, labels: &[u8]) -> Result<(f64, usize), Error> {
        self.net.set_teacher(Some(labels))?;
        self.forward();
        self.sweep(true);
        Ok(self.net.score())
    }

    /// Angles of EDN's update to backprop's and FA's on the loaded batch, unchanged network.
    pub fn diagnose(&mut self, labels: &[u8]) -> Result<Diagnostics, Error> {
        self.present(labels)?;
        Ok(self.measure())
    }

    fn measure(&mut self) -> Diagnostics {
        self.net.ensure_diagnostic_buffers();
        self.net.gradient_deltas(true, true);
        let mut d = diagnostics::measure_model(&self.net);
        // EDN has no bursts.
        for l in &mut d.layers {
            l.burst_prob = f32::NAN;
            l.burst_rate = f32::NAN;
        }
        d
    }

    /// One training step on the loaded batch. Nothing changes if anything is non-finite.
    pub fn train_step(&mut self, labels: &[u8], diagnostics: bool) -> Result<StepReport, Error> {
        self.net.set_teacher(Some(labels))?;
        self.step(true, diagnostics)
    }

    /// One step with no teacher: the output is not nudged, but the apical potentials still
    /// move the hidden layers (and the interneurons learn).
    pub fn train_step_without_teacher(&mut self, diagnostics: bool) -> Result<StepReport, Error> {
        if self.net.rows() == 0 {
            return Err(Error::Shape("no input loaded".into()));
        }
        self.net.set_teacher(None)?;
        self.step(false, diagnostics)
    }

    fn step(&mut self, teach: bool, diagnostics: bool) -> Result<StepReport, Error> {
        self.forward();
        let (sse, errors) = if teach { self.net.score() } else { (0.0, 0) };
        let (steps, samples) = self.net.progress();
        if !sse.is_finite() || self.net.output().iter().any(|v| !v.is_finite()) {
            return Err(Error::Diverged(format!("output event rates are not finite at step {steps}")));
        }
        self.sweep(teach);
        let diag = if diagnostics && teach { Some(self.measure()) } else { None };
        self.check_finite()?;
        self.plasticity();
        let rows = self.net.rows();
        self.net.set_progress(steps + 1, samples + rows as u64);
        Ok(StepReport { rows, sum_squared_error: sse, errors, diagnostics: diag })
    }

    /// `v_k = e_{k−1}W_kᵀ + c_k`, `e_k = σ(v_k)`, and the interneurons' `vᴵ_k = e_k W^PIᵀ + c^PI`.
    /// (The same products as the network's forward pass, keeping the potentials.)
    fn forward(&mut self) {
        self.ensure_capacity(self.net.rows());
        let Parts { kern, rows, input, layers, .. } = self.net.parts();
        for k in 0..layers.len() {
            let (below, rest) = layers.split_at_mut(k);
            let layer = &mut rest[0];
            let x = match below.last() {
                Some(prev) => &prev.event_rate[..rows * prev.n_out],
                None => input,
            };
            let n = layer.n_out;
            let v = &mut self.potential[k][..rows * n];
            affine(kern, rows, x, layer.n_in, &layer.weight, &layer.bias, v);
            for (e, &v) in layer.event_rate[..rows * n].iter_mut().zip(v.iter()) {
                *e = sigmoid(v);
            }
            if k < self.w_pi.len() {
                let m = self.c_pi[k].len();
                affine(kern, rows, &layer.event_rate[..rows * n], n, &self.w_pi[k], &self.c_pi[k], &mut self.interneuron_potential[k][..rows * m]);
            }
        }
    }

    /// The single top-down sweep (module docs): nudged potentials and rates, interneuron
    /// rates, apical potentials, and δ = eᵗ − e in the network.
    fn sweep(&mut self, teach: bool) {
        let cfg = &self.cfg;
        let Parts { kern, rows, labels, layers, feedback, .. } = self.net.parts();
        let depth = layers.len();
        {
            let k = depth - 1;
            let out = &mut layers[k];
            let n = out.n_out;
            let lo = cfg.lambda_output;
            for (r, &label) in labels.iter().enumerate().take(rows) {
                let label = usize::from(label);
                for j in 0..n {
                    let i = r * n + j;
                    let v = self.potential[k][i];
                    let vt = if teach {
                        // logit(0.2 + 0.6·t): ±ln 4.
                        let s = if j == label { 0.8f64 } else { 0.2 };
                        let target = libm::log(s / (1.0 - s)) as f32;
                        (1.0 - lo) * v + lo * target
                    } else {
                        v
                    };
                    let et = sigmoid(vt);
                    self.nudged_potential[k][i] = vt;
                    self.nudged_rate[k][i] = et;
                    out.delta[i] = et - out.event_rate[i];
                }
            }
        }
        let (li, lh) = (cfg.lambda_interneuron, cfg.lambda_hidden);
        for k in (0..depth - 1).rev() {
            let (n, m) = (layers[k].n_out, layers[k + 1].n_out);
            let (vt_above, et_above) = (&self.nudged_potential[k + 1][..rows * m], &self.nudged_rate[k + 1][..rows * m]);
            let ri = &mut self.interneuron_rate[k][..rows * m];
            for ((r, &vi), &vt) in ri.iter_mut().zip(&self.interneuron_potential[k][..rows * m]).zip(vt_above) {
                *r = sigmoid((1.0 - li) * vi + li * vt);
            }
            let layer = &mut layers[k];
            let a = &mut layer.apical[..rows * n];
            // a = eᵗ_{k+1}·Y − rᴵ·W^IP.
            kern.gemm_nn(1.0, MatRef::new(et_above, rows, m), MatRef::new(&feedback[k].y, m, n), 0.0, MatMut::new(a, rows, n));
            kern.gemm_nn(-1.0, MatRef::new(ri, rows, m), MatRef::new(&self.w_ip[k], m, n), 1.0, MatMut::new(a, rows, n));
            for i in 0..rows * n {
                let vt = self.potential[k][i] + lh * layer.apical[i];
                let et = sigmoid(vt);
                self.nudged_potential[k][i] = vt;
                self.nudged_rate[k][i] = et;
                layer.delta[i] = et - layer.event_rate[i];
            }
        }
    }

    fn check_finite(&self) -> Result<(), Error> {
        let rows = self.net.rows();
        for (k, layer) in self.net.layers().iter().enumerate() {
            let n = rows * layer.n_out;
            if layer.delta[..n].iter().any(|v| !v.is_finite()) {
                return Err(Error::Diverged(format!("plasticity signal of layer {} is not finite", k + 1)));
            }
            // The apical potential feeds W^IP's update unbounded: refuse it well before that
            // update could overflow (a sigmoid unit's potential beyond ±1e10 means nothing).
            if !layer.apical.is_empty() && !bounded(&layer.apical[..n]) {
                return Err(Error::Diverged(format!("apical potential of layer {} is not finite or beyond ±{POTENTIAL_LIMIT:e}{}", k + 1, self.stability_hint(k))));
            }
            if !bounded(&self.nudged_potential[k][..n]) {
                return Err(Error::Diverged(format!("nudged potential of layer {} is not finite or beyond ±{POTENTIAL_LIMIT:e}", k + 1)));
            }
            if let Some(r) = self.interneuron_rate.get(k) {
                let m = rows * self.c_pi[k].len();
                if r[..m].iter().any(|v| !v.is_finite()) {
                    return Err(Error::Diverged(format!("interneuron rates of layer {} are not finite", k + 1)));
                }
            }
        }
        Ok(())
    }

    /// Why hidden layer k's apical potential may have run away: the interneuron → pyramid
    /// update `W^IP += η_IP·rᴵᵀa/B` changes a by `−η_IP·(rᴵ·rᴵᵀ/B)·a`, whose largest factor
    /// is about |mean rᴵ|² ≤ m (m interneurons, rates ≤ 1). Gradient descent with a step above
    /// 2/that factor oscillates and grows; on 500 interneurons at rates near ½ the authors'
    /// η_IP = 0.2 gives 0.2·125 = 25 (×24 a step). Below 2/m it is stable at any rates.
    fn stability_hint(&self, k: usize) -> String {
        let Some(c) = self.c_pi.get(k) else { return String::new() };
        let (lr_i, m) = (self.cfg.interneuron_lr(), c.len() as f32);
        if self.cfg.interneuron_mode == FeedbackMode::Tied || lr_i * m <= 2.0 {
            return String::new();
        }
        format!(
            " (η_IP = {lr_i} on {m} interneurons: the interneuron → pyramid update is stable only for η_IP·|rᴵ|² < 2, and |rᴵ|² reaches {m}; an interneuron rate below 2/{m} = {:.4} (--lr-interneuron) keeps it stable)",
            2.0 / m
        )
    }

    /// W and c of every layer, the interneuron weights, then the ties (module docs).
    fn plasticity(&mut self) {
        let cfg = &self.cfg;
        let (lr, mu, keep) = (cfg.lr, cfg.momentum, 1.0 - cfg.weight_decay);
        let lr_i = cfg.interneuron_lr();
        let Parts { kern, rows, input, layers, .. } = self.net.parts();
        let inv_b = 1.0 / rows as f32;
        for k in 0..layers.len() {
            let (below, rest) = layers.split_at_mut(k);
            let layer = &mut rest[0];
            let x = match below.last() {
                Some(prev) => &prev.event_rate[..rows * prev.n_out],
                None => input,
            };
            let (n_in, n) = (layer.n_in, layer.n_out);
            let delta = MatRef::new(&layer.delta[..rows * n], rows, n);
            let mut mean_delta = vec![0.0f32; n];
            for row in layer.delta[..rows * n].chunks_exact(n) {
                for (s, &d) in mean_delta.iter_mut().zip(row) {
                    *s += d;
                }
            }
            for s in mean_delta.iter_mut() {
                *s *= inv_b;
            }
            if mu > 0.0 {
                // Velocity −m: v ← μ·v + δᵀx/B;  W ← W + η·v − λ·W.
                kern.gemm_tn(inv_b, delta, MatRef::new(x, rows, n_in), mu, MatMut::new(&mut layer.weight_velocity, n, n_in));
                for (w, v) in layer.weight.iter_mut().zip(&layer.weight_velocity) {
                    *w = keep * *w + lr * v;
                }
                for ((b, v), s) in layer.bias.iter_mut().zip(layer.bias_velocity.iter_mut()).zip(&mean_delta) {
                    *v = mu * *v + s;
                    *b = keep * *b + lr * *v;
                }
            } else {
                kern.gemm_tn(lr * inv_b, delta, MatRef::new(x, rows, n_in), keep, MatMut::new(&mut layer.weight, n, n_in));
                for (b, s) in layer.bias.iter_mut().zip(&mean_delta) {
                    *b = keep * *b + lr * s;
                }
            }
        }
        if lr_i > 0.0 && cfg.interneuron_mode != FeedbackMode::Tied {
            for k in 0..self.w_pi.len() {
                let (n, m) = (layers[k].n_out, layers[k + 1].n_out);
                let ri = &self.interneuron_rate[k][..rows * m];
                // rᴵ − σ(vᴵ): how far the nudge moved each interneuron.
                let d: Vec<f32> = ri.iter().zip(&self.interneuron_potential[k][..rows * m]).map(|(&r, &v)| r - sigmoid(v)).collect();
                kern.gemm_tn(lr_i * inv_b, MatRef::new(&d, rows, m), MatRef::new(&self.nudged_rate[k][..rows * n], rows, n), 1.0, MatMut::new(&mut self.w_pi[k], m, n));
                let c = &mut self.c_pi[k];
                for row in d.chunks_exact(m) {
                    for (c, &v) in c.iter_mut().zip(row) {
                        *c += lr_i * inv_b * v;
                    }
                }
                kern.gemm_tn(lr_i * inv_b, MatRef::new(ri, rows, m), MatRef::new(&layers[k].apical[..rows * n], rows, n), 1.0, MatMut::new(&mut self.w_ip[k], m, n));
            }
        }
        if cfg.y_mode == FeedbackMode::Tied {
            let Parts { layers, feedback, .. } = self.net.parts();
            for (k, fb) in feedback.iter_mut().enumerate() {
                for (y, w) in fb.y.iter_mut().zip(&layers[k + 1].weight) {
                    *y = cfg.y_scale * w;
                }
            }
        }
        self.tie_interneurons();
    }

    /// Interneurons tied: `W^PI_k = W_{k+1}`, `c^PI_k = c_{k+1}`, `W^IP_k = scale·Y_k`.
    fn tie_interneurons(&mut self) {
        if self.cfg.interneuron_mode != FeedbackMode::Tied {
            return;
        }
        let s = self.cfg.interneuron_scale;
        for k in 0..self.w_pi.len() {
            let above = &self.net.layers()[k + 1];
            self.w_pi[k].copy_from_slice(&above.weight);
            self.c_pi[k].copy_from_slice(&above.bias);
            for (w, y) in self.w_ip[k].iter_mut().zip(&self.net.feedback()[k].y) {
                *w = s * y;
            }
        }
    }
}

/// Largest potential a step accepts (see `check_finite`).
pub(crate) const POTENTIAL_LIMIT: f32 = 1e10;

/// Every value finite and within ±[`POTENTIAL_LIMIT`].
pub(crate) fn bounded(v: &[f32]) -> bool {
    v.iter().all(|x| x.abs() <= POTENTIAL_LIMIT)
}

/// `out (rows × n) ← x·Wᵀ + c` for W of `n × n_in`.
fn affine(kern: &dyn Kernels, rows: usize, x: &[f32], n_in: usize, w: &[f32], c: &[f32], out: &mut [f32]) {
    let n = c.len();
    kern.gemm_nt(1.0, MatRef::new(&x[..rows * n_in], rows, n_in), MatRef::new(w, n, n_in), 0.0, MatMut::new(out, rows, n));
    for row in out.chunks_exact_mut(n) {
        for (v, b) in row.iter_mut().zip(c) {
            *v += b;
        }
    }
}
