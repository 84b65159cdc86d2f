// Views of the test set: the confusion matrix (a table, so it reads aloud and scales) and a
// strip of test images with the network's predictions, mistakes marked. Digits 0–9 for MNIST,
// class names (and colour images) for CIFAR-10.
import { EVENT_MAP, css } from './colors.js';
import { drawDigit, drawColour } from './heatmap.js';

/** Off-diagonal shading saturates at this fraction of the row, so rare mistakes still show. */
const MISTAKE_SATURATION = 0.1;

/** Short forms of CIFAR-10's class names for the matrix's columns and the strip's captions. */
const SHORT = { airplane: 'plane', automobile: 'car' };
const short = (name) => SHORT[name] ?? name;
const DIGITS = Array.from({ length: 10 }, (_, d) => String(d));

export class ConfusionMatrix {
  constructor(root) {
    this.root = root;
    this.setClasses(DIGITS);
  }

  /** The class names of the rows (true) and columns (predicted). */
  setClasses(names) {
    if (this.names && this.names.join() === names.join()) return;
    this.names = [...names];
    const named = names.some((n) => n.length > 1);
    const what = named ? 'class' : 'digit';
    const table = document.createElement('table');
    table.className = `confusion${named ? ' named' : ''}`;
    const head = [`<caption class="sr-only">Confusion matrix: rows are the true ${what}, columns the prediction</caption>`,
      `<thead><tr><th scope="col" class="corner"><span class="sr-only">true ${what}</span></th>`];
    for (let p = 0; p < names.length; p++) head.push(`<th scope="col" data-p="${p}"></th>`);
    head.push('</tr></thead><tbody>');
    for (let t = 0; t < names.length; t++) {
      head.push(`<tr><th scope="row" data-t="${t}"></th>`);
      for (let p = 0; p < names.length; p++) head.push(`<td class="${t === p ? 'diag' : 'off'}"></td>`);
      head.push('</tr>');
    }
    head.push('</tbody>');
    table.innerHTML = head.join('');
    // Names as text (never markup).
    table.querySelectorAll('th[data-p]').forEach((th) => {
      th.textContent = short(names[Number(th.dataset.p)]);
      th.title = names[Number(th.dataset.p)];
    });
    table.querySelectorAll('th[data-t]').forEach((th) => { th.textContent = names[Number(th.dataset.t)]; });
    this.root.replaceChildren(table);
    this.cells = [...table.querySelectorAll('td')];
    this.root.dataset.classes = named ? 'names' : 'digits';
  }

  /** confusion[true * n + predicted] counts. */
  update(confusion) {
    const n = this.names.length;
    if (confusion.length !== n * n) return;
    for (let t = 0; t < n; t++) {
      let total = 0;
      for (let p = 0; p < n; p++) total += confusion[t * n + p];
      for (let p = 0; p < n; p++) {
        const c = confusion[t * n + p];
        const cell = this.cells[t * n + p];
        const f = total ? c / total : 0;
        cell.textContent = c ? String(c) : '';
        cell.title = `true ${this.names[t]}, predicted ${this.names[p]}: ${c} (${(f * 100).toFixed(1)} % of the ${this.names[t]}${this.names[t].length > 1 ? ' images' : 's'})`;
        if (t === p) {
          cell.style.background = css(EVENT_MAP, 0.15 + 0.75 * f);
          cell.style.color = f > 0.55 ? '#fff' : '';
        } else {
          const a = Math.min(1, f / MISTAKE_SATURATION);
          cell.style.background = c ? `rgba(192, 20, 60, ${(0.08 + 0.8 * a).toFixed(3)})` : '';
          cell.style.color = a > 0.6 ? '#fff' : '';
        }
      }
    }
    this.root.dataset.total = String(confusion.reduce((a, b) => a + b, 0));
  }
}

export class DigitStrip {
  constructor(root) {
    this.root = root;
    this.items = [];
    this.names = DIGITS;
  }

  /**
   * images: count × (784 grey | 3072 colour planes) bytes; labels; original: index in the test
   * file; preds; data: 'mnist' | 'cifar10'; classes: the names of the labels.
   */
  setImages({ start, images, labels, original, preds, data = 'mnist', inputShape = [1, 28, 28] }, classes = DIGITS) {
    this.start = start;
    this.labels = labels;
    this.names = classes;
    this.data = data;
    const size = inputShape.reduce((a, b) => a * b, 1);
    this.root.replaceChildren();
    this.root.classList.toggle('colour', inputShape[0] === 3);
    this.items = [];
    for (let i = 0; i < labels.length; i++) {
      const fig = document.createElement('figure');
      fig.className = 'strip-digit';
      const canvas = document.createElement('canvas');
      const pixels = images.subarray(i * size, (i + 1) * size);
      if (inputShape[0] === 3) drawColour(canvas, { planes: pixels }, inputShape[1]);
      else drawDigit(canvas, pixels, inputShape[1]);
      canvas.setAttribute('role', 'img');
      const cap = document.createElement('figcaption');
      fig.append(canvas, cap);
      fig.title = `${data === 'cifar10' ? 'CIFAR-10' : 'MNIST'} test image #${original[i]}, labelled ${classes[labels[i]]}`;
      this.root.append(fig);
      this.items.push({ fig, canvas, cap, index: original[i] });
    }
    this.setPredictions(preds);
  }

  setPredictions(preds) {
    if (!preds || preds.length !== this.items.length) return;
    let wrong = 0;
    const name = (d) => short(this.names[d] ?? String(d));
    this.items.forEach((it, i) => {
      const ok = preds[i] === this.labels[i];
      if (!ok) wrong++;
      it.fig.classList.toggle('mistake', !ok);
      it.fig.dataset.pred = String(preds[i]);
      it.fig.dataset.label = String(this.labels[i]);
      const el = (tag, text) => Object.assign(document.createElement(tag), { textContent: String(text) });
      if (ok) it.cap.replaceChildren(name(preds[i]));
      else it.cap.replaceChildren(el('b', name(preds[i])), ' ', el('s', name(this.labels[i])));
      it.canvas.setAttribute('aria-label', `test ${this.data === 'cifar10' ? 'image' : 'digit'} ${this.names[this.labels[i]]}, predicted ${this.names[preds[i]]}${ok ? '' : ' (mistake)'}`);
    });
    this.root.dataset.wrong = String(wrong);
  }
}
