//! How long the list screen takes to show results at 10,000 people with
//! 20 visits each: a measurement that prints figures, not a timed test (it
//! asserts nothing about time, and is ignored unless asked for).
//!
//! ```text
//! cargo run --release -p wafira-core --example bench_search -- --people 10000 --keep /tmp/wafira-bench
//! WAFIRA_BENCH_DB=/tmp/wafira-bench/bench-10000.sqlite \
//!   xvfb-run -a cargo test -p wafira-field --test e2e -- --ignored list_screen --nocapture --test-threads=1
//! ```
//!
//! Without `WAFIRA_BENCH_DB` it writes the 10,000 people itself (slower:
//! the test build of the core is not optimised). Each figure is the time
//! from the keystroke (or the click on the menu) to the next frame after
//! the rows changed, measured in the page with `performance.now()`; the
//! screen waits 120 ms after the last keystroke before it asks the core,
//! and that wait is included.

use crate::harness::App;
use serde_json::{json, Value};

const RUNS: usize = 7;

/// Median of the runs of one measurement, in ms.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn measure(app: &App, script: &str, args: Vec<Value>) -> f64 {
    app.client.execute(script, args).await.unwrap_or_else(|e| panic!("{script}: {e}"));
    app.wait_until("the rows", "window.__shown !== null").await;
    let v = app.client.execute("return window.__shown - window.__start", vec![]).await.expect("the time");
    v.as_f64().expect("a number")
}

/// Arms a watch on the list's rows: the first change of the table body,
/// then the next frame, marks the time.
const ARM: &str = "window.__shown = null;
  const body = document.querySelector('#beneficiary-table tbody');
  const watch = new MutationObserver(() => { watch.disconnect(); requestAnimationFrame(() => { window.__shown = performance.now(); }); });
  watch.observe(body, { childList: true });";

#[tokio::test(flavor = "current_thread")]
#[ignore = "a measurement that prints figures; run by hand (see the module's doc)"]
async fn list_screen_time_to_show_results_at_10000_people() {
    let source = std::env::var_os("WAFIRA_BENCH_DB").map(std::path::PathBuf::from);
    let app = App::launch_with(|db| match &source {
        Some(path) => {
            // A copy, so that the prepared database stays as it was.
            std::fs::copy(path, db).unwrap_or_else(|e| panic!("copying {}: {e}", path.display()));
        }
        None => {
            let mut store = crate::harness::open_store(db);
            store.init_device("bench", "Benchmark").expect("init");
            eprintln!("writing 10,000 people with 20 visits each (set WAFIRA_BENCH_DB to reuse a prepared file)…");
            wafira_core::demo::generate_with_visits(&mut store, 10_000, 7, 20, 1000, |_| {}).expect("demo data");
        }
    })
    .await;
    let people = app.count("SELECT count(*) FROM beneficiary");
    let visits = app.count("SELECT count(*) FROM visit");
    app.set_value("#lang", "fr").await;

    let mut open = Vec::new();
    for _ in 0..RUNS {
        app.go("#/settings").await;
        app.wait_for("#settings-form").await;
        let t = measure(
            &app,
            "window.__start = performance.now(); window.__shown = null;
             const main = document.getElementById('main');
             const watch = new MutationObserver(() => {
               const n = document.querySelectorAll('#beneficiary-table tbody tr').length;
               if (n > 0) { watch.disconnect(); requestAnimationFrame(() => { window.__shown = performance.now(); }); }
             });
             watch.observe(main, { childList: true, subtree: true });
             location.hash = '#/beneficiaries';",
            vec![],
        )
        .await;
        open.push(t);
    }

    let mut rows = Vec::new();
    for text in ["f", "fatima", "fatima el", "فاطمة", "bk12", "06 12", "zzzz", ""] {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            // Start from another search, so that each run changes the rows.
            app.set_value("#search", "x").await;
            app.wait_until("the reset", "document.querySelector('#list-count').textContent !== ''").await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let t = measure(
                &app,
                &format!(
                    "{ARM}
                     const s = document.querySelector('#search');
                     window.__start = performance.now();
                     s.value = arguments[0];
                     s.dispatchEvent(new Event('input', {{ bubbles: true }}));"
                ),
                vec![json!(text)],
            )
            .await;
            times.push(t);
        }
        let shown = app.text("#list-count").await;
        // The same query straight to the command: the core and the IPC, without the screen.
        let mut calls = Vec::new();
        for _ in 0..RUNS {
            app.client
                .execute(
                    "window.__call = null; const t0 = performance.now();
                     window.__TAURI__.core.invoke('list_beneficiaries', { query: { search: arguments[0] || null, sort: 'name', limit: 200 } })
                       .then(() => { window.__call = performance.now() - t0; });",
                    vec![json!(text)],
                )
                .await
                .expect("call the command");
            app.wait_until("the command", "window.__call !== null").await;
            let v = app.client.execute("return window.__call", vec![]).await.expect("the time");
            calls.push(v.as_f64().expect("a number"));
        }
        rows.push((text, median(times), median(calls), shown));
    }

    println!(
        "\nlist screen, {people} people, {visits} visits (median of {RUNS} runs, ms from the action to the next frame)"
    );
    println!("{:<34} {:>8}", "open the list (menu → 200 rows)", format!("{:.0}", median(open)));
    for (text, ms, call, shown) in rows {
        println!(
            "{:<34} {:>8}   ({shown}; {:.0} ms after the 120 ms typing pause, of which {call:.0} ms the command)",
            format!("search '{text}'"),
            format!("{ms:.0}"),
            ms - 120.0
        );
    }
    app.close().await;
}
