//! The records' domain types, parsed once at the edge: patients' demographics, notes, documents and their states.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use medvault_platform::Phi;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Why a request's body or parameter does not make a valid record. Names the field, never echoes its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct Invalid {
    pub field: &'static str,
    pub problem: &'static str,
}

fn invalid(field: &'static str, problem: &'static str) -> Invalid {
    Invalid { field, problem }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A patient's id.
    PatientId
);
uuid_id!(
    /// A note's id (time-ordered, so the newest sorts last).
    NoteId
);
uuid_id!(
    /// A document's id.
    DocumentId
);

/// A medical record number: 1 to 32 characters of letters, digits and `-`, compared without case.
#[derive(Clone, PartialEq, Eq)]
pub struct Mrn(Phi<String>);

impl Mrn {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        if value.is_empty() || value.len() > 32 {
            return Err(invalid("mrn", "must be 1 to 32 characters"));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(invalid("mrn", "may hold only letters, digits and '-'"));
        }
        Ok(Self(Phi::new(value.to_ascii_uppercase())))
    }

    /// The normalized value (upper case), as stored and indexed.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Mrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mrn({:?})", self.0)
    }
}

/// A person's name as FHIR holds it: given names and a family name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HumanName {
    pub given: Vec<String>,
    pub family: String,
}

/// Administrative sex (FHIR `AdministrativeGender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
    Other,
    Unknown,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "male" => Ok(Self::Male),
            "female" => Ok(Self::Female),
            "other" => Ok(Self::Other),
            "unknown" => Ok(Self::Unknown),
            _ => Err(invalid("sex", "must be one of male, female, other, unknown")),
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Address {
    pub line: Vec<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
}

/// `POST /v1/patients` and the full form of a patient's demographics in responses.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PatientInput {
    /// Medical record number.
    #[schema(example = "MRN-004512")]
    pub mrn: String,
    pub name: HumanName,
    /// `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date, example = "1961-03-14")]
    pub birth_date: String,
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

impl fmt::Debug for PatientInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatientInput([REDACTED])")
    }
}

/// `PATCH /v1/patients/{id}`: the fields to change; `null` removes an optional one.
#[derive(Clone, Default, Deserialize, ToSchema)]
pub struct PatientPatch {
    pub mrn: Option<String>,
    pub name: Option<HumanName>,
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<String>,
    pub sex: Option<Sex>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Address>)]
    pub address: Option<Option<Address>>,
}

impl fmt::Debug for PatientPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatientPatch([REDACTED])")
    }
}

/// Distinguishes a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A patient's demographics, validated. Every field is PHI and is stored encrypted.
#[derive(Clone, PartialEq, Eq)]
pub struct Demographics {
    pub mrn: Mrn,
    pub name: HumanName,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<Address>,
}

impl fmt::Debug for Demographics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Demographics([REDACTED])")
    }
}

fn text_field(field: &'static str, value: &str, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(invalid(field, "is too long or holds control characters"));
    }
    Ok(value.to_owned())
}

fn parse_name(name: &HumanName) -> Result<HumanName, Invalid> {
    if name.given.is_empty() || name.given.len() > 5 {
        return Err(invalid("name.given", "must hold 1 to 5 names"));
    }
    Ok(HumanName {
        given: name.given.iter().map(|g| text_field("name.given", g, 100)).collect::<Result<_, _>>()?,
        family: text_field("name.family", &name.family, 100)?,
    })
}

fn parse_birth_date(value: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| invalid("birth_date", "must be YYYY-MM-DD"))?;
    if date > today || date < NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(invalid("birth_date", "must be a past date after 1880"));
    }
    Ok(date)
}

fn parse_phone(value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !allowed || !(7..=15).contains(&digits) {
        return Err(invalid("phone", "must be a phone number of 7 to 15 digits"));
    }
    Ok(value.to_owned())
}

fn parse_email(value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    let valid = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(invalid("email", "must be an email address"));
    }
    Ok(value.to_owned())
}

fn parse_address(address: &Address) -> Result<Address, Invalid> {
    if address.line.is_empty() || address.line.len() > 4 {
        return Err(invalid("address.line", "must hold 1 to 4 lines"));
    }
    Ok(Address {
        line: address.line.iter().map(|l| text_field("address.line", l, 200)).collect::<Result<_, _>>()?,
        city: text_field("address.city", &address.city, 100)?,
        state: text_field("address.state", &address.state, 100)?,
        postal_code: text_field("address.postal_code", &address.postal_code, 20)?,
    })
}

impl Demographics {
    /// Validates a new patient's input.
    pub fn parse(input: &PatientInput, today: NaiveDate) -> Result<Self, Invalid> {
        Ok(Self {
            mrn: Mrn::parse(&input.mrn)?,
            name: parse_name(&input.name)?,
            birth_date: parse_birth_date(&input.birth_date, today)?,
            sex: input.sex,
            phone: input.phone.as_deref().map(parse_phone).transpose()?,
            email: input.email.as_deref().map(parse_email).transpose()?,
            address: input.address.as_ref().map(parse_address).transpose()?,
        })
    }

    /// These demographics with `patch` applied, validated.
    pub fn patched(&self, patch: &PatientPatch, today: NaiveDate) -> Result<Self, Invalid> {
        let mut next = self.clone();
        if let Some(mrn) = &patch.mrn {
            next.mrn = Mrn::parse(mrn)?;
        }
        if let Some(name) = &patch.name {
            next.name = parse_name(name)?;
        }
        if let Some(date) = &patch.birth_date {
            next.birth_date = parse_birth_date(date, today)?;
        }
        if let Some(sex) = patch.sex {
            next.sex = sex;
        }
        if let Some(phone) = &patch.phone {
            next.phone = phone.as_deref().map(parse_phone).transpose()?;
        }
        if let Some(email) = &patch.email {
            next.email = email.as_deref().map(parse_email).transpose()?;
        }
        if let Some(address) = &patch.address {
            next.address = address.as_ref().map(parse_address).transpose()?;
        }
        Ok(next)
    }

    /// The response form.
    pub fn to_input(&self) -> PatientInput {
        PatientInput {
            mrn: self.mrn.expose().to_owned(),
            name: self.name.clone(),
            birth_date: self.birth_date.format("%Y-%m-%d").to_string(),
            sex: self.sex,
            phone: self.phone.clone(),
            email: self.email.clone(),
            address: self.address.clone(),
        }
    }
}

/// A stored patient: demographics decrypted, with its version.
#[derive(Debug, Clone)]
pub struct Patient {
    pub id: PatientId,
    pub version: u64,
    pub demographics: Demographics,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/patients/{id}` and friends.
#[derive(Clone, Serialize, ToSchema)]
pub struct PatientView {
    pub id: PatientId,
    /// The version `ETag` and `If-Match` carry.
    pub version: u64,
    #[serde(flatten)]
    pub demographics: PatientInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for PatientView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatientView").field("id", &self.id).finish_non_exhaustive()
    }
}

impl From<&Patient> for PatientView {
    fn from(patient: &Patient) -> Self {
        Self {
            id: patient.id,
            version: patient.version,
            demographics: patient.demographics.to_input(),
            created_at: patient.created_at,
            updated_at: patient.updated_at,
        }
    }
}

/// `POST /v1/patients/{id}/notes`.
#[derive(Clone, Deserialize, ToSchema)]
pub struct NoteInput {
    pub text: String,
}

impl fmt::Debug for NoteInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoteInput([REDACTED])")
    }
}

/// The largest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 100_000;

/// A note as a caller may see it: the full text only for roles with PHI access.
#[derive(Clone, Serialize, ToSchema)]
pub struct NoteView {
    pub id: NoteId,
    pub patient_id: PatientId,
    pub author_id: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub deidentified_text: String,
    /// How many entities of each PHI type the engine found (types and counts, never values).
    #[schema(value_type = Object)]
    pub entities: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for NoteView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteView").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A document's processing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    PendingUpload,
    Uploaded,
    Extracting,
    Detecting,
    Ready,
    Quarantined,
    Failed,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingUpload => "pending_upload",
            Self::Uploaded => "uploaded",
            Self::Extracting => "extracting",
            Self::Detecting => "detecting",
            Self::Ready => "ready",
            Self::Quarantined => "quarantined",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::PendingUpload,
            Self::Uploaded,
            Self::Extracting,
            Self::Detecting,
            Self::Ready,
            Self::Quarantined,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// The content types a document may have: what the pipeline can read.
pub const ALLOWED_CONTENT_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "audio/wav",
    "audio/x-wav",
    "audio/flac",
    "audio/mpeg",
    "audio/ogg",
];

/// `POST /v1/patients/{id}/documents`.
#[derive(Clone, Deserialize, ToSchema)]
pub struct DocumentInput {
    pub filename: String,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// The exact size of the file in bytes; the upload must match it.
    pub size: u64,
}

impl fmt::Debug for DocumentInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentInput").field("content_type", &self.content_type).field("size", &self.size).finish()
    }
}

/// A validated document registration.
#[derive(Clone)]
pub struct NewDocument {
    pub filename: Phi<String>,
    pub content_type: &'static str,
    pub size: u64,
}

impl fmt::Debug for NewDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewDocument").field("content_type", &self.content_type).field("size", &self.size).finish()
    }
}

impl NewDocument {
    pub fn parse(input: &DocumentInput, max_size: u64) -> Result<Self, Invalid> {
        let filename = text_field("filename", &input.filename, 255)?;
        if filename.contains('/') || filename.contains('\\') {
            return Err(invalid("filename", "must be a file name, not a path"));
        }
        let content_type = input.content_type.trim().to_ascii_lowercase();
        let content_type = ALLOWED_CONTENT_TYPES.iter().find(|allowed| **allowed == content_type).ok_or_else(|| {
            invalid("content_type", "is not an accepted type (PDF, PNG, JPEG, TIFF, WAV, FLAC, MP3, OGG)")
        })?;
        if input.size == 0 || input.size > max_size {
            return Err(invalid("size", "must be between 1 byte and the upload limit"));
        }
        Ok(Self { filename: Phi::new(filename), content_type, size: input.size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn input() -> PatientInput {
        serde_json::from_value(serde_json::json!({
            "mrn": "mrn-0042", "name": {"given": ["Jane"], "family": "Roe"}, "birth_date": "1961-03-14",
            "sex": "female", "phone": "+1 (555) 010-0147", "email": "jane@example.org",
            "address": {"line": ["1 Main St"], "city": "Springfield", "state": "IL", "postal_code": "62701"}
        }))
        .unwrap()
    }

    #[test]
    fn a_valid_patient_parses_with_its_mrn_normalized() {
        let demographics = Demographics::parse(&input(), today()).unwrap();
        assert_eq!(demographics.mrn.expose(), "MRN-0042");
        assert_eq!(demographics.to_input().birth_date, "1961-03-14");
    }

    #[test]
    fn invalid_fields_are_named_without_their_values() {
        let cases = [
            (PatientInput { mrn: "a b".into(), ..input() }, "mrn"),
            (PatientInput { birth_date: "14/03/1961".into(), ..input() }, "birth_date"),
            (PatientInput { birth_date: "2099-01-01".into(), ..input() }, "birth_date"),
            (PatientInput { email: Some("jane-at-example".into()), ..input() }, "email"),
            (PatientInput { phone: Some("call me".into()), ..input() }, "phone"),
        ];
        for (bad, field) in cases {
            let error = Demographics::parse(&bad, today()).unwrap_err();
            assert_eq!(error.field, field);
            assert!(!error.to_string().contains("jane-at-example"));
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_null_removes() {
        let demographics = Demographics::parse(&input(), today()).unwrap();
        let patch: PatientPatch =
            serde_json::from_str(r#"{"phone": null, "name": {"given":["Janet"],"family":"Roe"}}"#).unwrap();
        let next = demographics.patched(&patch, today()).unwrap();
        assert_eq!(next.name.given, ["Janet"]);
        assert_eq!(next.phone, None);
        assert_eq!(next.email, demographics.email);
    }

    #[test]
    fn documents_accept_only_allowed_types_and_sizes() {
        let doc = |ct: &str, size| DocumentInput { filename: "scan.pdf".into(), content_type: ct.into(), size };
        assert_eq!(NewDocument::parse(&doc("Application/PDF", 10), 100).unwrap().content_type, "application/pdf");
        assert_eq!(NewDocument::parse(&doc("text/html", 10), 100).unwrap_err().field, "content_type");
        assert_eq!(NewDocument::parse(&doc("image/png", 101), 100).unwrap_err().field, "size");
        assert_eq!(NewDocument::parse(&doc("image/png", 0), 100).unwrap_err().field, "size");
        let path = DocumentInput { filename: "../etc/passwd".into(), ..doc("image/png", 1) };
        assert_eq!(NewDocument::parse(&path, 100).unwrap_err().field, "filename");
    }

    #[test]
    fn demographics_never_print() {
        let demographics = Demographics::parse(&input(), today()).unwrap();
        let printed = format!("{demographics:?} {:?} {:?}", input(), demographics.mrn);
        assert!(!printed.contains("Roe") && !printed.contains("MRN-0042"), "{printed}");
    }
}
