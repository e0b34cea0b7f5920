// The locked database: an account's passphrase opens it; a lost
// passphrase is replaced with the recovery key.

import * as api from '../api.js';
import { reloadInfo } from '../app.js';
import { renderForm, showErrors } from '../form.js';
import { applyTranslations } from '../i18n.js';
import { el, navigate } from '../state.js';

/** session: from `session_status` ({database, accounts}). */
export function render(main, _arg, session) {
  const names = (session && session.accounts) || [];
  const card = el(`<section class="card welcome unlock">
    <h1 data-i18n="session.locked_title"></h1>
    <p data-i18n="session.locked_intro"></p>
    <form id="unlock-form"></form>
    <p><button type="button" class="link" id="unlock-lost" data-i18n="session.lost"></button></p>
  </section>`);
  main.append(card);
  const form = card.querySelector('form');
  const spec = [
    names.length > 1
      ? { name: 'user', label: 'session.account', type: 'select', required: true, wide: true, options: names.map((n) => ({ value: n, key: `__raw.${n}` })) }
      : { name: 'user', label: 'session.account', wide: true, attrs: { autocomplete: 'username' } },
    { name: 'passphrase', label: 'session.passphrase', type: 'password', required: true, wide: true, attrs: { autocomplete: 'current-password' } },
  ];
  const actions = renderForm(form, spec, { user: names.length === 1 ? names[0] : '' });
  const submit = el('<button type="submit" class="primary" id="unlock-submit" data-i18n="session.unlock"></button>');
  actions.append(submit);
  applyTranslations(card);
  rawOptions(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      performance.mark('unlock');
      await api.unlock(form.elements.user.value || null, form.elements.passphrase.value);
      performance.mark('unlocked');
      form.elements.passphrase.value = '';
      await opened();
    } catch (err) {
      form.elements.passphrase.value = '';
      showErrors(form, err);
      form.elements.passphrase.focus();
    } finally {
      submit.disabled = false;
    }
  });
  card.querySelector('#unlock-lost').addEventListener('click', () => {
    main.innerHTML = '';
    renderRecovery(main, names);
  });
  (names.length === 1 ? form.elements.passphrase : form.elements.user).focus();
}

/** Account names are shown as typed, not translated. */
function rawOptions(form) {
  form.querySelectorAll('option[data-i18n^="__raw."]').forEach((o) => {
    o.textContent = o.dataset.i18n.slice(6);
    delete o.dataset.i18n;
  });
}

function renderRecovery(main, names) {
  const card = el(`<section class="card welcome unlock">
    <h1 data-i18n="session.recover_title"></h1>
    <p data-i18n="session.recover_intro"></p>
    <form id="recover-form"></form>
  </section>`);
  main.append(card);
  const form = card.querySelector('form');
  const spec = [
    { name: 'recovery_key', label: 'session.recovery_key', required: true, wide: true, attrs: { autocomplete: 'off', dir: 'ltr', spellcheck: 'false' } },
    { name: 'user', label: 'session.account', required: true, wide: true, attrs: { autocomplete: 'username' } },
    { name: 'passphrase', label: 'session.new_passphrase', type: 'password', required: true, attrs: { autocomplete: 'new-password' } },
    { name: 'passphrase_again', label: 'session.passphrase_again', type: 'password', required: true, attrs: { autocomplete: 'new-password' } },
  ];
  const actions = renderForm(form, spec, { user: names.length === 1 ? names[0] : '' });
  const submit = el('<button type="submit" class="primary" id="recover-submit" data-i18n="session.recover"></button>');
  actions.append(submit);
  applyTranslations(card);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      await api.unlockWithRecoveryKey({
        recoveryKey: form.elements.recovery_key.value,
        user: form.elements.user.value,
        passphrase: form.elements.passphrase.value,
        passphraseAgain: form.elements.passphrase_again.value,
      });
      await opened();
    } catch (err) {
      showErrors(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  form.elements.recovery_key.focus();
}

async function opened() {
  await reloadInfo();
  performance.mark('info');
  const back = sessionStorage.getItem('wafira.before_lock');
  sessionStorage.removeItem('wafira.before_lock');
  navigate(back && back !== '#/unlock' ? back : '#/beneficiaries');
}

