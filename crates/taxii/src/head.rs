//! Bounds on the request headers, answered with TAXII error messages
//! (§3.6.1) like every other error.
//!
//! hyper refuses requests past its own parser limits before any handler runs,
//! with an empty body: more than 100 header fields or a head over ~400 KiB
//! (431), a request target over 64 KiB (414), a malformed request (400).
//! The header bounds here sit well inside hyper's, so a request with too many
//! or too large headers that is still parseable gets a TAXII body naming the
//! limit. Long targets are left to the filters' own bounds (TAXII 400 for too
//! many values), since a legitimate `match[id]` list of 1,000 ids is ~50 KiB.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::TaxiiError;

/// Most header fields in a request (hyper's own limit is 100).
pub const MAX_HEADERS: usize = 64;
/// Largest sum of header names and values, bytes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The error for a request head past the bounds, if it is.
fn check(headers: &HeaderMap) -> Option<TaxiiError> {
    let count = headers.len();
    if count > MAX_HEADERS {
        return Some(TaxiiError::HeadersTooLarge(format!(
            "the request has {count} header fields; the limit is {MAX_HEADERS}"
        )));
    }
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    (bytes > MAX_HEADER_BYTES).then(|| {
        TaxiiError::HeadersTooLarge(format!(
            "the request's header fields hold {bytes} bytes; the limit is {MAX_HEADER_BYTES}"
        ))
    })
}

/// The bounds as a plain tower layer rather than `axum::middleware::from_fn`,
/// which boxes a future and clones the inner service per request: 2.7% of
/// the instructions of a TAXII GET by id (callgrind, BENCHMARKS.md issue 3).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BoundsLayer;

impl<S> Layer<S> for BoundsLayer {
    type Service = Bounds<S>;

    fn layer(&self, inner: S) -> Bounds<S> {
        Bounds { inner }
    }
}

/// See [`BoundsLayer`].
#[derive(Clone, Debug)]
pub(crate) struct Bounds<S> {
    inner: S,
}

impl<S> Service<Request> for Bounds<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoundsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match check(req.headers()) {
            Some(e) => BoundsFuture::Refused(e.into_response()),
            None => BoundsFuture::Inner(self.inner.call(req)),
        }
    }
}

/// The refusal, ready at once, or the inner service's answer.
pub(crate) enum BoundsFuture<F> {
    Refused(Response),
    Inner(F),
}

impl<F, E> Future for BoundsFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            // Polled once: a future is not polled again after Ready.
            BoundsFuture::Refused(r) => Poll::Ready(Ok(std::mem::take(r))),
            BoundsFuture::Inner(f) => Pin::new(f).poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::{service_fn, Layer, ServiceExt};

    use super::*;

    async fn status_with(headers: &[(String, String)]) -> StatusCode {
        let inner = service_fn(|_req: Request| {
            std::future::ready(Ok::<_, Infallible>(Response::default()))
        });
        let mut req = Request::new(Body::empty());
        for (k, v) in headers {
            req.headers_mut().append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        match BoundsLayer.layer(inner).oneshot(req).await {
            Ok(resp) => resp.status(),
            Err(never) => match never {},
        }
    }

    /// Within the bounds the request reaches the inner service; past either
    /// bound it gets 431 (RFC 6585 §5) without reaching it.
    #[tokio::test]
    async fn headers_past_the_bounds_get_431() {
        let fields = |n: usize| -> Vec<(String, String)> {
            (0..n).map(|i| (format!("x-f{i}"), "v".into())).collect()
        };
        assert_eq!(status_with(&fields(MAX_HEADERS)).await, StatusCode::OK);
        assert_eq!(
            status_with(&fields(MAX_HEADERS + 1)).await,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        let big = |n: usize| vec![("x-big".to_owned(), "b".repeat(n - "x-big".len()))];
        assert_eq!(status_with(&big(MAX_HEADER_BYTES)).await, StatusCode::OK);
        assert_eq!(
            status_with(&big(MAX_HEADER_BYTES + 1)).await,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
    }
}
