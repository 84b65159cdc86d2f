//! Inputs the fuzz targets (fuzz/, `make fuzz`) found breaking a property, each kept here as
//! bytes so the normal suite checks the fix. The name of each test says which target found it.
#![cfg(not(target_arch = "wasm32"))]

use burstccn::model::{Config, Network, MAX_BATCH, MAX_BATCH_ACTIVITY};
use burstccn::Error;
use serde_json::Value;

fn patch_defaults(json: &str) -> Result<Config, Error> {
    Config::default().patched(&serde_json::from_str::<Value>(json).unwrap())
}

/// fuzz target `config`, on its own seed `tiny-conv`: `Config::patched` (what the wasm
/// `Engine` uses) refused `conv` and `input_shape` as unknown settings, because the defaults'
/// JSON leaves them out while unset; a conv net could be deserialised but not patched in.
#[test]
fn config_conv_settings_patch_onto_the_defaults() {
    let input = r#"{"input_shape":[1,8,8],"conv":[{"channels":2,"kernel":3,"stride":2},{"channels":3,"kernel":2,"stride":1}],"layers":[12,4,10],"batch_size":2,"q_mode":"tied"}"#;
    let direct: Config = serde_json::from_str(input).unwrap();
    direct.validate().unwrap();
    assert_eq!(patch_defaults(input), Ok(direct.clone()));
    assert_eq!(direct.conv.len(), 2);
    // The minimal forms, and a conv configuration's own JSON patched back onto the defaults.
    assert_eq!(patch_defaults(r#"{"conv":[]}"#), Ok(Config::default()));
    assert_eq!(patch_defaults(r#"{"input_shape":null}"#), Ok(Config::default()));
    let own = serde_json::to_string(&direct).unwrap();
    assert_eq!(patch_defaults(&own), Ok(direct));
    // An unknown setting is still refused, naming it and listing the conv settings as known.
    match patch_defaults(r#"{"convs":[]}"#) {
        Err(Error::Config { field, reason }) => {
            assert_eq!(field, "convs");
            assert!(reason.contains("conv,") && reason.contains("input_shape"), "{reason}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

/// fuzz target `continuous_config`: a tiny but valid dt (`1e-30` s) made each phase of the
/// regression task more steps than a u64 holds; building the task overflowed adding them up
/// (a panic natively, a wrapped schedule in release wasm). Now the phase is refused, named.
#[test]
fn continuous_config_a_tiny_dt_cannot_overflow_the_schedule() {
    use burstccn::continuous::{RegressionConfig, RegressionTask, MAX_PHASE_STEPS};
    let patch: Value = serde_json::from_str(r#"{"network":{"dt":1e-30,"tau_v":0.1,"tau_u":0.1}}"#).unwrap();
    match RegressionConfig::default().patched(&patch) {
        Err(Error::Config { field, reason }) => {
            assert_eq!(field, "before");
            assert!(reason.contains("steps of dt") && reason.contains("network.dt"), "{reason}");
        }
        other => panic!("expected the phase to be refused, got {other:?}"),
    }
    // At the limit the task builds and its schedule adds up.
    let mut cfg = RegressionConfig::default();
    cfg.network.dt = 1e-4;
    cfg.network.tau_v = 0.1;
    cfg.network.tau_u = 0.1;
    let most = MAX_PHASE_STEPS as f64 * 1e-4;
    (cfg.before, cfg.learn, cfg.after) = (most * 0.999, most * 0.999, most * 0.999);
    cfg.validate().unwrap();
    let task = RegressionTask::new(cfg).unwrap();
    assert_eq!(task.total_steps(), task.schedule().iter().sum::<u64>());
    assert!(task.total_steps() <= 3 * MAX_PHASE_STEPS);
}

/// Seen while writing the `config` target's memory check (which now asserts it): validation
/// bounds the activity of `batch_size` rows, but loading inputs accepted up to `MAX_BATCH`
/// rows whatever the network's width, so a valid 1-65536-1 network asked to predict 4,096
/// inputs allocated 5 GiB of batch state (in wasm: an abort that kills the engine).
#[test]
fn config_loading_rows_stays_within_the_activity_limit() {
    let cfg = Config { layers: vec![1, 65536, 1], batch_size: 1, ..Config::default() };
    let mut net = Network::new(cfg.clone()).unwrap();
    let most = cfg.max_rows();
    assert!(most < MAX_BATCH && most * (1 + 7 * 65537) <= MAX_BATCH_ACTIVITY, "{most}");
    match net.load_inputs(&vec![0.5; most + 1]) {
        Err(Error::Shape(m)) => assert!(m.contains(&format!("{}", most + 1)) && m.contains(&format!("{most}")), "{m}"),
        other => panic!("expected {} rows to be refused, got {other:?}", most + 1),
    }
    match net.load_images_u8(&vec![7; MAX_BATCH]) {
        Err(Error::Shape(_)) => {}
        other => panic!("expected {MAX_BATCH} images to be refused, got {other:?}"),
    }
    // Nothing was loaded; a batch within the limit still is.
    assert_eq!(net.rows(), 0);
    assert_eq!(net.load_inputs(&[0.25; 3]).unwrap(), 3);
    net.predict();
    assert_eq!(net.output().len(), 3);
    // The default network keeps the full MAX_BATCH.
    assert_eq!(Config::default().max_rows(), MAX_BATCH);
}
