//! The JavaScript API (wasm-bindgen), used by the page's Web Worker.
//!
//! ```js
//! import init, { Engine, buildInfo } from './pkg/burstccn.js';
//! await init();
//! const engine = new Engine({ layers: [784, 500, 500, 500, 10], lr: 0.3 }); // missing fields: defaults
//! engine.loadData(trainImages, trainLabels, testImages, testLabels); // IDX bytes, raw or gzip
//! const report = engine.train(10, false);        // 10 steps of batch_size
//! const rates = engine.eventRate(0);             // Float32Array view, rows × 500, no copy
//! ```
//!
//! **A training set that arrives in pieces** (the page streams MNIST and trains on the first
//! few thousand images while the rest download): `beginTrainingSet(header, labels)` takes the
//! images file's 16-byte IDX header and the whole labels file and reserves room for every
//! image; `appendTrainingImages(bytes)` adds whole images as they arrive; `loadTestSet` takes
//! the test files whenever they are in. Until the set is complete and every image has been
//! trained on once, batches come from the images that have arrived (see [`crate::stream`]:
//! unseen images first, in random order; seen ones again only if training outruns the
//! download); that first pass is epoch 1, and later epochs are ordinary shuffled passes.
//!
//! **CIFAR-10** (the page's "Use CIFAR-10"): a [`CifarReader`] takes the official
//! `cifar-10-binary.tar.gz` (or its tar, gunzipped by the caller with `DecompressionStream`,
//! or the six `.bin` files, each begun with `beginFile(name, size)`) in chunks of any size;
//! the records go straight into the two sets (184 MB for the full data, reserved once, no copy
//! of the archive is held). `engine.loadCifar(reader)` then takes the data (on error the
//! engine keeps what it had). MNIST stays loaded beside it: a network whose input is
//! 3 × 32 × 32 learns from CIFAR-10 (augmented as the authors do, see [`crate::cifar`]), one
//! whose input is 784 values from MNIST. `dataInfo()` says which, with the class names.
//!
//! **Views.** `eventRate`, `burstProb`, `burstRate`, `apical`, `input`, `output` return
//! `Float32Array`s that look straight into wasm memory. A view is invalidated when that
//! memory grows (its `length` becomes 0): any call that allocates may do so (loading data,
//! `setConfig` with a larger batch, `evaluate`, `importSnapshot`, `reset`). Views are cheap:
//! take fresh ones after each call rather than keeping them; `memoryBytes()` changes exactly
//! when views must be refreshed.
//!
//! **Errors.** Every failure is a thrown JS `Error` with a message; none aborts the instance.
//! A diverging step throws "training diverged …" and leaves the weights as they were.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use js_sys::{Float32Array, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::cifar::{self, Cifar10};
use crate::data::Dataset;
use crate::model::{AnyModel, BurstpropConfig, Config, Diagnostics, EdnConfig, ModelConfig, ModelKind, Network};
use crate::stream::{FirstPass, GrowingSet};
use crate::train::{evaluate, Samples, Take, Trainer};
use crate::{kernels, snapshot, Error};

fn js_err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// `base` with the settings of a JS object applied (a `model` field switches model: see
/// [`ModelConfig::patched`]).
fn config_from_js(base: &ModelConfig, value: &JsValue) -> Result<ModelConfig, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(base.clone());
    }
    let patch: serde_json::Value =
        serde_wasm_bindgen::from_value(value.clone()).map_err(|e| JsError::new(&format!("invalid settings: {e}")))?;
    base.patched(&patch).map_err(js_err)
}

/// A configuration as JS sees it: BurstCCN's exactly as before the other models existed (no
/// `model` field), the others' with their `model`.
fn config_to_js(cfg: &ModelConfig) -> Result<JsValue, JsError> {
    match cfg {
        ModelConfig::Burstccn(c) => to_js(c),
        other => to_js(&other.to_value()),
    }
}

/// Which kernels this module was built with, and its version.
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Info {
        version: &'static str,
        kernels: &'static str,
        available: Vec<&'static str>,
    }
    to_js(&Info { version: env!("CARGO_PKG_VERSION"), kernels: kernels::best().name(), available: kernels::available() })
}

/// A fresh seed from the browser's cryptographic random source (for a "new seed" button):
/// an integer below 2^53, so it survives the URL and JSON exactly.
#[wasm_bindgen(js_name = randomSeed)]
pub fn random_seed() -> Result<f64, JsError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| JsError::new(&format!("no random source: {e}")))?;
    Ok((u64::from_le_bytes(bytes) & crate::model::MAX_SEED) as f64)
}

/// The default configuration (the authors' MNIST notebook), as a plain object.
#[wasm_bindgen(js_name = defaultConfig)]
pub fn default_config() -> Result<JsValue, JsError> {
    to_js(&Config::default())
}

/// A named network with its defaults, as a plain object: `mlp` (the authors' MNIST notebook),
/// `mnist-conv` (the MNIST conv net), `mnist-conv-page` (the page's lighter MNIST conv net) or
/// `paper-cifar` (the paper's CIFAR-10 net); the comparison models with the authors'
/// command-line defaults: `burstprop`, `conv-burstprop` (their CIFAR-10 ConvBurstprop, Y
/// fixed), `conv-burstprop-learned-y` (its Y-learning variant) and `edn`.
#[wasm_bindgen(js_name = presetConfig)]
pub fn preset_config(name: &str) -> Result<JsValue, JsError> {
    match name {
        "mlp" => to_js(&Config::default()),
        "mnist-conv" => to_js(&Config::mnist_conv()),
        "mnist-conv-page" => to_js(&Config::mnist_conv_page()),
        "paper-cifar" => to_js(&Config::paper_cifar()),
        "burstprop" => config_to_js(&BurstpropConfig::default().into()),
        "conv-burstprop" => config_to_js(&BurstpropConfig::paper_cifar(false).into()),
        "conv-burstprop-learned-y" => config_to_js(&BurstpropConfig::paper_cifar(true).into()),
        "edn" => config_to_js(&EdnConfig::default().into()),
        _ => Err(JsError::new(&format!(
            "unknown network `{name}` (known: mlp, mnist-conv, mnist-conv-page, paper-cifar, burstprop, conv-burstprop, conv-burstprop-learned-y, edn)"
        ))),
    }
}

/// Check a configuration object (any model; `model` absent means BurstCCN) without building
/// anything; throws naming the bad field.
#[wasm_bindgen(js_name = validateConfig)]
pub fn validate_config(value: JsValue) -> Result<JsValue, JsError> {
    config_to_js(&config_from_js(&ModelConfig::default(), &value)?)
}

#[derive(Serialize, Default)]
struct TrainReport {
    /// Steps run by this call.
    steps: u32,
    /// Samples in those steps.
    samples: usize,
    /// Mean squared error over those samples and outputs.
    loss: f64,
    /// Fraction of those samples misclassified.
    error_rate: f64,
    /// Epochs completed, and the fractional epoch.
    epochs_done: u32,
    epoch: f64,
    /// Total steps and samples since initialisation.
    total_steps: f64,
    total_samples: f64,
    /// Diagnostics of the last step, if asked for.
    diagnostics: Option<Diagnostics>,
}

/// Which data set a network learns from: decided by the shape of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataKind {
    Mnist,
    Cifar10,
}

impl DataKind {
    fn name(self) -> &'static str {
        match self {
            DataKind::Mnist => "mnist",
            DataKind::Cifar10 => "cifar10",
        }
    }
}

/// The set a network of this kind trains on (MNIST: the complete set, not one still arriving).
fn train_samples<'a>(kind: DataKind, mnist: &'a Option<Dataset>, cifar: &'a Option<Cifar10>) -> Option<&'a dyn Samples> {
    match kind {
        DataKind::Mnist => mnist.as_ref().map(|d| d as &dyn Samples),
        DataKind::Cifar10 => cifar.as_ref().map(|c| &c.train as &dyn Samples),
    }
}

/// The set a network of this kind is scored on.
fn test_samples<'a>(kind: DataKind, mnist: &'a Option<Dataset>, cifar: &'a Option<Cifar10>) -> Option<&'a dyn Samples> {
    match kind {
        DataKind::Mnist => mnist.as_ref().map(|d| d as &dyn Samples),
        DataKind::Cifar10 => cifar.as_ref().map(|c| &c.test as &dyn Samples),
    }
}

/// Samples `start .. start + n` of a set.
struct Slice<'a> {
    data: &'a dyn Samples,
    start: usize,
    n: usize,
}

impl Samples for Slice<'_> {
    fn len(&self) -> usize {
        self.n
    }
    fn input_len(&self) -> usize {
        self.data.input_len()
    }
    fn label(&self, i: usize) -> u8 {
        self.data.label(self.start + i)
    }
    fn write(&self, i: usize, augment: Option<&mut crate::rng::Random>, out: &mut [f32]) {
        self.data.write(self.start + i, augment, out)
    }
}

/// CIFAR-10 feeds networks that take its 3 × 32 × 32 values; MNIST every other.
fn data_kind(inputs: usize) -> DataKind {
    if inputs == cifar::IMAGE_BYTES { DataKind::Cifar10 } else { DataKind::Mnist }
}

/// CIFAR-10 as it arrives, for [`Engine::load_cifar`]: `beginFile(name, size)` before each file
/// (optional for a single archive), `push(bytes)` in chunks of any size. The archive may come
/// gzip'd or already gunzipped; records are copied straight into the sets, which are reserved
/// once from the first batch's size. The first error ends the reading: later calls repeat it.
#[wasm_bindgen]
pub struct CifarReader {
    /// `None` once its data went to an engine.
    reader: Option<cifar::Reader>,
}

impl Default for CifarReader {
    fn default() -> Self {
        CifarReader::new()
    }
}

#[wasm_bindgen]
impl CifarReader {
    /// A reader holding nothing yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> CifarReader {
        CifarReader { reader: Some(cifar::Reader::new()) }
    }

    fn reader(&mut self) -> Result<&mut cifar::Reader, JsError> {
        self.reader.as_mut().ok_or_else(|| JsError::new("this CIFAR-10 reader's data has already been given to an engine"))
    }

    /// Start the next file: its name (which batch a `.bin` file is; used in messages) and its
    /// size in bytes if known (undefined for a stream being gunzipped).
    #[wasm_bindgen(js_name = beginFile)]
    pub fn begin_file(&mut self, name: &str, size: Option<f64>) -> Result<(), JsError> {
        let size = size.filter(|s| s.is_finite() && *s >= 0.0).map(|s| s as u64);
        self.reader()?.begin_file(name, size).map_err(js_err)
    }

    /// The next bytes of the current file.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        self.reader()?.push(chunk).map_err(js_err)
    }

    /// The current file is complete (a truncated one is refused here).
    #[wasm_bindgen(js_name = endFile)]
    pub fn end_file(&mut self) -> Result<(), JsError> {
        self.reader()?.end_file().map_err(js_err)
    }

    /// Bytes held: the images and labels so far and the decoder's buffers.
    #[wasm_bindgen(js_name = bytesHeld)]
    pub fn bytes_held(&self) -> f64 {
        self.reader.as_ref().map_or(0, cifar::Reader::bytes_held) as f64
    }

    /// Bytes pushed so far (every file), for a progress bar.
    #[wasm_bindgen(js_name = bytesRead)]
    pub fn bytes_read(&self) -> f64 {
        self.reader.as_ref().map_or(0, cifar::Reader::bytes_read) as f64
    }
}

/// A model (BurstCCN, Burstprop or EDN), the data it learns from, and its place in the epoch.
#[wasm_bindgen]
pub struct Engine {
    trainer: Trainer,
    /// The complete MNIST training set.
    train: Option<Dataset>,
    test: Option<Dataset>,
    /// CIFAR-10, once given (`loadCifar`); held beside MNIST.
    cifar: Option<Cifar10>,
    /// The training set while it arrives (it moves to `train`, uncopied, once complete).
    growing: Option<GrowingSet>,
    /// Batches of epoch 1 while the training set arrives; `None` once that pass is over.
    first_pass: Option<FirstPass>,
    batch_index: Vec<u32>,
    batch_pixels: Vec<u8>,
    batch_labels: Vec<u8>,
}

#[wasm_bindgen]
impl Engine {
    /// Build a model from a settings object (missing fields take that model's defaults;
    /// `model: "burstprop"` or `"edn"` for the comparison models, BurstCCN otherwise).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<Engine, JsError> {
        let cfg = config_from_js(&ModelConfig::default(), &config)?;
        let net = AnyModel::new(cfg).map_err(js_err)?;
        Ok(Engine {
            trainer: Trainer::new(net, 0),
            train: None,
            test: None,
            cifar: None,
            growing: None,
            first_pass: None,
            batch_index: Vec::new(),
            batch_pixels: Vec::new(),
            batch_labels: Vec::new(),
        })
    }

    /// Give the engine MNIST: the four IDX files as bytes (raw or gzip). Checks everything;
    /// on error nothing changes. Returns `{train, test}` counts.
    #[wasm_bindgen(js_name = loadData)]
    pub fn load_data(&mut self, train_images: Vec<u8>, train_labels: Vec<u8>, test_images: Vec<u8>, test_labels: Vec<u8>) -> Result<JsValue, JsError> {
        let train = Dataset::from_idx_vec(train_images, train_labels).map_err(js_err)?;
        let test = Dataset::from_idx_vec(test_images, test_labels).map_err(js_err)?;
        let inputs = self.trainer.net.network_config().input_len();
        for (name, d) in [("training", &train), ("test", &test)] {
            if d.pixels() != inputs {
                return Err(JsError::new(&format!("{name} images have {} pixels but the network takes {inputs} inputs", d.pixels())));
            }
        }
        let counts = [train.len(), test.len()];
        self.rebuild_trainer_for(train.len());
        self.train = Some(train);
        self.test = Some(test);
        self.growing = None;
        self.first_pass = None;
        #[derive(Serialize)]
        struct Counts {
            train: usize,
            test: usize,
        }
        to_js(&Counts { train: counts[0], test: counts[1] })
    }

    fn rebuild_trainer_for(&mut self, train_len: usize) {
        let net = core::mem::replace(&mut self.trainer.net, placeholder_network().into());
        self.trainer = Trainer::new(net, train_len);
    }

    /// Start a training set that arrives in pieces: `header` is the start of the images IDX
    /// file (its first 16 bytes, raw, not gzip), `labels` the whole labels file (raw or gzip).
    /// Checks both and that the images fit the network, then reserves room for every image
    /// (held once: the complete set becomes the training set without a copy). Replaces any
    /// training set; the network starts epoch 1 (its weights are kept). On error nothing
    /// changes. Returns `{count, rows, cols}`.
    #[wasm_bindgen(js_name = beginTrainingSet)]
    pub fn begin_training_set(&mut self, header: &[u8], labels: Vec<u8>) -> Result<JsValue, JsError> {
        let (count, rows, cols) = crate::stream::parse_images_header(header).map_err(js_err)?;
        let inputs = self.trainer.net.network_config().input_len();
        if rows * cols != inputs {
            return Err(JsError::new(&format!("training images have {} pixels but the network takes {inputs} inputs", rows * cols)));
        }
        // Free the old set before reserving the new one (wasm memory never shrinks).
        let old = self.train.take();
        let set = match GrowingSet::new(header, &labels) {
            Ok(set) => set,
            Err(e) => {
                self.train = old;
                return Err(js_err(e));
            }
        };
        drop(old);
        self.growing = Some(set);
        self.rebuild_trainer_for(0);
        self.start_first_pass();
        #[derive(Serialize)]
        struct Header {
            count: usize,
            rows: usize,
            cols: usize,
        }
        to_js(&Header { count, rows, cols })
    }

    /// Add whole training images (bytes, a multiple of the image size) in file order, as they
    /// arrive. Returns how many have arrived. Throws if they are not whole images or are more
    /// than the header promised (nothing is added then).
    #[wasm_bindgen(js_name = appendTrainingImages)]
    pub fn append_training_images(&mut self, pixels: &[u8]) -> Result<u32, JsError> {
        let set = self.growing.as_mut().ok_or_else(|| JsError::new("no training set is arriving (call beginTrainingSet first)"))?;
        let arrived = set.append(pixels).map_err(js_err)?;
        if let Some(pass) = &mut self.first_pass {
            pass.admit(arrived);
        }
        if set.is_complete() {
            let set = self.growing.take().expect("checked above");
            self.train = Some(set.into_dataset().expect("complete"));
        }
        Ok(arrived as u32)
    }

    /// Where the training set stands: `{arrived, count, complete, first_pass, revisits}`
    /// (`first_pass`: epoch 1 is still choosing from what has arrived; `revisits`: images
    /// trained on again in it because training ran ahead of the download).
    #[wasm_bindgen(js_name = trainingStatus)]
    pub fn training_status(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Status {
            arrived: usize,
            count: usize,
            complete: bool,
            first_pass: bool,
            revisits: f64,
        }
        let (arrived, count) = match (&self.growing, &self.train) {
            (Some(g), _) => (g.arrived(), g.len()),
            (None, Some(t)) => (t.len(), t.len()),
            (None, None) => (0, 0),
        };
        to_js(&Status {
            arrived,
            count,
            complete: self.growing.is_none() && self.train.is_some(),
            first_pass: self.first_pass.is_some(),
            revisits: self.first_pass.as_ref().map_or(0.0, |p| p.revisits() as f64),
        })
    }

    /// Give the engine the test set (IDX bytes, raw or gzip), e.g. after training has begun.
    /// On error the current test set is kept. Returns the number of test images.
    #[wasm_bindgen(js_name = loadTestSet)]
    pub fn load_test_set(&mut self, images: Vec<u8>, labels: Vec<u8>) -> Result<u32, JsError> {
        let test = Dataset::from_idx_vec(images, labels).map_err(js_err)?;
        let inputs = self.trainer.net.network_config().input_len();
        if test.pixels() != inputs {
            return Err(JsError::new(&format!("test images have {} pixels but the network takes {inputs} inputs", test.pixels())));
        }
        let n = test.len() as u32;
        self.test = Some(test);
        Ok(n)
    }

    /// Training image `i` (one that has arrived): its pixels, a copy.
    #[wasm_bindgen(js_name = trainImage)]
    pub fn train_image(&self, i: u32) -> Result<Uint8Array, JsError> {
        self.train_example(i as usize).map(|(pixels, _)| Uint8Array::from(pixels))
    }

    /// Training image `i`'s label.
    #[wasm_bindgen(js_name = trainLabel)]
    pub fn train_label(&self, i: u32) -> Result<u8, JsError> {
        self.train_example(i as usize).map(|(_, label)| label)
    }

    fn train_example(&self, i: usize) -> Result<(&[u8], u8), JsError> {
        let arrived = match (&self.growing, &self.train) {
            (Some(g), _) => g.arrived(),
            (None, Some(t)) => t.len(),
            (None, None) => return Err(JsError::new("no training data loaded")),
        };
        if i >= arrived {
            return Err(JsError::new(&format!("training image {i} has not arrived (0..{arrived})")));
        }
        Ok(self.example(i))
    }

    /// Training image `i` (arrived) and its label, from whichever set holds it.
    fn example(&self, i: usize) -> (&[u8], u8) {
        match (&self.growing, &self.train) {
            (Some(g), _) => g.image(i),
            (None, Some(t)) => (t.image(i), t.labels[i]),
            (None, None) => panic!("no training set"),
        }
    }

    /// Pixels per training image, from whichever set is loaded or arriving.
    fn data_pixels(&self) -> Option<usize> {
        self.growing.as_ref().map(GrowingSet::pixels).or_else(|| self.train.as_ref().map(Dataset::pixels))
    }

    /// The data the current network learns from: CIFAR-10 for 3 × 32 × 32 inputs, else MNIST.
    fn kind(&self) -> DataKind {
        data_kind(self.trainer.net.network_config().input_len())
    }

    /// Why a network taking `inputs` values could not learn from the data held, if it could not.
    /// With no data at all, any network may be built (the data is checked when it comes).
    fn data_mismatch(&self, inputs: usize) -> Option<String> {
        let (mnist, cifar) = (self.data_pixels(), self.cifar.is_some());
        if (mnist.is_none() && !cifar) || mnist == Some(inputs) || (cifar && inputs == cifar::IMAGE_BYTES) {
            return None;
        }
        if inputs == cifar::IMAGE_BYTES {
            return Some(String::from("a network with 3 × 32 × 32 inputs learns from CIFAR-10, which is not loaded (give it with loadCifar first)"));
        }
        Some(match mnist {
            Some(p) if cifar => format!("the data has {p} (MNIST) or {} (CIFAR-10) values per image, the first layer must match one", cifar::IMAGE_BYTES),
            Some(p) => format!("the data has {p} pixels per image, the first layer must match"),
            None => format!("the data (CIFAR-10) has {} values per image, the first layer must match", cifar::IMAGE_BYTES),
        })
    }

    /// A new trainer for the current network: an ordinary epoch order over a complete set, or
    /// a fresh first pass over what has arrived of an MNIST training set still arriving.
    fn fresh_trainer(&mut self, net: AnyModel) {
        let kind = data_kind(net.network_config().input_len());
        if kind == DataKind::Mnist && self.growing.is_some() {
            self.trainer = Trainer::new(net, 0);
            self.start_first_pass();
        } else {
            self.first_pass = None;
            let len = train_samples(kind, &self.train, &self.cifar).map_or(0, |d| d.len());
            self.trainer = Trainer::new(net, len);
        }
    }

    fn start_first_pass(&mut self) {
        let set = self.growing.as_ref().expect("a set is arriving");
        let mut pass = FirstPass::new(self.trainer.net.network_config().seed, set.len());
        pass.admit(set.arrived());
        self.first_pass = Some(pass);
    }

    /// Training steps of epoch 1 while the set arrives (see the module docs); stops early when
    /// that pass ends, and the trainer then takes over at the start of epoch 2.
    fn train_first_pass(&mut self, steps: u32, diagnostics: bool, report: &mut TrainReport) -> Result<(f64, usize), JsError> {
        let (mut sse, mut wrong) = (0.0, 0usize);
        let batch = self.trainer.net.network_config().batch_size;
        for i in 0..steps {
            let pass = self.first_pass.as_mut().expect("in the first pass");
            let fresh = pass.next_batch(batch, &mut self.batch_index);
            if self.batch_index.is_empty() {
                return Err(JsError::new("no training images have arrived yet"));
            }
            let p = self.data_pixels().expect("a training set");
            self.batch_pixels.resize(self.batch_index.len() * p, 0);
            self.batch_labels.resize(self.batch_index.len(), 0);
            let (mut pixels_out, mut labels_out) = (core::mem::take(&mut self.batch_pixels), core::mem::take(&mut self.batch_labels));
            for (r, &idx) in self.batch_index.iter().enumerate() {
                let (pixels, label) = self.example(idx as usize);
                pixels_out[r * p..(r + 1) * p].copy_from_slice(pixels);
                labels_out[r] = label;
            }
            (self.batch_pixels, self.batch_labels) = (pixels_out, labels_out);
            let net = &mut self.trainer.net;
            let step = net.load_images_u8(&self.batch_pixels).and_then(|_| net.train_step(&self.batch_labels, diagnostics && i + 1 == steps));
            let r = match step {
                Ok(r) => r,
                Err(e) => {
                    // The weights are as before this step: so is the pass (its new images stay unseen).
                    let pass = self.first_pass.as_mut().expect("in the first pass");
                    pass.put_back(&self.batch_index[..fresh]);
                    return Err(js_err(e));
                }
            };
            report.steps += 1;
            report.samples += r.rows;
            sse += r.sum_squared_error;
            wrong += r.errors;
            if r.diagnostics.is_some() {
                report.diagnostics = r.diagnostics;
            }
            if self.first_pass.as_ref().is_some_and(FirstPass::is_done) {
                // Epoch 1 is over: epoch 2 is an ordinary shuffled pass over the full set.
                self.first_pass = None;
                let len = self.train.as_ref().map_or(0, Dataset::len);
                self.rebuild_trainer_for(len);
                self.trainer.seek(1, 0);
                break;
            }
        }
        Ok((sse, wrong))
    }

    /// Run `steps` training steps (each of `batch_size` samples) by the configured rule.
    /// With `diagnostics`, the last step also measures angles and means.
    /// While the training set still arrives (epoch 1), batches come from what has arrived and
    /// the call stops early at the end of that epoch.
    pub fn train(&mut self, steps: u32, diagnostics: bool) -> Result<JsValue, JsError> {
        let mut report = TrainReport::default();
        let (sse, wrong) = if self.first_pass.is_some() {
            self.train_first_pass(steps, diagnostics, &mut report)?
        } else {
            self.train_epochs(steps, diagnostics, &mut report)?
        };
        let outputs = self.trainer.net.network_config().outputs();
        if report.samples > 0 {
            report.loss = sse / (report.samples * outputs) as f64;
            report.error_rate = wrong as f64 / report.samples as f64;
        }
        self.fill_progress(&mut report);
        to_js(&report)
    }

    fn train_epochs(&mut self, steps: u32, diagnostics: bool, report: &mut TrainReport) -> Result<(f64, usize), JsError> {
        let kind = self.kind();
        let data = train_samples(kind, &self.train, &self.cifar).ok_or_else(|| JsError::new("no training data loaded (call loadData first)"))?;
        let mut sse = 0.0;
        let mut wrong = 0usize;
        for i in 0..steps {
            let diag = diagnostics && i + 1 == steps;
            let (r, _) = self.trainer.step(data, diag).map_err(js_err)?;
            report.steps += 1;
            report.samples += r.rows;
            sse += r.sum_squared_error;
            wrong += r.errors;
            if r.diagnostics.is_some() {
                report.diagnostics = r.diagnostics;
            }
        }
        Ok((sse, wrong))
    }

    fn fill_progress(&self, report: &mut TrainReport) {
        if let Some(pass) = &self.first_pass {
            report.epochs_done = 0;
            report.epoch = pass.fraction();
        } else {
            let (epochs_done, _) = self.trainer.position();
            report.epochs_done = epochs_done;
            report.epoch = self.trainer.epochs();
        }
        let (steps, samples) = self.trainer.net.progress();
        report.total_steps = steps as f64;
        report.total_samples = samples as f64;
    }

    /// Classify the first `limit` test images (all if 0 or omitted):
    /// `{count, error_rate, loss, confusion}` (confusion[true * 10 + predicted]).
    pub fn evaluate(&self, limit: Option<u32>) -> Result<JsValue, JsError> {
        let test = self.test_set()?;
        let n = match limit {
            Some(l) if l > 0 => (l as usize).min(test.len()),
            _ => test.len(),
        };
        // The first n images, read in place (no copy of the subset).
        to_js(&evaluate(&self.trainer.net, &Take { data: test, n }).map_err(js_err)?)
    }

    /// Score test images `start .. start + count` (clamped to the set): `{count, wrong, sse,
    /// confusion}` — sums, so that slices add up to the whole set's score (the page scores a
    /// big network a slice at a time, staying responsive between slices).
    #[wasm_bindgen(js_name = evaluateSlice)]
    pub fn evaluate_slice(&self, start: u32, count: u32) -> Result<JsValue, JsError> {
        let test = self.test_set()?;
        let start = (start as usize).min(test.len());
        let n = (count as usize).min(test.len() - start);
        let r = evaluate(&self.trainer.net, &Slice { data: test, start, n }).map_err(js_err)?;
        #[derive(Serialize)]
        struct Sums {
            count: usize,
            wrong: usize,
            sse: f64,
            confusion: Vec<u32>,
        }
        let outputs = self.trainer.net.network_config().outputs();
        to_js(&Sums { count: r.count, wrong: r.predictions.iter().enumerate().filter(|&(i, &p)| p != test.label(start + i)).count(), sse: r.loss * (r.count * outputs) as f64, confusion: r.confusion })
    }

    /// The test set the current network is scored on.
    fn test_set(&self) -> Result<&dyn Samples, JsError> {
        test_samples(self.kind(), &self.test, &self.cifar).ok_or_else(|| JsError::new("no test data loaded (call loadData first)"))
    }

    /// Predicted classes of test images `start .. start + count` (for the strip of digits).
    #[wasm_bindgen(js_name = classifyTest)]
    pub fn classify_test(&self, start: u32, count: u32) -> Result<Uint8Array, JsError> {
        let test = self.test_set()?;
        let (start, count) = (start as usize, count as usize);
        if start.checked_add(count).is_none_or(|end| end > test.len()) {
            return Err(JsError::new(&format!("test images {start}..{} out of range (0..{})", start + count, test.len())));
        }
        let n0 = test.input_len();
        if n0 != self.trainer.net.network_config().input_len() {
            return Err(JsError::new(&format!("the network takes {} inputs, the test images have {n0}", self.trainer.net.network_config().input_len())));
        }
        let (pred, _) = self
            .trainer
            .net
            .classify(count, None, |first, x| {
                for (r, out) in x.chunks_exact_mut(n0).enumerate() {
                    test.write(start + first + r, None, out);
                }
            })
            .map_err(js_err)?;
        Ok(Uint8Array::from(&pred[..]))
    }

    /// Test image `i`'s bytes (a copy): MNIST's 28 × 28 grey pixels, or CIFAR-10's red, green
    /// and blue planes (3 × 32 × 32); its label via `testLabel`.
    #[wasm_bindgen(js_name = testImage)]
    pub fn test_image(&self, i: u32) -> Result<Uint8Array, JsError> {
        let len = self.test_set()?.len();
        let i = i as usize;
        if i >= len {
            return Err(JsError::new(&format!("test image {i} out of range (0..{len})")));
        }
        Ok(match (self.kind(), &self.test, &self.cifar) {
            (DataKind::Cifar10, _, Some(c)) => Uint8Array::from(&c.test.image(i)[..]),
            (_, Some(t), _) => Uint8Array::from(t.image(i)),
            _ => unreachable!("test_set found a set"),
        })
    }

    /// Test image `i`'s label.
    #[wasm_bindgen(js_name = testLabel)]
    pub fn test_label(&self, i: u32) -> Result<u8, JsError> {
        let test = self.test_set()?;
        if i as usize >= test.len() {
            return Err(JsError::new(&format!("test image {i} out of range")));
        }
        Ok(test.label(i as usize))
    }

    /// Number of test images of the current network's data (0 before any is loaded).
    #[wasm_bindgen(js_name = testCount)]
    pub fn test_count(&self) -> u32 {
        self.test_set().map_or(0, |t| t.len() as u32)
    }

    /// Present test image `i` with its label as the teacher (no plasticity), its pixels made
    /// into the network's input as training does (CIFAR-10: normalised, not augmented): the
    /// burst wave it causes. Returns the output event rates (a copy).
    #[wasm_bindgen(js_name = presentTest)]
    pub fn present_test(&mut self, i: u32) -> Result<Float32Array, JsError> {
        let kind = self.kind();
        let test = test_samples(kind, &self.test, &self.cifar).ok_or_else(|| JsError::new("no test data loaded"))?;
        let i = i as usize;
        if i >= test.len() {
            return Err(JsError::new(&format!("test image {i} out of range (0..{})", test.len())));
        }
        let n0 = self.trainer.net.network_config().input_len();
        if test.input_len() != n0 {
            return Err(JsError::new(&format!("the network takes {n0} inputs, the test images have {}", test.input_len())));
        }
        let input = self.trainer.net.input_for(1).map_err(js_err)?;
        test.write(i, None, input);
        let label = test.label(i);
        self.trainer.net.present(&[label]).map_err(js_err)?;
        Ok(Float32Array::from(self.trainer.net.network().output()))
    }

    /// Give the engine CIFAR-10 from a reader that has read all six batches (see the module
    /// docs). Replaces CIFAR-10 given before; MNIST stays. A network with 3 × 32 × 32 inputs
    /// learns from it from now on (one training on the old CIFAR-10 starts a fresh epoch 1,
    /// its weights kept). On error (a batch missing, the reader failed earlier) nothing
    /// changes. Returns `{train, test, bytes}`: counts and the bytes the data holds.
    #[wasm_bindgen(js_name = loadCifar)]
    pub fn load_cifar(&mut self, reader: &mut CifarReader) -> Result<JsValue, JsError> {
        let r = reader.reader.take().ok_or_else(|| JsError::new("this CIFAR-10 reader's data has already been given to an engine"))?;
        let data = r.finish().map_err(js_err)?;
        #[derive(Serialize)]
        struct Loaded {
            train: usize,
            test: usize,
            bytes: f64,
        }
        let loaded = Loaded { train: data.train.len(), test: data.test.len(), bytes: data.bytes_held() as f64 };
        // Free the old set before the trainer is rebuilt over the new one.
        self.cifar = None;
        self.cifar = Some(data);
        if self.kind() == DataKind::Cifar10 {
            let net = core::mem::replace(&mut self.trainer.net, placeholder_network().into());
            self.fresh_trainer(net);
        }
        to_js(&loaded)
    }

    /// The data the current network learns from: `{kind: "mnist" | "cifar10", input_shape:
    /// [c, h, w], classes, train, test, mean, std, cifar}`, where `train` and `test` count its
    /// images (MNIST: all the training set will hold, even while it arrives), `mean` and `std`
    /// are the per-channel normalisation of its inputs (CIFAR-10; null for MNIST, whose inputs
    /// are pixel / 255), and `cifar` is `{train, test, bytes}` when CIFAR-10 is held.
    #[wasm_bindgen(js_name = dataInfo)]
    pub fn data_info(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Held {
            train: usize,
            test: usize,
            bytes: f64,
        }
        #[derive(Serialize)]
        struct Info {
            kind: &'static str,
            input_shape: [usize; 3],
            classes: Vec<String>,
            train: usize,
            test: usize,
            mean: Option<[f32; 3]>,
            std: Option<[f32; 3]>,
            cifar: Option<Held>,
        }
        let kind = self.kind();
        let cifar = self.cifar.as_ref().map(|c| Held { train: c.train.len(), test: c.test.len(), bytes: c.bytes_held() as f64 });
        let info = match kind {
            DataKind::Cifar10 if self.cifar.is_some() => Info {
                kind: kind.name(),
                input_shape: [cifar::CHANNELS, cifar::SIDE, cifar::SIDE],
                classes: cifar::CLASSES.iter().map(|c| String::from(*c)).collect(),
                train: cifar.as_ref().map_or(0, |c| c.train),
                test: cifar.as_ref().map_or(0, |c| c.test),
                mean: Some(cifar::MEAN),
                std: Some(cifar::STD),
                cifar,
            },
            _ => {
                let (rows, cols) = match (&self.growing, &self.train) {
                    (Some(g), _) => {
                        let p = g.pixels();
                        if p == 784 { (28, 28) } else { (1, p) }
                    }
                    (None, Some(t)) => (t.rows, t.cols),
                    (None, None) => (28, 28),
                };
                Info {
                    kind: DataKind::Mnist.name(),
                    input_shape: [1, rows, cols],
                    classes: (0..10).map(|d| d.to_string()).collect(),
                    train: self.growing.as_ref().map(GrowingSet::len).or_else(|| self.train.as_ref().map(Dataset::len)).unwrap_or(0),
                    test: self.test.as_ref().map_or(0, Dataset::len),
                    mean: None,
                    std: None,
                    cifar,
                }
            }
        };
        to_js(&info)
    }

    /// Present one or more images without a teacher (no plasticity): fills every layer's
    /// activity buffers and returns the output event rates (a copy, rows × outputs).
    /// Pixels are bytes 0–255 (`Uint8Array`) or floats in [0, 1] (`Float32Array`).
    pub fn predict(&mut self, pixels: JsValue) -> Result<Float32Array, JsError> {
        self.load_pixels(&pixels)?;
        self.trainer.net.predict();
        Ok(Float32Array::from(self.trainer.net.network().output()))
    }

    /// Like `predict`, but with a teacher for `label`: the burst wave that label causes,
    /// without changing any weight. Returns the output event rates.
    pub fn present(&mut self, pixels: JsValue, label: u8) -> Result<Float32Array, JsError> {
        let rows = self.load_pixels(&pixels)?;
        let labels = alloc::vec![label; rows];
        self.trainer.net.present(&labels).map_err(js_err)?;
        Ok(Float32Array::from(self.trainer.net.network().output()))
    }

    /// One *teaching* step on one image with the chosen label (the draw-a-digit pad): the
    /// configured rule's update on just this example. The activity buffers then hold the
    /// burst wave it caused. Returns the output before the update (a copy).
    pub fn teach(&mut self, pixels: JsValue, label: u8) -> Result<Float32Array, JsError> {
        let rows = self.load_pixels(&pixels)?;
        if rows != 1 {
            return Err(JsError::new("teach takes exactly one image"));
        }
        self.trainer.net.train_step(&[label], false).map_err(js_err)?;
        Ok(Float32Array::from(self.trainer.net.network().output()))
    }

    fn load_pixels(&mut self, pixels: &JsValue) -> Result<usize, JsError> {
        let net = &mut self.trainer.net;
        if let Some(bytes) = pixels.dyn_ref::<Uint8Array>() {
            net.load_images_u8(&bytes.to_vec()).map_err(js_err)
        } else if let Some(floats) = pixels.dyn_ref::<Float32Array>() {
            net.load_inputs(&floats.to_vec()).map_err(js_err)
        } else {
            Err(JsError::new("pixels must be a Uint8Array (0–255) or a Float32Array (0–1)"))
        }
    }

    /// Diagnostics on the current batch with its labels (angles, means); throws if the current
    /// batch has no labels (after `predict`).
    pub fn diagnose(&mut self) -> Result<JsValue, JsError> {
        let labels = self.trainer.net.network().labels().to_vec();
        if labels.is_empty() {
            return Err(JsError::new("the current batch has no labels: train, teach or present first"));
        }
        to_js(&self.trainer.net.diagnose(&labels).map_err(js_err)?)
    }

    /// The configuration as a plain object.
    #[wasm_bindgen(js_name = getConfig)]
    pub fn get_config(&self) -> Result<JsValue, JsError> {
        config_to_js(&self.trainer.net.config())
    }

    /// Change learning settings mid-run (rule, rates, p_b, feedback modes, momentum, batch…)
    /// without touching the weights. Layer sizes and seed need `reset`. Throws naming the field.
    #[wasm_bindgen(js_name = setConfig)]
    pub fn set_config(&mut self, patch: JsValue) -> Result<JsValue, JsError> {
        let cfg = config_from_js(&self.trainer.net.config(), &patch)?;
        if cfg.seed() != self.trainer.net.network_config().seed {
            return Err(JsError::new("invalid setting `seed`: changing the seed needs reset()"));
        }
        self.trainer.net.set_config(cfg).map_err(js_err)?;
        self.get_config()
    }

    /// A fresh network from `config` (a patch on the current settings; may change layer sizes
    /// and seed). The same seed gives the same initial weights and batch order.
    pub fn reset(&mut self, config: JsValue) -> Result<JsValue, JsError> {
        let cfg = config_from_js(&self.trainer.net.config(), &config)?;
        if let Some(why) = self.data_mismatch(cfg.input_len()) {
            return Err(JsError::new(&format!("invalid setting `layers`: {why}")));
        }
        let net = AnyModel::new(cfg).map_err(js_err)?;
        self.fresh_trainer(net);
        self.get_config()
    }

    /// The network as a binary snapshot (config + every weight + optimiser state).
    #[wasm_bindgen(js_name = exportSnapshot)]
    pub fn export_snapshot(&self) -> Uint8Array {
        Uint8Array::from(&snapshot::to_bytes(&self.trainer.net)[..])
    }

    /// The network as a JSON snapshot string.
    #[wasm_bindgen(js_name = exportSnapshotJson)]
    pub fn export_snapshot_json(&self) -> String {
        snapshot::to_json(&self.trainer.net)
    }

    /// Replace the network by a snapshot (binary or JSON bytes). Everything is checked first:
    /// on error the current network is kept. Returns the snapshot's configuration.
    #[wasm_bindgen(js_name = importSnapshot)]
    pub fn import_snapshot(&mut self, bytes: &[u8]) -> Result<JsValue, JsError> {
        let net = snapshot::load_model(bytes).map_err(js_err)?;
        let inputs = net.network_config().input_len();
        if let Some(why) = self.data_mismatch(inputs) {
            return Err(JsError::new(&format!("cannot load snapshot: it takes {inputs} inputs but {why}")));
        }
        self.fresh_trainer(net);
        self.get_config()
    }

    /// Progress: `{epochs_done, epoch, total_steps, total_samples}`.
    pub fn progress(&self) -> Result<JsValue, JsError> {
        let mut r = TrainReport::default();
        self.fill_progress(&mut r);
        to_js(&r)
    }

    /// Number of weight layers (hidden layers + output).
    #[wasm_bindgen(js_name = layerCount)]
    pub fn layer_count(&self) -> u32 {
        self.trainer.net.network().layers().len() as u32
    }

    /// Units in weight layer k's output (k = 0 is the first hidden layer).
    #[wasm_bindgen(js_name = layerSize)]
    pub fn layer_size(&self, k: u32) -> Result<u32, JsError> {
        Ok(self.layer(k)?.n_out as u32)
    }

    /// Weight layer k's shape: `{kind: "dense", units, inputs}` or, for a conv layer, `{kind:
    /// "conv", channels, height, width, kernel, stride, in_channels, in_height, in_width}`
    /// (its units are height × width positions × channels, channel fastest).
    #[wasm_bindgen(js_name = layerShape)]
    pub fn layer_shape(&self, k: u32) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Shape {
            Dense { units: usize, inputs: usize },
            Conv { channels: usize, height: usize, width: usize, kernel: usize, stride: usize, in_channels: usize, in_height: usize, in_width: usize },
        }
        let layer = self.layer(k)?;
        to_js(&match &layer.shape.conv {
            Some(g) => Shape::Conv {
                channels: g.c_out,
                height: g.h_out,
                width: g.w_out,
                kernel: g.k,
                stride: g.stride,
                in_channels: g.c_in,
                in_height: g.h,
                in_width: g.w,
            },
            None => Shape::Dense { units: layer.n_out, inputs: layer.n_in },
        })
    }

    /// View of weight layer k's W: `units × inputs` (dense) or, for a conv layer, one kernel per
    /// feature map, `channels × (kernel · kernel · in_channels)` (row, column, input channel
    /// fastest). See "Views" above.
    pub fn weights(&self, k: u32) -> Result<Float32Array, JsError> {
        Ok(view(&self.layer(k)?.weight))
    }

    fn layer(&self, k: u32) -> Result<&crate::model::Layer, JsError> {
        let layers = self.trainer.net.network().layers();
        layers.get(k as usize).ok_or_else(|| JsError::new(&format!("no layer {k} (there are {})", layers.len())))
    }

    /// Rows in the current batch.
    pub fn rows(&self) -> u32 {
        self.trainer.net.network().rows() as u32
    }

    /// Labels of the current batch (empty after `predict`).
    pub fn labels(&self) -> Uint8Array {
        Uint8Array::from(self.trainer.net.network().labels())
    }

    /// View of layer k's event rates for the current batch (rows × units). See "Views" above.
    #[wasm_bindgen(js_name = eventRate)]
    pub fn event_rate(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.trainer.net.network().event_rate(k as usize)))
    }

    /// View of layer k's burst probabilities (Burstprop: the teacher sweep's p). EDN has no
    /// bursts: throws.
    #[wasm_bindgen(js_name = burstProb)]
    pub fn burst_prob(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        self.bursts("burstProb")?;
        Ok(view(self.trainer.net.network().burst_prob(k as usize)))
    }

    /// View of layer k's burst rates (Burstprop: the teacher sweep's b). EDN: throws.
    #[wasm_bindgen(js_name = burstRate)]
    pub fn burst_rate(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        self.bursts("burstRate")?;
        Ok(view(self.trainer.net.network().burst_rate(k as usize)))
    }

    fn bursts(&self, what: &str) -> Result<(), JsError> {
        match self.trainer.net.kind() {
            ModelKind::Edn => Err(JsError::new(&format!("{what}: EDN has no bursts (see nudgedRate, interneuronRate, apical)"))),
            _ => Ok(()),
        }
    }

    /// View of hidden layer k's apical potentials (empty for the output layer): BurstCCN's u,
    /// Burstprop's teacher-sweep uᵗ, EDN's apical error a.
    pub fn apical(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.trainer.net.network().apical(k as usize)))
    }

    /// The model in use: `"burstccn"`, `"burstprop"` or `"edn"`.
    #[wasm_bindgen(js_name = modelKind)]
    pub fn model_kind(&self) -> String {
        self.trainer.net.kind().as_str().to_string()
    }

    fn burstprop(&self, what: &str) -> Result<&crate::model::Burstprop, JsError> {
        self.trainer.net.as_burstprop().ok_or_else(|| JsError::new(&format!("{what} is a Burstprop quantity; this engine runs {}", self.trainer.net.kind().as_str())))
    }

    fn edn(&self, what: &str) -> Result<&crate::model::Edn, JsError> {
        self.trainer.net.as_edn().ok_or_else(|| JsError::new(&format!("{what} is an EDN quantity; this engine runs {}", self.trainer.net.kind().as_str())))
    }

    /// Burstprop: view of layer k's baseline (no-teacher) burst probability p̄.
    #[wasm_bindgen(js_name = baselineBurstProb)]
    pub fn baseline_burst_prob(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.burstprop("baselineBurstProb")?.baseline_burst_prob(k as usize)))
    }

    /// Burstprop: view of layer k's baseline burst rate b̄ = p̄·e.
    #[wasm_bindgen(js_name = baselineBurstRate)]
    pub fn baseline_burst_rate(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.burstprop("baselineBurstRate")?.baseline_burst_rate(k as usize)))
    }

    /// Burstprop: view of layer k's teacher burst probability p (the same as `burstProb`).
    #[wasm_bindgen(js_name = teacherBurstProb)]
    pub fn teacher_burst_prob(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.burstprop("teacherBurstProb")?.teacher_burst_prob(k as usize)))
    }

    /// Burstprop: view of hidden layer k's baseline apical potential ū (empty for the output).
    #[wasm_bindgen(js_name = baselineApical)]
    pub fn baseline_apical(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.burstprop("baselineApical")?.baseline_apical(k as usize)))
    }

    /// EDN: view of hidden layer k's interneuron rates rᴵ (rows × units of layer k + 1; empty
    /// for the output layer).
    #[wasm_bindgen(js_name = interneuronRate)]
    pub fn interneuron_rate(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.edn("interneuronRate")?.interneuron_rate(k as usize)))
    }

    /// EDN: view of hidden layer k's apical error a = eᵗ_{k+1}·Y − rᴵ·W^IP (the same as `apical`).
    #[wasm_bindgen(js_name = apicalError)]
    pub fn apical_error(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.edn("apicalError")?.apical_error(k as usize)))
    }

    /// EDN: view of layer k's nudged rate eᵗ after the top-down sweep.
    #[wasm_bindgen(js_name = nudgedRate)]
    pub fn nudged_rate(&self, k: u32) -> Result<Float32Array, JsError> {
        self.layer(k)?;
        Ok(view(self.edn("nudgedRate")?.nudged_rate(k as usize)))
    }

    /// View of the current batch's input (rows × pixels, in [0, 1]).
    pub fn input(&self) -> Float32Array {
        view(self.trainer.net.network().input())
    }

    /// View of the output event rates (rows × outputs).
    pub fn output(&self) -> Float32Array {
        view(self.trainer.net.network().output())
    }

    /// Bytes of wasm memory in use (changes exactly when views must be refreshed).
    #[wasm_bindgen(js_name = memoryBytes)]
    pub fn memory_bytes() -> f64 {
        (core::arch::wasm32::memory_size(0) * 65536) as f64
    }

    /// Name of the kernels in use.
    #[wasm_bindgen(js_name = kernelName)]
    pub fn kernel_name(&self) -> String {
        self.trainer.net.kernels().name().to_string()
    }

    /// Use other kernels ("scalar" or the build's SIMD kernels), e.g. for comparisons.
    #[wasm_bindgen(js_name = setKernels)]
    pub fn set_kernels(&mut self, name: &str) -> Result<(), JsError> {
        let k = kernels::by_name(name)
            .ok_or_else(|| JsError::new(&format!("unknown kernels `{name}`; this build has: {}", kernels::available().join(", "))))?;
        self.trainer.net.set_kernels(k);
        Ok(())
    }
}

/// A Float32Array over `s` in wasm memory.
fn view(s: &[f32]) -> Float32Array {
    // SAFETY: the view is only valid until wasm memory grows or the buffer is reallocated;
    // the module documentation tells callers to take fresh views after every call.
    unsafe { Float32Array::view(s) }
}

/// A minimal network used only while swapping trainers (never observed by callers).
fn placeholder_network() -> Network {
    Network::new(Config { layers: alloc::vec![1, 1], batch_size: 1, ..Config::default() }).expect("valid")
}

/// Benchmarks for `make bench` (run inside a Web Worker by the page's bench harness).
#[wasm_bindgen]
pub struct Bench;

#[wasm_bindgen]
impl Bench {
    /// GFLOP/s of one product `kind` ("nt" forward, "nn" backward, "tn" update) of shape
    /// m × n × k with the named kernels, over at least `min_ms` milliseconds.
    pub fn gemm(kernel: &str, kind: &str, m: u32, n: u32, k: u32, min_ms: f64) -> Result<f64, JsError> {
        use crate::kernels::{MatMut, MatRef};
        let kern = kernels::by_name(kernel).ok_or_else(|| JsError::new(&format!("unknown kernels `{kernel}`")))?;
        let (m, n, k) = (m as usize, n as usize, k as usize);
        let mut rng = crate::rng::Random::new(1, 1);
        let mut rand = |len: usize| -> Vec<f32> { (0..len).map(|_| rng.uniform()).collect() };
        let (a, b) = match kind {
            "nt" => (rand(m * k), rand(n * k)),
            "nn" => (rand(m * k), rand(k * n)),
            "tn" => (rand(k * m), rand(k * n)),
            _ => return Err(JsError::new("kind must be nt, nn or tn")),
        };
        let mut c = rand(m * n);
        let mut run = || match kind {
            "nt" => kern.gemm_nt(1.0, MatRef::new(&a, m, k), MatRef::new(&b, n, k), 0.0, MatMut::new(&mut c, m, n)),
            "nn" => kern.gemm_nn(1.0, MatRef::new(&a, m, k), MatRef::new(&b, k, n), 0.0, MatMut::new(&mut c, m, n)),
            _ => kern.gemm_tn(1e-6, MatRef::new(&a, k, m), MatRef::new(&b, k, n), 1.0, MatMut::new(&mut c, m, n)),
        };
        run();
        let start = js_sys::Date::now();
        let mut calls = 0u32;
        while js_sys::Date::now() - start < min_ms || calls < 3 {
            run();
            calls += 1;
        }
        let secs = (js_sys::Date::now() - start) / 1000.0;
        Ok(2.0 * (m * n * k) as f64 * f64::from(calls) / secs / 1e9)
    }
}
