//! Cold start of the rotation function: telemetry, configuration, AWS clients, then serve rotation events.

use lambda_runtime::{LambdaEvent, service_fn};
use medvault_auth::rotation::RotationEvent;
use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config: secret_rotation::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let rotation = secret_rotation::rotation(&config, &clients);
    lambda_runtime::run(service_fn(|event: LambdaEvent<RotationEvent>| secret_rotation::handle(&rotation, event))).await
}
