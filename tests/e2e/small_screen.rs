//! A field laptop of 1024×600, and the common 1280 and 1366 widths: the
//! menu stays on one line with every entry in sight, table headers stay
//! visible under it when the list scrolls, and no screen is wider than
//! the window, in French and in Arabic.

use crate::harness::App;
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn every_screen_is_usable_from_1024_by_600_up() {
    let app = App::launch_with(|db| {
        let mut store = crate::harness::open_store(db);
        store.init_device("Portable de test", "Samira Test").expect("init");
        wafira_core::demo::generate(&mut store, 80, 3).expect("demo");
    })
    .await;
    for (width, height, lang) in [(1024, 600, "fr"), (1024, 600, "ar"), (1280, 800, "fr"), (1366, 768, "ar")] {
        app.client.set_window_size(width, height).await.expect("resize");
        app.set_value("#lang", lang).await;
        app.wait_until("the language", &format!("document.documentElement.lang === '{lang}'")).await;
        for screen in [
            "beneficiaries",
            "followups",
            "sessions",
            "sync",
            "conflicts",
            "duplicates",
            "dashboard",
            "reports",
            "settings",
        ] {
            app.go(&format!("#/{screen}")).await;
            app.wait_until(
                "the screen",
                &format!("document.querySelector('#nav a[aria-current]')?.dataset.route === '{screen}'"),
            )
            .await;
            app.wait_for("#main h1").await;
            let m = app
                .client
                .execute(
                    "const bar = document.querySelector('.topbar').getBoundingClientRect();
                     const links = [...document.querySelectorAll('#nav a')].map(a => a.getBoundingClientRect());
                     const widest = [...document.querySelectorAll('#main *')].filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible' && e.clientWidth > 0)
                       .map(e => e.tagName + '#' + e.id + '.' + e.className + ':' + e.scrollWidth + '/' + e.clientWidth).slice(0, 8); const cw = document.documentElement.clientWidth;
                     const nav = document.getElementById('nav');
                     return {navHidden: nav.scrollWidth - nav.clientWidth, body: document.body.scrollWidth, main: document.getElementById('main').scrollWidth, top: document.querySelector('.topbar').scrollWidth, bar: bar.height, rows: new Set(links.map(r => Math.round(r.top))).size,
                             wide: document.documentElement.scrollWidth, inner: window.innerWidth, widest, cw};",
                    vec![],
                )
                .await
                .unwrap();
            assert!(m["bar"].as_f64().unwrap() <= 56.0, "{width} {lang} {screen}: the bar is one line: {m}");
            assert_eq!(m["rows"], json!(1), "{width} {lang} {screen}: the menu is one line: {m}");
            assert!(m["navHidden"].as_i64().unwrap() <= 0, "{width} {lang} {screen}: every menu entry in sight: {m}");
            if m["wide"].as_i64().unwrap() > m["inner"].as_i64().unwrap() {
                app.screenshot(&format!("small-{lang}-{screen}")).await;
            }
            assert!(
                m["wide"].as_i64().unwrap() <= m["inner"].as_i64().unwrap(),
                "{width} {lang} {screen}: wider than the window: {m}"
            );
        }
    }
    // The list scrolled: its headers sit under the bar, not behind it.
    app.client.set_window_size(1024, 600).await.expect("resize");
    app.go("#/beneficiaries").await;
    app.wait_until("rows", "document.querySelectorAll('#beneficiary-table tbody tr').length > 20").await;
    let headers = app
        .client
        .execute(
            "window.scrollTo(0, 800);
             const th = document.querySelector('#beneficiary-table th').getBoundingClientRect();
             const bar = document.querySelector('.topbar').getBoundingClientRect();
             return [th.top, bar.bottom];",
            vec![],
        )
        .await
        .unwrap();
    let (th, bar) = (headers[0].as_f64().unwrap(), headers[1].as_f64().unwrap());
    assert!(th >= bar - 1.0, "the headers are visible under the bar: {headers}");
    app.close().await;
}
