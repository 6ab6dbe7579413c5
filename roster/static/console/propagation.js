// How a deletion reaches each app: the `user.deleted` webhook deliveries of the deleted users,
// per platform (delivered, pending, failed), polled every 2 seconds for a while.
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { formatDateTime, formatNumber, t } from './i18n.js';
import { errorText, isAbort } from './ui.js';

const POLL_MS = 2000;
// Long enough for a few retries of a slow app; the page says when it stops looking.
const FOLLOW_MS = 120000;
// Users followed at once: one query of aliases (the API allows 30 a document).
const FOLLOWED = 25;
const EVENT = 'user.deleted';

function deliveriesQuery(count) {
  const variables = Array.from({ length: count }, (_, i) => `$u${i}: ID!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) => `u${i}: webhookDeliveries(userId: $u${i}, first: 10) {
      edges { node { eventType status attempts lastError deliveredAt nextAttemptAt platform { id } } }
    }`,
  ).join('\n');
  return `query Propagation(${variables}) { ${fields} }`;
}

/** The deletion deliveries by platform id, from one answer of deliveriesQuery. */
function byPlatform(data) {
  const result = new Map();
  for (const connection of Object.values(data)) {
    for (const { node } of connection.edges) {
      if (node.eventType !== EVENT) continue;
      const list = result.get(node.platform.id) ?? [];
      list.push(node);
      result.set(node.platform.id, list);
    }
  }
  return result;
}

function counts(deliveries) {
  const c = { SUCCEEDED: 0, PENDING: 0, FAILED: 0 };
  for (const d of deliveries) c[d.status] += 1;
  return c;
}

function OneDelivery({ delivery }) {
  if (!delivery) return html`<span class="badge badge-pending">${t('deliveryWaiting')}</span>`;
  if (delivery.status === 'SUCCEEDED') {
    return html`<span class="badge badge-active">${t('deliveryDelivered')}</span>
      <span class="muted"> ${formatDateTime(delivery.deliveredAt)}</span>`;
  }
  if (delivery.status === 'PENDING') {
    const tried = delivery.attempts ? `${t('attempts', delivery.attempts)} ${delivery.lastError ?? ''}` : '';
    const next = delivery.nextAttemptAt ? t('nextAttempt', formatDateTime(delivery.nextAttemptAt)) : '';
    return html`<span class="badge badge-pending">${t('deliveryPending')}</span>
      <span class="muted"> ${tried} ${next}</span>`;
  }
  return html`<span class="badge badge-failed">${t('deliveryFailed')}</span>
    <span class="muted"> ${delivery.lastError ?? ''}</span>`;
}

function Summary({ deliveries, expected }) {
  const c = counts(deliveries);
  const waiting = Math.max(0, expected - deliveries.length);
  return html`${t('deliveryCounts', c.SUCCEEDED, c.PENDING + waiting, c.FAILED)}`;
}

/**
 * The propagation of the deletion of `ids` (the first FOLLOWED of them) to each platform of
 * `platforms` ({id, name, webhookUrl}).
 */
export function Propagation({ ids, platforms }) {
  const followed = ids.slice(0, FOLLOWED);
  const key = followed.join(',');
  const [found, setFound] = useState(null);
  const [following, setFollowing] = useState(true);
  const [error, setError] = useState(null);
  const connected = platforms.filter((p) => p.webhookUrl);

  useEffect(() => {
    const controller = new AbortController();
    const until = Date.now() + FOLLOW_MS;
    const variables = Object.fromEntries(followed.map((id, i) => [`u${i}`, id]));
    const query = deliveriesQuery(followed.length);
    let timer = null;
    setFollowing(true);
    const poll = async () => {
      let done = false;
      try {
        const result = byPlatform(await gql(query, variables, { signal: controller.signal }));
        setFound(result);
        setError(null);
        const all = [...result.values()].flat();
        done =
          connected.every((p) => (result.get(p.id) ?? []).length >= followed.length) &&
          all.every((d) => d.status !== 'PENDING');
      } catch (e) {
        if (isAbort(e)) return;
        setError(errorText(e));
      }
      if (done || Date.now() > until) setFollowing(false);
      else timer = setTimeout(poll, POLL_MS);
    };
    poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [key]);

  const single = followed.length === 1;
  return html`
    <section class="propagation" aria-labelledby="propagation-heading">
      <h2 id="propagation-heading">${t('propagationHeading')}</h2>
      ${ids.length > FOLLOWED && html`<p>${t('propagationFirst', formatNumber(FOLLOWED))}</p>`}
      ${error && html`<p role="alert">${error}</p>`}
      <table class="plain">
        <thead>
          <tr><th scope="col">${t('colApp')}</th><th scope="col">${t('colDelivery')}</th></tr>
        </thead>
        <tbody>
          ${platforms.map((p) => {
            const deliveries = found?.get(p.id) ?? [];
            let cell;
            if (!p.webhookUrl) cell = html`<span class="muted">${t('noWebhook')}</span>`;
            else if (single) cell = html`<${OneDelivery} delivery=${deliveries[0]} />`;
            else cell = html`<${Summary} deliveries=${deliveries} expected=${followed.length} />`;
            return html`<tr key=${p.id}><th scope="row">${p.name}</th><td>${cell}</td></tr>`;
          })}
        </tbody>
      </table>
      <p class="muted" aria-live="polite">${following ? t('propagationFollowing') : t('propagationStopped')}</p>
    </section>
  `;
}
