//! The words and number formats of printed reports, in French, Arabic or
//! English. The texts are the window's own translation files
//! (`ui/locales/<lang>/{common,records,report}.json`), compiled in, so that a label
//! reads the same on screen and on paper.

use crate::error::{Error, Result};
use crate::money::Mad;
use crate::reference;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

const LOCALES: &[(&str, [&str; 3])] = &[
    (
        "fr",
        [
            include_str!("../../../../ui/locales/fr/common.json"),
            include_str!("../../../../ui/locales/fr/records.json"),
            include_str!("../../../../ui/locales/fr/report.json"),
        ],
    ),
    (
        "ar",
        [
            include_str!("../../../../ui/locales/ar/common.json"),
            include_str!("../../../../ui/locales/ar/records.json"),
            include_str!("../../../../ui/locales/ar/report.json"),
        ],
    ),
    (
        "en",
        [
            include_str!("../../../../ui/locales/en/common.json"),
            include_str!("../../../../ui/locales/en/records.json"),
            include_str!("../../../../ui/locales/en/report.json"),
        ],
    ),
];

/// The languages a report can be printed in.
pub const LANGS: [&str; 3] = ["fr", "ar", "en"];

/// One language's words and formats.
pub struct Words {
    pub lang: &'static str,
    map: Map<String, Value>,
}

impl Words {
    /// The words of `lang` (`fr`, `ar` or `en`).
    pub fn new(lang: &str) -> Result<Words> {
        let Some((lang, texts)) = LOCALES.iter().find(|l| l.0 == lang) else {
            return Err(Error::invalid(vec![crate::error::FieldError::new("lang", "unknown_code")
                .with("value", lang)
                .with("allowed", LANGS.join(", "))]));
        };
        let mut map = Map::new();
        for text in texts {
            let part: Map<String, Value> = serde_json::from_str(text)
                .map_err(|e| Error::Report(format!("translations of {lang} are not a JSON object: {e}")))?;
            map.extend(part);
        }
        Ok(Words { lang, map })
    }

    pub fn rtl(&self) -> bool {
        self.lang == "ar"
    }

    /// The text of `key` (the key itself when it has none).
    pub fn t(&self, key: &str) -> String {
        self.map.get(key).and_then(Value::as_str).map_or_else(|| key.to_string(), str::to_string)
    }

    /// The text of `key` with its `{name}` placeholders filled.
    pub fn tp(&self, key: &str, params: &[(&str, &str)]) -> String {
        let mut s = self.t(key);
        for (k, v) in params {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    /// The label of a code of a closed list (`code.<list>.<code>`).
    pub fn code(&self, list: &str, code: &str) -> String {
        let key = format!("code.{list}.{code}");
        self.map.get(&key).and_then(Value::as_str).map_or_else(|| code.to_string(), str::to_string)
    }

    pub fn region(&self, code: &str) -> String {
        reference::region(code).map_or_else(|| code.to_string(), |r| r.name(self.lang).to_string())
    }

    /// A province (stored by its French name) in this language.
    pub fn province(&self, name: &str) -> String {
        reference::province_label(name, self.lang).to_string()
    }

    pub fn country(&self, code: &str) -> String {
        match reference::COUNTRIES.iter().find(|c| c.0 == code) {
            Some(c) => match self.lang {
                "ar" => c.2,
                "en" => c.3,
                _ => c.1,
            }
            .to_string(),
            None => code.to_string(),
        }
    }

    /// `3 000` (French, Arabic: narrow no-break space) or `3,000`.
    pub fn int(&self, n: u64) -> String {
        let sep = if self.lang == "en" { ',' } else { '\u{202f}' };
        group(&n.to_string(), sep)
    }

    /// A decimal with at most `dp` decimals: `83,6` or `83.6`.
    pub fn decimal(&self, d: Decimal, dp: u32) -> String {
        let d = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero).normalize();
        let text = d.to_string();
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let (neg, digits) = int.strip_prefix('-').map_or((false, int), |d| (true, d));
        let sep = if self.lang == "en" { ',' } else { '\u{202f}' };
        let mut out = format!("{}{}", if neg { "-" } else { "" }, group(digits, sep));
        if !frac.is_empty() {
            out.push(if self.lang == "en" { '.' } else { ',' });
            out.push_str(frac);
        }
        out
    }

    /// `83,6 %` or `83.6%`, always one decimal so that columns align.
    pub fn percent(&self, d: Decimal) -> String {
        let mut n = self.decimal(d, 1);
        if !n.contains([',', '.']) {
            n.push_str(if self.lang == "en" { ".0" } else { ",0" });
        }
        if self.lang == "en" {
            format!("{n}%")
        } else {
            format!("{n}\u{202f}%")
        }
    }

    /// `12 500,00 MAD` (an exact amount, rounded to the centime).
    pub fn money(&self, d: Decimal) -> String {
        Mad(d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)).format(self.lang)
    }

    /// `14/03/2026`.
    pub fn date(&self, d: NaiveDate) -> String {
        d.format("%d/%m/%Y").to_string()
    }

    /// A UTC instant as the local date and time, `14/03/2026 09:05`.
    pub fn instant(&self, utc: &str) -> String {
        match chrono::DateTime::parse_from_rfc3339(utc) {
            Ok(t) => t.with_timezone(&chrono::Local).format("%d/%m/%Y %H:%M").to_string(),
            Err(_) => utc.to_string(),
        }
    }
}

fn group(digits: &str, sep: char) -> String {
    let chars: Vec<char> = digits.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if i > 0 && (chars.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(*c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn numbers_follow_the_language() {
        let fr = Words::new("fr").unwrap();
        let en = Words::new("en").unwrap();
        assert_eq!(fr.int(3000), "3\u{202f}000");
        assert_eq!(en.int(1234567), "1,234,567");
        assert_eq!(fr.percent(Decimal::from_str("83.6").unwrap()), "83,6\u{202f}%");
        assert_eq!(en.percent(Decimal::from_str("83.6").unwrap()), "83.6%");
        assert_eq!(fr.money(Decimal::from_str("12500").unwrap()), "12\u{202f}500,00 MAD");
        assert_eq!(fr.decimal(Decimal::from_str("12.345").unwrap(), 2), "12,35");
        assert!(Words::new("de").is_err());
    }
}
