// The threaded engine (pkg-threads/: wasm threads, relaxed SIMD): where the page is
// cross-origin isolated (COOP same-origin + COEP require-corp, so SharedArrayBuffer exists), the
// training worker instantiates it on a shared wasm memory and starts a pool of Web Workers
// (threads-worker.js) that instantiate the same module on the same memory and join the
// engine's thread team, which splits every large matrix product across them. Everywhere else
// (an embed without those headers, a browser without wasm threads) nothing here runs and the
// single-worker builds load exactly as before.
import { relaxedSimd, threads as wasmThreads } from './vendor/wasm-feature-detect/esm/index.js';

/** More threads than this gain nothing on these layer sizes (products split in 32-wide blocks). */
const MAX_THREADS = 8;
/** A pool that has not joined by then is given up (the single-worker build is used instead). */
const JOIN_TIMEOUT_MS = 20000;

/**
 * The number of threads the threaded build would use here, or 0 where it must not be loaded:
 * not cross-origin isolated, no SharedArrayBuffer, no wasm threads or relaxed SIMD, one core.
 */
export async function threadedBuildThreads() {
  if (!self.crossOriginIsolated || typeof SharedArrayBuffer !== 'function') return 0;
  const cores = Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1);
  if (cores < 2 || !(await wasmThreads()) || !(await relaxedSimd())) return 0;
  return cores;
}

/**
 * Load pkg-threads/ with a team of `threads` threads in all (this worker and threads − 1 pool
 * workers) and resolve, once every pool worker has joined, with the initialised wasm-bindgen
 * module. Rejects (and stops the pool) if a pool worker fails or does not join in time.
 */
export function loadThreadedModule(threads) {
  // Once per worker: the module keeps its memory and team, and a second pool would join it too.
  if (!loading) {
    loading = start(threads);
    loading.catch(() => { loading = null; });
  }
  return loading;
}
let loading = null;

async function start(threads) {
  const dir = new URL('./pkg-threads/', import.meta.url);
  const js = new URL('burstccn.js', dir).href;
  const wasm = await import(js);
  const module = await compile(new URL('burstccn_bg.wasm', dir));
  const exports = await wasm.default({ module_or_path: module });
  const pool = [];
  try {
    await Promise.all(Array.from({ length: threads - 1 }, (_, i) => startPoolWorker(pool, i + 1, { js, module, memory: exports.memory })));
    // Each pool worker says it is ready just before it enters the team: wait until all have.
    const deadline = performance.now() + JOIN_TIMEOUT_MS;
    while (wasm.threadsCount() < threads) {
      if (performance.now() > deadline) throw new Error(`only ${wasm.threadsCount()} of ${threads} threads joined`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } catch (e) {
    pool.forEach((w) => w.terminate());
    throw e;
  }
  return wasm;
}

async function compile(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  // A host that sends the wasm with another type than application/wasm: compile the bytes.
  if (res.headers.get('Content-Type') !== 'application/wasm') return WebAssembly.compile(await res.arrayBuffer());
  return WebAssembly.compileStreaming(res);
}

function startPoolWorker(pool, index, init) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./threads-worker.js', import.meta.url), { type: 'module', name: `burstccn-thread-${index}` });
    pool.push(w);
    w.onmessage = (e) => (e.data.ok ? resolve() : reject(new Error(`thread ${index}: ${e.data.error}`)));
    w.onerror = (e) => { e.preventDefault(); reject(new Error(`thread ${index}: ${e.message || 'the worker failed to start'}`)); };
    w.postMessage(init);
  });
}
