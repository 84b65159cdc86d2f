// Serves the demo exactly as `make demo` does: the page from www/, the wasm builds from
// pkg/, pkg-relaxed/ and pkg-threads/, MNIST (gzipped at build time) from data/, uPlot from node_modules,
// with the headers a host should send (see SECURITY_HEADERS and the caching rules below).
// Usage: node www/serve.mjs [--port 8080] [--isolated]   (--isolated: COOP/COEP/CORP, see ISOLATION_HEADERS)
//        node www/serve.mjs --headers-file                (prints dist/_headers for static hosts)
// `--port 0` picks a free port; the first line printed names the one in use (the tests read it).
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import sirv from 'sirv';
import compression from 'compression';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The Content-Security-Policy of both pages: scripts, styles, workers, fetches only from the
 * page's own origin; WebAssembly may compile ('wasm-unsafe-eval', not 'unsafe-eval'); no inline
 * script or style anywhere (styles set from JavaScript through element.style are allowed by
 * CSP); images also from data: and blob: URLs (the favicon, canvases); no plugins, no <base>,
 * no form submissions. Framing is deliberately NOT restricted (no frame-ancestors, no
 * X-Frame-Options): lecture pages embed the demo in iframes.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Sent with every response. */
export const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
};

/**
 * Cross-origin isolation (`make demo`, `make dist`): the page may then share memory between
 * workers (SharedArrayBuffer), so it loads the threaded engine (threads.js). COOP keeps other
 * origins' windows out of its browsing context group, COEP lets it load only resources that
 * agree to it, and CORP is that agreement for our own files (same-origin: no other site may
 * embed them as subresources). Embedding the page in an iframe still works from any page
 * without these headers (it then runs the single-worker build, as it always did).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

// Caching: every response carries a validator (ETag and Last-Modified), so a second visit
// downloads nothing it already has. The page, its scripts and the wasm builds revalidate on
// each visit (`no-cache`: a 304 when unchanged; their names carry no version, so a longer
// lifetime could pair a new page with an old engine). MNIST never changes: a browser keeps it
// a week without asking. (sirv, in dev mode, sends ETag, Last-Modified and
// `Cache-Control: no-cache` and answers If-None-Match with 304: the revalidating part.)
export const DATA_CACHE = 'public, max-age=604800';

/** The `_headers` file (Netlify, Cloudflare Pages) that `make dist` puts beside the page. */
export function headersFile() {
  const lines = (h) => Object.entries(h).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  return `# Headers for a static host (Netlify / Cloudflare Pages syntax); written by \`make dist\`.\n` +
    `# No framing restriction on purpose: lecture pages embed the demo in iframes.\n` +
    `# Cross-origin isolation: the threaded engine on every core (without it: one core).\n` +
    `/*\n${lines(SECURITY_HEADERS)}\n${lines(ISOLATION_HEADERS)}\n` +
    `# MNIST never changes (everything else keeps the host's default: revalidate each visit).\n` +
    `/data/*\n${lines({ 'Cache-Control': DATA_CACHE })}\n`;
}

const opts = { dev: true, etag: true };
const mounts = [
  ['/pkg/', sirv(path.join(root, 'pkg'), opts)],
  ['/pkg-relaxed/', sirv(path.join(root, 'pkg-relaxed'), opts)],
  ['/pkg-scalar/', sirv(path.join(root, 'pkg-scalar'), opts)],
  ['/pkg-threads/', sirv(path.join(root, 'pkg-threads'), opts)],
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
      const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
      const modified = st.mtime.toUTCString();
      res.setHeader('ETag', etag);
      res.setHeader('Last-Modified', modified);
      res.setHeader('Cache-Control', DATA_CACHE);
      const tags = req.headers['if-none-match'];
      const since = Date.parse(req.headers['if-modified-since'] || '');
      if (tags ? tags.split(',').some((t) => t.trim().replace(/^W\//, '') === etag) : since >= Math.floor(st.mtimeMs / 1000) * 1000) {
        res.statusCode = 304;
        return res.end();
      }
      res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  };
}

const site = sirv(path.join(root, 'www'), { ...opts, single: false });
// Page, scripts and wasm compressed on the way (the wasm is 550 kB raw, 210 kB gzipped); the
// MNIST files are gzip already (application/gzip is not compressible, so they pass as they are).
const compress = compression();

/** The demo's request handler; `extra` adds [prefix, directory] mounts (the benchmark's page). */
export function createHandler({ isolated = false, extra = [] } = {}) {
  const all = [...extra.map(([prefix, dir]) => [prefix, sirv(dir, opts)]), ...mounts];
  return (req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (isolated) for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    compress(req, res, () => route(req, res));
  };
  function route(req, res) {
    const notFound = () => { res.statusCode = 404; res.end('not found'); };
    for (const [prefix, handler] of all) {
      if (req.url.startsWith(prefix)) {
        req.url = '/' + req.url.slice(prefix.length);
        return handler(req, res, notFound);
      }
    }
    if (req.url.startsWith('/serve.mjs')) return notFound();
    site(req, res, notFound);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes('--headers-file')) {
    process.stdout.write(headersFile());
  } else {
    const port = Number(args.includes('--port') ? args[args.indexOf('--port') + 1] : process.env.PORT || 8080);
    const server = http.createServer(createHandler({ isolated: args.includes('--isolated') }));
    server.listen(port, '127.0.0.1', () => {
      console.log(`BurstCCN demo: http://localhost:${server.address().port}/`);
    });
  }
}
