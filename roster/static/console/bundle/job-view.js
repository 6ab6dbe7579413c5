// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { G, J, aa as followJob, K as isAbort, c as t, f as fe, a1 as formatNumber, g as getLanguage, y as gql, z as errorText, $ as SelectField, V as Button, Q, N as Notices, d as alertNotice, W as formatDateTime, n as navigate, D as statusNotice, H as UserErrorList, ab as sameOrigin } from './console.js';

// A job as it runs: its state from the `job` subscription, the rows a second and the time left
// measured in the page, and the progress bar each screen that starts or opens a job shows.

const JOB_FIELDS = `
  __typename id status total processed error createdAt startedAt finishedAt startedBy
  ... on ImportJob { created updated deleted skipped failed dryRun cancelRequested errorReportUrl }
  ... on ExportJob { rowCount expiresAt downloadUrl columns cancelRequested }
  ... on EmailJob { sent failed skipped cancelRequested }
`;
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
// The pace is that of the updates of the last few seconds: a job speeds up and slows down
// (chunks differ, the machine is shared), and the time left follows the latest pace.
const RATE_WINDOW_MS = 10000;
const MIN_SPAN_MS = 1000;

const isFinished = (job) => FINISHED.has(job?.status);

/** What kind of job `job` is, in words ("Import", "Dry run", "Export", "Welcome e-mails"). */
function jobKind(job) {
  if (job.__typename === 'ImportJob') return job.dryRun ? t('kindDryRun') : t('kindImport');
  if (job.__typename === 'ExportJob') return t('kindExport');
  return t('kindEmail');
}

/** Who started a job: a token's name, or the console. */
function startedBy(job) {
  return job.startedBy === 'console' ? t('startedByConsole') : job.startedBy;
}

const STATUS_CLASS = {
  QUEUED: 'badge-pending',
  RUNNING: 'badge-pending',
  SUCCEEDED: 'badge-active',
  FAILED: 'badge-failed',
  CANCELLED: 'badge-disabled',
};

function JobStatus({ status }) {
  return fe`<span class=${`badge ${STATUS_CLASS[status] ?? ''}`}>${t(`jobStatus:${status}`)}</span>`;
}

/** A duration in words of the page's language: "45 seconds", "3 minutes 20 seconds", "2 hours 5 minutes". */
function formatDuration(seconds) {
  const unit = (value, name) =>
    new Intl.NumberFormat(getLanguage(), { style: 'unit', unit: name, unitDisplay: 'long' }).format(value);
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return unit(s, 'second');
  if (s < 600) return s % 60 ? `${unit(Math.floor(s / 60), 'minute')} ${unit(s % 60, 'second')}` : unit(s / 60, 'minute');
  if (s < 3600) return unit(Math.round(s / 60), 'minute');
  const minutes = Math.round((s % 3600) / 60);
  const hours = unit(Math.floor(s / 3600), 'hour');
  return minutes ? `${hours} ${unit(minutes, 'minute')}` : hours;
}

/** Rows a second over a finished (or just opened) job's life, on the server's clock. */
function averageRate(job) {
  if (!job.startedAt || !job.processed) return null;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  const seconds = (end - Date.parse(job.startedAt)) / 1000;
  return seconds > 0 ? job.processed / seconds : null;
}

/** Rows a second from the samples [{at, processed}] the page saw, else the job's average. */
function rateOf(samples, job) {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (last.at - first.at >= MIN_SPAN_MS) return ((last.processed - first.processed) * 1000) / (last.at - first.at);
  return averageRate(job);
}

/**
 * Follows job `id` (the subscription, or polling when the socket fails): {job, rate, error},
 * `job` null until its first state arrives, `rate` its rows a second (null while unknown).
 */
function useJob(id) {
  const [state, setState] = G({ job: null, rate: null, error: null });
  J(() => {
    const controller = new AbortController();
    const samples = [];
    setState({ job: null, rate: null, error: null });
    const update = (job) => {
      const now = Date.now();
      samples.push({ at: now, processed: job.processed });
      while (samples.length > 2 && now - samples[1].at > RATE_WINDOW_MS) samples.shift();
      const rate = isFinished(job) ? averageRate(job) : rateOf(samples, job);
      setState({ job, rate, error: null });
    };
    followJob(id, update, { signal: controller.signal, fields: JOB_FIELDS }).catch(
      (error) => isAbort(error) || setState((old) => ({ ...old, error })),
    );
    return () => controller.abort();
  }, [id]);
  return state;
}

/** How far `job` is, 0 to 100. */
function percentOf(job) {
  if (job.status === 'SUCCEEDED') return 100;
  if (!job.total) return 0;
  return Math.max(0, Math.min(100, Math.floor((job.processed * 100) / job.total)));
}

/** The counts a job has so far, as "label: number" pairs. */
function countsOf(job) {
  if (job.__typename === 'ImportJob') {
    const keys = job.dryRun
      ? ['planCreate', 'planUpdate', 'planDelete', 'planUnchanged', 'planFailed']
      : ['countCreated', 'countUpdated', 'countDeleted', 'countUnchanged', 'countFailed'];
    return [job.created, job.updated, job.deleted, job.skipped, job.failed].map((value, i) => [keys[i], value]);
  }
  if (job.__typename === 'EmailJob') {
    return [
      ['countSent', job.sent],
      ['countNotSent', job.failed],
      ['countSkipped', job.skipped],
    ];
  }
  return [['countWritten', job.processed]];
}

function JobCounts({ job }) {
  return fe`
    <dl class="counts">
      ${countsOf(job).map(
        ([key, value]) => fe`
          <div key=${key} class=${key.endsWith('Failed') && value ? 'count-bad' : ''}>
            <dt>${t(key)}</dt>
            <dd>${formatNumber(value)}</dd>
          </div>
        `,
      )}
    </dl>
  `;
}

/** The line under the bar: rows done of the total, rows a second, time left. */
function progressText(job, rate) {
  const parts = [
    job.total == null
      ? t('rowsSoFar', formatNumber(job.processed))
      : t('rowsOf', formatNumber(job.processed), formatNumber(job.total)),
  ];
  if (job.status === 'QUEUED') parts.push(t('waitingForWorker'));
  if (rate) parts.push(t('rowsPerSecond', formatNumber(Math.round(rate))));
  const running = job.status === 'RUNNING';
  if (running && rate > 0 && job.total != null && job.total > job.processed) {
    parts.push(t('timeLeft', formatDuration((job.total - job.processed) / rate)));
  }
  if (running && job.cancelRequested) parts.push(t('cancelling'));
  return parts.join(' · ');
}

/** The progress bar of `job`, its pace and its counts so far; `label` names the bar. */
function JobProgress({ job, rate, label }) {
  const percent = percentOf(job);
  const text = progressText(job, rate);
  const labelId = `progress-label-${job.id}`;
  return fe`
    <div class="job-progress">
      <p class="progress-label" id=${labelId}>${label}</p>
      <div
        role="progressbar"
        class="progressbar"
        aria-labelledby=${labelId}
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${percent}
        aria-valuetext=${`${percent}% · ${text}`}
      >
        <div class=${`progressbar-fill progressbar-${job.status.toLowerCase()}`} style=${{ width: `${percent}%` }}></div>
      </div>
      <p class="progress-text"><strong>${percent}%</strong> · ${text}</p>
      <${JobCounts} job=${job} />
    </div>
  `;
}

// An import's rows, 50 a page: a dry run's plan (what each row would do) narrowed by action, or
// the rows with errors narrowed by error code.

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
      (r) => fe`<li key=${`+${r}`}><span aria-hidden="true">+ </span><span class="visually-hidden">${t('roleAdded')} </span>${r}</li>`,
    ),
    ...row.rolesRemoved.map(
      (r) => fe`<li key=${`-${r}`}><span aria-hidden="true">− </span><span class="visually-hidden">${t('roleRemoved')} </span>${r}</li>`,
    ),
  ];
  return fe`
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
          (row) => fe`
            <tr key=${row.row}>
              <td class="number">${formatNumber(row.row)}</td>
              <td><span class=${`badge plan-${row.action.toLowerCase()}`}>${t(`planAction:${row.action}`)}</span></td>
              <td>${row.user ? row.user.username : fe`<span class="muted">${t('newUserMark')}</span>`}</td>
              <td>${row.fields.length ? row.fields.join(', ') : fe`<span class="muted">—</span>`}</td>
              <td>${roles(row).length ? fe`<ul class="roles">${roles(row)}</ul>` : fe`<span class="muted">—</span>`}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

function ErrorTable({ rows }) {
  return fe`
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
          (row, i) => fe`
            <tr key=${`${row.row}:${i}`}>
              <td class="number">${formatNumber(row.row)}</td>
              <td>${row.column ?? fe`<span class="muted">—</span>`}</td>
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
function ImportRows({ job }) {
  const [filter, setFilter] = G({ action: job.dryRun ? '' : FAILED, code: '' });
  // The cursors of the pages before this one (Previous page), and this page's.
  const [cursors, setCursors] = G([null]);
  const [page, setPage] = G(null);
  const [codes, setCodes] = G([]);
  const [error, setError] = G(null);
  const showingErrors = filter.action === FAILED;
  const after = cursors[cursors.length - 1];
  // The number of the first row of the page asked for: said with that page's rows once they
  // arrive, not before (the line would announce rows still showing the last page's).
  const firstAsked = (cursors.length - 1) * PAGE + 1;

  J(() => {
    const controller = new AbortController();
    gql(CODES, { id: job.id }, { signal: controller.signal })
      .then((data) => setCodes(data.job?.rowErrorCodes ?? []))
      .catch((e) => isAbort(e) || setError(errorText(e)));
    return () => controller.abort();
  }, [job.id]);

  J(() => {
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
  return fe`
    <section class="import-rows" aria-labelledby="import-rows-heading">
      <h3 id="import-rows-heading">${job.dryRun ? t('planHeading') : t('rowErrorsHeading')}</h3>
      <div class="filters">
        ${job.dryRun &&
        fe`<${SelectField}
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
      ${error && fe`<p role="alert">${error}</p>`}
      <p class="muted" aria-live="polite">
        ${page && (rows.length ? t('rowsShown', formatNumber(first), formatNumber(first + rows.length - 1)) : t('noRowsHere'))}
      </p>
      ${rows.length > 0 && (page.errors ? fe`<${ErrorTable} rows=${rows} />` : fe`<${PlanTable} rows=${rows} />`)}
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

// One job, opened: its live progress and Cancel; once it ends, its totals and what it left: an
// import's error report and rows (a dry run's plan, with "Apply this plan"), an export's file.

const CANCEL = `mutation CancelJob($id: ID!) {
  cancelJob(id: $id) { job { id } userErrors { field message code } }
}`;
const APPLY = `mutation ApplyPlan($id: ID!) {
  startImport(dryRunJobId: $id) { job { id } userErrors { field message code } }
}`;

const jobPath = (id) => `/console/jobs/${encodeURIComponent(id)}`;

/** What the page says when it saw `job` end. */
function endNotice(job) {
  if (job.status === 'CANCELLED') return statusNotice(t('jobCancelled'));
  if (job.status === 'FAILED') return alertNotice(t('jobFailed', job.error));
  if (job.__typename === 'ImportJob') {
    const counts = [job.created, job.updated, job.deleted, job.failed];
    const text = job.dryRun ? t('dryRunDone', ...counts) : t('importDone', ...counts);
    // A plan's errors are what a dry run is for; an import's are news.
    return job.failed && !job.dryRun ? alertNotice(text) : statusNotice(text);
  }
  if (job.__typename === 'ExportJob') return statusNotice(t('exportReady', job.rowCount));
  return job.failed ? alertNotice(t('welcomePartly', job.sent, job.failed)) : statusNotice(t('welcomeSent', job.sent));
}

function ErrorReport({ job }) {
  if (!job.failed || !job.errorReportUrl) return null;
  return fe`
    <div class="job-download">
      <a class="button" href=${sameOrigin(job.errorReportUrl)} download="">${t('downloadErrors')}</a>
      <p class="hint">${t('downloadErrorsHint', job.failed)}</p>
    </div>
  `;
}

function ExportFile({ job }) {
  if (job.status !== 'SUCCEEDED') return null;
  if (!job.downloadUrl) return fe`<p>${t('exportGone')}</p>`;
  return fe`
    <div class="job-download">
      <a class="button primary" href=${sameOrigin(job.downloadUrl)} download="">${t('downloadExport')}</a>
      <p class="hint">
        ${job.expiresAt ? t('exportExpires', formatDateTime(job.expiresAt)) : ''}
        ${job.columns.length ? ` ${t('exportColumns', job.columns.join(', '))}` : ''}
      </p>
    </div>
  `;
}

/** Apply this plan: the dry run's own file, with its options. */
function ApplyPlan({ job, notify, onApplied }) {
  const [busy, setBusy] = G(false);
  const apply = async () => {
    setBusy(true);
    try {
      const { startImport: payload } = await gql(APPLY, { id: job.id });
      if (payload.userErrors.length) {
        notify(alertNotice(t('planNotApplied'), fe`<${UserErrorList} errors=${payload.userErrors} />`));
        return;
      }
      onApplied(payload.job.id);
    } catch (error) {
      notify(alertNotice(errorText(error)));
    } finally {
      setBusy(false);
    }
  };
  return fe`
    <div class="apply-plan">
      <p>${t('planNothingChanged')}</p>
      <${Button} class="primary" onClick=${apply} disabled=${busy} aria-describedby="apply-plan-hint">
        ${t('applyPlan')}
      <//>
      <p class="hint" id="apply-plan-hint">${t('applyPlanHint')}</p>
    </div>
  `;
}

function Outcome({ job, session, notify, onApplied }) {
  const admin = session.scope === 'admin';
  if (job.__typename === 'ExportJob') return fe`<${ExportFile} job=${job} />`;
  if (job.__typename !== 'ImportJob') return null;
  const planned = job.dryRun && job.status === 'SUCCEEDED';
  return fe`
    ${job.status === 'FAILED' && job.error && fe`<p class="job-error">${job.error}</p>`}
    ${planned && admin && fe`<${ApplyPlan} job=${job} notify=${notify} onApplied=${onApplied} />`}
    <${ErrorReport} job=${job} />
    ${(planned || job.failed > 0) && fe`<${ImportRows} key=${job.id} job=${job} />`}
  `;
}

/**
 * Job `id`, followed live while it runs. `focus` puts focus on its heading at once (the page
 * has just started it); `onApplied(newId)` when its plan was applied (by default, the new
 * job's page opens).
 */
function JobView({ id, session, focus = false, onApplied = (next) => navigate(jobPath(next)) }) {
  const { job, rate, error } = useJob(id);
  const [notice, setNotice] = G(null);
  const [cancelling, setCancelling] = G(false);
  const heading = Q(null);
  // A job this page has just started counts as seen running: a small one may have ended before
  // its first update arrives, and the person who started it is still told how it ended.
  const sawRunning = Q(focus);
  J(() => {
    if (focus) heading.current?.focus();
  }, []);
  // A job the page saw end (or started) says so; a finished job opened later is simply shown.
  J(() => {
    if (!job) return;
    if (!isFinished(job)) sawRunning.current = true;
    else if (sawRunning.current) {
      sawRunning.current = false;
      setNotice(endNotice(job));
    }
  }, [job?.status]);

  // Cancel stays unavailable once asked: the job stops at its next chunk.
  const cancel = async () => {
    setCancelling(true);
    try {
      const { cancelJob: payload } = await gql(CANCEL, { id });
      if (!payload.userErrors.length) {
        setNotice(statusNotice(t('cancelRequested')));
        return;
      }
      setNotice(alertNotice(t('notCancelled'), fe`<${UserErrorList} errors=${payload.userErrors} />`));
    } catch (e) {
      setNotice(alertNotice(errorText(e)));
    }
    setCancelling(false);
  };

  // A read session may cancel the exports it started; the API refuses it any other job.
  const mayCancel = session.scope === 'admin' || job?.__typename === 'ExportJob';
  const kind = job ? jobKind(job) : error ? t('jobNotShown') : t('loading');
  return fe`
    <section class="job-view" aria-labelledby="job-view-heading">
      <h2 id="job-view-heading" tabindex="-1" ref=${heading}>${kind}</h2>
      <${Notices} notice=${error ? alertNotice(error.code === 'NOT_FOUND' ? t('noSuchJob') : errorText(error)) : notice} />
      ${job &&
      fe`
        <p class="job-meta">
          <${JobStatus} status=${job.status} />
          <span>${t('jobStartedBy', startedBy(job), formatDateTime(job.createdAt))}</span>
          ${job.finishedAt && fe`<span>${t('jobFinishedAt', formatDateTime(job.finishedAt))}</span>`}
        </p>
        <${JobProgress} job=${job} rate=${rate} label=${t('progressOf', kind)} />
        ${!isFinished(job) &&
        mayCancel &&
        fe`<${Button} onClick=${cancel} disabled=${cancelling || job.cancelRequested}>${t('cancel')}<//>`}
        ${isFinished(job) &&
        fe`<${Outcome} job=${job} session=${session} notify=${setNotice} onApplied=${onApplied} />`}
      `}
      ${!job && !error && fe`<p aria-busy="true">${t('loading')}</p>`}
    </section>
  `;
}

export { JobView as J, JobStatus as a, jobKind as b, formatDuration as f, jobPath as j, percentOf as p, startedBy as s };
