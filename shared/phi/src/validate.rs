//! Check digits and structural rules that turn a pattern match into a confident detection.
//!
//! Hand-written: each is a few lines of arithmetic over a published algorithm, with no maintained crate covering the
//! set (Luhn, ISO 13616 mod-97, SSA area/group rules, CMS MBI layout, DEA checksum, ISO 3779 VIN check digit).

use std::net::{Ipv4Addr, Ipv6Addr};

fn digits(s: &str) -> impl Iterator<Item = u32> + '_ {
    s.bytes().filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0'))
}

/// The digits of `s` in an array and their count, or `None` if it holds more than `N`: on the stack, because every
/// SSN- and phone-shaped candidate is checked (a `Vec` was an allocation each).
fn digit_array<const N: usize>(s: &str) -> Option<([u32; N], usize)> {
    let mut d = [0u32; N];
    let mut n = 0;
    for digit in digits(s) {
        *d.get_mut(n)? = digit;
        n += 1;
    }
    Some((d, n))
}

/// Luhn (mod 10) check of the digits of `s`, for payment card numbers of 13 to 19 digits with a known issuer prefix.
pub fn is_payment_card(s: &str) -> bool {
    let n = digits(s).count();
    if !(13..=19).contains(&n) {
        return false;
    }
    let first2: u32 = digits(s).take(2).fold(0, |a, d| a * 10 + d);
    let first4: u32 = digits(s).take(4).fold(0, |a, d| a * 10 + d);
    let issuer = first2 / 10 == 4
        || (51..=55).contains(&first2)
        || (2221..=2720).contains(&first4)
        || first2 == 34
        || first2 == 37
        || first4 == 6011
        || first2 == 65
        || first2 == 35
        || first2 == 36
        || first2 == 30
        || first2 == 38
        || first2 == 62;
    issuer && luhn(s)
}

/// Luhn check over the ASCII digits of `s`.
pub fn luhn(s: &str) -> bool {
    luhn_from_last(s.bytes().rev())
}

/// Luhn check over the ASCII digits among `bytes`, last digit first (read backwards: no list of the digits to turn).
fn luhn_from_last(bytes: impl Iterator<Item = u8>) -> bool {
    let mut sum = 0;
    let mut count = 0;
    for (i, d) in bytes.filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0')).enumerate() {
        count += 1;
        sum += if i % 2 == 1 {
            let x = d * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            d
        };
    }
    count > 1 && sum % 10 == 0
}

/// GS1 GTIN check digit (GTIN-8/12/13/14): weights 3 and 1 alternate from the digit before the check digit leftward.
pub fn is_gtin(s: &str) -> bool {
    let d: Vec<u32> = digits(s).collect();
    if d.len() != s.len() || ![8, 12, 13, 14].contains(&d.len()) {
        return false;
    }
    let (body, check) = d.split_at(d.len() - 1);
    let sum: u32 = body.iter().rev().enumerate().map(|(i, x)| if i % 2 == 0 { x * 3 } else { *x }).sum();
    (10 - sum % 10) % 10 == check[0]
}

/// IBAN: country letters, two check digits, 11-30 alphanumerics, mod-97 remainder 1 (ISO 13616).
pub fn is_iban(s: &str) -> bool {
    let compact: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace() && *b != b'-').collect();
    if !(15..=34).contains(&compact.len())
        || !compact[..2].iter().all(u8::is_ascii_alphabetic)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
        || !compact.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let mut remainder: u32 = 0;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            _ => u32::from(b.to_ascii_uppercase() - b'A') + 10,
        };
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    remainder == 1
}

/// SSN rules of the Social Security Administration: area not 000, 666 or 900-999; group not 00; serial not 0000.
pub fn is_ssn(s: &str) -> bool {
    let Some((d, 9)) = digit_array::<9>(s) else { return false };
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let group = d[3] * 10 + d[4];
    let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !d.iter().all(|&x| x == d[0])
}

/// Medicare Beneficiary Identifier layout (CMS): `C A AN N A AN N A A N N`, letters excluding S, L, O, I, B, Z.
pub fn is_mbi(s: &str) -> bool {
    let c: Vec<u8> = s.bytes().filter(|b| *b != b'-' && *b != b' ').map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 11 {
        return false;
    }
    let alpha = |b: u8| b.is_ascii_uppercase() && !b"SLOIBZ".contains(&b);
    let num = |b: u8| b.is_ascii_digit();
    let alnum = |b: u8| alpha(b) || num(b);
    (b'1'..=b'9').contains(&c[0])
        && alpha(c[1])
        && alnum(c[2])
        && num(c[3])
        && alpha(c[4])
        && alnum(c[5])
        && num(c[6])
        && alpha(c[7])
        && alpha(c[8])
        && num(c[9])
        && num(c[10])
}

/// DEA registration number: two letters, seven digits, last digit = (d1+d3+d5 + 2*(d2+d4+d6)) mod 10.
pub fn is_dea(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 9 || !b[0].is_ascii_alphabetic() || !(b[1].is_ascii_alphabetic() || b[1] == b'9') {
        return false;
    }
    if !b"ABCDEFGHJKLMPRSTUX".contains(&b[0].to_ascii_uppercase()) || !b[2..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: Vec<u32> = b[2..].iter().map(|x| u32::from(x - b'0')).collect();
    (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
}

/// National Provider Identifier (45 CFR 162.406): ten digits starting with 1 or 2 whose last is the Luhn check digit
/// of the card-issuer prefix `80840` and the first nine.
pub fn is_npi(s: &str) -> bool {
    let b = s.as_bytes();
    // The prefix is read after the number's own digits (backwards), not written in front of them into a new string.
    b.len() == 10
        && matches!(b[0], b'1' | b'2')
        && b.iter().all(u8::is_ascii_digit)
        && luhn_from_last(b.iter().rev().chain(b"80840".iter().rev()).copied())
}

/// VIN (ISO 3779 / 49 CFR 565): 17 characters without I, O, Q, with the North American check digit in position 9.
pub fn is_vin(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let mut sum = 0;
    let mut letters = 0;
    for (i, &raw) in b.iter().enumerate() {
        let ch = raw.to_ascii_uppercase();
        let value = match ch {
            b'0'..=b'9' => u32::from(ch - b'0'),
            b'I' | b'O' | b'Q' => return false,
            b'A'..=b'H' => {
                letters += 1;
                u32::from(ch - b'A') + 1
            }
            b'J'..=b'R' => {
                letters += 1;
                u32::from(ch - b'J') + 1
            }
            _ => {
                letters += 1;
                u32::from(ch - b'S') + 2
            }
        };
        sum += value * WEIGHTS[i];
    }
    let check = sum % 11;
    let expected = if check == 10 { b'X' } else { b'0' + check as u8 };
    letters > 0 && b[8].to_ascii_uppercase() == expected
}

/// A real calendar date (leap years included); `year` may be two-digit.
pub fn is_calendar_date(year: Option<u32>, month: u32, day: u32) -> bool {
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = match year {
        None => true,
        Some(y) if y < 100 => y % 4 == 0,
        Some(y) => (y % 4 == 0 && y % 100 != 0) || y % 400 == 0,
    };
    let max = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if let Some(y) = year
        && y >= 100
        && !(1850..=2150).contains(&y)
    {
        return false;
    }
    day <= max
}

/// The English month names, lower case, January first.
pub(crate) const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Month number for an English month name or abbreviation (any case, trailing dot allowed).
pub fn month_number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    // Compared without lower-casing into a new string: every written date is read here.
    if w.eq_ignore_ascii_case("sept") {
        return Some(9);
    }
    // Each month has its own first three letters: the month is found by them, then the whole word compared with its
    // name (`c | 0x20` is a lower-case letter only for that letter in either case).
    let w = w.as_bytes();
    let head = [w[0] | 0x20, w[1] | 0x20, w[2] | 0x20];
    let i = MONTHS.iter().position(|m| m.as_bytes()[..3] == head)?;
    (w.len() == 3 || MONTHS[i].as_bytes().eq_ignore_ascii_case(w)).then_some(i as u32 + 1)
}

/// `text`'s value as `str::parse::<u32>` reads it: one to nine ASCII digits (every number of a date) by a fold,
/// inlined, anything else by the parser (a sign, an overflow), out of line.
#[inline]
pub(crate) fn parse_u32(text: &str) -> Option<u32> {
    #[cold]
    #[inline(never)]
    fn parsed(text: &str) -> Option<u32> {
        text.parse().ok()
    }
    let b = text.as_bytes();
    if (1..=9).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        Some(b.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
    } else {
        parsed(text)
    }
}

/// Numeric date (`03/14/1962`, `14.03.62`, `1962-03-14`) that is a real calendar day in some common order.
pub fn is_numeric_date(s: &str) -> bool {
    // At most three parts, on the stack: every date-shaped match is checked. A fourth part, or one that is no
    // number, makes no date.
    // The parts of `str::split` at `/`, `-` and `.`, found by bytes (they are ASCII): the char-set split decoded every
    // char.
    let (mut parts, mut nums, mut n) = ([""; 3], [0u32; 3], 0);
    let b = s.as_bytes();
    let mut from = 0;
    loop {
        let to = b[from..].iter().position(|c| matches!(c, b'/' | b'-' | b'.')).map_or(b.len(), |p| from + p);
        if n == 3 {
            return false;
        }
        let part = &s[from..to];
        let Some(num) = parse_u32(part) else { return false };
        (parts[n], nums[n]) = (part, num);
        n += 1;
        if to == b.len() {
            break;
        }
        from = to + 1;
    }
    match (&parts[..n], &nums[..n]) {
        ([a, _, _], [y, m, d]) if a.len() == 4 => is_calendar_date(Some(*y), *m, *d),
        ([_, _, c], [x, y, year]) if c.len() == 4 || c.len() == 2 => {
            is_calendar_date(Some(*year), *x, *y) || is_calendar_date(Some(*year), *y, *x)
        }
        ([_, _], [m, d]) => is_calendar_date(None, *m, *d),
        _ => false,
    }
}

pub fn is_ipv4(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

pub fn is_ipv6(s: &str) -> bool {
    // The address before a zone (`%eth0`), by bytes: `str::split` and `str::contains` set up a char searcher each.
    let a = &s[..s.bytes().position(|c| c == b'%').unwrap_or(s.len())];
    a.bytes().any(|c| c == b':') && a.parse::<Ipv6Addr>().is_ok()
}

/// E-mail address per the RFC 5321 dot-atom subset used in practice: local part, `@`, dotted domain with a TLD.
pub fn is_email(s: &str) -> bool {
    // By bytes: `str::rsplit_once` set up a reverse char searcher for each address (`@` is ASCII, so it splits on
    // char boundaries).
    let Some(at) = s.bytes().rposition(|c| c == b'@') else {
        return false;
    };
    let (local, domain) = (&s.as_bytes()[..at], &s[at + 1..]);
    // One pass over the local part, a table load for each byte, with no two dots in a row (every e-mail match is
    // checked here; a pass for the dots and one for the bytes cost twice the loop).
    let mut previous = 0;
    let no_two_dots_and_atext = |c: &u8| {
        let ok = LOCAL_PART[usize::from(*c)] && !(*c == b'.' && previous == b'.');
        previous = *c;
        ok
    };
    let local_ok = (1..=64).contains(&local.len())
        && local[0] != b'.'
        && local[local.len() - 1] != b'.'
        && local.iter().all(no_two_dots_and_atext);
    local_ok && is_hostname(domain, true)
}

/// The bytes of an e-mail address's local part: ASCII letters and digits, `.` and ``!#$%&'*+/=?^_`{|}~-``.
static LOCAL_PART: [bool; 256] = {
    let mut table = [false; 256];
    let others = b"!#$%&'*+/=?^_`{|}~.-";
    let mut c = 0;
    while c < 256 {
        table[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

/// DNS host name: labels of letters, digits and inner hyphens; with `need_tld`, at least two labels and an
/// alphabetic top-level label.
pub fn is_hostname(host: &str, need_tld: bool) -> bool {
    // One pass over the bytes, a table load for each, and each label checked at the dot or end after it, keeping only
    // the count and the last one: every e-mail address's domain and URL-shaped token is checked, and a split into
    // labels (a closure call for each byte, then a second pass over each label's bytes) cost about a fifth of the
    // e-mail's check.
    let b = host.as_bytes();
    if b.len() > 253 {
        return false;
    }
    let (mut count, mut start, mut last): (usize, usize, &[u8]) = (0, 0, b"");
    for i in 0..=b.len() {
        match b.get(i) {
            Some(b'.') | None => {
                let label = &b[start..i];
                if label.is_empty() || label.len() > 63 || label[0] == b'-' || label[label.len() - 1] == b'-' {
                    return false;
                }
                count += 1;
                last = label;
                start = i + 1;
            }
            Some(&c) if !HOST_BYTE[usize::from(c)] => return false,
            Some(_) => {}
        }
    }
    !need_tld || (count >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic))
}

/// The bytes of a host name's labels: ASCII letters and digits and `-`.
static HOST_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = (c as u8).is_ascii_alphanumeric() || c as u8 == b'-';
        c += 1;
    }
    table
};

/// NANP telephone number: area code and exchange both start with 2-9 (optional leading country code 1).
pub fn is_nanp_phone(s: &str) -> bool {
    let Some((d, n)) = digit_array::<11>(s) else { return false };
    let d = match n {
        10 => &d[..10],
        11 if d[0] == 1 => &d[1..],
        _ => return false,
    };
    d[0] >= 2 && d[3] >= 2 && !(d[1] == 1 && d[2] == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// [`is_hostname`] as its rule reads: the labels of a split at every `.`.
    fn hostname_by_labels(host: &str, need_tld: bool) -> bool {
        let labels: Vec<&str> = host.split('.').collect();
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        let last = labels[labels.len() - 1];
        let tld_ok =
            !need_tld || (labels.len() >= 2 && last.len() >= 2 && last.bytes().all(|b| b.is_ascii_alphabetic()));
        labels.iter().all(|l| label_ok(l)) && tld_ok && host.len() <= 253
    }

    proptest! {
        #[test]
        fn host_names_checked_in_one_pass_are_those_of_their_labels(
            host in "([a-c0-9]{0,3}|-|\\.|_|é|x{64}){0,8}",
            need_tld in any::<bool>(),
        ) {
            prop_assert_eq!(is_hostname(&host, need_tld), hostname_by_labels(&host, need_tld));
        }
    }

    #[test]
    fn npi_check_digit() {
        // CMS's worked example: 123456789 with prefix 80840 gives check digit 3.
        assert!(is_npi("1234567893"));
        assert!(!is_npi("1234567890"));
        assert!(!is_npi("3234567893"));
        assert!(!is_npi("123456789"));
    }

    #[test]
    fn gtin_check_digit_accepts_gs1_examples_and_rejects_a_changed_digit() {
        // GS1's GTIN-13 example 629104150021 -> 3, and a GTIN-14 from an implant's UDI label.
        assert!(is_gtin("6291041500213"));
        assert!(is_gtin("00810045210049"));
        assert!(!is_gtin("00810045210048"));
        assert!(!is_gtin("0081004521004x"));
    }

    #[test]
    fn luhn_accepts_test_card_numbers_and_rejects_a_changed_digit() {
        assert!(is_payment_card("4111 1111 1111 1111"));
        assert!(is_payment_card("378282246310005"));
        assert!(!is_payment_card("4111 1111 1111 1112"));
    }

    #[test]
    fn iban_mod97_accepts_valid_and_rejects_altered() {
        assert!(is_iban("GB82 WEST 1234 5698 7654 32"));
        assert!(is_iban("DE89370400440532013000"));
        assert!(!is_iban("GB82 WEST 1234 5698 7654 33"));
    }

    #[test]
    fn ssn_rules_reject_impossible_areas_groups_and_serials() {
        assert!(is_ssn("123-45-6789"));
        for bad in ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000", "111-11-1111"] {
            assert!(!is_ssn(bad), "{bad}");
        }
    }

    #[test]
    fn mbi_layout_follows_cms() {
        assert!(is_mbi("1EG4-TE5-MK73"));
        assert!(is_mbi("1EG4TE5MK73"));
        assert!(!is_mbi("1EG4-TE5-MK7A"));
        assert!(!is_mbi("0EG4-TE5-MK73"));
        assert!(!is_mbi("1SG4-TE5-MK73"));
    }

    #[test]
    fn dea_checksum() {
        assert!(is_dea("AB1234563"));
        assert!(!is_dea("AB1234564"));
    }

    #[test]
    fn vin_check_digit() {
        assert!(is_vin("1HGCM82633A004352"));
        assert!(!is_vin("11111111111111111"));
        assert!(!is_vin("1HGCM82643A004352"));
    }

    #[test]
    fn numeric_dates_must_be_real_days() {
        assert!(is_numeric_date("02/29/2020"));
        assert!(!is_numeric_date("02/29/2021"));
        assert!(is_numeric_date("1962-03-14"));
        assert!(is_numeric_date("14.03.62"));
        assert!(!is_numeric_date("128/82"));
        assert!(!is_numeric_date("13/13/2020"));
    }

    #[test]
    fn parse_u32_reads_what_str_parse_reads() {
        for text in ["", "0", "007", "+5", "-1", "12a", " 1", "123456789", "999999999", "1234567890", "4294967296"] {
            assert_eq!(parse_u32(text), text.parse().ok(), "{text:?}");
        }
    }

    #[test]
    fn month_names_and_abbreviations() {
        assert_eq!(month_number("SEPT."), Some(9));
        assert_eq!(month_number("Jan"), Some(1));
        assert_eq!(month_number("marc"), None);
        assert_eq!(month_number("december"), Some(12));
        assert_eq!(month_number("MAY"), Some(5));
        assert_eq!(month_number("mayo"), None);
        assert_eq!(month_number("Ma@"), None);
        assert_eq!(month_number("augustus"), None);
    }

    #[test]
    fn ip_addresses_parse() {
        assert!(is_ipv4("172.21.47.165"));
        assert!(!is_ipv4("256.1.1.1"));
        assert!(is_ipv6("2001:db8::1"));
        assert!(!is_ipv6("10:30:45"));
    }

    #[test]
    fn email_grammar() {
        assert!(is_email("jane.doe+x@example.org"));
        assert!(!is_email("jane..doe@example.org"));
        assert!(!is_email("jane@localhost"));
        assert!(is_email("a=b{c}~d@example.org"));
        for not_one in
            [".jane@example.org", "jane.@example.org", "@example.org", "ja\"ne@example.org", "jäne@example.org"]
        {
            assert!(!is_email(not_one), "{not_one:?}");
        }
        assert!(is_email(&format!("{}@example.org", "a".repeat(64))));
        assert!(!is_email(&format!("{}@example.org", "a".repeat(65))));
    }

    #[test]
    fn nanp_phone_rules() {
        assert!(is_nanp_phone("(415) 555-0134"));
        assert!(is_nanp_phone("+1 415 555 0134"));
        assert!(!is_nanp_phone("115-555-0134"));
        assert!(!is_nanp_phone("415-155-0134"));
        assert!(!is_nanp_phone("2415-555-0134"), "eleven digits need the country code 1");
        assert!(!is_nanp_phone("1 415 555 0134 9"), "twelve digits");
        assert!(!is_nanp_phone("415-555-013"));
    }

    #[test]
    fn hostnames_need_well_formed_labels_and_a_letter_tld_when_asked() {
        assert!(is_hostname("portal.example.org", true));
        assert!(is_hostname("localhost", false));
        assert!(!is_hostname("localhost", true));
        assert!(!is_hostname("example.c0m", true));
        assert!(is_hostname("example.c0m", false));
        assert!(!is_hostname("a..b.org", false));
        assert!(!is_hostname("-a.example.org", false));
        assert!(!is_hostname("a-.example.org", false));
        assert!(!is_hostname(&format!("{}.org", "a".repeat(64)), true));
        assert!(is_hostname(&format!("{}.org", "a".repeat(63)), true));
        assert!(!is_hostname(&vec!["abc"; 64].join("."), false), "longer than 253 bytes");
        assert!(!is_hostname("", false));
    }
}
