//! Cold start of the PHI API: telemetry, configuration, AWS clients, the PHI engine and its keys, then serve.

use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config: phi_api::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let engine = phi_api::engine(&config, &clients).await?;
    medvault_http::serve(phi_api::service(&config, &clients, engine)).await
}
