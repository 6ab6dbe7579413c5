// An app's webhook deliveries, newest first: status, attempts, the last answer or error, when;
// Redeliver for a failed one and Send test for the app. Asked again every few seconds while
// some are pending.
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { formatDateTime, formatNumber, t } from './i18n.js';
import { Pager } from './pager.js';
import { alertNotice, Button, errorText, isAbort, Notices, SelectField, statusNotice } from './ui.js';

const PAGE = 20;
const REFRESH_MS = 3000;
const DELIVERIES = `query Deliveries($platform: ID!, $status: DeliveryStatus, $first: Int!, $after: String) {
  webhookDeliveries(platform: $platform, status: $status, first: $first, after: $after) {
    edges { node {
      id eventType status attempts lastAttemptAt lastResponseCode lastError nextAttemptAt deliveredAt createdAt
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const REDELIVER = `mutation Redeliver($id: ID!) {
  redeliverWebhook(id: $id) { delivery { id status } userErrors { field message code } }
}`;
const SEND_TEST = `mutation SendTest($platformId: ID!) {
  sendTestWebhook(platformId: $platformId) { delivery { id } userErrors { field message code } }
}`;
const STATUS_CLASS = { PENDING: 'badge-pending', SUCCEEDED: 'badge-active', FAILED: 'badge-failed' };

function LastAnswer({ delivery }) {
  const parts = [];
  if (delivery.lastResponseCode != null) parts.push(`HTTP ${delivery.lastResponseCode}`);
  // An error that is the status itself ("HTTP 500") is said once.
  if (delivery.lastError && delivery.lastError !== parts[0]) parts.push(delivery.lastError);
  if (!parts.length) return html`<span class="muted">${delivery.attempts ? '—' : t('notTriedYet')}</span>`;
  return parts.join(' · ');
}

function DeliveryRow({ delivery, canChange, busy, onRedeliver }) {
  const eventId = `delivery-${delivery.id}`;
  return html`
    <tr>
      <td class="date">${formatDateTime(delivery.createdAt)}</td>
      <td id=${eventId}><code>${delivery.eventType}</code></td>
      <td><span class=${`badge ${STATUS_CLASS[delivery.status]}`}>${t(`deliveryStatus:${delivery.status}`)}</span></td>
      <td class="number">${formatNumber(delivery.attempts)}</td>
      <td><${LastAnswer} delivery=${delivery} /></td>
      <td class="date">
        ${delivery.lastAttemptAt ? formatDateTime(delivery.lastAttemptAt) : html`<span class="muted">—</span>`}
        ${delivery.nextAttemptAt && html`<br /><span class="muted">${t('nextAttempt', formatDateTime(delivery.nextAttemptAt))}</span>`}
      </td>
      ${canChange &&
      html`<td>
        ${delivery.status === 'FAILED' &&
        html`<${Button} disabled=${busy} aria-describedby=${eventId} onClick=${() => onRedeliver(delivery)}>
          ${t('redeliver')}
        <//>`}
      </td>`}
    </tr>
  `;
}

/** The deliveries to `platform` ({id, webhookUrl}); `canChange`: Redeliver and Send test. */
export function Deliveries({ platform, canChange }) {
  const [status, setStatus] = useState('');
  const [after, setAfter] = useState(null);
  const [page, setPage] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    let timer = null;
    const load = () =>
      gql(
        DELIVERIES,
        { platform: platform.id, status: status || null, first: PAGE, after },
        { signal: controller.signal },
      )
        .then(({ webhookDeliveries }) => {
          const rows = webhookDeliveries.edges.map((e) => e.node);
          setPage({ rows, pageInfo: webhookDeliveries.pageInfo });
          if (rows.some((d) => d.status === 'PENDING')) timer = setTimeout(load, REFRESH_MS);
        })
        .catch((e) => isAbort(e) || setNotice(alertNotice(errorText(e))));
    load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [platform.id, status, after, reloads]);

  const act = async (query, variables, field, done) => {
    setBusy(true);
    try {
      const payload = (await gql(query, variables))[field];
      if (payload.userErrors.length) setNotice(alertNotice(payload.userErrors.map((e) => e.message).join(' ')));
      else {
        setNotice(statusNotice(done));
        setReloads((n) => n + 1);
      }
    } catch (e) {
      setNotice(alertNotice(errorText(e)));
    } finally {
      setBusy(false);
    }
  };
  const redeliver = (delivery) =>
    act(REDELIVER, { id: delivery.id }, 'redeliverWebhook', t('redelivered', delivery.eventType));
  const sendTest = () => act(SEND_TEST, { platformId: platform.id }, 'sendTestWebhook', t('testQueued'));

  const rows = page?.rows ?? [];
  return html`
    <section aria-labelledby="deliveries-heading">
      <div class="section-head">
        <h2 id="deliveries-heading">${t('deliveriesHeading')}</h2>
        ${canChange && platform.webhookUrl && html`<${Button} onClick=${sendTest} disabled=${busy}>${t('sendTest')}<//>`}
      </div>
      <div class="list-controls">
        <${SelectField}
          label=${t('deliveryStatusFilter')}
          value=${status}
          options=${[['', t('statusAll')], ...['PENDING', 'SUCCEEDED', 'FAILED'].map((s) => [s, t(`deliveryStatus:${s}`)])]}
          onChange=${(next) => {
            setStatus(next);
            setAfter(null);
          }}
        />
      </div>
      <${Notices} notice=${notice} />
      <div class="table-wrap">
        <table class="plain deliveries" aria-busy=${page ? 'false' : 'true'}>
          <caption class="visually-hidden">${t('deliveriesCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">${t('colCreated')}</th>
              <th scope="col">${t('colEvent')}</th>
              <th scope="col">${t('colStatus')}</th>
              <th scope="col">${t('colAttempts')}</th>
              <th scope="col">${t('colLastAnswer')}</th>
              <th scope="col">${t('colLastAttempt')}</th>
              ${canChange && html`<th scope="col"><span class="visually-hidden">${t('colActions')}</span></th>`}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (d) =>
                html`<${DeliveryRow} key=${d.id} delivery=${d} canChange=${canChange} busy=${busy} onRedeliver=${redeliver} />`,
            )}
            ${page &&
            rows.length === 0 &&
            html`<tr><td colspan=${canChange ? 7 : 6} class="empty">${t('noDeliveries')}</td></tr>`}
          </tbody>
        </table>
      </div>
      <${Pager} after=${after} pageInfo=${page?.pageInfo} label=${t('deliveryPages')} onPage=${setAfter} />
    </section>
  `;
}
