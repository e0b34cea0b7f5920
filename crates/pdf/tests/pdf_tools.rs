//! End-to-end check of a generated report with real PDF tools: qpdf validates
//! the file, poppler's pdffonts / pdftotext / pdftoppm check embedded fonts,
//! extractable text (French accents, Arabic in logical order) and that pages
//! render with ink on them. The tools are required: install them with
//! `apt-get install -y poppler-utils qpdf`.

use std::path::Path;
use std::process::{Command, Output};

use wafira_pdf::{Align, Direction, Document, PdfError, Rgb, Weight};

const FRENCH: &str = "Bénéficiaires enregistrées : 1 234 — Tanger-Tétouan-Al Hoceïma";
const ARABIC: &str = "فاطمة الزهراء بنعلي";
const MIXED: &str = "Profil : فاطمة الزهراء (Rabat)";
const ARABIC_NAME: &str = "فاطمة الزهراء";
const RTL_DIGITS: &str = "المستفيدات 250";

/// Run a tool, failing the test with an install hint if it is missing.
fn run(tool: &str, args: &[&str]) -> Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` is not installed: run `apt-get install -y poppler-utils qpdf` \
             (this test needs qpdf, pdffonts, pdftotext, pdftoppm, pdfinfo)"
        ),
        Err(e) => panic!("could not run {tool}: {e}"),
    }
}

/// Run a tool that must succeed, returning its stdout.
fn run_ok(tool: &str, args: &[&str]) -> String {
    let out = run(tool, args);
    assert!(
        out.status.success(),
        "{tool} {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn build_report() -> Result<Vec<u8>, PdfError> {
    let navy = Rgb(20, 40, 80);
    let mut doc = Document::new("Rapport Wafira", Direction::Ltr)?;

    let p1 = doc.new_page();
    doc.rect(p1, 15.0, 15.0, 180.0, 14.0, Some(Rgb(230, 238, 250)), Some(navy))?;
    doc.text(p1, 20.0, 25.0, 16.0, Weight::Bold, navy, Align::Left, "Rapport trimestriel")?;
    doc.text(p1, 20.0, 40.0, 12.0, Weight::Regular, Rgb::BLACK, Align::Left, FRENCH)?;
    doc.line(p1, 20.0, 43.0, 190.0, 43.0, 0.5, Rgb(150, 150, 150))?;
    doc.text(p1, 20.0, 53.0, 14.0, Weight::Regular, Rgb::BLACK, Align::Left, ARABIC)?;
    doc.text(p1, 20.0, 63.0, 12.0, Weight::Bold, Rgb::BLACK, Align::Left, MIXED)?;

    doc.set_direction(Direction::Rtl);
    let p2 = doc.new_page();
    doc.rect(p2, 15.0, 15.0, 180.0, 14.0, Some(Rgb(230, 250, 238)), None)?;
    doc.text(p2, 190.0, 40.0, 14.0, Weight::Regular, Rgb::BLACK, Align::Right, RTL_DIGITS)?;
    doc.line(p2, 20.0, 44.0, 190.0, 44.0, 1.0, navy)?;
    assert_eq!(doc.page_count(), 2);
    doc.save()
}

/// Remove the bidi embedding marks (U+202A..U+202E) pdftotext wraps
/// right-to-left text in.
fn strip_bidi_marks(s: &str) -> String {
    s.chars().filter(|c| !('\u{202A}'..='\u{202E}').contains(c)).collect()
}

/// Number of non-white pixels of a binary (P5) PGM image.
fn ink_pixels(pgm: &[u8]) -> usize {
    // Header: "P5", width, height, maxval, separated by whitespace, then one
    // whitespace byte and the raster (pdftoppm writes no comments).
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 && i < pgm.len() {
        while i < pgm.len() && pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        while i < pgm.len() && !pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    assert!(pgm.starts_with(b"P5") && fields == 4, "not a binary PGM");
    pgm[i + 1..].iter().filter(|&&v| v < 200).count()
}

#[test]
fn report_passes_real_pdf_tools() {
    let bytes = match build_report() {
        Ok(b) => b,
        Err(e) => panic!("building the report failed: {e}"),
    };
    eprintln!("report: {} bytes", bytes.len());
    // Subset fonts keep a report small (whole fonts would be > 1 MB).
    assert!(bytes.len() < 150_000, "PDF is {} bytes", bytes.len());

    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, &bytes).expect("write pdf");
    let pdf_s = pdf.to_str().expect("utf-8 temp path");

    // Structure.
    run_ok("qpdf", &["--check", pdf_s]);
    let info = run_ok("pdfinfo", &[pdf_s]);
    assert!(info.lines().any(|l| l.starts_with("Pages:") && l.ends_with(" 2")), "{info}");
    assert!(info.contains("Rapport Wafira"), "{info}");

    // Fonts: every font embedded (and subset), Sans and Naskh both present.
    let fonts = run_ok("pdffonts", &[pdf_s]);
    let rows: Vec<&str> = fonts.lines().skip_while(|l| !l.starts_with("---")).skip(1).collect();
    assert!(rows.len() >= 3, "{fonts}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // ... emb sub uni object-number generation
        let n = cols.len();
        assert!(n >= 6, "{row}");
        assert_eq!(cols[n - 5], "yes", "font not embedded: {row}");
        assert_eq!(cols[n - 4], "yes", "font not subset: {row}");
        assert_eq!(cols[n - 3], "yes", "font without ToUnicode: {row}");
    }
    assert!(rows.iter().any(|r| r.contains("+NotoSans-Regular")), "{fonts}");
    assert!(rows.iter().any(|r| r.contains("+NotoNaskhArabic-Regular")), "{fonts}");

    // Text: accents intact, Arabic in logical order.
    let text = run_ok("pdftotext", &["-layout", pdf_s, "-"]);
    assert!(text.contains(FRENCH), "{text}");
    assert!(text.contains(ARABIC), "{text}");
    assert!(text.contains(ARABIC_NAME), "{text}");
    let plain = strip_bidi_marks(&text);
    let mixed_line = plain.lines().find(|l| l.contains("Profil")).unwrap_or_default();
    assert!(mixed_line.contains(ARABIC_NAME) && mixed_line.contains("Rabat)"), "{mixed_line}");
    assert!(plain.contains(RTL_DIGITS), "{text}");

    // Rendering: both pages have ink.
    let prefix = dir.path().join("page");
    run_ok("pdftoppm", &["-r", "30", "-gray", pdf_s, prefix.to_str().expect("utf-8 path")]);
    for page in 1..=2 {
        let path = dir.path().join(format!("page-{page}.pgm"));
        let pgm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let ink = ink_pixels(&pgm);
        assert!(ink > 100, "page {page} looks blank ({ink} dark pixels)");
    }
    assert!(!Path::new(&dir.path().join("page-3.pgm")).exists());
}
