//! Normalization of Unicode tricks before detection, and the map back to code points of the original text.
//!
//! Full-width forms become ASCII, zero-width characters and soft hyphens vanish, every kind of space becomes `' '`
//! and Unicode dashes become `'-'`. A word hyphenated across a line break is joined, and in text read by OCR, `l`, `I`
//! and `O` inside numbers are digits again. Detection runs on the normalized bytes; [`Normalized::char_span`] maps a
//! byte span back to `start`/`end` code points of the original, so callers index the characters they sent.

use crate::gazetteer::HIGH_BITS;
use std::borrow::Cow;

/// A document ready for detection.
#[derive(Debug)]
pub struct Normalized<'a> {
    text: Cow<'a, str>,
    /// Where each normalized byte comes from in the original.
    map: ByteMap,
}

/// The code points of the original that each byte of a [`Normalized`] text stands for.
#[derive(Debug)]
enum ByteMap {
    /// The input is ASCII and nothing was rewritten: bytes are code points.
    Identity,
    /// Unicode tricks were folded and nothing else rewritten: each byte stands for the one code point of the
    /// character it is (part of), one more than the byte before's except at the bytes listed here, in order, with their
    /// code point (a character's second and later bytes, and the byte after a dropped character). A note with a few
    /// accented letters has a few such bytes, where a span for every byte cost more to write than the folding itself.
    Folded(Vec<(u32, u32)>),
    /// For every normalized byte, the code points `start..end` of the original it stands for.
    Spans(Vec<(u32, u32)>),
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
        Self::with_ocr(original, false)
    }

    /// Like [`Normalized::new`]; for text read by OCR (`scanned`), letters misread inside numbers become digits.
    pub fn with_ocr(original: &'a str, scanned: bool) -> Self {
        let mut normalized = Self::folded(original);
        // Same length: every offset stays.
        if scanned && let Some(mended) = ocr_digits(&normalized.text) {
            normalized.text = Cow::Owned(mended);
        }
        if scanned && let Some(mended) = ocr_letters(&normalized.text) {
            normalized.text = Cow::Owned(mended);
        }
        if scanned && let Some(mended) = ocr_capital_i(&normalized.text) {
            normalized.text = Cow::Owned(mended);
        }
        if scanned && let Some(tight) = ocr_comma_spaces(&normalized.text) {
            normalized = normalized.then(tight);
        }
        if let Some(joined) = join_wrapped_words(&normalized.text) {
            normalized = normalized.then(joined);
        }
        // Numbers spelled out in dictated text are written in digits (see [`crate::spoken`]); each digit maps to
        // the code points of the words it replaces.
        match crate::spoken::rewrite(&normalized.text) {
            Some(spoken) => normalized.then(spoken),
            None => normalized,
        }
    }

    /// The rewritten `text` of this one, where `map` gives for every byte of it the byte span of this text it
    /// stands for.
    fn then(self, (text, map): (String, Vec<(usize, usize)>)) -> Self {
        // A span for every byte first: looked up twice for every byte of the rewrite below.
        let this = self.with_spans();
        let span_of_byte = map
            .into_iter()
            .map(|(s, e)| {
                let first = this.char_span(s, s + 1).0;
                let last = this.char_span(e - 1, e).1;
                (to_u32(first), to_u32(last))
            })
            .collect();
        Self { text: Cow::Owned(text), map: ByteMap::Spans(span_of_byte) }
    }

    /// The same text with a [`ByteMap::Spans`] map (an identity map stays).
    fn with_spans(self) -> Self {
        let ByteMap::Folded(breaks) = &self.map else { return self };
        let mut spans = Vec::with_capacity(self.text.len());
        let mut next = breaks.iter().peekable();
        let mut code_point = 0;
        for at in 0..to_u32(self.text.len()) {
            code_point = match next.next_if(|&&(b, _)| b == at) {
                Some(&(_, c)) => c,
                None if at == 0 => 0,
                None => code_point + 1,
            };
            spans.push((code_point, code_point + 1));
        }
        Self { text: self.text, map: ByteMap::Spans(spans) }
    }

    /// Unicode tricks folded.
    fn folded(original: &'a str) -> Self {
        if all_ascii(original.as_bytes()) {
            return Self { text: Cow::Borrowed(original), map: ByteMap::Identity };
        }
        let mut text = String::with_capacity(original.len());
        // See [`ByteMap::Folded`]; `linear` is the code point the next byte has when it is not listed.
        let mut breaks = Vec::new();
        let mut linear = 0u32;
        let mut index = 0u32;
        let mut rest = original;
        loop {
            // No ASCII character folds: a run of them (most of any text) is copied whole, one code point per byte,
            // rather than decoded and pushed one by one.
            let run = ascii_run(rest.as_bytes());
            if run > 0 {
                if index != linear {
                    breaks.push((to_u32(text.len()), index));
                }
                text.push_str(&rest[..run]);
                index += run as u32;
                linear = index;
            }
            let mut chars = rest[run..].chars();
            let Some(c) = chars.next() else { break };
            rest = chars.as_str();
            let out = match fold(c) {
                Fold::Keep => c,
                Fold::Into(r) => r,
                Fold::Drop => {
                    index += 1;
                    continue;
                }
            };
            let before = to_u32(text.len());
            if index != linear {
                breaks.push((before, index));
            }
            text.push(out);
            // The character's later bytes stand for its code point too.
            breaks.extend((before + 1..to_u32(text.len())).map(|at| (at, index)));
            index += 1;
            linear = index;
        }
        Self { text: Cow::Owned(text), map: ByteMap::Folded(breaks) }
    }

    /// The normalized text detection runs on.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether every byte offset of the text is the same code point offset of the original: an ASCII text that
    /// nothing rewrote (most notes), whose spans need no mapping.
    pub(crate) fn offsets_unchanged(&self) -> bool {
        matches!(self.map, ByteMap::Identity)
    }

    /// Code point span of the original text for the normalized byte span `start..end` (non-empty).
    pub fn char_span(&self, start: usize, end: usize) -> (usize, usize) {
        match &self.map {
            ByteMap::Identity => (start, end),
            ByteMap::Folded(breaks) => {
                let first = folded_code_point(breaks, start);
                let last = if end > start { folded_code_point(breaks, end - 1) + 1 } else { first };
                (first, last)
            }
            ByteMap::Spans(map) => {
                let first = map[start].0 as usize;
                let last = if end > start { map[end - 1].1 as usize } else { first };
                (first, last)
            }
        }
    }
}

/// The code point that byte `at` of a folded text stands for (see [`ByteMap::Folded`]).
fn folded_code_point(breaks: &[(u32, u32)], at: usize) -> usize {
    match breaks.partition_point(|&(b, _)| b as usize <= at) {
        0 => at,
        k => {
            let (b, code_point) = breaks[k - 1];
            code_point as usize + (at - b as usize)
        }
    }
}

/// Whether `b` is all ASCII: std's `is_ascii` reads 64 bytes a step and then the last up to 63 one by one, which cost
/// more than the rest for a note; here those are read eight at a time by [`ascii_run`].
fn all_ascii(b: &[u8]) -> bool {
    let whole = b.len() - b.len() % 64;
    b[..whole].is_ascii() && ascii_run(&b[whole..]) == b.len() - whole
}

/// Length of the run of ASCII bytes `b` starts with, read eight bytes at a time: a note with a few accented letters is
/// mostly such runs, and a byte loop over them cost more than the rest of its folding.
fn ascii_run(b: &[u8]) -> usize {
    let mut chunks = b.chunks_exact(8);
    let mut n = 0;
    for chunk in &mut chunks {
        let high = u64::from_le_bytes(chunk.try_into().unwrap_or_default()) & HIGH_BITS;
        if high != 0 {
            // Little-endian: the lowest set bit is in the first byte that is not ASCII.
            return n + (high.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + chunks.remainder().iter().take_while(|c| c.is_ascii()).count()
}

/// A letter OCR reads for a digit: `l` and `I` for `1`, `O` and `o` for `0`.
fn misread_digit(b: u8) -> Option<u8> {
    match b {
        b'l' | b'I' => Some(b'1'),
        b'O' | b'o' => Some(b'0'),
        _ => None,
    }
}

/// Whether a letter of [`misread_digit`] stands where a digit would: between two digits, after two digits or before
/// them, or between a digit and `/ . -` (`0l22`, `l962`, `678O`, `O3/14`). `O2`, `SpO2` and an ICD-10 category
/// (`I10`, `O09.90`: `I` or `O` and exactly two digits) do not. Most text has none of these, and every document is
/// asked: one branch-free pass over windows of six bytes, so that the compiler can vectorize it.
fn misread_next_to_digit(b: &[u8]) -> bool {
    let digit = |x: u8| u8::from(x.wrapping_sub(b'0') < 10);
    let misread = |x: u8| {
        u8::from(x == b'l')
            | u8::from(x == b'I')
            | u8::from(x == b'O')
            | u8::from(x == b'o')
            | u8::from(x == b'S')
            | u8::from(x == b'B')
    };
    let separator = |x: u8| u8::from(x == b'/') | u8::from(x == b'-') | u8::from(x == b'.');
    let window = |[a, p, x, n, z, y]: [u8; 6]| {
        let starts_run = 1 ^ (digit(p) | separator(p));
        let icd = starts_run & (u8::from(x == b'I') | u8::from(x == b'O')) & digit(n) & digit(z) & (1 ^ digit(y));
        let digits_around = (digit(a) & digit(p))
            | (digit(n) & digit(z) & (1 ^ icd))
            | (digit(p) & digit(n))
            | (separator(p) & digit(n))
            | (digit(p) & separator(n))
            | (digit(n) & separator(z) & starts_run)
            // `9l-year-old`, `AGE  9l  yrs.`: a two-character age.
            | (digit(p) & (1 ^ digit(a)) & (1 ^ u8::from(n.is_ascii_alphanumeric())));
        misread(x) & digits_around
    };
    let any_in = |s: &[u8]| {
        // Six views of the same bytes shifted by one: equal lengths let the loop run without bounds checks.
        if s.len() < 6 {
            return false;
        }
        let m = s.len() - 5;
        let (a, p, x, n, z, y) = (&s[..m], &s[1..m + 1], &s[2..m + 2], &s[3..m + 3], &s[4..m + 4], &s[5..m + 5]);
        let mut hit = 0u8;
        for i in 0..m {
            hit |= window([a[i], p[i], x[i], n[i], z[i], y[i]]);
        }
        hit != 0
    };
    // The first two and last three bytes are the middle of a window padded with spaces.
    let padded = |part: &[u8]| {
        let mut window = [b' '; 10];
        window[2..2 + part.len()].copy_from_slice(part);
        window
    };
    any_in(&padded(&b[..b.len().min(5)]))
        || any_in(&padded(&b[b.len().saturating_sub(5)..]))
        || (0..b.len()).step_by(4096).any(|from| any_in(&b[from..(from + 4096 + 5).min(b.len())]))
}

/// `03/l4/1962`, `SSN l23-45-6789`, `555-Ol22`, `Ol/28/2O25`: the text with the letters of [`misread_digit`] (and
/// `S`, `B` where digits stand around them) written as digits where they stand in a number, `None` when there is none. A number here is a run of digits, those
/// letters and `/ . -`, touching no other letter, three characters or more with two digits or more and at most one
/// letter more than digits; each part between `/ . -` that holds such a letter holds a digit too or is one or two
/// characters long (`Oil`, `10lbs`, `SpO2`, `O2` and `I-V` stay).
fn ocr_digits(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if !misread_next_to_digit(b) {
        return None;
    }
    let in_run =
        |c: u8| c.is_ascii_digit() || misread_digit(c).is_some() || matches!(c, b'/' | b'.' | b'-' | b'S' | b'B');
    // `97S20`, `2B787`, `1-B00-555`, `(B28)`: `S` and `B` are read as `5` and `8` only with a digit after them and a
    // digit, a separator or `(` before, or a digit before and none after (`3376S`): `S72.0`, `B12` and `SSN` stay.
    let shaped_digit = |at: usize| {
        let before = at.checked_sub(1).map(|p| b[p]);
        let after = b.get(at + 1).copied();
        let digit_after = after.is_some_and(|c| c.is_ascii_digit());
        let opens = before.is_some_and(|c| c.is_ascii_digit() || matches!(c, b'/' | b'.' | b'-' | b'('));
        (opens && digit_after)
            || (before.is_some_and(|c| c.is_ascii_digit()) && after.is_none_or(|c| !c.is_ascii_alphanumeric()))
    };
    // The digit a letter at `at` was read for, if any.
    let digit_for = |at: usize| match b[at] {
        b'S' => shaped_digit(at).then_some(b'5'),
        b'B' => shaped_digit(at).then_some(b'8'),
        c => misread_digit(c),
    };
    let letter = |c: u8| c.is_ascii_alphabetic() || c >= 0x80;
    let mut out = b.to_vec();
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        if !in_run(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && in_run(b[i]) {
            i += 1;
        }
        let run = &b[start..i];
        // A run touches no letter, except an age's hyphen before `year` (`9l-year-old`).
        let aged = run.len() == 3 && run[2] == b'-' && age_around(b, start, start + 2);
        if (start > 0 && letter(b[start - 1])) || (i < b.len() && letter(b[i]) && !aged) {
            continue;
        }
        // `I10`, `O09.90`: an ICD-10 category, not a misread number.
        let icd = matches!(run[0], b'I' | b'O')
            && run.len() >= 3
            && run[1..3].iter().all(u8::is_ascii_digit)
            && run.get(3).is_none_or(|c| !c.is_ascii_digit());
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        let misread: Vec<(usize, u8)> =
            (0..run.len()).filter_map(|k| digit_for(start + k).map(|d| (start + k, d))).collect();
        let parts_hold_digits = run.split(|c| matches!(c, b'/' | b'.' | b'-')).all(|part| {
            !part.iter().any(|&c| misread_digit(c).is_some()) || part.len() <= 2 || part.iter().any(u8::is_ascii_digit)
        });
        // `ll/O4/l98l`, `Ol/Ol/2O25`: a date's shape whose digits, mended, make a real date may be mostly misreads.
        let date = digits >= 1 && !misread.is_empty() && misread_date(run, start, &misread);
        let number = !icd
            && digits >= 2
            && run.len() >= 3
            && !misread.is_empty()
            && misread.len() <= digits + 1
            && parts_hold_digits;
        // `9l-year-old`, `AGE  9l  yrs.`, `Age: 9O`: two characters where an age stands.
        let age = run.len() >= 2
            && run[0].is_ascii_digit()
            && run[2..].iter().all(|c| matches!(c, b'-' | b'.'))
            && misread.len() == 1
            && misread[0].0 == start + 1
            && age_around(b, start, start + 2);
        if number || date || age {
            for (at, d) in misread {
                out[at] = d;
                changed = true;
            }
        }
    }
    // Only ASCII letters were replaced by ASCII digits: the bytes are still UTF-8.
    if changed { String::from_utf8(out).ok() } else { None }
}

/// Whether the two characters at `start..end` stand where an age does: before `-year`, `y`, `yo`, `yrs`, or after
/// `age`.
fn age_around(b: &[u8], start: usize, end: usize) -> bool {
    let after = &b[end..];
    let after = after.strip_prefix(b"-").or_else(|| after.strip_prefix(b" ")).unwrap_or(after);
    let starts = |w: &[u8]| after.get(..w.len()).is_some_and(|a| a.eq_ignore_ascii_case(w));
    let window = &b[start.saturating_sub(8)..start];
    let kept = window.len() - window.iter().rev().take_while(|c| matches!(c, b' ' | b':')).count();
    let before = &window[..kept];
    [&b"year"[..], b"yr", b"y/o", b"yo"].into_iter().any(starts)
        || before.len() >= 3 && before[before.len() - 3..].eq_ignore_ascii_case(b"age")
}

/// Whether `run` (at `start` of the text), with its `misread` letters written as digits, is a calendar date
/// `M/D/YY` to `MM/DD/YYYY` or `YYYY-MM-DD` (with `/` or `-`).
fn misread_date(run: &[u8], start: usize, misread: &[(usize, u8)]) -> bool {
    // `M/D/YY` has six characters, `MM/DD/YYYY` ten: mended on the stack.
    if !(6..=10).contains(&run.len()) {
        return false;
    }
    let mut buffer = [0u8; 10];
    let mended = &mut buffer[..run.len()];
    mended.copy_from_slice(run);
    for &(at, d) in misread {
        mended[at - start] = d;
    }
    let mut parts = mended.split(|c| matches!(c, b'/' | b'-'));
    // At most four digits a part: a longer run of digits is no date's and would overflow.
    let number = |p: &[u8]| -> Option<u32> {
        ((1..=4).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
            .then(|| p.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(a), Some(b), Some(c), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Some(x), Some(y), Some(z)) = (number(a), number(b), number(c)) else { return false };
    match (a.len(), b.len(), c.len()) {
        (4, 1..=2, 1..=2) => crate::validate::is_calendar_date(Some(x), y, z),
        (1..=2, 1..=2, 4) => crate::validate::is_calendar_date(Some(z), x, y),
        (1..=2, 1..=2, 2) => crate::validate::is_calendar_date(None, x, y),
        _ => false,
    }
}

/// The runs of `b` that start with an ASCII letter and go on while `within` holds, as `(start, end)`: the words the
/// OCR mending reads.
fn runs(b: &[u8], within: impl Fn(u8) -> bool) -> impl Iterator<Item = (usize, usize)> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let start = i;
        while i < b.len() && within(b[i]) {
            i += 1;
        }
        (start < b.len()).then_some((start, i))
    })
}

/// `Hospita1`, `At1anta`, `C0NSULTATI0N`, `hartwe11diaz`: the text with `0` and `1` written as the letters OCR took
/// them for (`o`/`O`, `l`/`I`, in the case of the letter before), where they stand inside a word: right after a
/// letter, in a run of letters, `0` and `1` that touches no other digit and has more letters than digits (`A12`,
/// `G0P1`, `H1N1`, `1st` and `E11` stay), and a `0` that starts a word of letters (`0KAF0R`, `0tis`; not `0ur`).
/// `None` when there is none.
fn ocr_letters(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    for (start, i) in runs(b, |c| c.is_ascii_alphabetic() || matches!(c, b'0' | b'1')) {
        // A word's first letter read as `0` (`0KAF0R`, `0akland`): a capital O, before two capitals or three letters.
        let capital_o = start > 0
            && b[start - 1] == b'0'
            && (start == 1 || !b[start - 2].is_ascii_alphanumeric())
            && (b[start..i].iter().take(2).all(u8::is_ascii_uppercase) || i - start >= 3);
        let start = if capital_o { start - 1 } else { start };
        let run = &b[start..i];
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        let touches_digit = b.get(i).is_some_and(u8::is_ascii_digit) || (start > 0 && b[start - 1].is_ascii_digit());
        if digits == 0 || touches_digit || run.len() - digits <= digits || (start > 0 && b[start - 1] >= 0x80) {
            continue;
        }
        let out = out.get_or_insert_with(|| b.to_vec());
        let mut letter_before = run[0];
        for (k, &c) in run.iter().enumerate() {
            if c.is_ascii_alphabetic() {
                letter_before = c;
                continue;
            }
            // The letter after says the case where there is one (`P1aintiff`, `C1inic` are `l`; `C0NSULT` is `O`).
            let next = run[k + 1..].iter().find(|c| c.is_ascii_alphabetic());
            let upper = k == 0
                || next.map_or(letter_before.is_ascii_uppercase(), |c| {
                    c.is_ascii_uppercase() && letter_before.is_ascii_uppercase()
                });
            out[start + k] = match (c, upper) {
                (b'0', true) => b'O',
                (b'0', false) => b'o',
                (_, true) => b'I',
                (_, false) => b'l',
            };
        }
    }
    // Only ASCII digits were replaced by ASCII letters: the bytes are still UTF-8.
    out.and_then(|o| String::from_utf8(o).ok())
}

/// `NPl`, `lD`, `PATlENT`, `lnsurance`: the text with a lower-case `l` that OCR read for a capital `I` written as
/// `I`: inside an upper-case word (every other letter a capital, at least two, or `lD`), or starting a word before `n`
/// or `m` and a lower-case letter (no English word starts `ln` or `lm`). `None` when there is none.
fn ocr_capital_i(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    for (start, i) in runs(b, |c| c.is_ascii_alphabetic()) {
        let word = &b[start..i];
        // `OOl` (page 001) is a misread number, not a word.
        let numberlike = word.iter().all(|c| matches!(c, b'O' | b'o' | b'l' | b'I'));
        if !word.contains(&b'l')
            || numberlike
            || (start > 0 && b[start - 1] >= 0x80)
            || b.get(i).is_some_and(|&c| c >= 0x80)
        {
            continue;
        }
        let capitals = word.iter().filter(|c| c.is_ascii_uppercase()).count();
        let upper_word =
            capitals + word.iter().filter(|&&c| c == b'l').count() == word.len() && (capitals >= 2 || word == b"lD");
        let starts_in = word.len() >= 4
            && word[0] == b'l'
            && matches!(word[1], b'n' | b'm')
            && word[2].is_ascii_lowercase()
            && !matches!(word[2], b'n' | b'm');
        if !(upper_word || starts_in) {
            continue;
        }
        let out = out.get_or_insert_with(|| b.to_vec());
        if upper_word {
            for (k, &c) in word.iter().enumerate() {
                if c == b'l' {
                    out[start + k] = b'I';
                }
            }
        } else {
            out[start] = b'I';
        }
    }
    // Only an ASCII letter was replaced by another: the bytes are still UTF-8.
    out.and_then(|o| String::from_utf8(o).ok())
}

/// `Ash1and , OR`, `HASSAN , FARAH`, `Main St , Ste 2`: OCR sets a comma apart from the word before it; the space
/// before the comma is dropped (every other byte maps to itself), so that the town, the name or the unit reads as
/// typed text does. `None` when there is none.
fn ocr_comma_spaces(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let b = text.as_bytes();
    let loose = |i: usize| {
        i > 0 && b[i - 1].is_ascii_alphanumeric() && b.get(i + 1) == Some(&b',') && b.get(i + 2) == Some(&b' ')
    };
    let mut out = String::new();
    let mut map = Vec::new();
    let mut cursor = 0;
    for (space, _) in text.match_indices(" ,") {
        if loose(space) {
            if cursor == 0 {
                out.reserve(text.len());
                map.reserve(text.len());
            }
            copy_verbatim(text, cursor..space, &mut out, &mut map);
            cursor = space + 1;
        }
    }
    if cursor == 0 {
        return None;
    }
    copy_verbatim(text, cursor..text.len(), &mut out, &mut map);
    Some((out, map))
}

/// The length of line below which [`join_wrapped_words`] searches the rest of a text whole rather than line by line:
/// about where a `memchr` call for each line (some 65 instructions) costs as much as the whole search of its bytes.
const SHORT_LINE: usize = 128;
/// Searches for a `-` before a line break, `\n` or `\r\n` (see [`join_wrapped_words`]), built once.
static DASH_BREAK: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"-\n"));
static DASH_CR_BREAK: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"-\r\n"));

/// `Thomp-\nson`, `Provi-\ndence`: a word that a line break hyphenates (a letter, `-`, the break, a lower-case letter)
/// is joined, and every byte maps to the byte span of the text it came from.
fn join_wrapped_words(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let b = text.as_bytes();
    let wrap_at = |i: usize| -> Option<usize> {
        // At `-`: the end of the break (after `\n`, optional `\r` and spaces), when a lower-case letter follows.
        if i == 0 || b[i] != b'-' || !b[i - 1].is_ascii_alphabetic() {
            return None;
        }
        let mut j = i + 1;
        if b.get(j) == Some(&b'\r') {
            j += 1;
        }
        if b.get(j) != Some(&b'\n') {
            return None;
        }
        j += 1;
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        b.get(j).is_some_and(u8::is_ascii_lowercase).then_some(j)
    };
    // Whether a line break follows a `-` at all (`-\n`, `-\r\n`). Line breaks are looked at one by one (a `memchr`
    // call each) while the lines are long; once two or more came at less than [`SHORT_LINE`] bytes a line, the rest of
    // the text is searched whole for the two, by searchers built once (`-\r\n` only in text with a `\r`). A call
    // for every line break cost more in a note of short lines, and the whole search (about half an instruction a
    // byte) more in one of long lines.
    let after_dash = |i: usize| i > 0 && (b[i - 1] == b'-' || (b[i - 1] == b'\r' && i > 1 && b[i - 2] == b'-'));
    let mut found = false;
    let mut rest_from = b.len();
    for (seen, at) in memchr::memchr_iter(b'\n', b).enumerate() {
        if after_dash(at) {
            found = true;
            break;
        }
        if seen >= 1 && at < (seen + 1) * SHORT_LINE {
            rest_from = at + 1;
            break;
        }
    }
    let rest = &b[rest_from..];
    if !found
        && DASH_BREAK.find(rest).is_none()
        && (memchr::memchr(b'\r', rest).is_none() || DASH_CR_BREAK.find(rest).is_none())
    {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    let mut cursor = 0;
    for (dash, _) in text.match_indices('-') {
        if let Some(next) = wrap_at(dash) {
            copy_verbatim(text, cursor..dash, &mut out, &mut map);
            cursor = next;
        }
    }
    if cursor == 0 {
        return None;
    }
    copy_verbatim(text, cursor..text.len(), &mut out, &mut map);
    Some((out, map))
}

/// Copies `text[range]` to `out` as it is, each byte mapped to the byte span of the character it belongs to: the
/// unchanged stretches of a rewrite (see [`Normalized::then`]).
pub(crate) fn copy_verbatim(
    text: &str,
    range: std::ops::Range<usize>,
    out: &mut String,
    map: &mut Vec<(usize, usize)>,
) {
    let from = range.start;
    for (at, c) in text[range].char_indices() {
        let at = from + at;
        out.push(c);
        map.extend(std::iter::repeat_n((at, at + c.len_utf8()), c.len_utf8()));
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
    fn ascii_runs_between_folded_characters_map_to_their_own_code_points() {
        let original = "Zoë\u{00A0}Müller\u{200B} (ｍ) 5\u{2013}6 ok\u{2019}s";
        let n = Normalized::new(original);
        assert_eq!(n.as_str(), "Zoë Müller (m) 5-6 ok's");
        // Character by character: each byte of a character's folded form stands for that one code point.
        let mapped: Vec<(usize, usize)> = (0..n.as_str().len()).map(|i| n.char_span(i, i + 1)).collect();
        assert_eq!(mapped, spans_by_character(original));
    }

    /// Every byte's code points as the folding defines them, character by character.
    fn spans_by_character(original: &str) -> Vec<(usize, usize)> {
        let mut expected = Vec::new();
        for (index, c) in original.chars().enumerate() {
            let out = match fold(c) {
                Fold::Keep => c,
                Fold::Into(r) => r,
                Fold::Drop => continue,
            };
            expected.extend(std::iter::repeat_n((index, index + 1), out.len_utf8()));
        }
        expected
    }

    proptest::proptest! {
        /// The few listed bytes of a folded text give every byte the code point a span per byte gives it, and so does
        /// the span per byte built from them for a rewrite.
        #[test]
        fn folded_bytes_map_to_the_code_points_of_their_characters(
            original in "[a\u{e9}\u{200B}\u{00A0}\u{FF11}\u{1F600} \n-]{0,40}"
        ) {
            let n = Normalized::folded(&original);
            let expected = spans_by_character(&original);
            let mapped: Vec<(usize, usize)> = (0..n.as_str().len()).map(|i| n.char_span(i, i + 1)).collect();
            proptest::prop_assert_eq!(&mapped, &expected);
            let spans = Normalized::folded(&original).with_spans();
            let mapped: Vec<(usize, usize)> = (0..spans.as_str().len()).map(|i| spans.char_span(i, i + 1)).collect();
            proptest::prop_assert_eq!(&mapped, &expected);
            if let Some(end) = (1..=n.as_str().len()).rev().find(|&e| n.as_str().is_char_boundary(e)) {
                proptest::prop_assert_eq!(n.char_span(0, end), (expected[0].0, expected[end - 1].1));
            }
        }
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
    fn ocr_letters_inside_numbers_become_digits_and_offsets_stay() {
        for (scanned, mended) in [
            ("DOB: 03/l4/1962", "DOB: 03/14/1962"),
            ("DOB O3/14/1962", "DOB 03/14/1962"),
            ("SSN 123-45-678O", "SSN 123-45-6780"),
            ("Phone: (503) 555-0l22", "Phone: (503) 555-0122"),
            ("DOB 03/14/I962.", "DOB 03/14/1962."),
            ("l962", "1962"),
        ] {
            let n = Normalized::with_ocr(scanned, true);
            assert_eq!(n.as_str(), mended);
            assert_eq!(Normalized::new(scanned).as_str(), scanned, "typed text keeps its letters");
            assert_eq!(n.char_span(1, 3), (1, 3));
            assert!(misread_next_to_digit(scanned.as_bytes()), "{scanned}");
        }
        for kept in
            ["Oil 10lbs SpO2 on O2 2L", "I-V", "lot l0", "CO2 42", "Pt 9O", "hello 2000 world", "(I10)", "O09.90"]
        {
            assert_eq!(Normalized::with_ocr(kept, true).as_str(), kept);
        }
    }

    #[test]
    fn ocr_letters_in_a_number_made_of_short_parts_become_digits() {
        for (scanned, mended) in [
            ("Ph (5O3) 555-Ol66", "Ph (503) 555-0166"),
            ("Ol/28/2O25 at noon", "01/28/2025 at noon"),
            ("scan 2O24-ll-O6 by", "scan 2024-11-06 by"),
            ("gateway lO.2O.4.l7", "gateway 10.20.4.17"),
        ] {
            assert_eq!(Normalized::with_ocr(scanned, true).as_str(), mended);
        }
    }

    #[test]
    fn ocr_digit_in_a_capitalised_word_takes_the_case_of_the_letters_after_it() {
        assert_eq!(
            ocr_letters("P1aintiff C1inic C0NSULT Hospita1").as_deref(),
            Some("Plaintiff Clinic CONSULT Hospital")
        );
        assert_eq!(
            ocr_letters("0KAF0R-LEWlS, 0tis in 0akland; 0ur 0x4F").as_deref(),
            Some("OKAFOR-LEWlS, Otis in Oakland; 0ur 0x4F")
        );
    }

    #[test]
    fn ocr_s_and_b_in_numbers_become_five_and_eight_but_codes_stay() {
        assert_eq!(ocr_digits("Zip: 2B787 Ph (B28) 555-0l11").as_deref(), Some("Zip: 28787 Ph (828) 555-0111"));
        assert_eq!(ocr_digits("FL 3376S\n1-B00-555-0246").as_deref(), Some("FL 33765\n1-800-555-0246"));
        assert_eq!(ocr_digits("vitamin B12, S72.001A, SSN 123"), None);
    }

    #[test]
    fn ocr_l_in_capital_words_and_before_n_or_m_is_a_capital_i() {
        assert_eq!(ocr_capital_i("NPl: 1 lD: 2 PATlENT HlSTORY").as_deref(), Some("NPI: 1 ID: 2 PATIENT HISTORY"));
        assert_eq!(ocr_capital_i("lnsurance lmaging").as_deref(), Some("Insurance Imaging"));
        assert_eq!(ocr_capital_i("Lola lives in Ilwaco; 10 lb; Al lost; PAGE OOl"), None);
    }

    #[test]
    fn ocr_spaces_before_commas_are_dropped_and_offsets_map_back() {
        let (text, map) = ocr_comma_spaces("Ashland , OR  97520; Smith ,John").expect("a loose comma");
        assert_eq!(text, "Ashland, OR  97520; Smith ,John");
        assert_eq!(map[7], (8, 9));
        assert_eq!(ocr_comma_spaces("a, b"), None);
    }

    #[test]
    fn a_scanned_date_mostly_of_misread_letters_is_mended_when_it_makes_a_real_date() {
        for (scanned, mended) in [
            ("D0B: ll/O4/l98l   SEX: M", "DOB: 11/04/1981   SEX: M"),
            ("Effective: Ol/Ol/2O25", "Effective: 01/01/2025"),
            ("D0B: O9-ll-l96O", "DOB: 09-11-1960"),
        ] {
            assert_eq!(Normalized::with_ocr(scanned, true).as_str(), mended);
        }
        for (scanned, mended) in [("AGE  9l  yrs.", "AGE  91  yrs."), ("Pt is a 9l-year-old", "Pt is a 91-year-old")] {
            assert_eq!(Normalized::with_ocr(scanned, true).as_str(), mended);
        }
        // Not a real date once mended, or no digit at all: kept.
        for kept in ["ll/lO/lO", "lO/4O/l98l"] {
            assert_eq!(Normalized::with_ocr(kept, true).as_str(), kept);
        }
    }

    /// The structured pass takes text whose offsets are unchanged as ASCII without reading it (see
    /// `Analyzer::structured_with`): each of its bytes stands for one code point, as OCR's mending keeps it.
    #[test]
    fn text_whose_offsets_are_unchanged_is_ascii() {
        let texts = [
            "Pt seen O3/l4/2O24, MRN 00456123, SpO2 97%",
            "C0NSULTATI0N by Dr. Ch0udhury, At1anta, GA 3O3O3, 97S20",
            "Zo\u{eb} M\u{fc}ller, DOB 1/2/1960",
            "a\u{a0}b \u{17F}am \u{212A}ansas 66044",
            "twenty one years, nineteen fifty two",
            "",
        ];
        for text in texts {
            for scanned in [false, true] {
                let n = Normalized::with_ocr(text, scanned);
                assert!(!n.offsets_unchanged() || n.as_str().is_ascii(), "{text:?}");
            }
        }
    }

    #[test]
    fn ocr_digits_inside_words_become_the_letters_they_were_read_for() {
        for (scanned, mended) in [
            ("Bronson Methodist Hospita1", "Bronson Methodist Hospital"),
            ("At1anta, GA", "Atlanta, GA"),
            ("C0NSULTATI0N by Dr. Ch0udhury", "CONSULTATION by Dr. Choudhury"),
            ("records@hartwe11diaz.com", "records@hartwelldiaz.com"),
        ] {
            let n = Normalized::with_ocr(scanned, true);
            assert_eq!(n.as_str(), mended);
            assert_eq!(Normalized::new(scanned).as_str(), scanned, "typed text keeps its digits");
        }
        for kept in ["A12 G0P1 H1N1 on the 1st, E11.9", "COVID19 B12 10th", "0ur"] {
            assert_eq!(Normalized::with_ocr(kept, true).as_str(), kept);
        }
    }

    #[test]
    fn words_hyphenated_across_a_line_break_are_joined_and_map_back_whole() {
        let original = "Margaret Thomp-\nson, Ann Ar-\n  bor; Mary-\nAnne stays";
        let n = Normalized::new(original);
        assert_eq!(n.as_str(), "Margaret Thompson, Ann Arbor; Mary-\nAnne stays");
        let at = n.as_str().find("Thompson").expect("joined");
        let (s, e) = n.char_span(at, at + "Thompson".len());
        assert_eq!(original.chars().skip(s).take(e - s).collect::<String>(), "Thomp-\nson");
    }

    #[test]
    fn a_word_joined_after_folded_characters_maps_back_to_their_code_points() {
        let original = "Zo\u{eb}\u{200B}\u{00A0}M\u{fc}ller, Thomp-\nson";
        let n = Normalized::new(original);
        assert_eq!(n.as_str(), "Zo\u{eb} M\u{fc}ller, Thompson");
        for word in ["M\u{fc}ller", "Thompson"] {
            let at = n.as_str().find(word).expect("kept");
            let (s, e) = n.char_span(at, at + word.len());
            let back: String = original.chars().skip(s).take(e - s).collect();
            assert_eq!(back, if word == "Thompson" { "Thomp-\nson" } else { word });
        }
    }

    #[test]
    fn ascii_runs_end_at_the_first_byte_outside_ascii() {
        for text in ["", "abc", "abcdefgh", "abcdefghé", "abcdefgé", "é", "abcdefghijklmnopqrstuvwxyzé12", "a\u{7f}b"]
        {
            assert_eq!(ascii_run(text.as_bytes()), text.bytes().take_while(u8::is_ascii).count(), "{text:?}");
        }
    }

    #[test]
    fn a_text_is_all_ascii_exactly_when_std_says_so() {
        for len in 0..200 {
            let ascii = "a".repeat(len);
            assert!(all_ascii(ascii.as_bytes()), "{len}");
            for at in 0..len {
                let mut text = ascii.clone().into_bytes();
                text[at] = 0xC3;
                assert_eq!(all_ascii(&text), text.is_ascii(), "{len} {at}");
            }
        }
    }

    #[test]
    fn only_a_line_break_after_a_dash_is_looked_at_for_joining() {
        assert_eq!(join_wrapped_words("no dash\nhere-"), None);
        assert_eq!(join_wrapped_words("Thomp-\r\nson").map(|(t, _)| t).as_deref(), Some("Thompson"));
        assert_eq!(join_wrapped_words("\n-\nx").map(|(t, _)| t), None);
        // After short lines the rest of the text is searched whole; after long ones, line by line.
        for line in ["short line\n", &format!("{}\n", "long ".repeat(60))] {
            for end in ["Thomp-\nson", "Thomp-\r\nson"] {
                let text = format!("{}{end}", line.repeat(5));
                let joined = join_wrapped_words(&text).map(|(t, _)| t);
                assert_eq!(joined, Some(format!("{}Thompson", line.repeat(5))), "{text:?}");
            }
            assert_eq!(join_wrapped_words(&format!("{}no-\r\n", line.repeat(5))), None);
        }
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
