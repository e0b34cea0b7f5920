// Targets and exports: the results framework (a target per indicator, for
// the programme or a region; the core checks and logs each, so targets
// travel with bundles), and the CSV / XLSX exports of the records, plain or
// pseudonymised, saved where a person chooses (save.js).

import * as api from '../api.js';
import { renderForm, readForm, showErrors } from '../form.js';
import { applyTranslations, errorText, formatInstant, t } from '../i18n.js';
import { offerSave, peopleHtml } from '../save.js';
import { el, esc, may, regionOptions, toast } from '../state.js';

const INDICATORS = [
  'beneficiaries_registered',
  'women_registered',
  'share_with_visit',
  'share_financial_education',
  'iga_launched',
  'iga_sustained_12_months',
  'share_sustained_of_launched',
  'financing_obtained_total',
];

const SPEC = [
  { name: 'indicator', type: 'select', required: true, options: INDICATORS.map((i) => ({ value: i, key: `indicator.${i}` })) },
  { name: 'region', type: 'select', options: regionOptions() },
  { name: 'baseline', type: 'text', attrs: { inputmode: 'decimal' } },
  { name: 'target', type: 'text', required: true, attrs: { inputmode: 'decimal' } },
];

export async function render(main) {
  const view = el(`<section class="reports">
    <h1 data-i18n="targets.title"></h1>
    <p class="muted" data-i18n="targets.intro"></p>
    <div class="card">
      <table id="targets-table" class="figures"><thead><tr>
        <th data-i18n="field.indicator"></th><th data-i18n="field.region"></th>
        <th class="num" data-i18n="field.baseline"></th><th class="num" data-i18n="field.target"></th><th></th>
      </tr></thead><tbody></tbody></table>
      <p id="targets-empty" class="muted" data-i18n="targets.empty" hidden></p>
    </div>
    <div class="card" id="target-card"><p class="muted" data-i18n="targets.hint"></p><form id="target-form"></form></div>
    <h2 data-i18n="export.title" id="export-title"></h2>
    <div class="card" id="export-card">
      <p class="muted" data-i18n="export.intro"></p>
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
  const actions = renderForm(form, SPEC, {});
  actions.append(el('<button type="submit" class="primary" id="target-save" data-i18n="targets.save"></button>'));
  // Targets and exports are the manager's (docs/access.md); the list of
  // targets is everyone's.
  view.querySelector('#target-card').hidden = !may('set_targets');
  view.querySelector('#export-title').hidden = !may('export_data');
  view.querySelector('#export-card').hidden = !may('export_data');
  applyTranslations(view);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.setTarget(readForm(form, SPEC));
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
      write: (path) => api.exportData(format, pseudonymised(), path),
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
      data-region="${esc(x.region || '')}" data-baseline="${esc(x.baseline || '')}" data-target="${esc(x.target)}">
    <td>${esc(t(`indicator.${x.indicator}`))}</td><td>${esc(x.region ? t(`region.${x.region}`) : t('targets.programme'))}</td>
    <td class="num">${esc(x.baseline ?? '—')}</td><td class="num">${esc(x.target)}</td>
    <td class="muted">${esc(formatInstant(x.created_at))}</td></tr>`).join('');
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
