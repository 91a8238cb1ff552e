//! Cold start of the auth API: telemetry, configuration, AWS clients, then serve.

use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config: auth_api::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let service = auth_api::service(&config, &clients).await?;
    medvault_http::serve(service).await
}
