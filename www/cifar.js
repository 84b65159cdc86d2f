// CIFAR-10 from files the user gives the page (the official cifar-10-binary.tar.gz, its tar, or
// the six .bin files, gzip'd or not), read in the training worker: each file is streamed from
// disk, gunzipped on the way by the browser's DecompressionStream when it starts with gzip's
// magic bytes, and pushed chunk by chunk into the engine's CifarReader (src/wasm.rs), which
// reads the tar and copies the records straight into the sets it reserved once. Neither the
// file nor a decompressed copy of it is ever held: the 162 MB download needs the 184 MB of
// images and about 110 kB more.

/** Progress reports to the page: at most this often. */
const PROGRESS_EVERY_MS = 150;

/** A sentence for the page: what went wrong with which file. */
export class CifarError extends Error {}

/** Bytes counted as they pass (the compressed size, for the progress bar). */
function counting(onBytes) {
  return new TransformStream({
    transform(chunk, controller) {
      onBytes(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
}

/**
 * Read `files` (File or Blob objects with a name) into a new `wasm.CifarReader`; resolves to it
 * (the caller gives it to the engine and frees it) or throws a CifarError naming the file.
 * `onProgress({read, total, held})` reports the bytes read of all files and the bytes held.
 */
export async function readCifarFiles(wasm, files, onProgress = () => {}) {
  const list = [...files];
  if (!list.length) throw new CifarError('no file was given: drop cifar-10-binary.tar.gz or its six .bin files');
  const total = list.reduce((a, f) => a + f.size, 0);
  let read = 0;
  let last = 0;
  const report = (force) => {
    const now = performance.now();
    if (!force && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    onProgress({ read, total, held: reader.bytesHeld() });
  };
  const reader = new wasm.CifarReader();
  try {
    for (const file of list) {
      const name = file.name || 'the file';
      const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
      const gzip = head[0] === 0x1f && head[1] === 0x8b;
      let stream = file.stream().pipeThrough(counting((n) => { read += n; report(false); }));
      if (gzip) stream = stream.pipeThrough(new DecompressionStream('gzip'));
      // The name says which batch a .bin file is; the size lets the reader reserve once (a
      // gunzipped stream's size is not known in advance: the tar headers give it).
      try {
        reader.beginFile(name, gzip ? undefined : file.size);
      } catch (e) {
        throw new CifarError(e.message);
      }
      const chunks = stream.getReader();
      for (;;) {
        let r;
        try {
          r = await chunks.read();
        } catch (e) {
          throw new CifarError(gzip
            ? `${name} is not a valid gzip file (${e.message || e}): the download may be truncated or damaged`
            : `could not read ${name}: ${e.message || e}`);
        }
        if (r.done) break;
        try {
          reader.push(r.value);
        } catch (e) {
          chunks.cancel().catch(() => {});
          throw new CifarError(e.message);
        }
      }
      try {
        reader.endFile();
      } catch (e) {
        throw new CifarError(e.message);
      }
    }
    report(true);
    return reader;
  } catch (e) {
    reader.free();
    throw e;
  }
}
