//! Cold start of the security alerts consumer: telemetry, configuration, AWS clients, then handle stream batches.

use lambda_runtime::{LambdaEvent, service_fn};
use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config: security_alerts::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let consumer = security_alerts::SecurityAlerts::new(&config, &clients);
    let consumer = &consumer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move { consumer.handle(event).await })).await
}
