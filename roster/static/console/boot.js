// The page's first module, run as soon as it and its few imports arrive, before the rest of the
// console has been fetched and compiled: it asks for the session and, on the users list, for
// the first page at once, so that both answers travel while the other modules load (with an
// empty cache the first list waited for every file before it asked: bench/console.py), and
// for the strings of a language other than English. The page preloads the session and the
// plain list's first page (roster/console.py): then this takes the answers the browser already
// asked for.
import { currentSession } from './api.js';
import { loadLanguage } from './i18n.js';
import { START_LANGUAGE } from './language.js';
import { prefetchPreloaded, prefetchUsers, USERS_PATH } from './list-state.js';

export const SIGN_IN_PATH = '/console/sign-in';

/** The path the page was opened at, without a trailing slash. */
export const startPath = location.pathname.replace(/\/+$/, '') || '/';

/** The session (null when not signed in or the server was unreachable); null on the sign-in page. */
export const sessionAnswer = startPath === SIGN_IN_PATH ? null : currentSession().catch(() => null);

// On the plain list (the bare /console shows it too) the page itself asked for the first page,
// with a preload the server wrote into it: that request left while the page was read.
const firstPage = document.getElementById('first-page');
if (firstPage) prefetchPreloaded(firstPage.href);
else if (startPath === USERS_PATH) prefetchUsers(location.search);
else if (startPath === '/console') prefetchUsers('');

// Its strings, at once (English is one of the page's own).
loadLanguage(START_LANGUAGE).catch(() => {});
