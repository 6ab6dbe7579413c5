// The users list's state in the address bar (search, status, sort, page, advanced filters), so
// that a search can be bookmarked and shared; the API's query for it; and the first page, asked
// for by boot.js before the rest of the console has loaded (so this imports nothing but api.js
// and the query).
import { gql, gqlAt } from './api.js';
// The list's query, and the variables of its first page: the server reads the same file to put
// that page's request in the page itself (roster/console.py), so that the browser sends it while
// it reads the page, before any module has run. A module, not a JSON module: those need 2024's
// browsers.
import USERS from './users-query.js';

export const USERS_PATH = '/console/users';

// Advanced filters as the URL spells them; dates are days (YYYY-MM-DD) in the browser's zone.
const TEXT_FILTERS = ['platform', 'role', 'emailDomain', 'language'];
const DAY_FILTERS = ['createdFrom', 'createdTo', 'updatedFrom', 'updatedTo'];
const YES_NO_FILTERS = ['welcomeEmailSent', 'hasPassword'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
// Ids in the address (each some 60 characters): more would make an address a server refuses.
export const MAX_IDS_IN_URL = 100;
const SORTS = {
  username: 'USERNAME',
  email: 'EMAIL',
  firstName: 'FIRST_NAME',
  lastName: 'LAST_NAME',
  createdAt: 'CREATED_AT',
  updatedAt: 'UPDATED_AT',
};

export const emptyFilter = () => ({
  platform: '',
  role: '',
  emailDomain: '',
  language: '',
  createdFrom: '',
  createdTo: '',
  updatedFrom: '',
  updatedTo: '',
  welcomeEmailSent: '',
  hasPassword: '',
  ids: [],
});

/** The list's state from a query string; what is not valid is left out. */
export function readListState(search) {
  const params = new URLSearchParams(search);
  const filter = emptyFilter();
  for (const name of TEXT_FILTERS) filter[name] = (params.get(name) ?? '').trim();
  for (const name of DAY_FILTERS) {
    const value = params.get(name) ?? '';
    filter[name] = DAY.test(value) ? value : '';
  }
  for (const name of YES_NO_FILTERS) {
    const value = params.get(name);
    filter[name] = value === 'yes' || value === 'no' ? value : '';
  }
  filter.ids = (params.get('ids') ?? '').split(',').filter(Boolean).slice(0, MAX_IDS_IN_URL);
  const status = params.get('status');
  const sort = params.get('sort') ?? '';
  return {
    q: params.get('q') ?? '',
    status: status === 'active' || status === 'disabled' ? status : '',
    sort: sort.replace(/^-/, '') in SORTS ? sort : 'username',
    after: params.get('after'),
    before: params.get('after') ? null : params.get('before'),
    filter,
  };
}

/** The list's address for a state (defaults left out, so that a plain list is /console/users). */
export function listUrl(state) {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.status) params.set('status', state.status);
  if (state.sort && state.sort !== 'username') params.set('sort', state.sort);
  for (const [name, value] of Object.entries(state.filter ?? {})) {
    if (name === 'ids') {
      if (value.length) params.set('ids', value.join(','));
    } else if (value) params.set(name, value);
  }
  if (state.after) params.set('after', state.after);
  else if (state.before) params.set('before', state.before);
  const query = params.toString();
  return query ? `${USERS_PATH}?${query}` : USERS_PATH;
}

/** Whether any advanced filter is set. */
export function hasAdvancedFilter(filter) {
  return Object.entries(filter).some(([name, value]) => (name === 'ids' ? value.length : value));
}

function startOfDay(day, plusDays = 0) {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year, month - 1, date + plusDays);
}

/**
 * The API's UserFilter for a state. A day range is inclusive: "from" is after the instant
 * before its midnight, "to" before the next day's midnight (the API's bounds are strict).
 */
export function apiFilter(state) {
  const { filter } = state;
  const result = {};
  if (state.status) result.status = state.status === 'active' ? 'ACTIVE' : 'DISABLED';
  for (const name of TEXT_FILTERS) if (filter[name]) result[name] = filter[name];
  const after = (day) => new Date(startOfDay(day).getTime() - 1).toISOString();
  const before = (day) => startOfDay(day, 1).toISOString();
  if (filter.createdFrom) result.createdAfter = after(filter.createdFrom);
  if (filter.createdTo) result.createdBefore = before(filter.createdTo);
  if (filter.updatedFrom) result.updatedAfter = after(filter.updatedFrom);
  if (filter.updatedTo) result.updatedBefore = before(filter.updatedTo);
  for (const name of YES_NO_FILTERS) if (filter[name]) result[name] = filter[name] === 'yes';
  if (filter.ids.length) result.ids = filter.ids;
  return Object.keys(result).length ? result : null;
}

/** The API's UserOrder for a sort key ("updatedAt", or "-updatedAt" for descending). */
export function apiOrder(sort) {
  const descending = sort.startsWith('-');
  return { field: SORTS[sort.replace(/^-/, '')], direction: descending ? 'DESC' : 'ASC' };
}

const PAGE_SIZE = 50;
export const USERS_QUERY = USERS.query.join('\n');

/** The API's variables for the list in `state` (readListState's). */
export function variablesOf(state, withCount) {
  const page = state.before
    ? { last: PAGE_SIZE, before: state.before }
    : { first: PAGE_SIZE, after: state.after };
  return {
    ...page,
    search: state.q.trim() || null,
    filter: apiFilter(state),
    orderBy: apiOrder(state.sort),
    withCount,
  };
}

// The next list the screen shows, asked for before the screen has rendered it: the first page
// (by boot.js, while the rest of the page loads), or a search (as soon as its typing delay
// ends). {key, promise, controller, users}, users once the answer has come.
let prefetched = null;

/** Starts loading the list the address `search` shows; the screen takes it when it shows it. */
export function prefetchUsers(search) {
  const variables = variablesOf(readListState(search), true);
  prefetch(variables, (signal) => gql(USERS_QUERY, variables, { signal }));
}

/**
 * Takes the first page the page's <link rel="preload"> asked for (`link`: its address, a GET
 * of the list's query with USERS.firstPage, which the server read from the same file).
 */
export function prefetchPreloaded(link) {
  prefetch(USERS.firstPage, (signal) => gqlAt(link, { signal }));
}

function prefetch(variables, ask) {
  prefetched?.controller.abort();
  const controller = new AbortController();
  const promise = ask(controller.signal);
  const entry = { key: JSON.stringify(variables), promise, controller, users: null };
  // A failure is the screen's to show, if it ever takes this answer.
  promise.then(
    (data) => {
      entry.users = data.users;
    },
    () => {},
  );
  prefetched = entry;
}

/**
 * The list asked for ahead ({promise of the query's data, controller}) if it was asked with
 * `variables`, else null. Taken either way: a prefetch is for the next list shown, never a later one.
 */
export function takePrefetched(variables) {
  const taken = prefetched;
  prefetched = null;
  if (taken?.key === JSON.stringify(variables)) return taken;
  taken?.controller.abort();
  return null;
}

/** The prefetched page (the query's `users`) if it was asked with `variables` and has come. */
export function takeArrived(variables) {
  return prefetched?.users ? (takePrefetched(variables)?.users ?? null) : null;
}
