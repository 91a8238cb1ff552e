//! RFC 9457 problem details: the one shape of every error response, with a correlation id and no internals.

use std::fmt;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use medvault_platform::error::{BoxError, chain};
use serde::Serialize;

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

tokio::task_local! {
    pub(crate) static CORRELATION_ID: String;
}

/// The correlation id of the request being handled (also in the `x-request-id` response header and in every log
/// line of the request as `request_id`), if any.
pub fn correlation_id() -> Option<String> {
    CORRELATION_ID.try_with(Clone::clone).ok()
}

/// The body of a problem response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:medvault:problem:<slug>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem; the same for every occurrence.
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, safe to show to the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Quote this id to support: it finds the request's logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Field-level reasons for a 422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<serde_json::Value>,
}

/// An error answered as problem+json. The `source` is logged with the correlation id and never sent.
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<serde_json::Value>,
    headers: HeaderMap,
    source: Option<BoxError>,
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("slug", &self.slug)
            .field("source", &self.source.as_deref().map(|e| chain(e)))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.title)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl ApiError {
    /// A problem of kind `slug` (`urn:medvault:problem:<slug>`) with a fixed `title`.
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str) -> Self {
        Self { status, slug, title, detail: None, errors: Vec::new(), headers: HeaderMap::new(), source: None }
    }

    /// What went wrong, for the caller: never internals, never another patient's data.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Field-level reasons (for 422).
    pub fn with_errors(mut self, errors: Vec<serde_json::Value>) -> Self {
        self.errors = errors;
        self
    }

    /// The cause, for the logs only.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn slug(&self) -> &'static str {
        self.slug
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "The request is malformed").with_detail(detail)
    }

    /// Missing or invalid credentials; one message whatever the reason, so nothing is learned from it.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication is required")
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "This action is not permitted")
    }

    /// Also the answer for anything the caller may not know exists.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "The request conflicts with the current state").with_detail(detail)
    }

    pub fn precondition_failed() -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "precondition-failed", "The resource has changed")
            .with_detail("the If-Match value does not match the current version; fetch it again")
    }

    pub fn precondition_required() -> Self {
        Self::new(StatusCode::PRECONDITION_REQUIRED, "precondition-required", "If-Match is required")
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The request body is too large")
            .with_detail(format!("the limit is {limit} bytes"))
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type")
            .with_detail(detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-request", "The request is invalid").with_detail(detail)
    }

    pub fn too_many_requests(retry_after: Duration) -> Self {
        let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests")
            .with_detail(format!("try again in {seconds} seconds"))
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }

    pub fn timeout() -> Self {
        Self::new(StatusCode::GATEWAY_TIMEOUT, "timeout", "The request took too long")
    }

    /// A failure of ours: the caller learns only that, and the correlation id.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error").with_source(source)
    }

    /// A dependency is down or throttling.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Temporarily unavailable")
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
            .with_source(source)
    }

    /// The problem body this error answers with.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:medvault:problem:{}", self.slug),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            correlation_id: correlation_id(),
            errors: self.errors.clone(),
        }
    }

    /// A generic problem for a bare status some layer answered with.
    pub(crate) fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::not_found(),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(),
            StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The request body is too large")
            }
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => Self::timeout(),
            StatusCode::UNAUTHORIZED => Self::unauthorized(),
            StatusCode::FORBIDDEN => Self::forbidden(),
            s if s.is_server_error() => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error").with_status(s)
            }
            s => Self::new(s, "http-error", "The request failed"),
        }
    }

    fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self.source {
            Some(source) if self.status.is_server_error() => {
                tracing::error!(status = self.status.as_u16(), problem = self.slug, error = %chain(source.as_ref()), "request failed");
            }
            Some(source) => {
                tracing::info!(status = self.status.as_u16(), problem = self.slug, error = %chain(source.as_ref()), "request refused");
            }
            None => tracing::info!(status = self.status.as_u16(), problem = self.slug, "request refused"),
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response.headers_mut().extend(self.headers);
        response
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn body(response: Response) -> serde_json::Value {
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause_and_carry_the_correlation_id() {
        let response = CORRELATION_ID
            .scope("req-42".into(), async {
                ApiError::internal(std::io::Error::other("table medvault-users missing at 10.0.0.7")).into_response()
            })
            .await;
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let problem = body(response).await;
        assert_eq!(problem["type"], "urn:medvault:problem:internal");
        assert_eq!(problem["status"], 500);
        assert_eq!(problem["correlation_id"], "req-42");
        assert!(!problem.to_string().contains("10.0.0.7"));
        assert!(!problem.to_string().contains("medvault-users"));
    }

    #[tokio::test]
    async fn too_many_requests_says_when_to_retry() {
        let response = ApiError::too_many_requests(Duration::from_millis(2500)).into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    }
}
