// Loading the wasm engine, for both pages' workers: the relaxed-simd build where the browser
// validates it (fused multiply-add), plain simd128 elsewhere; for the training worker
// (`threads: true`), the threaded build where the page is cross-origin isolated (threads.js).
// Paths are relative to this file, so the site also works under a sub-path of a static host.
import { relaxedSimd } from './vendor/wasm-feature-detect/esm/index.js';
import { threadedBuildThreads, loadThreadedModule } from './threads.js';

/**
 * The initialised wasm-bindgen module of the best build this browser runs, with `build` (its
 * directory: 'pkg-threads', 'pkg-relaxed' or 'pkg') and `threads` (threads it trains on).
 */
export async function loadEngineModule({ threads = false } = {}) {
  const n = threads ? await threadedBuildThreads() : 0;
  if (n > 1) {
    try {
      return Object.assign(Object.create(null), await loadThreadedModule(n), { build: 'pkg-threads', threads: n });
    } catch (e) {
      // Isolated but the pool would not start (e.g. a host without CORP on the scripts):
      // train on one core as everywhere else, and say why.
      console.warn(`threaded engine unavailable, using one thread: ${e.message}`);
    }
  }
  const build = (await relaxedSimd()) ? 'pkg-relaxed' : 'pkg';
  const dir = new URL(`./${build}/`, import.meta.url);
  const wasm = await import(new URL('burstccn.js', dir).href);
  await wasm.default({ module_or_path: new URL('burstccn_bg.wasm', dir) });
  return Object.assign(Object.create(null), wasm, { build, threads: 1 });
}
