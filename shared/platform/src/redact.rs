//! Wrappers that keep PHI and secrets out of logs: their `Debug`, `Display` and `Serialize` print a marker.
//!
//! The value is reached only through `expose()`, so every place that lets PHI out is greppable.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// What a redacted value prints as.
pub const REDACTION_MARKER: &str = "[REDACTED]";

/// Protected health information: prints as [`REDACTION_MARKER`] everywhere.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Phi<T>(T);

/// A secret (key, token, password): prints as [`REDACTION_MARKER`] and is zeroized when dropped.
#[derive(Clone, Default)]
pub struct Secret<T: Zeroize>(T);

impl<T> Phi<T> {
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself; call only where PHI is meant to leave (a response to an authorized caller, storage).
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself; call only to use it (sign, hash, encrypt).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize + PartialEq> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> From<T> for Phi<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

macro_rules! redacted_formatting {
    ($ty:ident, $($bound:tt)*) => {
        impl<T: $($bound)*> fmt::Debug for $ty<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(REDACTION_MARKER)
            }
        }

        impl<T: $($bound)*> fmt::Display for $ty<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(REDACTION_MARKER)
            }
        }

        impl<T: $($bound)*> Serialize for $ty<T> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(REDACTION_MARKER)
            }
        }
    };
}

redacted_formatting!(Phi, Sized);
redacted_formatting!(Secret, Zeroize);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Phi<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

impl<'de, T: Deserialize<'de> + Zeroize> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    struct Patient {
        id: String,
        name: Phi<String>,
        password: Secret<String>,
    }

    #[test]
    fn phi_and_secrets_never_print() {
        let patient: Patient =
            serde_json::from_str(r#"{"id":"p-1","name":"Jane Roe","password":"hunter2-hunter2"}"#).unwrap();
        let rendered =
            format!("{patient:?} {} {} {}", patient.name, patient.password, serde_json::to_string(&patient).unwrap());
        assert!(!rendered.contains("Jane"), "{rendered}");
        assert!(!rendered.contains("hunter2"), "{rendered}");
        assert!(rendered.contains("p-1"));
        assert_eq!(serde_json::to_value(&patient).unwrap()["name"], REDACTION_MARKER);
    }

    #[test]
    fn expose_returns_the_value() {
        let name = Phi::new("Jane Roe".to_owned());
        assert_eq!(name.expose(), "Jane Roe");
        assert_eq!(Secret::new(String::from("k")).expose(), "k");
    }
}
