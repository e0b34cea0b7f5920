//! The words and number formats of printed reports, in French, Arabic or
//! English. The texts are the window's own translation files
//! (`ui/locales/<lang>/{common,records,report,programme}.json`), compiled
//! in, so that a label reads the same on screen, on paper and in an
//! export: the labels of the declared kinds' fields and codes
//! (`field.<kind>.<name>`, `field.<name>`, `code.<list>.<code>`) are the
//! window's programme.json, read in the window's order (a later file's
//! key wins, as there).

use crate::error::{Error, Result};
use crate::money::Mad;
use crate::reference;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

const LOCALES: &[(&str, [&str; 4])] = &[
    (
        "fr",
        [
            include_str!("../../../../ui/locales/fr/common.json"),
            include_str!("../../../../ui/locales/fr/records.json"),
            include_str!("../../../../ui/locales/fr/report.json"),
            include_str!("../../../../ui/locales/fr/programme.json"),
        ],
    ),
    (
        "ar",
        [
            include_str!("../../../../ui/locales/ar/common.json"),
            include_str!("../../../../ui/locales/ar/records.json"),
            include_str!("../../../../ui/locales/ar/report.json"),
            include_str!("../../../../ui/locales/ar/programme.json"),
        ],
    ),
    (
        "en",
        [
            include_str!("../../../../ui/locales/en/common.json"),
            include_str!("../../../../ui/locales/en/records.json"),
            include_str!("../../../../ui/locales/en/report.json"),
            include_str!("../../../../ui/locales/en/programme.json"),
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

    /// Whether `key` has a text in this language.
    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(Value::is_string)
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

    /// The text of `key` agreeing with `count` (`key.one`, `key.few`…, see
    /// [`plural`]), `{n}` filled with the count as printed (`3 000`).
    pub fn tn(&self, key: &str, count: u64, params: &[(&str, &str)]) -> String {
        let n = self.int(count);
        self.plural_text(key, Decimal::from(count), &n, params)
    }

    /// [`Words::tn`] for a decimal printed with at most `dp` decimals
    /// (`66,5 jours`): the form agrees with the number as printed.
    pub fn tn_decimal(&self, key: &str, d: Decimal, dp: u32, params: &[(&str, &str)]) -> String {
        let printed = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero).normalize();
        let n = self.decimal(printed, dp);
        self.plural_text(key, printed, &n, params)
    }

    fn plural_text(&self, key: &str, count: Decimal, n: &str, params: &[(&str, &str)]) -> String {
        let form = format!("{key}.{}", plural(self.lang, count));
        let key = if self.map.contains_key(&form) { form } else { format!("{key}.other") };
        let mut all = vec![("n", n)];
        all.extend_from_slice(params);
        self.tp(&key, &all)
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
        match reference::COUNTRIES.iter().chain(reference::ORIGIN_COUNTRIES).find(|c| c.0 == code) {
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

    /// The currency written after an amount: `MAD`, `درهم` in Arabic.
    pub fn currency(&self) -> &'static str {
        if self.lang == "ar" {
            "درهم"
        } else {
            "MAD"
        }
    }

    /// `12 500,00 MAD`, `12 500,00 درهم` (an exact amount, rounded to the centime).
    pub fn money(&self, d: Decimal) -> String {
        let text = Mad(d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)).format(self.lang);
        match text.strip_suffix(" MAD") {
            Some(number) => format!("{number} {}", self.currency()),
            None => text,
        }
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

/// The CLDR plural category of `n` in `lang` (unicode.org/cldr, plural
/// rules; what `Intl.PluralRules` gives the window):
///
/// - French: `one` for 0 ≤ n < 2, `many` for whole millions, else `other`;
/// - English: `one` for 1 written without decimals, else `other`;
/// - Arabic: `zero` 0, `one` 1, `two` 2, `few` when n % 100 is 3–10, `many`
///   when n % 100 is 11–99 (whole numbers), else `other` (100–102, 1.5).
///
/// `n` as printed: `1.0` has one visible decimal.
pub fn plural(lang: &str, n: Decimal) -> &'static str {
    let n = n.abs();
    let whole = n.fract().is_zero();
    let i = n.trunc();
    let v = if whole { n.scale() } else { 1 }; // visible decimals, as printed
    match lang {
        "ar" => {
            let hundred = if whole { n % Decimal::ONE_HUNDRED } else { Decimal::NEGATIVE_ONE };
            if n.is_zero() {
                "zero"
            } else if n == Decimal::ONE {
                "one"
            } else if n == Decimal::TWO {
                "two"
            } else if (Decimal::from(3)..=Decimal::TEN).contains(&hundred) {
                "few"
            } else if (Decimal::from(11)..=Decimal::from(99)).contains(&hundred) {
                "many"
            } else {
                "other"
            }
        }
        "fr" => {
            if i <= Decimal::ONE {
                "one"
            } else if v == 0 && (i % Decimal::from(1_000_000)).is_zero() {
                "many"
            } else {
                "other"
            }
        }
        _ => {
            if i == Decimal::ONE && v == 0 {
                "one"
            } else {
                "other"
            }
        }
    }
}

/// The plural categories each language's texts must hold (French `many`
/// may fall back to `other`).
pub fn plural_categories(lang: &str) -> &'static [&'static str] {
    match lang {
        "ar" => &["zero", "one", "two", "few", "many", "other"],
        _ => &["one", "other"],
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

    #[test]
    fn arabic_amounts_are_in_dirhams() {
        let ar = Words::new("ar").unwrap();
        assert_eq!(ar.money(Decimal::from_str("12500.5").unwrap()), "12\u{202f}500,50 درهم");
        assert_eq!(Words::new("en").unwrap().money(Decimal::from(3)), "3.00 MAD");
    }

    fn cat(lang: &str, n: &str) -> &'static str {
        plural(lang, Decimal::from_str(n).unwrap())
    }

    /// The examples of CLDR's plural rules (plurals.xml).
    #[test]
    fn plural_categories_follow_cldr() {
        for (n, want) in [
            ("0", "zero"),
            ("1", "one"),
            ("2", "two"),
            ("3", "few"),
            ("10", "few"),
            ("103", "few"),
            ("110", "few"),
            ("1003", "few"),
            ("11", "many"),
            ("26", "many"),
            ("99", "many"),
            ("111", "many"),
            ("1011", "many"),
            ("100", "other"),
            ("101", "other"),
            ("102", "other"),
            ("1000", "other"),
            ("0.1", "other"),
            ("1.5", "other"),
            ("3.5", "other"),
            ("3.0", "few"),
        ] {
            assert_eq!(cat("ar", n), want, "ar {n}");
        }
        for (n, want) in [
            ("0", "one"),
            ("1", "one"),
            ("1.5", "one"),
            ("2", "other"),
            ("17", "other"),
            ("100", "other"),
            ("66.5", "other"),
            ("1000000", "many"),
            ("2000000", "many"),
            ("1000001", "other"),
        ] {
            assert_eq!(cat("fr", n), want, "fr {n}");
        }
        for (n, want) in
            [("1", "one"), ("0", "other"), ("2", "other"), ("1.0", "other"), ("1.5", "other"), ("21", "other")]
        {
            assert_eq!(cat("en", n), want, "en {n}");
        }
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        let fr = Words::new("fr").unwrap();
        let ar = Words::new("ar").unwrap();
        let en = Words::new("en").unwrap();
        assert_eq!(fr.tn("count.days", 0, &[]), "0 jour");
        assert_eq!(fr.tn("count.days", 1, &[]), "1 jour");
        assert_eq!(fr.tn("count.days", 3000, &[]), "3\u{202f}000 jours");
        assert_eq!(fr.tn_decimal("count.days", Decimal::from_str("66.54").unwrap(), 1, &[]), "66,5 jours");
        assert_eq!(fr.tn_decimal("count.days", Decimal::from_str("1.54").unwrap(), 1, &[]), "1,5 jour");
        assert_eq!(en.tn("count.days", 1, &[]), "1 day");
        assert_eq!(en.tn("count.days", 0, &[]), "0 days");
        assert_eq!(ar.tn("count.days", 2, &[]), "يومان");
        assert_eq!(ar.tn("count.days", 5, &[]), "5 أيام");
        assert_eq!(ar.tn("count.days", 60, &[]), "60 يوما");
        assert_eq!(ar.tn("count.days", 100, &[]), "100 يوم");
        assert_eq!(fr.tn("report.registered_intro", 1, &[("period", "2024")]), "1 personne inscrite (2024).");
        // A French million falls back to `other`.
        assert_eq!(fr.tn("count.people", 1_000_000, &[]), "1\u{202f}000\u{202f}000 personnes");
    }
}
