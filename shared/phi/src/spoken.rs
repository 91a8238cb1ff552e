//! Numbers spelled out in words, as speech recognition writes them: `nineteen fifty two`, `four one five`,
//! `march twenty third`. Detection runs on a copy where each run of number words is written in digits
//! (`1952`, `415`, `march 23rd`), so that every recognizer and context rule for numbers applies to dictated text too,
//! and each digit maps back to the words it came from.
//!
//! Hand-written: the crates that read English number words (e.g. `text2num`) parse a number's arithmetic, where
//! `twenty twelve` is an error, while dictation speaks years in pairs (`nineteen fifty two`) and identifiers digit by
//! digit, with the homophones a recognizer writes (`for won five`); and every digit here must map back to its words.
//!
//! Only text without an upper-case ASCII letter is rewritten: recognizers write lower case, and a typed note that
//! spells out `two tablets` keeps its words (nothing there is an identifier).

use crate::gazetteer::{HIGH_BITS, bytes_in_range};
use crate::text::copy_verbatim;

/// What one number word contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    /// `zero` to `nine` (and `oh` inside a run).
    Digit(u32),
    /// `ten` to `nineteen`.
    Teen(u32),
    /// `twenty` to `ninety`.
    Tens(u32),
    Hundred,
    Thousand,
    /// `and` between `hundred` or `thousand` and the rest of the number.
    And,
    /// `first` to `nineteenth`, `twentieth`, `thirtieth`.
    Ordinal(u32),
    /// The decimal point of `four point one`.
    Point,
}

#[inline]
fn number_word(w: &[u8], inside_run: bool) -> Option<Num> {
    // Every number word starts with one of `e f h n o s t z`: most words of a dictation are turned away on their first
    // letter (inline), before the `match` compares them by length and bytes.
    const FIRST_LETTERS: u32 = 1 << (b'e' - b'a')
        | 1 << (b'f' - b'a')
        | 1 << (b'h' - b'a')
        | 1 << (b'n' - b'a')
        | 1 << (b'o' - b'a')
        | 1 << (b's' - b'a')
        | 1 << (b't' - b'a')
        | 1 << (b'z' - b'a');
    if !w.first().is_some_and(|&c| c.is_ascii_lowercase() && FIRST_LETTERS >> (c - b'a') & 1 != 0) {
        return None;
    }
    spelled_number(w, inside_run)
}

/// [`number_word`] after its test of the first letter.
fn spelled_number(w: &[u8], inside_run: bool) -> Option<Num> {
    // One `match` (compiled to a length switch and a few comparisons): every word of a dictation is asked.
    Some(match w {
        b"zero" => Num::Digit(0),
        b"one" => Num::Digit(1),
        b"two" => Num::Digit(2),
        b"three" => Num::Digit(3),
        b"four" => Num::Digit(4),
        b"five" => Num::Digit(5),
        b"six" => Num::Digit(6),
        b"seven" => Num::Digit(7),
        b"eight" => Num::Digit(8),
        b"nine" => Num::Digit(9),
        b"ten" => Num::Teen(10),
        b"eleven" => Num::Teen(11),
        b"twelve" => Num::Teen(12),
        b"thirteen" => Num::Teen(13),
        b"fourteen" => Num::Teen(14),
        b"fifteen" => Num::Teen(15),
        b"sixteen" => Num::Teen(16),
        b"seventeen" => Num::Teen(17),
        b"eighteen" => Num::Teen(18),
        b"nineteen" => Num::Teen(19),
        b"twenty" => Num::Tens(20),
        b"thirty" => Num::Tens(30),
        b"forty" => Num::Tens(40),
        b"fifty" => Num::Tens(50),
        b"sixty" => Num::Tens(60),
        b"seventy" => Num::Tens(70),
        b"eighty" => Num::Tens(80),
        b"ninety" => Num::Tens(90),
        b"first" => Num::Ordinal(1),
        b"second" => Num::Ordinal(2),
        b"third" => Num::Ordinal(3),
        b"fourth" => Num::Ordinal(4),
        b"fifth" => Num::Ordinal(5),
        b"sixth" => Num::Ordinal(6),
        b"seventh" => Num::Ordinal(7),
        b"eighth" => Num::Ordinal(8),
        b"ninth" => Num::Ordinal(9),
        b"tenth" => Num::Ordinal(10),
        b"eleventh" => Num::Ordinal(11),
        b"twelfth" => Num::Ordinal(12),
        b"thirteenth" => Num::Ordinal(13),
        b"fourteenth" => Num::Ordinal(14),
        b"fifteenth" => Num::Ordinal(15),
        b"sixteenth" => Num::Ordinal(16),
        b"seventeenth" => Num::Ordinal(17),
        b"eighteenth" => Num::Ordinal(18),
        b"nineteenth" => Num::Ordinal(19),
        b"twentieth" => Num::Ordinal(20),
        b"thirtieth" => Num::Ordinal(30),
        b"oh" | b"o" if inside_run => Num::Digit(0),
        b"hundred" if inside_run => Num::Hundred,
        b"thousand" if inside_run => Num::Thousand,
        _ => return None,
    })
}

/// Words a recognizer writes for a digit it heard (`for won five` for `four one five`): a digit only between other
/// digits of a spoken sequence.
fn homophone(w: &str) -> Option<u32> {
    match w {
        "won" => Some(1),
        "to" | "too" => Some(2),
        "for" | "fore" => Some(4),
        "ate" => Some(8),
        "oh" | "o" => Some(0),
        _ => None,
    }
}

fn is_month(w: &str) -> bool {
    crate::validate::MONTHS.contains(&w)
}

/// `st`, `nd`, `rd` or `th`: the suffix that belongs to `n` (`1st`, `22nd`, `13th`).
pub(crate) fn ordinal_suffix(n: u32) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// Whether `b` holds an ASCII capital, read eight bytes at a time: a dictated note (no capital) is read whole, and a
/// byte loop over it cost about as much as the rest of its rewrite.
fn has_ascii_upper(b: &[u8]) -> bool {
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        if bytes_in_range(u64::from_le_bytes(chunk.try_into().unwrap_or_default()), b'A', b'Z') != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(u8::is_ascii_uppercase)
}

/// A word of the text: its byte span.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

fn words(text: &str) -> Vec<Word> {
    let b = text.as_bytes();
    // Room for a word every six bytes, about what dictated text holds: grown from empty, the list was reallocated
    // about ten times in a note.
    let mut out = Vec::with_capacity(b.len() / 6);
    for (start, end) in lowercase_runs(b) {
        // A word glued to digits or other letters (`x2`, `café`) is not a number word: keep it whole.
        let glued = |at: usize| b.get(at).is_some_and(|c| c.is_ascii_alphanumeric() || *c >= 0x80);
        let glued_before = start > 0 && glued(start - 1);
        if !glued_before && !glued(end) {
            out.push(Word { start, end });
        }
    }
    out
}

/// Whether any run of lower-case letters in `text` is a number word (glued to other characters or not): where none
/// is, no run of number words starts and nothing is rewritten. Most dictations hold none, and are read once here
/// without their list of [`words`].
fn any_number_word(text: &str) -> bool {
    // Read as bytes: slicing the text checked both ends of every word for a char boundary.
    let b = text.as_bytes();
    lowercase_runs(b).any(|(start, end)| number_word(&b[start..end], true).is_some())
}

/// The byte spans of the runs of ASCII lower-case letters in `b`, in order.
fn lowercase_runs(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = lowercase_edge(b, i, true);
        if start == b.len() {
            return None;
        }
        i = lowercase_edge(b, start + 1, false);
        Some((start, i))
    })
}

/// The first index from `from` whose byte is (`lower`) or is not an ASCII lower-case letter, or `b.len()`. Read eight
/// bytes at a time: a dictated note is read whole, and a byte loop over its words cost about seven instructions a
/// byte.
fn lowercase_edge(b: &[u8], mut from: usize, lower: bool) -> usize {
    while let Some(chunk) = b.get(from..from + 8) {
        let letters = bytes_in_range(u64::from_le_bytes(chunk.try_into().unwrap_or_default()), b'a', b'z');
        let wanted = if lower { letters } else { !letters & HIGH_BITS };
        if wanted != 0 {
            return from + (wanted.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while from < b.len() && b[from].is_ascii_lowercase() != lower {
        from += 1;
    }
    from
}

/// One number written in digits and the byte span of the words it replaces.
#[derive(Debug)]
struct Group {
    digits: String,
    start: usize,
    end: usize,
}

/// The remainder after `hundred` or `thousand` at `run[j]`: `twenty five`, `twelve`, `three`.
fn remainder(run: &[(Word, Num)], j: usize) -> Option<(u32, usize)> {
    match (run.get(j).map(|r| r.1), run.get(j + 1).map(|r| r.1)) {
        (Some(Num::Tens(t)), Some(Num::Digit(d))) if d > 0 => Some((t + d, j + 2)),
        (Some(Num::Tens(x) | Num::Teen(x) | Num::Digit(x)), _) => Some((x, j + 1)),
        _ => None,
    }
}

/// `one hundred (and) two`, `two thousand (and) three`, `nineteen hundred`: the value of the number whose words
/// before `hundred` or `thousand` end at `run[i]` and are worth `first`, and the index after it.
fn compound(run: &[(Word, Num)], i: usize, first: u32) -> (u32, usize) {
    let is = |j: usize, n: Num| run.get(j).is_some_and(|r| r.1 == n);
    let mut value = first;
    let mut j = i + 1;
    if is(j, Num::Hundred) {
        value *= 100;
        j += 1;
        let skip = usize::from(is(j, Num::And));
        if let Some((r, next)) = remainder(run, j + skip)
            && !is(next, Num::Hundred)
            && !is(next, Num::Thousand)
        {
            value += r;
            j = next;
        }
    }
    if is(j, Num::Thousand) {
        let thousands = value * 1000;
        value = 0;
        j += 1;
        let skip = usize::from(is(j, Num::And));
        if let Some((r, next)) = remainder(run, j + skip) {
            value = r;
            j = next;
            if is(j, Num::Hundred) && r < 10 {
                value *= 100;
                j += 1;
                let skip = usize::from(is(j, Num::And));
                if let Some((r, next)) = remainder(run, j + skip) {
                    value += r;
                    j = next;
                }
            }
        }
        value += thousands;
    }
    (value, j)
}

/// Reads a run of number words (each joined to the next by one space or hyphen) into groups: cardinals are
/// concatenated as spoken digit sequences are (`nineteen fifty two` = `1952`, `four one five` = `415`), and an
/// ordinal ends its group (`twenty third` = `23rd`).
fn groups(run: &[(Word, Num)]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut current: Option<Group> = None;
    let push = |current: &mut Option<Group>, piece: String, start: usize, end: usize| match current {
        Some(g) => {
            g.digits.push_str(&piece);
            g.end = end;
        }
        None => *current = Some(Group { digits: piece, start, end }),
    };
    let mut i = 0;
    while i < run.len() {
        let (w, num) = run[i];
        let next = run.get(i + 1).map(|(_, n)| *n);
        let multiplier_at = |j: usize| matches!(run.get(j).map(|r| r.1), Some(Num::Hundred | Num::Thousand));
        match (num, next) {
            (Num::Tens(t), Some(Num::Digit(d))) if d > 0 => {
                // `twenty five` (hundred ...).
                let (value, j) = if multiplier_at(i + 2) { compound(run, i + 1, t + d) } else { (t + d, i + 2) };
                push(&mut current, value.to_string(), w.start, run[j - 1].0.end);
                i = j;
            }
            (Num::Tens(t), Some(Num::Ordinal(o))) if o < 10 => {
                push(&mut current, format!("{}{}", t + o, ordinal_suffix(t + o)), w.start, run[i + 1].0.end);
                out.extend(current.take());
                i += 2;
            }
            (Num::Digit(x) | Num::Teen(x) | Num::Tens(x), _) if multiplier_at(i + 1) => {
                let (value, j) = compound(run, i, x);
                push(&mut current, value.to_string(), w.start, run[j - 1].0.end);
                i = j;
            }
            (Num::Ordinal(o), _) => {
                push(&mut current, format!("{o}{}", ordinal_suffix(o)), w.start, w.end);
                out.extend(current.take());
                i += 1;
            }
            (Num::Digit(x) | Num::Teen(x) | Num::Tens(x), _) => {
                push(&mut current, x.to_string(), w.start, w.end);
                i += 1;
            }
            (Num::Point, _) => {
                push(&mut current, ".".to_owned(), w.start, w.end);
                i += 1;
            }
            (Num::Hundred | Num::Thousand | Num::And, _) => {
                out.extend(current.take());
                i += 1;
            }
        }
    }
    out.extend(current);
    out
}

/// The text with its spelled-out numbers in digits, and for every byte of it the byte span of `text` it stands for;
/// `None` when nothing is rewritten.
pub(crate) fn rewrite(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
    if has_ascii_upper(text.as_bytes()) {
        return None;
    }
    if !any_number_word(text) {
        return None;
    }
    let words = words(text);
    let word = |w: &Word| &text[w.start..w.end];
    // The number word right after `words[k]`, one space away.
    let number_after = |k: usize, inside_run: bool| {
        words
            .get(k + 1)
            .filter(|n| text[words[k].end..n.start] == *" ")
            .and_then(|n| number_word(word(n).as_bytes(), inside_run))
    };
    let mut all_groups: Vec<Group> = Vec::new();
    let mut k = 0;
    // Index after the last run: a run never extends back into it.
    let mut taken = 0;
    while k < words.len() {
        // `oh three fourteen sixty two`: `oh` starts a number when a digit or a teen follows it.
        let leading_oh = matches!(word(&words[k]), "oh" | "o")
            && matches!(number_after(k, false), Some(Num::Digit(_) | Num::Teen(_)));
        let Some(first) = number_word(word(&words[k]).as_bytes(), leading_oh) else {
            k += 1;
            continue;
        };
        // A lone ordinal is a day only next to a month or after `the` (`march third`, `third of may`, `on the
        // third`); `the second opinion` becomes `the 2nd opinion`, which no rule reads as PHI.
        if let Num::Ordinal(_) = first {
            let before = k.checked_sub(1).map(|p| word(&words[p]));
            let after = words.get(k + 1).map(word);
            let ok =
                before.is_some_and(|b| is_month(b) || b == "the") || after.is_some_and(|a| is_month(a) || a == "of");
            if !ok {
                k += 1;
                continue;
            }
        }
        let mut run = vec![(words[k], first)];
        let mut j = k + 1;
        while let Some(w) = words.get(j) {
            let sep = &text[words[j - 1].end..w.start];
            if sep != " " && sep != "-" {
                break;
            }
            let after_multiplier = matches!(run.last(), Some((_, Num::Hundred | Num::Thousand)));
            let num = match number_word(word(w).as_bytes(), true) {
                Some(num) => num,
                // `four point one`: a decimal (a dictated lab value), once per number, between a number and a digit.
                None if word(w) == "point"
                    && matches!(run.last(), Some((_, Num::Digit(_) | Num::Teen(_) | Num::Tens(_))))
                    && !run.iter().any(|(_, n)| *n == Num::Point)
                    && matches!(number_after(j, true), Some(Num::Digit(_))) =>
                {
                    Num::Point
                }
                // `one hundred and two`: the `and` belongs to the number when one follows.
                None if word(w) == "and" && after_multiplier && number_after(j, true).is_some() => Num::And,
                // `five five for one`: a homophone between digits, two of them before it (`one to two tablets` is a
                // range).
                None if run.len() >= 2
                    && run[run.len() - 2..].iter().all(|(_, n)| matches!(n, Num::Digit(_)))
                    && matches!(number_after(j, true), Some(Num::Digit(_))) =>
                {
                    match homophone(word(w)) {
                        Some(d) => Num::Digit(d),
                        None => break,
                    }
                }
                None => break,
            };
            run.push((*w, num));
            j += 1;
        }
        // A spoken sequence of five digits or more takes the homophones before it (`phone is for won five five
        // five ...`).
        if run.len() >= 5 && run.iter().all(|(_, n)| matches!(n, Num::Digit(_))) {
            let mut p = k;
            while p > taken
                && text[words[p - 1].end..words[p].start] == *" "
                && let Some(d) = homophone(word(&words[p - 1]))
            {
                p -= 1;
                run.insert(0, (words[p], Num::Digit(d)));
            }
        }
        all_groups.extend(groups(&run));
        k = j;
        taken = j;
    }
    if all_groups.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map: Vec<(usize, usize)> = Vec::with_capacity(text.len());
    let mut cursor = 0;
    for g in &all_groups {
        copy_verbatim(text, cursor..g.start, &mut out, &mut map);
        out.push_str(&g.digits);
        map.extend(std::iter::repeat_n((g.start, g.end), g.digits.len()));
        cursor = g.end;
    }
    copy_verbatim(text, cursor..text.len(), &mut out, &mut map);
    Some((out, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spoken(text: &str) -> String {
        rewrite(text).map_or_else(|| text.to_owned(), |(t, _)| t)
    }

    #[test]
    fn years_phone_numbers_and_dates_in_words_become_digits() {
        assert_eq!(spoken("born march third nineteen fifty two"), "born march 3rd 1952");
        assert_eq!(spoken("call four one five five five five one two three four"), "call 4155551234");
        assert_eq!(spoken("a ninety two year old"), "a 92 year old");
        assert_eq!(spoken("on march twenty-first two thousand three"), "on march 21st 2003");
        assert_eq!(spoken("zip nine four one one oh"), "zip 94110");
        assert_eq!(spoken("one hundred and two"), "102");
        assert_eq!(spoken("two thousand and nine"), "2009");
        assert_eq!(spoken("nineteen hundred"), "1900");
        assert_eq!(spoken("twenty five hundred"), "2500");
        assert_eq!(spoken("one hundred two years"), "102 years");
        assert_eq!(spoken("seen on the fourteenth"), "seen on the 14th");
        assert_eq!(spoken("the third of may"), "the 3rd of may");
        // What pocketsphinx wrote for a spoken `four one five five five five one two three four`.
        assert_eq!(spoken("phone is for won five five five five one two three four"), "phone is 4155551234");
        assert_eq!(spoken("five five for one two three"), "554123");
        assert_eq!(spoken("date of birth oh three fourteen sixty two"), "date of birth 031462");
        assert_eq!(spoken("oh no, oh, one more"), "oh no, oh, 1 more");
        assert_eq!(spoken("for five days, one to two tablets"), "for 5 days, 1 to 2 tablets");
    }

    #[test]
    fn dictated_decimals_become_decimals() {
        assert_eq!(spoken("potassium four point one chloride one hundred"), "potassium 4.1 chloride 100");
        assert_eq!(spoken("hemoglobin twelve point three five"), "hemoglobin 12.35");
        assert_eq!(spoken("one point of contact"), "1 point of contact");
        assert_eq!(spoken("four point one point two"), "4.1 point 2");
    }

    #[test]
    fn ordinary_words_and_typed_text_stay() {
        assert_eq!(spoken("at first he refused a second opinion"), "at first he refused a second opinion");
        assert_eq!(spoken("oh no"), "oh no");
        assert!(rewrite("Take two tablets").is_none());
        assert!(rewrite("someone gone").is_none());
    }

    #[test]
    fn every_byte_maps_back_to_the_words_it_came_from() {
        let text = "dob march third nineteen fifty two, ok";
        let (out, map) = rewrite(text).expect("rewritten");
        assert_eq!(out, "dob march 3rd 1952, ok");
        assert_eq!(map.len(), out.len());
        let year = out.find("1952").expect("year");
        let (s, e) = (map[year].0, map[year + 3].1);
        assert_eq!(&text[s..e], "nineteen fifty two");
        let comma = out.find(',').expect("comma");
        assert_eq!(&text[map[comma].0..map[comma].1], ",");
    }
}
