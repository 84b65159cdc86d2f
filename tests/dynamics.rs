//! The continuous-time model (SPEC.md, "Continuous-time model"): its steady state against the
//! discrete model, its plasticity, the paper's online regression task, burst multiplexing, and
//! the errors bad settings give.
#![cfg(not(target_arch = "wasm32"))]

use burstccn::continuous::{
    ContinuousConfig, ContinuousFeedback, ContinuousNetwork, Phase, RegressionConfig, RegressionTask, TraceBuffer,
};
use burstccn::kernels;
use burstccn::model::{Config, FeedbackMode, Network, Rule};
use burstccn::multiplex::{run_random_schedule, Ensemble, MultiplexConfig, ScheduleConfig, SynapseParams};
use burstccn::rng::Random;
use burstccn::Error;

fn field_of<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Config { field, .. }) => field,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

// ------------------------------------------------------------------------ steady state

/// A discrete network and a continuous one with the same W, b, Y and Q.
fn twin_networks(layers: &[usize], symmetric: bool, dt: f32) -> (Network, ContinuousNetwork) {
    let mode = if symmetric { FeedbackMode::Tied } else { FeedbackMode::Random };
    let cfg = Config {
        layers: layers.to_vec(),
        batch_size: 1,
        y_mode: mode,
        y_scale: 1.0,
        q_mode: mode,
        p_baseline: 0.5,
        lr: 0.01,
        lr_q: 0.0,
        seed: 5,
        ..Config::default()
    };
    let mut discrete = Network::new(cfg).unwrap();
    discrete.set_kernels(kernels::scalar());
    // Non-zero biases, so they are checked too.
    let mut rng = Random::new(9, 0);
    for k in 0..layers.len() - 1 {
        let w = discrete.layers()[k].weight.clone();
        let b: Vec<f32> = (0..layers[k + 1]).map(|_| rng.uniform_in(-0.5, 0.5)).collect();
        discrete.set_weight(k, &w, &b).unwrap();
    }
    let ccfg = ContinuousConfig {
        layers: layers.to_vec(),
        dt,
        feedback: if symmetric { ContinuousFeedback::Symmetric } else { ContinuousFeedback::Random },
        p_baseline: 0.5,
        ..ContinuousConfig::default()
    };
    let mut continuous = ContinuousNetwork::new(ccfg).unwrap();
    for (k, l) in discrete.layers().iter().enumerate() {
        continuous.set_weight(k, &l.weight, &l.bias).unwrap();
    }
    if !symmetric {
        for (k, f) in discrete.feedback().iter().enumerate() {
            continuous.set_feedback(k, &f.y, &f.q).unwrap();
        }
    }
    (discrete, continuous)
}

fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}]: continuous {g}, discrete {w}");
    }
}

/// With a constant input and teacher, the continuous dynamics settle on one discrete pass:
/// same event rates and burst probabilities in every layer, and apical potentials equal to
/// the discrete model's `4·u⊙(1 − e)`. For random (independent Y, Q) and symmetric feedback,
/// with true leaky integration (dt = τ/10) and with SPEC's dt = τ.
#[test]
fn steady_state_equals_one_discrete_pass() {
    for (symmetric, dt) in [(false, 0.01), (true, 0.01), (false, 0.1), (true, 0.1)] {
        let layers = [4, 7, 5, 3];
        let (mut discrete, mut continuous) = twin_networks(&layers, symmetric, dt);
        let x = [0.9f32, 0.1, 0.6, 0.3];
        let label = 2u8;
        let teacher = [0.0f32, 0.0, 1.0];
        discrete.load_inputs(&x).unwrap();
        discrete.present(&[label]).unwrap();
        let settled = continuous.settle(&x, Some(&teacher), 1e-7, 20_000).unwrap();
        assert!(settled.converged, "did not settle: {settled:?}");
        let depth = layers.len() - 1;
        for k in 0..depth {
            let what = format!("symmetric={symmetric} dt={dt} layer {k}");
            assert_close(&format!("{what} event rate"), continuous.event_rate(k), discrete.event_rate(k), 1e-5);
            assert_close(&format!("{what} burst prob"), continuous.burst_prob(k), discrete.burst_prob(k), 1e-4);
            assert_close(&format!("{what} burst rate"), continuous.burst_rate(k), discrete.burst_rate(k), 1e-4);
            if k + 1 < depth {
                let scaled: Vec<f32> =
                    discrete.apical(k).iter().zip(discrete.event_rate(k)).map(|(u, e)| 4.0 * u * (1.0 - e)).collect();
                assert_close(&format!("{what} apical"), continuous.apical(k), &scaled, 1e-4);
            } else {
                assert!(continuous.apical(k).is_empty());
            }
        }
        // The error really reached the first layer (not a trivial p = p_b everywhere).
        assert!(continuous.burst_prob(0).iter().any(|p| (p - 0.5).abs() > 1e-3), "no burst signal in layer 0");
    }
}

/// At the steady state, one plastic step changes W and b by (dt/τ_W)(p − p_b)·e·preᵀ, which
/// is the discrete BurstCCN update with η = dt/τ_W.
#[test]
fn plastic_step_is_the_discrete_update_with_eta_dt_over_tau_w() {
    let layers = [3, 6, 2];
    let (mut discrete, mut continuous) = twin_networks(&layers, true, 0.1);
    let eta = continuous.config().dt / continuous.config().tau_w;
    let mut cfg = discrete.config().clone();
    cfg.lr = eta;
    discrete.set_config(cfg).unwrap();
    let x = [0.2f32, 0.8, 0.5];
    let teacher = [1.0f32, 0.0];
    discrete.load_inputs(&x).unwrap();
    let updates = discrete.proposed_updates(&[0], Rule::Burstccn).unwrap();
    assert!(continuous.settle(&x, Some(&teacher), 0.0, 100).unwrap().converged);
    let before: Vec<(Vec<f32>, Vec<f32>)> = continuous.layers().iter().map(|l| (l.weight.clone(), l.bias.clone())).collect();
    continuous.set_plasticity(true);
    continuous.step(&x, Some(&teacher)).unwrap();
    for (k, ((dw, db), (w0, b0))) in updates.iter().zip(&before).enumerate() {
        let l = &continuous.layers()[k];
        let got_dw: Vec<f32> = l.weight.iter().zip(w0).map(|(a, b)| a - b).collect();
        let got_db: Vec<f32> = l.bias.iter().zip(b0).map(|(a, b)| a - b).collect();
        // W is read back as a difference of two f32 near 1: a few ulps (1.2e-7) of slack.
        assert_close(&format!("ΔW layer {k}"), &got_dw, dw, 5e-7);
        assert_close(&format!("Δb layer {k}"), &got_db, db, 5e-7);
        assert!(dw.iter().any(|v| v.abs() > 1e-6), "layer {k} update is trivially zero");
    }
    // Symmetric feedback follows W at once.
    assert_eq!(continuous.feedback()[0].y, continuous.layers()[1].weight);
    let q: Vec<f32> = continuous.layers()[1].weight.iter().map(|w| 0.5 * w).collect();
    assert_eq!(continuous.feedback()[0].q, q);
}

/// No teacher, symmetric feedback: the two feedback paths cancel, every burst probability sits
/// at baseline (p_b = σ(0) = 0.5), and always-on plasticity changes nothing.
#[test]
fn without_a_teacher_there_is_no_plasticity() {
    let mut net = ContinuousNetwork::new(ContinuousConfig { layers: vec![3, 8, 4, 2], ..ContinuousConfig::default() }).unwrap();
    let w0: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight.clone()).collect();
    net.set_plasticity(true);
    for i in 0..200 {
        let t = i as f32 * 0.1;
        net.step(&[t.sin(), (0.7 * t).cos(), 0.3], None).unwrap();
    }
    for (k, w) in w0.iter().enumerate() {
        assert!(net.burst_prob(k).iter().all(|&p| (p - 0.5).abs() < 1e-6), "layer {k}: {:?}", net.burst_prob(k));
        assert_eq!(&net.layers()[k].weight, w, "layer {k} changed without a teacher");
    }
}

#[test]
fn step_checks_its_inputs() {
    let mut net = ContinuousNetwork::new(ContinuousConfig::default()).unwrap();
    assert!(matches!(net.step(&[0.0, 0.0], None), Err(Error::Shape(_))));
    assert!(matches!(net.step(&[0.0, f32::NAN, 0.0], None), Err(Error::Shape(_))));
    assert!(matches!(net.step(&[0.0; 3], Some(&[0.5, 0.5])), Err(Error::Shape(_))));
    assert!(matches!(net.step(&[0.0; 3], Some(&[f32::INFINITY])), Err(Error::Shape(_))));
    assert!(matches!(net.set_weight(0, &[0.0; 3], &[0.0; 50]), Err(Error::Shape(_))));
    assert_eq!(field_of(net.set_feedback(0, &[0.0; 50], &[0.0; 50])), "feedback");
    net.step(&[0.1, 0.2, 0.3], Some(&[0.7])).unwrap();
    assert_eq!(net.steps(), 1);
}

// ------------------------------------------------------------------------ regression task

/// The task's defaults: SPEC's network, teacher, inputs, dt, time constants and prediction
/// phases (1,000 s), with a 50,000 s teaching phase (SPEC: 100,000 s) to keep the test fast.
fn regression(seed: u64, plasticity: bool, learn: f64) -> (RegressionTask, burstccn::continuous::RegressionSummary) {
    let mut cfg = RegressionConfig { learn, window: 1_000.0, plasticity, ..RegressionConfig::default() };
    assert_eq!((cfg.before, cfg.after), (1_000.0, 1_000.0));
    cfg.network.seed = seed;
    let mut task = RegressionTask::new(cfg).unwrap();
    let summary = task.run().unwrap();
    (task, summary)
}

fn check_learns(seed: u64) {
    let (task, s) = regression(seed, true, RegressionConfig::default().learn);
    assert!(
        s.after_mse * 5.0 <= s.before_mse,
        "seed {seed}: error before {:.6}, after {:.6} ({:.1}× lower, need 5×)",
        s.before_mse,
        s.after_mse,
        s.improvement
    );
    assert!(s.after_mse < 0.01, "seed {seed}: output does not track the target (MSE {})", s.after_mse);
    // The series covers the run in order, prediction windows at both ends.
    let w = task.windows();
    assert!(!w[0].teacher && !w[0].plasticity && w.last().is_some_and(|l| !l.teacher && !l.plasticity));
    assert!(w.windows(2).all(|p| p[0].end <= p[1].start + 1e-6));
    assert!((w.last().unwrap().end - 52_000.0).abs() < 1e-3);
    eprintln!("seed {seed}: before {:.6}, after {:.6}: {:.1}× lower", s.before_mse, s.after_mse, s.improvement);
}

#[test]
fn regression_learns_seed_1() {
    check_learns(1);
}

#[test]
fn regression_learns_seed_2() {
    check_learns(2);
}

#[test]
fn regression_learns_seed_3() {
    check_learns(3);
}

/// The control: the teacher is present but plasticity is off, so nothing is learned and the
/// error does not drop (the weights are exactly the initial ones).
#[test]
fn regression_without_plasticity_does_not_learn() {
    for seed in [1, 2, 3] {
        let (task, s) = regression(seed, false, 2_000.0);
        assert!(
            s.after_mse > 0.5 * s.before_mse,
            "seed {seed}: error dropped without plasticity: {} → {}",
            s.before_mse,
            s.after_mse
        );
        let fresh = ContinuousNetwork::new(task.config().network.clone()).unwrap();
        for (a, b) in task.network().layers().iter().zip(fresh.layers()) {
            assert_eq!(a.weight, b.weight);
            assert_eq!(a.bias, b.bias);
        }
    }
}

#[test]
fn regression_task_is_reproducible_and_follows_its_schedule() {
    let cfg = RegressionConfig { before: 10.0, learn: 30.0, after: 10.0, window: 5.0, ..RegressionConfig::default() };
    let mut a = RegressionTask::new(cfg.clone()).unwrap();
    assert_eq!(a.schedule(), [100, 300, 100]);
    // Inputs are SPEC's sinusoids, ω_i ≤ π/2, and the target a sigmoid.
    let (omega, phi) = a.input_waves();
    assert!(omega.iter().all(|&w| (0.0..=std::f64::consts::FRAC_PI_2).contains(&w)));
    assert!(phi.iter().all(|&p| (0.0..std::f64::consts::TAU).contains(&p)));
    assert!((a.input()[0] as f64 - phi[0].sin()).abs() < 1e-6);
    assert!(a.target()[0] > 0.0 && a.target()[0] < 1.0);
    let (w1, _, w2, _) = a.teacher();
    assert!(w1.iter().all(|w| w.abs() <= 3f32.sqrt()) && w2.iter().all(|w| w.abs() <= 0.6));
    let mut phases = Vec::new();
    while let Some(p) = a.step_scheduled().unwrap() {
        if phases.last() != Some(&p) {
            phases.push(p);
        }
    }
    assert_eq!(phases, [Phase::Before, Phase::Learning, Phase::After]);
    assert_eq!(a.steps(), 500);
    a.flush_window();
    assert_eq!(a.windows().len(), 10);
    let mut b = RegressionTask::new(cfg.clone()).unwrap();
    b.run().unwrap();
    assert_eq!(a.summary(), b.summary());
    assert_eq!(a.output(), b.output());
    let mut c = RegressionTask::new(RegressionConfig { network: ContinuousConfig { seed: 2, ..cfg.network.clone() }, ..cfg }).unwrap();
    c.run().unwrap();
    assert_ne!(a.summary(), c.summary());
}

// ------------------------------------------------------------------------ multiplexing

#[test]
fn multiplexing_two_synapses_decode_two_signals() {
    for seed in [1, 2] {
        let cfg = MultiplexConfig { seed, ..MultiplexConfig::default() };
        let (ens, r) = run_random_schedule(&cfg, &ScheduleConfig::default()).unwrap();
        eprintln!("seed {seed}: {r:?}");
        assert!(r.depressing_vs_event_rate >= 0.9, "{r:?}");
        assert!(r.facilitating_vs_burst_rate >= 0.9, "{r:?}");
        assert!(r.depressing_vs_burst_rate <= r.depressing_vs_event_rate - 0.2, "{r:?}");
        assert!(r.facilitating_vs_event_rate <= r.facilitating_vs_burst_rate - 0.2, "{r:?}");
        // The spike statistics are what was asked for: the commanded event rate and burst rate
        // (integrated over the samples), and one extra spike per burst.
        let c = r.counts;
        let s = ens.samples();
        let scale = f64::from(cfg.sample_interval) * cfg.neurons as f64;
        let want_events: f64 = s.event_rate.to_vec().iter().map(|&e| f64::from(e) * scale).sum();
        let want_bursts: f64 = s.burst_rate.to_vec().iter().map(|&b| f64::from(b) * scale).sum();
        assert!((c.events as f64 / want_events - 1.0).abs() < 0.03, "{c:?}, expected {want_events:.0} events");
        assert!((c.bursts as f64 / want_bursts - 1.0).abs() < 0.03, "{c:?}, expected {want_bursts:.0} bursts");
        assert!(c.spikes <= c.events + c.bursts && c.spikes + cfg.neurons as u64 >= c.events + c.bursts, "{c:?}");
        // Raster: per neuron, burst spikes come in pairs closer than 16 ms; single spikes and
        // burst onsets are at least the refractory period apart.
        let mut per_neuron: Vec<Vec<(f64, bool)>> = vec![Vec::new(); cfg.raster_neurons];
        for s in ens.raster() {
            per_neuron[s.neuron as usize].push((s.time, s.burst));
        }
        let mut bursts_seen = 0;
        for spikes in &per_neuron {
            let mut i = 0;
            while i < spikes.len() {
                let (t, burst) = spikes[i];
                if burst {
                    let Some(&(t2, b2)) = spikes.get(i + 1) else { break };
                    assert!(b2 && t2 - t < 0.016 && t2 - t >= 0.005 - 1e-9, "burst ISI {}", t2 - t);
                    bursts_seen += 1;
                    i += 2;
                } else {
                    i += 1;
                }
                if let Some(&(next, _)) = spikes.get(i) {
                    assert!(next - t >= cfg.refractory as f64 - 1e-9, "events {} s apart", next - t);
                }
            }
        }
        assert!(bursts_seen > 100);
        // Samples are aligned and in [0, ∞).
        assert_eq!(s.time.len(), s.decoded_burst_rate.len());
        assert!(s.decoded_event_rate.to_vec().iter().all(|v| v.is_finite() && *v >= 0.0));
    }
}

/// Each readout follows its own signal: doubling the event rate at a fixed burst probability
/// raises both (the burst rate doubles too); raising the burst probability at a fixed event
/// rate raises the facilitating readout a lot and leaves the depressing one nearly alone.
#[test]
fn multiplexing_each_readout_follows_its_own_signal() {
    let mut ens = Ensemble::new(MultiplexConfig { neurons: 1000, ..MultiplexConfig::default() }).unwrap();
    let settle = |ens: &mut Ensemble, e: f32, p: f32| {
        ens.set_event_rate(e).unwrap();
        ens.set_burst_prob(p).unwrap();
        ens.advance(2000);
        (ens.decoded_event_rate(), ens.decoded_burst_rate())
    };
    let (dep_a, fac_a) = settle(&mut ens, 5.0, 0.2);
    let (dep_b, fac_b) = settle(&mut ens, 10.0, 0.2);
    let (dep_c, fac_c) = settle(&mut ens, 10.0, 0.8);
    assert!(dep_b > 1.4 * dep_a, "depressing: {dep_a} → {dep_b} when the event rate doubles");
    assert!(fac_b > 1.4 * fac_a, "facilitating: {fac_a} → {fac_b} when the burst rate doubles");
    assert!(fac_c > 2.5 * fac_b, "facilitating: {fac_b} → {fac_c} when the burst rate quadruples");
    assert!((dep_c / dep_b - 1.0).abs() < 0.2, "depressing: {dep_b} → {dep_c} at the same event rate");
    // In their units: the facilitating readout near the burst rate when bursts are rare enough
    // not to deplete it, the depressing one below the event rate by its depression.
    assert!((fac_a - 1.0).abs() < 0.5, "decoded burst rate {fac_a} for a burst rate of 1 Hz");
    assert!(dep_a > 2.5 && dep_a < 5.5, "decoded event rate {dep_a} for an event rate of 5 Hz");
}

#[test]
fn trace_buffer_keeps_the_newest() {
    let mut t = TraceBuffer::new(3);
    for v in 0..5 {
        t.push(v as f32);
    }
    assert_eq!(t.to_vec(), [2.0, 3.0, 4.0]);
    t.clear();
    assert!(t.is_empty());
    let mut none = TraceBuffer::new(0);
    none.push(1.0);
    assert!(none.is_empty());
}

// ------------------------------------------------------------------------ bad settings

#[test]
fn bad_configurations_name_the_field() {
    let net = |f: fn(&mut ContinuousConfig)| {
        let mut c = ContinuousConfig::default();
        f(&mut c);
        field_of(ContinuousNetwork::new(c))
    };
    assert_eq!(net(|c| c.layers = vec![3]), "layers");
    assert_eq!(net(|c| c.layers = vec![3, 0, 1]), "layers");
    assert_eq!(net(|c| c.dt = 0.0), "dt");
    assert_eq!(net(|c| c.dt = f32::NAN), "dt");
    assert_eq!(net(|c| c.tau_v = 0.05), "tau_v");
    assert_eq!(net(|c| c.tau_u = -1.0), "tau_u");
    assert_eq!(net(|c| c.tau_w = f32::INFINITY), "tau_w");
    assert_eq!(net(|c| c.p_baseline = 1.0), "p_baseline");
    assert_eq!(net(|c| c.apical_gain = -4.0), "apical_gain");
    assert_eq!(net(|c| c.y_scale = f32::NAN), "y_scale");
    assert_eq!(net(|c| c.init_scale = 1e9), "init_scale");
    assert_eq!(net(|c| c.seed = u64::MAX), "seed");

    let task = |f: fn(&mut RegressionConfig)| {
        let mut c = RegressionConfig::default();
        f(&mut c);
        field_of(RegressionTask::new(c))
    };
    assert_eq!(task(|c| c.network.dt = 0.0), "network.dt");
    assert_eq!(task(|c| c.teacher_hidden = 0), "teacher_hidden");
    assert_eq!(task(|c| c.teacher_first_range = f32::NAN), "teacher_first_range");
    assert_eq!(task(|c| c.max_frequency = -1.0), "max_frequency");
    assert_eq!(task(|c| c.before = 0.0), "before");
    assert_eq!(task(|c| c.learn = -5.0), "learn");
    assert_eq!(task(|c| c.after = f64::NAN), "after");
    assert_eq!(task(|c| c.window = 0.0), "window");

    // JSON patches (the page's settings) name the field too, nested ones by their path.
    let base = RegressionConfig::default();
    assert_eq!(field_of(base.patched(&serde_json::json!({"learn": "long"}))), "learn");
    assert_eq!(field_of(base.patched(&serde_json::json!({"lern": 5}))), "lern");
    assert_eq!(field_of(base.patched(&serde_json::json!({"network": {"tau_w": 0}}))), "network.tau_w");
    assert_eq!(field_of(base.patched(&serde_json::json!({"network": {"tau": 1}}))), "network.tau");
    let ok = base.patched(&serde_json::json!({"learn": 10, "network": {"seed": 4}})).unwrap();
    assert_eq!((ok.learn, ok.network.seed, ok.network.tau_w), (10.0, 4, 100.0));

    let mux = |f: fn(&mut MultiplexConfig)| {
        let mut c = MultiplexConfig::default();
        f(&mut c);
        field_of(Ensemble::new(c))
    };
    assert_eq!(mux(|c| c.neurons = 0), "neurons");
    assert_eq!(mux(|c| c.dt = 0.0), "dt");
    assert_eq!(mux(|c| c.burst_spikes = 1), "burst_spikes");
    assert_eq!(mux(|c| c.burst_isi_max = 0.02), "burst_isi_max");
    assert_eq!(mux(|c| c.burst_isi_min = 0.0005), "burst_isi_min");
    assert_eq!(mux(|c| c.refractory = 0.008), "refractory");
    assert_eq!(mux(|c| c.depressing.release_prob = 0.0), "depressing.release_prob");
    assert_eq!(mux(|c| c.facilitating = SynapseParams { tau_recovery: 0.0, ..SynapseParams::FACILITATING }), "facilitating.tau_recovery");
    assert_eq!(mux(|c| c.tau_readout = f32::NAN), "tau_readout");
    assert_eq!(mux(|c| c.raster_neurons = 1000), "raster_neurons");

    let mut ens = Ensemble::new(MultiplexConfig::default()).unwrap();
    assert_eq!(field_of(ens.set_event_rate(-1.0)), "event_rate");
    assert_eq!(field_of(ens.set_event_rate(45.0)), "event_rate");
    assert_eq!(field_of(ens.set_burst_prob(1.5)), "burst_prob");
    let sched = |f: fn(&mut ScheduleConfig)| {
        let mut s = ScheduleConfig::default();
        f(&mut s);
        field_of(run_random_schedule(&MultiplexConfig::default(), &s))
    };
    assert_eq!(sched(|s| s.warmup = 50.0), "warmup");
    assert_eq!(sched(|s| s.event_rate_max = 100.0), "event_rate_max");
    assert_eq!(sched(|s| s.burst_prob_max = -0.1), "burst_prob_max");
}
