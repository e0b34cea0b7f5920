// Settings and about: where the data lives, this laptop, the follow-up threshold.

import * as api from '../api.js';
import { reloadInfo, showLocked } from '../app.js';
import { renderForm, readForm, showErrors } from '../form.js';
import { applyTranslations, errorText, t, tn } from '../i18n.js';
import { app, el, esc, may, navigate, toast } from '../state.js';
import { loadKinds, loadPartners, partnerName, recordSpec, wireRegion, withdrawnHtml } from '../records.js';

const SPEC = [{ name: 'followup_days', label: 'settings.followup_days', type: 'number', attrs: { min: '1', max: '365' } }];

export function render(main) {
  const info = app.info;
  const card = el(`<section>
    <h1 data-i18n="settings.title"></h1>
    <div class="card">
      <h2 data-i18n="settings.about"></h2>
      <dl class="facts">
        <dt data-i18n="settings.database"></dt><dd><bdi dir="ltr"><code id="db-path">${esc(info.database)}</code></bdi></dd>
        <dt data-i18n="settings.schema"></dt><dd>${esc(info.schema_version)}</dd>
        <dt data-i18n="settings.device"></dt><dd id="device-name">${esc(info.device.name)}</dd>
        <dt data-i18n="settings.device_id"></dt><dd><code>${esc(info.device.id)}</code></dd>
        <dt data-i18n="settings.coordinator"></dt><dd id="coordinator-name"><bdi>${esc(info.device.coordinator)}</bdi></dd>
        <dt data-i18n="settings.version"></dt><dd id="app-version">${esc(info.version)}</dd>
      </dl>
    </div>
    <div class="card"><h2 data-i18n="settings.followups"></h2><form id="settings-form"></form></div>
    ${may('record') ? `<div class="card" id="coordinator-card"><h2 data-i18n="settings.rename_title"></h2>
      <p class="muted" data-i18n="settings.rename_intro"></p><form id="coordinator-form"></form></div>` : ''}
    <div class="card" id="practice-card"><h2 data-i18n="practice.title"></h2>
      <p data-i18n="${info.practice ? 'practice.here' : 'practice.intro'}"></p>
      <div class="row">
        <button type="button" id="practice-switch" data-i18n="${info.practice ? 'practice.leave' : 'practice.open'}"></button>
        <button type="button" id="practice-demo" data-i18n="practice.load" ${info.practice ? '' : 'hidden'}></button>
      </div>
    </div>
    <div class="card" id="security"><h2 data-i18n="session.security"></h2>
      <p id="signed-in"></p>
      <form id="lock-form"></form>
      <h3 data-i18n="session.change_passphrase"></h3>
      <form id="passphrase-form"></form>
    </div>
    <div class="card" id="partners-card"><h2 data-i18n="programme.partners"></h2>
      <p class="muted" data-i18n="programme.partners_intro"></p>
      <table class="list" id="partners-table"><thead><tr><th data-i18n="field.name"></th><th data-i18n="field.partner.kind"></th><th></th></tr></thead><tbody></tbody></table>
      <div id="partner-void" hidden></div>
      <div id="partners-withdrawn"></div>
      ${may('manage_reference') ? `<h3 data-i18n="programme.add_partner"></h3><form id="partner-form"></form>` : ''}
    </div>
    <div class="card" id="accounts-card" hidden><h2 data-i18n="session.accounts"></h2>
      <table class="list"><thead><tr><th data-i18n="field.name"></th><th data-i18n="session.role"></th></tr></thead><tbody id="accounts"></tbody></table>
      <h3 data-i18n="session.add_account"></h3>
      <form id="account-form"></form>
    </div>
  </section>`);
  main.append(card);
  const form = card.querySelector('form');
  const actions = renderForm(form, SPEC, { followup_days: info.followup_days });
  const save = el('<button type="submit" class="primary" data-i18n="form.save"></button>');
  actions.append(save);
  renderRename(card, info);
  applyTranslations(card);
  renderSecurity(card);
  renderPartners(card).catch((err) => toast(errorText(err)));
  card.querySelector('#practice-switch').addEventListener('click', async () => {
    try {
      if (info.practice) {
        await api.leavePractice();
        await showLocked();
      } else {
        await api.openPractice();
        await reloadInfo();
        navigate('#/beneficiaries');
      }
    } catch (err) {
      toast(errorText(err));
    }
  });
  card.querySelector('#practice-demo').addEventListener('click', async (e) => {
    e.target.disabled = true;
    try {
      const made = await api.loadDemo(300);
      toast(tn('practice.loaded', made.beneficiaries));
    } catch (err) {
      toast(errorText(err));
    } finally {
      e.target.disabled = false;
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.setFollowupDays(readForm(form, SPEC).followup_days ?? 0);
      await reloadInfo();
      toast(t('form.saved'));
    } catch (err) {
      showErrors(form, err);
    }
  });
}

const RENAME = [{ name: 'coordinator', label: 'settings.coordinator', required: true, attrs: { autocomplete: 'name' } }];

/** The name of who uses this laptop: changed here, it keeps its identity; the station learns it from the next bundle. */
function renderRename(card, info) {
  const form = card.querySelector('#coordinator-form');
  if (!form) return;
  renderForm(form, RENAME, { coordinator: info.device.coordinator })
    .append(el('<button type="submit" class="primary" id="coordinator-save" data-i18n="form.save"></button>'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.renameCoordinator(readForm(form, RENAME).coordinator ?? '');
      await reloadInfo();
      toast(t('settings.renamed'));
      const main = document.getElementById('main');
      main.innerHTML = '';
      render(main);
      document.getElementById('coordinator-save')?.focus();
    } catch (err) {
      showErrors(form, err);
    }
  });
}

const LOCK = [{ name: 'lock_minutes', label: 'session.lock_minutes', type: 'number', attrs: { min: '1', max: '120' } }];
const PASS = [
  { name: 'passphrase', label: 'session.new_passphrase', type: 'password', required: true, attrs: { autocomplete: 'new-password' } },
  { name: 'passphrase_again', label: 'session.passphrase_again', type: 'password', required: true, attrs: { autocomplete: 'new-password' } },
];
const ROLES = ['coordinator', 'assistant', 'manager'];
const ACCOUNT = [
  { name: 'name', label: 'field.name', required: true, attrs: { autocomplete: 'off' } },
  { name: 'role', label: 'session.role', type: 'select', required: true, options: ROLES.map((r) => ({ value: r, key: `role.${r}` })) },
  ...PASS,
];

/** The lock delay (a manager's to set), one's own passphrase, and the accounts (a manager's). */
function renderSecurity(card) {
  const actor = app.info.actor;
  card.querySelector('#signed-in').textContent = t('session.signed_in', { name: actor.name, role: t(`role.${actor.role}`) });
  const manager = may('manage_accounts');

  const lock = card.querySelector('#lock-form');
  const lockActions = renderForm(lock, LOCK, { lock_minutes: app.info.lock_minutes });
  lock.elements.lock_minutes.disabled = !manager;
  if (manager) {
    const save = el('<button type="submit" id="lock-save" data-i18n="form.save"></button>');
    lockActions.append(save);
    lock.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api.setLockMinutes(readForm(lock, LOCK).lock_minutes ?? 0);
        await reloadInfo();
        toast(t('form.saved'));
      } catch (err) {
        showErrors(lock, err);
      }
    });
  }

  const pass = card.querySelector('#passphrase-form');
  pass.id = 'passphrase-form';
  renderForm(pass, PASS).append(el('<button type="submit" data-i18n="form.save"></button>'));
  pass.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.changePassphrase(pass.elements.passphrase.value, pass.elements.passphrase_again.value);
      pass.reset();
      toast(t('form.saved'));
    } catch (err) {
      showErrors(pass, err);
    }
  });

  if (!manager) return;
  const box = card.querySelector('#accounts-card');
  box.hidden = false;
  const list = async () => {
    const accounts = await api.listAccounts();
    box.querySelector('#accounts').innerHTML = accounts
      .map((a) => `<tr><td>${esc(a.name)}</td><td>${esc(t(`role.${a.role}`))}</td></tr>`)
      .join('');
  };
  const form = box.querySelector('#account-form');
  renderForm(form, ACCOUNT, { role: 'coordinator' }).append(el('<button type="submit" id="account-save" data-i18n="form.save"></button>'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = readForm(form, ACCOUNT);
    try {
      await api.putAccount(v.name || '', v.role || '', form.elements.passphrase.value, form.elements.passphrase_again.value);
      form.reset();
      await list();
      toast(t('form.saved'));
    } catch (err) {
      showErrors(form, err);
    }
  });
  applyTranslations(card);
  list();
}

/**
 * The partners referrals and sessions name: built in, then added; a
 * manager adds one (it travels in bundles), withdraws one added by
 * mistake (with a reason) and puts a withdrawn one back from the folded
 * "N partenaires retirés" group (the core checks the role).
 */
async function renderPartners(card) {
  await loadKinds();
  const manage = may('manage_reference');
  const body = card.querySelector('#partners-table tbody');
  const gone = card.querySelector('#partners-withdrawn');
  const list = async (again) => {
    const [partners, docs] = await Promise.all([loadPartners(again), api.records('partner', { archived: true })]);
    body.innerHTML = partners.filter((p) => !p.archived).map((p) => `<tr data-id="${esc(p.id)}"${p.code ? ' class="built-in"' : ''}>
      <td><bdi>${esc(partnerName(p))}</bdi></td><td>${esc(t(`code.partner_kind.${p.kind}`))}</td>
      <td>${manage && !p.code ? `<button type="button" class="small danger" data-void-partner="${esc(p.id)}" data-i18n="profile.void"></button>` : ''}</td></tr>`).join('');
    const withdrawn = docs.filter((d) => d.archived_at);
    const open = gone.querySelector('details')?.open;
    gone.innerHTML = withdrawn.length ? `<details class="withdrawn" id="withdrawn-partners"${open ? ' open' : ''}>
      <summary>${esc(tn('programme.withdrawn_partners', withdrawn.length))}</summary>
      <ul class="plain-list withdrawn-list">${withdrawn.map((d) => `<li data-id="${esc(d.id)}"><strong><bdi>${esc(d.name)}</bdi></strong>
        <span class="muted">(${esc(t(`code.partner_kind.${d.kind}`))})</span> <div>${withdrawnHtml(d)}
        ${manage ? `<button type="button" class="small" data-restore="${esc(d.id)}" data-i18n="programme.restore"></button>` : ''}
        <span class="error" role="alert"></span></div></li>`).join('')}</ul></details>` : '';
    applyTranslations(card.querySelector('#partners-card'));
  };
  await list(false);
  gone.addEventListener('click', async (e) => {
    const button = e.target.closest('button[data-restore]');
    if (!button) return;
    const out = button.parentElement.querySelector('.error');
    button.disabled = true;
    try {
      await api.restoreRecord('partner', button.dataset.restore);
      await list(true);
      toast(t('programme.restored_toast'));
      card.querySelector(`#partners-table tr[data-id="${CSS.escape(button.dataset.restore)}"] button`)?.focus();
    } catch (err) {
      out.textContent = errorText(err);
      button.disabled = false;
    }
  });
  // Withdrawing one: its reason asked below the table.
  const voidBox = card.querySelector('#partner-void');
  body.addEventListener('click', (e) => {
    const opener = e.target.closest('button[data-void-partner]');
    if (!opener) return;
    const id = opener.dataset.voidPartner;
    voidBox.hidden = false;
    voidBox.innerHTML = '';
    const title = el(`<h3 id="partner-void-title">${esc(t('programme.void_partner', { name: opener.closest('tr').querySelector('bdi').textContent }))}</h3>`);
    const form = el('<form id="partner-void-form" aria-labelledby="partner-void-title"></form>');
    voidBox.append(title, form);
    const spec = [{ name: 'archive_reason', id: 'partner-archive_reason', label: 'programme.withdrawn_reason', type: 'textarea', required: true, wide: true }];
    const actions = renderForm(form, spec, {});
    const save = el('<button type="submit" class="danger" id="partner-void-save" data-i18n="profile.void_confirm"></button>');
    const cancel = el('<button type="button" id="partner-void-cancel" data-i18n="form.cancel"></button>');
    actions.append(save, cancel);
    applyTranslations(voidBox);
    const close = () => {
      voidBox.hidden = true;
      voidBox.innerHTML = '';
    };
    cancel.addEventListener('click', () => {
      close();
      opener.focus();
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      try {
        await api.voidRecord('partner', id, readForm(form, spec).archive_reason ?? null);
        close();
        await list(true);
        toast(t('profile.voided_toast'));
        card.querySelector('#withdrawn-partners summary')?.focus();
      } catch (err) {
        showErrors(form, err);
        save.disabled = false;
      }
    });
    form.elements.archive_reason.focus();
  });
  const form = card.querySelector('#partner-form');
  if (!form) return;
  const spec = recordSpec('partner').map((f) => ({ ...f, id: `partner-${f.name}` }));
  renderForm(form, spec, {}).append(el('<button type="submit" class="primary" id="partner-save" data-i18n="programme.add_partner_save"></button>'));
  applyTranslations(form);
  wireRegion(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.addPartner(readForm(form, spec));
      form.reset();
      await list(true);
      toast(t('programme.partner_saved'));
    } catch (err) {
      showErrors(form, err);
    }
  });
}
