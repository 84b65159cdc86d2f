//! A training set that arrives in pieces, and the first pass over it.
//!
//! The browser streams MNIST's training images and starts learning from the first few
//! thousand while the rest download. [`GrowingSet`] takes the images file's 16-byte IDX header
//! and the whole (small) labels file first, reserves room for every image the header promises
//! (so the pixels are held once, never copied into a bigger buffer), then accepts whole images
//! as they arrive. Once complete it becomes a plain [`Dataset`] without copying.
//!
//! [`FirstPass`] chooses batches while the set grows. It keeps the images that have arrived
//! but not yet been trained on, and fills each batch with a random choice among them, so the
//! first pass sees every image once, in random order, as in an ordinary epoch. When training
//! runs ahead of the download (fewer unseen images than a batch), the batch is topped up with
//! random images already seen rather than waiting. The first epoch ends when every image has
//! arrived and been seen; later epochs are the usual shuffled passes over the full set. The
//! choice of batches depends on how fast the data arrives, so a run is reproducible from its
//! seed only from the second epoch on (or when the set was complete before training began).

use alloc::format;
use alloc::vec::Vec;

use crate::data::{self, Dataset};
use crate::rng::Random;
use crate::Error;

/// Bytes of the images file's header: magic, count, rows, columns (big-endian `u32`s).
pub const IMAGES_HEADER_BYTES: usize = 16;

/// Stream of the seed for the first pass's choices (the trainer's epochs use stream 4).
const STREAM_FIRST_PASS: u64 = 5;

/// Training images arriving in order, with all their labels known up front.
#[derive(Debug)]
pub struct GrowingSet {
    images: Vec<u8>,
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
}

impl GrowingSet {
    /// Start from the images file's first bytes (at least its 16-byte header; raw IDX, not gzip)
    /// and the whole labels file (raw or gzip). Checks the header and the labels, and reserves
    /// room for every promised image. Bytes after the header in `header` are ignored.
    pub fn new(header: &[u8], labels: &[u8]) -> Result<GrowingSet, Error> {
        let (count, rows, cols) = parse_images_header(header)?;
        let bytes = count
            .checked_mul(rows * cols)
            .filter(|&b| b <= data::MAX_FILE_BYTES)
            .ok_or_else(|| Error::Data(format!("images file promises {count} images of {rows}×{cols}: more than this page can hold")))?;
        let labels = data::parse_labels(labels)?;
        if labels.len() != count {
            return Err(Error::Data(format!(
                "the images file has {count} images but the labels file has {} labels",
                labels.len()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| l > 9) {
            return Err(Error::Data(format!("label {bad} is not a digit 0–9")));
        }
        let mut images = Vec::new();
        images.try_reserve_exact(bytes).map_err(|_| Error::Data(format!("not enough memory for {count} images of {rows}×{cols}")))?;
        Ok(GrowingSet { images, labels, rows, cols })
    }

    /// Add whole images (a multiple of the image size), in file order. Returns how many have
    /// arrived. On error nothing is added.
    pub fn append(&mut self, pixels: &[u8]) -> Result<usize, Error> {
        let p = self.pixels();
        if !pixels.len().is_multiple_of(p) {
            return Err(Error::Data(format!("{} bytes are not whole images of {p} pixels", pixels.len())));
        }
        let room = self.len() * p - self.images.len();
        if pixels.len() > room {
            return Err(Error::Data(format!(
                "images file has more data than its header promises ({} images)",
                self.len()
            )));
        }
        self.images.extend_from_slice(pixels);
        Ok(self.arrived())
    }

    /// Images the header promises.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the header promises no image at all.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Images that have arrived.
    pub fn arrived(&self) -> usize {
        self.images.len() / self.pixels()
    }

    /// Every promised image has arrived.
    pub fn is_complete(&self) -> bool {
        self.arrived() == self.len()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i` (it must have arrived) and its label.
    pub fn image(&self, i: usize) -> (&[u8], u8) {
        let p = self.pixels();
        (&self.images[i * p..(i + 1) * p], self.labels[i])
    }

    /// The complete set as a [`Dataset`] (no copy), or the set back if images are missing.
    pub fn into_dataset(self) -> Result<Dataset, GrowingSet> {
        if !self.is_complete() {
            return Err(self);
        }
        Ok(Dataset { images: self.images, labels: self.labels, rows: self.rows, cols: self.cols })
    }
}

/// Parse the 16-byte header of an IDX images file: (count, rows, cols).
pub fn parse_images_header(bytes: &[u8]) -> Result<(usize, usize, usize), Error> {
    if bytes.len() < 4 {
        return Err(Error::Data(format!("images file is too short to be IDX ({} bytes)", bytes.len())));
    }
    if bytes[..4] != [0, 0, 0x08, 3] {
        return Err(Error::Data(format!(
            "images file has the wrong magic number {:02x}{:02x}{:02x}{:02x} (expected 00000803: IDX, unsigned bytes, 3 dimension(s))",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    if bytes.len() < IMAGES_HEADER_BYTES {
        return Err(Error::Data("images file is truncated inside its header".into()));
    }
    let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
    let (count, rows, cols) = (be(4), be(8), be(12));
    if rows == 0 || cols == 0 || rows > 4096 || cols > 4096 {
        return Err(Error::Data(format!("images file has impossible image size {rows}×{cols}")));
    }
    Ok((count, rows, cols))
}

/// Batches for the first epoch over a set that is still arriving (see the module docs).
#[derive(Clone, Debug)]
pub struct FirstPass {
    /// Arrived, not yet trained on.
    unseen: Vec<u32>,
    /// Images admitted so far (indices `0..admitted` have arrived).
    admitted: usize,
    /// Images the full set will have.
    total: usize,
    /// Batches that had to revisit seen images because the download lagged behind.
    revisits: u64,
    rng: Random,
}

impl FirstPass {
    /// A first pass over `total` images, its choices drawn from `seed`.
    pub fn new(seed: u64, total: usize) -> FirstPass {
        FirstPass { unseen: Vec::with_capacity(total), admitted: 0, total, revisits: 0, rng: Random::new(seed, STREAM_FIRST_PASS) }
    }

    /// Images `0..arrived` are now available.
    pub fn admit(&mut self, arrived: usize) {
        let arrived = arrived.min(self.total);
        self.unseen.extend((self.admitted..arrived).map(|i| i as u32));
        self.admitted = self.admitted.max(arrived);
    }

    /// Distinct images trained on so far in this pass.
    pub fn seen(&self) -> usize {
        self.admitted - self.unseen.len()
    }

    /// Fraction of the epoch done: distinct images seen over the full set's size.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 { 0.0 } else { self.seen() as f64 / self.total as f64 }
    }

    /// Images trained on again because the download was behind (counted per image).
    pub fn revisits(&self) -> u64 {
        self.revisits
    }

    /// Every image has arrived and been seen: the first epoch is over.
    pub fn is_done(&self) -> bool {
        self.admitted == self.total && self.unseen.is_empty()
    }

    /// The next batch's indices into `out`: up to `batch` unseen images at random; while the set
    /// is incomplete, topped up to `batch` with random images already seen. Empty only when
    /// nothing has arrived, or the pass is done. Returns how many are unseen ones (they come
    /// first in `out`).
    pub fn next_batch(&mut self, batch: usize, out: &mut Vec<u32>) -> usize {
        out.clear();
        while out.len() < batch && !self.unseen.is_empty() {
            let j = self.rng.below(self.unseen.len() as u32) as usize;
            out.push(self.unseen.swap_remove(j));
        }
        let fresh = out.len();
        if self.admitted < self.total && self.admitted > 0 {
            // The download lags: rather than wait, revisit images seen before.
            while out.len() < batch {
                out.push(self.rng.below(self.admitted as u32));
                self.revisits += 1;
            }
        }
        fresh
    }

    /// Undo a batch whose step failed: its unseen images (the first `fresh` of `next_batch`'s
    /// output) are unseen again.
    pub fn put_back(&mut self, fresh: &[u32]) {
        self.unseen.extend_from_slice(fresh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(count: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut h = alloc::vec![0, 0, 8, 3];
        for v in [count, rows, cols] {
            h.extend_from_slice(&v.to_be_bytes());
        }
        h
    }

    fn labels(l: &[u8]) -> Vec<u8> {
        let mut f = alloc::vec![0, 0, 8, 1];
        f.extend_from_slice(&(l.len() as u32).to_be_bytes());
        f.extend_from_slice(l);
        f
    }

    #[test]
    fn grows_in_whole_images_into_a_dataset_without_copying() {
        let mut set = GrowingSet::new(&header(3, 2, 2), &labels(&[1, 2, 3])).unwrap();
        let start = set.images.as_ptr();
        assert!(set.images.capacity() >= 12);
        assert_eq!(set.append(&[1, 1, 1, 1]).unwrap(), 1);
        assert!(set.append(&[9, 9, 9]).is_err(), "part of an image");
        assert_eq!(set.append(&[2, 2, 2, 2, 3, 3, 3, 3]).unwrap(), 3);
        assert!(set.append(&[4, 4, 4, 4]).unwrap_err().to_string().contains("more data than its header promises"));
        assert_eq!(set.image(1), (&[2u8, 2, 2, 2][..], 2));
        let d = set.into_dataset().unwrap();
        assert_eq!(d.images.as_ptr(), start, "the reserved buffer is the dataset's");
        assert_eq!(d.labels, [1, 2, 3]);
    }

    #[test]
    fn bad_headers_and_labels_are_named() {
        let err = |h: &[u8], l: &[u8]| GrowingSet::new(h, l).unwrap_err().to_string();
        assert!(err(&[0, 0, 8, 1, 0, 0, 0, 0], &labels(&[])).contains("wrong magic number"));
        assert!(err(&header(2, 28, 28)[..10], &labels(&[1, 2])).contains("truncated inside its header"));
        assert!(err(b"ab", &labels(&[])).contains("too short"));
        assert!(err(&header(2, 0, 28), &labels(&[1, 2])).contains("impossible image size"));
        assert!(err(&header(3, 28, 28), &labels(&[1, 2])).contains("3 images but the labels file has 2"));
        assert!(err(&header(2, 28, 28), &labels(&[1, 12])).contains("label 12"));
        assert!(err(&header(2, 28, 28), b"not a labels file").contains("magic"));
        assert!(err(&header(u32::MAX, 4096, 4096), &labels(&[])).contains("more than"));
    }

    #[test]
    fn incomplete_set_is_not_a_dataset() {
        let mut set = GrowingSet::new(&header(2, 1, 1), &labels(&[0, 1])).unwrap();
        set.append(&[5]).unwrap();
        let set = set.into_dataset().unwrap_err();
        assert_eq!(set.arrived(), 1);
    }

    #[test]
    fn first_pass_sees_every_image_once_when_data_keeps_up() {
        let mut pass = FirstPass::new(7, 100);
        let mut seen = alloc::vec![0u32; 100];
        let mut batch = Vec::new();
        let mut arrived = 0;
        while !pass.is_done() {
            arrived = (arrived + 40).min(100);
            pass.admit(arrived);
            pass.next_batch(16, &mut batch);
            for &i in &batch {
                assert!((i as usize) < arrived);
                seen[i as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
        assert_eq!(pass.revisits(), 0);
        assert_eq!(pass.fraction(), 1.0);
    }

    #[test]
    fn first_pass_revisits_when_training_outruns_the_download() {
        let mut pass = FirstPass::new(1, 100);
        let mut batch = Vec::new();
        pass.next_batch(8, &mut batch);
        assert!(batch.is_empty(), "nothing arrived yet");
        pass.admit(5);
        pass.next_batch(8, &mut batch);
        assert_eq!(batch.len(), 8, "topped up while the set grows");
        assert_eq!(pass.seen(), 5);
        assert_eq!(pass.revisits(), 3);
        assert!(batch.iter().all(|&i| i < 5));
        // Complete: the last batch takes what is left and the pass ends.
        pass.admit(100);
        let mut left = 95;
        while !pass.is_done() {
            pass.next_batch(8, &mut batch);
            assert_eq!(batch.len(), left.min(8));
            left -= batch.len();
        }
        pass.next_batch(8, &mut batch);
        assert!(batch.is_empty());
    }

    #[test]
    fn a_failed_step_puts_its_unseen_images_back() {
        let mut pass = FirstPass::new(3, 10);
        pass.admit(6);
        let mut batch = Vec::new();
        let fresh = pass.next_batch(8, &mut batch);
        assert_eq!((fresh, batch.len(), pass.seen()), (6, 8, 6));
        pass.put_back(&batch[..fresh]);
        assert_eq!(pass.seen(), 0);
        pass.admit(10);
        let mut all = Vec::new();
        while !pass.is_done() {
            pass.next_batch(3, &mut batch);
            all.extend_from_slice(&batch);
        }
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<u32>>());
    }

    #[test]
    fn first_pass_is_reproducible_for_one_arrival_schedule() {
        let run = || {
            let mut pass = FirstPass::new(42, 50);
            let mut all = Vec::new();
            let mut batch = Vec::new();
            for a in [10, 20, 50, 50, 50, 50, 50] {
                pass.admit(a);
                pass.next_batch(10, &mut batch);
                all.extend_from_slice(&batch);
            }
            all
        };
        assert_eq!(run(), run());
    }
}
