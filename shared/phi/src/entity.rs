//! The entity types of `shared/phi-taxonomy.md` and the spans the detector reports.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One PHI/PII type; the serialized names are exactly the taxonomy's UPPER_SNAKE strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    Person,
    Address,
    City,
    Zip,
    Facility,
    Date,
    #[serde(rename = "AGE_OVER_89")]
    AgeOver89,
    Phone,
    Fax,
    Email,
    Ssn,
    Mrn,
    HealthPlanId,
    AccountNumber,
    LicenseNumber,
    VehicleId,
    DeviceId,
    Url,
    IpAddress,
    BiometricId,
    OtherId,
    CreditCard,
    Iban,
}

impl EntityType {
    /// Every type, in the taxonomy's order (also the tie-break order of overlap resolution).
    pub const ALL: [EntityType; 23] = [
        Self::Person,
        Self::Address,
        Self::City,
        Self::Zip,
        Self::Facility,
        Self::Date,
        Self::AgeOver89,
        Self::Phone,
        Self::Fax,
        Self::Email,
        Self::Ssn,
        Self::Mrn,
        Self::HealthPlanId,
        Self::AccountNumber,
        Self::LicenseNumber,
        Self::VehicleId,
        Self::DeviceId,
        Self::Url,
        Self::IpAddress,
        Self::BiometricId,
        Self::OtherId,
        Self::CreditCard,
        Self::Iban,
    ];

    /// The taxonomy name (`PERSON`, `AGE_OVER_89`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Person => "PERSON",
            Self::Address => "ADDRESS",
            Self::City => "CITY",
            Self::Zip => "ZIP",
            Self::Facility => "FACILITY",
            Self::Date => "DATE",
            Self::AgeOver89 => "AGE_OVER_89",
            Self::Phone => "PHONE",
            Self::Fax => "FAX",
            Self::Email => "EMAIL",
            Self::Ssn => "SSN",
            Self::Mrn => "MRN",
            Self::HealthPlanId => "HEALTH_PLAN_ID",
            Self::AccountNumber => "ACCOUNT_NUMBER",
            Self::LicenseNumber => "LICENSE_NUMBER",
            Self::VehicleId => "VEHICLE_ID",
            Self::DeviceId => "DEVICE_ID",
            Self::Url => "URL",
            Self::IpAddress => "IP_ADDRESS",
            Self::BiometricId => "BIOMETRIC_ID",
            Self::OtherId => "OTHER_ID",
            Self::CreditCard => "CREDIT_CARD",
            Self::Iban => "IBAN",
        }
    }

    /// The group a type is scored in: PHONE and FAX count as one.
    pub const fn score_group(self) -> EntityType {
        match self {
            Self::Fax => Self::Phone,
            other => other,
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not in the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PHI entity type `{0}` (see phi-taxonomy.md)")]
pub struct UnknownEntityType(pub String);

impl FromStr for EntityType {
    type Err = UnknownEntityType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| UnknownEntityType(s.into()))
    }
}

/// A detected entity: `start`/`end` are Unicode code points of the original text, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

impl Entity {
    /// Number of code points covered.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn overlaps(&self, other: &Entity) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_taxonomy_names() {
        for t in EntityType::ALL {
            assert_eq!(serde_json::to_string(&t).expect("json"), format!("\"{}\"", t.as_str()));
            assert_eq!(t.as_str().parse::<EntityType>().expect("parse"), t);
        }
    }
}
