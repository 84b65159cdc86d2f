// Trains the same networks, from the same seed, on the same real MNIST digits, for a few steps,
// in the single-threaded relaxed-simd build (pkg-relaxed/) and in the threaded build
// (pkg-threads/, with `threads` threads), and reports how far apart every parameter ends up.
import { loadThreadedModule } from '/threads.js';

const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

async function gunzip(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
}

/** Every number in a snapshot's JSON (weights, biases, Y, Q, optimiser state), in order. */
function numbers(value, out = []) {
  if (typeof value === 'number') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => numbers(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => numbers(v, out));
  return out;
}

function train(wasm, config, files, steps) {
  const engine = new wasm.Engine(config);
  engine.loadData(...files);
  const losses = [];
  for (let s = 0; s < steps; s++) losses.push(engine.train(1, false).loss);
  const result = { kernel: engine.kernelName(), losses, json: engine.exportSnapshotJson(), bytes: engine.exportSnapshot() };
  engine.free();
  return result;
}

self.onmessage = async ({ data: { threads, steps } }) => {
  try {
    const single = await import('/pkg-relaxed/burstccn.js');
    await single.default({ module_or_path: '/pkg-relaxed/burstccn_bg.wasm' });
    const threaded = await loadThreadedModule(threads);
    const files = await Promise.all(FILES.map((f) => gunzip(`/data/${f}.gz`)));
    const out = { threadsCount: threaded.threadsCount(), crossOriginIsolated: self.crossOriginIsolated, models: [] };
    for (const name of ['mlp', 'mnist-conv-page']) {
      const config = name === 'mlp' ? {} : single.presetConfig(name);
      const blocksBefore = threaded.threadsWorkerBlocks();
      const a = train(single, config, files, steps);
      const b = train(threaded, config, files, steps);
      const x = numbers(JSON.parse(a.json));
      const y = numbers(JSON.parse(b.json));
      let maxDiff = x.length === y.length ? 0 : Infinity;
      for (let i = 0; i < Math.min(x.length, y.length); i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
      const identical = a.bytes.length === b.bytes.length && a.bytes.every((v, i) => v === b.bytes[i]);
      out.models.push({
        name, singleKernel: a.kernel, threadedKernel: b.kernel, parameters: x.length, maxDiff, identical,
        singleLosses: a.losses, threadedLosses: b.losses, workerBlocks: threaded.threadsWorkerBlocks() - blocksBefore,
      });
    }
    self.postMessage(out);
  } catch (e) {
    self.postMessage({ error: String((e && e.stack) || e) });
  }
};
