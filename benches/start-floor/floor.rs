//! The floor of `scripts/bench-start`: a minimal Tauri window (one page,
//! one command), built the same way as the app (same crate, release
//! profile, tauri features, `withGlobalTauri`, CSP, WebKit's rendering mode), so that the app's start
//! can be read against what any Tauri window costs on this machine. It
//! prints the same `wafira-measure` lines as the app's hook
//! (src-tauri/src/commands/measure.rs), always. Built only when asked:
//! `cargo build --release --example start-floor --features start-floor`.

use std::time::{SystemTime, UNIX_EPOCH};

fn now_us() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0)
}

#[tauri::command]
fn ready(screen: String, origin_ms: f64, marks: serde_json::Value) {
    eprintln!(
        "wafira-measure ready screen={screen} at_us={} origin_us={:.0} marks={marks}",
        now_us(),
        origin_ms * 1000.0
    );
}

fn main() {
    // Drawn as the app draws (see `choose_rendering`).
    wafira_field::choose_rendering();
    eprintln!("wafira-measure main at_us={}", now_us());
    tauri::Builder::default()
        .setup(|_| {
            eprintln!("wafira-measure setup at_us={}", now_us());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!("benches/start-floor/tauri.conf.json"))
        .expect("the floor's window");
}
