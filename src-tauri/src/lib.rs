//! The Tauri shell of Wafira Field: opens the store the core names, hands
//! it to the window, and maps each window command to a core call. No rule
//! of the domain lives here.

mod commands;
mod session;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tauri::{Emitter, Manager};
use wafira_core::paths;

/// What every command shares: the database, open between an unlock and a
/// lock (session.rs).
pub struct AppState {
    pub session: session::Session,
}

/// `--db PATH` on the command line, if given.
fn db_arg() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--db" {
            return args.next().map(PathBuf::from);
        }
        if let Some(p) = a.to_str().and_then(|s| s.strip_prefix("--db=")) {
            return Some(PathBuf::from(p));
        }
    }
    None
}

/// On Linux, WebKitGTK draws the page without its GPU compositing mode
/// unless the person asked otherwise (`WEBKIT_DISABLE_COMPOSITING_MODE`
/// already set, to 0 or 1). Forms and lists gain nothing from it, and it
/// costs memory: with it, the window held 350 MB (PSS, the list of 3,000
/// people drawn); without, 242 MB, and the minimal Tauri window 272 MB
/// against 202 MB (`scripts/bench-start`, docs/performance.md). Called
/// first thing in `main`, before any thread or GTK starts.
pub fn choose_rendering() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

pub fn run() -> ExitCode {
    commands::measure::mark("main");
    let path = match paths::database_path(db_arg()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find the database: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A double-clicked `.wafira` file: its preview, once the database is open.
    let files = commands::files::Files::default();
    if let Some(bundle) = commands::files::bundle_arg(std::env::args_os(), std::env::current_dir().ok().as_deref()) {
        files.open_later(bundle);
    }
    let result = tauri::Builder::default()
        // First: a second window on the same database hands its arguments
        // over to this one and exits.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(commands::files::instance_id(&path))
                .callback(commands::files::second_launch)
                .build(),
        )
        .plugin(commands::files::keep_web_dialogs())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .manage(files)
        .manage(AppState { session: session::Session::new(path) })
        .setup(|app| {
            commands::measure::mark("setup");
            // The lock after inactivity, kept here whatever the window does:
            // the key leaves memory and the window is told to hide the data.
            let handle = app.handle().clone();
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_secs(2));
                if handle.state::<AppState>().session.lock_if_idle() {
                    let _ = handle.emit("locked", ());
                }
            });
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!());
    match result {
        Ok(app) => {
            app.run(|_handle, _event| {
                // macOS hands a double-clicked file to the running app as an
                // event, not as an argument.
                #[cfg(any(target_os = "macos", target_os = "ios"))]
                if let tauri::RunEvent::Opened { urls } = _event {
                    commands::files::opened(_handle, urls);
                }
            });
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
