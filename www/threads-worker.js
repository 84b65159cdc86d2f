// One thread of the threaded engine's pool (see threads.js): instantiates pkg-threads/ on the
// training worker's shared memory, says so, and joins the engine's thread team for good (the
// call never returns: this worker then only runs its parts of the split matrix products).
self.onmessage = async ({ data: { js, module, memory } }) => {
  try {
    const wasm = await import(js);
    await wasm.default({ module_or_path: module, memory });
    self.postMessage({ ok: true });
    wasm.threadsJoin();
  } catch (e) {
    self.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
