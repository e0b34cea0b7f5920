//! The four embedded Noto fonts (Sans and Naskh Arabic, regular and bold),
//! compiled into the binary with `include_bytes!` so a report needs no font
//! files at run time, and parsed once per [`Document`](crate::Document) for
//! shaping.

use rustybuzz::Face;

use crate::{PdfError, Weight};

/// Which design a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Family {
    /// Noto Sans: Latin (French, English), digits, punctuation.
    Sans,
    /// Noto Naskh Arabic: Arabic script.
    Naskh,
}

impl Family {
    /// Size multiplier applied to text set in this family. Noto Naskh Arabic
    /// looks about 10% smaller than Noto Sans at the same point size (shorter
    /// letter bodies), which shows in French lines with Arabic names; this
    /// evens them out.
    pub fn size_factor(self) -> f32 {
        match self {
            Family::Sans => 1.0,
            Family::Naskh => 1.1,
        }
    }
}

/// One concrete embedded face: a family in a weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FontKey {
    pub family: Family,
    pub weight: Weight,
}

impl FontKey {
    /// All faces, in [`FontKey::index`] order.
    pub const ALL: [FontKey; 4] = [
        FontKey { family: Family::Sans, weight: Weight::Regular },
        FontKey { family: Family::Sans, weight: Weight::Bold },
        FontKey { family: Family::Naskh, weight: Weight::Regular },
        FontKey { family: Family::Naskh, weight: Weight::Bold },
    ];

    /// Position of this face in [`FontKey::ALL`] and in per-face arrays.
    pub fn index(self) -> usize {
        match (self.family, self.weight) {
            (Family::Sans, Weight::Regular) => 0,
            (Family::Sans, Weight::Bold) => 1,
            (Family::Naskh, Weight::Regular) => 2,
            (Family::Naskh, Weight::Bold) => 3,
        }
    }

    /// The font file's bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self.index() {
            0 => include_bytes!("../../../assets/fonts/NotoSans-Regular.ttf"),
            1 => include_bytes!("../../../assets/fonts/NotoSans-Bold.ttf"),
            2 => include_bytes!("../../../assets/fonts/NotoNaskhArabic-Regular.ttf"),
            _ => include_bytes!("../../../assets/fonts/NotoNaskhArabic-Bold.ttf"),
        }
    }

    /// PostScript name, used as the PDF `/BaseFont`.
    pub fn postscript_name(self) -> &'static str {
        match self.index() {
            0 => "NotoSans-Regular",
            1 => "NotoSans-Bold",
            2 => "NotoNaskhArabic-Regular",
            _ => "NotoNaskhArabic-Bold",
        }
    }
}

/// The parsed faces, ready for shaping.
pub(crate) struct FontSet {
    faces: [Face<'static>; 4],
}

impl FontSet {
    /// Parse the four embedded fonts.
    pub fn load() -> Result<Self, PdfError> {
        let parse = |key: FontKey| Face::from_slice(key.bytes(), 0).ok_or(PdfError::Font(key.postscript_name()));
        let [a, b, c, d] = FontKey::ALL;
        Ok(Self { faces: [parse(a)?, parse(b)?, parse(c)?, parse(d)?] })
    }

    /// The face for `key`.
    pub fn face(&self, key: FontKey) -> &Face<'static> {
        &self.faces[key.index()]
    }

    /// Whether `key`'s face has a glyph for `c`.
    pub fn covers(&self, key: FontKey, c: char) -> bool {
        self.face(key).glyph_index(c).is_some()
    }
}
