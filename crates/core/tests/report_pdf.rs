//! The printed reports read back by real PDF tools: `qpdf --check` passes,
//! `pdffonts` lists only embedded fonts, `pdftotext` finds the figures,
//! French accents and Arabic names in logical order, and every page
//! rendered by `pdftoppm` has ink on it. The tools come from
//! `apt-get install -y poppler-utils qpdf`.

mod report_fixture;
mod sync_support;

use report_fixture::{programme, visit};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use wafira_core::report::{self, FiltersInput, PrintRequest};

fn run_ok(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`{tool}` could not run ({e}): apt-get install -y poppler-utils qpdf"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// pdftotext's text without the bidi marks it wraps right-to-left runs in.
fn text_of(pdf: &Path) -> String {
    run_ok("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"])
        .chars()
        .filter(|c| !('\u{202A}'..='\u{202E}').contains(c))
        .collect()
}

fn pages(pdf: &Path) -> usize {
    let info = run_ok("pdfinfo", &[pdf.to_str().unwrap()]);
    info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap().trim().parse().unwrap()
}

/// Structure, fonts and rendering: what every printed file must pass.
fn assert_sound(pdf: &Path) {
    let p = pdf.to_str().unwrap();
    run_ok("qpdf", &["--check", p]);
    let fonts = run_ok("pdffonts", &[p]);
    let rows: Vec<&str> = fonts.lines().skip_while(|l| !l.starts_with("---")).skip(1).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[cols.len() - 5], "yes", "font not embedded: {row}");
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    run_ok("pdftoppm", &["-r", "20", "-gray", p, prefix.to_str().unwrap()]);
    let mut rendered = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        // The raster follows a short header; a blank page is all white.
        let ink = bytes[20..].iter().filter(|&&v| v < 200).count();
        assert!(ink > 20, "a blank page");
        rendered += 1;
    }
    assert_eq!(rendered, pages(pdf));
}

fn print(p: &report_fixture::Programme, request: serde_json::Value, name: &str) -> std::path::PathBuf {
    let request: PrintRequest = serde_json::from_value(request).unwrap();
    let path = p.dir.path().join(name);
    let saved = report::print(&p.store, &request, Some(&path)).unwrap();
    assert_eq!(saved.path, path);
    assert!(saved.bytes > 1000);
    path
}

#[test]
fn french_summary_holds_the_figures_and_accents_and_names_nobody() {
    let p = programme();
    let pdf = print(&p, json!({"kind": "summary"}), "synthese.pdf");
    assert_sound(&pdf);
    let text = text_of(&pdf);
    for expected in [
        "Rapport de synthèse",
        "Personnes inscrites",
        "5 / 3 000",
        "Part avec au moins une visite",
        "80,0 %",
        "50 500,50 MAD",
        "12 500,00 MAD",
        "66,5 jours (sur 4 lancements)",
        "1 sur 4 (25,0 %)",
        "Rabat-Salé-Kénitra",
        "Tanger-Tétouan-Al Hoceïma",
        "Plan d'affaires",
        "Visites par mois",
        // The app's follow-up plan counts a person never visited from the
        // day her record was made (D: today), not from her consent date.
        "Suivis en retard (4)",
        "Aucune visite",
        "5 personnes inscrites",
        "5 bénéficiaires, 7 visites, 15 étapes AGR, 0 cible",
        "Portable Kénitra (ce poste)",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    // For donors: counts only; the named list is the follow-up PDF.
    for person in ["Aïcha", "Benali", "عائشة", "Chakib", "شكيب"] {
        assert!(!text.contains(person), "{person:?} named in the summary:\n{text}");
    }
    let n = pages(&pdf);
    assert!(text.contains(&format!("Page {n} / {n}")), "page numbers");
    let fingerprint = p.store.indicators(&Default::default()).unwrap().fingerprint;
    assert!(text.contains(&format!("code de contrôle {fingerprint}")), "footer check code {fingerprint}");
    // Said in a manager's words, as on the dashboard, not as a hash's name.
    assert!(text.contains("Code de contrôle des chiffres") && !text.contains("mpreinte"), "{text}");
}

#[test]
fn arabic_summary_is_right_to_left_and_names_nobody() {
    let p = programme();
    let pdf = print(&p, json!({"kind": "summary", "lang": "ar"}), "ar.pdf");
    assert_sound(&pdf);
    let text = text_of(&pdf);
    for expected in ["تقرير تركيبي", "المستفيدون المسجلون", "الرباط سلا القنيطرة", "درهم", "التربية المالية"]
    {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(!text.contains("MAD"), "amounts in dirhams: {text}");
    assert!(!text.contains("فاطمة") && !text.contains("Aïcha"), "{text}");
}

/// One word as `pdftotext -bbox` places it: page, edges in points, text.
#[derive(Debug)]
struct Word {
    page: usize,
    x_min: f32,
    x_max: f32,
    y_min: f32,
    text: String,
}

fn words_of(pdf: &Path) -> Vec<Word> {
    let html = run_ok("pdftotext", &["-bbox", pdf.to_str().unwrap(), "-"]);
    let attr = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    let mut out = Vec::new();
    for (page, part) in html.split("<page ").skip(1).enumerate() {
        for piece in part.split("<word ").skip(1) {
            let (tag, rest) = piece.split_once('>').unwrap();
            let text = rest.split("</word>").next().unwrap().to_string();
            let (x_min, x_max, y_min) = (attr(tag, "xMin"), attr(tag, "xMax"), attr(tag, "yMin"));
            out.push(Word { page, x_min, x_max, y_min, text });
        }
    }
    out
}

/// Numbers keep to the right of their column on an Arabic page as on a
/// French one, under the right edge of their header: units under units.
#[test]
fn numbers_are_right_aligned_in_arabic_tables_too() {
    let p = programme();
    for (lang, women) in [("ar", "نساء"), ("fr", "Femmes")] {
        let pdf = print(&p, json!({"kind": "summary", "lang": lang}), &format!("align-{lang}.pdf"));
        let words = words_of(&pdf);
        // pdftotext -bbox gives Arabic words in the order of their glyphs.
        let glyphs: String = if lang == "ar" { women.chars().rev().collect() } else { women.to_string() };
        let below = |header: &Word| -> Vec<&Word> {
            words
                .iter()
                .filter(|w| {
                    w.page == header.page
                        && w.y_min > header.y_min
                        && w.y_min < header.y_min + 60.0
                        && w.x_max > header.x_min - 1.0
                        && w.x_min < header.x_max + 1.0
                        && w.text.chars().all(|c| c.is_ascii_digit())
                })
                .collect()
        };
        // The column's header: the word with the counts of women under it.
        let header = words
            .iter()
            .find(|w| w.text == glyphs && below(w).len() >= 2)
            .unwrap_or_else(|| panic!("{lang}: no column {women} in {words:?}"));
        for n in below(header) {
            assert!((n.x_max - header.x_max).abs() < 1.0, "{lang}: {n:?} is not right-aligned under {header:?}");
        }
    }
}

#[test]
fn arabic_follow_up_list_keeps_latin_names_intact_beside_arabic_ones() {
    let p = programme();
    let pdf = print(&p, json!({"kind": "followups", "days": 60, "lang": "ar"}), "suivis-ar.pdf");
    assert_sound(&pdf);
    let text = text_of(&pdf);
    for expected in ["فاطمة الإدريسي", "Aïcha Benali", "عائشة بنعلي"] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
}

#[test]
fn english_summary_formats_numbers_the_english_way() {
    let p = programme();
    let pdf = print(&p, json!({"kind": "summary", "lang": "en"}), "en.pdf");
    let text = text_of(&pdf);
    assert!(text.contains("Summary report"), "{text}");
    assert!(text.contains("50,500.50 MAD"), "{text}");
    assert!(text.contains("80.0%"), "{text}");
}

#[test]
fn filters_are_printed_on_the_cover_and_change_the_figures() {
    let p = programme();
    let pdf = print(
        &p,
        json!({"kind": "summary", "filters": {"from": "2024-01-01", "to": "2024-06-30", "region": "04"}}),
        "filtered.pdf",
    );
    let text = text_of(&pdf);
    assert!(text.contains("du 01/01/2024 au 30/06/2024"), "{text}");
    assert!(text.contains("Région : Rabat-Salé-Kénitra"), "{text}");
    assert!(text.contains("2 personnes inscrites"), "A and B: {text}");
}

#[test]
fn two_prints_of_different_data_carry_different_fingerprints() {
    let mut p = programme();
    let footer =
        |text: &str| text.lines().find_map(|l| l.split("code de contrôle ").nth(1)).unwrap().trim().to_string();
    let first = footer(&text_of(&print(&p, json!({"kind": "summary"}), "1.pdf")));
    let again = footer(&text_of(&print(&p, json!({"kind": "summary"}), "2.pdf")));
    assert_eq!(first.get(..8), again.get(..8));
    visit(&mut p.store, p.ids["D"], "2024-09-09", "follow_up");
    let after = footer(&text_of(&print(&p, json!({"kind": "summary"}), "3.pdf")));
    assert_ne!(first.get(..8), after.get(..8));
}

#[test]
fn profile_sheet_shows_identity_milestones_and_visits() {
    let p = programme();
    let pdf = print(&p, json!({"kind": "profile", "id": p.id("A")}), "profil.pdf");
    assert_sound(&pdf);
    let text = text_of(&pdf);
    for expected in [
        "Fiche individuelle",
        "Aïcha Benali",
        "عائشة بنعلي",
        "Financement obtenu",
        "12 500,00 MAD",
        "15/03/2024",
        "Éducation financière",
        "01/02/2024",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
}

#[test]
fn follow_up_list_groups_people_by_place_for_the_next_mission() {
    let p = programme();
    let pdf = print(&p, json!({"kind": "followups", "days": 60, "filters": {"region": "01"}}), "suivis.pdf");
    assert_sound(&pdf);
    let text = text_of(&pdf);
    assert!(text.contains("Suivis : plan de la prochaine mission"), "{text}");
    assert!(text.contains("Chakib Alaoui") && text.contains("شكيب العلوي"), "{text}");
    assert!(!text.contains("Aïcha"), "region 04 is filtered out: {text}");
}

#[test]
fn an_unknown_language_or_person_is_refused_and_writes_nothing() {
    let p = programme();
    let out = p.dir.path().join("none.pdf");
    let bad: PrintRequest = serde_json::from_value(json!({"kind": "summary", "lang": "de"})).unwrap();
    let err = report::print(&p.store, &bad, Some(&out)).unwrap_err();
    assert!(err.as_invalid().unwrap().has("lang", "unknown_code"));
    let bad = PrintRequest::Profile { id: uuid::Uuid::now_v7(), lang: None };
    assert_eq!(report::print(&p.store, &bad, Some(&out)).unwrap_err().code(), "not_found");
    let bad = PrintRequest::Summary {
        filters: FiltersInput { to: Some("demain".into()), ..Default::default() },
        lang: None,
        narrative: None,
    };
    assert!(report::print(&p.store, &bad, Some(&out)).unwrap_err().as_invalid().unwrap().has("to", "invalid_date"));
    assert!(!out.exists());
}

#[test]
fn the_app_names_its_files_in_a_reports_folder_next_to_the_database() {
    let p = programme();
    let saved = report::print(
        &p.store,
        &PrintRequest::Summary { filters: Default::default(), lang: None, narrative: None },
        None,
    )
    .unwrap();
    assert_eq!(saved.path.parent().unwrap(), p.dir.path().join("reports"));
    let name = saved.path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("wafira-summary-") && name.ends_with(".pdf"), "{name}");
    let second = report::print(
        &p.store,
        &PrintRequest::Summary { filters: Default::default(), lang: None, narrative: None },
        None,
    )
    .unwrap();
    assert_ne!(second.path, saved.path, "never overwritten");
}

#[test]
fn follow_up_list_for_one_province_or_commune_only() {
    let mut p = programme();
    // Two more people due a visit, in two communes of Kénitra province.
    for (first, commune) in [("Hanane", "Mnasra"), ("Souad", "Sidi Taibi")] {
        let id = p
            .store
            .add_beneficiary_json(json!({ "first_name": first, "last_name": "Tazi", "sex": "F",
                "birth_date": "1990-03-14", "region": "04", "province": "Kénitra", "commune": commune, "consent": true }))
            .unwrap()
            .id;
        visit(&mut p.store, id, "2024-01-10", "follow_up");
    }
    let place = |province: &str, commune: Option<&str>| wafira_core::store::Place {
        region: Some("04".into()),
        province: Some(province.into()),
        commune: commune.map(Into::into),
    };
    let groups = p.store.followups_at(60, &place("Kénitra", None)).unwrap();
    let names: Vec<&str> =
        groups.iter().flat_map(|g| g.people.iter().map(|f| f.person.beneficiary.first_name.as_str())).collect();
    assert!(names.contains(&"Hanane") && names.contains(&"Souad"), "{names:?}");
    assert!(groups.iter().all(|g| g.province.as_deref() == Some("Kénitra")));
    // A commune as people type it: case and accents aside.
    let one = p.store.followups_at(60, &place("Kénitra", Some("sidi  taibi".trim()))).unwrap();
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(one[0].people.len(), 1);
    let pdf = print(
        &p,
        json!({"kind": "followups", "days": 60, "filters": {"region": "04"},
               "place": {"region": "04", "province": "Kénitra", "commune": "Mnasra"}}),
        "suivis-mnasra.pdf",
    );
    assert_sound(&pdf);
    let text = text_of(&pdf);
    assert!(text.contains("Hanane Tazi") && !text.contains("Souad Tazi"), "{text}");
}

fn add(m: &mut sync_support::Machine, kind: wafira_core::store::log::Entity, input: serde_json::Value) -> uuid::Uuid {
    let doc = m.store.add_record(kind, input).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    uuid::Uuid::parse_str(doc["id"].as_str().unwrap()).unwrap()
}

/// The programme of tests/results.rs, whose figures were computed by
/// hand: four people (Omar registered in 2025), four IGAs, surveys,
/// sessions and referrals; Amina with a phone and a CIN.
fn donor_data() -> sync_support::Machine {
    donor_people().0
}

/// [`donor_data`] and its people: Amina, Zahra, Omar, Hind.
fn donor_people() -> (sync_support::Machine, [uuid::Uuid; 4]) {
    use wafira_core::store::log::Entity;
    let mut m = sync_support::machine("Station");
    let w1 = m.register(json!({ "first_name": "Amina", "last_name": "Ouazzani", "birth_date": "2000-05-01",
        "consent_date": "2024-06-01", "wg_walking": 3, "baseline_income": "1000",
        "phone": "0612345678", "cin": "BK123456" }));
    let w2 = m.register(json!({ "first_name": "Zahra", "last_name": "Belkadi", "birth_date": "1980-01-01",
        "consent_date": "2024-06-01", "disability": false }));
    let m1 = m.register(json!({ "first_name": "Omar", "last_name": "Chraibi", "sex": "M",
        "birth_date": "2005-03-01", "consent_date": "2025-03-01" }));
    let w3 = m.register(json!({ "first_name": "Hind", "last_name": "Zerouali", "birth_date": "1990-06-15",
        "consent_date": "2024-06-01", "wg_seeing": 2 }));
    let mut igas = Vec::new();
    for (p, status, security, jobs) in [
        (w1, "informal", "none", 1),
        (w2, "cooperative", "cnss", 2),
        (m1, "auto_entrepreneur", "amo", 0),
        (w3, "informal", "none", 3),
    ] {
        igas.push(add(
            &mut m,
            Entity::Iga,
            json!({ "beneficiary_id": p, "sector": "commerce", "form": "individual",
            "legal_status": status, "social_security": security, "jobs_created": jobs }),
        ));
    }
    let (a, b, c, d) = (igas[0], igas[1], igas[2], igas[3]);
    for (p, iga, kind, date) in [
        (w1, a, "iga_launched", "2024-01-10"),
        (w2, b, "iga_launched", "2024-09-01"),
        (m1, c, "iga_launched", "2025-06-01"),
        (w3, d, "iga_launched", "2023-03-01"),
        (w3, d, "sustained_12_months", "2024-03-05"),
    ] {
        m.store.add_milestone_json(json!({ "beneficiary_id": p, "iga_id": iga, "kind": kind, "date": date })).unwrap();
    }
    for (iga, date, operating, profit) in
        [(a, "2025-02-01", true, Some("1500")), (b, "2025-04-01", false, None), (c, "2025-12-15", true, Some("800"))]
    {
        add(
            &mut m,
            Entity::IgaFollowup,
            json!({ "iga_id": iga, "date": date, "operating": operating,
            "not_operating_reason": "saison creuse", "monthly_profit": profit }),
        );
    }
    for (kind, module, date, who) in [
        ("pre_departure", None, "2024-11-01", vec![w1, m1]),
        ("financial_education", Some("budget"), "2025-02-01", vec![w1, w2]),
        ("financial_education", Some("savings"), "2025-02-08", vec![w1, w2]),
        ("financial_education", Some("credit"), "2025-02-15", vec![w1]),
        ("financial_education", Some("remittances"), "2025-03-01", vec![w1]),
        ("pre_departure", None, "2025-05-01", vec![w2, m1]),
    ] {
        let s = add(&mut m, Entity::Session, json!({ "kind": kind, "module": module, "date": date }));
        m.store.take_attendance(s, &who).unwrap();
    }
    let anapec = wafira_core::programme::built_in_partner_id("anapec");
    for (p, date, outcome) in
        [(w1, "2024-12-01", "taken_up"), (m1, "2025-04-01", "pending"), (w3, "2025-06-01", "taken_up")]
    {
        add(
            &mut m,
            Entity::Referral,
            json!({ "beneficiary_id": p, "partner_id": anapec, "date": date, "outcome": outcome }),
        );
    }
    m.store
        .set_target_json(json!({"indicator": "share_sustained_of_launched", "target": "80", "baseline": "50"}))
        .unwrap();
    // Orientation: 2025's target, and women's end-of-project target.
    m.store.set_target_json(json!({"indicator": "pre_departure_oriented", "year": 2025, "target": "2"})).unwrap();
    m.store.set_target_json(json!({"indicator": "pre_departure_oriented", "sex": "F", "target": "4"})).unwrap();
    (m, [w1, w2, m1, w3])
}

/// The PDF's text with its spaces and line breaks squeezed: a comment
/// wrapped in its cell reads on.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The line of `text` that holds `label`, with its spaces squeezed.
fn line_with(text: &str, label: &str) -> String {
    let squeezed = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    text.lines()
        .map(squeezed)
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no line with {label:?} in:\n{text}"))
}

fn assert_in_order(line: &str, cells: &[&str]) {
    let mut rest = line;
    for cell in cells {
        let at = rest.find(cell).unwrap_or_else(|| panic!("{cell:?} missing (or out of order) in {line:?}"));
        rest = &rest[at + cell.len()..];
    }
}

#[test]
fn donor_report_holds_the_logframe_computed_by_hand_the_narrative_and_its_metadata_and_names_nobody() {
    let m = donor_data();
    let out = m.path.parent().unwrap().join("donor.pdf");
    let request: PrintRequest = serde_json::from_value(json!({"kind": "summary", "lang": "en",
        "filters": {"from": "2025-01-01", "to": "2025-12-31"},
        "narrative": "The 2025 season went as planned.\r\nSecond paragraph: orientation sessions in Kenitra."}))
    .unwrap();
    report::print(&m.store, &request, Some(&out)).unwrap();
    assert_sound(&out);
    let text = text_of(&out);
    // The logframe: period, then cumulative, then the comment.
    assert!(text.contains("Logical framework"), "{text}");
    assert_in_order(&line_with(&text, "Output Beneficiaries registered"), &["1", "4", "Women: 3 · men: 1"]);
    // Orientation in 2025: Zahra's (1 of 2025's 2), beside its target; 3
    // since the start, women 2 of their end-of-project 4.
    assert_in_order(&line_with(&text, "Output People who attended"), &["—", "2", "1", "—", "3", "Women: 2 (target 4)"]);
    assert!(squeezed(&text).contains("men: 1 · 50.0% of the 2025 target"), "{text}");
    assert_in_order(&line_with(&text, "Output People who completed financial"), &["1", "1"]);
    assert_in_order(&line_with(&text, "Output People who launched an IGA"), &["1", "4", "Women: 3 · men: 1"]);
    assert_in_order(&line_with(&text, "Output Referrals to a partner taken up"), &["1", "2", "Referrals made"]);
    assert_in_order(
        &line_with(&text, "Outcome IGAs operating at 12 months"),
        &["50.0", "50.0% (1/2)", "80.0", "66.7% (2/3)", "Status unknown"],
    );
    assert!(
        squeezed(&text).contains("period 1, cumulative 1 · 83.4% of end-of-project target"),
        "the unknown at 12 months, then the progress of the cumulative: {text}"
    );
    assert!(!text.contains("No target for this period"), "2025 lies within one year");
    assert_in_order(&line_with(&text, "Outcome IGAs operating at 6 months"), &["50.0% (1/2)", "50.0% (2/4)"]);
    assert_in_order(&line_with(&text, "Outcome Median monthly profit at 12"), &["1,500.00 MAD", "1,500.00 MAD"]);
    assert_in_order(&line_with(&text, "Outcome Median change in income"), &["500.00 MAD", "500.00 MAD"]);
    assert_in_order(&line_with(&text, "Outcome IGAs formalised"), &["1", "2", "IGAs launched"]);
    assert_in_order(&line_with(&text, "Outcome IGAs with social-security"), &["1", "2"]);
    assert_in_order(&line_with(&text, "Outcome Jobs created"), &["0", "6", "Women: 6 · men: 0"]);
    // The cumulative column is the count since the start to the period's
    // end, as the indicators give it without a start date.
    let since_start = FiltersInput { to: Some("2025-12-31".into()), ..Default::default() };
    let b = m.store.indicators(&since_start.validate().unwrap()).unwrap().beneficiaries;
    assert_eq!((b.registered, b.women, b.men), (4, 3, 1));
    // By sex, age group and disability: women, men, total for the period,
    // then cumulative.
    assert_in_order(&line_with(&text, "of which status unknown at 12"), &["1 0 1 1 0 1"]);
    assert_in_order(&line_with(&text, "15-24 years"), &["0 1 1 0 1 1"]);
    assert_in_order(&line_with(&text, "With a disability"), &["0 0 0 1 0 1"]);
    assert_in_order(&line_with(&text, "Not asked"), &["0 1 1 0 1 1"]);
    // Shares and medians by sex (women, men, total; period, then
    // cumulative), computed by hand in crates/core/tests/results.rs.
    let by_sex = &text[text.find("Disaggregation").unwrap()..];
    assert_in_order(
        &line_with(by_sex, "IGAs operating at 6 months"),
        &["0.0%", "100.0%", "50.0%", "33.3%", "100.0%", "50.0%"],
    );
    assert_in_order(&line_with(by_sex, "IGAs operating at 12 months"), &["50.0%", "—", "50.0%", "66.7%", "—", "66.7%"]);
    assert_in_order(
        &line_with(by_sex, "Median monthly profit at 6 months (MAD)"),
        &["1,500.00", "800.00", "1,150.00", "1,500.00", "800.00", "1,150.00"],
    );
    assert_in_order(
        &line_with(by_sex, "Median monthly profit at 12 months (MAD)"),
        &["1,500.00", "—", "1,500.00", "1,500.00", "—", "1,500.00"],
    );
    // The charts' keys, the narrative as typed.
    for expected in ["Women and men, cumulative", "IGAs at 6 and 12 months", "base: 4", "base: 3"] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(text.contains("The 2025 season went as planned."), "{text}");
    assert!(text.contains("Second paragraph: orientation sessions in Kenitra."), "{text}");
    // Nobody is named: no name, phone or CIN.
    for private in ["Amina", "Ouazzani", "Zahra", "Omar", "Chraibi", "Hind", "0612345678", "612345678", "BK123456"] {
        assert!(!text.contains(private), "{private:?} printed in the donor report:\n{text}");
    }
    // Metadata: title, author (the programme), creation date (today).
    let info = run_ok("pdfinfo", &[out.to_str().unwrap()]);
    let field = |name: &str| {
        info.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).map(str::trim).unwrap_or("").to_string()
    };
    assert_eq!(field("Title"), "Summary report", "{info}");
    assert_eq!(field("Author"), "WAFIRA II programme", "{info}");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(field("CreationDate").contains(&year), "{info}");
    assert!(field("Subject").contains("WAFIRA II"), "{info}");
}

#[test]
fn a_donor_report_over_two_years_sets_no_target_against_its_period() {
    let m = donor_data();
    let out = m.path.parent().unwrap().join("two-years.pdf");
    let request: PrintRequest = serde_json::from_value(
        json!({"kind": "summary", "lang": "en", "filters": {"from": "2024-07-01", "to": "2025-06-30"}}),
    )
    .unwrap();
    report::print(&m.store, &request, Some(&out)).unwrap();
    let text = text_of(&out);
    let all = squeezed(&text);
    assert!(all.contains("No target for this period: only a period within one calendar year"), "{text}");
    // The period column has no target, 2025's is not borrowed; the
    // cumulative keeps the end-of-project one (orientation: women's 4).
    assert_in_order(&line_with(&text, "Output People who attended"), &["—", "—"]);
    assert!(!all.contains("of the 2025 target"), "{text}");
    assert!(all.contains("Women: 2 (target 4)"), "{text}");
    // Its key figures page says so beside each period figure.
    assert!(text.contains("No target for this period"), "{text}");
}

/// A person with two IGAs launched counts once wherever *People who
/// launched an IGA* is shown, against its target of people: the key
/// figure (dashboard, CLI JSON, workbook) and the logframe's line, tables
/// by sex and charts; the IGAs launched (two of hers) stay the decent-work
/// base of how many are formalised.
#[test]
fn a_person_with_two_igas_launched_counts_once_in_every_place_against_the_target_of_people() {
    use wafira_core::store::log::Entity;
    let (mut m, [amina, ..]) = donor_people();
    // Amina launched her first IGA in January 2024, a second in March 2025.
    let second = add(
        &mut m,
        Entity::Iga,
        json!({ "beneficiary_id": amina, "sector": "services", "form": "individual", "legal_status": "informal" }),
    );
    m.store
        .add_milestone_json(json!({ "beneficiary_id": amina, "iga_id": second, "kind": "iga_launched",
                                    "date": "2025-03-01" }))
        .unwrap();
    m.store.set_target_json(json!({"indicator": "iga_launched", "target": "10"})).unwrap();
    m.store.set_target_json(json!({"indicator": "iga_launched", "year": 2025, "target": "2"})).unwrap();
    let filters = json!({"from": "2025-01-01", "to": "2025-12-31"});

    // The key figure: 2025's launches of a first IGA (Omar's), and the four
    // people since the start; the IGAs are 2 and 5.
    let input: FiltersInput = serde_json::from_value(filters.clone()).unwrap();
    let i = m.store.indicators(&input.validate().unwrap()).unwrap();
    let k = i.key_figures.iter().find(|k| k.indicator == "iga_launched").unwrap();
    let text_of_value = |v: Option<rust_decimal::Decimal>| v.map(|d| d.to_string());
    assert_eq!(
        (text_of_value(k.period.all.value), text_of_value(k.period.all.progress)),
        (Some("1".into()), Some("50".into())),
        "1 of 2025's 2"
    );
    assert_eq!(
        (text_of_value(k.cumulative.all.value), text_of_value(k.cumulative.all.progress)),
        (Some("4".into()), Some("40".into())),
        "4 of 10, not 5"
    );
    assert_eq!(text_of_value(k.cumulative.women.as_ref().unwrap().value).as_deref(), Some("3"));
    assert_eq!((i.iga.launched, i.results.decent_work.cumulative.igas.all), (1, 5), "people, IGAs");
    // The CLI's JSON and the workbook's indicators sheet: the same.
    let json = serde_json::to_value(&i).unwrap();
    let figure = json["key_figures"].as_array().unwrap().iter().find(|k| k["indicator"] == "iga_launched").unwrap();
    assert_eq!((&figure["period"]["value"], &figure["cumulative"]["value"]), (&json!("1"), &json!("4")));
    let book_path = m.path.with_file_name("launched.xlsx");
    let options = report::ExportOptions { filters: input.clone(), lang: Some("en".into()) };
    report::export_with(&m.store, report::Format::Xlsx, false, &options, Some(&book_path)).unwrap();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&book_path).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut book, "indicators").unwrap();
    let cell = |name: &str| {
        sheet.rows().find(|r| r[0] == calamine::Data::String(name.into())).map(|r| r[1].to_string()).unwrap_or_default()
    };
    assert_eq!(cell("key_figures.iga_launched.cumulative.value"), "4");
    assert_eq!(cell("key_figures.iga_launched.cumulative.progress"), "40");

    // The donor report: the logframe's line (2025's target, the period,
    // the end-of-project target, the cumulative), its progress, the table
    // by sex (women, men, total; period, then cumulative).
    let out = m.path.parent().unwrap().join("launched.pdf");
    let request: PrintRequest =
        serde_json::from_value(json!({"kind": "summary", "lang": "en", "filters": filters})).unwrap();
    report::print(&m.store, &request, Some(&out)).unwrap();
    let text = text_of(&out);
    assert_in_order(
        &line_with(&text, "Output People who launched an IGA"),
        &["—", "2", "1", "10", "4", "Women: 3 · men: 1"],
    );
    let all = squeezed(&text);
    assert!(all.contains("40.0% of end-of-project target · 50.0% of the 2025 target"), "{text}");
    let by_sex = &text[text.find("Disaggregation").unwrap()..];
    assert_in_order(&line_with(by_sex, "People who launched an IGA"), &["0 1 1 3 1 4"]);
    // How many IGAs are formalised is said of the IGAs: hers both.
    assert_in_order(&line_with(&text, "Outcome IGAs formalised"), &["1", "2", "IGAs launched"]);
    assert!(all.contains("(cumulative): 5"), "{text}");
}

#[test]
fn donor_report_in_french_and_arabic_keeps_the_migration_cycle_order() {
    let m = donor_data();
    for (lang, expected) in [
        (
            "fr",
            vec![
                "Cadre logique",
                "Survie",
                "Commentaire de la direction du programme",
                "Personnes ayant suivi l'orientation",
            ],
        ),
        ("ar", vec!["الإطار المنطقي", "تعليق إدارة البرنامج", "التربية المالية"]),
    ] {
        let out = m.path.parent().unwrap().join(format!("donor-{lang}.pdf"));
        let request: PrintRequest =
            serde_json::from_value(json!({"kind": "summary", "lang": lang, "narrative": "Note."})).unwrap();
        report::print(&m.store, &request, Some(&out)).unwrap();
        assert_sound(&out);
        let text = text_of(&out);
        for e in expected {
            assert!(text.contains(e), "{lang}: {e:?} missing from:\n{text}");
        }
        let info = run_ok("pdfinfo", &[out.to_str().unwrap()]);
        assert!(info.contains("WAFIRA II"), "{info}");
    }
    // Phases in the order of the migration cycle, "Other" last.
    let mut m = donor_data();
    for (phase, sector) in [("returned", "other"), ("in_migration", "agriculture"), ("pre_departure", "services")] {
        m.register(json!({ "first_name": "Samira", "phase": phase, "iga_sector": sector }));
    }
    let out = m.path.parent().unwrap().join("order.pdf");
    let request: PrintRequest = serde_json::from_value(json!({"kind": "summary", "lang": "en"})).unwrap();
    report::print(&m.store, &request, Some(&out)).unwrap();
    let text = text_of(&out);
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s:?} missing from:\n{text}"));
    let (before, during, back) = (at("Before departure"), at("In migration"), at("Returned"));
    assert!(before < during && during < back, "phases out of the cycle's order:\n{text}");
    let sectors = &text[at("By IGA sector")..];
    let at = |s: &str| sectors.find(s).unwrap_or_else(|| panic!("{s:?} missing from:\n{sectors}"));
    assert!(at("Agriculture") < at("Services") && at("Services") < at("Other"), "Other last:\n{sectors}");
}

#[test]
fn a_narrative_with_control_characters_or_too_long_is_refused() {
    let m = donor_data();
    let out = m.path.parent().unwrap().join("never.pdf");
    for (bad, code) in [("Bonjour\u{1b}[31m", "control_character"), (&*"x".repeat(3001), "too_long")] {
        let request: PrintRequest = serde_json::from_value(json!({"kind": "summary", "narrative": bad})).unwrap();
        let err = report::print(&m.store, &request, Some(&out)).unwrap_err();
        assert!(err.as_invalid().unwrap().has("narrative", code), "{err}");
    }
    assert!(!out.exists());
}

#[test]
fn the_cover_names_the_age_group_and_disability_filters() {
    let m = donor_data();
    let out = m.path.parent().unwrap().join("filtered.pdf");
    let request: PrintRequest = serde_json::from_value(
        json!({"kind": "summary", "lang": "en", "filters": {"age_group": "15-24", "disability": "not_asked"}}),
    )
    .unwrap();
    report::print(&m.store, &request, Some(&out)).unwrap();
    let text = text_of(&out);
    assert!(text.contains("Age group : 15-24 years") && text.contains("Not asked"), "{text}");
    assert!(!text.contains("Omar") && !text.contains("Chraibi"), "{text}");
}
