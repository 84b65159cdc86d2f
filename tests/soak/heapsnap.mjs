// Heap snapshots through CDP, summed by node type and constructor, and the difference of two:
// what grew between them, in bytes and objects (JS objects, strings, compiled code, the wasm
// module's native code); and the CDP session to the training worker both tools measure. Used
// by heapdiff.mjs and by soak.mjs.

/**
 * A CDP session to the page's training worker (`/worker.js`), through the browser's session
 * (Playwright opens none for workers): `send(method, params)` resolves with the result, and
 * `snapshot()` takes a heap snapshot of the worker (see [`snapshot`]).
 */
export async function attachToWorker(browser) {
  const browserCdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await browserCdp.send('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'worker' && t.url.endsWith('/worker.js'));
  if (!target) throw new Error('no training worker to attach to');
  const { sessionId } = await browserCdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
  let nextId = 0;
  const replies = new Map();
  let chunks = null;
  browserCdp.on('Target.receivedMessageFromTarget', (e) => {
    if (e.sessionId !== sessionId) return;
    const m = JSON.parse(e.message);
    if (m.method === 'HeapProfiler.addHeapSnapshotChunk') chunks?.(m.params.chunk);
    else replies.get(m.id)?.(m);
  });
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = ++nextId;
    replies.set(id, (m) => { replies.delete(id); if (m.error) reject(new Error(m.error.message)); else resolve(m.result); });
    browserCdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
  });
  return { send, snapshot: () => snapshot(send, (sink) => { chunks = sink; return () => { chunks = null; }; }) };
}

/** A heap snapshot (see [`snapshot`]) through a Playwright CDP session (a page's own). */
export function sessionSnapshot(session) {
  return snapshot((m, p) => session.send(m, p), (sink) => {
    const on = (e) => sink(e.chunk);
    session.on('HeapProfiler.addHeapSnapshotChunk', on);
    return () => session.off('HeapProfiler.addHeapSnapshotChunk', on);
  });
}

/**
 * A heap snapshot of the target behind `send` (a CDP method caller), after a forced GC, as a
 * Map `type:name` → [objects, bytes], and its total. `onChunk` registers the chunk listener:
 * it is called with a function that receives each HeapProfiler.addHeapSnapshotChunk's text.
 */
export async function snapshot(send, onChunk) {
  await send('HeapProfiler.enable');
  await send('HeapProfiler.collectGarbage');
  const chunks = [];
  const off = onChunk((c) => chunks.push(c));
  await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  off?.();
  const s = JSON.parse(chunks.join(''));
  const f = s.snapshot.meta.node_fields;
  const nf = f.length;
  const [ti, ni, si] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = s.snapshot.meta.node_types[0];
  const agg = new Map();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += nf) {
    // Strings by their length only: their text would split one kind into thousands of rows.
    const type = types[s.nodes[i + ti]];
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string'
      ? `(${type})` : String(s.strings[s.nodes[i + ni]]).slice(0, 60);
    const key = `${type}:${name}`;
    const a = agg.get(key) || [0, 0];
    a[0] += 1;
    a[1] += s.nodes[i + si];
    agg.set(key, a);
    total += s.nodes[i + si];
  }
  return { agg, total };
}

/**
 * Whether a snapshot row (`type:name`) is compiled code or its metadata: V8's `code` nodes
 * (optimised code, bytecode, deoptimisation data, feedback vectors) and the wasm module's
 * native code. The engines' optimising tiers keep adding these for many minutes while a page
 * runs the same work; they are not objects the page's code holds.
 */
export const isCompiledCode = (key) => key.startsWith('code:') || key.includes('(WasmNativeModule)');

/** A snapshot's bytes outside compiled code: the objects (JS, DOM, buffers) it holds. */
export function objectBytes(snap) {
  let n = 0;
  for (const [k, [, bytes]] of snap.agg) if (!isCompiledCode(k)) n += bytes;
  return n;
}

/**
 * What changed from snapshot `a` to `b`: the total, split into objects and compiled code (see
 * [`isCompiledCode`]), and the rows, largest change in bytes first: [{what, objects, bytes}].
 */
export function difference(a, b, limit = 30) {
  const rows = [];
  for (const [k, [c, n]] of b.agg) {
    const [c0, n0] = a.agg.get(k) || [0, 0];
    if (n !== n0 || c !== c0) rows.push({ what: k, objects: c - c0, bytes: n - n0 });
  }
  for (const [k, [c0, n0]] of a.agg) if (!b.agg.has(k)) rows.push({ what: k, objects: -c0, bytes: -n0 });
  rows.sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes));
  const objects = objectBytes(b) - objectBytes(a);
  return { total_bytes: b.total - a.total, object_bytes: objects, compiled_code_bytes: b.total - a.total - objects, rows: rows.slice(0, limit) };
}

const signed = (n) => `${n > 0 ? '+' : ''}${n}`;
export const formatDifference = (d) => [`${signed(d.total_bytes)} bytes in all: ${signed(d.object_bytes)} objects, ${signed(d.compiled_code_bytes)} compiled code`,
  ...d.rows.map((r) => `${signed(r.bytes)} bytes  ${signed(r.objects)} objects  ${r.what}`)].join('\n');
