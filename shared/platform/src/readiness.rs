//! Readiness checks: can this function reach each dependency it needs right now, and how fast?

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::error::BoxError;

/// One dependency's probe.
pub trait ReadinessCheck: Send + Sync {
    /// A stable name for the dependency (`dynamodb:records`, `kms:data-key`).
    fn name(&self) -> &str;
    /// Succeeds when the dependency answers.
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + '_>>;
}

/// One probe's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckOutcome {
    pub name: String,
    pub ok: bool,
    pub latency_ms: f64,
}

/// Runs every check concurrently, each within `timeout`; a check that errs or times out is not ok.
pub async fn run_checks(checks: &[Box<dyn ReadinessCheck>], timeout: Duration) -> Vec<CheckOutcome> {
    futures::future::join_all(checks.iter().map(|check| async move {
        let started = Instant::now();
        let ok = match tokio::time::timeout(timeout, check.check()).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(dependency = check.name(), error = %crate::error::chain(error.as_ref()), "readiness check failed");
                false
            }
            Err(_) => {
                tracing::warn!(dependency = check.name(), "readiness check timed out");
                false
            }
        };
        CheckOutcome { name: check.name().to_owned(), ok, latency_ms: started.elapsed().as_secs_f64() * 1000.0 }
    }))
    .await
}

/// Readiness probes for the AWS resources medvault uses; each makes one cheap, read-only call.
pub mod probes {
    use super::*;

    macro_rules! probe {
        ($(#[$doc:meta])* $name:ident, $client:ty, |$c:ident, $r:ident| $call:expr) => {
            $(#[$doc])*
            #[derive(Debug, Clone)]
            pub struct $name {
                label: String,
                client: $client,
                resource: String,
            }

            impl $name {
                pub fn new(label: impl Into<String>, client: $client, resource: impl Into<String>) -> Self {
                    Self { label: label.into(), client, resource: resource.into() }
                }
            }

            impl ReadinessCheck for $name {
                fn name(&self) -> &str {
                    &self.label
                }

                fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + '_>> {
                    Box::pin(async move {
                        let $c = &self.client;
                        let $r = self.resource.as_str();
                        $call.await.map(|_| ()).map_err(|e| Box::new(e) as BoxError)
                    })
                }
            }
        };
    }

    probe!(
        /// `DescribeTable` on a DynamoDB table.
        DynamoTable, aws_sdk_dynamodb::Client, |c, r| c.describe_table().table_name(r).send()
    );
    probe!(
        /// `HeadBucket` on an S3 bucket.
        S3Bucket, aws_sdk_s3::Client, |c, r| c.head_bucket().bucket(r).send()
    );
    probe!(
        /// `DescribeKey` on a KMS key (id, ARN or alias).
        KmsKey, aws_sdk_kms::Client, |c, r| c.describe_key().key_id(r).send()
    );
    probe!(
        /// `DescribeSecret` on a Secrets Manager secret.
        Secret, aws_sdk_secretsmanager::Client, |c, r| c.describe_secret().secret_id(r).send()
    );
    probe!(
        /// `GetQueueAttributes` on an SQS queue URL.
        SqsQueue, aws_sdk_sqs::Client, |c, r| c.get_queue_attributes().queue_url(r).send()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(&'static str, Option<Duration>, bool);

    impl ReadinessCheck for Fixed {
        fn name(&self) -> &str {
            self.0
        }
        fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + '_>> {
            Box::pin(async move {
                if let Some(delay) = self.1 {
                    tokio::time::sleep(delay).await;
                }
                if self.2 { Ok(()) } else { Err("down".into()) }
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn failing_and_slow_checks_are_not_ok() {
        let checks: Vec<Box<dyn ReadinessCheck>> = vec![
            Box::new(Fixed("up", None, true)),
            Box::new(Fixed("down", None, false)),
            Box::new(Fixed("slow", Some(Duration::from_secs(10)), true)),
        ];
        let outcomes = run_checks(&checks, Duration::from_secs(2)).await;
        let ok: Vec<(String, bool)> = outcomes.into_iter().map(|o| (o.name, o.ok)).collect();
        assert_eq!(ok, [("up".into(), true), ("down".into(), false), ("slow".into(), false)]);
    }
}
