//! Snapshot import (src/snapshot.rs), binary and JSON.
//!
//! Input: a snapshot file in either encoding. A binary file is also tried with its CRC-32
//! recomputed, so that mutations reach the header and array checks behind the checksum.
//!
//! Properties: no panic, and errors are snapshot errors; an accepted snapshot re-exports to
//! bytes that import to the same network (binary → binary, binary → JSON → binary), exactly.
#![no_main]

use burstccn::data::crc32;
use burstccn::snapshot;
use burstccn::{Error, Network};
use libfuzzer_sys::fuzz_target;

fn check_round_trip(net: &Network) {
    let bytes = snapshot::to_bytes(net);
    let again = snapshot::from_bytes(&bytes).unwrap_or_else(|e| panic!("an exported binary snapshot does not import: {e}"));
    assert_eq!(snapshot::to_bytes(&again), bytes, "binary re-export differs");
    let json = snapshot::to_json(net);
    let from_json = snapshot::from_json(&json).unwrap_or_else(|e| panic!("an exported JSON snapshot does not import: {e}"));
    assert_eq!(snapshot::to_bytes(&from_json), bytes, "the JSON export is a different network");
    assert_eq!(snapshot::to_json(&from_json), json, "JSON re-export differs");
    assert_eq!(again.config(), net.config());
    assert_eq!(again.progress(), net.progress());
}

fn import(bytes: &[u8]) {
    match snapshot::load(bytes) {
        Ok(net) => {
            net.config().validate().expect("an imported network has a valid configuration");
            check_round_trip(&net);
        }
        Err(e) => assert!(matches!(&e, Error::Snapshot(m) if !m.is_empty()), "import failed with {e:?}"),
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
