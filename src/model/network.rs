//! The network: parameters and per-batch state in flat row-major `f32` buffers, and one
//! training step = forward pass, burst pass (top-down), plasticity.
//!
//! Indexing: weight layer `k = 0..L` maps the units of layer k − 1 (the input when k = 0) to
//! its own. SPEC.md's layer l is our k = l − 1. The conv layers (conv.rs) come first, then
//! the dense ones (dense.rs); a conv layer's units are all its positions × feature maps (NHWC),
//! so flattening into the first dense layer needs no copy. Hidden layers are k < L − 1; each
//! has feedback Y_k and Q_k shaped like W_{k+1} (a kernel when layer k+1 is conv), carrying the
//! burst rate and event rate of layer k+1 down.

use alloc::vec;
use alloc::vec::Vec;

use super::config::{Config, FeedbackMode, LayerShape, Optimiser, Rule, WeightDecayForm};
use super::diagnostics::{self, Diagnostics};
use super::{conv, dense};
use crate::kernels::{self, sigmoid::sigmoid, Kernels};
use crate::rng::Random;
use crate::Error;

/// One weight layer and the activity of the units it drives, for the current batch.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Values per sample feeding in.
    pub n_in: usize,
    /// Units of this layer (for a conv layer, positions × feature maps).
    pub n_out: usize,
    /// Dense or conv, and the convolution's geometry.
    pub shape: LayerShape,
    /// W: `n_out × n_in` (dense) or `c_out × (k·k·c_in)` kernels (conv).
    pub weight: Vec<f32>,
    /// b: one per unit (dense) or per feature map (conv).
    pub bias: Vec<f32>,
    /// Conv layers: the windows of the current batch's input (`im2col`), from the forward
    /// pass, for the weight update.
    pub(crate) cols: Vec<f32>,
    /// The update's first moving average: SGD's momentum velocity, or Adam's m (empty for
    /// plain SGD).
    pub(crate) weight_velocity: Vec<f32>,
    pub(crate) bias_velocity: Vec<f32>,
    /// Adam's second moving average v, of the squared update (empty unless Adam).
    pub(crate) weight_second: Vec<f32>,
    pub(crate) bias_second: Vec<f32>,
    /// Event rate e, `rows × n_out`.
    pub(crate) event_rate: Vec<f32>,
    /// Burst probability p, `rows × n_out`.
    pub(crate) burst_prob: Vec<f32>,
    /// Burst rate b = p·e, `rows × n_out`.
    pub(crate) burst_rate: Vec<f32>,
    /// Apical potential u, `rows × n_out` (hidden layers; the output layer has none: empty).
    pub(crate) apical: Vec<f32>,
    /// The plasticity signal of the rule in use, `rows × n_out`: (p − p_b)·e for BurstCCN.
    pub(crate) delta: Vec<f32>,
    /// Backprop and feedback-alignment deltas, filled only when diagnostics are asked for.
    pub(crate) delta_bp: Vec<f32>,
    pub(crate) delta_fa: Vec<f32>,
}

/// The feedback onto hidden layer k: Y (from burst rates, facilitating) and Q (from event
/// rates, depressing), both shaped like W_{k+1}.
#[derive(Clone, Debug)]
pub struct Feedback {
    /// Y_k.
    pub y: Vec<f32>,
    /// Q_k.
    pub q: Vec<f32>,
}

/// Borrowed internals of a [`Network`], see [`Network::parts`].
pub(crate) struct Parts<'a> {
    pub kern: &'static dyn Kernels,
    /// Rows of the current batch.
    pub rows: usize,
    /// The current batch's input, `rows × input_len`.
    pub input: &'a [f32],
    /// Its labels (zeros when untaught).
    pub labels: &'a [u8],
    pub layers: &'a mut [Layer],
    pub feedback: &'a mut [Feedback],
    /// Scratch for the transposed convolutions.
    pub back_cols: &'a mut [f32],
}

/// A change (or gradient) for one layer: (ΔW as `n_out × n_in`, Δb).
pub type LayerUpdate = (Vec<f32>, Vec<f32>);

/// What one step saw on its batch (before the update was applied).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepReport {
    /// Samples in the batch.
    pub rows: usize,
    /// Sum over the batch of the squared error Σ_j (e_L − t)²; divide by rows·outputs for the MSE.
    pub sum_squared_error: f64,
    /// Samples whose argmax output differs from the label.
    pub errors: usize,
    /// Angles and means, when asked for.
    pub diagnostics: Option<Diagnostics>,
}

/// A BurstCCN network (also trainable by backprop or feedback alignment).
pub struct Network {
    cfg: Config,
    kern: &'static dyn Kernels,
    layers: Vec<Layer>,
    feedback: Vec<Feedback>,
    /// Per hidden layer: Q_k is exactly p_b·Y_k (symmetric or tied Q, not learned). Then
    /// `u = b·Y − e·Q = ((p − p_b)·e)·Y = δ·Y` needs one product instead of two.
    q_is_pb_y: Vec<bool>,
    /// Scratch for the transposed convolutions' windows (the largest conv layer's).
    back_cols: Vec<f32>,
    /// Scratch for a conv layer's kernels transposed (the largest conv layer's).
    weight_t: Vec<f32>,
    /// The current batch's input, `rows × layers[0]`, pixels in [0, 1].
    input: Vec<f32>,
    /// The current batch's labels.
    labels: Vec<u8>,
    /// Whether the burst pass ran with a teacher (labels) for the current batch.
    taught: bool,
    rows: usize,
    capacity: usize,
    steps: u64,
    samples_seen: u64,
    /// Adam's step count k since its moving averages started from zero (its bias correction).
    adam_steps: u64,
    /// Adam: one layer's update direction, before it enters the moving averages.
    update_scratch: Vec<f32>,
}

impl Clone for Network {
    fn clone(&self) -> Self {
        Network {
            cfg: self.cfg.clone(),
            kern: self.kern,
            layers: self.layers.clone(),
            feedback: self.feedback.clone(),
            q_is_pb_y: self.q_is_pb_y.clone(),
            back_cols: self.back_cols.clone(),
            weight_t: self.weight_t.clone(),
            input: self.input.clone(),
            labels: self.labels.clone(),
            taught: self.taught,
            rows: self.rows,
            capacity: self.capacity,
            steps: self.steps,
            samples_seen: self.samples_seen,
            adam_steps: self.adam_steps,
            update_scratch: self.update_scratch.clone(),
        }
    }
}

impl core::fmt::Debug for Network {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Network")
            .field("layers", &self.cfg.describe())
            .field("rule", &self.cfg.rule)
            .field("kernels", &self.kern.name())
            .field("steps", &self.steps)
            .finish()
    }
}

/// Stream numbers of [`Random`] for the independent random draws of one seed.
const STREAM_WEIGHTS: u64 = 1;
const STREAM_Y: u64 = 2;
const STREAM_Q: u64 = 3;

impl Network {
    /// A freshly initialised network: W ~ N(0, (3.6·√(2/(fan_in+fan_out)))²) (for kernels
    /// fan_in = c_in·k², fan_out = c_out·k²), b = 0, Y and Q per their modes, all from
    /// `cfg.seed`. Uses the fastest kernels available.
    pub fn new(cfg: Config) -> Result<Self, Error> {
        cfg.validate()?;
        let shapes = cfg.shapes();
        let mut rng = Random::new(cfg.seed, STREAM_WEIGHTS);
        let mut layers = Vec::with_capacity(shapes.len());
        for shape in shapes {
            let (fan_in, fan_out) = shape.fans();
            let std = 3.6 * libm::sqrtf(2.0 / (fan_in + fan_out) as f32);
            let weight = (0..shape.weight_len()).map(|_| std * rng.normal()).collect();
            layers.push(Layer {
                n_in: shape.n_in,
                n_out: shape.n_out,
                shape,
                weight,
                bias: vec![0.0; shape.bias_len()],
                cols: Vec::new(),
                weight_velocity: Vec::new(),
                bias_velocity: Vec::new(),
                weight_second: Vec::new(),
                bias_second: Vec::new(),
                event_rate: Vec::new(),
                burst_prob: Vec::new(),
                burst_rate: Vec::new(),
                apical: Vec::new(),
                delta: Vec::new(),
                delta_bp: Vec::new(),
                delta_fa: Vec::new(),
            });
        }
        let mut net = Network {
            kern: kernels::best(),
            feedback: Vec::new(),
            q_is_pb_y: Vec::new(),
            back_cols: Vec::new(),
            weight_t: vec![0.0; shapes_max_conv_weights(&layers)],
            layers,
            input: Vec::new(),
            labels: Vec::new(),
            taught: false,
            rows: 0,
            capacity: 0,
            steps: 0,
            samples_seen: 0,
            adam_steps: 0,
            update_scratch: Vec::new(),
            cfg,
        };
        net.init_feedback();
        net.ensure_optimiser_state(None);
        net.ensure_capacity(net.cfg.batch_size);
        Ok(net)
    }

    fn init_feedback(&mut self) {
        let cfg = &self.cfg;
        let mut rng_y = Random::new(cfg.seed, STREAM_Y);
        let mut rng_q = Random::new(cfg.seed, STREAM_Q);
        self.feedback = (0..cfg.depth().saturating_sub(1))
            .map(|k| {
                let above = &self.layers[k + 1].weight;
                let y: Vec<f32> = match cfg.y_mode {
                    FeedbackMode::Random => above.iter().map(|_| cfg.y_scale * rng_y.normal()).collect(),
                    FeedbackMode::SymmetricInit | FeedbackMode::Tied => {
                        above.iter().map(|w| cfg.y_scale * w).collect()
                    }
                };
                let q = match cfg.q_mode {
                    FeedbackMode::Random => {
                        y.iter().map(|_| cfg.p_baseline * cfg.y_scale * rng_q.normal()).collect()
                    }
                    FeedbackMode::SymmetricInit | FeedbackMode::Tied => {
                        y.iter().map(|v| cfg.p_baseline * v).collect()
                    }
                };
                Feedback { y, q }
            })
            .collect();
        self.check_q_tracking();
    }

    /// Recompute, exactly, which hidden layers have Q_k = p_b·Y_k (after anything that may
    /// have set Y or Q from outside: initialisation, a snapshot, new settings).
    pub(crate) fn check_q_tracking(&mut self) {
        let pb = self.cfg.p_baseline;
        self.q_is_pb_y = self.feedback.iter().map(|f| f.y.iter().zip(&f.q).all(|(&y, &q)| q == pb * y)).collect();
    }

    /// Give the optimiser its buffers: SGD with momentum a velocity, Adam its two moving
    /// averages and a scratch row; plain SGD none. A change of optimiser (from `previous`)
    /// starts its state from zero; momentum kept on keeps its velocity.
    fn ensure_optimiser_state(&mut self, previous: Option<Optimiser>) {
        let adam = self.cfg.optimiser == Optimiser::Adam;
        let first = adam || self.cfg.momentum > 0.0;
        let restart = previous.is_some_and(|p| p != self.cfg.optimiser);
        if restart || !adam {
            self.adam_steps = 0;
        }
        for layer in &mut self.layers {
            for (buf, on, len) in [
                (&mut layer.weight_velocity, first, layer.weight.len()),
                (&mut layer.bias_velocity, first, layer.bias.len()),
                (&mut layer.weight_second, adam, layer.weight.len()),
                (&mut layer.bias_second, adam, layer.bias.len()),
            ] {
                if !on {
                    *buf = Vec::new();
                } else if restart || buf.is_empty() {
                    *buf = vec![0.0; len];
                }
            }
        }
        if !adam {
            self.update_scratch = Vec::new();
        } else if self.update_scratch.is_empty() {
            self.update_scratch = vec![0.0; self.layers.iter().map(|l| l.weight.len()).max().unwrap_or(0)];
        }
    }

    /// Adam's step count since its moving averages started (0 unless Adam).
    pub fn adam_steps(&self) -> u64 {
        self.adam_steps
    }

    pub(crate) fn set_adam_steps(&mut self, k: u64) {
        self.adam_steps = k;
    }

    /// Make the batch buffers hold at least `rows` rows. Growing reallocates (which moves
    /// the buffers: views held elsewhere, e.g. by JavaScript, must be refreshed).
    fn ensure_capacity(&mut self, rows: usize) {
        if rows <= self.capacity {
            return;
        }
        self.capacity = rows;
        self.input = vec![0.0; rows * self.cfg.input_len()];
        self.labels = vec![0; rows];
        let depth = self.layers.len();
        let mut back = 0;
        for (k, layer) in self.layers.iter_mut().enumerate() {
            let size = rows * layer.n_out;
            layer.cols = vec![0.0; rows * layer.shape.window_values()];
            if k > 0 {
                back = back.max(rows * layer.shape.window_values());
            }
            layer.event_rate = vec![0.0; size];
            layer.burst_prob = vec![0.0; size];
            layer.burst_rate = vec![0.0; size];
            layer.apical = if k + 1 < depth { vec![0.0; size] } else { Vec::new() };
            layer.delta = vec![0.0; size];
            layer.delta_bp = Vec::new();
            layer.delta_fa = Vec::new();
        }
        self.back_cols = vec![0.0; back];
    }

    pub(crate) fn ensure_diagnostic_buffers(&mut self) {
        let rows = self.capacity;
        for layer in &mut self.layers {
            if layer.delta_bp.len() != rows * layer.n_out {
                layer.delta_bp = vec![0.0; rows * layer.n_out];
                layer.delta_fa = vec![0.0; rows * layer.n_out];
            }
        }
    }

    // ------------------------------------------------------------------ accessors

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The kernels in use.
    pub fn kernels(&self) -> &'static dyn Kernels {
        self.kern
    }

    /// Use other kernels (e.g. the scalar reference, or a single thread) from now on.
    pub fn set_kernels(&mut self, kern: &'static dyn Kernels) {
        self.kern = kern;
    }

    /// The weight layers, input side first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The feedback of each hidden layer (one fewer than the weight layers).
    pub fn feedback(&self) -> &[Feedback] {
        &self.feedback
    }

    /// Steps taken and samples trained on since initialisation.
    pub fn progress(&self) -> (u64, u64) {
        (self.steps, self.samples_seen)
    }

    /// Rows in the current batch (0 before the first call).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Labels of the current batch, if it was taught (empty after a prediction without teacher).
    pub fn labels(&self) -> &[u8] {
        if self.taught { &self.labels[..self.rows] } else { &[] }
    }

    /// The current batch's input, `rows × input_len` (NHWC for images with channels).
    pub fn input(&self) -> &[f32] {
        &self.input[..self.rows * self.cfg.input_len()]
    }

    /// Event rate of weight layer k's units for the current batch, `rows × n_out` (no copy).
    pub fn event_rate(&self, k: usize) -> &[f32] {
        &self.layers[k].event_rate[..self.rows * self.layers[k].n_out]
    }

    /// Burst probability of layer k, `rows × n_out`.
    pub fn burst_prob(&self, k: usize) -> &[f32] {
        &self.layers[k].burst_prob[..self.rows * self.layers[k].n_out]
    }

    /// Burst rate of layer k, `rows × n_out`.
    pub fn burst_rate(&self, k: usize) -> &[f32] {
        &self.layers[k].burst_rate[..self.rows * self.layers[k].n_out]
    }

    /// Apical potential of hidden layer k, `rows × n_out`; empty for the output layer.
    pub fn apical(&self, k: usize) -> &[f32] {
        let l = &self.layers[k];
        if l.apical.is_empty() { &[] } else { &l.apical[..self.rows * l.n_out] }
    }

    /// The output event rates, `rows × outputs`.
    pub fn output(&self) -> &[f32] {
        self.event_rate(self.layers.len() - 1)
    }

    /// Mutable access to parameters, for tests and for importing snapshots.
    pub(crate) fn parts_mut(&mut self) -> (&mut [Layer], &mut [Feedback]) {
        (&mut self.layers, &mut self.feedback)
    }

    /// Everything the comparison models (burstprop.rs, edn.rs) work on, borrowed at once:
    /// they run their own top-down sweeps and plasticity on this network's W, b, Y, forward
    /// pass and activity buffers.
    pub(crate) fn parts(&mut self) -> Parts<'_> {
        let rows = self.rows;
        Parts {
            kern: self.kern,
            rows,
            input: &self.input[..rows * self.cfg.input_len()],
            labels: &self.labels[..rows],
            layers: &mut self.layers,
            feedback: &mut self.feedback,
            back_cols: &mut self.back_cols,
        }
    }

    /// Set the teacher of the loaded batch (its labels), or none (the output left at
    /// baseline), for a sweep run outside this type.
    pub(crate) fn set_teacher(&mut self, labels: Option<&[u8]>) -> Result<(), Error> {
        match labels {
            Some(l) => self.set_labels(l)?,
            None => self.labels[..self.rows].fill(0),
        }
        self.taught = labels.is_some();
        Ok(())
    }

    pub(crate) fn set_progress(&mut self, steps: u64, samples: u64) {
        self.steps = steps;
        self.samples_seen = samples;
    }

    /// Set W of layer k (tests: hand-built networks). Lengths must match the layer's.
    pub fn set_weight(&mut self, k: usize, w: &[f32], b: &[f32]) -> Result<(), Error> {
        let l = self.layers.get_mut(k).ok_or_else(|| Error::Shape(alloc::format!("no layer {k}")))?;
        if w.len() != l.weight.len() || b.len() != l.bias.len() {
            return Err(Error::Shape(alloc::format!(
                "layer {k} needs {} weights and {} biases",
                l.weight.len(),
                l.bias.len()
            )));
        }
        l.weight.copy_from_slice(w);
        l.bias.copy_from_slice(b);
        self.retie();
        Ok(())
    }

    /// Set Y and Q of hidden layer k (tests and demonstrations).
    pub fn set_feedback(&mut self, k: usize, y: &[f32], q: &[f32]) -> Result<(), Error> {
        let f = self.feedback.get_mut(k).ok_or_else(|| Error::Shape(alloc::format!("no hidden layer {k}")))?;
        if y.len() != f.y.len() || q.len() != f.q.len() {
            return Err(Error::Shape(alloc::format!("hidden layer {k} needs {} feedback weights", f.y.len())));
        }
        f.y.copy_from_slice(y);
        f.q.copy_from_slice(q);
        self.check_q_tracking();
        Ok(())
    }

    /// Change learning settings without touching the weights. The layer sizes and the seed
    /// cannot change this way (that needs a new network); feedback modes take effect from
    /// now on (switching to `tied` re-ties at once).
    pub fn set_config(&mut self, cfg: Config) -> Result<(), Error> {
        cfg.validate()?;
        if !self.cfg.same_architecture(&cfg) {
            return Err(Error::config("layers", "changing layer sizes needs a new network (reset)"));
        }
        let previous = self.cfg.optimiser;
        self.cfg = cfg;
        self.ensure_optimiser_state(Some(previous));
        self.ensure_capacity(self.cfg.batch_size);
        self.retie();
        self.check_q_tracking();
        Ok(())
    }

    // ------------------------------------------------------------------ the model

    /// Load a batch of images given as bytes (0–255, `rows × input_len`), scaled to [0, 1].
    pub fn load_images_u8(&mut self, pixels: &[u8]) -> Result<usize, Error> {
        let n0 = self.cfg.input_len();
        if pixels.is_empty() || !pixels.len().is_multiple_of(n0) {
            return Err(Error::Shape(alloc::format!(
                "{} input values is not a whole number of {n0}-pixel images",
                pixels.len()
            )));
        }
        let rows = pixels.len() / n0;
        self.check_rows(rows)?;
        self.ensure_capacity(rows);
        for (x, &p) in self.input.iter_mut().zip(pixels) {
            *x = f32::from(p) * (1.0 / 255.0);
        }
        self.rows = rows;
        Ok(rows)
    }

    /// Load a batch of inputs given as floats (`rows × input_len`).
    pub fn load_inputs(&mut self, x: &[f32]) -> Result<usize, Error> {
        let n0 = self.cfg.input_len();
        if x.is_empty() || !x.len().is_multiple_of(n0) {
            return Err(Error::Shape(alloc::format!(
                "{} input values is not a whole number of {n0}-value inputs",
                x.len()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::Shape(alloc::format!("input value {i} is not a finite number")));
        }
        let rows = x.len() / n0;
        self.check_rows(rows)?;
        self.ensure_capacity(rows);
        self.input[..x.len()].copy_from_slice(x);
        self.rows = rows;
        Ok(rows)
    }

    /// The input buffer for a batch of `rows` samples, to be filled in place (`rows ×
    /// input_len` values, finite: e.g. augmented, normalised images). Saves a copy per batch.
    pub fn input_for(&mut self, rows: usize) -> Result<&mut [f32], Error> {
        if rows == 0 {
            return Err(Error::Shape("a batch needs at least one sample".into()));
        }
        self.check_rows(rows)?;
        self.ensure_capacity(rows);
        self.rows = rows;
        let n0 = self.cfg.input_len();
        Ok(&mut self.input[..rows * n0])
    }

    fn check_rows(&self, rows: usize) -> Result<(), Error> {
        let most = self.cfg.max_rows();
        if rows > most {
            return Err(Error::Shape(alloc::format!("{rows} rows is more than {most}, the most one batch of this network holds")));
        }
        Ok(())
    }

    pub(crate) fn set_labels(&mut self, labels: &[u8]) -> Result<(), Error> {
        let outputs = *self.cfg.layers.last().unwrap();
        if labels.len() != self.rows {
            return Err(Error::Shape(alloc::format!(
                "{} labels for a batch of {} inputs",
                labels.len(),
                self.rows
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| usize::from(l) >= outputs) {
            return Err(Error::Shape(alloc::format!("label {bad} is out of range for {outputs} outputs")));
        }
        self.labels[..self.rows].copy_from_slice(labels);
        Ok(())
    }

    /// Forward pass: `e_k = σ(e_{k−1} W_kᵀ + b_k)` (dense) or `σ(conv(e_{k−1}, W_k) + b_k)`
    /// (conv) for every layer.
    pub fn forward(&mut self) {
        let rows = self.rows;
        let kern = self.kern;
        for k in 0..self.layers.len() {
            let (below, rest) = self.layers.split_at_mut(k);
            let layer = &mut rest[0];
            let x = match below.last() {
                Some(prev) => &prev.event_rate[..rows * prev.n_out],
                None => &self.input[..rows * layer.n_in],
            };
            forward_layer(kern, &layer.shape, rows, x, &layer.weight, &layer.bias, &mut layer.cols, &mut self.weight_t, &mut layer.event_rate);
        }
    }

    /// Burst pass, top-down. Output: `p_L = p_b·((t − e)(1 − e) + 1)` with a teacher, `p_b`
    /// without. Hidden: `u_k = b_{k+1} Y_k − e_{k+1} Q_k`, `p_k = σ(4·u_k·(1 − e_k))`.
    /// Every layer: `b = p·e` and the plasticity signal `δ = (p − p_b)·e`.
    fn burst_pass(&mut self, teach: bool) {
        let rows = self.rows;
        let pb = self.cfg.p_baseline;
        let depth = self.layers.len();
        {
            let out = &mut self.layers[depth - 1];
            let n = out.n_out;
            for r in 0..rows {
                let label = usize::from(self.labels[r]);
                let span = r * n..(r + 1) * n;
                let e = &out.event_rate[span.clone()];
                let p = &mut out.burst_prob[span.clone()];
                for (j, (p, &e)) in p.iter_mut().zip(e).enumerate() {
                    *p = if teach {
                        let t = if j == label { 1.0 } else { 0.0 };
                        pb * ((t - e) * (1.0 - e) + 1.0)
                    } else {
                        pb
                    };
                }
            }
            rates_and_delta(out, rows, pb);
        }
        for k in (0..depth - 1).rev() {
            let (lower, upper) = self.layers.split_at_mut(k + 1);
            let (layer, above, fb) = (&mut lower[k], &upper[0], &self.feedback[k]);
            let n = layer.n_out;
            let u = &mut layer.apical[..rows * n];
            if self.q_is_pb_y[k] {
                // Q = p_b·Y: b·Y − e·Q = ((p − p_b)·e)·Y, the layer above's δ through Y alone.
                transpose_layer(self.kern, &above.shape, rows, &[(1.0, &above.delta, &fb.y)], &mut self.back_cols, u);
            } else {
                let terms: [(f32, &[f32], &[f32]); 2] = [(1.0, &above.burst_rate, &fb.y), (-1.0, &above.event_rate, &fb.q)];
                transpose_layer(self.kern, &above.shape, rows, &terms, &mut self.back_cols, u);
            }
            let (u, e) = (&*u, &layer.event_rate[..rows * n]);
            let outs = [(&mut layer.burst_prob[..], n), (&mut layer.burst_rate[..], n), (&mut layer.delta[..], n)];
            kernels::for_item_blocks(self.kern, rows, n * (kernels::SIGMOID_WORK + 4), outs, &|first, count, [p, b, d]| {
                let span = first * n..(first + count) * n;
                hidden_rates(&u[span.clone()], &e[span], pb, p, b, d);
            });
        }
    }

    /// Backprop deltas (of the negative gradient): `δ_L = (t − e)·e·(1 − e)`,
    /// `δ_k = (δ_{k+1} W_{k+1}) ⊙ e_k(1 − e_k)` (through the transposed convolution when layer
    /// k+1 is conv); and feedback alignment's, with Y_k for W_{k+1}.
    /// Written to `delta_bp` / `delta_fa` (unscaled: the rules multiply by p_b).
    pub(crate) fn gradient_deltas(&mut self, which_bp: bool, which_fa: bool) {
        let rows = self.rows;
        let depth = self.layers.len();
        {
            let out = &mut self.layers[depth - 1];
            let n = out.n_out;
            for r in 0..rows {
                let label = usize::from(self.labels[r]);
                for j in 0..n {
                    let e = out.event_rate[r * n + j];
                    let t = if j == label { 1.0 } else { 0.0 };
                    let d = (t - e) * e * (1.0 - e);
                    if which_bp {
                        out.delta_bp[r * n + j] = d;
                    }
                    if which_fa {
                        out.delta_fa[r * n + j] = d;
                    }
                }
            }
        }
        let kern = self.kern;
        for k in (0..depth - 1).rev() {
            let (lower, upper) = self.layers.split_at_mut(k + 1);
            let (layer, above) = (&mut lower[k], &upper[0]);
            let n = layer.n_out;
            let e = &layer.event_rate[..rows * n];
            let scratch = &mut self.back_cols;
            let mut run = |delta_above: &[f32], matrix: &[f32], out: &mut [f32]| {
                transpose_layer(kern, &above.shape, rows, &[(1.0, delta_above, matrix)], scratch, out);
                kernels::for_item_blocks(kern, rows, 2 * n, [(out, n)], &|first, _, [out]| {
                    for (d, &e) in out.iter_mut().zip(&e[first * n..]) {
                        *d *= e * (1.0 - e);
                    }
                });
            };
            if which_bp {
                run(&above.delta_bp, &above.weight, &mut layer.delta_bp);
            }
            if which_fa {
                run(&above.delta_fa, &self.feedback[k].y, &mut layer.delta_fa);
            }
        }
    }

    /// Score the current batch against its labels: (sum of squared errors, misclassified).
    pub(crate) fn score(&self) -> (f64, usize) {
        let out = self.layers.last().unwrap();
        let n = out.n_out;
        let mut sse = 0.0f64;
        let mut wrong = 0;
        for r in 0..self.rows {
            let e = &out.event_rate[r * n..(r + 1) * n];
            let label = usize::from(self.labels[r]);
            for (j, &v) in e.iter().enumerate() {
                let t = if j == label { 1.0 } else { 0.0 };
                sse += f64::from((v - t) * (v - t));
            }
            if argmax(e) != label {
                wrong += 1;
            }
        }
        (sse, wrong)
    }

    /// One training step on the loaded batch with these labels, by the configured rule.
    /// With `diagnostics`, also computes backprop's and FA's updates on the same batch and
    /// the angles between them and BurstCCN's (costs about one more backward pass each).
    ///
    /// If anything non-finite appears, returns [`Error::Diverged`] *before* changing any
    /// parameter, so the network keeps its last good state.
    pub fn train_step(&mut self, labels: &[u8], diagnostics: bool) -> Result<StepReport, Error> {
        self.set_labels(labels)?;
        self.step(true, diagnostics)
    }

    /// One step with no teacher: the output burst probability stays at baseline, so only
    /// what the apical potentials say drives plasticity. With `lr = 0` this is pure feedback
    /// learning (Q learning drives the apical potentials to zero). BurstCCN rule only.
    pub fn train_step_without_teacher(&mut self, diagnostics: bool) -> Result<StepReport, Error> {
        if self.cfg.rule != Rule::Burstccn {
            return Err(Error::config("rule", "learning without a teacher needs the burstccn rule"));
        }
        if self.rows == 0 {
            return Err(Error::Shape("no input loaded".into()));
        }
        self.step(false, diagnostics)
    }

    fn step(&mut self, teach: bool, diagnostics: bool) -> Result<StepReport, Error> {
        self.taught = teach;
        self.forward();
        let (sse, errors) = if teach { self.score() } else { (0.0, 0) };
        if !sse.is_finite() || self.output().iter().any(|v| !v.is_finite()) {
            return Err(Error::Diverged(alloc::format!("output event rates are not finite at step {}", self.steps)));
        }
        let rule = self.cfg.rule;
        if rule == Rule::Burstccn || diagnostics {
            self.burst_pass(teach);
        }
        let diagnostics = diagnostics && teach;
        if diagnostics || rule != Rule::Burstccn {
            self.ensure_diagnostic_buffers();
            self.gradient_deltas(diagnostics || rule == Rule::Backprop, diagnostics || rule == Rule::Fa);
        }
        let diag = if diagnostics { Some(diagnostics::measure(self)) } else { None };
        self.select_delta(rule);
        self.check_finite(rule == Rule::Burstccn)?;
        self.apply_plasticity(rule == Rule::Burstccn);
        self.steps += 1;
        self.samples_seen += self.rows as u64;
        Ok(StepReport { rows: self.rows, sum_squared_error: sse, errors, diagnostics: diag })
    }

    /// Put the plasticity signal of `rule` into `delta`: BurstCCN's is already there after the
    /// burst pass; backprop's and FA's are their deltas times p_b (so one η means the same).
    fn select_delta(&mut self, rule: Rule) {
        if rule == Rule::Burstccn {
            return;
        }
        let pb = self.cfg.p_baseline;
        let rows = self.rows;
        for layer in &mut self.layers {
            let n = rows * layer.n_out;
            let src = if rule == Rule::Backprop { &layer.delta_bp } else { &layer.delta_fa };
            for (d, &g) in layer.delta[..n].iter_mut().zip(&src[..n]) {
                *d = pb * g;
            }
        }
    }

    /// The updates (ΔW_k, Δb_k) that `rule` would make on the loaded batch with these labels,
    /// without applying them (plain SGD: η_k·δᵀx/B, η_k·mean δ). For tests and comparisons.
    pub fn proposed_updates(&mut self, labels: &[u8], rule: Rule) -> Result<Vec<LayerUpdate>, Error> {
        self.set_labels(labels)?;
        self.taught = true;
        self.forward();
        self.burst_pass(true);
        self.ensure_diagnostic_buffers();
        self.gradient_deltas(true, true);
        self.select_delta(rule);
        let rows = self.rows as f32;
        Ok(self.outer_products(|l| &l.delta, |k| {
            let lr = self.cfg.layer_lr(k);
            (lr / rows, lr)
        }))
    }

    /// For every layer k, (scale_w·corr(x, δ), bias_factor·Σδ/B) with δ chosen by `pick` and
    /// (scale_w, bias_factor) = `scales(k)`.
    fn outer_products(&self, pick: impl Fn(&Layer) -> &Vec<f32>, scales: impl Fn(usize) -> (f32, f32)) -> Vec<LayerUpdate> {
        let rows = self.rows;
        let mut out = Vec::with_capacity(self.layers.len());
        for k in 0..self.layers.len() {
            let layer = &self.layers[k];
            let delta = pick(layer);
            let (scale_w, bias_factor) = scales(k);
            let mut dw = vec![0.0; layer.weight.len()];
            correlate_layer(self.kern, layer, self.layer_input(k), rows, scale_w, delta, 0.0, &mut dw);
            let mut db = vec![0.0; layer.bias.len()];
            bias_step(&layer.shape, rows, delta, bias_factor, &mut db);
            out.push((dw, db));
        }
        out
    }

    /// The input of weight layer k for the current batch: the pixels, or the event rate below.
    pub(crate) fn layer_input(&self, k: usize) -> &[f32] {
        if k == 0 { self.input() } else { self.event_rate(k - 1) }
    }

    /// Forward pass and burst pass with no teacher (the output at baseline): what the network
    /// does on its own. Fills every activity buffer; changes no weight.
    pub fn predict(&mut self) {
        self.taught = false;
        self.labels[..self.rows].fill(0);
        self.forward();
        self.burst_pass(false);
    }

    /// Forward pass and burst pass with a teacher, without plasticity: the burst wave a
    /// label would cause, for display and for diagnostics.
    pub fn present(&mut self, labels: &[u8]) -> Result<(f64, usize), Error> {
        self.set_labels(labels)?;
        self.taught = true;
        self.forward();
        self.burst_pass(true);
        Ok(self.score())
    }

    /// Diagnostics on the loaded batch and labels without changing the network.
    pub fn diagnose(&mut self, labels: &[u8]) -> Result<Diagnostics, Error> {
        self.present(labels)?;
        self.ensure_diagnostic_buffers();
        self.gradient_deltas(true, true);
        Ok(diagnostics::measure(self))
    }

    /// The backprop gradient of `L = (1/B)·Σ_samples ½‖e_L − t‖²` on the loaded batch:
    /// (dL/dW_k, dL/db_k) for every layer. For tests and diagnostics (allocates).
    pub fn backprop_gradient(&mut self, labels: &[u8]) -> Result<Vec<LayerUpdate>, Error> {
        self.set_labels(labels)?;
        self.taught = true;
        self.forward();
        self.ensure_diagnostic_buffers();
        self.gradient_deltas(true, false);
        let rows = self.rows as f32;
        Ok(self.outer_products(|l| &l.delta_bp, |_| (-1.0 / rows, -1.0)))
    }

    /// The loss `(1/B)·Σ ½‖e_L − t‖²` on the loaded batch (forward pass only).
    pub fn half_squared_error(&mut self, labels: &[u8]) -> Result<f64, Error> {
        self.set_labels(labels)?;
        self.forward();
        Ok(0.5 * self.score().0 / self.rows as f64)
    }

    fn check_finite(&self, burst: bool) -> Result<(), Error> {
        let rows = self.rows;
        for (k, layer) in self.layers.iter().enumerate() {
            let n = rows * layer.n_out;
            if !all_finite(&layer.delta[..n]) {
                return Err(Error::Diverged(alloc::format!("plasticity signal of layer {} is not finite", k + 1)));
            }
            if burst && !layer.apical.is_empty() && !all_finite(&layer.apical[..n]) {
                return Err(Error::Diverged(alloc::format!("apical potential of layer {} is not finite", k + 1)));
            }
        }
        Ok(())
    }

    /// W_k += η_k·δ_kᵀ e_{k−1}/B and b_k += η_k·mean(δ_k), η_k = η·lr_scale[k] (with weight
    /// decay, momentum or Adam when set); then Q and Y learning from the apical potentials
    /// (BurstCCN only); then re-tie.
    fn apply_plasticity(&mut self, burst: bool) {
        let cfg = &self.cfg;
        let rows = self.rows;
        let kern = self.kern;
        let adam = cfg.optimiser == Optimiser::Adam;
        if adam {
            self.adam_steps += 1;
        }
        // Adam's bias corrections folded into its step: η·m̂/(√v̂ + ε) = a·m/(√v + ε·c2)
        // with a = η·c2/c1, c1 = 1 − β1^k, c2 = √(1 − β2^k).
        let k_adam = self.adam_steps as f32;
        let c1 = 1.0 - libm::powf(Optimiser::ADAM_BETA1, k_adam);
        let c2 = libm::sqrtf(1.0 - libm::powf(Optimiser::ADAM_BETA2, k_adam));
        for k in 0..self.layers.len() {
            let (below, rest) = self.layers.split_at_mut(k);
            let layer = &mut rest[0];
            let x = match below.last() {
                Some(prev) => &prev.event_rate[..rows * prev.n_out],
                None => &self.input[..rows * layer.n_in],
            };
            let lr = cfg.layer_lr(k);
            let scale = lr / rows as f32;
            // Decay inside the update (ours, −η·λ·W, also into the velocity) or after it (the
            // authors', −λ·W): exactly one of the two is non-zero.
            let (wd_in, wd_after) = match cfg.weight_decay_form {
                WeightDecayForm::LrScaled => (lr * cfg.weight_decay, 0.0),
                WeightDecayForm::Authors => (0.0, cfg.weight_decay),
            };
            let decay = 1.0 - wd_in - wd_after;
            let keep = 1.0 - wd_after;
            let adam_step = AdamStep { a: lr * c2 / c1.max(f32::MIN_POSITIVE), eps: Optimiser::ADAM_EPSILON * c2, keep: decay };
            let mut bias_change = vec![0.0f32; layer.bias.len()];
            bias_step(&layer.shape, rows, &layer.delta, if adam { 1.0 } else { lr }, &mut bias_change);
            let Layer { shape, delta, cols, weight, weight_velocity, bias, bias_velocity, weight_second, bias_second, .. } = layer;
            let inputs: &[f32] = if shape.conv.is_some() { cols } else { x };
            if adam {
                // Δ = corr(x, δ)/B, then the moving averages and the step (decay as for SGD).
                let update = &mut self.update_scratch[..weight.len()];
                correlate_into(kern, shape, rows, 1.0 / rows as f32, delta, inputs, 0.0, update);
                adam_step.apply(weight, weight_velocity, weight_second, update);
                adam_step.apply(bias, bias_velocity, bias_second, &bias_change);
            } else if cfg.momentum > 0.0 {
                // v ← μ·v + η·corr(x, δ)/B − η·λ·W;  W ← W + v (ours), or
                // v ← μ·v + η·corr(x, δ)/B;  W ← (1 − λ)·W + v (the authors').
                correlate_into(kern, shape, rows, scale, delta, inputs, cfg.momentum, weight_velocity);
                for (w, v) in weight.iter_mut().zip(weight_velocity.iter_mut()) {
                    *v -= wd_in * *w;
                    *w = keep * *w + *v;
                }
                for ((b, v), s) in bias.iter_mut().zip(bias_velocity.iter_mut()).zip(&bias_change) {
                    *v = cfg.momentum * *v + s - wd_in * *b;
                    *b = keep * *b + *v;
                }
            } else {
                correlate_into(kern, shape, rows, scale, delta, inputs, decay, weight);
                for (b, s) in bias.iter_mut().zip(&bias_change) {
                    *b = decay * *b + s;
                }
            }
        }
        if burst && (cfg.lr_q > 0.0 || cfg.lr_y > 0.0) {
            for k in 0..self.feedback.len() {
                let (layer, above) = (&self.layers[k], &self.layers[k + 1]);
                // Conv layers have no Y or Q learning (as the authors', REFERENCE.md §4.4); a
                // dense layer only ever has dense layers above it.
                if layer.shape.conv.is_some() {
                    continue;
                }
                let (n, n_above) = (layer.n_out, above.n_out);
                let (e_above, u) = (&above.event_rate[..rows * n_above], &layer.apical[..rows * n]);
                let fb = &mut self.feedback[k];
                if cfg.lr_q > 0.0 && cfg.q_mode != FeedbackMode::Tied {
                    // Q_k += η_Q·e_{k+1}ᵀ u_k / B: drives the apical potential to zero.
                    dense::correlate_into(kern, rows, n, n_above, cfg.lr_q / rows as f32, e_above, u, 1.0, &mut fb.q);
                    self.q_is_pb_y[k] = false;
                }
                if cfg.lr_y > 0.0 && cfg.y_mode != FeedbackMode::Tied {
                    dense::correlate_into(kern, rows, n, n_above, -cfg.lr_y / rows as f32, e_above, u, 1.0, &mut fb.y);
                    self.q_is_pb_y[k] = false;
                }
            }
        }
        self.retie();
    }

    /// Re-copy tied feedback: Y_k = y_scale·W_{k+1}, Q_k = p_b·Y_k.
    fn retie(&mut self) {
        let cfg = &self.cfg;
        for (k, fb) in self.feedback.iter_mut().enumerate() {
            if cfg.y_mode == FeedbackMode::Tied {
                for (y, w) in fb.y.iter_mut().zip(&self.layers[k + 1].weight) {
                    *y = cfg.y_scale * w;
                }
                if let Some(t) = self.q_is_pb_y.get_mut(k) {
                    *t = false;
                }
            }
            if cfg.q_mode == FeedbackMode::Tied {
                for (q, y) in fb.q.iter_mut().zip(&fb.y) {
                    *q = cfg.p_baseline * y;
                }
                if let Some(t) = self.q_is_pb_y.get_mut(k) {
                    *t = true;
                }
            }
        }
    }

    /// Forward-only classification of many images (u8 pixels, `count × input_len`), in chunks,
    /// using separate scratch buffers so the displayed batch state is left alone.
    /// Returns the predicted class of each image and, when labels are given, the sum of squared errors.
    pub fn classify_u8(&self, pixels: &[u8], labels: Option<&[u8]>) -> Result<(Vec<u8>, f64), Error> {
        let n0 = self.cfg.input_len();
        if !pixels.len().is_multiple_of(n0) {
            return Err(Error::Shape(alloc::format!("{} pixels is not a whole number of images", pixels.len())));
        }
        self.classify(pixels.len() / n0, labels, |start, x| {
            for (x, &p) in x.iter_mut().zip(&pixels[start * n0..]) {
                *x = f32::from(p) * (1.0 / 255.0);
            }
        })
    }

    /// Forward-only classification of `count` inputs that `fill(start, x)` writes, a chunk at a
    /// time, into `x` (`rows × input_len`, starting at input `start`). Returns the predicted
    /// class of each input and, when labels are given, the sum of squared errors.
    pub fn classify(&self, count: usize, labels: Option<&[u8]>, mut fill: impl FnMut(usize, &mut [f32])) -> Result<(Vec<u8>, f64), Error> {
        let n0 = self.cfg.input_len();
        if let Some(l) = labels {
            if l.len() != count {
                return Err(Error::Shape(alloc::format!("{} labels for {count} images", l.len())));
            }
        }
        // Chunks of up to 250 inputs, fewer for big conv nets (at most ~16 MiB of scratch).
        let per_sample: usize = n0 + self.layers.iter().map(|l| l.n_out + l.shape.window_values()).sum::<usize>();
        let chunk = (4_000_000 / per_sample.max(1)).clamp(1, 250);
        let mut scratch: Vec<Vec<f32>> = self.layers.iter().map(|l| vec![0.0; chunk * l.n_out]).collect();
        let mut cols = vec![0.0f32; chunk * self.layers.iter().map(|l| l.shape.window_values()).max().unwrap_or(0)];
        let mut input = vec![0.0f32; chunk * n0];
        let mut weight_t = vec![0.0f32; self.weight_t.len()];
        let mut predictions = Vec::with_capacity(count);
        let mut sse = 0.0f64;
        let n_out = self.layers.last().unwrap().n_out;
        for start in (0..count).step_by(chunk) {
            let rows = chunk.min(count - start);
            fill(start, &mut input[..rows * n0]);
            for k in 0..self.layers.len() {
                let layer = &self.layers[k];
                let (below, rest) = scratch.split_at_mut(k);
                let x = match below.last() {
                    Some(prev) => &prev[..rows * layer.n_in],
                    None => &input[..rows * n0],
                };
                forward_layer(self.kern, &layer.shape, rows, x, &layer.weight, &layer.bias, &mut cols, &mut weight_t, &mut rest[0]);
            }
            let out = scratch.last().unwrap();
            for r in 0..rows {
                let e = &out[r * n_out..(r + 1) * n_out];
                predictions.push(argmax(e) as u8);
                if let Some(l) = labels {
                    let label = usize::from(l[start + r]);
                    for (j, &v) in e.iter().enumerate() {
                        let t = if j == label { 1.0 } else { 0.0 };
                        sse += f64::from((v - t) * (v - t));
                    }
                }
            }
        }
        Ok((predictions, sse))
    }
}

/// The largest conv layer's kernel count (the size of the transposed-kernel scratch).
fn shapes_max_conv_weights(layers: &[Layer]) -> usize {
    layers.iter().filter(|l| l.shape.conv.is_some()).map(|l| l.weight.len()).max().unwrap_or(0)
}

/// One layer's forward pass, dense or conv (`cols`, `weight_t`: the conv layer's scratch).
#[allow(clippy::too_many_arguments)]
fn forward_layer(kern: &dyn Kernels, shape: &LayerShape, rows: usize, x: &[f32], weight: &[f32], bias: &[f32], cols: &mut [f32], weight_t: &mut [f32], e: &mut [f32]) {
    match &shape.conv {
        Some(g) => conv::forward(kern, g, rows, x, weight, bias, cols, weight_t, e),
        None => dense::forward(kern, rows, shape.n_in, shape.n_out, x, weight, bias, e),
    }
}

/// Through a layer backwards: `out (rows × n_in) = Σ α·z·M` (dense) or `Σ α·convT(z, M)` (conv).
pub(crate) fn transpose_layer(kern: &dyn Kernels, shape: &LayerShape, rows: usize, terms: &[(f32, &[f32], &[f32])], scratch: &mut [f32], out: &mut [f32]) {
    match &shape.conv {
        Some(g) => conv::transpose(kern, g, rows, terms, scratch, out),
        None => dense::transpose(kern, rows, shape.n_in, shape.n_out, terms, out),
    }
}

/// `W ← β·W + α·corr(x, δ)`; for a conv layer `inputs` are its windows (`cols`), else `x`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn correlate_into(kern: &dyn Kernels, shape: &LayerShape, rows: usize, alpha: f32, delta: &[f32], inputs: &[f32], beta: f32, w: &mut [f32]) {
    match &shape.conv {
        Some(g) => conv::correlate_into(kern, g, rows, alpha, delta, inputs, beta, w),
        None => dense::correlate_into(kern, rows, shape.n_in, shape.n_out, alpha, delta, inputs, beta, w),
    }
}

/// [`correlate_into`] for layer k with its input `x` (the conv windows are taken from the layer).
#[allow(clippy::too_many_arguments)]
fn correlate_layer(kern: &dyn Kernels, layer: &Layer, x: &[f32], rows: usize, alpha: f32, delta: &[f32], beta: f32, w: &mut [f32]) {
    let inputs: &[f32] = if layer.shape.conv.is_some() { &layer.cols } else { x };
    correlate_into(kern, &layer.shape, rows, alpha, delta, inputs, beta, w)
}

/// The bias step `factor·Σ δ / B`: per unit (dense: the batch mean), or per feature map (conv:
/// summed over positions too, divided by the batch only).
pub(crate) fn bias_step(shape: &LayerShape, rows: usize, delta: &[f32], factor: f32, out: &mut [f32]) {
    match &shape.conv {
        Some(g) => conv::bias_sums(g, rows, delta, factor, out),
        None => dense::column_sums(&delta[..rows * shape.n_out], shape.n_out, factor / rows as f32, out),
    }
}

/// A hidden layer's burst pass from its apical potential, one block of samples:
/// `p = σ(4·u·(1 − e))`, `b = p·e`, `δ = (p − p_b)·e`.
// Indexed over slices cut to one length, so the bounds checks fold away (not measured against a
// zip of the five slices; the speed-up measured was the fused pass on the thread team).
#[allow(clippy::needless_range_loop)]
fn hidden_rates(u: &[f32], e: &[f32], pb: f32, p: &mut [f32], b: &mut [f32], d: &mut [f32]) {
    let n = p.len();
    let (u, e, b, d) = (&u[..n], &e[..n], &mut b[..n], &mut d[..n]);
    for i in 0..n {
        let prob = sigmoid(4.0 * u[i] * (1.0 - e[i]));
        p[i] = prob;
        b[i] = prob * e[i];
        d[i] = (prob - pb) * e[i];
    }
}

/// `b = p·e` and `δ = (p − p_b)·e` over the batch.
fn rates_and_delta(layer: &mut Layer, rows: usize, pb: f32) {
    let n = rows * layer.n_out;
    let e = &layer.event_rate[..n];
    let p = &layer.burst_prob[..n];
    for (((b, d), &p), &e) in layer.burst_rate[..n].iter_mut().zip(&mut layer.delta[..n]).zip(p).zip(e) {
        *b = p * e;
        *d = (p - pb) * e;
    }
}

/// One Adam step with its bias corrections folded in (see `apply_plasticity`).
struct AdamStep {
    a: f32,
    eps: f32,
    /// The weight's decay factor (1 − η·λ or 1 − λ).
    keep: f32,
}

impl AdamStep {
    /// m ← β1·m + (1−β1)·Δ;  v ← β2·v + (1−β2)·Δ²;  w ← keep·w + a·m/(√v + ε').
    fn apply(&self, w: &mut [f32], m: &mut [f32], v: &mut [f32], update: &[f32]) {
        let (b1, b2) = (Optimiser::ADAM_BETA1, Optimiser::ADAM_BETA2);
        for (((w, m), v), &d) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(update) {
            *m = b1 * *m + (1.0 - b1) * d;
            *v = b2 * *v + (1.0 - b2) * d * d;
            *w = self.keep * *w + self.a * *m / (libm::sqrtf(*v) + self.eps);
        }
    }
}

/// Whether no value is NaN or ±∞: an exponent of all ones, tested over blocks without an early
/// exit inside a block, so the test vectorises.
fn all_finite(v: &[f32]) -> bool {
    v.chunks(1024).all(|block| block.iter().fold(0u32, |bad, x| bad | u32::from(x.to_bits() & 0x7f80_0000 == 0x7f80_0000)) == 0)
}

/// Index of the largest value (the first on ties; NaN never wins).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
