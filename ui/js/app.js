// Start-up and routing. Routes are `#/<screen>/<argument>`; each screen is a
// module with `render(main, arg)`, and optionally `onLanguageChange()`.

import * as api from './api.js';
import { addTranslations, applyTranslations, currentLang, errorText, setLanguage } from './i18n.js';
import { app, may } from './state.js';

const screens = {
  welcome: () => import('./screens/welcome.js'),
  unlock: () => import('./screens/unlock.js'),
  beneficiaries: () => import('./screens/beneficiaries.js'),
  register: () => import('./screens/register.js'),
  profile: () => import('./screens/profile.js'),
  followups: () => import('./screens/followups.js'),
  sessions: () => import('./screens/sessions.js'),
  settings: () => import('./screens/settings.js'),
  sync: () => import('./screens/sync.js'),
  conflicts: () => import('./screens/conflicts.js'),
  duplicates: () => import('./screens/duplicates.js'),
  dashboard: () => import('./screens/dashboard.js'),
  reports: () => import('./screens/reports.js'),
  audit: () => import('./screens/audit.js'),
};

performance.mark('modules');
let current = null;

/** Measurement (scripts/bench-start): after the frame that shows `screen`, the shell hears of it with the page's marks. */
function reportDrawn(screen) {
  requestAnimationFrame(() => setTimeout(() => {
    const marks = performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]);
    api.ready(screen, performance.timeOrigin, marks).catch(() => {});
  }, 0));
}

/** Region, province and country names become translations, so that labels follow the language. */
function registerReferenceNames(info) {
  for (const lang of ['fr', 'ar', 'en']) {
    const entries = {};
    for (const r of info.regions) {
      entries[`region.${r.code}`] = lang === 'ar' ? r.name_ar : r.name_fr;
      for (const p of r.provinces) entries[`province.${p.name}`] = lang === 'ar' && p.name_ar ? p.name_ar : p.name;
    }
    for (const c of info.countries) entries[`country.${c.code}`] = c[lang];
    addTranslations(lang, entries);
  }
}

/** Where the session stands: 'new' (set-up), 'locked' or 'open'. */
let session = { state: 'locked' };

/** Screens that show no data: the only ones while the database is closed. */
const CLOSED = { new: 'welcome', locked: 'unlock' };

async function render() {
  const main = document.getElementById('main');
  const [name, arg] = location.hash.replace(/^#\/?/, '').split('/');
  const route = CLOSED[session.state] || (!app.info.device ? 'welcome' : screens[name] && !['welcome', 'unlock'].includes(name) ? name : 'beneficiaries');
  // A .wafira file the app was opened with: its preview on the Sync
  // screen, once the data are open (sync.js takes it).
  if (session.state === 'open' && app.info.device) {
    const pending = await api.takePendingBundle().catch(() => null);
    if (pending) app.pendingBundle = pending;
    if (app.pendingBundle && route !== 'sync') {
      location.hash = '#/sync';
      return;
    }
  }
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.getElementById('nav').hidden = route === 'welcome' || route === 'unlock';
  // The audit log is the managers' (the core refuses it to other roles).
  document.querySelector('#nav a[data-route="audit"]').hidden = !may('manage_accounts');
  document.getElementById('lock-now').hidden = session.state !== 'open';
  document.getElementById('practice-banner').hidden = !(session.state === 'open' && app.info && app.info.practice);
  try {
    current = await screens[route]();
    main.innerHTML = '';
    await current.render(main, arg ? decodeURIComponent(arg) : undefined, session);
    applyTranslations(main);
    reportDrawn(route);
  } catch (err) {
    if (err && err.code === 'locked') return showLocked();
    main.textContent = errorText(err);
  }
}

export async function reloadInfo() {
  session = await api.sessionStatus();
  if (session.state !== 'open') return;
  app.info = await api.appInfo();
  registerReferenceNames(app.info);
}

/** The database locked (idle too long, by hand, or leaving practice): nothing of it stays on screen. */
export async function showLocked() {
  if (session.state === 'open' && !location.hash.startsWith('#/unlock')) {
    sessionStorage.setItem('wafira.before_lock', location.hash);
  }
  app.info = null;
  session = await api.sessionStatus();
  document.getElementById('main').innerHTML = '';
  await render();
}

/** Key presses and clicks tell the core a person is there (at most every 10 s). */
function reportActivity() {
  let last = 0;
  const seen = () => {
    const now = Date.now();
    if (session.state === 'open' && now - last > 10_000) {
      last = now;
      api.touch().catch(() => {});
    }
  };
  for (const type of ['keydown', 'pointerdown', 'wheel']) document.addEventListener(type, seen, { passive: true });
}

async function start() {
  const select = document.getElementById('lang');
  await reloadInfo();
  performance.mark('session');
  await setLanguage(currentLang());
  performance.mark('locales');
  select.value = currentLang();
  select.addEventListener('change', async () => {
    await setLanguage(select.value);
    if (current && current.onLanguageChange) current.onLanguageChange();
  });
  window.addEventListener('hashchange', render);
  window.addEventListener('unhandledrejection', (e) => {
    if (e.reason && e.reason.code === 'locked') showLocked();
  });
  window.__TAURI__.event.listen('locked', showLocked);
  // A second launch handed over a .wafira file (the window came to front).
  window.__TAURI__.event.listen('open-bundle', () => session.state === 'open' && render());
  document.getElementById('lock-now').addEventListener('click', async () => {
    await api.lock();
    await showLocked();
  });
  reportActivity();
  // "Aller au contenu" goes to the screen's content, not to a route named
  // #main: the hash is the router's.
  document.querySelector('a.skip').addEventListener('click', (e) => {
    e.preventDefault();
    const main = document.getElementById('main');
    const target = main.querySelector('h1') || main;
    if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target.focus();
  });
  await render();
  document.body.dataset.ready = 'true';
}

start().catch((err) => {
  document.getElementById('main').textContent = errorText(err);
});
