// Group sessions (training, information): `#/sessions` lists them (date,
// kind, module, place, how many attended) and creates one from the core's
// declaration (records.js); `#/sessions/<id>` takes its attendance: a
// filter box searches people as the beneficiary list does (names in both
// scripts, CIN, phone), a click or Space ticks one, Enter in the box ticks
// the first match and leaves the box ready for the next name; the people
// ticked stay at the top with their count, and one button saves the list
// (api.takeAttendance: ticked ones present, unticked ones withdrawn).
// A session is corrected (its declared form again, filled) or withdrawn
// with a reason from its own page; a withdrawn one keeps its list as it
// was taken but counts nowhere (participation, exports) until it is put
// back: the list's folded "N séances retirées" group, or its own page,
// has the Restaurer button (the `record` role, as the core checks).

import * as api from '../api.js';
import { applyTranslations, codeLabel, errorText, formatDate, t, tn } from '../i18n.js';
import { clearErrors, readForm, renderForm, showErrors } from '../form.js';
import { el, esc, fullName, may, navigate, toast } from '../state.js';
import { loadKinds, loadPartners, partnerNameOf, patchOf, recordSpec, wireRegion, withdrawnHtml } from '../records.js';
import { today } from './profile.js';

let shownId = null;
/** The list being ticked and not saved yet, kept across a change of language. */
let unsaved = null; // { id, ticked: Map }
/** Whether the withdrawn sessions' group is open (kept across a redraw). */
let withdrawnOpen = false;

export async function render(main, id) {
  await Promise.all([loadKinds(), loadPartners()]);
  shownId = id || null;
  if (id) return renderSession(main, id);
  return renderList(main);
}

/** A session's kind and module, as one label. */
function sessionLabel(s) {
  const kind = codeLabel('session_kind', s.kind);
  return s.module ? `${kind} — ${codeLabel('fe_module', s.module)}` : kind;
}

function placeOf(s) {
  return [s.place, s.province && t(`province.${s.province}`), s.region && t(`region.${s.region}`)].filter(Boolean).join(' · ');
}

async function renderList(main) {
  const [all, attendance] = await Promise.all([api.records('session', { archived: true }), api.records('attendance')]);
  const sessions = all.filter((s) => !s.archived_at);
  const withdrawn = all.filter((s) => s.archived_at);
  const counts = new Map();
  for (const a of attendance) counts.set(a.session_id, (counts.get(a.session_id) || 0) + 1);
  const view = el(`<section class="sessions">
    <div class="row"><h1 data-i18n="programme.sessions"></h1><span class="spacer"></span>
      ${may('record') ? `<button type="button" class="primary" id="new-session" aria-controls="session-panel" data-i18n="programme.new_session"></button>` : ''}</div>
    <div id="session-panel" class="card" hidden></div>
    <p class="muted" id="sessions-count">${esc(tn('programme.sessions_count', sessions.length))}</p>
    <table id="sessions-table">
      <thead><tr><th data-i18n="field.date"></th><th data-i18n="programme.session_kind"></th>
        <th data-i18n="programme.session_place"></th><th class="num" data-i18n="programme.attendance"></th></tr></thead>
      <tbody>${sessions.map((s) => `<tr data-id="${esc(s.id)}">
        <td><bdi dir="ltr">${esc(formatDate(s.date))}</bdi></td>
        <td><a href="#/sessions/${esc(s.id)}" class="session-link">${esc(sessionLabel(s))}</a>${s.title ? `<div class="muted"><bdi>${esc(s.title)}</bdi></div>` : ''}</td>
        <td><bdi>${esc(placeOf(s))}</bdi></td>
        <td class="num attendance-count">${esc(counts.get(s.id) || 0)}</td></tr>`).join('')}</tbody>
    </table>
    ${sessions.length ? '' : '<p class="muted" id="no-sessions" data-i18n="programme.no_sessions"></p>'}
    ${withdrawn.length ? `<details class="card withdrawn" id="withdrawn-sessions"${withdrawnOpen ? ' open' : ''}>
      <summary>${esc(tn('programme.withdrawn_sessions', withdrawn.length))}</summary>
      <table id="withdrawn-sessions-table">
        <thead><tr><th data-i18n="field.date"></th><th data-i18n="programme.session_kind"></th>
          <th data-i18n="programme.withdrawn_reason"></th><th class="num" data-i18n="programme.attendance"></th><th></th></tr></thead>
        <tbody>${withdrawn.map((s) => `<tr data-id="${esc(s.id)}">
          <td><bdi dir="ltr">${esc(formatDate(s.date))}</bdi></td>
          <td><a href="#/sessions/${esc(s.id)}" class="session-link">${esc(sessionLabel(s))}</a>${s.title ? `<div class="muted"><bdi>${esc(s.title)}</bdi></div>` : ''}</td>
          <td>${withdrawnHtml(s)}</td>
          <td class="num attendance-count">${esc(counts.get(s.id) || 0)}</td>
          <td>${may('record') ? `<button type="button" class="small" data-restore="${esc(s.id)}" data-i18n="programme.restore"></button>` : ''}
            <span class="error" role="alert"></span></td></tr>`).join('')}</tbody>
      </table>
    </details>` : ''}
  </section>`);
  main.append(view);
  applyTranslations(view);
  view.querySelector('#sessions-table tbody').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr && !e.target.closest('a')) navigate(`#/sessions/${tr.dataset.id}`);
  });
  const group = view.querySelector('#withdrawn-sessions');
  if (group) {
    group.addEventListener('toggle', () => (withdrawnOpen = group.open));
    group.addEventListener('click', async (e) => {
      const button = e.target.closest('button[data-restore]');
      if (!button) return;
      const out = button.parentElement.querySelector('.error');
      out.textContent = '';
      button.disabled = true;
      try {
        await api.restoreRecord('session', button.dataset.restore);
        toast(t('programme.session_restored'));
        const main = document.getElementById('main');
        main.innerHTML = '';
        await renderList(main);
        document.getElementById('sessions-table')?.querySelector(`tr[data-id="${CSS.escape(button.dataset.restore)}"] a`)?.focus();
      } catch (err) {
        out.textContent = errorText(err);
        button.disabled = false;
      }
    });
  }
  const add = view.querySelector('#new-session');
  if (add) add.addEventListener('click', () => openSessionForm(view.querySelector('#session-panel'), add));
}

/** Closes a panel and gives the focus back to what opened it. */
function closer(panel, opener) {
  return () => {
    panel.hidden = true;
    panel.innerHTML = '';
    opener.focus();
  };
}

/**
 * A session's form, from its declaration: a new one (saved, its
 * attendance opens) or the correction of `session` (its fields filled;
 * saved, its page shows the new values, the ticks not saved kept).
 */
function openSessionForm(panel, opener, session = null) {
  const correcting = Boolean(session);
  panel.hidden = false;
  panel.innerHTML = '';
  panel.append(el(`<h2 id="session-form-title" data-i18n="${correcting ? 'programme.correct_session' : 'programme.new_session'}"></h2>`));
  const form = el('<form id="session-form" aria-labelledby="session-form-title"></form>');
  panel.append(form);
  const spec = recordSpec('session', { correcting, region: session?.region || '', current: session || {} });
  const actions = renderForm(form, spec, correcting ? session : { date: today() });
  const save = el('<button type="submit" class="primary" id="session-form-save" data-i18n="form.save"></button>');
  const cancel = el('<button type="button" id="session-form-cancel" data-i18n="form.cancel"></button>');
  actions.append(save, cancel);
  applyTranslations(panel);
  wireRegion(form);
  // The module only means something for financial education.
  const module = form.elements.module.closest('.field');
  const showModule = () => (module.hidden = form.elements.kind.value !== 'financial_education');
  form.elements.kind.addEventListener('change', showModule);
  showModule();
  const close = closer(panel, opener);
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const input = readForm(form, spec);
    if (module.hidden) delete input.module;
    save.disabled = true;
    try {
      if (correcting) {
        // Every field of the form: one left blank is cleared.
        await api.updateRecord('session', session.id, patchOf(spec, input));
        toast(t('profile.corrected_toast'));
        await redrawSession('session-title');
      } else {
        const made = await api.addRecord('session', input);
        toast(t('programme.session_saved'));
        navigate(`#/sessions/${made.id}`);
      }
    } catch (err) {
      showErrors(form, err);
    } finally {
      save.disabled = false;
    }
  });
  form.elements.kind.focus();
}

/** Withdrawing a session entered by mistake (or that did not take place): the reason is required and stays with it. */
function openVoid(panel, opener, session) {
  panel.hidden = false;
  panel.innerHTML = '';
  panel.append(el('<h2 id="session-form-title" data-i18n="programme.void_session"></h2>'),
    el('<p class="muted" id="void-session-intro" data-i18n="programme.void_session_intro"></p>'));
  const form = el('<form id="void-form" aria-labelledby="session-form-title"></form>');
  panel.append(form);
  const spec = [{ name: 'archive_reason', label: 'programme.withdrawn_reason', type: 'textarea', required: true, wide: true }];
  const actions = renderForm(form, spec, {});
  const save = el('<button type="submit" class="danger" id="void-form-save" data-i18n="profile.void_confirm"></button>');
  const cancel = el('<button type="button" id="void-form-cancel" data-i18n="form.cancel"></button>');
  actions.append(save, cancel);
  applyTranslations(panel);
  const close = closer(panel, opener);
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    save.disabled = true;
    try {
      await api.voidRecord('session', session.id, readForm(form, spec).archive_reason ?? null);
      toast(t('profile.voided_toast'));
      await redrawSession('session-title');
    } catch (err) {
      showErrors(form, err);
    } finally {
      save.disabled = false;
    }
  });
  form.elements.archive_reason.focus();
}

/** Draws the session shown again (after a correction, a withdrawal, a restore), keeping what was ticked and not saved. */
async function redrawSession(focusId) {
  if (unsaved) unsaved.keep = true;
  const main = document.getElementById('main');
  main.innerHTML = '';
  await render(main, shownId);
  document.getElementById(focusId)?.focus();
}

/** A person as a line of the attendance list. */
function personHtml(b, ticked) {
  const extra = [b.cin, b.commune].filter(Boolean).join(' · ');
  return `<li data-id="${esc(b.id)}"${ticked ? ' class="ticked"' : ''}><label>
    <input type="checkbox" value="${esc(b.id)}"${ticked ? ' checked' : ''}>
    <bdi class="person-name">${esc(fullName(b))}</bdi>${b.name_ar ? ` <span class="arabic">${esc(b.name_ar)}</span>` : ''}
    ${extra ? `<span class="muted"><bdi>${esc(extra)}</bdi></span>` : ''}</label></li>`;
}

async function renderSession(main, id) {
  const sessions = await api.records('session', { archived: true });
  const s = sessions.find((x) => x.id === id);
  if (!s) {
    main.append(el(`<p class="error" role="alert">${esc(t('error.unknown_record', { id }))}</p>`));
    return;
  }
  const attendance = await api.records('attendance', { sessionId: id });
  // The people on the list, by id (their names from their profiles).
  const ticked = new Map();
  const saved = new Set(attendance.map((a) => a.beneficiary_id));
  const people = await Promise.all([...saved].map((pid) => api.profile(pid).then((p) => p.beneficiary).catch(() => null)));
  for (const b of people) if (b) ticked.set(b.id, b);
  if (unsaved && unsaved.id === id && unsaved.keep) {
    ticked.clear();
    for (const [k, b] of unsaved.ticked) ticked.set(k, b);
  }
  unsaved = { id, ticked };
  const withdrawn = Boolean(s.archived_at);
  const editable = may('record') && !withdrawn;
  const facts = [
    ['field.date', `<bdi dir="ltr">${esc(formatDate(s.date))}</bdi>`],
    ['programme.session_place', `<bdi>${esc(placeOf(s)) || '—'}</bdi>`],
    ['field.facilitator', `<bdi>${esc(s.facilitator || '—')}</bdi>`],
    ['field.partner_id', `<bdi>${esc(partnerNameOf(s.partner_id) || '—')}</bdi>`],
  ];
  const view = el(`<section class="session-attendance" data-id="${esc(id)}">
    <div class="row"><h1 id="session-title" tabindex="-1">${esc(sessionLabel(s))}</h1><span class="spacer"></span>
      ${editable ? `<button type="button" id="session-correct" aria-controls="session-panel" data-i18n="profile.correct"></button>
      <button type="button" class="danger" id="session-void" aria-controls="session-panel" data-i18n="profile.void"></button>` : ''}
      <a class="button" href="#/sessions" id="sessions-back" data-i18n="programme.back_to_sessions"></a></div>
    ${withdrawn ? `<p class="card archived-note" id="session-withdrawn" role="status"><strong data-i18n="programme.session_withdrawn"></strong>
      ${withdrawnHtml(s)}
      ${may('record') ? `<button type="button" id="session-restore" data-i18n="programme.restore"></button>` : ''}
      <span id="session-restore-error" class="error" role="alert"></span></p>` : ''}
    <div id="session-panel" class="card" hidden></div>
    ${s.title ? `<p><bdi>${esc(s.title)}</bdi></p>` : ''}
    <dl class="facts session-facts">${facts.map(([k, v]) => `<dt data-i18n="${k}"></dt><dd>${v}</dd>`).join('')}</dl>
    <div class="attendance-grid">
      <section class="card" aria-labelledby="present-title">
        <div class="row"><h2 id="present-title" data-i18n="programme.present"></h2>
          <span class="badge" id="present-count" aria-live="polite"></span><span class="spacer"></span>
          <span class="muted" id="unsaved" hidden data-i18n="programme.unsaved"></span></div>
        <ul class="plain-list people-list" id="present-list"></ul>
        ${editable ? `<div class="row"><button type="button" class="primary" id="save-attendance" data-i18n="programme.save_attendance"></button>
          <span class="error" id="attendance-error" role="alert"></span></div>` : ''}
      </section>
      <section class="card" aria-labelledby="find-title">
        <h2 id="find-title" data-i18n="programme.find_people"></h2>
        <label class="sr-only" for="attendance-filter" data-i18n="programme.filter_people"></label>
        <input id="attendance-filter" type="search" autocomplete="off" data-i18n-placeholder="programme.filter_placeholder"
          aria-describedby="filter-help" ${editable ? '' : 'disabled'}>
        <p class="muted hint" id="filter-help" data-i18n="programme.filter_help"></p>
        <p class="muted" id="matches-count" aria-live="polite"></p>
        <ul class="plain-list people-list" id="match-list"></ul>
      </section>
    </div>
  </section>`);
  main.append(view);
  applyTranslations(view);
  const $ = (sel) => view.querySelector(sel);
  let found = [];
  const drawPresent = () => {
    const list = [...ticked.values()].sort((a, b) => fullName(a).localeCompare(fullName(b)));
    $('#present-list').innerHTML = list.length ? list.map((b) => personHtml(b, true)).join('')
      : `<li class="muted" data-i18n="programme.nobody_ticked"></li>`;
    applyTranslations($('#present-list'));
    $('#present-count').textContent = tn('programme.present_count', ticked.size);
    const same = ticked.size === saved.size && [...ticked.keys()].every((k) => saved.has(k));
    $('#unsaved').hidden = same;
    if (!editable) view.querySelectorAll('#present-list input').forEach((i) => (i.disabled = true));
  };
  const drawMatches = () => {
    $('#match-list').innerHTML = found.map((b) => personHtml(b, ticked.has(b.id))).join('');
  };
  let seq = 0;
  const find = async () => {
    const mine = ++seq;
    const q = $('#attendance-filter').value.trim();
    if (!q) {
      found = [];
      $('#matches-count').textContent = '';
      drawMatches();
      return;
    }
    let page;
    try {
      page = await api.listBeneficiaries({ search: q, limit: 30 });
    } catch (err) {
      $('#matches-count').textContent = errorText(err);
      return;
    }
    if (mine !== seq) return; // a newer keystroke asked again
    found = page.rows.filter((b) => !b.erased);
    $('#matches-count').textContent = tn('programme.matches_count', found.length, { total: page.total });
    drawMatches();
  };
  const toggle = (b, on) => {
    if (on) ticked.set(b.id, b);
    else ticked.delete(b.id);
    drawPresent();
    drawMatches();
  };
  let timer = null;
  const filter = $('#attendance-filter');
  filter.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(find, 120);
  });
  filter.addEventListener('keydown', async (e) => {
    if (e.key === 'Enter') {
      // Ticks the first match not ticked yet, for what is typed now, and
      // selects the text so the next name replaces it.
      e.preventDefault();
      clearTimeout(timer);
      await find();
      const first = found.find((b) => !ticked.has(b.id));
      if (first) {
        toggle(first, true);
        toast(t('programme.ticked', { name: fullName(first) }));
      }
      filter.select();
    } else if (e.key === 'ArrowDown') {
      const box = $('#match-list input');
      if (box) {
        e.preventDefault();
        box.focus();
      }
    }
  });
  // Arrow keys move between the boxes of a list; Space ticks (the box's own key).
  view.addEventListener('keydown', (e) => {
    const box = e.target.closest('.people-list input[type=checkbox]');
    if (!box || !['ArrowDown', 'ArrowUp'].includes(e.key)) return;
    const boxes = [...box.closest('ul').querySelectorAll('input[type=checkbox]')];
    const next = boxes[boxes.indexOf(box) + (e.key === 'ArrowDown' ? 1 : -1)];
    e.preventDefault();
    if (next) next.focus();
    else if (e.key === 'ArrowUp' && box.closest('#match-list')) filter.focus();
  });
  view.addEventListener('change', (e) => {
    const box = e.target.closest('.people-list input[type=checkbox]');
    if (!box) return;
    const b = ticked.get(box.value) || found.find((x) => x.id === box.value);
    if (!b) return;
    const inMatches = Boolean(box.closest('#match-list'));
    toggle(b, box.checked);
    // The focus stays where the person was working.
    const again = view.querySelector(`${inMatches ? '#match-list' : '#present-list'} input[value="${CSS.escape(b.id)}"]`);
    (again || filter).focus();
  });
  const save = $('#save-attendance');
  if (save) {
    save.addEventListener('click', async () => {
      $('#attendance-error').textContent = '';
      save.disabled = true;
      try {
        const result = await api.takeAttendance(id, [...ticked.keys()]);
        saved.clear();
        for (const k of result.present) saved.add(k);
        drawPresent();
        toast(tn('programme.attendance_saved', result.present.length));
      } catch (err) {
        $('#attendance-error').textContent = errorText(err);
      } finally {
        save.disabled = false;
      }
    });
  }
  const panel = $('#session-panel');
  $('#session-correct')?.addEventListener('click', (e) => openSessionForm(panel, e.currentTarget, s));
  $('#session-void')?.addEventListener('click', (e) => openVoid(panel, e.currentTarget, s));
  const restore = $('#session-restore');
  restore?.addEventListener('click', async () => {
    $('#session-restore-error').textContent = '';
    restore.disabled = true;
    try {
      await api.restoreRecord('session', id);
      toast(t('programme.session_restored'));
      await redrawSession('session-title');
    } catch (err) {
      $('#session-restore-error').textContent = errorText(err);
      restore.disabled = false;
    }
  });
  drawPresent();
  if (editable) filter.focus();
}

export function onLanguageChange() {
  if (unsaved) unsaved.keep = true;
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main, shownId || undefined).catch((err) => {
    main.textContent = errorText(err);
  });
}
