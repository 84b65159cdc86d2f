// The draw-a-digit pad (pointer events: mouse, pen, touch) and the preprocessing that makes a
// drawing look like an MNIST digit: bounding box scaled to fit 20×20 keeping its aspect ratio
// (area-averaged, i.e. anti-aliased), then centred by its centre of mass in a 28×28 field.

/** Internal resolution of the pad; the CSS size may differ. */
const PAD = 280;
/** Pen width in pad pixels: about 2.5 MNIST pixels once a digit ~200 px tall is scaled to 20 px, as in MNIST. */
const PEN = 25;

export class DrawPad {
  /**
   * `onChange(pixels | null, version)` gets a Float32Array(784) in [0, 1] after each stroke
   * segment (at most once a frame), null when cleared. `version` counts changes of the ink; it
   * is also `canvas.dataset.version` at once, so anyone can tell whether the drawing delivered
   * last is the drawing on the pad.
   */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.onChange = onChange;
    canvas.width = PAD;
    canvas.height = PAD;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.last = null;
    this.empty = true;
    this.frame = 0;
    this.version = 0;
    canvas.dataset.version = '0';
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) canvas.addEventListener(type, () => this.up());
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height];
  }

  down(e) {
    if (e.button !== undefined && e.button !== 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.last = this.point(e);
    const ctx = this.ctx;
    ctx.fillStyle = '#1d2430';
    ctx.beginPath();
    ctx.arc(this.last[0], this.last[1], PEN / 2, 0, 2 * Math.PI);
    ctx.fill();
    this.changed();
  }

  move(e) {
    if (!this.last) return;
    e.preventDefault();
    // Coalesced events keep fast strokes smooth where the browser batches them.
    const events = e.getCoalescedEvents?.() || [e];
    const ctx = this.ctx;
    ctx.strokeStyle = '#1d2430';
    ctx.lineWidth = PEN;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(this.last[0], this.last[1]);
    for (const ev of events.length ? events : [e]) {
      this.last = this.point(ev);
      ctx.lineTo(this.last[0], this.last[1]);
    }
    ctx.stroke();
    this.changed();
  }

  up() {
    this.last = null;
  }

  bump() {
    this.version += 1;
    this.canvas.dataset.version = String(this.version);
  }

  changed() {
    this.empty = false;
    this.canvas.classList.add('has-ink');
    this.bump();
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.onChange(this.pixels(), this.version);
    });
  }

  clear() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.ctx.clearRect(0, 0, PAD, PAD);
    this.empty = true;
    this.canvas.classList.remove('has-ink');
    this.bump();
    this.onChange(null, this.version);
  }

  /** The drawing as MNIST input (Float32Array of 784 values in [0, 1]), or null if empty. */
  pixels() {
    if (this.empty) return null;
    const rgba = this.ctx.getImageData(0, 0, PAD, PAD).data;
    const ink = new Float32Array(PAD * PAD);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4 + 3] / 255;
    return toMnist(ink, PAD, PAD);
  }
}

/**
 * Area-average a row of `n` source pixels onto `m` target pixels, where source coordinate X
 * lands at target coordinate `offset + scale·X`: exact coverage weights, so strokes come out
 * anti-aliased, and the offset can be a fraction of a pixel.
 */
function resample(src, n, scale, offset, m = 28) {
  const out = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const a = (j - offset) / scale;
    const b = (j + 1 - offset) / scale;
    if (b <= 0 || a >= n) continue;
    let sum = 0;
    for (let i = Math.max(0, Math.floor(a)); i < Math.min(n, Math.ceil(b)); i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      if (w > 0) sum += src[i] * w;
    }
    out[j] = Math.min(1, sum * scale);
  }
  return out;
}

/**
 * MNIST preprocessing of an ink image (values in [0, 1], width × height): the bounding box is
 * scaled so its longer side is 20 px (aspect kept) and placed in 28×28 so that its centre of
 * mass falls where MNIST's do (pixel 14, 14), in one area-averaging pass (sub-pixel placement,
 * no second blur). Returns null when there is no ink.
 */
export function toMnist(ink, width, height) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink[y * width + x];
      if (v > 0.02) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  if (x1 < 0 || mass <= 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = 20 / Math.max(w, h);
  // Pixel 14's centre is at 14.5 in continuous coordinates.
  const ox = 14.5 - scale * (mx / mass - x0);
  const oy = 14.5 - scale * (my / mass - y0);
  // Separable: rows of the box first, then columns.
  const rows = new Float32Array(h * 28);
  const line = new Float32Array(w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) line[x] = ink[(y0 + y) * width + x0 + x];
    rows.set(resample(line, w, scale, ox), y * 28);
  }
  const out = new Float32Array(784);
  const col = new Float32Array(h);
  for (let x = 0; x < 28; x++) {
    for (let y = 0; y < h; y++) col[y] = rows[y * 28 + x];
    const r = resample(col, h, scale, oy);
    for (let y = 0; y < 28; y++) out[y * 28 + x] = r[y];
  }
  return out;
}
