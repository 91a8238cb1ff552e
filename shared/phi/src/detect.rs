//! The detector: one multi-pattern pass for structured identifiers, one word pass for names, places and facilities.
//!
//! Both passes run on the normalized text ([`Normalized`]) in byte offsets; candidates are scored, filtered by the
//! call's options, resolved (see [`crate::resolve`]) and mapped back to code points of the original text.
//!
//! The structured pass finds shapes with leftmost-first semantics (at one start position the earlier pattern wins):
//! one multi-pattern automaton ([`Shapes`]: a forward and a reverse lazy DFA) built from every shape pattern at once,
//! except the last, catch-all token shape (any word holding a digit), which a hand-written scanner matches exactly as
//! its pattern would (a property test holds the two equal), so that the automaton does not stop at every number, and
//! the UDI shape, searched where its literal start stands, the MBI, IBAN and day-and-month date shapes, searched at
//! tokens whose first bytes may start them, the address shape, searched at numbers a street type follows, the
//! state-and-ZIP shape, searched before ZIP-like numbers, and the short date, matched at tokens (see
//! [`Analyzer`]'s `exact`); their matches are merged as one regex would find them (a test holds that too). A shape
//! only proposes; its classifier validates (check digits, calendar, IP parsing) and reads the context
//! (labels before, units after). When a classifier rejects a match, the later patterns are tried anchored at the same
//! position, then the search resumes one character later, so a rejected shape never hides another.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache as LazyCache, DFA as LazyDfa};
use regex_automata::meta::Regex;
use regex_automata::nfa::thompson::{self, NFA, WhichCaptures, pikevm::PikeVM};
use regex_automata::{Anchored, HalfMatch, Input, Match, MatchError, MatchKind, PatternID};

use crate::context::{
    FacilityWord, HESITATIONS, Label, LexEntry, Lexicon, MONTH_CUES, NAME_LIKE_LABELS, NOT_ORG_VALUES, OrgCue,
    STRONG_FACILITY_HEADS, WordFacts, role, state_abbreviations, state_names, word_key,
};
use crate::entity::{Entity, EntityType};
use crate::error::PhiError;
use crate::gazetteer::{
    CASE_BITS, COMMON, ENGLISH, FIRST, Gazetteer, HIGH_BITS, KeyHasher, LAST, LOW_BITS, PLACE, PLACE_HEAD, PLACE_TAIL,
    bytes_in_range, word_hash,
};
use crate::options::AnalyzeOptions;
use crate::resolve::resolve;
use crate::spoken::ordinal_suffix;
use crate::text::Normalized;
use crate::validate;

/// A scored candidate in normalized byte offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub entity_type: EntityType,
    pub score: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Url,
    Email,
    Ipv6,
    Ipv4,
    Mac,
    /// A GS1 UDI in its human-readable form: `(01)` and a 14-digit GTIN, then production identifiers such as
    /// `(17)290430(10)70M2281(21)PDM9041177`.
    Udi,
    Mbi,
    Iban,
    DateNumeric,
    DateWritten,
    DateDayMonth,
    Address,
    /// Two streets at a corner (`59th Ave and Thomas Rd`, `W. Indian School Rd & N. 75th Ave`). The match starts at
    /// the first street's type (a pattern starting at any capitalised word costs the lazy DFA many states); its
    /// classifier finds the name before it.
    Corner,
    /// A place on a highway (`I-94 EB at mile marker 141`, `NM-528 and US-550`).
    Highway,
    PoBox,
    StateZip,
    /// A Canadian or UK postcode (`M5T 2S8`, `G51 4TF`).
    Postcode,
    Card,
    Ssn,
    PhoneIntl,
    Phone,
    DateShort,
    Token,
}

/// The months' names and abbreviations, matched as [`word_trie`]s (a word boundary follows them in each pattern).
const MONTHS: &str = "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|\
oct|october|nov|november|dec|december";

const STREET_SUFFIX: &str = "street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|\
terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|orchard|orchards|crossing|xing|ridge|ridges|\
heights|hts|hills?|park|pike|plaza|plz|point|pt|pointe|row|run|shores?|springs?|station|sta|stream|summit|turnpike|\
tpke|valley|vly|views?|vista|walk|wells?|alley|aly|bend|bluffs?|branch|bridge|brg|brooks?|burg|bypass|byp|camp|\
canyon|cyn|cape|causeway|center|ctr|commons?|corners?|cove|creek|crk|crescent|cres|crest|curve|dale|dam|divide|\
estates?|expressway|expy|falls|ferry|fields?|flats?|ford|forest|forge|forks?|fort|freeway|fwy|gardens?|gdns|\
gateway|glens?|greens?|groves?|harbors?|haven|islands?|isle|junction|jct|keys?|knolls?|lakes?|landing|lndg|\
lights?|lodge|loop|mall|manors?|meadows?|mews|mills?|mission|motorway|mount|mt|mountain|mtn|neck|oval|\
overpass|pass|passage|path|pines?|plains?|ports?|prairie|ranch|rapids?|rest|route|rte|shoals?|skyway|spur|\
squares?|throughway|trace|track|tunnel|underpass|unions?|viaduct|villages?|vlg|ville|wy";

/// The secondary unit of a street line (`Apt 4`, `Suite 210`, `Lot 12`): after the street in the address pattern,
/// among the street words, and after a comma that follows a match.
const SECONDARY_UNITS: &str = "apt|apartment|suite|ste|unit|bldg|building|fl|floor|lot|space|trlr";

/// A street type after a street name that ends in one (`Oak Hill Rd`, `Harbor Point Road`); `dr` is left out, as
/// `Main St Dr. Smith` would lose a title.
const SECOND_SUFFIX: &str = "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|court|ct|way|place|pl|terrace|ter|circle|cir|parkway|\
pkwy|trail|trl|highway|hwy";

/// ASCII word boundaries, digits and white space: the text is normalized first (every Unicode space is already a
/// `' '` or a line break there, so an ASCII `\s` means the same), and ASCII classes keep the automata small and every
/// pattern inside the lazy DFA (a Unicode `\b` would force the slower engines on any non-ASCII haystack).
fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 64);
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('b') if !in_class => out.push_str(r"(?-u:\b)"),
                Some('d') => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                Some('s') => out.push_str(if in_class { "[:space:]" } else { "[[:space:]]" }),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The words of an alternation (`a|b|c`, where `hills?` stands for `hill` and `hills`), sorted.
fn alternation_words(alternation: &str) -> Vec<String> {
    let mut words: Vec<String> = alternation
        .split('|')
        .flat_map(|w| match w.strip_suffix("s?") {
            Some(one) => vec![one.to_string(), format!("{one}s")],
            None => vec![w.to_string()],
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The same words as the alternation `alternation` (see [`alternation_words`]) as a regex that shares their prefixes
/// (`s(?:q|t(?:reet)?)`). Under `(?i)` the parser makes each word a sequence of classes rather than a literal, so the
/// compiler cannot build its trie of literals and the automata follow every word at once (their epsilon closures then
/// held a branch per street type: a tenth of the lazy DFA's state-building work on the benchmark's mixed notes).
///
/// Same matches only where a word boundary follows the alternation and no word is another's prefix followed by a
/// non-letter (a test holds this for every list so used): then at most one word can match at a place, and the order
/// of the words (leftmost-first's preference) cannot matter.
fn word_trie(alternation: &str) -> String {
    fn trie(words: &[&str]) -> String {
        let optional = words.first() == Some(&"");
        let words = &words[usize::from(optional)..];
        let mut branches = Vec::new();
        let mut i = 0;
        while let Some(first) = words.get(i).and_then(|w| w.chars().next()) {
            let n = words[i..].iter().take_while(|w| w.starts_with(first)).count();
            let tails: Vec<&str> = words[i..i + n].iter().map(|w| &w[first.len_utf8()..]).collect();
            branches.push(format!("{}{}", regex::escape(first.encode_utf8(&mut [0; 4])), trie(&tails)));
            i += n;
        }
        match branches.as_slice() {
            [] => String::new(),
            [one] if !optional => one.clone(),
            _ => format!("(?:{}){}", branches.join("|"), if optional { "?" } else { "" }),
        }
    }
    let words = alternation_words(alternation);
    trie(&words.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Street types of a corner's streets.
const CORNER_TYPES: &str = "Ave|Avenue|St|Street|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Pkwy|Parkway|Hwy|Highway|Way|Pl|\
Ct|Trl|Pike|Expy|Fwy";

/// See [`Shape::Corner`]: the first street's type, `and`, `&` or `at`, and the second street: an optional direction,
/// an ordinal (`75th`) or one to three capitalised words, and its type.
fn corner_pattern() -> String {
    format!(
        r"\b(?:{CORNER_TYPES})\b\.? (?:and|&|at) (?:(?:[NSEW]\.?|North|South|East|West) )?(?:\d{{1,3}}(?:st|nd|rd|th)|[A-Z][a-z]+(?: [A-Z][a-z]+){{0,2}}) (?:{CORNER_TYPES})\b\.?"
    )
}

/// See [`Shape::Highway`]. A highway is a system's letters or a state's code and its number (`I-94`, `US 550`,
/// `SR 195`, `NM-528`), never any two letters (`BP 120 and HR 80`); a state's code only with its dash (`OR 2 and
/// OR 3` are operating rooms).
fn highway_pattern(states: &[String]) -> String {
    let highway = format!(r"(?:(?:I|US|SR|SH|CR|FM|Hwy)[- ]|(?:{})-)\d{{1,4}}(?: [NSEW]B)?", states.join("|"));
    let marker = r"(?:mile marker|MM|mile) \d{1,3}(?:\.\d)?\b";
    format!(r"\b{highway} (?:and|&) {highway}\b|\b{highway} (?:at |near )?{marker}|\b{marker} on {highway}\b")
}

/// Start of a corner's first street (its type starts at `s`): the name before the type, an ordinal (`59th`) or one
/// to three capitalised words (`Belt Line`), and a direction before it (`W. Indian School`).
fn first_street_start(hay: &str, s: usize) -> Option<usize> {
    let word_before = |at: usize| {
        let before = hay[..at].strip_suffix(' ')?;
        let start = after_last(before, |c| !(c.is_ascii_alphanumeric() || c == '.'));
        (start < before.len()).then(|| (start, &before[start..]))
    };
    let capitalised = |w: &str| {
        let b = w.as_bytes();
        b.len() >= 2 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_lowercase)
    };
    let ordinal = |w: &str| {
        let digits = w.bytes().take_while(u8::is_ascii_digit).count();
        (1..=3).contains(&digits) && matches!(&w[digits..], "st" | "nd" | "rd" | "th")
    };
    let direction =
        |w: &str| matches!(w.trim_end_matches('.'), "N" | "S" | "E" | "W" | "North" | "South" | "East" | "West");
    let (mut start, first) = word_before(s)?;
    if direction(first) || !(ordinal(first) || capitalised(first)) {
        return None;
    }
    for _ in 0..2 {
        match word_before(start) {
            Some((at, w)) if capitalised(first) && capitalised(w) && !direction(w) => start = at,
            _ => break,
        }
    }
    if let Some((at, w)) = word_before(start)
        && direction(w)
    {
        start = at;
    }
    Some(start)
}

/// The shapes that the shapes automaton holds loosened (see [`digit_shape`]).
const LOOSENED: [Shape; 4] = [Shape::Ipv6, Shape::Highway, Shape::PhoneIntl, Shape::Phone];

/// The pattern of one of [`LOOSENED`]; `loose`, with its digit class or digit widened to `\d`. The classes `[1-9]` (of
/// the MBI, loosened here until it was searched apart) and `[2-9]` split the digit bytes of an automaton into more
/// byte classes, and every state after a digit built a transition for each (a tenth of the shapes automaton's
/// state-building work on the benchmark's mixed notes); so did the `1` of the phone's `+1` and `1-` and of the IPv6
/// loopback `::1` (with them loosened the digits are one byte class, and the lazy DFA built a sixth fewer transitions
/// on 4,000 mixed notes). The highway's state codes are loosened to any two capitals: the codes' alternation gave the
/// lazy DFA states of its own at every capitalised word. A loosened pattern matches wherever its own does (and a
/// little more): it only proposes, and its own pattern, searched anchored, decides.
fn digit_shape(shape: Shape, loose: bool) -> String {
    match (shape, loose) {
        (Shape::PhoneIntl, _) => format!(
            r"\+\s?{}\d{{0,2}}[\s.-]?(?:\(\d{{1,4}}\)[\s.-]?)?\d{{1,4}}(?:[\s.-]?\d{{2,4}}){{1,4}}\b",
            if loose { r"\d" } else { "[2-9]" }
        ),
        (Shape::Ipv6, _) => format!(
            r"(?i)(?:\b[0-9a-f]{{1,4}}(?:::?[0-9a-f]{{1,4}}){{2,7}}|::[0-9a-f]{{1,4}}(?:::?[0-9a-f]{{1,4}}){{1,6}})(?:::)?|::{}\b",
            if loose { r"\d" } else { "1" }
        ),
        (Shape::Phone, _) => {
            let one = if loose { r"\d" } else { "1" };
            format!(
                r"(?i)(?:\+\s?{one}[\s.-]?|\b{one}[\s.-])?(?:\(\s?\d{{3}}\s?\)|\b\d{{3}})[\s.-]?\d{{3}}[\s.-]?\d{{4}}\b(?:\s*(?:x|ext\.?|extension)\s*\d{{1,6}}\b)?"
            )
        }
        (Shape::Highway, false) => {
            highway_pattern(&state_abbreviations().map(str::to_ascii_uppercase).collect::<Vec<_>>())
        }
        (Shape::Highway, true) => highway_pattern(&["[A-Z]{2}".to_string()]),
        _ => unreachable!("only the shapes of LOOSENED are loosened"),
    }
}

fn patterns() -> Vec<(Shape, String)> {
    let abbrs: Vec<String> = state_abbreviations().map(str::to_ascii_uppercase).collect();
    let names = word_trie(&state_names().collect::<Vec<_>>().join("|"));
    let (street, second) = (word_trie(STREET_SUFFIX), word_trie(SECOND_SUFFIX));
    let units = word_trie(&format!("{SECONDARY_UNITS}|no"));
    let month = word_trie(MONTHS);
    vec![
        (Shape::Url, r#"(?i)\b(?:(?:https?|ftp|sftp)://|www\.)[^\s<>"'`]+|(?i)\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|us|health|info|biz|care|clinic|med)\b(?:/[^\s<>"'`]*)?"#.into()),
        (Shape::Email, r"(?i)\b[a-z0-9!#$%&'*+/?^_`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+".into()),
        // Groups of hex digits after a first one or after `::`, never after a lone colon: no address starts with
        // one, and the seconds of every ISO time that the numeric date leaves (`:56:49` of `T11:56:49Z`) were found
        // here, rejected, and searched past again (same matches otherwise; a test holds the rest rejected).
        (Shape::Ipv6, digit_shape(Shape::Ipv6, false)),
        (Shape::Ipv4, r"\b(?:\d{1,3}\.){3}\d{1,3}\b".into()),
        (
            Shape::Mac,
            r"(?i)\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b|\b[0-9a-f]{2}(?:-[0-9a-f]{2}){5}\b|\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b".into(),
        ),
        (Shape::Udi, r"\(01\)\d{14}(?:\((?:1[0-7]|21|240|241|30|7003)\)[A-Za-z0-9-]{1,20})*".into()),
        (Shape::Mbi, r"(?i)\b[1-9][a-z][a-z0-9]\d-?[a-z][a-z0-9]\d-?[a-z]{2}\d{2}\b".into()),
        (Shape::Iban, r"(?i)\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?\b".into()),
        (
            Shape::DateNumeric,
            r"\b(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b)".into(),
        ),
        (
            Shape::DateWritten,
            format!(r"(?i)\b{month}\b\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:(?:,\s*|\s+)(?:\d{{4}}\b|'\d{{2}}\b)|,\s*\d{{2}}\b)?|,?\s+\d{{4}}\b|-\d{{2}}-(?:\d{{4}}|\d{{2}})\b)"),
        ),
        (
            Shape::DateDayMonth,
            format!(r"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?[\s-]*{month}\b\.?(?:(?:,\s*|[\s-]+)(?:\d{{4}}|'?\d{{2}})\b)?"),
        ),
        (
            Shape::Address,
            format!(r"(?i)\b\d{{1,6}}[a-z]?\s+(?:[nsew]\.?\s+|(?:north|south|east|west)\s+)?(?:[a-z0-9][a-z0-9'.-]*\s+){{1,4}}?(?:{street})\b\.?(?: (?:{second})\b\.?)?(?-i:\s+(?:[NS][EW]?|[EW])\b)?(?:,?\s+(?:{units})\b\.?\s*#?\s*[a-z0-9-]+\b|,?\s*#\s*[a-z0-9-]+\b)?"),
        ),
        (Shape::Corner, corner_pattern()),
        (Shape::Highway, digit_shape(Shape::Highway, false)),
        // A post office box, and a rural route's or highway contract's box (`RR 2 Box 118`, `HC 65 Box 112A`).
        (
            Shape::PoBox,
            r"(?i)\b(?:p\.?\s?o\.?|post office)\s*box\s+\d{1,6}\b|\b(?:rr|r\.r\.|rural route|hc|h\.c\.|star route|rt\.?|rte\.?|route)\s*\d{1,4},?\s+box\s+\d{1,6}[a-z]?\b".into(),
        ),
        (
            Shape::StateZip,
            format!(r"(?:\b(?:{})\b|(?i:\b(?:{names})\b))\.?,?\s+\d{{5}}(?:-\d{{4}})?\b", abbrs.join("|")),
        ),
        (
            Shape::Postcode,
            r"\b[A-CEGHJ-NPR-TVXY]\d[A-CEGHJ-NPR-TV-Z] \d[A-CEGHJ-NPR-TV-Z]\d\b|\b[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}\b"
                .into(),
        ),
        (Shape::Card, r"\b\d(?:[ -]?\d){12,18}\b".into()),
        // A masked SSN (`xxx-xx-6789`, `***-**-6789`) still shows its last four digits.
        (Shape::Ssn, r"\b\d{3}[- ]\d{2}[- ]\d{4}\b|(?i:\bx{3}|\*{3})-(?i:x{2}|\*{2})-\d{4}\b".into()),
        (Shape::PhoneIntl, digit_shape(Shape::PhoneIntl, false)),
        (Shape::Phone, digit_shape(Shape::Phone, false)),
        // Matched by hand at tokens (see [`short_date_at`]), which must change with it.
        (Shape::DateShort, r"\b\d{1,2}/(?:\d{1,2}|(?:19|20)\d{2})\b".into()),
        (Shape::Token, r"(?i)\b(?:[a-z]{1,10}-){0,3}[a-z0-9]*\d[a-z0-9]*(?:-[a-z0-9]+)*\b".into()),
    ]
}

/// A stage of [`Analyzer::analyze`], timed by the `throughput` example; each includes the ones before it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Normalizing the text (Unicode tricks, line-wrap joins, spoken numbers).
    Normalize,
    /// The shapes' multi-pattern automaton scanning the text, without tokens or classifiers: a floor under the
    /// structured pass.
    ShapesAutomaton,
    /// The structured pass: shapes, tokens, their classifiers and context.
    Structured,
    /// The structured pass, then the word pass (names, places, facilities), which needs its matches.
    Words,
}

/// State of one structured pass.
struct Scan<'c> {
    /// The leftmost match of the shapes but tokens from some earlier position (searched first from the text's start),
    /// `None` where there is none to the text's end.
    shape: Option<(usize, usize, usize)>,
    /// Where `shape` starts, or the text's length: the cached match is the leftmost from every position up to here.
    /// Tested alone for every token, which reads no more of the match unless it comes first.
    limit: usize,
    /// The leftmost UDI from some earlier position, once searched; `shape` holds it where it comes first.
    udi: Option<Option<(usize, usize, usize)>>,
    /// See [`ascii_case_folding`].
    ascii_letters: bool,
    /// Where no number starts an address's street (see [`street_word_follows`]), from an earlier walk.
    street_clear: (usize, usize),
    cache: &'c mut Caches,
}

/// A compiled detector; build once (it holds the compiled patterns) and share it across threads.
#[derive(Debug)]
pub struct Analyzer {
    /// Every shape but the last ([`Shape::Token`]), [`Shape::Udi`], [`Shape::Mbi`], [`Shape::Iban`],
    /// [`Shape::DateDayMonth`], [`Shape::Address`], [`Shape::StateZip`] and [`Shape::DateShort`], in priority order,
    /// those of [`LOOSENED`] loosened.
    shaped: Shapes,
    /// The UDI shape, searched apart: its literal digits (`(01)`, `(17)`, `(7003)`) split the digit bytes of `shaped`'s
    /// automaton into twice as many classes, so that every state after a digit built twice as many transitions (a
    /// tenth of its state-building work on the benchmark's mixed notes), while `memchr` finds `(01)` at almost no cost.
    /// The literal only proposes where a UDI may start; this automaton, searched anchored there, decides. It holds
    /// the exact patterns of [`LOOSENED`] too, to decide their matches, and the address shape: up to four words
    /// between a number and a street type made `shaped`'s lazy DFA track every number's count of words at once (more
    /// than half of its states, and a fifth of all instructions on 4,000 mixed notes, went to it); an address is
    /// searched anchored where a number is followed by a street type (see [`Analyzer::next_match`]). The state-and-ZIP
    /// shape is here for the same reason, and found by hand (see [`Analyzer::state_zip_before`]). So are the MBI, the
    /// IBAN and the day of the month before its month, which start where a token does and are searched anchored there
    /// (see [`Analyzer::token_shape_at`]): after every number or pair of letters `shaped`'s lazy DFA tracked an MBI's
    /// letters and digits, an IBAN's groups and a month's letters after the day along with every other shape, and
    /// built more than a quarter of its transitions for them (on the benchmark's 20,000 mixed notes the forward search
    /// built 8,045 with them, in 76M instructions, and 5,826 without, in 52M).
    exact: Shapes,
    /// Each shape's automaton for anchored searches (whether `exact`) and pattern there, by its index in `shapes`.
    patterns: Vec<(bool, PatternID)>,
    /// Index in `shapes` of each pattern of `shaped`.
    shaped_ids: Vec<usize>,
    /// The bytes each shape's anchored pattern (see `patterns`) can start with, by its index in `shapes`.
    first_bytes: Vec<[bool; 256]>,
    /// Search caches of `shaped` and `exact` (the states their lazy DFAs have built), lent to one call at a time.
    caches: CachePool,
    /// The token shape as a regex, for text where `(?i)[a-z]` is more than ASCII (see [`ascii_case_folding`]).
    token: Regex,
    /// Index in `shapes` of [`Shape::Token`], the last, matched by hand (see [`next_token`]).
    token_pid: usize,
    /// Index in `shapes` of [`Shape::Mbi`], searched apart (see [`Analyzer::token_shape_at`]).
    mbi_pid: usize,
    /// Index in `shapes` of [`Shape::Iban`], searched apart (see [`Analyzer::token_shape_at`]).
    iban_pid: usize,
    /// Index in `shapes` of [`Shape::DateDayMonth`], searched apart (see [`Analyzer::token_shape_at`]).
    day_month_pid: usize,
    /// Index in `shapes` of [`Shape::Address`], searched apart (see [`Analyzer::next_match`]).
    address_pid: usize,
    /// Index in `shapes` of [`Shape::StateZip`], searched apart (see [`Analyzer::state_zip_before`]).
    state_zip_pid: usize,
    /// Index in `shapes` of [`Shape::DateShort`], matched apart (see [`short_date_at`]).
    date_short_pid: usize,
    /// The state-and-ZIP shape alone, for text where `(?i)[a-z]` is more than ASCII (see [`ascii_case_folding`]),
    /// built on first use.
    state_zip_regex: OnceLock<Option<Regex>>,
    shapes: Vec<Shape>,
}

thread_local! {
    /// The candidate list of the last document analyzed on this thread, reused (cleared) by the next.
    static CANDIDATES: RefCell<Vec<Candidate>> = const { RefCell::new(Vec::new()) };
}

/// Largest candidate list kept for the next document (about 1.5 MiB); a longer one is freed after its document.
const KEPT_CANDIDATES: usize = 1 << 16;

/// Lazy-DFA caches of the shapes regex. The DFA builds its states as text needs them, which is most of the cost of
/// the first documents a process sees; a cache warmed on [`WARM_UP`] when the analyzer is built is cloned for each
/// thread instead of starting empty, and caches go back to the pool after each call.
#[derive(Debug)]
struct CachePool {
    warm: Caches,
    /// Boxed: a cache is large (two lazy DFAs' search state in each direction), and taking it and giving it back
    /// by value copied it twice for every call.
    #[expect(clippy::vec_box, reason = "the boxes move between the pool and the calls; only pointers are copied")]
    idle: Mutex<Vec<Box<Caches>>>,
}

/// Search caches of [`Analyzer`]'s two automata.
#[derive(Debug, Clone)]
struct Caches {
    shaped: ShapesCache,
    exact: ShapesCache,
}

/// Lazy-DFA cache of the shapes regex, per thread and direction (see [`Analyzer::new`]).
const HYBRID_CACHE_BYTES: usize = 16 << 20;

/// The shapes' multi-pattern regex with leftmost-first semantics, as `meta::Regex` would run it (a forward lazy DFA
/// finds where the match ends and its shape, a reverse one where it starts), except that the reverse search is
/// anchored on the shape the forward search found. `meta::Regex` runs it over every shape at once, and its states
/// then track every shape that could end there (on the benchmark's mixed notes it built nearly three times the
/// states); the start is the same: the forward match starts at the leftmost position where any shape matches, so no
/// match of its shape ending at the same place starts earlier.
#[derive(Debug)]
struct Shapes {
    forward: LazyDfa,
    reverse: LazyDfa,
    /// Same answers as the lazy DFAs, for a search they cannot finish (none is expected: no byte makes them quit and
    /// they never give up), built from `patterns` on first use.
    pikevm: OnceLock<Option<PikeVM>>,
    patterns: Vec<String>,
}

/// Search state of [`Shapes`]: the states its lazy DFAs have built.
#[derive(Debug, Clone)]
struct ShapesCache {
    forward: LazyCache,
    reverse: LazyCache,
    pikevm: Option<thompson::pikevm::Cache>,
    /// The forward DFA's state inside a word (see [`Shapes::word_state`]) and the `forward.clear_count()` it was
    /// found at (a cleared cache numbers its states anew); `None` before the first search.
    word: Option<(usize, Option<LazyStateID>)>,
}

impl Shapes {
    fn new(patterns: &[&str]) -> Result<Self, PhiError> {
        let built = |e: thompson::BuildError| PhiError::BuiltinPattern(Box::new(e));
        // Parsed once for both directions. The lazy DFAs need no capture states: without them the epsilon closures that
        // build their states are shorter (an eighth of the forward DFA's state-building work on the benchmark's mixed
        // notes); the PikeVM, which needs them to report a match, compiles its own NFA if it is ever used. The reverse
        // NFA is shrunk (regex-automata's heuristics: the same language in fewer states, mostly where a large Unicode
        // class such as the URL's `[^\s<>"'`]` is reversed), so that its DFA's states hold fewer NFA states.
        let hirs =
            regex_automata::util::syntax::parse_many(patterns).map_err(|e| PhiError::BuiltinPattern(Box::new(e)))?;
        let nfa = NFA::compiler()
            .configure(NFA::config().which_captures(WhichCaptures::None))
            .build_many_from_hir(&hirs)
            .map_err(built)?;
        let reverse_nfa = NFA::compiler()
            .configure(NFA::config().which_captures(WhichCaptures::None).reverse(true).shrink(true))
            .build_many_from_hir(&hirs)
            .map_err(built)?;
        // No Unicode word boundary (the patterns have ASCII ones, see `ascii_classes`), so building fails rather than
        // the search quitting on a non-ASCII byte.
        let config = LazyDfa::config().starts_for_each_pattern(true).cache_capacity(HYBRID_CACHE_BYTES);
        let lazy = |config, nfa| {
            LazyDfa::builder().configure(config).build_from_nfa(nfa).map_err(|e| PhiError::BuiltinPattern(Box::new(e)))
        };
        Ok(Self {
            forward: lazy(config.clone(), nfa)?,
            reverse: lazy(config.match_kind(MatchKind::All), reverse_nfa)?,
            pikevm: OnceLock::new(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
        })
    }

    /// The bytes a match of `pattern` can start with (all of them if it can match the empty string), read from
    /// the forward NFA: every state reachable from its start without consuming a byte, look-arounds taken as
    /// passable, so the set may hold bytes the pattern rejects but never misses one it accepts.
    fn first_bytes(&self, pattern: PatternID) -> [bool; 256] {
        use regex_automata::nfa::thompson::State;
        let nfa = self.forward.get_nfa();
        let mut bytes = [false; 256];
        let mut seen = vec![false; nfa.states().len()];
        let mut stack: Vec<_> = nfa.start_pattern(pattern).into_iter().collect();
        let mut range = |start: u8, end: u8| bytes[usize::from(start)..=usize::from(end)].fill(true);
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id.as_usize()], true) {
                continue;
            }
            match nfa.state(id) {
                State::ByteRange { trans } => range(trans.start, trans.end),
                State::Sparse(sparse) => sparse.transitions.iter().for_each(|t| range(t.start, t.end)),
                State::Dense(dense) => (0..=255).filter(|&b| dense.matches_byte(b).is_some()).for_each(|b| range(b, b)),
                State::Look { next, .. } | State::Capture { next, .. } => stack.push(*next),
                State::Union { alternates } => stack.extend(alternates.iter().copied()),
                State::BinaryUnion { alt1, alt2 } => stack.extend([*alt1, *alt2]),
                State::Fail => {}
                State::Match { .. } => range(0, 255),
            }
        }
        bytes
    }

    fn create_cache(&self) -> ShapesCache {
        ShapesCache {
            forward: self.forward.create_cache(),
            reverse: self.reverse.create_cache(),
            pikevm: None,
            word: None,
        }
    }

    /// The forward DFA's state in the middle of a long word, if every ASCII letter leads it back to itself: there
    /// the search can skip to the word's end without a transition for each letter. No shape tracks more than a few
    /// letters of a word but the e-mail address's local part and the web address's host, which take any letter, so
    /// after a few letters of most words the DFA is in this one state (found by walking a word of no shape).
    fn word_state(&self, cache: &mut LazyCache) -> Option<LazyStateID> {
        const WORD: &[u8] = b"qqqqqqqqqqqqqqqq";
        let clears = cache.clear_count();
        let mut sid = self.forward.start_state_forward(cache, &Input::new(WORD)).ok()?;
        for &c in WORD {
            sid = self.forward.next_state(cache, sid, c).ok()?;
        }
        let loops = !sid.is_tagged()
            && (b'a'..=b'z').chain(b'A'..=b'Z').all(|c| self.forward.next_state(cache, sid, c).ok() == Some(sid));
        // A cache cleared on the way numbered its states anew: `sid` may be stale.
        (loops && cache.clear_count() == clears).then_some(sid)
    }

    /// The forward search of `input` (unanchored, not earliest) as the lazy DFA's own `try_search_fwd` runs it, but
    /// from the state inside a word (see [`Shapes::word_state`]) straight to the word's end. On notes without PHI the
    /// search crosses every byte of the text and finds nothing, each transition a load that waits for the one
    /// before; most letters after the first two of a word (two fifths of the bytes of such notes) are skipped with
    /// a plain byte test, which waits for nothing.
    fn find_fwd(&self, cache: &mut ShapesCache, input: &Input<'_>) -> Result<Option<HalfMatch>, MatchError> {
        let dfa = &self.forward;
        let lazy = &mut cache.forward;
        let word = match cache.word {
            Some((clears, word)) if clears == lazy.clear_count() => word,
            _ => {
                let word = self.word_state(lazy);
                cache.word = Some((lazy.clear_count(), word));
                word
            }
        };
        let Some(word) = word else { return dfa.try_search_fwd(lazy, input) };
        if input.is_done() {
            return Ok(None);
        }
        let clears = lazy.clear_count();
        let (hay, end) = (input.haystack(), input.end());
        let mut sid = dfa.start_state_forward(lazy, input)?;
        if lazy.clear_count() != clears {
            return dfa.try_search_fwd(lazy, input);
        }
        // The last match state and where its match ends. Its pattern is read from the state once, when the search
        // ends: a long match (a web address's path, an e-mail address's domain) is a match state at every byte.
        let mut last: Option<(LazyStateID, usize)> = None;
        let mut at = input.start();
        lazy.search_start(at);
        loop {
            if sid.is_tagged() {
                let Some(&c) = hay[..end].get(at) else { break };
                sid = dfa.next_state(lazy, sid, c).map_err(|_| MatchError::gave_up(at))?;
            } else {
                let (stop, before, next) = walk(dfa, lazy, &hay[..end], at, sid, word);
                at = stop;
                let Some(next) = next else {
                    sid = before;
                    break;
                };
                sid = next;
                if sid.is_unknown() {
                    sid = dfa.next_state(lazy, before, hay[at]).map_err(|_| MatchError::gave_up(at))?;
                }
            }
            // A cache cleared for a new state numbered its states anew, `word` among them: the search starts over
            // without it (the cache holds 16 MiB of states, and none is expected to be cleared). The walk above
            // only ran after a test like this one.
            if lazy.clear_count() != clears {
                lazy.search_finish(at);
                return dfa.try_search_fwd(lazy, input);
            }
            if sid.is_match() {
                // Matches are delayed by one byte: this one ends at `at`.
                last = Some((sid, at));
            } else if sid.is_dead() {
                lazy.search_finish(at);
                return Ok(last.map(|(sid, at)| HalfMatch::new(dfa.match_pattern(lazy, sid, 0), at)));
            } else if sid.is_quit() {
                lazy.search_finish(at);
                return Err(MatchError::quit(hay[at], at));
            }
            at += 1;
        }
        // The last match's pattern, read before the end-of-input transition (which may clear the cache, and number
        // its states anew).
        let mut mat = last.map(|(sid, at)| HalfMatch::new(dfa.match_pattern(lazy, sid, 0), at));
        // The end-of-input transition, which reports a match that ends there.
        let after = hay.get(end).copied();
        let eoi = match after {
            Some(c) => dfa.next_state(lazy, sid, c),
            None => dfa.next_eoi_state(lazy, sid),
        };
        sid = eoi.map_err(|_| MatchError::gave_up(end))?;
        lazy.search_finish(end);
        if sid.is_match() {
            mat = Some(HalfMatch::new(dfa.match_pattern(lazy, sid, 0), end));
        } else if sid.is_quit() {
            return Err(MatchError::quit(after.unwrap_or_default(), end));
        }
        Ok(mat)
    }

    /// The leftmost-first match in `input`'s span.
    fn search(&self, cache: &mut ShapesCache, input: &Input<'_>) -> Option<Match> {
        self.search_settled(cache, input, |_, _| None)
    }

    /// The leftmost-first match in `input`'s span, whose start `settle` may give from the shape and end the forward
    /// search found (see [`start_by_hand`]); where it gives none, the reverse search finds it.
    #[inline(never)]
    fn search_settled(
        &self,
        cache: &mut ShapesCache,
        input: &Input<'_>,
        settle: impl FnOnce(PatternID, usize) -> Option<usize>,
    ) -> Option<Match> {
        self.search_lazy(cache, input, settle).unwrap_or_else(|_| {
            // The same patterns compiled for the lazy DFAs, so this cannot fail to build.
            let vm = self.pikevm.get_or_init(|| PikeVM::new_many(&self.patterns).ok()).as_ref()?;
            let pikevm = cache.pikevm.get_or_insert_with(|| vm.create_cache());
            let mut caps = vm.create_captures();
            vm.search(pikevm, input, &mut caps);
            caps.get_match()
        })
    }

    fn search_lazy(
        &self,
        cache: &mut ShapesCache,
        input: &Input<'_>,
        settle: impl FnOnce(PatternID, usize) -> Option<usize>,
    ) -> Result<Option<Match>, MatchError> {
        let forward = if input.get_anchored().is_anchored() || input.get_earliest() {
            self.forward.try_search_fwd(&mut cache.forward, input)?
        } else {
            self.find_fwd(cache, input)?
        };
        let Some(end) = forward else { return Ok(None) };
        let (pid, end) = (end.pattern(), end.offset());
        if input.get_anchored().is_anchored() {
            return Ok(Some(Match::new(pid, input.start()..end)));
        }
        if let Some(start) = settle(pid, end) {
            return Ok(Some(Match::new(pid, start..end)));
        }
        let back = input.clone().span(input.start()..end).anchored(Anchored::Pattern(pid)).earliest(false);
        match self.reverse.try_search_rev(&mut cache.reverse, &back)? {
            Some(start) => Ok(Some(Match::new(pid, start.offset()..end))),
            // Cannot happen (the forward match is a match of that shape); the PikeVM answers then.
            None => Err(MatchError::gave_up(end)),
        }
    }
}

/// The lazy DFA's transitions over `hay` from `at` in the untagged state `sid` while they lead to untagged states,
/// from the state `word` (see [`Shapes::word_state`]) to the end of the word's letters: where they stopped, the state
/// there, and the tagged state (a match, dead or not yet computed) the byte there leads to, if any. The cache is
/// only read, so that its table's address and length stay in registers.
fn walk(
    dfa: &LazyDfa,
    lazy: &LazyCache,
    hay: &[u8],
    mut at: usize,
    mut sid: LazyStateID,
    word: LazyStateID,
) -> (usize, LazyStateID, Option<LazyStateID>) {
    while let Some(&c) = hay.get(at) {
        let next = dfa.next_state_untagged(lazy, sid, c);
        if next.is_tagged() {
            return (at, sid, Some(next));
        }
        sid = next;
        at += 1;
        if sid == word {
            while hay.get(at).is_some_and(u8::is_ascii_alphabetic) {
                at += 1;
            }
        }
    }
    (at, sid, None)
}

/// Most caches kept idle: one per thread that analyzes at the same time, more are dropped.
const IDLE_CACHES: usize = 64;

impl CachePool {
    fn take(&self) -> Box<Caches> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop()).unwrap_or_else(|| Box::new(self.warm.clone()))
    }

    fn give(&self, cache: Box<Caches>) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CACHES
        {
            idle.push(cache);
        }
    }
}

/// Text the DFA states are built on at start-up: every shape and the common near-misses, in mixed, lower and upper
/// case (written for this purpose; not taken from the evaluation corpus).
const WARM_UP: &str = "Patient: Maria Lopez, DOB 03/14/1962, MRN 00456123, seen on March 14, 2023 (14-MAR-2023, \
2023-03-14T10:30:00Z), follow-up Jan. 5 or 5th of June, '24; admitted 1/2. Phone (415) 555-0134 ext. 12, fax \
415.555.0199, cell +44 20 7946 0958, 1-800-555-0100. Lives at 1234 N. Main Street Apt 4B, Springfield, IL 62704-1234; \
P.O. Box 771; 88 Elm Ave., Austin, Texas 78701. E-mail jane.doe@example.org, portal https://portal.example.org/p/1?x=2, \
www.clinic.med, labs.example.com/r/7. IP 172.21.47.165 and fe80::1ff:fe23:4567:890a, ::1. SSN 123-45-6789, card \
4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, MBI 1EG4-TE5-MK73, VIN 1HGCM82633A004352, DEA AB1234563.\n\
BP 128/82, HR 72, RR 16, T 98.6 F, SpO2 97% on room air. Hgb 13.5 g/dL, A1c 7.2%, metformin 500 mg PO BID, \
ICD-10 E11.9, CPT 99213, LOINC 4548-4, NDC 0002-7510-01, room 412, bed 2, lot AB4471, exp 10/2026, at 10:30, \
a 92-year-old woman, pain 4/10, walked 200 feet in 2019 with 3 refills.\n";

impl Analyzer {
    /// Compiles the built-in patterns and loads the gazetteers.
    pub fn new() -> Result<Self, PhiError> {
        let list: Vec<(Shape, String)> = patterns().into_iter().map(|(shape, p)| (shape, ascii_classes(&p))).collect();
        let sources: Vec<&str> = list.iter().map(|(_, p)| p.as_str()).collect();
        let token_pid = sources.len() - 1;
        let loose: Vec<String> = list
            .iter()
            .map(
                |(shape, p)| {
                    if LOOSENED.contains(shape) { ascii_classes(&digit_shape(*shape, true)) } else { p.clone() }
                },
            )
            .collect();
        let apart = [
            Shape::Udi,
            Shape::Mbi,
            Shape::Iban,
            Shape::DateDayMonth,
            Shape::Address,
            Shape::StateZip,
            Shape::DateShort,
        ];
        let shaped_ids: Vec<usize> = (0..token_pid).filter(|&i| !apart.contains(&list[i].0)).collect();
        let exact_ids: Vec<usize> =
            (0..token_pid).filter(|&i| apart.contains(&list[i].0) || LOOSENED.contains(&list[i].0)).collect();
        let mut patterns = vec![(false, PatternID::ZERO); token_pid];
        for (in_exact, ids) in [(false, &shaped_ids), (true, &exact_ids)] {
            for (pid, &i) in ids.iter().enumerate() {
                patterns[i] = (in_exact, PatternID::new(pid).map_err(|e| PhiError::BuiltinPattern(Box::new(e)))?);
            }
        }
        // The shapes' lazy DFA needs more states than the default 2 MiB cache holds on long, varied text: with the
        // default it cleared its cache and rebuilt states (about a tenth of detection time on the benchmark corpus).
        let shaped = Shapes::new(&shaped_ids.iter().map(|&i| loose[i].as_str()).collect::<Vec<_>>())?;
        let exact = Shapes::new(&exact_ids.iter().map(|&i| sources[i]).collect::<Vec<_>>())?;
        let token = Regex::new(sources[token_pid]).map_err(|e| PhiError::BuiltinPattern(Box::new(e)))?;
        let first_bytes = patterns
            .iter()
            .map(|&(in_exact, pattern)| if in_exact { &exact } else { &shaped }.first_bytes(pattern))
            .collect();
        let _ = Gazetteer::get();
        let _ = Lexicon::get();
        let warm = Caches { shaped: shaped.create_cache(), exact: exact.create_cache() };
        let mut cache = warm.clone();
        let mut analyzer = Self {
            shaped,
            exact,
            patterns,
            shaped_ids,
            first_bytes,
            caches: CachePool { warm, idle: Mutex::new(Vec::new()) },
            token,
            token_pid,
            mbi_pid: list.iter().position(|(s, _)| *s == Shape::Mbi).unwrap_or(usize::MAX),
            iban_pid: list.iter().position(|(s, _)| *s == Shape::Iban).unwrap_or(usize::MAX),
            day_month_pid: list.iter().position(|(s, _)| *s == Shape::DateDayMonth).unwrap_or(usize::MAX),
            address_pid: list.iter().position(|(s, _)| *s == Shape::Address).unwrap_or(usize::MAX),
            state_zip_pid: list.iter().position(|(s, _)| *s == Shape::StateZip).unwrap_or(usize::MAX),
            date_short_pid: list.iter().position(|(s, _)| *s == Shape::DateShort).unwrap_or(usize::MAX),
            state_zip_regex: OnceLock::new(),
            shapes: list.into_iter().map(|(s, _)| s).collect(),
        };
        for text in [WARM_UP.to_string(), WARM_UP.to_lowercase(), WARM_UP.to_uppercase()] {
            let mut warmed = Vec::new();
            analyzer.structured_with(&text, false, &mut cache, &mut warmed);
        }
        analyzer.caches.warm = cache;
        Ok(analyzer)
    }

    /// The entities in `text`, sorted by start, non-overlapping, filtered by `options`.
    pub fn analyze(&self, text: &str, options: &AnalyzeOptions) -> Vec<Entity> {
        let mut entities = Vec::new();
        self.analyze_into(text, options, &mut entities);
        entities
    }

    /// Like [`analyze`](Self::analyze), the entities written into `entities` (cleared first): a caller that analyzes
    /// one document after another and keeps the list allocates nothing for it once it is large enough.
    pub fn analyze_into(&self, text: &str, options: &AnalyzeOptions, entities: &mut Vec<Entity>) {
        entities.clear();
        let normalized = Normalized::with_ocr(text, options.scanned());
        let hay = normalized.as_str();
        // The thread's candidate list, cleared: a list for every document cost an allocation and a free.
        CANDIDATES.with(|list| {
            let candidates = &mut *list.borrow_mut();
            candidates.clear();
            self.structured(hay, normalized.offsets_unchanged(), candidates);
            words_pass(hay, candidates);
            crate::hl7::segments(hay, candidates);
            crate::table::tables(hay, candidates);
            options.run_recognizers(hay, candidates);
            candidates.retain(|c| c.end > c.start && options.admits(c.entity_type, c.score));
            resolve(candidates);
            // The offsets of most notes need no mapping (a loop of its own: a test of it for every entity cost more),
            // and their entities, as disjoint as the candidates kept, no merging below.
            let entity =
                |c: &Candidate, (start, end)| Entity { entity_type: c.entity_type, start, end, score: c.score };
            if normalized.offsets_unchanged() {
                entities.extend(candidates.iter().map(|c| entity(c, (c.start, c.end))));
            } else {
                entities.extend(candidates.iter().map(|c| entity(c, normalized.char_span(c.start, c.end))));
            }
            if candidates.capacity() > KEPT_CANDIDATES {
                *candidates = Vec::new();
            }
        });
        if normalized.offsets_unchanged() {
            return;
        }
        // Two entities inside one spelled-out number (a custom pattern matching part of `1952` written as `nineteen
        // fifty two`) map back to the same words: they become one.
        entities.dedup_by(|next, last| {
            let overlaps = next.start < last.end;
            if overlaps {
                last.end = last.end.max(next.end);
            }
            overlaps
        });
    }

    /// The leftmost-first match of all shapes from `pos`, as one multi-pattern regex would find it, but with the
    /// catch-all [`Shape::Token`] (every word holding a digit) matched by [`next_token`] instead of the regex: the
    /// regex then stops only at real shapes, and the token scan costs a byte loop. `scan` caches the leftmost match of
    /// the other shapes, valid while `pos` has not passed its start.
    ///
    /// UDIs are searched apart (see [`Analyzer::exact`]) and merged the same way: the leftmost start wins, at the same
    /// start the earlier shape; their match is cached like the automaton's.
    fn next_match(&self, hay: &str, pos: usize, scan: &mut Scan<'_>) -> Option<(usize, usize, usize)> {
        let token_pid = self.token_pid;
        // The merged match is cached (valid as long as the automaton's and the UDI's): merging once per search rather
        // than once per token keeps UDIs free on text without them.
        if scan.limit < pos {
            self.next_shape(hay, pos, scan);
        }
        let limit = scan.limit;
        // At the same start a shape wins over a token (priority order), so a token must start strictly before.
        let token = if scan.ascii_letters {
            next_token(hay.as_bytes(), pos, limit)
        } else {
            self.token.search(&Input::new(hay).span(pos..hay.len())).map(|m| (m.start(), m.end()))
        };
        // The first match as plain values: kept as an `Option` of both kinds, it was stored and read back for every token.
        // An address starts where a token does (its number is one), so it can only start at the first token, or at
        // the shape's start when no token comes before; there it comes first unless the shape is an earlier one.
        let (s, e, pid) = match token {
            Some((s, e)) if s < limit => (s, e, token_pid),
            _ => scan.shape?,
        };
        // A token is a ZIP's five digits only when it has five characters or a `-` after five (`62704-1234`): most
        // of a note's numbers end here.
        let b = hay.as_bytes();
        if (pid != token_pid || e - s == 5 || (e - s > 5 && b[s + 5] == b'-'))
            && let Some(found) = self.state_zip_before(hay, pos, s, scan.ascii_letters)
        {
            return Some(found);
        }
        if pid > self.mbi_pid
            && (!scan.ascii_letters || token_shape_may_start(b, s))
            && let Some(found) = self.token_shape_at(hay, s, pid, scan)
        {
            return Some(found);
        }
        let address = self.address_pid;
        // A token there is the address's number (`\d{1,6}[a-z]?`, white space after it): two thirds of the numbers of
        // a note fail this before the walk.
        let number = |e: usize| e - s <= 7 && b.get(e).is_some_and(|c| matches!(c, b' ' | b'\t'..=b'\r'));
        if pid > address
            && b[s].is_ascii_digit()
            && (!scan.ascii_letters
                || ((pid != token_pid || number(e)) && street_word_follows(b, s, &mut scan.street_clear)))
            && let Some(end) = self.anchored_match(hay, s, address, scan)
        {
            return Some((s, end, address));
        }
        // A short date (the last shape) starts where a token does, and comes first at the first token, whose digits
        // are its month.
        if pid == token_pid
            && let Some(end) = short_date_at(b, s, e)
        {
            return Some((s, end, self.date_short_pid));
        }
        Some((s, e, pid))
    }

    /// The match at `s` of an MBI, an IBAN or a day of the month before its month (`1EG4-TE5-MK73`, `GB82 WEST 1234
    /// 5698 7654 32`, `5th of June`), the first of them in priority order, where the first match from the search's
    /// position, of shape `pid`, starts at `s`. Each starts where a token does (a word holding a digit: its first
    /// characters are one), so none can start before the first token or come first but at its start, like an address
    /// (see [`Analyzer::exact`]): each is searched anchored there where its first bytes may start it. Out of line: it
    /// runs at one token in sixteen (34,018 times for some 540,000 tokens on the benchmark's mixed notes).
    #[inline(never)]
    fn token_shape_at(&self, hay: &str, s: usize, pid: usize, scan: &mut Scan<'_>) -> Option<(usize, usize, usize)> {
        let b = hay.as_bytes();
        let ascii = scan.ascii_letters;
        let at = |i: usize| b.get(s + i).copied().unwrap_or(0);
        let letter = |i: usize| at(i).is_ascii_alphabetic();
        let digit = |i: usize| at(i).is_ascii_digit();
        let alphanumeric = |i: usize| at(i).is_ascii_alphanumeric();
        // `\b[1-9][a-z][a-z0-9]\d-?[a-z]`, `\b[a-z]{2}\d{2} ?[a-z0-9]{4}` and `\b\d{1,2}` before a month; under `(?i)`
        // in text where more than ASCII letters are letters (see [`ascii_case_folding`]) the patterns decide.
        let mut found = |q: usize, may: bool| if may { self.anchored_match(hay, s, q, scan) } else { None };
        let mbi =
            || matches!(at(0), b'1'..=b'9') && letter(1) && alphanumeric(2) && digit(3) && (at(4) == b'-' || letter(4));
        if self.mbi_pid < pid
            && let Some(end) = found(self.mbi_pid, !ascii || mbi())
        {
            return Some((s, end, self.mbi_pid));
        }
        let group = 4 + usize::from(at(4) == b' ');
        let iban = || letter(0) && letter(1) && digit(2) && digit(3) && (group..group + 4).all(alphanumeric);
        if self.iban_pid < pid
            && let Some(end) = found(self.iban_pid, !ascii || iban())
        {
            return Some((s, end, self.iban_pid));
        }
        let day_month = || digit(0) && month_may_follow(b, s);
        if self.day_month_pid < pid
            && let Some(end) = found(self.day_month_pid, !ascii || day_month())
        {
            return Some((s, end, self.day_month_pid));
        }
        None
    }

    /// The state-and-ZIP match (`IL 62704`, `West Virginia, 25301-1234`) from `pos` that comes before the first match
    /// of the other shapes and tokens, which starts at `t`, if any. Its ZIP is a token (white space before five
    /// digits), so no such match starts after the first token, and only one whose ZIP is the first match (a token,
    /// or a shape starting at its digits) comes first: no shape starts in a state's name or code or in the `.`, `,`
    /// and white space after it. Kept out of the shapes automaton: a state's name or code at any word made it track
    /// that word along with every other shape (a fifth of its states, and 4% of all instructions on 4,000 mixed
    /// notes, went to it).
    fn state_zip_before(&self, hay: &str, pos: usize, t: usize, ascii_letters: bool) -> Option<(usize, usize, usize)> {
        let b = hay.as_bytes();
        let space = |at: usize| matches!(b[at], b' ' | b'\t'..=b'\r');
        // `\s\d{5}(?:-\d{4})?\b`, and its end as the pattern takes it.
        if t <= pos || !space(t - 1) || !b.get(t..t + 5)?.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let boundary_at = |at: usize| b.get(at).is_none_or(|&c| !is_word_byte(c));
        let end = if b.get(t + 5) == Some(&b'-') && digits(t + 6..t + 10) && boundary_at(t + 10) {
            t + 10
        } else if boundary_at(t + 5) {
            t + 5
        } else {
            return None;
        };
        // `\.?,?\s+` before the digits: the state ends before all of the white space, a comma and a period.
        let mut q = t - 1;
        while q > pos && space(q - 1) {
            q -= 1;
        }
        for sign in [b',', b'.'] {
            if q > pos && b[q - 1] == sign {
                q -= 1;
            }
        }
        if !ascii_letters {
            // `(?i)` folds `ſ` and the Kelvin sign into the names' letters: the pattern decides, from the longest
            // name's length before the separator (24 chars of up to three bytes) or `pos`.
            let regex = self.state_zip_regex.get_or_init(|| {
                let (_, pattern) = patterns().into_iter().find(|(s, _)| *s == Shape::StateZip)?;
                Regex::new(&ascii_classes(&pattern)).ok()
            });
            let regex = regex.as_ref()?;
            let mut from = q.saturating_sub(72).max(pos);
            while !hay.is_char_boundary(from) {
                from += 1;
            }
            return regex.search(&Input::new(hay).span(from..end)).map(|m| (m.start(), m.end(), self.state_zip_pid));
        }
        // The word before the separator is a state's code or the last word of a state's name (a set lookup; most
        // five-digit numbers after a word are codes and counts, `CPT 99213`), before the names are compared.
        let last = letters_before(b, q);
        if !(2..=13).contains(&last) || last > q - pos {
            return None;
        }
        let word_start = |p: usize| p >= pos && (p == 0 || !is_word_byte(b[p - 1]));
        let word = state_words().get(&packed_lower(&b[q - last..q]))?;
        // A state's name in any case (`west virginia`), or its code in capitals (`IL`); the leftmost start from `pos`
        // wins (`West Virginia` over `Virginia`). A name that matches there ends with the word (the run of letters
        // before the separator), and a code is all of it: only the names and code of that word are compared, where
        // every name and code were (about 1,500 instructions for each ZIP after a state's last word).
        let name = word
            .names
            .iter()
            .filter(|n| q >= n.len() && word_start(q - n.len()) && b[q - n.len()..q].eq_ignore_ascii_case(n.as_bytes()))
            .map(|n| n.len())
            .max();
        let code = || word.code && last == 2 && b[q - 2..q].iter().all(u8::is_ascii_uppercase) && word_start(q - 2);
        let start = match name {
            Some(n) => q - n,
            None if code() => q - 2,
            None => return None,
        };
        Some((start, end, self.state_zip_pid))
    }

    /// The leftmost match from `pos` of the shapes of `shaped` and of UDIs, into `scan`. Out of line: it runs once
    /// for each match of the automaton, and inlined it held the registers of the structured pass's loop, which runs at
    /// every token.
    #[inline(never)]
    fn next_shape(&self, hay: &str, pos: usize, scan: &mut Scan<'_>) {
        let automaton = self.next_shaped(hay, pos, scan);
        let udi = match scan.udi {
            Some(Some((s, _, _))) if s < pos => self.next_udi(hay, pos, scan),
            Some(cached) => cached,
            None => self.next_udi(hay, pos, scan),
        };
        scan.udi = Some(udi);
        let found = match (automaton, udi) {
            (Some(a), Some(u)) if (u.0, u.2) < (a.0, a.2) => udi,
            (None, _) => udi,
            _ => automaton,
        };
        scan.shape = found;
        scan.limit = found.map_or(hay.len(), |(s, _, _)| s);
    }

    /// A structured pass's state over `hay`, with the first match of the shapes but tokens searched. `known_ascii`:
    /// see [`Analyzer::structured_with`].
    fn scan<'c>(&self, hay: &str, known_ascii: bool, cache: &'c mut Caches) -> Scan<'c> {
        debug_assert!(!known_ascii || hay.is_ascii());
        let ascii_letters = known_ascii || ascii_case_folding(hay);
        let mut scan = Scan { shape: None, limit: hay.len(), udi: None, ascii_letters, street_clear: (0, 0), cache };
        if !hay.is_empty() {
            self.next_shape(hay, 0, &mut scan);
        }
        scan
    }

    /// The leftmost match from `pos` of the shapes of `shaped`, as their own patterns would find it. A match of a
    /// loosened shape (see [`LOOSENED`]) stands where its own pattern or a later shape's matches at its start (the
    /// earlier shapes' patterns do not, or the automaton would have found them there); elsewhere the search goes on
    /// from the next char.
    fn next_shaped(&self, hay: &str, pos: usize, scan: &mut Scan<'_>) -> Option<(usize, usize, usize)> {
        let mut from = pos;
        loop {
            let input = Input::new(hay).span(from..hay.len());
            let ascii_letters = scan.ascii_letters;
            let settle = |pattern: PatternID, end| {
                let shape = self.shapes[self.shaped_ids[pattern.as_usize()]];
                start_by_hand(shape, hay.as_bytes(), from, end, ascii_letters)
            };
            let m = self.shaped.search_settled(&mut scan.cache.shaped, &input, settle)?;
            let (s, pid) = (m.start(), self.shaped_ids[m.pattern().as_usize()]);
            if !LOOSENED.contains(&self.shapes[pid]) {
                return Some((s, m.end(), pid));
            }
            if let Some(found) = self.loosened_at(hay, s, m.end(), pid, scan) {
                return Some(found);
            }
            from = next_char(hay, s);
        }
    }

    /// The match at `s` of a loosened shape's own pattern or of a later shape, where the automaton found the loosened
    /// pattern `pid` matching `s..end`.
    fn loosened_at(
        &self,
        hay: &str,
        s: usize,
        end: usize,
        pid: usize,
        scan: &mut Scan<'_>,
    ) -> Option<(usize, usize, usize)> {
        // Where a match cannot have used the part its loosened pattern widens, its own pattern matches there as the
        // loosened one did (the leftmost-first end of the first shape matching at its start), without a second
        // search: a phone number that starts with `(` or with two digits takes no `+1` or `1-` before its area
        // code, an IPv6 address that starts with a hex digit is no `::1`. Where the widened part is a digit whose
        // place the start settles (a phone number's `+1` or `1-`, an international number's country code), that digit
        // alone decides: the loosened pattern's ways to match there are the own pattern's, in the same order, when it
        // is one the own pattern takes, and none of them is otherwise.
        let b = hay.as_bytes();
        let digit_after_plus = || b.get(s + 1 + usize::from(b.get(s + 1).is_some_and(|&c| is_space(c)))).copied();
        let own = match self.shapes[pid] {
            Shape::Phone => match b[s] {
                b'+' => Some(digit_after_plus() == Some(b'1')),
                // `\b\d[\s.-]`: a digit alone before the area code.
                c if c.is_ascii_digit() && !b.get(s + 1).is_some_and(u8::is_ascii_digit) => Some(c == b'1'),
                _ => Some(true),
            },
            Shape::PhoneIntl => Some(digit_after_plus().is_some_and(|c| (b'2'..=b'9').contains(&c))),
            Shape::Ipv6 if b[s] != b':' => Some(true),
            _ => None,
        };
        if own == Some(true) {
            return Some((s, end, pid));
        }
        // The later shapes, and the own pattern unless its digit ruled it out, anchored at the start.
        let mut shapes =
            self.shaped_ids.iter().copied().skip_while(|&q| q != pid).skip(usize::from(own == Some(false)));
        shapes.find_map(|q| Some((s, self.anchored_match(hay, s, q, scan)?, q)))
    }

    /// The leftmost UDI from `pos`, as its pattern would find it: every UDI starts with `(01)`.
    fn next_udi(&self, hay: &str, pos: usize, scan: &mut Scan<'_>) -> Option<(usize, usize, usize)> {
        let pid = self.shapes.iter().position(|&s| s == Shape::Udi)?;
        let b = hay.as_bytes();
        let mut from = pos;
        // `memchr` for the bracket, then the rest of the literal: cheaper than `memmem` for `(01)` on notes, where a
        // bracket is rare enough.
        while let Some(found) = memchr::memchr(b'(', &b[from..]) {
            let start = from + found;
            if b[start..].starts_with(b"(01)")
                && let Some(end) = self.anchored_match(hay, start, pid, scan)
            {
                return Some((start, end, pid));
            }
            from = start + 1;
        }
        None
    }

    /// End of shape `pid`'s match anchored at `start`, as that shape's pattern alone would find it.
    fn anchored_match(&self, hay: &str, start: usize, pid: usize, scan: &mut Scan<'_>) -> Option<usize> {
        if pid == self.token_pid {
            let b = hay.as_bytes();
            if !scan.ascii_letters {
                let input = Input::new(hay).span(start..hay.len()).anchored(Anchored::Yes);
                return self.token.search(&input).map(|m| m.end());
            }
            let boundary = b[start].is_ascii_alphanumeric() && (start == 0 || !is_word_byte(b[start - 1]));
            return if boundary { token_at(b, start) } else { None };
        }
        // Most anchored searches follow a rejected match (a time `10:30:00` shaped like an IPv6 address tries every
        // later shape at its start); a shape that cannot start with the byte there is not searched.
        if !hay.as_bytes().get(start).is_none_or(|&b| self.first_bytes[pid][usize::from(b)]) {
            return None;
        }
        // Nor one whose first few bytes it can tell apart by hand: a rejected numeric date (`12.0-16`, a lab's
        // range) tried five more shapes at its digits, each a lazy-DFA search (its set-up is most of its cost there).
        let b = hay.as_bytes();
        match self.shapes[pid] {
            Shape::DateShort => return short_date_from(b, start),
            shape if !may_start_with(shape, b, start) => return None,
            _ => {}
        }
        let (in_exact, pattern) = self.patterns[pid];
        let input = Input::new(hay).span(start..hay.len()).anchored(Anchored::Pattern(pattern));
        if in_exact {
            self.exact.search(&mut scan.cache.exact, &input).map(|m| m.end())
        } else {
            self.shaped.search(&mut scan.cache.shaped, &input).map(|m| m.end())
        }
    }

    /// Candidates found by [`analyze`](Self::analyze)'s work up to and including `stage`, for the `throughput`
    /// example's per-stage timing (where the time of a call goes); not for callers.
    #[doc(hidden)]
    pub fn stage_candidates(&self, stage: Stage, text: &str) -> usize {
        let normalized = Normalized::with_ocr(text, false);
        let hay = normalized.as_str();
        let mut out = Vec::new();
        match stage {
            Stage::Normalize => return hay.len(),
            Stage::ShapesAutomaton => {
                let mut cache = self.caches.take();
                let mut pos = 0;
                while let Some(m) = self.shaped.search(&mut cache.shaped, &Input::new(hay).span(pos..hay.len())) {
                    out.extend(cand(m.start(), m.end(), EntityType::OtherId, 0.0));
                    pos = m.end().max(m.start() + 1);
                }
                self.caches.give(cache);
            }
            Stage::Structured => self.structured(hay, normalized.offsets_unchanged(), &mut out),
            Stage::Words => {
                self.structured(hay, normalized.offsets_unchanged(), &mut out);
                words_pass(hay, &mut out);
            }
        }
        out.len()
    }

    fn structured(&self, hay: &str, known_ascii: bool, out: &mut Vec<Candidate>) {
        let mut cache = self.caches.take();
        self.structured_with(hay, known_ascii, &mut cache, out);
        self.caches.give(cache);
    }

    /// The structured pass's candidates in `hay` into `out`. `known_ascii`: whether `hay` is known to be ASCII, as
    /// normalized text whose offsets are unchanged is (each of its bytes is one code point of the original): the
    /// pass then does not read the whole text to learn it (0.17% of all instructions on mixed notes, 0.28% on notes
    /// without PHI).
    fn structured_with(&self, hay: &str, known_ascii: bool, cache: &mut Caches, out: &mut Vec<Candidate>) {
        let mut pos = 0;
        let mut scan = self.scan(hay, known_ascii, cache);
        let token_pid = self.token_pid;
        while pos < hay.len() {
            let Some((s, e, pid)) = self.next_match(hay, pos, &mut scan) else { break };
            // Most matches are tokens, settled without looking their shape up (twice, bounds-checked).
            if pid == token_pid {
                pos = match classify(Shape::Token, hay, s, e) {
                    Some(c) => {
                        out.push(c);
                        c.end.max(s + 1)
                    }
                    None => e.max(s + 1),
                };
                continue;
            }
            if let Some(c) = classify(self.shapes[pid], hay, s, e) {
                pos = c.end.max(s + 1);
                out.push(c);
                continue;
            }
            // Rejected: give the lower-priority shapes their chance at the same start, then move on by one char.
            let mut accepted = None;
            let b = hay.as_bytes();
            for q in pid + 1..self.shapes.len() {
                // The address is searched only where [`street_word_follows`] says its pattern may match, as in
                // [`Analyzer::next_match`].
                if q == self.address_pid
                    && scan.ascii_letters
                    && !(b[s].is_ascii_digit() && street_word_follows(b, s, &mut scan.street_clear))
                {
                    continue;
                }
                if let Some(end) = self.anchored_match(hay, s, q, &mut scan)
                    && let Some(c) = classify(self.shapes[q], hay, s, end)
                {
                    accepted = Some(c);
                    break;
                }
            }
            match accepted {
                Some(c) => {
                    pos = c.end.max(s + 1);
                    out.push(c);
                }
                None => pos = next_char(hay, s),
            }
        }
    }
}

/// Whether `(?i)[a-z]` means exactly the ASCII letters in `hay`: Unicode case folding adds `ſ` (U+017F) and the
/// Kelvin sign (U+212A), which [`next_token`] does not know.
fn ascii_case_folding(hay: &str) -> bool {
    hay.is_ascii() || !(hay.contains('\u{17F}') || hay.contains('\u{212A}'))
}

/// Whether the address pattern may match at `start` (a digit) in text whose letters are ASCII (see
/// [`ascii_case_folding`]): its number (`\d{1,6}[a-z]?\s+`) stands there, and a street type (a word of
/// [`STREET_SUFFIX`]) starts the second to fifth word after it, or the sixth when the first is a direction (an
/// optional direction, one to four words, then the street type; a word is a run of non-space bytes, and those before
/// the street type hold only letters, digits, `'`, `.` and `-`). Numbers are dense in notes (one in 25 bytes) and street types are not (none in the benchmark's notes without
/// PHI), so this test, run at every number, must be cheap: a word is looked up only when a street type has its first
/// two letters and its length.
///
/// `clear` is a span where no number starts a street, noted by an earlier walk: one that stopped, without a street type,
/// at a word that ends in neither white space nor the text's end (`daily.` is such a word only before the end, `BID,`
/// always). A walk from any number after its first word reads only words that walk read (and looked up) up to that
/// same word, and stops there too: numbers follow one another closely (`Take 1 tablets every 7 hours as needed,`),
/// and their walks would read the same words again.
#[inline(never)]
fn street_word_follows(b: &[u8], start: usize, clear: &mut (usize, usize)) -> bool {
    if (clear.0..clear.1).contains(&start) {
        return false;
    }
    struct StreetTypes {
        /// By a street type's first and second letter (see `pair`), a bit for each length.
        shapes: [u16; 1024],
        /// Every street type, lower-cased, as one number (see `packed`).
        words: rustc_hash::FxHashSet<u128>,
    }
    // Two ASCII letters in either case as an index below 1024, from their low five bits (1 to 26 either way): no
    // case folding, subtraction or bounds check for each word.
    let pair = |first: u8, second: u8| usize::from(first & 31) << 5 | usize::from(second & 31);
    static STREET_TYPES: OnceLock<StreetTypes> = OnceLock::new();
    let types = STREET_TYPES.get_or_init(|| {
        let words = alternation_words(STREET_SUFFIX);
        let mut shapes = [0u16; 1024];
        for w in words.iter().map(String::as_bytes) {
            shapes[pair(w[0], w[1])] |= 1 << w.len();
        }
        StreetTypes { shapes, words: words.iter().map(|w| packed_lower(w.as_bytes())).collect() }
    });
    // What a byte is to the walk below, by one table load; a run of bytes is one of the kinds in a mask.
    const SPACE: u8 = 1;
    const LETTER: u8 = 2;
    const IN_WORD: u8 = 4;
    static KIND: [u8; 256] = {
        let mut table = [0; 256];
        let mut c = 0;
        while c < 256 {
            let byte = c as u8;
            table[c] = match byte {
                b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r' => SPACE,
                b'a'..=b'z' | b'A'..=b'Z' => LETTER,
                b'0'..=b'9' | b'\'' | b'.' | b'-' => IN_WORD,
                _ => 0,
            };
            c += 1;
        }
        table
    };
    // Plain index loops, and letters read eight at a time: the walk runs at every number followed by a space (a
    // third of them), over a fifth of the bytes of notes without PHI.
    let kind = |at: usize| KIND[usize::from(b[at])];
    let run = |mut at: usize, mask: u8| {
        while at < b.len() && kind(at) & mask != 0 {
            at += 1;
        }
        at
    };
    let mut at = start;
    while at < b.len() && b[at].is_ascii_digit() {
        at += 1;
    }
    if at - start > 6 {
        return false;
    }
    if at < b.len() && kind(at) == LETTER {
        at += 1;
    }
    if at == b.len() || kind(at) != SPACE {
        return false;
    }
    // The street type is the second to fifth word, or the sixth after a direction (`N.`, `west`) as the first. Every
    // word is entered past the white space byte tested where the last one ended, and the first word, never a street
    // type, is read apart without its letters counted and compared with the directions only at their lengths: the
    // walk, out of line so that the structured pass's loop does not hold its registers, cost 15.0M instructions instead
    // of 17.8M on 2,000 notes without PHI.
    let stops = |at: usize| at == b.len() || kind(at) != SPACE;
    at = run(at + 1, SPACE);
    let first_word = at;
    at = run(letters_end(b, at), LETTER | IN_WORD);
    if at == first_word || stops(at) {
        *clear = (first_word, at);
        return false;
    }
    let first = &b[first_word..at];
    let letter = |c: u8| matches!(c | 0x20, b'n' | b's' | b'e' | b'w');
    // The directions of four and five letters are compared one by one, where a loop over them was a call.
    let direction = match first {
        [c] | [c, b'.'] => letter(*c),
        [_, _, _, _] | [_, _, _, _, _] => {
            first.eq_ignore_ascii_case(b"north")
                || first.eq_ignore_ascii_case(b"south")
                || first.eq_ignore_ascii_case(b"east")
                || first.eq_ignore_ascii_case(b"west")
        }
        _ => false,
    };
    // Words 2 to 5, or to 6 after a direction.
    for _ in 0..if direction { 5 } else { 4 } {
        at = run(at + 1, SPACE);
        let word = at;
        // The word's first eight bytes, read once for its letters and its first two (most words are shorter).
        let lengths = match b.get(word..word + 8) {
            Some(chunk) => {
                let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                let others = !bytes_in_range(x | CASE_BITS, b'a', b'z') & HIGH_BITS;
                at = if others != 0 { word + (others.trailing_zeros() / 8) as usize } else { letters_end(b, word + 8) };
                types.shapes[pair(x as u8, (x >> 8) as u8)]
            }
            None => {
                at = letters_end(b, word);
                if at - word >= 2 { types.shapes[pair(b[word], b[word + 1])] } else { 0 }
            }
        };
        if (2..=10).contains(&(at - word)) && lengths >> (at - word) & 1 == 1 && street_type(&types.words, &b[word..at])
        {
            return true;
        }
        // Most words are letters up to a space (never at `word`, past the white space): read on only after others.
        if !(at < b.len() && kind(at) == SPACE) {
            at = run(at, LETTER | IN_WORD);
            if at == word || stops(at) {
                *clear = (first_word, at);
                return false;
            }
        }
    }
    false
}

/// Whether `word` is one of `types` (as [`packed_lower`] keys). Out of line: one word in twenty that
/// [`street_word_follows`] steps over has a street type's first letters and length, and inlined, the set's table and
/// constants were set up by every walk past its first word (30,000 of 48,500 on 2,000 notes without PHI).
#[inline(never)]
fn street_type(types: &rustc_hash::FxHashSet<u128>, word: &[u8]) -> bool {
    types.contains(&packed_lower(word))
}

/// Length of the run of ASCII letters that ends at `at`.
fn letters_before(b: &[u8], at: usize) -> usize {
    b[..at].iter().rev().take_while(|c| c.is_ascii_alphabetic()).count()
}

/// Up to sixteen ASCII letters, lower-cased, as one number: a key for a set of short words.
fn packed_lower(word: &[u8]) -> u128 {
    word.iter().fold(0u128, |n, &c| (n << 8) | u128::from(c | 0x20))
}

/// A word a state-and-ZIP match may have before its separator: a state's code, or the last word of state names.
#[derive(Default)]
struct StateWord {
    /// The state names that end with the word.
    names: Vec<&'static str>,
    /// Whether the word is a state's code.
    code: bool,
}

/// The states' codes and the last words of their names, by the word as a [`packed_lower`] key.
fn state_words() -> &'static rustc_hash::FxHashMap<u128, StateWord> {
    static WORDS: OnceLock<rustc_hash::FxHashMap<u128, StateWord>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = rustc_hash::FxHashMap::<u128, StateWord>::default();
        for code in state_abbreviations() {
            words.entry(packed_lower(code.as_bytes())).or_default().code = true;
        }
        for name in state_names() {
            let last = name.rsplit(' ').next().unwrap_or(name);
            words.entry(packed_lower(last.as_bytes())).or_default().names.push(name);
        }
        words
    })
}

/// End of the run of ASCII letters from `at`, read eight bytes at a time.
fn letters_end(b: &[u8], mut at: usize) -> usize {
    while let Some(chunk) = b.get(at..at + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let others = !bytes_in_range(x | CASE_BITS, b'a', b'z') & HIGH_BITS;
        if others != 0 {
            return at + (others.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < b.len() && b[at].is_ascii_alphabetic() {
        at += 1;
    }
    at
}

/// End of the short date `\b\d{1,2}/(?:\d{1,2}|(?:19|20)\d{2})\b` (`[`Shape::DateShort`]`'s pattern) at the start of
/// the token `s..e`, if any: its one or two digits are the token, and the digits after the slash are one or two, or
/// four starting with 19 or 20, with no word byte after them. Most short dates of a note are doses and scores (`1/2
/// tab`, `pain 4/10`) that the classifier turns away: matched here, they no longer stop the shapes automaton (a
/// forward and a reverse search and a new search each). `inline(always)`: every token of a note is tested, and with
/// a second caller the compiler made it a call.
#[inline(always)]
fn short_date_at(b: &[u8], s: usize, e: usize) -> Option<usize> {
    if !(1..=2).contains(&(e - s)) || b.get(e) != Some(&b'/') || !b[s..e].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let from = e + 1;
    let end = from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(end).is_some_and(|&c| is_word_byte(c)) {
        return None;
    }
    match end - from {
        1 | 2 => Some(end),
        4 if b[from..].starts_with(b"19") || b[from..].starts_with(b"20") => Some(end),
        _ => None,
    }
}

/// End of the short date (see [`short_date_at`]) anchored at `start`: the pattern's `\b` before its one or two
/// digits, which are all of their run.
fn short_date_from(b: &[u8], start: usize) -> Option<usize> {
    let boundary = start == 0 || !is_word_byte(b[start - 1]);
    // Three digits or none are no short date's first part, which `short_date_at` checks.
    if boundary { short_date_at(b, start, start + leading_digits(b, start, 3)) } else { None }
}

/// Whether an MBI, an IBAN or a day of the month before its month may start at `s`, in text whose letters are ASCII
/// (see [`ascii_case_folding`]), from its first few bytes: false only where none of their patterns can match there
/// (see [`Analyzer::token_shape_at`]). Run at every token, most of them numbers that none starts (`120/80`,
/// `2023-01-06`): one or two digits and a byte that is no letter, white space or `-` are turned away after a table
/// load for each.
fn token_shape_may_start(b: &[u8], s: usize) -> bool {
    const DIGIT: u8 = 1;
    const LETTER: u8 = 2;
    /// White space or `-`.
    const SEPARATOR: u8 = 4;
    static KIND: [u8; 256] = {
        let mut table = [0; 256];
        let mut c = 0;
        while c < 256 {
            table[c] = match c as u8 {
                b'0'..=b'9' => DIGIT,
                b'a'..=b'z' | b'A'..=b'Z' => LETTER,
                b' ' | b'\t'..=b'\r' | b'-' => SEPARATOR,
                _ => 0,
            };
            c += 1;
        }
        table
    };
    // Five bytes read at once; fewer are left only at the text's end, where the patterns decide.
    let Some(&[c0, c1, c2, c3, c4]) = b.get(s..s + 5) else { return true };
    let kind = |c: u8| KIND[usize::from(c)];
    if kind(c0) == LETTER {
        // `\b[a-z]{2}\d{2}`.
        return kind(c1) == LETTER && kind(c2) == DIGIT && kind(c3) == DIGIT;
    }
    // `\b[1-9][a-z][a-z0-9]\d`, or `\d{1,2}` and an ordinal's or a month's first two letters, or white space or `-`
    // before them (or `of`); a number's digits and the byte after them turn most tokens away.
    let (c, next, after) = match kind(c1) {
        DIGIT => (c2, c3, c4),
        LETTER => return kind(c3) == DIGIT || day_month_pair(c1, c2),
        SEPARATOR => (c1, c2, c3),
        _ => return false,
    };
    match kind(c) {
        LETTER => day_month_pair(c, next),
        SEPARATOR => kind(next) == SEPARATOR || day_month_pair(next, after),
        _ => false,
    }
}

/// Whether `first` and `second` may be the first two letters of a month (of [`MONTHS`]), of an ordinal's suffix or of
/// `of`: one table load. The bytes are taken by their low five bits (a letter's place in the alphabet in either case),
/// so a few pairs of other bytes pass too.
fn day_month_pair(first: u8, second: u8) -> bool {
    const PAIRS: [[u8; 2]; 15] = [
        *b"ja", *b"fe", *b"ma", *b"ap", *b"ju", *b"au", *b"se", *b"oc", *b"no", *b"de", *b"st", *b"nd", *b"rd", *b"th",
        *b"of",
    ];
    static TABLE: [u32; 32] = {
        let mut table = [0; 32];
        let mut i = 0;
        while i < PAIRS.len() {
            table[(PAIRS[i][0] & 31) as usize] |= 1 << (PAIRS[i][1] & 31);
            i += 1;
        }
        table
    };
    TABLE[usize::from(first & 31)] >> (second & 31) & 1 != 0
}

/// Whether the day-and-month date's `(?i)\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?[\s-]*` and the first three letters of a
/// month (of [`MONTHS`]) stand at `start`, in text whose letters are ASCII (see [`ascii_case_folding`]): false only
/// where its pattern cannot match there. No month starts with an ordinal's letters or with `of`, so each optional
/// part is taken exactly where its letters are there. Run at most numbers, where a number and a word (`5 mg`) are
/// common and a month after them is not.
fn month_may_follow(b: &[u8], start: usize) -> bool {
    let digits = leading_digits(b, start, 3);
    if !(1..=2).contains(&digits) {
        return false;
    }
    // A byte `| 0x20` is a lower-case letter only where the byte is that letter in either case.
    let lower = |at: usize| b.get(at).map_or(0, |&c| c | 0x20);
    let space = |at: usize| b.get(at).is_some_and(|&c| is_space(c));
    let mut at = start + digits;
    if matches!([lower(at), lower(at + 1)], [b's', b't'] | [b'n' | b'r', b'd'] | [b't', b'h']) {
        at += 2;
    }
    if space(at) {
        while space(at) {
            at += 1;
        }
        if [lower(at), lower(at + 1)] == *b"of" {
            at += 2;
        }
    }
    while space(at) || b.get(at) == Some(&b'-') {
        at += 1;
    }
    matches!(
        &[lower(at), lower(at + 1), lower(at + 2)],
        b"jan" | b"feb" | b"mar" | b"apr" | b"may" | b"jun" | b"jul" | b"aug" | b"sep" | b"oct" | b"nov" | b"dec"
    )
}

/// How many ASCII digits `b` has from `start`, counting at most `max`.
fn leading_digits(b: &[u8], start: usize, max: usize) -> usize {
    b[start..].iter().take(max).take_while(|c| c.is_ascii_digit()).count()
}

/// Whether `shape`'s pattern may match at `start`, from its first bytes, for the shapes a rejected match's start
/// (most often a number's) is offered to: false only where the pattern cannot match there. Bytes from 0x80 may be
/// letters under `(?i)` (`ſ`, the Kelvin sign) and are never ruled out.
fn may_start_with(shape: Shape, b: &[u8], start: usize) -> bool {
    fn digit(c: u8) -> bool {
        c.is_ascii_digit()
    }
    fn space(c: u8) -> bool {
        matches!(c, b' ' | b'\t'..=b'\r')
    }
    let at = |i: usize| b.get(start + i).copied();
    let is = |i: usize, f: fn(u8) -> bool| at(i).is_some_and(f);
    match shape {
        // `\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?[\s-]*{month}`: one or two digits, then a letter, white space or `-`.
        Shape::DateDayMonth if is(0, digit) => {
            let digits = leading_digits(b, start, 3);
            digits <= 2 && is(digits, |c| c.is_ascii_alphabetic() || c == b'-' || c >= 0x80 || space(c))
        }
        // `\b\d(?:[ -]?\d){12,18}\b`: thirteen digits at least among digits, spaces and dashes.
        Shape::Card => {
            let run = b[start..].iter().take_while(|&&c| c.is_ascii_digit() || c == b' ' || c == b'-');
            run.filter(|c| c.is_ascii_digit()).nth(12).is_some()
        }
        // `\b\d{3}[- ]\d{2}[- ]\d{4}\b` (the masked form starts with `x` or `*`).
        Shape::Ssn if is(0, digit) => is(1, digit) && is(2, digit) && matches!(at(3), Some(b'-' | b' ')),
        // `(?:\+\s?1[\s.-]?|\b1[\s.-])?(?:\(\s?\d{3}\s?\)|\b\d{3})`: at a digit, a `1` and a separator or three digits.
        Shape::Phone if is(0, digit) => {
            (at(0) == Some(b'1') && is(1, |c| space(c) || c == b'.' || c == b'-')) || (is(1, digit) && is(2, digit))
        }
        // `\+\s?[2-9]`.
        Shape::PhoneIntl => {
            let country = |c: u8| (b'2'..=b'9').contains(&c);
            at(0) != Some(b'+') || is(1, country) || (is(1, space) && is(2, country))
        }
        _ => true,
    }
}

/// Start of the match of `shape` ending at `end` that the shapes automaton (`shaped`) found searching from `from`,
/// read back from its end where the shape's form settles it; `None` leaves it to the reverse search. `ascii_letters`:
/// see [`ascii_case_folding`].
///
/// Each answer is the reverse search's. The forward search's match starts at the leftmost position from `from` where
/// any shape matches, S, and is a match of `shape` ending at `end`; so a position where every match of `shape` ending
/// at `end` must start is S, and so is the first position, from one where no match of `shape` can start before, at
/// which `shape`'s pattern matches at all (no shape matches before S). A walk that meets a byte from 0x80 gives up:
/// under `(?i)` `ſ` and the Kelvin sign are letters of some patterns. A test holds the answers to the reverse search's.
/// The reverse search costs as much as the forward one for each match (a lazy DFA walk of dependent loads), for a
/// start most shapes tell in a few byte tests.
fn start_by_hand(shape: Shape, b: &[u8], from: usize, end: usize, ascii_letters: bool) -> Option<usize> {
    match shape {
        Shape::Url if ascii_letters => url_start(b, from, end),
        Shape::Email => email_start(b, from, end),
        Shape::Ipv4 => ipv4_start(b, from, end),
        Shape::DateNumeric => numeric_date_start(b, from, end),
        Shape::DateWritten => written_date_start(b, from, end),
        Shape::Phone => phone_start(b, from, end),
        // The loosened `\+\s?\d\d{0,2}[\s.-]?...`: its one `+` starts it.
        Shape::PhoneIntl => memchr::memrchr(b'+', &b[from..end]).map(|p| from + p),
        // `\b\d{3}[- ]\d{2}[- ]\d{4}\b`, or `xxx-xx-` or `***-**-` and four digits: eleven ASCII bytes.
        Shape::Ssn => Some(end - 11),
        Shape::Ipv6 => ipv6_start(b, from, end),
        Shape::Card => card_start(b, from, end),
        _ => None,
    }
}

/// Whether the ASCII `\b` holds at `at`.
fn word_boundary(b: &[u8], at: usize) -> bool {
    (at > 0 && is_word_byte(b[at - 1])) != b.get(at).is_some_and(|&c| is_word_byte(c))
}

/// What a byte is to the walks of [`start_by_hand`], by one table load: a bit for each set of bytes a walk crosses.
mod start_bytes {
    /// A digit or one of `-/.:TZ+` (a numeric date's bytes).
    pub const NUMERIC_DATE: u8 = 1;
    /// A digit, white space or one of `.-()+` (a phone number's bytes but its extension's word).
    pub const NUMBER: u8 = 2;
    /// A byte of an e-mail address's local part (`[a-z0-9!#$%&'*+/?^_`{|}~.-]`, ASCII).
    pub const LOCAL_PART: u8 = 4;
    /// An ASCII letter.
    pub const LETTER: u8 = 16;
    /// An ASCII digit.
    pub const DIGIT: u8 = 32;
    /// A byte from 0x80, which may be part of `ſ` or the Kelvin sign (letters under `(?i)`): the walks give up there.
    pub const HIGH: u8 = 64;

    pub static KIND: [u8; 256] = {
        let mut table = [0; 256];
        let mut c = 0;
        while c < 256 {
            let byte = c as u8;
            let digit = byte.is_ascii_digit();
            let letter = byte.is_ascii_alphabetic();
            let mut kind = 0;
            if digit || matches!(byte, b'-' | b'/' | b'.' | b':' | b'T' | b'Z' | b'+') {
                kind |= NUMERIC_DATE;
            }
            if digit || matches!(byte, b' ' | b'\t'..=b'\r' | b'.' | b'-' | b'(' | b')' | b'+') {
                kind |= NUMBER;
            }
            if digit
                || letter
                || matches!(byte, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'/' | b'?' | b'^' | b'_')
                || matches!(byte, b'`' | b'{' | b'|' | b'}' | b'~' | b'.' | b'-')
            {
                kind |= LOCAL_PART;
            }
            if letter {
                kind |= LETTER;
            }
            if digit {
                kind |= DIGIT;
            }
            if byte >= 0x80 {
                kind |= HIGH;
            }
            table[c] = kind;
            c += 1;
        }
        table
    };

    /// Start of the run of bytes of `kinds` that ends at `at`, not before `from`.
    pub fn run_start(b: &[u8], from: usize, at: usize, kinds: u8) -> usize {
        at - b[from..at].iter().rev().take_while(|&&c| KIND[usize::from(c)] & kinds != 0).count()
    }

    /// Start of the run that ends at `at` (not before `from`) of bytes of none of `kinds` (and below 0x80), or `None`
    /// where a byte from 0x80 ends it.
    pub fn run_start_outside(b: &[u8], from: usize, at: usize, kinds: u8) -> Option<usize> {
        let start = run_start_kinds_outside(b, from, at, kinds | HIGH);
        (start == from || KIND[usize::from(b[start - 1])] & HIGH == 0).then_some(start)
    }

    fn run_start_kinds_outside(b: &[u8], from: usize, at: usize, kinds: u8) -> usize {
        at - b[from..at].iter().rev().take_while(|&&c| KIND[usize::from(c)] & kinds == 0).count()
    }
}

/// See [`start_by_hand`], for text whose `(?i)` letters are ASCII. Every byte of a web address is outside white space
/// and ``<>"'` `` (the pattern's `[^\s<>"'`]`, which holds its scheme's and host's bytes too), and it starts at a letter
/// or digit after a word boundary: the first such position of that run where [`url_at`] matches.
fn url_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    let low = end - b[from..end].iter().rev().take_while(|&&c| !url_excluded(c)).count();
    (low..end).find(|&p| is_alnum(b[p]) && (p == 0 || !is_word_byte(b[p - 1])) && url_at(b, p))
}

/// Whether the byte `c` is outside the URL pattern's `[^\s<>"'`]` (a byte from 0x80 starts a char inside it).
fn url_excluded(c: u8) -> bool {
    is_space(c) || matches!(c, b'<' | b'>' | b'"' | b'\'' | b'`')
}

/// Whether [`Shape::Url`]'s pattern matches at `p` (an ASCII letter or digit after a word boundary) in text whose
/// `(?i)` letters are ASCII: a scheme (`http://`, `https://`, `ftp://`, `sftp://`) or `www.` and a byte of the
/// address after it, or `[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.` and a TLD of the pattern with a word boundary after
/// it. A host's labels end only at dots, so every dot up to the first empty label (or other byte) is tried.
fn url_at(b: &[u8], p: usize) -> bool {
    let rest = &b[p..];
    let scheme = ["http://", "https://", "ftp://", "sftp://", "www."].iter().any(|x| {
        rest.len() > x.len() && rest[..x.len()].eq_ignore_ascii_case(x.as_bytes()) && !url_excluded(rest[x.len()])
    });
    if scheme {
        return true;
    }
    const TLDS: [&str; 13] =
        ["com", "org", "net", "edu", "gov", "io", "us", "health", "info", "biz", "care", "clinic", "med"];
    let label = |c: u8| is_alnum(c) || c == b'-';
    let tld_at = |at: usize| {
        TLDS.iter().any(|t| {
            b.get(at..at + t.len()).is_some_and(|w| w.eq_ignore_ascii_case(t.as_bytes()))
                && b.get(at + t.len()).is_none_or(|&c| !is_word_byte(c))
        })
    };
    let mut at = p + 1;
    loop {
        while at < b.len() && label(b[at]) {
            at += 1;
        }
        if b.get(at) != Some(&b'.') {
            return false;
        }
        if tld_at(at + 1) {
            return true;
        }
        at += 1;
        if !b.get(at).is_some_and(|&c| label(c)) {
            return false;
        }
    }
}

/// See [`start_by_hand`]. `\b[a-z0-9!#$%&'*+/?^_`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+`: the match's one `@` is the
/// last before its end, and it starts at the first word boundary of the run of local-part bytes before the `@`.
fn email_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    let at = from + memchr::memrchr(b'@', &b[from..end])?;
    let run = start_bytes::run_start(b, from, at, start_bytes::LOCAL_PART);
    if run > from && b[run - 1] >= 0x80 {
        return None;
    }
    (run..at).find(|&p| word_boundary(b, p))
}

/// See [`start_by_hand`]. `\b(?:\d{1,3}\.){3}\d{1,3}\b`: four runs of one to three digits joined by dots, the first
/// all of its run (a word boundary before it).
fn ipv4_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    let mut at = end;
    for group in 0..4 {
        let run = start_bytes::run_start(b, from, at, start_bytes::DIGIT);
        if !(1..=3).contains(&(at - run)) {
            return None;
        }
        at = run;
        if group < 3 {
            if at == from || b[at - 1] != b'.' {
                return None;
            }
            at -= 1;
        }
    }
    word_boundary(b, at).then_some(at)
}

/// See [`start_by_hand`]. Every byte of an IPv6 address is a hex digit or a colon (no other char folds to `[a-f]`
/// under `(?i)`), and no address is longer than 48 bytes (eight groups of four, seven `::` and a trailing `::`): the
/// first position of that run, not more than 48 bytes before the end, where the loosened pattern (see
/// [`digit_shape`]) matches all of the rest, read by [`loose_ipv6_spans`].
fn ipv6_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    let run = b[from..end].iter().rev().take_while(|&&c| c == b':' || c.is_ascii_hexdigit()).count();
    (end - run.min(48)..end).find(|&p| loose_ipv6_spans(b, p, end))
}

/// Whether the loosened IPv6 pattern `(?i)(?:\b[0-9a-f]{1,4}(?:::?[0-9a-f]{1,4}){2,7}|::[0-9a-f]{1,4}(?:::?[0-9a-f]
/// {1,4}){1,6})(?:::)?|::\d\b` matches all of `p..end`. Groups of hex digits are joined by one or two colons, so
/// the runs of hex digits are its groups, and a trailing `::` is the optional one.
fn loose_ipv6_spans(b: &[u8], p: usize, end: usize) -> bool {
    let t = &b[p..end];
    if let [b':', b':', d] = *t
        && d.is_ascii_digit()
        && b.get(end).is_none_or(|&c| !is_word_byte(c))
    {
        return true;
    }
    let (groups, range) = match t.strip_prefix(b"::") {
        Some(rest) => (rest, 2..=7),
        None if word_boundary(b, p) => (t, 3..=8),
        None => return false,
    };
    let groups = groups.strip_suffix(b"::").unwrap_or(groups);
    let mut count = 0;
    let mut i = 0;
    loop {
        let hex = groups[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if !(1..=4).contains(&hex) {
            return false;
        }
        count += 1;
        i += hex;
        if i == groups.len() {
            return range.contains(&count);
        }
        let colons = groups[i..].iter().take_while(|&&c| c == b':').count();
        if !(1..=2).contains(&colons) {
            return false;
        }
        i += colons;
    }
}

/// See [`start_by_hand`]. `\b\d(?:[ -]?\d){12,18}\b`: digits, one space or `-` at most between two of them; the
/// leftmost digit of that walk back from the end after a word boundary with 13 to 19 digits from it.
fn card_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    let (mut at, mut digits, mut start) = (end, 0, None);
    while at > from && b[at - 1].is_ascii_digit() && digits < 19 {
        at -= 1;
        digits += 1;
        if digits >= 13 && (at == 0 || !is_word_byte(b[at - 1])) {
            start = Some(at);
        }
        if at >= from + 2 && matches!(b[at - 1], b' ' | b'-') && b[at - 2].is_ascii_digit() {
            at -= 1;
        }
    }
    start
}

/// See [`start_by_hand`]. Every byte of a numeric date is a digit or one of `-/.:TZ+`, and it starts at a digit after
/// a word boundary: the first such digit of that run where [`numeric_date_at`] matches.
fn numeric_date_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    let low = start_bytes::run_start(b, from, end, start_bytes::NUMERIC_DATE);
    (low..end).find(|&p| b[p].is_ascii_digit() && (p == 0 || !is_word_byte(b[p - 1])) && numeric_date_at(b, p))
}

/// Whether [`Shape::DateNumeric`]'s pattern matches at `p` (a digit after a word boundary):
/// `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}` (the rest of the ISO form is optional), `\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b` or
/// `\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b`. Each group of digits but the ISO form's last is all of its run (a
/// separator or a boundary follows it), so run lengths decide.
fn numeric_date_at(b: &[u8], p: usize) -> bool {
    let digits = |at: usize| b.get(at..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
    let sep = |at: usize| matches!(b.get(at), Some(b'-' | b'/' | b'.'));
    // The second and third groups from `at`: `\d{1,2}[-/.]` and one of `last` digits, then a boundary.
    let groups = |at: usize, last: [usize; 2]| {
        let second = digits(at);
        let third = at + second + 1;
        let n = digits(third);
        (1..=2).contains(&second)
            && sep(at + second)
            && last.contains(&n)
            && b.get(third + n).is_none_or(|&c| !is_word_byte(c))
    };
    match digits(p) {
        4 if b.get(p + 4) == Some(&b'-') && b.get(p + 10) == Some(&b'T') => {
            let iso = b.get(p..p + 16).is_some_and(|t| {
                t.iter().zip(b"dddd-dd-ddTdd:dd").all(|(&c, &f)| if f == b'd' { c.is_ascii_digit() } else { c == f })
            });
            iso || groups(p + 5, [1, 2])
        }
        4 => sep(p + 4) && groups(p + 5, [1, 2]),
        first @ 1..=2 => sep(p + first) && groups(p + first + 1, [2, 4]),
        _ => false,
    }
}

/// See [`start_by_hand`]. `(?i)\b{month}\b\.?` and a day, a year or both: the only letters after the month's word are
/// ordinal suffixes right after a day's digits, so the month's word is the last run of letters not after a digit.
fn written_date_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    use start_bytes::{LETTER, run_start, run_start_outside};
    let mut at = end;
    loop {
        at = run_start_outside(b, from, at, LETTER)?;
        if at == from {
            return None;
        }
        at = run_start(b, from, at, LETTER);
        match at.checked_sub(1).map(|i| b[i]) {
            Some(c) if c.is_ascii_digit() && at > from => {}
            Some(c) if is_word_byte(c) || c >= 0x80 => return None,
            _ => return Some(at),
        }
    }
}

/// See [`start_by_hand`]. Every byte of a phone number before its extension is a digit, white space or one of
/// `.-()+`, and so is every byte of the extension but its word (`x`, `ext` or `extension`): the first position of
/// that run (across that word) where [`loose_phone_at`] matches.
fn phone_start(b: &[u8], from: usize, end: usize) -> Option<usize> {
    use start_bytes::{LETTER, NUMBER, run_start};
    let mut low = run_start(b, from, end, NUMBER);
    let word = low - run_start(b, from, low, LETTER);
    let extension = |w: &[u8]| ["x", "ext", "extension"].iter().any(|x| w.eq_ignore_ascii_case(x.as_bytes()));
    if word > 0 && extension(&b[low - word..low]) {
        low = run_start(b, from, low - word, NUMBER);
    }
    (low..end).find(|&p| loose_phone_at(b, p))
}

/// Whether the loosened phone pattern (see [`digit_shape`]) matches at `p`:
/// `(?:\+\s?\d[\s.-]?|\b\d[\s.-])?(?:\(\s?\d{3}\s?\)|\b\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b` (the extension after it is
/// optional). Each optional part is taken exactly where the byte it would read is there (no digit is a separator, a
/// space or a bracket), so one walk decides.
fn loose_phone_at(b: &[u8], p: usize) -> bool {
    let at = |i: usize| b.get(i).copied();
    let digits = |i: usize, n: usize| b.get(i..i + n).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let space = |i: usize| at(i).is_some_and(is_space);
    let sep = |i: usize| at(i).is_some_and(|c| is_space(c) || c == b'.' || c == b'-');
    let boundary = |i: usize| i == 0 || !is_word_byte(b[i - 1]);
    let mut q = p;
    if at(q) == Some(b'+') {
        q += 1 + usize::from(space(q + 1));
        if !digits(q, 1) {
            return false;
        }
        q += 1 + usize::from(sep(q + 1));
    } else if digits(q, 1) && boundary(q) && sep(q + 1) {
        q += 2;
    }
    if at(q) == Some(b'(') {
        q += 1 + usize::from(space(q + 1));
        if !digits(q, 3) {
            return false;
        }
        q += 3 + usize::from(space(q + 3));
        if at(q) != Some(b')') {
            return false;
        }
        q += 1;
    } else if digits(q, 3) && boundary(q) {
        q += 3;
    } else {
        return false;
    }
    q += usize::from(sep(q));
    if !digits(q, 3) {
        return false;
    }
    q += 3 + usize::from(sep(q + 3));
    digits(q, 4) && at(q + 4).is_none_or(|c| !is_word_byte(c))
}

/// Whether `c` is white space as the patterns' ASCII `\s` means it.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t'..=b'\r')
}

fn is_word_byte(b: u8) -> bool {
    is_alnum(b) || b == b'_'
}

/// Whether `b` is an ASCII letter or digit, by one table load: the byte loops of the token scan and of the walk
/// back from a value to its label run this test on most bytes of a note.
fn is_alnum(b: u8) -> bool {
    static ALNUM: [bool; 256] = {
        let mut table = [false; 256];
        let mut c = 0;
        while c < 256 {
            table[c] = (c as u8).is_ascii_alphanumeric();
            c += 1;
        }
        table
    };
    ALNUM[usize::from(b)]
}

/// End of the maximal run of ASCII letters and digits from `at`.
fn alnum_end(b: &[u8], mut at: usize) -> usize {
    while at < b.len() && is_alnum(b[at]) {
        at += 1;
    }
    at
}

/// Index of the first ASCII digit in `b`, read sixteen bytes a step: the token scan crosses all the text between
/// numbers this way, so a byte-by-byte search was a sizeable part of the structured pass.
fn first_digit(b: &[u8]) -> Option<usize> {
    let digits = |chunk: &[u8]| lowest_digits(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
    let mut chunks = b.chunks_exact(16);
    let mut at = 0;
    // Sixteen bytes a step, one branch for both halves: the text between two numbers is 25 bytes on average.
    for chunk in &mut chunks {
        let (low, high) = (digits(&chunk[..8]), digits(&chunk[8..]));
        if low | high != 0 {
            let first = if low != 0 { low.trailing_zeros() } else { 64 + high.trailing_zeros() };
            return Some(at + (first / 8) as usize);
        }
        at += 16;
    }
    let rest = chunks.remainder();
    if let Some(half) = rest.get(..8) {
        let low = digits(half);
        if low != 0 {
            return Some(at + (low.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b[at..].iter().position(u8::is_ascii_digit).map(|p| at + p)
}

/// The high bit of each byte of `x` (eight bytes, the first lowest) that is an ASCII digit, exact up to and including
/// the first such byte (a digit's borrow may set the bits of bytes after it), and none when no byte is a digit: all
/// that [`first_digit`] reads. Four operations where [`bytes_in_range`] takes seven: a byte is a digit where its
/// difference with `'0'` is below ten, and bytes from 0x80 (whose difference is too) are masked out.
fn lowest_digits(x: u64) -> u64 {
    let offset = x ^ (LOW_BITS * u64::from(b'0'));
    offset.wrapping_sub(LOW_BITS * 10) & !offset & HIGH_BITS
}

/// The leftmost match, starting before `limit`, of the token pattern
/// `(?i)\b(?:[a-z]{1,10}-){0,3}[a-z0-9]*\d[a-z0-9]*(?:-[a-z0-9]+)*\b` (ASCII `\b`, ASCII letters), with the regex
/// engine's leftmost-first semantics. Hand-written because this shape matches every number of a note: as part of the
/// multi-pattern regex it made the search stop, and run backwards for the start, at each of them.
fn next_token(b: &[u8], pos: usize, limit: usize) -> Option<(usize, usize)> {
    let mut from = pos;
    loop {
        // Every token holds a digit; the first digit from `from` lies in the body run of the leftmost token, or
        // no token starts before the end of its run.
        let digit = from + first_digit(b.get(from..)?)?;
        let mut run = digit;
        while run > from && is_alnum(b[run - 1]) {
            run -= 1;
        }
        // Few runs have a `-` right before them: the prefixes are read apart.
        if run >= from + 2
            && b[run - 1] == b'-'
            && let Some(found) = prefixed_token(b, from, run, limit)
        {
            return found;
        }
        if run >= limit {
            return None;
        }
        // At the run itself `token_at` would take no prefix (its letters end at a letter or digit of the run, not at
        // a `-`) and its body would read the same run again: the run's end is read once, here.
        let run_end = alnum_end(b, digit);
        if (run == 0 || !is_word_byte(b[run - 1]))
            && let Some(end) = token_tail(b, run_end)
        {
            return Some((run, end));
        }
        from = run_end;
    }
}

/// [`next_token`]'s answer from the prefixes `[a-z]{1,10}-` right before the alphanumeric run at `run` (up to three,
/// `PIC-BX-240403`, each all of a letter run: a shorter one is not at a boundary), the leftmost start tried first;
/// `None` when none starts a token there. Out of line: with the prefixes' array in [`next_token`], every number of a
/// note paid for zeroing it.
#[cold]
#[inline(never)]
fn prefixed_token(b: &[u8], from: usize, run: usize, limit: usize) -> Option<Option<(usize, usize)>> {
    let mut prefixes = [0usize; 3];
    let mut n = 0;
    let mut at = run;
    while n < 3 && at >= from + 2 && b[at - 1] == b'-' {
        let mut p = at - 1;
        while p > from && b[p - 1].is_ascii_alphabetic() {
            p -= 1;
        }
        if !(1..=10).contains(&(at - 1 - p)) {
            break;
        }
        prefixes[n] = p;
        n += 1;
        at = p;
    }
    for &start in prefixes[..n].iter().rev() {
        if start >= limit {
            return Some(None);
        }
        if (start == 0 || !is_word_byte(b[start - 1]))
            && let Some(end) = token_at(b, start)
        {
            return Some(Some((start, end)));
        }
    }
    None
}

/// End of the token pattern's match at `start` (a word boundary before an ASCII letter or digit), if any.
fn token_at(b: &[u8], start: usize) -> Option<usize> {
    // Greedy like the regex: a body cannot start at a letter-only group, so fewer prefixes never match where more
    // did not.
    let mut at = start;
    for _ in 0..3 {
        let letters = b[at..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        if !((1..=10).contains(&letters) && b.get(at + letters) == Some(&b'-')) {
            break;
        }
        if let Some(end) = token_body(b, at + letters + 1) {
            return Some(end);
        }
        at += letters + 1;
    }
    token_body(b, start)
}

/// `[a-z0-9]*\d[a-z0-9]*(?:-[a-z0-9]+)*\b` at `at`: the whole alphanumeric run (it must hold a digit), then every
/// `-run` group; when a word character (`_`) follows, the last group is given back for a boundary.
fn token_body(b: &[u8], at: usize) -> Option<usize> {
    let run_end = alnum_end(b, at);
    if !b[at..run_end].iter().any(u8::is_ascii_digit) {
        return None;
    }
    token_tail(b, run_end)
}

/// The end of [`token_body`]'s match whose alphanumeric run (holding a digit) ends at `run_end` (where
/// [`alnum_end`] stopped: no letter or digit stands there).
fn token_tail(b: &[u8], run_end: usize) -> Option<usize> {
    let (mut end, mut before_last) = (run_end, run_end);
    while end + 1 < b.len() && b[end] == b'-' && is_alnum(b[end + 1]) {
        before_last = end;
        end = alnum_end(b, end + 1);
    }
    // `end` is the end of a run of letters and digits, so the byte there is a word byte only as `_`.
    if end == b.len() || b[end] != b'_' {
        Some(end)
    } else if end > run_end {
        // Without the last group the match ends before a `-`, which is a boundary.
        Some(before_last)
    } else {
        None
    }
}

fn next_char(hay: &str, at: usize) -> usize {
    let mut i = at + 1;
    while i < hay.len() && !hay.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn cand(start: usize, end: usize, entity_type: EntityType, score: f32) -> Option<Candidate> {
    Some(Candidate { start, end, entity_type, score })
}

/// The candidate a match of `shape` at `s..e` is, if any. `inline(always)`: with a plain `#[inline]` the compiler
/// kept it a function of its own, called for every token, and its prologue and epilogue cost more than the bare-number
/// test it exists for.
#[inline(always)]
fn classify(shape: Shape, hay: &str, s: usize, e: usize) -> Option<Candidate> {
    // Two thirds of the tokens of a note are bare numbers that [`bare_number_turned_away`] settles: tested here, inlined
    // into the structured pass, they do not pay for the call of the whole classifier (its prologue and epilogue, the
    // slicing of the text on char boundaries, the jump on the shape). So are the codes of fewer than four bytes that
    // start with a letter (`q4h`, `B12`, `x2`), a twentieth of the tokens of notes without PHI, for which [`token`]
    // looks nothing up (after the bare-number test, which turns away more tokens, so that most pay for neither).
    // The other tokens go to their classifier straight, out of line: through the whole classifier they paid for its
    // prologue (its frame is sized for every shape) and its jump on the shape.
    if shape == Shape::Token {
        let b = hay.as_bytes();
        let turned_away = bare_number_turned_away(b, s, e) || (e - s < 4 && !b[s].is_ascii_digit());
        return if turned_away { None } else { token(hay, s, e) };
    }
    classify_match(shape, hay, s, e)
}

/// Two thirds of the tokens of a note are bare numbers of one to three digits (doses, vital signs, scores). Such a
/// number is PHI only as an age over 89, as the first group of a grouped phone number (nine digits or more in groups
/// joined by a space, dot or dash, see [`grouped_phone`]) or of a spaced date (one or two digits, a space and a
/// digit, see [`spaced_date`]), or as part of a spelled value (a single letter beside it): whether the token `s..e` is
/// any other, which [`token`] would turn away before its context lookups. Decimals (`Hgb 9.5`, `WBC 11.5`) are
/// such others: their digits after the dot are too few for a phone number.
///
/// The age range is read from the digits by pattern rather than by their value: `9x`, `09x` or `100` to `125`
/// (a fold over the digits and a range test cost a loop for every number of a note). `inline(always)`: a plain
/// `#[inline]` left it a call for every token, 3.0M instructions on 2,000 notes without PHI.
#[inline(always)]
fn bare_number_turned_away(b: &[u8], s: usize, e: usize) -> bool {
    let digit = |d: u8| d.wrapping_sub(b'0') < 10;
    let over_89 = match b[s..e] {
        [d] if digit(d) => false,
        [d, c] if digit(d) && digit(c) => d == b'9',
        [d, c, u] if digit(d) && digit(c) && digit(u) => match d {
            b'0' => c == b'9',
            b'1' => c < b'2' || (c == b'2' && u <= b'5'),
            _ => false,
        },
        _ => return false,
    };
    let joined = |at: usize| matches!(b.get(at), Some(b' ' | b'.' | b'-')) && b.get(at + 1).is_some_and(|&c| digit(c));
    if over_89 || single_letter_beside(b, s, e) {
        return false;
    }
    if !joined(e) {
        return true;
    }
    if b[e] == b' ' && e - s <= 2 {
        return false;
    }
    // The digits of the groups after it, as [`grouped_phone`] joins them but without its stops (which only end the
    // number sooner): fewer than nine cannot make a phone number.
    let (mut end, mut digits) = (e, e - s);
    while digits < 9 && joined(end) {
        let group = b[end + 1..].iter().take_while(|&&c| digit(c)).count();
        digits += group;
        end += 1 + group;
    }
    digits < 9
}

fn classify_match(shape: Shape, hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let text = &hay[s..e];
    match shape {
        Shape::Url => url(hay, s, e),
        Shape::Email => {
            let trimmed = trim_end_ascii(text, b".-");
            validate::is_email(trimmed).then_some(())?;
            cand(s, s + trimmed.len(), EntityType::Email, 0.95)
        }
        Shape::Ipv6 => validate::is_ipv6(text).then_some(Candidate {
            start: s,
            end: e,
            entity_type: EntityType::IpAddress,
            score: 0.9,
        }),
        Shape::Ipv4 => {
            if !validate::is_ipv4(text) || matches!(left_label(hay, s), Some(Label::NotPhi)) {
                return None;
            }
            cand(s, e, EntityType::IpAddress, 0.9)
        }
        // A network (MAC) address of a device; six groups of digits alone need a label to be one.
        Shape::Mac => match left_label(hay, s) {
            Some(Label::NotPhi) => None,
            Some(Label::Id(ty)) => cand(s, e, ty, 0.9),
            _ if text.bytes().any(|b| b.is_ascii_alphabetic()) || text.contains([':', '.']) => {
                cand(s, e, EntityType::DeviceId, 0.85)
            }
            _ => None,
        },
        // Either AI after the GTIN makes it a UDI even where the GTIN was copied with a wrong check digit.
        Shape::Udi if validate::is_gtin(&text[4..18]) => cand(s, e, EntityType::DeviceId, 0.95),
        Shape::Udi => {
            (text.len() > 18).then_some(Candidate { start: s, end: e, entity_type: EntityType::DeviceId, score: 0.85 })
        }
        Shape::Mbi => validate::is_mbi(text).then_some(Candidate {
            start: s,
            end: e,
            entity_type: id_type_or(hay, s, EntityType::HealthPlanId),
            score: 0.9,
        }),
        Shape::Iban => validate::is_iban(text).then_some(Candidate {
            start: s,
            end: e,
            entity_type: EntityType::Iban,
            score: 0.95,
        }),
        Shape::DateNumeric => {
            let date = &text[..text.bytes().position(|c| c == b'T').unwrap_or(text.len())];
            validate::is_numeric_date(date).then_some(())?;
            // The label last: most dates are long or written with slashes, and need no walk back to a label.
            if date.len() < 8 && !date.contains('/') && matches!(left_label(hay, s), Some(Label::NotPhi)) {
                return None;
            }
            cand(s, s + date.len(), EntityType::Date, 0.95)
        }
        Shape::DateWritten | Shape::DateDayMonth => written_date(hay, s, e),
        Shape::Address => address(hay, s, e),
        Shape::PoBox => cand(s, e, EntityType::Address, 0.9),
        Shape::Corner => first_street_start(hay, s).and_then(|start| cand(start, e, EntityType::Address, 0.85)),
        Shape::Highway => cand(s, e, EntityType::Address, 0.85),
        Shape::StateZip => {
            // By bytes: the trailing run of digits and `-` is ASCII, so it starts on a char boundary.
            let digits_start = text.len() - text.bytes().rev().take_while(|c| c.is_ascii_digit() || *c == b'-').count();
            // `LICENSE SC 41772`, `TX RN license`: the state issued the number after it.
            let ty = match left_label(hay, s) {
                Some(Label::Id(ty)) if !matches!(ty, EntityType::Zip | EntityType::Phone | EntityType::Fax) => ty,
                _ => EntityType::Zip,
            };
            cand(s + digits_start, e, ty, 0.9)
        }
        Shape::Postcode => postcode(hay, s, e),
        Shape::Card => match left_label(hay, s) {
            Some(Label::Id(EntityType::CreditCard)) => validate::luhn(text).then_some(Candidate {
                start: s,
                end: e,
                entity_type: EntityType::CreditCard,
                score: 0.95,
            }),
            Some(Label::Id(ty)) if ty != EntityType::Phone && ty != EntityType::Fax => cand(s, e, ty, 0.9),
            Some(Label::NotPhi) => None,
            _ => validate::is_payment_card(text).then_some(Candidate {
                start: s,
                end: e,
                entity_type: EntityType::CreditCard,
                score: 0.95,
            }),
        },
        Shape::Ssn => match left_label(hay, s) {
            Some(Label::Id(ty)) if ty != EntityType::Ssn && ty != EntityType::Phone && ty != EntityType::Fax => {
                cand(s, e, ty, 0.9)
            }
            Some(Label::NotPhi) => None,
            _ if !text.starts_with(|c: char| c.is_ascii_digit()) => cand(s, e, EntityType::Ssn, 0.85),
            _ => validate::is_ssn(text).then_some(Candidate {
                start: s,
                end: e,
                entity_type: EntityType::Ssn,
                score: 0.9,
            }),
        },
        Shape::PhoneIntl => {
            let n = text.bytes().filter(u8::is_ascii_digit).count();
            if !(8..=15).contains(&n) {
                return None;
            }
            let ty = match left_label(hay, s) {
                Some(Label::Id(EntityType::Fax)) => EntityType::Fax,
                _ => EntityType::Phone,
            };
            cand(s, e, ty, 0.85)
        }
        Shape::Phone => phone(hay, s, e),
        // A month and a year (`scheduled 12/2023`, `in 3/2024`): the month is a date element, the year stays under
        // Safe Harbor. Only after a date label or a preposition of time: `epinephrine 1/2000` is a dilution.
        Shape::DateShort if text.len() > 5 => {
            let (m, _) = split_at_slash(text)?;
            let month: u32 = m.parse().ok()?;
            let word = last_word(trim_end_ascii(&hay[..s], b" :"));
            // `implanted 06/2019`, `9/2022 - 3/2024`: a month and a four-digit year; only `1/2000` (a dilution) needs
            // a word of time.
            let label = left_label(hay, s);
            let timed = matches!(label, Some(Label::Date))
                || ["in", "by", "before", "after", "during", "around", "circa", "of", "until", "till"]
                    .iter()
                    .any(|w| word.eq_ignore_ascii_case(w))
                || ((month >= 2 || m.len() == 2 || event_before(hay, s)) && label != Some(Label::NotPhi));
            ((1..=12).contains(&month) && timed && !right_is_unit(hay, e)).then_some(Candidate {
                start: s,
                end: e,
                entity_type: EntityType::Date,
                score: 0.8,
            })
        }
        Shape::DateShort => {
            let (m, d) = split_at_slash(text)?;
            let (month, day): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
            // `started 9/19`, `bed available 8/13`: after a word of an event, a month and day with a two-digit part
            // (`given 1/2 tab` is a fraction, and `/10` a score). The calendar is asked first: the context lookups are
            // needed only for a real month and day (`pain 0/10` is none).
            let date = validate::is_calendar_date(None, month, day) && {
                let event = (m.len() == 2 || d.len() == 2) && day != 10 && event_before(hay, s)
                    || time_or_range_around(hay, s, e);
                event || matches!(left_label(hay, s), Some(Label::Date))
            };
            // A card's expiry is a month and a two-digit year (`exp 02/30`).
            let expiry = (1..=12).contains(&month) && d.len() == 2 && card_expiry(hay, s);
            ((date || expiry) && !right_is_unit(hay, e)).then_some(Candidate {
                start: s,
                end: e,
                entity_type: EntityType::Date,
                score: 0.8,
            })
        }
        Shape::Token => token(hay, s, e),
    }
}

/// A web address at `s..e` (the URL shape), without the punctuation after it. Kept out of [`classify_match`] (never
/// inlined): inlined there, its byte searches cost the tokens' path, the common one, 0.25M instructions on 2,000 notes
/// without PHI (how the compiler laid the function out), where web addresses are rare.
#[inline(never)]
fn url(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let text = &hay[s..e];
    // By byte offsets: every byte trimmed or searched for is ASCII, so each offset is a char boundary, where
    // `str`'s trimming and splitting by sets of chars decoded every char of the match.
    let trailing = text
        .bytes()
        .rev()
        .take_while(|c| matches!(c, b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']' | b'}' | b'\'' | b'"'))
        .count();
    let trimmed = &text[..text.len() - trailing];
    let t = trimmed.as_bytes();
    // The host: after the first `://`, up to the first `/`, `?` or `#`, after the last `@`, up to the first `:`.
    // The scheme's end is looked for at colons only (most addresses have none), not at every window of three bytes;
    // each byte is found by `memchr` (a web address is long: byte loops cost 1,200 instructions for each).
    let scheme_end = memchr::memchr_iter(b':', t).find(|&i| t.get(i + 1..i + 3) == Some(b"//"));
    let after = scheme_end.map_or(0, |p| p + 3);
    let end = memchr::memchr3(b'/', b'?', b'#', &t[after..]).map_or(t.len(), |p| after + p);
    let from = memchr::memrchr(b'@', &t[after..end]).map_or(after, |p| after + p + 1);
    let to = memchr::memchr(b':', &t[from..end]).map_or(end, |p| from + p);
    let host = &trimmed[from..to];
    let has_scheme = scheme_end.is_some() || t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"www."));
    if hay[e..].starts_with('@') || (!has_scheme && memchr::memchr(b'@', text.as_bytes()).is_some()) {
        return None;
    }
    let ok = validate::is_hostname(host, !has_scheme) || validate::is_ipv4(host);
    if !ok || (!has_scheme && looks_like_file(trimmed)) {
        return None;
    }
    cand(s, s + trimmed.len(), EntityType::Url, if has_scheme { 0.95 } else { 0.8 })
}

/// A Canadian postcode (letter, digit, letter, space, digit, letter, digit) stands out; a UK one (`N7 0DD`) only after
/// a town in the gazetteer, a comma or a postcode label, as `Take B12 2HA` could be something else.
fn postcode(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let b = hay.as_bytes();
    let canadian = e - s == 7 && b[s + 1].is_ascii_digit() && b[s + 2].is_ascii_alphabetic();
    let before = hay[..s].trim_end_matches(' ');
    let word = last_word(before);
    let town =
        word.starts_with(|c: char| c.is_ascii_uppercase()) && Gazetteer::get().flags_of(word_hash(word)) & PLACE != 0;
    let placed =
        canadian || before.ends_with(',') || town || matches!(left_label(hay, s), Some(Label::Id(EntityType::Zip)));
    placed.then_some(Candidate { start: s, end: e, entity_type: EntityType::Zip, score: 0.85 })
}

fn looks_like_file(s: &str) -> bool {
    // By bytes, without a lower-cased copy (an allocation for every web address without a scheme).
    let b = s.as_bytes();
    !b.contains(&b'/')
        && [".pdf", ".doc", ".txt", ".jpg", ".png", ".csv", ".xml", ".json"]
            .iter()
            .any(|x| b.len() >= x.len() && b[b.len() - x.len()..].eq_ignore_ascii_case(x.as_bytes()))
}

fn id_type_or(hay: &str, s: usize, default: EntityType) -> EntityType {
    match left_label(hay, s) {
        Some(Label::Id(ty)) => ty,
        _ => default,
    }
}

fn phone(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let text = &hay[s..e];
    let label = left_label(hay, s);
    let formatted = text.bytes().any(|b| !b.is_ascii_digit());
    match label {
        Some(Label::Id(EntityType::Fax)) => cand(s, e, EntityType::Fax, 0.95),
        Some(Label::Id(EntityType::Phone)) => cand(s, e, EntityType::Phone, 0.95),
        Some(Label::Id(ty)) if ty != EntityType::Zip => cand(s, e, ty, 0.9),
        Some(Label::NotPhi) if !formatted => None,
        _ if right_is_unit(hay, e) => None,
        _ if validate::is_nanp_phone(strip_extension(text)) => {
            cand(s, e, EntityType::Phone, if formatted { 0.9 } else { 0.6 })
        }
        // Written as a phone number (`(811)316-7534`, `411-756-0238`, `+1 911 221 7358`) but outside the NANP
        // numbering rules (an N11 area code): still someone's number as far as redaction goes.
        _ if formatted && label != Some(Label::NotPhi) => cand(s, e, EntityType::Phone, 0.7),
        _ => None,
    }
}

/// The number without its `ext. 123` / `x123` extension.
fn strip_extension(text: &str) -> &str {
    let lower_x = text.bytes().rposition(|c| matches!(c, b'x' | b'X' | b'e' | b'E'));
    match lower_x {
        Some(at) if text[at..].bytes().any(|b| b.is_ascii_digit()) => text[..at].trim_end(),
        _ => text,
    }
}

fn written_date(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let text = &hay[s..e];
    let mut month = None;
    let mut numbers: [Option<(u32, usize)>; 2] = [None, None];
    let mut count = 0;
    // The parts split at every byte that is no ASCII letter, digit or `'`: those of a split at such chars, but for the
    // empty parts between the bytes of a longer char, which are skipped like every empty part (a part that is not
    // empty holds only ASCII, so it starts and ends on char boundaries). A char-predicate split decoded every char.
    let b = text.as_bytes();
    let mut from = 0;
    while from <= b.len() {
        let to = b[from..].iter().position(|&c| !c.is_ascii_alphanumeric() && c != b'\'').map_or(b.len(), |p| from + p);
        let start = from + b[from..to].iter().take_while(|&&c| c == b'\'').count();
        from = to + 1;
        if start == to {
            continue;
        }
        let part = &text[start..to];
        let digits = &part[..part.len() - part.bytes().rev().take_while(u8::is_ascii_alphabetic).count()];
        if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
            if count < 2 {
                numbers[count] = Some((validate::parse_u32(digits)?, digits.len()));
                count += 1;
            }
        } else if month.is_none() {
            month = validate::month_number(part);
        }
    }
    let month = month?;
    let (day, year) = match numbers {
        [Some((d, dl)), Some((y, _))] if dl <= 2 => (Some(d), Some(y)),
        [Some((y, 4)), None] => (None, Some(y)),
        [Some((d, dl)), None] if dl <= 2 => (Some(d), None),
        _ => return None,
    };
    match (day, year) {
        (Some(d), y) => validate::is_calendar_date(y, month, d).then_some(())?,
        (None, Some(y)) => (1850..=2150).contains(&y).then_some(())?,
        (None, None) => return None,
    }
    // `may 5 mg`: a dose after a modal verb, not a date.
    if year.is_none() && right_is_unit(hay, e) {
        return None;
    }
    cand(s, e, EntityType::Date, if day.is_some() { 0.95 } else { 0.85 })
}

/// Words that never appear in a street line; `2 people at the park` is not an address.
const NOT_STREET_WORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "and",
    "or",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "was",
    "is",
    "are",
    "by",
    "per",
    "times",
    "every",
    "each",
    "people",
    "patients",
    "days",
    "weeks",
    "months",
    "years",
    "hours",
    "minutes",
    "mg",
    "ml",
    "tablets",
    "tabs",
    "doses",
    "he",
    "she",
    "they",
    "we",
    "i",
    "you",
    "her",
    "his",
    "then",
    "than",
    "after",
    "before",
    "from",
    "into",
    "about",
    "over",
    "under",
    "more",
    "less",
    "last",
    "next",
    "this",
    "that",
    "through",
    "thru",
    "am",
    "no",
    "pm",
    "of",
    "cm",
    "mm",
    "non",
    "diagnosis",
];

/// Whether `word` is one of [`NOT_STREET_WORDS`] in any case, by one set lookup: every word of every address-shaped
/// match is asked, and comparing it with each word of the list cost 2.4M instructions on 4,000 mixed notes. A
/// [`packed_lower`] key folds only ASCII letters into the list's letters, so it matches where a comparison ignoring
/// ASCII case does.
fn not_street_word(word: &str) -> bool {
    static WORDS: OnceLock<rustc_hash::FxHashSet<u128>> = OnceLock::new();
    let words = WORDS.get_or_init(|| NOT_STREET_WORDS.iter().map(|w| packed_lower(w.as_bytes())).collect());
    word.len() <= 16 && words.contains(&packed_lower(word.as_bytes()))
}

fn address(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    // `WALGREENS #4821 1500 W LAKE ST`: a number after `#` is a store's or a unit's, not a house number; after a
    // digit and a point it is a decimal's fraction (`a 4.3 cm Ventralex ST patch`).
    let before = &hay.as_bytes()[..s];
    if before.ends_with(b"#")
        || (before.ends_with(b".") && before.len() >= 2 && before[before.len() - 2].is_ascii_digit())
    {
        return None;
    }
    let lex = Lexicon::get();
    let text = &hay[s..e];
    for (n, w) in text.split_whitespace().skip(1).enumerate() {
        // `500 BID. PHQ-2 neg. Pt`: a word of three letters or more and a period ends a sentence, not a street name
        // (`Ave.` is a street type).
        if let Some(stem) = w.strip_suffix('.')
            && stem.len() >= 3
            && stem.bytes().all(|b| b.is_ascii_alphabetic())
            && !is_street_word(stem)
        {
            return None;
        }
        let w = w.trim_matches(['.', ',', '#']);
        // Compared without lower-casing into a new string: every word of every address-shaped match is read here.
        let one_of = |list: &[&str]| list.iter().any(|l| w.eq_ignore_ascii_case(l));
        // After the street, `Unit 2` is the secondary address, not a unit of measure.
        if n >= 2 && one_of(&["unit", "apt", "apartment", "suite", "ste", "bldg", "building"]) {
            break;
        }
        if not_street_word(w)
            || (lex.is_unit(word_key(w))
                && !w.bytes().any(|b| b.is_ascii_digit())
                && w.len() > 2
                && !one_of(&["way", "park", "run"]))
        {
            return None;
        }
    }
    // Line breaks and the last word by bytes: `str::matches` and `str::rsplit` set up a char searcher each.
    if text.bytes().filter(|&c| c == b'\n').count() > 1 {
        return None;
    }
    // `10 fena point 4 percent` (dictation, its numbers already digits): a decimal point, not a street's Point.
    let last = &text[text.bytes().rposition(|c| c == b' ').map_or(0, |p| p + 1)..];
    if last.eq_ignore_ascii_case("point")
        && hay[e..].strip_prefix(' ').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        return None;
    }
    cand(s, street_line_end(hay, e), EntityType::Address, 0.85)
}

/// Whether a value ends its field at the start of `rest`: the text, the line or a clause ends, or a column of spaces
/// begins.
fn ends_field(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with([',', '\n', '\r', ';', ')']) || rest.starts_with("  ")
}

/// Where a street line matched up to `e` really ends: a second street type after a street word used as a name
/// (`3340 Mission Bend| Dr`, `4410 Lakeview Terrace| Dr`; the pattern takes the fewest words) and a secondary unit after
/// a comma (`, Suite 210`, `, 4th floor`).
fn street_line_end(hay: &str, e: usize) -> usize {
    let mut end = e;
    if let Some(rest) = hay[end..].strip_prefix(' ') {
        let word = first_word(rest);
        let after = rest[word.len()..].strip_prefix('.').unwrap_or(&rest[word.len()..]);
        if !word.is_empty() && is_street_word(word) && ends_field(after) {
            end = hay.len() - after.len();
        }
    }
    let Some(rest) = hay[end..].strip_prefix(", ") else { return end };
    let word = first_word(rest);
    // The list split as bytes: `str::split` set up a char searcher for each of its words.
    let unit = SECONDARY_UNITS
        .as_bytes()
        .split(|&c| c == b'|')
        .chain([&b"room"[..], b"rm", b"spc"])
        .any(|u| word.as_bytes().eq_ignore_ascii_case(u));
    if unit {
        let value = rest[word.len()..].trim_start_matches(['.', ' ', '#']);
        let len = value.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(value.len());
        if len > 0 && len <= 6 && value.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric) {
            return hay.len() - value.len() + len;
        }
        return end;
    }
    // `4th floor`, `2nd Floor`.
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ordinal = &rest[digits..];
    if (1..=2).contains(&digits)
        && ["st ", "nd ", "rd ", "th "].iter().any(|o| ordinal.starts_with(o))
        && ordinal[3..].get(..5).is_some_and(|f| f.eq_ignore_ascii_case("floor"))
    {
        return hay.len() - rest.len() + digits + 8;
    }
    end
}

/// A street type or secondary-unit word (`Ave`, `Hill`, `Apt`), in any case.
///
/// A set of the lists' words rather than the regex `(?i)^(?:...)$` they are written for: compiling that regex cost
/// about 7 million instructions in the first note with an address. The words are lower-case ASCII, where the regex's
/// Unicode case folding also matched `ſ` (U+017F) for `s` and the Kelvin sign (U+212A) for `k`; both are folded here
/// the same way.
fn is_street_word(word: &str) -> bool {
    static STREET_WORDS: OnceLock<HashSet<Box<[u8]>>> = OnceLock::new();
    let words = STREET_WORDS.get_or_init(|| {
        let listed = [STREET_SUFFIX, SECONDARY_UNITS].map(alternation_words).into_iter().flatten();
        listed.chain(["north", "south", "east", "west"].map(String::from)).map(|w| w.into_bytes().into()).collect()
    });
    // The longest listed word has ten letters.
    let mut folded = [0u8; 16];
    let mut n = 0;
    for c in word.chars() {
        let byte = match c {
            '\u{17F}' => b's',
            '\u{212A}' => b'k',
            c if c.is_ascii() => c.to_ascii_lowercase() as u8,
            _ => return false,
        };
        let Some(slot) = folded.get_mut(n) else { return false };
        *slot = byte;
        n += 1;
    }
    words.contains(&folded[..n])
}

#[inline(never)]
fn token(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let text = &hay[s..e];
    let bytes = text.as_bytes();
    // Every number of a note comes here, most of them one to three digits that the age rule below settles: the digits
    // are counted only after it.
    let lead_digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let all_digits = lead_digits == bytes.len();

    // Bare numbers of one to three digits that need no lookup below, and codes of fewer than four bytes starting
    // with a letter, were turned away by [`classify`].
    debug_assert!(!bare_number_turned_away(hay.as_bytes(), s, e));
    debug_assert!(lead_digits > 0 || bytes.len() >= 4);

    // A labelled phone number grouped other than 3-3-4 (`Tel.: 020 7946 0958`).
    if all_digits && let Some(phone) = grouped_phone(hay, s, e) {
        return Some(phone);
    }
    if all_digits && let Some(spelled) = spelled_value(hay, s, e) {
        return Some(spelled);
    }
    if let Some(din) = blood_unit_number(hay, s, e) {
        return Some(din);
    }
    // Ages: `92-year-old`, `92yo`, `92 years old`, `age 92`.
    if (1..=3).contains(&lead_digits) {
        let rest = &text[lead_digits..];
        // One to three digits: no overflow, and `parse` could not fail either.
        let value = bytes[..lead_digits].iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
        // `BIRTH DATE: 04 19 1944` (claim forms write dates in boxes).
        if lead_digits <= 2
            && rest.is_empty()
            && let Some(end) = spaced_date(hay, s, e)
        {
            return cand(s, end, EntityType::Date, 0.85);
        }
        // A bare number of one to three digits is PHI only as an age over 89: any other needs no context lookup.
        if rest.is_empty() && !(90..=125).contains(&value) {
            return None;
        }
        let age_suffix = ["-year-old", "-year", "-yr-old", "-yo", "yo", "y", "-y", "yr", "yrs"]
            .iter()
            .any(|suffix| rest.eq_ignore_ascii_case(suffix))
            || (rest.is_empty() && right_is_age(hay, e));
        if (1..=31).contains(&value)
            && rest.eq_ignore_ascii_case(ordinal_suffix(value))
            && day_of_month_context(hay, s, e)
        {
            return cand(s, e, EntityType::Date, 0.75);
        }
        // `turned 91`, `she is 91`, but not `turned 90 degrees`. The tests of the text right after the number come
        // first: they are cheaper than the label's and rule out most numbers of 90 to 125 (`111/63`, `100.2`).
        let age_label = rest.is_empty()
            && !hay[e..].starts_with(['/', '%'])
            && !hay[e..].strip_prefix('.').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            && !right_is_unit(hay, e)
            && (matches!(left_label(hay, s), Some(Label::Age))
                || subject_is_before(hay, s)
                || titled_name_before(hay, s, e));
        if age_suffix || age_label {
            return (90..=125).contains(&value).then_some(Candidate {
                start: s,
                end: s + lead_digits,
                entity_type: EntityType::AgeOver89,
                score: 0.9,
            });
        }
    }

    // Every identifier, ZIP, phone and compact date has at least four characters: a shorter number (a vital sign,
    // a lab value, a dose) needs no context lookup at all. A token of fewer than four bytes has fewer than four
    // letters and digits, and is turned away before they are counted (most tokens that come this far are such codes
    // and values: `E11`, `I10`, `98`).
    if bytes.len() < 4 {
        return None;
    }
    // One pass for both counts: two filters over the bytes and a `str::parse` of the leading digits were a sizeable
    // part of the structured pass on notes without PHI. A number of digits alone (most of them) is not read again.
    let (digit_count, alnum_count) = if all_digits {
        (bytes.len(), bytes.len())
    } else {
        // From the first byte after the leading digits (counted already), a table load for each letter or digit test
        // (its three ranges cost more than the load).
        let (mut digits, mut alnum) = (lead_digits, lead_digits);
        for &c in &bytes[lead_digits..] {
            digits += usize::from(c.is_ascii_digit());
            alnum += usize::from(is_alnum(c));
        }
        (digits, alnum)
    };
    // A token of one digit (`SpO2`, `5-day`, a twentieth of those that come this far in notes without PHI) is no value
    // of any label (every identifier's needs two digits, a Luhn check or a ZIP's five) and nothing below takes it
    // without a label but a VIN (which may hold a single digit): it is turned away before the label's lookup.
    if alnum_count < 4 || (digit_count < 2 && bytes.len() != 17) {
        return None;
    }
    let label = left_label(hay, s);
    match label {
        Some(Label::Id(ty)) => id_value(hay, s, e, ty, digit_count, alnum_count),
        Some(Label::Date) => {
            if all_digits && (compact_date(text) || dictated_short_date(hay, s, text)) && !right_is_unit(hay, e) {
                return cand(s, e, EntityType::Date, 0.8);
            }
            // `Visit #: WW-250122-0087`, `Admission No. 4471`: a number sign after a date's word makes it a number's.
            if numbered_word(hay, s).is_some_and(|w| Lexicon::get().label(word_key(w)) == Some(Label::Date)) {
                return id_value(hay, s, e, EntityType::AccountNumber, digit_count, alnum_count);
            }
            None
        }
        Some(Label::Age | Label::NotPhi) => None,
        None => {
            if right_is_unit(hay, e) {
                return None;
            }
            if bytes.len() == 17 && validate::is_vin(text) {
                return cand(s, e, EntityType::VehicleId, 0.9);
            }
            if bytes.len() == 9 && validate::is_dea(text) {
                return cand(s, e, EntityType::LicenseNumber, 0.85);
            }
            if all_digits && (10..=11).contains(&bytes.len()) && validate::is_nanp_phone(text) {
                return cand(s, e, EntityType::Phone, 0.6);
            }
            // A clinician's NPI in a claim's table (`1450 00   1   1361634383`): its check digit speaks for it.
            if validate::is_npi(text) {
                return cand(s, e, EntityType::OtherId, 0.6);
            }
            if is_zip(text) && (text.len() == 10 || state_before(hay, s)) {
                return cand(s, e, EntityType::Zip, 0.85);
            }
            // Weaker than a known label: a facility's store number (`WALGREENS #4821`) wins over it.
            if numbered_label(hay, s) {
                return id_value(hay, s, e, EntityType::OtherId, digit_count, alnum_count)
                    .map(|c| Candidate { score: 0.7, ..c });
            }
            if let Some(ty) = listed_after_label(hay, s, e) {
                return id_value(hay, s, e, ty, digit_count, alnum_count);
            }
            if all_digits && bytes.len() == 9 && validate::is_ssn(text) {
                return cand(s, e, EntityType::Ssn, 0.4);
            }
            // An unlabelled code-like identifier: reported only below the default threshold.
            (digit_count >= 5 && alnum_count >= 7 && alnum_count > digit_count).then_some(Candidate {
                start: s,
                end: e,
                entity_type: EntityType::OtherId,
                score: 0.35,
            })
        }
    }
}

/// Groups of digits from `s` (the first ends at `e`) joined by single spaces, dots or dashes, 9 to 15 digits in
/// all, after a phone or fax label: one number.
fn grouped_phone(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let b = hay.as_bytes();
    let (mut end, mut digits, mut groups) = (e, e - s, 1);
    while end + 1 < b.len() && matches!(b[end], b' ' | b'.' | b'-') && b[end + 1].is_ascii_digit() {
        let group_end = end + 1 + b[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits + group_end - end - 1 > 15 || b.get(group_end).is_some_and(|c| c.is_ascii_alphabetic()) {
            break;
        }
        digits += group_end - end - 1;
        end = group_end;
        groups += 1;
    }
    if groups < 2 || !(9..=15).contains(&digits) {
        return None;
    }
    match left_label(hay, s) {
        Some(Label::Id(ty @ (EntityType::Phone | EntityType::Fax))) => cand(s, end, ty, 0.85),
        _ => None,
    }
}

/// `text` without the bytes of `set` (ASCII) at its end: what `str::trim_end_matches` with those chars leaves, without
/// decoding each char it passes (the date and e-mail classifiers trim the text around every match).
fn trim_end_ascii<'t>(text: &'t str, set: &[u8]) -> &'t str {
    let trimmed = text.bytes().rev().take_while(|c| set.contains(c)).count();
    &text[..text.len() - trimmed]
}

/// `text` split at its first `/`, as `str::split_once('/')` splits it, by bytes (no char searcher to set up).
fn split_at_slash(text: &str) -> Option<(&str, &str)> {
    let slash = text.bytes().position(|c| c == b'/')?;
    Some((&text[..slash], &text[slash + 1..]))
}

/// The ASCII letters that end `text` (empty when it does not end in a letter).
fn last_word(text: &str) -> &str {
    // By bytes: the last byte that is no ASCII letter ends a character (only ASCII letters follow it).
    let start = text.bytes().rposition(|b| !b.is_ascii_alphabetic()).map_or(0, |p| p + 1);
    &text[start..]
}

/// `f/u 7/11 9:00 AM`, `portal 10/15 10:20`: a time of day after a month and day; `1/29-2/6`, `9/30-10/4`: a range of
/// two of them.
fn time_or_range_around(hay: &str, s: usize, e: usize) -> bool {
    let b = hay.as_bytes();
    let digits_from = |i: usize| b[i.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    let after = b.get(e).copied();
    let time_after = after == Some(b' ') && {
        let h = digits_from(e + 1);
        (1..=2).contains(&h) && b.get(e + 1 + h) == Some(&b':') && digits_from(e + 2 + h) == 2
    };
    // A range of fractions (`1/2-3/4 tab`) has no two-digit part.
    let two_digit = |t: &str| t.split('/').any(|p| p.len() == 2);
    let month_day = |t: &str| {
        (two_digit(t) || two_digit(&hay[s..e]))
            && t.split_once('/').is_some_and(|(m, d)| {
                (1..=2).contains(&m.len())
                    && (1..=2).contains(&d.len())
                    && matches!((m.parse::<u32>(), d.parse::<u32>()), (Ok(m), Ok(d)) if validate::is_calendar_date(None, m, d))
            })
    };
    let next = hay[e..]
        .strip_prefix('-')
        .map(|r| &r[..r.find(|c: char| !(c.is_ascii_digit() || c == '/')).unwrap_or(r.len())]);
    let prev =
        hay[..s].strip_suffix('-').map(|l| &l[l.trim_end_matches(|c: char| c.is_ascii_digit() || c == '/').len()..]);
    time_after || next.is_some_and(month_day) || prev.is_some_and(month_day)
}

/// Words of an event that a month and day may follow without a date label (`started 9/19`, `bed available 8/13`).
const EVENT_WORDS: &[&str] = &[
    "started",
    "stopped",
    "given",
    "delivered",
    "available",
    "placed",
    "drawn",
    "completed",
    "done",
    "obtained",
    "performed",
    "held",
    "resumed",
    "changed",
    "called",
    "checked",
    "tested",
    "review",
    "reviewed",
    "labs",
    "monthly",
    "weekly",
    "starting",
    "effective",
    "through",
    "thru",
    "after",
    "before",
    "by",
    "last",
    "next",
    "call",
    "transferred",
    "arrived",
    "presented",
    "restarted",
    "increased",
    "decreased",
    "discontinued",
    "sent",
    "faxed",
    "mailed",
    "ordered",
    "rescheduled",
    "cancelled",
    "canceled",
    "confirmed",
    "booked",
    "planned",
    "expected",
    "uds",
    "tox",
    "ekg",
    "ecg",
    "echo",
    "ct",
    "mri",
    "cxr",
    "xray",
    "biopsy",
    "culture",
    "cultures",
    "vaccine",
    "dose",
    "shot",
    "injection",
    "resolved",
    "recheck",
    "rechecked",
    "repeat",
    "repeated",
    "due",
    "scheduled",
    "admitted",
    "discharged",
];

/// `Visa 4916533088227140, exp 07/27`: the month and year after `exp` where a payment card's number stands just
/// before (a lot's `exp` is not a date in the synthetic corpus's convention).
fn card_expiry(hay: &str, s: usize) -> bool {
    let before = trim_end_ascii(&hay[..s], b" :");
    let Some(tail) = before.get(before.len().saturating_sub(10)..).map(str::as_bytes) else { return false };
    // Compared without lower-casing the tail into a new string.
    let ends_with = |c: &str| tail.len() >= c.len() && tail[tail.len() - c.len()..].eq_ignore_ascii_case(c.as_bytes());
    let Some(cue) = ["exp", "exp.", "expires", "expiration", "expiry"].into_iter().find(|c| ends_with(c)) else {
        return false;
    };
    let card = trim_end_ascii(&before[..before.len() - cue.len()], b" ,\n(;");
    let digits_start = after_last(card, |c| !(c.is_ascii_digit() || c == ' ' || c == '-'));
    let digits = card[digits_start..].trim_start();
    let n = digits.bytes().filter(u8::is_ascii_digit).count();
    (13..=19).contains(&n) && validate::luhn(digits)
}

/// An ISBT 128 blood unit's donation identification number as printed on the bag: a facility letter and four
/// digits, the year, a six-digit serial and a check character (`W0364 25 771902 N`), one OTHER_ID.
fn blood_unit_number(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let b = hay.as_bytes();
    if e - s != 5 || !b[s].is_ascii_uppercase() || !b[s + 1..e].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let rest = &b[e..];
    let digits = |r: std::ops::Range<usize>| rest.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(rest.first() == Some(&b' ') && digits(1..3) && rest.get(3) == Some(&b' ') && digits(4..10)) {
        return None;
    }
    let mut end = e + 10;
    if rest.get(10) == Some(&b' ')
        && rest.get(11).is_some_and(u8::is_ascii_alphanumeric)
        && rest.get(12).is_none_or(|c| !c.is_ascii_alphanumeric())
    {
        end += 2;
    } else if rest.get(10).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    cand(s, end, EntityType::OtherId, 0.85)
}

fn event_before(hay: &str, s: usize) -> bool {
    let before = trim_end_ascii(&hay[..s], b" (:");
    let word = last_word(before);
    word.len() >= 2 && hay[..s].len() - before.len() <= 3 && EVENT_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// `seen on the 14th.`, `since the 3rd and ...`: a day of the month, not `the 3rd floor` or `the 2nd dose`.
fn day_of_month_context(hay: &str, s: usize, e: usize) -> bool {
    const BEFORE: &[&str] = &[
        "on",
        "since",
        "until",
        "till",
        "by",
        "from",
        "before",
        "after",
        "through",
        "thru",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    const AFTER: &[&str] = &[
        "at", "and", "or", "to", "when", "for", "in", "with", "but", "through", "was", "were", "she", "he", "they",
        "we", "i", "the", "showed",
    ];
    let Some(head) = hay[..s].strip_suffix(' ') else { return false };
    let cut = head.len().saturating_sub(3);
    let Some((head, the)) = head.is_char_boundary(cut).then(|| head.split_at(cut)) else { return false };
    let Some(head) = head.strip_suffix(' ').filter(|_| the.eq_ignore_ascii_case("the")) else { return false };
    let word = last_word(head);
    if !BEFORE.iter().any(|w| word.eq_ignore_ascii_case(w)) {
        return false;
    }
    let rest = &hay[e..];
    match rest.bytes().next() {
        None | Some(b'.' | b',' | b';' | b':' | b')' | b'!' | b'?' | b'\n') => true,
        Some(b' ') => {
            let next = next_word(hay, e);
            next.is_empty() || AFTER.iter().any(|w| next.eq_ignore_ascii_case(w))
        }
        _ => false,
    }
}

fn id_value(hay: &str, s: usize, e: usize, ty: EntityType, digits: usize, alnum: usize) -> Option<Candidate> {
    let text = &hay[s..e];
    match ty {
        EntityType::Ssn if digits == 9 => {
            validate::is_ssn(text).then_some(Candidate { start: s, end: e, entity_type: ty, score: 0.95 })
        }
        // The last four digits of an SSN (`SSN last 4: 6789`) still identify; nothing else after the label is.
        EntityType::Ssn => {
            (digits == 4 && text.len() == 4).then_some(Candidate { start: s, end: e, entity_type: ty, score: 0.85 })
        }
        EntityType::Zip => is_zip(text).then_some(Candidate { start: s, end: e, entity_type: ty, score: 0.9 }),
        EntityType::CreditCard => {
            validate::luhn(text).then_some(Candidate { start: s, end: e, entity_type: ty, score: 0.9 })
        }
        EntityType::Phone | EntityType::Fax => ((7..=15).contains(&digits)
            && digits == text.bytes().filter(u8::is_ascii_digit).count())
        .then_some(Candidate { start: s, end: e, entity_type: ty, score: 0.85 }),
        // A VIN may hold a single digit (`SDNUCPRGXUGTLA7JA`): its check digit decides.
        EntityType::VehicleId if text.len() == 17 && validate::is_vin(text) => cand(s, e, ty, 0.95),
        // `vehicle (2019 Freightliner)`: a model year.
        EntityType::VehicleId if text.len() == 4 && (text.starts_with("19") || text.starts_with("20")) => None,
        _ if digits <= 3 && right_is_unit(hay, e) => None,
        // `in case 2019`, `(ref 70-99)`, `incident 1999`: a year or a range after a word that is also a label.
        _ if is_year(text) || is_range(text) => None,
        _ => (alnum >= 4 && digits >= 2).then_some(Candidate { start: s, end: e, entity_type: ty, score: 0.9 }),
    }
}

/// Words that take a number (`Apt #`, `Model No.`, `Tooth #`) that identifies no one.
const NOT_NUMBERED: &[&str] = &[
    "apt",
    "apartment",
    "box",
    "store",
    "model",
    "part",
    "catalog",
    "cat",
    "product",
    "reorder",
    "size",
    "pack",
    "channel",
    "slot",
    "port",
    "pin",
    "bin",
    "pcn",
    "rxbin",
    "rxpcn",
    "rxgrp",
    "routing",
    "aba",
    "swift",
    "bic",
    "nct",
    "irb",
    "protocol",
    "form",
    "figure",
    "table",
    "slide",
    "block",
    "cassette",
    "tube",
    "vial",
    "well",
    "lane",
    "tooth",
    "teeth",
    "gauge",
    "french",
    "drg",
    "upc",
    "sku",
    "gtin",
    "check",
    "test",
    "panel",
    "question",
    "section",
    "chapter",
    // A payer's electronic ID names the insurer, not the insured.
    "payer",
];

/// `Booking #: 224018377`, `Interpreter ID INT-0442`, `Kit No. 24-0983311`: a word, then `#`, `ID`, `No.` or `Number`,
/// then the value. Whatever the word, a number so introduced identifies something, unless the word is a measurement's
/// or a code's (the lexicon's non-PHI labels) or one of [`NOT_NUMBERED`].
fn numbered_label(hay: &str, s: usize) -> bool {
    match numbered_word(hay, s) {
        Some("") => true,
        Some(word) => {
            !matches!(Lexicon::get().label(word_key(word)), Some(Label::NotPhi | Label::Date | Label::Age))
                && !NOT_NUMBERED.iter().any(|w| word.eq_ignore_ascii_case(w))
        }
        None => false,
    }
}

/// The word before the `#`, `ID`, `No.` or `Number` right before `s`, `""` for a mark with a colon that starts its own
/// field (`Kenji Tanaka   ID: DLT400918224`), `None` without a mark.
fn numbered_word(hay: &str, s: usize) -> Option<&str> {
    // By byte offsets into the text, trimmed of ASCII bytes only (so each stays a char boundary): `str`'s trimming by
    // a set of chars decodes every char it passes, and most values without a label come here.
    let b = hay.as_bytes();
    let trimmed = |end: usize, set: &[u8]| end - b[..end].iter().rev().take_while(|c| set.contains(c)).count();
    let before = trimmed(s, b" \t");
    let colon = before > 0 && b[before - 1] == b':';
    let before = trimmed(before, b" :\t");
    let before = if before > 0 && b[before - 1] == b'#' {
        before - 1
    } else {
        let dots = trimmed(before, b".");
        let marker = &b[dots - letters_before(b, dots)..dots];
        if ![&b"id"[..], b"no", b"nbr", b"num", b"number"].iter().any(|m| marker.eq_ignore_ascii_case(m)) {
            return None;
        }
        dots - marker.len()
    };
    // The word and its mark are one field: a column's worth of spaces (`CARE CTR          #0447`) parts them.
    let spaced = trimmed(before, b" ");
    if before - spaced > 2 || spaced == 0 || matches!(b[spaced - 1], b'\t' | b'\n') {
        return colon.then_some("");
    }
    let start = spaced - letters_before(b, spaced);
    let alone = start == 0 || !b[start - 1].is_ascii_alphanumeric();
    (spaced - start >= 2 && alone).then(|| &hay[start..spaced])
}

/// `SN PJN7712893, PJN7712901`, `SERIALS 1904B22817 / 1904B22819`: a value of the same shape as the labelled one
/// before it in a list takes its label (up to four back).
fn listed_after_label(hay: &str, s: usize, e: usize) -> Option<EntityType> {
    let shape = |t: &str| (t.len(), t.bytes().next().map(|b| b.is_ascii_digit()));
    let this = shape(&hay[s..e]);
    let mut s = s;
    let b = hay.as_bytes();
    for _ in 0..4 {
        let before = &b[..s];
        // Every separator ends in a space or a slash: most values have neither before them.
        if !before.ends_with(b" ") && !before.ends_with(b"/") {
            return None;
        }
        let sep =
            [&b", and "[..], b" and ", b", ", b" / ", b"/", b"; "].into_iter().find(|sep| before.ends_with(sep))?;
        let prev_end = s - sep.len();
        // By bytes: the last byte that is no ASCII letter, digit or `-` ends a char (only ASCII follows it).
        let prev_start =
            b[..prev_end].iter().rposition(|&c| !(c.is_ascii_alphanumeric() || c == b'-')).map_or(0, |i| i + 1);
        let prev = &hay[prev_start..prev_end];
        let (len, digit_first) = shape(prev);
        if len.abs_diff(this.0) > 1 || digit_first != this.1 || prev.bytes().filter(u8::is_ascii_digit).count() < 2 {
            return None;
        }
        if let Some(Label::Id(ty)) = left_label(hay, prev_start) {
            return (!matches!(ty, EntityType::Phone | EntityType::Fax | EntityType::Zip)).then_some(ty);
        }
        s = prev_start;
    }
    None
}

/// A dictated identifier after its label, letters spelled one by one among its digits (`medical record number s o s
/// 2210937`, `medicare id is 2 w k 9 t r 5 m h 61`, `accession number s 25 dash 04412`; the numbers were words and are
/// already digits): the whole run of single letters, digit groups and `dash`, with at least one letter and four
/// digits, is one value of the label's type.
fn spelled_value(hay: &str, s: usize, e: usize) -> Option<Candidate> {
    let b = hay.as_bytes();
    if !single_letter_beside(b, s, e) {
        return None;
    }
    let piece = |p: &[u8]| {
        p == b"dash"
            || (p.len() == 1 && p[0].is_ascii_alphabetic())
            || (!p.is_empty() && p.iter().all(u8::is_ascii_digit))
    };
    // The words between single spaces, by bytes: a piece holds only ASCII letters and digits, so a word is one only
    // when the run of those from the space reaches the next space or the text's end (a value after a vital sign, `T
    // 98.3 F`, comes here, and `str::rfind` / `str::find` for the spaces cost a char searcher's setup each).
    let mut start = s;
    while start > 0 && b[start - 1] == b' ' {
        let space = start - 1;
        let from = space - b[..space].iter().rev().take_while(|c| c.is_ascii_alphanumeric()).count();
        if (from > 0 && b[from - 1] != b' ') || !piece(&b[from..space]) {
            break;
        }
        start = from;
    }
    let mut end = e;
    while b.get(end) == Some(&b' ') {
        let from = end + 1;
        let to = alnum_end(b, from);
        if (to < b.len() && b[to] != b' ') || !piece(&b[from..to]) {
            break;
        }
        end = to;
    }
    // Trailing letters or `dash` belong to the next words (`... 7 a`), not to the value. They hold no digit, so the
    // digits are counted first: most runs (a vital sign's decimals, `T 98.3 F`) have too few to read on.
    if b[start..end].iter().filter(|c| c.is_ascii_digit()).count() < 4 {
        return None;
    }
    while let Some(cut) = b[start..end]
        .iter()
        .rposition(|&c| c == b' ')
        .filter(|&c| !b[start + c + 1..end].iter().all(u8::is_ascii_digit))
    {
        end = start + cut;
    }
    let run = &b[start..end];
    if !run.split(|&c| c == b' ').any(|p| p.len() == 1 && p[0].is_ascii_alphabetic()) {
        return None;
    }
    match left_label(hay, start) {
        Some(Label::Id(ty))
            if !matches!(ty, EntityType::Phone | EntityType::Fax | EntityType::Zip | EntityType::CreditCard) =>
        {
            cand(start, end, ty, 0.85)
        }
        _ => None,
    }
}

/// Whether a single letter stands as a word of its own right before or after `s..e`, one space between (`s 25`,
/// `2 w k`): where a [`spelled_value`] may be.
fn single_letter_beside(b: &[u8], s: usize, e: usize) -> bool {
    let letter_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphabetic);
    let single_before = s >= 2 && b[s - 1] == b' ' && letter_at(s - 2) && (s == 2 || !b[s - 3].is_ascii_alphanumeric());
    let single_after =
        b.get(e) == Some(&b' ') && letter_at(e + 1) && !b.get(e + 2).is_some_and(u8::is_ascii_alphanumeric);
    single_before || single_after
}

/// Four digits from 1900 to 2099.
fn is_year(text: &str) -> bool {
    text.len() == 4 && text.parse::<u16>().is_ok_and(|y| (1900..=2099).contains(&y))
}

/// A range of two numbers, the lower first (`70-99`, `100-200`, `1000-2000`): both of up to three digits, or both
/// of four. `23-1184` and `2024-0183` are identifiers' groups.
fn is_range(text: &str) -> bool {
    let Some(dash) = text.bytes().position(|c| c == b'-') else { return false };
    let (low, high) = (&text[..dash], &text[dash + 1..]);
    let short = |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
    if !(short(low) && short(high)) || !(low.len() <= 3 && high.len() <= 3 || low.len() == high.len()) {
        return false;
    }
    low.parse::<u16>().ok() < high.parse::<u16>().ok()
}

fn is_zip(text: &str) -> bool {
    let b = text.as_bytes();
    (b.len() == 5 && b.iter().all(u8::is_ascii_digit))
        || (b.len() == 10 && b[5] == b'-' && b[..5].iter().chain(&b[6..]).all(u8::is_ascii_digit))
}

/// Byte offset just after the last character of `text` matching `pred` (0 when none does).
fn after_last(text: &str, pred: impl Fn(char) -> bool) -> usize {
    text.char_indices().rev().find(|&(_, c)| pred(c)).map_or(0, |(i, c)| i + c.len_utf8())
}

/// `date of birth is seven seven sixty one` (`7761`), `d o b one fourteen sixty one` (`11461`): a date dictated
/// without its leading zeros, which the rewrite joins into four or five digits. Only after a word of birth in
/// lower-case text (dictation): `on twelve thirty` is a time.
fn dictated_short_date(hay: &str, s: usize, text: &str) -> bool {
    let n = |r: std::ops::Range<usize>| text.get(r).and_then(|t| t.parse::<u32>().ok()).unwrap_or(0);
    let dated = match text.len() {
        4 => validate::is_calendar_date(None, n(0..1), n(1..2)),
        5 => validate::is_calendar_date(None, n(0..2), n(2..3)) || validate::is_calendar_date(None, n(0..1), n(1..3)),
        _ => false,
    };
    // Bytes: 16 bytes back need not be a character's start.
    let b = hay.as_bytes();
    let before = b[s.saturating_sub(16)..s].trim_ascii_end();
    let birth =
        || ["birth", "birth is", "dob", "d o b", "born", "born on"].iter().any(|w| before.ends_with(w.as_bytes()));
    let lower_case = || !b[s.saturating_sub(120)..(s + 120).min(b.len())].iter().any(u8::is_ascii_uppercase);
    dated && birth() && lower_case()
}

/// A date in digits alone after a date label: `19620314`, `03141962` or `031462` (as dictated: `oh three fourteen
/// sixty two`).
fn compact_date(text: &str) -> bool {
    let n = |r: std::ops::Range<usize>| text.get(r).and_then(|t| t.parse::<u32>().ok()).unwrap_or(0);
    match text.len() {
        8 => {
            validate::is_calendar_date(Some(n(0..4)), n(4..6), n(6..8))
                || validate::is_calendar_date(Some(n(4..8)), n(0..2), n(2..4))
        }
        6 => validate::is_calendar_date(None, n(0..2), n(2..4)),
        _ => false,
    }
}

/// Whether a US state name or abbreviation stands right before `s` (`Springfield, IL 62704`).
fn state_before(hay: &str, s: usize) -> bool {
    // By bytes, as every bare five-digit number comes here: only ASCII is trimmed, and the word is ASCII letters.
    let before = trim_end_ascii(&hay[..s], b" ,.");
    let word = last_word(before);
    let word_start = before.len() - word.len();
    !word.is_empty() && word.len() <= 14 && Lexicon::get().is_state(word_key(word)) && {
        let prev = trim_end_ascii(&before[..word_start], b" ");
        prev.ends_with(',') || word.len() == 2 && word.bytes().all(|b| b.is_ascii_uppercase())
    }
}

/// The label phrase nearest before `s`, skipping separators and up to three filler words, on the same line (or the
/// previous line when the value starts its own line). A number or identifier in between ends the search.
pub(crate) fn left_label(hay: &str, s: usize) -> Option<Label> {
    let lex = Lexicon::get();
    let mut walk = WordsBefore { b: hay.as_bytes(), i: s, floor: s.saturating_sub(80), newlines: 0, n: 0, done: false };
    // The nearest word, alone, first: most values have one before them that is neither a label, nor the end of a
    // label phrase, nor a filler, nor a state's code (see the loop below), and its lookup settles them without the
    // phrase machinery.
    // A word of letters alone (nearly every one) is hashed as the tokenizer hashes it, without the tests for bytes
    // the hash skips (`'`) or folds (non-ASCII): the same value.
    let hash = |(a, z, letters): (usize, usize, bool)| read_short_word_hash(hay, a..z, letters);
    let (a, z, letters) = walk.next_word()?;
    let nearest = hash((a, z, letters));
    // A word the filter turns away (nearly every one) has none of what is tested below: no label, no label's end, no
    // filler and no state, without a lookup in the lexicon's table.
    if !lex.may_be_label_word(nearest) {
        return None;
    }
    let nearest_entry = lex.entry(nearest);
    let entry = &nearest_entry;
    if entry.label.is_none() && !entry.label_tail && !entry.filler && !is_state_code(hay, a, z, entry) {
        return None;
    }
    // A label of one word that ends no longer label and is no filler (`BP`, `MRN`) is the answer, as the loop below
    // would find at its first step, without setting that loop up; a word that is also a name goes the long way.
    // A name-like label is an identifier's (a test says so), and flagged in the lexicon: the text of another is not
    // compared.
    if let Some(label) = entry.label
        && !entry.label_tail
        && !entry.filler
        && !(entry.name_like && is_name_like_label(&hay[a..z]))
    {
        return Some(label);
    }
    left_label_phrase(hay, walk, (a, z), nearest, nearest_entry)
}

/// Whether the word `a..z` (of lexicon entry `entry`) is a state's code: two upper-case letters that name a state
/// (`NY` of `Driver's license: NY 123456789`).
fn is_state_code(hay: &str, a: usize, z: usize, entry: &LexEntry) -> bool {
    z - a == 2 && hay.as_bytes()[a..z].iter().all(u8::is_ascii_uppercase) && entry.state
}

/// [`left_label`] past its nearest word (`a..z`, hashed `nearest`, with entry `nearest_entry`), which is a filler, a
/// state's code, a label's end or a name-like label: phrases of several words, and labels behind fillers. Out of line
/// and cold: one call in fourteen gets here (2,900 of 40,400 on 2,000 notes without PHI), and kept apart the registers
/// and stack this needs are not saved and set up for the others.
#[cold]
#[inline(never)]
fn left_label_phrase(
    hay: &str,
    mut walk: WordsBefore<'_>,
    (a, z): (usize, usize),
    nearest: u64,
    nearest_entry: LexEntry,
) -> Option<Label> {
    let lex = Lexicon::get();
    let hash = |(a, z, letters): (usize, usize, bool)| read_short_word_hash(hay, a..z, letters);
    let state_code = || is_state_code(hay, a, z, &nearest_entry);
    // words[0] is nearest; they are read (and hashed) only as far as the phrases below need them: a phrase of several
    // words is looked up only before a word that ends such a label (`birth` of `date of birth`), and most values have
    // none, so most calls read one word and look it up once.
    let mut hashes = [nearest, 0, 0, 0, 0, 0];
    let mut spans = [(a, z), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)];
    let mut n = 1;
    let mut read_up_to = |m: usize, hashes: &mut [u64; 6], spans: &mut [(usize, usize); 6], n: &mut usize| {
        while *n < m.min(6) {
            let Some((a, z, letters)) = walk.next_word() else { break };
            hashes[*n] = hash((a, z, letters));
            spans[*n] = (a, z);
            *n += 1;
        }
        *n >= m
    };
    // A filler that is a label of its own (`on` of `seen on 3/4`) gives way to an identifier's label farther back
    // (`auth on file`), not to any other (`TSH on 9/22`).
    let mut filler_label = None;
    let mut filler_before = false;
    // Try, for each end position k (nearest first), phrases words[k+len-1..=k] in text order.
    for k in 0..4 {
        // Only filler words (`is`, `number`, `on file`) may stand between the label and the value, and right before
        // the value a state's code (`Driver's license: NY 123456789`, `TX RN license`). Tested before word k is read:
        // most values have neither, and the word would be read (and hashed) for nothing.
        if k > 0 && !filler_before && !(k == 1 && state_code()) {
            break;
        }
        if !read_up_to(k + 1, &mut hashes, &mut spans, &mut n) {
            break;
        }
        // The nearest word's entry was looked up above: most calls that get here stop at it.
        // A word the filter turns away has no label, ends none and is no filler: its entry's other fields are not read.
        let entry = if k == 0 {
            nearest_entry
        } else if lex.may_be_label_word(hashes[k]) {
            lex.entry(hashes[k])
        } else {
            LexEntry::default()
        };
        for len in (1..=3).rev() {
            let label = if len == 1 {
                entry.label
            } else if entry.label_tail && read_up_to(k + len, &mut hashes, &mut spans, &mut n) {
                let mut h = KeyHasher::default();
                for &hash in hashes[k..k + len].iter().rev() {
                    h.push(hash);
                }
                let key = h.finish();
                if lex.may_be_label_word(key) { lex.label(key) } else { None }
            } else {
                continue;
            };
            if let Some(label) = label {
                let (a, z) = spans[k];
                if len == 1 && entry.name_like && is_name_like_label(&hay[a..z]) && !written_as_label(hay, a, z) {
                    continue;
                }
                if len == 1 && entry.filler {
                    filler_label = filler_label.or(Some(label));
                    continue;
                }
                if filler_label.is_some() && !matches!(label, Label::Id(_)) {
                    return filler_label;
                }
                return Some(label);
            }
        }
        filler_before = entry.filler;
    }
    filler_label
}

/// An identifier label that is also a name (`Case`, `Fein`, `Kit`): a label only as `CASE`, `case`, `Case:` or
/// `Case #`, and never a stop to a name (`Dr. Bartholomew Fein`).
fn is_name_like_label(word: &str) -> bool {
    // Every one is three or four letters long: most words are turned away by their length alone.
    matches!(word.len(), 3 | 4) && NAME_LIKE_LABELS.iter().any(|w| word.eq_ignore_ascii_case(w))
}

// [`is_name_like_label`] turns away every other length.
const _: () = {
    let mut k = 0;
    while k < NAME_LIKE_LABELS.len() {
        assert!(matches!(NAME_LIKE_LABELS[k].len(), 3 | 4));
        k += 1;
    }
};

fn written_as_label(hay: &str, a: usize, z: usize) -> bool {
    let word = &hay[a..z];
    word.len() >= 2 && (!word.bytes().any(|b| b.is_ascii_lowercase()) || !word.bytes().any(|b| b.is_ascii_uppercase()))
        || hay[z..].trim_start_matches(' ').starts_with([':', '#'])
}

/// The words before a value, nearest first, on the same line (or the previous line when the value starts its own
/// line), at most six and 80 bytes back; a number or identifier in between ends the walk.
struct WordsBefore<'a> {
    b: &'a [u8],
    i: usize,
    floor: usize,
    newlines: u32,
    n: usize,
    done: bool,
}

/// [`WordsBefore`]'s classes of the bytes of a word: letters, digits and apostrophes; and of the bytes between words
/// that the walk stops or looks at (line breaks, `)`, `,` and `;`), so that it steps over all others (spaces, `:`)
/// after one table load.
const WORD_LETTER: u8 = 1;
const WORD_DIGIT: u8 = 2;
const WORD_APOSTROPHE: u8 = 4;
const WORD_BYTES: u8 = WORD_LETTER | WORD_DIGIT | WORD_APOSTROPHE;
const WORD_STOP: u8 = 8;
static WORD_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = if b.is_ascii_digit() {
            WORD_DIGIT
        } else if b.is_ascii_alphabetic() {
            WORD_LETTER
        } else if b == b'\'' {
            WORD_APOSTROPHE
        } else if matches!(b, b'\n' | b')' | b',' | b';') {
            WORD_STOP
        } else {
            0
        };
        c += 1;
    }
    table
};

impl WordsBefore<'_> {
    /// The next word's span, and whether it is all letters (no apostrophe).
    // Inlined into `left_label` always: as a call, saving and restoring its registers was an eighth of its cost (most
    // calls read one short word); inlined, mixed-4k -0.78M and nophi-2k -0.98M instructions.
    #[inline(always)]
    fn next_word(&mut self) -> Option<(usize, usize, bool)> {
        if self.done || self.n >= 6 {
            return None;
        }
        let b = self.b;
        while self.i > self.floor {
            let c = b[self.i - 1];
            if WORD_CLASS[usize::from(c)] == 0 {
                self.i -= 1;
                continue;
            }
            if c == b'\n' {
                self.newlines += 1;
                if self.newlines > 1 {
                    break;
                }
                self.i -= 1;
                continue;
            }
            if c.is_ascii_alphabetic() || c == b'\'' {
                let end = self.i;
                // One pass back over the word (letters, digits, apostrophes) that also notes a digit in it; over a
                // slice of its own, so that the loop carries no bounds checks.
                let run = &b[self.floor..end];
                let (mut k, mut classes) = (run.len(), 0);
                while k > 0 && WORD_CLASS[usize::from(run[k - 1])] & WORD_BYTES != 0 {
                    classes |= WORD_CLASS[usize::from(run[k - 1])];
                    k -= 1;
                }
                self.i = self.floor + k;
                // `mg/dL|70-99`: the `dL` of a unit is not the driver's licence label `DL`.
                if self.i > 0 && b[self.i - 1] == b'/' && end - self.i >= 2 && unit_word(&b[self.i..end]) {
                    break;
                }
                if classes & WORD_DIGIT != 0 {
                    // `ICD-10`, `E11`: another code stands between.
                    if self.n == 0 && (b[self.i..end].len() <= 3) {
                        continue;
                    }
                    break;
                }
                self.n += 1;
                return Some((self.i, end, classes == WORD_LETTER));
            }
            if c.is_ascii_digit() {
                break;
            }
            // A remark in brackets between label and value (`MRN (if known): 4002`, `Medicaid (Centennial Care) ID`)
            // is stepped over whole. One holding a number is a value of its own and ends the walk below; one holding a
            // label is read (`Health First Colorado (Medicaid) ID`).
            if c == b')'
                && let Some(open) = remark_start(b, self.floor, self.i - 1)
            {
                self.i = open;
                continue;
            }
            // A sentence or clause boundary after a word: stop unless it is an abbreviation dot (`No.`, `Acct.`).
            if matches!(c, b',' | b';') && self.n > 0 {
                break;
            }
            self.i -= 1;
        }
        self.done = true;
        None
    }
}

/// Start of the remark in brackets whose `)` is at `close`, at or after `floor`, when [`WordsBefore::next_word`] steps
/// over it: one without digits or labels. Out of line and cold, as is [`unit_word`]: few values have either before
/// them, and inlined into [`left_label`]'s first step their calls made it save and set up registers and stack it
/// otherwise does not need.
#[cold]
#[inline(never)]
fn remark_start(b: &[u8], floor: usize, close: usize) -> Option<usize> {
    let open = floor + b[floor..close].iter().rposition(|&c| matches!(c, b'(' | b')' | b'\n'))?;
    let remark = std::str::from_utf8(&b[open + 1..close]).ok()?;
    let plain = b[open] == b'('
        && !remark.bytes().any(|c| c.is_ascii_digit())
        && !remark.split(|c: char| !c.is_ascii_alphabetic()).any(|w| Lexicon::get().label(word_key(w)).is_some());
    plain.then_some(open)
}

/// Whether `word` (before a `/`) is a unit: see [`WordsBefore::next_word`].
#[cold]
#[inline(never)]
fn unit_word(word: &[u8]) -> bool {
    std::str::from_utf8(word).is_ok_and(|w| Lexicon::get().is_unit(word_key(w)))
}

/// The word right after `e` (past spaces and tabs): ASCII letters, digits, `/`, `%` and `'`. Read by bytes, not
/// chars: every byte that ends it is ASCII or starts a character, so the slice stays on char boundaries.
fn next_word(hay: &str, e: usize) -> &str {
    let (start, end) = next_word_span(hay.as_bytes(), e);
    &hay[start..end]
}

/// Byte span of [`next_word`].
fn next_word_span(b: &[u8], e: usize) -> (usize, usize) {
    let start = e + b[e..].iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    let len = b[start..].iter().take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'%' | b'\'')).count();
    (start, start + len)
}

fn right_is_unit(hay: &str, e: usize) -> bool {
    if hay[e..].starts_with('%') {
        return true;
    }
    let (start, end) = next_word_span(hay.as_bytes(), e);
    // Every unit starts with a letter, `%` or (skipped by the hash) an apostrophe: a word starting with a digit or `/`
    // is none, and is not hashed.
    if start == end || matches!(hay.as_bytes()[start], b'0'..=b'9' | b'/') {
        return false;
    }
    let (w, rest) = (&hay[start..end], &hay.as_bytes()[start..]);
    // A unit word before a colon is the next field's label (`P: 503.555.0177  F: 503.555.0178`), not a unit; a letter
    // before another letter is a dictated spelling (`fifty six m r n`).
    let label = rest.get(w.len()) == Some(&b':');
    let spelled = w.len() == 1
        && rest.get(1) == Some(&b' ')
        && rest.get(2).is_some_and(u8::is_ascii_alphabetic)
        && rest.get(3).is_none_or(|c| !c.is_ascii_alphabetic());
    !label && !spelled && Lexicon::get().is_unit(word_key(w))
}

/// End of `MM DD YYYY`, `MM DD YY` or, as dictated, `M D YY` (`seven seven sixty one`) from `s` (the month ends at
/// `e`), a real calendar date after a date label, or paired with another across a column gap (a claim's service
/// line: `03 03 25   03 03 25     11    99204`).
fn spaced_date(hay: &str, s: usize, e: usize) -> Option<usize> {
    let b = hay.as_bytes();
    // [`spaced_date_end`]'s first test, here so that most numbers (every bare one of one or two digits comes here) do
    // not make the call.
    if b.get(e) != Some(&b' ') {
        return None;
    }
    let end = spaced_date_end(hay, s, e)?;
    // A form's boxes pad month and day to two digits: only such a date pairs.
    let padded = e - s == 2 && b[e + 3] == b' ';
    let paired_after = padded && {
        let next = end + b[end..].iter().take_while(|&&c| c == b' ').count();
        next >= end + 2 && {
            let m = b[next..].iter().take_while(|c| c.is_ascii_digit()).count();
            m == 2 && spaced_date_end(hay, next, next + 2).is_some()
        }
    };
    let paired_before = padded && {
        let before = hay[..s].trim_end_matches(' ');
        s - before.len() >= 2
            && [8, 10].into_iter().any(|n| {
                before.len() >= n
                    && before.is_char_boundary(before.len() - n)
                    && spaced_date_end(hay, before.len() - n, before.len() - n + 2) == Some(before.len())
            })
    };
    (paired_after || paired_before || matches!(left_label(hay, s), Some(Label::Date))).then_some(end)
}

/// End of a real calendar date written `M D YY` to `MM DD YYYY` from `s` (the month ends at `e`).
fn spaced_date_end(hay: &str, s: usize, e: usize) -> Option<usize> {
    let b = hay.as_bytes();
    let run = |from: usize| b.get(from..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
    if b.get(e) != Some(&b' ') || (s > 0 && b[s - 1].is_ascii_alphanumeric()) {
        return None;
    }
    let day_len = run(e + 1);
    let y = e + 2 + day_len;
    if !(1..=2).contains(&day_len) || b.get(y - 1) != Some(&b' ') {
        return None;
    }
    let year_digits = run(y);
    if year_digits != 2 && year_digits != 4 {
        return None;
    }
    let end = y + year_digits;
    if b.get(end).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let (m, d): (u32, u32) = (hay.get(s..e)?.parse().ok()?, hay[e + 1..y - 1].parse().ok()?);
    let year = (year_digits == 4).then(|| hay[y..end].parse().ok()).flatten();
    validate::is_calendar_date(year, m, d).then_some(end)
}

/// `Mr. Otis Redding-Hale, 92, CHF`: a number set off by commas right after a titled name (a list of patients).
fn titled_name_before(hay: &str, s: usize, e: usize) -> bool {
    let Some(before) = hay[..s].strip_suffix(", ") else { return false };
    if !hay[e..].starts_with([',', ';', ')']) {
        return false;
    }
    let mut words = before.rsplit(' ');
    // One to three capitalised name words, then the title.
    for _ in 0..3 {
        let Some(w) = words.next() else { return false };
        if !w.starts_with(|c: char| c.is_ascii_uppercase()) {
            return false;
        }
        if let Some(title) = words.clone().next()
            && matches!(title.trim_end_matches('.').to_ascii_lowercase().as_str(), "mr" | "mrs" | "ms" | "miss")
        {
            return true;
        }
    }
    false
}

/// `she is 91`, `(he's 93)`, `Pt is 95.`, `who is now 92`, `Mrs. Abramowitz (MRN 3390217) is 96`: a person is the
/// subject of `is` right before the number.
fn subject_is_before(hay: &str, s: usize) -> bool {
    let before = hay[..s].trim_end_matches(' ');
    let before = before.strip_suffix(" now").unwrap_or(before);
    // A remark in brackets between the subject and `is` is stepped over (rare: only numbers of 90 to 125 get here).
    let unbracketed;
    let before = if let Some(subject) = before.strip_suffix(" is").map(str::trim_end)
        && subject.ends_with(')')
        && let Some(open) = subject.rfind('(')
        && subject.len() - open <= 40
    {
        unbracketed = format!("{} is", subject[..open].trim_end());
        unbracketed.as_str()
    } else {
        before
    };
    // Compared without lower-casing into new strings: every bare number from 90 to 125 comes here.
    let one_of = |w: &str, list: &[&str]| list.iter().any(|l| w.eq_ignore_ascii_case(l));
    let mut words = before.rsplit([' ', '(', '\n']).filter(|w| !w.is_empty());
    let Some(verb) = words.next() else { return false };
    if one_of(verb, &["he's", "she's", "who's"]) {
        return true;
    }
    if !verb.eq_ignore_ascii_case("is") {
        return false;
    }
    let Some(subject) = words.next() else { return false };
    // `Mrs. Abramowitz is 96`: a surname after a title is a subject too.
    one_of(subject, &["he", "she", "pt", "patient", "who", "mother", "father", "mom", "dad"])
        || words.next().is_some_and(|t| one_of(t.trim_end_matches('.'), &["mr", "mrs", "ms", "miss"]))
}

fn right_is_age(hay: &str, e: usize) -> bool {
    const AGE_WORDS: [&[u8]; 9] =
        [b"year old", b"year-old", b"years old", b"years-old", b"y/o", b"y.o", b"yr old", b"yrs old", b"years of age"];
    // Lower-cased into a stack buffer: this runs for every bare number, so it must not allocate.
    let rest = hay[e..].trim_start_matches([' ', '-', '\n']).as_bytes();
    // Every age word starts with `y`.
    if !matches!(rest.first(), Some(b'y' | b'Y')) {
        return false;
    }
    let mut buf = [0u8; 12];
    let n = rest.len().min(buf.len());
    for (d, s) in buf.iter_mut().zip(&rest[..n]) {
        *d = if *s == b'\n' { b' ' } else { s.to_ascii_lowercase() };
    }
    let lower = &buf[..n];
    // `yo`, `y`, `yr`, `yrs` then anything but a letter (`92 yo)`, `(91 y)`, `90 yrs,`).
    let word_then_no_letter =
        |w: &[u8]| lower.starts_with(w) && lower.get(w.len()).is_none_or(|c| !c.is_ascii_alphabetic());
    AGE_WORDS.iter().any(|p| lower.starts_with(p))
        || [&b"yo"[..], b"y", b"yr", b"yrs"].into_iter().any(word_then_no_letter)
}

// ---------------------------------------------------------------------------------------------------------------
// Word pass: names, places, facilities.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Lower,
    Cap,
    Upper,
    Initial,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    hash: u64,
    case: Case,
    /// The line has no capitalised words (dictation) or is all upper case (forms): case carries no signal.
    caseless: bool,
    /// Separator text between the previous word and this one.
    gap_start: usize,
    /// Inside a structured match (address, date, e-mail): not a name, place or facility word.
    blocked: bool,
    /// [`Word::PERSON_START`] and [`Word::CITY_START`]: whether [`persons`] and [`cities`] look for a name starting
    /// here, decided once the line's case and the word's gazetteer flags are known (and cleared when it is blocked),
    /// so that their loops over every word test one byte.
    starts: u8,
    /// Gazetteer flags, looked up once (possibly with [`WordFacts::RARE`], which no reader tests).
    flags: u8,
    roles: u8,
    facility: Option<FacilityWord>,
    /// [`Word::STATE`], [`Word::ID_LABEL`], [`Word::MONTH`], [`Word::RULE`], [`Word::CUE_TAIL`] and
    /// [`Word::STATE_HEAD`] bits, in one byte so that a word stays 40 bytes: every pass over a note's words reads them
    /// all. The tokenizer copies the lexicon's [`WordFacts::marks`] in whole, so the byte may also hold
    /// [`WordFacts::RULE_CUE`], which no word reads, and [`WordFacts::KNOWN`], which only [`finish_line`] reads.
    marks: u8,
}

// A word's size is what every pass over a note's words pays for.
const _: () = assert!(std::mem::size_of::<Word>() == 40);

// The lexicon's marks are a word's marks as they are (see `Word::marks`): `RULE_WORD` is the `RULE` bit, set in a
// word's marks whenever the lexicon's is (a rule word is a rule start), and no word bit is `RULE_CUE`'s or `KNOWN`'s.
const _: () = {
    assert!(Word::RULE == WordFacts::RULE_WORD);
    let word_bits = Word::STATE | Word::ID_LABEL | Word::MONTH | Word::RULE | Word::CUE_TAIL | Word::STATE_HEAD;
    assert!(word_bits & (WordFacts::RULE_CUE | WordFacts::KNOWN) == 0);
};

impl Word {
    const STATE: u8 = WordFacts::STATE;
    const ID_LABEL: u8 = WordFacts::ID_LABEL;
    const MONTH: u8 = WordFacts::MONTH;
    /// One of [`word_rules`]'s rules may find something at this word: it is a word they look for ([`RULE_WORDS`], a
    /// month, a word with a hyphen), follows a word they look after ([`RULE_CUES`]) or follows `^` or `(`. The
    /// rest of the words (nearly all) that loop skips.
    const RULE: u8 = 8;
    /// The last word of a multi-word name cue ([`LexEntry::cue_tail`]): [`name_cue`] looks the two words up together
    /// only after one.
    const CUE_TAIL: u8 = WordFacts::CUE_TAIL;
    /// The first word of a state's name of several words ([`LexEntry::state_head`]).
    const STATE_HEAD: u8 = WordFacts::STATE_HEAD;

    /// Unblocked, and capitalised or in a caseless line: a person's name may start here.
    const PERSON_START: u8 = 1;
    /// Unblocked, and a gazetteer place (or a place's first word), or in a line with case a capitalised word that is
    /// neither a clinical word nor a vehicle make ([`cities`] would turn those away at once): a city may start here.
    const CITY_START: u8 = 2;

    /// The [`Word::PERSON_START`] and [`Word::CITY_START`] bits of an unblocked word whose case, line case, flags and
    /// roles are known.
    fn starts_of(&self) -> u8 {
        let person = self.caseless || matches!(self.case, Case::Cap | Case::Upper | Case::Initial);
        let city = self.flags & (PLACE | PLACE_HEAD) != 0
            || (!self.caseless && matches!(self.case, Case::Cap | Case::Upper) && self.roles & role::CLINICAL == 0);
        (u8::from(person) * Self::PERSON_START) | (u8::from(city) * Self::CITY_START)
    }

    /// A US state name or abbreviation.
    fn state(&self) -> bool {
        self.marks & Self::STATE != 0
    }

    /// A one-word identifier label (`DEA`, `NPI`, `MRN`): never part of a name.
    fn id_label(&self) -> bool {
        self.marks & Self::ID_LABEL != 0
    }

    /// A month's full name.
    fn month(&self) -> bool {
        self.marks & Self::MONTH != 0
    }
}

fn case_of(w: &str) -> Case {
    let (mut letters, mut uppers) = (0usize, 0usize);
    let mut first_upper = None;
    for c in w.chars() {
        if c.is_alphabetic() {
            letters += 1;
            let upper = if c.is_ascii() { c.is_ascii_uppercase() } else { c.is_uppercase() };
            uppers += usize::from(upper);
            first_upper.get_or_insert(upper);
        }
    }
    case_from_counts(first_upper.unwrap_or(false), letters, uppers)
}

/// The case of a word from its letter counts and whether its first letter is upper case.
fn case_from_counts(first_upper: bool, letters: usize, uppers: usize) -> Case {
    match (first_upper, letters, uppers) {
        (true, 1, _) => Case::Initial,
        (true, l, u) if u == l => Case::Upper,
        (true, _, _) => Case::Cap,
        (false, _, 0) => Case::Lower,
        _ => Case::Other,
    }
}

/// The case of an ASCII word from whether its first letter is upper case, whether it is one letter long, and the or
/// of its letters' [`BYTE_CLASS`]es: [`case_from_counts`] without counting (no lower-case letter is `uppers ==
/// letters`, no upper-case one is `uppers == 0`), so that the tokenizer's loop over letters only ors a class in.
fn case_from_classes(first_upper: bool, single: bool, classes: u8) -> Case {
    match (first_upper, single) {
        (true, true) => Case::Initial,
        (true, false) if classes & LOWER_LETTER == 0 => Case::Upper,
        (true, false) => Case::Cap,
        (false, _) if classes & UPPER_LETTER == 0 => Case::Lower,
        (false, _) => Case::Other,
    }
}

/// [`case_from_classes`] from whether a word of ASCII letters has an upper-case and a lower-case letter, whether its
/// first letter is upper case and whether it is one letter long, asking first what nearly every word answers: a word
/// without a capital is lower case whatever else holds.
#[inline]
fn case_from_bits(any_upper: bool, any_lower: bool, first_upper: bool, single: bool) -> Case {
    if !any_upper {
        Case::Lower
    } else if !first_upper {
        Case::Other
    } else if single {
        Case::Initial
    } else if any_lower {
        Case::Cap
    } else {
        Case::Upper
    }
}

const LOWER_LETTER: u8 = 1;
const UPPER_LETTER: u8 = 2;
const NEWLINE: u8 = 4;
const NON_ASCII: u8 = 8;
const OPENER: u8 = 16;
/// `'` and `-`, which may join two words' letters into one word but start none: a separator otherwise.
const JOINER: u8 = 32;
/// An ASCII digit, which makes the letters before it part of a code (`A12`) but starts no word: a separator otherwise.
const DIGIT: u8 = 64;

/// [`LOWER_LETTER`] or [`UPPER_LETTER`] for each ASCII letter, [`NEWLINE`] for `\n`, [`NON_ASCII`] for a byte of a
/// character outside ASCII, [`OPENER`] for `^` and `(` (after which [`word_rules`] looks at a word), [`JOINER`] for
/// `'` and `-`, [`DIGIT`] for an ASCII digit and 0 for every other byte (a separator too): the tokenizer's one test
/// per byte.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 26 {
        table[b'a' as usize + c] = LOWER_LETTER;
        table[b'A' as usize + c] = UPPER_LETTER;
        c += 1;
    }
    table[b'\n' as usize] = NEWLINE;
    table[b'^' as usize] = OPENER;
    table[b'(' as usize] = OPENER;
    table[b'\'' as usize] = JOINER;
    table[b'-' as usize] = JOINER;
    let mut c = 0;
    while c < 10 {
        table[b'0' as usize + c] = DIGIT;
        c += 1;
    }
    let mut c = 0x80;
    while c < 256 {
        table[c] = NON_ASCII;
        c += 1;
    }
    table
};

/// A word of one to fifteen ASCII letters read from the eight or sixteen bytes at its start ([`ShortWord::read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShortWord {
    len: usize,
    /// Its case, taken from the same loads ([`case_from_bits`]).
    case: Case,
    /// [`letters_hash`](crate::gazetteer::letters_hash) of its letters.
    hash: u64,
    /// The byte after it is a plain separator (class 0: a space, most often), which the tokenizer then steps over
    /// without looking at it again.
    separator_after: bool,
}

impl ShortWord {
    /// The word at the start of `b` when it is one to fifteen ASCII letters and the byte after them is one that ends
    /// a word wherever it stands: not `'` or `-` (which may join two words' letters), not a byte of a character
    /// outside ASCII (which may be a letter) and not a digit (which makes the letters part of a code). The
    /// tokenizer's loop over letters ends such a word at that byte too, with this case and hash. Eight bytes a
    /// load (one load for a word of up to seven letters, four words in five): no branch per letter, and the hash
    /// takes the letters from the same loads.
    #[inline]
    fn read(b: &[u8]) -> Option<Self> {
        // The high bit of each byte of `x` that is an ASCII letter, and of each that is a lower-case one (a letter's
        // case is its 0x20 bit, moved up to the high bit).
        let letters = |x: u64| {
            let letters = bytes_in_range(x | CASE_BITS, b'a', b'z');
            (letters, letters & (x << 2))
        };
        let first = u64::from_le_bytes(*b.first_chunk::<8>()?);
        let l1 = letters(first);
        // The high bit of each upper-case letter of the first chunk; its lowest byte's is the word's first letter's.
        let upper1 = l1.0 ^ l1.1;
        // The byte after the word is taken from the load that holds it, not read again from `b` (with a bounds check).
        let (len, hash, case, after) = if l1.0 & HIGH_BITS != HIGH_BITS {
            let len = ((!l1.0 & HIGH_BITS).trailing_zeros() / 8) as usize;
            // Not an ASCII letter first (a word starting with a letter outside ASCII).
            if len == 0 {
                return None;
            }
            let word = u64::MAX >> (64 - 8 * len);
            (
                len,
                crate::gazetteer::short_letters_hash(first & word, len),
                case_from_bits(upper1 & word != 0, l1.1 & word != 0, upper1 & 0x80 != 0, len == 1),
                (first >> (8 * len)) as u8,
            )
        } else {
            let second = u64::from_le_bytes(*b.get(8..)?.first_chunk::<8>()?);
            let l2 = letters(second);
            // Sixteen letters or more.
            if l2.0 & HIGH_BITS == HIGH_BITS {
                return None;
            }
            let rest = ((!l2.0 & HIGH_BITS).trailing_zeros() / 8) as usize;
            let word = (1u64 << (8 * rest)) - 1;
            let hash = crate::gazetteer::long_letters_hash(first, second & word, 8 + rest);
            let upper = (upper1 | ((l2.0 ^ l2.1) & word)) != 0;
            let case = case_from_bits(upper, (l1.1 | (l2.1 & word)) != 0, upper1 & 0x80 != 0, false);
            (8 + rest, hash, case, (second >> (8 * rest)) as u8)
        };
        // One table load where four comparisons were four branches.
        let after = BYTE_CLASS[usize::from(after)];
        if after & (JOINER | NON_ASCII | DIGIT) != 0 {
            return None;
        }
        Some(Self { len, case, hash, separator_after: after == 0 })
    }
}

/// The hash of a word the tokenizer read letter by letter ([`ShortWord::read`] did not), `letters` when it is of
/// ASCII letters and hyphens only (nearly every such word): [`read_word_hash`].
///
/// Out of line: inlined, its chunk loop had the tokenizer's separator loop keep a count of its own for it.
#[inline(never)]
fn long_word_hash(hay: &str, word: std::ops::Range<usize>, letters: bool) -> u64 {
    read_word_hash(hay, word, letters)
}

/// `marks` of an identifier label the lexicon marks [`WordFacts::RARE`], without [`Word::ID_LABEL`] when the word
/// is one of [`NAME_LIKE_LABELS`] (not only of the same hash). Out of line, for the tokenizer's rare such words: the
/// test inline moved the tokenizer's registers (nophi-2k +0.8M instructions).
#[cold]
#[inline(never)]
fn name_like_label_marks(word: &str, marks: u8) -> u8 {
    if is_name_like_label(word) { marks & !Word::ID_LABEL } else { marks }
}

/// `&hay[start..end]`, out of line: for the tokenizer's rare reads of a word as text (a word with a letter outside
/// ASCII, an identifier label), whose address its loop otherwise computed for every word and spilled.
#[inline(never)]
fn word_text(hay: &str, start: usize, end: usize) -> &str {
    &hay[start..end]
}

/// [`word_hash`] of `hay[word]`, by [`letters_hash`](crate::gazetteer::letters_hash) when the word is known to be of
/// ASCII letters and hyphens only (`letters`), which needs none of the tests `word_hash` makes.
#[inline]
fn read_word_hash(hay: &str, word: std::ops::Range<usize>, letters: bool) -> u64 {
    if letters { crate::gazetteer::letters_hash(&hay.as_bytes()[word]) } else { word_hash(&hay[word]) }
}

/// [`read_word_hash`], reading a word of fewer than eight ASCII letters (nearly every label and every word before a
/// value, for [`left_label`]) in one eight-byte load from its start with the bytes after it masked away, where the
/// general reading (a call) took a chunk loop and two overlapping loads.
#[inline]
fn read_short_word_hash(hay: &str, word: std::ops::Range<usize>, letters: bool) -> u64 {
    let len = word.end - word.start;
    match hay.as_bytes().get(word.start..word.start + 8) {
        Some(chunk) if letters && (1..8).contains(&len) => {
            let bytes = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            crate::gazetteer::short_letters_hash(bytes & (u64::MAX >> (64 - 8 * len)), len)
        }
        _ => read_word_hash(hay, word, letters),
    }
}

/// A note's words, and where the passes that start at few of them start.
///
/// The tokenizer notes the indices of the rare words that [`word_rules`], [`facilities`] and [`organizations`] start
/// at as it pushes them, so that those passes visit these words only rather than each loop over every word of the
/// note to find them.
#[derive(Debug, Default)]
struct Words {
    list: Vec<Word>,
    /// Words marked [`Word::RULE`], from the second word on.
    rule_at: Vec<usize>,
    /// Facility heads and generic facility words ([`FacilityWord::Head`], [`FacilityWord::Generic`]).
    facility_at: Vec<usize>,
    /// The index after each word with the [`role::ORG_CUE`] role (one past the last word for a cue that ends the note).
    after_org_cue: Vec<usize>,
    /// [`block_structured`]'s spans, then [`coreference`]'s, kept for the next note so that a note allocates none.
    spans: Vec<(usize, usize)>,
    /// [`coreference`]'s names (the hashes of their words), kept like `spans`.
    names: Vec<u64>,
    /// [`coreference`]'s names that are also English words, kept like `spans`.
    common_names: Vec<u64>,
    /// [`persons`]'s parts of the name it reads, kept like `spans`.
    parts: Vec<NamePart>,
    /// Each word's [`Word::starts`], in a list of their own (see [`next_start`]), kept like `spans`.
    starts: Vec<u8>,
}

impl Words {
    const fn new() -> Self {
        Self {
            list: Vec::new(),
            rule_at: Vec::new(),
            facility_at: Vec::new(),
            after_org_cue: Vec::new(),
            spans: Vec::new(),
            names: Vec::new(),
            common_names: Vec::new(),
            parts: Vec::new(),
            starts: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.rule_at.clear();
        self.facility_at.clear();
        self.after_org_cue.clear();
    }
}

/// Finishes a line of words that the tokenizer pushed as in a line with case (most lines): its gazetteer flags looked
/// up unless it is lower case (lower-case words of a mixed-case line are never names or places: their cache-missing
/// lookup is skipped), its starts decided. A line found at its end to have no capitalised word is then done again,
/// so that no second pass goes over the words of the other lines. Whether a line has a capitalised word is found
/// here, by a walk over its words that most lines end at their first (a sentence starts capitalised), rather than
/// tracked for every word: a flag kept through the tokenizer's loop took a register that every word then spilled and
/// reloaded.
///
/// Cold and out of line: a line ends once in dozens of words, and the tokenizer's loop then keeps its registers for
/// the words.
#[cold]
#[inline(never)]
fn finish_line(words: &mut [Word], gaz: &Gazetteer, lex: &Lexicon) {
    // Whether the line has a lower-case word of two letters or more, found on the same walk rather than tracked for
    // every word of every line: only a line without a capitalised word asks.
    let mut has_lower = false;
    for w in words.iter() {
        if w.case == Case::Cap {
            return;
        }
        has_lower |= w.case == Case::Lower && w.end - w.start >= 2;
    }
    // Dictation (no capitalised word) and upper-case forms (no capitalised word either) carry no case signal; but a
    // short upper-case word among lower-case ones is an acronym (`by LMP 2/3/23, c/w 8 wk US`).
    for w in words {
        w.caseless = !(has_lower && w.case == Case::Upper && w.end - w.start <= 4);
        if w.case == Case::Lower {
            // A word the lexicon knows has its gazetteer flags in its facts, in a table of 128 KiB that the tokenizer
            // keeps warm: the 4 MiB gazetteer's lookup would most likely miss the cache.
            w.flags =
                if w.marks & WordFacts::KNOWN != 0 { lex.word_facts(w.hash).gazetteer } else { gaz.flags_of(w.hash) };
        }
        w.starts = w.starts_of();
    }
}

/// The tokenizer's words not in lower case that the lexicon does not know (names and places, most of them; one word
/// in thirty on notes without PHI), whose gazetteer flags and starts it looks up together at the note's end (the
/// first [`LaterLookups::ROOM`] of them; any after those as it reads them), rather than each as it reads the word.
///
/// Most such words are rare, so a lookup most often misses the cache for its line of the 4 MiB table. Looked up one
/// by one as the tokenizer read them, each miss stalled the tokenizer's loop (3-5% of the time on mixed notes,
/// nearly all on the lookup's one load); [`LaterLookups::look_up`] first reads every first slot in a loop that does
/// not branch on them, so that their misses are under way together (a loop of lookups alone, which branches on
/// each slot, overlapped them less). More instructions (about 50 a lookup where one took 20), less time.
struct LaterLookups {
    at: [u32; Self::ROOM],
    len: usize,
}

impl LaterLookups {
    const ROOM: usize = 64;

    fn new() -> Self {
        Self { at: [0; Self::ROOM], len: 0 }
    }

    /// Notes the word at `index` (of hash `hash`) for [`LaterLookups::look_up`], its flags 0 until then; when
    /// there is no room left, its flags at once. Out of line like the lookup it stands for, and one call (given
    /// nothing of the word list) where a test for room and a second call made the tokenizer's loop keep more in
    /// step (nophi-2k +0.66M instructions).
    #[inline(never)]
    fn note(&mut self, index: usize, hash: u64, gaz: &Gazetteer) -> u8 {
        let Some(at) = self.at.get_mut(self.len) else { return gaz.flags_of(hash) };
        *at = index as u32;
        self.len += 1;
        0
    }

    /// Looks up the noted words' flags and decides their starts; their lines' case is known by now (`caseless` is
    /// final: a line without a capitalised word had its starts decided by [`finish_line`] with these flags still 0).
    #[inline(never)]
    fn look_up(&mut self, words: &mut [Word], gaz: &Gazetteer) {
        let at = &self.at[..self.len];
        gaz.touch(at.iter().map(|&k| words[k as usize].hash));
        for &k in at {
            let w = &mut words[k as usize];
            w.flags = gaz.flags_of(w.hash);
            // Its starts were decided with its flags 0, and a place's flags only add a city start: `starts_of` is
            // not called again for the rest of it.
            if w.flags & (PLACE | PLACE_HEAD) != 0 {
                w.starts |= Word::CITY_START;
            }
            debug_assert_eq!(w.starts, w.starts_of());
        }
        self.len = 0;
    }
}

// Not inlined into the word pass: its byte loops then keep their state in registers rather than sharing them with
// the passes after it (nophi-2k 599.1M -> 590.5M instructions).
#[inline(never)]
fn tokenize(hay: &str, words: &mut Words, gaz: &Gazetteer, lex: &Lexicon) {
    let b = hay.as_bytes();
    let mut i = 0;
    let mut line_first = 0;
    let mut gap_start = 0;
    // Beyond the words the lexicon marks, the word read is one [`word_rules`] looks at when it starts before this
    // position: `usize::MAX` (any word) after one of [`RULE_CUES`] or for a word with a hyphen, one past the position
    // after a `^` or `(` (only a word starting right there), 0 (none) otherwise. One comparison a word where a cue
    // flag, the last `^` or `(`'s position and a hyphen flag took three, and three registers. Set again only by the
    // words that the lexicon marks [`WordFacts::RARE`] (the cues among them) or that it holds for (see below).
    let mut rule_before = 0;
    let mut later = LaterLookups::new();
    // The word list in a local of its own while the loop pushes to it: through `words`, every push read its length
    // and capacity from memory and stored its length back.
    let mut list = std::mem::take(&mut words.list);
    'words: while i < b.len() {
        // Separators (most bytes between words) in a loop of their own: this loop, inlined into the word pass, keeps
        // so much in step that it would reload and spill its state for every byte.
        while b.get(i).is_some_and(|&c| BYTE_CLASS[usize::from(c)] & !(JOINER | DIGIT) == 0) {
            i += 1;
        }
        let Some(&c) = b.get(i) else { break };
        let class = BYTE_CLASS[usize::from(c)];
        if class & (LOWER_LETTER | UPPER_LETTER) == 0 {
            if class == NEWLINE {
                // A line without words (a blank line, a line of numbers) has nothing to finish.
                if line_first < list.len() {
                    finish_line(&mut list[line_first..], gaz, lex);
                }
                line_first = list.len();
                i += 1;
                continue;
            }
            if class == OPENER {
                i += 1;
                // After a cue, any word is one already.
                if rule_before != usize::MAX {
                    rule_before = i + 1;
                }
                continue;
            }
            match hay[i..].chars().next() {
                Some(ch) if ch.is_alphabetic() => {}
                other => {
                    i += other.map_or(1, char::len_utf8);
                    continue;
                }
            }
        }
        let start = i;
        // Bytes after the word that are known to be separators, stepped over at once: a possessive's `'s`, or the
        // byte after a short word when it is a plain separator.
        let mut skip = 0;
        // A word of up to fifteen ASCII letters ending at a byte that cannot continue it (nineteen words in twenty)
        // is read eight bytes at a time ([`ShortWord`]): its end, its case and its hash, without a branch
        // per letter or reading it again to hash it. Any other word (longer, with `'`, `-` or a letter outside
        // ASCII, before a digit, or near the text's end) is read by the loop below.
        let (hash, case) = 'read: {
            if let Some(short) = b.get(i..).and_then(ShortWord::read) {
                i += short.len;
                skip = usize::from(short.separator_after);
                break 'read (short.hash, short.case);
            }
            let mut hyphen = false;
            let mut apostrophe = false;
            // The classes of an ASCII word's letters, or-ed while scanning; a word with other letters is classified
            // by `case_of`.
            let (mut classes, mut ascii) = (0u8, true);
            while i < b.len() {
                // The run of ASCII letters that is most of every word, in a loop of its own: one table load per letter.
                while let Some(&c) = b.get(i) {
                    let class = BYTE_CLASS[usize::from(c)];
                    if class & (LOWER_LETTER | UPPER_LETTER) == 0 {
                        break;
                    }
                    classes |= class;
                    i += 1;
                }
                let Some(&c) = b.get(i) else { break };
                if (c == b'\'' || c == b'-') && i + 1 < b.len() && b[i + 1].is_ascii_alphabetic() {
                    // `'s` at the end of a word is a possessive, not part of the name.
                    if c == b'\''
                        && matches!(b[i + 1], b's' | b'S')
                        && (i + 2 >= b.len() || !b[i + 2].is_ascii_alphabetic())
                    {
                        skip = 2;
                        break;
                    }
                    hyphen |= c == b'-';
                    apostrophe |= c == b'\'';
                    i += 1;
                } else if c >= 0x80 {
                    match hay[i..].chars().next() {
                        Some(ch) if ch.is_alphabetic() => {
                            ascii = false;
                            i += ch.len_utf8();
                        }
                        _ => break,
                    }
                } else {
                    break;
                }
            }
            if i < b.len() && b[i].is_ascii_digit() {
                // Part of an alphanumeric code (`A12`): not a word.
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                gap_start = i;
                continue 'words;
            }
            // The word as bytes where they do (an ASCII word): a `str` slice checks both ends for character
            // boundaries.
            let case = if ascii {
                case_from_classes(b[start].is_ascii_uppercase(), i - start == 1, classes)
            } else {
                case_of(word_text(hay, start, i))
            };
            if hyphen {
                rule_before = usize::MAX;
            }
            (long_word_hash(hay, start..i, ascii && !apostrophe), case)
        };
        let facts = lex.word_facts(hash);
        let marks = facts.marks;
        let after_rule_cue = start < rule_before;
        // The lexicon's marks are kept whole: the bits a word has are the same bits there, and the others are
        // `Word::RULE`'s, or-ed in here, or bits no word reads (see `Word::marks`).
        let mut word_marks = marks;
        // One branch for the few words noted at all or compared with the name-like labels.
        if (facts.gazetteer & WordFacts::RARE != 0) | after_rule_cue {
            // Only a word here sets `rule_before` for the next: every rule cue is rare, and every word after a cue,
            // with a hyphen or right after a `^` or `(` comes here. Any other word leaves it 0 or one past a `^` or
            // `(` it starts after, which every later word also does: as good as 0.
            rule_before = usize::MAX * usize::from(marks & WordFacts::RULE_CUE != 0);
            let rule = (marks & (WordFacts::RULE_WORD | WordFacts::MONTH) != 0) | after_rule_cue;
            word_marks |= u8::from(rule) * Word::RULE;
            let index = list.len();
            if rule && index > 0 {
                words.rule_at.push(index);
            }
            if matches!(facts.facility, Some(FacilityWord::Head | FacilityWord::Generic)) {
                words.facility_at.push(index);
            }
            if facts.roles & role::ORG_CUE != 0 {
                words.after_org_cue.push(index + 1);
            }
            // An identifier label that is also a name loses its bit: only one the lexicon marks rare can be one
            // (`is_name_like_label` holds only for words of the name-like labels' hashes, which are marked so), and
            // any other label here keeps it.
            if marks & WordFacts::ID_LABEL != 0 {
                word_marks = name_like_label_marks(word_text(hay, start, i), word_marks);
            }
        }
        let mut word = Word {
            start,
            end: i,
            hash,
            case,
            caseless: false,
            gap_start,
            blocked: false,
            starts: 0,
            flags: 0,
            roles: facts.roles,
            facility: facts.facility,
            marks: word_marks,
        };
        // A lower-case word of a line with case has neither flags nor starts; a word the lexicon does not know has
        // them when its lookup comes (`LaterLookups`).
        if case != Case::Lower {
            word.flags =
                if marks & WordFacts::KNOWN != 0 { facts.gazetteer } else { later.note(list.len(), hash, gaz) };
            word.starts = word.starts_of();
        }
        list.push(word);
        gap_start = i;
        i += skip;
    }
    finish_line(&mut list[line_first..], gaz, lex);
    later.look_up(&mut list, gaz);
    words.list = list;
}

/// Marks the words that structured matches already cover (`words` as the tokenizer leaves them: none marked yet);
/// `spans` is room for their spans (emptied first).
fn block_structured(words: &mut [Word], structured: &[Candidate], spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    spans.extend(structured.iter().filter(|c| c.score >= 0.8).map(|c| (c.start, c.end)));
    spans.sort_unstable();
    // A word is blocked by the last span (in this order) that starts at or before it, when that span reaches past the
    // word's start. Words come from the tokenizer unblocked and in text order, so each span marks the words from its
    // start to its end or to the next span's start, whichever comes first, and the rest are never touched.
    let mut from = 0;
    for (k, &(start, end)) in spans.iter().enumerate() {
        let next = spans.get(k + 1).map_or(usize::MAX, |&(s, _)| s);
        if next == start {
            continue;
        }
        // Spans lie close together: the first word at or after `start` is walked to from `from`, in fewer steps than
        // a search in halves over every word left (and never more, over all spans, than one step per word). Eight
        // words a step first, reading the start of one word in eight: the words between two spans are most of a
        // note's, and a step read one 40-byte word.
        while words.get(from + 7).is_some_and(|w| w.start < start) {
            from += 8;
        }
        while from < words.len() && words[from].start < start {
            from += 1;
        }
        // The walk goes on past the words it marks: they all start before the next span, so the next walk would
        // only step over them again.
        let stop = end.min(next);
        while from < words.len() && words[from].start < stop {
            words[from].blocked = true;
            words[from].starts = 0;
            from += 1;
        }
    }
}

fn gap<'a>(hay: &'a str, w: &Word) -> &'a str {
    &hay[w.gap_start..w.start]
}

/// [`gap`] as bytes, without the `str` slice's checks that both ends are character boundaries (they are): for the
/// gaps that [`persons`], [`cities`] and [`facilities`] read at nearly every word they look at, only to compare them
/// with ASCII separators.
fn gap_bytes<'a>(hay: &'a str, w: &Word) -> &'a [u8] {
    &hay.as_bytes()[w.gap_start..w.start]
}

/// Whether `s` (a gap between words, most often one byte) holds `byte`: a plain scan where `str::contains` would call
/// `memchr`, which costs more than the whole scan of so short a string.
#[expect(
    clippy::manual_contains,
    reason = "slice::contains calls memchr, which costs more than the whole scan of a one-byte gap"
)]
fn has_byte(s: &[u8], byte: u8) -> bool {
    s.iter().any(|&c| c == byte)
}

/// Whether the gap before `w` holds `byte`.
fn gap_has(hay: &str, w: &Word, byte: u8) -> bool {
    has_byte(gap_bytes(hay, w), byte)
}

/// `gap(hay, w) == text` (`text` ASCII), read as bytes like [`gap_has`].
fn gap_is(hay: &str, w: &Word, text: &[u8]) -> bool {
    gap_bytes(hay, w) == text
}

/// The separator between two words allows them to be parts of one name: one space or one line break (a
/// possessive `'s` before it is fine). Two spaces separate the fields of a form.
fn joins(g: &[u8]) -> bool {
    let g = g.strip_prefix(b"'s").or_else(|| g.strip_prefix(b"'S")).unwrap_or(g);
    matches!(g, b" " | b"\n" | b" \n" | b"\n " | b"\t")
}

/// Like [`joins`], also allowing the period of an initial or abbreviation (`J. Smith`, `St. Louis`).
fn joins_after(hay: &str, prev: &Word, g: &[u8]) -> bool {
    // The word before is read only after a period.
    let short = || {
        prev.end - prev.start <= 2
            || matches!(&hay[prev.start..prev.end], "St" | "ST" | "st" | "Ste" | "Mt" | "MT" | "Ft" | "FT")
    };
    joins(g) || (matches!(g, b". " | b".\n" | b".") && short())
}

thread_local! {
    /// The word list of the last document analyzed on this thread, reused so that a call allocates no word list.
    static WORDS: RefCell<Words> = const { RefCell::new(Words::new()) };
}

/// Largest word list kept for the next document (about 4 MiB); a longer one is freed after its document.
const KEPT_WORDS: usize = 1 << 16;

fn words_pass(hay: &str, out: &mut Vec<Candidate>) {
    // Used in place: taking the lists out and putting them back moved them twice per note.
    WORDS.with(|w| {
        let words = &mut *w.borrow_mut();
        words.clear();
        words_pass_with(hay, words, out);
        if words.list.capacity() > KEPT_WORDS {
            *words = Words::new();
        }
    });
}

fn words_pass_with(hay: &str, all: &mut Words, out: &mut Vec<Candidate>) {
    let gaz = Gazetteer::get();
    let lex = Lexicon::get();
    all.list.reserve(hay.len() / 6);
    tokenize(hay, all, gaz, lex);
    if all.list.is_empty() {
        return;
    }
    let words = &mut all.list[..];
    block_structured(words, out, &mut all.spans);
    all.starts.clear();
    all.starts.extend(words.iter().map(|w| w.starts));
    let first_new = out.len();
    facilities(hay, words, &all.facility_at, gaz, lex, out);
    organizations(hay, words, &all.after_org_cue, lex, out);
    let first_person = out.len();
    persons(hay, words, &all.starts, lex, out, &mut all.parts);
    name_endings(hay, &mut out[first_person..]);
    cities(hay, words, &all.starts, gaz, lex, out);
    word_rules(hay, words, &all.rule_at, lex, out);
    branches_and_letterheads(hay, lex, first_new, out);
    drop_insurers(hay, first_new, out);
    coreference(words, first_new, out, (&mut all.spans, &mut all.names, &mut all.common_names));
}

/// The units after `ninety` in a spelled age (`ninety-four`).
pub(crate) const SPELLED_UNITS: [&str; 9] = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/// The words [`word_rules`]'s rules start at, in the lexicon in any case ([`LexEntry::rule_word`]): street types,
/// county words and `ninety` (with [`SPELLED_UNITS`] after a hyphen, added by the lexicon).
pub(crate) const RULE_WORDS: &[&[&str]] = &[DICTATED_STREET_TYPES, BARE_STREET_TYPES, COUNTY_WORDS, &["ninety"]];

/// The words after which [`word_rules`]'s rules look at the next word ([`LexEntry::rule_cue`]): initials' cues and
/// a spelling's cues.
pub(crate) const RULE_CUES: &[&[&str]] = &[INITIALS_CUES, &["by"], SPELLING_CUES];

/// The rules that look at one word and its neighbours, in one pass over the words (each pass over a long note's words
/// costs memory traffic of its own): a month named alone, a street without a house number, a dictated spelling,
/// initials that sign a record, and a county.
fn word_rules(hay: &str, words: &[Word], rule_at: &[usize], lex: &Lexicon, out: &mut Vec<Candidate>) {
    let mut spelled_until = 0;
    if let Some(c) = words.first().and_then(|w| prefixed_month(hay, w)) {
        out.push(c);
    }
    // The tokenizer noted the few words (marked [`Word::RULE`]) a rule below may start at; no other word is visited.
    for &i in rule_at {
        let w = &words[i];
        if w.caseless {
            if i >= spelled_until
                && let Some((c, next)) = spelled_name_at(hay, words, i - 1)
            {
                out.push(c);
                spelled_until = next;
            }
            if let Some(c) = dictated_street_at(hay, words, i) {
                out.push(c);
            }
        } else if let Some(c) = bare_street_at(hay, words, i) {
            out.push(c);
        }
        // The rules of a word after `^` or `(`, or starting `n`, are asked only there: this loop sees every word.
        let b = hay.as_bytes();
        match b[w.start - 1] {
            b'^' => out.extend(caret_name_at(hay, words, i)),
            b'(' => {
                if let Some((name, initials)) = initials_after_name(hay, words, i) {
                    out.extend([name, initials]);
                }
            }
            _ => {}
        }
        if let Some(c) = month_at(hay, words, i)
            .or_else(|| initials_at(hay, words, lex, i))
            .or_else(|| county_at(hay, words, i))
            .or_else(|| matches!(b[w.start], b'n' | b'N').then(|| spelled_age_at(hay, words, i)).flatten())
        {
            out.push(c);
        }
    }
}

/// An age over 89 spelled out in typed text (`aged ninety-four`, `Ninety-one years old`, `is ninety`), where the
/// dictation rewrite (lower-case text only) has not put it in digits: after an age word or a person's `is`, or before
/// `year`.
fn spelled_age_at(hay: &str, words: &[Word], j: usize) -> Option<Candidate> {
    let w = &words[j];
    let text = &hay[w.start..w.end];
    if !(6..=12).contains(&text.len()) || !text.get(..6).is_some_and(|t| t.eq_ignore_ascii_case("ninety")) {
        return None;
    }
    // One word (`ninety-four`) or two (`ninety four`).
    if text.len() > 6
        && !text[6..].strip_prefix('-').is_some_and(|u| SPELLED_UNITS.iter().any(|x| u.eq_ignore_ascii_case(x)))
    {
        return None;
    }
    let mut end = w.end;
    if text.len() == 6
        && let Some(next) = words.get(j + 1)
        && matches!(gap(hay, next), "-" | " ")
        && SPELLED_UNITS.iter().any(|u| hay[next.start..next.end].eq_ignore_ascii_case(u))
    {
        end = next.end;
    }
    // Bytes before the word, not a lower-cased copy of the whole text before it.
    let before = hay[..w.start].trim_end_matches([' ', ',']).as_bytes();
    let after = hay[end..].trim_start_matches([' ', '-']).as_bytes();
    let ends_with = |cue: &&str| {
        before.len() >= cue.len() && before[before.len() - cue.len()..].eq_ignore_ascii_case(cue.as_bytes())
    };
    let cued = ["aged", "age", "age:", "turned", "turns"].iter().any(ends_with)
        || subject_is_before(hay, w.start)
        || after.get(..4).is_some_and(|a| a.eq_ignore_ascii_case(b"year"));
    cued.then_some(Candidate { start: w.start, end, entity_type: EntityType::AgeOver89, score: 0.85 })
}

/// `on mill avenue`, `at joseph campau avenue`, `off post road`: in dictation, a street named without a house number
/// after `on`, `at` or `off`: one to three words (no stop or clinical word) and a street type spelled out.
const DICTATED_STREET_TYPES: &[&str] = &["avenue", "road", "street", "boulevard", "parkway", "highway"];

fn dictated_street_at(hay: &str, words: &[Word], j: usize) -> Option<Candidate> {
    let w = &words[j];
    if !(4..=9).contains(&(w.end - w.start)) || !DICTATED_STREET_TYPES.contains(&&hay[w.start..w.end]) {
        return None;
    }
    let mut i = j;
    while i > 0 && j - i < 3 {
        let p = &words[i - 1];
        if !gap_is(hay, &words[i], b" ") || !p.caseless || p.roles & (role::STOP | role::CLINICAL) != 0 || p.blocked {
            break;
        }
        i -= 1;
    }
    let cue = i.checked_sub(1).map(|k| &hay[words[k].start..words[k].end]);
    (i < j && gap_is(hay, &words[i], b" ") && matches!(cue, Some("on" | "at" | "off"))).then_some(Candidate {
        start: words[i].start,
        end: w.end,
        entity_type: EntityType::Address,
        score: 0.75,
    })
}

const COUNTY_WORDS: &[&str] = &["County", "COUNTY", "Parish", "PARISH", "Borough", "BOROUGH"];

/// A county, parish or borough named in full (`Hennepin County`, `Lafayette Parish`, `San Juan County`): a CITY, the
/// taxonomy's geographic subdivision smaller than a state. Its name is one to three capitalised words before the word.
fn county_at(hay: &str, words: &[Word], j: usize) -> Option<Candidate> {
    let w = &words[j];
    let len = w.end - w.start;
    if !(6..=7).contains(&len) || w.caseless || !matches!(hay.as_bytes()[w.start], b'C' | b'P' | b'B') {
        return None;
    }
    if !COUNTY_WORDS.contains(&&hay[w.start..w.end]) {
        return None;
    }
    let i = capitalised_name_before(hay, words, j);
    (i < j).then_some(Candidate { start: words[i].start, end: w.end, entity_type: EntityType::City, score: 0.85 })
}

/// The first of the one to three capitalised words right before `words[j]` (one space apart, none blocked, a stop
/// word, a title or a clinical word) that name a county or a street; `j` when there are none.
fn capitalised_name_before(hay: &str, words: &[Word], j: usize) -> usize {
    let mut i = j;
    while i > 0 && j - i < 3 {
        let p = &words[i - 1];
        let capitalised = matches!(p.case, Case::Cap | Case::Upper) && !p.caseless && !p.blocked;
        if !capitalised || !gap_is(hay, &words[i], b" ") || p.roles & (role::STOP | role::TITLE | role::CLINICAL) != 0 {
            break;
        }
        i -= 1;
    }
    i
}

/// A street named without a house number (`on Charlotte Ave`, `off Bridger Creek Rd`, `the CVS on Maple Ave`): one
/// to three capitalised words before a street type that is no one's name (`Lane` and `Drive` are), an ADDRESS above
/// the name it would otherwise be taken for.
const BARE_STREET_TYPES: &[&str] = &[
    "Ave",
    "Avenue",
    "Blvd",
    "Boulevard",
    "Rd",
    "Road",
    "Pkwy",
    "Parkway",
    "Hwy",
    "Highway",
    "Street",
    "AVE",
    "BLVD",
    "RD",
    "PKWY",
    "HWY",
];

fn bare_street_at(hay: &str, words: &[Word], j: usize) -> Option<Candidate> {
    let w = &words[j];
    // Every word is asked: the length and first letter turn nearly all away before any comparison.
    let len = w.end - w.start;
    if !(2..=9).contains(&len)
        || !matches!(hay.as_bytes()[w.start], b'A' | b'B' | b'R' | b'P' | b'H' | b'S')
        || w.blocked
        || !BARE_STREET_TYPES.contains(&&hay[w.start..w.end])
    {
        return None;
    }
    let i = capitalised_name_before(hay, words, j);
    let end = if hay[w.end..].starts_with('.') { w.end + 1 } else { w.end };
    (i < j).then_some(Candidate { start: words[i].start, end, entity_type: EntityType::Address, score: 0.86 })
}

/// The cues of a spelled name (`that`, before `'s`, and the words after it before a space).
const SPELLING_CUES: &[&str] = &["that", "thats", "spelled", "spelling", "name"];

/// A name spelled out in dictation after `that's`, `spelled` or `name` (`frank adeyemi that's a d e y e m i`, `last
/// name b e l l`): three or more one-letter words after the cue `words[i]` are the name's letters. Returns the name
/// and the index after the letters.
fn spelled_name_at(hay: &str, words: &[Word], i: usize) -> Option<(Candidate, usize)> {
    let w = &words[i];
    if !w.caseless || !(4..=8).contains(&(w.end - w.start)) || i + 3 >= words.len() {
        return None;
    }
    let text = &hay[w.start..w.end];
    let g = gap(hay, &words[i + 1]);
    let cue = (text == "that" && g == "'s ") || (text != "that" && SPELLING_CUES.contains(&text) && g == " ");
    if !cue {
        return None;
    }
    let letters =
        words[i + 1..].iter().take_while(|l| l.end - l.start == 1 && l.caseless && !gap_is(hay, l, b"\n")).count();
    let run = &words[i + 1..i + 1 + letters];
    (letters >= 3 && run.iter().skip(1).all(|l| gap_is(hay, l, b" "))).then(|| {
        let name =
            Candidate { start: run[0].start, end: run[letters - 1].end, entity_type: EntityType::Person, score: 0.8 };
        (name, i + 1 + letters)
    })
}

/// The fields whose value may be a person's initials (see [`initials_at`]; `by` after a verb too).
const INITIALS_CUES: &[&str] =
    &["tr", "tech", "initials", "scribe", "typist", "transcribed", "dictated", "transcriptionist"];

/// Initials that stand for a person at the end of a record (`tr: tlm`, `Tech: JRM`, `Entered by: JSW`, `Logged by kd`):
/// two or three letters, all of one case, after `tr`, `tech`, `initials` or a recording verb's `by`, ending the field,
/// in no list of words, credentials or abbreviations.
fn initials_at(hay: &str, words: &[Word], lex: &Lexicon, i: usize) -> Option<Candidate> {
    let w = &words[i];
    if !(2..=3).contains(&(w.end - w.start)) || w.blocked || w.flags & ENGLISH != 0 || w.roles != 0 {
        return None;
    }
    let text = &hay[w.start..w.end];
    let one_case = text.bytes().all(|b| b.is_ascii_uppercase()) || text.bytes().all(|b| b.is_ascii_lowercase());
    if !one_case || !matches!(gap(hay, w), " " | ": " | ":  ") {
        return None;
    }
    let prev = &words[i - 1];
    let cue = &hay[prev.start..prev.end];
    let recorded_by = cue.eq_ignore_ascii_case("by") && i >= 2 && gap_is(hay, prev, b" ") && {
        let verb = &hay.as_bytes()[words[i - 2].start..words[i - 2].end];
        verb.len() > 2 && verb[verb.len() - 2..].eq_ignore_ascii_case(b"ed")
    };
    let cued = recorded_by || INITIALS_CUES.iter().any(|c| cue.eq_ignore_ascii_case(c));
    let rest = &hay[w.end..];
    // `Grossed by: TLW/mk`: the dictating and the typing initials.
    let field_ends = ends_field(rest)
        || rest.strip_prefix('/').is_some_and(|r| {
            let n = r.bytes().take_while(u8::is_ascii_alphabetic).count();
            (2..=3).contains(&n) && ends_field(&r[n..])
        });
    let entry = lex.entry(w.hash);
    let known = entry.label.is_some() || entry.unit || entry.state || entry.facility.is_some() || is_credential(text);
    (cued && field_ends && !known).then_some(Candidate {
        start: w.start,
        end: w.end,
        entity_type: EntityType::Person,
        score: 0.7,
    })
}

/// `|BOUCHARD^ELODIE^M|`, `|RAMIREZ DE ARELLANO^LUISA|`: a person's name as HL7 writes it (family^given^middle)
/// in a pipe-delimited field of an export that is no HL7 message (those are read segment by segment in
/// [`crate::hl7`]). Found at the given name (`words[j]`, right after the first `^`); the family or given name must be
/// a Census name, so that coded values (`Glucose^LN`) are not taken.
fn caret_name_at(hay: &str, words: &[Word], j: usize) -> Option<Candidate> {
    let (w, family) = (&words[j], &words[j - 1]);
    if !gap_is(hay, w, b"^") || (family.flags | w.flags) & (FIRST | LAST) == 0 {
        return None;
    }
    let b = hay.as_bytes();
    let start = b[family.start.saturating_sub(40)..family.start]
        .iter()
        .rposition(|&c| matches!(c, b'|' | b'\n' | b'^'))
        .map(|k| family.start.saturating_sub(40) + k)?;
    let end = b[w.end..].iter().position(|&c| matches!(c, b'|' | b'\n')).map_or(b.len(), |k| w.end + k);
    let field = &hay[start + 1..end];
    let named_part = |p: &str| p.bytes().all(|c| c.is_ascii_alphabetic() || matches!(c, b' ' | b'\'' | b'-'));
    let parts: Vec<&str> = field.split('^').collect();
    let ok = b[start] == b'|'
        && parts.len() <= 6
        && parts.len() >= 2
        && parts[..2].iter().all(|p| !p.is_empty() && p.starts_with(|c: char| c.is_ascii_alphabetic()))
        && parts.iter().all(|p| named_part(p));
    let kept = field.trim_end_matches('^').len();
    ok.then_some(Candidate { start: start + 1, end: start + 1 + kept, entity_type: EntityType::Person, score: 0.85 })
}

/// `Jessica R. Morales (JRM)`, `Claire Whitfield (CW)`: initials in brackets (`words[j]`) right after the name they spell,
/// a first name then capitalised words or initials, none a clinical, stop or facility word (`Intensive Care
/// Unit (ICU)` spells its initials too). Both are PERSON; the initials, once known, mark the same person in the rest of
/// the record (a flowsheet's initials column) through [`coreference`].
fn initials_after_name(hay: &str, words: &[Word], j: usize) -> Option<(Candidate, Candidate)> {
    let w = &words[j];
    let letters = &hay.as_bytes()[w.start..w.end];
    if !(2..=4).contains(&letters.len())
        || !letters.iter().all(u8::is_ascii_uppercase)
        || !gap_is(hay, w, b" (")
        || !hay[w.end..].starts_with(')')
        || j < letters.len()
    {
        return None;
    }
    let name = &words[j - letters.len()..j];
    let spelled = name.iter().zip(letters).all(|(n, l)| hay.as_bytes()[n.start] == *l);
    let joined = name.iter().skip(1).all(|n| matches!(gap(hay, n), " " | ". "));
    let plain = name.iter().all(|n| {
        !n.caseless
            && matches!(n.case, Case::Cap | Case::Initial | Case::Upper)
            && n.roles & (role::CLINICAL | role::STOP | role::TITLE) == 0
            && n.facility.is_none()
    });
    // Named: a first name (or a word in no English list: `Oluwaseun`) and a surname (or again no English word).
    let (first, last) = (&name[0], &name[name.len() - 1]);
    let named = first.case == Case::Cap
        && (first.flags & FIRST != 0 || first.flags & ENGLISH == 0)
        && (last.flags & LAST != 0 || last.flags & ENGLISH == 0);
    (spelled && joined && plain && named).then(|| {
        let person = |start, end| Candidate { start, end, entity_type: EntityType::Person, score: 0.85 };
        (person(name[0].start, name[name.len() - 1].end), person(w.start, w.end))
    })
}

/// Words that make a capitalised line an organisation's name though no facility word is in it (`Kishwaukee Tool & Die`,
/// `Piedmont Neurology Consultants`).
const ORG_MARKERS: &[&str] = &[
    "&",
    "consultants",
    "specialists",
    "solutions",
    "foundation",
    "church",
    "ministries",
    "chapel",
    "agency",
    "department",
    "dept",
    "bureau",
    "court",
    "company",
    "co",
    "firm",
    "transit",
    "supply",
    "supplies",
    "distribution",
    "technology",
    "technologies",
    "orthotics",
    "prosthetics",
    "therapy",
    "pathology",
    "counseling",
    "endoscopy",
];

/// Facilities written the way letterheads and branches are:
/// - a facility's branch after a dash (`Riverbend Dialysis - East Memphis`, `Baptist Memorial Hospital - Collierville`)
///   is part of its name;
/// - the capitalised line right above a street address, holding a facility or organisation word, is the letterhead of
///   whoever is at that address (`Three Rivers Endoscopy Center` / `5100 Baum Blvd`). A person's name above an address
///   (a letter's recipient) holds no such word.
fn branches_and_letterheads(hay: &str, lex: &Lexicon, first_new: usize, out: &mut Vec<Candidate>) {
    for c in out[first_new..].iter_mut().filter(|c| c.entity_type == EntityType::Facility) {
        if let Some(end) = branch_after(hay, lex, c.end) {
            c.end = end;
        }
    }
    let mut letterheads = Vec::new();
    for a in out[..first_new].iter().filter(|c| c.entity_type == EntityType::Address && c.score >= 0.8) {
        // Line breaks found by bytes (`memrchr`), where `str::rfind` went through a char searcher.
        let line_start = memchr::memrchr(b'\n', &hay.as_bytes()[..a.start]).map_or(0, |n| n + 1);
        if line_start == 0 || !hay[line_start..a.start].trim().is_empty() {
            continue;
        }
        let above_start = memchr::memrchr(b'\n', &hay.as_bytes()[..line_start - 1]).map_or(0, |n| n + 1);
        let above = &hay[above_start..line_start - 1];
        let start = above_start + (above.len() - above.trim_start().len());
        let end = above_start + above.trim_end().trim_end_matches([',', '.']).len();
        if start < end && is_letterhead(&hay[start..end], lex) && !out.iter().any(|c| c.start < end && start < c.end) {
            letterheads.push(Candidate { start, end, entity_type: EntityType::Facility, score: 0.8 });
        }
    }
    out.extend(letterheads);
}

/// The end of ` - East Memphis` after a facility: one to three capitalised words that end the field, the last a town
/// in the gazetteer. A department after the dash (`- Emergency Department`, `- MICU`) is not the place's name.
fn branch_after(hay: &str, lex: &Lexicon, end: usize) -> Option<usize> {
    let rest = hay[end..].strip_prefix(" - ").or_else(|| hay[end..].strip_prefix(" \u{2013} "))?;
    let field = rest.split(['\n', ')', ',', ';']).next()?.split("  ").next()?.trim_end_matches('.');
    let words: Vec<&str> = field.split(' ').collect();
    let capitalised = |w: &&str| {
        w.starts_with(|c: char| c.is_uppercase())
            && w.bytes().skip(1).any(|b| b.is_ascii_lowercase())
            && lex.entry(word_key(w)).facility.is_none()
    };
    let town = words.last().is_some_and(|w| Gazetteer::get().flags_of(word_hash(w)) & PLACE != 0);
    ((1..=3).contains(&words.len()) && words.iter().all(capitalised) && town)
        .then(|| end + (hay[end..].len() - rest.len()) + field.len())
}

/// A capitalised line of one to seven words, no digits, with a facility or organisation word in it.
fn is_letterhead(line: &str, lex: &Lexicon) -> bool {
    // The line's bytes first, then its words into an array of seven (an eighth word turns the line away), where a
    // `Vec` of them was an allocation for every line above an address.
    if line.ends_with(':') || line.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut slots = [""; 7];
    let mut n = 0;
    for w in line.split_whitespace() {
        if n == slots.len() {
            return false;
        }
        slots[n] = w.trim_end_matches([',', '.']);
        n += 1;
    }
    let words = &slots[..n];
    if words.is_empty() {
        return false;
    }
    let connector = |w: &str| is_connector(w) || matches!(w, "at" | "for" | "de" | "del" | "la" | "y" | "&" | "-");
    let shaped = words.iter().all(|w| w.starts_with(|c: char| c.is_uppercase()) || connector(w));
    if !shaped {
        return false;
    }
    // The lexicon is asked (a lookup for each word) only about a line of the letterhead's shape.
    let first = lex.entry(word_key(words[0]));
    let org = || {
        words
            .iter()
            .any(|w| lex.entry(word_key(w)).facility.is_some() || ORG_MARKERS.iter().any(|m| w.eq_ignore_ascii_case(m)))
    };
    first.roles & role::TITLE == 0 && first.label.is_none() && org()
}

/// Insurers are not PHI (the taxonomy's FACILITY is where a person was, worked or was treated): a name right before
/// `Plan`, `PPO`, `HMO` or `Insurance` (`Keystone Mutual Health Plan`), or in a payer's or insurer's field
/// (`Payer: WA APPLE HEALTH`, `INSURANCE PLAN NAME:`), is dropped.
// Not inlined into the word pass: inlined, its loop cost the passes around it registers (nophi-2k +0.2M instructions).
#[inline(never)]
fn drop_insurers(hay: &str, first_new: usize, out: &mut Vec<Candidate>) {
    // Compacted by hand from `first_new` on: `retain` walked (and counted) the structured pass's candidates too.
    let mut kept = first_new;
    for k in first_new..out.len() {
        if !is_insurer(hay, &out[k]) {
            out[kept] = out[k];
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// Whether the name `c` (a facility or a person) is an insurer's (see [`drop_insurers`]).
fn is_insurer(hay: &str, c: &Candidate) -> bool {
    const TAILS: &[&str] = &["plan", "ppo", "hmo", "epo", "insurance", "assurance"];
    // The first- and last-letter tests below keep to these.
    const _: () = {
        let mut k = 0;
        while k < TAILS.len() {
            let t = TAILS[k].as_bytes();
            assert!(matches!(t[0], b'p' | b'h' | b'e' | b'i' | b'a') && matches!(t[t.len() - 1], b'n' | b'o' | b'e'));
            // Lower-case letters, two or more: compared in pairs with `| 0x20` below.
            assert!(t.len() >= 2);
            let mut m = 0;
            while m < t.len() {
                assert!(t[m].is_ascii_lowercase());
                m += 1;
            }
            // A person's tails.
            assert!((k < 1 || k >= 4) || (matches!(t[0], b'p' | b'h' | b'e') && t[t.len() - 1] == b'o'));
            k += 1;
        }
    };
    if !matches!(c.entity_type, EntityType::Facility | EntityType::Person) {
        return false;
    }
    let b = hay.as_bytes();
    // A person's name before `plan` is dictation (`doctor ramaswamy plan continue lithium`).
    let tails = if c.entity_type == EntityType::Facility { TAILS } else { &TAILS[1..4] };
    // The word after one space (its ASCII letters) or the name's last word (after its last space) is a tail. Every
    // tail is of ASCII letters: each is compared in place, at the start of the letters after the space (then no
    // letter after it) and at the name's end (then a space or the name's start before it), rather than measuring
    // either word first; and every tail starts with `p`, `h`, `e`, `i` or `a` and ends in `n`, `o` or `e`, which most
    // words and names do not.
    let name = &b[c.start..c.end];
    let next = b[c.end..].strip_prefix(b" ").unwrap_or_default();
    // Each tail's first two letters (and last two) are compared with the word's, lower-cased (`| 0x20` lower-cases
    // an ASCII letter), in one comparison before the whole tail: most words after a name start with another pair.
    let next_two = next.get(..2).map(|w| [w[0] | 0x20, w[1] | 0x20]);
    let last_two = name.len().checked_sub(2).map(|k| [name[k] | 0x20, name[k + 1] | 0x20]);
    let next_is = |t: &[u8]| {
        next_two == Some([t[0], t[1]])
            && next.get(..t.len()).is_some_and(|w| w.eq_ignore_ascii_case(t))
            && next.get(t.len()).is_none_or(|x| !x.is_ascii_alphabetic())
    };
    // The last letters are compared first: most names end in no tail's last letters.
    let last_is = |t: &[u8]| {
        name.len() >= t.len()
            && last_two == Some([t[t.len() - 2], t[t.len() - 1]])
            && name[name.len() - t.len()..].eq_ignore_ascii_case(t)
            && (name.len() == t.len() || name[name.len() - t.len() - 1] == b' ')
    };
    // A person's tails (`ppo`, `hmo`, `epo`) start with `p`, `h` or `e` and end in `o`.
    let facility = c.entity_type == EntityType::Facility;
    let next_may = next.first().is_some_and(|&x| match x | 0x20 {
        b'p' | b'h' | b'e' => true,
        b'i' | b'a' => facility,
        _ => false,
    });
    let last_may = name.last().is_some_and(|&x| match x | 0x20 {
        b'o' => true,
        b'n' | b'e' => facility,
        _ => false,
    });
    if (next_may || last_may)
        && tails.iter().any(|t| (next_may && next_is(t.as_bytes())) || (last_may && last_is(t.as_bytes())))
    {
        return true;
    }
    // The field before the name on its line is read backwards from the name, in bytes (every byte looked for is
    // ASCII), so that its line's start is not searched for: the spaces, colons and periods that end the field, then
    // the field's last run of ASCII letters, never past the line break before the field.
    let mut end = c.start;
    while end > 0 && matches!(b[end - 1], b' ' | b':' | b'.') {
        end -= 1;
    }
    // Its last letter first: most fields end in another.
    let plan_name = end >= 9 && b[end - 1] | 0x20 == b'e' && b[end - 9..end].eq_ignore_ascii_case(b"plan name");
    // Only a facility is dropped in a payer's field: a person's field word is not read.
    if plan_name || c.entity_type != EntityType::Facility {
        return plan_name;
    }
    let mut word_end = end;
    while word_end > 0 && !b[word_end - 1].is_ascii_alphabetic() && b[word_end - 1] != b'\n' {
        word_end -= 1;
    }
    let mut word_start = word_end;
    while word_start > 0 && b[word_start - 1].is_ascii_alphabetic() {
        word_start -= 1;
    }
    let field_word = &b[word_start..word_end];
    // A payer's field.
    ["payer", "insurance", "insurer", "carrier", "ins"].iter().any(|p| field_word.eq_ignore_ascii_case(p.as_bytes()))
}

/// The letters that start `text`.
fn first_word(text: &str) -> &str {
    &text[..text.bytes().take_while(u8::is_ascii_alphabetic).count()]
}

/// A month named alone after a word of time (`in June`, `since early March`, `from august`): a date element under
/// Safe Harbor, like every DATE. With a day or a year after it, it is the written-date pattern's (and blocked here);
/// `from June Carter` is a name.
fn month_at(hay: &str, words: &[Word], i: usize) -> Option<Candidate> {
    let w = &words[i];
    if !w.month() {
        return prefixed_month(hay, w);
    }
    if w.blocked || !gap_is(hay, w, b" ") {
        return None;
    }
    let prev = &words[i - 1];
    let cue = &hay[prev.start..prev.end];
    if !MONTH_CUES.iter().any(|c| cue.eq_ignore_ascii_case(c)) {
        return None;
    }
    let rest = &hay[w.end..];
    if rest.trim_start_matches([' ', ',']).starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let surname_after = words.get(i + 1).is_some_and(|n| {
        gap_is(hay, n, b" ") && !n.caseless && n.case == Case::Cap && n.flags & LAST != 0 && n.roles & role::STOP == 0
    });
    (!surname_after).then_some(Candidate { start: w.start, end: w.end, entity_type: EntityType::Date, score: 0.75 })
}

/// `mid-December`, `early-March`, `late-june`: the month after the prefix is a date element (the prefix is not).
fn prefixed_month(hay: &str, w: &Word) -> Option<Candidate> {
    let b = hay.as_bytes();
    let len = w.end - w.start;
    if len < 7 || w.blocked {
        return None;
    }
    let prefix = [3, 4, 5].into_iter().find(|&n| b[w.start + n] == b'-')?;
    let head = &hay[w.start..w.start + prefix];
    let month = &hay[w.start + prefix + 1..w.end];
    let known = ["mid", "late", "early"].iter().any(|p| head.eq_ignore_ascii_case(p))
        && Lexicon::get().entry(word_key(month)).month;
    known.then_some(Candidate { start: w.start + prefix + 1, end: w.end, entity_type: EntityType::Date, score: 0.75 })
}

/// What one word can be inside a person's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NamePart {
    /// A Census first name or surname (`common`: also an English word such as `Will` or `Brown`).
    Named { first: bool, last: bool, common: bool },
    /// A capitalised word in no list and no dictionary (`Okafor`): a name if the context agrees.
    Foreign,
    /// An initial (`J.`).
    Initial,
}

fn name_part(hay: &str, w: &Word, title_before: bool) -> Option<NamePart> {
    let roles = w.roles;
    let flags = w.flags;
    let shaped = w.caseless || matches!(w.case, Case::Cap | Case::Upper | Case::Initial);
    if !shaped {
        return None;
    }
    if w.end - w.start == 1 || (w.case == Case::Initial && hay[w.start..w.end].chars().count() == 1) {
        return (hay[w.end..].starts_with('.') || !w.caseless).then_some(NamePart::Initial);
    }
    let named = flags & (FIRST | LAST) != 0;
    let capitalised = !w.caseless && matches!(w.case, Case::Cap | Case::Upper);
    if roles & (role::TITLE | role::STOP) != 0 || ((w.state() || w.id_label()) && !title_before) {
        return None;
    }
    if roles & role::CLINICAL != 0 && !(named && capitalised) {
        return None;
    }
    if named {
        return Some(NamePart::Named {
            first: flags & FIRST != 0,
            last: flags & LAST != 0,
            common: flags & COMMON != 0,
        });
    }
    // Sliced only once the flag tests above have not decided.
    let text = &hay[w.start..w.end];
    // `LMP`, `HCP`, `CCRN`: a short upper-case word in mixed-case text, in no name list, is an acronym; not in an
    // upper-case comma form (`entered by EZE, CONSUELO`).
    if !w.caseless && w.case == Case::Upper && w.end - w.start <= 4 && !title_before && !upper_comma_form(hay, w) {
        return None;
    }
    // `MSN, RN, CCRN` after a clinician's name.
    if !w.caseless && w.case == Case::Upper && is_credential(text) {
        return None;
    }
    let english = flags & (ENGLISH | PLACE) != 0;
    // Walks the word's characters: asked only once the flag tests have not decided. A word of the tokenizer starts
    // with a letter and holds letters, hyphens and apostrophes only, so three ASCII letters first decide it at once.
    let wordlike = || {
        text.as_bytes().get(..3).is_some_and(|b| b.iter().all(u8::is_ascii_alphabetic))
            || (text.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'')
                && text.chars().filter(|c| c.is_alphabetic()).count() >= 3)
    };
    if !english && !w.state() && w.facility.is_none() && wordlike() {
        return Some(NamePart::Foreign);
    }
    // An English word right after a title is still a surname (`Dr. Hope`, `dr. king`).
    (title_before && roles == 0 && wordlike()).then_some(NamePart::Foreign)
}

/// Whether `w` is one side of an upper-case comma form (`EZE, CONSUELO`).
fn upper_comma_form(hay: &str, w: &Word) -> bool {
    hay[w.end..].strip_prefix(", ").is_some_and(|r| r.starts_with(|c: char| c.is_uppercase()))
        || hay[..w.start].strip_suffix(", ").is_some_and(|l| l.ends_with(|c: char| c.is_uppercase()))
}

/// How strongly the words before `i` announce a name.
fn name_cue(hay: &str, words: &[Word], i: usize, lex: &Lexicon) -> u8 {
    if i == 0 {
        return 0;
    }
    // A speaker's hesitation between the cue and the name (`next patient is uh tom nguyen`) is skipped.
    // Every hesitation is a stop word in the lexicon of two or three letters: the role bit and the length turn away
    // most other words (in dictation, stop words of every length) before their text is compared.
    let filler = |w: &Word| {
        w.caseless
            && w.roles & role::STOP != 0
            && matches!(w.end - w.start, 2 | 3)
            && HESITATIONS.iter().any(|h| h.as_bytes() == &hay.as_bytes()[w.start..w.end])
    };
    let i = if i >= 2 && filler(&words[i - 1]) && gap_is(hay, &words[i], b" ") { i - 1 } else { i };
    let prev = &words[i - 1];
    let r = prev.roles;
    // Every cue below is a title, a cue or a weak cue word, or a cue phrase's last word: any other word before (nearly
    // every one) announces nothing, decided before the gap is read.
    if r & (role::TITLE | role::NAME_CUE | role::WEAK_NAME_CUE) == 0 && !(i >= 2 && prev.marks & Word::CUE_TAIL != 0) {
        return 0;
    }
    let g = gap_bytes(hay, &words[i]);
    // A gap of one or two bytes (nearly every gap) holds no three line breaks: not read; a longer one only up to its
    // third, in a plain loop (`count` set up a vectorised one for a few bytes; `filter` and `nth` took twice the
    // instructions a byte).
    if g.len() > 2 {
        let mut breaks = 0;
        for &c in g {
            if c == b'\n' {
                breaks += 1;
                if breaks == 3 {
                    return 0;
                }
            }
        }
    }
    // `MS Code 41-23-37`: upper-case `MS` in mixed-case text is Mississippi or multiple sclerosis, not `Ms`; read only
    // after a title.
    let ms = || !prev.caseless && &hay.as_bytes()[prev.start..prev.end] == b"MS";
    if r & role::TITLE != 0
        && !ms()
        && (g == b" " || g == b". " || g == b"." || g == b".\n" || g == "\u{a0}".as_bytes())
        && (prev.case != Case::Lower || prev.caseless || g.starts_with(b"."))
    {
        return role::TITLE;
    }
    // `Pt's IP`, `patient's PCP`: what follows a possessive is the cue's, not its name.
    if g.starts_with(b"'") {
        return 0;
    }
    if r & role::NAME_CUE != 0 {
        return role::NAME_CUE;
    }
    // Only a phrase's last word may end a cue of two words: no hash or lookup after any other.
    if i >= 2 && prev.marks & Word::CUE_TAIL != 0 {
        let mut h = KeyHasher::default();
        h.push(words[i - 2].hash).push(prev.hash);
        if lex.role(h.finish()) & role::NAME_CUE != 0 {
            return role::NAME_CUE;
        }
    }
    r & role::WEAK_NAME_CUE
}

// [`name_cue`]'s hesitation test turns away every other length.
const _: () = {
    let mut k = 0;
    while k < HESITATIONS.len() {
        assert!(matches!(HESITATIONS[k].len(), 2 | 3));
        k += 1;
    }
};

/// The index of the first of `starts` (words' [`Word::starts`]) from `from` on with `bit` set. Most words of a note
/// start neither a name nor a city: [`persons`] and [`cities`] pass over them eight at a time in a list of one byte a
/// word, where a loop over the words themselves read one 40-byte word a step.
#[inline]
fn next_start(starts: &[u8], from: usize, bit: u8) -> Option<usize> {
    // The word at `from` is tested alone first: in a note with case, every other word or so is capitalised.
    if *starts.get(from)? & bit != 0 {
        return Some(from);
    }
    let mut at = from + 1;
    while let Some(chunk) = starts.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let marked = u64::from_le_bytes(*chunk) & (LOW_BITS * u64::from(bit));
        if marked != 0 {
            return Some(at + (marked.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    starts.get(at..)?.iter().position(|&s| s & bit != 0).map(|k| at + k)
}

/// Whether the gaps before words, asked in text order, hold a colon: the position of the first colon at or after the
/// last gap asked about is kept, and the text searched again (`memchr`) only once a gap starts past it. [`persons`]
/// asks this of nearly every capitalised word it turns away, whose gaps (a number between two words is part of their
/// gap) a scan read byte by byte.
struct ColonsAhead<'h> {
    hay: &'h [u8],
    /// The first colon at or after the start of the last gap asked about (the text's length when there is none).
    next: usize,
}

impl<'h> ColonsAhead<'h> {
    fn new(hay: &'h str) -> Self {
        let hay = hay.as_bytes();
        Self { hay, next: memchr::memchr(b':', hay).unwrap_or(hay.len()) }
    }

    /// Whether the gap before `w` holds a colon; `w` is at or after the last word asked about.
    fn in_gap(&mut self, w: &Word) -> bool {
        if self.next < w.gap_start {
            self.next = memchr::memchr(b':', &self.hay[w.gap_start..]).map_or(self.hay.len(), |k| w.gap_start + k);
        }
        self.next < w.start
    }
}

/// Whether the words before `words[i]`, which follows a colon, may be a name cue ([`name_cue`] gives
/// [`role::NAME_CUE`] only after a cue word or a cue phrase's last word, and skips no hesitation before a colon): a
/// field's value is read as a name only after one. Out of line: asked only of the few words after a colon that
/// [`persons`] would otherwise turn away.
#[inline(never)]
fn may_cue_field(words: &[Word], i: usize) -> bool {
    i > 0 && (words[i - 1].roles & role::NAME_CUE != 0 || (i >= 2 && words[i - 1].marks & Word::CUE_TAIL != 0))
}

/// `starts` holds each word's [`Word::starts`]; `parts` is room for the parts of the name being read (emptied for
/// each).
fn persons(
    hay: &str,
    words: &[Word],
    starts: &[u8],
    lex: &Lexicon,
    out: &mut Vec<Candidate>,
    parts: &mut Vec<NamePart>,
) {
    let mut i = 0;
    let mut colons = ColonsAhead::new(hay);
    // A lower-case word of a mixed-case line never starts a name: such words are passed over (see `next_start`).
    while let Some(start) = next_start(starts, i, Word::PERSON_START) {
        i = start;
        let w0 = &words[i];
        // A word that is no part of a name (`name_part` without a title) starts none, unless it is a first name
        // (`Will`, `May`), a field's value, or a part after a title (`name_part` turns away no word after a title that
        // it takes elsewhere): nothing below would find a name at it, so its cue is not asked for. A title can only
        // be the word before, or the one before a hesitation (see `name_cue`).
        // `name_part` turns away a title or stop word of more than one letter whatever comes before it: decided here
        // without a call for the many capitalised stop words that start sentences.
        let stop = w0.roles & (role::TITLE | role::STOP) != 0 && w0.end - w0.start > 1 && w0.case != Case::Initial;
        // So is an English word (or a place) of more than one letter in no Census list: `name_part` without a title
        // walks all its tests to turn it away, for the many capitalised words of headings and sentence starts. And so
        // is a clinical word in no Census list (`Metformin`, `Assessment`), which `name_part` turns away with or
        // without a title: in a note without names most capitalised words are clinical.
        let english = w0.flags & (FIRST | LAST) == 0
            && (w0.flags & (ENGLISH | PLACE) != 0 || w0.roles & role::CLINICAL != 0)
            && w0.end - w0.start > 1
            && w0.case != Case::Initial;
        // A word of one byte is `name_part`'s initial (every word marked [`Word::PERSON_START`] has its shape),
        // decided here without its call: one-letter words (`A`, `I`, dictation's `a`) are many.
        let part0 = if stop || english {
            None
        } else if w0.end - w0.start == 1 {
            (hay.as_bytes().get(w0.end) == Some(&b'.') || !w0.caseless).then_some(NamePart::Initial)
        } else {
            name_part(hay, w0, false)
        };
        // Asked only for a word turned away so far.
        let title_before = || {
            i > 0
                && (words[i - 1].roles & role::TITLE != 0
                    || (i >= 2 && words[i - 1].caseless && words[i - 2].roles & role::TITLE != 0))
        };
        // A first name that is no name part here (a stop word, `will`, `May` in an upper-case line) starts a name
        // below only as `modal_first_name`'s (`Will Okafor`: a capitalised first name before a surname in no English
        // list) or `named_by_relative`'s (`wife Iris`) first name, after a title (tested last) or in a name field
        // after a colon: any other is turned away here, before its cue is asked for (the name loop would stop at it
        // with no part). Only the two's flag tests are made here, not their calls (the loop makes them).
        let first_name = || {
            capitalised_first_name(w0)
                && (words.get(i + 1).is_some_and(|n| n.flags & (LAST | COMMON) == LAST)
                    || (i > 0 && words[i - 1].roles & role::RELATIVE != 0))
        };
        // A word after a colon is a name field's value (`Patient: Spencer In`) only after a name cue: `name_field` is
        // asked only then, and after any other word before the colon the name loop would stop at it with no part.
        // The cue's own tests are made here (the word before is a cue or a cue phrase's last word; no hesitation is
        // skipped before a colon), so that the many field values after other labels (`Diagnosis: Hypertension`,
        // `Date: March`) are turned away before their cue is asked for.
        if part0.is_none()
            && !(colons.in_gap(w0) && may_cue_field(words, i))
            && !first_name()
            && !(!stop && title_before() && name_part(hay, w0, true).is_some())
        {
            i += 1;
            continue;
        }
        let cue = name_cue(hay, words, i, lex);
        if cue == role::NAME_CUE
            && colons.in_gap(w0)
            && let Some(end) = name_field(hay, words, i)
        {
            out.push(Candidate {
                start: w0.start,
                end: words[end - 1].end,
                entity_type: EntityType::Person,
                score: 0.85,
            });
            i = end;
            continue;
        }
        parts.clear();
        let mut j = i;
        let mut comma_form = false;
        let mut particles = 0;
        while j < words.len() && j < i + 4 + particles {
            let w = &words[j];
            if j > i {
                let g = gap_bytes(hay, w);
                // A gap of `joins_after`'s length and first byte (space, line break, tab, apostrophe, period): any
                // other joins no words, neither here nor before a particle (`joins`): after most name words the gap
                // joins no next word, and neither test is made.
                let may_join = g.len() <= 4 && matches!(g.first(), Some(b' ' | b'\n' | b'\t' | b'\'' | b'.'));
                if may_join && let Some(after) = particles_before_name(hay, words, j) {
                    // `Maria de la Cruz`, `Van der Berg`: the particles belong to the name that follows them.
                    particles += after - j;
                    j = after;
                    continue;
                }
                // `OKAFOR,\nDORRIS` wraps a comma form, but `Hi Sanjay,\nQuick question` starts a new line.
                // After a title, a comma ends the name unless a first name follows (`Dr. Lee, Interventional
                // Cardiology`).
                let comma = matches!(g, b", " | b"," | b",\n" | b", \n")
                    && j == i + 1
                    && (!(has_byte(g, b'\n') || cue == role::TITLE) || w.flags & FIRST != 0 || w.end - w.start == 1);
                // A quoted nickname inside a name (`Elizabeth "Liz" Carmichael`) joins it on both sides.
                let quoted = |k: usize| {
                    let (before, after) = (&hay[..words[k].start], &hay[words[k].end..]);
                    (before.ends_with(" \"") && after.starts_with("\" "))
                        || (before.ends_with(" \u{201c}") && after.starts_with("\u{201d} "))
                };
                // Asked only when the gap does not join the words by itself, and only when a quote (`"` or `”`'s
                // first byte) follows the nickname's word: nearly every word is followed by none.
                let nickname = || {
                    let word_end = words[if j - i == 2 { j - 1 } else { j }].end;
                    matches!(hay.as_bytes().get(word_end), Some(b'"' | 0xE2))
                        && ((j - i == 1 && quoted(j)) || (j - i == 2 && quoted(j - 1) && !quoted(j)))
                };
                // One space, the most common gap, is tested before the call.
                if !(g == b" " || (may_join && joins_after(hay, &words[j - 1], g)) || comma || nickname())
                    || (has_byte(g, b'\n')
                        && w.caseless != words[j - 1].caseless
                        && !(comma && w.case == words[j - 1].case))
                    // A first name and a surname are whole before a line break (`Dr Fiona MacLeod\nWoodside Clinic`).
                    || (has_byte(g, b'\n')
                        && parts.iter().filter(|p| **p != NamePart::Initial).count() >= 2
                        && !comma_form)
                {
                    break;
                }
                comma_form |= comma;
            }
            if w.blocked {
                break;
            }
            // The first word's part without a title is at hand.
            let part =
                if j == i && cue != role::TITLE { part0 } else { name_part(hay, w, cue == role::TITLE && j == i) };
            let part = match part {
                Some(part) => part,
                None if j == i + 1 && surname_after_cued_first_name(hay, words, j, cue, parts) => {
                    NamePart::Named { first: false, last: true, common: true }
                }
                None if j == i && (modal_first_name(hay, words, i) || named_by_relative(hay, words, i)) => {
                    NamePart::Named { first: true, last: false, common: true }
                }
                // The middle initial of an upper-case form's `JOHNSON, MARY A`, where the field ends.
                None if comma_form
                    && j == i + 2
                    && w.end - w.start == 1
                    && (hay[w.end..].is_empty()
                        || hay[w.end..].starts_with(['\n', ',', ';'])
                        || hay[w.end..].starts_with("  ")) =>
                {
                    NamePart::Initial
                }
                None => break,
            };
            parts.push(part);
            j += 1;
        }
        // Without case, an English word after a surname is the next word of the sentence (`mrs o'connor found him`),
        // not a second surname; after a first name it is one (`john smith`).
        let n = parts.len();
        if words[i].caseless
            && n >= 2
            && particles == 0
            && matches!(parts[n - 1], NamePart::Named { common: true, first: false, .. })
            && match parts[n - 2] {
                NamePart::Named { first: false, .. } => {
                    !is_particle(&hay.as_bytes()[words[j - 2].start..words[j - 2].end])
                }
                // `o'connor`: a surname's shape (`ngozi brawn` keeps its surname).
                NamePart::Foreign => hay[words[j - 2].start..words[j - 2].end].contains('\''),
                _ => false,
            }
        {
            parts.pop();
            j -= 1;
        }
        // A trailing initial is not part of `John Smith A`, but is of a comma form (`JOHNSON, MARY A`).
        while let Some(NamePart::Initial) = parts.last() {
            if comma_form && parts.len() >= 3 {
                break;
            }
            parts.pop();
            j -= 1;
        }
        let n = parts.len();
        let mut score = if n == 0 { 0.0 } else { person_score(hay, words, i, parts, cue, comma_form) };
        if n > 0 && score < 0.85 && (relative_after(hay, words, j) || credential_after(hay, words, i, j, parts)) {
            score = 0.85;
        }
        if score < 0.65 && dictated_subject(hay, words, i, j, parts) {
            score = 0.65;
        }
        if score > 0.0 && cue != role::TITLE && eponym_follows(hay, words, j, j - i == 1, lex) {
            score = 0.0;
        }
        // Short upper-case words in mixed-case text are acronyms even when a Census list holds them (`weaned to RA`,
        // `SRF, CST 412`, `patient IP 198.51.100.77`): not a name alone, nor without a cue and a first name
        // (`VAN DER BERG, JED`) or two unambiguous Census names (`JOHN SMITH`).
        let acronyms = !words[i].caseless
            && words[i..j].iter().all(|w| w.case == Case::Upper && w.end - w.start <= 4)
            && cue != role::TITLE
            && (n == 1
                || (cue != role::NAME_CUE
                    && !parts.iter().any(|p| matches!(p, NamePart::Named { first: true, .. }))
                    && !parts.iter().all(|p| matches!(p, NamePart::Named { common: false, .. }))));
        if acronyms {
            score = 0.0;
        }
        if score > 0.0 {
            let spelled = spelled_after(hay, words, i, j);
            out.push(Candidate {
                start: words[i].start,
                end: words[j - 1 + spelled].end,
                entity_type: EntityType::Person,
                score,
            });
            i = j + spelled;
        } else {
            i += 1;
        }
    }
}

/// Dictation spells a name out after saying it (`tom nguyen n g u y e n`): the number of one-letter words after the
/// name `words[i..j]` that spell one of its words, or 0.
fn spelled_after(hay: &str, words: &[Word], i: usize, j: usize) -> usize {
    let letters = words[j..].iter().take_while(|w| w.end - w.start == 1 && w.caseless && gap_is(hay, w, b" ")).count();
    if letters < 3 {
        return 0;
    }
    let spelled = || words[j..j + letters].iter().map(|w| hay.as_bytes()[w.start].to_ascii_lowercase());
    words[i..j]
        .iter()
        .map(|w| hay[w.start..w.end].bytes().filter(u8::is_ascii_alphabetic).map(|b| b.to_ascii_lowercase()))
        .filter(|word| spelled().take(word.clone().count()).eq(word.clone()))
        .map(Iterator::count)
        .max()
        .unwrap_or(0)
}

/// Whether the name that ends before `words[j]` is an eponym: a disease, sign, test or instrument noun follows it
/// (`Parkinson disease`, `Bell's palsy`, `Hoyer lift`), also after a second name (`Babinski and Hoffmann signs`,
/// `Ortolani and Barlow negative`) when the name is one word.
fn eponym_follows(hay: &str, words: &[Word], j: usize, one_word: bool, lex: &Lexicon) -> bool {
    let noun = |k: usize| {
        words
            .get(k)
            .is_some_and(|w| matches!(gap_bytes(hay, w), b" " | b"'s " | b"' " | b"-") && lex.entry(w.hash).eponym)
    };
    if noun(j) {
        return true;
    }
    let coordinated = one_word
        && words.get(j).is_some_and(|w| gap_is(hay, w, b" ") && matches!(&hay[w.start..w.end], "and" | "or"))
        && words.get(j + 1).is_some_and(|w| gap_is(hay, w, b" ") && matches!(w.case, Case::Cap));
    coordinated && noun(j + 2)
}

/// `Will Okafor`: a capitalised first name that is also a common word of the stop list (`Will`, `May`), right before
/// a capitalised surname that is not an English word.
fn modal_first_name(hay: &str, words: &[Word], i: usize) -> bool {
    let (w, Some(next)) = (&words[i], words.get(i + 1)) else { return false };
    capitalised_first_name(w)
        && gap_is(hay, next, b" ")
        && !next.blocked
        && matches!(name_part(hay, next, false), Some(NamePart::Named { last: true, common: false, .. }))
}

/// `Dr. Keena Monday`, `seeing Kenny Lane`, `Chaplain Dann An`: after a title or a name cue and a Census first name,
/// a capitalised Census surname is the name's end even when it is also a stop or clinical word.
fn surname_after_cued_first_name(hay: &str, words: &[Word], j: usize, cue: u8, parts: &[NamePart]) -> bool {
    let w = &words[j];
    matches!(cue, role::TITLE | role::NAME_CUE)
        && matches!(parts, [NamePart::Named { first: true, .. }])
        && gap_is(hay, w, b" ")
        && !w.caseless
        && w.case == Case::Cap
        && w.flags & LAST != 0
        && w.roles & role::TITLE == 0
        && !w.id_label()
        && !matches!(
            &hay[w.start..w.end],
            "Is" | "Was" | "Has" | "Had" | "Does" | "Did" | "Can" | "Should" | "Would" | "Are" | "Were"
        )
}

/// `wife Iris`, `daughter May`: a capitalised Census first name right after a relative, even one that is also a
/// clinical or stop word.
fn named_by_relative(hay: &str, words: &[Word], i: usize) -> bool {
    let w = &words[i];
    i > 0 && words[i - 1].roles & role::RELATIVE != 0 && gap_is(hay, w, b" ") && capitalised_first_name(w)
}

/// A Census first name, capitalised in a line with case and no title: what [`modal_first_name`] and
/// [`named_by_relative`] ask of the name's first word, and what [`persons`] tests before calling either.
#[inline(always)]
fn capitalised_first_name(w: &Word) -> bool {
    w.flags & FIRST != 0 && !w.caseless && w.case == Case::Cap && w.roles & role::TITLE == 0
}

/// The value of a form's name field (`NAME: USHA SELF`, `Guarantor: MAC ZAMORA  DL#: ...`, `Patient: Spencer In`,
/// `GUARANTOR: VAN DER BERG, ALESHA`), starting at `words[i]` right after the label: up to five capitalised words
/// (one comma allowed) that end the field (line end, two spaces, `(`, `;`, `,`), none of them a clinical word outside
/// the Census lists (`MAC`, `SELF` are surnames there) nor, unless in the comma form, a stop word, and at least one a
/// name that is not an English word. Returns the index after the last word.
fn name_field(hay: &str, words: &[Word], i: usize) -> Option<usize> {
    let mut j = i;
    let mut named = false;
    let mut comma = false;
    let mut stop_words = false;
    let mut credential = false;
    while j < words.len() && j < i + 5 {
        let w = &words[j];
        let text = &hay[w.start..w.end];
        // `ORDERING: OKONJO, EMEKA MD  NPI ...`: an upper-case credential ends the name.
        if j > i + 1 && w.case == Case::Upper && is_credential(text) {
            credential = true;
            break;
        }
        if j > i {
            match gap(hay, w) {
                " " => {}
                ", " if !comma && !is_credential(text) => comma = true,
                // A scanned form spaces its words unevenly (`Patient:  Robert   Fisher     DOB:`): more spaces join
                // another name word, never a label.
                g if g.len() > 1
                    && g.trim_start_matches(',').bytes().all(|b| b == b' ')
                    && (!g.starts_with(',') || !comma)
                    && !is_credential(text)
                    && Lexicon::get().label(w.hash).is_none()
                    && matches!(name_part(hay, w, false), Some(NamePart::Named { .. } | NamePart::Foreign)) =>
                {
                    comma |= g.starts_with(',');
                }
                _ => break,
            }
        }
        let shaped = matches!(w.case, Case::Cap | Case::Upper | Case::Initial);
        if !shaped
            || w.blocked
            || w.id_label()
            || w.roles & role::TITLE != 0
            || (w.roles & role::CLINICAL != 0 && w.flags & (FIRST | LAST) == 0)
        {
            return None;
        }
        stop_words |= w.roles & role::STOP != 0 && !is_particle_any_case(text);
        named |= matches!(name_part(hay, w, false), Some(NamePart::Named { common: false, .. } | NamePart::Foreign));
        j += 1;
    }
    let rest = &hay[words[j - 1].end..];
    let field_ends =
        credential || rest.is_empty() || rest.starts_with(['\n', '\r', '\t', '(', ';', ',']) || rest.starts_with("  ");
    // A stop word is a surname only in the comma form (`HE, SABRA`), not in `ALERT AND ORIENTED`.
    (named && field_ends && j - i >= 2 && (!stop_words || comma)).then_some(j)
}

/// A clinician's credential after a name (`Jane Roe, MD`).
fn is_credential(word: &str) -> bool {
    // Upper-cased in a buffer on the stack (no credential is longer than seven bytes), not in an allocated copy.
    let mut buf = [0u8; 7];
    recased(word, &mut buf, true).is_some_and(|upper| {
        matches!(
            upper,
            b"MD" | b"DO"
            | b"RN"
            | b"NP"
            | b"PA"
            | b"PHD"
            | b"DDS"
            | b"DPM"
            | b"LPN"
            | b"CNA"
            | b"APRN"
            | b"PA-C"
            | b"FNP"
            | b"CRNA"
            | b"MBBS"
            | b"PHARMD"
            | b"MSN"
            | b"BSN"
            | b"DNP"
            | b"RDH"
            | b"OCN"
            | b"CCRN"
            | b"FACC"
            | b"FACP"
            | b"FACS"
            | b"CCM"
            | b"DPT"
            | b"ATP"
            | b"CSPI"
            | b"OTR"
            | b"OTR/L"
            | b"CPNP"
            | b"CNM"
            | b"LCSW"
            | b"LICSW"
            | b"LMFT"
            | b"LPC"
            | b"PSYD"
            | b"ABPP"
            | b"RRT"
            | b"CPHT"
            | b"RPH"
            | b"EMT"
            | b"MPH"
            | b"FAAP"
            | b"FACOG"
            | b"FAAFP"
            | b"CDCES"
            | b"IBCLC"
            // Imaging, laboratory, records and therapy credentials (`Hailey, RDMS`).
            | b"RDMS"
            | b"RDCS"
            | b"RVT"
            | b"CNMT"
            | b"RHIA"
            | b"RHIT"
            | b"CPC"
            | b"CCS"
            | b"MLS"
            | b"CLS"
            | b"LMT"
            | b"CMA"
            | b"NRP"
            | b"CCRP"
            | b"CRC"
            | b"CGC"
            | b"LCGC"
            | b"LMSW"
            | b"BCBA"
            | b"SLP"
            | b"CCC-SLP"
            | b"AUD"
            | b"DMD"
            | b"OD"
            | b"LADC"
            | b"CADC"
            | b"BCPS"
            | b"CEN"
        )
    })
}

/// The bytes of `word` with its ASCII letters upper-cased (`upper`) or lower-cased, written into `buf`: `None` when it
/// does not fit, for a word compared with a list of words no longer than `buf` without allocating a re-cased copy.
fn recased<'b>(word: &str, buf: &'b mut [u8], upper: bool) -> Option<&'b [u8]> {
    let out = buf.get_mut(..word.len())?;
    out.copy_from_slice(word.as_bytes());
    if upper {
        out.make_ascii_uppercase();
    } else {
        out.make_ascii_lowercase();
    }
    Some(out)
}

/// `john smith was born on ...`: in dictation (no case), a Census first name and surname (each also an English word)
/// that are the subject of a clinical verb.
fn dictated_subject(hay: &str, words: &[Word], i: usize, j: usize, parts: &[NamePart]) -> bool {
    const VERBS: &[&str] = &[
        "was",
        "is",
        "has",
        "had",
        "presents",
        "presented",
        "reports",
        "reported",
        "states",
        "stated",
        "denies",
        "denied",
        "complains",
        "complained",
        "came",
        "comes",
        "returns",
        "returned",
        "arrived",
        "underwent",
        "tolerated",
    ];
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else { return false };
    let Some(verb) = words.get(j) else { return false };
    words[i].caseless
        && parts.len() == 2
        && matches!(first, NamePart::Named { first: true, .. })
        && matches!(last, NamePart::Named { last: true, .. })
        && gap_is(hay, verb, b" ")
        && VERBS.contains(&hay[verb.start..verb.end].to_ascii_lowercase().as_str())
}

/// `Meera Krishnamurthy, DO`, `Frantz Jean-Baptiste, MD`, `S. Feldberg, MD`, `Okonjo, MD`: two or three capitalised
/// name words (an initial and a surname, or one Census surname that is no English word), then a comma and a
/// clinician's credential.
fn credential_after(hay: &str, words: &[Word], i: usize, j: usize, parts: &[NamePart]) -> bool {
    let named = parts.iter().filter(|p| matches!(p, NamePart::Named { .. } | NamePart::Foreign)).count();
    let surname = matches!(parts, [NamePart::Named { last: true, common: false, .. }]);
    (named >= 2 || (named == 1 && parts.len() == 2 && parts[0] == NamePart::Initial) || surname)
        && j - i <= 3
        && words[i..j].iter().all(|w| !w.caseless && matches!(w.case, Case::Cap | Case::Upper | Case::Initial))
        && words.get(j).is_some_and(|c| {
            let text = &hay[c.start..c.end];
            // Upper case, or an inner capital (`PharmD`): `Do you` is not a credential.
            matches!(gap_bytes(hay, c), b", " | b",")
                && (c.case == Case::Upper || text.bytes().skip(1).any(|b| b.is_ascii_uppercase()))
                && is_credential(text)
        })
}

/// `Tom, her son` and `Ana (the patient's daughter)`: the words from `j` (the one after a name) are `, her|his|their|
/// my|the patient's <relative>`.
fn relative_after(hay: &str, words: &[Word], j: usize) -> bool {
    let Some(first) = words.get(j) else { return false };
    // `this is Obinna's mom` (capitalised: in dictation, `mother had alzheimer's father had ...`).
    if gap_is(hay, first, b"'s ") && first.roles & role::RELATIVE != 0 {
        return j > 0 && !words[j - 1].caseless;
    }
    if !matches!(gap_bytes(hay, first), b", " | b" (") {
        return false;
    }
    let the = hay[first.start..first.end].eq_ignore_ascii_case("the");
    let owner_at = j + usize::from(the);
    let (Some(owner), Some(relative)) = (words.get(owner_at), words.get(owner_at + 1)) else { return false };
    let owner_text = hay[owner.start..owner.end].to_ascii_lowercase();
    let patients = matches!(owner_text.as_str(), "patient" | "pt") && hay[owner.end..].starts_with("'s");
    let owner_ok = patients || (!the && matches!(owner_text.as_str(), "her" | "his" | "their" | "my"));
    owner_ok
        && (!the || joins(gap_bytes(hay, owner)))
        && joins(gap_bytes(hay, relative))
        && relative.roles & role::RELATIVE != 0
}

/// Lower-case surname particles (`de`, `la`, `van`, `der`, ...).
fn is_particle(word: &[u8]) -> bool {
    matches!(
        word,
        b"de"
            | b"del"
            | b"della"
            | b"la"
            | b"las"
            | b"los"
            | b"le"
            | b"van"
            | b"von"
            | b"der"
            | b"den"
            | b"da"
            | b"di"
            | b"du"
            | b"dos"
            | b"das"
            | b"ter"
            | b"ten"
            | b"bin"
            | b"ibn"
            | b"al"
    )
}

/// Whether `word` is one of `lower` (lower-case ASCII words) in any case.
fn is_any_case(word: &str, lower: &[&str]) -> bool {
    lower.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// [`is_particle`] of the word lower-cased (ASCII letters only), without allocating the lower-cased copy: a particle
/// is at most five ASCII letters, lower-cased in a buffer on the stack and compared as bytes (no UTF-8 check).
fn is_particle_any_case(word: &str) -> bool {
    // Every particle starts with one of these letters (a test says so): most words (a name's capitalised words, read
    // as each is asked whether particles start at it) are turned away by their first byte, before they are copied
    // and lower-cased.
    let first = word.as_bytes().first().map_or(0, |&b| b | 0x20);
    if !matches!(first, b'a' | b'b' | b'd' | b'i' | b'l' | b't' | b'v') {
        return false;
    }
    let mut buf = [0u8; 5];
    recased(word, &mut buf, false).is_some_and(is_particle)
}

/// When `words[j]` starts one or two lower-case surname particles that join a capitalised name word on a mixed-case
/// line (`de la Cruz`), the index of that name word.
fn particles_before_name(hay: &str, words: &[Word], j: usize) -> Option<usize> {
    let mut k = j;
    // The gap is compared before the word's text is read: after most name words no gap joins the next word.
    while k < words.len()
        && k < j + 2
        && !words[k].caseless
        && matches!(words[k].case, Case::Lower | Case::Cap)
        && joins(gap_bytes(hay, &words[k]))
        && is_particle_any_case(&hay[words[k].start..words[k].end])
    {
        k += 1;
    }
    let name = words.get(k)?;
    let named = k > j
        && joins(gap_bytes(hay, name))
        && !name.blocked
        && name.case == Case::Cap
        && matches!(name_part(hay, name, false), Some(NamePart::Named { .. } | NamePart::Foreign));
    named.then_some(k)
}

#[allow(clippy::too_many_arguments)]
fn person_score(hay: &str, words: &[Word], i: usize, parts: &[NamePart], cue: u8, comma_form: bool) -> f32 {
    let n = parts.len();
    let caseless = words[i].caseless;
    let mut strong = 0; // named and not an English word
    let mut common = 0;
    let mut foreign = 0;
    for p in parts {
        match p {
            NamePart::Named { common: false, .. } => strong += 1,
            NamePart::Named { common: true, .. } => common += 1,
            NamePart::Foreign => foreign += 1,
            NamePart::Initial => {}
        }
    }
    let words_n = strong + common + foreign;
    let starts_first = matches!(parts[0], NamePart::Named { first: true, .. } | NamePart::Initial);
    let ends_last = matches!(parts[n - 1], NamePart::Named { last: true, .. } | NamePart::Foreign);
    // Read only where a score below asks for it.
    let sentence_start = || {
        i == 0 || {
            let g = gap(hay, &words[i]);
            has_byte(g.as_bytes(), b'\n')
                || g.trim_end().ends_with(['.', '!', '?', ':']) && words[i - 1].roles & role::TITLE == 0
        }
    };
    if words_n == 0 {
        return 0.0;
    }
    if cue == role::TITLE {
        return 0.92;
    }
    if cue == role::NAME_CUE {
        // Without case, one surname that is also an English word says little after a cue (`patient works`, `father
        // living`); a first name does (`her son jasmine`).
        if caseless && n == 1 && matches!(parts[0], NamePart::Named { common: true, first: false, .. }) {
            return 0.0;
        }
        return if strong + common > 0 {
            0.88
        } else if !caseless || foreign == words_n {
            0.75
        } else {
            0.0
        };
    }
    let ordered = (starts_first && ends_last) || comma_form;
    if n >= 2 && ordered {
        if caseless {
            // No case signal and no cue: only two unambiguous Census names.
            return if strong >= 2 && foreign == 0 {
                0.75
            } else if cue != 0 && strong >= 1 {
                0.7
            } else {
                0.0
            };
        }
        return match (strong, common, foreign) {
            (s, 0, _) if s >= 1 => 0.85,
            (s, 1, _) if s >= 1 && (n >= 3 || cue != 0 || !sentence_start()) => 0.7,
            (0, _, f) if f >= 1 && cue != 0 => 0.7,
            (s, 1, _) if s >= 1 => 0.55,
            // A first name then a surname, each also an English word (`John Smith`: `john`, `smith`), capitalised
            // mid-sentence: a name; at a sentence start the capitals say less, so it passes the default threshold
            // only just.
            (0, c, 0) if c >= 2 && starts_first && ends_last && !comma_form => {
                if cue == 0 && sentence_start() {
                    0.6
                } else {
                    0.7
                }
            }
            _ if cue != 0 => 0.6,
            _ => 0.0,
        };
    }
    if cue == role::WEAK_NAME_CUE && strong >= 1 && !caseless {
        return 0.7;
    }
    if cue == role::WEAK_NAME_CUE && n >= 2 && !caseless && foreign + strong + common == n {
        // `called to Dmitri Chukwu`: two capitalised words in no dictionary after a cue.
        return 0.65;
    }
    // An upper-case word in no list before a capitalised one is a product's name (`the MAGNETOM Vida`).
    let upper_foreign = || parts.iter().zip(&words[i..]).any(|(p, w)| *p == NamePart::Foreign && w.case == Case::Upper);
    if n >= 2 && !caseless && strong >= 1 && common == 0 && !sentence_start() && !upper_foreign() {
        // `seeing Hiroshi Iacovelli`: a Census name next to a capitalised word in no dictionary.
        return 0.7;
    }
    if n == 1 && strong == 1 && !caseless && matches!(parts[0], NamePart::Named { last: true, .. }) && !sentence_start()
    {
        return 0.45;
    }
    0.0
}

/// `starts` holds each word's [`Word::starts`].
fn cities(hay: &str, words: &[Word], starts: &[u8], gaz: &Gazetteer, lex: &Lexicon, out: &mut Vec<Candidate>) {
    let mut i = 0;
    // Only a place word, the head of a multi-word place, or a capitalised word can start a city: the others are
    // passed over (see `next_start`).
    while let Some(start) = next_start(starts, i, Word::CITY_START) {
        i = start;
        let w0 = &words[i];
        // The word before, found once for the three tests below that read it (each indexed it again).
        let prev = i.checked_sub(1).map(|k| &words[k]);
        // Clinical words and vehicle makes, and the word after one, start no town (`a 2017 Hyundai Elantra, TN
        // plate`) unless the gazetteer has it: the first are not marked [`Word::CITY_START`] (in a note without names
        // most capitalised words are clinical), the second are turned away here (the word before's roles read before
        // the gap: most words follow no clinical word).
        if w0.flags & (PLACE | PLACE_HEAD) == 0
            && prev.is_some_and(|p| {
                p.roles & role::CLINICAL != 0 && gap_is(hay, w0, b" ") && matches!(p.case, Case::Cap | Case::Upper)
            })
        {
            i += 1;
            continue;
        }
        let cue = prev.is_some_and(|p| p.roles & role::PLACE_CUE != 0)
            && !gap_bytes(hay, w0).iter().any(|&c| matches!(c, b'.' | b';'));
        // Without a cue, only a state after one of the words below (`Springfield, IL`; `state_follows` finds none
        // but at a state's code in upper case, or after a comma at a state's name or its first word: not at `in`, `or`
        // or `me`, nor at `New` of `New onset`), a `City:` label, a place after a comma (`after_place_and_comma`) or a
        // site's word after a place (`our Westminster clinic`) scores them: most capitalised words have none of these,
        // and are turned away here, before the word's text is read.
        let near = &words[i + 1..words.len().min(i + 4)];
        let state_word = |w: &Word| {
            w.marks & (Word::STATE | Word::STATE_HEAD) != 0
                && ((w.state() && w.end - w.start == 2 && w.case == Case::Upper) || gap_has(hay, w, b','))
        };
        // The three words' marks or-ed and tested once, where a loop tested each word's in turn: nearly every word has
        // no state within three words.
        let state_near = match near {
            [a, b, c] => {
                (a.marks | b.marks | c.marks) & (Word::STATE | Word::STATE_HEAD) != 0 && near.iter().any(state_word)
            }
            _ => near.iter().any(state_word),
        };
        let may_score = cue
            || state_near
            || (w0.flags & (PLACE | PLACE_HEAD) != 0 && near.iter().any(|w| is_site_word(hay, w)))
            || prev.is_some_and(|p| city_label(hay, p, w0))
            || (w0.flags & PLACE != 0 && after_place_and_comma(hay, words, i, out));
        if !may_score
            // A compass direction (`1600 Pennsylvania Ave NW, Washington`) never starts a city.
            || matches!(&hay.as_bytes()[w0.start..w0.end], b"NW" | b"NE" | b"SW" | b"SE")
        {
            i += 1;
            continue;
        }
        let mut best: Option<(usize, f32)> = None;
        let mut h = KeyHasher::default();
        let mut strong_context = None;
        let mut wrapped = false;
        // `12 Orchard Hill Rd Apt 4, Boston`: the town after an address, a facility or a town and a comma is a city
        // like a `City:` field's value.
        let label =
            city_label_before(hay, words, i) || (w0.flags & PLACE != 0 && after_place_and_comma(hay, words, i, out));
        for n in 1..=3 {
            let j = i + n - 1;
            if j >= words.len() || (n > 1 && !joins_after(hay, &words[j - 1], gap_bytes(hay, &words[j]))) {
                break;
            }
            // A line may wrap inside a city's name (`Hampton\nBays`): then only the gazetteer's place names count.
            wrapped |= n > 1 && gap_has(hay, &words[j], b'\n');
            let w = &words[j];
            // A state abbreviation that ends the words is not part of the city (`Cambridge MA 02139`, but `HAVRE DE
            // GRACE`).
            let last_word = words.get(j + 1).is_none_or(|next| !gap_is(hay, next, b" "));
            if w.blocked || (n > 1 && w.state() && w.case == Case::Upper && w.end - w.start == 2 && last_word) {
                break;
            }
            let connector = n > 1
                && matches!(
                    &hay.as_bytes()[w.start..w.end],
                    b"de" | b"la" | b"del" | b"of" | b"on" | b"DE" | b"LA" | b"OF" | b"On" | b"ON"
                );
            if !(w.caseless || matches!(w.case, Case::Cap | Case::Upper) || connector) {
                break;
            }
            h.push(w.hash);
            let key = h.finish();
            // Of the entry of several words, only whether it is a state and whether it is a name cue are read below
            // (`plain` holds for any other role). A state of several words starts with a state's head word and a cue
            // of several words ends with a cue's last word (the lexicon marks both), so without either mark the
            // phrase has neither and the lexicon's table (a cache miss, most often for nothing) is not read.
            let entry = if n == 1 {
                LexEntry { roles: w.roles, state: w.state(), ..LexEntry::default() }
            } else if w0.marks & Word::STATE_HEAD != 0 || w.marks & Word::CUE_TAIL != 0 {
                lex.entry(key)
            } else {
                LexEntry::default()
            };
            // A starting word's flags were looked up by the tokenizer; only places have several words, and every
            // one of them starts with a head word and ends with a tail word. Only a connector (its flags are not
            // looked up in a line with case) may lack flags here, and its flags change nothing below: it never ends
            // a city. Most phrases after a head word (`New patient`) end at no tail word, and are not looked up in
            // the 4 MiB table.
            let flags = match n {
                1 => w0.flags,
                _ if w0.flags & PLACE_HEAD != 0 && w.flags & PLACE_TAIL != 0 => gaz.flags_of(key),
                _ => 0,
            };
            let place = flags & PLACE != 0;
            // A state is not PHI, but a city of the same name before a state abbreviation is (`Washington, DC`,
            // `New York, NY`).
            if entry.state && !(place && state_abbreviation_follows(hay, words, j)) {
                continue;
            }
            let roles = entry.roles;
            let word_roles = w.roles;
            if n > 1 && word_roles & (role::STOP | role::CLINICAL) != 0 && !place && !connector {
                break;
            }
            let plain = roles & (role::STOP | role::CLINICAL) == 0 || n > 1;
            let before_state = || (place || !w.caseless) && state_follows(hay, words, j, lex);
            // `our Westminster clinic`, `the Fremont office`.
            let site = place
                && !w.caseless
                && words.get(j + 1).is_some_and(|next| gap_is(hay, next, b" ") && is_site_word(hay, next));
            let mut residence = || {
                cue && roles & role::NAME_CUE == 0
                    && (place || (!w.caseless && flags & ENGLISH == 0))
                    && *strong_context.get_or_insert_with(|| residence_before(hay, words, i))
            };
            // The two walks (a state after the words, a place of residence before them) are asked last, and only
            // while the words may still score by them.
            let score = if plain && (label || site || before_state() || residence()) {
                0.9
            } else if cue && place && plain && (flags & COMMON == 0 || (!w.caseless && n > 1)) && flags & (FIRST) == 0 {
                0.75
            } else if cue && place && plain && !w.caseless && flags & COMMON == 0 {
                0.7
            } else {
                0.0
            };
            // A connector never ends a city (`Malden On` of `Malden On Hudson`).
            if score > 0.0 && (place || !wrapped) && !connector {
                best = Some((j, score));
            }
        }
        if let Some((j, score)) = best
            && !eponym_follows(hay, words, j + 1, j == i, lex)
        {
            out.push(Candidate { start: words[i].start, end: words[j].end, entity_type: EntityType::City, score });
            i = j + 1;
        } else {
            i += 1;
        }
    }
}

/// A word for one site of an organisation, after a town (`our Westminster clinic`, `the Fremont office`).
fn is_site_word(hay: &str, w: &Word) -> bool {
    // Every one is six or eight letters long: most words are turned away by their length before their text is sliced.
    matches!(w.end - w.start, 6 | 8)
        && matches!(&hay.as_bytes()[w.start..w.end], b"clinic" | b"office" | b"campus" | b"location" | b"branch")
}

/// Whether `words[i]` follows a comma after a street address, a facility or a city (`12 Main St, Apt 4, Springfield`,
/// `Banner Health, Phoenix`, `Brighton Beach, Brooklyn`).
fn after_place_and_comma(hay: &str, words: &[Word], i: usize, found: &[Candidate]) -> bool {
    let before = &hay[..words[i].start];
    let Some(end) = before.strip_suffix(", ").or_else(|| before.strip_suffix(",\n")).map(str::len) else {
        return false;
    };
    found.iter().any(|c| {
        matches!(c.entity_type, EntityType::Address | EntityType::Facility | EntityType::City)
            && c.end == end
            && c.score >= 0.8
    })
}

/// Whether `words[i]` is the value of a `City:` field.
#[inline(always)]
fn city_label_before(hay: &str, words: &[Word], i: usize) -> bool {
    i > 0 && city_label(hay, &words[i - 1], &words[i])
}

/// Whether `w` is the value of a `City:` field whose label is `prev`, the word before it.
#[inline(always)]
fn city_label(hay: &str, prev: &Word, w: &Word) -> bool {
    // The word's length, then the gap (most often one space): asked for nearly every capitalised word.
    prev.end - prev.start == 4
        && gap_has(hay, w, b':')
        && matches!(&hay.as_bytes()[prev.start..prev.end], b"City" | b"CITY" | b"city" | b"Town" | b"TOWN")
}

/// Whether the sentence before a place cue talks about where someone lives (`lives ... in`, `moved from`).
fn residence_before(hay: &str, words: &[Word], i: usize) -> bool {
    const RESIDENCE: [&str; 10] =
        ["lives", "live", "living", "resides", "reside", "moved", "born", "relocated", "home", "hometown"];
    // Their hashes: a word that is one of them in any case has one of these (the hash folds ASCII case), so a word
    // whose hash is none of them is turned away without its text compared ten times; and a 64-bit filter of them (a
    // bit from the top six bits of each hash) turns away nearly every word in one test, before the ten hashes.
    static HASHES: OnceLock<([u64; 10], u64)> = OnceLock::new();
    let (hashes, filter) = HASHES.get_or_init(|| {
        let hashes = RESIDENCE.map(word_key);
        (hashes, hashes.iter().fold(0, |f, h| f | (1 << (h >> 58))))
    });
    // The sentence's start, found by bytes (`str::rfind` with a set of chars decodes every char back to it).
    let floor = memchr::memrchr3(b'.', b'\n', b';', &hay.as_bytes()[..words[i].start]).map_or(0, |p| p + 1);
    // The twelve words before, nearest first, back to the sentence's start, in a plain loop: the iterator chain
    // (`rev`, `take`, `take_while`, `any`) compiled to more instructions (mixed-4k +0.24M).
    let mut k = i;
    while k > i.saturating_sub(12) {
        k -= 1;
        let w = &words[k];
        if w.start < floor {
            return false;
        }
        if filter >> (w.hash >> 58) & 1 != 0
            && hashes.contains(&w.hash)
            && is_any_case(&hay[w.start..w.end], &RESIDENCE)
        {
            return true;
        }
    }
    false
}

/// Whether a comma and an upper-case state abbreviation follow `words[j]`.
fn state_abbreviation_follows(hay: &str, words: &[Word], j: usize) -> bool {
    words.get(j + 1).is_some_and(|next| {
        let text = &hay[next.start..next.end];
        gap_bytes(hay, next).starts_with(b",")
            && next.state()
            && text.len() == 2
            && text.bytes().all(|b| b.is_ascii_uppercase())
    })
}

fn state_follows(hay: &str, words: &[Word], j: usize, lex: &Lexicon) -> bool {
    let Some(next) = words.get(j + 1) else { return false };
    // Only a state (a name or its code) or the first word of a state's name of two words can follow: the word's marks
    // turn away nearly every other word before its gap and text are read.
    if next.marks & (Word::STATE | Word::STATE_HEAD) == 0 {
        return false;
    }
    let g = gap_bytes(hay, next);
    if !matches!(g, b", " | b"," | b" " | b",  " | b",\n" | b"\n" | b", \n") {
        return false;
    }
    let text = &hay[next.start..next.end];
    let abbr = text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase());
    let mut h = KeyHasher::default();
    h.push(next.hash);
    if (abbr || has_byte(g, b',')) && next.state() && (abbr || text.len() > 2) {
        // `Jane Doe, MD` and `John Roe, PA`: a credential, unless a ZIP code follows; `Study ID` is a label.
        let credential = matches!(
            text,
            "MD" | "PA"
                | "ID"
                | "DO"
                | "OR"
                | "IN"
                | "ME"
                | "OK"
                | "HI"
                | "DE"
                | "MS"
                | "CO"
                | "LA"
                | "MA"
                | "AL"
                | "OH"
                | "NP"
                | "RN"
        );
        if !credential {
            return true;
        }
        let rest = hay[next.end..].trim_start_matches([' ', ',', '\n']);
        return rest.len() >= 5 && rest.as_bytes()[..5].iter().all(u8::is_ascii_digit);
    }
    // Two-word states (`New York`, `North Carolina`).
    if let Some(second) = words.get(j + 2)
        && has_byte(g, b',')
        && joins(gap_bytes(hay, second))
    {
        h.push(second.hash);
        return lex.is_state(h.finish());
    }
    false
}

/// Facility names around the heads and generic words at `facility_at` (noted by the tokenizer).
fn facilities(
    hay: &str,
    words: &[Word],
    facility_at: &[usize],
    gaz: &Gazetteer,
    lex: &Lexicon,
    out: &mut Vec<Candidate>,
) {
    for &i in facility_at {
        let w = &words[i];
        let kind = w.facility;
        let head_end = match kind {
            // A line may wrap before the tail (`Nodine Medical\nCenter`), not before another head.
            // The next word's facility kind (one byte) is tested before its gap is read.
            Some(FacilityWord::Head) => match words.get(i + 1) {
                Some(next)
                    if matches!(next.facility, Some(FacilityWord::TailAfterGeneric | FacilityWord::Head))
                        && joins(gap_bytes(hay, next))
                        && (!gap_has(hay, next, b'\n') || next.facility == Some(FacilityWord::TailAfterGeneric))
                        && (next.caseless || matches!(next.case, Case::Cap | Case::Upper)) =>
                {
                    i + 1
                }
                _ => i,
            },
            Some(FacilityWord::Generic) => match words.get(i + 1) {
                Some(next) if next.facility == Some(FacilityWord::TailAfterGeneric) && joins(gap_bytes(hay, next)) => {
                    i + 1
                }
                _ => continue,
            },
            _ => continue,
        };
        if w.blocked || (!w.caseless && !matches!(w.case, Case::Cap | Case::Upper)) {
            continue;
        }
        // Extend left over name words; connectors (`of`, `&`, `and`, `the`) only between name words.
        let mut start = i;
        let mut distinctive = 0;
        // A distinctive word that is a name or a town and no English word (`ellsworth`, `st`), for dictation.
        let mut proper = false;
        let mut state_word = false;
        // The first word after a line break the name runs across (`St. Mary's\nHealth Center`).
        let mut wrapped_at: Option<usize> = None;
        let mut k = i;
        while k > 0 && i - k < 5 {
            let prev = &words[k - 1];
            if prev.blocked {
                break;
            }
            let g = gap_bytes(hay, &words[k]);
            let text = &hay[prev.start..prev.end];
            // Compared without case in place: a lower-cased copy of each word was an allocation.
            let saint = is_any_case(text, &["st", "saint", "ste", "mt", "mount"])
                || (text.eq_ignore_ascii_case("good")
                    && is_any_case(&hay[words[k].start..words[k].end], &["samaritan", "shepherd"]));
            if !(joins(g) || g == b" & " || (g == b". " && saint)) {
                break;
            }
            if has_byte(g, b'\n') {
                wrapped_at.get_or_insert(k);
            }
            let roles = prev.roles;
            // `Van der Berg Hospice`: lower-case surname particles join name words like connectors.
            let connector = is_connector(text) || (prev.case == Case::Lower && is_particle(text.as_bytes()));
            if connector {
                // Only inside a name: the word before the connector must itself be a name word.
                let Some(before) = k.checked_sub(2).map(|x| &words[x]) else { break };
                if !(before.case == Case::Cap || before.case == Case::Upper) || before.caseless {
                    break;
                }
                k -= 1;
                continue;
            }
            let generic = prev.facility.is_some();
            let shaped = if prev.caseless {
                generic
                    || saint
                    || roles & (role::STOP | role::CLINICAL | role::TITLE | role::NAME_CUE | role::PLACE_CUE) == 0
            } else {
                matches!(prev.case, Case::Cap | Case::Upper)
            };
            // `New` of `New York Presbyterian Hospital` is a stop word, but it starts a place name there. Asked last,
            // of a stop word only: its two lookups (the gazetteer's 4 MiB table among them) are cache misses.
            let place_head = || {
                !prev.caseless && prev.flags & PLACE_HEAD != 0 && {
                    let pair = KeyHasher::default().push(prev.hash).push(words[k].hash).finish();
                    gaz.flags_of(pair) & PLACE != 0 || lex.is_state(pair)
                }
            };
            if !shaped || (!saint && !generic && roles & role::STOP != 0 && !place_head()) {
                break;
            }
            if (roles & role::TITLE != 0 && !saint) || (prev.case == Case::Upper && is_credential(text)) {
                break;
            }
            // `Notified Radiology`, `Activated EMS`: a verb in the past that starts a sentence is not a name word.
            let sentence_start = k == 1 || {
                let before = gap(hay, prev);
                has_byte(before.as_bytes(), b'\n') || before.starts_with(['.', '!', '?', ';'])
            };
            let name_adjective =
                is_any_case(text, &["united", "blessed", "sacred", "advanced", "integrated", "associated"]);
            if sentence_start
                && prev.case == Case::Cap
                && prev.flags & ENGLISH != 0
                && text.len() >= 2
                && text.as_bytes()[text.len() - 2..].eq_ignore_ascii_case(b"ed")
                && !name_adjective
            {
                break;
            }
            if prev.facility.is_none() && !prev.state() || saint {
                distinctive += 1;
                proper |= saint || (prev.flags & (FIRST | LAST | PLACE) != 0 && prev.flags & (ENGLISH | COMMON) == 0);
            }
            state_word |= prev.state() && !saint;
            k -= 1;
            start = k;
        }
        // Extend right over `of <Name>` (`Hospital of Saint Raphael`, `Allergy Partners of the Triangle`).
        let mut end = head_end;
        // `of` first: most heads have none after them, and `the` after it is not looked for.
        let of_follows = words.get(head_end + 1).is_some_and(|of| &hay[of.start..of.end] == "of");
        let the = usize::from(
            of_follows
                && words.get(head_end + 2).is_some_and(|w| &hay[w.start..w.end] == "the" && gap_is(hay, w, b" ")),
        );
        if of_follows
            && let (Some(of), Some(name)) = (words.get(head_end + 1), words.get(head_end + 2 + the))
            && joins(gap_bytes(hay, of))
            && joins(gap_bytes(hay, name))
            && !name.caseless
            && name.case == Case::Cap
            && name.roles & (role::STOP | role::CLINICAL) == 0
        {
            end = head_end + 2 + the;
            distinctive += 1;
            while let Some(more) = words.get(end + 1) {
                if joins(gap_bytes(hay, more))
                    && more.case == Case::Cap
                    && !more.caseless
                    && more.roles & role::STOP == 0
                {
                    end += 1;
                } else {
                    break;
                }
            }
        }
        // A capitalised town after the head (`Florida Hospital Orlando`, `Kaiser Permanente San Jose`).
        if end == head_end {
            end += town_after(hay, words, end, gaz);
        }
        // A state after the head (`Children's Hospital Colorado`).
        if end == head_end
            && let Some(state) = words.get(end + 1)
            && gap_is(hay, state, b" ")
            && state.state()
            && !state.caseless
            && state.case == Case::Cap
        {
            end += 1;
            distinctive += 1;
        }
        // A name starts and, on its own line, restarts at a name word, not at `of`, `and` or `the`.
        let past_connectors = |mut k: usize| {
            while k < i && is_connector(&hay[words[k].start..words[k].end]) {
                k += 1;
            }
            k
        };
        let start = past_connectors(start);
        // A state names a facility when capitalised before its head (`Massachusetts General Hospital`, `Texas
        // Children's Hospital`); in dictation only with another word between (`massachusetts general hospital`, not
        // `a texas hospital`).
        if state_word && (!w.caseless || i - start >= 2) {
            distinctive += 1;
        }
        // In dictation, words of a sentence run into heads such as `labs`, `dialysis` or `school` (`we will recheck
        // labs`, `fever free school note`): there only a hospital, a clinic or a center ends a name by itself, other
        // heads need a name or a town before them, or `at` or `from` (`seen today at kindred pharmacy`).
        // The words before are read only for a lower-case head in dictation.
        let at_place = || {
            let before = (0..start).rev().find(|&k| !is_connector(&hay[words[k].start..words[k].end]));
            before.is_some_and(|k| matches!(&hay[words[k].start..words[k].end], "at" | "from"))
        };
        let plain_sentence =
            || w.caseless && w.case == Case::Lower && !proper && !at_place() && !strong_head(hay, w, &words[head_end]);
        // `CITY: VIRGINIA STATE UNIVERSITY` is a town's name in a form's city field.
        if distinctive > 0 && !plain_sentence() && !city_label_before(hay, words, start) {
            let score = if w.caseless { 0.8 } else { 0.88 };
            out.extend(with_store_number(hay, words[start].start, words[end].end, score));
            out.push(Candidate {
                start: words[start].start,
                end: words[end].end,
                entity_type: EntityType::Facility,
                score,
            });
            // The line before may be something else (`Dr Fiona MacLeod\nWoodside Health Centre`): the part on the
            // head's own line is a facility too, just below the whole, for when the whole loses to that line's name.
            let line_start = wrapped_at.map(past_connectors);
            // Only with a name word of its own before the head (not `Dr. Janson\nof cardiology`).
            if let Some(line_start) = line_start.filter(|&k| k > start && k < i && words[k].facility.is_none()) {
                out.push(Candidate {
                    start: words[line_start].start,
                    end: words[end].end,
                    entity_type: EntityType::Facility,
                    score: score - 0.01,
                });
            }
        }
    }
}

/// Employers, pharmacies and schools named without a facility word, after a cue that says what they are (`works at
/// Deloitte`, `Last filled at Walgreens`, `Pharmacy: CVS #04821`, `EMPLOYER: ACME WIDGETS`). Up to four name words:
/// capitalised ones in mixed-case text; in dictation and upper-case forms, words up to a stop word, with one in no
/// English dictionary (`works at walmart distribution center`, not `works at home`).
///
/// `after_org_cue` holds the index after each cue's last word (noted by the tokenizer): only there is a name looked for.
fn organizations(hay: &str, words: &[Word], after_org_cue: &[usize], lex: &Lexicon, out: &mut Vec<Candidate>) {
    for &i in after_org_cue.iter().take_while(|&&i| i < words.len()) {
        let cue_end = &words[i - 1];
        // Compared as bytes with ASCII separators.
        let g = gap_bytes(hay, &words[i]);
        // A field is one word or two before a colon (`Employer:`, `Preferred pharmacy:`), a phrase two words (`works
        // at`).
        // The cue's words are looked up only after a gap that a field or a phrase may end with.
        let one = || lex.entry(cue_end.hash).org_cue;
        let two = || {
            i.checked_sub(2)
                .and_then(|k| lex.entry(KeyHasher::default().push(words[k].hash).push(cue_end.hash).finish()).org_cue)
        };
        // A colon and any spaces after it.
        let colon = g.strip_prefix(b":").is_some_and(|spaces| spaces.iter().all(|&c| c == b' '));
        let field = colon && (one() == Some(OrgCue::Field) || (g == b": " && two() == Some(OrgCue::Field)));
        // A phrase's first word, by its hash alone, before the two words are looked up together.
        let phrase =
            g == b" " && i >= 2 && lex.may_start_org_phrase(words[i - 2].hash) && two() == Some(OrgCue::Phrase);
        if !(field || phrase) {
            continue;
        }
        // `working at the Home Depot`: the article is not the name's.
        let i = if phrase && hay[words[i].start..words[i].end].eq_ignore_ascii_case("the") && i + 1 < words.len() {
            i + 1
        } else {
            i
        };
        let first = &words[i];
        let caseless = first.caseless;
        let text = |w: &Word| &hay[w.start..w.end];
        let name_word = |w: &Word| {
            !w.blocked
                && (w.roles & (role::STOP | role::TITLE | role::CLINICAL | role::NAME_CUE) == 0 || w.facility.is_some())
                && (caseless || matches!(w.case, Case::Cap | Case::Upper))
                && !is_credential(text(w))
        };
        if !name_word(first) || NOT_ORG_VALUES.iter().any(|v| text(first).eq_ignore_ascii_case(v)) {
            continue;
        }
        let mut end = i;
        while let Some(next) = words.get(end + 1) {
            let joined = matches!(gap_bytes(hay, next), b" " | b" & ");
            // A form's field holds the whole name (`Facility: CASA DE PAZ SENIOR LIVING`), a sentence fewer words.
            if end + 1 - i >= if field { 6 } else { 4 } || !joined || !name_word(next) || next.caseless != caseless {
                break;
            }
            end += 1;
        }
        // Without case, after a sentence's cue only a word in no dictionary says a name begins (`works at walmart`,
        // not `works at home`); a form's field says it by itself.
        if caseless
            && phrase
            && words[i..=end].iter().all(|w| w.flags & (ENGLISH | COMMON) != 0 || w.facility.is_some())
        {
            continue;
        }
        // A form's field whose value holds a company's or a facility's word (`EMPLOYER: BLACK HILLS GRAVEL READY MIX
        // CO`) names an organisation above any person's name in it.
        let marked = field
            && words[i..=end].iter().any(|w| {
                w.facility.is_some() || ORG_MARKERS.iter().any(|m| hay[w.start..w.end].eq_ignore_ascii_case(m))
            });
        let score = if marked {
            0.9
        } else if caseless {
            0.75
        } else {
            0.8
        };
        // The name alone is offered too, for when the store number is also the start of an address.
        out.extend(with_store_number(hay, first.start, words[end].end, score));
        out.push(Candidate {
            start: first.start,
            end: words[end].end,
            entity_type: EntityType::Facility,
            score: score - 0.01,
        });
    }
}

/// The facility named from `start` to `e` with the store number right after it (`CVS #04821`, `Meijer Pharmacy
/// #233`), which belongs to the name; `None` when there is none.
fn with_store_number(hay: &str, start: usize, e: usize, score: f32) -> Option<Candidate> {
    let after = &hay[e..];
    let rest = after.strip_prefix(" #").or_else(|| after.strip_prefix('#'))?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let boundary = rest.as_bytes().get(digits).is_none_or(|b| !b.is_ascii_alphanumeric());
    let end = e + (after.len() - rest.len()) + digits;
    (digits > 0 && boundary).then_some(Candidate { start, end, entity_type: EntityType::Facility, score })
}

/// Whether a facility name headed by `head` and ending at `last` (the same word, or the tail after a generic head)
/// names a place by its head alone: a hospital, clinic, hospice or center.
fn strong_head(hay: &str, head: &Word, last: &Word) -> bool {
    let is = |w: &Word, words: &[&str]| words.iter().any(|x| hay[w.start..w.end].eq_ignore_ascii_case(x));
    is(head, STRONG_FACILITY_HEADS) || is(last, &["center", "centre", "hospital", "clinic"])
}

/// `of`, `and` or `the` inside a facility's name (`Hospital of Saint Raphael`), in any case.
fn is_connector(word: &str) -> bool {
    ["of", "and", "the"].iter().any(|c| word.eq_ignore_ascii_case(c))
}

/// Number of words (0 to 3) of a capitalised gazetteer town right after `words[j]`.
fn town_after(hay: &str, words: &[Word], j: usize, gaz: &Gazetteer) -> usize {
    let mut h = KeyHasher::default();
    let mut town = 0;
    for n in 1..=3 {
        let Some(w) = words.get(j + n) else { break };
        if !gap_is(hay, w, b" ") || w.caseless || w.case != Case::Cap || w.roles & (role::STOP | role::CLINICAL) != 0 {
            break;
        }
        h.push(w.hash);
        // A capitalised word's flags are known: a phrase that ends at no place's tail word is no place.
        let flags = match n {
            1 => w.flags,
            _ if w.flags & PLACE_TAIL != 0 => gaz.flags_of(h.finish()),
            _ => 0,
        };
        if flags & PLACE != 0 && !(n == 1 && w.state()) {
            town = n;
        }
        if n == 1 && flags & PLACE_HEAD == 0 {
            break;
        }
    }
    town
}

/// The end of a person's name that the word pass leaves out: the period of a closing initial (`Lindqvist, Hope M.`)
/// and a generational suffix (`Armand Joseph Jr.`, `Everett Hartley III`, `SMITH, JOHN, SR`).
fn name_endings(hay: &str, people: &mut [Candidate]) {
    // `III` before `II`: the first that matches is taken.
    const SUFFIXES: &[&str] = &["Jr", "JR", "Sr", "SR", "III", "II", "IV"];
    // The first-byte test below keeps to these.
    const _: () = {
        let mut k = 0;
        while k < SUFFIXES.len() {
            assert!(matches!(SUFFIXES[k].as_bytes()[0], b'J' | b'S' | b'I'));
            k += 1;
        }
    };
    let b = hay.as_bytes();
    for c in people.iter_mut().filter(|c| c.entity_type == EntityType::Person) {
        let initial = c.end >= 2 && b[c.end - 1].is_ascii_uppercase() && !b[c.end - 2].is_ascii_alphanumeric();
        if initial && b.get(c.end) == Some(&b'.') {
            c.end += 1;
            continue;
        }
        let rest = &hay[c.end..];
        let after = rest.strip_prefix(", ").or_else(|| rest.strip_prefix(' '));
        // Every suffix starts with `J`, `S` or `I`: one byte turns away most words after a name.
        if let Some(after) = after
            && after.starts_with(['J', 'S', 'I'])
            && let Some(suffix) = SUFFIXES.iter().find(|x| after.starts_with(**x))
        {
            let mut end = c.end + (rest.len() - after.len()) + suffix.len();
            if b.get(end) == Some(&b'.') {
                end += 1;
            }
            if b.get(end).is_none_or(|x| !x.is_ascii_alphanumeric()) {
                c.end = end;
            }
        }
    }
}

/// Once `John Smith` is found, a later `Smith` or `Mr Smith's` anywhere in the document is the same person.
/// `scratch` is room for the spans already found and the names' two lists (emptied first).
fn coreference(
    words: &[Word],
    first_new: usize,
    out: &mut Vec<Candidate>,
    scratch: (&mut Vec<(usize, usize)>, &mut Vec<u64>, &mut Vec<u64>),
) {
    let (covered, known, known_common) = scratch;
    known.clear();
    known_common.clear();
    for c in &out[first_new..] {
        if c.entity_type != EntityType::Person || c.score < 0.6 {
            continue;
        }
        // Words are in text order: only those from the candidate's start to its end can lie inside it.
        let from = words.partition_point(|w| w.start < c.start);
        // A name holds a few words: walked over rather than searched for in halves.
        let mut to = from;
        while to < words.len() && words[to].end <= c.end {
            to += 1;
        }
        for w in words[from..to].iter().filter(|w| w.end - w.start >= 3) {
            let flags = w.flags;
            if w.roles & (role::STOP | role::CLINICAL) != 0 || known.contains(&w.hash) {
                continue;
            }
            if flags & COMMON == 0 {
                known.push(w.hash);
            } else if c.score >= 0.85 {
                // `Smith` is also a word: repeat it only where it is capitalised in mixed-case text.
                known_common.push(w.hash);
            }
        }
    }
    known.extend(known_common.iter().map(|h| !h));
    if known.is_empty() {
        return;
    }
    covered.clear();
    covered.extend(out[first_new..].iter().filter(|c| c.score >= 0.5).map(|c| (c.start, c.end)));
    covered.sort_unstable();
    // A 256-entry Bloom filter of `known` (an entry for the top eight bits of each hash and of its complement, so
    // that a word whose hash or complement is in `known` has its entry set): this loop sees every word of the note, and
    // nearly all of them are turned away by this one test, before their own tests and without a scan of `known`. A
    // byte an entry, where a bit an entry took a shift and a mask more for every word.
    let slot = |hash: u64| (hash >> 56) as usize;
    let mut bloom = [false; 256];
    for &h in known.iter() {
        bloom[slot(h)] = true;
        bloom[slot(!h)] = true;
    }
    // How many of `covered` start at or before the word: words come in text order, so it only grows, and is counted
    // on from where it was (a search in halves for each repeated name cost more than all these steps).
    let mut inside = 0;
    for w in words {
        if !bloom[slot(w.hash)] {
            continue;
        }
        // An unblocked word that is capitalised, upper case or in a caseless line is one marked
        // [`Word::PERSON_START`] (one byte to test), but for an initial.
        if w.starts & Word::PERSON_START == 0 || (!w.caseless && w.case == Case::Initial) {
            continue;
        }
        // Most words that pass the filter are the names' own, inside the spans found (88,800 of 133,500 on the bench's
        // mixed notes): whether the word lies in a span is asked before `known` is scanned for it. Words come in text
        // order, so `inside` counts on the same whichever of them ask.
        while covered.get(inside).is_some_and(|&(s, _)| s <= w.start) {
            inside += 1;
        }
        if inside > 0 && covered[inside - 1].1 >= w.end {
            continue;
        }
        let plain = known.contains(&w.hash);
        let common = !plain && !w.caseless && w.case == Case::Cap && known.contains(&!w.hash);
        if !(plain || common) {
            continue;
        }
        out.push(Candidate { start: w.start, end: w.end, entity_type: EntityType::Person, score: 0.8 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_number_is_kept_exactly_when_its_value_is_an_age_over_89() {
        // The digit patterns of `bare_number_turned_away` against the value range `token` reads ages by
        // (`90..=125`), for every number of one to three digits, leading zeros included.
        for len in 1..=3u32 {
            for value in 0..10u32.pow(len) {
                let digits = format!("{value:0width$}", width = len as usize);
                let text = format!("at {digits} on.");
                let turned_away = bare_number_turned_away(text.as_bytes(), 3, 3 + digits.len());
                assert_eq!(turned_away, !(90..=125).contains(&value), "{digits}");
            }
        }
    }

    #[test]
    fn no_label_takes_a_token_of_one_digit() {
        // `token` turns such tokens away before the label's lookup: every label's value needs a second digit (a VIN
        // aside, which is seventeen bytes long).
        for text in ["SpO2", "5-day", "ABCD1", "X-1-YZ", "AB1234567", "ab-cd-1-efghijklmnopq"] {
            let alnum = text.bytes().filter(u8::is_ascii_alphanumeric).count();
            for ty in EntityType::ALL {
                assert_eq!(id_value(text, 0, text.len(), ty, 1, alnum), None, "{text} {ty:?}");
            }
        }
        for text in ["MRN: ABCD1 seen", "Policy #: X-1-YZ", "SSN: 1-AB-CD", "Phone AB1CD"] {
            let s = text.find(|c: char| c.is_ascii_digit()).map(|d| text[..d].rfind(' ').map_or(0, |p| p + 1));
            let s = s.expect("a digit");
            let e = s + text[s..].find(' ').unwrap_or(text.len() - s);
            assert_eq!(token(text, s, e), None, "{text}");
        }
    }

    #[test]
    fn coreference_repeats_a_name_outside_every_span_found_whatever_words_lie_between() {
        // `coreference` asks whether a word lies in a span found before it scans the names for the word, so `inside`
        // counts on only at words that pass the filter and are capitalised: past a span that holds no name's word
        // (`Hale`), a span that holds one (`12 Boston Road`) and a name below the spans' score (`Walter Hale`).
        let text = "Walter Boston seen. Boston again with Hale at 12 Boston Road then Boston, and boston Walter Hale.";
        let mut words = Words::new();
        tokenize(text, &mut words, Gazetteer::get(), Lexicon::get());
        let span = |s: &str| {
            let start = text.find(s).expect("in the text");
            (start, start + s.len())
        };
        let candidate = |(start, end): (usize, usize), entity_type, score| Candidate { start, end, entity_type, score };
        let mut out = vec![
            candidate(span("Walter Boston"), EntityType::Person, 0.9),
            candidate(span("Hale"), EntityType::City, 0.7),
            candidate(span("12 Boston Road"), EntityType::Address, 0.9),
            candidate(span("Walter Hale"), EntityType::Person, 0.4),
        ];
        let found = out.len();
        coreference(&words.list, 0, &mut out, (&mut Vec::new(), &mut Vec::new(), &mut Vec::new()));
        let repeats: Vec<_> = out[found..].iter().map(|c| (c.start, &text[c.start..c.end])).collect();
        let again = span("Boston again").0;
        let then = span("Boston,").0;
        let walter = span("Walter Hale").0;
        assert_eq!(repeats, [(again, "Boston"), (then, "Boston"), (walter, "Walter")]);
    }

    #[test]
    fn a_word_after_a_colon_has_a_name_cue_only_where_may_cue_field_says_it_may() {
        // `persons` turns away a word after a colon that is no name part unless `may_cue_field` holds: the premise is
        // that `name_cue` then gives no `NAME_CUE`, after one cue word or two, a hesitation, a title or another label.
        let texts = [
            "Patient: Spencer In\nPatient name: DORRIS OKAFOR\npt name:  Robert   Fisher\nName is: Tom",
            "Attending: Dr Lee\nReferring provider: Jane Roe\nEmployer: ACME WIDGETS\nDear: Sir\nCC: Will May",
            "patient um: Jones\num: Ngozi Brawn\nDr.: Hope\nMr: Smith\nDiagnosis: Hypertension\nDate: March",
            "Seen by: Iris Walker, RN\nGUARANTOR: VAN DER BERG, ALESHA\nknown as: Liz\nwife: Iris\nPCP:Okafor",
        ];
        let lex = Lexicon::get();
        let mut cued = 0;
        for text in texts {
            let mut words = Words::new();
            tokenize(text, &mut words, Gazetteer::get(), lex);
            let list = &words.list;
            for i in 0..list.len() {
                if gap_has(text, &list[i], b':') && name_cue(text, list, i, lex) == role::NAME_CUE {
                    assert!(may_cue_field(list, i), "{}", &text[list[i].start..list[i].end]);
                    cued += 1;
                }
            }
        }
        // The cues above that are cues: `Patient`, `Patient name`, `pt name`, `Name is`, `Attending`, `provider`,
        // `Employer`, `Dear`, `CC`, `by`, `known as`.
        assert!(cued >= 10, "{cued}");
        for (text, name) in [("Patient: Spencer In", "Spencer In"), ("Patient name: DORRIS OKAFOR", "DORRIS OKAFOR")] {
            assert!(has(text, EntityType::Person, name), "{text}");
        }
        assert!(!found("Diagnosis: Hypertension").iter().any(|(ty, _)| *ty == EntityType::Person));
    }

    #[test]
    fn the_tokenizer_notes_a_rule_start_exactly_after_a_cue_or_opener_at_a_hyphen_or_rule_word() {
        // `rule_before` is set again only at rare words (the cues among them): an opener's position or a cue must not
        // outlive the next word, whatever words (common, rare, codes, numbers) come after it.
        let texts = [
            "seen by Dr Lee then (x) mg and ( 3 tab) Ann by\nKim, then spelled S-M-I-T-H on Main St",
            "by by A12 Lee (Lee (\n(Ann ^Bob ^ 7 Cal initials JS, cosigned by: RN Moe 3rd Ave the thats",
            "(9 Ann)(Bob) by 12 Cal twenty-one ninety-four March day at Mercy Hospital by",
        ];
        let lex = Lexicon::get();
        for text in texts {
            let mut words = Words::new();
            tokenize(text, &mut words, Gazetteer::get(), lex);
            let list = &words.list;
            let is_cue = |w: &Word| {
                RULE_CUES.iter().flat_map(|c| c.iter()).any(|c| text[w.start..w.end].eq_ignore_ascii_case(c))
            };
            for (i, w) in list.iter().enumerate() {
                let word = &text[w.start..w.end];
                // The word read just before this one: a code (`A12`) is none, and a cue before it still counts.
                let after_cue = i > 0 && is_cue(&list[i - 1]);
                let expected = after_cue
                    || word.contains('-')
                    || matches!(text.as_bytes()[..w.start].last(), Some(b'^' | b'('))
                    || lex.word_facts(w.hash).marks & (WordFacts::RULE_WORD | WordFacts::MONTH) != 0;
                assert_eq!(w.marks & Word::RULE != 0, expected, "{word} at {} of {text:?}", w.start);
                assert_eq!(words.rule_at.contains(&i), expected && i > 0, "{word} at {} of {text:?}", w.start);
            }
        }
    }

    #[test]
    fn a_letterhead_has_one_to_seven_words() {
        let lex = Lexicon::get();
        assert!(is_letterhead("Mercy General Hospital", lex));
        assert!(is_letterhead("Mercy General Hospital And Medical Center East", lex));
        assert!(!is_letterhead("Mercy General Hospital And Medical Center East Campus", lex));
        assert!(!is_letterhead("", lex));
    }

    fn found(text: &str) -> Vec<(EntityType, String)> {
        let analyzer = Analyzer::new().expect("patterns compile");
        let chars: Vec<char> = text.chars().collect();
        analyzer
            .analyze(text, &AnalyzeOptions::default())
            .into_iter()
            .map(|e| (e.entity_type, chars[e.start..e.end].iter().collect()))
            .collect()
    }

    #[test]
    fn every_name_like_label_is_an_identifier_label_of_the_lexicon() {
        // `left_label` compares a label's text with them only when the lexicon flags it name-like.
        for w in NAME_LIKE_LABELS {
            let entry = Lexicon::get().entry(word_key(w));
            assert!(matches!(entry.label, Some(Label::Id(_))) && entry.name_like, "{w}");
        }
    }

    #[test]
    fn every_particle_starts_with_a_letter_is_particle_any_case_looks_at() {
        // Every word of two to five letters that starts with another letter is no particle.
        let mut word = [b'a'; 5];
        for len in 2..=5 {
            for n in 0..26usize.pow(len as u32) {
                let mut rest = n;
                for c in word[..len].iter_mut() {
                    *c = b'a' + (rest % 26) as u8;
                    rest /= 26;
                }
                if is_particle(&word[..len]) {
                    assert!(matches!(word[0], b'a' | b'b' | b'd' | b'i' | b'l' | b't' | b'v'), "{word:?}");
                    assert!(is_particle_any_case(std::str::from_utf8(&word[..len]).unwrap()));
                }
            }
        }
    }

    #[test]
    fn every_hesitation_is_a_stop_word_of_the_lexicon() {
        // `name_cue` reads a word's text as a hesitation only when its roles hold `STOP`.
        for h in HESITATIONS {
            assert_ne!(Lexicon::get().role(word_key(h)) & role::STOP, 0, "{h}");
        }
    }

    #[test]
    fn words_that_are_no_street_words_are_found_in_any_case_and_no_others() {
        for w in NOT_STREET_WORDS {
            assert!(not_street_word(w) && not_street_word(&w.to_ascii_uppercase()), "{w}");
        }
        for w in ["theater", "th", "Main", "the.", "a-", "\u{3b1}", "", "diagnoses", "`he"] {
            assert!(!not_street_word(w), "{w}");
        }
    }

    #[test]
    fn street_words_are_the_words_their_case_insensitive_regex_matches() {
        let regex = Regex::new(&format!("(?i)^(?:{STREET_SUFFIX}|{SECONDARY_UNITS}|north|south|east|west)$"))
            .expect("pattern compiles");
        let listed = STREET_SUFFIX.split('|').chain(SECONDARY_UNITS.split('|')).flat_map(|w| {
            let stem = w.trim_end_matches("s?").to_string();
            [stem.clone(), format!("{stem}s"), format!("{stem}x")]
        });
        let others = [
            "North",
            "WEST",
            "ſt",
            "\u{212A}ey",
            "PARK\u{212A}",
            "Ave.",
            "ave ",
            "",
            "ś",
            "Straße",
            "sqs",
            "throughways",
        ];
        for word in listed.chain(others.iter().map(|w| w.to_string())) {
            for written in [word.clone(), word.to_uppercase(), word.to_ascii_uppercase()] {
                assert_eq!(is_street_word(&written), regex.is_match(&written), "{written:?}");
            }
        }
    }

    #[test]
    fn first_bytes_hold_every_byte_a_pattern_can_start_with() {
        let shapes = Shapes::new(&[r"(?-u:\b)(?i:ab)c", r"(?:x|[0-9])?y", r"z?"]).expect("patterns compile");
        let starts = |pattern| {
            let bytes = shapes.first_bytes(PatternID::must(pattern));
            (0..=255u8).filter(|&b| bytes[usize::from(b)]).collect::<Vec<_>>()
        };

        assert_eq!(starts(0), b"Aa");
        assert_eq!(starts(1), b"0123456789xy");
        // A pattern matching the empty string matches before any byte.
        assert_eq!(starts(2).len(), 256);
    }

    fn has(text: &str, ty: EntityType, value: &str) -> bool {
        found(text).iter().any(|(t, v)| *t == ty && v == value)
    }

    #[test]
    fn street_names_ending_in_a_street_type_units_and_directions_stay_in_the_address() {
        for (text, value) in [
            ("ADDRESS: 190 RIVER RD UNIT 2", "190 RIVER RD UNIT 2"),
            ("ADDRESS: 55 OAK HILL RD", "55 OAK HILL RD"),
            ("lives at one twenty three harbor point road", "one twenty three harbor point road"),
            ("12 Orchard Hill Rd Apt 4, Boston", "12 Orchard Hill Rd Apt 4"),
            ("3904 Lakeshore Blvd W #1207", "3904 Lakeshore Blvd W #1207"),
        ] {
            assert!(has(text, EntityType::Address, value), "{text}: {:?}", found(text));
        }
        // `Dr` is not taken as a second street type: it is the title of the name after it.
        let text = "Lives at 12 Main St. Dr. Smith saw her.";
        assert!(has(text, EntityType::Address, "12 Main St.") && has(text, EntityType::Person, "Smith"));
    }

    #[test]
    fn measures_times_page_numbers_and_lead_ranges_are_not_addresses() {
        for text in [
            "repaired with a 4.3 cm Ventralex ST patch",
            "Scheduled Jan 28 8 AM. Pt will bring his wife",
            "Nurse stayed on line; 911 contacted via three-way call",
            "O2 2 L NC, 18G L AC saline lock.",
            "ekg shows st depressions in v four through v six no st elevations",
            "DISCHARGE SUMMARY          Page 2 of 3\nPt: LEFORT, CLAUDETTE",
        ] {
            assert!(found(text).iter().all(|(t, _)| *t != EntityType::Address), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn identifiers_after_labels_of_specimens_prescriptions_cases_tax_ids_and_groups() {
        for (text, ty, value) in [
            ("Specimen ID: 23-221-4410   Collected: 07/11/2023", EntityType::AccountNumber, "23-221-4410"),
            ("Rx #: 2094417   Drug: Ozempic 1 mg", EntityType::OtherId, "2094417"),
            ("Incident #: 2024-018832  Unit: Medic 7", EntityType::OtherId, "2024-018832"),
            ("Member ID: W298446127   Group #: 012934", EntityType::HealthPlanId, "012934"),
            ("CSN: 781102934", EntityType::AccountNumber, "781102934"),
            ("Northbridge Pathology Laboratory\nCLIA 05D0987123", EntityType::LicenseNumber, "05D0987123"),
            ("NPI: 1599304189    TIN: 91-1847302", EntityType::OtherId, "91-1847302"),
            ("a truck driver; CDL # H2205-48831-66015.", EntityType::LicenseNumber, "H2205-48831-66015"),
            ("Subject ID: 112-0047", EntityType::OtherId, "112-0047"),
            ("Case: 2023-CV-04471", EntityType::OtherId, "2023-CV-04471"),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn any_word_before_a_number_sign_or_id_labels_the_identifier_after_it() {
        for (text, value) in [
            ("Booking #: 224018377   Location: jail", "224018377"),
            ("(interpreter ID INT-0442)", "INT-0442"),
            ("Client #: NDT-18824", "NDT-18824"),
            ("Poison Center    Case No. NNEPC-25-004417", "NNEPC-25-004417"),
        ] {
            assert!(found(text).iter().any(|(_, v)| v == value), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn labels_reach_past_a_state_code_a_bracketed_remark_or_a_filler_that_is_a_date_word() {
        for (text, ty, value) in [
            ("Driver's license .... OH TR418832", EntityType::LicenseNumber, "TR418832"),
            ("MRN (if known): 40027719", EntityType::Mrn, "40027719"),
            ("Medicaid (Centennial Care) ID 1099283746 - active.", EntityType::HealthPlanId, "1099283746"),
            ("Health First Colorado (Medicaid) ID K448120", EntityType::HealthPlanId, "K448120"),
            ("COVERED, AUTH ON FILE SH-2024-0091177 (24 VISITS)", EntityType::AccountNumber, "SH-2024-0091177"),
            ("Second template (left hand) ID: PS-TPL-9F3A22C71C.", EntityType::BiometricId, "PS-TPL-9F3A22C71C"),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
        // `on` alone still labels a date, also after a lab's name.
        assert!(has("seen on 03/04/2023", EntityType::Date, "03/04/2023"));
        assert!(has("Your TSH on 9/22 was 1.8", EntityType::Date, "9/22"));
    }

    #[test]
    fn order_kit_trace_activation_and_reference_numbers_are_account_numbers() {
        for (text, value) in [
            ("ORDER #: ORD98312276", "ORD98312276"),
            ("kit barcode SK-55120-88713; order # GN-2501-0044.", "SK-55120-88713"),
            ("kit barcode SK-55120-88713; order # GN-2501-0044.", "GN-2501-0044"),
            ("accepted via transfer center (call ref TC-250327-0614)", "TC-250327-0614"),
            ("Travel insurer claim ref.: TRV-DE-4471902", "TRV-DE-4471902"),
            ("Quick Pay code: 7XK2-991R", "7XK2-991R"),
            ("MyChart activation code: KX7RQ-2MB9T-44HVL (expires 06/08/2025)", "KX7RQ-2MB9T-44HVL"),
            ("63 TREATMENT AUTHORIZATION CODES: UM-2024-0821-04417", "UM-2024-0821-04417"),
        ] {
            assert!(has(text, EntityType::AccountNumber, value), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_gs1_udi_with_its_production_identifiers_is_one_device_id() {
        for (text, value) in [
            (
                "serial/UDI of PDM: (01)00810045210049(11)230914(21)PDM9041177\nEvent",
                "(01)00810045210049(11)230914(21)PDM9041177",
            ),
            // A wrong check digit, but the expiry and lot after it say what it is.
            (
                "insert, 11 mm CS - UDI (01)07613327294116(17)290430(10)70M2281",
                "(01)07613327294116(17)290430(10)70M2281",
            ),
        ] {
            assert!(has(text, EntityType::DeviceId, value), "{text}: {:?}", found(text));
        }
        // A bare GTIN with a wrong check digit is nothing.
        assert!(found("GTIN (01)00810045210048 on the box").is_empty());
    }

    #[test]
    fn rural_route_and_highway_contract_boxes_corners_and_mile_markers_are_addresses() {
        for (text, value) in [
            ("son Pieter Vanderhoek, RR 1 Box 44, Gilbert, IA 50105", "RR 1 Box 44"),
            ("His current address is HC 65 Box 112A, Harper, TX 78631", "HC 65 Box 112A"),
            ("Address: Rt. 3 Box 217, Surgoinsville, TN 37873", "Rt. 3 Box 217"),
            ("The former site at 59th Ave and Thomas Rd closed", "59th Ave and Thomas Rd"),
            ("at the intersection of Belt Line Road and Coit Road in Richardson", "Belt Line Road and Coit Road"),
            ("has moved to W. Indian School Rd & N. 75th Ave (NE corner)", "W. Indian School Rd & N. 75th Ave"),
            ("parked near NM-528 and US-550. Ambient", "NM-528 and US-550"),
            ("a rollover on I-94 EB at mile marker 141 west of town", "I-94 EB at mile marker 141"),
            ("gravel drive past mile marker 11 on SR 195)", "mile marker 11 on SR 195"),
        ] {
            assert!(has(text, EntityType::Address, value), "{text}: {:?}", found(text));
        }
        for text in ["BP 120 and HR 80", "OR 2 and OR 3 are closed"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn people_named_by_their_part_in_a_record_or_by_an_initial_and_a_credential() {
        for (text, value) in [
            ("Prescriber signature: S. Feldberg, MD        Date: 11/03/2025", "S. Feldberg"),
            ("Original prescriber: T. Lam, MD   DEA FL3329018", "T. Lam"),
            ("Driver: Beauregard \"Bo\" Fontenot       DOB: 04/30/1970", "Beauregard \"Bo\" Fontenot"),
            ("Examinee: Dashiell Obuya-Prentiss      DOB: September 9, 1980", "Dashiell Obuya-Prentiss"),
            ("Traveler: Olumide Bankole                 DOB: 23 May 1985", "Olumide Bankole"),
            ("ORDERING: OKONJO, EMEKA MD  NPI 1740293855", "OKONJO, EMEKA"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        for text in ["Student Health Services", "Hospitalist, MD", "Employee Health & Wellness"] {
            assert!(!found(text).iter().any(|(t, _)| *t == EntityType::Person), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn initials_after_the_name_they_spell_mark_the_person_through_the_record() {
        let text =
            "TIME   HR   INITIALS\n00:00  112  JRM\n02:00  108  JRM\n\nRN: Jessica R. Morales (JRM) 19:00-07:00.";
        let people: Vec<String> =
            found(text).into_iter().filter(|(t, _)| *t == EntityType::Person).map(|(_, v)| v).collect();
        assert_eq!(people, ["JRM", "JRM", "Jessica R. Morales", "JRM"], "{:?}", found(text));
        // Initials that spell the words before them are no person's where the words are no name.
        for text in ["Admitted to the Intensive Care Unit (ICU) for", "Started Xarelto Dosing (XD) today"] {
            assert!(!found(text).iter().any(|(t, _)| *t == EntityType::Person), "{text}: {:?}", found(text));
        }
        for (text, value) in [
            ("Oluwaseun Adebayo-Reyes, MD   Transcribed: kmt\nElectronically signed", "kmt"),
            ("submitted entirely in C1.\n   Grossed by: TLW/mk\n", "TLW"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn an_hl7_style_name_in_a_pipe_delimited_export_is_a_person() {
        for (text, value) in [
            ("ROW|XR25070700318|4408127|BOUCHARD^ELODIE^M|19640215|F|XR CHEST 2V", "BOUCHARD^ELODIE^M"),
            ("ROW|MG25070700091|4426901|RAMIREZ DE ARELLANO^LUISA|19750311|F", "RAMIREZ DE ARELLANO^LUISA"),
            ("x|TANAKA^HIRO^K|y\nNTE|ok for MRI per TANAKA", "TANAKA"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        assert!(found("OBX|1|CE|1234-5^Glucose^LN|").is_empty());
    }

    #[test]
    fn businesses_named_for_their_trade_store_numbers_and_fields_of_a_place() {
        for (text, value) in [
            ("Employer: Blue Heron Logistics, 12 Levee Road", "Blue Heron Logistics"),
            ("YOUR MEDICINES WERE SENT TO:\nMeijer Pharmacy #233, 2450 Calumet Ave", "Meijer Pharmacy #233"),
            ("Donor sperm back-up: Evergreen Cryobank donor #3829", "Evergreen Cryobank"),
            ("19. PLACE OF DISPOSITION: OCEAN VIEW CREMATORY, WARRENTON, OR", "OCEAN VIEW CREMATORY"),
            ("Hotel on return leg: Eko Hotels & Suites.", "Eko Hotels & Suites"),
            ("EMPLOYER: BLACK HILLS GRAVEL READY MIX CO     FEIN: 58-3391047", "BLACK HILLS GRAVEL READY MIX CO"),
            ("United Hospital in St Paul", "United Hospital"),
        ] {
            assert!(has(text, EntityType::Facility, value), "{text}: {:?}", found(text));
        }
        // A verb in the past that starts a sentence is not a facility's name.
        for text in ["Notified Radiology of the result.", "Seen. Contacted Pharmacy today"] {
            assert!(!found(text).iter().any(|(t, _)| *t == EntityType::Facility), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_card_expiry_event_dates_and_holidays_that_fix_a_day_are_dates() {
        for (text, value) in [
            ("payment by card (Visa 4916533088227140,\nexp 07/27) or by check", "07/27"),
            ("Mastercard 5520419038176451 (exp 02/30), USD", "02/30"),
            ("fogginess resolved 10/07. Sleeping 8-9 h.", "10/07"),
            ("Recheck 10/16.", "10/16"),
            ("sharp as a tack until Christmas. Confusion began", "Christmas"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        // A lot's expiry is not a date (the synthetic corpus's convention), nor a holiday without a word of time.
        for text in ["Influenza vaccine given, lot FF5539, exp 11/25", "Merry Christmas to all"] {
            assert!(!found(text).iter().any(|(t, _)| *t == EntityType::Date), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_claims_spaced_service_dates_and_statement_period_are_dates() {
        let line = "24. A. DATE(S) OF SERVICE\n     03 03 25   03 03 25     11    99204         285.00";
        assert_eq!(found(line).into_iter().filter(|(t, _)| *t == EntityType::Date).count(), 2, "{:?}", found(line));
        for (text, value) in [
            ("14. DATE OF CURRENT ILLNESS: 02 24 2025  QUAL 431", "02 24 2025"),
            ("FL6  STATEMENT PERIOD: FROM 061225 THROUGH 061625\nFL8", "061625"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        // Unpadded numbers in a row are no form's dates.
        assert!(found("sets  3 3 25   3 3 25").is_empty());
    }

    #[test]
    fn dictated_streets_without_a_number_and_post_office_boxes_are_addresses() {
        for (text, value) in [
            ("walgreens not the c v s on mill avenue", "mill avenue"),
            ("our hamtramck office on joseph campau avenue phone there", "joseph campau avenue"),
            ("he lives at post office box seven seven one utqiagvik alaska", "post office box seven seven one"),
        ] {
            assert!(has(text, EntityType::Address, value), "{text}: {:?}", found(text));
        }
        for text in ["she was found on the road", "patient lives on a busy road", "pain on walking across the street"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn names_keep_their_closing_initial_and_suffix_and_signatures_and_dictation_name_people() {
        for (text, value) in [
            ("Patient: Lindqvist, Hope M.      MRN: 40027719", "Lindqvist, Hope M."),
            ("Patient: Thibodeaux, Armand Joseph Jr.     DOB 1937-05-22", "Thibodeaux, Armand Joseph Jr."),
            ("17. Funeral director: Everett Hartley III, license FDE-3417", "Everett Hartley III"),
            ("PATIENT SIGNATURE: ROSALIA E SANTIAGO", "ROSALIA E SANTIAGO"),
            ("MEDICAL EXAMINER'S SIGNATURE: NGOZI EZE-THIBODAUX DO        TELEPHONE: 318", "NGOZI EZE-THIBODAUX"),
            ("operative note dictation for harjit singh dhillon d o b eleven", "harjit singh dhillon"),
            ("spoke with brenda at keystone mutual", "brenda"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        // The new cues name no one where no name follows, and `IVF` is no suffix.
        for text in ["Signature: ____________", "signature on file", "note for follow up in two weeks"] {
            assert!(!found(text).iter().any(|(t, _)| *t == EntityType::Person), "{text}: {:?}", found(text));
        }
        assert_eq!(found("Dr. Smith IVF clinic"), [(EntityType::Person, "Smith".to_owned())]);
        // A state's code between an identifier's label and its number is no ZIP code's.
        let text = "NAME OF HEALTH CARE PROFESSIONAL: CHARLOTTE OYENUGA, MD     LICENSE SC 41772";
        assert!(has(text, EntityType::LicenseNumber, "41772"), "{:?}", found(text));
    }

    #[test]
    fn blood_unit_numbers_visit_numbers_and_more_identifier_labels() {
        for (text, ty, value) in [
            ("PRBC (DIN W0364 25 771902 N, W0364 25 771911 K). TXA", EntityType::OtherId, "W0364 25 771902 N"),
            ("transfused 1 unit PRBC (DIN W0411 24 008812) with", EntityType::OtherId, "W0411 24 008812"),
            ("Exam date: 01/22/2025       Visit #: WW-250122-0087", EntityType::AccountNumber, "WW-250122-0087"),
            ("Your patient nos.: DVH-2240917; encounters 880041123 and 880047790", EntityType::Mrn, "DVH-2240917"),
            (
                "Your patient nos.: DVH-2240917; encounters 880041123 and 880047790",
                EntityType::AccountNumber,
                "880047790",
            ),
            ("Cycle ID: FET-2025-0882        Physician", EntityType::AccountNumber, "FET-2025-0882"),
            ("Copies: Police Department (report BPD-2025-007731); next", EntityType::OtherId, "BPD-2025-007731"),
            ("USCIS receipt: IOE0918273645", EntityType::AccountNumber, "IOE0918273645"),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
        for text in ["reprocessed in AER S/N cycle 4412.", "report 2 episodes", "Visit: 03/04/2025"] {
            assert!(!found(text).iter().any(|(t, _)| *t == EntityType::AccountNumber), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_unit_word_that_labels_the_next_field_does_not_cancel_a_phone_number() {
        let text = "P: 503.555.0177  F: 503.555.0178";
        assert!(has(text, EntityType::Phone, "503.555.0177"), "{:?}", found(text));
    }

    #[test]
    fn numbers_after_a_unit_model_lot_or_tooth_sign_years_and_ranges_are_no_identifiers() {
        for text in [
            "Apt # 4412",
            "Model #: 2400-XL",
            "Lot #: K7O112",
            "Tooth #14 and #15 extracted",
            "Glucose 105 (ref 70-99) mg/dL",
            "in case 2019 was a bad year",
            "REF 1000-2000",
            "since the incident 1999",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_label_that_is_also_a_surname_neither_cuts_the_name_nor_labels_prose() {
        let text = "Attending: Dr. Bartholomew Fein\n\nFEIN: 12-3456789";
        assert!(has(text, EntityType::Person, "Bartholomew Fein"), "{:?}", found(text));
        assert!(has(text, EntityType::OtherId, "12-3456789"), "{:?}", found(text));
        assert!(has("Seen today with Mary Case, her aunt.", EntityType::Person, "Mary Case"));
    }

    #[test]
    fn a_credential_after_a_comma_ends_a_form_s_name_field() {
        let text = "Pharmacist: Troy Nakamura, RPh    NCPDP 0512294";
        assert!(has(text, EntityType::Person, "Troy Nakamura"), "{:?}", found(text));
    }

    #[test]
    fn values_listed_after_a_labelled_one_share_its_label() {
        let text = "Leads: SN PJN7712893, PJN7712901.";
        assert!(has(text, EntityType::DeviceId, "PJN7712901"), "{:?}", found(text));
        let text = "HEARING AIDS: BILATERAL (SERIALS 1904B22817 / 1904B22819)";
        assert!(has(text, EntityType::DeviceId, "1904B22819"), "{:?}", found(text));
        let text = "MRN 12345678, 23456789 and 34567890";
        assert!(has(text, EntityType::Mrn, "34567890"), "{:?}", found(text));
        assert!(found("BP 120/80, 118/76; LOINC 2345-7, 2160-0").is_empty());
    }

    #[test]
    fn a_month_named_alone_after_a_word_of_time_is_a_date() {
        for (text, value) in [
            ("lithium was increased in october sleep is fine", "october"),
            ("her CT from August showed a UIP pattern", "August"),
            ("Symptoms since early March.", "March"),
            ("She may come back in May.", "May"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        assert!(has("Mid-December she fell at home", EntityType::Date, "December"));
        assert!(found("a mid-level provider saw her").is_empty());
        let text = "a message from June Carter today";
        assert!(has(text, EntityType::Person, "June Carter"), "{:?}", found(text));
        assert!(found("She may call; March to the lab.").is_empty());
    }

    #[test]
    fn a_month_and_day_after_an_event_word_but_not_fractions_grades_or_scores() {
        for (text, value) in [
            ("Fluconazole (started 9/19 by urgent care)", "9/19"),
            ("bed available 8/13", "8/13"),
            ("UDS 11/25: +", "11/25"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        for text in ["given 1/2 tab", "2/6 murmur at the apex", "pain rated 8/10", "reduced by 1/3"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_day_of_the_month_after_a_weekday_or_before_a_verb() {
        for (text, value) in [
            ("she was at baseline until tuesday the eighth when she became sleepy", "eighth"),
            ("lithium level on the third was zero point eight", "third"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        assert!(found("moved to the third floor on the unit").is_empty());
    }

    #[test]
    fn insurers_are_no_facilities_but_hospitals_and_doctors_named_plan_stay() {
        for text in [
            "Payer: KEYSTONE MUTUAL HEALTH PLAN   51 HEALTH PLAN ID",
            "Write to Keystone Mutual Health Plan, Appeals Department",
            "Insurance: Alamo Health Choice HMO",
            "c. INSURANCE PLAN NAME: PEACHTREE CHOICE PPO",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
        assert!(has("seen at Keystone Medical Center today", EntityType::Facility, "Keystone Medical Center"));
        assert!(has("Dr. John Plan saw her", EntityType::Person, "John Plan"));
        let text = "her ob doctor doctor ramaswamy plan continue lithium";
        assert!(has(text, EntityType::Person, "ramaswamy"), "{:?}", found(text));
    }

    #[test]
    fn dictated_measures_and_decimal_points_are_not_streets() {
        for text in [
            "e k g shows one millimeter st depressions in v four",
            "admitted to c c u bed twelve diagnosis non st elevation myocardial infarction",
            "three additional five millimeter ports were placed",
            "urine sodium less than ten fena point four percent",
        ] {
            assert!(found(text).iter().all(|(t, _)| *t != EntityType::Address), "{text}: {:?}", found(text));
        }
        assert!(has("lives at 12 Harbor Point, Salem", EntityType::Address, "12 Harbor Point"));
    }

    #[test]
    fn an_id_field_of_its_own_labels_its_value_but_a_column_of_spaces_parts_a_word_from_its_number_sign() {
        let text = "Subscriber: Kenji Tanaka   ID: DLT400918224   Employer: Intel";
        assert!(found(text).iter().any(|(_, v)| v == "DLT400918224"), "{:?}", found(text));
        assert!(found("WILLOW BROOK CARE CTR          #0447").iter().all(|(_, v)| v != "0447"));
    }

    #[test]
    fn identifiers_with_several_letter_groups_an_unlabelled_npi_and_encounter_numbers() {
        for (text, value) in [
            ("core biopsy on 4/3 (accession PIC-BX-240403-17) showed", "PIC-BX-240403-17"),
            ("via provider portal, reference HUM-SNF-5530217. Reviewer", "HUM-SNF-5530217"),
            ("on probation, San Juan County case D-1116-CR-2022-00419; officer", "D-1116-CR-2022-00419"),
            ("MRN E100448217    Enc H0008841726    Admit 2025-02-11", "H0008841726"),
            ("99213  A,B      1450 00       1     1361634383", "1361634383"),
        ] {
            assert!(found(text).iter().any(|(_, v)| v == value), "{text}: {:?}", found(text));
        }
        // Ten digits whose check digit is not an NPI's.
        assert!(found("99213  A,B      1450 00       1     1361634384").is_empty());
    }

    #[test]
    fn a_branch_town_after_a_dash_and_a_letterhead_above_an_address_are_facilities() {
        for (text, value) in [
            ("Riverbend Dialysis - East Memphis      CCN 44-2591", "Riverbend Dialysis - East Memphis"),
            (
                "AVF created at Baptist Memorial Hospital - Collierville), good thrill",
                "Baptist Memorial Hospital - Collierville",
            ),
            ("Three Rivers Endoscopy Center\n5100 Baum Blvd, Ste 300", "Three Rivers Endoscopy Center"),
            ("Piedmont Neurology Consultants\n200 Medical Park Dr", "Piedmont Neurology Consultants"),
        ] {
            assert!(has(text, EntityType::Facility, value), "{text}: {:?}", found(text));
        }
        // A department after the dash is not the place's name; a recipient above an address is a person.
        let text = "Mercy Regional Medical Center - Emergency Department\nArrival: 11/22/2023";
        assert!(has(text, EntityType::Facility, "Mercy Regional Medical Center"), "{:?}", found(text));
        let text = "Ms. Adaeze Okonkwo\n12 Elm St\nSalem, OR";
        assert!(has(text, EntityType::Person, "Adaeze Okonkwo"), "{:?}", found(text));
    }

    #[test]
    fn spelled_labels_and_dates_dictated_without_leading_zeros() {
        for (text, ty, value) in [
            (
                "pt seen today m r n five five two zero one eight eight study date",
                EntityType::Mrn,
                "five five two zero one eight eight",
            ),
            (
                "for harjit singh dhillon d o b eleven fourteen fifty six m r n",
                EntityType::Date,
                "eleven fourteen fifty six",
            ),
            ("his date of birth is seven seven sixty one blood pressure", EntityType::Date, "seven seven sixty one"),
            ("date of birth three nine eighty six with her beta", EntityType::Date, "three nine eighty six"),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
        // Sixteen bytes back from the number may fall inside a character.
        assert!(has("éééééééé dob 7761", EntityType::Date, "7761"));
        // Four digits after `on` are a time when dictated, and a typed `on 1230` is not dictation.
        for text in ["seen on twelve thirty today", "Seen on 1230 today"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_dictated_identifier_spelled_letter_by_letter_among_its_digits_is_one_value() {
        for (text, ty, value) in [
            (
                "medical record number s o s two two one zero nine three seven date of service",
                EntityType::Mrn,
                "s o s two two one zero nine three seven",
            ),
            (
                "his medicare id is two w k nine t r five m h six one for the order",
                EntityType::HealthPlanId,
                "two w k nine t r five m h six one",
            ),
            (
                "accession number s twenty five dash zero four four one two received in formalin",
                EntityType::AccountNumber,
                "s twenty five dash zero four four one two",
            ),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
        // Without a label, spelled letters and numbers are no identifier.
        assert!(found("v four through v six and a one two three four").is_empty());
    }

    #[test]
    fn a_dictated_spelling_after_that_s_or_name_and_initials_that_sign_a_record_are_persons() {
        for (text, value) in [
            ("follow up note on frank adeyemi that's a d e y e m i medical record number", "a d e y e m i"),
            ("patient name marcus bell last name b e l l date of birth", "b e l l"),
            ("K. Asante-Boateng, MD   02/03/2024 14:10\ntr: tlm", "tlm"),
            ("Signed 03/11/2025 15:31\nTech: JRM", "JRM"),
            ("Received 04/02/2024   Logged by kd   ROI # ROI-24-0402-0018", "kd"),
            ("weekly visits from Fr. Landry of the parish", "Landry"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        for text in ["admitted to c c u bed twelve", "confirmed by CT", "seen by ED", "Reviewed by: MD"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_month_and_day_before_a_time_or_in_a_range_and_a_month_and_year_are_dates() {
        for (text, value) in [
            ("Trauma clinic f/u 7/11 9:00 AM.", "7/11"),
            ("at Bluegrass Baptist Hospital 1/29-2/6 for aspiration", "2/6"),
            ("implanted 06/2019 at Riverside", "06/2019"),
            ("Adalimumab 40 mg SC q2 weeks, 9/2022 - 3/2024: initial response", "3/2024"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        for text in ["epinephrine 1/2000 dilution", "take 1/2-3/4 tab", "lot ME7044, exp 11/2025."] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
        // The range's first part is read back to the character before it, which may be more than one byte.
        assert_eq!(found("Renée-1/29-2/6 here"), found("Renee-1/29-2/6 here"));
    }

    #[test]
    fn churches_mortuaries_courts_therapy_practices_and_centers_named_for_their_work_are_facilities() {
        for (text, value) in [
            ("outpatient PT at Pinnacle Physical Therapy starting 5/8", "Pinnacle Physical Therapy"),
            ("delivered 2/8 at Evergreen Birth Center", "Evergreen Birth Center"),
            ("Referral faxed to Four Winds Recovery Center (medical detox)", "Four Winds Recovery Center"),
            ("faith community at Greater Abundant Life Church.", "Greater Abundant Life Church"),
            ("Hon. Marisa Delgado-Whitman, King County Superior Court", "King County Superior Court"),
            ("Funeral home pre-arranged: Meldrum Mortuary.", "Meldrum Mortuary"),
            ("Attends PTSD group at the Marina Vet Center.", "Marina Vet Center"),
            ("admitted from Baptist Hospital with dyspnea", "Baptist Hospital"),
        ] {
            assert!(has(text, EntityType::Facility, value), "{text}: {:?}", found(text));
        }
        for text in ["Occupational therapy and Speech Therapy consulted", "She attends church on Sundays"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn employers_after_a_job_or_an_article_and_streets_named_without_a_number() {
        for (text, ty, value) in [
            (
                "Works as a line cook at Bluebird Hot Chicken on Charlotte Ave.",
                EntityType::Facility,
                "Bluebird Hot Chicken",
            ),
            ("Works as a line cook at Bluebird Hot Chicken on Charlotte Ave.", EntityType::Address, "Charlotte Ave."),
            (
                "a crane operator for Gulf Island Fabrication; will need",
                EntityType::Facility,
                "Gulf Island Fabrication",
            ),
            (
                "Lives north of town off Bridger Creek Rd; fills at the drug store",
                EntityType::Address,
                "Bridger Creek Rd",
            ),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
        for text in ["She works at the front desk", "he is a nurse at night", "Attorney for Plaintiff"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_street_line_keeps_its_second_street_type_and_unit_after_a_comma_and_a_county_is_a_city() {
        for (text, ty, value) in [
            (
                "Associates\n3340 Mission Bend Dr, Suite 210\nSacramento, CA 95864",
                EntityType::Address,
                "3340 Mission Bend Dr, Suite 210",
            ),
            ("Heart Center, 45 W 10th St, 4th floor\n - Lab", EntityType::Address, "45 W 10th St, 4th floor"),
            ("home, 4410 Lakeview Terrace Dr, Madison, WI 53704", EntityType::Address, "4410 Lakeview Terrace Dr"),
            ("taught 41 years in Harlan County) admitted", EntityType::City, "Harlan County"),
            ("on probation, San Juan County case no. 4471", EntityType::City, "San Juan County"),
            ("Resident of Lafayette Parish.", EntityType::City, "Lafayette Parish"),
            ("seen at Lake County Hospital", EntityType::Facility, "Lake County Hospital"),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
        let text = "seen at 12 Mission Bend Dr Smith's office";
        assert!(has(text, EntityType::Person, "Smith"), "{:?}", found(text));
        assert!(found("the county nurse called").is_empty());
    }

    #[test]
    fn people_named_by_their_role_in_the_care_without_their_credentials() {
        for (text, value) in [
            ("Falls reviewed with home aide Marisol.", "Marisol"),
            ("Phos 6.9 - dietitian Carla reviewed binders", "Carla"),
            ("RN: Genevieve Okafor, RN   PCT: DeShawn", "DeShawn"),
            ("Sonographer: Hailey, RDMS", "Hailey"),
            ("ok this is raj with a history and physical", "raj"),
            ("Recipient: Feng Liu   MRN UC-33918204", "Feng Liu"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        for text in ["this is a 45 year old man", "this is likely viral", "the donor kidney was well perfused"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn the_town_after_a_street_address_is_a_city() {
        assert!(has("19 River Rd, Unit 2, Salem", EntityType::City, "Salem"));
        assert!(has("12 Main St, Apt 4, Springfield", EntityType::City, "Springfield"));
    }

    #[test]
    fn dictated_lab_values_are_decimals_not_addresses() {
        for text in [
            "sodium one thirty five potassium four point one chloride one hundred",
            "magnesium one point nine phosphorus three point two",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn dictation_introduces_names_without_colons_or_capitals() {
        for (text, value) in [
            ("patient is john smith he is here for his annual physical", "john smith"),
            ("i saw john smith today in clinic for knee pain", "john smith"),
            ("next patient is tom nguyen here for a diabetes check", "tom nguyen"),
            ("seen with mister garcia today", "garcia"),
            ("seen by physician assistant mark lee", "mark lee"),
            ("by nurse practitioner jennifer adams", "jennifer adams"),
            ("uh the patient um frank o'malley was admitted", "frank o'malley"),
            ("mrs o'connor found him", "o'connor"),
            ("mrs van der berg found him", "van der berg"),
            ("patient ngozi brawn date of birth", "ngozi brawn"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        for text in ["patient is doing well", "patient is alert and oriented", "patient is a pleasant man"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_name_before_a_clinicians_credential_is_a_person() {
        for (text, value) in [
            ("Ordering: Frantz Jean-Baptiste, MD", "Frantz Jean-Baptiste"),
            ("Meera Krishnamurthy, DO", "Meera Krishnamurthy"),
            ("Ravi Shankar, RN OCN", "Ravi Shankar"),
            ("Olumide Bakare, PharmD", "Olumide Bakare"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        assert!(found("Internal Medicine, MD office").is_empty());
    }

    #[test]
    fn acronyms_roles_units_and_model_years_are_not_identifiers_or_names() {
        for text in [
            "Dating by LMP consistent.",
            "Her son, 74, is HCP.",
            "Nurse Manager, 4 West",
            "OBX|1|NM|GLU^Glucose||88|mg/dL|70-99|N",
            "Pt's vehicle (2019 Freightliner) was parked outside.",
            "metformin 500 BID. PHQ-2 neg. Pt",
            "Hi Sanjay,\nQuick question about the labs.",
            "G3P2002 at 39w2d by LMP, c/w 8 wk US.",
        ] {
            let names: Vec<_> =
                found(text).into_iter().filter(|(t, v)| *t != EntityType::Person || v != "Sanjay").collect();
            assert!(names.is_empty(), "{text}: {names:?}");
        }
        // Upper-case surnames in a comma form are still names, and a name stops at its line's end.
        assert!(has("Break-glass reason entered by EZE, CONSUELO: employee", EntityType::Person, "EZE, CONSUELO"));
        assert!(has("Dr Fiona MacLeod\nWoodside Clinic", EntityType::Person, "Fiona MacLeod"));
        assert!(has("wife Qiana C.\nLaxson, in town", EntityType::Person, "Qiana C.\nLaxson"));
        assert!(has("Nurse Manager Jane Roe", EntityType::Person, "Jane Roe"));
        // Credentials after a name are neither a name nor the start of a facility.
        let text = "Rebecca Liu, MSN, RN, CCRN\nNurse Manager, 4 West";
        assert_eq!(found(text), vec![(EntityType::Person, "Rebecca Liu".to_owned())]);
        assert!(found("Ingrid Solberg, MD, FACC\nMercy Hospital").iter().all(|(_, v)| !v.contains("FACC")));
    }

    #[test]
    fn hl7_fields_and_table_columns_win_over_word_readings_of_the_same_text() {
        let text = "PID|1||00734521^^^MRN^MR||ABERNATHY^LUCINDA^MAE||19520611|F|||1187 Valencia St^Apt 5^San Francisco^CA^94110";
        assert!(has(text, EntityType::City, "San Francisco"), "{:?}", found(text));
        assert!(has(text, EntityType::Person, "ABERNATHY^LUCINDA^MAE"), "{:?}", found(text));
        assert!(!found(text).iter().any(|(_, v)| v == "CA" || v == "F"), "{:?}", found(text));
        let csv = "patient_id,last_name,first_name,dob\n884103,Oyelowo,Chukwuemeka,1968-11-05\n";
        for (ty, value) in [
            (EntityType::Mrn, "884103"),
            (EntityType::Person, "Oyelowo"),
            (EntityType::Person, "Chukwuemeka"),
            (EntityType::Date, "1968-11-05"),
        ] {
            assert!(has(csv, ty, value), "{:?}", found(csv));
        }
    }

    #[test]
    fn ages_over_89_after_a_person_is_or_before_yo() {
        for (text, value) in [
            ("Pt: Eleanor Whitcombe (92 yo) with CHF.", "92"),
            ("Mrs. Abramowitz is 96 and her son visits.", "96"),
            ("My father (he's 93) fell again.", "93"),
            ("My mom (she is 91) is confused.", "91"),
            ("Pt is 95.", "95"),
            ("she is now 92", "92"),
        ] {
            assert!(has(text, EntityType::AgeOver89, value), "{text}: {:?}", found(text));
        }
        for text in ["HR is 95", "Glucose is 95 mg/dL", "He is 100% compliant", "Pt is 98.6 F", "she is 91/60"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn ages_over_89_in_lists_after_a_bracketed_remark_with_a_short_year_sign_or_spelled_out() {
        for (text, value) in [
            ("Abernathy-Cole, Lorraine   DOB: Feb 9, 1933   (91 y)   MRN: PHI-0771928", "91"),
            ("Dan - Mrs. Abramowitz (MRN 3390217) is 96 and her son Harold wants", "96"),
            ("Chaturvedi (retired cardiologist himself), 90 yrs, from Varanasi", "90"),
            ("1. Mr. Otis Redding-Hale, 92, CHF - seen today.", "92"),
            ("4. Mr. Sol Weinberg, aged ninety-four, dementia.", "ninety-four"),
            ("Pt: Ninety-one years old, lives alone.", "Ninety-one"),
            ("She is ninety and sharp.", "ninety"),
        ] {
            assert!(has(text, EntityType::AgeOver89, value), "{text}: {:?}", found(text));
        }
        for text in ["Mr. Kim, 95 mg daily", "walked 95 yards", "The BP is ninety over sixty", "Ninety minutes later"] {
            assert!(!found(text).iter().any(|(t, _)| *t == EntityType::AgeOver89), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn month_and_day_after_a_weekday_discharge_or_in_form_boxes_are_dates() {
        for (text, value) in [
            ("TEE scheduled Wed 1/17 with cardiology.", "1/17"),
            ("Likely d/c 11/23 to home.", "11/23"),
            ("Home Medications (verified 1/8):", "1/8"),
            ("3. PATIENT'S BIRTH DATE: 04 19 1944", "04 19 1944"),
            ("24A. DOS 10 02 23", "10 02 23"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        for text in ["take 1/2 tab", "BIRTH DATE: 14 19 1944", "PAIN 04 19 1944"] {
            assert!(found(text).iter().all(|(t, _)| *t != EntityType::Date), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn scanned_text_reads_ocr_misreadings_inside_numbers_and_typed_text_does_not() {
        let analyzer = Analyzer::new().expect("analyzer");
        let scanned = AnalyzeOptions::default().with_scanned(true);
        for (text, ty, value) in [
            ("DOB: 03/l4/1962", EntityType::Date, "03/l4/1962"),
            ("SSN: l23-45-6789", EntityType::Ssn, "l23-45-6789"),
            ("Phone: (503) 555-0l22", EntityType::Phone, "(503) 555-0l22"),
        ] {
            let found = analyzer.analyze(text, &scanned);
            let chars: Vec<char> = text.chars().collect();
            let values: Vec<(EntityType, String)> =
                found.iter().map(|e| (e.entity_type, chars[e.start..e.end].iter().collect())).collect();
            assert!(values.contains(&(ty, value.to_owned())), "{text}: {values:?}");
            assert!(analyzer.analyze(text, &AnalyzeOptions::default()).iter().all(|e| e.entity_type != ty));
        }
    }

    #[test]
    fn words_hyphenated_across_lines_are_read_whole() {
        for (text, ty, value) in [
            ("Patient: Margaret Thomp-\nson, DOB 03/14/1952", EntityType::Person, "Margaret Thomp-\nson"),
            ("Lives with her daughter in Ann Ar-\nbor.", EntityType::City, "Ann Ar-\nbor"),
            ("Seen at Provi-\ndence Hospital on 5/6/2023.", EntityType::Facility, "Provi-\ndence Hospital"),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn dates_in_digits_alone_after_a_date_label_spoken_or_typed() {
        for (text, value) in [
            ("date of birth oh three fourteen sixty two", "oh three fourteen sixty two"),
            ("she was last seen on ten twelve twenty two", "ten twelve twenty two"),
            ("DOB: 031462", "031462"),
            ("DOB: 03141962", "03141962"),
            ("DOB: 19620314", "19620314"),
        ] {
            assert!(has(text, EntityType::Date, value), "{text}: {:?}", found(text));
        }
        for text in ["on 123456", "dose on 101010 units", "DOB: 13141962"] {
            assert!(found(text).iter().all(|(t, _)| *t != EntityType::Date), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn names_with_accents_capitalised_particles_uneven_spacing_and_relatives() {
        for (text, value) in [
            ("María del Carmen Rodríguez was seen", "María del Carmen Rodríguez"),
            ("Patient: José Muñoz", "José Muñoz"),
            ("Seen by Dr. Luis De La Cruz today", "Luis De La Cruz"),
            ("Patient:  Robert   Fisher     DOB:  12/05/1960", "Robert   Fisher"),
            ("PATIENT NAME:  FISHER,   ROBERT   DOB:  12/05/1960", "FISHER,   ROBERT"),
            ("Ex-wife Katrin has custody", "Katrin"),
            ("this is Obinna's mom", "Obinna"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        // Uneven spacing never takes a label into the name.
        assert!(has("Patient:  Robert     DOB: 1/2/1960", EntityType::Person, "Robert"));
        let text = "family history mother had alzheimer's father had hodgkin lymphoma";
        assert!(found(text).is_empty(), "{:?}", found(text));
    }

    #[test]
    fn canadian_and_uk_postcodes_after_a_town_are_zip_codes() {
        for (text, value) in [
            ("1345 Govan Road, Glasgow G51 4TF", "G51 4TF"),
            ("14 Brecknock Road, London N7 0DD", "N7 0DD"),
            ("399 Bathurst St, Toronto ON M5T 2S8", "M5T 2S8"),
            ("Postcode: EH1 1YZ", "EH1 1YZ"),
        ] {
            assert!(has(text, EntityType::Zip, value), "{text}: {:?}", found(text));
        }
        assert!(found("Take B12 2HA daily").is_empty(), "{:?}", found("Take B12 2HA daily"));
    }

    #[test]
    fn towns_beside_a_site_word_a_facility_or_another_town_and_facilities_named_by_a_state() {
        for (text, ty, value) in [
            ("at our Westminster clinic.", EntityType::City, "Westminster"),
            ("see you at the Fremont office", EntityType::City, "Fremont"),
            ("provider at Banner Health, Phoenix. Verbal consent", EntityType::City, "Phoenix"),
            ("Lives in Brighton Beach, Brooklyn. Works as a driver.", EntityType::City, "Brooklyn"),
            ("Provider: Children's Hospital Colorado", EntityType::Facility, "Children's Hospital Colorado"),
            ("Dr Fiona MacLeod\nWoodside Health Centre\nBarr Street", EntityType::Facility, "Woodside Health Centre"),
            (
                "seen at st. vincent's\nregional medical center for",
                EntityType::Facility,
                "st. vincent's\nregional medical center",
            ),
        ] {
            assert!(has(text, ty, value), "{text}: {:?}", found(text));
        }
        assert!(has("by Dr. Janson\nof cardiology. BP 143/62", EntityType::Person, "Janson"));
        assert_eq!(found("by Dr. Janson\nof cardiology. BP 143/62").len(), 1);
    }

    #[test]
    fn greetings_sign_offs_plural_titles_nicknames_and_spelled_names_are_names() {
        for (text, value) in [
            ("Hi Sanjay,\nQuick curbside - pt of mine", "Sanjay"),
            ("Can you do 9am?\nThx,\nBecca\n\nRebecca Liu, MSN", "Becca"),
            ("Seen with Drs. Okafor and Lindgren on rounds.", "Okafor"),
            ("Requested by: Dr. Elizabeth \"Liz\" Carmichael (Hospitalist)", "Elizabeth \"Liz\" Carmichael"),
            (
                "Hospice admission: Mr. Theodore \u{201c}Teddy\u{201d} Vanderslice, age 101",
                "Theodore \u{201c}Teddy\u{201d} Vanderslice",
            ),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        for (text, value) in [
            ("patient name is rosa maria delgado d e l g a d o", "rosa maria delgado d e l g a d o"),
            ("okay next patient is uh tom nguyen n g u y e n born four", "tom nguyen n g u y e n"),
        ] {
            assert!(has(text, EntityType::Person, value), "{text}: {:?}", found(text));
        }
        for text in ["hey how are you doing", "Hello all, the meeting is moved.", "Hi team, reminder."] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn acronyms_credentials_roles_ancestry_vehicles_and_devices_are_not_names() {
        for text in [
            "SpO2 94% 2L NC while asleep, weaned to RA at 0600.",
            "OCT: OD - PED with SRF, CST 412 microns.",
            "Connection log: patient IP 198.51.100.77, 720p",
            "HR 98 irregular, RR 20, SpO2 93% RA, BGL 92, GCS 14",
            "Marisol Gutierrez-Tapia, RN, CCM   Care Manager",
            "Tyler Bouchard, PT, DPT",
            "To: Riverbend Pediatrics - Nurse Line",
            "Caller: Mohammed Al-Sayed (self)",
            "his vehicle, a 2017 Hyundai Elantra, TN plate",
            "FHR 142 by Doppler. No edema.",
            "Progressing well per Wilk protocol.",
            "immunizations required by MS Code 41-23-37 for attendance",
        ] {
            let people: Vec<String> = found(text)
                .into_iter()
                .filter(|(t, v)| {
                    matches!(t, EntityType::Person | EntityType::City)
                        && !["Marisol Gutierrez-Tapia", "Tyler Bouchard", "Mohammed Al-Sayed"].contains(&v.as_str())
                })
                .map(|(_, v)| v)
                .collect();
            assert!(people.is_empty(), "{text}: {people:?}");
        }
        assert!(has("Patient: JOHN SMITH, seen today", EntityType::Person, "JOHN SMITH"));
        assert!(has("Seen by Dr. KIM today", EntityType::Person, "KIM"));
    }

    #[test]
    fn products_specialties_and_what_a_patient_owns_are_not_names() {
        for text in [
            "MRI on the MAGNETOM Vida 3T scanner.",
            "Seen by Dr. Lee, Interventional Cardiology.",
            "Pt's IP logged in portal.",
            "Patient's PCP notified.",
        ] {
            assert!(
                found(text).iter().all(|(t, v)| *t != EntityType::Person || v == "Lee"),
                "{text}: {:?}",
                found(text)
            );
        }
        assert!(has("Seen by Dr. Lee, Interventional Cardiology.", EntityType::Person, "Lee"));
        assert!(has("Signed: Dr. Lee, Jennifer", EntityType::Person, "Lee, Jennifer"));
    }

    #[test]
    fn dictated_sentences_and_department_names_are_not_facilities() {
        for text in [
            "ambulates with a walker past medical history includes alzheimers",
            "we will recheck labs in six months",
            "fever free school note provided",
            "we discussed dialysis planning and he would like to be evaluated for peritoneal dialysis",
            "I consent to routine medical care for the child",
            "Follow-up within 7 days in the Heart Failure Clinic.",
            "OPHTHALMOLOGY CLINIC NOTE",
            "Ignatius Vallejo, MD, Maternal-Fetal Medicine",
        ] {
            assert!(found(text).iter().all(|(t, _)| *t != EntityType::Facility), "{text}: {:?}", found(text));
        }
        for (text, value) in [
            ("admitted to good samaritan hospital from home", "good samaritan hospital"),
            ("follow up at ellsworth dialysis next week", "ellsworth dialysis"),
            ("seen at stanford memory clinic", "stanford memory clinic"),
            ("NEW PATIENT INTAKE FORM - BLUE RIDGE PRIMARY CARE", "BLUE RIDGE PRIMARY CARE"),
            ("ALLERGY CONSULT\nAllergy Partners of the Triangle      Visit", "Allergy Partners of the Triangle"),
        ] {
            assert!(has(text, EntityType::Facility, value), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn employers_pharmacies_and_schools_after_a_cue_are_facilities() {
        for (text, value) in [
            ("employed at Deloitte as an accountant", "Deloitte"),
            ("Pt states he works at Amazon warehouse in Fontana.", "Amazon"),
            ("Last filled at Walgreens on Elm St per pt.", "Walgreens"),
            ("Pharmacy: CVS #04821, 1200 Bolsa Ave", "CVS #04821"),
            ("EMPLOYER: ACME WIDGETS INC   EMPLOYER PHONE: 312 555 0100", "ACME WIDGETS INC"),
            ("PHARMACY: WALGREENS #4821 1500 W LAKE ST CHICAGO", "WALGREENS #4821"),
            (
                "patient works at walmart distribution center in reno as a forklift driver",
                "walmart distribution center",
            ),
            (
                "requested by attorney Michelle Thibodeaux, Thibodeaux & Landry LLC, 400 Poydras St",
                "Thibodeaux & Landry LLC",
            ),
        ] {
            assert!(has(text, EntityType::Facility, value), "{text}: {:?}", found(text));
        }
        assert!(has("PHARMACY: WALGREENS #4821 1500 W LAKE ST", EntityType::Address, "1500 W LAKE ST"));
        for text in [
            "Employer: Retired",
            "EMPLOYER: SELF-EMPLOYED",
            "works at home three days a week",
            "He works at night as a guard.",
            "Seen by Dr. Ingrid Solberg, MD, FACC\nInterventional Cardiology",
        ] {
            assert!(found(text).iter().all(|(t, _)| *t != EntityType::Facility), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn eponyms_are_not_people_or_places() {
        for text in [
            "hx of Parkinson disease and Cushing syndrome",
            "Pt with Parkinson's disease and Cushing's syndrome.",
            "Bell's palsy excluded.",
            "Ortolani and Barlow negative.",
            "Babinski and Hoffmann signs absent.",
            "Hashimoto thyroiditis and Addison disease.",
            "Bovie, Yankauer suction and Richardson retractors.",
            "Transfer with Hoyer lift.",
            "Tender at Palmer's point.",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
        // A title still makes a person, and a two-word name is not read as one half of `X and Y signs`.
        assert!(has("Dr. Whipple test results reviewed.", EntityType::Person, "Whipple"));
        assert!(has("Met Sarah Jones and Mark Test today.", EntityType::Person, "Sarah Jones"));
    }

    #[test]
    fn a_common_word_after_a_cue_in_caseless_text_is_not_a_name_but_a_first_name_is() {
        for text in ["patient works nights at the cannery", "father living mother deceased", "NAME: SEE ABOVE"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
        assert!(has("her son jasmine can be reached", EntityType::Person, "jasmine"));
        assert!(has("GUARANTOR: T. BONIER", EntityType::Person, "T. BONIER"));
    }

    #[test]
    fn masked_ssn_and_its_labelled_last_four_digits_are_ssn() {
        for (text, value) in [
            ("SSN: xxx-xx-6789", "xxx-xx-6789"),
            ("SSN ***-**-6789 on file", "***-**-6789"),
            ("last four of SSN 6789", "6789"),
        ] {
            assert!(has(text, EntityType::Ssn, value), "{text}: {:?}", found(text));
        }
        assert!(found("MRN 4471 and lot 6789 and 1234 N. Main").iter().all(|(t, _)| *t != EntityType::Ssn));
    }

    #[test]
    fn an_age_over_89_after_turned_but_not_an_angle() {
        assert!(has("He turned 91 last week.", EntityType::AgeOver89, "91"));
        assert!(found("Patient turned 90 degrees to the left.").is_empty());
    }

    #[test]
    fn mental_status_in_a_patient_field_is_not_a_name() {
        for text in ["PATIENT: ALERT AND ORIENTED.", "Patient: Alert and oriented x3.", "patient: awake"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn a_health_system_and_the_town_after_a_facility_are_one_facility() {
        for (text, value) in [
            ("Seen at Kaiser Permanente San Jose for follow-up.", "Kaiser Permanente San Jose"),
            ("transferred to Mercy Hospital San Diego yesterday", "Mercy Hospital San Diego"),
            ("Admitted to Mercy Hospital New patient orientation given.", "Mercy Hospital"),
        ] {
            assert!(has(text, EntityType::Facility, value), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn labelled_identifiers_take_their_label_type() {
        let text = "MRN: 00456123  Member ID: XJH123456789  Acct #: 000123456789  SSN 123456789";
        assert!(has(text, EntityType::Mrn, "00456123"), "{:?}", found(text));
        assert!(has(text, EntityType::HealthPlanId, "XJH123456789"));
        assert!(has(text, EntityType::AccountNumber, "000123456789"));
        assert!(has(text, EntityType::Ssn, "123456789"));
        assert!(has("Visit ID: V000123456", EntityType::AccountNumber, "V000123456"));
        // A label after a name is not part of it (`Chen, DEA` is not a comma-form name).
        let text = "Rx written by Dr. Chen, DEA BC1234563.";
        assert!(
            has(text, EntityType::Person, "Chen") && has(text, EntityType::LicenseNumber, "BC1234563"),
            "{:?}",
            found(text)
        );
    }

    #[test]
    fn vitals_doses_labs_codes_and_rooms_are_not_phi() {
        let text = "BP 128/82, HR 72, Hgb 13.5 g/dL, metformin 500 mg, ICD-10 E11.9, CPT 99213, room 412, lot 4471A, in 2019 at 10:30, a 45-year-old from Texas";
        assert_eq!(found(text), vec![], "{:?}", found(text));
    }

    #[test]
    fn dates_in_many_formats() {
        for d in ["03/14/1962", "March 14, 1962", "14-MAR-2023", "Jan. 5", "2023-03-14", "14 March 1962", "SEPT 3, '62"]
        {
            let text = format!("Seen on {d} for follow up.");
            assert!(has(&text, EntityType::Date, d), "{d}: {:?}", found(&text));
        }
    }

    #[test]
    fn ages_over_89_only() {
        assert!(has("A 92-year-old woman", EntityType::AgeOver89, "92"));
        assert!(has("age 95", EntityType::AgeOver89, "95"));
        assert!(found("A 45-year-old man").is_empty());
    }

    #[test]
    fn names_with_titles_cues_and_gazetteer() {
        assert!(has("Seen by Dr. Okafor today.", EntityType::Person, "Okafor"));
        assert!(has("Patient: John Smith", EntityType::Person, "John Smith"));
        assert!(has("NAME: SMITH, JOHN", EntityType::Person, "SMITH, JOHN"));
        assert!(has("patient mary johnson was seen", EntityType::Person, "mary johnson"));
        // First names and surnames that are English words too, with no cue: capitalised mid-sentence or at a start.
        assert!(has("Today John Smith was seen.", EntityType::Person, "John Smith"), "{:?}", found("Today John Smith"));
        assert!(has("John Smith was seen today.", EntityType::Person, "John Smith"));
        assert!(has("Seen at the org. John Smith was seen today.", EntityType::Person, "John Smith"));
        // A preposition ends a name in dictation, and `name is` announces one.
        assert!(has("a man named john smith from dallas", EntityType::Person, "john smith"));
        assert!(has("Her name is Ngozi Okonkwo-Adeyemi.", EntityType::Person, "Ngozi Okonkwo-Adeyemi"));
        // Surname particles belong to the name.
        assert!(has("Patient Maria de la Cruz, 67, presented.", EntityType::Person, "Maria de la Cruz"));
        assert!(has("Mr. Van der Berg was admitted.", EntityType::Person, "Van der Berg"));
        assert!(has("Juan Carlos de la Cruz was seen.", EntityType::Person, "Juan Carlos de la Cruz"));
        // Lower case in a mixed-case line is not a name.
        assert!(!found("We will john smith the report.").iter().any(|(t, _)| *t == EntityType::Person));
    }

    #[test]
    fn cities_with_states_and_states_alone() {
        let text = "Lives in Springfield, IL 62704. Moved from Texas.";
        assert!(has(text, EntityType::City, "Springfield"), "{:?}", found(text));
        assert!(has(text, EntityType::Zip, "62704"));
        assert!(!found(text).iter().any(|(_, v)| v == "Texas"));
        // Idaho's abbreviation after a word is a city's state only with a ZIP code; otherwise it is `ID`.
        assert!(!found("Study ID SUBJ-0042 was randomized.").iter().any(|(t, _)| *t == EntityType::City));
        assert!(has("Moved to Boise, ID 83702.", EntityType::City, "Boise"));
    }

    #[test]
    fn facilities_and_addresses() {
        let text = "Transferred to St. Mary's Hospital from 61759 Drake Orchard Apt 4.";
        assert!(has(text, EntityType::Facility, "St. Mary's Hospital"), "{:?}", found(text));
        for (text, facility) in [
            ("Seen at Massachusetts General Hospital today.", "Massachusetts General Hospital"),
            ("Admitted to Texas Children's Hospital.", "Texas Children's Hospital"),
            ("seen at massachusetts general hospital today", "massachusetts general hospital"),
        ] {
            assert!(has(text, EntityType::Facility, facility), "{text}: {:?}", found(text));
        }
        assert!(!found("she was seen at a texas hospital").iter().any(|(t, _)| *t == EntityType::Facility));
        assert!(has(text, EntityType::Address, "61759 Drake Orchard Apt 4"), "{:?}", found(text));
    }

    #[test]
    fn contact_details() {
        let text = "Call (415) 555-0134, fax 415-555-0199, mail jane@example.org, see https://portal.example.org/p/1 from 172.21.47.165";
        assert!(has(text, EntityType::Phone, "(415) 555-0134"), "{:?}", found(text));
        assert!(has(text, EntityType::Fax, "415-555-0199"));
        assert!(has(text, EntityType::Email, "jane@example.org"));
        assert!(has(text, EntityType::Url, "https://portal.example.org/p/1"));
        assert!(has(text, EntityType::IpAddress, "172.21.47.165"));
    }

    #[test]
    fn validated_numbers_without_labels() {
        let text = "card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, MBI 1EG4-TE5-MK73, VIN 1HGCM82633A004352, DEA AB1234563";
        assert!(has(text, EntityType::CreditCard, "4111 1111 1111 1111"), "{:?}", found(text));
        assert!(has(text, EntityType::Iban, "GB82 WEST 1234 5698 7654 32"));
        assert!(has(text, EntityType::HealthPlanId, "1EG4-TE5-MK73"));
        assert!(has(text, EntityType::VehicleId, "1HGCM82633A004352"));
        assert!(has(text, EntityType::LicenseNumber, "AB1234563"));
    }

    #[test]
    fn a_mac_address_is_a_device_identifier() {
        let text = "Infusion pump MAC 00:1B:44:11:3A:B7 replaced; bridge 001b.4411.3ab7, port 00-1B-44-11-3A-B8.";
        assert!(has(text, EntityType::DeviceId, "00:1B:44:11:3A:B7"), "{:?}", found(text));
        assert!(has(text, EntityType::DeviceId, "001b.4411.3ab7"), "{:?}", found(text));
        assert!(has(text, EntityType::DeviceId, "00-1B-44-11-3A-B8"), "{:?}", found(text));
        // An IPv6 address stays one, and a time of day is not a device.
        assert!(has("from fe80::1ff:fe23:4567:890a", EntityType::IpAddress, "fe80::1ff:fe23:4567:890a"));
        assert!(found("Seen at 10:30:00 today.").is_empty());
    }

    #[test]
    fn a_city_named_like_a_state_before_a_state_abbreviation() {
        let text = "Lives at 1600 Pennsylvania Ave NW, Washington, DC 20500.";
        assert!(has(text, EntityType::Address, "1600 Pennsylvania Ave NW"), "{:?}", found(text));
        assert!(has(text, EntityType::City, "Washington"), "{:?}", found(text));
        assert!(!found(text).iter().any(|(_, v)| v == "NW"), "{:?}", found(text));
        assert!(has("Moved from New York, NY last year.", EntityType::City, "New York"));
        // States alone stay unflagged.
        assert!(found("Moved here from Texas in 1981; grew up in Washington.").is_empty());
    }

    #[test]
    fn facility_names_that_hold_a_place() {
        let text = "Transferred to New York Presbyterian Hospital.";
        assert!(has(text, EntityType::Facility, "New York Presbyterian Hospital"), "{:?}", found(text));
        let text = "Follow up at Florida Hospital Orlando.";
        assert!(has(text, EntityType::Facility, "Florida Hospital Orlando"), "{:?}", found(text));
    }

    #[test]
    fn relatives_named_after_the_cue_or_before_it() {
        assert!(has("Husband is Bob.", EntityType::Person, "Bob"), "{:?}", found("Husband is Bob."));
        let text = "Tom, her son, was at the bedside.";
        assert!(has(text, EntityType::Person, "Tom"), "{:?}", found(text));
        let text = "Ana (the patient's daughter) called.";
        assert!(has(text, EntityType::Person, "Ana"), "{:?}", found(text));
        assert!(found("Mother is deceased. Wife is at bedside.").is_empty());
    }

    #[test]
    fn will_as_a_first_name_and_a_form_s_middle_initial() {
        let text = "Will Okafor called back.";
        assert!(has(text, EntityType::Person, "Will Okafor"), "{:?}", found(text));
        assert!(found("Will continue current regimen.").is_empty());
        let text = "PATIENT: JOHNSON, MARY A\nDOB: 01/02/1950";
        assert!(has(text, EntityType::Person, "JOHNSON, MARY A"), "{:?}", found(text));
    }

    #[test]
    fn a_day_of_the_month_after_on_the() {
        assert!(has("Labs drawn on the 14th.", EntityType::Date, "14th"));
        assert!(has("No fever since the 3rd and eating well.", EntityType::Date, "3rd"));
        assert!(found("Moved to the 3rd floor on the 2nd dose; 1st degree AV block; the 4th time.").is_empty());
        // A non-ASCII letter glued before the cue word (found by the property test) made a slice panic.
        let _ = found("éon the 14th");
    }

    #[test]
    fn a_labelled_phone_number_in_other_groups() {
        assert!(has("Tel.: 020 7946 0958", EntityType::Phone, "020 7946 0958"), "{:?}", found("Tel.: 020 7946 0958"));
        assert!(has("Fax 030 1234 5678 (office)", EntityType::Fax, "030 1234 5678"));
        // Without a label, or too few digits, groups of numbers are not a phone.
        assert!(found("BP 120 80 HR 72, pain 020 7946 0958").is_empty());
        assert!(found("Phone 12 34").is_empty());
    }

    #[test]
    fn schools_and_universities_are_facilities_but_not_in_a_city_field() {
        let text = "He works as a teacher at Lincoln Elementary School.";
        assert!(has(text, EntityType::Facility, "Lincoln Elementary School"), "{:?}", found(text));
        assert!(has("Graduated from Stanford University in 1990.", EntityType::Facility, "Stanford University"));
        assert!(found("School: attends 3rd grade; the university hospital follow-up.").is_empty());
        let text = "CITY: VIRGINIA STATE UNIVERSITY  STATE: MI";
        assert!(!found(text).iter().any(|(t, _)| *t == EntityType::Facility), "{:?}", found(text));
    }

    #[test]
    fn city_names_that_wrap_hold_connectors_or_precede_a_state() {
        let text = "She lives with her partner, in Hampton\nBays. Discharged home to Watkins\nGlen, OR 09695.";
        assert!(has(text, EntityType::City, "Hampton\nBays"), "{:?}", found(text));
        assert!(has(text, EntityType::City, "Watkins\nGlen"), "{:?}", found(text));
        let text = "Lives in Malden On Hudson with her son; CITY: POINT OF ROCKS  STATE: OR";
        assert!(has(text, EntityType::City, "Malden On Hudson"), "{:?}", found(text));
        assert!(has(text, EntityType::City, "POINT OF ROCKS"), "{:?}", found(text));
        assert!(has("She lives in Boston on weekends.", EntityType::City, "Boston"));
        let text = "visited Boston last summer, now lives in Cambridge MA 02139";
        assert!(has(text, EntityType::City, "Boston"), "{:?}", found(text));
        assert!(has(text, EntityType::City, "Cambridge"), "{:?}", found(text));
        let text = "CITY: HAVRE DE GRACE  STATE: WA";
        assert!(has(text, EntityType::City, "HAVRE DE GRACE"), "{:?}", found(text));
    }

    #[test]
    fn facility_names_across_a_line_wrap_with_particles_or_good_samaritan() {
        let text = "Ms. Bochenek was admitted from Nodine Medical\nCenter with shortness of breath.";
        assert!(has(text, EntityType::Facility, "Nodine Medical\nCenter"), "{:?}", found(text));
        let text = "Performing lab: Van der Berg Hospice";
        assert!(has(text, EntityType::Facility, "Van der Berg Hospice"), "{:?}", found(text));
        let text = "BIBA from Good Samaritan Nursing Home c/o chest pain.";
        assert!(has(text, EntityType::Facility, "Good Samaritan Nursing Home"), "{:?}", found(text));
        assert!(found("Discharged from the hospital\nCenter of pain is the left knee.").is_empty());
    }

    #[test]
    fn a_form_s_name_field_is_one_name() {
        for (text, name) in [
            ("NAME: USHA SELF\nADDRESS: 11392 WALNUT ORCHARD", "USHA SELF"),
            ("GUARANTOR: MAC ZAMORA  DL#: L9594415", "MAC ZAMORA"),
            ("GUARANTOR: VAN DER BERG, ALESHA  DL#: S8763744", "VAN DER BERG, ALESHA"),
            ("Ordering provider: Ronny Gerrard, MD", "Ronny Gerrard"),
        ] {
            assert!(has(text, EntityType::Person, name), "{name:?} in {:?}", found(text));
        }
        assert!(found("Patient: Stable Condition\n").is_empty());
        assert!(!has("PATIENT: ALERT AND ORIENTED\n", EntityType::Person, "ALERT AND ORIENTED"));
    }

    #[test]
    fn a_first_name_right_after_a_relative_even_a_clinical_or_stop_word() {
        assert!(has("Pt states wife Iris drove behind ambulance.", EntityType::Person, "Iris"));
        assert!(has("Discharged with daughter May. Follow up.", EntityType::Person, "May"));
        assert!(found("Discharged with daughter home. Wife Has no questions.").is_empty());
    }

    #[test]
    fn a_dictated_name_that_is_the_subject_of_a_clinical_verb() {
        let text = "john smith was born on march third nineteen fifty two";
        assert!(has(text, EntityType::Person, "john smith"), "{:?}", found(text));
        assert!(has("the patient is stable. mark king reports pain", EntityType::Person, "mark king"));
        assert!(found("will brown was not available, may hope is").is_empty());
    }

    #[test]
    fn phones_outside_the_numbering_plan_vins_with_one_digit_and_e_mails_after_a_dotted_local_part() {
        for (text, ty, value) in [
            ("Result called to the RN at 211.631.9464.", EntityType::Phone, "211.631.9464"),
            ("Result called at (811)316-7534 ext. 292.", EntityType::Phone, "(811)316-7534 ext. 292"),
            ("Son's car VIN SDNUCPRGXUGTLA7JA parked in lot B.", EntityType::VehicleId, "SDNUCPRGXUGTLA7JA"),
            (
                "user=ifeoma.nettleton@healthmail.example.org",
                EntityType::Email,
                "ifeoma.nettleton@healthmail.example.org",
            ),
        ] {
            assert!(has(text, ty, value), "{value:?} in {:?}", found(text));
        }
        assert!(found("NDC 0002-7510-01 and lot 123-456-7890").is_empty());
    }

    #[test]
    fn a_month_and_year_after_a_date_cue_and_obstetric_date_labels() {
        assert!(has("Surgery scheduled 12/2023.", EntityType::Date, "12/2023"));
        assert!(has("Moved in 6/1999 from out of state.", EntityType::Date, "6/1999"));
        assert!(has("LMP: 2/14, EDD 9/30", EntityType::Date, "2/14"));
        assert!(has("LMP: 2/14, EDD 9/30", EntityType::Date, "9/30"));
        assert!(found("epinephrine 1/2000 dilution, ratio 1/1990, BP 12/2023, pain 3/10").is_empty());
        assert_eq!(crate::safe_harbor::generalize(EntityType::Date, "12/2023"), "2023");
    }

    #[test]
    fn comma_form_names_across_a_line_wrap_and_stop_word_surnames_in_a_field() {
        for (text, name) in [
            ("Daughter OKAFOR,\nDORRIS at bedside", "OKAFOR,\nDORRIS"),
            ("He lives with his wife Scheuermann,\nDenyse, in Cerro Gordo.", "Scheuermann,\nDenyse"),
            ("Patient: HE, SABRA    MRN: 1380304", "HE, SABRA"),
        ] {
            assert!(has(text, EntityType::Person, name), "{name:?} in {:?}", found(text));
        }
        assert!(!has("PATIENT: ALERT AND ORIENTED\n", EntityType::Person, "ALERT AND ORIENTED"));
    }

    #[test]
    fn a_surname_that_is_also_a_word_after_a_cued_first_name() {
        for (text, name) in [
            ("Thank you for seeing Kenny Lane (DOB February 15th)", "Kenny Lane"),
            ("Attending: Dr. Keena Monday", "Keena Monday"),
            ("Chaplain Dann An visited.", "Dann An"),
        ] {
            assert!(has(text, EntityType::Person, name), "{name:?} in {:?}", found(text));
        }
        assert!(has("Patient John Has no complaints", EntityType::Person, "John"));
    }

    #[test]
    fn numbers_spoken_in_words_are_found_and_map_back_to_the_words() {
        let text = "patient john okafor date of birth march third nineteen fifty two phone four one five five five \
                    five one two three four zip nine four one one oh, a ninety two year old";
        let entities = found(text);
        for (ty, value) in [
            (EntityType::Date, "march third nineteen fifty two"),
            (EntityType::Phone, "four one five five five five one two three four"),
            (EntityType::Zip, "nine four one one oh"),
            (EntityType::AgeOver89, "ninety two"),
        ] {
            assert!(entities.contains(&(ty, value.to_owned())), "{ty:?} {value:?} in {entities:?}");
        }
        assert!(found("take two tablets for the next three days, pain seven out of ten").is_empty());
        let text = "call her at area code four one five five five five one two three four";
        assert!(has(text, EntityType::Phone, "four one five five five five one two three four"), "{:?}", found(text));
        let text = "medical record number four four five five six six seven";
        assert!(has(text, EntityType::Mrn, "four four five five six six seven"), "{:?}", found(text));
    }

    #[test]
    fn a_reused_entity_list_holds_only_the_last_document_s_entities() {
        let analyzer = Analyzer::new().expect("patterns compile");
        let options = AnalyzeOptions::default();
        let with_phi = "Patient Maria Lopez, DOB 03/14/1962, MRN 00456123, phone (415) 555-0134.";
        let accented = "Caf\u{e9} visit: Ren\u{e9}e Dubois, SSN 123-45-6789.";
        let without = "BP 128/82, HR 72, metformin 500 mg PO BID.";
        // Each document alone, on a thread of its own (whose lists start empty).
        let alone =
            |text: &str| std::thread::scope(|s| s.spawn(|| analyzer.analyze(text, &options)).join().expect("analyzed"));
        let mut entities = Vec::new();
        // Each document after another on this thread (whose candidate and word lists are reused too), in both orders.
        for text in [with_phi, without, accented, with_phi, accented, without, without] {
            analyzer.analyze_into(text, &options, &mut entities);
            assert_eq!(entities, alone(text), "{text}");
        }
        assert!(entities.is_empty());
        analyzer.analyze_into(with_phi, &options, &mut entities);
        assert!(entities.len() >= 3, "{entities:?}");
    }

    #[test]
    fn entities_inside_one_spelled_out_number_become_one() {
        let options = AnalyzeOptions::from_config(&crate::options::AnalyzeConfig {
            recognizers: vec![crate::options::RecognizerConfig {
                entity_type: EntityType::OtherId,
                pattern: r"\d\d".into(),
                score: 0.9,
            }],
            ..Default::default()
        })
        .expect("valid options");
        let analyzer = Analyzer::new().expect("patterns compile");
        let text = "code four one five five";
        let entities = analyzer.analyze(text, &options);
        assert_eq!(entities.len(), 1, "{entities:?}");
        assert_eq!((entities[0].start, entities[0].end), (5, text.len()));
    }

    #[test]
    fn unicode_tricks_keep_original_code_point_offsets() {
        let text = "é SSN：１２３-４５-６７８９ and\u{00A0}MRN\u{200B} 445 5678";
        let chars: Vec<char> = text.chars().collect();
        let analyzer = Analyzer::new().expect("patterns compile");
        let entities = analyzer.analyze(text, &AnalyzeOptions::default());
        let ssn = entities.iter().find(|e| e.entity_type == EntityType::Ssn).expect("ssn found");
        assert_eq!(chars[ssn.start..ssn.end].iter().collect::<String>(), "１２３-４５-６７８９");
    }
}

#[cfg(test)]
mod word_before_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_short_word_before_a_value_hashes_as_any_word(
            text in "[a-zA-Z' é-]{0,12}[a-zA-Z]{1,12}[ :,0-9]{0,9}",
            letters_only in any::<bool>(),
        ) {
            // Every word in the text (a run of letters, taken as all letters or not), at every distance from its end.
            let b = text.as_bytes();
            let mut a = 0;
            while a < b.len() {
                let z = a + b[a..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
                if z > a {
                    let letters = letters_only || b[a..z].iter().all(u8::is_ascii_lowercase);
                    prop_assert_eq!(
                        read_short_word_hash(&text, a..z, letters),
                        read_word_hash(&text, a..z, letters),
                        "{:?}",
                        &text[a..z]
                    );
                }
                a = z + 1;
                while a < b.len() && !text.is_char_boundary(a) {
                    a += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod block_tests {
    use super::*;

    #[test]
    fn structured_spans_block_the_words_they_cover_across_long_gaps() {
        let vocabulary = ["alpha", "beta", "gamma", "delta", "epsilon"];
        let text = (0..70).map(|k| vocabulary[k % vocabulary.len()]).collect::<Vec<_>>().join(" ");
        let mut words = Words::new();
        tokenize(&text, &mut words, Gazetteer::get(), Lexicon::get());
        let list = &mut words.list;
        assert_eq!(list.len(), 70);
        // Spans over words 3-4, 20, 30-44 and 52-68 (gaps of more and fewer than eight words), and one too weak to
        // block over 10-12.
        let span = |first: usize, last: usize, score: f32| Candidate {
            start: list[first].start,
            end: list[last].end,
            entity_type: EntityType::Mrn,
            score,
        };
        let structured = [span(3, 4, 0.9), span(10, 12, 0.5), span(20, 20, 0.9), span(30, 44, 0.9), span(52, 68, 0.9)];
        block_structured(list, &structured, &mut Vec::new());
        let blocked: Vec<usize> = (0..70).filter(|&k| list[k].blocked).collect();
        let expected: Vec<usize> = [3..5, 20..21, 30..45, 52..69].into_iter().flatten().collect();
        assert_eq!(blocked, expected);
        assert!(list.iter().all(|w| !w.blocked || w.starts == 0));
    }
}

#[cfg(test)]
mod street_walk_tests {
    use super::*;

    fn walks_to_street(text: &str) -> bool {
        street_word_follows(text.as_bytes(), 0, &mut (0, 0))
    }

    #[test]
    fn a_spelled_direction_lets_the_street_type_be_the_sixth_word() {
        for direction in ["North", "SOUTH", "east", "wEsT", "N", "s.", "E", "W."] {
            assert!(walks_to_street(&format!("12 {direction} Big Oak Tree Hollow Road")), "{direction}");
        }
        for word in ["Noth", "Sout", "Eastern", "Wes", "Westt", "Mid", "X.", "Nort1"] {
            assert!(!walks_to_street(&format!("12 {word} Big Oak Tree Hollow Road")), "{word}");
            assert!(walks_to_street(&format!("12 {word} Big Oak Tree Road")), "{word}");
        }
    }
}

#[cfg(test)]
mod short_word_tests {
    use proptest::prelude::*;

    use super::*;

    /// [`ShortWord::read`] by its definition: the run of ASCII letters at the start, one to fifteen long, ended by a
    /// byte other than `'`, `-`, a digit or one outside ASCII, within the eight or sixteen bytes it reads.
    fn by_definition(b: &[u8]) -> Option<ShortWord> {
        let len = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let read = if len < 8 { 8 } else { 16 };
        if len == 0 || len >= 16 || b.len() < read || matches!(b[len], b'\'' | b'-' | b'0'..=b'9' | 0x80..) {
            return None;
        }
        let case = case_of(std::str::from_utf8(&b[..len]).expect("ASCII letters"));
        let hash = crate::gazetteer::letters_hash(&b[..len]);
        Some(ShortWord { len, case, hash, separator_after: BYTE_CLASS[usize::from(b[len])] == 0 })
    }

    proptest! {
        #[test]
        fn a_short_word_is_the_run_of_letters_the_tokenizer_loop_reads(
            bytes in prop::collection::vec(prop::sample::select(b"aZmQ -'.,1\n\xc3\xa9".to_vec()), 0..24),
            letters in 0usize..18,
        ) {
            // Mostly letters first, so that words of every length come up.
            let mut b: Vec<u8> = (0..letters).map(|k| if k % 3 == 0 { b'K' } else { b'e' }).collect();
            b.extend(bytes);
            prop_assert_eq!(ShortWord::read(&b), by_definition(&b));
        }
    }
}

#[cfg(test)]
mod token_scan_tests {
    use proptest::prelude::*;

    use super::*;

    fn token_regex() -> &'static Regex {
        static TOKEN: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
            let (_, pattern) = patterns().pop().expect("the token shape is last");
            Regex::new(&ascii_classes(&pattern)).expect("token pattern compiles")
        });
        &TOKEN
    }

    /// The leftmost token match from `pos` as the regex finds it.
    fn by_regex(re: &Regex, hay: &str, pos: usize) -> Option<(usize, usize)> {
        re.search(&Input::new(hay).span(pos..hay.len())).map(|m| (m.start(), m.end()))
    }

    #[test]
    fn first_digit_finds_the_same_byte_as_a_byte_by_byte_search() {
        let mut bytes: Vec<u8> = (0..=255u8).collect();
        bytes.extend_from_slice("no digits here, then é9 and /:0".as_bytes());
        for from in 0..bytes.len() {
            for b in [b'0', b'5', b'9', b'/', b':', 0xB0, 0xB9] {
                let mut hay = bytes[from..].to_vec();
                hay.retain(|c| !c.is_ascii_digit());
                hay.insert(hay.len() / 2, b);
                let expected = hay.iter().position(u8::is_ascii_digit);
                assert_eq!(first_digit(&hay), expected, "{from} {b}");
            }
        }
    }

    #[test]
    fn hand_scanner_agrees_with_the_token_pattern_on_tricky_cases() {
        let re = token_regex();
        for hay in [
            "abc-12",
            "12-abc",
            "12-",
            "12_",
            "12-ab_",
            "abcdefghijk-12",
            "ab-cd-12",
            "a_1",
            "_12",
            "abc-def-12",
            "12_ ab-34",
            "x-1-2-3_",
            "MRN 00456123.",
            "E11.9",
            "1-a-b-c",
            "ICD-10",
            "abcdefghij-1",
            "Q-",
            "1",
            "PIC-BX-240403-17",
            "a-b-c-d-1",
            "ab-cd-ef-gh-12",
            "5ab-cd-12",
            "abcdefghijk-ab-12",
            "ab-abcdefghijk-12",
        ] {
            for pos in 0..=hay.len() {
                let expected = by_regex(re, hay, pos);
                assert_eq!(next_token(hay.as_bytes(), pos, hay.len()), expected, "{hay:?} from {pos}");
            }
        }
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z]{1,12}",
            "[0-9]{1,5}",
            Just("-".to_string()),
            Just("_".to_string()),
            Just(" ".to_string()),
            Just(".".to_string()),
            Just("é".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn hand_scanner_agrees_with_the_token_pattern(parts in proptest::collection::vec(fragment(), 0..14), pos in 0usize..40) {
            let hay = parts.concat();
            let pos = (0..=pos.min(hay.len())).rev().find(|&p| hay.is_char_boundary(p)).unwrap_or(0);
            let re = token_regex();
            prop_assert_eq!(next_token(hay.as_bytes(), pos, hay.len()), by_regex(re, &hay, pos));
        }
    }

    #[test]
    fn only_ascii_letters_fold_to_ascii_letters_outside_two_exceptions() {
        let re = Regex::new("(?i)^[a-z]$").expect("compiles");
        let folding: Vec<char> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii_alphabetic() && re.is_match(c.encode_utf8(&mut [0; 4]) as &str))
            .collect();
        assert_eq!(folding, vec!['\u{17F}', '\u{212A}']);
    }
}

#[cfg(test)]
mod shapes_tests {
    use proptest::prelude::*;

    use super::*;

    /// The shapes as [`Shapes`] and as one `meta::Regex`, which finds each match's start by a reverse search over
    /// every shape.
    fn shapes_both_ways() -> &'static (Shapes, Regex) {
        static BOTH: std::sync::LazyLock<(Shapes, Regex)> = std::sync::LazyLock::new(|| {
            let mut sources: Vec<String> = patterns().into_iter().map(|(_, p)| ascii_classes(&p)).collect();
            sources.pop();
            let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
            (Shapes::new(&sources).expect("shapes compile"), Regex::new_many(&sources).expect("shapes compile"))
        });
        &BOTH
    }

    /// Every match both ways finds from each char boundary, unanchored and anchored on each shape; the first
    /// difference, if any.
    fn shapes_disagree(hay: &str) -> Option<String> {
        let (shapes, meta) = shapes_both_ways();
        let mut cache = shapes.create_cache();
        let mut meta_cache = meta.create_cache();
        for pos in (0..=hay.len()).filter(|&p| hay.is_char_boundary(p)) {
            let unanchored = Input::new(hay).span(pos..hay.len());
            let anchored = (0..meta.pattern_len())
                .filter_map(|p| Some(unanchored.clone().anchored(Anchored::Pattern(PatternID::new(p).ok()?))));
            let inputs: Vec<Input<'_>> = std::iter::once(unanchored.clone()).chain(anchored).collect();
            for input in &inputs {
                let (ours, theirs) = (shapes.search(&mut cache, input), meta.search_with(&mut meta_cache, input));
                if ours != theirs {
                    return Some(format!(
                        "{hay:?} from {pos} ({:?}): {ours:?} but meta::Regex {theirs:?}",
                        input.get_anchored()
                    ));
                }
            }
        }
        None
    }

    /// Every match of the structured pass's search from each char boundary (the automaton's shapes, loosened ones
    /// checked, merged with UDIs and tokens) against one automaton of every shape merged with tokens; the first
    /// difference.
    fn merged_search_disagrees(hay: &str) -> Option<String> {
        static ALL: std::sync::LazyLock<(Analyzer, Shapes)> = std::sync::LazyLock::new(|| {
            let mut sources: Vec<String> = patterns().into_iter().map(|(_, p)| ascii_classes(&p)).collect();
            sources.pop();
            let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
            (Analyzer::new().expect("analyzer builds"), Shapes::new(&sources).expect("shapes compile"))
        });
        let (analyzer, all) = &*ALL;
        let mut caches = analyzer.caches.take();
        let mut all_cache = all.create_cache();
        let ascii_letters = ascii_case_folding(hay);
        let mut scan = analyzer.scan(hay, false, &mut caches);
        for pos in (0..=hay.len()).filter(|&p| hay.is_char_boundary(p)) {
            let ours = analyzer.next_match(hay, pos, &mut scan);
            let shape = all
                .search(&mut all_cache, &Input::new(hay).span(pos..hay.len()))
                .map(|m| (m.start(), m.end(), m.pattern().as_usize()));
            let limit = shape.map_or(hay.len(), |(s, _, _)| s);
            let token = if ascii_letters {
                next_token(hay.as_bytes(), pos, limit)
            } else {
                analyzer.token.search(&Input::new(hay).span(pos..hay.len())).map(|m| (m.start(), m.end()))
            };
            let theirs = match token {
                Some((s, e)) if s < limit => Some((s, e, analyzer.token_pid)),
                _ => shape,
            };
            if ours != theirs {
                return Some(format!("{hay:?} from {pos}: {ours:?} but one automaton {theirs:?}"));
            }
        }
        None
    }

    #[test]
    fn udis_loosened_shapes_and_tokens_merge_into_the_same_matches_as_one_automaton() {
        let texts = [
            WARM_UP.to_string(),
            WARM_UP.to_lowercase(),
            WARM_UP.to_uppercase(),
            "UDI (01)00844588003288(17)141120(10)7654321D(21)XYZ, (01)1234 and (01)00844588003288, Santa Fe, New \
             Mexico 87501; Charleston, West Virginia, 25301-1234; NY, 10001; ny 10001; Kansas\n\n 66044x; texas 75001"
                .to_string(),
            "Kelvin \u{212A}ansas 66044 and \u{17F}outh Dakota 57501, (01)00844588003288".to_string(),
            // Inside a name, where the ASCII word boundary before it holds, `ſ` and the Kelvin sign are its letters.
            "Kan\u{17F}a\u{17F} 66044, Ar\u{212A}ansas 72201, Ma\u{17F}\u{17F}achusetts, 02108 and Kansas 66044"
                .to_string(),
            "WEST VIRGINIA 25301, west Virginia., 25301-12345, DE\t\n 19901-1234x, IOWA 50301-1234_, Wa 98101, \
             Rhode Island,  02903 4111 1111 1111 1111; Guam 96910 (671) 555-0134, oh 43004 OH. 43004-1234-55"
                .to_string(),
            // Matches of the loosened shapes only (see [`digit_shape`]).
            "::5, ::1x, ::1, 5-800-555-0100, +5 415 555 0134, +1 415 555 0134, 2 (415) 555-0134, 0.415.555.0134 \
             and 1-(800) 555-0100; AB-12 and CD-34, ZZ-5 at mile marker 3, NM-528 and US-550 EB, OR 2 and OR 3, \
             mile 12 on XX-9, MM 4.5 on TX-71"
                .to_string(),
            "pain 4/10, 1/2000 then 1/200, 12/3000, 3/19/2024, 07/1999 and 9/20; +1 415 555 0134, +0 12 3456 7890, \
             + 44 20 7946 0958, MBI 0EG4-TE5-MK73 or 1EG4-TE5-MK73"
                .to_string(),
            // Phone numbers the loosened pattern's match settles (see [`Analyzer::next_shaped`]), and near ones.
            "(415) 555-0134 x12, ( 415 )555-0134 ext. 7, 415.555.0134 extension 99, 4155550134, 41 555 0134, \
             415-555-013, 12 415 555 0134, 1 (415) 555-0134, (415)5550134x"
                .to_string(),
        ];
        for text in texts {
            assert_eq!(merged_search_disagrees(&text), None);
        }
    }

    /// MBIs, IBANs and days of the month before their month are searched at tokens (see
    /// [`Analyzer::token_shape_at`]), where their first bytes may start them: their matches and near ones merge into
    /// the same matches as one automaton's.
    #[test]
    fn mbis_ibans_and_days_before_a_month_merge_into_the_same_matches_as_one_automaton() {
        let texts = [
            "MBI 1EG4-TE5-MK73, 1EG4TE5MK73, 0EG4-TE5-MK73, 1E-4, 9ZZ9-ZZ9-ZZ99x, x1EG4-TE5-MK73 (1EG4-TE5-MK73) \
             5ab-cd-1EG4-TE5-MK73 1EG4-TE5-MK73"
                .to_string(),
            "IBAN GB82 WEST 1234 5698 7654 32, GB82WEST12345698765432, DE89 3704 0044 0532 0130 00; lot OY3068, exp; \
             GB82 WEST, ab12 cdef ghij k, x-GB82 WEST 1234 5698, GB82 WEST 1234 5698 7654 32"
                .to_string(),
            "5th of June, 12-Jan, 14-MAR-2023, 1st  -  may 2024, 2 of 3, 3rd\tof\nmarch, 12March, 5 mg, 5 ma, 10 deg, \
             31 sept. 2024, 7 TH of Jan, 123 May, 1 sep-05-2024, 5 -\n of June, 9 junk, 4 of, 2nd of, 12 ofmay, \
             (415) 555-0134 12 June, 1-800-555-0100 5 May"
                .to_string(),
            // Under `(?i)` `ſ` and the Kelvin sign are letters of the patterns (see [`ascii_case_folding`]).
            "12 \u{17F}ep 2024, 1E\u{212A}4-TE5-MK73, G\u{212A}82 WEST 1234 5698 7654 32, 5th of June".to_string(),
        ];
        for text in texts {
            assert_eq!(merged_search_disagrees(&text), None);
        }
    }

    /// Pieces of MBIs, IBANs and days of the month before their month, and of the text around them.
    fn token_shape_fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => "[0-9]{1,4}",
            1 => "[a-zA-Z]{1,4}",
            3 => proptest::sample::select(vec![
                " ", "  ", "-", "\t", "\n", ",", ".", "_", "of", "st", "TH", "nd", "Jan", "march", "Sept", "may",
                "1EG4", "TE5", "-MK73", "GB82", "WEST", "1234", "\u{17F}", "\u{212A}", "é",
            ])
            .prop_map(str::to_string),
        ]
    }

    /// The match at `start` that [`Analyzer::token_shape_at`], behind [`token_shape_may_start`], finds against the
    /// first of the MBI's, the IBAN's and the day-and-month date's patterns that matches there, at each char
    /// boundary of `hay`; the first difference.
    fn token_shapes_disagree(hay: &str) -> Option<String> {
        static OWN: std::sync::LazyLock<(Analyzer, Vec<(usize, Regex)>)> = std::sync::LazyLock::new(|| {
            let shapes = [Shape::Mbi, Shape::Iban, Shape::DateDayMonth];
            let own = patterns()
                .into_iter()
                .enumerate()
                .filter(|(_, (shape, _))| shapes.contains(shape))
                .map(|(pid, (_, p))| (pid, Regex::new(&ascii_classes(&p)).expect("shape compiles")))
                .collect();
            (Analyzer::new().expect("analyzer builds"), own)
        });
        let (analyzer, own) = &*OWN;
        let mut caches = analyzer.caches.take();
        let mut scan = analyzer.scan(hay, false, &mut caches);
        for start in (0..hay.len()).filter(|&p| hay.is_char_boundary(p)) {
            let ours = (!scan.ascii_letters || token_shape_may_start(hay.as_bytes(), start))
                .then(|| analyzer.token_shape_at(hay, start, analyzer.token_pid, &mut scan))
                .flatten();
            let theirs = own.iter().find_map(|(pid, re)| {
                let input = Input::new(hay).span(start..hay.len()).anchored(Anchored::Yes);
                re.search(&input).map(|m| (start, m.end(), *pid))
            });
            if ours != theirs {
                return Some(format!("{hay:?} at {start}: {ours:?} but the patterns {theirs:?}"));
            }
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn token_shapes_found_behind_their_first_bytes_are_their_patterns_matches(
            parts in proptest::collection::vec(token_shape_fragment(), 0..12),
        ) {
            let hay = parts.concat();
            prop_assert_eq!(token_shapes_disagree(&hay), None);
        }
    }

    #[test]
    fn every_month_passes_the_day_and_month_filters() {
        for month in alternation_words(MONTHS) {
            let m = month.as_bytes();
            assert!(day_month_pair(m[0], m[1]) && day_month_pair(m[0].to_ascii_uppercase(), m[1]), "{month}");
            for text in [format!("5 {month}"), format!("12th of {}", month.to_uppercase()), format!("1-{month}")] {
                assert!(month_may_follow(text.as_bytes(), 0), "{text}");
                assert_eq!(token_shapes_disagree(&text), None);
            }
        }
    }

    /// A state-and-ZIP match is found by hand before the ZIP (see [`Analyzer::state_zip_before`]): that holds only
    /// if no other shape starts in the state's name or code or in the separator after it.
    #[test]
    fn states_before_zip_codes_merge_into_the_same_matches_as_one_automaton() {
        let mut text = String::new();
        for (i, (code, name)) in state_abbreviations().zip(state_names()).enumerate() {
            let sep = [" ", ", ", ". ", "., ", "\t\n "][i % 5];
            let zip = ["10001", "10001-2345", "10001-23456", "10001 2345 6789 0123", "10001-2345-6"][i % 5];
            let upper = name.to_ascii_uppercase();
            for state in [code.to_ascii_uppercase().as_str(), code, name, upper.as_str(), &name[..1]] {
                text.push_str(&format!("{state}{sep}{zip}; x{state} {zip}, {state}-{zip} "));
            }
        }
        assert_eq!(merged_search_disagrees(&text), None);
    }

    #[test]
    fn street_and_state_words_end_where_no_other_word_of_their_list_goes_on() {
        let states = state_names().collect::<Vec<_>>().join("|");
        for list in [STREET_SUFFIX, SECOND_SUFFIX, &format!("{SECONDARY_UNITS}|no"), &states, MONTHS] {
            let words = alternation_words(list);
            for (a, b) in words.iter().flat_map(|a| words.iter().map(move |b| (a, b))) {
                let goes_on = b.len() > a.len() && b.starts_with(a.as_str());
                assert!(!goes_on || b.as_bytes()[a.len()].is_ascii_alphabetic(), "{a:?} ends inside {b:?}");
            }
            assert!(words.iter().all(|w| w.bytes().all(|c| c.is_ascii_lowercase() || c == b' ')), "{list}");
        }
    }

    #[test]
    fn a_word_trie_matches_the_words_of_its_alternation() {
        let states = state_names().collect::<Vec<_>>().join("|");
        for list in [STREET_SUFFIX, SECOND_SUFFIX, &format!("{SECONDARY_UNITS}|no"), &states, MONTHS] {
            let trie = Regex::new(&format!("(?i)^(?:{})$", word_trie(list))).expect("trie compiles");
            let alternation = Regex::new(&format!("(?i)^(?:{list})$")).expect("alternation compiles");
            for word in alternation_words(list) {
                for probe in (0..=word.len()).map(|n| &word[..n]).chain([format!("{word}s").as_str(), "x"]) {
                    let upper = probe.to_ascii_uppercase();
                    for probe in [probe, upper.as_str()] {
                        assert_eq!(trie.is_match(probe), alternation.is_match(probe), "{probe:?} in {list}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_pikevm_built_for_a_search_the_lazy_dfas_cannot_finish_finds_the_same_matches() {
        let (shapes, _) = shapes_both_ways();
        let vm = PikeVM::new_many(&shapes.patterns).expect("shapes compile");
        let (mut cache, mut vm_cache, mut caps) = (shapes.create_cache(), vm.create_cache(), vm.create_captures());
        for text in [WARM_UP.to_string(), WARM_UP.to_lowercase()] {
            for pos in (0..=text.len()).filter(|&p| text.is_char_boundary(p)) {
                let input = Input::new(&text).span(pos..text.len());
                vm.search(&mut vm_cache, &input, &mut caps);
                let lazy = shapes.search_lazy(&mut cache, &input, |_, _| None).expect("the lazy DFAs finish");
                assert_eq!(lazy, caps.get_match(), "{pos}");
            }
        }
    }

    /// The matches the IPv6 shape gave up (see [`patterns`]), those of
    /// `(?:::?[0-9a-f]{1,4}){2,7}(?:::)?` starting with a lone colon, where no later shape can start: the classifier
    /// rejected every one, and the search went on from the next char, so leaving them out changes no match.
    #[test]
    fn no_ipv6_address_starts_with_a_lone_colon_and_no_later_shape_starts_with_a_colon() {
        let analyzer = Analyzer::new().expect("analyzer builds");
        let ipv6 = analyzer.shapes.iter().position(|&s| s == Shape::Ipv6).expect("an IPv6 shape");
        for pid in ipv6 + 1..analyzer.shapes.len() - 1 {
            assert!(!analyzer.first_bytes[pid][usize::from(b':')], "{:?}", analyzer.shapes[pid]);
        }
        let mut runner = proptest::test_runner::TestRunner::default();
        let lone = "(?i):[0-9a-f]{1,4}(?:::?[0-9a-f]{1,4}){1,6}(?:::)?";
        runner
            .run(&lone, |text| {
                prop_assert!(classify(Shape::Ipv6, &text, 0, text.len()).is_none(), "{text:?}");
                Ok(())
            })
            .expect("every lone-colon match is rejected");
    }

    /// The forward search skips a word's letters from one state inside words (see [`Shapes::word_state`]): the
    /// shapes' automaton has that state, and the search that skips answers as the lazy DFA's own from every position
    /// of text where long words run into shapes made of words (e-mail and web addresses, written dates, streets).
    #[test]
    fn forward_search_skipping_words_finds_the_lazy_dfas_matches() {
        let (shapes, _) = shapes_both_ways();
        let mut cache = shapes.create_cache();
        assert!(shapes.word_state(&mut cache.forward).is_some());
        let texts = [
            "Continuation of anticoagulation; reassessment scheduled bilaterally.",
            "contact administrator.longname@hospitalsystem.org or www.examplehospital.com/portal today",
            "Seen Septemberish, then September 14th, 2023 and Decemberween 5; December 5 2024",
            "Main Street and Boulevardier Ave and Thomas Rd; 1234 Longfellowstreet Avenue",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz Zebra1234 word-word",
        ];
        for hay in texts {
            for pos in 0..=hay.len() {
                let input = Input::new(hay).span(pos..hay.len());
                let ours = shapes.find_fwd(&mut cache, &input).expect("the lazy DFA finishes");
                let theirs = shapes.forward.try_search_fwd(&mut cache.forward, &input).expect("the lazy DFA finishes");
                assert_eq!(ours, theirs, "{hay:?} from {pos}");
            }
        }
    }

    #[test]
    fn shapes_find_the_same_matches_as_one_meta_regex() {
        for text in [WARM_UP.to_string(), WARM_UP.to_lowercase(), WARM_UP.to_uppercase()] {
            assert_eq!(shapes_disagree(&text), None);
        }
    }

    /// Pieces of text that start, continue or end shapes.
    fn shape_fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,5}",
            "[A-Za-z][a-z]{0,7}",
            proptest::sample::select(vec![
                " ",
                "  ",
                ", ",
                "-",
                "/",
                ".",
                ":",
                "::",
                "@",
                "#",
                "(",
                ")",
                "+",
                "'",
                "\n",
                "é",
                "St",
                "Ave.",
                "Road",
                "N.",
                "Apt",
                "Suite",
                "IL",
                "Texas",
                "Jan",
                "March",
                "th",
                "of",
                "Box",
                "P.O.",
                "RR",
                "www.",
                ".com",
                "https://",
                "fe80",
                "x",
                "ext",
                "Rd & ",
                " and ",
                "I-94",
                "mile marker",
                "GB82",
                "M5T",
                "(01)",
                "00844588003288",
                "(17)",
                "New Mexico",
                "west virginia",
                "West",
                "Virginia",
                "DE",
                "\t",
                "12345-6789",
                "CA",
                "90210",
                "\u{17F}",
            ])
            .prop_map(str::to_string),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        #[test]
        fn shapes_agree_with_one_meta_regex(parts in proptest::collection::vec(shape_fragment(), 0..16)) {
            let hay = parts.concat();
            prop_assert_eq!(shapes_disagree(&hay), None);
        }

        #[test]
        fn merged_search_agrees_with_one_automaton(parts in proptest::collection::vec(shape_fragment(), 0..16)) {
            let hay = parts.concat();
            prop_assert_eq!(merged_search_disagrees(&hay), None);
        }
    }

    /// Pieces of numbers and of the text around them: digits, separators, ordinals and months.
    fn number_fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[0-9]{1,4}",
            2 => proptest::sample::select(vec![" ", "-", ".", "/", "+", "(", ")", "\t"]).prop_map(str::to_string),
            1 => proptest::sample::select(vec!["x", "_", "st", "TH", "of", "Jan", "march", "\u{17F}ep", "\u{212A}", "é"])
                .prop_map(str::to_string),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn anchored_searches_settled_by_hand_agree_with_their_patterns(
            parts in proptest::collection::vec(number_fragment(), 0..12),
        ) {
            let hay = parts.concat();
            prop_assert_eq!(anchored_disagrees(&hay), None);
        }
    }

    /// Every match the shapes automaton finds from each char boundary whose start [`start_by_hand`] reads back from
    /// its end: that start against the reverse search's. The first difference, if any, and the shapes read by hand.
    fn hand_starts_disagree(hay: &str) -> (Option<String>, Vec<Shape>) {
        static ANALYZER: std::sync::LazyLock<Analyzer> =
            std::sync::LazyLock::new(|| Analyzer::new().expect("analyzer builds"));
        let analyzer = &*ANALYZER;
        let mut caches = analyzer.caches.take();
        let mut settled = Vec::new();
        for pos in (0..=hay.len()).filter(|&p| hay.is_char_boundary(p)) {
            let input = Input::new(hay).span(pos..hay.len());
            let Some(m) = analyzer.shaped.search(&mut caches.shaped, &input) else { continue };
            let shape = analyzer.shapes[analyzer.shaped_ids[m.pattern().as_usize()]];
            if let Some(start) = start_by_hand(shape, hay.as_bytes(), pos, m.end(), ascii_case_folding(hay)) {
                settled.push(shape);
                if start != m.start() {
                    let found = format!("{hay:?} from {pos}: {shape:?} ending at {} starts at {start}", m.end());
                    return (Some(format!("{found}, but the reverse search says {}", m.start())), settled);
                }
            }
        }
        (None, settled)
    }

    #[test]
    fn starts_read_back_by_hand_are_the_reverse_searchs() {
        let texts = [
            WARM_UP.to_string(),
            WARM_UP.to_lowercase(),
            WARM_UP.to_uppercase(),
            "jane.doe@example.org, x.y@z.co.uk, _a@b.com, .x@y.org, a..b@c.org, \u{17F}am@x.org, é.j@x.org; \
             1.2.3.4.5, 10.0.0.1, 1234.5.6.7, 2023-03-14T10:30:00.5+05:30, 12.0-16, 1/2/3/2024, 03.27.2024, x1/2/2024, \
             2024/1/2, 2024-01-02-03, March 14th, 2023, Jan 5 '24, sep-05-2024, 1st of may 2024, 5th\tof-June, \
             3 \u{17F}ep 2024, 12 January, 2024; (415) 555-0134 ext. 12, 1-800-555-0100, +1 415 555 0134, \
             + 1 (800)555-0100 x 7, 415.555.0134 extension 99, call 12 415 555 0134, +44 20 7946 0958; SSN \
             123-45-6789, xxx-xx-1234, ***-**-1234"
                .to_string(),
            "fe80::1ff:fe23:4567:890a, ::1, ::12, ::1x, ::ffff:1.2.3.4, 10:30:00, T10:30:00Z, a:b:c::, 1::2::3, \
             fe80:::1, 12345:1:2:3, x:1:2:3, _1:2:3, 1:2:3:4:5:6:7:8:9:a:b, ABCD:ef01:2345::, ::a:b:c:d:e:f:1:2:3, \
             deadbeefdeadbeef:1:2, 4111 1111 1111 1111, 4111-1111-1111-1111 1, 1234567890123456789012, \
             4111--1111-1111-1111, x4111111111111, 12 3456 7890 1234 567, 4111 1111 1111 1111 2222 3333"
                .to_string(),
            "P.O. Box 771, p o box 5, PO. BOX 12, pobox 7, p.  o box 9, xp.o. box 3, Post Office Box 1234567, post \
             office  box 2; RR 2 Box 118, HC 65, box 112A, R.R. 3 box 4b, rural route 12 Box 5, star route 7, box 8, \
             xstar route 1 box 2, Rte. 9 box 10, rt 4 box 5x, route 1234 box 6, route 12345 box 6, rr2 box 1, \
             hc 3box 4"
                .to_string(),
            "see https://x.org/a?b=1, (www.clinic.med) <ftp://f.example.com/x> \"labs.example.com/r/7\" a..b.com \
             x.y..z.org -a.com _b.com 1.2.us, a.comx.org, q.com-foo, HTTPS://A.B, www. x, sftp://, e.g.care, \
             \u{e9}x.com, 1http://y.net"
                .to_string(),
        ];
        let mut settled = Vec::new();
        for text in texts {
            let (disagreement, shapes) = hand_starts_disagree(&text);
            assert_eq!(disagreement, None);
            settled.extend(shapes);
        }
        let shapes = [
            Shape::Email,
            Shape::Ipv4,
            Shape::DateNumeric,
            Shape::DateWritten,
            Shape::Phone,
            Shape::PhoneIntl,
            Shape::Ssn,
            Shape::Url,
            Shape::Ipv6,
            Shape::Card,
        ];
        for shape in shapes {
            assert!(settled.contains(&shape), "no start of {shape:?} was read by hand");
        }
    }

    /// Pieces of the shapes whose starts are read back by hand, and of the text around them.
    fn start_fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[0-9]{1,4}",
            1 => "[a-zA-Z]{1,3}",
            3 => proptest::sample::select(vec![
                " ", "  ", "-", "/", ".", ":", "+", "(", ")", "@", ",", "'", "\t", "_", "!", "T", "Z", "x", "ext",
                "ext.", "extension", "st", "th", "of", "Jan", "march", "Sept", "may", ".com", ".org", "www.", "\u{17F}",
                "\u{212A}", "é", "\n", "jo.doe@x.org", "(415) 555-0134", "2023-03-14T10:30", "12/03/2024", "10.0.0.1",
                "https://", "ftp://", "www", "/p?q=1", "<", "\"", "*", "123-45-6789", "xx-", "::", "fe80", "::1",
                "abcd:", "e:F", "4111 1111 1111 1111", "4111-1111", "1111 ", "box", "Box ", "P.", "o. ", "PO",
                "post office", "rr", "R.R.", "rural route", "star route", "rte.", "rt", "HC", "h.c.", " 12A",
            ])
            .prop_map(str::to_string),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn starts_read_back_by_hand_agree_with_the_reverse_search(
            parts in proptest::collection::vec(start_fragment(), 0..14),
        ) {
            let hay = parts.concat();
            prop_assert_eq!(hand_starts_disagree(&hay).0, None);
        }
    }

    #[test]
    fn anchored_searches_settled_by_hand_find_the_matches_of_their_patterns() {
        let texts = [
            WARM_UP.to_string(),
            WARM_UP.to_uppercase(),
            "SSN 123 45 6789 or 123-45 6789, 12-45-6789; 1 800 555 0100, 1.800.555.0100, 1-(800) 555-0100, 800 555 \
             0100; + 44 20 7946 0958, +\t2 12, + 1 415, +0 20; 5th of June, 12-Jan, 3 \u{17F}ep, 14\tmarch, 7 TH of \
             Jan; 4111 1111 1111 1111, 4111-1111-1111-1111, 4111111111111; 1/2000, 1/20001, x1/2, 12/3, 123/4"
                .to_string(),
        ];
        for text in texts {
            assert_eq!(anchored_disagrees(&text), None);
        }
    }

    /// The anchored searches that [`may_start_with`] may rule out, and the short date's, which [`short_date_from`]
    /// answers, against each shape's own pattern searched anchored at each char boundary; the first difference.
    fn anchored_disagrees(hay: &str) -> Option<String> {
        static BY_HAND: std::sync::LazyLock<(Analyzer, Vec<(usize, Regex)>)> = std::sync::LazyLock::new(|| {
            let analyzer = Analyzer::new().expect("analyzer builds");
            let settled =
                [Shape::DateDayMonth, Shape::Card, Shape::Ssn, Shape::PhoneIntl, Shape::Phone, Shape::DateShort];
            let own = patterns()
                .into_iter()
                .enumerate()
                .filter(|(_, (shape, _))| settled.contains(shape))
                .map(|(pid, (_, p))| (pid, Regex::new(&ascii_classes(&p)).expect("shape compiles")))
                .collect();
            (analyzer, own)
        });
        let (analyzer, own) = &*BY_HAND;
        let mut caches = analyzer.caches.take();
        let mut scan = analyzer.scan(hay, false, &mut caches);
        for start in (0..hay.len()).filter(|&p| hay.is_char_boundary(p)) {
            for (pid, re) in own {
                let ours = analyzer.anchored_match(hay, start, *pid, &mut scan);
                let theirs =
                    re.search(&Input::new(hay).span(start..hay.len()).anchored(Anchored::Yes)).map(|m| m.end());
                if ours != theirs {
                    let shape = analyzer.shapes[*pid];
                    return Some(format!("{hay:?} at {start}, {shape:?}: {ours:?} but its pattern {theirs:?}"));
                }
            }
        }
        None
    }
}
