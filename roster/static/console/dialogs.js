// The confirmation dialog: a modal <dialog> (the browser makes the rest of the page inert and
// closes it on Escape), focus on the harmless choice first and back on the opener after.
import { html, useEffect, useRef } from './vendor/htm-3.1.1/standalone.module.js';
import { t } from './i18n.js';

let dialogCount = 0;

/**
 * Asks before an irreversible action. Shown while `open`; `onConfirm` and `onCancel` are the
 * two answers (Escape is Cancel). `busy` disables the buttons while the action runs.
 */
export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onCancel, busy }) {
  const dialog = useRef(null);
  const cancel = useRef(null);
  const opener = useRef(null);
  const ids = useRef(null);
  if (ids.current === null) {
    dialogCount += 1;
    ids.current = { title: `dialog-title-${dialogCount}`, body: `dialog-body-${dialogCount}` };
  }

  useEffect(() => {
    const element = dialog.current;
    if (open && !element.open) {
      opener.current = document.activeElement;
      element.showModal();
      cancel.current.focus();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);

  useEffect(() => {
    const element = dialog.current;
    const restore = () => {
      const back = opener.current;
      opener.current = null;
      // The opener may be gone (the row deleted) or disabled now: then the page's heading.
      if (back?.isConnected && !back.disabled) back.focus();
      else document.querySelector('main h1')?.focus();
    };
    element.addEventListener('close', restore);
    return () => {
      element.removeEventListener('close', restore);
      // Gone while open (the page it belonged to went with what it deleted): focus would be
      // left on nothing, so the new page's heading takes it once rendered.
      if (element.open) setTimeout(() => document.activeElement === document.body && restore());
    };
  }, []);

  const onDialogCancel = (event) => {
    // Escape: the dialog closes only when the page says so, so that its state stays the truth.
    event.preventDefault();
    if (!busy) onCancel();
  };

  return html`
    <dialog
      ref=${dialog}
      class="dialog"
      aria-labelledby=${ids.current.title}
      aria-describedby=${ids.current.body}
      onCancel=${onDialogCancel}
    >
      <h2 id=${ids.current.title}>${title}</h2>
      <div id=${ids.current.body}>${children}</div>
      <div class="dialog-buttons">
        <button type="button" class="danger" onClick=${onConfirm} disabled=${busy}>
          ${confirmLabel}
        </button>
        <button type="button" ref=${cancel} onClick=${onCancel} disabled=${busy}>
          ${t('cancel')}
        </button>
      </div>
    </dialog>
  `;
}

/** The text of the delete confirmation: the count, irreversible, every app. */
export function DeleteConfirmation({ count, apps }) {
  return html`
    <p>${t('deleteIrreversible', count)}</p>
    <p>${apps.length ? t('deleteReachesApps', apps) : t('deleteReachesEveryApp')}</p>
  `;
}
