// Line charts (uPlot): learning curves (error or loss vs samples seen) and alignment (angle of
// BurstCCN's update to backprop's gradient and to feedback alignment's, and the Y–Q angle).
import { COLOR, LAYER_COLORS } from './colors.js';

const uPlot = globalThis.uPlot;
/** Redraw at most this often: uPlot is fast, but training shares the machine. */
const REDRAW_MS = 333;
/**
 * Keep at most this many rows per chart (twice as many in the learning curves' two histories,
 * error and loss); then neighbouring rows merge in pairs (History). More points than a chart
 * is wide; the room for them is allocated when the chart is made (RowStore), so the page's
 * memory does not grow as they fill.
 */
const MAX_ROWS = 500;

export function formatSamples(n) {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const axis = (label, extra = {}) => ({
  label, labelSize: 18, font: FONT, labelFont: FONT, stroke: COLOR.muted,
  grid: { stroke: COLOR.grid, width: 1 }, ticks: { stroke: COLOR.grid, width: 1 }, ...extra,
});
/** Whether `root` is in a frame-filling embed (style.css sets --chart-fill there): compact axes. */
const filling = (root) => getComputedStyle(root).getPropertyValue('--chart-fill').trim() === '1';
const xAxis = (compact = false) => axis(compact ? null : 'samples seen', { values: (u, splits) => splits.map(formatSamples), ...(compact ? { labelSize: 0, size: 30 } : {}) });

/**
 * A table of rows of numbers with room for `capacity` rows, allocated once (NaN: no value), so
 * a history's memory is the same from the first row to the thousandth: a page left training for
 * an hour holds no more than it did after a minute (`make soak` checks the heap).
 */
export class RowStore {
  constructor(columns, capacity) {
    this.columns = columns;
    this.capacity = capacity;
    this.values = new Float64Array(columns * capacity).fill(NaN);
    this.length = 0;
  }

  /** Value `c` of row `i`, or null. */
  get(i, c) {
    const v = this.values[i * this.columns + c];
    return Number.isNaN(v) ? null : v;
  }

  /** Row `i` as an array (null for no value). */
  row(i) {
    return Array.from({ length: this.columns }, (_, c) => this.get(i, c));
  }

  /** Append a row (missing or null values stay empty); false when the table is full. */
  push(row) {
    if (this.length === this.capacity) return false;
    this.length += 1;
    this.set(this.length - 1, row);
    return true;
  }

  /** Overwrite row `i` with the non-null values of `row` (only those: a merge). */
  merge(i, row) {
    for (let c = 0; c < this.columns; c++) if (row[c] != null) this.values[i * this.columns + c] = row[c];
  }

  set(i, row) {
    for (let c = 0; c < this.columns; c++) this.values[i * this.columns + c] = row[c] ?? NaN;
  }

  /** Keep the rows for which `keep(i)` is true, in order, in place. */
  keepWhere(keep) {
    const cols = this.columns;
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      if (!keep(i)) continue;
      if (n !== i) this.values.copyWithin(n * cols, i * cols, (i + 1) * cols);
      n += 1;
    }
    this.values.fill(NaN, n * cols, this.length * cols);
    this.length = n;
  }

  clear() {
    this.values.fill(NaN, 0, this.length * this.columns);
    this.length = 0;
  }
}

/**
 * A chart's history: at most `max` rows, each standing for the same number (`stride`) of the
 * rows pushed. Once full, neighbouring rows are merged in pairs and the stride doubles, so the
 * resolution stays even over the whole run (dropping the older half's rows instead left a
 * half-hour soak's first minutes with almost nothing but the epoch scores). A merged row has the
 * later row's x and, per column, the later value, else the earlier: a sparse value such as the
 * once-an-epoch full test score survives until two fall into one row.
 */
export class History {
  constructor(columns, max) {
    this.max = max;
    this.store = new RowStore(columns, max + 1);
    this.stride = 1;
    this.merged = 0; // rows pushed into the newest row
  }

  get length() {
    return this.store.length;
  }

  /** Row `i` (null for no value). */
  row(i) {
    return this.store.row(i);
  }

  /**
   * Add a row (x first). A row at the newest row's x merges into it; one at a smaller x (a late
   * message after a reset) is dropped and false returned.
   */
  push(row) {
    const st = this.store;
    const n = st.length;
    const lastX = n ? st.get(n - 1, 0) : null;
    if (n && row[0] < lastX) return false;
    if (n && (row[0] === lastX || this.merged < this.stride)) {
      st.merge(n - 1, row);
      if (row[0] !== lastX) this.merged += 1;
    } else {
      st.push(row);
      this.merged = 1;
    }
    if (st.length > this.max) this.halve();
    return true;
  }

  /** Merge rows pairwise (0 with 1, 2 with 3, …; an odd newest row stays alone). */
  halve() {
    const st = this.store;
    const pairs = Math.floor(st.length / 2);
    for (let j = 0; j < pairs; j++) {
      const [older, later] = [st.row(2 * j), st.row(2 * j + 1)];
      st.set(j, later.map((v, c) => v ?? older[c]));
    }
    const odd = st.length % 2 === 1;
    if (odd) st.set(pairs, st.row(st.length - 1));
    st.keepWhere((i) => i < pairs + (odd ? 1 : 0));
    this.stride *= 2;
    // The newest row is a fresh one when it was left alone; a merged pair counts as full.
    this.merged = odd ? 1 : this.stride;
  }

  clear() {
    this.store.clear();
    this.stride = 1;
    this.merged = 0;
  }
}

/**
 * A uPlot in `root` that follows the width of `root` and redraws at most every REDRAW_MS. Its
 * height is fixed, unless the CSS property --chart-fill is 1 on `root`: then the layout gives
 * `root` its height (it must not follow its content, or uPlot's legend would feed back) and the
 * plot fills what the legend leaves (an embed that fits its frame).
 *
 * Its rows live in a History of MAX_ROWS, and uPlot draws from arrays of MAX_ROWS + 1 made
 * once: the rows, then copies of the last x with no values (which draw nothing).
 */
class Chart {
  /** `options()` returns the uPlot options; called again by rebuild(). */
  constructor(root, options, columns) {
    this.root = root;
    this.options = options;
    this.history = new History(columns, MAX_ROWS);
    this.drawn = Array.from({ length: columns }, (_, c) => new Array(MAX_ROWS + 1).fill(c === 0 ? 0 : null));
    this.none = Array.from({ length: columns }, () => []);
    this.fill = filling(root);
    this.height = () => {
      if (this.fill && root.clientHeight > 0) {
        const legend = root.querySelector('.u-legend')?.offsetHeight ?? 0;
        return Math.max(80, Math.floor(root.clientHeight - legend - 2));
      }
      return matchMedia('(max-width: 760px)').matches ? 190 : 220;
    };
    this.plot = new uPlot({ ...options(this.fill), ...this.size() }, this.data(), root);
    this.pending = false;
    this.last = 0;
    this.observer = new ResizeObserver(() => this.fit());
    this.observer.observe(root);
    this.watchLegend();
  }

  /** The plot sized to its box (in a frame-filling embed: what the legend leaves of it). */
  fit() {
    // Into or out of a frame-filling embed: new axes (uPlot fixes them at creation).
    if (filling(this.root) !== this.fill) {
      this.fill = !this.fill;
      this.rebuild();
      return;
    }
    const s = this.size();
    if (s.width !== this.plot.width || s.height !== this.plot.height) this.plot.setSize(s);
  }

  /**
   * The legend's height changes without the box changing (its labels and values are rewritten,
   * and it wraps onto a second line or back), and the plot fills what it leaves: watch it too.
   * Without this the plot kept the height it got when the legend last had another one, which
   * depended on when the labels arrived.
   */
  watchLegend() {
    if (this.legend) this.observer.unobserve(this.legend);
    this.legend = this.root.querySelector('.u-legend');
    if (this.legend) this.observer.observe(this.legend);
  }

  size() {
    return { width: Math.max(this.fill ? 160 : 200, Math.floor(this.root.clientWidth)), height: this.height() };
  }

  /** The rows for uPlot: the drawing arrays, refreshed from the store (empty arrays if none). */
  data() {
    const st = this.history.store;
    const n = st.length;
    if (!n) return this.none;
    const d = this.drawn;
    const lastX = st.get(n - 1, 0);
    for (let i = 0; i < d[0].length; i++) {
      const here = i < n;
      d[0][i] = here ? st.get(i, 0) : lastX;
      for (let c = 1; c < d.length; c++) d[c][i] = here ? st.get(i, c) : null;
    }
    return d;
  }

  /** Add one row (x first); see History.push. */
  push(row) {
    if (!this.history.push(row)) return;
    this.root.dataset.points = String(this.history.length);
    this.schedule();
  }

  /** Forget every row (the drawing keeps its arrays). */
  reset() {
    this.history.clear();
    this.root.dataset.points = '0';
  }

  clear() {
    this.reset();
    this.plot.setData(this.data());
  }

  /** A new uPlot with fresh options (e.g. a log scale, which uPlot fixes at creation). */
  rebuild() {
    this.plot.destroy();
    this.plot = new uPlot({ ...this.options(this.fill), ...this.size() }, this.data(), this.root);
    this.watchLegend();
    // The legend's height is known once it is built: fit the plot to what is left.
    const s = this.size();
    if (s.height !== this.plot.height) this.plot.setSize(s);
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    const wait = Math.max(0, REDRAW_MS - (performance.now() - this.last));
    setTimeout(() => requestAnimationFrame(() => {
      this.pending = false;
      this.last = performance.now();
      this.plot.setData(this.data());
    }), wait);
  }
}

/**
 * Learning curves: training error/loss (running, over the last ~1,000 samples), test on the
 * fixed subset, and the full test set at each epoch end. `mode` is 'error' or 'loss'.
 */
export class LearningCurves {
  constructor(root, { subsetLabel, fullLabel = 'test, all 10,000 (epoch end)' }) {
    this.labels = { subset: subsetLabel, full: fullLabel };
    this.mode = 'error';
    this.log = false;
    this.bucket = { samples: 0, wrong: 0, sse: 0 };
    const series = (label, stroke, extra) => ({ label, stroke, width: 2, spanGaps: true, points: { show: false }, ...extra });
    const fmt = (u, v) => (v == null ? '–' : this.mode === 'error' ? `${v.toFixed(2)} %` : v.toFixed(4));
    const linear = (u, min, max) => [0, Math.max(max * 1.08, this.mode === 'error' ? 5 : 0.02)];
    this.chart = new Chart(root, (compact) => ({
      // Log scale: late differences (a few % error) between rules become visible.
      scales: { x: { time: false }, y: this.log ? { distr: 3, log: 10 } : { range: linear } },
      // No y label (uPlot cannot change it later): the values carry the unit in error mode.
      axes: [xAxis(compact), axis(null, { size: compact ? 42 : 50, values: (u, splits) => splits.map((v) => this.formatY(v)) })],
      series: [
        { label: 'samples', value: (u, v) => (v == null ? '–' : formatSamples(v)) },
        // Compact (a frame-filling embed): labels short enough for one line of legend.
        series(compact ? 'training' : 'training (running)', COLOR.eventLight, { width: 1.5, value: fmt }),
        series(compact ? 'test subset' : this.labels.subset, COLOR.event, { width: 2.5, points: { show: true, size: compact ? 4 : 5, fill: COLOR.event }, value: fmt }),
        series(compact ? 'full test set' : this.labels.full, COLOR.ink, { width: 0, paths: () => null, points: { show: true, size: compact ? 8 : 10, width: 2, fill: '#fff', stroke: COLOR.ink }, value: fmt }),
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    }), 4);
    // Both histories, so the chart can be redrawn in the other mode; twice the chart's rows, so
    // a redraw loses nothing the chart would have kept.
    this.rows = { error: new History(4, 2 * MAX_ROWS), loss: new History(4, 2 * MAX_ROWS) };
  }

  formatY(v) {
    if (v == null) return '';
    const short = v >= 10 ? v.toFixed(0) : +v.toPrecision(v >= 1 ? 2 : 1);
    return this.mode === 'error' ? `${short}%` : String(+v.toPrecision(2));
  }

  /** A stored row as drawn: a log axis cannot show 0 (a bucket without a single mistake). */
  shown(row) {
    return this.log ? row.map((v, i) => (i > 0 && v != null && v <= 0 ? null : v)) : row;
  }

  /** Add a training report (summed into buckets of ≥ 1,000 samples to tame batch noise). */
  addTrain(report, totalSamples) {
    const b = this.bucket;
    b.samples += report.samples;
    b.wrong += report.error_rate * report.samples;
    b.sse += report.loss * report.samples;
    if (b.samples < 1000) return;
    this.add(totalSamples, [b.wrong / b.samples, null, null], [b.sse / b.samples, null, null]);
    this.bucket = { samples: 0, wrong: 0, sse: 0 };
  }

  addTest(totalSamples, errorRate, loss, full) {
    const err = full ? [null, null, errorRate] : [null, errorRate, null];
    const ls = full ? [null, null, loss] : [null, loss, null];
    this.add(totalSamples, err, ls);
  }

  add(x, err, loss) {
    const row = { error: [x, ...err.map((v) => (v == null ? null : v * 100))], loss: [x, ...loss] };
    this.rows.error.push(row.error);
    this.rows.loss.push(row.loss);
    this.chart.push(this.shown(row[this.mode]));
  }

  /** The test series' names (the data set's sizes). */
  setLabels(subset, full) {
    if (subset === this.labels.subset && full === this.labels.full) return;
    this.labels = { subset, full };
    this.redrawAll();
  }

  setLog(log) {
    this.log = log;
    this.redrawAll();
  }

  setMode(mode) {
    this.mode = mode;
    this.redrawAll();
  }

  redrawAll() {
    this.chart.reset();
    const rows = this.rows[this.mode];
    for (let i = 0; i < rows.length; i++) this.chart.push(this.shown(rows.row(i)));
    this.chart.rebuild();
  }

  clear() {
    this.rows.error.clear();
    this.rows.loss.clear();
    this.bucket = { samples: 0, wrong: 0, sse: 0 };
    this.chart.clear();
  }
}

/** The angles measured: the model's update to backprop's and to FA's; BurstCCN's Y to its Q. */
export function measures(model = 'burstccn') {
  const name = { burstccn: 'BurstCCN', burstprop: 'Burstprop', edn: 'EDN' }[model] ?? model;
  const list = [
    { key: 'angle_bp', name: `${name} vs backprop`, dash: undefined, html: `<span class="long">${name} </span>vs backprop` },
    { key: 'angle_fa', name: `${name} vs feedback alignment`, dash: [7, 5], html: `<span class="long">${name} </span>vs <span class="long">feedback alignment</span><span class="short">FA</span>` },
  ];
  // Only BurstCCN has Q.
  if (model === 'burstccn') list.push({ key: 'angle_yq', name: 'Y vs Q', dash: [2, 4], html: 'Y vs Q' });
  return list;
}
export const MEASURES = measures();

/** Per hidden layer: angle of the model's ΔW to backprop's and to FA's, and between Y and Q. */
export class AlignmentChart {
  constructor(root, legendRoot) {
    this.root = root;
    this.legendRoot = legendRoot;
    this.key = '';
    this.hiddenCount = -1;
    this.visible = new Set(MEASURES.map((m) => m.key));
  }

  /** The hidden layers' names (`hidden 1`, or `conv 1` …) and the model, whose angles are drawn. */
  setShape(hiddenCount, { model = 'burstccn', names = null } = {}) {
    const layerNames = names ?? Array.from({ length: hiddenCount }, (_, k) => `hidden ${k + 1}`);
    const key = JSON.stringify([model, layerNames]);
    if (key === this.key) return;
    this.key = key;
    this.hiddenCount = hiddenCount;
    this.model = model;
    this.names = layerNames;
    this.measures = measures(model);
    this.root.replaceChildren();
    const series = [{ label: 'samples', value: (u, v) => (v == null ? '–' : formatSamples(v)) }];
    this.columns = [];
    this.measures.forEach((m) => {
      for (let k = 0; k < hiddenCount; k++) {
        series.push({
          label: `${layerNames[k]}: ${m.name}`, stroke: LAYER_COLORS[k % LAYER_COLORS.length], width: 2, dash: m.dash,
          spanGaps: true, points: { show: false }, show: this.visible.has(m.key),
          value: (u, v) => (v == null ? '–' : `${v.toFixed(1)}°`),
        });
        this.columns.push({ measure: m.key, layer: k });
      }
    });
    // 90° = no alignment at all: drawn as a dashed reference.
    const ninety = (u) => {
      const ctx = u.ctx;
      const y = u.valToPos(90, 'y', true);
      ctx.save();
      ctx.strokeStyle = COLOR.muted;
      ctx.setLineDash([5, 5]);
      ctx.lineWidth = devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.restore();
    };
    this.chart = new Chart(this.root, (compact) => ({
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(100, (max || 0) + 5)] } },
      axes: [xAxis(compact), compact ? axis(null, { size: 42, values: (u, splits) => splits.map((v) => `${v}°`) }) : axis('angle (°)', { size: 44 })],
      series,
      legend: { show: false },
      hooks: { draw: [ninety] },
      cursor: { drag: { x: false, y: false } },
    }), series.length);
    this.renderLegend();
  }

  renderLegend() {
    // (.long / .short: the full words, or the few a frame-filling embed has room for.)
    const layers = (this.hiddenCount ? '<span class="al-layer short">layer</span>' : '') +
      this.names.map((n, k) => {
        const [kind, number] = n.split(' ');
        return `<span class="al-layer"><i data-k="${k}"></i><span class="${kind === 'hidden' ? 'long' : ''}">${kind} </span>${number}</span>`;
      }).join('');
    const ref = `<span class="al-layer" title="90°: the two updates are unrelated"><svg width="22" height="8" aria-hidden="true"><line x1="0" y1="4" x2="22" y2="4" stroke="${COLOR.muted}" stroke-width="1.5" stroke-dasharray="5 5"/></svg> 90° <span class="long">= </span>unrelated</span>`;
    this.legendRoot.innerHTML = `<div class="al-layers">${layers}${ref}</div><div class="al-measures" role="group" aria-label="angles shown">` +
      this.measures.map((m) => `<button type="button" class="al-measure" data-measure="${m.key}" aria-pressed="${this.visible.has(m.key)}" title="${m.name}" aria-label="${m.name}">` +
        `<svg width="28" height="8" aria-hidden="true"><line x1="0" y1="4" x2="28" y2="4" stroke="${COLOR.ink}" stroke-width="2" ${m.dash ? `stroke-dasharray="${m.dash.join(' ')}"` : ''}/></svg><span>${m.html}</span></button>`).join('') +
      '</div>';
    // Colours through the CSSOM (the CSP allows no style attributes).
    this.legendRoot.querySelectorAll('.al-layer i[data-k]').forEach((i) => { i.style.background = LAYER_COLORS[Number(i.dataset.k) % LAYER_COLORS.length]; });
    this.legendRoot.querySelectorAll('.al-measure').forEach((btn) => btn.addEventListener('click', () => {
      const key = btn.dataset.measure;
      if (this.visible.has(key)) this.visible.delete(key); else this.visible.add(key);
      btn.setAttribute('aria-pressed', String(this.visible.has(key)));
      this.columns.forEach((c, i) => this.chart.plot.setSeries(i + 1, { show: this.visible.has(c.measure) }));
    }));
  }

  /** Add one diagnostics report ({layers: [{angle_bp, angle_fa, angle_yq, …}]}) at x = samples seen. */
  add(totalSamples, diagnostics) {
    if (!this.chart) return;
    const row = [totalSamples, ...this.columns.map((c) => {
      const v = diagnostics.layers[c.layer]?.[c.measure];
      return v == null || !Number.isFinite(v) ? null : v;
    })];
    this.chart.push(row);
  }

  clear() {
    this.chart?.clear();
  }
}
