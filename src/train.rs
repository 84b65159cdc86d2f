//! Epochs over a dataset: a seeded shuffled order, batches of `batch_size`, evaluation with a
//! confusion matrix. Shared by the command line and the browser worker.

use alloc::vec;
use alloc::vec::Vec;

use crate::data::Dataset;
use crate::model::{Network, StepReport};
use crate::rng::Random;
use crate::Error;

const STREAM_ORDER: u64 = 4;

/// A network plus where it is in its pass over the training set.
pub struct Trainer {
    /// The network being trained.
    pub net: Network,
    order: Vec<u32>,
    cursor: usize,
    epochs_done: u32,
    rng: Random,
    batch_pixels: Vec<u8>,
    batch_labels: Vec<u8>,
}

impl Trainer {
    /// Start at the beginning of epoch 1, with an order drawn from the network's seed.
    pub fn new(net: Network, train_len: usize) -> Self {
        let mut rng = Random::new(net.config().seed, STREAM_ORDER);
        let mut order: Vec<u32> = (0..train_len as u32).collect();
        rng.shuffle(&mut order);
        Trainer { net, order, cursor: 0, epochs_done: 0, rng, batch_pixels: Vec::new(), batch_labels: Vec::new() }
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
    pub fn step(&mut self, data: &Dataset, diagnostics: bool) -> Result<(StepReport, bool), Error> {
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
        let batch = self.net.config().batch_size.min(self.order.len() - self.cursor);
        let p = data.pixels();
        self.batch_pixels.resize(batch * p, 0);
        self.batch_labels.resize(batch, 0);
        for (r, &idx) in self.order[self.cursor..self.cursor + batch].iter().enumerate() {
            let idx = idx as usize;
            self.batch_pixels[r * p..(r + 1) * p].copy_from_slice(data.image(idx));
            self.batch_labels[r] = data.labels[idx];
        }
        self.net.load_images_u8(&self.batch_pixels)?;
        let report = self.net.train_step(&self.batch_labels, diagnostics)?;
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
        let mut rng = Random::new(self.net.config().seed, STREAM_ORDER);
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

/// Classify every image of `data` (forward pass only) and score it.
pub fn evaluate(net: &Network, data: &Dataset) -> Result<Evaluation, Error> {
    let outputs = *net.config().layers.last().unwrap();
    let (predictions, sse) = net.classify_u8(&data.images, Some(&data.labels))?;
    let mut confusion = vec![0u32; outputs * outputs];
    let mut wrong = 0usize;
    for (&p, &t) in predictions.iter().zip(&data.labels) {
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
