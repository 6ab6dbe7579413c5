// History-API routing: the server answers index.html for every /console path, so the address
// bar is the state of the page (bookmarkable, and Back works).
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';

const listeners = new Set();

function current() {
  return { path: location.pathname, search: location.search };
}

function changed() {
  const now = current();
  for (const listener of listeners) listener(now);
}

addEventListener('popstate', changed);

/** Goes to `url` (same origin); `replace` leaves no history entry (typing in a search box). */
export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.href);
  if (target.pathname + target.search === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  changed();
}

/** {path, search} of the address bar, re-rendering the caller when it changes. */
export function useLocation() {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    listeners.add(setWhere);
    // The address may have changed between the first render and this effect.
    setWhere(current());
    return () => listeners.delete(setWhere);
  }, []);
  return where;
}

function plainClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

/** An <a> that navigates without reloading the page; modified clicks keep the browser's way. */
export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (!plainClick(event)) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}
