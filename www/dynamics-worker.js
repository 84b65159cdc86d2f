// The Dynamics view's worker: owns the continuous-time regression task (RegressionDemo) and the
// burst-multiplexing ensemble (MultiplexDemo), advances both against the wall clock, and posts
// small copies of what the page draws up to 20 times a second — a new frame only once the page
// says it has drawn the last one ('drawn'), so a slow device sees fewer frames, never stale ones.
//
// Page → worker: {type, id?, ...}; requests with an `id` get {type: 'reply', id, ok, result | error}.
// Worker → page, unasked: 'frame' (traces, error windows, multiplexing signals), 'error'.
import { loadEngineModule } from './engine.js';

/** Wall-clock milliseconds between frames posted to the page (at "max", fewer: the traces are
 *  snapshots of a blur there anyway, and drawing competes with the simulation for the CPU). */
const FRAME_MS = 50;
const FRAME_MS_AT_MAX = 100;
/** At "max" speed: milliseconds of simulation per chunk before yielding to messages. */
const CHUNK_MS = 25;
/** Wall time the simulation may catch up after a stall (a busy machine, a hidden tab). */
const MAX_CATCH_UP_MS = 250;
/** Seconds of multiplexing signal kept for the correlations (3,000 samples at 10 ms). */
const MUX_SAMPLES = 3000;
/** Seconds of multiplexing signal sent to the page's charts. */
const MUX_SHOWN_SECONDS = 10;
/** The automatic random schedule of the multiplexing panel (as `burstccn multiplex`). */
const MUX_SCHEDULE = { segmentMin: 0.5, segmentMax: 2, rateMin: 5, rateMax: 15, burstMin: 0, burstMax: 1 };

let wasm = null;
let reg = null;
let mux = null;
let dt = 0.1;
let watched = [];
/** The multiplexing ensemble's step and sample interval, seconds. */
let muxDt = 0.001;
let muxSampleInterval = 0.01;
/** Step count of the traces last sent (−1: send them again). */
let traced = -1;

const sim = {
  running: false,
  /** Multiple of real time, or Infinity for "as fast as the machine goes". */
  speed: 100,
  /** Steps owed to the wall clock (fractional). */
  owed: 0,
  stepsPerChunk: 2000,
  /** The schedule ran to its end (the task stops there until manual control). */
  done: false,
  /** Whether the teacher was present in the last step run (the open end of the timeline). */
  stepTeacher: false,
};
const muxSim = { running: true, auto: true, nextChange: 0, owed: 0 };
let visible = true;
/** A frame the page has not finished drawing: no new one until it says so (slow devices never queue up). */
let frameInFlight = false;
let lastTick = 0;
let lastFrame = 0;
let rateWindow = [];

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

// A zero-delay yield (setTimeout(0) is clamped to 4 ms once nested) so queued messages run.
const channel = new MessageChannel();
let wake = null;
channel.port1.onmessage = () => wake?.();
const nextTask = () => new Promise((resolve) => { wake = resolve; channel.port2.postMessage(null); });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let queue = Promise.resolve();
self.onmessage = (ev) => {
  queue = queue.then(() => respond(ev.data));
};

async function respond(msg) {
  try {
    const value = await handle(msg);
    if (msg.id !== undefined) post({ type: 'reply', id: msg.id, ok: true, result: value });
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    if (msg.id !== undefined) post({ type: 'reply', id: msg.id, ok: false, error });
    else post({ type: 'error', error, during: msg.type });
  }
}

async function handle(msg) {
  switch (msg.type) {
    case 'init': return init(msg);
    case 'run':
      if (msg.on && sim.done) takeManual(false); // after the schedule: carry on by hand, no teacher
      sim.running = Boolean(msg.on);
      sim.owed = 0;
      rateWindow = [];
      return status();
    case 'speed':
      sim.speed = msg.speed === 'max' ? Infinity : Number(msg.speed);
      sim.owed = 0;
      rateWindow = [];
      return status();
    case 'teacher':
      if (reg.followSchedule()) takeManual(Boolean(msg.on));
      else reg.setTeacher(Boolean(msg.on));
      sim.done = false;
      return status();
    case 'plasticity':
      if (reg.followSchedule()) takeManual(reg.teacher());
      reg.setPlasticity(Boolean(msg.on));
      sim.done = false;
      return status();
    case 'schedule':
      if (msg.follow) {
        reg.setFollowSchedule(true);
        sim.done = reg.phase() === undefined;
        if (sim.done) sim.running = false;
      } else {
        takeManual(reg.teacher());
      }
      return status();
    case 'reset':
      return resetTask(msg);
    case 'watch':
      watch(msg.units);
      traced = -1;
      return status();
    case 'window':
      reg.setRecording(1, Math.max(2, Math.round(msg.seconds / dt)));
      traced = -1;
      return status();
    case 'mux-rate':
      mux.setEventRate(msg.hz);
      return null;
    case 'mux-burst':
      mux.setBurstProb(msg.p);
      return null;
    case 'mux-auto':
      muxSim.auto = Boolean(msg.on);
      muxSim.nextChange = mux.state().time;
      return null;
    case 'mux-run':
      muxSim.running = Boolean(msg.on);
      return null;
    case 'visible':
      visible = Boolean(msg.on);
      frameInFlight = false;
      return null;
    case 'drawn':
      frameInFlight = false;
      return null;
    default:
      throw new Error(`unknown message ${msg.type}`);
  }
}

async function init(msg) {
  wasm = await loadEngineModule();
  const info = wasm.buildInfo ? wasm.buildInfo() : { version: '' };
  reg = new wasm.RegressionDemo(msg.regression);
  const cfg = reg.config();
  dt = Number(cfg.network.dt.toPrecision(7));
  reg.setRecording(1, Math.max(2, Math.round(msg.traceSeconds / dt)));
  watch(msg.units);
  if (!msg.follow) {
    reg.setTeacher(Boolean(msg.teacher));
    reg.setPlasticity(Boolean(msg.plasticity));
  }
  mux = new wasm.MultiplexDemo({ max_samples: MUX_SAMPLES });
  const mcfg = mux.config();
  muxDt = mcfg.dt;
  muxSampleInterval = mcfg.sample_interval;
  mux.setEventRate(Math.min(msg.mux.rate, mux.maxEventRate()));
  mux.setBurstProb(msg.mux.burst);
  muxSim.auto = Boolean(msg.mux.auto);
  muxSim.running = true;
  sim.speed = msg.speed === 'max' ? Infinity : Number(msg.speed);
  sim.running = Boolean(msg.running);
  loop();
  return {
    version: info.version,
    config: cfg,
    hiddenSize: reg.layerSize(0),
    totalSteps: reg.totalSteps(),
    maxEventRate: mux.maxEventRate(),
    multiplex: mux.config(),
    ...status(),
  };
}

/**
 * Leave the schedule for the manual switches: the teacher as given and plasticity on, as the
 * paper has it (single phase: plasticity never needs switching off; without a teacher every
 * burst probability sits at p_b and the weights hold still by themselves).
 */
function takeManual(teacher) {
  reg.setTeacher(teacher);
  reg.setPlasticity(true);
  sim.done = false;
}

/** Watch hidden units `units` of the first hidden layer, and the output unit (its burst probability). */
function watch(units) {
  const layers = new Uint32Array([...units.map(() => 0), 1]);
  const ids = new Uint32Array([...units, 0]);
  reg.watch(layers, ids);
  watched = [...units];
}

/** A fresh task from `patch` (same seed: same teacher, inputs and student), schedule or manual. */
function resetTask({ patch, follow, teacher, plasticity }) {
  const cfg = reg.reset(patch);
  dt = Number(cfg.network.dt.toPrecision(7));
  if (!follow) {
    reg.setTeacher(Boolean(teacher));
    reg.setPlasticity(Boolean(plasticity));
  }
  traced = -1;
  sim.stepTeacher = false;
  sim.done = false;
  sim.owed = 0;
  rateWindow = [];
  lastFrame = 0;
  return { config: cfg, totalSteps: reg.totalSteps(), hiddenSize: reg.layerSize(0), ...status() };
}

function status() {
  return {
    running: sim.running,
    follow: reg.followSchedule(),
    teacher: reg.teacher(),
    plasticity: reg.plasticity(),
    phase: reg.followSchedule() ? (reg.phase() ?? null) : null,
    done: sim.done,
    stepTeacher: sim.stepTeacher,
    time: reg.time(),
  };
}

// ---------------------------------------------------------------- the clock

async function loop() {
  lastTick = performance.now();
  for (;;) {
    const now = performance.now();
    const wall = Math.min(now - lastTick, MAX_CATCH_UP_MS);
    lastTick = now;
    try {
      if (muxSim.running) advanceMux(wall);
      if (sim.running) advanceRegression(wall);
    } catch (e) {
      sim.running = false;
      post({ type: 'error', error: e instanceof Error ? e.message : String(e), during: 'run' });
    }
    if (visible && !frameInFlight && performance.now() - lastFrame >= (sim.running && sim.speed === Infinity ? FRAME_MS_AT_MAX : FRAME_MS)) {
      lastFrame = performance.now();
      frameInFlight = true;
      postFrame();
    }
    // At "max" keep going after handling messages; otherwise tick with the display.
    if (sim.running && sim.speed === Infinity) await nextTask();
    else await sleep(16);
  }
}

function advanceRegression(wall) {
  let steps;
  if (sim.speed === Infinity) {
    const start = performance.now();
    steps = Math.max(1, Math.round(sim.stepsPerChunk));
    const r = reg.advance(steps);
    const ms = Math.max(performance.now() - start, 0.5);
    sim.stepsPerChunk = Math.min(5_000_000, Math.max(100, 0.7 * sim.stepsPerChunk + 0.3 * (r.steps * CHUNK_MS) / ms));
    afterAdvance(r, steps);
    return;
  }
  sim.owed += (sim.speed * wall) / 1000 / dt;
  steps = Math.floor(sim.owed);
  if (steps < 1) return;
  sim.owed -= steps;
  afterAdvance(reg.advance(steps), steps);
}

function afterAdvance(r, asked) {
  if (r.steps > 0) sim.stepTeacher = r.teacher;
  const t = performance.now();
  rateWindow.push([t, reg.steps()]);
  while (rateWindow.length > 2 && t - rateWindow[0][0] > 2000) rateWindow.shift();
  if (r.follow_schedule && r.steps < asked && r.phase === null) {
    // The schedule is over: stop, and say so (Run continues by hand).
    sim.running = false;
    sim.done = true;
    sim.owed = 0;
    lastFrame = 0;
  }
}

function stepsPerSecond() {
  if (!sim.running || rateWindow.length < 2) return null;
  const [t0, s0] = rateWindow[0];
  const [t1, s1] = rateWindow[rateWindow.length - 1];
  return t1 - t0 >= 200 ? ((s1 - s0) * 1000) / (t1 - t0) : null;
}

function advanceMux(wall) {
  muxSim.owed += wall / 1000 / muxDt;
  let steps = Math.floor(muxSim.owed);
  muxSim.owed -= steps;
  while (steps > 0) {
    let chunk = steps;
    if (muxSim.auto) {
      const now = mux.state().time;
      if (now >= muxSim.nextChange - 1e-9) {
        const s = MUX_SCHEDULE;
        mux.setEventRate(s.rateMin + Math.random() * (s.rateMax - s.rateMin));
        mux.setBurstProb(s.burstMin + Math.random() * (s.burstMax - s.burstMin));
        muxSim.nextChange = now + s.segmentMin + Math.random() * (s.segmentMax - s.segmentMin);
      }
      chunk = Math.max(1, Math.min(steps, Math.round((muxSim.nextChange - now) / muxDt)));
    }
    mux.advance(chunk);
    steps -= chunk;
  }
}

// ---------------------------------------------------------------- frames

function postFrame() {
  const transfer = [];
  const frame = { type: 'frame', ...status(), speed: sim.speed === Infinity ? 'max' : sim.speed, stepsPerSecond: stepsPerSecond() };
  frame.steps = reg.steps();
  frame.summary = reg.summary();
  // Closed error windows since the last frame (then forgotten here: the page keeps them).
  frame.windows = reg.errorWindows(0);
  reg.clearErrorWindows();
  // Traces, recorded every step: sample i is at now − (n − 1 − i)·dt (exact, unlike the f32 times).
  frame.mux = muxFrame(transfer);
  if (frame.steps === traced) {
    frame.traces = null; // nothing new: the page keeps what it has
    post(frame, transfer);
    return;
  }
  traced = frame.steps;
  const target = reg.traceTarget(0);
  const n = target.length;
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++) time[i] = frame.time - (n - 1 - i) * dt;
  const output = reg.traceOutput(0);
  const units = watched.map((unit, i) => ({
    unit,
    e: reg.traceEventRate(i),
    p: reg.traceBurstProb(i),
    u: reg.traceApical(i),
  }));
  const outputBurstProb = reg.traceBurstProb(watched.length);
  frame.traces = { time, target, output, outputBurstProb, units };
  transfer.push(time.buffer, target.buffer, output.buffer, outputBurstProb.buffer);
  for (const u of units) transfer.push(u.e.buffer, u.p.buffer, u.u.buffer);
  post(frame, transfer);
}

function muxFrame(transfer) {
  const state = mux.state();
  const raster = mux.takeRaster();
  const all = mux.samples();
  const n = all.time.length;
  const keep = Math.min(n, Math.round(MUX_SHOWN_SECONDS / muxSampleInterval));
  const pick = (a) => {
    const out = a.slice(n - keep);
    transfer.push(out.buffer);
    return out;
  };
  const samples = {
    time: pick(all.time),
    event_rate: pick(all.event_rate),
    burst_rate: pick(all.burst_rate),
    decoded_event_rate: pick(all.decoded_event_rate),
    decoded_burst_rate: pick(all.decoded_burst_rate),
  };
  transfer.push(raster.times.buffer, raster.neurons.buffer, raster.bursts.buffer);
  return {
    running: muxSim.running,
    auto: muxSim.auto,
    state,
    raster,
    samples,
    seconds: n * muxSampleInterval,
    correlations: mux.correlations(),
  };
}
