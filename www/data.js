// MNIST for the page: the four gzipped IDX files, downloaded with progress and gunzipped in the
// browser (DecompressionStream), plus a reordering of the test set used by the worker.

export const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/**
 * Fetch and gunzip the four files from `base` (default data/ beside the page). `onProgress(received, total)`
 * reports compressed bytes over all files. Resolves to `{trainImages, …}` ArrayBuffers of the
 * raw IDX bytes; rejects with an Error whose message says which file failed and why.
 */
export async function loadMnist(onProgress, base = 'data/') {
  const names = Object.keys(FILES);
  const received = new Map(names.map((n) => [n, 0]));
  const totals = new Map(names.map((n) => [n, 0]));
  // The first failure stops the other downloads (and their progress reports).
  const abort = new AbortController();
  const report = () => { if (!abort.signal.aborted) onProgress(sum(received), sum(totals)); };
  const buffers = await Promise.all(names.map(async (name) => {
    const url = `${base}${FILES[name]}.gz`;
    let res;
    try {
      res = await fetch(url, { signal: abort.signal });
    } catch (e) {
      throw new Error(`could not download ${url}: ${e.message}`);
    }
    if (!res.ok) {
      throw new Error(`could not download ${url} (HTTP ${res.status}). Run \`make demo\`, which prepares the gzipped MNIST files.`);
    }
    totals.set(name, Number(res.headers.get('Content-Length')) || 0);
    report();
    const chunks = [];
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received.set(name, received.get(name) + value.byteLength);
      report();
    }
    const blob = new Blob(chunks);
    const head = new Uint8Array(await blob.slice(0, 2).arrayBuffer());
    // Some static hosts send .gz files with `Content-Encoding: gzip`, so the browser has
    // already unpacked them: only gunzip what still starts with the gzip magic bytes.
    if (head[0] !== 0x1f || head[1] !== 0x8b) return blob.arrayBuffer();
    try {
      return await new Response(blob.stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
    } catch (e) {
      if (abort.signal.aborted) throw e;
      throw new Error(`${FILES[name]}.gz is not a valid gzip file (${e.message || e}); the download may be truncated or corrupt`);
    }
  }).map((p) => p.catch((e) => { abort.abort(); throw e; })));
  return Object.fromEntries(names.map((n, i) => [n, buffers[i]]));
}

function sum(map) {
  let s = 0;
  for (const v of map.values()) s += v;
  return s;
}

/**
 * MNIST's test set is ordered by writer group (the first 5,000 and the last 5,000 come from
 * different populations), so its first 2,000 images are not a fair sample. This puts every
 * `stride`-th image first: `evaluate(10000 / stride)` then scores an evenly spread subset,
 * and `evaluate()` still scores all 10,000 (order does not matter to accuracy or confusion).
 * Returns new IDX bytes and `order` (position → original index), or null if the bytes are not
 * well-formed IDX (the engine then reports the problem in its own words).
 */
export function interleaveTestSet(images, labels, stride) {
  const img = new Uint8Array(images);
  const lab = new Uint8Array(labels);
  if (img.length < 16 || lab.length < 8) return null;
  const dv = new DataView(img.buffer, img.byteOffset);
  const dl = new DataView(lab.buffer, lab.byteOffset);
  if (dv.getUint32(0) !== 0x803 || dl.getUint32(0) !== 0x801) return null;
  const n = dv.getUint32(4);
  const pixels = dv.getUint32(8) * dv.getUint32(12);
  if (dl.getUint32(4) !== n || img.length !== 16 + n * pixels || lab.length !== 8 + n) return null;
  const order = [];
  for (let i = 0; i < n; i += stride) order.push(i);
  for (let i = 0; i < n; i++) if (i % stride) order.push(i);
  const outImg = new Uint8Array(img.length);
  const outLab = new Uint8Array(lab.length);
  outImg.set(img.subarray(0, 16));
  outLab.set(lab.subarray(0, 8));
  order.forEach((src, dst) => {
    outImg.set(img.subarray(16 + src * pixels, 16 + (src + 1) * pixels), 16 + dst * pixels);
    outLab[8 + dst] = lab[8 + src];
  });
  return { images: outImg, labels: outLab, order: Uint32Array.from(order) };
}
