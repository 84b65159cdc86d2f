//! CIFAR-10 in its official binary form, read from bytes as they arrive and kept as `u8`
//! (60,000 images are 184 MB as bytes; they would be 737 MB as `f32`), plus the authors'
//! augmentation and normalisation into a caller's `f32` batch buffer.
//!
//! Accepted inputs, in any mix:
//! - `cifar-10-binary.tar.gz` exactly as downloaded from <https://www.cs.toronto.edu/~kriz/cifar.html>
//!   (a gzip'd tar holding `cifar-10-batches-bin/data_batch_1.bin … data_batch_5.bin, test_batch.bin`),
//!   or the same tar without gzip;
//! - the extracted batch files, each named as in the archive (optionally gzip'd, `….bin.gz`).
//!
//! A batch file is a sequence of 3,073-byte records: one label byte (0–9), then 3,072 pixel
//! bytes — the red plane, the green plane, the blue plane, each 32×32 row-major. Records
//! are copied straight from the decompressed stream into one training and one test buffer,
//! so neither the archive nor a decompressed copy of it is ever held: besides the images
//! the reader needs about 110 KB. A [`Reader`] takes the input in chunks (a network stream,
//! a dropped browser File); [`from_bytes`], [`from_files`] and, natively, [`load_path`] wrap it.
//!
//! Every malformed input is an [`Error::Data`] naming the file and what is wrong, never a
//! panic: a truncated record or archive, a size that is not a whole number of records, a
//! label above 9, a corrupt gzip or tar, missing or repeated batches, or another file
//! altogether (the Python or MATLAB version, CIFAR-100, MNIST, a ZIP…).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::archive::{is_tar_header, Gunzip, TarVisitor, Untar};
use crate::rng::Random;
use crate::Error;

/// Image side, pixels.
pub const SIDE: usize = 32;
/// Colour channels (red, green, blue).
pub const CHANNELS: usize = 3;
/// Bytes (= pixels × channels) per image.
pub const IMAGE_BYTES: usize = CHANNELS * SIDE * SIDE;
/// Bytes per record in a batch file: the label, then the image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Records in each official batch file (a file may hold fewer, never more).
pub const BATCH_RECORDS: usize = 10_000;
/// The batch files: five training batches, then the test batch.
pub const BATCH_FILES: [&str; 6] =
    ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];
/// Class names, by label (as in the archive's `batches.meta.txt`).
pub const CLASSES: [&str; 10] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
/// Where users get the data.
pub const DOWNLOAD_URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/// The environment variable the command line reads for the data's location.
pub const ENV_VAR: &str = "BURSTCCN_CIFAR10";

/// Images and their labels, in file order (data_batch_1 … data_batch_5 for training).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageSet {
    /// `count × 3 × 32 × 32` bytes: per image the red, green and blue planes, row-major.
    pub images: Vec<u8>,
    /// `count` labels, 0–9 (see [`CLASSES`]).
    pub labels: Vec<u8>,
}

/// The training set (50,000 images) and the test set (10,000).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cifar10 {
    /// data_batch_1.bin … data_batch_5.bin, in that order.
    pub train: ImageSet,
    /// test_batch.bin.
    pub test: ImageSet,
}

impl Cifar10 {
    /// Bytes held by both sets (exactly 184,380,000 for the full CIFAR-10).
    pub fn bytes_held(&self) -> usize {
        self.train.bytes_held() + self.test.bytes_held()
    }
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`'s bytes (red, green, blue planes). Panics if `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8; IMAGE_BYTES] {
        self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES].try_into().expect("IMAGE_BYTES")
    }

    /// Bytes held (allocated capacity of both buffers).
    pub fn bytes_held(&self) -> usize {
        self.images.capacity() + self.labels.capacity()
    }

    fn check_batch(&self, indices: &[usize], out: &[f32]) -> Result<(), Error> {
        if out.len() != indices.len() * IMAGE_BYTES {
            return Err(Error::Shape(format!(
                "a batch of {} CIFAR-10 images needs {} floats ({} × 3 × 32 × 32), the buffer has {}",
                indices.len(),
                indices.len() * IMAGE_BYTES,
                indices.len(),
                out.len()
            )));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::Shape(format!("image index {bad} is out of range (the set has {} images)", self.len())));
        }
        Ok(())
    }

    /// A training batch as the authors feed it: each image zero-padded by 4 pixels, cropped to
    /// 32×32 at a random offset, flipped horizontally with probability ½, and normalised (see
    /// [`augment_image`]). `out` receives `indices.len() × 3 × 32 × 32` floats, NCHW (per image
    /// the R, G, B planes). The crops are drawn from `rng` in index order ([`Crop::random`]),
    /// so a seed reproduces the batch.
    pub fn augmented_batch(&self, indices: &[usize], rng: &mut Random, out: &mut [f32]) -> Result<(), Error> {
        self.check_batch(indices, out)?;
        for (&i, dst) in indices.iter().zip(out.chunks_exact_mut(IMAGE_BYTES)) {
            let crop = Crop::random(rng);
            augment_image(self.image(i), crop, dst.try_into().expect("IMAGE_BYTES"));
        }
        Ok(())
    }

    /// A test batch: normalised, not augmented. Same layout as [`ImageSet::augmented_batch`].
    pub fn normalised_batch(&self, indices: &[usize], out: &mut [f32]) -> Result<(), Error> {
        self.check_batch(indices, out)?;
        for (&i, dst) in indices.iter().zip(out.chunks_exact_mut(IMAGE_BYTES)) {
            normalise_image(self.image(i), dst.try_into().expect("IMAGE_BYTES"));
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------
// Augmentation and normalisation (REFERENCE.md §2.2: torchvision's RandomCrop(32, padding=4),
// RandomHorizontalFlip(), ToTensor(), Normalize(mean, std), in that order).

/// Per-channel mean the authors normalise with (ImageNet's), on the [0, 1] scale.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// Per-channel standard deviation the authors normalise with (ImageNet's).
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Zero pixels added on every side before the random crop.
pub const PAD: usize = 4;

/// `NORMALISED[c][v] = (v / 255 − MEAN[c]) / STD[c]`, evaluated in `f32` step by step as
/// torchvision does (`ToTensor` divides by 255, `Normalize` subtracts, then divides), so the
/// values are bit-identical to the authors' tensors. Padding is the byte 0 before
/// normalisation, so a padded pixel is `NORMALISED[c][0] = −MEAN[c]/STD[c]`.
pub const NORMALISED: [[f32; 256]; 3] = normalisation_table();

const fn normalisation_table() -> [[f32; 256]; 3] {
    let mut t = [[0.0f32; 256]; 3];
    let mut c = 0;
    while c < 3 {
        let mut v = 0;
        while v < 256 {
            t[c][v] = (v as f32 / 255.0 - MEAN[c]) / STD[c];
            v += 1;
        }
        c += 1;
    }
    t
}

/// Where a training image is cut from its padded 40×40 version, and whether it is mirrored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crop {
    /// Top row of the crop in the padded image, 0..=8 (4 = no shift).
    pub top: usize,
    /// Left column of the crop in the padded image, 0..=8.
    pub left: usize,
    /// Mirror left–right (after cropping).
    pub flip: bool,
}

impl Crop {
    /// The unshifted, unmirrored crop: the image itself.
    pub const IDENTITY: Crop = Crop { top: PAD, left: PAD, flip: false };

    /// Uniform offsets in 0..=8 in each axis, then a fair coin for the flip (torchvision's
    /// order of draws: top, left, flip).
    pub fn random(rng: &mut Random) -> Crop {
        let span = 2 * PAD as u32 + 1;
        let top = rng.below(span) as usize;
        let left = rng.below(span) as usize;
        let flip = rng.below(2) == 1;
        Crop { top, left, flip }
    }
}

/// Normalise one image into `out` (R, G, B planes) without augmentation.
pub fn normalise_image(image: &[u8; IMAGE_BYTES], out: &mut [f32; IMAGE_BYTES]) {
    for ((src, dst), table) in image.chunks_exact(SIDE * SIDE).zip(out.chunks_exact_mut(SIDE * SIDE)).zip(&NORMALISED) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = table[usize::from(s)];
        }
    }
}

/// Pad `image` with 4 zero pixels on every side, cut the 32×32 window at (`crop.top`,
/// `crop.left`) of the padded image, mirror it if `crop.flip`, and normalise, into `out`.
/// Offsets beyond 8 simply show more padding.
pub fn augment_image(image: &[u8; IMAGE_BYTES], crop: Crop, out: &mut [f32; IMAGE_BYTES]) {
    // Output column x reads source column left + x − PAD; these x read inside the image.
    let first = PAD.saturating_sub(crop.left).min(SIDE);
    let end = (SIDE + PAD).saturating_sub(crop.left).min(SIDE);
    let src_first = (first + crop.left).saturating_sub(PAD);
    let width = end - first;
    // Mirrored, output column x shows the unmirrored column 31 − x.
    let (out_first, out_end) = if crop.flip { (SIDE - end, SIDE - first) } else { (first, end) };
    for ((src, dst), table) in image.chunks_exact(SIDE * SIDE).zip(out.chunks_exact_mut(SIDE * SIDE)).zip(&NORMALISED) {
        let pad = table[0];
        for (y, row) in dst.chunks_exact_mut(SIDE).enumerate() {
            let sy = (crop.top + y).wrapping_sub(PAD);
            if sy >= SIDE || width == 0 {
                row.fill(pad);
                continue;
            }
            let from = &src[sy * SIDE + src_first..sy * SIDE + src_first + width];
            row[..out_first].fill(pad);
            row[out_end..].fill(pad);
            let to = &mut row[out_first..out_end];
            if crop.flip {
                for (d, &s) in to.iter_mut().zip(from.iter().rev()) {
                    *d = table[usize::from(s)];
                }
            } else {
                for (d, &s) in to.iter_mut().zip(from) {
                    *d = table[usize::from(s)];
                }
            }
        }
    }
}

/// As [`normalise_image`], but channel-fastest (HWC: per pixel R, G, B), for NHWC networks.
pub fn normalise_image_hwc(image: &[u8; IMAGE_BYTES], out: &mut [f32; IMAGE_BYTES]) {
    let area = SIDE * SIDE;
    let (r, g, b) = (&image[..area], &image[area..2 * area], &image[2 * area..]);
    for (((px, &r), &g), &b) in out.chunks_exact_mut(CHANNELS).zip(r).zip(g).zip(b) {
        px[0] = NORMALISED[0][usize::from(r)];
        px[1] = NORMALISED[1][usize::from(g)];
        px[2] = NORMALISED[2][usize::from(b)];
    }
}

/// As [`augment_image`], but channel-fastest (HWC: per pixel R, G, B), for NHWC networks.
pub fn augment_image_hwc(image: &[u8; IMAGE_BYTES], crop: Crop, out: &mut [f32; IMAGE_BYTES]) {
    let first = PAD.saturating_sub(crop.left).min(SIDE);
    let end = (SIDE + PAD).saturating_sub(crop.left).min(SIDE);
    let src_first = (first + crop.left).saturating_sub(PAD);
    let (out_first, out_end) = if crop.flip { (SIDE - end, SIDE - first) } else { (first, end) };
    let pad = [NORMALISED[0][0], NORMALISED[1][0], NORMALISED[2][0]];
    let area = SIDE * SIDE;
    for (y, row) in out.chunks_exact_mut(SIDE * CHANNELS).enumerate() {
        let sy = (crop.top + y).wrapping_sub(PAD);
        if sy >= SIDE || first == end {
            row.chunks_exact_mut(CHANNELS).for_each(|px| px.copy_from_slice(&pad));
            continue;
        }
        let at = sy * SIDE;
        let (r, g, b) = (&image[at..at + SIDE], &image[area + at..area + at + SIDE], &image[2 * area + at..2 * area + at + SIDE]);
        for (x, px) in row.chunks_exact_mut(CHANNELS).enumerate() {
            if x < out_first || x >= out_end {
                px.copy_from_slice(&pad);
                continue;
            }
            // Mirrored, output column x shows the unmirrored column 31 − x.
            let sx = if crop.flip { src_first + (out_end - 1 - x) } else { src_first + (x - out_first) };
            px[0] = NORMALISED[0][usize::from(r[sx])];
            px[1] = NORMALISED[1][usize::from(g[sx])];
            px[2] = NORMALISED[2][usize::from(b[sx])];
        }
    }
}

// ------------------------------------------------------------------------------------------
// Reading.

fn data(m: impl Into<String>) -> Error {
    Error::Data(m.into())
}

fn not_cifar(m: &str) -> Error {
    data(format!("this is not CIFAR-10: {m}"))
}

fn cifar100_error() -> Error {
    not_cifar(&format!(
        "it looks like CIFAR-100 (3,074-byte records with a coarse and a fine label); download CIFAR-10's binary version, {DOWNLOAD_URL}"
    ))
}

/// One of the six batch files: 0–4 are data_batch_1–5, 5 is test_batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Batch(usize);

impl Batch {
    const TEST: Batch = Batch(5);

    /// From a file name (any directory part and a `.gz` suffix removed first).
    fn from_name(name: &str) -> Option<Batch> {
        let base = base_name(name);
        let base = base.strip_suffix(".gz").unwrap_or(base);
        BATCH_FILES.iter().position(|&f| f == base).map(Batch)
    }

    fn file_name(self) -> &'static str {
        BATCH_FILES[self.0]
    }
}

/// The last component of a path, `/` or `\` separated.
fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Refuse the other CIFAR distributions by the names of the files inside them.
fn check_member_name(path: &str) -> Result<(), Error> {
    let base = base_name(path);
    let batch_stem = base.starts_with("data_batch_") || base.starts_with("test_batch");
    if path.contains("cifar-10-batches-py") || (batch_stem && !base.contains('.')) {
        return Err(not_cifar(&format!(
            "this is the Python version of CIFAR-10 (pickled batches, {path}); download the binary version, {DOWNLOAD_URL}"
        )));
    }
    if path.contains("cifar-10-batches-mat") || (batch_stem && base.ends_with(".mat")) {
        return Err(not_cifar(&format!("this is the MATLAB version of CIFAR-10 ({path}); download the binary version, {DOWNLOAD_URL}")));
    }
    if path.contains("cifar-100") || matches!(base, "train.bin" | "test.bin" | "coarse_label_names.txt" | "fine_label_names.txt") {
        return Err(cifar100_error());
    }
    Ok(())
}

/// A batch being written: its records are appended to its set's buffers as they arrive.
#[derive(Debug)]
struct OpenBatch {
    batch: Batch,
    /// The file or archive member it comes from, for messages.
    name: String,
    /// Index in the set of its first record.
    start: usize,
    /// Bytes received.
    bytes: u64,
    /// Position within the current record (0 = at a label).
    pos: usize,
}

/// The two sets under construction. Batches are appended as they arrive (an archive need not
/// be in order) and rotated into file order as each completes, in place.
#[derive(Debug, Default)]
struct Builder {
    train: ImageSet,
    test: ImageSet,
    /// Records of each batch received (0 = not yet; batches are never empty).
    present: [usize; 6],
    open: Option<OpenBatch>,
}

impl Builder {
    fn set(&mut self, batch: Batch) -> &mut ImageSet {
        if batch == Batch::TEST { &mut self.test } else { &mut self.train }
    }

    /// Start receiving `batch` from `name`; `size` is its length in bytes if known
    /// (`exact` when it comes from an archive header, a hint otherwise).
    fn begin(&mut self, batch: Batch, name: &str, size: Option<u64>, exact: bool) -> Result<(), Error> {
        if self.present[batch.0] > 0 || self.open.as_ref().is_some_and(|o| o.batch == batch) {
            return Err(data(format!("{name}: {} appears twice", batch.file_name())));
        }
        if let (Some(size), true) = (size, exact) {
            let rec = RECORD_BYTES as u64;
            if size == 0 {
                return Err(data(format!("{name} is empty")));
            }
            if size % rec != 0 {
                if size % (rec + 1) == 0 {
                    return Err(cifar100_error());
                }
                return Err(data(format!(
                    "{name} is {size} bytes, not a whole number of 3,073-byte records ({} records and {} bytes over)",
                    size / rec,
                    size % rec
                )));
            }
            if size / rec > BATCH_RECORDS as u64 {
                return Err(data(format!("{name} holds {} records; a CIFAR-10 batch holds at most 10,000", size / rec)));
            }
        }
        // Reserve once: for the first training batch, room for all five of its size.
        let records = size.map_or(0, |s| (s / RECORD_BYTES as u64).min(BATCH_RECORDS as u64) as usize);
        let set = self.set(batch);
        let reserve = if batch != Batch::TEST && set.images.capacity() == 0 { 5 * records } else { records };
        set.images.try_reserve_exact(reserve * IMAGE_BYTES).map_err(|_| out_of_memory(reserve))?;
        set.labels.try_reserve_exact(reserve).map_err(|_| out_of_memory(reserve))?;
        let start = set.len();
        self.open = Some(OpenBatch { batch, name: name.to_string(), start, bytes: 0, pos: 0 });
        Ok(())
    }

    /// The next bytes of the open batch.
    fn write(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        let Some(open) = self.open.as_mut() else { return Err(data("internal error: CIFAR-10 records outside a batch")) };
        let set = if open.batch == Batch::TEST { &mut self.test } else { &mut self.train };
        // Reserve exactly what this chunk adds (a no-op when the batch's size was known), so an
        // exactly reserved buffer never grows by doubling.
        let first_label = (RECORD_BYTES - open.pos) % RECORD_BYTES;
        let labels = if bytes.len() > first_label { (bytes.len() - 1 - first_label) / RECORD_BYTES + 1 } else { 0 };
        set.images.try_reserve(bytes.len() - labels).map_err(|_| out_of_memory(labels))?;
        set.labels.try_reserve(labels).map_err(|_| out_of_memory(labels))?;
        open.bytes += bytes.len() as u64;
        while !bytes.is_empty() {
            if open.pos == 0 {
                if set.len() - open.start == BATCH_RECORDS {
                    return Err(too_long(set, open));
                }
                // Labels are checked when the batch is complete, with the whole file in view.
                set.labels.push(bytes[0]);
                open.pos = 1;
                bytes = &bytes[1..];
            } else {
                let take = (RECORD_BYTES - open.pos).min(bytes.len());
                set.images.extend_from_slice(&bytes[..take]);
                open.pos = (open.pos + take) % RECORD_BYTES;
                bytes = &bytes[take..];
            }
        }
        Ok(())
    }

    /// The open batch is complete: check it and move it into file order.
    fn end(&mut self) -> Result<(), Error> {
        let Some(open) = self.open.take() else { return Ok(()) };
        let set = if open.batch == Batch::TEST { &mut self.test } else { &mut self.train };
        let n = set.len() - open.start;
        let name = &open.name;
        if open.bytes == 0 {
            return Err(data(format!("{name} is empty")));
        }
        let bad_label = set.labels[open.start..].iter().position(|&l| l > 9);
        if open.pos != 0 || bad_label.is_some() {
            if looks_like_cifar100(set, &open, true) {
                return Err(cifar100_error());
            }
            if open.pos != 0 {
                let (rec, over) = (open.bytes / RECORD_BYTES as u64, open.bytes % RECORD_BYTES as u64);
                return Err(data(format!(
                    "{name} is {} bytes, not a whole number of 3,073-byte records ({rec} records and {over} bytes over): truncated, or not CIFAR-10",
                    open.bytes
                )));
            }
            let k = bad_label.unwrap_or(0);
            return Err(data(format!(
                "{name}: record {} has label {}, but CIFAR-10's labels are 0–9: not CIFAR-10, or a damaged file",
                k + 1,
                set.labels[open.start + k]
            )));
        }
        if open.batch != Batch::TEST {
            // Records of the batches before this one, which stay in front of it.
            let before: usize = self.present[..open.batch.0].iter().sum();
            self.train.images[before * IMAGE_BYTES..].rotate_right(n * IMAGE_BYTES);
            self.train.labels[before..].rotate_right(n);
        }
        self.present[open.batch.0] = n;
        Ok(())
    }

    fn missing(&self) -> Vec<&'static str> {
        (0..6).filter(|&b| self.present[b] == 0).map(|b| BATCH_FILES[b]).collect()
    }

    fn bytes_held(&self) -> usize {
        self.train.bytes_held() + self.test.bytes_held()
    }
}

fn out_of_memory(records: usize) -> Error {
    data(format!("not enough memory to hold {records} more CIFAR-10 images ({} MB)", records * RECORD_BYTES / 1_000_000))
}

fn too_long(set: &ImageSet, open: &OpenBatch) -> Error {
    if looks_like_cifar100(set, open, false) {
        return cifar100_error();
    }
    data(format!("{} holds more than 10,000 records: not a CIFAR-10 batch", open.name))
}

/// Does the batch received so far read as CIFAR-100 records (a coarse label below 20 and a
/// fine label below 100 at the start of every 3,074-byte record)? Looks at up to 8 records,
/// and needs at least 2 unless the batch is exactly one such record.
fn looks_like_cifar100(set: &ImageSet, open: &OpenBatch, complete: bool) -> bool {
    const REC: u64 = RECORD_BYTES as u64 + 1;
    if complete && !open.bytes.is_multiple_of(REC) {
        return false;
    }
    // Byte p of the batch file, rebuilt from the label and image buffers.
    let byte = |p: u64| {
        let (r, o) = ((p / RECORD_BYTES as u64) as usize, (p % RECORD_BYTES as u64) as usize);
        if o == 0 { set.labels[open.start + r] } else { set.images[(open.start + r) * IMAGE_BYTES + o - 1] }
    };
    let records = (open.bytes / REC).min(8);
    let enough = records >= 2 || (complete && open.bytes == REC);
    enough && (0..records).all(|k| byte(k * REC) < 20 && byte(k * REC + 1) < 100)
}

/// What a file that is not CIFAR-10 seems to be, from its first bytes, if recognisable.
fn recognise(head: &[u8]) -> Option<&'static str> {
    Some(if head.starts_with(b"PK\x03\x04") {
        "a ZIP archive"
    } else if head.starts_with(b"\x89PNG") {
        "a PNG image"
    } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
        "a JPEG image"
    } else if head.starts_with(b"%PDF") {
        "a PDF document"
    } else if head.starts_with(b"BZh") {
        "a bzip2 file"
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        "an xz file"
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "a Zstandard file"
    } else if head.starts_with(b"7z\xbc\xaf") {
        "a 7-Zip archive"
    } else if head.len() >= 4 && head[..3] == [0, 0, 8] && (1..=3).contains(&head[3]) {
        "an MNIST IDX file"
    } else if head.first() == Some(&0x80) && head.get(1).is_some_and(|&p| (2..=5).contains(&p)) {
        "a Python pickle"
    } else if head.trim_ascii_start().first() == Some(&b'<') {
        "an HTML or XML page"
    } else if head.iter().all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        "a text file"
    } else {
        return None;
    })
}

/// The first bytes of the (decompressed) file, kept until its kind is clear.
const SNIFF: usize = 512;

enum Inner {
    /// Not yet known: waiting for the first 512 bytes.
    Sniff(Vec<u8>),
    /// A tar archive, its members going to the builder.
    Tar(Box<Untar>, Vec<String>),
    /// A single batch file, going to the builder.
    Raw,
}

/// One input file being read.
struct FileReader {
    name: String,
    /// Its length in bytes, if the caller knew it.
    len: Option<u64>,
    /// `Some` once the file is known to be gzip'd.
    gzip: Option<Box<Gunzip>>,
    started: bool,
    inner: Inner,
}

impl FileReader {
    fn new(name: &str, len: Option<u64>) -> FileReader {
        FileReader { name: name.to_string(), len, gzip: None, started: false, inner: Inner::Sniff(Vec::new()) }
    }

    fn push(&mut self, builder: &mut Builder, chunk: &[u8]) -> Result<(), Error> {
        if chunk.is_empty() {
            return Ok(());
        }
        if !self.started {
            self.started = true;
            // No CIFAR-10 record or tar archive starts with the byte 0x1f.
            if chunk[0] == 0x1f {
                self.gzip = Some(Box::new(Gunzip::new()));
            }
        }
        let gzip = self.gzip.is_some();
        let ctx = Ctx { name: &self.name, len: if gzip { None } else { self.len }, gzip };
        match self.gzip.as_mut() {
            Some(gz) => gz.push(chunk, &mut |out| push_inner(&mut self.inner, &ctx, builder, out)),
            None => push_inner(&mut self.inner, &ctx, builder, chunk),
        }
    }

    fn end(&mut self, builder: &mut Builder) -> Result<(), Error> {
        if let Some(gz) = &self.gzip {
            gz.finish()?;
        }
        let gzip = self.gzip.is_some();
        let ctx = Ctx { name: &self.name, len: if gzip { None } else { self.len }, gzip };
        if let Inner::Sniff(head) = &mut self.inner {
            let head = core::mem::take(head);
            decide(&mut self.inner, &ctx, builder, &head, true)?;
        }
        match &mut self.inner {
            Inner::Sniff(_) => Ok(()),
            Inner::Tar(untar, names) => {
                untar.finish()?;
                // A truncated member has already been refused; nothing may stay open.
                if builder.open.is_some() {
                    return Err(data("internal error: a batch was left open"));
                }
                if (0..6).all(|b| builder.present[b] == 0) {
                    let held = if names.is_empty() { String::from("nothing") } else { names.join(", ") };
                    return Err(not_cifar(&format!(
                        "the archive holds none of data_batch_1.bin … data_batch_5.bin, test_batch.bin (it holds {held})"
                    )));
                }
                Ok(())
            }
            Inner::Raw => builder.end(),
        }
    }

    fn bytes_held(&self) -> usize {
        let inner = match &self.inner {
            Inner::Sniff(v) => v.capacity(),
            Inner::Tar(..) => core::mem::size_of::<Untar>(),
            Inner::Raw => 0,
        };
        self.gzip.as_ref().map_or(0, |g| g.bytes_held()) + inner
    }
}

/// What `push_inner` needs to know about the file.
struct Ctx<'a> {
    name: &'a str,
    /// Length of the undecompressed file, if known.
    len: Option<u64>,
    /// Whether the bytes come out of a gzip stream (for messages).
    gzip: bool,
}

fn push_inner(inner: &mut Inner, ctx: &Ctx, builder: &mut Builder, bytes: &[u8]) -> Result<(), Error> {
    match inner {
        Inner::Sniff(head) => {
            let take = bytes.len().min(SNIFF - head.len());
            head.extend_from_slice(&bytes[..take]);
            if head.len() == SNIFF {
                let head = core::mem::take(head);
                decide(inner, ctx, builder, &head, false)?;
                push_inner(inner, ctx, builder, &bytes[take..])?;
            }
            Ok(())
        }
        Inner::Tar(untar, names) => untar.push(bytes, &mut TarTarget { builder, names }),
        Inner::Raw => builder.write(bytes),
    }
}

/// From the first 512 bytes (or the whole file, if shorter), decide what the file is and
/// replay those bytes into the right reader.
fn decide(inner: &mut Inner, ctx: &Ctx, builder: &mut Builder, head: &[u8], at_end: bool) -> Result<(), Error> {
    if is_tar_header(head) {
        *inner = Inner::Tar(Box::default(), Vec::new());
    } else if head.is_empty() {
        return Err(data(if ctx.name.is_empty() { String::from("the file is empty") } else { format!("{} is empty", ctx.name) }));
    } else if let Some(what) = recognise(head) {
        let what = if ctx.gzip { format!("{what}, gzip'd") } else { String::from(what) };
        return Err(not_cifar(&format!("it is {what}; expected {DOWNLOAD_URL} or its .bin files")));
    } else if head[0] <= 9 || Batch::from_name(ctx.name).is_some() {
        // Records (a batch file's name is trusted so that a bad first label is reported as such).
        let batch = Batch::from_name(ctx.name).ok_or_else(|| match base_name(ctx.name) {
            "" => data("CIFAR-10 records without a file name: say which batch they are (data_batch_1.bin … data_batch_5.bin, test_batch.bin)"),
            "train.bin" | "test.bin" => cifar100_error(),
            other => data(format!(
                "{other} looks like a CIFAR-10 batch, but batches are called data_batch_1.bin … data_batch_5.bin and test_batch.bin"
            )),
        })?;
        let size = if at_end { Some(head.len() as u64) } else { ctx.len };
        builder.begin(batch, ctx.name, size, false)?;
        *inner = Inner::Raw;
    } else {
        let start: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Err(not_cifar(&format!(
            "its contents are not a gzip file, a tar archive or CIFAR-10 records (it starts {}); expected {DOWNLOAD_URL} or its .bin files",
            start.join(" ")
        )));
    }
    push_inner(inner, ctx, builder, head)
}

/// Archive members go to the builder: the six batches by name, everything else skipped.
struct TarTarget<'a> {
    builder: &'a mut Builder,
    /// The first few member names, to say what an archive without batches holds.
    names: &'a mut Vec<String>,
}

impl TarVisitor for TarTarget<'_> {
    fn begin(&mut self, path: &str, size: u64) -> Result<bool, Error> {
        if self.names.len() < 8 {
            self.names.push(path.to_string());
        }
        check_member_name(path)?;
        match Batch::from_name(path) {
            Some(batch) if !base_name(path).ends_with(".gz") => {
                self.builder.begin(batch, path, Some(size), true)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.builder.write(bytes)
    }

    fn end(&mut self) -> Result<(), Error> {
        self.builder.end()
    }
}

/// Reads CIFAR-10 from one or more files given in chunks, in any order: the archive (tar.gz
/// or tar), or the batch files. Call [`Reader::begin_file`] before each file (it may be
/// omitted for a single archive), [`Reader::push`] its bytes in chunks of any size, then
/// [`Reader::finish`]. The first error ends the reading; later calls return it again.
///
/// ```
/// # fn demo(chunks: &[&[u8]]) -> Result<(), burstccn::Error> {
/// let mut reader = burstccn::cifar::Reader::new();
/// reader.begin_file("cifar-10-binary.tar.gz", None)?;
/// for chunk in chunks {
///     reader.push(chunk)?;
/// }
/// let cifar = reader.finish()?;
/// assert_eq!(cifar.train.len(), 50_000);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Reader {
    builder: Builder,
    file: Option<FileReader>,
    failed: Option<Error>,
    bytes_read: u64,
}

impl Reader {
    /// A reader holding nothing yet.
    pub fn new() -> Reader {
        Reader::default()
    }

    fn run(&mut self, f: impl FnOnce(&mut Self) -> Result<(), Error>) -> Result<(), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = f(self).map_err(|e| match (e, self.file.as_ref().map(|f| f.name.as_str())) {
            (Error::Data(m), Some(name)) if !name.is_empty() && !m.starts_with(name) => Error::Data(format!("{name}: {m}")),
            (e, _) => e,
        });
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// Start the next file (ending the current one). `name` is its file name — it says which
    /// batch a `.bin` file is, and appears in messages; `len` its size in bytes, if known,
    /// lets the reader reserve memory once.
    pub fn begin_file(&mut self, name: &str, len: Option<u64>) -> Result<(), Error> {
        self.end_file()?;
        self.file = Some(FileReader::new(name, len));
        Ok(())
    }

    /// The next chunk of the current file (a file without a name is begun if none is open).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.run(|r| {
            let file = r.file.get_or_insert_with(|| FileReader::new("", None));
            r.bytes_read += chunk.len() as u64;
            file.push(&mut r.builder, chunk)
        })
    }

    /// The current file is complete (checks that it is not truncated).
    pub fn end_file(&mut self) -> Result<(), Error> {
        self.run(|r| match r.file.as_mut() {
            Some(file) => {
                file.end(&mut r.builder)?;
                r.file = None;
                Ok(())
            }
            None => Ok(()),
        })
    }

    /// End the last file and return the data set: an error unless all six batches were read.
    pub fn finish(mut self) -> Result<Cifar10, Error> {
        self.end_file()?;
        let missing = self.builder.missing();
        if !missing.is_empty() {
            let found: Vec<&str> = (0..6).filter(|&b| self.builder.present[b] > 0).map(|b| BATCH_FILES[b]).collect();
            return Err(data(format!(
                "CIFAR-10 is incomplete: {} {} missing{}",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                if found.is_empty() { String::new() } else { format!(" (found {})", found.join(", ")) }
            )));
        }
        let Builder { mut train, mut test, .. } = self.builder;
        for set in [&mut train, &mut test] {
            // Only when batches were smaller than the first one or their sizes unknown.
            set.images.shrink_to_fit();
            set.labels.shrink_to_fit();
        }
        Ok(Cifar10 { train, test })
    }

    /// Bytes held now: the images and labels so far, plus the decoder's buffers (~110 KB).
    pub fn bytes_held(&self) -> usize {
        self.builder.bytes_held() + self.file.as_ref().map_or(0, |f| f.bytes_held())
    }

    /// Input bytes pushed so far (of every file), e.g. for a progress bar.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
}

/// CIFAR-10 from a whole archive in memory: `cifar-10-binary.tar.gz`, or the tar inside it.
pub fn from_bytes(archive: &[u8]) -> Result<Cifar10, Error> {
    let mut reader = Reader::new();
    reader.push(archive)?;
    reader.finish()
}

/// CIFAR-10 from files in memory, each `(file name, contents)`: the six batch files, an
/// archive, or a mix that holds each batch once.
pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<Cifar10, Error> {
    let mut reader = Reader::new();
    for (name, bytes) in files {
        reader.begin_file(name, Some(bytes.len() as u64))?;
        reader.push(bytes)?;
    }
    reader.finish()
}

/// One batch file (e.g. `test_batch.bin`) on its own.
pub fn parse_batch(bytes: &[u8]) -> Result<ImageSet, Error> {
    let mut builder = Builder::default();
    let name = "the batch file";
    builder.begin(Batch::TEST, name, Some(bytes.len() as u64), true)?;
    builder.write(bytes)?;
    builder.end()?;
    Ok(builder.test)
}

/// Load CIFAR-10 from `path` (what the command line's `--data` or `$BURSTCCN_CIFAR10`
/// names): `cifar-10-binary.tar.gz` or a `.tar`; a directory holding the six `.bin` files;
/// or a directory holding `cifar-10-batches-bin/` or `cifar-10-binary.tar.gz` (e.g. where
/// the download was saved). Files are streamed in 1 MiB chunks.
#[cfg(feature = "std")]
pub fn load_path(path: &std::path::Path) -> Result<Cifar10, Error> {
    let hint = format!("download {DOWNLOAD_URL} and pass it (or the folder it is in, or its extracted cifar-10-batches-bin/) with --data or ${ENV_VAR}");
    let meta = std::fs::metadata(path).map_err(|e| data(format!("cannot read {}: {e} ({hint})", path.display())))?;
    let mut reader = Reader::new();
    if meta.is_dir() {
        if BATCH_FILES.iter().any(|f| path.join(f).is_file()) {
            for f in BATCH_FILES {
                let file = path.join(f);
                if !file.is_file() {
                    let missing: Vec<&str> = BATCH_FILES.iter().copied().filter(|f| !path.join(f).is_file()).collect();
                    return Err(data(format!("{}: CIFAR-10 is incomplete: {} missing", path.display(), missing.join(", "))));
                }
                push_path(&mut reader, &file)?;
            }
            return reader.finish();
        }
        for inside in ["cifar-10-batches-bin", "cifar-10-binary.tar.gz", "cifar-10-binary.tar"] {
            if path.join(inside).exists() {
                return load_path(&path.join(inside));
            }
        }
        return Err(data(format!("no CIFAR-10 in {}: {hint}", path.display())));
    }
    if Batch::from_name(&path.to_string_lossy()).is_some() {
        return Err(data(format!(
            "{} is a single CIFAR-10 batch: pass the directory holding all six (data_batch_1.bin … test_batch.bin), or the .tar.gz",
            path.display()
        )));
    }
    push_path(&mut reader, path)?;
    reader.finish()
}

#[cfg(feature = "std")]
fn push_path(reader: &mut Reader, path: &std::path::Path) -> Result<(), Error> {
    use std::io::Read;
    let cannot = |e: std::io::Error| data(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let len = file.metadata().ok().map(|m| m.len());
    reader.begin_file(&path.display().to_string(), len)?;
    let mut chunk = alloc::vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(cannot(e)),
        };
        reader.push(&chunk[..n])?;
    }
    reader.end_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_names() {
        assert_eq!(Batch::from_name("cifar-10-batches-bin/data_batch_3.bin"), Some(Batch(2)));
        assert_eq!(Batch::from_name("C:\\x\\test_batch.bin"), Some(Batch::TEST));
        assert_eq!(Batch::from_name("data_batch_2.bin.gz"), Some(Batch(1)));
        assert_eq!(Batch::from_name("._data_batch_1.bin"), None);
        assert_eq!(Batch::from_name("data_batch_6.bin"), None);
    }

    #[test]
    fn identity_crop_is_plain_normalisation() {
        let mut rng = Random::new(1, 0);
        let image: [u8; IMAGE_BYTES] = core::array::from_fn(|_| rng.below(256) as u8);
        let (mut a, mut b) = ([0.0f32; IMAGE_BYTES], [0.0f32; IMAGE_BYTES]);
        augment_image(&image, Crop::IDENTITY, &mut a);
        normalise_image(&image, &mut b);
        assert_eq!(a, b);
    }
}
