// One app's page: its roles and webhook (URL, events a request; Save), its signing secret
// (Rotate secret, shown once with Copy, and how long the old one keeps working), and its
// deliveries.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { Deliveries } from './deliveries.js';
import { ConfirmDialog } from './dialogs.js';
import { formatDateTime, t } from './i18n.js';
import { Link } from './router.js';
import { APPS_PATH } from './screens.js';
import {
  alertNotice,
  Button,
  errorsByField,
  errorText,
  Field,
  focusFirstInvalid,
  isAbort,
  Notices,
  statusNotice,
  takeFlash,
  UserErrorList,
  useTitle,
} from './ui.js';

export const PLATFORM_FIELDS = `
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
export const SETTINGS = new Set(['webhookUrl', 'webhookBatchSize', 'roles']);

export const appPath = (id) => `${APPS_PATH}/${encodeURIComponent(id)}`;
/** Roles as typed: separated by commas or lines. */
export const parseRoles = (text) => [...new Set(text.split(/[,\n]/).map((r) => r.trim()).filter(Boolean))];
/** A userError's field ("roles.2") as the form's ("roles"). */
export const settingOf = (key) => key.split('.')[0];

// A secret the API gave for an app just created, shown once on its page.
let handedSecret = null;

export function showSecretOnce(platformId, secret) {
  handedSecret = secret ? { platformId, secret } : null;
}

function takeSecret(platformId) {
  const found = handedSecret?.platformId === platformId ? handedSecret.secret : null;
  handedSecret = null;
  return found;
}

/** A signing secret, shown this once, with Copy; focus comes to it when it appears. */
function SecretOnce({ secret, previousUntil }) {
  const [copied, setCopied] = useState(null);
  const heading = useRef(null);
  const field = useRef(null);
  // After the confirmation closes (it gives focus back to its opener a moment later).
  useEffect(() => {
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
  return html`
    <section class="secret-once" aria-labelledby="secret-heading">
      <h3 id="secret-heading" tabindex="-1" ref=${heading}>${t('newSecretHeading')}</h3>
      <p>${t('secretShownOnce')}</p>
      <div class="secret-row">
        <label for="webhook-secret">${t('webhookSecret')}</label>
        <input id="webhook-secret" ref=${field} class="secret" readonly value=${secret} spellcheck=${false} />
        <button type="button" onClick=${copy}>${t('copy')}</button>
      </div>
      <p role="status">${copied ?? ''}</p>
      ${previousUntil && html`<p>${t('oldSecretUntil', formatDateTime(previousUntil))}</p>`}
    </section>
  `;
}

function Settings({ platform, onSaved, notify }) {
  const [values, setValues] = useState(() => ({
    webhookUrl: platform.webhookUrl ?? '',
    webhookBatchSize: String(platform.webhookBatchSize),
    roles: platform.roles.join(', '),
  }));
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  useEffect(() => focusFirstInvalid(form.current), [errors]);
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
        notify(alertNotice(t('appNotSaved'), html`<${UserErrorList} errors=${other} />`));
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
  return html`
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
  return html`
    <dl class="details">
      <div><dt>${t('webhookUrl')}</dt><dd>${platform.webhookUrl ?? html`<span class="muted">${t('noWebhookUrl')}</span>`}</dd></div>
      <div><dt>${t('webhookBatchSize')}</dt><dd>${platform.webhookBatchSize}</dd></div>
    </dl>
  `;
}

function Secret({ platform, canChange, onRotated, notify }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const rotate = async () => {
    setBusy(true);
    try {
      const { rotateWebhookSecret: payload } = await gql(ROTATE, { platformId: platform.id });
      setConfirming(false);
      if (payload.userErrors.length) {
        notify(alertNotice(t('secretNotRotated'), html`<${UserErrorList} errors=${payload.userErrors} />`));
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
  return html`
    <section aria-labelledby="secret-section-heading">
      <h2 id="secret-section-heading">${t('secretHeading')}</h2>
      <p>${t('secretExplained')}</p>
      ${until && Date.parse(until) > Date.now() && html`<p>${t('oldSecretUntil', formatDateTime(until))}</p>`}
      ${canChange &&
      html`
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
export const platformKind = (kind) => t(KIND_KEYS[kind] ?? kind);

export function PlatformScreen({ id, session, onPlatformsChanged }) {
  const [platform, setPlatform] = useState(undefined);
  const [loadError, setLoadError] = useState(null);
  const [notice, setNotice] = useState(takeFlash);
  const [secret, setSecret] = useState(() => takeSecret(id));
  const canChange = session.scope === 'admin';
  useTitle(platform?.name ?? t('appHeading'));

  useEffect(() => {
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
  const head = (text) => html`<div class="screen-head"><h1 tabindex="-1">${text}</h1></div>`;
  const back = html`<p><${Link} href=${APPS_PATH}>${t('backToApps')}<//></p>`;
  if (loadError) return html`${head(t('appHeading'))}${back}<${Notices} notice=${alertNotice(loadError)} />`;
  if (platform === undefined) return html`${head(t('appHeading'))}<p aria-busy="true">${t('loading')}</p>`;
  if (platform === null) return html`${head(t('noSuchApp'))}${back}`;
  return html`
    ${head(platform.name)}
    ${back}
    <${Notices} notice=${notice} />
    <dl class="details">
      <div><dt>${t('appKey')}</dt><dd><code>${platform.key}</code></dd></div>
      <div><dt>${t('appKind')}</dt><dd>${platformKind(platform.kind)}</dd></div>
      <div><dt>${t('colRoles')}</dt><dd>${platform.roles.join(', ')}</dd></div>
      ${platform.aliases.length > 0 && html`<div><dt>${t('appAliases')}</dt><dd>${platform.aliases.join(', ')}</dd></div>`}
    </dl>
    <section aria-labelledby="webhook-heading">
      <h2 id="webhook-heading">${t('webhookHeading')}</h2>
      ${platform.webhookDisabledAt &&
      html`<p class="notice notice-alert">
        ${t('webhookStopped', formatDateTime(platform.webhookDisabledAt), platform.webhookDisabledReason ?? '')}
      </p>`}
      ${canChange
        ? html`<${Settings} key=${platform.id} platform=${platform} onSaved=${changed} notify=${setNotice} />`
        : html`<${ReadOnlySettings} platform=${platform} />`}
    </section>
    ${secret && html`<${SecretOnce} key=${secret} secret=${secret} previousUntil=${platform.webhookPreviousSecretUntil} />`}
    ${platform.webhookUrl &&
    html`<${Secret} platform=${platform} canChange=${canChange} onRotated=${changed} notify=${setNotice} />`}
    <${Deliveries} platform=${platform} canChange=${canChange} />
  `;
}
