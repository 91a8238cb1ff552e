//! Amazon Textract's asynchronous text detection: `StartDocumentTextDetection` on the uploaded object with a
//! `ClientRequestToken` derived from its version (Textract answers a repeated token with the same job, so a
//! retried message never starts a second job), then `GetDocumentTextDetection` until the job ends, following
//! `NextToken` through every page of results.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_textract::Client;
use aws_sdk_textract::types::{Block, BlockType, DocumentLocation, JobStatus, S3Object};
use medvault_platform::error::classify_sdk_error;

use crate::config::TextractConfig;
use crate::{ObjectRef, OcrDocument, OcrEngine, OcrError, OcrPage, OcrRequest, PageProgress, Progress};

/// Textract behind [`OcrEngine`].
#[derive(Debug, Clone)]
pub struct TextractEngine {
    client: Client,
    config: TextractConfig,
}

/// The token that makes a start idempotent: the same object version always gives the same token (Textract
/// allows 1–64 characters of `[a-zA-Z0-9-_]`), a new version a new one.
pub fn client_request_token(object: &ObjectRef) -> String {
    format!("medvault-{}", &object.version_digest()[..48])
}

impl TextractEngine {
    pub fn new(client: Client, config: TextractConfig) -> Self {
        Self { client, config }
    }

    /// Starts (or, on a retry, finds again) the job for `object`, returning its id.
    pub async fn start(&self, object: &ObjectRef) -> Result<String, OcrError> {
        let s3_object =
            S3Object::builder().bucket(&object.bucket).name(&object.key).set_version(object.version_id.clone()).build();
        let output = self
            .client
            .start_document_text_detection()
            .document_location(DocumentLocation::builder().s3_object(s3_object).build())
            .client_request_token(client_request_token(object))
            .job_tag("medvault-ocr")
            .send()
            .await
            .map_err(|e| {
                let failure = classify_sdk_error(&e);
                OcrError::Textract(Box::new(e), failure)
            })?;
        output.job_id.ok_or_else(|| OcrError::JobFailed { status: "unknown".into(), message: "no job id".into() })
    }

    /// Waits for the job and collects its text page by page.
    pub async fn collect(&self, job_id: &str, progress: &Progress) -> Result<OcrDocument, OcrError> {
        let started = Instant::now();
        let mut pages: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        let mut page_count: Option<u32> = None;
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .get_document_text_detection()
                .job_id(job_id)
                .max_results(1000)
                .set_next_token(next_token.clone())
                .send()
                .await
                .map_err(|e| {
                    let failure = classify_sdk_error(&e);
                    OcrError::Textract(Box::new(e), failure)
                })?;
            match output.job_status() {
                Some(JobStatus::InProgress) | None => {
                    if started.elapsed() > self.config.max_wait {
                        return Err(OcrError::JobTimeout { seconds: self.config.max_wait.as_secs() });
                    }
                    tokio::time::sleep(self.config.poll_interval).await;
                    continue;
                }
                Some(JobStatus::Succeeded | JobStatus::PartialSuccess) => {}
                Some(status) => {
                    return Err(OcrError::JobFailed {
                        status: status.as_str().to_owned(),
                        message: output.status_message().unwrap_or_default().to_owned(),
                    });
                }
            }
            if page_count.is_none() {
                let count = output.document_metadata().and_then(|m| m.pages()).unwrap_or(0);
                let count = u32::try_from(count).unwrap_or(0);
                if count > self.config.max_pages {
                    return Err(OcrError::TooManyPages {
                        pages: u64::from(count),
                        limit: u64::from(self.config.max_pages),
                    });
                }
                page_count = Some(count);
            }
            add_lines(&mut pages, output.blocks());
            next_token = output.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        let total = page_count.unwrap_or(0).max(pages.keys().last().copied().unwrap_or(0));
        progress(PageProgress { done: total, total });
        Ok(assemble(total, pages))
    }
}

/// Appends the `LINE` blocks' text to their pages, in the order Textract returns them (reading order).
fn add_lines(pages: &mut BTreeMap<u32, Vec<String>>, blocks: &[Block]) {
    for block in blocks {
        if block.block_type() != Some(&BlockType::Line) {
            continue;
        }
        let (Some(text), Some(page)) = (block.text(), block.page()) else { continue };
        let page = u32::try_from(page).unwrap_or(1).max(1);
        pages.entry(page).or_default().push(text.to_owned());
    }
}

/// One [`OcrPage`] per page, pages without lines included (empty), in page order.
fn assemble(total: u32, mut pages: BTreeMap<u32, Vec<String>>) -> OcrDocument {
    OcrDocument {
        pages: (1..=total)
            .map(|page| OcrPage { page, text: pages.remove(&page).unwrap_or_default().join("\n"), confidence: None })
            .collect(),
    }
}

impl OcrEngine for TextractEngine {
    fn name(&self) -> &'static str {
        "textract"
    }

    async fn recognize(&self, request: OcrRequest, progress: Progress) -> Result<OcrDocument, OcrError> {
        let job_id = self.start(&request.object).await?;
        tracing::info!(job_id, "textract job started or found");
        self.collect(&job_id, &progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(version: Option<&str>) -> ObjectRef {
        ObjectRef { bucket: "uploads".into(), key: "p/1/scan.pdf".into(), version_id: version.map(str::to_owned) }
    }

    #[test]
    fn the_token_is_stable_per_version_and_valid_for_textract() {
        let token = client_request_token(&object(Some("v1")));
        assert_eq!(token, client_request_token(&object(Some("v1"))));
        assert_ne!(token, client_request_token(&object(Some("v2"))));
        assert!(token.len() <= 64 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn lines_are_grouped_by_page_in_reading_order_and_empty_pages_kept() {
        let line = |page, text: &str| Block::builder().block_type(BlockType::Line).page(page).text(text).build();
        let word = Block::builder().block_type(BlockType::Word).page(1).text("ignored").build();
        let mut pages = BTreeMap::new();
        add_lines(&mut pages, &[line(1, "first"), word, line(3, "third"), line(1, "second")]);

        let document = assemble(3, pages);

        let texts: Vec<&str> = document.pages.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["first\nsecond", "", "third"]);
    }
}
