// Views of the test set: the confusion matrix (a table, so it reads aloud and scales) and a
// strip of test digits with the network's predictions, mistakes marked.
import { EVENT_MAP, css } from './colors.js';
import { drawDigit } from './heatmap.js';

/** Off-diagonal shading saturates at this fraction of the row, so rare mistakes still show. */
const MISTAKE_SATURATION = 0.1;

export class ConfusionMatrix {
  constructor(root) {
    this.root = root;
    const table = document.createElement('table');
    table.className = 'confusion';
    const head = ['<caption class="sr-only">Confusion matrix: rows are the true digit, columns the prediction</caption>',
      '<thead><tr><th scope="col" class="corner"><span class="sr-only">true digit</span></th>'];
    for (let d = 0; d < 10; d++) head.push(`<th scope="col">${d}</th>`);
    head.push('</tr></thead><tbody>');
    for (let t = 0; t < 10; t++) {
      head.push(`<tr><th scope="row">${t}</th>`);
      for (let p = 0; p < 10; p++) head.push(`<td class="${t === p ? 'diag' : 'off'}"></td>`);
      head.push('</tr>');
    }
    head.push('</tbody>');
    table.innerHTML = head.join('');
    root.replaceChildren(table);
    this.cells = [...table.querySelectorAll('td')];
  }

  /** confusion[true * 10 + predicted] counts. */
  update(confusion) {
    for (let t = 0; t < 10; t++) {
      let total = 0;
      for (let p = 0; p < 10; p++) total += confusion[t * 10 + p];
      for (let p = 0; p < 10; p++) {
        const n = confusion[t * 10 + p];
        const cell = this.cells[t * 10 + p];
        const f = total ? n / total : 0;
        cell.textContent = n ? String(n) : '';
        cell.title = `true ${t}, predicted ${p}: ${n} (${(f * 100).toFixed(1)} % of the ${t}s)`;
        if (t === p) {
          cell.style.background = css(EVENT_MAP, 0.15 + 0.75 * f);
          cell.style.color = f > 0.55 ? '#fff' : '';
        } else {
          const a = Math.min(1, f / MISTAKE_SATURATION);
          cell.style.background = n ? `rgba(192, 20, 60, ${(0.08 + 0.8 * a).toFixed(3)})` : '';
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
  }

  /** images: count × 784 bytes; labels; original: index in the MNIST test file; preds. */
  setImages({ start, images, labels, original, preds }) {
    this.start = start;
    this.labels = labels;
    this.root.replaceChildren();
    this.items = [];
    for (let i = 0; i < labels.length; i++) {
      const fig = document.createElement('figure');
      fig.className = 'strip-digit';
      const canvas = document.createElement('canvas');
      drawDigit(canvas, images.subarray(i * 784, (i + 1) * 784));
      canvas.setAttribute('role', 'img');
      const cap = document.createElement('figcaption');
      fig.append(canvas, cap);
      fig.title = `MNIST test image #${original[i]}, labelled ${labels[i]}`;
      this.root.append(fig);
      this.items.push({ fig, canvas, cap, index: original[i] });
    }
    this.setPredictions(preds);
  }

  setPredictions(preds) {
    if (!preds || preds.length !== this.items.length) return;
    let wrong = 0;
    this.items.forEach((it, i) => {
      const ok = preds[i] === this.labels[i];
      if (!ok) wrong++;
      it.fig.classList.toggle('mistake', !ok);
      it.fig.dataset.pred = String(preds[i]);
      it.fig.dataset.label = String(this.labels[i]);
      const el = (tag, text) => Object.assign(document.createElement(tag), { textContent: String(text) });
      if (ok) it.cap.replaceChildren(String(preds[i]));
      else it.cap.replaceChildren(el('b', preds[i]), ' ', el('s', this.labels[i]));
      it.canvas.setAttribute('aria-label', `test digit ${this.labels[i]}, predicted ${preds[i]}${ok ? '' : ' (mistake)'}`);
    });
    this.root.dataset.wrong = String(wrong);
  }
}
