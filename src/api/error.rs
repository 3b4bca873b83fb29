//! The one error type of the HTTP API, and the one place that picks each error's status.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::{self, RefOr};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("{0}")]
    MalformedJson(String),
    /// JSON of the wrong shape: a missing field, a wrong type.
    #[error("{0}")]
    InvalidRequest(String),
    /// Well-formed JSON that breaks a rule: an empty text, a negative count, a bad timestamp.
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// No API key, or one that is not configured.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid API key whose role may not make this request.
    #[error("{0}")]
    Forbidden(String),
    #[error("no such resource: {0}")]
    NotFound(String),
    /// The request clashes with the resource's state: a case another moderator has claimed.
    #[error("{0}")]
    Conflict(String),
    /// A body in a format the endpoint does not take (a form, plain text).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests in flight; retry shortly")]
    Overloaded,
    /// The transformer's queue is full and the channel's policy refuses rather than answer
    /// from the fast path.
    #[error("the transformer model's queue is full; retry shortly")]
    ModelBusy,
    /// This client address or API key sent more than its rate.
    #[error("rate limit reached; retry in {} s", super::limits::retry_after(*.0))]
    RateLimited(std::time::Duration),
    /// The body did not arrive in time.
    #[error("the request body did not arrive within {} s", .0.as_secs())]
    Timeout(std::time::Duration),
    #[error("request headers are larger than {0} bytes")]
    HeadersTooLarge(usize),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A fault of the service; the message is logged, never sent.
    #[error("internal error")]
    Internal(String),
    /// A defect met on one comment (a panic); the message is logged, never sent. Unlike
    /// `Internal`, it fails that comment alone, not the rest of a batch.
    #[error("internal error")]
    Panicked(String),
}

/// Every error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

/// What went wrong: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `malformed_json`, `invalid_request`, `payload_too_large`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `unsupported_media_type`, `overloaded`, `rate_limited`,
    /// `request_timeout`, `headers_too_large`, `method_not_allowed` or `internal`.
    pub code: &'static str,
    pub message: String,
}

/// The refusals any endpoint may answer, as the OpenAPI document lists them: each an
/// [`ErrorResponse`].
pub struct Refusals;

impl utoipa::IntoResponses for Refusals {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        described(
            "ErrorResponse",
            &[
                (
                    400,
                    "Malformed JSON, a field of the wrong type, or an unknown query parameter.",
                ),
                (401, "No API key, or one that is not configured."),
                (
                    403,
                    "The key's role may not make this request, or (in open local mode) the request does not come from this host.",
                ),
                (408, "The body did not arrive in time."),
                (413, "The body is larger than 1 MiB."),
                (415, "A body in a format the endpoint does not take."),
                (
                    422,
                    "Valid JSON that breaks a rule: an empty text, a negative count, a bad policy.",
                ),
                (
                    429,
                    "Rate limit reached, or too many requests in flight: retry after `Retry-After` seconds.",
                ),
            ],
        )
    }
}

/// Error answers for the OpenAPI document: each status with its description, in the error
/// shape the schema `shape` names.
pub fn described(
    shape: &str,
    statuses: &[(u16, &str)],
) -> BTreeMap<String, RefOr<openapi::Response>> {
    statuses
        .iter()
        .map(|(status, description)| {
            let content = openapi::Content::new(Some(openapi::Ref::from_schema_name(shape)));
            let response = openapi::ResponseBuilder::new()
                .description(*description)
                .content("application/json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Overloaded | ApiError::ModelBusy | ApiError::RateLimited(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) | ApiError::Panicked(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let code = match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidRequest(_) | ApiError::Unprocessable(_) => "invalid_request",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Overloaded => "overloaded",
            ApiError::ModelBusy => "model_busy",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Timeout(_) => "request_timeout",
            ApiError::HeadersTooLarge(_) => "headers_too_large",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Internal(_) | ApiError::Panicked(_) => "internal",
        };
        ErrorBody {
            code,
            message: self.to_string(),
        }
    }
}

impl From<crate::pipeline::RunError> for ApiError {
    fn from(e: crate::pipeline::RunError) -> Self {
        use crate::pipeline::RunError;
        match e {
            RunError::Register(e) => e.into(),
            RunError::Panicked(message) => ApiError::Panicked(message),
            RunError::Busy => ApiError::ModelBusy,
        }
    }
}

impl From<crate::register::RegisterError> for ApiError {
    fn from(e: crate::register::RegisterError) -> Self {
        use crate::register::RegisterError;
        match e {
            RegisterError::NoSuchCase(_) => ApiError::NotFound(e.to_string()),
            RegisterError::Claimed(_) => ApiError::Conflict(e.to_string()),
            _ => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) | ApiError::Panicked(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let mut response =
            (self.status(), Json(ErrorResponse { error: self.body() })).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"seula\""),
                );
            }
            ApiError::Overloaded | ApiError::ModelBusy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
            }
            ApiError::RateLimited(wait) => {
                let seconds = super::limits::retry_after(wait);
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}
