//! `wafira-pdf`: a small PDF builder for Wafira Field reports.
//!
//! It sits on top of [`printpdf`], whose own text operators map characters to
//! glyphs one to one, with no shaping and no bidi (printpdf issue #126). Our
//! reports mix French, English and Arabic (right to left, joined letters), often
//! with Arabic names inside French sentences, so this crate does the text work
//! itself:
//!
//! 1. split a line into bidi runs (`unicode-bidi`, paragraph level = the
//!    document's base [`Direction`]),
//! 2. split runs by script: Arabic → Noto Naskh Arabic, everything else → Noto
//!    Sans (digits, spaces and punctuation follow their neighbours),
//! 3. shape each run with `rustybuzz`,
//! 4. write the positioned glyph ids into the PDF, each glyph carrying the text
//!    it stands for so the font's `/ToUnicode` CMap makes the text extractable.
//!
//! The four Noto fonts are compiled into the binary and embedded, subset to the
//! glyphs used, in every PDF (no standard-14 fonts).
//!
//! Coordinates are millimetres on an A4 portrait page with the origin at the
//! **top-left** corner and y growing **downwards**; text is placed by its
//! baseline.
//!
//! ```
//! use wafira_pdf::{Align, Direction, Document, Rgb, Weight};
//!
//! let mut doc = Document::new("Rapport", Direction::Ltr)?;
//! let page = doc.new_page();
//! doc.text(page, 20.0, 30.0, 12.0, Weight::Bold, Rgb::BLACK, Align::Left,
//!          "Profil : فاطمة الزهراء (Rabat)")?;
//! doc.line(page, 20.0, 33.0, 190.0, 33.0, 0.5, Rgb(120, 120, 120))?;
//! let pdf: Vec<u8> = doc.save()?;
//! assert!(pdf.starts_with(b"%PDF"));
//! # Ok::<(), wafira_pdf::PdfError>(())
//! ```

mod document;
mod error;
mod fonts;
mod shape;
mod subset;

pub use document::{Document, PageId, PAGE_HEIGHT_MM, PAGE_WIDTH_MM};
pub use error::PdfError;

/// Base (paragraph) direction of a document: `Ltr` for French and English
/// reports, `Rtl` for Arabic ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left.
    Rtl,
}

/// Font weight. Each weight has its own embedded Noto Sans and Noto Naskh
/// Arabic face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Weight {
    /// Regular weight.
    #[default]
    Regular,
    /// Bold weight.
    Bold,
}

/// Horizontal alignment of a text line relative to its anchor `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Align {
    /// The line starts at `x` (its left edge is at `x`).
    #[default]
    Left,
    /// The line ends at `x` (its right edge is at `x`): the usual choice for
    /// right-to-left documents.
    Right,
    /// The line is centred on `x`.
    Center,
}

/// An sRGB colour, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// White.
    pub const WHITE: Rgb = Rgb(255, 255, 255);
}
