// The actions on a selection of users (the seed's "More" menu, as plain buttons): Enable,
// Disable, Send welcome e-mail, Export, Delete. The list and the user page both use them.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { followJob, gql } from './api.js';
import { ConfirmDialog, DeleteConfirmation } from './dialogs.js';
import { t } from './i18n.js';
import { download, sameOrigin } from './links.js';
import { alertNotice, Button, errorText, isAbort, statusNotice, UserErrorList } from './ui.js';

const SET_STATUS = {
  enable: `mutation Enable($ids: [ID!]!) {
    enableUsers(ids: $ids) { users { id status } userErrors { field message code } }
  }`,
  disable: `mutation Disable($ids: [ID!]!) {
    disableUsers(ids: $ids) { users { id status } userErrors { field message code } }
  }`,
};
const DELETE = `mutation Delete($ids: [ID!]!) {
  deleteUsers(ids: $ids) { deletedIds userErrors { field message code } }
}`;
const WELCOME = `mutation Welcome($ids: [ID!]!) {
  sendWelcomeEmail(ids: $ids) { job { id } userErrors { field message code } }
}`;
const EXPORT = `mutation Export($ids: [ID!]!) {
  startExport(ids: $ids) { job { id } userErrors { field message code } }
}`;

function userErrorsNotice(summary, errors) {
  return alertNotice(summary, html`<${UserErrorList} errors=${errors} />`);
}

/**
 * The action buttons for `users` ({id, username, status}, all known). `onChanged(change)` after
 * an action changed users: {kind: 'status', users} or {kind: 'deleted', ids}. `notify(notice)`
 * shows the result. A read session (`canChange` false) gets Export only.
 */
export function SelectionActions({ users, canChange, platforms, notify, onChanged, exportable = true }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  // The jobs being followed, stopped when the page goes.
  const following = useRef(new Set());
  useEffect(() => () => following.current.forEach((c) => c.abort()), []);

  const count = users.length;
  const ids = users.map((u) => u.id);
  const none = count === 0;
  const allActive = !none && users.every((u) => u.status === 'ACTIVE');
  const allDisabled = !none && users.every((u) => u.status === 'DISABLED');

  const run = async (action) => {
    setBusy(true);
    try {
      await action();
    } catch (error) {
      if (!isAbort(error)) notify(alertNotice(errorText(error)));
    } finally {
      setBusy(false);
    }
  };

  const setStatus = (which) =>
    run(async () => {
      const data = await gql(SET_STATUS[which], { ids });
      const payload = which === 'enable' ? data.enableUsers : data.disableUsers;
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('nothingChanged'), payload.userErrors));
        return;
      }
      notify(statusNotice(which === 'enable' ? t('usersEnabled', count) : t('usersDisabled', count)));
      onChanged({ kind: 'status', users: payload.users });
    });

  // A job is followed after the buttons are free again: an export may take a while, and a
  // queue without a worker would hold them for ever.
  const track = (jobId, done) => {
    const controller = new AbortController();
    following.current.add(controller);
    followJob(jobId, () => {}, { signal: controller.signal })
      .then(done)
      .catch((error) => {
        if (!isAbort(error)) notify(alertNotice(errorText(error)));
      })
      .finally(() => following.current.delete(controller));
  };

  const sendWelcome = () =>
    run(async () => {
      const { sendWelcomeEmail: payload } = await gql(WELCOME, { ids });
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('welcomeNotSent'), payload.userErrors));
        return;
      }
      notify(statusNotice(t('welcomeQueued', count)));
      track(payload.job.id, (job) => {
        if (job.status === 'SUCCEEDED' && !job.failed) notify(statusNotice(t('welcomeSent', job.sent)));
        else if (job.status === 'SUCCEEDED') notify(alertNotice(t('welcomePartly', job.sent, job.failed)));
        else notify(alertNotice(t('jobFailed', job.error)));
      });
    });

  const startExport = () =>
    run(async () => {
      const { startExport: payload } = await gql(EXPORT, { ids });
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('exportNotStarted'), payload.userErrors));
        return;
      }
      notify(statusNotice(t('exportStarted', count)));
      track(payload.job.id, (job) => {
        if (job.status !== 'SUCCEEDED' || !job.downloadUrl) {
          notify(alertNotice(t('jobFailed', job.error)));
          return;
        }
        const url = sameOrigin(job.downloadUrl);
        const link = html`<p><a href=${url} download="">${t('downloadExport')}</a></p>`;
        notify(statusNotice(t('exportReady', job.rowCount), link));
        download(url);
      });
    });

  const confirmDelete = () =>
    run(async () => {
      const { deleteUsers: payload } = await gql(DELETE, { ids });
      setConfirming(false);
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('nothingDeleted'), payload.userErrors));
        return;
      }
      notify(statusNotice(t('usersDeleted', payload.deletedIds.length)));
      onChanged({ kind: 'deleted', ids: payload.deletedIds });
    });

  const apps = platforms.map((p) => p.name);
  return html`
    <div class="actions" role="group" aria-label=${t('actionsOnSelection')}>
      ${canChange &&
      html`
        <${Button} onClick=${() => setStatus('enable')} disabled=${none || allActive || busy}>
          ${t('enable')}
        <//>
        <${Button} onClick=${() => setStatus('disable')} disabled=${none || allDisabled || busy}>
          ${t('disable')}
        <//>
        <${Button} onClick=${sendWelcome} disabled=${!allActive || busy}>${t('sendWelcome')}<//>
      `}
      ${exportable &&
      html`<${Button} onClick=${startExport} disabled=${none || busy}>${t('export')}<//>`}
      ${canChange &&
      html`
        <${Button}
          class="danger"
          onClick=${() => setConfirming(true)}
          disabled=${!allDisabled || busy}
          aria-describedby="delete-hint"
        >
          ${t('delete')}
        <//>
        <span id="delete-hint" class="hint">${t('deleteHint')}</span>
      `}
    </div>
    ${canChange &&
    html`
      <${ConfirmDialog}
        open=${confirming}
        title=${t('deleteTitle', count)}
        confirmLabel=${t('deleteNUsers', count)}
        onConfirm=${confirmDelete}
        onCancel=${() => setConfirming(false)}
        busy=${busy}
      >
        <${DeleteConfirmation} count=${count} apps=${apps} />
      <//>
    `}
  `;
}
