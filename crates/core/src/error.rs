//! The one error type of the core, and the field errors that validation gives.
//!
//! A `FieldError` carries a stable `code` (which the UI translates) and the
//! field it is about; its `Display` is plain English for logs and the CLI.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One thing wrong with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    /// Stable code, e.g. `required`, `future_date`, `unknown_code`; the UI
    /// translates `error.<code>` with `params`.
    pub code: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.into(), params: BTreeMap::new() }
    }

    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.params.insert(key.to_string(), value.to_string());
        self
    }

    fn english(&self) -> String {
        let p = |k: &str| self.params.get(k).cloned().unwrap_or_default();
        match self.code.as_str() {
            "required" => "is required".into(),
            "too_long" => format!("is longer than {} characters", p("max")),
            "control_character" => "holds a control or text-direction character that cannot be typed".into(),
            "invalid_date" => "must be a date written YYYY-MM-DD".into(),
            "future_date" => "must not be in the future".into(),
            "age_out_of_range" => format!("gives an age of {}, outside {}–{}", p("age"), p("min"), p("max")),
            "unknown_code" => format!("has an unknown value '{}' (allowed: {})", p("value"), p("allowed")),
            "invalid_phone" => "must be a Moroccan number: 06…, 07…, 05…, +212… or 00212…".into(),
            "invalid_cin" => "must be one or two letters then digits, e.g. BK123456".into(),
            "cin_taken" => format!("is already registered on this laptop (beneficiary {})", p("id")),
            "province_not_in_region" => format!("'{}' is not a province of region {}", p("value"), p("region")),
            "consent_required" => "must be true: the person must agree to the processing of her data".into(),
            "not_arabic" => "must be written in Arabic script".into(),
            "out_of_range" => format!("must be between {} and {}", p("min"), p("max")),
            "not_split_by_sex" => "is not split by sex: leave it for women and men together".into(),
            "negative_amount" => "must not be negative".into(),
            "too_many_decimals" => "must have at most 2 decimals".into(),
            "invalid_amount" => "must be an amount such as 12500.00".into(),
            "not_canonical" => format!("is not written as this program stores it (expected {})", p("expected")),
            "not_this_pair" => "names another pair of people than its decision's".into(),
            "is_the_database" => format!("'{}' is the database or one of its backups: choose another file", p("path")),
            "amount_too_large" => format!("must not be more than {} MAD", p("max")),
            "implausible_date" => format!("must be between {} and {}", p("min"), p("max")),
            "before_date" => format!("must not be before {} ({})", p("other_field"), p("other")),
            "unknown_beneficiary" => format!("names no beneficiary ({})", p("id")),
            "archived_beneficiary" => format!("names an archived beneficiary ({})", p("id")),
            "milestone_exists" => format!("'{}' is already recorded for this person", p("kind")),
            "milestone_needed" => {
                format!(
                    "'{}' cannot be withdrawn while '{}' stays: withdraw that one first",
                    p("kind"),
                    p("other_kind")
                )
            }
            "voided" => "was withdrawn: enter it again instead of correcting it".into(),
            "merged_beneficiary" => "was merged into another person: undo the merge instead".into(),
            "milestone_order" => format!("contradicts the {} of {}: {}", p("other_kind"), p("other_date"), p("rule")),
            "milestone_requires" => format!("'{}' needs '{}' to be recorded first", p("kind"), p("other_kind")),
            "reason_required" => "a reason is required when an IGA stops".into(),
            "erased" => "was erased when this person withdrew her consent: it cannot be entered again".into(),
            "erased_beneficiary" => format!("names a person whose data was erased (consent withdrawn): {}", p("id")),
            "already_erased" => format!("names a person whose data is already erased ({})", p("id")),
            "unknown_field" => "is not a field of this record".into(),
            "cin_for_moroccans" => {
                "is a Moroccan identity card: for another country of origin, give the identity document instead".into()
            }
            "outside_morocco_for_others" => {
                "'outside Morocco' is for people from another country of origin: choose her region of Morocco".into()
            }
            "invalid_phone_international" => {
                "must be a number written internationally: + then the country code, e.g. +222 22 12 34 56".into()
            }
            "unknown_record" => format!("names no record here ({})", p("id")),
            "withdrawn_record" => {
                format!("names a withdrawn record ({}): put it back first, or choose another", p("id"))
            }
            "invalid_number" => "must be a whole number".into(),
            "too_many" => format!("holds more than {} items", p("max")),
            "owner_is_member" => "must not name the IGA's owner: she is in it already".into(),
            "members_of_individual" => "must be empty for an individual IGA: make it collective".into(),
            "profit_above_turnover" => "must not be more than the monthly turnover".into(),
            "module_of_other_session" => "is only for a financial education session".into(),
            "not_her_iga" => format!("names an IGA of another person ({})", p("id")),
            "iga_needed" => "must name one of the person's IGAs: she has several".into(),
            "invalid_type" => format!("has the wrong type ({})", p("detail")),
            "not_editable" => "cannot be changed".into(),
            "same_person" => "must be another person".into(),
            "already_merged" => format!("is already merged into another person ({})", p("id")),
            "not_merged" => "names a pair that is not merged".into(),
            "unknown_side" => format!("'{}' is not a side of this conflict", p("value")),
            "invalid_recipient" => "must be an age recipient, age1… (`wafira keys show` on that computer)".into(),
            "file_too_large" => format!("is larger than a key file can be ({} at most)", p("max")),
            "not_text" => "is not a text file (UTF-8): it is not a key file".into(),
            "secret_key_file" => {
                "holds a secret key (AGE-SECRET-KEY-1…), which is never handed around: nothing was read; \
                 give the public key (age1…, `wafira keys export-recipient` on that computer)"
                    .into()
            }
            "no_recipient" => "holds no public key (age1…)".into(),
            "several_recipients" => format!("holds {} different public keys (age1…): keep only one", p("n")),
            "invalid_fingerprint" => "must be 16 hex digits, as `wafira keys show` prints it".into(),
            "wrong_passphrase" => {
                "is not the passphrase of this account (or of any account, if none was named); nothing was opened"
                    .into()
            }
            "passphrase_too_short" => format!("must be at least {} characters", crate::accounts::MIN_PASSPHRASE),
            "bad_recovery_key" => "is not a recovery key (13 groups of four letters and digits)".into(),
            "wrong_recovery_key" => "does not open this database".into(),
            "no_own_account" => {
                "is not open with an account (the recovery key opened it): name one with `wafira user add`".into()
            }
            "last_manager" => "is the last manager: add another manager first".into(),
            "unknown_role" => "must be coordinator, assistant or manager".into(),
            "account_exists" => "already exists on this computer".into(),
            "fingerprint_mismatch" => "is not that of the key approved for this computer (use --reenrol)".into(),
            other => other.replace('_', " "),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.english())
    }
}

/// The field errors of one rejected input (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|e| e.field.as_str())
    }

    pub fn has(&self, field: &str, code: &str) -> bool {
        self.0.iter().any(|e| e.field == field && e.code == code)
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "invalid input: {}", parts.join("; "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("this database has no device identity yet: run `wafira init --device NAME --coordinator NAME`")]
    NotInitialised,
    #[error("this database already belongs to device '{0}'")]
    AlreadyInitialised(String),
    #[error("{0} is not a Wafira Field database (another program's file?): nothing was changed in it")]
    NotOurs(String),
    /// An encrypted database with no accounts file beside it.
    #[error("no accounts file {0}: open the database with its recovery key (WAFIRA_RECOVERY_KEY) and add an account")]
    NoAccounts(String),
    /// No database at the path yet.
    #[error(
        "no database at {0}: create it with `wafira init --device NAME --coordinator NAME` (WAFIRA_PASSPHRASE set)"
    )]
    NoDatabase(String),
    /// `init` where a database already is.
    #[error("{0} already holds a database: nothing was changed")]
    DatabaseExists(String),
    /// Demo data asked for in a database that holds real records.
    #[error("{0} holds real records: demo data go into the practice database (`wafira --practice demo …`, or Paramètres in the app)")]
    RealData(String),
    /// The window was left idle: the key was dropped from memory.
    #[error("the database is locked: sign in again")]
    Locked,
    #[error("database {path}: schema version {found} is newer than this program knows ({known}); update Wafira Field")]
    SchemaTooNew { path: String, found: i64, known: i64 },
    #[error("bundle refused: {0}")]
    Bundle(String),
    /// A sync bundle failed a check; nothing was written.
    #[error("bundle refused: {0}")]
    Refused(crate::sync::Refusal),
    #[error("{0}")]
    Conflict(String),
    /// An export with no change since the last bundle: nothing was written
    /// (a full export writes one all the same).
    #[error("nothing new since the last bundle{}: no bundle written (--full sends everything again)", last_number.map(|n| format!(" (number {n})")).unwrap_or_default())]
    NothingNew { last_number: Option<i64> },
    /// The account's role does not allow the action; nothing was done.
    #[error("this needs the {needs} role (this account is {role}): {action} refused")]
    Forbidden { action: &'static str, needs: crate::access::Role, role: crate::access::Role },
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// A report or export could not be made (PDF, spreadsheet, CSV).
    #[error("report: {0}")]
    Report(String),
    /// Long work stopped at a person's request where stopping writes
    /// nothing (progress.rs): no file, no part of a bundle.
    #[error("cancelled: nothing was written")]
    Cancelled,
    /// Long work holds the database (an import, a PDF, an export): wait
    /// for it or cancel it.
    #[error("a long task is using the database: wait for it to end, or cancel it")]
    Busy,
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// A stable code for the UI to translate.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::NotFound { .. } => "not_found",
            Error::NotInitialised => "not_initialised",
            Error::AlreadyInitialised(_) => "already_initialised",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::NotOurs(_) => "not_ours",
            Error::NoAccounts(_) => "no_accounts",
            Error::NoDatabase(_) => "no_database",
            Error::Locked => "locked",
            Error::RealData(_) => "real_data",
            Error::DatabaseExists(_) => "database_exists",
            Error::Bundle(_) => "bundle_refused",
            Error::Refused(r) => r.code(),
            Error::Conflict(_) => "conflict",
            Error::NothingNew { .. } => "nothing_new",
            Error::Forbidden { .. } => "forbidden",
            Error::Db(_) | Error::Migration(_) => "database",
            Error::Io(_) => "io",
            Error::Json(_) => "json",
            Error::Report(_) => "report",
            Error::Cancelled => "cancelled",
            Error::Busy => "busy",
            Error::Other(_) => "other",
        }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Error::Invalid(Invalid(errors))
    }

    pub fn field(field: &str, code: &str) -> Self {
        Error::invalid(vec![FieldError::new(field, code)])
    }

    pub fn as_invalid(&self) -> Option<&Invalid> {
        match self {
            Error::Invalid(i) => Some(i),
            _ => None,
        }
    }
}

/// What the window receives: `{code, message, fields}`. The UI translates
/// `code` and each field error's code; `message` is for logs.
impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Error", 4)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        // A refused bundle's computer, for the window to name and approve it.
        if let Error::Refused(r) = self {
            if let Some(d) = r.details() {
                st.serialize_field("details", &d)?;
            }
        }
        // A refused action names the role it needs, for the window to say so.
        if let Error::Forbidden { action, needs, role } = self {
            st.serialize_field("details", &serde_json::json!({ "action": action, "needs": needs, "role": role }))?;
        }
        let empty = Vec::new();
        st.serialize_field(
            "fields",
            match self {
                Error::Invalid(i) => &i.0,
                _ => &empty,
            },
        )?;
        st.end()
    }
}

/// Collects field errors while an input is checked, so that every problem
/// is reported at once.
#[derive(Default)]
pub(crate) struct Checker {
    pub errors: Vec<FieldError>,
}

impl Checker {
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    /// Keeps the value of `r`, or records its error and gives `None`.
    pub fn take<T>(&mut self, r: std::result::Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T> {
        if self.errors.is_empty() {
            // Every field was checked; a None here means a required field was
            // absent without an error, which the checks rule out.
            value().ok_or_else(|| Error::Other("internal: incomplete validation".into()))
        } else {
            Err(Error::invalid(self.errors))
        }
    }
}
