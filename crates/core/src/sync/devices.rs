//! Per laptop, what the station has: its last change received, when its
//! last bundle came, the records made on it, the bundles and changes
//! missing in between, and its changes stamped in the future (a clock set
//! wrong).

use super::backup::BackupFile;
use super::import::Counts;
use crate::access::Action;
use crate::clock::{Hlc, MAX_DRIFT_MS};
use crate::error::Result;
use crate::store::log::{AT_TEXT_SQL, STAMP_TEXT_SQL};
use crate::store::{Device, Store};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::BTreeMap;

/// Device id → name, for labelling changes.
pub(crate) fn device_names(conn: &Connection) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT id, name FROM device")?;
    for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (id, name): (String, String) = row?;
        out.insert(id, name);
    }
    Ok(out)
}

/// Changes numbered `from` to `to` that have not arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceStatus {
    pub id: String,
    pub name: String,
    pub coordinator: String,
    /// This database's own device.
    pub this_device: bool,
    pub changes: i64,
    /// The highest change number received, and when it was made.
    pub last_seq: i64,
    pub last_change_at: Option<String>,
    pub missing_changes: Vec<Gap>,
    /// The people, visits, milestones and targets recorded on it that this
    /// database holds (each record counted where it was created, whichever
    /// bundle carried it here): what the Sync screen says it brought.
    pub recorded: Counts,
    pub bundles_imported: i64,
    pub last_bundle_number: Option<i64>,
    /// When its last bundle (the highest number) was made on the laptop,
    /// and when that bundle was received here: "n° 4, reçu le 12/11/2026".
    pub last_bundle_created_at: Option<String>,
    pub last_bundle_received_at: Option<String>,
    /// When a bundle of it was last imported here, whatever its number (an
    /// earlier one that filled a gap may come after the last).
    pub last_bundle_imported_at: Option<String>,
    /// Bundle numbers below the last one that never arrived (and that no
    /// later full bundle covers), as ranges: a number comes from a file,
    /// so it is never listed one by one.
    pub missing_bundles: Vec<Gap>,
    /// Changes stamped more than the tolerance ahead of this machine's clock.
    pub future_changes: i64,
    pub furthest_future_at: Option<String>,
}

/// The Sync screen: this device, its last export, every device and the backups.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub device: Device,
    pub last_export_number: Option<i64>,
    pub last_export_at: Option<String>,
    /// What has not left on a bundle yet.
    pub unsent: super::export::Unsent,
    pub drift_tolerance_minutes: i64,
    pub devices: Vec<DeviceStatus>,
    pub backups: Vec<BackupFile>,
    /// This database took a new identity (restored, copied) and the person
    /// has not been told yet.
    pub identity_notice: Option<crate::store::IdentityRenewed>,
}

/// The bundles of device `id` taken in here: number, full, made, imported.
fn bundles_of(conn: &Connection, id: &str) -> Result<Vec<(i64, bool, String, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT number, full, created_at, imported_at FROM bundle_import WHERE source = ?1 ORDER BY number",
        )?
        .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Bundle numbers below the last one that never arrived, past the last
/// full bundle (which covers every number before it).
fn gaps(bundles: &[(i64, bool, String, String)]) -> Vec<Gap> {
    let covered = bundles.iter().filter(|b| b.1).map(|b| b.0).max().unwrap_or(0);
    let numbers: std::collections::BTreeSet<i64> = bundles.iter().map(|b| b.0).filter(|n| *n > covered).collect();
    let mut missing_bundles = Vec::new();
    let mut expected = covered + 1;
    for n in numbers {
        if n > expected {
            missing_bundles.push(Gap { from: expected, to: n - 1 });
        }
        expected = n.saturating_add(1);
    }
    missing_bundles
}

/// The bundles of device `id` missing here below bundle `number`: what
/// an import preview puts first ("bundle 2 of … is missing").
pub(crate) fn missing_before(conn: &Connection, id: &str, number: i64) -> Result<Vec<Gap>> {
    let bundles = bundles_of(conn, id)?;
    Ok(gaps(&bundles)
        .into_iter()
        .filter(|g| g.from < number)
        .map(|g| Gap { from: g.from, to: g.to.min(number - 1) })
        .collect())
}

/// A device's changes in one pass: how many, the last number, and the
/// records created on it, each counted once.
const CHANGES_OF: &str = "SELECT count(*), coalesce(max(seq), 0),
        count(DISTINCT CASE WHEN op = 'create' AND entity = 'beneficiary' THEN record_id END),
        count(DISTINCT CASE WHEN op = 'create' AND entity = 'visit' THEN record_id END),
        count(DISTINCT CASE WHEN op = 'create' AND entity = 'milestone' THEN record_id END),
        count(DISTINCT CASE WHEN op = 'create' AND entity = 'target' THEN record_id END)
    FROM change_log WHERE device = (SELECT no FROM device_no WHERE id = ?1)";

fn status_of(conn: &Connection, id: &str, name: String, coordinator: String, me: &str) -> Result<DeviceStatus> {
    let (changes, last_seq, recorded): (i64, i64, Counts) =
        conn.prepare_cached(CHANGES_OF)?.query_row(params![id], |r| {
            let recorded =
                Counts { beneficiaries: r.get(2)?, visits: r.get(3)?, milestones: r.get(4)?, targets: r.get(5)? };
            Ok((r.get(0)?, r.get(1)?, recorded))
        })?;
    let last_change_at: Option<String> = conn
        .prepare_cached(&format!(
            "SELECT {AT_TEXT_SQL} FROM change_log c WHERE device = (SELECT no FROM device_no WHERE id = ?1) AND seq = ?2"
        ))?
        .query_row(params![id, last_seq], |r| r.get(0))
        .optional()?;
    let mut missing_changes = Vec::new();
    let first: Option<i64> = conn
        .prepare_cached("SELECT min(seq) FROM change_log WHERE device = (SELECT no FROM device_no WHERE id = ?1)")?
        .query_row(params![id], |r| r.get(0))?;
    if let Some(first) = first.filter(|f| *f > 1) {
        missing_changes.push(Gap { from: 1, to: first - 1 });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT seq + 1, next - 1 FROM (SELECT seq, lead(seq) OVER (ORDER BY seq) AS next FROM change_log
                    WHERE device = (SELECT no FROM device_no WHERE id = ?1))
         WHERE next > seq + 1",
    )?;
    for gap in stmt.query_map(params![id], |r| Ok(Gap { from: r.get(0)?, to: r.get(1)? }))? {
        missing_changes.push(gap?);
    }
    let bundles = bundles_of(conn, id)?;
    let last = bundles.iter().max_by(|a, b| a.0.cmp(&b.0).then(a.3.cmp(&b.3)));
    let missing_bundles = gaps(&bundles);
    // Stamps at or past the horizon's millisecond (as the text stamps
    // compared with its 15 digits did), through the stamp's index.
    let horizon = Hlc::now_millis() + MAX_DRIFT_MS;
    let (future_changes, furthest): (i64, Option<String>) = conn
        .prepare_cached(&format!(
            "SELECT count(*), max({STAMP_TEXT_SQL})
             FROM change_log c JOIN device_no n ON n.no = c.hlc_node
             WHERE c.device = (SELECT no FROM device_no WHERE id = ?1) AND c.hlc_ms >= ?2"
        ))?
        .query_row(params![id, horizon], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(DeviceStatus {
        this_device: id == me,
        id: id.to_string(),
        name,
        coordinator,
        changes,
        last_seq,
        last_change_at,
        missing_changes,
        recorded,
        bundles_imported: bundles.len() as i64,
        last_bundle_number: last.map(|l| l.0),
        last_bundle_created_at: last.map(|l| l.2.clone()),
        last_bundle_received_at: last.map(|l| l.3.clone()),
        last_bundle_imported_at: bundles.iter().map(|b| b.3.clone()).max(),
        missing_bundles,
        future_changes,
        furthest_future_at: furthest.and_then(|h| h.parse::<Hlc>().ok()).map(|h| h.instant()),
    })
}

impl Store {
    /// Every device whose changes this database holds, this one first.
    pub fn devices(&self) -> Result<Vec<DeviceStatus>> {
        self.require(Action::Read)?;
        let me = self.device()?.id.to_string();
        let rows: Vec<(String, String, String)> = self
            .conn()
            .prepare_cached("SELECT id, name, coordinator FROM device ORDER BY id <> ?1, name, id")?
            .query_map(params![me], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(|(id, name, coordinator)| status_of(self.conn(), &id, name, coordinator, &me)).collect()
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        self.require(Action::Read)?;
        let last = self.last_export()?;
        Ok(SyncStatus {
            device: self.device()?.clone(),
            last_export_number: last.as_ref().map(|l| l.0),
            last_export_at: last.map(|l| l.1),
            unsent: self.unsent()?,
            drift_tolerance_minutes: MAX_DRIFT_MS / 60_000,
            devices: self.devices()?,
            backups: self.backups()?,
            identity_notice: self.identity_notice()?,
        })
    }
}

/// Set while this laptop's new coordinator's name has not left on a
/// bundle: an export is then not "nothing new".
pub(crate) const RENAME_UNSENT_KEY: &str = "coordinator.unsent";

fn since_key(id: uuid::Uuid) -> String {
    format!("coordinator_since.{id}")
}

/// When the coordinator's name of device `id` was last changed, as known
/// here (none: never renamed, or no rename has arrived).
pub(crate) fn coordinator_since(conn: &Connection, id: uuid::Uuid) -> Result<Option<String>> {
    crate::store::meta_get(conn, &since_key(id))
}

/// Takes the coordinator's name a bundle gives for a device when it was
/// changed later than the one held here (instants compare as text: they
/// are all `YYYY-MM-DDTHH:MM:SS.sssZ`). This machine's own name is its
/// own to change. An older bundle, or one of an earlier version (no
/// instant), changes nothing.
pub(crate) fn adopt_coordinator(conn: &Connection, d: &super::bundle::DeviceRef, me: uuid::Uuid) -> Result<()> {
    let Some(since) = &d.coordinator_since else { return Ok(()) };
    if d.id == me || crate::validate::req_text("coordinator", &Some(d.coordinator.clone()), 100).is_err() {
        return Ok(());
    }
    if coordinator_since(conn, d.id)?.is_some_and(|held| held >= *since) {
        return Ok(());
    }
    conn.execute("UPDATE device SET coordinator = ?2 WHERE id = ?1", params![d.id.to_string(), d.coordinator])?;
    crate::store::meta_set(conn, &since_key(d.id), since)?;
    Ok(())
}

impl Store {
    /// Changes the name of the coordinator who uses this laptop (another
    /// person takes it over, or it was misspelt). The laptop keeps its
    /// identity and id; changes it made before keep the name they were
    /// made under, the next ones carry the new one, and the station's
    /// devices list takes it from the next bundle. The person using the
    /// laptop may do it (`Record`): it names who records, as her records do.
    pub fn rename_coordinator(&mut self, name: &str) -> Result<Device> {
        self.require(Action::Record)?;
        let name = crate::validate::req_text("coordinator", &Some(name.to_string()), 100)
            .map_err(|e| crate::Error::invalid(vec![e]))?;
        let mut device = self.device()?.clone();
        if device.coordinator == name {
            return Ok(device);
        }
        let id = device.id;
        self.with_note(|conn| {
            conn.execute("UPDATE device SET coordinator = ?2 WHERE id = ?1", params![id.to_string(), name])?;
            crate::store::meta_set(conn, &since_key(id), &crate::now_utc())?;
            crate::store::meta_set(conn, RENAME_UNSENT_KEY, "1")?;
            // The audit names the setting, not the person's name.
            Ok(((), Some(crate::audit::Note::new(crate::audit::Act::SettingChange, "coordinator"))))
        })?;
        self.reload_device()?;
        device.coordinator = name;
        Ok(device)
    }
}
