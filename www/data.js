// MNIST for the page, read by the training worker: the labels and test files whole, the
// training images as a stream (gunzipped with DecompressionStream as they arrive, handed over
// in whole images), so training can start long before the 9.7 MB file is in. Also a
// reordering of the test set (see interleaveTestSet).

export const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** Bytes of an IDX images header: magic, count, rows, columns. */
export const IMAGES_HEADER_BYTES = 16;

/**
 * A failure to get a file (`kind: 'download'`: network, HTTP status, broken gzip) or to make
 * sense of its contents (`kind: 'read'`); the message names the file.
 */
export class DataError extends Error {
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}

async function open(url, signal) {
  let res;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    throw new DataError(`could not download ${url}: ${e.message}`, 'download');
  }
  if (!res.ok) {
    throw new DataError(`could not download ${url} (HTTP ${res.status}). Run \`make demo\`, which prepares the gzipped MNIST files.`, 'download');
  }
  return res;
}

/**
 * The response body as raw IDX bytes, a stream. Gunzips only what still starts with gzip's
 * magic bytes: some static hosts send .gz files with `Content-Encoding: gzip`, and the browser
 * has then unpacked them already. `onBytes(n)` counts bytes as they come off the network.
 * Read errors say whether the download broke or the gzip data is bad.
 */
async function rawIdx(res, url, file, onBytes) {
  const reader = res.body.getReader();
  let head = new Uint8Array(0);
  let done = false;
  const readRaw = async () => {
    try {
      return await reader.read();
    } catch (e) {
      throw new DataError(`could not download ${url}: ${e.message}`, 'download');
    }
  };
  while (head.length < 2 && !done) {
    const r = await readRaw();
    if (r.done) done = true;
    else {
      onBytes(r.value.byteLength);
      head = concat(head, r.value);
    }
  }
  let broken = null; // a download error inside the gunzip pipe
  const source = new ReadableStream({
    start(c) {
      if (head.length) c.enqueue(head);
      if (done) c.close();
    },
    async pull(c) {
      try {
        const r = await readRaw();
        if (r.done) c.close();
        else {
          onBytes(r.value.byteLength);
          c.enqueue(r.value);
        }
      } catch (e) {
        broken = e;
        c.error(e);
      }
    },
    cancel(reason) { return reader.cancel(reason); },
  }, { highWaterMark: 0 });
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const out = (gzip ? source.pipeThrough(new DecompressionStream('gzip')) : source).getReader();
  return {
    async read() {
      try {
        return await out.read();
      } catch (e) {
        if (broken) throw broken;
        if (e instanceof DataError) throw e;
        throw new DataError(`${file} is not a valid gzip file (${e.message || e}); the download may be truncated or corrupt`, 'download');
      }
    },
    cancel: (reason) => out.cancel(reason).catch(() => {}),
  };
}

function concat(a, b) {
  if (!a.length) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * One whole file, gunzipped: `key` names it in FILES, `base` is the URL of the data folder.
 * `progress(key, {received?, total?})` reports compressed bytes. Resolves to the raw IDX bytes.
 */
export async function fetchIdx(key, base, { signal, progress = () => {} } = {}) {
  const file = `${FILES[key]}.gz`;
  const url = new URL(file, base).href;
  const res = await open(url, signal);
  progress(key, { total: Number(res.headers.get('Content-Length')) || 0 });
  const body = await rawIdx(res, url, file, (n) => progress(key, { received: n }));
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await body.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Stream an IDX images file. `onHeader(bytes)` gets its first 16 bytes (or all there is, if
 * the file is shorter) and returns (or resolves to) `{count, pixels}`, or throws: the header
 * is bad (meanwhile the download goes on, into the browser's buffer); then
 * `onImages(bytes)` gets whole images, in order, as they arrive, and returns nothing (or
 * throws). At the end, fewer images than promised (or a partial one) is a 'read' error.
 */
export async function streamImages(key, base, { signal, progress = () => {}, onHeader, onImages }) {
  const file = `${FILES[key]}.gz`;
  const url = new URL(file, base).href;
  const res = await open(url, signal);
  progress(key, { total: Number(res.headers.get('Content-Length')) || 0 });
  const body = await rawIdx(res, url, file, (n) => progress(key, { received: n }));
  let pending = new Uint8Array(0);
  let shape = null;
  let images = 0;
  try {
    for (;;) {
      const { done, value } = await body.read();
      if (done) break;
      pending = concat(pending, value);
      if (!shape) {
        if (pending.length < IMAGES_HEADER_BYTES) continue;
        shape = await onHeader(pending.subarray(0, IMAGES_HEADER_BYTES));
        pending = pending.slice(IMAGES_HEADER_BYTES);
      }
      const whole = pending.length - (pending.length % shape.pixels);
      if (whole) {
        onImages(pending.subarray(0, whole));
        images += whole / shape.pixels;
        pending = pending.slice(whole);
      }
    }
  } catch (e) {
    body.cancel(e);
    throw e;
  }
  if (!shape) shape = await onHeader(pending); // shorter than a header: onHeader says what is wrong
  if (images < shape.count || pending.length) {
    throw new DataError(`${file}: the images file is truncated: its header promises ${shape.count} images, ${images} arrived` +
      `${pending.length ? ` and ${pending.length} bytes of another` : ''}`, 'read');
  }
  return { count: images, pixels: shape.pixels };
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
