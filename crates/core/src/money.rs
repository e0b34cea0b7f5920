//! Money in Moroccan dirhams: an exact `Decimal`, never a float.
//! Stored in SQLite as its exact text (e.g. `12500.00`), which sorts and
//! sums back exactly in Rust.

use crate::error::FieldError;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// An amount in MAD with at most two decimals, never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mad(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

/// The largest amount taken: 100 million MAD. Far above any financing
/// or income of a small activity, and small enough that the totals of a
/// million records stay exact within `Decimal`'s range.
pub const MAX_MAD: i64 = 100_000_000;

impl Mad {
    /// Parses user input for `field`: `12500`, `12500.5`, `12 500,50`.
    pub fn parse(field: &str, text: &str) -> Result<Mad, FieldError> {
        let cleaned: String = text
            .trim()
            .trim_end_matches("MAD")
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
            .map(|c| if c == ',' { '.' } else { c })
            .collect();
        let d = Decimal::from_str(&cleaned).map_err(|_| FieldError::new(field, "invalid_amount"))?;
        Mad::check(field, d)
    }

    pub fn check(field: &str, d: Decimal) -> Result<Mad, FieldError> {
        if d.is_sign_negative() && !d.is_zero() {
            return Err(FieldError::new(field, "negative_amount"));
        }
        if d.normalize().scale() > 2 {
            return Err(FieldError::new(field, "too_many_decimals"));
        }
        if d > Decimal::from(MAX_MAD) {
            return Err(FieldError::new(field, "amount_too_large").with("max", MAX_MAD));
        }
        let mut d = d;
        d.rescale(2);
        Ok(Mad(d))
    }

    /// `12 500,00 MAD` in French and Arabic, `12,500.00 MAD` in English.
    pub fn format(&self, lang: &str) -> String {
        let s = format!("{:.2}", self.0);
        let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
        let (sep, dec) = if lang == "en" { (',', '.') } else { ('\u{202f}', ',') };
        let digits: Vec<char> = int.chars().collect();
        let mut grouped = String::new();
        for (i, c) in digits.iter().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
                grouped.push(sep);
            }
            grouped.push(*c);
        }
        format!("{grouped}{dec}{frac} MAD")
    }
}

impl ToSql for Mad {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.to_string()))
    }
}

impl FromSql for Mad {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Decimal::from_str(text).map(Mad).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_exactly() {
        let m = Mad::parse("amount", "12 500,5").unwrap();
        assert_eq!(m.0.to_string(), "12500.50");
        assert_eq!(m.format("fr"), "12\u{202f}500,50 MAD");
        assert_eq!(m.format("en"), "12,500.50 MAD");
        assert_eq!(
            Mad::parse("amount", "0.1").unwrap().0 + Mad::parse("a", "0.2").unwrap().0,
            Decimal::from_str("0.30").unwrap()
        );
    }

    #[test]
    fn refuses_negative_and_fractions_of_centimes() {
        assert_eq!(Mad::parse("amount", "-1").unwrap_err().code, "negative_amount");
        assert_eq!(Mad::parse("amount", "1.005").unwrap_err().code, "too_many_decimals");
        assert_eq!(Mad::parse("amount", "abc").unwrap_err().code, "invalid_amount");
        assert_eq!(Mad::parse("amount", "100000000.01").unwrap_err().code, "amount_too_large");
        assert_eq!(Mad::parse("amount", "79228162514264337593543950335").unwrap_err().code, "amount_too_large");
    }
}
