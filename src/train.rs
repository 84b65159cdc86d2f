//! Epochs over a dataset: a seeded shuffled order, batches of `batch_size`, evaluation with a
//! confusion matrix. Shared by the command line and the browser worker.

use alloc::vec;
use alloc::vec::Vec;

use crate::data::Dataset;
use crate::model::{AnyModel, Network, StepReport};
use crate::rng::Random;
use crate::Error;

const STREAM_ORDER: u64 = 4;
/// Stream of the training-time augmentation (CIFAR-10's random crops and flips, MNIST's shifts).
const STREAM_AUGMENT: u64 = 6;

/// A labelled set of inputs the trainer and the evaluation read, whatever the data: it knows
/// how to turn its stored sample (e.g. `u8` pixels) into the network's input values.
pub trait Samples {
    /// Number of samples.
    fn len(&self) -> usize;
    /// True when there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Input values per sample.
    fn input_len(&self) -> usize;
    /// Label of sample `i`.
    fn label(&self, i: usize) -> u8;
    /// Write sample `i` into `out` (`input_len` values). With `augment`, a training-time
    /// random transformation drawn from it is applied (data that has none ignores it).
    fn write(&self, i: usize, augment: Option<&mut Random>, out: &mut [f32]);
}

/// CIFAR-10: normalised per channel; with `augment`, padded by 4, randomly cropped and flipped
/// (REFERENCE.md §2.2). The network takes NHWC (channel fastest), the files hold RGB planes.
impl Samples for crate::cifar::ImageSet {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn input_len(&self) -> usize {
        crate::cifar::IMAGE_BYTES
    }
    fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }
    fn write(&self, i: usize, augment: Option<&mut Random>, out: &mut [f32]) {
        use crate::cifar::{augment_image_hwc, normalise_image_hwc, Crop, IMAGE_BYTES};
        let out: &mut [f32; IMAGE_BYTES] = (&mut out[..IMAGE_BYTES]).try_into().expect("IMAGE_BYTES");
        match augment {
            Some(rng) => augment_image_hwc(self.image(i), Crop::random(rng), out),
            None => normalise_image_hwc(self.image(i), out),
        }
    }
}

/// Only the first `n` samples of a set (quick runs).
pub struct Take<'a> {
    /// The whole set.
    pub data: &'a dyn Samples,
    /// How many samples to use.
    pub n: usize,
}

impl Samples for Take<'_> {
    fn len(&self) -> usize {
        self.n.min(self.data.len())
    }
    fn input_len(&self) -> usize {
        self.data.input_len()
    }
    fn label(&self, i: usize) -> u8 {
        self.data.label(i)
    }
    fn write(&self, i: usize, augment: Option<&mut Random>, out: &mut [f32]) {
        self.data.write(i, augment, out)
    }
}

/// MNIST: pixels scaled to [0, 1], no augmentation.
impl Samples for Dataset {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn input_len(&self) -> usize {
        self.pixels()
    }
    fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }
    fn write(&self, i: usize, _augment: Option<&mut Random>, out: &mut [f32]) {
        for (x, &p) in out.iter_mut().zip(self.image(i)) {
            *x = f32::from(p) * (1.0 / 255.0);
        }
    }
}

/// MNIST with training-time translations: with `augment`, each image is moved by a random whole
/// number of pixels, from −`max_shift` to +`max_shift` along each axis (drawn independently, so
/// (2·max_shift + 1)² placements), the pixels it uncovers left at 0 (background). Without
/// `augment` (evaluation) the image is unchanged. `max_shift` 0 is plain MNIST.
pub struct Shifted<'a> {
    /// The images.
    pub data: &'a Dataset,
    /// Largest move along each axis, in pixels.
    pub max_shift: usize,
}

impl Samples for Shifted<'_> {
    fn len(&self) -> usize {
        self.data.len()
    }
    fn input_len(&self) -> usize {
        self.data.pixels()
    }
    fn label(&self, i: usize) -> u8 {
        self.data.labels[i]
    }
    fn write(&self, i: usize, augment: Option<&mut Random>, out: &mut [f32]) {
        let (rows, cols, m) = (self.data.rows, self.data.cols, self.max_shift);
        let rng = match augment {
            Some(rng) if m > 0 => rng,
            _ => return self.data.write(i, None, out),
        };
        let span = 2 * m as u32 + 1;
        let dy = rng.below(span) as isize - m as isize;
        let dx = rng.below(span) as isize - m as isize;
        shift_image(self.data.image(i), rows, cols, dy, dx, &mut out[..rows * cols]);
    }
}

/// Write `image` (`rows × cols` u8 pixels) scaled to [0, 1] into `out`, moved down by `dy` and
/// right by `dx` pixels (negative: up, left); what moves out is lost and what it uncovers is 0.
pub fn shift_image(image: &[u8], rows: usize, cols: usize, dy: isize, dx: isize, out: &mut [f32]) {
    out.fill(0.0);
    for r in 0..rows {
        let src_r = r as isize - dy;
        if src_r < 0 || src_r >= rows as isize {
            continue;
        }
        let (src_row, dst_row) = (&image[src_r as usize * cols..][..cols], &mut out[r * cols..][..cols]);
        for (c, dst) in dst_row.iter_mut().enumerate() {
            let src_c = c as isize - dx;
            if src_c >= 0 && src_c < cols as isize {
                *dst = f32::from(src_row[src_c as usize]) * (1.0 / 255.0);
            }
        }
    }
}

/// A model (BurstCCN, Burstprop or EDN) plus where it is in its pass over the training set.
pub struct Trainer {
    /// The model being trained.
    pub net: AnyModel,
    order: Vec<u32>,
    cursor: usize,
    epochs_done: u32,
    rng: Random,
    augment: Random,
    batch_labels: Vec<u8>,
}

impl Trainer {
    /// Start at the beginning of epoch 1, with an order drawn from the model's seed.
    pub fn new(net: impl Into<AnyModel>, train_len: usize) -> Self {
        let net = net.into();
        let seed = net.network_config().seed;
        let mut rng = Random::new(seed, STREAM_ORDER);
        let mut order: Vec<u32> = (0..train_len as u32).collect();
        rng.shuffle(&mut order);
        let augment = Random::new(seed, STREAM_AUGMENT);
        Trainer { net, order, cursor: 0, epochs_done: 0, rng, augment, batch_labels: Vec::new() }
    }

    /// Completed epochs, and samples into the current one.
    pub fn position(&self) -> (u32, usize) {
        (self.epochs_done, self.cursor)
    }

    /// Fractional epochs done.
    pub fn epochs(&self) -> f64 {
        f64::from(self.epochs_done) + if self.order.is_empty() { 0.0 } else { self.cursor as f64 / self.order.len() as f64 }
    }

    /// Train on the next batch. The last batch of an epoch may be smaller; then a new
    /// order is drawn. Returns the step's report and whether it finished an epoch.
    pub fn step(&mut self, data: &dyn Samples, diagnostics: bool) -> Result<(StepReport, bool), Error> {
        self.step_with(data, diagnostics, true)
    }

    /// As [`Trainer::step`], but without a teacher: the labels are not shown to the model
    /// (its output stays at baseline), so the report scores nothing.
    pub fn step_without_teacher(&mut self, data: &dyn Samples, diagnostics: bool) -> Result<(StepReport, bool), Error> {
        self.step_with(data, diagnostics, false)
    }

    fn step_with(&mut self, data: &dyn Samples, diagnostics: bool, teacher: bool) -> Result<(StepReport, bool), Error> {
        if data.len() != self.order.len() {
            return Err(Error::Shape(alloc::format!(
                "trainer was set up for {} training images, got {}",
                self.order.len(),
                data.len()
            )));
        }
        if data.is_empty() {
            return Err(Error::Shape("the training set is empty".into()));
        }
        let n0 = self.net.network_config().input_len();
        if data.input_len() != n0 {
            return Err(Error::Shape(alloc::format!("the network takes {n0} input values, the data has {}", data.input_len())));
        }
        let batch = self.net.network_config().batch_size.min(self.order.len() - self.cursor);
        self.batch_labels.resize(batch, 0);
        let input = self.net.input_for(batch)?;
        for (r, &idx) in self.order[self.cursor..self.cursor + batch].iter().enumerate() {
            let idx = idx as usize;
            data.write(idx, Some(&mut self.augment), &mut input[r * n0..(r + 1) * n0]);
            self.batch_labels[r] = data.label(idx);
        }
        let report = if teacher { self.net.train_step(&self.batch_labels, diagnostics)? } else { self.net.train_step_without_teacher(diagnostics)? };
        self.cursor += batch;
        let finished = self.cursor == self.order.len();
        if finished {
            self.cursor = 0;
            self.epochs_done += 1;
            self.rng.shuffle(&mut self.order);
        }
        Ok((report, finished))
    }

    /// Restore a position (e.g. after loading a snapshot): the order is re-drawn as it would
    /// have been at the start of that epoch.
    pub fn seek(&mut self, epochs_done: u32, cursor: usize) {
        let mut rng = Random::new(self.net.network_config().seed, STREAM_ORDER);
        let mut order: Vec<u32> = (0..self.order.len() as u32).collect();
        rng.shuffle(&mut order);
        for _ in 0..epochs_done {
            rng.shuffle(&mut order);
        }
        self.order = order;
        self.rng = rng;
        self.epochs_done = epochs_done;
        self.cursor = cursor.min(self.order.len());
    }
}

/// Results on a test set.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Evaluation {
    /// Images evaluated.
    pub count: usize,
    /// Fraction misclassified.
    pub error_rate: f64,
    /// Mean squared error over outputs and images.
    pub loss: f64,
    /// `confusion[true][predicted]` counts, row-major 10 × 10 (outputs × outputs in general).
    pub confusion: Vec<u32>,
    /// Predicted class of every image.
    #[serde(skip)]
    pub predictions: Vec<u8>,
}

/// Classify every image of `data` (forward pass only, no augmentation) and score it. Every
/// model's forward pass is its network's, so this takes a [`Network`] or an [`AnyModel`].
pub fn evaluate(net: &impl AsRef<Network>, data: &dyn Samples) -> Result<Evaluation, Error> {
    let net: &Network = net.as_ref();
    let outputs = net.config().outputs();
    let n0 = data.input_len();
    if n0 != net.config().input_len() {
        return Err(Error::Shape(alloc::format!("the network takes {} input values, the data has {n0}", net.config().input_len())));
    }
    let labels: Vec<u8> = (0..data.len()).map(|i| data.label(i)).collect();
    let (predictions, sse) = net.classify(data.len(), Some(&labels), |start, x| {
        for (r, out) in x.chunks_exact_mut(n0).enumerate() {
            data.write(start + r, None, out);
        }
    })?;
    let mut confusion = vec![0u32; outputs * outputs];
    let mut wrong = 0usize;
    for (&p, &t) in predictions.iter().zip(&labels) {
        let (p, t) = (usize::from(p), usize::from(t));
        if t < outputs {
            confusion[t * outputs + p] += 1;
        }
        if p != t {
            wrong += 1;
        }
    }
    let count = data.len();
    Ok(Evaluation {
        count,
        error_rate: if count == 0 { 0.0 } else { wrong as f64 / count as f64 },
        loss: if count == 0 { 0.0 } else { sse / (count * outputs) as f64 },
        confusion,
        predictions,
    })
}
