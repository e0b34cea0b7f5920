//! The records of the programme's results framework, declared field by
//! field (kinds.rs): income-generating activities (IGAs) and their
//! follow-up surveys, migration seasons, referrals to partners, the
//! partners themselves, group sessions and who attended them.
//!
//! Every identifying field is optional, so what an erasure leaves of it
//! (`null`) is still a valid record.

use crate::erasure::Scrub::Null;
use crate::error::FieldError;
use crate::kinds::{not_before, province_in_region, Field, Kind, Ty, ROW_ORIGIN};
use crate::store::log::Entity;
use serde_json::{Map, Value};
use uuid::Uuid;

pub const SECTORS: &[&str] = &["agriculture", "livestock", "agrifood", "handicraft", "commerce", "services", "other"];
pub const IGA_FORMS: &[&str] = &["individual", "collective"];
pub const LEGAL_STATUSES: &[&str] = &["informal", "auto_entrepreneur", "cooperative", "company"];
pub const SOCIAL_SECURITY: &[&str] = &["none", "cnss", "amo", "cnss_amo"];
pub const SALES_CHANNELS: &[&str] =
    &["local_market", "shop", "door_to_door", "social_media", "cooperative", "wholesaler", "other"];
pub const REFERRAL_OUTCOMES: &[&str] = &["pending", "taken_up", "declined", "not_eligible", "no_answer"];
pub const PARTNER_KINDS: &[&str] =
    &["public_agency", "microfinance", "bank", "ngo", "training_centre", "local_authority", "cooperative", "other"];
pub const SESSION_KINDS: &[&str] =
    &["pre_departure", "financial_education", "entrepreneurship", "rights_at_work", "information", "other"];
/// The financial education path, in the order it is taught: a person has
/// completed financial education when she attended every module.
pub const FE_MODULES: &[&str] = &["budget", "savings", "credit", "remittances"];

/// The sources an IGA's investment came from, each its own amount field;
/// loans and grants are told apart by the source.
pub const INVESTMENT_SOURCES: &[(&str, Funding)] = &[
    ("invest_grant", Funding::Grant),
    ("invest_indh", Funding::Grant),
    ("invest_microfinance", Funding::Loan),
    ("invest_bank", Funding::Loan),
    ("invest_own", Funding::Own),
    ("invest_family", Funding::Own),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funding {
    Grant,
    Loan,
    Own,
}

const fn person() -> Field {
    Field::new("beneficiary_id", Ty::Person).required().fixed().column()
}
const fn notes() -> Field {
    Field::new("notes", Ty::Text(4000)).identifying(Null)
}

pub static IGA: Kind = Kind {
    entity: Entity::Iga,
    fields: &[
        person(),
        Field::new("activity", Ty::Text(200)),
        // A trade name may name its owner.
        Field::new("name", Ty::Text(120)).identifying(Null),
        Field::new("sector", Ty::Code("sector", SECTORS)).required().column(),
        Field::new("form", Ty::Code("iga_form", IGA_FORMS)).required().column(),
        Field::new("members", Ty::People),
        Field::new("region", Ty::Region).column(),
        Field::new("province", Ty::Province),
        Field::new("commune", Ty::Text(120)).identifying(Null),
        Field::new("legal_status", Ty::Code("legal_status", LEGAL_STATUSES)).required().column(),
        Field::new("social_security", Ty::Code("social_security", SOCIAL_SECURITY)).column(),
        Field::new("invest_grant", Ty::Money),
        Field::new("invest_indh", Ty::Money),
        Field::new("invest_microfinance", Ty::Money),
        Field::new("invest_bank", Ty::Money),
        Field::new("invest_own", Ty::Money),
        Field::new("invest_family", Ty::Money),
        Field::new("jobs_created", Ty::Int(0, 1000)),
        notes(),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[iga_rules],
};

fn iga_rules(doc: &Map<String, Value>) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = province_in_region(doc).into_iter().collect();
    let owner = doc.get("beneficiary_id").and_then(Value::as_str);
    let members = doc.get("members").and_then(Value::as_array);
    if let (Some(owner), Some(members)) = (owner, members) {
        if members.iter().any(|m| m.as_str() == Some(owner)) {
            errors.push(FieldError::new("members", "owner_is_member").with("other_field", "beneficiary_id"));
        }
    }
    if doc.get("form").and_then(Value::as_str) == Some("individual") && members.is_some_and(|m| !m.is_empty()) {
        errors.push(FieldError::new("members", "members_of_individual").with("other_field", "form"));
    }
    errors
}

pub static IGA_FOLLOWUP: Kind = Kind {
    entity: Entity::IgaFollowup,
    fields: &[
        person(),
        Field::new("iga_id", Ty::Ref(Entity::Iga)).required().fixed().column(),
        Field::new("date", Ty::Date).required().column(),
        Field::new("operating", Ty::Bool).required().column(),
        // Required when it is not operating: an erasure leaves a dash.
        Field::new("not_operating_reason", Ty::Text(500)).identifying(crate::erasure::Scrub::Dash),
        Field::new("monthly_turnover", Ty::Money),
        Field::new("monthly_profit", Ty::SignedMoney),
        Field::new("sales_channels", Ty::Codes("sales_channel", SALES_CHANNELS)),
        notes(),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[followup_rules],
};

fn followup_rules(doc: &Map<String, Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let operating = doc.get("operating").and_then(Value::as_bool);
    let has = |k: &str| doc.get(k).is_some_and(|v| !v.is_null());
    if operating == Some(false) && !has("not_operating_reason") && doc.contains_key("not_operating_reason") {
        errors.push(FieldError::new("not_operating_reason", "required").with("other_field", "operating"));
    }
    if let (Some(turnover), Some(profit)) =
        (crate::kinds::amount(doc, "monthly_turnover"), crate::kinds::amount(doc, "monthly_profit"))
    {
        if profit > turnover {
            errors.push(
                FieldError::new("monthly_profit", "profit_above_turnover").with("other_field", "monthly_turnover"),
            );
        }
    }
    errors
}

pub static SEASON: Kind = Kind {
    entity: Entity::Season,
    fields: &[
        person(),
        Field::new("year", Ty::Int(2000, 2100)).required().column(),
        Field::new("country", Ty::Country).required().column(),
        Field::new("employer", Ty::Text(200)).identifying(Null),
        Field::new("departure_date", Ty::AnyDate).column(),
        Field::new("return_date", Ty::AnyDate).column(),
        Field::new("returned_as_planned", Ty::Bool),
        notes(),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[|doc| not_before(doc, "return_date", "departure_date").into_iter().collect()],
};

pub static REFERRAL: Kind = Kind {
    entity: Entity::Referral,
    fields: &[
        person(),
        Field::new("partner_id", Ty::Ref(Entity::Partner)).required().column(),
        Field::new("date", Ty::Date).required().column(),
        Field::new("reason", Ty::Text(500)).identifying(Null),
        Field::new("outcome", Ty::Code("referral_outcome", REFERRAL_OUTCOMES)).required().column(),
        Field::new("outcome_date", Ty::Date),
        notes(),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[|doc| not_before(doc, "outcome_date", "date").into_iter().collect()],
};

pub static PARTNER: Kind = Kind {
    entity: Entity::Partner,
    fields: &[
        Field::new("name", Ty::Text(200)).required().column(),
        Field::new("kind", Ty::Code("partner_kind", PARTNER_KINDS)).required().column(),
        Field::new("region", Ty::Region),
        Field::new("contact", Ty::Text(200)),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[],
};

pub static SESSION: Kind = Kind {
    entity: Entity::Session,
    fields: &[
        Field::new("kind", Ty::Code("session_kind", SESSION_KINDS)).required().column(),
        Field::new("module", Ty::Code("fe_module", FE_MODULES)).column(),
        Field::new("date", Ty::Date).required().column(),
        Field::new("title", Ty::Text(200)),
        Field::new("region", Ty::Region).column(),
        Field::new("province", Ty::Province),
        Field::new("place", Ty::Text(200)),
        Field::new("facilitator", Ty::Text(120)),
        Field::new("partner_id", Ty::Ref(Entity::Partner)),
        Field::new("notes", Ty::Text(4000)),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[session_rules],
};

fn session_rules(doc: &Map<String, Value>) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = province_in_region(doc).into_iter().collect();
    let kind = doc.get("kind").and_then(Value::as_str);
    let module = doc.get("module").filter(|v| !v.is_null());
    if kind == Some("financial_education") && module.is_none() && doc.contains_key("module") {
        errors.push(FieldError::new("module", "required").with("other_field", "kind"));
    }
    if kind.is_some_and(|k| k != "financial_education") && module.is_some() {
        errors.push(FieldError::new("module", "module_of_other_session").with("other_field", "kind"));
    }
    errors
}

/// One person ticked on a session's list. Its id follows from the session
/// and the person, so the same person ticked at two laptops is one record.
pub static ATTENDANCE: Kind = Kind {
    entity: Entity::Attendance,
    fields: &[person(), Field::new("session_id", Ty::Ref(Entity::Session)).required().fixed().column()],
    origin_columns: ROW_ORIGIN,
    rules: &[],
};

/// Every declared kind.
pub static KINDS: [&Kind; 7] = [&IGA, &IGA_FOLLOWUP, &SEASON, &REFERRAL, &PARTNER, &SESSION, &ATTENDANCE];

/// The declared kind of `entity`, if it is one.
pub fn kind(entity: Entity) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.entity == entity)
}

/// The declarations as the window builds its forms from them: per kind,
/// its fields (name, type and its argument, required, editable,
/// identifying, answer); with a person's, whose registration form asks
/// the questions declared alone (`Field::answer`).
pub fn declarations() -> Value {
    let kinds: Map<String, Value> = KINDS
        .iter()
        .copied()
        .chain([&crate::beneficiary::KIND])
        .map(|k| {
            let fields: Vec<Value> = k
                .fields
                .iter()
                .map(|f| {
                    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut v {
                        m.insert("identifying".into(), Value::Bool(f.identifies()));
                    }
                    v
                })
                .collect();
            (k.entity.as_str().to_string(), serde_json::json!({ "fields": fields }))
        })
        .collect();
    Value::Object(kinds)
}

const NAMESPACE: Uuid = Uuid::from_u128(0x5f1e_0c2a_9b7d_4e4b_8a35_6c0d_1f2e_3a4b);

/// The id of a person's attendance at a session: the same on every laptop.
pub fn attendance_id(session: Uuid, person: Uuid) -> Uuid {
    let mut name = [0u8; 32];
    name[..16].copy_from_slice(session.as_bytes());
    name[16..].copy_from_slice(person.as_bytes());
    Uuid::new_v5(&NAMESPACE, &name)
}

/// The IGA that holds a person's milestones recorded before IGAs were
/// records of their own: the same id on every machine, so the machines
/// that create it converge on one record.
pub fn first_iga_id(person: Uuid) -> Uuid {
    Uuid::new_v5(&NAMESPACE, person.as_bytes())
}

/// The partners the programme starts with: public bodies every station
/// knows, with ids the same everywhere. A manager adds others (records
/// that travel).
pub const BUILT_IN_PARTNERS: &[(&str, &str, &str)] = &[
    ("anapec", "ANAPEC", "public_agency"),
    ("ana_moukawil_mouhajir", "ANA MOUKAWIL Mouhajir (ANAPEC)", "public_agency"),
    ("indh", "INDH", "public_agency"),
    ("cnss", "CNSS", "public_agency"),
    ("microfinance", "Microfinance", "microfinance"),
    ("training_centre", "Centre de formation", "training_centre"),
    ("local_authority", "Commune / autorité locale", "local_authority"),
];

/// The id of a built-in partner.
pub fn built_in_partner_id(code: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("partner:{code}").as_bytes())
}

/// The built-in partner with this id: its code, name and kind.
pub fn built_in_partner(id: Uuid) -> Option<(&'static str, &'static str, &'static str)> {
    BUILT_IN_PARTNERS.iter().copied().find(|(code, _, _)| built_in_partner_id(code) == id)
}

/// Where a person is in the migration cycle on `today`, from her latest
/// season (by year, then departure): before its departure, abroad until
/// its return, back after it. None when she has no season with a
/// departure date: then the phase typed at registration stands.
pub fn season_phase(
    seasons: &[(i64, Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)],
    today: chrono::NaiveDate,
) -> Option<crate::codes::Phase> {
    use crate::codes::Phase;
    let (_, departure, back) = seasons.iter().filter(|s| s.1.is_some()).max_by_key(|s| (s.0, s.1))?;
    let departure = (*departure)?;
    Some(match back {
        _ if today < departure => Phase::PreDeparture,
        Some(back) if *back <= today => Phase::Returned,
        _ => Phase::InMigration,
    })
}

/// [`season_phase`] of one person, read from her live seasons.
pub fn phase_of(
    conn: &rusqlite::Connection,
    person: Uuid,
    today: chrono::NaiveDate,
) -> crate::Result<Option<crate::codes::Phase>> {
    let mut stmt = conn.prepare_cached(
        "SELECT year, departure_date, return_date FROM season WHERE beneficiary_id = ?1 AND archived_at IS NULL",
    )?;
    let day = |s: Option<String>| s.and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    let seasons = stmt
        .query_map([person.to_string()], |r| Ok((r.get::<_, i64>(0)?, day(r.get(1)?), day(r.get(2)?))))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(season_phase(&seasons, today))
}

/// The declared kinds as docs/data-dictionary.md prints them (a test keeps
/// the file equal to this): per kind, its heading and its fields
/// (`Kind::dictionary`).
pub fn data_dictionary() -> String {
    let mut out = String::new();
    for k in KINDS {
        out.push_str(&format!("### `{}`\n\n", k.entity.as_str()));
        out.push_str(&k.dictionary());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Sector;

    #[test]
    fn declarations_hold_together() {
        for k in KINDS {
            for f in k.fields {
                assert!(
                    !(f.required && f.identifies()),
                    "{:?}.{}: an erasure must leave a valid record",
                    k.entity,
                    f.name
                );
            }
        }
        let sectors: Vec<&str> = Sector::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(sectors, SECTORS);
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let (s, p) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(attendance_id(s, p), attendance_id(s, p));
        assert_ne!(attendance_id(s, p), attendance_id(p, s));
        assert_ne!(first_iga_id(p), first_iga_id(s));
        assert_ne!(built_in_partner_id("anapec"), built_in_partner_id("indh"));
    }
}
