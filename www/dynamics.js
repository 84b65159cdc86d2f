// The Dynamics view: the continuous-time BurstCCN learning the paper's Fig. 3 regression task
// live (single-phase learning in time), and burst multiplexing read out by a depressing and a
// facilitating synapse. Page wiring only: the state object ⇄ controls ⇄ URL hash, the worker
// (dynamics-worker.js, which owns the wasm), and the views (uPlot charts, canvases).
import { COLOR } from './colors.js';
import { createNotices, wireShareDialog } from './notices.js';
import { parseValue, formatValue } from './state.js';
import { link, HIDDEN_UNITS } from './dynamics-state.js';

const uPlot = globalThis.uPlot;
const $ = (id) => document.getElementById(id);
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const small = () => matchMedia('(max-width: 760px)').matches;

// ---------------------------------------------------------------- state ⇄ URL hash

const { parseHash, toHash, hiddenParts, param } = link;

// ---------------------------------------------------------------- notices

const { notify, dismiss } = createNotices($('notices'));

let state;
{
  const parsed = parseHash(location.hash);
  state = parsed.state;
  if (parsed.notices.length) notify('warn', 'This link has settings the page could not use:', 'link', parsed.notices.map((n) => n.message));
}

function writeHash() {
  history.replaceState(null, '', toHash(state));
  $('open-full').href = `${location.pathname}${toHash({ ...state, embed: false, hide: new Set(), show: new Set() })}`;
}

function applyVisibility() {
  const hidden = hiddenParts(state);
  document.querySelectorAll('[data-hide]').forEach((el) => { el.hidden = hidden.has(el.dataset.hide); });
  document.body.classList.toggle('embed', state.embed);
}

// ---------------------------------------------------------------- worker

const worker = new Worker('dynamics-worker.js', { type: 'module' });
let callId = 0;
const calls = new Map();
function call(type, payload = {}) {
  return new Promise((resolve, reject) => {
    const id = ++callId;
    calls.set(id, { resolve, reject });
    worker.postMessage({ type, id, ...payload });
  });
}
worker.onmessage = ({ data: m }) => {
  if (m.type === 'reply') {
    const c = calls.get(m.id);
    calls.delete(m.id);
    if (m.ok) c?.resolve(m.result); else c?.reject(new Error(m.error));
  } else if (m.type === 'frame') {
    try {
      onFrame(m);
    } finally {
      // Ask for the next frame once this one is on screen (a slow device gets fewer, never late ones).
      requestAnimationFrame(() => worker.postMessage({ type: 'drawn' }));
    }
  } else if (m.type === 'error') {
    notify('error', `The simulation stopped: ${m.error}`, 'worker-error');
  }
};
worker.onerror = (e) => {
  e.preventDefault();
  fail(`The simulation worker could not start: ${e.message || 'unknown error'}`);
};

function fail(message) {
  document.body.dataset.phase = 'failed';
  $('loading').hidden = true;
  notify('error', message, 'fatal');
}

// ---------------------------------------------------------------- what the worker said

/** What the worker last said. */
const live = { time: 0, steps: 0, follow: true, teacher: false, plasticity: false, phase: 'before', done: false, running: false, stepTeacher: false };
let config = null;
let totalSteps = 0;
/** Teacher on/off history, merged from the error windows: [{start, end, teacher, plasticity}]. */
let segments = [];
/** The error-over-time series: [{start, end, mse, teacher}]. */
let errors = [];
const MAX_ERROR_POINTS = 3000;
/** Seconds per point of the error curve: fine enough for the first minutes of teaching, smooth enough to read. */
const ERROR_WINDOW = 50;

// ---------------------------------------------------------------- charts

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const TEACHER_FILL = 'rgba(217, 95, 2, 0.11)';
const axis = (label, extra = {}) => ({
  label, labelSize: label ? 18 : 0, font: FONT, labelFont: FONT, stroke: COLOR.muted,
  grid: { stroke: COLOR.grid, width: 1 }, ticks: { stroke: COLOR.grid, width: 1 }, ...extra,
});
const fmtSeconds = (v) => (Math.abs(v) >= 1000 ? `${fmtInt(v)}` : `${+v.toFixed(1)}`);
const timeAxis = (label = 'simulated time (s)') => axis(label, { size: label ? 44 : 26, values: (u, splits) => splits.map(fmtSeconds) });
const line = (label, stroke, extra = {}) => ({ label, stroke, width: 1.75, points: { show: false }, ...extra });

/** A uPlot that follows the width of its root (height from `height()`); `options` are uPlot's. */
class LiveChart {
  constructor(root, options, height) {
    this.root = root;
    this.height = height;
    const columns = options.series.length;
    this.plot = new uPlot({ legend: { show: false }, cursor: { show: false }, ...options, ...this.size() },
      Array.from({ length: columns }, () => []), root);
    new ResizeObserver(() => {
      const s = this.size();
      if (s.width !== this.plot.width || s.height !== this.plot.height) this.plot.setSize(s);
    }).observe(root);
  }

  size() {
    return { width: Math.max(160, Math.floor(this.root.clientWidth)), height: this.height() };
  }

  set(data) {
    this.plot.setData(data);
  }
}

/** Shaded bands where the teacher was present, under everything else (uPlot drawClear hook). */
function teacherBands(u) {
  const { ctx } = u;
  const { top, height } = u.bbox;
  const [x0, x1] = [u.scales.x.min, u.scales.x.max];
  if (x0 == null || x1 == null) return;
  ctx.save();
  ctx.fillStyle = TEACHER_FILL;
  for (const s of allSegments()) {
    if (!s.teacher || s.end <= x0 || s.start >= x1) continue;
    const a = u.valToPos(Math.max(s.start, x0), 'x', true);
    const b = u.valToPos(Math.min(s.end, x1), 'x', true);
    ctx.fillRect(a, top, Math.max(1, b - a), height);
  }
  ctx.restore();
}

/** A dashed horizontal reference at `value` on scale `scale`. */
function reference(value, scale, color) {
  return (u) => {
    const y = u.valToPos(value, scale, true);
    if (!Number.isFinite(y)) return;
    const { ctx } = u;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.setLineDash([5, 5]);
    ctx.lineWidth = devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(u.bbox.left, y);
    ctx.lineTo(u.bbox.left + u.bbox.width, y);
    ctx.stroke();
    ctx.restore();
  };
}

// The trace window: the x range of every trace chart, [now − window, now].
const xRange = { min: 0, max: 200 };
const traceX = () => ({ time: false, range: () => [xRange.min, xRange.max] });
/** A range about `centre` that just holds the data, never narrower than ±`floor`. */
const centred = (centre, floor, pad = 1.15) => (u, min, max) => {
  const m = Math.max(Math.abs((min ?? centre) - centre), Math.abs((max ?? centre) - centre), floor) * pad;
  return [centre - m, centre + m];
};
/** Event rates: whatever the traces span, within [0, 1]. */
const rateRange = (u, min, max) => {
  const lo = Math.max(0, (min ?? 0) - 0.03);
  const hi = Math.min(1, (max ?? 1) + 0.03);
  const mid = (lo + hi) / 2;
  return hi - lo < 0.1 ? [Math.max(0, mid - 0.05), Math.min(1, mid + 0.05)] : [lo, hi];
};
// Burst probability about p_b = 0.5 and apical potential about 0, each just holding its data.
// The floors keep rounding noise from filling the chart once the teacher is gone.
const burstRange = centred(0.5, 2.5e-5);
const apicalRange = centred(0, 1e-4);
const fmtSmall = (u, splits) => splits.map((v) => (v === 0 ? '0' : Math.abs(v) < 0.01 ? v.toExponential(0).replace('e-', 'e−') : String(+v.toPrecision(3))));

const outputChart = new LiveChart($('c-output'), {
  scales: { x: traceX(), y: { range: rateRange } },
  axes: [timeAxis(), axis('rate', { size: 44 })],
  series: [{}, line('target (teacher network)', COLOR.ink, { width: 2, dash: [6, 4] }), line('output event rate e', COLOR.event, { width: 2.25 })],
  hooks: { drawClear: [teacherBands] },
}, () => (small() ? 170 : 200));

const outputBurstChart = new LiveChart($('c-output-p'), {
  scales: { x: traceX(), y: { range: centred(0.5, 0.005, 1.2) } },
  axes: [timeAxis(null), axis('p', { size: 48, space: 16, values: (u, s) => s.map((v) => +v.toFixed(3)) })],
  series: [{}, line('output burst probability p', COLOR.burst)],
  hooks: { drawClear: [teacherBands], draw: [reference(0.5, 'y', COLOR.muted)] },
}, () => 96);

/** Per watched hidden unit: [forward chart (e), feedback chart (p, u)]. */
let neuronCharts = [];
function buildNeuronRows() {
  const root = $('neuron-rows');
  root.replaceChildren();
  neuronCharts = state.units.map((unit, i) => {
    const last = i === state.units.length - 1;
    const row = document.createElement('div');
    row.className = 'neuron-row';
    row.innerHTML = `
      <div class="neuron-head">
        <label class="unit-pick"><span>hidden unit</span>
          <input type="number" min="0" max="${HIDDEN_UNITS - 1}" step="1" inputmode="numeric" value="${unit}" data-index="${i}" data-hide="units" aria-label="Hidden unit shown in row ${i + 1} (0 to ${HIDDEN_UNITS - 1})">
          <b class="unit-static" aria-hidden="true">#${unit}</b></label>
      </div>
      <div class="neuron-pair">
        <div class="chart neuron-chart fwd" role="img"></div>
        <div class="chart neuron-chart bwd" role="img"></div>
      </div>`;
    root.append(row);
    labelRow(row, unit);
    const height = () => (small() ? 104 : 112) + (last ? 18 : 0);
    const forward = new LiveChart(row.querySelector('.fwd'), {
      scales: { x: traceX(), y: { range: rateRange } },
      axes: [timeAxis(last ? 'simulated time (s)' : null), axis('e', { size: 44, space: 16, values: (u, s) => s.map((v) => +v.toFixed(2)) })],
      series: [{}, line('event rate e', COLOR.event)],
      hooks: { drawClear: [teacherBands] },
    }, height);
    const feedback = new LiveChart(row.querySelector('.bwd'), {
      scales: { x: traceX(), p: { range: burstRange }, u: { range: apicalRange } },
      axes: [
        timeAxis(last ? 'simulated time (s)' : null),
        axis('p', { scale: 'p', size: 62, space: 16, stroke: COLOR.burst, values: (u, s) => s.map((v) => +v.toFixed(5)) }),
        axis('u', { scale: 'u', side: 1, size: 54, space: 16, grid: { show: false }, stroke: COLOR.below, values: fmtSmall }),
      ],
      series: [{}, line('burst probability p', COLOR.burst, { scale: 'p', width: 2 }), line('apical potential u', COLOR.below, { scale: 'u', width: 1.5, dash: [4, 3] })],
      hooks: { drawClear: [teacherBands], draw: [reference(0.5, 'p', 'rgba(91, 101, 119, .7)')] },
    }, height);
    return [forward, feedback];
  });
  applyVisibility();
}

function labelRow(row, unit) {
  row.querySelector('.fwd').setAttribute('aria-label', `Hidden unit ${unit}: event rate against simulated time`);
  row.querySelector('.bwd').setAttribute('aria-label', `Hidden unit ${unit}: burst probability and apical potential against simulated time`);
}

const errorChart = new LiveChart($('c-error'), {
  scales: { x: { time: false, range: (u, min, max) => [0, Math.max(10, (live.time || max || 0) * 1.02)] }, y: { distr: 3, log: 10 } },
  axes: [timeAxis(), axis('mean squared error', { size: 56, values: (u, s) => s.map((v) => (v == null ? '' : String(+v.toPrecision(2)))) })],
  series: [{}, line('error per window', COLOR.ink, { width: 1.5, spanGaps: false })],
  hooks: { drawClear: [teacherBands] },
}, () => (small() ? 190 : 230));

// ---------------------------------------------------------------- the regression task

function allSegments() {
  const end = segments.length ? segments[segments.length - 1].end : 0;
  return live.time > end ? [...segments, { start: end, end: live.time, teacher: live.stepTeacher }] : segments;
}

function addWindows(windows) {
  for (const w of windows) {
    const last = segments[segments.length - 1];
    if (last && last.teacher === w.teacher && last.plasticity === w.plasticity && Math.abs(last.end - w.start) < 1e-6) last.end = w.end;
    else segments.push({ start: w.start, end: w.end, teacher: w.teacher, plasticity: w.plasticity });
    if (w.mse != null && w.mse > 0 && Number.isFinite(w.mse)) errors.push({ start: w.start, end: w.end, mse: w.mse, teacher: w.teacher });
  }
  if (errors.length > MAX_ERROR_POINTS) {
    // Merge neighbours (time-weighted) in the older half, never across a teacher switch.
    const half = errors.length >> 1;
    const merged = [];
    for (let i = 0; i < half; i++) {
      const a = errors[i];
      const b = errors[i + 1];
      if (i + 1 < half && b.teacher === a.teacher) {
        const da = a.end - a.start;
        const db = b.end - b.start;
        merged.push({ start: a.start, end: b.end, mse: (a.mse * da + b.mse * db) / (da + db), teacher: a.teacher });
        i++;
      } else {
        merged.push(a);
      }
    }
    errors = merged.concat(errors.slice(half));
  }
}

function fmtMse(v) {
  if (v == null || !Number.isFinite(v)) return '–';
  return v >= 0.01 ? v.toFixed(3) : v.toPrecision(2);
}

function fmtClock(t) {
  const s = Math.floor(t);
  if (s < 60) return '';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h ${m} min`;
  if (h) return `${h} h ${m} min`;
  return `${m} min ${s % 60} s`;
}

const PHASES = {
  before: ['Phase 1 of 3', 'prediction only, no teacher'],
  learning: ['Phase 2 of 3', 'teacher present, plasticity on'],
  after: ['Phase 3 of 3', 'teacher removed: prediction only'],
};

function phaseText() {
  if (live.done) return ['Schedule complete', 'Run continues by hand'];
  if (live.follow && PHASES[live.phase]) return PHASES[live.phase];
  return ['Manual', `teacher ${live.teacher ? 'on' : 'off'}, plasticity ${live.plasticity ? 'on' : 'off'}`];
}

function setDatum(el, value, text) {
  el.textContent = text;
  el.dataset.value = value == null || !Number.isFinite(value) ? '' : String(value);
}

let lastTraceError = null;
let lastFrameAt = 0;

function onFrame(m) {
  Object.assign(live, {
    time: m.time, steps: m.steps, follow: m.follow, teacher: m.teacher, plasticity: m.plasticity,
    phase: m.phase, done: m.done, running: m.running, stepTeacher: m.stepTeacher,
  });
  lastFrameAt = performance.now();
  addWindows(m.windows);
  if (m.traces) drawTraces(m.traces);
  if (m.running !== state.run || m.follow !== state.schedule) syncRunState(m);
  drawErrors();
  updateReadouts(m);
  drawTimeline();
  onMuxFrame(m.mux);
}

function drawTraces(t) {
  const n = t.time.length;
  const now = n ? t.time[n - 1] : live.time;
  const win = Number(state.window);
  xRange.max = Math.max(now, win * 0.02);
  xRange.min = xRange.max - win;
  outputChart.set([t.time, t.target, t.output]);
  outputBurstChart.set([t.time, t.outputBurstProb]);
  t.units.forEach((u, i) => {
    const charts = neuronCharts[i];
    if (!charts) return;
    charts[0].set([t.time, u.e]);
    charts[1].set([t.time, u.p, u.u]);
  });
  // Error over the trace window: the live readout (works in manual mode too).
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (t.output[i] - t.target[i]) ** 2;
  lastTraceError = n ? sse / n : null;
  const root = $('c-output');
  root.dataset.samples = String(n);
  root.dataset.lastTime = n ? String(now) : '';
  root.dataset.lastOutput = n ? String(t.output[n - 1]) : '';
  root.dataset.lastTarget = n ? String(t.target[n - 1]) : '';
}

function drawErrors() {
  const xs = new Float64Array(errors.length);
  const ys = new Float64Array(errors.length);
  errors.forEach((e, i) => { xs[i] = e.end; ys[i] = e.mse; });
  errorChart.set([xs, ys]);
  $('c-error').dataset.points = String(errors.length);
}

function updateReadouts(m) {
  setDatum($('r-time'), live.time, `${live.time.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} s`);
  $('r-clock').textContent = fmtClock(live.time);
  const rate = m.stepsPerSecond;
  setDatum($('r-rate'), rate, rate == null ? '–' : fmtInt(rate));
  const dt = config ? config.network.dt : 0.1;
  const multiple = rate == null ? null : rate * dt;
  setDatum($('r-actual'), multiple, multiple == null ? '–' : `${fmtInt(multiple)}×`);
  const [title, detail] = phaseText();
  const ph = $('r-phase');
  ph.querySelector('.phase-title').textContent = title;
  ph.querySelector('.phase-detail').textContent = detail;
  ph.dataset.phase = live.done ? 'done' : live.follow ? live.phase ?? 'done' : 'manual';
  ph.dataset.teacher = live.teacher ? 'on' : 'off';
  ph.dataset.plasticity = live.plasticity ? 'on' : 'off';
  document.body.dataset.teacher = live.teacher ? 'on' : 'off';
  setSwitch($('teacher'), live.teacher);
  setSwitch($('plasticity'), live.plasticity);
  $('follow').checked = live.follow;
  updateRunButton();
  // Error readouts: the schedule's phases (summary), and the trace window (always).
  const s = m.summary;
  setDatum($('r-now'), lastTraceError, fmtMse(lastTraceError));
  $('r-now-scope').textContent = `last ${state.window} s`;
  setDatum($('r-before'), s.before_mse, fmtMse(s.before_mse));
  setDatum($('r-after'), s.after_mse, fmtMse(s.after_mse));
  const gain = s.before_mse != null && s.after_mse != null && s.after_mse > 0 ? s.before_mse / s.after_mse : null;
  setDatum($('r-gain'), gain, gain == null || !Number.isFinite(gain) ? '–' : `${gain >= 10 ? fmtInt(gain) : gain.toFixed(1)}× lower`);
  $('r-gain').classList.toggle('good', gain != null && gain > 1.5);
}

function setSwitch(el, on) {
  el.setAttribute('aria-checked', String(on));
  el.querySelector('.state').textContent = on ? 'on' : 'off';
}

function updateRunButton() {
  const b = $('run');
  const running = live.running;
  b.querySelector('.icon path').setAttribute('d', running ? 'M2 1h3.5v12H2zM8.5 1H12v12H8.5z' : 'M2 1l11 6-11 6z');
  b.querySelector('.label').textContent = running ? 'Pause' : live.done ? 'Continue' : 'Run';
  b.setAttribute('aria-label', running ? 'Pause the simulation' : 'Run the simulation');
  b.classList.toggle('running', running);
}

/** The worker changed something the state holds (the schedule ended; Run after it went manual). */
function syncRunState(m) {
  state.run = m.running;
  state.schedule = m.follow;
  if (!m.follow) {
    state.teacher = m.teacher;
    state.plasticity = m.plasticity;
  }
  writeHash();
}

// ---------------------------------------------------------------- timeline

/** Size `canvas`'s backing store to its CSS box at the device's pixel ratio and clear it;
 *  returns a context drawing in CSS pixels and the box (at least `minW` wide, `defaultH` high if unset). */
function fitCanvas(canvas, minW, defaultH) {
  const w = Math.max(minW, canvas.clientWidth);
  const h = canvas.clientHeight || defaultH;
  const dpr = devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function drawTimeline() {
  const canvas = $('timeline');
  const { ctx, w, h } = fitCanvas(canvas, 100, 14);
  const planned = config ? config.before + config.learn + config.after : 0;
  const end = Math.max(live.follow ? planned : 0, live.time, 1);
  const x = (t) => (t / end) * w;
  ctx.fillStyle = COLOR.empty;
  ctx.fillRect(0, 0, w, h);
  if (live.follow && config) {
    // The schedule still to come, pale.
    ctx.globalAlpha = 0.35;
    const phases = [[0, config.before, false], [config.before, config.before + config.learn, true], [config.before + config.learn, planned, false]];
    for (const [a, b, teach] of phases) {
      if (b <= live.time) continue;
      ctx.fillStyle = teach ? COLOR.burst : '#aab3c0';
      ctx.fillRect(x(Math.max(a, live.time)), 0, Math.max(1, x(b) - x(Math.max(a, live.time))), h);
    }
    ctx.globalAlpha = 1;
  }
  for (const s of allSegments()) {
    ctx.fillStyle = s.teacher ? COLOR.burst : '#8d97a8';
    ctx.fillRect(x(s.start), 0, Math.max(1, x(s.end) - x(s.start)), h);
  }
  ctx.fillStyle = COLOR.ink;
  ctx.fillRect(Math.min(w - 2, x(live.time)), 0, 2, h);
  $('timeline-end').textContent = `${fmtInt(end)} s`;
  const segs = allSegments();
  const on = segs.filter((s) => s.teacher).reduce((a, s) => a + (s.end - s.start), 0);
  canvas.dataset.segments = String(segs.length);
  canvas.dataset.lastTeacher = segs.length ? (segs[segs.length - 1].teacher ? 'on' : 'off') : '';
  canvas.dataset.teacherSeconds = String(on);
  canvas.setAttribute('aria-label', `Timeline: ${fmtInt(live.time)} of ${fmtInt(end)} simulated seconds; teacher present for ${fmtInt(on)} s so far`);
}

// ---------------------------------------------------------------- multiplexing

const RASTER_SECONDS = 2;
const raster = { times: [], neurons: [], bursts: [], now: 0, neuronsShown: 40, neuronsTotal: 200 };

const depChart = new LiveChart($('c-dep'), {
  scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(5, (max ?? 0) * 1.12)] } },
  axes: [axis(null, { values: (u, s) => s.map((v) => `${+v.toFixed(1)}`) }), axis('Hz', { size: 40 })],
  series: [{}, line('event rate (set)', COLOR.ink, { width: 1.5, dash: [5, 4] }), line('depressing synapse', COLOR.event, { width: 2.25 })],
}, () => (small() ? 130 : 140));

const facChart = new LiveChart($('c-fac'), {
  scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(5, (max ?? 0) * 1.12)] } },
  axes: [axis('time (s)', { values: (u, s) => s.map((v) => `${+v.toFixed(1)}`) }), axis('Hz', { size: 40 })],
  series: [{}, line('burst rate (set)', COLOR.ink, { width: 1.5, dash: [5, 4] }), line('facilitating synapse', COLOR.burst, { width: 2.25 })],
}, () => (small() ? 140 : 152));

let muxDragging = false;

function onMuxFrame(x) {
  if (!x) return;
  const r = x.raster;
  for (let i = 0; i < r.times.length; i++) {
    raster.times.push(r.times[i]);
    raster.neurons.push(r.neurons[i]);
    raster.bursts.push(r.bursts[i]);
  }
  raster.now = x.state.time;
  let drop = 0;
  while (drop < raster.times.length && raster.times[drop] < raster.now - RASTER_SECONDS) drop++;
  if (drop) {
    raster.times.splice(0, drop);
    raster.neurons.splice(0, drop);
    raster.bursts.splice(0, drop);
  }
  drawRaster();
  const s = x.samples;
  depChart.set([s.time, s.event_rate, s.decoded_event_rate]);
  facChart.set([s.time, s.burst_rate, s.decoded_burst_rate]);
  const st = x.state;
  setDatum($('m-dep'), st.decoded_event_rate, `${st.decoded_event_rate.toFixed(1)} Hz`);
  setDatum($('m-fac'), st.decoded_burst_rate, `${st.decoded_burst_rate.toFixed(1)} Hz`);
  setDatum($('m-true-e'), st.event_rate, `${st.event_rate.toFixed(1)} Hz`);
  setDatum($('m-true-b'), st.event_rate * st.burst_prob, `${(st.event_rate * st.burst_prob).toFixed(1)} Hz`);
  // The sliders show what drives the ensemble (the random schedule moves them).
  if (x.auto && !muxDragging) {
    $('mux-rate').value = String(st.event_rate);
    $('mux-burst').value = String(st.burst_prob);
  }
  showSliderValues();
  $('mux-auto').checked = x.auto;
  const c = x.correlations;
  const fmtC = (v) => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(2));
  for (const [id, key] of [['k-de', 'depressing_vs_event_rate'], ['k-db', 'depressing_vs_burst_rate'], ['k-fe', 'facilitating_vs_event_rate'], ['k-fb', 'facilitating_vs_burst_rate']]) {
    setDatum($(id), c[key], fmtC(c[key]));
  }
  $('k-scope').textContent = `over the last ${Math.round(x.seconds)} s of signal`;
  $('k-hint').hidden = c.depressing_vs_event_rate != null;
  updateMuxRunButton(x.running);
}

function drawRaster() {
  const canvas = $('raster');
  const { ctx, w, h } = fitCanvas(canvas, 120, 180);
  const axisH = 16;
  const plotH = h - axisH;
  const rows = raster.neuronsShown;
  const rowH = plotH / rows;
  const t0 = raster.now - RASTER_SECONDS;
  const x = (t) => ((t - t0) / RASTER_SECONDS) * w;
  // Faint stripes every 5 neurons, for the eye.
  ctx.fillStyle = '#f6f8fb';
  for (let k = 0; k < rows; k += 10) ctx.fillRect(0, k * rowH, w, 5 * rowH);
  const tickH = Math.max(2, rowH * 0.8);
  for (const burst of [0, 1]) {
    ctx.fillStyle = burst ? COLOR.burst : COLOR.event;
    const width = burst ? 2 : 1.5;
    for (let i = 0; i < raster.times.length; i++) {
      if (raster.bursts[i] !== burst) continue;
      ctx.fillRect(x(raster.times[i]) - width / 2, raster.neurons[i] * rowH + (rowH - tickH) / 2, width, tickH);
    }
  }
  ctx.fillStyle = COLOR.muted;
  ctx.font = FONT;
  ctx.textBaseline = 'bottom';
  ctx.textAlign = 'left';
  ctx.fillText(`−${RASTER_SECONDS} s`, 2, h - 1);
  ctx.textAlign = 'right';
  ctx.fillText('now', w - 2, h - 1);
  ctx.textAlign = 'center';
  ctx.fillText(`${rows} of ${raster.neuronsTotal} neurons`, w / 2, h - 1);
  canvas.dataset.time = String(raster.now); // the ensemble's own clock, simulated seconds
  canvas.dataset.spikes = String(raster.times.length);
  canvas.dataset.bursts = String(raster.bursts.reduce((a, b) => a + b, 0));
}

function showSliderValues() {
  $('mux-rate-out').textContent = `${Number($('mux-rate').value).toFixed(1)} Hz`;
  $('mux-burst-out').textContent = Number($('mux-burst').value).toFixed(2);
}

function updateMuxRunButton(running) {
  const b = $('mux-run');
  b.textContent = running ? 'Pause' : 'Run';
  b.setAttribute('aria-pressed', String(!running));
  b.setAttribute('aria-label', running ? 'Pause the spiking ensemble' : 'Run the spiking ensemble');
}

// ---------------------------------------------------------------- controls

let ready = false;
const send = (type, payload) => call(type, payload).catch((e) => notify('error', e.message, `${type}-error`));

function syncControls() {
  document.querySelectorAll('#speed button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.speed === state.speed)));
  $('follow').checked = state.schedule;
  $('seed').value = String(state.seed);
  for (const name of ['before', 'learn', 'after']) $(name).value = String(state[name]);
  $('window').value = state.window;
  if (!$('mux-auto').checked || !ready) {
    $('mux-rate').value = String(state.rate);
    $('mux-burst').value = String(state.burst);
  }
  $('mux-auto').checked = state.auto;
  showSliderValues();
}

function setState(patch) {
  state = { ...state, ...patch };
  writeHash();
}

$('speed').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-speed]');
  if (!b) return;
  setState({ speed: b.dataset.speed });
  syncControls();
  if (ready) send('speed', { speed: state.speed });
});

$('run').addEventListener('click', async () => {
  if (!ready) return;
  const on = !live.running;
  live.running = on;
  updateRunButton();
  const st = await call('run', { on });
  Object.assign(live, st);
  setState({ run: st.running, schedule: st.follow, ...(st.follow ? {} : { teacher: st.teacher, plasticity: st.plasticity }) });
  updateRunButton();
});

async function toggle(kind) {
  if (!ready) return;
  const on = !live[kind];
  live[kind] = on;
  live.follow = false;
  setSwitch($(kind), on);
  const st = await call(kind, { on });
  Object.assign(live, st);
  setState({ schedule: false, teacher: st.teacher, plasticity: st.plasticity });
  syncControls();
}
$('teacher').addEventListener('click', () => toggle('teacher'));
$('plasticity').addEventListener('click', () => toggle('plasticity'));

$('follow').addEventListener('change', async (e) => {
  if (!ready) return;
  const st = await call('schedule', { follow: e.target.checked });
  Object.assign(live, st);
  setState({ schedule: st.follow, teacher: st.teacher, plasticity: st.plasticity, run: st.running });
  syncControls();
  updateRunButton();
});

/** The regression task's settings object for the wasm (a patch on its defaults). */
function taskPatch(s) {
  return { network: { seed: s.seed }, before: s.before, learn: s.learn, after: s.after, window: ERROR_WINDOW };
}

async function resetTask(next = state) {
  try {
    const r = await call('reset', { patch: taskPatch(next), follow: next.schedule, teacher: next.teacher, plasticity: next.plasticity });
    state = next;
    config = r.config;
    totalSteps = r.totalSteps;
    segments = [];
    errors = [];
    Object.assign(live, r, { stepTeacher: false });
    dismiss('reset-error');
    writeHash();
    drawErrors();
    drawTimeline();
  } catch (e) {
    notify('error', `Could not build that task: ${e.message}`, 'reset-error');
  }
  syncControls();
}
$('reset').addEventListener('click', () => { if (ready) resetTask(state); });
$('settings').addEventListener('submit', (e) => e.preventDefault());

/** A number field of the state: checked like a link value; a bad one is refused with a notice. */
function numberField(id, name, after) {
  $(id).addEventListener('change', (e) => {
    const p = param(name);
    const r = parseValue(p, e.target.value);
    if ('error' in r) {
      notify('warn', `${p.label}: ${e.target.value} ${r.error}. Kept ${formatValue(p, state[name])}.`, `field-${name}`);
      e.target.value = formatValue(p, state[name]);
      return;
    }
    dismiss(`field-${name}`);
    if (r.value === state[name]) return;
    after({ ...state, [name]: r.value });
  });
}
for (const name of ['seed', 'before', 'learn', 'after']) numberField(name, name, (next) => (ready ? resetTask(next) : (state = next, writeHash())));

$('window').addEventListener('change', (e) => {
  setState({ window: e.target.value });
  if (ready) send('window', { seconds: Number(state.window) });
});

$('neuron-rows').addEventListener('change', (e) => {
  const input = e.target.closest('input[data-index]');
  if (!input) return;
  const i = Number(input.dataset.index);
  const p = param('units');
  const r = parseValue({ ...p, kind: 'int', max: p.max }, input.value);
  if ('error' in r) {
    notify('warn', `Hidden unit: ${input.value} ${r.error}. Kept ${state.units[i]}.`, 'field-units');
    input.value = String(state.units[i]);
    return;
  }
  dismiss('field-units');
  const units = [...state.units];
  units[i] = r.value;
  setState({ units });
  input.parentElement.querySelector('.unit-static').textContent = `#${r.value}`;
  labelRow(input.closest('.neuron-row'), r.value);
  if (ready) send('watch', { units });
});

// Multiplexing sliders: touching one takes manual control (the random schedule stops).
function muxSlider(id, name, type, key) {
  const el = $(id);
  el.addEventListener('pointerdown', () => { muxDragging = true; });
  el.addEventListener('pointerup', () => { muxDragging = false; });
  el.addEventListener('input', () => {
    const v = Number(el.value);
    showSliderValues();
    if (state.auto) {
      $('mux-auto').checked = false;
      setState({ auto: false });
      send('mux-auto', { on: false });
    }
    setState({ [name]: v });
    if (ready) send(type, { [key]: v });
  });
  el.addEventListener('change', () => { muxDragging = false; });
}
muxSlider('mux-rate', 'rate', 'mux-rate', 'hz');
muxSlider('mux-burst', 'burst', 'mux-burst', 'p');

$('mux-auto').addEventListener('change', async (e) => {
  const on = e.target.checked;
  setState({ auto: on });
  if (!ready) return;
  await send('mux-auto', { on });
  if (!on) {
    // Back to the sliders' values.
    await send('mux-rate', { hz: state.rate });
    await send('mux-burst', { p: state.burst });
  }
});

let muxRunning = true;
$('mux-run').addEventListener('click', () => {
  muxRunning = !muxRunning;
  updateMuxRunButton(muxRunning);
  if (ready) send('mux-run', { on: muxRunning });
});

document.addEventListener('keydown', (e) => {
  if (e.target !== document.body || e.ctrlKey || e.metaKey || e.altKey || !ready) return;
  if (e.code === 'Space') {
    e.preventDefault();
    $('run').click();
  } else if (e.key === 't' || e.key === 'T') {
    $('teacher').click();
  }
});

document.addEventListener('visibilitychange', () => worker.postMessage({ type: 'visible', on: !document.hidden }));

window.addEventListener('hashchange', () => {
  if (location.hash === toHash(state)) return;
  // A pasted link: simplest faithful answer is to load it afresh.
  location.reload();
});

// ---------------------------------------------------------------- share / embed

const shareDialog = $('share-dialog');
function embedUrl() {
  const s = { ...state, embed: true, hide: new Set(state.hide), show: new Set() };
  shareDialog.querySelectorAll('[data-show]').forEach((box) => {
    if (box.checked) s.show.add(box.dataset.show); else s.hide.add(box.dataset.show);
  });
  return `${location.origin}${location.pathname}${toHash(s)}`;
}
function fillShare() {
  $('share-link').value = `${location.origin}${location.pathname}${toHash(state)}`;
  $('embed-code').value = `<iframe src="${embedUrl()}" title="BurstCCN dynamics: single-phase learning and burst multiplexing" ` +
    'width="100%" height="900" style="border:0" loading="lazy"></iframe>';
}
wireShareDialog(shareDialog, $('share'), fillShare, writeHash);

// ---------------------------------------------------------------- start

async function start() {
  document.body.dataset.phase = 'starting';
  buildNeuronRows();
  syncControls();
  applyVisibility();
  writeHash();
  const init = (s) => call('init', {
    regression: taskPatch(s),
    traceSeconds: Number(s.window),
    units: s.units,
    follow: s.schedule,
    teacher: s.teacher,
    plasticity: s.plasticity,
    speed: s.speed,
    running: s.run,
    mux: { rate: s.rate, burst: s.burst, auto: s.auto },
  });
  let r;
  try {
    r = await init(state);
  } catch (e) {
    return fail(`The simulation could not start: ${e.message}`);
  }
  config = r.config;
  totalSteps = r.totalSteps;
  Object.assign(live, r);
  $('mux-rate').max = String(Math.min(40, r.maxEventRate));
  raster.neuronsShown = r.multiplex.raster_neurons;
  raster.neuronsTotal = r.multiplex.neurons;
  $('build-info').textContent = `Engine ${r.version} (Rust → WebAssembly) in a Web Worker · student ${config.network.layers.join('-')} · dt ${+config.network.dt.toPrecision(3)} s · τ_W ${config.network.tau_w} s · p_b ${config.network.p_baseline}`;
  $('loading').hidden = true;
  ready = true;
  for (const id of ['run', 'teacher', 'plasticity', 'reset']) $(id).disabled = false;
  document.body.dataset.phase = 'ready';
  updateRunButton();
  drawTimeline();
}

start();
