//! The API's errors, each a JSON body with its HTTP status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sightline_graph::GraphError;
use sightline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter is missing or malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// Credentials were given but refused (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may read but not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such object, or none the caller may read (404).
    #[error("{0}")]
    NotFound(String),
    /// A request body over its bound (413).
    #[error("{0}")]
    TooLarge(String),
    /// The store or the accounts are busy or unreachable (503).
    #[error("{0}")]
    Unavailable(String),
    /// A server fault; logged, never sent (500).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Busy { .. } => Self::Unavailable("the store is busy; retry later".into()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<GraphError> for ApiError {
    fn from(e: GraphError) -> Self {
        match e {
            GraphError::NotFound(id) => Self::NotFound(format!("no object {id} that you may read")),
            GraphError::Invalid(m) => Self::BadRequest(m),
            GraphError::Store(s) => s.into(),
        }
    }
}

/// What a client is told of an error: its text, except for a server fault,
/// which is logged (with where it happened) and never sent.
pub fn client_message(e: &dyn std::fmt::Display, internal: bool, origin: &str) -> String {
    if internal {
        tracing::error!(error = %e, origin, "request failed");
        "the server failed to process the request".to_owned()
    } else {
        e.to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = client_message(&self, matches!(self, Self::Internal(_)), "graph API");
        let body = json!({"error": {
            "status": status.as_u16(),
            "title": status.canonical_reason().unwrap_or(""),
            "message": message,
        }});
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"sightline\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}
