//! Prometheus metrics: request counts and latency histograms by matched route
//! (the route template, e.g. `/{api_root}/collections/{id}/objects/`, never
//! the concrete path, so label cardinality stays bounded and no object id or
//! query text reaches the metrics) and status.
//!
//! The `metrics` facade has one global recorder per process; it is installed
//! once and shared by every server the process runs (tests run several).
//!
//! `/metrics` needs an admin or a member of group [`METRICS_GROUP`] unless
//! the config says `metrics_public = true`: route names, request rates and
//! error counts tell an outsider what the server holds and how it is used.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sightline_taxii::{AuthError, Authenticator, Principal};

/// Members of this group may read `/metrics` (besides admins).
pub const METRICS_GROUP: &str = "metrics";

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

/// Who may read `/metrics`.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) auth: Arc<dyn Authenticator>,
    /// `metrics_public`: anyone.
    pub(crate) public: bool,
}

fn may_read(p: &Principal) -> bool {
    p.admin || p.groups.iter().any(|g| g == METRICS_GROUP)
}

/// A plain-text refusal (`/metrics` is not TAXII).
fn refuse(status: StatusCode, text: &'static str) -> Response {
    let mut r = (status, text).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(sightline_taxii::error::WWW_AUTHENTICATE),
        );
    }
    r
}

/// `GET /metrics` behind [`Gate`]: 401 without (valid) credentials, 403 for
/// a signed-in caller who is neither admin nor in [`METRICS_GROUP`].
pub(crate) async fn render_gated(State(gate): State<Gate>, headers: HeaderMap) -> Response {
    if !gate.public {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return refuse(StatusCode::UNAUTHORIZED, "credentials required\n");
        };
        let Ok(value) = value.to_str() else {
            return refuse(StatusCode::UNAUTHORIZED, "malformed Authorization header\n");
        };
        let who = match gate.auth.authenticate_cached(value) {
            Some(p) => Ok(Some(p)),
            // May hash a password: off the async threads.
            None => {
                let (auth, value) = (gate.auth.clone(), value.to_owned());
                tokio::task::spawn_blocking(move || auth.authenticate(Some(&value)))
                    .await
                    .unwrap_or_else(|e| Err(AuthError::Unavailable(e.to_string())))
            }
        };
        match who {
            Ok(Some(p)) if may_read(&p) => {}
            Ok(Some(_)) => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "metrics are for admins and the metrics group\n",
                )
            }
            Ok(None) | Err(AuthError::Invalid | AuthError::Malformed) => {
                return refuse(StatusCode::UNAUTHORIZED, "invalid credentials\n")
            }
            Err(AuthError::Unavailable(m)) => {
                tracing::error!(error = %m, "authentication unavailable");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "authentication unavailable\n",
                );
            }
        }
    }
    render().await
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
