// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { G, J, c as t, f as fe, W as formatDateTime, ad as actionLabel, y as gql, K as isAbort, z as errorText } from './console.js';

// A user's audit events: who did what to them, and when (newest first, a page at a time).

const PAGE = 20;
const AUDIT = `query Audit($userId: ID!, $first: Int!, $after: String) {
  auditEvents(userId: $userId, first: $first, after: $after) {
    edges { node { id action actor data createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** What an event's payload names: the fields changed, the roles granted and removed. */
function details(data, platformNames) {
  const roles = (list) => list.map((r) => `${platformNames.get(r.platform) ?? r.platform}: ${r.role}`).join(', ');
  const parts = [];
  const fields = data?.fields ?? data?.changed;
  if (fields?.length) parts.push(t('auditFields', fields.join(', ')));
  if (data?.roles?.length) parts.push(t('auditRolesAdded', roles(data.roles)));
  if (data?.added?.length) parts.push(t('auditRolesAdded', roles(data.added)));
  if (data?.removed?.length) parts.push(t('auditRolesRemoved', roles(data.removed)));
  if (data?.platforms?.length) {
    parts.push(t('auditApps', data.platforms.map((id) => platformNames.get(id) ?? id).join(', ')));
  }
  if (data?.reason) parts.push(data.reason);
  return parts.join(' · ');
}

/** The events of user `userId`; `version` changes when the page knows there are new ones. */
function AuditEvents({ userId, version, platforms }) {
  const [events, setEvents] = G([]);
  const [next, setNext] = G(null);
  const [error, setError] = G(null);
  const platformNames = new Map(platforms.map((p) => [p.id, p.name]));

  const load = (after, signal) =>
    gql(AUDIT, { userId, first: PAGE, after }, { signal })
      .then(({ auditEvents }) => {
        const page = auditEvents.edges.map((e) => e.node);
        setEvents((old) => (after ? [...old, ...page] : page));
        setNext(auditEvents.pageInfo.hasNextPage ? auditEvents.pageInfo.endCursor : null);
        setError(null);
      })
      .catch((e) => isAbort(e) || setError(errorText(e)));

  J(() => {
    const controller = new AbortController();
    load(null, controller.signal);
    return () => controller.abort();
  }, [userId, version]);

  return fe`
    <section class="audit" aria-labelledby="audit-heading">
      <h2 id="audit-heading">${t('auditHeading')}</h2>
      ${error && fe`<p role="alert">${error}</p>`}
      ${events.length === 0 && !error
        ? fe`<p class="muted">${t('auditNone')}</p>`
        : fe`
            <table class="plain">
              <thead>
                <tr>
                  <th scope="col">${t('colWhen')}</th>
                  <th scope="col">${t('colAction')}</th>
                  <th scope="col">${t('colActor')}</th>
                  <th scope="col">${t('colDetails')}</th>
                </tr>
              </thead>
              <tbody>
                ${events.map(
                  (e) => fe`
                    <tr key=${e.id}>
                      <td class="date">${formatDateTime(e.createdAt)}</td>
                      <td>${actionLabel(e.action)}</td>
                      <td>${e.actor}</td>
                      <td>${details(e.data, platformNames)}</td>
                    </tr>
                  `,
                )}
              </tbody>
            </table>
          `}
      ${next && fe`<button type="button" onClick=${() => load(next)}>${t('moreEvents')}</button>`}
    </section>
  `;
}

export { AuditEvents as A, details as d };
