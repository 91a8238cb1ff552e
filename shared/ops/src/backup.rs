//! Backup planning: which tables are the stack's, what a backup and a scratch table are named, and which backups
//! retention lets go. Pure: names and dates in, decisions out.
//!
//! The stack's tables are found by name, not by a list kept beside the template: CloudFormation names a table the
//! template leaves unnamed `<stack>-<LogicalId>-<suffix>` (the local stack: `<stack>-<LogicalId>`), and a logical
//! id is alphanumeric. So a table is the stack's when its name is `<stack>-` followed by an alphanumeric
//! character, and (in AWS, where CloudFormation tags what it creates) its `aws:cloudformation:stack-name` tag, if
//! any, is the stack's name. Scratch tables of restore drills are named `<stack>--drill-...`: the second hyphen
//! keeps them out.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// The prefix of every backup this job makes; retention only ever deletes backups named so.
pub const BACKUP_PREFIX: &str = "medvault-daily-";
/// CloudFormation's tag naming the stack that created a resource.
pub const STACK_NAME_TAG: &str = "aws:cloudformation:stack-name";
/// The tag a table carries to stay out of every backup (`exclude`): the patient-keys table, whose deletions must
/// reach every copy of a patient's data (crypto-shredding).
pub const BACKUP_TAG: &str = "medvault:backup";
/// DynamoDB's longest table name.
const MAX_TABLE_NAME: usize = 255;

/// Whether `table` is one of `stack`'s tables by name (see the module documentation).
pub fn is_stack_table(stack: &str, table: &str) -> bool {
    table
        .strip_prefix(stack)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Whether a table's tags (name, value) allow it to be `stack`'s: no CloudFormation stack tag, or the stack's own.
pub fn tags_allow<'a>(stack: &str, mut tags: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    tags.find(|(key, _)| *key == STACK_NAME_TAG).is_none_or(|(_, value)| value == stack)
}

/// Whether a table's tags keep it out of backups.
pub fn excluded_from_backup<'a>(mut tags: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    tags.any(|(key, value)| key == BACKUP_TAG && value.eq_ignore_ascii_case("exclude"))
}

/// The name of the daily backup made on `day`.
pub fn backup_name(day: NaiveDate) -> String {
    format!("{BACKUP_PREFIX}{}", day.format("%Y-%m-%d"))
}

/// The scratch table a drill restores `source` into: `<stack>--drill-<drill>-<logical part of the source>`.
pub fn scratch_table_name(stack: &str, source: &str, drill: &str) -> String {
    let logical = source.strip_prefix(stack).map(|r| r.trim_start_matches('-')).unwrap_or(source);
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' }).collect()
    };
    let mut name = format!("{stack}--drill-{}-{}", clean(drill), clean(logical));
    name.truncate(MAX_TABLE_NAME);
    name
}

/// Whether `table` is a drill's scratch table of `stack`.
pub fn is_scratch_table(stack: &str, table: &str) -> bool {
    table.strip_prefix(stack).is_some_and(|rest| rest.starts_with("--drill-"))
}

/// A backup as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub arn: String,
    pub name: String,
    pub table: String,
    pub created: DateTime<Utc>,
}

/// The backups of one table to delete: this job's (named [`BACKUP_PREFIX`]...) created before `now - retention`,
/// never the newest of them, so a table always keeps one restorable backup even if backups stopped for longer than
/// the retention.
pub fn expired(backups: &[BackupInfo], now: DateTime<Utc>, retention: chrono::Duration) -> Vec<&BackupInfo> {
    let mut ours: Vec<&BackupInfo> = backups.iter().filter(|b| b.name.starts_with(BACKUP_PREFIX)).collect();
    ours.sort_by_key(|b| b.created);
    let newest = ours.pop();
    let cutoff = now - retention;
    ours.into_iter().filter(|b| b.created < cutoff && Some(*b) != newest).collect()
}

/// The newest backup of a table (any name): what a restore drill restores.
pub fn latest(backups: &[BackupInfo]) -> Option<&BackupInfo> {
    backups.iter().max_by_key(|b| b.created)
}

/// The ISO week a drill belongs to (`2026-W47`): one drill per week, resumed by every firing in that week.
pub fn drill_id(now: DateTime<Utc>) -> String {
    let week = now.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn stack_tables_are_recognised_by_name_and_drill_tables_are_not() {
        assert!(is_stack_table("medvault", "medvault-UsersTable-1AB2C3"));
        assert!(is_stack_table("ops-1a2b3c4d", "ops-1a2b3c4d-AuditTable"));
        assert!(!is_stack_table("medvault", "medvault--drill-2026-W47-UsersTable"));
        assert!(!is_stack_table("medvault", "medvaultx-UsersTable"));
        assert!(!is_stack_table("medvault", "other-UsersTable"));
        let scratch = scratch_table_name("medvault", "medvault-UsersTable-1AB2C3", "2026-W47");
        assert_eq!(scratch, "medvault--drill-2026-W47-UsersTable-1AB2C3");
        assert!(is_scratch_table("medvault", &scratch));
    }

    #[test]
    fn another_stacks_tables_are_refused_by_their_tag() {
        // `medvault-staging-UsersTable-X` starts with `medvault-` and a letter; only the tag tells them apart.
        assert!(!tags_allow("medvault", [(STACK_NAME_TAG, "medvault-staging")].into_iter()));
        assert!(tags_allow("medvault", [(STACK_NAME_TAG, "medvault"), ("team", "x")].into_iter()));
        assert!(tags_allow("medvault", std::iter::empty()));
        assert!(excluded_from_backup([(BACKUP_TAG, "exclude")].into_iter()));
        assert!(!excluded_from_backup([("team", "exclude")].into_iter()));
    }

    fn backup(name: &str, day: u32) -> BackupInfo {
        BackupInfo {
            arn: format!("arn:{name}"),
            name: name.to_owned(),
            table: "t".into(),
            created: Utc.with_ymd_and_hms(2026, 10, day, 3, 0, 0).unwrap(),
        }
    }

    #[test]
    fn retention_deletes_old_daily_backups_but_keeps_the_newest_and_foreign_ones() {
        let now = Utc.with_ymd_and_hms(2026, 10, 31, 3, 0, 0).unwrap();
        let backups = [
            backup("medvault-daily-2026-10-01", 1),
            backup("manual-before-migration", 2),
            backup("medvault-daily-2026-10-20", 20),
            backup("medvault-daily-2026-10-30", 30),
        ];
        let names: Vec<&str> =
            expired(&backups, now, chrono::Duration::days(7)).iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["medvault-daily-2026-10-01", "medvault-daily-2026-10-20"]);
        let only_old = [backup("medvault-daily-2026-10-01", 1)];
        assert!(expired(&only_old, now, chrono::Duration::days(7)).is_empty());
        assert_eq!(latest(&backups).unwrap().name, "medvault-daily-2026-10-30");
    }

    #[test]
    fn names_are_dated() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(backup_name(day), "medvault-daily-2026-11-22");
        assert_eq!(drill_id(Utc.with_ymd_and_hms(2026, 11, 22, 5, 0, 0).unwrap()), "2026-W47");
    }
}
