// The Duplicates screen: people brought by bundles who may be the same
// woman registered on two laptops, with a score and the reasons. Merge
// (keeping one identity, choosing field by field which values it keeps,
// side by side), undo a merge, or say they are two people. Nothing merges
// without this screen or the CLI.

import * as api from '../api.js';
import { applyTranslations, errorText, formatBirth, formatInstant, t, tn } from '../i18n.js';
import { el, esc, fullName, may, phoneText, toast } from '../state.js';
import { valueText } from './profile.js';

let showAll = false;

export async function render(main) {
  const view = el(`<section>
    <div class="row"><h1 data-i18n="duplicates.title"></h1><span class="spacer"></span>
      <label class="checkbox-inline"><input type="checkbox" id="duplicates-all"> <span data-i18n="duplicates.show_all"></span></label></div>
    <p class="muted" data-i18n="duplicates.help"></p>
    <p id="duplicates-count" aria-live="polite"></p>
    <div id="pair-list"></div>
  </section>`);
  main.append(view);
  applyTranslations(view);
  const all = view.querySelector('#duplicates-all');
  all.checked = showAll;
  all.addEventListener('change', () => {
    showAll = all.checked;
    load(view);
  });
  view.querySelector('#pair-list').addEventListener('click', (e) => onClick(view, e));
  await load(view);
}

function personHtml(p, kept) {
  const facts = [
    [t('field.cin'), p.cin],
    [t('field.phone'), phoneText(p.phone)],
    [t('field.birth_date'), formatBirth(p)],
    [t('field.commune'), p.commune],
    [t('duplicates.device'), p.device_name],
    [t('duplicates.visits'), String(p.visit_count)],
  ].filter(([, v]) => v);
  const badge = kept === p.id ? `<span class="badge">${esc(t('duplicates.kept'))}</span>` : '';
  return `<div class="person">
    <h3><a href="#/profile/${esc(p.id)}">${esc(fullName(p))}</a> ${badge}</h3>
    ${p.name_ar ? `<p class="arabic">${esc(p.name_ar)}</p>` : ''}
    <dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
  </div>`;
}

function pairHtml(p) {
  const reasons = p.reasons.map((r) => t(`dup.reason.${r}`)).join(' · ');
  // Merging and telling apart are the assistant's (docs/access.md).
  const settle = may('settle');
  let actions;
  if (p.status === 'merged') {
    // A merge that does not take effect (decided apart from another one
    // on the same people): a person looks at it again.
    const aside = p.in_effect ? '' : `<p class="badge overdue">${esc(t('duplicates.not_in_effect'))}</p>`;
    actions = `<p>${esc(t('duplicates.merged', { by: p.decided_by, at: formatInstant(p.decided_at) }))}</p>${aside}
      ${settle ? `<button class="unmerge">${esc(t('duplicates.unmerge'))}</button>` : ''}`;
  } else if (p.status === 'distinct') {
    actions = `<p>${esc(t('duplicates.distinct', { by: p.decided_by, at: formatInstant(p.decided_at) }))}</p>`;
  } else if (settle) {
    actions = `<button class="primary merge-a">${esc(t('duplicates.merge_keep', { name: fullName(p.a) }))}</button>
      <button class="primary merge-b">${esc(t('duplicates.merge_keep', { name: fullName(p.b) }))}</button>
      <button class="dismiss">${esc(t('duplicates.dismiss'))}</button>`;
  } else {
    actions = '';
  }
  return `<article class="card pair" data-id="${esc(p.id)}" data-a="${esc(p.a.id)}" data-b="${esc(p.b.id)}">
    <p><span class="badge">${esc(t('duplicates.score', { score: p.score }))}</span> ${esc(reasons)}</p>
    <div class="pair-people">${personHtml(p.a, p.kept)}${personHtml(p.b, p.kept)}</div>
    <div class="row">${actions}</div>
    <div class="merge-choice" hidden></div>
  </article>`;
}

/** A value of the side-by-side merge as a person reads it, isolated (CINs, phones, ids stay left to right in Arabic). */
function choiceValue(field, value) {
  const text = field === 'phone' && value ? phoneText(value) : valueText(field, value);
  return `<bdi>${esc(text)}</bdi>`;
}

/** Both records side by side: one radio per field that differs, the other's value chosen where the kept one is empty. */
function choiceHtml(preview) {
  const { kept, other } = preview;
  const rows = preview.fields.map((f, i) => {
    const name = `take-${i}`;
    return `<tr data-field="${esc(f.field)}"><th scope="row">${esc(t(`field.${f.field}`))}</th>
      <td><label><input type="radio" name="${name}" value="kept"${f.take ? '' : ' checked'}> ${choiceValue(f.field, f.kept)}</label></td>
      <td><label><input type="radio" name="${name}" value="other"${f.take ? ' checked' : ''}> ${choiceValue(f.field, f.other)}</label></td></tr>`;
  });
  return `<h3>${esc(t('merge.title', { kept: fullName(kept), other: fullName(other) }))}</h3>
    <p class="muted">${esc(t('merge.help'))}</p>
    ${rows.length ? `<table class="merge-fields">
      <thead><tr><th scope="col">${esc(t('merge.field'))}</th>
        <th scope="col">${esc(t('merge.keep_side', { name: fullName(kept) }))}</th>
        <th scope="col">${esc(t('merge.other_side', { name: fullName(other) }))}</th></tr></thead>
      <tbody>${rows.join('')}</tbody></table>` : `<p>${esc(t('merge.same_values'))}</p>`}
    <div class="row"><button type="button" class="primary merge-confirm" data-kept="${esc(kept.id)}" data-other="${esc(other.id)}">${esc(t('merge.confirm'))}</button>
      <button type="button" class="merge-cancel">${esc(t('merge.cancel'))}</button></div>`;
}

async function openChoice(card, kept, other) {
  const box = card.querySelector('.merge-choice');
  box.innerHTML = choiceHtml(await api.mergePreview(kept, other));
  box.hidden = false;
  const first = box.querySelector('input[type=radio]:checked') || box.querySelector('.merge-confirm');
  if (first) first.focus();
}

/** The fields whose radio says "the other's". */
function chosenTakes(card) {
  return [...card.querySelectorAll('.merge-fields tbody tr')]
    .filter((tr) => tr.querySelector('input[value=other]').checked)
    .map((tr) => tr.dataset.field);
}

async function load(view) {
  let list;
  try {
    list = await api.listDuplicates(showAll);
  } catch (err) {
    view.querySelector('#duplicates-count').textContent = errorText(err);
    return;
  }
  view.querySelector('#duplicates-count').textContent = list.length ? tn('duplicates.count', list.length) : t('duplicates.none');
  view.querySelector('#pair-list').innerHTML = list.map(pairHtml).join('');
}

async function onClick(view, e) {
  const b = e.target.closest('button');
  const card = e.target.closest('.pair');
  if (!b || !card) return;
  const { a, b: other } = card.dataset;
  try {
    if (b.classList.contains('merge-a')) return await openChoice(card, a, other);
    if (b.classList.contains('merge-b')) return await openChoice(card, other, a);
    if (b.classList.contains('merge-cancel')) {
      card.querySelector('.merge-choice').hidden = true;
      return;
    }
    if (b.classList.contains('merge-confirm')) await api.mergePersons(b.dataset.kept, b.dataset.other, chosenTakes(card));
    else if (b.classList.contains('unmerge')) await api.unmergePersons(a, other);
    else if (b.classList.contains('dismiss')) await api.dismissDuplicate(a, other);
    else return;
    toast(t('duplicates.done'));
    await load(view);
  } catch (err) {
    toast(errorText(err));
  }
}

export function onLanguageChange() {
  const main = document.getElementById('main');
  main.innerHTML = '';
  render(main);
}
