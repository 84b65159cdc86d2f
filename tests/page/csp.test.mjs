// The Content-Security-Policy, in a real browser: both pages load, train and are used under the
// policy the server sends, with no violation reported (by the `securitypolicyviolation` events
// of the page and of its workers, the console, and Chromium's own issue reports), the headers
// are on every response, the policy really blocks what it should, and framing stays allowed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CSP, SECURITY_HEADERS, headersFile } from '../../www/serve.mjs';
import { startServer, launchBrowser, newPage, openReady, mnistTest, digitStrokes, drawStrokes } from './helpers.mjs';

/** Hang guard only: a busy machine is slow; nothing here checks the time taken. */
const HANG_GUARD_MS = 300_000;

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

// Runs in every document (and frame) before its scripts.
function listenForViolations() {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample });
  });
}

const CSP_MESSAGE = /Content Security Policy|Refused to (apply|load|execute|evaluate|compile|create|connect|frame)/i;

/**
 * A page that records every sign of a CSP violation: DOM events in the page and its workers,
 * console messages of either, and Chromium's ContentSecurityPolicy issues (CDP Audits).
 * Also records the headers of every response.
 */
async function watchedPage() {
  const page = await newPage(browser);
  await page.context().addInitScript(listenForViolations);
  const seen = { console: [], issues: [], workers: [], responses: [] };
  page.on('console', (m) => { if (CSP_MESSAGE.test(m.text())) seen.console.push(`page: ${m.text()}`); });
  page.on('worker', (w) => {
    seen.workers.push(w);
    w.on('console', (m) => { if (CSP_MESSAGE.test(m.text())) seen.console.push(`worker ${w.url()}: ${m.text()}`); });
    // As early as Playwright can reach the worker (anything before this is also caught by the
    // console and the issue reports).
    w.evaluate(() => {
      self.__violations = [];
      self.addEventListener('securitypolicyviolation', (e) => self.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample }));
    }).catch(() => {});
  });
  page.context().on('response', (r) => seen.responses.push(r));
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Audits.issueAdded', ({ issue }) => { if (issue.code === 'ContentSecurityPolicyIssue') seen.issues.push(issue.details.contentSecurityPolicyIssueDetails); });
  await cdp.send('Audits.enable');
  page.seen = seen;
  return page;
}

/** Every violation recorded so far, from all sources. */
async function violations(page) {
  const fromDom = await page.evaluate(() => window.__violations);
  const fromFrames = [];
  for (const f of page.frames().slice(1)) fromFrames.push(...await f.evaluate(() => window.__violations || []).catch(() => []));
  const fromWorkers = [];
  for (const w of page.seen.workers) fromWorkers.push(...await w.evaluate(() => self.__violations || []).catch(() => []));
  return { dom: [...fromDom, ...fromFrames], workers: fromWorkers, console: page.seen.console, issues: page.seen.issues };
}

async function assertNoViolations(page) {
  // Let anything still in flight be reported: a round trip through the page and each worker.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  const v = await violations(page);
  assert.deepEqual(v, { dom: [], workers: [], console: [], issues: [] }, `CSP violations:\n${JSON.stringify(v, null, 2)}`);
  assert.deepEqual(page.errors, [], `errors on the page:\n${page.errors.join('\n')}`);
}

/** The security headers on every response of the page's own origin (documents, scripts, workers, wasm, data). */
async function assertHeaders(page, mustSee) {
  const own = page.seen.responses.filter((r) => r.url().startsWith(server.url));
  const seenKinds = new Set();
  for (const r of own) {
    const h = await r.allHeaders();
    const path = new URL(r.url()).pathname;
    assert.equal(h['content-security-policy'], CSP, `CSP on ${path}`);
    assert.equal(h['x-content-type-options'], 'nosniff', `nosniff on ${path}`);
    assert.equal(h['x-frame-options'], undefined, `${path} must stay embeddable`);
    if (path.endsWith('.html') || path === '/') seenKinds.add('document');
    if (/worker\.js$/.test(path)) seenKinds.add('worker');
    if (path.endsWith('.js')) seenKinds.add('script');
    if (path.endsWith('.wasm')) seenKinds.add('wasm');
    if (path.startsWith('/data/')) seenKinds.add('data');
  }
  for (const kind of mustSee) assert.ok(seenKinds.has(kind), `no ${kind} response was checked (saw ${[...seenKinds]})`);
}

test('the policy is the one shipped: tight, no unsafe-inline or unsafe-eval, framing allowed', () => {
  assert.match(CSP, /default-src 'self'/);
  assert.match(CSP, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  assert.match(CSP, /object-src 'none'/);
  assert.match(CSP, /base-uri 'none'/);
  assert.doesNotMatch(CSP, /'unsafe-inline'|'unsafe-eval'|frame-ancestors|\*/);
  assert.equal(SECURITY_HEADERS['X-Content-Type-Options'], 'nosniff');
  assert.equal(Object.keys(SECURITY_HEADERS).some((k) => /frame/i.test(k)), false);
  // The static-host file carries the same headers for every path.
  const file = headersFile();
  assert.ok(file.includes(`/*\n  Content-Security-Policy: ${CSP}\n  X-Content-Type-Options: nosniff\n`), file);
  assert.doesNotMatch(file, /X-Frame-Options|frame-ancestors/);
});

test('the policy is enforced, and the listeners see a violation in the page and in the worker', { timeout: HANG_GUARD_MS }, async () => {
  const page = await watchedPage();
  await openReady(page, server.url);
  // An inline style attribute and a string evaluated by the page, a string evaluated by the
  // worker: all refused. (Code run through DevTools may eval; setTimeout with a string runs it
  // later, as the page's own code, where the policy applies.)
  const styled = await page.evaluate(() => {
    const d = document.createElement('div');
    d.setAttribute('style', 'color: rgb(1, 2, 3)');
    document.body.append(d);
    const applied = getComputedStyle(d).color === 'rgb(1, 2, 3)';
    d.remove();
    setTimeout('window.__evaluated = true', 0);
    return applied;
  });
  assert.equal(styled, false);
  const worker = page.seen.workers.find((w) => /\/worker\.js$/.test(w.url()));
  assert.ok(worker, 'the training worker');
  await worker.evaluate(() => { setTimeout('self.__evaluated = true', 0); });
  await page.waitForFunction(() => window.__violations.length >= 2);
  await worker.evaluate(() => new Promise((r) => setTimeout(r, 100)));
  assert.equal(await page.evaluate(() => window.__evaluated), undefined);
  assert.equal(await worker.evaluate(() => self.__evaluated), undefined);
  const v = await violations(page);
  assert.deepEqual(v.dom.map((x) => x.directive).sort(), ['script-src', 'style-src-attr']);
  assert.deepEqual(v.workers.map((x) => x.directive), ['script-src']);
  assert.ok(v.console.length >= 2, `the console reports them too: ${v.console}`);
  assert.ok(v.issues.length >= 1, 'and so do Chromium\'s issue reports');
  await page.context().close();
});

test('the MNIST page under the policy: trains, draws, teaches, saves, shares; no violation', { timeout: HANG_GUARD_MS }, async () => {
  const page = await watchedPage();
  await openReady(page, server.url);
  await page.click('#play');
  // A few seconds of training, counted in samples (the page's own counter).
  await page.waitForFunction(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= 3000, null, { timeout: 120_000 });
  // An evaluation with the views drawing.
  await page.waitForFunction(() => Number(document.querySelector('#r-acc').dataset.samples) > 0, null, { timeout: 120_000 });
  // Draw a real test digit on the pad, pick its label, teach.
  const mnist = mnistTest();
  await drawStrokes(page, digitStrokes(mnist.image(0)));
  await page.click(`label[for="label-${mnist.label(0)}"]`);
  await page.click('#teach');
  await page.waitForFunction(() => document.querySelector('#teach-result').dataset.label !== undefined);
  // Save the model (a blob: download).
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  assert.ok((await download.path()) !== null);
  // The share dialog opens and closes (a form with method="dialog" under form-action 'none').
  await page.click('#share');
  await page.waitForSelector('#share-dialog[open]');
  await page.click('#share-dialog button[value="close"]');
  await page.waitForSelector('#share-dialog:not([open])', { state: 'attached' });
  await page.click('#play'); // pause
  await assertNoViolations(page);
  await assertHeaders(page, ['document', 'script', 'worker', 'wasm', 'data']);
  await page.context().close();
});

test('the conv net and CIFAR-10 under the policy: feature maps, kernels, a dropped-in archive read in the worker; no violation', { timeout: HANG_GUARD_MS }, async () => {
  const { cifarTarGz } = await import('./cifar-data.mjs');
  const page = await watchedPage();
  await openReady(page, server.url, '#model=conv');
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')) >= 2000, null, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'train');
  await page.click('#play');
  // CIFAR-10 through the file button: streamed gunzip and the engine's tar reader in the worker.
  await page.setInputFiles('#cifar-file', { name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: cifarTarGz(20) });
  await page.getByRole('dialog', { name: 'Build a new network?' }).waitFor();
  await page.click('#confirm-ok');
  await page.waitForFunction(() => document.body.dataset.data === 'cifar10');
  await page.click('#step');
  await page.waitForFunction(() => document.querySelector('#network').dataset.source === 'train' && document.querySelector('#strip .strip-digit canvas'));
  await assertNoViolations(page);
  await page.context().close();
});

test('the dynamics page under the policy: runs its simulation and multiplexing; no violation', { timeout: HANG_GUARD_MS }, async () => {
  const page = await watchedPage();
  await page.goto(`${server.url}dynamics.html#speed=1000`);
  await page.waitForSelector('body[data-phase="ready"]', { state: 'attached', timeout: 90_000 });
  await page.waitForFunction(() => Number(document.querySelector('#c-output').dataset.samples) > 500, null, { timeout: 120_000 });
  await page.waitForFunction(() => Number(document.querySelector('#raster').dataset.bursts) > 0, null, { timeout: 120_000 });
  await page.click('#share');
  await page.waitForSelector('#share-dialog[open]');
  await page.click('#share-dialog button[value="close"]');
  await assertNoViolations(page);
  await assertHeaders(page, ['document', 'script', 'worker', 'wasm']);
  await page.context().close();
});

test('framing stays allowed: a lecture page on another origin embeds the demo', { timeout: HANG_GUARD_MS }, async () => {
  const lecture = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><title>lecture</title><link rel="icon" href="data:,"><iframe src="${server.url}#embed=1" width="900" height="560"></iframe>`);
  });
  await new Promise((r) => lecture.listen(0, '127.0.0.1', r));
  const page = await watchedPage();
  await page.goto(`http://localhost:${lecture.address().port}/`); // localhost ≠ 127.0.0.1: another origin
  const frame = page.frames().find((f) => f.url().startsWith(server.url)) ?? await page.waitForEvent('frameattached');
  await frame.waitForSelector('body[data-phase="ready"]', { timeout: 90_000 });
  assert.equal(await frame.evaluate(() => document.body.classList.contains('embed')), true);
  await assertNoViolations(page);
  await page.context().close();
  lecture.close();
});
