//! The UI's errors, each an HTML page with its HTTP status: the API's
//! failures (the same reads fail the same way) plus the UI's own refusal.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use sightline_api::ApiError;
use sightline_graph::GraphError;
use sightline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// A form without the right CSRF token (403).
    #[error("{0}")]
    Forbidden(String),
    /// Whatever the API would answer for the same read.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl UiError {
    /// No such object, or none the caller may read (404).
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::Api(ApiError::NotFound(m.into()))
    }

    /// A server fault; logged, never shown (500).
    pub fn internal(m: impl Into<String>) -> Self {
        Self::Api(ApiError::Internal(m.into()))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Api(e) => e.status(),
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
        let internal = matches!(self, Self::Api(ApiError::Internal(_)));
        let message = sightline_api::client_message(&self, internal, "web UI");
        let page = crate::pages::error(status, &message);
        (status, Html(page.into_string())).into_response()
    }
}
