// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { Z as useId, G, J, y as gql, c as t, f as fe, a1 as formatNumber, a2 as Y, v as useTitle, r as Link, I as IMPORT_PATH, Q, C as focusFirstInvalid, N as Notices, V as Button, n as navigate, $ as SelectField, D as statusNotice, a3 as gqlUpload, F as errorsByField, d as alertNotice, H as UserErrorList, z as errorText } from './console.js';
import { f as formatDuration, J as JobView } from './job-view.js';

// The file of an import: a file field that also takes a dropped file, the file's rows counted
// in the browser, and how long importing them takes at the pace measured on this installation.

const SPEED = `query ImportSpeed { importSpeed { rowsPerSecond dryRunRowsPerSecond importsMeasured } }`;
const NEWLINE = 10;

/**
 * The rows of a CSV file, about: its lines less the header. A quoted cell may hold a line
 * break, so a file with such cells has fewer rows than this; counting bytes needs no decoding,
 * and a file of a million rows is read in a moment without being held whole.
 */
async function countRows(file, signal) {
  const reader = file.stream().getReader();
  let lines = 0;
  let last = NEWLINE;
  for (;;) {
    if (signal?.aborted) {
      reader.cancel();
      throw new DOMException('No longer counted.', 'AbortError');
    }
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = value.indexOf(NEWLINE); i !== -1; i = value.indexOf(NEWLINE, i + 1)) lines += 1;
    if (value.length) last = value[value.length - 1];
  }
  if (last !== NEWLINE) lines += 1; // the last line, without its line break
  return Math.max(0, lines - 1);
}

function sizeText(bytes) {
  if (bytes < 1024 * 1024) return t('sizeKB', formatNumber(Math.max(1, Math.round(bytes / 1024))));
  return t('sizeMB', formatNumber(Math.round((bytes / (1024 * 1024)) * 10) / 10));
}

/** How long `rows` take, from importSpeed: a sentence, or that nothing was measured yet. */
function Estimate({ rows, speed }) {
  if (rows === null || !speed) return fe`<p class="hint">${t('countingRows')}</p>`;
  const count = t('aboutRows', rows);
  if (!speed.rowsPerSecond) return fe`<p>${count} ${t('noImportMeasured')}</p>`;
  const importTime = formatDuration(rows / speed.rowsPerSecond);
  const dryRunTime = speed.dryRunRowsPerSecond ? formatDuration(rows / speed.dryRunRowsPerSecond) : null;
  return fe`
    <p>
      ${count} ${t('importTakes', importTime)} ${dryRunTime ? `${t('dryRunTakes', dryRunTime)} ` : ''}
      <span class="muted">${t('speedMeasured', formatNumber(Math.round(speed.rowsPerSecond)), speed.importsMeasured)}</span>
    </p>
  `;
}

/**
 * The "CSV file" field and its drop zone (the field alone does everything; dropping is a
 * shortcut). `onFile(file)` when a file is chosen or dropped; `error` shows beside the field.
 */
function FileField({ file, onFile, error, inputRef }) {
  const id = useId('csv-file');
  const [over, setOver] = G(false);
  const [rows, setRows] = G(null);
  const [speed, setSpeed] = G(null);

  J(() => {
    gql(SPEED)
      .then((data) => setSpeed(data.importSpeed))
      .catch(() => setSpeed({ rowsPerSecond: null, importsMeasured: 0 }));
  }, []);
  J(() => {
    setRows(null);
    if (!file) return undefined;
    const controller = new AbortController();
    countRows(file, controller.signal)
      .then(setRows)
      .catch(() => {});
    return () => controller.abort();
  }, [file]);

  const drop = (event) => {
    event.preventDefault();
    setOver(false);
    const files = event.dataTransfer?.files;
    if (!files?.length) return;
    // The field shows the dropped file too, as if chosen there.
    if (inputRef.current) inputRef.current.files = files;
    onFile(files[0]);
  };
  const dragOver = (event) => {
    event.preventDefault();
    setOver(true);
  };
  const described = [error && `${id}-error`, `${id}-hint`].filter(Boolean).join(' ');
  return fe`
    <div
      class=${`drop-zone${over ? ' drop-over' : ''}${error ? ' field-invalid' : ''}`}
      onDragOver=${dragOver}
      onDragLeave=${() => setOver(false)}
      onDrop=${drop}
    >
      <div class="field">
        <label for=${id}>${t('csvFile')}</label>
        <input
          id=${id}
          ref=${inputRef}
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          aria-invalid=${error ? 'true' : undefined}
          aria-describedby=${described}
          onChange=${(event) => onFile(event.currentTarget.files[0] ?? null)}
        />
        <p class="hint" id=${`${id}-hint`}>${t('dropHint')}</p>
        ${error && fe`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
      </div>
      ${file &&
      fe`<div class="file-facts" aria-live="polite">
        <p><strong>${file.name}</strong> · ${sizeText(file.size)}</p>
        <${Estimate} rows=${rows} speed=${speed} />
      </div>`}
    </div>
  `;
}

// The Import screen: a CSV file and the import's options, then a dry run (its plan, to apply) or
// the import itself, followed live. The job being shown is in the address (?job=), so that a
// reload, or the address sent to a colleague, shows the same run.

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
  return fe`
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
  const [file, setFile] = G(null);
  const [options, setOptions] = G(DEFAULTS);
  const [errors, setErrors] = G({});
  const [notice, setNotice] = G(null);
  const [busy, setBusy] = G(false);
  const form = Q(null);
  const fileInput = Q(null);
  J(() => focusFirstInvalid(form.current), [errors]);
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
        setNotice(alertNotice(t('importNotStarted'), fe`<${UserErrorList} errors=${other} />`));
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
  return fe`
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

function ImportScreen({ search, session }) {
  const jobId = Y(() => new URLSearchParams(search).get('job'), [search]);
  // Focus goes to the job's heading when this page started it (not when it is reloaded).
  const [startedHere, setStartedHere] = G(null);
  useTitle(t('importHeading'));
  const head = fe`<div class="screen-head"><h1 tabindex="-1">${t('importHeading')}</h1></div>`;
  if (session.scope !== 'admin') return fe`${head}<p>${t('readOnlyImport')}</p>`;
  const show = (id) => {
    setStartedHere(id);
    navigate(importUrl(id));
  };
  if (!jobId) {
    return fe`${head}<p class="lead">${t('importIntro')}</p><${ImportForm} onStarted=${show} />`;
  }
  return fe`
    ${head}
    <p><${Link} href=${IMPORT_PATH}>${t('importAnother')}<//></p>
    <${JobView} key=${jobId} id=${jobId} session=${session} focus=${startedHere === jobId} onApplied=${show} />
  `;
}

export { ImportScreen };
