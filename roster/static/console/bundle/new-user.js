// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { G, Q, v as useTitle, c as t, J, C as focusFirstInvalid, f as fe, r as Link, N as Notices, y as gql, F as errorsByField, Y as setFlash, D as statusNotice, n as navigate, d as alertNotice, z as errorText, H as UserErrorList } from './console.js';
import { U as UserFields, b as PasswordField, p as parseAttributes, k as knownFields, r as renameRoleErrors, P as PROFILE, a as rolesInput, f as formValues } from './user-form.js';

// New user: the profile, a role on each platform, an optional password with the API's verdict,
// and the welcome e-mail. Each userError shows beside its field.

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

function NewUserScreen({ platforms, session }) {
  const [values, setValues] = G(() => formValues());
  const [password, setPassword] = G('');
  const [welcome, setWelcome] = G(false);
  const [errors, setErrors] = G({});
  const [notice, setNotice] = G(null);
  const [busy, setBusy] = G(false);
  const form = Q(null);
  useTitle(t('newUserHeading'));
  J(() => focusFirstInvalid(form.current), [errors]);

  if (session.scope !== 'admin') {
    return fe`<h1 tabindex="-1">${t('newUserHeading')}</h1><p>${t('readOnlySession')}</p>`;
  }

  const showErrors = (byField, other) => {
    setErrors(byField);
    const count = Object.keys(byField).length + other.length;
    setNotice(alertNotice(t('fixErrors', count), fe`<${UserErrorList} errors=${other} />`));
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

  return fe`
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

export { NewUserScreen };
