//! What a laptop sends: every change it made or received that it has not
//! exported yet (per device, the highest number already exported is kept),
//! or everything with `full`. The station exports the same way for the
//! laptops: their own changes come back too, and an import ignores what it
//! already has, so nothing returns as new.
//!
//! Every bundle is signed with this computer's key and encrypted to itself
//! and the computers it trusts (sync/keys.rs); with no other computer to
//! send it to, an export is refused, saying how to add one. With no change
//! since the last export, an export (not a full one) is refused as
//! [`Error::NothingNew`] rather than writing an empty numbered bundle; audit
//! entries alone (the last export's own entry, a print) wait for the next
//! bundle. [`Store::unsent`] says what the next bundle would carry.

use super::bundle::{self, DeviceRef, Manifest, Tally};
use super::import::Counts;
use crate::access::Action;
use crate::error::{Error, Result};
use crate::store::{meta_get, meta_set, schema, Store};
use rusqlite::{params, Connection};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use uuid::Uuid;

const NUMBER_KEY: &str = "sync.export_number";
/// The last receipt number (`change.rcv`) exported.
const EXPORTED_KEY: &str = "sync.exported_rcv";
/// The last receipt number of an audit entry (`audit.rcv`) exported.
const AUDIT_EXPORTED_KEY: &str = "sync.exported_audit_rcv";

/// Where a bundle stops: the last receipt numbers of the changes and of
/// the audit entries it holds.
#[derive(Debug, Clone, Copy)]
struct Upto {
    changes: i64,
    audit: i64,
}
/// This database asks the machines it sends bundles to for a full bundle
/// back (after a restore or a copy: what it lost may be held elsewhere);
/// the value is the request's id.
pub(crate) const WANT_FULL_KEY: &str = "sync.want_full";
/// Requests of other machines this one will serve with its next bundle
/// made full (`sync.owe_full.<request id>`), and those served.
pub(crate) const OWE_PREFIX: &str = "sync.owe_full.";
pub(crate) const SERVED_PREFIX: &str = "sync.served_full.";

/// A bundle written to a file.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub manifest: Manifest,
    /// The records it carries a change of (each counted once, however many
    /// changes it has): what the window tells a person, "412 people".
    pub records: Counts,
}

/// What has not left this computer on a bundle yet: the records changed
/// (made here or received) since the last export, each counted once, and
/// when that export was.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unsent {
    pub records: Counts,
    /// Decisions on conflicts and duplicates, and erasures.
    pub decisions: i64,
    pub changes: i64,
    /// An export now would be refused as [`Error::NothingNew`].
    pub nothing_new: bool,
    pub last_export_number: Option<i64>,
    pub last_export_at: Option<String>,
}

/// Counts a record once per entity kind.
fn count_record(records: &mut Counts, seen: &mut HashSet<(String, String)>, entity: &str, id: &str) {
    if !seen.insert((entity.to_string(), id.to_string())) {
        return;
    }
    match entity {
        "beneficiary" => records.beneficiaries += 1,
        "visit" => records.visits += 1,
        "milestone" => records.milestones += 1,
        "target" => records.targets += 1,
        _ => {}
    }
}

/// The ids of the meta keys under `prefix`.
pub(crate) fn ids_under(conn: &Connection, prefix: &str) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare_cached("SELECT key FROM meta WHERE key >= ?1 AND key < ?2 ORDER BY key")?;
    let upper = format!("{prefix}\u{10ffff}");
    let keys = stmt.query_map(params![prefix, upper], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for k in keys {
        if let Ok(id) = Uuid::parse_str(&k?[prefix.len()..]) {
            out.push(id);
        }
    }
    Ok(out)
}

pub(crate) fn device_refs(conn: &Connection) -> Result<BTreeMap<Uuid, DeviceRef>> {
    let mut out = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT id, name, coordinator, successor_of FROM device")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
    })?;
    for row in rows {
        let (id, name, coordinator, successor_of) = row?;
        if let Ok(id) = Uuid::parse_str(&id) {
            let successor_of = successor_of.and_then(|s| Uuid::parse_str(&s).ok());
            let coordinator_since = super::devices::coordinator_since(conn, id)?;
            out.insert(id, DeviceRef { id, name, coordinator, successor_of, coordinator_since });
        }
    }
    Ok(out)
}

/// Writes one change row as a content line without unpacking its JSON
/// columns: they are copied as stored.
fn write_line(out: &mut Vec<u8>, row: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
    let text = |i: usize| row.get_ref(i).and_then(|v| v.as_str().map_err(rusqlite::Error::from));
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    out.extend_from_slice(b"{\"device_id\":\"");
    out.extend_from_slice(text(0)?.as_bytes());
    out.extend_from_slice(b"\",\"seq\":");
    out.extend_from_slice(row.get::<_, i64>(1)?.to_string().as_bytes());
    for (key, i) in [("hlc", 2), ("entity", 3), ("record_id", 4), ("op", 5)] {
        out.extend_from_slice(format!(",\"{key}\":").as_bytes());
        out.extend_from_slice(quote(text(i)?).as_bytes());
    }
    for (key, i) in [("fields", 6), ("old", 7), ("base", 8)] {
        out.extend_from_slice(format!(",\"{key}\":").as_bytes());
        out.extend_from_slice(text(i)?.as_bytes());
    }
    out.extend_from_slice(b",\"at\":");
    out.extend_from_slice(quote(text(9)?).as_bytes());
    out.extend_from_slice(b",\"coordinator\":");
    out.extend_from_slice(quote(text(10)?).as_bytes());
    out.extend_from_slice(b"}\n");
    Ok(())
}

impl Store {
    /// Builds a bundle of what is new since the last export (or everything
    /// with `full`) without recording it as exported. "New" is in the order
    /// this database received changes (`change.rcv`), not by their numbers
    /// on the devices that made them: a change that arrived late, after
    /// later ones of its device were exported, still leaves in the next
    /// bundle. A bundle is made full when another machine asked for one.
    pub fn build_bundle(&self, full: bool) -> Result<(Vec<u8>, Manifest)> {
        self.require(Action::ExportBundle)?;
        self.build(full, true).map(|(bytes, manifest, _, _)| (bytes, manifest))
    }

    /// [`Store::build_bundle`] as versions before signed bundles made it:
    /// plaintext, unsigned. Not for real use (an import takes such a bundle
    /// with a warning, for a while): the sync bench weighs what protection
    /// costs with it, and tests stand for an older version with it.
    #[doc(hidden)]
    pub fn build_unprotected_bundle(&self, full: bool) -> Result<(Vec<u8>, Manifest)> {
        self.require(Action::ExportBundle)?;
        self.build(full, false).map(|(bytes, manifest, _, _)| (bytes, manifest))
    }

    /// [`Store::build_bundle`], with the last receipt number the bundle
    /// holds and the records it carries; signed and encrypted with
    /// `protect`.
    fn build(&self, full: bool, protect: bool) -> Result<(Vec<u8>, Manifest, Upto, Counts)> {
        let me = self.device()?;
        let conn = self.conn();
        // Refused before any work when there is nobody to send it to.
        let keys = if protect {
            let own = super::keys::load(conn)?;
            let recipients = super::keys::recipients(conn, &own)?;
            Some((own, recipients))
        } else {
            None
        };
        let number = meta_get(conn, NUMBER_KEY)?.and_then(|n| n.parse::<i64>().ok()).unwrap_or(0) + 1;
        let serves = ids_under(conn, OWE_PREFIX)?;
        let full = full || !serves.is_empty();
        let after: i64 = if full { 0 } else { meta_get(conn, EXPORTED_KEY)?.and_then(|n| n.parse().ok()).unwrap_or(0) };
        let names = device_refs(conn)?;
        let mut content = Vec::new();
        let mut tally = Tally::default();
        let mut records = Counts::default();
        let mut seen = HashSet::new();
        let mut last_rcv = after;
        let mut stmt = conn.prepare_cached(
            "SELECT device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator, rcv
             FROM change WHERE rcv > ?1 ORDER BY rcv",
        )?;
        let mut rows = stmt.query(params![after])?;
        while let Some(row) = rows.next()? {
            write_line(&mut content, row)?;
            let device = row.get_ref(0)?.as_str().ok().and_then(|d| Uuid::parse_str(d).ok());
            let entity = row.get_ref(3)?.as_str().ok().and_then(crate::store::log::Entity::parse);
            let op = row.get_ref(5)?.as_str().ok().and_then(crate::store::log::Op::parse);
            let (Some(device), Some(entity), Some(op)) = (device, entity, op) else {
                return Err(Error::Other(format!("change received {} is corrupt", row.get::<_, i64>(11)?)));
            };
            tally.add(device, row.get(1)?, entity, op);
            count_record(&mut records, &mut seen, entity.as_str(), row.get_ref(4)?.as_str().unwrap_or_default());
            last_rcv = last_rcv.max(row.get(11)?);
        }
        let mut manifest = Manifest {
            format: bundle::FORMAT,
            schema_version: schema::content_version(),
            bundle_id: Uuid::now_v7(),
            source: me.into(),
            number,
            full,
            created_at: crate::now_utc(),
            devices: Vec::new(),
            counts: BTreeMap::new(),
            changes: 0,
            content_bytes: 0,
            content_sha256: String::new(),
            wants_full: meta_get(conn, WANT_FULL_KEY)?.and_then(|r| Uuid::parse_str(&r).ok()),
            serves,
            keys: None,
            audit: None,
            practice: crate::store::is_practice(conn)?,
            app_version: Some(crate::APP_VERSION.to_string()),
        };
        tally.fill(&mut manifest, &names);
        manifest.source.coordinator_since = names.get(&manifest.source.id).and_then(|d| d.coordinator_since.clone());
        // The audit entries received or made since the last export follow
        // the changes; all of them in a full bundle and when bundle numbers
        // start over (a new identity). Bundles as older versions made them
        // carry none.
        let audit_after: i64 = if full || number == 1 {
            0
        } else {
            meta_get(conn, AUDIT_EXPORTED_KEY)?.and_then(|n| n.parse().ok()).unwrap_or(0)
        };
        let (bytes, manifest, audit_rcv) = match keys {
            Some((own, recipients)) => {
                let (section, lines, audit_rcv) = crate::audit::outgoing(conn, audit_after)?;
                content.extend_from_slice(&lines);
                let (plain, manifest) = bundle::encode_signed_with_audit(manifest, &content, Some(section), &own)?;
                (bundle::seal(&plain, &recipients)?, manifest, audit_rcv)
            }
            None => {
                let (bytes, manifest) = bundle::encode(manifest, &content)?;
                (bytes, manifest, audit_after)
            }
        };
        Ok((bytes, manifest, Upto { changes: last_rcv, audit: audit_rcv }, records))
    }

    /// Records a bundle as exported: the next one starts after it. The
    /// export is logged in the same transaction.
    fn mark_exported(&mut self, m: &Manifest, upto: Upto, path: &Path) -> Result<()> {
        let actor = self.actor().clone();
        let me = self.device()?.id;
        let tx = self.transaction()?;
        let done: i64 = meta_get(&tx, EXPORTED_KEY)?.and_then(|n| n.parse().ok()).unwrap_or(0);
        if upto.changes > done {
            meta_set(&tx, EXPORTED_KEY, &upto.changes.to_string())?;
        }
        // A new coordinator's name left with it (in its manifest).
        tx.execute("DELETE FROM meta WHERE key = ?1", params![super::devices::RENAME_UNSENT_KEY])?;
        let audit_done: i64 = meta_get(&tx, AUDIT_EXPORTED_KEY)?.and_then(|n| n.parse().ok()).unwrap_or(0);
        if upto.audit > audit_done {
            meta_set(&tx, AUDIT_EXPORTED_KEY, &upto.audit.to_string())?;
        }
        let file = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let audit = m.audit.as_ref().map_or(0, |a| a.entries);
        let detail = format!(
            "bundle {} #{}{}: {} changes, {audit} audit entries",
            m.bundle_id,
            m.number,
            if m.full { " (full)" } else { "" },
            m.changes
        );
        let note = crate::audit::Note::new(crate::audit::Act::BundleExport, file).detail(detail);
        crate::audit::append(&tx, me, &actor, note)?;
        for r in &m.serves {
            tx.execute("DELETE FROM meta WHERE key = ?1", params![format!("{OWE_PREFIX}{r}")])?;
            meta_set(&tx, &format!("{SERVED_PREFIX}{r}"), &m.created_at)?;
        }
        meta_set(&tx, NUMBER_KEY, &m.number.to_string())?;
        meta_set(&tx, "sync.last_export_at", &m.created_at)?;
        tx.commit()?;
        Ok(())
    }

    /// Exports a bundle to `path` (written whole, then renamed into place),
    /// then records it as exported. Refused with [`Error::NothingNew`],
    /// writing nothing, when no change came or was made since the last
    /// export (and no other machine asked for a full bundle): `full`
    /// writes one all the same.
    pub fn export_bundle_to(&mut self, path: &Path, full: bool) -> Result<ExportSummary> {
        self.require(Action::ExportBundle)?;
        crate::files::check_output(self.path(), path)?;
        if !full && self.nothing_new()? {
            return Err(Error::NothingNew { last_number: self.last_export()?.map(|l| l.0) });
        }
        let (bytes, manifest, upto, records) = self.build(full, true)?;
        crate::files::write_private(path, &bytes)?;
        self.mark_exported(&manifest, upto, path)?;
        Ok(ExportSummary { path: path.to_path_buf(), bytes: bytes.len() as u64, manifest, records })
    }

    /// Whether an export would carry no change: none since the last one,
    /// no full bundle owed to another machine, and no request of this one
    /// for a full bundle back (after a restore or a copy) still to send.
    fn nothing_new(&self) -> Result<bool> {
        let conn = self.conn();
        if !ids_under(conn, OWE_PREFIX)?.is_empty()
            || meta_get(conn, WANT_FULL_KEY)?.is_some()
            || meta_get(conn, super::devices::RENAME_UNSENT_KEY)?.is_some()
        {
            return Ok(false);
        }
        let after: i64 = meta_get(conn, EXPORTED_KEY)?.and_then(|n| n.parse().ok()).unwrap_or(0);
        let any = conn.prepare_cached("SELECT 1 FROM change WHERE rcv > ?1 LIMIT 1")?.exists(params![after])?;
        Ok(!any)
    }

    /// What has not left on a bundle yet: the records changed since the
    /// last export (made here or received from other machines, since the
    /// next bundle carries both), each counted once, and that export's
    /// number and date. The Sync screen shows it.
    pub fn unsent(&self) -> Result<Unsent> {
        self.require(Action::Read)?;
        let conn = self.conn();
        let after: i64 = meta_get(conn, EXPORTED_KEY)?.and_then(|n| n.parse().ok()).unwrap_or(0);
        let mut out = Unsent::default();
        let mut stmt = conn.prepare_cached(
            "SELECT entity, count(DISTINCT record_id), count(*) FROM change WHERE rcv > ?1 GROUP BY entity",
        )?;
        let rows =
            stmt.query_map(params![after], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (entity, records, changes) = row?;
            match entity.as_str() {
                "beneficiary" => out.records.beneficiaries = records,
                "visit" => out.records.visits = records,
                "milestone" => out.records.milestones = records,
                "target" => out.records.targets = records,
                _ => out.decisions += records,
            }
            out.changes += changes;
        }
        out.nothing_new = self.nothing_new()?;
        let last = self.last_export()?;
        out.last_export_number = last.as_ref().map(|l| l.0);
        out.last_export_at = last.map(|l| l.1);
        Ok(out)
    }

    /// The name a bundle of this computer is saved under when a person
    /// does not choose one: the device, the bundle's number and the time,
    /// e.g. `portable-agadir-1-0003-20260314-101500.wafira`.
    pub fn bundle_file_name(&self) -> Result<String> {
        let me = self.device()?;
        let number = meta_get(self.conn(), NUMBER_KEY)?.and_then(|n| n.parse::<i64>().ok()).unwrap_or(0) + 1;
        let slug: String =
            crate::text::fold(&me.name).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let date = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        Ok(format!("{}-{number:04}-{date}.wafira", slug.trim_matches('-')))
    }

    /// Exports into `bundles/` beside the database, named after the device
    /// and the bundle number.
    pub fn export_bundle_to_folder(&mut self, full: bool) -> Result<ExportSummary> {
        self.require(Action::ExportBundle)?;
        let dir = self.path().parent().map(Path::to_path_buf).unwrap_or_default().join("bundles");
        let path = dir.join(self.bundle_file_name()?);
        self.export_bundle_to(&path, full)
    }

    /// The number and date of this device's last export, if any.
    pub fn last_export(&self) -> Result<Option<(i64, String)>> {
        self.require(Action::Read)?;
        let n = meta_get(self.conn(), NUMBER_KEY)?.and_then(|n| n.parse().ok());
        let at = meta_get(self.conn(), "sync.last_export_at")?;
        Ok(n.zip(at))
    }
}
