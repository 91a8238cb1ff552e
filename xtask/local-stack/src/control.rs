//! A client of a running dev stack's control API, found through the state file it writes (`.local/dev-stack.json`).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::error::StackError;
use crate::server::TOKEN_HEADER;
pub use crate::server::invocation_json;

/// A dev stack that answered on the URL its state file names.
#[derive(Debug, Clone)]
pub struct DevStack {
    pub api_url: String,
    pub stack_name: String,
    token: String,
    http: reqwest::Client,
}

impl DevStack {
    /// The stack described by `state_file`, if the file exists and the stack answers; `None` otherwise (no dev
    /// stack, or a stale file left by one that was killed).
    pub async fn connect(state_file: &Path) -> Option<DevStack> {
        let text = std::fs::read_to_string(state_file).ok()?;
        let state: Value = serde_json::from_str(&text).ok()?;
        let stack = DevStack {
            api_url: state["api_url"].as_str()?.to_owned(),
            stack_name: state["stack_name"].as_str().unwrap_or_default().to_owned(),
            token: state["control_token"].as_str()?.to_owned(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(960)).build().ok()?,
        };
        let probe = stack
            .http
            .get(format!("{}/_local/stack", stack.api_url))
            .header(TOKEN_HEADER, &stack.token)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        probe.status().is_success().then_some(stack)
    }

    /// Invokes `function` with `event`: `{"requestId", "result", "error", "report"}`.
    pub async fn invoke(&self, function: &str, event: &Value) -> Result<Value, StackError> {
        self.post(&format!("invoke/{function}"), event.to_string()).await
    }

    /// Fires `function`'s schedule now.
    pub async fn fire_schedule(&self, function: &str) -> Result<Value, StackError> {
        self.post(&format!("schedule/{function}"), String::new()).await
    }

    /// Redrives a dead-letter queue: `{"moved", "from", "to"}`.
    pub async fn redrive(&self, queue: &str) -> Result<Value, StackError> {
        self.post(&format!("redrive/{queue}"), String::new()).await
    }

    async fn post(&self, command: &str, body: String) -> Result<Value, StackError> {
        let failed =
            |detail: String| StackError::Aws { what: format!("the dev stack's control API ({command})"), detail };
        let response = self
            .http
            .post(format!("{}/_local/{command}", self.api_url))
            .header(TOKEN_HEADER, &self.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = response.status();
        let value: Value = response.json().await.map_err(|e| failed(e.to_string()))?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(failed(value["message"].as_str().unwrap_or("failed").to_owned()))
        }
    }
}
