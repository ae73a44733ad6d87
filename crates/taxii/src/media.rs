//! Content negotiation (TAXII 2.1 §1.6.8, §3.1).
//!
//! - Every response of the TAXII router carries
//!   `Content-Type: application/taxii+json;version=2.1`, errors included
//!   ([`negotiate`] sets it on the way out).
//! - `Accept` must admit `application/taxii+json`, with `version=2.1` or no
//!   version (= latest, which must not give 406), with any other parameters
//!   (`q`, `charset`), possibly in a list of ranges. A missing `Accept`, `*/*`
//!   and `application/*` are accepted as well: RFC 9110 §12.5.1 reads them as
//!   "anything", and rejecting them would only break curl and browsers, while
//!   every answer is TAXII JSON anyway. Anything else (e.g. only
//!   `application/json`, or `version=2.0`) is 406.
//! - A POST body must be `application/taxii+json` (optionally `version=2.1`,
//!   `charset=utf-8`); anything else is 415.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::TaxiiError;

/// The media type of every response.
pub const TAXII_CONTENT_TYPE: &str = "application/taxii+json;version=2.1";

const TAXII_TYPE: &str = "application/taxii+json";

/// A JSON response with the TAXII media type.
pub(crate) fn taxii_json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => taxii_bytes(status, bytes),
        Err(e) => {
            tracing::error!(error = %e, "serialising a response failed");
            taxii_bytes(
                StatusCode::INTERNAL_SERVER_ERROR,
                br#"{"title":"Internal server error","http_status":"500"}"#.to_vec(),
            )
        }
    }
}

/// A pre-serialised JSON body with the TAXII media type.
pub(crate) fn taxii_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_CONTENT_TYPE),
    );
    resp
}

/// One media range or media type: lower-cased `type/subtype` and parameters
/// (names lower-cased, values unquoted).
fn parse_media(s: &str) -> (String, Vec<(String, String)>) {
    let mut parts = s.split(';');
    let ty = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect();
    (ty, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether the `Accept` headers admit a TAXII 2.1 response.
pub(crate) fn accepts_taxii(headers: &HeaderMap) -> bool {
    let mut any = false;
    for value in headers.get_all(header::ACCEPT) {
        any = true;
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let (ty, params) = parse_media(range);
            if ty.is_empty() {
                continue;
            }
            let q_zero = param(&params, "q")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0);
            if q_zero {
                continue;
            }
            let ok = match ty.as_str() {
                TAXII_TYPE => param(&params, "version").is_none_or(|v| v == "2.1"),
                "*/*" | "application/*" => true,
                _ => false,
            };
            if ok {
                return true;
            }
        }
    }
    !any
}

/// Checks the `Content-Type` of a request body (415 unless TAXII 2.1).
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let unsupported = || {
        TaxiiError::UnsupportedMediaType(format!(
            "the request body must be {TAXII_TYPE} (optionally ;version=2.1)"
        ))
    };
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unsupported)?;
    let (ty, params) = parse_media(value);
    let version_ok = param(&params, "version").is_none_or(|v| v == "2.1");
    let charset_ok = param(&params, "charset").is_none_or(|c| c.eq_ignore_ascii_case("utf-8"));
    if ty == TAXII_TYPE && version_ok && charset_ok {
        Ok(())
    } else {
        Err(unsupported())
    }
}

/// Middleware for the whole TAXII router: 406 unless `Accept` admits TAXII
/// 2.1, and the TAXII media type on every response; an error response that
/// is not already a TAXII error message (from an extractor or a layer)
/// becomes one with the same status (invariant 10).
pub(crate) async fn negotiate(req: Request, next: Next) -> Response {
    let mut resp = if accepts_taxii(req.headers()) {
        next.run(req).await
    } else {
        TaxiiError::NotAcceptable(format!(
            "this server only produces {TAXII_CONTENT_TYPE}; send it (or {TAXII_TYPE}) in Accept"
        ))
        .into_response()
    };
    let is_taxii = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == TAXII_CONTENT_TYPE.as_bytes());
    let status = resp.status();
    if !is_taxii && (status.is_client_error() || status.is_server_error()) {
        // An error from outside the handlers (an extractor's rejection, a
        // layer): its body is not a TAXII error message, so it gets one.
        let mut taxii = crate::error::error_response(
            status,
            status.canonical_reason().unwrap_or("Error"),
            "the request could not be processed",
        );
        for (name, value) in resp.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                taxii.headers_mut().append(name, value.clone());
            }
        }
        return taxii;
    }
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_CONTENT_TYPE),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: header::HeaderName, v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(name, HeaderValue::from_str(v).expect("header"));
        m
    }

    #[test]
    fn accept_ranges() {
        let ok = [
            "application/taxii+json",
            "application/taxii+json;version=2.1",
            "application/taxii+json; version=2.1; q=0.9",
            "application/json, application/taxii+json;charset=utf-8",
            "APPLICATION/TAXII+JSON; Version=\"2.1\"",
            "*/*",
            "text/html, application/*;q=0.8",
        ];
        for a in ok {
            assert!(accepts_taxii(&h(header::ACCEPT, a)), "{a}");
        }
        let bad = [
            "application/json",
            "application/taxii+json;version=2.0",
            "application/taxii+json;q=0",
            "application/stix+json;version=2.1",
            "text/html",
            "",
        ];
        for a in bad {
            assert!(!accepts_taxii(&h(header::ACCEPT, a)), "{a}");
        }
        assert!(accepts_taxii(&HeaderMap::new()));
    }

    #[test]
    fn content_types() {
        for ct in [
            "application/taxii+json",
            "application/taxii+json;version=2.1",
            "application/taxii+json; version=2.1; charset=UTF-8",
        ] {
            assert!(
                check_content_type(&h(header::CONTENT_TYPE, ct)).is_ok(),
                "{ct}"
            );
        }
        for ct in [
            "application/json",
            "application/taxii+json;version=2.0",
            "application/stix+json;version=2.1",
            "text/plain",
        ] {
            assert!(
                check_content_type(&h(header::CONTENT_TYPE, ct)).is_err(),
                "{ct}"
            );
        }
        assert!(check_content_type(&HeaderMap::new()).is_err());
    }
}
