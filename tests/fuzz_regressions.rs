//! Inputs the fuzz targets (fuzz/, `make fuzz`) found breaking a property, each kept here as
//! bytes so the normal suite checks the fix. The name of each test says which target found it.
#![cfg(not(target_arch = "wasm32"))]

use burstccn::model::Config;
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
