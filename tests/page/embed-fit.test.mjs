// Embeds that fit: `#embed=1&autoplay=1` in a lecture slide's frame, 900×560 and down to
// 800×500, shows the network view (every row of every layer, the apical potential too) and the
// learning curves without scrolling. Loaded inside an <iframe> of that size on a host page (as
// a reveal.js slide would) and directly at that viewport; screenshots of both sizes in
// test-output/screenshots/embed-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshotPath } from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** In the embedded document: what does not fit, and the sizes that matter. */
function measure() {
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const problems = [];
  const inside = (el, what, box = { left: 0, top: 0, right: vw, bottom: vh }) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) problems.push(`${what} has no size`);
    else if (r.left < box.left - 0.5 || r.top < box.top - 0.5 || r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5) {
      problems.push(`${what} [${Math.round(r.left)}, ${Math.round(r.top)}, ${Math.round(r.right)}, ${Math.round(r.bottom)}] is outside [${Math.round(box.left)}, ${Math.round(box.top)}, ${Math.round(box.right)}, ${Math.round(box.bottom)}]`);
    }
    return r;
  };
  const $ = (s) => document.querySelector(s);
  const doc = document.scrollingElement;
  if (doc.scrollHeight > vh + 0.5 || doc.scrollWidth > vw + 0.5) problems.push(`the page scrolls: ${doc.scrollWidth}×${doc.scrollHeight} in ${vw}×${vh}`);
  for (const [sel, what] of [['#play', 'Train/Pause'], ['.readouts', 'the readouts'], ['#r-acc', 'test accuracy'], ['#r-full', 'full test set'],
    ['#open-full', 'Open the full demo'], ['#panel-network', 'the network panel'], ['#legend', 'the colour legend'],
    ['#panel-curves', 'the learning-curves panel'], ['#curves .u-legend', 'the curves legend']]) {
    const el = $(sel);
    if (!el) problems.push(`${what} (${sel}) missing`); else inside(el, what);
  }
  // Panel heads: titles not cut short, controls inside their panel (panels clip what overflows).
  for (const panel of document.querySelectorAll('.panels > .panel:not([hidden])')) {
    const box = panel.getBoundingClientRect();
    for (const h2 of panel.querySelectorAll('.panel-head h2')) {
      if (h2.scrollWidth > h2.clientWidth + 1) problems.push(`the title “${h2.textContent}” is cut short`);
    }
    for (const el of panel.querySelectorAll('.panel-head button, .panel-head label, .al-legend button, .al-layer')) {
      if (el.offsetParent) inside(el, `“${el.textContent.trim()}” in ${panel.id}`, box);
    }
  }
  // Every map of every layer, inside the network view (which clips what does not fit).
  const view = $('#network').getBoundingClientRect();
  const maps = [...document.querySelectorAll('#network canvas[data-quantity]')];
  for (const c of maps) inside(c, `map ${c.dataset.quantity} of hidden layer ${Number(c.dataset.layer) + 1}`, view);
  inside($('#network .net-input canvas'), 'the input digit', view);
  const bars = [...document.querySelectorAll('#network .net-output .ob-row')];
  for (const [d, row] of bars.entries()) inside(row, `output unit ${d}`, view);
  // The curves: the plot (uPlot's canvas) and its legend inside the chart box, which clips.
  const chart = $('#curves').getBoundingClientRect();
  const plot = inside($('#curves canvas'), 'the curves plot', chart);
  inside($('#curves .u-legend'), 'the curves legend', chart);
  const alignment = $('#panel-alignment');
  let alignPlot = null;
  if (!alignment.hidden) {
    inside(alignment, 'the alignment panel');
    alignPlot = inside($('#alignment canvas'), 'the alignment plot', $('#alignment').getBoundingClientRect());
  }
  return {
    vw, vh, problems,
    fit: document.body.classList.contains('embed-fit'),
    rows: new Set(maps.map((c) => c.dataset.quantity)).size,
    layers: new Set(maps.map((c) => c.dataset.layer)).size,
    mapWidth: Math.min(...maps.map((c) => c.getBoundingClientRect().width)),
    outputs: bars.length,
    plotHeight: plot.height,
    alignPlotHeight: alignPlot?.height ?? null,
  };
}

const trained = (frame) => frame.waitForFunction(() => Number(document.getElementById('r-samples').textContent.replace(/,/g, '')) >= 3000
  && document.getElementById('network').dataset.source === 'train' && Number(document.getElementById('curves').dataset.points) >= 2);

for (const [w, h] of [[900, 560], [800, 500]]) {
  test(`#embed=1&autoplay=1 at ${w}×${h}, in an iframe and directly: network and curves fit without scrolling`, { timeout: 300_000 }, async () => {
    const results = [];
    // A lecture page with the demo in a frame of that size (another origin: localhost vs 127.0.0.1).
    const host = await newPage(browser, { width: w + 80, height: h + 120 });
    const src = `${server.url.replace('127.0.0.1', 'localhost')}#embed=1&autoplay=1`;
    await host.setContent(`<!doctype html><title>Lecture 7</title><body style="margin:0;background:#222;font:16px sans-serif;color:#eee">
      <section style="padding:20px 40px"><h2 style="margin:0 0 12px;font-size:22px">Learning with bursts</h2>
      <iframe src="${src}" width="${w}" height="${h}" style="border:0;background:#fff" title="BurstCCN"></iframe></section>`);
    const frame = host.frames().find((f) => f !== host.mainFrame()) ?? (await host.waitForEvent('frameattached'));
    await frame.waitForSelector('body[data-phase="ready"]', { state: 'attached' });
    await trained(frame);
    results.push(['iframe', await frame.evaluate(measure)]);
    await host.locator('section').screenshot({ path: screenshotPath(`embed-${w}x${h}-iframe.png`) });

    // The same link opened at that viewport.
    const page = await newPage(browser, { width: w, height: h });
    await page.goto(`${server.url}#embed=1&autoplay=1`);
    await page.waitForSelector('body[data-phase="ready"]', { state: 'attached' });
    await trained(page);
    results.push(['direct', await page.evaluate(measure)]);
    await page.screenshot({ path: screenshotPath(`embed-${w}x${h}.png`) });

    for (const [how, m] of results) {
      assert.equal(m.vw, w, `${how}: the frame is ${w} wide`);
      assert.equal(m.vh, h, `${how}: the frame is ${h} high`);
      assert.equal(m.fit, true, `${how}: the compact embed fits its frame`);
      assert.deepEqual(m.problems, [], `${how} at ${w}×${h}:\n${m.problems.join('\n')}`);
      assert.equal(m.rows, 4, `${how}: e, p − p_b, b and u rows`);
      assert.equal(m.layers, 3, `${how}: three hidden layers`);
      assert.equal(m.outputs, 10);
      // Readable: maps well above one CSS pixel per unit (25 units across), plots with room.
      assert.ok(m.mapWidth >= 50, `${how}: maps ${m.mapWidth}px wide`);
      assert.ok(m.plotHeight >= 120, `${how}: the curves are ${m.plotHeight}px high`);
      assert.ok(m.alignPlotHeight >= 90, `${how}: the alignment plot is ${m.alignPlotHeight}px high`);
    }
    for (const p of [host, page]) assert.deepEqual(p.errors, [], p.errors.join('\n'));
    await host.context().close();
    await page.context().close();
  });
}

test('#embed=1&autoplay=1 at 800×500 while the data still arrive (2 Mbit/s): the same fit, the curves at full height', { timeout: 300_000 }, async () => {
  // Training starts once the first few thousand images are in; the download's status must not
  // take room from the panels meanwhile (its sentence wrapped onto two lines and the curves fell
  // to 107 px, on whichever run the test set was late).
  const page = await newPage(browser, { width: 800, height: 500 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 40, downloadThroughput: 2e6 / 8, uploadThroughput: 2e6 / 8 });
  await page.goto(`${server.url}#embed=1&autoplay=1`);
  await page.waitForFunction(() => Number(document.getElementById('r-samples').textContent.replace(/,/g, '')) > 0
    && document.getElementById('network').dataset.source === 'train', null, { timeout: 240_000 });
  const m = await page.evaluate(measure);
  const status = await page.evaluate(() => (document.querySelector('#loading').hidden ? null : document.querySelector('#loading').title));
  await page.screenshot({ path: screenshotPath('embed-800x500-loading.png') });
  assert.match(status ?? '', /of 60,000 training images in, test set loading/, 'still downloading when measured');
  assert.equal(m.fit, true);
  assert.deepEqual(m.problems, [], m.problems.join('\n'));
  assert.ok(m.plotHeight >= 120, `the curves are ${m.plotHeight}px high while the data arrive`);
  assert.ok(m.alignPlotHeight >= 90, `the alignment plot is ${m.alignPlotHeight}px high while the data arrive`);
  assert.deepEqual(page.errors, [], page.errors.join('\n'));
  await page.context().close();
});

test('an embed that shows more panels scrolls like the full page (and says nothing is cut)', { timeout: 300_000 }, async () => {
  const page = await newPage(browser, { width: 900, height: 560 });
  await page.goto(`${server.url}#embed=1&draw_hide=0`);
  await page.waitForSelector('body[data-phase="ready"]', { state: 'attached' });
  assert.equal(await page.evaluate(() => document.body.classList.contains('embed-fit')), false);
  assert.ok(await page.evaluate(() => document.scrollingElement.scrollHeight > innerHeight), 'the page is taller than the frame, and scrolls');
  await page.locator('#panel-draw').scrollIntoViewIfNeeded();
  assert.equal(await page.isVisible('#pad'), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
