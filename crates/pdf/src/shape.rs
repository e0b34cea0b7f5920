//! Text shaping: turns one line of logical-order text into positioned glyphs in
//! visual (left-to-right) order.
//!
//! printpdf maps characters to glyphs one to one, which cannot draw Arabic
//! (letters change shape and join) nor order mixed French/Arabic lines. Here a
//! line goes through:
//!
//! 1. **bidi** (`unicode-bidi`): embedding levels with the document's base
//!    direction as paragraph level, then the level runs in visual order;
//! 2. **font runs**: Arabic-script characters use Noto Naskh Arabic, other
//!    letters Noto Sans; neutral characters (spaces, digits, punctuation) take
//!    the font of the letters around them, or the base direction's font at a
//!    boundary between scripts; combining marks stay with their base letter;
//! 3. **shaping** (`rustybuzz`) of each font run within a level run, with the
//!    run's direction, so Arabic letters take their joined forms and glyphs
//!    come out in visual order.
//!
//! Each glyph keeps the text it stands for, for the PDF's `/ToUnicode` map.

use std::ops::Range;

use rustybuzz::{BufferClusterLevel, UnicodeBuffer};
use unicode_bidi::{Level, ParagraphBidiInfo};

use crate::fonts::{Family, FontKey, FontSet};
use crate::{Direction, Weight};

/// One glyph of a shaped line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlacedGlyph {
    /// The face the glyph id refers to.
    pub font: FontKey,
    /// Glyph id in the (full, unsubset) face.
    pub gid: u16,
    /// Horizontal position of the glyph origin from the line's left edge, pt.
    pub x: f32,
    /// Vertical offset from the baseline, pt, upwards.
    pub y: f32,
    /// The text this glyph stands for, in logical order. Empty for the second
    /// and later glyphs of a cluster (the first one carries the whole text).
    pub text: String,
}

/// A shaped line: glyphs in visual order and the line's advance width.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ShapedLine {
    pub glyphs: Vec<PlacedGlyph>,
    /// Total advance width, pt.
    pub width: f32,
}

/// Shape `text` as a single line at `size_pt` points (Arabic runs are set
/// slightly larger, see [`Family::size_factor`]).
///
/// Line and paragraph separators and other control characters are treated as
/// spaces: a line is one bidi paragraph.
pub(crate) fn shape_line(fonts: &FontSet, text: &str, size_pt: f32, weight: Weight, base: Direction) -> ShapedLine {
    let text = sanitize(text);
    if text.is_empty() {
        return ShapedLine::default();
    }
    let para_level = match base {
        Direction::Ltr => Level::ltr(),
        Direction::Rtl => Level::rtl(),
    };
    let bidi = ParagraphBidiInfo::new(&text, Some(para_level));
    let (levels, runs) = bidi.visual_runs(0..text.len());
    let families = resolve_families(fonts, &text, weight, base);

    let mut line = ShapedLine::default();
    for run in runs {
        let rtl = levels.get(run.start).is_some_and(|l| l.is_rtl());
        let mut segments = font_segments(&text, run, &families);
        if rtl {
            segments.reverse();
        }
        for (range, family) in segments {
            let key = FontKey { family, weight };
            shape_segment(fonts, &text, range, key, rtl, size_pt, &mut line);
        }
    }
    line
}

/// Greedy line breaking at spaces: the longest prefix of words that fits in
/// `max_width_pt` goes on each line. A word wider than the limit gets a line of
/// its own (words are never cut). `\n` forces a break.
pub(crate) fn wrap(
    fonts: &FontSet,
    text: &str,
    size_pt: f32,
    weight: Weight,
    base: Direction,
    max_width_pt: f32,
) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut current = String::new();
        // No-break spaces (as in `1 234` or `12 %`) hold their words together.
        let breaks = |c: char| c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}');
        for word in paragraph.split(breaks).filter(|w| !w.is_empty()) {
            if current.is_empty() {
                current.push_str(word);
                continue;
            }
            let candidate = format!("{current} {word}");
            if shape_line(fonts, &candidate, size_pt, weight, base).width <= max_width_pt {
                current = candidate;
            } else {
                lines.push(std::mem::replace(&mut current, word.to_string()));
            }
        }
        lines.push(current);
    }
    // A text that is only whitespace gives no lines rather than one empty line.
    if lines.iter().all(String::is_empty) {
        lines.clear();
    }
    lines
}

/// Replace control characters and paragraph/line separators with spaces.
fn sanitize(text: &str) -> String {
    text.chars().map(|c| if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') { ' ' } else { c }).collect()
}

/// Arabic-script characters (letters, marks, Arabic-Indic digits, Arabic
/// punctuation, presentation forms): always set in Naskh.
fn is_arabic(c: char) -> bool {
    matches!(c as u32,
        0x0600..=0x061B | 0x061D..=0x06FF | 0x0750..=0x077F | 0x0870..=0x08FF
        | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// Combining marks that must stay in their base letter's font.
fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Arabic combining marks (harakat, shadda, sukun, superscript alef, Quranic
/// marks). They are drawn, but left out of the extractable text: poppler
/// orders zero-width marks before their letter and splits the word there
/// ("مُحَمَّد" came out as "ُم َح َّمد"), while without them it yields the plain,
/// searchable "محمد".
fn is_arabic_mark(c: char) -> bool {
    matches!(c as u32,
        0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06DC | 0x06DF..=0x06E4
        | 0x06E7..=0x06E8 | 0x06EA..=0x06ED | 0x08D3..=0x08FF)
}

/// Invisible formatting characters (joiners, bidi marks): shaped for their
/// effect, but not drawn.
fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32, 0x00AD | 0x061C | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF)
}

/// Pick a font family for every character (indexed like `text.char_indices()`).
fn resolve_families(fonts: &FontSet, text: &str, weight: Weight, base: Direction) -> Vec<Family> {
    let base_family = match base {
        Direction::Ltr => Family::Sans,
        Direction::Rtl => Family::Naskh,
    };
    let chars: Vec<char> = text.chars().collect();
    // Strong assignments: script letters. Neutrals are `None` for now.
    let strong: Vec<Option<Family>> = chars
        .iter()
        .map(|&c| {
            if is_arabic(c) {
                Some(Family::Naskh)
            } else if c.is_alphabetic() && !is_combining(c) {
                Some(Family::Sans)
            } else {
                None
            }
        })
        .collect();

    let mut families = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let family = match strong[i] {
            Some(f) => f,
            None if is_combining(c) && i > 0 => families[i - 1],
            None => {
                let prev = strong[..i].iter().rev().flatten().next().copied();
                let next = strong[i + 1..].iter().flatten().next().copied();
                match (prev, next) {
                    (Some(p), Some(n)) if p == n => p,
                    (Some(_), Some(_)) | (None, None) => base_family,
                    (Some(p), None) => p,
                    (None, Some(n)) => n,
                }
            }
        };
        // Fall back to the other family when the chosen face lacks the glyph.
        let other = match family {
            Family::Sans => Family::Naskh,
            Family::Naskh => Family::Sans,
        };
        let covered = |f| fonts.covers(FontKey { family: f, weight }, c);
        families.push(if !covered(family) && covered(other) { other } else { family });
    }
    families
}

/// Split a level run (byte range) into maximal same-family segments, in
/// logical order.
fn font_segments(text: &str, run: Range<usize>, families: &[Family]) -> Vec<(Range<usize>, Family)> {
    let mut segments: Vec<(Range<usize>, Family)> = Vec::new();
    for ((pos, c), &family) in text.char_indices().zip(families) {
        if pos < run.start || pos >= run.end {
            continue;
        }
        let end = pos + c.len_utf8();
        match segments.last_mut() {
            Some((range, f)) if *f == family && range.end == pos => range.end = end,
            _ => segments.push((pos..end, family)),
        }
    }
    segments
}

/// Shape `text[range]` in one face and direction, appending its glyphs to
/// `line` at the line's current pen position.
fn shape_segment(
    fonts: &FontSet,
    text: &str,
    range: Range<usize>,
    key: FontKey,
    rtl: bool,
    size_pt: f32,
    line: &mut ShapedLine,
) {
    let face = fonts.face(key);
    let segment = &text[range.clone()];
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(segment);
    // Context lets the shaper see joining neighbours outside the segment.
    buffer.set_pre_context(&text[..range.start]);
    buffer.set_post_context(&text[range.end..]);
    buffer.set_direction(if rtl { rustybuzz::Direction::RightToLeft } else { rustybuzz::Direction::LeftToRight });
    buffer.set_cluster_level(BufferClusterLevel::MonotoneCharacters);
    buffer.guess_segment_properties();
    let shaped = rustybuzz::shape(face, &[], buffer);

    // Text of each cluster: from its start to the next cluster start.
    let mut starts: Vec<usize> = shaped.glyph_infos().iter().map(|g| g.cluster as usize).collect();
    starts.sort_unstable();
    starts.dedup();
    let cluster_text = |start: usize| -> &str {
        let end = starts.iter().find(|&&s| s > start).copied().unwrap_or(segment.len());
        segment.get(start..end).unwrap_or("")
    };

    let scale = size_pt * key.family.size_factor() / face.units_per_em().max(1) as f32;
    let mut seen = Vec::new();
    for (info, pos) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
        let cluster = info.cluster as usize;
        let text = cluster_text(cluster);
        let invisible = pos.x_advance == 0 && !text.is_empty() && text.chars().all(is_default_ignorable);
        if !invisible {
            let first = !seen.contains(&cluster);
            if first {
                seen.push(cluster);
            }
            line.glyphs.push(PlacedGlyph {
                font: key,
                // rustybuzz glyph ids come from a u16 glyph index.
                gid: u16::try_from(info.glyph_id).unwrap_or(0),
                x: line.width + pos.x_offset as f32 * scale,
                y: pos.y_offset as f32 * scale,
                text: if first && !text.chars().all(is_arabic_mark) { text.to_string() } else { String::new() },
            });
        }
        line.width += pos.x_advance as f32 * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> FontSet {
        match FontSet::load() {
            Ok(f) => f,
            Err(e) => panic!("fonts: {e}"),
        }
    }

    /// Visual-order text of a shaped line (glyph texts left to right).
    fn visual_text(line: &ShapedLine) -> String {
        line.glyphs.iter().map(|g| g.text.as_str()).collect()
    }

    #[test]
    fn french_line_is_sans_and_in_order() {
        let f = fonts();
        let line = shape_line(&f, "Tétouan", 12.0, Weight::Regular, Direction::Ltr);
        assert!(line.glyphs.iter().all(|g| g.font.family == Family::Sans));
        assert_eq!(visual_text(&line), "Tétouan");
        assert!(line.glyphs.windows(2).all(|w| w[0].x < w[1].x));
        assert!(line.glyphs.iter().all(|g| g.gid != 0));
    }

    #[test]
    fn arabic_is_naskh_joined_and_right_to_left() {
        let f = fonts();
        let word = "فاطمة";
        let line = shape_line(&f, word, 12.0, Weight::Regular, Direction::Rtl);
        assert!(line.glyphs.iter().all(|g| g.font.family == Family::Naskh && g.gid != 0));
        // Visual order is the reverse of logical order.
        let reversed: String = word.chars().rev().collect();
        assert_eq!(visual_text(&line), reversed);
        // Joining: the initial form of ف differs from its isolated form.
        let isolated = shape_line(&f, "ف", 12.0, Weight::Regular, Direction::Rtl);
        let first_logical = line.glyphs.last().map(|g| g.gid);
        assert_ne!(first_logical, isolated.glyphs.first().map(|g| g.gid));
    }

    #[test]
    fn arabic_name_inside_french_line() {
        let f = fonts();
        let line = shape_line(&f, "Profil : فاطمة الزهراء (Rabat)", 12.0, Weight::Regular, Direction::Ltr);
        let text = visual_text(&line);
        // Latin parts stay left to right around the reversed Arabic name.
        assert!(text.starts_with("Profil : "), "{text}");
        assert!(text.ends_with(" (Rabat)"), "{text}");
        let name: String = "فاطمة الزهراء".chars().rev().collect();
        assert!(text.contains(&name), "{text}");
        // The parentheses are Sans (boundary between scripts in an LTR line).
        let paren = line.glyphs.iter().find(|g| g.text == "(");
        assert_eq!(paren.map(|g| g.font.family), Some(Family::Sans));
    }

    #[test]
    fn digits_in_rtl_line_stay_left_to_right() {
        let f = fonts();
        let line = shape_line(&f, "المستفيدات 250", 12.0, Weight::Regular, Direction::Rtl);
        let text = visual_text(&line);
        // The number is leftmost and reads 250.
        assert!(text.starts_with("250 "), "{text}");
    }

    #[test]
    fn wrap_breaks_at_spaces() {
        let f = fonts();
        let text = "un deux trois quatre cinq six sept huit neuf dix";
        let width = shape_line(&f, "un deux trois", 10.0, Weight::Regular, Direction::Ltr).width;
        let lines = wrap(&f, text, 10.0, Weight::Regular, Direction::Ltr, width + 0.01);
        assert_eq!(lines.first().map(String::as_str), Some("un deux trois"));
        assert_eq!(lines.join(" "), text);
        for l in &lines {
            assert!(shape_line(&f, l, 10.0, Weight::Regular, Direction::Ltr).width <= width + 0.01);
        }
        assert_eq!(wrap(&f, "a\nb", 10.0, Weight::Regular, Direction::Ltr, 1000.0), ["a", "b"]);
        assert!(wrap(&f, "   ", 10.0, Weight::Regular, Direction::Ltr, 1000.0).is_empty());
    }

    #[test]
    fn bold_is_wider_than_regular() {
        let f = fonts();
        let r = shape_line(&f, "Bénéficiaires", 12.0, Weight::Regular, Direction::Ltr).width;
        let b = shape_line(&f, "Bénéficiaires", 12.0, Weight::Bold, Direction::Ltr).width;
        assert!(b > r && r > 0.0);
    }
}
