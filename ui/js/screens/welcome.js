// First run: create the encrypted database (this laptop's name, who uses
// it, the first account and its passphrase), show the recovery key once,
// then offer demo data.

import * as api from '../api.js';
import { reloadInfo } from '../app.js';
import { renderForm, readForm, showErrors } from '../form.js';
import { applyTranslations, t } from '../i18n.js';
import { el, esc, navigate } from '../state.js';

const SPEC = [
  { name: 'device', label: 'welcome.device', required: true, wide: true, attrs: { autocomplete: 'off' } },
  { name: 'coordinator', label: 'welcome.coordinator', required: true, wide: true, attrs: { autocomplete: 'name' } },
  { name: 'account', label: 'session.account_name', required: true, attrs: { autocomplete: 'username' } },
  { name: 'passphrase', label: 'session.new_passphrase', type: 'password', required: true, attrs: { autocomplete: 'new-password' } },
  { name: 'passphrase_again', label: 'session.passphrase_again', type: 'password', required: true, attrs: { autocomplete: 'new-password' } },
  { name: 'demo', label: 'welcome.demo', type: 'checkbox', wide: true },
];

export function render(main) {
  const card = el(`<section class="card welcome">
    <h1 data-i18n="welcome.title"></h1>
    <p data-i18n="welcome.intro"></p>
    <p class="hint" data-i18n="session.passphrase_hint"></p>
    <form id="welcome-form"></form>
  </section>`);
  main.append(card);
  const form = card.querySelector('form');
  const actions = renderForm(form, SPEC, { demo: false });
  const submit = el('<button type="submit" class="primary" id="welcome-start" data-i18n="welcome.start"></button>');
  actions.append(submit);
  applyTranslations(card);
  // The account is named after the coordinator unless typed otherwise.
  const account = form.elements.account;
  form.elements.coordinator.addEventListener('input', () => {
    if (!account.dataset.typed) account.value = form.elements.coordinator.value;
  });
  account.addEventListener('input', () => (account.dataset.typed = 'true'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = readForm(form, SPEC);
    submit.disabled = true;
    try {
      const made = await api.setupDatabase({
        device: v.device || '',
        coordinator: v.coordinator || '',
        account: v.account || '',
        passphrase: form.elements.passphrase.value,
        passphraseAgain: form.elements.passphrase_again.value,
      });
      form.elements.passphrase.value = '';
      form.elements.passphrase_again.value = '';
      showRecoveryKey(main, made.recovery_key, Boolean(v.demo));
    } catch (err) {
      showErrors(form, err);
      submit.disabled = false;
    }
  });
  form.elements.device.focus();
}

/** The recovery key, once: to print or copy by hand, then confirmed. */
function showRecoveryKey(main, key, demo) {
  main.innerHTML = '';
  const card = el(`<section class="card welcome recovery">
    <h1 data-i18n="session.recovery_title"></h1>
    <p data-i18n="session.recovery_intro"></p>
    <p class="recovery-key" id="recovery-key"><bdi dir="ltr">${esc(key)}</bdi></p>
    <p class="hint" data-i18n="session.recovery_where"></p>
    <div class="actions">
      <button type="button" id="recovery-print" data-i18n="session.recovery_print"></button>
    </div>
    <div class="field checkbox">
      <input type="checkbox" id="recovery-kept">
      <label for="recovery-kept" data-i18n="session.recovery_kept"></label>
    </div>
    <div class="actions">
      <button type="button" class="primary" id="recovery-continue" disabled data-i18n="session.continue"></button>
    </div>
  </section>`);
  main.append(card);
  applyTranslations(card);
  const go = card.querySelector('#recovery-continue');
  card.querySelector('#recovery-print').addEventListener('click', () => window.print());
  card.querySelector('#recovery-kept').addEventListener('change', (e) => (go.disabled = !e.target.checked));
  go.addEventListener('click', async () => {
    go.disabled = true;
    if (demo) {
      // Made-up people live in the practice database, never in the real one.
      go.textContent = t('welcome.loading_demo');
      await api.openPractice();
      await api.loadDemo(300);
    }
    card.querySelector('#recovery-key').textContent = '';
    await reloadInfo();
    navigate('#/beneficiaries');
  });
  go.focus();
}
