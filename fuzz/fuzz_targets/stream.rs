//! The training set that arrives in pieces (src/stream.rs): `GrowingSet` (the IDX images
//! header and the labels file first, then whole images as they download) and `FirstPass` (the
//! batches of the first epoch while the set grows).
//!
//! Input: a chunk byte, a batch byte, a u32 (little-endian) length n, a labels file of n bytes
//! (raw or gzip), then an images file (raw IDX) whose pixels are appended in pieces.
//!
//! Properties: no panic; errors are data errors and add nothing; a completed set is exactly
//! the dataset `Dataset::from_idx` reads from the same two files; the first pass hands out
//! only images that have arrived, each exactly once as a fresh one (also when batches are
//! put back), and ends once every image has arrived and been seen.
#![no_main]

use burstccn::data::Dataset;
use burstccn::stream::{parse_images_header, FirstPass, GrowingSet};
use burstccn::Error;
use libfuzzer_sys::fuzz_target;

fn data_error(e: &Error) {
    assert!(matches!(e, Error::Data(m) if !m.is_empty()), "{e:?}");
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 6 {
        return;
    }
    let (chunk, batch) = (input[0], usize::from(input[1] % 64) + 1);
    let n = (u32::from_le_bytes(input[2..6].try_into().unwrap()) as usize).min(input.len() - 6);
    let (labels, images) = input[6..].split_at(n);

    let whole = Dataset::from_idx(images, labels);
    let header = parse_images_header(images);
    let mut set = match GrowingSet::new(images, labels) {
        Ok(set) => set,
        Err(e) => {
            data_error(&e);
            return;
        }
    };
    let (count, rows, cols) = header.expect("a set was started from this header");
    assert_eq!((set.len(), set.pixels(), set.arrived()), (count, rows * cols, 0));

    let p = set.pixels();
    let body = &images[images.len().min(16)..];
    let mut pass = FirstPass::new(u64::from(chunk), set.len());
    let mut fresh_seen = vec![false; set.len()];
    let mut out = Vec::new();
    let (mut at, mut step, mut appending, mut overflow) = (0, 0u32, true, false);
    loop {
        if appending {
            // The next piece: 1–4 whole images; now and then first a piece that is not whole.
            let before = set.arrived();
            let (wholes, tail) = ((body.len() - at) / p, (body.len() - at) % p);
            if wholes == 0 {
                if tail > 0 {
                    let e = set.append(&body[at..]).expect_err("a part of an image was taken");
                    data_error(&e);
                }
                appending = false;
            } else {
                let len = ((usize::from(chunk >> 2) + step as usize) % 4 + 1).min(wholes) * p;
                if chunk & 1 == 1 && step % 3 == 2 && len > 1 {
                    data_error(&set.append(&body[at..at + len - 1]).expect_err("a part of an image was taken"));
                    assert_eq!(set.arrived(), before, "a refused piece was added");
                }
                match set.append(&body[at..at + len]) {
                    Ok(arrived) => {
                        assert_eq!(arrived, before + len / p);
                        at += len;
                    }
                    Err(e) => {
                        // Whole images refused: more than the header promised.
                        data_error(&e);
                        assert_eq!(set.arrived(), before, "a refused piece was added");
                        assert!(before + len / p > set.len());
                        (appending, overflow) = (false, true);
                    }
                }
            }
        }
        pass.admit(set.arrived());
        let fresh = pass.next_batch(batch, &mut out);
        assert!(out.len() <= batch && fresh <= out.len());
        assert!(out.iter().all(|&i| (i as usize) < set.arrived()), "a batch holds an image that has not arrived");
        if chunk & 2 == 2 && step % 5 == 4 {
            pass.put_back(&out[..fresh]);
        } else {
            for &i in &out[..fresh] {
                assert!(!std::mem::replace(&mut fresh_seen[i as usize], true), "image {i} was fresh twice");
            }
        }
        step += 1;
        if !appending && pass.seen() == set.arrived() {
            break;
        }
        assert!(step < 1 << 22, "the first pass does not end");
    }

    let all_read = at == body.len();
    if set.is_complete() {
        assert!(pass.is_done(), "every image arrived but the pass is not done ({} seen of {})", pass.seen(), set.len());
        assert!(fresh_seen.iter().all(|&s| s), "an image was never trained on");
    }
    match (set.into_dataset(), all_read && !overflow) {
        (Ok(dataset), true) => assert_eq!(whole.as_ref().ok(), Some(&dataset), "the grown set differs from the file read whole"),
        (Ok(_), false) | (Err(_), _) => assert!(whole.is_err(), "the whole file reads, but its pieces did not make the set"),
    }
});
