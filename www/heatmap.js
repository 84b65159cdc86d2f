// The network view: for one example, every hidden layer's own quantities as heatmaps, one pixel
// per unit — BurstCCN's event rate e, burst probability (as p − p_b), burst rate b = p·e and
// apical potential u; Burstprop's baseline and teacher burst probabilities; EDN's interneuron
// rates and apical error. A conv layer shows its feature maps as small multiples (one tile per
// channel, paged when there are many), its first layer's kernels as small images; the input
// (a digit, or a colour image); the output units with the teaching signal. Plus the legend.
import { EVENT_MAP, BURST_MAP, DIVERGING_MAP, INK_MAP, gradient } from './colors.js';

const minus = (a, b) => {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
};
const minusConst = (a, c) => {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - c;
  return out;
};

const E = { key: 'e', name: 'event rate', symbol: 'e', map: EVENT_MAP, diverging: false, value: (L) => L.e, help: 'bursts and single spikes alike: the forward signal' };

/**
 * The quantities of a hidden layer, per model, in the paper's words. `value(L, pb)` reads them
 * from the worker's copy of a layer; `above`: one value per unit of the layer above.
 */
export const QUANTITY_SETS = {
  burstccn: [
    E,
    { key: 'dp', name: 'burst probability', symbol: 'p − p<sub>b</sub>', map: DIVERGING_MAP, diverging: true, value: (L, pb) => minusConst(L.p, pb), help: 'fraction of events that are bursts, relative to its baseline: the error' },
    { key: 'b', name: 'burst rate', symbol: 'b = p·e', map: BURST_MAP, diverging: false, value: (L) => L.b, help: 'sent back down through the facilitating connections Y' },
    { key: 'u', name: 'apical potential', symbol: 'u', map: DIVERGING_MAP, diverging: true, value: (L) => L.u, help: 'bursts from above minus events from above (Y and Q): sets p' },
  ],
  burstprop: [
    E,
    { key: 'pbar', name: 'baseline burst prob.', symbol: 'p̄, no teacher', map: BURST_MAP, diverging: false, value: (L) => L.pbar, help: 'the burst probability the sweep without the teacher gives' },
    { key: 'p', name: 'teacher burst prob.', symbol: 'p, teacher', map: BURST_MAP, diverging: false, value: (L) => L.p, help: 'the burst probability the sweep with the teacher gives' },
    { key: 'dpp', name: 'teaching signal', symbol: 'p − p̄', map: DIVERGING_MAP, diverging: true, value: (L) => minus(L.p, L.pbar), help: 'the two sweeps’ difference: every synapse changes by (p − p̄)·e·input' },
  ],
  edn: [
    { ...E, name: 'rate', symbol: 'r = σ(v)', help: 'the pyramidal units’ rate: the forward signal' },
    { key: 'ri', name: 'interneuron rate', symbol: 'r<sup>I</sup>', map: EVENT_MAP, diverging: false, above: true, value: (L) => L.ri, help: 'one interneuron per unit of the layer above, predicting it from below' },
    { key: 'a', name: 'apical error', symbol: 'a', map: DIVERGING_MAP, diverging: true, value: (L) => L.u, help: 'top-down input minus the interneurons’ prediction of it: the error' },
    { key: 'dn', name: 'nudge', symbol: 'r<sup>t</sup> − r', map: DIVERGING_MAP, diverging: true, value: (L) => minus(L.et, L.e), help: 'how far the apical error moves the rate: every synapse changes by it' },
  ],
};

/** The output layer's teaching signal, per model: bursts above baseline, or EDN's nudge. */
const OUTPUT_SIGNAL = {
  burstccn: { value: (L, pb) => minusConst(L.p, pb), title: 'burst probability p − p_b: the teaching signal' },
  burstprop: { value: (L, pb) => minusConst(L.p, pb), title: 'teacher burst probability p − p̄ (p̄ = p_b at the output): the teaching signal' },
  edn: { value: (L) => minus(L.et, L.e), title: 'nudged rate rᵗ − r: the teaching signal' },
};

/** Grid of a layer of n units: a little wider than tall. */
export function gridShape(n) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n * 1.25)));
  return { cols, rows: Math.max(1, Math.ceil(n / cols)) };
}

/**
 * Feature maps shown at once: the most of 64, 32, 16, 8 whose tiles hold at most 6,400 pixels
 * (all 32 maps of 12 × 12, or 64 of 5 × 5); more are paged. Tiles 8 to a row (4 for 16 or fewer).
 */
export function tileLayout(channels, height, width) {
  let page = 8;
  for (const p of [64, 32, 16]) {
    if (p * height * width <= 6400) { page = p; break; }
  }
  page = Math.min(page, channels);
  const cols = page <= 16 ? Math.min(4, page) : 8;
  const rows = Math.ceil(page / cols);
  return { page, cols, rows, canvasWidth: cols * (width + 1) - 1, canvasHeight: rows * (height + 1) - 1 };
}

const EMPTY = [238, 241, 245];

/** ImageData of a canvas's size, kept with the canvas (no new buffer per frame). */
function imageOf(canvas) {
  const ctx = canvas.getContext('2d');
  if (!canvas.cachedImage || canvas.cachedImage.width !== canvas.width || canvas.cachedImage.height !== canvas.height) {
    canvas.cachedImage = ctx.createImageData(canvas.width, canvas.height);
  }
  return { ctx, img: canvas.cachedImage };
}

/** Paint values into a canvas of one pixel per unit; `norm(x)` maps a value to [0, 1]. */
function paint(canvas, values, map, norm) {
  const { ctx, img } = imageOf(canvas);
  const { width, height } = canvas;
  const d = img.data;
  for (let i = 0; i < width * height; i++) {
    let r, g, b;
    if (i < values.length && Number.isFinite(values[i])) {
      const j = Math.max(0, Math.min(255, Math.round(norm(values[i]) * 255))) * 3;
      r = map[j]; g = map[j + 1]; b = map[j + 2];
    } else {
      [r, g, b] = EMPTY;
    }
    d[i * 4] = r; d[i * 4 + 1] = g; d[i * 4 + 2] = b; d[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * Paint feature maps `first .. first + page` of a conv layer's units (`values`: positions ×
 * channels, channel fastest, as the engine holds them) as tiles `cols` to a row, one pixel per
 * unit, one pixel of gap. A value v gets colour map[(v − lo) / (hi − lo)] (clipped). The
 * biggest views paint tens of thousands of pixels a frame: no call per pixel.
 */
function paintTiles(canvas, values, { channels, height, width }, { first, cols }, map, lo, hi) {
  const { ctx, img } = imageOf(canvas);
  const d = img.data;
  const W = canvas.width;
  new Uint32Array(d.buffer).fill(0xffffffff); // the gaps: white
  const tiles = Math.min(canvas.tiles, channels - first);
  const k = 255 / (hi - lo);
  for (let t = 0; t < tiles; t++) {
    const c = first + t;
    const x0 = (t % cols) * (width + 1);
    const y0 = Math.floor(t / cols) * (height + 1);
    for (let y = 0; y < height; y++) {
      let o = ((y0 + y) * W + x0) * 4;
      let i = y * width * channels + c;
      for (let x = 0; x < width; x++, o += 4, i += channels) {
        const v = values[i];
        if (v - v === 0) { // finite
          const f = (v - lo) * k + 0.5;
          const j = (f <= 0 ? 0 : f >= 255 ? 255 : f | 0) * 3;
          d[o] = map[j]; d[o + 1] = map[j + 1]; d[o + 2] = map[j + 2];
        } else {
          d[o] = EMPTY[0]; d[o + 1] = EMPTY[1]; d[o + 2] = EMPTY[2];
        }
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Draw a 28×28 digit (bytes 0–255 or floats 0–1) as ink on paper. */
export function drawDigit(canvas, pixels, side = 28) {
  if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
  const scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
  paint(canvas, pixels, INK_MAP, (x) => x * scale);
}

/**
 * Draw a colour image: `planes` = CIFAR-10's bytes (red, green, blue planes, 32 × 32 each), or
 * `hwc` = the network's input (channel fastest), normalised by `mean`/`std` (undone here).
 */
export function drawColour(canvas, { planes = null, hwc = null, mean = [0, 0, 0], std = [1, 1, 1] }, side = 32) {
  if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
  const { ctx, img } = imageOf(canvas);
  const d = img.data;
  const area = side * side;
  for (let i = 0; i < area; i++) {
    for (let c = 0; c < 3; c++) {
      d[i * 4 + c] = planes ? planes[c * area + i] : Math.max(0, Math.min(255, Math.round((hwc[i * 3 + c] * std[c] + mean[c]) * 255)));
    }
    d[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * A symmetric colour scale that follows the data but does not flicker (jumps up, decays
 * slowly). It spans the 95th percentile of |x|: p − p_b is heavy-tailed (units with a low
 * event rate swing p widely), and the max would wash out every other unit; the few beyond it
 * show at full colour.
 */
/** Values a scale's percentile is taken from, at most (a big conv layer is sampled evenly). */
const SCALE_SAMPLE = 2048;

class SymmetricScale {
  constructor() { this.value = 0; this.abs = new Float32Array(0); }
  update(values) {
    const step = Math.max(1, Math.floor(values.length / SCALE_SAMPLE));
    const size = Math.ceil(values.length / step);
    if (this.abs.length !== size) this.abs = new Float32Array(size);
    let n = 0;
    for (let i = 0; i < values.length; i += step) {
      const x = values[i];
      if (Number.isFinite(x)) this.abs[n++] = Math.abs(x);
    }
    const abs = this.abs.subarray(0, n).sort();
    const m = n ? abs[Math.min(n - 1, Math.floor(n * 0.95))] : 0;
    this.value = Math.max(m, this.value * 0.85, 1e-6);
    return this.value;
  }
}

export function formatScale(s) {
  if (s >= 0.1) return s.toFixed(2);
  if (s >= 0.001) return s.toFixed(3);
  return s.toExponential(1);
}

/** Output units (digits 0–9 or class names): event rate as a bar, the teaching signal as a diverging bar. */
export class OutputBars {
  constructor(root, { burst = true, ghost = false } = {}) {
    this.root = root;
    this.burst = burst;
    root.classList.add('outbars');
    root.setAttribute('role', 'list');
    this.ghost = ghost;
    this.scale = new SymmetricScale();
    this.signalTitle = 'burst probability p − p_b: the teaching signal';
    this.setClasses(Array.from({ length: 10 }, (_, d) => String(d)));
  }

  /** The names of the output units (digits, or CIFAR-10's classes). */
  setClasses(names) {
    if (this.names && this.names.join() === names.join()) return;
    this.names = [...names];
    const root = this.root;
    root.classList.toggle('named', names.some((n) => n.length > 1));
    root.replaceChildren();
    this.rows = [];
    names.forEach((name, d) => {
      const row = document.createElement('div');
      row.className = 'ob-row';
      row.setAttribute('role', 'listitem');
      row.innerHTML = '<span class="ob-digit"></span>' +
        '<span class="ob-bar" title="event rate e"><i class="ob-ghost" hidden></i><i class="ob-fill"></i></span>' +
        '<span class="ob-val">–</span>' +
        (this.burst ? `<span class="ob-dp" title="${this.signalTitle}"><i></i></span>` : '');
      row.querySelector('.ob-digit').textContent = name;
      row.dataset.unit = String(d);
      root.append(row);
      this.rows.push({
        row,
        fill: row.querySelector('.ob-fill'),
        ghostEl: row.querySelector('.ob-ghost'),
        val: row.querySelector('.ob-val'),
        dp: row.querySelector('.ob-dp i'),
      });
    });
  }

  /** e: event rates; dp: the teaching signal per unit (or null); target: the teacher's label or −1; before: ghost values. */
  update({ e, dp = null, target = -1, before = null }) {
    const n = this.rows.length;
    if (!e || e.length < n) return this.clear();
    let best = 0;
    for (let d = 1; d < n; d++) if (e[d] > e[best]) best = d;
    const s = dp ? this.scale.update(dp) : 1;
    this.rows.forEach((r, d) => {
      r.fill.style.width = `${(Math.max(0, Math.min(1, e[d])) * 100).toFixed(1)}%`;
      r.val.textContent = e[d].toFixed(2);
      r.row.dataset.e = e[d].toFixed(4);
      r.row.classList.toggle('is-pred', d === best);
      r.row.classList.toggle('is-target', d === target);
      // The ghost marks the value before a teaching step, so the move is visible.
      r.ghostEl.hidden = !before;
      if (before) r.ghostEl.style.width = `${(Math.max(0, Math.min(1, before[d])) * 100).toFixed(1)}%`;
      if (r.dp) {
        const v = dp ? Math.max(-1, Math.min(1, dp[d] / s)) : 0;
        // Centre at 50 %: right (orange) = more bursts than baseline, left (purple) = fewer.
        r.dp.style.left = v >= 0 ? '50%' : `${(50 + v * 50).toFixed(1)}%`;
        r.dp.style.width = `${(Math.abs(v) * 50).toFixed(1)}%`;
        r.dp.className = v >= 0 ? 'up' : 'down';
        r.dp.parentElement.title = dp ? `${this.signalTitle}: ${dp[d].toFixed(4)}` : 'no teacher: no teaching signal';
      }
    });
    this.root.dataset.prediction = String(best);
    this.root.dataset.target = String(target);
  }

  clear() {
    for (const r of this.rows) {
      r.fill.style.width = '0';
      r.ghostEl.hidden = true;
      r.val.textContent = '–';
      r.row.classList.remove('is-pred', 'is-target');
      if (r.dp) r.dp.style.width = '0';
    }
    delete this.root.dataset.prediction;
  }
}

/** The sizes of a layer shape from the engine (`layerShape`): units, and a conv layer's maps. */
const unitsOf = (l) => (l.kind === 'conv' ? l.channels * l.height * l.width : l.units);

/**
 * The whole network for one example: input, hidden layers × their quantities, output.
 * `setShape({model, layers, data})` takes what the worker reports of a network (engine
 * layerShape of every layer, dataInfo); `update(activity, pb)` draws one example.
 */
export class NetworkView {
  constructor(root) {
    this.root = root;
    this.desc = null;
    this.transposed = false;
    this.last = null;
    this.showKernels = true;
    // Wide: layers are columns (input left, output right). Narrow (a phone): layers are rows.
    // The width below which it turns is the CSS property --transpose-below (px; an embed that
    // must fit a short frame keeps layers as columns).
    new ResizeObserver(() => {
      const set = Number.parseFloat(getComputedStyle(root).getPropertyValue('--transpose-below'));
      const below = Number.isFinite(set) ? set : 600;
      const narrow = root.clientWidth > 0 && root.clientWidth < below;
      if (narrow !== this.transposed) {
        this.transposed = narrow;
        if (this.grid) this.build();
      }
    }).observe(root);
  }

  /** Build the grid for a network ({model, layers: [layerShape], data: {input_shape, classes}}). */
  setShape(desc) {
    const key = JSON.stringify([desc.model, desc.layers, desc.data.input_shape, desc.data.classes]);
    if (this.grid && key === this.key) return;
    this.key = key;
    this.desc = desc;
    this.quantities = QUANTITY_SETS[desc.model] ?? QUANTITY_SETS.burstccn;
    this.hidden = desc.layers.slice(0, -1);
    this.scales = this.hidden.map(() => Object.fromEntries(this.quantities.filter((q) => q.diverging).map((q) => [q.key, new SymmetricScale()])));
    this.kernelScale = new SymmetricScale();
    // First feature map shown, per conv layer (paging).
    this.first = this.hidden.map(() => 0);
    this.last = null;
    this.build();
  }

  /** Show or hide the first layer's kernels (the `kernels` panel). */
  setKernelsShown(shown) {
    if (shown === this.showKernels) return;
    this.showKernels = shown;
    if (this.grid) this.build();
  }

  build() {
    const hidden = this.hidden;
    const Q = this.quantities;
    const H = hidden.length;
    const T = this.transposed;
    const conv = hidden.some((l) => l.kind === 'conv');
    const kernels = this.showKernels && hidden[0]?.kind === 'conv';
    const [channels, inH, inW] = this.desc.data.input_shape;
    const classes = this.desc.data.classes;
    const grid = document.createElement('div');
    grid.className = `net-grid${T ? ' transposed' : ''}${conv ? ' has-conv' : ''}${kernels ? ' has-kernels' : ''}`;
    grid.dataset.model = this.desc.model;
    // Maps are capped in size so the whole network fits a 1280×720 projector screen; the caps
    // are CSS properties (style.css), so an embed can scale the maps to the height it has. Conv
    // layers' columns take the width their tiles need at the rows' height (--conv-h).
    // (They may shrink, keeping their aspect, when the frame is narrow: an embed.)
    // A conv column's share of the room left is its tiles' natural width.
    const column = (l) => (l.kind === 'conv' ? `minmax(min-content, ${tileLayout(l.channels, l.height, l.width).canvasWidth / tileLayout(l.channels, l.height, l.width).canvasHeight}fr)` : 'minmax(var(--map-min, 60px), var(--map-max, 108px))');
    const named = classes.some((n) => n.length > 1);
    grid.style.gridTemplateColumns = T
      ? `auto repeat(${Q.length}, minmax(0, 1fr))${kernels ? ' minmax(0, 1fr)' : ''}`
      : `auto minmax(var(--input-min, 56px), var(--input-max, 100px)) ${hidden.map(column).join(' ')} ` +
        `minmax(var(--output-min, ${named ? 190 : 140}px), var(--output-max, ${named ? 270 : 230}px))`;
    // (layer slot, quantity slot) → grid position; layer slot 0 = input, H + 1 = output.
    const at = (layer, q) => (T ? [2 + q, 2 + layer] : [2 + layer, 2 + q]);
    const cell = (cls, [col, row], span = 1, html = '') => {
      const el = document.createElement('div');
      el.className = cls;
      // A cell spanning the quantities spans rows when layers are columns, and vice versa.
      el.style.gridColumn = T && span > 1 ? `${col} / span ${span}` : String(col);
      el.style.gridRow = !T && span > 1 ? `${row} / span ${span}` : String(row);
      el.innerHTML = html;
      grid.append(el);
      return el;
    };
    cell('net-corner', [1, 1]);
    const inputName = channels === 3 ? `Input<small>${inH} × ${inW}, colour</small>` : `Input<small>${inH} × ${inW}</small>`;
    const convCount = hidden.filter((l) => l.kind === 'conv').length;
    this.pagers = [];
    const heads = [inputName, ...hidden.map((l, k) => (l.kind === 'conv'
      ? `Conv ${k + 1}<small>${l.channels} maps ${l.height} × ${l.width}</small>`
      : `Hidden ${k + 1 - convCount}<small>${l.units} units</small>`)), `Output<small>${named ? 'classes' : 'digits 0–9'}</small>`];
    heads.forEach((name, l) => {
      const head = cell('net-head', T ? [1, 2 + l] : [2 + l, 1], 1, name);
      const layer = hidden[l - 1];
      if (layer?.kind === 'conv') {
        const t = tileLayout(layer.channels, layer.height, layer.width);
        if (t.page < layer.channels) {
          // More maps than fit: pages of them.
          const pager = document.createElement('span');
          pager.className = 'net-pager';
          pager.innerHTML = '<button type="button" class="prev" aria-label="previous feature maps">◀</button><span class="which"></span><button type="button" class="next" aria-label="next feature maps">▶</button>';
          const k = l - 1;
          const turn = (dir) => {
            const pages = Math.ceil(layer.channels / t.page);
            const p = (Math.floor(this.first[k] / t.page) + dir + pages) % pages;
            this.first[k] = p * t.page;
            this.labelPager(k);
            if (this.last) this.update(this.last.activity, this.last.pb);
          };
          pager.querySelector('.prev').addEventListener('click', () => turn(-1));
          pager.querySelector('.next').addEventListener('click', () => turn(1));
          head.append(pager);
          this.pagers[k] = { el: pager.querySelector('.which'), page: t.page, channels: layer.channels };
          this.labelPager(k);
        }
      }
    });
    Q.forEach((q, r) => {
      cell(`net-rowlabel q-${q.key}${q.diverging ? ' q-div' : ''}`, T ? [2 + r, 1] : [1, 2 + r], 1,
        `<span class="long">${q.name}</span> <span class="sym">${q.symbol}</span>`).title = `${q.name}: ${q.help}`;
    });
    if (kernels) {
      cell('net-rowlabel q-kernels', T ? [2 + Q.length, 1] : [1, 2 + Q.length], 1,
        '<span class="long">kernels</span> <span class="sym">W of conv 1</span>').title = 'the first layer’s weights: one small image per feature map, as they learn';
    }
    const input = cell('net-input', at(0, 0), Q.length,
      `<canvas class="digit${channels === 3 ? ' colour' : ''}" width="${inW}" height="${inH}" role="img" aria-label="input image"></canvas><p class="net-caption"></p>`);
    this.inputCanvas = input.querySelector('canvas');
    this.inputCaption = input.querySelector('.net-caption');
    this.maps = hidden.map((layer, k) => {
      const maps = {};
      Q.forEach((q, r) => {
        let w, h, tiles = 0;
        const above = q.above ? hidden[k + 1] ?? this.desc.layers[k + 1] : null;
        if (layer.kind === 'conv' && !q.above) {
          const t = tileLayout(layer.channels, layer.height, layer.width);
          [w, h, tiles] = [t.canvasWidth, t.canvasHeight, t.page];
        } else {
          ({ cols: w, rows: h } = gridShape(above ? unitsOf(above) : unitsOf(layer)));
        }
        const fig = cell(`net-map${layer.kind === 'conv' && !q.above ? ' conv' : ''}`, at(1 + k, r), 1,
          `<canvas width="${w}" height="${h}" role="img" aria-label="${layer.kind === 'conv' ? 'conv' : 'hidden'} layer ${k + 1}: ${q.name}" data-layer="${k}" data-quantity="${q.key}"></canvas>` +
          (q.diverging ? '<span class="net-scale"></span>' : ''));
        const canvas = fig.querySelector('canvas');
        canvas.tiles = tiles;
        // Width from the rows' height (style.css), through the CSSOM (the CSP allows no style attributes).
        canvas.style.setProperty('--aspect', String(w / h));
        maps[q.key] = { canvas, scaleEl: fig.querySelector('.net-scale') };
      });
      return maps;
    });
    this.kernelCanvas = null;
    if (kernels) {
      const l = hidden[0];
      const all = { page: l.channels, cols: l.channels <= 16 ? Math.min(4, l.channels) : 8 };
      all.rows = Math.ceil(all.page / all.cols);
      const fig = cell('net-map conv kernels', at(1, Q.length), 1,
        `<canvas width="${all.cols * (l.kernel + 1) - 1}" height="${all.rows * (l.kernel + 1) - 1}" role="img" ` +
        `aria-label="the first layer's ${l.channels} kernels, ${l.kernel} × ${l.kernel}${l.in_channels === 3 ? ', colour' : ''}" data-layer="0" data-quantity="kernels"></canvas>` +
        (l.in_channels === 1 ? '<span class="net-scale"></span>' : ''));
      this.kernelCanvas = fig.querySelector('canvas');
      this.kernelCanvas.style.setProperty('--aspect', String(this.kernelCanvas.width / this.kernelCanvas.height));
      this.kernelCanvas.tiles = l.channels;
      this.kernelLayout = all;
      this.kernelScaleEl = fig.querySelector('.net-scale');
    }
    const out = cell('net-output', at(H + 1, 0), Q.length);
    this.output = new OutputBars(out, { burst: true });
    this.output.signalTitle = (OUTPUT_SIGNAL[this.desc.model] ?? OUTPUT_SIGNAL.burstccn).title;
    this.output.setClasses(classes);
    this.root.replaceChildren(grid);
    this.grid = grid;
    if (this.last) this.update(this.last.activity, this.last.pb);
  }

  labelPager(k) {
    const p = this.pagers[k];
    if (p) p.el.textContent = `${this.first[k] + 1}–${Math.min(p.channels, this.first[k] + p.page)} of ${p.channels}`;
  }

  /**
   * Draw one example. `activity` = {source, label, input, layers: [{e, p, b, u, …}], kernels}
   * (from the worker), `pb` = p_b. The teacher's label is −1 when there is none.
   */
  update(activity, pb) {
    if (!this.grid || !activity) return;
    this.last = { activity, pb };
    const { layers, input, label } = activity;
    const data = this.desc.data;
    if (input && input.length) {
      if (data.input_shape[0] === 3) drawColour(this.inputCanvas, { hwc: input, mean: data.mean ?? [0, 0, 0], std: data.std ?? [1, 1, 1] }, data.input_shape[1]);
      else drawDigit(this.inputCanvas, input, data.input_shape[1]);
    }
    this.inputCaption.textContent = label >= 0 ? `teacher: ${data.classes[label] ?? label}` : 'no teacher';
    // CIFAR-10 trains on augmented images (the authors' random crop of the 4-pixel padded image,
    // and flips): the view shows the image as the network got it, padding black.
    const augmented = data.input_shape[0] === 3 && activity.source === 'train';
    if (augmented) this.inputCaption.append(Object.assign(document.createElement('small'), { textContent: 'shifted, flipped (training)' }));
    this.inputCanvas.title = augmented ? 'the training image as the network got it: shifted by up to 4 pixels (black: padding) and perhaps flipped' : '';
    const H = this.hidden.length;
    for (let k = 0; k < H; k++) {
      const L = layers[k];
      const layer = this.hidden[k];
      if (!L || L.e.length !== unitsOf(layer)) continue;
      const m = this.maps[k];
      for (const q of this.quantities) {
        const values = q.value(L, pb);
        if (!values) continue;
        // Diverging maps: ±s, s following the data; the others 0 to 1.
        let [lo, hi] = [0, 1];
        if (q.diverging) {
          const s = this.scales[k][q.key].update(values);
          [lo, hi] = [-s, s];
          m[q.key].scaleEl.textContent = `±${formatScale(s)}`;
        }
        const canvas = m[q.key].canvas;
        if (canvas.tiles) paintTiles(canvas, values, layer, { first: this.first[k], cols: tileLayout(layer.channels, layer.height, layer.width).cols }, q.map, lo, hi);
        else paint(canvas, values, q.map, (x) => (x - lo) / (hi - lo));
      }
    }
    if (this.kernelCanvas && activity.kernels) this.drawKernels(activity.kernels);
    const out = layers[H];
    if (out && out.e.length === this.output.rows.length) {
      const signal = OUTPUT_SIGNAL[this.desc.model] ?? OUTPUT_SIGNAL.burstccn;
      this.output.update({ e: out.e, dp: label >= 0 ? signal.value(out, pb) : null, target: label });
    }
    this.root.dataset.source = activity.source;
    // A frame counter: the page's tests wait on it for the next drawing.
    this.root.dataset.frame = String((Number(this.root.dataset.frame) || 0) + 1);
  }

  /**
   * The first layer's kernels (`channels × k·k·c_in`, input channel fastest), one tile each:
   * one input channel on the diverging scale (shared, so strong kernels look strong); three
   * as colour, each kernel stretched to its own largest weight (grey = 0).
   */
  drawKernels(w) {
    const l = this.hidden[0];
    const { cols } = this.kernelLayout;
    const k = l.kernel;
    const c = l.in_channels;
    const canvas = this.kernelCanvas;
    const { ctx, img } = imageOf(canvas);
    const d = img.data;
    const W = canvas.width;
    d.fill(255);
    const s = c === 1 ? this.kernelScale.update(w) : 0;
    if (this.kernelScaleEl) this.kernelScaleEl.textContent = `±${formatScale(s)}`;
    const win = k * k * c;
    for (let t = 0; t < l.channels; t++) {
      const x0 = (t % cols) * (k + 1);
      const y0 = Math.floor(t / cols) * (k + 1);
      let own = 1e-9;
      if (c !== 1) for (let i = 0; i < win; i++) own = Math.max(own, Math.abs(w[t * win + i]));
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          const o = ((y0 + y) * W + x0 + x) * 4;
          if (c === 1) {
            const v = w[t * win + y * k + x];
            const j = Math.max(0, Math.min(255, Math.round((0.5 + 0.5 * v / s) * 255))) * 3;
            d[o] = DIVERGING_MAP[j]; d[o + 1] = DIVERGING_MAP[j + 1]; d[o + 2] = DIVERGING_MAP[j + 2];
          } else {
            for (let ch = 0; ch < 3; ch++) d[o + ch] = Math.round(255 * (0.5 + 0.5 * w[t * win + (y * k + x) * c + ch] / own));
          }
        }
      }
    }
    ctx.putImageData(img, 0, 0);
  }
}

/**
 * The direction labels above the network view: what goes forward and what comes back down, in
 * the model's own words (only BurstCCN sends events back through Q; EDN has no bursts).
 */
const FLOW = {
  burstccn: ['event rate <i>e</i> forward', 'burst rate <i>b</i> and events back (<i>Y</i>, <i>Q</i>)'],
  burstprop: ['event rate <i>e</i> forward', 'burst rates <i>b̄</i>, <i>b</i> back (<i>Y</i>), without and with the teacher'],
  edn: ['rate <i>r</i> forward', 'nudged rates <i>r<sup>t</sup></i> back (<i>Y</i>), minus the interneurons’ <i>r<sup>I</sup></i>'],
};

export function renderFlow(root, model = 'burstccn') {
  const [fwd, bwd] = FLOW[model] ?? FLOW.burstccn;
  root.querySelector('.fwd').innerHTML = `${fwd} <b class="arrow-f"></b>`;
  root.querySelector('.bwd').innerHTML = `<b class="arrow-b"></b> ${bwd}`;
  root.dataset.model = model;
}

/** The colour legend of a model's quantities: one scale per kind, same maps as the heatmaps. */
export function renderLegend(root, model = 'burstccn') {
  const span = (cls, html = '') => Object.assign(document.createElement('span'), { className: cls, innerHTML: html });
  const item = (title, map, ticks) => {
    const el = Object.assign(document.createElement('div'), { className: 'legend-item' });
    const bar = span('legend-bar');
    bar.style.background = gradient(map); // CSSOM, not a style attribute (the CSP allows no inline styles)
    const marks = span('legend-ticks');
    for (const t of ticks) marks.append(span('', t));
    el.append(span('legend-title', title), bar, marks);
    return el;
  };
  const note = Object.assign(document.createElement('p'), { className: 'legend-note' });
  const items = {
    burstccn: [
      item('event rate <i>e</i>', EVENT_MAP, ['0', '', '1']),
      item('burst rate <i>b</i>', BURST_MAP, ['0', '', '1']),
      item('<i>p − p<sub>b</sub></i>, apical <i>u</i>', DIVERGING_MAP, ['−', '0', '+']),
    ],
    burstprop: [
      item('event rate <i>e</i>', EVENT_MAP, ['0', '', '1']),
      item('burst prob. <i>p̄</i>, <i>p</i>', BURST_MAP, ['0', '', '1']),
      item('<i>p − p̄</i>', DIVERGING_MAP, ['−', '0', '+']),
    ],
    edn: [
      item('rates <i>r</i>, <i>r<sup>I</sup></i>', EVENT_MAP, ['0', '', '1']),
      item('apical error <i>a</i>, nudge', DIVERGING_MAP, ['−', '0', '+']),
    ],
  }[model] ?? [];
  note.innerHTML = model === 'edn'
    ? '<span class="c-apical">Purple</span>: below zero, <span class="c-burst">orange</span>: above. ' +
      'Each diverging map has its own scale (the ± in its corner; the top 5 % of units are clipped).'
    : '<span class="c-apical">Purple</span>: fewer bursts than baseline, <span class="c-burst">orange</span>: more. ' +
      'Each diverging map has its own scale (the ± in its corner; the top 5 % of units are clipped).';
  root.replaceChildren(...items, note);
}
