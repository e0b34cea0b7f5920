// The Conflicts screen: a field changed on two laptops since they last
// agreed. Both values, who and when; keep one, or enter a third. The core
// checks a third value as it checks an edit; its error shows beside it.

import * as api from '../api.js';
import { applyTranslations, errorText, fieldErrorText, formatInstant, has, t, tn } from '../i18n.js';
import { tHtml } from '../save.js';
import { el, esc, may, toast } from '../state.js';
import { valueText } from './profile.js';

let showAll = false;

export async function render(main) {
  const view = el(`<section>
    <div class="row"><h1 data-i18n="conflicts.title"></h1><span class="spacer"></span>
      <label class="checkbox-inline"><input type="checkbox" id="conflicts-all"> <span data-i18n="conflicts.show_all"></span></label></div>
    <p class="muted" data-i18n="conflicts.help"></p>
    <p id="conflicts-count" aria-live="polite"></p>
    <div id="conflict-list"></div>
  </section>`);
  main.append(view);
  applyTranslations(view);
  const all = view.querySelector('#conflicts-all');
  all.checked = showAll;
  all.addEventListener('change', () => {
    showAll = all.checked;
    load(view);
  });
  view.querySelector('#conflict-list').addEventListener('click', (e) => onClick(view, e));
  view.querySelector('#conflict-list').addEventListener('submit', (e) => onSubmit(view, e));
  await load(view);
}

/** A value as the profile shows it (a phone in the national form, a date, a code's label), as text. */
function shownText(field, v, op) {
  if (op === 'archive') return t('conflicts.archived');
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return valueText(field, v);
}

/** The same as HTML, isolated so that Arabic around it never reorders it (a phone left to right). */
function shown(field, v, op) {
  return `<bdi${field === 'phone' ? ' dir="ltr"' : ''}>${esc(shownText(field, v, op))}</bdi>`;
}

function fieldLabel(f) {
  return has(`field.${f}`) ? t(`field.${f}`) : f;
}

function cardHtml(c) {
  const sides = c.sides.map((s) => `<li class="side${s.current ? ' current' : ''}">
      <span class="value">${shown(c.field, s.value, s.op)}</span>
      <span class="muted">${esc(t('conflicts.by', { device: s.device_name, coordinator: s.coordinator, at: formatInstant(s.at) }))}</span>
      ${s.current ? `<span class="badge">${esc(t('conflicts.current'))}</span>` : ''}
      ${c.resolved || !may('settle') ? '' : `<button class="keep" data-hlc="${esc(s.hlc)}">${esc(t('conflicts.keep'))}</button>`}
    </li>`).join('');
  const settled = c.resolved
    ? `<p class="settled">${tHtml('conflicts.settled', { by: c.resolved.by, at: formatInstant(c.resolved.at), value: shownText(c.field, c.resolved.value) })}</p>`
    : !may('settle')
    ? ''
    : `<form class="third row" novalidate>
        <label for="third-${esc(c.id)}">${esc(t('conflicts.third'))}</label>
        <input id="third-${esc(c.id)}" name="value" aria-describedby="third-err-${esc(c.id)}">
        <button type="submit">${esc(t('conflicts.save_third'))}</button>
        <p class="field-error" id="third-err-${esc(c.id)}" role="alert"></p>
      </form>`;
  return `<article class="card conflict" data-id="${esc(c.id)}">
    <h2>${esc(c.label.trim() || t('person.erased'))} · ${esc(fieldLabel(c.field))}</h2>
    <p>${esc(t('conflicts.now'))} <strong class="now">${shown(c.field, c.current)}</strong></p>
    <ul class="plain-list sides">${sides}</ul>
    ${settled}
  </article>`;
}

async function load(view) {
  let list;
  try {
    list = await api.listConflicts(showAll);
  } catch (err) {
    view.querySelector('#conflicts-count').textContent = errorText(err);
    return;
  }
  view.querySelector('#conflicts-count').textContent = list.length ? tn('conflicts.count', list.length) : t('conflicts.none');
  view.querySelector('#conflict-list').innerHTML = list.map(cardHtml).join('');
}

async function onClick(view, e) {
  const b = e.target.closest('button.keep');
  if (!b) return;
  const id = b.closest('.conflict').dataset.id;
  try {
    await api.resolveConflict(id, { keep: b.dataset.hlc });
    toast(t('conflicts.done'));
    await load(view);
  } catch (err) {
    toast(errorText(err));
  }
}

async function onSubmit(view, e) {
  e.preventDefault();
  const form = e.target;
  const card = form.closest('.conflict');
  const input = form.elements.value;
  const error = form.querySelector('.field-error');
  error.textContent = '';
  input.removeAttribute('aria-invalid');
  try {
    await api.resolveConflict(card.dataset.id, { value: input.value.trim() });
    toast(t('conflicts.done'));
    await load(view);
  } catch (err) {
    error.textContent = err && err.fields && err.fields.length ? err.fields.map(fieldErrorText).join(' ') : errorText(err);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
