// Saving a file a person takes away (a bundle, a PDF, a workbook): a
// "Save as" button opens the system's dialog (on the USB stick when one is
// plugged in), and beside it "Enregistrer sur la clé USB" saves in one
// click when exactly one stick is there. The path chosen goes to the
// command that writes (the core refuses the database and its companions).
// Once saved, a message that stays until dismissed says what is in the
// file, with "Ouvrir" and "Afficher dans le dossier".

import * as api from './api.js';
import { currentLang, errorText, t, tn } from './i18n.js';
import { showProgress } from './progress.js';
import { esc } from './state.js';

/** Numbers in the locale's grouping: 1830 → "1 830" (fr), "1,830" (en). */
export function number(n) {
  const locale = { fr: 'fr-FR', ar: 'ar-MA', en: 'en-GB' }[currentLang()] || 'fr-FR';
  // Latin digits in Arabic too, as the rest of the app writes them.
  return new Intl.NumberFormat(locale, { numberingSystem: 'latn' }).format(n);
}

/** `t(key, params)` as HTML, each value isolated (<bdi>) so that numbers, names and paths keep their order in Arabic. */
export function tHtml(key, params = {}) {
  return esc(t(key)).replace(/\{(\w+)\}/g, (_, k) => (params[k] !== undefined ? `<bdi>${esc(params[k])}</bdi>` : ''));
}

/** "412 personnes, 1 830 visites, 57 étapes" from counts of records. */
export function peopleHtml(c) {
  return tHtml('save.people', {
    people: tn('count.people', c.beneficiaries, { n: number(c.beneficiaries) }),
    visits: tn('count.visits', c.visits, { n: number(c.visits) }),
    milestones: tn('count.milestones', c.milestones, { n: number(c.milestones) }),
  });
}

/**
 * Shows in `out` that `path` was saved, `html` saying what it holds; the
 * message stays until its close button.
 */
export function showSaved(out, html, path) {
  out.innerHTML = `<div class="saved card notice" role="status">
    <p><span class="saved-text">${html}</span> — <span>${esc(t('save.ready'))}</span></p>
    <p class="muted"><bdi dir="ltr" class="saved-path">${esc(path)}</bdi></p>
    <div class="row">
      <button type="button" class="saved-open">${esc(t('save.open'))}</button>
      <button type="button" class="saved-reveal">${esc(t('save.reveal'))}</button>
      <button type="button" class="saved-dismiss" aria-label="${esc(t('save.dismiss'))}">${esc(t('save.dismiss'))}</button>
    </div>
    <p class="saved-error" aria-live="polite"></p>
  </div>`;
  const box = out.firstElementChild;
  const failed = (err) => (box.querySelector('.saved-error').textContent = errorText(err));
  box.querySelector('.saved-open').addEventListener('click', () => api.openSaved(path).catch(failed));
  box.querySelector('.saved-reveal').addEventListener('click', () => api.revealSaved(path).catch(failed));
  box.querySelector('.saved-dismiss').addEventListener('click', () => {
    out.innerHTML = '';
  });
}

/**
 * Makes `button` a "Save as" button and adds "Enregistrer sur la clé USB"
 * beside it (id `<button id>-usb`), shown while exactly one stick is there.
 * spec: {what, ext (null for a folder), filter (label key), out (element),
 * write(path, job) → result with .path, describe(result) → HTML,
 * before() → false to stop (e.g. nothing to save), failed(err), job: true
 * for long work (a PDF, an export): a progress bar and Cancel in `out`
 * while it runs, `job` handed to write for its command (progress.js)}.
 */
export function offerSave(button, spec) {
  const usb = document.createElement('button');
  usb.type = 'button';
  usb.id = `${button.id}-usb`;
  usb.className = 'usb';
  usb.hidden = true;
  button.after(usb);
  const refresh = async () => {
    if (!usb.isConnected) return clearInterval(timer);
    let drives = [];
    try {
      drives = await api.removableDrives();
    } catch {
      drives = [];
    }
    usb.hidden = button.hidden || drives.length !== 1;
    if (drives.length === 1) usb.innerHTML = tHtml('save.usb', { name: drives[0].label });
  };
  // A stick plugged in while the screen is open.
  const timer = setInterval(refresh, 4000);
  refresh();

  const run = async (choose) => {
    if (spec.before && (await spec.before()) === false) return;
    let path;
    try {
      const places = await api.savePlaces(spec.what, spec.ext);
      path = await choose(places);
    } catch (err) {
      spec.out.textContent = errorText(err);
      return;
    }
    if (!path) return;
    button.disabled = usb.disabled = true;
    spec.out.textContent = t('save.working');
    const running = spec.job ? showProgress(spec.out) : null;
    try {
      const result = await spec.write(path, running && running.job);
      showSaved(spec.out, spec.describe(result), result.path);
    } catch (err) {
      if (spec.failed) spec.failed(err);
      spec.out.textContent = errorText(err);
    } finally {
      if (running) running.end();
      button.disabled = usb.disabled = false;
    }
  };
  button.addEventListener('click', () => run((places) => api.saveDialog({
    title: t('save.dialog_title'),
    defaultPath: places.suggested,
    filters: spec.ext ? [{ name: t(spec.filter), extensions: [spec.ext] }] : [],
  })));
  usb.addEventListener('click', () => run(async (places) => {
    if (!places.usb) await refresh();
    return places.usb;
  }));
  return { refresh };
}
