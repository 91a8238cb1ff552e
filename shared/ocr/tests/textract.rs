//! The Textract engine against moto's server on loopback: the calls it makes, and that a retried document sends
//! the same `ClientRequestToken` (which Textract answers with the same job). moto's text is canned (empty), so
//! the text itself is not checked here; the block-to-page grouping has unit tests. moto 5.2's
//! `GetDocumentTextDetection` answer for a started job nests `DocumentMetadata.Pages` in a second object
//! (`{"Pages": {"Pages": 406}}`), which no AWS SDK can read, so the polling path is tested only up to moto's
//! error answer for an unknown job.
//!
//! Needs `AWS_ENDPOINT_URL` pointing at moto (`.venv/tools/bin/moto_server -H 127.0.0.1 -p PORT`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_textract::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_textract::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_textract::error::BoxError;
use medvault_intake::ObjectRef;
use medvault_ocr::config::TextractConfig;
use medvault_ocr::textract::client_request_token;
use medvault_ocr::{TextractEngine, no_progress};

/// One request seen: its `X-Amz-Target` operation and its `ClientRequestToken`, if any.
type Call = (String, Option<String>);

/// Records the operation and `ClientRequestToken` of every request the client sends.
#[derive(Debug, Default, Clone)]
struct Recorder(Arc<Mutex<Vec<Call>>>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default().to_owned();
        let body: serde_json::Value =
            request.body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        let token = body.get("ClientRequestToken").and_then(|t| t.as_str()).map(str::to_owned);
        self.0.lock().expect("recorder lock").push((target, token));
        Ok(())
    }
}

async fn client(recorder: &Recorder) -> aws_sdk_textract::Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run moto (`.venv/tools/bin/moto_server -H 127.0.0.1 -p PORT`) and point it there, \
         with AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set to test values"
    );
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = aws_sdk_textract::config::Builder::from(&sdk).interceptor(recorder.clone()).build();
    aws_sdk_textract::Client::from_conf(config)
}

fn object(version: &str) -> ObjectRef {
    ObjectRef {
        bucket: "medvault-uploads".into(),
        key: "patients/p-1/scan 1.pdf".into(),
        version_id: Some(version.into()),
    }
}

#[tokio::test]
async fn a_retried_document_sends_the_same_request_token() {
    // Arrange
    let recorder = Recorder::default();
    let config = TextractConfig { poll_interval: Duration::from_millis(10), ..TextractConfig::default() };
    let engine = TextractEngine::new(client(&recorder).await, config);

    // Act: the same object version twice (a redelivered message), then a new version.
    let first = engine.start(&object("v1")).await.unwrap();
    let second = engine.start(&object("v1")).await.unwrap();
    let third = engine.start(&object("v2")).await.unwrap();

    // Assert: three starts, the first two with one token, the third with another, each answered with a job id.
    let calls = recorder.0.lock().unwrap().clone();
    let starts: Vec<Option<String>> =
        calls.iter().filter(|(t, _)| t.ends_with("StartDocumentTextDetection")).map(|(_, k)| k.clone()).collect();
    assert_eq!(starts.len(), 3, "{calls:?}");
    assert_eq!(starts[0], Some(client_request_token(&object("v1"))));
    assert_eq!(starts[0], starts[1], "a retry must reuse the token");
    assert_ne!(starts[0], starts[2], "a new version is new work");
    assert!([first, second, third].iter().all(|id| !id.is_empty()));
}

#[tokio::test]
async fn an_unknown_job_is_a_permanent_textract_error() {
    let recorder = Recorder::default();
    let engine = TextractEngine::new(client(&recorder).await, TextractConfig::default());

    let error = engine.collect("no-such-job", &no_progress()).await.unwrap_err();

    assert_eq!(error.failure(), medvault_platform::Failure::Permanent, "{error}");
}
