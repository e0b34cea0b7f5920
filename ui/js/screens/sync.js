// The Sync screen: what has not left on a bundle yet, export a bundle for
// the station (Save as, or one click onto the USB stick), import bundles
// chosen in the system's Open dialog (a preview of what they bring, a
// missing earlier bundle first, then confirm; a computer never seen is
// approved from its refusal), every laptop with its last bundle, what is
// missing, all in words, and clock warnings; this computer's keys (saved to a file for
// the computers that send bundles here) and the computers it sends bundles
// to (a key typed, or read from such a file, confirmed by a person); the
// backups kept before imports. A preview or an
// import shows its progress, bundle by bundle, and can be cancelled
// between two bundles (progress.js).

import * as api from '../api.js';
import { applyTranslations, errorText, formatInstant, pluralKey, t, tn } from '../i18n.js';
import { showProgress } from '../progress.js';
import { offerSave, number, peopleHtml, tHtml } from '../save.js';
import { app, el, esc, may, toast } from '../state.js';

/** The paths of the bundles chosen, previewed, not yet imported. */
let chosen = [];
/** The screen on display, for `choosePaths`. */
let shown = null;

/**
 * Previews the bundles at `paths`: what the Open dialog's button does with
 * the files chosen, and what a double-clicked .wafira file leads to. The
 * end-to-end tests call it too, as WebDriver cannot drive a native dialog.
 */
export async function choosePaths(paths) {
  if (!shown || !shown.isConnected) return;
  chosen = paths.map(String);
  shown.querySelector('#accept-future').checked = false;
  shown.querySelector('#import-chosen').innerHTML = chosen
    .map((p) => `<li><bdi dir="ltr">${esc(p.split(/[\\/]/).pop())}</bdi></li>`).join('');
  await shown.previewChosen();
}

/**
 * Reads the key file at `path` (what "Lire la clé depuis un fichier" does
 * with the Open dialog's answer; the end-to-end tests call it too) and
 * fills the name and key for a person to check, then add: the core reads
 * the file, refusing a secret key or a file of several keys.
 */
export async function chooseRecipientFile(path) {
  if (!shown || !shown.isConnected) return;
  const $ = (id) => shown.querySelector(`#${id}`);
  $('trust-result').textContent = '';
  try {
    const file = await api.readRecipientFile(String(path));
    $('trust-recipient').value = file.recipient;
    if (file.name) $('trust-name').value = file.name;
    $('trust-result').innerHTML = tHtml('sync.trust_file_read', { file: String(path).split(/[\\/]/).pop() });
    ($('trust-name').value ? $('trust-add') : $('trust-name')).focus();
  } catch (err) {
    $('trust-result').textContent = errorText(err);
  }
}

export async function render(main) {
  const view = el(`<section>
    <h1 data-i18n="sync.title"></h1>
    <div class="card notice" id="identity-notice" role="status" hidden>
      <p id="identity-text"></p>
      <button id="identity-ok" data-i18n="sync.identity_ok"></button>
    </div>
    <div class="card">
      <h2 data-i18n="sync.export_title"></h2>
      <p id="unsent" class="summary" aria-live="polite"></p>
      <p class="muted" data-i18n="sync.export_help"></p>
      <div class="row">
        <label class="checkbox-inline"><input type="checkbox" id="export-full"> <span data-i18n="sync.export_full"></span></label>
        <button class="primary" id="export-bundle" data-i18n="sync.export"></button>
      </div>
      <div id="export-result" aria-live="polite"></div>
    </div>
    <div class="card">
      <h2 data-i18n="sync.import_title"></h2>
      <div class="row">
        <button type="button" id="import-choose" data-i18n="sync.import_choose"></button>
      </div>
      <ul id="import-chosen" class="plain-list"></ul>
      <div id="import-preview" aria-live="polite"></div>
      <label class="checkbox-inline" id="accept-future-row" hidden>
        <input type="checkbox" id="accept-future"> <span data-i18n="sync.accept_future"></span>
      </label>
      <div class="row" id="import-actions" hidden>
        <button class="primary" id="import-confirm" data-i18n="sync.import_confirm"></button>
        <button id="import-cancel" data-i18n="sync.import_cancel"></button>
      </div>
      <div id="import-result" aria-live="polite"></div>
    </div>
    <div class="card" id="keys-card">
      <h2 data-i18n="sync.keys_title"></h2>
      <p class="muted" data-i18n="sync.keys_help"></p>
      <p><span data-i18n="sync.keys_recipient"></span> <code id="keys-recipient" dir="ltr"></code></p>
      <p><span data-i18n="sync.keys_fingerprint"></span> <code id="keys-fingerprint" dir="ltr"></code></p>
      <div class="row">
        <button type="button" id="keys-save" data-i18n="sync.keys_save"></button>
      </div>
      <p class="muted" data-i18n="sync.keys_save_help"></p>
      <div id="keys-save-result" aria-live="polite"></div>
      <h3 data-i18n="sync.trust_title"></h3>
      <ul id="trusted" class="plain-list"></ul>
      <div class="row" id="trust-row">
        <button type="button" id="trust-file" data-i18n="sync.trust_file"></button>
        <input id="trust-name" data-i18n-placeholder="sync.trust_name" aria-label="name">
        <input id="trust-recipient" dir="ltr" placeholder="age1…" aria-label="recipient">
        <button id="trust-add" data-i18n="sync.trust_add"></button>
      </div>
      <p id="trust-result" aria-live="polite"></p>
    </div>
    <div class="card">
      <h2 data-i18n="sync.devices_title"></h2>
      <table id="devices-table">
        <thead><tr>
          <th data-i18n="sync.device"></th><th data-i18n="sync.last_bundle"></th><th data-i18n="sync.recorded"></th>
          <th data-i18n="sync.last_change"></th><th data-i18n="sync.missing"></th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div class="card">
      <h2 data-i18n="sync.backups_title"></h2>
      <p class="muted" data-i18n="sync.backups_help"></p>
      <ul id="backups" class="plain-list"></ul>
    </div>
  </section>`);
  main.append(view);
  const $ = (id) => view.querySelector(`#${id}`);
  // Trusting a computer is an enrolment (docs/access.md): hidden from a
  // role that may not.
  $('trust-row').hidden = !may('enrol_device');
  applyTranslations(view);

  offerSave($('export-bundle'), {
    what: 'bundle',
    ext: 'wafira',
    filter: 'sync.bundle_files',
    out: $('export-result'),
    // Nothing new: said at once, no dialog, no empty numbered bundle (the
    // core refuses it too).
    before: async () => {
      const status = await api.syncStatus().catch(() => null);
      if (status && status.unsent.nothing_new && !$('export-full').checked) {
        $('export-result').innerHTML = `<p class="nothing-new">${nothingNewHtml(status.unsent)}</p>`;
        return false;
      }
      return true;
    },
    write: async (path) => {
      try {
        return await api.exportBundle($('export-full').checked, path);
      } finally {
        await loadStatus(view);
      }
    },
    describe: (out) => peopleHtml(out.records),
  });
  // This computer's public key, for the computers that send bundles here.
  offerSave($('keys-save'), {
    what: 'recipient',
    ext: 'txt',
    filter: 'sync.key_files',
    out: $('keys-save-result'),
    write: (path) => api.exportRecipient(path),
    describe: (done) => tHtml('sync.key_saved', { name: done.device }),
  });

  const preview = async () => {
    $('import-result').innerHTML = '';
    if (!chosen.length) return;
    $('import-preview').innerHTML = '';
    $('import-actions').hidden = true;
    const running = showProgress($('import-preview'));
    try {
      const report = await api.importBundleFiles(chosen, true, $('accept-future').checked, false, running.job);
      running.end();
      if (report.cancelled) {
        $('import-preview').innerHTML = `<p class="cancelled">${esc(t('sync.preview_cancelled'))}</p>`;
        return;
      }
      $('import-preview').innerHTML = reportHtml(report, true);
      // A laptop's clock far ahead: a person may accept its changes.
      const ahead = report.files.some((f) => f.error && f.error.code === 'bundle_ahead_of_clock');
      $('accept-future-row').hidden = !ahead && !$('accept-future').checked;
      $('import-actions').hidden = !report.files.some((f) => f.summary);
      if (!$('import-actions').hidden) $('import-confirm').focus();
    } catch (err) {
      running.end();
      $('import-preview').textContent = errorText(err);
    }
  };
  view.previewChosen = preview;
  shown = view;
  $('import-choose').addEventListener('click', async () => {
    try {
      const drives = await api.removableDrives();
      const picked = await api.openDialog({
        title: t('sync.import_choose'),
        multiple: true,
        filters: [{ name: t('sync.bundle_files'), extensions: ['wafira'] }],
        defaultPath: drives.length ? drives[0].path : null,
      });
      if (picked && picked.length) await choosePaths(Array.isArray(picked) ? picked : [picked]);
    } catch (err) {
      $('import-preview').textContent = errorText(err);
    }
  });
  $('accept-future').addEventListener('change', preview);
  // A computer never seen, or one reinstalled (another key than the one
  // approved here): a person compares the fingerprint with the one that
  // computer shows, then approves it, or enrols it again, for that very key.
  $('import-preview').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-approve]');
    if (!b) return;
    const reenrol = b.dataset.reenrol !== undefined;
    const question = reenrol
      ? t('sync.reenrol_confirm', { name: b.dataset.name, fingerprint: b.dataset.fingerprint, approved: b.dataset.reenrol })
      : t('sync.approve_confirm', { name: b.dataset.name, fingerprint: b.dataset.fingerprint });
    if (!window.confirm(question)) return;
    try {
      await api.approveDevice(b.dataset.approve, b.dataset.fingerprint, reenrol);
      toast(t('sync.approved_toast', { name: b.dataset.name }));
      await preview();
    } catch (err) {
      toast(errorText(err));
    }
  });
  $('trust-file').addEventListener('click', async () => {
    try {
      const drives = await api.removableDrives();
      const picked = await api.openDialog({
        title: t('sync.trust_file'),
        multiple: false,
        defaultPath: drives.length ? drives[0].path : null,
      });
      if (picked) await chooseRecipientFile(Array.isArray(picked) ? picked[0] : picked);
    } catch (err) {
      $('trust-result').textContent = errorText(err);
    }
  });
  $('trust-add').addEventListener('click', async () => {
    const name = $('trust-name').value.trim();
    const recipient = $('trust-recipient').value.trim();
    // A person confirms whom the bundles will be for, typed or read from a
    // file; an empty name or key goes straight to the core, which says so.
    // The name and key isolated: a Latin key keeps its order in Arabic.
    const question = t('sync.trust_confirm', { name: `\u2068${name}\u2069`, recipient: `\u2066${recipient}\u2069` });
    if (name && recipient && !window.confirm(question)) return;
    try {
      await api.trustRecipient(name, recipient);
      $('trust-name').value = '';
      $('trust-recipient').value = '';
      $('trust-result').textContent = t('sync.trust_done');
      await loadKeys(view);
    } catch (err) {
      $('trust-result').textContent = errorText(err);
    }
  });
  $('import-cancel').addEventListener('click', () => {
    chosen = [];
    $('import-chosen').innerHTML = '';
    $('import-preview').innerHTML = '';
    $('import-actions').hidden = true;
    $('accept-future-row').hidden = true;
  });
  $('import-confirm').addEventListener('click', async () => {
    $('import-confirm').disabled = true;
    const running = showProgress($('import-result'));
    try {
      const report = await api.importBundleFiles(chosen, false, $('accept-future').checked, false, running.job);
      running.end();
      $('import-preview').innerHTML = '';
      $('import-actions').hidden = true;
      $('import-result').innerHTML = reportHtml(report, false);
      toast(t(report.cancelled ? 'sync.import_cancelled_toast' : 'sync.imported_toast'));
      await loadStatus(view);
    } catch (err) {
      running.end();
      $('import-result').textContent = errorText(err);
    } finally {
      $('import-confirm').disabled = false;
      $('import-chosen').innerHTML = '';
      chosen = [];
    }
  });
  $('identity-ok').addEventListener('click', async () => {
    try {
      await api.dismissIdentityNotice();
      $('identity-notice').hidden = true;
    } catch (err) {
      toast(errorText(err));
    }
  });
  view.querySelector('#backups').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-name]');
    if (!b || !window.confirm(t('sync.restore_confirm', { name: b.dataset.name }))) return;
    try {
      await api.restoreBackup(b.dataset.name);
      toast(t('sync.restored'));
      await loadStatus(view);
    } catch (err) {
      toast(errorText(err));
    }
  });
  await loadStatus(view);
  await loadKeys(view);
  // Opened on a .wafira file (double-click, or handed over by a second
  // launch): its preview.
  if (app.pendingBundle) {
    const path = app.pendingBundle;
    app.pendingBundle = null;
    await choosePaths([path]);
  }
}

/** "Rien de nouveau depuis le paquet n° 3 du 14/03/2026 10:15 : aucun paquet écrit." */
function nothingNewHtml(u) {
  return u.last_export_number
    ? tHtml('sync.nothing_new_since', { n: u.last_export_number, at: formatInstant(u.last_export_at) })
    : esc(t('error.nothing_new'));
}

/** What has not left on a bundle yet, and when the last one was made. */
function unsentHtml(u) {
  const last = u.last_export_number
    ? tHtml('sync.last_export', { n: u.last_export_number, at: formatInstant(u.last_export_at) })
    : esc(t('sync.never_exported'));
  if (u.nothing_new) return `${nothingNewHtml(u)} `;
  return `<strong>${esc(t('sync.unsent_title'))}</strong> ${peopleHtml(u.records)}${
    u.decisions ? ` · ${tHtml(pluralKey('sync.unsent_decisions', u.decisions), { n: number(u.decisions) })}` : ''} · ${last}`;
}

/** A missing earlier bundle of the laptop, said before anything else. */
function missingHtml(s) {
  return s.missing_before.map((g) => `<p class="gap missing-bundle" role="alert">${g.from === g.to
    ? tHtml('sync.missing_one', { n: g.from, name: s.source.name })
    : tHtml('sync.missing_range', { from: g.from, to: g.to, name: s.source.name })}</p>`).join('');
}

async function loadKeys(view) {
  try {
    const keys = await api.keysShow();
    view.querySelector('#keys-recipient').textContent = keys.recipient;
    view.querySelector('#keys-fingerprint').textContent = keys.fingerprint;
    view.querySelector('#trusted').innerHTML = keys.trusted.length
      ? keys.trusted.map((r) => `<li><strong>${esc(r.name)}</strong> <code dir="ltr">${esc(r.recipient)}</code></li>`).join('')
      : `<li class="muted">${esc(t('sync.trusted_none'))}</li>`;
  } catch (err) {
    view.querySelector('#trusted').innerHTML = `<li>${esc(errorText(err))}</li>`;
  }
}

function counts(s) {
  return t('sync.summary_line', {
    beneficiaries: tn('count.beneficiaries', s.added.beneficiaries),
    visits: tn('count.visits', s.added.visits),
    milestones: tn('count.milestones', s.added.milestones),
    conflicts: tn('count.conflicts', s.conflicts),
    duplicates: tn('count.duplicates', s.possible_duplicates),
  });
}

/** One line per file, then the totals: "+23 beneficiaries, +41 visits, 3 conflicts, 2 possible duplicates". */
function reportHtml(report, preview) {
  const lines = report.files.map((f) => {
    // Not reached: the import was cancelled before it.
    if (f.error && f.error.code === 'cancelled') {
      return `<li class="not-imported">${esc(f.file)} : ${esc(t('sync.not_imported'))}</li>`;
    }
    if (f.error) {
      const d = f.error.details || {};
      const reenrol = f.error.code === 'bundle_key_changed';
      const approve = preview && (reenrol || f.error.code === 'bundle_unknown_device') && may('enrol_device')
        ? ` <button data-approve="${esc(d.device)}" data-name="${esc(d.name)}" data-fingerprint="${esc(d.fingerprint)}"${
          reenrol ? ` data-reenrol="${esc(d.approved)}"` : ''}>${esc(t(reenrol ? 'sync.reenrol' : 'sync.approve'))}</button>`
        : '';
      // The laptop, record and field at fault, one click away.
      return `<li class="refused">${esc(f.file)} : ${esc(errorText(f.error))}${approve}
        <details><summary>${esc(t('sync.details'))}</summary><bdi>${esc(f.error.message || '')}</bdi></details></li>`;
    }
    const s = f.summary;
    const extra = [];
    if (s.already_imported && s.new_changes === 0) extra.push(t('sync.already_imported'));
    if (s.updated) extra.push(tn('sync.updated', s.updated));
    if (s.waiting) extra.push(tn('sync.waiting', s.waiting));
    if (s.future_changes) extra.push(tn('sync.future', s.future_changes));
    if (s.approved) extra.push(t('sync.approved_now'));
    for (const w of s.warnings || []) extra.push(t(`sync.warning.${w}`));
    return `<li>${esc(f.file)} (${esc(s.source.name)}, n° ${esc(s.number)}) : ${esc(counts(s))}${extra.length ? ` · ${esc(extra.join(' · '))}` : ''}</li>`;
  });
  const tt = report.totals;
  const total = counts({ added: tt.added, conflicts: tt.conflicts, possible_duplicates: tt.possible_duplicates });
  const missing = report.files.filter((f) => f.summary && (f.summary.missing_before || []).length)
    .map((f) => missingHtml(f.summary)).join('');
  const imported = report.files.filter((f) => f.summary).length;
  const cancelled = report.cancelled
    ? `<p class="cancelled" role="status">${tHtml('sync.import_cancelled', { done: imported, of: report.files.length })}</p>`
    : '';
  return `${cancelled}${missing}<p class="summary"><strong>${esc(t(preview ? 'sync.preview_total' : 'sync.import_total'))}</strong> ${esc(total)}</p>
    <ul class="plain-list">${lines.join('')}</ul>`;
}

async function loadStatus(view) {
  let status;
  try {
    status = await api.syncStatus();
  } catch (err) {
    view.querySelector('#devices-table tbody').innerHTML = `<tr><td colspan="5">${esc(errorText(err))}</td></tr>`;
    return;
  }
  view.querySelector('#devices-table tbody').innerHTML = status.devices.map((d) => deviceRow(d, status)).join('');
  view.querySelector('#unsent').innerHTML = unsentHtml(status.unsent);
  const notice = status.identity_notice;
  view.querySelector('#identity-notice').hidden = !notice;
  if (notice) {
    view.querySelector('#identity-text').textContent =
      t(`sync.identity_${notice.reason}`, { at: formatInstant(notice.at) });
  }
  view.querySelector('#backups').innerHTML = status.backups.length
    ? status.backups.map((b) => `<li>${esc(formatInstant(b.created_at))} · ${esc(t(`sync.backup_reason.${b.reason}`))}
        · ${esc(Math.round(b.bytes / 1024))} ko${may('restore') ? ` <button data-name="${esc(b.name)}">${esc(t('sync.restore'))}</button>` : ''}</li>`).join('')
    : `<li class="muted">${esc(t('sync.no_backups'))}</li>`;
}

/**
 * A laptop as the people who use it know it: who uses it, its last bundle
 * (its number and when it came; this computer's own, when it was written),
 * what was recorded on it, when it was last changed, and what is missing,
 * said in words. Change numbers and clock stamps mean nothing to a person:
 * a missing change is counted, a clock set wrong is said beside the date.
 */
function deviceRow(d, status) {
  const me = d.this_device ? ` <span class="badge">${esc(t('sync.this_device'))}</span>` : '';
  const when = (iso) => `<bdi>${esc(formatInstant(iso))}</bdi>`;
  let bundle;
  if (d.this_device) {
    bundle = status.last_export_number
      ? tHtml('sync.bundle_written', { n: status.last_export_number, at: formatInstant(status.last_export_at) })
      : esc(t('sync.never_exported'));
  } else if (d.last_bundle_number) {
    bundle = `${tHtml('sync.bundle_received', { n: d.last_bundle_number, at: formatInstant(d.last_bundle_received_at) })}
      <br><span class="muted">${tHtml(pluralKey('count.bundles', d.bundles_imported), { n: number(d.bundles_imported) })}</span>`;
  } else {
    bundle = esc(t('sync.no_bundle_received'));
  }
  const clock = d.future_changes
    ? ` <span class="badge overdue">${tHtml(pluralKey('sync.future_warning', d.future_changes),
      { n: number(d.future_changes), at: formatInstant(d.furthest_future_at) })}</span>`
    : '';
  const missing = d.missing_bundles.map((g) => (g.from === g.to
    ? tHtml('sync.missing_bundle_one', { n: g.from })
    : tHtml('sync.missing_bundle_range', { from: g.from, to: g.to })));
  // A missing bundle's changes are the ones missing: said once, by the
  // bundle. Otherwise (changes come by way of another laptop's bundle)
  // they are counted, not numbered.
  if (!missing.length) {
    const n = d.missing_changes.reduce((sum, g) => sum + g.to - g.from + 1, 0);
    if (n) missing.push(tHtml(pluralKey('sync.missing_changes', n), { n: number(n) }));
  }
  return `<tr data-device="${esc(d.id)}">
    <td><strong>${esc(d.name)}</strong>${me}<br><span class="muted coordinator">${tHtml('sync.used_by', { name: d.coordinator })}</span></td>
    <td class="last-bundle">${bundle}</td>
    <td class="recorded">${peopleHtml(d.recorded)}</td>
    <td class="last-change">${d.last_change_at ? when(d.last_change_at) : '—'}${clock}</td>
    <td class="missing${missing.length ? ' gap' : ''}">${missing.join('<br>') || esc(t('sync.nothing_missing'))}</td>
  </tr>`;
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
