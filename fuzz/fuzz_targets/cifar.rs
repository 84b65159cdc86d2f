//! The CIFAR-10 reader (src/cifar.rs, with the streaming gzip and tar readers of
//! src/archive.rs).
//!
//! Input: a mode byte, a chunk-size byte, then the data:
//! - mode even: an archive (`cifar-10-binary.tar.gz` or its tar), read whole by `from_bytes`
//!   and streamed through a `Reader` in chunks of the given size;
//! - mode odd: one batch file, read by `parse_batch` and by `from_files` under a batch name
//!   picked by the mode (plain or `.gz`).
//!
//! Properties: no panic; errors are data errors; whole and chunked reads agree; an accepted
//! set has consistent counts (3,072 bytes per image, one label 0–9 each, at most 10,000 images
//! per batch).
#![no_main]

use burstccn::cifar::{self, Cifar10, ImageSet, Reader, BATCH_FILES, BATCH_RECORDS, IMAGE_BYTES};
use burstccn::{archive, Error};
use libfuzzer_sys::fuzz_target;

fn check_set(set: &ImageSet, batches: usize) {
    assert_eq!(set.images.len(), set.len() * IMAGE_BYTES, "pixels for {} images", set.len());
    assert!(set.labels.iter().all(|&l| l <= 9), "a label above 9 was accepted");
    assert!(set.len() <= batches * BATCH_RECORDS, "{} images in {batches} batch(es)", set.len());
    if !set.is_empty() {
        assert_eq!(set.image(set.len() - 1).len(), IMAGE_BYTES);
    }
}

fn check(r: &Result<Cifar10, Error>) {
    match r {
        Ok(c) => {
            check_set(&c.train, 5);
            check_set(&c.test, 1);
            assert!(c.train.len() >= 5 && !c.test.is_empty(), "a data set without all six batches");
        }
        Err(e) => assert!(matches!(e, Error::Data(m) if !m.is_empty()), "{e:?}"),
    }
}

fn streamed(data: &[u8], chunk: usize) -> Result<Cifar10, Error> {
    let mut reader = Reader::new();
    for part in data.chunks(chunk) {
        reader.push(part)?;
    }
    reader.finish()
}

fuzz_target!(|input: &[u8]| {
    let [mode, chunk, data @ ..] = input else { return };
    let chunk = usize::from(*chunk).max(1) * 7;
    if mode % 2 == 0 {
        let whole = cifar::from_bytes(data);
        check(&whole);
        let parts = streamed(data, chunk);
        check(&parts);
        assert_eq!(whole.is_ok(), parts.is_ok(), "whole: {:?}; in chunks of {chunk}: {:?}", whole.as_ref().err(), parts.as_ref().err());
        if let (Ok(a), Ok(b)) = (&whole, &parts) {
            assert!(a == b, "whole and chunked reads differ");
        }
    } else {
        let batch = cifar::parse_batch(data);
        match &batch {
            Ok(set) => check_set(set, 1),
            Err(e) => assert!(matches!(e, Error::Data(m) if !m.is_empty()), "{e:?}"),
        }
        let name = BATCH_FILES[usize::from(mode / 2) % BATCH_FILES.len()];
        let name = if mode & 0x80 != 0 { format!("{name}.gz") } else { name.to_string() };
        let mut reader = Reader::new();
        let r = reader.begin_file(&name, Some(data.len() as u64)).and_then(|()| {
            for part in data.chunks(chunk) {
                reader.push(part)?;
            }
            reader.end_file()
        });
        if let Err(e) = r {
            assert!(matches!(&e, Error::Data(m) if !m.is_empty()), "{e:?}");
        } else if !name.ends_with(".gz") && !archive::is_gzip(data) && !(data.len() >= 512 && archive::is_tar_header(&data[..512])) {
            // A plain batch file the reader took is one parse_batch takes too.
            assert!(batch.is_ok(), "the Reader took {name} but parse_batch says {:?}", batch.err());
        }
        check(&reader.finish());
    }
});
