//! The engine settings: the JSON object the wasm `Engine` takes (src/wasm.rs turns its JS
//! argument into a `serde_json::Value` and applies it with `Config::patched` onto the defaults),
//! and a whole `Config` read with serde.
//!
//! Input: JSON text (anything, really).
//!
//! Properties: no panic; `patched` returns only configurations that validate, agrees with
//! plain deserialisation + `validate`, and gives a configuration back from its own JSON;
//! every configuration that validates can be built in bounded memory (`network_bytes` below,
//! at most `LIMIT`). Small ones are built, with every allocation counted (so the bound is
//! checked against the real allocator), refuse more rows than `max_rows`, and then train a
//! step, predict, classify and round-trip through a snapshot. The same patch is also read as
//! the settings of any model (`ModelConfig`, with its `model` field: BurstCCN, Burstprop,
//! EDN), and applied as live settings to a running model of each kind (`set_config`, as
//! `engine.setConfig` does).
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use burstccn::model::{AnyModel, BurstpropConfig, Config, EdnConfig, ModelConfig, ModelKind, Network, MAX_BATCH};
use burstccn::{snapshot, Error};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Counts the bytes the Rust allocator hands out, and the peak since the last reset.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            PEAK.fetch_max(LIVE.fetch_add(l.size(), Relaxed) + l.size(), Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, size) };
        if !q.is_null() {
            LIVE.fetch_sub(l.size(), Relaxed);
            PEAK.fetch_max(LIVE.fetch_add(size, Relaxed) + size, Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What a network of this configuration holds: W, b (and their momentum buffers), Y and Q,
/// and the batch state for `batch_size` rows (input, labels, the conv windows, e, p, b, u and
/// δ per layer).
fn network_bytes(cfg: &Config) -> u128 {
    let shapes = cfg.shapes();
    let params: u128 = shapes.iter().map(|s| (s.weight_len() + s.bias_len()) as u128).sum();
    let feedback: u128 = shapes.iter().skip(1).map(|s| 2 * s.weight_len() as u128).sum();
    let velocity = if cfg.momentum > 0.0 { params } else { 0 };
    let rows = cfg.batch_size as u128;
    let per_row: u128 = cfg.input_len() as u128
        + shapes.iter().map(|s| (s.window_values() + 5 * s.n_out) as u128).sum::<u128>()
        + shapes.iter().skip(1).map(|s| s.window_values() as u128).max().unwrap_or(0);
    4 * (params + feedback + velocity + rows * per_row) + rows
}

/// The most one network may need, from the crate's own limits: 1 GiB of W, Y and Q
/// (`MAX_WEIGHTS` floats), as much again for momentum, and 512 MiB of batch state; anything
/// more cannot be built in a browser's wasm32 memory (4 GiB, shared with the data).
const LIMIT: u128 = 5 << 29;
/// Networks up to this size are built and run (bigger ones take too long per input).
const BUILD: u128 = 1 << 20;

fn exercise(cfg: &Config) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let mut net = Network::new(cfg.clone()).unwrap_or_else(|e| panic!("a valid configuration does not build: {e}"));
    let peak = (PEAK.load(Relaxed) - before) as u128;
    let bound = network_bytes(cfg);
    assert!(peak <= bound + bound / 8 + (64 << 10), "building took {peak} bytes, more than the {bound} its configuration implies");

    let n0 = cfg.input_len();
    let outputs = cfg.outputs();
    let rows = cfg.batch_size.min(3);
    let pixels: Vec<u8> = (0..rows * n0).map(|i| (i * 37 % 256) as u8).collect();
    let labels: Vec<u8> = (0..rows).map(|i| (i % outputs.min(256)) as u8).collect();
    // More rows than one batch may hold are refused (without allocating them).
    let most = cfg.max_rows();
    if most < MAX_BATCH && (most + 1) * n0 <= 1 << 22 {
        match net.load_images_u8(&vec![0; (most + 1) * n0]) {
            Err(Error::Shape(_)) => {}
            other => panic!("{} rows loaded into a network that holds at most {most}: {:?}", most + 1, other.map(|_| ())),
        }
    }
    net.load_images_u8(&pixels).expect("a batch within batch_size loads");
    match net.train_step(&labels, true) {
        Ok(report) => assert_eq!(report.rows, rows),
        Err(Error::Diverged(_)) => {}
        Err(e) => panic!("a training step failed: {e}"),
    }
    net.predict();
    assert_eq!(net.output().len(), rows * outputs);
    let (predictions, _) = net.classify_u8(&pixels, Some(&labels)).expect("classify");
    assert_eq!(predictions.len(), rows);
    let bytes = snapshot::to_bytes(&net);
    let back = snapshot::from_bytes(&bytes).unwrap_or_else(|e| panic!("the network's own snapshot does not import: {e}"));
    assert_eq!(snapshot::to_bytes(&back), bytes);
}

/// A short training run of any model: a step (or divergence), a prediction, a classification
/// and its snapshot's round trip.
fn run(model: &mut AnyModel, cfg: &ModelConfig) {
    let n0 = cfg.input_len();
    let rows = cfg.batch_size().min(2);
    let pixels: Vec<u8> = (0..rows * n0).map(|i| (i * 53 % 256) as u8).collect();
    let labels: Vec<u8> = (0..rows).map(|i| ((i + 3) % cfg.outputs().min(256)) as u8).collect();
    model.load_images_u8(&pixels).expect("a batch within batch_size loads");
    match model.train_step(&labels, false) {
        Ok(_) | Err(Error::Diverged(_)) => {}
        Err(e) => panic!("a {} training step failed: {e}", cfg.kind().as_str()),
    }
    model.predict();
    let (predictions, _) = model.classify_u8(&pixels, Some(&labels)).expect("classify");
    assert_eq!(predictions.len(), rows);
    let bytes = snapshot::to_bytes(&*model);
    let back = snapshot::model_from_bytes(&bytes).unwrap_or_else(|e| panic!("the model's own snapshot does not import: {e}"));
    assert_eq!(snapshot::to_bytes(&back), bytes);
}

/// The Engine's settings for any model (`new Engine(settings)`: `ModelConfig::default()
/// .patched`): what validates survives its own JSON, fits the memory limit, and the small
/// ones build and run. (BurstCCN's are exercised in detail by the caller.)
fn engine_settings(value: &Value) {
    let cfg = match ModelConfig::default().patched(value) {
        Ok(cfg) => cfg,
        Err(e) => {
            assert!(matches!(&e, Error::Config { reason, .. } if !reason.is_empty()), "{e:?}");
            return;
        }
    };
    cfg.validate().expect("patched returned settings that do not validate");
    assert_eq!(ModelConfig::from_value(&cfg.to_value()).as_ref(), Ok(&cfg), "settings do not survive their own JSON");
    assert_eq!(ModelConfig::default().patched(&cfg.to_value()).as_ref(), Ok(&cfg), "settings patched from their own JSON differ");
    let bytes = network_bytes(&cfg.network_config());
    assert!(bytes <= LIMIT, "a {} configuration that validates needs {} MiB", cfg.kind().as_str(), bytes >> 20);
    if cfg.kind() != ModelKind::Burstccn && bytes <= BUILD / 4 {
        let mut model = AnyModel::new(cfg.clone()).unwrap_or_else(|e| panic!("a valid configuration does not build: {e}"));
        run(&mut model, &cfg);
    }
}

/// The page's live settings (`engine.setConfig`): the patch applied to a running model's own
/// configuration (small ones of each kind; BurstCCN's a conv net, so conv fields are in its
/// JSON), then `set_config`. It must take what validates when model and architecture are
/// unchanged, and the model then trains.
fn live_settings(value: &Value) {
    let conv = Config::default().with_stack("c2k3s2,f4", [1, 8, 8], 10).expect("a valid small conv net");
    let bases: [ModelConfig; 3] = [
        conv.into(),
        BurstpropConfig { layers: vec![6, 5, 4, 3], batch_size: 2, ..BurstpropConfig::default() }.into(),
        EdnConfig { layers: vec![6, 5, 3], batch_size: 2, ..EdnConfig::default() }.into(),
    ];
    for base in bases {
        let Ok(cfg) = base.patched(value) else { continue };
        let mut model = AnyModel::new(base.clone()).expect("the base builds");
        let same = cfg.kind() == base.kind() && cfg.network_config().same_architecture(&base.network_config());
        match model.set_config(cfg.clone()) {
            Ok(()) => {
                assert!(same, "set_config took a different model or architecture");
                assert_eq!(model.config(), cfg);
                run(&mut model, &cfg);
            }
            Err(Error::Config { field, .. }) => assert!(!same || cfg.seed() != base.seed(), "new {} settings were refused ({field})", base.kind().as_str()),
            Err(e) => panic!("set_config failed with {e:?}"),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else { return };
    // (serde also reads a struct from an array of its fields in order, e.g. `[]` is the default
    // configuration; `patched` takes only objects, so only objects are compared.)
    let direct = serde_json::from_str::<Config>(text).ok().filter(|c| c.validate().is_ok() && text.trim_start().starts_with('{'));
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        assert!(direct.is_none(), "serde reads a Config from text that is not JSON");
        return;
    };
    live_settings(&value);
    engine_settings(&value);
    match Config::default().patched(&value) {
        Ok(cfg) => {
            cfg.validate().expect("patched returned a configuration that does not validate");
            if let Some(d) = &direct {
                assert_eq!(d, &cfg, "patching the defaults and deserialising disagree");
            }
            let own = serde_json::to_value(&cfg).unwrap();
            assert_eq!(Config::default().patched(&own).as_ref(), Ok(&cfg), "a configuration does not survive its own JSON");
            assert!(cfg.batch_size <= cfg.max_rows(), "batch_size {} above max_rows {}", cfg.batch_size, cfg.max_rows());
            let bytes = network_bytes(&cfg);
            assert!(bytes <= LIMIT, "a configuration that validates needs {} MiB: {}", bytes >> 20, serde_json::to_string(&cfg).unwrap());
            if bytes <= BUILD {
                exercise(&cfg);
            }
        }
        Err(e) => {
            assert!(matches!(&e, Error::Config { reason, .. } if !reason.is_empty()), "{e:?}");
            assert!(direct.is_none(), "deserialising gives a valid configuration but patching refuses it: {e}");
        }
    }
});
