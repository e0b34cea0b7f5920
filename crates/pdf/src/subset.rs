//! Font embedding at save time: which embedded font instance each glyph uses
//! ([`FontPlan`]), and subsetting each instance to the glyphs it draws.
//!
//! A font's `/ToUnicode` map gives one text per glyph id, but shaping reuses a
//! glyph for different texts: a parenthesis mirrored in right-to-left text is
//! the other parenthesis' glyph. Such a glyph goes into a second instance of
//! the face (a separate, tiny subset with its own map), so every glyph
//! extracts as what it stands for.
//!
//! printpdf only subsets with its heavy `text_layout` feature (azul-layout,
//! fontconfig); without it, it embeds whole font files (~0.5 MB per Noto Sans
//! face). Its mandatory font backend, `allsorts`, has the subsetter itself, so
//! we call it directly and hand printpdf the already-subset face, with glyph
//! ids renumbered to match.

use std::collections::{BTreeMap, BTreeSet};

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{subset, CmapTarget, SubsetProfile};

use crate::fonts::FontKey;

/// One embedded font instance: a face and a variant number (0 unless some of
/// the face's glyphs are drawn for several texts).
pub(crate) type Instance = (FontKey, usize);

/// Assigns each glyph occurrence (face, glyph id, extraction text) to an
/// instance whose `/ToUnicode` map gives that glyph exactly that text.
#[derive(Debug, Default)]
pub(crate) struct FontPlan {
    /// Per instance: glyph id → extraction text ("" = no mapping).
    pub instances: BTreeMap<Instance, BTreeMap<u16, String>>,
    assigned: BTreeMap<(FontKey, u16, String), usize>,
}

impl FontPlan {
    /// Record an occurrence of glyph `gid` of `key` standing for `text`.
    pub fn add(&mut self, key: FontKey, gid: u16, text: &str) {
        let text = extraction_text(text);
        if self.assigned.contains_key(&(key, gid, text.clone())) {
            return;
        }
        let mut variant = 0;
        while self.instances.get(&(key, variant)).is_some_and(|m| m.contains_key(&gid)) {
            variant += 1;
        }
        self.instances.entry((key, variant)).or_default().insert(gid, text.clone());
        self.assigned.insert((key, gid, text), variant);
    }

    /// The instance an occurrence recorded with [`FontPlan::add`] uses, and the
    /// text its map gives the glyph.
    pub fn lookup(&self, key: FontKey, gid: u16, text: &str) -> Option<(Instance, String)> {
        let text = extraction_text(text);
        let variant = *self.assigned.get(&(key, gid, text.clone()))?;
        Some(((key, variant), text))
    }
}

/// Whitespace extracts as a plain space (so a no-break space shares the space
/// glyph's mapping instead of needing an instance of its own).
fn extraction_text(text: &str) -> String {
    text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect()
}

/// The font program to embed for one face, and how glyph ids map into it.
pub(crate) struct EmbeddedFace {
    /// The sfnt bytes to embed.
    pub bytes: Vec<u8>,
    /// Original glyph id → glyph id in `bytes`.
    pub remap: BTreeMap<u16, u16>,
    /// `/BaseFont` name: `ABCDEF+PostScriptName` for a subset (ISO 32000-1,
    /// 9.6.4), the plain PostScript name for a full face.
    pub name: String,
}

impl EmbeddedFace {
    /// Glyph id in the embedded program for an original glyph id.
    pub fn gid(&self, original: u16) -> u16 {
        self.remap.get(&original).copied().unwrap_or(original)
    }
}

/// Subset `key`'s face to `used` glyphs (plus `.notdef`). Falls back to the
/// whole face, unchanged ids, if the subsetter fails.
pub(crate) fn embed((key, variant): Instance, used: &BTreeSet<u16>) -> EmbeddedFace {
    // allsorts requires .notdef first and no duplicates; the new id of each glyph
    // is its position in this list (composite components are appended after it).
    let ids: Vec<u16> = std::iter::once(0).chain(used.iter().copied().filter(|&g| g != 0)).collect();
    match subset_bytes(key.bytes(), &ids) {
        Some(bytes) => {
            let remap =
                ids.iter().enumerate().filter_map(|(new, &old)| Some((old, u16::try_from(new).ok()?))).collect();
            EmbeddedFace { bytes, remap, name: format!("{}+{}", subset_tag(key, variant, &ids), key.postscript_name()) }
        }
        None => EmbeddedFace {
            bytes: key.bytes().to_vec(),
            remap: BTreeMap::new(),
            name: key.postscript_name().to_string(),
        },
    }
}

fn subset_bytes(font: &[u8], ids: &[u16]) -> Option<Vec<u8>> {
    let data = ReadScope::new(font).read::<FontData<'_>>().ok()?;
    let provider = data.table_provider(0).ok()?;
    subset(&provider, ids, &SubsetProfile::Pdf, CmapTarget::Unicode).ok()
}

/// Six uppercase letters derived from the face and its glyph set, so that
/// different subsets of one face get different tags (and equal ones equal tags).
fn subset_tag(key: FontKey, variant: usize, ids: &[u16]) -> String {
    // FNV-1a over the face name, variant and glyph ids.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes =
        key.postscript_name().bytes().chain(variant.to_be_bytes()).chain(ids.iter().flat_map(|g| g.to_be_bytes()));
    for b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (0..6)
        .map(|i| {
            let letter = (hash >> (i * 5)) % 26;
            char::from(b'A' + letter as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fonts::{Family, FontKey};
    use crate::Weight;

    #[test]
    fn subset_is_much_smaller_and_renumbered() {
        let key = FontKey { family: Family::Sans, weight: Weight::Regular };
        let used: BTreeSet<u16> = [36, 37, 38].into_iter().collect();
        let face = embed((key, 0), &used);
        assert!(face.bytes.len() < key.bytes().len() / 10, "{}", face.bytes.len());
        assert_eq!(face.gid(36), 1);
        assert_eq!(face.gid(38), 3);
        assert_eq!(face.name.len(), 7 + key.postscript_name().len());
        assert!(face.name.ends_with("+NotoSans-Regular"));
        // The subset is a font printpdf can read back.
        let parsed = printpdf::ParsedFont::from_bytes(&face.bytes, 0, &mut Vec::new());
        assert!(parsed.is_some());
    }

    #[test]
    fn conflicting_texts_get_separate_instances() {
        let key = FontKey { family: Family::Sans, weight: Weight::Regular };
        let mut plan = FontPlan::default();
        plan.add(key, 11, "(");
        plan.add(key, 12, ")");
        plan.add(key, 12, "("); // mirrored in right-to-left text
        plan.add(key, 3, " ");
        plan.add(key, 3, "\u{a0}"); // no-break space: same mapping as space
        assert_eq!(plan.lookup(key, 11, "("), Some(((key, 0), "(".to_string())));
        assert_eq!(plan.lookup(key, 12, ")"), Some(((key, 0), ")".to_string())));
        assert_eq!(plan.lookup(key, 12, "("), Some(((key, 1), "(".to_string())));
        assert_eq!(plan.lookup(key, 3, "\u{a0}"), Some(((key, 0), " ".to_string())));
        assert_eq!(plan.instances.len(), 2);
        assert_eq!(plan.instances[&(key, 1)].len(), 1);
    }
}
