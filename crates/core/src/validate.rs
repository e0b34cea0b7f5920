//! Field checks shared by every record: trimmed text, required values,
//! ISO dates, ranges. Each gives a `FieldError` naming its field.

use crate::error::{Error, FieldError, Result};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Trimmed text, `None` when absent or blank.
pub fn opt_text(field: &str, value: &Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => Err(FieldError::new(field, "too_long").with("max", max)),
        Some(s) if s.chars().any(hidden) => Err(FieldError::new(field, "control_character")),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Characters no one types in a form and that change what others see:
/// control characters (NUL, terminal escapes; line breaks and tabs are
/// allowed, for notes) and the bidirectional overrides, embeddings and
/// isolates that can show "Fatima" as another name in a list or a PDF.
/// The marks a keyboard types in Arabic (U+200E, U+200F) stay allowed.
pub(crate) fn hidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// The trimmed value, `None` when absent or blank.
pub fn opt_str(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The trimmed value of a required field.
pub fn req_str<'a>(field: &str, value: &'a Option<String>) -> Result<&'a str, FieldError> {
    opt_str(value).ok_or_else(|| FieldError::new(field, "required"))
}

pub fn req_text(field: &str, value: &Option<String>, max: usize) -> Result<String, FieldError> {
    opt_text(field, value, max)?.ok_or_else(|| FieldError::new(field, "required"))
}

/// The dates any record may hold: from 1900 (spreadsheets start there;
/// nobody the programme follows was born before) to 2199.
pub const MIN_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");
pub const MAX_DATE: NaiveDate = NaiveDate::from_ymd_opt(2199, 12, 31).expect("a valid date");

/// An ISO 8601 calendar date, `YYYY-MM-DD`, between [`MIN_DATE`] and [`MAX_DATE`].
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, FieldError> {
    let t = text.trim();
    if t.len() != 10 {
        return Err(FieldError::new(field, "invalid_date"));
    }
    let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| FieldError::new(field, "invalid_date"))?;
    if !(MIN_DATE..=MAX_DATE).contains(&d) {
        return Err(FieldError::new(field, "implausible_date").with("min", MIN_DATE).with("max", MAX_DATE));
    }
    Ok(d)
}

pub fn opt_date(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, FieldError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_date(field, s).map(Some),
    }
}

pub fn req_date(field: &str, value: &Option<String>) -> Result<NaiveDate, FieldError> {
    opt_date(field, value)?.ok_or_else(|| FieldError::new(field, "required"))
}

/// A date that has happened: not after `today`.
pub fn past_date(field: &str, date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if date > today {
        Err(FieldError::new(field, "future_date"))
    } else {
        Ok(date)
    }
}

pub fn in_range(field: &str, value: i64, min: i64, max: i64) -> Result<i64, FieldError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, "out_of_range").with("min", min).with("max", max))
    }
}

/// Reads a JSON input into `T`, naming the offending field when a value
/// has the wrong type or a field is unknown.
pub fn from_json<T: DeserializeOwned>(value: Value) -> Result<T> {
    let value = blank_to_null(value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." { unknown_field_name(&inner).unwrap_or("input".into()) } else { path };
        let code = if inner.starts_with("unknown field") { "unknown_field" } else { "invalid_type" };
        Error::invalid(vec![FieldError::new(field, code).with("detail", inner)])
    })
}

fn unknown_field_name(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_string())
}

/// Empty strings from a form mean "no value".
fn blank_to_null(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) if s.trim().is_empty() => (k, Value::Null),
                    other => (k, other),
                })
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_override_characters_are_refused_line_breaks_kept() {
        for bad in ["Fati\u{0}ma", "Fatima\u{1b}[31m", "Fa\u{202E}amit", "\u{2066}Fatima"] {
            assert_eq!(
                opt_text("first_name", &Some(bad.into()), 100).unwrap_err().code,
                "control_character",
                "{bad:?}"
            );
        }
        assert!(opt_text("notes", &Some("ligne 1\nligne 2\tfin".into()), 100).is_ok());
        assert!(opt_text("name_ar", &Some("فاطمة\u{200F}".into()), 100).is_ok());
    }

    #[test]
    fn dates_must_be_iso() {
        assert!(parse_date("d", "2024-02-29").is_ok());
        assert_eq!(parse_date("d", "29/02/2024").unwrap_err().code, "invalid_date");
        assert_eq!(parse_date("d", "2023-02-29").unwrap_err().code, "invalid_date");
    }
}
