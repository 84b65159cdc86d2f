//! Everything that defines a network and how it learns. Serialised (serde) into snapshots,
//! the page's URL hash and the wasm API; every field is validated by [`Config::validate`].

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::kernels::conv::ConvGeom;
use crate::Error;

/// Which rule turns one forward pass into weight updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Burst-dependent plasticity: δ_l = (p_l − p_b)·e_l, with p_l set by the apical potential.
    #[serde(alias = "burst_ccn")]
    Burstccn,
    /// Exact gradient of the squared error, scaled by p_b so one η means the same for all rules.
    Backprop,
    /// Feedback alignment: the backprop recursion with the fixed random Y_l in place of W_{l+1}ᵀ.
    #[serde(alias = "feedback_alignment")]
    Fa,
}

impl Rule {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Burstccn => "burstccn",
            Rule::Backprop => "backprop",
            Rule::Fa => "fa",
        }
    }
}

/// How a feedback matrix (Y or Q) is set up and maintained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackMode {
    /// Y_l ~ N(0, y_scale²); Q_l ~ N(0, (p_b·y_scale)²). Changed only by Y/Q learning.
    Random,
    /// Y_l = y_scale·W_{l+1} and Q_l = p_b·Y_l at initialisation, then independent.
    SymmetricInit,
    /// As `symmetric_init`, and re-copied after every update (Y follows W, Q follows Y).
    Tied,
}

/// How weight decay λ enters the update of W and b (REFERENCE.md §1 #3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightDecayForm {
    /// `W ← (1 − η·λ)·W + ΔW`: λ is scaled by η, and with momentum the decay term −η·λ·W goes
    /// into the velocity (as torch's SGD does).
    #[default]
    #[serde(alias = "ours")]
    LrScaled,
    /// The authors' layers: `W ← W + ΔW − λ·W` after the optimiser step, λ not scaled by η and
    /// never in the momentum. Biases decay the same way.
    Authors,
}

/// How the plasticity's update direction becomes a weight change (REFERENCE.md §2.5, the
/// authors' `--optimiser_type`). Only W and b go through it; Y and Q learn by plain SGD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimiser {
    /// `W += η·Δ`, or with momentum μ `v ← μ·v + η·Δ`, `W += v`.
    #[default]
    Sgd,
    /// Adam on the update direction Δ (β1 0.9, β2 0.999, ε 1e-8, bias-corrected, as the
    /// authors'): `m ← β1·m + (1−β1)·Δ`, `v ← β2·v + (1−β2)·Δ²`,
    /// `W += η·m̂/(√v̂ + ε)` with `m̂ = m/(1−β1^k)`, `v̂ = v/(1−β2^k)` after k steps.
    Adam,
}

impl Optimiser {
    /// Adam's β1, β2 and ε (fixed, as in the authors' code).
    pub const ADAM_BETA1: f32 = 0.9;
    /// Adam's β2.
    pub const ADAM_BETA2: f32 = 0.999;
    /// Adam's ε.
    pub const ADAM_EPSILON: f32 = 1e-8;
}

/// A network and its learning settings. Defaults are the authors' MNIST notebook (SPEC.md):
/// 784-500-500-500-10, batch 32, η = 0.3, p_b = 0.5, Y random (scale 0.5, fixed),
/// Q symmetric at init and learned with η_Q = 0.000731, plain SGD.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Shape of one input, `[channels, height, width]`. Needed by conv layers; optional for a
    /// network of dense layers only (then it must hold `layers[0]` values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_shape: Option<[usize; 3]>,
    /// The convolutional layers, input side first (empty for an MLP). Their output is
    /// flattened into the dense layers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conv: Vec<ConvSpec>,
    /// Units per dense layer, input first: `[784, 500, 500, 500, 10]`. After conv layers,
    /// `layers[0]` is the size of their flattened output (e.g. 2304 = 3·3·256).
    pub layers: Vec<usize>,
    /// Learning rule used by training steps.
    pub rule: Rule,
    /// η, the learning rate of W and b (all layers, times `lr_scale`).
    pub lr: f32,
    /// Per weight layer, input side first, a factor on η: layer k learns at η·lr_scale[k].
    /// Empty: 1 for every layer (the authors' one rate).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lr_scale: Vec<f32>,
    /// p_b, the baseline burst probability.
    pub p_baseline: f32,
    /// How Y (burst-rate feedback, facilitating) is set up.
    pub y_mode: FeedbackMode,
    /// Scale of Y: its standard deviation when random, its factor on W when symmetric.
    pub y_scale: f32,
    /// How Q (event-rate feedback, depressing) is set up.
    pub q_mode: FeedbackMode,
    /// η_Q: rate of Q learning, `Q_l += η_Q·e_{l+1}ᵀ u_l / B`; 0 turns it off.
    pub lr_q: f32,
    /// η_Y: rate of Y learning, `Y_l −= η_Y·e_{l+1}ᵀ u_l / B`; 0 turns it off.
    pub lr_y: f32,
    /// SGD momentum μ (0 = plain SGD).
    pub momentum: f32,
    /// `sgd` (with `momentum`) or `adam`.
    #[serde(skip_serializing_if = "is_sgd")]
    pub optimiser: Optimiser,
    /// L2 weight decay λ of W and b; how it applies is `weight_decay_form`.
    pub weight_decay: f32,
    /// `lr_scaled`: W ← (1 − η·λ)·W + ΔW; `authors`: W ← W + ΔW − λ·W (their code's form).
    pub weight_decay_form: WeightDecayForm,
    /// Samples per step (B).
    pub batch_size: usize,
    /// Seed of the weights, the feedback matrices and the batch order.
    pub seed: u64,
}

/// One convolutional layer: `channels` kernels of `kernel × kernel`, moved by `stride`, no
/// padding, sigmoid units (REFERENCE.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvSpec {
    /// Output channels (feature maps).
    pub channels: usize,
    /// Kernel size k.
    pub kernel: usize,
    /// Stride s.
    pub stride: usize,
}

/// What one weight layer maps, derived from a valid [`Config`]: `n_in` values per sample to
/// `n_out` units per sample (for a conv layer, every position of every feature map is a unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerShape {
    /// Values per sample coming in.
    pub n_in: usize,
    /// Units per sample.
    pub n_out: usize,
    /// The convolution, for a conv layer; `None` for a dense layer.
    pub conv: Option<ConvGeom>,
}

impl LayerShape {
    /// Entries of W: `c_out·k·k·c_in` (conv) or `n_out·n_in` (dense).
    pub fn weight_len(&self) -> usize {
        match &self.conv {
            Some(g) => g.weight_len(),
            None => self.n_in * self.n_out,
        }
    }

    /// Entries of the bias: one per feature map (conv) or per unit (dense).
    pub fn bias_len(&self) -> usize {
        match &self.conv {
            Some(g) => g.c_out,
            None => self.n_out,
        }
    }

    /// (fan_in, fan_out) for Xavier initialisation: `c_in·k², c_out·k²` for conv kernels.
    pub fn fans(&self) -> (usize, usize) {
        match &self.conv {
            Some(g) => (g.c_in * g.k * g.k, g.c_out * g.k * g.k),
            None => (self.n_in, self.n_out),
        }
    }

    /// Multiply-adds of one sample through this layer (the forward product; the burst pass
    /// through it and its weight update cost the same).
    pub fn macs(&self) -> usize {
        match &self.conv {
            Some(g) => g.positions() * g.window() * g.c_out,
            None => self.n_in * self.n_out,
        }
    }

    /// Values of one sample's `im2col` windows (conv layers; 0 for dense).
    pub fn window_values(&self) -> usize {
        self.conv.as_ref().map_or(0, |g| g.positions() * g.window())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            input_shape: None,
            conv: Vec::new(),
            layers: vec![784, 500, 500, 500, 10],
            rule: Rule::Burstccn,
            lr: 0.3,
            lr_scale: Vec::new(),
            p_baseline: 0.5,
            y_mode: FeedbackMode::Random,
            y_scale: 0.5,
            q_mode: FeedbackMode::SymmetricInit,
            lr_q: 0.000_731,
            lr_y: 0.0,
            momentum: 0.0,
            optimiser: Optimiser::Sgd,
            weight_decay: 0.0,
            weight_decay_form: WeightDecayForm::LrScaled,
            batch_size: 32,
            seed: 1,
        }
    }
}

impl Config {
    /// The factor on η of weight layer k (`lr_scale[k]`, or 1).
    pub fn lr_factor(&self, k: usize) -> f32 {
        self.lr_scale.get(k).copied().unwrap_or(1.0)
    }

    /// The learning rate of weight layer k: η·lr_scale[k].
    pub fn layer_lr(&self, k: usize) -> f32 {
        self.lr * self.lr_factor(k)
    }
}

fn is_sgd(o: &Optimiser) -> bool {
    *o == Optimiser::Sgd
}

/// Largest width of one dense layer.
pub const MAX_WIDTH: usize = 1 << 16;
/// Largest number of units (positions × channels) of one conv layer, and of values of one input.
pub const MAX_CONV_UNITS: usize = 1 << 22;
/// Largest number of conv layers.
pub const MAX_CONV_LAYERS: usize = 16;
/// Largest kernel size and stride.
pub const MAX_KERNEL: usize = 64;
/// Largest number of activity values one batch may need (every layer's event rate, burst
/// probability, burst rate, apical potential and deltas, and the conv windows), 128 Mi floats
/// = 512 MiB: beyond that a configuration would exhaust a browser's memory.
pub const MAX_BATCH_ACTIVITY: usize = 1 << 27;
/// Largest number of layers (input and output included).
pub const MAX_LAYERS: usize = 34;
/// Largest number of weights (W, Y and Q together): 256 Mi floats = 1 GiB.
pub const MAX_WEIGHTS: usize = 1 << 28;
/// Largest batch.
pub const MAX_BATCH: usize = 4096;
/// Largest seed that survives a trip through a JavaScript number exactly (2^53 − 1).
pub const MAX_SEED: u64 = (1 << 53) - 1;

impl Config {
    /// Number of weight layers L: the conv layers and the dense ones (`layers.len() − 1`).
    pub fn depth(&self) -> usize {
        self.conv.len() + self.layers.len().saturating_sub(1)
    }

    /// Values of one input sample.
    pub fn input_len(&self) -> usize {
        match (self.conv.is_empty(), self.input_shape) {
            (false, Some([c, h, w])) => c * h * w,
            _ => self.layers.first().copied().unwrap_or(0),
        }
    }

    /// Output units (classes).
    pub fn outputs(&self) -> usize {
        self.layers.last().copied().unwrap_or(0)
    }

    /// True if the network has conv layers.
    pub fn is_conv(&self) -> bool {
        !self.conv.is_empty()
    }

    /// The shape of every weight layer, input side first. The configuration must be valid
    /// ([`Config::validate`]); on an invalid one this returns what it can.
    pub fn shapes(&self) -> Vec<LayerShape> {
        arch_shapes(self.input_shape, &self.conv, &self.layers).unwrap_or_default()
    }

    /// The most rows one batch of this network may hold (when training, predicting or
    /// evaluating): [`MAX_BATCH`], fewer when one sample's activity is so large that
    /// [`MAX_BATCH_ACTIVITY`] would be exceeded.
    pub fn max_rows(&self) -> usize {
        let per_sample = activity_per_sample(self.input_len(), &self.shapes()).max(1);
        (MAX_BATCH_ACTIVITY / per_sample).min(MAX_BATCH)
    }

    /// Total number of W, Y and Q entries (Y_k and Q_k have the shape of W_{k+1}).
    pub fn weight_count(&self) -> usize {
        weight_count(&self.shapes())
    }

    /// Floating-point operations (2 per multiply-add) of one sample's forward pass.
    pub fn forward_flops(&self) -> f64 {
        2.0 * self.shapes().iter().map(|s| s.macs() as f64).sum::<f64>()
    }

    /// Floating-point operations per sample of one training step by the configured rule, as
    /// the engine runs it: forward pass and weight updates; BurstCCN's burst pass (one product
    /// per hidden layer through the layer above when Q stays p_b·Y, else two) and Y/Q
    /// learning; or backprop's / FA's one backward product per hidden layer.
    pub fn train_flops(&self) -> f64 {
        let shapes = self.shapes();
        let mut macs: f64 = shapes.iter().map(|s| 2.0 * s.macs() as f64).sum();
        for (k, above) in shapes.iter().enumerate().skip(1) {
            let below_is_dense = shapes[k - 1].conv.is_none();
            let through = above.macs() as f64;
            if self.rule == Rule::Burstccn {
                let learns = below_is_dense && (self.lr_q > 0.0 || self.lr_y > 0.0);
                let q_follows_y = self.q_mode == FeedbackMode::Tied
                    || (self.q_mode == FeedbackMode::SymmetricInit && self.y_mode != FeedbackMode::Tied && !learns);
                macs += if q_follows_y { through } else { 2.0 * through };
                if below_is_dense {
                    macs += through * (f64::from(u8::from(self.lr_q > 0.0)) + f64::from(u8::from(self.lr_y > 0.0)));
                }
            } else {
                macs += through;
            }
        }
        2.0 * macs
    }

    /// A short description of the architecture: `784-500-10`, or `3x32x32-c64k5s2-…-f1480-10`.
    pub fn describe(&self) -> String {
        if self.conv.is_empty() {
            return self.layers.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("-");
        }
        let mut parts = Vec::new();
        if let Some([c, h, w]) = self.input_shape {
            parts.push(format!("{c}x{h}x{w}"));
        }
        parts.extend(self.conv.iter().map(|c| format!("c{}k{}s{}", c.channels, c.kernel, c.stride)));
        let n = self.layers.len();
        parts.extend(self.layers.iter().enumerate().skip(1).map(|(i, w)| if i + 1 < n { format!("f{w}") } else { w.to_string() }));
        parts.join("-")
    }

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        let shapes = arch_shapes(self.input_shape, &self.conv, &self.layers)?;
        finite_in("lr", self.lr, 0.0, 100.0)?;
        if !self.lr_scale.is_empty() {
            if self.lr_scale.len() != shapes.len() {
                return Err(Error::config(
                    "lr_scale",
                    format!("has {} factors for a network of {} weight layers ({})", self.lr_scale.len(), shapes.len(), self.describe()),
                ));
            }
            for (k, &f) in self.lr_scale.iter().enumerate() {
                finite_in(&format!("lr_scale[{k}]"), f, 0.0, 100.0)?;
            }
        }
        if !(self.p_baseline > 0.0 && self.p_baseline < 1.0) {
            return Err(Error::config("p_baseline", format!("must be in (0, 1), got {}", self.p_baseline)));
        }
        finite_in("y_scale", self.y_scale, 0.0, 100.0)?;
        finite_in("lr_q", self.lr_q, 0.0, 100.0)?;
        finite_in("lr_y", self.lr_y, 0.0, 100.0)?;
        if !(self.momentum >= 0.0 && self.momentum < 1.0) {
            return Err(Error::config("momentum", format!("must be in [0, 1), got {}", self.momentum)));
        }
        if self.optimiser == Optimiser::Adam && self.momentum > 0.0 {
            return Err(Error::config("momentum", "is an SGD setting: Adam keeps its own moving averages (β1 0.9, β2 0.999)"));
        }
        finite_in("weight_decay", self.weight_decay, 0.0, 1.0)?;
        // Every layer's own rate (η·lr_scale[k]) scales the decay in the lr-scaled form.
        let top_lr = (0..shapes.len()).map(|k| self.layer_lr(k)).fold(0.0, f32::max);
        match self.weight_decay_form {
            WeightDecayForm::LrScaled if top_lr * self.weight_decay >= 1.0 => {
                let which = if self.lr_scale.is_empty() { "" } else { " in every layer (lr × lr_scale[k])" };
                return Err(Error::config("weight_decay", format!("lr × weight_decay must be below 1{which}")));
            }
            WeightDecayForm::Authors if self.weight_decay >= 1.0 => {
                return Err(Error::config("weight_decay", "must be below 1 in the authors' form (W ← W + ΔW − λ·W)"));
            }
            _ => {}
        }
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            return Err(Error::config(
                "batch_size",
                format!("must be between 1 and {MAX_BATCH}, got {}", self.batch_size),
            ));
        }
        if self.seed > MAX_SEED {
            return Err(Error::config("seed", format!("must be at most {MAX_SEED}")));
        }
        let per_sample = activity_per_sample(self.input_len(), &shapes);
        if per_sample.saturating_mul(self.batch_size) > MAX_BATCH_ACTIVITY {
            return Err(Error::config(
                "batch_size",
                format!(
                    "a batch of {} needs {} activity values ({per_sample} per sample), more than the limit of {MAX_BATCH_ACTIVITY}; use a smaller batch or network",
                    self.batch_size,
                    per_sample.saturating_mul(self.batch_size)
                ),
            ));
        }
        Ok(())
    }

    /// This configuration with the fields of `patch` (a JSON object, e.g. from JavaScript or a
    /// URL) applied. The error names the first unknown field or field with a bad value.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Config, Error> {
        use serde_json::Value;
        let fields = patch.as_object().ok_or_else(|| Error::config("config", "must be an object of settings"))?;
        let Ok(Value::Object(mut merged)) = serde_json::to_value(self) else {
            unreachable!("a Config always serialises to an object")
        };
        // Settings left out of the JSON while unset (an MLP has no conv layers) are settings too.
        merged.entry("input_shape").or_insert(Value::Null);
        merged.entry("conv").or_insert(Value::Array(Vec::new()));
        for (key, value) in fields {
            if !merged.contains_key(key) {
                let known: Vec<&str> = merged.keys().map(|k| k.as_str()).collect();
                return Err(Error::config(key.as_str(), format!("unknown setting (known: {})", known.join(", "))));
            }
            merged.insert(key.clone(), value.clone());
            // Check one field at a time so the error can name it.
            if let Err(e) = serde_json::from_value::<Config>(Value::Object(merged.clone())) {
                return Err(Error::config(key.as_str(), format!("{e}")));
            }
        }
        let cfg: Config = serde_json::from_value(Value::Object(merged)).map_err(|e| Error::config("config", format!("{e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// True when `other` describes the same tensors (so weights carry over unchanged).
    pub fn same_architecture(&self, other: &Config) -> bool {
        self.layers == other.layers && self.conv == other.conv && self.input_len() == other.input_len()
            && (self.conv.is_empty() || self.input_shape == other.input_shape)
    }

    /// A network from a stack description such as `c64k5s2,c128k5s2,c256k3s1,f1480`: conv layers
    /// (`c<channels>k<kernel>s<stride>`, stride optional, default 1) then dense hidden layers
    /// (`f<units>`), on inputs of `input_shape` with `outputs` output units. Other settings are
    /// kept. The error names the item it cannot read.
    pub fn with_stack(&self, spec: &str, input_shape: [usize; 3], outputs: usize) -> Result<Config, Error> {
        let mut conv = Vec::new();
        let mut dense = Vec::new();
        for (i, item) in spec.split(',').map(str::trim).filter(|s| !s.is_empty()).enumerate() {
            let bad = |why: &str| Error::config("layers", format!("item {} `{item}` of `{spec}`: {why}", i + 1));
            if let Some(rest) = item.strip_prefix('c') {
                if !dense.is_empty() {
                    return Err(bad("conv layers must come before the dense (f…) layers"));
                }
                let (channels, rest) = split_number(rest).ok_or_else(|| bad("expected c<channels>k<kernel>[s<stride>]"))?;
                let rest = rest.strip_prefix('k').ok_or_else(|| bad("expected k<kernel> after the channel count"))?;
                let (kernel, rest) = split_number(rest).ok_or_else(|| bad("expected a kernel size after k"))?;
                let stride = match rest.strip_prefix('s') {
                    Some(r) => match split_number(r) {
                        Some((s, "")) => s,
                        _ => return Err(bad("expected a stride after s")),
                    },
                    None if rest.is_empty() => 1,
                    None => return Err(bad("unexpected text after the kernel size")),
                };
                conv.push(ConvSpec { channels, kernel, stride });
            } else if let Some(rest) = item.strip_prefix('f') {
                match split_number(rest) {
                    Some((units, "")) => dense.push(units),
                    _ => return Err(bad("expected f<units>")),
                }
            } else {
                return Err(bad("each item is c<channels>k<kernel>s<stride> or f<units>"));
            }
        }
        let mut cfg = self.clone();
        cfg.input_shape = Some(input_shape);
        let flat = conv_output(input_shape, &conv)?;
        cfg.conv = conv;
        cfg.layers = core::iter::once(flat).chain(dense).chain(core::iter::once(outputs)).collect();
        cfg.validate()?;
        Ok(cfg)
    }

    /// The paper's CIFAR-10 network (SPEC.md, REFERENCE.md §4.1): 3×32×32 → conv 64 5×5 s2 →
    /// conv 128 5×5 s2 → conv 256 3×3 s1 → 1480 → 10, with the authors' command-line
    /// defaults (REFERENCE.md §2.1): η = 0.1, batch 32, p_b = 0.5, Y random with scale 1.0
    /// and fixed, Q symmetric at initialisation and fixed, no momentum or weight decay.
    pub fn paper_cifar() -> Config {
        let base = Config { lr: 0.1, y_scale: 1.0, lr_q: 0.0, lr_y: 0.0, ..Config::default() };
        base.with_stack("c64k5s2,c128k5s2,c256k3s1,f1480", [3, 32, 32], 10).expect("the paper's network is valid")
    }

    /// The MNIST conv net: 1×28×28 → conv 32 5×5 s2 (12×12) → 1000 → 10, η = 0.15, batch 4,
    /// the conv layer at 3η and the dense hidden layer at η/2 (`lr_scale` 3, 0.5, 1), otherwise
    /// the conv nets' defaults of [`Config::paper_cifar`]. Chosen on MNIST's first epoch with
    /// random feedback (README, "Convolutional networks"): one conv layer did better than two,
    /// small batches better than large, and a faster conv layer better than one rate. 28.2
    /// MFLOP per training sample.
    pub fn mnist_conv() -> Config {
        let base = Config { lr: 0.15, batch_size: 4, lr_scale: vec![3.0, 0.5, 1.0], y_scale: 1.0, lr_q: 0.0, lr_y: 0.0, ..Config::default() };
        base.with_stack("c32k5s2,f1000", [1, 28, 28], 10).expect("the MNIST conv net is valid")
    }

    /// The page's MNIST conv net: 1×28×28 → conv 32 5×5 s2 (12×12) → conv 64 3×3 s2 (5×5) →
    /// 500 → 10, η = 0.5, batch 16, otherwise the conv nets' defaults. Two conv layers give
    /// every kind of feedback pathway (conv → conv, dense → conv, dense → dense) and two rows
    /// of feature maps to watch, at 8.1 MFLOP per training sample (the MLP: 6.6), so it
    /// trains live in a browser. η and the batch were chosen on epoch 1 (test error 7.2 %,
    /// against 8.1 % at the authors' η = 0.3, batch 32; η = 1 diverges).
    pub fn mnist_conv_page() -> Config {
        let base = Config { lr: 0.5, batch_size: 16, y_scale: 1.0, lr_q: 0.0, lr_y: 0.0, ..Config::default() };
        base.with_stack("c32k5s2,c64k3s2,f500", [1, 28, 28], 10).expect("the page's MNIST conv net is valid")
    }
}

fn split_number(s: &str) -> Option<(usize, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 || end > 9 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// The flattened output size of a conv stack on `input` (or the input size with no conv layers).
fn conv_output(input: [usize; 3], conv: &[ConvSpec]) -> Result<usize, Error> {
    let shapes = conv_shapes(input, conv)?;
    Ok(shapes.last().map_or(input[0] * input[1] * input[2], |s| s.n_out))
}

fn conv_shapes(input: [usize; 3], conv: &[ConvSpec]) -> Result<Vec<LayerShape>, Error> {
    let [mut c, mut h, mut w] = input;
    if input.contains(&0) || c.saturating_mul(h).saturating_mul(w) > MAX_CONV_UNITS {
        return Err(Error::config(
            "input_shape",
            format!("{c}×{h}×{w} must have every size at least 1 and at most {MAX_CONV_UNITS} values"),
        ));
    }
    if conv.len() > MAX_CONV_LAYERS {
        return Err(Error::config("conv", format!("at most {MAX_CONV_LAYERS} conv layers, got {}", conv.len())));
    }
    let mut out = Vec::with_capacity(conv.len());
    for (i, spec) in conv.iter().enumerate() {
        let field = format!("conv[{i}]");
        let at = format!("conv layer {} (input {h}×{w}×{c})", i + 1);
        if spec.channels == 0 || spec.channels > MAX_WIDTH {
            return Err(Error::config(field, format!("{at}: {} channels; each conv layer needs 1 to {MAX_WIDTH}", spec.channels)));
        }
        if spec.kernel == 0 || spec.kernel > MAX_KERNEL || spec.stride == 0 || spec.stride > MAX_KERNEL {
            return Err(Error::config(field, format!("{at}: kernel {} and stride {} must be 1 to {MAX_KERNEL}", spec.kernel, spec.stride)));
        }
        let g = ConvGeom::new(c, h, w, spec.channels, spec.kernel, spec.stride).ok_or_else(|| {
            Error::config(field.clone(), format!("{at}: a {k}×{k} kernel does not fit a {h}×{w} input", k = spec.kernel))
        })?;
        if g.output_len() > MAX_CONV_UNITS {
            return Err(Error::config(field, format!("{at}: {} units is more than the limit of {MAX_CONV_UNITS}", g.output_len())));
        }
        out.push(LayerShape { n_in: g.input_len(), n_out: g.output_len(), conv: Some(g) });
        (c, h, w) = (g.c_out, g.h_out, g.w_out);
    }
    Ok(out)
}

/// Every weight layer's shape, checked field by field.
fn arch_shapes(input_shape: Option<[usize; 3]>, conv: &[ConvSpec], layers: &[usize]) -> Result<Vec<LayerShape>, Error> {
    if conv.is_empty() {
        validate_layers(layers)?;
    } else {
        // layers[0] is the conv stack's flattened output (checked against it below), which
        // may be wider than a dense layer: check the dense sizes with it set aside.
        let dense: Vec<usize> = core::iter::once(1).chain(layers.iter().skip(1).copied()).collect();
        validate_layers(&dense)?;
    }
    let mut shapes = match (input_shape, conv.is_empty()) {
        (None, false) => return Err(Error::config("input_shape", "conv layers need the input's [channels, height, width]")),
        (Some(shape), _) => conv_shapes(shape, conv)?,
        (None, true) => Vec::new(),
    };
    let flat = match (input_shape, shapes.last()) {
        (_, Some(last)) => Some((last.n_out, format!("the flattened output of conv layer {}", shapes.len()))),
        (Some([c, h, w]), None) => Some((c * h * w, format!("the {c}×{h}×{w} input"))),
        (None, None) => None,
    };
    if let Some((n, what)) = flat {
        if layers[0] != n {
            return Err(Error::config("layers", format!("layers[0] must be {n}, the size of {what}; got {}", layers[0])));
        }
    }
    shapes.extend(layers.windows(2).map(|p| LayerShape { n_in: p[0], n_out: p[1], conv: None }));
    let weights = weight_count(&shapes);
    if weights > MAX_WEIGHTS {
        return Err(Error::config("layers", format!("{weights} weights is more than the limit of {MAX_WEIGHTS}")));
    }
    Ok(shapes)
}

/// W of every layer, plus Y and Q (each shaped like W_{k+1}) of every hidden layer.
fn weight_count(shapes: &[LayerShape]) -> usize {
    let w: usize = shapes.iter().fold(0usize, |a, s| a.saturating_add(s.weight_len()));
    let fb: usize = shapes.iter().skip(1).fold(0usize, |a, s| a.saturating_add(s.weight_len()));
    w.saturating_add(fb.saturating_mul(2))
}

/// Activity values one sample needs: the input, seven buffers per layer (e, p, b, u, δ and the
/// backprop/FA deltas) and the conv windows.
fn activity_per_sample(input: usize, shapes: &[LayerShape]) -> usize {
    shapes.iter().fold(input, |a, s| a.saturating_add(s.n_out.saturating_mul(7)).saturating_add(s.window_values()))
}

/// The layer sizes of a network (discrete or continuous): 2 to [`MAX_LAYERS`] sizes, each 1 to
/// [`MAX_WIDTH`], at most [`MAX_WEIGHTS`] weights in W, Y and Q together.
pub(crate) fn validate_layers(layers: &[usize]) -> Result<(), Error> {
    let n = layers.len();
    if !(2..=MAX_LAYERS).contains(&n) {
        return Err(Error::config("layers", format!("need between 2 and {MAX_LAYERS} layer sizes (input … output), got {n}")));
    }
    if let Some((i, &w)) = layers.iter().enumerate().find(|(_, &w)| w == 0 || w > MAX_WIDTH) {
        return Err(Error::config("layers", format!("layer {i} has {w} units; each layer needs 1 to {MAX_WIDTH}")));
    }
    let w: usize = layers.windows(2).map(|p| p[0].saturating_mul(p[1])).sum();
    let fb: usize = layers.windows(3).map(|p| p[1].saturating_mul(p[2])).sum();
    let weights = w.saturating_add(fb.saturating_mul(2));
    if weights > MAX_WEIGHTS {
        return Err(Error::config("layers", format!("{weights} weights is more than the limit of {MAX_WEIGHTS}")));
    }
    Ok(())
}

pub(crate) fn finite_in(field: &str, v: f32, lo: f32, hi: f32) -> Result<(), Error> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::config(field, format!("must be a number in [{lo}, {hi}], got {v}")))
    }
}
