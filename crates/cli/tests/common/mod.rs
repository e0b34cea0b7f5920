//! What the CLI tests share: the `wafira` binary run as a script would run
//! it (a real process on a real file), and its JSON answer.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `wafira --db DB ARGS…` with `stdin` given, `WAFIRA_DB` unset.
pub fn wafira(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wafira"))
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
