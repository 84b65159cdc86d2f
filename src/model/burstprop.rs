//! Burstprop (Payeur, Guerguiev, Zenke, Richards & Naud 2021), as the BurstCCN authors
//! implement it for their comparisons (REFERENCE.md §6), on an MLP or a conv stack
//! (ConvBurstprop, §6.3).
//!
//! Burstprop has no event-rate feedback Q. Instead every step runs **two top-down sweeps at
//! once**, one without the teacher (the *baseline* sweep) and one with it (the *teacher*
//! sweep); plasticity follows their difference. With our layer index k (SPEC's l = k + 1):
//!
//! - forward as BurstCCN: `e_k = σ(e_{k−1} W_kᵀ + c_k)` (or a convolution);
//! - output: baseline `p̄ = p_b`, teacher `p = p_b·((t − e)(1 − e) + 1)`; `b̄ = p̄·e`, `b = p·e`;
//! - sent down through Y_{k+1} (shaped like W_{k+1}, owned by the sending layer k + 1 — the
//!   same shape and role as [`Feedback::y`]): `a_k = b̄_{k+1}·Y`, `aᵗ_k = b_{k+1}·Y` (through
//!   the transposed convolution when layer k + 1 is conv);
//! - hidden, **gain 1** (BurstCCN's is 4): `p̄ = σ(ū)`, `p = σ(uᵗ)` with `ū = a ⊙ (1 − e)`,
//!   `uᵗ = aᵗ ⊙ (1 − e)`; with recurrent input R (dense hidden layers), first a provisional
//!   burst rate `r = σ(a) ⊙ e` (no (1 − e) factor, as the authors'), then
//!   `ū = a ⊙ (1 − e) − r·Rᵀ` and `uᵗ = aᵗ ⊙ (1 − e) − r·Rᵀ`;
//! - plasticity, every layer: `δ = b − b̄ = (p − p̄)·e`, averaged over the *configured* batch
//!   size B_cfg (the authors divide by it even for a smaller last batch), with momentum
//!   `ΔW ← η·δᵀe_{k−1}/B_cfg + μ·ΔW`, `W ← W + ΔW − λ·W`; `Δc ← η·Σδ/B_cfg + μ·Δc`,
//!   `c ← c + Δc` (biases do not decay);
//! - Y learning (optional): Y gets the same update as the W of its layer (same δ and η, its
//!   own momentum, decay −λY). As in the authors' code, conv layers' Y only decay;
//! - recurrent learning: `R ← R + η_r·ūᵀ r`, summed over the batch (not divided by B): it
//!   drives the baseline apical potential ū to 0;
//! - Y tied: after every update `Y = y_scale·W` of the sending layer.
//!
//! Init: W Xavier-normal with gain 3.6, c = 0, Y as the mode says (random: N(0, y_scale²)),
//! R ~ N(0, recurrent_scale²) in an MLP and U(−recurrent_scale, recurrent_scale) in a conv
//! net (the authors' two networks differ there). Conv layers have no recurrence.
//!
//! Everything the model shares with BurstCCN — W, b, Y, the forward pass, the activity
//! buffers, the backprop/FA reference deltas for the angles — lives in the wrapped
//! [`Network`]; this file adds the baseline sweep's state, R and Y's momentum.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::config::{finite_in, Config, ConvSpec, FeedbackMode, Rule, MAX_BATCH_ACTIVITY, MAX_WEIGHTS};
use super::diagnostics::{self, Diagnostics};
use super::edn::{bounded, POTENTIAL_LIMIT};
use super::network::{bias_step, correlate_into, transpose_layer, Network, Parts, StepReport};
use crate::kernels::sigmoid::sigmoid;
use crate::kernels::{Kernels, MatMut, MatRef};
use crate::rng::Random;
use crate::Error;

/// Stream of the recurrent weights' draw (independent of W's and Y's).
const STREAM_RECURRENT: u64 = 51;

/// Burstprop's settings. Defaults are the authors' command line (REFERENCE.md §2.1):
/// 784-500-500-500-10, η = 0.1, p_b = 0.2, Y random with scale 1.0 and fixed, recurrent input
/// on and learned with η_r = 1e-4 from R of scale 0.01, no momentum or weight decay, batch 32.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BurstpropConfig {
    /// Shape of one input, `[channels, height, width]` (conv nets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_shape: Option<[usize; 3]>,
    /// Conv layers, input side first (ConvBurstprop); empty for an MLP.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conv: Vec<ConvSpec>,
    /// Units per dense layer, input (or flattened conv output) first.
    pub layers: Vec<usize>,
    /// η, the learning rate of W and c (and of Y when it learns).
    pub lr: f32,
    /// p_b, the output layer's baseline burst probability.
    pub p_baseline: f32,
    /// How Y is set up: random N(0, y_scale²), symmetric at init, or tied (Y = y_scale·W).
    pub y_mode: FeedbackMode,
    /// Scale of Y.
    pub y_scale: f32,
    /// Y learns with W's update (same δ, same η).
    pub y_learning: bool,
    /// Recurrent input R in the dense hidden layers.
    pub recurrent: bool,
    /// η_r, the rate of `R += η_r·ūᵀ r` (a sum over the batch); 0 keeps R fixed.
    pub lr_recurrent: f32,
    /// Scale of R's initial draw: its standard deviation (MLP) or half-range (conv nets).
    pub recurrent_scale: f32,
    /// SGD momentum μ.
    pub momentum: f32,
    /// Weight decay λ in the authors' form, `W ← W + ΔW − λ·W` (λ not scaled by η; biases
    /// do not decay).
    pub weight_decay: f32,
    /// Samples per step (B_cfg: updates are divided by it).
    pub batch_size: usize,
    /// Seed of the weights, Y, R and the batch order.
    pub seed: u64,
}

impl Default for BurstpropConfig {
    fn default() -> Self {
        BurstpropConfig {
            input_shape: None,
            conv: Vec::new(),
            layers: vec![784, 500, 500, 500, 10],
            lr: 0.1,
            p_baseline: 0.2,
            y_mode: FeedbackMode::Random,
            y_scale: 1.0,
            y_learning: false,
            recurrent: true,
            lr_recurrent: 1e-4,
            recurrent_scale: 0.01,
            momentum: 0.0,
            weight_decay: 0.0,
            batch_size: 32,
            seed: 1,
        }
    }
}

impl BurstpropConfig {
    /// The paper's CIFAR-10 ConvBurstprop as the authors build it (REFERENCE.md §6.3): with Y
    /// fixed, 3×32×32 → conv 64 5×5 s2 → conv **256** 5×5 s2 → conv 256 3×3 s1 → **1480** → 10;
    /// with `y_learning`, conv 64 → 128 → 256 and an FC layer of **1024**. Otherwise the
    /// command-line defaults (η 0.1, p_b 0.2, Y random scale 1.0, recurrence on).
    pub fn paper_cifar(y_learning: bool) -> BurstpropConfig {
        let stack = if y_learning { "c64k5s2,c128k5s2,c256k3s1,f1024" } else { "c64k5s2,c256k5s2,c256k3s1,f1480" };
        BurstpropConfig { y_learning, ..BurstpropConfig::default() }.with_stack(stack, [3, 32, 32], 10).expect("the authors' network is valid")
    }

    /// This configuration on a stack such as `c64k5s2,f500` (see [`Config::with_stack`]).
    pub fn with_stack(&self, spec: &str, input_shape: [usize; 3], outputs: usize) -> Result<BurstpropConfig, Error> {
        let net = self.network_config().with_stack(spec, input_shape, outputs)?;
        let cfg = BurstpropConfig { input_shape: net.input_shape, conv: net.conv, layers: net.layers, ..self.clone() };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The wrapped network's configuration: the architecture and shared settings. Its Q is
    /// never used (Burstprop has none); its own plasticity never runs.
    pub fn network_config(&self) -> Config {
        Config {
            input_shape: self.input_shape,
            conv: self.conv.clone(),
            layers: self.layers.clone(),
            rule: Rule::Burstccn,
            lr: self.lr,
            p_baseline: self.p_baseline,
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

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        let net = self.network_config();
        net.validate()?;
        if !(self.weight_decay >= 0.0 && self.weight_decay < 1.0) {
            return Err(Error::config("weight_decay", format!("must be in [0, 1) (W ← W + ΔW − λ·W), got {}", self.weight_decay)));
        }
        finite_in("lr_recurrent", self.lr_recurrent, 0.0, 100.0)?;
        finite_in("recurrent_scale", self.recurrent_scale, 0.0, 100.0)?;
        // The baseline sweep's buffers (p̄, b̄, ū, r) and R on top of the network's.
        let shapes = net.shapes();
        let units: usize = shapes.iter().map(|s| s.n_out).sum();
        if units.saturating_mul(4).saturating_mul(self.batch_size) > MAX_BATCH_ACTIVITY {
            return Err(Error::config("batch_size", format!("a batch of {} needs more than {MAX_BATCH_ACTIVITY} activity values for the two sweeps; use a smaller batch or network", self.batch_size)));
        }
        if self.recurrent {
            let r: usize = recurrent_layers(&net).iter().map(|&k| shapes[k].n_out.saturating_mul(shapes[k].n_out)).fold(0, usize::saturating_add);
            if net.weight_count().saturating_add(r) > MAX_WEIGHTS {
                return Err(Error::config("recurrent", format!("the recurrent weights (n² per hidden layer) exceed the limit of {MAX_WEIGHTS} weights")));
            }
        }
        Ok(())
    }

    fn same_architecture(&self, other: &BurstpropConfig) -> bool {
        self.network_config().same_architecture(&other.network_config())
    }
}

/// The dense hidden layers (those that have recurrent input when it is on).
fn recurrent_layers(net: &Config) -> Vec<usize> {
    let depth = net.depth();
    net.shapes().iter().enumerate().filter(|(k, s)| k + 1 < depth && s.conv.is_none()).map(|(k, _)| k).collect()
}

/// A Burstprop network: a [`Network`] (W, b, Y, forward pass, activity, reference deltas)
/// plus the baseline sweep's state, the recurrent weights and Y's momentum.
///
/// After a step or a presentation, the wrapped network's `burst_prob`, `burst_rate` and
/// `apical` buffers hold the **teacher** sweep's p, b and uᵗ; the baseline sweep's are here.
#[derive(Clone, Debug)]
pub struct Burstprop {
    cfg: BurstpropConfig,
    net: Network,
    /// Per weight layer: baseline burst probability p̄ and burst rate b̄ (`rows × n_out`).
    baseline_prob: Vec<Vec<f32>>,
    baseline_rate: Vec<Vec<f32>>,
    /// Per hidden layer: baseline apical potential ū (`rows × n_out`).
    baseline_apical: Vec<Vec<f32>>,
    /// Per hidden layer: R (`n × n`), empty where there is none.
    recurrent: Vec<Vec<f32>>,
    /// Per hidden layer: the provisional burst rate r = σ(a)·e, empty without R.
    provisional: Vec<Vec<f32>>,
    /// r·Rᵀ of the layer being swept (scratch).
    recurrent_input: Vec<f32>,
    /// Per feedback matrix: Y's momentum (empty unless Y learns with momentum).
    y_velocity: Vec<Vec<f32>>,
    /// Rows the baseline buffers hold.
    capacity: usize,
}

impl Burstprop {
    /// A freshly initialised network from `cfg.seed`.
    pub fn new(cfg: BurstpropConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let net = Network::new(cfg.network_config())?;
        let depth = net.layers().len();
        let mut model = Burstprop {
            net,
            baseline_prob: vec![Vec::new(); depth],
            baseline_rate: vec![Vec::new(); depth],
            baseline_apical: vec![Vec::new(); depth - 1],
            recurrent: vec![Vec::new(); depth - 1],
            provisional: vec![Vec::new(); depth - 1],
            recurrent_input: Vec::new(),
            y_velocity: Vec::new(),
            capacity: 0,
            cfg,
        };
        model.init_recurrent();
        model.ensure_y_velocity();
        model.ensure_capacity(model.cfg.batch_size);
        Ok(model)
    }

    /// Draw R for every dense hidden layer (none when recurrence is off): N(0, s²) in an MLP,
    /// U(−s, s) in a conv net, as the authors' two networks.
    fn init_recurrent(&mut self) {
        let on = self.cfg.recurrent;
        let net_cfg = self.net.config().clone();
        let conv_net = net_cfg.is_conv();
        let s = self.cfg.recurrent_scale;
        let mut rng = Random::new(self.cfg.seed, STREAM_RECURRENT);
        let wanted = recurrent_layers(&net_cfg);
        for k in 0..self.recurrent.len() {
            let n = self.net.layers()[k].n_out;
            let has = on && wanted.contains(&k);
            if !has {
                self.recurrent[k] = Vec::new();
                self.provisional[k] = Vec::new();
                continue;
            }
            self.recurrent[k] = (0..n * n).map(|_| if conv_net { rng.uniform_in(-s, s) } else { s * rng.normal() }).collect();
        }
        self.capacity = 0;
    }

    fn ensure_y_velocity(&mut self) {
        let on = self.cfg.y_learning && self.cfg.momentum > 0.0;
        let lens: Vec<usize> = self.net.feedback().iter().map(|f| f.y.len()).collect();
        if !on {
            self.y_velocity = Vec::new();
        } else if self.y_velocity.len() != lens.len() {
            self.y_velocity = lens.iter().map(|&n| vec![0.0; n]).collect();
        }
    }

    /// Make the baseline buffers hold `rows` rows (growing moves them, as the network's).
    fn ensure_capacity(&mut self, rows: usize) {
        if rows <= self.capacity {
            return;
        }
        self.capacity = rows;
        let layers = self.net.layers();
        for (k, l) in layers.iter().enumerate() {
            let size = rows * l.n_out;
            self.baseline_prob[k] = vec![0.0; size];
            self.baseline_rate[k] = vec![0.0; size];
            if k + 1 < layers.len() {
                self.baseline_apical[k] = vec![0.0; size];
                if !self.recurrent[k].is_empty() {
                    self.provisional[k] = vec![0.0; size];
                }
            }
        }
        let widest = layers.iter().enumerate().filter(|(k, _)| self.recurrent.get(*k).is_some_and(|r| !r.is_empty())).map(|(_, l)| l.n_out).max().unwrap_or(0);
        self.recurrent_input = vec![0.0; rows * widest];
    }

    // ------------------------------------------------------------------ accessors

    super::network_accessors!(BurstpropConfig, "W, b, Y, the event rates and the teacher sweep's p, b, uᵗ");

    /// Set W and b of layer k (tests: hand-built networks); tied feedback follows.
    pub fn set_weight(&mut self, k: usize, w: &[f32], b: &[f32]) -> Result<(), Error> {
        self.net.set_weight(k, w, b)?;
        Ok(())
    }

    /// Set Y of feedback k (shaped like W_{k+1}; tests and demonstrations).
    pub fn set_y(&mut self, k: usize, y: &[f32]) -> Result<(), Error> {
        let q = self.net.feedback().get(k).map(|f| f.q.clone()).unwrap_or_default();
        self.net.set_feedback(k, y, &q)?;
        Ok(())
    }

    /// Baseline (no-teacher) burst probability p̄ of layer k, `rows × n_out`.
    pub fn baseline_burst_prob(&self, k: usize) -> &[f32] {
        &self.baseline_prob[k][..self.net.rows() * self.net.layers()[k].n_out]
    }

    /// Baseline burst rate b̄ = p̄·e of layer k, `rows × n_out`.
    pub fn baseline_burst_rate(&self, k: usize) -> &[f32] {
        &self.baseline_rate[k][..self.net.rows() * self.net.layers()[k].n_out]
    }

    /// Baseline apical potential ū of hidden layer k (empty for the output layer).
    pub fn baseline_apical(&self, k: usize) -> &[f32] {
        match self.baseline_apical.get(k) {
            Some(u) => &u[..self.net.rows() * self.net.layers()[k].n_out],
            None => &[],
        }
    }

    /// Teacher burst probability p of layer k (the network's `burst_prob`).
    pub fn teacher_burst_prob(&self, k: usize) -> &[f32] {
        self.net.burst_prob(k)
    }

    /// Teacher burst rate b = p·e of layer k.
    pub fn teacher_burst_rate(&self, k: usize) -> &[f32] {
        self.net.burst_rate(k)
    }

    /// The recurrent weights R of hidden layer k (`n × n`), if it has them.
    pub fn recurrent_weights(&self, k: usize) -> Option<&[f32]> {
        self.recurrent.get(k).filter(|r| !r.is_empty()).map(|r| &r[..])
    }

    /// Set R of hidden layer k (tests and demonstrations).
    pub fn set_recurrent_weights(&mut self, k: usize, r: &[f32]) -> Result<(), Error> {
        match self.recurrent.get_mut(k) {
            Some(dst) if dst.len() == r.len() && !dst.is_empty() => {
                dst.copy_from_slice(r);
                Ok(())
            }
            Some(dst) if !dst.is_empty() => Err(Error::Shape(format!("hidden layer {k} has {} recurrent weights", dst.len()))),
            _ => Err(Error::Shape(format!("layer {k} has no recurrent input"))),
        }
    }

    /// Y of weight layer k ≥ 1 (shaped like W_k): the network's feedback k − 1.
    fn y_of(k: usize) -> usize {
        k - 1
    }

    /// The tensors beyond the wrapped network's, by name, for snapshots: `recurrent[k]` for
    /// each hidden layer with R, `y_velocity[k]` for each Y with momentum.
    pub(crate) fn extra_tensors(&self) -> Vec<(String, &[f32])> {
        let mut out: Vec<(String, &[f32])> = Vec::new();
        for (k, r) in self.recurrent.iter().enumerate().filter(|(_, r)| !r.is_empty()) {
            out.push((format!("recurrent[{k}]"), r));
        }
        for (k, v) in self.y_velocity.iter().enumerate() {
            out.push((format!("y_velocity[{k}]"), v));
        }
        out
    }

    pub(crate) fn extra_tensors_mut(&mut self) -> Vec<(String, &mut Vec<f32>)> {
        let mut out: Vec<(String, &mut Vec<f32>)> = Vec::new();
        for (k, r) in self.recurrent.iter_mut().enumerate().filter(|(_, r)| !r.is_empty()) {
            out.push((format!("recurrent[{k}]"), r));
        }
        for (k, v) in self.y_velocity.iter_mut().enumerate() {
            out.push((format!("y_velocity[{k}]"), v));
        }
        out
    }

    /// Change learning settings without touching W, b, Y or R. The architecture and the seed
    /// need a new network. Turning recurrence on draws R afresh; off drops it.
    pub fn set_config(&mut self, cfg: BurstpropConfig) -> Result<(), Error> {
        cfg.validate()?;
        if !self.cfg.same_architecture(&cfg) {
            return Err(Error::config("layers", "changing layer sizes needs a new network (reset)"));
        }
        if cfg.seed != self.cfg.seed {
            return Err(Error::config("seed", "changing the seed needs a new network (reset)"));
        }
        self.net.set_config(cfg.network_config())?;
        let recurrence_changed = cfg.recurrent != self.cfg.recurrent;
        self.cfg = cfg;
        if recurrence_changed {
            self.init_recurrent();
        }
        self.ensure_y_velocity();
        self.ensure_capacity(self.cfg.batch_size.max(self.net.rows()));
        Ok(())
    }

    // ------------------------------------------------------------------ the model

    /// Forward pass and both sweeps without a teacher (so the two agree): what the network
    /// does on its own. Changes no weight.
    pub fn predict(&mut self) {
        self.net.set_teacher(None).expect("no labels to check");
        self.net.forward();
        self.sweeps(false);
    }

    /// Forward pass and both sweeps with a teacher, no plasticity. Returns (sum of squared
    /// errors, misclassified).
    pub fn present(&mut self, labels: &[u8]) -> Result<(f64, usize), Error> {
        self.net.set_teacher(Some(labels))?;
        self.net.forward();
        self.sweeps(true);
        Ok(self.net.score())
    }

    /// Angles of Burstprop's update to backprop's and FA's on the loaded batch, unchanged network.
    pub fn diagnose(&mut self, labels: &[u8]) -> Result<Diagnostics, Error> {
        self.present(labels)?;
        self.net.ensure_diagnostic_buffers();
        self.net.gradient_deltas(true, true);
        Ok(diagnostics::measure_model(&self.net))
    }

    /// One training step on the loaded batch. Nothing changes if anything is non-finite.
    pub fn train_step(&mut self, labels: &[u8], diagnostics: bool) -> Result<StepReport, Error> {
        self.net.set_teacher(Some(labels))?;
        self.step(true, diagnostics)
    }

    /// One step with no teacher: the teacher sweep equals the baseline one, so W does not
    /// change; only R learns (towards ū = 0).
    pub fn train_step_without_teacher(&mut self, diagnostics: bool) -> Result<StepReport, Error> {
        if self.net.rows() == 0 {
            return Err(Error::Shape("no input loaded".into()));
        }
        self.net.set_teacher(None)?;
        self.step(false, diagnostics)
    }

    fn step(&mut self, teach: bool, diagnostics: bool) -> Result<StepReport, Error> {
        self.net.forward();
        let (sse, errors) = if teach { self.net.score() } else { (0.0, 0) };
        let (steps, samples) = self.net.progress();
        if !sse.is_finite() || self.net.output().iter().any(|v| !v.is_finite()) {
            return Err(Error::Diverged(format!("output event rates are not finite at step {steps}")));
        }
        self.sweeps(teach);
        let diag = if diagnostics && teach {
            self.net.ensure_diagnostic_buffers();
            self.net.gradient_deltas(true, true);
            Some(diagnostics::measure_model(&self.net))
        } else {
            None
        };
        self.check_finite()?;
        self.plasticity();
        let rows = self.net.rows();
        self.net.set_progress(steps + 1, samples + rows as u64);
        Ok(StepReport { rows, sum_squared_error: sse, errors, diagnostics: diag })
    }

    /// The two top-down sweeps (module docs). Fills p̄, b̄, ū here and p, b, uᵗ and the
    /// plasticity signal δ = b − b̄ in the network.
    fn sweeps(&mut self, teach: bool) {
        self.ensure_capacity(self.net.rows());
        let pb = self.cfg.p_baseline;
        let Parts { kern, rows, labels, layers, feedback, back_cols, .. } = self.net.parts();
        let depth = layers.len();
        {
            let out = &mut layers[depth - 1];
            let n = out.n_out;
            let (pbar, bbar) = (&mut self.baseline_prob[depth - 1], &mut self.baseline_rate[depth - 1]);
            for (r, &label) in labels.iter().enumerate().take(rows) {
                let label = usize::from(label);
                for j in 0..n {
                    let i = r * n + j;
                    let e = out.event_rate[i];
                    let p = if teach {
                        let t = if j == label { 1.0 } else { 0.0 };
                        pb * ((t - e) * (1.0 - e) + 1.0)
                    } else {
                        pb
                    };
                    pbar[i] = pb;
                    bbar[i] = pb * e;
                    out.burst_prob[i] = p;
                    out.burst_rate[i] = p * e;
                    out.delta[i] = p * e - pb * e;
                }
            }
        }
        for k in (0..depth - 1).rev() {
            let (lower, upper) = layers.split_at_mut(k + 1);
            let (layer, above) = (&mut lower[k], &upper[0]);
            let y = &feedback[k].y;
            let n = layer.n_out;
            let m = rows * n;
            // a = b̄_{k+1}·Y into ū's buffer, aᵗ = b_{k+1}·Y into the network's apical buffer.
            let ubar = &mut self.baseline_apical[k][..m];
            transpose_layer(kern, &above.shape, rows, &[(1.0, &self.baseline_rate[k + 1], y)], back_cols, ubar);
            let ut = &mut layer.apical[..m];
            transpose_layer(kern, &above.shape, rows, &[(1.0, &above.burst_rate, y)], back_cols, ut);
            let e = &layer.event_rate[..m];
            let r_weights = &self.recurrent[k];
            if r_weights.is_empty() {
                for ((ub, ut), &e) in ubar.iter_mut().zip(ut.iter_mut()).zip(e) {
                    *ub *= 1.0 - e;
                    *ut *= 1.0 - e;
                }
            } else {
                // r = σ(a)·e, then both potentials lose r·Rᵀ.
                let prov = &mut self.provisional[k][..m];
                for ((r, &a), &e) in prov.iter_mut().zip(ubar.iter()).zip(e) {
                    *r = sigmoid(a) * e;
                }
                let rr = &mut self.recurrent_input[..m];
                kern.gemm_nt(1.0, MatRef::new(prov, rows, n), MatRef::new(r_weights, n, n), 0.0, MatMut::new(rr, rows, n));
                for (((ub, ut), &e), &c) in ubar.iter_mut().zip(ut.iter_mut()).zip(e).zip(rr.iter()) {
                    *ub = *ub * (1.0 - e) - c;
                    *ut = *ut * (1.0 - e) - c;
                }
            }
            let (pbar, bbar) = (&mut self.baseline_prob[k][..m], &mut self.baseline_rate[k][..m]);
            for i in 0..m {
                let e = layer.event_rate[i];
                let (p0, p1) = (sigmoid(ubar[i]), sigmoid(layer.apical[i]));
                pbar[i] = p0;
                bbar[i] = p0 * e;
                layer.burst_prob[i] = p1;
                layer.burst_rate[i] = p1 * e;
                layer.delta[i] = p1 * e - p0 * e;
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
            if let Some(u) = self.baseline_apical.get(k) {
                // ū feeds R's update unbounded: refuse it well before that could overflow.
                if !bounded(&u[..n]) || !bounded(&layer.apical[..n]) {
                    return Err(Error::Diverged(format!("apical potential of layer {} is not finite or beyond ±{POTENTIAL_LIMIT:e}", k + 1)));
                }
            }
        }
        Ok(())
    }

    /// W, c (and Y) of every layer, then R, then the tie (module docs).
    fn plasticity(&mut self) {
        let cfg = &self.cfg;
        let (lr, mu, keep) = (cfg.lr, cfg.momentum, 1.0 - cfg.weight_decay);
        let b_cfg = cfg.batch_size as f32;
        let scale = lr / b_cfg;
        let (y_learning, tied) = (cfg.y_learning, cfg.y_mode == FeedbackMode::Tied);
        let lr_r = if cfg.recurrent { cfg.lr_recurrent } else { 0.0 };
        let Parts { kern, rows, input, layers, feedback, .. } = self.net.parts();
        for k in 0..layers.len() {
            let (below, rest) = layers.split_at_mut(k);
            let layer = &mut rest[0];
            let x = match below.last() {
                Some(prev) => &prev.event_rate[..rows * prev.n_out],
                None => input,
            };
            // η·Σδ/B_cfg (bias_step divides by the rows it is given).
            let mut bias_change = vec![0.0f32; layer.bias.len()];
            bias_step(&layer.shape, rows, &layer.delta, lr * rows as f32 / b_cfg, &mut bias_change);
            let inputs: &[f32] = if layer.shape.conv.is_some() { &layer.cols } else { x };
            // Y learning: the Y that carries this layer's bursts down gets W's update.
            if k > 0 && y_learning && !tied {
                let fb = &mut feedback[Self::y_of(k)].y;
                if layer.shape.conv.is_some() {
                    // The authors' conv layers never compute Y's gradient (its momentum stays
                    // 0): their Y only decays, Y ← Y − λ·Y.
                    for v in fb.iter_mut() {
                        *v *= keep;
                    }
                } else if let Some(vel) = self.y_velocity.get_mut(Self::y_of(k)) {
                    correlate_into(kern, &layer.shape, rows, scale, &layer.delta, inputs, mu, vel);
                    for (y, v) in fb.iter_mut().zip(vel.iter()) {
                        *y = keep * *y + v;
                    }
                } else {
                    correlate_into(kern, &layer.shape, rows, scale, &layer.delta, inputs, keep, fb);
                }
            }
            if mu > 0.0 {
                // ΔW ← η·δᵀx/B_cfg + μ·ΔW;  W ← W + ΔW − λ·W.
                correlate_into(kern, &layer.shape, rows, scale, &layer.delta, inputs, mu, &mut layer.weight_velocity);
                for (w, v) in layer.weight.iter_mut().zip(&layer.weight_velocity) {
                    *w = keep * *w + v;
                }
                for ((b, v), s) in layer.bias.iter_mut().zip(layer.bias_velocity.iter_mut()).zip(&bias_change) {
                    *v = mu * *v + s;
                    *b += *v;
                }
            } else {
                correlate_into(kern, &layer.shape, rows, scale, &layer.delta, inputs, keep, &mut layer.weight);
                for (b, s) in layer.bias.iter_mut().zip(&bias_change) {
                    *b += s;
                }
            }
        }
        if lr_r > 0.0 {
            for (k, r_weights) in self.recurrent.iter_mut().enumerate().filter(|(_, r)| !r.is_empty()) {
                // R += η_r·ūᵀ r, summed over the batch.
                let n = layers[k].n_out;
                let (ubar, prov) = (&self.baseline_apical[k][..rows * n], &self.provisional[k][..rows * n]);
                kern.gemm_tn(lr_r, MatRef::new(ubar, rows, n), MatRef::new(prov, rows, n), 1.0, MatMut::new(r_weights, n, n));
            }
        }
        if tied {
            let s = self.cfg.y_scale;
            for (k, fb) in feedback.iter_mut().enumerate() {
                for (y, w) in fb.y.iter_mut().zip(&layers[k + 1].weight) {
                    *y = s * w;
                }
            }
        }
    }
}
