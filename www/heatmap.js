// The network view: for one example, every hidden layer's event rate e, burst probability
// (as p − p_b), burst rate b = p·e and apical potential u as heatmaps, one pixel per unit;
// the input digit; the output units 0–9 with the teaching signal. Plus the colour legend.
import { EVENT_MAP, BURST_MAP, DIVERGING_MAP, INK_MAP, gradient } from './colors.js';

/** The four quantities of a hidden layer, in the paper's words. */
export const QUANTITIES = [
  { key: 'e', name: 'event rate', symbol: 'e', map: EVENT_MAP, diverging: false, help: 'bursts and single spikes alike: the forward signal' },
  { key: 'dp', name: 'burst probability', symbol: 'p − p<sub>b</sub>', map: DIVERGING_MAP, diverging: true, help: 'fraction of events that are bursts, relative to its baseline: the error' },
  { key: 'b', name: 'burst rate', symbol: 'b = p·e', map: BURST_MAP, diverging: false, help: 'sent back down through the facilitating connections Y' },
  { key: 'u', name: 'apical potential', symbol: 'u', map: DIVERGING_MAP, diverging: true, help: 'bursts from above minus events from above (Y and Q): sets p' },
];

/** Grid of a layer of n units: a little wider than tall. */
export function gridShape(n) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n * 1.25)));
  return { cols, rows: Math.max(1, Math.ceil(n / cols)) };
}

const EMPTY = [238, 241, 245];

/** Paint values into a canvas of one pixel per unit; `norm(x)` maps a value to [0, 1]. */
function paint(canvas, values, map, norm) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const img = ctx.createImageData(width, height);
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

/** Draw a 28×28 digit (bytes 0–255 or floats 0–1) as ink on paper. */
export function drawDigit(canvas, pixels, side = 28) {
  if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
  const scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
  paint(canvas, pixels, INK_MAP, (x) => x * scale);
}

/**
 * A symmetric colour scale that follows the data but does not flicker (jumps up, decays
 * slowly). It spans the 95th percentile of |x|: p − p_b is heavy-tailed (units with a low
 * event rate swing p widely), and the max would wash out every other unit; the few beyond it
 * show at full colour.
 */
class SymmetricScale {
  constructor() { this.value = 0; }
  update(values) {
    const abs = [];
    for (const x of values) if (Number.isFinite(x)) abs.push(Math.abs(x));
    abs.sort((a, b) => a - b);
    const m = abs.length ? abs[Math.min(abs.length - 1, Math.floor(abs.length * 0.95))] : 0;
    this.value = Math.max(m, this.value * 0.85, 1e-6);
    return this.value;
  }
}

export function formatScale(s) {
  if (s >= 0.1) return s.toFixed(2);
  if (s >= 0.001) return s.toFixed(3);
  return s.toExponential(1);
}

/** Output units 0–9: event rate as a bar, the teaching signal p − p_b as a diverging bar. */
export class OutputBars {
  constructor(root, { burst = true, ghost = false } = {}) {
    this.root = root;
    this.burst = burst;
    root.classList.add('outbars');
    root.setAttribute('role', 'list');
    this.rows = [];
    for (let d = 0; d < 10; d++) {
      const row = document.createElement('div');
      row.className = 'ob-row';
      row.setAttribute('role', 'listitem');
      row.innerHTML = `<span class="ob-digit">${d}</span>` +
        `<span class="ob-bar" title="event rate e"><i class="ob-ghost" hidden></i><i class="ob-fill"></i></span>` +
        `<span class="ob-val">–</span>` +
        (burst ? `<span class="ob-dp" title="burst probability p − p_b: the teaching signal"><i></i></span>` : '');
      root.append(row);
      this.rows.push({
        row,
        fill: row.querySelector('.ob-fill'),
        ghostEl: row.querySelector('.ob-ghost'),
        val: row.querySelector('.ob-val'),
        dp: row.querySelector('.ob-dp i'),
      });
    }
    this.ghost = ghost;
    this.scale = new SymmetricScale();
  }

  /** e: 10 event rates; dp: p − p_b per unit (or null); target: the teacher's label or −1; before: ghost values. */
  update({ e, dp = null, target = -1, before = null }) {
    if (!e || e.length < 10) return this.clear();
    let best = 0;
    for (let d = 1; d < 10; d++) if (e[d] > e[best]) best = d;
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
        r.dp.parentElement.title = dp ? `p − p_b = ${dp[d].toFixed(4)}` : 'no teacher: p = p_b';
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

/** The whole network for one example: input, hidden layers × 4 quantities, output. */
export class NetworkView {
  constructor(root) {
    this.root = root;
    this.hidden = [];
    this.transposed = false;
    this.last = null;
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

  /** Build the grid for hidden layer sizes, e.g. [500, 500, 500]. */
  setShape(hidden) {
    if (this.grid && this.hidden.length === hidden.length && this.hidden.every((n, i) => n === hidden[i])) return;
    this.hidden = [...hidden];
    this.scales = hidden.map(() => ({ dp: new SymmetricScale(), u: new SymmetricScale() }));
    this.last = null;
    this.build();
  }

  build() {
    const hidden = this.hidden;
    const H = hidden.length;
    const T = this.transposed;
    const grid = document.createElement('div');
    grid.className = `net-grid${T ? ' transposed' : ''}`;
    // Maps are capped in size so the whole network fits a 1280×720 projector screen; the caps
    // are CSS properties (style.css), so an embed can scale the maps to the height it has.
    grid.style.gridTemplateColumns = T
      ? 'auto repeat(4, minmax(0, 1fr))'
      : `auto minmax(var(--input-min, 56px), var(--input-max, 100px)) ${H ? `repeat(${H}, minmax(var(--map-min, 60px), var(--map-max, 108px))) ` : ''}` +
        'minmax(var(--output-min, 140px), var(--output-max, 230px))';
    // (layer slot, quantity slot) → grid position; layer slot 0 = input, H + 1 = output.
    const at = (layer, q) => (T ? [2 + q, 2 + layer] : [2 + layer, 2 + q]);
    const cell = (cls, [col, row], span = 1, html = '') => {
      const el = document.createElement('div');
      el.className = cls;
      // A cell spanning the four quantities spans rows when layers are columns, and vice versa.
      el.style.gridColumn = T && span > 1 ? `${col} / span ${span}` : String(col);
      el.style.gridRow = !T && span > 1 ? `${row} / span ${span}` : String(row);
      el.innerHTML = html;
      grid.append(el);
      return el;
    };
    cell('net-corner', [1, 1]);
    const layerNames = ['Input<small>28 × 28</small>', ...hidden.map((n, k) => `Hidden ${k + 1}<small>${n} units</small>`), 'Output<small>digits 0–9</small>'];
    layerNames.forEach((name, l) => cell('net-head', T ? [1, 2 + l] : [2 + l, 1], 1, name));
    QUANTITIES.forEach((q, r) => {
      cell(`net-rowlabel q-${q.key}`, T ? [2 + r, 1] : [1, 2 + r], 1,
        `<span class="long">${q.name}</span> <span class="sym">${q.symbol}</span>`).title = `${q.name}: ${q.help}`;
    });
    const input = cell('net-input', at(0, 0), 4,
      '<canvas class="digit" width="28" height="28" role="img" aria-label="input digit"></canvas><p class="net-caption"></p>');
    this.inputCanvas = input.querySelector('canvas');
    this.inputCaption = input.querySelector('.net-caption');
    this.maps = hidden.map((n, k) => {
      const { cols, rows } = gridShape(n);
      const maps = {};
      QUANTITIES.forEach((q, r) => {
        const fig = cell('net-map', at(1 + k, r), 1,
          `<canvas width="${cols}" height="${rows}" role="img" aria-label="hidden layer ${k + 1}: ${q.name}" data-layer="${k}" data-quantity="${q.key}"></canvas>` +
          (q.diverging ? '<span class="net-scale"></span>' : ''));
        maps[q.key] = { canvas: fig.querySelector('canvas'), scaleEl: fig.querySelector('.net-scale') };
      });
      return maps;
    });
    const out = cell('net-output', at(H + 1, 0), 4);
    this.output = new OutputBars(out, { burst: true });
    this.root.replaceChildren(grid);
    this.grid = grid;
    if (this.last) this.update(this.last.activity, this.last.pb);
  }

  /**
   * Draw one example. `activity` = {source, label, input, layers: [{e, p, b, u}]} (from the
   * worker), `pb` = p_b. The teacher's label is −1 when there is none (a plain prediction).
   */
  update(activity, pb) {
    if (!this.grid || !activity) return;
    this.last = { activity, pb };
    const { layers, input, label } = activity;
    if (input && input.length) drawDigit(this.inputCanvas, input);
    this.inputCaption.textContent = label >= 0 ? `teacher: ${label}` : 'no teacher';
    const H = this.hidden.length;
    for (let k = 0; k < H; k++) {
      const L = layers[k];
      if (!L || L.e.length !== this.hidden[k]) continue;
      const dp = L.p.map((p) => p - pb);
      const m = this.maps[k];
      paint(m.e.canvas, L.e, EVENT_MAP, (x) => x);
      paint(m.b.canvas, L.b, BURST_MAP, (x) => x);
      const sp = this.scales[k].dp.update(dp);
      paint(m.dp.canvas, dp, DIVERGING_MAP, (x) => 0.5 + 0.5 * x / sp);
      m.dp.scaleEl.textContent = `±${formatScale(sp)}`;
      if (L.u) {
        const su = this.scales[k].u.update(L.u);
        paint(m.u.canvas, L.u, DIVERGING_MAP, (x) => 0.5 + 0.5 * x / su);
        m.u.scaleEl.textContent = `±${formatScale(su)}`;
      }
    }
    const out = layers[H];
    if (out && out.e.length === 10) {
      this.output.update({ e: out.e, dp: label >= 0 ? out.p.map((p) => p - pb) : null, target: label });
    }
    this.root.dataset.source = activity.source;
  }
}

/** The colour legend: one scale per kind of quantity, same maps as the heatmaps. */
export function renderLegend(root) {
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
  note.innerHTML = '<span class="c-apical">Purple</span>: fewer bursts than baseline, <span class="c-burst">orange</span>: more. ' +
    'Each diverging map has its own scale (the ± in its corner; the top 5 % of units are clipped).';
  root.replaceChildren(
    item('event rate <i>e</i>', EVENT_MAP, ['0', '', '1']),
    item('burst rate <i>b</i>', BURST_MAP, ['0', '', '1']),
    item('<i>p − p<sub>b</sub></i>, apical <i>u</i>', DIVERGING_MAP, ['−', '0', '+']),
    note,
  );
}
