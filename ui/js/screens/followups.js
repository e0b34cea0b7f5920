// The plan for the next mission: people whose planned visit is overdue or
// due within the week, and people without a visit for N days (N from the
// settings, adjustable here for this plan), grouped by region › province ›
// commune. The core decides who is on it; the browser's print gives the
// paper version (print rules in style.css).

import * as api from '../api.js';
import { applyTranslations, codeLabel, errorText, formatDate, t } from '../i18n.js';
import { renderForm, readForm, showErrors, clearErrors } from '../form.js';
import { app, el, esc, phoneHtml } from '../state.js';
import { placeHtml, today } from './profile.js';

const SPEC = [{ name: 'followup_days', label: 'followups.days_label', type: 'number', attrs: { min: '1', max: '365' } }];

// The threshold chosen on this screen, kept while the app runs, until the
// setting itself changes.
let days = null;
let setting = null;

export async function render(main) {
  if (setting !== app.info.followup_days) {
    setting = app.info.followup_days;
    days = setting;
  }
  const view = el(`<section class="followups">
    <div class="row"><h1 data-i18n="followups.title"></h1><span class="spacer"></span>
      <button type="button" id="print" class="no-print" data-i18n="followups.print"></button></div>
    <p class="muted" data-i18n="followups.intro"></p>
    <form id="followups-form" class="no-print compact"></form>
    <p id="followups-summary" aria-live="polite"></p>
    <div id="followups-plan"></div>
  </section>`);
  main.append(view);
  const form = view.querySelector('form');
  const actions = renderForm(form, SPEC, { followup_days: days });
  actions.append(el('<button type="submit" class="primary" id="followups-apply" data-i18n="followups.apply"></button>'));
  applyTranslations(view);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const wanted = readForm(form, SPEC).followup_days;
    load(view, form, wanted ?? '');
  });
  form.elements.followup_days.addEventListener('change', () => form.requestSubmit());
  view.querySelector('#print').addEventListener('click', () => window.print());
  await load(view, form, days);
}

async function load(view, form, wanted) {
  clearErrors(form);
  let groups;
  try {
    // Blank or not a whole number: 0, which the core refuses with the range.
    groups = await api.followups(typeof wanted === 'number' ? wanted : 0);
  } catch (err) {
    if (err && err.fields) showErrors(form, err);
    else view.querySelector('#followups-summary').textContent = errorText(err);
    return;
  }
  days = wanted;
  const people = groups.reduce((n, g) => n + g.people.length, 0);
  view.querySelector('#followups-summary').textContent = people
    ? t('followups.summary', { people, places: groups.length, days, date: formatDate(today()) })
    : t('followups.empty', { days });
  view.querySelector('#followups-plan').innerHTML = planHtml(groups);
  applyTranslations(view.querySelector('#followups-plan'));
}

function planHtml(groups) {
  const out = [];
  let region = null;
  for (const g of groups) {
    if (g.region !== region) {
      if (region !== null) out.push('</section>');
      region = g.region;
      out.push(`<section class="fu-region" data-region="${esc(g.region)}"><h2>${esc(t(`region.${g.region}`))}</h2>`);
    }
    const place = placeHtml([g.province ? t(`province.${g.province}`) : t('followups.no_province'), g.commune || t('followups.no_commune')]);
    out.push(`<div class="fu-place card" data-province="${esc(g.province || '')}" data-commune="${esc(g.commune || '')}">
      <h3>${place} <span class="muted">(${g.people.length})</span></h3>
      <table class="fu-table">
        <thead><tr><th data-i18n="list.name"></th><th data-i18n="field.phone"></th><th data-i18n="followups.why"></th>
          <th data-i18n="list.last_visit"></th><th data-i18n="field.next_visit_date"></th><th data-i18n="list.stage"></th></tr></thead>
        <tbody>${g.people.map(personRow).join('')}</tbody>
      </table></div>`);
  }
  if (region !== null) out.push('</section>');
  return out.join('');
}

function reasonText(p) {
  switch (p.reason) {
    case 'overdue':
      return t('followups.reason.overdue', { date: formatDate(p.next_visit_date) });
    case 'due':
      return t('followups.reason.due', { date: formatDate(p.next_visit_date) });
    default:
      return p.last_visit_date
        ? t('followups.reason.no_recent_visit', { days: p.days_without_visit })
        : t('followups.reason.never_visited', { days: p.days_without_visit });
  }
}

function personRow(p) {
  const ar = p.name_ar ? ` <span class="arabic" lang="ar">${esc(p.name_ar)}</span>` : '';
  const badge = p.reason === 'no_recent_visit' ? 'quiet' : p.reason;
  return `<tr data-id="${esc(p.id)}" data-reason="${esc(p.reason)}">
    <td><a href="#/profile/${esc(p.id)}">${esc(p.first_name)} ${esc(p.last_name)}</a>${ar}</td>
    <td>${phoneHtml(p.phone)}</td>
    <td><span class="badge ${esc(badge)}">${esc(reasonText(p))}</span></td>
    <td>${esc(formatDate(p.last_visit_date) || '—')}</td>
    <td>${esc(formatDate(p.next_visit_date) || '—')}</td>
    <td>${esc(p.stage ? codeLabel('milestone', p.stage) : '')}</td>
  </tr>`;
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main).catch((err) => (main.textContent = errorText(err)));
}
