// The one date entry of every form and filter: a plain text box that types
// and shows dd/mm/yyyy in every language (as the app prints dates, see
// i18n.js formatDate), left to right even in Arabic, and gives the core
// ISO `YYYY-MM-DD`. The core judges the date (`invalid_date`,
// `future_date`…); this reads what was typed and says beside the field,
// in the person's language, when it cannot be read at all.
//
// Read: `14/03/1990`, `14/3/1990`, `14-03-1990`, `14.03.1990`,
// `14 03 1990`, digits only `14031990`, and ISO `1990-03-14` (pasted, or set
// by a test). Arabic-Indic digits (٠-٩, ۰-۹) are read as digits. A year must
// have four digits: `14/03/90` is refused rather than guessed (1990 or
// 2090? for a birth date, 1925 or 2025?), and says so.
//
// An approximate birth date (the person does not know the day): a year
// `1985`, or an age today `40` (a number of one to three digits, words
// such as "ans" allowed), read as the year of that age today.

import { t, formatDate } from './i18n.js';

const DIGITS = { '٠': '0', '١': '1', '٢': '2', '٣': '3', '٤': '4', '٥': '5', '٦': '6', '٧': '7', '٨': '8', '٩': '9',
  '۰': '0', '۱': '1', '۲': '2', '۳': '3', '۴': '4', '۵': '5', '۶': '6', '۷': '7', '۸': '8', '۹': '9' };

/** The text with Arabic-Indic digits as ASCII ones, trimmed. */
function ascii(text) {
  return String(text || '').replace(/[٠-٩۰-۹]/g, (d) => DIGITS[d]).trim();
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

function iso(y, m, d) {
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/**
 * What was typed, read: `{ iso }`, `{ empty: true }`, or `{ problem }`
 * (`date_two_digit_year`, `date_unreadable`, `invalid_date`).
 */
export function parseDate(text) {
  const s = ascii(text);
  if (s === '') return { empty: true };
  let m = s.match(/^(\d{4})-(\d{1,2})-(\d{1,2})$/);
  if (m) {
    const v = iso(+m[1], +m[2], +m[3]);
    return v ? { iso: v } : { problem: 'invalid_date' };
  }
  m = s.match(/^(\d{2})(\d{2})(\d{4})$/) || s.match(/^(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d+)$/);
  if (!m) {
    if (/^\d{6}$/.test(s)) return { problem: 'date_two_digit_year' };
    return { problem: 'date_unreadable' };
  }
  if (m[3].length !== 4) return { problem: m[3].length <= 2 ? 'date_two_digit_year' : 'date_unreadable' };
  const v = iso(+m[3], +m[2], +m[1]);
  return v ? { iso: v } : { problem: 'invalid_date' };
}

/**
 * An approximate birth date: `{ year }` from a year (`1985`) or an age
 * today (`40`, `40 ans`, `٤٠ سنة`); a full date keeps its year.
 */
export function parseApprox(text, today = new Date()) {
  const s = ascii(text);
  if (s === '') return { empty: true };
  let m = s.match(/^(?:~|vers|environ|around|about|حوالي)?\s*(\d{4})$/i);
  if (m) return { year: +m[1] };
  m = s.match(/^(?:~|environ|around|about|حوالي)?\s*(\d{1,3})\s*(?:ans?|years?(?: old)?|سنة|سنوات|عاما|عامًا)?$/i);
  if (m) return { year: today.getFullYear() - Number(m[1]), age: Number(m[1]) };
  const d = parseDate(s);
  if (d.iso) return { year: Number(d.iso.slice(0, 4)) };
  return { problem: 'date_approx_unreadable' };
}

/** The text a date field shows for an ISO value (or a year when approximate). */
export function displayDate(value, approx = false) {
  if (!value) return '';
  if (approx) return String(value).slice(0, 4);
  return /^\d{4}-\d{2}-\d{2}$/.test(String(value)) ? formatDate(value) : String(value);
}

/**
 * The value for the core: ISO when it reads (a year alone when
 * approximate), else the text as typed, which the core refuses with its
 * own `invalid_date` beside the field.
 */
export function dateValue(input) {
  if (input.dataset.approx === 'true') {
    const a = parseApprox(input.value);
    if (a.empty) return '';
    return a.year !== undefined ? pad(a.year, 4) : input.value.trim();
  }
  const d = parseDate(input.value);
  if (d.empty) return '';
  return d.iso || input.value.trim();
}

/** What a field's problem says, in the current language. */
function problemText(input) {
  const p = input.dataset.dateProblem;
  return p ? t(`error.${p}`) : '';
}

function showProblem(input) {
  const err = document.getElementById(input.getAttribute('aria-describedby') || '');
  if (!err) return;
  const text = problemText(input);
  if (text) {
    err.textContent = text;
    input.setAttribute('aria-invalid', 'true');
  } else if (err.dataset.dateShown === 'true') {
    err.textContent = '';
    input.removeAttribute('aria-invalid');
  }
  err.dataset.dateShown = text ? 'true' : 'false';
}

/** The hint beside an approximate entry: "vers 1985". */
function showHint(input) {
  const hint = input.parentElement && input.parentElement.querySelector('.date-hint');
  if (!hint) return;
  if (input.dataset.approx !== 'true') {
    hint.textContent = '';
    return;
  }
  const a = parseApprox(input.value);
  hint.textContent = a.year !== undefined ? t('birth.approx', { year: a.year }) : t('date.approx_help');
}

function placeholder(input) {
  input.placeholder = t(input.dataset.approx === 'true' ? 'date.approx_placeholder' : 'date.placeholder');
}

/** Tidies what was typed into dd/mm/yyyy (or a year) once it reads. */
function normalise(input) {
  delete input.dataset.dateProblem;
  if (input.dataset.approx === 'true') {
    const a = parseApprox(input.value);
    if (a.problem) input.dataset.dateProblem = a.problem;
    else if (a.year !== undefined && !a.age) input.value = pad(a.year, 4);
  } else {
    const d = parseDate(input.value);
    if (d.iso) input.value = formatDate(d.iso);
    else if (d.problem) input.dataset.dateProblem = d.problem;
  }
  showProblem(input);
  showHint(input);
}

/**
 * Makes `input` (a text input) the date entry. `approxBox`, a checkbox,
 * switches it to an approximate birth date (a year or an age).
 */
export function dateEntry(input, approxBox = null) {
  input.type = 'text';
  input.classList.add('date-entry');
  input.setAttribute('dir', 'ltr');
  input.setAttribute('inputmode', 'numeric');
  input.setAttribute('autocomplete', 'off');
  input.setAttribute('spellcheck', 'false');
  input.maxLength = 20;
  input.dataset.dateEntry = 'true';
  input.dataset.approx = approxBox && approxBox.checked ? 'true' : 'false';
  placeholder(input);
  if (approxBox) {
    const hint = document.createElement('p');
    hint.className = 'date-hint muted';
    hint.setAttribute('aria-live', 'polite');
    input.after(hint);
    approxBox.addEventListener('change', () => {
      input.dataset.approx = approxBox.checked ? 'true' : 'false';
      const typed = input.value;
      if (approxBox.checked) {
        const d = parseDate(typed);
        if (d.iso) input.value = d.iso.slice(0, 4);
      }
      placeholder(input);
      normalise(input);
    });
  }
  input.addEventListener('input', (e) => {
    // Digits typed at the end: the slashes come by themselves
    // (14031990 → 14/03/1990).
    // Only when the slashes are where this put them: 14/3/1990 typed
    // with its own slashes is left alone.
    const atEnd = input.selectionStart === input.value.length;
    const typed = ascii(input.value);
    const digits = typed.replace(/\//g, '');
    const shaped = (d) => [d.slice(0, 2), d.slice(2, 4), d.slice(4)].filter(Boolean).join('/');
    const auto = /^\d{1,8}$/.test(digits)
      && [digits, shaped(digits), shaped(digits.slice(0, -1)) + digits.slice(-1)].includes(typed);
    if (input.dataset.approx !== 'true' && atEnd && auto && !String(e.inputType || '').startsWith('delete')) {
      input.value = shaped(digits);
    }
    if (input.dataset.dateProblem) normalise(input);
    showHint(input);
  });
  input.addEventListener('change', () => normalise(input));
  if (input.value) normalise(input);
}

// A problem shown beside a field follows a change of language.
document.addEventListener('languagechange', () => {
  document.querySelectorAll('input[data-date-entry]').forEach((input) => {
    placeholder(input);
    showProblem(input);
    showHint(input);
  });
});
