// Serves the demo exactly as `make demo` does: the page from www/, the wasm builds from
// pkg/ and pkg-relaxed/, MNIST (gzipped at build time) from data/, uPlot from node_modules.
// Usage: node www/serve.mjs [--port 8080] [--isolated]   (--isolated adds COOP/COEP headers)
// `--port 0` picks a free port; the first line printed names the one in use (the tests read it).
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import sirv from 'sirv';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const opts = { dev: true, etag: true };
const mounts = [
  ['/pkg/', sirv(path.join(root, 'pkg'), opts)],
  ['/pkg-relaxed/', sirv(path.join(root, 'pkg-relaxed'), opts)],
  ['/pkg-scalar/', sirv(path.join(root, 'pkg-scalar'), opts)],
  ['/data/', serveData(path.join(root, 'target', 'www-data'))],
  ['/vendor/uplot/', sirv(path.join(root, 'node_modules', 'uplot', 'dist'), opts)],
  ['/vendor/wasm-feature-detect/', sirv(path.join(root, 'node_modules', 'wasm-feature-detect', 'dist'), opts)],
];
// MNIST as stored (.gz): sent as application/gzip *without* Content-Encoding (sirv would add
// `Content-Encoding: gzip`), so the page sees real byte counts for its progress bar and
// decompresses with DecompressionStream, as on a plain static host.
function serveData(dir) {
  return (req, res, next) => {
    const name = path.basename(decodeURIComponent(req.url.split('?')[0]));
    const file = path.join(dir, name);
    fs.stat(file, (err, st) => {
      if (err || !st.isFile() || !name.endsWith('.gz')) return next();
      res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': st.size, 'Cache-Control': 'no-cache' });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  };
}

const site = sirv(path.join(root, 'www'), { ...opts, single: false });

/** The demo's request handler; `extra` adds [prefix, directory] mounts (the benchmark's page). */
export function createHandler({ isolated = false, extra = [] } = {}) {
  const all = [...extra.map(([prefix, dir]) => [prefix, sirv(dir, opts)]), ...mounts];
  return (req, res) => {
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const notFound = () => { res.statusCode = 404; res.end('not found'); };
    for (const [prefix, handler] of all) {
      if (req.url.startsWith(prefix)) {
        req.url = '/' + req.url.slice(prefix.length);
        return handler(req, res, notFound);
      }
    }
    if (req.url.startsWith('/serve.mjs')) return notFound();
    site(req, res, notFound);
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const port = Number(args.includes('--port') ? args[args.indexOf('--port') + 1] : process.env.PORT || 8080);
  const server = http.createServer(createHandler({ isolated: args.includes('--isolated') }));
  server.listen(port, '127.0.0.1', () => {
    console.log(`BurstCCN demo: http://localhost:${server.address().port}/`);
  });
}
