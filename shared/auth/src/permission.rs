//! Roles and the named permissions they grant: the one table in code that says who may do what.
//!
//! Relationship rules (a clinician reaches only the patients on their care team) are the records API's; this table
//! says which kinds of action a role may attempt at all.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role a user holds. A user may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users and roles, erases patients; sees no clinical content.
    Admin,
    /// Treats patients: reads and writes the records of their care team's patients.
    Clinician,
    /// Reviews the audit trail and the accounting of disclosures; reads no clinical text.
    Auditor,
    /// Handles documents and de-identified text; sees no PHI.
    Staff,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Clinician, Role::Auditor, Role::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Clinician => "clinician",
            Self::Auditor => "auditor",
            Self::Staff => "staff",
        }
    }

    /// The permissions this role grants.
    pub fn permissions(self) -> &'static [Permission] {
        GRANTS.iter().find(|(role, _)| *role == self).map(|(_, permissions)| *permissions).unwrap_or(&[])
    }

    /// Whether this role grants `permission`.
    pub fn grants(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value is not one of `admin`, `clinician`, `auditor`, `staff`.
#[derive(Debug, thiserror::Error)]
#[error("unknown role: expected one of admin, clinician, auditor, staff")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == s).ok_or(UnknownRole)
    }
}

/// A named kind of action. Routes ask for one with `Principal::require` or [`crate::require`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// `patients:read`: a patient's demographics.
    PatientsRead,
    /// `patients:write`: create and update patients.
    PatientsWrite,
    /// `patients:erase`: erase a patient by crypto-shredding.
    PatientsErase,
    /// `care_team:manage`: add and remove care-team members.
    CareTeamManage,
    /// `notes:read_phi`: the full text of clinical notes.
    NotesReadPhi,
    /// `notes:read_deidentified`: the de-identified text of clinical notes.
    NotesReadDeidentified,
    /// `notes:write`: write clinical notes.
    NotesWrite,
    /// `documents:read`: a document's metadata and processing status.
    DocumentsRead,
    /// `documents:write`: register and upload documents.
    DocumentsWrite,
    /// `documents:read_phi`: a document's extracted text, entities and content.
    DocumentsReadPhi,
    /// `documents:read_deidentified`: a document's de-identified text.
    DocumentsReadDeidentified,
    /// `breakglass:request`: emergency access to a patient outside the care team (audited, time-boxed).
    BreakGlassRequest,
    /// `audit:read`: search the audit trail.
    AuditRead,
    /// `disclosures:read`: a patient's accounting of disclosures.
    DisclosuresRead,
    /// `users:admin`: create, list, change and disable users.
    UsersAdmin,
    /// `phi:analyze`: run PHI detection, redaction and de-identification on submitted text.
    PhiAnalyze,
    /// `phi:decrypt`: reverse `encrypt`-operator tokens back to the original values.
    PhiDecrypt,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Permission::PatientsRead,
        Permission::PatientsWrite,
        Permission::PatientsErase,
        Permission::CareTeamManage,
        Permission::NotesReadPhi,
        Permission::NotesReadDeidentified,
        Permission::NotesWrite,
        Permission::DocumentsRead,
        Permission::DocumentsWrite,
        Permission::DocumentsReadPhi,
        Permission::DocumentsReadDeidentified,
        Permission::BreakGlassRequest,
        Permission::AuditRead,
        Permission::DisclosuresRead,
        Permission::UsersAdmin,
        Permission::PhiAnalyze,
        Permission::PhiDecrypt,
    ];

    /// The permission's name, as audit events and documentation spell it (`patients:read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PatientsRead => "patients:read",
            Self::PatientsWrite => "patients:write",
            Self::PatientsErase => "patients:erase",
            Self::CareTeamManage => "care_team:manage",
            Self::NotesReadPhi => "notes:read_phi",
            Self::NotesReadDeidentified => "notes:read_deidentified",
            Self::NotesWrite => "notes:write",
            Self::DocumentsRead => "documents:read",
            Self::DocumentsWrite => "documents:write",
            Self::DocumentsReadPhi => "documents:read_phi",
            Self::DocumentsReadDeidentified => "documents:read_deidentified",
            Self::BreakGlassRequest => "breakglass:request",
            Self::AuditRead => "audit:read",
            Self::DisclosuresRead => "disclosures:read",
            Self::UsersAdmin => "users:admin",
            Self::PhiAnalyze => "phi:analyze",
            Self::PhiDecrypt => "phi:decrypt",
        }
    }

    /// Whether the permission also needs a second factor in the session (`amr` holding `otp` or `hwk`), except in
    /// the local stack's dev mode: the administrative powers whose misuse is hardest to undo.
    pub fn requires_mfa(self) -> bool {
        matches!(self, Self::UsersAdmin | Self::PatientsErase)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which role grants which permissions. Minimum necessary: no role holds a permission its work does not need.
pub const GRANTS: &[(Role, &[Permission])] = &[
    (
        Role::Admin,
        &[Permission::UsersAdmin, Permission::PatientsErase, Permission::CareTeamManage, Permission::DisclosuresRead],
    ),
    (
        Role::Clinician,
        &[
            Permission::PatientsRead,
            Permission::PatientsWrite,
            Permission::CareTeamManage,
            Permission::NotesReadPhi,
            Permission::NotesReadDeidentified,
            Permission::NotesWrite,
            Permission::DocumentsRead,
            Permission::DocumentsWrite,
            Permission::DocumentsReadPhi,
            Permission::DocumentsReadDeidentified,
            Permission::BreakGlassRequest,
            Permission::PhiAnalyze,
            Permission::PhiDecrypt,
        ],
    ),
    (Role::Auditor, &[Permission::AuditRead, Permission::DisclosuresRead]),
    (
        Role::Staff,
        &[
            Permission::DocumentsRead,
            Permission::DocumentsWrite,
            Permission::DocumentsReadDeidentified,
            Permission::NotesReadDeidentified,
            Permission::PhiAnalyze,
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_row_and_every_permission_a_holder() {
        for role in Role::ALL {
            assert!(!role.permissions().is_empty(), "{role} grants nothing");
        }
        for permission in Permission::ALL {
            assert!(Role::ALL.iter().any(|r| r.grants(permission)), "{permission} is granted to no role");
        }
    }

    #[test]
    fn only_clinicians_read_phi_and_only_auditors_read_the_audit_trail() {
        let phi = [Permission::PatientsRead, Permission::NotesReadPhi, Permission::DocumentsReadPhi];
        for permission in phi {
            let holders: Vec<Role> = Role::ALL.into_iter().filter(|r| r.grants(permission)).collect();
            assert_eq!(holders, [Role::Clinician], "{permission}");
        }
        let auditors: Vec<Role> = Role::ALL.into_iter().filter(|r| r.grants(Permission::AuditRead)).collect();
        assert_eq!(auditors, [Role::Auditor]);
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("root".parse::<Role>().is_err());
    }
}
