//! Everything that defines a network and how it learns. Serialised (serde) into snapshots,
//! the page's URL hash and the wasm API; every field is validated by [`Config::validate`].

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

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

/// A network and its learning settings. Defaults are the authors' MNIST notebook (SPEC.md):
/// 784-500-500-500-10, batch 32, η = 0.3, p_b = 0.5, Y random (scale 0.5, fixed),
/// Q symmetric at init and learned with η_Q = 0.000731, plain SGD.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Units per layer, input first: `[784, 500, 500, 500, 10]`.
    pub layers: Vec<usize>,
    /// Learning rule used by training steps.
    pub rule: Rule,
    /// η, the learning rate of W and b (all layers).
    pub lr: f32,
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
    /// L2 weight decay λ: each step W ← (1 − η·λ)·W before the update.
    pub weight_decay: f32,
    /// Samples per step (B).
    pub batch_size: usize,
    /// Seed of the weights, the feedback matrices and the batch order.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            layers: vec![784, 500, 500, 500, 10],
            rule: Rule::Burstccn,
            lr: 0.3,
            p_baseline: 0.5,
            y_mode: FeedbackMode::Random,
            y_scale: 0.5,
            q_mode: FeedbackMode::SymmetricInit,
            lr_q: 0.000_731,
            lr_y: 0.0,
            momentum: 0.0,
            weight_decay: 0.0,
            batch_size: 32,
            seed: 1,
        }
    }
}

/// Largest width of one layer.
pub const MAX_WIDTH: usize = 1 << 16;
/// Largest number of layers (input and output included).
pub const MAX_LAYERS: usize = 34;
/// Largest number of weights (W, Y and Q together): 256 Mi floats = 1 GiB.
pub const MAX_WEIGHTS: usize = 1 << 28;
/// Largest batch.
pub const MAX_BATCH: usize = 4096;
/// Largest seed that survives a trip through a JavaScript number exactly (2^53 − 1).
pub const MAX_SEED: u64 = (1 << 53) - 1;

impl Config {
    /// Number of weight layers L (= layers.len() − 1).
    pub fn depth(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    /// Total number of W, Y and Q entries.
    pub fn weight_count(&self) -> usize {
        let w: usize = self.layers.windows(2).map(|p| p[0].saturating_mul(p[1])).sum();
        let fb: usize = self.layers.windows(3).map(|p| p[1].saturating_mul(p[2])).sum();
        w.saturating_add(fb.saturating_mul(2))
    }

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        validate_layers(&self.layers)?;
        finite_in("lr", self.lr, 0.0, 100.0)?;
        if !(self.p_baseline > 0.0 && self.p_baseline < 1.0) {
            return Err(Error::config("p_baseline", format!("must be in (0, 1), got {}", self.p_baseline)));
        }
        finite_in("y_scale", self.y_scale, 0.0, 100.0)?;
        finite_in("lr_q", self.lr_q, 0.0, 100.0)?;
        finite_in("lr_y", self.lr_y, 0.0, 100.0)?;
        if !(self.momentum >= 0.0 && self.momentum < 1.0) {
            return Err(Error::config("momentum", format!("must be in [0, 1), got {}", self.momentum)));
        }
        finite_in("weight_decay", self.weight_decay, 0.0, 1.0)?;
        if self.lr * self.weight_decay >= 1.0 {
            return Err(Error::config("weight_decay", "lr × weight_decay must be below 1"));
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
        self.layers == other.layers
    }
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
