//! The message the stages pass each other, and the object keys documents are stored under.
//!
//! A job names a document and the exact object version its stages work on. It carries identifiers only: the
//! queues between stages never hold document content.

use medvault_intake::{FileKind, ObjectRef};
use medvault_records::model::{DocumentId, PatientId};
use serde::{Deserialize, Serialize};

/// Where the records API has clients upload a document: `documents/<patient id>/<document id>`.
pub const DOCUMENTS_PREFIX: &str = "documents/";

/// One document's uploaded object, handed from stage to stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub document_id: DocumentId,
    pub patient_id: PatientId,
    pub bucket: String,
    pub key: String,
    /// The S3 version id (the upload bucket is versioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// The object's ETag: the version's identity where no version id is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// What intake identified the bytes as (`image/png`, `audio/wav`, ...).
    pub media_type: String,
}

impl Job {
    /// The version token stored with the document: every stage works only on the version intake received.
    pub fn version(&self) -> String {
        version_token(self.version_id.as_deref(), self.etag.as_deref())
    }

    /// `s3://bucket/key#version`: the idempotency key of this object version.
    pub fn identity(&self) -> String {
        format!("s3://{}/{}#{}", self.bucket, self.key, self.version())
    }

    /// The stored object, as the cloud engines read it.
    pub fn object(&self) -> ObjectRef {
        ObjectRef { bucket: self.bucket.clone(), key: self.key.clone(), version_id: self.version_id.clone() }
    }

    /// The kind intake identified.
    pub fn kind(&self) -> Option<FileKind> {
        FileKind::from_content_type(&self.media_type)
    }
}

/// A token naming one object version: its version id, else its ETag.
pub fn version_token(version_id: Option<&str>, etag: Option<&str>) -> String {
    match (version_id.filter(|v| !v.is_empty()), etag.filter(|e| !e.is_empty())) {
        (Some(version), _) => format!("v:{version}"),
        (None, Some(etag)) => format!("etag:{}", etag.trim_matches('"')),
        (None, None) => "unversioned".to_owned(),
    }
}

/// The patient and document an object key names, if it is a document key with both ids in canonical form.
pub fn document_of(key: &str) -> Option<(PatientId, DocumentId)> {
    let rest = key.strip_prefix(DOCUMENTS_PREFIX)?;
    let (patient, document) = rest.split_once('/')?;
    let patient_id: PatientId = patient.parse().ok()?;
    let document_id: DocumentId = document.parse().ok()?;
    // Only the form the records API writes: another spelling of the same UUID is another key.
    (patient_id.to_string() == patient && document_id.to_string() == document).then_some((patient_id, document_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_keys_name_their_patient_and_document_in_canonical_form_only() {
        let patient = PatientId::new();
        let document = DocumentId::new();

        assert_eq!(document_of(&format!("documents/{patient}/{document}")), Some((patient, document)));
        assert_eq!(document_of(&format!("documents/{patient}/{document}/x")), None);
        assert_eq!(document_of(&format!("documents/{patient}")), None);
        assert_eq!(document_of(&format!("uploads/{patient}/{document}")), None);
        let braced = format!("documents/{{{patient}}}/{document}");
        assert_eq!(document_of(&braced), None, "a non-canonical spelling is not the records API's key");
        assert_eq!(document_of(&format!("documents/{patient}/{}", document.as_uuid().simple())), None);
    }

    #[test]
    fn the_version_token_prefers_the_version_id_and_falls_back_to_the_etag() {
        assert_eq!(version_token(Some("3HL4"), Some("\"abc\"")), "v:3HL4");
        assert_eq!(version_token(None, Some("\"abc\"")), "etag:abc");
        assert_eq!(version_token(Some(""), None), "unversioned");
    }

    #[test]
    fn a_job_survives_its_queue_and_names_its_object_version() {
        let job = Job {
            document_id: DocumentId::new(),
            patient_id: PatientId::new(),
            bucket: "uploads".into(),
            key: "documents/p/d".into(),
            version_id: Some("v1".into()),
            etag: None,
            media_type: "image/png".into(),
        };

        let back: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();

        assert_eq!(back, job);
        assert_eq!(back.identity(), "s3://uploads/documents/p/d#v:v1");
        assert_eq!(back.kind(), Some(FileKind::Png));
    }
}
