//! Cold start of the PHI worker: telemetry, configuration, AWS clients, the PHI engine, then poll for batches.

use lambda_runtime::{LambdaEvent, service_fn};
use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config: phi_worker::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let worker = phi_worker::Worker::new(&config, &clients)?;
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move { worker.handle(event).await })).await
}
