//! Snapshots: the configuration and every parameter (W, b, Y, Q, momentum buffers), versioned.
//!
//! Two encodings of the same content:
//! - **JSON** (`burstccn-snapshot`, version 2): `{"format", "version", "config", "steps",
//!   "samples_seen", "layers": [{"weight", "bias", "weight_velocity"?, "bias_velocity"?}],
//!   "feedback": [{"y", "q"}]}`; matrices are flat row-major arrays (dense W_k is
//!   `n_out × n_in`, conv kernels `c_out × k × k × c_in`; Y_k and Q_k are shaped like W_{k+1}).
//!   Exact: f32 values are written in their shortest round-tripping form. Version 1 (before
//!   conv layers; an MLP's configuration without `input_shape`/`conv`) reads unchanged.
//! - **Binary** (what the page downloads; ~4× smaller): the 8 bytes `BCCNSNAP`, a u32 version,
//!   a u32 header length, the JSON above with every array replaced by its length, then the
//!   arrays as little-endian f32 in the order they appear, then a CRC-32 of all preceding bytes.
//!
//! Import checks everything (format, version, configuration, every array's length, every
//! value finite, the checksum) and builds a *new* network: on any error nothing is loaded.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::model::{Config, Network};
use crate::Error;

/// The format name written in every snapshot.
pub const FORMAT: &str = "burstccn-snapshot";
/// The version written (2 added conv layers to the configuration).
pub const VERSION: u32 = 2;
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
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackData<T> {
    y: T,
    q: T,
}

/// The document; `T` is `Vec<f32>` in JSON snapshots and `usize` (a length) in binary headers.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document<T> {
    format: String,
    version: u32,
    config: Config,
    steps: u64,
    samples_seen: u64,
    layers: Vec<LayerData<T>>,
    feedback: Vec<FeedbackData<T>>,
}

fn err(m: impl Into<String>) -> Error {
    Error::Snapshot(m.into())
}

fn document(net: &Network) -> Document<Vec<f32>> {
    let momentum = net.config().momentum > 0.0;
    Document {
        format: FORMAT.into(),
        version: VERSION,
        config: net.config().clone(),
        steps: net.progress().0,
        samples_seen: net.progress().1,
        layers: net
            .layers()
            .iter()
            .map(|l| LayerData {
                weight: l.weight.clone(),
                bias: l.bias.clone(),
                weight_velocity: momentum.then(|| l.weight_velocity.clone()),
                bias_velocity: momentum.then(|| l.bias_velocity.clone()),
            })
            .collect(),
        feedback: net.feedback().iter().map(|f| FeedbackData { y: f.y.clone(), q: f.q.clone() }).collect(),
    }
}

/// The network as a JSON snapshot.
pub fn to_json(net: &Network) -> String {
    serde_json::to_string(&document(net)).expect("a snapshot always serialises")
}

/// The network as a binary snapshot.
pub fn to_bytes(net: &Network) -> Vec<u8> {
    let doc = document(net);
    let mut arrays: Vec<&[f32]> = Vec::new();
    let header = Document {
        format: doc.format.clone(),
        version: doc.version,
        config: doc.config.clone(),
        steps: doc.steps,
        samples_seen: doc.samples_seen,
        layers: doc
            .layers
            .iter()
            .map(|l| LayerData {
                weight: l.weight.len(),
                bias: l.bias.len(),
                weight_velocity: l.weight_velocity.as_ref().map(Vec::len),
                bias_velocity: l.bias_velocity.as_ref().map(Vec::len),
            })
            .collect(),
        feedback: doc.feedback.iter().map(|f| FeedbackData { y: f.y.len(), q: f.q.len() }).collect(),
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
    }
    for f in &doc.feedback {
        arrays.push(&f.y);
        arrays.push(&f.q);
    }
    let header = serde_json::to_vec(&header).expect("a header always serialises");
    let total: usize = arrays.iter().map(|a| a.len() * 4).sum();
    let mut out = Vec::with_capacity(16 + header.len() + total + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
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

/// Read a snapshot in either encoding (binary if it starts with the magic bytes, else JSON).
pub fn load(bytes: &[u8]) -> Result<Network, Error> {
    if bytes.starts_with(MAGIC) {
        from_bytes(bytes)
    } else {
        let text = core::str::from_utf8(bytes).map_err(|_| err("not a binary snapshot and not UTF-8 JSON"))?;
        from_json(text)
    }
}

/// Read a JSON snapshot.
pub fn from_json(text: &str) -> Result<Network, Error> {
    // Check the format and version first, so an old or foreign file gets the right message.
    #[derive(Deserialize)]
    struct Probe {
        format: Option<String>,
        version: Option<u32>,
    }
    let probe: Probe = serde_json::from_str(text).map_err(|e| err(format!("not a JSON snapshot: {e}")))?;
    check_format(probe.format.as_deref(), probe.version)?;
    let doc: Document<Vec<f32>> = serde_json::from_str(text).map_err(|e| err(format!("malformed snapshot: {e}")))?;
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

/// Read a binary snapshot.
pub fn from_bytes(bytes: &[u8]) -> Result<Network, Error> {
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
    let head: Document<usize> = serde_json::from_slice(header).map_err(|e| err(format!("malformed header: {e}")))?;
    check_format(Some(&head.format), Some(head.version))?;
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
        layers.push(LayerData { weight, bias, weight_velocity, bias_velocity });
    }
    let mut feedback = Vec::new();
    for f in &head.feedback {
        feedback.push(FeedbackData { y: take(f.y)?, q: take(f.q)? });
    }
    if !data.is_empty() {
        return Err(err(format!("{} unexpected bytes after the data", data.len())));
    }
    build(Document {
        format: head.format,
        version: head.version,
        config: head.config,
        steps: head.steps,
        samples_seen: head.samples_seen,
        layers,
        feedback,
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

fn build(doc: Document<Vec<f32>>) -> Result<Network, Error> {
    doc.config.validate().map_err(|e| err(format!("configuration: {e}")))?;
    let cfg = doc.config;
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
    let momentum = cfg.momentum > 0.0;
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
    }
    for (k, f) in doc.feedback.iter().enumerate() {
        let n = shapes[k + 1].weight_len();
        check_array(&format!("feedback[{k}].y"), &f.y, n)?;
        check_array(&format!("feedback[{k}].q"), &f.q, n)?;
    }
    let mut net = Network::new(cfg)?;
    {
        let (layers, feedback) = net.parts_mut();
        for (dst, src) in layers.iter_mut().zip(doc.layers) {
            dst.weight = src.weight;
            dst.bias = src.bias;
            if let (Some(wv), Some(bv)) = (src.weight_velocity, src.bias_velocity) {
                dst.weight_velocity = wv;
                dst.bias_velocity = bv;
            }
        }
        for (dst, src) in feedback.iter_mut().zip(doc.feedback) {
            dst.y = src.y;
            dst.q = src.q;
        }
    }
    net.check_q_tracking();
    net.set_progress(doc.steps, doc.samples_seen);
    Ok(net)
}

fn crc32(data: &[u8]) -> u32 {
    crate::data::crc32(data)
}
