// The beneficiary list: search as you type (names in both scripts, CIN,
// phone), filters, sort. The core searches (SQLite FTS5) and pages; the
// screen shows at most PAGE rows at a time, so 10,000 people stay smooth.

import * as api from '../api.js';
import { applyTranslations, codeLabel, errorText, formatBirth, formatDate, t, tn } from '../i18n.js';
import { app, codeOptions, el, esc, fullName, navigate, phoneHtml, provinceOptions, regionOptions } from '../state.js';

const PAGE = 200;
// `status`: '' the people on the lists, 'archived' the archived (where one is restored).
let state = { search: '', region: '', province: '', phase: '', stage: '', sex: '', cohort: '', status: '', sort: 'name', limit: PAGE };
let seq = 0;

function options(list, blankKey) {
  return `<option value="" data-i18n="${blankKey}"></option>` +
    list.map((o) => `<option value="${esc(o.value)}" data-i18n="${esc(o.key)}"></option>`).join('');
}

export async function render(main) {
  const stageOpts = [{ value: 'none', key: 'stage.none' }, ...codeOptions('milestone')];
  const view = el(`<section>
    <div class="row"><h1 data-i18n="list.title"></h1><span class="spacer"></span>
      <a class="button primary" href="#/register" id="new-beneficiary" data-i18n="list.new"></a></div>
    <div class="filters" role="search">
      <label class="sr-only" for="search" data-i18n="list.search"></label>
      <input id="search" type="search" autocomplete="off" data-i18n-placeholder="list.search_placeholder" data-i18n-aria-label="list.search">
      <select id="filter-region" data-i18n-aria-label="field.region">${options(regionOptions(), 'filter.all_regions')}</select>
      <select id="filter-province" data-i18n-aria-label="field.province"></select>
      <select id="filter-phase" data-i18n-aria-label="field.phase">${options(codeOptions('phase'), 'filter.all_phases')}</select>
      <select id="filter-stage" data-i18n-aria-label="list.stage">${options(stageOpts, 'filter.all_stages')}</select>
      <select id="filter-sex" data-i18n-aria-label="field.sex">${options(codeOptions('sex'), 'filter.all_sexes')}</select>
      <input id="filter-cohort" data-i18n-placeholder="field.cohort" data-i18n-aria-label="field.cohort">
      <select id="filter-status" data-i18n-aria-label="filter.status">
        <option value="" data-i18n="filter.live"></option>
        <option value="archived" data-i18n="filter.archived"></option>
      </select>
      <select id="sort" data-i18n-aria-label="list.sort">
        <option value="name" data-i18n="sort.name"></option>
        <option value="last_visit" data-i18n="sort.last_visit"></option>
        <option value="stage" data-i18n="sort.stage"></option>
      </select>
    </div>
    <p class="muted" id="list-count" aria-live="polite"></p>
    <table id="beneficiary-table">
      <thead><tr>
        <th data-i18n="list.name"></th><th data-i18n="field.cin"></th><th data-i18n="field.phone"></th>
        <th data-i18n="list.place"></th><th data-i18n="field.phase"></th><th data-i18n="list.stage"></th>
        <th data-i18n="list.last_visit"></th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <p><button id="more" hidden data-i18n="list.more"></button></p>
  </section>`);
  main.append(view);
  const $ = (id) => view.querySelector(`#${id}`);
  const fillProvinces = () => {
    $('filter-province').innerHTML = options(provinceOptions(state.region), 'filter.all_provinces');
    $('filter-province').disabled = !state.region;
    applyTranslations($('filter-province'));
  };
  for (const [id, key] of [['search', 'search'], ['filter-region', 'region'], ['filter-province', 'province'],
    ['filter-phase', 'phase'], ['filter-stage', 'stage'], ['filter-sex', 'sex'], ['filter-cohort', 'cohort'],
    ['filter-status', 'status'], ['sort', 'sort']]) {
    $(id).value = state[key];
  }
  fillProvinces();
  $('filter-province').value = state.province;
  let timer = null;
  const changed = (key, value, delay = 0) => {
    state = { ...state, [key]: value, limit: PAGE };
    if (key === 'region') {
      state.province = '';
      fillProvinces();
    }
    clearTimeout(timer);
    timer = setTimeout(() => load(view), delay);
  };
  $('search').addEventListener('input', (e) => changed('search', e.target.value, 120));
  $('filter-cohort').addEventListener('input', (e) => changed('cohort', e.target.value.trim(), 250));
  for (const [id, key] of [['filter-region', 'region'], ['filter-province', 'province'], ['filter-phase', 'phase'],
    ['filter-stage', 'stage'], ['filter-sex', 'sex'], ['filter-status', 'status'], ['sort', 'sort']]) {
    $(id).addEventListener('change', (e) => changed(key, e.target.value));
  }
  $('more').addEventListener('click', () => {
    state.limit += PAGE;
    load(view);
  });
  view.querySelector('tbody').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr && !e.target.closest('a')) navigate(`#/profile/${tr.dataset.id}`);
  });
  applyTranslations(view);
  $('search').focus();
  await load(view);
}

async function load(view) {
  const mine = ++seq;
  const q = {
    search: state.search || null,
    region: state.region || null,
    province: state.province || null,
    phase: state.phase || null,
    stage: state.stage || null,
    sex: state.sex || null,
    cohort: state.cohort || null,
    archived_only: state.status === 'archived',
    sort: state.sort,
    limit: state.limit,
  };
  let page;
  try {
    page = await api.listBeneficiaries(q);
  } catch (err) {
    view.querySelector('#list-count').textContent = errorText(err);
    return;
  }
  if (mine !== seq) return; // a newer keystroke already asked again
  const tbody = view.querySelector('tbody');
  tbody.innerHTML = page.rows.map(rowHtml).join('');
  view.querySelector('#list-count').textContent = tn('list.count', page.rows.length, { total: page.total });
  view.querySelector('#more').hidden = page.rows.length >= page.total;
}

function rowHtml(r) {
  const place = [t(`region.${r.region}`), r.province && t(`province.${r.province}`), r.commune].filter(Boolean).join(' · ');
  const ar = r.name_ar ? ` <span class="arabic">${esc(r.name_ar)}</span>` : '';
  // Only a birth date known by its year shows here ("vers 1985"): the one
  // thing to know before calling her by her age.
  const birth = r.birth_date_approx && !r.erased ? ` <span class="muted birth"><bdi>${esc(formatBirth(r))}</bdi></span>` : '';
  const stage = r.stage ? `<span class="badge stage-${esc(r.stage)}">${esc(codeLabel('milestone', r.stage))}</span>` : '';
  return `<tr data-id="${esc(r.id)}"${r.archived_at ? ' class="archived"' : ''}>
    <td><a href="#/profile/${esc(r.id)}" class="person-name">${esc(fullName(r))}</a>${ar}${birth}</td>
    <td>${esc(r.cin || '')}</td><td>${phoneHtml(r.phone)}</td><td>${esc(place)}</td>
    <td>${esc(codeLabel('phase', r.phase))}</td><td>${stage}</td><td>${esc(formatDate(r.last_visit_date))}</td>
  </tr>`;
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
