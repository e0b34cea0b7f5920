// The Duplicates screen: people brought by bundles who may be the same
// woman registered on two laptops, with a score and the reasons. Merge
// (keeping one identity), undo a merge, or say they are two people.
// Nothing merges without this screen or the CLI.

import * as api from '../api.js';
import { applyTranslations, errorText, formatDate, formatInstant, t } from '../i18n.js';
import { el, esc, fullName, may, phoneText, toast } from '../state.js';

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
    [t('field.birth_date'), formatDate(p.birth_date)],
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
  </article>`;
}

async function load(view) {
  let list;
  try {
    list = await api.listDuplicates(showAll);
  } catch (err) {
    view.querySelector('#duplicates-count').textContent = errorText(err);
    return;
  }
  view.querySelector('#duplicates-count').textContent = list.length ? t('duplicates.count', { n: list.length }) : t('duplicates.none');
  view.querySelector('#pair-list').innerHTML = list.map(pairHtml).join('');
}

async function onClick(view, e) {
  const b = e.target.closest('button');
  const card = e.target.closest('.pair');
  if (!b || !card) return;
  const { a, b: other } = card.dataset;
  try {
    if (b.classList.contains('merge-a')) await api.mergePersons(a, other);
    else if (b.classList.contains('merge-b')) await api.mergePersons(other, a);
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
