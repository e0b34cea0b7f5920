//! Folding of names for search and for spotting the same person written
//! twice: accents, case, Arabic diacritics and letter variants, `El`/`Al`
//! prefixes and the usual transliteration variants (Fatima/Fatma,
//! Mohammed/Mohamed).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lower case, no accents, Arabic letters unified, anything that is not a
/// letter or digit turned into a space; words separated by one space.
/// `Fâtima  EL-Idrissi` → `fatima el idrissi`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfd() {
        if is_combining_mark(c) || is_arabic_mark(c) {
            continue;
        }
        let c = unify_arabic(c);
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

fn is_arabic_mark(c: char) -> bool {
    // Harakat, tanwin, shadda, sukun, superscript alef, tatweel.
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}')
}

fn unify_arabic(c: char) -> char {
    match c {
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ة' => 'ه',
        'ى' => 'ي',
        'ؤ' => 'و',
        'ئ' => 'ي',
        other => other,
    }
}

/// A key that two spellings of one name share: folded, without the article
/// (`el`, `al`, `ال`), vowels dropped after the first letter, doubled
/// letters collapsed, `dj` read `j` and `sh` read `ch`. `Mohammed` and `Mohamed` → `mhmd`; `Fatima`, `Fatma`
/// → `ftm`; `El Idrissi`, `Idrissi` → `idrs`.
pub fn name_key(name: &str) -> String {
    let folded = fold(name);
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    words.retain(|w| !matches!(*w, "el" | "al" | "ben" | "bent" | "ould" | "ait" | "ال"));
    let mut key = String::new();
    for w in words {
        let w = w.strip_prefix("ال").filter(|r| !r.is_empty()).unwrap_or(w);
        let mut last: Option<char> = None;
        // Byte offsets, not char counts: names in Arabic script are multi-byte.
        for (i, c) in w.char_indices() {
            // French and English transliterations of one Arabic letter:
            // `dj`/`j` (ج), `ch`/`sh` (ش), `kh` (خ).
            if c == 'd' && w[i..].starts_with("dj") {
                continue;
            }
            let c = match c {
                'y' => 'i',
                'w' => 'u',
                's' if w[i..].starts_with("sh") => 'c',
                'k' if w[i..].starts_with("kh") => 'x',
                other => other,
            };
            let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u');
            if (vowel && i > 0) || last == Some(c) {
                last = Some(c);
                continue;
            }
            key.push(c);
            last = Some(c);
        }
    }
    key
}

/// Edit distance between two short strings (by characters).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Whether two written names are likely the same name: same key, or folded
/// forms within an edit distance scaled by length (0 up to 3 letters, 1 for
/// 4–6, 2 from 7), as OpenCRVS does.
pub fn similar_names(a: &str, b: &str) -> bool {
    let (fa, fb) = (fold(a), fold(b));
    if fa.is_empty() || fb.is_empty() {
        return false;
    }
    // A key of fewer than 3 letters (`Ali`, `Ala` → `al`) says too little.
    let (ka, kb) = (name_key(a), name_key(b));
    if fa == fb || (ka == kb && ka.chars().count() >= 3) {
        return true;
    }
    let (sa, sb) = (fa.replace(' ', ""), fb.replace(' ', ""));
    let len = sa.chars().count().min(sb.chars().count());
    let allowed = match len {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    };
    levenshtein(&sa, &sb) <= allowed
}

/// A CSV cell as a spreadsheet may open it: text beginning with what a
/// spreadsheet reads as a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading apostrophe, so that a name typed as
/// `=HYPERLINK(…)` on a laptop stays text on the manager's computer.
pub fn csv_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_removes_accents_case_and_arabic_marks() {
        assert_eq!(fold("Fâtima"), "fatima");
        assert_eq!(fold("FATIMA"), "fatima");
        assert_eq!(fold("  Aït-Benhaddou  "), "ait benhaddou");
        assert_eq!(fold("فَاطِمَة"), "فاطمه");
        assert_eq!(fold("أمينة"), "امينه");
    }

    #[test]
    fn transliterations_and_articles_share_a_key() {
        assert_eq!(name_key("Mohammed"), name_key("Mohamed"));
        assert_eq!(name_key("Muhammad"), name_key("Mohamed"));
        assert_eq!(name_key("Fatima"), name_key("Fatma"));
        assert_eq!(name_key("El Idrissi"), name_key("Idrissi"));
        assert_eq!(name_key("Al-Idrissi"), name_key("EL IDRISSI"));
        assert_eq!(name_key("Khadija"), name_key("Khadidja"));
        assert_ne!(name_key("Fatima"), name_key("Fatiha"));
        assert_ne!(name_key("Amina"), name_key("Aicha"));
        assert_eq!(name_key("فاطمة"), name_key("فاطمه"), "Arabic names fold without panicking");
    }

    #[test]
    fn similar_names_tolerate_small_typos_scaled_by_length() {
        assert!(similar_names("Benali", "Ben Ali"));
        assert!(similar_names("Bouchra", "Bouchr"));
        assert!(!similar_names("Ali", "Ala"));
        assert!(!similar_names("Zineb", "Hafsa"));
    }
}
