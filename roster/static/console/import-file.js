// The file of an import: a file field that also takes a dropped file, the file's rows counted
// in the browser, and how long importing them takes at the pace measured on this installation.
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql } from './api.js';
import { formatNumber, t } from './i18n.js';
import { formatDuration } from './job-progress.js';
import { useId } from './ui.js';

const SPEED = `query ImportSpeed { importSpeed { rowsPerSecond dryRunRowsPerSecond importsMeasured } }`;
const NEWLINE = 10;

/**
 * The rows of a CSV file, about: its lines less the header. A quoted cell may hold a line
 * break, so a file with such cells has fewer rows than this; counting bytes needs no decoding,
 * and a file of a million rows is read in a moment without being held whole.
 */
export async function countRows(file, signal) {
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
  if (rows === null || !speed) return html`<p class="hint">${t('countingRows')}</p>`;
  const count = t('aboutRows', rows);
  if (!speed.rowsPerSecond) return html`<p>${count} ${t('noImportMeasured')}</p>`;
  const importTime = formatDuration(rows / speed.rowsPerSecond);
  const dryRunTime = speed.dryRunRowsPerSecond ? formatDuration(rows / speed.dryRunRowsPerSecond) : null;
  return html`
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
export function FileField({ file, onFile, error, inputRef }) {
  const id = useId('csv-file');
  const [over, setOver] = useState(false);
  const [rows, setRows] = useState(null);
  const [speed, setSpeed] = useState(null);

  useEffect(() => {
    gql(SPEED)
      .then((data) => setSpeed(data.importSpeed))
      .catch(() => setSpeed({ rowsPerSecond: null, importsMeasured: 0 }));
  }, []);
  useEffect(() => {
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
  return html`
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
        ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
      </div>
      ${file &&
      html`<div class="file-facts" aria-live="polite">
        <p><strong>${file.name}</strong> · ${sizeText(file.size)}</p>
        <${Estimate} rows=${rows} speed=${speed} />
      </div>`}
    </div>
  `;
}
