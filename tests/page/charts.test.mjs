// The charts' row histories (www/charts.js), without a browser: a fixed-size store that merges,
// halves and clears in place, so an hour of training holds as many rows (and bytes) as a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowStore, History } from '../../www/charts.js';

test('a RowStore keeps rows in order, null for no value, and refuses rows beyond its room', () => {
  const st = new RowStore(3, 4);
  assert.ok(st.push([1, 0.5, null]));
  assert.ok(st.push([2, null, 7]));
  st.merge(1, [2, 0.25, null]);
  assert.deepEqual(st.row(0), [1, 0.5, null]);
  assert.deepEqual(st.row(1), [2, 0.25, 7]);
  assert.ok(st.push([3]) && st.push([4]));
  assert.equal(st.push([5, 1, 1]), false);
  assert.equal(st.length, 4);
  assert.deepEqual(st.row(2), [3, null, null]);
  st.keepWhere((i) => i % 2 === 1);
  assert.deepEqual([st.length, st.row(0), st.row(1)], [2, [2, 0.25, 7], [4, null, null]]);
  // The rows dropped are emptied, so a later push does not inherit their values.
  assert.ok(st.push([6]));
  assert.deepEqual(st.row(2), [6, null, null]);
  st.clear();
  assert.equal(st.length, 0);
  assert.ok(st.push([7]));
  assert.deepEqual(st.row(0), [7, null, null]);
});

test('a History keeps at most max rows in one buffer, evenly spread, the newest and the sparse values kept', () => {
  const max = 100;
  const h = new History(3, max);
  const buffer = h.store.values;
  let x = 0;
  const full = [];
  for (let step = 0; step < 5000; step++) {
    x += 1;
    // A full test score once an "epoch" (every 110 rows): sparse.
    const epochEnd = step % 110 === 0;
    if (epochEnd) full.push(step);
    assert.ok(h.push([x, step / 10, epochEnd ? step : null]));
    assert.ok(h.length <= max);
  }
  assert.equal(h.store.values, buffer, 'the history kept its one buffer');
  const rows = Array.from({ length: h.length }, (_, i) => h.row(i));
  const xs = rows.map((r) => r[0]);
  assert.ok(xs.every((v, i) => i === 0 || v > xs[i - 1]), 'x stays increasing');
  assert.equal(xs.at(-1), x, 'the newest row is kept');
  assert.equal(rows.at(-1)[1], 4999 / 10, 'with its value');
  // 46 epoch scores, 64 raw rows per stored row (stride) against 110 per epoch: none collide.
  assert.equal(h.stride, 64);
  assert.deepEqual(rows.map((r) => r[2]).filter((v) => v != null), full);
  // Evenly spread: as many rows in the first half of the run as in the second (within 2).
  const early = xs.filter((v) => v <= x / 2).length;
  assert.ok(Math.abs(early - (xs.length - early)) <= 2, `${early} of ${xs.length} rows in the first half`);
});

test('a History merges rows at the same x, drops late ones, and starts again when cleared', () => {
  const h = new History(3, 4);
  h.push([1, 5, null]);
  h.push([1, null, 7]);
  assert.deepEqual([h.length, h.row(0)], [1, [1, 5, 7]]);
  assert.equal(h.push([0, 1, 1]), false);
  for (let x = 2; x <= 9; x++) h.push([x, x, null]);
  assert.ok(h.length <= 4 && h.stride > 1);
  assert.equal(h.row(h.length - 1)[0], 9);
  h.clear();
  assert.deepEqual([h.length, h.stride], [0, 1]);
  h.push([3, 1, null]);
  h.push([4, 2, null]);
  assert.equal(h.length, 2, 'a fresh history keeps every row');
});
