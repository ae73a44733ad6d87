//! A stand-in for `sightline_taxii::router` while that router is being
//! written: discovery only (TAXII 2.1 §4.1), authenticated the way the real
//! router must be, so the server's wiring (auth, cache, TLS, shutdown,
//! metrics) can be tested end to end meanwhile. Deleted when the router lands.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sightline_taxii::{AppState, AuthError};

const TAXII: &str = "application/taxii+json;version=2.1";

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/taxii2/", get(discovery))
        .with_state(state)
}

async fn discovery(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let authz = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let auth = s.auth.clone();
    // argon2 is CPU-heavy: keep it off the async workers.
    let who = tokio::task::spawn_blocking(move || auth.authenticate(authz.as_deref())).await;
    match who {
        Ok(Ok(Some(_))) => {}
        Ok(Ok(None) | Err(AuthError::Invalid | AuthError::Malformed)) => {
            return (
                StatusCode::UNAUTHORIZED,
                [
                    (
                        header::WWW_AUTHENTICATE,
                        "Basic realm=\"sightline\", charset=\"UTF-8\"",
                    ),
                    (header::CONTENT_TYPE, TAXII),
                ],
                r#"{"title":"authentication required","http_status":"401"}"#,
            )
                .into_response()
        }
        _ => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
    let c = &s.config;
    let body = serde_json::json!({
        "title": c.title,
        "description": c.description,
        "contact": c.contact,
        "default": c.default_api_root.as_ref().map(|d| format!("/{d}/")),
        "api_roots": c.api_roots.iter().map(|r| format!("/{}/", r.path)).collect::<Vec<_>>(),
    });
    ([(header::CONTENT_TYPE, TAXII)], body.to_string()).into_response()
}
