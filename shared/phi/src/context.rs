//! Context vocabulary: the words around a candidate that say what it is (or that it is not PHI at all).
//!
//! Every list is looked up through one hash table keyed like the gazetteer ([`KeyHasher`]), so a phrase of up to
//! three words costs three hash updates and one probe.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::entity::EntityType;
use crate::gazetteer::KeyHasher;

/// What a label phrase before a number says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// The value is this identifier type.
    Id(EntityType),
    /// A date label (`DOB`, `admitted`): short numeric dates after it are dates.
    Date,
    /// An age label (`age`, `aged`).
    Age,
    /// A measurement, dose, code, lot, room or other non-PHI label: the number is not PHI.
    NotPhi,
}

/// Bits of what a single word means to the name, place and facility rules (a word may be several).
pub mod role {
    /// `Dr`, `Mr`, `Mrs`: the next words are a person's name.
    pub const TITLE: u8 = 1;
    /// `Patient`, `Dear`, `wife`, `signed`: a name may follow, even one missing from the gazetteer.
    pub const NAME_CUE: u8 = 2;
    /// `by`, `to`, `with`: a name from the gazetteer may follow.
    pub const WEAK_NAME_CUE: u8 = 4;
    /// `in`, `from`, `near`, `City`: a place may follow.
    pub const PLACE_CUE: u8 = 8;
    /// Never part of a name (`the`, `was`, `patient`).
    pub const STOP: u8 = 16;
    /// Clinical vocabulary capitalised in notes but never a name (`Assessment`, `Metformin`).
    pub const CLINICAL: u8 = 32;
}

/// How a facility name ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacilityWord {
    /// `Hospital`, `Clinic`, `Pharmacy`: ends a facility name by itself.
    Head,
    /// `Medical`, `Health`, `Care` (before `Center`), or `Regional`, `General`: part of a name, not enough alone.
    Generic,
    /// `Center`, `Centre`, `Group`, `Home`, `System`: a head only after a generic word.
    TailAfterGeneric,
}

#[derive(Debug)]
pub struct Lexicon {
    labels: FxHashMap<u64, Label>,
    roles: FxHashMap<u64, u8>,
    facility: FxHashMap<u64, FacilityWord>,
    states: FxHashMap<u64, u8>,
    units: FxHashMap<u64, ()>,
    fillers: FxHashMap<u64, ()>,
}

fn phrase_key(phrase: &str) -> u64 {
    let mut h = KeyHasher::default();
    for w in phrase.split(' ') {
        h.word(w);
    }
    h.finish()
}

const ID_LABELS: &[(EntityType, &[&str])] = &[
    (
        EntityType::Mrn,
        &[
            "mrn", "mr", "mr no", "mrno", "medical record", "medical record number", "medical record no", "record number",
            "record no", "record", "chart", "chart number", "chart no", "patient id", "pt id", "patient number",
            "hospital number", "unit number", "emr", "ehr id", "hosp no", "med rec", "med rec no", "medrec",
        ],
    ),
    (EntityType::Ssn, &["ssn", "ss", "social security", "social security number", "social security no", "soc sec", "social"]),
    (
        EntityType::HealthPlanId,
        &[
            "member id", "member", "member number", "member no", "subscriber id", "subscriber", "subscriber number",
            "policy", "policy number", "policy no", "policy id", "insurance id", "insurance number", "insurance",
            "health plan", "health plan id", "plan id", "medicaid", "medicaid id", "medicaid number", "medicare",
            "medicare id", "medicare number", "mbi", "hicn", "beneficiary id", "beneficiary", "group number",
            "group no", "insured id", "id card", "coverage id", "plan member",
        ],
    ),
    (
        EntityType::AccountNumber,
        &[
            "account", "account number", "account no", "acct", "acct no", "acc", "billing account", "bank account",
            "checking account", "savings account", "accession", "accession number", "accession no", "claim",
            "claim number", "claim no", "invoice", "invoice number", "guarantor account", "encounter", "encounter number",
            "visit number", "fin", "financial number", "har",
        ],
    ),
    (
        EntityType::LicenseNumber,
        &[
            "license", "licence", "license number", "license no", "lic", "lic no", "driver's license", "drivers license",
            "driver license", "dl", "dl no", "dln", "dea", "dea number", "dea no", "dea registration", "certificate",
            "certificate number", "cert", "cert no", "board certification", "state license", "medical license",
            "nursing license", "permit", "permit number", "npi",
        ],
    ),
    (
        EntityType::VehicleId,
        &[
            "vin", "vehicle identification number", "vehicle id", "vehicle", "plate", "license plate", "licence plate",
            "plate number", "plate no", "tag", "tag number", "registration plate", "car", "truck",
        ],
    ),
    (
        EntityType::DeviceId,
        &[
            "serial", "serial number", "serial no", "sn", "s n", "device", "device id", "device serial", "udi",
            "implant", "implant id", "imei", "pacemaker", "pump serial", "model serial", "asset tag", "asset",
            "equipment id", "pump id", "monitor id",
        ],
    ),
    (
        EntityType::BiometricId,
        &[
            "biometric", "biometric id", "fingerprint", "fingerprint id", "fingerprint template", "voiceprint",
            "voiceprint id", "retina", "retina scan", "iris", "iris scan", "iris template", "face template",
            "palm print", "template id", "biometric template",
        ],
    ),
    (
        EntityType::OtherId,
        &[
            "passport", "passport number", "passport no", "employee id", "employee number", "employee no", "badge",
            "badge number", "student id", "case number", "case no", "case id", "reference number", "ref no",
            "tracking number", "customer id", "client id", "id number", "national id", "alien number", "a number",
            "visa number", "military id", "tax id", "itin", "ein",
        ],
    ),
    (
        EntityType::Phone,
        &[
            "phone", "telephone", "tel", "ph", "cell", "cell phone", "mobile", "mobile phone", "home phone", "work phone",
            "contact", "contact number", "call", "pager", "beeper", "phone number", "callback", "call back", "reached at",
            "cell number", "daytime phone", "evening phone", "voicemail",
        ],
    ),
    (
        EntityType::CreditCard,
        &[
            "card", "credit card", "card number", "card no", "visa", "mastercard", "amex", "american express",
            "discover", "payment card", "debit card", "cc", "cc no", "paid by card", "card on file",
        ],
    ),
    (EntityType::Fax, &["fax", "facsimile", "fax number", "fax no", "fax line", "efax"]),
    (EntityType::Zip, &["zip", "zip code", "zipcode", "postal code", "postcode", "zip+4"]),
];

/// Words that may stand between a label and its value (`MRN is`, `account number on file:`).
const FILLERS: &[&str] = &[
    "is", "was", "no", "number", "num", "nbr", "of", "on", "file", "the", "a", "an", "for", "id", "code", "to", "be",
    "reached", "at", "are", "her", "his", "their", "new", "listed", "as", "reads", "shows", "ending", "in",
];

const DATE_LABELS: &[&str] = &[
    "dob", "date of birth", "birth date", "birthdate", "born", "date", "dated", "on", "since", "from", "until", "admitted",
    "admission", "discharged", "discharge", "seen", "visit", "surgery", "procedure", "dos", "date of service",
    "follow up", "followup", "returned", "expires", "expiration", "collected", "received", "reported", "signed",
    "onset", "last seen", "appointment", "appt", "scheduled", "deceased", "died", "death", "doa", "doi", "injury",
];

const AGE_LABELS: &[&str] = &["age", "aged", "ages", "age is", "years of age"];

const NOT_PHI_LABELS: &[&str] = &[
    "bp", "blood pressure", "hr", "heart rate", "pulse", "p", "rr", "resp", "respiratory rate", "temp", "temperature",
    "t", "spo2", "o2", "o2 sat", "sat", "sats", "saturation", "weight", "wt", "height", "ht", "bmi", "glucose", "bg",
    "fsbg", "hgb", "hb", "hemoglobin", "hct", "wbc", "plt", "platelets", "rbc", "mcv", "na", "sodium", "k",
    "potassium", "cl", "co2", "bun", "cr", "creatinine", "egfr", "gfr", "a1c", "hba1c", "inr", "pt", "ptt", "ldl",
    "hdl", "tsh", "alt", "ast", "alp", "troponin", "bnp", "lactate", "ph", "pco2", "po2", "cholesterol",
    "triglycerides", "calcium", "magnesium", "phosphorus", "albumin", "bilirubin", "lipase", "ferritin", "vitamin",
    "dose", "dosage", "mg", "mcg", "ml", "units", "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "puff",
    "puffs", "drops", "refills", "refill", "qty", "quantity", "lot", "lot number", "lot no", "batch", "exp",
    "room", "rm", "bed", "unit", "floor", "suite", "ward", "bay", "icd", "icd 10", "icd10", "icd 9", "cpt",
    "cpt code", "hcpcs", "loinc", "snomed", "ndc", "code", "dx", "diagnosis", "diagnosis code", "procedure code",
    "modifier", "rev code", "revenue code", "pos", "place of service", "pain", "pain score", "gcs", "apgar", "score",
    "scale", "step", "grade", "stage", "level", "ef", "ejection fraction", "qtc", "qrs", "pr", "interval", "rate",
    "fio2", "peep", "tv", "ie", "cycle", "day", "week", "weeks", "days", "hours", "hour", "minutes", "times", "x",
    "version", "v", "page", "line", "item", "order", "order number", "extension", "ext", "gestation", "para",
    "gravida", "fundal height", "cm", "dilation", "station", "intake", "output", "i o", "total", "net", "balance",
    "amount", "charge", "charges", "copay", "price", "cost", "fee", "paid", "due", "units billed", "qty billed",
];

const TITLES: &[&str] = &[
    "dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "nurse", "rev", "reverend", "judge",
    "officer", "capt", "captain", "sgt", "lt", "coach", "pastor", "rabbi", "imam",
];

const NAME_CUES: &[&str] = &[
    "patient", "pt", "name", "patient name", "pt name", "dear", "wife", "husband", "son", "daughter", "mother", "mom",
    "father", "dad", "brother", "sister", "spouse", "partner", "friend", "neighbor", "neighbour", "caregiver",
    "guardian", "grandmother", "grandfather", "grandson", "granddaughter", "aunt", "uncle", "niece", "nephew",
    "cousin", "fiance", "fiancee", "boyfriend", "girlfriend", "roommate", "employer", "boss", "supervisor", "by",
    "cc", "attn", "attention", "attending", "physician", "provider", "pcp", "surgeon", "referring", "resident",
    "signed", "sincerely", "regards", "thanks", "thank you", "cosigned", "dictated", "transcribed", "contact",
    "emergency contact", "next of kin", "nok", "guarantor", "subscriber", "insured", "member", "responsible party",
    "parent", "child", "patient's", "clinician", "nurse", "consultant", "rn", "lpn", "cna", "np", "seeing", "consult", "therapist", "pharmacist", "technician", "tech", "chaplain",
    "social worker", "case manager", "coordinator", "interpreter", "witness", "proxy", "poa", "power of attorney",
    "representative", "sponsor", "staff", "admin", "operator", "actor", "login", "account holder", "cardholder",
];

const WEAK_NAME_CUES: &[&str] = &[
    "by", "to", "from", "with", "and", "cc", "hi", "hello", "named", "called", "user", "actor", "login", "caller",
    "visitor", "staff", "admin", "operator", "requested", "ordered", "reviewed", "verified", "author", "accompanied",
    "pa", "md", "for", "per", "or", "of", "see", "saw", "met", "meet", "visit",
];

const PLACE_CUES: &[&str] = &[
    "in", "from", "near", "to", "of", "at", "city", "town", "town of", "city of", "village of", "lives", "resides",
    "resident", "moved", "born", "located", "traveled", "travelled", "visiting", "hometown", "municipality",
];

const STOP: &[&str] = &[
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "was", "is", "are", "were", "be",
    "been", "has", "had", "have", "he", "she", "they", "his", "her", "their", "its", "it", "this", "that", "these",
    "those", "no", "not", "yes", "who", "whom", "which", "what", "when", "where", "why", "how", "today", "yesterday",
    "tomorrow", "here", "there", "then", "than", "as", "by", "per", "via", "if", "but", "so", "we", "i", "you", "me",
    "my", "our", "your", "him", "them", "us", "also", "will", "would", "should", "could", "can", "may", "might", "must",
    "do", "does", "did", "done", "all", "any", "some", "each", "every", "other", "another", "same", "such", "up",
    "down", "out", "over", "under", "again", "after", "before", "during", "while", "about", "above", "below", "into",
    "onto", "off", "only", "very", "more", "most", "less", "least", "new", "old", "well", "good", "bad", "please",
    "dob", "mrn", "ssn", "age", "sex", "male", "female", "gender", "date", "time", "phone", "fax", "email", "address",
    "city", "state", "zip", "id", "number", "no", "md", "do", "rn", "np", "pa", "phd", "dds", "dmd", "pharmd", "lpn",
    "cna", "mph", "facs", "facp", "dnp", "crna", "msw", "lcsw", "pt", "ot", "slp", "rd", "home", "none", "unknown",
    "n", "a", "na", "s", "mg", "ml", "am", "pm", "patient", "patients", "name", "names", "mr", "mrs", "ms", "dr",
    "hospital", "clinic", "center", "medical", "reports", "reported", "states", "stated", "denies", "presents",
    "presented", "seen", "evaluated", "admitted", "discharged", "noted", "per", "history", "signed", "electronically",
    "dictated", "transcribed", "reviewed", "call", "called", "contact", "dear", "sincerely", "regards", "thanks",
    "thank", "attending", "physician", "provider", "nurse", "family", "wife", "husband", "son", "daughter", "mother",
    "father", "brother", "sister", "friend", "spouse", "by", "cc", "re", "subject", "note", "notes", "report",
    "summary", "letter", "form", "log", "event", "user", "action", "status", "result", "results", "member", "plan",
    "group", "account", "billing", "claim", "total", "amount", "charge", "visit", "service", "services", "care",
    "primary", "emergency", "department", "unit", "floor", "room", "bed", "ward", "left", "right", "bilateral",
    "normal", "negative", "positive", "stable", "follow", "return", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "st", "saint", "street", "avenue", "road", "drive",
    "lane", "suite", "apt", "box", "po", "usa", "us", "america", "county", "north", "south", "east", "west",
];

/// Words capitalised in clinical text that are never names, places or facility names.
const CLINICAL: &[&str] = &[
    "assessment", "plan", "impression", "diagnosis", "diagnoses", "medications", "medication", "allergies",
    "allergy", "vitals", "vital", "signs", "exam", "examination", "labs", "lab", "imaging", "history", "present",
    "illness", "chief", "complaint", "hpi", "ros", "pmh", "psh", "social", "surgical", "review", "systems",
    "physical", "general", "heent", "neck", "chest", "lungs", "heart", "cardiac", "abdomen", "extremities", "skin",
    "neuro", "psych", "disposition", "instructions", "discharge", "admission", "course", "hospital", "procedure",
    "procedures", "consults", "findings", "condition", "orders", "order", "recommendations", "subjective",
    "objective", "problem", "problems", "list", "triage", "nursing", "progress", "referral", "reason", "laboratory",
    "report", "specimen", "collected", "received", "test", "tests", "reference", "range", "flag", "units", "value",
    "component", "panel", "culture", "billing", "statement", "charges", "insurance", "payer", "payment", "balance",
    "audit", "portal", "login", "logout", "session", "access", "viewed", "downloaded", "updated", "created",
    "deleted", "failed", "success", "ip", "timestamp", "event", "type", "source", "target", "resource", "record",
    "records", "tylenol", "aspirin", "lisinopril", "metformin", "insulin", "heparin", "warfarin", "atorvastatin",
    "amoxicillin", "albuterol", "prednisone", "furosemide", "lasix", "ibuprofen", "acetaminophen", "morphine",
    "oxycodone", "zofran", "ondansetron", "ceftriaxone", "vancomycin", "normal", "saline", "blood", "pressure",
    "rate", "pulse", "temperature", "weight", "height", "oxygen", "saturation", "pain", "score", "cbc", "bmp", "cmp",
    "ekg", "ecg", "ct", "mri", "xray", "x-ray", "ultrasound", "echo", "covid", "influenza", "hypertension",
    "diabetes", "copd", "chf", "cad", "ckd", "afib", "pneumonia", "sepsis", "uti", "mellitus", "type", "acute",
    "chronic", "stable", "improved", "resolved", "continue", "start", "stop", "hold", "increase", "decrease",
    "monitor", "follow-up", "followup", "return", "call", "seek", "care", "emergency", "room", "icu", "ed", "er",
    "or", "pacu", "nicu", "picu", "floor", "unit", "bed", "post-op", "pre-op", "postoperative", "preoperative",
    "ordered", "administered", "given", "tolerated", "well", "patient", "pt", "male", "female", "man", "woman",
    "year-old", "old", "years", "yo", "daily", "bid", "tid", "qid", "prn", "po", "iv", "im", "sq", "subq",
    "tablet", "capsule", "dose", "lot", "exp", "expiration", "manufacturer", "vaccine", "immunization", "flu",
    "tdap", "mmr", "hepatitis", "pfizer", "moderna", "dear", "sincerely", "re", "regarding", "thank", "thanks",
    "colleague", "doctor", "dictated", "signed", "electronically", "attending", "resident", "fellow", "nurse",
    "physician", "surgeon", "provider", "pcp", "cc", "fax", "phone", "email", "address", "city", "state", "zip",
    "dob", "mrn", "ssn", "name", "sex", "age", "gender", "race", "ethnicity", "language", "english", "spanish",
    "married", "single", "divorced", "widowed", "employer", "occupation", "retired", "guarantor", "subscriber",
    "relationship", "self", "spouse", "child", "other", "member", "group", "policy", "primary", "secondary",
    "medicare", "medicaid", "bcbs", "aetna", "cigna", "humana", "united", "kaiser", "anthem", "tricare", "id",
    "account", "claim", "invoice", "cpt", "icd", "loinc", "ndc", "hcpcs", "modifier", "description", "qty",
    "amount", "total", "due", "paid", "adjustment", "date", "service", "provider", "npi", "tax", "visa",
    "mastercard", "amex", "discover", "card", "iban", "bank", "routing", "check", "cash", "device", "serial",
    "model", "implant", "pacemaker", "pump", "vehicle", "vin", "plate", "license", "dea", "passport", "employee",
    "badge", "fingerprint", "biometric", "template", "voiceprint", "url", "web", "website", "link", "server", "host",
    "client", "browser", "agent", "mozilla", "chrome", "safari", "windows", "linux", "mac", "ios", "android",
    "get", "post", "put", "delete", "ok", "error", "warning", "info", "debug", "admin", "clinician", "auditor",
    "staff", "role", "permission", "granted", "denied", "break-glass", "note", "notes", "addendum", "page", "of",
    "assessment/plan", "a/p", "s/p", "h/o", "c/o", "w/", "b/l", "nkda", "nka", "dnr", "full", "code", "ama",
    "bp", "hr", "rr", "spo2", "temp", "wt", "ht", "bmi", "hgb", "wbc", "plt", "na", "k", "cr", "bun", "a1c",
    "inr", "glucose", "ldl", "hdl", "tsh", "alt", "ast", "mg", "mcg", "ml", "meq", "mmol", "mmhg", "bpm", "kg",
    "lbs", "lb", "cm", "mm", "in", "ft", "oz", "hours", "hour", "days", "day", "weeks", "week", "months", "month",
    "year", "am", "pm", "noon", "midnight", "morning", "evening", "night", "afternoon", "today", "tonight",
];

const FACILITY_HEADS: &[&str] = &[
    "hospital", "hospitals", "clinic", "clinics", "pharmacy", "pharmacies", "healthcare", "hospice", "infirmary",
    "institute", "memorial", "associates", "laboratories", "laboratory", "labs", "diagnostics", "pediatrics",
    "sanitarium", "sanatorium", "medical", "healthplex", "polyclinic", "dispensary", "radiology", "imaging",
    "orthopedics", "cardiology", "dermatology", "oncology", "urology", "obgyn", "physicians", "partners",
    "surgicenter", "rehab", "rehabilitation", "dialysis", "practice", "medicine", "health",
];

const FACILITY_GENERIC: &[&str] = &[
    "medical", "health", "care", "regional", "general", "community", "university", "county", "family", "urgent",
    "primary", "specialty", "surgical", "surgery", "cancer", "heart", "children's", "childrens", "women's", "womens",
    "veterans", "va", "behavioral", "mental", "nursing", "rehabilitation", "rehab", "dialysis", "imaging",
    "diagnostic", "eye", "dental", "orthopedic", "orthopaedic", "cardiology", "oncology", "pediatric", "pediatrics",
    "internal", "medicine", "physical", "therapy", "wellness", "home", "senior", "assisted", "living", "skilled",
    "long-term", "acute", "outpatient", "inpatient", "ambulatory", "emergency", "trauma", "teaching", "state",
    "national", "the", "of", "and", "&", "hospital", "clinic", "practice", "group", "associates", "partners",
    "physicians", "women", "children", "kids", "institute", "sleep", "vascular", "spine", "sports", "plastic",
    "vision", "hearing", "lab", "labs", "laboratory", "radiology", "pharmacy", "drug", "drugs", "healthcare",
    "system", "systems", "network", "alliance", "center", "centre", "centers", "services", "outside", "local",
    "another", "nearby", "previous", "prior", "current", "different", "nearest", "same", "public", "occupational",
    "student", "employee", "global", "population", "integrative", "preventive", "men's", "memorial", "hospice",
    "specialists", "specialist", "city",
];

const FACILITY_TAILS: &[&str] = &[
    "care", "center", "centre", "centers", "group", "home", "system", "systems", "network", "services", "plaza", "campus",
    "pavilion", "unit", "facility", "ltd", "llc", "inc", "pc", "pllc", "pa", "office", "offices", "alliance",
];

const STATES: &[(&str, &str)] = &[
    ("al", "alabama"), ("ak", "alaska"), ("az", "arizona"), ("ar", "arkansas"), ("ca", "california"),
    ("co", "colorado"), ("ct", "connecticut"), ("de", "delaware"), ("fl", "florida"), ("ga", "georgia"),
    ("hi", "hawaii"), ("id", "idaho"), ("il", "illinois"), ("in", "indiana"), ("ia", "iowa"), ("ks", "kansas"),
    ("ky", "kentucky"), ("la", "louisiana"), ("me", "maine"), ("md", "maryland"), ("ma", "massachusetts"),
    ("mi", "michigan"), ("mn", "minnesota"), ("ms", "mississippi"), ("mo", "missouri"), ("mt", "montana"),
    ("ne", "nebraska"), ("nv", "nevada"), ("nh", "new hampshire"), ("nj", "new jersey"), ("nm", "new mexico"),
    ("ny", "new york"), ("nc", "north carolina"), ("nd", "north dakota"), ("oh", "ohio"), ("ok", "oklahoma"),
    ("or", "oregon"), ("pa", "pennsylvania"), ("ri", "rhode island"), ("sc", "south carolina"),
    ("sd", "south dakota"), ("tn", "tennessee"), ("tx", "texas"), ("ut", "utah"), ("vt", "vermont"),
    ("va", "virginia"), ("wa", "washington"), ("wv", "west virginia"), ("wi", "wisconsin"), ("wy", "wyoming"),
    ("dc", "district of columbia"), ("pr", "puerto rico"), ("gu", "guam"), ("vi", "virgin islands"),
    ("as", "american samoa"), ("mp", "northern mariana islands"),
];

/// The USPS state abbreviations, for the `STATE 12345` pattern.
pub fn state_abbreviations() -> impl Iterator<Item = &'static str> {
    STATES.iter().map(|(a, _)| *a)
}

/// The state names, for the `State 12345` pattern.
pub fn state_names() -> impl Iterator<Item = &'static str> {
    STATES.iter().map(|(_, n)| *n)
}

const UNITS: &[&str] = &[
    "mg", "mcg", "ug", "g", "kg", "lb", "lbs", "oz", "ml", "l", "dl", "cc", "units", "unit", "u", "iu", "meq",
    "mmol", "mol", "mmhg", "bpm", "cm", "mm", "m", "in", "inch", "inches", "ft", "feet", "%", "percent", "tab",
    "tabs", "tablet", "tablets", "cap", "caps", "capsule", "capsules", "puff", "puffs", "drop", "drops", "spray",
    "sprays", "patch", "hours", "hour", "hrs", "hr", "h", "minutes", "minute", "min", "mins", "seconds", "sec",
    "days", "day", "d", "weeks", "week", "wk", "wks", "months", "month", "mo", "mos", "times", "x", "doses",
    "dose", "refills", "breaths", "beats", "degrees", "deg", "f", "c", "g/dl", "mg/dl", "mmol/l", "ng/ml",
    "pg/ml", "u/l", "iu/l", "k/ul", "ml/min", "l/min", "am", "pm", "a.m", "p.m", "o'clock", "ounces", "pounds",
    "grams", "milligrams", "liters", "kilograms", "cups", "glasses", "packs", "pack", "cigarettes", "drinks",
    "beers", "steps", "stairs", "blocks", "miles", "mile", "km", "mph", "cal", "kcal", "calories", "servings",
    "pills", "pill", "vials", "vial", "ampules", "bags", "bag", "liter", "gtt", "gtts", "sprays", "inhalations",
];

impl Lexicon {
    /// The shared vocabulary, built once.
    pub fn get() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(Lexicon::build)
    }

    fn build() -> Self {
        let mut labels = FxHashMap::default();
        // Later inserts win: non-PHI measurement labels first, then dates and ages, then identifier labels.
        for l in NOT_PHI_LABELS {
            labels.insert(phrase_key(l), Label::NotPhi);
        }
        for l in DATE_LABELS {
            labels.insert(phrase_key(l), Label::Date);
        }
        for l in AGE_LABELS {
            labels.insert(phrase_key(l), Label::Age);
        }
        for (ty, phrases) in ID_LABELS {
            for p in *phrases {
                labels.insert(phrase_key(p), Label::Id(*ty));
            }
        }
        let mut roles: FxHashMap<u64, u8> = FxHashMap::default();
        for (words, bit) in [
            (CLINICAL, role::CLINICAL),
            (STOP, role::STOP),
            (PLACE_CUES, role::PLACE_CUE),
            (NAME_CUES, role::NAME_CUE),
            (WEAK_NAME_CUES, role::WEAK_NAME_CUE),
            (TITLES, role::TITLE),
        ] {
            for w in words {
                *roles.entry(phrase_key(w)).or_insert(0) |= bit;
            }
        }
        let mut facility = FxHashMap::default();
        for w in FACILITY_GENERIC {
            facility.insert(phrase_key(w), FacilityWord::Generic);
        }
        for w in FACILITY_TAILS {
            facility.insert(phrase_key(w), FacilityWord::TailAfterGeneric);
        }
        for w in FACILITY_HEADS {
            facility.insert(phrase_key(w), FacilityWord::Head);
        }
        let mut states = FxHashMap::default();
        for (abbr, name) in STATES {
            states.insert(phrase_key(abbr), 1);
            states.insert(phrase_key(name), name.split(' ').count() as u8);
        }
        let units = UNITS.iter().map(|u| (phrase_key(u), ())).collect();
        let fillers = FILLERS.iter().map(|u| (phrase_key(u), ())).collect();
        Self { labels, roles, facility, states, units, fillers }
    }

    pub fn label(&self, hash: u64) -> Option<Label> {
        self.labels.get(&hash).copied()
    }

    /// The [`role`] bits of a hashed word or phrase (0 when it has none).
    pub fn role(&self, hash: u64) -> u8 {
        self.roles.get(&hash).copied().unwrap_or(0)
    }

    pub fn facility(&self, hash: u64) -> Option<FacilityWord> {
        self.facility.get(&hash).copied()
    }

    /// Whether the hashed words are a US state or territory name or abbreviation.
    pub fn is_state(&self, hash: u64) -> bool {
        self.states.contains_key(&hash)
    }

    /// Whether a word may stand between a label and its value.
    pub fn is_filler(&self, hash: u64) -> bool {
        self.fillers.contains_key(&hash)
    }

    pub fn is_unit(&self, hash: u64) -> bool {
        self.units.contains_key(&hash)
    }
}

/// Hash of one word, for the lookups above.
pub fn word_key(word: &str) -> u64 {
    KeyHasher::default().word(word).finish()
}
