// The Dynamics view's settings and how a link holds them (`#speed=100&seed=3&…`): the same
// link reading as the MNIST page (state.js). No DOM here, so node tests can run it.
import { linkState } from './state.js';

export const SPEEDS = ['1', '10', '100', '1000', '10000', 'max'];
export const WINDOWS = ['50', '200', '1000'];
/** Hidden units of the student (3-50-1): the units a link may watch. */
export const HIDDEN_UNITS = 50;

/**
 * Every setting of the view, round-tripping through the URL hash (`#speed=100&seed=3&…`).
 * `reset`: a change builds a fresh task (same seed → same teacher, inputs and student).
 */
export const PARAMS = [
  { name: 'speed', kind: 'enum', values: SPEEDS, default: '100', label: 'speed (multiple of real time)' },
  { name: 'run', kind: 'bool', default: true, label: 'running' },
  { name: 'schedule', kind: 'bool', default: true, label: "follow the paper's schedule" },
  { name: 'teacher', kind: 'bool', default: true, label: 'teacher (manual control)' },
  { name: 'plasticity', kind: 'bool', default: true, label: 'plasticity (manual control)' },
  { name: 'seed', kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, default: 1, reset: true, label: 'seed' },
  { name: 'before', kind: 'number', min: 1, max: 1e6, default: 1000, reset: true, label: 'prediction before, s' },
  { name: 'learn', kind: 'number', min: 0, max: 1e7, default: 50000, reset: true, label: 'teacher + plasticity, s' },
  { name: 'after', kind: 'number', min: 1, max: 1e6, default: 1000, reset: true, label: 'prediction after, s' },
  { name: 'window', kind: 'enum', values: WINDOWS, default: '200', label: 'trace window, s' },
  { name: 'units', kind: 'list', item: 'unit', minLength: 1, min: 0, max: HIDDEN_UNITS - 1, maxLength: 4, default: [0, 1, 2], label: 'hidden units shown' },
  { name: 'rate', kind: 'number', min: 0, max: 40, default: 10, label: 'event rate, Hz' },
  { name: 'burst', kind: 'number', min: 0, max: 1, default: 0.3, label: 'burst probability' },
  { name: 'auto', kind: 'bool', default: true, label: 'automatic random schedule' },
  { name: 'embed', kind: 'bool', default: false, page: true, label: 'embed' },
];

/** Parts a link can hide with `<name>_hide=1`: every control above, and the panels. */
export const HIDEABLE = [
  ...PARAMS.filter((p) => !p.page).map((p) => p.name),
  'intro', 'back', 'share', 'reset', 'settings', 'timeline', 'regression', 'output', 'neurons', 'error',
  'multiplex', 'raster', 'correlations', 'explain',
];
/** What `embed=1` hides unless the link says `<name>_hide=0`. */
export const EMBED_HIDDEN = ['intro', 'back', 'share', 'settings', 'explain'];

export const link = linkState({ params: PARAMS, hideable: HIDEABLE, embedHidden: EMBED_HIDDEN });
