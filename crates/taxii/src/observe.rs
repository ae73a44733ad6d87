//! Request ids and tracing spans around the TAXII router.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::TaxiiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The span of one request: method, route pattern and request id now; status
/// and latency when the response is ready. No header value other than the
/// request id is recorded (the `Authorization` header never is).
fn make_span(req: &Request) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "taxii",
        method = %req.method(),
        route,
        request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

fn on_response(resp: &Response, latency: Duration, span: &Span) {
    span.record("status", resp.status().as_u16());
    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
    tracing::info!(parent: span, "request done");
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    TaxiiError::Internal("handler panicked".into()).into_response()
}

/// Wraps the routes: request id (outermost, so every span has one), panic
/// catcher, bounds on the request head, content negotiation, then per-route
/// tracing.
pub(crate) fn layers(routes: Router) -> Router {
    routes
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_response(on_response),
        )
        .layer(axum::middleware::from_fn(crate::media::negotiate))
        .layer(crate::head::BoundsLayer)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
