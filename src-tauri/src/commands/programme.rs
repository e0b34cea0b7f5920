//! Commands of the results framework's records (wafira-core's
//! `programme`): IGAs, follow-up surveys, seasons, referrals, partners,
//! group sessions and their attendance. The window builds their forms from
//! `record_kinds`; every check is the core's.

use super::with_store;
use crate::AppState;
use serde_json::{Map, Value};
use tauri::State;
use uuid::Uuid;
use wafira_core::store::log::Entity;
use wafira_core::store::records::{AttendanceTaken, PartnerView, RecordQuery};
use wafira_core::{programme, Result};

/// The declared kinds, field by field (reference data, no role needed).
#[tauri::command]
pub fn record_kinds() -> Value {
    programme::declarations()
}

#[tauri::command]
pub fn records(
    state: State<'_, AppState>,
    kind: Entity,
    beneficiary_id: Option<Uuid>,
    iga_id: Option<Uuid>,
    session_id: Option<Uuid>,
    archived: Option<bool>,
) -> Result<Vec<Map<String, Value>>> {
    let q = RecordQuery { beneficiary_id, iga_id, session_id, archived: archived.unwrap_or(false) };
    with_store(&state, |s| s.records(kind, &q))
}

#[tauri::command]
pub fn add_record(state: State<'_, AppState>, kind: Entity, input: Value) -> Result<Map<String, Value>> {
    with_store(&state, |s| s.add_record(kind, input))
}

/// A partner added by a manager (a reference list: its own command, its
/// own role).
#[tauri::command]
pub fn add_partner(state: State<'_, AppState>, input: Value) -> Result<Map<String, Value>> {
    with_store(&state, |s| s.add_record(Entity::Partner, input))
}

#[tauri::command]
pub fn update_record(state: State<'_, AppState>, kind: Entity, id: Uuid, patch: Value) -> Result<Map<String, Value>> {
    with_store(&state, |s| s.update_record(kind, id, patch))
}

#[tauri::command]
pub fn void_record(
    state: State<'_, AppState>,
    kind: Entity,
    id: Uuid,
    reason: Option<String>,
) -> Result<Map<String, Value>> {
    with_store(&state, |s| s.void_record(kind, id, reason))
}

#[tauri::command]
pub fn restore_record(state: State<'_, AppState>, kind: Entity, id: Uuid) -> Result<Map<String, Value>> {
    with_store(&state, |s| s.restore_record(kind, id))
}

#[tauri::command]
pub fn take_attendance(state: State<'_, AppState>, session_id: Uuid, present: Vec<Uuid>) -> Result<AttendanceTaken> {
    with_store(&state, |s| s.take_attendance(session_id, &present))
}

#[tauri::command]
pub fn partners(state: State<'_, AppState>) -> Result<Vec<PartnerView>> {
    with_store(&state, |s| s.partners())
}
