//! A small hand-made programme whose every indicator was counted by hand
//! (see the comments), shared by the report tests. Indicators are computed
//! as of `AS_OF`, a fixed day, so the expected values never move.
#![allow(dead_code)] // each test file uses its own part of this module

use chrono::NaiveDate;
use serde_json::{json, Value};
use tempfile::TempDir;
use uuid::Uuid;
use wafira_core::report::indicators::{compute, Filters};
use wafira_core::report::{FiltersInput, Indicators};
use wafira_core::Store;

pub const AS_OF: &str = "2025-01-01";

pub fn as_of() -> NaiveDate {
    AS_OF.parse().unwrap()
}

pub struct Programme {
    pub dir: TempDir,
    pub store: Store,
    /// Name → id.
    pub ids: std::collections::BTreeMap<&'static str, Uuid>,
}

impl Programme {
    pub fn id(&self, name: &str) -> Uuid {
        self.ids[name]
    }

    pub fn indicators(&self, filters: Value) -> Indicators {
        let f: FiltersInput = serde_json::from_value(filters).unwrap();
        compute(&self.store, &f.validate().unwrap(), as_of()).unwrap()
    }

    pub fn all(&self) -> Indicators {
        compute(&self.store, &Filters::default(), as_of()).unwrap()
    }
}

#[allow(clippy::too_many_arguments)]
fn person(
    store: &mut Store,
    first: &str,
    last: &str,
    name_ar: Option<&str>,
    sex: &str,
    region: &str,
    cohort: Option<&str>,
    country: Option<&str>,
    sector: Option<&str>,
    phase: &str,
    consent: &str,
) -> Uuid {
    let b = store
        .add_beneficiary_json(json!({
            "first_name": first, "last_name": last, "name_ar": name_ar, "sex": sex,
            "birth_date": "1985-05-05", "region": region, "cohort": cohort,
            "destination_country": country, "iga_sector": sector, "phase": phase,
            "consent": true, "consent_date": consent, "phone": null,
        }))
        .unwrap();
    b.id
}

pub fn visit(store: &mut Store, who: Uuid, date: &str, kind: &str) -> Uuid {
    store.add_visit_json(json!({"beneficiary_id": who, "date": date, "kind": kind})).unwrap().id
}

pub fn milestone(store: &mut Store, who: Uuid, kind: &str, date: &str, amount: Option<&str>) -> Uuid {
    let reason = (kind == "iga_stopped").then_some("baisse des ventes");
    store
        .add_milestone_json(
            json!({"beneficiary_id": who, "kind": kind, "date": date, "amount": amount, "reason": reason}),
        )
        .unwrap()
        .id
}

/// Five people counted (A, B, C, D, E) and one archived (X):
///
/// | | sex | region | cohort | country | sector | phase | registered |
/// |---|---|---|---|---|---|---|---|
/// | A | F | 04 | 2024-A | ES | agriculture | returned | 2024-01-10 |
/// | B | F | 04 | 2024-A | FR | commerce | in_migration | 2024-02-15 |
/// | C | M | 01 | 2024-B | ES | livestock | returned | 2024-03-20 |
/// | D | F | 01 | 2024-B | — | — | pre_departure | 2024-07-01 |
/// | E | F | 04 | — | ES | agriculture | returned | 2023-11-05 |
/// | X | F | 04 | 2024-A | ES | — | returned | 2024-01-20, archived |
///
/// Visits: A 2024-02-01 coaching, 2024-03-01 financial education,
/// 2024-10-15 follow-up; B 2024-03-10 financial education; C 2024-04-05
/// group training; E 2023-12-01 coaching, 2024-06-10 phone call; X one
/// (archived with her).
///
/// Milestones: A business plan 02-10, financing requested 02-20 (20 000),
/// obtained 03-15 (12 500.00), launched 04-01, first sale 04-20; B business
/// plan 03-01, obtained 05-01 (8 000.50), launched 06-01; C business plan
/// 04-10, launched 05-10, stopped 09-01; E business plan 2023-11-20,
/// obtained 2023-12-10 (30 000), launched 2023-12-20, sustained 2024-12-20.
pub fn programme() -> Programme {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        Store::open_with_key(dir.path().join("wafira.sqlite"), &wafira_core::accounts::DbKey::from_bytes([7; 32]))
            .unwrap();
    store.init_device("Portable Kénitra", "Samira").unwrap();
    let s = &mut store;
    let a = person(
        s,
        "Aïcha",
        "Benali",
        Some("عائشة بنعلي"),
        "F",
        "04",
        Some("2024-A"),
        Some("ES"),
        Some("agriculture"),
        "returned",
        "2024-01-10",
    );
    let b = person(
        s,
        "Bouchra",
        "Tazi",
        None,
        "F",
        "04",
        Some("2024-A"),
        Some("FR"),
        Some("commerce"),
        "in_migration",
        "2024-02-15",
    );
    let c = person(
        s,
        "Chakib",
        "Alaoui",
        Some("شكيب العلوي"),
        "M",
        "01",
        Some("2024-B"),
        Some("ES"),
        Some("livestock"),
        "returned",
        "2024-03-20",
    );
    let d = person(
        s,
        "Dounia",
        "Sbaï",
        Some("دنيا السباعي"),
        "F",
        "01",
        Some("2024-B"),
        None,
        None,
        "pre_departure",
        "2024-07-01",
    );
    let e = person(
        s,
        "Fatima",
        "El Idrissi",
        Some("فاطمة الإدريسي"),
        "F",
        "04",
        None,
        Some("ES"),
        Some("agriculture"),
        "returned",
        "2023-11-05",
    );
    let x = person(s, "Xénia", "Archivée", None, "F", "04", Some("2024-A"), Some("ES"), None, "returned", "2024-01-20");

    visit(s, a, "2024-02-01", "individual_coaching");
    visit(s, a, "2024-03-01", "financial_education");
    visit(s, a, "2024-10-15", "follow_up");
    visit(s, b, "2024-03-10", "financial_education");
    visit(s, c, "2024-04-05", "group_training");
    visit(s, e, "2023-12-01", "individual_coaching");
    visit(s, e, "2024-06-10", "phone_call");
    visit(s, x, "2024-02-02", "individual_coaching");

    milestone(s, a, "business_plan", "2024-02-10", None);
    milestone(s, a, "financing_requested", "2024-02-20", Some("20000"));
    milestone(s, a, "financing_obtained", "2024-03-15", Some("12500.00"));
    milestone(s, a, "iga_launched", "2024-04-01", None);
    milestone(s, a, "first_sale", "2024-04-20", Some("900"));
    milestone(s, b, "business_plan", "2024-03-01", None);
    milestone(s, b, "financing_obtained", "2024-05-01", Some("8000.50"));
    milestone(s, b, "iga_launched", "2024-06-01", None);
    milestone(s, c, "business_plan", "2024-04-10", None);
    milestone(s, c, "iga_launched", "2024-05-10", None);
    milestone(s, c, "iga_stopped", "2024-09-01", None);
    milestone(s, e, "business_plan", "2023-11-20", None);
    milestone(s, e, "financing_obtained", "2023-12-10", Some("30000"));
    milestone(s, e, "iga_launched", "2023-12-20", None);
    milestone(s, e, "sustained_12_months", "2024-12-20", None);
    milestone(s, x, "iga_launched", "2024-03-01", None);

    store.archive_beneficiary(x, Some("inscrite par erreur".into())).unwrap();
    let ids = [("A", a), ("B", b), ("C", c), ("D", d), ("E", e), ("X", x)].into_iter().collect();
    Programme { dir, store, ids }
}

/// `(code, count)` pairs of a breakdown, `None` codes as "-".
pub fn pairs(counts: &[wafira_core::report::indicators::Count]) -> Vec<(String, u64)> {
    counts.iter().map(|c| (c.code.clone().unwrap_or_else(|| "-".into()), c.count)).collect()
}
