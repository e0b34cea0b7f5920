// Forms of the results framework's records, built from the core's own
// declaration of each kind (crates/core/src/programme.rs, through
// api.recordKinds(), read once): a field's type gives its entry, its
// `required` the star, its `editable` whether a correction shows it. The
// core checks everything; a label is `field.<kind>.<name>` where one kind
// needs its own wording (an IGA's name is its trade name), else
// `field.<name>`.

import * as api from './api.js';
import { applyTranslations, codeLabel, errorText, formatAmount, formatDate, formatInstant, has, t } from './i18n.js';
import { countryOptions, el, esc, fullName, regionOptions, provinceOptions } from './state.js';

let kinds = null;
let partnerList = null;

/** The declarations, asked once per window. */
export async function loadKinds() {
  if (!kinds) kinds = await api.recordKinds();
  return kinds;
}

/** The partners (built in and added), asked again after one is added. */
export async function loadPartners(again = false) {
  if (!partnerList || again) partnerList = await api.partners();
  return partnerList;
}

/** A partner's name in the current language: a built-in one by its code. */
export function partnerName(p) {
  if (!p) return '';
  return p.code && has(`code.partner.${p.code}`) ? t(`code.partner.${p.code}`) : p.name;
}

/** The name of the partner with this id, from the list loaded. */
export function partnerNameOf(id) {
  return partnerName((partnerList || []).find((p) => p.id === id)) || '';
}

/** When and why a record was withdrawn: "Retiré le 03/05/2026 10:12 — saisie en double". */
export function withdrawnHtml(r) {
  return `<span class="muted withdrawn-on">${esc(t('programme.withdrawn_on', { date: formatInstant(r.archived_at) }))}</span>${r.archive_reason ? ` — <bdi class="withdrawn-reason">${esc(r.archive_reason)}</bdi>` : ''}`;
}

/** The label key of a field of a kind. */
export function labelKey(kind, name) {
  return has(`field.${kind}.${name}`) ? `field.${kind}.${name}` : `field.${name}`;
}

/** Fields the screen sets itself (whose record it is about). */
const SET_BY_SCREEN = ['beneficiary_id', 'iga_id', 'session_id'];

/**
 * The form spec of a kind: every declared field but those the screen sets,
 * in the declared order; `correcting` keeps the editable ones only.
 * `people` builds the searchable pick of people for a `people` field.
 * `current`: the record corrected, whose partner stays offered even if it
 * was withdrawn since (else the correction would clear it).
 */
export function recordSpec(kind, { correcting = false, omit = [], region = '', current = {} } = {}) {
  const decl = kinds && kinds[kind];
  if (!decl) return [];
  const spec = [];
  for (const f of decl.fields) {
    if (SET_BY_SCREEN.includes(f.name) || omit.includes(f.name)) continue;
    if (correcting && !f.editable) continue;
    const s = { name: f.name, required: f.required, label: labelKey(kind, f.name) };
    switch (f.type) {
      case 'text':
        if (f.arg > 500) Object.assign(s, { type: 'textarea', wide: true });
        else s.attrs = { maxlength: String(f.arg), autocomplete: 'off' };
        break;
      case 'date':
      case 'any_date':
        s.type = 'date';
        break;
      case 'int':
        Object.assign(s, { type: 'number', attrs: { min: String(f.arg[0]), max: String(f.arg[1]), step: '1' } });
        break;
      case 'money':
      case 'signed_money':
        // Typed the French way or the English way (12 500,50 or 12500.50): the core reads both.
        s.attrs = { inputmode: 'decimal', autocomplete: 'off', dir: 'ltr' };
        s.money = true;
        break;
      case 'bool':
        Object.assign(s, { type: 'select', boolean: true, options: [
          { value: 'true', key: 'programme.yes' }, { value: 'false', key: 'programme.no' }] });
        break;
      case 'code':
        Object.assign(s, { type: 'select', options: f.arg[1].map((c) => ({ value: c, key: `code.${f.arg[0]}.${c}` })) });
        break;
      case 'codes':
        Object.assign(s, { type: 'checks', wide: true, options: f.arg[1].map((c) => ({ value: c, key: `code.${f.arg[0]}.${c}` })) });
        break;
      case 'country':
        Object.assign(s, { type: 'select', options: countryOptions() });
        break;
      case 'region':
        Object.assign(s, { type: 'select', options: regionOptions() });
        break;
      case 'province':
        Object.assign(s, { type: 'select', options: provinceOptions(region) });
        break;
      case 'ref':
        if (f.arg === 'partner') {
          Object.assign(s, { type: 'select', options: (partnerList || []).filter((p) => !p.archived || p.id === current[f.name])
            .map((p) => (p.code ? { value: p.id, key: `code.partner.${p.code}` } : { value: p.id, text: p.name })) });
        }
        break;
      case 'people':
        Object.assign(s, { type: 'widget', wide: true, create: (value) => peoplePick(f.name, value) });
        break;
      default:
        break;
    }
    spec.push(s);
  }
  return spec;
}

/** The provinces follow the region in place, as on the registration form. */
export function wireRegion(form) {
  const region = form.elements.region;
  const province = form.elements.province;
  if (!region || !province) return;
  region.addEventListener('change', () => {
    province.innerHTML = '';
    province.append(el('<option value="" data-i18n="form.none"></option>'), ...provinceOptions(region.value).map((o) => {
      const opt = document.createElement('option');
      opt.value = o.value;
      opt.dataset.i18n = o.key;
      return opt;
    }));
    applyTranslations(province);
  });
}

/** A correction's patch: every field of the form, a blank one cleared. */
export function patchOf(spec, input) {
  const patch = {};
  for (const f of spec) patch[f.name] = input[f.name] ?? null;
  return patch;
}

/** A stored value of a declared field as a person reads it. */
export function recordValue(kind, name, value) {
  const f = kinds && kinds[kind] && kinds[kind].fields.find((x) => x.name === name);
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return '';
  if (!f) return String(value);
  switch (f.type) {
    case 'date':
    case 'any_date':
      return formatDate(value);
    case 'money':
    case 'signed_money':
      return formatAmount(value);
    case 'bool':
      return t(value ? 'programme.yes' : 'programme.no');
    case 'code':
      return codeLabel(f.arg[0], value);
    case 'codes':
      return value.map((c) => codeLabel(f.arg[0], c)).join(', ');
    case 'country':
    case 'origin':
      return t(`country.${value}`);
    case 'region':
      return t(`region.${value}`);
    case 'province':
      return t(`province.${value}`);
    case 'ref':
      return f.arg === 'partner' ? partnerNameOf(value) : String(value);
    case 'people':
      return String(value.length);
    default:
      return String(value);
  }
}

/** A person as the pick shows her: name, CIN, commune. */
function personLine(b) {
  const extra = [b.cin, b.commune].filter(Boolean).join(' · ');
  return `<bdi class="person-name">${esc(fullName(b))}</bdi>${extra ? ` <span class="muted"><bdi>${esc(extra)}</bdi></span>` : ''}`;
}

/**
 * A searchable pick of people (an IGA's members): the people chosen, each
 * with a button to take her off, and a search box whose matches (names in
 * both scripts, CIN, phone: the list's own search) are added by a click or
 * Enter.
 */
export function peoplePick(name, value) {
  const chosen = new Map(); // id → person (or null while her name loads)
  const box = el(`<div class="people-pick">
    <ul class="pick-chosen plain-list" aria-live="polite"></ul>
    <input type="search" id="f-${esc(name)}-search" autocomplete="off" data-i18n-placeholder="programme.pick_placeholder">
    <ul class="pick-matches plain-list" role="listbox" data-i18n-aria-label="programme.pick_matches"></ul>
  </div>`);
  const chosenList = box.querySelector('.pick-chosen');
  const search = box.querySelector('input');
  const matches = box.querySelector('.pick-matches');
  const draw = () => {
    chosenList.innerHTML = [...chosen].map(([id, b]) => `<li data-id="${esc(id)}">${b ? personLine(b) : `<code>${esc(id)}</code>`}
      <button type="button" class="small" data-remove="${esc(id)}" data-i18n="programme.remove"></button></li>`).join('');
    applyTranslations(chosenList);
  };
  for (const id of Array.isArray(value) ? value : []) chosen.set(id, null);
  // The names of the people already chosen (a correction).
  Promise.all([...chosen.keys()].map((id) => api.profile(id).then((p) => chosen.set(id, p.beneficiary)).catch(() => {})))
    .then(draw);
  let found = [];
  let seq = 0;
  const find = async () => {
    const mine = ++seq;
    const q = search.value.trim();
    if (!q) {
      matches.innerHTML = '';
      found = [];
      return;
    }
    let page;
    try {
      page = await api.listBeneficiaries({ search: q, limit: 8 });
    } catch (err) {
      matches.textContent = errorText(err);
      return;
    }
    if (mine !== seq) return;
    found = page.rows.filter((b) => !chosen.has(b.id));
    matches.innerHTML = found.map((b) => `<li role="option" data-id="${esc(b.id)}" tabindex="-1">${personLine(b)}</li>`).join('');
  };
  const add = (b) => {
    chosen.set(b.id, b);
    search.value = '';
    matches.innerHTML = '';
    found = [];
    draw();
    search.focus();
  };
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(find, 150);
  });
  search.addEventListener('keydown', async (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault(); // not the form's submit
    clearTimeout(timer);
    await find();
    if (found.length) add(found[0]);
  });
  matches.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-id]');
    const b = li && found.find((x) => x.id === li.dataset.id);
    if (b) add(b);
  });
  chosenList.addEventListener('click', (e) => {
    const id = e.target.closest('button[data-remove]')?.dataset.remove;
    if (!id) return;
    chosen.delete(id);
    draw();
    search.focus();
  });
  box.readValue = () => [...chosen.keys()];
  applyTranslations(box);
  draw();
  return box;
}
