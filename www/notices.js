// Shared by both pages: dismissable notices under the header (errors are alerts, the rest status
// messages; one key, one notice; 'info' ones fade after 9 s) and the Share / embed dialog.

/**
 * Notices appended to `container`: `notify(kind, text, key = text, items = [])` shows one (with
 * an optional list), `dismiss(key)` removes one.
 */
export function createNotices(container) {
  const shown = new Map();
  const dismiss = (key) => {
    shown.get(key)?.remove();
    shown.delete(key);
  };
  const notify = (kind, text, key = text, items = []) => {
    shown.get(key)?.remove();
    const el = document.createElement('div');
    el.className = `notice ${kind}`;
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    el.dataset.key = key;
    const msg = document.createElement('span');
    msg.textContent = text;
    if (items.length) {
      const ul = document.createElement('ul');
      for (const item of items) {
        const li = document.createElement('li');
        li.textContent = item;
        ul.append(li);
      }
      msg.append(ul);
    }
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.setAttribute('aria-label', 'Dismiss');
    close.textContent = '×';
    close.addEventListener('click', () => { el.remove(); shown.delete(key); });
    el.append(msg, close);
    container.append(el);
    shown.set(key, el);
    if (kind === 'info') setTimeout(() => { el.remove(); if (shown.get(key) === el) shown.delete(key); }, 9000);
    return el;
  };
  return { notify, dismiss };
}

/**
 * The Share / embed dialog of both pages: `open` shows it (after `beforeOpen`, e.g. writing the
 * hash), `fill` writes the link and snippet fields and runs again when a dialog option changes,
 * and every `[data-copy]` button copies the field it names.
 */
export function wireShareDialog(dialog, open, fill, beforeOpen = () => {}) {
  open.addEventListener('click', () => {
    beforeOpen();
    fill();
    dialog.showModal();
  });
  dialog.addEventListener('change', fill);
  dialog.querySelectorAll('[data-copy]').forEach((btn) => btn.addEventListener('click', async () => {
    const field = document.getElementById(btn.dataset.copy);
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      btn.textContent = 'Copied';
    } catch {
      btn.textContent = 'Press Ctrl+C';
    }
    setTimeout(() => { btn.textContent = 'Copy'; }, 2000);
  }));
}
