// Registration and editing of a person. Before a new registration is saved,
// the core is asked for likely duplicates (same CIN, same phone, similar name
// with the same birth date or commune); the coordinator can open one of them
// or save anyway.

import * as api from '../api.js';
import { applyTranslations, codeLabel, formatBirth, t } from '../i18n.js';
import { renderForm, readForm, showErrors, clearErrors } from '../form.js';
import { loadKinds, recordSpec } from '../records.js';
import { app, codeOptions, countryOptions, el, esc, navigate, provinceOptions, regionOptions, toast } from '../state.js';

/** Countries people come from besides Morocco (crates/core/src/reference.rs ORIGIN_COUNTRIES), then the destinations. */
const ORIGINS = ['MR', 'CV', 'SN', 'ML', 'TN', 'DZ'];
/** Code lists the window's app_info does not carry yet (crates/core/src/codes.rs). */
const CASE_STATUS = ['active', 'abroad', 'graduated', 'dropped_out', 'moved_away'];
const ID_DOC_TYPES = ['passport', 'national_id', 'residence_permit', 'other'];
const WG = ['wg_seeing', 'wg_hearing', 'wg_walking', 'wg_cognition', 'wg_selfcare', 'wg_communication'];

function listOf(name, fallback) {
  return (app.info.codes && app.info.codes[name]) || fallback;
}

function originCodes() {
  const given = app.info.origin_countries && app.info.origin_countries.map((c) => c.code);
  const all = [...(given || ORIGINS), ...app.info.countries.map((c) => c.code)];
  return [...new Set(all)].filter((c) => c !== 'MA');
}

const options = (codes, list) => codes.map((c) => ({ value: c, key: `code.${list}.${c}` }));

/** The groups of the form: the situation and the income always shown; origin and disability folded away unless filled. */
export const GROUPS = {
  origin: { label: 'register.group.origin', collapsible: true },
  situation: { label: 'register.group.situation' },
  disability: { label: 'register.group.disability', collapsible: true },
  income: { label: 'register.group.income' },
};

export function beneficiarySpec(region) {
  const yesNo = [{ value: 'true', key: 'programme.yes' }, { value: 'false', key: 'programme.no' }];
  return [
    { name: 'first_name', required: true, attrs: { autocomplete: 'off' } },
    { name: 'last_name', required: true, attrs: { autocomplete: 'off' } },
    { name: 'name_ar', attrs: { dir: 'rtl', lang: 'ar', autocomplete: 'off' } },
    { name: 'sex', type: 'select', required: true, options: codeOptions('sex') },
    { name: 'birth_date', type: 'date', required: true, approx: 'birth_date_approx' },
    { name: 'birth_date_approx', type: 'checkbox' },
    { name: 'cin', attrs: { autocomplete: 'off' } },
    { name: 'phone', type: 'tel', attrs: { dir: 'ltr' } },
    { name: 'region', type: 'select', required: true, options: regionOptions() },
    { name: 'province', type: 'select', options: provinceOptions(region) },
    { name: 'commune' },
    { name: 'douar' },
    // Someone from another country: Moroccan rules (CIN, number, region) are not hers.
    { name: 'country_of_origin', group: 'origin', type: 'select', blank: 'register.morocco',
      options: originCodes().map((c) => ({ value: c, key: `country.${c}` })) },
    { name: 'nationality', group: 'origin', type: 'select',
      options: ['MA', ...originCodes()].map((c) => ({ value: c, key: `country.${c}` })) },
    { name: 'id_doc_type', group: 'origin', type: 'select', options: options(listOf('id_doc_type', ID_DOC_TYPES), 'id_doc_type') },
    { name: 'id_doc_number', group: 'origin', attrs: { autocomplete: 'off', dir: 'ltr', maxlength: '30' } },
    { name: 'destination_country', type: 'select', options: countryOptions() },
    { name: 'seasons_abroad', type: 'number', attrs: { min: '0', max: '60' } },
    { name: 'phase', type: 'select', required: true, options: codeOptions('phase') },
    { name: 'iga_sector', type: 'select', options: codeOptions('sector') },
    { name: 'cohort' },
    { name: 'consent_date', type: 'date' },
    // Where her case stands: none is "active", the blank choice.
    { name: 'status', group: 'situation', type: 'select', blank: 'code.case_status.active',
      options: options(listOf('case_status', CASE_STATUS).filter((c) => c !== 'active'), 'case_status') },
    { name: 'status_date', group: 'situation', type: 'date' },
    { name: 'status_reason', group: 'situation', wide: true, attrs: { maxlength: '500' } },
    // Her monthly income when she registers: the baseline of the income indicators.
    { name: 'baseline_income', group: 'income', attrs: { inputmode: 'decimal', autocomplete: 'off', dir: 'ltr' } },
    // The Washington Group's six questions, else a yes/no.
    ...WG.map((name) => ({ name, group: 'disability', type: 'select', numeric: true,
      options: [1, 2, 3, 4].map((n) => ({ value: String(n), key: `code.wg.${n}` })) })),
    { name: 'disability', group: 'disability', type: 'select', boolean: true, options: yesNo },
    { name: 'notes', type: 'textarea', wide: true },
    { name: 'consent', type: 'checkbox', wide: true, label: 'field.consent_statement' },
  ];
}

/** Where the form puts some of the questions the core declares alone (their group, their width). */
const PLACES = {
  responsible: { group: 'situation' },
  place_abroad: { group: 'origin', wide: true },
};

/**
 * The form with the person's questions the core declares alone
 * (crates/core/src/beneficiary.rs, fields marked `answer`): each entry
 * follows its declared type (records.js), in its group where PLACES
 * says, else after the other questions, before the notes. A question
 * added to the declaration is asked with nothing to change here.
 */
function withDeclaredQuestions(spec, region) {
  const placed = new Set(spec.map((f) => f.name));
  const decl = declared && declared.beneficiary;
  if (!decl) return spec;
  const omit = decl.fields.filter((f) => !f.answer || placed.has(f.name)).map((f) => f.name);
  const asked = recordSpec('beneficiary', { omit, region }).map((f) => ({ ...f, ...(PLACES[f.name] || {}) }));
  const at = spec.findIndex((f) => f.name === 'notes');
  return [...spec.slice(0, at), ...asked, ...spec.slice(at)];
}

/** The core's declarations, read once (records.js). */
let declared = null;

/** Whether the form is about a Moroccan: no country of origin, or Morocco. */
function moroccan(form) {
  const c = form.elements.country_of_origin.value;
  return !c || c === 'MA';
}

/**
 * What applies follows her country of origin and her status, in place:
 * the CIN is for Moroccans (hidden and not sent otherwise); "Hors du Maroc"
 * is offered to others (and kept in sight while chosen, so that the core
 * can say why it is refused); the date and reason of a status other than
 * active.
 */
function wireRules(form) {
  const cin = form.elements.cin;
  const region = form.elements.region;
  const status = form.elements.status;
  const outside = [...region.options].find((o) => o.value === OUTSIDE_MOROCCO);
  const origin = () => {
    const here = moroccan(form);
    cin.disabled = !here;
    cin.closest('.field').hidden = !here;
    if (outside) {
      const offered = !here || region.value === OUTSIDE_MOROCCO;
      outside.hidden = !offered;
      outside.disabled = !offered;
    }
  };
  const situation = () => {
    const active = !status.value;
    for (const name of ['status_date', 'status_reason']) {
      const input = form.elements[name];
      input.disabled = active;
      input.closest('.field').hidden = active;
    }
    form.querySelector('label[for="f-status_reason"]').classList.toggle('req', status.value === 'dropped_out');
  };
  form.elements.country_of_origin.addEventListener('change', origin);
  region.addEventListener('change', origin);
  status.addEventListener('change', situation);
  origin();
  situation();
}

/** The region code of people living outside Morocco (reference.rs OUTSIDE_MOROCCO). */
const OUTSIDE_MOROCCO = '00';

/** `#/register` registers; `#/register/<id>` edits that person. */
export async function render(main, id) {
  const editing = Boolean(id);
  const current = editing ? (await api.profile(id)).beneficiary : null;
  declared = await loadKinds();
  const values = current ? { ...current } : { phase: 'pre_departure', consent: false };
  // Active is the blank choice; said so explicitly, it stays so unless changed.
  const statusWas = values.status;
  if (values.status === 'active') delete values.status;
  const view = el(`<section>
    <h1 data-i18n="${editing ? 'register.edit_title' : 'register.title'}"></h1>
    <div id="duplicates" class="card dup-warning" hidden role="alert"></div>
    <form id="beneficiary-form" class="card"></form>
  </section>`);
  main.append(view);
  const form = view.querySelector('form');
  let spec = withDeclaredQuestions(beneficiarySpec(values.region), values.region);
  const build = (vals) => {
    const actions = renderForm(form, spec, vals, GROUPS);
    actions.append(el(`<button type="submit" class="primary" id="save" data-i18n="form.save"></button>`));
    actions.append(el(`<a class="button" href="${editing ? `#/profile/${esc(id)}` : '#/beneficiaries'}" data-i18n="form.cancel"></a>`));
    applyTranslations(form);
    // The provinces follow the region in place: the form is not rebuilt,
    // so the region list keeps the focus and its arrow keys.
    form.elements.region.addEventListener('change', () => {
      spec = withDeclaredQuestions(beneficiarySpec(form.elements.region.value), form.elements.region.value);
      const province = form.elements.province;
      province.innerHTML = '';
      const blank = el('<option value="" data-i18n="form.none"></option>');
      province.append(blank, ...provinceOptions(form.elements.region.value).map((o) => {
        const opt = document.createElement('option');
        opt.value = o.value;
        opt.dataset.i18n = o.key;
        return opt;
      }));
      applyTranslations(province);
    });
    wireRules(form);
  };
  build(values);
  let confirmedDuplicates = false;
  form.addEventListener('input', () => (confirmedDuplicates = false));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = readForm(form, spec);
    clearErrors(form);
    try {
      if (editing) {
        const patch = {};
        for (const f of spec) patch[f.name] = input[f.name] ?? null;
        if (statusWas === 'active' && patch.status === null) patch.status = 'active';
        await api.updateBeneficiary(id, patch);
        toast(t('register.updated'));
        navigate(`#/profile/${id}`);
        return;
      }
      if (!confirmedDuplicates) {
        // Every problem at once: the fields, a CIN already used (whose),
        // and the possible duplicates; "save anyway" only where saving
        // would be accepted.
        const [problems, matches] = await Promise.all([
          api.checkBeneficiary(input).then(() => null, (err) => err),
          api.possibleDuplicates(input).catch(() => []),
        ]);
        const box = view.querySelector('#duplicates');
        box.hidden = true;
        if (problems) showErrors(form, problems);
        if (matches.length) {
          showDuplicates(box, matches, problems ? null : () => {
            confirmedDuplicates = true;
            form.requestSubmit();
          });
        }
        if (problems || matches.length) return;
      }
      const saved = await api.addBeneficiary(input);
      toast(t('register.saved', { name: `${saved.first_name} ${saved.last_name}` }));
      navigate(`#/profile/${saved.id}`);
    } catch (err) {
      showErrors(form, err);
    }
  });
  form.elements.first_name.focus();
}

function showDuplicates(box, matches, saveAnyway) {
  box.hidden = false;
  box.innerHTML = `<h2 data-i18n="dup.title"></h2><p data-i18n="dup.intro"></p>
    <ul>${matches.map((m) => `<li class="dup-match">
      <a href="#/profile/${esc(m.id)}">${esc(m.first_name)} ${esc(m.last_name)}</a>
      ${m.name_ar ? `<span class="arabic">${esc(m.name_ar)}</span>` : ''}
      — <bdi>${esc(formatBirth(m))}</bdi>, ${esc(m.commune || '')} ${esc(m.cin || '')}
      <span class="muted">(${m.reasons.map((r) => esc(t(`dup.reason.${r}`))).join(', ')})</span></li>`).join('')}</ul>
    ${saveAnyway ? '<div class="row"><button type="button" id="save-anyway" data-i18n="dup.save_anyway"></button></div>' : ''}`;
  applyTranslations(box);
  if (saveAnyway) {
    box.querySelector('#save-anyway').addEventListener('click', () => {
      box.hidden = true;
      saveAnyway();
    });
    box.querySelector('a').focus();
  }
}

export function onLanguageChange() {}
