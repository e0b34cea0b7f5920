//! The Tauri shell of Wafira Field: opens the store the core names, hands
//! it to the window, and maps each window command to a core call. No rule
//! of the domain lives here.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use wafira_core::{paths, Store};

/// What every command shares: the one open database.
pub struct AppState {
    pub store: Mutex<Store>,
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

pub fn run() -> ExitCode {
    let store = match paths::database_path(db_arg()).and_then(Store::open) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot open the database: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = tauri::Builder::default()
        .manage(AppState { store: Mutex::new(store) })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
