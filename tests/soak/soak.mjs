// `make soak MINUTES=30`: the page trains at full speed with its views drawing for MINUTES
// minutes, in headless Chromium, served as `make demo` serves it. Every ~20 s it draws a real
// MNIST test digit on the pad and teaches it, then clears the pad; every minute it pages the
// test-digit strip and pauses and resumes (each pause scores the test subset; every epoch's end
// scores the full test set). Every minute it records:
//   - wasm memory (Engine.memoryBytes() in the training worker),
//   - the live JS heap of the page and of the worker (CDP HeapProfiler.collectGarbage, then
//     Runtime.getHeapUsage; the worker through a browser-level CDP session attached to it):
//     the lowest of the samples taken every 10 s in that minute (right after a forced GC the
//     figure still jumps between two levels ~0.8 MB apart, the young generation's churn, while
//     heap snapshots taken at both levels hold the same objects: the low level is the live heap),
//   - samples/s over that minute (the page's own sample counter),
//   - samples per CPU second of the page's Web Workers (the training worker, and the threaded
//     build's helpers if it runs): their threads' user + system time, read from /proc
//     (Chromium names them "DedicatedWorker"). Unlike samples/s, this does not move when other
//     processes take the cores, so it tells a slower engine from a busier machine.
// Prints the series as JSON (and writes test-output/soak.json). Not part of `make test`.
//
// Pass (exit code 0) when, with M5 the sample at minute 5 and R the median of the per-minute
// samples/s over minutes 6..MINUTES:
//   - memory grows by less than 5 % after minute 5, which is three checks: the wasm memory
//     and the page's whole memory (wasm + both JS heaps) stay below 1.05 × M5 at every later
//     sample, and the objects each JS heap holds (a heap snapshot of the page and of the
//     worker at minute 5 and at the end, compiled code left out) grow by less than 5 % of
//     that JS heap at minute 5. Why the JS heaps are judged by their objects: V8 keeps
//     compiling for many minutes (optimised JS, the wasm module's optimising tier), a step of
//     70–90 KB in the worker around minute 9 and 120–170 KB on the page in every run measured,
//     while no kind of object grows; that alone is 8 % of the worker's 0.85 MB heap, so a
//     bound on the raw heap figures would fail on compilation, not on a leak. The raw per-heap
//     growth is still reported (`js_heap_usage`), with the snapshots' split between objects
//     and compiled code.
//   - every per-minute samples/s of minutes 6..MINUTES lies within ±20 % of R; or, when the
//     machine was shared (load average above its core count in some minute after minute 5, so
//     wall-clock speed says more about the other processes), every per-minute samples per
//     worker CPU second lies within ±20 % of their median. The report gives both.
// MINUTES must be at least 7 (two minutes after minute 5, so the rate has a median to keep).
// The machine may be shared: other processes move samples/s; the report says the load average.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { mnistTest, digitStrokes, drawStrokes } from '../page/helpers.mjs';
import { attachToWorker, sessionSnapshot, difference, formatDifference, objectBytes } from './heapsnap.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const MINUTES = Number(arg('minutes', process.env.MINUTES || 30));
const BASELINE_MINUTE = 5;
const MEMORY_GROWTH = 0.05;
const RATE_BAND = 0.2;
const TEACH_EVERY_MS = 20_000;
const HEAP_EVERY_MS = 10_000;
// --allocations: from minute 5 on, V8's sampling heap profiler runs in the page and the worker;
// the report then lists where the objects still alive at the end were allocated (function,
// file:line, live bytes), so a growing heap can be traced to its code.
const ALLOCATIONS = process.argv.includes('--allocations');
const SAMPLING_INTERVAL_BYTES = 512;
// Heap snapshots of the page and of the worker after minutes A and B (--snapshots A,B; by
// default 5 and MINUTES, the pair the verdict judges), and what grew between them by node
// type and constructor (objects, strings, compiled code).
const SNAPSHOTS = arg('snapshots', '') ? arg('snapshots', '').split(',').map(Number) : [BASELINE_MINUTE, MINUTES];
if (!(SNAPSHOTS.length === 2 && SNAPSHOTS[0] < SNAPSHOTS[1] && SNAPSHOTS[1] <= MINUTES)) {
  console.error(`--snapshots takes two minutes A,B with A < B ≤ MINUTES (got ${arg('snapshots')})`);
  process.exit(2);
}
// The verdict's object check needs the minute-5 snapshot and one at the end.
const JUDGED_SNAPSHOTS = SNAPSHOTS[0] === BASELINE_MINUTE && SNAPSHOTS[1] === MINUTES;
if (!(MINUTES >= BASELINE_MINUTE + 2)) {
  console.error(`MINUTES must be at least ${BASELINE_MINUTE + 2} (got ${MINUTES})`);
  process.exit(2);
}
const log = (s) => process.stderr.write(`[soak] ${s}\n`);

// CPU seconds (user + system) of every Web Worker thread in this process tree (the browser
// Playwright started is a child of this process).
const TICKS_PER_SEC = 100; // USER_HZ on Linux
function workerCpuSeconds(rootPid) {
  const children = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(pid));
    } catch { /* the process ended meanwhile */ }
  }
  let ticks = 0;
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop();
    todo.push(...(children.get(pid) ?? []));
    let tasks = [];
    try { tasks = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tasks) {
      try {
        if (!/DedicatedWorker/.test(fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8'))) continue;
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
      } catch { /* the thread ended meanwhile */ }
    }
  }
  return ticks / TICKS_PER_SEC;
}
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
};

const server = spawn(process.execPath, [path.join(root, 'www/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => { const m = /http:\/\/\S+?\//.exec(String(d)); if (m) resolve(m[0].replace('localhost', '127.0.0.1')); });
  server.on('exit', (code) => reject(new Error(`server exited (${code})`)));
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
});

const errors = [];
let exitCode = 1;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(`${url}#autoplay=1`);
  await page.waitForSelector('body[data-phase="ready"]', { timeout: 120_000 });
  await page.waitForSelector('#loading', { state: 'hidden', timeout: 120_000 });
  const worker = page.workers().find((w) => /\/worker\.js$/.test(w.url()));
  if (!worker) throw new Error('no training worker');

  // JS heaps through CDP: the page's own session, and the worker's through the browser session.
  const pageCdp = await context.newCDPSession(page);
  const workerSession = await attachToWorker(browser);
  const workerCdp = workerSession.send;
  await workerCdp('Runtime.enable');

  const samplesShown = () => page.evaluate(() => Number(document.querySelector('#r-samples').textContent.replace(/,/g, '')));
  const liveHeap = async (send) => {
    await send('HeapProfiler.collectGarbage');
    return (await send('Runtime.getHeapUsage')).usedSize;
  };

  const mnist = mnistTest();
  let teaches = 0;
  let pauses = 0;
  let digit = 0;
  async function teach() {
    const i = digit++ % mnist.count;
    await drawStrokes(page, digitStrokes(mnist.image(i)));
    await page.click(`label[for="label-${mnist.label(i)}"]`);
    await page.click('#teach');
    await page.waitForFunction(() => document.querySelector('#teach-result').dataset.label !== undefined);
    await page.click('#clear'); // back to the training example in the network view
    teaches += 1;
  }
  async function evaluateNow() {
    await page.click('#strip-next');
    await page.click('#play'); // pause: the subset is scored for the weights as they are
    await page.waitForFunction(() => document.querySelector('#r-acc').dataset.samples === document.querySelector('#r-samples').textContent.replace(/,/g, ''), null, { timeout: 60_000 });
    await page.click('#play');
    pauses += 1;
  }

  // Heap samples every HEAP_EVERY_MS, beside everything else; each minute takes their lowest.
  let heaps = { page: [], worker: [] };
  let sampling = true;
  const heapLoop = (async () => {
    while (sampling) {
      heaps.page.push(await liveHeap((m) => pageCdp.send(m)));
      heaps.worker.push(await liveHeap(workerCdp));
      await new Promise((r) => setTimeout(r, HEAP_EVERY_MS));
    }
  })();

  const series = [];
  const t0 = Date.now();
  async function sample(minute) {
    if (!heaps.page.length) {
      heaps.page.push(await liveHeap((m) => pageCdp.send(m)));
      heaps.worker.push(await liveHeap(workerCdp));
    }
    const taken = heaps;
    heaps = { page: [], worker: [] };
    const s = {
      minute,
      seconds: Math.round((Date.now() - t0) / 1000),
      samples: await samplesShown(),
      wasm_bytes: await worker.evaluate(() => self.burstccnDebug.memoryBytes()),
      page_heap_bytes: Math.min(...taken.page),
      worker_heap_bytes: Math.min(...taken.worker),
      heap_samples: taken.page.length,
      epoch: Number(await page.textContent('#r-epoch')),
      accuracy: Number(await page.getAttribute('#r-acc', 'data-value')),
      load_avg: +os.loadavg()[0].toFixed(2),
      worker_cpu_sec: +workerCpuSeconds(process.pid).toFixed(2),
      teaches,
      pauses,
    };
    const prev = series.at(-1);
    s.samples_per_sec = prev ? Math.round((s.samples - prev.samples) / (s.seconds - prev.seconds)) : null;
    const cpu = prev ? s.worker_cpu_sec - prev.worker_cpu_sec : 0;
    s.samples_per_worker_cpu_sec = prev && cpu > 0 ? Math.round((s.samples - prev.samples) / cpu) : null;
    series.push(s);
    log(`minute ${minute}: ${s.samples} samples (${s.samples_per_sec ?? '–'}/s, ${s.samples_per_worker_cpu_sec ?? '–'} per worker CPU s), wasm ${(s.wasm_bytes / 2 ** 20).toFixed(1)} MiB, ` +
      `heap page ${(s.page_heap_bytes / 2 ** 20).toFixed(2)} MiB / worker ${(s.worker_heap_bytes / 2 ** 20).toFixed(2)} MiB, epoch ${s.epoch}, acc ${s.accuracy}, load ${s.load_avg}`);
  }

  // Live objects by the place they were allocated: the sampling profile's tree, each node's
  // self size added to its own frame and to the two frames that called it.
  const liveAllocations = async (send) => {
    await send('HeapProfiler.collectGarbage');
    const { profile } = await send('HeapProfiler.getSamplingProfile');
    const sites = new Map();
    const walk = (node, stack) => {
      const f = node.callFrame;
      const here = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() || '(native)'}:${f.lineNumber + 1}`;
      const chain = [here, ...stack].slice(0, 3).join(' ← ');
      if (node.selfSize) sites.set(chain, (sites.get(chain) || 0) + node.selfSize);
      for (const c of node.children) walk(c, [here, ...stack]);
    };
    walk(profile.head, []);
    return [...sites].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([site, bytes]) => ({ site, live_bytes: bytes }));
  };
  const startAllocations = async () => {
    for (const send of [(m, p) => pageCdp.send(m, p), workerCdp]) {
      await send('HeapProfiler.enable');
      await send('HeapProfiler.startSampling', { samplingInterval: SAMPLING_INTERVAL_BYTES });
    }
    log(`sampling heap profiler on (every ${SAMPLING_INTERVAL_BYTES} bytes) in the page and the worker`);
  };

  const snapshots = [];
  const takeSnapshots = async () => {
    snapshots.push({ page: await sessionSnapshot(pageCdp), worker: await workerSession.snapshot() });
  };

  await page.waitForFunction(() => document.body.classList.contains('is-running'));
  await sample(0);
  for (let minute = 1; minute <= MINUTES; minute++) {
    const due = t0 + minute * 60_000;
    while (Date.now() + TEACH_EVERY_MS < due) {
      await page.waitForTimeout(Math.max(0, Math.min(TEACH_EVERY_MS, due - Date.now() - TEACH_EVERY_MS)));
      await teach();
    }
    await evaluateNow();
    await page.waitForTimeout(Math.max(0, due - Date.now()));
    await sample(minute);
    if (ALLOCATIONS && minute === BASELINE_MINUTE) await startAllocations();
    if (SNAPSHOTS.includes(minute)) await takeSnapshots();
  }
  sampling = false;
  await heapLoop;
  // How the page looks after the run (the charts' histories, the views): to look at.
  fs.mkdirSync(path.join(root, 'test-output', 'screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-output', 'screenshots', 'soak-end.png'), fullPage: true });
  let allocations = null;
  if (ALLOCATIONS) {
    allocations = { page: await liveAllocations((m, p) => pageCdp.send(m, p)), worker: await liveAllocations(workerCdp) };
    for (const [where, list] of Object.entries(allocations)) {
      log(`live since minute ${BASELINE_MINUTE}, ${where}: ${list.slice(0, 8).map((a) => `${(a.live_bytes / 1024).toFixed(1)} KiB ${a.site}`).join('\n    ')}`);
    }
  }

  let grew = null;
  if (snapshots.length === 2) {
    grew = { page: difference(snapshots[0].page, snapshots[1].page), worker: difference(snapshots[0].worker, snapshots[1].worker) };
    for (const [where, d] of Object.entries(grew)) log(`heap snapshot, ${where}, minute ${SNAPSHOTS[0]} → ${SNAPSHOTS[1]}:\n${formatDifference({ ...d, rows: d.rows.slice(0, 15) })}`);
  }

  // The verdict, as defined at the top of this file.
  const base = series.find((s) => s.minute === BASELINE_MINUTE);
  const later = series.filter((s) => s.minute > BASELINE_MINUTE);
  const growth = (key) => {
    const worst = Math.max(...later.map((s) => s[key]));
    return { at_minute_5: base[key], max_after: worst, growth: +((worst - base[key]) / base[key]).toFixed(4) };
  };
  for (const s of series) s.all_memory_bytes = s.wasm_bytes + s.page_heap_bytes + s.worker_heap_bytes;
  const memory = { wasm: growth('wasm_bytes'), all: growth('all_memory_bytes') };
  // Raw heap figures, compiled code included: reported, not judged (see the top of this file).
  const heapUsage = { page: growth('page_heap_bytes'), worker: growth('worker_heap_bytes') };
  const objects = {};
  for (const where of grew ? ['page', 'worker'] : []) {
    // Relative to the JS heap at minute 5 (getHeapUsage), not to the snapshot's total: that
    // also counts native memory, in the worker the wasm memory's 65 MiB buffer, which would
    // hide a leak of JS objects.
    const heap = base[`${where}_heap_bytes`];
    objects[where] = {
      minutes: SNAPSHOTS,
      js_heap_bytes_at_minute_5: heap,
      snapshot_bytes_at_first: snapshots[0][where].total,
      snapshot_object_bytes_at_first: objectBytes(snapshots[0][where]),
      object_growth_bytes: grew[where].object_bytes,
      compiled_code_growth_bytes: grew[where].compiled_code_bytes,
      growth: +(grew[where].object_bytes / heap).toFixed(4),
    };
  }
  const band = (rates) => {
    const m = median(rates);
    return { median_after_minute_5: m, worst_deviation: +Math.max(...rates.map((r) => Math.abs(r - m) / m)).toFixed(4), band: RATE_BAND };
  };
  const wall = band(later.map((s) => s.samples_per_sec));
  const perCpu = band(later.map((s) => s.samples_per_worker_cpu_sec ?? 0));
  const shared = later.some((s) => s.load_avg > os.cpus().length);
  const checks = {
    memory_growth_below_5_percent: Object.values(memory).every((m) => m.growth < MEMORY_GROWTH),
    heap_objects_growth_below_5_percent: JUDGED_SNAPSHOTS && ['page', 'worker'].every((w) => objects[w] && objects[w].growth < MEMORY_GROWTH),
    samples_per_sec_within_20_percent: wall.worst_deviation <= RATE_BAND || (shared && perCpu.worst_deviation <= RATE_BAND),
    no_page_errors: errors.length === 0,
  };
  const pass = Object.values(checks).every(Boolean);
  const report = {
    minutes: MINUTES,
    machine: { cores: os.cpus().length, chromium: (await browser.version()) },
    memory,
    heap_objects: objects,
    js_heap_usage: heapUsage,
    samples_per_sec: wall,
    samples_per_worker_cpu_sec: perCpu,
    // Judged on samples per worker CPU second when the wall-clock rate left the band on a
    // machine other processes were using.
    machine_shared: shared,
    checks,
    pass,
    errors,
    series,
    ...(allocations ? { allocations_live_since_minute_5: allocations } : {}),
    ...(grew ? { [`heap_snapshot_growth_minute_${SNAPSHOTS[0]}_to_${SNAPSHOTS[1]}`]: grew } : {}),
  };
  const out = path.join(root, 'test-output', 'soak.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  log(pass ? 'PASS' : `FAIL: ${Object.entries(checks).filter(([, v]) => !v).map(([k]) => k).join(', ')}`);
  exitCode = pass ? 0 : 1;
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  await browser.close();
  server.kill();
}
process.exit(exitCode);
