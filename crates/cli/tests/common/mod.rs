//! What the CLI tests share: the `wafira` binary run as a script would run
//! it (a real process on a real file), and its JSON answer.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The passphrase of the test databases' first account.
pub const PASSPHRASE: &str = "sept mots de passe au moins";

/// The `wafira` binary as a script runs it: the test account's passphrase
/// in `WAFIRA_PASSPHRASE`, nothing else of the caller's environment.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wafira"));
    c.env("WAFIRA_PASSPHRASE", PASSPHRASE)
        .env_remove("WAFIRA_USER")
        .env_remove("WAFIRA_RECOVERY_KEY")
        .env_remove("WAFIRA_NEW_PASSPHRASE");
    c
}

/// A bare connection to a database the CLI made, opened with the test
/// account's passphrase.
pub fn conn(db: &Path) -> rusqlite::Connection {
    let credentials = wafira_core::accounts::Credentials::passphrase(None, PASSPHRASE);
    wafira_core::store::connect_with(db, &credentials).unwrap()
}

/// Runs `wafira --db DB ARGS…` with `stdin` given, `WAFIRA_DB` unset.
pub fn wafira(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command()
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("WAFIRA_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// The JSON it printed, after checking it succeeded.
pub fn ok_json(out: Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}
