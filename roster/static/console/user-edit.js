// The user page's edit form: sends only what changed (updateUser leaves out fields unchanged),
// and each userError beside its field.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { t } from './i18n.js';
import { alertNotice, errorsByField, errorText, focusFirstInvalid, statusNotice, UserErrorList } from './ui.js';
import {
  formValues,
  knownFields,
  parseAttributes,
  PROFILE,
  renameRoleErrors,
  rolesInput,
  UserFields,
} from './user-form.js';

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

export function EditUser({ user, platforms, notify, onSaved, onCancel, fields }) {
  const [values, setValues] = useState(() => formValues(user));
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  useEffect(() => form.current.querySelector('input')?.focus(), []);
  useEffect(() => focusFirstInvalid(form.current), [errors]);

  const showErrors = (byField, other) => {
    setErrors(byField);
    const count = Object.keys(byField).length + other.length;
    notify(alertNotice(t('fixErrors', count), html`<${UserErrorList} errors=${other} />`));
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

  return html`
    <form ref=${form} class="user-form" onSubmit=${submit} novalidate>
      <${UserFields} values=${values} onChange=${setValues} errors=${errors} platforms=${platforms} />
      <div class="form-buttons">
        <button type="submit" class="primary" disabled=${busy}>${t('save')}</button>
        <button type="button" onClick=${onCancel} disabled=${busy}>${t('cancel')}</button>
      </div>
    </form>
  `;
}
