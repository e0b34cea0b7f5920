// The Audit log screen: who did what, when, on which computer, newest
// first, filtered by computer, account, action and days; whether every
// chain of entries is intact, said in plain words; the entries the filters
// select (all of them, not the page shown) exported as CSV through Save as
// (or on the USB stick in one click). The core checks
// the chains and the role (manager); this screen only shows its answers.

import * as api from '../api.js';
import { applyTranslations, errorText, formatInstant, has, t, tn } from '../i18n.js';
import { el, esc } from '../state.js';
import { dateEntry, dateValue, displayDate } from '../dates.js';
import { offerSave } from '../save.js';

const PAGE = 200;
let filter = { machine: '', who: '', action: '', since: '', until: '' };
let shown = PAGE;
let facets = { machines: [], who: [], actions: [] };

export async function render(main) {
  const view = el(`<section class="audit">
    <h1 data-i18n="audit.title"></h1>
    <p class="muted" data-i18n="audit.help"></p>
    <div class="card" id="audit-verdict" role="status" aria-live="polite">
      <p id="audit-verdict-text"></p>
      <ul class="plain-list" id="audit-waiting"></ul>
      <button type="button" id="audit-verify" data-i18n="audit.verify_again"></button>
    </div>
    <form class="filters" id="audit-filters" role="search">
      <select id="audit-machine" data-i18n-aria-label="audit.filter.machine"></select>
      <select id="audit-who" data-i18n-aria-label="audit.filter.who"></select>
      <select id="audit-action" data-i18n-aria-label="audit.filter.action"></select>
      <label class="checkbox-inline"><span data-i18n="audit.filter.since"></span>
        <input id="audit-since"></label>
      <label class="checkbox-inline"><span data-i18n="audit.filter.until"></span>
        <input id="audit-until"></label>
      <button type="button" id="audit-reset" data-i18n="audit.filter.reset"></button>
    </form>
    <div class="row">
      <p class="muted" id="audit-count" aria-live="polite"></p>
      <span class="spacer"></span>
      <button type="button" id="audit-export" data-i18n="audit.export"></button>
    </div>
    <p id="audit-export-result" aria-live="polite"></p>
    <table id="audit-table">
      <thead><tr>
        <th data-i18n="audit.col.at"></th><th data-i18n="audit.col.machine"></th><th data-i18n="audit.col.who"></th>
        <th data-i18n="audit.col.action"></th><th data-i18n="audit.col.subject"></th><th data-i18n="audit.col.detail"></th>
        <th class="num" data-i18n="audit.col.seq"></th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <p><button type="button" id="audit-more" hidden data-i18n="audit.more"></button></p>
  </section>`);
  main.append(view);
  applyTranslations(view);
  const $ = (id) => view.querySelector(`#${id}`);

  try {
    facets = await api.auditFacets();
  } catch (err) {
    $('audit-count').textContent = errorText(err);
    $('audit-verdict').hidden = true;
    $('audit-filters').hidden = true;
    $('audit-export').hidden = true;
    return;
  }
  dateEntry($('audit-since'));
  dateEntry($('audit-until'));
  fillFilters(view);
  const changed = () => {
    filter = {
      machine: $('audit-machine').value,
      who: $('audit-who').value,
      action: $('audit-action').value,
      since: dateValue($('audit-since')),
      until: dateValue($('audit-until')),
    };
    shown = PAGE;
    load(view);
  };
  for (const id of ['audit-machine', 'audit-who', 'audit-action', 'audit-since', 'audit-until']) {
    $(id).addEventListener('change', changed);
  }
  $('audit-filters').addEventListener('submit', (e) => e.preventDefault());
  $('audit-reset').addEventListener('click', () => {
    filter = { machine: '', who: '', action: '', since: '', until: '' };
    fillFilters(view);
    changed();
  });
  $('audit-more').addEventListener('click', () => {
    shown += PAGE;
    load(view);
  });
  $('audit-verify').addEventListener('click', () => verify(view));
  offerSave($('audit-export'), {
    what: 'audit',
    ext: 'csv',
    filter: 'audit.csv_files',
    out: $('audit-export-result'),
    write: (path) => api.auditExport(path, filterQuery()),
    describe: (done) => esc(tn('audit.exported', done.entries)),
  });
  await Promise.all([verify(view), load(view)]);
}

/** The name of a computer as people know it; its id when it has none here. */
function machineName(id, name) {
  return name || id;
}

function actionLabel(code) {
  const key = `audit.action.${code}`;
  return has(key) ? t(key) : code;
}

function roleLabel(role) {
  return has(`role.${role}`) ? t(`role.${role}`) : role;
}

function fillFilters(view) {
  const $ = (id) => view.querySelector(`#${id}`);
  const option = (value, text) => `<option value="${esc(value)}">${esc(text)}</option>`;
  const machines = facets.machines.map((m) =>
    option(m.id, m.this ? t('audit.this_computer', { name: machineName(m.id, m.name) }) : machineName(m.id, m.name)));
  $('audit-machine').innerHTML = option('', t('audit.filter.all_machines')) + machines.join('');
  $('audit-who').innerHTML = option('', t('audit.filter.all_accounts')) + facets.who.map((w) => option(w, w)).join('');
  const actions = facets.actions.map((a) => [a, actionLabel(a)]).sort((x, y) => x[1].localeCompare(y[1]));
  $('audit-action').innerHTML = option('', t('audit.filter.all_actions')) + actions.map(([a, l]) => option(a, l)).join('');
  $('audit-machine').value = filter.machine;
  $('audit-who').value = filter.who;
  $('audit-action').value = filter.action;
  $('audit-since').value = displayDate(filter.since);
  $('audit-until').value = displayDate(filter.until);
}

function rowHtml(e) {
  const seq = String(e.seq);
  return `<tr>
    <td><bdi>${esc(formatInstant(e.at))}</bdi></td>
    <td><bdi>${esc(machineName(e.machine, e.machine_name))}</bdi></td>
    <td><bdi>${esc(e.who)}</bdi> <span class="muted">${esc(roleLabel(e.role))}</span></td>
    <td>${esc(actionLabel(e.action))}</td>
    <td><bdi dir="ltr"><code>${esc(e.subject)}</code></bdi></td>
    <td><bdi>${esc(e.detail)}</bdi></td>
    <td class="num"><bdi dir="ltr">${esc(seq)}</bdi></td>
  </tr>`;
}

/** The filters chosen, those left empty omitted. */
function filterQuery() {
  const query = { ...filter };
  for (const k of Object.keys(query)) if (query[k] === '') delete query[k];
  return query;
}

async function load(view) {
  const $ = (id) => view.querySelector(`#${id}`);
  const query = { ...filterQuery(), limit: shown };
  let page;
  try {
    page = await api.auditList(query);
  } catch (err) {
    $('audit-count').textContent = errorText(err);
    return;
  }
  $('audit-count').textContent = page.total ? tn('audit.count', page.total) : t('audit.none');
  view.querySelector('#audit-table tbody').innerHTML = page.entries.map(rowHtml).join('');
  $('audit-more').hidden = page.entries.length >= page.total;
}

/** The verdict in people's words: intact, waiting for bundles, or changed. */
async function verify(view) {
  const $ = (id) => view.querySelector(`#${id}`);
  const card = $('audit-verdict');
  let v;
  try {
    v = await api.auditVerify();
  } catch (err) {
    $('audit-verdict-text').textContent = errorText(err);
    return;
  }
  card.classList.toggle('audit-broken', !v.ok);
  card.classList.toggle('audit-ok', v.ok);
  if (v.ok) {
    $('audit-verdict-text').textContent = t('audit.verify_ok', { entries: v.entries, machines: v.machines });
  } else {
    const b = v.first_broken;
    const problem = has(`audit.problem.${b.problem}`) ? t(`audit.problem.${b.problem}`) : b.message;
    $('audit-verdict-text').innerHTML = esc(t('audit.verify_broken', { seq: '\u0000', machine: '\u0001', problem }))
      .replace('\u0000', `<bdi dir="ltr">${esc(String(b.seq))}</bdi>`)
      .replace('\u0001', `<bdi>${esc(machineName(b.machine, b.machine_name))}</bdi>`);
  }
  $('audit-waiting').innerHTML = v.waiting.map((g) => {
    const text = esc(t('audit.verify_waiting', { from: '\u0000', to: '\u0001', machine: '\u0002' }))
      .replace('\u0000', `<bdi dir="ltr">${esc(String(g.from_seq))}</bdi>`)
      .replace('\u0001', `<bdi dir="ltr">${esc(String(g.to_seq))}</bdi>`)
      .replace('\u0002', `<bdi>${esc(machineName(g.machine, g.machine_name))}</bdi>`);
    return `<li>${text}</li>`;
  }).join('');
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
