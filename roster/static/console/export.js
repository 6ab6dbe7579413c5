// The Export screen: the users list's selection, everyone its search and filters find, or the
// whole organisation, as CSV with the columns chosen; then the export's progress and its file
// (a signed link, until it expires). The job is in the address (?job=) for a reload.
import { html, useMemo, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { selectedIds } from './export-link.js';
import { t } from './i18n.js';
import { JobView } from './job-view.js';
import { apiFilter, apiOrder, hasAdvancedFilter, listUrl, readListState } from './list-state.js';
import { Link, navigate } from './router.js';
import { EXPORT_PATH } from './screens.js';
import { alertNotice, Button, errorText, Field, Notices, statusNotice, UserErrorList, useTitle } from './ui.js';

const START = `mutation StartExport($ids: [ID!], $search: String, $filter: UserFilter, $orderBy: UserOrder,
    $columns: [String!]) {
  startExport(ids: $ids, search: $search, filter: $filter, orderBy: $orderBy, columns: $columns) {
    job { id } userErrors { field message code }
  }
}`;
// The export's columns but the passwords, which are never exported (docs/csv.md).
const COLUMNS = [
  ['operation', 'csvOperation'],
  ['username', 'fieldUsername'],
  ['email', 'fieldEmail'],
  ['first_name', 'fieldFirstName'],
  ['last_name', 'fieldLastName'],
  ['language', 'fieldLanguage'],
  ['time_zone', 'fieldTimeZone'],
  ['office_phone', 'fieldOfficePhone'],
  ['mobile_phone', 'fieldMobilePhone'],
  ['location', 'fieldLocation'],
  ['external_id', 'fieldExternalId'],
  ['status', 'colStatus'],
  ['roles', 'colRoles'],
  ['welcome_email', 'csvWelcome'],
];

/** What the list's search and filters are, in a line ("“ann” · Active · platform: lc"). */
function searchSummary(state) {
  const parts = [];
  if (state.q) parts.push(`“${state.q}”`);
  if (state.status) parts.push(state.status === 'active' ? t('statusActive') : t('statusInactive'));
  for (const [name, value] of Object.entries(state.filter)) {
    if (name === 'ids') {
      if (value.length) parts.push(t('onlySelected', value.length));
    } else if (value) parts.push(`${name}: ${value}`);
  }
  return parts.join(' · ');
}

function Choice({ name, value, label, hint, checked, disabled, onChoose }) {
  const id = `${name}-${value}`;
  return html`
    <div class="field field-check">
      <input
        type="radio"
        name=${name}
        id=${id}
        value=${value}
        checked=${checked}
        disabled=${disabled}
        aria-describedby=${hint ? `${id}-hint` : undefined}
        onChange=${() => onChoose(value)}
      />
      <label for=${id}>${label}</label>
      ${hint && html`<span class="hint" id=${`${id}-hint`}>${hint}</span>`}
    </div>
  `;
}

function ColumnPicker({ columns, setColumns, attributes, setAttributes, error }) {
  const toggle = (name, on) =>
    setColumns((old) => COLUMNS.map(([c]) => c).filter((c) => (c === name ? on : old.includes(c))));
  return html`
    <div class="column-picker">
      <div class="checks">
        ${COLUMNS.map(
          ([name, key]) => html`
            <div class="field field-check" key=${name}>
              <input
                type="checkbox"
                id=${`column-${name}`}
                checked=${columns.includes(name)}
                onChange=${(event) => toggle(name, event.currentTarget.checked)}
              />
              <label for=${`column-${name}`}><code>${name}</code> <span class="muted">${t(key)}</span></label>
            </div>
          `,
        )}
      </div>
      <${Field}
        label=${t('attributeColumns')}
        value=${attributes}
        onInput=${setAttributes}
        hint=${t('attributeColumnsHint')}
        error=${error}
      />
    </div>
  `;
}

function ExportForm({ state, ids, onStarted }) {
  const searching = Boolean(state.q || state.status || hasAdvancedFilter(state.filter));
  const [scope, setScope] = useState(ids.length ? 'selection' : searching ? 'search' : 'all');
  const [everyColumn, setEveryColumn] = useState(true);
  const [columns, setColumns] = useState(COLUMNS.map(([c]) => c));
  const [attributes, setAttributes] = useState('');
  const [notice, setNotice] = useState(null);
  const [columnsError, setColumnsError] = useState(null);
  const [busy, setBusy] = useState(false);

  const variables = () => {
    const chosen = everyColumn
      ? null
      : [...columns, ...attributes.split(',').map((a) => a.trim()).filter(Boolean).map((a) => `attr:${a}`)];
    const orderBy = apiOrder(state.sort);
    if (scope === 'selection') return { ids, orderBy, columns: chosen };
    if (scope === 'search') return { search: state.q.trim() || null, filter: apiFilter(state), orderBy, columns: chosen };
    return { orderBy, columns: chosen };
  };
  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      const { startExport: payload } = await gql(START, variables());
      if (payload.userErrors.length) {
        const onColumns = payload.userErrors.filter((e) => e.field?.[0] === 'columns');
        setColumnsError(onColumns.length ? onColumns.map((e) => e.message).join(' ') : null);
        setNotice(alertNotice(t('exportNotStarted'), html`<${UserErrorList} errors=${payload.userErrors} />`));
        return;
      }
      setNotice(statusNotice(t('exportQueued')));
      onStarted(payload.job.id);
    } catch (error) {
      setNotice(alertNotice(errorText(error)));
    } finally {
      setBusy(false);
    }
  };

  return html`
    <form class="export-form" onSubmit=${submit} novalidate>
      <fieldset class="options">
        <legend>${t('exportWho')}</legend>
        <${Choice}
          name="export-scope"
          value="selection"
          label=${t('scopeSelection', ids.length)}
          checked=${scope === 'selection'}
          disabled=${!ids.length}
          onChoose=${setScope}
        />
        <${Choice}
          name="export-scope"
          value="search"
          label=${t('scopeSearch')}
          hint=${searching ? searchSummary(state) : t('scopeNoSearch')}
          checked=${scope === 'search'}
          disabled=${!searching}
          onChoose=${setScope}
        />
        <${Choice} name="export-scope" value="all" label=${t('scopeAll')} checked=${scope === 'all'} onChoose=${setScope} />
      </fieldset>
      <fieldset class="options">
        <legend>${t('exportColumnsLegend')}</legend>
        <${Choice}
          name="export-columns"
          value="every"
          label=${t('everyColumn')}
          checked=${everyColumn}
          onChoose=${() => setEveryColumn(true)}
        />
        <${Choice}
          name="export-columns"
          value="chosen"
          label=${t('chooseColumns')}
          checked=${!everyColumn}
          onChoose=${() => setEveryColumn(false)}
        />
        ${!everyColumn &&
        html`<${ColumnPicker}
          columns=${columns}
          setColumns=${setColumns}
          attributes=${attributes}
          setAttributes=${setAttributes}
          error=${columnsError}
        />`}
      </fieldset>
      <${Notices} notice=${notice} />
      <div class="form-buttons">
        <${Button} type="submit" class="primary" disabled=${busy}>${t('startExport')}<//>
      </div>
    </form>
  `;
}

export function ExportScreen({ search, session }) {
  const state = useMemo(() => readListState(search), [search]);
  const ids = useMemo(() => selectedIds(search), [search]);
  const jobId = new URLSearchParams(search).get('job');
  const [startedHere, setStartedHere] = useState(null);
  useTitle(t('exportHeading'));
  const start = (id) => {
    setStartedHere(id);
    const params = new URLSearchParams(search);
    params.set('job', id);
    navigate(`${EXPORT_PATH}?${params}`);
  };
  return html`
    <div class="screen-head"><h1 tabindex="-1">${t('exportHeading')}</h1></div>
    <p><${Link} href=${listUrl(state)}>${t('backToUsers')}<//></p>
    ${jobId
      ? html`<${JobView} key=${jobId} id=${jobId} session=${session} focus=${startedHere === jobId} />`
      : html`
          <p class="lead">${t('exportIntro')}</p>
          <${ExportForm} state=${state} ids=${ids} onStarted=${start} />
        `}
  `;
}
