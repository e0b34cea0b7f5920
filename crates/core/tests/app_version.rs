//! The program's version travels with what it makes: every bundle's
//! manifest names it, a station too old for a bundle says which version to
//! install (in the CLI's message and the window's three languages), and
//! every page of every PDF prints it (read back with `pdftotext`, from
//! `apt-get install -y poppler-utils`).

mod report_fixture;
mod sync_support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use sync_support::*;
use wafira_core::report::{self, PrintRequest};
use wafira_core::APP_VERSION;

#[test]
fn every_bundle_names_the_version_that_made_it() {
    let _station = machine("Station");
    let mut a = machine("Portable A");
    a.register(json!({}));
    let bytes = a.export();
    assert_eq!(read_manifest(&bytes).app_version.as_deref(), Some(APP_VERSION));
    // A full bundle too.
    assert_eq!(read_manifest(&a.export_with(true)).app_version.as_deref(), Some(APP_VERSION));
}

#[test]
fn a_bundle_from_a_newer_version_is_refused_naming_the_version_to_install() {
    let mut station = machine("Station");
    let mut a = machine("Portable A");
    a.register(json!({}));
    let bytes = a.export();
    let newer = rewrite(&bytes, |m, _| {
        m.schema_version = 99;
        m.app_version = Some("9.4.0".into());
    });
    let before = station.dump();
    let err = station.store.import_bundle(newer).unwrap_err();
    assert_eq!(err.code(), "bundle_unknown_schema", "{err}");
    let message = err.to_string();
    assert!(message.contains("install Wafira Field 9.4.0 or later"), "{message}");
    assert!(message.contains(&format!("(this is {APP_VERSION})")), "{message}");
    assert_eq!(station.dump(), before, "nothing changed");
    // The window receives both versions, to put in its own words.
    let sent = serde_json::to_value(&err).unwrap();
    assert_eq!(sent["details"], json!({ "version": "9.4.0", "current": APP_VERSION }), "{sent}");

    // A bundle that does not say (hand-made: every version with a newer
    // schema writes it), or says something that is not a version, is
    // refused the same way, without repeating what it says.
    for said in [None, Some("<b>9</b>".to_string()), Some("9".repeat(200))] {
        let newer = rewrite(&bytes, |m, _| {
            m.schema_version = 99;
            m.app_version = said.clone();
        });
        let err = station.store.import_bundle(newer).unwrap_err();
        assert_eq!(err.code(), "bundle_unknown_schema", "{err}");
        assert!(err.to_string().contains(&format!("install a later Wafira Field than this one ({APP_VERSION})")));
        let sent = serde_json::to_value(&err).unwrap();
        assert_eq!(sent["details"]["version"], "?", "{said:?}");
    }
}

#[test]
fn the_refusal_of_a_newer_bundle_names_both_versions_in_every_language() {
    let locales = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/locales");
    for lang in ["fr", "ar", "en"] {
        let text = std::fs::read_to_string(locales.join(lang).join("sync.json")).unwrap();
        let map: Value = serde_json::from_str(&text).unwrap();
        let said = map["error.bundle_unknown_schema"].as_str().unwrap_or_default();
        assert!(said.contains("{version}") && said.contains("{current}"), "{lang}: {said:?}");
    }
}

fn text_of(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .unwrap_or_else(|e| panic!("pdftotext could not run ({e}): apt-get install -y poppler-utils"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_page_of_every_pdf_names_the_version_that_printed_it() {
    let p = report_fixture::programme();
    let aicha = p.id("A");
    for (name, request) in [
        ("synthese.pdf", json!({"kind": "summary"})),
        ("summary-en.pdf", json!({"kind": "summary", "lang": "en"})),
        ("suivis.pdf", json!({"kind": "followups", "days": 60})),
        ("fiche.pdf", json!({"kind": "profile", "id": aicha})),
    ] {
        let request: PrintRequest = serde_json::from_value(request).unwrap();
        let path = p.dir.path().join(name);
        let saved = report::print(&p.store, &request, Some(&path)).unwrap();
        let text = text_of(&saved.path);
        let pages = text.matches('\u{c}').count().max(1);
        let named = text.matches(&format!("Wafira Field {APP_VERSION} · ")).count();
        assert_eq!(named, pages, "{name}: the version on each of its {pages} pages:\n{text}");
    }
}
