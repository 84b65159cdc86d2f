//! The MNIST IDX reader (src/data.rs), raw and gzip.
//!
//! Input: a u32 (little-endian) length n, then an images file of n bytes, then a labels file
//! (the rest). `fuzz/seed.sh` writes real MNIST headers with a few images in this form.
//!
//! Properties: no panic; both entry points (`from_idx`, `from_idx_vec`) agree; an accepted set
//! has consistent counts (pixels = images × rows × cols, one label per image, labels 0–9);
//! gzip written by a real encoder (flate2) reads back to exactly the raw file's dataset.
#![no_main]

use std::io::Write;

use burstccn::data::{self, Dataset};
use burstccn::Error;
use libfuzzer_sys::fuzz_target;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
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

    // The same files gzipped by a real encoder give the same answer.
    if !is_gzip(images) && !is_gzip(labels) {
        let gz = Dataset::from_idx(&gzip(images), &gzip(labels));
        assert_eq!(gz.is_ok(), a.is_ok(), "gzip changed the verdict: raw {:?}, gzip {:?}", a.as_ref().err(), gz.as_ref().err());
        if let (Ok(x), Ok(y)) = (&a, &gz) {
            assert_eq!(x, y, "gzip and raw give different datasets");
        }
    }

    // The gzip reader inverts a real encoder on any bytes, and decodes anything within its limit.
    for part in [images, labels] {
        match data::gunzip(part) {
            Ok(out) => assert!(out.len() <= data::MAX_FILE_BYTES),
            Err(e) => assert!(matches!(e, Error::Data(_))),
        }
        if part.len() <= 1 << 16 {
            assert_eq!(data::gunzip(&gzip(part)).expect("a real gzip stream was refused"), part);
        }
    }
});
