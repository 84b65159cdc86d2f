//! `burstccn continuous` (the paper's online regression task with the continuous-time model)
//! and `burstccn multiplex` (one spike train, two signals, two synapses).
//!
//! ```text
//! burstccn continuous                       # a short run that shows learning in seconds
//! burstccn continuous --spec-durations      # SPEC.md's 1,000 s / 100,000 s / 1,000 s
//! burstccn continuous --no-plasticity       # the control: the teacher alone changes nothing
//! burstccn multiplex --json
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use burstccn::continuous::{ContinuousConfig, ContinuousFeedback, ErrorWindow, RegressionConfig, RegressionSummary, RegressionTask};
use burstccn::multiplex::{run_random_schedule, MultiplexConfig, MultiplexReport, ScheduleConfig, Spike, SynapseParams};
use clap::{Args, ValueEnum};
use serde::Serialize;

#[derive(Clone, Copy, ValueEnum)]
pub enum FeedbackArg {
    Symmetric,
    Random,
}

/// The regression task: every parameter of the network, the teacher and the schedule.
#[derive(Args)]
pub struct ContinuousArgs {
    /// Student units per layer, input first (inputs = sinusoids, outputs = teacher outputs).
    #[arg(long, value_delimiter = ',', default_value = "3,50,1")]
    layers: Vec<usize>,
    /// Time step dt, seconds.
    #[arg(long, default_value_t = ContinuousConfig::default().dt)]
    dt: f32,
    /// Somatic time constant τ_v, seconds.
    #[arg(long, default_value_t = ContinuousConfig::default().tau_v)]
    tau_v: f32,
    /// Apical time constant τ_u, seconds.
    #[arg(long, default_value_t = ContinuousConfig::default().tau_u)]
    tau_u: f32,
    /// Plasticity time constant τ_W, seconds.
    #[arg(long, default_value_t = ContinuousConfig::default().tau_w)]
    tau_w: f32,
    /// Baseline burst probability p_b.
    #[arg(long, default_value_t = ContinuousConfig::default().p_baseline)]
    p_baseline: f32,
    /// Gain of the apical input, the 4 in 4(1 − e)⊙(Yᵀb − Qᵀe).
    #[arg(long, default_value_t = ContinuousConfig::default().apical_gain)]
    apical_gain: f32,
    /// Feedback: symmetric (Y = W above, Q = p_b·Y, re-copied) or random (fixed).
    #[arg(long, value_enum, default_value = "symmetric")]
    feedback: FeedbackArg,
    /// Random feedback: std of Y as a multiple of √(2/(n_l + n_{l+1})).
    #[arg(long, default_value_t = ContinuousConfig::default().y_scale)]
    y_scale: f32,
    /// Initial W std as a multiple of √(2/(fan_in + fan_out)).
    #[arg(long, default_value_t = ContinuousConfig::default().init_scale)]
    init_scale: f32,
    /// Hidden units of the teacher network.
    #[arg(long, default_value_t = RegressionConfig::default().teacher_hidden)]
    teacher_hidden: usize,
    /// Teacher first-layer weights ~ U(±this).
    #[arg(long, default_value_t = RegressionConfig::default().teacher_first_range)]
    teacher_first_range: f32,
    /// Teacher second-layer weights ~ U(±this).
    #[arg(long, default_value_t = RegressionConfig::default().teacher_second_range)]
    teacher_second_range: f32,
    /// Teacher biases ~ U(±this/√fan_in) (0: none).
    #[arg(long, default_value_t = RegressionConfig::default().teacher_bias_scale)]
    teacher_bias_scale: f32,
    /// Input frequencies ω_i ~ U(0, this), rad/s.
    #[arg(long, default_value_t = RegressionConfig::default().max_frequency)]
    max_frequency: f32,
    /// Feed the inputs as rates (1 + sin)/2 in [0, 1] instead of the sinusoids themselves.
    #[arg(long)]
    rate_inputs: bool,
    /// Seconds of prediction before learning.
    #[arg(long, default_value_t = RegressionConfig::default().before)]
    before: f64,
    /// Seconds of teacher + plasticity.
    #[arg(long, default_value_t = RegressionConfig::default().learn)]
    learn: f64,
    /// Seconds of prediction after learning.
    #[arg(long, default_value_t = RegressionConfig::default().after)]
    after: f64,
    /// SPEC.md's durations (1,000 s, 100,000 s, 1,000 s), overriding --before/--learn/--after.
    #[arg(long)]
    spec_durations: bool,
    /// Seconds per point of the error-over-time series.
    #[arg(long, default_value_t = RegressionConfig::default().window)]
    window: f64,
    /// The control: teacher present but no plasticity.
    #[arg(long)]
    no_plasticity: bool,
    /// Seed of student, teacher and inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON lines: one per error window, then the summary.
    #[arg(long)]
    json: bool,
}

impl ContinuousArgs {
    fn config(&self) -> RegressionConfig {
        let network = ContinuousConfig {
            layers: self.layers.clone(),
            dt: self.dt,
            tau_v: self.tau_v,
            tau_u: self.tau_u,
            tau_w: self.tau_w,
            p_baseline: self.p_baseline,
            apical_gain: self.apical_gain,
            feedback: match self.feedback {
                FeedbackArg::Symmetric => ContinuousFeedback::Symmetric,
                FeedbackArg::Random => ContinuousFeedback::Random,
            },
            y_scale: self.y_scale,
            init_scale: self.init_scale,
            seed: self.seed,
        };
        let cfg = RegressionConfig {
            network,
            teacher_hidden: self.teacher_hidden,
            teacher_first_range: self.teacher_first_range,
            teacher_second_range: self.teacher_second_range,
            teacher_bias_scale: self.teacher_bias_scale,
            max_frequency: self.max_frequency,
            rate_inputs: self.rate_inputs,
            before: self.before,
            learn: self.learn,
            after: self.after,
            window: self.window,
            plasticity: !self.no_plasticity,
        };
        if self.spec_durations {
            cfg.spec_durations()
        } else {
            cfg
        }
    }
}

fn to_line<T: Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| e.to_string())
}

fn phase_name(w: &ErrorWindow) -> &'static str {
    match (w.teacher, w.plasticity) {
        (false, false) => "prediction",
        (true, true) => "teacher+plasticity",
        (true, false) => "teacher only",
        (false, true) => "plasticity only",
    }
}

pub fn continuous(a: ContinuousArgs) -> Result<(), String> {
    let cfg = a.config();
    let mut task = RegressionTask::new(cfg.clone()).map_err(|e| e.to_string())?;
    let sizes = |l: &[usize]| l.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("-");
    let layers = &cfg.network.layers;
    let teacher = [layers[0], cfg.teacher_hidden, layers[layers.len() - 1]];
    if !a.json {
        eprintln!(
            "continuous BurstCCN: student {} learns teacher {} online (seed {}); {} s prediction, {} s teacher{}, {} s prediction; dt {} s = {} steps",
            sizes(layers),
            sizes(&teacher),
            cfg.network.seed,
            cfg.before,
            cfg.learn,
            if cfg.plasticity { " + plasticity" } else { " without plasticity (control)" },
            cfg.after,
            cfg.network.dt,
            task.total_steps()
        );
    }
    let started = Instant::now();
    let summary = task.run().map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let steps_per_sec = summary.steps as f64 / secs.max(1e-9);
    let windows = task.windows();
    if a.json {
        // Serialised straight from the structs, so f32 settings print as written (0.1, not
        // 0.10000000149011612 as a detour through serde_json::Value would).
        #[derive(Serialize)]
        struct Last<'a> {
            summary: RegressionSummary,
            steps_per_sec: f64,
            wall_seconds: f64,
            config: &'a RegressionConfig,
        }
        let mut out = std::io::stdout().lock();
        for w in windows {
            writeln!(out, "{}", to_line(w)?).map_err(|e| e.to_string())?;
        }
        let last = Last { summary, steps_per_sec: steps_per_sec.round(), wall_seconds: secs, config: &cfg };
        writeln!(out, "{}", to_line(&last)?).map_err(|e| e.to_string())?;
        return Ok(());
    }
    // About 40 evenly spaced windows, always including the first and the last.
    let stride = windows.len().div_ceil(40).max(1);
    eprintln!("{:>10} {:>10}  {:<20} {:>10}", "from (s)", "to (s)", "phase", "MSE");
    for (i, w) in windows.iter().enumerate() {
        if i % stride == 0 || i + 1 == windows.len() {
            eprintln!("{:>10.0} {:>10.0}  {:<20} {:>10.6}", w.start, w.end, phase_name(w), w.mse);
        }
    }
    let teaching = if summary.learning_mse.is_finite() { format!("{:.6}", summary.learning_mse) } else { "no teaching phase".into() };
    println!(
        "before learning: MSE {:.6}   after: {:.6}   ({:.1}× lower)   during teaching: {teaching}",
        summary.before_mse, summary.after_mse, summary.improvement
    );
    println!("{} steps ({} s simulated) in {:.2} s: {:.0} steps/s", summary.steps, summary.seconds, secs, steps_per_sec);
    Ok(())
}

/// Burst multiplexing: the ensemble, its synapses and the random schedule.
#[derive(Args)]
pub struct MultiplexArgs {
    /// Neurons in the ensemble.
    #[arg(long, default_value_t = MultiplexConfig::default().neurons)]
    neurons: usize,
    /// Time step, seconds.
    #[arg(long, default_value_t = MultiplexConfig::default().dt)]
    dt: f32,
    /// Spikes per burst.
    #[arg(long, default_value_t = MultiplexConfig::default().burst_spikes)]
    burst_spikes: u32,
    /// Shortest interval between the spikes of a burst, seconds.
    #[arg(long, default_value_t = MultiplexConfig::default().burst_isi_min)]
    burst_isi_min: f32,
    /// Longest interval between the spikes of a burst, seconds.
    #[arg(long, default_value_t = MultiplexConfig::default().burst_isi_max)]
    burst_isi_max: f32,
    /// Dead time after each event's onset, seconds (longer than any burst).
    #[arg(long, default_value_t = MultiplexConfig::default().refractory)]
    refractory: f32,
    /// Depressing synapse: release probability U.
    #[arg(long, default_value_t = SynapseParams::DEPRESSING.release_prob)]
    dep_release_prob: f32,
    /// Depressing synapse: facilitation f.
    #[arg(long, default_value_t = SynapseParams::DEPRESSING.facilitation)]
    dep_facilitation: f32,
    /// Depressing synapse: recovery time τ_D, seconds.
    #[arg(long, default_value_t = SynapseParams::DEPRESSING.tau_recovery)]
    dep_tau_recovery: f32,
    /// Depressing synapse: facilitation decay τ_F, seconds.
    #[arg(long, default_value_t = SynapseParams::DEPRESSING.tau_facilitation)]
    dep_tau_facilitation: f32,
    /// Facilitating synapse: release probability U.
    #[arg(long, default_value_t = SynapseParams::FACILITATING.release_prob)]
    fac_release_prob: f32,
    /// Facilitating synapse: facilitation f.
    #[arg(long, default_value_t = SynapseParams::FACILITATING.facilitation)]
    fac_facilitation: f32,
    /// Facilitating synapse: recovery time τ_D, seconds.
    #[arg(long, default_value_t = SynapseParams::FACILITATING.tau_recovery)]
    fac_tau_recovery: f32,
    /// Facilitating synapse: facilitation decay τ_F, seconds.
    #[arg(long, default_value_t = SynapseParams::FACILITATING.tau_facilitation)]
    fac_tau_facilitation: f32,
    /// Smoothing time constant of the readouts, seconds.
    #[arg(long, default_value_t = MultiplexConfig::default().tau_readout)]
    tau_readout: f32,
    /// Seconds between samples.
    #[arg(long, default_value_t = MultiplexConfig::default().sample_interval)]
    sample_interval: f32,
    /// Seconds simulated.
    #[arg(long, default_value_t = ScheduleConfig::default().duration)]
    duration: f32,
    /// Seconds left out of the correlations at the start.
    #[arg(long, default_value_t = ScheduleConfig::default().warmup)]
    warmup: f32,
    /// Shortest segment of the random schedule, seconds.
    #[arg(long, default_value_t = ScheduleConfig::default().segment_min)]
    segment_min: f32,
    /// Longest segment of the random schedule, seconds.
    #[arg(long, default_value_t = ScheduleConfig::default().segment_max)]
    segment_max: f32,
    /// Lowest event rate, Hz.
    #[arg(long, default_value_t = ScheduleConfig::default().event_rate_min)]
    event_rate_min: f32,
    /// Highest event rate, Hz.
    #[arg(long, default_value_t = ScheduleConfig::default().event_rate_max)]
    event_rate_max: f32,
    /// Lowest burst probability.
    #[arg(long, default_value_t = ScheduleConfig::default().burst_prob_min)]
    burst_prob_min: f32,
    /// Highest burst probability.
    #[arg(long, default_value_t = ScheduleConfig::default().burst_prob_max)]
    burst_prob_max: f32,
    /// Neurons whose spikes go into the raster of --trace (the first ones).
    #[arg(long, default_value_t = MultiplexConfig::default().raster_neurons)]
    raster_neurons: usize,
    /// Seed of the spikes and the schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also write the samples (true and decoded signals) and the raster to this JSON file.
    #[arg(long)]
    trace: Option<PathBuf>,
}

pub fn multiplex(a: MultiplexArgs) -> Result<(), String> {
    let syn = |u, f, d, fac| SynapseParams { release_prob: u, facilitation: f, tau_recovery: d, tau_facilitation: fac };
    let cfg = MultiplexConfig {
        neurons: a.neurons,
        dt: a.dt,
        burst_spikes: a.burst_spikes,
        burst_isi_min: a.burst_isi_min,
        burst_isi_max: a.burst_isi_max,
        refractory: a.refractory,
        depressing: syn(a.dep_release_prob, a.dep_facilitation, a.dep_tau_recovery, a.dep_tau_facilitation),
        facilitating: syn(a.fac_release_prob, a.fac_facilitation, a.fac_tau_recovery, a.fac_tau_facilitation),
        tau_readout: a.tau_readout,
        sample_interval: a.sample_interval,
        raster_neurons: a.raster_neurons,
        seed: a.seed,
        ..MultiplexConfig::default()
    };
    let schedule = ScheduleConfig {
        duration: a.duration,
        warmup: a.warmup,
        segment_min: a.segment_min,
        segment_max: a.segment_max,
        event_rate_min: a.event_rate_min,
        event_rate_max: a.event_rate_max,
        burst_prob_min: a.burst_prob_min,
        burst_prob_max: a.burst_prob_max,
    };
    let started = Instant::now();
    let (ens, report) = run_random_schedule(&cfg, &schedule).map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(path) = &a.trace {
        let s = ens.samples();
        #[derive(Serialize)]
        struct Trace {
            time: Vec<f32>,
            event_rate: Vec<f32>,
            burst_prob: Vec<f32>,
            burst_rate: Vec<f32>,
            smoothed_event_rate: Vec<f32>,
            smoothed_burst_rate: Vec<f32>,
            decoded_event_rate: Vec<f32>,
            decoded_burst_rate: Vec<f32>,
            raster: Vec<Spike>,
        }
        let doc = Trace {
            time: s.time.to_vec(),
            event_rate: s.event_rate.to_vec(),
            burst_prob: s.burst_prob.to_vec(),
            burst_rate: s.burst_rate.to_vec(),
            smoothed_event_rate: s.smoothed_event_rate.to_vec(),
            smoothed_burst_rate: s.smoothed_burst_rate.to_vec(),
            decoded_event_rate: s.decoded_event_rate.to_vec(),
            decoded_burst_rate: s.decoded_burst_rate.to_vec(),
            raster: ens.raster().copied().collect(),
        };
        std::fs::write(path, to_line(&doc)?).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if a.json {
        #[derive(Serialize)]
        struct Out<'a> {
            report: MultiplexReport,
            config: &'a MultiplexConfig,
            schedule: &'a ScheduleConfig,
            wall_seconds: f64,
        }
        println!("{}", to_line(&Out { report, config: &cfg, schedule: &schedule, wall_seconds: secs })?);
        return Ok(());
    }
    let c = report.counts;
    println!(
        "{} neurons, {} s: {} events, {} bursts ({:.0} %), {} spikes; {} samples compared",
        cfg.neurons,
        schedule.duration,
        c.events,
        c.bursts,
        100.0 * c.bursts as f64 / c.events.max(1) as f64,
        c.spikes,
        report.samples
    );
    println!("correlation with        event rate   burst rate");
    println!("  depressing synapse    {:>10.3}   {:>10.3}", report.depressing_vs_event_rate, report.depressing_vs_burst_rate);
    println!("  facilitating synapse  {:>10.3}   {:>10.3}", report.facilitating_vs_event_rate, report.facilitating_vs_burst_rate);
    println!("  (event rate vs burst rate themselves: {:.3})", report.event_rate_vs_burst_rate);
    Ok(())
}
