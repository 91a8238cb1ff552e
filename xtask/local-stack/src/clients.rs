//! AWS SDK clients aimed at the emulator, with dummy credentials (never the developer's own).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sqs::config::Credentials;

/// One client per service the local stack talks to, all from one `SdkConfig`.
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub dynamodb_streams: aws_sdk_dynamodbstreams::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub kms: aws_sdk_kms::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub events: aws_sdk_eventbridge::Client,
}

impl Clients {
    /// Clients for `endpoint_url` in `region`, signing with the emulator's dummy `test`/`test` credentials.
    pub async fn new(endpoint_url: &str, region: &str) -> Self {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint_url)
            .credentials_provider(Credentials::new("test", "test", None, None, "local-stack"))
            .load()
            .await;
        let s3 = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            dynamodb_streams: aws_sdk_dynamodbstreams::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sns: aws_sdk_sns::Client::new(&sdk),
            kms: aws_sdk_kms::Client::new(&sdk),
            secrets: aws_sdk_secretsmanager::Client::new(&sdk),
            events: aws_sdk_eventbridge::Client::new(&sdk),
        }
    }
}
