//! HIPAA Safe Harbor (45 CFR 164.514(b)(2)) generalisation of single values.
//!
//! Dates keep only their year; ages over 89 become `90+`; ZIP codes keep their first three digits unless that
//! three-digit area has 20,000 people or fewer (`data/zip3_restricted.csv`), which become `000`; every other
//! identifier is removed (replaced by its type tag so the text stays readable).

use std::sync::OnceLock;

use crate::entity::EntityType;
use crate::text::Normalized;

const RESTRICTED_ZIP3: &str = include_str!("../data/zip3_restricted.csv");

/// ZIP3 areas of 20,000 or fewer people, from the shipped table.
pub fn restricted_zip3() -> &'static [[u8; 3]] {
    static TABLE: OnceLock<Vec<[u8; 3]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        RESTRICTED_ZIP3
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| <[u8; 3]>::try_from(l.trim().as_bytes()).ok())
            .filter(|z| z.iter().all(u8::is_ascii_digit))
            .collect()
    })
}

/// Two-digit years: 00..=39 are 20xx, 40..=99 are 19xx (clinical records span births from the 1930s).
const TWO_DIGIT_PIVOT: u32 = 40;

/// The year of a date written in any of the detector's formats, if it has one.
pub fn year_of(date: &str) -> Option<u32> {
    let normalized = Normalized::with_ocr(date, true);
    let text = normalized.as_str();
    let groups: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    // A compact date or timestamp (`19620314`, HL7's `20230914083012-0500`) starts with its year.
    if let Some(g) = groups.first()
        && g.len() >= 8
        && (g.starts_with("19") || g.starts_with("20"))
    {
        return g[..4].parse().ok();
    }
    // `03141962`: a month, a day and a year.
    if let [g] = groups.as_slice()
        && g.len() == 8
        && (g[4..].starts_with("19") || g[4..].starts_with("20"))
    {
        return g[4..].parse().ok();
    }
    if let Some(y) = groups.iter().find(|g| g.len() == 4).and_then(|g| g.parse().ok()) {
        return Some(y);
    }
    let two_digit = |g: &str| g.parse::<u32>().ok().map(|y| if y < TWO_DIGIT_PIVOT { 2000 + y } else { 1900 + y });
    if let Some(pos) = text.find('\'') {
        return text[pos + 1..].get(..2).and_then(two_digit);
    }
    let has_month_word = text.chars().any(|c| c.is_ascii_alphabetic());
    match (groups.len(), has_month_word) {
        (3, false) => groups.last().and_then(|g| two_digit(g)),
        (2, true) => groups.last().and_then(|g| two_digit(g)),
        _ => None,
    }
}

/// The Safe Harbor form of one detected value.
pub fn generalize(t: EntityType, value: &str) -> String {
    match t {
        EntityType::Date => year_of(value).map_or_else(|| "[DATE]".to_owned(), |y| y.to_string()),
        EntityType::AgeOver89 => "90+".to_owned(),
        // The three-digit rule is for US ZIP codes; a postcode of another country (`M5T 2S8`) is removed.
        EntityType::Zip
            if value.bytes().any(|b| b.is_ascii_digit()) && value.bytes().any(|b| b.is_ascii_alphabetic()) =>
        {
            "[ZIP]".to_owned()
        }
        EntityType::Zip => {
            let normalized = Normalized::with_ocr(value, true);
            let digits: Vec<u8> = normalized.as_str().bytes().filter(u8::is_ascii_digit).take(3).collect();
            match <[u8; 3]>::try_from(digits.as_slice()) {
                Ok(zip3) if !restricted_zip3().contains(&zip3) => String::from_utf8_lossy(&zip3).into_owned(),
                _ => "000".to_owned(),
            }
        }
        other => format!("[{other}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_only_their_year() {
        assert_eq!(generalize(EntityType::Date, "03/14/1962"), "1962");
        assert_eq!(generalize(EntityType::Date, "14-MAR-2023"), "2023");
        assert_eq!(generalize(EntityType::Date, "March 14, '62"), "1962");
        assert_eq!(generalize(EntityType::Date, "3/14/05"), "2005");
        assert_eq!(generalize(EntityType::Date, "Jan. 5"), "[DATE]");
        assert_eq!(generalize(EntityType::Date, "19620314"), "1962");
        assert_eq!(generalize(EntityType::Date, "03141962"), "1962");
        assert_eq!(generalize(EntityType::Date, "20230914083012-0500"), "2023");
        // Dictated: the year spoken in words.
        assert_eq!(generalize(EntityType::Date, "march third nineteen fifty two"), "1952");
    }

    #[test]
    fn zip_codes_keep_three_digits_unless_the_area_is_small() {
        assert_eq!(generalize(EntityType::Zip, "62704-1234"), "627");
        assert_eq!(generalize(EntityType::Zip, "03601"), "000");
        assert_eq!(generalize(EntityType::Zip, "89301"), "000");
        assert_eq!(generalize(EntityType::Zip, "nine four one one oh"), "941");
        assert_eq!(generalize(EntityType::Zip, "M5T 2S8"), "[ZIP]");
        assert_eq!(generalize(EntityType::Zip, "G51 4TF"), "[ZIP]");
        assert_eq!(restricted_zip3().len(), 17);
    }

    #[test]
    fn ages_over_89_aggregate_and_other_identifiers_go() {
        assert_eq!(generalize(EntityType::AgeOver89, "97"), "90+");
        assert_eq!(generalize(EntityType::Person, "John Smith"), "[PERSON]");
    }
}
