//! The request log: one line per request, TAXII and `/healthz`/`/metrics`
//! alike, answers of the resource bounds (429, 503) included, with method,
//! path (no query string: filter values stay out of logs), status, duration,
//! the signed-in user and the client's address. An INFO event on target
//! [`TARGET`]; the binary formats it as text or one JSON object per line
//! (`--log-format`). Never a header value but the request id (invariant 11).

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use sightline_taxii::RequestUser;

/// The `tracing` target of request lines, for filters
/// (`SIGHTLINE_LOG=sightline::request=info`).
pub const TARGET: &str = "sightline::request";

/// Middleware: logs the request once its response is ready.
pub(crate) async fn middleware(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.to_string());
    let user = RequestUser::default();
    req.extensions_mut().insert(user.clone());
    let resp = next.run(req).await;
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info!(
        target: TARGET,
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        duration_ms = start.elapsed().as_secs_f64() * 1000.0,
        user = user.name().unwrap_or("-"),
        client = client.as_deref().unwrap_or("-"),
        request_id,
        "request done"
    );
    resp
}
