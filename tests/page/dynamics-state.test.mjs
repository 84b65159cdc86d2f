// The Dynamics view's state object ⇄ URL hash, without a browser: every setting survives the
// trip, and random and hostile links never throw, always give a valid state, and report their
// problems in plain text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseValue, formatValue } from '../../www/state.js';
import { link, PARAMS, HIDEABLE } from '../../www/dynamics-state.js';
import { hostileLinkTests, rng } from './hostile.mjs';

test('every Dynamics state survives toHash → parseHash', () => {
  const rand = rng(99);
  for (let i = 0; i < 500; i++) {
    const s = link.defaults();
    for (const p of PARAMS) {
      if (p.kind === 'enum') s[p.name] = rand.pick(p.values);
      else if (p.kind === 'bool') s[p.name] = rand() < 0.5;
      else if (p.kind === 'int') s[p.name] = p.min + rand.int(Math.min(p.max - p.min, 1e6));
      else if (p.kind === 'number') s[p.name] = Number((p.min + rand() * (p.max - p.min)).toPrecision(1 + rand.int(6)));
      else if (p.kind === 'list') s[p.name] = Array.from({ length: p.minLength + rand.int(p.maxLength - p.minLength + 1) }, () => p.min + rand.int(p.max - p.min + 1));
    }
    for (const name of HIDEABLE) {
      const r = rand();
      if (r < 0.2) s.hide.add(name); else if (r < 0.3) s.show.add(name);
    }
    const { state, notices } = link.parseHash(link.toHash(s));
    assert.deepEqual(notices, [], link.toHash(s));
    assert.deepEqual({ ...state, hide: [...state.hide].sort(), show: [...state.show].sort() },
      { ...s, hide: [...s.hide].sort(), show: [...s.show].sort() });
  }
});

test('bad Dynamics values fall back to the defaults and are named', () => {
  const { state, notices } = link.parseHash('#speed=fast&units=0,99&teacher_hide=1&speed=1000&seed=-1');
  assert.equal(state.speed, '1000', 'the last value wins');
  assert.deepEqual(state.units, [0, 1, 2]);
  assert.equal(state.seed, 1);
  assert.ok(state.hide.has('teacher'));
  const text = notices.map((n) => n.message).join('\n');
  for (const name of ['speed=fast', 'units=0,99', 'seed=-1']) assert.ok(text.includes(name), name);
});

hostileLinkTests(test, assert, { page: 'Dynamics page', link, parseValue, formatValue });
