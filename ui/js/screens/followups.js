// The plan for the next mission: people whose planned visit is overdue or
// due within the week, and people without a visit for N days (N from the
// settings, adjustable here for this plan), grouped by region › province ›
// commune, for one region, province or commune if the mission goes there.
// The core decides who is on it; the same plan is saved as a PDF.

import * as api from '../api.js';
import { applyTranslations, codeLabel, currentLang, errorText, formatDate, pluralKey, t, tn } from '../i18n.js';
import { renderForm, readForm, showErrors, clearErrors } from '../form.js';
import { offerSave, tHtml } from '../save.js';
import { app, el, esc, phoneHtml, provinceOptions, regionOptions } from '../state.js';
import { placeHtml, today } from './profile.js';

const SPEC = [{ name: 'followup_days', label: 'followups.days_label', type: 'number', attrs: { min: '1', max: '365' } }];

// The threshold chosen on this screen, kept while the app runs, until the
// setting itself changes.
let days = null;
let setting = null;
// The mission's place, kept like the threshold.
let place = { region: '', province: '', commune: '' };
// Every group of the plan, whatever the place: the communes to choose from.
let everywhere = [];

export async function render(main) {
  if (setting !== app.info.followup_days) {
    setting = app.info.followup_days;
    days = setting;
  }
  const view = el(`<section class="followups">
    <div class="row"><h1 data-i18n="followups.title"></h1><span class="spacer"></span>
      <button type="button" id="print" class="no-print" data-i18n="followups.print"></button></div>
    <div id="followups-print-result"></div>
    <p class="muted" data-i18n="followups.intro"></p>
    <form id="followups-form" class="no-print compact"></form>
    <div class="filters no-print" id="followups-place">
      <select id="fu-region" aria-label="${esc(t('field.region'))}"></select>
      <select id="fu-province" aria-label="${esc(t('field.province'))}"></select>
      <select id="fu-commune" aria-label="${esc(t('field.commune'))}"></select>
    </div>
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
  const region = view.querySelector('#fu-region');
  const province = view.querySelector('#fu-province');
  const commune = view.querySelector('#fu-commune');
  region.addEventListener('change', () => {
    place = { region: region.value, province: '', commune: '' };
    fillPlace(view);
    load(view, form, days);
  });
  province.addEventListener('change', () => {
    place = { ...place, province: province.value, commune: '' };
    fillPlace(view);
    load(view, form, days);
  });
  commune.addEventListener('change', () => {
    place = { ...place, commune: commune.value };
    load(view, form, days);
  });
  offerSave(view.querySelector('#print'), {
    what: 'followups',
    ext: 'pdf',
    filter: 'save.pdf_files',
    out: view.querySelector('#followups-print-result'),
    job: true,
    write: (path, job) => api.printReport({ kind: 'followups', filters: { region: place.region || null }, place: placeQuery(), days, lang: currentLang() }, path, job),
    describe: (saved) => tHtml(pluralKey('save.pdf_pages', saved.pages), { n: saved.pages }),
  });
  await load(view, form, days);
}

/** The place as the core reads it: blanks left out. */
function placeQuery() {
  return { region: place.region || null, province: place.province || null, commune: place.commune || null };
}

/** The three place lists: regions; the region's provinces; the communes the plan has there. */
function fillPlace(view) {
  const options = (list, all) => `<option value="">${esc(t(all))}</option>${list.map(([v, label]) => `<option value="${esc(v)}">${esc(label)}</option>`).join('')}`;
  const region = view.querySelector('#fu-region');
  const province = view.querySelector('#fu-province');
  const commune = view.querySelector('#fu-commune');
  region.innerHTML = options(regionOptions().map((o) => [o.value, t(o.key)]), 'filter.all_regions');
  region.value = place.region;
  province.innerHTML = options(provinceOptions(place.region).map((o) => [o.value, t(o.key)]), 'filter.all_provinces');
  province.disabled = !place.region;
  province.value = place.province;
  const communes = [...new Set(everywhere
    .filter((g) => (!place.region || g.region === place.region) && (!place.province || g.province === place.province))
    .map((g) => g.commune)
    .filter(Boolean))].sort((a, b) => a.localeCompare(b));
  commune.innerHTML = options(communes.map((c) => [c, c]), 'followups.all_communes');
  commune.disabled = !place.province;
  commune.value = place.commune;
}

async function load(view, form, wanted) {
  clearErrors(form);
  let groups;
  try {
    // Blank or not a whole number: 0, which the core refuses with the range.
    const n = typeof wanted === 'number' ? wanted : 0;
    everywhere = await api.followups(n, null);
    groups = place.region ? await api.followups(n, placeQuery()) : everywhere;
    fillPlace(view);
  } catch (err) {
    if (err && err.fields) showErrors(form, err);
    else view.querySelector('#followups-summary').textContent = errorText(err);
    return;
  }
  days = wanted;
  const people = groups.reduce((n, g) => n + g.people.length, 0);
  view.querySelector('#followups-summary').textContent = people
    ? t('followups.summary', {
      people: tn('count.people', people),
      places: tn('count.places', groups.length),
      days: tn('count.days', days),
      date: formatDate(today()),
    })
    : tn('followups.empty', days);
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
        ? tn('followups.reason.no_recent_visit', p.days_without_visit)
        : tn('followups.reason.never_visited', p.days_without_visit);
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
