//! Deterministic generator of labelled synthetic clinical notes: every PHI value is inserted with its exact span.
//!
//! Written from how clinical documents look, not from the detector: eight kinds of document, many formats per
//! identifier, lower-case dictations and upper-case forms, wrapped lines, Unicode tricks, and the near-misses that
//! are not PHI (vitals, labs, doses, codes, states, years, times, ages under 90, rooms, lots). Names come mostly from
//! the Census lists (as real US names do) and partly from a list of names the Census files do not have.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::entity::EntityType;
use crate::gazetteer::{FIRST_NAMES, PLACES, SURNAMES, lines};
use crate::spoken::ordinal_suffix;

/// SplitMix64: a tiny, well-known deterministic generator (a test-data PRNG needs no cryptographic crate).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as usize) as u32
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    fn letters(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'A' + self.below(26) as u8)).collect()
    }
}

/// A gold span: code points of the note's text, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldSpan {
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    pub start: usize,
    pub end: usize,
}

/// One labelled note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub kind: String,
    pub text: String,
    pub spans: Vec<GoldSpan>,
}

struct Doc {
    text: String,
    chars: usize,
    spans: Vec<GoldSpan>,
}

impl Doc {
    fn new() -> Self {
        Self { text: String::new(), chars: 0, spans: Vec::new() }
    }

    fn t(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self.chars += s.chars().count();
        self
    }

    fn e(&mut self, entity_type: EntityType, value: &str) -> &mut Self {
        let start = self.chars;
        self.t(value);
        self.spans.push(GoldSpan { entity_type, start, end: self.chars });
        self
    }
}

struct Names {
    first: Vec<String>,
    last: Vec<String>,
    places: Vec<String>,
}

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        let title = |s: &str| {
            s.split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        Names {
            first: lines(FIRST_NAMES).map(title).collect(),
            // The 30,000 most frequent surnames cover about 90% of the US population.
            last: lines(SURNAMES).take(30_000).map(title).collect(),
            places: lines(PLACES).filter(|p| p.len() > 3).map(title).collect(),
        }
    })
}

/// Names that the 1990 Census lists do not have, so that only context can find them.
const OTHER_FIRST: &[&str] = &[
    "Chidi",
    "Oluwaseun",
    "Xiomara",
    "Anahí",
    "Thandiwe",
    "Sven",
    "Ngozi",
    "Kwame",
    "Priyanka",
    "Ravindra",
    "Yusuf",
    "Zainab",
    "Aarav",
    "Siobhan",
    "Niamh",
    "Dmitri",
    "Svetlana",
    "Hiroshi",
    "Mei",
    "Bartholomew",
    "Ifeoma",
    "Tadeo",
    "Lucía",
    "Björn",
    "Anjali",
    "Obinna",
    "Keanu",
    "Leilani",
    "Amadou",
    "Fatoumata",
];
const OTHER_LAST: &[&str] = &[
    "Okafor",
    "Adeyemi",
    "Nwosu",
    "Oyelaran",
    "Chukwu",
    "Raghunathan",
    "Venkataraman",
    "Bhattacharya",
    "Kowalczyk",
    "Wróblewski",
    "Nakashima",
    "Takahashi",
    "Zhukov",
    "Ivanova",
    "Mbeki",
    "Ndlovu",
    "Oyelowo",
    "Haldorsen",
    "Fjeld",
    "Papadopoulos",
    "Castellanos-Ruiz",
    "O'Shaughnessy",
    "Van der Berg",
    "Abernathy-Quist",
    "Eze",
    "Diallo",
    "Traoré",
    "Keawe",
    "Mahelona",
    "Szymańska",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const STATES: &[&str] =
    &["IL", "CA", "TX", "NY", "OH", "PA", "MI", "GA", "NC", "WA", "MA", "AZ", "TN", "MO", "MN", "OR", "WI", "CO"];
const STATE_NAMES: &[&str] =
    &["Illinois", "California", "Texas", "Ohio", "Oregon", "Georgia", "Washington", "Maine", "Florida", "Nevada"];
const STREET_NAMES: &[&str] = &[
    "Drake",
    "Oak",
    "Maple",
    "Main",
    "Elm",
    "Cedar",
    "Washington",
    "Lincoln",
    "Park",
    "Lake",
    "Hill",
    "Sunset",
    "Willow",
    "Pine",
    "River",
    "Church",
    "Mill",
    "Spring",
    "Highland",
    "Jefferson",
    "Meadow",
    "Franklin",
    "Birch",
    "Walnut",
    "Chestnut",
    "Cherry",
    "Forest",
    "Ridge",
    "Harbor",
    "Valley",
    "Orchard",
    "Summit",
    "Kingsley",
    "Garfield",
];
const STREET_TYPES: &[&str] = &[
    "Street",
    "St",
    "St.",
    "Avenue",
    "Ave",
    "Ave.",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Court",
    "Ct",
    "Way",
    "Place",
    "Pl",
    "Terrace",
    "Circle",
    "Parkway",
    "Orchard",
    "Crossing",
    "Ridge",
    "Trail",
    "Highway",
    "Square",
    "Heights",
    "Pike",
];
const FACILITY_HEADS: &[&str] = &[
    "Hospital",
    "Medical Center",
    "Regional Medical Center",
    "Clinic",
    "Health Center",
    "Family Practice",
    "Pharmacy",
    "Nursing Home",
    "Rehabilitation Center",
    "Memorial Hospital",
    "Community Hospital",
    "Urgent Care",
    "Medical Group",
    "Cancer Center",
    "Surgery Center",
    "Health System",
    "Hospice",
    "Children's Hospital",
    "Pediatrics",
    "Dialysis Center",
];
const FACILITY_NAMES: &[&str] = &[
    "Mercy",
    "Providence",
    "Lakeview",
    "Riverside",
    "Northside",
    "Summit",
    "Cedar Ridge",
    "Good Samaritan",
    "Sacred Heart",
    "Baptist",
    "Presbyterian",
    "Hillcrest",
    "Bayview",
    "Pinecrest",
    "Valley View",
    "Silver Creek",
    "Walgreens",
    "Parkland",
    "Brookside",
    "Fairview",
    "Evergreen",
    "Oakwood",
    "Kindred",
    "Advocate",
    "Sutter",
];
const SAINTS: &[&str] =
    &["Mary's", "Joseph's", "Luke's", "Vincent's", "Francis", "Jude", "Elizabeth's", "Anthony's", "Catherine's"];
const DOMAINS: &[&str] =
    &["example.org", "example.com", "mail.example.net", "healthmail.example.org", "patients.example.com"];

/// Everything a note kind needs to draw values.
struct Gen<'r> {
    r: &'r mut Rng,
}

impl Gen<'_> {
    fn first(&mut self) -> String {
        if self.r.chance(0.12) {
            self.r.pick(OTHER_FIRST).to_owned()
        } else {
            let n = names();
            n.first[self.r.below(n.first.len())].clone()
        }
    }

    fn last(&mut self) -> String {
        if self.r.chance(0.12) {
            self.r.pick(OTHER_LAST).to_owned()
        } else {
            let n = names();
            n.last[self.r.below(n.last.len())].clone()
        }
    }

    fn full_name(&mut self) -> String {
        let (f, l) = (self.first(), self.last());
        match self.r.below(10) {
            0 => format!("{l}, {f}"),
            1 => format!("{f} {}. {l}", self.r.letters(1)),
            2 => format!("{}. {l}", &f[..1]),
            3 => format!("{}, {}", l.to_uppercase(), f.to_uppercase()),
            _ => format!("{f} {l}"),
        }
    }

    fn place(&mut self) -> String {
        let n = names();
        n.places[self.r.below(n.places.len())].clone()
    }

    fn date_parts(&mut self, birth: bool) -> (u32, u32, u32) {
        let y = if birth { self.r.range(1925, 2015) } else { self.r.range(2015, 2026) };
        let m = self.r.range(1, 12);
        let d = self.r.range(1, if m == 2 { 28 } else { 30 });
        (y, m, d)
    }

    fn date(&mut self, birth: bool) -> String {
        let (y, m, d) = self.date_parts(birth);
        let month = MONTHS[(m - 1) as usize];
        let abbr = &month[..3];
        match self.r.below(14) {
            0 => format!("{m:02}/{d:02}/{y}"),
            1 => format!("{m}/{d}/{:02}", y % 100),
            2 => format!("{y}-{m:02}-{d:02}"),
            3 => format!("{month} {d}, {y}"),
            4 => format!("{abbr} {d}, {y}"),
            5 => format!("{d} {abbr} {y}"),
            6 => format!("{d:02}-{}-{y}", abbr.to_uppercase()),
            7 => format!("{abbr}. {d}"),
            8 => format!("{month} {d}{}", ordinal_suffix(d)),
            9 => format!("{m:02}.{d:02}.{y}"),
            10 => format!("{}{} of {month}, {y}", d, ordinal_suffix(d)),
            11 => format!("{} {d} {y}", month.to_uppercase()),
            12 => format!("{m}/{d}/{y}"),
            _ => format!("{month} {y}"),
        }
    }

    fn phone(&mut self) -> String {
        let a = self.r.range(201, 989);
        let x = self.r.range(200, 999);
        let n = self.r.digits(4);
        match self.r.below(9) {
            0 => format!("({a}) {x}-{n}"),
            1 => format!("{a}-{x}-{n}"),
            2 => format!("{a}.{x}.{n}"),
            3 => format!("{a}{x}{n}"),
            4 => format!("+1 {a} {x} {n}"),
            5 => format!("{a} {x} {n}"),
            6 => format!("1-{a}-{x}-{n}"),
            7 => format!("({a}){x}-{n} ext. {}", self.r.range(10, 999)),
            _ => format!("+1 ({a}) {x}-{n}"),
        }
    }

    fn email(&mut self, first: &str, last: &str) -> String {
        let f = first.to_lowercase().replace(['\'', ' ', 'í', 'ó', 'é', 'ñ', 'ć', 'ń', 'ś'], "");
        let l = last.to_lowercase().replace(['\'', ' ', 'í', 'ó', 'é', 'ñ', 'ć', 'ń', 'ś'], "");
        let f: String = f.chars().filter(char::is_ascii_alphanumeric).collect();
        let l: String = l.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        let domain = self.r.pick(DOMAINS);
        match self.r.below(4) {
            0 => format!("{f}.{l}@{domain}"),
            1 => format!("{}{l}{}@{domain}", f.chars().next().unwrap_or('x'), self.r.range(1, 99)),
            2 => format!("{l}_{f}@{domain}"),
            _ => format!("{f}{}@{domain}", self.r.range(1950, 2010)),
        }
    }

    fn ssn(&mut self) -> String {
        let area = loop {
            let a = self.r.range(1, 899);
            if a != 666 {
                break a;
            }
        };
        let g = self.r.range(1, 99);
        let s = self.r.range(1, 9999);
        match self.r.below(3) {
            0 => format!("{area:03}{g:02}{s:04}"),
            1 => format!("{area:03} {g:02} {s:04}"),
            _ => format!("{area:03}-{g:02}-{s:04}"),
        }
    }

    fn mrn(&mut self) -> String {
        match self.r.below(4) {
            0 => self.r.digits(8),
            1 => format!("{}{}-{}", self.r.letters(1), self.r.digits(2), self.r.digits(4)),
            2 => format!("MRN-{}", self.r.digits(7)),
            _ => self.r.digits(7),
        }
    }

    fn mbi(&mut self) -> String {
        const A: &[u8] = b"ACDEFGHJKMNPQRTUVWXY";
        let a = |r: &mut Rng| char::from(A[r.below(A.len())]);
        let n = |r: &mut Rng| char::from(b'0' + r.below(10) as u8);
        let an = |r: &mut Rng| if r.chance(0.5) { a(r) } else { n(r) };
        let r = &mut *self.r;
        let s: String =
            [char::from(b'1' + r.below(9) as u8), a(r), an(r), n(r), a(r), an(r), n(r), a(r), a(r), n(r), n(r)]
                .iter()
                .collect();
        if r.chance(0.5) { format!("{}-{}-{}", &s[..4], &s[4..7], &s[7..]) } else { s }
    }

    fn plan_id(&mut self) -> String {
        match self.r.below(3) {
            0 => self.mbi(),
            1 => format!("{}{}", self.r.letters(3), self.r.digits(9)),
            _ => format!("W{}", self.r.digits(9)),
        }
    }

    fn account(&mut self) -> String {
        match self.r.below(3) {
            0 => format!("000{}", self.r.digits(9)),
            1 => format!("ACC-{}", self.r.digits(7)),
            _ => self.r.digits(10),
        }
    }

    fn dea(&mut self) -> String {
        let prefix = format!("{}{}", self.r.pick(&["A", "B", "F", "M"]), self.r.letters(1));
        let d: Vec<u32> = (0..6).map(|_| self.r.range(0, 9)).collect();
        let check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
        format!("{prefix}{}{check}", d.iter().map(u32::to_string).collect::<String>())
    }

    fn vin(&mut self) -> String {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
        loop {
            let mut v: Vec<u8> = (0..17).map(|_| CHARS[self.r.below(CHARS.len())]).collect();
            v[8] = b'0';
            let value = |c: u8| -> u32 {
                match c {
                    b'0'..=b'9' => u32::from(c - b'0'),
                    b'A'..=b'H' => u32::from(c - b'A') + 1,
                    b'J'..=b'R' => u32::from(c - b'J') + 1,
                    _ => u32::from(c - b'S') + 2,
                }
            };
            const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
            let sum: u32 = v.iter().zip(W).map(|(c, w)| value(*c) * w).sum();
            v[8] = if sum % 11 == 10 { b'X' } else { b'0' + (sum % 11) as u8 };
            if v.iter().any(u8::is_ascii_alphabetic) {
                return String::from_utf8_lossy(&v).into_owned();
            }
        }
    }

    fn card(&mut self) -> String {
        let (prefix, len) = match self.r.below(3) {
            0 => ("4".to_owned(), 16),
            1 => (format!("5{}", self.r.range(1, 5)), 16),
            _ => (format!("3{}", self.r.pick(&["4", "7"])), 15),
        };
        let mut d: Vec<u32> = prefix.chars().filter_map(|c| c.to_digit(10)).collect();
        while d.len() < len - 1 {
            d.push(self.r.range(0, 9));
        }
        let sum: u32 = d
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &x)| if i % 2 == 0 { if x * 2 > 9 { x * 2 - 9 } else { x * 2 } } else { x })
            .sum();
        d.push((10 - sum % 10) % 10);
        let s: String = d.iter().map(u32::to_string).collect();
        match (self.r.below(3), len) {
            (0, _) => s,
            (1, 16) => format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..]),
            (1, _) => format!("{} {} {}", &s[..4], &s[4..10], &s[10..]),
            (_, 16) => format!("{}-{}-{}-{}", &s[..4], &s[4..8], &s[8..12], &s[12..]),
            _ => format!("{}-{}-{}", &s[..4], &s[4..10], &s[10..]),
        }
    }

    fn iban(&mut self) -> String {
        let (country, bban) = match self.r.below(3) {
            0 => ("GB", format!("{}{}", self.r.letters(4), self.r.digits(14))),
            1 => ("DE", self.r.digits(18)),
            _ => ("FR", self.r.digits(23)),
        };
        let rearranged = format!("{bban}{country}00");
        let mut rem = 0u32;
        for c in rearranged.chars() {
            let v = c.to_digit(36).unwrap_or(0);
            rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
        }
        let iban = format!("{country}{:02}{bban}", 98 - rem);
        if self.r.chance(0.5) {
            iban.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
        } else {
            iban
        }
    }

    fn address(&mut self) -> String {
        let number = self.r.range(1, 99_999);
        let street = self.r.pick(STREET_NAMES);
        let kind = self.r.pick(STREET_TYPES);
        let dir =
            if self.r.chance(0.2) { format!("{} ", self.r.pick(&["N.", "S", "East", "W."])) } else { String::new() };
        let unit = match self.r.below(6) {
            0 => format!(" Apt {}", self.r.range(1, 40)),
            1 => format!(", Suite {}", self.r.range(100, 900)),
            2 => format!(" #{}", self.r.range(1, 20)),
            _ => String::new(),
        };
        if self.r.chance(0.06) {
            return format!("PO Box {}", self.r.range(10, 9999));
        }
        format!("{number} {dir}{street} {kind}{unit}")
    }

    fn zip(&mut self) -> String {
        let z = self.r.range(1001, 99_950);
        if self.r.chance(0.25) { format!("{z:05}-{}", self.r.digits(4)) } else { format!("{z:05}") }
    }

    fn facility(&mut self) -> String {
        let head = self.r.pick(FACILITY_HEADS);
        match self.r.below(4) {
            0 => format!("St. {} {head}", self.r.pick(SAINTS)),
            1 => format!("{} {head}", self.last()),
            2 => format!("{} {head}", self.place()),
            _ => format!("{} {head}", self.r.pick(FACILITY_NAMES)),
        }
    }

    fn url(&mut self) -> String {
        let domain = self.r.pick(&[
            "portal.example.org",
            "www.mercyhealth.example.com",
            "mychart.example.net",
            "records.example.org",
        ]);
        match self.r.below(3) {
            0 => format!("https://{domain}/patients/{}", self.r.digits(6)),
            1 => format!("http://{domain}/visit?id={}", self.r.digits(8)),
            _ => format!("www.{}/p/{}", domain.trim_start_matches("www."), self.r.digits(5)),
        }
    }

    fn ip(&mut self) -> String {
        if self.r.chance(0.2) {
            format!("2001:db8:{:x}::{:x}", self.r.range(1, 0xffff), self.r.range(1, 0xffff))
        } else {
            format!(
                "{}.{}.{}.{}",
                self.r.range(10, 223),
                self.r.range(0, 255),
                self.r.range(0, 255),
                self.r.range(1, 254)
            )
        }
    }

    fn device(&mut self) -> String {
        match self.r.below(4) {
            0 => format!("{}-{}-{}", self.r.letters(2), self.r.digits(5), self.r.letters(1)),
            1 => format!("SN{}", self.r.digits(9)),
            2 => format!("{}{}{}", self.r.digits(1), self.r.letters(1), self.r.digits(5)),
            _ => format!("DV-{}-{}", self.r.digits(4), self.r.digits(4)),
        }
    }

    fn age_over_89(&mut self) -> u32 {
        self.r.range(90, 104)
    }

    fn age_under_90(&mut self) -> u32 {
        self.r.range(1, 89)
    }

    fn clinician(&mut self) -> String {
        let (f, l) = (self.first(), self.last());
        if self.r.chance(0.5) { l } else { format!("{f} {l}") }
    }
}

/// Non-PHI clinical sentences with numbers that look like identifiers.
fn near_miss(g: &mut Gen<'_>, d: &mut Doc) {
    let r = &mut *g.r;
    let s = match r.below(16) {
        0 => format!(
            "BP {}/{}, HR {}, RR {}, T {}.{} F, SpO2 {}% on room air.",
            r.range(95, 170),
            r.range(55, 100),
            r.range(50, 120),
            r.range(12, 24),
            r.range(97, 101),
            r.range(0, 9),
            r.range(88, 100)
        ),
        1 => format!(
            "Hgb {}.{} g/dL, WBC {}.{}, Plt {}, Na {}, K {}.{}, Cr {}.{}.",
            r.range(8, 16),
            r.range(0, 9),
            r.range(3, 15),
            r.range(0, 9),
            r.range(120, 400),
            r.range(130, 145),
            r.range(3, 5),
            r.range(0, 9),
            r.range(0, 2),
            r.range(0, 9)
        ),
        2 => format!(
            "Continue metformin {} mg PO BID and lisinopril {} mg daily.",
            r.pick(&["500", "850", "1000"]),
            r.pick(&["5", "10", "20", "40"])
        ),
        3 => format!("Dx: type 2 diabetes mellitus (ICD-10 E11.{}), essential hypertension (I10).", r.range(0, 9)),
        4 => format!("Billed CPT {} and {}.", r.range(99202, 99215), r.range(80047, 80081)),
        5 => format!(
            "Patient is a {}-year-old with a history of COPD since {}.",
            g.age_under_90(),
            g.r.range(1990, 2022)
        ),
        6 => format!("Moved here from {} in {}.", g.r.pick(STATE_NAMES), g.r.range(1980, 2023)),
        7 => format!(
            "Seen at {}:{:02} in room {}, bed {}.",
            r.range(7, 18),
            r.range(0, 59),
            r.range(100, 999),
            r.pick(&["A", "B", "2"])
        ),
        8 => format!(
            "Influenza vaccine given, lot {}{}, exp {}/{}.",
            r.letters(2),
            r.digits(4),
            r.range(1, 12),
            r.range(2025, 2028)
        ),
        9 => format!(
            "A1c {}.{}%, glucose {} mg/dL, LDL {}.",
            r.range(5, 11),
            r.range(0, 9),
            r.range(70, 300),
            r.range(50, 190)
        ),
        10 => format!(
            "Weight {} kg, height {} cm, BMI {}.{}.",
            r.range(40, 140),
            r.range(140, 200),
            r.range(17, 45),
            r.range(0, 9)
        ),
        11 => format!("Pain {}/10. Ambulated {} feet with walker.", r.range(0, 10), r.range(20, 300)),
        12 => format!(
            "Take {} tablets every {} hours as needed, #{} with {} refills.",
            r.range(1, 2),
            r.range(4, 8),
            r.range(10, 90),
            r.range(0, 5)
        ),
        13 => format!(
            "LOINC {}-{} resulted; NDC {}-{}-{} dispensed.",
            r.range(1000, 99999),
            r.range(0, 9),
            r.digits(5),
            r.digits(4),
            r.digits(2)
        ),
        14 => format!(
            "Her mother died of breast cancer at age {}; father alive at {}.",
            g.age_under_90(),
            g.age_under_90()
        ),
        _ => format!("Travelled to {} last summer; returns in {} weeks.", g.r.pick(STATES), g.r.range(2, 12)),
    };
    d.t(&s);
}

fn discharge_summary(g: &mut Gen<'_>, d: &mut Doc) {
    let (f, l) = (g.first(), g.last());
    d.t("DISCHARGE SUMMARY\n\nPatient: ")
        .e(EntityType::Person, &format!("{f} {l}"))
        .t("\nMRN: ")
        .e(EntityType::Mrn, &g.mrn());
    d.t("\nDOB: ").e(EntityType::Date, &g.date(true)).t("\nAdmission Date: ").e(EntityType::Date, &g.date(false));
    d.t("\nDischarge Date: ")
        .e(EntityType::Date, &g.date(false))
        .t("\nAttending: Dr. ")
        .e(EntityType::Person, &g.clinician());
    d.t("\n\nHOSPITAL COURSE:\n");
    if g.r.chance(0.4) {
        d.t("The patient is a ").e(EntityType::AgeOver89, &g.age_over_89().to_string()).t("-year-old ");
    } else {
        let age = g.age_under_90();
        d.t(if g.r.chance(0.5) { "Mr. " } else { "Ms. " })
            .e(EntityType::Person, &l)
            .t(&format!(" is a {age}-year-old "));
    }
    d.t("admitted from ").e(EntityType::Facility, &g.facility()).t(" with shortness of breath. ");
    near_miss(g, d);
    d.t(" ");
    near_miss(g, d);
    d.t(&format!(" {} was seen in consultation by Dr. ", if g.r.chance(0.5) { "She" } else { "He" }))
        .e(EntityType::Person, &g.clinician())
        .t(" of cardiology. ");
    near_miss(g, d);
    d.t("\n\nDISPOSITION: Discharged home to ")
        .e(EntityType::Address, &g.address())
        .t(", ")
        .e(EntityType::City, &g.place());
    d.t(&format!(", {} ", g.r.pick(STATES)))
        .e(EntityType::Zip, &g.zip())
        .t(" with daughter ")
        .e(EntityType::Person, &g.first());
    d.t(". Follow up with PCP on ")
        .e(EntityType::Date, &g.date(false))
        .t(". Call ")
        .e(EntityType::Phone, &g.phone())
        .t(" with questions.\n");
    near_miss(g, d);
    d.t("\n");
}

fn referral_letter(g: &mut Gen<'_>, d: &mut Doc) {
    let facility = g.facility();
    d.e(EntityType::Facility, &facility)
        .t("\n")
        .e(EntityType::Address, &g.address())
        .t("\n")
        .e(EntityType::City, &g.place());
    d.t(&format!(", {} ", g.r.pick(STATES)))
        .e(EntityType::Zip, &g.zip())
        .t("\nTel ")
        .e(EntityType::Phone, &g.phone())
        .t("  Fax: ")
        .e(EntityType::Fax, &g.phone());
    d.t("\n\n").e(EntityType::Date, &g.date(false)).t("\n\nDear Dr. ").e(EntityType::Person, &g.last()).t(",\n\n");
    let (f, l) = (g.first(), g.last());
    d.t("Thank you for seeing ")
        .e(EntityType::Person, &format!("{f} {l}"))
        .t(" (DOB ")
        .e(EntityType::Date, &g.date(true))
        .t(", MRN ")
        .e(EntityType::Mrn, &g.mrn())
        .t("), ");
    if g.r.chance(0.3) {
        d.t("a ").e(EntityType::AgeOver89, &g.age_over_89().to_string()).t(" year old ");
    } else {
        d.t(&format!("a {} year old ", g.age_under_90()));
    }
    d.t("with atrial fibrillation. ");
    near_miss(g, d);
    d.t(&format!(" {} lives with ", if g.r.chance(0.5) { "She" } else { "He" }))
        .t(g.r.pick(&["her husband ", "his wife ", "a son, ", "her partner "]))
        .e(EntityType::Person, &g.full_name());
    d.t(", in ").e(EntityType::City, &g.place()).t(". ");
    near_miss(g, d);
    d.t(" Please send your report to ")
        .e(EntityType::Email, &g.email(&f, &l).replace(&f.to_lowercase(), "office"))
        .t(".\n\nSincerely,\n\n")
        .e(EntityType::Person, &g.clinician())
        .t(", MD\n");
    if g.r.chance(0.5) {
        d.t("DEA# ").e(EntityType::LicenseNumber, &g.dea()).t("\n");
    }
}

fn dictation(g: &mut Gen<'_>, d: &mut Doc) {
    let (f, l) = (g.first(), g.last());
    d.t("this is dr ")
        .e(EntityType::Person, &g.last())
        .t(" dictating on patient ")
        .e(EntityType::Person, &format!("{f} {l}"));
    d.t(" date of birth ")
        .e(EntityType::Date, &g.date(true))
        .t(" medical record number ")
        .e(EntityType::Mrn, &g.mrn())
        .t(" ");
    if g.r.chance(0.35) {
        d.t("she is a ").e(EntityType::AgeOver89, &g.age_over_89().to_string()).t(" year old woman ");
    } else {
        d.t(&format!("he is a {} year old man ", g.age_under_90()));
    }
    d.t("seen today at ").e(EntityType::Facility, &g.facility()).t(" for follow up of diabetes ");
    near_miss(g, d);
    d.t(" her son ").e(EntityType::Person, &g.first()).t(" can be reached at ").e(EntityType::Phone, &g.phone()).t(" ");
    near_miss(g, d);
    d.t(" she lives at ")
        .e(EntityType::Address, &g.address())
        .t(" in ")
        .e(EntityType::City, &g.place())
        .t(" return visit ")
        .e(EntityType::Date, &g.date(false))
        .t(" end of dictation\n");
    d.text.make_ascii_lowercase();
}

fn lab_report(g: &mut Gen<'_>, d: &mut Doc) {
    let (f, l) = (g.first(), g.last());
    d.t("LABORATORY REPORT\nPatient: ")
        .e(EntityType::Person, &format!("{}, {}", l.to_uppercase(), f.to_uppercase()))
        .t("    MRN: ")
        .e(EntityType::Mrn, &g.mrn());
    d.t("\nDOB: ")
        .e(EntityType::Date, &g.date(true))
        .t("    Sex: F\nAccession #: ")
        .e(EntityType::AccountNumber, &format!("{}{}-{}", g.r.letters(2), g.r.digits(2), g.r.digits(6)));
    d.t("\nCollected: ").e(EntityType::Date, &g.date(false)).t(&format!(
        " {:02}:{:02}",
        g.r.range(0, 23),
        g.r.range(0, 59)
    ));
    d.t("\nOrdering provider: ")
        .e(EntityType::Person, &g.clinician())
        .t(", MD\nPerforming lab: ")
        .e(EntityType::Facility, &g.facility())
        .t("\n\n");
    d.t(&format!(
        "Component        Result   Units     Range\nHemoglobin       {}.{}     g/dL      12.0-16.0\n",
        g.r.range(8, 16),
        g.r.range(0, 9)
    ));
    d.t(&format!(
        "WBC              {}.{}      K/uL      4.0-11.0\nSodium           {}      mmol/L    135-145\n",
        g.r.range(3, 14),
        g.r.range(0, 9),
        g.r.range(128, 147)
    ));
    d.t(&format!(
        "Creatinine       {}.{}      mg/dL     0.6-1.2\nLOINC 718-7, 6690-2, 2951-2\n",
        g.r.range(0, 3),
        g.r.range(0, 9)
    ));
    near_miss(g, d);
    d.t("\nResult called to ")
        .e(EntityType::Person, &g.full_name())
        .t(", RN at ")
        .e(EntityType::Phone, &g.phone())
        .t(".\n");
}

fn billing_form(g: &mut Gen<'_>, d: &mut Doc) {
    let (f, l) = (g.first(), g.last());
    d.t("PATIENT BILLING STATEMENT\nNAME: ")
        .e(EntityType::Person, &format!("{} {}", f.to_uppercase(), l.to_uppercase()));
    d.t("\nADDRESS: ")
        .e(EntityType::Address, &g.address().to_uppercase())
        .t("\nCITY: ")
        .e(EntityType::City, &g.place().to_uppercase());
    d.t(&format!("  STATE: {}  ZIP: ", g.r.pick(STATES)))
        .e(EntityType::Zip, &g.zip())
        .t("\nPHONE: ")
        .e(EntityType::Phone, &g.phone());
    d.t("\nSSN: ")
        .e(EntityType::Ssn, &g.ssn())
        .t("\nMEMBER ID: ")
        .e(EntityType::HealthPlanId, &g.plan_id())
        .t("\nACCOUNT #: ")
        .e(EntityType::AccountNumber, &g.account());
    d.t("\nDATE OF SERVICE: ").e(EntityType::Date, &g.date(false));
    d.t(&format!("\nCPT {}  ICD-10 E11.9  UNITS 1  CHARGE ${}.00\n", g.r.range(99202, 99215), g.r.range(80, 450)));
    match g.r.below(3) {
        0 => {
            d.t("PAID BY CARD: ").e(EntityType::CreditCard, &g.card());
        }
        1 => {
            d.t("REFUND TO IBAN ").e(EntityType::Iban, &g.iban());
        }
        _ => {
            d.t("MEDICARE MBI: ").e(EntityType::HealthPlanId, &g.mbi());
        }
    }
    d.t("\nGUARANTOR: ")
        .e(EntityType::Person, &g.full_name().to_uppercase())
        .t("  DL#: ")
        .e(EntityType::LicenseNumber, &format!("{}{}", g.r.letters(1), g.r.digits(7)));
    d.t("\n");
    d.text.make_ascii_uppercase();
}

fn triage_note(g: &mut Gen<'_>, d: &mut Doc) {
    let old = g.r.chance(0.5);
    if old {
        d.e(EntityType::AgeOver89, &g.age_over_89().to_string()).t(" yo F");
    } else {
        d.t(&format!("{} yo M", g.age_under_90()));
    }
    d.t(" BIBA from ").e(EntityType::Facility, &g.facility()).t(" c/o chest pain x2 days. ");
    near_miss(g, d);
    d.t(" Pt states wife ")
        .e(EntityType::Person, &g.first())
        .t(" drove behind ambulance in their car, plate ")
        .e(EntityType::VehicleId, &format!("{}{}{}", g.r.digits(1), g.r.letters(3), g.r.digits(3)));
    d.t(". Pacemaker serial ").e(EntityType::DeviceId, &g.device()).t(". ");
    near_miss(g, d);
    d.t(" Triage RN ")
        .e(EntityType::Person, &g.clinician())
        .t(" ")
        .t(&format!("{:02}:{:02}", g.r.range(0, 23), g.r.range(0, 59)))
        .t("\n");
}

fn nursing_note(g: &mut Gen<'_>, d: &mut Doc) {
    d.t(&format!("{:02}{:02} ", g.r.range(0, 23), g.r.range(0, 59)))
        .t("Nursing note, ")
        .e(EntityType::Date, &g.date(false))
        .t(". ");
    near_miss(g, d);
    d.t(" Insulin pump device ID ")
        .e(EntityType::DeviceId, &g.device())
        .t(" checked. Daughter ")
        .e(EntityType::Person, &g.full_name());
    d.t(" at bedside; her cell is ").e(EntityType::Phone, &g.phone()).t(" and e-mail ").e(EntityType::Email, &{
        let (f, l) = (g.first(), g.last());
        g.email(&f, &l)
    });
    d.t(". Son's car VIN ").e(EntityType::VehicleId, &g.vin()).t(" parked in lot B. ");
    near_miss(g, d);
    d.t(" Chaplain ")
        .e(EntityType::Person, &g.clinician())
        .t(" visited. Patient's fingerprint template ID ")
        .e(EntityType::BiometricId, &format!("FP-{}-{}", g.r.digits(5), g.r.letters(1)));
    d.t(" enrolled for the medication cabinet. Passport # ")
        .e(EntityType::OtherId, &format!("{}{}", g.r.letters(1), g.r.digits(8)))
        .t(" copied for records.\n");
    near_miss(g, d);
    d.t(" Signed: ").e(EntityType::Person, &g.clinician()).t(", RN\n");
}

fn audit_log(g: &mut Gen<'_>, d: &mut Doc) {
    for _ in 0..g.r.range(3, 7) {
        let (y, m, day) = g.date_parts(false);
        d.e(EntityType::Date, &format!("{y}-{m:02}-{day:02}")).t(&format!(
            "T{:02}:{:02}:{:02}Z ",
            g.r.range(0, 23),
            g.r.range(0, 59),
            g.r.range(0, 59)
        ));
        let (f, l) = (g.first(), g.last());
        d.t("user=").e(EntityType::Email, &g.email(&f, &l)).t(" ip=").e(EntityType::IpAddress, &g.ip());
        let action = g.r.pick(&["VIEW", "DOWNLOAD", "UPDATE", "PRINT"]);
        d.t(&format!(" action={action} patient_mrn="))
            .e(EntityType::Mrn, &g.r.digits(8))
            .t(" url=")
            .e(EntityType::Url, &g.url());
        d.t(&format!(" status={} bytes={}\n", g.r.pick(&["200", "403", "404"]), g.r.range(200, 90_000)));
    }
    d.t("Break-glass reason entered by ")
        .e(EntityType::Person, &g.full_name())
        .t(": employee ID ")
        .e(EntityType::OtherId, &format!("E-{}", g.r.digits(6)));
    d.t(&format!(
        " at {:02}:{:02}; session lasted {} minutes.\n",
        g.r.range(0, 23),
        g.r.range(0, 59),
        g.r.range(1, 90)
    ));
}

/// Replaces some spaces with line breaks, as wrapped text and copied forms have.
fn wrap(text: &mut String, r: &mut Rng) {
    let mut col = 0;
    let width = r.range(50, 90) as usize;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            col = 0;
            out.push(c);
        } else if c == ' ' && col >= width {
            out.push('\n');
            col = 0;
        } else {
            out.push(c);
            col += 1;
        }
    }
    *text = out;
}

/// Applies Unicode tricks that keep code point counts: NBSP for some spaces, full-width digits in some spans.
fn unicode_tricks(doc: &mut Doc, r: &mut Rng) {
    let mut chars: Vec<char> = doc.text.chars().collect();
    for span in &doc.spans {
        if r.chance(0.08) {
            for c in &mut chars[span.start..span.end] {
                if c.is_ascii_digit() {
                    *c = char::from_u32(*c as u32 + 0xFEE0).unwrap_or(*c);
                }
            }
        }
    }
    for c in &mut chars {
        if *c == ' ' && r.chance(0.03) {
            *c = '\u{00A0}';
        }
    }
    doc.text = chars.into_iter().collect();
}

/// Inserts zero-width spaces inside a few spans (changes code point counts, so spans are shifted accordingly).
fn zero_width(doc: &mut Doc, r: &mut Rng) {
    let mut inserts: Vec<usize> = Vec::new();
    for span in &doc.spans {
        if span.end - span.start > 3 && r.chance(0.05) {
            inserts.push(span.start + 1 + r.below(span.end - span.start - 2));
        }
    }
    if inserts.is_empty() {
        return;
    }
    inserts.sort_unstable();
    let mut out = String::with_capacity(doc.text.len() + inserts.len() * 3);
    let mut next = 0;
    for (i, c) in doc.text.chars().enumerate() {
        while next < inserts.len() && inserts[next] == i {
            out.push('\u{200B}');
            next += 1;
        }
        out.push(c);
    }
    doc.text = out;
    for span in &mut doc.spans {
        let before_start = inserts.iter().filter(|&&p| p <= span.start).count();
        let before_end = inserts.iter().filter(|&&p| p < span.end).count();
        span.start += before_start;
        span.end += before_end;
    }
}

/// The kinds of note, by name.
pub const KINDS: [&str; 8] = [
    "discharge_summary",
    "referral_letter",
    "dictation",
    "lab_report",
    "billing_form",
    "triage_note",
    "nursing_note",
    "audit_log",
];

/// One note of the given kind index.
pub fn note(seed: u64, index: usize) -> Note {
    let mut rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(index as u64));
    let kind = KINDS[rng.below(KINDS.len())];
    let mut doc = Doc::new();
    {
        let mut g = Gen { r: &mut rng };
        match kind {
            "discharge_summary" => discharge_summary(&mut g, &mut doc),
            "referral_letter" => referral_letter(&mut g, &mut doc),
            "dictation" => dictation(&mut g, &mut doc),
            "lab_report" => lab_report(&mut g, &mut doc),
            "billing_form" => billing_form(&mut g, &mut doc),
            "triage_note" => triage_note(&mut g, &mut doc),
            "nursing_note" => nursing_note(&mut g, &mut doc),
            _ => audit_log(&mut g, &mut doc),
        }
    }
    if kind != "audit_log" && kind != "billing_form" && kind != "lab_report" && rng.chance(0.3) {
        wrap(&mut doc.text, &mut rng);
    }
    if rng.chance(0.25) {
        unicode_tricks(&mut doc, &mut rng);
    }
    if rng.chance(0.15) {
        zero_width(&mut doc, &mut rng);
    }
    Note { id: format!("{seed}-{index}"), kind: kind.to_owned(), text: doc.text, spans: doc.spans }
}

/// `count` notes from `seed`.
pub fn corpus(seed: u64, count: usize) -> Vec<Note> {
    (0..count).map(|i| note(seed, i)).collect()
}

/// Clinical text with no PHI at all (the near-miss sentences only), about `bytes` long, for throughput benches.
pub fn phi_free_text(seed: u64, bytes: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut doc = Doc::new();
    while doc.text.len() < bytes {
        let mut g = Gen { r: &mut rng };
        near_miss(&mut g, &mut doc);
        doc.t(if g.r.chance(0.2) { "\n" } else { " " });
        doc.t(g.r.pick(&[
            "Lungs clear to auscultation bilaterally. ",
            "No acute distress; alert and oriented. ",
            "Abdomen soft, non-tender, non-distended. ",
            "Plan discussed with the patient, who agrees. ",
            "Will continue current regimen and reassess. ",
            "Denies fever, chills, nausea or vomiting. ",
        ]));
    }
    doc.text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_corpus_and_spans_cover_their_values() {
        let a = corpus(7, 60);
        let b = corpus(7, 60);
        assert_eq!(a, b);
        for n in &a {
            let chars: Vec<char> = n.text.chars().collect();
            for s in &n.spans {
                assert!(s.start < s.end && s.end <= chars.len(), "{}: {s:?}", n.id);
                let value: String = chars[s.start..s.end].iter().collect();
                assert_eq!(value.trim(), value, "{}: {s:?} {value:?}", n.id);
            }
        }
        assert!(KINDS.iter().all(|k| a.iter().any(|n| n.kind == *k)));
    }
}
