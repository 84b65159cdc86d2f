// Page wiring: the state object ⇄ controls ⇄ URL hash, the training worker, and the views.
// Data flows one way: page → worker → wasm engine → small copies → canvases and charts.
import {
  PARAMS, parseHash, toHash, engineConfig, fromEngineConfig, param, parseValue, hiddenParts, defaults, changed, unusedBy, knownStack,
} from './state.js';
import { createNotices, wireShareDialog } from './notices.js';
import { NetworkView, OutputBars, renderLegend, renderFlow, drawDigit } from './heatmap.js';
import { LearningCurves, AlignmentChart, formatSamples } from './charts.js';
import { DrawPad } from './draw.js';
import { ConfusionMatrix, DigitStrip } from './testviews.js';

const $ = (id) => document.getElementById(id);
const STRIP_COUNT = 24;
/** How often the drawing is re-classified while the network keeps learning. */
const REPREDICT_MS = 600;
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (x) => `${(x * 100).toFixed(1)} %`;
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const DATA_NAMES = { mnist: 'MNIST', cifar10: 'CIFAR-10' };

// ---------------------------------------------------------------- notices
const { notify, dismiss } = createNotices($('notices'));

// ---------------------------------------------------------------- state and URL
/** One notice listing what a link asked for that the page could not use. */
function notifyLink(notices) {
  if (notices.length) notify('warn', 'This link has settings the page could not use:', 'link', notices.map((n) => n.message));
}

let state;
{
  const parsed = parseHash(location.hash);
  state = parsed.state;
  notifyLink(parsed.notices);
}

function writeHash() {
  history.replaceState(null, '', toHash(state));
  $('open-full').href = `${location.pathname}${toHash({ ...state, embed: false, hide: new Set(), show: new Set() })}`;
}

// ---------------------------------------------------------------- worker
const worker = new Worker('worker.js', { type: 'module' });
let callId = 0;
const calls = new Map();
/** Network generation: bumped by reset/load so late messages about the old network are ignored. */
let gen = 0;

function call(type, payload = {}, transfer = []) {
  return new Promise((resolve, reject) => {
    const id = ++callId;
    calls.set(id, { resolve, reject });
    worker.postMessage({ type, id, ...payload }, transfer);
  });
}

worker.onmessage = ({ data: m }) => {
  if (m.type === 'reply') {
    const c = calls.get(m.id);
    calls.delete(m.id);
    if (m.ok) c?.resolve(m.result); else c?.reject(new Error(m.error));
    return;
  }
  // About the data, whichever network is training (no `gen`).
  if (m.type === 'data-progress') return onDataProgress(m);
  if (m.type === 'test-ready') return onTestReady(m);
  if (m.type === 'cifar-progress') return onCifarProgress(m);
  if (m.type === 'data-error') {
    running = false;
    updatePlay();
    return fail(m.error);
  }
  if (m.gen !== undefined && m.gen !== gen) return;
  switch (m.type) {
    case 'engine': return onEngine(m);
    case 'tick': return onTick(m);
    case 'eval': return onEval(m);
    case 'diverged': return onDiverged(m);
    case 'error':
      if (m.during === 'train') {
        running = false;
        updatePlay();
      }
      return notify('error', `${m.during === 'train' ? 'Training stopped: ' : ''}${m.error}`, 'worker-error');
    default:
  }
};
worker.onerror = (e) => {
  e.preventDefault();
  fail(`The training worker could not start: ${e.message || 'unknown error'}`);
};

// ---------------------------------------------------------------- views
const network = new NetworkView($('network'));
renderLegend($('legend'), 'burstccn');
const curves = new LearningCurves($('curves'), { subsetLabel: 'test, 2,000 images' });
const alignment = new AlignmentChart($('alignment'), $('alignment-legend'));
const confusion = new ConfusionMatrix($('confusion'));
const strip = new DigitStrip($('strip'));
const padBars = new OutputBars($('pad-bars'), { burst: false });
const pad = new DrawPad($('pad'), onDraw);

let phase = 'starting'; // starting → loading → ready | failed
let running = false;
let progress = { total_samples: 0, epoch: 0, epochs_done: 0 };
let rate = null;
let subsetSize = 2000;
let viewSource = 'train';
let lastTrainActivity = null;
/** The network as the engine describes it: {model, layers, data: {kind, classes, input_shape, …}}. */
let shape = null;
/** MNIST's test set is in (its scores can be shown). */
let mnistTestReady = false;
/** CIFAR-10 as the engine holds it, once given: {train, test, bytes}. */
let cifarHeld = null;

function setPhase(p) {
  phase = p;
  document.body.dataset.phase = p;
  const ready = p === 'ready';
  for (const id of ['play', 'step', 'reset', 'save', 'load']) $(id).disabled = !ready;
  $('clear').disabled = !ready || pad.empty;
  updateTeachButton();
}

function fail(message) {
  setPhase('failed');
  $('loading').hidden = true;
  notify('error', message, 'fatal');
}

// ---------------------------------------------------------------- what the network view shows
// The worker's replies and ticks may arrive in any order relative to the drawing, the chosen
// label and each other, so one rule decides what the view shows. Every request whose reply
// carries activity of the drawing gets a ticket: a sequence number and the (network, drawing
// version, label) it was made for. A reply is shown only while its ticket is current and newer
// than the last one shown, and a teaching wave for the current drawing and label is held: no
// prediction replaces it until the drawing or the label changes (or the network is replaced).
// The decision is made at once and exposed as #network[data-showing]; the canvases follow at
// the next frame (#network[data-source], set when drawn).
let seq = 0;
let drawVersion = 0; // the pad's version of the drawing in drawPixels
let labelVersion = 0; // bumped at every pick of the true label
let shownDrawSeq = 0; // the newest drawing reply shown
let held = null; // the teaching wave on show: {ticket, activity}

function ticket(kind) {
  return { seq: ++seq, kind, gen, version: drawVersion, labelVersion, label: drawLabel };
}
const isCurrent = (t) => t.gen === gen && t.version === drawVersion && t.labelVersion === labelVersion;
const holdingWave = () => held !== null && isCurrent(held.ticket);

/**
 * A reply about the drawing under ticket `t`: show it if the rule allows (pad bars, and the
 * network view when it follows the drawing). Returns whether it did. A prediction must be the
 * newest shown and there must be no wave held; a teaching wave only has to be current (and
 * newer than a held one): it shows what the step did, which no prediction may hide.
 */
function offerDrawing(t, activity, bars) {
  if (!drawPixels || !isCurrent(t)) return false;
  if (t.kind === 'teach' ? holdingWave() && t.seq < held.ticket.seq : holdingWave() || t.seq < shownDrawSeq) return false;
  shownDrawSeq = Math.max(shownDrawSeq, t.seq);
  held = t.kind === 'teach' ? { ticket: t, activity } : null;
  padBars.update(bars);
  padBars.root.dataset.version = String(t.version);
  padBars.root.dataset.kind = t.kind;
  if (viewSource === 'draw') showActivity(activity);
  return true;
}

// Draw at most once per frame, whatever the message rate; the decision itself is synchronous.
let pendingActivity = null;
let viewFrame = 0;
function showActivity(activity) {
  pendingActivity = activity;
  network.root.dataset.showing = activity.source;
  if (viewFrame) return;
  viewFrame = requestAnimationFrame(() => {
    viewFrame = 0;
    const a = pendingActivity;
    pendingActivity = null;
    if (a) network.update(a, state.p_baseline);
  });
}

function setSource(source) {
  viewSource = source;
  $('src-train').setAttribute('aria-pressed', String(source === 'train'));
  $('src-draw').setAttribute('aria-pressed', String(source === 'draw'));
  if (source === 'train' && lastTrainActivity) showActivity(lastTrainActivity);
  if (source === 'draw') {
    if (holdingWave()) showActivity(held.activity);
    else if (drawPixels) predictDrawing();
  }
}

/** A new network's shape (from the engine): the views follow its layers, model and data. */
function setShape(s = shape) {
  if (!s) return;
  shape = s;
  if (s.data.cifar) cifarHeld = s.data.cifar;
  network.setShape(s);
  renderLegend($('legend'), s.model);
  renderFlow(document.querySelector('#panel-network .flow'), s.model);
  const hidden = s.layers.slice(0, -1);
  const convs = hidden.filter((l) => l.kind === 'conv').length;
  alignment.setShape(hidden.length, { model: s.model, names: hidden.map((l, k) => (l.kind === 'conv' ? `conv ${k + 1}` : `hidden ${k + 1 - convs}`)) });
  const classes = s.data.classes;
  confusion.setClasses(classes);
  padBars.setClasses(classes);
  const named = classes.some((c) => c.length > 1);
  $('axes-key').textContent = named
    ? 'rows: true class · columns: the network’s answer · '
    : 'rows: true digit · columns: the network’s answer · ';
  $('axes-key').append(Object.assign(document.createElement('span'), { className: 'c-mistake', textContent: 'red' }), ': mistakes');
  $('digits-title').textContent = s.data.kind === 'cifar10' ? 'Test images' : 'Test digits';
  $('strip-key').firstChild.textContent = s.data.kind === 'cifar10' ? 'Each image shows the network’s answer; ' : 'Each digit shows the network’s answer; ';
  document.body.dataset.data = s.data.kind;
  document.body.dataset.model = s.model;
  showMemory(s.memoryBytes);
}

/** The engine's wasm memory (its data sets, the network, scratch), as the worker reports it. */
function showMemory(bytes) {
  if (!bytes || String(bytes) === $('memory').dataset.bytes) return;
  const held = cifarHeld ? ` (CIFAR-10 ${megabytes(cifarHeld.bytes)} of it)` : '';
  $('memory').textContent = `wasm memory ${(bytes / 2 ** 20).toFixed(0)} MiB${held}`;
  $('memory').dataset.bytes = String(bytes);
}

// ---------------------------------------------------------------- readouts
let readoutTimer = 0;
function updateReadouts() {
  if (readoutTimer) return;
  readoutTimer = setTimeout(() => {
    readoutTimer = 0;
    $('r-samples').textContent = fmtInt(progress.total_samples);
    $('r-epoch').textContent = (progress.epoch ?? 0).toFixed(2);
    $('r-rate').textContent = running && rate != null ? fmtInt(rate) : '–';
    $('r-rate').dataset.value = running && rate != null ? String(rate) : '';
  }, 200);
}

function updatePlay() {
  const b = $('play');
  b.querySelector('.icon path').setAttribute('d', running ? 'M2 1h3.5v12H2zM8.5 1H12v12H8.5z' : 'M2 1l11 6-11 6z');
  b.querySelector('.label').textContent = running ? 'Pause' : 'Train';
  b.classList.toggle('running', running);
  b.setAttribute('aria-label', running ? 'Pause training' : 'Train');
  $('step').disabled = running || phase !== 'ready';
  document.body.classList.toggle('is-running', running);
}

// ---------------------------------------------------------------- worker events
/** The engine's own configuration, as it reports it (read back after every change). */
function engineSays(config) {
  $('foot').dataset.engineConfig = JSON.stringify(config);
  const how = config.model === 'burstprop' || config.model === 'edn' ? config.model : config.rule;
  const pb = config.p_baseline === undefined ? '' : ` · p_b ${+config.p_baseline.toPrecision(4)}`;
  $('net-info').textContent = `network ${describeNet(config)} · ${how} · η ${+config.lr.toPrecision(4)}${pb} · batch ${config.batch_size}`;
}

/** `784-500-10`, or `1×28×28-c32k5s2-c64k3s2-f500-10` for a conv net (as the command line says it). */
function describeNet(config) {
  if (!config.conv?.length) return config.layers.join('-');
  const [c, h, w] = config.input_shape;
  return [`${c}×${h}×${w}`, ...config.conv.map((l) => `c${l.channels}k${l.kernel}s${l.stride}`),
    ...config.layers.slice(1, -1).map((n) => `f${n}`), config.layers.at(-1)].join('-');
}

function onEngine(m) {
  engineSays(m.config);
  setShape(m.shape);
  // Which build and how many threads (the threaded one only where the page is cross-origin isolated).
  const where = m.threads > 1 ? `on ${m.threads} threads (the threaded build: this page is cross-origin isolated)` : 'in a Web Worker, on 1 thread';
  $('build-info').textContent = `Engine ${m.version} (Rust → WebAssembly, ${m.kernel} kernels) ${where}`;
  Object.assign($('build-info').dataset, { build: m.build || '', threads: String(m.threads || 1) });
}

function onTick(m) {
  if (m.progress) progress = m.progress;
  if (m.report) curves.addTrain(m.report, progress.total_samples);
  if (m.diagnostics) {
    alignment.add(progress.total_samples, m.diagnostics);
    const u = m.diagnostics.mean_abs_apical;
    // Mean |apical potential|: Q learning drives it toward 0 (no hidden layer: none to show).
    $('apical-mean').textContent = u == null || !Number.isFinite(u) ? '' : `mean |u| = ${u < 0.001 ? u.toExponential(1) : u.toFixed(4)}`;
  }
  // The page owns "running" (a late tick must not undo a click); the worker reports its own
  // stops through 'diverged' and 'error'.
  rate = m.rate;
  showMemory(m.memoryBytes);
  if (m.activity) {
    lastTrainActivity = m.activity;
    if (viewSource === 'train') showActivity(m.activity);
  }
  updateReadouts();
}

function onEval(m) {
  const samples = m.progress.total_samples;
  const acc = 1 - m.error_rate;
  curves.addTest(samples, m.error_rate, m.loss, m.scope === 'full');
  if (m.scope === 'subset') {
    $('r-acc').textContent = pct(acc);
    $('r-acc').dataset.value = String(acc);
    $('r-acc').dataset.samples = String(samples);
    $('r-acc').dataset.gen = String(m.gen);
    $('r-acc-scope').textContent = `${fmtInt(m.count)} test images`;
    $('r-acc').title = shape?.data.kind === 'cifar10'
      ? `The first ${fmtInt(m.count)} of the ${fmtInt(shape.data.test)} CIFAR-10 test images, scored at ${fmtInt(samples)} samples`
      : `Every 5th image of the 10,000 MNIST test images, scored at ${fmtInt(samples)} samples`;
  } else {
    $('r-full').textContent = pct(acc);
    $('r-full').dataset.value = String(acc);
    $('r-full').dataset.gen = String(m.gen);
    $('r-full-scope').textContent = m.progress.epochs_done ? `after epoch ${m.progress.epochs_done}` : fmtInt(m.count);
    $('r-full').title = `All ${fmtInt(m.count)} ${DATA_NAMES[shape?.data.kind] ?? ''} test images${m.progress.epochs_done ? `, after epoch ${m.progress.epochs_done}` : ''}`;
  }
  confusion.update(m.confusion);
  $('confusion-scope').textContent = `${m.scope === 'full' ? `all ${fmtInt(m.count)}` : fmtInt(m.count)} test images, at ${formatSamples(samples)} samples`;
  if (m.strip.start === strip.start) strip.setPredictions(m.strip.preds);
  progress = m.progress;
  updateReadouts();
}

function onDiverged(m) {
  running = false;
  progress = m.progress;
  updatePlay();
  updateReadouts();
  notify('error', `Training diverged after ${fmtInt(m.progress.total_samples)} samples, so it was paused: ${m.message}. ` +
    `The weights from before that step are kept. Lower the learning rate η (now ${state.lr}) and press Train again, or Reset.`, 'diverged');
}

// ---------------------------------------------------------------- controls
const form = $('settings-form');

function syncControls() {
  for (const p of PARAMS) {
    const el = form.elements[p.name];
    if (!el) continue;
    if (el.type === 'checkbox') el.checked = state[p.name];
    else el.value = String(state[p.name]);
  }
  form.elements.depth.value = String(state.hidden.length);
  form.elements.width.value = String(state.hidden.length ? Math.max(...state.hidden) : form.elements.width.value || 500);
  form.elements.width.disabled = state.hidden.length === 0;
  // Settings a model has no use for (Burstprop and EDN have no Q, EDN no p_b; neither a rule).
  const unused = unusedBy(state.model);
  for (const name of ['rule', 'p_baseline', 'q_mode', 'q_learning', 'lr_q']) {
    form.elements[name].disabled = unused.has(name);
    form.elements[name].closest('.field').classList.toggle('unused', unused.has(name));
  }
  form.elements.lr_q.disabled ||= !state.q_learning;
  const uneven = new Set(state.hidden).size > 1;
  form.elements.width.title = uneven ? `layers: ${state.hidden.join('-')}` : '';
  $('hidden-legend').textContent = state.model.startsWith('conv') ? 'Dense layers after the conv layers' : 'Hidden layers';
  // CIFAR-10 can be picked once it is loaded (the button loads it).
  form.elements.data.querySelector('option[value="cifar10"]').textContent = cifarHeld ? 'CIFAR-10' : 'CIFAR-10 (load it first)';
}

/** Panels that make the page taller than a lecture slide's frame. */
const TALL_PANELS = ['intro', 'settings', 'draw', 'confusion', 'digits'];

function applyVisibility() {
  const hidden = hiddenParts(state);
  // The pad draws MNIST digits: it has nothing to say to a CIFAR-10 network.
  if (state.data === 'cifar10') hidden.add('draw');
  document.querySelectorAll('[data-hide]').forEach((el) => { el.hidden = hidden.has(el.dataset.hide); });
  network.setKernelsShown(!hidden.has('kernels'));
  sendViews();
  document.body.classList.toggle('embed', state.embed);
  // An embed of the network and the curves (alignment too) fits its frame without scrolling
  // (style.css); one that shows more panels scrolls like the full page.
  const fit = state.embed && TALL_PANELS.every((name) => hidden.has(name)) && !(hidden.has('network') && hidden.has('curves'));
  document.body.classList.toggle('embed-fit', fit);
}

/** The value a control asks for, as the text the URL would hold. */
function controlRaw(el) {
  if (el.name === 'depth' || el.name === 'width') {
    const depth = Number(form.elements.depth.value);
    const width = form.elements.width.value.trim() || String(state.hidden[0] ?? 500);
    if (!Number.isInteger(depth) || depth < 0 || depth > 6) return { name: 'hidden', raw: null, error: 'the number of hidden layers must be a whole number from 0 to 6' };
    return { name: 'hidden', raw: depth ? Array(depth).fill(width).join(',') : '-' };
  }
  return { name: el.name, raw: el.type === 'checkbox' ? (el.checked ? '1' : '0') : el.value };
}

form.addEventListener('submit', (e) => e.preventDefault());
form.addEventListener('change', async (e) => {
  const el = e.target;
  if (!el.name) return;
  const { name, raw, error } = controlRaw(el);
  const p = param(name);
  const r = error ? { error } : parseValue(p, raw);
  if ('error' in r) {
    notify('warn', `${p.label}: ${raw ?? ''} ${r.error}. Kept ${name === 'hidden' ? state.hidden.join('-') || 'no hidden layer' : state[name]}.`, `control-${name}`);
    syncControls();
    return;
  }
  dismiss(`control-${name}`);
  if (name === 'data' && r.value === 'cifar10' && !cifarHeld) {
    // Not loaded yet: ask for the file (the choice applies once it is read).
    syncControls();
    $('cifar-file').click();
    return;
  }
  if (name === 'model' || name === 'data') {
    // Another model or data set starts from its own settings (the authors'), same seed.
    const model = name === 'model' ? r.value : state.model;
    const data = name === 'data' ? r.value : state.data;
    await applySettings({ ...defaults({ model, data }), seed: state.seed, embed: state.embed, autoplay: state.autoplay, hide: new Set(state.hide), show: new Set(state.show) });
    return;
  }
  await applySettings({ ...state, hide: new Set(state.hide), show: new Set(state.show), [name]: r.value });
});

$('new-seed').addEventListener('click', async () => {
  try {
    const seed = await call('random-seed');
    form.elements.seed.value = String(seed);
    form.elements.seed.dispatchEvent(new Event('change', { bubbles: true }));
  } catch (e) {
    notify('error', e.message);
  }
});

$('defaults').addEventListener('click', () => {
  // The authors' settings of the model and data in use.
  const d = defaults({ model: state.model, data: state.data });
  applySettings({ ...d, embed: state.embed, autoplay: state.autoplay, hide: new Set(state.hide), show: new Set(state.show) });
});

/** The live part of the engine configuration (setConfig keeps the weights). */
function livePatch(s) {
  const c = engineConfig(s);
  const live = { burstccn: ['rule', 'lr', 'p_baseline', 'lr_q', 'batch_size'], burstprop: ['lr', 'p_baseline', 'batch_size'], edn: ['lr', 'batch_size'] }[c.model];
  return Object.fromEntries(live.map((k) => [k, c[k]]));
}

let applying = Promise.resolve();
/** Move to state `next`: live settings via setConfig; the others rebuild the network after asking. */
function applySettings(next) {
  applying = applying.then(() => applyNow(next)).catch((e) => notify('error', e.message));
  return applying;
}

async function applyNow(next) {
  const names = changed(state, next);
  const needsReset = names.some((n) => param(n).apply === 'reset');
  const needsLive = names.some((n) => param(n).apply === 'live');
  if (phase !== 'ready') {
    // Before the data is in: start() rebuilds the engine with these settings when it arrives.
    state = next;
  } else if (needsReset) {
    if (progress.total_samples > 0 && !(await confirmReset(names.filter((n) => param(n).apply === 'reset'), next))) {
      syncControls();
      return;
    }
    if (!(await resetNetwork(next))) return;
  } else if (needsLive) {
    try {
      engineSays(await call('set', { patch: livePatch(next) }));
    } catch (e) {
      notify('error', e.message, 'set-error');
      syncControls();
      return;
    }
    state = next;
  } else {
    state = next;
  }
  writeHash();
  syncControls();
  applyVisibility();
}

const confirmDialog = $('confirm');
function confirmReset(names, next) {
  const labels = names.map((n) => param(n).label);
  const what = labels.length > 1 ? `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}` : labels[0];
  return confirmText(`Changing the ${what} builds a new network with fresh weights (seed ${next.seed}). ` +
    `The ${fmtInt(progress.total_samples)} samples of training so far will be lost; save the model first to keep them.`);
}

/** Ask before building a new network; resolves to true when the user agrees. */
function confirmText(text) {
  $('confirm-text').textContent = text;
  confirmDialog.returnValue = '';
  confirmDialog.showModal();
  return new Promise((resolve) => {
    confirmDialog.addEventListener('close', () => resolve(confirmDialog.returnValue === 'ok'), { once: true });
  });
}

/** A fresh network for `next` (same seed → same weights). Returns false, with a notice, if the engine refuses. */
async function resetNetwork(next) {
  const old = gen;
  gen += 1;
  running = false;
  updatePlay();
  curves.clear();
  alignment.clear();
  let r;
  try {
    r = await call('reset', { config: engineConfig(next), gen });
  } catch (e) {
    gen = old;
    notify('error', `Could not build that network: ${e.message}`, 'reset-error');
    syncControls();
    return false;
  }
  engineSays(r.config);
  const dataChanged = shape?.data.kind !== r.shape.data.kind;
  state = next;
  progress = { total_samples: 0, epoch: 0, epochs_done: 0 };
  clearScores(r.shape);
  dismiss('diverged');
  dismiss('reset-error');
  setShape(r.shape);
  if (dataChanged) await onDataChanged();
  lastTrainActivity = null;
  await showTestExample();
  if (drawPixels) predictDrawing();
  updateReadouts();
  return true;
}

window.addEventListener('hashchange', () => {
  let { state: next, notices } = parseHash(location.hash);
  notifyLink(notices);
  if (next.data === 'cifar10' && !cifarHeld) {
    notify('warn', 'This link trains on CIFAR-10, which is not loaded: press “Use CIFAR-10” (or drop cifar-10-binary.tar.gz on the page) first. The rest of the link applies on MNIST.', 'link-cifar');
    next = { ...next, ...defaults({ model: next.model, data: 'mnist' }), ...Object.fromEntries(['rule', 'seed', 'y_mode', 'q_mode'].map((k) => [k, next[k]])), data: 'mnist' };
  }
  applySettings(next);
});

// ---------------------------------------------------------------- training buttons
$('play').addEventListener('click', () => {
  if (phase !== 'ready') return;
  running = !running;
  if (running) {
    setSource('train');
    dismiss('diverged');
  }
  worker.postMessage({ type: running ? 'play' : 'pause' });
  updatePlay();
  updateReadouts();
});
$('step').addEventListener('click', () => {
  setSource('train');
  worker.postMessage({ type: 'step' });
});
$('reset').addEventListener('click', () => applying = applying.then(() => resetNetwork(state)));
document.addEventListener('keydown', (e) => {
  // Space toggles training unless a control has the focus (it has its own use for Space).
  if (e.code === 'Space' && e.target === document.body && phase === 'ready') {
    e.preventDefault();
    $('play').click();
  }
});

// ---------------------------------------------------------------- network view source
$('src-train').addEventListener('click', () => setSource('train'));
$('src-draw').addEventListener('click', () => setSource('draw'));

/** Before any training, show the burst wave a test digit's label would cause in the fresh network. */
async function showTestExample() {
  const asked = gen;
  try {
    const r = await call('present-test', { index: 0 });
    if (asked !== gen) return; // about a network since replaced
    lastTrainActivity = r.activity;
    if (viewSource === 'train') showActivity(r.activity);
  } catch (e) {
    notify('error', e.message);
  }
}

// ---------------------------------------------------------------- draw pad
let drawPixels = null;
let drawLabel = -1;
let predicting = false;
let predictAgain = false;

const labelButtons = $('label-pick').querySelector('.label-buttons');
for (let d = 0; d < 10; d++) {
  const input = Object.assign(document.createElement('input'), { type: 'radio', name: 'true-label', id: `label-${d}`, value: String(d) });
  const label = Object.assign(document.createElement('label'), { htmlFor: `label-${d}`, textContent: String(d) });
  labelButtons.append(input, label);
}
labelButtons.addEventListener('change', (e) => {
  drawLabel = Number(e.target.value);
  labelVersion += 1;
  updateTeachButton();
  if (drawPixels) predictDrawing();
});

function updateTeachButton() {
  $('teach').disabled = phase !== 'ready' || !drawPixels || drawLabel < 0;
}

function onDraw(pixels, version = drawVersion) {
  drawPixels = pixels;
  drawVersion = version;
  $('clear').disabled = !pixels || phase !== 'ready';
  $('src-draw').disabled = !pixels;
  updateTeachButton();
  if (!pixels) {
    padBars.clear();
    delete padBars.root.dataset.version;
    $('pad-preview').getContext('2d').clearRect(0, 0, 28, 28);
    if (viewSource === 'draw') setSource('train');
    return;
  }
  drawDigit($('pad-preview'), pixels);
  if (phase !== 'ready') return;
  if (viewSource !== 'draw') setSource('draw'); else predictDrawing();
}

/**
 * Classify the drawing (with the chosen label as teacher, to show the burst wave it would
 * cause). One request at a time; a change meanwhile asks again for the drawing as it is then.
 */
async function predictDrawing() {
  if (!drawPixels || phase !== 'ready' || holdingWave()) return;
  if (predicting) { predictAgain = true; return; }
  predicting = true;
  try {
    const t = ticket(drawLabel >= 0 ? 'present' : 'predict');
    const pixels = drawPixels.slice();
    const r = t.label >= 0
      ? await call('present', { pixels, label: t.label }, [pixels.buffer])
      : await call('predict', { pixels }, [pixels.buffer]);
    offerDrawing(t, r.activity, { e: r.output, target: t.label });
  } catch (e) {
    notify('error', e.message, 'draw-error');
  } finally {
    predicting = false;
    if (predictAgain) { predictAgain = false; predictDrawing(); }
  }
}

$('clear').addEventListener('click', () => {
  pad.clear();
  $('teach-result').textContent = 'Draw, pick the true label, press Teach: one learning step on your drawing.';
});

$('teach').addEventListener('click', async () => {
  if (!drawPixels || drawLabel < 0) return;
  const t = ticket('teach');
  const label = t.label;
  const pixels = drawPixels.slice();
  try {
    const r = await call('teach', { pixels, label }, [pixels.buffer]);
    progress = r.progress;
    updateReadouts();
    // The step happened whatever the view does; its wave is shown only if the drawing and the
    // label are still the ones taught (else a newer prediction has the view).
    const shown = offerDrawing(t, r.activity, { e: r.after, before: r.before, target: label });
    if (shown) setSource('draw');
    const res = $('teach-result');
    res.dataset.label = String(label);
    res.dataset.before = String(r.before[label]);
    res.dataset.after = String(r.after[label]);
    res.dataset.shown = String(shown);
    const moved = r.after[label] - r.before[label];
    res.textContent = `Taught “${label}”: its output went ${r.before[label].toFixed(3)} → ${r.after[label].toFixed(3)} ` +
      `(${moved >= 0 ? '+' : ''}${moved.toFixed(3)}).${shown ? ' The network view shows the burst wave of that step.' : ''}`;
  } catch (e) {
    notify('error', e.message, 'teach-error');
  }
});

// Keep the drawing's prediction current while the network learns (not over a teaching wave).
setInterval(() => {
  if (running && drawPixels && viewSource === 'draw' && !holdingWave() && !document.hidden) predictDrawing();
}, REPREDICT_MS);

// ---------------------------------------------------------------- test digits
async function loadStrip(start) {
  try {
    const r = await call('strip', { start, count: STRIP_COUNT });
    strip.setImages(r, shape?.data.classes);
    $('strip-scope').textContent = `test images ${fmtInt(r.start + 1)}–${fmtInt(r.start + r.labels.length)} of the evaluation order`;
  } catch (e) {
    notify('error', e.message);
  }
}

/**
 * A new network: its scores are not known yet (its first comes from the worker shortly; the
 * old network's, in flight, are dropped by their `gen`). A score of the new network may have
 * come before the worker's reply that built it: that one stays.
 */
function clearScores(s) {
  for (const id of ['r-acc', 'r-full']) {
    if ($(id).dataset.gen === String(gen)) continue;
    $(id).textContent = '–';
    delete $(id).dataset.value;
    delete $(id).dataset.samples;
  }
  if ($('r-full').dataset.gen !== String(gen)) $('r-full-scope').textContent = fmtInt(s.data.test);
}

/** The network now learns from other data: its test images, and what the readouts count. */
async function onDataChanged() {
  const d = shape.data;
  subsetSize = d.kind === 'cifar10' ? Math.min(2000, d.test) : 2000;
  const ready = d.kind === 'cifar10' || mnistTestReady;
  $('r-acc-scope').textContent = ready ? `${fmtInt(subsetSize)} test images` : 'test set loading…';
  curves.setLabels(`test, ${fmtInt(subsetSize)} images`, `test, all ${fmtInt(d.test)} (epoch end)`);
  $('strip-prev').disabled = $('strip-next').disabled = !ready;
  strip.start = 0;
  if (ready) await loadStrip(0);
}

/** Tell the worker whether to copy activity for the network view (none while it is not shown). */
let viewsSent = null;
function sendViews() {
  const on = !$('panel-network').hidden && !document.hidden;
  if (on === viewsSent) return;
  viewsSent = on;
  worker.postMessage({ type: 'views', on });
}
document.addEventListener('visibilitychange', sendViews);
$('strip-prev').addEventListener('click', () => loadStrip((strip.start ?? 0) - STRIP_COUNT));
$('strip-next').addEventListener('click', () => loadStrip((strip.start ?? 0) + STRIP_COUNT));

// ---------------------------------------------------------------- curves toggle
for (const [id, mode] of [['curve-error', 'error'], ['curve-loss', 'loss']]) {
  $(id).addEventListener('click', () => {
    curves.setMode(mode);
    $('curve-error').setAttribute('aria-pressed', String(mode === 'error'));
    $('curve-loss').setAttribute('aria-pressed', String(mode === 'loss'));
  });
}

$('curve-log').addEventListener('change', (e) => curves.setLog(e.target.checked));

// ---------------------------------------------------------------- save / load
$('save').addEventListener('click', async () => {
  try {
    const bytes = await call('export');
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    const cfg = JSON.parse($('foot').dataset.engineConfig);
    const name = cfg.model && cfg.model !== 'burstccn' ? `${cfg.model}-` : 'burstccn-';
    a.download = `${name}${describeNet(cfg).replace(/×/g, 'x')}-${progress.total_samples}-samples.snap`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    notify('error', `Could not save the model: ${e.message}`);
  }
});
$('load').addEventListener('click', () => $('load-file').click());
$('load-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file) return;
  applying = applying.then(() => loadModel(file));
});

async function loadModel(file) {
  const bytes = await file.arrayBuffer();
  if (running) {
    running = false;
    worker.postMessage({ type: 'pause' });
    updatePlay();
  }
  const old = gen;
  gen += 1;
  let r;
  try {
    r = await call('import', { bytes, gen }, [bytes]);
  } catch (err) {
    gen = old;
    notify('error', `Could not load “${file.name}”: ${err.message}. The current network is kept.`, 'load-error');
    return;
  }
  dismiss('load-error');
  engineSays(r.config);
  const dataChanged = shape?.data.kind !== r.shape.data.kind;
  state = fromEngineConfig(state, r.config);
  progress = r.progress;
  curves.clear();
  alignment.clear();
  setShape(r.shape);
  writeHash();
  syncControls();
  applyVisibility();
  clearScores(r.shape);
  if (dataChanged) await onDataChanged();
  lastTrainActivity = null;
  await showTestExample();
  if (drawPixels) predictDrawing();
  updateReadouts();
  // A conv stack the page does not offer trains and is drawn as it is; Reset would build the page's.
  const odd = knownStack(r.config) ? '' : ' Its conv layers are not one of the page’s: Reset would build the page’s instead.';
  notify('info', `Loaded “${file.name}”: ${r.config.model && r.config.model !== 'burstccn' ? `${r.config.model} ` : ''}${describeNet(r.config)}, ${fmtInt(progress.total_samples)} samples of training.${odd}`, 'loaded');
}

// ---------------------------------------------------------------- CIFAR-10 from a file
// The official cifar-10-binary.tar.gz (or its six .bin files), from the button or dropped on
// the page: the worker streams it into the engine (cifar.js); the current network is kept
// until it is in, and kept on any error.
$('use-cifar').addEventListener('click', () => $('cifar-file').click());
$('cifar-file').addEventListener('change', (e) => {
  const files = [...e.target.files];
  e.target.value = '';
  if (files.length) useCifar(files);
});
let dragDepth = 0;
const cifarAllowed = () => !hiddenParts(state).has('cifar') && phase === 'ready';
document.addEventListener('dragenter', (e) => {
  if (!cifarAllowed() || !e.dataTransfer?.types.includes('Files')) return;
  dragDepth += 1;
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) document.body.classList.remove('dragging');
});
document.addEventListener('dragover', (e) => {
  if (cifarAllowed() && e.dataTransfer?.types.includes('Files')) e.preventDefault();
});
document.addEventListener('drop', (e) => {
  dragDepth = 0;
  document.body.classList.remove('dragging');
  if (!cifarAllowed() || !e.dataTransfer?.files.length) return;
  e.preventDefault();
  useCifar([...e.dataTransfer.files]);
});

let cifarLoading = false;
async function useCifar(files) {
  if (cifarLoading || phase !== 'ready') return;
  const names = files.map((f) => f.name).join(', ');
  const model = ['mlp', 'conv', 'conv-paper'].includes(state.model) ? (state.model === 'mlp' ? 'conv' : state.model) : 'conv';
  const next = { ...defaults({ model, data: 'cifar10' }), seed: state.seed, embed: state.embed, autoplay: state.autoplay, hide: new Set(state.hide), show: new Set(state.show) };
  if (progress.total_samples > 0 && !(await confirmText(`Training on CIFAR-10 builds a new network with fresh weights (seed ${next.seed}). ` +
    `The ${fmtInt(progress.total_samples)} samples of training so far will be lost; save the model first to keep them.`))) return;
  cifarLoading = true;
  if (running) {
    running = false;
    worker.postMessage({ type: 'pause' });
    updatePlay();
  }
  dismiss('cifar-error');
  const status = $('cifar-status');
  status.hidden = false;
  status.textContent = `Reading ${names}…`;
  document.body.classList.add('reading-cifar');
  let r;
  try {
    r = await call('load-cifar', { files });
  } catch (e) {
    status.hidden = true;
    // The engine's words name the file already when there is one.
    let why = e.message.replace(/^bad data file: /, '');
    if (files.length === 1 && why.startsWith(`${files[0].name}: `)) why = why.slice(files[0].name.length + 2);
    notify('error', `Could not use ${names}: ${why}. The current network is kept.`, 'cifar-error');
    return;
  } finally {
    cifarLoading = false;
    document.body.classList.remove('reading-cifar');
  }
  cifarHeld = { train: r.train, test: r.test, bytes: r.bytes };
  status.textContent = `CIFAR-10: ${fmtInt(r.train)} training and ${fmtInt(r.test)} test images, ${megabytes(r.bytes)} held (read in ${r.seconds.toFixed(1)} s); wasm memory ${(r.memoryBytes / 2 ** 20).toFixed(0)} MiB.`;
  status.dataset.bytes = String(r.bytes);
  status.dataset.memory = String(r.memoryBytes);
  syncControls();
  applying = applying.then(async () => {
    if (await resetNetwork(next)) {
      writeHash();
      syncControls();
      applyVisibility();
    }
  });
  await applying;
}

function onCifarProgress(m) {
  const status = $('cifar-status');
  status.hidden = false;
  status.textContent = `Reading CIFAR-10… ${megabytes(m.read)} of ${megabytes(m.total)} (${megabytes(m.held)} of images so far)`;
}

// ---------------------------------------------------------------- share / embed
const shareDialog = $('share-dialog');
function embedUrl() {
  const s = { ...state, embed: true, hide: new Set(state.hide), show: new Set() };
  shareDialog.querySelectorAll('[data-show]').forEach((box) => {
    const name = box.dataset.show;
    if (name === 'autoplay') s.autoplay = box.checked;
    else if (box.checked) s.show.add(name);
    else s.hide.add(name);
  });
  return `${location.origin}${location.pathname}${toHash(s)}`;
}
function fillShare() {
  $('share-link').value = location.href;
  // The compact embed fits 560 px (and down to 500); one with the taller panels scrolls.
  const tall = [...shareDialog.querySelectorAll('[data-show]')].some((box) => box.checked && TALL_PANELS.includes(box.dataset.show));
  $('embed-code').value = `<iframe src="${embedUrl()}" title="BurstCCN: a cortical network learning MNIST with bursts" ` +
    `width="100%" height="${tall ? 900 : 560}" style="border:0" loading="lazy"></iframe>`;
}
wireShareDialog(shareDialog, $('share'), fillShare, writeHash);

// ---------------------------------------------------------------- start
async function start() {
  if (state.data === 'cifar10') {
    // A link cannot bring CIFAR-10 along (the page has no right to ship it): MNIST until it is given.
    notify('warn', 'This link trains on CIFAR-10, which the page cannot download: press “Use CIFAR-10” (or drop cifar-10-binary.tar.gz on the page) to give it the file. Until then it trains on MNIST.', 'link-cifar');
    state = { ...state, ...defaults({ model: state.model, data: 'mnist' }), rule: state.rule, seed: state.seed, hide: state.hide, show: state.show, embed: state.embed, autoplay: state.autoplay, data: 'mnist' };
  }
  syncControls();
  applyVisibility();
  writeHash();
  setPhase('starting');
  if (matchMedia('(max-width: 760px)').matches) setSettingsOpen(false);
  let sent = JSON.stringify(engineConfig(state));
  const initial = call('init', { config: engineConfig(state) }).catch(async (e) => {
    // A setting the engine refuses (the page checks ranges too, but the engine has the last word).
    notify('warn', `Link: ${e.message}; using the authors' settings instead`, 'init-config');
    const d = defaults({ model: state.model, data: state.data });
    state = { ...d, embed: state.embed, autoplay: state.autoplay, hide: state.hide, show: state.show };
    syncControls();
    writeHash();
    sent = JSON.stringify(engineConfig(state));
    return call('init', { config: engineConfig(state) });
  });
  setPhase('loading');
  // MNIST streams in (see worker.js): training may start once the first few thousand training
  // images are in; the scores wait for the test set, and say so.
  for (const id of ['r-acc-scope', 'r-full-scope']) $(id).textContent = 'test set loading…';
  $('strip-prev').disabled = $('strip-next').disabled = true;
  const loading = call('load', { base: new URL('data/', location.href).href });
  loading.catch(() => {}); // a failure is reported below, once the engine has started or not
  try {
    await initial;
  } catch (e) {
    return fail(`The engine could not start: ${e.message}`);
  }
  try {
    await loading;
  } catch (e) {
    return fail(e.message);
  }
  // Settings changed while the data was loading: build that network now (nothing to lose yet).
  if (JSON.stringify(engineConfig(state)) !== sent) {
    try {
      gen += 1;
      const r = await call('reset', { config: engineConfig(state), gen });
      engineSays(r.config);
      setShape(r.shape);
    } catch (e) {
      notify('error', `Could not build that network: ${e.message}`, 'reset-error');
    }
  }
  if (phase === 'failed') return; // the data broke off meanwhile (a 'data-error' said so)
  setPhase('ready');
  updatePlay();
  await showTestExample();
  if (drawPixels) onDraw(drawPixels);
  if (state.autoplay) $('play').click();
}

/** The download, as it goes: the bar until everything is in, and what training has to work on. */
function onDataProgress(m) {
  if (phase === 'failed') return;
  $('loading-bar').max = m.total || 1;
  $('loading-bar').value = m.received;
  const mb = `${(m.received / 1e6).toFixed(1)}${m.total ? ` of ${(m.total / 1e6).toFixed(1)}` : ''} MB`;
  const text = phase !== 'ready'
    ? `Downloading MNIST… ${mb}`
    : `${m.arrived < m.count ? `${fmtInt(m.arrived)} of ${fmtInt(m.count)} training images in` : 'All training images in'}` +
      `${m.testReady ? '' : ', test set loading'} · ${mb}`;
  $('loading-text').textContent = text;
  $('loading').title = text; // (a compact embed shows only the bar)
  $('loading').hidden = Boolean(m.done);
}

/** MNIST's test set is in: from now on its readouts are scores. */
async function onTestReady(m) {
  mnistTestReady = true;
  if (shape?.data.kind === 'cifar10') return; // a CIFAR-10 network: its test set is there already
  subsetSize = m.subset;
  $('r-acc-scope').textContent = `${fmtInt(subsetSize)} test images`;
  $('r-full-scope').textContent = '10,000';
  curves.chart.plot.setSeries(2, { label: `test, ${fmtInt(subsetSize)} images` });
  $('strip-prev').disabled = $('strip-next').disabled = false;
  await loadStrip(0);
  // Before any training, the fresh network on a test digit (as after Reset).
  if (!progress.total_samples && !running) await showTestExample();
}

function setSettingsOpen(open) {
  $('settings').classList.toggle('collapsed', !open);
  $('settings-toggle').setAttribute('aria-expanded', String(open));
}
$('settings-toggle').addEventListener('click', () => setSettingsOpen($('settings').classList.contains('collapsed')));
start();
