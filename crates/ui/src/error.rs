//! The UI's errors, each an HTML page with its HTTP status.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use sightline_api::ApiError;
use sightline_graph::GraphError;
use sightline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// A malformed request (400).
    #[error("{0}")]
    BadRequest(String),
    /// A form without the right CSRF token (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such object, or none the caller may read (404).
    #[error("{0}")]
    NotFound(String),
    /// The store or the accounts are busy or unreachable (503).
    #[error("{0}")]
    Unavailable(String),
    /// A server fault; logged, never shown (500).
    #[error("{0}")]
    Internal(String),
}

impl UiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The same failures as the API's, shown as pages.
impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(m) => Self::BadRequest(m),
            ApiError::Unauthorized(m) => Self::Forbidden(m),
            ApiError::NotFound(m) => Self::NotFound(m),
            ApiError::Unavailable(m) => Self::Unavailable(m),
            ApiError::Internal(m) => Self::Internal(m),
        }
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<GraphError> for UiError {
    fn from(e: GraphError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(m) => {
                tracing::error!(error = %m, "web UI failure");
                "the server failed to process the request".to_owned()
            }
            other => other.to_string(),
        };
        let page = crate::pages::error(status, &message);
        (status, Html(page.into_string())).into_response()
    }
}
