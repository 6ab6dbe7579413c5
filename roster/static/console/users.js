// The Users screen: search, status, advanced filters, sort and page, all in the address bar;
// one page of rows at a time; a selection kept across pages and the actions on it.
import {
  html,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from './vendor/htm-3.1.1/standalone.module.js';
import { SelectionActions } from './actions.js';
import { gql } from './api.js';
import { ExportLink } from './export-link.js';
import { formatNumber, t } from './i18n.js';
import { Propagation } from './propagation.js';
import { navigate } from './router.js';
import {
  emptyFilter,
  hasAdvancedFilter,
  listUrl,
  prefetchUsers,
  readListState,
  takeArrived,
  takePrefetched,
  USERS_QUERY,
  variablesOf,
} from './list-state.js';
import { AdvancedSearch } from './search.js';
import { alertNotice, Button, errorText, isAbort, Notices, useTitle } from './ui.js';
import { UserTable } from './user-table.js';

// Short: a search answers in tens of milliseconds at a million users, and each keystroke's
// request aborts the one before (measured in bench/console.py: 200 ms made a search's rows come
// 300-350 ms after the last key).
const SEARCH_DELAY_MS = 100;
// The API takes at most 1,000 users an action.
const MAX_SELECTION = 1000;

function countText(count) {
  if (!count) return '';
  if (count.relation === 'GTE') return t('moreThanUsers', formatNumber(count.value));
  if (count.relation === 'ESTIMATE') return t('aboutUsers', formatNumber(count.value));
  return t('nUsers', count.value);
}

const STATUS_CHOICES = [
  ['', 'statusAll'],
  ['active', 'statusActive'],
  ['disabled', 'statusInactive'],
];

function StatusFilter({ value, onChange }) {
  return html`
    <fieldset class="segmented">
      <legend>${t('status')}</legend>
      ${STATUS_CHOICES.map(
        ([choice, key]) => html`
          <label key=${choice}>
            <input
              type="radio"
              name="status"
              value=${choice}
              checked=${value === choice}
              onChange=${() => onChange(choice)}
            />
            <span>${t(key)}</span>
          </label>
        `,
      )}
    </fieldset>
  `;
}

function SearchBox({ q, onSearch }) {
  const [text, setText] = useState(q);
  const input = useRef(null);
  // Back and Forward change the search: show it, unless the person is typing in the box.
  useEffect(() => {
    if (document.activeElement !== input.current) setText(q);
  }, [q]);
  // The timer starts from the keystroke itself, not from an effect that would wait for the
  // next painted frame first.
  const timer = useRef(null);
  useEffect(() => () => clearTimeout(timer.current), []);
  const type = (value) => {
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => onSearch(value.trim()), SEARCH_DELAY_MS);
  };
  const submit = (event) => {
    event.preventDefault();
    clearTimeout(timer.current);
    onSearch(text.trim());
  };
  return html`
    <form role="search" class="search" onSubmit=${submit}>
      <label for="user-search" class="visually-hidden">${t('searchUsers')}</label>
      <input
        id="user-search"
        ref=${input}
        type="search"
        value=${text}
        placeholder=${t('searchPlaceholder')}
        maxlength="256"
        autocomplete="off"
        onInput=${(event) => type(event.currentTarget.value)}
      />
    </form>
  `;
}

const pageOf = (users) => ({ rows: users.edges.map((e) => e.node), pageInfo: users.pageInfo });
// A search's count is asked for again when this changes, not when the page does.
const countKeyOf = (state, reloads) => JSON.stringify([state.q, state.status, state.filter, reloads]);

export function UsersScreen({ search, session, platforms }) {
  const state = useMemo(() => readListState(search), [search]);
  // The first page, when the answer boot.js asked for came before this screen: shown in the
  // screen's first render, with no render of an empty table before it.
  const [first] = useState(() => takeArrived(variablesOf(state, true)));
  const [page, setPage] = useState(() => (first ? pageOf(first) : { rows: [], pageInfo: null }));
  const [count, setCount] = useState(() => first?.count ?? null);
  const [loading, setLoading] = useState(first === null);
  const [loadError, setLoadError] = useState(null);
  const [reloads, setReloads] = useState(0);
  const [selection, setSelection] = useState(() => new Map());
  const [notice, setNotice] = useState(null);
  const [deleted, setDeleted] = useState([]);
  const [advancedOpen, setAdvancedOpen] = useState(() => hasAdvancedFilter(state.filter));
  const countKey = useRef(first ? countKeyOf(state, 0) : null);
  const shownFirst = useRef(first !== null);
  const canChange = session.scope === 'admin';
  useTitle(t('usersHeading'));

  // A layout effect: the request leaves as soon as the address changed, not a painted frame
  // later, as a plain effect would.
  useLayoutEffect(() => {
    if (shownFirst.current) {
      shownFirst.current = false;
      return undefined;
    }
    const key = countKeyOf(state, reloads);
    const withCount = key !== countKey.current;
    setLoading(true);
    const variables = variablesOf(state, withCount);
    const prefetched = takePrefetched(variables);
    // A new search aborts the one under way: its rows would come too late to be shown.
    const controller = prefetched?.controller ?? new AbortController();
    const answer = prefetched?.promise ?? gql(USERS_QUERY, variables, { signal: controller.signal });
    answer
      .then(({ users }) => {
        if (controller.signal.aborted) return;
        const shown = pageOf(users);
        setPage(shown);
        if (withCount) {
          countKey.current = key;
          setCount(users.count);
        }
        // What the page shows of a selected user is the truth: its status may have changed.
        setSelection((old) => {
          if (!shown.rows.some((row) => old.has(row.id))) return old;
          const next = new Map(old);
          for (const row of shown.rows) if (next.has(row.id)) next.set(row.id, row);
          return next;
        });
        setLoadError(null);
        setLoading(false);
      })
      .catch((error) => {
        if (isAbort(error)) return;
        setLoadError(errorText(error));
        setLoading(false);
      });
    return () => controller.abort();
  }, [state, reloads]);

  const go = (changes, options) => navigate(listUrl({ ...state, after: null, before: null, ...changes }), options);
  const onSearch = (q) => {
    if (q === state.q) return;
    const url = listUrl({ ...state, after: null, before: null, q });
    // Asked for now, not once the screen has rendered the new address: a render sooner.
    prefetchUsers(new URL(url, location.href).search);
    navigate(url, { replace: true });
  };

  const select = (user, on) =>
    setSelection((old) => {
      const next = new Map(old);
      if (on && next.size < MAX_SELECTION) next.set(user.id, user);
      else if (!on) next.delete(user.id);
      return next;
    });
  const selectPage = (on) =>
    setSelection((old) => {
      const next = new Map(old);
      for (const row of page.rows) {
        if (!on) next.delete(row.id);
        else if (next.size < MAX_SELECTION) next.set(row.id, row);
      }
      return next;
    });

  const onChanged = (change) => {
    if (change.kind === 'deleted') {
      setSelection((old) => {
        const next = new Map(old);
        for (const id of change.ids) next.delete(id);
        return next;
      });
      setDeleted(change.ids);
    } else {
      setSelection((old) => {
        const next = new Map(old);
        for (const u of change.users) if (next.has(u.id)) next.set(u.id, { ...next.get(u.id), ...u });
        return next;
      });
    }
    setReloads((n) => n + 1);
  };

  const selected = [...selection.values()];
  const { pageInfo } = page;
  const advancedActive = hasAdvancedFilter(state.filter);
  return html`
    <div class="screen-head">
      <h1 tabindex="-1">${t('usersHeading')}</h1>
      ${canChange &&
      html`<button type="button" class="primary" onClick=${() => navigate('/console/users/new')}>
        ${t('newUser')}
      </button>`}
    </div>
    <div class="list-controls">
      <${SearchBox} q=${state.q} onSearch=${onSearch} />
      <${StatusFilter} value=${state.status} onChange=${(status) => go({ status })} />
      <button
        type="button"
        aria-expanded=${advancedOpen ? 'true' : 'false'}
        aria-controls="advanced-search"
        onClick=${() => setAdvancedOpen(!advancedOpen)}
      >
        ${t('advancedSearch')}${advancedActive ? ` (${t('filtersOn')})` : ''}
      </button>
      <${ExportLink} search=${search} ids=${selected.map((u) => u.id)} />
    </div>
    ${advancedOpen &&
    html`<${AdvancedSearch}
      id="advanced-search"
      filter=${state.filter}
      platforms=${platforms}
      selectedIds=${selected.map((u) => u.id)}
      onApply=${(filter) => go({ filter })}
      onClear=${() => go({ filter: emptyFilter() })}
    />`}
    <p class="count" aria-live="polite">${loadError ? '' : countText(count)}</p>
    <div class="selection-bar">
      <span aria-live="polite">${t('nSelected', selected.length)}</span>
      ${selected.length > 0 &&
      html`<button type="button" class="link" onClick=${() => setSelection(new Map())}>${t('clearSelection')}</button>`}
      <${SelectionActions}
        users=${selected}
        canChange=${canChange}
        platforms=${platforms}
        notify=${setNotice}
        onChanged=${onChanged}
      />
    </div>
    <${Notices} notice=${loadError ? alertNotice(loadError) : notice} />
    ${deleted.length > 0 && html`<${Propagation} ids=${deleted} platforms=${platforms} />`}
    <${UserTable}
      rows=${page.rows}
      loading=${loading}
      sort=${state.sort}
      onSort=${(sort) => go({ sort })}
      selection=${selection}
      onSelect=${select}
      onSelectPage=${selectPage}
    />
    <nav class="pager" aria-label=${t('pages')}>
      <${Button}
        disabled=${!pageInfo?.hasPreviousPage}
        onClick=${() => navigate(listUrl({ ...state, after: null, before: pageInfo.startCursor }))}
      >
        ${t('previousPage')}
      <//>
      <${Button}
        disabled=${!pageInfo?.hasNextPage}
        onClick=${() => navigate(listUrl({ ...state, before: null, after: pageInfo.endCursor }))}
      >
        ${t('nextPage')}
      <//>
    </nav>
  `;
}

