// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { V as Button, c as t, f as fe } from './console.js';

// Paging of forward-only connections (jobs, audit events, deliveries) with the page's cursor in
// the address bar: the cursor before each page is remembered for "Previous page" while the tab
// lives (after a reload, Previous page goes back to the first page).

const cursorBefore = new Map();

/** The cursor of the page after the one at `current` (null: the first page) that ends at `end`. */
function nextCursor(current, end) {
  cursorBefore.set(end, current ?? null);
  return end;
}

/** The cursor of the page before the one at `current`. */
function previousCursor(current) {
  return cursorBefore.get(current) ?? null;
}

/** "Previous page" and "Next page" for a page at cursor `after` whose connection says `pageInfo`. */
function Pager({ after, pageInfo, onPage, label }) {
  return fe`
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

export { Pager as P };
