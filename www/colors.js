// One palette for every view: blue = events (forward), orange = bursts (feedback, the error),
// purple = fewer bursts than baseline, crimson = a mistake. Colour maps are 256-entry tables.

export const COLOR = {
  event: '#2166ac',
  eventLight: '#92c5de',
  burst: '#d95f02',
  below: '#6a51a3',
  mistake: '#c0143c',
  ink: '#1d2430',
  muted: '#5b6577',
  grid: '#e3e7ee',
  empty: '#eef1f5',
};

/** Colours of the weight layers in the alignment chart (hidden 1, 2, …, output). */
export const LAYER_COLORS = ['#0f8f7e', '#4f46e5', '#c2417a', '#a16207', '#0369a1', '#7c3aed', '#475569'];

function lut(stops) {
  const rgb = stops.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (rgb.length - 1);
    const j = Math.min(rgb.length - 2, Math.floor(x));
    const f = x - j;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = rgb[j][c] + (rgb[j + 1][c] - rgb[j][c]) * f;
  }
  return out;
}

/** Sequential, for event rate e ∈ [0, 1] (ColorBrewer Blues). */
export const EVENT_MAP = lut(['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b']);
/** Sequential, for burst rate b ∈ [0, 1] (ColorBrewer Oranges). */
export const BURST_MAP = lut(['#fff5eb', '#fee6ce', '#fdd0a2', '#fdae6b', '#fd8d3c', '#f16913', '#d94801', '#a63603', '#7f2704']);
/** Diverging, for p − p_b and the apical potential u: purple below 0, white at 0, orange above (PuOr). */
export const DIVERGING_MAP = lut(['#2d004b', '#542788', '#8073ac', '#b2abd2', '#d8daeb', '#f7f7f7', '#fee0b6', '#fdb863', '#e08214', '#b35806', '#7f3b08']);
/** Sequential grey for digits (ink on paper, as MNIST is usually shown). */
export const INK_MAP = lut(['#ffffff', '#1d2430']);

/** CSS colour of value x ∈ [0, 1] in a map. */
export function css(map, x) {
  const i = Math.max(0, Math.min(255, Math.round(x * 255))) * 3;
  return `rgb(${map[i]},${map[i + 1]},${map[i + 2]})`;
}

/** A CSS linear-gradient of a map (for legends). */
export function gradient(map, steps = 12) {
  const parts = [];
  for (let i = 0; i <= steps; i++) parts.push(`${css(map, i / steps)} ${((i / steps) * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${parts.join(', ')})`;
}
