// New user: the profile, a role on each platform, an optional password with the API's verdict,
// and the welcome e-mail. Each userError shows beside its field.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { t } from './i18n.js';
import { Link, navigate } from './router.js';
import {
  alertNotice,
  errorsByField,
  errorText,
  focusFirstInvalid,
  Notices,
  setFlash,
  statusNotice,
  UserErrorList,
  useTitle,
} from './ui.js';
import {
  formValues,
  knownFields,
  parseAttributes,
  PasswordField,
  PROFILE,
  renameRoleErrors,
  rolesInput,
  UserFields,
} from './user-form.js';

const CREATE = `mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { user { id username } userErrors { field message code } }
}`;

/** The CreateUserInput for the form; optional fields left empty are left out. */
function createInput(values, password, welcome, attributes) {
  const input = {};
  for (const [name] of PROFILE) {
    const value = values[name].trim();
    if (value) input[name] = value;
  }
  for (const name of ['username', 'email', 'firstName', 'lastName']) input[name] ??= '';
  if (Object.keys(attributes).length) input.attributes = attributes;
  if (password) input.password = password;
  const { roles, order } = rolesInput(values.roles);
  if (roles.length) input.roles = roles;
  input.sendWelcomeEmail = welcome;
  return { input, order };
}

export function NewUserScreen({ platforms, session }) {
  const [values, setValues] = useState(() => formValues());
  const [password, setPassword] = useState('');
  const [welcome, setWelcome] = useState(false);
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  useTitle(t('newUserHeading'));
  useEffect(() => focusFirstInvalid(form.current), [errors]);

  if (session.scope !== 'admin') {
    return html`<h1 tabindex="-1">${t('newUserHeading')}</h1><p>${t('readOnlySession')}</p>`;
  }

  const showErrors = (byField, other) => {
    setErrors(byField);
    const count = Object.keys(byField).length + other.length;
    setNotice(alertNotice(t('fixErrors', count), html`<${UserErrorList} errors=${other} />`));
  };

  const submit = async (event) => {
    event.preventDefault();
    const attributes = parseAttributes(values.attributes);
    if (attributes === null) {
      showErrors({ attributes: t('attributesInvalid') }, []);
      return;
    }
    const { input, order } = createInput(values, password, welcome, attributes);
    setBusy(true);
    try {
      const { createUser: payload } = await gql(CREATE, { input });
      if (payload.userErrors.length) {
        const { byField, other } = errorsByField(
          payload.userErrors,
          knownFields(platforms),
          renameRoleErrors(order),
        );
        showErrors(byField, other);
        return;
      }
      const { user } = payload;
      setFlash(statusNotice(welcome ? t('userCreatedWelcome', user.username) : t('userCreated', user.username)));
      navigate(`/console/users/${encodeURIComponent(user.id)}`);
    } catch (error) {
      setNotice(alertNotice(errorText(error)));
    } finally {
      setBusy(false);
    }
  };

  return html`
    <div class="screen-head">
      <h1 tabindex="-1">${t('newUserHeading')}</h1>
    </div>
    <p><${Link} href="/console/users">${t('backToUsers')}<//></p>
    <${Notices} notice=${notice} />
    <form ref=${form} class="user-form" onSubmit=${submit} novalidate>
      <${UserFields} values=${values} onChange=${setValues} errors=${errors} platforms=${platforms} />
      <${PasswordField}
        value=${password}
        onInput=${setPassword}
        error=${errors.password}
        hint=${t('passwordOptional')}
        username=${values.username}
        email=${values.email}
      />
      <div class="field field-check">
        <input
          type="checkbox"
          id="new-user-welcome"
          checked=${welcome}
          onChange=${(event) => setWelcome(event.currentTarget.checked)}
        />
        <label for="new-user-welcome">${t('sendWelcomeCheckbox')}</label>
      </div>
      <div class="form-buttons">
        <button type="submit" class="primary" disabled=${busy}>${t('save')}</button>
        <${Link} href="/console/users" class="button">${t('cancel')}<//>
      </div>
    </form>
  `;
}
