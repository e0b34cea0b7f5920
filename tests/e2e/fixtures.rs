//! What the window tests of the field workflows share: dates relative to
//! today, a prepared database with people in it, and small steps in the
//! window (the language, a profile, a script's answer).

use crate::harness::{App, Launch};
use serde_json::{json, Value};
use std::path::Path;
use uuid::Uuid;
use wafira_core::Store;

/// Today where the laptop is, as the core sees it.
pub fn today() -> String {
    Store::today().to_string()
}

pub fn days_ago(n: u64) -> String {
    (0..n).fold(Store::today(), |d, _| d.pred_opt().expect("a date")).to_string()
}

pub fn days_ahead(n: u64) -> String {
    (0..n).fold(Store::today(), |d, _| d.succ_opt().expect("a date")).to_string()
}

/// `2026-03-14` → `14/03/2026`, as the screens show dates.
pub fn dmy(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    format!("{}/{}/{}", parts[2], parts[1], parts[0])
}

/// A database with this laptop's identity and the people `add` registers.
pub fn prepared(db: &Path, add: impl FnOnce(&mut Store)) {
    let mut store = crate::harness::open_store(db);
    store.init_device("Portable de test", "Samira Test").expect("init device");
    add(&mut store);
}

pub fn register(store: &mut Store, extra: Value) -> Uuid {
    let mut person = json!({
        "first_name": "Khadija", "last_name": "Ouazzani", "sex": "F", "birth_date": "1988-04-12",
        "region": "04", "province": "Kénitra", "commune": "Mnasra", "consent": true,
    });
    for (k, v) in extra.as_object().unwrap() {
        person[k] = v.clone();
    }
    store.add_beneficiary_json(person).expect("register").id
}

pub async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Puts the window in `lang` (the choice persists between launches).
pub async fn language(app: &App, lang: &str) {
    app.set_value("#lang", lang).await;
    app.wait_until("the language", &format!("document.documentElement.lang === '{lang}'")).await;
}

pub async fn open_profile(app: &App, id: Uuid) {
    app.go(&format!("#/profile/{id}")).await;
    app.wait_for(&format!("section.profile[data-id='{id}']")).await;
}

/// A launch with `stick` as the one USB stick plugged in (the one-click
/// "Enregistrer sur la clé USB" saves there) and "Ouvrir" kept from
/// opening another program.
pub fn stick_env(stick: &Path) -> Launch {
    Launch {
        args: Vec::new(),
        env: vec![
            ("WAFIRA_REMOVABLE_DRIVES".into(), stick.display().to_string()),
            ("WAFIRA_NO_OPEN".into(), "1".into()),
        ],
    }
}
