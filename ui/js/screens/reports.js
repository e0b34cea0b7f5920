// Targets and exports: the results framework (a target per indicator, for
// the programme or a region, the end of the project or one calendar year,
// everyone or women or men; the core checks and logs each, so targets
// travel with bundles), the report for donors (the summary PDF with the
// manager's narrative typed here, checked by the core), and the CSV / XLSX
// exports of the records, plain or pseudonymised, of the period, region,
// cohort, sex, age group and disability chosen (all by default), labels in
// the language chosen, saved where a person chooses (save.js).

import * as api from '../api.js';
import { clearErrors, renderForm, readForm, showErrors } from '../form.js';
import { applyTranslations, currentLang, errorText, formatInstant, pluralKey, t } from '../i18n.js';
import { offerSave, peopleHtml, tHtml } from '../save.js';
import { app, codeOptions, el, esc, may, regionOptions, toast } from '../state.js';

// The indicators a target can be set for: the core's list (app_info).
const indicators = () => app.info.target_indicators || [];

// A period target's calendar year: from the programme's first, to a few
// years ahead (the core takes 2020 to 2100); none: the end of the project.
const targetYears = () => {
  const last = Math.max(new Date().getFullYear() + 5, 2030);
  return Array.from({ length: last - 2019 }, (_, n) => String(2020 + n)).map((y) => ({ value: y, text: y }));
};

const spec = () => [
  { name: 'indicator', type: 'select', required: true, options: indicators().map((i) => ({ value: i, key: `indicator.${i}` })) },
  { name: 'region', type: 'select', options: regionOptions() },
  { name: 'year', label: 'targets.year', type: 'select', options: targetYears(), blank: 'targets.end_of_project', numeric: true },
  { name: 'sex', type: 'select', options: codeOptions('sex'), blank: 'filter.all_sexes' },
  { name: 'baseline', type: 'text', attrs: { inputmode: 'decimal' } },
  { name: 'target', type: 'text', required: true, attrs: { inputmode: 'decimal' } },
];

// The donor report: its period and region as on the dashboard, its
// language, and the narrative printed on its first page (the core refuses
// more than 3,000 characters or control characters, beside the field).
const NARRATIVE_MAX = 3000;
const DONOR_SPEC = [
  { name: 'from', type: 'date' },
  { name: 'to', type: 'date' },
  { name: 'region', type: 'select', options: regionOptions() },
  { name: 'narrative', type: 'textarea', attrs: { maxlength: String(NARRATIVE_MAX) } },
];
let donorDraft = {}; // kept while the app runs: a change of language redraws the screen

// What an export covers: the core's ExportOptions (the dashboard's filters,
// and the age group and disability it takes too), everything by default;
// the workbook's labels in the language chosen beside them.
const AGE_GROUPS = ['15-24', '25-34', '35-44', '45+'];
const EXPORT_SPEC = () => [
  { name: 'from', id: 'export-from', type: 'date' },
  { name: 'to', id: 'export-to', type: 'date' },
  { name: 'region', id: 'export-region', type: 'select', options: regionOptions(), blank: 'filter.all_regions' },
  { name: 'cohort', id: 'export-cohort', attrs: { maxlength: '40' } },
  { name: 'sex', id: 'export-sex', type: 'select', options: codeOptions('sex'), blank: 'filter.all_sexes' },
  { name: 'age_group', id: 'export-age_group', type: 'select', blank: 'export.all_ages',
    options: AGE_GROUPS.map((g) => ({ value: g, text: t('report.age_group', { group: g }) })) },
  { name: 'disability', id: 'export-disability', label: 'export.disability', type: 'select', blank: 'export.all_disability',
    options: ['yes', 'no', 'not_asked'].map((c) => ({ value: c, key: `dash.results.disability.${c}` })) },
];
let exportDraft = {}; // its filters and language, kept like the donor report's

export async function render(main) {
  const view = el(`<section class="reports">
    <h1 data-i18n="targets.title"></h1>
    <p class="muted" data-i18n="targets.intro"></p>
    <div class="card">
      <table id="targets-table" class="figures"><thead><tr>
        <th data-i18n="field.indicator"></th><th data-i18n="field.region"></th>
        <th data-i18n="targets.year"></th><th data-i18n="field.sex"></th>
        <th class="num" data-i18n="field.baseline"></th><th class="num" data-i18n="field.target"></th><th></th>
      </tr></thead><tbody></tbody></table>
      <p id="targets-empty" class="muted" data-i18n="targets.empty" hidden></p>
    </div>
    <div class="card" id="target-card"><p class="muted" data-i18n="targets.hint"></p><form id="target-form"></form></div>
    <h2 data-i18n="report.narrative_title" id="donor-title"></h2>
    <div class="card" id="donor-card">
      <p class="muted" data-i18n="report.narrative_intro"></p>
      <form id="donor-form"></form>
      <p class="muted" id="donor-count" aria-live="polite"></p>
      <div class="row print-row">
        <label for="donor-lang" data-i18n="field.lang"></label>
        <select id="donor-lang">
          <option value="fr">Français</option><option value="ar">العربية</option><option value="en">English</option>
        </select>
        <button type="button" class="primary" id="donor-print" data-i18n="report.print_donor"></button>
      </div>
      <div id="donor-result" aria-live="polite"></div>
    </div>
    <h2 data-i18n="export.title" id="export-title"></h2>
    <div class="card" id="export-card">
      <p class="muted" data-i18n="export.intro"></p>
      <p class="muted" data-i18n="export.codebook"></p>
      <h3 data-i18n="export.filters" id="export-filters-title"></h3>
      <form id="export-filters" aria-labelledby="export-filters-title"></form>
      <div class="row print-row">
        <label for="export-lang" data-i18n="export.lang"></label>
        <select id="export-lang">
          <option value="fr">Français</option><option value="ar">العربية</option><option value="en">English</option>
        </select>
      </div>
      <p><label class="checkbox-inline"><input type="checkbox" id="export-pseudonymise">
        <span data-i18n="export.pseudonymise"></span></label></p>
      <div class="row">
        <button type="button" id="export-csv" data-i18n="export.csv"></button>
        <button type="button" id="export-xlsx" data-i18n="export.xlsx"></button>
      </div>
      <div id="export-result" aria-live="polite"></div>
    </div>
  </section>`);
  main.append(view);
  const form = view.querySelector('form');
  const actions = renderForm(form, spec(), {});
  actions.append(el('<button type="submit" class="primary" id="target-save" data-i18n="targets.save"></button>'));
  // Targets and exports are the manager's (docs/access.md); the list of
  // targets is everyone's.
  view.querySelector('#target-card').hidden = !may('set_targets');
  view.querySelector('#export-title').hidden = !may('export_data');
  view.querySelector('#export-card').hidden = !may('export_data');
  view.querySelector('#donor-title').hidden = !may('print_report');
  view.querySelector('#donor-card').hidden = !may('print_report');
  const donor = view.querySelector('#donor-form');
  renderForm(donor, DONOR_SPEC, donorDraft);
  const narrative = donor.elements.narrative;
  narrative.rows = 8;
  const count = () => {
    view.querySelector('#donor-count').textContent = `${narrative.value.length} / ${NARRATIVE_MAX}`;
  };
  narrative.addEventListener('input', count);
  count();
  donor.addEventListener('input', () => { donorDraft = readForm(donor, DONOR_SPEC); });
  view.querySelector('#donor-lang').value = currentLang();
  const exportForm = view.querySelector('#export-filters');
  renderForm(exportForm, EXPORT_SPEC(), exportDraft);
  const exportLang = view.querySelector('#export-lang');
  exportLang.value = exportDraft.lang || currentLang();
  const keepExport = () => { exportDraft = { ...readForm(exportForm, EXPORT_SPEC()), lang: exportLang.value }; };
  exportForm.addEventListener('input', keepExport);
  exportForm.addEventListener('change', keepExport);
  exportLang.addEventListener('change', keepExport);
  applyTranslations(view);
  offerSave(view.querySelector('#donor-print'), {
    what: 'summary',
    ext: 'pdf',
    filter: 'save.pdf_files',
    out: view.querySelector('#donor-result'),
    before: () => { clearErrors(donor); },
    job: true,
    write: (path, job) => {
      const { narrative: text, ...filters } = readForm(donor, DONOR_SPEC);
      donorDraft = { ...filters, narrative: text };
      return api.printReport({ kind: 'summary', filters, lang: view.querySelector('#donor-lang').value, narrative: text || null }, path, job);
    },
    describe: (saved) => tHtml(pluralKey('save.pdf_pages', saved.pages), { n: saved.pages }),
    failed: (err) => err && err.fields && err.fields.length && showErrors(donor, err),
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.setTarget(readForm(form, spec()));
      toast(t('targets.saved'));
      form.elements.baseline.value = '';
      form.elements.target.value = '';
      await loadTargets(view);
    } catch (err) {
      showErrors(form, err);
    }
  });
  view.querySelector('#targets-table tbody').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-indicator]');
    if (!tr) return;
    // Editing a row: its values go back into the form.
    form.elements.indicator.value = tr.dataset.indicator;
    form.elements.region.value = tr.dataset.region || '';
    form.elements.year.value = tr.dataset.year || '';
    form.elements.sex.value = tr.dataset.sex || '';
    form.elements.baseline.value = tr.dataset.baseline || '';
    form.elements.target.value = tr.dataset.target;
    form.elements.target.focus();
  });
  for (const format of ['csv', 'xlsx']) {
    const pseudonymised = () => view.querySelector('#export-pseudonymise').checked;
    offerSave(view.querySelector(`#export-${format}`), {
      // A folder of CSV files, or one workbook.
      get what() { return pseudonymised() ? 'export-pseudonymised' : 'export'; },
      ext: format === 'xlsx' ? 'xlsx' : null,
      filter: 'save.xlsx_files',
      out: view.querySelector('#export-result'),
      before: () => { clearErrors(exportForm); },
      job: true,
      write: (path, job) => api.exportData(format, pseudonymised(), path, { filters: readForm(exportForm, EXPORT_SPEC()), lang: exportLang.value }, job),
      failed: (err) => err && err.fields && err.fields.length && showErrors(exportForm, err),
      describe: (summary) => peopleHtml(summary),
    });
  }
  await loadTargets(view);
}

async function loadTargets(view) {
  let targets;
  try {
    targets = await api.listTargets();
  } catch (err) {
    view.querySelector('#targets-empty').hidden = false;
    view.querySelector('#targets-empty').textContent = errorText(err);
    return;
  }
  view.querySelector('#targets-empty').hidden = targets.length > 0;
  view.querySelector('#targets-table tbody').innerHTML = targets.map((x) => `<tr data-indicator="${esc(x.indicator)}"
      data-region="${esc(x.region || '')}" data-year="${esc(x.year ?? '')}" data-sex="${esc(x.sex || '')}"
      data-baseline="${esc(x.baseline || '')}" data-target="${esc(x.target)}">
    <td>${esc(t(`indicator.${x.indicator}`))}</td><td>${esc(x.region ? t(`region.${x.region}`) : t('targets.programme'))}</td>
    <td>${esc(x.year ? String(x.year) : t('targets.end_of_project'))}</td>
    <td>${esc(x.sex ? t(`code.sex.${x.sex}`) : t('filter.all_sexes'))}</td>
    <td class="num">${esc(x.baseline ?? '—')}</td><td class="num">${esc(x.target)}</td>
    <td class="muted">${esc(formatInstant(x.created_at))}</td></tr>`).join('');
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
