//! The floor under any gazetteer-based detector: how fast one core can do nothing but split text into words, hash
//! each word lower-cased and look it up in one table of the name, place and common-word lists. No rule runs, no
//! regex, no JSON. Printed beside `Analyzer::analyze` on the same notes without PHI, it shows how much of the
//! 500 MB/s target of issue 4 the lookups alone would use (a developer's probe, single thread).
//!
//! `cargo run --profile bench -p medvault-phi --example word_floor [ROUNDS]`

use std::time::Instant;

use medvault_phi::eval::phi_free_text;
use medvault_phi::{AnalyzeOptions, Analyzer};

/// The lists of `data/` as the crate's build script decompresses them.
const LISTS: [&str; 4] = [
    include_str!(concat!(env!("OUT_DIR"), "/first_names.txt")),
    include_str!(concat!(env!("OUT_DIR"), "/surnames.txt")),
    include_str!(concat!(env!("OUT_DIR"), "/us_places.txt")),
    include_str!(concat!(env!("OUT_DIR"), "/common_words.txt")),
];

/// A multiplicative hash of the word's bytes with bit 5 set (ASCII lower case), eight bytes at a time.
fn word_hash(word: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut x: u64 = 0x243F_6A88_85A3_08D3;
    let mut chunks = word.chunks_exact(8);
    for chunk in &mut chunks {
        let v = u64::from_le_bytes(chunk.try_into().unwrap_or_default()) | 0x2020_2020_2020_2020;
        x = (x ^ v).wrapping_mul(K);
        x ^= x >> 29;
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    let case = if rest.is_empty() { 0 } else { 0x2020_2020_2020_2020u64 >> (64 - 8 * rest.len()) };
    x = (x ^ (u64::from_le_bytes(last) | case) ^ word.len() as u64).wrapping_mul(K);
    x ^ (x >> 32)
}

/// Open addressing, one `u64` per slot: the key's upper 56 bits and a class bit per list in the low byte.
struct Table {
    slots: Vec<u64>,
    mask: usize,
}

impl Table {
    fn build(lists: &[&str]) -> Self {
        let mut entries = Vec::new();
        for (bit, list) in lists.iter().enumerate() {
            entries.extend(list.lines().map(|w| (word_hash(w.as_bytes()), 1u8 << bit)));
        }
        let size = (entries.len() * 8 / 5).next_power_of_two();
        let mut table = Self { slots: vec![0; size], mask: size - 1 };
        for (hash, class) in entries {
            let mut i = table.home(hash);
            while table.slots[i] != 0 && table.slots[i] & !0xFF != hash & !0xFF {
                i = (i + 1) & table.mask;
            }
            table.slots[i] = (hash & !0xFF) | (table.slots[i] & 0xFF) | u64::from(class);
        }
        table
    }

    fn home(&self, hash: u64) -> usize {
        (hash >> 40) as usize & self.mask
    }

    fn classes(&self, hash: u64) -> u8 {
        let mut i = self.home(hash);
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return 0;
            }
            if slot & !0xFF == hash & !0xFF {
                return slot as u8;
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Words seen and words found in the first-name or surname list.
fn look_up_every_word(table: &Table, text: &[u8]) -> (usize, usize) {
    let (mut words, mut names) = (0, 0);
    let mut i = 0;
    loop {
        while i < text.len() && !text[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == text.len() {
            return (words, names);
        }
        let start = i;
        while i < text.len() && text[i].is_ascii_alphanumeric() {
            i += 1;
        }
        words += 1;
        names += usize::from(table.classes(word_hash(&text[start..i])) & 0b11 != 0);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let table = Table::build(&LISTS);
    let analyzer = Analyzer::new()?;
    let options = AnalyzeOptions::default();
    let notes: Vec<String> = (0..4000).map(|i| phi_free_text(i, 2048)).collect();
    let bytes: usize = notes.iter().map(String::len).sum();
    let mut best = (f64::INFINITY, f64::INFINITY);
    let (mut words, mut names) = (0, 0);
    for _ in 0..rounds {
        let started = Instant::now();
        (words, names) = notes.iter().fold((0, 0), |(w, n), note| {
            let (a, b) = look_up_every_word(&table, note.as_bytes());
            (w + a, n + b)
        });
        best.0 = best.0.min(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let found: usize = notes.iter().map(|note| analyzer.analyze(note, &options).len()).sum();
        best.1 = best.1.min(started.elapsed().as_secs_f64());
        assert_eq!(found, 0, "notes without PHI gave entities");
    }
    let mb = bytes as f64 / 1e6;
    println!("{mb:.1} MB of notes without PHI, {words} words ({:.1} bytes each)", bytes as f64 / words as f64);
    println!("{names} words ({:.1}%) are in the first-name or surname list", 100.0 * names as f64 / words as f64);
    println!("look up every word only: {:>8.1} MB/s", mb / best.0);
    println!("Analyzer::analyze:       {:>8.1} MB/s", mb / best.1);
    Ok(())
}
