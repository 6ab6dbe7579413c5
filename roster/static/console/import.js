// The Import screen: a CSV file and the import's options, then a dry run (its plan, to apply) or
// the import itself, followed live. The job being shown is in the address (?job=), so that a
// reload, or the address sent to a colleague, shows the same run.
import { html, useEffect, useMemo, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gqlUpload } from './api.js';
import { t } from './i18n.js';
import { FileField } from './import-file.js';
import { JobView } from './job-view.js';
import { Link, navigate } from './router.js';
import { IMPORT_PATH } from './screens.js';
import {
  alertNotice,
  Button,
  errorsByField,
  errorText,
  focusFirstInvalid,
  Notices,
  SelectField,
  statusNotice,
  UserErrorList,
  useTitle,
} from './ui.js';

const START = `mutation StartImport($file: Upload!, $options: ImportOptions) {
  startImport(file: $file, options: $options) { job { id } userErrors { field message code } }
}`;
const DEFAULTS = {
  mode: 'UPSERT',
  matchBy: 'EMAIL',
  rolesMode: 'MERGE',
  sendWelcomeEmail: false,
  extraColumns: 'REJECT',
  delimiter: '',
  encoding: '',
};
const KNOWN_FIELDS = new Set(['file', 'options.delimiter', 'options.encoding']);

const importUrl = (jobId) => `${IMPORT_PATH}?job=${encodeURIComponent(jobId)}`;

function choices(prefix, values) {
  return values.map((value) => [value, t(`${prefix}:${value}`)]);
}

function Options({ options, set, errors }) {
  return html`
    <fieldset class="options">
      <legend>${t('importOptions')}</legend>
      <div class="form-grid">
        <${SelectField}
          label=${t('optionMode')}
          value=${options.mode}
          onChange=${set('mode')}
          options=${choices('mode', ['UPSERT', 'CREATE', 'UPDATE'])}
        />
        <${SelectField}
          label=${t('optionMatchBy')}
          value=${options.matchBy}
          onChange=${set('matchBy')}
          options=${choices('matchBy', ['EMAIL', 'USERNAME', 'EXTERNAL_ID'])}
        />
        <${SelectField}
          label=${t('optionRolesMode')}
          value=${options.rolesMode}
          onChange=${set('rolesMode')}
          options=${choices('rolesMode', ['MERGE', 'REPLACE'])}
        />
        <${SelectField}
          label=${t('optionExtraColumns')}
          value=${options.extraColumns}
          onChange=${set('extraColumns')}
          options=${choices('extraColumns', ['REJECT', 'ATTRIBUTES'])}
        />
        <${SelectField}
          label=${t('optionDelimiter')}
          value=${options.delimiter}
          onChange=${set('delimiter')}
          error=${errors['options.delimiter']}
          options=${[
            ['', t('detect')],
            [',', t('delimiterComma')],
            [';', t('delimiterSemicolon')],
            ['\t', t('delimiterTab')],
          ]}
        />
        <${SelectField}
          label=${t('optionEncoding')}
          value=${options.encoding}
          onChange=${set('encoding')}
          error=${errors['options.encoding']}
          options=${[['', t('detect')], ...['utf-8', 'utf-8-sig', 'cp1252', 'latin-1'].map((e) => [e, e])]}
        />
        <div class="field field-check">
          <input
            type="checkbox"
            id="import-welcome"
            checked=${options.sendWelcomeEmail}
            onChange=${(event) => set('sendWelcomeEmail')(event.currentTarget.checked)}
          />
          <label for="import-welcome">${t('optionWelcome')}</label>
        </div>
      </div>
      <p class="hint">${t('deleteByOperation')}</p>
    </fieldset>
  `;
}

/** The ImportOptions for the form; what is left to detection is left out. */
function apiOptions(options, dryRun) {
  const { delimiter, encoding, ...rest } = options;
  return { ...rest, dryRun, ...(delimiter ? { delimiter } : {}), ...(encoding ? { encoding } : {}) };
}

function ImportForm({ onStarted }) {
  const [file, setFile] = useState(null);
  const [options, setOptions] = useState(DEFAULTS);
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  const fileInput = useRef(null);
  useEffect(() => focusFirstInvalid(form.current), [errors]);
  const set = (name) => (value) => setOptions((old) => ({ ...old, [name]: value }));

  const start = async (dryRun) => {
    if (!file) {
      setErrors({ file: t('chooseFile') });
      return;
    }
    setBusy(true);
    setNotice(statusNotice(t('sendingFile')));
    try {
      const { startImport: payload } = await gqlUpload(START, { options: apiOptions(options, dryRun) }, { file });
      if (payload.userErrors.length) {
        const { byField, other } = errorsByField(payload.userErrors, KNOWN_FIELDS);
        setErrors(byField);
        setNotice(alertNotice(t('importNotStarted'), html`<${UserErrorList} errors=${other} />`));
        return;
      }
      onStarted(payload.job.id);
    } catch (error) {
      setNotice(alertNotice(errorText(error)));
    } finally {
      setBusy(false);
    }
  };
  // Enter in a field runs the dry run, the harmless choice.
  const submit = (event) => {
    event.preventDefault();
    if (!busy) start(event.submitter?.value !== 'import');
  };
  const chosen = (next) => {
    setFile(next);
    setErrors((old) => ({ ...old, file: undefined }));
  };
  return html`
    <form ref=${form} class="import-form" onSubmit=${submit} novalidate>
      <${FileField} file=${file} onFile=${chosen} error=${errors.file} inputRef=${fileInput} />
      <${Options} options=${options} set=${set} errors=${errors} />
      <${Notices} notice=${notice} />
      <div class="form-buttons">
        <${Button} type="submit" class="primary" value="dry-run" disabled=${busy} aria-describedby="dry-run-hint">
          ${t('dryRun')}
        <//>
        <${Button} type="submit" value="import" disabled=${busy}>${t('importButton')}<//>
      </div>
      <p class="hint" id="dry-run-hint">${t('dryRunHint')}</p>
    </form>
  `;
}

export function ImportScreen({ search, session }) {
  const jobId = useMemo(() => new URLSearchParams(search).get('job'), [search]);
  // Focus goes to the job's heading when this page started it (not when it is reloaded).
  const [startedHere, setStartedHere] = useState(null);
  useTitle(t('importHeading'));
  const head = html`<div class="screen-head"><h1 tabindex="-1">${t('importHeading')}</h1></div>`;
  if (session.scope !== 'admin') return html`${head}<p>${t('readOnlyImport')}</p>`;
  const show = (id) => {
    setStartedHere(id);
    navigate(importUrl(id));
  };
  if (!jobId) {
    return html`${head}<p class="lead">${t('importIntro')}</p><${ImportForm} onStarted=${show} />`;
  }
  return html`
    ${head}
    <p><${Link} href=${IMPORT_PATH}>${t('importAnother')}<//></p>
    <${JobView} key=${jobId} id=${jobId} session=${session} focus=${startedHere === jobId} onApplied=${show} />
  `;
}
