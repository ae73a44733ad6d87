//! The TAXII 2.1 HTTP interface (OASIS TAXII 2.1, sections 3-5): an axum
//! [`Router`] built by [`router`], the wire types, content negotiation, filter
//! parsing, keyset cursors, paging headers and the TAXII error message.
//!
//! This crate knows HTTP and TAXII JSON, not SQL: it reads and writes through
//! the `sightline-store` traits: reads on its own reader threads ([`readers`]),
//! writes on tokio's blocking pool.
//! Who the caller is comes from an [`Authenticator`]; what they may do from an
//! [`AccessPolicy`]. Both are supplied by the composition root (`sightline-server`).

//!
//! Endpoints (all paths end in `/`):
//!
//! | path | method | section |
//! |---|---|---|
//! | `/taxii2/` | GET | §4.1 discovery |
//! | `/{root}/` | GET | §4.2 API root |
//! | `/{root}/status/{id}/` | GET | §4.3 status |
//! | `/{root}/collections/` | GET | §5.1 collections |
//! | `/{root}/collections/{id}/` | GET | §5.2 collection |
//! | `/{root}/collections/{id}/manifest/` | GET | §5.3 manifest |
//! | `/{root}/collections/{id}/objects/` | GET, POST | §5.4, §5.5 |
//! | `/{root}/collections/{id}/objects/{object_id}/` | GET, DELETE | §5.6, §5.7 |
//! | `/{root}/collections/{id}/objects/{object_id}/versions/` | GET | §5.8 |
//!
//! Module map: [`error`] (the TAXII error message, one enum), [`media`]
//! (content negotiation), `access` (authentication and the permission-gated
//! collection handles), `filters` (§3.4 parameters), `cursor` (signed `next`
//! tokens), `status` (status resources), `routes` (the handlers), `observe`
//! (request ids and tracing spans).
//!
//! Observability: every request gets an `x-request-id` (kept when the client
//! sends one of at most 64 characters of `[A-Za-z0-9._-]`, else a UUID),
//! echoed in the response, and a `taxii` tracing span with method, route pattern (axum `MatchedPath`), request id, status
//! and latency. The `Authorization` header is never logged. Layers the server
//! adds around [`router`] (e.g. Prometheus metrics) can read the route
//! pattern from the request's `MatchedPath` extension when added with
//! `Router::layer`.

pub mod auth;
pub mod error;
pub mod head;
pub mod media;

mod access;
mod cursor;
mod filters;
mod limits;
mod observe;
mod pagebytes;
mod readers;
mod routes;
mod status;

pub use auth::{AccessPolicy, AuthError, Authenticator, Principal};
pub use error::TaxiiError;
pub use media::TAXII_CONTENT_TYPE;
pub use observe::{sanitize_request_id, valid_request_id, AuditNote, MAX_REQUEST_ID};
pub use pagebytes::PageLimits;
pub use status::STATUS_TTL;

use axum::routing::get;
use axum::Router;
#[cfg(any(test, feature = "testing"))]
use sightline_stix::Validator;
use sightline_store::StoreError;

/// One API root (TAXII 2.1 §4.2).
#[derive(Debug, Clone)]
pub struct ApiRootConfig {
    /// The path segment under the server root, e.g. `api1` → `/api1/`.
    pub path: String,
    pub title: String,
    pub description: Option<String>,
    /// Largest accepted request body, bytes (413 above it, also for chunked bodies).
    pub max_content_length: usize,
    /// Ids of the collections this root serves (the store's collection ids).
    pub collections: Vec<String>,
}

/// Server-wide TAXII settings (TAXII 2.1 §4.1 discovery and limits).
#[derive(Debug, Clone)]
pub struct TaxiiConfig {
    pub title: String,
    pub description: Option<String>,
    pub contact: Option<String>,
    /// Path segment of the default API root, if any.
    pub default_api_root: Option<String>,
    pub api_roots: Vec<ApiRootConfig>,
    /// Page size when the client gives no `limit`, and the largest one honoured.
    pub default_page_size: usize,
    pub max_page_size: usize,
    /// Secret for signing `next` cursors (so a cursor cannot be forged and is
    /// bound to its filters); the same on every replica.
    pub cursor_key: Vec<u8>,
    /// Bounds on a POSTed envelope beyond its byte size.
    pub limits: InputLimits,
    /// Bounds on paged response bodies (slow readers).
    pub pages: PageLimits,
    /// Discovery (§4.1) and API-root information (§4.2) answer anonymous
    /// callers with 401 (and `WWW-Authenticate`) instead of describing the
    /// server.
    pub discovery_requires_auth: bool,
}

/// Bounds on what one POSTed envelope (§5.5) may contain, checked before any
/// object is validated or stored; over a bound, the whole request is refused
/// and nothing is stored. The body's byte size is the API root's
/// `max_content_length` ([`ApiRootConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Objects in one envelope; more is a 413.
    pub max_objects_per_envelope: usize,
    /// Nesting of arrays and objects in the body, the envelope itself being
    /// depth 1; deeper is a 400. At most [`MAX_JSON_DEPTH`].
    pub max_json_depth: usize,
    /// Bytes of the longest string (value or key, once unescaped); longer is a 413.
    pub max_string_bytes: usize,
    /// JSON values (keys included) in one object of the envelope; more is a
    /// 413. Validation holds one object's parsed tree (~50 bytes a value), so
    /// this bounds what a body of tiny values costs beyond its bytes.
    pub max_values_per_object: usize,
}

/// The deepest nesting serde_json parses: its recursion limit (128) keeps
/// the parser's stack bounded and lets 127 levels through, so a deeper body
/// fails to parse whatever `max_json_depth` says.
pub const MAX_JSON_DEPTH: usize = 127;

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_objects_per_envelope: 10_000,
            max_json_depth: 64,
            max_string_bytes: 1 << 20,
            max_values_per_object: 1_000_000,
        }
    }
}

/// The checks a TAXII POST body (§5.5) passes before any object in it is
/// validated: UTF-8, the shape bounds of `limits`, a JSON object holding an
/// `objects` list of at most `max_objects_per_envelope` (a STIX bundle is
/// one). For other ways in that must refuse what a POST would, the web UI's
/// upload among them: the number of objects, or the error the POST gets.
pub fn check_envelope(body: &[u8], limits: &InputLimits) -> Result<usize, TaxiiError> {
    routes::envelope_objects(body, limits).map(|o| o.len())
}

/// Fuzzing entry (not an API): parses `query` (what follows `?`) as the TAXII
/// filters of a request (§3.4) and, when they parse, checks a `next` cursor
/// in them against a fixed key. Errors are the TAXII 400s a client would get;
/// a query that is no valid URI (which hyper would refuse) is a 400 too.
#[doc(hidden)]
#[cfg(any(test, feature = "testing"))]
pub fn fuzz_parse_query(query: &str) -> Result<(), TaxiiError> {
    let uri: axum::http::Uri = format!("/?{query}")
        .parse()
        .map_err(|e| TaxiiError::BadRequest(format!("not a URI: {e}")))?;
    let f = filters::Filters::from_uri(&uri)?;
    let fp = f.fingerprint("objects");
    if let Some(t) = &f.next {
        cursor::verify(b"fuzz key", t, "fuzz collection", &fp)?;
    }
    Ok(())
}

/// Fuzzing entry (not an API): the POST body of §5.5 → the envelope's objects,
/// each validated; returns how many were admitted and how many refused, or the
/// error the whole request would get.
#[doc(hidden)]
#[cfg(any(test, feature = "testing"))]
pub fn fuzz_prepare_envelope(
    validator: &Validator,
    body: &[u8],
    limits: &InputLimits,
) -> Result<(usize, usize), TaxiiError> {
    routes::prepare_counts(validator, body, limits)
}

// `AppState` and `Ctx` live in `access`, the module that issues the
// permission-checked collection handles: only it can reach the raw store.
pub(crate) use access::Ctx;
pub use access::{AppState, RequestUser};

/// Store reads run on a small pool of dedicated threads (one per core,
/// clamped to 2..=8), fed by one queue: see [`readers`].
///
/// Why not `spawn_blocking`: tokio's blocking pool wakes an idle thread (a
/// futex wake and a context switch) for every task, and parks it again after
/// it; a by-id read spent a third of its CPU in that handoff (`perf`). A few
/// threads that drain a shared queue stay awake while requests keep coming.
/// The pool's size also bounds the SQLite read connections in use (the store
/// keeps 8 warm; opening one per call was ~40% of a read under load).
/// Writes stay on tokio's pool: they serialise on the store's writer anyway.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, TaxiiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match readers::run(f).await {
        Some(r) => r.map_err(TaxiiError::from),
        None => Err(TaxiiError::Internal(
            "store read failed (reader thread)".into(),
        )),
    }
}

/// Runs a synchronous store call (a write) on tokio's blocking pool and maps
/// its error to the TAXII error. Not gated (see [`READ_CONCURRENCY`]).
pub(crate) async fn blocking_write<T, F>(f: F) -> Result<T, TaxiiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(TaxiiError::from),
        Err(e) => Err(TaxiiError::Internal(format!("store task failed: {e}"))),
    }
}

/// The TAXII 2.1 interface as an axum router (see the crate docs for the
/// endpoints). Every response, errors included, has the TAXII media type;
/// unknown paths are 404 and wrong methods 405, both as TAXII errors.
///
/// An API root whose path is `taxii2` would be shadowed by discovery; the
/// configuration should reject it.
pub fn router(state: AppState) -> Router {
    let ctx = Ctx::new(state);
    let coll = "/{root}/collections/{collection}";
    let routes = Router::new()
        .route("/taxii2/", get(routes::discovery))
        .route("/{root}/", get(routes::api_root))
        .route("/{root}/status/{status}/", get(routes::status))
        .route("/{root}/collections/", get(routes::collections))
        .route(&format!("{coll}/"), get(routes::collection))
        .route(&format!("{coll}/manifest/"), get(routes::manifest))
        .route(
            &format!("{coll}/objects/"),
            get(routes::get_objects).post(routes::add_objects),
        )
        .route(
            &format!("{coll}/objects/{{object}}/"),
            get(routes::get_object).delete(routes::delete_object),
        )
        .route(
            &format!("{coll}/objects/{{object}}/versions/"),
            get(routes::versions),
        )
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(ctx);
    observe::layers(routes)
}

/// `GET /healthz` → 200 `ok` (plain text; for load balancers, outside TAXII).
pub fn health_router() -> Router {
    Router::new().route("/healthz", get(|| async { "ok" }))
}

#[cfg(test)]
mod fuzz_hook_tests {
    use super::*;

    /// The fuzz seed with a cursor signed for the hook's key and filters
    /// reaches the success path (so the fuzzer starts past the MAC check).
    #[test]
    fn query_seed_with_a_valid_cursor_parses() {
        let seed = include_str!("../../../fuzz/seeds/taxii_query/next");
        assert_eq!(fuzz_parse_query(seed), Ok(()));
        let e = fuzz_parse_query(&seed.replace("indicator", "malware")).expect_err("rebound");
        assert!(e.to_string().contains("other filters"), "{e}");
        assert!(fuzz_parse_query("limit=0").is_err());
        assert!(fuzz_parse_query("a b").is_err(), "not a URI");
    }

    #[test]
    fn envelope_hook_counts() {
        let v = Validator::new();
        let l = InputLimits::default();
        let body = br#"{"objects":[{"type":"x"},1]}"#;
        assert_eq!(fuzz_prepare_envelope(&v, body, &l), Ok((0, 2)));
    }
}
