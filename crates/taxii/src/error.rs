//! The TAXII error message (TAXII 2.1 §3.6.1) and the one error type every
//! handler returns.
//!
//! Every error becomes a `{"title", "description", "http_status"}` body with
//! the TAXII media type; a 401 also carries `WWW-Authenticate` (RFC 7235 §4.1,
//! TAXII 2.1 §8.2.2). Internal failures are logged with their detail and
//! answered with a generic description, so no store path or message leaks.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sightline_store::StoreError;

/// The realm announced on every 401.
pub const WWW_AUTHENTICATE: &str = "Basic realm=\"sightline\"";

/// Every way a TAXII request can fail, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxiiError {
    /// 400: a malformed parameter, cursor or body.
    #[error("{0}")]
    BadRequest(String),
    /// 401: the resource needs credentials and none (or wrong ones) were given.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller may see the collection but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource, or one the caller may not know about.
    #[error("{0}")]
    NotFound(String),
    /// 405
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 406: the `Accept` header names no TAXII 2.1 media type.
    #[error("{0}")]
    NotAcceptable(String),
    /// 408: the request (or its body) did not arrive in time; the
    /// connection is closed after the answer.
    #[error("{0}")]
    RequestTimeout(String),
    /// 413: the body exceeds the API root's `max_content_length`.
    #[error("the request body exceeds max_content_length ({0} bytes)")]
    PayloadTooLarge(usize),
    /// 413: the body is within `max_content_length` but holds more than an
    /// [`InputLimits`](crate::InputLimits) bound allows (objects, string length).
    #[error("{0}")]
    TooLarge(String),
    /// 431: too many header fields, or too many bytes of them.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 415: the `Content-Type` of a POST is not the TAXII media type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed JSON that is not a TAXII envelope.
    #[error("{0}")]
    Unprocessable(String),
    /// 503: the store or the credential store is unavailable or busy.
    #[error("{0}")]
    Unavailable(String),
    /// 507: the store is full or read-only.
    #[error("{0}")]
    InsufficientStorage(String),
    /// 500: a bug or an unexpected store failure (detail logged, not sent).
    #[error("{0}")]
    Internal(String),
}

/// The TAXII 2.1 error message resource (§3.6.1).
#[derive(Debug, Serialize)]
struct ErrorMessage<'a> {
    title: &'a str,
    description: &'a str,
    /// The HTTP status as a string, as §3.6.1 defines it.
    http_status: String,
}

impl TaxiiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge(_) | Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "Bad request",
            Self::Unauthorized(_) => "Authentication required",
            Self::Forbidden(_) => "Forbidden",
            Self::NotFound(_) => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::NotAcceptable(_) => "Not acceptable",
            Self::RequestTimeout(_) => "Request timeout",
            Self::PayloadTooLarge(_) | Self::TooLarge(_) => "Request entity too large",
            Self::HeadersTooLarge(_) => "Request header fields too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::Unprocessable(_) => "Unprocessable entity",
            Self::Unavailable(_) => "Service unavailable",
            Self::InsufficientStorage(_) => "Insufficient storage",
            Self::Internal(_) => "Internal server error",
        }
    }

    pub(crate) fn bad(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }

    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }

    pub(crate) fn unauthenticated() -> Self {
        Self::Unauthorized("this resource requires authentication".into())
    }
}

impl From<StoreError> for TaxiiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchCollection { .. } => Self::not_found("no such collection"),
            StoreError::Invalid(m) => Self::BadRequest(m),
            StoreError::Busy { message, .. } => {
                tracing::warn!(error = %message, "store busy");
                Self::Unavailable("the store is busy; retry later".into())
            }
            StoreError::NoSpace { message, .. } => {
                tracing::error!(error = %message, "store full or read-only");
                Self::InsufficientStorage("the store cannot accept writes".into())
            }
            other => {
                tracing::error!(error = %other, "store failure");
                Self::Internal("storage failure".into())
            }
        }
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let description = match &self {
            // Never send internal detail to the client; it is logged where raised.
            Self::Internal(_) => "the server failed to process the request".to_owned(),
            other => other.to_string(),
        };
        let mut resp = error_response(status, self.title(), &description);
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the request may still be on its way: the
            // connection cannot carry another one.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

/// A TAXII error message (§3.6.1) with any status.
pub(crate) fn error_response(status: StatusCode, title: &str, description: &str) -> Response {
    let body = ErrorMessage {
        title,
        description,
        http_status: status.as_u16().to_string(),
    };
    crate::media::taxii_json(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each store failure kind keeps its status (§3.6.1), whatever cause it
    /// carries; an internal one shows the client no detail.
    #[test]
    fn store_errors_map_to_statuses() {
        let cause = || std::io::Error::other("/srv/secret/path: EIO");
        for (e, status) in [
            (StoreError::no_such_collection("c"), StatusCode::NOT_FOUND),
            (StoreError::Invalid("bad".into()), StatusCode::BAD_REQUEST),
            (
                StoreError::busy("locked").caused_by(cause()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                StoreError::no_space("full").caused_by(cause()),
                StatusCode::INSUFFICIENT_STORAGE,
            ),
            (
                StoreError::io("/srv/secret/path").caused_by(cause()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                StoreError::corrupt("/srv/secret/path"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                StoreError::backend("/srv/secret/path").caused_by(cause()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                StoreError::collection_exists("c"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ] {
            let shown = format!("{e}");
            let t = TaxiiError::from(e);
            assert_eq!(t.status(), status, "{shown}");
            assert!(!t.to_string().contains("secret"), "{t}");
        }
    }
}
