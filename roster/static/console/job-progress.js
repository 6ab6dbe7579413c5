// A job as it runs: its state from the `job` subscription, the rows a second and the time left
// measured in the page, and the progress bar each screen that starts or opens a job shows.
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { followJob } from './api.js';
import { formatNumber, getLanguage, t } from './i18n.js';
import { isAbort } from './ui.js';

export const JOB_FIELDS = `
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

export const isFinished = (job) => FINISHED.has(job?.status);

/** What kind of job `job` is, in words ("Import", "Dry run", "Export", "Welcome e-mails"). */
export function jobKind(job) {
  if (job.__typename === 'ImportJob') return job.dryRun ? t('kindDryRun') : t('kindImport');
  if (job.__typename === 'ExportJob') return t('kindExport');
  return t('kindEmail');
}

/** Who started a job: a token's name, or the console. */
export function startedBy(job) {
  return job.startedBy === 'console' ? t('startedByConsole') : job.startedBy;
}

const STATUS_CLASS = {
  QUEUED: 'badge-pending',
  RUNNING: 'badge-pending',
  SUCCEEDED: 'badge-active',
  FAILED: 'badge-failed',
  CANCELLED: 'badge-disabled',
};

export function JobStatus({ status }) {
  return html`<span class=${`badge ${STATUS_CLASS[status] ?? ''}`}>${t(`jobStatus:${status}`)}</span>`;
}

/** A duration in words of the page's language: "45 seconds", "3 minutes 20 seconds", "2 hours 5 minutes". */
export function formatDuration(seconds) {
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
export function useJob(id) {
  const [state, setState] = useState({ job: null, rate: null, error: null });
  useEffect(() => {
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
export function percentOf(job) {
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

export function JobCounts({ job }) {
  return html`
    <dl class="counts">
      ${countsOf(job).map(
        ([key, value]) => html`
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
export function JobProgress({ job, rate, label }) {
  const percent = percentOf(job);
  const text = progressText(job, rate);
  const labelId = `progress-label-${job.id}`;
  return html`
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
