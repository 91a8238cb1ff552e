//! Name and place lists compiled into the binary (see `data/SOURCES.md`), decoded once at first use.
//!
//! Entries are kept as 64-bit FNV-1a hashes of their lower-case text, so a lookup hashes the token on the fly
//! (no allocation, no lower-casing copy) and the tables stay small.

use std::io::Read;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// The word is a US Census first name.
pub const FIRST: u8 = 1;
/// The word is a US Census surname.
pub const LAST: u8 = 2;
/// The words are a US city or town name.
pub const PLACE: u8 = 4;
/// The word is also an ordinary English word (`may`, `hope`, `brown`): only context makes it a name.
pub const COMMON: u8 = 8;
/// The word is an ordinary lower-case English word (SCOWL); a capitalised word outside the lists is likely a name.
pub const ENGLISH: u8 = 16;
/// The word starts a multi-word place name (`san` of `San Diego`).
pub const PLACE_HEAD: u8 = 32;

pub(crate) const FIRST_NAMES: &[u8] = include_bytes!("../data/first_names.txt.gz");
pub(crate) const SURNAMES: &[u8] = include_bytes!("../data/surnames.txt.gz");
pub(crate) const PLACES: &[u8] = include_bytes!("../data/us_places.txt.gz");
const COMMON_WORDS: &[u8] = include_bytes!("../data/common_words.txt.gz");
const ENGLISH_WORDS: &[u8] = include_bytes!("../data/english_words.txt.gz");

/// Lookup table from hashed lower-case entry to its flags.
#[derive(Debug)]
pub struct Gazetteer {
    entries: FxHashMap<u64, u8>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Incremental FNV-1a hash over lower-cased words joined by single spaces.
#[derive(Debug, Clone, Copy)]
pub struct KeyHasher {
    state: u64,
    empty: bool,
}

impl Default for KeyHasher {
    fn default() -> Self {
        Self { state: FNV_OFFSET, empty: true }
    }
}

impl KeyHasher {
    /// Adds one word (its ASCII letters lower-cased; apostrophes and periods skipped so `O'Neil` = `oneil`).
    pub fn word(&mut self, word: &str) -> &mut Self {
        if !self.empty {
            self.byte(b' ');
        }
        self.empty = false;
        for b in word.bytes() {
            if b != b'\'' && b != b'.' {
                self.byte(b.to_ascii_lowercase());
            }
        }
        self
    }

    fn byte(&mut self, b: u8) {
        self.state ^= u64::from(b);
        self.state = self.state.wrapping_mul(FNV_PRIME);
    }

    pub fn finish(&self) -> u64 {
        self.state
    }
}

fn key(entry: &str) -> u64 {
    let mut h = KeyHasher::default();
    for w in entry.split(' ') {
        h.word(w);
    }
    h.finish()
}

pub(crate) fn lines(gz: &[u8]) -> String {
    let mut out = String::new();
    // The files are compiled in and checked by tests; a corrupt file would leave the list empty, not panic.
    if flate2::read::GzDecoder::new(gz).read_to_string(&mut out).is_err() {
        out.clear();
    }
    out
}

impl Gazetteer {
    /// The shared, lazily decoded gazetteer.
    pub fn get() -> &'static Gazetteer {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        GAZETTEER.get_or_init(Gazetteer::load)
    }

    fn load() -> Self {
        let mut entries = FxHashMap::default();
        for (file, flag) in
            [(FIRST_NAMES, FIRST), (SURNAMES, LAST), (PLACES, PLACE), (COMMON_WORDS, COMMON), (ENGLISH_WORDS, ENGLISH)]
        {
            for entry in lines(file).lines() {
                *entries.entry(key(entry)).or_insert(0) |= flag;
                if flag == PLACE
                    && let Some((head, _)) = entry.split_once(' ')
                {
                    *entries.entry(key(head)).or_insert(0) |= PLACE_HEAD;
                }
            }
        }
        Self { entries }
    }

    /// Flags of a hashed key (0 when absent).
    pub fn flags_of(&self, hash: u64) -> u8 {
        self.entries.get(&hash).copied().unwrap_or(0)
    }

    /// Flags of one word.
    #[cfg(test)]
    pub fn flags(&self, word: &str) -> u8 {
        self.flags_of(KeyHasher::default().word(word).finish())
    }

    /// Number of entries (for tests and diagnostics).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn census_names_and_places_are_compiled_in() {
        let g = Gazetteer::get();
        assert!(g.len() > 100_000);
        assert_ne!(g.flags("Jennifer") & FIRST, 0);
        assert_ne!(g.flags("GONZALEZ") & LAST, 0);
        assert_ne!(g.flags_of(key("san francisco")) & PLACE, 0);
        assert_ne!(g.flags("hope") & COMMON, 0);
        assert_eq!(g.flags("metformin"), 0);
    }
}
