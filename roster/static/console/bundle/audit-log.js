// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { a2 as Y, G, v as useTitle, c as t, J, y as gql, K as isAbort, z as errorText, N as Notices, n as navigate, d as alertNotice, W as formatDateTime, ad as actionLabel, f as fe, _ as Field, $ as SelectField, q as AUDIT_PATH, r as Link } from './console.js';
import { d as details } from './audit.js';
import { P as Pager } from './pager.js';

// The Audit log screen: the organisation's audit events, newest first, 50 a page, narrowed by
// user, kind of event and time. The filters are in the address, so a search can be bookmarked.

const PAGE = 50;
const EVENTS = `query AuditLog($first: Int!, $after: String, $userId: ID, $actions: [String!], $since: DateTime,
    $until: DateTime) {
  auditEvents(first: $first, after: $after, userId: $userId, actions: $actions, since: $since, until: $until) {
    edges { node { id action actor targetType targetId data createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const USER = `query AuditUser($username: String!) { user(username: $username) { id } }`;
const TARGETS = `query AuditTargets($ids: [ID!]!) { nodes(ids: $ids) { ... on User { id username } } }`;
const FILTERS = ['user', 'action', 'since', 'until'];
// As a datetime-local field gives it: a time in the browser's zone, to the minute.
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
const JOB_TYPES = { ImportJob: 'kindImport', ExportJob: 'kindExport', EmailJob: 'kindEmail' };

function readState(search) {
  const params = new URLSearchParams(search);
  const state = { after: params.get('after') };
  for (const name of FILTERS) state[name] = (params.get(name) ?? '').trim();
  for (const name of ['since', 'until']) if (!LOCAL_TIME.test(state[name])) state[name] = '';
  return state;
}

function auditUrl(state) {
  const params = new URLSearchParams();
  for (const name of [...FILTERS, 'after']) if (state[name]) params.set(name, state[name]);
  const query = params.toString();
  return query ? `${AUDIT_PATH}?${query}` : AUDIT_PATH;
}

const instant = (local) => (local ? new Date(local).toISOString() : null);

/** An event's payload in words: user events as the user page shows them, others as given. */
function eventDetails(event, platformNames) {
  if (event.targetType === 'User') return details(event.data, platformNames);
  const shown = (value) => {
    if (Array.isArray(value)) return value.join(', ');
    if (value && typeof value === 'object') {
      return Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    }
    if (typeof value === 'boolean') return value ? t('yes') : t('no');
    return String(value);
  };
  return Object.entries(event.data ?? {})
    .filter(([, value]) => value !== null && !(Array.isArray(value) && !value.length))
    .map(([key, value]) => `${key}: ${shown(value)}`)
    .join(' · ');
}

function Target({ event, usernames, platformNames }) {
  const id = event.targetId;
  if (event.targetType === 'User') {
    const name = usernames.get(id);
    return name
      ? fe`<${Link} href=${`/console/users/${encodeURIComponent(id)}`}>${name}<//>`
      : fe`<span class="muted">${t('deletedUser')}</span>`;
  }
  if (event.targetType === 'Platform') {
    const name = platformNames.get(id) ?? event.data?.key ?? t('targetPlatform');
    return platformNames.has(id) ? fe`<${Link} href=${`/console/apps/${encodeURIComponent(id)}`}>${name}<//>` : name;
  }
  if (event.targetType in JOB_TYPES && id) {
    return fe`<${Link} href=${`/console/jobs/${encodeURIComponent(id)}`}>${t(JOB_TYPES[event.targetType])}<//>`;
  }
  if (event.targetType === 'ApiToken') return t('targetToken');
  if (event.targetType === 'ConsoleLink') return t('targetConsoleLink');
  return event.targetType;
}

function Filters({ state, actions, onApply }) {
  const [draft, setDraft] = G(state);
  J(() => setDraft(state), [state]);
  const set = (name) => (value) => setDraft((old) => ({ ...old, [name]: value }));
  const submit = (event) => {
    event.preventDefault();
    onApply({ ...draft, user: draft.user.trim() });
  };
  const clear = () => onApply({ user: '', action: '', since: '', until: '' });
  return fe`
    <form class="advanced-form audit-filters" aria-label=${t('auditFilters')} onSubmit=${submit}>
      <${Field} label=${t('filterUser')} value=${draft.user} onInput=${set('user')} autocomplete="off" />
      <${SelectField}
        label=${t('filterEventKind')}
        value=${draft.action}
        onChange=${set('action')}
        options=${[['', t('anyEvent')], ...actions.map((a) => [a, actionLabel(a)])]}
      />
      <${Field} label=${t('filterSince')} type="datetime-local" value=${draft.since} onInput=${set('since')} />
      <${Field} label=${t('filterUntil')} type="datetime-local" value=${draft.until} onInput=${set('until')} />
      <div class="form-buttons">
        <button type="submit" class="primary">${t('applyFilters')}</button>
        <button type="button" onClick=${clear}>${t('clearFilters')}</button>
      </div>
    </form>
  `;
}

function AuditScreen({ search, platforms }) {
  const state = Y(() => readState(search), [search]);
  const [actions, setActions] = G([]);
  const [page, setPage] = G(null);
  const [usernames, setUsernames] = G(new Map());
  const [error, setError] = G(null);
  const platformNames = new Map(platforms.map((p) => [p.id, p.name]));
  useTitle(t('auditLogHeading'));

  J(() => {
    gql('query AuditActions { auditActions }')
      .then((data) => setActions(data.auditActions))
      .catch(() => {});
  }, []);

  J(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const load = async () => {
      let userId = null;
      if (state.user) {
        userId = (await gql(USER, { username: state.user }, { signal })).user?.id;
        if (!userId) {
          setPage({ rows: [], pageInfo: null });
          setError(t('noUserNamed', state.user));
          return;
        }
      }
      const variables = {
        first: PAGE,
        after: state.after,
        userId,
        actions: state.action ? [state.action] : null,
        since: instant(state.since),
        until: instant(state.until),
      };
      const { auditEvents } = await gql(EVENTS, variables, { signal });
      const rows = auditEvents.edges.map((e) => e.node);
      const userIds = [...new Set(rows.filter((e) => e.targetType === 'User' && e.targetId).map((e) => e.targetId))];
      const found = userIds.length ? (await gql(TARGETS, { ids: userIds }, { signal })).nodes : [];
      setUsernames(new Map(found.filter(Boolean).map((u) => [u.id, u.username])));
      setPage({ rows, pageInfo: auditEvents.pageInfo });
      setError(null);
    };
    load().catch((e) => isAbort(e) || setError(errorText(e)));
    return () => controller.abort();
  }, [state]);

  const rows = page?.rows ?? [];
  return fe`
    <div class="screen-head"><h1 tabindex="-1">${t('auditLogHeading')}</h1></div>
    <${Filters} state=${state} actions=${actions} onApply=${(filters) => navigate(auditUrl({ ...filters, after: null }))} />
    <${Notices} notice=${error ? alertNotice(error) : null} />
    <div class="table-wrap">
      <table class="plain audit-log" aria-busy=${page ? 'false' : 'true'}>
        <caption class="visually-hidden">${t('auditLogCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">${t('colWhen')}</th>
            <th scope="col">${t('colAction')}</th>
            <th scope="col">${t('colActor')}</th>
            <th scope="col">${t('colTarget')}</th>
            <th scope="col">${t('colDetails')}</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (event) => fe`
              <tr key=${event.id}>
                <td class="date">${formatDateTime(event.createdAt)}</td>
                <td>${actionLabel(event.action)}</td>
                <td>${event.actor}</td>
                <td><${Target} event=${event} usernames=${usernames} platformNames=${platformNames} /></td>
                <td class="details-cell">${eventDetails(event, platformNames)}</td>
              </tr>
            `,
          )}
          ${page && rows.length === 0 && fe`<tr><td colspan="5" class="empty">${t('auditNone')}</td></tr>`}
        </tbody>
      </table>
    </div>
    <${Pager}
      after=${state.after}
      pageInfo=${page?.pageInfo}
      label=${t('pages')}
      onPage=${(after) => navigate(auditUrl({ ...state, after }))}
    />
  `;
}

export { AuditScreen };
