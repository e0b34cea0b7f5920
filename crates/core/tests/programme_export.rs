//! The results framework's records in the analysts' workbook and in the
//! figures: each code field of a declared kind followed by its label in
//! the chosen language, taken from the window's own words
//! (`ui/locales/<lang>/programme.json`), and listed with its codes in the
//! codebook; a withdrawn session's attendance counted nowhere (neither in
//! the participation figures nor in the attendance sheet) until the
//! session is put back, its list kept as it was; and so a withdrawn IGA's
//! follow-up surveys and milestones.

mod sync_support;

use calamine::{open_workbook, Data, Range, Reader, Xlsx};
use serde_json::{json, Value};
use sync_support::*;
use uuid::Uuid;
use wafira_core::programme::built_in_partner_id;
use wafira_core::report::{self, indicators::FiltersInput, ExportOptions, Format};
use wafira_core::store::log::Entity;

fn add(m: &mut Machine, kind: Entity, input: Value) -> Uuid {
    let doc = m.store.add_record(kind, input).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    Uuid::parse_str(doc["id"].as_str().unwrap()).unwrap()
}

/// One person with one record of every declared kind, each code field set.
fn every_kind(m: &mut Machine) -> Uuid {
    let fatima = m.register(json!({ "first_name": "Fatima" }));
    let iga = add(
        m,
        Entity::Iga,
        json!({ "beneficiary_id": fatima, "activity": "Couture", "sector": "handicraft", "form": "individual",
                "region": "04", "province": "Kénitra", "legal_status": "auto_entrepreneur", "social_security": "amo" }),
    );
    add(
        m,
        Entity::IgaFollowup,
        json!({ "iga_id": iga, "date": "2025-02-01", "operating": true, "monthly_profit": "900",
                "sales_channels": ["social_media", "local_market"] }),
    );
    add(m, Entity::Season, json!({ "beneficiary_id": fatima, "year": 2024, "country": "ES" }));
    add(
        m,
        Entity::Referral,
        json!({ "beneficiary_id": fatima, "partner_id": built_in_partner_id("anapec"), "date": "2025-01-10",
                "outcome": "taken_up" }),
    );
    let tawada = add(m, Entity::Partner, json!({ "name": "Association Tawada", "kind": "ngo" }));
    add(
        m,
        Entity::Referral,
        json!({ "beneficiary_id": fatima, "partner_id": tawada, "date": "2025-01-20", "outcome": "pending" }),
    );
    let session = add(
        m,
        Entity::Session,
        json!({ "kind": "financial_education", "module": "savings", "date": "2025-03-01", "partner_id": tawada }),
    );
    m.store.take_attendance(session, &[fatima]).unwrap();
    fatima
}

fn workbook(m: &Machine, lang: &str, pseudonymise: bool) -> Xlsx<std::io::BufReader<std::fs::File>> {
    let path = m.path.with_file_name(format!("export-{lang}-{pseudonymise}.xlsx"));
    let options = ExportOptions { filters: FiltersInput::default(), lang: Some(lang.into()) };
    report::export_with(&m.store, Format::Xlsx, pseudonymise, &options, Some(&path)).unwrap();
    open_workbook(&path).unwrap()
}

fn headers(sheet: &Range<Data>) -> Vec<String> {
    sheet.rows().next().map(|r| r.iter().map(|c| c.to_string()).collect()).unwrap_or_default()
}

/// The cells of a column, rows in the sheet's order.
fn column(sheet: &Range<Data>, name: &str) -> Vec<String> {
    let at = headers(sheet).iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    sheet.rows().skip(1).map(|r| r[at].to_string()).collect()
}

/// The codebook's row for a column of a sheet: label, type, codes.
fn entry(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str, col: &str) -> [String; 3] {
    let codebook = book.worksheet_range("codebook").unwrap();
    let row = codebook
        .rows()
        .find(|r| r[0] == Data::String(sheet.into()) && r[1] == Data::String(col.into()))
        .unwrap_or_else(|| panic!("no codebook entry for {sheet}.{col}"));
    [row[2].to_string(), row[3].to_string(), row[4].to_string()]
}

#[test]
fn every_code_of_a_declared_kind_has_its_label_beside_it_in_french() {
    let mut m = machine("Station");
    every_kind(&mut m);
    let mut book = workbook(&m, "fr", false);

    let igas = book.worksheet_range("igas").unwrap();
    let h = headers(&igas);
    for (code, label) in [
        ("sector", "sector_label"),
        ("form", "form_label"),
        ("region", "region_label"),
        ("province", "province_label"),
        ("legal_status", "legal_status_label"),
        ("social_security", "social_security_label"),
    ] {
        let at = h.iter().position(|x| x == code).unwrap_or_else(|| panic!("{code} in {h:?}"));
        assert_eq!(h[at + 1], label, "{label} right after {code}");
    }
    assert_eq!(column(&igas, "sector_label"), ["Artisanat"]);
    assert_eq!(column(&igas, "form_label"), ["Individuelle"]);
    assert_eq!(column(&igas, "region_label"), ["Rabat-Salé-Kénitra"]);
    assert_eq!(column(&igas, "legal_status_label"), ["Auto-entrepreneur"]);
    assert_eq!(column(&igas, "social_security_label"), ["AMO"]);
    assert_eq!(column(&igas, "social_security"), ["amo"], "the code stays beside it");

    let surveys = book.worksheet_range("iga_followups").unwrap();
    assert_eq!(column(&surveys, "sales_channels"), ["local_market; social_media"]);
    assert_eq!(column(&surveys, "sales_channels_label"), ["Souk, marché local; Réseaux sociaux"]);
    assert_eq!(column(&book.worksheet_range("seasons").unwrap(), "country_label"), ["Espagne"]);
    let referrals = book.worksheet_range("referrals").unwrap();
    let mut by_partner: Vec<(String, String)> =
        column(&referrals, "partner_id_label").into_iter().zip(column(&referrals, "outcome_label")).collect();
    by_partner.sort();
    assert_eq!(
        by_partner,
        [("ANAPEC".into(), "Suivie (service obtenu)".into()), ("Association Tawada".into(), "En attente".into())]
    );
    assert_eq!(column(&book.worksheet_range("partners").unwrap(), "kind_label"), ["Association, ONG"]);
    // A session's kind is a session's, not a milestone's.
    let sessions = book.worksheet_range("sessions").unwrap();
    assert_eq!(column(&sessions, "kind_label"), ["Éducation financière"]);
    assert_eq!(column(&sessions, "module_label"), ["Épargne"]);
    assert_eq!(column(&sessions, "partner_id_label"), ["Association Tawada"]);
    assert_eq!(
        headers(&book.worksheet_range("attendance").unwrap()),
        ["id", "beneficiary_id", "session_id", "created_at"]
    );

    // The codebook: the form's label of each column, the label columns,
    // and every code of each list with its label.
    assert_eq!(entry(&mut book, "sessions", "kind")[0], "Type de séance");
    assert_eq!(entry(&mut book, "sessions", "kind_label")[0], "Type de séance (libellé)");
    assert_eq!(entry(&mut book, "partners", "kind")[0], "Type de partenaire");
    assert_eq!(entry(&mut book, "igas", "name")[0], "Nom commercial");
    let legal = entry(&mut book, "igas", "legal_status");
    assert_eq!(legal[0], "Statut juridique");
    assert_eq!(
        legal[2],
        "informal = Informelle; auto_entrepreneur = Auto-entrepreneur; cooperative = Coopérative; company = Société"
    );
    let kinds = entry(&mut book, "sessions", "kind")[2].clone();
    assert!(
        kinds.starts_with("pre_departure = Orientation avant le départ; financial_education = Éducation financière;")
    );
    assert_eq!(
        entry(&mut book, "sessions", "module")[2],
        "budget = Budget; savings = Épargne; credit = Crédit; remittances = Transferts d'argent"
    );
    let channels = entry(&mut book, "iga_followups", "sales_channels")[2].clone();
    assert!(channels.contains("social_media = Réseaux sociaux"), "{channels}");
    let partners = entry(&mut book, "referrals", "partner_id")[2].clone();
    assert!(partners.contains(&format!("{} = ANAPEC", built_in_partner_id("anapec"))), "{partners}");
    assert!(entry(&mut book, "referrals", "outcome")[2].contains("taken_up = Suivie (service obtenu)"));
}

#[test]
fn the_labels_and_codebook_of_the_declared_kinds_read_in_arabic() {
    let mut m = machine("Station");
    every_kind(&mut m);
    let mut book = workbook(&m, "ar", false);
    let igas = book.worksheet_range("igas").unwrap();
    assert_eq!(column(&igas, "sector_label"), ["الصناعة التقليدية"]);
    assert_eq!(column(&igas, "form_label"), ["فردي"]);
    assert_eq!(column(&igas, "legal_status_label"), ["مقاول ذاتي"]);
    assert_eq!(column(&igas, "social_security_label"), ["التأمين الإجباري عن المرض (AMO)"]);
    let surveys = book.worksheet_range("iga_followups").unwrap();
    assert_eq!(column(&surveys, "sales_channels_label"), ["السوق الأسبوعي أو المحلي; شبكات التواصل الاجتماعي"]);
    assert_eq!(column(&book.worksheet_range("seasons").unwrap(), "country_label"), ["إسبانيا"]);
    let referrals = book.worksheet_range("referrals").unwrap();
    assert!(column(&referrals, "partner_id_label").contains(&"الوكالة الوطنية لإنعاش التشغيل والكفاءات (ANAPEC)".into()));
    assert!(column(&referrals, "outcome_label").contains(&"تمت الاستفادة".into()));
    let sessions = book.worksheet_range("sessions").unwrap();
    assert_eq!(column(&sessions, "kind_label"), ["التربية المالية"]);
    assert_eq!(column(&sessions, "module_label"), ["الادخار"]);
    assert_eq!(column(&book.worksheet_range("partners").unwrap(), "kind_label"), ["جمعية أو منظمة غير حكومية"]);

    assert_eq!(entry(&mut book, "igas", "legal_status")[0], "الوضع القانوني");
    assert_eq!(entry(&mut book, "sessions", "kind")[0], "نوع الجلسة");
    assert_eq!(entry(&mut book, "sessions", "kind_label")[0], "نوع الجلسة (التسمية)");
    assert!(entry(&mut book, "sessions", "kind")[2].contains("financial_education = التربية المالية"));
    assert!(entry(&mut book, "sessions", "module")[2].contains("savings = الادخار"));
}

#[test]
fn a_pseudonymised_workbook_labels_codes_but_names_no_partner_a_manager_typed() {
    let mut m = machine("Station");
    every_kind(&mut m);
    let mut book = workbook(&m, "fr", true);
    let referrals = book.worksheet_range("referrals").unwrap();
    let mut labels = column(&referrals, "partner_id_label");
    labels.sort();
    assert_eq!(labels, ["", "ANAPEC"], "a built-in partner by its code's label, another by nothing");
    assert!(column(&referrals, "outcome_label").contains(&"Suivie (service obtenu)".into()));
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).unwrap();
        assert!(!range.rows().flatten().any(|c| c.to_string().contains("Tawada")), "{sheet} names a partner");
    }
}

fn participation(m: &Machine) -> (u64, u64) {
    let p = m.store.indicators(&Default::default()).unwrap().results.participation.cumulative;
    (p.pre_departure_oriented.all, p.financial_education_completed.all)
}

fn attendance_rows(m: &Machine) -> usize {
    let dir = m.path.with_file_name("csv");
    report::export(&m.store, Format::Csv, false, Some(&dir)).unwrap();
    let text = std::fs::read_to_string(dir.join("attendance.csv")).unwrap();
    text.lines().count() - 1
}

#[test]
fn a_withdrawn_session_counts_nowhere_until_it_is_put_back_with_its_list_as_it_was() {
    let mut m = machine("Station");
    let amina = m.register(json!({ "first_name": "Amina" }));
    let omar = m.register(json!({ "first_name": "Omar", "sex": "M" }));
    let zahra = m.register(json!({ "first_name": "Zahra" }));
    let session = |m: &mut Machine, kind: &str, module: Option<&str>, date: &str, who: &[Uuid]| {
        let s = add(m, Entity::Session, json!({ "kind": kind, "module": module, "date": date }));
        m.store.take_attendance(s, who).unwrap();
        s
    };
    session(&mut m, "pre_departure", None, "2025-03-01", &[amina, omar]);
    let zahras = session(&mut m, "pre_departure", None, "2025-04-01", &[zahra]);
    for module in ["budget", "savings", "credit"] {
        session(&mut m, "financial_education", Some(module), "2025-05-01", &[amina]);
    }
    let last_module = session(&mut m, "financial_education", Some("remittances"), "2025-05-08", &[amina]);
    // Oriented: Amina, Omar, Zahra; Amina attended the four modules.
    assert_eq!(participation(&m), (3, 1));
    assert_eq!(attendance_rows(&m), 7);

    m.store.void_record(Entity::Session, zahras, Some("séance saisie deux fois".into())).unwrap();
    m.store.void_record(Entity::Session, last_module, Some("n'a pas eu lieu".into())).unwrap();
    assert_eq!(participation(&m), (2, 0), "Zahra no longer oriented, Amina's path no longer complete");
    assert_eq!(attendance_rows(&m), 5, "the attendance of the two withdrawn sessions is not exported");
    // The lists stay as they were taken: nobody was unticked.
    assert_eq!(
        m.store
            .records(
                Entity::Attendance,
                &wafira_core::store::records::RecordQuery { session_id: Some(zahras), ..Default::default() }
            )
            .unwrap()
            .len(),
        1
    );
    // A withdrawn session is neither corrected nor ticked.
    let refused = m.store.update_record(Entity::Session, zahras, json!({ "place": "Kénitra" })).unwrap_err();
    match refused {
        wafira_core::Error::Invalid(i) => {
            assert_eq!(i.0.iter().map(|f| (f.field.as_str(), f.code.as_str())).collect::<Vec<_>>(), [("id", "voided")])
        }
        other => panic!("not a validation error: {other}"),
    }
    assert!(m.store.take_attendance(zahras, &[zahra, amina]).is_err());

    m.store.restore_record(Entity::Session, zahras).unwrap();
    m.store.restore_record(Entity::Session, last_module).unwrap();
    assert_eq!(participation(&m), (3, 1));
    assert_eq!(attendance_rows(&m), 7);
}

/// The rows of one CSV file of a full export.
fn csv_rows(m: &Machine, file: &str) -> Vec<String> {
    let dir = m.path.with_file_name("csv-all");
    report::export(&m.store, Format::Csv, false, Some(&dir)).unwrap();
    let text = std::fs::read_to_string(dir.join(format!("{file}.csv"))).unwrap();
    text.lines().skip(1).map(str::to_string).collect()
}

/// The field errors of a refusal, as (field, code).
fn refused(err: wafira_core::Error) -> Vec<(String, String)> {
    match err {
        wafira_core::Error::Invalid(i) => i.0.iter().map(|f| (f.field.clone(), f.code.clone())).collect(),
        other => panic!("not a validation error: {other}"),
    }
}

#[test]
fn a_withdrawn_iga_and_its_surveys_count_nowhere_until_it_is_put_back() {
    let mut m = machine("Station");
    let person = |m: &mut Machine, name: &str| {
        m.register(json!({ "first_name": name, "consent_date": "2023-01-15", "baseline_income": "1000" }))
    };
    let (amina, zahra, hind) = (person(&mut m, "Amina"), person(&mut m, "Zahra"), person(&mut m, "Hind"));
    let iga = |m: &mut Machine, p: Uuid, launched: &str| {
        let iga = add(
            m,
            Entity::Iga,
            json!({ "beneficiary_id": p, "sector": "commerce", "form": "individual", "legal_status": "informal" }),
        );
        m.store
            .add_milestone_json(json!({ "beneficiary_id": p, "iga_id": iga, "kind": "iga_launched", "date": launched }))
            .unwrap();
        iga
    };
    let survey = |m: &mut Machine, iga: Uuid, date: &str, operating: bool, profit: &str| {
        add(
            m,
            Entity::IgaFollowup,
            json!({ "iga_id": iga, "date": date, "operating": operating, "not_operating_reason": "fermée",
                    "monthly_profit": profit }),
        )
    };
    // Amina's IGA operating at 12 months, Zahra's not (a loss), Hind's
    // never surveyed; a 6-month survey of Zahra's entered twice, the copy
    // withdrawn.
    let a = iga(&mut m, amina, "2023-03-01");
    let b = iga(&mut m, zahra, "2023-04-01");
    iga(&mut m, hind, "2023-05-01");
    let amina_12 = survey(&mut m, a, "2024-03-10", true, "1500");
    survey(&mut m, b, "2023-10-05", true, "300");
    let copy = survey(&mut m, b, "2023-10-06", true, "300");
    m.store.void_record(Entity::IgaFollowup, copy, Some("saisie en double".into())).unwrap();
    let zahra_12 = survey(&mut m, b, "2024-04-10", false, "-200");

    // (eligible, operating, not operating, unknown) at 12 months, the
    // surveyed and their median profit, people who launched an IGA, IGAs,
    // live milestones.
    type Seen = ((u64, u64, u64, u64), (u64, Option<String>), u64, u64, u64);
    let seen = |m: &Machine| -> Seen {
        let i = m.store.indicators(&Default::default()).unwrap();
        let s = &i.results.survival_12_months.cumulative;
        let income = &i.results.income_12_months.cumulative;
        let launched = i.key_figures.iter().find(|k| k.indicator == "iga_launched").unwrap().cumulative.all.value;
        assert_eq!(launched, Some(i.iga.launched.into()), "the key figure is the funnel's");
        (
            (s.eligible.all, s.operating.all, s.not_operating.all, s.unknown.all),
            (income.surveyed.all, income.median_profit.all.map(|d| d.to_string())),
            i.iga.launched,
            i.results.decent_work.cumulative.igas.all,
            i.data_status.records.milestones,
        )
    };
    let before: Seen = ((3, 1, 1, 1), (2, Some("650.00".into())), 3, 3, 3);
    assert_eq!(seen(&m), before);
    assert_eq!(csv_rows(&m, "iga_followups").len(), 3, "the copy withdrawn is not exported");
    assert_eq!(csv_rows(&m, "milestones").len(), 3);

    m.store.void_record(Entity::Iga, b, Some("activité saisie pour la mauvaise personne".into())).unwrap();
    // Its 12-month survey leaves the base and the median; the IGA is not
    // left in the base as unknown, nor its launch among the people's.
    assert_eq!(seen(&m), ((2, 1, 0, 1), (1, Some("1500.00".into())), 2, 2, 2));
    let s6 = m.store.indicators(&Default::default()).unwrap().results.survival_6_months.cumulative;
    // At 6 months: Amina's (its first survey after 6 months), Hind's unknown.
    assert_eq!((s6.eligible.all, s6.operating.all, s6.unknown.all), (2, 1, 1), "Zahra's 6-month survey gone with it");
    assert_eq!(m.store.profile(zahra).unwrap().stage, None, "no stage from a withdrawn IGA");
    // Neither its surveys nor its launch are exported, in the CSV files or
    // the workbook.
    let surveys = csv_rows(&m, "iga_followups");
    assert!(surveys.len() == 1 && surveys[0].starts_with(&amina_12.to_string()), "{surveys:?}");
    assert_eq!(csv_rows(&m, "milestones").len(), 2);
    assert!(!csv_rows(&m, "igas").iter().any(|r| r.starts_with(&b.to_string())));
    let mut book = workbook(&m, "fr", false);
    assert_eq!(column(&book.worksheet_range("iga_followups").unwrap(), "id"), [amina_12.to_string()]);
    // Nothing is added to it, corrected or put back under it meanwhile.
    let withdrawn = vec![("iga_id".to_string(), "withdrawn_record".to_string())];
    let err = m.store.add_record(Entity::IgaFollowup, json!({ "iga_id": b, "date": "2025-04-10", "operating": true }));
    assert_eq!(refused(err.unwrap_err()), withdrawn);
    let err = m.store.update_record(Entity::IgaFollowup, zahra_12, json!({ "monthly_profit": "-100" }));
    assert_eq!(refused(err.unwrap_err()), withdrawn);
    assert_eq!(refused(m.store.restore_record(Entity::IgaFollowup, copy).unwrap_err()), withdrawn);
    let err = m.store.add_milestone_json(
        json!({ "beneficiary_id": zahra, "iga_id": b, "kind": "sustained_12_months", "date": "2024-04-10" }),
    );
    assert_eq!(refused(err.unwrap_err()), withdrawn);
    assert!(m.store.record(Entity::IgaFollowup, zahra_12).unwrap()["archived_at"].is_null(), "kept as it was");

    m.store.restore_record(Entity::Iga, b).unwrap();
    assert_eq!(seen(&m), before);
    assert_eq!(csv_rows(&m, "iga_followups").len(), 3);
    assert_eq!(m.store.profile(zahra).unwrap().stage.map(|s| s.to_string()).as_deref(), Some("iga_launched"));
}
