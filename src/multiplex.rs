//! Burst multiplexing: how one spike train carries both of BurstCCN's signals.
//!
//! An ensemble of neurons emits *events* as a Poisson process at a given (time-varying)
//! event rate; each event is a *burst* (2 or more spikes a few ms apart, well under 16 ms)
//! with the given burst probability, otherwise a single spike. Two Tsodyks–Markram synapses
//! read the same spikes:
//! - a short-term *depressing* synapse (high release probability, slow recovery) releases
//!   almost everything on an event's first spike and little on the spikes that follow it
//!   closely, so its output follows the **event rate**;
//! - a short-term *facilitating* synapse (low initial release, strong facilitation) releases
//!   little on a lone spike and much on a spike that follows another closely, so its output
//!   follows the **burst rate**.
//!
//! [`Ensemble`] runs the neurons and synapses step by step (for live display: set the rates,
//! advance, read the raster and the decoded signals); [`run_random_schedule`] drives it with
//! random piecewise-constant rates and measures how well each synapse tracks each signal.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::continuous::{finite_in, patch_fields, positive, seconds_per_step, TraceBuffer};
use crate::model::{MAX_SEED, MAX_WIDTH};
use crate::rng::Random;
use crate::Error;

/// One Tsodyks–Markram synapse type. Between spikes the resources x recover to 1 with τ_D and
/// the release fraction u relaxes to U with τ_F; at a spike the synapse releases `u·x`, then
/// `x ← x − u·x` and `u ← u + f(1 − u)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynapseParams {
    /// U: the fraction released by a spike arriving at rest.
    pub release_prob: f32,
    /// f: how far each spike moves u toward 1 (0 = no facilitation).
    pub facilitation: f32,
    /// τ_D: recovery time of the resources, seconds.
    pub tau_recovery: f32,
    /// τ_F: decay time of facilitation, seconds.
    pub tau_facilitation: f32,
}

impl SynapseParams {
    /// Depressing (tracks the event rate): U = 0.9, no facilitation, τ_D = 100 ms.
    pub const DEPRESSING: SynapseParams =
        SynapseParams { release_prob: 0.9, facilitation: 0.0, tau_recovery: 0.1, tau_facilitation: 0.01 };
    /// Facilitating (tracks the burst rate): U = 0.02, f = 0.9, τ_D = 20 ms, τ_F = 15 ms: a
    /// lone spike releases 2 %, a spike 5–10 ms after another about 35–50 %, and facilitation
    /// has faded by the next event (at least `refractory` later).
    pub const FACILITATING: SynapseParams =
        SynapseParams { release_prob: 0.02, facilitation: 0.9, tau_recovery: 0.02, tau_facilitation: 0.015 };

    fn validate(&self, name: &str) -> Result<(), Error> {
        finite_in(&format!("{name}.release_prob"), self.release_prob, 0.0, 1.0)?;
        if self.release_prob == 0.0 {
            return Err(Error::config(format!("{name}.release_prob"), "must be above 0 (nothing would ever be released)"));
        }
        finite_in(&format!("{name}.facilitation"), self.facilitation, 0.0, 1.0)?;
        positive(&format!("{name}.tau_recovery"), self.tau_recovery, 1e4)?;
        positive(&format!("{name}.tau_facilitation"), self.tau_facilitation, 1e4)?;
        Ok(())
    }

    /// Release of a spike `isi` seconds after a first spike that arrived at rest.
    fn second_release(&self, isi: f32) -> f32 {
        let u = self.release_prob + self.facilitation * (1.0 - self.release_prob) * libm::expf(-isi / self.tau_facilitation);
        let x = 1.0 - self.release_prob * libm::expf(-isi / self.tau_recovery);
        u * x
    }
}

/// The ensemble, its bursts, its two readout synapses and what is recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiplexConfig {
    /// Neurons in the ensemble (each with its own pair of synapses onto the readout).
    pub neurons: usize,
    /// Time step, seconds.
    pub dt: f32,
    /// Spikes per burst (2 or more).
    pub burst_spikes: u32,
    /// Shortest interval between the spikes of a burst, seconds.
    pub burst_isi_min: f32,
    /// Longest interval between the spikes of a burst, seconds (below 16 ms).
    pub burst_isi_max: f32,
    /// Dead time after the onset of each event, seconds: no new event starts within it, so a
    /// burst is never mistaken for two events (and two events never for a burst). Longer than
    /// any burst. The hazard outside it is raised to `r/(1 − r·refractory)` so that the mean
    /// event rate is still r; event rates must stay below `MAX_REFRACTORY_LOAD / refractory`.
    pub refractory: f32,
    /// The synapse that reads out the event rate.
    pub depressing: SynapseParams,
    /// The synapse that reads out the burst rate.
    pub facilitating: SynapseParams,
    /// Time constant of the exponential smoothing of the readouts (and of the true signals
    /// they are compared with), seconds.
    pub tau_readout: f32,
    /// Seconds between recorded samples.
    pub sample_interval: f32,
    /// Samples kept (oldest dropped first).
    pub max_samples: usize,
    /// Neurons whose spikes are kept in the raster (the first ones).
    pub raster_neurons: usize,
    /// Spikes kept in the raster (oldest dropped first).
    pub max_raster: usize,
    /// Seed of the spikes (and of the random schedule).
    pub seed: u64,
}

impl Default for MultiplexConfig {
    fn default() -> Self {
        MultiplexConfig {
            neurons: 200,
            dt: 0.001,
            burst_spikes: 2,
            burst_isi_min: 0.005,
            burst_isi_max: 0.010,
            refractory: 0.02,
            depressing: SynapseParams::DEPRESSING,
            facilitating: SynapseParams::FACILITATING,
            tau_readout: 0.2,
            sample_interval: 0.01,
            max_samples: 100_000,
            raster_neurons: 40,
            max_raster: 100_000,
            seed: 1,
        }
    }
}

/// Longest burst ISI accepted: 2+ spikes closer than 16 ms count as a burst.
pub const MAX_BURST_ISI: f32 = 0.016;
/// Highest event rate accepted, Hz (lower when the refractory period demands it).
pub const MAX_EVENT_RATE: f32 = 200.0;
/// Largest fraction of time an ensemble may spend refractory (event rate × refractory).
pub const MAX_REFRACTORY_LOAD: f32 = 0.8;
/// Most samples (per signal) or raster spikes kept: 2 Mi, tens of MB at most.
pub const MAX_SAMPLES: usize = 1 << 21;

impl MultiplexConfig {
    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        if !(1..=MAX_WIDTH).contains(&self.neurons) {
            return Err(Error::config("neurons", format!("must be between 1 and {MAX_WIDTH}, got {}", self.neurons)));
        }
        positive("dt", self.dt, 0.01)?;
        if !(2..=10).contains(&self.burst_spikes) {
            return Err(Error::config("burst_spikes", format!("must be between 2 and 10, got {}", self.burst_spikes)));
        }
        positive("burst_isi_min", self.burst_isi_min, MAX_BURST_ISI)?;
        positive("burst_isi_max", self.burst_isi_max, MAX_BURST_ISI)?;
        if self.burst_isi_min < self.dt {
            return Err(Error::config("burst_isi_min", format!("must be at least dt = {} s", self.dt)));
        }
        if self.burst_isi_max < self.burst_isi_min {
            return Err(Error::config("burst_isi_max", "must be at least burst_isi_min"));
        }
        let longest_burst = (self.burst_spikes - 1) as f32 * self.burst_isi_max;
        finite_in("refractory", self.refractory, 0.0, 1.0)?;
        if self.refractory <= longest_burst {
            return Err(Error::config(
                "refractory",
                format!("must be longer than the longest burst, (burst_spikes − 1) × burst_isi_max = {longest_burst} s"),
            ));
        }
        self.depressing.validate("depressing")?;
        self.facilitating.validate("facilitating")?;
        positive("tau_readout", self.tau_readout, 1e4)?;
        positive("sample_interval", self.sample_interval, 1e4)?;
        if self.sample_interval < self.dt {
            return Err(Error::config("sample_interval", format!("must be at least dt = {} s", self.dt)));
        }
        if self.max_samples > MAX_SAMPLES {
            return Err(Error::config("max_samples", format!("must be at most {MAX_SAMPLES}")));
        }
        if self.raster_neurons > self.neurons {
            return Err(Error::config("raster_neurons", format!("must be at most neurons = {}", self.neurons)));
        }
        if self.max_raster > MAX_SAMPLES {
            return Err(Error::config("max_raster", format!("must be at most {MAX_SAMPLES}")));
        }
        if self.seed > MAX_SEED {
            return Err(Error::config("seed", format!("must be at most {MAX_SEED}")));
        }
        Ok(())
    }

    /// This configuration with the fields of `patch` (a JSON object) applied and validated.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Self, Error> {
        let cfg = patch_fields(self, patch)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn steps_of(&self, seconds: f32) -> u32 {
        libm::roundf(seconds / self.dt).max(1.0) as u32
    }
}

/// One spike of the raster.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spike {
    /// Time, seconds.
    pub time: f64,
    /// Which neuron.
    pub neuron: u32,
    /// Whether the spike belongs to a burst (first or later spike) rather than being single.
    pub burst: bool,
}

/// The recorded signals, one value per sample interval, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// Sample time, seconds.
    pub time: TraceBuffer,
    /// The event rate driving the ensemble, Hz.
    pub event_rate: TraceBuffer,
    /// The burst probability driving the ensemble.
    pub burst_prob: TraceBuffer,
    /// The burst rate, event rate × burst probability, Hz.
    pub burst_rate: TraceBuffer,
    /// The event rate smoothed like the readouts.
    pub smoothed_event_rate: TraceBuffer,
    /// The burst rate smoothed like the readouts.
    pub smoothed_burst_rate: TraceBuffer,
    /// The depressing synapse's smoothed release, scaled so an event at rest counts one: Hz.
    pub decoded_event_rate: TraceBuffer,
    /// The facilitating synapse's smoothed release, scaled so a burst's second spike at rest
    /// counts one: Hz.
    pub decoded_burst_rate: TraceBuffer,
}

impl Samples {
    fn new(capacity: usize) -> Self {
        let t = || TraceBuffer::new(capacity);
        Samples {
            time: t(),
            event_rate: t(),
            burst_prob: t(),
            burst_rate: t(),
            smoothed_event_rate: t(),
            smoothed_burst_rate: t(),
            decoded_event_rate: t(),
            decoded_burst_rate: t(),
        }
    }

    /// Forget every sample.
    pub fn clear(&mut self) {
        for t in [
            &mut self.time,
            &mut self.event_rate,
            &mut self.burst_prob,
            &mut self.burst_rate,
            &mut self.smoothed_event_rate,
            &mut self.smoothed_burst_rate,
            &mut self.decoded_event_rate,
            &mut self.decoded_burst_rate,
        ] {
            t.clear();
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Synapse {
    x: f32,
    u: f32,
}

#[derive(Clone, Copy, Debug)]
struct Neuron {
    /// Spikes of the current burst still to come.
    pending: u32,
    /// Steps of dead time left (no new event while above 0).
    dead: u32,
    /// Steps until the next of them.
    countdown: u32,
    /// Step of the last spike (for the synapses' recovery since then).
    last_spike: u64,
    depressing: Synapse,
    facilitating: Synapse,
}

/// Spike counts since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SpikeCounts {
    /// All spikes.
    pub spikes: u64,
    /// Events (bursts and single spikes).
    pub events: u64,
    /// Bursts.
    pub bursts: u64,
}

/// The ensemble and its readout, advanced in steps of dt.
#[derive(Clone, Debug)]
pub struct Ensemble {
    cfg: MultiplexConfig,
    rng: Random,
    event_rate: f32,
    burst_prob: f32,
    neurons: Vec<Neuron>,
    steps: u64,
    /// dt in f64 as written (0.001, not 0.0010000000475), for clean spike times.
    dt_seconds: f64,
    isi_steps: (u32, u32),
    refractory_steps: u32,
    /// Probability of an event per step outside the dead time.
    hazard: f32,
    /// exp(−dt/τ_readout), the smoothing factor per step.
    smoothing: f32,
    depressing_out: f32,
    facilitating_out: f32,
    smoothed_event_rate: f32,
    smoothed_burst_rate: f32,
    depressing_gain: f32,
    facilitating_gain: f32,
    sample_every: u64,
    samples: Samples,
    raster: VecDeque<Spike>,
    counts: SpikeCounts,
}

const STREAM_SPIKES: u64 = 41;
const STREAM_SCHEDULE: u64 = 42;

impl Ensemble {
    /// An ensemble at rest (event rate 0, burst probability 0).
    pub fn new(cfg: MultiplexConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let rest = Synapse { x: 1.0, u: 0.0 };
        let mut neurons = alloc::vec![
            Neuron { pending: 0, dead: 0, countdown: 0, last_spike: 0, depressing: rest, facilitating: rest };
            cfg.neurons
        ];
        for n in &mut neurons {
            n.depressing.u = cfg.depressing.release_prob;
            n.facilitating.u = cfg.facilitating.release_prob;
        }
        let mean_isi = 0.5 * (cfg.burst_isi_min + cfg.burst_isi_max);
        Ok(Ensemble {
            rng: Random::new(cfg.seed, STREAM_SPIKES),
            event_rate: 0.0,
            burst_prob: 0.0,
            neurons,
            steps: 0,
            dt_seconds: seconds_per_step(cfg.dt),
            isi_steps: (cfg.steps_of(cfg.burst_isi_min), cfg.steps_of(cfg.burst_isi_max)),
            refractory_steps: libm::roundf(cfg.refractory / cfg.dt) as u32,
            hazard: 0.0,
            smoothing: libm::expf(-cfg.dt / cfg.tau_readout),
            depressing_out: 0.0,
            facilitating_out: 0.0,
            smoothed_event_rate: 0.0,
            smoothed_burst_rate: 0.0,
            depressing_gain: cfg.depressing.release_prob,
            facilitating_gain: cfg.facilitating.second_release(mean_isi).max(1e-6),
            sample_every: u64::from(libm::roundf(cfg.sample_interval / cfg.dt).max(1.0) as u32),
            samples: Samples::new(cfg.max_samples),
            raster: VecDeque::new(),
            counts: SpikeCounts::default(),
            cfg,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &MultiplexConfig {
        &self.cfg
    }

    /// The highest event rate this ensemble accepts, Hz.
    pub fn max_event_rate(&self) -> f32 {
        let dead = f64::from(self.refractory_steps) * self.dt_seconds;
        if dead > 0.0 {
            MAX_EVENT_RATE.min((f64::from(MAX_REFRACTORY_LOAD) / dead) as f32)
        } else {
            MAX_EVENT_RATE
        }
    }

    /// Set the event rate (Hz, per neuron) from now on.
    pub fn set_event_rate(&mut self, hz: f32) -> Result<(), Error> {
        let max = self.max_event_rate();
        if !(hz.is_finite() && (0.0..=max).contains(&hz)) {
            return Err(Error::config("event_rate", format!("must be between 0 and {max} Hz, got {hz}")));
        }
        self.event_rate = hz;
        // Mean interval = dead time + 1/λ = 1/r  ⇒  λ = r/(1 − r·dead); per step, λ·dt.
        let dead = self.refractory_steps as f32 * self.cfg.dt;
        self.hazard = (hz / (1.0 - hz * dead) * self.cfg.dt).min(1.0);
        Ok(())
    }

    /// Set the burst probability from now on.
    pub fn set_burst_prob(&mut self, p: f32) -> Result<(), Error> {
        if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
            return Err(Error::config("burst_prob", format!("must be between 0 and 1, got {p}")));
        }
        self.burst_prob = p;
        Ok(())
    }

    /// The event rate driving the ensemble, Hz.
    pub fn event_rate(&self) -> f32 {
        self.event_rate
    }

    /// The burst probability driving the ensemble.
    pub fn burst_prob(&self) -> f32 {
        self.burst_prob
    }

    /// Simulated time, seconds.
    pub fn time(&self) -> f64 {
        self.steps as f64 * self.dt_seconds
    }

    /// The depressing synapse's smoothed output, in Hz of events.
    pub fn decoded_event_rate(&self) -> f32 {
        self.depressing_out / self.depressing_gain
    }

    /// The facilitating synapse's smoothed output, in Hz of bursts.
    pub fn decoded_burst_rate(&self) -> f32 {
        self.facilitating_out / self.facilitating_gain
    }

    /// The recorded samples.
    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    /// Forget the recorded samples.
    pub fn clear_samples(&mut self) {
        self.samples.clear();
    }

    /// The raster of the first `raster_neurons` neurons, oldest spike first.
    pub fn raster(&self) -> impl ExactSizeIterator<Item = &Spike> {
        self.raster.iter()
    }

    /// Forget the raster.
    pub fn clear_raster(&mut self) {
        self.raster.clear();
    }

    /// Spike, event and burst counts since the start.
    pub fn counts(&self) -> SpikeCounts {
        self.counts
    }

    /// Advance by `steps` steps of dt.
    pub fn advance(&mut self, steps: u64) {
        for _ in 0..steps {
            self.step();
        }
    }

    /// One step: new events (Poisson, rate·dt per idle neuron), due burst spikes, the
    /// synapses' release, the smoothed readouts, and a sample when one is due.
    pub fn step(&mut self) {
        let dt = self.cfg.dt;
        let hazard = self.hazard;
        let now = self.steps;
        let t = self.time();
        let (dep, fac) = (self.cfg.depressing, self.cfg.facilitating);
        let (isi_lo, isi_hi) = self.isi_steps;
        let mut release_dep = 0.0f32;
        let mut release_fac = 0.0f32;
        for (i, n) in self.neurons.iter_mut().enumerate() {
            let mut burst_spike = false;
            let refractory = n.dead > 0;
            n.dead = n.dead.saturating_sub(1);
            let spiking = if n.pending > 0 {
                n.countdown -= 1;
                if n.countdown == 0 {
                    n.pending -= 1;
                    burst_spike = true;
                    if n.pending > 0 {
                        n.countdown = isi_lo + self.rng.below(isi_hi - isi_lo + 1);
                    }
                    true
                } else {
                    false
                }
            } else if !refractory && self.rng.uniform() < hazard {
                // A new event: a burst with the burst probability, else a single spike.
                self.counts.events += 1;
                n.dead = self.refractory_steps;
                if self.rng.uniform() < self.burst_prob {
                    self.counts.bursts += 1;
                    n.pending = self.cfg.burst_spikes - 1;
                    n.countdown = isi_lo + self.rng.below(isi_hi - isi_lo + 1);
                    burst_spike = true;
                }
                true
            } else {
                false
            };
            if !spiking {
                continue;
            }
            self.counts.spikes += 1;
            let since = (now - n.last_spike) as f32 * dt;
            n.last_spike = now;
            release_dep += release(&mut n.depressing, &dep, since);
            release_fac += release(&mut n.facilitating, &fac, since);
            if i < self.cfg.raster_neurons && self.cfg.max_raster > 0 {
                if self.raster.len() == self.cfg.max_raster {
                    self.raster.pop_front();
                }
                self.raster.push_back(Spike { time: t, neuron: i as u32, burst: burst_spike });
            }
        }
        // Exponential smoothing of the per-neuron release rate, and of the true signals alike.
        let a = self.smoothing;
        let per_neuron = 1.0 / (self.cfg.neurons as f32 * dt);
        self.depressing_out = a * self.depressing_out + (1.0 - a) * release_dep * per_neuron;
        self.facilitating_out = a * self.facilitating_out + (1.0 - a) * release_fac * per_neuron;
        self.smoothed_event_rate = a * self.smoothed_event_rate + (1.0 - a) * self.event_rate;
        self.smoothed_burst_rate = a * self.smoothed_burst_rate + (1.0 - a) * self.event_rate * self.burst_prob;
        self.steps += 1;
        if self.steps.is_multiple_of(self.sample_every) {
            self.record();
        }
    }

    fn record(&mut self) {
        let s = &mut self.samples;
        s.time.push((self.steps as f64 * self.dt_seconds) as f32);
        s.event_rate.push(self.event_rate);
        s.burst_prob.push(self.burst_prob);
        s.burst_rate.push(self.event_rate * self.burst_prob);
        s.smoothed_event_rate.push(self.smoothed_event_rate);
        s.smoothed_burst_rate.push(self.smoothed_burst_rate);
        s.decoded_event_rate.push(self.depressing_out / self.depressing_gain);
        s.decoded_burst_rate.push(self.facilitating_out / self.facilitating_gain);
    }
}

/// Recover the synapse over `since` seconds, release `u·x`, then depress and facilitate.
fn release(s: &mut Synapse, p: &SynapseParams, since: f32) -> f32 {
    s.x = 1.0 - (1.0 - s.x) * libm::expf(-since / p.tau_recovery);
    s.u = p.release_prob + (s.u - p.release_prob) * libm::expf(-since / p.tau_facilitation);
    let r = s.u * s.x;
    s.x -= r;
    s.u += p.facilitation * (1.0 - s.u);
    r
}

/// A random schedule of event rate and burst probability: piecewise constant, each segment
/// lasting U(segment_min, segment_max) seconds with both values drawn independently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Seconds simulated.
    pub duration: f32,
    /// Seconds at the start left out of the correlations (the readouts' transient).
    pub warmup: f32,
    /// Shortest segment, seconds.
    pub segment_min: f32,
    /// Longest segment, seconds.
    pub segment_max: f32,
    /// Event rates are drawn from U(event_rate_min, event_rate_max), Hz.
    pub event_rate_min: f32,
    /// Highest event rate, Hz.
    pub event_rate_max: f32,
    /// Burst probabilities are drawn from U(burst_prob_min, burst_prob_max).
    pub burst_prob_min: f32,
    /// Highest burst probability.
    pub burst_prob_max: f32,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            duration: 40.0,
            warmup: 1.0,
            segment_min: 0.5,
            segment_max: 2.0,
            event_rate_min: 5.0,
            event_rate_max: 15.0,
            burst_prob_min: 0.0,
            burst_prob_max: 1.0,
        }
    }
}

impl ScheduleConfig {
    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        positive("duration", self.duration, 1e6)?;
        finite_in("warmup", self.warmup, 0.0, 1e6)?;
        if self.warmup >= self.duration {
            return Err(Error::config("warmup", "must be shorter than the duration"));
        }
        positive("segment_min", self.segment_min, 1e6)?;
        positive("segment_max", self.segment_max, 1e6)?;
        if self.segment_max < self.segment_min {
            return Err(Error::config("segment_max", "must be at least segment_min"));
        }
        finite_in("event_rate_min", self.event_rate_min, 0.0, MAX_EVENT_RATE)?;
        finite_in("event_rate_max", self.event_rate_max, 0.0, MAX_EVENT_RATE)?;
        if self.event_rate_max < self.event_rate_min {
            return Err(Error::config("event_rate_max", "must be at least event_rate_min"));
        }
        finite_in("burst_prob_min", self.burst_prob_min, 0.0, 1.0)?;
        finite_in("burst_prob_max", self.burst_prob_max, 0.0, 1.0)?;
        if self.burst_prob_max < self.burst_prob_min {
            return Err(Error::config("burst_prob_max", "must be at least burst_prob_min"));
        }
        Ok(())
    }
}

/// Pearson correlations of the two readouts with the two true (smoothed) signals.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MultiplexReport {
    /// Depressing synapse vs event rate (should be high).
    pub depressing_vs_event_rate: f64,
    /// Facilitating synapse vs burst rate (should be high).
    pub facilitating_vs_burst_rate: f64,
    /// Depressing synapse vs burst rate (lower).
    pub depressing_vs_burst_rate: f64,
    /// Facilitating synapse vs event rate (lower).
    pub facilitating_vs_event_rate: f64,
    /// True event rate vs true burst rate (how much the two signals share by construction).
    pub event_rate_vs_burst_rate: f64,
    /// Samples compared.
    pub samples: usize,
    /// Spike, event and burst counts.
    pub counts: SpikeCounts,
}

/// Run an ensemble through a random schedule and correlate its readouts with the true signals
/// (both smoothed alike). Returns the ensemble (with its samples and raster) and the report.
pub fn run_random_schedule(cfg: &MultiplexConfig, schedule: &ScheduleConfig) -> Result<(Ensemble, MultiplexReport), Error> {
    schedule.validate()?;
    cfg.validate()?;
    let samples_needed = (schedule.duration / cfg.sample_interval) as usize + 1;
    if samples_needed > MAX_SAMPLES {
        return Err(Error::config(
            "duration",
            format!("{samples_needed} samples is more than {MAX_SAMPLES}: shorten it or raise sample_interval"),
        ));
    }
    let mut cfg = cfg.clone();
    cfg.max_samples = cfg.max_samples.max(samples_needed);
    let mut ens = Ensemble::new(cfg)?;
    if schedule.event_rate_max > ens.max_event_rate() {
        return Err(Error::config(
            "event_rate_max",
            format!("must be at most {} Hz with a refractory period of {} s", ens.max_event_rate(), ens.cfg.refractory),
        ));
    }
    let mut rng = Random::new(ens.cfg.seed, STREAM_SCHEDULE);
    let dt = ens.dt_seconds;
    let total = libm::round(f64::from(schedule.duration) / dt) as u64;
    let mut done = 0u64;
    while done < total {
        let seconds = rng.uniform_in(schedule.segment_min, schedule.segment_max);
        ens.set_event_rate(rng.uniform_in(schedule.event_rate_min, schedule.event_rate_max))?;
        ens.set_burst_prob(rng.uniform_in(schedule.burst_prob_min, schedule.burst_prob_max))?;
        let steps = (libm::round(f64::from(seconds) / dt) as u64).clamp(1, total - done);
        ens.advance(steps);
        done += steps;
    }
    let s = ens.samples();
    let skip = s.time.to_vec().iter().take_while(|&&t| t < schedule.warmup).count();
    let tail = |t: &TraceBuffer| t.to_vec().split_off(skip);
    let (e, b) = (tail(&s.smoothed_event_rate), tail(&s.smoothed_burst_rate));
    let (d, f) = (tail(&s.decoded_event_rate), tail(&s.decoded_burst_rate));
    let report = MultiplexReport {
        depressing_vs_event_rate: correlation(&d, &e),
        facilitating_vs_burst_rate: correlation(&f, &b),
        depressing_vs_burst_rate: correlation(&d, &b),
        facilitating_vs_event_rate: correlation(&f, &e),
        event_rate_vs_burst_rate: correlation(&e, &b),
        samples: e.len(),
        counts: ens.counts(),
    };
    Ok((ens, report))
}

/// Pearson correlation of two equally long series (NaN if either is constant or empty).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return f64::NAN;
    }
    let mean = |v: &[f32]| v[..n].iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a[..n].iter().zip(&b[..n]) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / libm::sqrt(saa * sbb)
}
