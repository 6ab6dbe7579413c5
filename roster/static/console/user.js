// A user's page: every field, Edit and Save, Enable or Disable, a new password, the welcome
// e-mail, Delete once disabled (then the deletion's way to each app), and the audit events.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { SelectionActions } from './actions.js';
import { AuditEvents } from './audit.js';
import { gql } from './api.js';
import { formatDateTime, t } from './i18n.js';
import { Propagation } from './propagation.js';
import { Link } from './router.js';
import {
  alertNotice,
  Button,
  errorsByField,
  errorText,
  focusFirstInvalid,
  isAbort,
  Notices,
  statusNotice,
  takeFlash,
  UserErrorList,
  useTitle,
} from './ui.js';
import { EditUser } from './user-edit.js';
import { PasswordField } from './user-form.js';
import { RolesList, StatusBadge } from './user-table.js';

export const USER_FIELDS = `
  id username email firstName lastName language timeZone officePhone mobilePhone location
  externalId status attributes hasPassword passwordChangedAt welcomeEmailSentAt createdAt
  updatedAt disabledAt roles { role grantedAt platform { id key name } }
`;
const USER = `query User($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`;
const SET_PASSWORD = `mutation SetPassword($id: ID!, $password: String!) {
  setPassword(id: $id, password: $password) {
    user { ${USER_FIELDS} } userErrors { field message code }
  }
}`;

function when(value, otherwise) {
  return value ? formatDateTime(value) : html`<span class="muted">${otherwise}</span>`;
}

function text(value) {
  return value || html`<span class="muted">—</span>`;
}

function Details({ user }) {
  const attributes = Object.entries(user.attributes ?? {});
  const rows = [
    ['fieldUsername', user.username],
    ['fieldEmail', user.email],
    ['fieldFirstName', user.firstName],
    ['fieldLastName', user.lastName],
    ['colStatus', html`<${StatusBadge} status=${user.status} />`],
    ['fieldLanguage', text(user.language)],
    ['fieldTimeZone', text(user.timeZone)],
    ['fieldOfficePhone', text(user.officePhone)],
    ['fieldMobilePhone', text(user.mobilePhone)],
    ['fieldLocation', text(user.location)],
    ['fieldExternalId', text(user.externalId)],
    [
      'fieldAttributes',
      attributes.length
        ? html`<ul class="plain-list">${attributes.map(([k, v]) => html`<li key=${k}>${k}: ${v}</li>`)}</ul>`
        : text(''),
    ],
    ['colRoles', html`<${RolesList} roles=${user.roles} />`],
    ['passwordSetAt', user.hasPassword ? when(user.passwordChangedAt, t('yes')) : when(null, t('noPassword'))],
    ['welcomeSentAt', when(user.welcomeEmailSentAt, t('notSent'))],
    ['createdAt', when(user.createdAt, '')],
    ['colUpdated', when(user.updatedAt, '')],
    ['disabledAt', when(user.disabledAt, '—')],
  ];
  return html`
    <dl class="details">
      ${rows.map(([key, value]) => html`<div key=${key}><dt>${t(key)}</dt><dd>${value}</dd></div>`)}
    </dl>
  `;
}

function SetPassword({ user, onSet, notify }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  useEffect(() => focusFirstInvalid(form.current), [error]);
  const submit = async (event) => {
    event.preventDefault();
    if (busy || !password) return;
    setBusy(true);
    try {
      const { setPassword: payload } = await gql(SET_PASSWORD, { id: user.id, password });
      if (payload.userErrors.length) {
        const { byField, other } = errorsByField(payload.userErrors, new Set(['password']));
        setError(byField.password ?? null);
        notify(alertNotice(t('passwordNotSet'), html`<${UserErrorList} errors=${other} />`));
        return;
      }
      setPassword('');
      setError(null);
      notify(statusNotice(t('passwordSet')));
      onSet(payload.user);
    } catch (e) {
      notify(alertNotice(errorText(e)));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section>
      <h2>${t('changePassword')}</h2>
      <form ref=${form} class="inline-form" onSubmit=${submit} novalidate>
        <${PasswordField}
          value=${password}
          onInput=${setPassword}
          error=${error}
          username=${user.username}
          email=${user.email}
        />
        <${Button} type="submit" disabled=${busy || !password}>${t('setPassword')}<//>
      </form>
    </section>
  `;
}

export function UserScreen({ id, session, platforms }) {
  const [user, setUser] = useState(undefined);
  const [loadError, setLoadError] = useState(null);
  const [deleted, setDeleted] = useState(false);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState(takeFlash);
  const [reloads, setReloads] = useState(0);
  // The history is asked again after every change, the deletion included (the user is not).
  const [changes, setChanges] = useState(0);
  const canChange = session.scope === 'admin';
  const editButton = useRef(null);
  const wasEditing = useRef(false);
  useTitle(user ? user.username : t('userHeading'));
  // Leaving the form (Save or Cancel) puts focus back on Edit, where it was before.
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  useEffect(() => {
    const controller = new AbortController();
    gql(USER, { id }, { signal: controller.signal })
      .then((data) => {
        setUser(data.user);
        setLoadError(null);
      })
      .catch((e) => isAbort(e) || setLoadError(errorText(e)));
    return () => controller.abort();
  }, [id, reloads]);

  const changed = (next) => {
    if (next) setUser(next);
    setReloads((n) => n + 1);
    setChanges((n) => n + 1);
  };
  const onChanged = (change) => {
    if (change.kind === 'deleted') {
      setDeleted(true);
      setChanges((n) => n + 1);
      return;
    }
    // The new status at once, as the list shows it: Delete is offered with the notice that says
    // the user is disabled, not a round trip later. The rest comes with the user read again.
    const now = change.users.find((u) => u.id === user.id);
    if (now) setUser((old) => ({ ...old, ...now }));
    changed(null);
  };

  // Every state starts with the same heading element, so that focus put on it by the router
  // stays there when the user arrives.
  const head = (content) => html`<div class="screen-head"><h1 tabindex="-1">${content}</h1></div>`;
  if (loadError) return html`${head(t('userHeading'))}<${Notices} notice=${alertNotice(loadError)} />`;
  if (user === undefined) return html`${head(t('userHeading'))}<p aria-busy="true">${t('loading')}</p>`;
  const back = html`<p><${Link} href="/console/users">${t('backToUsers')}<//></p>`;
  if (user === null && !deleted) return html`${head(t('noSuchUser'))}<p>${t('noSuchUserText')}</p>${back}`;
  const heading = head(html`${user.firstName} ${user.lastName} <span class="muted">(${user.username})</span>`);
  if (deleted) {
    return html`
      ${heading}${back}
      <${Notices} notice=${notice} />
      <p>${t('userDeleted', user.username)}</p>
      <${Propagation} ids=${[user.id]} platforms=${platforms} />
      <${AuditEvents} userId=${user.id} version=${changes} platforms=${platforms} />
    `;
  }
  return html`
    ${heading}${back}
    <${Notices} notice=${notice} />
    <${SelectionActions}
      users=${[user]}
      canChange=${canChange}
      platforms=${platforms}
      notify=${setNotice}
      onChanged=${onChanged}
      exportable=${false}
    />
    <section aria-labelledby="profile-heading">
      <div class="section-head">
        <h2 id="profile-heading">${t('profileHeading')}</h2>
        ${canChange &&
        !editing &&
        html`<button type="button" ref=${editButton} onClick=${() => setEditing(true)}>${t('edit')}</button>`}
      </div>
      ${editing
        ? html`<${EditUser}
            user=${user}
            fields=${USER_FIELDS}
            platforms=${platforms}
            notify=${setNotice}
            onSaved=${(next) => {
              setEditing(false);
              changed(next);
            }}
            onCancel=${() => setEditing(false)}
          />`
        : html`<${Details} user=${user} />`}
    </section>
    ${canChange && html`<${SetPassword} user=${user} onSet=${changed} notify=${setNotice} />`}
    <${AuditEvents} userId=${user.id} version=${changes} platforms=${platforms} />
  `;
}
