//! Exports of the live records: CSV (UTF-8 with a BOM so that Excel reads
//! accents right; one file per table) and XLSX (a sheet per table plus one
//! of indicators).
//!
//! The pseudonymised variant is for sharing outside the programme: no
//! names, CIN, phone, exact birth date (the birth year instead), village,
//! commune or free text (notes, places, reasons, coordinators' names), no
//! laptop names or ids, dates only to the month (`2025-03`), and
//! stable pseudonymous ids: a keyed hash (HMAC-SHA-256) of the record id
//! with a secret kept in this database's `meta`, so that the same person
//! has the same pseudonym in every export of this database and nobody
//! without the database can tell who she is.

use super::indicators::{Filters, Indicators};
use super::words::Words;
use crate::beneficiary::Beneficiary;
use crate::error::{Error, Result};
use crate::milestone::Milestone;
use crate::progress::{Progress, What};
use crate::store::{meta_get, meta_set, Store};
use crate::target::Target;
use crate::visit::Visit;
use chrono::{Datelike, NaiveDate};
use rusqlite::Connection;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Date(NaiveDate),
    /// MAD, exact.
    Amount(Decimal),
    Bool(bool),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    fn opt(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    /// A date told only to the month, `2025-03`: for outsiders.
    fn month(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, |d| Cell::Text(d.format("%Y-%m").to_string()))
    }

    fn date(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }

    /// The CSV form: exact decimals, ISO dates.
    fn to_csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => crate::text::csv_safe(s),
            Cell::Int(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Amount(a) => format!("{a:.2}"),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

/// A table as exported: its name (file or sheet), headers and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// The file (XLSX) or folder (CSV) written.
    pub path: PathBuf,
    /// The files written (CSV) or the sheets (XLSX).
    pub parts: Vec<String>,
    pub beneficiaries: usize,
    pub visits: usize,
    pub milestones: usize,
    pub targets: usize,
    pub pseudonymised: bool,
}

/// Makes pseudonyms with this database's secret key.
struct Pseudonyms {
    key: Vec<u8>,
}

impl Pseudonyms {
    const META_KEY: &'static str = "report.pseudonym_key";

    /// The database's key, made (random, 256 bits) the first time.
    fn of(conn: &Connection) -> Result<Pseudonyms> {
        let hex = match meta_get(conn, Self::META_KEY)? {
            Some(k) => k,
            None => {
                let mut bytes = Vec::with_capacity(32);
                bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                let k: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                meta_set(conn, Self::META_KEY, &k)?;
                k
            }
        };
        Ok(Pseudonyms { key: hex.into_bytes() })
    }

    /// `P-3f9a…` (12 hex digits) for a record id; `prefix` names the kind.
    fn of_id(&self, prefix: &str, id: &uuid::Uuid) -> String {
        use hmac::{Hmac, Mac};
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return format!("{prefix}-{id}"),
        };
        mac.update(prefix.as_bytes());
        mac.update(b":");
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("{prefix}-{hex}")
    }
}

fn docs<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let texts = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for t in texts {
        out.push(serde_json::from_str(&t?)?);
    }
    Ok(out)
}

/// What the store derives for a person (stage, visits), with her record.
struct PersonRow {
    b: Beneficiary,
    stage: Option<String>,
    last_visit: Option<NaiveDate>,
    next_visit: Option<NaiveDate>,
    visits: i64,
}

fn people(conn: &Connection) -> Result<Vec<PersonRow>> {
    let mut stmt = conn.prepare(
        "SELECT doc, stage, last_visit_date, next_visit_date, visit_count FROM beneficiary
         WHERE archived_at IS NULL ORDER BY sort_name, id",
    )?;
    let raw = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let date = |s: Option<String>| s.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    let mut out = Vec::new();
    for row in raw {
        let (doc, stage, last, next, visits) = row?;
        out.push(PersonRow {
            b: serde_json::from_str(&doc)?,
            stage,
            last_visit: date(last),
            next_visit: date(next),
            visits,
        });
    }
    Ok(out)
}

/// The four tables of the live records, pseudonymised or not, without
/// filters, codes alone.
pub fn tables(store: &Store, pseudonymise: bool) -> Result<Vec<Table>> {
    tables_for(store, pseudonymise, &Filters::default(), None)
}

/// The four tables of the records `filters` admit, as on the dashboard:
/// the people within region, cohort and sex registered in the period;
/// the visits and milestones of people within region, cohort and sex
/// dated in the period; every target; then a table per declared kind
/// (`declared_table`). With `labels`, each code column is followed by its
/// label in that language (`sex`, `sex_label`; a declared kind's from its
/// declaration: `legal_status`, `legal_status_label`).
pub fn tables_for(store: &Store, pseudonymise: bool, filters: &Filters, labels: Option<&Words>) -> Result<Vec<Table>> {
    let conn = store.conn();
    let p = if pseudonymise { Some(Pseudonyms::of(conn)?) } else { None };
    let person_id = |id: &uuid::Uuid| match &p {
        Some(p) => p.of_id("P", id),
        None => id.to_string(),
    };
    let record_id = |prefix: &str, id: &uuid::Uuid| match &p {
        Some(p) => p.of_id(prefix, id),
        None => id.to_string(),
    };

    let mut people = people(conn)?;
    // Whose visits and milestones go out: within region, cohort and sex.
    let admitted: std::collections::HashSet<uuid::Uuid> =
        people.iter().filter(|r| filters.admits_person(&r.b)).map(|r| r.b.id).collect();
    people.retain(|r| filters.counts_person(&r.b));
    // The people's, visits' and milestones' columns follow their
    // declarations (`Field::export`): a field added there is exported.
    let id_of = |prefix: &str, id: &uuid::Uuid| match prefix {
        "P" => person_id(id),
        _ => record_id(prefix, id),
    };
    let person_fields = exported(&crate::beneficiary::KIND, pseudonymise);
    let mut headers = vec![if pseudonymise { "pseudonym" } else { "id" }];
    headers.extend(person_fields.iter().map(|(h, _)| *h));
    if pseudonymise {
        headers.extend(["stage", "last_visit_month", "next_visit_month", "visit_count"]);
    } else {
        headers.extend(["created_at", "created_by", "stage", "last_visit_date", "next_visit_date", "visit_count"]);
    }
    let mut rows = Vec::with_capacity(people.len());
    for r in &people {
        let b = &r.b;
        let doc = record_doc(b)?;
        let mut row = vec![Cell::text(person_id(&b.id))];
        for (_, f) in &person_fields {
            row.push(match f.name {
                // Only the year to outsiders, and when only the year is known.
                "birth_date" if pseudonymise => Cell::Int(i64::from(b.birth_date.year())),
                "birth_date" => b.approx_birth_year().map_or(Cell::Date(b.birth_date), |y| Cell::Int(i64::from(y))),
                "birth_date_approx" => Cell::Bool(b.birth_date_approx),
                _ => cell_of(f.ty, doc.get(f.name).unwrap_or(&Value::Null), pseudonymise, &id_of),
            });
        }
        if pseudonymise {
            row.extend([Cell::opt(r.stage.clone()), Cell::month(r.last_visit), Cell::month(r.next_visit)]);
        } else {
            row.extend([
                Cell::text(&b.created_at),
                Cell::text(b.created_by.to_string()),
                Cell::opt(r.stage.clone()),
                Cell::date(r.last_visit),
                Cell::date(r.next_visit),
            ]);
        }
        row.push(Cell::Int(r.visits));
        rows.push(row);
    }
    let beneficiaries = Table { name: "beneficiaries", headers, rows };

    // Visits and milestones of live people only (an archived person's
    // records go with her), milestones of live IGAs only (a withdrawn
    // IGA's steps count nowhere until it is put back).
    let mut visits: Vec<Visit> = docs(
        conn,
        "SELECT v.doc FROM visit v JOIN beneficiary b ON b.id = v.beneficiary_id
         WHERE v.archived_at IS NULL AND b.archived_at IS NULL ORDER BY v.date, v.created_at, v.id",
    )?;
    visits.retain(|v| admitted.contains(&v.beneficiary_id) && filters.in_period(v.date));
    let visits = typed_table("visits", "V", &crate::visit::KIND, &visits, |v| v.id, pseudonymise, &id_of)?;

    let mut milestones: Vec<Milestone> = docs(
        conn,
        &format!(
            "SELECT m.doc FROM milestone m JOIN beneficiary b ON b.id = m.beneficiary_id
             WHERE m.archived_at IS NULL AND b.archived_at IS NULL AND {}
             ORDER BY m.date, m.created_at, m.id",
            super::indicators::OF_LIVE_IGA
        ),
    )?;
    milestones.retain(|m| admitted.contains(&m.beneficiary_id) && filters.in_period(m.date));
    let milestones =
        typed_table("milestones", "M", &crate::milestone::KIND, &milestones, |m| m.id, pseudonymise, &id_of)?;

    let targets: Vec<Target> = super::targets::list(conn)?;
    let targets = Table {
        name: "targets",
        headers: vec!["id", "indicator", "region", "year", "sex", "baseline", "target", "created_at"],
        rows: targets
            .iter()
            .map(|t| {
                vec![
                    Cell::text(t.id.to_string()),
                    Cell::text(&t.indicator),
                    Cell::opt(t.region.clone()),
                    t.year.map_or(Cell::Empty, |y| Cell::Int(i64::from(y))),
                    Cell::opt(t.sex.map(|s| s.as_str().to_string())),
                    t.baseline.map_or(Cell::Empty, |b| Cell::Text(b.to_string())),
                    Cell::Text(t.target.to_string()),
                    Cell::text(&t.created_at),
                ]
            })
            .collect(),
    };
    let mut tables = vec![beneficiaries, visits, milestones, targets];
    if let Some(words) = labels {
        tables = tables.into_iter().map(|t| labelled(t, words)).collect();
    }
    // The declared kinds label their own code fields, from the declaration.
    for kind in crate::programme::KINDS {
        tables.push(declared_table(conn, kind, pseudonymise, &admitted, filters, labels, &id_of)?);
    }
    Ok(tables)
}

/// The fields of a typed kind's sheet, from its declaration: each field
/// the export shows, with its header there.
fn exported(
    kind: &'static crate::kinds::Kind,
    pseudonymise: bool,
) -> Vec<(&'static str, &'static crate::kinds::Field)> {
    kind.fields.iter().filter_map(|f| f.export_header(pseudonymise).map(|h| (h, f))).collect()
}

/// A record as its row's JSON.
fn record_doc<T: Serialize>(record: &T) -> Result<serde_json::Map<String, Value>> {
    match serde_json::to_value(record)? {
        Value::Object(m) => Ok(m),
        _ => Err(Error::Other("internal: a record is not a JSON object".into())),
    }
}

/// The sheet of a typed kind's records other than people (visits,
/// milestones): its id (keyed with `prefix` when pseudonymised), the
/// fields its declaration exports, and when it was recorded.
fn typed_table<T: Serialize>(
    name: &'static str,
    prefix: &str,
    kind: &'static crate::kinds::Kind,
    records: &[T],
    id: impl Fn(&T) -> uuid::Uuid,
    pseudonymise: bool,
    id_of: &dyn Fn(&str, &uuid::Uuid) -> String,
) -> Result<Table> {
    let fields = exported(kind, pseudonymise);
    let mut headers = vec![if pseudonymise { "pseudonym" } else { "id" }];
    headers.extend(fields.iter().map(|(h, _)| *h));
    if !pseudonymise {
        headers.push("created_at");
    }
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        let doc = record_doc(record)?;
        let mut row = vec![Cell::Text(id_of(prefix, &id(record)))];
        for (_, f) in &fields {
            row.push(cell_of(f.ty, doc.get(f.name).unwrap_or(&Value::Null), pseudonymise, id_of));
        }
        if !pseudonymise {
            row.push(Cell::opt(doc.get("created_at").and_then(Value::as_str).map(str::to_string)));
        }
        rows.push(row);
    }
    Ok(Table { name, headers, rows })
}

/// The cell of a declared field's value: a date as a date (to the month
/// only when pseudonymised), a whole number as a number, an amount as an
/// exact amount, a list joined by `; `, an id of a person or a record
/// keyed when pseudonymised (`id_of`), anything else as its text.
fn cell_of(ty: crate::kinds::Ty, v: &Value, pseudonymise: bool, id_of: &dyn Fn(&str, &uuid::Uuid) -> String) -> Cell {
    use crate::kinds::Ty;
    use crate::store::log::Entity;
    let uuid = |v: &Value| v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok());
    let day = |v: &Value| v.as_str().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let prefix_of = |e: Entity| match e {
        Entity::Iga => "I",
        Entity::Session => "G",
        Entity::Partner => "O",
        _ => "X",
    };
    match (ty, v) {
        (_, Value::Null) => Cell::Empty,
        (Ty::Date | Ty::AnyDate, v) if pseudonymise => Cell::month(day(v)),
        (Ty::Date | Ty::AnyDate, v) => Cell::date(day(v)),
        (Ty::Int(..), v) => v.as_i64().map_or(Cell::Empty, Cell::Int),
        (Ty::Money | Ty::SignedMoney, v) => {
            v.as_str().and_then(|s| s.parse::<Decimal>().ok()).map_or(Cell::Empty, Cell::Amount)
        }
        (Ty::Bool, v) => v.as_bool().map_or(Cell::Empty, Cell::Bool),
        (Ty::Codes(..) | Ty::Texts(_), v) => Cell::text(
            v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")).unwrap_or_default(),
        ),
        (Ty::Person, v) => uuid(v).map_or(Cell::Empty, |i| Cell::Text(id_of("P", &i))),
        (Ty::People, v) => Cell::Text(
            v.as_array()
                .map(|a| a.iter().filter_map(uuid).map(|i| id_of("P", &i)).collect::<Vec<_>>().join("; "))
                .unwrap_or_default(),
        ),
        // A partner is no one: its id as it is.
        (Ty::Ref(e), v) if e != Entity::Partner => uuid(v).map_or(Cell::Empty, |i| Cell::Text(id_of(prefix_of(e), &i))),
        (_, v) => Cell::opt(v.as_str().map(str::to_string)),
    }
}

/// The declared field of a typed kind's sheet (people, visits,
/// milestones) that a column holds, by its header in either export.
fn typed_field(table: &str, column: &str) -> Option<&'static crate::kinds::Field> {
    let kind = match table {
        "beneficiaries" => &crate::beneficiary::KIND,
        "visits" => &crate::visit::KIND,
        "milestones" => &crate::milestone::KIND,
        _ => return None,
    };
    kind.fields.iter().find(|f| f.export_header(false) == Some(column) || f.export_header(true) == Some(column))
}

/// The sheet (or CSV file) name of a declared kind and the letter its
/// pseudonyms start with.
fn declared_sheet(entity: crate::store::log::Entity) -> (&'static str, &'static str) {
    use crate::store::log::Entity;
    match entity {
        Entity::Iga => ("igas", "I"),
        Entity::IgaFollowup => ("iga_followups", "F"),
        Entity::Season => ("seasons", "S"),
        Entity::Referral => ("referrals", "R"),
        Entity::Partner => ("partners", "O"),
        Entity::Session => ("sessions", "G"),
        _ => ("attendance", "A"),
    }
}

/// The declared field a column of a declared kind's sheet holds.
fn declared_field(table: &str, column: &str) -> Option<(&'static crate::kinds::Kind, &'static crate::kinds::Field)> {
    let kind = crate::programme::KINDS.iter().copied().find(|k| declared_sheet(k.entity).0 == table)?;
    Some((kind, kind.field(column)?))
}

/// Whether a declared field holds codes a label names (a closed list, a
/// region, province or country, a partner), so that a workbook puts
/// `<field>_label` after it.
fn has_label(ty: crate::kinds::Ty) -> bool {
    use crate::kinds::Ty;
    matches!(
        ty,
        Ty::Code(..)
            | Ty::Codes(..)
            | Ty::Country
            | Ty::Origin
            | Ty::Region
            | Ty::Province
            | Ty::Ref(crate::store::log::Entity::Partner)
    )
}

/// `<field>_label`, made once per declared field (a table's headers are
/// `&'static str`; there are as many as declared fields, no more).
fn label_header(field: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static MADE: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut made = MADE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    made.entry(field).or_insert_with(|| Box::leak(format!("{field}_label").into_boxed_str()))
}

/// The label of a declared field's value in `w`'s language, as the window
/// shows it (records.js `recordValue`): a code by `code.<list>.<code>`
/// (several joined by `; `), a region, province or country by its name, a
/// built-in partner by `code.partner.<code>`, another by the name a
/// manager gave it (in `partners`, left out of a pseudonymised export).
fn declared_label(
    w: &Words,
    ty: crate::kinds::Ty,
    v: &Value,
    partners: &std::collections::HashMap<String, String>,
) -> Cell {
    use crate::kinds::Ty;
    let label = |s: &str| match ty {
        Ty::Code(list, _) | Ty::Codes(list, _) => w.code(list, s),
        Ty::Country | Ty::Origin => w.country(s),
        Ty::Region => w.region(s),
        Ty::Province => w.province(s),
        _ => match uuid::Uuid::parse_str(s).ok().and_then(crate::programme::built_in_partner) {
            Some((code, _, _)) => w.code("partner", code),
            None => partners.get(s).cloned().unwrap_or_default(),
        },
    };
    match v {
        Value::String(s) => Cell::text(label(s)),
        Value::Array(items) => {
            Cell::text(items.iter().filter_map(Value::as_str).map(label).collect::<Vec<_>>().join("; "))
        }
        _ => Cell::Empty,
    }
}

/// The sheet (or CSV file) of a kind declared field by field: its live
/// records, those of a person only when she is admitted by the filters,
/// dated ones only in the period; an attendance only at a live session of
/// the period (a withdrawn session counts nowhere), a follow-up survey only
/// of a live IGA (nor does a withdrawn IGA). Pseudonymised: ids
/// keyed like the other sheets', dates to the month, and no free text at
/// all (it may name anyone). With `labels`, each field holding codes is
/// followed by its label in that language (`kind`, `kind_label`).
fn declared_table(
    conn: &Connection,
    kind: &'static crate::kinds::Kind,
    pseudonymise: bool,
    admitted: &std::collections::HashSet<uuid::Uuid>,
    filters: &Filters,
    labels: Option<&Words>,
    id_of: &dyn Fn(&str, &uuid::Uuid) -> String,
) -> Result<Table> {
    use crate::kinds::Ty;
    use crate::store::log::Entity;
    let (name, prefix) = declared_sheet(kind.entity);
    // Free text never in a pseudonymised export (`Field::export`).
    let fields: Vec<&crate::kinds::Field> =
        kind.fields.iter().filter(|f| f.export_header(pseudonymise).is_some()).collect();
    let labelled = |f: &crate::kinds::Field| labels.is_some() && has_label(f.ty);
    let mut headers = vec![if pseudonymise { "pseudonym" } else { "id" }];
    for f in &fields {
        headers.push(f.name);
        if labelled(f) {
            headers.push(label_header(f.name));
        }
    }
    if !pseudonymise {
        headers.push("created_at");
    }
    // The names managers gave the partners they added (withdrawn ones
    // too: a referral may still name one), for the labels.
    let mut partners = std::collections::HashMap::new();
    if labels.is_some() && !pseudonymise && fields.iter().any(|f| matches!(f.ty, Ty::Ref(Entity::Partner))) {
        let mut stmt = conn.prepare("SELECT id, name FROM partner")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?;
        for row in rows {
            let (id, name) = row?;
            partners.insert(id, name.unwrap_or_default());
        }
    }
    // The live sessions and their dates, for their attendance.
    let mut sessions = std::collections::HashMap::new();
    if kind.entity == Entity::Attendance {
        let mut stmt = conn.prepare("SELECT id, date FROM session WHERE archived_at IS NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?;
        for row in rows {
            let (id, date) = row?;
            sessions.insert(id, date.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()));
        }
    }
    // A survey of a withdrawn IGA is left out with it, as the indicators
    // leave it out (results.rs reads the surveys of live IGAs alone).
    let of_live_iga = match kind.entity {
        Entity::IgaFollowup => " AND EXISTS (SELECT 1 FROM iga i WHERE i.id = r.iga_id AND i.archived_at IS NULL)",
        _ => "",
    };
    let docs: Vec<serde_json::Map<String, Value>> = docs(
        conn,
        &format!(
            "SELECT r.doc FROM {} r WHERE r.archived_at IS NULL{of_live_iga} ORDER BY r.created_at, r.id",
            kind.entity.as_str()
        ),
    )?;
    let uuid = |v: &Value| v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok());
    let day = |v: &Value| v.as_str().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let mut rows = Vec::new();
    for doc in &docs {
        let person = doc.get("beneficiary_id").and_then(uuid);
        if person.is_some_and(|p| !admitted.contains(&p)) {
            continue;
        }
        if let Some(date) = doc.get("date").and_then(day) {
            if !filters.in_period(date) {
                continue;
            }
        }
        if kind.entity == Entity::Attendance {
            let session = doc.get("session_id").and_then(Value::as_str).unwrap_or_default();
            match sessions.get(session) {
                Some(Some(date)) if !filters.in_period(*date) => continue,
                Some(_) => {}
                None => continue,
            }
        }
        let Some(id) = doc.get("id").and_then(uuid) else { continue };
        let mut row = vec![Cell::Text(if pseudonymise { id_of(prefix, &id) } else { id.to_string() })];
        for f in &fields {
            let v = doc.get(f.name).unwrap_or(&Value::Null);
            row.push(cell_of(f.ty, v, pseudonymise, id_of));
            if let (Some(w), true) = (labels, has_label(f.ty)) {
                row.push(declared_label(w, f.ty, v, &partners));
            }
        }
        if !pseudonymise {
            row.push(Cell::opt(doc.get("created_at").and_then(Value::as_str).map(str::to_string)));
        }
        rows.push(row);
    }
    Ok(Table { name, headers, rows })
}

/// Whether a label column follows this column of the person, visit,
/// milestone or target sheet: a declared field holding codes
/// (`has_label`), a person's stage, a target's indicator, region and sex.
fn label_follows(table: &str, column: &str) -> bool {
    match typed_field(table, column) {
        Some(f) => has_label(f.ty),
        None => matches!(column, "stage" | "indicator" | "region" | "sex"),
    }
}

/// Every code of the list a code column holds, as stored.
fn codes_of(table: &str, column: &str) -> Vec<String> {
    use crate::codes::MilestoneKind;
    let all = |codes: Vec<&str>| codes.into_iter().map(str::to_string).collect();
    if let Some(f) = declared_field(table, column).map(|(_, f)| f).or_else(|| typed_field(table, column)) {
        use crate::kinds::Ty;
        return match f.ty {
            Ty::Code(_, codes) | Ty::Codes(_, codes) => all(codes.to_vec()),
            Ty::Region => crate::reference::regions().iter().map(|r| r.code.clone()).collect(),
            Ty::Country => all(crate::reference::COUNTRIES.iter().map(|c| c.0).collect()),
            Ty::Origin => {
                all(crate::reference::ORIGIN_COUNTRIES.iter().chain(crate::reference::COUNTRIES).map(|c| c.0).collect())
            }
            // The built-in partners; those managers add are in the partners sheet.
            Ty::Ref(crate::store::log::Entity::Partner) => crate::programme::BUILT_IN_PARTNERS
                .iter()
                .map(|(code, _, _)| crate::programme::built_in_partner_id(code).to_string())
                .collect(),
            _ => Vec::new(),
        };
    }
    match (table, column) {
        ("targets", "region") => crate::reference::regions().iter().map(|r| r.code.clone()).collect(),
        ("targets", "sex") => all(crate::codes::Sex::CODES.to_vec()),
        (_, "stage") => all(MilestoneKind::CODES.to_vec()),
        ("targets", "indicator") => all(crate::target::INDICATORS.to_vec()),
        _ => Vec::new(),
    }
}

/// The label of a code in `words`' language.
fn label_of(w: &Words, table: &str, column: &str, code: &str) -> String {
    let field = declared_field(table, column).map(|(_, f)| f).or_else(|| typed_field(table, column));
    if let Some(f) = field.filter(|f| has_label(f.ty)) {
        return match declared_label(w, f.ty, &Value::String(code.to_string()), &Default::default()) {
            Cell::Text(label) => label,
            _ => code.to_string(),
        };
    }
    match (table, column) {
        (_, "region") => w.region(code),
        (_, "sex") => w.code("sex", code),
        (_, "stage") => w.code("milestone", code),
        (_, "indicator") => w.t(&format!("indicator.{code}")),
        _ => code.to_string(),
    }
}

/// `table` with a label column after each of its code columns.
fn labelled(mut table: Table, w: &Words) -> Table {
    let name = table.name;
    let mut headers = Vec::new();
    let mut added: Vec<(usize, &'static str)> = Vec::new();
    for (i, h) in table.headers.iter().enumerate() {
        headers.push(*h);
        if label_follows(name, h) {
            headers.push(label_header(h));
            added.push((i, *h));
        }
    }
    for row in &mut table.rows {
        let mut out = Vec::with_capacity(row.len() + added.len());
        for (i, cell) in row.drain(..).enumerate() {
            let label = added.iter().find(|(at, _)| *at == i).map(|(_, column)| match &cell {
                Cell::Text(code) => Cell::Text(label_of(w, name, column, code)),
                _ => Cell::Empty,
            });
            out.push(cell);
            out.extend(label);
        }
        *row = out;
    }
    table.headers = headers;
    table
}

/// The label of a column, in `w`'s language: the form's own label where
/// there is one.
fn column_label(w: &Words, table: &str, column: &str) -> String {
    if let Some(code) = column.strip_suffix("_label") {
        return w.tp("export.label_of", &[("column", &column_label(w, table, code))]);
    }
    // A declared field: the form's label, as the window picks it
    // (records.js `labelKey`: the kind's own wording first).
    if let Some((kind, f)) = declared_field(table, column) {
        let own = format!("field.{}.{}", kind.entity.as_str(), f.name);
        return if w.has(&own) { w.t(&own) } else { w.t(&format!("field.{}", f.name)) };
    }
    for key in [format!("export.col.{column}"), format!("field.{column}")] {
        if w.has(&key) {
            return w.t(&key);
        }
    }
    // A typed kind's field exported under another header: its form label.
    if let Some(f) = typed_field(table, column) {
        return w.t(&format!("field.{}", f.name));
    }
    column.to_string()
}

/// The type of a column, from its cells.
fn column_type(w: &Words, table: &Table, index: usize) -> String {
    let kind = table.rows.iter().filter_map(|r| r.get(index)).find(|c| **c != Cell::Empty);
    let key = match kind {
        Some(Cell::Int(_)) => "integer",
        Some(Cell::Date(_)) => "date",
        Some(Cell::Amount(_)) => "amount",
        Some(Cell::Bool(_)) => "boolean",
        _ => "text",
    };
    w.t(&format!("export.type_{key}"))
}

/// The codebook: for each column of each table, its name, label, type,
/// and the codes it may hold with their labels.
pub fn codebook(tables: &[&Table], w: &Words) -> Table {
    let mut rows = Vec::new();
    for t in tables {
        for (i, h) in t.headers.iter().enumerate() {
            let codes = codes_of(t.name, h);
            let codes =
                codes.iter().map(|c| format!("{c} = {}", label_of(w, t.name, h, c))).collect::<Vec<_>>().join("; ");
            rows.push(vec![
                Cell::text(t.name),
                Cell::text(*h),
                Cell::text(column_label(w, t.name, h)),
                Cell::text(column_type(w, t, i)),
                if codes.is_empty() { Cell::Empty } else { Cell::Text(codes) },
            ]);
        }
    }
    Table { name: "codebook", headers: vec!["sheet", "column", "label", "type", "codes"], rows }
}

/// The indicators (no filter) as rows of `indicator`, `value`: nested
/// figures get dotted names, list items are named by their code.
pub fn indicator_rows(i: &Indicators) -> Result<Table> {
    let mut rows = Vec::new();
    flatten("", &serde_json::to_value(i)?, &mut rows);
    Ok(Table { name: "indicators", headers: vec!["indicator", "value"], rows })
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<Vec<Cell>>) {
    let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                // Items are named by their identifying field, which is then
                // not repeated.
                let ident = ["indicator", "kind", "month", "region", "code", "id"]
                    .iter()
                    .find_map(|k| item.get(*k).map(|v| (*k, v.as_str().unwrap_or("none").to_string())));
                match (ident, item) {
                    (Some((key, name)), Value::Object(map)) => {
                        let mut rest = map.clone();
                        rest.remove(key);
                        flatten(&join(&name), &Value::Object(rest), out);
                    }
                    _ => flatten(&join(&n.to_string()), item, out),
                }
            }
        }
        Value::Null => out.push(vec![Cell::text(prefix), Cell::Empty]),
        Value::Bool(b) => out.push(vec![Cell::text(prefix), Cell::Bool(*b)]),
        Value::Number(n) => out.push(vec![Cell::text(prefix), n.as_i64().map_or(Cell::text(n.to_string()), Cell::Int)]),
        Value::String(s) => out.push(vec![Cell::text(prefix), Cell::text(s)]),
    }
}

fn summary(path: PathBuf, parts: Vec<String>, tables: &[Table], pseudonymised: bool) -> ExportSummary {
    let rows = |name: &str| tables.iter().find(|t| t.name == name).map_or(0, |t| t.rows.len());
    ExportSummary {
        path,
        parts,
        beneficiaries: rows("beneficiaries"),
        visits: rows("visits"),
        milestones: rows("milestones"),
        targets: rows("targets"),
        pseudonymised,
    }
}

/// One CSV file per table in `dir` (created if needed), UTF-8 with a BOM.
pub fn write_csv(store: &Store, dir: &Path, pseudonymise: bool) -> Result<ExportSummary> {
    write_csv_for(store, dir, pseudonymise, &Filters::default())
}

/// [`write_csv`] of the records `filters` admit. Codes alone, as scripts
/// read them: the labels and the codebook are the workbook's.
pub fn write_csv_for(store: &Store, dir: &Path, pseudonymise: bool, filters: &Filters) -> Result<ExportSummary> {
    write_csv_progress(store, dir, pseudonymise, filters, &Progress::none())
}

/// [`write_csv_for`], saying how far it is to `progress` (each table) and
/// stopping when asked before any file is written.
pub fn write_csv_progress(
    store: &Store,
    dir: &Path,
    pseudonymise: bool,
    filters: &Filters,
    progress: &Progress,
) -> Result<ExportSummary> {
    progress.step(0, 1, What::Data);
    let tables = tables_for(store, pseudonymise, filters, None)?;
    let of = tables.len() as u64;
    // Every file is made in memory first: nothing is written unless all are.
    let mut files = Vec::new();
    for (n, t) in (1..).zip(&tables) {
        progress.check()?;
        progress.step(n, of + 1, What::Table { n, of, name: t.name.to_string() });
        let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
        let csv_err = |e: csv::Error| Error::Report(format!("CSV {}: {e}", t.name));
        w.write_record(&t.headers).map_err(csv_err)?;
        for row in &t.rows {
            w.write_record(row.iter().map(Cell::to_csv)).map_err(csv_err)?;
        }
        let bytes = w.into_inner().map_err(|e| Error::Report(format!("CSV {}: {e}", t.name)))?;
        files.push((format!("{}.csv", t.name), bytes));
    }
    progress.check()?;
    progress.step(of + 1, of + 1, What::Writing);
    crate::files::private_dir(dir)?;
    for (name, bytes) in &files {
        let path = dir.join(name);
        crate::files::check_output(store.path(), &path)?;
        super::write_file(&path, bytes)?;
    }
    Ok(summary(dir.to_path_buf(), files.into_iter().map(|f| f.0).collect(), &tables, pseudonymise))
}

/// One XLSX workbook: a sheet per table, then the indicators.
pub fn write_xlsx(store: &Store, path: &Path, pseudonymise: bool) -> Result<ExportSummary> {
    write_xlsx_for(store, path, pseudonymise, &Filters::default(), &Words::new("fr")?)
}

/// [`write_xlsx`] of the records `filters` admit (the indicators of the
/// same filters), labels in `words`, and a last sheet, the codebook.
pub fn write_xlsx_for(
    store: &Store,
    path: &Path,
    pseudonymise: bool,
    filters: &Filters,
    words: &Words,
) -> Result<ExportSummary> {
    write_xlsx_progress(store, path, pseudonymise, filters, words, &Progress::none())
}

/// [`write_xlsx_for`], saying how far it is to `progress` (each sheet,
/// then the workbook made) and stopping when asked before its file is
/// written.
pub fn write_xlsx_progress(
    store: &Store,
    path: &Path,
    pseudonymise: bool,
    filters: &Filters,
    words: &Words,
    progress: &Progress,
) -> Result<ExportSummary> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
    progress.step(0, 1, What::Data);
    let tables = tables_for(store, pseudonymise, filters, Some(words))?;
    let mut indicators = indicator_rows(&store.indicators(filters)?)?;
    if pseudonymise {
        // Laptops are named after places and people, and their ids link
        // back to the coordinators: none in a file for outsiders.
        indicators.rows.retain(|row| match row.first() {
            Some(Cell::Text(name)) => !name.starts_with("data_status.devices") && name != "data_status.last_stamp",
            _ => true,
        });
    }
    let xerr = |e: XlsxError| Error::Report(format!("spreadsheet: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let money_fmt = Format::new().set_num_format("#,##0.00");
    let mut sheets = Vec::new();
    let mut all: Vec<&Table> = tables.iter().collect();
    all.push(&indicators);
    let book_of_codes = codebook(&all, words);
    all.push(&book_of_codes);
    // Steps: the data read, each sheet, the workbook made.
    let (of, total) = (all.len() as u64, all.len() as u64 + 2);
    for (n, t) in (1..).zip(all) {
        progress.check()?;
        progress.step(n, total, What::Table { n, of, name: t.name.to_string() });
        let sheet = book.add_worksheet();
        sheet.set_name(t.name).map_err(xerr)?;
        for (c, h) in t.headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(xerr)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s).map_err(xerr)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64).map_err(xerr)?;
                    }
                    Cell::Bool(b) => {
                        sheet.write_boolean(r, c, *b).map_err(xerr)?;
                    }
                    Cell::Date(d) => {
                        let dt =
                            ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).map_err(xerr)?;
                        sheet.write_datetime_with_format(r, c, &dt, &date_fmt).map_err(xerr)?;
                    }
                    Cell::Amount(a) => {
                        // A spreadsheet holds every number as a double: an
                        // amount of at most two decimals below 2^53 cents
                        // shows back exactly, and stays summable in Excel.
                        let v = a.to_f64().ok_or_else(|| Error::Report(format!("amount {a} too large")))?;
                        sheet.write_number_with_format(r, c, v, &money_fmt).map_err(xerr)?;
                    }
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(xerr)?;
        sheet.set_autofit_max_width(400);
        sheet.autofit();
        sheets.push(t.name.to_string());
    }
    progress.step(of + 1, total, What::Saving { pages: None });
    let bytes = book.save_to_buffer().map_err(xerr)?;
    progress.check()?;
    progress.step(total, total, What::Writing);
    crate::files::check_output(store.path(), path)?;
    super::write_file(path, &bytes)?;
    Ok(summary(path.to_path_buf(), sheets, &tables, pseudonymise))
}
