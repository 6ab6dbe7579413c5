// The console's shell: the session, the routes, the header (tenant, language, Sign out), the
// landmarks and the skip link, and focus on each new screen's heading.
import { html, render, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { gql, onSessionEnded, signOut } from './api.js';
import { SIGN_IN_PATH, sessionAnswer, startPath } from './boot.js';
import { getLanguage, LANGUAGES, loadLanguage, onLanguageChange, setLanguage, t } from './i18n.js';
import { USERS_PATH } from './list-state.js';
import { Link, navigate, useLocation } from './router.js';
import {
  APPS_PATH,
  AUDIT_PATH,
  EXPORT_PATH,
  IMPORT_PATH,
  JOBS_PATH,
  Lazy,
  lazyRoute,
  preloadScreens,
} from './screens.js';
import { SIGNED_OUT_PATH, SignedOutScreen, SignInScreen, takeSignInSecret } from './session.js';
import { alertNotice, errorText, Notices, useTitle } from './ui.js';
import { UsersScreen } from './users.js';

const PLATFORMS = `query Platforms { platforms { id key name kind roles webhookUrl } }`;
function LanguageSelect({ language }) {
  return html`
    <div class="language">
      <label for="language-select">${t('language')}</label>
      <select id="language-select" onChange=${(event) => setLanguage(event.currentTarget.value)}>
        ${LANGUAGES.map(
          ([code, name]) => html`<option value=${code} lang=${code} selected=${code === language}>${name}</option>`,
        )}
      </select>
    </div>
  `;
}

function MainNav({ session }) {
  const links = [
    [USERS_PATH, 'navUsers', [USERS_PATH, EXPORT_PATH]],
    // A read session cannot import: it is not offered the screen.
    session.scope === 'admin' && [IMPORT_PATH, 'navImports', [IMPORT_PATH]],
    [JOBS_PATH, 'navJobs', [JOBS_PATH]],
    [APPS_PATH, 'navApps', [APPS_PATH]],
    [AUDIT_PATH, 'navAudit', [AUDIT_PATH]],
  ].filter(Boolean);
  const here = (paths) => paths.some((p) => location.pathname === p || location.pathname.startsWith(`${p}/`));
  return html`
    <nav aria-label=${t('mainNav')}>
      <ul class="nav-links">
        ${links.map(
          ([href, key, paths]) => html`
            <li key=${href}>
              <${Link} href=${href} aria-current=${here(paths) ? 'page' : undefined}>${t(key)}<//>
            </li>
          `,
        )}
      </ul>
    </nav>
  `;
}

function Header({ session, language, onSignOut }) {
  return html`
    <header class="topbar">
      <div class="brand">
        <span class="product">${t('appName')}</span>
        ${session && html`<span class="tenant">${session.tenant.name}</span>`}
        ${session?.scope === 'read' && html`<span class="badge badge-read">${t('readOnly')}</span>`}
      </div>
      ${session && html`<${MainNav} session=${session} />`}
      <div class="topbar-end">
        <${LanguageSelect} language=${language} />
        ${session && html`<button type="button" onClick=${onSignOut}>${t('signOut')}</button>`}
      </div>
    </header>
  `;
}

function NotFound() {
  useTitle(t('notFound'));
  return html`<h1 tabindex="-1">${t('notFound')}</h1><p><${Link} href=${USERS_PATH}>${t('backToUsers')}<//></p>`;
}

function Screen({ where, session, platforms, onPlatformsChanged }) {
  const { path, search } = where;
  if (path === SIGN_IN_PATH) return html`<${SignInScreen} secret=${BOOT.secret} />`;
  if (path === SIGNED_OUT_PATH || !session) return html`<${SignedOutScreen} />`;
  const list = platforms ?? [];
  if (path === USERS_PATH) return html`<${UsersScreen} search=${search} session=${session} platforms=${list} />`;
  const route = lazyRoute(path, search);
  if (route) {
    const [name, component, props] = route;
    return html`<${Lazy}
      key=${`${component}:${props.id ?? ''}`}
      name=${name}
      component=${component}
      session=${session}
      platforms=${list}
      onPlatformsChanged=${onPlatformsChanged}
      ...${props}
    />`;
  }
  return html`<${NotFound} />`;
}

function App() {
  const [session, setSession] = useState(BOOT.session);
  const [language, setLanguageState] = useState(getLanguage);
  const [platforms, setPlatforms] = useState(null);
  // Bumped when a screen changed the platforms (an app added, its roles changed).
  const [platformsVersion, setPlatformsVersion] = useState(0);
  const [problem, setProblem] = useState(null);
  const where = useLocation();
  const shownPath = useRef(where.path);

  useEffect(
    () =>
      onSessionEnded(() => {
        setSession(null);
        navigate(SIGNED_OUT_PATH, { replace: true });
      }),
    [],
  );
  useEffect(() => onLanguageChange(setLanguageState), []);
  useEffect(() => {
    if (!session) return;
    gql(PLATFORMS)
      .then((data) => setPlatforms(data.platforms))
      .catch((error) => setProblem(errorText(error)));
  }, [session, platformsVersion]);
  useEffect(() => {
    if (session) preloadScreens();
  }, [session]);
  // A new screen (not a new search on the same one) takes focus to its heading, so that a
  // screen reader starts there and Tab continues from the top of the new content.
  useEffect(() => {
    if (shownPath.current === where.path) return;
    shownPath.current = where.path;
    document.querySelector('main h1')?.focus();
    scrollTo(0, 0);
  }, [where.path]);

  const skip = (event) => {
    event.preventDefault();
    const heading = document.querySelector('main h1');
    (heading ?? document.getElementById('main')).focus();
  };
  const onSignOut = async () => {
    try {
      await signOut();
    } finally {
      setSession(null);
      navigate(SIGNED_OUT_PATH);
    }
  };

  return html`
    <a class="skip-link" href="#main" onClick=${skip}>${t('skipToContent')}</a>
    <${Header} session=${session} language=${language} onSignOut=${onSignOut} />
    <main id="main" tabindex="-1">
      ${problem && html`<${Notices} notice=${alertNotice(problem)} />`}
      <${Screen}
        where=${where}
        session=${session}
        platforms=${platforms}
        onPlatformsChanged=${() => setPlatformsVersion((n) => n + 1)}
      />
    </main>
  `;
}

// What the page knows before its first render: the sign-in secret (taken from the address bar
// at once) or the session (asked for by boot.js).
const BOOT = { secret: null, session: null };

async function start() {
  document.documentElement.lang = getLanguage();
  // Without its strings (they could not be fetched) the page shows English.
  const strings = loadLanguage(getLanguage()).catch(() => {});
  if (startPath === SIGN_IN_PATH) {
    BOOT.secret = takeSignInSecret();
    await strings;
  } else {
    [BOOT.session] = await Promise.all([sessionAnswer, strings]);
    if (BOOT.session === null && startPath !== SIGNED_OUT_PATH) history.replaceState(null, '', SIGNED_OUT_PATH);
    else if (startPath === '/console') history.replaceState(null, '', USERS_PATH);
  }
  render(html`<${App} />`, document.getElementById('app'));
}

start();
