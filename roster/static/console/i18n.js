// Every string the console shows, in English and Spanish, and numbers and dates formatted for
// the language (Intl). English is always here (the fallback of a missing string); Spanish is
// loaded when the page starts in it or it is chosen, so that an English page fetches none of it.
import { EN } from './i18n-en.js';
import { isLanguage, START_LANGUAGE, STORAGE_KEY } from './language.js';

export { LANGUAGES } from './language.js';

const LOADERS = { es: () => import('./i18n-es.js').then((module) => module.ES) };

let current = START_LANGUAGE;
// The last language asked for: a switch whose strings come after a later one's is dropped.
let wanted = current;
const listeners = new Set();

export function getLanguage() {
  return current;
}

/** Switches the language once its strings are here, remembers it, and re-renders whoever listens. */
export async function setLanguage(code) {
  if (!isLanguage(code)) return;
  wanted = code;
  try {
    await loadLanguage(code);
  } catch {
    return; // Its strings could not be fetched: the page stays in the language it shows.
  }
  if (code !== wanted || code === current) return;
  current = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Not remembered, but switched.
  }
  document.documentElement.lang = code;
  for (const listener of listeners) listener(code);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Formatters are made once a language: making one costs more than formatting (a list's
// formatter was made for every row's roles: 5 ms of the first list).
const formatters = new Map();

const DATE_TIME = { dateStyle: 'medium', timeStyle: 'short' };
const MAKERS = {
  number: (language) => new Intl.NumberFormat(language),
  date: (language) => new Intl.DateTimeFormat(language, DATE_TIME),
  list: (language) => new Intl.ListFormat(language, { type: 'conjunction' }),
};

function formatter(kind) {
  const key = `${current}:${kind}`;
  if (!formatters.has(key)) formatters.set(key, MAKERS[kind](current));
  return formatters.get(key);
}

export function formatNumber(n) {
  return formatter('number').format(n);
}

export function formatDateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : formatter('date').format(date);
}

const n = formatNumber;
const list = (items) => formatter('list').format(items);

const STRINGS = { en: EN({ n, list }) };

/** Loads the strings of language `code` (at once for English, and once for each other). */
export async function loadLanguage(code) {
  if (STRINGS[code] || !LOADERS[code]) return;
  const strings = await LOADERS[code]();
  STRINGS[code] ??= strings({ n, list });
}

/** The string `key` in the current language; a function entry is called with `args`. */
export function t(key, ...args) {
  const entry = STRINGS[current]?.[key] ?? STRINGS.en[key];
  if (entry === undefined) return key;
  return typeof entry === 'function' ? entry(...args) : entry;
}

/** An audit event's action in words, or as the API names it when there are none for it. */
export function actionLabel(action) {
  const entry = STRINGS[current]?.[`action:${action}`] ?? STRINGS.en[`action:${action}`];
  return entry ?? action;
}
