// The list's state in the address bar (search, status, sort, page, advanced filters), so that
// a search can be bookmarked and shared, and the advanced search form that edits the filters.
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { t } from './i18n.js';
import { Field, SelectField, useId } from './ui.js';

export const USERS_PATH = '/console/users';

// Advanced filters as the URL spells them; dates are days (YYYY-MM-DD) in the browser's zone.
const TEXT_FILTERS = ['platform', 'role', 'emailDomain', 'language'];
const DAY_FILTERS = ['createdFrom', 'createdTo', 'updatedFrom', 'updatedTo'];
const YES_NO_FILTERS = ['welcomeEmailSent', 'hasPassword'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
// Ids in the address (each some 60 characters): more would make an address a server refuses.
const MAX_IDS_IN_URL = 100;
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

const yesNoOptions = () => [
  ['', t('any')],
  ['yes', t('yes')],
  ['no', t('no')],
];

/**
 * The advanced search form: every UserFilter field but status (the list's own control).
 * `onApply(filter)` with the new filter; `selectedIds` offers "only the selected users".
 */
export function AdvancedSearch({ id, filter, platforms, selectedIds, onApply, onClear }) {
  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);
  const set = (name) => (value) => setDraft((old) => ({ ...old, [name]: value }));
  const roleListId = useId('roles');
  const chosen = platforms.find((p) => p.key === draft.platform);
  const roles = [...new Set((chosen ? [chosen] : platforms).flatMap((p) => p.roles))].sort();
  const onlySelected = draft.ids.length > 0;
  const toggleOnlySelected = (event) =>
    setDraft((old) => ({ ...old, ids: event.currentTarget.checked ? selectedIds : [] }));
  const submit = (event) => {
    event.preventDefault();
    onApply(draft);
  };
  return html`
    <section id=${id} class="advanced" aria-labelledby=${`${id}-heading`}>
      <h2 id=${`${id}-heading`}>${t('advancedSearch')}</h2>
      <form onSubmit=${submit} class="advanced-form">
        <${SelectField}
          label=${t('platform')}
          value=${draft.platform}
          onChange=${set('platform')}
          options=${[['', t('anyPlatform')], ...platforms.map((p) => [p.key, p.name])]}
        />
        <${Field} label=${t('role')} value=${draft.role} onInput=${set('role')} list=${roleListId} />
        <datalist id=${roleListId}>${roles.map((r) => html`<option value=${r} />`)}</datalist>
        <${Field}
          label=${t('emailDomain')}
          value=${draft.emailDomain}
          onInput=${set('emailDomain')}
          placeholder="example.org"
        />
        <${Field}
          label=${t('filterLanguage')}
          value=${draft.language}
          onInput=${set('language')}
          placeholder="es"
        />
        <${Field} label=${t('createdFrom')} type="date" value=${draft.createdFrom} onInput=${set('createdFrom')} />
        <${Field} label=${t('createdTo')} type="date" value=${draft.createdTo} onInput=${set('createdTo')} />
        <${Field} label=${t('updatedFrom')} type="date" value=${draft.updatedFrom} onInput=${set('updatedFrom')} />
        <${Field} label=${t('updatedTo')} type="date" value=${draft.updatedTo} onInput=${set('updatedTo')} />
        <${SelectField}
          label=${t('welcomeEmailSent')}
          value=${draft.welcomeEmailSent}
          onChange=${set('welcomeEmailSent')}
          options=${yesNoOptions()}
        />
        <${SelectField}
          label=${t('hasPassword')}
          value=${draft.hasPassword}
          onChange=${set('hasPassword')}
          options=${yesNoOptions()}
        />
        <div class="field field-check">
          <input
            type="checkbox"
            id=${`${id}-only-selected`}
            checked=${onlySelected}
            disabled=${!onlySelected && (!selectedIds.length || selectedIds.length > MAX_IDS_IN_URL)}
            onChange=${toggleOnlySelected}
          />
          <label for=${`${id}-only-selected`}>
            ${t('onlySelected', onlySelected ? draft.ids.length : selectedIds.length)}
          </label>
        </div>
        <div class="form-buttons">
          <button type="submit" class="primary">${t('applyFilters')}</button>
          <button type="button" onClick=${onClear}>${t('clearFilters')}</button>
        </div>
      </form>
    </section>
  `;
}
