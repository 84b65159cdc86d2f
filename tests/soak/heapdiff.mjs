// `node tests/soak/heapdiff.mjs [A=4] [B=16]`: the page trains (autoplay) in headless Chromium;
// at minute A and minute B a heap snapshot of the training worker is taken (after a forced GC)
// and the two are compared by node type and constructor: what grew, in bytes and objects. Where
// `make soak` says the worker's heap grows, this says what it is (JS objects, strings, compiled
// code, the wasm module's native code).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { attachToWorker, difference, formatDifference } from './heapsnap.mjs';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [A, B] = [Number(process.argv[2] || 4), Number(process.argv[3] || 16)];
const server = spawn(process.execPath, [path.join(root, 'www/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve) => server.stdout.on('data', (d) => { const m = /http:\/\/\S+?\//.exec(String(d)); if (m) resolve(m[0].replace('localhost', '127.0.0.1')); }));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
await page.goto(`${url}#autoplay=1`);
await page.waitForSelector('body[data-phase="ready"]', { timeout: 120000 });
const snap = (await attachToWorker(browser)).snapshot;
const t0 = Date.now();
const wait = (min) => page.waitForTimeout(Math.max(0, t0 + min * 60000 - Date.now()));
await wait(A); const s1 = await snap(); console.log(`minute ${A}: ${s1.total} bytes`);
await wait(B); const s2 = await snap(); console.log(`minute ${B}: ${s2.total} bytes`);
console.log(formatDifference(difference(s1, s2)));
await browser.close(); server.kill();
