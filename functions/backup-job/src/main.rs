//! Cold start of the backup job: telemetry, configuration, AWS clients, then run each scheduled invocation.

use lambda_runtime::{LambdaEvent, service_fn};
use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config: backup_job::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let job = backup_job::BackupJob::new(&config, &clients);
    let job = &job;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move { job.handle(event).await })).await
}
