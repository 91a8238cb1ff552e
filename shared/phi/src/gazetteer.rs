//! Name and place lists compiled into the binary (see `data/SOURCES.md`), decoded once at first use.
//!
//! Entries are kept as 64-bit hashes of their lower-case words ([`KeyHasher`]), so a lookup hashes the token on the
//! fly (no allocation, no lower-casing copy), a phrase reuses its words' hashes and the tables stay small.

use std::sync::OnceLock;

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
/// The word ends a multi-word place name (`diego` of `San Diego`): a phrase whose last word lacks it is no place, and
/// is not looked up (only places have several words).
pub const PLACE_TAIL: u8 = 128;

// The lists of `data/`, one entry a line, decompressed by `build.rs` (decoding them here cost a fifth of start-up).
pub(crate) const FIRST_NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/first_names.txt"));
pub(crate) const SURNAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/surnames.txt"));
pub(crate) const PLACES: &str = include_str!(concat!(env!("OUT_DIR"), "/us_places.txt"));
const COMMON_WORDS: &str = include_str!(concat!(env!("OUT_DIR"), "/common_words.txt"));
const ENGLISH_WORDS: &str = include_str!(concat!(env!("OUT_DIR"), "/english_words.txt"));

/// Lookup table from hashed lower-case entry to its flags.
#[derive(Debug)]
pub struct Gazetteer {
    entries: FlagTable,
}

/// The gazetteer's table: each slot is one `u64`, the key's upper 56 bits and the flags in the low byte, so that the
/// ~165,000 distinct keys take 4 MiB (524,288 slots) and a lookup (one per capitalised word, most of them rare)
/// touches one cache line.
#[derive(Debug)]
struct FlagTable {
    slots: Box<[u64]>,
    shift: u32,
}

const KEY_BITS: u64 = !0xFF;

impl FlagTable {
    /// The table of `entries`; the flags of a repeated key are or-ed together where it is stored, rather than after
    /// sorting the entries to find repeats (a sort of ~190,000 entries was a fifth of start-up). Sized for every entry,
    /// repeated keys too (one in eight entries): on the lists compiled in that is the size the distinct keys give.
    fn build(entries: Vec<(u64, u8)>) -> Self {
        let mut table = Self::with_room_for(entries.len());
        for (key, flags) in entries {
            table.insert(Self::stored_key(key), flags);
        }
        table
    }

    /// An empty table for `n` keys, at most 5/8 full: short probe runs for absent words.
    fn with_room_for(n: usize) -> Self {
        let bits = (n.max(1) * 8 / 5).next_power_of_two().trailing_zeros().max(4);
        Self { slots: vec![0; 1 << bits].into_boxed_slice(), shift: 64 - bits }
    }

    /// Adds `flags` to the stored key's slot, taking an empty one for a new key.
    fn insert(&mut self, key: u64, flags: u8) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                self.slots[i] = key | u64::from(flags);
                return;
            }
            if slot & KEY_BITS == key {
                self.slots[i] = slot | u64::from(flags);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The key as stored: its upper 56 bits, never all zero (an empty slot is 0).
    fn stored_key(key: u64) -> u64 {
        match key & KEY_BITS {
            0 => 0x100,
            k => k,
        }
    }

    fn home(&self, stored: u64) -> usize {
        (stored >> self.shift) as usize
    }

    #[inline]
    fn get(&self, key: u64) -> u8 {
        let key = Self::stored_key(key);
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = self.slots[i];
            if slot & KEY_BITS == key {
                return slot as u8;
            }
            if slot == 0 {
                return 0;
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot where a search for `key` starts.
    #[inline]
    fn first_slot(&self, key: u64) -> u64 {
        self.slots[self.home(Self::stored_key(key))]
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.iter().filter(|s| **s != 0).count()
    }
}

/// Open-addressing table from a [`KeyHasher`] key to a small value, built once and then only read.
///
/// Hand-written rather than a `HashMap` because the keys are already uniform 64-bit hashes: the slot index is read
/// off the key's high bits (no second hash), and the key and its value share one slot, so a lookup costs one cache
/// line where a SwissTable costs two (control bytes, then the bucket). Every word of every document is looked up.
#[derive(Debug)]
pub struct KeyTable<V> {
    slots: Box<[(u64, V)]>,
    shift: u32,
}

/// Marks an empty slot; a real key equal to it is stored as [`EMPTY_STANDIN`].
const EMPTY: u64 = 0;
const EMPTY_STANDIN: u64 = 1;

impl<V: Copy + Default> KeyTable<V> {
    /// Builds the table from `(key, value)` pairs; `merge` combines the values of a repeated key.
    pub fn build(entries: impl IntoIterator<Item = (u64, V)>, merge: impl Fn(V, V) -> V) -> Self {
        let entries: Vec<(u64, V)> = entries.into_iter().collect();
        // At most half full, so that a probe for an absent word stops within a few slots.
        let bits = (entries.len().max(1) * 2).next_power_of_two().trailing_zeros().max(4);
        Self::build_in(entries, merge, bits)
    }

    /// The table of `entries` in `1 << bits` slots (more than there are entries).
    fn build_in(entries: Vec<(u64, V)>, merge: impl Fn(V, V) -> V, bits: u32) -> Self {
        let mut table = Self { slots: vec![(EMPTY, V::default()); 1 << bits].into_boxed_slice(), shift: 64 - bits };
        for (key, value) in entries {
            let key = if key == EMPTY { EMPTY_STANDIN } else { key };
            let mut i = table.home(key);
            loop {
                let slot = &mut table.slots[i];
                if slot.0 == EMPTY {
                    *slot = (key, value);
                    break;
                }
                if slot.0 == key {
                    slot.1 = merge(slot.1, value);
                    break;
                }
                i = (i + 1) & (table.slots.len() - 1);
            }
        }
        table
    }

    fn home(&self, key: u64) -> usize {
        (key >> self.shift) as usize
    }

    /// Every key and its value, in no particular order; a key equal to [`EMPTY`] comes as [`EMPTY_STANDIN`], as
    /// which a table built from these finds it too.
    pub fn iter(&self) -> impl Iterator<Item = (u64, V)> + '_ {
        self.slots.iter().filter(|(k, _)| *k != EMPTY).copied()
    }

    /// The value of `key`, if present.
    #[inline]
    pub fn get(&self, key: u64) -> Option<V> {
        let key = if key == EMPTY { EMPTY_STANDIN } else { key };
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let (k, v) = self.slots[i];
            if k == key {
                return Some(v);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// A [`KeyTable`] of `SLOTS` slots, a number fixed when compiled: a lookup then reads neither the table's size nor
/// its shift, and checks no index (every slot index the key's high bits give is in the table). For the table that
/// every word of every document is looked up in.
#[derive(Debug)]
pub struct SizedKeyTable<V, const SLOTS: usize> {
    slots: Box<[(u64, V); SLOTS]>,
}

impl<V: Copy + Default, const SLOTS: usize> SizedKeyTable<V, SLOTS> {
    const BITS: u32 = {
        assert!(SLOTS.is_power_of_two() && SLOTS >= 16);
        SLOTS.trailing_zeros()
    };

    /// [`KeyTable::build`] in `SLOTS` slots.
    ///
    /// # Panics
    ///
    /// With more than `SLOTS / 2` entries: a fuller table makes long probe runs (and a full one none that ends).
    /// With a key equal to [`EMPTY`] or [`EMPTY_STANDIN`] (a chance of one in 2^63 for a word's hash), which
    /// [`SizedKeyTable::get_or_default`] does not tell apart.
    pub fn build(entries: impl IntoIterator<Item = (u64, V)>, merge: impl Fn(V, V) -> V) -> Self {
        let entries: Vec<(u64, V)> = entries.into_iter().collect();
        assert!(entries.len() <= SLOTS / 2, "{} entries for a table of {SLOTS} slots: make it larger", entries.len());
        assert!(
            entries.iter().all(|&(key, _)| key != EMPTY && key != EMPTY_STANDIN),
            "a key equal to EMPTY or EMPTY_STANDIN"
        );
        let table = KeyTable::build_in(entries, merge, Self::BITS);
        let slots = table.slots.try_into().unwrap_or_else(|_| unreachable!("a table of 1 << BITS slots"));
        Self { slots }
    }

    /// How many keys the table holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().filter(|(k, _)| *k != EMPTY).count()
    }

    /// The value of `key`, or `V::default()` (what an empty slot holds) when it is absent: the value of the slot
    /// where the search stops either way, with no second path for an absent key. For values that tell by themselves
    /// whether they were stored.
    #[inline]
    pub fn get_or_default(&self, key: u64) -> V {
        // No key is EMPTY (nor EMPTY_STANDIN, which `KeyTable::get` looks an EMPTY key up as): the search for an
        // EMPTY key stops at the first empty slot and gives its default, as the absent EMPTY_STANDIN's would.
        let mut i = (key >> (64 - Self::BITS)) as usize;
        loop {
            let (k, v) = self.slots[i];
            if k == key || k == EMPTY {
                return v;
            }
            i = (i + 1) % SLOTS;
        }
    }
}

/// Hash of one word: its ASCII letters lower-cased, apostrophes and periods skipped (so `O'Neil` = `oneil`),
/// absorbed eight bytes at a time. Every word of every document is hashed, so this is on the hot path: a byte-wise
/// hash (FNV) cost one multiplication per byte.
pub fn word_hash(word: &str) -> u64 {
    // The chunks tell non-ASCII bytes apart on the way, so a plain ASCII word is not scanned first for them.
    match chunked_hash(word.as_bytes()) {
        Some(hash) => hash,
        None if word.is_ascii() => skipping_hash(word.as_bytes()),
        None => accented_word_hash(word),
    }
}

/// [`word_hash`] of bytes: ASCII letters lower-cased, apostrophes and periods skipped.
fn lowercase_hash(bytes: &[u8]) -> u64 {
    chunked_hash(bytes).unwrap_or_else(|| skipping_hash(bytes))
}

/// [`skipping_hash`] of ASCII bytes without an apostrophe or a period (nearly every word), eight bytes at a time:
/// absorbed in the same chunks as `skipping_hash` builds byte by byte, lower-cased in one step per chunk. `None` for
/// other bytes, which `skipping_hash` (or the accent folding before it) handles.
#[inline]
fn chunked_hash(bytes: &[u8]) -> Option<u64> {
    let mut state = WORD_SEED;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if x & HIGH_BITS != 0 || has_skipped_byte(x) {
            return None;
        }
        state = fold(state ^ ascii_lowercase(x), MIX);
    }
    let x = zero_padded(chunks.remainder());
    if x & HIGH_BITS != 0 || has_skipped_byte(x) {
        return None;
    }
    Some(fold(state ^ ascii_lowercase(x), MIX ^ bytes.len() as u64))
}

/// [`word_hash`] of a word the tokenizer found of ASCII letters and hyphens only (nearly every word): the same value
/// as [`chunked_hash`] without its tests for bytes it would skip or hand on. Every such byte already has the 0x20 bit
/// that lower-cases a letter (`-` is 0x2D), so or-ing that bit into each byte lower-cases the chunk in one step.
#[inline]
pub(crate) fn letters_hash(bytes: &[u8]) -> u64 {
    debug_assert!(bytes.iter().all(|&b| b.is_ascii_alphabetic() || b == b'-'));
    let mut state = WORD_SEED;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        state = fold(state ^ (u64::from_le_bytes(chunk.try_into().unwrap_or_default()) | CASE_BITS), MIX);
    }
    let rest = chunks.remainder();
    // The case bit only on the bytes of the word: the zero bytes above them stay zero, as `skipping_hash` pads.
    let x = zero_padded(rest) | (CASE_BITS & !(u64::MAX << (8 * rest.len())));
    fold(state ^ x, MIX ^ bytes.len() as u64)
}

/// [`letters_hash`] of a word of one to seven ASCII letters, given as its bytes in a little-endian `u64` with zeros
/// above them (the tokenizer has them so from its eight-byte read).
#[inline]
pub(crate) fn short_letters_hash(word: u64, len: usize) -> u64 {
    debug_assert!((1..8).contains(&len) && word >> (8 * len) == 0);
    fold(WORD_SEED ^ (word | (CASE_BITS & (u64::MAX >> (64 - 8 * len)))), MIX ^ len as u64)
}

/// [`letters_hash`] of a word of eight to fifteen ASCII letters, given as its first eight bytes and the rest in a
/// little-endian `u64` with zeros above them.
#[inline]
pub(crate) fn long_letters_hash(first: u64, rest: u64, len: usize) -> u64 {
    debug_assert!((8..16).contains(&len) && rest >> (8 * (len - 8)) == 0);
    let state = fold(WORD_SEED ^ (first | CASE_BITS), MIX);
    fold(state ^ (rest | (CASE_BITS & ((1 << (8 * (len - 8))) - 1))), MIX ^ len as u64)
}

/// The bytes of `rest` (fewer than eight) as a little-endian `u64` with zeros above them, as [`skipping_hash`]
/// leaves a last chunk. Read in at most two overlapping loads rather than a `memcpy` call: most words are shorter
/// than eight bytes, so this is the whole of their hash's reading.
#[inline]
fn zero_padded(rest: &[u8]) -> u64 {
    let n = rest.len();
    let byte = |i: usize| u64::from(rest[i]);
    let four = |i: usize| u64::from(u32::from_le_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]));
    match n {
        0 => 0,
        // Overlapping bytes are the same bytes at the same places, so or-ing them changes nothing.
        1..=3 => byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
        _ => four(0) | four(n - 4) << (8 * (n - 4)),
    }
}

/// The low bit of each of eight bytes (times a byte, that byte in each of eight).
pub(crate) const LOW_BITS: u64 = 0x0101_0101_0101_0101;
/// The high bit of each of eight bytes.
pub(crate) const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
/// The 0x20 bit of each of eight bytes: or-ed into an ASCII letter, it lower-cases it.
pub(crate) const CASE_BITS: u64 = 0x2020_2020_2020_2020;

/// Whether one of the eight bytes of `x` is an apostrophe or a period (bytes a hash skips).
#[inline]
fn has_skipped_byte(x: u64) -> bool {
    let has_zero = |y: u64| y.wrapping_sub(LOW_BITS) & !y & HIGH_BITS != 0;
    has_zero(x ^ (LOW_BITS * u64::from(b'\''))) || has_zero(x ^ (LOW_BITS * u64::from(b'.')))
}

/// `to_ascii_lowercase` of each of the eight bytes of `x`; bytes outside `A..=Z` (UTF-8 bytes too) are kept.
#[inline]
fn ascii_lowercase(x: u64) -> u64 {
    x | (bytes_in_range(x, b'A', b'Z') >> 2)
}

/// The high bit of each of the eight bytes of `x` that lies in `low..=high` (both ASCII), the other bits clear: a
/// byte-range test for eight bytes at once, shared by the word hash, the letter runs of the tokenizer (`ShortWord`)
/// and the street walk (`letters_end`), and the dictation rewrite's case and word tests.
#[inline]
pub(crate) fn bytes_in_range(x: u64, low: u8, high: u8) -> u64 {
    // Each byte's low seven bits plus an offset sets its high bit without carrying into the next byte.
    let low7 = x & !HIGH_BITS;
    let from_low = low7 + LOW_BITS * u64::from(0x80 - low);
    let past_high = low7 + LOW_BITS * u64::from(0x80 - high - 1);
    from_low & !past_high & !x & HIGH_BITS
}

/// [`word_hash`] of bytes, one byte at a time: ASCII letters lower-cased, apostrophes and periods skipped.
fn skipping_hash(bytes: &[u8]) -> u64 {
    let mut state = WORD_SEED;
    let mut chunk = 0u64;
    let mut filled = 0u32;
    let mut len = 0u64;
    for &b in bytes {
        if b == b'\'' || b == b'.' {
            continue;
        }
        chunk |= u64::from(b.to_ascii_lowercase()) << (8 * filled);
        filled += 1;
        if filled == 8 {
            state = fold(state ^ chunk, MIX);
            chunk = 0;
            filled = 0;
            len += 8;
        }
    }
    len += u64::from(filled);
    fold(state ^ chunk, MIX ^ len)
}

/// [`word_hash`] of a word with letters outside ASCII: accents are dropped (`María` = `maria`, `Muñoz` = `munoz`), as
/// the Census lists spell these names; other letters stay as they are.
#[cold]
fn accented_word_hash(word: &str) -> u64 {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    let plain: String = word.nfd().filter(|c| !is_combining_mark(*c)).collect();
    lowercase_hash(plain.as_bytes())
}

const WORD_SEED: u64 = 0x243f_6a88_85a3_08d3;
const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
const JOIN_LEFT: u64 = 0x1319_8a2e_0370_7344;
const JOIN_RIGHT: u64 = 0xa409_3822_299f_31d0;

/// Multiplies in 128 bits and folds the halves together (the mixing step of wyhash and foldhash).
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Key of a phrase of lower-cased words joined by single spaces, built from the words' [`word_hash`]es, so that a
/// phrase lookup (`Member ID`, `San Diego`) reuses the hashes the tokenizer already computed. A one-word key is the
/// word's hash itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher {
    state: Option<u64>,
}

impl KeyHasher {
    /// Adds one word (hashed by [`word_hash`]).
    pub fn word(&mut self, word: &str) -> &mut Self {
        self.push(word_hash(word))
    }

    /// Adds one word by its [`word_hash`].
    pub fn push(&mut self, word_hash: u64) -> &mut Self {
        self.state = Some(match self.state {
            None => word_hash,
            // Order matters (`de la` is not `la de`): the two sides are offset by different constants.
            Some(state) => fold(state ^ JOIN_LEFT, word_hash ^ JOIN_RIGHT),
        });
        self
    }

    pub fn finish(&self) -> u64 {
        self.state.unwrap_or(WORD_SEED)
    }
}

fn key(entry: &str) -> u64 {
    let mut h = KeyHasher::default();
    for w in entry.split(' ') {
        h.word(w);
    }
    h.finish()
}

/// The lines of `text`, as `str::lines` gives them, each line break found by `memchr`'s vectorised search: `lines`
/// looks for each of the ~190,000 short lines' breaks with a byte loop (a tenth of start-up).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(at) = memchr::memchr(b'\n', rest.as_bytes()) else {
            return Some(std::mem::take(&mut rest));
        };
        let line = &rest[..at];
        rest = &rest[at + 1..];
        Some(line.strip_suffix('\r').unwrap_or(line))
    })
}

impl Gazetteer {
    /// The shared, lazily decoded gazetteer.
    pub fn get() -> &'static Gazetteer {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        GAZETTEER.get_or_init(Gazetteer::load)
    }

    fn load() -> Self {
        let mut entries = Vec::with_capacity(200_000);
        for (file, flag) in
            [(FIRST_NAMES, FIRST), (SURNAMES, LAST), (PLACES, PLACE), (COMMON_WORDS, COMMON), (ENGLISH_WORDS, ENGLISH)]
        {
            for entry in lines(file) {
                if flag != PLACE {
                    entries.push((key(entry), flag));
                    continue;
                }
                // A place of several words also marks its first and last words, each word hashed once (the phrase's
                // key is built from its words' hashes).
                let mut h = KeyHasher::default();
                let (mut head, mut tail, mut words) = (0, 0, 0);
                for w in entry.split(' ') {
                    tail = word_hash(w);
                    if words == 0 {
                        head = tail;
                    }
                    words += 1;
                    h.push(tail);
                }
                entries.push((h.finish(), PLACE));
                if words > 1 {
                    entries.extend([(head, PLACE_HEAD), (tail, PLACE_TAIL)]);
                }
            }
        }
        Self { entries: FlagTable::build(entries) }
    }

    /// Flags of a hashed key (0 when absent).
    #[inline]
    pub fn flags_of(&self, hash: u64) -> u8 {
        self.entries.get(hash)
    }

    /// Reads the first slots that [`Gazetteer::flags_of`] reads for each of `keys`, so that their cache lines are on
    /// their way at once: in a loop without a branch on what the slots hold (no misprediction once a slot arrives
    /// throws the reads after it away), where a loop of lookups branches on each slot.
    #[inline]
    pub fn touch(&self, keys: impl Iterator<Item = u64>) {
        let mut sum = 0u64;
        for key in keys {
            sum = sum.wrapping_add(self.entries.first_slot(key));
        }
        std::hint::black_box(sum);
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
    fn accented_names_are_the_census_spellings() {
        assert_eq!(word_hash("María"), word_hash("maria"));
        assert_eq!(word_hash("MUÑOZ"), word_hash("munoz"));
        assert_eq!(word_hash("Rodríguez"), word_hash("rodriguez"));
        assert_ne!(word_hash("Łukasz"), word_hash("ukasz"));
    }

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

    #[test]
    fn distinct_entries_never_share_a_key() {
        let mut seen = std::collections::HashMap::new();
        for file in [FIRST_NAMES, SURNAMES, PLACES, COMMON_WORDS, ENGLISH_WORDS] {
            for entry in lines(file) {
                let normalized: String =
                    entry.chars().filter(|c| *c != '\'' && *c != '.').map(|c| c.to_ascii_lowercase()).collect();
                // The table keeps a key's upper 56 bits.
                if let Some(previous) = seen.insert(key(entry) >> 8, normalized.clone()) {
                    assert_eq!(previous, normalized, "two entries share a key");
                }
            }
        }
        assert!(seen.len() > 100_000);
    }

    #[test]
    fn chunked_hash_equals_the_byte_by_byte_hash() {
        let words = [
            "",
            "a",
            "Z",
            "O'Neil",
            "St.",
            "abcdefgh",
            "ABCDEFGH",
            "AbCdEfGhI",
            "Mary-Jane",
            "@[`{",
            "MCDONALD'S",
            "hospitalization",
            "HOSPITALIZATIONS",
            "a.b.c.d.e.f.g.h.i",
            "Łukasz",
            "MUÑOZ",
            "x'",
            "abcdefg'",
        ];
        for word in words {
            assert_eq!(lowercase_hash(word.as_bytes()), skipping_hash(word.as_bytes()), "{word}");
            if word.is_ascii() {
                assert_eq!(word_hash(word), skipping_hash(word.as_bytes()), "{word}");
            }
        }
        for b in 0..=255u8 {
            let bytes = [b, b'x', b, b'A', b, b'z', b, b'@', b, b'['];
            for n in 0..=bytes.len() {
                assert_eq!(lowercase_hash(&bytes[..n]), skipping_hash(&bytes[..n]), "{b} {n}");
            }
        }
    }

    #[test]
    fn lines_are_the_lines_str_lines_gives() {
        for text in ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\nx\r", "a\n\n", "x\ry\n", "\r\n"] {
            assert_eq!(lines(text).collect::<Vec<_>>(), text.lines().collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn letters_hash_is_the_word_hash_of_letters_and_hyphens() {
        for w in ["a", "Ab", "MRN", "Smith", "non-tender", "Ninety-Four", "abcdefgh", "ABCDEFGHI", "transcriptionist"] {
            assert_eq!(letters_hash(w.as_bytes()), word_hash(w), "{w}");
        }
    }

    #[test]
    fn short_and_long_letters_hashes_are_the_letters_hash() {
        for w in ["a", "Z", "Ab", "MRN", "Smith", "jOhNsO", "abcdefg", "ZZZZZZZ"] {
            let mut bytes = [0u8; 8];
            bytes[..w.len()].copy_from_slice(w.as_bytes());
            assert_eq!(short_letters_hash(u64::from_le_bytes(bytes), w.len()), letters_hash(w.as_bytes()), "{w}");
        }
        for w in ["abcdefgh", "Abcdefghi", "HYPERTENSION", "hospitalizatio"] {
            let mut bytes = [0u8; 16];
            bytes[..w.len()].copy_from_slice(w.as_bytes());
            let [first, rest] = [&bytes[..8], &bytes[8..]].map(|c| u64::from_le_bytes(c.try_into().unwrap()));
            assert_eq!(long_letters_hash(first, rest, w.len()), letters_hash(w.as_bytes()), "{w}");
        }
    }

    #[test]
    fn phrase_keys_depend_on_word_order() {
        let mut ab = KeyHasher::default();
        let mut ba = KeyHasher::default();
        ab.word("de").word("la");
        ba.word("la").word("de");
        assert_ne!(ab.finish(), ba.finish());
        assert_eq!(ab.finish(), key("de la"));
    }
}
