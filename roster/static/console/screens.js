// The screens beyond the users list (a user, New user, Import, Jobs, Export, Apps, Audit log):
// their addresses, and each one's module loaded when first opened, or in the background once
// the console has started. The users list, where most visits start, waits for none of them
// (bench/console.py: with an empty cache, the first list's time went to fetching every file).
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { preloadSubscriptions } from './api.js';
import { t } from './i18n.js';

export const IMPORT_PATH = '/console/import';
export const JOBS_PATH = '/console/jobs';
export const APPS_PATH = '/console/apps';
export const AUDIT_PATH = '/console/audit';
export const EXPORT_PATH = '/console/export';
const NEW_USER_PATH = '/console/users/new';
const USER_PATH = /^\/console\/users\/([^/]+)$/;
const JOB_PATH = /^\/console\/jobs\/([^/]+)$/;
const APP_PATH = /^\/console\/apps\/([^/]+)$/;

const SCREENS = {
  user: () => import('./user.js'),
  newUser: () => import('./new-user.js'),
  import: () => import('./import.js'),
  jobs: () => import('./jobs.js'),
  export: () => import('./export.js'),
  apps: () => import('./apps.js'),
  platform: () => import('./platform.js'),
  audit: () => import('./audit-log.js'),
};
const loadingScreens = new Map();
const loadedScreens = new Map();

function loadScreen(name) {
  if (!loadingScreens.has(name)) {
    const promise = SCREENS[name]().then((module) => {
      loadedScreens.set(name, module);
      return module;
    });
    loadingScreens.set(name, promise);
    // A failed load may be tried again on the next visit.
    promise.catch(() => loadingScreens.delete(name));
  }
  return loadingScreens.get(name);
}

/** Loads every screen's module, and the subscription client, when the page has nothing else to do. */
export function preloadScreens() {
  const later = globalThis.requestIdleCallback ?? ((run) => setTimeout(run));
  const loadAll = () => {
    Object.keys(SCREENS).forEach((name) => loadScreen(name).catch(() => {}));
    preloadSubscriptions();
  };
  setTimeout(() => later(loadAll), 1000);
}

/**
 * Screen `component` of module `name`, once loaded. Until then a heading stands in for the
 * screen's; focus on it moves to the screen's own heading.
 */
export function Lazy({ name, component, ...props }) {
  const [module, setModule] = useState(() => loadedScreens.get(name) ?? null);
  const [failed, setFailed] = useState(false);
  const placeholder = useRef(null);
  const refocus = useRef(false);
  useEffect(() => {
    if (module) return undefined;
    let current = true;
    loadScreen(name)
      .then((loaded) => {
        if (!current) return;
        refocus.current = document.activeElement === placeholder.current;
        setModule(loaded);
      })
      .catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [name]);
  useEffect(() => {
    if (module && refocus.current) {
      refocus.current = false;
      document.querySelector('main h1')?.focus();
    }
  }, [module]);
  if (failed) return html`<h1 tabindex="-1">${t('loadFailed')}</h1><p role="alert">${t('networkError')}</p>`;
  if (!module) return html`<h1 tabindex="-1" ref=${placeholder}>${t('loading')}</h1>`;
  const Screen = module[component];
  return html`<${Screen} ...${props} />`;
}

/** The screen at `path` beyond the users list: [module, component, props], or null. */
export function lazyRoute(path, search) {
  if (path === NEW_USER_PATH) return ['newUser', 'NewUserScreen', {}];
  const user = USER_PATH.exec(path);
  if (user) return ['user', 'UserScreen', { id: decodeURIComponent(user[1]) }];
  if (path === IMPORT_PATH) return ['import', 'ImportScreen', { search }];
  if (path === JOBS_PATH) return ['jobs', 'JobsScreen', { search }];
  if (path === EXPORT_PATH) return ['export', 'ExportScreen', { search }];
  if (path === APPS_PATH) return ['apps', 'AppsScreen', {}];
  if (path === AUDIT_PATH) return ['audit', 'AuditScreen', { search }];
  const job = JOB_PATH.exec(path);
  if (job) return ['jobs', 'JobScreen', { id: decodeURIComponent(job[1]) }];
  const app = APP_PATH.exec(path);
  if (app) return ['platform', 'PlatformScreen', { id: decodeURIComponent(app[1]) }];
  return null;
}

