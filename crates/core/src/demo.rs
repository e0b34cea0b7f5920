//! Realistic synthetic data for trying the app, tests and benchmarks:
//! Moroccan names, mostly women, regions weighted towards Rabat-Salé-Kénitra
//! and Tanger-Tétouan-Al Hoceïma, and visits and IGA milestones along
//! plausible timelines. The same seed gives the same data.
//!
//! Everything goes through the same validated write path as a form.

use crate::beneficiary::BeneficiaryInput;
use crate::codes::{MilestoneKind, Phase, Sector, VisitKind};
use crate::error::Result;
use crate::milestone::MilestoneInput;
use crate::reference;
use crate::store::log::Entity;
use crate::store::{Store, Writer};
use crate::visit::VisitInput;
use chrono::{Days, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

const WOMEN: &[(&str, &str)] = &[
    ("Fatima", "فاطمة"),
    ("Fâtima", "فاطمة"),
    ("Khadija", "خديجة"),
    ("Aïcha", "عائشة"),
    ("Meryem", "مريم"),
    ("Zineb", "زينب"),
    ("Hanane", "حنان"),
    ("Naïma", "نعيمة"),
    ("Saïda", "سعيدة"),
    ("Latifa", "لطيفة"),
    ("Rachida", "رشيدة"),
    ("Fatiha", "فتيحة"),
    ("Samira", "سميرة"),
    ("Nadia", "نادية"),
    ("Malika", "مليكة"),
    ("Souad", "سعاد"),
    ("Bouchra", "بشرى"),
    ("Loubna", "لبنى"),
    ("Siham", "سهام"),
    ("Houda", "هدى"),
    ("Imane", "إيمان"),
    ("Asmae", "أسماء"),
    ("Ghizlane", "غزلان"),
    ("Hayat", "حياة"),
    ("Karima", "كريمة"),
    ("Leïla", "ليلى"),
    ("Mounia", "منية"),
    ("Najat", "نجاة"),
    ("Rkia", "رقية"),
    ("Zahra", "زهرة"),
    ("Fadma", "فاضمة"),
    ("Itto", "إيطو"),
];

const MEN: &[(&str, &str)] = &[
    ("Mohamed", "محمد"),
    ("Ahmed", "أحمد"),
    ("Youssef", "يوسف"),
    ("Abdellah", "عبد الله"),
    ("Hassan", "حسن"),
    ("Rachid", "رشيد"),
    ("Mustapha", "مصطفى"),
    ("Brahim", "إبراهيم"),
    ("Omar", "عمر"),
    ("Saïd", "سعيد"),
    ("Driss", "إدريس"),
    ("Hicham", "هشام"),
    ("Lahcen", "لحسن"),
];

const LAST: &[(&str, &str)] = &[
    ("El Idrissi", "الإدريسي"),
    ("Benali", "بنعلي"),
    ("Alaoui", "العلوي"),
    ("Bennani", "بناني"),
    ("Tazi", "التازي"),
    ("Chraïbi", "الشرايبي"),
    ("El Amrani", "العمراني"),
    ("Ouazzani", "الوزاني"),
    ("Berrada", "برادة"),
    ("Lahlou", "لحلو"),
    ("Benjelloun", "بنجلون"),
    ("Aït Benhaddou", "آيت بنحدو"),
    ("Boukhari", "البخاري"),
    ("Zerouali", "الزروالي"),
    ("El Mansouri", "المنصوري"),
    ("Haddad", "الحداد"),
    ("Sbaï", "السباعي"),
    ("Naciri", "الناصري"),
    ("Belhaj", "بلحاج"),
    ("Bouzid", "بوزيد"),
    ("Touzani", "التوزاني"),
    ("Ziani", "الزياني"),
    ("El Khattabi", "الخطابي"),
    ("Soussi", "السوسي"),
    ("Oulhaj", "أولحاج"),
    ("Ennaji", "الناجي"),
    ("Fethi", "فتحي"),
    ("Raïss", "الرايس"),
];

/// Rural communes of the provinces most people come from; elsewhere the
/// province's chief town stands in.
const COMMUNES: &[(&str, &[&str])] = &[
    ("Kénitra", &["Moulay Bousselham", "Souk El Arbaa", "Lalla Mimouna", "Sidi Mohamed Lahmar", "Mnasra"]),
    ("Sidi Kacem", &["Zirara", "Had Kourt", "Sidi Kacem"]),
    ("Sidi Slimane", &["Sidi Slimane", "Dar Bel Amri", "Kceibya"]),
    ("Larache", &["Ksar El Kébir", "Laaouamra", "Zouada", "Souk Tolba"]),
    ("Tétouan", &["Oued Laou", "Azla", "Zaitoune"]),
    ("Chefchaouen", &["Bab Taza", "Derdara", "Tanaqob"]),
    ("Ouezzane", &["Mokrisset", "Zoumi"]),
];

const TOPICS: &[&str] = &[
    "budget familial",
    "épargne",
    "plan d'affaires",
    "commercialisation",
    "coopérative",
    "microcrédit",
    "droits des travailleuses",
];

/// What was made.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoSummary {
    pub beneficiaries: usize,
    pub visits: usize,
    pub milestones: usize,
    /// The results framework's records: follow-up surveys, seasons,
    /// referrals, sessions and attendance.
    pub records: usize,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn region_code(rng: &mut ChaCha8Rng) -> String {
    let roll = rng.random_range(0..100);
    match roll {
        0..=34 => "04".into(),
        35..=59 => "01".into(),
        _ => {
            let others: Vec<&str> = reference::regions()
                .iter()
                .map(|r| r.code.as_str())
                .filter(|c| *c != "01" && *c != "04" && *c != reference::OUTSIDE_MOROCCO)
                .collect();
            pick(rng, &others).to_string()
        }
    }
}

/// People written per transaction by [`generate`]: a transaction of 100,000
/// people grew its write-ahead log past 1 GB and slowed as it grew.
pub const BATCH: usize = 1_000;

/// Adds `n` people with their visits and milestones, [`BATCH`] people per
/// transaction; dates end today. Registering people, even made-up ones, is
/// recording. The same seed gives the same people however they are batched.
pub fn generate(store: &mut Store, n: usize, seed: u64) -> Result<DemoSummary> {
    generate_in_batches(store, n, seed, BATCH, |_| {})
}

/// [`generate`], `batch` people per transaction; `progress` hears the
/// count written so far (the CLI prints it for large demos).
pub fn generate_in_batches(
    store: &mut Store,
    n: usize,
    seed: u64,
    batch: usize,
    progress: impl FnMut(usize),
) -> Result<DemoSummary> {
    batched(store, n, seed, None, batch, progress)
}

/// For benchmarks: `n` people with exactly `visits_each` visits each (spread
/// from registration to today) and the usual milestones, written through
/// the same path, `batch` people per transaction so that the write-ahead
/// log stays small; `progress` hears the count written so far.
pub fn generate_with_visits(
    store: &mut Store,
    n: usize,
    seed: u64,
    visits_each: usize,
    batch: usize,
    progress: impl FnMut(usize),
) -> Result<DemoSummary> {
    batched(store, n, seed, Some(visits_each), batch, progress)
}

fn batched(
    store: &mut Store,
    n: usize,
    seed: u64,
    visits_each: Option<usize>,
    batch: usize,
    mut progress: impl FnMut(usize),
) -> Result<DemoSummary> {
    store.require(crate::access::Action::Record)?;
    // Made-up people never mix with real ones: they go into a practice
    // database (an empty one becomes one), whose bundles no real database
    // takes.
    store.mark_practice()?;
    let mut seeded = Seeded::new(seed);
    let mut total = DemoSummary::default();
    let mut done = 0;
    while done < n {
        let chunk = batch.max(1).min(n - done);
        let s = store.write(|w| generate_in(w, chunk, &mut seeded, visits_each))?;
        total.beneficiaries += s.beneficiaries;
        total.visits += s.visits;
        total.milestones += s.milestones;
        total.records += s.records;
        done += chunk;
        progress(done);
    }
    Ok(total)
}

/// The random source of one generation, kept across its transactions.
struct Seeded {
    rng: ChaCha8Rng,
    /// The results framework's records draw from their own stream, so the
    /// people, visits and milestones of a seed stay what they were.
    more: ChaCha8Rng,
    used_cins: std::collections::HashSet<String>,
}

impl Seeded {
    fn new(seed: u64) -> Seeded {
        Seeded {
            rng: ChaCha8Rng::seed_from_u64(seed),
            more: ChaCha8Rng::seed_from_u64(seed ^ 0x0005_eed0_f4e5_u64),
            used_cins: std::collections::HashSet::new(),
        }
    }
}

fn generate_in(w: &mut Writer<'_>, n: usize, seeded: &mut Seeded, visits_each: Option<usize>) -> Result<DemoSummary> {
    let today = Store::today();
    let Seeded { rng, more, used_cins } = seeded;
    let mut summary = DemoSummary::default();
    let mut batch: Vec<(uuid::Uuid, Phase)> = Vec::with_capacity(n);
    for _ in 0..n {
        let woman = rng.random_range(0..100) < 82;
        let (first, first_ar) = *pick(rng, if woman { WOMEN } else { MEN });
        let (last, last_ar) = *pick(rng, LAST);
        let age = rng.random_range(20..58u32);
        let birth = today
            .checked_sub_months(Months::new(age * 12 + rng.random_range(0..12)))
            .and_then(|d| d.checked_sub_days(Days::new(rng.random_range(0..28))))
            .unwrap_or(today);
        let region = region_code(rng);
        let province = reference::region(&region).map(|r| pick(rng, &r.provinces).name.clone()).unwrap_or_default();
        let commune = COMMUNES
            .iter()
            .find(|(p, _)| *p == province)
            .map(|(_, cs)| pick(rng, cs).to_string())
            .unwrap_or_else(|| province.clone());
        let registered = today - Days::new(rng.random_range(30..900));
        let cin = (rng.random_range(0..100) < 70)
            .then(|| {
                let letters = ["BK", "G", "AB", "L", "K", "CD", "X", "JA"];
                format!("{}{}", pick(rng, &letters), rng.random_range(100_000..999_999))
            })
            .filter(|c| used_cins.insert(c.clone()));
        let phone = (rng.random_range(0..100) < 85).then(|| {
            format!("0{}{:08}", if rng.random_bool(0.5) { 6 } else { 7 }, rng.random_range(0..100_000_000u32))
        });
        let input = BeneficiaryInput {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            name_ar: rng.random_bool(0.6).then(|| format!("{first_ar} {last_ar}")),
            sex: Some(if woman { "F" } else { "M" }.into()),
            birth_date: Some(birth.to_string()),
            birth_date_approx: None,
            cin,
            phone,
            region: Some(region),
            province: Some(province),
            commune: Some(commune),
            douar: None,
            destination_country: Some(
                match rng.random_range(0..100) {
                    0..=79 => "ES",
                    80..=91 => "FR",
                    _ => "PT",
                }
                .into(),
            ),
            seasons_abroad: Some(rng.random_range(1..12)),
            phase: Some(
                pick(rng, &[Phase::Returned, Phase::Returned, Phase::InMigration, Phase::PreDeparture]).to_string(),
            ),
            iga_sector: Some(
                pick(
                    rng,
                    &[
                        Sector::Agriculture,
                        Sector::Agriculture,
                        Sector::Livestock,
                        Sector::Agrifood,
                        Sector::Handicraft,
                        Sector::Commerce,
                        Sector::Services,
                        Sector::Other,
                    ],
                )
                .to_string(),
            ),
            consent: Some(true),
            consent_date: Some(registered.to_string()),
            cohort: Some(format!(
                "{}-{}",
                registered.format("%Y"),
                if registered.format("%m").to_string().as_str() < "07" { "A" } else { "B" }
            )),
            notes: None,
            ..person_more(more)
        };
        let b = w.add_beneficiary(&input)?;
        summary.beneficiaries += 1;
        summary.visits += visits_for(w, rng, b.id, registered, today, visits_each)?;
        let steps = milestones_for(w, rng, b.id, registered, today)?;
        summary.milestones += steps.made;
        summary.records += programme_for(w, more, b.id, b.phase, &steps, today)?;
        batch.push((b.id, b.phase));
    }
    summary.records += sessions_for(w, more, &batch, today)?;
    Ok(summary)
}

/// The results framework's questions at registration: a baseline income
/// for most, the Washington Group questions for half (a few with a lot of
/// difficulty somewhere), a yes/no for some others.
fn person_more(rng: &mut ChaCha8Rng) -> BeneficiaryInput {
    let mut input = BeneficiaryInput::default();
    if rng.random_range(0..100) < 65 {
        input.baseline_income = Some(serde_json::Value::String(format!("{}", rng.random_range(6..40) * 100)));
    }
    match rng.random_range(0..100) {
        0..=49 => {
            let answer =
                |rng: &mut ChaCha8Rng| Some(if rng.random_range(0..100) < 4 { 3 } else { rng.random_range(1..3) });
            input.wg_seeing = answer(rng);
            input.wg_hearing = answer(rng);
            input.wg_walking = answer(rng);
            input.wg_cognition = answer(rng);
            input.wg_selfcare = answer(rng);
            input.wg_communication = answer(rng);
        }
        50..=79 => input.disability = Some(rng.random_range(0..100) < 6),
        _ => {}
    }
    input
}

/// A person's seasons (the one that gives her phase, and one before for
/// many), the IGA her milestones made given its legal details, its
/// follow-up surveys at about 6 and 12 months after launch, a referral for
/// some, and the case status of those who graduated or dropped out.
fn programme_for(
    w: &mut Writer<'_>,
    rng: &mut ChaCha8Rng,
    id: uuid::Uuid,
    phase: Phase,
    steps: &Steps,
    today: NaiveDate,
) -> Result<usize> {
    use serde_json::{json, Value};
    let mut made = 0;
    let record = |w: &mut Writer<'_>, kind: Entity, input: Value| -> Result<serde_json::Map<String, Value>> {
        match input {
            Value::Object(m) => w.add_record(kind, m),
            _ => Err(crate::Error::Other("internal: a demo record is not an object".into())),
        }
    };
    let country = *pick(rng, &["ES", "ES", "ES", "ES", "FR", "PT"]);
    let year = i64::from(chrono::Datelike::year(&today));
    let season_dates = |rng: &mut ChaCha8Rng, year: i64| {
        let departure = NaiveDate::from_ymd_opt(year as i32, rng.random_range(1..4), rng.random_range(1..28));
        let back = departure.and_then(|d| d.checked_add_months(Months::new(rng.random_range(3..7))));
        (departure, back)
    };
    // The season that puts her where her phase says.
    let (departure, back) = match phase {
        Phase::PreDeparture => (today.checked_add_days(Days::new(rng.random_range(20..120))), None),
        Phase::InMigration => (today.checked_sub_days(Days::new(rng.random_range(20..100))), None),
        Phase::Returned => season_dates(rng, year - 1),
    };
    let planned = departure.map(|d| d.checked_add_months(Months::new(5)).unwrap_or(d));
    let back = back.filter(|b| *b <= today);
    record(
        w,
        Entity::Season,
        json!({ "beneficiary_id": id, "year": departure.map_or(year, |d| i64::from(chrono::Datelike::year(&d))),
                "country": country, "departure_date": departure.map(|d| d.to_string()),
                "return_date": back.or(if phase == Phase::InMigration { planned } else { None }).map(|d| d.to_string()),
                "returned_as_planned": back.map(|_| rng.random_range(0..100) < 85) }),
    )?;
    made += 1;
    if rng.random_range(0..100) < 50 {
        let (d, b) = season_dates(rng, year - 2);
        record(
            w,
            Entity::Season,
            json!({ "beneficiary_id": id, "year": year - 2, "country": country,
                    "departure_date": d.map(|d| d.to_string()), "return_date": b.map(|d| d.to_string()),
                    "returned_as_planned": true }),
        )?;
        made += 1;
    }

    // Her IGA, if her milestones made one, and its surveys.
    let iga = crate::programme::first_iga_id(id);
    let (launched, stopped) = (steps.launched, steps.stopped);
    let mut sustained = false;
    if let Some(launched) = launched {
        let status = *pick(rng, &["informal", "informal", "informal", "auto_entrepreneur", "cooperative"]);
        let security = if status == "informal" { "none" } else { *pick(rng, &["cnss", "amo", "cnss_amo", "none"]) };
        let mut patch = serde_json::Map::new();
        patch.insert("legal_status".into(), json!(status));
        patch.insert("social_security".into(), json!(security));
        patch.insert("jobs_created".into(), json!(*pick(rng, &[0, 0, 0, 1, 1, 2, 3])));
        patch.insert("invest_grant".into(), json!(format!("{}", rng.random_range(10..40) * 500)));
        if rng.random_range(0..100) < 40 {
            patch.insert("invest_microfinance".into(), json!(format!("{}", rng.random_range(4..30) * 500)));
        }
        patch.insert("invest_own".into(), json!(format!("{}", rng.random_range(0..10) * 200)));
        w.correct_record(Entity::Iga, iga, &patch)?;
        for months in [6, 12] {
            // Some surveys are not done: their status stays unknown.
            if rng.random_range(0..100) < 25 {
                continue;
            }
            let Some(date) = launched
                .checked_add_months(Months::new(months))
                .map(|d| d + Days::new(rng.random_range(0..40)))
                .filter(|d| *d <= today)
            else {
                continue;
            };
            let operating = stopped.is_none_or(|s| s > date);
            let turnover = rng.random_range(15..120) * 100;
            let profit = if operating { rng.random_range(-3..(turnover / 100 / 2).max(1)) * 100 } else { 0 };
            let channels: Vec<&str> = ["local_market", "shop", "door_to_door", "social_media", "cooperative"]
                .into_iter()
                .filter(|_| rng.random_range(0..100) < 35)
                .collect();
            let survey = if operating {
                json!({ "iga_id": iga, "date": date.to_string(), "operating": true,
                        "monthly_turnover": format!("{turnover}"), "monthly_profit": format!("{profit}"),
                        "sales_channels": channels })
            } else {
                json!({ "iga_id": iga, "date": date.to_string(), "operating": false,
                        "not_operating_reason": "activité arrêtée (ventes insuffisantes)" })
            };
            record(w, Entity::IgaFollowup, survey)?;
            made += 1;
            sustained |= months == 12 && operating;
        }
    }

    // A referral to a partner for a quarter of the people.
    if rng.random_range(0..100) < 25 {
        let (code, _, _) = *pick(rng, crate::programme::BUILT_IN_PARTNERS);
        let date = today - Days::new(rng.random_range(15..400));
        let outcome = *pick(rng, &["pending", "taken_up", "taken_up", "declined", "not_eligible", "no_answer"]);
        record(
            w,
            Entity::Referral,
            json!({ "beneficiary_id": id, "partner_id": crate::programme::built_in_partner_id(code),
                    "date": date.to_string(), "outcome": outcome,
                    "outcome_date": (outcome != "pending").then(|| (date + Days::new(20)).min(today).to_string()) }),
        )?;
        made += 1;
    }

    // Graduated after a sustained IGA, for some; a few dropped out.
    let status = match rng.random_range(0..100) {
        0..=3 => Some(("dropped_out", Some("ne souhaite plus être suivi·e"))),
        _ if sustained && rng.random_range(0..100) < 40 => Some(("graduated", None)),
        _ => None,
    };
    if let Some((status, reason)) = status {
        let mut input = w.beneficiary(id)?.to_input();
        input.status = Some(status.into());
        input.status_date = Some((today - Days::new(rng.random_range(1..60))).to_string());
        input.status_reason = reason.map(str::to_string);
        let current = w.beneficiary(id)?;
        let new = input.validate(
            today,
            crate::beneficiary::Origin { id, created_at: current.created_at.clone(), created_by: current.created_by },
        )?;
        w.save_edit(&current, &new)?;
        made += 1;
    }
    Ok(made)
}

/// Group sessions of a batch: a pre-departure orientation for those about
/// to leave and the financial education path (its modules a week apart),
/// each attended by some of the batch.
fn sessions_for(
    w: &mut Writer<'_>,
    rng: &mut ChaCha8Rng,
    batch: &[(uuid::Uuid, Phase)],
    today: NaiveDate,
) -> Result<usize> {
    use serde_json::{json, Value};
    let mut made = 0;
    let session = |w: &mut Writer<'_>, input: Value, people: &[uuid::Uuid]| -> Result<usize> {
        let Value::Object(m) = input else { return Ok(0) };
        let s = w.add_record(Entity::Session, m)?;
        let sid = s.get("id").cloned().unwrap_or(Value::Null);
        for p in people {
            let mut a = serde_json::Map::new();
            a.insert("session_id".into(), sid.clone());
            a.insert("beneficiary_id".into(), json!(p));
            w.add_record(Entity::Attendance, a)?;
        }
        Ok(1 + people.len())
    };
    for group in batch.chunks(25) {
        let start = today - Days::new(rng.random_range(40..400));
        let leaving: Vec<uuid::Uuid> = group.iter().filter(|(_, p)| *p != Phase::Returned).map(|(id, _)| *id).collect();
        if !leaving.is_empty() {
            made += session(
                w,
                json!({ "kind": "pre_departure", "date": start.to_string(), "place": "Dar Taliba",
                        "facilitator": "Équipe Wafira", "partner_id": crate::programme::built_in_partner_id("anapec") }),
                &leaving,
            )?;
        }
        let learners: Vec<uuid::Uuid> =
            group.iter().map(|(id, _)| *id).filter(|_| rng.random_range(0..100) < 55).collect();
        for (i, module) in crate::programme::FE_MODULES.iter().enumerate() {
            let date = start + Days::new(7 * (i as u64 + 1));
            if date > today {
                break;
            }
            // A few miss a module: they have not completed the path.
            let present: Vec<uuid::Uuid> = learners.iter().copied().filter(|_| rng.random_range(0..100) < 90).collect();
            made += session(
                w,
                json!({ "kind": "financial_education", "module": module, "date": date.to_string(),
                        "place": "Maison des jeunes", "facilitator": "Équipe Wafira" }),
                &present,
            )?;
        }
    }
    Ok(made)
}

fn visits_for(
    w: &mut Writer<'_>,
    rng: &mut ChaCha8Rng,
    id: uuid::Uuid,
    from: NaiveDate,
    today: NaiveDate,
    each: Option<usize>,
) -> Result<usize> {
    let count = each.unwrap_or_else(|| match rng.random_range(0..100) {
        0..=9 => 0,
        10..=79 => rng.random_range(1..6),
        _ => rng.random_range(6..14),
    });
    // A fixed count is spread evenly up to today (registration is at least
    // 30 days back); otherwise visits come every one to ten weeks.
    let step = each.map(|k| ((today - from).num_days().max(1) as u64 / k.max(1) as u64).max(1));
    let mut date = from;
    let mut made = 0;
    for i in 0..count {
        date = date + Days::new(step.unwrap_or_else(|| rng.random_range(7..75)));
        if date > today {
            break;
        }
        let kind = if i == 0 { VisitKind::PreDepartureOrientation } else { *pick(rng, VisitKind::ALL) };
        let next = (rng.random_range(0..100) < 60).then(|| date + Days::new(rng.random_range(14..60)));
        w.add_visit(&VisitInput {
            beneficiary_id: Some(id.to_string()),
            date: Some(date.to_string()),
            kind: Some(kind.to_string()),
            location: Some("domicile".into()),
            duration_minutes: Some(rng.random_range(2..12) * 10),
            topics: Some(vec![pick(rng, TOPICS).to_string()]),
            notes: None,
            next_steps: None,
            next_visit_date: next.map(|d| d.to_string()),
            coordinator: None,
        })?;
        made += 1;
    }
    Ok(made)
}

/// A lifecycle step of the demo: kind, chance in %, months after the
/// previous step, range of the amount (MAD) if it has one.
type Step = (MilestoneKind, u32, u32, Option<(i64, i64)>);

fn milestones_for(
    w: &mut Writer<'_>,
    rng: &mut ChaCha8Rng,
    id: uuid::Uuid,
    from: NaiveDate,
    today: NaiveDate,
) -> Result<Steps> {
    use MilestoneKind::*;
    // Fewer people reach each later step; months after the previous one.
    // (step, chance in % of reaching it, months after the previous, amount range)
    let steps: &[Step] = &[
        (BusinessPlan, 80, 1, None),
        (TrainingCompleted, 85, 1, None),
        (FinancingRequested, 80, 1, Some((5_000, 40_000))),
        (FinancingObtained, 75, 2, Some((5_000, 30_000))),
        (EquipmentAcquired, 85, 1, None),
        (IgaLaunched, 90, 1, None),
        (FirstSale, 90, 1, Some((300, 4_000))),
        (Operating6Months, 85, 6, Some((800, 6_000))),
        (Sustained12Months, 85, 6, Some((800, 8_000))),
    ];
    let mut date = from;
    let mut launched: Option<NaiveDate> = None;
    let mut stopped: Option<NaiveDate> = None;
    let mut made = 0;
    for (kind, chance, months, amount) in steps {
        if rng.random_range(0..100) >= *chance {
            if launched.is_some() && rng.random_range(0..100) < 40 {
                let stop = date + Days::new(rng.random_range(20..120));
                if stop <= today {
                    add_milestone(w, id, IgaStopped, stop, None, Some("baisse des ventes"))?;
                    stopped = Some(stop);
                    made += 1;
                }
            }
            break;
        }
        let mut next =
            date.checked_add_months(Months::new(*months)).unwrap_or(date) + Days::new(rng.random_range(0..25));
        if let (Some(l), Operating6Months | Sustained12Months) = (launched, kind) {
            let min = l.checked_add_months(Months::new(if *kind == Operating6Months { 6 } else { 12 })).unwrap_or(l);
            next = next.max(min);
        }
        if next > today {
            break;
        }
        date = next;
        if *kind == IgaLaunched {
            launched = Some(date);
        }
        let amount = amount
            .map(|(lo, hi)| format!("{}.{:02}", rng.random_range(lo..hi), if rng.random_bool(0.2) { 50 } else { 0 }));
        add_milestone(w, id, *kind, date, amount, None)?;
        made += 1;
    }
    Ok(Steps { made, launched, stopped })
}

/// What [`milestones_for`] recorded of a person's first IGA.
struct Steps {
    made: usize,
    launched: Option<NaiveDate>,
    stopped: Option<NaiveDate>,
}

fn add_milestone(
    w: &mut Writer<'_>,
    id: uuid::Uuid,
    kind: MilestoneKind,
    date: NaiveDate,
    amount: Option<String>,
    reason: Option<&str>,
) -> Result<()> {
    w.add_milestone(&MilestoneInput {
        iga_id: None,
        beneficiary_id: Some(id.to_string()),
        kind: Some(kind.to_string()),
        date: Some(date.to_string()),
        amount: amount.map(serde_json::Value::String),
        reason: reason.map(str::to_string),
        notes: None,
    })?;
    Ok(())
}
