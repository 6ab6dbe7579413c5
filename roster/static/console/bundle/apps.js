// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { G, v as useTitle, c as t, J, y as gql, K as isAbort, z as errorText, N as Notices, f as fe, d as alertNotice, r as Link, Q, C as focusFirstInvalid, _ as Field, V as Button, Y as setFlash, D as statusNotice, n as navigate, F as errorsByField, H as UserErrorList } from './console.js';
import { PLATFORM_FIELDS, appPath, platformKind, showSecretOnce, parseRoles, settingOf, SETTINGS } from './platform.js';
import './pager.js';

// The Apps screen: the organisation's platforms and external apps with their roles and webhook,
// and a form to add an external app.

const PLATFORMS = `query Apps { platforms { ${PLATFORM_FIELDS} } }`;
const CREATE = `mutation CreateApp($input: CreatePlatformInput!) {
  createPlatform(input: $input) { platform { id name } webhookSecret userErrors { field message code } }
}`;
const FIELDS = new Set(['name', 'key', ...SETTINGS]);

function AddApp({ onCreated }) {
  const [values, setValues] = G({ name: '', key: '', roles: '', webhookUrl: '', webhookBatchSize: '1' });
  const [errors, setErrors] = G({});
  const [notice, setNotice] = G(null);
  const [busy, setBusy] = G(false);
  const form = Q(null);
  J(() => focusFirstInvalid(form.current), [errors]);
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
        setNotice(alertNotice(t('appNotCreated'), fe`<${UserErrorList} errors=${other} />`));
        return;
      }
      onCreated(payload.platform, payload.webhookSecret);
    } catch (e) {
      setNotice(alertNotice(errorText(e)));
    } finally {
      setBusy(false);
    }
  };
  return fe`
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
  if (!platform.webhookUrl) return fe`<span class="muted">${t('noWebhookUrl')}</span>`;
  return fe`
    <span class="url">${platform.webhookUrl}</span>
    ${platform.webhookDisabledAt && fe` <span class="badge badge-failed">${t('webhookStoppedBadge')}</span>`}
  `;
}

function AppsScreen({ session, onPlatformsChanged }) {
  const [platforms, setPlatforms] = G(null);
  const [error, setError] = G(null);
  const [adding, setAdding] = G(false);
  const canChange = session.scope === 'admin';
  useTitle(t('appsHeading'));

  J(() => {
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
  return fe`
    <div class="screen-head">
      <h1 tabindex="-1">${t('appsHeading')}</h1>
      ${canChange &&
      fe`<button type="button" aria-expanded=${adding ? 'true' : 'false'} aria-controls="add-app" onClick=${() => setAdding(!adding)}>
        ${t('addApp')}
      </button>`}
    </div>
    <p class="lead">${t('appsIntro')}</p>
    ${adding && fe`<${AddApp} onCreated=${created} />`}
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
            (p) => fe`
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

export { AppsScreen };
