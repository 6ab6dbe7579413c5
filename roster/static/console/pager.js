// Paging of forward-only connections (jobs, audit events, deliveries) with the page's cursor in
// the address bar: the cursor before each page is remembered for "Previous page" while the tab
// lives (after a reload, Previous page goes back to the first page).
import { html } from './vendor/htm-3.1.1/standalone.module.js';
import { t } from './i18n.js';
import { Button } from './ui.js';

const cursorBefore = new Map();

/** The cursor of the page after the one at `current` (null: the first page) that ends at `end`. */
export function nextCursor(current, end) {
  cursorBefore.set(end, current ?? null);
  return end;
}

/** The cursor of the page before the one at `current`. */
export function previousCursor(current) {
  return cursorBefore.get(current) ?? null;
}

/** "Previous page" and "Next page" for a page at cursor `after` whose connection says `pageInfo`. */
export function Pager({ after, pageInfo, onPage, label }) {
  return html`
    <nav class="pager" aria-label=${label}>
      <${Button} disabled=${!after} onClick=${() => onPage(previousCursor(after))}>${t('previousPage')}<//>
      <${Button}
        disabled=${!pageInfo?.hasNextPage}
        onClick=${() => onPage(nextCursor(after, pageInfo.endCursor))}
      >
        ${t('nextPage')}
      <//>
    </nav>
  `;
}
