//! Security headers on every response the server makes (issue 12 §4):
//! `X-Content-Type-Options: nosniff` always (a browser must not guess a
//! TAXII or error body into HTML), `Cache-Control: no-store` on any answer to
//! a request that carried credentials (no proxy or browser cache keeps data
//! meant for one user), and `Strict-Transport-Security` when serving TLS.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// One year, the common HSTS lifetime.
pub const HSTS: &str = "max-age=31536000";

/// Middleware; the state says whether the server speaks TLS.
pub(crate) async fn security_headers(
    State(tls): State<bool>,
    req: Request,
    next: Next,
) -> Response {
    let credentials = req.headers().contains_key(header::AUTHORIZATION);
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if credentials {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    resp
}
