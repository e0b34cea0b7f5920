// First run: name this laptop and its coordinator, then offer demo data.

import * as api from '../api.js';
import { reloadInfo } from '../app.js';
import { renderForm, readForm, showErrors } from '../form.js';
import { applyTranslations, t } from '../i18n.js';
import { el, navigate } from '../state.js';

const SPEC = [
  { name: 'device', label: 'welcome.device', required: true, wide: true, attrs: { autocomplete: 'off' } },
  { name: 'coordinator', label: 'welcome.coordinator', required: true, wide: true, attrs: { autocomplete: 'name' } },
  { name: 'demo', label: 'welcome.demo', type: 'checkbox', wide: true },
];

export function render(main) {
  const card = el(`<section class="card welcome">
    <h1 data-i18n="welcome.title"></h1>
    <p data-i18n="welcome.intro"></p>
    <form id="welcome-form"></form>
  </section>`);
  main.append(card);
  const form = card.querySelector('form');
  const actions = renderForm(form, SPEC, { demo: false });
  const submit = el('<button type="submit" class="primary" id="welcome-start" data-i18n="welcome.start"></button>');
  actions.append(submit);
  applyTranslations(card);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = readForm(form, SPEC);
    submit.disabled = true;
    try {
      await api.initDevice(values.device || '', values.coordinator || '');
      if (values.demo) {
        submit.textContent = t('welcome.loading_demo');
        await api.loadDemo(300);
      }
      await reloadInfo();
      navigate('#/beneficiaries');
    } catch (err) {
      showErrors(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  form.elements.device.focus();
}
