//! `cargo xtask lint`: rustfmt, clippy with warnings as errors, and the infrastructure-as-code checks
//! (the custom SQS queue check, `sam validate --lint`, `cfn-lint`, the SAM transform, `checkov` on template.yaml and
//! infra/).

use std::process::Command;

use crate::iac_check;
use crate::python::{self, Venv};
use crate::workspace::{self, run};

/// One named check and its outcome.
#[derive(Debug)]
pub struct Outcome {
    pub name: &'static str,
    pub result: anyhow::Result<()>,
}

/// Runs every Rust lint; stops at nothing, returns every outcome.
pub fn rust_checks() -> Vec<Outcome> {
    vec![
        Outcome { name: "cargo fmt --check", result: run(workspace::cargo().args(["fmt", "--all", "--", "--check"])) },
        Outcome {
            name: "cargo clippy",
            result: run(workspace::cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])),
        },
    ]
}

/// Runs every infrastructure check against template.yaml and infra/.
pub fn iac_checks(venv: &Venv) -> Vec<Outcome> {
    let root = workspace::root();
    let quiet = |mut command: Command| {
        // The checkers phone home for telemetry and mappings; this machine and CI have no need for either.
        command
            .current_dir(&root)
            .env("SAM_CLI_TELEMETRY", "0")
            .env("BC_SKIP_MAPPING", "TRUE")
            .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false");
        command
    };
    let mut outcomes = vec![
        queue_rules(&root.join("template.yaml")),
        Outcome {
            name: "sam validate --lint",
            result: run(quiet(venv.command("sam")).args(["validate", "--lint", "--template-file", "template.yaml"])),
        },
        Outcome { name: "cfn-lint", result: run(quiet(venv.command("cfn-lint")).args(["template.yaml"])) },
        // The deploy-time SAM transform, offline: it enforces rules neither of the linters above does.
        Outcome {
            name: "sam transform (infra/local/sam_translate.py)",
            result: run(quiet(venv.command("python")).args(["infra/local/sam_translate.py", "template.yaml"])),
        },
        Outcome {
            name: "checkov (template.yaml)",
            result: run(quiet(venv.command("checkov")).args([
                "--file",
                "template.yaml",
                "--framework",
                "cloudformation",
                "--compact",
                "--quiet",
                "--skip-download",
            ])),
        },
    ];
    let terraform = root.join("infra/terraform");
    if terraform.is_dir() {
        outcomes.push(Outcome {
            name: "checkov (infra/terraform)",
            result: run(quiet(venv.command("checkov")).args([
                "--directory",
                "infra/terraform",
                "--framework",
                "terraform",
                "--compact",
                "--quiet",
                "--skip-download",
            ])),
        });
    }
    outcomes
}

/// The custom check of the template's SQS queues (visibility timeout ≥ 6 × the consumer's timeout, a redrive policy
/// on every source queue); see iac_check.rs.
pub fn queue_rules(template: &std::path::Path) -> Outcome {
    Outcome { name: "IaC check: SQS visibility and redrive (xtask iac_check)", result: iac_check::check(template) }
}

/// `cargo xtask lint`.
pub fn run_all() -> anyhow::Result<()> {
    let venv = python::ensure_tools()?;
    let mut outcomes = rust_checks();
    outcomes.extend(iac_checks(&venv));
    summarize(&outcomes)
}

/// Prints one line per check and fails if any failed.
pub fn summarize(outcomes: &[Outcome]) -> anyhow::Result<()> {
    eprintln!();
    for outcome in outcomes {
        match &outcome.result {
            Ok(()) => eprintln!("xtask: ok      {}", outcome.name),
            Err(error) => eprintln!("xtask: FAILED  {}: {error:#}", outcome.name),
        }
    }
    let failed: Vec<&str> = outcomes.iter().filter(|o| o.result.is_err()).map(|o| o.name).collect();
    if failed.is_empty() { Ok(()) } else { anyhow::bail!("failed: {}", failed.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_rule_violation_fails_the_summary_that_lint_and_test_exit_with() {
        // Arrange: a queue hiding messages for less than six times its consumer's timeout.
        let dir = std::env::temp_dir().join(format!("xtask-lint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let template = dir.join("template.yaml");
        std::fs::write(
            &template,
            "Resources:\n  \
             Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 60\n      \
             RedrivePolicy: { deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5 }\n  \
             Dlq: { Type: AWS::SQS::Queue }\n  \
             Worker:\n    Type: AWS::Serverless::Function\n    Properties:\n      Timeout: 30\n      \
             Events: { Jobs: { Type: SQS, Properties: { Queue: !GetAtt Queue.Arn } } }\n",
        )
        .unwrap();

        // Act
        let outcome = queue_rules(&template);
        let summary = summarize(std::slice::from_ref(&outcome));

        // Assert
        std::fs::remove_dir_all(&dir).unwrap();
        let error = format!("{:#}", outcome.result.unwrap_err());
        assert!(error.contains("Queue: VisibilityTimeout 60 s"), "{error}");
        assert!(summary.is_err());
    }

    #[test]
    fn the_real_template_passes_the_queue_rules() {
        let outcome = queue_rules(&workspace::root().join("template.yaml"));

        assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    }
}
