// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { v as useTitle, c as t, r as Link, p as JOBS_PATH, f as fe, a2 as Y, G, J, y as gql, K as isAbort, z as errorText, $ as SelectField, N as Notices, n as navigate, d as alertNotice, W as formatDateTime, a1 as formatNumber } from './console.js';
import { J as JobView, a as JobStatus, j as jobPath, b as jobKind, s as startedBy, p as percentOf } from './job-view.js';
import { P as Pager } from './pager.js';

// The Jobs screen: every job of the organisation (imports, exports, welcome e-mails), newest
// first, with its status, progress, who started it and when; and one job's page, whose live bar
// picks up again after a reload (the job's id is in the address).

const PAGE = 50;
// While a job on the page runs, the list asks again this often.
const REFRESH_MS = 2000;
const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const JOBS = `query Jobs($first: Int!, $after: String, $status: JobStatus) {
  jobs(first: $first, after: $after, status: $status) {
    edges { node {
      __typename id status processed total createdAt startedAt finishedAt startedBy error
      ... on ImportJob { dryRun failed }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

function readState(search) {
  const params = new URLSearchParams(search);
  const status = params.get('status') ?? '';
  return { status: STATUSES.includes(status) ? status : '', after: params.get('after') };
}

function jobsUrl({ status, after }) {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (after) params.set('after', after);
  const query = params.toString();
  return query ? `${JOBS_PATH}?${query}` : JOBS_PATH;
}

function Progress({ job }) {
  const rows =
    job.total == null ? formatNumber(job.processed) : t('rowsOf', formatNumber(job.processed), formatNumber(job.total));
  return fe`<span>${percentOf(job)}%</span> <span class="muted">${rows}</span>`;
}

function JobRow({ job }) {
  return fe`
    <tr>
      <td><${Link} href=${jobPath(job.id)}>${jobKind(job)}<//></td>
      <td>
        <${JobStatus} status=${job.status} />
        ${job.failed > 0 && fe` <span class="muted">${t('nFailedRows', job.failed)}</span>`}
      </td>
      <td><${Progress} job=${job} /></td>
      <td>${startedBy(job)}</td>
      <td class="date">${formatDateTime(job.createdAt)}</td>
      <td class="date">${job.finishedAt ? formatDateTime(job.finishedAt) : fe`<span class="muted">—</span>`}</td>
    </tr>
  `;
}

function JobsScreen({ search }) {
  const state = Y(() => readState(search), [search]);
  const [page, setPage] = G(null);
  const [error, setError] = G(null);
  useTitle(t('jobsHeading'));

  J(() => {
    const controller = new AbortController();
    let timer = null;
    const load = () =>
      gql(JOBS, { first: PAGE, after: state.after, status: state.status || null }, { signal: controller.signal })
        .then(({ jobs }) => {
          const rows = jobs.edges.map((e) => e.node);
          setPage({ rows, pageInfo: jobs.pageInfo });
          setError(null);
          if (rows.some((job) => job.status === 'QUEUED' || job.status === 'RUNNING')) {
            timer = setTimeout(load, REFRESH_MS);
          }
        })
        .catch((e) => isAbort(e) || setError(errorText(e)));
    load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [state]);

  const rows = page?.rows ?? [];
  return fe`
    <div class="screen-head"><h1 tabindex="-1">${t('jobsHeading')}</h1></div>
    <div class="list-controls">
      <${SelectField}
        label=${t('status')}
        value=${state.status}
        options=${[['', t('statusAll')], ...STATUSES.map((s) => [s, t(`jobStatus:${s}`)])]}
        onChange=${(status) => navigate(jobsUrl({ status }))}
      />
    </div>
    <${Notices} notice=${error ? alertNotice(error) : null} />
    <div class="table-wrap">
      <table class="plain jobs" aria-busy=${page ? 'false' : 'true'}>
        <caption class="visually-hidden">${t('jobsCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">${t('colKind')}</th>
            <th scope="col">${t('colStatus')}</th>
            <th scope="col">${t('colProgress')}</th>
            <th scope="col">${t('colStartedBy')}</th>
            <th scope="col">${t('colCreated')}</th>
            <th scope="col">${t('colFinished')}</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map((job) => fe`<${JobRow} key=${job.id} job=${job} />`)}
          ${page && rows.length === 0 && fe`<tr><td colspan="6" class="empty">${t('noJobs')}</td></tr>`}
        </tbody>
      </table>
    </div>
    <${Pager}
      after=${state.after}
      pageInfo=${page?.pageInfo}
      label=${t('pages')}
      onPage=${(after) => navigate(jobsUrl({ ...state, after }))}
    />
  `;
}

/** One job's page: /console/jobs/<id>. */
function JobScreen({ id, session }) {
  useTitle(t('jobHeading'));
  return fe`
    <div class="screen-head"><h1 tabindex="-1">${t('jobHeading')}</h1></div>
    <p><${Link} href=${JOBS_PATH}>${t('backToJobs')}<//></p>
    <${JobView} key=${id} id=${id} session=${session} />
  `;
}

export { JobScreen, JobsScreen };
