// Forms built from a field list: labels tied to inputs, an error line under
// each field, values read back for the core. The core decides what is
// valid; this only shows its answer beside the right field.

import { t, errorText, fieldErrorText, applyTranslations } from './i18n.js';
import { dateEntry, dateValue, displayDate } from './dates.js';

/**
 * Field spec: {name, type: text|date|select|checkbox|number|textarea|list|checks|widget,
 * required, wide, options: [{value, key}] (key = translation key, or
 * `text` for a name that is data), attrs}. `boolean: true` on a select of
 * 'true'/'false' reads a JSON boolean. `checks` is a group of checkboxes
 * (the codes ticked, as a list); `numeric: true` on a select reads a
 * number; `widget` is built by `create(value)`,
 * which gives an element whose `readValue()` the form reads.
 * A `date` is the app's own entry (dates.js: dd/mm/yyyy typed and shown,
 * ISO read); `approx: NAME` names the checkbox field that makes it an
 * approximate birth date (a year or an age). `blank`: the translation key
 * of a select's empty choice (what no value means, e.g. Morocco).
 * `group`: the name of a group of `groups` the field goes into, a box with
 * its title drawn where its first field is; a group `{label, collapsible}`
 * is a <details> closed unless one of its fields holds a value (an error
 * opens it: showErrors).
 */
export function renderForm(form, spec, values = {}, groups = {}) {
  form.classList.add('grid');
  form.noValidate = true;
  form.innerHTML = '';
  const boxes = {};
  const boxOf = (name) => {
    if (boxes[name]) return boxes[name];
    const g = groups[name] || {};
    const box = document.createElement(g.collapsible ? 'details' : 'fieldset');
    box.className = `form-group wide${g.collapsible ? ' collapsible' : ''}`;
    box.id = `group-${name}`;
    const title = document.createElement(g.collapsible ? 'summary' : 'legend');
    title.dataset.i18n = g.label || `form.group.${name}`;
    const inner = document.createElement('div');
    inner.className = 'grid';
    box.append(title, inner);
    form.append(box);
    boxes[name] = inner;
    return inner;
  };
  const filled = (v) => v !== undefined && v !== null && v !== '' && v !== false && !(Array.isArray(v) && !v.length);
  for (const f of spec) {
    if (f.group && groups[f.group] && groups[f.group].collapsible && filled(values[f.name])) {
      boxOf(f.group).parentElement.open = true;
    }
    // `id`: where two forms of one screen share a field name.
    const id = f.id || `f-${f.name}`;
    const errId = f.id ? `err-${f.id}` : `err-${f.name}`;
    const wrap = document.createElement('div');
    wrap.className = `field${f.wide ? ' wide' : ''}${f.type === 'checkbox' ? ' checkbox' : ''}`;
    const label = document.createElement('label');
    // A group of boxes is named by its label (aria-labelledby); a widget's
    // label is for its text box.
    if (f.type === 'widget') label.htmlFor = `${id}-search`;
    else if (f.type !== 'checks') label.htmlFor = id;
    label.dataset.i18n = f.label || `field.${f.name}`;
    if (f.required) label.classList.add('req');
    let input;
    if (f.type === 'widget') {
      input = f.create(values[f.name]);
      input.dataset.widget = f.name;
    } else if (f.type === 'checks') {
      // A group: its label names it, each box its code.
      input = document.createElement('div');
      input.className = 'checks';
      input.setAttribute('role', 'group');
      input.setAttribute('aria-labelledby', `label-${f.name}`);
      label.id = `label-${f.name}`;
      const ticked = Array.isArray(values[f.name]) ? values[f.name] : [];
      for (const o of f.options || []) {
        const item = document.createElement('label');
        item.className = 'checkbox-inline';
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.name = f.name;
        box.value = o.value;
        box.checked = ticked.includes(o.value);
        const text = document.createElement('span');
        text.dataset.i18n = o.key;
        item.append(box, text);
        input.append(item);
      }
    } else if (f.type === 'select') {
      input = document.createElement('select');
      const blank = document.createElement('option');
      blank.value = '';
      blank.dataset.i18n = f.blank || (f.required ? 'form.choose' : 'form.none');
      input.append(blank);
      for (const o of f.options || []) {
        const opt = document.createElement('option');
        opt.value = o.value;
        if (o.key) opt.dataset.i18n = o.key;
        else opt.textContent = o.text;
        input.append(opt);
      }
    } else if (f.type === 'textarea') {
      input = document.createElement('textarea');
      input.rows = 3;
    } else {
      input = document.createElement('input');
      // A date is a text box (dates.js), never the system's widget.
      input.type = f.type === 'list' || f.type === 'date' ? 'text' : f.type || 'text';
    }
    input.id = id;
    if (f.type !== 'checks' && f.type !== 'widget') input.name = f.name;
    input.setAttribute('aria-describedby', errId);
    if (f.required) input.setAttribute('aria-required', 'true');
    for (const [k, v] of Object.entries(f.attrs || {})) input.setAttribute(k, v);
    const v = values[f.name];
    if (f.type === 'checks' || f.type === 'widget') {
      // filled above
    } else if (f.type === 'checkbox') input.checked = v === true;
    else if (f.type === 'list') input.value = Array.isArray(v) ? v.join(', ') : v || '';
    else if (f.type === 'date') input.value = displayDate(v, Boolean(f.approx && values[f.approx] === true));
    else if (v !== undefined && v !== null) input.value = v;
    const err = document.createElement('p');
    err.className = 'field-error';
    err.id = errId;
    err.dataset.fieldError = f.name;
    if (f.type === 'checkbox') wrap.append(input, label, err);
    else wrap.append(label, input, err);
    (f.group ? boxOf(f.group) : form).append(wrap);
  }
  const actions = document.createElement('div');
  actions.className = 'form-actions';
  form.append(actions);
  applyTranslations(form);
  for (const f of spec.filter((x) => x.type === 'date')) {
    dateEntry(form.elements[f.name], f.approx ? form.elements[f.approx] : null);
  }
  return actions;
}

/** The form's values for the core: blanks omitted, numbers as numbers when they are numbers. */
export function readForm(form, spec) {
  const out = {};
  for (const f of spec) {
    if (f.type === 'checks') {
      const ticked = [...form.querySelectorAll(`input[type=checkbox][name="${f.name}"]:checked`)].map((b) => b.value);
      if (ticked.length) out[f.name] = ticked;
      continue;
    }
    if (f.type === 'widget') {
      const w = form.querySelector(`[data-widget="${f.name}"]`);
      const value = w && w.readValue();
      if (value !== undefined && value !== null && !(Array.isArray(value) && !value.length)) out[f.name] = value;
      continue;
    }
    const el = form.elements[f.name];
    // A field that does not apply (disabled) is not read: a patch clears it.
    if (!el || el.disabled) continue;
    if (f.type === 'checkbox') {
      out[f.name] = el.checked;
      continue;
    }
    const raw = f.type === 'date' ? dateValue(el) : el.value.trim();
    if (raw === '') continue;
    if (f.boolean) out[f.name] = raw === 'true' ? true : raw === 'false' ? false : raw;
    else if (f.type === 'number' || f.numeric) out[f.name] = /^-?\d+$/.test(raw) ? Number(raw) : raw;
    else if (f.type === 'list') out[f.name] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else out[f.name] = raw;
  }
  return out;
}

export function clearErrors(form) {
  form.lastError = null;
  form.querySelectorAll('[data-field-error]').forEach((p) => (p.textContent = ''));
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  const general = form.querySelector('.form-error');
  if (general) general.remove();
}

/** Forms showing an error, to show it again in a new language. */
const showing = new Set();
document.addEventListener('languagechange', () => {
  for (const form of [...showing]) {
    if (form.isConnected && form.lastError) showErrors(form, form.lastError, { keepFocus: true });
    else showing.delete(form);
  }
});

/** Shows a core error beside its fields; anything else above the buttons. */
export function showErrors(form, err, { keepFocus = false } = {}) {
  clearErrors(form);
  form.lastError = err;
  showing.add(form);
  let first = null;
  const unplaced = [];
  for (const fe of (err && err.fields) || []) {
    const p = form.querySelector(`[data-field-error="${fe.field}"]`);
    if (!p) {
      unplaced.push(`${t(`field.${fe.field}`)} : ${fieldErrorText(fe)}`);
      continue;
    }
    p.textContent = p.textContent ? `${p.textContent} ${fieldErrorText(fe)}` : fieldErrorText(fe);
    const named = form.elements[fe.field];
    const input = named instanceof Element ? named : form.querySelector(`#f-${CSS.escape(fe.field)}`);
    // An error inside a closed group opens it, so that it is seen.
    const group = p.closest('details');
    if (group) group.open = true;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      first = first || input;
    }
  }
  if (unplaced.length || !(err && err.fields && err.fields.length)) {
    const general = document.createElement('p');
    general.className = 'form-error';
    general.setAttribute('role', 'alert');
    general.textContent = unplaced.length ? unplaced.join(' · ') : errorText(err);
    form.querySelector('.form-actions').before(general);
  }
  if (first && !keepFocus) first.focus();
}
