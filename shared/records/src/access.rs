//! Who may reach which patient: the relationship rules on top of the role permissions. Pure.
//!
//! Role permissions (`medvault_auth::Permission`) say which kinds of action a role may attempt at all, and are
//! checked first (`403` when missing). These rules say whether the caller may attempt it on *this* patient:
//! - clinical content (demographics, notes, document text) needs a relationship: the caller is on the patient's
//!   care team, or holds an unexpired break-glass grant;
//! - the care team is managed by its members or by an administrator; break-glass does not let a clinician add
//!   themself to the team;
//! - de-identified content, disclosures and erasure are granted by role alone.
//!
//! A denied relationship answers `404`, exactly like an id that does not exist.

use chrono::{DateTime, Utc};

/// What the caller wants to do with a patient's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Read demographics, full note text, document text or content.
    ReadPhi,
    /// Change demographics, write notes, register documents.
    WritePhi,
    /// Add or remove care-team members.
    ManageCareTeam,
    /// Read de-identified content only (staff).
    ReadDeidentified,
    /// Role-only actions: erasure, the accounting of disclosures, registering documents without reading them.
    Administer,
}

/// The caller's standing with the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relationship {
    pub on_care_team: bool,
    /// When the caller's break-glass grant ends, if they hold one.
    pub grant_expires_at: Option<DateTime<Utc>>,
}

/// Why access was allowed: the audit event's purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Treatment by a care-team member.
    CareTeam,
    /// An active break-glass grant.
    BreakGlass,
    /// The caller's role alone (operations, administration).
    Role,
}

impl Basis {
    /// The audit event's `purpose`.
    pub fn purpose(self) -> &'static str {
        match self {
            Self::CareTeam => "treatment",
            Self::BreakGlass => "break-glass",
            Self::Role => "operations",
        }
    }
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Basis),
    /// Denied, with the audit reason code.
    Deny(&'static str),
}

/// Decides `intent` for a caller with `relationship` at `now`; `is_admin` is whether the caller holds the admin
/// role (which manages care teams without being on them).
pub fn decide(intent: Intent, relationship: Relationship, is_admin: bool, now: DateTime<Utc>) -> Decision {
    let grant_active = relationship.grant_expires_at.is_some_and(|until| now < until);
    match intent {
        Intent::ReadPhi | Intent::WritePhi => {
            if relationship.on_care_team {
                Decision::Allow(Basis::CareTeam)
            } else if grant_active {
                Decision::Allow(Basis::BreakGlass)
            } else if relationship.grant_expires_at.is_some() {
                Decision::Deny("break-glass-expired")
            } else {
                Decision::Deny("not-on-care-team")
            }
        }
        Intent::ManageCareTeam => {
            if relationship.on_care_team {
                Decision::Allow(Basis::CareTeam)
            } else if is_admin {
                Decision::Allow(Basis::Role)
            } else {
                Decision::Deny("not-on-care-team")
            }
        }
        Intent::ReadDeidentified => {
            if relationship.on_care_team {
                Decision::Allow(Basis::CareTeam)
            } else if grant_active {
                Decision::Allow(Basis::BreakGlass)
            } else {
                Decision::Allow(Basis::Role)
            }
        }
        Intent::Administer => Decision::Allow(Basis::Role),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").unwrap().with_timezone(&Utc)
    }

    const MEMBER: Relationship = Relationship { on_care_team: true, grant_expires_at: None };
    const STRANGER: Relationship = Relationship { on_care_team: false, grant_expires_at: None };

    #[test]
    fn care_team_members_read_and_write_and_strangers_do_not() {
        assert_eq!(decide(Intent::ReadPhi, MEMBER, false, now()), Decision::Allow(Basis::CareTeam));
        assert_eq!(decide(Intent::WritePhi, MEMBER, false, now()), Decision::Allow(Basis::CareTeam));
        assert_eq!(decide(Intent::ReadPhi, STRANGER, false, now()), Decision::Deny("not-on-care-team"));
        assert_eq!(decide(Intent::ReadPhi, STRANGER, true, now()), Decision::Deny("not-on-care-team"));
    }

    #[test]
    fn a_break_glass_grant_works_until_it_expires() {
        let grant = Relationship { on_care_team: false, grant_expires_at: Some(now() + Duration::minutes(60)) };
        assert_eq!(decide(Intent::ReadPhi, grant, false, now()), Decision::Allow(Basis::BreakGlass));
        let later = now() + Duration::minutes(60);
        assert_eq!(decide(Intent::ReadPhi, grant, false, later), Decision::Deny("break-glass-expired"));
    }

    #[test]
    fn break_glass_does_not_manage_the_care_team_but_admins_do() {
        let grant = Relationship { on_care_team: false, grant_expires_at: Some(now() + Duration::minutes(60)) };
        assert_eq!(decide(Intent::ManageCareTeam, grant, false, now()), Decision::Deny("not-on-care-team"));
        assert_eq!(decide(Intent::ManageCareTeam, STRANGER, true, now()), Decision::Allow(Basis::Role));
        assert_eq!(decide(Intent::ManageCareTeam, MEMBER, false, now()), Decision::Allow(Basis::CareTeam));
    }

    #[test]
    fn deidentified_content_and_administration_need_no_relationship() {
        assert_eq!(decide(Intent::ReadDeidentified, STRANGER, false, now()), Decision::Allow(Basis::Role));
        assert_eq!(decide(Intent::Administer, STRANGER, false, now()), Decision::Allow(Basis::Role));
    }
}
