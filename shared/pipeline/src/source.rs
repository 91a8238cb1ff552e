//! Reading an uploaded object version from S3, refusing one over the size limit before reading its body.

use aws_sdk_s3::operation::get_object::GetObjectError;
use medvault_intake::Refusal;

use crate::error::PipelineError;
use crate::job::Job;

/// What reading the object gave.
#[derive(Debug)]
pub enum Fetched {
    Bytes(Vec<u8>),
    /// Over the limit: refused without reading it.
    Refused(Refusal),
    /// The version is gone (deleted, e.g. by a patient's erasure) or was replaced by a newer upload.
    Gone,
}

/// Uploaded objects.
#[derive(Debug, Clone)]
pub struct ObjectSource {
    s3: aws_sdk_s3::Client,
}

impl ObjectSource {
    pub fn new(s3: aws_sdk_s3::Client) -> Self {
        Self { s3 }
    }

    /// Reads the job's object version (by version id, else conditioned on its ETag), at most `max_bytes`.
    pub async fn fetch(&self, job: &Job, max_bytes: u64) -> Result<Fetched, PipelineError> {
        let mut request = self.s3.get_object().bucket(&job.bucket).key(&job.key);
        request = match (&job.version_id, &job.etag) {
            (Some(version), _) => request.version_id(version),
            (None, Some(etag)) => request.if_match(format!("\"{}\"", etag.trim_matches('"'))),
            (None, None) => request,
        };
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) => {
                let gone = match error.as_service_error() {
                    Some(GetObjectError::NoSuchKey(_)) => true,
                    Some(other) => {
                        use aws_sdk_s3::error::ProvideErrorMetadata;
                        matches!(other.code(), Some("NoSuchVersion" | "PreconditionFailed" | "NoSuchKey"))
                    }
                    None => error.raw_response().is_some_and(|r| r.status().as_u16() == 412),
                };
                return if gone { Ok(Fetched::Gone) } else { Err(PipelineError::sdk(error)) };
            }
        };
        let size = u64::try_from(output.content_length().unwrap_or(0)).unwrap_or(0);
        if size > max_bytes {
            return Ok(Fetched::Refused(Refusal::Oversize { size, limit: max_bytes }));
        }
        let body = output.body.collect().await.map_err(|e| PipelineError::Unavailable(Box::new(e)))?;
        Ok(Fetched::Bytes(body.into_bytes().to_vec()))
    }
}
