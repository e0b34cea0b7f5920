//! Writes a two-page sample report (French, Arabic, mixed lines, an Arabic
//! page) to the path given as first argument, default `sample.pdf`:
//! `cargo run -p wafira-pdf --example sample -- /tmp/sample.pdf`.

use wafira_pdf::{Align, Direction, Document, PdfError, Rgb, Weight};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "sample.pdf".into());
    let bytes = build()?;
    std::fs::write(&path, &bytes)?;
    println!("{path}: {} bytes", bytes.len());
    Ok(())
}

fn build() -> Result<Vec<u8>, PdfError> {
    let dark = Rgb(20, 40, 80);
    let mut doc = Document::new("Rapport Wafira", Direction::Ltr)?;
    let p1 = doc.new_page();
    doc.rect(p1, 15.0, 15.0, 180.0, 14.0, Some(Rgb(230, 238, 250)), Some(dark))?;
    doc.text(p1, 20.0, 25.0, 16.0, Weight::Bold, dark, Align::Left, "Rapport trimestriel — Région")?;
    doc.text(
        p1,
        20.0,
        40.0,
        12.0,
        Weight::Regular,
        Rgb::BLACK,
        Align::Left,
        "Bénéficiaires enregistrées : 1 234 — Tanger-Tétouan-Al Hoceïma",
    )?;
    doc.line(p1, 20.0, 43.0, 190.0, 43.0, 0.5, Rgb(150, 150, 150))?;
    doc.text(p1, 20.0, 52.0, 14.0, Weight::Regular, Rgb::BLACK, Align::Left, "فاطمة الزهراء بنعلي")?;
    doc.text(p1, 20.0, 62.0, 12.0, Weight::Bold, Rgb::BLACK, Align::Left, "Profil : فاطمة الزهراء (Rabat)")?;
    doc.text(p1, 190.0, 72.0, 10.0, Weight::Regular, Rgb(90, 90, 90), Align::Right, "aligné à droite")?;
    doc.text(p1, 105.0, 82.0, 10.0, Weight::Regular, Rgb(90, 90, 90), Align::Center, "centré")?;
    let para =
        "Ce paragraphe est assez long pour être coupé en plusieurs lignes par la fonction wrap, qui coupe aux espaces.";
    let mut y = 95.0;
    for line in doc.wrap(para, 11.0, Weight::Regular, 80.0) {
        doc.text(p1, 20.0, y, 11.0, Weight::Regular, Rgb::BLACK, Align::Left, &line)?;
        y += 6.0;
    }
    doc.rect(p1, 19.0, 89.0, 82.0, y - 89.0, None, Some(Rgb(200, 0, 0)))?;

    doc.set_direction(Direction::Rtl);
    let p2 = doc.new_page();
    doc.rect(p2, 15.0, 15.0, 180.0, 14.0, Some(Rgb(230, 250, 238)), None)?;
    doc.text(p2, 190.0, 25.0, 16.0, Weight::Bold, dark, Align::Right, "تقرير المستفيدات")?;
    doc.text(p2, 190.0, 40.0, 14.0, Weight::Regular, Rgb::BLACK, Align::Right, "المستفيدات 250")?;
    doc.line(p2, 20.0, 44.0, 190.0, 44.0, 1.0, dark)?;
    doc.text(p2, 190.0, 55.0, 14.0, Weight::Regular, Rgb::BLACK, Align::Right, "مُحَمَّد — السلام عليكم، لا بأس")?;
    doc.text(p2, 190.0, 65.0, 12.0, Weight::Bold, Rgb::BLACK, Align::Right, "الاسم: Fatima Zahra (الرباط) ١٢٣")?;
    doc.save()
}
