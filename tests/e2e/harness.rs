//! Launches the app under tauri-driver for one test and drives it.
//!
//! Windows are opened one at a time (a lock), each with its own
//! tauri-driver on free ports, so tests never share a window or a database.
//!
//! A window is a tree of processes: tauri-driver starts WebKitWebDriver, which
//! starts the app (wafira-field), which starts WebKit's helpers. Killing
//! tauri-driver alone left the rest running after every test (issue 13), so
//! the tree is one process group of its own that the harness ends with the
//! window, however the test ends: see [`Group`].

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::os::raw::{c_int, c_ulong};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};
use std::time::{Duration, Instant};
use tempfile::TempDir;

static ONE_WINDOW_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The right to have a window open: one test at a time holds it.
pub struct Turn {
    _guard: MutexGuard<'static, ()>,
}

impl Turn {
    /// Waits for the previous window to be gone. The first turn also ends
    /// what earlier runs of the suite left behind (see [`end_leftovers`]).
    pub fn take() -> Turn {
        let turn = Turn { _guard: ONE_WINDOW_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner()) };
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            end_leftovers();
            // A window's processes die in no particular order, and those
            // whose parent died first are re-parented. To us, rather than to
            // PID 1, so that `Group::end` can reap them: an init that does
            // not reap (as in some containers) would keep them as zombies.
            // SAFETY: prctl(2) on this process with integer arguments.
            unsafe { sys::prctl(PR_SET_CHILD_SUBREAPER, 1 as c_ulong) };
        });
        turn
    }
}

/// What a test adds to the app's command line and environment.
#[derive(Default)]
pub struct Launch {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

pub struct App {
    pub client: Client,
    pub db: PathBuf,
    // Dropped in this order: the processes end before the database's folder
    // is removed, and before the next test gets its turn.
    group: Group,
    _dir: TempDir,
    _turn: Option<Turn>,
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

// --- The processes of a window ---------------------------------------------

mod sys {
    use std::os::raw::c_int;
    extern "C" {
        pub fn kill(pid: c_int, sig: c_int) -> c_int;
        pub fn prctl(option: c_int, ...) -> c_int;
        pub fn getppid() -> c_int;
        pub fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    }
}
const SIGHUP: c_int = 1;
const SIGKILL: c_int = 9;
const SIGTERM: c_int = 15;
const ESRCH: i32 = 3;
const PR_SET_PDEATHSIG: c_int = 1;
const PR_SET_CHILD_SUBREAPER: c_int = 36;
const WNOHANG: c_int = 1;

/// Set on every process a window test starts, and inherited down the tree
/// (the app gets `WAFIRA_DB` the same way): `<pid>:<start time>` of the test
/// process. It tells the suite's processes from a developer's own app, and a
/// run that is over from one still going.
const OWNER_VAR: &str = "WAFIRA_E2E_OWNER";

fn owner_mark() -> &'static str {
    static MARK: OnceLock<String> = OnceLock::new();
    MARK.get_or_init(|| {
        let me = std::process::id() as i32;
        format!("{me}:{}", stat(me).map(|s| s.start).unwrap_or_default())
    })
}

/// What /proc/<pid>/stat says of a process.
struct Stat {
    name: String,
    state: char,
    ppid: i32,
    pgid: i32,
    start: u64,
}

fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    let (head, rest) = text.rsplit_once(") ")?;
    let name = head.split_once('(')?.1.to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        name,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default()
}

/// The `OWNER_VAR` a process was started with (none for a zombie, or for
/// another user's process).
fn owner_of(pid: i32) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{OWNER_VAR}=");
    env.split(|b| *b == 0)
        .find_map(|kv| kv.strip_prefix(prefix.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn alive(s: &Stat) -> bool {
    s.state != 'Z' && s.state != 'X'
}

/// A process the suite started, as the leak test counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub pgid: i32,
    pub name: String,
}

/// The live processes this test process started for windows (tauri-driver,
/// WebKitWebDriver, wafira-field, WebKit's helpers and the group's watchdog).
pub fn suite_processes() -> Vec<Proc> {
    pids()
        .into_iter()
        .filter(|&pid| owner_of(pid).as_deref() == Some(owner_mark()))
        .filter_map(|pid| stat(pid).filter(alive).map(|s| Proc { pid, pgid: s.pgid, name: s.name }))
        .collect()
}

/// Kills the marked processes of runs that are over: what the watchdog could
/// not end (see [`Group`]). Processes of a run still going (another suite in
/// parallel) and unmarked ones (a developer's own app, or leftovers of runs
/// from before the mark existed) are not touched.
fn end_leftovers() {
    let over = |mark: &str| {
        let Some((pid, start)) = mark.split_once(':') else { return true };
        let (Ok(pid), Ok(start)) = (pid.parse::<i32>(), start.parse::<u64>()) else { return true };
        stat(pid).is_none_or(|s| s.start != start)
    };
    for pid in pids() {
        if owner_of(pid).is_some_and(|mark| over(&mark)) {
            // SAFETY: kill(2) with a pid read from /proc; no memory involved.
            unsafe { sys::kill(pid, SIGKILL) };
        }
    }
}

/// What the group's leader runs: tauri-driver as its child, and, if the
/// leader is told its parent died (SIGHUP, see `PR_SET_PDEATHSIG` below),
/// the end of the whole group: SIGTERM, then SIGKILL (itself included). It
/// outlives a tauri-driver that exits early, to watch over what it started.
const WATCHDOG: &str = r#"trap 'trap "" HUP TERM; kill -TERM -$$; sleep 2; kill -KILL -$$' HUP
"$@" &
wait $!
while :; do sleep 1; done"#;

/// tauri-driver and everything it starts, in a process group of their own.
///
/// Ending a window (`App::close`, or dropping the `App` when a test panics)
/// sends SIGTERM to the whole group, waits for it to be empty, then sends
/// SIGKILL to what is left. tauri-driver handles SIGTERM by killing its
/// WebKitWebDriver; WebKitWebDriver and the app are killed by the signal to
/// the group, as they would otherwise outlive tauri-driver.
///
/// The group is also why Ctrl-C needs care: SIGINT goes to the terminal's
/// foreground group, which this one is not, and the test process dies
/// without running any `Drop`. So the leader is a small `sh` watchdog with
/// `PR_SET_PDEATHSIG`: the kernel sends it SIGHUP when the thread that
/// started it (the test's) ends, however it ends (Ctrl-C, SIGTERM, SIGKILL,
/// a crash), and the watchdog ends the group. tauri-driver itself could not
/// do that: its SIGTERM handler SIGKILLs WebKitWebDriver, which leaves the
/// app running (seen with tauri-driver 2.1 and WebKitGTK 2.50).
/// A normal end never reaches the watchdog: the group is ended before the
/// test's thread ends. What would slip through both (say, the watchdog
/// itself killed) carries `OWNER_VAR`, and the next run's first window
/// kills it (`end_leftovers`).
struct Group {
    leader: Child,
    ended: bool,
}

impl Group {
    fn start(port: u16, native_port: u16, db: &Path, env: &[(String, String)]) -> Group {
        let parent = std::process::id() as c_int;
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(tauri_driver())
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("WAFIRA_DB", db)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env(OWNER_VAR, owner_mark())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        // SAFETY: between fork and exec only async-signal-safe calls (prctl,
        // getppid), and no allocation: errors are raw OS errors.
        unsafe {
            cmd.pre_exec(move || {
                if sys::prctl(PR_SET_PDEATHSIG, SIGHUP as c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The test process died before the signal was armed.
                if sys::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(ESRCH));
                }
                Ok(())
            });
        }
        Group { leader: cmd.spawn().expect("start tauri-driver"), ended: false }
    }

    /// The process group: the leader's pid.
    fn pgid(&self) -> i32 {
        self.leader.id() as i32
    }

    fn signal(&self, sig: c_int) {
        // SAFETY: kill(2) on our own group; no memory involved.
        unsafe { sys::kill(-self.pgid(), sig) };
    }

    /// The group's processes that are not gone for good: running, exiting
    /// (a process whose main thread is a zombie may still have threads, and
    /// children not yet re-parented), or dead and ours to reap. A dead one
    /// whose parent is another process (PID 1, had the subreaper not been
    /// set) is not ours to wait for.
    fn remaining(&self) -> Vec<i32> {
        let me = std::process::id() as i32;
        let group: Vec<(i32, Stat)> = pids()
            .into_iter()
            .filter_map(|pid| Some((pid, stat(pid)?)))
            .filter(|(_, s)| s.pgid == self.pgid())
            .collect();
        let in_group = |pid: i32| group.iter().any(|(p, _)| *p == pid);
        group.iter().filter(|(_, s)| alive(s) || s.ppid == me || in_group(s.ppid)).map(|(pid, _)| *pid).collect()
    }

    /// Reaps the group's dead processes re-parented to this (subreaper)
    /// process; the leader is `self.leader`'s to reap.
    fn reap_orphans(&mut self) {
        let _ = self.leader.try_wait();
        let me = std::process::id() as i32;
        for pid in pids() {
            if pid != self.pgid() && stat(pid).is_some_and(|s| s.pgid == self.pgid() && s.ppid == me && !alive(&s)) {
                // SAFETY: waitpid(2) on our own child, status not wanted. It
                // reaps nothing while the child still has threads exiting.
                unsafe { sys::waitpid(pid, std::ptr::null_mut(), WNOHANG) };
            }
        }
    }

    /// Waits up to `limit` for the group to be gone, reaping what is ours.
    fn emptied_within(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        loop {
            self.reap_orphans();
            if self.remaining().is_empty() {
                return true;
            }
            if started.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ends every process of the group, and reaps the leader. Blocking (it
    /// runs in `Drop` too), for a few seconds at most.
    fn end(&mut self) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        // Signalled before the leader is reaped, so the group id cannot have
        // been reused; later, only while members remain, which keep it.
        self.signal(SIGTERM);
        if !self.emptied_within(Duration::from_secs(3)) {
            self.signal(SIGKILL);
            self.emptied_within(Duration::from_secs(2));
        }
        let _ = self.leader.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.end();
    }
}

/// The test account's name and passphrase: the tests' databases are made
/// as the set-up screen makes them, and opened through the unlock screen.
pub const ACCOUNT: &str = "Samira Test";
pub const PASSPHRASE: &str = "une phrase de passe de test";

/// The app's database, opened (created, encrypted, with the test account,
/// if there is none yet) as the core opens it.
pub fn open_store(db: &Path) -> wafira_core::Store {
    if db.exists() {
        wafira_core::Store::open(db, &wafira_core::accounts::Credentials::passphrase(None, PASSPHRASE))
            .expect("open test database")
    } else {
        wafira_core::Store::create(db, ACCOUNT, PASSPHRASE).expect("create test database").0
    }
}

impl App {
    /// The app on a database that already has its device identity.
    pub async fn launch() -> App {
        App::launch_with(|db| {
            let mut store = open_store(db);
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
        let turn = Turn::take();
        let mut app = App::launch_holding(&turn, prepare).await;
        app._turn = Some(turn);
        app
    }

    /// Like `launch_with`, for a test that holds the turn itself, to look at
    /// the machine before the window opens and after it is gone.
    pub async fn launch_holding(_turn: &Turn, prepare: impl FnOnce(&Path)) -> App {
        let app = App::connect(_turn, prepare).await;
        if app.db.exists() {
            app.unlock().await;
        }
        app
    }

    /// The app on a prepared database with `launch`'s extra arguments and
    /// environment (a `.wafira` file to open, a folder standing for a USB
    /// stick), unlocked through the unlock screen.
    #[allow(clippy::await_holding_lock)]
    pub async fn launch_opts(launch: Launch, prepare: impl FnOnce(&Path)) -> App {
        let turn = Turn::take();
        let mut app = App::connect_with(&turn, prepare, &launch).await;
        if app.db.exists() {
            app.unlock().await;
        }
        app._turn = Some(turn);
        app
    }

    async fn connect(_turn: &Turn, prepare: impl FnOnce(&Path)) -> App {
        App::connect_with(_turn, prepare, &Launch::default()).await
    }

    async fn connect_with(_turn: &Turn, prepare: impl FnOnce(&Path), launch: &Launch) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "no display: run the end-to-end tests under Xvfb (scripts/test does, with xvfb-run)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("wafira.sqlite");
        prepare(&db);
        let port = free_port();
        let native_port = free_port();
        // Ended when dropped, should anything below panic.
        let group = Group::start(port, native_port, &db, &launch.env);
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({ "application": env!("CARGO_BIN_EXE_wafira-field"), "args": launch.args }),
        );
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
        let app = App { client, db, group, _dir: dir, _turn: None };
        app.wait_for("body[data-ready='true']").await;
        app
    }

    /// The app on a prepared database, left at its unlock screen.
    pub async fn launch_locked(turn: &Turn, prepare: impl FnOnce(&Path)) -> App {
        App::connect(turn, prepare).await
    }

    /// Opens the database through the unlock screen, as its coordinator.
    pub async fn unlock(&self) {
        self.type_into("#f-passphrase", PASSPHRASE).await;
        self.click("#unlock-submit").await;
        self.wait_until("the unlocked window", "!document.getElementById('nav').hidden").await;
    }

    /// The process group of this window's tauri-driver, WebKitWebDriver and app.
    pub fn process_group(&self) -> i32 {
        self.group.pgid()
    }

    /// Closes the WebDriver session (WebKitWebDriver then closes the app),
    /// then ends the window's whole process group. Dropping an `App` without
    /// closing it (a test that panics) ends the group all the same.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
        self.group.end();
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
        let credentials = wafira_core::accounts::Credentials::passphrase(None, PASSPHRASE);
        wafira_core::store::connect_with(&self.db, &credentials).expect("open the app's database")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.database().query_row(sql, [], |r| r.get(0)).expect("count query")
    }
}
