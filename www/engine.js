// Loading the wasm engine, for both pages' workers: the relaxed-simd build where the browser
// validates it (fused multiply-add), plain simd128 elsewhere. Paths are relative to this file,
// so the site also works under a sub-path of a static host.
import { relaxedSimd } from './vendor/wasm-feature-detect/esm/index.js';

/** The initialised wasm-bindgen module of the best build this browser runs. */
export async function loadEngineModule() {
  const dir = new URL((await relaxedSimd()) ? './pkg-relaxed/' : './pkg/', import.meta.url);
  const wasm = await import(new URL('burstccn.js', dir).href);
  await wasm.default({ module_or_path: new URL('burstccn_bg.wasm', dir) });
  return wasm;
}
