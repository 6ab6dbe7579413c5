// Small pieces every screen uses: the live regions for results and errors, labelled fields that
// carry their userError, and the mapping of the API's errors to what the page says.
import { html, useEffect, useRef } from './vendor/htm-3.1.1/standalone.module.js';
import { ApiError, SessionEnded } from './api.js';
import { t } from './i18n.js';

/**
 * The two live regions of a screen, always in the page (a region added with its text is often
 * not announced): `notice` is {kind: 'status'|'alert', text, extra} or null.
 */
export function Notices({ notice }) {
  const status = notice?.kind === 'status' ? notice : null;
  const alert = notice?.kind === 'alert' ? notice : null;
  return html`
    <div class="notices">
      <div role="status" class=${status ? 'notice notice-status' : 'notice-empty'}>
        ${status && html`<p>${status.text}</p>${status.extra}`}
      </div>
      <div role="alert" class=${alert ? 'notice notice-alert' : 'notice-empty'}>
        ${alert && html`<p>${alert.text}</p>${alert.extra}`}
      </div>
    </div>
  `;
}

export const statusNotice = (text, extra = null) => ({ kind: 'status', text, extra });
export const alertNotice = (text, extra = null) => ({ kind: 'alert', text, extra });

/** Whether `error` is a fetch aborted on purpose (a newer search replaced it). */
export function isAbort(error) {
  return error?.name === 'AbortError';
}

/** What the page says about an error a request threw. */
export function errorText(error) {
  if (error instanceof SessionEnded) return t('sessionEnded');
  if (error instanceof ApiError) {
    if (error.code === 'FORBIDDEN') return t('forbidden');
    if (error.code === 'RATE_LIMITED') return t('rateLimited');
    return error.message;
  }
  if (error instanceof TypeError) return t('networkError');
  return String(error?.message ?? error);
}

/** The userErrors that name no field the form shows, as a list under the alert. */
export function UserErrorList({ errors }) {
  if (!errors?.length) return null;
  return html`<ul>${errors.map((e) => html`<li>${e.message}</li>`)}</ul>`;
}

/**
 * userErrors by the form field they name: the path after "input" joined with dots ("email",
 * "roles.0.role"); `rename` maps such a key to the form's own (a role's index to its
 * platform). Those naming no field of `known` go to `other`.
 */
export function errorsByField(userErrors, known, rename = (key) => key) {
  const byField = {};
  const other = [];
  for (const error of userErrors) {
    const path = error.field ?? [];
    const key = rename((path[0] === 'input' ? path.slice(1) : path).join('.'));
    if (known.has(key) && !(key in byField)) byField[key] = error.message;
    else other.push(error);
  }
  return { byField, other };
}

let fieldCount = 0;

/** A stable id for a component's elements. */
export function useId(prefix) {
  const id = useRef(null);
  if (id.current === null) {
    fieldCount += 1;
    id.current = `${prefix}-${fieldCount}`;
  }
  return id.current;
}

/**
 * A labelled input with its error beside it: aria-invalid and aria-describedby name the
 * error (and the hint) so a screen reader reads them with the field.
 */
export function Field({ label, value, onInput, error, hint, type = 'text', inputRef, ...rest }) {
  const id = useId('field');
  const described = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ');
  return html`
    <div class=${error ? 'field field-invalid' : 'field'}>
      <label for=${id}>${label}</label>
      <input
        id=${id}
        type=${type}
        value=${value}
        onInput=${(event) => onInput(event.currentTarget.value)}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${described || undefined}
        ref=${inputRef}
        ...${rest}
      />
      ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
      ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
    </div>
  `;
}

/** A labelled <select> of `options` ([value, text] pairs), with its error beside it. */
export function SelectField({ label, value, onChange, options, error, ...rest }) {
  const id = useId('select');
  return html`
    <div class=${error ? 'field field-invalid' : 'field'}>
      <label for=${id}>${label}</label>
      <select
        id=${id}
        value=${value}
        onChange=${(event) => onChange(event.currentTarget.value)}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${error ? `${id}-error` : undefined}
        ...${rest}
      >
        ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
      </select>
      ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
    </div>
  `;
}

/** Calls `effect` `delay` ms after `value` last changed (a search box, a password verdict). */
export function useDebounced(value, delay, effect) {
  const latest = useRef(effect);
  latest.current = effect;
  useEffect(() => {
    const timer = setTimeout(() => latest.current(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
}

/** Sets the document's title for a screen. */
export function useTitle(text) {
  useEffect(() => {
    document.title = `${text} · ${t('appName')}`;
  }, [text]);
}

// A result to show on the next screen ("User created" on the new user's page).
let flash = null;

export function setFlash(notice) {
  flash = notice;
}

/** The result left for this screen, once. */
export function takeFlash() {
  const notice = flash;
  flash = null;
  return notice;
}

/** Moves focus to the form's first invalid field after a render that marked them. */
export function focusFirstInvalid(form) {
  form?.querySelector('[aria-invalid="true"]')?.focus();
}

/**
 * A button that, when it cannot be used, says so (aria-disabled) instead of leaving the tab
 * order: focus is not lost when an action disables the button that ran it, and a keyboard
 * user finds every action, usable or not.
 */
export function Button({ disabled, onClick, type = 'button', children, ...rest }) {
  const click = (event) => {
    if (disabled) event.preventDefault();
    else onClick?.(event);
  };
  return html`<button type=${type} aria-disabled=${disabled ? 'true' : undefined} onClick=${click} ...${rest}>
    ${children}
  </button>`;
}
