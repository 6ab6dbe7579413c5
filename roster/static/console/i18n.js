// Every string the console shows, in English and Spanish, and numbers and dates formatted for
// the language (Intl). The language comes from the switcher (kept in localStorage), else from
// the browser's preferences.
import { EN } from './i18n-en.js';
import { ES } from './i18n-es.js';

const STORAGE_KEY = 'roster-console-language';
export const LANGUAGES = [
  ['en', 'English'],
  ['es', 'Español'],
];

let current = initialLanguage();
const listeners = new Set();

function initialLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage may be refused (privacy settings): the browser's preference then.
  }
  if (LANGUAGES.some(([code]) => code === stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.some(([code]) => code === base)) return base;
  }
  return 'en';
}

export function getLanguage() {
  return current;
}

/** Switches the language, remembers it, and re-renders whoever listens. */
export function setLanguage(code) {
  if (!LANGUAGES.some(([c]) => c === code) || code === current) return;
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

// Formatters are made once a language: making one costs more than formatting.
const formatters = new Map();

function formatter(kind) {
  const key = `${current}:${kind}`;
  if (!formatters.has(key)) {
    formatters.set(
      key,
      kind === 'number'
        ? new Intl.NumberFormat(current)
        : new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }),
    );
  }
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
const list = (items) => new Intl.ListFormat(current, { type: 'conjunction' }).format(items);

const STRINGS = { en: EN({ n, list }), es: ES({ n, list }) };

/** The string `key` in the current language; a function entry is called with `args`. */
export function t(key, ...args) {
  const entry = STRINGS[current][key] ?? STRINGS.en[key];
  if (entry === undefined) return key;
  return typeof entry === 'function' ? entry(...args) : entry;
}

/** An audit event's action in words, or as the API names it when there are none for it. */
export function actionLabel(action) {
  const entry = STRINGS[current][`action:${action}`] ?? STRINGS.en[`action:${action}`];
  return entry ?? action;
}
