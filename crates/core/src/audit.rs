//! The audit trail: every sign-in, change of a record, bundle exported or
//! imported, merge, resolution, restore, erasure and print, with who did
//! it (the account that unlocked the store, and its role), when (UTC, to
//! the millisecond) and on which machine (its device id).
//!
//! **A chain per machine.** Each machine numbers its own entries 1, 2, 3…
//! and each entry carries the hash of the one before it (`prev_hash`; the
//! first carries [`GENESIS`]) and its own `hash`: the SHA-256 of the
//! canonical form of the entry, `prev_hash` included ([`Entry::compute_hash`]).
//! Changing an entry breaks its own hash; recomputing it breaks the link
//! from the next one. [`Store::audit_verify`] walks every chain held and
//! names the first broken link.
//!
//! **In the same transaction.** An action that writes logs its entry in
//! the transaction that writes it ([`Store::write_noted`]): an action
//! refused or failed logs nothing, and a database never holds an action
//! without its entry. Actions that write no data (a print, an export, a
//! sign-in) log theirs once done ([`Store::log`]).
//!
//! **Travelling.** Bundles carry the entries their receiver may not have
//! yet (those received or made since the last export, every one in a full
//! bundle), after the change lines, and the receiver stores them as they
//! came, after checking that each entry is whole and links to the entries
//! of its chain held here or carried with it ([`take_in`]); a bundle that
//! rewrites an entry already held, or whose entries do not link, is
//! refused whole. So the station holds the chain of every laptop.
//!
//! **What an entry says.** The subject is a record id, a bundle file, a
//! report kind: never a person's name or other personal data; the detail
//! is short and says what kind of thing changed (field names, counts), not
//! the values.

use crate::access::Actor;
use crate::error::{Error, FieldError, Result};
use crate::store::{Store, Writer};
use crate::sync::bundle::Refusal;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// What the first entry of a chain carries as the hash before it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// What the canonical form of an entry begins with: the version of the
/// hashing rule, so that a later rule can never be confused with this one.
const CANONICAL_TAG: &str = "wafira-audit-1";
/// The longest account name an entry carries, in characters.
pub const MAX_WHO: usize = 100;
/// The longest subject (a record id, a bundle file name, a report kind).
pub const MAX_SUBJECT: usize = 200;
/// The longest detail.
pub const MAX_DETAIL: usize = 500;
/// The longest action or role code.
const MAX_CODE: usize = 48;
/// The longest line of an entry in a bundle: every field at its longest,
/// each character escaped, fits.
const MAX_LINE: usize = 16 * 1024;

/// What was done: the stable code of each action this program logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Act {
    SignIn,
    PersonAdd,
    PersonUpdate,
    PersonArchive,
    /// An archived person put back on the lists.
    PersonRestore,
    /// A person's identifying data erased on withdrawn consent.
    PersonErase,
    VisitAdd,
    /// A visit corrected (the fields in the detail).
    VisitUpdate,
    VisitArchive,
    MilestoneAdd,
    MilestoneUpdate,
    MilestoneArchive,
    /// Another kind of record archived (its kind in the detail).
    RecordArchive,
    /// A record of a declared kind (an IGA, a follow-up survey, a season,
    /// a referral, a partner, a session) added or corrected, its kind in
    /// the detail.
    RecordAdd,
    RecordUpdate,
    /// A session's attendance list taken (who was ticked and unticked).
    AttendanceSet,
    TargetSet,
    BundleExport,
    BundleImport,
    DuplicateMerge,
    DuplicateUnmerge,
    DuplicateDismiss,
    ConflictResolve,
    BackupRestore,
    PrintSummary,
    PrintProfile,
    PrintFollowups,
    ExportCsv,
    ExportXlsx,
    AuditExport,
    KeyTrust,
    KeyUntrust,
    /// This computer's secret identity written to a file.
    KeyExportIdentity,
    DeviceApprove,
    /// An account added, or given another role or passphrase, by a manager.
    AccountPut,
    AccountRemove,
    /// An account changed its own passphrase.
    AccountPassphrase,
    /// A setting of this computer (its name in the subject, the value in
    /// the detail).
    SettingChange,
}

impl Act {
    pub const ALL: [Act; 38] = [
        Act::SignIn,
        Act::PersonAdd,
        Act::PersonUpdate,
        Act::PersonArchive,
        Act::PersonRestore,
        Act::PersonErase,
        Act::VisitAdd,
        Act::VisitUpdate,
        Act::VisitArchive,
        Act::MilestoneAdd,
        Act::MilestoneUpdate,
        Act::MilestoneArchive,
        Act::RecordArchive,
        Act::RecordAdd,
        Act::RecordUpdate,
        Act::AttendanceSet,
        Act::TargetSet,
        Act::BundleExport,
        Act::BundleImport,
        Act::DuplicateMerge,
        Act::DuplicateUnmerge,
        Act::DuplicateDismiss,
        Act::ConflictResolve,
        Act::BackupRestore,
        Act::PrintSummary,
        Act::PrintProfile,
        Act::PrintFollowups,
        Act::ExportCsv,
        Act::ExportXlsx,
        Act::AuditExport,
        Act::KeyTrust,
        Act::KeyUntrust,
        Act::KeyExportIdentity,
        Act::DeviceApprove,
        Act::AccountPut,
        Act::AccountRemove,
        Act::AccountPassphrase,
        Act::SettingChange,
    ];

    /// The code stored in entries, the same on every machine and version:
    /// never renamed (the window translates `audit.action.<code>`).
    pub fn code(self) -> &'static str {
        use Act::*;
        match self {
            SignIn => "sign_in",
            PersonAdd => "person.add",
            PersonUpdate => "person.update",
            PersonArchive => "person.archive",
            PersonRestore => "person.restore",
            PersonErase => "person.erase",
            VisitAdd => "visit.add",
            VisitUpdate => "visit.update",
            VisitArchive => "visit.archive",
            MilestoneAdd => "milestone.add",
            MilestoneUpdate => "milestone.update",
            MilestoneArchive => "milestone.archive",
            RecordArchive => "record.archive",
            RecordAdd => "record.add",
            RecordUpdate => "record.update",
            AttendanceSet => "attendance.set",
            TargetSet => "target.set",
            BundleExport => "bundle.export",
            BundleImport => "bundle.import",
            DuplicateMerge => "duplicate.merge",
            DuplicateUnmerge => "duplicate.unmerge",
            DuplicateDismiss => "duplicate.dismiss",
            ConflictResolve => "conflict.resolve",
            BackupRestore => "backup.restore",
            PrintSummary => "print.summary",
            PrintProfile => "print.profile",
            PrintFollowups => "print.followups",
            ExportCsv => "export.csv",
            ExportXlsx => "export.xlsx",
            AuditExport => "audit.export",
            KeyTrust => "keys.trust",
            KeyUntrust => "keys.untrust",
            KeyExportIdentity => "keys.export_identity",
            DeviceApprove => "device.approve",
            AccountPut => "account.put",
            AccountRemove => "account.remove",
            AccountPassphrase => "account.passphrase",
            SettingChange => "setting.change",
        }
    }
}

/// An entry to log: what was done, to what, and a short detail. The
/// machine, the account and the time are added when it is logged.
#[derive(Debug, Clone)]
pub(crate) struct Note {
    act: Act,
    subject: String,
    detail: String,
}

impl Note {
    pub fn new(act: Act, subject: impl ToString) -> Note {
        Note { act, subject: subject.to_string(), detail: String::new() }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Note {
        self.detail = detail.into();
        self
    }
}

/// One entry of a machine's chain, as stored and as bundles carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The machine (device id) whose chain it belongs to.
    pub machine: Uuid,
    /// Its number in that chain: 1, 2, 3…
    pub seq: i64,
    /// UTC, ISO 8601 with milliseconds.
    pub at: String,
    /// The account that did it.
    pub who: String,
    /// Its role then.
    pub role: String,
    /// What was done ([`Act::code`]).
    pub action: String,
    /// What it was done to: a record id, a bundle file, a report kind.
    pub subject: String,
    pub detail: String,
    /// The hash of the entry before it in the chain ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 of the canonical form of this entry, `prev_hash` included.
    pub hash: String,
}

impl Entry {
    /// The bytes that are hashed: a JSON array of the version tag and
    /// every field but the hash, in a fixed order.
    fn canonical(&self) -> String {
        serde_json::json!([
            CANONICAL_TAG,
            self.machine.to_string(),
            self.seq,
            self.at,
            self.who,
            self.role,
            self.action,
            self.subject,
            self.detail,
            self.prev_hash,
        ])
        .to_string()
    }

    /// The hash this entry must carry.
    pub fn compute_hash(&self) -> String {
        crate::sync::sha256_hex(self.canonical().as_bytes())
    }

    /// What is wrong with this entry on its own, if anything: every field
    /// bounded and free of control characters, its hash its own.
    fn fault(&self) -> Option<String> {
        let text = |name: &str, value: &str, max: usize| -> Option<String> {
            if value.chars().count() > max {
                Some(format!("its {name} is longer than {max} characters"))
            } else if value.chars().any(|c| c.is_control() || crate::validate::hidden(c)) {
                Some(format!("its {name} holds a control or text-direction character"))
            } else {
                None
            }
        };
        let code = |name: &str, value: &str| -> Option<String> {
            let fine = !value.is_empty()
                && value.len() <= MAX_CODE
                && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            (!fine).then(|| format!("its {name} is not a code"))
        };
        let hash = |name: &str, value: &str| -> Option<String> {
            let fine = value.len() == 64 && value.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            (!fine).then(|| format!("its {name} is not a SHA-256 in hex"))
        };
        if !(1..=crate::sync::bundle::MAX_SEQ).contains(&self.seq) {
            return Some(format!("its number is not between 1 and {}", crate::sync::bundle::MAX_SEQ));
        }
        if !is_instant(&self.at) {
            return Some("its time is not a UTC instant (YYYY-MM-DDTHH:MM:SS.mmmZ)".into());
        }
        text("account", &self.who, MAX_WHO)
            .or_else(|| code("role", &self.role))
            .or_else(|| code("action", &self.action))
            .or_else(|| text("subject", &self.subject, MAX_SUBJECT))
            .or_else(|| text("detail", &self.detail, MAX_DETAIL))
            .or_else(|| hash("previous hash", &self.prev_hash))
            .or_else(|| hash("hash", &self.hash))
            .or_else(|| {
                (self.hash != self.compute_hash()).then(|| "its content does not match its hash: it was changed".into())
            })
            .or_else(|| {
                (self.seq == 1 && self.prev_hash != GENESIS)
                    .then(|| "it is numbered first but follows another entry".into())
            })
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as [`crate::now_utc`] writes it.
fn is_instant(s: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3fZ")
        .is_ok_and(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string() == s)
}

/// Text as an entry of this machine may hold it: control and
/// text-direction characters replaced, cut at `max` characters.
fn fit(text: &str, max: usize) -> String {
    text.chars().map(|c| if c.is_control() || crate::validate::hidden(c) { '?' } else { c }).take(max).collect()
}

/// Logs `note` as the next entry of `machine`'s chain, in the transaction
/// open on `conn` (the one of the action it logs).
pub(crate) fn append(conn: &Connection, machine: Uuid, actor: &Actor, note: Note) -> Result<Entry> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit WHERE machine = ?1 ORDER BY seq DESC LIMIT 1")?
        .query_row(params![machine.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let mut entry = Entry {
        machine,
        seq,
        at: crate::now_utc(),
        who: fit(&actor.name, MAX_WHO),
        role: actor.role.as_str().to_string(),
        action: note.act.code().to_string(),
        subject: fit(&note.subject, MAX_SUBJECT),
        detail: fit(&note.detail, MAX_DETAIL),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    insert(conn, &entry)?;
    Ok(entry)
}

/// Logs the erasure of a person's identifying data (consent withdrawn), in
/// the erasure's transaction: `reason` is a code or a short text that
/// names nobody.
pub(crate) fn log_erase(w: &Writer<'_>, actor: &Actor, person: Uuid, reason: &str) -> Result<Entry> {
    append(w.tx(), w.device.id, actor, Note::new(Act::PersonErase, person).detail(reason))
}

/// Stores an entry, numbered in the order this database received it
/// (`rcv`, what an export sends after).
fn insert(conn: &Connection, e: &Entry) -> Result<()> {
    let rcv: i64 = conn.prepare_cached("SELECT coalesce(max(rcv), 0) + 1 FROM audit")?.query_row([], |r| r.get(0))?;
    conn.prepare_cached(
        "INSERT INTO audit (machine, seq, at, who, role, action, subject, detail, prev_hash, hash, rcv)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        e.machine.to_string(),
        e.seq,
        e.at,
        e.who,
        e.role,
        e.action,
        e.subject,
        e.detail,
        e.prev_hash,
        e.hash,
        rcv
    ])?;
    Ok(())
}

const COLUMNS: &str = "machine, seq, at, who, role, action, subject, detail, prev_hash, hash";

/// An entry from a row of [`COLUMNS`]; `None` when its machine is not a
/// machine id (only a hand-edited database holds one).
fn entry_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Entry>> {
    let machine: String = r.get(0)?;
    let Ok(machine) = Uuid::parse_str(&machine) else { return Ok(None) };
    Ok(Some(Entry {
        machine,
        seq: r.get(1)?,
        at: r.get(2)?,
        who: r.get(3)?,
        role: r.get(4)?,
        action: r.get(5)?,
        subject: r.get(6)?,
        detail: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    }))
}

// --- In bundles -------------------------------------------------------------

/// What a bundle's manifest says of the audit entries it carries: they are
/// the last `bytes` bytes of its content, one JSON entry per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSection {
    pub entries: usize,
    pub bytes: u64,
    /// The machines whose entries it carries, named (the receiver may not
    /// know them from their changes).
    pub machines: Vec<crate::sync::bundle::DeviceRef>,
}

/// The entries an export carries: those received or made after `after`
/// (their `rcv`), as content lines; gives the section, the lines and the
/// last `rcv` they hold.
pub(crate) fn outgoing(conn: &Connection, after: i64) -> Result<(AuditSection, Vec<u8>, i64)> {
    let names = crate::sync::export::device_refs(conn)?;
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS}, rcv FROM audit WHERE rcv > ?1 ORDER BY rcv"))?;
    let mut rows = stmt.query(params![after])?;
    let mut lines = Vec::new();
    let mut entries = 0;
    let mut last = after;
    let mut machines = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let rcv: i64 = row.get(10)?;
        let Some(e) = entry_of(row)? else {
            return Err(Error::Other(format!("audit entry received {rcv} names no machine: the database was edited")));
        };
        serde_json::to_writer(&mut lines, &e)?;
        lines.push(b'\n');
        entries += 1;
        last = last.max(rcv);
        machines.entry(e.machine).or_insert_with(|| {
            names.get(&e.machine).cloned().unwrap_or(crate::sync::bundle::DeviceRef {
                id: e.machine,
                name: String::new(),
                coordinator: String::new(),
                successor_of: None,
                coordinator_since: None,
            })
        });
    }
    let section = AuditSection { entries, bytes: lines.len() as u64, machines: machines.into_values().collect() };
    Ok((section, lines, last))
}

/// The names of the machines a bundle names (its source, the devices of
/// its changes, those of its audit entries), to name them in a refusal.
pub(crate) fn names(m: &crate::sync::Manifest) -> HashMap<Uuid, String> {
    let mut names: HashMap<Uuid, String> = m.devices.iter().map(|r| (r.device.id, r.device.name.clone())).collect();
    if let Some(section) = &m.audit {
        names.extend(section.machines.iter().map(|d| (d.id, d.name.clone())));
    }
    names.insert(m.source.id, m.source.name.clone());
    names
}

/// The refusal of a bundle whose audit entry `seq` of `machine` is wrong.
fn broken(machine: Uuid, names: &HashMap<Uuid, String>, seq: i64, problem: impl Into<String>) -> Error {
    let name = names.get(&machine).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| machine.to_string());
    Error::Refused(Refusal::AuditBroken { device: machine, name, seq, problem: problem.into() })
}

/// Reads the audit lines of a bundle and checks what can be checked
/// without a database: each entry whole (bounded fields, its own hash),
/// no entry twice, the count the manifest states, and the chain of the
/// machine that made the bundle without a gap (it holds its own chain
/// whole and sends it from where its last bundle stopped). `names` names
/// the machines for the refusal.
pub(crate) fn read_section(
    bytes: &[u8],
    section: &AuditSection,
    source: Uuid,
    names: &HashMap<Uuid, String>,
) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::with_capacity(section.entries.min(bytes.len() / 200 + 1));
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if line.len() > MAX_LINE {
            return Err(Error::Refused(Refusal::InvalidRecord(format!(
                "audit entry {} is {} bytes long, past the {MAX_LINE} an entry may take",
                i + 1,
                line.len()
            ))));
        }
        let e: Entry = serde_json::from_slice(line).map_err(|err| {
            Error::Refused(Refusal::InvalidRecord(format!("audit entry {} is not valid: {err}", i + 1)))
        })?;
        if let Some(problem) = e.fault() {
            return Err(broken(e.machine, names, e.seq, problem));
        }
        entries.push(e);
    }
    if entries.len() != section.entries {
        return Err(Error::Refused(Refusal::Inconsistent(format!(
            "{} audit entries listed, {} found",
            section.entries,
            entries.len()
        ))));
    }
    let mut seen = HashSet::with_capacity(entries.len());
    for e in &entries {
        if !seen.insert((e.machine, e.seq)) {
            return Err(broken(e.machine, names, e.seq, "it appears twice"));
        }
    }
    let mut own: Vec<i64> = entries.iter().filter(|e| e.machine == source).map(|e| e.seq).collect();
    own.sort_unstable();
    if let Some(w) = own.windows(2).find(|w| w[1] != w[0] + 1) {
        return Err(broken(
            source,
            names,
            w[0] + 1,
            format!("the entries of the computer that made the bundle skip from {} to {}", w[0], w[1]),
        ));
    }
    Ok(entries)
}

/// What taking a bundle's entries in did.
pub(crate) struct TakenIn {
    /// Entries this database did not have.
    pub new: usize,
    /// Some were of this database's own identity, which it did not make:
    /// a copy of it writes elsewhere.
    pub own_seen: bool,
}

/// Stores the entries of a bundle this database does not hold, in the
/// import's transaction, after checking that each links to its chain: the
/// entry before it (carried with it or held here) must be the one whose
/// hash it carries, and the entry after it held here must carry its hash.
/// An entry already held must be the very same. Any failure refuses the
/// bundle (the import rolls back). Entries whose predecessor is neither
/// here nor in the bundle are kept (a bundle of that chain not received
/// yet): [`Store::audit_verify`] lists the gap.
pub(crate) fn take_in(
    conn: &Connection,
    entries: &[Entry],
    me: Uuid,
    names: &HashMap<Uuid, String>,
) -> Result<TakenIn> {
    let mut chains: BTreeMap<Uuid, BTreeMap<i64, &Entry>> = BTreeMap::new();
    for e in entries {
        chains.entry(e.machine).or_default().insert(e.seq, e);
    }
    let mut held = conn.prepare_cached("SELECT prev_hash, hash FROM audit WHERE machine = ?1 AND seq = ?2")?;
    let mut fresh: Vec<&Entry> = Vec::new();
    let mut own_seen = false;
    for (machine, chain) in &chains {
        let m = machine.to_string();
        let mut held_at = |seq: i64| -> Result<Option<(String, String)>> {
            Ok(held.query_row(params![m, seq], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
        };
        for (seq, e) in chain {
            if let Some((_, hash)) = held_at(*seq)? {
                if hash != e.hash {
                    return Err(broken(
                        *machine,
                        names,
                        *seq,
                        "it differs from the entry of the same number already held here (rewritten, or two \
                         databases writing under one identity)",
                    ));
                }
                continue;
            }
            if *seq > 1 {
                let before = match chain.get(&(seq - 1)) {
                    Some(p) => Some(p.hash.clone()),
                    None => held_at(seq - 1)?.map(|(_, hash)| hash),
                };
                if before.is_some_and(|h| h != e.prev_hash) {
                    return Err(broken(*machine, names, *seq, format!("it does not follow entry {}", seq - 1)));
                }
            }
            if !chain.contains_key(&(seq + 1)) {
                if let Some((prev_hash, _)) = held_at(seq + 1)? {
                    if prev_hash != e.hash {
                        return Err(broken(
                            *machine,
                            names,
                            *seq,
                            format!("entry {} held here does not follow it", seq + 1),
                        ));
                    }
                }
            }
            own_seen |= *machine == me;
            fresh.push(e);
        }
    }
    for e in &fresh {
        insert(conn, e)?;
    }
    Ok(TakenIn { new: fresh.len(), own_seen })
}

/// Every entry held, for a restore to put back the ones the copy lacks.
pub(crate) fn all(conn: &Connection) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY rcv"))?;
    let rows = stmt.query_map([], entry_of)?;
    let mut out = Vec::new();
    for r in rows {
        out.extend(r?);
    }
    Ok(out)
}

/// Puts back, after a restore, the entries the restored copy does not
/// hold (made or received since it was taken): restoring an older copy
/// must not erase the trail of what was done since.
pub(crate) fn keep(conn: &Connection, entries: &[Entry]) -> Result<usize> {
    let mut exists = conn.prepare_cached("SELECT 1 FROM audit WHERE machine = ?1 AND seq = ?2")?;
    let mut n = 0;
    for e in entries {
        if !exists.exists(params![e.machine.to_string(), e.seq])? {
            insert(conn, e)?;
            n += 1;
        }
    }
    Ok(n)
}

// --- Reading, verifying, exporting -------------------------------------------

/// Which entries to list: every filter optional; dates are UTC days,
/// `since` and `until` included.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditFilter {
    /// A machine's id.
    pub machine: Option<String>,
    /// An action code, e.g. `bundle.import`.
    pub action: Option<String>,
    /// The account, as entries name it.
    pub who: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// At most this many (newest first); 1 to [`MAX_LIST`].
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// The most entries one list gives.
pub const MAX_LIST: usize = 100_000;

/// An entry as the window and the CLI show it: with its machine's name.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    #[serde(flatten)]
    pub entry: Entry,
    pub machine_name: Option<String>,
}

/// A page of entries, newest first, and how many match in all.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub total: i64,
    pub entries: Vec<EntryView>,
}

/// What the filters of the window offer: the machines and accounts found
/// in the log, and every action code.
#[derive(Debug, Clone, Serialize)]
pub struct AuditFacets {
    pub machines: Vec<MachineName>,
    pub who: Vec<String>,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MachineName {
    pub id: String,
    pub name: Option<String>,
    /// This database's own identity.
    pub this: bool,
}

/// The first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    pub machine: String,
    pub machine_name: Option<String>,
    pub seq: i64,
    /// `altered`: the entry does not match its hash (it was changed);
    /// `unlinked`: it does not carry the hash of the entry before it (that
    /// one was changed or replaced); `missing`: entries before it are gone
    /// from this machine's own chain (deleted); `first`: numbered first,
    /// it follows another entry; `unreadable`: its machine is not an id.
    pub problem: &'static str,
    pub message: String,
}

/// Entries of another machine's chain not held here: a bundle that
/// carries them has not arrived (or they were removed here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub machine: String,
    pub machine_name: Option<String>,
    pub from_seq: i64,
    pub to_seq: i64,
}

/// What [`Store::audit_verify`] found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// No broken link.
    pub ok: bool,
    pub entries: i64,
    pub machines: usize,
    pub first_broken: Option<Broken>,
    /// Entries of other machines not received yet.
    pub waiting: Vec<Gap>,
}

/// A CSV file of the audit log written.
#[derive(Debug, Clone, Serialize)]
pub struct AuditExport {
    pub path: PathBuf,
    pub entries: usize,
    pub bytes: u64,
}

impl AuditFilter {
    /// The filter checked: its SQL condition and parameters.
    fn sql(&self) -> Result<(String, Vec<String>)> {
        let mut errors = Vec::new();
        let mut wheres = Vec::new();
        let mut args = Vec::new();
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(m) = given(&self.machine) {
            match Uuid::parse_str(&m) {
                Ok(id) => {
                    args.push(id.to_string());
                    wheres.push(format!("machine = ?{}", args.len()));
                }
                Err(_) => errors.push(FieldError::new("machine", "invalid_type").with("detail", "a machine's id")),
            }
        }
        for (field, column) in [("action", "action"), ("who", "who")] {
            let value = if field == "action" { given(&self.action) } else { given(&self.who) };
            if let Some(v) = value {
                args.push(v);
                wheres.push(format!("{column} = ?{}", args.len()));
            }
        }
        let day = |field: &str, v: &Option<String>, errors: &mut Vec<FieldError>| match given(v) {
            Some(d) => crate::validate::parse_date(field, &d).map_err(|e| errors.push(e)).ok(),
            None => None,
        };
        let since = day("since", &self.since, &mut errors);
        let until = day("until", &self.until, &mut errors);
        if let (Some(s), Some(u)) = (since, until) {
            if u < s {
                errors.push(
                    FieldError::new("until", "before_date").with("other_field", "since").with("other", s.to_string()),
                );
            }
        }
        if let Some(s) = since {
            args.push(s.to_string());
            wheres.push(format!("at >= ?{}", args.len()));
        }
        if let Some(u) = until.and_then(|u| u.succ_opt()) {
            args.push(u.to_string());
            wheres.push(format!("at < ?{}", args.len()));
        }
        if let Some(n) = self.limit {
            if !(1..=MAX_LIST).contains(&n) {
                errors.push(FieldError::new("limit", "out_of_range").with("min", 1).with("max", MAX_LIST));
            }
        }
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        let cond = if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
        Ok((cond, args))
    }
}

/// The names of the machines this database knows.
fn machine_names(conn: &Connection) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM device")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Entries come from other machines too, so text is defused.
fn csv_text(s: &str) -> String {
    crate::text::csv_safe(s)
}

impl Store {
    /// [`Store::write`], logging the note `f` gives with its result in the
    /// same transaction: an action that fails logs nothing, and one that
    /// gives no note (nothing changed) logs nothing.
    pub(crate) fn write_noted<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<(T, Option<Note>)>) -> Result<T> {
        let actor = self.actor.clone();
        self.write(|w| {
            let (out, note) = f(w)?;
            if let Some(note) = note {
                append(w.tx(), w.device.id, &actor, note)?;
            }
            Ok(out)
        })
    }

    /// Logs `note` on its own, for an action that writes no data (a print,
    /// an export, a sign-in), once it is done. A database with no device
    /// identity yet has no chain to log in: nothing is logged.
    pub(crate) fn log(&self, note: Note) -> Result<()> {
        self.with_note(|_| Ok(((), Some(note))))
    }

    /// Runs `f` on the connection in one write transaction with the note it
    /// gives (for the writes that do not go through [`Store::write`]:
    /// keys, approvals). Without a device identity, `f` runs alone.
    pub(crate) fn with_note<T>(&self, f: impl FnOnce(&Connection) -> Result<(T, Option<Note>)>) -> Result<T> {
        let conn = self.conn();
        let machine = self.device().ok().map(|d| d.id);
        let run = |conn: &Connection| -> Result<T> {
            let (out, note) = f(conn)?;
            if let (Some(machine), Some(note)) = (machine, note) {
                append(conn, machine, &self.actor, note)?;
            }
            Ok(out)
        };
        if !conn.is_autocommit() {
            return run(conn);
        }
        // The write lock at once, as every write takes it: two windows or
        // a CLI never number two entries alike.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match run(conn) {
            Ok(out) => {
                conn.execute_batch("COMMIT")?;
                Ok(out)
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// After a restore: puts back the audit entries the copy lacks
    /// (`trail`, every entry held before it), and logs the restore in the
    /// chain of the identity the database now writes under, in one
    /// transaction.
    pub(crate) fn log_restore(
        &mut self,
        trail: &[Entry],
        backup: &str,
        identity: &crate::store::IdentityRenewed,
    ) -> Result<()> {
        let actor = self.actor.clone();
        let me = self.device()?.id;
        let tx = self.transaction()?;
        let kept = keep(&tx, trail)?;
        let detail = format!("identity before {}; {kept} audit entries since the copy kept", identity.previous);
        append(&tx, me, &actor, Note::new(Act::BackupRestore, backup).detail(detail))?;
        tx.commit()?;
        Ok(())
    }

    /// Logs that the account that unlocked this store signed in, `via`
    /// the window (once unlocked) or a command of the CLI (once it
    /// succeeded: `cli beneficiary list`, never its arguments).
    pub fn log_sign_in(&mut self, via: &str) -> Result<()> {
        self.log(Note::new(Act::SignIn, via))
    }

    /// The entries that match `filter`, newest first.
    pub fn audit_list(&self, filter: &AuditFilter) -> Result<AuditPage> {
        self.require(crate::access::Action::ManageAccounts)?;
        let (cond, args) = filter.sql()?;
        let conn = self.conn();
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM audit {cond}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        let limit = filter.limit.unwrap_or(MAX_LIST) as i64;
        let offset = filter.offset.unwrap_or(0).min(i64::MAX as usize) as i64;
        let names = machine_names(conn)?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM audit {cond} ORDER BY at DESC, machine, seq DESC LIMIT {limit} OFFSET {offset}"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), entry_of)?;
        let mut entries = Vec::new();
        for r in rows {
            if let Some(entry) = r? {
                let machine_name = names.get(&entry.machine.to_string()).cloned();
                entries.push(EntryView { entry, machine_name });
            }
        }
        Ok(AuditPage { total, entries })
    }

    /// [`Store::audit_list`] from a JSON object (the window's filters).
    pub fn audit_list_json(&self, filter: serde_json::Value) -> Result<AuditPage> {
        let filter: AuditFilter = crate::validate::from_json(filter)?;
        self.audit_list(&filter)
    }

    /// The machines and accounts the log names, and every action code.
    pub fn audit_facets(&self) -> Result<AuditFacets> {
        self.require(crate::access::Action::ManageAccounts)?;
        let conn = self.conn();
        let names = machine_names(conn)?;
        let me = self.device().ok().map(|d| d.id.to_string());
        let column = |sql: &str| -> Result<Vec<String>> {
            let mut stmt = conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let machines = column("SELECT DISTINCT machine FROM audit ORDER BY machine")?
            .into_iter()
            .map(|id| MachineName { name: names.get(&id).cloned(), this: me.as_ref() == Some(&id), id })
            .collect();
        let mut actions: Vec<String> = Act::ALL.iter().map(|a| a.code().to_string()).collect();
        for a in column("SELECT DISTINCT action FROM audit")? {
            if !actions.contains(&a) {
                actions.push(a);
            }
        }
        Ok(AuditFacets { machines, who: column("SELECT DISTINCT who FROM audit ORDER BY who")?, actions })
    }

    /// Walks every chain held, machine by machine (this one's first), and
    /// names the first broken link: an entry that does not match its hash,
    /// one that does not carry the hash of the entry before it, entries
    /// missing from this machine's own chain. Entries of other machines
    /// not received yet are listed apart (`waiting`): they are not a
    /// broken link until they arrive.
    pub fn audit_verify(&self) -> Result<Verification> {
        self.require(crate::access::Action::ManageAccounts)?;
        let conn = self.conn();
        let names = machine_names(conn)?;
        let me = self.device().ok().map(|d| d.id.to_string());
        let entries: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
        let mut machines: Vec<String> = conn
            .prepare("SELECT DISTINCT machine FROM audit")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        machines.sort_by_key(|m| (me.as_ref() != Some(m), m.clone()));
        let mut waiting = Vec::new();
        let mut first_broken = None;
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit WHERE machine = ?1 ORDER BY seq"))?;
        'machines: for m in &machines {
            let name = names.get(m).cloned();
            let own = me.as_ref() == Some(m);
            let fail = |seq: i64, problem: &'static str, message: String| Broken {
                machine: m.clone(),
                machine_name: name.clone(),
                seq,
                problem,
                message,
            };
            let mut rows = stmt.query(params![m])?;
            let mut before: Option<(i64, String)> = None;
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(1)?;
                let Some(e) = entry_of(row)? else {
                    first_broken = Some(fail(seq, "unreadable", format!("entry {seq} names no machine ({m})")));
                    break 'machines;
                };
                if e.hash != e.compute_hash() {
                    first_broken =
                        Some(fail(seq, "altered", format!("entry {seq} does not match its hash: it was changed")));
                    break 'machines;
                }
                let expected_before = before.as_ref().map_or(0, |(s, _)| *s) + 1;
                if seq == 1 && e.prev_hash != GENESIS {
                    first_broken =
                        Some(fail(seq, "first", "entry 1 carries the hash of an entry before it".to_string()));
                    break 'machines;
                }
                if seq > expected_before {
                    if own {
                        first_broken = Some(fail(
                            seq,
                            "missing",
                            format!("entries {expected_before} to {} of this computer's own log are missing", seq - 1),
                        ));
                        break 'machines;
                    }
                    waiting.push(Gap {
                        machine: m.clone(),
                        machine_name: name.clone(),
                        from_seq: expected_before,
                        to_seq: seq - 1,
                    });
                } else if let Some((s, hash)) = &before {
                    if *hash != e.prev_hash {
                        first_broken = Some(fail(
                            seq,
                            "unlinked",
                            format!(
                                "entry {seq} does not carry the hash of entry {s}: entry {s} was changed or replaced"
                            ),
                        ));
                        break 'machines;
                    }
                }
                before = Some((seq, e.hash));
            }
        }
        Ok(Verification { ok: first_broken.is_none(), entries, machines: machines.len(), first_broken, waiting })
    }

    /// Writes the whole log (every machine, oldest first) as a CSV file
    /// (UTF-8 with a BOM, owner-only; never over the database or a backup),
    /// then logs the export.
    pub fn audit_export_csv(&self, out: &Path) -> Result<AuditExport> {
        self.audit_export_filtered(out, &AuditFilter::default())
    }

    /// [`Store::audit_export_csv`] of the entries `filter` selects (its
    /// machine, account, action and days; every one, not a page of them):
    /// the lines the Journal screen shows and counts. The export's own
    /// entry names the filter.
    pub fn audit_export_filtered(&self, out: &Path, filter: &AuditFilter) -> Result<AuditExport> {
        self.require(crate::access::Action::ManageAccounts)?;
        let (cond, args) = filter.sql()?;
        crate::files::check_output(self.path(), out)?;
        let conn = self.conn();
        let names = machine_names(conn)?;
        let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
        let csv_err = |e: csv::Error| Error::Report(format!("CSV audit: {e}"));
        w.write_record([
            "machine",
            "machine_name",
            "seq",
            "at",
            "who",
            "role",
            "action",
            "subject",
            "detail",
            "prev_hash",
            "hash",
        ])
        .map_err(csv_err)?;
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit {cond} ORDER BY at, machine, seq"))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let machine: String = row.get(0)?;
            let text = |i: usize| -> rusqlite::Result<String> { row.get(i) };
            let seq: i64 = row.get(1)?;
            w.write_record([
                machine.clone(),
                csv_text(names.get(&machine).map_or("", String::as_str)),
                seq.to_string(),
                text(2)?,
                csv_text(&text(3)?),
                text(4)?,
                text(5)?,
                csv_text(&text(6)?),
                csv_text(&text(7)?),
                text(8)?,
                text(9)?,
            ])
            .map_err(csv_err)?;
            n += 1;
        }
        let bytes = w.into_inner().map_err(|e| Error::Report(format!("CSV audit: {e}")))?;
        crate::files::write_private(out, &bytes)?;
        let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let given = [
            ("machine", &filter.machine),
            ("who", &filter.who),
            ("action", &filter.action),
            ("since", &filter.since),
            ("until", &filter.until),
        ];
        let mut detail = format!("entries={n}");
        for (k, v) in given {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                detail.push_str(&format!(" {k}={v}"));
            }
        }
        self.log(Note::new(Act::AuditExport, name).detail(detail))?;
        Ok(AuditExport { path: out.to_path_buf(), entries: n, bytes: bytes.len() as u64 })
    }

    /// [`Store::audit_export_filtered`] with the filter as the window sends
    /// it ({machine, who, action, since, until}, each optional).
    pub fn audit_export_json(&self, out: &Path, filter: serde_json::Value) -> Result<AuditExport> {
        let filter: AuditFilter = crate::validate::from_json(filter)?;
        self.audit_export_filtered(out, &filter)
    }

    /// [`Store::audit_export_csv`] into `reports/` beside the database,
    /// under a clear name (the window's export).
    pub fn audit_export_to_folder(&self) -> Result<AuditExport> {
        self.require(crate::access::Action::ManageAccounts)?;
        let dir = crate::report::reports_dir(self)?;
        self.audit_export_csv(&crate::report::output_path(&dir, "audit", Some("csv")))
    }
}
