// Start-up and routing. Routes are `#/<screen>/<argument>`; each screen is a
// module with `render(main, arg)`, and optionally `onLanguageChange()`.

import * as api from './api.js';
import { addTranslations, applyTranslations, currentLang, errorText, setLanguage } from './i18n.js';
import { app } from './state.js';

const screens = {
  welcome: () => import('./screens/welcome.js'),
  beneficiaries: () => import('./screens/beneficiaries.js'),
  register: () => import('./screens/register.js'),
  profile: () => import('./screens/profile.js'),
  followups: () => import('./screens/followups.js'),
  settings: () => import('./screens/settings.js'),
  sync: () => import('./screens/sync.js'),
  conflicts: () => import('./screens/conflicts.js'),
  duplicates: () => import('./screens/duplicates.js'),
  dashboard: () => import('./screens/dashboard.js'),
  reports: () => import('./screens/reports.js'),
};

let current = null;

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

async function render() {
  const main = document.getElementById('main');
  const [name, arg] = location.hash.replace(/^#\/?/, '').split('/');
  const route = !app.info.device ? 'welcome' : screens[name] ? name : 'beneficiaries';
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.getElementById('nav').hidden = route === 'welcome';
  try {
    current = await screens[route]();
    main.innerHTML = '';
    await current.render(main, arg ? decodeURIComponent(arg) : undefined);
    applyTranslations(main);
  } catch (err) {
    main.textContent = errorText(err);
  }
}

export async function reloadInfo() {
  app.info = await api.appInfo();
  registerReferenceNames(app.info);
}

async function start() {
  const select = document.getElementById('lang');
  await reloadInfo();
  await setLanguage(currentLang());
  select.value = currentLang();
  select.addEventListener('change', async () => {
    await setLanguage(select.value);
    if (current && current.onLanguageChange) current.onLanguageChange();
  });
  window.addEventListener('hashchange', render);
  await render();
  document.body.dataset.ready = 'true';
}

start().catch((err) => {
  document.getElementById('main').textContent = errorText(err);
});
