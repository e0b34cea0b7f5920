//! Page layout for printed reports, on top of `wafira-pdf`: a cursor that
//! flows down A4 pages, headings, paragraphs, tables that break across
//! pages with their header repeated, bars, and the footer of every page
//! (title, fingerprint, page n / N).
//!
//! Positions are *logical*: `x` is measured from the start edge of the
//! line (left in French and English, right in Arabic), so one layout serves
//! both directions; [`Sheet`] mirrors them for right-to-left pages.

use super::words::Words;
use crate::error::{Error, Result};
use wafira_pdf::{Align, Direction, Document, PageId, PdfError, Rgb, Weight, PAGE_HEIGHT_MM, PAGE_WIDTH_MM};

pub const MARGIN: f32 = 18.0;
pub const WIDTH: f32 = PAGE_WIDTH_MM - 2.0 * MARGIN;
/// Lowest baseline of the flowing content; the footer lies below.
const BOTTOM: f32 = PAGE_HEIGHT_MM - 20.0;
const TOP: f32 = 20.0;

pub const INK: Rgb = Rgb(33, 37, 41);
pub const MUTED: Rgb = Rgb(108, 117, 125);
pub const ACCENT: Rgb = Rgb(15, 94, 99);
pub const ACCENT_LIGHT: Rgb = Rgb(214, 234, 235);
pub const RULE: Rgb = Rgb(206, 212, 218);
pub const ZEBRA: Rgb = Rgb(246, 248, 249);
pub const WARN: Rgb = Rgb(176, 96, 16);

/// Where a cell's text goes in its column, in reading direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Start,
    End,
    Center,
}

/// A table column: its width in mm and the side its text keeps to.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub width: f32,
    pub side: Side,
    /// A box to tick on paper instead of text.
    pub tick: bool,
}

impl Col {
    pub fn start(width: f32) -> Col {
        Col { width, side: Side::Start, tick: false }
    }

    pub fn end(width: f32) -> Col {
        Col { width, side: Side::End, tick: false }
    }

    pub fn tick(width: f32) -> Col {
        Col { width, side: Side::Center, tick: true }
    }
}

pub fn pdf_err(e: PdfError) -> Error {
    Error::Report(format!("PDF: {e}"))
}

/// A document being laid out, with its cursor.
pub struct Sheet<'w> {
    pub doc: Document,
    pub words: &'w Words,
    pub page: PageId,
    /// Baseline of the next line, mm from the top.
    pub y: f32,
    footer: String,
    /// Where logical x = 0 is, from the start margin (a second column).
    pub indent: f32,
    /// Every page made, in order (the footers are drawn at the end).
    pages: Vec<PageId>,
}

impl<'w> Sheet<'w> {
    /// A document with its first page; `footer` is printed on every page.
    pub fn new(title: &str, words: &'w Words, footer: String) -> Result<Sheet<'w>> {
        let dir = if words.rtl() { Direction::Rtl } else { Direction::Ltr };
        let mut doc = Document::new(title, dir).map_err(pdf_err)?;
        // The metadata a donor's PDF reader shows: the programme as author,
        // the app as creator, the day and hour printed.
        doc.set_author(&words.t("report.programme"));
        doc.set_creator(&format!("Wafira Field {}", crate::APP_VERSION));
        doc.set_created(chrono::Utc::now().timestamp()).map_err(pdf_err)?;
        let page = doc.new_page();
        Ok(Sheet { doc, words, page, y: TOP, footer, indent: 0.0, pages: vec![page] })
    }

    fn rtl(&self) -> bool {
        self.words.rtl()
    }

    /// The physical x of a logical position `x` (from the start margin).
    pub fn px(&self, x: f32) -> f32 {
        if self.rtl() {
            PAGE_WIDTH_MM - MARGIN - self.indent - x
        } else {
            MARGIN + self.indent + x
        }
    }

    fn align(&self, side: Side) -> Align {
        match (side, self.rtl()) {
            (Side::Center, _) => Align::Center,
            (Side::Start, false) | (Side::End, true) => Align::Left,
            (Side::Start, true) | (Side::End, false) => Align::Right,
        }
    }

    /// One line of text with its start (or end, or middle) at logical `x`.
    #[allow(clippy::too_many_arguments)]
    pub fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, color: Rgb, side: Side, s: &str) -> Result<()> {
        let (px, align) = (self.px(x), self.align(side));
        self.doc.text(self.page, px, y, size, weight, color, align, s).map_err(pdf_err)
    }

    /// A rectangle from logical `x`, `w` wide towards the end edge.
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Option<Rgb>, stroke: Option<Rgb>) -> Result<()> {
        let left = if self.rtl() { self.px(x) - w } else { self.px(x) };
        self.doc.rect(self.page, left, y, w, h, fill, stroke).map_err(pdf_err)
    }

    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) -> Result<()> {
        let (a, b) = (self.px(x1), self.px(x2));
        self.doc.line(self.page, a, y, b, y, width, color).map_err(pdf_err)
    }

    pub fn measure(&self, s: &str, size: f32, weight: Weight) -> f32 {
        self.doc.measure(s, size, weight)
    }

    /// `s` cut with an ellipsis to fit `width` mm.
    pub fn fit(&self, s: &str, size: f32, weight: Weight, width: f32) -> String {
        if self.measure(s, size, weight) <= width {
            return s.to_string();
        }
        let mut chars: Vec<char> = s.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let cut: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
            if self.measure(&cut, size, weight) <= width {
                return cut;
            }
        }
        String::new()
    }

    pub fn new_page(&mut self) {
        self.page = self.doc.new_page();
        self.pages.push(self.page);
        self.y = TOP;
    }

    /// Starts a new page unless `height` mm still fit below the cursor.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.new_page();
        }
    }

    /// A section title with a rule under it.
    pub fn heading(&mut self, s: &str) -> Result<()> {
        self.ensure(22.0);
        self.y += 4.0;
        self.text(0.0, self.y, 13.0, Weight::Bold, ACCENT, Side::Start, s)?;
        self.y += 2.2;
        self.hline(0.0, WIDTH, self.y, 0.8, ACCENT)?;
        self.y += 6.5;
        Ok(())
    }

    pub fn subheading(&mut self, s: &str) -> Result<()> {
        self.ensure(16.0);
        self.y += 1.5;
        self.text(0.0, self.y, 10.5, Weight::Bold, INK, Side::Start, s)?;
        self.y += 5.5;
        Ok(())
    }

    /// Wrapped text over the full width.
    pub fn paragraph(&mut self, s: &str, size: f32, color: Rgb) -> Result<()> {
        let lines = self.doc.wrap(s, size, Weight::Regular, WIDTH);
        let step = size * 0.5;
        for line in lines {
            self.ensure(step);
            self.text(0.0, self.y, size, Weight::Regular, color, Side::Start, &line)?;
            self.y += step;
        }
        self.y += 1.5;
        Ok(())
    }

    /// A `label: value` line, the label in a column of `label_width` mm.
    pub fn fact(&mut self, label: &str, value: &str, label_width: f32) -> Result<()> {
        let lines = self.doc.wrap(value, 9.5, Weight::Regular, WIDTH - label_width);
        self.ensure(5.2 * lines.len().max(1) as f32);
        let label = self.fit(label, 9.5, Weight::Regular, label_width - 2.0);
        self.text(0.0, self.y, 9.5, Weight::Regular, MUTED, Side::Start, &label)?;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.y += 4.6;
            }
            self.text(label_width, self.y, 9.5, Weight::Regular, INK, Side::Start, line)?;
        }
        self.y += 5.2;
        Ok(())
    }

    /// A table from the cursor, breaking across pages with its header
    /// repeated. `bold_last` sets the last row (a total) in bold.
    pub fn table(&mut self, cols: &[Col], header: &[String], rows: &[Vec<String>], bold_last: bool) -> Result<()> {
        const ROW: f32 = 5.4;
        const SIZE: f32 = 8.5;
        let total: f32 = cols.iter().map(|c| c.width).sum();
        let draw_header = |s: &mut Sheet<'_>| -> Result<()> {
            s.rect(0.0, s.y - 4.0, total, ROW + 0.4, Some(ACCENT_LIGHT), None)?;
            s.row(cols, header, SIZE, Weight::Bold, INK)?;
            s.y += ROW + 0.4;
            Ok(())
        };
        self.ensure(ROW * 3.0);
        draw_header(self)?;
        for (i, r) in rows.iter().enumerate() {
            if self.y + ROW > BOTTOM {
                self.new_page();
                draw_header(self)?;
            }
            let last = bold_last && i + 1 == rows.len();
            if last {
                self.hline(0.0, total, self.y - 4.0, 0.6, INK)?;
            } else if i % 2 == 1 {
                self.rect(0.0, self.y - 4.0, total, ROW, Some(ZEBRA), None)?;
            }
            let weight = if last { Weight::Bold } else { Weight::Regular };
            self.row(cols, r, SIZE, weight, INK)?;
            self.y += ROW;
        }
        self.hline(0.0, total, self.y - 4.0, 0.4, RULE)?;
        self.y += 3.0;
        Ok(())
    }

    /// One line of cells at the cursor, each fitted to its column.
    fn row(&mut self, cols: &[Col], cells: &[String], size: f32, weight: Weight, color: Rgb) -> Result<()> {
        let mut x = 0.0;
        for (col, cell) in cols.iter().zip(cells) {
            if col.tick && cell.is_empty() {
                self.rect(x + (col.width - 3.2) / 2.0, self.y - 3.0, 3.2, 3.2, None, Some(INK))?;
                x += col.width;
                continue;
            }
            let pad = 1.5;
            let text = self.fit(cell, size, weight, col.width - 2.0 * pad);
            let at = match col.side {
                Side::Start => x + pad,
                Side::End => x + col.width - pad,
                Side::Center => x + col.width / 2.0,
            };
            self.text(at, self.y, size, weight, color, col.side, &text)?;
            x += col.width;
        }
        Ok(())
    }

    /// A table whose cells wrap onto as many lines as their text needs
    /// (long indicator names and comments are never cut), breaking across
    /// pages with its header repeated.
    pub fn table_wrapped(&mut self, cols: &[Col], header: &[String], rows: &[Vec<String>]) -> Result<()> {
        const SIZE: f32 = 8.0;
        const LINE: f32 = 3.5;
        const PAD: f32 = 1.2;
        let total: f32 = cols.iter().map(|c| c.width).sum();
        let wrap = |s: &Sheet<'_>, cells: &[String], weight: Weight| -> Vec<Vec<String>> {
            cols.iter()
                .zip(cells)
                .map(|(c, cell)| {
                    let lines = s.doc.wrap(cell, SIZE, weight, c.width - 2.0 * PAD);
                    lines.into_iter().map(|l| s.fit(&l, SIZE, weight, c.width - 2.0 * PAD)).collect()
                })
                .collect()
        };
        let height = |cells: &[Vec<String>]| cells.iter().map(Vec::len).max().unwrap_or(1).max(1) as f32 * LINE + 1.8;
        let draw = |s: &mut Sheet<'_>, cells: &[Vec<String>], weight: Weight, fill: Option<Rgb>| -> Result<()> {
            let top = s.y - 4.0;
            let h = height(cells);
            if fill.is_some() {
                s.rect(0.0, top, total, h, fill, None)?;
            }
            let mut x = 0.0;
            for (col, lines) in cols.iter().zip(cells) {
                let at = match col.side {
                    Side::Start => x + PAD,
                    Side::End => x + col.width - PAD,
                    Side::Center => x + col.width / 2.0,
                };
                for (n, line) in lines.iter().enumerate() {
                    s.text(at, top + 3.4 + LINE * n as f32, SIZE, weight, INK, col.side, line)?;
                }
                x += col.width;
            }
            s.y += h;
            Ok(())
        };
        let head = wrap(self, header, Weight::Bold);
        let body: Vec<Vec<Vec<String>>> = rows.iter().map(|r| wrap(self, r, Weight::Regular)).collect();
        let first = body.first().map_or(0.0, |b| height(b));
        self.ensure(height(&head) + first + 4.0);
        draw(self, &head, Weight::Bold, Some(ACCENT_LIGHT))?;
        for (i, cells) in body.iter().enumerate() {
            if self.y - 4.0 + height(cells) > BOTTOM {
                self.new_page();
                draw(self, &head, Weight::Bold, Some(ACCENT_LIGHT))?;
            }
            let fill = if i % 2 == 1 { Some(ZEBRA) } else { None };
            draw(self, cells, Weight::Regular, fill)?;
        }
        self.hline(0.0, total, self.y - 4.0, 0.4, RULE)?;
        self.y += 3.0;
        Ok(())
    }

    /// A horizontal bar `fraction` (0–1) of `w` long, on a light track.
    pub fn bar(&mut self, x: f32, y: f32, w: f32, h: f32, fraction: f32, color: Rgb) -> Result<()> {
        self.rect(x, y, w, h, Some(ZEBRA), Some(RULE))?;
        let f = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
        if f > 0.0 {
            self.rect(x, y, w * f, h, Some(color), None)?;
        }
        Ok(())
    }

    /// Prints the footer and page number on every page; gives the file and
    /// its number of pages.
    pub fn finish(mut self) -> Result<(Vec<u8>, usize)> {
        let pages = std::mem::take(&mut self.pages);
        let count = pages.len();
        for (n, page) in pages.into_iter().enumerate() {
            self.page = page;
            let y = PAGE_HEIGHT_MM - 10.0;
            self.hline(0.0, WIDTH, y - 4.5, 0.3, RULE)?;
            let footer = self.footer.clone();
            let number = self.words.tp("report.page_of", &[("n", &(n + 1).to_string()), ("total", &count.to_string())]);
            let room = WIDTH - self.measure(&number, 7.5, Weight::Regular) - 6.0;
            let footer = self.fit(&footer, 7.5, Weight::Regular, room);
            self.text(0.0, y, 7.5, Weight::Regular, MUTED, Side::Start, &footer)?;
            self.text(WIDTH, y, 7.5, Weight::Regular, MUTED, Side::End, &number)?;
        }
        Ok((self.doc.save().map_err(pdf_err)?, count))
    }
}
