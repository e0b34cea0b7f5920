//! Launches the app under tauri-driver for one test and drives it.
//!
//! Windows are opened one at a time (a lock), each with its own
//! tauri-driver on free ports, so tests never share a window or a database.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::process::{Child, Command};

static ONE_WINDOW_AT_A_TIME: Mutex<()> = Mutex::new(());

pub struct App {
    pub client: Client,
    pub db: PathBuf,
    driver: Child,
    _dir: TempDir,
    _turn: MutexGuard<'static, ()>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free local port")
}

fn tauri_driver() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("tauri-driver")).find(|p| p.exists()))
        .unwrap_or(None);
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    on_path.or_else(|| cargo_home.map(|c| c.join("bin/tauri-driver")).filter(|p| p.exists())).expect(
        "tauri-driver is not installed: run `cargo install tauri-driver --locked` (scripts/test does it for you)",
    )
}

impl App {
    /// The app on a database that already has its device identity.
    pub async fn launch() -> App {
        App::launch_with(|db| {
            let mut store = wafira_core::Store::open(db).expect("open test database");
            store.init_device("Portable de test", "Samira Test").expect("init device");
        })
        .await
    }

    /// The app on an empty database: the first-run screen.
    pub async fn launch_fresh() -> App {
        App::launch_with(|_| {}).await
    }

    /// The app on a database prepared by `prepare` (given its path).
    // The turn is held on purpose for the whole test: each test runs on its
    // own thread and runtime, and waiting for the previous window is the point.
    #[allow(clippy::await_holding_lock)]
    pub async fn launch_with(prepare: impl FnOnce(&Path)) -> App {
        let turn = ONE_WINDOW_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "no display: run the end-to-end tests under Xvfb (scripts/test does, with xvfb-run)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("wafira.sqlite");
        prepare(&db);
        let port = free_port();
        let native_port = free_port();
        let driver = Command::new(tauri_driver())
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("WAFIRA_DB", &db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start tauri-driver");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": env!("CARGO_BIN_EXE_wafira-field") }));
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("could not open a WebDriver session on the app: {e}"),
            }
        };
        let app = App { client, db, driver, _dir: dir, _turn: turn };
        app.wait_for("body[data-ready='true']").await;
        app
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }

    /// Waits (up to 15 s) for an element to exist and returns it.
    pub async fn wait_for(&self, css: &str) -> Element {
        match self.client.wait().at_most(Duration::from_secs(15)).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let shot = self.screenshot(css).await;
                panic!("no element {css} appeared ({e}); the window is in {shot}")
            }
        }
    }

    /// Waits until `js` (an expression) is truthy.
    pub async fn wait_until(&self, what: &str, js: &str) {
        let started = Instant::now();
        loop {
            let v = self.client.execute(&format!("return Boolean({js});"), vec![]).await.unwrap_or(Value::Bool(false));
            if v == Value::Bool(true) {
                return;
            }
            if started.elapsed() > Duration::from_secs(15) {
                let shot = self.screenshot(what).await;
                panic!("timed out waiting for {what} ({js}); the window is in {shot}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves what the window shows to `target/e2e-screenshots/<name>.png`
    /// and gives the path (or why it could not).
    pub async fn screenshot(&self, name: &str) -> String {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        let file = dir.join(format!("{}.png", name.replace(|c: char| !c.is_alphanumeric(), "_")));
        match self.client.screenshot().await {
            Ok(png) => match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&file, png)) {
                Ok(()) => file.display().to_string(),
                Err(e) => format!("(screenshot not saved: {e})"),
            },
            Err(e) => format!("(no screenshot: {e})"),
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap_or_default()
    }

    /// Types into a text field as a person would.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        e.clear().await.expect("clear field");
        e.send_keys(text).await.unwrap_or_else(|err| panic!("typing into {css}: {err}"));
    }

    /// Sets a date, select or checkbox value the way its widget would, and
    /// fires the events a person's choice fires.
    pub async fn set_value(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                "const el = document.querySelector(arguments[0]);
                 if (el.type === 'checkbox') { el.checked = arguments[1] === 'true'; } else { el.value = arguments[1]; }
                 el.dispatchEvent(new Event('input', {bubbles: true}));
                 el.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![json!(css), json!(value)],
            )
            .await
            .unwrap_or_else(|e| panic!("setting {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    pub async fn go(&self, hash: &str) {
        self.client
            .execute("location.hash = arguments[0];", vec![json!(hash)])
            .await
            .unwrap_or_else(|e| panic!("navigating to {hash}: {e}"));
    }

    /// Opens the SQLite file the app writes, read-only, as a person checking
    /// the data would.
    pub fn database(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(&self.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the app's database")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.database().query_row(sql, [], |r| r.get(0)).expect("count query")
    }
}
