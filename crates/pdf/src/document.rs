//! The [`Document`] builder: A4 portrait pages in millimetres with a top-left
//! origin, drawing calls that record shaped text, rectangles and lines, and
//! [`Document::save`], which subsets the fonts and writes the PDF with printpdf.

use std::collections::{BTreeMap, BTreeSet};

use printpdf::{
    Codepoint, Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect, TextItem, TextMatrix,
};

use crate::fonts::FontSet;
use crate::shape::{self, PlacedGlyph};
use crate::subset::{self, EmbeddedFace, FontPlan, Instance};
use crate::{Align, Direction, PdfError, Rgb, Weight};

/// A4 page width, mm.
pub const PAGE_WIDTH_MM: f32 = 210.0;
/// A4 page height, mm.
pub const PAGE_HEIGHT_MM: f32 = 297.0;

/// Stroke width of [`Document::rect`] outlines, pt.
const RECT_STROKE_PT: f32 = 0.5;

const PT_PER_MM: f32 = 72.0 / 25.4;

/// A page of a [`Document`], returned by [`Document::new_page`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageId(usize);

impl PageId {
    /// Zero-based page number.
    pub fn index(self) -> usize {
        self.0
    }
}

/// What a page holds, in PDF points with PDF's bottom-left origin.
enum Item {
    Text {
        color: Rgb,
        size_pt: f32,
        /// Left end of the line's baseline.
        x: f32,
        y: f32,
        glyphs: Vec<PlacedGlyph>,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<Rgb>,
        stroke: Option<Rgb>,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width_pt: f32,
        color: Rgb,
    },
}

/// The document information dictionary besides the title.
#[derive(Debug, Clone, Default)]
struct Info {
    author: String,
    subject: String,
    creator: String,
    keywords: Vec<String>,
    /// Seconds since 1970-01-01 UTC.
    created: Option<i64>,
}

/// A PDF document being built: A4 portrait pages, millimetre coordinates from
/// the **top-left** corner of the page with y growing **downwards**.
///
/// Text is shaped when it is added (bidi, Arabic joining, per-script fonts);
/// fonts are subset and the file is written by [`Document::save`].
pub struct Document {
    title: String,
    info: Info,
    base: Direction,
    fonts: FontSet,
    pages: Vec<Vec<Item>>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("title", &self.title)
            .field("base", &self.base)
            .field("pages", &self.pages.len())
            .finish_non_exhaustive()
    }
}

impl Document {
    /// A document without pages. `title` goes into the PDF metadata;
    /// `base_dir` is the paragraph direction of every text line (`Ltr` for
    /// French/English reports, `Rtl` for Arabic ones).
    pub fn new(title: &str, base_dir: Direction) -> Result<Self, PdfError> {
        Ok(Self {
            title: title.to_string(),
            info: Info::default(),
            base: base_dir,
            fonts: FontSet::load()?,
            pages: Vec::new(),
        })
    }

    /// The author in the PDF metadata (`/Author`: an organisation or a
    /// programme as well as a person).
    pub fn set_author(&mut self, author: &str) {
        self.info.author = author.to_string();
    }

    /// The subject in the PDF metadata (`/Subject`).
    pub fn set_subject(&mut self, subject: &str) {
        self.info.subject = subject.to_string();
    }

    /// The application that made the document (`/Creator`).
    pub fn set_creator(&mut self, creator: &str) {
        self.info.creator = creator.to_string();
    }

    /// Keywords of the PDF metadata (`/Keywords`, joined by commas).
    pub fn set_keywords(&mut self, keywords: &[&str]) {
        self.info.keywords = keywords.iter().map(|k| k.to_string()).collect();
    }

    /// The creation (and modification) date of the PDF metadata, in seconds
    /// since 1970-01-01 UTC. Without it the dates are the epoch, so that the
    /// same content gives the same bytes.
    pub fn set_created(&mut self, unix_seconds: i64) -> Result<(), PdfError> {
        printpdf::OffsetDateTime::from_unix_timestamp(unix_seconds)
            .map_err(|_| PdfError::InvalidNumber { what: "creation date", value: unix_seconds as f32 })?;
        self.info.created = Some(unix_seconds);
        Ok(())
    }

    /// Append a blank A4 portrait page.
    pub fn new_page(&mut self) -> PageId {
        self.pages.push(Vec::new());
        PageId(self.pages.len() - 1)
    }

    /// Number of pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The base direction used for text added from now on.
    pub fn direction(&self) -> Direction {
        self.base
    }

    /// Change the base direction for text added, measured or wrapped from now
    /// on (e.g. an Arabic page inside a French report).
    pub fn set_direction(&mut self, base_dir: Direction) {
        self.base = base_dir;
    }

    /// Draw one line of text whose **baseline** is at `y_mm` (from the top of
    /// the page). `align` places the line relative to `x_mm`: its left edge
    /// (`Left`), right edge (`Right`) or middle (`Center`) is at `x_mm`.
    ///
    /// The text may mix scripts ("Profil : فاطمة الزهراء (Rabat)"): it is
    /// reordered and shaped, Arabic in Noto Naskh Arabic, the rest in Noto
    /// Sans. Newlines are drawn as spaces: use [`Document::wrap`] and one call
    /// per line for several lines.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        page: PageId,
        x_mm: f32,
        y_mm: f32,
        size_pt: f32,
        weight: Weight,
        color: Rgb,
        align: Align,
        text: &str,
    ) -> Result<(), PdfError> {
        finite("x", x_mm)?;
        finite("y", y_mm)?;
        positive("font size", size_pt)?;
        self.page_index(page)?;
        let line = shape::shape_line(&self.fonts, text, size_pt, weight, self.base);
        if line.glyphs.is_empty() {
            return Ok(());
        }
        let anchor = x_mm * PT_PER_MM;
        let x = match align {
            Align::Left => anchor,
            Align::Right => anchor - line.width,
            Align::Center => anchor - line.width / 2.0,
        };
        let item = Item::Text { color, size_pt, x, y: pdf_y(y_mm), glyphs: line.glyphs };
        self.push(page, item)
    }

    /// Width in mm of `text` set on one line at `size_pt` in `weight`, after
    /// shaping (the advance width [`Document::text`] would use).
    pub fn measure(&self, text: &str, size_pt: f32, weight: Weight) -> f32 {
        shape::shape_line(&self.fonts, text, size_pt, weight, self.base).width / PT_PER_MM
    }

    /// Break `text` into lines no wider than `max_width_mm`, at spaces (words
    /// are never cut: a word wider than the limit gets a line of its own).
    /// `\n` forces a line break. Lines are returned in logical order, ready for
    /// [`Document::text`]. Whitespace-only text gives no lines.
    pub fn wrap(&self, text: &str, size_pt: f32, weight: Weight, max_width_mm: f32) -> Vec<String> {
        let max_pt = max_width_mm * PT_PER_MM;
        shape::wrap(&self.fonts, text, size_pt, weight, self.base, max_pt)
    }

    /// Draw a rectangle with its top-left corner at (`x`, `y`) mm, `w` × `h`
    /// mm, filled and/or outlined (0.5 pt). With neither colour it draws nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(
        &mut self,
        page: PageId,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<Rgb>,
        stroke: Option<Rgb>,
    ) -> Result<(), PdfError> {
        finite("x", x)?;
        finite("y", y)?;
        finite("width", w)?;
        finite("height", h)?;
        self.page_index(page)?;
        if fill.is_none() && stroke.is_none() {
            return Ok(());
        }
        let item = Item::Rect { x: x * PT_PER_MM, y: pdf_y(y + h), w: w * PT_PER_MM, h: h * PT_PER_MM, fill, stroke };
        self.push(page, item)
    }

    /// Draw a straight line from (`x1`, `y1`) to (`x2`, `y2`) mm, `width_pt`
    /// points thick.
    #[allow(clippy::too_many_arguments)]
    pub fn line(
        &mut self,
        page: PageId,
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width_pt: f32,
        color: Rgb,
    ) -> Result<(), PdfError> {
        for (what, v) in [("x1", x1), ("y1", y1), ("x2", x2), ("y2", y2)] {
            finite(what, v)?;
        }
        positive("line width", width_pt)?;
        self.page_index(page)?;
        let item = Item::Line { from: (x1 * PT_PER_MM, pdf_y(y1)), to: (x2 * PT_PER_MM, pdf_y(y2)), width_pt, color };
        self.push(page, item)
    }

    /// Write the PDF. Only the glyphs used are embedded (fonts are subset).
    pub fn save(self) -> Result<Vec<u8>, PdfError> {
        if self.pages.is_empty() {
            return Err(PdfError::NoPages);
        }
        let mut pdf = PdfDocument::new(&self.title);
        {
            let info = &mut pdf.metadata.info;
            info.author = self.info.author.clone();
            info.subject = self.info.subject.clone();
            info.creator = self.info.creator.clone();
            info.keywords = self.info.keywords.clone();
            if let Some(ts) = self.info.created {
                let when = printpdf::OffsetDateTime::from_unix_timestamp(ts)
                    .map_err(|_| PdfError::InvalidNumber { what: "creation date", value: ts as f32 })?;
                info.creation_date = when;
                info.modification_date = when;
                info.metadata_date = when;
            }
        }

        // Which font instance each glyph uses, then one subset font per instance.
        let mut plan = FontPlan::default();
        for glyph in self.glyphs() {
            plan.add(glyph.font, glyph.gid, &glyph.text);
        }
        let mut faces: BTreeMap<Instance, (FontId, EmbeddedFace)> = BTreeMap::new();
        for (instance, glyphs) in &plan.instances {
            let gids: BTreeSet<u16> = glyphs.keys().copied().collect();
            let face = subset::embed(*instance, &gids);
            let mut parsed = ParsedFont::from_bytes(&face.bytes, 0, &mut Vec::new())
                .ok_or(PdfError::Font(instance.0.postscript_name()))?;
            parsed.font_name = Some(face.name.clone());
            let id = pdf.add_font(&parsed);
            faces.insert(*instance, (id, face));
        }

        let pages = self
            .pages
            .iter()
            .map(|items| {
                let mut ops = Vec::new();
                for item in items {
                    item_ops(item, &faces, &plan, &mut ops);
                }
                PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), ops)
            })
            .collect();
        pdf.with_pages(pages);

        let opts = PdfSaveOptions { image_optimization: None, ..PdfSaveOptions::default() };
        let mut warnings = Vec::new();
        let bytes = pdf.save(&opts, &mut warnings);
        let errors: Vec<String> =
            warnings.into_iter().filter(|w| w.severity == PdfParseErrorSeverity::Error).map(|w| w.msg).collect();
        if !errors.is_empty() {
            return Err(PdfError::Serialize(errors.join("; ")));
        }
        Ok(bytes)
    }

    fn glyphs(&self) -> impl Iterator<Item = &PlacedGlyph> {
        self.pages.iter().flatten().flat_map(|item| match item {
            Item::Text { glyphs, .. } => glyphs.as_slice(),
            _ => &[],
        })
    }

    fn page_index(&self, page: PageId) -> Result<usize, PdfError> {
        if page.0 < self.pages.len() {
            Ok(page.0)
        } else {
            Err(PdfError::NoSuchPage { index: page.0, count: self.pages.len() })
        }
    }

    fn push(&mut self, page: PageId, item: Item) -> Result<(), PdfError> {
        let count = self.pages.len();
        let items = self.pages.get_mut(page.0).ok_or(PdfError::NoSuchPage { index: page.0, count })?;
        items.push(item);
        Ok(())
    }
}

/// printpdf operations for one recorded item.
fn item_ops(item: &Item, faces: &BTreeMap<Instance, (FontId, EmbeddedFace)>, plan: &FontPlan, ops: &mut Vec<Op>) {
    match item {
        Item::Text { color, size_pt, x, y, glyphs } => {
            ops.push(Op::StartTextSection);
            ops.push(Op::SetFillColor { col: pdf_color(*color) });
            let mut current: Option<Instance> = None;
            for glyph in glyphs {
                let Some((instance, text)) = plan.lookup(glyph.font, glyph.gid, &glyph.text) else {
                    continue;
                };
                let Some((font_id, face)) = faces.get(&instance) else {
                    continue;
                };
                if current != Some(instance) {
                    ops.push(Op::SetFont {
                        font: PdfFontHandle::External(font_id.clone()),
                        size: Pt(size_pt * glyph.font.family.size_factor()),
                    });
                    current = Some(instance);
                }
                // Absolute position per glyph: printpdf merges same-baseline runs
                // into one TJ whose kerns reproduce these positions exactly.
                ops.push(Op::SetTextMatrix { matrix: TextMatrix::Translate(Pt(x + glyph.x), Pt(y + glyph.y)) });
                ops.push(Op::ShowText {
                    items: vec![TextItem::GlyphIds(vec![Codepoint {
                        gid: face.gid(glyph.gid),
                        offset: 0.0,
                        cid: Some(text),
                    }])],
                });
            }
            ops.push(Op::EndTextSection);
        }
        Item::Rect { x, y, w, h, fill, stroke } => {
            let mode = match (fill, stroke) {
                (Some(_), Some(_)) => PaintMode::FillStroke,
                (Some(_), None) => PaintMode::Fill,
                _ => PaintMode::Stroke,
            };
            ops.push(Op::SaveGraphicsState);
            if let Some(c) = fill {
                ops.push(Op::SetFillColor { col: pdf_color(*c) });
            }
            if let Some(c) = stroke {
                ops.push(Op::SetOutlineColor { col: pdf_color(*c) });
                ops.push(Op::SetOutlineThickness { pt: Pt(RECT_STROKE_PT) });
            }
            let mut rectangle = Rect::from_xywh(Pt(*x), Pt(*y), Pt(*w), Pt(*h));
            rectangle.mode = Some(mode);
            ops.push(Op::DrawRectangle { rectangle });
            ops.push(Op::RestoreGraphicsState);
        }
        Item::Line { from, to, width_pt, color } => {
            let point = |(x, y): (f32, f32)| LinePoint { p: Point { x: Pt(x), y: Pt(y) }, bezier: false };
            ops.push(Op::SaveGraphicsState);
            ops.push(Op::SetOutlineColor { col: pdf_color(*color) });
            ops.push(Op::SetOutlineThickness { pt: Pt(*width_pt) });
            ops.push(Op::DrawLine { line: Line { points: vec![point(*from), point(*to)], is_closed: false } });
            ops.push(Op::RestoreGraphicsState);
        }
    }
}

/// Top-down mm → PDF bottom-up pt.
fn pdf_y(y_mm: f32) -> f32 {
    (PAGE_HEIGHT_MM - y_mm) * PT_PER_MM
}

fn pdf_color(Rgb(r, g, b): Rgb) -> Color {
    let f = |v: u8| f32::from(v) / 255.0;
    Color::Rgb(printpdf::Rgb::new(f(r), f(g), f(b), None))
}

fn finite(what: &'static str, value: f32) -> Result<(), PdfError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(PdfError::InvalidNumber { what, value })
    }
}

fn positive(what: &'static str, value: f32) -> Result<(), PdfError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(PdfError::InvalidNumber { what, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        match Document::new("t", Direction::Ltr) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let d = doc();
        assert!(matches!(d.save(), Err(PdfError::NoPages)));
        let mut d = doc();
        let p = d.new_page();
        let black = Rgb::BLACK;
        assert!(d.text(p, f32::NAN, 10.0, 12.0, Weight::Regular, black, Align::Left, "x").is_err());
        assert!(d.text(p, 10.0, 10.0, 0.0, Weight::Regular, black, Align::Left, "x").is_err());
        assert!(d.line(p, 0.0, 0.0, 1.0, f32::INFINITY, 1.0, black).is_err());
        assert!(d.rect(PageId(7), 0.0, 0.0, 1.0, 1.0, Some(black), None).is_err());
        assert!(d.save().is_ok());
    }

    #[test]
    fn measure_is_in_mm_and_align_uses_it() {
        let d = doc();
        let w = d.measure("Tanger", 12.0, Weight::Regular);
        // Six glyphs of 12 pt Noto Sans: roughly 12–15 mm.
        assert!(w > 8.0 && w < 20.0, "{w}");
        assert_eq!(d.measure("", 12.0, Weight::Regular), 0.0);
    }

    #[test]
    fn metadata_is_accepted() {
        let mut d = doc();
        d.new_page();
        d.set_author("WAFIRA II");
        d.set_subject("Rapport");
        assert!(d.set_created(1_767_225_600).is_ok());
        assert!(d.set_created(i64::MAX).is_err(), "a date out of range is an error");
        // Read back by pdfinfo in wafira-core's tests/report_pdf.rs.
        assert!(d.save().is_ok_and(|b| b.starts_with(b"%PDF")));
    }

    #[test]
    fn document_is_send() {
        fn is_send<T: Send>() {}
        is_send::<Document>();
    }
}
