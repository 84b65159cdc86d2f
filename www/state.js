// Every setting of the page lives in one state object that round-trips through the URL hash
// (`#rule=burstccn&lr=0.3&…`), so a link reproduces a run and a lecture page can hide any
// control with `<name>_hide=1`. No DOM here: app.js binds the controls.

const RULES = ['burstccn', 'backprop', 'fa'];
const FEEDBACK_MODES = ['random', 'symmetric_init', 'tied'];

/**
 * The models the page trains: BurstCCN as an MLP, as a conv net (the browser-sized one, or the
 * paper's CIFAR-10 net), and the paper's comparisons Burstprop and EDN (MLPs).
 */
export const MODELS = ['mlp', 'conv', 'conv-paper', 'burstprop', 'edn'];
/** The data sets: MNIST (downloaded by the page) and CIFAR-10 (a file the user gives it). */
export const DATASETS = ['mnist', 'cifar10'];

/** One input of each data set, [channels, height, width]. */
export const INPUT_SHAPES = { mnist: [1, 28, 28], cifar10: [3, 32, 32] };
export const OUTPUTS = 10;
/** MNIST's input size (the MLP's first layer). */
export const INPUTS = 784;

/**
 * The conv layers of each conv model (src/model/config.rs): `conv` is the MNIST conv net
 * (Config::mnist_conv_page, 32 maps 5×5 stride 2, 64 maps 3×3 stride 2), on CIFAR-10 too, where
 * it costs a fifth of the paper's net per sample; `conv-paper` is the paper's CIFAR-10 net
 * (Config::paper_cifar). Dense hidden layers follow, from the `hidden` setting.
 */
export const CONV_STACKS = {
  conv: [{ channels: 32, kernel: 5, stride: 2 }, { channels: 64, kernel: 3, stride: 2 }],
  'conv-paper': [{ channels: 64, kernel: 5, stride: 2 }, { channels: 128, kernel: 5, stride: 2 }, { channels: 256, kernel: 3, stride: 1 }],
};

/** Values out of a conv stack on an input shape (or the input's size with no conv layers). */
export function convOutput([c, h, w], conv) {
  let [ch, hh, ww] = [c, h, w];
  for (const { channels, kernel, stride } of conv) {
    hh = Math.floor((hh - kernel) / stride) + 1;
    ww = Math.floor((ww - kernel) / stride) + 1;
    ch = channels;
  }
  return ch * hh * ww;
}

/**
 * The settings each model starts from where they differ from the MLP's (the engine's presets:
 * presetConfig('mnist-conv-page' | 'paper-cifar' | 'burstprop' | 'edn'); page.test checks they
 * agree). Conv nets: the authors' command-line defaults (η 0.1, batch 32, Y scale 1, no Q
 * learning), the MNIST conv net at η 0.5 and batch 16 (chosen on its first epoch).
 */
export function presetFor(model, data) {
  switch (model) {
    case 'conv':
      return data === 'mnist'
        ? { hidden: [500], lr: 0.5, batch_size: 16, y_scale: 1, q_learning: false }
        : { hidden: [500], lr: 0.1, batch_size: 32, y_scale: 1, q_learning: false };
    case 'conv-paper': return { hidden: [1480], lr: 0.1, batch_size: 32, y_scale: 1, q_learning: false };
    case 'burstprop': return { lr: 0.1, p_baseline: 0.2, y_scale: 1 };
    // EDN: its interneurons tied to Y (the authors' symmetric start diverges on 500-unit layers;
    // README, "Burstprop and EDN": η 0.3 with tied interneurons learns).
    case 'edn': return { lr: 0.3, y_scale: 1 };
    default: return {};
  }
}

/** Settings that mean nothing to a model (its controls are disabled). */
export function unusedBy(model) {
  switch (model) {
    case 'burstprop': return new Set(['rule', 'q_mode', 'q_learning', 'lr_q']);
    case 'edn': return new Set(['rule', 'p_baseline', 'q_mode', 'q_learning', 'lr_q']);
    default: return new Set();
  }
}

/**
 * The settings. `apply` says how a change reaches the engine:
 *   'live'  — setConfig mid-run, weights kept;
 *   'reset' — defines the initial weights (architecture, seed, initial feedback), so a change
 *             builds a new network after asking;
 *   'page'  — the page only.
 * Defaults are the authors' MNIST notebook (SPEC.md), the engine's own defaults.
 */
export const PARAMS = [
  { name: 'model', kind: 'enum', values: MODELS, default: 'mlp', apply: 'reset', label: 'model' },
  { name: 'data', kind: 'enum', values: DATASETS, default: 'mnist', apply: 'reset', label: 'data set' },
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
  'intro', 'settings', 'step', 'reset', 'share', 'snapshot', 'cifar', 'dynamics',
  'network', 'kernels', 'curves', 'alignment', 'draw', 'confusion', 'digits',
];

/** What `embed=1` hides unless the link says `<name>_hide=0`: a compact view for an <iframe>. */
export const EMBED_HIDDEN = ['intro', 'settings', 'share', 'snapshot', 'cifar', 'dynamics', 'kernels', 'draw', 'confusion', 'digits'];

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
export function linkState({ params, hideable, embedHidden, presets = null }) {
  const byName = new Map(params.map((p) => [p.name, p]));
  const isFlag = (p) => p.apply === 'page' || p.page === true;
  const copy = (v) => (Array.isArray(v) ? [...v] : v);

  /**
   * A fresh state object with every default; `hide`/`show` hold explicit `_hide=1` / `_hide=0`
   * flags. With `presets` ({keys, defaults(selection)}), some defaults depend on the values of
   * the `keys` settings (e.g. each model has its own learning rate): `selection` holds those.
   */
  function defaults(selection = {}) {
    const s = { hide: new Set(), show: new Set() };
    for (const p of params) s[p.name] = copy(p.default);
    if (presets) {
      for (const k of presets.keys) if (selection[k] !== undefined) s[k] = selection[k];
      const over = presets.defaults(s);
      for (const p of params) if (Object.hasOwn(over, p.name) && !presets.keys.includes(p.name)) s[p.name] = copy(over[p.name]);
    }
    return s;
  }

  /** Split a hash into its pairs: [{pair, key, raw}] or [{pair, error}] for an undecodable one. */
  function pairsOf(text) {
    const out = [];
    for (const pair of text ? text.split('&') : []) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      try {
        out.push({ pair, key: decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq)), raw: eq < 0 ? '1' : decodeURIComponent(pair.slice(eq + 1)) });
      } catch {
        out.push({ pair, error: true });
      }
    }
    return out;
  }

  /**
   * Parse a URL hash into a full state. Unknown names and bad values fall back to the default
   * and are reported in `notices` (plain text, shown on the page), so a mistyped link still
   * opens. A key given twice: the last one wins, valid or not. Never throws.
   */
  function parseHash(hash) {
    const notices = [];
    let more = 0;
    const note = (name, message) => {
      if (notices.length < MAX_NOTICES) notices.push({ name: quote(name), message });
      else more += 1;
    };
    const pairs = pairsOf(String(hash ?? '').replace(/^#/, ''));
    // The settings other defaults depend on first (the last of each wins, valid or not).
    const selection = {};
    for (const k of presets?.keys ?? []) {
      const last = pairs.findLast((q) => q.key === k);
      if (last) {
        const r = parseValue(byName.get(k), last.raw);
        if (!('error' in r)) selection[k] = r.value;
      }
    }
    const state = defaults(selection);
    const fallback = defaults({ ...selection });
    for (const { pair, key, raw, error } of pairs) {
      if (error) {
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
        note(key, `${key}=${quote(raw)} ${r.error}; using the default ${formatValue(p, fallback[key])}`);
        state[key] = copy(fallback[key]);
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

/** The MNIST page's link state: a link without a learning rate gets its model's. */
export const link = linkState({
  params: PARAMS, hideable: HIDEABLE, embedHidden: EMBED_HIDDEN,
  presets: { keys: ['model', 'data'], defaults: (s) => presetFor(s.model, s.data) },
});
export const { defaults, parseHash, toHash, hiddenParts, param } = link;

/** The engine's configuration object (src/model/config.rs, burstprop.rs, edn.rs) for a state. */
export function engineConfig(state) {
  const shape = INPUT_SHAPES[state.data];
  const inputs = shape[0] * shape[1] * shape[2];
  const shared = { lr: state.lr, y_mode: state.y_mode, y_scale: state.y_scale, batch_size: state.batch_size, seed: state.seed };
  switch (state.model) {
    case 'burstprop':
      return { model: 'burstprop', input_shape: null, conv: [], layers: [inputs, ...state.hidden, OUTPUTS], p_baseline: state.p_baseline, ...shared };
    case 'edn':
      return { model: 'edn', layers: [inputs, ...state.hidden, OUTPUTS], interneuron_mode: 'tied', ...shared };
    default: {
      const conv = CONV_STACKS[state.model] ?? [];
      return {
        model: 'burstccn',
        input_shape: conv.length ? [...shape] : null,
        conv: conv.map((c) => ({ ...c })),
        layers: [conv.length ? convOutput(shape, conv) : inputs, ...state.hidden, OUTPUTS],
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
  }
}

/** The model of a state a configuration describes: its model, its conv stack, its data set. */
function modelOf(cfg) {
  if (cfg.model === 'burstprop' || cfg.model === 'edn') return cfg.model;
  if (!cfg.conv?.length) return 'mlp';
  const same = (a, b) => a.length === b.length && a.every((c, i) => c.channels === b[i].channels && c.kernel === b[i].kernel && c.stride === b[i].stride);
  return Object.keys(CONV_STACKS).find((name) => same(CONV_STACKS[name], cfg.conv)) ?? 'conv';
}

/** Whether a configuration's conv layers are one of the page's stacks (else Reset builds the page's). */
export function knownStack(cfg) {
  return !cfg.conv?.length || Object.values(CONV_STACKS).some((st) => st.length === cfg.conv.length
    && st.every((c, i) => c.channels === cfg.conv[i].channels && c.kernel === cfg.conv[i].kernel && c.stride === cfg.conv[i].stride));
}

/** The settings part of a state from an engine configuration (after loading a snapshot). */
export function fromEngineConfig(state, cfg) {
  const next = { ...state, hide: new Set(state.hide), show: new Set(state.show) };
  next.model = modelOf(cfg);
  const inputs = cfg.input_shape ? cfg.input_shape.reduce((a, b) => a * b, 1) : cfg.layers[0];
  next.data = inputs === 3 * 32 * 32 ? 'cifar10' : 'mnist';
  next.hidden = cfg.layers.slice(1, -1);
  for (const name of ['rule', 'lr', 'p_baseline', 'y_mode', 'y_scale', 'q_mode', 'batch_size', 'seed']) if (cfg[name] !== undefined) next[name] = cfg[name];
  if (cfg.lr_q !== undefined) {
    next.q_learning = cfg.lr_q > 0;
    if (cfg.lr_q > 0) next.lr_q = cfg.lr_q;
  }
  // f32 in the engine: show the short decimal the user would have typed.
  for (const name of ['lr', 'p_baseline', 'y_scale', 'lr_q']) next[name] = Number(next[name].toPrecision(6));
  return next;
}

/** Names of settings whose values differ between two states. */
export function changed(a, b) {
  return PARAMS.filter((p) => formatValue(p, a[p.name]) !== formatValue(p, b[p.name])).map((p) => p.name);
}

