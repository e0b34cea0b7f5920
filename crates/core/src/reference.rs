//! Reference data compiled into the program: Morocco's 12 regions (2015
//! division) and their 75 prefectures and provinces, from
//! `assets/morocco-regions.csv`, plus the destination countries.

use serde::Serialize;
use std::sync::OnceLock;

const REGIONS_CSV: &str = include_str!("../../../assets/morocco-regions.csv");

#[derive(Debug, Clone, Serialize)]
pub struct Region {
    /// Stable two-digit code, e.g. `04` for Rabat-Salé-Kénitra.
    pub code: String,
    pub name_fr: String,
    pub name_ar: String,
    pub provinces: Vec<Province>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Province {
    /// The French name, which is also what a record stores.
    pub name: String,
    /// Its Arabic name, shown in Arabic.
    pub name_ar: String,
    /// `prefecture` or `province`.
    pub kind: String,
}

impl Province {
    pub fn label(&self, lang: &str) -> &str {
        if lang == "ar" {
            &self.name_ar
        } else {
            &self.name
        }
    }
}

/// A province's name in `lang`, from the (French) name a record stores; the
/// name itself when it is not one of the reference list.
pub fn province_label<'a>(name: &'a str, lang: &str) -> &'a str {
    regions().iter().flat_map(|r| &r.provinces).find(|p| p.name == name).map_or(name, |p| {
        if lang == "ar" {
            p.name_ar.as_str()
        } else {
            name
        }
    })
}

impl Region {
    pub fn name(&self, lang: &str) -> &str {
        if lang == "ar" {
            &self.name_ar
        } else {
            &self.name_fr
        }
    }

    pub fn has_province(&self, name: &str) -> bool {
        self.provinces.iter().any(|p| p.name == name)
    }
}

/// All regions in code order.
pub fn regions() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let mut all = parse_regions(REGIONS_CSV);
        // Last: the place of people from other countries of origin.
        all.push(Region {
            code: OUTSIDE_MOROCCO.into(),
            name_fr: "Hors du Maroc".into(),
            name_ar: "خارج المغرب".into(),
            provinces: Vec::new(),
        });
        all
    })
}

pub fn region(code: &str) -> Option<&'static Region> {
    regions().iter().find(|r| r.code == code)
}

fn parse_regions(csv: &str) -> Vec<Region> {
    let mut out: Vec<Region> = Vec::new();
    // The file is ours, simple and has no quoted fields; a malformed line is
    // skipped (and the test below would catch it).
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [code, name_fr, name_ar, province, province_ar, kind] = cols[..] else {
            continue;
        };
        if out.last().map(|r| r.code.as_str()) != Some(code) {
            out.push(Region {
                code: code.to_string(),
                name_fr: name_fr.to_string(),
                name_ar: name_ar.to_string(),
                provinces: Vec::new(),
            });
        }
        if let Some(r) = out.last_mut() {
            r.provinces.push(Province {
                name: province.to_string(),
                name_ar: province_ar.to_string(),
                kind: kind.to_string(),
            });
        }
    }
    out
}

/// Destination countries of seasonal migration the programme knows
/// (ISO 3166-1 alpha-2), with names in fr / ar / en.
pub const COUNTRIES: &[(&str, &str, &str, &str)] = &[
    ("ES", "Espagne", "إسبانيا", "Spain"),
    ("FR", "France", "فرنسا", "France"),
    ("PT", "Portugal", "البرتغال", "Portugal"),
    ("IT", "Italie", "إيطاليا", "Italy"),
    ("BE", "Belgique", "بلجيكا", "Belgium"),
    ("NL", "Pays-Bas", "هولندا", "Netherlands"),
    ("DE", "Allemagne", "ألمانيا", "Germany"),
    ("GB", "Royaume-Uni", "المملكة المتحدة", "United Kingdom"),
    ("CA", "Canada", "كندا", "Canada"),
    ("AE", "Émirats arabes unis", "الإمارات العربية المتحدة", "United Arab Emirates"),
    ("SA", "Arabie saoudite", "المملكة العربية السعودية", "Saudi Arabia"),
    ("QA", "Qatar", "قطر", "Qatar"),
];

/// Countries of origin besides Morocco, for the programme's triangular
/// cooperation (ISO 3166-1 alpha-2, names in fr / ar / en).
pub const ORIGIN_COUNTRIES: &[(&str, &str, &str, &str)] = &[
    ("MA", "Maroc", "المغرب", "Morocco"),
    ("MR", "Mauritanie", "موريتانيا", "Mauritania"),
    ("CV", "Cap-Vert", "الرأس الأخضر", "Cape Verde"),
    ("SN", "Sénégal", "السنغال", "Senegal"),
    ("ML", "Mali", "مالي", "Mali"),
    ("TN", "Tunisie", "تونس", "Tunisia"),
    ("DZ", "Algérie", "الجزائر", "Algeria"),
];

/// A country a person may come from or be a national of.
pub fn is_origin_country(code: &str) -> bool {
    ORIGIN_COUNTRIES.iter().any(|c| c.0 == code) || is_country(code)
}

/// The region code of a person who lives outside Morocco (a country of
/// origin other than Morocco): "Hors du Maroc", with no province.
pub const OUTSIDE_MOROCCO: &str = "00";

pub fn is_country(code: &str) -> bool {
    COUNTRIES.iter().any(|c| c.0 == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_regions_seventy_five_provinces() {
        // Morocco's twelve, then "outside Morocco" for other countries of origin.
        assert_eq!(regions().len(), 13);
        assert_eq!(regions().last().map(|r| r.code.as_str()), Some(OUTSIDE_MOROCCO));
        assert_eq!(regions().iter().map(|r| r.provinces.len()).sum::<usize>(), 75);
        let rsk = region("04").expect("region 04");
        assert_eq!(rsk.name_fr, "Rabat-Salé-Kénitra");
        assert!(region("01").is_some_and(|r| r.has_province("Tétouan")));
    }

    #[test]
    fn every_province_has_an_arabic_name() {
        for p in regions().iter().flat_map(|r| &r.provinces) {
            assert!(p.name_ar.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "{} has no Arabic name", p.name);
        }
        assert_eq!(province_label("Kénitra", "ar"), "القنيطرة");
        assert_eq!(province_label("Kénitra", "fr"), "Kénitra");
        assert_eq!(province_label("Ailleurs", "ar"), "Ailleurs");
    }
}
