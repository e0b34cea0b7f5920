// The dashboard: the programme's indicators with filters (period, region,
// cohort, sex). The core computes every number (the same module feeds the
// PDF and `wafira report indicators`); this screen only lays them out, and
// saves the PDF summary or follow-up list where a person chooses (save.js).
// Each figure carries data-figure (its path in the indicators) and
// data-value (the raw value), so the numbers can be checked against the CLI.

import * as api from '../api.js';
import { renderForm, readForm, showErrors, clearErrors } from '../form.js';
import { applyTranslations, codeLabel, currency, currentLang, errorText, formatDate, formatInstant, pluralKey, t, tn } from '../i18n.js';
import { offerSave, tHtml } from '../save.js';
import { codeOptions, el, esc, may, regionOptions } from '../state.js';

const SPEC = [
  { name: 'from', type: 'date' },
  { name: 'to', type: 'date' },
  { name: 'region', type: 'select', options: regionOptions() },
  { name: 'cohort', type: 'text', attrs: { maxlength: '40' } },
  { name: 'sex', type: 'select', options: codeOptions('sex') },
];

let filters = {}; // kept while the app runs, like the list's
let last = null; // the indicators shown

/** `3 000` / `3,000`. */
function num(n) {
  const [int, frac] = String(n).split('.');
  const en = currentLang() === 'en';
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, en ? ',' : '\u202f');
  return frac ? `${grouped}${en ? '.' : ','}${frac}` : grouped;
}

/** `83,6 %` / `83.6%`, always one decimal, as on paper. */
function pct(v) {
  if (v === null || v === undefined) return '—';
  const [i, f = '0'] = String(v).split('.');
  const text = num(`${i}.${f.slice(0, 1)}`);
  return currentLang() === 'en' ? `${text}%` : `${text}\u202f%`;
}

/** An exact decimal amount as `12 500,00 MAD` (`درهم` in Arabic). */
function mad(v) {
  if (v === null || v === undefined) return '—';
  const [i, f = ''] = String(v).split('.');
  return `${num(`${i}.${(f + '00').slice(0, 2)}`)} ${currency()}`;
}

function value(unit, v) {
  if (unit === 'percent') return pct(v);
  if (unit === 'mad') return mad(v);
  return num(v);
}

/** A figure: its label, its shown value, its raw value for checks. */
function fig(path, label, shown, raw) {
  return `<dt>${esc(label)}</dt><dd data-figure="${esc(path)}" data-value="${esc(raw ?? '')}">${esc(shown)}</dd>`;
}

export async function render(main) {
  const view = el(`<section class="dashboard">
    <h1 data-i18n="dash.title"></h1>
    <p class="muted" data-i18n="dash.intro"></p>
    <p class="muted" id="dash-fingerprint"></p>
    <form id="dash-filters" class="card"></form>
    <div class="row print-row">
      <label for="dash-lang" data-i18n="field.lang"></label>
      <select id="dash-lang">
        <option value="fr">Français</option><option value="ar">العربية</option><option value="en">English</option>
      </select>
      <button type="button" class="primary" id="print-pdf" data-i18n="dash.print"></button>
      <button type="button" id="print-followups" data-i18n="dash.print_followups"></button>
    </div>
    <div id="dash-print-result" aria-live="polite"></div>
    <div id="dash-output" aria-live="polite"><p class="muted" data-i18n="dash.loading"></p></div>
  </section>`);
  main.append(view);
  const form = view.querySelector('form');
  const actions = renderForm(form, SPEC, filters);
  actions.append(
    el('<button type="submit" class="primary" id="dash-apply" data-i18n="dash.apply"></button>'),
    el('<button type="button" id="dash-reset" data-i18n="dash.reset"></button>'),
  );
  view.querySelector('#dash-lang').value = currentLang();
  // The summary is the programme's report, the manager's (docs/access.md).
  view.querySelector('#print-pdf').hidden = !may('print_report');
  view.querySelector('#print-followups').hidden = !may('print_field_sheet');
  applyTranslations(view);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters = readForm(form, SPEC);
    load(view, form);
  });
  view.querySelector('#dash-reset').addEventListener('click', () => {
    filters = {};
    for (const f of SPEC) form.elements[f.name].value = '';
    load(view, form);
  });
  const pdf = (what, request) => ({
    what,
    ext: 'pdf',
    filter: 'save.pdf_files',
    out: view.querySelector('#dash-print-result'),
    write: (path) => api.printReport(request(), path),
    describe: (saved) => tHtml(pluralKey('save.pdf_pages', saved.pages), { n: saved.pages }),
    failed: (err) => err && err.fields && err.fields.length && showErrors(form, err),
  });
  offerSave(view.querySelector('#print-pdf'),
    pdf('summary', () => ({ kind: 'summary', filters, lang: view.querySelector('#dash-lang').value })));
  offerSave(view.querySelector('#print-followups'), pdf('followups', () => (
    { kind: 'followups', filters: { region: filters.region, cohort: filters.cohort, sex: filters.sex }, lang: view.querySelector('#dash-lang').value })));
  await load(view, form);
}

async function load(view, form) {
  clearErrors(form);
  try {
    last = await api.indicators(filters);
  } catch (err) {
    if (err && err.fields && err.fields.length) showErrors(form, err);
    view.querySelector('#dash-output').textContent = errorText(err);
    return;
  }
  draw(view);
}

function draw(view) {
  const i = last;
  // The check code a manager compares with a printed PDF's foot: said in
  // words, the code isolated so it keeps its order in Arabic.
  const code = view.querySelector('#dash-fingerprint');
  code.innerHTML = tHtml('dash.fingerprint', { fingerprint: i.fingerprint });
  code.title = t('dash.fingerprint_help');
  code.dataset.value = i.fingerprint;
  const out = view.querySelector('#dash-output');
  out.innerHTML = [keyFigures(i), otherFigures(i), results(i), regions(i), breakdowns(i), funnel(i), months(i), dataStatus(i)].join('');
  applyTranslations(out);
}

// Each key figure for the period and since the start, side by side, each
// against its own target (the core chooses it): the period's against the
// target of the calendar year it lies within (i.period_year), never the
// end-of-project one; women's and men's beside, with theirs where set.

/** What a figure is of its target, or why it has none. */
function targetNote(unit, a, span, year) {
  const tg = a.target;
  if (!tg) {
    if (span === 'cumulative') return t('report.no_target');
    return year === null || year === undefined ? t('report.no_period_target') : t('report.no_target_for_year', { year });
  }
  const params = { progress: pct(a.progress), target: value(unit, tg.target), year: tg.year };
  const note = t(tg.year ? 'report.of_year_target' : 'report.of_target', params);
  return tg.default ? `${note} (${t('report.default_target')})` : note;
}

function shown(unit, v) {
  return v === null || v === undefined ? '—' : value(unit, v);
}

function keySpan(k, span, year) {
  const m = k[span];
  const path = `key_figures.${k.indicator}.${span}`;
  const tg = m.target;
  const width = tg && Number(tg.target) > 0 && m.value !== null ? Math.min(100, (Number(m.value) / Number(tg.target)) * 100) : 0;
  const done = m.progress !== null && Number(m.progress) >= 100;
  const sexes = [['women', 'report.women'], ['men', 'report.men']].filter(([sex]) => m[sex]).map(([sex, label]) => {
    const a = m[sex];
    const note = a.target ? ` — ${targetNote(k.unit, a, span, year)}` : '';
    return `<li data-sex="${sex}">${esc(t(label))} <span data-figure="${esc(`${path}.${sex}.value`)}" data-value="${esc(a.value ?? '')}">${esc(shown(k.unit, a.value))}</span>${esc(note)}</li>`;
  });
  return `<div class="kf-span" data-span="${span}">
    <div class="kf-span-label">${esc(t(`dash.results.${span}`))}</div>
    <div class="kf-value" data-figure="${esc(`${path}.value`)}" data-value="${esc(m.value ?? '')}">${esc(shown(k.unit, m.value))}</div>
    ${tg ? `<div class="bar${done ? ' done' : ''}" role="img" aria-label="${esc(pct(m.progress))}"><span style="inline-size:${width.toFixed(1)}%"></span></div>` : ''}
    <div class="kf-note muted">${esc(targetNote(k.unit, m, span, year))}</div>
    ${sexes.length ? `<ul class="kf-sexes muted">${sexes.join('')}</ul>` : ''}
  </div>`;
}

function keyFigures(i) {
  const cards = i.key_figures.map((k) => `<div class="kf" data-indicator="${esc(k.indicator)}">
      <div class="kf-label">${esc(t(`indicator.${k.indicator}`))}</div>
      <div class="kf-spans">${keySpan(k, 'period', i.period_year)}${keySpan(k, 'cumulative', i.period_year)}</div>
    </div>`);
  return `<h2 data-i18n="report.key_figures"></h2><p class="muted" data-i18n="report.key_figures_intro"></p>
    <div class="kf-grid">${cards.join('')}</div>`;
}

function otherFigures(i) {
  const c = i.coaching;
  const of = (n, m, share) => t('report.n_of_m', { n: num(n), m: num(m), share: pct(share) });
  const l = i.iga.sustained_of_launched;
  const delay = i.iga.median_days_to_launch === null ? '—'
    : t('report.days_over', {
      days: tn('count.days', i.iga.median_days_to_launch, { n: num(i.iga.median_days_to_launch) }),
      n: tn('count.launches', i.iga.launches_timed, { n: num(i.iga.launches_timed) }),
    });
  return `<h2 data-i18n="report.other_figures"></h2><div class="card"><dl class="facts">
    ${fig('beneficiaries.registered', t('indicator.beneficiaries_registered'), num(i.beneficiaries.registered), i.beneficiaries.registered)}
    ${fig('coaching.visits', t('report.visits_total'), num(c.visits), c.visits)}
    ${fig('coaching.with_visit', t('report.with_visit'), of(c.with_visit, c.people, c.share_with_visit), c.with_visit)}
    ${fig('coaching.with_financial_education', t('report.with_financial_education'), of(c.with_financial_education, c.people, c.share_financial_education), c.with_financial_education)}
    ${fig('coaching.mean_visits_per_person', t('report.mean_visits'), c.mean_visits_per_person === null ? '—' : num(c.mean_visits_per_person), c.mean_visits_per_person)}
    ${fig('iga.sustained_of_launched.sustained', t('report.sustained_of_launched'), of(l.sustained, l.launched, l.share), l.sustained)}
    ${fig('iga.stopped', t('report.stopped'), num(i.iga.stopped), i.iga.stopped)}
    ${fig('iga.median_days_to_launch', t('report.median_days_to_launch'), delay, i.iga.median_days_to_launch)}
    ${fig('financing.total', t('report.financing_total'), mad(i.financing.total), i.financing.total)}
    ${fig('financing.median', t('report.financing_median'), mad(i.financing.median), i.financing.median)}
    ${fig('financing.people', t('report.financing_people'), num(i.financing.people), i.financing.people)}
    ${fig('followup.no_visit_60_days', t('report.no_visit_60'), num(i.followup.no_visit_60_days), i.followup.no_visit_60_days)}
    ${fig('followup.no_visit_90_days', t('report.no_visit_90'), num(i.followup.no_visit_90_days), i.followup.no_visit_90_days)}
  </dl></div>`;
}

// --- The results framework (crates/core/src/report/results.rs) -----------
// Each figure for the period and cumulatively since the start, side by
// side, women and men apart; every cell carries its path in the indicators
// (data-figure `results.…`) and its raw value, as the other figures do.

const SEXES = ['women', 'men', 'all'];

/** One cell of a figure: right-aligned, with its path and raw value. */
function cell(path, raw, shown = raw === null || raw === undefined ? '—' : num(raw)) {
  return `<td class="num" data-figure="${esc(path)}" data-value="${esc(raw ?? '')}">${esc(shown)}</td>`;
}

/** The two-row head: the indicator, then the period and the cumulative figure, each by sex. */
function bySexHead(first = 'dash.results.indicator') {
  const sexes = `<th scope="col" class="num" data-i18n="report.women"></th><th scope="col" class="num" data-i18n="report.men"></th>
    <th scope="col" class="num" data-i18n="report.total"></th>`;
  return `<thead><tr><th rowspan="2" scope="col" data-i18n="${first}"></th>
    <th colspan="3" scope="colgroup" class="res-period" data-i18n="dash.results.period"></th>
    <th colspan="3" scope="colgroup" class="res-cumulative" data-i18n="dash.results.cumulative"></th></tr>
    <tr class="res-sexes">${sexes}${sexes}</tr></thead>`;
}

/** A row of figures by sex: `path` leads to `{period, cumulative}` of objects whose `key` is `{all, women, men}`; `shown` formats a value (counts by default). */
function bySexRow(base, key, label, both, shown = null, cls = '') {
  const cells = ['period', 'cumulative'].flatMap((when) => SEXES.map((sex) => {
    const raw = both[when][key][sex];
    return shown ? cell(`${base}.${when}.${key}.${sex}`, raw, shown(raw)) : cell(`${base}.${when}.${key}.${sex}`, raw);
  }));
  return `<tr data-row="${esc(key)}"${cls ? ` class="${cls}"` : ''}><th scope="row">${esc(label)}</th>${cells.join('')}</tr>`;
}

/** The heading row of a group of rows (a horizon, 12 or 6 months). */
function groupRow(text, cols = 7) {
  return `<tr class="res-group"><th colspan="${cols}" scope="rowgroup">${esc(text)}</th></tr>`;
}

function survivalRows(r, months) {
  const base = `results.survival_${months}_months`;
  const both = r[`survival_${months}_months`];
  const rows = [
    ['eligible', t(`dash.results.eligible_${months}`)],
    ['operating', t('dash.results.operating')],
    ['not_operating', t('dash.results.not_operating')],
    ['unknown', t('dash.results.unknown')],
  ].map(([key, label]) => bySexRow(base, key, label, both));
  // The share of women's IGAs, men's and everyone's.
  rows.push(bySexRow(base, 'share', t('dash.results.share'), both, pct, 'res-share'));
  return `<tbody data-horizon="${months}">${groupRow(t(`dash.results.survival_${months}`))}${rows.join('')}</tbody>`;
}

function incomeRows(r, months) {
  const base = `results.income_${months}_months`;
  const both = r[`income_${months}_months`];
  return `<tbody data-horizon="${months}">${groupRow(t(`dash.results.at_${months}`))}
    ${bySexRow(base, 'surveyed', t('dash.results.surveyed'), both)}
    ${bySexRow(base, 'median_profit', t('dash.results.median_profit'), both, mad)}
    ${bySexRow(base, 'median_change_from_baseline', t('dash.results.median_change'), both, mad)}</tbody>`;
}

function results(i) {
  const r = i.results;
  if (!r) return '';
  const table = (id, title, body, head = bySexHead()) => `<h3 id="${id}-title">${esc(title)}</h3>
    <div class="table-scroll"><table class="figures results-table" id="${id}" aria-labelledby="${id}-title">${head}${body}</table></div>`;
  const rows = (base, list) => `<tbody>${list.map(([key, label]) => bySexRow(base, key, label, r[base.slice('results.'.length)])).join('')}</tbody>`;
  const eligible = r.survival_12_months.cumulative.eligible.all;
  const counted = Object.values(r.people.cumulative.by_disability).reduce((n, x) => n + x.all, 0);
  // The ILO's four groups always, then any other the data has (under 15).
  const ages = [...new Set(['15-24', '25-34', '35-44', '45+',
    ...Object.keys(r.people.cumulative.by_age_group), ...Object.keys(r.people.period.by_age_group)])];
  const ageLabel = (g) => (/^\d/.test(g) ? t('report.age_group', { group: g }) : t('dash.results.age_under_15'));
  const people = (key, list) => `<tbody>${list.map(([code, label]) => {
    const cells = ['period', 'cumulative'].flatMap((when) => SEXES.map((sex) => {
      const v = (r.people[when][key][code] || {})[sex] ?? 0;
      return cell(`results.people.${when}.${key}.${code}.${sex}`, v);
    }));
    return `<tr data-row="${esc(code)}"><th scope="row">${esc(label)}</th>${cells.join('')}</tr>`;
  }).join('')}</tbody>`;
  return `<section id="dash-results" aria-labelledby="dash-results-title">
    <h2 id="dash-results-title" data-i18n="dash.results.title"></h2>
    <p class="muted" id="dash-results-intro">${esc(t('dash.results.intro', { date: formatDate(r.period_end) }))}</p>
    <p class="muted" id="dash-results-base">${esc(tn('dash.results.survival_base', eligible, { n: num(eligible) }))}</p>
    ${table('res-survival', t('dash.results.survival'), survivalRows(r, 12) + survivalRows(r, 6))}
    ${table('res-income', t('dash.results.income'), incomeRows(r, 6) + incomeRows(r, 12))}
    ${table('res-participation', t('dash.results.participation'), rows('results.participation', [
    ['pre_departure_oriented', t('dash.results.pre_departure_oriented')],
    ['financial_education_completed', t('dash.results.financial_education_completed')],
    ['referrals_made', t('dash.results.referrals_made')],
    ['referrals_taken_up', t('dash.results.referrals_taken_up')],
  ]))}
    ${table('res-decent-work', t('dash.results.decent_work'), rows('results.decent_work', [
    ['igas', t('dash.results.igas')],
    ['formalised', t('dash.results.formalised')],
    ['social_security', t('dash.results.social_security')],
    ['jobs_created', t('dash.results.jobs_created')],
  ]))}
    <div class="results-pair">
      <div>${table('res-age', t('dash.results.by_age'), people('by_age_group', ages.map((g) => [g, ageLabel(g)])),
    bySexHead('dash.results.age_group'))}</div>
      <div>${table('res-disability', t('dash.results.by_disability'), people('by_disability', ['yes', 'no', 'not_asked'].map((c) => [c, t(`dash.results.disability.${c}`)])),
    bySexHead('dash.results.disability'))}
      <p class="muted" id="dash-results-people">${esc(tn('dash.results.people_counted', counted, { n: num(counted) }))}</p></div>
    </div>
  </section>`;
}

function regions(i) {
  const b = i.beneficiaries;
  const rows = b.by_region.map((r) => `<tr data-region="${esc(r.region)}"><td>${esc(t(`region.${r.region}`))}</td>
    <td class="num">${num(r.women)}</td><td class="num">${num(r.men)}</td><td class="num">${num(r.total)}</td>
    <td class="num">${r.target === null ? '—' : num(r.target)}</td></tr>`);
  return `<h2 data-i18n="report.by_region_sex"></h2>
    <table id="dash-regions" class="figures"><thead><tr><th data-i18n="field.region"></th><th class="num" data-i18n="report.women"></th>
    <th class="num" data-i18n="report.men"></th><th class="num" data-i18n="report.total"></th><th class="num" data-i18n="report.target"></th></tr></thead>
    <tbody>${rows.join('')}</tbody>
    <tfoot><tr><th data-i18n="report.total"></th><th class="num">${num(b.women)}</th><th class="num">${num(b.men)}</th>
    <th class="num" data-figure="beneficiaries.registered" data-value="${b.registered}">${num(b.registered)}</th><th></th></tr></tfoot></table>`;
}

function breakdowns(i) {
  const b = i.beneficiaries;
  // Shares come from the core, rounded as on paper.
  const table = (title, list, label) => `<div><h3 data-i18n="${title}"></h3><table class="figures"><tbody>
    ${list.map((c) => `<tr><td>${esc(c.code === null ? t('report.not_recorded') : label(c.code))}</td>
      <td class="num">${num(c.count)}</td><td class="num">${pct(c.share)}</td></tr>`).join('')
    || `<tr><td class="muted">${esc(t('report.no_data'))}</td></tr>`}</tbody></table></div>`;
  return `<div class="breakdowns">
    ${table('report.by_country', b.by_country, (c) => t(`country.${c}`))}
    ${table('report.by_phase', b.by_phase, (c) => codeLabel('phase', c))}
    ${table('report.by_sector', b.by_sector, (c) => codeLabel('sector', c))}
    ${table('report.by_cohort', b.by_cohort, (c) => c)}
    ${table('report.by_age', b.by_age || [], (c) => t('report.age_group', { group: c }))}
  </div>`;
}

function funnel(i) {
  const max = Math.max(1, ...i.iga.funnel.map((s) => s.people));
  const rows = i.iga.funnel.map((s) => `<li data-stage="${esc(s.kind)}"><span class="stage-name">${esc(codeLabel('milestone', s.kind))}</span>
    <span class="hbar${s.kind === 'iga_stopped' ? ' stopped' : ''}"><span style="inline-size:${((s.people / max) * 100).toFixed(1)}%"></span></span>
    <span class="num" data-figure="iga.funnel.${esc(s.kind)}" data-value="${s.people}">${num(s.people)}</span></li>`);
  return `<h2 data-i18n="report.iga_funnel"></h2><p class="muted" data-i18n="report.iga_funnel_intro"></p><ol class="funnel">${rows.join('')}</ol>`;
}

function months(i) {
  const list = i.coaching.visits_per_month;
  if (!list.length) return `<h2 data-i18n="report.visits_per_month"></h2><p class="muted" data-i18n="report.no_data"></p>`;
  const max = Math.max(1, ...list.map((m) => m.visits));
  const bars = list.map((m) => `<div class="month" title="${esc(`${m.month.slice(5)}/${m.month.slice(0, 4)} : ${m.visits}`)}">
    <span class="vbar" style="block-size:${((m.visits / max) * 100).toFixed(1)}%"></span>
    <span class="month-label">${esc(`${m.month.slice(5)}/${m.month.slice(2, 4)}`)}</span></div>`);
  return `<h2 data-i18n="report.visits_per_month"></h2><div class="months" role="img"
    aria-label="${esc(tn('report.visits_chart_note', i.coaching.visits, { n: num(i.coaching.visits) }))}">${bars.join('')}</div>
    <p class="muted">${esc(tn('report.visits_chart_note', i.coaching.visits, { n: num(i.coaching.visits) }))}</p>`;
}

function dataStatus(i) {
  const d = i.data_status;
  const rows = d.devices.map((x) => `<tr><td>${esc(x.name)}${x.this_device ? ` <span class="muted">${esc(t('report.this_device'))}</span>` : ''}</td>
    <td>${esc(x.coordinator)}</td><td>${esc(x.last_bundle_at ? formatInstant(x.last_bundle_at) : '—')}</td>
    <td>${esc(x.last_change_at ? formatInstant(x.last_change_at) : '—')}</td><td class="num">${num(x.changes)}</td></tr>`);
  const open = (n) => (n === null ? t('report.not_available') : num(n));
  return `<h2 data-i18n="report.data_status"></h2><p class="muted" data-i18n="report.data_status_intro"></p>
    <table class="figures"><thead><tr><th data-i18n="report.device"></th><th data-i18n="report.coordinator"></th>
    <th data-i18n="report.last_bundle"></th><th data-i18n="report.last_change"></th><th class="num" data-i18n="report.changes"></th></tr></thead>
    <tbody>${rows.join('')}</tbody></table>
    <dl class="facts card">
      ${fig('data_status.open_conflicts', t('report.open_conflicts'), open(d.open_conflicts), d.open_conflicts)}
      ${fig('data_status.open_duplicates', t('report.open_duplicates'), open(d.open_duplicates), d.open_duplicates)}
      <dt>${esc(t('report.as_of'))}</dt><dd>${esc(formatDate(i.as_of))}</dd>
    </dl>`;
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
