//! Every error the core can give names a field and is translated: each code
//! has English text in `error.rs` and an `error.<code>` entry in French,
//! Arabic and English; each field of the records has a label; the three
//! languages hold the same keys; and a text that counts (`key.one`,
//! `key.other`…) has the plural forms its language needs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const LANGS: [&str; 3] = ["fr", "ar", "en"];
/// The namespaces of the field workflows.
const NAMESPACES: [&str; 3] = ["common", "records", "session"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The keys of the field workflows' namespaces in `lang`.
fn keys(lang: &str) -> BTreeSet<String> {
    keys_of(lang, &NAMESPACES)
}

/// The keys of every namespace in `lang` (the page's navigation shows
/// other areas' links too).
fn all_keys(lang: &str) -> BTreeSet<String> {
    let dir = root().join(format!("ui/locales/{lang}"));
    let mut namespaces: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_string))
        .collect();
    namespaces.sort();
    keys_of(lang, &namespaces.iter().map(String::as_str).collect::<Vec<_>>())
}

fn keys_of(lang: &str, namespaces: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for ns in namespaces {
        let path = root().join(format!("ui/locales/{lang}/{ns}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a JSON object: {e}", path.display()));
        for (k, v) in map {
            assert!(v.as_str().is_some_and(|s| !s.trim().is_empty()), "{lang}/{ns}.json: {k} is empty");
            out.insert(k);
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The string literal that is the `n`th argument of each call to `call`.
fn literal_arguments(text: &str, call: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (start, _) in text.match_indices(call) {
        let args = &text[start + call.len()..];
        let Some(end) = args.find(')') else { continue };
        if let Some(arg) = args[..end].split(',').nth(n).map(str::trim) {
            if let Some(code) = arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
                out.push(code.to_string());
            }
        }
    }
    out
}

/// The codes `error.rs` gives English text for (`"code" => …` arms).
fn codes_with_english() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("crates/core/src/error.rs")).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split_once("\" =>").map(|(code, _)| code.to_string()))
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        .collect()
}

/// The codes of the errors other than field errors that the field
/// workflows can give the window (`Error::code`); `cancelled` and `busy`
/// come from long work (progress.rs).
const ERROR_KINDS: [&str; 10] = [
    "not_found",
    "not_initialised",
    "already_initialised",
    "forbidden",
    "database",
    "io",
    "json",
    "other",
    "cancelled",
    "busy",
];

/// The field error codes of the field workflows' sources (other areas
/// check their own).
fn field_error_codes() -> BTreeSet<String> {
    let mut files = Vec::new();
    sources(&root().join("crates/core/src"), &mut files);
    let ours = [
        "beneficiary.rs",
        "visit.rs",
        "milestone.rs",
        "identity.rs",
        "validate.rs",
        "money.rs",
        "codes.rs",
        "target.rs",
        "store/mod.rs",
        "store/write.rs",
        "store/query.rs",
        "erasure.rs",
    ];
    files.retain(|(path, _)| ours.iter().any(|f| path.ends_with(f)));
    assert_eq!(files.len(), ours.len(), "every source of the field workflows was read");
    let mut codes = BTreeSet::new();
    for (_, text) in &files {
        codes.extend(literal_arguments(text, "FieldError::new(", 1));
        codes.extend(literal_arguments(text, "Error::field(", 1));
    }
    codes
}

#[test]
fn every_field_error_code_has_english_text() {
    let english = codes_with_english();
    let missing: Vec<_> = field_error_codes().into_iter().filter(|c| !english.contains(c)).collect();
    assert!(missing.is_empty(), "codes without English text in error.rs: {missing:?}");
}

#[test]
fn every_error_code_is_translated_in_french_arabic_and_english() {
    let mut codes = field_error_codes();
    codes.extend(ERROR_KINDS.map(String::from));
    assert!(codes.len() > 20, "found the codes: {codes:?}");
    for lang in LANGS {
        let keys = keys(lang);
        let missing: Vec<_> = codes.iter().filter(|c| !keys.contains(&format!("error.{c}"))).collect();
        assert!(missing.is_empty(), "{lang}: no translation for error codes {missing:?}");
    }
}

#[test]
fn every_field_a_person_can_get_wrong_has_a_label_in_every_language() {
    let beneficiary = serde_json::to_value(wafira_core::beneficiary::BeneficiaryInput::default()).unwrap();
    let mut fields: BTreeSet<String> = beneficiary.as_object().unwrap().keys().cloned().collect();
    let visit = [
        "beneficiary_id",
        "date",
        "kind",
        "location",
        "duration_minutes",
        "topics",
        "notes",
        "next_steps",
        "next_visit_date",
        "coordinator",
    ];
    let milestone = ["beneficiary_id", "kind", "date", "amount", "reason", "notes"];
    fields.extend(visit.iter().chain(milestone.iter()).map(|s| s.to_string()));
    fields.extend(["id", "input", "archive_reason", "followup_days"].map(String::from));
    for lang in LANGS {
        let keys = keys(lang);
        let missing: Vec<_> = fields.iter().filter(|f| !keys.contains(&format!("field.{f}"))).collect();
        assert!(missing.is_empty(), "{lang}: no label for fields {missing:?}");
    }
}

#[test]
fn every_code_of_the_closed_lists_is_translated() {
    use wafira_core::codes::*;
    let mut keys_needed = Vec::new();
    keys_needed.extend(Sex::ALL.iter().map(|c| format!("code.sex.{c}")));
    keys_needed.extend(Phase::ALL.iter().map(|c| format!("code.phase.{c}")));
    keys_needed.extend(Sector::ALL.iter().map(|c| format!("code.sector.{c}")));
    keys_needed.extend(VisitKind::ALL.iter().map(|c| format!("code.visit.{c}")));
    keys_needed.extend(MilestoneKind::ALL.iter().map(|c| format!("code.milestone.{c}")));
    for lang in LANGS {
        let keys = keys(lang);
        let missing: Vec<_> = keys_needed.iter().filter(|k| !keys.contains(*k)).collect();
        assert!(missing.is_empty(), "{lang}: missing {missing:?}");
    }
}

/// The CLDR plural categories, in their order.
const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

/// The texts that count: `base` → its categories, wherever `base.one` and
/// `base.other` are both keys (`code.sector.other` alone is no plural).
fn plurals(keys: &BTreeSet<String>) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut out: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for k in keys {
        let Some((base, cat)) = k.rsplit_once('.') else { continue };
        if CATEGORIES.contains(&cat) && keys.contains(&format!("{base}.one")) && keys.contains(&format!("{base}.other"))
        {
            out.entry(base.to_string()).or_default().insert(cat.to_string());
        }
    }
    out
}

/// The keys with each text that counts said once, as `base.#`: what the
/// three languages must hold alike, whatever plural forms each needs.
fn shape(keys: &BTreeSet<String>) -> BTreeSet<String> {
    let plurals = plurals(keys);
    keys.iter()
        .map(|k| match k.rsplit_once('.') {
            Some((base, cat)) if CATEGORIES.contains(&cat) && plurals.contains_key(base) => format!("{base}.#"),
            _ => k.clone(),
        })
        .collect()
}

#[test]
fn french_arabic_and_english_hold_the_same_keys() {
    let fr = shape(&all_keys("fr"));
    assert!(fr.contains("count.days.#") && fr.contains("conflicts.count.#"), "found the plurals: {fr:?}");
    for lang in ["ar", "en"] {
        let other = shape(&all_keys(lang));
        let missing: Vec<_> = fr.difference(&other).collect();
        let extra: Vec<_> = other.difference(&fr).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, not in French {extra:?}");
    }
}

/// The text of every key of `lang`.
fn texts(lang: &str) -> std::collections::BTreeMap<String, String> {
    let dir = root().join(format!("ui/locales/{lang}"));
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            out.extend(map.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())));
        }
    }
    out
}

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(name, _)| name.to_string())).collect()
}

/// Each text that counts has the forms CLDR gives its language (French and
/// English: one, other, French many optional; Arabic: zero, one, two, few,
/// many, other), each holds the same placeholders besides `{n}`, and `{n}`
/// is there but where Arabic says one or two in words (يوم واحد، يومان).
#[test]
fn every_text_that_counts_has_the_plural_forms_of_its_language() {
    for lang in LANGS {
        let texts = texts(lang);
        let keys: BTreeSet<String> = texts.keys().cloned().collect();
        let plurals = plurals(&keys);
        assert!(plurals.len() >= 20, "{lang}: found the plurals {plurals:?}");
        let needed: BTreeSet<String> =
            wafira_core::report::words::plural_categories(lang).iter().map(|c| c.to_string()).collect();
        for (base, cats) in &plurals {
            let extra: Vec<_> = cats.difference(&needed).filter(|c| !(lang == "fr" && *c == "many")).collect();
            let missing: Vec<_> = needed.difference(cats).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}: {base} lacks {missing:?}, has no use for {extra:?}"
            );
            let other = &texts[&format!("{base}.other")];
            assert!(other.contains("{n}"), "{lang}: {base}.other does not say the number: {other}");
            let mut expected = placeholders(other);
            expected.remove("n");
            for cat in cats {
                let text = &texts[&format!("{base}.{cat}")];
                let mut found = placeholders(text);
                let said = found.remove("n");
                assert_eq!(found, expected, "{lang}: {base}.{cat} and {base}.other fill different placeholders");
                assert!(
                    said || (lang == "ar" && (cat == "one" || cat == "two")),
                    "{lang}: {base}.{cat} leaves out the number: {text}"
                );
            }
        }
    }
}

/// Every text the window or a printed report counts with (`tn('key', …)`,
/// `w.tn("key", …)`) has its plural forms, and nothing counts with a text
/// that has none.
#[test]
fn every_count_in_the_code_reads_a_text_with_plural_forms() {
    let mut used = BTreeSet::new();
    let mut files = Vec::new();
    for dir in ["ui/js", "ui/js/screens"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "js") {
                files.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut rust = Vec::new();
    sources(&root().join("crates/core/src/report"), &mut rust);
    files.extend(rust.into_iter().map(|(_, text)| text));
    for text in &files {
        for call in ["tn('", "pluralKey('", "tn(\"", "tn_decimal(\""] {
            for piece in text.split(call).skip(1) {
                let quote = if call.ends_with('\'') { '\'' } else { '"' };
                if let Some((key, _)) = piece.split_once(quote) {
                    used.insert(key.to_string());
                }
            }
        }
    }
    assert!(
        used.contains("count.days") && used.contains("sync.updated") && used.contains("report.registered_intro"),
        "{used:?}"
    );
    for lang in LANGS {
        let plurals = plurals(&all_keys(lang));
        let missing: Vec<_> = used.iter().filter(|k| !plurals.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{lang}: counted with texts that have no plural forms: {missing:?}");
    }
}

/// Quoted strings that look like translation keys (`profile.add_visit`),
/// from the screens of the field workflows and the page around them.
fn keys_used_by_the_ui() -> BTreeSet<String> {
    const PREFIXES: &[&str] = &[
        "app.",
        "nav.",
        "lang.",
        "list.",
        "filter.",
        "sort.",
        "stage.",
        "field.",
        "form.",
        "register.",
        "dup.",
        "profile.",
        "followups.",
        "settings.",
        "welcome.",
        "error.",
        "code.",
        "count.",
    ];
    let files = [
        "ui/index.html",
        "ui/js/app.js",
        "ui/js/form.js",
        "ui/js/state.js",
        "ui/js/screens/welcome.js",
        "ui/js/screens/beneficiaries.js",
        "ui/js/screens/register.js",
        "ui/js/screens/profile.js",
        "ui/js/screens/followups.js",
        "ui/js/screens/settings.js",
    ];
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for quote in ['\'', '"'] {
            for (i, piece) in text.split(quote).enumerate() {
                let looks_like_key = i % 2 == 1
                    && PREFIXES.iter().any(|p| piece.starts_with(p))
                    && piece.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                    && !piece.ends_with('.');
                if looks_like_key {
                    out.insert(piece.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_key_the_screens_use_is_translated() {
    let used = keys_used_by_the_ui();
    assert!(used.contains("profile.add_visit") && used.contains("followups.print"), "found the keys: {used:?}");
    for lang in LANGS {
        let keys = all_keys(lang);
        // A text that counts is there as its forms (`followups.empty.other`).
        let missing: Vec<_> =
            used.iter().filter(|k| !keys.contains(*k) && !keys.contains(&format!("{k}.other"))).collect();
        assert!(missing.is_empty(), "{lang}: the screens use keys with no translation: {missing:?}");
    }
}

/// The codes of a refused bundle (`Refusal::code`, `"bundle_…"` in
/// sync/bundle.rs): each is translated in the Sync screen's namespace.
#[test]
fn every_bundle_refusal_is_translated_in_french_arabic_and_english() {
    let text = std::fs::read_to_string(root().join("crates/core/src/sync/bundle.rs")).unwrap();
    let codes: BTreeSet<String> = text
        .split('"')
        .filter(|piece| piece.starts_with("bundle_") && piece.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(String::from)
        .collect();
    assert!(codes.contains("bundle_unknown_device") && codes.len() >= 16, "found the codes: {codes:?}");
    for lang in LANGS {
        let keys = keys_of(lang, &["sync"]);
        let missing: Vec<_> = codes.iter().filter(|c| !keys.contains(&format!("error.{c}"))).collect();
        assert!(missing.is_empty(), "{lang}/sync.json: no translation for refusals {missing:?}");
    }
}

/// In Arabic, a number written with its sign or in groups after Arabic
/// words reads reversed ("+222 22 12 34 56" shows as "56 34 12 22 222+")
/// unless it is isolated: each starts with a left-to-right mark (U+200E)
/// or isolate (U+2066), as the screens isolate values in <bdi dir="ltr">.
#[test]
fn arabic_texts_isolate_numbers_written_with_a_sign_or_in_groups() {
    let mut reversed = Vec::new();
    for (key, text) in texts("ar") {
        let chars: Vec<char> = text.chars().collect();
        let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
        let mut i = 0;
        while i < chars.len() {
            let start = i;
            let signed = chars[i] == '+' && digit(i + 1);
            if !signed && !digit(i) {
                i += 1;
                continue;
            }
            // The whole number: its sign, digits and the single spaces between groups.
            i += usize::from(signed);
            let mut grouped = false;
            while digit(i) || (chars[i] == ' ' && digit(i - 1) && digit(i + 1)) {
                grouped |= chars[i] == ' ';
                i += 1;
                if i == chars.len() {
                    break;
                }
            }
            let isolated = start > 0 && matches!(chars[start - 1], '\u{200e}' | '\u{2066}');
            if (signed || grouped) && !isolated {
                reversed.push(format!("{key}: {}", chars[start..i].iter().collect::<String>()));
            }
        }
    }
    assert!(reversed.is_empty(), "not isolated in Arabic: {reversed:?}");
}
