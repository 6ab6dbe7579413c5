// The console's languages, and the one the page starts in: the switcher's choice (kept in
// localStorage), else the browser's preferences. No imports: boot.js reads it before the rest of
// the page has loaded, so that a page in Spanish asks for its strings at once.
export const STORAGE_KEY = 'roster-console-language';
export const LANGUAGES = [
  ['en', 'English'],
  ['es', 'Español'],
];

export const isLanguage = (code) => LANGUAGES.some(([known]) => known === code);

function preferredLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage may be refused (privacy settings): the browser's preference then.
  }
  if (isLanguage(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

export const START_LANGUAGE = preferredLanguage();
