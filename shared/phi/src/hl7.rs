//! HL7 v2 segments (`PID|1||123456^^^MRN||DOE^JOHN^A||19620314|M`): their PHI sits in known fields, where names are
//! joined by `^` and dates are compact (`19620314`), so no word or shape rule reads them. Each segment line is parsed
//! by the `hl7-parser` crate (byte ranges for every field and component) and the fields the standard defines as
//! names, addresses, telephone numbers, dates and identifiers become candidates.
//!
//! Segments are found line by line, so a message pasted into a note, one cut short, or one segment alone is read too;
//! `MSH` sets the separators for the lines after it.

use std::ops::RangeInclusive;

use hl7_parser::message::{Field, Repeat, Separators};
use hl7_parser::parser::{parse_msh, parse_segment_with_separators};

use crate::detect::Candidate;
use crate::entity::EntityType;

/// Score of a value in a field the standard defines: higher than any word or shape rule's reading of the same text.
const SCORE: f32 = 0.95;

/// The kind of value a field holds (HL7 v2 data types).
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// XPN: family name, given name, middle name (components 1 to 3).
    Name,
    /// XCN, CNN: an identifier, then family, given and middle name (components 2 to 4).
    Clinician,
    /// XAD: street and other designation, city (3), ZIP or postal code (5).
    Address,
    /// XTN: the formatted number (1), e-mail (4), area code and local number (6, 7).
    Phone,
    /// TS, DT, DTM: `YYYYMMDD[HHMM[SS]]`; a year alone (`YYYY`) is not PHI.
    Date,
    /// CX, ST: the identifier (component 1).
    Id(EntityType),
}

/// The PHI-bearing fields of each segment, by field number.
fn fields_of(segment: &str) -> &'static [(usize, Kind)] {
    use EntityType::{AccountNumber, HealthPlanId, LicenseNumber, Mrn, Ssn};
    use Kind::{Address, Clinician, Date, Id, Name, Phone};
    match segment {
        "MSH" => &[(7, Date)],
        "EVN" => &[(2, Date), (6, Date)],
        "PID" => &[
            (2, Id(Mrn)),
            (3, Id(Mrn)),
            (4, Id(Mrn)),
            (5, Name),
            (6, Name),
            (7, Date),
            (9, Name),
            (11, Address),
            (13, Phone),
            (14, Phone),
            (18, Id(AccountNumber)),
            (19, Id(Ssn)),
            (20, Id(LicenseNumber)),
            (29, Date),
        ],
        "PD1" => &[(4, Clinician)],
        "MRG" => &[(1, Id(Mrn)), (3, Id(AccountNumber)), (7, Name)],
        "NK1" => &[
            (2, Name),
            (4, Address),
            (5, Phone),
            (6, Phone),
            (16, Date),
            (30, Name),
            (31, Phone),
            (32, Address),
            (37, Id(Ssn)),
        ],
        "PV1" => &[
            (7, Clinician),
            (8, Clinician),
            (9, Clinician),
            (17, Clinician),
            (19, Id(AccountNumber)),
            (44, Date),
            (45, Date),
            (52, Clinician),
        ],
        "PV2" => &[(8, Date), (9, Date)],
        "GT1" => &[(2, Id(AccountNumber)), (3, Name), (5, Address), (6, Phone), (7, Phone), (8, Date), (12, Id(Ssn))],
        "IN1" => &[(16, Name), (18, Date), (19, Address), (36, Id(HealthPlanId)), (49, Id(HealthPlanId))],
        "IN2" => &[(2, Id(Ssn)), (6, Id(HealthPlanId)), (8, Id(HealthPlanId))],
        "ORC" => &[(9, Date), (10, Clinician), (11, Clinician), (12, Clinician), (15, Date)],
        // The placer and filler order numbers are accession numbers.
        "OBR" => &[
            (2, Id(AccountNumber)),
            (3, Id(AccountNumber)),
            (6, Date),
            (7, Date),
            (8, Date),
            (14, Date),
            (16, Clinician),
            (22, Date),
            (32, Clinician),
            (34, Clinician),
        ],
        "OBX" => &[(14, Date), (16, Clinician), (19, Date)],
        "DG1" => &[(5, Date), (16, Clinician)],
        "AL1" => &[(6, Date)],
        "SPM" => &[(2, Id(AccountNumber)), (17, Date), (18, Date)],
        "RXA" => &[(3, Date), (4, Date), (10, Clinician)],
        "TXA" => &[(4, Date), (5, Clinician), (9, Clinician), (22, Clinician)],
        _ => &[],
    }
}

/// Whether a line starts like a segment: three upper-case letters or digits (the first a letter), then `|`.
fn is_segment(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 4
        && b[0].is_ascii_uppercase()
        && b[1..3].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[3] == b'|'
}

/// Adds the PHI of every HL7 v2 segment line of `hay`.
pub(crate) fn segments(hay: &str, out: &mut Vec<Candidate>) {
    if memchr::memchr(b'|', hay.as_bytes()).is_none() {
        return;
    }
    let mut separators = Separators::default();
    let mut at = 0;
    for line in hay.split_inclusive(['\n', '\r']) {
        let start = at;
        at += line.len();
        let line = line.trim_end_matches(['\n', '\r']);
        if !is_segment(line) {
            continue;
        }
        let segment = if line.starts_with("MSH") {
            match parse_msh(line) {
                Ok((seps, segment)) => {
                    separators = seps;
                    segment
                }
                Err(_) => continue,
            }
        } else {
            match parse_segment_with_separators(line, separators) {
                Ok(segment) => segment,
                Err(_) => continue,
            }
        };
        for &(number, kind) in fields_of(segment.name) {
            if let Some(field) = segment.field(number) {
                field_values(line, field, kind, &mut |s, e, t| {
                    out.push(Candidate { start: start + s, end: start + e, entity_type: t, score: SCORE });
                });
            }
        }
    }
}

/// Calls `emit` with the byte span (in `line`) and type of each value of `field`, one per repetition.
fn field_values(line: &str, field: &Field<'_>, kind: Kind, emit: &mut impl FnMut(usize, usize, EntityType)) {
    for repeat in field.repeats() {
        let mut put = |components: RangeInclusive<usize>, t: EntityType| {
            if let Some((s, e)) = span_of(repeat, components).and_then(|(s, e)| trimmed(line, s, e)) {
                // A year alone (`1952` of a date field) is not PHI.
                if !matches!(kind, Kind::Date) || line[s..e].bytes().take_while(u8::is_ascii_digit).count() >= 6 {
                    emit(s, e, t);
                }
            }
        };
        match kind {
            Kind::Name => put(1..=3, EntityType::Person),
            Kind::Clinician => put(2..=4, EntityType::Person),
            Kind::Address => {
                put(1..=2, EntityType::Address);
                put(3..=3, EntityType::City);
                put(5..=5, EntityType::Zip);
            }
            Kind::Phone => {
                put(1..=1, EntityType::Phone);
                put(4..=4, EntityType::Email);
                put(6..=7, EntityType::Phone);
            }
            Kind::Date => put(1..=1, EntityType::Date),
            Kind::Id(t) => put(1..=1, t),
        }
    }
}

/// `s..e` without white space at either end, when a letter or digit remains (`PID|1| A |` gives `A`).
fn trimmed(line: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let value = line.get(s..e)?;
    let inner = value.trim();
    let start = s + (value.len() - value.trim_start().len());
    inner.chars().any(char::is_alphanumeric).then_some((start, start + inner.len()))
}

/// The byte span from the first to the last non-empty component among `components` (1-based) of one repetition.
fn span_of(repeat: &Repeat<'_>, components: RangeInclusive<usize>) -> Option<(usize, usize)> {
    let mut span: Option<(usize, usize)> = None;
    for n in components {
        let Some(c) = repeat.component(n) else { break };
        if c.range.is_empty() {
            continue;
        }
        span = Some(span.map_or((c.range.start, c.range.end), |(s, _)| (s, c.range.end)));
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        segments(text, &mut out);
        out.iter().map(|c| (c.entity_type, &text[c.start..c.end])).collect()
    }

    #[test]
    fn a_pid_segment_gives_its_mrn_name_birth_date_address_phone_and_ssn() {
        let text = "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20230914083012||ORU^R01|MSG01|P|2.5\r\
            PID|1||00734521^^^MRN^MR||ABERNATHY^LUCINDA^MAE||19520611|F|||1187 Valencia St^Apt 5^San Francisco^CA^94110\
            ||(415)555-0157|||||ACCT889|123-45-6789\r";
        let got = found(text);
        for expected in [
            (EntityType::Date, "20230914083012"),
            (EntityType::Mrn, "00734521"),
            (EntityType::Person, "ABERNATHY^LUCINDA^MAE"),
            (EntityType::Date, "19520611"),
            (EntityType::Address, "1187 Valencia St^Apt 5"),
            (EntityType::City, "San Francisco"),
            (EntityType::Zip, "94110"),
            (EntityType::Phone, "(415)555-0157"),
            (EntityType::AccountNumber, "ACCT889"),
            (EntityType::Ssn, "123-45-6789"),
        ] {
            assert!(got.contains(&expected), "{expected:?} not in {got:?}");
        }
        // The sex, the state and the message type are not PHI.
        assert!(got.iter().all(|(_, v)| !matches!(*v, "F" | "CA" | "ORU^R01")), "{got:?}");
    }

    #[test]
    fn clinicians_next_of_kin_and_repetitions_are_read_from_segments_without_msh() {
        let text = "note before\nPV1|1|I|4W^401^B||||10293^OKAFOR^CHIDI^^^MD\n\
            NK1|1|ABERNATHY^ROBERT^~DOE^JANE|SON\nOBX|1|NM|GLU^Glucose||88|mg/dL|70-99|N|||F|||20230914\n";
        let got = found(text);
        for expected in [
            (EntityType::Person, "OKAFOR^CHIDI"),
            (EntityType::Person, "ABERNATHY^ROBERT"),
            (EntityType::Person, "DOE^JANE"),
            (EntityType::Date, "20230914"),
        ] {
            assert!(got.contains(&expected), "{expected:?} not in {got:?}");
        }
        assert_eq!(got.len(), 4, "{got:?}");
    }

    #[test]
    fn values_are_trimmed_and_blank_ones_skipped() {
        assert_eq!(found("PID|1| A |  |x"), vec![(EntityType::Mrn, "A"), (EntityType::Mrn, "x")]);
    }

    #[test]
    fn text_that_only_looks_like_segments_gives_nothing() {
        for text in ["BP|120/80", "DOB|03/14/1962 in a table", "Pipe | separated | words", "ABC|x^y", "MSH|", "PID|"] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
