// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { G, J, y as gql, K as isAbort, d as alertNotice, z as errorText, $ as SelectField, N as Notices, c as t, V as Button, f as fe, W as formatDateTime, a1 as formatNumber, D as statusNotice, A as APPS_PATH, v as useTitle, r as Link, Q, C as focusFirstInvalid, _ as Field, ac as ConfirmDialog, F as errorsByField, H as UserErrorList, X as takeFlash } from './console.js';
import { P as Pager } from './pager.js';

// An app's webhook deliveries, newest first: status, attempts, the last answer or error, when;
// Redeliver for a failed one and Send test for the app. Asked again every few seconds while
// some are pending.

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
  if (!parts.length) return fe`<span class="muted">${delivery.attempts ? '—' : t('notTriedYet')}</span>`;
  return parts.join(' · ');
}

function DeliveryRow({ delivery, canChange, busy, onRedeliver }) {
  const eventId = `delivery-${delivery.id}`;
  return fe`
    <tr>
      <td class="date">${formatDateTime(delivery.createdAt)}</td>
      <td id=${eventId}><code>${delivery.eventType}</code></td>
      <td><span class=${`badge ${STATUS_CLASS[delivery.status]}`}>${t(`deliveryStatus:${delivery.status}`)}</span></td>
      <td class="number">${formatNumber(delivery.attempts)}</td>
      <td><${LastAnswer} delivery=${delivery} /></td>
      <td class="date">
        ${delivery.lastAttemptAt ? formatDateTime(delivery.lastAttemptAt) : fe`<span class="muted">—</span>`}
        ${delivery.nextAttemptAt && fe`<br /><span class="muted">${t('nextAttempt', formatDateTime(delivery.nextAttemptAt))}</span>`}
      </td>
      ${canChange &&
      fe`<td>
        ${delivery.status === 'FAILED' &&
        fe`<${Button} disabled=${busy} aria-describedby=${eventId} onClick=${() => onRedeliver(delivery)}>
          ${t('redeliver')}
        <//>`}
      </td>`}
    </tr>
  `;
}

/** The deliveries to `platform` ({id, webhookUrl}); `canChange`: Redeliver and Send test. */
function Deliveries({ platform, canChange }) {
  const [status, setStatus] = G('');
  const [after, setAfter] = G(null);
  const [page, setPage] = G(null);
  const [notice, setNotice] = G(null);
  const [busy, setBusy] = G(false);
  const [reloads, setReloads] = G(0);

  J(() => {
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
  return fe`
    <section aria-labelledby="deliveries-heading">
      <div class="section-head">
        <h2 id="deliveries-heading">${t('deliveriesHeading')}</h2>
        ${canChange && platform.webhookUrl && fe`<${Button} onClick=${sendTest} disabled=${busy}>${t('sendTest')}<//>`}
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
              ${canChange && fe`<th scope="col"><span class="visually-hidden">${t('colActions')}</span></th>`}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (d) =>
                fe`<${DeliveryRow} key=${d.id} delivery=${d} canChange=${canChange} busy=${busy} onRedeliver=${redeliver} />`,
            )}
            ${page &&
            rows.length === 0 &&
            fe`<tr><td colspan=${canChange ? 7 : 6} class="empty">${t('noDeliveries')}</td></tr>`}
          </tbody>
        </table>
      </div>
      <${Pager} after=${after} pageInfo=${page?.pageInfo} label=${t('deliveryPages')} onPage=${setAfter} />
    </section>
  `;
}

// One app's page: its roles and webhook (URL, events a request; Save), its signing secret
// (Rotate secret, shown once with Copy, and how long the old one keeps working), and its
// deliveries.

const PLATFORM_FIELDS = `
  id key name kind roles aliases webhookUrl webhookBatchSize webhookDisabledAt webhookDisabledReason
  webhookPreviousSecretUntil
`;
const PLATFORM = `query App($id: ID!) { node(id: $id) { ... on Platform { ${PLATFORM_FIELDS} } } }`;
const UPDATE = `mutation UpdateApp($id: ID!, $input: UpdatePlatformInput!) {
  updatePlatform(id: $id, input: $input) {
    platform { ${PLATFORM_FIELDS} } webhookSecret userErrors { field message code }
  }
}`;
const ROTATE = `mutation RotateSecret($platformId: ID!) {
  rotateWebhookSecret(platformId: $platformId) {
    platform { ${PLATFORM_FIELDS} } webhookSecret userErrors { field message code }
  }
}`;
const SETTINGS = new Set(['webhookUrl', 'webhookBatchSize', 'roles']);

const appPath = (id) => `${APPS_PATH}/${encodeURIComponent(id)}`;
/** Roles as typed: separated by commas or lines. */
const parseRoles = (text) => [...new Set(text.split(/[,\n]/).map((r) => r.trim()).filter(Boolean))];
/** A userError's field ("roles.2") as the form's ("roles"). */
const settingOf = (key) => key.split('.')[0];

// A secret the API gave for an app just created, shown once on its page.
let handedSecret = null;

function showSecretOnce(platformId, secret) {
  handedSecret = secret ? { platformId, secret } : null;
}

function takeSecret(platformId) {
  const found = handedSecret?.platformId === platformId ? handedSecret.secret : null;
  handedSecret = null;
  return found;
}

/** A signing secret, shown this once, with Copy; focus comes to it when it appears. */
function SecretOnce({ secret, previousUntil }) {
  const [copied, setCopied] = G(null);
  const heading = Q(null);
  const field = Q(null);
  // After the confirmation closes (it gives focus back to its opener a moment later).
  J(() => {
    const timer = setTimeout(() => heading.current?.focus(), 50);
    return () => clearTimeout(timer);
  }, [secret]);
  const copy = () =>
    navigator.clipboard
      .writeText(secret)
      .then(() => setCopied(t('secretCopied')))
      .catch(() => {
        field.current.select();
        setCopied(t('secretCopyByHand'));
      });
  return fe`
    <section class="secret-once" aria-labelledby="secret-heading">
      <h3 id="secret-heading" tabindex="-1" ref=${heading}>${t('newSecretHeading')}</h3>
      <p>${t('secretShownOnce')}</p>
      <div class="secret-row">
        <label for="webhook-secret">${t('webhookSecret')}</label>
        <input id="webhook-secret" ref=${field} class="secret" readonly value=${secret} spellcheck=${false} />
        <button type="button" onClick=${copy}>${t('copy')}</button>
      </div>
      <p role="status">${copied ?? ''}</p>
      ${previousUntil && fe`<p>${t('oldSecretUntil', formatDateTime(previousUntil))}</p>`}
    </section>
  `;
}

function Settings({ platform, onSaved, notify }) {
  const [values, setValues] = G(() => ({
    webhookUrl: platform.webhookUrl ?? '',
    webhookBatchSize: String(platform.webhookBatchSize),
    roles: platform.roles.join(', '),
  }));
  const [errors, setErrors] = G({});
  const [busy, setBusy] = G(false);
  const form = Q(null);
  J(() => focusFirstInvalid(form.current), [errors]);
  const set = (name) => (value) => setValues((old) => ({ ...old, [name]: value }));

  const changes = () => {
    const input = {};
    const url = values.webhookUrl.trim();
    if (url !== (platform.webhookUrl ?? '')) input.webhookUrl = url || null;
    const size = Number(values.webhookBatchSize);
    if (size !== platform.webhookBatchSize) input.webhookBatchSize = Number.isInteger(size) ? size : -1;
    const roles = parseRoles(values.roles);
    if (roles.join('\n') !== platform.roles.join('\n')) input.roles = roles;
    return input;
  };
  const submit = async (event) => {
    event.preventDefault();
    const input = changes();
    if (busy) return;
    if (!Object.keys(input).length) {
      notify(statusNotice(t('nothingToSave')));
      return;
    }
    setBusy(true);
    try {
      const { updatePlatform: payload } = await gql(UPDATE, { id: platform.id, input });
      if (payload.userErrors.length) {
        const { byField, other } = errorsByField(payload.userErrors, SETTINGS, settingOf);
        setErrors(byField);
        notify(alertNotice(t('appNotSaved'), fe`<${UserErrorList} errors=${other} />`));
        return;
      }
      setErrors({});
      notify(statusNotice(t('appSaved')));
      onSaved(payload.platform, payload.webhookSecret);
    } catch (e) {
      notify(alertNotice(errorText(e)));
    } finally {
      setBusy(false);
    }
  };
  return fe`
    <form ref=${form} class="form-grid app-settings" onSubmit=${submit} novalidate>
      <${Field}
        label=${t('webhookUrl')}
        type="url"
        value=${values.webhookUrl}
        onInput=${set('webhookUrl')}
        error=${errors.webhookUrl}
        hint=${t('webhookUrlHint')}
        placeholder="https://app.example.org/roster-webhook"
      />
      <${Field}
        label=${t('webhookBatchSize')}
        type="number"
        min="1"
        max="100"
        value=${values.webhookBatchSize}
        onInput=${set('webhookBatchSize')}
        error=${errors.webhookBatchSize}
        hint=${t('webhookBatchSizeHint')}
      />
      <${Field} label=${t('appRoles')} value=${values.roles} onInput=${set('roles')} error=${errors.roles} hint=${t('appRolesHint')} />
      <div class="form-buttons">
        <${Button} type="submit" class="primary" disabled=${busy}>${t('save')}<//>
      </div>
    </form>
  `;
}

function ReadOnlySettings({ platform }) {
  return fe`
    <dl class="details">
      <div><dt>${t('webhookUrl')}</dt><dd>${platform.webhookUrl ?? fe`<span class="muted">${t('noWebhookUrl')}</span>`}</dd></div>
      <div><dt>${t('webhookBatchSize')}</dt><dd>${platform.webhookBatchSize}</dd></div>
    </dl>
  `;
}

function Secret({ platform, canChange, onRotated, notify }) {
  const [confirming, setConfirming] = G(false);
  const [busy, setBusy] = G(false);
  const rotate = async () => {
    setBusy(true);
    try {
      const { rotateWebhookSecret: payload } = await gql(ROTATE, { platformId: platform.id });
      setConfirming(false);
      if (payload.userErrors.length) {
        notify(alertNotice(t('secretNotRotated'), fe`<${UserErrorList} errors=${payload.userErrors} />`));
        return;
      }
      onRotated(payload.platform, payload.webhookSecret);
    } catch (e) {
      setConfirming(false);
      notify(alertNotice(errorText(e)));
    } finally {
      setBusy(false);
    }
  };
  const until = platform.webhookPreviousSecretUntil;
  return fe`
    <section aria-labelledby="secret-section-heading">
      <h2 id="secret-section-heading">${t('secretHeading')}</h2>
      <p>${t('secretExplained')}</p>
      ${until && Date.parse(until) > Date.now() && fe`<p>${t('oldSecretUntil', formatDateTime(until))}</p>`}
      ${canChange &&
      fe`
        <${Button} class="danger" onClick=${() => setConfirming(true)} disabled=${busy}>${t('rotateSecret')}<//>
        <${ConfirmDialog}
          open=${confirming}
          title=${t('rotateTitle')}
          confirmLabel=${t('rotateNow')}
          onConfirm=${rotate}
          onCancel=${() => setConfirming(false)}
          busy=${busy}
        >
          <p>${t('rotateExplained')}</p>
        <//>
      `}
    </section>
  `;
}

const KIND_KEYS = { LEARNING_CLOUD: 'kindLearningCloud', CONTENT_CLOUD: 'kindContentCloud', EXTERNAL_APP: 'kindExternalApp' };
const platformKind = (kind) => t(KIND_KEYS[kind] ?? kind);

function PlatformScreen({ id, session, onPlatformsChanged }) {
  const [platform, setPlatform] = G(undefined);
  const [loadError, setLoadError] = G(null);
  const [notice, setNotice] = G(takeFlash);
  const [secret, setSecret] = G(() => takeSecret(id));
  const canChange = session.scope === 'admin';
  useTitle(platform?.name ?? t('appHeading'));

  J(() => {
    const controller = new AbortController();
    gql(PLATFORM, { id }, { signal: controller.signal })
      .then((data) => setPlatform(data.node))
      .catch((e) => isAbort(e) || setLoadError(errorText(e)));
    return () => controller.abort();
  }, [id]);

  const changed = (next, newSecret) => {
    setPlatform(next);
    if (newSecret) setSecret(newSecret);
    onPlatformsChanged();
  };
  const head = (text) => fe`<div class="screen-head"><h1 tabindex="-1">${text}</h1></div>`;
  const back = fe`<p><${Link} href=${APPS_PATH}>${t('backToApps')}<//></p>`;
  if (loadError) return fe`${head(t('appHeading'))}${back}<${Notices} notice=${alertNotice(loadError)} />`;
  if (platform === undefined) return fe`${head(t('appHeading'))}<p aria-busy="true">${t('loading')}</p>`;
  if (platform === null) return fe`${head(t('noSuchApp'))}${back}`;
  return fe`
    ${head(platform.name)}
    ${back}
    <${Notices} notice=${notice} />
    <dl class="details">
      <div><dt>${t('appKey')}</dt><dd><code>${platform.key}</code></dd></div>
      <div><dt>${t('appKind')}</dt><dd>${platformKind(platform.kind)}</dd></div>
      <div><dt>${t('colRoles')}</dt><dd>${platform.roles.join(', ')}</dd></div>
      ${platform.aliases.length > 0 && fe`<div><dt>${t('appAliases')}</dt><dd>${platform.aliases.join(', ')}</dd></div>`}
    </dl>
    <section aria-labelledby="webhook-heading">
      <h2 id="webhook-heading">${t('webhookHeading')}</h2>
      ${platform.webhookDisabledAt &&
      fe`<p class="notice notice-alert">
        ${t('webhookStopped', formatDateTime(platform.webhookDisabledAt), platform.webhookDisabledReason ?? '')}
      </p>`}
      ${canChange
        ? fe`<${Settings} key=${platform.id} platform=${platform} onSaved=${changed} notify=${setNotice} />`
        : fe`<${ReadOnlySettings} platform=${platform} />`}
    </section>
    ${secret && fe`<${SecretOnce} key=${secret} secret=${secret} previousUntil=${platform.webhookPreviousSecretUntil} />`}
    ${platform.webhookUrl &&
    fe`<${Secret} platform=${platform} canChange=${canChange} onRotated=${changed} notify=${setNotice} />`}
    <${Deliveries} platform=${platform} canChange=${canChange} />
  `;
}

export { PLATFORM_FIELDS, PlatformScreen, SETTINGS, appPath, parseRoles, platformKind, settingOf, showSecretOnce };
