//! The Transcribe Medical engine against moto's server on loopback: the job it starts, that a retry follows the
//! same job instead of starting another, and that the transcript is read from the output bucket. moto writes no
//! transcript file, so the test puts one where Transcribe would (the text is canned; the calls are what is tested).
//!
//! Needs `AWS_ENDPOINT_URL` pointing at moto (`.venv/tools/bin/moto_server -H 127.0.0.1 -p PORT`).

use std::time::Duration;

use medvault_intake::{FileKind, ObjectRef};
use medvault_speech::transcribe::{job_name, output_key};
use medvault_speech::{SpeechEngine, SpeechRequest, TranscribeConfig, TranscribeEngine, no_progress};

async fn clients() -> (aws_sdk_transcribe::Client, aws_sdk_s3::Client) {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run moto (`.venv/tools/bin/moto_server -H 127.0.0.1 -p PORT`) and point it there, \
         with AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set to test values"
    );
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    (aws_sdk_transcribe::Client::new(&sdk), s3)
}

#[tokio::test]
async fn a_retried_recording_follows_the_job_already_started_and_reads_its_transcript() {
    // Arrange: an output bucket unique to this test, and the transcript Transcribe would write there.
    let (transcribe, s3) = clients().await;
    let bucket = format!("medvault-transcripts-{}", std::process::id());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let object = ObjectRef {
        bucket: "medvault-uploads".into(),
        key: "p-1/dictation.wav".into(),
        version_id: Some(format!("v-{bucket}")),
    };
    let name = job_name(&object);
    let canned = r#"{"jobName":"x","results":{"transcripts":[{"transcript":"patient seen for chest pain"}]}}"#;
    s3.put_object()
        .bucket(&bucket)
        .key(output_key(&name))
        .body(canned.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    let config = TranscribeConfig {
        output_bucket: bucket.clone(),
        poll_interval: Duration::from_millis(10),
        max_wait: Duration::from_secs(30),
    };
    let engine = TranscribeEngine::new(transcribe.clone(), s3, config);
    let request = SpeechRequest { object: object.clone(), kind: FileKind::Wav, audio: Vec::new() };

    // Act: the same message delivered twice.
    let first = engine.transcribe(request.clone(), no_progress()).await.unwrap();
    let second = engine.transcribe(request, no_progress()).await.unwrap();

    // Assert: one job, with the name derived from the version, read twice.
    let jobs = transcribe.list_medical_transcription_jobs().job_name_contains(&name).send().await.unwrap();
    assert_eq!(jobs.medical_transcription_job_summaries().len(), 1, "a retry must not start a second job");
    let job = transcribe.get_medical_transcription_job().medical_transcription_job_name(&name).send().await.unwrap();
    let job = job.medical_transcription_job().unwrap();
    assert_eq!(job.media().and_then(|m| m.media_file_uri()), Some("s3://medvault-uploads/p-1/dictation.wav"));
    assert_eq!(first.text, "patient seen for chest pain");
    assert_eq!(second.text, first.text);
}

#[tokio::test]
async fn a_missing_transcript_file_is_an_error_not_an_empty_transcript() {
    let (transcribe, s3) = clients().await;
    let bucket = format!("medvault-empty-{}", std::process::id());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let object = ObjectRef {
        bucket: "medvault-uploads".into(),
        key: "p-2/d.wav".into(),
        version_id: Some(format!("v-{bucket}")),
    };
    let config = TranscribeConfig {
        output_bucket: bucket,
        poll_interval: Duration::from_millis(10),
        max_wait: Duration::from_secs(30),
    };
    let engine = TranscribeEngine::new(transcribe, s3, config);

    let result =
        engine.transcribe(SpeechRequest { object, kind: FileKind::Wav, audio: Vec::new() }, no_progress()).await;

    assert!(result.is_err(), "{result:?}");
}
