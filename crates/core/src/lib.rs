//! Wafira Field's core: the domain (beneficiaries, visits, IGA milestones
//! and their rules), the SQLite store and its change log, and the demo
//! data. It knows nothing of the window: the Tauri shell and the `wafira`
//! CLI both call it.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod beneficiary;
pub mod clock;
pub mod codes;
pub mod demo;
pub mod drives;
pub mod erasure;
pub mod error;
pub mod files;
pub mod identity;
pub mod kinds;
pub mod milestone;
pub mod money;
pub mod paths;
pub mod programme;
pub mod progress;
pub mod reference;
pub mod report;
pub mod store;
pub mod sync;
pub mod target;
pub mod text;
pub mod validate;
pub mod visit;

pub use error::{Error, FieldError, Result};
pub use store::{Device, Store};

/// This program's version (the workspace's, so the app, the CLI and the
/// installers carry the same): shown in Paramètres, written in every
/// bundle's manifest and printed on every PDF.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The current instant, UTC, ISO 8601 with milliseconds.
pub fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
