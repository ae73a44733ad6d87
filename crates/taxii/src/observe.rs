//! Request ids and tracing spans around the TAXII router.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::TaxiiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-supplied request id kept.
pub const MAX_REQUEST_ID: usize = 64;

/// Whether a client's `X-Request-Id` may be kept (logged and echoed): 1 to
/// [`MAX_REQUEST_ID`] characters of `[A-Za-z0-9._-]`. Anything else could
/// forge log lines (newlines, quotes) or flood them, so it is replaced.
pub fn valid_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Middleware: drops a client's `X-Request-Id` that is not
/// [`valid_request_id`], so the request-id layer after it makes a fresh one.
/// Must run before (outside) that layer.
pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let bad = req
        .headers()
        .get_all(&REQUEST_ID)
        .iter()
        .enumerate()
        .any(|(i, v)| i > 0 || !valid_request_id(v.as_bytes()));
    if bad {
        req.headers_mut().remove(&REQUEST_ID);
    }
    next.run(req).await
}

/// What a request changed, for the server's audit log: put into the
/// response's extensions by the handlers that write (POST objects, DELETE an
/// object), so the layer that knows the client's address writes the record.
/// Holds no secret and no object content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    /// `"post"` or `"delete"`.
    pub action: &'static str,
    /// The signed-in caller (`None`: anonymous).
    pub user: Option<String>,
    pub api_root: String,
    /// The collection id.
    pub collection: String,
    /// POST: objects in the envelope, stored or duplicate, refused.
    /// DELETE: versions removed in `success`.
    pub total: u64,
    pub success: u64,
    pub failure: u64,
    /// POST: the status resource's id.
    pub status_id: Option<String>,
    /// DELETE: the object's id.
    pub object: Option<String>,
}

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
    // The server's request log (one line per request) has this at INFO.
    tracing::debug!(parent: span, "route done");
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    TaxiiError::Internal("handler panicked".into()).into_response()
}

/// Wraps the routes: request id (outermost, so every span has one; a
/// client's own only when [`valid_request_id`]), panic catcher, bounds on
/// the request head, content negotiation, then per-route tracing.
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
        .layer(axum::middleware::from_fn(sanitize_request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_charset_and_length() {
        for ok in [
            "a",
            "client-chosen-1",
            "A.b_c-9",
            &"x".repeat(MAX_REQUEST_ID),
        ] {
            assert!(valid_request_id(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "has space",
            "new\nline",
            "quote\"",
            "ünï",
            "semi;colon",
            &"x".repeat(MAX_REQUEST_ID + 1),
        ] {
            assert!(!valid_request_id(bad.as_bytes()), "{bad:?}");
        }
    }
}
