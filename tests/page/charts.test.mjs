// The charts' row histories (www/charts.js), without a browser: a fixed-size store that merges,
// thins and clears in place, so an hour of training holds as many rows (and bytes) as a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowStore, thinRows } from '../../www/charts.js';

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

test('thinning halves the older rows, keeps the newer half and the sparse column, and its buffer never changes', () => {
  const max = 100;
  const st = new RowStore(3, max + 1);
  const buffer = st.values;
  let x = 0;
  const full = new Set();
  for (let step = 0; step < 5000; step++) {
    x += 1;
    const epochEnd = step % 110 === 0;
    if (epochEnd) full.add(x);
    st.push([x, step / 10, epochEnd ? step : null]);
    if (st.length > max) thinRows(st, [2], max);
    assert.ok(st.length <= max);
  }
  assert.equal(st.values, buffer, 'the store kept its one buffer');
  const xs = Array.from({ length: st.length }, (_, i) => st.get(i, 0));
  assert.ok(xs.every((v, i) => i === 0 || v > xs[i - 1]), 'x stays increasing');
  assert.equal(xs.at(-1), x, 'the newest row is kept');
  // 46 sparse rows: fewer than max / 2, so every one of them survives every thinning.
  const sparseKept = () => Array.from({ length: st.length }, (_, i) => st.get(i, 2)).filter((v) => v != null).length;
  assert.equal(sparseKept(), full.size);
  assert.ok(st.length > max / 2, `${st.length} rows left`);
  // Once they would fill half the chart they are thinned too, and the bound still holds.
  for (let step = 0; step < 20000; step++) {
    st.push([++x, 0, step % 3 === 0 ? step : null]);
    if (st.length > max) thinRows(st, [2], max);
    assert.ok(st.length <= max);
  }
  assert.ok(sparseKept() < 2 * max / 3, `${sparseKept()} sparse rows kept`);
});
