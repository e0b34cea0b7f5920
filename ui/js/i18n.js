import { locale } from './api.js';

// Translations and formats. Locale files live in ui/locales/<lang>/<ns>.json,
// one namespace per area so that each screen's strings sit together.
// Arabic turns the whole page right-to-left.

const LANGS = ['fr', 'ar', 'en'];
const NAMESPACES = ['common', 'records', 'sync', 'report', 'session', 'audit', 'programme'];
const STORAGE_KEY = 'wafira.lang';

let lang = LANGS.includes(localStorage.getItem(STORAGE_KEY)) ? localStorage.getItem(STORAGE_KEY) : 'fr';
let dict = {};
const extras = { fr: {}, ar: {}, en: {} };

/** Adds entries that come from data (region and country names) to a language. */
export function addTranslations(language, entries) {
  Object.assign(extras[language] || (extras[language] = {}), entries);
  if (language === lang) Object.assign(dict, entries);
}

export function currentLang() {
  return lang;
}

export async function setLanguage(next) {
  if (!LANGS.includes(next)) next = 'fr';
  const parts = await Promise.all(
    NAMESPACES.map((ns) => locale(next, ns).catch(() => ({}))),
  );
  dict = Object.assign({}, ...parts, extras[next]);
  lang = next;
  localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === 'ar' ? 'rtl' : 'ltr';
  applyTranslations(document);
  document.dispatchEvent(new CustomEvent('languagechange'));
}

/** The text of `key` with `{name}` placeholders filled; the key itself if missing. */
export function t(key, params = {}) {
  const text = dict[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (params[k] !== undefined ? String(params[k]) : `{${k}}`));
}

/**
 * The CLDR plural category of `count` in the current language: `one`,
 * `other` in French and English; `zero`, `one`, `two`, `few`, `many`,
 * `other` in Arabic (Intl.PluralRules; the same rules by hand where it is
 * missing, as report/words.rs prints them on paper).
 */
export function pluralCategory(count, language = lang) {
  const n = Number(count);
  if (!Number.isFinite(n)) return 'other';
  if (typeof Intl !== 'undefined' && Intl.PluralRules) {
    try {
      return new Intl.PluralRules(language).select(n);
    } catch (_) {
      // fall through to the rules below
    }
  }
  const abs = Math.abs(n);
  const int = Number.isInteger(abs);
  if (language === 'ar') {
    if (abs === 0) return 'zero';
    if (abs === 1) return 'one';
    if (abs === 2) return 'two';
    if (int && abs % 100 >= 3 && abs % 100 <= 10) return 'few';
    if (int && abs % 100 >= 11) return 'many';
    return 'other';
  }
  if (language === 'fr') {
    if (Math.trunc(abs) <= 1) return 'one';
    return int && abs % 1000000 === 0 ? 'many' : 'other';
  }
  return abs === 1 && int ? 'one' : 'other';
}

/** The key of `key`'s form for `count` (`key.few`), or `key.other` when the language has no such form. */
export function pluralKey(key, count) {
  const form = `${key}.${pluralCategory(count)}`;
  return dict[form] !== undefined ? form : `${key}.other`;
}

/**
 * The text of `key` agreeing with `count`: `tn('sync.updated', 3)` reads
 * `sync.updated.other` in French, `sync.updated.few` in Arabic. `{n}` is the
 * count unless `params.n` gives it already written (`1 830`).
 */
export function tn(key, count, params = {}) {
  return t(pluralKey(key, count), { n: count, ...params });
}

/** Whether a key has a translation (for optional labels). */
export function has(key) {
  return dict[key] !== undefined;
}

/** Fills every element marked data-i18n (text), data-i18n-placeholder, data-i18n-title. */
export function applyTranslations(root) {
  root.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = t(el.dataset.i18n)));
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => (el.placeholder = t(el.dataset.i18nPlaceholder)));
  root.querySelectorAll('[data-i18n-title]').forEach((el) => (el.title = t(el.dataset.i18nTitle)));
  root.querySelectorAll('[data-i18n-aria-label]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel)));
}

/** `2026-03-14` → `14/03/2026`. */
export function formatDate(iso) {
  if (!iso) return '';
  const [y, m, d] = String(iso).slice(0, 10).split('-');
  return d && m && y ? `${d}/${m}/${y}` : String(iso);
}

/** A person's birth date: `14/03/1990`, or `vers 1985` when only the year is known. */
export function formatBirth(b) {
  if (!b || !b.birth_date) return '';
  return b.birth_date_approx ? t('birth.approx', { year: String(b.birth_date).slice(0, 4) }) : formatDate(b.birth_date);
}

/** An instant in local time, `14/03/2026 09:05`. */
export function formatInstant(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getDate())}/${p(d.getMonth() + 1)}/${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The currency after an amount: dirhams, `درهم` in Arabic. */
export function currency() {
  return lang === 'ar' ? 'درهم' : 'MAD';
}

/** `12500.5` → `12 500,50 MAD` (fr), `12 500,50 درهم` (ar) or `12,500.50 MAD` (en), from the exact decimal text. */
export function formatAmount(text) {
  if (text === null || text === undefined || text === '') return '';
  const [int, frac = ''] = String(text).split('.');
  const neg = int.startsWith('-');
  const digits = neg ? int.slice(1) : int;
  const sep = lang === 'en' ? ',' : '\u202f';
  const dec = lang === 'en' ? '.' : ',';
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  return `${neg ? '-' : ''}${grouped}${dec}${(frac + '00').slice(0, 2)} ${currency()}`;
}

/** A code of a closed list, e.g. codeLabel('phase', 'returned'). */
export function codeLabel(list, code) {
  if (code === null || code === undefined || code === '') return '';
  const key = `code.${list}.${code}`;
  return has(key) ? t(key) : code;
}

/** One field error from the core, in the current language. */
export function fieldErrorText(fe) {
  const params = { ...(fe.params || {}) };
  for (const k of ['kind', 'other_kind']) {
    if (params[k]) params[k] = codeLabel('milestone', params[k]);
  }
  for (const k of ['other', 'other_date']) {
    if (params[k]) params[k] = formatDate(params[k]);
  }
  if (params.other_field) params.other_field = t(`field.${params.other_field}`);
  const key = `error.${fe.code}`;
  return has(key) ? t(key, params) : `${fe.code}`;
}

/** Any error from a command, as one sentence. */
export function errorText(err) {
  if (err && Array.isArray(err.fields) && err.fields.length) {
    return err.fields.map((fe) => `${t(`field.${fe.field}`)} : ${fieldErrorText(fe)}`).join(' · ');
  }
  // A refused bundle names its computer (and key fingerprint) in `details`;
  // a refused action the role it needs and the account's (`needs`, `role`).
  if (err && err.code && has(`error.${err.code}`)) {
    const details = { ...(err.details || {}) };
    for (const k of ['needs', 'role']) {
      if (details[k] && has(`role.${details[k]}`)) details[k] = t(`role.${details[k]}`);
    }
    return t(`error.${err.code}`, { message: err.message || '', ...details });
  }
  return (err && err.message) || String(err);
}
