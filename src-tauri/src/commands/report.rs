//! Commands of the Dashboard and the Targets and exports screen: the
//! indicators (the same numbers as `wafira report indicators`), the results
//! framework, printing a PDF and exporting CSV or XLSX into `reports/` next
//! to the database, then opening what was written.

use super::files::Files;
use super::{jobs, with_store};
use crate::AppState;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use wafira_core::progress::Step;
use wafira_core::report::{self, export::ExportSummary, ExportOptions, Format, Indicators, PrintRequest, Saved};
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

/// Prints a PDF (summary, profile sheet or follow-up list) to `path`, the
/// file a person chose (the window then offers to open it); without one,
/// into `reports/`, and opens it. Gives where it is. The pages laid out go
/// to `on_progress`; `cancel_job(job)` stops it with no file written.
#[tauri::command]
pub async fn print_report(
    app: AppHandle,
    request: PrintRequest,
    path: Option<PathBuf>,
    job: String,
    on_progress: Channel<Step>,
) -> Result<Saved> {
    let out = path.clone();
    let saved =
        jobs::run(&app, job, on_progress, move |s, p| report::print_with_progress(s, &request, out.as_deref(), p))
            .await?;
    app.state::<Files>().remember(&saved.path);
    if path.is_none() {
        open_with_system(&saved.path);
    }
    Ok(saved)
}

/// Exports the records to `path` (a workbook, or a folder of CSV files),
/// chosen by a person; without one, into `reports/`, and shows them.
/// `options`: the dashboard's filters and the language of the labels
/// (every record, French labels, without). Each table goes to
/// `on_progress`; `cancel_job(job)` stops it with no file written.
#[tauri::command]
pub async fn export_data(
    app: AppHandle,
    format: Format,
    pseudonymise: bool,
    path: Option<PathBuf>,
    options: Option<ExportOptions>,
    job: String,
    on_progress: Channel<Step>,
) -> Result<ExportSummary> {
    let (options, out) = (options.unwrap_or_default(), path.clone());
    let summary = jobs::run(&app, job, on_progress, move |s, p| {
        report::export_with_progress(s, format, pseudonymise, &options, out.as_deref(), p)
    })
    .await?;
    app.state::<Files>().remember(&summary.path);
    if path.is_none() {
        open_with_system(&summary.path);
    }
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
