// `node tests/soak/heapdiff.mjs [A=4] [B=16]`: the page trains (autoplay) in headless Chromium;
// at minute A and minute B a heap snapshot of the training worker is taken (after a forced GC)
// and the two are compared by node type and constructor: what grew, in bytes and objects. Where
// `make soak` says the worker's heap grows, this says what it is (JS objects, strings, compiled
// code, the wasm module's native code).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [A, B] = [Number(process.argv[2] || 4), Number(process.argv[3] || 16)];
const server = spawn(process.execPath, [path.join(root, 'www/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve) => server.stdout.on('data', (d) => { const m = /http:\/\/\S+?\//.exec(String(d)); if (m) resolve(m[0].replace('localhost', '127.0.0.1')); }));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
await page.goto(`${url}#autoplay=1`);
await page.waitForSelector('body[data-phase="ready"]', { timeout: 120000 });
const bcdp = await browser.newBrowserCDPSession();
const { targetInfos } = await bcdp.send('Target.getTargets');
const t = targetInfos.find((x) => x.type === 'worker' && x.url.endsWith('/worker.js'));
const { sessionId } = await bcdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
let id = 0; const replies = new Map(); let chunks = [];
bcdp.on('Target.receivedMessageFromTarget', (e) => {
  if (e.sessionId !== sessionId) return;
  const m = JSON.parse(e.message);
  if (m.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(m.params.chunk);
  else replies.get(m.id)?.(m);
});
const send = (method, params = {}) => new Promise((res, rej) => { const i = ++id; replies.set(i, (m) => (m.error ? rej(new Error(m.error.message)) : res(m.result))); bcdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: i, method, params }) }); });
await send('HeapProfiler.enable');
async function snap() {
  await send('HeapProfiler.collectGarbage');
  chunks = [];
  await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  const s = JSON.parse(chunks.join(''));
  const f = s.snapshot.meta.node_fields; const nf = f.length;
  const [ti, ni, si] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = s.snapshot.meta.node_types[0];
  const agg = new Map(); let total = 0;
  for (let i = 0; i < s.nodes.length; i += nf) {
    const key = `${types[s.nodes[i + ti]]}:${String(s.strings[s.nodes[i + ni]]).slice(0, 60)}`;
    const a = agg.get(key) || [0, 0]; a[0]++; a[1] += s.nodes[i + si]; agg.set(key, a); total += s.nodes[i + si];
  }
  return { agg, total };
}
const t0 = Date.now();
const wait = (min) => page.waitForTimeout(Math.max(0, t0 + min * 60000 - Date.now()));
await wait(A); const s1 = await snap(); console.log(`minute ${A}: ${s1.total} bytes`);
await wait(B); const s2 = await snap(); console.log(`minute ${B}: ${s2.total} bytes`);
const diff = [];
for (const [k, [c, b]] of s2.agg) { const [c0, b0] = s1.agg.get(k) || [0, 0]; if (b !== b0 || c !== c0) diff.push([k, c - c0, b - b0]); }
for (const [k, [c0, b0]] of s1.agg) if (!s2.agg.has(k)) diff.push([k, -c0, -b0]);
diff.sort((x, y) => Math.abs(y[2]) - Math.abs(x[2]));
for (const d of diff.slice(0, 30)) console.log(`${d[2] > 0 ? '+' : ''}${d[2]} bytes  ${d[1] > 0 ? '+' : ''}${d[1]} objects  ${d[0]}`);
await browser.close(); server.kill();
