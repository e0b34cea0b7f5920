//! The identifiers a person gives: the national identity card number (CIN)
//! and a Moroccan phone number, normalised so that equal means the same.

use crate::error::FieldError;

/// `bk 123456` → `BK123456`: one or two letters, then 1 to 6 digits... in
/// practice 3 to 6, which is what cards carry.
pub fn parse_cin(field: &str, text: &str) -> Result<String, FieldError> {
    let cin: String = text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase();
    let letters = cin.chars().take_while(|c| c.is_ascii_uppercase()).count();
    let digits = &cin[letters..];
    let ok =
        (1..=2).contains(&letters) && (3..=6).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(cin)
    } else {
        Err(FieldError::new(field, "invalid_cin"))
    }
}

/// Accepts `06…`, `07…`, `05…`, `+212…`, `00212…`, with or without spaces,
/// dots, dashes or brackets; gives E.164, e.g. `+212612345678`.
pub fn parse_phone(field: &str, text: &str) -> Result<String, FieldError> {
    let mut s: String =
        text.chars().filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '(' | ')' | '/')).collect();
    if let Some(rest) = s.strip_prefix("+212") {
        s = rest.to_string();
    } else if let Some(rest) = s.strip_prefix("00212") {
        s = rest.to_string();
    } else if let Some(rest) = s.strip_prefix('0') {
        s = rest.to_string();
    } else {
        return Err(FieldError::new(field, "invalid_phone"));
    }
    // "+212 (0)6…" is a common way to write it.
    if s.len() == 10 && s.starts_with('0') {
        s.remove(0);
    }
    let ok = s.len() == 9 && s.chars().all(|c| c.is_ascii_digit()) && matches!(s.as_bytes()[0], b'5' | b'6' | b'7');
    if ok {
        Ok(format!("+212{s}"))
    } else {
        Err(FieldError::new(field, "invalid_phone"))
    }
}

/// A number of any country, written internationally (`+34 612 34 56 78`,
/// `0034…`): E.164, a `+` then 8 to 15 digits, the country code not 0. A
/// Moroccan number may also be written as Moroccans write it (`06…`).
pub fn parse_phone_any(field: &str, text: &str) -> Result<String, FieldError> {
    if let Ok(moroccan) = parse_phone(field, text) {
        return Ok(moroccan);
    }
    let s: String = text.chars().filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '(' | ')' | '/')).collect();
    let digits = s.strip_prefix('+').or_else(|| s.strip_prefix("00")).unwrap_or("");
    let ok = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
        && !digits.starts_with("212");
    if ok {
        Ok(format!("+{digits}"))
    } else {
        Err(FieldError::new(field, "invalid_phone_international"))
    }
}

/// How a Moroccan reads a stored number: `+212612345678` → `06 12 34 56 78`;
/// any other number as it is stored.
pub fn phone_national(e164: &str) -> String {
    match e164.strip_prefix("+212") {
        Some(n) if n.len() == 9 && n.chars().all(|c| c.is_ascii_digit()) => {
            let d = format!("0{n}");
            [&d[0..2], &d[2..4], &d[4..6], &d[6..8], &d[8..10]].join(" ")
        }
        _ => e164.to_string(),
    }
}

/// The forms a person may type when searching for a stored E.164 number.
pub fn phone_search_tokens(e164: &str) -> Vec<String> {
    match e164.strip_prefix("+212") {
        Some(national) => vec![format!("0{national}"), format!("212{national}"), national.to_string()],
        None => vec![e164.trim_start_matches('+').to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_number_reads_in_the_national_form() {
        assert_eq!(phone_national("+212612345678"), "06 12 34 56 78");
        assert_eq!(phone_national("+34612345678"), "+34612345678");
    }

    #[test]
    fn phones_in_every_usual_form_become_e164() {
        for input in [
            "0612345678",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78",
            "+212612345678",
            "+212 6 12 34 56 78",
            "00212612345678",
            "+212 (0)6 12 34 56 78",
        ] {
            assert_eq!(parse_phone("phone", input).unwrap(), "+212612345678", "{input}");
        }
        assert_eq!(parse_phone("phone", "0712345678").unwrap(), "+212712345678");
        for bad in ["12345", "0812345678", "+33612345678", "06123456789", "phone"] {
            assert_eq!(parse_phone("phone", bad).unwrap_err().code, "invalid_phone", "{bad}");
        }
    }

    #[test]
    fn cin_is_letters_then_digits_upper_case() {
        assert_eq!(parse_cin("cin", "bk123456").unwrap(), "BK123456");
        assert_eq!(parse_cin("cin", " A 12345 ").unwrap(), "A12345");
        for bad in ["123456", "ABC12345", "BK", "BK12a456", "BK1234567"] {
            assert_eq!(parse_cin("cin", bad).unwrap_err().code, "invalid_cin", "{bad}");
        }
    }
}
