//! The continuous-time BurstCCN (SPEC.md, "Continuous-time model"; the paper's Fig. 3):
//! one sample at a time, every unit a leaky somatic integrator, every hidden unit an apical
//! compartment that integrates the burst-rate and event-rate feedback from the layer above,
//! and always-on plasticity `ΔW = (dt/τ_W)(p − p_b)·e·preᵀ`. No phases: a teacher at the
//! output simply shifts its burst probability, and the shift spreads down.
//!
//! Also here: the paper's online regression task ([`RegressionTask`]: a student learns a fixed
//! random teacher network from three slow sinusoids) and a fixed-size trace recorder
//! ([`TraceBuffer`]) for displays.
//!
//! Indexing follows [`crate::model`]: weight layer `k = 0..L` maps `layers[k]` units to
//! `layers[k+1]`; hidden layer k (k < L − 1) has feedback Y_k, Q_k shaped like W_{k+1}.
//! Everything is single-sample, flat `f32`, and a step allocates nothing.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::kernels::sigmoid::sigmoid;
use crate::model::{Feedback, MAX_SEED, MAX_WEIGHTS, MAX_WIDTH};
use crate::rng::Random;
use crate::Error;

// ---------------------------------------------------------------------------- configuration

/// How the feedback onto each hidden layer is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContinuousFeedback {
    /// `Y_l = W_{l+1}`, `Q_l = p_b·Y_l`, re-copied after every plastic step (SPEC's setting).
    Symmetric,
    /// `Y_l ~ N(0, (y_scale·√(2/(n_l + n_{l+1})))²)` and `Q_l = p_b·Y_l`, both fixed: the two
    /// feedback paths still cancel when there is no teacher, and learning is feedback alignment's.
    Random,
}

/// The continuous-time network: sizes, time constants, baseline, feedback and seed.
/// Defaults are SPEC.md's: 3-50-1, dt = 0.1 s, τ_v = τ_u = 0.1 s, τ_W = 100 s, p_b = 0.5,
/// apical gain 4, symmetric feedback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContinuousConfig {
    /// Units per layer, input first.
    pub layers: Vec<usize>,
    /// Time step dt, seconds.
    pub dt: f32,
    /// τ_v, the somatic time constant, seconds (at least dt, or the Euler step overshoots).
    pub tau_v: f32,
    /// τ_u, the apical time constant, seconds (at least dt).
    pub tau_u: f32,
    /// τ_W, the plasticity time constant, seconds: each step moves W by dt/τ_W times the signal.
    pub tau_w: f32,
    /// p_b, the baseline burst probability. Hidden units rest at σ(0) = 0.5 when their apical
    /// input cancels, so only p_b = 0.5 makes "no error" mean "no plasticity" (as in SPEC).
    pub p_baseline: f32,
    /// The factor 4 in `4(1 − e)⊙(Yᵀb − Qᵀe)` (with σ'(0) = 1/4 it makes δ ≈ p_b × backprop's).
    pub apical_gain: f32,
    /// Symmetric or random feedback.
    pub feedback: ContinuousFeedback,
    /// Random feedback only: Y's standard deviation as a multiple of √(2/(n_l + n_{l+1})).
    pub y_scale: f32,
    /// Initial W ~ N(0, (init_scale·√(2/(fan_in + fan_out)))²); biases start at 0.
    pub init_scale: f32,
    /// Seed of the weights and feedback (and, in the regression task, of teacher and inputs).
    pub seed: u64,
}

impl Default for ContinuousConfig {
    fn default() -> Self {
        ContinuousConfig {
            layers: vec![3, 50, 1],
            dt: 0.1,
            tau_v: 0.1,
            tau_u: 0.1,
            tau_w: 100.0,
            p_baseline: 0.5,
            apical_gain: 4.0,
            feedback: ContinuousFeedback::Symmetric,
            y_scale: 1.0,
            init_scale: 1.0,
            seed: 1,
        }
    }
}

impl ContinuousConfig {
    /// Number of weight layers L.
    pub fn depth(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        crate::model::validate_layers(&self.layers)?;
        positive("dt", self.dt, 1e6)?;
        at_least_dt("tau_v", self.tau_v, self.dt)?;
        at_least_dt("tau_u", self.tau_u, self.dt)?;
        at_least_dt("tau_w", self.tau_w, self.dt)?;
        if !(self.p_baseline > 0.0 && self.p_baseline < 1.0) {
            return Err(Error::config("p_baseline", format!("must be in (0, 1), got {}", self.p_baseline)));
        }
        finite_in("apical_gain", self.apical_gain, 0.0, 100.0)?;
        finite_in("y_scale", self.y_scale, 0.0, 100.0)?;
        finite_in("init_scale", self.init_scale, 0.0, 100.0)?;
        if self.seed > MAX_SEED {
            return Err(Error::config("seed", format!("must be at most {MAX_SEED}")));
        }
        Ok(())
    }

    /// This configuration with the fields of `patch` (a JSON object) applied and validated.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Self, Error> {
        let cfg = patch_fields(self, patch)?;
        cfg.validate()?;
        Ok(cfg)
    }
}

pub(crate) fn finite_in(field: &str, v: f32, lo: f32, hi: f32) -> Result<(), Error> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::config(field, format!("must be a number in [{lo}, {hi}], got {v}")))
    }
}

pub(crate) fn positive(field: &str, v: f32, hi: f32) -> Result<(), Error> {
    if v.is_finite() && v > 0.0 && v <= hi {
        Ok(())
    } else {
        Err(Error::config(field, format!("must be a number in (0, {hi}], got {v}")))
    }
}

fn at_least_dt(field: &str, tau: f32, dt: f32) -> Result<(), Error> {
    if !(tau.is_finite() && tau <= 1e9) {
        return Err(Error::config(field, format!("must be a finite number of seconds, got {tau}")));
    }
    if tau < dt {
        // dt/τ > 1 makes the Euler step overshoot its target (and oscillate or blow up).
        return Err(Error::config(field, format!("must be at least dt = {dt} s, got {tau}")));
    }
    Ok(())
}

/// `base` with the fields of the JSON object `patch` applied one at a time, so that the error
/// names the first unknown field or field with a bad value. Range checks are the caller's.
pub(crate) fn patch_fields<T: Serialize + DeserializeOwned>(base: &T, patch: &serde_json::Value) -> Result<T, Error> {
    use serde_json::Value;
    let fields = patch.as_object().ok_or_else(|| Error::config("config", "must be an object of settings"))?;
    let Ok(Value::Object(mut merged)) = serde_json::to_value(base) else {
        return Err(Error::config("config", "settings do not form an object"));
    };
    for (key, value) in fields {
        if !merged.contains_key(key) {
            let known: Vec<&str> = merged.keys().map(|k| k.as_str()).collect();
            return Err(Error::config(key.as_str(), format!("unknown setting (known: {})", known.join(", "))));
        }
        // Nested objects (the regression task's `network`) are patched field by field too.
        let new_value = match (merged.get(key), value) {
            (Some(Value::Object(old)), Value::Object(part)) => {
                let mut inner = old.clone();
                for (k, v) in part {
                    if !inner.contains_key(k) {
                        return Err(Error::config(format!("{key}.{k}"), "unknown setting"));
                    }
                    inner.insert(k.clone(), v.clone());
                }
                Value::Object(inner)
            }
            _ => value.clone(),
        };
        merged.insert(key.clone(), new_value);
        if let Err(e) = serde_json::from_value::<T>(Value::Object(merged.clone())) {
            return Err(Error::config(key.as_str(), format!("{e}")));
        }
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| Error::config("config", format!("{e}")))
}

// ---------------------------------------------------------------------------- the network

/// One weight layer and the state of the units it drives.
#[derive(Clone, Debug)]
pub struct ContinuousLayer {
    /// Units feeding in.
    pub n_in: usize,
    /// Units of this layer.
    pub n_out: usize,
    /// W, `n_out × n_in`.
    pub weight: Vec<f32>,
    /// b, `n_out`.
    pub bias: Vec<f32>,
    soma: Vec<f32>,
    event_rate: Vec<f32>,
    burst_prob: Vec<f32>,
    burst_rate: Vec<f32>,
    /// Hidden layers only (empty for the output).
    apical: Vec<f32>,
    /// Scratch: this step's somatic drive `W e_in + b`, then (hidden) the apical input.
    drive: Vec<f32>,
    /// The previous step's e and b, read by the apical compartments of the layer below
    /// (empty for the first layer, which has no layer below).
    prev_event_rate: Vec<f32>,
    prev_burst_rate: Vec<f32>,
}

/// When [`ContinuousNetwork::settle`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Settled {
    /// Steps run.
    pub steps: usize,
    /// Whether the largest change per step fell below the tolerance.
    pub converged: bool,
    /// The largest change of any somatic or apical potential in the last step.
    pub largest_change: f32,
}

/// The continuous-time BurstCCN: parameters and the current state of every unit.
#[derive(Clone, Debug)]
pub struct ContinuousNetwork {
    cfg: ContinuousConfig,
    layers: Vec<ContinuousLayer>,
    feedback: Vec<Feedback>,
    input: Vec<f32>,
    plasticity: bool,
    taught: bool,
    steps: u64,
}

const STREAM_WEIGHTS: u64 = 21;
const STREAM_FEEDBACK: u64 = 22;

impl ContinuousNetwork {
    /// A network with W ~ N(0, (init_scale·√(2/(fan_in+fan_out)))²), b = 0, feedback per the
    /// configuration, all potentials at rest (v = u = 0), plasticity on.
    pub fn new(cfg: ContinuousConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let depth = cfg.depth();
        let mut rng = Random::new(cfg.seed, STREAM_WEIGHTS);
        let layers = (0..depth)
            .map(|k| {
                let (n_in, n_out) = (cfg.layers[k], cfg.layers[k + 1]);
                let std = cfg.init_scale * libm::sqrtf(2.0 / (n_in + n_out) as f32);
                let hidden = k + 1 < depth;
                ContinuousLayer {
                    n_in,
                    n_out,
                    weight: (0..n_in * n_out).map(|_| std * rng.normal()).collect(),
                    bias: vec![0.0; n_out],
                    soma: vec![0.0; n_out],
                    event_rate: vec![0.0; n_out],
                    burst_prob: vec![0.0; n_out],
                    burst_rate: vec![0.0; n_out],
                    apical: if hidden { vec![0.0; n_out] } else { Vec::new() },
                    drive: vec![0.0; n_out],
                    prev_event_rate: if k > 0 { vec![0.0; n_out] } else { Vec::new() },
                    prev_burst_rate: if k > 0 { vec![0.0; n_out] } else { Vec::new() },
                }
            })
            .collect();
        let mut rng_fb = Random::new(cfg.seed, STREAM_FEEDBACK);
        let feedback = (0..depth.saturating_sub(1))
            .map(|k| {
                let (n, n_above) = (cfg.layers[k + 1], cfg.layers[k + 2]);
                let std = cfg.y_scale * libm::sqrtf(2.0 / (n + n_above) as f32);
                let y: Vec<f32> = (0..n * n_above).map(|_| std * rng_fb.normal()).collect();
                let q = y.iter().map(|y| cfg.p_baseline * y).collect();
                Feedback { y, q }
            })
            .collect();
        let mut net = ContinuousNetwork {
            input: vec![0.0; cfg.layers[0]],
            cfg,
            layers,
            feedback,
            plasticity: true,
            taught: false,
            steps: 0,
        };
        net.retie();
        net.reset_state();
        Ok(net)
    }

    /// Put every potential back at rest (v = u = 0) and the rates at their resting values,
    /// keeping the weights.
    pub fn reset_state(&mut self) {
        let pb = self.cfg.p_baseline;
        let depth = self.layers.len();
        for (k, l) in self.layers.iter_mut().enumerate() {
            l.soma.fill(0.0);
            l.apical.fill(0.0);
            l.event_rate.fill(sigmoid(0.0));
            let p = if k + 1 == depth { pb } else { sigmoid(0.0) };
            l.burst_prob.fill(p);
            l.burst_rate.fill(p * sigmoid(0.0));
            l.prev_event_rate.fill(sigmoid(0.0));
            l.prev_burst_rate.fill(p * sigmoid(0.0));
        }
        self.input.fill(0.0);
        self.taught = false;
    }

    // ------------------------------------------------------------------ accessors

    /// The configuration in force.
    pub fn config(&self) -> &ContinuousConfig {
        &self.cfg
    }

    /// The weight layers, input side first.
    pub fn layers(&self) -> &[ContinuousLayer] {
        &self.layers
    }

    /// Y and Q of every hidden layer.
    pub fn feedback(&self) -> &[Feedback] {
        &self.feedback
    }

    /// Steps taken since construction.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Simulated time, seconds.
    pub fn time(&self) -> f64 {
        self.steps as f64 * seconds_per_step(self.cfg.dt)
    }

    /// Whether steps change the weights.
    pub fn plasticity(&self) -> bool {
        self.plasticity
    }

    /// Turn plasticity on or off (the state and weights are kept).
    pub fn set_plasticity(&mut self, on: bool) {
        self.plasticity = on;
    }

    /// Whether the last step had a teacher.
    pub fn taught(&self) -> bool {
        self.taught
    }

    /// The input of the last step (e_0).
    pub fn input(&self) -> &[f32] {
        &self.input
    }

    /// Somatic potential v of layer k.
    pub fn soma_potential(&self, k: usize) -> &[f32] {
        &self.layers[k].soma
    }

    /// Event rate e of layer k.
    pub fn event_rate(&self, k: usize) -> &[f32] {
        &self.layers[k].event_rate
    }

    /// Burst probability p of layer k.
    pub fn burst_prob(&self, k: usize) -> &[f32] {
        &self.layers[k].burst_prob
    }

    /// Burst rate b = p·e of layer k.
    pub fn burst_rate(&self, k: usize) -> &[f32] {
        &self.layers[k].burst_rate
    }

    /// Apical potential u of hidden layer k (`p = σ(u)`); empty for the output layer. At a
    /// steady state `u = 4(1 − e)⊙(Yᵀb − Qᵀe)`, i.e. the discrete model's `4·u_l⊙(1 − e_l)`.
    pub fn apical(&self, k: usize) -> &[f32] {
        &self.layers[k].apical
    }

    /// The output event rates.
    pub fn output(&self) -> &[f32] {
        &self.layers[self.layers.len() - 1].event_rate
    }

    /// Set W and b of layer k. With symmetric feedback, Y and Q follow at once.
    pub fn set_weight(&mut self, k: usize, w: &[f32], b: &[f32]) -> Result<(), Error> {
        let l = self.layers.get_mut(k).ok_or_else(|| Error::Shape(format!("no layer {k}")))?;
        if w.len() != l.weight.len() || b.len() != l.bias.len() {
            return Err(Error::Shape(format!("layer {k} needs {} weights and {} biases", l.weight.len(), l.bias.len())));
        }
        if w.iter().chain(b).any(|v| !v.is_finite()) {
            return Err(Error::Shape(format!("layer {k}: weights and biases must be finite")));
        }
        l.weight.copy_from_slice(w);
        l.bias.copy_from_slice(b);
        self.retie();
        Ok(())
    }

    /// Set Y and Q of hidden layer k (random feedback only: symmetric feedback is a copy of W).
    pub fn set_feedback(&mut self, k: usize, y: &[f32], q: &[f32]) -> Result<(), Error> {
        if self.cfg.feedback == ContinuousFeedback::Symmetric {
            return Err(Error::config("feedback", "symmetric feedback is a copy of W and cannot be set; use random"));
        }
        let f = self.feedback.get_mut(k).ok_or_else(|| Error::Shape(format!("no hidden layer {k}")))?;
        if y.len() != f.y.len() || q.len() != f.q.len() {
            return Err(Error::Shape(format!("hidden layer {k} needs {} feedback weights", f.y.len())));
        }
        if y.iter().chain(q).any(|v| !v.is_finite()) {
            return Err(Error::Shape(format!("hidden layer {k}: feedback weights must be finite")));
        }
        f.y.copy_from_slice(y);
        f.q.copy_from_slice(q);
        Ok(())
    }

    /// Symmetric feedback: `Y_k = W_{k+1}`, `Q_k = p_b·Y_k`.
    fn retie(&mut self) {
        if self.cfg.feedback != ContinuousFeedback::Symmetric {
            return;
        }
        let pb = self.cfg.p_baseline;
        for (k, fb) in self.feedback.iter_mut().enumerate() {
            let w = &self.layers[k + 1].weight;
            fb.y.copy_from_slice(w);
            for (q, &y) in fb.q.iter_mut().zip(&fb.y) {
                *q = pb * y;
            }
        }
    }

    // ------------------------------------------------------------------ dynamics

    /// Advance by one dt with this input (e_0) and, optionally, a teacher (target event rates
    /// of the output). In SPEC.md's notation, with α_v = dt/τ_v and α_u = dt/τ_u:
    /// - soma, bottom-up: `v ← (1 − α_v) v + α_v (W e_in + b)`, `e = σ(v)`;
    /// - output: `p = p_b + p_b (t − e)(1 − e)` with a teacher, `p = p_b` without;
    /// - hidden apical, from the layer above's rates of the previous step:
    ///   `u ← (1 − α_u) u + α_u · 4(1 − e)⊙(Yᵀ b_next − Qᵀ e_next)`, `p = σ(u)`;
    /// - every layer `b = p·e`; and, with plasticity on, `W += (dt/τ_W)(p − p_b)·e·preᵀ`,
    ///   `b += (dt/τ_W)(p − p_b)·e`, then symmetric feedback is re-copied.
    ///
    /// Non-finite activity returns [`Error::Diverged`] before any weight changes.
    pub fn step(&mut self, input: &[f32], teacher: Option<&[f32]>) -> Result<(), Error> {
        let n0 = self.cfg.layers[0];
        if input.len() != n0 {
            return Err(Error::Shape(format!("{} input values for {n0} inputs", input.len())));
        }
        if let Some(i) = input.iter().position(|v| !v.is_finite()) {
            return Err(Error::Shape(format!("input value {i} is not a finite number")));
        }
        if let Some(t) = teacher {
            let n_out = self.layers[self.layers.len() - 1].n_out;
            if t.len() != n_out {
                return Err(Error::Shape(format!("{} teacher values for {n_out} outputs", t.len())));
            }
            if let Some(i) = t.iter().position(|v| !v.is_finite()) {
                return Err(Error::Shape(format!("teacher value {i} is not a finite number")));
            }
        }
        self.input.copy_from_slice(input);
        self.taught = teacher.is_some();

        let a_v = self.cfg.dt / self.cfg.tau_v;
        let a_u = self.cfg.dt / self.cfg.tau_u;
        let pb = self.cfg.p_baseline;
        let gain = self.cfg.apical_gain;
        let depth = self.layers.len();

        // What the apical compartments below will read: this step's rates are not yet known.
        for l in &mut self.layers[1..] {
            l.prev_event_rate.copy_from_slice(&l.event_rate);
            l.prev_burst_rate.copy_from_slice(&l.burst_rate);
        }

        // Somata, bottom-up. The drive first, then the element-wise leak and σ (vectorised).
        for k in 0..depth {
            let (below, rest) = self.layers.split_at_mut(k);
            let layer = &mut rest[0];
            let pre: &[f32] = match below.last() {
                Some(prev) => &prev.event_rate,
                None => &self.input,
            };
            let n_in = layer.n_in;
            for ((d, row), &b) in layer.drive.iter_mut().zip(layer.weight.chunks_exact(n_in)).zip(&layer.bias) {
                *d = b + dot(row, pre);
            }
            for ((v, e), &d) in layer.soma.iter_mut().zip(&mut layer.event_rate).zip(&layer.drive) {
                *v = (1.0 - a_v) * *v + a_v * d;
                *e = sigmoid(*v);
            }
        }

        // Output burst probability: the teacher's nudge, or baseline.
        {
            let out = &mut self.layers[depth - 1];
            match teacher {
                Some(t) => {
                    for ((p, &e), &t) in out.burst_prob.iter_mut().zip(&out.event_rate).zip(t) {
                        *p = pb + pb * (t - e) * (1.0 - e);
                    }
                }
                None => out.burst_prob.fill(pb),
            }
            for ((b, &p), &e) in out.burst_rate.iter_mut().zip(&out.burst_prob).zip(&out.event_rate) {
                *b = p * e;
            }
        }

        // Hidden apical compartments: Yᵀ b_next − Qᵀ e_next with the previous step's rates above.
        for k in 0..depth - 1 {
            let (lower, upper) = self.layers.split_at_mut(k + 1);
            let (layer, above, fb) = (&mut lower[k], &upper[0], &self.feedback[k]);
            let n = layer.n_out;
            let input = &mut layer.drive;
            input.fill(0.0);
            // Row i of Y and Q holds unit i above's synapses onto this layer: accumulate rows.
            for ((y_row, q_row), (&b, &e)) in fb
                .y
                .chunks_exact(n)
                .zip(fb.q.chunks_exact(n))
                .zip(above.prev_burst_rate.iter().zip(&above.prev_event_rate))
            {
                for ((s, &y), &q) in input.iter_mut().zip(y_row).zip(q_row) {
                    *s += y * b - q * e;
                }
            }
            for ((((u, p), br), &e), &fb_in) in layer
                .apical
                .iter_mut()
                .zip(&mut layer.burst_prob)
                .zip(&mut layer.burst_rate)
                .zip(&layer.event_rate)
                .zip(input.iter())
            {
                *u = (1.0 - a_u) * *u + a_u * gain * (1.0 - e) * fb_in;
                *p = sigmoid(*u);
                *br = *p * e;
            }
        }

        // Finite rates and burst probabilities imply a finite plasticity signal.
        if self.layers.iter().any(|l| l.event_rate.iter().chain(&l.burst_prob).any(|v| !v.is_finite())) {
            return Err(Error::Diverged(format!("activity is not finite at step {}", self.steps)));
        }

        if self.plasticity {
            let eta = self.cfg.dt / self.cfg.tau_w;
            for k in 0..depth {
                let (below, rest) = self.layers.split_at_mut(k);
                let layer = &mut rest[0];
                let pre: &[f32] = match below.last() {
                    Some(prev) => &prev.event_rate,
                    None => &self.input,
                };
                let n_in = layer.n_in;
                for i in 0..layer.n_out {
                    // δ = (p − p_b)·e, the burst-dependent plasticity signal.
                    let delta = eta * (layer.burst_prob[i] - pb) * layer.event_rate[i];
                    layer.bias[i] += delta;
                    for (w, &x) in layer.weight[i * n_in..(i + 1) * n_in].iter_mut().zip(pre) {
                        *w += delta * x;
                    }
                }
            }
            self.retie();
        }
        self.steps += 1;
        Ok(())
    }

    /// Hold this input (and teacher) fixed, without plasticity, until no somatic or apical
    /// potential moves by more than `tolerance` in a step, or `max_steps` have run. The
    /// plasticity switch is restored afterwards; the weights are untouched.
    pub fn settle(&mut self, input: &[f32], teacher: Option<&[f32]>, tolerance: f32, max_steps: usize) -> Result<Settled, Error> {
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Err(Error::config("tolerance", format!("must be a finite number ≥ 0, got {tolerance}")));
        }
        let plastic = self.plasticity;
        self.plasticity = false;
        // The potentials before each step, to measure how far the step moved them.
        let mut before: Vec<f32> = Vec::with_capacity(self.layers.iter().map(|l| l.soma.len() + l.apical.len()).sum());
        let mut result = Settled { steps: 0, converged: false, largest_change: f32::INFINITY };
        for _ in 0..max_steps {
            before.clear();
            for l in &self.layers {
                before.extend_from_slice(&l.soma);
                before.extend_from_slice(&l.apical);
            }
            if let Err(e) = self.step(input, teacher) {
                self.plasticity = plastic;
                return Err(e);
            }
            let now = self.layers.iter().flat_map(|l| l.soma.iter().chain(&l.apical));
            let change = now.zip(&before).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            result.steps += 1;
            result.largest_change = change;
            if change <= tolerance {
                result.converged = true;
                break;
            }
        }
        self.plasticity = plastic;
        Ok(result)
    }
}

/// dt as the f64 nearest its shortest decimal form (0.1f32 → 0.1), so that step counts and
/// times in seconds come out as written.
pub(crate) fn seconds_per_step(dt: f32) -> f64 {
    format!("{dt}").parse().unwrap_or(f64::from(dt))
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

// ---------------------------------------------------------------------------- regression task

/// The regression task of the paper's Fig. 3 (SPEC.md): inputs `x_i(t) = sin(ω_i t + φ_i)`
/// with ω_i ~ U(0, max_frequency) rad/s and φ_i ~ U(0, 2π); the target is a fixed random
/// sigmoid teacher network n_0-H-n_L; the student is a [`ContinuousNetwork`]. Three phases:
/// prediction only (no teacher, no plasticity), teacher + plasticity, prediction only again.
///
/// Defaults: SPEC's network, teacher and prediction phases (1,000 s each), with half SPEC's
/// teaching phase: 50,000 s instead of 100,000 s ([`RegressionConfig::spec_durations`]).
/// That is 520,000 steps, about a second natively, and the error still falls ≥ 16× on every
/// seed tried (≥ 46× with SPEC's durations).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegressionConfig {
    /// The student (its seed also draws the teacher and the inputs, on separate streams).
    pub network: ContinuousConfig,
    /// Hidden units of the teacher network.
    pub teacher_hidden: usize,
    /// Teacher first-layer weights ~ U(±teacher_first_range) (SPEC: √3).
    pub teacher_first_range: f32,
    /// Teacher second-layer weights ~ U(±teacher_second_range) (SPEC: 0.6).
    pub teacher_second_range: f32,
    /// Teacher biases ~ U(±teacher_bias_scale/√fan_in) (0 = no biases; SPEC leaves them open:
    /// 1 is a standard linear layer's default range, as in the authors' teacher).
    pub teacher_bias_scale: f32,
    /// ω_i ~ U(0, max_frequency), radians per second (SPEC: π/2).
    pub max_frequency: f32,
    /// Feed the inputs as rates in [0, 1], `(1 + x)/2`, to student and teacher alike. Off by
    /// default: SPEC feeds the sinusoids themselves (e_0 is a presynaptic drive, not a unit).
    pub rate_inputs: bool,
    /// Seconds of the first prediction-only phase.
    pub before: f64,
    /// Seconds of teacher + plasticity.
    pub learn: f64,
    /// Seconds of the final prediction-only phase.
    pub after: f64,
    /// Seconds per point of the error-over-time series.
    pub window: f64,
    /// Plasticity during the teaching phase (off = the control: the teacher alone changes nothing).
    pub plasticity: bool,
}

impl Default for RegressionConfig {
    fn default() -> Self {
        RegressionConfig {
            network: ContinuousConfig::default(),
            teacher_hidden: 25,
            teacher_first_range: libm::sqrtf(3.0),
            teacher_second_range: 0.6,
            teacher_bias_scale: 1.0,
            max_frequency: core::f32::consts::FRAC_PI_2,
            rate_inputs: false,
            before: 1_000.0,
            learn: 50_000.0,
            after: 1_000.0,
            window: 100.0,
            plasticity: true,
        }
    }
}

/// Longest phase accepted, seconds (10⁹ s = 10¹⁰ steps at dt = 0.1 s: beyond any real run).
pub const MAX_PHASE_SECONDS: f64 = 1e9;
/// Most steps in one phase (2⁴⁰ ≈ 1.1·10¹²): with a tiny dt even a short phase would be more
/// steps than a step counter can hold.
pub const MAX_PHASE_STEPS: u64 = 1 << 40;

impl RegressionConfig {
    /// SPEC.md's durations: 1,000 s prediction, 100,000 s learning, 1,000 s prediction.
    pub fn spec_durations(mut self) -> Self {
        self.before = 1_000.0;
        self.learn = 100_000.0;
        self.after = 1_000.0;
        self
    }

    /// Check every field; the error names the first bad one (`network.*` for the student's).
    pub fn validate(&self) -> Result<(), Error> {
        self.network.validate().map_err(|e| match e {
            Error::Config { field, reason } => Error::Config { field: format!("network.{field}"), reason },
            other => other,
        })?;
        if !(1..=MAX_WIDTH).contains(&self.teacher_hidden) {
            return Err(Error::config("teacher_hidden", format!("must be between 1 and {MAX_WIDTH}, got {}", self.teacher_hidden)));
        }
        let ends = self.network.layers[0] + self.network.layers[self.network.layers.len() - 1];
        if self.teacher_hidden.saturating_mul(ends) > MAX_WEIGHTS {
            return Err(Error::config("teacher_hidden", format!("the teacher would have more than {MAX_WEIGHTS} weights")));
        }
        finite_in("teacher_first_range", self.teacher_first_range, 0.0, 100.0)?;
        finite_in("teacher_second_range", self.teacher_second_range, 0.0, 100.0)?;
        finite_in("teacher_bias_scale", self.teacher_bias_scale, 0.0, 100.0)?;
        finite_in("max_frequency", self.max_frequency, 0.0, 1e4)?;
        let dt = seconds_per_step(self.network.dt);
        for (field, v) in [("before", self.before), ("learn", self.learn), ("after", self.after)] {
            if !(v.is_finite() && (0.0..=MAX_PHASE_SECONDS).contains(&v)) {
                return Err(Error::config(field, format!("must be between 0 and {MAX_PHASE_SECONDS} seconds, got {v}")));
            }
            if v / dt > MAX_PHASE_STEPS as f64 {
                return Err(Error::config(
                    field,
                    format!("{v} s is {:e} steps of dt = {dt} s, more than the limit of {MAX_PHASE_STEPS}: shorten it or raise network.dt", v / dt),
                ));
            }
        }
        if self.before < dt {
            return Err(Error::config("before", format!("must be at least one step (dt = {dt} s) to measure the error before learning")));
        }
        if self.after < dt {
            return Err(Error::config("after", format!("must be at least one step (dt = {dt} s) to measure the error after learning")));
        }
        if !(self.window.is_finite() && self.window >= dt && self.window <= MAX_PHASE_SECONDS) {
            return Err(Error::config("window", format!("must be between dt = {dt} and {MAX_PHASE_SECONDS} seconds, got {}", self.window)));
        }
        Ok(())
    }

    /// This configuration with the fields of `patch` applied (nested `network` fields may be
    /// given partially) and validated.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Self, Error> {
        let cfg = patch_fields(self, patch)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn steps_of(&self, seconds: f64) -> u64 {
        libm::round(seconds / seconds_per_step(self.network.dt)) as u64
    }
}

/// The three phases of the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Prediction only, before learning.
    Before,
    /// Teacher present (and plasticity, unless the control).
    Learning,
    /// Prediction only, after learning.
    After,
}

impl Phase {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::Learning => "learning",
            Phase::After => "after",
        }
    }
}

/// One point of the error-over-time series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ErrorWindow {
    /// Start and end of the window, seconds.
    pub start: f64,
    /// End of the window, seconds.
    pub end: f64,
    /// Mean over the window's steps and outputs of (e_L − target)².
    pub mse: f64,
    /// Whether the teacher was present during the window.
    pub teacher: bool,
    /// Whether plasticity was on during the window.
    pub plasticity: bool,
}

/// The before/after comparison of a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RegressionSummary {
    /// MSE over the whole first prediction-only phase.
    pub before_mse: f64,
    /// MSE over the whole final prediction-only phase.
    pub after_mse: f64,
    /// before_mse / after_mse.
    pub improvement: f64,
    /// MSE over the teaching phase.
    pub learning_mse: f64,
    /// Steps run and seconds simulated.
    pub steps: u64,
    /// Seconds simulated.
    pub seconds: f64,
}

const STREAM_TEACHER: u64 = 31;
const STREAM_INPUTS: u64 = 32;

/// The regression task: teacher, inputs, student, and the error record.
#[derive(Clone, Debug)]
pub struct RegressionTask {
    cfg: RegressionConfig,
    net: ContinuousNetwork,
    teacher_w1: Vec<f32>,
    teacher_b1: Vec<f32>,
    teacher_w2: Vec<f32>,
    teacher_b2: Vec<f32>,
    teacher_hidden_rates: Vec<f32>,
    omega: Vec<f64>,
    phi: Vec<f64>,
    input: Vec<f32>,
    target: Vec<f32>,
    step: u64,
    /// dt in f64, as written (0.1, not 0.100000001), so times print cleanly.
    dt: f64,
    schedule: [u64; 3],
    window_steps: u64,
    window: (u64, u64, f64, bool, bool),
    windows: Vec<ErrorWindow>,
    phase_sse: [f64; 3],
    phase_steps: [u64; 3],
    last_sse: f64,
}

impl RegressionTask {
    /// Draw the teacher, the input frequencies and phases, and the student, from the seed.
    pub fn new(cfg: RegressionConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let net = ContinuousNetwork::new(cfg.network.clone())?;
        let n0 = cfg.network.layers[0];
        let n_out = *cfg.network.layers.last().unwrap_or(&1);
        let h = cfg.teacher_hidden;
        let mut rng = Random::new(cfg.network.seed, STREAM_TEACHER);
        let r1 = cfg.teacher_first_range;
        let r2 = cfg.teacher_second_range;
        let teacher_w1 = (0..h * n0).map(|_| rng.uniform_in(-r1, r1)).collect();
        let teacher_w2 = (0..n_out * h).map(|_| rng.uniform_in(-r2, r2)).collect();
        let rb1 = cfg.teacher_bias_scale / libm::sqrtf(n0 as f32);
        let rb2 = cfg.teacher_bias_scale / libm::sqrtf(h as f32);
        let teacher_b1 = (0..h).map(|_| rng.uniform_in(-rb1, rb1)).collect();
        let teacher_b2 = (0..n_out).map(|_| rng.uniform_in(-rb2, rb2)).collect();
        let mut rng_x = Random::new(cfg.network.seed, STREAM_INPUTS);
        let wmax = f64::from(cfg.max_frequency);
        let omega = (0..n0).map(|_| f64::from(rng_x.uniform()) * wmax).collect();
        let phi = (0..n0).map(|_| f64::from(rng_x.uniform()) * core::f64::consts::TAU).collect();
        let schedule = [cfg.steps_of(cfg.before).max(1), cfg.steps_of(cfg.learn), cfg.steps_of(cfg.after).max(1)];
        let window_steps = cfg.steps_of(cfg.window).max(1);
        let dt = seconds_per_step(cfg.network.dt);
        let total = schedule.iter().sum::<u64>();
        // Room for the whole schedule's windows, so recording rarely reallocates (bounded).
        let windows = Vec::with_capacity((total / window_steps + 4).min(1 << 16) as usize);
        let mut task = RegressionTask {
            cfg,
            net,
            teacher_w1,
            teacher_b1,
            teacher_w2,
            teacher_b2,
            teacher_hidden_rates: vec![0.0; h],
            omega,
            phi,
            input: vec![0.0; n0],
            target: vec![0.0; n_out],
            step: 0,
            dt,
            schedule,
            window_steps,
            window: (0, 0, 0.0, false, false),
            windows,
            phase_sse: [0.0; 3],
            phase_steps: [0; 3],
            last_sse: 0.0,
        };
        task.compute_input_and_target();
        Ok(task)
    }

    /// The configuration in force.
    pub fn config(&self) -> &RegressionConfig {
        &self.cfg
    }

    /// The student.
    pub fn network(&self) -> &ContinuousNetwork {
        &self.net
    }

    /// The student, mutably (e.g. to set weights).
    pub fn network_mut(&mut self) -> &mut ContinuousNetwork {
        &mut self.net
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Simulated time, seconds.
    pub fn time(&self) -> f64 {
        self.step as f64 * self.dt
    }

    /// Steps of the three phases.
    pub fn schedule(&self) -> [u64; 3] {
        self.schedule
    }

    /// Total steps of the schedule.
    pub fn total_steps(&self) -> u64 {
        self.schedule.iter().sum()
    }

    /// The phase the schedule prescribes for the next step (`None` once it is over).
    pub fn scheduled_phase(&self) -> Option<Phase> {
        let [a, b, c] = self.schedule;
        match self.step {
            s if s < a => Some(Phase::Before),
            s if s < a + b => Some(Phase::Learning),
            s if s < a + b + c => Some(Phase::After),
            _ => None,
        }
    }

    /// The input x(t) of the last step (as fed to the network; x(0) before the first step).
    pub fn input(&self) -> &[f32] {
        &self.input
    }

    /// The teacher network's output for [`input`](Self::input).
    pub fn target(&self) -> &[f32] {
        &self.target
    }

    /// The student's output event rates after the last step.
    pub fn output(&self) -> &[f32] {
        self.net.output()
    }

    /// The teacher's parameters: (W1 `H × n_0`, b1, W2 `n_L × H`, b2).
    pub fn teacher(&self) -> (&[f32], &[f32], &[f32], &[f32]) {
        (&self.teacher_w1, &self.teacher_b1, &self.teacher_w2, &self.teacher_b2)
    }

    /// Input frequencies ω_i (rad/s) and phases φ_i.
    pub fn input_waves(&self) -> (&[f64], &[f64]) {
        (&self.omega, &self.phi)
    }

    /// The error-over-time series so far (closed windows).
    pub fn windows(&self) -> &[ErrorWindow] {
        &self.windows
    }

    /// Forget the recorded windows (to bound memory in long interactive runs).
    pub fn clear_windows(&mut self) {
        self.windows.clear();
    }

    /// x(t) at the current step's time and the teacher's output for it.
    fn compute_input_and_target(&mut self) {
        let t = self.time();
        for ((x, &w), &p) in self.input.iter_mut().zip(&self.omega).zip(&self.phi) {
            let s = libm::sin(w * t + p) as f32;
            *x = if self.cfg.rate_inputs { 0.5 * (1.0 + s) } else { s };
        }
        let n0 = self.input.len();
        let h = self.teacher_hidden_rates.len();
        for ((r, row), &b) in self.teacher_hidden_rates.iter_mut().zip(self.teacher_w1.chunks_exact(n0)).zip(&self.teacher_b1) {
            *r = b + dot(row, &self.input);
        }
        for r in self.teacher_hidden_rates.iter_mut() {
            *r = sigmoid(*r);
        }
        for (j, y) in self.target.iter_mut().enumerate() {
            *y = sigmoid(self.teacher_b2[j] + dot(&self.teacher_w2[j * h..(j + 1) * h], &self.teacher_hidden_rates));
        }
    }

    /// One step with the teacher present or not and plasticity on or off (manual control;
    /// the phase totals of [`summary`](Self::summary) count only scheduled steps).
    /// Returns the squared error summed over outputs after the step.
    pub fn step_with(&mut self, teacher: bool, plasticity: bool) -> Result<f64, Error> {
        self.compute_input_and_target();
        self.net.set_plasticity(plasticity);
        let target = if teacher { Some(&self.target[..]) } else { None };
        self.net.step(&self.input, target)?;
        let sse: f64 = self.net.output().iter().zip(&self.target).map(|(&e, &t)| f64::from((e - t) * (e - t))).sum();
        self.record(sse, teacher, plasticity);
        self.last_sse = sse;
        self.step += 1;
        Ok(sse)
    }

    /// The squared error of the last step, summed over outputs.
    pub fn last_squared_error(&self) -> f64 {
        self.last_sse
    }

    /// One step of the schedule (prediction, then teacher + plasticity, then prediction).
    /// Returns the phase it belonged to, or `None` if the schedule is over (nothing ran).
    pub fn step_scheduled(&mut self) -> Result<Option<Phase>, Error> {
        let Some(phase) = self.scheduled_phase() else { return Ok(None) };
        let teach = phase == Phase::Learning;
        let sse = self.step_with(teach, teach && self.cfg.plasticity)?;
        let i = phase as usize;
        self.phase_sse[i] += sse;
        self.phase_steps[i] += 1;
        Ok(Some(phase))
    }

    /// Up to `max_steps` steps of the schedule; returns how many ran (fewer at its end).
    pub fn run_scheduled(&mut self, max_steps: u64) -> Result<u64, Error> {
        let mut n = 0;
        while n < max_steps {
            if self.step_scheduled()?.is_none() {
                break;
            }
            n += 1;
        }
        if self.scheduled_phase().is_none() {
            self.flush_window();
        }
        Ok(n)
    }

    /// The whole (remaining) schedule, then the summary.
    pub fn run(&mut self) -> Result<RegressionSummary, Error> {
        self.run_scheduled(u64::MAX)?;
        Ok(self.summary())
    }

    /// MSEs of the scheduled phases so far (NaN for a phase not yet reached).
    pub fn summary(&self) -> RegressionSummary {
        let n_out = self.target.len() as f64;
        let mse = |i: usize| {
            if self.phase_steps[i] == 0 {
                f64::NAN
            } else {
                self.phase_sse[i] / (self.phase_steps[i] as f64 * n_out)
            }
        };
        let (before, after) = (mse(0), mse(2));
        RegressionSummary {
            before_mse: before,
            after_mse: after,
            improvement: before / after,
            learning_mse: mse(1),
            steps: self.step,
            seconds: self.time(),
        }
    }

    fn record(&mut self, sse: f64, teacher: bool, plasticity: bool) {
        let (start, n, _, t, p) = self.window;
        let boundary = self.scheduled_phase() != self.phase_of_step(start);
        if n > 0 && (n >= self.window_steps || t != teacher || p != plasticity || boundary) {
            self.flush_window();
        }
        if self.window.1 == 0 {
            self.window = (self.step, 0, 0.0, teacher, plasticity);
        }
        self.window.1 += 1;
        self.window.2 += sse;
    }

    fn phase_of_step(&self, s: u64) -> Option<Phase> {
        let [a, b, c] = self.schedule;
        match s {
            s if s < a => Some(Phase::Before),
            s if s < a + b => Some(Phase::Learning),
            s if s < a + b + c => Some(Phase::After),
            _ => None,
        }
    }

    /// Close the window being accumulated (if any) into the series.
    pub fn flush_window(&mut self) {
        let (start, n, sse, teacher, plasticity) = self.window;
        if n == 0 {
            return;
        }
        let dt = self.dt;
        self.windows.push(ErrorWindow {
            start: start as f64 * dt,
            end: (start + n) as f64 * dt,
            mse: sse / (n as f64 * self.target.len() as f64),
            teacher,
            plasticity,
        });
        self.window = (self.step, 0, 0.0, teacher, plasticity);
    }
}

// ---------------------------------------------------------------------------- traces

/// A fixed-capacity record of one signal, oldest dropped first (for live plots).
#[derive(Clone, Debug, Default)]
pub struct TraceBuffer {
    values: VecDeque<f32>,
    capacity: usize,
}

impl TraceBuffer {
    /// An empty trace holding at most `capacity` values (memory grows only as values come).
    pub fn new(capacity: usize) -> Self {
        TraceBuffer { values: VecDeque::new(), capacity }
    }

    /// Append, dropping the oldest value when full.
    pub fn push(&mut self, v: f32) {
        if self.capacity == 0 {
            return;
        }
        if self.values.len() == self.capacity {
            self.values.pop_front();
        }
        self.values.push_back(v);
    }

    /// Values held, oldest first.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values, oldest first, as one vector.
    pub fn to_vec(&self) -> Vec<f32> {
        self.values.iter().copied().collect()
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.values.clear();
    }
}
