//! End-to-end tests: the real app binary in a real window (under Xvfb in CI),
//! driven over WebDriver through tauri-driver and WebKitWebDriver. Each test
//! has its own temporary database, handed to the app through `WAFIRA_DB`.

mod audit;
mod cleanup;
mod corrections;
mod dates;
mod export_filters;
mod files;
mod fixtures;
mod forms;
mod foundation;
mod harness;
mod list_timing;
mod practice;
mod programme;
mod progress;
mod protection;
mod report;
mod results;
mod small_screen;
mod sync;
mod withdrawn;
mod workflows;
