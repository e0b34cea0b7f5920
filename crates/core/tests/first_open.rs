//! Eight threads open their first encrypted databases at the same instant,
//! as the tests of one binary do when it starts. SQLite marks itself ready
//! before SQLCipher is, and a `PRAGMA key` in that moment failed ("An error
//! occurred with PRAGMA key or rekey"): 20 runs in 500 of this binary
//! before `store::sqlite_ready`, none in 500 after. Its own binary, so that
//! nothing has opened SQLite before.

use std::sync::{Arc, Barrier};
use wafira_core::accounts::DbKey;

#[test]
fn threads_opening_their_first_databases_together_all_open() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let start = Arc::new(Barrier::new(8));
    let opening: Vec<_> = (0..8)
        .map(|i| {
            let start = start.clone();
            let path = dir.path().join(format!("{i}.sqlite"));
            std::thread::spawn(move || {
                start.wait();
                wafira_core::store::connect(&path, &DbKey::from_bytes([7; 32])).map(|_| ()).map_err(|e| e.to_string())
            })
        })
        .collect();
    for (i, thread) in opening.into_iter().enumerate() {
        let opened = thread.join().expect("no panic");
        assert_eq!(opened, Ok(()), "database {i}");
    }
}
