//! What each PHI route does: the detector and operators of `medvault_phi` on a blocking thread, the keys they
//! need, and the audited decryption; with the one mapping of its errors to problem responses.

use std::sync::Arc;

use medvault_audit::{AuditError, AuditLog, Outcome};
use medvault_auth::{Permission, Principal};
use medvault_crypto::WrappedKey;
use medvault_http::ApiError;
use medvault_phi::{AnalyzeOptions, Analyzer, DecryptPermission, Entity, Keys, Output, PhiError, Policy, TenantKey};
use medvault_platform::Phi;

use crate::keys::{DataKeys, KeyError};
use crate::request::{InvalidRequest, uses_encrypt};

/// Why a PHI request failed.
#[derive(Debug, thiserror::Error)]
pub enum PhiApiError {
    #[error("the request is invalid")]
    Invalid(#[from] InvalidRequest),
    #[error("the PHI engine refused")]
    Engine(#[source] PhiError),
    #[error("a data key could not be had")]
    Key(#[from] KeyError),
    #[error("the PHI engine's thread failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("the audit event could not be written")]
    Audit(#[source] AuditError),
}

impl PhiApiError {
    /// The audit reason code of a failed decryption.
    fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid-request",
            Self::Engine(PhiError::Crypto(..) | PhiError::MalformedToken(_)) => "token-does-not-open",
            Self::Engine(_) => "engine-refused",
            Self::Key(KeyError::Refused(_)) => "key-refused",
            Self::Key(_) => "key-service-failed",
            Self::Task(_) | Self::Audit(_) => "internal",
        }
    }
}

impl From<PhiError> for PhiApiError {
    fn from(error: PhiError) -> Self {
        Self::Engine(error)
    }
}

/// The one place PHI errors become HTTP answers. Details tell the caller what to fix; causes that are ours go to
/// the logs only (none of them carries PHI: the engine's errors name types and indexes, never values).
impl From<PhiApiError> for ApiError {
    fn from(error: PhiApiError) -> Self {
        match error {
            PhiApiError::Invalid(invalid) => ApiError::unprocessable(invalid.detail()),
            PhiApiError::Engine(PhiError::Crypto(..) | PhiError::MalformedToken(_)) => ApiError::unprocessable(
                "the text holds an encrypted token that is malformed or does not open with this wrapped_key",
            ),
            PhiApiError::Engine(PhiError::DecryptNotPermitted) => ApiError::forbidden(),
            PhiApiError::Engine(
                e @ (PhiError::CustomPattern { .. } | PhiError::ScoreRange { .. } | PhiError::InvalidOperator(_)),
            ) => ApiError::unprocessable(e.to_string()),
            PhiApiError::Engine(e @ (PhiError::BuiltinPattern(_) | PhiError::MissingKey { .. })) => {
                ApiError::internal(e)
            }
            PhiApiError::Key(KeyError::Refused(_)) => {
                ApiError::unprocessable("wrapped_key was not made for this tenant's PHI encryption, or it is damaged")
            }
            PhiApiError::Key(e @ KeyError::Unavailable(_)) => ApiError::unavailable(e),
            PhiApiError::Key(e @ KeyError::Failed(_)) => ApiError::internal(e),
            e @ (PhiApiError::Task(_) | PhiApiError::Audit(_)) => ApiError::internal(e),
        }
    }
}

impl From<InvalidRequest> for ApiError {
    fn from(error: InvalidRequest) -> Self {
        PhiApiError::from(error).into()
    }
}

/// The caller of `decrypt`, as the engine's permission port sees it.
struct Caller<'a>(&'a Principal);

impl DecryptPermission for Caller<'_> {
    fn may_decrypt_phi(&self) -> bool {
        self.0.permits(Permission::PhiDecrypt).is_ok()
    }
}

/// A transformed text, with the wrapped data key when `encrypt` ran.
#[derive(Debug)]
pub struct Redacted {
    pub output: Output,
    pub wrapped_key: Option<WrappedKey>,
}

/// The PHI engine with its keys: one per execution environment, cheap to clone.
#[derive(Clone)]
pub struct PhiEngine {
    analyzer: Arc<Analyzer>,
    tenant_key: Arc<TenantKey>,
    data_keys: DataKeys,
    audit: Arc<dyn AuditLog>,
}

impl std::fmt::Debug for PhiEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhiEngine").field("data_keys", &self.data_keys).finish_non_exhaustive()
    }
}

impl PhiEngine {
    pub fn new(analyzer: Analyzer, tenant_key: TenantKey, data_keys: DataKeys, audit: Arc<dyn AuditLog>) -> Self {
        Self { analyzer: Arc::new(analyzer), tenant_key: Arc::new(tenant_key), data_keys, audit }
    }

    pub fn audit_log(&self) -> &Arc<dyn AuditLog> {
        &self.audit
    }

    /// The entities of `text`.
    pub async fn analyze(&self, text: Phi<String>, options: AnalyzeOptions) -> Result<Vec<Entity>, PhiApiError> {
        let analyzer = self.analyzer.clone();
        // Detection is CPU-bound: off the async threads, so the request timeout can still answer.
        Ok(tokio::task::spawn_blocking(move || analyzer.analyze(text.expose(), &options)).await?)
    }

    /// `text` with `policy` applied to its entities; a fresh data key when the policy encrypts.
    pub async fn redact(
        &self,
        text: Phi<String>,
        options: AnalyzeOptions,
        policy: Policy,
    ) -> Result<Redacted, PhiApiError> {
        let (data_key, wrapped_key) = match uses_encrypt(&policy) {
            true => {
                let (key, wrapped) = self.data_keys.generate().await?;
                (Some(key), Some(wrapped))
            }
            false => (None, None),
        };
        let (analyzer, tenant_key) = (self.analyzer.clone(), self.tenant_key.clone());
        let output = tokio::task::spawn_blocking(move || {
            let keys = Keys { tenant: Some(&tenant_key), data: data_key.as_ref() };
            medvault_phi::redact(&analyzer, text.expose(), &options, &policy, keys)
        })
        .await??;
        Ok(Redacted { output, wrapped_key })
    }

    /// `text` under the Safe Harbor profile.
    pub async fn deidentify(&self, text: Phi<String>, options: AnalyzeOptions) -> Result<Output, PhiApiError> {
        self.redact(text, options, Policy::safe_harbor()).await.map(|r| r.output)
    }

    /// `text` with every `encrypt` token restored, for a caller allowed to decrypt PHI. Every attempt is audited
    /// (`phi.decrypt`, success or failure with its reason); the text is returned only once its event is written.
    pub async fn decrypt(
        &self,
        principal: &Principal,
        text: Phi<String>,
        wrapped_key: &WrappedKey,
    ) -> Result<String, PhiApiError> {
        let restored = self.restore(principal, &text, wrapped_key).await;
        let event = match &restored {
            Ok(_) => principal.audit_event("phi.decrypt", Outcome::Success),
            Err(error) => principal.audit_event("phi.decrypt", Outcome::Failure).with_reason(error.reason()),
        };
        self.audit.append(event).await.map_err(PhiApiError::Audit)?;
        restored
    }

    async fn restore(
        &self,
        principal: &Principal,
        text: &Phi<String>,
        wrapped_key: &WrappedKey,
    ) -> Result<String, PhiApiError> {
        let key = self.data_keys.unwrap(wrapped_key).await?;
        Ok(medvault_phi::reidentify(text.expose(), &key, &Caller(principal))?)
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    fn status(error: PhiApiError) -> StatusCode {
        ApiError::from(error).status()
    }

    #[test]
    fn the_callers_mistakes_are_422_and_ours_are_500_or_503() {
        let refused = KeyError::Refused("InvalidCiphertextException".into());
        let down = KeyError::Unavailable("throttled".into());
        let denied = KeyError::Failed("AccessDeniedException".into());
        let missing =
            PhiError::MissingKey { operator: "hash", entity_type: medvault_phi::EntityType::Ssn, key: "tenant key" };

        assert_eq!(status(InvalidRequest::TooManyRecognizers.into()), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status(PhiError::MalformedToken(None).into()), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status(PhiApiError::Key(refused)), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status(PhiError::DecryptNotPermitted.into()), StatusCode::FORBIDDEN);
        assert_eq!(status(PhiApiError::Key(down)), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status(PhiApiError::Key(denied)), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status(missing.into()), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn an_internal_cause_never_reaches_the_problem_body() {
        let error = PhiApiError::Key(KeyError::Failed("User arn:aws:iam::123:role/x is not authorized".into()));

        let problem = serde_json::to_string(&ApiError::from(error).problem()).unwrap();

        assert!(!problem.contains("arn:aws"), "{problem}");
    }

    #[test]
    fn failed_decryptions_are_audited_with_a_reason_code() {
        assert_eq!(PhiApiError::from(PhiError::MalformedToken(None)).reason(), "token-does-not-open");
        assert_eq!(PhiApiError::Key(KeyError::Refused("x".into())).reason(), "key-refused");
    }
}
