//! Cold start of the records API: telemetry, configuration, AWS clients, the records service, then serve.

use medvault_platform::aws::AwsClients;
use medvault_platform::{config, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config: records_api::Config = config::load();
    let clients = AwsClients::load(config.aws).await;
    let records = records_api::records(&config, &clients).await?;
    medvault_http::serve(records_api::service(&config, &clients, records)).await
}
