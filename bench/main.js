// The benchmark page's script (a file, not inline: the server's Content-Security-Policy allows
// no inline script).
// One module Web Worker per wasm build (as the page trains), kept alive across rounds so the
// variants can be measured in turn, round after round.
const workers = new Map();
let nextId = 0;
function call(worker, msg) {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
    worker.onerror = (e) => reject(new Error(e.message || 'worker failed'));
    worker.postMessage(msg);
  });
}
window.openVariant = async (init) => {
  const worker = new Worker('./worker.js', { type: 'module' });
  const id = nextId++;
  workers.set(id, worker);
  const info = await call(worker, { cmd: 'init', ...init });
  return { id, info };
};
window.measure = (id, job) => call(workers.get(id), job);
window.benchReady = true;
