// The comparison runs in a module Web Worker (the threaded engine's caller must be allowed to
// block, as the page's training worker is).
window.compareBuilds = (job) => new Promise((resolve, reject) => {
  const worker = new Worker('./worker.js', { type: 'module' });
  worker.onmessage = (e) => { worker.terminate(); e.data.error ? reject(new Error(e.data.error)) : resolve(e.data); };
  worker.onerror = (e) => reject(new Error(e.message || 'worker failed'));
  worker.postMessage(job);
});
window.testReady = true;
