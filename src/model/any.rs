//! One entry point for every model the engine trains — BurstCCN ([`Network`]), Burstprop
//! ([`Burstprop`]) and EDN ([`Edn`]) — for the trainer, the command line, snapshots and the
//! wasm Engine: [`ModelConfig`] (the settings of any of them, as one flat JSON object with a
//! `model` field) and [`AnyModel`] (step, predict, present, diagnose, classify, …).
//!
//! Every model is built around a [`Network`], which holds W, b, Y, the forward pass and the
//! activity buffers, so views, evaluation and diagnostics read the same buffers whatever the
//! model; each comparison model adds only its own state (see burstprop.rs, edn.rs).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::burstprop::{Burstprop, BurstpropConfig};
use super::config::Config;
use super::diagnostics::Diagnostics;
use super::edn::{Edn, EdnConfig};
use super::network::{Network, StepReport};
use crate::kernels::Kernels;
use crate::Error;

/// Which model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// BurstCCN (trainable by its own rule, backprop or feedback alignment).
    #[serde(alias = "burst_ccn")]
    Burstccn,
    /// Burstprop (Payeur et al. 2021), as the BurstCCN authors implement it.
    Burstprop,
    /// The dendritic error network (Sacramento et al. 2018), single-sweep.
    Edn,
}

impl ModelKind {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Burstccn => "burstccn",
            ModelKind::Burstprop => "burstprop",
            ModelKind::Edn => "edn",
        }
    }

    fn parse(name: &str) -> Result<ModelKind, Error> {
        match name {
            "burstccn" | "burst_ccn" => Ok(ModelKind::Burstccn),
            "burstprop" => Ok(ModelKind::Burstprop),
            "edn" => Ok(ModelKind::Edn),
            _ => Err(Error::config("model", format!("unknown model `{name}` (known: burstccn, burstprop, edn)"))),
        }
    }
}

/// The settings of any model. As JSON it is one flat object: the model's own fields plus
/// `"model": "burstccn" | "burstprop" | "edn"` (absent means BurstCCN, so every BurstCCN
/// configuration written before the other models existed still reads).
#[derive(Clone, Debug, PartialEq)]
pub enum ModelConfig {
    /// BurstCCN's (SPEC.md; defaults: the authors' notebook).
    Burstccn(Config),
    /// Burstprop's (REFERENCE.md §6; defaults: the authors' command line).
    Burstprop(BurstpropConfig),
    /// EDN's (REFERENCE.md §7; defaults: the authors' command line).
    Edn(EdnConfig),
}

impl From<Config> for ModelConfig {
    fn from(c: Config) -> Self {
        ModelConfig::Burstccn(c)
    }
}

impl From<BurstpropConfig> for ModelConfig {
    fn from(c: BurstpropConfig) -> Self {
        ModelConfig::Burstprop(c)
    }
}

impl From<EdnConfig> for ModelConfig {
    fn from(c: EdnConfig) -> Self {
        ModelConfig::Edn(c)
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::Burstccn(Config::default())
    }
}

impl ModelConfig {
    /// A model's default settings (the authors').
    pub fn defaults(kind: ModelKind) -> ModelConfig {
        match kind {
            ModelKind::Burstccn => ModelConfig::Burstccn(Config::default()),
            ModelKind::Burstprop => ModelConfig::Burstprop(BurstpropConfig::default()),
            ModelKind::Edn => ModelConfig::Edn(EdnConfig::default()),
        }
    }

    /// Which model these settings are for.
    pub fn kind(&self) -> ModelKind {
        match self {
            ModelConfig::Burstccn(_) => ModelKind::Burstccn,
            ModelConfig::Burstprop(_) => ModelKind::Burstprop,
            ModelConfig::Edn(_) => ModelKind::Edn,
        }
    }

    /// The configuration of the wrapped [`Network`]: the architecture, batch size, seed, η.
    pub fn network_config(&self) -> Config {
        match self {
            ModelConfig::Burstccn(c) => c.clone(),
            ModelConfig::Burstprop(c) => c.network_config(),
            ModelConfig::Edn(c) => c.network_config(),
        }
    }

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            ModelConfig::Burstccn(c) => c.validate(),
            ModelConfig::Burstprop(c) => c.validate(),
            ModelConfig::Edn(c) => c.validate(),
        }
    }

    /// Samples per step.
    pub fn batch_size(&self) -> usize {
        match self {
            ModelConfig::Burstccn(c) => c.batch_size,
            ModelConfig::Burstprop(c) => c.batch_size,
            ModelConfig::Edn(c) => c.batch_size,
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        match self {
            ModelConfig::Burstccn(c) => c.seed,
            ModelConfig::Burstprop(c) => c.seed,
            ModelConfig::Edn(c) => c.seed,
        }
    }

    /// η, the feedforward learning rate.
    pub fn lr(&self) -> f32 {
        match self {
            ModelConfig::Burstccn(c) => c.lr,
            ModelConfig::Burstprop(c) => c.lr,
            ModelConfig::Edn(c) => c.lr,
        }
    }

    /// These settings with every learning rate multiplied by `factor` (a learning-rate
    /// schedule): η, and BurstCCN's η_Q and η_Y, Burstprop's η_r, EDN's η_PI/η_IP when set
    /// outright (otherwise they follow η).
    pub fn with_rates_scaled(&self, factor: f32) -> ModelConfig {
        let mut c = self.clone();
        match &mut c {
            ModelConfig::Burstccn(c) => {
                c.lr *= factor;
                c.lr_q *= factor;
                c.lr_y *= factor;
            }
            ModelConfig::Burstprop(c) => {
                c.lr *= factor;
                c.lr_recurrent *= factor;
            }
            ModelConfig::Edn(c) => {
                c.lr *= factor;
                if let Some(v) = &mut c.lr_interneuron {
                    *v *= factor;
                }
            }
        }
        c
    }

    /// Values of one input.
    pub fn input_len(&self) -> usize {
        self.network_config().input_len()
    }

    /// Output units.
    pub fn outputs(&self) -> usize {
        self.network_config().outputs()
    }

    /// `784-500-10`, `3x32x32-c64k5s2-…` (the architecture, without the model's name).
    pub fn describe(&self) -> String {
        self.network_config().describe()
    }

    /// The settings as one flat JSON object with its `model` field.
    pub fn to_value(&self) -> Value {
        let v = match self {
            ModelConfig::Burstccn(c) => serde_json::to_value(c),
            ModelConfig::Burstprop(c) => serde_json::to_value(c),
            ModelConfig::Edn(c) => serde_json::to_value(c),
        };
        let Ok(Value::Object(mut map)) = v else { unreachable!("a configuration always serialises to an object") };
        map.insert("model".into(), Value::String(self.kind().as_str().into()));
        Value::Object(map)
    }

    /// Read a flat JSON object (`model` absent means BurstCCN); missing fields take the
    /// model's defaults. The error names the field.
    pub fn from_value(value: &Value) -> Result<ModelConfig, Error> {
        let (kind, fields) = split_model(value)?;
        let cfg = ModelConfig::defaults(kind).patched_fields(&fields)?;
        Ok(cfg)
    }

    /// These settings with the fields of `patch` (a JSON object, e.g. from JavaScript or a
    /// URL) applied. A `model` different from this one's starts from that model's defaults,
    /// keeping the architecture, batch size and seed where the new model takes them (EDN
    /// takes no conv layers); the other fields of the patch apply on top. The error names the
    /// first unknown field or field with a bad value.
    pub fn patched(&self, patch: &Value) -> Result<ModelConfig, Error> {
        let (kind, fields) = split_model_or(patch, self.kind())?;
        if kind == self.kind() {
            return self.patched_fields(&fields);
        }
        let mut base = ModelConfig::defaults(kind);
        let net = self.network_config();
        match &mut base {
            ModelConfig::Burstccn(c) => {
                (c.input_shape, c.conv, c.layers) = (net.input_shape, net.conv, net.layers);
                (c.batch_size, c.seed) = (net.batch_size, net.seed);
            }
            ModelConfig::Burstprop(c) => {
                (c.input_shape, c.conv, c.layers) = (net.input_shape, net.conv, net.layers);
                (c.batch_size, c.seed) = (net.batch_size, net.seed);
            }
            ModelConfig::Edn(c) => {
                if !net.is_conv() {
                    c.layers = net.layers;
                }
                (c.batch_size, c.seed) = (net.batch_size, net.seed);
            }
        }
        base.patched_fields(&fields)
    }

    fn patched_fields(&self, fields: &serde_json::Map<String, Value>) -> Result<ModelConfig, Error> {
        let patch = Value::Object(fields.clone());
        let cfg = match self {
            ModelConfig::Burstccn(c) => ModelConfig::Burstccn(c.patched(&patch)?),
            ModelConfig::Burstprop(c) => ModelConfig::Burstprop(patch_struct(c, fields)?),
            ModelConfig::Edn(c) => ModelConfig::Edn(patch_struct(c, fields)?),
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

impl Serialize for ModelConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ModelConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        ModelConfig::from_value(&v).map_err(serde::de::Error::custom)
    }
}

/// The `model` field of a settings object (BurstCCN when absent) and the other fields.
fn split_model(value: &Value) -> Result<(ModelKind, serde_json::Map<String, Value>), Error> {
    split_model_or(value, ModelKind::Burstccn)
}

fn split_model_or(value: &Value, default: ModelKind) -> Result<(ModelKind, serde_json::Map<String, Value>), Error> {
    let mut fields = value.as_object().cloned().ok_or_else(|| Error::config("config", "must be an object of settings"))?;
    let kind = match fields.remove("model") {
        None => default,
        Some(Value::String(s)) => ModelKind::parse(&s)?,
        Some(other) => return Err(Error::config("model", format!("must be a string (burstccn, burstprop or edn), got {other}"))),
    };
    Ok((kind, fields))
}

/// `base` with `fields` applied one at a time, so a bad one is named; unknown fields are
/// refused with the list of known ones. Fields a model leaves out of its JSON while unset
/// (`input_shape`, `conv`) are settings too.
fn patch_struct<T: Serialize + DeserializeOwned>(base: &T, fields: &serde_json::Map<String, Value>) -> Result<T, Error> {
    let Ok(Value::Object(mut merged)) = serde_json::to_value(base) else { unreachable!("a configuration always serialises to an object") };
    let optional: Vec<String> = ["input_shape", "conv"].iter().filter(|k| !merged.contains_key(**k)).map(|k| String::from(*k)).collect();
    // Which optional fields this type knows: the ones it accepts when given their empty value.
    for key in optional {
        let mut probe = merged.clone();
        let empty = if key == "conv" { Value::Array(Vec::new()) } else { Value::Null };
        probe.insert(key.clone(), empty.clone());
        if serde_json::from_value::<T>(Value::Object(probe)).is_ok() {
            merged.insert(key, empty);
        }
    }
    for (key, value) in fields {
        if !merged.contains_key(key) {
            let known: Vec<&str> = merged.keys().map(|k| k.as_str()).collect();
            return Err(Error::config(key.as_str(), format!("unknown setting (known: model, {})", known.join(", "))));
        }
        merged.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<T>(Value::Object(merged.clone())) {
            return Err(Error::config(key.as_str(), format!("{e}")));
        }
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| Error::config("config", format!("{e}")))
}

/// Any model, behind one interface.
#[derive(Clone, Debug)]
pub enum AnyModel {
    /// BurstCCN (or backprop / FA on its network).
    Burstccn(Network),
    /// Burstprop.
    Burstprop(Burstprop),
    /// EDN.
    Edn(Edn),
}

impl From<Network> for AnyModel {
    fn from(n: Network) -> Self {
        AnyModel::Burstccn(n)
    }
}

impl From<Burstprop> for AnyModel {
    fn from(n: Burstprop) -> Self {
        AnyModel::Burstprop(n)
    }
}

impl From<Edn> for AnyModel {
    fn from(n: Edn) -> Self {
        AnyModel::Edn(n)
    }
}

impl AsRef<Network> for Network {
    fn as_ref(&self) -> &Network {
        self
    }
}

impl AsRef<Network> for AnyModel {
    fn as_ref(&self) -> &Network {
        self.network()
    }
}

macro_rules! each {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            AnyModel::Burstccn($m) => $e,
            AnyModel::Burstprop($m) => $e,
            AnyModel::Edn($m) => $e,
        }
    };
}

impl AnyModel {
    /// A freshly initialised model.
    pub fn new(cfg: ModelConfig) -> Result<AnyModel, Error> {
        Ok(match cfg {
            ModelConfig::Burstccn(c) => AnyModel::Burstccn(Network::new(c)?),
            ModelConfig::Burstprop(c) => AnyModel::Burstprop(Burstprop::new(c)?),
            ModelConfig::Edn(c) => AnyModel::Edn(Edn::new(c)?),
        })
    }

    /// Which model.
    pub fn kind(&self) -> ModelKind {
        match self {
            AnyModel::Burstccn(_) => ModelKind::Burstccn,
            AnyModel::Burstprop(_) => ModelKind::Burstprop,
            AnyModel::Edn(_) => ModelKind::Edn,
        }
    }

    /// The settings in force (a copy).
    pub fn config(&self) -> ModelConfig {
        match self {
            AnyModel::Burstccn(n) => ModelConfig::Burstccn(n.config().clone()),
            AnyModel::Burstprop(n) => ModelConfig::Burstprop(n.config().clone()),
            AnyModel::Edn(n) => ModelConfig::Edn(n.config().clone()),
        }
    }

    /// The wrapped network's configuration (architecture, batch size, seed) — no copy.
    pub fn network_config(&self) -> &Config {
        self.network().config()
    }

    /// The network every model is built on: W, b, Y, event rates and the other activity.
    pub fn network(&self) -> &Network {
        match self {
            AnyModel::Burstccn(n) => n,
            AnyModel::Burstprop(n) => n.network(),
            AnyModel::Edn(n) => n.network(),
        }
    }

    pub(crate) fn network_mut(&mut self) -> &mut Network {
        match self {
            AnyModel::Burstccn(n) => n,
            AnyModel::Burstprop(n) => n.network_mut(),
            AnyModel::Edn(n) => n.network_mut(),
        }
    }

    /// The BurstCCN network, if this is one.
    pub fn as_burstccn(&self) -> Option<&Network> {
        if let AnyModel::Burstccn(n) = self { Some(n) } else { None }
    }

    /// The Burstprop model, if this is one.
    pub fn as_burstprop(&self) -> Option<&Burstprop> {
        if let AnyModel::Burstprop(n) = self { Some(n) } else { None }
    }

    /// The EDN model, if this is one.
    pub fn as_edn(&self) -> Option<&Edn> {
        if let AnyModel::Edn(n) = self { Some(n) } else { None }
    }

    /// Change learning settings without touching the weights (same model, same architecture
    /// and seed; otherwise build a new model).
    pub fn set_config(&mut self, cfg: ModelConfig) -> Result<(), Error> {
        match (self, cfg) {
            (AnyModel::Burstccn(n), ModelConfig::Burstccn(c)) => n.set_config(c),
            (AnyModel::Burstprop(n), ModelConfig::Burstprop(c)) => n.set_config(c),
            (AnyModel::Edn(n), ModelConfig::Edn(c)) => n.set_config(c),
            (me, c) => Err(Error::config("model", format!("changing the model from {} to {} needs a new network (reset)", me.kind().as_str(), c.kind().as_str()))),
        }
    }

    /// The kernels in use.
    pub fn kernels(&self) -> &'static dyn Kernels {
        self.network().kernels()
    }

    /// Use other kernels from now on.
    pub fn set_kernels(&mut self, kern: &'static dyn Kernels) {
        self.network_mut().set_kernels(kern);
    }

    /// Load a batch of byte images (0–255), scaled to [0, 1].
    pub fn load_images_u8(&mut self, pixels: &[u8]) -> Result<usize, Error> {
        self.network_mut().load_images_u8(pixels)
    }

    /// Load a batch of inputs given as floats.
    pub fn load_inputs(&mut self, x: &[f32]) -> Result<usize, Error> {
        self.network_mut().load_inputs(x)
    }

    /// The input buffer for a batch of `rows` samples, to be filled in place.
    pub fn input_for(&mut self, rows: usize) -> Result<&mut [f32], Error> {
        self.network_mut().input_for(rows)
    }

    /// One training step by the model's rule on the loaded batch; on divergence nothing changes.
    pub fn train_step(&mut self, labels: &[u8], diagnostics: bool) -> Result<StepReport, Error> {
        each!(self, n => n.train_step(labels, diagnostics))
    }

    /// One step with no teacher (the output at baseline / not nudged).
    pub fn train_step_without_teacher(&mut self, diagnostics: bool) -> Result<StepReport, Error> {
        each!(self, n => n.train_step_without_teacher(diagnostics))
    }

    /// Forward pass and top-down sweep without a teacher; no plasticity.
    pub fn predict(&mut self) {
        each!(self, n => n.predict())
    }

    /// Forward pass and top-down sweep with a teacher; no plasticity.
    pub fn present(&mut self, labels: &[u8]) -> Result<(f64, usize), Error> {
        each!(self, n => n.present(labels))
    }

    /// Angles of the model's update to backprop's and FA's, and mean activity, on the loaded batch.
    pub fn diagnose(&mut self, labels: &[u8]) -> Result<Diagnostics, Error> {
        each!(self, n => n.diagnose(labels))
    }

    /// Forward-only classification of byte images (see [`Network::classify_u8`]).
    pub fn classify_u8(&self, pixels: &[u8], labels: Option<&[u8]>) -> Result<(Vec<u8>, f64), Error> {
        self.network().classify_u8(pixels, labels)
    }

    /// Forward-only classification (see [`Network::classify`]).
    pub fn classify(&self, count: usize, labels: Option<&[u8]>, fill: impl FnMut(usize, &mut [f32])) -> Result<(Vec<u8>, f64), Error> {
        self.network().classify(count, labels, fill)
    }

    /// Steps taken and samples trained on.
    pub fn progress(&self) -> (u64, u64) {
        self.network().progress()
    }
}
