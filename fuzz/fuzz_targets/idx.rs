//! The MNIST IDX reader (src/data.rs), raw and gzip.
//!
//! Input: a u32 (little-endian) length n, then an images file of n bytes, then a labels file
//! (the rest). `fuzz/seed.sh` writes real MNIST headers with a few images in this form.
//!
//! Properties: no panic; both entry points (`from_idx`, `from_idx_vec`) agree; an accepted set
//! has consistent counts (pixels = images × rows × cols, one label per image, labels 0–9);
//! gzip written by a real encoder (flate2) reads back to exactly the raw file's dataset.
#![no_main]

use std::cell::RefCell;

use burstccn::data::{self, Dataset};
use burstccn::Error;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use libfuzzer_sys::fuzz_target;

thread_local! {
    // One deflate state, reset per stream (a fresh encoder per call cost more than the rest).
    static DEFLATE: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// A gzip member (RFC 1952: header, raw deflate, CRC-32 and length) from flate2's deflate.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + bytes.len() / 8 + 64);
    DEFLATE.with(|d| {
        let mut d = d.borrow_mut();
        d.reset();
        loop {
            let done = d.total_in() as usize;
            match d.compress_vec(&bytes[done..], &mut body, FlushCompress::Finish).unwrap() {
                Status::StreamEnd => break,
                _ => body.reserve(body.capacity().max(64)),
            }
        }
    });
    let mut crc = Crc::new();
    crc.update(bytes);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

fn check_dataset(d: &Dataset) {
    assert!((1..=4096).contains(&d.rows) && (1..=4096).contains(&d.cols), "image size {}×{}", d.rows, d.cols);
    assert_eq!(d.images.len(), d.len() * d.pixels(), "pixels for {} images of {}×{}", d.len(), d.rows, d.cols);
    assert!(d.labels.iter().all(|&l| l <= 9), "a label above 9 was accepted");
    for i in 0..d.len() {
        assert_eq!(d.image(i).len(), d.pixels());
    }
    let half = d.take(d.len() / 2 + 1);
    assert_eq!(half.len(), (d.len() / 2 + 1).min(d.len()));
    assert_eq!(half.images[..], d.images[..half.len() * d.pixels()]);
}

fn only_data_errors<T>(r: &Result<T, Error>) {
    if let Err(e) = r {
        assert!(matches!(e, Error::Data(m) if !m.is_empty()), "a file reader returned {e:?}");
    }
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 4 {
        return;
    }
    let n = (u32::from_le_bytes(input[..4].try_into().unwrap()) as usize).min(input.len() - 4);
    let (images, labels) = input[4..].split_at(n);

    let a = Dataset::from_idx(images, labels);
    let b = Dataset::from_idx_vec(images.to_vec(), labels.to_vec());
    only_data_errors(&a);
    only_data_errors(&b);
    match (&a, &b) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x, y, "from_idx and from_idx_vec read different datasets");
            check_dataset(x);
        }
        (Err(_), Err(_)) => {}
        _ => panic!("from_idx says {:?} but from_idx_vec says {:?}", a.as_ref().map(Dataset::len), b.as_ref().map(Dataset::len)),
    }

    let parsed_images = data::parse_images(images);
    only_data_errors(&parsed_images);
    if let Ok((pixels, count, rows, cols)) = &parsed_images {
        assert_eq!(pixels.len(), count * rows * cols);
    }
    let parsed_labels = data::parse_labels(labels);
    only_data_errors(&parsed_labels);
    if let Ok(dataset) = &a {
        assert_eq!(parsed_labels.as_deref().ok(), Some(&dataset.labels[..]));
        assert_eq!(parsed_images.as_ref().ok().map(|p| &p.0[..]), Some(&dataset.images[..]));
    }

    // The gzip reader inverts a real encoder on any bytes (up to its size limit), and the same
    // files gzipped by it give the same answer as raw.
    let (gz_images, gz_labels) = (gzip(images), gzip(labels));
    for (part, gz) in [(images, &gz_images), (labels, &gz_labels)] {
        match data::gunzip(part) {
            Ok(out) => assert!(out.len() <= data::MAX_FILE_BYTES),
            Err(e) => assert!(matches!(e, Error::Data(_))),
        }
        assert_eq!(data::gunzip(gz).expect("a real gzip stream was refused"), part);
    }
    if !is_gzip(images) && !is_gzip(labels) {
        let gz = Dataset::from_idx(&gz_images, &gz_labels);
        assert_eq!(gz.is_ok(), a.is_ok(), "gzip changed the verdict: raw {:?}, gzip {:?}", a.as_ref().err(), gz.as_ref().err());
        if let (Ok(x), Ok(y)) = (&a, &gz) {
            assert_eq!(x, y, "gzip and raw give different datasets");
        }
    }
});
