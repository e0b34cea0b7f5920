// What every screen shares: the app's info (device, reference lists, code
// lists) and small page-wide helpers.

import { t } from './i18n.js';

export const app = {
  /** From the `app_info` command: device, database, the account (`actor`), regions, countries, codes. */
  info: null,
};

/**
 * Whether the account signed in may do `action` (an action code of
 * docs/access.md, e.g. 'settle'): screens hide what it may not. The core
 * refuses it anyway.
 */
export function may(action) {
  const actor = app.info && app.info.actor;
  return Boolean(actor && actor.may.includes(action));
}

export function navigate(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

let toastTimer = null;
/** A short message in the corner, read out by screen readers. */
export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 3500);
}

/** Options for a select of a code list: [{value, key}]. */
export function codeOptions(list) {
  return (app.info.codes[list] || []).map((c) => ({ value: c, key: `code.${list}.${c}` }));
}

export function regionOptions() {
  return app.info.regions.map((r) => ({ value: r.code, key: `region.${r.code}` }));
}

export function provinceOptions(regionCode) {
  const r = app.info.regions.find((x) => x.code === regionCode);
  return r ? r.provinces.map((p) => ({ value: p.name, key: `province.${p.name}` })) : [];
}

export function countryOptions() {
  return app.info.countries.map((c) => ({ value: c.code, key: `country.${c.code}` }));
}

/** An element from HTML text, for small fragments. */
export function el(html) {
  const tpl = document.createElement('template');
  tpl.innerHTML = html.trim();
  return tpl.content.firstElementChild;
}

/** Escapes text for use inside HTML. */
export function esc(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** A stored phone as people read it: +212612345678 → 06 12 34 56 78 (others as stored). */
export function phoneText(e164) {
  const m = /^\+212(\d{9})$/.exec(e164 || '');
  if (!m) return e164 || '';
  return `0${m[1]}`.replace(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/, '$1 $2 $3 $4 $5');
}

/** A phone isolated left-to-right, so Arabic text around it never reorders it. */
export function phoneHtml(e164) {
  return e164 ? `<bdi dir="ltr">${esc(phoneText(e164))}</bdi>` : '';
}

/** A person's name as shown; a person whose data was erased (consent withdrawn) shows as such. */
export function fullName(b) {
  if (b.erased) return t('person.erased');
  return `${b.first_name} ${b.last_name}`;
}

export const tr = t;
