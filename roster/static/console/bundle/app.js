// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
import { g as getLanguage, l as loadLanguage, s as startPath, S as SIGN_IN_PATH, t as takeSignInSecret, a as sessionAnswer, b as SIGNED_OUT_PATH, U as USERS_PATH, M, f as fe, G, u as useLocation, Q, J, c as t, N as Notices, d as alertNotice, e as signOut, n as navigate, h as SignInScreen, i as SignedOutScreen, j as UsersScreen, k as lazyRoute, L as Lazy, m as setLanguage, o as LANGUAGES, E as EXPORT_PATH, I as IMPORT_PATH, p as JOBS_PATH, A as APPS_PATH, q as AUDIT_PATH, r as Link, v as useTitle, w as onSessionEnded, x as onLanguageChange, y as gql, z as errorText, B as preloadScreens } from './console.js';

// The console's shell: the session, the routes, the header (tenant, language, Sign out), the
// landmarks and the skip link, and focus on each new screen's heading.

const PLATFORMS = `query Platforms { platforms { id key name kind roles webhookUrl } }`;
function LanguageSelect({ language }) {
  return fe`
    <div class="language">
      <label for="language-select">${t('language')}</label>
      <select id="language-select" onChange=${(event) => setLanguage(event.currentTarget.value)}>
        ${LANGUAGES.map(
          ([code, name]) => fe`<option value=${code} lang=${code} selected=${code === language}>${name}</option>`,
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
  return fe`
    <nav aria-label=${t('mainNav')}>
      <ul class="nav-links">
        ${links.map(
          ([href, key, paths]) => fe`
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
  return fe`
    <header class="topbar">
      <div class="brand">
        <span class="product">${t('appName')}</span>
        ${session && fe`<span class="tenant">${session.tenant.name}</span>`}
        ${session?.scope === 'read' && fe`<span class="badge badge-read">${t('readOnly')}</span>`}
      </div>
      ${session && fe`<${MainNav} session=${session} />`}
      <div class="topbar-end">
        <${LanguageSelect} language=${language} />
        ${session && fe`<button type="button" onClick=${onSignOut}>${t('signOut')}</button>`}
      </div>
    </header>
  `;
}

function NotFound() {
  useTitle(t('notFound'));
  return fe`<h1 tabindex="-1">${t('notFound')}</h1><p><${Link} href=${USERS_PATH}>${t('backToUsers')}<//></p>`;
}

function Screen({ where, session, platforms, onPlatformsChanged }) {
  const { path, search } = where;
  if (path === SIGN_IN_PATH) return fe`<${SignInScreen} secret=${BOOT.secret} />`;
  if (path === SIGNED_OUT_PATH || !session) return fe`<${SignedOutScreen} />`;
  const list = platforms ?? [];
  if (path === USERS_PATH) return fe`<${UsersScreen} search=${search} session=${session} platforms=${list} />`;
  const route = lazyRoute(path, search);
  if (route) {
    const [name, component, props] = route;
    return fe`<${Lazy}
      key=${`${component}:${props.id ?? ''}`}
      name=${name}
      component=${component}
      session=${session}
      platforms=${list}
      onPlatformsChanged=${onPlatformsChanged}
      ...${props}
    />`;
  }
  return fe`<${NotFound} />`;
}

function App() {
  const [session, setSession] = G(BOOT.session);
  const [language, setLanguageState] = G(getLanguage);
  const [platforms, setPlatforms] = G(null);
  // Bumped when a screen changed the platforms (an app added, its roles changed).
  const [platformsVersion, setPlatformsVersion] = G(0);
  const [problem, setProblem] = G(null);
  const where = useLocation();
  const shownPath = Q(where.path);

  J(
    () =>
      onSessionEnded(() => {
        setSession(null);
        navigate(SIGNED_OUT_PATH, { replace: true });
      }),
    [],
  );
  J(() => onLanguageChange(setLanguageState), []);
  J(() => {
    if (!session) return;
    gql(PLATFORMS)
      .then((data) => setPlatforms(data.platforms))
      .catch((error) => setProblem(errorText(error)));
  }, [session, platformsVersion]);
  J(() => {
    if (session) preloadScreens();
  }, [session]);
  // A new screen (not a new search on the same one) takes focus to its heading, so that a
  // screen reader starts there and Tab continues from the top of the new content.
  J(() => {
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

  return fe`
    <a class="skip-link" href="#main" onClick=${skip}>${t('skipToContent')}</a>
    <${Header} session=${session} language=${language} onSignOut=${onSignOut} />
    <main id="main" tabindex="-1">
      ${problem && fe`<${Notices} notice=${alertNotice(problem)} />`}
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
  M(fe`<${App} />`, document.getElementById('app'));
}

start();
