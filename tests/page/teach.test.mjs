// Teach and the network view, whatever order the worker's replies arrive in: the teaching wave
// stays on screen until the drawing or the label changes, and a wave that is no longer about the
// drawing and label on screen is never shown. A wrapper around the page's Worker (installed
// before the page's own scripts run) holds chosen replies back and releases them in the order
// the test asks for, while the network trains; every decision of the page is logged in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, newPage, openReady, mnistTest, digitStrokes, drawStrokes, screenshotPath,
} from './helpers.mjs';

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

/**
 * In the page, before app.js: `__chaos.hold = true` queues the replies to 'predict', 'present'
 * and 'teach' requests; `__chaos.release(type)` delivers the oldest queued reply of that type.
 * `__chaos.log` records, in order, each reply delivered and each change of what the page shows.
 */
function chaos() {
  const HELD_TYPES = new Set(['predict', 'present', 'teach']);
  const c = { hold: false, queue: [], log: [], types: new Map(), handler: null };
  c.mark = (what) => c.log.push({ mark: what });
  c.deliver = (ev) => {
    const m = ev.data;
    if (m && m.type === 'reply') c.log.push({ reply: c.types.get(m.id), id: m.id });
    c.handler.call(null, ev);
  };
  c.release = (type) => {
    const i = c.queue.findIndex((q) => q.type === type);
    if (i < 0) throw new Error(`no held reply to '${type}'`);
    const [q] = c.queue.splice(i, 1);
    c.deliver(q.ev);
  };
  c.queued = () => c.queue.map((q) => q.type);
  /** Stop holding: deliver whatever is still queued, oldest first. */
  c.flush = () => {
    c.hold = false;
    while (c.queue.length) c.deliver(c.queue.shift().ev);
  };
  window.__chaos = c;
  const Native = window.Worker;
  window.Worker = class extends Native {
    postMessage(msg, transfer) {
      if (msg && msg.id !== undefined) c.types.set(msg.id, msg.type);
      return super.postMessage(msg, transfer);
    }
    set onmessage(fn) {
      c.handler = fn;
      super.onmessage = (ev) => {
        const m = ev.data;
        const type = m && m.type === 'reply' ? c.types.get(m.id) : null;
        if (c.hold && HELD_TYPES.has(type)) c.queue.push({ type, ev });
        else c.deliver(ev);
      };
    }
    get onmessage() { return c.handler; }
  };
  // What the page decides to show (synchronous attributes), in order with the replies.
  addEventListener('DOMContentLoaded', () => {
    const watch = (el, attrs) => new MutationObserver((records) => {
      for (const r of records) c.log.push({ el: el.id, attr: r.attributeName, value: el.getAttribute(r.attributeName) });
    }).observe(el, { attributes: true, attributeFilter: attrs });
    watch(document.getElementById('network'), ['data-showing', 'data-source']);
    watch(document.getElementById('pad-bars'), ['data-kind', 'data-target']);
    watch(document.getElementById('teach-result'), ['data-after']);
  });
}

/** The pad's prediction describes the drawing on the pad now, as a reply of `kind`, for `label`. */
const settled = (page, kind, label) => page.waitForFunction(([k, l]) => {
  const bars = document.getElementById('pad-bars').dataset;
  return bars.version === document.getElementById('pad').dataset.version && bars.kind === k && bars.target === String(l);
}, [kind, label]);

const showing = (page) => page.getAttribute('#network', 'data-showing');
const samples = (page) => page.evaluate(() => Number(document.getElementById('r-samples').textContent.replace(/,/g, '')));
const queued = (page, types) => page.waitForFunction((t) => t.every((x) => window.__chaos.queued().filter((q) => q === x).length >= t.filter((y) => y === x).length), types);
/** The log from a mark on, as [kind, value] pairs of what the network view decided to show. */
const decidedSince = (page, mark) => page.evaluate((m) => {
  const log = window.__chaos.log;
  const from = log.findIndex((e) => e.mark === m);
  return log.slice(from + 1);
}, mark);

async function pickLabel(page, label) {
  await page.click(`label[for="label-${label}"]`);
  await settled(page, 'present', label);
}

test('the teaching wave stays until the drawing or label changes, whatever the reply order, while training', { timeout: 240_000 }, async () => {
  const page = await newPage(browser);
  await page.addInitScript(chaos);
  await openReady(page, server.url);
  await page.click('#play'); // training runs throughout: ticks, and the re-prediction timer
  await page.waitForFunction(() => document.body.classList.contains('is-running'));

  const mnist = mnistTest();
  await drawStrokes(page, digitStrokes(mnist.image(0)));
  await settled(page, 'predict', -1);
  assert.equal(await showing(page), 'draw');
  await pickLabel(page, 3);
  assert.equal(await showing(page), 'present');

  // A: predictions asked before and after the Teach request, their replies delivered before
  // and after the teach reply.
  await page.evaluate(() => { window.__chaos.hold = true; });
  await page.click('#src-train');
  await page.click('#src-draw'); // a prediction (P1), held
  await queued(page, ['present']);
  await page.click('#teach'); // the step (T), held
  await page.click('#src-train');
  await page.click('#src-draw'); // asks again once P1 is in
  await queued(page, ['present', 'teach']);
  await page.evaluate(() => window.__chaos.release('present')); // P1, before T: shown (no wave yet)
  await queued(page, ['present', 'teach']); // P2, asked after T
  await page.evaluate(() => { window.__chaos.mark('teach-released'); window.__chaos.release('teach'); });
  await page.evaluate(() => window.__chaos.release('present')); // P2 arrives after the teach reply
  await page.evaluate(() => window.__chaos.flush());
  assert.equal(await page.getAttribute('#teach-result', 'data-shown'), 'true');
  assert.equal(await showing(page), 'teach');
  assert.equal(await page.getAttribute('#pad-bars', 'data-kind'), 'teach');
  // Training goes on; the wave stays (the re-prediction timer does not replace it).
  const s0 = await samples(page);
  await page.waitForFunction((s) => Number(document.getElementById('r-samples').textContent.replace(/,/g, '')) > s + 3000, s0, { timeout: 120_000 });
  await page.waitForFunction(() => document.getElementById('network').dataset.source === 'teach');
  await page.locator('#panel-network').screenshot({ path: screenshotPath('teach-held-wave.png') });
  const heldLog = await decidedSince(page, 'teach-released');
  const afterTeach = heldLog.slice(heldLog.findIndex((e) => e.reply === 'teach'));
  assert.ok(afterTeach.some((e) => e.reply === 'present'), 'a prediction reply arrived after the teach reply');
  const shownAfter = afterTeach.filter((e) => e.el === 'network' && e.attr === 'data-showing').map((e) => e.value);
  assert.ok(shownAfter.length > 0 && shownAfter.every((v) => v === 'teach'), `after the teach reply the view showed ${shownAfter.join(', ')}`);
  const drawnAfter = afterTeach.filter((e) => e.el === 'network' && e.attr === 'data-source').map((e) => e.value);
  assert.ok(drawnAfter.every((v) => v === 'teach'), `after the teach reply the view drew ${drawnAfter.join(', ')}`);
  const barsAfter = afterTeach.filter((e) => e.el === 'pad-bars' && e.attr === 'data-kind').map((e) => e.value);
  assert.ok(barsAfter.every((v) => v === 'teach'), `the pad's bars showed ${barsAfter.join(', ')}`);
  assert.equal(await showing(page), 'teach');

  // The label changes: the wave goes, the new label's prediction comes.
  await pickLabel(page, 5);
  assert.equal(await showing(page), 'present');
  await page.waitForFunction(() => document.getElementById('network').dataset.source === 'present');
  assert.equal(await page.getAttribute('#network .net-output', 'data-target'), '5');

  // A prediction asked after Teach whose reply beats the teach reply: the wave still comes.
  await page.evaluate(() => { window.__chaos.hold = true; });
  await page.click('#teach');
  await queued(page, ['teach']);
  await page.click('#src-train');
  await page.click('#src-draw');
  await page.waitForFunction(() => {
    // A prediction asked before the step (the re-prediction timer's) goes first: it holds up the one asked after.
    const c = window.__chaos;
    if (c.queued().indexOf('present') >= 0 && c.queued().indexOf('present') < c.queued().indexOf('teach')) c.release('present');
    const q = c.queued();
    return q.lastIndexOf('present') > q.indexOf('teach');
  });
  await page.evaluate(() => {
    const c = window.__chaos;
    while (c.queued().includes('present')) c.release('present');
    c.mark('beaten');
    c.release('teach');
    c.flush();
  });
  assert.equal(await page.getAttribute('#teach-result', 'data-shown'), 'true');
  assert.equal(await showing(page), 'teach', 'the teaching wave shows though a prediction asked after it arrived first');
  const beaten = (await decidedSince(page, 'beaten')).filter((e) => e.el === 'network' && e.attr === 'data-showing').map((e) => e.value);
  assert.ok(beaten.every((v) => v === 'teach'), beaten.join(', '));

  // B: Teach, then the label changes before the teach reply arrives: that wave is never shown,
  // in either order of the two replies.
  for (const [label, order] of [[7, ['teach', 'present']], [2, ['present', 'teach']]]) {
    await page.evaluate(() => { window.__chaos.hold = true; });
    await page.click('#teach');
    await queued(page, ['teach']);
    await page.evaluate((l) => window.__chaos.mark(`stale-${l}`), label);
    await page.click(`label[for="label-${label}"]`);
    await queued(page, ['teach', 'present']);
    for (const type of order) await page.evaluate((t) => window.__chaos.release(t), type);
    await page.evaluate(() => window.__chaos.flush());
    await settled(page, 'present', label);
    assert.equal(await page.getAttribute('#teach-result', 'data-shown'), 'false', 'the step happened but its wave is stale');
    const log = await decidedSince(page, `stale-${label}`);
    const views = log.filter((e) => e.el === 'network' && e.attr === 'data-showing').map((e) => e.value);
    assert.ok(!views.includes('teach'), `a stale teaching wave was shown (${order.join(' then ')}): ${views.join(', ')}`);
    assert.equal(await showing(page), 'present');
  }

  // C: Teach, then the drawing changes: the wave goes.
  await page.click('#teach');
  await page.waitForFunction(() => document.getElementById('network').dataset.showing === 'teach'
    && document.getElementById('teach-result').dataset.shown === 'true');
  await drawStrokes(page, [[[4, 4], [5, 5]]]);
  await settled(page, 'present', 2);
  assert.equal(await showing(page), 'present');

  await page.click('#play'); // pause
  assert.deepEqual(page.errors, [], `errors on the page:\n${page.errors.join('\n')}`);
  await page.context().close();
});
