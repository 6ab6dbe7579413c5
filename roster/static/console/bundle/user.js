// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { G, Q, J, C as focusFirstInvalid, c as t, f as fe, D as statusNotice, y as gql, F as errorsByField, d as alertNotice, z as errorText, H as UserErrorList, v as useTitle, K as isAbort, N as Notices, r as Link, P as Propagation, O as SelectionActions, R as StatusBadge, T as RolesList, V as Button, W as formatDateTime, X as takeFlash } from './console.js';
import { A as AuditEvents } from './audit.js';
import { U as UserFields, p as parseAttributes, k as knownFields, r as renameRoleErrors, f as formValues, P as PROFILE, a as rolesInput, b as PasswordField } from './user-form.js';

// The user page's edit form: sends only what changed (updateUser leaves out fields unchanged),
// and each userError beside its field.

const REQUIRED = new Set(['username', 'email', 'firstName', 'lastName']);
// `fields`: what the user page shows of a user, given by it (it imports this module).
const UPDATE = (fields) => `mutation UpdateUser($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { user { ${fields} } userErrors { field message code } }
}`;

function sameRoles(a, b) {
  const clean = (roles) => JSON.stringify(Object.entries(roles).filter(([, r]) => r).sort());
  return clean(a) === clean(b);
}

function sameAttributes(a, b) {
  const sorted = (o) => JSON.stringify(Object.entries(o).sort());
  return sorted(a) === sorted(b);
}

/** The UpdateUserInput of what changed; an optional field emptied is cleared (null). */
function updateInput(user, values, attributes) {
  const before = formValues(user);
  const input = {};
  for (const [name] of PROFILE) {
    const value = values[name].trim();
    if (value === (before[name] ?? '').trim()) continue;
    input[name] = value || (REQUIRED.has(name) ? '' : null);
  }
  if (!sameAttributes(attributes, user.attributes ?? {})) input.attributes = attributes;
  let order = [];
  if (!sameRoles(values.roles, before.roles)) {
    const roles = rolesInput(values.roles);
    input.roles = roles.roles;
    order = roles.order;
  }
  return { input, order };
}

function EditUser({ user, platforms, notify, onSaved, onCancel, fields }) {
  const [values, setValues] = G(() => formValues(user));
  const [errors, setErrors] = G({});
  const [busy, setBusy] = G(false);
  const form = Q(null);
  J(() => form.current.querySelector('input')?.focus(), []);
  J(() => focusFirstInvalid(form.current), [errors]);

  const showErrors = (byField, other) => {
    setErrors(byField);
    const count = Object.keys(byField).length + other.length;
    notify(alertNotice(t('fixErrors', count), fe`<${UserErrorList} errors=${other} />`));
  };

  const submit = async (event) => {
    event.preventDefault();
    const attributes = parseAttributes(values.attributes);
    if (attributes === null) {
      showErrors({ attributes: t('attributesInvalid') }, []);
      return;
    }
    const { input, order } = updateInput(user, values, attributes);
    if (!Object.keys(input).length) {
      notify(statusNotice(t('nothingToSave')));
      onSaved(null);
      return;
    }
    setBusy(true);
    try {
      const { updateUser: payload } = await gql(UPDATE(fields), { id: user.id, input });
      if (payload.userErrors.length) {
        const { byField, other } = errorsByField(
          payload.userErrors,
          knownFields(platforms),
          renameRoleErrors(order),
        );
        showErrors(byField, other);
        return;
      }
      notify(statusNotice(t('userSaved')));
      onSaved(payload.user);
    } catch (e) {
      notify(alertNotice(errorText(e)));
    } finally {
      setBusy(false);
    }
  };

  return fe`
    <form ref=${form} class="user-form" onSubmit=${submit} novalidate>
      <${UserFields} values=${values} onChange=${setValues} errors=${errors} platforms=${platforms} />
      <div class="form-buttons">
        <button type="submit" class="primary" disabled=${busy}>${t('save')}</button>
        <button type="button" onClick=${onCancel} disabled=${busy}>${t('cancel')}</button>
      </div>
    </form>
  `;
}

// A user's page: every field, Edit and Save, Enable or Disable, a new password, the welcome
// e-mail, Delete once disabled (then the deletion's way to each app), and the audit events.

const USER_FIELDS = `
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
  return value ? formatDateTime(value) : fe`<span class="muted">${otherwise}</span>`;
}

function text(value) {
  return value || fe`<span class="muted">—</span>`;
}

function Details({ user }) {
  const attributes = Object.entries(user.attributes ?? {});
  const rows = [
    ['fieldUsername', user.username],
    ['fieldEmail', user.email],
    ['fieldFirstName', user.firstName],
    ['fieldLastName', user.lastName],
    ['colStatus', fe`<${StatusBadge} status=${user.status} />`],
    ['fieldLanguage', text(user.language)],
    ['fieldTimeZone', text(user.timeZone)],
    ['fieldOfficePhone', text(user.officePhone)],
    ['fieldMobilePhone', text(user.mobilePhone)],
    ['fieldLocation', text(user.location)],
    ['fieldExternalId', text(user.externalId)],
    [
      'fieldAttributes',
      attributes.length
        ? fe`<ul class="plain-list">${attributes.map(([k, v]) => fe`<li key=${k}>${k}: ${v}</li>`)}</ul>`
        : text(''),
    ],
    ['colRoles', fe`<${RolesList} roles=${user.roles} />`],
    ['passwordSetAt', user.hasPassword ? when(user.passwordChangedAt, t('yes')) : when(null, t('noPassword'))],
    ['welcomeSentAt', when(user.welcomeEmailSentAt, t('notSent'))],
    ['createdAt', when(user.createdAt, '')],
    ['colUpdated', when(user.updatedAt, '')],
    ['disabledAt', when(user.disabledAt, '—')],
  ];
  return fe`
    <dl class="details">
      ${rows.map(([key, value]) => fe`<div key=${key}><dt>${t(key)}</dt><dd>${value}</dd></div>`)}
    </dl>
  `;
}

function SetPassword({ user, onSet, notify }) {
  const [password, setPassword] = G('');
  const [error, setError] = G(null);
  const [busy, setBusy] = G(false);
  const form = Q(null);
  J(() => focusFirstInvalid(form.current), [error]);
  const submit = async (event) => {
    event.preventDefault();
    if (busy || !password) return;
    setBusy(true);
    try {
      const { setPassword: payload } = await gql(SET_PASSWORD, { id: user.id, password });
      if (payload.userErrors.length) {
        const { byField, other } = errorsByField(payload.userErrors, new Set(['password']));
        setError(byField.password ?? null);
        notify(alertNotice(t('passwordNotSet'), fe`<${UserErrorList} errors=${other} />`));
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
  return fe`
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

function UserScreen({ id, session, platforms }) {
  const [user, setUser] = G(undefined);
  const [loadError, setLoadError] = G(null);
  const [deleted, setDeleted] = G(false);
  const [editing, setEditing] = G(false);
  const [notice, setNotice] = G(takeFlash);
  const [reloads, setReloads] = G(0);
  // The history is asked again after every change, the deletion included (the user is not).
  const [changes, setChanges] = G(0);
  const canChange = session.scope === 'admin';
  const editButton = Q(null);
  const wasEditing = Q(false);
  useTitle(user ? user.username : t('userHeading'));
  // Leaving the form (Save or Cancel) puts focus back on Edit, where it was before.
  J(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  J(() => {
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
  const head = (content) => fe`<div class="screen-head"><h1 tabindex="-1">${content}</h1></div>`;
  if (loadError) return fe`${head(t('userHeading'))}<${Notices} notice=${alertNotice(loadError)} />`;
  if (user === undefined) return fe`${head(t('userHeading'))}<p aria-busy="true">${t('loading')}</p>`;
  const back = fe`<p><${Link} href="/console/users">${t('backToUsers')}<//></p>`;
  if (user === null && !deleted) return fe`${head(t('noSuchUser'))}<p>${t('noSuchUserText')}</p>${back}`;
  const heading = head(fe`${user.firstName} ${user.lastName} <span class="muted">(${user.username})</span>`);
  if (deleted) {
    return fe`
      ${heading}${back}
      <${Notices} notice=${notice} />
      <p>${t('userDeleted', user.username)}</p>
      <${Propagation} ids=${[user.id]} platforms=${platforms} />
      <${AuditEvents} userId=${user.id} version=${changes} platforms=${platforms} />
    `;
  }
  return fe`
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
        fe`<button type="button" ref=${editButton} onClick=${() => setEditing(true)}>${t('edit')}</button>`}
      </div>
      ${editing
        ? fe`<${EditUser}
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
        : fe`<${Details} user=${user} />`}
    </section>
    ${canChange && fe`<${SetPassword} user=${user} onSet=${changed} notify=${setNotice} />`}
    <${AuditEvents} userId=${user.id} version=${changes} platforms=${platforms} />
  `;
}

export { USER_FIELDS, UserScreen };
