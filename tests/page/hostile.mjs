// Hostile and random URL hashes, for the property tests of both pages' link state
// (state.test.mjs, dynamics-state.test.mjs) and the browser test (hostile-links.test.mjs).

/** A small seeded generator (mulberry32), so a failure names a reproducible case. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[next.int(list.length)];
  return next;
}

/** Script payloads: each, if it ever ran, sets window.__pwned and opens a dialog. */
export const PAYLOADS = [
  '"><img src=x onerror="window.__pwned=1;alert(1)">',
  'javascript:window.__pwned=1;alert(1)',
  '</script><script>window.__pwned=1;alert(1)</script>',
];

/** Keys that trip naive object handling. */
export const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf',
  '__proto___hide', 'constructor_hide', 'prototype_hide', 'hide', 'show', '_hide', '', '=', '&'];

/** Values that trip naive parsing: huge, not finite, odd spellings, percent garbage, markup. */
export const NASTY_VALUES = ['', ' ', '-', ',', ',,', '1,', ',1', '0', '-0', '+1', '1e999', '-1e999', '1e-400', 'NaN',
  'Infinity', '-Infinity', '0x10', '1_000', '１', '1.', '.5', '..5', '1e', 'e5', ' 1 ', '\t1', '9'.repeat(400),
  '9007199254740993', '-9007199254740993', '1'.repeat(200_000) + 'x', `${'1,'.repeat(50_000)}1`, '%', '%zz', '%e0%80',
  '%00', '%0a', '%ff', 'true', 'yes', 'on', 'null', 'undefined', '[object Object]', '__proto__', 'constructor',
  ...PAYLOADS];

/** Random bytes, percent-encoded or raw (a raw one may be a lone '%': undecodable). */
export function randomText(rand, max = 40) {
  const n = rand.int(max);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.3) s += `%${rand.int(256).toString(16).padStart(2, '0')}`;
    else if (r < 0.35) s += '%';
    else if (r < 0.4) s += rand.pick(['&', '=', '#', ',', '+', ' ', '<', '>', '"', "'"]);
    else s += String.fromCharCode(32 + rand.int(95));
  }
  return s;
}

/**
 * A random hostile hash over the page's parameter names `names` and hide targets `hideable`:
 * real names with nasty or random values, nasty and random keys, repeated keys, junk pairs.
 */
export function hostileHash(rand, names, hideable) {
  const pairs = [];
  const count = 1 + rand.int(30);
  for (let i = 0; i < count; i++) {
    const r = rand();
    const key = r < 0.45 ? rand.pick(names)
      : r < 0.6 ? `${rand.pick(hideable)}_hide`
        : r < 0.75 ? rand.pick(NASTY_KEYS)
          : randomText(rand, 12);
    const v = rand();
    const value = v < 0.45 ? rand.pick(NASTY_VALUES) : v < 0.8 ? randomText(rand) : String(rand() * 10 ** rand.int(20));
    const enc = rand() < 0.5 ? encodeURIComponent : (x) => x;
    pairs.push(rand() < 0.1 ? enc(key) : `${enc(key)}=${enc(value)}`);
  }
  return `#${pairs.join('&')}`;
}

/**
 * Check that `state` is a valid state of `link` (a linkState from www/state.js): exactly the
 * settings and the hide/show sets, every value one its parameter accepts, nothing inherited or
 * polluted, and a hash that parses back to the same state with no notice.
 */
export function assertValidState(assert, link, parseValue, formatValue, state, context) {
  const msg = (m) => `${m} (${context.length > 300 ? `${context.slice(0, 300)}…` : context})`;
  assert.equal(Object.getPrototypeOf(state), Object.prototype, msg('a plain object'));
  assert.deepEqual(Object.keys(state).sort(), ['hide', 'show', ...link.params.map((p) => p.name)].sort(), msg('exactly the settings'));
  for (const p of link.params) {
    const v = state[p.name];
    const back = parseValue(p, formatValue(p, v));
    assert.ok(!('error' in back), msg(`${p.name}=${String(v).slice(0, 80)} is not a valid value: ${back.error}`));
    assert.deepEqual(back.value, v, msg(`${p.name} round trip`));
    if (p.kind === 'enum') assert.ok(p.values.includes(v), msg(`${p.name} is one of its values`));
  }
  for (const set of ['hide', 'show']) {
    assert.ok(state[set] instanceof Set, msg(`${set} is a Set`));
    for (const name of state[set]) assert.ok(link.hideable.includes(name), msg(`${set} holds only hideable parts: ${name}`));
  }
  for (const name of state.hide) assert.ok(!state.show.has(name), msg(`${name} both hidden and shown`));
  const again = link.parseHash(link.toHash(state));
  assert.deepEqual(again.notices, [], msg('its own hash parses with no notice'));
  assert.deepEqual({ ...again.state, hide: [...again.state.hide].sort(), show: [...again.state.show].sort() },
    { ...state, hide: [...state.hide].sort(), show: [...state.show].sort() }, msg('its own hash parses back to it'));
}

/** The notices of a parse: a short list of short plain-text messages. */
export function assertNotices(assert, notices, context) {
  assert.ok(Array.isArray(notices), context);
  assert.ok(notices.length <= 25, `at most 25 notices, got ${notices.length}`);
  for (const n of notices) {
    assert.equal(typeof n.message, 'string');
    assert.ok(n.message.length <= 400, `a notice of ${n.message.length} characters`);
  }
}

/** The property tests of a page's link state, run by state.test.mjs and dynamics-state.test.mjs. */
/** A parse that takes minutes is a hang (a long digit run once did this to a regex): fail, don't wait. */
const HANG_GUARD = { timeout: 120_000 };

export function hostileLinkTests(test, assert, { page, link, parseValue, formatValue }) {
  const names = link.params.map((p) => p.name);
  const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();
  const clean = protoKeys();
  const check = (hash) => {
    let parsed;
    assert.doesNotThrow(() => { parsed = link.parseHash(hash); }, `parseHash threw on ${hash.slice(0, 200)}`);
    assertValidState(assert, link, parseValue, formatValue, parsed.state, hash);
    assertNotices(assert, parsed.notices, hash.slice(0, 200));
    assert.deepEqual(protoKeys(), clean, 'Object.prototype untouched');
    assert.equal(({}).__pwned, undefined);
    return parsed;
  };

  test(`${page}: random hostile hashes never throw and always give a valid state`, HANG_GUARD, () => {
    const rand = rng(20261201);
    for (let i = 0; i < 3000; i++) check(hostileHash(rand, names, link.hideable));
  });

  test(`${page}: every setting and hide flag with every nasty value`, HANG_GUARD, () => {
    for (const v of NASTY_VALUES) {
      for (const enc of [encodeURIComponent, (x) => x]) {
        check(`#${names.map((n) => `${n}=${enc(v)}`).join('&')}`);
        check(`#${link.hideable.map((n) => `${n}_hide=${enc(v)}`).join('&')}`);
      }
    }
    for (const k of NASTY_KEYS) {
      for (const enc of [encodeURIComponent, (x) => x]) {
        const { state } = check(`#${enc(k)}=1&${enc(k)}=${enc('<b>x</b>')}&${enc(k)}`);
        assert.deepEqual(state, link.defaults(), `${k} changes nothing`);
      }
    }
  });

  test(`${page}: nasty keys and values are reported as plain text, cut short`, HANG_GUARD, () => {
    for (const p of PAYLOADS) {
      const { notices } = check(`#${encodeURIComponent(p)}=1&${names[0]}=${encodeURIComponent(p)}`);
      assert.ok(notices.some((n) => n.message.includes(p)), `the notice names “${p}” literally: ${JSON.stringify(notices)}`);
    }
    const { notices } = check(`#${names[0]}=${'7'.repeat(5000)}x`);
    assert.equal(notices.length, 1);
    assert.ok(notices[0].message.includes('…'), 'a long value is cut short in its notice');
  });

  test(`${page}: repeated keys: the last one wins, valid or not`, HANG_GUARD, () => {
    const num = link.params.find((p) => p.kind === 'number');
    const d = link.defaults();
    const v = formatValue(num, num.min + (num.max - num.min) / 4);
    assert.equal(check(`#${num.name}=banana&${num.name}=${v}`).state[num.name], Number(v));
    const bad = check(`#${num.name}=${v}&${num.name}=banana`);
    assert.equal(bad.state[num.name], d[num.name], 'a bad last value falls back to the default, as its notice says');
    assert.match(bad.notices[0].message, /default/);
    const part = link.hideable[0];
    const flip = check(`#${part}_hide=1&${part}_hide=0`).state;
    assert.ok(!flip.hide.has(part) && flip.show.has(part));
    const flop = check(`#${part}_hide=0&${part}_hide=1`).state;
    assert.ok(flop.hide.has(part) && !flop.show.has(part));
  });

  test(`${page}: very long hashes`, HANG_GUARD, () => {
    const rand = rng(7);
    check(`#${Array.from({ length: 20_000 }, () => `${rand.pick(names)}=${randomText(rand, 8)}`).join('&')}`);
    check(`#${'&'.repeat(200_000)}`);
    check(`#${names[0]}=${'%41'.repeat(100_000)}`);
    check(`#${'x'.repeat(1_000_000)}`);
    const many = check(`#${Array.from({ length: 5000 }, (_, i) => `nope${i}=1`).join('&')}`);
    assert.match(many.notices.at(-1).message, /4,976 more/, 'the rest of a flood of problems is counted, not listed');
  });
}
