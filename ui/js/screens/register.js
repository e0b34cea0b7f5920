// Registration and editing of a person. Before a new registration is saved,
// the core is asked for likely duplicates (same CIN, same phone, similar name
// with the same birth date or commune); the coordinator can open one of them
// or save anyway.

import * as api from '../api.js';
import { applyTranslations, codeLabel, formatBirth, t } from '../i18n.js';
import { renderForm, readForm, showErrors, clearErrors } from '../form.js';
import { app, codeOptions, countryOptions, el, esc, navigate, provinceOptions, regionOptions, toast } from '../state.js';

export function beneficiarySpec(region) {
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
    { name: 'destination_country', type: 'select', options: countryOptions() },
    { name: 'seasons_abroad', type: 'number', attrs: { min: '0', max: '60' } },
    { name: 'phase', type: 'select', required: true, options: codeOptions('phase') },
    { name: 'iga_sector', type: 'select', options: codeOptions('sector') },
    { name: 'cohort' },
    { name: 'consent_date', type: 'date' },
    { name: 'notes', type: 'textarea', wide: true },
    { name: 'consent', type: 'checkbox', wide: true, label: 'field.consent_statement' },
  ];
}

/** `#/register` registers; `#/register/<id>` edits that person. */
export async function render(main, id) {
  const editing = Boolean(id);
  const current = editing ? (await api.profile(id)).beneficiary : null;
  const values = current ? { ...current } : { phase: 'pre_departure', consent: false };
  const view = el(`<section>
    <h1 data-i18n="${editing ? 'register.edit_title' : 'register.title'}"></h1>
    <div id="duplicates" class="card dup-warning" hidden role="alert"></div>
    <form id="beneficiary-form" class="card"></form>
  </section>`);
  main.append(view);
  const form = view.querySelector('form');
  let spec = beneficiarySpec(values.region);
  const build = (vals) => {
    const actions = renderForm(form, spec, vals);
    actions.append(el(`<button type="submit" class="primary" id="save" data-i18n="form.save"></button>`));
    actions.append(el(`<a class="button" href="${editing ? `#/profile/${esc(id)}` : '#/beneficiaries'}" data-i18n="form.cancel"></a>`));
    applyTranslations(form);
    // The provinces follow the region in place: the form is not rebuilt,
    // so the region list keeps the focus and its arrow keys.
    form.elements.region.addEventListener('change', () => {
      spec = beneficiarySpec(form.elements.region.value);
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
