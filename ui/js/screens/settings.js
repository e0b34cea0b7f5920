// Settings and about: where the data lives, this laptop, the follow-up threshold.

import * as api from '../api.js';
import { reloadInfo } from '../app.js';
import { renderForm, readForm, showErrors } from '../form.js';
import { applyTranslations, t } from '../i18n.js';
import { app, el, esc, toast } from '../state.js';

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
        <dt data-i18n="settings.coordinator"></dt><dd>${esc(info.device.coordinator)}</dd>
        <dt data-i18n="settings.version"></dt><dd>${esc(info.version)}</dd>
      </dl>
    </div>
    <div class="card"><h2 data-i18n="settings.followups"></h2><form id="settings-form"></form></div>
  </section>`);
  main.append(card);
  const form = card.querySelector('form');
  const actions = renderForm(form, SPEC, { followup_days: info.followup_days });
  const save = el('<button type="submit" class="primary" data-i18n="form.save"></button>');
  actions.append(save);
  applyTranslations(card);
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
