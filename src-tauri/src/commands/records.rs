//! Commands of the field workflows: identity of the laptop, people, visits,
//! milestones, follow-ups.

use super::with_store;
use crate::AppState;
use serde_json::{json, Value};
use tauri::State;
use uuid::Uuid;
use wafira_core::access::{Action, Actor};
use wafira_core::codes::{CaseStatus, IdDocType, MilestoneKind, Phase, Sector, Sex, VisitKind};
use wafira_core::erasure::Erased;
use wafira_core::store::log::Entity;
use wafira_core::store::{Candidate, FollowupGroup, ListQuery, Page, Place, Profile};
use wafira_core::{beneficiary::Beneficiary, demo, milestone::Milestone, reference, visit::Visit, Result};

/// What the window needs at start: the database, its device (absent on
/// first run), the account signed in and what its role may do (the screens
/// hide the rest; the core refuses it anyway), settings and the reference
/// lists.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<Value> {
    with_store(&state, |s| {
        Ok(json!({
            "version": env!("CARGO_PKG_VERSION"),
            "database": s.path(),
            "schema_version": s.schema_version()?,
            "device": s.device().ok(),
            "actor": actor(s.actor()),
            "followup_days": s.followup_days()?,
            "lock_minutes": s.lock_minutes()?,
            "practice": s.is_practice()?,
            "regions": reference::regions(),
            "codes": {
                "sex": codes(Sex::ALL.iter().map(|c| c.as_str())),
                "phase": codes(Phase::ALL.iter().map(|c| c.as_str())),
                "sector": codes(Sector::ALL.iter().map(|c| c.as_str())),
                "visit": codes(VisitKind::ALL.iter().map(|c| c.as_str())),
                "milestone": codes(MilestoneKind::ALL.iter().map(|c| c.as_str())),
                "case_status": codes(CaseStatus::ALL.iter().map(|c| c.as_str())),
                "id_doc_type": codes(IdDocType::ALL.iter().map(|c| c.as_str())),
            },
            "target_indicators": wafira_core::target::INDICATORS,
            "origin_countries": reference::ORIGIN_COUNTRIES.iter().map(|c| json!({"code": c.0, "fr": c.1, "ar": c.2, "en": c.3})).collect::<Vec<_>>(),
            "countries": reference::COUNTRIES.iter().map(|c| json!({"code": c.0, "fr": c.1, "ar": c.2, "en": c.3})).collect::<Vec<_>>(),
        }))
    })
}

/// `{name, role, may: [action codes]}` (docs/access.md).
fn actor(a: &Actor) -> Value {
    let may: Vec<&str> = Action::ALL.into_iter().filter(|x| a.role.may(*x)).map(Action::as_str).collect();
    json!({ "name": a.name, "role": a.role, "may": may })
}

fn codes<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    items.collect()
}

#[tauri::command]
pub fn load_demo(state: State<'_, AppState>, count: usize) -> Result<demo::DemoSummary> {
    with_store(&state, |s| {
        // Only ever into the practice database (Paramètres opens it).
        if !s.is_practice()? {
            return Err(wafira_core::Error::RealData(s.path().display().to_string()));
        }
        demo::generate(s, count.min(20_000), 1)
    })
}

#[tauri::command]
pub fn set_followup_days(state: State<'_, AppState>, days: i64) -> Result<()> {
    with_store(&state, |s| s.set_followup_days(days))
}

#[tauri::command]
pub fn list_beneficiaries(state: State<'_, AppState>, query: ListQuery) -> Result<Page> {
    with_store(&state, |s| s.list_beneficiaries(&query))
}

#[tauri::command]
pub fn add_beneficiary(state: State<'_, AppState>, input: Value) -> Result<Beneficiary> {
    with_store(&state, |s| s.add_beneficiary_json(input))
}

#[tauri::command]
pub fn update_beneficiary(state: State<'_, AppState>, id: Uuid, patch: Value) -> Result<Beneficiary> {
    with_store(&state, |s| s.update_beneficiary(id, patch))
}

#[tauri::command]
pub fn archive_beneficiary(state: State<'_, AppState>, id: Uuid, reason: Option<String>) -> Result<Beneficiary> {
    with_store(&state, |s| s.archive_beneficiary(id, reason))
}

/// Consent withdrawn: erases her identifying data (counts of what was
/// erased, never values).
#[tauri::command]
pub fn erase_beneficiary(state: State<'_, AppState>, id: Uuid, reason: String) -> Result<Erased> {
    with_store(&state, |s| s.erase_beneficiary(id, &reason))
}

#[tauri::command]
pub fn profile(state: State<'_, AppState>, id: Uuid) -> Result<Profile> {
    with_store(&state, |s| s.profile(id))
}

/// Every problem the registration would be refused for, all at once,
/// without saving.
#[tauri::command]
pub fn check_beneficiary(state: State<'_, AppState>, input: Value) -> Result<()> {
    with_store(&state, |s| s.check_new_beneficiary(input))
}

#[tauri::command]
pub fn possible_duplicates(state: State<'_, AppState>, input: Value) -> Result<Vec<Candidate>> {
    with_store(&state, |s| s.possible_duplicates(&wafira_core::validate::from_json(input)?))
}

#[tauri::command]
pub fn add_visit(state: State<'_, AppState>, input: Value) -> Result<Visit> {
    with_store(&state, |s| s.add_visit_json(input))
}

#[tauri::command]
pub fn add_milestone(state: State<'_, AppState>, input: Value) -> Result<Milestone> {
    with_store(&state, |s| s.add_milestone_json(input))
}

#[tauri::command]
pub fn archive_record(state: State<'_, AppState>, entity: Entity, id: Uuid) -> Result<()> {
    with_store(&state, |s| s.archive_record(entity, id))
}

#[tauri::command]
pub fn followups(state: State<'_, AppState>, days: i64, place: Option<Place>) -> Result<Vec<FollowupGroup>> {
    with_store(&state, |s| s.followups_at(days, &place.unwrap_or_default()))
}

/// Corrects a visit: `patch` holds the fields to change.
#[tauri::command]
pub fn update_visit(state: State<'_, AppState>, id: Uuid, patch: Value) -> Result<Visit> {
    with_store(&state, |s| s.update_visit(id, patch))
}

#[tauri::command]
pub fn update_milestone(state: State<'_, AppState>, id: Uuid, patch: Value) -> Result<Milestone> {
    with_store(&state, |s| s.update_milestone(id, patch))
}

/// Withdraws a visit entered by mistake, with a reason.
#[tauri::command]
pub fn void_visit(state: State<'_, AppState>, id: Uuid, reason: Option<String>) -> Result<Visit> {
    with_store(&state, |s| s.void_visit(id, reason))
}

#[tauri::command]
pub fn void_milestone(state: State<'_, AppState>, id: Uuid, reason: Option<String>) -> Result<Milestone> {
    with_store(&state, |s| s.void_milestone(id, reason))
}

#[tauri::command]
pub fn restore_beneficiary(state: State<'_, AppState>, id: Uuid) -> Result<Beneficiary> {
    with_store(&state, |s| s.restore_beneficiary(id))
}

/// Paramètres: the name of the coordinator who uses this laptop.
#[tauri::command]
pub fn rename_coordinator(state: State<'_, AppState>, name: String) -> Result<wafira_core::store::Device> {
    with_store(&state, |s| s.rename_coordinator(&name))
}
