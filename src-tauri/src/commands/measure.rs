//! The start-up measurement hook of `scripts/bench-start`, and nothing
//! else: off unless `WAFIRA_REPORT_READY=1`. When on, the shell prints to
//! stderr, one `wafira-measure` line each, the wall-clock instant (µs since
//! the Unix epoch, so that the bench can subtract the instant it launched
//! the process) when `run()` begins, when the window is set up, and when the
//! page reports a screen drawn (`ready`, sent after the frame that shows it,
//! ui/js/app.js), with the page's own marks. Off, `ready` does nothing.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

fn on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("WAFIRA_REPORT_READY").is_some_and(|v| v == "1"))
}

fn now_us() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0)
}

/// A step of the shell's start (`main`, `setup`), when measuring.
pub(crate) fn mark(step: &str) {
    if on() {
        eprintln!("wafira-measure {step} at_us={}", now_us());
    }
}

/// The page drew `screen`: `origin_ms` is its `performance.timeOrigin`,
/// `marks` its `[name, ms since origin]` pairs.
#[tauri::command]
pub fn ready(screen: String, origin_ms: f64, marks: serde_json::Value) {
    if on() {
        eprintln!(
            "wafira-measure ready screen={screen} at_us={} origin_us={:.0} marks={marks}",
            now_us(),
            origin_ms * 1000.0
        );
    }
}
