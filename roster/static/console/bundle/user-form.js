// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { Z as useId, _ as Field, c as t, f as fe, $ as SelectField, G, Q, a0 as useDebounced, y as gql } from './console.js';

// The fields of a user, shared by "New user" and the details page's edit form: the profile, the
// custom fields, a role on each platform, and the password with the API's verdict.

const PROFILE = [
  ['username', 'fieldUsername', { required: true, autocomplete: 'off' }],
  ['email', 'fieldEmail', { required: true, type: 'email', autocomplete: 'off' }],
  ['firstName', 'fieldFirstName', { required: true, autocomplete: 'off' }],
  ['lastName', 'fieldLastName', { required: true, autocomplete: 'off' }],
  ['language', 'fieldLanguage', { placeholder: 'es', maxlength: 35 }],
  ['timeZone', 'fieldTimeZone', { placeholder: 'Europe/Madrid', list: 'time-zones' }],
  ['officePhone', 'fieldOfficePhone', { type: 'tel' }],
  ['mobilePhone', 'fieldMobilePhone', { type: 'tel' }],
  ['location', 'fieldLocation', {}],
  ['externalId', 'fieldExternalId', {}],
];

/** The form's values for a user (or an empty form): text fields, attributes as lines, roles. */
function formValues(user = null) {
  const values = {};
  for (const [name] of PROFILE) values[name] = user?.[name] ?? '';
  values.attributes = Object.entries(user?.attributes ?? {})
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  values.roles = {};
  // One role a platform, as the seed's form has; a second one a platform keeps its place
  // until the roles are changed here.
  for (const r of user?.roles ?? []) values.roles[r.platform.key] ??= r.role;
  return values;
}

/** Custom fields from "name = value" lines; null when a line is not so. */
function parseAttributes(text) {
  const result = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at <= 0) return null;
    result[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return result;
}

/** The role inputs and, for each, the platform key (a userError names a role by its index). */
function rolesInput(roles) {
  const chosen = Object.entries(roles).filter(([, role]) => role);
  return {
    roles: chosen.map(([platform, role]) => ({ platform, role })),
    order: chosen.map(([platform]) => platform),
  };
}

/** Every key a userError may name in this form. */
function knownFields(platforms) {
  return new Set([
    ...PROFILE.map(([name]) => name),
    'attributes',
    'password',
    'roles',
    ...platforms.map((p) => `roles.${p.key}`),
  ]);
}

/** Maps "roles.<index>.<part>" to "roles.<platform key>". */
function renameRoleErrors(order) {
  return (key) => {
    const match = /^roles\.(\d+)/.exec(key);
    return match && order[Number(match[1])] ? `roles.${order[Number(match[1])]}` : key;
  };
}

let zones = null;

function TimeZones() {
  zones ??= Intl.supportedValuesOf?.('timeZone') ?? [];
  return fe`<datalist id="time-zones">${zones.map((z) => fe`<option value=${z} />`)}</datalist>`;
}

/** The profile, custom fields and roles; `errors` by field key. */
function UserFields({ values, onChange, errors, platforms }) {
  const set = (name) => (value) => onChange({ ...values, [name]: value });
  const setRole = (key) => (role) => onChange({ ...values, roles: { ...values.roles, [key]: role } });
  const attributesId = useId('attributes');
  return fe`
    <div class="form-grid">
      ${PROFILE.map(
        ([name, label, props]) => fe`
          <${Field}
            key=${name}
            label=${t(label)}
            value=${values[name]}
            onInput=${set(name)}
            error=${errors[name]}
            ...${props}
          />
        `,
      )}
    </div>
    <${TimeZones} />
    <div class=${errors.attributes ? 'field field-invalid' : 'field'}>
      <label for=${attributesId}>${t('fieldAttributes')}</label>
      <textarea
        id=${attributesId}
        rows="3"
        value=${values.attributes}
        onInput=${(event) => set('attributes')(event.currentTarget.value)}
        aria-invalid=${errors.attributes ? 'true' : undefined}
        aria-describedby=${`${attributesId}-hint${errors.attributes ? ` ${attributesId}-error` : ''}`}
      ></textarea>
      <p class="hint" id=${`${attributesId}-hint`}>${t('attributesHint')}</p>
      ${errors.attributes && fe`<p class="field-error" id=${`${attributesId}-error`}>${errors.attributes}</p>`}
    </div>
    <fieldset class="roles-fields">
      <legend>${t('rolesLegend')}</legend>
      ${errors.roles && fe`<p class="field-error">${errors.roles}</p>`}
      <div class="form-grid">
        ${platforms.map(
          (p) => fe`
            <${SelectField}
              key=${p.key}
              label=${p.name}
              value=${values.roles[p.key] ?? ''}
              onChange=${setRole(p.key)}
              error=${errors[`roles.${p.key}`]}
              options=${[['', t('noRole')], ...p.roles.map((r) => [r, r])]}
            />
          `,
        )}
      </div>
    </fieldset>
  `;
}

const VERDICT = `query Verdict($password: String!, $username: String, $email: String) {
  passwordVerdict(password: $password, username: $username, email: $email) { acceptable message }
}`;

/**
 * "Password" with the API's verdict as one types (debounced). Until the API has the query,
 * or when it fails, no verdict is shown: createUser and setPassword still check.
 */
function PasswordField({ value, onInput, error, hint, username, email, autocomplete = 'new-password' }) {
  const [verdict, setVerdict] = G(null);
  const asked = Q(0);
  const id = useId('password');
  useDebounced(value, 300, async (password) => {
    // Only the verdict on the latest password is shown, whichever answer comes last.
    const mine = ++asked.current;
    if (!password) return setVerdict(null);
    let answer = null;
    try {
      const variables = { password, username: username || null, email: email || null };
      answer = (await gql(VERDICT, variables)).passwordVerdict;
    } catch {
      answer = null;
    }
    if (mine === asked.current) setVerdict(answer);
  });
  const described = [error && `${id}-error`, `${id}-verdict`, hint && `${id}-hint`].filter(Boolean).join(' ');
  const current = value ? verdict : null;
  return fe`
    <div class=${error ? 'field field-invalid' : 'field'}>
      <label for=${id}>${t('fieldPassword')}</label>
      <input
        id=${id}
        type="password"
        value=${value}
        autocomplete=${autocomplete}
        onInput=${(event) => onInput(event.currentTarget.value)}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${described}
      />
      <p id=${`${id}-verdict`} class=${current?.acceptable ? 'verdict ok' : 'verdict'} aria-live="polite">
        ${current && (current.acceptable ? t('passwordAcceptable') : current.message)}
      </p>
      ${error && fe`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
      ${hint && fe`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    </div>
  `;
}

export { PROFILE as P, UserFields as U, rolesInput as a, PasswordField as b, formValues as f, knownFields as k, parseAttributes as p, renameRoleErrors as r };
