// The Apps screen: the organisation's platforms and external apps with their roles and webhook,
// and a form to add an external app.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { t } from './i18n.js';
import {
  appPath,
  parseRoles,
  PLATFORM_FIELDS,
  platformKind,
  settingOf,
  SETTINGS,
  showSecretOnce,
} from './platform.js';
import { Link, navigate } from './router.js';
import {
  alertNotice,
  Button,
  errorsByField,
  errorText,
  Field,
  focusFirstInvalid,
  isAbort,
  Notices,
  setFlash,
  statusNotice,
  UserErrorList,
  useTitle,
} from './ui.js';

const PLATFORMS = `query Apps { platforms { ${PLATFORM_FIELDS} } }`;
const CREATE = `mutation CreateApp($input: CreatePlatformInput!) {
  createPlatform(input: $input) { platform { id name } webhookSecret userErrors { field message code } }
}`;
const FIELDS = new Set(['name', 'key', ...SETTINGS]);

function AddApp({ onCreated }) {
  const [values, setValues] = useState({ name: '', key: '', roles: '', webhookUrl: '', webhookBatchSize: '1' });
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  useEffect(() => focusFirstInvalid(form.current), [errors]);
  const set = (name) => (value) => setValues((old) => ({ ...old, [name]: value }));
  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    const input = {
      name: values.name.trim(),
      key: values.key.trim(),
      roles: parseRoles(values.roles),
      webhookUrl: values.webhookUrl.trim() || null,
      webhookBatchSize: Number(values.webhookBatchSize) || 1,
    };
    setBusy(true);
    try {
      const { createPlatform: payload } = await gql(CREATE, { input });
      if (payload.userErrors.length) {
        const { byField, other } = errorsByField(payload.userErrors, FIELDS, settingOf);
        setErrors(byField);
        setNotice(alertNotice(t('appNotCreated'), html`<${UserErrorList} errors=${other} />`));
        return;
      }
      onCreated(payload.platform, payload.webhookSecret);
    } catch (e) {
      setNotice(alertNotice(errorText(e)));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section id="add-app" class="advanced" aria-labelledby="add-app-heading">
      <h2 id="add-app-heading">${t('addAppHeading')}</h2>
      <form ref=${form} class="form-grid" onSubmit=${submit} novalidate>
        <${Field} label=${t('appNameField')} value=${values.name} onInput=${set('name')} error=${errors.name} required />
        <${Field}
          label=${t('appKey')}
          value=${values.key}
          onInput=${set('key')}
          error=${errors.key}
          hint=${t('appKeyHint')}
          required
        />
        <${Field} label=${t('appRoles')} value=${values.roles} onInput=${set('roles')} error=${errors.roles} hint=${t('appRolesHint')} />
        <${Field}
          label=${t('webhookUrl')}
          type="url"
          value=${values.webhookUrl}
          onInput=${set('webhookUrl')}
          error=${errors.webhookUrl}
          hint=${t('webhookUrlHint')}
        />
        <${Field}
          label=${t('webhookBatchSize')}
          type="number"
          min="1"
          max="100"
          value=${values.webhookBatchSize}
          onInput=${set('webhookBatchSize')}
          error=${errors.webhookBatchSize}
        />
        <div class="form-buttons">
          <${Button} type="submit" class="primary" disabled=${busy}>${t('createApp')}<//>
        </div>
      </form>
      <${Notices} notice=${notice} />
    </section>
  `;
}

function Webhook({ platform }) {
  if (!platform.webhookUrl) return html`<span class="muted">${t('noWebhookUrl')}</span>`;
  return html`
    <span class="url">${platform.webhookUrl}</span>
    ${platform.webhookDisabledAt && html` <span class="badge badge-failed">${t('webhookStoppedBadge')}</span>`}
  `;
}

export function AppsScreen({ session, onPlatformsChanged }) {
  const [platforms, setPlatforms] = useState(null);
  const [error, setError] = useState(null);
  const [adding, setAdding] = useState(false);
  const canChange = session.scope === 'admin';
  useTitle(t('appsHeading'));

  useEffect(() => {
    const controller = new AbortController();
    gql(PLATFORMS, {}, { signal: controller.signal })
      .then((data) => setPlatforms(data.platforms))
      .catch((e) => isAbort(e) || setError(errorText(e)));
    return () => controller.abort();
  }, []);

  const created = (platform, secret) => {
    onPlatformsChanged();
    showSecretOnce(platform.id, secret);
    setFlash(statusNotice(secret ? t('appCreatedWithSecret', platform.name) : t('appCreated', platform.name)));
    navigate(appPath(platform.id));
  };
  return html`
    <div class="screen-head">
      <h1 tabindex="-1">${t('appsHeading')}</h1>
      ${canChange &&
      html`<button type="button" aria-expanded=${adding ? 'true' : 'false'} aria-controls="add-app" onClick=${() => setAdding(!adding)}>
        ${t('addApp')}
      </button>`}
    </div>
    <p class="lead">${t('appsIntro')}</p>
    ${adding && html`<${AddApp} onCreated=${created} />`}
    <${Notices} notice=${error ? alertNotice(error) : null} />
    <div class="table-wrap">
      <table class="plain apps" aria-busy=${platforms ? 'false' : 'true'}>
        <caption class="visually-hidden">${t('appsCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">${t('colApp')}</th>
            <th scope="col">${t('appKey')}</th>
            <th scope="col">${t('appKind')}</th>
            <th scope="col">${t('colRoles')}</th>
            <th scope="col">${t('webhookHeading')}</th>
          </tr>
        </thead>
        <tbody>
          ${(platforms ?? []).map(
            (p) => html`
              <tr key=${p.id}>
                <td><${Link} href=${appPath(p.id)}>${p.name}<//></td>
                <td><code>${p.key}</code></td>
                <td>${platformKind(p.kind)}</td>
                <td>${p.roles.join(', ')}</td>
                <td><${Webhook} platform=${p} /></td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </div>
  `;
}
