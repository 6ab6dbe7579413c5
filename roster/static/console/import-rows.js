// An import's rows, 50 a page: a dry run's plan (what each row would do) narrowed by action, or
// the rows with errors narrowed by error code.
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { formatNumber, t } from './i18n.js';
import { Button, errorText, isAbort, SelectField } from './ui.js';

const PAGE = 50;
const PLAN = `query Plan($id: ID!, $first: Int!, $after: String, $action: PlanAction) {
  job(id: $id) { ... on ImportJob {
    plan(first: $first, after: $after, action: $action) {
      edges { node { row action fields rolesAdded rolesRemoved user { id username } } }
      pageInfo { hasNextPage endCursor }
    }
  } }
}`;
const ERRORS = `query RowErrors($id: ID!, $first: Int!, $after: String, $code: String) {
  job(id: $id) { ... on ImportJob {
    rowErrors(first: $first, after: $after, code: $code) {
      edges { node { row column code message } }
      pageInfo { hasNextPage endCursor }
    }
  } }
}`;
const CODES = `query RowErrorCodes($id: ID!) { job(id: $id) { ... on ImportJob { rowErrorCodes { code rows } } } }`;
// The action filter's choice for the rows with errors (not a PlanAction: they are not planned).
const FAILED = 'FAILED';
const ACTIONS = ['CREATE', 'UPDATE', 'DELETE', 'NOOP'];

function actionOptions(job) {
  const counted = { CREATE: job.created, UPDATE: job.updated, DELETE: job.deleted };
  const label = (action) =>
    action in counted ? `${t(`planAction:${action}`)} (${formatNumber(counted[action])})` : t(`planAction:${action}`);
  return [
    ['', t('everyPlannedRow')],
    ...ACTIONS.map((action) => [action, label(action)]),
    [FAILED, `${t('rowsWithErrors')} (${formatNumber(job.failed)})`],
  ];
}

function PlanTable({ rows }) {
  const roles = (row) => [
    ...row.rolesAdded.map(
      (r) => html`<li key=${`+${r}`}><span aria-hidden="true">+ </span><span class="visually-hidden">${t('roleAdded')} </span>${r}</li>`,
    ),
    ...row.rolesRemoved.map(
      (r) => html`<li key=${`-${r}`}><span aria-hidden="true">− </span><span class="visually-hidden">${t('roleRemoved')} </span>${r}</li>`,
    ),
  ];
  return html`
    <table class="plain rows-table">
      <caption class="visually-hidden">${t('planCaption')}</caption>
      <thead>
        <tr>
          <th scope="col">${t('colRow')}</th>
          <th scope="col">${t('colPlanAction')}</th>
          <th scope="col">${t('colUser')}</th>
          <th scope="col">${t('colFieldsChanged')}</th>
          <th scope="col">${t('colRoles')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) => html`
            <tr key=${row.row}>
              <td class="number">${formatNumber(row.row)}</td>
              <td><span class=${`badge plan-${row.action.toLowerCase()}`}>${t(`planAction:${row.action}`)}</span></td>
              <td>${row.user ? row.user.username : html`<span class="muted">${t('newUserMark')}</span>`}</td>
              <td>${row.fields.length ? row.fields.join(', ') : html`<span class="muted">—</span>`}</td>
              <td>${roles(row).length ? html`<ul class="roles">${roles(row)}</ul>` : html`<span class="muted">—</span>`}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

function ErrorTable({ rows }) {
  return html`
    <table class="plain rows-table">
      <caption class="visually-hidden">${t('errorsCaption')}</caption>
      <thead>
        <tr>
          <th scope="col">${t('colRow')}</th>
          <th scope="col">${t('colColumn')}</th>
          <th scope="col">${t('colErrorCode')}</th>
          <th scope="col">${t('colProblem')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row, i) => html`
            <tr key=${`${row.row}:${i}`}>
              <td class="number">${formatNumber(row.row)}</td>
              <td>${row.column ?? html`<span class="muted">—</span>`}</td>
              <td><code>${row.code}</code></td>
              <td>${row.message}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

/**
 * The rows of finished import `job`: a dry run shows its plan and its errors, an import its
 * errors only (it keeps no plan).
 */
export function ImportRows({ job }) {
  const [filter, setFilter] = useState({ action: job.dryRun ? '' : FAILED, code: '' });
  // The cursors of the pages before this one (Previous page), and this page's.
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState(null);
  const [codes, setCodes] = useState([]);
  const [error, setError] = useState(null);
  const showingErrors = filter.action === FAILED;
  const after = cursors[cursors.length - 1];
  // The number of the first row of the page asked for: said with that page's rows once they
  // arrive, not before (the line would announce rows still showing the last page's).
  const firstAsked = (cursors.length - 1) * PAGE + 1;

  useEffect(() => {
    const controller = new AbortController();
    gql(CODES, { id: job.id }, { signal: controller.signal })
      .then((data) => setCodes(data.job?.rowErrorCodes ?? []))
      .catch((e) => isAbort(e) || setError(errorText(e)));
    return () => controller.abort();
  }, [job.id]);

  useEffect(() => {
    const controller = new AbortController();
    const [query, variables] = showingErrors
      ? [ERRORS, { code: filter.code || null }]
      : [PLAN, { action: filter.action || null }];
    gql(query, { id: job.id, first: PAGE, after, ...variables }, { signal: controller.signal })
      .then((data) => {
        const connection = showingErrors ? data.job.rowErrors : data.job.plan;
        setPage({
          rows: connection.edges.map((e) => e.node),
          pageInfo: connection.pageInfo,
          errors: showingErrors,
          first: firstAsked,
        });
        setError(null);
      })
      .catch((e) => isAbort(e) || setError(errorText(e)));
    return () => controller.abort();
  }, [job.id, filter, after]);

  const choose = (next) => {
    setFilter(next);
    setCursors([null]);
  };
  const codeOptions = [
    ['', showingErrors ? t('anyError') : t('chooseErrorCode')],
    ...codes.map(({ code, rows }) => [code, `${code} (${formatNumber(rows)})`]),
  ];
  const rows = page?.rows ?? [];
  const first = page?.first ?? 1;
  return html`
    <section class="import-rows" aria-labelledby="import-rows-heading">
      <h3 id="import-rows-heading">${job.dryRun ? t('planHeading') : t('rowErrorsHeading')}</h3>
      <div class="filters">
        ${job.dryRun &&
        html`<${SelectField}
          label=${t('filterAction')}
          value=${filter.action}
          options=${actionOptions(job)}
          onChange=${(action) => choose({ action, code: '' })}
        />`}
        <${SelectField}
          label=${t('filterErrorCode')}
          value=${showingErrors ? filter.code : ''}
          options=${codeOptions}
          disabled=${codes.length === 0}
          onChange=${(code) => choose({ action: FAILED, code })}
        />
      </div>
      ${error && html`<p role="alert">${error}</p>`}
      <p class="muted" aria-live="polite">
        ${page && (rows.length ? t('rowsShown', formatNumber(first), formatNumber(first + rows.length - 1)) : t('noRowsHere'))}
      </p>
      ${rows.length > 0 && (page.errors ? html`<${ErrorTable} rows=${rows} />` : html`<${PlanTable} rows=${rows} />`)}
      <nav class="pager" aria-label=${t('rowPages')}>
        <${Button} disabled=${cursors.length === 1} onClick=${() => setCursors((old) => old.slice(0, -1))}>
          ${t('previousPage')}
        <//>
        <${Button}
          disabled=${!page?.pageInfo.hasNextPage}
          onClick=${() => setCursors((old) => [...old, page.pageInfo.endCursor])}
        >
          ${t('nextPage')}
        <//>
      </nav>
    </section>
  `;
}
