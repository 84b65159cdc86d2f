// The page's conv nets, end to end (real server, real wasm, real MNIST, headless Chromium):
// the MNIST conv net from `#model=conv` learns to 90 % within a sample budget, its feature maps
// and first-layer kernels are drawn and change, the draw pad, Teach, save/load and divergence
// work for it; switching models asks first; CIFAR-10 from a generated CIFAR-format file (the
// button, the six .bin files, a drop on the page) trains with class names and colour images;
// wrong files are refused with the network kept. No console error anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  OUT, startServer, launchBrowser, newPage, openReady, screenshotPath, mnistTest, digitStrokes, drawStrokes, assertNoErrors, num, viewFrames,
} from './helpers.mjs';
import { cifarTarGz, batchFiles, CLASSES } from './cifar-data.mjs';

/**
 * The issue asks for 90 % within 120 s of training. Tests never measure time, so that is a
 * budget in samples: the page trained the conv net at 1,000–1,700 samples/s with its views on
 * (measured on the 2-core development machine, busy and quiet), so 120 s is at least 120,000
 * samples, two epochs. The full 10,000-image test set at the end of epoch 2 must show ≥ 90 %.
 */
const TARGET_ACCURACY = 0.9;
const SAMPLE_BUDGET = 120_000;
const HANG_GUARD_MS = 300_000;

let server;
let browser;
let trained;
const results = { started: new Date().toISOString() };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'conv-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await browser?.close();
  server?.stop();
});

const samplesShown = (page) => page.evaluate(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')));
const engineConfig = async (page) => JSON.parse(await page.getAttribute('#foot', 'data-engine-config'));
const waitSamples = (page, n) => page.waitForFunction((m) => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= m, n, { timeout: 240_000 });
/** Paused and the readout scored for the weights as they are. */
const settled = (page) => page.waitForFunction(() => !document.body.classList.contains('is-running')
  && document.querySelector('#r-acc').dataset.samples === document.querySelector('#r-samples').textContent.replace(/,/g, ''));

/** One canvas of the network view: its pixels and how many distinct colours it holds. */
const canvas = (page, layer, quantity) => page.evaluate(([k, q]) => {
  const c = document.querySelector(`#network canvas[data-layer="${k}"][data-quantity="${q}"]`);
  if (!c) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return { width: c.width, height: c.height, pixels: Array.from(d), colours: colours.size };
}, [layer, quantity]);

const QUANTITIES = ['e', 'dp', 'b', 'u'];
const CONV_VIEWS = [[0, 'e'], [0, 'dp'], [0, 'b'], [0, 'u'], [1, 'e'], [1, 'dp'], [1, 'b'], [1, 'u'], [0, 'kernels']];
const views = async (page) => Object.fromEntries(await Promise.all(CONV_VIEWS.map(async ([k, q]) => [`${k}${q}`, await canvas(page, k, q)])));

test('#model=conv: the MNIST conv net, its feature maps and kernels drawn', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url, '#model=conv');
  const cfg = await engineConfig(page);
  assert.deepEqual(cfg.input_shape, [1, 28, 28]);
  assert.deepEqual(cfg.conv, [{ channels: 32, kernel: 5, stride: 2 }, { channels: 64, kernel: 3, stride: 2 }]);
  assert.deepEqual(cfg.layers, [1600, 500, 10]);
  assert.ok(Math.abs(cfg.lr - 0.5) < 1e-6 && cfg.batch_size === 16, 'the engine preset mnist-conv-page: η 0.5, batch 16');
  // The page's defaults for the conv net are the engine's own preset.
  const preset = await page.evaluate(async () => {
    const m = await import('./pkg/burstccn.js');
    await m.default();
    return m.presetConfig('mnist-conv-page');
  });
  for (const k of ['input_shape', 'conv', 'layers', 'rule', 'lr', 'p_baseline', 'y_mode', 'y_scale', 'q_mode', 'lr_q', 'batch_size']) {
    assert.deepEqual(cfg[k], preset[k], `${k}: the page's conv net is presetConfig('mnist-conv-page')`);
  }
  assert.match(await page.textContent('#net-info'), /network 1×28×28-c32k5s2-c64k3s2-f500-10/);
  assert.equal(await page.inputValue('#c-model'), 'conv');
  // Small multiples: conv 1's 32 maps of 12 × 12 (8 to a row), conv 2's 64 of 5 × 5, the kernels.
  const c1 = await canvas(page, 0, 'e');
  assert.deepEqual([c1.width, c1.height], [8 * 13 - 1, 4 * 13 - 1]);
  const c2 = await canvas(page, 1, 'e');
  assert.deepEqual([c2.width, c2.height], [8 * 6 - 1, 8 * 6 - 1]);
  const k = await canvas(page, 0, 'kernels');
  assert.deepEqual([k.width, k.height], [8 * 6 - 1, 4 * 6 - 1]);
  assert.match(await page.textContent('#network'), /Conv 1.*32 maps 12 × 12.*Conv 2.*64 maps 5 × 5.*Hidden 1.*500 units/s);
  assert.equal(await page.locator('#network .net-pager').count(), 0, 'every map fits: no paging');
  assertNoErrors(page);
  trained = page;
});

test(`the conv net: ≥ ${TARGET_ACCURACY * 100} % on the full MNIST test set within ${SAMPLE_BUDGET.toLocaleString('en-US')} samples; the maps change`, { timeout: 900_000 }, async () => {
  const page = trained;
  assert.ok(page, 'the page from the first test');
  await page.click('#play');
  const start = Date.now();
  await waitSamples(page, 3000);
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'train');
  const { first: early, most: earlyColours } = await viewFrames(page, views);
  // Measurements (never asserted): accuracy shown after 60 s and 120 s, and when the subset
  // readout first showed the target. The loop ends on the page's own epoch counter.
  const at = {};
  const rates = [];
  let first = null;
  const fullAfter = {};
  for (;;) {
    const seconds = (Date.now() - start) / 1000;
    const acc = await num(page, '#r-acc');
    const scoredAt = await num(page, '#r-acc', 'samples');
    const rate = await num(page, '#r-rate');
    if (rate) rates.push(rate);
    for (const mark of [60, 120]) if (!at[mark] && seconds >= mark) at[mark] = { accuracy: acc, scored_at_samples: scoredAt, seconds };
    if (first === null && acc >= TARGET_ACCURACY) first = { samples: scoredAt, seconds };
    const epoch = Number(/after epoch (\d+)/.exec(await page.textContent('#r-full-scope'))?.[1] ?? 0);
    if (epoch && !fullAfter[epoch]) fullAfter[epoch] = { accuracy: await num(page, '#r-full'), seconds };
    if (epoch >= 2) break;
    await page.waitForFunction(([s, e]) => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) !== s
      || !document.querySelector('#r-full-scope').textContent.includes(`epoch ${e}`), [await samplesShown(page), epoch], { timeout: 120_000 });
  }
  const late = await views(page);
  await page.click('#play');
  await settled(page);
  rates.sort((a, b) => a - b);
  results.mnist_conv = {
    budget_samples: SAMPLE_BUDGET, full_test_set_after_epoch: fullAfter, subset_first_reached_target: first, accuracy_after: at,
    samples_per_second_shown: { median: rates[rates.length >> 1] ?? null, min: rates[0] ?? null, max: rates.at(-1) ?? null },
  };
  console.log(`# conv net: full test set after epoch 1 ${(fullAfter[1].accuracy * 100).toFixed(2)} %, epoch 2 ${(fullAfter[2].accuracy * 100).toFixed(2)} %; ` +
    `subset ≥ 90 % first at ${first?.samples} samples (${first?.seconds.toFixed(0)} s); samples/s median ${rates[rates.length >> 1]}`);
  assert.ok(fullAfter[2].accuracy >= TARGET_ACCURACY, `after ${SAMPLE_BUDGET} samples the full test set scores ${(fullAfter[2].accuracy * 100).toFixed(2)} %`);
  assert.ok(first && first.samples <= SAMPLE_BUDGET, 'the readout showed the target within the budget');
  // Every feature-map view and the kernels: drawn (many colours, not a flat fill) and changed.
  for (const [key, v] of Object.entries(early)) {
    assert.ok(earlyColours[key] > 20, `${key} looks blank (at most ${earlyColours[key]} colours in successive frames)`);
    assert.notDeepEqual(v.pixels, late[key].pixels, `${key} did not change while training`);
  }
  await page.screenshot({ path: screenshotPath('conv-1280x720.png') });
  await page.screenshot({ path: screenshotPath('conv-full-page-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.waitForFunction(() => document.querySelector('#network .net-grid'));
  await page.screenshot({ path: screenshotPath('conv-1024x768.png') });
  // A projector shows the settings above the network: what it looks like scrolled to the view.
  await page.locator('#panel-network').scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath('conv-1024x768-network.png') });
  await page.setViewportSize({ width: 1280, height: 720 });
  assertNoErrors(page);
});

test('the conv net: drawn digits recognised, Teach moves the output; save, reload, load: the same predictions', { timeout: HANG_GUARD_MS }, async () => {
  const page = trained;
  // Save, open the page afresh (the MLP, no link), load: the conv net and its exact scores.
  // (First: teaching below changes the weights without a new score.)
  await settled(page);
  const predsOf = (p) => p.$$eval('#strip .strip-digit', (els) => els.map((e) => e.dataset.pred).join(''));
  const acc = await num(page, '#r-acc');
  const preds = await predsOf(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  assert.match(download.suggestedFilename(), /^burstccn-1x28x28-c32k5s2-c64k3s2-f500-10-\d+-samples\.snap$/);
  const file = path.join(OUT, 'trained-conv-model.snap');
  await download.saveAs(file);
  const fresh = await newPage(browser);
  await openReady(fresh, server.url);
  assert.deepEqual((await engineConfig(fresh)).layers, [784, 500, 500, 500, 10]);
  await fresh.setInputFiles('#load-file', file);
  await fresh.locator('.notice.info[data-key="loaded"]').waitFor();
  assert.match(await fresh.textContent('.notice.info[data-key="loaded"]'), /1×28×28-c32k5s2-c64k3s2-f500-10/);
  await fresh.waitForFunction((a) => Number(document.querySelector('#r-acc').dataset.value) === a, acc);
  await fresh.waitForFunction((p) => [...document.querySelectorAll('#strip .strip-digit')].map((e) => e.dataset.pred).join('') === p, preds);
  assert.equal(await fresh.inputValue('#c-model'), 'conv');
  assert.match(await fresh.evaluate(() => location.hash), /model=conv/);
  assert.ok(await canvas(fresh, 0, 'kernels'), 'the loaded conv net is drawn with its kernels');
  const mnist = mnistTest();
  const strip = await page.$$eval('#strip .strip-digit', (els) => els.map((e) => ({
    index: Number(/#(\d+)/.exec(e.title)[1]), label: Number(e.dataset.label), pred: Number(e.dataset.pred),
  })));
  const picks = [];
  for (const d of strip) if (d.pred === d.label && !picks.some((p) => mnist.label(p) === d.label)) picks.push(d.index);
  assert.ok(picks.length >= 6, `correctly classified digits in the strip: ${JSON.stringify(strip)}`);
  let right = 0;
  let last = null;
  for (const i of picks) {
    if (await page.isEnabled('#clear')) await page.click('#clear');
    await page.waitForFunction(() => !document.querySelector('#pad').classList.contains('has-ink'));
    await drawStrokes(page, digitStrokes(mnist.image(i)));
    await page.waitForFunction(() => document.querySelector('#pad-bars').dataset.version === document.querySelector('#pad').dataset.version);
    last = Number(await page.getAttribute('#pad-bars', 'data-prediction'));
    if (last === mnist.label(i)) right += 1;
  }
  results.conv_draw_pad = { recognised: right, of: picks.length };
  assert.ok(right >= picks.length - 2, `only ${right} of ${picks.length} redrawn digits recognised by the conv net`);
  // The network view shows the drawing going through the conv layers.
  assert.equal(await page.getAttribute('#network', 'data-showing'), 'draw');
  // Teach the class the network ranks second: a unit far from saturation (one at e ≈ 0 barely
  // moves in one step, as the update is proportional to its event rate).
  const outputs = await page.$$eval('#pad-bars .ob-row', (rows) => rows.map((r) => Number(r.dataset.e)));
  const label = outputs.map((e, d) => [e, d]).filter(([, d]) => d !== last).sort((a, b) => b[0] - a[0])[0][1];
  await page.click(`label[for="label-${label}"]`);
  await page.waitForFunction((l) => document.querySelector('#pad-bars').dataset.kind === 'present'
    && document.querySelector('#pad-bars').dataset.target === String(l), label);
  await page.click('#teach');
  await page.waitForFunction(() => document.querySelector('#teach-result').dataset.after !== undefined);
  const before = await num(page, '#teach-result', 'before');
  const afterTeach = await num(page, '#teach-result', 'after');
  assert.ok(afterTeach > before, `teaching ${label} should raise its output (${before} → ${afterTeach})`);
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'teach');
  await page.locator('#panel-network').screenshot({ path: screenshotPath('conv-teaching-wave.png') });

  assertNoErrors(page);
  assertNoErrors(fresh);
  await fresh.context().close();
  await page.context().close();
});

test('switching the model asks first; the link, share and hide flags cover the new controls', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url);
  await page.click('#step');
  await page.waitForFunction(() => document.querySelector('#r-samples').textContent === '32');
  await page.selectOption('#c-model', 'conv');
  const dialog = page.getByRole('dialog', { name: 'Build a new network?' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /model.*32 samples/s);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.querySelector('#c-model').value === 'mlp');
  assert.equal(await page.textContent('#r-samples'), '32', 'cancel keeps the network');
  assert.deepEqual((await engineConfig(page)).layers, [784, 500, 500, 500, 10]);
  await page.selectOption('#c-model', 'conv');
  await dialog.waitFor();
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /model=conv/.test(location.hash) && /lr=0\.5/.test(location.hash) && /batch_size=16/.test(location.hash));
  assert.deepEqual((await engineConfig(page)).layers, [1600, 500, 10]);
  assert.equal(await page.inputValue('#c-lr'), '0.5', 'the conv net starts from its own settings');
  await page.waitForFunction(() => document.querySelector('#network canvas[data-quantity="kernels"]'));
  // Share: the link and the snippet carry the model.
  await page.click('#share');
  assert.match(await page.inputValue('#share-link'), /model=conv/);
  assert.match(await page.inputValue('#embed-code'), /model=conv/);
  await page.keyboard.press('Escape');
  // Hide flags for the new controls; embed hides the kernels and CIFAR-10 unless shown again.
  const hidden = await newPage(browser);
  await openReady(hidden, server.url, '#model=conv&model_hide=1&data_hide=1&cifar_hide=1&kernels_hide=1');
  for (const sel of ['#c-model', '#c-data', '#use-cifar']) assert.equal(await hidden.isVisible(sel), false, `${sel} hidden`);
  assert.equal(await hidden.locator('#network canvas[data-quantity="kernels"]').count(), 0, 'kernels_hide=1');
  assert.ok(await canvas(hidden, 0, 'e'), 'the feature maps stay');
  await hidden.context().close();
  const embed = await newPage(browser);
  await openReady(embed, server.url, '#model=conv&embed=1&kernels_hide=0');
  assert.ok(await canvas(embed, 0, 'kernels'), 'kernels_hide=0 shows the kernels in an embed');
  assert.equal(await embed.isVisible('#use-cifar'), false, 'an embed hides CIFAR-10');
  await embed.screenshot({ path: screenshotPath('conv-embed-900.png') });
  await embed.context().close();
  // A link that trains on CIFAR-10 cannot bring it: a notice, and MNIST meanwhile.
  const cifarLink = await newPage(browser);
  await openReady(cifarLink, server.url, '#model=conv&data=cifar10');
  assert.match(await cifarLink.textContent('.notice[data-key="link-cifar"]'), /CIFAR-10.*Use CIFAR-10/s);
  assert.deepEqual((await engineConfig(cifarLink)).input_shape, [1, 28, 28]);
  assertNoErrors(cifarLink);
  await cifarLink.context().close();
  assertNoErrors(page);
  await page.context().close();
});

test('many feature maps are paged (the paper\'s conv net); a diverging conv net pauses and keeps its weights', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url, '#model=conv-paper&hidden=64');
  assert.deepEqual((await engineConfig(page)).conv.map((c) => c.channels), [64, 128, 256]);
  // Conv 1: 64 maps of 12 × 12, 32 to a page.
  const pager = page.locator('#network .net-head .net-pager').first();
  assert.equal((await pager.textContent()).replace(/\s+/g, ' ').trim(), '◀1–32 of 64▶');
  await page.click('#step');
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'train');
  const first = await canvas(page, 0, 'e');
  assert.ok(first.colours > 20, 'page 1 of conv 1 drawn');
  await pager.locator('.next').click();
  assert.match(await pager.textContent(), /33–64 of 64/);
  const second = await canvas(page, 0, 'e');
  assert.ok(second.colours > 20, 'page 2 of conv 1 drawn');
  assert.notDeepEqual(first.pixels, second.pixels, 'another page shows other maps');
  await page.locator('#panel-network').screenshot({ path: screenshotPath('conv-paper-paged.png') });
  await page.context().close();

  const div = await newPage(browser);
  // (Three dense layers after the conv layers and fast Q learning: the apical potentials blow up.)
  await openReady(div, server.url, '#model=conv&hidden=500,500,500&lr=10&y_scale=10&q_learning=1&lr_q=1');
  await div.click('#play');
  const notice = div.locator('.notice.error[data-key="diverged"]');
  await notice.waitFor({ timeout: 240_000 });
  assert.match(await notice.textContent(), /diverged.*weights from before that step are kept/s);
  assert.equal(await div.textContent('#play .label'), 'Train');
  await div.waitForFunction(() => document.querySelector('#r-acc').dataset.value !== undefined);
  assert.ok(Number.isFinite(await num(div, '#r-acc')), 'the kept conv net still scores');
  assertNoErrors(div);
  await div.context().close();
});

test('CIFAR-10 from a generated cifar-10-binary.tar.gz: trains, class names, colour; wrong files refused, the network kept', { timeout: 600_000 }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url);
  const before = await page.getAttribute('#foot', 'data-engine-config');
  const wrong = [
    [{ name: 'holiday.png', mimeType: 'image/png', buffer: Buffer.from('\x89PNG\r\n\x1a\n not CIFAR at all, just some bytes', 'binary') }, /Could not use holiday\.png: .*this is not CIFAR-10: it is a PNG image.*current network is kept/s],
    [{ name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: cifarTarGz(40).subarray(0, 20_000) }, /Could not use cifar-10-binary\.tar\.gz: .*(gzip|truncated|incomplete).*current network is kept/s],
    [{ name: 'data_batch_1.bin', mimeType: 'application/octet-stream', buffer: batchFiles(10)[0][1] }, /CIFAR-10 is incomplete: data_batch_2\.bin.*test_batch\.bin are missing.*current network is kept/s],
  ];
  for (const [file, message] of wrong) {
    await page.setInputFiles('#cifar-file', file);
    const notice = page.locator('.notice.error[data-key="cifar-error"]');
    await notice.waitFor();
    assert.match(await notice.textContent(), message);
    assert.equal(await page.getAttribute('#foot', 'data-engine-config'), before, 'the current network is kept');
    assert.equal(await page.getAttribute('body', 'data-data'), 'mnist');
    await page.click('.notice[data-key="cifar-error"] button');
    await notice.waitFor({ state: 'detached' });
  }
  await page.screenshot({ path: screenshotPath('cifar-wrong-file.png') });

  // The archive, as the button takes it.
  const archive = cifarTarGz(200);
  await page.setInputFiles('#cifar-file', { name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: archive });
  await page.waitForFunction(() => document.body.dataset.data === 'cifar10');
  const status = await page.textContent('#cifar-status');
  assert.match(status, /CIFAR-10: 1,000 training and 200 test images, 3\.7 MB held.*wasm memory \d+ MiB/);
  results.cifar_generated = { status, memory_bytes: await num(page, '#cifar-status', 'memory'), held_bytes: await num(page, '#cifar-status', 'bytes') };
  const cfg = await engineConfig(page);
  assert.deepEqual(cfg.input_shape, [3, 32, 32]);
  assert.deepEqual(cfg.layers, [2304, 500, 10]);
  assert.match(await page.evaluate(() => location.hash), /model=conv&data=cifar10/);
  assert.equal(await page.inputValue('#c-data'), 'cifar10');
  // Class names on the output layer and the confusion matrix; colour test images and input.
  assert.deepEqual(await page.$$eval('#network .net-output .ob-digit', (els) => els.map((e) => e.textContent)), CLASSES);
  assert.deepEqual(await page.$$eval('#confusion tbody th', (els) => els.map((e) => e.textContent)), CLASSES);
  assert.equal(await page.isVisible('#panel-draw'), false, 'the pad draws digits: not for CIFAR-10');
  const colourful = (sel) => page.$eval(sel, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let spread = 0;
    for (let i = 0; i < d.length; i += 4) spread = Math.max(spread, Math.abs(d[i] - d[i + 1]), Math.abs(d[i + 1] - d[i + 2]));
    return spread;
  });
  await page.waitForSelector('#strip .strip-digit canvas');
  assert.ok(await colourful('#strip .strip-digit canvas') > 60, 'the test images are in colour');
  assert.match(await page.getAttribute('#strip .strip-digit', 'title'), /CIFAR-10 test image #0, labelled \w+/);
  await page.click('#play');
  await page.waitForFunction(() => /after epoch [6-9]|after epoch \d\d/.test(document.querySelector('#r-full-scope').textContent), null, { timeout: 400_000 });
  await page.click('#play');
  await settled(page);
  assert.ok(await colourful('#network canvas.digit') > 60, 'the input is drawn in colour');
  const acc = await num(page, '#r-full');
  results.cifar_generated.full_test_after_6_epochs = acc;
  assert.ok(acc >= 0.3, `the generated classes are learnable: ${acc} after 6 epochs (chance 0.1)`);
  assert.equal(await num(page, '#confusion', 'total'), 200);
  assert.match(await page.textContent('#confusion-scope'), /200 test images/);
  // (Paused: successive frames come from single steps.)
  const { most } = await viewFrames(page, async (p) => Object.fromEntries(await Promise.all([[0, 'e'], [1, 'u'], [0, 'kernels']].map(async ([k, q]) => [`${k}${q}`, await canvas(p, k, q)]))), { step: true });
  for (const [key, colours] of Object.entries(most)) assert.ok(colours > 20, `CIFAR-10 ${key} drawn (at most ${colours} colours in successive frames)`);
  await page.screenshot({ path: screenshotPath('cifar-1280x720.png') });
  await page.screenshot({ path: screenshotPath('cifar-full-page-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.screenshot({ path: screenshotPath('cifar-1024x768.png') });
  await page.locator('#panel-network').scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath('cifar-1024x768-network.png') });
  await page.setViewportSize({ width: 1280, height: 720 });

  // Back to MNIST (asks first; both data sets stay loaded), then the six .bin files, dropped.
  await page.selectOption('#c-data', 'mnist');
  await page.getByRole('dialog', { name: 'Build a new network?' }).waitFor();
  await page.click('#confirm-ok');
  await page.waitForFunction(() => document.body.dataset.data === 'mnist');
  assert.deepEqual((await engineConfig(page)).input_shape, [1, 28, 28]);
  const bins = batchFiles(50, 30).map(([name, body]) => ({ name, b64: body.toString('base64') }));
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    document.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bins);
  await page.waitForFunction(() => /250 training and 30 test images/.test(document.querySelector('#cifar-status').textContent));
  await page.waitForFunction(() => document.body.dataset.data === 'cifar10');
  assert.equal(await page.evaluate(() => document.body.classList.contains('dragging')), false);
  assertNoErrors(page);
  await page.context().close();
});
