//! Snapshot import (src/snapshot.rs), binary and JSON, of every model (BurstCCN, Burstprop,
//! EDN).
//!
//! Input: a snapshot file in either encoding. A binary file is also tried with its CRC-32
//! recomputed, so that mutations reach the header and array checks behind the checksum.
//!
//! Properties: no panic, and errors are snapshot errors; an accepted snapshot re-exports to
//! bytes that import to the same model (binary → binary, binary → JSON → binary), exactly;
//! the BurstCCN-only reader takes exactly the BurstCCN snapshots.
#![no_main]

use burstccn::data::crc32;
use burstccn::model::{AnyModel, ModelKind};
use burstccn::{snapshot, Error};
use libfuzzer_sys::fuzz_target;

fn check_round_trip(model: &AnyModel) {
    let bytes = snapshot::to_bytes(model);
    let again = snapshot::model_from_bytes(&bytes).unwrap_or_else(|e| panic!("an exported binary snapshot does not import: {e}"));
    assert_eq!(snapshot::to_bytes(&again), bytes, "binary re-export differs");
    let json = snapshot::to_json(model);
    let from_json = snapshot::model_from_json(&json).unwrap_or_else(|e| panic!("an exported JSON snapshot does not import: {e}"));
    assert_eq!(snapshot::to_bytes(&from_json), bytes, "the JSON export is a different model");
    assert_eq!(snapshot::to_json(&from_json), json, "JSON re-export differs");
    assert_eq!(again.config(), model.config());
    assert_eq!(again.progress(), model.progress());
}

fn snapshot_error(e: &Error) {
    assert!(matches!(e, Error::Snapshot(m) if !m.is_empty()), "import failed with {e:?}");
}

fn import(bytes: &[u8]) {
    let model = snapshot::load_model(bytes);
    let network = snapshot::load(bytes);
    match &model {
        Ok(m) => {
            m.config().validate().expect("an imported model has a valid configuration");
            check_round_trip(m);
            assert_eq!(network.is_ok(), m.kind() == ModelKind::Burstccn, "load and load_model disagree");
        }
        Err(e) => {
            snapshot_error(e);
            assert!(network.is_err(), "load takes a snapshot that load_model refuses");
        }
    }
    if let Err(e) = &network {
        snapshot_error(e);
    }
}

fuzz_target!(|input: &[u8]| {
    import(input);
    if input.starts_with(b"BCCNSNAP") && input.len() >= 20 {
        let mut fixed = input.to_vec();
        let body = fixed.len() - 4;
        let crc = crc32(&fixed[..body]);
        fixed[body..].copy_from_slice(&crc.to_le_bytes());
        import(&fixed);
    }
});
