// The console's only ways to the server: /graphql over fetch, the graphql-ws client for job
// subscriptions, and /console/session for the session itself. The cookie authenticates all of
// them (same origin), so nothing here holds a secret.

/** A GraphQL or HTTP error the page may show: `code` is the API's stable code when it gave one. */
export class ApiError extends Error {
  constructor(message, code = null) {
    super(message);
    this.code = code;
  }
}

/** The session ended (signed out, revoked, expired): the app shows the signed-out page. */
export class SessionEnded extends Error {}

const sessionEndedListeners = new Set();

/** Calls `listener` when any request learns the session has ended. */
export function onSessionEnded(listener) {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

function sessionEnded() {
  closeSubscriptions();
  for (const listener of sessionEndedListeners) listener();
  return new SessionEnded('The session has ended.');
}

async function jsonOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * Runs one GraphQL operation and returns its data. Throws ApiError for a GraphQL error (the
 * first one: the console sends one operation a request), SessionEnded on a 401, and the
 * fetch's AbortError when `signal` aborts it.
 */
export async function gql(query, variables = {}, { signal } = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  return dataOf(response);
}

/**
 * Runs the GraphQL query at `address` (a GET of /graphql with the query and its variables in the
 * address: one the page preloaded); answers and throws as gql does. No header of its own: a
 * request the preload does not match exactly is sent again.
 */
export async function gqlAt(address, { signal } = {}) {
  return dataOf(await fetch(address, { credentials: 'same-origin', signal }));
}

/**
 * Runs one GraphQL operation with files, as a GraphQL multipart request: `files` maps a
 * variable's name to its File. Answers and throws as gql does.
 */
export async function gqlUpload(query, variables, files, { signal } = {}) {
  const names = Object.keys(files);
  const nulls = Object.fromEntries(names.map((name) => [name, null]));
  const map = Object.fromEntries(names.map((name, i) => [String(i), [`variables.${name}`]]));
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, ...nulls } }));
  form.append('map', JSON.stringify(map));
  names.forEach((name, i) => form.append(String(i), files[name]));
  // No content-type: the browser writes the multipart boundary into it.
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'application/graphql-response+json, application/json' },
    body: form,
    signal,
  });
  return dataOf(response);
}

async function dataOf(response) {
  if (response.status === 401) throw sessionEnded();
  const body = await jsonOf(response);
  if (body === null) throw new ApiError(`HTTP ${response.status}`, `HTTP_${response.status}`);
  if (body.error) throw new ApiError(body.error.message, body.error.code);
  if (body.errors?.length) {
    const [first] = body.errors;
    if (first.extensions?.code === 'UNAUTHENTICATED') throw sessionEnded();
    throw new ApiError(first.message, first.extensions?.code ?? null);
  }
  return body.data;
}

// --- Session ---------------------------------------------------------------------------------

/** The current session ({tenant, scope, expiresAt}), or null when not signed in. */
export async function currentSession() {
  const response = await fetch('/console/session', { credentials: 'same-origin' });
  if (response.status === 401) return null;
  if (!response.ok) throw new ApiError(`HTTP ${response.status}`, `HTTP_${response.status}`);
  return response.json();
}

/**
 * Trades a sign-in link's secret for a session cookie. Returns {session} on success, or
 * {error: code} (LINK_USED, LINK_EXPIRED, LINK_UNKNOWN, or another code).
 */
export async function signIn(secret) {
  const response = await fetch('/console/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link: secret }),
  });
  const body = await jsonOf(response);
  if (response.status === 201 || response.status === 200) return { session: body };
  return { error: body?.error?.code ?? `HTTP_${response.status}` };
}

/** Ends the session on the server (the cookie goes with it). */
export async function signOut() {
  closeSubscriptions();
  await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin' });
}

// --- Subscriptions ---------------------------------------------------------------------------

// Made on the first subscription, so that a page that follows no job opens no WebSocket; the
// client's module is loaded then too (or when the page is idle: preloadSubscriptions), not on
// the first list's path.
let wsClient = null;
// The server closes with 4401 when the session is revoked or expires.
const UNAUTHORIZED_CLOSE = 4401;

function loadClient() {
  return import('./vendor/graphql-ws-6.4.2/client.js');
}

/** Fetches the subscription client's module ahead of its first use. */
export function preloadSubscriptions() {
  loadClient().catch(() => {});
}

/** The graphql-ws client (a promise of it); a failed load is tried again by the next caller. */
function subscriptions() {
  if (wsClient === null) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const client = loadClient().then(({ createClient }) =>
      createClient({
        url: `${scheme}://${location.host}/graphql`,
        connectionParams: {},
        retryAttempts: 2,
        shouldRetry: (event) => event?.code !== UNAUTHORIZED_CLOSE,
        on: {
          closed: (event) => {
            if (event?.code === UNAUTHORIZED_CLOSE) sessionEnded();
          },
        },
      }),
    );
    client.catch(() => {
      if (wsClient === client) wsClient = null;
    });
    wsClient = client;
  }
  return wsClient;
}

function closeSubscriptions() {
  if (wsClient !== null) {
    const client = wsClient;
    wsClient = null;
    client.then((c) => c.dispose()).catch(() => {});
  }
}

const JOB_FIELDS = `
  id status total processed error
  ... on ExportJob { rowCount downloadUrl }
  ... on EmailJob { sent failed skipped }
`;
const jobSubscription = (fields) => `subscription FollowJob($id: ID!) { job(id: $id) { ${fields} } }`;
const jobQuery = (fields) => `query Job($id: ID!) { job(id: $id) { ${fields} } }`;
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const POLL_MS = 1000;

function aborted() {
  return new DOMException('The job is no longer followed.', 'AbortError');
}

/**
 * Follows a job until it ends: `onUpdate(job)` on each change; resolves with the last state.
 * Uses the `job` subscription, and polls `job(id:)` if the WebSocket cannot be used. `fields`
 * is the selection on Job each update holds (a screen that shows counts asks for them).
 */
export function followJob(id, onUpdate = () => {}, { signal, fields = JOB_FIELDS } = {}) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (job) => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(job);
    };
    const fail = (error) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    };
    let unsubscribe = () => {};
    let timer = null;
    const cleanup = () => {
      unsubscribe();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => fail(aborted());
    signal?.addEventListener('abort', onAbort);
    const seen = (job) => {
      if (job === null) return fail(new ApiError('The job is gone.', 'NOT_FOUND'));
      onUpdate(job);
      if (FINISHED.has(job.status)) finish(job);
    };
    const poll = async () => {
      try {
        seen((await gql(jobQuery(fields), { id }, { signal })).job);
      } catch (error) {
        return fail(error);
      }
      if (!settled) timer = setTimeout(poll, POLL_MS);
    };
    const follow = (client) => {
      if (settled) return;
      unsubscribe = client.subscribe(
        { query: jobSubscription(fields), variables: { id } },
        {
          next: (result) => {
            if (result.errors?.length) {
              const [first] = result.errors;
              return fail(new ApiError(first.message, first.extensions?.code ?? null));
            }
            seen(result.data.job);
          },
          error: (event) => {
            // The socket failed (a proxy without WebSockets, a restart): poll instead, unless
            // the session ended, which the `closed` handler has reported.
            if (settled) return;
            if (event?.code === UNAUTHORIZED_CLOSE) return fail(new SessionEnded('The session has ended.'));
            unsubscribe = () => {};
            poll();
          },
          // The subscription ends after the job does; ending before means the server stopped
          // following it (a restart): ask for its state instead.
          complete: () => {
            if (!settled) poll();
          },
        },
      );
    };
    // The client's module could not be loaded: polling needs none.
    subscriptions().then(follow, () => {
      if (!settled) poll();
    });
  });
}
