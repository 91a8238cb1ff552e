//! What one invocation produced: its result and Lambda's `REPORT` line.

use std::fmt;

use serde_json::Value;

/// How an invocation ended, when not normally (Lambda adds `Status: ...` to such REPORT lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStatus {
    /// The function ran past its `Timeout` and its environment was destroyed.
    Timeout,
    /// The runtime failed: the process exited, or its initialisation failed (`error_type` says which).
    Error { error_type: String },
}

/// One invocation's `REPORT` line, as Lambda writes it to CloudWatch Logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The function's logical id.
    pub function: String,
    pub request_id: String,
    /// From handing the event to the runtime (`/next`) to its response.
    pub duration_ms: f64,
    /// Rounded up to the millisecond; on provided runtimes the init phase is billed too.
    pub billed_duration_ms: u64,
    pub memory_size_mb: u32,
    /// The process's peak resident set (`VmHWM`).
    pub max_memory_used_mb: u32,
    /// From spawning the process to its first `/next`, on a cold start only.
    pub init_duration_ms: Option<f64>,
    pub status: Option<ReportStatus>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            self.request_id, self.duration_ms, self.billed_duration_ms, self.memory_size_mb, self.max_memory_used_mb
        )?;
        if let Some(init) = self.init_duration_ms {
            write!(f, "\tInit Duration: {init:.2} ms")?;
        }
        match &self.status {
            Some(ReportStatus::Timeout) => write!(f, "\tStatus: timeout"),
            Some(ReportStatus::Error { error_type }) => write!(f, "\tStatus: error\tError Type: {error_type}"),
            None => Ok(()),
        }
    }
}

/// A function's error, as the runtime (or the emulator, for timeouts and crashes) reported it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{error_type}: {error_message}")]
pub struct FunctionError {
    #[serde(rename = "errorType", default)]
    pub error_type: String,
    #[serde(rename = "errorMessage", default)]
    pub error_message: String,
}

/// One finished invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    /// The function's response (JSON; a non-JSON response is a JSON string), or its error.
    pub result: Result<Value, FunctionError>,
    pub report: Report,
}

impl Invocation {
    /// Whether this invocation started a new execution environment.
    pub fn cold_start(&self) -> bool {
        self.report.init_duration_ms.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_matches_lambdas_format() {
        let mut report = Report {
            function: "Fn".into(),
            request_id: "r-1".into(),
            duration_ms: 12.344,
            billed_duration_ms: 58,
            memory_size_mb: 128,
            max_memory_used_mb: 21,
            init_duration_ms: Some(45.671),
            status: None,
        };
        assert_eq!(
            report.to_string(),
            "REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 58 ms\tMemory Size: 128 MB\tMax Memory Used: 21 MB\tInit Duration: 45.67 ms"
        );
        report.init_duration_ms = None;
        report.status = Some(ReportStatus::Timeout);
        assert!(report.to_string().ends_with("Max Memory Used: 21 MB\tStatus: timeout"));
    }
}
