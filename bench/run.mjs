// `make bench`: one JSON summary comparing, on this machine in one run, the wasm builds in
// headless Chromium (scalar wasm, simd128, relaxed-simd; each in a Web Worker as the page runs
// it; and the threaded build at 1, 2 and all threads, the bench page being cross-origin
// isolated as `make demo` serves it) and the native engine: GEMM GFLOP/s for the model's shapes, training and inference
// samples/s for 784-500-500-500-10 at batch 32 and for the MNIST conv net, module sizes and wasm
// memory in use.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createHandler } from '../www/serve.mjs';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Environment knobs for quick experiments: BENCH_SECONDS, BENCH_VARIANTS (comma-separated
// names below), BENCH_TRAIN=0 (GEMMs only), BENCH_NATIVE=0 (skip the native figures).
const seconds = Number(process.env.BENCH_SECONDS || 3);
const wanted = process.env.BENCH_VARIANTS ? process.env.BENCH_VARIANTS.split(',') : null;
const withTrain = process.env.BENCH_TRAIN !== '0';
const withNative = process.env.BENCH_NATIVE !== '0';
const CEILING = 50; // GFLOP/s per core for f32x4 multiply-add in this Chromium (see the issue)

// Isolated (COOP/COEP), as `make demo` serves the page: the threaded build needs it.
// The 1-minute load average before and after: thread scaling means little on a busy machine.
const loadBefore = (await import('node:os')).loadavg()[0];
const server = http.createServer(createHandler({ isolated: true, extra: [['/bench/', path.join(root, 'bench')]] }));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
});
const page = await browser.newPage();
page.on('console', (msg) => { if (msg.type() === 'error') console.error('[page]', msg.text()); });
await page.goto(`${base}/bench/index.html`);
await page.waitForFunction(() => window.benchReady);

const shapes = [['nt', 32, 500, 784], ['nn', 32, 784, 500], ['tn', 500, 784, 32], ['nt', 32, 500, 500], ['nn', 32, 500, 500], ['tn', 500, 500, 32]];
// The threaded build (relaxed-simd kernels) with a team of 1 (no pool: what shared memory and
// atomics alone cost), 2 and every core the browser reports (when that is more than 2).
const cores = await page.evaluate(() => navigator.hardwareConcurrency);
const threadCounts = [...new Set([1, 2, Math.min(8, cores)])];
const variants = [
  { name: 'scalar wasm', pkg: 'pkg-scalar', kernels: 'scalar', slow: true },
  { name: 'simd128', pkg: 'pkg', kernels: 'simd128' },
  { name: 'relaxed-simd', pkg: 'pkg-relaxed', kernels: 'relaxed-simd' },
  ...threadCounts.map((n) => ({ name: `threads x${n}`, pkg: 'pkg-threads', kernels: 'best', threads: n })),
].filter((v) => !wanted || wanted.includes(v.name));
const rounds = Number(process.env.BENCH_ROUNDS || 3);
const median = (a) => { const s = [...a].sort((x, y) => x - y); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };

// Open every variant once (module, data, engine), then measure them in turn, round after round
// (alternating the order), and report medians: the shared machine's slow spells then hit all
// variants alike instead of deciding the comparison.
for (const v of variants) {
  process.stderr.write(`[bench] loading ${v.name}…\n`);
  const { id, info } = await page.evaluate((init) => window.openVariant(init), { pkg: v.pkg, kernels: v.kernels, threads: v.threads, data: withTrain });
  Object.assign(v, { id, info, gemm: shapes.map(() => []), train: [], trainConv: [], infer: [], memory: info.memory_bytes });
}
for (let r = 0; r < rounds; r++) {
  process.stderr.write(`[bench] round ${r + 1}/${rounds}\n`);
  for (const v of r % 2 ? [...variants].reverse() : variants) {
    const g = await page.evaluate(([id, job]) => window.measure(id, job), [v.id, { cmd: 'gemm', shapes, ms: v.slow ? 300 : 200 }]);
    g.gemm.forEach((x, i) => v.gemm[i].push(x));
    if (withTrain) {
      const secs = (v.slow ? Math.min(seconds, 2) : seconds) / rounds;
      const t = await page.evaluate(([id, job]) => window.measure(id, job), [v.id, { cmd: 'train', seconds: secs }]);
      v.train.push(t.samples_per_sec);
      const inf = await page.evaluate(([id, job]) => window.measure(id, job), [v.id, { cmd: 'infer', seconds: secs / 2, count: v.slow ? 250 : 1000 }]);
      v.infer.push(inf.samples_per_sec);
      const conv = await page.evaluate(([id, job]) => window.measure(id, job), [v.id, { cmd: 'train-conv', seconds: secs }]);
      v.trainConv.push(conv.samples_per_sec);
    }
  }
}
const results = variants.map((v) => {
  const wasm = fs.readFileSync(path.join(root, v.pkg, 'burstccn_bg.wasm'));
  return {
    variant: v.name,
    kernels: v.info.kernels || v.kernels,
    threads: v.info.threads ?? 1,
    gemm: shapes.map(([kind, mm, n, k], i) => {
      const gflops = median(v.gemm[i]);
      return { kind, shape: `${mm}x${n}x${k}`, gflops: +gflops.toFixed(2), range: [+Math.min(...v.gemm[i]).toFixed(1), +Math.max(...v.gemm[i]).toFixed(1)], fraction_of_ceiling: +(gflops / CEILING).toFixed(3) };
    }),
    train_samples_per_sec: withTrain ? Math.round(median(v.train)) : null,
    train_samples_per_sec_range: withTrain ? [Math.round(Math.min(...v.train)), Math.round(Math.max(...v.train))] : null,
    inference_samples_per_sec: withTrain ? Math.round(median(v.infer)) : null,
    conv_train_samples_per_sec: withTrain ? Math.round(median(v.trainConv)) : null,
    conv_train_samples_per_sec_range: withTrain ? [Math.round(Math.min(...v.trainConv)), Math.round(Math.max(...v.trainConv))] : null,
    wasm_bytes: wasm.length,
    wasm_gzip_bytes: zlib.gzipSync(wasm, { level: 9 }).length,
    memory_mib: withTrain ? +(v.memory / 2 ** 20).toFixed(1) : null,
    memory_with_conv_engine_mib: withTrain ? +(v.info.memory_with_conv_bytes / 2 ** 20).toFixed(1) : null,
    mnist_mib: withTrain ? +(v.info.mnist_bytes / 2 ** 20).toFixed(1) : null,
  };
});
await browser.close();
server.close();

// Native figures from the same machine, same run.
let native = { results: [], fma_peak_gflops_per_core: null };
if (withNative) {
  process.stderr.write('[bench] native…\n');
  const out = execFileSync(path.join(root, 'target', 'release', 'burstccn'), ['bench', '--seconds', String(Math.max(1, seconds / 2))], { encoding: 'utf8' });
  native = JSON.parse(out);
}
const find = (name) => results.find((r) => r.variant === name);
const single = variants.find((v) => v.name === 'relaxed-simd');

const summary = {
  machine: { load_average: [+loadBefore.toFixed(1), +(await import('node:os')).loadavg()[0].toFixed(1)], cores: (await import('node:os')).cpus().length, chromium: execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim() },
  network: '784-500-500-500-10, batch 32, BurstCCN rule, Q learning on',
  conv_network: 'mnist-conv-page: 1x28x28-c32k5s2-c64k3s2-f500-10, batch 16, BurstCCN rule (train samples/s as conv_train_samples_per_sec)',
  rounds,
  wasm: results,
  native: native.results.map((r) => ({ kernels: r.kernels, threads: r.threads, train_samples_per_sec: r.train_samples_per_sec, inference_samples_per_sec: r.inference_samples_per_sec, gemm: r.gemm, fraction_of_peak: r.fraction_of_peak })),
  native_fma_peak_gflops_per_core: native.fma_peak_gflops_per_core,
  native_avx512_fma_peak_gflops_per_core: native.avx512_fma_peak_gflops_per_core ?? null,
  memory_goal_mib: 128,
  // Threaded against the single worker (relaxed-simd), MLP and conv net training: the ratio of
  // the medians, and the median of the ratios within each round (the two measured minutes
  // apart at most, so a busy machine's slow spells cancel out better).
  threaded_speedup_over_relaxed_simd: single && withTrain
    ? Object.fromEntries(variants.filter((v) => v.threads).map((v) => [v.name, {
      mlp: +(median(v.train) / median(single.train)).toFixed(2),
      conv: +(median(v.trainConv) / median(single.trainConv)).toFixed(2),
      mlp_per_round: +median(v.train.map((x, i) => x / single.train[i])).toFixed(2),
      conv_per_round: +median(v.trainConv.map((x, i) => x / single.trainConv[i])).toFixed(2),
    }])) : null,
  simd128_speedup_over_scalar_wasm: find('scalar wasm') && find('simd128') && withTrain
    ? +(find('simd128').train_samples_per_sec / find('scalar wasm').train_samples_per_sec).toFixed(2) : null,
};
console.log(JSON.stringify(summary, null, 2));
