//! Streaming engine of the `phi` command: bounded chunks in, parallel work, ordered lines out.
//!
//! Memory stays constant in the input size: at most `chunk` documents (or text paragraphs of at most
//! [`MAX_PARAGRAPH`] bytes) are held at once.

use std::cell::Cell;
use std::io::{BufRead, IoSlice, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use medvault_phi::{
    AnalyzeOptions, Analyzer, DataKey, Entity, EntityType, Keys, Policy, TenantKey, Transformed, transform,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Largest text paragraph processed as one document; longer ones are cut at a line boundary.
pub const MAX_PARAGRAPH: usize = 64 * 1024;

/// How the input is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One `{"id": ..., "text": ...}` object per line.
    Jsonl,
    /// Plain text; paragraphs (separated by blank lines) are the documents.
    Text,
}

/// What to do with each document.
#[derive(Debug)]
pub enum Job {
    Analyze,
    Transform { policy: Policy, tenant: Option<TenantKey>, data: Option<DataKey> },
}

/// Run settings.
#[derive(Debug)]
pub struct Settings {
    pub strict: bool,
    pub chunk: usize,
    pub progress: Option<ProgressBar>,
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub documents: u64,
    pub malformed: u64,
    /// `--strict` stopped the run at a malformed line.
    pub failed_strict: bool,
}

#[derive(Debug, Deserialize)]
struct InputLine {
    id: serde_json::Value,
    text: String,
}

/// An input line with its text left as written (quotes and escapes): serde_json's own string parse grows a scratch
/// buffer per document and then copies it into a new `String`; [`unescaped`] writes the text into a buffer each
/// worker reuses.
#[derive(Debug, Deserialize)]
struct RawInputLine<'a> {
    id: serde_json::Value,
    #[serde(borrow)]
    text: &'a serde_json::value::RawValue,
}

#[derive(Debug, Serialize)]
struct TransformLine<'a> {
    id: &'a serde_json::Value,
    text: &'a str,
    items: &'a [Transformed],
}

#[derive(Debug)]
enum Record {
    /// A JSONL line or a text paragraph (a range of the chunk's buffer), with the number of its first line.
    Document { line: u64, raw: Range<usize> },
    /// Blank lines between text paragraphs, copied through.
    Passthrough(Range<usize>),
}

/// A progress bar on stderr (callers create it only when stderr is a terminal).
pub fn progress_bar(total_bytes: Option<u64>) -> ProgressBar {
    let bar = match total_bytes {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total_bytes.is_some() {
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

struct Reader<R> {
    input: R,
    line: u64,
    /// The text of the current chunk's records, one after the other; cleared at each chunk with its capacity kept,
    /// so that lines are not each allocated (and the chunk's memory not returned to the system and faulted in again).
    buffer: String,
    /// A blank line read after a text paragraph, not yet a record (always at the end of `buffer`).
    pending: Option<Range<usize>>,
    done: bool,
    /// The bytes of the line being read, before they are checked to be UTF-8 and appended to `buffer`.
    scratch: Vec<u8>,
}

impl<R: BufRead> Reader<R> {
    fn new(input: R) -> Self {
        Self { input, line: 0, buffer: String::new(), pending: None, done: false, scratch: Vec::new() }
    }

    /// [`BufRead::read_line`] into `buffer`, the line break found by the `memchr` crate's vectorised search: std's
    /// search for it cost more than an instruction for every byte of input. The line is checked to be UTF-8 by the
    /// `simdutf8` crate, whose vectorised check of ASCII text cost a fraction of std's (about half an instruction a
    /// byte). Fails as `read_line` does on bytes that are not UTF-8.
    fn read_line(&mut self) -> std::io::Result<usize> {
        self.scratch.clear();
        loop {
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let (take, found) = match memchr::memchr(b'\n', available) {
                Some(at) => (at + 1, true),
                None => (available.len(), available.is_empty()),
            };
            // A whole line in the reader's buffer (nearly every line: it holds a MiB) is checked and appended from
            // there, without passing through `scratch`.
            if found && self.scratch.is_empty() {
                let utf8 = match simdutf8::basic::from_utf8(&available[..take]) {
                    Ok(line) => {
                        self.buffer.push_str(line);
                        true
                    }
                    Err(_) => false,
                };
                self.input.consume(take);
                return if utf8 { Ok(take) } else { Err(not_utf8()) };
            }
            self.scratch.extend_from_slice(&available[..take]);
            self.input.consume(take);
            if found {
                break;
            }
        }
        let line = simdutf8::basic::from_utf8(&self.scratch).map_err(|_| not_utf8())?;
        self.buffer.push_str(line);
        Ok(self.scratch.len())
    }

    /// The next line (with its line break), appended to `buffer`.
    fn next_line(&mut self) -> anyhow::Result<Option<Range<usize>>> {
        if let Some(p) = self.pending.take() {
            return Ok(Some(p));
        }
        if self.done {
            return Ok(None);
        }
        let start = self.buffer.len();
        let n = self.read_line().context("reading the input")?;
        if n == 0 {
            self.done = true;
            return Ok(None);
        }
        self.line += 1;
        Ok(Some(start..self.buffer.len()))
    }

    /// Up to `max` records, their text in `buffer`; empty at the end of the input. Returns the bytes consumed too.
    fn chunk(&mut self, format: Format, max: usize) -> anyhow::Result<(Vec<Record>, u64)> {
        // A blank line left over from the last chunk is the last thing read: it moves to the front.
        match self.pending.take() {
            Some(p) => {
                self.buffer.drain(..p.start);
                self.pending = Some(0..self.buffer.len());
            }
            None => self.buffer.clear(),
        }
        let mut records = Vec::with_capacity(max.min(4096));
        let mut bytes = 0u64;
        while records.len() < max {
            let Some(line) = self.next_line()? else { break };
            bytes += line.len() as u64;
            let blank = is_blank(&self.buffer[line.clone()]);
            match format {
                Format::Jsonl => {
                    if !blank {
                        records.push(Record::Document { line: self.line, raw: line });
                    }
                }
                Format::Text if blank => records.push(Record::Passthrough(line)),
                Format::Text => {
                    let first = self.line;
                    // The paragraph's lines are read one after the other into `buffer`: it is one range of it.
                    let mut para = line;
                    while para.len() < MAX_PARAGRAPH {
                        match self.next_line()? {
                            Some(next) if !self.buffer[next.clone()].trim().is_empty() => {
                                bytes += next.len() as u64;
                                para.end = next.end;
                            }
                            Some(blank) => {
                                self.pending = Some(blank);
                                break;
                            }
                            None => break,
                        }
                    }
                    records.push(Record::Document { line: first, raw: para });
                }
            }
        }
        Ok((records, bytes))
    }
}

/// Whether `line` is white space only, as `line.trim().is_empty()` says; a line starting with an ASCII character that is
/// no white space (`{` of a JSONL line) is answered at once, where `trim` decoded chars at both ends of every line.
fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        Some(&first) if first.is_ascii() && !matches!(first, b'\t'..=b'\r' | b' ') => false,
        _ => line.trim().is_empty(),
    }
}

/// The error [`BufRead::read_line`] gives for bytes that are not UTF-8.
fn not_utf8() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8")
}

/// The `id` and (unescaped into `text`) the text of a line written exactly `{"id":<id>,"text":"<text>"}`, as every
/// line of a JSONL export is, when its text holds no `\u` escape; `None` for any other line, which serde_json then
/// reads whole. serde_json still parses an id that is no plain string; only the text, most of the line, is read here:
/// serde_json's scan of a string for its end (eight bytes a step for a quote, a backslash or a control character, on
/// every string it skips or reads) cost more than a hundredth of a run on notes without PHI, and the unescaping read
/// it again. What is read here is what serde_json reads from such a line: after the id's value come the second key
/// and the string, whose first unescaped quote closes it and ends the object, and nothing else.
fn plain_line<'a>(raw: &'a str, text: &mut String) -> Option<LineId<'a>> {
    let rest = raw.strip_prefix(r#"{"id":"#)?;
    let (id, after) = match plain_string(rest) {
        Some(len) => (LineId::Written(&rest[..len]), &rest[len..]),
        None => {
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
            let id = values.next()?.ok()?;
            (LineId::Parsed(id), &rest[values.byte_offset()..])
        }
    };
    let inner = after.strip_prefix(r#","text":""#)?.strip_suffix(r#""}"#)?;
    unescaped(inner, text).then_some(id)
}

/// The length of the JSON string `rest` starts with (`"20261122-0"`) when it holds no escape and no control
/// character: serde_json reads it as the text between its quotes and writes that back as the same bytes (it escapes
/// only quotes, backslashes and control characters).
fn plain_string(rest: &str) -> Option<usize> {
    let inner = rest.strip_prefix('"')?.as_bytes();
    let end = memchr::memchr2(b'"', b'\\', inner)?;
    (inner[end] == b'"' && inner[..end].iter().all(|&b| b >= 0x20)).then_some(end + 2)
}

/// A document's id: as its line wrote it, when serde_json would write it back the same, or parsed.
#[derive(Debug)]
enum LineId<'a> {
    /// A JSON string with no escape (see [`plain_string`]), quotes included: it is written as it was read, without
    /// a `String` allocated, escape-scanned and freed for every document.
    Written(&'a str),
    Parsed(serde_json::Value),
}

impl LineId<'_> {
    /// The room an analysis line with `entities` entities is expected to take: its keys and brackets, the id (as
    /// written, when it is; a parsed one is taken to be short) and 64 bytes an entity.
    fn analysis_capacity(&self, entities: usize) -> usize {
        let id = match self {
            Self::Written(json) => json.len(),
            Self::Parsed(_) => 11,
        };
        // Room is left after the last entity for its parts written whole (see [`EntityJson`]).
        r#"{"id":,"entities":[]}"#.len() + id + entities * 64 + ENTITY_ROOM
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Self::Written(json) => {
                out.extend_from_slice(json.as_bytes());
                Ok(())
            }
            Self::Parsed(value) => serde_json::to_writer(out, value),
        }
    }

    fn into_value(self) -> serde_json::Value {
        match self {
            Self::Written(json) => serde_json::Value::String(json[1..json.len() - 1].to_owned()),
            Self::Parsed(value) => value,
        }
    }
}

/// The inside of a JSON string (without its quotes) unescaped into `out`, as serde_json reads it; `false` when it
/// holds a `\u` escape (serde_json's own parse handles surrogate pairs and their errors) or anything that is no
/// string's inside: an unescaped quote or control character, a bad escape.
fn unescaped(inner: &str, out: &mut String) -> bool {
    // No early exit: the smallest byte is found by a loop that vectorises (a minimum a byte, cheaper than a comparison
    // and a flag), and a text has no control character. The bytes are read with bit 1 flipped, which leaves the
    // control characters below 0x20 and turns only `"` (0x22) into 0x20: the same minimum says whether the text holds
    // a quote, where a search of its own read the text again. In a text without any (most), escapes are found by a
    // search for `\` alone, a little cheaper than one for either.
    let smallest = inner.bytes().fold(u8::MAX, |m, b| m.min(b ^ 0x02));
    if smallest < 0x20 {
        return false;
    }
    let quote = smallest == 0x20;
    let next = |rest: &[u8]| if quote { memchr::memchr2(b'\\', b'"', rest) } else { memchr::memchr(b'\\', rest) };
    out.clear();
    let mut rest = inner;
    while let Some(at) = next(rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let unescaped = match (rest.as_bytes()[at], rest.as_bytes().get(at + 1)) {
            (b'"', _) => return false,
            (_, Some(b'"')) => '"',
            (_, Some(b'\\')) => '\\',
            (_, Some(b'/')) => '/',
            (_, Some(b'b')) => '\u{8}',
            (_, Some(b'f')) => '\u{c}',
            (_, Some(b'n')) => '\n',
            (_, Some(b'r')) => '\r',
            (_, Some(b't')) => '\t',
            _ => return false,
        };
        out.push(unescaped);
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    true
}

thread_local! {
    /// The input line of the document this thread is working on (0: none), for [`panic_report`].
    static DOCUMENT_LINE: Cell<u64> = const { Cell::new(0) };
}

/// The first input line of the chunk being worked on: every output line for the input before it has been written
/// and flushed.
static COMPLETE_BEFORE: AtomicU64 = AtomicU64::new(1);

/// What `phi` prints when it panics (a bug), in place of Rust's default message: the input line being worked on
/// and how much of the output is complete, so that a long run can be resumed after that line. The panic's own
/// message is left out on purpose: it can quote the text being processed (a string slice out of bounds prints the
/// string), and that text is PHI. Only the source location is kept, which is what a bug report needs.
pub fn panic_report(location: Option<&std::panic::Location<'_>>) -> String {
    let at = location.map_or_else(|| "an unknown place".to_owned(), |l| format!("{}:{}", l.file(), l.line()));
    let complete = COMPLETE_BEFORE.load(Ordering::Relaxed);
    let doing = match DOCUMENT_LINE.get() {
        0 => "outside any document".to_owned(),
        line => format!("on the document at input line {line}"),
    };
    format!(
        "phi: internal error {doing} (at {at}; the text is not shown, it may hold PHI). This is a bug: please report \
         it. The output holds every line for the input before line {complete}."
    )
}

/// Replaces Rust's panic message (which may quote PHI) with [`panic_report`]'s.
pub fn report_panics() {
    std::panic::set_hook(Box::new(|info| eprintln!("{}", panic_report(info.location()))));
}

/// What a worker keeps from one document to the next.
#[derive(Debug, Default)]
struct Worker {
    /// The text of the document, unescaped.
    text: String,
    /// The entities of the document.
    entities: Vec<Entity>,
}

/// Records whose output lines are written one after the other into one [`Block`].
const BLOCK: usize = 64;

/// Largest output buffer of a [`Block`] kept for the next chunk's block at the same index (1 MiB: 64 lines of 16 KiB,
/// about 250 entities each; a typical line is under 1 KiB). The buffers kept are at most `chunk / BLOCK` times this
/// (32 MiB at the default 2,048), memory a run keeps between chunks; a longer block is rare enough that allocating it
/// again costs nothing measurable.
const KEPT_BLOCK: usize = BLOCK << 14;

/// The output of [`BLOCK`] consecutive records of a chunk (fewer for its last), kept from one chunk to the next.
/// A buffer of its own for each record (reused at its index) cost more: the first write into each line's buffer, one
/// spot of memory after another, took a fifth of the time of [`process`] on mixed notes, where the lines of a block
/// follow one another.
#[derive(Debug)]
struct Block {
    /// The records' output, one after the other.
    bytes: Vec<u8>,
    /// For each record, where its output ends in `bytes`, or its error (it wrote nothing).
    ends: Vec<Result<usize, String>>,
}

impl Block {
    /// A block with room for [`BLOCK`] lines of 1 KiB (a typical line is under that): grown from nothing, its buffer
    /// was copied at each doubling.
    fn new() -> Self {
        Self { bytes: Vec::with_capacity(BLOCK << 10), ends: Vec::with_capacity(BLOCK) }
    }
}

/// What every document of a run is processed with.
struct Run<'a> {
    analyzer: &'a Analyzer,
    options: &'a AnalyzeOptions,
    job: &'a Job,
    format: Format,
}

/// Writes `{"id":…,"entities":[{"type":…,"start":…,"end":…,"score":…},…]}` into `out`: byte for byte what serde_json
/// writes for a derived `Serialize` struct of the same fields (a test holds them equal), but with the keys and type
/// names as literals instead of serde's per-field calls, which escape-scanned every key and cost about a twentieth of
/// a run. The entities are written through an [`EntityJson`] straight into `out`: offsets by [`write_decimal`], scores
/// by [`write_hundredths`] (serde_json for any other). The caller gives `out` its room ([`LineId::analysis_capacity`]).
fn write_analysis(id: &LineId<'_>, entities: &[Entity], out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    id.write(out)?;
    out.extend_from_slice(b",\"entities\":[");
    // A line without entities (most notes without PHI) needs no room made.
    if entities.is_empty() {
        out.extend_from_slice(b"]}");
        return Ok(());
    }
    let mut json = EntityJson::over(std::mem::take(out), entities.len());
    for (n, e) in entities.iter().enumerate() {
        json.make_room();
        // The comma is written and kept only after the first entity.
        json.put([b','], usize::from(n > 0));
        let (field, len) = TYPE_FIELDS[e.entity_type as usize];
        json.put(field, len);
        write_decimal(e.start, &mut json);
        json.put(*b",\"end\":\0", 7);
        write_decimal(e.end, &mut json);
        json.put(*b",\"score\":\0\0\0\0\0\0\0", 9);
        if !write_hundredths(e.score, &mut json) {
            json.write_score(e.score)?;
        }
        json.put([b'}'], 1);
    }
    *out = json.finish();
    out.extend_from_slice(b"]}");
    Ok(())
}

/// Room for one entity's JSON: at most 102 bytes (`,`, the longest type field, two offsets of up to 20 digits, the
/// keys, a score of four bytes and `}`), and the bytes written past its end by [`EntityJson::put`].
const ENTITY_ROOM: usize = 128;

/// A line's entities written into its buffer: each part is written as a whole word of a fixed size (a few moves) and
/// only its used bytes kept, where the `Vec`'s own appends checked its capacity and stored its length at every part.
/// The buffer's length is set ahead (its bytes zeroed once a line) and `len` is where the line ends: an entity built in
/// an array of its own and then copied read the array back right after its parts were stored in pieces of other sizes,
/// which the processor cannot forward from its stores (the copy's loads waited for them to reach the cache, a fifth
/// of the time of [`process`] on mixed notes).
struct EntityJson {
    bytes: Vec<u8>,
    len: usize,
}

impl EntityJson {
    /// A writer at the end of `line`, with room for `entities` entities of a usual size (more is made as needed).
    fn over(mut line: Vec<u8>, entities: usize) -> Self {
        let len = line.len();
        line.resize(len + entities * 64 + ENTITY_ROOM, 0);
        Self { bytes: line, len }
    }

    /// Room for one more entity after `len`.
    #[inline(always)]
    fn make_room(&mut self) {
        if self.bytes.len() - self.len < ENTITY_ROOM {
            self.grow();
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        self.bytes.resize(self.len + ENTITY_ROOM + self.bytes.len() / 2, 0);
    }

    /// Writes `word` at the end and keeps its first `used` bytes (the others are overwritten by the next part or cut
    /// off).
    #[inline(always)]
    fn put<const N: usize>(&mut self, word: [u8; N], used: usize) {
        self.bytes[self.len..self.len + N].copy_from_slice(&word);
        self.len += used;
    }

    /// A score that is no whole number of hundredths, as serde_json writes it (room is made again after it).
    #[cold]
    #[inline(never)]
    fn write_score(&mut self, score: f32) -> serde_json::Result<()> {
        self.bytes.truncate(self.len);
        serde_json::to_writer(&mut self.bytes, &score)?;
        self.len = self.bytes.len();
        self.make_room();
        Ok(())
    }

    /// The line, without the room left after it.
    fn finish(mut self) -> Vec<u8> {
        self.bytes.truncate(self.len);
        self.bytes
    }

    #[cfg(test)]
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The longest `{"type":"<TYPE>","start":` of an entity.
const TYPE_FIELD_SIZE: usize = 40;

/// `{"type":"<TYPE>","start":` for each entity type (at its discriminant), padded to one size, with its length: it is
/// copied whole and the padding cut off. A copy of a fixed size is a few moves, where the type's name alone, of varying
/// length, cost a `memcpy` call for every entity written.
const TYPE_FIELDS: [([u8; TYPE_FIELD_SIZE], usize); EntityType::ALL.len()] = {
    const fn append(field: &mut [u8; TYPE_FIELD_SIZE], mut n: usize, bytes: &[u8]) -> usize {
        let mut i = 0;
        while i < bytes.len() {
            field[n] = bytes[i];
            n += 1;
            i += 1;
        }
        n
    }
    let mut fields = [([0; TYPE_FIELD_SIZE], 0); EntityType::ALL.len()];
    let mut i = 0;
    while i < fields.len() {
        let t = EntityType::ALL[i];
        assert!(t as usize == i, "EntityType::ALL is in declaration order");
        let mut n = append(&mut fields[i].0, 0, b"{\"type\":\"");
        n = append(&mut fields[i].0, n, t.as_str().as_bytes());
        fields[i].1 = append(&mut fields[i].0, n, b"\",\"start\":");
        i += 1;
    }
    fields
};

/// The two digits of each number below 100.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// Each number below 1,000 written out: its digits from the lowest byte up and its count of digits in the highest.
const SMALL_DECIMALS: [u32; 1000] = {
    let mut table = [0; 1000];
    let mut n = 0;
    while n < 1000 {
        let count = 1 + (n >= 10) as u32 + (n >= 100) as u32;
        let mut digits = 0;
        let mut rest = n;
        let mut k = count;
        while k > 0 {
            k -= 1;
            digits |= (b'0' as u32 + rest % 10) << (8 * k);
            rest /= 10;
        }
        table[n as usize] = digits | count << 24;
        n += 1;
    }
    table
};

/// Writes `n` in decimal, as serde_json writes a `usize` (which it does with `itoa`), without the serializer around
/// it. A number below 1,000 (most offsets of a note) is one load from a table; one below 10^8 (every offset of a
/// note) has its digits read two at a time from a table into a word, leading zeros shifted out. The word is written
/// whole (see [`EntityJson::put`]): `itoa`'s call and the byte-by-byte copy of its digits cost about fifty
/// instructions a number, two for every entity written, and the pairs twenty-five.
#[inline(always)]
fn write_decimal(n: usize, out: &mut EntityJson) {
    if let Some(&small) = SMALL_DECIMALS.get(n) {
        out.put(small.to_le_bytes(), (small >> 24) as usize);
        return;
    }
    // The four digits of a number below 10^4, leading zeros included, the first in the lowest byte; and how many
    // digits it has.
    let four = |n: u32| {
        let (high, low) = (DIGIT_PAIRS[(n / 100) as usize], DIGIT_PAIRS[(n % 100) as usize]);
        let count = 1 + u32::from(n >= 10) + u32::from(n >= 100) + u32::from(n >= 1000);
        (u64::from(u32::from_le_bytes([high[0], high[1], low[0], low[1]])), count)
    };
    let (ascii, count) = match u32::try_from(n) {
        Ok(small @ 0..10_000) => {
            let (digits, count) = four(small);
            (digits >> (8 * (4 - count)), count)
        }
        Ok(small @ 0..100_000_000) => {
            let ((high, count), (low, _)) = (four(small / 10_000), four(small % 10_000));
            ((high >> (8 * (4 - count))) | low << (8 * count), count + 4)
        }
        _ => {
            let mut digits = itoa::Buffer::new();
            let digits = digits.format(n).as_bytes();
            out.bytes[out.len..out.len + digits.len()].copy_from_slice(digits);
            out.len += digits.len();
            return;
        }
    };
    out.put(ascii.to_le_bytes(), count as usize);
}

/// Writes a score that is a whole number of hundredths from 0 to 1 (`0.95`, `0.9`, `1.0`: every score the detector
/// gives) as serde_json writes that `f32`, and says whether it did. serde_json's shortest round-trip formatting cost
/// about 170 instructions a score, a sixtieth of a run on mixed notes; these take a few. The `f32` nearest to `k/100`
/// is written `0.kk` by any shortest round-trip formatting, as no shorter decimal rounds to it (a test holds all 101
/// equal to serde_json's); any other score, `-0.0` included, is left to serde_json.
fn write_hundredths(score: f32, out: &mut EntityJson) -> bool {
    // Truncation after adding a half rounds a score in 0..=1 to its nearest hundredth (`f32::round` is a libm call
    // on the baseline x86-64 target); the cast saturates, a negative score or NaN giving 0 and failing the exact
    // comparison below unless it is 0.0 itself.
    let k = (score * 100.0 + 0.5) as u8;
    // A table of the 101 hundredths: the division that made the one to compare with, and the digits, cost more than
    // the load.
    match HUNDREDTHS.get(usize::from(k)) {
        Some(&(bits, text, len)) if bits == score.to_bits() => {
            out.put(text, usize::from(len));
            true
        }
        _ => false,
    }
}

/// For each `k` from 0 to 100: the bits of the `f32` nearest to `k/100`, and `0.kk` (`1.0` for 100) as serde_json
/// writes it, padded to four bytes, with its length.
const HUNDREDTHS: [(u32, [u8; 4], u8); 101] = {
    let mut table = [(0, [0; 4], 0); 101];
    let mut k = 0;
    while k <= 100 {
        let (tens, ones) = (b'0' + k / 10, b'0' + k % 10);
        table[k as usize] = match k {
            100 => ((1.0f32).to_bits(), *b"1.0\0", 3),
            _ => ((k as f32 / 100.0).to_bits(), [b'0', b'.', tens, ones], if ones == b'0' { 3 } else { 4 }),
        };
        k += 1;
    }
    table
};

/// The `text` of a line's raw JSON string (`"..."` as written, checked by serde_json), unescaped into `out`; `false`
/// when it is not a string or holds a `\u` escape.
fn raw_text(raw: &str, out: &mut String) -> bool {
    raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).is_some_and(|inner| unescaped(inner, out))
}

/// One document's output line (with its line break, when it has one) appended to `out` (on an error, part of it may
/// have been: the caller cuts it off).
fn process(run: &Run<'_>, line: u64, raw: &str, worker: &mut Worker, out: &mut Vec<u8>) -> Result<(), String> {
    let Worker { text, entities } = worker;
    let (id, text) = match run.format {
        Format::Jsonl => match plain_line(raw, text) {
            Some(id) => (id, text.as_str()),
            None => match serde_json::from_str::<RawInputLine<'_>>(raw) {
                Ok(parsed) if raw_text(parsed.text.get(), text) => (LineId::Parsed(parsed.id), text.as_str()),
                // Not a plain string (or no JSON at all): serde_json's full parse gives the text or the error.
                _ => {
                    let parsed: InputLine =
                        serde_json::from_str(raw).map_err(|e| format!("not a {{\"id\",\"text\"}} JSON object: {e}"))?;
                    *text = parsed.text;
                    (LineId::Parsed(parsed.id), text.as_str())
                }
            },
        },
        Format::Text => (LineId::Parsed(serde_json::Value::from(line)), raw),
    };
    run.analyzer.analyze_into(text, run.options, entities);
    match run.job {
        Job::Analyze => {
            // Room for the line at once (an id longer than 11 bytes included, `clean-1000`): growing to it went through
            // the growth path more than once, and growing the buffer of an earlier line copied that line. Written into
            // a local `Vec`, whose length the compiler keeps in a register.
            let room = id.analysis_capacity(entities.len()) + 1;
            let mut line = std::mem::take(out);
            line.reserve(room);
            let written = write_analysis(&id, entities, &mut line);
            line.push(b'\n');
            *out = line;
            written.map_err(|e| e.to_string())?;
        }
        Job::Transform { policy, tenant, data } => {
            let keys = Keys { tenant: tenant.as_ref(), data: data.as_ref() };
            let transformed = transform(text, entities, policy, keys).map_err(|e| e.to_string())?;
            match run.format {
                Format::Jsonl => {
                    let line =
                        TransformLine { id: &id.into_value(), text: &transformed.text, items: &transformed.items };
                    serde_json::to_writer(&mut *out, &line).map_err(|e| e.to_string())?;
                    out.push(b'\n');
                }
                Format::Text => out.extend_from_slice(transformed.text.as_bytes()),
            }
        }
    }
    Ok(())
}

/// Streams `input` to `output`.
pub fn run<R: BufRead, W: Write>(
    analyzer: &Analyzer,
    options: &AnalyzeOptions,
    job: &Job,
    format: Format,
    input: R,
    mut output: W,
    settings: Settings,
) -> anyhow::Result<Summary> {
    let mut reader = Reader::new(input);
    let mut summary = Summary::default();
    let work = Run { analyzer, options, job, format };
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        let (records, bytes) = reader.chunk(format, settings.chunk)?;
        if records.is_empty() {
            break;
        }
        let buffer = reader.buffer.as_str();
        // Each block of records writes into the block kept at its index for the next chunk: a `Vec` for every
        // document cost an allocation and a free.
        let count = records.len().div_ceil(BLOCK);
        if blocks.len() < count {
            blocks.resize_with(count, Block::new);
        }
        records.par_chunks(BLOCK).zip(blocks.par_iter_mut()).for_each_init(
            Worker::default,
            |worker, (records, block)| {
                block.bytes.clear();
                block.ends.clear();
                for r in records {
                    let start = block.bytes.len();
                    let result = match r {
                        Record::Document { line, raw } => {
                            let raw = &buffer[raw.clone()];
                            let raw = if format == Format::Jsonl { raw.trim_end_matches(['\n', '\r']) } else { raw };
                            DOCUMENT_LINE.set(*line);
                            let result = process(&work, *line, raw, worker, &mut block.bytes);
                            DOCUMENT_LINE.set(0);
                            result
                        }
                        Record::Passthrough(blank) => {
                            block.bytes.extend_from_slice(buffer[blank.clone()].as_bytes());
                            if format == Format::Jsonl {
                                block.bytes.push(b'\n');
                            }
                            Ok(())
                        }
                    };
                    if result.is_err() {
                        block.bytes.truncate(start);
                    }
                    block.ends.push(result.map(|()| block.bytes.len()));
                }
            },
        );
        // The chunk's output is handed over as the blocks' slices, in one vectored write: written block by block into
        // the `BufWriter`, every byte of it was copied into that buffer first (a fiftieth of the instructions of a
        // run on mixed notes), where a write of a whole chunk, larger than the buffer, bypasses it.
        let mut slices = Vec::with_capacity(count + 1);
        for (records, block) in records.chunks(BLOCK).zip(&blocks) {
            let (mut written, mut end) = (0, 0);
            for (record, result) in records.iter().zip(&block.ends) {
                match result {
                    Ok(record_end) => {
                        end = *record_end;
                        if let Record::Document { .. } = record {
                            summary.documents += 1;
                        }
                    }
                    Err(message) => {
                        slices.push(IoSlice::new(&block.bytes[written..end]));
                        written = end;
                        let line = match record {
                            Record::Document { line, .. } => *line,
                            Record::Passthrough(_) => 0,
                        };
                        eprintln!("phi: line {line}: {message}");
                        summary.malformed += 1;
                        if settings.strict {
                            // The output of the records before the error is written before the run stops.
                            write_all_vectored(&mut output, &mut slices).context("writing the output")?;
                            output.flush().context("writing the output")?;
                            summary.failed_strict = true;
                            return Ok(summary);
                        }
                    }
                }
            }
            slices.push(IoSlice::new(&block.bytes[written..end]));
        }
        write_all_vectored(&mut output, &mut slices).context("writing the output")?;
        drop(slices);
        // The buffer of a very long block is not kept for the next chunk.
        for block in &mut blocks {
            if block.bytes.capacity() > KEPT_BLOCK {
                *block = Block::new();
            }
        }
        // Whole chunks reach the output, so that a run stopped by a bug loses nothing before the chunk it was on.
        output.flush().context("writing the output")?;
        // A blank line left for the next chunk is the last line read, and not written yet.
        COMPLETE_BEFORE.store(reader.line + 1 - u64::from(reader.pending.is_some()), Ordering::Relaxed);
        if let Some(bar) = &settings.progress {
            bar.inc(bytes);
        }
    }
    output.flush().context("writing the output")?;
    if let Some(bar) = &settings.progress {
        bar.finish_and_clear();
    }
    Ok(summary)
}

/// All of `slices` written to `output`, as the unstable `Write::write_all_vectored` writes them (`slices` is left
/// empty).
fn write_all_vectored<W: Write>(output: &mut W, slices: &mut Vec<IoSlice<'_>>) -> std::io::Result<()> {
    slices.retain(|s| !s.is_empty());
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match output.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    slices.clear();
    Ok(())
}

#[cfg(test)]
mod tests {

    use super::*;

    /// What `phi analyze` wrote through serde before [`write_analysis`].
    #[derive(Serialize)]
    struct AnalyzeLine<'a> {
        id: &'a serde_json::Value,
        entities: &'a [Entity],
    }

    #[test]
    fn analysis_lines_are_written_exactly_as_serde_json_writes_them() {
        let ids = [
            serde_json::json!(7),
            serde_json::json!("note-\"1\"\n\u{e9}\u{1F600}"),
            serde_json::json!(-0.0),
            serde_json::json!(1e300),
            serde_json::json!(null),
            serde_json::json!({"a": [1, 2.5, "x"], "b": {"c": true}}),
        ];
        let scores = [0.0f32, 0.5, 0.85, 0.9, 0.95, 1.0, 0.123_456_79, 1e-7, f32::NAN, f32::INFINITY, -0.0, 0.88];
        let entities: Vec<Entity> = EntityType::ALL
            .iter()
            .zip(scores.iter().cycle())
            .enumerate()
            .map(|(n, (&entity_type, &score))| Entity { entity_type, start: n * 997, end: n * 997 + 12, score })
            .collect();
        for id in &ids {
            for n in [0, 1, 2, entities.len()] {
                let mut out = Vec::new();
                write_analysis(&LineId::Parsed(id.clone()), &entities[..n], &mut out).expect("written");
                let expected = serde_json::to_string(&AnalyzeLine { id, entities: &entities[..n] }).expect("serde");
                assert_eq!(String::from_utf8(out).expect("utf-8"), expected);
            }
        }
    }

    #[test]
    fn offsets_are_written_as_serde_json_writes_them() {
        for n in
            [0, 1, 9, 10, 99, 100, 999, 1000, 4321, 9999, 10_000, 65_535, 1_000_000_007, usize::MAX - 1, usize::MAX]
                .into_iter()
                .chain(0..200_000)
                .chain(99_999_900..100_000_100)
                .chain((1..10_000).map(|k| k * 10_007))
        {
            let mut out = EntityJson { bytes: vec![b'x'; ENTITY_ROOM], len: 1 };
            write_decimal(n, &mut out);
            assert_eq!(&out.as_bytes()[1..], serde_json::to_vec(&n).expect("serde").as_slice(), "{n}");
        }
    }

    #[test]
    fn every_hundredth_is_written_as_serde_json_writes_it_and_other_scores_are_left_to_serde_json() {
        for k in 0..=100u8 {
            let score = f32::from(k) / 100.0;
            let mut out = EntityJson { bytes: vec![0; ENTITY_ROOM], len: 0 };
            assert!(write_hundredths(score, &mut out), "{k}");
            assert_eq!(out.as_bytes(), serde_json::to_vec(&score).expect("serde"), "{k}");
        }
        let mut out = EntityJson { bytes: vec![0; ENTITY_ROOM], len: 0 };
        for score in [-0.0f32, -0.01, 0.955, 0.123_456_79, 1e-7, 1.01, 2.0, 255.0, 256.0, f32::NAN, f32::INFINITY] {
            assert!(!write_hundredths(score, &mut out), "{score}");
        }
        // The next f32 above a hundredth is not one.
        assert!(!write_hundredths(f32::from_bits(0.95f32.to_bits() + 1), &mut out));
        assert_eq!(out.len, 0);
    }

    #[test]
    fn a_panic_is_reported_with_its_input_line_and_never_with_the_text() {
        static REPORT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            *REPORT.lock().expect("report") = Some(panic_report(info.location()));
        }));
        let text = String::from("Patient Renée Dubois");
        let caught = std::panic::catch_unwind(|| {
            DOCUMENT_LINE.set(7);
            // A slice inside `é`: std's message quotes the whole string.
            text[..12].len()
        });
        DOCUMENT_LINE.set(0);
        std::panic::set_hook(default);
        assert!(caught.is_err());
        let report = REPORT.lock().expect("report").take().expect("the hook ran");
        assert!(report.contains("on the document at input line 7"), "{report}");
        assert!(report.contains("stream.rs:"), "the location is kept: {report}");
        assert!(!report.contains("Ren") && !report.contains("Dubois"), "the text leaked: {report}");
        assert!(panic_report(None).contains("outside any document"));
    }

    /// A writer that notes what it held at each flush.
    #[derive(Default)]
    struct Flushes {
        written: Vec<u8>,
        at_flush: Vec<usize>,
    }

    impl Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            self.at_flush.push(self.written.len());
            Ok(())
        }
    }

    #[test]
    fn each_chunk_is_flushed_before_the_next_is_read() {
        let input: String = (0..5).map(|i| format!("{{\"id\":{i},\"text\":\"seen on 03/04/2021\"}}\n")).collect();
        let mut output = Flushes::default();
        let settings = Settings { strict: false, chunk: 2, progress: None };
        let analyzer = Analyzer::new().expect("analyzer");
        let options = AnalyzeOptions::default();
        let summary = run(&analyzer, &options, &Job::Analyze, Format::Jsonl, input.as_bytes(), &mut output, settings)
            .expect("run");
        assert_eq!(summary.documents, 5);
        let text = String::from_utf8(output.written).expect("utf-8");
        let line_ends: Vec<usize> = text.match_indices('\n').map(|(at, _)| at + 1).collect();
        // After lines 2 and 4 (each chunk), and at the end; the last flush may repeat.
        assert_eq!(&output.at_flush[..3], &[line_ends[1], line_ends[3], line_ends[4]]);
    }

    /// A writer that takes at most `most` bytes a call, of the first slice only, and is interrupted every other call.
    struct Trickle {
        written: Vec<u8>,
        most: usize,
        calls: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(2) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.most);
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_chunk_s_output_is_written_whole_by_a_writer_that_takes_it_piece_by_piece() {
        let input: String = (0..200)
            .map(|i| match i % 50 {
                7 => "not json\n".to_owned(),
                _ => format!(
                    "{}\n",
                    serde_json::json!({"id": i, "text": "Maria Lopez, DOB 03/14/1962, seen 03/04/2021"})
                ),
            })
            .collect();
        let analyzer = Analyzer::new().expect("analyzer");
        let options = AnalyzeOptions::default();
        let mut expected = Vec::new();
        let settings = Settings { strict: false, chunk: 64, progress: None };
        run(&analyzer, &options, &Job::Analyze, Format::Jsonl, input.as_bytes(), &mut expected, settings).expect("run");
        for most in [1, 7, 1000] {
            for strict in [false, true] {
                let mut trickle = Trickle { written: Vec::new(), most, calls: 0 };
                let settings = Settings { strict, chunk: 64, progress: None };
                let summary =
                    run(&analyzer, &options, &Job::Analyze, Format::Jsonl, input.as_bytes(), &mut trickle, settings)
                        .expect("run");
                // With `--strict`, the lines before the first malformed one (line 8).
                let lines = if strict { 7 } else { 196 };
                let want: Vec<u8> = expected.split_inclusive(|&b| b == b'\n').take(lines).flatten().copied().collect();
                assert_eq!(trickle.written, want, "{most} {strict}");
                assert_eq!(summary.failed_strict, strict);
            }
        }
        let mut slices = vec![IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")];
        let mut zero = Trickle { written: Vec::new(), most: 0, calls: 0 };
        assert_eq!(
            write_all_vectored(&mut zero, &mut slices).map_err(|e| e.kind()),
            Err(std::io::ErrorKind::WriteZero)
        );
    }

    #[test]
    fn each_line_holds_only_its_own_document_s_entities_when_buffers_are_reused() {
        let texts = ["Maria Lopez, DOB 03/14/1962, MRN 00456123", "BP 128/82, HR 72", "", "call (415) 555-0134"];
        let analyzer = Analyzer::new().expect("analyzer");
        let options = AnalyzeOptions::default();
        // Each document alone, in a run of its own.
        let alone = |text: &str| {
            let input = format!("{}\n", serde_json::json!({"id": 1, "text": text}));
            let mut output = Vec::new();
            let settings = Settings { strict: false, chunk: 1, progress: None };
            run(&analyzer, &options, &Job::Analyze, Format::Jsonl, input.as_bytes(), &mut output, settings)
                .expect("run");
            String::from_utf8(output).expect("utf-8")
        };
        // Long documents before short ones and the other way round, over several chunks whose buffers are reused.
        let order = [0, 1, 2, 3, 0, 2, 1, 1, 3, 0, 0];
        let input: String =
            order.iter().map(|&n| format!("{}\n", serde_json::json!({"id": 1, "text": texts[n]}))).collect();
        let expected: String = order.iter().map(|&n| alone(texts[n])).collect();
        for chunk in [1, 2, 3, 64] {
            let mut output = Vec::new();
            let settings = Settings { strict: false, chunk, progress: None };
            run(&analyzer, &options, &Job::Analyze, Format::Jsonl, input.as_bytes(), &mut output, settings)
                .expect("run");
            assert_eq!(String::from_utf8(output).expect("utf-8"), expected, "chunk {chunk}");
        }
    }

    #[test]
    fn lines_across_blocks_come_out_in_order_without_the_malformed_ones() {
        let texts = ["Maria Lopez, DOB 03/14/1962", "BP 128/82", "call (415) 555-0134", ""];
        let malformed = [0, BLOCK - 1, BLOCK, 2 * BLOCK + 3];
        let input: String = (0..3 * BLOCK + 5)
            .map(|n| match malformed.contains(&n) {
                true => "not json\n".to_owned(),
                false => format!("{}\n", serde_json::json!({"id": n, "text": texts[n % texts.len()]})),
            })
            .collect();
        let analyzer = Analyzer::new().expect("analyzer");
        let options = AnalyzeOptions::default();
        let expected: String = (0..3 * BLOCK + 5)
            .filter(|n| !malformed.contains(n))
            .map(|n| {
                let entities = analyzer.analyze(texts[n % texts.len()], &options);
                let mut line = Vec::new();
                write_analysis(&LineId::Parsed(serde_json::json!(n)), &entities, &mut line).expect("written");
                format!("{}\n", String::from_utf8(line).expect("utf-8"))
            })
            .collect();
        for chunk in [1, 7, BLOCK, BLOCK + 1, 2048] {
            let mut output = Vec::new();
            let settings = Settings { strict: false, chunk, progress: None };
            let summary =
                run(&analyzer, &options, &Job::Analyze, Format::Jsonl, input.as_bytes(), &mut output, settings)
                    .expect("run");
            assert_eq!(String::from_utf8(output).expect("utf-8"), expected, "chunk {chunk}");
            assert_eq!((summary.documents, summary.malformed), ((3 * BLOCK + 1) as u64, 4), "chunk {chunk}");
        }
    }

    #[test]
    fn a_line_is_blank_exactly_when_trimming_empties_it() {
        let lines = [
            "",
            "\n",
            "\r\n",
            " \t\n",
            "\u{b}\u{c}\n",
            "\u{a0}\n",
            "\u{2028}",
            "\u{3000} \n",
            "{\"id\":1}\n",
            " x\n",
            "x",
            "\u{a0}x\n",
            "\u{e9}\n",
            "\u{0}\n",
            "\u{1f600}",
        ];
        for line in lines {
            assert_eq!(is_blank(line), line.trim().is_empty(), "{line:?}");
        }
    }

    #[test]
    fn lines_are_read_as_read_line_reads_them_across_buffer_refills() {
        let input = "caf\u{e9} one\r\n\n\u{1F600}two \u{e9}\u{e9}\nlast without a break".as_bytes();
        for capacity in [1, 2, 3, 5, 64] {
            let mut ours = Reader::new(std::io::BufReader::with_capacity(capacity, input));
            let mut std_reader = std::io::BufReader::with_capacity(capacity, input);
            let mut expected = String::new();
            loop {
                let n = ours.read_line().expect("UTF-8");
                assert_eq!(n, std_reader.read_line(&mut expected).expect("UTF-8"), "{capacity}");
                assert_eq!(ours.buffer, expected, "{capacity}");
                if n == 0 {
                    break;
                }
            }
        }
        // Across refills (through `scratch`) and within the reader's buffer.
        for capacity in [2, 64] {
            let mut bad = Reader::new(std::io::BufReader::with_capacity(capacity, &b"ok\nbad \xff\n"[..]));
            assert_eq!(bad.read_line().expect("first line"), 3);
            let message = bad.read_line().expect_err("not UTF-8").to_string();
            let std_message =
                std::io::BufReader::new(&b"bad \xff\n"[..]).read_line(&mut String::new()).expect_err("std");
            assert_eq!(message, std_message.to_string());
            assert_eq!(bad.buffer, "ok\n", "{capacity}");
        }
    }

    #[test]
    fn text_is_unescaped_as_serde_json_reads_it_or_left_to_serde_json() {
        for text in [
            "",
            "plain",
            "a\nb\r\n\tc",
            "q\"uote \\ back/slash",
            "\u{8}\u{c}",
            "caf\u{e9} \u{1F600}",
            "#! $",
            "# \"!\" #",
        ] {
            let line = serde_json::json!({"id": 1, "text": text}).to_string();
            let parsed: RawInputLine<'_> = serde_json::from_str(&line).expect("raw line");
            let mut out = String::from("left over");
            assert!(raw_text(parsed.text.get(), &mut out), "{line}");
            assert_eq!(out, text);
        }
        let mut out = String::new();
        assert!(raw_text(r#""a\/b""#, &mut out) && out == "a/b");
        // `\u` escapes, and values that are no string, are serde_json's to read.
        for raw in [r#""caf\u00e9""#, r#""\ud83d\ude00""#, "5", "null", r#"["x"]"#] {
            assert!(!raw_text(raw, &mut out), "{raw}");
        }
    }

    /// What serde_json reads from `line`: the id and text, or none.
    fn serde_reads(line: &str) -> Option<(serde_json::Value, String)> {
        serde_json::from_str::<InputLine>(line).ok().map(|l| (l.id, l.text))
    }

    /// What the plain-line reading gives: the id as serde_json would have read it (and, written, what serde_json
    /// writes for that), and the text.
    fn plain_reads(line: &str) -> Option<(serde_json::Value, String)> {
        let mut text = String::from("left over");
        let id = plain_line(line, &mut text)?;
        let mut written = Vec::new();
        id.write(&mut written).expect("written");
        let value = id.into_value();
        assert_eq!(written, serde_json::to_vec(&value).expect("serde"), "{line}");
        Some((value, text))
    }

    #[test]
    fn a_plain_line_is_read_as_serde_json_reads_it_and_any_other_is_left_to_serde_json() {
        let plain = [
            r#"{"id":"20261122-0","text":"Seen 03/04/2021.\nSigned: Matherly, RN\n"}"#,
            r#"{"id":7,"text":""}"#,
            r#"{"id":-1.5e3,"text":"q\"uote \\ back\/slash \b\f\r\t"}"#,
            r#"{"id":null,"text":"caf\u00e9"}"#,
            r#"{"id":{"text":"x","id":[1,"}"]},"text":"a\\"}"#,
            r#"{"id": "spaced","text":"x"}"#,
            r#"{"id":"caf\u00e9 \"1\"","text":"x"}"#,
            r#"{"id":"café 😀 {\"},","text":"x"}"#,
            r#"{"id":"","text":"x"}"#,
            r#"{"id":0,"text":"\\u"}"#,
        ];
        let other = [
            r#"{"text":"x","id":1}"#,
            r#"{"id":1,"kind":"note","text":"x"}"#,
            r#"{"id":1,"text":"x","spans":[]}"#,
            r#"{"id":1, "text":"x"}"#,
            r#"{"id":1,"text":"x" }"#,
            r#"{"id":1,"text":5}"#,
            r#"{"id":1,"text":"a"b"}"#,
            r#"{"id":1,"text":"a\"}"#,
            r#"{"id":1,"text":"a\x"}"#,
            "{\"id\":1,\"text\":\"a\tb\"}",
            r#"{"id":1 2,"text":"x"}"#,
            r#"{"id":,"text":"x"}"#,
            "{\"id\":\"a\tb\",\"text\":\"x\"}",
            r#"{"id":"unclosed,"text":"x"}"#,
            r#"{"id":1,"text":"x"},"y":"z"}"#,
            r#"{"id":1,"text":"x"}}"#,
            r#"{"id":1,"text":"x""#,
            r#"["id",1]"#,
            "",
        ];
        for line in plain.iter().chain(&other) {
            let ours = plain_reads(line);
            match &ours {
                Some(read) => assert_eq!(Some(read), serde_reads(line).as_ref(), "{line}"),
                None => assert!(!plain.contains(line) || line.contains("\\u"), "{line}"),
            }
            assert!(ours.is_none() || plain.contains(line), "{line}");
        }
        // A backslash written `\\` before a `u` is no `\u` escape: the line is read here.
        let text = plain_reads(r#"{"id":0,"text":"\\u"}"#).map(|(_, text)| text);
        assert_eq!(text.as_deref(), Some("\\u"));
    }

    proptest::proptest! {
        /// Any text, as serde_json writes it in a line: the hand-written unescaping gives it back exactly, or leaves the
        /// line to serde_json (a control character written as a `\u` escape).
        #[test]
        fn any_text_round_trips_through_the_unescaping(text in ".*", id in proptest::num::i64::ANY) {
            let line = serde_json::json!({"id": id, "text": text}).to_string();
            let parsed: RawInputLine<'_> = serde_json::from_str(&line).expect("raw line");
            let mut out = String::new();
            if raw_text(parsed.text.get(), &mut out) {
                proptest::prop_assert_eq!(&out, &text);
            } else {
                proptest::prop_assert!(parsed.text.get().contains("\\u"));
            }
            let read = plain_reads(&line);
            // serde_json writes a `\u` escape for a control character other than `\b`, `\f`, `\n`, `\r` and `\t`, and
            // for nothing else: a `\` written `\\` and followed by a `u` is none.
            let u_escape = text.chars().any(|c| c < ' ' && !matches!(c, '\u{8}' | '\u{c}' | '\n' | '\r' | '\t'));
            if u_escape {
                proptest::prop_assert!(read.is_none());
            } else {
                proptest::prop_assert_eq!(read, serde_reads(&line));
            }
        }

        /// Any line at all: what the plain-line reading gives, serde_json reads from it too.
        #[test]
        fn a_plain_line_reading_never_differs_from_serde_json(line in r#"\{"id":[0-9a-z"{}\[\],:\\ ]{0,6},"text":"[a-z"\\/\x00\n}{ ]{0,8}"?\}?"#) {
            if let Some(read) = plain_reads(&line) {
                proptest::prop_assert_eq!(Some(read), serde_reads(&line));
            }
        }
    }
}
