//! The restore drill's report: for each table, the backup restored, the scratch table, item counts compared, and
//! a sample of encrypted records opened with their patients' keys. Written to S3 as JSON; pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The outcome of decrypting a sample of a restored table's encrypted records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecryptCheck {
    /// Records sampled.
    pub sampled: u64,
    /// Encrypted fields opened with their patient's key.
    pub decrypted: u64,
    /// Records of erased (crypto-shredded) patients: unreadable by design, not a failure.
    pub shredded: u64,
    /// Fields that did not open: the restore is not usable.
    pub failed: u64,
}

/// One table's part of a drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDrill {
    pub source_table: String,
    pub backup_arn: String,
    pub backup_created: DateTime<Utc>,
    pub scratch_table: String,
    /// Items the backup recorded for its source table (DynamoDB's count at backup time).
    pub expected_items: Option<i64>,
    /// Items counted in the restored scratch table.
    pub restored_items: Option<i64>,
    /// Present for tables holding encrypted patient data.
    pub decrypt: Option<DecryptCheck>,
    pub scratch_deleted: bool,
    /// What went wrong, as a short code and message (no data).
    pub error: Option<String>,
}

impl TableDrill {
    /// Whether this table restored completely and its sample decrypted.
    pub fn passed(&self) -> bool {
        let counts = matches!((self.expected_items, self.restored_items), (Some(e), Some(r)) if e == r);
        let decrypt = self.decrypt.as_ref().is_none_or(|d| d.failed == 0);
        self.error.is_none() && counts && decrypt && self.scratch_deleted
    }
}

/// The drill as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillReport {
    /// The ISO week (`2026-W47`).
    pub drill_id: String,
    pub stack: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub tables: Vec<TableDrill>,
    pub passed: bool,
}

impl DrillReport {
    /// A report over `tables`; it passes when there is at least one table and every table passed.
    pub fn new(drill_id: String, stack: String, started_at: DateTime<Utc>, tables: Vec<TableDrill>) -> Self {
        let passed = !tables.is_empty() && tables.iter().all(TableDrill::passed);
        Self { drill_id, stack, started_at, finished_at: Utc::now(), tables, passed }
    }

    /// Where the report is stored in the backup bucket.
    pub fn object_key(&self) -> String {
        format!("drill-reports/{}/{}.json", self.stack, self.drill_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(expected: i64, restored: i64, failed: u64) -> TableDrill {
        TableDrill {
            source_table: "s-T".into(),
            backup_arn: "arn".into(),
            backup_created: Utc::now(),
            scratch_table: "s--drill-T".into(),
            expected_items: Some(expected),
            restored_items: Some(restored),
            decrypt: Some(DecryptCheck { sampled: 3, decrypted: 3 - failed, shredded: 0, failed }),
            scratch_deleted: true,
            error: None,
        }
    }

    #[test]
    fn a_drill_passes_only_when_every_table_restores_and_decrypts() {
        let now = Utc::now();
        assert!(DrillReport::new("w".into(), "s".into(), now, vec![table(3, 3, 0)]).passed);
        assert!(!DrillReport::new("w".into(), "s".into(), now, vec![table(3, 2, 0)]).passed);
        assert!(!DrillReport::new("w".into(), "s".into(), now, vec![table(3, 3, 1)]).passed);
        assert!(!DrillReport::new("w".into(), "s".into(), now, vec![]).passed);
        let mut kept = table(3, 3, 0);
        kept.scratch_deleted = false;
        assert!(!kept.passed());
    }
}
