// Hostile links on both pages, in the real browser: a hash carrying script payloads in every
// field (every setting, every hide flag, the keys themselves) runs nothing — no dialog, no
// global set, no <img>/<script> or event-handler attribute created — and the notice quotes the
// payload literally, as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshotPath } from './helpers.mjs';
import { PAYLOADS } from './hostile.mjs';
import { link as mnistLink } from '../../www/state.js';
import { link as dynamicsLink } from '../../www/dynamics-state.js';

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

/** Every field of a page's link set to `payload`: each setting, each hide flag, and a key. */
function hostileHash(link, payload, enc) {
  return `#${[
    ...link.params.map((p) => `${p.name}=${enc(payload)}`),
    ...link.hideable.map((h) => `${h}_hide=${enc(payload)}`),
    `${enc(payload)}=1`,
  ].join('&')}`;
}

/** Navigate away; the downloads this cuts short (net::ERR_ABORTED) are the test's doing, not errors. */
async function leave(page) {
  const before = page.errors.length;
  await page.goto('about:blank');
  const during = page.errors.splice(before);
  page.errors.push(...during.filter((e) => !/net::ERR_ABORTED/.test(e)));
}

/** What a payload could have left behind, if anything ran or any markup got in. */
const traces = (page) => page.evaluate(() => ({
  pwned: window.__pwned ?? null,
  imgs: document.querySelectorAll('img').length,
  scripts: [...document.scripts].map((s) => s.getAttribute('src') ?? 'inline'),
  handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).length,
  jsLinks: [...document.querySelectorAll('[href], [src], [action]')].filter((el) => /^\s*javascript:/i.test(el.getAttribute('href') ?? el.getAttribute('src') ?? el.getAttribute('action'))).length,
  notice: document.querySelector('#notices .notice[data-key="link"]')?.textContent ?? '',
}));

for (const [name, path, link, readySelector] of [
  ['MNIST page', '', mnistLink, 'body[data-phase="ready"]'],
  ['Dynamics page', 'dynamics.html', dynamicsLink, 'body[data-phase="ready"]'],
]) {
  test(`${name}: script payloads in every field of the link run nothing and are quoted literally`, { timeout: 300_000 }, async () => {
    const page = await newPage(browser);
    const dialogs = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    await page.goto(server.url + path);
    await page.waitForSelector(readySelector, { state: 'attached' });
    const clean = await traces(page);
    assert.equal(clean.imgs, 0);
    for (const payload of PAYLOADS) {
      for (const [how, enc] of [['encoded', encodeURIComponent], ['raw', (x) => x]]) {
        const hash = hostileHash(link, payload, enc);
        // A fresh load (the link as opened), then the same link pasted into the open page.
        await leave(page);
        await page.goto(`${server.url}${path}${hash}`);
        await page.waitForSelector(readySelector, { state: 'attached' });
        let t = await traces(page);
        const what = `${how} ${payload}`;
        assert.equal(t.pwned, null, `${what}: the payload ran`);
        assert.deepEqual(dialogs, [], `${what}: a dialog opened`);
        assert.equal(t.imgs, 0, `${what}: an <img> was created`);
        assert.deepEqual(t.scripts, clean.scripts, `${what}: a <script> was created`);
        assert.equal(t.handlers, 0, `${what}: an event-handler attribute was created`);
        assert.equal(t.jsLinks, 0, `${what}: a javascript: link was created`);
        assert.ok(t.notice.includes(payload), `${what}: the notice should quote the payload literally; it says: ${t.notice.slice(0, 400)}`);
        // The link the page writes back holds only valid settings.
        const written = await page.evaluate(() => location.hash);
        assert.deepEqual(link.parseHash(written).notices, [], `${what}: the page wrote back ${written}`);
        if (payload === PAYLOADS[0] && how === 'encoded') {
          await page.screenshot({ path: screenshotPath(`hostile-link-${path ? 'dynamics' : 'mnist'}.png`) });
        }
        if (!path) {
          // The MNIST page applies a pasted link in place (hashchange).
          await page.evaluate((h) => { location.hash = h; }, `${hash}&seed=5`);
          await page.waitForFunction(() => /seed=5(&|$)/.test(location.hash));
          t = await traces(page);
          assert.equal(t.pwned, null, `${what} (pasted): the payload ran`);
          assert.equal(t.imgs, 0);
          assert.equal(t.handlers, 0);
          assert.deepEqual(t.scripts, clean.scripts);
          assert.ok(t.notice.includes(payload), `${what} (pasted): ${t.notice.slice(0, 400)}`);
        }
      }
    }
    // The share dialog builds its snippet from the (clean) state.
    await page.click('#share');
    const snippet = await page.inputValue('#embed-code');
    for (const payload of PAYLOADS) assert.ok(!snippet.includes(payload), 'the embed snippet holds no payload');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(page.errors, [], `errors on the page:\n${page.errors.join('\n')}`);
    await page.context().close();
  });
}
