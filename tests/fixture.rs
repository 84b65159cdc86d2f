//! The native side of the native-vs-wasm comparison: tests/fixtures/step.json must be what
//! this engine computes, and tests/fixtures/conv-step.json for the conv net (regenerate both
//! with `BURSTCCN_BLESS=1 cargo test --test fixture`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burstccn::{kernels, snapshot};

#[test]
fn fixture_matches_the_native_engine() {
    let fast = common::fixture_run(kernels::best());
    if std::env::var_os("BURSTCCN_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/step.json");
        std::fs::write(path, snapshot::to_json(&fast)).unwrap();
    }
    let stored = snapshot::from_json(common::FIXTURE).unwrap();
    let reference = common::fixture_run(kernels::scalar());
    assert!(common::max_difference(&fast, &stored) <= 1e-5, "fast kernels vs fixture");
    assert!(common::max_difference(&reference, &stored) <= 1e-5, "scalar kernels vs fixture");
    // The run really trained: parameters moved from their initial values.
    let fresh = burstccn::model::Network::new(common::fixture_config()).unwrap();
    assert!(common::max_difference(&fresh, &stored) > 1e-3);
}

#[test]
fn conv_fixture_matches_the_native_engine() {
    let fast = common::conv_fixture_run(kernels::best());
    if std::env::var_os("BURSTCCN_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/conv-step.json");
        std::fs::write(path, snapshot::to_json(&fast)).unwrap();
    }
    let stored = snapshot::from_json(common::CONV_FIXTURE).unwrap();
    assert!(stored.config().is_conv());
    let reference = common::conv_fixture_run(kernels::scalar());
    assert!(common::max_difference(&fast, &stored) <= 1e-5, "fast kernels vs fixture");
    assert!(common::max_difference(&reference, &stored) <= 1e-5, "scalar kernels vs fixture");
    let fresh = burstccn::model::Network::new(common::conv_fixture_config()).unwrap();
    assert!(common::max_difference(&fresh, &stored) > 1e-3);
}
