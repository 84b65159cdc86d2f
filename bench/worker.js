// One wasm build inside a Web Worker: `init` loads it (and, for training, real MNIST), then
// `gemm` / `train` / `infer` jobs time the kernels, training steps and inference. With
// `threads`, the threaded build with that many threads, loaded as the page loads it (threads.js).
const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
let m = null;
let engine = null;
let convEngine = null;
let kernels = null;

async function gunzipUrl(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
}

function rate(seconds, fn) {
  fn(); // warm up
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < seconds * 1000 || calls < 2) {
    fn();
    calls += 1;
  }
  return calls / ((performance.now() - start) / 1000);
}

async function handle(msg) {
  switch (msg.cmd) {
    case 'init': {
      if (msg.threads) {
        m = await (await import('/threads.js')).loadThreadedModule(msg.threads);
      } else {
        m = await import(`/${msg.pkg}/burstccn.js`);
        await m.default();
      }
      // 'best': the build's fastest kernels (split across the team when it has several threads).
      kernels = msg.kernels === 'best' ? m.buildInfo().kernels : msg.kernels;
      let mnist_bytes = 0;
      let mlp_memory = 0;
      if (msg.data) {
        const files = await Promise.all(FILES.map((f) => gunzipUrl(`/data/${f}.gz`)));
        mnist_bytes = files.reduce((a, f) => a + f.length, 0);
        engine = new m.Engine({});
        engine.setKernels(kernels);
        engine.loadData(...files);
        engine.train(2, false);
        mlp_memory = m.Engine.memoryBytes();
        // The page's MNIST conv net (mnist-conv-page) on the same digits, in its own engine.
        convEngine = new m.Engine(m.presetConfig('mnist-conv-page'));
        convEngine.setKernels(kernels);
        convEngine.loadData(...files);
        convEngine.train(2, false);
      }
      // memory_bytes: the MLP with MNIST (before the conv engine and its copy of MNIST exist).
      return { build: m.buildInfo(), kernels, threads: m.threadsCount ? m.threadsCount() : 1, mnist_bytes, memory_bytes: mlp_memory || m.Engine.memoryBytes(), memory_with_conv_bytes: m.Engine.memoryBytes() };
    }
    case 'gemm':
      return { gemm: msg.shapes.map(([kind, mm, n, k]) => m.Bench.gemm(kernels, kind, mm, n, k, msg.ms)) };
    case 'train': {
      const batch = engine.getConfig().batch_size;
      return { samples_per_sec: rate(msg.seconds, () => engine.train(1, false)) * batch };
    }
    case 'train-conv': {
      const batch = convEngine.getConfig().batch_size;
      return { samples_per_sec: rate(msg.seconds, () => convEngine.train(1, false)) * batch };
    }
    case 'infer':
      return { samples_per_sec: rate(msg.seconds, () => engine.evaluate(msg.count)) * msg.count };
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
}

self.onmessage = async (e) => {
  try {
    self.postMessage(await handle(e.data));
  } catch (err) {
    self.postMessage({ error: String((err && err.stack) || err) });
  }
};
