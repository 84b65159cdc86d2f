//! Snapshots: the configuration and every parameter (W, b, Y, Q, the optimiser's state, and each
//! comparison model's own tensors), versioned.
//!
//! Two encodings of the same content:
//! - **JSON** (`burstccn-snapshot`): `{"format", "version", "model"?, "config", "steps",
//!   "samples_seen", "adam_steps"?, "layers": [{"weight", "bias", "weight_velocity"?,
//!   "bias_velocity"?, "weight_second"?, "bias_second"?}],
//!   "feedback": [{"y", "q"?}], "tensors"?: [{"name", "values"}]}`; matrices are flat
//!   row-major arrays (dense W_k is `n_out × n_in`, conv kernels `c_out × k × k × c_in`; Y_k
//!   and Q_k are shaped like W_{k+1}). Exact: f32 values are written in their shortest
//!   round-tripping form. The velocities are SGD's momentum or Adam's first moving averages;
//!   Adam adds its second (`*_second`) and its step count. A network trained by plain SGD or
//!   momentum is written exactly as before Adam existed.
//! - **Binary** (what the page downloads; ~4× smaller): the 8 bytes `BCCNSNAP`, a u32 version,
//!   a u32 header length, the JSON above with every array replaced by its length, then the
//!   arrays as little-endian f32 in the order they appear, then a CRC-32 of all preceding bytes.
//!
//! Versions: **1** (before conv layers; an MLP's configuration without `input_shape`/`conv`),
//! **2** (conv layers) and **3** (other models). A BurstCCN network is still written as
//! version 2, byte for byte as before, so older builds read it. Version 3 names its `model`
//! (`burstprop` or `edn`), holds that model's configuration (burstprop.rs, edn.rs), leaves out
//! Q (those models have none) and lists the model's own tensors by name, in a fixed order:
//! Burstprop's `recurrent[k]` (R of hidden layer k, `n × n`) and `y_velocity[k]` (Y's momentum,
//! when Y learns with momentum); EDN's `interneuron_weight[k]` (W^PI, `n_{k+1} × n_k`),
//! `interneuron_bias[k]` (c^PI) and `interneuron_to_pyramid[k]` (W^IP, `n_{k+1} × n_k`).
//!
//! Import checks everything (format, version, model, configuration, every array's name and
//! length, every value finite, the checksum) and builds a *new* model: on any error nothing is
//! loaded.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{AnyModel, Burstprop, BurstpropConfig, Config, Edn, EdnConfig, ModelConfig, ModelKind, Network, Optimiser};
use crate::Error;

/// The format name written in every snapshot.
pub const FORMAT: &str = "burstccn-snapshot";
/// The newest version (3 added the comparison models). BurstCCN networks are written as
/// [`BURSTCCN_VERSION`].
pub const VERSION: u32 = 3;
/// The version a BurstCCN network is written as (2 added conv layers to the configuration).
pub const BURSTCCN_VERSION: u32 = 2;
/// The oldest version read.
pub const OLDEST_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"BCCNSNAP";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
struct LayerData<T> {
    weight: T,
    bias: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight_velocity: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bias_velocity: Option<T>,
    /// Adam's second moving averages (its first are the velocities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight_second: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bias_second: Option<T>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
struct FeedbackData<T> {
    y: T,
    /// BurstCCN's Q; absent for the models that have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<T>,
}

/// A model's own tensor, by name (version 3).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorData<T> {
    name: String,
    values: T,
}

/// The document; `T` is `Vec<f32>` in JSON snapshots and `usize` (a length) in binary headers;
/// `C` is the model's configuration.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>, C: Deserialize<'de>"))]
struct Document<T, C> {
    format: String,
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<ModelKind>,
    config: C,
    steps: u64,
    samples_seen: u64,
    /// Adam's step count (its bias correction); only with Adam.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    adam_steps: Option<u64>,
    layers: Vec<LayerData<T>>,
    feedback: Vec<FeedbackData<T>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tensors: Vec<TensorData<T>>,
}

impl<T, C> Document<T, C> {
    fn map_config<D>(self, f: impl FnOnce(C) -> D) -> Document<T, D> {
        Document {
            format: self.format,
            version: self.version,
            model: self.model,
            config: f(self.config),
            steps: self.steps,
            samples_seen: self.samples_seen,
            adam_steps: self.adam_steps,
            layers: self.layers,
            feedback: self.feedback,
            tensors: self.tensors,
        }
    }
}

/// A model to write: [`Network`], [`Burstprop`], [`Edn`] or [`AnyModel`] all convert to it.
#[derive(Clone, Copy)]
pub enum ModelRef<'a> {
    /// A BurstCCN network.
    Burstccn(&'a Network),
    /// A Burstprop model.
    Burstprop(&'a Burstprop),
    /// An EDN model.
    Edn(&'a Edn),
}

impl<'a> From<&'a Network> for ModelRef<'a> {
    fn from(n: &'a Network) -> Self {
        ModelRef::Burstccn(n)
    }
}

impl<'a> From<&'a Burstprop> for ModelRef<'a> {
    fn from(n: &'a Burstprop) -> Self {
        ModelRef::Burstprop(n)
    }
}

impl<'a> From<&'a Edn> for ModelRef<'a> {
    fn from(n: &'a Edn) -> Self {
        ModelRef::Edn(n)
    }
}

impl<'a> From<&'a AnyModel> for ModelRef<'a> {
    fn from(m: &'a AnyModel) -> Self {
        match m {
            AnyModel::Burstccn(n) => ModelRef::Burstccn(n),
            AnyModel::Burstprop(n) => ModelRef::Burstprop(n),
            AnyModel::Edn(n) => ModelRef::Edn(n),
        }
    }
}

impl ModelRef<'_> {
    fn network(&self) -> &Network {
        match self {
            ModelRef::Burstccn(n) => n,
            ModelRef::Burstprop(n) => n.network(),
            ModelRef::Edn(n) => n.network(),
        }
    }

    fn extra_tensors(&self) -> Vec<(String, &[f32])> {
        match self {
            ModelRef::Burstccn(_) => Vec::new(),
            ModelRef::Burstprop(n) => n.extra_tensors(),
            ModelRef::Edn(n) => n.extra_tensors(),
        }
    }
}

/// The configuration as written: each model's own type, so BurstCCN's reads as before.
#[derive(Serialize)]
#[serde(untagged)]
enum ConfigRef<'a> {
    Burstccn(&'a Config),
    Burstprop(&'a BurstpropConfig),
    Edn(&'a EdnConfig),
}

fn err(m: impl Into<String>) -> Error {
    Error::Snapshot(m.into())
}

fn document<'a>(model: &ModelRef<'a>) -> Document<Vec<f32>, ConfigRef<'a>> {
    let net = model.network();
    let (version, kind, config) = match *model {
        ModelRef::Burstccn(n) => (BURSTCCN_VERSION, None, ConfigRef::Burstccn(n.config())),
        ModelRef::Burstprop(n) => (VERSION, Some(ModelKind::Burstprop), ConfigRef::Burstprop(n.config())),
        ModelRef::Edn(n) => (VERSION, Some(ModelKind::Edn), ConfigRef::Edn(n.config())),
    };
    let has_q = kind.is_none();
    let adam = net.config().optimiser == Optimiser::Adam;
    let momentum = net.config().momentum > 0.0 || adam;
    Document {
        format: FORMAT.into(),
        version,
        model: kind,
        config,
        steps: net.progress().0,
        samples_seen: net.progress().1,
        adam_steps: adam.then(|| net.adam_steps()),
        layers: net
            .layers()
            .iter()
            .map(|l| LayerData {
                weight: l.weight.clone(),
                bias: l.bias.clone(),
                weight_velocity: momentum.then(|| l.weight_velocity.clone()),
                bias_velocity: momentum.then(|| l.bias_velocity.clone()),
                weight_second: adam.then(|| l.weight_second.clone()),
                bias_second: adam.then(|| l.bias_second.clone()),
            })
            .collect(),
        feedback: net.feedback().iter().map(|f| FeedbackData { y: f.y.clone(), q: has_q.then(|| f.q.clone()) }).collect(),
        tensors: model.extra_tensors().into_iter().map(|(name, v)| TensorData { name, values: v.to_vec() }).collect(),
    }
}

/// The model (a [`Network`], [`Burstprop`], [`Edn`] or [`AnyModel`]) as a JSON snapshot.
pub fn to_json<'a>(model: impl Into<ModelRef<'a>>) -> String {
    serde_json::to_string(&document(&model.into())).expect("a snapshot always serialises")
}

/// The model as a binary snapshot.
pub fn to_bytes<'a>(model: impl Into<ModelRef<'a>>) -> Vec<u8> {
    let doc = document(&model.into());
    let mut arrays: Vec<&[f32]> = Vec::new();
    let header = Document {
        format: doc.format.clone(),
        version: doc.version,
        model: doc.model,
        config: &doc.config,
        steps: doc.steps,
        samples_seen: doc.samples_seen,
        adam_steps: doc.adam_steps,
        layers: doc
            .layers
            .iter()
            .map(|l| LayerData {
                weight: l.weight.len(),
                bias: l.bias.len(),
                weight_velocity: l.weight_velocity.as_ref().map(Vec::len),
                bias_velocity: l.bias_velocity.as_ref().map(Vec::len),
                weight_second: l.weight_second.as_ref().map(Vec::len),
                bias_second: l.bias_second.as_ref().map(Vec::len),
            })
            .collect(),
        feedback: doc.feedback.iter().map(|f| FeedbackData { y: f.y.len(), q: f.q.as_ref().map(Vec::len) }).collect(),
        tensors: doc.tensors.iter().map(|t| TensorData { name: t.name.clone(), values: t.values.len() }).collect(),
    };
    for l in &doc.layers {
        arrays.push(&l.weight);
        arrays.push(&l.bias);
        if let Some(v) = &l.weight_velocity {
            arrays.push(v);
        }
        if let Some(v) = &l.bias_velocity {
            arrays.push(v);
        }
        if let Some(v) = &l.weight_second {
            arrays.push(v);
        }
        if let Some(v) = &l.bias_second {
            arrays.push(v);
        }
    }
    for f in &doc.feedback {
        arrays.push(&f.y);
        if let Some(q) = &f.q {
            arrays.push(q);
        }
    }
    for t in &doc.tensors {
        arrays.push(&t.values);
    }
    let header = serde_json::to_vec(&header).expect("a header always serialises");
    let total: usize = arrays.iter().map(|a| a.len() * 4).sum();
    let mut out = Vec::with_capacity(16 + header.len() + total + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&doc.version.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    for a in arrays {
        for v in a {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Read a BurstCCN snapshot in either encoding (binary if it starts with the magic bytes,
/// else JSON). A snapshot of another model is refused, naming it: read those with
/// [`load_model`].
pub fn load(bytes: &[u8]) -> Result<Network, Error> {
    burstccn_only(load_model(bytes)?)
}

/// Read a BurstCCN JSON snapshot.
pub fn from_json(text: &str) -> Result<Network, Error> {
    burstccn_only(model_from_json(text)?)
}

/// Read a BurstCCN binary snapshot.
pub fn from_bytes(bytes: &[u8]) -> Result<Network, Error> {
    burstccn_only(model_from_bytes(bytes)?)
}

fn burstccn_only(model: AnyModel) -> Result<Network, Error> {
    match model {
        AnyModel::Burstccn(n) => Ok(n),
        other => Err(err(format!("this snapshot holds a {} model, not a BurstCCN network", other.kind().as_str()))),
    }
}

/// Read a snapshot of any model in either encoding.
pub fn load_model(bytes: &[u8]) -> Result<AnyModel, Error> {
    if bytes.starts_with(MAGIC) {
        model_from_bytes(bytes)
    } else {
        let text = core::str::from_utf8(bytes).map_err(|_| err("not a binary snapshot and not UTF-8 JSON"))?;
        model_from_json(text)
    }
}

/// The fields read before the rest, so an old, new or foreign file gets the right message.
#[derive(Deserialize)]
struct Probe {
    format: Option<String>,
    version: Option<u32>,
    model: Option<serde_json::Value>,
}

/// Check the format and version, and that the model field fits the version; the model.
fn check_probe(probe: &Probe) -> Result<ModelKind, Error> {
    check_format(probe.format.as_deref(), probe.version)?;
    let version = probe.version.unwrap_or(0);
    match (&probe.model, version) {
        (None, v) if v < 3 => Ok(ModelKind::Burstccn),
        (None, v) => Err(err(format!("a version {v} snapshot names its model, and this one has no `model` field"))),
        (Some(_), v) if v < 3 => Err(err(format!("a version {v} snapshot holds a BurstCCN network and has no `model` field (models came with version 3)"))),
        (Some(m), _) => match serde_json::from_value::<ModelKind>(m.clone()) {
            Ok(ModelKind::Burstccn) => Err(err("BurstCCN networks are written as version 2, without a `model` field")),
            Ok(kind) => Ok(kind),
            Err(_) => Err(err(format!("unknown model {m} (known: burstprop, edn)"))),
        },
    }
}

/// Read a JSON snapshot of any model.
pub fn model_from_json(text: &str) -> Result<AnyModel, Error> {
    let probe: Probe = serde_json::from_str(text).map_err(|e| err(format!("not a JSON snapshot: {e}")))?;
    let kind = check_probe(&probe)?;
    fn parse<C: DeserializeOwned>(text: &str) -> Result<Document<Vec<f32>, C>, Error> {
        serde_json::from_str(text).map_err(|e| err(format!("malformed snapshot: {e}")))
    }
    let doc = match kind {
        ModelKind::Burstccn => parse::<Config>(text)?.map_config(ModelConfig::Burstccn),
        ModelKind::Burstprop => parse::<BurstpropConfig>(text)?.map_config(ModelConfig::Burstprop),
        ModelKind::Edn => parse::<EdnConfig>(text)?.map_config(ModelConfig::Edn),
    };
    build(doc)
}

fn check_format(format: Option<&str>, version: Option<u32>) -> Result<(), Error> {
    if format != Some(FORMAT) {
        return Err(err(format!("not a BurstCCN snapshot (format is {format:?}, expected \"{FORMAT}\")")));
    }
    match version {
        Some(v) if (OLDEST_VERSION..=VERSION).contains(&v) => Ok(()),
        Some(v) => Err(err(format!("snapshot version {v} is not supported (this build reads versions {OLDEST_VERSION} to {VERSION})"))),
        None => Err(err("snapshot has no version")),
    }
}

/// Read a binary snapshot of any model.
pub fn model_from_bytes(bytes: &[u8]) -> Result<AnyModel, Error> {
    if bytes.len() < 20 || !bytes.starts_with(MAGIC) {
        return Err(err("not a binary BurstCCN snapshot (bad magic bytes or too short)"));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    check_format(Some(FORMAT), Some(version))?;
    let (body, crc_bytes) = bytes.split_at(bytes.len() - 4);
    if crc32(body) != u32::from_le_bytes(crc_bytes.try_into().unwrap()) {
        return Err(err("checksum mismatch: the file is truncated or damaged"));
    }
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let header = body.get(16..16usize.saturating_add(header_len)).ok_or_else(|| err("header is truncated"))?;
    let probe: Probe = serde_json::from_slice(header).map_err(|e| err(format!("malformed header: {e}")))?;
    let kind = check_probe(&probe)?;
    if probe.version != Some(version) {
        return Err(err(format!("the header says version {:?} but the file is version {version}", probe.version)));
    }
    fn parse<C: DeserializeOwned>(header: &[u8]) -> Result<Document<usize, C>, Error> {
        serde_json::from_slice(header).map_err(|e| err(format!("malformed header: {e}")))
    }
    let head = match kind {
        ModelKind::Burstccn => parse::<Config>(header)?.map_config(ModelConfig::Burstccn),
        ModelKind::Burstprop => parse::<BurstpropConfig>(header)?.map_config(ModelConfig::Burstprop),
        ModelKind::Edn => parse::<EdnConfig>(header)?.map_config(ModelConfig::Edn),
    };
    let mut data = &body[16 + header_len..];
    let mut take = |n: usize| -> Result<Vec<f32>, Error> {
        let bytes_needed = n.checked_mul(4).filter(|&b| b <= data.len()).ok_or_else(|| err("data is shorter than the header says"))?;
        let (chunk, rest) = data.split_at(bytes_needed);
        data = rest;
        Ok(chunk.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    };
    let mut layers = Vec::new();
    for l in &head.layers {
        let weight = take(l.weight)?;
        let bias = take(l.bias)?;
        let weight_velocity = l.weight_velocity.map(&mut take).transpose()?;
        let bias_velocity = l.bias_velocity.map(&mut take).transpose()?;
        let weight_second = l.weight_second.map(&mut take).transpose()?;
        let bias_second = l.bias_second.map(&mut take).transpose()?;
        layers.push(LayerData { weight, bias, weight_velocity, bias_velocity, weight_second, bias_second });
    }
    let mut feedback = Vec::new();
    for f in &head.feedback {
        let y = take(f.y)?;
        let q = f.q.map(&mut take).transpose()?;
        feedback.push(FeedbackData { y, q });
    }
    let mut tensors = Vec::new();
    for t in &head.tensors {
        tensors.push(TensorData { name: t.name.clone(), values: take(t.values)? });
    }
    if !data.is_empty() {
        return Err(err(format!("{} unexpected bytes after the data", data.len())));
    }
    build(Document {
        format: head.format,
        version: head.version,
        model: head.model,
        config: head.config,
        steps: head.steps,
        samples_seen: head.samples_seen,
        adam_steps: head.adam_steps,
        layers,
        feedback,
        tensors,
    })
}

fn check_array(name: &str, v: &[f32], want: usize) -> Result<(), Error> {
    if v.len() != want {
        return Err(err(format!("{name} has {} values, expected {want}", v.len())));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(err(format!("{name}[{i}] is {} (not a finite number)", v[i])));
    }
    Ok(())
}

fn build(doc: Document<Vec<f32>, ModelConfig>) -> Result<AnyModel, Error> {
    doc.config.validate().map_err(|e| err(format!("configuration: {e}")))?;
    let model_cfg = doc.config;
    let kind = model_cfg.kind();
    let cfg = model_cfg.network_config();
    if doc.version < 2 && (cfg.is_conv() || cfg.input_shape.is_some()) {
        return Err(err(format!("a version {} snapshot cannot hold conv layers", doc.version)));
    }
    let depth = cfg.depth();
    let shapes = cfg.shapes();
    if doc.layers.len() != depth {
        return Err(err(format!("{} weight layers for a network of {depth} ({})", doc.layers.len(), cfg.describe())));
    }
    if doc.feedback.len() != depth - 1 {
        return Err(err(format!("{} feedback entries, expected {}", doc.feedback.len(), depth - 1)));
    }
    let adam = cfg.optimiser == Optimiser::Adam;
    let momentum = cfg.momentum > 0.0 || adam;
    match (doc.adam_steps, adam) {
        (Some(_), true) | (None, false) => {}
        (None, true) => return Err(err("an Adam network's snapshot needs its `adam_steps`")),
        (Some(_), false) => return Err(err("`adam_steps` is for Adam, and this configuration's optimiser is SGD")),
    }
    for ((k, l), shape) in doc.layers.iter().enumerate().zip(&shapes) {
        let (weights, biases) = (shape.weight_len(), shape.bias_len());
        check_array(&format!("layers[{k}].weight"), &l.weight, weights)?;
        check_array(&format!("layers[{k}].bias"), &l.bias, biases)?;
        match (&l.weight_velocity, &l.bias_velocity) {
            (Some(wv), Some(bv)) if momentum => {
                check_array(&format!("layers[{k}].weight_velocity"), wv, weights)?;
                check_array(&format!("layers[{k}].bias_velocity"), bv, biases)?;
            }
            (None, None) if !momentum => {}
            (None, None) => return Err(err(format!("layers[{k}] lacks the momentum buffers its configuration needs"))),
            _ => return Err(err(format!("layers[{k}] has momentum buffers that do not match the configuration"))),
        }
        match (&l.weight_second, &l.bias_second) {
            (Some(wv), Some(bv)) if adam => {
                check_array(&format!("layers[{k}].weight_second"), wv, weights)?;
                check_array(&format!("layers[{k}].bias_second"), bv, biases)?;
                if let Some(i) = wv.iter().chain(bv).position(|&x| x < 0.0) {
                    return Err(err(format!("layers[{k}]: Adam's second moving average has a negative value (entry {i})")));
                }
            }
            (None, None) if !adam => {}
            (None, None) => return Err(err(format!("layers[{k}] lacks Adam's second moving averages"))),
            _ => return Err(err(format!("layers[{k}] has Adam buffers that do not match the configuration"))),
        }
    }
    for (k, f) in doc.feedback.iter().enumerate() {
        let n = shapes[k + 1].weight_len();
        check_array(&format!("feedback[{k}].y"), &f.y, n)?;
        match (&f.q, kind) {
            (Some(q), ModelKind::Burstccn) => check_array(&format!("feedback[{k}].q"), q, n)?,
            (None, ModelKind::Burstccn) => return Err(err(format!("feedback[{k}] lacks q"))),
            (Some(_), _) => return Err(err(format!("feedback[{k}] has a q, but {} has no Q", kind.as_str()))),
            (None, _) => {}
        }
    }
    let mut model = AnyModel::new(model_cfg)?;
    {
        // The model's own tensors: exactly the ones it has, in its order.
        let mut want = match &mut model {
            AnyModel::Burstccn(_) => Vec::new(),
            AnyModel::Burstprop(m) => m.extra_tensors_mut(),
            AnyModel::Edn(m) => m.extra_tensors_mut(),
        };
        if doc.tensors.len() != want.len() {
            let names: Vec<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
            return Err(err(format!("{} tensors, expected {} ({})", doc.tensors.len(), want.len(), if names.is_empty() { "none".into() } else { names.join(", ") })));
        }
        for (t, (name, dst)) in doc.tensors.iter().zip(want.iter_mut()) {
            if &t.name != name {
                return Err(err(format!("tensor `{}` where `{name}` was expected", t.name)));
            }
            check_array(name, &t.values, dst.len())?;
        }
        for (t, (_, dst)) in doc.tensors.into_iter().zip(want) {
            *dst = t.values;
        }
    }
    let net = model.network_mut();
    {
        let (layers, feedback) = net.parts_mut();
        for (dst, src) in layers.iter_mut().zip(doc.layers) {
            dst.weight = src.weight;
            dst.bias = src.bias;
            if let (Some(wv), Some(bv)) = (src.weight_velocity, src.bias_velocity) {
                dst.weight_velocity = wv;
                dst.bias_velocity = bv;
            }
            if let (Some(wv), Some(bv)) = (src.weight_second, src.bias_second) {
                dst.weight_second = wv;
                dst.bias_second = bv;
            }
        }
        for (dst, src) in feedback.iter_mut().zip(doc.feedback) {
            dst.y = src.y;
            if let Some(q) = src.q {
                dst.q = q;
            }
        }
    }
    net.check_q_tracking();
    net.set_progress(doc.steps, doc.samples_seen);
    net.set_adam_steps(doc.adam_steps.unwrap_or(0));
    Ok(model)
}

fn crc32(data: &[u8]) -> u32 {
    crate::data::crc32(data)
}
