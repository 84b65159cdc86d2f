// Serves the demo exactly as `make demo` does: the page from www/, the wasm builds from
// pkg/ and pkg-relaxed/, MNIST (gzipped at build time) from data/, uPlot from node_modules.
// Usage: node www/serve.mjs [--port 8080] [--isolated]   (--isolated adds COOP/COEP headers)
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const port = Number(args.includes('--port') ? args[args.indexOf('--port') + 1] : process.env.PORT || 8080);
const isolated = args.includes('--isolated');

const opts = { dev: true, etag: true };
const mounts = [
  ['/pkg/', sirv(path.join(root, 'pkg'), opts)],
  ['/pkg-relaxed/', sirv(path.join(root, 'pkg-relaxed'), opts)],
  ['/pkg-scalar/', sirv(path.join(root, 'pkg-scalar'), opts)],
  ['/data/', sirv(path.join(root, 'target', 'www-data'), opts)],
  ['/vendor/uplot/', sirv(path.join(root, 'node_modules', 'uplot', 'dist'), opts)],
];
const site = sirv(path.join(root, 'www'), { ...opts, single: false });

const server = http.createServer((req, res) => {
  if (isolated) {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  }
  const notFound = () => { res.statusCode = 404; res.end('not found'); };
  for (const [prefix, handler] of mounts) {
    if (req.url.startsWith(prefix)) {
      req.url = '/' + req.url.slice(prefix.length);
      return handler(req, res, notFound);
    }
  }
  if (req.url.startsWith('/serve.mjs')) return notFound();
  site(req, res, notFound);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`BurstCCN demo: http://localhost:${port}/`);
});
