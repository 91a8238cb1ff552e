//! Signed checkpoints on AWS: signed by a KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256), kept in an S3 bucket
//! with Object Lock in compliance mode.
//!
//! A checkpoint's authentic version is the first one written under its key: Object Lock keeps it until its
//! retention ends, whatever is written or delete-marked over it later. So reads list object versions and take the
//! oldest version of each key; delete markers are ignored.

use std::collections::BTreeMap;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectLockMode;
use chrono::{DateTime, Months, Utc};

use super::{AwsError, from_chrono, to_chrono};
use crate::checkpoint::{OBJECT_PREFIX, SignedCheckpoint, number_of_key, object_key};
use crate::public_key::PublicKey;

/// Signs checkpoints with the audit key in KMS.
#[derive(Debug, Clone)]
pub struct KmsSigner {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsSigner {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into() }
    }

    /// The key's ARN (what checkpoints name), from `DescribeKey`.
    pub async fn key_arn(&self) -> Result<String, AwsError> {
        let described =
            self.client.describe_key().key_id(&self.key_id).send().await.map_err(AwsError::sdk("kms:DescribeKey"))?;
        described
            .key_metadata()
            .and_then(|m| m.arn())
            .map(str::to_owned)
            .ok_or_else(|| AwsError::malformed("kms:DescribeKey", "key ARN"))
    }

    /// The key's public half (DER `SubjectPublicKeyInfo`), parsed.
    pub async fn public_key(&self) -> Result<PublicKey, AwsError> {
        let answer = self
            .client
            .get_public_key()
            .key_id(&self.key_id)
            .send()
            .await
            .map_err(AwsError::sdk("kms:GetPublicKey"))?;
        let der = answer.public_key().ok_or_else(|| AwsError::malformed("kms:GetPublicKey", "public key"))?;
        PublicKey::from_der(der.as_ref()).map_err(|e| AwsError {
            operation: "kms:GetPublicKey",
            code: None,
            failure: medvault_platform::Failure::Permanent,
            source: Box::new(e),
        })
    }

    /// An ECDSA_SHA_256 signature (DER) over `message`; KMS hashes it (`MessageType=RAW`).
    pub async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AwsError> {
        let signed = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(AwsError::sdk("kms:Sign"))?;
        signed.signature().map(|s| s.as_ref().to_vec()).ok_or_else(|| AwsError::malformed("kms:Sign", "signature"))
    }
}

/// A checkpoint as read from the bucket, with the version it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    /// Parsed, not yet verified.
    pub checkpoint: Result<SignedCheckpoint, String>,
    pub number: u64,
    pub version_id: Option<String>,
    pub retain_until: Option<DateTime<Utc>>,
}

/// What writing a checkpoint did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The first version under its key, locked until `retain_until`.
    Stored { version_id: Option<String>, retain_until: DateTime<Utc> },
    /// Another run wrote this number first.
    AlreadyThere,
}

/// The checkpoint bucket.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    retention_years: u32,
}

impl CheckpointStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, retention_years: u32) -> Self {
        Self { client, bucket: bucket.into(), retention_years }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Writes `checkpoint` under its key, locked in compliance mode for the retention period, unless a version of
    /// that key already exists.
    pub async fn put(&self, checkpoint: &SignedCheckpoint, now: DateTime<Utc>) -> Result<Written, AwsError> {
        let key = checkpoint.object_key();
        if !self.versions(&key).await?.is_empty() {
            return Ok(Written::AlreadyThere);
        }
        let retain_until = now
            .checked_add_months(Months::new(self.retention_years.saturating_mul(12)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let body = serde_json::to_vec_pretty(checkpoint).map_err(|e| AwsError {
            operation: "s3:PutObject",
            code: None,
            failure: medvault_platform::Failure::Permanent,
            source: Box::new(e),
        })?;
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(from_chrono(retain_until))
            // S3 refuses the write if any object is already under the key (a concurrent run).
            .if_none_match("*")
            .send()
            .await;
        match result {
            Ok(put) => Ok(Written::Stored { version_id: put.version_id().map(str::to_owned), retain_until }),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Ok(Written::AlreadyThere),
            Err(e) => Err(AwsError::sdk("s3:PutObject")(e)),
        }
    }

    /// The newest checkpoint, looking from checkpoint `from` on (a hint; the whole bucket when `None` or when
    /// nothing is found from it).
    pub async fn latest(&self, from: Option<u64>) -> Result<Option<StoredCheckpoint>, AwsError> {
        if let Some(from) = from {
            let oldest = self.oldest_versions(Some(from)).await?;
            if let Some((number, version)) = oldest.into_iter().next_back() {
                return self.read(number, version).await.map(Some);
            }
        }
        let oldest = self.oldest_versions(None).await?;
        match oldest.into_iter().next_back() {
            Some((number, version)) => self.read(number, version).await.map(Some),
            None => Ok(None),
        }
    }

    /// Every checkpoint in number order (for the nightly full verification and exports).
    pub async fn all(&self) -> Result<Vec<StoredCheckpoint>, AwsError> {
        let mut out = Vec::new();
        for (number, version) in self.oldest_versions(None).await? {
            out.push(self.read(number, version).await?);
        }
        Ok(out)
    }

    /// The oldest version id of each checkpoint key, by number, from checkpoint `from` on.
    async fn oldest_versions(&self, from: Option<u64>) -> Result<BTreeMap<u64, Option<String>>, AwsError> {
        let mut oldest: BTreeMap<u64, (DateTime<Utc>, Option<String>)> = BTreeMap::new();
        // `key-marker` lists keys after it; the key before `from`'s includes `from` itself.
        let mut key_marker = from.filter(|n| *n > 1).map(|n| object_key(n - 1));
        let mut version_marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(OBJECT_PREFIX)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(AwsError::sdk("s3:ListObjectVersions"))?;
            for version in page.versions() {
                let Some(number) = version.key().and_then(number_of_key) else { continue };
                let modified = version.last_modified().map(to_chrono).unwrap_or_default();
                let entry = oldest.entry(number).or_insert((modified, version.version_id().map(str::to_owned)));
                // Versions of a key are listed newest first: on equal times the one listed later is the older.
                if modified <= entry.0 {
                    *entry = (modified, version.version_id().map(str::to_owned));
                }
            }
            if page.is_truncated() == Some(true) {
                key_marker = page.next_key_marker().map(str::to_owned);
                version_marker = page.next_version_id_marker().map(str::to_owned);
                if key_marker.is_none() {
                    break;
                }
            } else {
                break;
            }
        }
        Ok(oldest.into_iter().map(|(n, (_, v))| (n, v)).collect())
    }

    async fn versions(&self, key: &str) -> Result<Vec<String>, AwsError> {
        let page = self
            .client
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(key)
            .send()
            .await
            .map_err(AwsError::sdk("s3:ListObjectVersions"))?;
        Ok(page
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .filter_map(|v| v.version_id().map(str::to_owned))
            .collect())
    }

    async fn read(&self, number: u64, version_id: Option<String>) -> Result<StoredCheckpoint, AwsError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(object_key(number))
            .set_version_id(version_id.clone())
            .send()
            .await
            .map_err(AwsError::sdk("s3:GetObject"))?;
        let retain_until = object.object_lock_retain_until_date().map(to_chrono);
        let bytes = object.body.collect().await.map_err(|e| AwsError {
            operation: "s3:GetObject",
            code: None,
            failure: medvault_platform::Failure::Retryable,
            source: Box::new(e),
        })?;
        let checkpoint = serde_json::from_slice::<SignedCheckpoint>(&bytes.into_bytes())
            .map_err(|e| format!("checkpoint {number} is not valid JSON: {e}"))
            .and_then(|c| {
                if c.checkpoint.number == number {
                    Ok(c)
                } else {
                    Err(format!("the object of checkpoint {number} holds checkpoint {}", c.checkpoint.number))
                }
            });
        Ok(StoredCheckpoint { checkpoint, number, version_id, retain_until })
    }
}
