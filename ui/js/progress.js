// Long work in the window (importing bundles, printing a PDF, exporting):
// a progress bar that says what is being done ("Paquet 2 sur 5 — Portable
// Agadir 1", "Mise en page — page 12") and a Cancel button. The core stops
// where stopping writes nothing (between two bundles, before a file is
// written) and answers `cancelled`. The bar is a `progressbar` with its
// value and text for screen readers; it fills from the start side, so
// from the right in Arabic.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, esc } from './state.js';

/** What a step ({done, total, what: {kind, …}}) says, in the window's language. */
export function stepText(step) {
  const w = step.what || {};
  if (w.kind === 'saving') return w.pages ? t('progress.saving_pages', { pages: w.pages }) : t('progress.saving');
  return t(`progress.${w.kind}`, w);
}

/** The same as HTML, each name and number isolated (<bdi>) so that a laptop's Latin name keeps its place in Arabic. */
function stepHtml(step) {
  const w = step.what || {};
  const key = w.kind === 'saving' ? (w.pages ? 'progress.saving_pages' : 'progress.saving') : `progress.${w.kind}`;
  return esc(t(key)).replace(/\{(\w+)\}/g, (_, k) => (w[k] !== undefined ? `<bdi>${esc(w[k])}</bdi>` : ''));
}

/**
 * Shows a progress bar and a Cancel button at the end of `out`; gives
 * `{job, end}`: the job to hand to the command (api.js), and what removes
 * them once the command has answered.
 */
export function showProgress(out) {
  const box = el(`<div class="job">
    <div class="job-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"
      aria-label="${esc(t('progress.label'))}"><span class="job-fill"></span></div>
    <p class="job-text" aria-live="polite">${esc(t('progress.starting'))}</p>
    <button type="button" class="job-cancel">${esc(t('progress.cancel'))}</button>
  </div>`);
  const bar = box.querySelector('.job-bar');
  const text = box.querySelector('.job-text');
  const cancel = box.querySelector('.job-cancel');
  const job = api.job((step) => {
    const percent = step.total ? Math.floor((100 * step.done) / step.total) : 0;
    const said = stepText(step);
    bar.setAttribute('aria-valuenow', String(percent));
    bar.setAttribute('aria-valuetext', `${percent} % — ${said}`);
    box.querySelector('.job-fill').style.inlineSize = `${percent}%`;
    if (!cancel.disabled) text.innerHTML = stepHtml(step);
  });
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    text.textContent = t('progress.cancelling');
    api.cancelJob(job.id).catch(() => {});
  });
  out.append(box);
  return { job, end: () => box.remove() };
}
