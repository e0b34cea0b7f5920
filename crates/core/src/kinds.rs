//! Kinds of record declared once, field by field.
//!
//! A [`Kind`] lists its fields: name, type and rules, whether a correction
//! may change it, whether it identifies the person (and what an erasure
//! leaves of it), whether its table holds it as a column. From that one
//! declaration come the form's validation (all problems at once), a
//! bundle's checks, the fold's canonical form, the table's columns, the
//! erasure's scrubbing, the window's forms (`kind_fields`, as JSON) and
//! docs/data-dictionary.md. Adding a question is one entry here, its
//! translations (`field.<name>`, `code.<list>.<code>`) and a migration
//! when it needs a column.
//!
//! The programme's own kinds (IGAs, their follow-up surveys, migration
//! seasons, referrals, partners, group sessions and attendance) are
//! declared in `programme.rs`, and checked by their declaration alone.
//! The earlier kinds (people, visits, milestones) are declared the same
//! way beside their typed records (`beneficiary::KIND`, `visit::KIND`,
//! `milestone::KIND`), whose serde names a test keeps equal to the
//! declaration: their structs check them (the rules the declaration
//! cannot say are marked [`Field::custom`]), and the declaration gives
//! the rest — the fields a correction may change, the table's columns,
//! the export's columns, what an erasure scrubs, the data dictionary. A
//! person's question with no typed member (`Field::answer`) is read,
//! checked and kept by its declaration alone.

use crate::erasure::Scrub;
use crate::error::{Error, FieldError, Result};
use crate::money::Mad;
use crate::store::log::Entity;
use crate::validate::{hidden, parse_date};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use std::str::FromStr;
use std::sync::OnceLock;
use uuid::Uuid;

/// What a field holds, and so how its input is read and checked.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", content = "arg", rename_all = "snake_case")]
pub enum Ty {
    /// Trimmed text of at most this many characters, no control character.
    Text(usize),
    /// A list of such texts, in the order given, blank ones dropped.
    Texts(usize),
    /// An ISO date, not after the day it is recorded.
    Date,
    /// An ISO date that may be in the future (a planned return).
    AnyDate,
    /// A whole number within the bounds.
    Int(i64, i64),
    /// An amount in MAD, never negative, two decimals.
    Money,
    /// An amount in MAD that may be negative (a monthly loss).
    SignedMoney,
    Bool,
    /// One code of the list (`code.<list>.<code>` in the window).
    Code(&'static str, &'static [&'static str]),
    /// Several codes of the list, kept sorted and once each.
    Codes(&'static str, &'static [&'static str]),
    /// A country (ISO 3166-1 alpha-2, reference.rs).
    Country,
    /// A country a person may come from or be a national of: the
    /// programme's countries of origin, or a destination.
    Origin,
    /// A region of Morocco (its code).
    Region,
    /// A province of Morocco (its name, within the record's region).
    Province,
    /// The id of a person.
    Person,
    /// The ids of several people, kept sorted and once each.
    People,
    /// The id of a record of that kind.
    Ref(Entity),
}

/// One field of a declared kind.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Field {
    pub name: &'static str,
    #[serde(flatten)]
    pub ty: Ty,
    pub required: bool,
    /// A correction may change it after creation.
    pub editable: bool,
    /// What an erasure (consent withdrawn) leaves of it; `None` when it
    /// does not identify anyone.
    #[serde(skip)]
    pub scrub: Option<Scrub>,
    /// Its table holds it as a column (copied from the record), to
    /// filter, sort or join on; a new one needs a migration.
    #[serde(skip)]
    pub column: bool,
    /// What the exports make of it.
    #[serde(skip)]
    pub export: Export,
    /// A rule its record's own code checks beyond the type (a typed
    /// record's field), as the data dictionary states it.
    #[serde(skip)]
    pub custom: Option<&'static str>,
    /// Absent from a record until it holds a value, so that records and
    /// bundles of versions that did not ask it read and compare as before.
    #[serde(skip)]
    pub later: bool,
    /// A person's question with no member of the typed record: kept among
    /// her `answers`, read and checked by this declaration alone (and
    /// absent until answered).
    pub answer: bool,
}

/// Where a field goes in the exports (CSV, XLSX), under which header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Left out.
    No,
    /// In the named export only: it identifies someone, or is free text.
    Named(&'static str),
    /// In both, under these headers (named, pseudonymised); the
    /// pseudonymised one tells a date to the month only.
    Both(&'static str, &'static str),
}

impl Field {
    pub const fn new(name: &'static str, ty: Ty) -> Field {
        // Free text may name anyone: never in a pseudonymised export.
        let export = match ty {
            Ty::Text(_) | Ty::Texts(_) => Export::Named(name),
            _ => Export::Both(name, name),
        };
        Field {
            name,
            ty,
            required: false,
            editable: true,
            scrub: None,
            column: false,
            export,
            custom: None,
            later: false,
            answer: false,
        }
    }
    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }
    /// Set at creation, never corrected (the person a record is for).
    pub const fn fixed(mut self) -> Field {
        self.editable = false;
        self
    }
    /// It identifies the person: an erasure leaves this of it, and no
    /// pseudonymised export shows it.
    pub const fn identifying(mut self, how: Scrub) -> Field {
        self.scrub = Some(how);
        self.export = match self.export {
            Export::Both(named, _) => Export::Named(named),
            other => other,
        };
        self
    }
    pub fn identifies(&self) -> bool {
        self.scrub.is_some()
    }
    pub const fn column(mut self) -> Field {
        self.column = true;
        self
    }
    /// Exported under another header than its name (in both exports).
    pub const fn exported_as(mut self, header: &'static str) -> Field {
        self.export = match self.export {
            Export::Named(_) => Export::Named(header),
            _ => Export::Both(header, header),
        };
        self
    }
    /// In the pseudonymised export too, under this header.
    pub const fn pseudonymised_as(mut self, header: &'static str) -> Field {
        self.export = match self.export {
            Export::Named(named) | Export::Both(named, _) => Export::Both(named, header),
            Export::No => Export::Both(self.name, header),
        };
        self
    }
    /// In the named export only.
    pub const fn named_only(mut self) -> Field {
        self.export = match self.export {
            Export::Named(named) | Export::Both(named, _) => Export::Named(named),
            Export::No => Export::Named(self.name),
        };
        self
    }
    pub const fn not_exported(mut self) -> Field {
        self.export = Export::No;
        self
    }
    /// Checked by its record's code beyond its type, as `rule` says.
    pub const fn custom(mut self, rule: &'static str) -> Field {
        self.custom = Some(rule);
        self
    }
    /// Absent until it holds a value (asked since a later version).
    pub const fn later(mut self) -> Field {
        self.later = true;
        self
    }
    /// A person's question declared here alone (see [`Field::answer`]).
    pub const fn answer(mut self) -> Field {
        self.answer = true;
        self.later = true;
        self
    }

    /// Its header in an export, if that export has it.
    pub fn export_header(&self, pseudonymised: bool) -> Option<&'static str> {
        match (self.export, pseudonymised) {
            (Export::No, _) | (Export::Named(_), true) => None,
            (Export::Named(h), false) | (Export::Both(h, _), false) | (Export::Both(_, h), true) => Some(h),
        }
    }
}

/// A rule across fields of one record: the errors it finds, each naming
/// the field to correct and, in `other_field`, the one it is weighed
/// against.
pub type Rule = fn(&Map<String, Value>) -> Vec<FieldError>;

/// A kind of record, declared.
#[derive(Debug)]
pub struct Kind {
    pub entity: Entity,
    pub fields: &'static [Field],
    /// The fields of its origin its table copies as columns, after `id`
    /// and the fields marked [`Field::column`].
    pub origin_columns: &'static [&'static str],
    pub rules: &'static [Rule],
}

/// The fields every record carries besides its own.
pub const ORIGIN_FIELDS: [&str; 3] = ["created_at", "created_by", "archived_at"];

/// The origin columns of most tables.
pub const ROW_ORIGIN: &[&str] = &["created_at", "archived_at"];

/// The kinds whose typed records check them (people, visits, milestones).
pub static TYPED: [&Kind; 3] = [&crate::beneficiary::KIND, &crate::visit::KIND, &crate::milestone::KIND];

/// Every kind declared: the typed records', then the programme's.
pub fn all() -> impl Iterator<Item = &'static Kind> {
    TYPED.iter().chain(crate::programme::KINDS.iter()).copied()
}

/// The declaration of `entity`, typed record or not.
pub fn of(entity: Entity) -> Option<&'static Kind> {
    all().find(|k| k.entity == entity)
}

impl Kind {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether its records belong to a person (`beneficiary_id`): they
    /// wait for her, follow her merges and go with her erasure.
    pub fn of_person(&self) -> bool {
        self.field("beneficiary_id").is_some()
    }

    /// The fields a correction may change.
    pub fn editable(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().filter(|f| f.editable).map(|f| f.name)
    }

    /// [`Kind::editable`], as a list made once.
    pub fn editable_list(&'static self) -> &'static [&'static str] {
        &self.derived().editable
    }

    /// The fields absent from a record until they hold a value
    /// ([`Field::later`]), as a list made once.
    pub fn later_list(&'static self) -> &'static [&'static str] {
        &self.derived().later
    }

    /// Its table's columns copied from the record: `id`, the fields
    /// marked [`Field::column`] in their order, then its origin columns.
    pub fn columns(&'static self) -> &'static [&'static str] {
        &self.derived().columns
    }

    /// The identifying fields and what an erasure leaves of each, with
    /// the reason a record was withdrawn (free text, it may name someone).
    pub fn scrubbed(&'static self) -> &'static [(&'static str, Scrub)] {
        &self.derived().scrubbed
    }

    fn derived(&'static self) -> &'static Derived {
        static ALL: OnceLock<Vec<(Entity, Derived)>> = OnceLock::new();
        let all = ALL.get_or_init(|| all().map(|k| (k.entity, Derived::of(k))).collect());
        match all.iter().find(|(e, _)| *e == self.entity) {
            Some((_, d)) => d,
            // Every kind is in `all()`; a kind declared elsewhere has none.
            None => &NONE,
        }
    }

    /// Reads one field's input by its declaration: its type, and that it
    /// is required. How a typed record reads its simple fields.
    pub fn read(&self, name: &str, v: Option<&Value>, today: NaiveDate) -> std::result::Result<Value, FieldError> {
        let f = self.field(name).ok_or_else(|| FieldError::new(name, "unknown_field"))?;
        match read(f, v, today)? {
            Value::Null if f.required => Err(FieldError::new(name, "required")),
            v => Ok(v),
        }
    }

    /// A text field of a typed record's input, by its declaration:
    /// trimmed, at most its length, `None` when blank (refused when
    /// required).
    /// An item of a list of texts is read as one text of its length.
    pub fn text(&self, name: &str, v: &Option<String>) -> std::result::Result<Option<String>, FieldError> {
        let f = self.field(name).ok_or_else(|| FieldError::new(name, "unknown_field"))?;
        let one = match f.ty {
            Ty::Texts(n) => Field { ty: Ty::Text(n), ..*f },
            _ => *f,
        };
        let v = v.as_deref().map(|s| Value::String(s.to_string()));
        match read(&one, v.as_ref(), NaiveDate::MAX)? {
            Value::Null if f.required => Err(FieldError::new(name, "required")),
            v => Ok(v.as_str().map(str::to_string)),
        }
    }

    /// A whole-number field of a typed record's input, within its bounds.
    pub fn int(&self, name: &str, v: Option<i64>) -> std::result::Result<Option<i64>, FieldError> {
        Ok(self.read(name, v.map(Value::from).as_ref(), NaiveDate::MAX)?.as_i64())
    }

    /// A date field of a typed record's input, not after `today` when
    /// its type says so.
    pub fn date(
        &self,
        name: &str,
        v: &Option<String>,
        today: NaiveDate,
    ) -> std::result::Result<Option<NaiveDate>, FieldError> {
        let v = v.as_deref().map(|s| Value::String(s.to_string()));
        Ok(self.read(name, v.as_ref(), today)?.as_str().and_then(|s| NaiveDate::from_str(s).ok()))
    }

    /// Reads and checks a form's input: every problem at once, each naming
    /// its field. Gives the record in canonical form, with its origin.
    pub fn validate(
        &self,
        input: &Map<String, Value>,
        today: NaiveDate,
        origin: &Origin,
    ) -> Result<Map<String, Value>> {
        let mut errors = Vec::new();
        for k in input.keys() {
            if self.field(k).is_none() {
                errors.push(FieldError::new(k, "unknown_field"));
            }
        }
        let mut doc = Map::new();
        doc.insert("id".into(), Value::String(origin.id.to_string()));
        for f in self.fields {
            match read(f, input.get(f.name), today) {
                Ok(Value::Null) if f.required => errors.push(FieldError::new(f.name, "required")),
                Ok(v) => {
                    doc.insert(f.name.into(), v);
                }
                Err(e) => {
                    errors.push(e);
                    doc.insert(f.name.into(), Value::Null);
                }
            }
        }
        if errors.is_empty() {
            for rule in self.rules {
                errors.extend(rule(&doc));
            }
        }
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        doc.insert("created_at".into(), Value::String(origin.created_at.clone()));
        doc.insert("created_by".into(), Value::String(origin.created_by.to_string()));
        doc.insert("archived_at".into(), Value::Null);
        Ok(doc)
    }

    /// A correction: `changes` set over the record `current`, checked as
    /// the form checks a new one. Gives the record corrected.
    pub fn corrected(
        &self,
        current: &Map<String, Value>,
        changes: &Map<String, Value>,
        today: NaiveDate,
    ) -> Result<Map<String, Value>> {
        let mut errors = Vec::new();
        for k in changes.keys() {
            match self.field(k) {
                Some(f) if f.editable => {}
                Some(_) => errors.push(FieldError::new(k, "not_editable")),
                None => errors.push(FieldError::new(k, "unknown_field")),
            }
        }
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        let mut input: Map<String, Value> = self
            .fields
            .iter()
            .map(|f| (f.name.to_string(), current.get(f.name).cloned().unwrap_or(Value::Null)))
            .collect();
        for (k, v) in changes {
            input.insert(k.clone(), v.clone());
        }
        let origin = Origin::of(current)?;
        let mut doc = self.validate(&input, today, &origin)?;
        for k in ["archived_at", "archive_reason"] {
            if let Some(v) = current.get(k) {
                doc.insert(k.into(), v.clone());
            }
        }
        Ok(doc)
    }

    /// The record a fold made, in canonical form: its declared fields (a
    /// field no change set is `null`), its origin and archive fields.
    /// Refused when a field holds a value of another type or a required
    /// one is missing: the fold keeps only what the domain accepts.
    pub fn canonical(&self, value: &Value, id: Uuid) -> Result<Map<String, Value>> {
        let bad = |why: String| {
            Error::Other(format!("the changes of {} {id} do not make a valid record: {why}", self.entity.as_str()))
        };
        let Value::Object(folded) = value else { return Err(bad("not an object".into())) };
        let mut doc = Map::new();
        doc.insert("id".into(), Value::String(id.to_string()));
        for f in self.fields {
            let v = folded.get(f.name).cloned().unwrap_or(Value::Null);
            if v.is_null() && f.required {
                return Err(bad(format!("{} is missing", f.name)));
            }
            if !v.is_null() && !shape_fits(f.ty, &v) {
                return Err(bad(format!("{} holds {v}", f.name)));
            }
            doc.insert(f.name.into(), v);
        }
        for k in ORIGIN_FIELDS {
            let v = folded.get(k).cloned().unwrap_or(Value::Null);
            if k != "archived_at" && !v.is_string() {
                return Err(bad(format!("{k} is missing")));
            }
            doc.insert(k.into(), v);
        }
        if let Some(reason) = folded.get("archive_reason").filter(|v| !v.is_null()) {
            doc.insert("archive_reason".into(), reason.clone());
        }
        Ok(doc)
    }

    /// Checks the fields a change of a bundle carries, each as the form
    /// would have stored it: a creation carries all of them, an update
    /// only editable ones. Rules across fields count when the change
    /// carries every field they weigh.
    pub fn check_carried(
        &self,
        fields: &Map<String, Value>,
        today: NaiveDate,
        creation: bool,
    ) -> std::result::Result<(), FieldError> {
        for (k, v) in fields {
            if ORIGIN_FIELDS.contains(&k.as_str()) {
                if !creation {
                    return Err(FieldError::new(k, "not_editable"));
                }
                continue;
            }
            let Some(f) = self.field(k) else { return Err(FieldError::new(k, "unknown_field")) };
            if !creation && !f.editable {
                return Err(FieldError::new(k, "not_editable"));
            }
            let read = read(f, Some(v), today)?;
            if read.is_null() && f.required {
                return Err(FieldError::new(k, "required"));
            }
            if read != *v {
                return Err(FieldError::new(k, "not_canonical").with("expected", read));
            }
        }
        if creation {
            for f in self.fields {
                if !fields.contains_key(f.name) {
                    return Err(FieldError::new(f.name, "required"));
                }
            }
            for k in ORIGIN_FIELDS {
                if !fields.contains_key(k) {
                    return Err(FieldError::new(k, "required"));
                }
            }
            crate::sync::check::instant("created_at", fields.get("created_at"))?;
            if fields.get("archived_at").is_some_and(|v| !v.is_null()) {
                return Err(FieldError::new("archived_at", "not_editable"));
            }
            let by = fields.get("created_by").and_then(Value::as_str).unwrap_or_default();
            Uuid::parse_str(by).map_err(|_| FieldError::new("created_by", "invalid_type"))?;
        }
        for rule in self.rules {
            for e in rule(fields) {
                let other = e.params.get("other_field").map(String::as_str);
                if fields.contains_key(&e.field) && other.is_none_or(|o| fields.contains_key(o)) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// The lists a kind's declaration gives, made once.
#[derive(Debug)]
struct Derived {
    editable: Vec<&'static str>,
    later: Vec<&'static str>,
    columns: Vec<&'static str>,
    scrubbed: Vec<(&'static str, Scrub)>,
}

static NONE: Derived = Derived { editable: Vec::new(), later: Vec::new(), columns: Vec::new(), scrubbed: Vec::new() };

impl Derived {
    fn of(k: &'static Kind) -> Derived {
        let mut columns = vec!["id"];
        columns.extend(k.fields.iter().filter(|f| f.column).map(|f| f.name));
        columns.extend(k.origin_columns);
        let mut scrubbed: Vec<(&'static str, Scrub)> =
            k.fields.iter().filter_map(|f| f.scrub.map(|s| (f.name, s))).collect();
        scrubbed.push(("archive_reason", Scrub::Null));
        Derived {
            editable: k.editable().collect(),
            later: k.fields.iter().filter(|f| f.later).map(|f| f.name).collect(),
            columns,
            scrubbed,
        }
    }
}

impl Kind {
    /// Its fields as docs/data-dictionary.md prints them (a test keeps the
    /// file equal to this): type and rule, required, corrected,
    /// identifying, table column, export headers.
    pub fn dictionary(&self) -> String {
        let mut out = String::from(
            "| Field | Type and rule | Required | Corrected | Identifying (erasure) | Column | Export |\n\
             |---|---|:-:|:-:|---|:-:|---|\n",
        );
        for f in self.fields {
            let mut ty = match f.ty {
                Ty::Text(n) => format!("text ≤ {n}"),
                Ty::Texts(n) => format!("list of text ≤ {n}"),
                Ty::Date => "date, not after today".into(),
                Ty::AnyDate => "date".into(),
                Ty::Int(lo, hi) => format!("whole number {lo}–{hi}"),
                Ty::Money => "money (MAD), ≥ 0".into(),
                Ty::SignedMoney => "money (MAD), may be negative".into(),
                Ty::Bool => "true / false".into(),
                Ty::Code(list, codes) => format!("code `{list}`: {}", codes.join(", ")),
                Ty::Codes(list, codes) => format!("codes `{list}` (several): {}", codes.join(", ")),
                Ty::Country => "country (ISO 3166-1 alpha-2)".into(),
                Ty::Origin => "country (ISO 3166-1 alpha-2): `MA`, MR, CV, SN, ML, TN, DZ or a destination".into(),
                Ty::Region => "region code".into(),
                Ty::Province => "province (within the region)".into(),
                Ty::Person => "person id".into(),
                Ty::People => "person ids".into(),
                Ty::Ref(e) => format!("id of a `{}`", e.as_str()),
            };
            if let Some(rule) = f.custom {
                ty.push_str("; ");
                ty.push_str(rule);
            }
            if f.answer {
                ty.push_str(" (an answer: absent until given)");
            } else if f.later {
                ty.push_str(" (absent until given)");
            }
            let yes = |b: bool| if b { "✓" } else { "" };
            let scrub = match f.scrub {
                None => "",
                Some(Scrub::Dash) => "→ a dash",
                Some(Scrub::Empty) => "→ empty",
                Some(Scrub::Year) => "→ its year",
                Some(Scrub::NoItems) => "→ no items",
                Some(Scrub::Null) => "→ null",
            };
            let export = match f.export {
                Export::No => String::new(),
                Export::Named(h) => format!("`{h}`, not pseudonymised"),
                Export::Both(h, p) if h == p => format!("`{h}`"),
                Export::Both(h, p) => format!("`{h}`, pseudonymised `{p}`"),
            };
            out.push_str(&format!(
                "| `{}` | {ty} | {} | {} | {scrub} | {} | {export} |\n",
                f.name,
                yes(f.required),
                yes(f.editable),
                yes(f.column)
            ));
        }
        out
    }
}

/// Who made a record and when: its id, set at creation.
#[derive(Debug, Clone)]
pub struct Origin {
    pub id: Uuid,
    pub created_at: String,
    pub created_by: Uuid,
}

impl Origin {
    fn of(doc: &Map<String, Value>) -> Result<Origin> {
        let text = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default();
        let uuid =
            |k: &str| Uuid::parse_str(text(k)).map_err(|_| Error::Other(format!("internal: a record without {k}")));
        Ok(Origin { id: uuid("id")?, created_at: text("created_at").to_string(), created_by: uuid("created_by")? })
    }
}

/// Whether a stored value has the JSON shape of its type.
pub(crate) fn shape_fits(ty: Ty, v: &Value) -> bool {
    match ty {
        Ty::Int(..) => v.is_i64(),
        Ty::Bool => v.is_boolean(),
        Ty::Codes(..) | Ty::People | Ty::Texts(_) => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        _ => v.is_string(),
    }
}

/// Reads one field's input into its canonical value (`null` when absent
/// or blank), or says what is wrong with it.
pub fn read(f: &Field, v: Option<&Value>, today: NaiveDate) -> std::result::Result<Value, FieldError> {
    let name = f.name;
    let v = match v {
        None | Some(Value::Null) => return Ok(Value::Null),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Value::Null),
        Some(Value::Array(a)) if a.is_empty() => return Ok(Value::Null),
        Some(v) => v,
    };
    let text = || -> std::result::Result<&str, FieldError> {
        v.as_str().map(str::trim).ok_or_else(|| FieldError::new(name, "invalid_type"))
    };
    let uuid = |s: &str| -> std::result::Result<Value, FieldError> {
        Uuid::parse_str(s)
            .map(|u| Value::String(u.to_string()))
            .map_err(|_| FieldError::new(name, "unknown_record").with("id", s))
    };
    let date = |today: Option<NaiveDate>| -> std::result::Result<Value, FieldError> {
        let d = parse_date(name, text()?)?;
        if let Some(today) = today {
            crate::validate::past_date(name, d, today)?;
        }
        Ok(Value::String(d.to_string()))
    };
    let money = |signed: bool| -> std::result::Result<Value, FieldError> {
        let s = match v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err(FieldError::new(name, "invalid_amount")),
        };
        let negative = signed && s.trim().starts_with('-');
        let body = if negative { s.trim().trim_start_matches('-').to_string() } else { s };
        let Mad(mut d) = Mad::parse(name, &body)?;
        if negative {
            d = -d;
        }
        Ok(Value::String(d.to_string()))
    };
    let code = |list: &str, allowed: &[&str], s: &str| -> std::result::Result<Value, FieldError> {
        if allowed.contains(&s) {
            Ok(Value::String(s.to_string()))
        } else {
            Err(FieldError::new(name, "unknown_code")
                .with("value", s)
                .with("allowed", allowed.join(", "))
                .with("list", list))
        }
    };
    let list = |each: &dyn Fn(&str) -> std::result::Result<Value, FieldError>| {
        let Value::Array(items) = v else { return Err(FieldError::new(name, "invalid_type")) };
        let mut out: Vec<String> = Vec::new();
        for item in items {
            let s = item.as_str().map(str::trim).ok_or_else(|| FieldError::new(name, "invalid_type"))?;
            if let Value::String(s) = each(s)? {
                out.push(s);
            }
        }
        out.sort();
        out.dedup();
        if out.len() > 200 {
            return Err(FieldError::new(name, "too_many").with("max", 200));
        }
        Ok(Value::Array(out.into_iter().map(Value::String).collect()))
    };
    match f.ty {
        Ty::Text(max) => {
            let s = text()?;
            if s.chars().count() > max {
                return Err(FieldError::new(name, "too_long").with("max", max));
            }
            if s.chars().any(hidden) {
                return Err(FieldError::new(name, "control_character"));
            }
            Ok(Value::String(s.to_string()))
        }
        Ty::Texts(max) => {
            let Value::Array(items) = v else { return Err(FieldError::new(name, "invalid_type")) };
            let mut out = Vec::new();
            for item in items {
                let s = item.as_str().map(str::trim).ok_or_else(|| FieldError::new(name, "invalid_type"))?;
                if s.chars().count() > max {
                    return Err(FieldError::new(name, "too_long").with("max", max));
                }
                if s.chars().any(hidden) {
                    return Err(FieldError::new(name, "control_character"));
                }
                if !s.is_empty() {
                    out.push(Value::String(s.to_string()));
                }
            }
            if out.len() > 200 {
                return Err(FieldError::new(name, "too_many").with("max", 200));
            }
            Ok(Value::Array(out))
        }
        Ty::Date => date(Some(today)),
        Ty::AnyDate => date(None),
        Ty::Int(min, max) => {
            let n = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| FieldError::new(name, "invalid_number"))?;
            crate::validate::in_range(name, n, min, max).map(Value::from)
        }
        Ty::Money => money(false),
        Ty::SignedMoney => money(true),
        Ty::Bool => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(FieldError::new(name, "invalid_type")),
        },
        Ty::Code(list_name, allowed) => code(list_name, allowed, text()?),
        Ty::Codes(list_name, allowed) => list(&|s| code(list_name, allowed, s)),
        Ty::Country => {
            let s = text()?.to_uppercase();
            if crate::reference::is_country(&s) {
                Ok(Value::String(s))
            } else {
                Err(FieldError::new(name, "unknown_code").with("value", s).with("list", "country"))
            }
        }
        Ty::Origin => {
            let s = text()?.to_uppercase();
            if crate::reference::is_origin_country(&s) {
                Ok(Value::String(s))
            } else {
                Err(FieldError::new(name, "unknown_code").with("value", s).with("list", "country"))
            }
        }
        Ty::Region => {
            let s = text()?;
            crate::reference::region(s)
                .map(|r| Value::String(r.code.clone()))
                .ok_or_else(|| FieldError::new(name, "unknown_code").with("value", s).with("list", "region"))
        }
        Ty::Province => {
            let s = text()?;
            if crate::reference::regions().iter().any(|r| r.has_province(s)) {
                Ok(Value::String(s.to_string()))
            } else {
                Err(FieldError::new(name, "unknown_code").with("value", s).with("list", "province"))
            }
        }
        Ty::Person | Ty::Ref(_) => uuid(text()?),
        Ty::People => list(&uuid),
    }
}

/// A rule: `later` (a date) not before `earlier`.
pub fn not_before(doc: &Map<String, Value>, later: &str, earlier: &str) -> Option<FieldError> {
    let day = |k: &str| doc.get(k).and_then(Value::as_str).and_then(|s| NaiveDate::from_str(s).ok());
    match (day(later), day(earlier)) {
        (Some(l), Some(e)) if l < e => {
            Some(FieldError::new(later, "before_date").with("other_field", earlier).with("other", e))
        }
        _ => None,
    }
}

/// A rule: a province within the record's region.
pub fn province_in_region(doc: &Map<String, Value>) -> Option<FieldError> {
    let text = |k: &str| doc.get(k).and_then(Value::as_str);
    let (Some(region), Some(province)) = (text("region"), text("province")) else { return None };
    let region = crate::reference::region(region)?;
    (!region.has_province(province)).then(|| {
        FieldError::new("province", "province_not_in_region").with("other_field", "region").with("region", &region.code)
    })
}

/// An amount field's value as a decimal.
pub fn amount(doc: &Map<String, Value>, field: &str) -> Option<Decimal> {
    doc.get(field).and_then(Value::as_str).and_then(|s| Decimal::from_str(s).ok())
}
