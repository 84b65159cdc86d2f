// `make bench-startup`: how soon the page trains on a slow network. Headless Chromium with CDP
// network throttling (default 10 Mbit/s down and up, 40 ms latency, as a busy lecture-hall
// wifi), a fresh browser cache each run: the time from navigation to the first training step
// (the worker's first report of trained samples), to the first test-set score, and until the
// page's accuracy readout shows ≥ 90 %; then a second visit in the same cache (what it
// downloads again). Prints one JSON summary (medians, minimum and maximum over the runs).
//
//   node bench/startup.mjs [--runs 5] [--serve www/serve.mjs] [--mbit 10] [--latency 40] [--out FILE]
//
// `--serve` picks the server script (and so the copy of the page it serves): a checkout of an
// older commit measures the page as it was. Timing comes from the page's own clock
// (performance.now(), zero at navigation), read from the worker's messages as they arrive.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('runs', process.env.RUNS || 5));
const serveScript = path.resolve(arg('serve', path.join(root, 'www/serve.mjs')));
const mbit = Number(arg('mbit', 10));
const latency = Number(arg('latency', 40));
const outFile = arg('out', path.join(root, 'test-output/startup.json'));
const TIMEOUT_MS = 300_000; // a hang guard only (a busy machine trains slowly)
const TARGET = 0.9;

function startServer() {
  const proc = spawn(process.execPath, [serveScript, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      const m = /http:\/\/\S+?\//.exec(String(d));
      if (m) resolve({ url: m[0].replace('localhost', '127.0.0.1'), stop: () => proc.kill() });
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

// Runs in the page before its own scripts: listen to the training worker's messages and note,
// on the page's clock, the first trained samples, the first test score and the first ≥ 90 %.
function watchWorker(target) {
  const marks = { first_step: null, first_eval: null, reached: null, samples_at_reached: null, evals: [] };
  window.__startup = marks;
  const Base = window.Worker;
  window.Worker = class extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ({ data: m }) => {
        const now = performance.now();
        if (m?.type === 'tick' && m.progress?.total_samples > 0 && marks.first_step == null) marks.first_step = now;
        if (m?.type === 'eval' && m.scope === 'subset') {
          if (marks.first_eval == null) marks.first_eval = now;
          marks.evals.push([Math.round(now), m.progress.total_samples, +(1 - m.error_rate).toFixed(4)]);
          if (marks.reached == null && 1 - m.error_rate >= target) {
            marks.reached = now;
            marks.samples_at_reached = m.progress.total_samples;
          }
        }
      });
    }
  };
}

/** Bytes over the wire for the page and its worker (resource timing: body + headers; 0 = cache). */
async function transferred(page) {
  const sum = (entries) => entries.reduce((a, e) => ({ bytes: a.bytes + e.transferSize, requests: a.requests + 1, cached: a.cached + (e.transferSize === 0 ? 1 : 0) }), { bytes: 0, requests: 0, cached: 0 });
  const list = () => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
    .map((e) => ({ name: e.name, transferSize: e.transferSize, encodedBodySize: e.encodedBodySize }));
  const all = [...await page.evaluate(list)];
  for (const w of page.workers()) all.push(...await w.evaluate(list).catch(() => []));
  return { ...sum(all), files: all.map((e) => [e.name.replace(/^https?:\/\/[^/]+/, ''), e.transferSize]) };
}

async function throttle(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency, downloadThroughput: (mbit * 1e6) / 8, uploadThroughput: (mbit * 1e6) / 8,
  });
  return cdp;
}

/** Open the page (training on load); wait for ≥ 90 % shown, or (`untilTarget` false) for the first step and all the data. */
async function visit(page, url, untilTarget = true) {
  await page.goto(`${url}#autoplay=1`);
  const done = untilTarget
    ? () => window.__startup.reached != null || document.body.dataset.phase === 'failed'
    : () => (window.__startup.first_step != null && window.__startup.first_eval != null && document.querySelector('#loading').hidden) || document.body.dataset.phase === 'failed';
  await page.waitForFunction(done, null, { timeout: TIMEOUT_MS, polling: 100 });
  const marks = await page.evaluate(() => window.__startup);
  if (await page.evaluate(() => document.body.dataset.phase === 'failed')) throw new Error(`the page failed: ${await page.textContent('#notices')}`);
  return marks;
}

const median = (a) => { const s = a.filter((x) => x != null).sort((x, y) => x - y); const h = s.length >> 1; return s.length ? (s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2) : null; };
const stats = (a) => ({ median: +(median(a) / 1000).toFixed(2), min: +(Math.min(...a) / 1000).toFixed(2), max: +(Math.max(...a) / 1000).toFixed(2) });

const server = await startServer();
const first = [];
const second = [];
try {
  for (let r = 0; r < runs; r++) {
    // A fresh browser profile each run (an empty disk cache, as on a first visit), kept for
    // the second visit (an incognito-like context's memory cache is too small for MNIST).
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'burstccn-startup-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    });
    await context.addInitScript(watchWorker, TARGET);
    const page = await context.newPage();
    await throttle(page);
    const marks = await visit(page, server.url);
    const bytes = await transferred(page);
    first.push({ ...marks, bytes });
    process.stderr.write(`[startup] run ${r + 1}/${runs}: first step ${(marks.first_step / 1000).toFixed(2)} s, first test score ${(marks.first_eval / 1000).toFixed(2)} s, ≥ 90 % at ${(marks.reached / 1000).toFixed(2)} s (${marks.samples_at_reached} samples), ${(bytes.bytes / 1e6).toFixed(2)} MB\n`);
    // A second visit with the same cache, as a student reopening the link (the first tab closed).
    await page.close();
    const again = await context.newPage();
    await throttle(again);
    const m2 = await visit(again, server.url, false);
    const b2 = await transferred(again);
    second.push({ ...m2, bytes: b2 });
    process.stderr.write(`[startup]   second visit: first step ${(m2.first_step / 1000).toFixed(2)} s, ${b2.bytes} bytes in ${b2.requests} requests (${b2.cached} from cache)\n`);
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
} finally {
  server.stop();
}

let commit = null;
try { commit = execFileSync('git', ['-C', path.dirname(serveScript), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* not a checkout */ }
const summary = {
  network: { down_mbit_s: mbit, up_mbit_s: mbit, latency_ms: latency, via: 'CDP Network.emulateNetworkConditions' },
  served_by: path.relative(root, serveScript) || serveScript,
  commit,
  machine: { cores: os.cpus().length, load_avg_1min: +os.loadavg()[0].toFixed(2), chromium: execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim() },
  runs,
  seconds_to_first_step: stats(first.map((r) => r.first_step)),
  seconds_to_first_test_score: stats(first.map((r) => r.first_eval)),
  seconds_to_90_percent: stats(first.map((r) => r.reached)),
  samples_at_90_percent: median(first.map((r) => r.samples_at_reached)),
  first_visit_mb: +(median(first.map((r) => r.bytes.bytes)) / 1e6).toFixed(2),
  second_visit: {
    seconds_to_first_step: stats(second.map((r) => r.first_step)),
    bytes: median(second.map((r) => r.bytes.bytes)),
    requests: median(second.map((r) => r.bytes.requests)),
    from_cache: median(second.map((r) => r.bytes.cached)),
    largest: second[0]?.bytes.files.sort((a, b) => b[1] - a[1]).slice(0, 5),
  },
  each_run: first.map((r, i) => ({
    first_step_s: +(r.first_step / 1000).toFixed(2), first_test_score_s: +(r.first_eval / 1000).toFixed(2),
    reached_90_s: +(r.reached / 1000).toFixed(2), samples_at_90: r.samples_at_reached,
    second_visit_first_step_s: +(second[i].first_step / 1000).toFixed(2), second_visit_bytes: second[i].bytes.bytes,
  })),
};
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
