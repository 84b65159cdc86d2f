//! The JavaScript API of the page's "Dynamics" view (wasm-bindgen): the continuous-time
//! model learning the regression task step by step, and the burst-multiplexing ensemble.
//!
//! ```js
//! import init, { RegressionDemo, MultiplexDemo } from './pkg/burstccn.js';
//! await init();
//! const demo = new RegressionDemo({ learn: 20000, network: { seed: 3 } }); // missing: defaults
//! demo.watch(new Uint32Array([0, 0, 1]), new Uint32Array([0, 1, 0]));  // (layer, unit) pairs
//! const r = demo.advance(1000);           // 1,000 steps of the schedule: {time, phase, mse, …}
//! demo.traceTarget(0); demo.traceOutput(0); demo.traceBurstProb(0);   // Float32Array copies
//! demo.setTeacher(true); demo.setPlasticity(false);  // manual control from now on
//!
//! const mux = new MultiplexDemo({ neurons: 200 });
//! mux.setEventRate(10); mux.setBurstProb(0.3); mux.advance(100);     // 100 ms at dt = 1 ms
//! const { times, neurons, bursts } = mux.takeRaster();
//! const s = mux.samples();                // {time, event_rate, decoded_event_rate, …}
//! ```
//!
//! Everything returned is a copy (no views), so nothing is invalidated by later calls.
//! **Errors.** Every bad argument throws a JS `Error` whose message names the setting or
//! argument; none aborts the instance.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use js_sys::{Float32Array, Float64Array, Object, Reflect, Uint32Array, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::continuous::{ContinuousNetwork, Phase, RegressionConfig, RegressionTask, TraceBuffer};
use crate::multiplex::{correlation, run_random_schedule, Ensemble, MultiplexConfig, ScheduleConfig};
use crate::Error;

fn js_err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

fn patch_from_js(value: &JsValue) -> Result<Option<serde_json::Value>, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    serde_wasm_bindgen::from_value(value.clone()).map(Some).map_err(|e| JsError::new(&format!("invalid settings: {e}")))
}

fn regression_config(base: &RegressionConfig, value: &JsValue) -> Result<RegressionConfig, JsError> {
    match patch_from_js(value)? {
        None => Ok(base.clone()),
        Some(p) => base.patched(&p).map_err(js_err),
    }
}

fn multiplex_config(base: &MultiplexConfig, value: &JsValue) -> Result<MultiplexConfig, JsError> {
    match patch_from_js(value)? {
        None => Ok(base.clone()),
        Some(p) => base.patched(&p).map_err(js_err),
    }
}

fn set(obj: &Object, key: &str, value: &JsValue) -> Result<(), JsError> {
    Reflect::set(obj, &JsValue::from_str(key), value).map(|_| ()).map_err(|_| JsError::new("cannot build the result object"))
}

/// Most steps one `advance` call runs (keeps a call from freezing the worker for minutes).
const MAX_STEPS_PER_CALL: u32 = 10_000_000;
/// Most values all traces together may hold (64 MB of f32).
const MAX_TRACE_VALUES: usize = 1 << 24;
/// Most neurons that may be watched at once.
const MAX_WATCHED: usize = 256;

/// The default regression-task settings, as a plain object.
#[wasm_bindgen(js_name = defaultRegressionConfig)]
pub fn default_regression_config() -> Result<JsValue, JsError> {
    to_js(&RegressionConfig::default())
}

/// SPEC.md's durations (1,000 s, 100,000 s, 1,000 s) on the default settings.
#[wasm_bindgen(js_name = specRegressionConfig)]
pub fn spec_regression_config() -> Result<JsValue, JsError> {
    to_js(&RegressionConfig::default().spec_durations())
}

/// The default multiplexing settings, as a plain object.
#[wasm_bindgen(js_name = defaultMultiplexConfig)]
pub fn default_multiplex_config() -> Result<JsValue, JsError> {
    to_js(&MultiplexConfig::default())
}

/// The default random schedule of `multiplexRandomSchedule`, as a plain object.
#[wasm_bindgen(js_name = defaultMultiplexSchedule)]
pub fn default_multiplex_schedule() -> Result<JsValue, JsError> {
    to_js(&ScheduleConfig::default())
}

#[derive(Serialize)]
struct AdvanceReport {
    /// Steps run by this call.
    steps: u32,
    /// Simulated time after the call, seconds.
    time: f64,
    /// The scheduled phase of the next step ("before", "learning", "after"), or null when the
    /// schedule is over or not followed.
    phase: Option<&'static str>,
    /// Whether the schedule is being followed.
    follow_schedule: bool,
    /// Teacher and plasticity of the last step run.
    teacher: bool,
    plasticity: bool,
    /// Mean over this call's steps and the outputs of (output − target)² (null if no step ran).
    mse: Option<f64>,
}

/// The regression task of the paper's Fig. 3, run a few steps at a time, with traces of the
/// target, the output and a few watched neurons.
#[wasm_bindgen]
pub struct RegressionDemo {
    task: RegressionTask,
    follow_schedule: bool,
    teacher: bool,
    plasticity: bool,
    record_every: u32,
    countdown: u32,
    capacity: usize,
    time: TraceBuffer,
    inputs: Vec<TraceBuffer>,
    targets: Vec<TraceBuffer>,
    outputs: Vec<TraceBuffer>,
    watched: Vec<(usize, usize)>,
    watched_event_rate: Vec<TraceBuffer>,
    watched_burst_prob: Vec<TraceBuffer>,
    watched_apical: Vec<TraceBuffer>,
}

#[wasm_bindgen]
impl RegressionDemo {
    /// A task from a settings object (missing fields: defaults; `network` may be partial).
    /// It follows its schedule until `setTeacher`/`setPlasticity` take manual control. Traces
    /// record every 10th step, keeping the last 5,000 samples (see `setRecording`).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<RegressionDemo, JsError> {
        let cfg = regression_config(&RegressionConfig::default(), &config)?;
        let task = RegressionTask::new(cfg).map_err(js_err)?;
        let mut demo = RegressionDemo {
            task,
            follow_schedule: true,
            teacher: false,
            plasticity: false,
            record_every: 10,
            countdown: 0,
            capacity: 5_000,
            time: TraceBuffer::default(),
            inputs: Vec::new(),
            targets: Vec::new(),
            outputs: Vec::new(),
            watched: Vec::new(),
            watched_event_rate: Vec::new(),
            watched_burst_prob: Vec::new(),
            watched_apical: Vec::new(),
        };
        demo.check_trace_memory(demo.capacity, 0)?;
        demo.clear_traces();
        Ok(demo)
    }

    /// The settings in force, as a plain object.
    pub fn config(&self) -> Result<JsValue, JsError> {
        to_js(self.task.config())
    }

    /// A fresh task from `config` (a patch on the current settings). The same seed gives the
    /// same teacher, inputs and initial student. Watched neurons are kept if they still exist.
    pub fn reset(&mut self, config: JsValue) -> Result<JsValue, JsError> {
        let cfg = regression_config(self.task.config(), &config)?;
        let task = RegressionTask::new(cfg).map_err(js_err)?;
        let sizes = &task.config().network.layers;
        let watched: Vec<_> = self.watched.iter().copied().filter(|&(k, j)| k + 1 < sizes.len() && j < sizes[k + 1]).collect();
        check_trace_memory(&task, self.capacity, watched.len())?;
        self.task = task;
        self.watched = watched;
        self.follow_schedule = true;
        self.clear_traces();
        self.config()
    }

    /// Run `steps` steps: the schedule's (prediction, teacher + plasticity, prediction) when
    /// following it — stopping at its end — or the manual teacher/plasticity switches.
    pub fn advance(&mut self, steps: u32) -> Result<JsValue, JsError> {
        if steps > MAX_STEPS_PER_CALL {
            return Err(JsError::new(&format!("steps must be at most {MAX_STEPS_PER_CALL} per call, got {steps}")));
        }
        let mut ran = 0u32;
        let mut sse = 0.0f64;
        for _ in 0..steps {
            let (teach, learn) = if self.follow_schedule {
                match self.task.scheduled_phase() {
                    None => break,
                    Some(Phase::Learning) => (true, self.task.config().plasticity),
                    Some(_) => (false, false),
                }
            } else {
                (self.teacher, self.plasticity)
            };
            if self.follow_schedule {
                self.task.step_scheduled().map_err(js_err)?;
            } else {
                self.task.step_with(teach, learn).map_err(js_err)?;
            }
            sse += self.task.last_squared_error();
            self.teacher = teach;
            self.plasticity = learn;
            ran += 1;
            self.record();
        }
        if self.follow_schedule && self.task.scheduled_phase().is_none() {
            self.task.flush_window();
        }
        let outputs = self.task.target().len() as f64;
        to_js(&AdvanceReport {
            steps: ran,
            time: self.task.time(),
            phase: if self.follow_schedule { self.task.scheduled_phase().map(Phase::as_str) } else { None },
            follow_schedule: self.follow_schedule,
            teacher: self.teacher,
            plasticity: self.plasticity,
            mse: if ran > 0 { Some(sse / (f64::from(ran) * outputs)) } else { None },
        })
    }

    fn record(&mut self) {
        if self.countdown > 0 {
            self.countdown -= 1;
            return;
        }
        self.countdown = self.record_every - 1;
        let net = self.task.network();
        self.time.push(self.task.time() as f32);
        for (t, &x) in self.inputs.iter_mut().zip(net.input()) {
            t.push(x);
        }
        for (t, &y) in self.targets.iter_mut().zip(self.task.target()) {
            t.push(y);
        }
        for (t, &e) in self.outputs.iter_mut().zip(net.output()) {
            t.push(e);
        }
        for (i, &(k, j)) in self.watched.iter().enumerate() {
            self.watched_event_rate[i].push(net.event_rate(k)[j]);
            self.watched_burst_prob[i].push(net.burst_prob(k)[j]);
            self.watched_apical[i].push(net.apical(k).get(j).copied().unwrap_or(f32::NAN));
        }
    }

    /// Follow the schedule (true) or the manual switches (false).
    #[wasm_bindgen(js_name = setFollowSchedule)]
    pub fn set_follow_schedule(&mut self, on: bool) {
        self.follow_schedule = on;
    }

    /// Whether the schedule is being followed.
    #[wasm_bindgen(js_name = followSchedule)]
    pub fn follow_schedule(&self) -> bool {
        self.follow_schedule
    }

    /// Teacher on or off from the next step; takes manual control (stops following the schedule).
    #[wasm_bindgen(js_name = setTeacher)]
    pub fn set_teacher(&mut self, on: bool) {
        self.follow_schedule = false;
        self.teacher = on;
    }

    /// Plasticity on or off from the next step; takes manual control.
    #[wasm_bindgen(js_name = setPlasticity)]
    pub fn set_plasticity(&mut self, on: bool) {
        self.follow_schedule = false;
        self.plasticity = on;
    }

    /// Whether the teacher is on (the last step's, or the manual switch).
    pub fn teacher(&self) -> bool {
        self.teacher
    }

    /// Whether plasticity is on (the last step's, or the manual switch).
    pub fn plasticity(&self) -> bool {
        self.plasticity
    }

    /// Simulated time, seconds.
    pub fn time(&self) -> f64 {
        self.task.time()
    }

    /// Steps taken.
    pub fn steps(&self) -> f64 {
        self.task.steps() as f64
    }

    /// Steps in the whole schedule.
    #[wasm_bindgen(js_name = totalSteps)]
    pub fn total_steps(&self) -> f64 {
        self.task.total_steps() as f64
    }

    /// The scheduled phase of the next step: "before", "learning", "after", or undefined at the end.
    pub fn phase(&self) -> Option<String> {
        self.task.scheduled_phase().map(|p| p.as_str().to_string())
    }

    /// `{before_mse, after_mse, improvement, learning_mse, steps, seconds}` over the scheduled
    /// steps so far (NaN for a phase not reached yet).
    pub fn summary(&self) -> Result<JsValue, JsError> {
        to_js(&self.task.summary())
    }

    /// The error-over-time series from window `since` on: `[{start, end, mse, teacher, plasticity}]`.
    #[wasm_bindgen(js_name = errorWindows)]
    pub fn error_windows(&self, since: u32) -> Result<JsValue, JsError> {
        let w = self.task.windows();
        let from = (since as usize).min(w.len());
        to_js(&w[from..])
    }

    /// Windows recorded so far.
    #[wasm_bindgen(js_name = errorWindowCount)]
    pub fn error_window_count(&self) -> u32 {
        self.task.windows().len() as u32
    }

    /// Forget the recorded windows (long interactive runs).
    #[wasm_bindgen(js_name = clearErrorWindows)]
    pub fn clear_error_windows(&mut self) {
        self.task.clear_windows();
    }

    /// Record traces every `every` steps, keeping the last `capacity` samples. Clears them.
    #[wasm_bindgen(js_name = setRecording)]
    pub fn set_recording(&mut self, every: u32, capacity: u32) -> Result<(), JsError> {
        if every == 0 {
            return Err(JsError::new("every must be at least 1 step"));
        }
        self.check_trace_memory(capacity as usize, self.watched.len())?;
        self.record_every = every;
        self.capacity = capacity as usize;
        self.clear_traces();
        Ok(())
    }

    /// Watch these neurons: pair i is (weight layer `layers[i]`, unit `units[i]`); weight layer
    /// k drives the k-th hidden layer, the last one is the output. Clears the traces.
    pub fn watch(&mut self, layers: &[u32], units: &[u32]) -> Result<(), JsError> {
        if layers.len() != units.len() {
            return Err(JsError::new(&format!("{} layers for {} units", layers.len(), units.len())));
        }
        if layers.len() > MAX_WATCHED {
            return Err(JsError::new(&format!("at most {MAX_WATCHED} neurons can be watched")));
        }
        let sizes = &self.task.config().network.layers;
        let mut watched = Vec::with_capacity(layers.len());
        for (&k, &j) in layers.iter().zip(units) {
            let (k, j) = (k as usize, j as usize);
            if k + 1 >= sizes.len() {
                return Err(JsError::new(&format!("no layer {k} (there are {})", sizes.len() - 1)));
            }
            if j >= sizes[k + 1] {
                return Err(JsError::new(&format!("layer {k} has {} units, no unit {j}", sizes[k + 1])));
            }
            watched.push((k, j));
        }
        self.check_trace_memory(self.capacity, watched.len())?;
        self.watched = watched;
        self.clear_traces();
        Ok(())
    }

    fn check_trace_memory(&self, capacity: usize, watched: usize) -> Result<(), JsError> {
        check_trace_memory(&self.task, capacity, watched)
    }

    /// Forget every trace (the watched neurons stay).
    #[wasm_bindgen(js_name = clearTraces)]
    pub fn clear_traces(&mut self) {
        let cap = self.capacity;
        let n0 = self.task.input().len();
        let n_out = self.task.target().len();
        let w = self.watched.len();
        self.time = TraceBuffer::new(cap);
        self.inputs = (0..n0).map(|_| TraceBuffer::new(cap)).collect();
        self.targets = (0..n_out).map(|_| TraceBuffer::new(cap)).collect();
        self.outputs = (0..n_out).map(|_| TraceBuffer::new(cap)).collect();
        self.watched_event_rate = (0..w).map(|_| TraceBuffer::new(cap)).collect();
        self.watched_burst_prob = (0..w).map(|_| TraceBuffer::new(cap)).collect();
        self.watched_apical = (0..w).map(|_| TraceBuffer::new(cap)).collect();
        self.countdown = 0;
    }

    /// Times of the trace samples, seconds.
    #[wasm_bindgen(js_name = traceTime)]
    pub fn trace_time(&self) -> Float32Array {
        copy(&self.time)
    }

    /// Trace of input i.
    #[wasm_bindgen(js_name = traceInput)]
    pub fn trace_input(&self, i: u32) -> Result<Float32Array, JsError> {
        pick(&self.inputs, i, "input")
    }

    /// Trace of the target (teacher output) j.
    #[wasm_bindgen(js_name = traceTarget)]
    pub fn trace_target(&self, j: u32) -> Result<Float32Array, JsError> {
        pick(&self.targets, j, "output")
    }

    /// Trace of the student's output event rate j.
    #[wasm_bindgen(js_name = traceOutput)]
    pub fn trace_output(&self, j: u32) -> Result<Float32Array, JsError> {
        pick(&self.outputs, j, "output")
    }

    /// Trace of watched neuron i's event rate.
    #[wasm_bindgen(js_name = traceEventRate)]
    pub fn trace_event_rate(&self, i: u32) -> Result<Float32Array, JsError> {
        pick(&self.watched_event_rate, i, "watched neuron")
    }

    /// Trace of watched neuron i's burst probability.
    #[wasm_bindgen(js_name = traceBurstProb)]
    pub fn trace_burst_prob(&self, i: u32) -> Result<Float32Array, JsError> {
        pick(&self.watched_burst_prob, i, "watched neuron")
    }

    /// Trace of watched neuron i's apical potential (NaN for an output unit: it has none).
    #[wasm_bindgen(js_name = traceApical)]
    pub fn trace_apical(&self, i: u32) -> Result<Float32Array, JsError> {
        pick(&self.watched_apical, i, "watched neuron")
    }

    /// Number of weight layers (hidden layers + output).
    #[wasm_bindgen(js_name = layerCount)]
    pub fn layer_count(&self) -> u32 {
        self.task.network().layers().len() as u32
    }

    /// Units driven by weight layer k.
    #[wasm_bindgen(js_name = layerSize)]
    pub fn layer_size(&self, k: u32) -> Result<u32, JsError> {
        Ok(self.layer(k)?.1 as u32)
    }

    fn layer(&self, k: u32) -> Result<(&ContinuousNetwork, usize), JsError> {
        let net = self.task.network();
        let l = net.layers().get(k as usize).ok_or_else(|| JsError::new(&format!("no layer {k} (there are {})", net.layers().len())))?;
        Ok((net, l.n_out))
    }

    /// Layer k's event rates now (a copy).
    #[wasm_bindgen(js_name = eventRate)]
    pub fn event_rate(&self, k: u32) -> Result<Float32Array, JsError> {
        Ok(Float32Array::from(self.layer(k)?.0.event_rate(k as usize)))
    }

    /// Layer k's burst probabilities now (a copy).
    #[wasm_bindgen(js_name = burstProb)]
    pub fn burst_prob(&self, k: u32) -> Result<Float32Array, JsError> {
        Ok(Float32Array::from(self.layer(k)?.0.burst_prob(k as usize)))
    }

    /// Layer k's burst rates now (a copy).
    #[wasm_bindgen(js_name = burstRate)]
    pub fn burst_rate(&self, k: u32) -> Result<Float32Array, JsError> {
        Ok(Float32Array::from(self.layer(k)?.0.burst_rate(k as usize)))
    }

    /// Hidden layer k's apical potentials now (a copy; empty for the output layer).
    pub fn apical(&self, k: u32) -> Result<Float32Array, JsError> {
        Ok(Float32Array::from(self.layer(k)?.0.apical(k as usize)))
    }

    /// Layer k's weights now, `n_out × n_in` row-major (a copy).
    pub fn weights(&self, k: u32) -> Result<Float32Array, JsError> {
        let (net, _) = self.layer(k)?;
        Ok(Float32Array::from(&net.layers()[k as usize].weight[..]))
    }

    /// The input x(t) of the last step.
    pub fn input(&self) -> Float32Array {
        Float32Array::from(self.task.input())
    }

    /// The teacher's output for the last step's input.
    pub fn target(&self) -> Float32Array {
        Float32Array::from(self.task.target())
    }

    /// The student's output event rates after the last step.
    pub fn output(&self) -> Float32Array {
        Float32Array::from(self.task.output())
    }
}

/// Refuse trace settings that could exhaust wasm memory.
fn check_trace_memory(task: &RegressionTask, capacity: usize, watched: usize) -> Result<(), JsError> {
    let traces = 1 + task.input().len() + 2 * task.target().len() + 3 * watched;
    if capacity.saturating_mul(traces) > MAX_TRACE_VALUES {
        return Err(JsError::new(&format!(
            "{traces} traces of {capacity} samples is more than {MAX_TRACE_VALUES} values: record fewer samples (setRecording) or watch fewer neurons"
        )));
    }
    Ok(())
}

fn copy(t: &TraceBuffer) -> Float32Array {
    Float32Array::from(&t.to_vec()[..])
}

fn pick(traces: &[TraceBuffer], i: u32, what: &str) -> Result<Float32Array, JsError> {
    traces.get(i as usize).map(copy).ok_or_else(|| JsError::new(&format!("no {what} {i} (there are {})", traces.len())))
}

// ---------------------------------------------------------------------------- multiplexing

#[derive(Serialize)]
struct MultiplexState {
    time: f64,
    event_rate: f32,
    burst_prob: f32,
    decoded_event_rate: f32,
    decoded_burst_rate: f32,
    counts: crate::multiplex::SpikeCounts,
}

/// The burst-multiplexing ensemble: set the event rate and burst probability, advance, read
/// the raster (spike times with burst flags) and the decoded signals.
#[wasm_bindgen]
pub struct MultiplexDemo {
    ensemble: Ensemble,
}

#[wasm_bindgen]
impl MultiplexDemo {
    /// An ensemble at rest from a settings object (missing fields: defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<MultiplexDemo, JsError> {
        let cfg = multiplex_config(&MultiplexConfig::default(), &config)?;
        Ok(MultiplexDemo { ensemble: Ensemble::new(cfg).map_err(js_err)? })
    }

    /// The settings in force.
    pub fn config(&self) -> Result<JsValue, JsError> {
        to_js(self.ensemble.config())
    }

    /// A fresh ensemble from `config` (a patch on the current settings); rates back to 0.
    pub fn reset(&mut self, config: JsValue) -> Result<JsValue, JsError> {
        let cfg = multiplex_config(self.ensemble.config(), &config)?;
        self.ensemble = Ensemble::new(cfg).map_err(js_err)?;
        self.config()
    }

    /// Event rate per neuron from now on, Hz (0 to `maxEventRate()`).
    #[wasm_bindgen(js_name = setEventRate)]
    pub fn set_event_rate(&mut self, hz: f32) -> Result<(), JsError> {
        self.ensemble.set_event_rate(hz).map_err(js_err)
    }

    /// Burst probability from now on (0 to 1).
    #[wasm_bindgen(js_name = setBurstProb)]
    pub fn set_burst_prob(&mut self, p: f32) -> Result<(), JsError> {
        self.ensemble.set_burst_prob(p).map_err(js_err)
    }

    /// The highest event rate accepted (set by the refractory period), Hz.
    #[wasm_bindgen(js_name = maxEventRate)]
    pub fn max_event_rate(&self) -> f32 {
        self.ensemble.max_event_rate()
    }

    /// Advance `steps` steps of dt; returns `{time, event_rate, burst_prob,
    /// decoded_event_rate, decoded_burst_rate, counts: {spikes, events, bursts}}`.
    pub fn advance(&mut self, steps: u32) -> Result<JsValue, JsError> {
        if steps > MAX_STEPS_PER_CALL {
            return Err(JsError::new(&format!("steps must be at most {MAX_STEPS_PER_CALL} per call, got {steps}")));
        }
        self.ensemble.advance(u64::from(steps));
        self.state()
    }

    /// The current state (as `advance` returns it).
    pub fn state(&self) -> Result<JsValue, JsError> {
        let e = &self.ensemble;
        to_js(&MultiplexState {
            time: e.time(),
            event_rate: e.event_rate(),
            burst_prob: e.burst_prob(),
            decoded_event_rate: e.decoded_event_rate(),
            decoded_burst_rate: e.decoded_burst_rate(),
            counts: e.counts(),
        })
    }

    /// The raster so far: `{times: Float64Array (s), neurons: Uint32Array, bursts: Uint8Array
    /// (1 = the spike belongs to a burst)}`, oldest first.
    pub fn raster(&self) -> Result<Object, JsError> {
        raster_object(&self.ensemble)
    }

    /// `raster()`, then forget it (for a scrolling display).
    #[wasm_bindgen(js_name = takeRaster)]
    pub fn take_raster(&mut self) -> Result<Object, JsError> {
        let r = raster_object(&self.ensemble)?;
        self.ensemble.clear_raster();
        Ok(r)
    }

    /// The recorded signals: `{time, event_rate, burst_prob, burst_rate, smoothed_event_rate,
    /// smoothed_burst_rate, decoded_event_rate, decoded_burst_rate}`, each a Float32Array.
    pub fn samples(&self) -> Result<Object, JsError> {
        samples_object(&self.ensemble)
    }

    /// Forget the recorded signals.
    #[wasm_bindgen(js_name = clearSamples)]
    pub fn clear_samples(&mut self) {
        self.ensemble.clear_samples();
    }

    /// Correlations over the recorded samples: `{depressing_vs_event_rate,
    /// facilitating_vs_burst_rate, depressing_vs_burst_rate, facilitating_vs_event_rate}`
    /// (null while the signals have not varied).
    pub fn correlations(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct C {
            depressing_vs_event_rate: f64,
            facilitating_vs_burst_rate: f64,
            depressing_vs_burst_rate: f64,
            facilitating_vs_event_rate: f64,
        }
        let s = self.ensemble.samples();
        let (e, b) = (s.smoothed_event_rate.to_vec(), s.smoothed_burst_rate.to_vec());
        let (d, f) = (s.decoded_event_rate.to_vec(), s.decoded_burst_rate.to_vec());
        to_js(&C {
            depressing_vs_event_rate: correlation(&d, &e),
            facilitating_vs_burst_rate: correlation(&f, &b),
            depressing_vs_burst_rate: correlation(&d, &b),
            facilitating_vs_event_rate: correlation(&f, &e),
        })
    }
}

fn raster_object(e: &Ensemble) -> Result<Object, JsError> {
    let spikes: Vec<_> = e.raster().copied().collect();
    let times: Vec<f64> = spikes.iter().map(|s| s.time).collect();
    let neurons: Vec<u32> = spikes.iter().map(|s| s.neuron).collect();
    let bursts: Vec<u8> = spikes.iter().map(|s| u8::from(s.burst)).collect();
    let obj = Object::new();
    set(&obj, "times", &Float64Array::from(&times[..]))?;
    set(&obj, "neurons", &Uint32Array::from(&neurons[..]))?;
    set(&obj, "bursts", &Uint8Array::from(&bursts[..]))?;
    Ok(obj)
}

fn samples_object(e: &Ensemble) -> Result<Object, JsError> {
    let s = e.samples();
    let obj = Object::new();
    for (key, t) in [
        ("time", &s.time),
        ("event_rate", &s.event_rate),
        ("burst_prob", &s.burst_prob),
        ("burst_rate", &s.burst_rate),
        ("smoothed_event_rate", &s.smoothed_event_rate),
        ("smoothed_burst_rate", &s.smoothed_burst_rate),
        ("decoded_event_rate", &s.decoded_event_rate),
        ("decoded_burst_rate", &s.decoded_burst_rate),
    ] {
        set(&obj, key, &copy(t))?;
    }
    Ok(obj)
}

/// Run a fresh ensemble (settings `config`, a patch on the defaults) through a random schedule
/// (`schedule`, a patch on `defaultMultiplexSchedule()`): `{report, samples, raster}`, where
/// report holds the four correlations and the spike counts.
#[wasm_bindgen(js_name = multiplexRandomSchedule)]
pub fn multiplex_random_schedule(config: JsValue, schedule: JsValue) -> Result<Object, JsError> {
    let cfg = multiplex_config(&MultiplexConfig::default(), &config)?;
    let sched = match patch_from_js(&schedule)? {
        None => ScheduleConfig::default(),
        Some(p) => crate::continuous::patch_fields(&ScheduleConfig::default(), &p).map_err(js_err)?,
    };
    let (ens, report) = run_random_schedule(&cfg, &sched).map_err(js_err)?;
    let obj = Object::new();
    set(&obj, "report", &to_js(&report)?)?;
    set(&obj, "samples", &samples_object(&ens)?.into())?;
    set(&obj, "raster", &raster_object(&ens)?.into())?;
    Ok(obj)
}
