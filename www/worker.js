// The training worker: owns the wasm Engine, trains in short chunks so the page never blocks,
// and posts small copies of what the page draws (activity of one example, reports, scores).
//
// Page → worker: {type, id?, ...}; requests with an `id` get {type: 'reply', id, ok, result | error}.
// Worker → page, unasked: 'engine', 'tick', 'eval', 'diverged', 'error', and about the data
// (not tied to one network, so without `gen`): 'data-progress', 'test-ready', 'data-error',
// 'cifar-progress'.
//
// MNIST arrives while the network trains: 'load' fetches both labels files first (small), then
// streams the training images into the engine and replies once START_AFTER of them are in, so
// the page can start training; the test images follow (scores wait for them). CIFAR-10 comes
// from files the user gives ('load-cifar', see cifar.js); both stay in the engine, and the
// network's input shape says which one it learns from (engine.dataInfo()).
//
// Scores are taken a slice of test images at a time, training held meanwhile, so that even
// the paper's CIFAR-10 net (seconds for 2,000 images) never keeps a click waiting.
import { loadEngineModule } from './engine.js';
import { interleaveTestSet, fetchIdx, streamImages, DataError } from './data.js';
import { readCifarFiles } from './cifar.js';

/** Milliseconds of training per chunk: long enough to amortise posting, short enough to stay responsive. */
const CHUNK_MS = 40;
/** Activity snapshots for the network view: 8 a second look live and cost little. */
const ACTIVITY_EVERY_MS = 125;
/**
 * A conv net's view is bigger (small multiples of every feature map, the kernels) and its
 * painting, on the page's thread, competes with training for the cores: 5 frames a second
 * keep it well under a tenth of the training rate (tests/page/measure-conv.mjs).
 */
const CONV_ACTIVITY_EVERY_MS = 200;
/** Diagnostics (angles to backprop / FA, Y–Q) cost extra backward passes: about one a second. */
const DIAGNOSTICS_EVERY_MS = 900;
/** The MNIST test subset is every 5th image (2,000 of 10,000; see data.js). */
const SUBSET_STRIDE = 5;
/** Test images scored while training (CIFAR-10's test batch is in random order: its first ones). */
const SUBSET_MAX = 2000;
/**
 * Periodic test evaluation (2,000 forward passes ≈ 600 training samples) every EVAL_BUDGET
 * times its own cost, i.e. under ~6 % of the time, but at least every EVAL_MAX_MS so the
 * readout stays current.
 */
const EVAL_BUDGET = 15;
const EVAL_MIN_MS = 1500;
const EVAL_MAX_MS = 5000;
/** One slice of a score takes about this long (the slice size adapts). */
const SLICE_MS = 30;
/** Training may start once this many training images have arrived (~0.5 MB of the 9.7 MB file). */
const START_AFTER = 3000;
/** Download progress reports to the page: at most this often. */
const PROGRESS_EVERY_MS = 150;

let wasm = null;
let engine = null;
let kernel = '';
/** What the current network is and learns from: {model, layers: [layerShape], data: dataInfo}. */
let shape = null;
let testOrder = null;
let mnistSubset = 0;
/** MNIST's test set is in the engine: MNIST scores can be given. */
let mnistTestReady = false;
/** A data file failed after training could start: training stays stopped. */
let dataFailed = false;
/** Resolves once the engine exists ('init' may be retried with other settings). */
let engineExists;
const engineReady = new Promise((resolve) => { engineExists = resolve; });

let running = false;
let looping = false;
/** The page shows the network view: send activity with the ticks (else none is copied). */
let viewsOn = true;
let stepsPerChunk = 1;
let lastActivityAt = 0;
let lastDiagnosticsAt = 0;
let trainMsSinceEval = 0;
let lastEvalMs = 150;
let samplesAtEval = -1;
let epochsDone = 0;
let rateWindow = [];
let strip = { start: 0, count: 24 };
/** Which network the page thinks it is talking about (bumped by reset/import); tags every event. */
let gen = 0;

const post = (msg, transfer = []) => self.postMessage({ gen, ...msg }, transfer);

// For the soak run and the tests (read through DevTools): what the engine holds.
self.burstccnDebug = {
  memoryBytes: () => (wasm ? wasm.Engine.memoryBytes() : 0),
  trainingStatus: () => (engine ? engine.trainingStatus() : null),
  progress: () => (engine ? engine.progress() : null),
  dataInfo: () => (engine ? engine.dataInfo() : null),
};

// A zero-delay yield that lets queued messages (pause, predict, …) run between chunks;
// setTimeout(0) would be clamped to 4 ms once nested. Several may wait at once (the training
// loop and a score): each post wakes one, in order.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const nextTask = () => new Promise((resolve) => { waiting.push(resolve); channel.port2.postMessage(null); });

// Messages are handled one at a time, in order (init is async: nothing may overtake it).
let queue = Promise.resolve();
self.onmessage = (ev) => {
  // The download starts at once, beside the engine's start-up (it waits for the engine itself);
  // reading CIFAR-10 takes seconds and must not hold up a pause meanwhile.
  if (ev.data.type === 'load') return load(ev.data);
  if (ev.data.type === 'load-cifar') return loadCifar(ev.data);
  queue = queue.then(() => respond(ev.data));
};

async function respond(msg) {
  try {
    const result = await handle(msg);
    if (msg.id !== undefined) post({ type: 'reply', id: msg.id, ok: true, result: result?.value }, result?.transfer || []);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    if (msg.id !== undefined) post({ type: 'reply', id: msg.id, ok: false, error });
    else post({ type: 'error', error, during: msg.type });
  }
}

async function handle(msg) {
  switch (msg.type) {
    case 'init': return init(msg.config);
    case 'play':
      if (!running && !dataFailed) {
        running = true;
        rateWindow = [];
        if (samplesAtEval < 0) evaluate(false);
        loop();
      }
      return;
    case 'pause':
      running = false;
      // The readout should describe the weights as they are now.
      if (engine && testReady() && samplesAtEval !== progress().total_samples) evaluate(false);
      post({ type: 'tick', running, progress: progress(), rate: 0 });
      return;
    case 'views':
      viewsOn = Boolean(msg.on);
      return;
    // Steps change the weights: not in the middle of a score.
    case 'step': await scored(); return singleStep();
    case 'set': return { value: engine.setConfig(msg.patch) };
    case 'reset': return reset(msg.config, msg.gen);
    case 'predict': return predict(msg.pixels);
    case 'present': return present(msg.pixels, msg.label);
    case 'present-test': return presentTest(msg.index);
    case 'teach': await scored(); return teach(msg.pixels, msg.label);
    case 'strip': return stripImages(msg.start, msg.count);
    case 'evaluate': evaluate(Boolean(msg.full)); return;
    // A seed from the browser's cryptographic source (engine API), below 2^53 so the URL keeps it.
    case 'random-seed': return { value: wasm.randomSeed ? wasm.randomSeed() : crypto.getRandomValues(new Uint32Array(1))[0] };
    case 'export': {
      const bytes = engine.exportSnapshot();
      return { value: bytes, transfer: [bytes.buffer] };
    }
    case 'import': return importSnapshot(msg.bytes, msg.gen);
    default: throw new Error(`unknown message ${msg.type}`);
  }
}

async function init(config) {
  // The threaded build where the page is cross-origin isolated (threads.js), else one thread.
  wasm = await loadEngineModule({ threads: true });
  engine = new wasm.Engine(config);
  kernel = engine.kernelName();
  const info = wasm.buildInfo();
  const cfg = engine.getConfig();
  describe();
  post({ type: 'engine', kernel, version: info.version, config: cfg, shape, build: wasm.build, threads: wasm.threads });
  engineExists();
  return { value: { config: cfg, shape } };
}

/** What the current network is (sent with every new network): its model, layers and data. */
function describe() {
  const layers = [];
  for (let k = 0; k < engine.layerCount(); k++) layers.push(engine.layerShape(k));
  shape = { model: engine.modelKind(), layers, data: engine.dataInfo(), memoryBytes: wasm.Engine.memoryBytes() };
  return shape;
}

const isCifar = () => shape?.data.kind === 'cifar10';
/** The current network's test set is in: scores can be given. */
const testReady = () => (isCifar() ? shape.data.test > 0 : mnistTestReady);
const subsetSize = () => (isCifar() ? Math.min(SUBSET_MAX, shape.data.test) : mnistSubset);
const trainCount = () => shape?.data.train ?? 0;
const inputLength = () => (shape ? shape.data.input_shape.reduce((a, b) => a * b, 1) : 784);

/**
 * Fetch MNIST into the engine (see the top of this file). Replies to the page's 'load' call
 * once training can start; a failure before that is the reply's error, after it a
 * 'data-error' message (training stops). Either way the message is a sentence for the page.
 */
async function load(msg) {
  const base = new URL(msg.base || 'data/', self.location.href);
  const abort = new AbortController();
  const received = new Map();
  const totals = new Map();
  let arrived = 0;
  let count = 0;
  let replied = false;
  let lastReport = 0;
  let trailing = 0;
  const report = (force = false) => {
    const now = performance.now();
    if (abort.signal.aborted) return;
    if (!force && now - lastReport < PROGRESS_EVERY_MS) {
      // Too soon: report once more a little later, so the page never keeps a stale state.
      trailing ||= setTimeout(() => { trailing = 0; report(true); }, PROGRESS_EVERY_MS);
      return;
    }
    clearTimeout(trailing);
    trailing = 0;
    lastReport = now;
    self.postMessage({ type: 'data-progress', received: sum(received), total: sum(totals), arrived, count, testReady: mnistTestReady, done: mnistTestReady && count > 0 && arrived === count });
  };
  const progress = (key, { received: n, total }) => {
    if (n) received.set(key, (received.get(key) || 0) + n);
    if (total !== undefined) totals.set(key, total);
    report();
  };
  const options = { signal: abort.signal, progress };
  const ready = () => {
    if (replied) return;
    replied = true;
    post({ type: 'reply', id: msg.id, ok: true, result: { count, arrived, shape } });
  };
  // The engine's own words about a file's contents.
  const reading = (file, fn) => {
    try {
      return fn();
    } catch (e) {
      throw e instanceof DataError ? e : new DataError(`${file}: ${e.message || e}`, 'read');
    }
  };
  let test = null;
  try {
    // All three start at once; the images wait for the labels and the engine before the first is used.
    const labels = Promise.all([fetchIdx('trainLabels', base, options), fetchIdx('testLabels', base, options)]);
    labels.catch(() => {}); // awaited in onHeader; a failure is reported once, from there
    let testLabels = null;
    const startTest = () => {
      test ??= fetchIdx('testImages', base, options).then((images) => reading('t10k-images-idx3-ubyte.gz', () => addTestSet(images, testLabels)));
      test.catch(() => {}); // awaited below; a failure is reported once, from there
    };
    const stream = streamImages('trainImages', base, {
      ...options,
      onHeader: async (header) => {
        const [trainLabels, t10kLabels] = await labels;
        testLabels = t10kLabels;
        await engineReady;
        return reading('train-images-idx3-ubyte.gz', () => {
          const h = engine.beginTrainingSet(header, trainLabels);
          count = h.count;
          epochsDone = 0;
          describe();
          return { count, pixels: h.rows * h.cols };
        });
      },
      onImages: (pixels) => reading('train-images-idx3-ubyte.gz', () => {
        arrived = engine.appendTrainingImages(pixels);
        if (arrived >= Math.min(START_AFTER, count)) {
          ready();
          startTest();
        }
        report();
      }),
    });
    await Promise.all([labels, stream]); // the first failure of either, at once
    ready();
    startTest();
    await test;
    report(true);
  } catch (e) {
    abort.abort();
    const text = e instanceof DataError && e.kind === 'read'
      ? `The MNIST data could not be read: ${e.message}`
      : `Could not load the MNIST data: ${e.message || e}`;
    if (!replied) {
      replied = true;
      post({ type: 'reply', id: msg.id, ok: false, error: text });
    } else {
      running = false;
      dataFailed = true;
      self.postMessage({ type: 'data-error', error: text });
    }
  }
}

function sum(map) {
  let s = 0;
  for (const v of map.values()) s += v;
  return s;
}

/** The MNIST test set arrived: reorder it (every 5th image first, see data.js), score from now on. */
function addTestSet(images, labels) {
  const mixed = interleaveTestSet(images, labels, SUBSET_STRIDE);
  const n = engine.loadTestSet(mixed ? mixed.images : images, mixed ? mixed.labels : labels);
  testOrder = mixed ? mixed.order : null;
  mnistSubset = mixed ? Math.ceil(n / SUBSET_STRIDE) : Math.min(SUBSET_MAX, n);
  mnistTestReady = true;
  describe();
  self.postMessage({ type: 'test-ready', data: 'mnist', test: n, subset: mnistSubset, interleaved: Boolean(mixed) });
  if (isCifar()) return; // the network learns from CIFAR-10: nothing to score on MNIST
  evaluate(false);
  // An epoch that ended before the test set was in gets its full score now.
  if (epochsDone > 0) evaluate(true);
}

/**
 * CIFAR-10 from the files the user gave (see cifar.js): read into a CifarReader, then given to
 * the engine. The current network is untouched (the page builds one for CIFAR-10 next); on
 * any error nothing changes. Replies {train, test, bytes, memoryBytes, seconds}.
 */
async function loadCifar(msg) {
  const reply = (ok, body) => post({ type: 'reply', id: msg.id, ok, ...body });
  let reader = null;
  try {
    await engineReady;
    const started = performance.now();
    reader = await readCifarFiles(wasm, msg.files, (p) => self.postMessage({ type: 'cifar-progress', ...p }));
    // Reading was asynchronous; the engine call is not: nothing runs in between.
    const loaded = engine.loadCifar(reader);
    epochsDone = progress().epochs_done;
    describe();
    reply(true, { result: { ...loaded, memoryBytes: wasm.Engine.memoryBytes(), seconds: (performance.now() - started) / 1000 } });
  } catch (e) {
    reply(false, { error: e instanceof Error ? e.message : String(e) });
  } finally {
    reader?.free();
  }
}

function progress() {
  return engine.progress();
}

async function loop() {
  if (looping) return;
  looping = true;
  try {
    while (running) {
      if (!scoring) chunk();
      await nextTask();
    }
  } finally {
    looping = false;
  }
}

function chunk() {
  const start = performance.now();
  const before = progress();
  const batch = engine.getConfig().batch_size;
  // Stop exactly at the end of an epoch, so the full-test score is "after epoch k".
  const count = trainCount();
  const cursor = Math.round((before.epoch - before.epochs_done) * count);
  const toEpochEnd = Math.max(1, Math.ceil((count - cursor) / batch));
  const steps = Math.min(Math.max(1, Math.round(stepsPerChunk)), toEpochEnd);
  const diagnostics = start - lastDiagnosticsAt >= DIAGNOSTICS_EVERY_MS;
  let report;
  try {
    report = engine.train(steps, diagnostics);
  } catch (e) {
    return stopOnError(e);
  }
  const ms = performance.now() - start;
  trainMsSinceEval += ms;
  // Adapt the chunk to CHUNK_MS, smoothly (the machine may be shared).
  // (Steps actually run: a call stops early at the end of epoch 1 while the data streams in.)
  stepsPerChunk = Math.min(500, Math.max(1, 0.7 * stepsPerChunk + 0.3 * (Math.max(1, report.steps) * CHUNK_MS) / Math.max(ms, 1)));
  if (diagnostics) lastDiagnosticsAt = start;
  sendTick(report, start);
  if (report.epochs_done > epochsDone) {
    epochsDone = report.epochs_done;
    evaluate(true);
  } else if (trainMsSinceEval >= Math.min(EVAL_MAX_MS, Math.max(EVAL_MIN_MS, EVAL_BUDGET * lastEvalMs))) {
    evaluate(false);
  }
}

function sendTick(report, now) {
  const t = performance.now();
  rateWindow.push([t, report.total_samples]);
  while (rateWindow.length > 2 && t - rateWindow[0][0] > 3000) rateWindow.shift();
  const [t0, s0] = rateWindow[0];
  const rate = t > t0 ? ((report.total_samples - s0) * 1000) / (t - t0) : 0;
  const msg = {
    type: 'tick',
    running,
    report: { steps: report.steps, samples: report.samples, loss: report.loss, error_rate: report.error_rate },
    progress: { epoch: report.epoch, epochs_done: report.epochs_done, total_samples: report.total_samples, total_steps: report.total_steps },
    rate: rateWindow.length > 1 ? rate : null,
    diagnostics: report.diagnostics || null,
    kernel,
    memoryBytes: wasm.Engine.memoryBytes(),
  };
  const transfer = [];
  const every = shape?.layers.some((l) => l.kind === 'conv') ? CONV_ACTIVITY_EVERY_MS : ACTIVITY_EVERY_MS;
  if (viewsOn && (now - lastActivityAt >= every || !running)) {
    lastActivityAt = now;
    msg.activity = activity('train', transfer);
  }
  post(msg, transfer);
}

/**
 * Copies of row 0 of the current batch, the example the network view shows: each layer's
 * own quantities (BurstCCN: e, p, b, u; Burstprop: e, its teacher p and baseline p̄, u; EDN:
 * e, its apical error as u, the nudged rate eᵗ and the interneuron rates rᴵ), the input, and
 * the first layer's weights when it is a conv layer (its kernels, drawn as images).
 */
function activity(source, transfer) {
  const layers = [];
  const count = engine.layerCount();
  const sizes = shape.layers.map((l) => (l.kind === 'conv' ? l.channels * l.height * l.width : l.units));
  const model = shape.model;
  // Fresh views each time (a view dies when wasm memory grows); slice copies row 0.
  const row = (view, n) => {
    const copy = view.slice(0, n);
    transfer.push(copy.buffer);
    return copy;
  };
  for (let k = 0; k < count; k++) {
    const n = sizes[k];
    const L = { e: row(engine.eventRate(k), n) };
    if (model !== 'edn') L.p = row(engine.burstProb(k), n);
    if (model === 'burstccn') L.b = row(engine.burstRate(k), n);
    if (model === 'burstprop') L.pbar = row(engine.baselineBurstProb(k), n);
    if (model === 'edn') {
      L.et = row(engine.nudgedRate(k), n);
      if (k + 1 < count) L.ri = row(engine.interneuronRate(k), sizes[k + 1]);
    }
    const apical = engine.apical(k);
    L.u = apical.length ? row(apical, n) : null;
    layers.push(L);
  }
  const input = row(engine.input(), inputLength());
  const kernels = shape.layers[0]?.kind === 'conv' ? row(engine.weights(0), engine.weights(0).length) : null;
  const labels = engine.labels();
  return { source, label: labels.length ? labels[0] : -1, input, layers, kernels };
}

function stopOnError(e) {
  running = false;
  const message = e instanceof Error ? e.message : String(e);
  const p = progress();
  if (/diverged/i.test(message)) {
    post({ type: 'diverged', message, progress: p });
  } else {
    post({ type: 'error', error: message, during: 'train', progress: p });
  }
}

// ---------------------------------------------------------------- scores, a slice at a time
let scoring = false;
const wanted = { subset: false, full: false };
let scoredWaiters = [];
let sliceSize = 250;

/** Resolves when no score is being taken (steps and teaching wait for it). */
const scored = () => (scoring ? new Promise((resolve) => scoredWaiters.push(resolve)) : Promise.resolve());

/** Ask for a score of the subset, or of the full test set; it is taken soon, training held. */
function evaluate(full) {
  if (!testReady()) return;
  wanted[full ? 'full' : 'subset'] = true;
  if (!scoring) takeScores();
}

async function takeScores() {
  scoring = true;
  try {
    while (wanted.full || wanted.subset) {
      const full = wanted.full;
      wanted[full ? 'full' : 'subset'] = false;
      if (!testReady()) continue;
      const forGen = gen;
      const r = await scoreSlices(full ? engine.testCount() : subsetSize(), forGen);
      if (!r || forGen !== gen) continue; // the network was replaced meanwhile
      sendScore(full, r);
    }
  } finally {
    scoring = false;
    const waiters = scoredWaiters;
    scoredWaiters = [];
    for (const w of waiters) w();
  }
}

/** The first `total` test images scored in slices, yielding between them; null if `forGen` ended. */
async function scoreSlices(total, forGen) {
  const outputs = 10;
  const sums = { count: 0, wrong: 0, sse: 0, confusion: new Array(outputs * outputs).fill(0) };
  let ms = 0;
  while (sums.count < total) {
    const t = performance.now();
    const r = engine.evaluateSlice(sums.count, Math.min(sliceSize, total - sums.count));
    const took = performance.now() - t;
    ms += took;
    if (!r.count) break;
    sums.count += r.count;
    sums.wrong += r.wrong;
    sums.sse += r.sse;
    r.confusion.forEach((n, i) => { sums.confusion[i] += n; });
    sliceSize = Math.max(8, Math.min(2000, Math.round((sliceSize * SLICE_MS) / Math.max(took, 1))));
    if (sums.count < total) {
      await nextTask();
      if (forGen !== gen) return null;
    }
  }
  return { ...sums, ms };
}

function sendScore(full, r) {
  const preds = engine.classifyTest(strip.start, Math.min(strip.count, Math.max(0, engine.testCount() - strip.start)));
  if (!full) lastEvalMs = 0.5 * lastEvalMs + 0.5 * r.ms;
  trainMsSinceEval = 0;
  const p = progress();
  // The subset score is what the accuracy readout shows; a full-set score (at an epoch's end)
  // does not update it, so it must not count as "the readout is current".
  if (!full) samplesAtEval = p.total_samples;
  post({
    type: 'eval',
    scope: full ? 'full' : 'subset',
    count: r.count,
    error_rate: r.count ? r.wrong / r.count : 0,
    loss: r.count ? r.sse / (r.count * 10) : 0,
    confusion: r.confusion,
    progress: p,
    strip: { start: strip.start, preds },
    ms: r.ms,
  }, [preds.buffer]);
}

function singleStep() {
  if (running) return;
  const start = performance.now();
  let report;
  try {
    report = engine.train(1, true);
  } catch (e) {
    return stopOnError(e);
  }
  rateWindow = [];
  sendTick(report, start);
  if (report.epochs_done > epochsDone) {
    epochsDone = report.epochs_done;
    evaluate(true);
  } else {
    evaluate(false);
  }
}

/** A network replaced (reset, import): fresh counters, a first score. */
function newNetwork(newGen) {
  gen = newGen;
  describe();
  samplesAtEval = -1;
  stepsPerChunk = 1;
  rateWindow = [];
  wanted.full = false;
  wanted.subset = false;
  const n = engine.testCount();
  if (strip.start >= n) strip = { ...strip, start: 0 };
  evaluate(false);
}

function reset(config, newGen) {
  running = false;
  const cfg = engine.reset(config);
  epochsDone = 0;
  newNetwork(newGen);
  // Show the fresh network on the current example (no teacher yet).
  post({ type: 'tick', running, progress: progress(), rate: 0 });
  return { value: { config: cfg, shape } };
}

function predict(pixels) {
  const out = engine.predict(pixels);
  const transfer = [out.buffer];
  return { value: { output: out, activity: activity('draw', transfer) }, transfer };
}

function present(pixels, label) {
  const out = engine.present(pixels, label);
  const transfer = [out.buffer];
  return { value: { output: out, activity: activity('present', transfer) }, transfer };
}

/**
 * Test image `index` with its label as teacher: the burst wave it causes, without learning.
 * Before the MNIST test set is in, the first training image instead.
 */
function presentTest(index) {
  const fromTest = testReady();
  const out = fromTest ? engine.presentTest(index) : engine.present(engine.trainImage(0), engine.trainLabel(0));
  const transfer = [out.buffer];
  return { value: { output: out, activity: activity(fromTest ? 'test' : 'train', transfer) }, transfer };
}

/** One step on the drawing with the chosen label; the burst wave it caused, and the output after. */
function teach(pixels, label) {
  const transfer = [];
  const before = engine.teach(pixels, label);
  const wave = activity('teach', transfer);
  const after = engine.predict(pixels);
  transfer.push(before.buffer, after.buffer);
  return { value: { before, after, activity: wave, progress: progress() }, transfer };
}

function stripImages(start, count) {
  if (!testReady()) throw new Error('the test set is still loading');
  const n = engine.testCount();
  start = ((start % n) + n) % n;
  count = Math.min(count, n - start);
  strip = { start, count };
  const size = inputLength();
  const images = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  const original = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    images.set(engine.testImage(start + i), i * size);
    labels[i] = engine.testLabel(start + i);
    original[i] = !isCifar() && testOrder ? testOrder[start + i] : start + i;
  }
  const preds = engine.classifyTest(start, count);
  return {
    value: { start, images, labels, original, preds, data: shape.data.kind, inputShape: shape.data.input_shape },
    transfer: [images.buffer, labels.buffer, original.buffer, preds.buffer],
  };
}

function importSnapshot(bytes, newGen) {
  running = false;
  const cfg = engine.importSnapshot(new Uint8Array(bytes));
  epochsDone = progress().epochs_done;
  newNetwork(newGen);
  return { value: { config: cfg, progress: progress(), shape } };
}
