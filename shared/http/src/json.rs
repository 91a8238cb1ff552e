//! A JSON extractor and response whose rejections are problems: 400 malformed, 413 too large, 415 wrong content
//! type, 422 valid JSON that does not fit the request's type (domain types parse at this edge).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// `axum::Json` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_problem(rejection)),
        }
    }
}

/// Maps axum's JSON rejections to problems. The serde message goes back to the caller who sent the body (it helps
/// them fix it) but never to the logs, because it may quote the body's values.
fn rejection_problem(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::unsupported_media_type("send the body as application/json")
        }
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::bad_request(format!("the body is not valid JSON: {}", serde_reason(&e.body_text())))
        }
        JsonRejection::JsonDataError(e) => ApiError::unprocessable(serde_reason(&e.body_text())),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The request body is too large")
        }
        other => ApiError::bad_request("the body could not be read").with_source(other),
    }
}

/// axum prefixes serde's reason with its own words; keep the reason only.
fn serde_reason(text: &str) -> String {
    text.rsplit_once(": ").map(|(_, reason)| reason).unwrap_or(text).to_owned()
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => ([(http::header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(error) => ApiError::internal(error).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::post;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    #[derive(serde::Deserialize, serde::Serialize)]
    struct Login {
        email: String,
    }

    async fn echo(Json(login): Json<Login>) -> Json<Login> {
        Json(login)
    }

    async fn send(content_type: Option<&str>, body: &str) -> (StatusCode, serde_json::Value) {
        let app = Router::new().route("/", post(echo));
        let mut request = http::Request::post("/");
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = app.oneshot(request.body(axum::body::Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn rejections_are_problems_with_the_right_status() {
        assert_eq!(send(Some("application/json"), r#"{"email":"a@b.c"}"#).await.0, StatusCode::OK);
        let (status, problem) = send(Some("application/json"), r#"{"email":"#).await;
        assert_eq!((status, problem["status"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)));
        let (status, problem) = send(Some("text/plain"), r#"{"email":"a@b.c"}"#).await;
        assert_eq!(
            (status, problem["type"].as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("urn:medvault:problem:unsupported-media-type"))
        );
        let (status, problem) = send(None, r#"{"email":"a@b.c"}"#).await;
        assert_eq!((status, problem["status"].as_u64()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some(415)));
        let (status, problem) = send(Some("application/json"), r#"{"mail":"a@b.c"}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problem["detail"].as_str().unwrap().contains("missing field `email`"), "{problem}");
    }
}
