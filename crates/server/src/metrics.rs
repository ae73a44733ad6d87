//! Prometheus metrics: request counts and latency histograms by matched route
//! (the route template, e.g. `/{api_root}/collections/{id}/objects/`, never
//! the concrete path, so label cardinality stays bounded and no object id or
//! query text reaches the metrics) and status.
//!
//! The `metrics` facade has one global recorder per process; it is installed
//! once and shared by every server the process runs (tests run several).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, seconds: fine below 10 ms where page reads should land.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder on first use.
/// `None` when another recorder was installed first (metrics then go there).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(h) => {
                    metrics::describe_counter!(
                        "http_requests_total",
                        "HTTP requests by method, matched route and status"
                    );
                    metrics::describe_histogram!(
                        "http_request_duration_seconds",
                        metrics::Unit::Seconds,
                        "HTTP request latency (to the response head) by method, matched route and status"
                    );
                    metrics::describe_counter!(
                        "sightline_connections_refused_total",
                        "connections closed on accept: the client address had max_connections_per_ip open"
                    );
                    metrics::describe_counter!(
                        "sightline_password_verifications_total",
                        "argon2 password verifications (cache misses of Basic auth)"
                    );
                    Some(h)
                }
                Err(e) => {
                    tracing::warn!("metrics recorder not installed: {e}");
                    None
                }
            }
        })
        .as_ref()
}

/// Middleware (a route layer, so the matched route is known) counting and
/// timing each request.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let resp = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", resp.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics`: the Prometheus text format.
pub(crate) async fn render() -> Response {
    match handle() {
        Some(h) => {
            h.run_upkeep();
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                h.render(),
            )
                .into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
