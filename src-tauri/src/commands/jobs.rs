//! Long work from the window (importing bundles, printing a PDF,
//! exporting): run on a blocking thread so the window stays responsive,
//! its steps sent to the window on a channel (its progress bar), stopped by
//! `cancel_job` at the core's next safe point (progress.rs: between two
//! bundles, before a file is written).

use crate::AppState;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use wafira_core::progress::{Cancel, Progress, Step};
use wafira_core::{Error, Result, Store};

/// Runs `work` with the open store off the window's thread; `job` is the
/// window's name for it (for `cancel_job`), `on_progress` its bar.
pub async fn run<T: Send + 'static>(
    app: &AppHandle,
    job: String,
    on_progress: Channel<Step>,
    work: impl FnOnce(&mut Store, &Progress) -> Result<T> + Send + 'static,
) -> Result<T> {
    let app = app.clone();
    let done = tauri::async_runtime::spawn_blocking(move || {
        let cancel = Cancel::new();
        let progress = Progress::new(cancel.clone(), move |step: &Step| {
            // A window gone or reloaded no longer listens: the work goes on.
            let _ = on_progress.send(step.clone());
        });
        app.state::<AppState>().session.run_job(&job, cancel, |store| work(store, &progress))
    })
    .await;
    done.map_err(|e| Error::Other(format!("internal: long work failed: {e}")))?
}

/// Asks the work `job` to stop where stopping writes nothing; it then
/// answers `cancelled` (an import: the bundles not reached).
#[tauri::command]
pub fn cancel_job(state: State<'_, AppState>, job: String) {
    state.session.cancel_job(&job);
}
