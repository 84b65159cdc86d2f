// Dismissable notices under a page's header (both pages): errors are alerts, the rest status
// messages; a notice with the same key replaces the earlier one; 'info' notices fade after 9 s.

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
