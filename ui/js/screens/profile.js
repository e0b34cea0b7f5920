// A person's profile: identity and consent, her current IGA stage (derived
// by the core from her milestones), her activities (IGAs, each with its own
// milestones and follow-up surveys), her migration seasons and referrals, a
// timeline of visits and milestones, the history of every change; and what
// a coordinator does next: add a visit, an IGA, a milestone, a survey, a
// season, a referral, edit, archive. One form is open at a time, in the
// panel under the actions; the core checks it and its errors show beside
// their fields. The IGA, survey, season and referral forms are built from
// the core's declarations (records.js).

import * as api from '../api.js';
import { applyTranslations, codeLabel, currentLang, errorText, formatAmount, formatBirth, formatDate, formatInstant, pluralKey, t, tn } from '../i18n.js';
import { renderForm, readForm, showErrors, clearErrors } from '../form.js';
import { app, codeOptions, el, esc, may, phoneHtml, phoneText, toast } from '../state.js';
import { offerSave, tHtml } from '../save.js';
import { labelKey, loadKinds, loadPartners, partnerNameOf, patchOf, recordSpec, recordValue, wireRegion, withdrawnHtml } from '../records.js';

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

/** `igas`: her live IGAs; with several, the milestone names which one it is a step of. */
export function milestoneSpec(igas = []) {
  return [
    ...(igas.length > 1 ? [{ name: 'iga_id', label: 'programme.milestone_iga', type: 'select', required: true,
      options: igas.map((i) => ({ value: i.id, text: igaTitle(i) })) }] : []),
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

let shown = null; // { id, profile, records } of the profile on screen

/** The core's declarations (records.js), read with her records. */
let declared = null;

const DECLARED = ['iga', 'iga_followup', 'season', 'referral'];

/**
 * Her records of the declared kinds (IGAs, surveys, seasons, referrals):
 * the live ones by kind, and those withdrawn (`withdrawn`: {kind, record},
 * the latest withdrawn first), which the profile lists folded, each with
 * its reason and Restaurer.
 */
async function loadRecords(id) {
  [declared] = await Promise.all([loadKinds(), loadPartners()]);
  const q = { beneficiaryId: id, archived: true };
  const lists = await Promise.all(DECLARED.map((k) => api.records(k, q)));
  const [igas, followups, seasons, referrals] = lists.map((l) => l.filter((r) => !r.archived_at));
  const withdrawn = lists.flatMap((l, i) => l.filter((r) => r.archived_at).map((record) => ({ kind: DECLARED[i], record })))
    .sort((a, b) => b.record.archived_at.localeCompare(a.record.archived_at));
  // Oldest IGA first: her first activity, then the next.
  igas.sort((a, b) => a.created_at.localeCompare(b.created_at));
  return { igas, followups, seasons, referrals, withdrawn, allIgas: lists[0] };
}

/** Whether the group of her withdrawn records is open (kept across a redraw). */
let withdrawnOpen = false;

export async function render(main, id) {
  const [profile, records] = await Promise.all([api.profile(id), loadRecords(id)]);
  shown = { id, profile, records };
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
    <section id="igas" aria-labelledby="igas-title">
      <div class="row"><h2 id="igas-title" data-i18n="programme.igas"></h2><span class="spacer"></span>
        ${canRecord(profile) ? `<button type="button" id="add-iga" class="no-print" aria-controls="panel" data-i18n="programme.add_iga"></button>` : ''}</div>
      ${igasHtml(profile, records)}
    </section>
    <div class="profile-cards programme-cards">
      <section class="card" id="seasons" aria-labelledby="seasons-title">
        <div class="row"><h2 id="seasons-title" data-i18n="programme.seasons"></h2><span class="spacer"></span>
          ${canRecord(profile) ? `<button type="button" id="add-season" class="small no-print" aria-controls="panel" data-i18n="programme.add_season"></button>` : ''}</div>
        ${recordListHtml('season', records.seasons, seasonLine, 'programme.no_seasons')}
      </section>
      <section class="card" id="referrals" aria-labelledby="referrals-title">
        <div class="row"><h2 id="referrals-title" data-i18n="programme.referrals"></h2><span class="spacer"></span>
          ${canRecord(profile) ? `<button type="button" id="add-referral" class="small no-print" aria-controls="panel" data-i18n="programme.add_referral"></button>` : ''}</div>
        ${recordListHtml('referral', records.referrals, referralLine, 'programme.no_referrals')}
      </section>
    </div>
    ${withdrawnRecordsHtml(profile, records)}
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
  wireRecords(view, profile, records);
  wireWithdrawn(view);
  if (!archived) {
    const panel = view.querySelector('#panel');
    if (!erased) {
      view.querySelector('#add-visit').addEventListener('click', (e) => openVisit(panel, b, e.currentTarget));
      view.querySelector('#add-milestone').addEventListener('click', (e) => openMilestone(panel, b, e.currentTarget));
      view.querySelector('#add-iga')?.addEventListener('click', (e) => openRecord(panel, 'iga', b, e.currentTarget));
      view.querySelector('#add-season')?.addEventListener('click', (e) => openRecord(panel, 'season', b, e.currentTarget));
      view.querySelector('#add-referral')?.addEventListener('click', (e) => openRecord(panel, 'referral', b, e.currentTarget));
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
    // Where she is in the migration cycle: from her latest season, else as typed.
    ['field.phase', codeLabel('phase', p.phase_now || b.phase), 'profile-phase'],
    ['field.status', { html: statusHtml(b) }, 'profile-status'],
    ...(b.responsible ? [['field.responsible', b.responsible, 'profile-responsible']] : []),
    ['profile.disability', disabilityText(p.disability), 'profile-disability'],
    ...originFacts(b),
    ...(b.baseline_income ? [['field.baseline_income', { html: `<bdi class="amount">${esc(formatAmount(b.baseline_income))}</bdi>` }, 'profile-baseline']] : []),
    ...answerFacts(b),
    ['field.cohort', b.cohort],
    ['field.notes', b.notes],
  ];
  // Each value isolated: a cohort "2026-A" or a CIN keeps its order in Arabic.
  const shown = (v) => (v && v.html ? v.html : `<bdi>${esc(v === null || v === undefined || v === '' ? '—' : v)}</bdi>`);
  return facts.map(([key, value, id]) => `<dt data-i18n="${key}"></dt><dd${id ? ` id="${id}"` : ''}>${shown(value)}</dd>`).join('');
}

/** The answers the profile shows in their place above (the situation, the origin). */
const PLACED_ANSWERS = ['responsible', 'place_abroad'];

/**
 * Her answers to the other questions the core declares alone
 * (beneficiary::KIND's `answer` fields: a question added there), each as
 * its declared type reads, when given.
 */
function answerFacts(b) {
  const decl = declared && declared.beneficiary;
  if (!decl) return [];
  return decl.fields
    .filter((f) => f.answer && !PLACED_ANSWERS.includes(f.name))
    .map((f) => [labelKey('beneficiary', f.name), recordValue('beneficiary', f.name, b[f.name])])
    .filter(([, value]) => value !== '');
}

/** Her case status, with since when and why: "Abandon, depuis le 02/03/2026 — a trouvé un emploi". */
function statusHtml(b) {
  const status = b.status || 'active';
  const since = b.status_date ? ` <span class="muted">${esc(t('profile.status_since', { date: formatDate(b.status_date) }))}</span>` : '';
  const reason = b.status_reason ? ` — <bdi>${esc(b.status_reason)}</bdi>` : '';
  return `<span class="badge status-${esc(status)}" data-status="${esc(status)}">${esc(codeLabel('case_status', status))}</span>${since}${reason}`;
}

/** Disability: from the Washington Group answers or the yes/no; not asked when neither. */
function disabilityText(d) {
  if (d === true) return t('programme.yes');
  if (d === false) return t('programme.no');
  return t('profile.not_asked');
}

/** Origin, nationality, identity document and place outside Morocco, for someone from another country (shown when given). */
function originFacts(b) {
  const country = (c) => (c ? t(`country.${c}`) : '');
  const doc = [b.id_doc_type && codeLabel('id_doc_type', b.id_doc_type), b.id_doc_number].filter(Boolean);
  return [
    ...(b.country_of_origin ? [['field.country_of_origin', country(b.country_of_origin), 'profile-origin']] : []),
    ...(b.nationality ? [['field.nationality', country(b.nationality), 'profile-nationality']] : []),
    ...(doc.length ? [['field.id_doc_type', { html: doc.map((x) => `<bdi>${esc(x)}</bdi>`).join(' · ') }, 'profile-id-doc']] : []),
    ...(b.place_abroad ? [['field.place_abroad', b.place_abroad, 'profile-place-abroad']] : []),
  ];
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
  if (field === 'phone') return phoneText(value);
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

/** A milestone: of the IGA `igaId` (its own button), or of the one chosen when she has several. */
function openMilestone(panel, b, opener, igaId = null) {
  const igas = shown.records.igas;
  const spec = milestoneSpec(igaId ? [] : igas);
  const form = openPanel(panel, { titleKey: 'profile.add_milestone', formId: 'milestone-form', spec, values: { date: today() }, saveKey: 'form.save' }, opener, async (input) => {
    const iga = igaId || input.iga_id || (igas.length === 1 ? igas[0].id : undefined);
    await api.addMilestone({ ...input, beneficiary_id: b.id, ...(iga ? { iga_id: iga } : {}) });
    toast(t('profile.milestone_saved'));
    await reload(igaId ? null : 'add-milestone');
  });
  if (igaId) {
    const of = igas.find((i) => i.id === igaId);
    form.before(el(`<p class="muted" id="milestone-of">${esc(t('programme.milestone_of', { iga: of ? igaTitle(of) : '' }))}</p>`));
  }
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

// --- Her activities (IGAs), seasons and referrals ---------------------------

/** Whether a coordinator may add to her file here: not archived, not erased. */
function canRecord(p) {
  return may('record') && !p.erased && !p.beneficiary.archived_at;
}

/** What names an IGA: its trade name, else its activity, else its sector. */
export function igaTitle(i) {
  return i.name || i.activity || codeLabel('sector', i.sector);
}

/**
 * An IGA's stage from its own live milestones, as the core derives a
 * person's (milestone::stage): the furthest step reached in the lifecycle's
 * order, or stopped when it stopped after its last step.
 */
export function igaStage(milestones) {
  const order = app.info.codes.milestone || [];
  const rank = (k) => order.indexOf(k);
  const live = milestones.filter((m) => !m.archived_at);
  const steps = live.filter((m) => m.kind !== 'iga_stopped');
  const furthest = steps.reduce((best, m) => (!best || rank(m.kind) > rank(best.kind)
    || (rank(m.kind) === rank(best.kind) && m.date > best.date) ? m : best), null);
  const stopped = live.filter((m) => m.kind === 'iga_stopped').reduce((l, m) => (!l || m.date > l.date ? m : l), null);
  if (stopped && (!furthest || stopped.date >= furthest.date)) return 'iga_stopped';
  return furthest ? furthest.kind : null;
}

/** The sum of an IGA's investment by every source, as decimal text. */
export function investmentTotal(i) {
  let cents = 0;
  let any = false;
  for (const k of ['invest_grant', 'invest_indh', 'invest_microfinance', 'invest_bank', 'invest_own', 'invest_family']) {
    if (i[k]) {
      any = true;
      cents += Math.round(Number(i[k]) * 100);
    }
  }
  return any ? (cents / 100).toFixed(2) : null;
}

/** Corriger / Retirer beside a record of a declared kind. */
function recordButtons(kind, id) {
  if (!shown || !canRecord(shown.profile)) return '';
  return ` <span class="row-actions no-print"><button type="button" class="small" data-rec-correct="${kind}" data-id="${esc(id)}" data-i18n="profile.correct"></button>
    <button type="button" class="small danger" data-rec-void="${kind}" data-id="${esc(id)}" data-i18n="profile.void"></button></span>`;
}

function igasHtml(p, r) {
  const ids = new Set(r.igas.map((i) => i.id));
  const cards = r.igas.map((i) => igaCard(p, i, p.milestones.filter((m) => m.iga_id === i.id), r.followups.filter((f) => f.iga_id === i.id)));
  // Steps of an IGA withdrawn since (or not here yet) stay in sight.
  const loose = p.milestones.filter((m) => !ids.has(m.iga_id));
  if (loose.length) {
    cards.push(`<article class="card iga loose" id="loose-milestones"><h3 data-i18n="programme.loose_milestones"></h3>
      <ol class="timeline iga-milestones">${loose.map(milestoneItem).join('')}</ol></article>`);
  }
  if (!cards.length) return `<p class="muted" id="no-igas" data-i18n="programme.no_igas"></p>`;
  return `<div class="iga-list">${cards.join('')}</div>`;
}

function igaCard(p, i, milestones, followups) {
  const stage = igaStage(milestones);
  const total = investmentTotal(i);
  const place = placeHtml([i.region && t(`region.${i.region}`), i.province && t(`province.${i.province}`), i.commune]);
  const facts = [
    ['field.sector', esc(codeLabel('sector', i.sector))],
    ['field.form', esc(codeLabel('iga_form', i.form)) + (i.members && i.members.length ? ` (${esc(tn('programme.members_count', i.members.length))})` : '')],
    ['field.legal_status', esc(codeLabel('legal_status', i.legal_status))],
    ['field.social_security', esc(codeLabel('social_security', i.social_security) || '—')],
    ['field.jobs_created', esc(i.jobs_created ?? '—')],
    ['programme.investment_total', total ? `<bdi class="amount">${esc(formatAmount(total))}</bdi>` : '—'],
    ...(place ? [['profile.place', place]] : []),
  ];
  const steps = [...milestones].sort((a, b) => (b.date + b.created_at).localeCompare(a.date + a.created_at));
  const surveys = followups;
  const adding = canRecord(p);
  return `<article class="card iga" data-id="${esc(i.id)}">
    <div class="row">
      <h3 class="iga-title"><bdi>${esc(igaTitle(i))}</bdi></h3>
      <span class="badge iga-stage stage-${esc(stage || 'none')}">${esc(stage ? codeLabel('milestone', stage) : t('stage.none'))}</span>
      <span class="spacer"></span>${recordButtons('iga', i.id)}
    </div>
    ${i.activity && i.name ? `<p class="muted"><bdi>${esc(i.activity)}</bdi></p>` : ''}
    <dl class="facts iga-facts">${facts.map(([k, v]) => `<dt data-i18n="${k}"></dt><dd>${v}</dd>`).join('')}</dl>
    <div class="row iga-sub"><h4 data-i18n="programme.iga_milestones"></h4><span class="spacer"></span>
      ${adding ? `<button type="button" class="small no-print" data-add-milestone="${esc(i.id)}" aria-controls="panel" data-i18n="programme.add_step"></button>` : ''}</div>
    ${steps.length ? `<ol class="timeline iga-milestones">${steps.map(milestoneItem).join('')}</ol>` : `<p class="muted" data-i18n="programme.no_steps"></p>`}
    <div class="row iga-sub"><h4 data-i18n="programme.iga_followups"></h4><span class="spacer"></span>
      ${adding ? `<button type="button" class="small no-print" data-add-followup="${esc(i.id)}" aria-controls="panel" data-i18n="programme.add_followup"></button>` : ''}</div>
    ${surveys.length ? `<ol class="timeline iga-followups">${surveys.map(followupItem).join('')}</ol>` : `<p class="muted" data-i18n="programme.no_followups"></p>`}
  </article>`;
}

function followupItem(f) {
  const bits = [
    f.monthly_turnover ? `<span class="muted" data-i18n="field.monthly_turnover"></span> <bdi class="amount">${esc(formatAmount(f.monthly_turnover))}</bdi>` : '',
    f.monthly_profit ? `<span class="muted" data-i18n="field.monthly_profit"></span> <bdi class="amount">${esc(formatAmount(f.monthly_profit))}</bdi>` : '',
    f.sales_channels ? `<span class="muted" data-i18n="field.sales_channels"></span> ${esc(recordValue('iga_followup', 'sales_channels', f.sales_channels))}` : '',
  ].filter(Boolean).join(' · ');
  return `<li class="followup" data-id="${esc(f.id)}" data-operating="${f.operating}">
    <time datetime="${esc(f.date)}">${esc(formatDate(f.date))}</time>
    <strong>${esc(t(f.operating ? 'programme.operating' : 'programme.not_operating'))}</strong>
    ${f.not_operating_reason ? `<span class="muted"> — <bdi>${esc(f.not_operating_reason)}</bdi></span>` : ''}${recordButtons('iga_followup', f.id)}
    ${bits ? `<div>${bits}</div>` : ''}${f.notes ? `<div class="notes">${esc(f.notes)}</div>` : ''}</li>`;
}

function recordListHtml(kind, list, line, emptyKey) {
  if (!list.length) return `<p class="muted" data-i18n="${emptyKey}"></p>`;
  return `<ol class="timeline ${kind}-list">${list.map((r) => `<li class="${kind}" data-id="${esc(r.id)}">${line(r)}${recordButtons(kind, r.id)}
    ${r.notes ? `<div class="notes">${esc(r.notes)}</div>` : ''}</li>`).join('')}</ol>`;
}

function seasonLine(s) {
  const dates = [s.departure_date, s.return_date].map((d) => (d ? formatDate(d) : '…')).join(' → ');
  const planned = s.returned_as_planned === null || s.returned_as_planned === undefined ? ''
    : ` · ${esc(t(s.returned_as_planned ? 'programme.returned_as_planned' : 'programme.not_returned_as_planned'))}`;
  return `<time>${esc(s.year)}</time> <strong>${esc(recordValue('season', 'country', s.country))}</strong>
    ${s.employer ? ` — <bdi>${esc(s.employer)}</bdi>` : ''}<div class="muted"><bdi dir="ltr">${esc(dates)}</bdi>${planned}</div>`;
}

function referralLine(r) {
  const outcome = `${codeLabel('referral_outcome', r.outcome)}${r.outcome_date ? ` (${formatDate(r.outcome_date)})` : ''}`;
  return `<time datetime="${esc(r.date)}">${esc(formatDate(r.date))}</time> <strong><bdi>${esc(partnerNameOf(r.partner_id))}</bdi></strong>
    <span class="badge outcome-${esc(r.outcome)}">${esc(outcome)}</span>${r.reason ? `<div><bdi>${esc(r.reason)}</bdi></div>` : ''}`;
}

const TITLES = {
  iga: { add: 'programme.add_iga', correct: 'programme.correct_iga', void: 'programme.void_iga', saved: 'programme.iga_saved' },
  iga_followup: { add: 'programme.add_followup', correct: 'programme.correct_followup', void: 'programme.void_followup', saved: 'programme.followup_saved' },
  season: { add: 'programme.add_season', correct: 'programme.correct_season', void: 'programme.void_season', saved: 'programme.season_saved' },
  referral: { add: 'programme.add_referral', correct: 'programme.correct_referral', void: 'programme.void_referral', saved: 'programme.referral_saved' },
};

/** What a new record's form starts with. */
function defaults(kind, b) {
  const moroccan = (app.info.regions || []).some((r) => r.code === b.region);
  switch (kind) {
    case 'iga':
      return { sector: b.iga_sector, form: 'individual', ...(moroccan ? { region: b.region, province: b.province, commune: b.commune } : {}) };
    case 'iga_followup':
    case 'referral':
      return { date: today(), ...(kind === 'referral' ? { outcome: 'pending' } : {}) };
    case 'season':
      return { year: new Date().getFullYear(), country: b.destination_country };
    default:
      return {};
  }
}

/** Shows a field only when another's value asks for it (the members of a collective IGA, why an IGA is not operating). */
function showWhen(form, field, other, test) {
  const wrap = form.querySelector(`#f-${field}`)?.closest('.field');
  const ctl = form.elements[other];
  if (!wrap || !ctl) return;
  const apply = () => (wrap.hidden = !test(ctl.value));
  ctl.addEventListener('change', apply);
  apply();
}

/**
 * A new record of a declared kind, or a correction of `record`: the form
 * built from the declaration; `extra` the fields the screen sets (her id,
 * the IGA a survey is about).
 */
function openRecord(panel, kind, b, opener, { record = null, extra = {} } = {}) {
  const correcting = Boolean(record);
  const values = correcting ? { ...record } : defaults(kind, b);
  const spec = recordSpec(kind, { correcting, region: values.region || '', current: record || {} });
  const titles = TITLES[kind];
  const formId = correcting ? 'correct-form' : `${kind.replace('_', '-')}-form`;
  const form = openPanel(panel, { titleKey: correcting ? titles.correct : titles.add, formId, spec, values, saveKey: 'form.save' }, opener, async (input) => {
    if (correcting) {
      await api.updateRecord(kind, record.id, patchOf(spec, input));
      toast(t('profile.corrected_toast'));
    } else {
      await api.addRecord(kind, { ...input, beneficiary_id: b.id, ...extra });
      toast(t(titles.saved));
    }
    await reload(correcting ? 'profile-name' : null);
  });
  wireRegion(form);
  if (kind === 'iga') showWhen(form, 'members', 'form', (v) => v === 'collective');
  if (kind === 'iga_followup') showWhen(form, 'not_operating_reason', 'operating', (v) => v === 'false');
  if (kind === 'iga_followup' && !correcting) {
    const of = shown.records.igas.find((i) => i.id === extra.iga_id);
    form.before(el(`<p class="muted" id="followup-of">${esc(t('programme.followup_of', { iga: of ? igaTitle(of) : '' }))}</p>`));
  }
  return form;
}

/** A record withdrawn: entered by mistake; the reason stays with it. */
function openRecordVoid(panel, kind, record, opener) {
  openPanel(panel, { titleKey: TITLES[kind].void, formId: 'void-form', spec: ARCHIVE_SPEC, values: {}, saveKey: 'profile.void_confirm', danger: true, intro: 'programme.void_intro' }, opener, async (input) => {
    await api.voidRecord(kind, record.id, input.archive_reason ?? null);
    toast(t('profile.voided_toast'));
    await reload('profile-name');
  });
}

/** The buttons of the IGA, season and referral sections. */
function wireRecords(view, profile, records) {
  const panel = view.querySelector('#panel');
  const lists = { iga: records.igas, iga_followup: records.followups, season: records.seasons, referral: records.referrals };
  for (const box of view.querySelectorAll('#igas, #seasons, #referrals')) {
    box.addEventListener('click', (e) => {
      const button = e.target.closest('button');
      if (!button) return;
      const d = button.dataset;
      if (d.addMilestone) openMilestone(panel, profile.beneficiary, button, d.addMilestone);
      else if (d.addFollowup) openRecord(panel, 'iga_followup', profile.beneficiary, button, { extra: { iga_id: d.addFollowup } });
      else if (d.recCorrect || d.recVoid) {
        const kind = d.recCorrect || d.recVoid;
        const record = lists[kind].find((r) => r.id === d.id);
        if (!record) return;
        if (d.recCorrect) openRecord(panel, kind, profile.beneficiary, button, { record });
        else openRecordVoid(panel, kind, record, button);
      } else if (d.correct || d.void) {
        // A milestone under its IGA: the timeline's own corrections.
        const record = profile.milestones.find((r) => r.id === d.id);
        if (!record) return;
        if (d.correct) openCorrect(panel, 'milestone', record, button);
        else openVoid(panel, 'milestone', record, button);
      }
    });
  }
}

// --- Her records withdrawn -----------------------------------------------

/** What names a withdrawn record in the list: an IGA's title, a survey's date and IGA, a season's year and country, a referral's date and partner. */
function withdrawnTitle(kind, r, records) {
  switch (kind) {
    case 'iga':
      return igaTitle(r);
    case 'iga_followup': {
      const of = records.allIgas.find((i) => i.id === r.iga_id);
      return `${formatDate(r.date)} — ${t(r.operating ? 'programme.operating' : 'programme.not_operating')}${of ? ` (${igaTitle(of)})` : ''}`;
    }
    case 'season':
      return `${r.year} — ${recordValue('season', 'country', r.country)}`;
    default:
      return `${formatDate(r.date)} — ${partnerNameOf(r.partner_id)}`;
  }
}

/**
 * Her IGAs, surveys, seasons and referrals withdrawn, in a folded group
 * ("2 saisies retirées"): each with when and why, and Restaurer for
 * whoever may record (the core checks the role, and that what it names
 * is still here: a survey of an IGA withdrawn waits for its IGA).
 */
function withdrawnRecordsHtml(p, records) {
  const list = records.withdrawn;
  if (!list.length) return '';
  const restore = canRecord(p);
  return `<details class="card withdrawn no-print" id="withdrawn-records"${withdrawnOpen ? ' open' : ''}>
    <summary>${esc(tn('programme.withdrawn_records', list.length))}</summary>
    <ul class="plain-list withdrawn-list">${list.map(({ kind, record: r }) => `<li data-kind="${esc(kind)}" data-id="${esc(r.id)}">
      <span class="badge" data-i18n="programme.record_kind.${esc(kind)}"></span> <strong><bdi>${esc(withdrawnTitle(kind, r, records))}</bdi></strong>
      <div>${withdrawnHtml(r)}
      ${restore ? `<button type="button" class="small" data-restore="${esc(kind)}" data-id="${esc(r.id)}" data-i18n="programme.restore"></button>` : ''}
      <span class="error" role="alert"></span></div></li>`).join('')}</ul>
  </details>`;
}

function wireWithdrawn(view) {
  const group = view.querySelector('#withdrawn-records');
  if (!group) return;
  group.addEventListener('toggle', () => (withdrawnOpen = group.open));
  group.addEventListener('click', async (e) => {
    const button = e.target.closest('button[data-restore]');
    if (!button) return;
    const out = button.parentElement.querySelector('.error');
    out.textContent = '';
    button.disabled = true;
    try {
      await api.restoreRecord(button.dataset.restore, button.dataset.id);
      toast(t('programme.restored_toast'));
      await reload('profile-name');
    } catch (err) {
      out.textContent = errorText(err);
      button.disabled = false;
    }
  });
}
