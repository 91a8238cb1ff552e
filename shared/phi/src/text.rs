//! Normalization of Unicode tricks before detection, and the map back to code points of the original text.
//!
//! Full-width forms become ASCII, zero-width characters and soft hyphens vanish, every kind of space becomes `' '`
//! and Unicode dashes become `'-'`. Detection runs on the normalized bytes; [`Normalized::char_span`] maps a byte span
//! back to `start`/`end` code points of the original, so callers index the characters they sent.

use std::borrow::Cow;

/// A document ready for detection.
#[derive(Debug)]
pub struct Normalized<'a> {
    text: Cow<'a, str>,
    /// For every normalized byte, the code points `start..end` of the original it stands for; `None` when the input
    /// is ASCII and nothing was rewritten (bytes are then code points).
    span_of_byte: Option<Vec<(u32, u32)>>,
}

enum Fold {
    Keep,
    Drop,
    Into(char),
}

fn fold(c: char) -> Fold {
    match c {
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}' => Fold::Drop,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Fold::Into(' '),
        '\u{2028}' | '\u{2029}' | '\u{0085}' => Fold::Into('\n'),
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => Fold::Into('-'),
        '\u{2018}' | '\u{2019}' | '\u{02BC}' => Fold::Into('\''),
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).map_or(Fold::Keep, Fold::Into),
        _ => Fold::Keep,
    }
}

impl<'a> Normalized<'a> {
    pub fn new(original: &'a str) -> Self {
        let folded = Self::folded(original);
        // Numbers spelled out in dictated text are written in digits (see [`crate::spoken`]); each digit maps to
        // the code points of the words it replaces.
        let Some((text, map)) = crate::spoken::rewrite(&folded.text) else { return folded };
        let span_of_byte = map
            .into_iter()
            .map(|(s, e)| {
                let first = folded.char_span(s, s + 1).0;
                let last = folded.char_span(e - 1, e).1;
                (to_u32(first), to_u32(last))
            })
            .collect();
        Self { text: Cow::Owned(text), span_of_byte: Some(span_of_byte) }
    }

    /// Unicode tricks folded.
    fn folded(original: &'a str) -> Self {
        if original.is_ascii() {
            return Self { text: Cow::Borrowed(original), span_of_byte: None };
        }
        let mut text = String::with_capacity(original.len());
        let mut map = Vec::with_capacity(original.len());
        let mut index = 0u32;
        for c in original.chars() {
            let out = match fold(c) {
                Fold::Keep => c,
                Fold::Into(r) => r,
                Fold::Drop => {
                    index += 1;
                    continue;
                }
            };
            let before = text.len();
            text.push(out);
            map.extend(std::iter::repeat_n((index, index + 1), text.len() - before));
            index += 1;
        }
        Self { text: Cow::Owned(text), span_of_byte: Some(map) }
    }

    /// The normalized text detection runs on.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Code point span of the original text for the normalized byte span `start..end` (non-empty).
    pub fn char_span(&self, start: usize, end: usize) -> (usize, usize) {
        match &self.span_of_byte {
            None => (start, end),
            Some(map) => {
                let first = map[start].0 as usize;
                let last = if end > start { map[end - 1].1 as usize } else { first };
                (first, last)
            }
        }
    }
}

fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// Byte offset of every code point of `text`, plus `text.len()` at the end: index `i` is where code point `i` starts.
pub fn char_byte_offsets(text: &str) -> Vec<usize> {
    let mut offsets: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    offsets.push(text.len());
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_text_maps_bytes_to_the_same_offsets() {
        let n = Normalized::new("call 415");
        assert_eq!(n.as_str(), "call 415");
        assert_eq!(n.char_span(5, 8), (5, 8));
    }

    #[test]
    fn full_width_digits_and_zero_width_spaces_normalize_and_map_back() {
        let original = "é ４１\u{200B}５";
        let n = Normalized::new(original);
        assert_eq!(n.as_str(), "é 415");
        // "415" is bytes 3..6 of the normalized text; in the original it spans code points 2..6 (the ZWSP included).
        assert_eq!(n.char_span(3, 6), (2, 6));
    }

    #[test]
    fn non_breaking_spaces_become_spaces() {
        assert_eq!(Normalized::new("Dr.\u{00A0}Okafor").as_str(), "Dr. Okafor");
    }
}

#[cfg(test)]
mod whitespace_tests {
    use super::*;

    #[test]
    fn every_unicode_space_becomes_ascii_white_space() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32).filter(|c| c.is_whitespace()) {
            let text = c.to_string();
            let n = Normalized::new(&text);
            assert!(n.as_str().bytes().all(|b| b.is_ascii_whitespace() || b == 0x0B), "{c:?} -> {:?}", n.as_str());
        }
    }
}
