//! Taking bundles in. Each bundle is decrypted with this computer's
//! identity, its signature checked and its source admitted (sync/keys.rs:
//! a computer never approved here, or signing with another key, is
//! refused), all before anything is written. Each bundle is checked whole (sync/bundle.rs), then
//! imported in one transaction: its changes are appended to the log (those
//! already there are skipped, so a repeat changes nothing), the records
//! they touch are folded again, conflicts and possible duplicates are
//! looked for. Any failure rolls everything back. A preview runs the same
//! import and rolls it back.
//!
//! Speed (`cargo bench -p wafira-core --bench sync`): the changes keep
//! their bundle text, stored as it came. A record whose only change is its
//! creation, arriving for the first time, is read from that text straight
//! into its typed row (log::prepare_created, on the other core while this
//! one appends the log) and inserted without reading the log back; if its
//! row exists after all, its whole log is folded. People's summaries and
//! search words are written once per person at the end. For the length of
//! an import the connection keeps statement journals in memory and a large
//! page cache (`ConnectionSettings`).

use super::backup::{self, BackupFile};
use super::bundle::{self, DeviceRef, Manifest, Refusal, Unpacked};
use super::export::{OWE_PREFIX, SERVED_PREFIX, WANT_FULL_KEY};
use super::keys::{self, Admitted, OwnKeys};
use super::{check, conflict};
use crate::access::{Action, Role};
use crate::clock::{Hlc, HOLD_AHEAD_MS, MAX_DRIFT_MS};
use crate::error::{Error, Result};
use crate::progress::{Progress, What};
use crate::store::log::{self, Deferred, Entity, Materialised, Op};
use crate::store::{meta_get, meta_set, register_device, Device, Renewal, Store, Writer};
use rusqlite::{params, Connection, Transaction};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// Records per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub beneficiaries: i64,
    pub visits: i64,
    pub milestones: i64,
    pub targets: i64,
}

impl Counts {
    fn of(tx: &Transaction<'_>) -> Result<Counts> {
        let n = |t: &str| -> Result<i64> { Ok(tx.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?) };
        Ok(Counts {
            beneficiaries: n("beneficiary")?,
            visits: n("visit")?,
            milestones: n("milestone")?,
            targets: n("target")?,
        })
    }

    fn minus(&self, o: &Counts) -> Counts {
        Counts {
            beneficiaries: self.beneficiaries - o.beneficiaries,
            visits: self.visits - o.visits,
            milestones: self.milestones - o.milestones,
            targets: self.targets - o.targets,
        }
    }

    fn add(&mut self, o: &Counts) {
        self.beneficiaries += o.beneficiaries;
        self.visits += o.visits;
        self.milestones += o.milestones;
        self.targets += o.targets;
    }
}

/// What one bundle brought.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub bundle_id: Uuid,
    pub source: DeviceRef,
    pub number: i64,
    /// This very bundle was imported before.
    pub already_imported: bool,
    pub changes: usize,
    /// Changes this database did not have.
    pub new_changes: usize,
    /// Records that were not here before.
    pub added: Counts,
    /// Records that were here and changed.
    pub updated: usize,
    /// Visits and milestones whose person has not arrived yet (in all).
    pub waiting: i64,
    /// Earlier bundles of the same computer that never arrived here: their
    /// changes, and what depends on them, wait for them.
    pub missing_before: Vec<super::devices::Gap>,
    /// New conflicts to settle.
    pub conflicts: usize,
    /// New pairs of possible duplicates.
    pub possible_duplicates: usize,
    /// Merges and conflict resolutions received.
    pub decisions: usize,
    /// People whose identifying data the bundle erased here (consent
    /// withdrawn).
    pub erased: usize,
    /// Changes held here whose values an erasure scrubbed.
    pub scrubbed: usize,
    /// Changes stamped beyond the tolerance ahead of this machine's clock.
    pub future_changes: usize,
    /// This import approved the computer that made the bundle: a new one
    /// with `approve_new`, one a person approved before its first bundle,
    /// or a new identity of a computer approved here (same key).
    pub approved: bool,
    /// What the window warns about (`sync.warning.<code>`): `unsigned`, a
    /// plaintext bundle of a version before signed bundles (taken for now,
    /// see docs/sync.md); `not_encrypted`, a signed bundle that came
    /// decrypted.
    pub warnings: Vec<&'static str>,
}

/// One file of an import: its summary, or why it was refused.
#[derive(Debug, Serialize)]
pub struct FileOutcome {
    pub file: String,
    pub summary: Option<ImportSummary>,
    pub error: Option<Error>,
}

#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub added: Counts,
    pub updated: usize,
    pub new_changes: usize,
    pub conflicts: usize,
    pub possible_duplicates: usize,
    pub decisions: usize,
    pub future_changes: usize,
    pub refused: usize,
}

/// What an import did (or, for a preview, would do).
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// The copy taken before writing.
    pub backup: Option<BackupFile>,
    pub files: Vec<FileOutcome>,
    pub totals: Totals,
    /// A person stopped the import between two bundles: those before were
    /// imported (or previewed), each whole; the files after say
    /// `cancelled` and nothing of them was written.
    pub cancelled: bool,
}

impl ImportReport {
    /// Whether some file was refused (a file not reached because the
    /// import was stopped was not refused).
    pub fn any_refused(&self) -> bool {
        self.files.iter().any(|f| f.error.as_ref().is_some_and(|e| !matches!(e, Error::Cancelled)))
    }
}

/// How bundles are taken in.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Only say what the bundles would bring; write nothing.
    pub dry_run: bool,
    /// Take changes stamped more than a day ahead of this machine's clock
    /// (a person checked that laptop's date). Without it such a bundle is
    /// refused, naming the laptop, rather than dragging this clock forward.
    pub accept_future: bool,
    /// Approve the computer that made a bundle when it was never seen here
    /// (for scripts, after a person checked its fingerprint): without it
    /// such a bundle is refused, naming the computer and its fingerprint.
    /// A known computer signing with another key is refused all the same.
    pub approve_new: bool,
}

/// A bundle read from its file: one this database already took in
/// (recognised from its manifest alone), or one unpacked and checked whole.
enum Decoded {
    Known(Manifest),
    Fresh(Unpacked),
}

/// A bundle decrypted and checked, and what protected it.
struct Received {
    decoded: Decoded,
    signed: bool,
    encrypted: bool,
}

impl Received {
    /// The laptop that made the bundle, as the window names it.
    fn source_name(&self) -> &str {
        match &self.decoded {
            Decoded::Known(m) => &m.source.name,
            Decoded::Fresh(u) => &u.manifest.source.name,
        }
    }

    fn warnings(&self) -> Vec<&'static str> {
        match (self.signed, self.encrypted) {
            (false, _) => vec!["unsigned"],
            (true, false) => vec!["not_encrypted"],
            (true, true) => Vec::new(),
        }
    }
}

/// Decrypts a bundle (this computer must be one of its recipients) and
/// checks its signature; unpacks it only when this database has not
/// imported this very bundle (same id, same content) before.
fn decode(conn: &Connection, bytes: &[u8], own: &OwnKeys) -> Result<Received> {
    let encrypted = bundle::is_sealed(bytes);
    let plain;
    let bytes = if encrypted {
        plain = bundle::unseal(bytes, &own.identity)?;
        &plain[..]
    } else {
        bytes
    };
    let (manifest, signed) = bundle::read_signed_manifest(bytes)?;
    let known = conn
        .prepare_cached("SELECT 1 FROM bundle_import WHERE bundle_id = ?1 AND content_sha256 = ?2")?
        .exists(params![manifest.bundle_id.to_string(), manifest.content_sha256])?;
    let decoded = if known { Decoded::Known(manifest) } else { Decoded::Fresh(bundle::unpack(bytes)?) };
    Ok(Received { decoded, signed, encrypted })
}

/// What importing a bundle already imported says: nothing new (a bundle
/// replayed, even an older one, writes nothing).
fn known_summary(tx: &Transaction<'_>, m: Manifest, warnings: Vec<&'static str>) -> Result<ImportSummary> {
    let waiting: i64 = tx.query_row("SELECT count(*) FROM waiting WHERE parent_id <> ''", [], |r| r.get(0))?;
    let missing_before = super::devices::missing_before(tx, &m.source.id.to_string(), m.number)?;
    Ok(ImportSummary {
        bundle_id: m.bundle_id,
        source: m.source,
        number: m.number,
        already_imported: true,
        changes: m.changes,
        new_changes: 0,
        added: Counts::default(),
        updated: 0,
        waiting,
        missing_before,
        conflicts: 0,
        possible_duplicates: 0,
        decisions: 0,
        erased: 0,
        scrubbed: 0,
        future_changes: 0,
        approved: false,
        warnings,
    })
}

/// The order records are folded in: decisions on duplicates first (visits
/// land under the person kept), people before their visits.
fn rank(e: Entity) -> u8 {
    match e {
        Entity::Merge => 0,
        Entity::Beneficiary => 1,
        Entity::Target | Entity::Partner | Entity::Session => 2,
        Entity::Iga => 3,
        Entity::Visit | Entity::Milestone | Entity::IgaFollowup | Entity::Season | Entity::Referral => 4,
        Entity::Attendance => 5,
        Entity::Resolution => 6,
        Entity::Erasure => 7,
    }
}

/// The changes of a bundle this database does not have yet (by their
/// place in it). Refuses a change whose device and number this database
/// knows with other contents: two databases claiming one device (a copied
/// laptop, a forged file).
fn fresh_changes(tx: &Transaction<'_>, bundle: &Unpacked) -> Result<Vec<usize>> {
    let mut known: HashMap<Uuid, i64> = HashMap::new();
    for r in &bundle.manifest.devices {
        let max: i64 = tx
            .prepare_cached(
                "SELECT coalesce(max(seq), 0) FROM change_log WHERE device = (SELECT no FROM device_no WHERE id = ?1)",
            )?
            .query_row(params![r.device.id.to_string()], |r| r.get(0))?;
        known.insert(r.device.id, max);
    }
    let mut stmt = tx.prepare_cached(
        "SELECT hlc, entity, record_id, op, fields, old, base FROM change WHERE device_id = ?1 AND seq = ?2",
    )?;
    let mut fresh = Vec::with_capacity(bundle.lines.len());
    for (i, c) in bundle.lines.iter().enumerate() {
        if known.get(&c.device_id).is_none_or(|max| c.seq > *max) {
            fresh.push(i);
            continue;
        }
        let mut rows = stmt.query(params![c.device_id.to_string(), c.seq])?;
        let Some(row) = rows.next()? else {
            fresh.push(i);
            continue;
        };
        let text = |i: usize| row.get_ref(i).and_then(|v| v.as_str().map_err(rusqlite::Error::from));
        let same = text(0)? == c.hlc.to_string()
            && text(1)? == c.entity.as_str()
            && text(2)? == c.record_id.to_string()
            && text(3)? == c.op.as_str()
            && ((same_object(text(4)?, c.fields.get()) && same_object(text(5)?, c.old.get()))
                // Held scrubbed by an erasure and sent again as made (or
                // the other way round): the same change.
                || crate::erasure::same_but_scrubbed(
                    c.entity,
                    (text(4)?, text(5)?),
                    (c.fields.get(), c.old.get()),
                ))
            && same_object(text(6)?, c.base.get());
        if !same {
            return Err(Error::Refused(Refusal::Forged(format!(
                "change {} of device {} differs from the one already received",
                c.seq, c.device_id
            ))));
        }
    }
    Ok(fresh)
}

/// Whether two JSON objects' texts say the same (the same text, usually).
fn same_object(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)),
            (Ok(a), Ok(b)) if a == b
        )
}

/// A failure while folding means the bundle holds something no record can be.
fn invalid(e: Error) -> Error {
    match e {
        Error::Other(m) => Error::Refused(Refusal::InvalidRecord(m)),
        Error::Db(rusqlite::Error::SqliteFailure(f, m)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            Error::Refused(Refusal::Forged(format!("a change reuses another's stamp ({})", m.unwrap_or_default())))
        }
        other => other,
    }
}

/// What one import did besides its summary: whether it brought changes
/// made under this database's own identity that it did not have (a copy
/// of it writes elsewhere: it must take a new identity).
struct Imported {
    summary: ImportSummary,
    own_changes_seen: bool,
    /// Audit entries this database did not have.
    audit_new: usize,
}

/// Imports one checked bundle into the open transaction.
fn import_one(
    w: &mut Writer<'_>,
    received: Received,
    options: ImportOptions,
    own: &OwnKeys,
    role: Role,
) -> Result<Imported> {
    let warnings = received.warnings();
    let bundle = match received.decoded {
        Decoded::Known(m) => {
            return Ok(Imported { summary: known_summary(w.tx(), m, warnings)?, own_changes_seen: false, audit_new: 0 })
        }
        Decoded::Fresh(b) => b,
    };
    let me = w.device.id;
    let tx = w.tx();
    let m = bundle.manifest.clone();
    // Made-up people and real ones never meet (store: is_practice).
    let practice_here = crate::store::is_practice(tx)?;
    if m.practice != practice_here {
        return Err(Error::Refused(Refusal::PracticeMismatch { name: m.source.name.clone(), practice: m.practice }));
    }
    // Its source first: nothing of a bundle from a computer not approved here
    // is looked at further.
    let admitted = keys::admit(tx, &m, received.signed && bundle.signed, own, options.approve_new, role)?;
    let already: bool = tx
        .prepare_cached("SELECT 1 FROM bundle_import WHERE bundle_id = ?1")?
        .exists(params![m.bundle_id.to_string()])?;
    register_device(tx, &Device::from(&m.source))?;
    super::devices::adopt_coordinator(tx, &m.source, me)?;
    for r in &m.devices {
        register_device(tx, &Device::from(&r.device))?;
        super::devices::adopt_coordinator(tx, &r.device, me)?;
    }
    let fresh = fresh_changes(tx, &bundle)?;
    // Its audit entries: each links to its machine's chain, or the bundle
    // is refused (audit.rs).
    let audit = crate::audit::take_in(tx, &bundle.audit, me, &crate::audit::names(&m))?;
    let before = Counts::of(tx)?;
    let now = Hlc::now_millis();
    let horizon = now.saturating_add(MAX_DRIFT_MS);
    let future_changes = fresh.iter().filter(|i| bundle.lines[**i].hlc.millis > horizon).count();
    let hold = now.saturating_add(HOLD_AHEAD_MS);
    let names: HashMap<Uuid, &str> = m.devices.iter().map(|r| (r.device.id, r.device.name.as_str())).collect();
    let name_of = |d: Uuid| names.get(&d).copied().unwrap_or(m.source.name.as_str());
    if !options.accept_future {
        if let Some(ahead) =
            fresh.iter().map(|i| &bundle.lines[*i]).filter(|c| c.hlc.millis > hold).max_by_key(|c| c.hlc)
        {
            return Err(Error::Refused(Refusal::AheadOfClock {
                device: name_of(ahead.device_id).to_string(),
                at: ahead.hlc.instant(),
            }));
        }
    }
    // This clock moves past what it receives (so that the next edit made
    // here wins), but more than a day ahead of the wall clock only when a
    // person accepted it: then edits made here must still win over the
    // changes accepted. History shows wall-clock times (`at`), not stamps.
    let latest = fresh.iter().map(|i| bundle.lines[*i].hlc).filter(|h| options.accept_future || h.millis <= hold).max();
    let own_changes_seen = fresh.iter().any(|i| bundle.lines[*i].device_id == me) || audit.own_seen;
    let decisions =
        fresh.iter().filter(|i| matches!(bundle.lines[**i].entity, Entity::Merge | Entity::Resolution)).count();

    // Records that only waited for their creation need their whole log.
    let waiting_before: HashSet<(String, String)> = tx
        .prepare_cached("SELECT entity, record_id FROM waiting")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut groups: BTreeMap<(u8, Entity, Uuid), Vec<usize>> = BTreeMap::new();
    for i in &fresh {
        let c = &bundle.lines[*i];
        groups.entry((rank(c.entity), c.entity, c.record_id)).or_default().push(*i);
    }
    // Erasures the bundle brings, and its changes of erased people's
    // records: those are stored scrubbed (erasure.rs).
    let erasing = crate::erasure::Incoming::prepare(tx, &bundle.lines, &fresh)?;
    // Records whose creation arrives alone, not waiting: each lands from
    // that one change. Decisions on a pair share one id, so two machines
    // may both have created it: those always fold from the whole log, and
    // so do the records of erased people.
    let alone: Vec<usize> = groups
        .iter()
        .filter(|((_, entity, id), idxs)| {
            idxs.len() == 1
                && bundle.lines[idxs[0]].op == Op::Create
                && *entity != Entity::Merge
                && !waiting_before.contains(&(entity.as_str().to_string(), id.to_string()))
                && !erasing.records.contains(&(*entity, *id))
        })
        .map(|(_, idxs)| idxs[0])
        .collect();
    // Their rows are made, and every change is checked by the form's
    // rules (sync/check.rs), on other threads while this one writes the log.
    let lines = &bundle.lines;
    let mut rcv = log::next_rcv(tx)?;
    let mut prepared = std::thread::scope(|s| -> Result<Vec<Option<log::Canonical>>> {
        let checker = s.spawn(|| -> Result<()> {
            for i in &fresh {
                check::check_line(&lines[*i], name_of(lines[*i].device_id))?;
            }
            Ok(())
        });
        let worker = s.spawn(|| {
            alone
                .iter()
                .map(|i| {
                    log::prepare_created(lines[*i].entity, lines[*i].record_id, lines[*i].fields.get(), lines[*i].hlc)
                })
                .collect()
        });
        for i in &fresh {
            let mut row = lines[*i].row();
            if let Some((fields, old)) = erasing.scrubbed.get(i) {
                (row.fields, row.old) = (fields, old);
            }
            log::append_change(tx, &row, rcv).map_err(invalid)?;
            rcv += 1;
        }
        checker.join().map_err(|_| Error::Other("internal: checking the changes failed".into()))??;
        worker.join().map_err(|_| Error::Other("internal: preparing the records failed".into()))
    })?
    .into_iter();
    // What this machine held of the records of people now erased, and of
    // erased people's records the bundle reveals (a visit's creation
    // after its corrections), is scrubbed before anything is folded.
    let (scrubbed_records, rewritten) = erasing.scrub_held(tx)?;
    let mut deferred = Deferred::default();
    let (mut updated, mut conflicts) = (0, 0);
    let mut next_alone = alone.iter().peekable();
    for ((_, entity, id), idxs) in groups {
        if next_alone.next_if(|i| **i == idxs[0]).is_some() {
            let c = &lines[idxs[0]];
            let p = prepared.next().flatten();
            log::land_created(tx, entity, id, c.fields.get(), c.hlc, p, &mut deferred).map_err(invalid)?;
        } else {
            let existed: bool = tx
                .prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", entity.as_str()))?
                .exists(params![id.to_string()])?;
            let done = log::materialise_with(tx, entity, id, Some(&mut deferred)).map_err(invalid)?;
            if existed && done == Materialised::Done {
                updated += 1;
            }
            if entity == Entity::Merge || idxs.iter().any(|i| bundle.lines[*i].op != Op::Create) {
                conflicts += conflict::detect(tx, entity, id)?;
            }
        }
    }
    if !scrubbed_records.is_empty() {
        crate::erasure::Incoming::refold(&scrubbed_records, tx, &mut deferred)?;
    }
    let possible_duplicates = deferred.finish(tx)?;
    check::check_relations(tx, &m, &bundle.lines, &fresh)?;
    let added = Counts::of(tx)?.minus(&before);
    let waiting: i64 = tx.query_row("SELECT count(*) FROM waiting WHERE parent_id <> ''", [], |r| r.get(0))?;
    if !already || !fresh.is_empty() {
        tx.prepare_cached(
            "INSERT INTO bundle_import
                 (bundle_id, source, number, full, created_at, imported_at, changes, new_changes, content_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (bundle_id) DO UPDATE SET new_changes = new_changes + excluded.new_changes,
                 content_sha256 = excluded.content_sha256",
        )?
        .execute(params![
            m.bundle_id.to_string(),
            m.source.id.to_string(),
            m.number,
            m.full,
            m.created_at,
            crate::now_utc(),
            m.changes as i64,
            fresh.len() as i64,
            m.content_sha256,
        ])?;
    }
    take_full_requests(tx, &m)?;
    let missing_before = super::devices::missing_before(tx, &m.source.id.to_string(), m.number)?;
    if let Some(latest) = latest {
        w.observe(latest);
    }
    let summary = ImportSummary {
        bundle_id: m.bundle_id,
        source: m.source,
        number: m.number,
        already_imported: already,
        changes: m.changes,
        new_changes: fresh.len(),
        added,
        updated,
        waiting,
        missing_before,
        conflicts,
        possible_duplicates,
        decisions,
        erased: erasing.new_people.len(),
        scrubbed: rewritten,
        future_changes,
        approved: admitted == Admitted::Approved,
        warnings,
    };
    Ok(Imported { summary, own_changes_seen, audit_new: audit.new })
}

/// Logs a bundle taken in, in its import's transaction, when the import
/// wrote anything (a bundle imported again writes nothing, not even this).
fn log_import(w: &Writer<'_>, actor: &crate::access::Actor, file: &str, i: &Imported) -> Result<()> {
    let s = &i.summary;
    if s.already_imported && s.new_changes == 0 && i.audit_new == 0 {
        return Ok(());
    }
    let file = std::path::Path::new(file).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let subject = if file.is_empty() { s.bundle_id.to_string() } else { file };
    let detail = format!(
        "bundle {} #{} of {}: {} new changes, {} audit entries{}",
        s.bundle_id,
        s.number,
        s.source.name,
        s.new_changes,
        i.audit_new,
        if s.approved { "; computer approved" } else { "" }
    );
    let note = crate::audit::Note::new(crate::audit::Act::BundleImport, subject).detail(detail);
    crate::audit::append(w.tx(), w.device.id, actor, note)?;
    Ok(())
}

/// A bundle that asks for a full bundle back: the next export here will
/// be full (once per request). A full bundle that answers this database's
/// own request ends it.
fn take_full_requests(tx: &Transaction<'_>, m: &Manifest) -> Result<()> {
    let mine = meta_get(tx, WANT_FULL_KEY)?.and_then(|r| Uuid::parse_str(&r).ok());
    if let Some(r) = m.wants_full.filter(|r| Some(*r) != mine) {
        if meta_get(tx, &format!("{SERVED_PREFIX}{r}"))?.is_none() {
            meta_set(tx, &format!("{OWE_PREFIX}{r}"), &m.source.id.to_string())?;
        }
    }
    if m.full && mine.is_some_and(|r| m.serves.contains(&r)) {
        tx.execute("DELETE FROM meta WHERE key = ?1", params![WANT_FULL_KEY])?;
    }
    Ok(())
}

/// Connection settings for the length of an import. Statement journals
/// stay in memory: every insert of a visit or milestone needs one (its
/// foreign key may fail after the row is written), and once one outgrows
/// SQLite's 64 KiB it becomes a temporary file, written for every row
/// after. And the page cache holds the import's pages until commit,
/// rather than spilling them into the WAL midway and reading them back.
#[derive(Debug, Clone, Copy)]
struct ConnectionSettings {
    /// `PRAGMA temp_store`: 2 is memory.
    temp_store: i64,
    /// `PRAGMA cache_size`: negative is KiB.
    cache_size: i64,
}

impl ConnectionSettings {
    const FOR_IMPORT: ConnectionSettings = ConnectionSettings { temp_store: 2, cache_size: -128 * 1024 };

    fn read(conn: &Connection) -> Result<ConnectionSettings> {
        Ok(ConnectionSettings {
            temp_store: conn.pragma_query_value(None, "temp_store", |r| r.get(0))?,
            cache_size: conn.pragma_query_value(None, "cache_size", |r| r.get(0))?,
        })
    }

    fn apply(self, conn: &Connection) -> Result<()> {
        conn.pragma_update(None, "temp_store", self.temp_store)?;
        conn.pragma_update(None, "cache_size", self.cache_size)?;
        Ok(())
    }
}

/// What `wafira bundle inspect` shows of a bundle file.
#[derive(Debug, Serialize)]
pub struct Inspected {
    pub encrypted: bool,
    pub signed: bool,
    /// The fingerprint of the key that signed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub manifest: Manifest,
}

impl Store {
    /// Decrypts a bundle with this computer's identity and checks it whole
    /// (its signature too), writing nothing; gives its manifest.
    pub fn inspect_bundle(&self, bytes: &[u8]) -> Result<Inspected> {
        self.require(Action::Read)?;
        let encrypted = bundle::is_sealed(bytes);
        let plain = if encrypted { bundle::unseal(bytes, &keys::load(self.conn())?.identity)? } else { bytes.to_vec() };
        let u = bundle::unpack(&plain)?;
        let fingerprint = u.manifest.keys.as_ref().filter(|_| u.signed).map(|k| keys::fingerprint(&k.signing_key));
        Ok(Inspected { encrypted, signed: u.signed, fingerprint, manifest: u.manifest })
    }

    /// Imports bundle files, each all or nothing; with `dry_run`, only says
    /// what they would bring (together, in the order given) and writes
    /// nothing. A copy of the database is kept before a real import.
    pub fn import_bundles(&mut self, files: Vec<(String, Vec<u8>)>, dry_run: bool) -> Result<ImportReport> {
        self.require(Action::ImportApproved)?;
        self.import_bundles_with(files, ImportOptions { dry_run, ..ImportOptions::default() })
    }

    /// [`Store::import_bundles`] with every option.
    pub fn import_bundles_with(
        &mut self,
        files: Vec<(String, Vec<u8>)>,
        options: ImportOptions,
    ) -> Result<ImportReport> {
        self.import_bundles_progress(files, options, &Progress::none())
    }

    /// [`Store::import_bundles_with`], saying how far it is to `progress`
    /// (each file opened, the restore point, each bundle taken in) and
    /// stopping between two bundles when asked: the bundles before are
    /// imported whole, the rest untouched (`cancelled`).
    pub fn import_bundles_progress(
        &mut self,
        files: Vec<(String, Vec<u8>)>,
        options: ImportOptions,
        progress: &Progress,
    ) -> Result<ImportReport> {
        self.require(Action::ImportApproved)?;
        let dry_run = options.dry_run;
        self.device()?;
        let own = keys::load(self.conn())?;
        let of = files.len() as u64;
        let mut decoded: Vec<(String, Result<Received>)> = Vec::with_capacity(files.len());
        for (n, (name, bytes)) in (1..).zip(files) {
            let received = if progress.is_cancelled() {
                Err(Error::Cancelled)
            } else {
                progress.step(n - 1, 2 * of + 1, What::Opening { n, of, file: name.clone() });
                decode(self.conn(), &bytes, &own)
            };
            decoded.push((name, received));
        }
        let mut report =
            ImportReport { dry_run, backup: None, files: Vec::new(), totals: Totals::default(), cancelled: false };
        let usual = ConnectionSettings::read(self.conn())?;
        ConnectionSettings::FOR_IMPORT.apply(self.conn())?;
        let outcomes = self.import_decoded(decoded, options, &own, &mut report, progress);
        usual.apply(self.conn())?;
        for (file, result) in outcomes? {
            let t = &mut report.totals;
            match result {
                Ok(s) => {
                    t.added.add(&s.added);
                    t.updated += s.updated;
                    t.new_changes += s.new_changes;
                    t.conflicts += s.conflicts;
                    t.possible_duplicates += s.possible_duplicates;
                    t.decisions += s.decisions;
                    t.future_changes += s.future_changes;
                    report.files.push(FileOutcome { file, summary: Some(s), error: None });
                }
                Err(Error::Cancelled) => {
                    report.cancelled = true;
                    report.files.push(FileOutcome { file, summary: None, error: Some(Error::Cancelled) });
                }
                Err(e) => {
                    t.refused += 1;
                    report.files.push(FileOutcome { file, summary: None, error: Some(e) });
                }
            }
        }
        // A stopped import ends where it stopped, not at its total.
        if !report.cancelled {
            progress.step(2 * of + 1, 2 * of + 1, What::Done);
        }
        Ok(report)
    }

    /// Imports one bundle, failing if it is refused.
    pub fn import_bundle(&mut self, bytes: Vec<u8>) -> Result<ImportSummary> {
        self.require(Action::ImportApproved)?;
        let mut report = self.import_bundles(vec![(String::new(), bytes)], false)?;
        let outcome = report.files.remove(0);
        match (outcome.summary, outcome.error) {
            (Some(s), _) => Ok(s),
            (None, Some(e)) => Err(e),
            (None, None) => Err(Error::Other("internal: an import gave no outcome".into())),
        }
    }

    /// Takes the decoded files in: the preview in one transaction rolled
    /// back, a real import one transaction per file after a backup. Before
    /// each bundle, a request to stop leaves it and those after untouched.
    fn import_decoded(
        &mut self,
        decoded: Vec<(String, Result<Received>)>,
        options: ImportOptions,
        own: &OwnKeys,
        report: &mut ImportReport,
        progress: &Progress,
    ) -> Result<Vec<(String, Result<ImportSummary>)>> {
        let mut outcomes: Vec<(String, Result<ImportSummary>)> = Vec::new();
        let role = self.actor().role;
        // Steps: each file opened, the restore point, each bundle.
        let of = decoded.len() as u64;
        let (total, first) = (2 * of + 1, of + 1);
        let next = |n: u64, name: &str, b: &Result<Received>| -> bool {
            if progress.is_cancelled() {
                return false;
            }
            let name = b.as_ref().map_or(name, Received::source_name).to_string();
            progress.step(first + n - 1, total, What::Bundle { n, of, name });
            true
        };
        if options.dry_run {
            self.preview(|w| {
                for (n, (name, b)) in (1..).zip(decoded) {
                    if !next(n, &name, &b) {
                        outcomes.push((name, Err(Error::Cancelled)));
                        continue;
                    }
                    let result = match b {
                        Ok(b) => {
                            w.tx().execute_batch("SAVEPOINT bundle")?;
                            let r = import_one(w, b, options, own, role).map(|i| i.summary);
                            if r.is_err() {
                                w.tx().execute_batch("ROLLBACK TO bundle")?;
                            }
                            w.tx().execute_batch("RELEASE bundle")?;
                            r
                        }
                        Err(e) => Err(e),
                    };
                    outcomes.push((name, result));
                }
                Ok(())
            })?;
        } else {
            let worth_a_copy =
                decoded.iter().any(|(_, b)| matches!(b, Ok(Received { decoded: Decoded::Fresh(_), .. })));
            if worth_a_copy && !progress.is_cancelled() {
                progress.step(of, total, What::Backup);
                report.backup = Some(backup::take(self, "before-import")?);
            }
            let actor = self.actor().clone();
            let mut erased = false;
            for (n, (name, b)) in (1..).zip(decoded) {
                if !next(n, &name, &b) {
                    outcomes.push((name, Err(Error::Cancelled)));
                    continue;
                }
                let result = match b {
                    Ok(b) => self.write(|w| {
                        let imported = import_one(w, b, options, own, role)?;
                        // Milestones of a laptop of an older version get
                        // their person's first IGA, in the same transaction.
                        w.upgrade_milestones()?;
                        log_import(w, &actor, &name, &imported)?;
                        Ok(imported)
                    }),
                    Err(e) => Err(e),
                };
                let result = match result {
                    Ok(Imported { summary, own_changes_seen, .. }) => {
                        if own_changes_seen {
                            self.renew_identity(Renewal::SeenElsewhere)?;
                        }
                        erased |= summary.erased > 0 || summary.scrubbed > 0;
                        Ok(summary)
                    }
                    Err(e) => Err(e),
                };
                outcomes.push((name, result));
            }
            // Erased values must not outlive the import in freed pages or
            // in the backups (the one just taken holds them).
            if erased {
                crate::erasure::secure(self)?;
            }
        }
        Ok(outcomes)
    }
}
