//! The one place where errors become HTTP responses: status, JSON body `{"message": ...}`, and
//! one log line. 5xx bodies say nothing about internals; the log has the cause chain.

use std::error::Error as StdError;
use std::fmt::Write as _;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use notes_domain::{SpeechError, StoreError, ValidationError};

use crate::response::json_message;

/// Everything a handler can fail with, by the response it deserves.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input. The message is for the caller and names the field.
    #[error("{0}")]
    BadRequest(String),
    /// No usable identity in the authorizer context. Fail closed.
    #[error("Unauthorized")]
    Unauthorized,
    /// A valid identity that may not use this API (not in `REQUIRED_GROUP`).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    /// A version precondition failed; nothing was changed.
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {} bytes", crate::MAX_BODY_BYTES)]
    PayloadTooLarge,
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// The same key was used for a different request (Idempotency-Key).
    #[error("{0}")]
    Unprocessable(String),
    /// A per-user budget is spent: retry after `retry_after_seconds` (the `Retry-After` header).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_seconds: u64,
    },
    /// A request with the same Idempotency-Key is still being processed: retry shortly.
    #[error("a request with this Idempotency-Key is still being processed: retry shortly")]
    InProgress,
    /// A dependency (the store, the speech service, audio storage) is throttling or
    /// unreachable: worth a retry.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync + 'static>),
    /// A bug or an unexpected store failure.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        Self::BadRequest(err.to_string())
    }
}

impl From<StoreError> for ApiError {
    /// The default meaning of store errors; call sites that know better (a 404 that should say
    /// which note, a conflict that should say which version) map them themselves.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::VersionConflict { current } => Self::Conflict(match current {
                Some(version) => format!("version conflict: the stored version is {version}"),
                None => "version conflict: there is no stored version".into(),
            }),
            StoreError::LimitReached { limit, items } => Self::Conflict(format!(
                "you already have {limit} {items}, the most one account may keep: nothing was saved"
            )),
            StoreError::Unavailable(_) => Self::Unavailable(Box::new(err)),
            StoreError::Internal(_) => Self::Internal(Box::new(err)),
        }
    }
}

impl From<SpeechError> for ApiError {
    fn from(err: SpeechError) -> Self {
        match err {
            SpeechError::Rejected(reason) => Self::BadRequest(reason),
            SpeechError::BudgetExhausted {
                retry_after_seconds,
                ..
            } => Self::TooManyRequests {
                message: err.to_string(),
                retry_after_seconds,
            },
            SpeechError::Unavailable(_) => Self::Unavailable(Box::new(err)),
            SpeechError::Internal(_) => Self::Internal(Box::new(err)),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InProgress => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response, and the log line for it. Client errors are logged by status only: their
    /// messages can quote what the client sent, which may be note text.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %error_chain(&self), "request failed");
        } else {
            tracing::info!(status = status.as_u16(), "request rejected");
        }
        let mut response = json_message(status, &self.to_string());
        match &self {
            Self::MethodNotAllowed { allow } => {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            Self::Unavailable(_) | Self::InProgress => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::TooManyRequests {
                retry_after_seconds,
                ..
            } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            _ => {}
        }
        response
    }
}

/// `outer: cause: root cause`, for the log.
pub fn error_chain(err: &dyn StdError) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(chain, ": {cause}");
        source = cause.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn every_error_is_json_with_a_message_and_5xx_reveal_nothing() {
        let secret =
            std::io::Error::other("connection to dynamodb.internal:8000 refused, table notes-prod");
        let cases: Vec<(ApiError, u16)> = vec![
            (ApiError::BadRequest("Note must not be empty".into()), 400),
            (ApiError::Unauthorized, 401),
            (ApiError::Forbidden("not in the group".into()), 403),
            (ApiError::NotFound("no such note".into()), 404),
            (ApiError::MethodNotAllowed { allow: "GET" }, 405),
            (ApiError::Conflict("version conflict".into()), 409),
            (ApiError::PayloadTooLarge, 413),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::Unprocessable("key reused".into()), 422),
            (ApiError::InProgress, 409),
            (
                ApiError::from(StoreError::unavailable(std::io::Error::other(
                    "timeout at 10.0.0.1",
                ))),
                503,
            ),
            (ApiError::Internal(Box::new(secret)), 500),
        ];
        for (error, status) in cases {
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let body = body_of(&response);
            let message = body["message"].as_str().unwrap();
            assert!(!message.is_empty(), "status {status} has a message");
            if status >= 500 {
                for leak in ["dynamodb", "10.0.0.1", "notes-prod", "refused", "timeout"] {
                    assert!(
                        !message.contains(leak),
                        "{status} body leaks {leak}: {message}"
                    );
                }
            }
        }
    }

    #[test]
    fn method_not_allowed_says_what_is_allowed_and_503_says_when_to_retry() {
        let response = ApiError::MethodNotAllowed { allow: "GET, POST" }.into_response();
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        let response =
            ApiError::from(StoreError::unavailable(std::io::Error::other("x"))).into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = ApiError::InProgress.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn store_errors_map_to_their_meaning() {
        let conflict = ApiError::from(StoreError::VersionConflict {
            current: Some(notes_domain::Version::new(4).unwrap()),
        });
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        assert!(conflict.to_string().contains('4'));
        assert_eq!(
            ApiError::from(StoreError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(StoreError::internal(std::io::Error::other("x"))).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
