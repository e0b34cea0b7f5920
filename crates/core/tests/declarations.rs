//! Every kind of record is declared once, field by field (kinds.rs): these
//! tests walk the declarations and check that each place that follows
//! from them has every field — a label in each language, its column in
//! the table, its header in the exports, its erasure — and that
//! docs/data-dictionary.md prints them. A question added to a declaration
//! and missing somewhere fails here, naming what is missing. And a
//! person's question declared alone (an *answer*) is read, kept, carried
//! to another laptop, exported and erased by its declaration.
//!
//! `WAFIRA_BLESS=1 cargo test -p wafira-core --test declarations` prints
//! the dictionary's tables again from the declarations.

mod sync_support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use sync_support::*;
use wafira_core::kinds::{self, Kind, Ty};
use wafira_core::report::export::{tables, Cell, Table};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every key of every namespace of `lang`.
fn words(lang: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(root().join(format!("ui/locales/{lang}"))).unwrap() {
        let path = entry.unwrap().path();
        let map: serde_json::Map<String, Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        out.extend(map.into_iter().map(|(k, _)| k));
    }
    out
}

/// The sections of docs/data-dictionary.md printed from the declarations:
/// each typed kind's table, and the programme's kinds.
fn sections() -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = kinds::TYPED
        .iter()
        .map(|k| {
            let e = k.entity.as_str();
            (format!("<!-- declared: {e}: begin -->\n"), format!("<!-- declared: {e}: end -->"), k.dictionary())
        })
        .collect();
    out.push((
        "<!-- declared kinds: begin -->\n".into(),
        "<!-- declared kinds: end -->".into(),
        wafira_core::programme::data_dictionary(),
    ));
    out
}

#[test]
fn the_data_dictionary_prints_every_declaration() {
    let path = root().join("docs/data-dictionary.md");
    let mut doc = std::fs::read_to_string(&path).unwrap();
    let bless = std::env::var_os("WAFIRA_BLESS").is_some();
    for (begin, end, printed) in sections() {
        let start = doc.find(&begin).unwrap_or_else(|| panic!("docs/data-dictionary.md has no {begin}")) + begin.len();
        let stop = start + doc[start..].find(&end).unwrap_or_else(|| panic!("no {end}"));
        if bless {
            doc.replace_range(start..stop, &printed);
        } else {
            assert_eq!(
                &doc[start..stop],
                printed,
                "docs/data-dictionary.md, {begin}: print it again (WAFIRA_BLESS=1 cargo test -p wafira-core --test declarations)"
            );
        }
    }
    if bless {
        std::fs::write(&path, doc).unwrap();
    }
}

/// The label keys a field may have: its kind's own wording first.
fn labels(k: &Kind, name: &str) -> [String; 2] {
    [format!("field.{}.{name}", k.entity.as_str()), format!("field.{name}")]
}

#[test]
fn every_declared_field_and_code_has_its_words_in_every_language() {
    for lang in ["fr", "ar", "en"] {
        let words = words(lang);
        let mut missing = Vec::new();
        for k in kinds::all() {
            for f in k.fields {
                if !labels(k, f.name).iter().any(|key| words.contains(key)) {
                    missing.push(format!("field.{}", f.name));
                }
                if let Ty::Code(list, codes) | Ty::Codes(list, codes) = f.ty {
                    missing.extend(codes.iter().map(|c| format!("code.{list}.{c}")).filter(|key| !words.contains(key)));
                }
            }
        }
        assert!(missing.is_empty(), "ui/locales/{lang}: no words for {missing:?}");
    }
}

#[test]
fn every_declared_column_is_in_its_table_and_every_field_where_it_goes() {
    let m = machine("Portable A");
    let conn = conn(&m.path);
    for k in kinds::all() {
        let table = k.entity.as_str();
        let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_xinfo('{table}')")).unwrap();
        let have: BTreeSet<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        for c in k.columns() {
            assert!(have.contains(*c), "{table}.{c} is declared a column: it needs a migration (store/schema.rs)");
        }
        let identifying: Vec<&str> = wafira_core::erasure::identifying(k.entity).iter().map(|(f, _)| *f).collect();
        let editable = wafira_core::sync::check::editable(k.entity);
        for f in k.fields {
            assert_eq!(identifying.contains(&f.name), f.identifies(), "{table}.{}: the erasure", f.name);
            assert_eq!(editable.contains(&f.name), f.editable, "{table}.{}: a correction", f.name);
            assert!(wafira_core::sync::check::field_names(k.entity).contains(&f.name), "{table}.{}", f.name);
        }
    }
}

#[test]
fn every_exported_field_has_its_column_in_both_exports() {
    let mut m = machine("Portable A");
    m.register(json!({}));
    let sheet = |tables: &[Table], k: &Kind| -> Vec<&'static str> {
        let name = match k.entity.as_str() {
            "beneficiary" => "beneficiaries",
            "visit" => "visits",
            "milestone" => "milestones",
            "iga" => "igas",
            "iga_followup" => "iga_followups",
            "season" => "seasons",
            "referral" => "referrals",
            "partner" => "partners",
            "session" => "sessions",
            _ => "attendance",
        };
        tables.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no sheet {name}")).headers.clone()
    };
    for pseudonymise in [false, true] {
        let tables = tables(&m.store, pseudonymise).unwrap();
        for k in kinds::all() {
            let headers = sheet(&tables, k);
            for f in k.fields {
                match f.export_header(pseudonymise) {
                    Some(h) => assert!(headers.contains(&h), "{:?}.{}: no column {h} in {headers:?}", k.entity, f.name),
                    None => assert!(!headers.contains(&f.name), "{:?}.{} exported", k.entity, f.name),
                }
            }
        }
    }
}

/// A person's question declared in `beneficiary::KIND` alone (`.answer()`,
/// as `responsible` and `place_abroad` are): what "Adding a question" in
/// docs/data-dictionary.md promises of one.
#[test]
fn a_question_declared_alone_is_kept_carried_exported_and_erased_by_its_declaration() {
    let answers: Vec<&str> =
        wafira_core::beneficiary::KIND.fields.iter().filter(|f| f.answer).map(|f| f.name).collect();
    assert!(answers.contains(&"responsible") && answers.contains(&"place_abroad"), "{answers:?}");

    let mut a = machine("Portable A");
    let mut station = machine("Station");
    let aicha = a.register(json!({ "country_of_origin": "MR", "region": "00", "responsible": "ANAPEC Agadir",
                                   "place_abroad": " Nouadhibou " }));
    assert_eq!(a.field(aicha, "place_abroad"), json!("Nouadhibou"), "read by its type: trimmed");
    // Checked by its type (text ≤ 120), named, nothing written.
    let before = a.dump();
    let err = a.store.update_beneficiary(aicha, json!({ "responsible": "x".repeat(121) })).unwrap_err();
    let wafira_core::Error::Invalid(i) = err else { panic!("{err}") };
    assert_eq!((i.0[0].field.as_str(), i.0[0].code.as_str()), ("responsible", "too_long"));
    assert_eq!(a.dump(), before);
    // Corrected, cleared, and carried to another machine, in its history.
    a.edit(aicha, json!({ "responsible": "INDH Guelmim" }));
    let fatima = a.register(json!({ "responsible": "ANAPEC Kénitra" }));
    a.edit(fatima, json!({ "responsible": null }));
    station.import(&a.export());
    assert_eq!(station.field(aicha, "responsible"), json!("INDH Guelmim"));
    assert_eq!(station.field(fatima, "responsible"), Value::Null);
    let stored = serde_json::to_value(station.store.beneficiary(fatima).unwrap()).unwrap();
    assert!(stored.get("responsible").is_none(), "absent once cleared, as before it was asked");
    assert_eq!(station.state(), a.state());
    let history = station.store.profile(aicha).unwrap().history;
    assert!(history.iter().any(|h| h.field.as_deref() == Some("responsible")));

    // Exported under its name; free text, so not to outsiders.
    let people = |pseudonymise: bool| tables(&station.store, pseudonymise).unwrap().remove(0);
    let named = people(false);
    let at = named.headers.iter().position(|h| *h == "responsible").unwrap();
    assert!(named.rows.iter().any(|r| r[at] == Cell::Text("INDH Guelmim".into())));
    assert!(!people(true).headers.contains(&"responsible"));

    // Her place abroad identifies her: an erasure leaves none; who follows
    // her does not.
    station.store.erase_beneficiary(aicha, "Retrait du consentement").unwrap();
    assert_eq!(station.field(aicha, "place_abroad"), Value::Null);
    assert_eq!(station.field(aicha, "responsible"), json!("INDH Guelmim"));
}
