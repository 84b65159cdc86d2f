// One benchmark job inside a Web Worker: load a wasm build, then time GEMMs, training steps on
// real MNIST and inference, and read the wasm memory in use.
const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

async function gunzipUrl(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const stream = res.body.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function timeIt(seconds, fn) {
  fn(); // warm up
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < seconds * 1000 || calls < 2) {
    fn();
    calls += 1;
  }
  return { calls, seconds: (performance.now() - start) / 1000 };
}

self.onmessage = async (e) => {
  const job = e.data;
  try {
    const m = await import(`/${job.pkg}/burstccn.js`);
    await m.default();
    const out = { pkg: job.pkg, kernels: job.kernels, build: m.buildInfo() };
    if (job.gemm) {
      out.gemm = job.gemm.map(([kind, mm, n, k]) => ({
        kind, shape: `${mm}x${n}x${k}`, gflops: m.Bench.gemm(job.kernels, kind, mm, n, k, job.gemmMs),
      }));
    }
    if (job.train) {
      const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(FILES.map((f) => gunzipUrl(`/data/${f}.gz`)));
      const engine = new m.Engine({});
      engine.setKernels(job.kernels);
      engine.loadData(trainImages, trainLabels, testImages, testLabels);
      const batch = engine.getConfig().batch_size;
      let steps = 1;
      const t = timeIt(job.seconds, () => engine.train(steps, false));
      out.train_samples_per_sec = (t.calls * steps * batch) / t.seconds;
      const evalCount = job.evalCount;
      const ti = timeIt(job.seconds / 2, () => engine.evaluate(evalCount));
      out.inference_samples_per_sec = (ti.calls * evalCount) / ti.seconds;
      out.memory_bytes = m.Engine.memoryBytes();
      out.mnist_bytes = trainImages.length + trainLabels.length + testImages.length + testLabels.length;
      engine.free();
    }
    self.postMessage(out);
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
