// One job, opened: its live progress and Cancel; once it ends, its totals and what it left: an
// import's error report and rows (a dry run's plan, with "Apply this plan"), an export's file.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { formatDateTime, t } from './i18n.js';
import { ImportRows } from './import-rows.js';
import { isFinished, JobProgress, jobKind, JobStatus, startedBy, useJob } from './job-progress.js';
import { sameOrigin } from './links.js';
import { navigate } from './router.js';
import { alertNotice, Button, errorText, Notices, statusNotice, UserErrorList } from './ui.js';

const CANCEL = `mutation CancelJob($id: ID!) {
  cancelJob(id: $id) { job { id } userErrors { field message code } }
}`;
const APPLY = `mutation ApplyPlan($id: ID!) {
  startImport(dryRunJobId: $id) { job { id } userErrors { field message code } }
}`;

export const jobPath = (id) => `/console/jobs/${encodeURIComponent(id)}`;

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
  return html`
    <div class="job-download">
      <a class="button" href=${sameOrigin(job.errorReportUrl)} download="">${t('downloadErrors')}</a>
      <p class="hint">${t('downloadErrorsHint', job.failed)}</p>
    </div>
  `;
}

function ExportFile({ job }) {
  if (job.status !== 'SUCCEEDED') return null;
  if (!job.downloadUrl) return html`<p>${t('exportGone')}</p>`;
  return html`
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
  const [busy, setBusy] = useState(false);
  const apply = async () => {
    setBusy(true);
    try {
      const { startImport: payload } = await gql(APPLY, { id: job.id });
      if (payload.userErrors.length) {
        notify(alertNotice(t('planNotApplied'), html`<${UserErrorList} errors=${payload.userErrors} />`));
        return;
      }
      onApplied(payload.job.id);
    } catch (error) {
      notify(alertNotice(errorText(error)));
    } finally {
      setBusy(false);
    }
  };
  return html`
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
  if (job.__typename === 'ExportJob') return html`<${ExportFile} job=${job} />`;
  if (job.__typename !== 'ImportJob') return null;
  const planned = job.dryRun && job.status === 'SUCCEEDED';
  return html`
    ${job.status === 'FAILED' && job.error && html`<p class="job-error">${job.error}</p>`}
    ${planned && admin && html`<${ApplyPlan} job=${job} notify=${notify} onApplied=${onApplied} />`}
    <${ErrorReport} job=${job} />
    ${(planned || job.failed > 0) && html`<${ImportRows} key=${job.id} job=${job} />`}
  `;
}

/**
 * Job `id`, followed live while it runs. `focus` puts focus on its heading at once (the page
 * has just started it); `onApplied(newId)` when its plan was applied (by default, the new
 * job's page opens).
 */
export function JobView({ id, session, focus = false, onApplied = (next) => navigate(jobPath(next)) }) {
  const { job, rate, error } = useJob(id);
  const [notice, setNotice] = useState(null);
  const [cancelling, setCancelling] = useState(false);
  const heading = useRef(null);
  // A job this page has just started counts as seen running: a small one may have ended before
  // its first update arrives, and the person who started it is still told how it ended.
  const sawRunning = useRef(focus);
  useEffect(() => {
    if (focus) heading.current?.focus();
  }, []);
  // A job the page saw end (or started) says so; a finished job opened later is simply shown.
  useEffect(() => {
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
      setNotice(alertNotice(t('notCancelled'), html`<${UserErrorList} errors=${payload.userErrors} />`));
    } catch (e) {
      setNotice(alertNotice(errorText(e)));
    }
    setCancelling(false);
  };

  // A read session may cancel the exports it started; the API refuses it any other job.
  const mayCancel = session.scope === 'admin' || job?.__typename === 'ExportJob';
  const kind = job ? jobKind(job) : error ? t('jobNotShown') : t('loading');
  return html`
    <section class="job-view" aria-labelledby="job-view-heading">
      <h2 id="job-view-heading" tabindex="-1" ref=${heading}>${kind}</h2>
      <${Notices} notice=${error ? alertNotice(error.code === 'NOT_FOUND' ? t('noSuchJob') : errorText(error)) : notice} />
      ${job &&
      html`
        <p class="job-meta">
          <${JobStatus} status=${job.status} />
          <span>${t('jobStartedBy', startedBy(job), formatDateTime(job.createdAt))}</span>
          ${job.finishedAt && html`<span>${t('jobFinishedAt', formatDateTime(job.finishedAt))}</span>`}
        </p>
        <${JobProgress} job=${job} rate=${rate} label=${t('progressOf', kind)} />
        ${!isFinished(job) &&
        mayCancel &&
        html`<${Button} onClick=${cancel} disabled=${cancelling || job.cancelRequested}>${t('cancel')}<//>`}
        ${isFinished(job) &&
        html`<${Outcome} job=${job} session=${session} notify=${setNotice} onApplied=${onApplied} />`}
      `}
      ${!job && !error && html`<p aria-busy="true">${t('loading')}</p>`}
    </section>
  `;
}
