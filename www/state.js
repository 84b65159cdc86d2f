// Every setting of the page lives in one state object that round-trips through the URL hash
// (`#rule=burstccn&lr=0.3&…`), so a link reproduces a run and a lecture page can hide any
// control with `<name>_hide=1`. No DOM here: app.js binds the controls.

const RULES = ['burstccn', 'backprop', 'fa'];
const FEEDBACK_MODES = ['random', 'symmetric_init', 'tied'];

/** Input and output sizes of MNIST: fixed by the data, not settings. */
export const INPUTS = 784;
export const OUTPUTS = 10;

/**
 * The settings. `apply` says how a change reaches the engine:
 *   'live'  — setConfig mid-run, weights kept;
 *   'reset' — defines the initial weights (architecture, seed, initial feedback), so a change
 *             builds a new network after asking;
 *   'page'  — the page only.
 * Defaults are the authors' MNIST notebook (SPEC.md), the engine's own defaults.
 */
export const PARAMS = [
  { name: 'rule', kind: 'enum', values: RULES, default: 'burstccn', apply: 'live', label: 'learning rule' },
  { name: 'hidden', kind: 'list', min: 1, max: 2000, maxLength: 6, default: [500, 500, 500], apply: 'reset', label: 'hidden layers' },
  { name: 'lr', kind: 'number', min: 0, max: 10, default: 0.3, apply: 'live', label: 'learning rate η' },
  { name: 'p_baseline', kind: 'number', min: 0, max: 1, open: true, default: 0.5, apply: 'live', label: 'baseline burst probability p_b' },
  { name: 'y_mode', kind: 'enum', values: FEEDBACK_MODES, default: 'random', apply: 'reset', label: 'Y (burst feedback)' },
  { name: 'y_scale', kind: 'number', min: 0, max: 10, default: 0.5, apply: 'reset', label: 'Y scale' },
  { name: 'q_mode', kind: 'enum', values: FEEDBACK_MODES, default: 'symmetric_init', apply: 'reset', label: 'Q (event feedback)' },
  { name: 'q_learning', kind: 'bool', default: true, apply: 'live', label: 'Q learning' },
  { name: 'lr_q', kind: 'number', min: 0, max: 1, default: 0.000731, apply: 'live', label: 'Q learning rate η_Q' },
  { name: 'batch_size', kind: 'int', min: 1, max: 1024, default: 32, apply: 'live', label: 'batch size' },
  { name: 'seed', kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, default: 1, apply: 'reset', label: 'seed' },
  { name: 'embed', kind: 'bool', default: false, apply: 'page', label: 'embed' },
  { name: 'autoplay', kind: 'bool', default: false, apply: 'page', label: 'autoplay' },
];

/**
 * Parts of the page a link can hide with `<name>_hide=1`: every control above (except the
 * page flags) and the panels.
 */
export const HIDEABLE = [
  ...PARAMS.filter((p) => p.apply !== 'page').map((p) => p.name),
  'intro', 'settings', 'step', 'reset', 'share', 'model', 'dynamics',
  'network', 'curves', 'alignment', 'draw', 'confusion', 'digits',
];

/** What `embed=1` hides unless the link says `<name>_hide=0`: a compact view for an <iframe>. */
export const EMBED_HIDDEN = ['intro', 'settings', 'share', 'model', 'dynamics', 'draw', 'confusion', 'digits'];

/** Longest value text any setting accepts (lists of 6 widths are far shorter). */
const MAX_VALUE_LENGTH = 200;
/** Notices listed for one link; the rest are counted. */
const MAX_NOTICES = 24;
/** Link text quoted in a notice, at most (shown literally, as text). */
const QUOTE_LENGTH = 80;

/** Parse one value for parameter `p`; returns {value} or {error: reason}. */
export function parseValue(p, raw) {
  const text = String(raw).trim();
  // No setting needs more; a longer value is refused before any parsing.
  if (text.length > MAX_VALUE_LENGTH) return { error: `is too long (${text.length.toLocaleString('en-US')} characters)` };
  switch (p.kind) {
    case 'enum':
      return p.values.includes(text) ? { value: text } : { error: `must be one of ${p.values.join(', ')}` };
    case 'bool':
      if (['1', 'true', 'yes', 'on'].includes(text)) return { value: true };
      if (['0', 'false', 'no', 'off'].includes(text)) return { value: false };
      return { error: 'must be 1 or 0' };
    case 'int':
    case 'number': {
      // One way to match each text (no backtracking blow-up on long digit runs).
      if (text === '' || !/^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i.test(text)) return { error: 'is not a number' };
      const v = Number(text);
      if (!Number.isFinite(v)) return { error: 'is not a finite number' };
      if (p.kind === 'int' && !Number.isInteger(v)) return { error: 'must be a whole number' };
      const low = p.open ? v <= p.min : v < p.min;
      const high = p.open ? v >= p.max : v > p.max;
      if (low || high) return { error: `must be ${p.open ? 'strictly ' : ''}between ${p.min} and ${p.max}` };
      return { value: v === 0 ? 0 : v }; // "-0" is 0
    }
    case 'list': {
      // `item` names what the list holds in messages; an empty list is allowed unless
      // `minLength` says otherwise (no hidden layer: a one-layer network).
      const item = p.item || 'width';
      if (text === '' || text === '-') {
        return p.minLength ? { error: `must list ${p.minLength} to ${p.maxLength} ${item}s` } : { value: [] };
      }
      const parts = text.split(',');
      if (parts.length > p.maxLength) return { error: `at most ${p.maxLength} ${p.item ? `${item}s` : 'layers'}` };
      const out = [];
      for (const part of parts) {
        const v = Number(part);
        if (!/^\d+$/.test(part.trim()) || v < p.min || v > p.max) return { error: `each ${item} must be a whole number from ${p.min} to ${p.max}` };
        out.push(v);
      }
      return { value: out };
    }
    default:
      return { error: 'unknown kind' };
  }
}

/** The text of a value in the hash (the shortest that parses back to the same value). */
export function formatValue(p, v) {
  if (p.kind === 'bool') return v ? '1' : '0';
  if (p.kind === 'list') return v.length ? v.join(',') : '-';
  return String(v);
}

/** `text` for a notice: as it is, cut short past QUOTE_LENGTH characters. */
const quote = (text) => (text.length > QUOTE_LENGTH ? `${text.slice(0, QUOTE_LENGTH)}…` : text);

/**
 * The URL-hash state of a page, from its settings `params` (as PARAMS above; `apply: 'page'` or
 * `page: true` marks a page flag, written only when on), the parts a link may hide, and what
 * `embed=1` hides. Both pages use it, so a link is read the same way on either.
 */
export function linkState({ params, hideable, embedHidden }) {
  const byName = new Map(params.map((p) => [p.name, p]));
  const isFlag = (p) => p.apply === 'page' || p.page === true;

  /** A fresh state object with every default; `hide`/`show` hold explicit `_hide=1` / `_hide=0` flags. */
  function defaults() {
    const s = { hide: new Set(), show: new Set() };
    for (const p of params) s[p.name] = Array.isArray(p.default) ? [...p.default] : p.default;
    return s;
  }

  /**
   * Parse a URL hash into a full state. Unknown names and bad values fall back to the default
   * and are reported in `notices` (plain text, shown on the page), so a mistyped link still
   * opens. A key given twice: the last one wins, valid or not. Never throws.
   */
  function parseHash(hash) {
    const state = defaults();
    const notices = [];
    let more = 0;
    const note = (name, message) => {
      if (notices.length < MAX_NOTICES) notices.push({ name: quote(name), message });
      else more += 1;
    };
    const text = String(hash ?? '').replace(/^#/, '');
    for (const pair of text ? text.split('&') : []) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      let key, raw;
      try {
        key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
        raw = eq < 0 ? '1' : decodeURIComponent(pair.slice(eq + 1));
      } catch {
        note(pair, `could not read “${quote(pair)}” in the link; ignored`);
        continue;
      }
      if (key.endsWith('_hide')) {
        const target = key.slice(0, -5);
        if (!hideable.includes(target)) {
          note(key, `unknown hide flag “${quote(key)}”; ignored`);
        } else {
          const r = parseValue({ kind: 'bool' }, raw);
          if ('error' in r) note(key, `${key}=${quote(raw)} ${r.error}; ignored`);
          else {
            (r.value ? state.hide : state.show).add(target);
            (r.value ? state.show : state.hide).delete(target);
          }
        }
        continue;
      }
      const p = byName.get(key);
      if (!p) {
        note(key, `unknown setting “${quote(key)}” in the link; ignored`);
        continue;
      }
      const r = parseValue(p, raw);
      if ('error' in r) {
        note(key, `${key}=${quote(raw)} ${r.error}; using the default ${formatValue(p, p.default)}`);
        state[key] = Array.isArray(p.default) ? [...p.default] : p.default;
      } else {
        state[key] = r.value;
      }
    }
    if (more) notices.push({ name: '', message: `…and ${more.toLocaleString('en-US')} more problems in the link, not listed` });
    return { state, notices };
  }

  /** The hash for a state: every setting (so a link still reproduces the run if defaults change), then page flags. */
  function toHash(state) {
    const parts = [];
    for (const p of params) {
      if (isFlag(p)) {
        if (state[p.name]) parts.push(`${p.name}=1`);
      } else {
        parts.push(`${p.name}=${encodeURIComponent(formatValue(p, state[p.name])).replace(/%2C/g, ',')}`);
      }
    }
    for (const name of hideable) {
      if (state.hide.has(name)) parts.push(`${name}_hide=1`);
      else if (state.show.has(name)) parts.push(`${name}_hide=0`);
    }
    return '#' + parts.join('&');
  }

  /** The parts of the page hidden under a state: explicit flags, plus the embed defaults. */
  function hiddenParts(state) {
    const hidden = new Set(state.hide);
    if (state.embed) for (const name of embedHidden) if (!state.show.has(name)) hidden.add(name);
    return hidden;
  }

  return { params, hideable, embedHidden, param: (name) => byName.get(name), defaults, parseHash, toHash, hiddenParts };
}

/** The MNIST page's link state. */
export const link = linkState({ params: PARAMS, hideable: HIDEABLE, embedHidden: EMBED_HIDDEN });
export const { defaults, parseHash, toHash, hiddenParts, param } = link;

/** The engine's configuration object (src/model/config.rs) for a state. */
export function engineConfig(state) {
  return {
    layers: [INPUTS, ...state.hidden, OUTPUTS],
    rule: state.rule,
    lr: state.lr,
    p_baseline: state.p_baseline,
    y_mode: state.y_mode,
    y_scale: state.y_scale,
    q_mode: state.q_mode,
    lr_q: state.q_learning ? state.lr_q : 0,
    batch_size: state.batch_size,
    seed: state.seed,
  };
}

/** The settings part of a state from an engine configuration (after loading a snapshot). */
export function fromEngineConfig(state, cfg) {
  const next = { ...state, hide: new Set(state.hide), show: new Set(state.show) };
  next.hidden = cfg.layers.slice(1, -1);
  for (const name of ['rule', 'lr', 'p_baseline', 'y_mode', 'y_scale', 'q_mode', 'batch_size', 'seed']) next[name] = cfg[name];
  next.q_learning = cfg.lr_q > 0;
  if (cfg.lr_q > 0) next.lr_q = cfg.lr_q;
  // f32 in the engine: show the short decimal the user would have typed.
  for (const name of ['lr', 'p_baseline', 'y_scale', 'lr_q']) next[name] = Number(next[name].toPrecision(6));
  return next;
}

/** Names of settings whose values differ between two states. */
export function changed(a, b) {
  return PARAMS.filter((p) => formatValue(p, a[p.name]) !== formatValue(p, b[p.name])).map((p) => p.name);
}

