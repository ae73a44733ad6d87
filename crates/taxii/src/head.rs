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

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::TaxiiError;

/// Most header fields in a request (hyper's own limit is 100).
pub const MAX_HEADERS: usize = 64;
/// Largest sum of header names and values, bytes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub(crate) async fn bounds(req: Request, next: Next) -> Response {
    let count = req.headers().len();
    if count > MAX_HEADERS {
        return TaxiiError::HeadersTooLarge(format!(
            "the request has {count} header fields; the limit is {MAX_HEADERS}"
        ))
        .into_response();
    }
    let bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if bytes > MAX_HEADER_BYTES {
        return TaxiiError::HeadersTooLarge(format!(
            "the request's header fields hold {bytes} bytes; the limit is {MAX_HEADER_BYTES}"
        ))
        .into_response();
    }
    next.run(req).await
}
