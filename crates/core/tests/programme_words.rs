//! The words of the results framework's records, read from their
//! declarations (programme.rs): every field of every declared kind has a
//! label (`field.<name>`) and every code of its code lists a name
//! (`code.<list>.<code>`) in French, Arabic and English, in the window's
//! programme namespace or the field workflows' ones it builds on; the
//! built-in partners are named; the core's new field errors are
//! translated; and programme.json holds the same keys in the three
//! languages (a text that counts by its plural forms, as translations.rs
//! compares them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use wafira_core::kinds::Ty;
use wafira_core::programme::{BUILT_IN_PARTNERS, KINDS};

const LANGS: [&str; 3] = ["fr", "ar", "en"];
/// Where the window finds these words: its own namespace, and the field
/// workflows' ones (`field.date`, `code.sector.*`) it shares.
const NAMESPACES: [&str; 3] = ["programme", "common", "records"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn texts(lang: &str, namespaces: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for ns in namespaces {
        let path = root().join(format!("ui/locales/{lang}/{ns}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a JSON object: {e}", path.display()));
        for (k, v) in map {
            let v = v.as_str().unwrap_or_else(|| panic!("{lang}/{ns}.json: {k} is not text"));
            assert!(!v.trim().is_empty(), "{lang}/{ns}.json: {k} is empty");
            out.entry(k).or_insert_with(|| v.to_string());
        }
    }
    out
}

/// Every key the declarations need: a label per field, a name per code.
fn needed() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for kind in KINDS.iter() {
        for f in kind.fields {
            keys.insert(format!("field.{}", f.name));
            if let Ty::Code(list, codes) | Ty::Codes(list, codes) = f.ty {
                keys.extend(codes.iter().map(|c| format!("code.{list}.{c}")));
            }
        }
    }
    keys.extend(BUILT_IN_PARTNERS.iter().map(|(code, _, _)| format!("code.partner.{code}")));
    keys
}

#[test]
fn every_field_and_code_of_the_declared_kinds_is_named_in_every_language() {
    let needed = needed();
    // The declarations were read: the IGA's fields and its lists are there.
    for k in ["field.legal_status", "field.monthly_profit", "code.fe_module.remittances", "code.partner.anapec"] {
        assert!(needed.contains(k), "{k} not found in the declarations: {needed:?}");
    }
    for lang in LANGS {
        let texts = texts(lang, &NAMESPACES);
        let missing: Vec<_> = needed.iter().filter(|k| !texts.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{lang}: no words for {missing:?}");
    }
}

#[test]
fn the_field_errors_of_the_records_are_translated() {
    let codes = [
        "unknown_record",
        "invalid_number",
        "too_many",
        "owner_is_member",
        "members_of_individual",
        "profit_above_turnover",
        "module_of_other_session",
        "not_her_iga",
        "iga_needed",
    ];
    for lang in LANGS {
        let texts = texts(lang, &NAMESPACES);
        let missing: Vec<_> = codes.iter().filter(|c| !texts.contains_key(&format!("error.{c}"))).collect();
        assert!(missing.is_empty(), "{lang}: no translation for {missing:?}");
    }
}

/// The keys with a text that counts said once (`base.#`), whatever plural
/// forms its language needs.
fn shape(keys: impl Iterator<Item = String>) -> BTreeSet<String> {
    const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];
    let keys: BTreeSet<String> = keys.collect();
    keys.iter()
        .map(|k| match k.rsplit_once('.') {
            Some((base, cat))
                if CATEGORIES.contains(&cat)
                    && keys.contains(&format!("{base}.one"))
                    && keys.contains(&format!("{base}.other")) =>
            {
                format!("{base}.#")
            }
            _ => k.clone(),
        })
        .collect()
}

#[test]
fn programme_words_hold_the_same_keys_in_french_arabic_and_english() {
    let fr = shape(texts("fr", &["programme"]).into_keys());
    assert!(fr.contains("programme.present_count.#"), "found the plurals: {fr:?}");
    for lang in ["ar", "en"] {
        let other = shape(texts(lang, &["programme"]).into_keys());
        let missing: Vec<_> = fr.difference(&other).collect();
        let extra: Vec<_> = other.difference(&fr).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, not in French {extra:?}");
    }
}

/// The domain review's words: financial education, amounts in dirhams.
#[test]
fn arabic_says_financial_education_and_dirhams_as_reviewed() {
    let ar = texts("ar", &["programme"]);
    assert_eq!(ar["code.session_kind.financial_education"], "التربية المالية");
    for (k, v) in &ar {
        assert!(!v.contains("MAD"), "ar: {k} says MAD: {v}");
        if k.starts_with("field.invest_") || k.starts_with("field.monthly_") {
            assert!(v.contains("درهم"), "ar: {k} names no dirhams: {v}");
        }
    }
}
