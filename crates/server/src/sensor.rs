//! Sensor feeds (issue 15 §2): `GET /feeds/{collection}/{format}` serves the
//! collection's active indicators as a sensor reads them (`zeek-intel`,
//! `suricata`, `csv`), the same output as `sightline export --format`, so a
//! cron job or a sensor's own reload can poll it.
//!
//! - Same accounts and collection rights as TAXII: HTTP Basic or Bearer; a
//!   collection the caller may not read is a 404 like one that does not exist.
//! - Active: valid at the request's time, not revoked, at or above
//!   `?min_confidence=N`, not on an enabled warninglist (built in and
//!   imported), and active by the indicator lifecycle (score, verdicts;
//!   issue 16), judged with the server's `[lifecycle]` settings.
//! - Polling is cheap for the client: the body's SHA-256 is its `ETag`, and
//!   `If-None-Match` with it answers 304 with no body. What a format cannot
//!   express is listed in the body's header comments (`sightline export`'s
//!   report), never dropped silently.
//! - `suricata-datasets` and `sigma` are several files: they are written by
//!   `sightline export -o DIR`, not served here (a 400 says so).

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use sha2::Digest as _;
use sightline_export::{ActiveFilter, Format, Inactive};
use sightline_store::Store;
use sightline_taxii::{AccessPolicy, AuthError, Authenticator, Principal};

/// What the route needs.
#[derive(Clone)]
pub(crate) struct SensorState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) auth: Arc<dyn Authenticator>,
    pub(crate) policy: Arc<dyn AccessPolicy>,
    pub(crate) lifecycle: Arc<sightline_lifecycle::Evaluator>,
    /// The imported warninglists' directory.
    pub(crate) lists: PathBuf,
    /// `https` or `http`, for the links (`meta.url`) in the output.
    pub(crate) scheme: &'static str,
}

pub(crate) fn router(state: SensorState) -> Router {
    Router::new()
        .route("/feeds/{collection}/{format}", get(feed))
        .with_state(state)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    min_confidence: Option<String>,
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// Why a request gets no feed (small: an error response is built at the end).
enum Refused {
    /// 401 with a Basic challenge.
    Challenge,
    Status(StatusCode, String),
}

impl Refused {
    fn response(self) -> Response {
        match self {
            Refused::Challenge => {
                let mut r = plain(StatusCode::UNAUTHORIZED, "credentials required");
                r.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"sightline\""),
                );
                r
            }
            Refused::Status(s, m) => plain(s, &m),
        }
    }
}

/// The body for one request, or why not.
fn build(
    s: &SensorState,
    who: &Principal,
    collection: &str,
    format: Format,
    min_confidence: Option<u8>,
    base: Option<&str>,
) -> Result<Vec<u8>, Refused> {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "sensor feed");
        Refused::Status(StatusCode::INTERNAL_SERVER_ERROR, "the store failed".into())
    };
    let not_found = || {
        Refused::Status(
            StatusCode::NOT_FOUND,
            format!("no collection {collection:?}"),
        )
    };
    let info = s
        .store
        .collection(collection)
        .map_err(|e| internal(&e))?
        .ok_or_else(not_found)?;
    let readable = sightline_api::readable_collections(&*s.store, &*s.policy, Some(who))
        .map_err(|e| internal(&e))?;
    if readable.as_ref().is_some_and(|r| !r.contains(&info.id)) {
        return Err(not_found());
    }
    let loaded =
        sightline_export::from_store(&*s.store, Some(&info.id)).map_err(|e| internal(&e))?;
    let now = sightline_store::now_micros();
    let stix = sightline_export::Lifecycle {
        now,
        min_confidence,
    };
    let scored =
        sightline_lifecycle::bulk::not_active(&*s.store, &s.lifecycle, Some(&info.id), now)
            .map_err(|e| internal(&e))?;
    let filter = move |ind: &sightline_export::Indicator| -> Option<Inactive> {
        stix.inactive(ind).or_else(|| {
            scored
                .get(&ind.id)
                .map(|sc| Inactive::Other(format!("lifecycle: {}", sc.state.as_str())))
        })
    };
    let lists =
        sightline_detect::lists::load(&s.lists, &Default::default()).map_err(|e| internal(&e))?;
    let opts = sightline_export::Options {
        base_url: base,
        warninglists: Some(&lists),
        ..Default::default()
    };
    let out = sightline_export::export(format, &loaded.indicators, &filter, &opts)
        .map_err(|e| internal(&e))?;
    Ok(out
        .files
        .into_iter()
        .next()
        .map(|(_, body)| body)
        .unwrap_or_default())
}

async fn feed(
    State(s): State<SensorState>,
    Path((collection, format)): Path<(String, String)>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let Some(format) = Format::parse(&format) else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("no sensor format {format:?} (there are: zeek-intel, suricata, csv)"),
        );
    };
    if format.is_directory() {
        return plain(
            StatusCode::BAD_REQUEST,
            &format!(
                "{}: several files; write them with `sightline export --format {} -o DIR`",
                format.name(),
                format.name()
            ),
        );
    }
    let min_confidence = match p.min_confidence.as_deref().map(str::parse::<u8>) {
        None => None,
        Some(Ok(n)) if n <= 100 => Some(n),
        Some(_) => {
            return plain(
                StatusCode::BAD_REQUEST,
                "min_confidence: expected a whole number from 0 to 100",
            )
        }
    };
    let header = match headers.get(AUTHORIZATION).map(HeaderValue::to_str) {
        None => None,
        Some(Ok(h)) => Some(h.to_owned()),
        Some(Err(_)) => return plain(StatusCode::UNAUTHORIZED, "malformed Authorization header"),
    };
    let base = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map(|h| format!("{}://{h}", s.scheme));
    let etag_wanted = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let st = s.clone();
    let result = tokio::task::spawn_blocking(move || {
        let who = match st.auth.authenticate(header.as_deref()) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(Refused::Challenge),
            Err(AuthError::Unavailable(m)) => {
                return Err(Refused::Status(StatusCode::SERVICE_UNAVAILABLE, m))
            }
            Err(_) => return Err(Refused::Challenge),
        };
        build(
            &st,
            &who,
            &collection,
            format,
            min_confidence,
            base.as_deref(),
        )
    })
    .await;
    let body = match result {
        Ok(Ok(b)) => b,
        Ok(Err(r)) => return r.response(),
        Err(e) => {
            tracing::error!(error = %e, "sensor feed task");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "the request failed");
        }
    };
    let etag = format!("\"{}\"", hex::encode(&sha2::Sha256::digest(&body)[..16]));
    let matches = etag_wanted.is_some_and(|w| {
        w.split(',').any(|t| {
            t.trim() == etag || t.trim() == "*" || t.trim().trim_start_matches("W/") == etag
        })
    });
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, [(CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, v);
    }
    // Per caller (rights differ): never shared; always revalidated.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    r
}
