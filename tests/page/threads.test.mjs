// The threaded engine (pkg-threads/, www/threads.js) in headless Chromium:
// - it trains exactly like the single-threaded relaxed-simd build (the MLP and the MNIST conv
//   net, a few steps on real MNIST, every parameter within 1e-5), with the products really
//   split across the pool (its workers ran parts);
// - the page picks it where the page is cross-origin isolated (`make demo`'s server), with as
//   many threads as the browser reports cores, and the single-worker build where it is not,
//   and in an iframe on a lecture page without COOP/COEP; no console errors anywhere.
// Every wait is for a state of the page; the timeouts only guard against a hang.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHandler, headersFile, ISOLATION_HEADERS } from '../../www/serve.mjs';
import { ROOT, launchBrowser, newPage, screenshotPath } from './helpers.mjs';

const HANG_GUARD_MS = 600_000;
const STEPS = 5;
let browser;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** `node www/serve.mjs` as `make demo` runs it (with `--isolated`) or as the tests run it. */
async function startServer({ isolated }) {
  const args = [path.join(ROOT, 'www/serve.mjs'), '--port', '0', ...(isolated ? ['--isolated'] : [])];
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      const m = /http:\/\/\S+?\//.exec(String(d));
      if (m) resolve(m[0].replace('localhost', '127.0.0.1'));
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  return { url, stop: () => proc.kill() };
}

const samples = (frame) => frame.evaluate(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')));
const buildShown = (frame) => frame.evaluate(() => {
  const el = document.querySelector('#build-info');
  return { build: el.dataset.build, threads: Number(el.dataset.threads), text: el.textContent, isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency };
});

/** Also collect console errors and uncaught exceptions of the page's workers into `page.errors`. */
function watchWorkers(page) {
  const urls = [];
  page.on('worker', (w) => {
    urls.push(w.url());
    w.on('console', (m) => { if (m.type() === 'error') page.errors.push(`worker ${w.url()}: ${m.text()}`); });
  });
  return urls;
}

/** Open the page, wait for the engine, train until the samples counter has moved on. */
async function openAndTrain(page, frame, url) {
  if (url) await page.goto(url);
  await frame.waitForSelector('body[data-phase="ready"]', { timeout: 120_000 });
  await frame.waitForFunction(() => document.querySelector('#build-info').dataset.build);
  await frame.click('#play');
  await frame.waitForFunction(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= 2000, null, { timeout: 300_000 });
  await frame.click('#play'); // pause
}

test('make dist: the static-host headers isolate every path (COOP, COEP, CORP)', () => {
  assert.deepEqual(ISOLATION_HEADERS, {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  const file = headersFile();
  const all = file.slice(file.indexOf('/*\n'), file.indexOf('\n/data/*'));
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) assert.ok(all.includes(`\n  ${k}: ${v}`), `${k} for /*: ${file}`);
});

test(`the threaded build trains like the single-threaded one (${STEPS} steps, MLP and conv net, within 1e-5)`, { timeout: HANG_GUARD_MS }, async () => {
  const server = http.createServer(createHandler({ isolated: true, extra: [['/threads-test/', path.join(ROOT, 'tests/page/threads')]] }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const page = await newPage(browser);
  try {
    await page.goto(`http://127.0.0.1:${server.address().port}/threads-test/index.html`);
    await page.waitForFunction(() => window.testReady);
    const r = await page.evaluate(([threads, steps]) => window.compareBuilds({ threads, steps }), [2, STEPS]);
    console.log(JSON.stringify(r.models.map(({ singleLosses, threadedLosses, ...m }) => ({ ...m, lossesEqual: singleLosses.every((l, i) => l === threadedLosses[i]) }))));
    assert.equal(r.crossOriginIsolated, true);
    assert.equal(r.threadsCount, 2, 'the pool joined');
    assert.equal(r.models.length, 2);
    for (const m of r.models) {
      assert.equal(m.singleKernel, 'relaxed-simd', m.name);
      assert.equal(m.threadedKernel, 'relaxed-simd-threads', m.name);
      // Not vacuous: the pool worker ran blocks of this model's products.
      assert.ok(m.workerBlocks > 0, `${m.name}: the pool ran ${m.workerBlocks} blocks`);
      assert.ok(m.parameters > 100_000, `${m.name}: ${m.parameters} numbers compared`);
      assert.ok(m.maxDiff <= 1e-5, `${m.name}: max |Δ| = ${m.maxDiff}`);
      // Each part of a split product sums in the single-threaded order: bit for bit, in fact.
      assert.equal(m.identical, true, `${m.name}: the snapshots differ (max |Δ| = ${m.maxDiff})`);
      assert.equal(m.threadedLosses.length, STEPS);
      m.singleLosses.forEach((l, i) => assert.ok(Math.abs(l - m.threadedLosses[i]) <= 1e-5, `${m.name} step ${i}: loss ${m.threadedLosses[i]} vs ${l}`));
    }
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
    server.close();
  }
});

test('cross-origin isolated (make demo): the page trains on the threaded build with every core; no console errors', { timeout: HANG_GUARD_MS }, async () => {
  const server = await startServer({ isolated: true });
  const page = await newPage(browser);
  const workers = watchWorkers(page);
  try {
    const res = await page.goto(server.url);
    assert.equal(res.headers()['cross-origin-opener-policy'], 'same-origin');
    assert.equal(res.headers()['cross-origin-embedder-policy'], 'require-corp');
    await openAndTrain(page, page.mainFrame());
    const shown = await buildShown(page);
    assert.equal(shown.isolated, true);
    assert.equal(shown.build, 'pkg-threads', shown.text);
    assert.equal(shown.threads, Math.min(8, shown.cores), shown.text);
    assert.match(shown.text, new RegExp(`relaxed-simd-threads kernels\\) on ${shown.threads} threads`));
    assert.ok(await samples(page) >= 2000);
    assert.equal(workers.filter((u) => u.endsWith('/threads-worker.js')).length, shown.threads - 1, 'one pool worker per further thread');
    await page.screenshot({ path: screenshotPath('threads-isolated.png') });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
    server.stop();
  }
});

test('not isolated: the page trains on the single-worker build, as before; no console errors', { timeout: HANG_GUARD_MS }, async () => {
  const server = await startServer({ isolated: false });
  const page = await newPage(browser);
  const requested = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  watchWorkers(page);
  try {
    const res = await page.goto(server.url);
    assert.equal(res.headers()['cross-origin-embedder-policy'], undefined);
    await openAndTrain(page, page.mainFrame());
    const shown = await buildShown(page);
    assert.equal(shown.isolated, false);
    assert.equal(shown.build, 'pkg-relaxed', shown.text);
    assert.equal(shown.threads, 1);
    assert.match(shown.text, /relaxed-simd kernels\) in a Web Worker, on 1 thread/);
    assert.deepEqual(requested.filter((p) => /pkg-threads|threads-worker/.test(p)), [], 'nothing of the threaded build is fetched');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
    server.stop();
  }
});

test('an isolated demo embedded in a lecture page without COOP/COEP still trains (single worker)', { timeout: HANG_GUARD_MS }, async () => {
  const server = await startServer({ isolated: true });
  const lecture = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><title>lecture</title><link rel="icon" href="data:,"><iframe src="${server.url}#embed=1" width="900" height="560"></iframe>`);
  });
  await new Promise((r) => lecture.listen(0, '127.0.0.1', r));
  const page = await newPage(browser, { width: 1000, height: 700 });
  try {
    await page.goto(`http://localhost:${lecture.address().port}/`); // localhost ≠ 127.0.0.1: another origin
    const frame = page.frames().find((f) => f.url().startsWith(server.url)) ?? await page.waitForEvent('frameattached');
    await openAndTrain(page, frame);
    const shown = await buildShown(frame);
    assert.equal(shown.isolated, false, 'an iframe in a page that is not isolated is not isolated');
    assert.equal(shown.build, 'pkg-relaxed', shown.text);
    assert.equal(shown.threads, 1);
    assert.ok(await samples(frame) >= 2000);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
    lecture.close();
    server.stop();
  }
});
