//! Issue 13: a window test leaves nothing running once its window is gone,
//! whether the test closes it or panics with it open.

use crate::harness::{suite_processes, App, Proc, Turn};
use std::time::{Duration, Instant};

fn with_device(db: &std::path::Path) {
    let mut store = crate::harness::open_store(db);
    store.init_device("Portable de test", "Samira Test").expect("init device");
}

/// Waits (up to 10 s) for the suite's processes to be `before` again.
async fn back_to(before: &[Proc], when: &str) {
    let started = Instant::now();
    loop {
        let now = suite_processes();
        if now == before {
            return;
        }
        if started.elapsed() > Duration::from_secs(10) {
            panic!("{when}: {} processes of the suite running, {} before: {now:?}", now.len(), before.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// The turn is held across the windows on purpose: no other test's window may
// open between the counts.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "current_thread")]
async fn a_window_leaves_no_driver_or_app_running_once_closed_or_abandoned() {
    let turn = Turn::take();
    let before = suite_processes();

    let app = App::launch_holding(&turn, with_device).await;
    let during = suite_processes();
    for name in ["tauri-driver", "WebKitWebDriver", "wafira-field"] {
        assert!(
            during.iter().any(|p| p.name == name && p.pgid == app.process_group()),
            "{name} is counted while the window is open: {during:?}"
        );
    }
    app.close().await;
    back_to(&before, "after close").await;

    // A test that fails with its window open never calls close: dropping the
    // App while unwinding has to end the processes.
    let app = App::launch_holding(&turn, with_device).await;
    let group = app.process_group();
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _app = app;
        panic!("a test failing with its window open (on purpose)");
    }));
    assert!(failed.is_err());
    back_to(&before, "after a panic").await;
    assert!(suite_processes().iter().all(|p| p.pgid != group));
}
