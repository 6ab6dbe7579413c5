// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { a2 as Y, a4 as readListState, a5 as selectedIds, G, v as useTitle, c as t, r as Link, a6 as listUrl, f as fe, a7 as hasAdvancedFilter, N as Notices, V as Button, n as navigate, E as EXPORT_PATH, y as gql, d as alertNotice, H as UserErrorList, D as statusNotice, z as errorText, _ as Field, a8 as apiOrder, a9 as apiFilter } from './console.js';
import { J as JobView } from './job-view.js';

// The Export screen: the users list's selection, everyone its search and filters find, or the
// whole organisation, as CSV with the columns chosen; then the export's progress and its file
// (a signed link, until it expires). The job is in the address (?job=) for a reload.

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
  return fe`
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
      ${hint && fe`<span class="hint" id=${`${id}-hint`}>${hint}</span>`}
    </div>
  `;
}

function ColumnPicker({ columns, setColumns, attributes, setAttributes, error }) {
  const toggle = (name, on) =>
    setColumns((old) => COLUMNS.map(([c]) => c).filter((c) => (c === name ? on : old.includes(c))));
  return fe`
    <div class="column-picker">
      <div class="checks">
        ${COLUMNS.map(
          ([name, key]) => fe`
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
  const [scope, setScope] = G(ids.length ? 'selection' : searching ? 'search' : 'all');
  const [everyColumn, setEveryColumn] = G(true);
  const [columns, setColumns] = G(COLUMNS.map(([c]) => c));
  const [attributes, setAttributes] = G('');
  const [notice, setNotice] = G(null);
  const [columnsError, setColumnsError] = G(null);
  const [busy, setBusy] = G(false);

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
        setNotice(alertNotice(t('exportNotStarted'), fe`<${UserErrorList} errors=${payload.userErrors} />`));
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

  return fe`
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
        fe`<${ColumnPicker}
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

function ExportScreen({ search, session }) {
  const state = Y(() => readListState(search), [search]);
  const ids = Y(() => selectedIds(search), [search]);
  const jobId = new URLSearchParams(search).get('job');
  const [startedHere, setStartedHere] = G(null);
  useTitle(t('exportHeading'));
  const start = (id) => {
    setStartedHere(id);
    const params = new URLSearchParams(search);
    params.set('job', id);
    navigate(`${EXPORT_PATH}?${params}`);
  };
  return fe`
    <div class="screen-head"><h1 tabindex="-1">${t('exportHeading')}</h1></div>
    <p><${Link} href=${listUrl(state)}>${t('backToUsers')}<//></p>
    ${jobId
      ? fe`<${JobView} key=${jobId} id=${jobId} session=${session} focus=${startedHere === jobId} />`
      : fe`
          <p class="lead">${t('exportIntro')}</p>
          <${ExportForm} state=${state} ids=${ids} onStarted=${start} />
        `}
  `;
}

export { ExportScreen };
