//! Commands of the Dashboard and the Targets and exports screen: the
//! indicators (the same numbers as `wafira report indicators`), the results
//! framework, printing a PDF and exporting CSV or XLSX into `reports/` next
//! to the database, then opening what was written.

use super::with_store;
use crate::AppState;
use serde_json::Value;
use std::path::Path;
use tauri::State;
use wafira_core::report::{self, export::ExportSummary, Format, Indicators, PrintRequest, Saved};
use wafira_core::target::Target;
use wafira_core::Result;

#[tauri::command]
pub fn indicators(state: State<'_, AppState>, filters: Value) -> Result<Indicators> {
    with_store(&state, |s| s.indicators_json(filters))
}

#[tauri::command]
pub fn list_targets(state: State<'_, AppState>) -> Result<Vec<Target>> {
    with_store(&state, |s| s.targets())
}

#[tauri::command]
pub fn set_target(state: State<'_, AppState>, input: Value) -> Result<Target> {
    with_store(&state, |s| s.set_target_json(input))
}

/// Prints a PDF (summary, profile sheet or follow-up list) into `reports/`
/// and opens it; gives where it is.
#[tauri::command]
pub fn print_report(state: State<'_, AppState>, request: PrintRequest) -> Result<Saved> {
    let saved = with_store(&state, |s| report::print(s, &request, None))?;
    open_with_system(&saved.path);
    Ok(saved)
}

/// Exports the records into `reports/` and shows them; gives where.
#[tauri::command]
pub fn export_data(state: State<'_, AppState>, format: Format, pseudonymise: bool) -> Result<ExportSummary> {
    let summary = with_store(&state, |s| report::export(s, format, pseudonymise, None))?;
    open_with_system(&summary.path);
    Ok(summary)
}

/// Opens a file or folder with the system's viewer, unless `WAFIRA_NO_OPEN`
/// is set (tests, kiosks). Not finding a viewer is no error: the window
/// shows the path.
fn open_with_system(path: &Path) {
    if std::env::var_os("WAFIRA_NO_OPEN").is_some() {
        return;
    }
    let mut cmd = if cfg!(target_os = "windows") {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else {
        std::process::Command::new("xdg-open")
    };
    if let Ok(mut child) = cmd.arg(path).stdin(std::process::Stdio::null()).spawn() {
        // Reaped in the background, so no finished viewer lingers.
        std::thread::spawn(move || child.wait());
    }
}
