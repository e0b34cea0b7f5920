// The window's only way to the core: one function per command declared in
// src-tauri/src/commands/mod.rs. Screens never call invoke directly.

const invoke = (cmd, args = {}) => window.__TAURI__.core.invoke(cmd, args);

// Long work (import, PDF, export: src-tauri/src/commands/jobs.rs) takes a
// job: an id for cancelJob and a channel its steps arrive on
// ({done, total, what: {kind, …}}, crates/core/src/progress.rs). Without
// one, a job no one watches is made.
let jobCount = 0;
/** A job whose steps go to `onStep` (progress.js shows them). */
export function job(onStep = () => {}) {
  const channel = new window.__TAURI__.core.Channel();
  channel.onmessage = onStep;
  jobCount += 1;
  return { id: `job-${Date.now()}-${jobCount}`, channel };
}
const jobArgs = (j) => {
  const { id, channel } = j || job();
  return { job: id, onProgress: channel };
};
/** Asks the job to stop where stopping writes nothing; its command then rejects with `cancelled` (an import: `cancelled` in its report). */
export const cancelJob = (id) => invoke('cancel_job', { job: id });

export const locale = (lang, namespace) => invoke('locale', { lang, namespace });
export const appInfo = () => invoke('app_info');
/** Measurement hook (scripts/bench-start): a screen is drawn; the shell prints it under WAFIRA_REPORT_READY=1, else ignores it. */
export const ready = (screen, originMs, marks) => invoke('ready', { screen, originMs, marks });

// The session (src-tauri/src/commands/session.rs): set-up, unlock, lock.
/** {state: 'new'|'locked'|'open', database, accounts: [names]}. */
export const sessionStatus = () => invoke('session_status');
/** {device, coordinator, account, passphrase, passphraseAgain}; gives {recovery_key}, once. */
export const setupDatabase = (v) => invoke('setup_database', v);
export const unlock = (user, passphrase) => invoke('unlock', { user, passphrase });
/** {recoveryKey, user, passphrase, passphraseAgain}: opens and gives the account a new passphrase. */
export const unlockWithRecoveryKey = (v) => invoke('unlock_with_recovery_key', v);
export const lock = () => invoke('lock');
/** The person is at the keyboard: the lock's idle time starts again. */
export const touch = () => invoke('touch');
export const setLockMinutes = (minutes) => invoke('set_lock_minutes', { minutes });
export const listAccounts = () => invoke('list_accounts');
export const putAccount = (name, role, passphrase, passphraseAgain) =>
  invoke('put_account', { name, role, passphrase, passphraseAgain });
/** The practice database (made-up people) instead of the real one, and back (to the unlock screen). */
export const openPractice = () => invoke('open_practice');
export const leavePractice = () => invoke('leave_practice');
export const changePassphrase = (passphrase, passphraseAgain) => invoke('change_passphrase', { passphrase, passphraseAgain });
export const loadDemo = (count) => invoke('load_demo', { count });
export const setFollowupDays = (days) => invoke('set_followup_days', { days });

export const listBeneficiaries = (query) => invoke('list_beneficiaries', { query });
export const addBeneficiary = (input) => invoke('add_beneficiary', { input });
export const updateBeneficiary = (id, patch) => invoke('update_beneficiary', { id, patch });
export const archiveBeneficiary = (id, reason) => invoke('archive_beneficiary', { id, reason });
/** Consent withdrawn: erases her identifying data here and, through bundles, everywhere; gives counts. */
export const eraseBeneficiary = (id, reason) => invoke('erase_beneficiary', { id, reason });
export const profile = (id) => invoke('profile', { id });
export const possibleDuplicates = (input) => invoke('possible_duplicates', { input });
/** Rejects with every problem the registration would be refused for (field errors, a CIN in use); writes nothing. */
export const checkBeneficiary = (input) => invoke('check_beneficiary', { input });
export const addVisit = (input) => invoke('add_visit', { input });
export const addMilestone = (input) => invoke('add_milestone', { input });
export const archiveRecord = (entity, id) => invoke('archive_record', { entity, id });
// Corrections: a patch of the fields to change; a withdrawal (void) says why.
export const updateVisit = (id, patch) => invoke('update_visit', { id, patch });
export const updateMilestone = (id, patch) => invoke('update_milestone', { id, patch });
export const voidVisit = (id, reason) => invoke('void_visit', { id, reason });
export const voidMilestone = (id, reason) => invoke('void_milestone', { id, reason });
export const restoreBeneficiary = (id) => invoke('restore_beneficiary', { id });
export const renameCoordinator = (name) => invoke('rename_coordinator', { name });
/** place: {region, province, commune} (each optional), or null for everywhere. */
export const followups = (days, place = null) => invoke('followups', { days, place });

// The results framework's records (IGAs, follow-up surveys, seasons,
// referrals, partners, sessions, attendance): forms built from recordKinds.
export const recordKinds = () => invoke('record_kinds');
/** query: {beneficiaryId, igaId, sessionId, archived} */
export const records = (kind, query = {}) => invoke('records', { kind, ...query });
export const addRecord = (kind, input) => invoke('add_record', { kind, input });
export const addPartner = (input) => invoke('add_partner', { input });
export const updateRecord = (kind, id, patch) => invoke('update_record', { kind, id, patch });
export const voidRecord = (kind, id, reason) => invoke('void_record', { kind, id, reason });
export const restoreRecord = (kind, id) => invoke('restore_record', { kind, id });
export const takeAttendance = (sessionId, present) => invoke('take_attendance', { sessionId, present });
export const partners = () => invoke('partners');

// Sync and consolidation (crates/core/src/sync, src-tauri/src/commands/sync.rs).
export const syncStatus = () => invoke('sync_status');
/** path: the file chosen (Save as, or the USB stick); gives {path, manifest, records}; `nothing_new` when nothing is. */
export const exportBundle = (full, path = null) => invoke('export_bundle', { full, path });
/** files: [{name, bytes: [..]}]; preview: only say what they would bring; job: see `job`. */
export const importBundles = (files, preview, acceptFuture = false, approveNew = false, j = null) =>
  invoke('import_bundles', { files, preview, acceptFuture, approveNew, ...jobArgs(j) });
/** The same, on files chosen in the open dialog: the core reads them, not the window. */
export const importBundleFiles = (paths, preview, acceptFuture = false, approveNew = false, j = null) =>
  invoke('import_bundle_files', { paths, preview, acceptFuture, approveNew, ...jobArgs(j) });
/** This computer's recipient (age1…), fingerprint, and the computers it encrypts to. */
export const keysShow = () => invoke('keys_show');
export const trustRecipient = (name, recipient) => invoke('trust_recipient', { name, recipient });
/** The recipient in a key file chosen in the open dialog: {recipient, name?}; a secret key is refused. Trusts nothing. */
export const readRecipientFile = (path) => invoke('read_recipient_file', { path });
/** Writes this computer's recipient to `path` (Save as, or the USB stick); gives {path, recipient, fingerprint, device}. */
export const exportRecipient = (path) => invoke('export_recipient', { path });
/** Approves a computer whose bundle was refused as never seen, for the key of that fingerprint. */
export const approveDevice = (device, fingerprint, reenrol = false) =>
  invoke('approve_device', { device, fingerprint, reenrol });
export const restoreBackup = (name) => invoke('restore_backup', { name });
export const dismissIdentityNotice = () => invoke('dismiss_identity_notice');
export const listConflicts = (all) => invoke('list_conflicts', { all });
export const resolveConflict = (id, choice) => invoke('resolve_conflict', { id, keep: choice.keep ?? null, value: choice.value ?? null });
export const listDuplicates = (all) => invoke('list_duplicates', { all });
export const mergePreview = (kept, other) => invoke('merge_preview', { kept, other });
// `take`: exactly the fields that take the other's value; omitted, the kept one's empty fields do.
export const mergePersons = (kept, other, take) => invoke('merge_persons', { kept, other, take });
export const unmergePersons = (a, b) => invoke('unmerge_persons', { a, b });
export const dismissDuplicate = (a, b) => invoke('dismiss_duplicate', { a, b });

// Reports: indicators, targets, PDFs and exports (crates/core/src/report,
// src-tauri/src/commands/report.rs).
export const indicators = (filters) => invoke('indicators', { filters });
export const listTargets = () => invoke('list_targets');
export const setTarget = (input) => invoke('set_target', { input });
/** request: {kind: 'summary'|'followups', filters, lang} or {kind: 'profile', id, lang}; gives {path, pages, …}. */
export const printReport = (request, path = null, j = null) => invoke('print_report', { request, path, ...jobArgs(j) });
/** format: 'csv' | 'xlsx'; gives {path, …}. */
/** options: {filters, lang} as the dashboard's (optional). */
export const exportData = (format, pseudonymise, path = null, options = null, j = null) =>
  invoke('export_data', { format, pseudonymise, path, options, ...jobArgs(j) });

// Files to and from people (src-tauri/src/commands/files.rs, ui/js/save.js).
/** {name, drives: [{path, label}], suggested, usb}: where a Save-as opens, and the one-click USB path. */
export const savePlaces = (what, ext = null) => invoke('save_places', { what, ext });
export const removableDrives = () => invoke('removable_drives');
/** The system's Save-as dialog (tauri-plugin-dialog): the path chosen, or null. */
export const saveDialog = (options) => invoke('plugin:dialog|save', { options });
/** The system's Open dialog: a path, a list of paths with `multiple`, or null. */
export const openDialog = (options) => invoke('plugin:dialog|open', { options });
/** Opens, or shows in its folder, a file the app saved (no other). */
export const openSaved = (path) => invoke('open_saved', { path });
export const revealSaved = (path) => invoke('reveal_saved', { path });
/** The .wafira file the app was opened with (double-click, second launch), once; or null. */
export const takePendingBundle = () => invoke('take_pending_bundle');

// The audit trail (crates/core/src/audit.rs, src-tauri/src/commands/audit.rs).
/** filter: {machine, action, who, since, until, limit, offset}; gives {total, entries}, newest first. */
export const auditList = (filter) => invoke('audit_list', { filter });
/** The machines and accounts the log names, and every action code. */
export const auditFacets = () => invoke('audit_facets');
/** {ok, entries, machines, first_broken: {machine, machine_name, seq, problem}|null, waiting: [..]}. */
export const auditVerify = () => invoke('audit_verify');
/** Writes the log as CSV to `path` (Save as, or the USB stick; without one, into reports/): the entries of `filter` (as auditList's, without its page), or all; gives {path, entries}. */
export const auditExport = (path = null, filter = null) => invoke('audit_export', { path, filter });
