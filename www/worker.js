// The training worker: owns the wasm Engine, trains in short chunks so the page never blocks,
// and posts small copies of what the page draws (activity of one example, reports, scores).
//
// Page → worker: {type, id?, ...}; requests with an `id` get {type: 'reply', id, ok, result | error}.
// Worker → page, unasked: 'engine', 'tick', 'eval', 'diverged', 'error', and about the data
// (not tied to one network, so without `gen`): 'data-progress', 'test-ready', 'data-error'.
//
// MNIST arrives while the network trains: 'load' fetches both labels files first (small), then
// streams the training images into the engine and replies once START_AFTER of them are in, so
// the page can start training; the test images follow (scores wait for them).
import { loadEngineModule } from './engine.js';
import { interleaveTestSet, fetchIdx, streamImages, DataError } from './data.js';

/** Milliseconds of training per chunk: long enough to amortise posting, short enough to stay responsive. */
const CHUNK_MS = 40;
/** Activity snapshots for the network view: 8 a second look live and cost little. */
const ACTIVITY_EVERY_MS = 125;
/** Diagnostics (angles to backprop / FA, Y–Q) cost extra backward passes: about one a second. */
const DIAGNOSTICS_EVERY_MS = 900;
/** The test subset is every 5th image (2,000 of 10,000; see data.js). */
const SUBSET_STRIDE = 5;
/**
 * Periodic test evaluation (2,000 forward passes ≈ 600 training samples) every EVAL_BUDGET
 * times its own cost, i.e. under ~6 % of the time, but at least every EVAL_MAX_MS so the
 * readout stays current.
 */
const EVAL_BUDGET = 15;
const EVAL_MIN_MS = 1500;
const EVAL_MAX_MS = 5000;
/** Training may start once this many training images have arrived (~0.5 MB of the 9.7 MB file). */
const START_AFTER = 3000;
/** Download progress reports to the page: at most this often. */
const PROGRESS_EVERY_MS = 150;

let wasm = null;
let engine = null;
let kernel = '';
let trainCount = 0;
let testOrder = null;
let subsetSize = 0;
/** The test set is in the engine: scores can be given. */
let testReady = false;
/** A data file failed after training could start: training stays stopped. */
let dataFailed = false;
/** Resolves once the engine exists ('init' may be retried with other settings). */
let engineExists;
const engineReady = new Promise((resolve) => { engineExists = resolve; });

let running = false;
let looping = false;
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
};

// A zero-delay yield that lets queued messages (pause, predict, …) run between chunks;
// setTimeout(0) would be clamped to 4 ms once nested.
const channel = new MessageChannel();
let wake = null;
channel.port1.onmessage = () => wake?.();
const nextTask = () => new Promise((resolve) => { wake = resolve; channel.port2.postMessage(null); });

// Messages are handled one at a time, in order (init is async: nothing may overtake it).
let queue = Promise.resolve();
self.onmessage = (ev) => {
  // The download starts at once, beside the engine's start-up (it waits for the engine itself).
  if (ev.data.type === 'load') return load(ev.data);
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
      if (engine && testReady && samplesAtEval !== progress().total_samples) evaluate(false);
      post({ type: 'tick', running, progress: progress(), rate: 0 });
      return;
    case 'step': return singleStep();
    case 'set': return { value: engine.setConfig(msg.patch) };
    case 'reset': return reset(msg.config, msg.gen);
    case 'predict': return predict(msg.pixels);
    case 'present': return present(msg.pixels, msg.label);
    case 'present-test': return presentTest(msg.index);
    case 'teach': return teach(msg.pixels, msg.label);
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
  wasm = await loadEngineModule();
  engine = new wasm.Engine(config);
  kernel = engine.kernelName();
  const info = wasm.buildInfo();
  const cfg = engine.getConfig();
  post({ type: 'engine', kernel, version: info.version, config: cfg });
  engineExists();
  return { value: { config: cfg } };
}

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
    self.postMessage({ type: 'data-progress', received: sum(received), total: sum(totals), arrived, count, testReady, done: testReady && count > 0 && arrived === count });
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
    post({ type: 'reply', id: msg.id, ok: true, result: { count, arrived } });
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
          trainCount = count;
          epochsDone = 0;
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

/** The test set arrived: reorder it (every 5th image first, see data.js), score from now on. */
function addTestSet(images, labels) {
  const mixed = interleaveTestSet(images, labels, SUBSET_STRIDE);
  const n = engine.loadTestSet(mixed ? mixed.images : images, mixed ? mixed.labels : labels);
  testOrder = mixed ? mixed.order : null;
  subsetSize = mixed ? Math.ceil(n / SUBSET_STRIDE) : Math.min(2000, n);
  testReady = true;
  self.postMessage({ type: 'test-ready', test: n, subset: subsetSize, interleaved: Boolean(mixed) });
  evaluate(false);
  // An epoch that ended before the test set was in gets its full score now.
  if (epochsDone > 0) evaluate(true);
}

function progress() {
  return engine.progress();
}

async function loop() {
  if (looping) return;
  looping = true;
  try {
    while (running) {
      chunk();
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
  const cursor = Math.round((before.epoch - before.epochs_done) * trainCount);
  const toEpochEnd = Math.max(1, Math.ceil((trainCount - cursor) / batch));
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
  };
  const transfer = [];
  if (now - lastActivityAt >= ACTIVITY_EVERY_MS || !running) {
    lastActivityAt = now;
    msg.activity = activity('train', transfer);
  }
  post(msg, transfer);
}

/** Copies of row 0 of the current batch: the example the network view shows. */
function activity(source, transfer) {
  const layers = [];
  const count = engine.layerCount();
  for (let k = 0; k < count; k++) {
    const n = engine.layerSize(k);
    // Fresh views each time (a view dies when wasm memory grows); slice copies row 0.
    const e = engine.eventRate(k).slice(0, n);
    const p = engine.burstProb(k).slice(0, n);
    const b = engine.burstRate(k).slice(0, n);
    const apical = engine.apical(k);
    const u = apical.length ? apical.slice(0, n) : null;
    layers.push({ e, p, b, u });
    transfer.push(e.buffer, p.buffer, b.buffer);
    if (u) transfer.push(u.buffer);
  }
  const input = engine.input().slice(0, 784);
  transfer.push(input.buffer);
  const labels = engine.labels();
  return { source, label: labels.length ? labels[0] : -1, input, layers };
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

function evaluate(full) {
  if (!testReady) return;
  const start = performance.now();
  const r = engine.evaluate(full ? 0 : subsetSize);
  const preds = engine.classifyTest(strip.start, strip.count);
  const ms = performance.now() - start;
  if (!full) lastEvalMs = 0.5 * lastEvalMs + 0.5 * ms;
  trainMsSinceEval = 0;
  const p = progress();
  // The subset score is what the accuracy readout shows; a full-set score (at an epoch's end)
  // does not update it, so it must not count as "the readout is current".
  if (!full) samplesAtEval = p.total_samples;
  post({
    type: 'eval',
    scope: full ? 'full' : 'subset',
    count: r.count,
    error_rate: r.error_rate,
    loss: r.loss,
    confusion: r.confusion,
    progress: p,
    strip: { start: strip.start, preds },
    ms,
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

function reset(config, newGen) {
  running = false;
  const cfg = engine.reset(config);
  gen = newGen;
  samplesAtEval = -1;
  epochsDone = 0;
  stepsPerChunk = 1;
  rateWindow = [];
  evaluate(false);
  const transfer = [];
  // Show the fresh network on the current example (no teacher yet).
  post({ type: 'tick', running, progress: progress(), rate: 0 });
  return { value: { config: cfg }, transfer };
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
 * Before the test set is in, the first training image instead.
 */
function presentTest(index) {
  const fromTest = testReady;
  const pixels = fromTest ? engine.testImage(index) : engine.trainImage(0);
  const out = engine.present(pixels, fromTest ? engine.testLabel(index) : engine.trainLabel(0));
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
  if (!testReady) throw new Error('the test set is still loading');
  const n = engine.testCount();
  start = ((start % n) + n) % n;
  count = Math.min(count, n - start);
  strip = { start, count };
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  const original = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    images.set(engine.testImage(start + i), i * 784);
    labels[i] = engine.testLabel(start + i);
    original[i] = testOrder ? testOrder[start + i] : start + i;
  }
  const preds = engine.classifyTest(start, count);
  return { value: { start, images, labels, original, preds }, transfer: [images.buffer, labels.buffer, original.buffer, preds.buffer] };
}

function importSnapshot(bytes, newGen) {
  running = false;
  const cfg = engine.importSnapshot(new Uint8Array(bytes));
  gen = newGen;
  epochsDone = progress().epochs_done;
  rateWindow = [];
  evaluate(false);
  return { value: { config: cfg, progress: progress() } };
}
