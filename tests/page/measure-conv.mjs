// Measurements of the page's conv nets (not a test: nothing here is asserted; run by hand,
// `node tests/page/measure-conv.mjs [--rounds 5] [--phase-seconds 10] [--cifar-records 10000]` (per batch file);
// JSON on stdout and in test-output/conv-measure.json):
//  1. samples/s of the MNIST conv net with the network view on and off, in one run, the two
//     interleaved (ON, OFF, ON, …; the first seconds after each switch left out): what drawing
//     the feature maps and kernels costs the training;
//  2. wasm memory with MNIST loaded, and after a full-size CIFAR-10-format archive (generated:
//     50,000 + 10,000 records, the official layout) is read, with the time reading took;
//  3. samples/s on CIFAR-10 of the browser-sized conv net and of the paper's, views on.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OUT, startServer, launchBrowser, newPage, openReady } from './helpers.mjs';
import { cifarTarGz } from './cifar-data.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'phase-seconds': { type: 'string', default: '10' },
    'cifar-records': { type: 'string', default: '10000' },
    'cifar-seconds': { type: 'string', default: '40' },
    'skip-cifar': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(opts.rounds);
const PHASE_MS = Number(opts['phase-seconds']) * 1000;
const SETTLE_MS = 2000;

const server = await startServer();
const browser = await launchBrowser();
const page = await newPage(browser);
const out = { started: new Date().toISOString(), load_average: fs.readFileSync('/proc/loadavg', 'utf8').trim() };
const samples = () => page.evaluate(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')));
const memory = () => page.evaluate(() => Number(document.querySelector('#memory').dataset.bytes));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** Samples/s over `ms`, after SETTLE_MS. */
async function rateOver(ms) {
  await sleep(SETTLE_MS);
  const [s0, t0] = [await samples(), Date.now()];
  await sleep(ms - SETTLE_MS);
  return ((await samples()) - s0) / ((Date.now() - t0) / 1000);
}

try {
  // 1. Views on / off, interleaved, on the MNIST conv net.
  await openReady(page, server.url, '#model=conv');
  out.build = await page.textContent('#build-info');
  await page.click('#play');
  await sleep(5000); // past the first eval and the start-up
  const phases = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const on of [true, false]) {
      await page.evaluate((hide) => {
        const h = location.hash.replace(/&?network_hide=[01]/, '');
        location.hash = hide ? `${h}&network_hide=1` : h;
      }, !on);
      await page.waitForFunction((v) => document.querySelector('#panel-network').hidden === !v, on);
      phases.push({ views: on, samples_per_second: await rateOver(PHASE_MS) });
    }
  }
  const on = phases.filter((p) => p.views).map((p) => p.samples_per_second);
  const off = phases.filter((p) => !p.views).map((p) => p.samples_per_second);
  out.mnist_conv_views = {
    phases, median_on: median(on), median_off: median(off),
    cost_percent: 100 * (1 - median(on) / median(off)),
    // Each ON phase against the mean of the OFF phases either side of it (load drifts).
    paired_cost_percent: on.map((v, i) => 100 * (1 - v / ((off[Math.max(0, i - 1)] + off[i]) / 2))),
  };
  await page.click('#play');
  out.wasm_memory_mnist_bytes = await memory();

  if (opts['skip-cifar']) throw Object.assign(new Error('skipped'), { skipped: true });
  // 2. A full-size CIFAR-10-format archive.
  const records = Number(opts['cifar-records']);
  const file = path.join(OUT, `cifar-generated-${records}.tar.gz`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, cifarTarGz(records, records));
  const t0 = Date.now();
  await page.setInputFiles('#cifar-file', file);
  const dialog = page.getByRole('dialog', { name: 'Build a new network?' });
  await Promise.race([dialog.waitFor().then(() => page.click('#confirm-ok')), page.waitForFunction(() => document.body.dataset.data === 'cifar10', null, { timeout: 600_000 })]);
  await page.waitForFunction(() => document.body.dataset.data === 'cifar10', null, { timeout: 600_000 });
  out.cifar = {
    archive_bytes: fs.statSync(file).size, records_per_batch: records, seconds_to_read_and_build: (Date.now() - t0) / 1000,
    status: await page.textContent('#cifar-status'),
    held_bytes: Number(await page.getAttribute('#cifar-status', 'data-bytes')),
    wasm_memory_after_load_bytes: Number(await page.getAttribute('#cifar-status', 'data-memory')),
  };
  // 3. Each conv net on it, views on.
  const cifarSeconds = Number(opts['cifar-seconds']) * 1000;
  for (const model of ['conv', 'conv-paper']) {
    if (model !== 'conv') {
      await page.selectOption('#c-model', model);
      await dialog.waitFor();
      await page.click('#confirm-ok');
      await page.waitForFunction((m) => document.body.dataset.model === 'burstccn' && location.hash.includes(`model=${m}&`), model);
    }
    await page.click('#play');
    out.cifar[`${model}_samples_per_second`] = await rateOver(cifarSeconds);
    await page.click('#play');
    out.cifar[`${model}_wasm_memory_bytes`] = await memory();
    out.cifar[`${model}_net`] = await page.textContent('#net-info');
  }
} catch (e) {
  if (!e.skipped) throw e;
} finally {
  out.errors = page.errors;
  out.load_average_end = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'conv-measure.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
  await browser.close();
  server.stop();
}
