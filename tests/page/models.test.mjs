// Burstprop and EDN on the page, end to end (real server, real wasm, real MNIST, headless
// Chromium): `#model=burstprop` and `#model=edn` build their engine models, draw their own
// quantities (Burstprop: baseline and teacher burst probabilities, p − p̄; EDN: interneuron
// rates r^I, apical error a, nudge), those heatmaps are not blank and change as the network
// trains, and one epoch of MNIST (60,000 samples) scores well above chance on the full test set.
// Switching from the MLP to Burstprop asks first. No console error anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUT, startServer, launchBrowser, newPage, openReady, screenshotPath, assertNoErrors, viewFrames } from './helpers.mjs';

/**
 * Full-test-set accuracy after epoch 1 (chance: 10 %), thresholds with margin below what the page
 * showed on the 2-core development machine. Burstprop at its page defaults (the authors': η 0.1,
 * p_b 0.2) learns slowly, as the README says (28.6 % seen); at η 1 (README: 13.0 % error after
 * an epoch) it must learn properly. EDN at its page defaults (η 0.3, tied interneurons): 70.5 %.
 */
const CASES = [
  { name: 'burstprop', hash: '#model=burstprop', min: 0.2, lr: 0.1 },
  { name: 'burstprop-lr1', hash: '#model=burstprop&lr=1', min: 0.75, lr: 1 },
  { name: 'edn', hash: '#model=edn', min: 0.55, lr: 0.3 },
];
const VIEWS = {
  burstprop: ['e', 'pbar', 'p', 'dpp'],
  edn: ['e', 'ri', 'a', 'dn'],
};
const HANG_GUARD_MS = 900_000;

let server;
let browser;
const results = { started: new Date().toISOString() };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'models-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await browser?.close();
  server?.stop();
});

const engineConfig = async (page) => JSON.parse(await page.getAttribute('#foot', 'data-engine-config'));
const samplesShown = (page) => page.evaluate(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')));
const waitSamples = (page, n) => page.waitForFunction((m) => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= m, n, { timeout: 600_000 });

/**
 * Every canvas of the network view for hidden layers: its pixels, how many colours it holds and
 * how many of its pixels are painted (not the light grey of a cell with no unit).
 */
const views = (page) => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#network canvas[data-layer][data-quantity]')].map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  let painted = 0;
  for (let i = 0; i < d.length; i += 4) {
    colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (!(d[i] === 238 && d[i + 1] === 241 && d[i + 2] === 245)) painted += 1;
  }
  return [`${c.dataset.layer}/${c.dataset.quantity}`, { width: c.width, height: c.height, pixels: Array.from(d), colours: colours.size, painted }];
})));

/**
 * The views of the model's own quantities: present in every hidden layer, one painted pixel per
 * unit, and many colours. Two exceptions, both the models' own: EDN's last interneuron layer has
 * one interneuron per output unit (10 cells); Burstprop's burst probabilities in the last hidden
 * layer sit close to ½ on their fixed 0–1 scale (its apical input comes from 10 output units at
 * p_b·e, and R drives ū to 0), so there only a few colours; its p − p̄ has its own scale.
 */
function assertDrawn(model, { first: v, most }, when) {
  for (let k = 0; k < 3; k++) {
    for (const q of VIEWS[model]) {
      const c = v[`${k}/${q}`];
      assert.ok(c, `${model}: hidden ${k + 1} has a ${q} view (${when}); views: ${Object.keys(v).join(' ')}`);
      const units = model === 'edn' && q === 'ri' && k === 2 ? 10 : 500;
      assert.equal(c.painted, units, `${model}: hidden ${k + 1} ${q}: one painted pixel per unit (${when})`);
      const flat = (model === 'edn' && q === 'ri' && k === 2) || (model === 'burstprop' && (q === 'pbar' || q === 'p') && k === 2);
      const least = flat ? 2 : 20;
      const colours = most[`${k}/${q}`];
      assert.ok(colours >= least, `${model}: hidden ${k + 1} ${q} is not blank (${when}): at most ${colours} colours in successive frames`);
    }
  }
}

for (const c of CASES) {
  const model = c.name.startsWith('burstprop') ? 'burstprop' : 'edn';
  test(`${c.hash}: its own heatmaps drawn and changing; ≥ ${Math.round(c.min * 100)} % on the full MNIST test set after one epoch`, { timeout: HANG_GUARD_MS }, async () => {
    const page = await newPage(browser);
    await openReady(page, server.url, c.hash);
    const cfg = await engineConfig(page);
    assert.equal(cfg.model, model);
    assert.deepEqual(cfg.layers, [784, 500, 500, 500, 10]);
    assert.ok(Math.abs(cfg.lr - c.lr) < 1e-6, `η ${cfg.lr}, expected ${c.lr}`);
    if (model === 'burstprop') assert.ok(Math.abs(cfg.p_baseline - 0.2) < 1e-6, 'Burstprop p_b 0.2');
    if (model === 'edn') assert.equal(cfg.interneuron_mode, 'tied');
    assert.equal(await page.inputValue('#c-model'), model);
    // The rows are named in the model's words; the rule and Q controls mean nothing to it.
    const labels = await page.textContent('#network');
    if (model === 'burstprop') assert.match(labels, /baseline burst prob.*teacher burst prob.*teaching signal/s);
    else assert.match(labels, /interneuron rate.*apical error.*nudge/s);
    assert.equal(await page.isDisabled('#c-rule'), true, 'the learning rule is BurstCCN\'s: disabled');
    if (model === 'burstprop') assert.match(await page.textContent('#panel-network .flow'), /burst rates b̄, b back \(Y\)/);
    else assert.match(await page.textContent('#panel-network .flow'), /rate r forward.*interneurons’ rI/s);

    await page.click('#play');
    await waitSamples(page, 2000);
    await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'train');
    const earlyFrames = await viewFrames(page, views);
    assertDrawn(model, earlyFrames, 'early');
    const early = earlyFrames.first;
    const earlySamples = await samplesShown(page);
    await waitSamples(page, earlySamples + 5000);
    const laterFrames = await viewFrames(page, views);
    assertDrawn(model, laterFrames, 'later');
    const later = laterFrames.first;
    for (const q of VIEWS[model]) {
      for (let k = 0; k < 3; k++) {
        assert.notDeepEqual(early[`${k}/${q}`].pixels, later[`${k}/${q}`].pixels, `${model}: hidden ${k + 1} ${q} changes while training`);
      }
    }
    // The page's own epoch counter ends the budget: the full test set is scored after epoch 1.
    await page.waitForFunction(() => /after epoch 1\b/.test(document.querySelector('#r-full-scope').textContent), null, { timeout: 600_000 });
    await page.click('#play');
    await page.waitForFunction(() => !document.body.classList.contains('is-running'));
    const acc = Number(await page.getAttribute('#r-full', 'data-value'));
    results[c.name] = { full_test_accuracy_after_epoch_1: acc, samples_when_read: await samplesShown(page) };
    assert.ok(acc >= c.min, `${c.hash}: ${acc} on the full test set after epoch 1 (threshold ${c.min}, chance 0.1)`);
    // Paused: the views are still the model's, and not blank (successive frames: single steps).
    assertDrawn(model, await viewFrames(page, views, { step: true }), 'paused');
    if (c.name === model) {
      await page.screenshot({ path: screenshotPath(`${model}-1280x720.png`) });
      await page.locator('#panel-network').screenshot({ path: screenshotPath(`${model}-network.png`) });
    }
    assertNoErrors(page);
    await page.context().close();
  });
}

test('switching from the MLP to Burstprop asks first, then shows the Burstprop views', { timeout: HANG_GUARD_MS }, async () => {
  const page = await newPage(browser);
  await openReady(page, server.url);
  assert.equal((await engineConfig(page)).model ?? 'burstccn', 'burstccn');
  await page.click('#step');
  await page.waitForFunction(() => document.querySelector('#r-samples').textContent === '32');
  await page.selectOption('#c-model', 'burstprop');
  const dialog = page.getByRole('dialog', { name: 'Build a new network?' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /model.*32 samples/s);
  // Cancel keeps the MLP and its views.
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.querySelector('#c-model').value === 'mlp');
  assert.equal(await page.textContent('#r-samples'), '32', 'cancel keeps the network');
  assert.equal(await page.locator('#network canvas[data-quantity="pbar"]').count(), 0);
  assert.ok(await page.locator('#network canvas[data-quantity="dp"]').count() > 0, 'still BurstCCN\'s views');
  // Confirm: Burstprop, its settings in the link, its views.
  await page.selectOption('#c-model', 'burstprop');
  await dialog.waitFor();
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /model=burstprop/.test(location.hash));
  const cfg = await engineConfig(page);
  assert.equal(cfg.model, 'burstprop');
  assert.ok(Math.abs(cfg.lr - 0.1) < 1e-6, 'Burstprop starts from its own η');
  assert.equal(await page.inputValue('#c-lr'), '0.1');
  await page.waitForFunction(() => document.querySelector('#network canvas[data-quantity="pbar"]'));
  assert.equal(await page.locator('#network canvas[data-quantity="dp"]').count(), 0, 'BurstCCN\'s p − p_b view is gone');
  assert.match(await page.textContent('#legend'), /burst prob\. p̄, p/);
  await page.click('#step');
  await page.waitForFunction(() => document.querySelector('#r-samples').textContent === '32'
    && document.querySelector('#network').dataset.source === 'train');
  assertDrawn('burstprop', await viewFrames(page, views, { frames: 1 }), 'after one step');
  // And on to EDN the same way: its views replace Burstprop's.
  await page.selectOption('#c-model', 'edn');
  await dialog.waitFor();
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /model=edn/.test(location.hash) && document.querySelector('#network canvas[data-quantity="ri"]'));
  assert.equal(await page.locator('#network canvas[data-quantity="pbar"]').count(), 0);
  assert.equal((await engineConfig(page)).model, 'edn');
  assertNoErrors(page);
  await page.context().close();
});
