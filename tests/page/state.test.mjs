// The page's state object ⇄ URL hash, without a browser: every setting survives the trip,
// bad values fall back to their defaults with a notice that names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PARAMS, HIDEABLE, MODELS, DATASETS, presetFor, defaults, parseHash, toHash, engineConfig, fromEngineConfig, hiddenParts, link, parseValue, formatValue } from '../../www/state.js';
import { hostileLinkTests } from './hostile.mjs';

function randomState(rand) {
  const s = defaults();
  for (const p of PARAMS) {
    if (p.kind === 'enum') s[p.name] = p.values[Math.floor(rand() * p.values.length)];
    else if (p.kind === 'bool') s[p.name] = rand() < 0.5;
    else if (p.kind === 'int') s[p.name] = Math.floor(p.min + rand() * Math.min(p.max - p.min, 1e6));
    else if (p.kind === 'number') {
      const v = Number((p.min + (0.001 + 0.998 * rand()) * (p.max - p.min)).toPrecision(1 + Math.floor(rand() * 6)));
      s[p.name] = p.open && (v <= p.min || v >= p.max) ? (p.min + p.max) / 2 : v; // rounding may reach an open end
    }
    else if (p.kind === 'list') s[p.name] = Array.from({ length: Math.floor(rand() * (p.maxLength + 1)) }, () => 1 + Math.floor(rand() * 999));
  }
  for (const name of HIDEABLE) {
    const r = rand();
    if (r < 0.2) s.hide.add(name); else if (r < 0.3) s.show.add(name);
  }
  return s;
}

test('every state survives toHash → parseHash', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 500; i++) {
    const s = randomState(rand);
    const { state, notices } = parseHash(toHash(s));
    assert.deepEqual(notices, [], toHash(s));
    assert.deepEqual({ ...state, hide: [...state.hide].sort(), show: [...state.show].sort() },
      { ...s, hide: [...s.hide].sort(), show: [...s.show].sort() });
  }
});

test('bad values fall back to the defaults and are named', () => {
  const { state, notices } = parseHash('#lr=abc&p_baseline=1&hidden=5,0&rule=sgd&seed=1.5&nope=1&draw_hide=maybe&batch_size=64');
  const d = defaults();
  for (const name of ['lr', 'p_baseline', 'hidden', 'rule', 'seed']) assert.deepEqual(state[name], d[name], name);
  assert.equal(state.batch_size, 64);
  const text = notices.map((n) => n.message).join('\n');
  for (const name of ['lr=abc', 'p_baseline=1', 'hidden=5,0', 'rule=sgd', 'seed=1.5', 'nope', 'draw_hide=maybe']) assert.ok(text.includes(name), name);
});

test('engine configuration: the authors’ notebook by default; Q learning off means lr_q = 0', () => {
  assert.deepEqual(engineConfig(defaults()), {
    model: 'burstccn', input_shape: null, conv: [],
    layers: [784, 500, 500, 500, 10], rule: 'burstccn', lr: 0.3, p_baseline: 0.5, y_mode: 'random', y_scale: 0.5,
    q_mode: 'symmetric_init', lr_q: 0.000731, batch_size: 32, seed: 1,
  });
  assert.equal(engineConfig({ ...defaults(), q_learning: false }).lr_q, 0);
  // From a loaded snapshot's configuration (f32 values) back to tidy settings.
  const back = fromEngineConfig(defaults(), { ...engineConfig(defaults()), lr: Math.fround(0.3), layers: [784, 256, 10], lr_q: 0 });
  assert.equal(back.lr, 0.3);
  assert.deepEqual(back.hidden, [256]);
  assert.equal(back.q_learning, false);
  assert.equal(back.lr_q, 0.000731, 'the rate is kept for when Q learning is turned back on');
});

test('embed hides the chrome unless a link shows it again', () => {
  const { state } = parseHash('#embed=1&draw_hide=0&lr_hide=1');
  const hidden = hiddenParts(state);
  for (const name of ['settings', 'intro', 'share', 'snapshot', 'cifar', 'kernels', 'confusion', 'digits', 'lr']) assert.ok(hidden.has(name), name);
  for (const name of ['draw', 'network', 'curves', 'model']) assert.ok(!hidden.has(name), name);
  // The model choice hides like any setting.
  assert.ok(hiddenParts(parseHash('#model=conv&model_hide=1&data_hide=1').state).has('model'));
});

test('model=conv: the MNIST conv net with its own defaults (the engine preset mnist-conv-page)', () => {
  const { state, notices } = parseHash('#model=conv');
  assert.deepEqual(notices, []);
  assert.equal(state.model, 'conv');
  assert.deepEqual(engineConfig(state), {
    model: 'burstccn', input_shape: [1, 28, 28],
    conv: [{ channels: 32, kernel: 5, stride: 2 }, { channels: 64, kernel: 3, stride: 2 }],
    layers: [64 * 5 * 5, 500, 10], rule: 'burstccn', lr: 0.5, p_baseline: 0.5, y_mode: 'random', y_scale: 1,
    q_mode: 'symmetric_init', lr_q: 0, batch_size: 16, seed: 1,
  });
  // A setting given in the link wins over the model's default; a bad one falls back to the model's.
  assert.equal(parseHash('#model=conv&lr=0.2').state.lr, 0.2);
  const bad = parseHash('#lr=abc&model=conv&batch_size=0');
  assert.equal(bad.state.lr, 0.5);
  assert.equal(bad.state.batch_size, 16);
  assert.match(bad.notices.map((n) => n.message).join('\n'), /lr=abc is not a number; using the default 0\.5/);
  // The last model named wins, as for any key; a bad model is the MLP, named in a notice.
  assert.equal(parseHash('#model=conv&model=mlp').state.lr, 0.3);
  const odd = parseHash('#model=%3Cscript%3E&lr=abc');
  assert.equal(odd.state.model, 'mlp');
  assert.equal(odd.state.lr, 0.3);
  assert.ok(odd.notices.some((n) => n.message.includes('model=<script>')));
  // CIFAR-10: the conv net at the authors' command-line settings, 3 × 32 × 32 in.
  const c = engineConfig(parseHash('#model=conv&data=cifar10').state);
  assert.deepEqual([c.input_shape, c.layers, c.lr, c.batch_size], [[3, 32, 32], [64 * 6 * 6, 500, 10], 0.1, 32]);
  // A conv snapshot's configuration reads back as model=conv.
  const back = fromEngineConfig(defaults(), engineConfig(state));
  assert.equal(back.model, 'conv');
  assert.equal(back.data, 'mnist');
  assert.deepEqual(back.hidden, [500]);
  // Round trips: a conv state's hash parses back to the same state.
  assert.deepEqual(parseHash(toHash(state)).state, state);
});

test('every model and data set: a link naming only them gets their defaults, and round-trips', () => {
  for (const model of MODELS) {
    for (const data of DATASETS) {
      const { state, notices } = parseHash(`#model=${model}&data=${data}`);
      assert.deepEqual(notices, []);
      assert.deepEqual(state, defaults({ model, data }));
      for (const [k, v] of Object.entries(presetFor(model, data))) assert.deepEqual(state[k], v, `${model}/${data}: ${k}`);
      assert.deepEqual(parseHash(toHash(state)).state, state);
      const cfg = engineConfig(state);
      const inputs = data === 'cifar10' ? 3072 : 784;
      if (cfg.conv?.length) assert.deepEqual(cfg.input_shape, data === 'cifar10' ? [3, 32, 32] : [1, 28, 28]);
      else assert.equal(cfg.layers[0], inputs);
    }
  }
});

// Random and hostile links: never a throw, always a valid state, problems told in plain text.
hostileLinkTests(test, assert, { page: 'MNIST page', link, parseValue, formatValue });
