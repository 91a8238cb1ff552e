//! Cold start of the speech worker: telemetry, configuration, AWS clients, the speech engine, then poll for batches.

use lambda_runtime::{LambdaEvent, service_fn};
use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config: asr_worker::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let worker = asr_worker::Worker::new(&config, &clients)?;
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move { worker.handle(event).await })).await
}
