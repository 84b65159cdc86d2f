//! The settings of the continuous-time view (src/continuous.rs, src/multiplex.rs): the JSON
//! objects the dynamics page hands to `ContinuousConfig::patched`, `RegressionConfig::patched`
//! (its nested `network` patched field by field), `MultiplexConfig::patched`, and a random
//! schedule (`ScheduleConfig`).
//!
//! Input: JSON text; every kind of settings is tried on it.
//!
//! Properties: no panic; whatever `patched` accepts validates and survives its own JSON; every
//! accepted configuration stays within the weight limit, and the small ones (up to `BUILD`
//! weights) build and run a few steps without panicking.
#![no_main]

use burstccn::continuous::{ContinuousConfig, ContinuousNetwork, RegressionConfig, RegressionTask, MAX_PHASE_STEPS};
use burstccn::multiplex::{run_random_schedule, Ensemble, MultiplexConfig, ScheduleConfig};
use burstccn::model::MAX_WEIGHTS;
use burstccn::Error;
use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

fn config_error(e: &Error) {
    assert!(matches!(e, Error::Config { field, reason } if !reason.is_empty()), "{e:?}");
}

/// `patch` applied to the defaults; an accepted result must survive its own JSON.
fn patched<T>(patch: &Value, apply: impl Fn(&T, &Value) -> Result<T, Error>) -> Option<T>
where
    T: Default + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    match apply(&T::default(), patch) {
        Ok(cfg) => {
            let own = serde_json::to_value(&cfg).unwrap();
            assert_eq!(apply(&T::default(), &own).as_ref(), Ok(&cfg), "a configuration does not survive its own JSON");
            Some(cfg)
        }
        Err(e) => {
            config_error(&e);
            None
        }
    }
}

/// Weights (W, and Y and Q of every hidden layer) of a continuous network with these sizes.
fn weights(layers: &[usize]) -> usize {
    let w: usize = layers.windows(2).map(|p| p[0] * p[1]).sum();
    let fb: usize = layers.windows(3).map(|p| p[1] * p[2]).sum();
    w + 2 * fb
}

/// Networks (and teachers) up to this many weights are built and run: bigger ones are valid
/// (up to `MAX_WEIGHTS`) but take seconds per input.
const BUILD: usize = 1 << 18;

fn ok_or_diverged<T>(r: Result<T, Error>, what: &str) {
    match r {
        Ok(_) | Err(Error::Diverged(_)) => {}
        Err(e) => panic!("{what} failed: {e}"),
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(input) else { return };

    let network = patched(&value, ContinuousConfig::patched);
    if let Some(cfg) = &network {
        assert!(weights(&cfg.layers) <= MAX_WEIGHTS);
    }
    if let Some(cfg) = network.filter(|c| weights(&c.layers) <= BUILD) {
        let mut net = ContinuousNetwork::new(cfg.clone()).unwrap_or_else(|e| panic!("a valid configuration does not build: {e}"));
        let input: Vec<f32> = (0..cfg.layers[0]).map(|i| (i as f32 * 0.37).sin()).collect();
        let teacher = vec![0.25f32; *cfg.layers.last().unwrap()];
        for _ in 0..3 {
            ok_or_diverged(net.step(&input, Some(&teacher)), "a continuous-time step");
        }
        ok_or_diverged(net.settle(&input, None, 1e-3, 5), "settling");
    }

    let small_task = |c: &RegressionConfig| {
        let ends = c.network.layers[0] + c.network.layers[c.network.layers.len() - 1];
        weights(&c.network.layers) <= BUILD && c.teacher_hidden * ends <= BUILD
    };
    if let Some(cfg) = patched(&value, RegressionConfig::patched).filter(small_task) {
        let mut task = RegressionTask::new(cfg).unwrap_or_else(|e| panic!("a valid regression task does not build: {e}"));
        let total = task.total_steps();
        assert!(total >= 2, "a schedule without its two prediction phases");
        assert!(task.schedule().iter().all(|&n| n <= MAX_PHASE_STEPS), "{:?}", task.schedule());
        ok_or_diverged(task.run_scheduled(3), "the regression schedule");
        let _ = task.summary();
    }

    if let Some(cfg) = patched(&value, MultiplexConfig::patched) {
        let mut ens = Ensemble::new(cfg.clone()).unwrap_or_else(|e| panic!("a valid ensemble does not build: {e}"));
        ens.set_event_rate(ens.max_event_rate().min(10.0)).expect("a rate within the maximum");
        ens.set_burst_prob(0.5).expect("a probability");
        ens.advance(20);
        assert!(ens.samples().time.len() <= cfg.max_samples.max(1));
    }

    // The random schedule of the multiplexing demo: the page patches its defaults the same way.
    if let Ok(schedule) = serde_json::from_value::<ScheduleConfig>(value) {
        match schedule.validate() {
            Ok(()) => {
                let cfg = MultiplexConfig { neurons: 4, raster_neurons: 2, ..MultiplexConfig::default() };
                // Run only short schedules (the cost is duration / dt steps).
                if schedule.duration / cfg.dt <= 2_000.0 {
                    match run_random_schedule(&cfg, &schedule) {
                        Ok((_, report)) => assert!(report.samples <= cfg.max_samples.max(1) + 1),
                        Err(e) => config_error(&e),
                    }
                }
            }
            Err(e) => config_error(&e),
        }
    }
});
