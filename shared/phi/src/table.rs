//! Exported tables (CSV, tab- or pipe-separated) with a header row: `patient_id,last_name,first_name,dob,zip`. A
//! value in a row is PHI because of its column, which no word or shape rule sees (`Oyelowo` alone is a word in no
//! list, `884103` a bare number), so each column whose header names an identifier types the values under it. Tables
//! aligned with spaces (printed reports, forms, scanned faxes: `PT NAME   DOB   MRN`) are read the same way, their
//! columns split at two spaces or more.
//!
//! Hand-written: the `csv` crate yields unescaped field data without their offsets in the source, and every span here
//! must point into the original text; quoting is handled (`"Ramirez, Maria"`), escaped quotes inside fields too.

use crate::detect::Candidate;
use crate::entity::EntityType;

/// Below an HL7 field's, above most word and shape rules: the header says what the value is.
const SCORE: f32 = 0.9;
/// A header row is short: longer lines are prose (with commas) and are not split at all.
const MAX_HEADER_BYTES: usize = 400;
const MAX_HEADER_CELL: usize = 40;

/// The last word of every name [`column_type`] knows (a name added there has its last word added here: a test reads
/// them from the source), and the marks of [`is_id_header`].
const COLUMN_LAST_WORDS: [&[u8]; 69] = [
    b"1",
    b"accession",
    b"account",
    b"acct",
    b"addr",
    b"address",
    b"address1",
    b"admit",
    b"admitted",
    b"age",
    b"appointment",
    b"attending",
    b"birth",
    b"birthdate",
    b"cell",
    b"city",
    b"code",
    b"collected",
    b"contact",
    b"csn",
    b"date",
    b"death",
    b"discharge",
    b"discharged",
    b"dob",
    b"dos",
    b"email",
    b"encounter",
    b"fax",
    b"fin",
    b"first",
    b"given",
    b"guarantor",
    b"id",
    b"ip",
    b"kin",
    b"last",
    b"license",
    b"mail",
    b"mbi",
    b"memberid",
    b"middle",
    b"mobile",
    b"mrn",
    b"name",
    b"nbr",
    b"no",
    b"num",
    b"number",
    b"patient",
    b"patientid",
    b"pcp",
    b"phone",
    b"physician",
    b"postcode",
    b"provider",
    b"record",
    b"security",
    b"serial",
    b"service",
    b"ssn",
    b"street",
    b"surname",
    b"tel",
    b"telephone",
    b"town",
    b"visit",
    b"zip",
    b"zipcode",
];

/// For each byte, the lengths (as bits) of the words of [`COLUMN_LAST_WORDS`] that start with it.
const COLUMN_LAST_WORD_LENGTHS: [u16; 256] = {
    let mut lengths = [0u16; 256];
    let mut i = 0;
    while i < COLUMN_LAST_WORDS.len() {
        let word = COLUMN_LAST_WORDS[i];
        assert!(!word.is_empty() && word.len() < 16, "a last word of 1 to 15 bytes");
        lengths[word[0] as usize] |= 1 << word.len();
        i += 1;
    }
    lengths
};

/// For each byte, the lengths (as bits) of the words of [`COLUMN_LAST_WORDS`] that end with it.
const COLUMN_LAST_WORD_ENDINGS: [u16; 256] = {
    let mut lengths = [0u16; 256];
    let mut i = 0;
    while i < COLUMN_LAST_WORDS.len() {
        let word = COLUMN_LAST_WORDS[i];
        lengths[word[word.len() - 1] as usize] |= 1 << word.len();
        i += 1;
    }
    lengths
};

/// Whether the name [`column_name`] writes for `cell` may be one [`column_type`] knows: `false` when the name's last
/// word has the first letter and length of none of [`COLUMN_LAST_WORDS`]. Most lines with a comma have their first
/// cells read for a header's, and writing out each cell's name cost about 300 instructions a cell; five cells in six
/// of the mixed notes' lines are turned away here (a full comparison of the word cost more than it saved). The word is
/// read back from the cell's end as [`column_name`] writes it (white space and quotes at either end left out,
/// `_ - . # \t` as spaces, letters in lower case); a cell longer than a name's buffer, or not ASCII (whose Unicode
/// white space is trimmed too), is left to [`column_name`].
fn may_name_column(cell: &str) -> bool {
    let b = cell.as_bytes();
    // A cell that is not ASCII has Unicode white space trimmed too.
    if b.len() > MAX_HEADER_CELL + 2 || !b.is_ascii() {
        return true;
    }
    let white = |c: u8| matches!(c, b'\t'..=b'\r' | b' ');
    // The part [`column_name`] reads: white space, then quotes, left out at either end.
    let mut start = 0;
    while start < b.len() && white(b[start]) {
        start += 1;
    }
    while start < b.len() && b[start] == b'"' {
        start += 1;
    }
    let mut end = b.len();
    while end > start && white(b[end - 1]) {
        end -= 1;
    }
    while end > start && b[end - 1] == b'"' {
        end -= 1;
    }
    // The name's last word: before the white space its end drops, back to a space.
    let named = |c: u8| NAME_BYTE[usize::from(c)];
    while end > start && white(named(b[end - 1])) {
        end -= 1;
    }
    if end == start {
        return false;
    }
    // The word's last letter is known before the word is read back: a letter that ends none of the words (most of
    // the mixed notes' cells read here) turns the cell away at once, and the lengths of the words ending with it
    // narrow the test below.
    let endings = COLUMN_LAST_WORD_ENDINGS[usize::from(named(b[end - 1]))];
    if endings == 0 {
        return false;
    }
    let mut first = end;
    while first > start && named(b[first - 1]) != b' ' {
        first -= 1;
    }
    let len = end - first;
    len < 16 && (COLUMN_LAST_WORD_LENGTHS[usize::from(named(b[first]))] & endings) >> len & 1 != 0
}

/// What a column holds, from its header (as [`column_name`] writes it: lower case, `_` `-` `.` as spaces).
fn column_type(header: &[u8]) -> Option<Column> {
    use EntityType::{
        AccountNumber, Address, City, Date, DeviceId, Email, Fax, HealthPlanId, IpAddress, LicenseNumber, Mrn, Person,
        Phone, Ssn, Zip,
    };
    Some(Column::Plain(match header {
        b"name"
        | b"patient"
        | b"patient name"
        | b"first name"
        | b"first"
        | b"given name"
        | b"given"
        | b"last name"
        | b"last"
        | b"surname"
        | b"family name"
        | b"middle name"
        | b"middle"
        | b"full name"
        | b"attending"
        | b"attending physician"
        | b"provider"
        | b"physician"
        | b"pcp"
        | b"guarantor"
        | b"emergency contact"
        | b"contact name"
        | b"next of kin"
        | b"ordering provider"
        | b"referring provider"
        | b"mother maiden name" => Person,
        b"mrn"
        | b"patient id"
        | b"patientid"
        | b"pt id"
        | b"medical record number"
        | b"medical record"
        | b"record number"
        | b"chart number" => Mrn,
        b"dob" | b"date of birth" | b"birth date" | b"birthdate" | b"admit" | b"admit date" | b"admission date"
        | b"admitted" | b"discharge" | b"discharge date" | b"discharged" | b"visit date" | b"last visit"
        | b"service date" | b"date of service" | b"dos" | b"date" | b"encounter date" | b"death date"
        | b"date of death" | b"appointment" | b"appointment date" | b"collected" | b"collection date" => Date,
        b"zip" | b"zip code" | b"zipcode" | b"postal code" | b"postcode" => Zip,
        b"phone" | b"phone number" | b"telephone" | b"tel" | b"mobile" | b"cell" | b"home phone" | b"work phone"
        | b"contact phone" => Phone,
        b"fax" | b"fax number" => Fax,
        b"email" | b"e mail" | b"email address" => Email,
        b"address" | b"street" | b"street address" | b"address1" | b"address 1" | b"address line 1" | b"addr" => {
            Address
        }
        b"city" | b"town" => City,
        b"ssn" | b"social security number" | b"social security" => Ssn,
        b"account" | b"account number" | b"acct" | b"acct no" | b"encounter" | b"encounter id"
        | b"encounter number" | b"visit id" | b"visit number" | b"accession" | b"accession number" | b"fin"
        | b"csn" => AccountNumber,
        b"member id" | b"memberid" | b"insurance id" | b"policy number" | b"subscriber id" | b"medicaid id"
        | b"medicare id" | b"mbi" => HealthPlanId,
        b"license" | b"license number" | b"drivers license" | b"driver license" => LicenseNumber,
        b"ip" | b"ip address" => IpAddress,
        b"device id" | b"serial" | b"serial number" => DeviceId,
        b"age" => return Some(Column::Age),
        // `appt_id`, `claim number`, `Employee #`: a column of identifiers, whatever they identify, unless they
        // number a room, a lot, a code or a payer.
        _ if is_id_header(header) => EntityType::OtherId,
        _ => return None,
    }))
}

#[derive(Debug, Clone, Copy)]
enum Column {
    Plain(EntityType),
    /// Only an age over 89 is PHI.
    Age,
}

/// The cells of one line split at `delimiter` outside double quotes, as byte ranges of `line` without the quotes
/// and surrounding spaces.
fn cells(line: &str, delimiter: u8) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            c if c == delimiter && !quoted => {
                out.push(trim(line, start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(trim(line, start, b.len()));
    out
}

fn trim(line: &str, s: usize, e: usize) -> (usize, usize) {
    let cell = &line[s..e];
    let edge = [' ', '\t', '"'];
    let start = s + (cell.len() - cell.trim_start_matches(edge).len());
    let end = (e - (cell.len() - cell.trim_end_matches(edge).len())).max(start);
    (start, end)
}

/// Whether `line` ends with `.` before any white space, as `line.trim_end().ends_with('.')` says: read back as bytes
/// while they are ASCII (the char searcher of `trim_end` cost a call a line), else by `trim_end`.
fn ends_with_period(line: &str) -> bool {
    let b = line.as_bytes();
    match b.iter().rposition(|c| !matches!(c, b'\t'..=b'\r' | b' ')) {
        None => false,
        Some(last) if b[last].is_ascii() => b[last] == b'.',
        Some(_) => line.trim_end().ends_with('.'),
    }
}

/// The delimiter of a header row and its columns' types, when `line` is one: two cells or more, short, without
/// digits (`address1` aside), at least two of them naming a PHI column. `first` is where the line's first `,`, tab or
/// `|` is ([`tables`] has found it).
fn header(line: &str, first: usize) -> Option<(u8, Vec<Option<Column>>)> {
    // The first cell ends at the first delimiter or after it: when that is too far for a header cell (prose with a
    // comma), the line is no header, and nothing more is read (a third of the lines with a comma in mixed notes).
    if line.len() > MAX_HEADER_BYTES || first > MAX_HEADER_CELL + 2 {
        return None;
    }
    // A header row names columns: no sentence end, no `label:` (form fields such as `NAME: DOE, JANE`).
    if ends_with_period(line) {
        return None;
    }
    // A tab if the line holds one, else `|`, else `,` (none of them lies before `first`), and no `:` anywhere: one
    // search for `:`, tab and `|` answers a line with commas alone, where a search for the colon and one for a tab or
    // `|` cost two calls on each such line.
    let b = line.as_bytes();
    let delimiter = match memchr::memchr3(b':', b'\t', b'|', b) {
        None => b',',
        // The first of the three is a colon, or one follows it.
        Some(at) if b[at] == b':' || memchr::memchr(b':', &b[at + 1..]).is_some() => return None,
        Some(at) if b[at] == b'\t' || memchr::memchr(b'\t', &b[at + 1..]).is_some() => b'\t',
        Some(_) => b'|',
    };
    // The text between delimiters, as `line.split(delimiter)` gives it, found by `memchr` (the split set up a char
    // searcher for every cell); the delimiter is ASCII, so the cells lie on char boundaries.
    let split = || {
        let mut start = 0;
        memchr::memchr_iter(delimiter, line.as_bytes()).chain([line.len()]).map(move |end| {
            let cell = &line[start..end];
            start = end + 1;
            cell
        })
    };
    // Prose with commas has long stretches between them; nothing is allocated before two columns are known. In one
    // pass over the cells (a second pass cost a `memchr` call a cell): every cell is short, and two of them name a
    // column (most lines with a comma name none).
    let column = |cell: &str| column_type(column_name(cell, &mut [0; MAX_HEADER_CELL + 2])?);
    let mut wanted = 2;
    for cell in split() {
        if cell.len() > MAX_HEADER_CELL + 2 {
            return None;
        }
        if wanted > 0 && may_name_column(cell) && column(cell).is_some() {
            wanted -= 1;
        }
    }
    if wanted > 0 {
        return None;
    }
    let columns: Vec<Option<Column>> = cells(line, delimiter).into_iter().map(|(s, e)| column(&line[s..e])).collect();
    (columns.len() >= 2).then_some((delimiter, columns))
}

/// `appt id`, `claim number`, `employee no` (as [`column_name`] writes them): a word and an identifier's mark.
fn is_id_header(header: &[u8]) -> bool {
    const NOT_PHI: &[&[u8]] = &[
        b"room",
        b"bed",
        b"lot",
        b"batch",
        b"page",
        b"line",
        b"item",
        b"order",
        b"payer",
        b"ndc",
        b"cpt",
        b"icd",
        b"code",
        b"version",
        b"model",
        b"part",
        b"catalog",
        b"ref",
        b"step",
        b"question",
        b"row",
        b"seq",
        b"sequence",
        b"test",
        b"panel",
        b"form",
        b"rev",
        b"revenue",
        b"pos",
        b"place",
        b"tooth",
        b"site",
    ];
    const MARKS: [&[u8]; 5] = [b"id", b"number", b"no", b"num", b"nbr"];
    // Every mark ends the header: most headers end in none, and are not split.
    if !MARKS.iter().any(|m| header.ends_with(m)) {
        return false;
    }
    let Some(space) = header.iter().rposition(|&c| c == b' ') else { return header == b"id" };
    let (word, mark) = (&header[..space], &header[space + 1..]);
    MARKS.contains(&mark) && !word.is_empty() && !NOT_PHI.contains(&word.rsplit(|&c| c == b' ').next().unwrap_or(word))
}

/// A header cell as [`column_type`] reads it, written into `buf` without allocating: lower case, without quotes,
/// `_ - . #` and tabs as spaces, one space between words, no white space at either end (at most `buf.len()` bytes).
fn column_name<'b>(cell: &str, buf: &'b mut [u8; MAX_HEADER_CELL + 2]) -> Option<&'b [u8]> {
    // An ASCII cell (nearly every one) is trimmed as bytes, and its name, ASCII too, is not checked to be UTF-8: the
    // chars `str::trim` decodes, its quote pattern and the check cost more than the copy. ASCII white space is what
    // `char::is_whitespace` says of an ASCII char (with the vertical tab, which `u8::is_ascii_whitespace` leaves out).
    let white = |c: &u8| matches!(c, b'\t'..=b'\r' | b' ');
    let ascii = cell.is_ascii();
    let inner = if ascii {
        let b = cell.as_bytes();
        let start = b.iter().position(|c| !white(c)).unwrap_or(b.len());
        let end = b.iter().rposition(|c| !white(c)).map_or(start, |e| e + 1);
        let mut inner = &b[start..end];
        while let [b'"', rest @ ..] = inner {
            inner = rest;
        }
        while let [rest @ .., b'"'] = inner {
            inner = rest;
        }
        inner
    } else {
        cell.trim().trim_matches('"').as_bytes()
    };
    // Each byte through one table, the last written byte's being a space kept in a flag, and the loop left once the
    // buffer is full (every later byte was skipped): the byte-by-byte tests cost about 28 instructions a byte, and a
    // line with a comma has its cells read here.
    let mut n = 0;
    let mut after_space = true;
    for &c in inner {
        let c = NAME_BYTE[usize::from(c)];
        // One space between words.
        if c == b' ' && after_space {
            continue;
        }
        buf[n] = c;
        n += 1;
        after_space = c == b' ';
        if n == buf.len() {
            break;
        }
    }
    let name = &buf[..n];
    if ascii {
        return Some(&name[..name.iter().rposition(|c| !white(c)).map_or(0, |e| e + 1)]);
    }
    Some(std::str::from_utf8(name).ok()?.trim_end().as_bytes())
}

/// Each byte as [`column_name`] writes it: `_ - . #` and tabs as spaces, ASCII letters in lower case.
const NAME_BYTE: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if matches!(c, b'_' | b'-' | b'.' | b'#' | b'\t') { b' ' } else { c.to_ascii_lowercase() };
        b += 1;
    }
    table
};

/// Header words of an aligned table that name no PHI column (`Result`, `Sex`): with the PHI columns, the whole row
/// must be names of columns for it to be a header.
const OTHER_COLUMNS: &[&[u8]] = &[
    b"sex",
    b"gender",
    b"result",
    b"results",
    b"test",
    b"value",
    b"units",
    b"status",
    b"room",
    b"bed",
    b"dx",
    b"diagnosis",
    b"notes",
    b"note",
    b"comment",
    b"comments",
    b"plan",
    b"type",
    b"race",
    b"language",
    b"reason",
    b"allergies",
    b"location",
    b"unit",
    b"service",
    b"los",
    b"code",
    b"procedure",
    b"medication",
    b"dose",
    b"qty",
    b"amount",
    b"balance",
    b"charge",
    b"payer",
    b"insurance",
    b"time",
    b"flag",
    b"range",
    b"ref range",
    b"reference range",
    b"weight",
    b"height",
];

/// Cells of an aligned line: runs of text separated by two spaces or more (or a tab), as byte ranges.
fn aligned_cells(line: &str) -> Vec<(usize, usize)> {
    AlignedCells { line, at: 0 }.collect()
}

/// The cells [`aligned_cells`] gives, one at a time: [`aligned_header`] stops at the first that names no column
/// (most lines it reads), where the list of them all cost an allocation and a read of the whole line.
struct AlignedCells<'a> {
    line: &'a str,
    at: usize,
}

impl Iterator for AlignedCells<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let b = self.line.as_bytes();
        let mut start = None;
        while self.at < b.len() {
            let i = self.at;
            let wide_gap = b[i] == b'\t' || (b[i] == b' ' && b.get(i + 1).is_some_and(|&c| c == b' ' || c == b'\t'));
            if wide_gap {
                while self.at < b.len() && matches!(b[self.at], b' ' | b'\t') {
                    self.at += 1;
                }
                match start {
                    Some(s) => return Some((s, i)),
                    None => continue,
                }
            }
            if start.is_none() && b[i] != b' ' {
                start = Some(i);
            }
            self.at += 1;
        }
        start.map(|s| (s, self.line.trim_end().len().max(s)))
    }
}

/// The bytes no aligned header holds: digits and `: , | . # "` (one table lookup a byte, where the tests cost about
/// ten instructions a byte).
const NOT_IN_ALIGNED_HEADER: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_digit() || matches!(c, b':' | b',' | b'|' | b'.' | b'#' | b'"');
        b += 1;
    }
    table
};

/// An aligned table's header: two cells or more, each the name of a column, two of them PHI columns; with where each
/// column starts. `line` holds two spaces in a row ([`tables`] reads only such a line here, where its search has found
/// them).
fn aligned_header(line: &str) -> Option<Vec<(usize, Option<Column>)>> {
    if line.len() > MAX_HEADER_BYTES || line.bytes().any(|b| NOT_IN_ALIGNED_HEADER[usize::from(b)]) {
        return None;
    }
    let mut columns = Vec::new();
    let mut buf = [0; MAX_HEADER_CELL + 2];
    for (s, e) in (AlignedCells { line, at: 0 }) {
        let name = column_name(&line[s..e], &mut buf)?;
        match column_type(name) {
            Some(c) => columns.push((s, Some(c))),
            None if OTHER_COLUMNS.contains(&name) => columns.push((s, None)),
            None => return None,
        }
    }
    (columns.len() >= 2 && columns.iter().filter(|(_, c)| c.is_some()).count() >= 2).then_some(columns)
}

/// The PHI of one row of an aligned table: cells in the header's order when there are as many, otherwise each under
/// the column starting at or just after it (a scanned row drifts by a character or two).
fn aligned_row(line: &str, start: usize, columns: &[(usize, Option<Column>)], out: &mut Vec<Candidate>) -> bool {
    let row = aligned_cells(line);
    if row.len() < 2 {
        return false;
    }
    for (n, &(s, e)) in row.iter().enumerate() {
        let column = if row.len() == columns.len() {
            columns[n].1
        } else {
            columns.iter().rev().find(|(at, _)| *at <= s + 2).and_then(|(_, c)| *c)
        };
        if let Some(t) = column.and_then(|c| value_type(c, &line[s..e])) {
            out.push(Candidate { start: start + s, end: start + e, entity_type: t, score: SCORE });
        }
    }
    true
}

/// Where a search from a position found what it looks for (`usize::MAX` for nothing), kept while later positions
/// ask: it is their answer too until they pass it.
struct NextAt<F> {
    found: Option<usize>,
    search: F,
}

impl<F: Fn(usize) -> Option<usize>> NextAt<F> {
    /// `search(from)` gives the offset of the first match in the text from `from`, if any.
    fn new(search: F) -> Self {
        Self { found: None, search }
    }

    /// The first match at or after `from` (at most the text's length), or `usize::MAX`.
    fn at_or_after(&mut self, from: usize) -> usize {
        match self.found {
            Some(at) if at >= from => at,
            _ => {
                let at = (self.search)(from).map_or(usize::MAX, |n| from + n);
                self.found = Some(at);
                at
            }
        }
    }
}

/// A search for two spaces in a row, built once: building the searcher cost more than searching most lines.
static GAP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"  "));

/// Adds the PHI of every table with a header row in `hay`.
pub(crate) fn tables(hay: &str, out: &mut Vec<Candidate>) {
    let b = hay.as_bytes();
    let mut at = 0;
    let mut table: Option<(u8, Vec<Option<Column>>)> = None;
    let mut aligned: Option<Vec<(usize, Option<Column>)>> = None;
    // The next `,`, tab or `|`, and the next two spaces in a row: one search answers for every line up to what it
    // found, where a search per line cost a call for each of the many lines that hold none.
    let mut delimiters = NextAt::new(|from| memchr::memchr3(b',', b'\t', b'|', &b[from..]));
    let mut gaps = NextAt::new(|from| GAP.find(&b[from..]));
    while at < hay.len() {
        // The lines `split_inclusive('\n')` gives, each break found by `memchr`: the split's byte loop cost more than
        // the rest of this pass on most notes.
        let mut end = memchr::memchr(b'\n', &b[at..]).map_or(hay.len(), |n| at + n + 1);
        let mut line = without_break(hay, at, end);
        // Outside a table only a line short enough for a header and holding a delimiter or two spaces in a row can
        // start one: the lines before the next such line are passed over unread.
        if table.is_none() && aligned.is_none() {
            if line.len() > MAX_HEADER_BYTES {
                at = end;
                continue;
            }
            let next = delimiters.at_or_after(at).min(gaps.at_or_after(at));
            if next >= end {
                if next >= hay.len() {
                    break;
                }
                at = memchr::memrchr(b'\n', &b[at..next]).map_or(at, |n| at + n + 1);
                end = memchr::memchr(b'\n', &b[next..]).map_or(hay.len(), |n| next + n + 1);
                line = without_break(hay, at, end);
            }
        }
        let start = at;
        at = end;
        if let Some(columns) = &aligned {
            if aligned_row(line, start, columns, out) {
                continue;
            }
            aligned = None;
        }
        if let Some((delimiter, columns)) = &table {
            let row = cells(line, *delimiter);
            if row.len() == columns.len() && !line.trim().is_empty() {
                for (&(s, e), column) in row.iter().zip(columns) {
                    if let Some(t) = column.and_then(|c| value_type(c, &line[s..e])) {
                        out.push(Candidate { start: start + s, end: start + e, entity_type: t, score: SCORE });
                    }
                }
                continue;
            }
            table = None;
        }
        // A longer line is no header ([`aligned_header`]): it is not searched. Two spaces found in the line's span are
        // both in it: the line's end is the text's or a line break.
        if line.len() <= MAX_HEADER_BYTES {
            let first = delimiters.at_or_after(start);
            if first < start + line.len() {
                table = header(line, first - start);
            }
        }
        if table.is_none() && line.len() <= MAX_HEADER_BYTES && gaps.at_or_after(start) < start + line.len() {
            aligned = aligned_header(line);
        }
    }
}

/// The line `hay[start..end]` without the `\n` and `\r` it ends with, as `trim_end_matches(['\n', '\r'])` gives it
/// (both are ASCII: read as bytes, without a char searcher).
fn without_break(hay: &str, start: usize, mut end: usize) -> &str {
    while end > start && matches!(hay.as_bytes()[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &hay[start..end]
}

/// The type of one value under a column, if it is PHI there.
fn value_type(column: Column, value: &str) -> Option<EntityType> {
    if !value.chars().any(char::is_alphanumeric) {
        return None;
    }
    match column {
        Column::Age => value.parse::<u32>().ok().filter(|a| (90..=125).contains(a)).map(|_| EntityType::AgeOver89),
        Column::Plain(EntityType::Date) => value.bytes().any(|b| b.is_ascii_digit()).then_some(EntityType::Date),
        Column::Plain(t) => Some(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        tables(text, &mut out);
        out.iter().map(|c| (c.entity_type, &text[c.start..c.end])).collect()
    }

    #[test]
    fn every_name_of_a_column_ends_in_one_of_the_last_words() {
        // The names are read from `column_type`'s source, so that one added there without its last word fails here.
        let source = include_str!("table.rs");
        let body = &source[source.find("fn column_type(").expect("column_type")..];
        let body = &body[..body.find("\n}\n").expect("its end")];
        // Each `b"` that opens a byte string (not the `b` of `dob` before its closing quote).
        let names: Vec<&str> = body
            .match_indices("b\"")
            .filter(|&(at, _)| !body.as_bytes()[at - 1].is_ascii_alphanumeric())
            .filter_map(|(at, _)| body[at + 2..].split('"').next())
            .collect();
        assert!(names.len() > 100, "{names:?}");
        for name in names {
            assert!(column_type(name.as_bytes()).is_some(), "{name}");
            let last = name.rsplit(' ').next().unwrap_or(name);
            assert!(COLUMN_LAST_WORDS.contains(&last.as_bytes()), "{name}");
            assert!(may_name_column(name) && may_name_column(&name.to_uppercase()), "{name}");
        }
        assert!(COLUMN_LAST_WORDS.is_sorted());
    }

    #[test]
    fn a_cell_turned_away_by_its_last_word_names_no_column() {
        let words = [
            "Patient",
            "name",
            "DOB",
            "mrn",
            "Dear",
            "Dr.",
            "Heidrick",
            "appt",
            "ID",
            "no",
            "claim",
            "number",
            "x1",
            "address1",
            "Zip",
            "Code",
            "e-mail",
            "caf\u{e9}",
            "age",
            "ph#",
            "",
            "1",
            "room",
            "lot",
        ];
        let joints = [" ", "  ", "_", "-", ".", "#", "\t", "\"", " \"", "\u{b}", "\r", "\u{a0}", "", "/"];
        let mut cells = Vec::new();
        for a in words {
            for j in joints {
                for b in words {
                    for k in joints {
                        cells.push(format!("{k}{a}{j}{b}{k}"));
                        cells.push(format!("{a}{j}{b}{k}{j}"));
                        cells.push(format!("{j}{k}{a}{k}{b}"));
                    }
                }
            }
        }
        let mut turned_away = 0;
        for cell in &cells {
            if !may_name_column(cell) {
                turned_away += 1;
                let mut buf = [0; MAX_HEADER_CELL + 2];
                let name = column_name(cell, &mut buf);
                assert!(name.and_then(column_type).is_none(), "{cell:?} {name:?}");
            }
        }
        assert!(turned_away > cells.len() / 3, "{turned_away} of {}", cells.len());
    }

    #[test]
    fn a_column_named_for_an_identifier_holds_identifiers_but_room_and_lot_numbers_do_not() {
        let text = "appt_id,room_number,lot_no,patient,dob\nA-558102,4412,K7O112,\"Lane, Harold\",1950-02-03\n";
        let got = found(text);
        assert!(got.contains(&(EntityType::OtherId, "A-558102")), "{got:?}");
        assert!(got.iter().all(|(_, v)| !matches!(*v, "4412" | "K7O112")), "{got:?}");
        assert!(is_id_header(b"employee no") && is_id_header(b"claim number") && !is_id_header(b"payer id"));
    }

    #[test]
    fn a_csv_export_types_each_value_by_its_column() {
        let text = "patient_id,last_name,first_name,dob,sex,zip,phone,dx_code,age\n\
                    884103,Oyelowo,Chukwuemeka,1968-11-05,M,53208,414-555-0187,I10,57\n\
                    884104,\"Lindqvist, Jr\",Sven,1929-07-14,M,53122,,J44.9,94\n";
        let got = found(text);
        for expected in [
            (EntityType::Mrn, "884103"),
            (EntityType::Person, "Oyelowo"),
            (EntityType::Person, "Chukwuemeka"),
            (EntityType::Date, "1968-11-05"),
            (EntityType::Zip, "53208"),
            (EntityType::Phone, "414-555-0187"),
            (EntityType::Person, "Lindqvist, Jr"),
            (EntityType::AgeOver89, "94"),
        ] {
            assert!(got.contains(&expected), "{expected:?} not in {got:?}");
        }
        // Sex, diagnosis codes, an age under 90 and the empty phone are not PHI; the header is not data.
        assert!(got.iter().all(|(_, v)| !matches!(*v, "M" | "I10" | "J44.9" | "57" | "" | "dob")), "{got:?}");
    }

    #[test]
    fn a_tab_separated_table_ends_at_a_line_of_another_shape() {
        let text = "Encounter ID\tPatient\tAttending\tAdmit\tLOS\n\
                    E-2023-44102\tRamirez Gutierrez, Maria Fernanda\tWeiss, Jonathan\t09/01/2023\t4\n\
                    \n\
                    Notes: Smith\tJones\tBrown\tGreen\tWhite\n";
        let got = found(text);
        assert_eq!(
            got,
            vec![
                (EntityType::AccountNumber, "E-2023-44102"),
                (EntityType::Person, "Ramirez Gutierrez, Maria Fernanda"),
                (EntityType::Person, "Weiss, Jonathan"),
                (EntityType::Date, "09/01/2023"),
            ]
        );
    }

    #[test]
    fn a_table_aligned_with_spaces_types_each_value_by_its_column() {
        let text = "PATIENT NAME         DOB          AGE\n\
                    ABERNATHY, RUTH      01/15/1929   94\n\
                    BLACK, TOM           06/30/1970   53\n\
                    \n\
                    Patient   Date        Result\n\
                    Kim, S.   O2/11/2O23   Na 14O  K 4.l  Cr l.2\n";
        let got = found(text);
        assert_eq!(
            got,
            vec![
                (EntityType::Person, "ABERNATHY, RUTH"),
                (EntityType::Date, "01/15/1929"),
                (EntityType::AgeOver89, "94"),
                (EntityType::Person, "BLACK, TOM"),
                (EntityType::Date, "06/30/1970"),
                (EntityType::Person, "Kim, S."),
                (EntityType::Date, "O2/11/2O23"),
            ]
        );
    }

    #[test]
    fn a_form_line_with_values_is_not_an_aligned_header() {
        for text in [
            "Name   Elizabeth   Warren-Hayes          DOB   O7/O4/1948\nSmith  Jones  Brown",
            "Name  Jane Doe   City  Boston\nSmith  Jones",
            "Plan  continue  metformin\nPatient  stable",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn prose_with_commas_is_not_a_header() {
        for text in [
            "Patient, a 54-year-old man, reports pain, nausea and fever.\nHe, too, was seen.",
            "Name, DOB and MRN were verified with the patient.",
            "BP|120/80",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
