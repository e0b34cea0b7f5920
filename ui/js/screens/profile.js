// A person's profile: identity and consent, her current IGA stage (derived
// by the core from her milestones), a timeline of visits and milestones,
// the history of every change; and what a coordinator does next: add a
// visit, add a milestone, edit, archive. One form is open at a time, in the
// panel under the actions; the core checks it and its errors show beside
// their fields.

import * as api from '../api.js';
import { applyTranslations, codeLabel, currentLang, errorText, formatAmount, formatBirth, formatDate, formatInstant, pluralKey, t, tn } from '../i18n.js';
import { renderForm, readForm, showErrors, clearErrors } from '../form.js';
import { app, codeOptions, el, esc, may, phoneHtml, toast } from '../state.js';
import { offerSave, tHtml } from '../save.js';

/** Today where the laptop is, `YYYY-MM-DD`. */
export function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function visitSpec() {
  return [
    { name: 'date', type: 'date', required: true },
    { name: 'kind', type: 'select', required: true, options: codeOptions('visit') },
    { name: 'location' },
    { name: 'duration_minutes', type: 'number', attrs: { min: '1', max: '1440' } },
    { name: 'topics', type: 'list', wide: true },
    { name: 'notes', type: 'textarea', wide: true },
    { name: 'next_steps', type: 'textarea', wide: true },
    { name: 'next_visit_date', type: 'date' },
    { name: 'coordinator' },
  ];
}

export function milestoneSpec() {
  return [
    // The kinds in lifecycle order, as the core declares them.
    { name: 'kind', type: 'select', required: true, options: codeOptions('milestone') },
    { name: 'date', type: 'date', required: true },
    { name: 'amount', label: 'profile.amount_label', attrs: { inputmode: 'decimal', autocomplete: 'off' } },
    { name: 'reason', label: 'profile.reason_label', wide: true },
    { name: 'notes', type: 'textarea', wide: true },
  ];
}

const ARCHIVE_SPEC = [{ name: 'archive_reason', type: 'textarea', required: true, wide: true }];
const ERASE_SPEC = [{ name: 'reason', type: 'textarea', required: true, wide: true, attrs: { 'aria-describedby': 'err-reason erase-hint' } }];

let shown = null; // { id, profile } of the profile on screen

export async function render(main, id) {
  const profile = await api.profile(id);
  shown = { id, profile };
  const b = profile.beneficiary;
  const archived = Boolean(b.archived_at);
  // Consent withdrawn: her identifying data is gone; nothing more is recorded about her.
  const erased = Boolean(profile.erased);
  const heading = erased
    ? `<span data-i18n="person.erased"></span>`
    : `${esc(b.first_name)} ${esc(b.last_name)}${b.name_ar ? ` <span class="arabic" lang="ar">${esc(b.name_ar)}</span>` : ''}`;
  const view = el(`<section class="profile${erased ? ' erased' : ''}" data-id="${esc(b.id)}">
    <div class="row">
      <h1 id="profile-name" tabindex="-1">${heading}</h1>
      <span class="spacer"></span>
      <a class="button no-print" href="#/beneficiaries" data-i18n="profile.back"></a>
    </div>
    ${profile.merged_into ? `<p class="card merged-note" id="merged-note" role="status">${esc(t('profile.merged_into_note', { at: formatInstant(profile.merged_into.at) }))}
      <a href="#/profile/${esc(profile.merged_into.id)}"><bdi>${esc(profile.merged_into.name)}</bdi></a></p>` : ''}
    ${archived && !profile.merged_into ? `<p class="card archived-note" id="archived-note" role="status"><strong data-i18n="profile.archived_note"></strong>
      ${esc(formatInstant(b.archived_at))}${b.archive_reason ? ` — <bdi>${esc(b.archive_reason)}</bdi>` : ''}
      ${may('record') && !erased ? `<button type="button" class="no-print" id="restore" data-i18n="profile.restore"></button>
      <span id="restore-error" class="error" role="alert"></span>` : ''}</p>` : ''}
    ${erased ? `<p class="card erased-note" id="erased-note" role="status"><strong data-i18n="profile.erased_note"></strong>
      ${profile.erasure ? `<bdi>${esc(formatInstant(profile.erasure.at))}</bdi> — <bdi>${esc(profile.erasure.reason)}</bdi>` : ''}</p>` : ''}
    <div class="profile-cards">
      <div class="card">
        <h2 data-i18n="profile.identity"></h2>
        <dl class="facts" id="identity">${identityFacts(profile)}</dl>
      </div>
      <div class="card">
        <h2 data-i18n="profile.iga"></h2>
        <p><span id="profile-stage" class="badge stage-${esc(profile.stage || 'none')}">${esc(profile.stage ? codeLabel('milestone', profile.stage) : t('stage.none'))}</span></p>
        <dl class="facts">
          <dt data-i18n="field.iga_sector"></dt><dd>${esc(codeLabel('sector', b.iga_sector) || '—')}</dd>
          <dt data-i18n="list.last_visit"></dt><dd id="profile-last-visit">${esc(formatDate(profile.last_visit_date) || '—')}</dd>
          <dt data-i18n="field.next_visit_date"></dt><dd id="profile-next-visit">${esc(formatDate(profile.next_visit_date) || '—')}</dd>
        </dl>
        <h2 data-i18n="profile.consent"></h2>
        <p id="profile-consent">${esc(b.consent ? t('profile.consent_given', { date: formatDate(b.consent_date) }) : t('profile.consent_missing'))}</p>
      </div>
    </div>
    ${archived ? '' : `<div class="row no-print" id="profile-actions">
      ${erased ? '' : `<button type="button" class="primary" id="add-visit" aria-controls="panel" data-i18n="profile.add_visit"></button>
      <button type="button" class="primary" id="add-milestone" aria-controls="panel" data-i18n="profile.add_milestone"></button>
      <a class="button" id="edit" href="#/register/${esc(b.id)}" data-i18n="profile.edit"></a>`}
      <button type="button" id="print-sheet" data-i18n="profile.print_sheet"></button>
      <span class="spacer"></span>
      ${erased || !may('erase') ? '' : `<button type="button" class="danger" id="erase" aria-controls="panel" data-i18n="profile.erase"></button>`}
      <button type="button" class="danger" id="archive" aria-controls="panel" data-i18n="profile.archive"></button>
    </div>`}
    <div id="panel" class="card no-print" hidden></div>
    <h2 data-i18n="profile.timeline"></h2>
    <ol class="timeline" id="timeline">${timelineHtml(profile)}</ol>
    <h2 data-i18n="profile.history"></h2>
    <table id="history">
      <thead><tr><th data-i18n="profile.when"></th><th data-i18n="profile.what"></th>
        <th data-i18n="profile.change"></th><th data-i18n="profile.by"></th></tr></thead>
      <tbody>${historyHtml(profile)}</tbody>
    </table>
  </section>`);
  main.append(view);
  applyTranslations(view);
  wireCorrections(view, profile);
  if (!archived) {
    const panel = view.querySelector('#panel');
    if (!erased) {
      view.querySelector('#add-visit').addEventListener('click', (e) => openVisit(panel, b, e.currentTarget));
      view.querySelector('#add-milestone').addEventListener('click', (e) => openMilestone(panel, b, e.currentTarget));
    }
    const erase = view.querySelector('#erase');
    if (erase) erase.addEventListener('click', (e) => openErase(panel, b, e.currentTarget));
    view.querySelector('#archive').addEventListener('click', (e) => openArchive(panel, b, e.currentTarget));
    view.querySelector('#print-sheet').hidden = !may('print_field_sheet');
    printSheet(b, view.querySelector('#print-sheet'));
  }
}

/** The one-person sheet for her paper file, as a PDF saved where a person chooses (save.js). */
function printSheet(b, button) {
  const out = document.createElement('div');
  out.id = 'sheet-result';
  out.setAttribute('aria-live', 'polite');
  (button.closest('.row') || button).after(out);
  offerSave(button, {
    what: 'profile',
    ext: 'pdf',
    filter: 'save.pdf_files',
    out,
    write: (path) => api.printReport({ kind: 'profile', id: b.id, lang: currentLang() }, path),
    describe: (saved) => tHtml(pluralKey('save.pdf_pages', saved.pages), { n: saved.pages }),
  });
}

/** Parts of a place, each isolated so that Latin and Arabic names keep their order in either direction. */
export function placeHtml(parts) {
  return parts.filter(Boolean).map((x) => `<bdi>${esc(x)}</bdi>`).join(' › ');
}

function identityFacts(p) {
  const b = p.beneficiary;
  // Erased: the year of birth alone is kept.
  // The date left to right in Arabic too: 14/03/1990, never 1990/03/14.
  const day = b.birth_date_approx ? `<bdi>${esc(formatBirth(b))}</bdi>` : `<bdi dir="ltr">${esc(formatDate(b.birth_date))}</bdi>`;
  const born = p.erased
    ? String(b.birth_date).slice(0, 4)
    : { html: `<bdi class="birth">${day} (${esc(tn('profile.age', p.age))})</bdi>` };
  const place = { html: placeHtml([t(`region.${b.region}`), b.province && t(`province.${b.province}`), b.commune, b.douar]) };
  const phone = b.phone ? { html: phoneHtml(b.phone) } : '';
  const facts = [
    ['field.sex', codeLabel('sex', b.sex)],
    ['field.birth_date', born],
    ['field.cin', b.cin],
    ['field.phone', phone],
    ['profile.place', place],
    ['field.destination_country', b.destination_country ? t(`country.${b.destination_country}`) : ''],
    ['field.seasons_abroad', b.seasons_abroad ?? ''],
    ['field.phase', codeLabel('phase', b.phase)],
    ['field.cohort', b.cohort],
    ['field.notes', b.notes],
  ];
  // Each value isolated: a cohort "2026-A" or a CIN keeps its order in Arabic.
  const shown = (v) => (v && v.html ? v.html : `<bdi>${esc(v === null || v === undefined || v === '' ? '—' : v)}</bdi>`);
  return facts.map(([key, value]) => `<dt data-i18n="${key}"></dt><dd>${shown(value)}</dd>`).join('');
}

/** Visits and milestones together, newest first. */
function timelineHtml(p) {
  const items = [
    ...p.visits.map((v) => ({ date: v.date, created: v.created_at, html: visitItem(v) })),
    ...p.milestones.map((m) => ({ date: m.date, created: m.created_at, html: milestoneItem(m) })),
  ].sort((a, b) => (b.date + b.created).localeCompare(a.date + a.created));
  if (!items.length) return `<li class="muted" data-i18n="profile.timeline_empty"></li>`;
  return items.map((i) => i.html).join('');
}

function visitItem(v) {
  const details = [
    v.location,
    v.duration_minutes ? tn('profile.minutes', v.duration_minutes) : '',
    v.coordinator ? t('profile.with', { name: v.coordinator }) : '',
  ].filter(Boolean).join(' · ');
  const lines = [
    v.topics && v.topics.length ? `<div><span class="muted" data-i18n="profile.topics"></span> ${esc(v.topics.join(', '))}</div>` : '',
    v.notes ? `<div class="notes">${esc(v.notes)}</div>` : '',
    v.next_steps ? `<div><span class="muted" data-i18n="field.next_steps"></span> : ${esc(v.next_steps)}</div>` : '',
    v.next_visit_date ? `<div><span class="muted" data-i18n="field.next_visit_date"></span> : ${esc(formatDate(v.next_visit_date))}</div>` : '',
  ].join('');
  return `<li class="timeline-visit" data-id="${esc(v.id)}">
    <time datetime="${esc(v.date)}">${esc(formatDate(v.date))}</time>
    <span class="badge kind" data-i18n="profile.visit"></span> <strong>${esc(codeLabel('visit', v.kind))}</strong>
    ${details ? `<span class="muted"> — ${esc(details)}</span>` : ''}${correctButtons('visit', v.id)}${lines}</li>`;
}

function milestoneItem(m) {
  const lines = [
    m.reason ? `<div><span class="muted" data-i18n="field.reason"></span> : ${esc(m.reason)}</div>` : '',
    m.notes ? `<div class="notes">${esc(m.notes)}</div>` : '',
  ].join('');
  return `<li class="timeline-milestone" data-id="${esc(m.id)}" data-kind="${esc(m.kind)}">
    <time datetime="${esc(m.date)}">${esc(formatDate(m.date))}</time>
    <span class="badge stage-${esc(m.kind)}" data-i18n="profile.milestone"></span> <strong>${esc(codeLabel('milestone', m.kind))}</strong>
    ${m.amount ? ` <span class="amount"><bdi>${esc(formatAmount(m.amount))}</bdi></span>` : ''}${correctButtons('milestone', m.id)}${lines}</li>`;
}

/** A stored value as a person reads it: codes translated, dates dd/mm/yyyy. */
export function valueText(field, value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return t(value ? 'profile.yes' : 'profile.no');
  const lists = { sex: 'sex', phase: 'phase', iga_sector: 'sector' };
  if (lists[field]) return codeLabel(lists[field], value);
  if (field === 'region') return t(`region.${value}`);
  if (field === 'destination_country') return t(`country.${value}`);
  if (/_date$/.test(field) || field === 'date') return formatDate(value);
  return String(value);
}

/** A decision on a pair she is in, as a line of her history: merged (and the fields taken), undone, two people. */
function mergeLine(p, m) {
  const link = `<a href="#/profile/${esc(m.with)}"><bdi>${esc(m.with_name || m.with)}</bdi></a>`;
  const kept = m.kept === p.beneficiary.id;
  const key = m.status === 'merged' ? (kept ? 'profile.merge.kept' : 'profile.merge.other') : `profile.merge.${m.status}`;
  const taken = m.status === 'merged' && kept && m.taken.length
    ? `<br>${esc(t('profile.merge.taken', { fields: m.taken.map((f) => t(`field.${f}`)).join(', ') }))}` : '';
  return { what: t('profile.merge.what'), change: `${esc(t(key))} ${link}${taken}` };
}

function historyHtml(p) {
  // Her decisions on duplicates among the lines, in clock order.
  const merges = (p.merges || []).map((m) => ({ ...m, op: 'merge' }));
  // Values settled conflicts set aside: when and by whom they were settled.
  const aside = (p.set_aside || []).map((x) => ({
    ...x, op: 'set_aside', at: x.settled_at, coordinator: x.settled_by, from_device: x.device_name, writer: x.coordinator, device_name: '',
  }));
  const lines = [...p.history, ...merges, ...aside].sort((x, y) => (x.hlc < y.hlc ? -1 : x.hlc > y.hlc ? 1 : 0));
  const rows = lines.reverse().map((h) => {
    let what;
    let change;
    if (h.op === 'merge') {
      ({ what, change } = mergeLine(p, h));
    } else if (h.op === 'set_aside') {
      // A settled conflict: the value not kept, and where it came from.
      const label = t(`field.${h.field}`);
      what = h.entity === 'beneficiary' ? label : `${t(`profile.entity.${h.entity}`)} — ${label}`;
      change = tHtml('profile.set_aside', {
        value: valueText(h.field, h.value), device: h.from_device, writer: h.writer, kept: valueText(h.field, h.kept),
      });
    } else if (h.op === 'archive' && h.field === 'archived_at') {
      what = t('profile.restored.beneficiary');
      change = '';
    } else if (h.op === 'update') {
      const label = t(`field.${h.field}`);
      what = h.entity === 'beneficiary' ? label : `${t(`profile.entity.${h.entity}`)} — ${label}`;
      change = `<bdi class="old">${esc(valueText(h.field, h.old))}</bdi> <span class="arrow" aria-hidden="true">→</span> <bdi class="new">${esc(valueText(h.field, h.new))}</bdi>`;
    } else if (h.op === 'create' && h.entity !== 'beneficiary') {
      what = t(`profile.created.${h.entity}`);
      const list = h.entity === 'visit' ? 'visit' : 'milestone';
      change = esc(`${codeLabel(list, h.new && h.new.kind)} — ${formatDate(h.new && h.new.date)}`);
    } else {
      what = t(`profile.${h.op}d.${h.entity}`);
      change = h.new ? esc(String(h.new)) : '';
    }
    return `<tr data-op="${esc(h.op)}" data-field="${esc(h.field || '')}">
      <td>${esc(formatInstant(h.at))}</td><td>${esc(what)}</td><td>${change}</td>
      <td>${esc(h.coordinator)} <span class="muted">(${esc(h.device_name)})</span></td></tr>`;
  });
  return rows.join('');
}

/** Corriger / Retirer beside a visit or milestone, for whoever may record. */
function correctButtons(entity, id) {
  if (!shown || !may('record') || shown.profile.erased || shown.profile.beneficiary.archived_at) return '';
  return ` <span class="row-actions no-print"><button type="button" class="small" data-correct="${entity}" data-id="${esc(id)}" data-i18n="profile.correct"></button>
    <button type="button" class="small danger" data-void="${entity}" data-id="${esc(id)}" data-i18n="profile.void"></button></span>`;
}

/** The timeline's Corriger / Retirer buttons, and Restaurer on an archived profile. */
function wireCorrections(view, profile) {
  const panel = view.querySelector('#panel');
  view.querySelector('#timeline').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-id]');
    if (!button) return;
    const entity = button.dataset.correct || button.dataset.void;
    const record = (entity === 'visit' ? profile.visits : profile.milestones).find((r) => r.id === button.dataset.id);
    if (!record) return;
    if (button.dataset.correct) openCorrect(panel, entity, record, button);
    else openVoid(panel, entity, record, button);
  });
  const restore = view.querySelector('#restore');
  if (!restore) return;
  restore.addEventListener('click', async () => {
    const out = view.querySelector('#restore-error');
    out.textContent = '';
    restore.disabled = true;
    try {
      await api.restoreBeneficiary(profile.beneficiary.id);
      toast(t('profile.restored_toast', { name: `${profile.beneficiary.first_name} ${profile.beneficiary.last_name}` }));
      await reload('profile-name');
    } catch (err) {
      // Her CIN given meanwhile to someone else: the error names her.
      out.textContent = errorText(err);
      restore.disabled = false;
    }
  });
}

/** The fields a correction may change (the core's EDITABLE), in the form's order. */
const CORRECTABLE = {
  visit: ['date', 'kind', 'location', 'duration_minutes', 'topics', 'notes', 'next_steps', 'next_visit_date'],
  milestone: ['date', 'amount', 'reason', 'notes'],
};

/** Corrects a visit or milestone: its form filled with what was entered; the core checks it again, whole. */
function openCorrect(panel, entity, record, opener) {
  const spec = (entity === 'visit' ? visitSpec() : milestoneSpec()).filter((f) => CORRECTABLE[entity].includes(f.name));
  const values = {};
  for (const f of CORRECTABLE[entity]) values[f] = record[f] ?? null;
  const titleKey = `profile.correct_${entity}`;
  const form = openPanel(panel, { titleKey, formId: 'correct-form', spec, values, saveKey: 'form.save' }, opener, async (input) => {
    const patch = {};
    for (const f of CORRECTABLE[entity]) if (f in input) patch[f] = input[f] ?? null;
    if (entity === 'visit') await api.updateVisit(record.id, patch);
    else await api.updateMilestone(record.id, patch);
    toast(t('profile.corrected_toast'));
    await reload('profile-name');
  });
  if (entity === 'milestone' && record.kind !== 'iga_stopped') form.elements.reason.closest('.field').hidden = true;
}

/** Withdraws a visit or milestone entered by mistake: the reason is required and stays in her history. */
function openVoid(panel, entity, record, opener) {
  const intro = 'profile.void_intro';
  openPanel(panel, { titleKey: `profile.void_${entity}`, formId: 'void-form', spec: ARCHIVE_SPEC, values: {}, saveKey: 'profile.void_confirm', danger: true, intro }, opener, async (input) => {
    const reason = input.archive_reason ?? null;
    if (entity === 'visit') await api.voidVisit(record.id, reason);
    else await api.voidMilestone(record.id, reason);
    toast(t('profile.voided_toast'));
    await reload('profile-name');
  });
}

/** Opens a form in the panel; `opener` gets the focus back when it closes. */
function openPanel(panel, { titleKey, formId, spec, values, saveKey, danger, intro }, opener, submit) {
  panel.hidden = false;
  panel.innerHTML = '';
  const title = el(`<h2 id="panel-title" data-i18n="${titleKey}"></h2>`);
  panel.append(title);
  if (intro) panel.append(el(`<p class="muted" data-i18n="${intro}"></p>`));
  const form = el(`<form id="${formId}" aria-labelledby="panel-title"></form>`);
  panel.append(form);
  const actions = renderForm(form, spec, values);
  const save = el(`<button type="submit" class="${danger ? 'danger' : 'primary'}" id="${formId}-save" data-i18n="${saveKey}"></button>`);
  const cancel = el(`<button type="button" id="${formId}-cancel" data-i18n="form.cancel"></button>`);
  actions.append(save, cancel);
  applyTranslations(panel);
  const close = () => {
    panel.hidden = true;
    panel.innerHTML = '';
    opener.focus();
  };
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    save.disabled = true;
    try {
      await submit(readForm(form, spec), form);
    } catch (err) {
      showErrors(form, err);
    } finally {
      save.disabled = false;
    }
  });
  form.querySelector('input, select, textarea').focus();
  return form;
}

async function reload(focusId) {
  const main = document.getElementById('main');
  main.innerHTML = '';
  await render(main, shown.id);
  const target = focusId && document.getElementById(focusId);
  if (target) target.focus();
}

function openVisit(panel, b, opener) {
  const spec = visitSpec();
  const values = { date: today(), coordinator: app.info.device.coordinator };
  openPanel(panel, { titleKey: 'profile.add_visit', formId: 'visit-form', spec, values, saveKey: 'form.save' }, opener, async (input) => {
    await api.addVisit({ ...input, beneficiary_id: b.id });
    toast(t('profile.visit_saved'));
    await reload('add-visit');
  });
}

function openMilestone(panel, b, opener) {
  const spec = milestoneSpec();
  const form = openPanel(panel, { titleKey: 'profile.add_milestone', formId: 'milestone-form', spec, values: { date: today() }, saveKey: 'form.save' }, opener, async (input) => {
    await api.addMilestone({ ...input, beneficiary_id: b.id });
    toast(t('profile.milestone_saved'));
    await reload('add-milestone');
  });
  // The reason only means something when the activity stopped.
  const reason = form.elements.reason.closest('.field');
  const showReason = () => (reason.hidden = form.elements.kind.value !== 'iga_stopped');
  form.elements.kind.addEventListener('change', showReason);
  showReason();
}

function openArchive(panel, b, opener) {
  const intro = 'profile.archive_intro';
  openPanel(panel, { titleKey: 'profile.archive_title', formId: 'archive-form', spec: ARCHIVE_SPEC, values: {}, saveKey: 'profile.archive_confirm', danger: true, intro }, opener, async (input) => {
    await api.archiveBeneficiary(b.id, input.archive_reason ?? null);
    toast(t('profile.archived_toast', { name: `${b.first_name} ${b.last_name}` }));
    await reload('profile-name');
  });
}

/**
 * Erasing her data on withdrawn consent: the reason is required (and must
 * name nobody: it is kept and travels), and the panel says plainly that it
 * cannot be undone and reaches every computer.
 */
function openErase(panel, b, opener) {
  const form = openPanel(panel, { titleKey: 'profile.erase_title', formId: 'erase-form', spec: ERASE_SPEC, values: {}, saveKey: 'profile.erase_confirm', danger: true, intro: 'profile.erase_intro' }, opener, async (input) => {
    await api.eraseBeneficiary(b.id, input.reason ?? '');
    toast(t('profile.erased_toast'));
    await reload('profile-name');
  });
  const final = el(`<p class="erase-final" id="erase-final" role="alert"><strong data-i18n="profile.erase_final"></strong></p>`);
  form.before(final);
  const hint = el(`<p class="muted" id="erase-hint" data-i18n="profile.erase_reason_hint"></p>`);
  form.elements.reason.closest('.field').append(hint);
  applyTranslations(final);
  applyTranslations(hint);
}

export function onLanguageChange() {
  if (!shown) return;
  reload().catch((err) => {
    document.getElementById('main').textContent = errorText(err);
  });
}
