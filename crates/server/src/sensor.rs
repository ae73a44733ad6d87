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
//! - Polling is cheap for the server too: an export (about a second of CPU
//!   at 100,000 indicators) is kept in a [`FeedCache`] and served again,
//!   200 or 304, while it is current. The rights check runs on every
//!   request before the cache is consulted, and the body does not depend on
//!   who asks (only on the collection, format, `min_confidence` and the
//!   `Host` the links are built from, which make the key), so a kept export
//!   never reaches a caller who may not read its collection.
//! - `suricata-datasets` and `sigma` are several files: they are written by
//!   `sightline export -o DIR`, not served here (a 400 says so).

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
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
use sightline_export::Format;
use sightline_store::{ObjectQuery, Store, VersionFilter};
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
    /// Computed exports kept for pollers (`[sensor]`).
    pub(crate) cache: Arc<FeedCache>,
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

/// A lock whose holder panicked is still usable: every critical section
/// here leaves the data whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ------------------------------------------------------------------ cache

/// What a kept export is for. Not the caller: the rights check runs on every
/// request before the cache is looked at, and the body is the same for every
/// reader of the collection who may read the same collections (what the
/// indicators `indicates` is named from those only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    /// The collection's id (an alias and its id share an entry).
    collection: String,
    format: Format,
    min_confidence: Option<u8>,
    /// The links' base (`scheme://Host`).
    base: Option<String>,
    /// The collections the poller may read (`None`: every one).
    visible: Option<Vec<String>>,
}

/// A warninglist directory's listing: (file, length, modified).
type Listing = sightline_detect::lists::Signature;

/// The store and the warninglists as an export saw them: the highest
/// `date_added` of each class of rows whose additions change an export (the
/// collection's indicators; the store's verdict opinions, and relationships,
/// as what an indicator `indicates` is written out), read before the export
/// read anything, and the warninglist directory's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marks {
    indicators: Option<i64>,
    opinions: Option<i64>,
    relationships: Option<i64>,
    lists: Listing,
}

/// One computed export.
struct Entry {
    body: Bytes,
    etag: String,
    /// When its marks were read: everything committed before is in it.
    started: Instant,
    marks: Marks,
}

/// A key's place: the kept export, and the lock its computer holds, so that
/// concurrent polls of one key wait for one computation (single flight).
#[derive(Default)]
struct Slot {
    entry: Mutex<Option<Arc<Entry>>>,
    /// Held by the computation itself (moved into its blocking task), so a
    /// request that goes away does not cut short or waste a computation.
    flight: Arc<tokio::sync::Mutex<()>>,
    /// The cache's clock at the last use: the least recently used goes first.
    used: AtomicU64,
}

impl Slot {
    fn current(&self) -> Option<Arc<Entry>> {
        lock(&self.entry).clone()
    }
}

/// Computed sensor feeds kept for pollers (`[sensor]`): at most
/// `cache_entries` exports (16) and `cache_bytes` of bodies (256 MiB; a
/// Zeek Intel body is about 200 bytes an item: 4.1 MB for 18,000 items), each served for
/// at most `cache_secs` (60 s) after its computation began, and only while
/// the store and warninglists show no change that would alter it. One
/// computation at a time over all keys, formatting on half the cores
/// (`threads`): a poller who varies `min_confidence` or `Host` to miss the
/// cache queues for CPU instead of taking more of it.
pub(crate) struct FeedCache {
    max_age: Duration,
    max_entries: usize,
    max_bytes: usize,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
    clock: AtomicU64,
    computing: Arc<tokio::sync::Semaphore>,
    /// Formatting threads of a computation: half the cores, at least one.
    threads: usize,
    /// The newest `date_added` seen per class of rows (collection, type):
    /// where the next search for the newest row starts.
    highs: Mutex<HashMap<(Option<String>, &'static str), i64>>,
}

impl FeedCache {
    pub(crate) fn new(c: &crate::SensorSection) -> FeedCache {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        FeedCache {
            max_age: Duration::from_secs(c.cache_secs),
            max_entries: c.cache_entries,
            max_bytes: c.cache_bytes,
            slots: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            computing: Arc::new(tokio::sync::Semaphore::new(1)),
            threads: (cores / 2).max(1),
            highs: Mutex::new(HashMap::new()),
        }
    }

    /// `key`'s slot, made when missing, marked as used now.
    fn slot(&self, key: &Key) -> Arc<Slot> {
        let mut slots = lock(&self.slots);
        let slot = slots.entry(key.clone()).or_default().clone();
        slot.used.store(
            self.clock.fetch_add(1, Ordering::Relaxed) + 1,
            Ordering::Relaxed,
        );
        slot
    }

    /// Whether `e` may still be served (given that nothing changed).
    fn young(&self, e: &Entry) -> bool {
        e.started.elapsed() < self.max_age
    }

    /// Keeps `e` as `key`'s export (when caching is on and it fits), then
    /// drops the least recently used exports beyond the bounds and the slots
    /// that hold nothing and compute nothing.
    fn keep(&self, key: &Key, slot: &Arc<Slot>, e: Arc<Entry>) {
        let mut slots = lock(&self.slots);
        if !self.max_age.is_zero() && self.max_entries > 0 && e.body.len() <= self.max_bytes {
            *lock(&slot.entry) = Some(e);
            slots.insert(key.clone(), slot.clone());
        }
        loop {
            let (n, bytes) = slots
                .values()
                .filter_map(|s| s.current())
                .fold((0usize, 0usize), |(n, b), e| (n + 1, b + e.body.len()));
            if n <= self.max_entries && bytes <= self.max_bytes {
                break;
            }
            let victim = slots
                .iter()
                .filter(|(k, s)| *k != key && s.current().is_some())
                .min_by_key(|(_, s)| s.used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            let Some(k) = victim else { break };
            if let Some(s) = slots.remove(&k) {
                *lock(&s.entry) = None;
            }
        }
        // Kept: exports, and slots being computed (this one among them).
        slots.retain(|_, s| s.current().is_some() || s.flight.try_lock().is_err());
    }

    /// The store's and the lists' marks now (before an export reads).
    fn marks(&self, store: &dyn Store, collection: &str, lists: &FsPath) -> Result<Marks, String> {
        let high = |c: Option<&str>, ty: &'static str| -> Result<Option<i64>, String> {
            let k = (c.map(str::to_owned), ty);
            let hint = lock(&self.highs).get(&k).copied();
            let h = newest(store, &class(c, ty), hint).map_err(|e| e.to_string())?;
            if let Some(h) = h {
                lock(&self.highs).insert(k, h);
            }
            Ok(h)
        };
        Ok(Marks {
            indicators: high(Some(collection), "indicator")?,
            opinions: high(None, "opinion")?,
            relationships: high(None, "relationship")?,
            lists: sightline_detect::lists::signature(lists),
        })
    }
}

/// Every version of type `ty` (in `collection`, else the store): a class of
/// rows whose newest `date_added` is a mark.
fn class(collection: Option<&str>, ty: &str) -> ObjectQuery {
    ObjectQuery {
        collection: collection.map(str::to_owned),
        types: vec![ty.to_owned()],
        versions: VersionFilter::all(),
        ..ObjectQuery::default()
    }
}

/// The `date_added` of the first row of `class` added after `after`: one
/// index probe on every backend (a type's rows are indexed by `date_added`).
fn first_after(
    store: &dyn Store,
    class: &ObjectQuery,
    after: Option<i64>,
) -> Result<Option<i64>, sightline_store::StoreError> {
    let q = ObjectQuery {
        added_after: after,
        limit: 1,
        ..class.clone()
    };
    let mut first = None;
    store.query_each(&q, &mut |r| {
        first.get_or_insert(r.date_added);
    })?;
    Ok(first)
}

/// The newest `date_added` of `class` (None: no rows, and no `hint`),
/// found with probes alone since stores page oldest first: from the first
/// row after `hint` (an earlier answer), by doubling steps until one finds
/// nothing, then by halving the gap: about 2 x log2(gap in µs) probes, one
/// when nothing was added since `hint`. Commits are in `date_added` order
/// (SQLite has one writer; PostgreSQL takes `date_added` under its write
/// lock), so anything committed after this is newer than what it returns.
fn newest(
    store: &dyn Store,
    class: &ObjectQuery,
    hint: Option<i64>,
) -> Result<Option<i64>, sightline_store::StoreError> {
    let Some(mut lo) = first_after(store, class, hint)? else {
        return Ok(hint);
    };
    // A row at `lo` exists; none is after `hi`.
    let mut step: i64 = 1_000;
    let mut hi = loop {
        let x = lo.saturating_add(step);
        match first_after(store, class, Some(x))? {
            Some(d) => {
                lo = d;
                step = step.saturating_mul(2);
            }
            None => break x,
        }
    };
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match first_after(store, class, Some(mid))? {
            Some(d) => lo = d,
            None => hi = mid,
        }
    }
    Ok(Some(lo))
}

/// Whether nothing that alters `e` was added since its marks were read.
fn unchanged(s: &SensorState, collection: &str, e: &Entry) -> Result<bool, String> {
    let m = &e.marks;
    let store = &*s.store;
    let none = |c: Option<&str>, ty: &str, mark: Option<i64>| {
        first_after(store, &class(c, ty), mark)
            .map(|d| d.is_none())
            .map_err(|e| e.to_string())
    };
    Ok(none(Some(collection), "indicator", m.indicators)?
        && none(None, "opinion", m.opinions)?
        && none(None, "relationship", m.relationships)?
        && sightline_detect::lists::signature(&s.lists) == m.lists)
}

// ------------------------------------------------------------------ requests

fn internal(e: &dyn std::fmt::Display) -> Refused {
    tracing::error!(error = %e, "sensor feed");
    Refused::Status(StatusCode::INTERNAL_SERVER_ERROR, "the store failed".into())
}

/// The id of the collection `who` asked for, when they may read it, and the
/// collections they may read (`None`: every one).
type Granted = (String, Option<Vec<String>>);

fn grant(s: &SensorState, who: &Principal, collection: &str) -> Result<Granted, Refused> {
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
    Ok((info.id, readable.map(|r| r.into_iter().collect())))
}

/// The export for `key` now: the store's marks first, then the export.
fn compute(s: &SensorState, key: &Key) -> Result<Entry, Refused> {
    let started = Instant::now();
    let marks = s
        .cache
        .marks(&*s.store, &key.collection, &s.lists)
        .map_err(|e| internal(&e))?;
    let mut loaded = sightline_export::from_store_visible(
        &*s.store,
        Some(&key.collection),
        key.visible.as_deref(),
    )
    .map_err(|e| internal(&e))?;
    let now = sightline_store::now_micros();
    // The lifecycle's score now (sightings, verdicts, decay; the server's
    // `[lifecycle]`), as `sightline export` does: what is not active is
    // left out, and the score is written where a format carries it.
    sightline_export::lifecycle::score(&*s.store, &s.lifecycle, &mut loaded.indicators, now)
        .map_err(|e| internal(&e))?;
    let filter = sightline_export::Scoring {
        stix: sightline_export::Lifecycle {
            now,
            min_confidence: key.min_confidence,
        },
        apply: true,
    };
    let lists =
        sightline_detect::lists::load(&s.lists, &Default::default()).map_err(|e| internal(&e))?;
    let opts = sightline_export::Options {
        base_url: key.base.as_deref(),
        warninglists: Some(&lists),
        threads: s.cache.threads,
        ..Default::default()
    };
    let out = sightline_export::export(key.format, &loaded.indicators, &filter, &opts)
        .map_err(|e| internal(&e))?;
    let body = out
        .files
        .into_iter()
        .next()
        .map(|(_, body)| body)
        .unwrap_or_default();
    metrics::counter!("sightline_feed_exports_total").increment(1);
    Ok(Entry {
        etag: format!("\"{}\"", hex::encode(&sha2::Sha256::digest(&body)[..16])),
        body: Bytes::from(body),
        started,
        marks,
    })
}

/// What the rights check and the cache's first look found.
enum Looked {
    /// A kept export that is current.
    Kept(Arc<Entry>),
    /// None current: compute under the slot's flight lock.
    Stale(Key, Arc<Slot>),
}

/// Runs blocking work (store reads, CPU) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Refused> + Send + 'static,
) -> Result<T, Refused> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "sensor feed task");
            Err(Refused::Status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request failed".into(),
            ))
        }
    }
}

/// The export for `key`, and whether it was kept (not computed for this
/// request). Concurrent requests for one key compute it once.
async fn served(
    s: &SensorState,
    key: Key,
    slot: Arc<Slot>,
    arrived: Instant,
) -> Result<(Arc<Entry>, bool), Refused> {
    let flight = slot.flight.clone().lock_owned().await;
    if let Some(e) = slot.current() {
        // Begun after this request arrived: it holds all this request may
        // expect (a poll that waited for another's computation).
        if e.started >= arrived {
            return Ok((e, true));
        }
        if s.cache.young(&e) {
            let (st, c, e2) = (s.clone(), key.collection.clone(), e.clone());
            if blocking(move || unchanged(&st, &c, &e2).map_err(|m| internal(&m))).await? {
                return Ok((e, true));
            }
        }
    }
    let permit = s
        .cache
        .computing
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| internal(&e))?;
    // Computed and kept by the blocking task, which holds the slot's lock
    // and the permit until the export is kept: were this request dropped
    // (a client gone, a timeout), waiters still get the one computation.
    let st = s.clone();
    let e = blocking(move || {
        let _held = (flight, permit);
        let e = Arc::new(compute(&st, &key)?);
        st.cache.keep(&key, &slot, e.clone());
        Ok(e)
    })
    .await?;
    Ok((e, false))
}

async fn feed(
    State(s): State<SensorState>,
    Path((collection, format)): Path<(String, String)>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let arrived = Instant::now();
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
    // Who asks and whether they may read the collection, on every request;
    // then a kept export, when current (a 304 costs this one blocking task).
    let st = s.clone();
    let looked = blocking(move || {
        let who = match st.auth.authenticate(header.as_deref()) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(Refused::Challenge),
            Err(AuthError::Unavailable(m)) => {
                return Err(Refused::Status(StatusCode::SERVICE_UNAVAILABLE, m))
            }
            Err(_) => return Err(Refused::Challenge),
        };
        let (collection, visible) = grant(&st, &who, &collection)?;
        let key = Key {
            collection,
            format,
            min_confidence,
            base,
            visible,
        };
        let slot = st.cache.slot(&key);
        if let Some(e) = slot.current() {
            if st.cache.young(&e)
                && unchanged(&st, &key.collection, &e).map_err(|m| internal(&m))?
            {
                return Ok(Looked::Kept(e));
            }
        }
        Ok(Looked::Stale(key, slot))
    })
    .await;
    let (entry, kept) = match looked {
        Ok(Looked::Kept(e)) => (e, true),
        Ok(Looked::Stale(key, slot)) => match served(&s, key, slot, arrived).await {
            Ok(x) => x,
            Err(r) => return r.response(),
        },
        Err(r) => return r.response(),
    };
    if kept {
        metrics::counter!("sightline_feed_cache_hits_total").increment(1);
    }
    let etag = entry.etag.as_str();
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
        (
            StatusCode::OK,
            [(CONTENT_TYPE, content_type)],
            entry.body.clone(),
        )
            .into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(ETAG, v);
    }
    // Per caller (rights differ): never shared; always revalidated.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    // Whether this answer was computed for it (tests and operators read it).
    h.insert(
        CACHE_STATUS,
        HeaderValue::from_static(if kept { "hit" } else { "miss" }),
    );
    r
}

/// The response header saying whether the export was kept (`hit`) or
/// computed for the request (`miss`).
const CACHE_STATUS: &str = "sightline-feed-cache";

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_store::ObjectWriter as _;

    fn key(n: u8) -> Key {
        Key {
            collection: format!("c{n}"),
            format: Format::ZeekIntel,
            min_confidence: None,
            base: None,
            visible: None,
        }
    }

    fn entry(bytes: usize) -> Arc<Entry> {
        Arc::new(Entry {
            body: Bytes::from(vec![b'x'; bytes]),
            etag: String::new(),
            started: Instant::now(),
            marks: Marks {
                indicators: None,
                opinions: None,
                relationships: None,
                lists: Vec::new(),
            },
        })
    }

    fn kept(c: &FeedCache) -> Vec<String> {
        let mut v: Vec<String> = lock(&c.slots)
            .iter()
            .filter(|(_, s)| s.current().is_some())
            .map(|(k, _)| k.collection.clone())
            .collect();
        v.sort();
        v
    }

    /// The cache holds at most `cache_entries` exports and `cache_bytes`,
    /// dropping the least recently used; an export larger than all of it is
    /// served but not kept; with `cache_secs = 0` nothing is kept.
    #[test]
    fn the_cache_is_bounded_by_entries_and_bytes() {
        let c = FeedCache::new(&crate::SensorSection {
            cache_secs: 60,
            cache_entries: 2,
            cache_bytes: 100,
        });
        let put = |n: u8, bytes: usize| {
            let k = key(n);
            let slot = c.slot(&k);
            c.keep(&k, &slot, entry(bytes));
        };
        put(1, 10);
        put(2, 10);
        // c1 used again: c2 is now the least recently used.
        let _ = c.slot(&key(1));
        put(3, 10);
        assert_eq!(kept(&c), ["c1", "c3"]);
        // Bytes: 60 + 10 + 10 > 100, so the older ones go.
        put(4, 60);
        assert_eq!(kept(&c), ["c3", "c4"]);
        put(5, 95);
        assert_eq!(kept(&c), ["c5"]);
        put(6, 101);
        assert_eq!(kept(&c), ["c5"]);
        // Slots that hold nothing are not kept either.
        assert_eq!(lock(&c.slots).len(), 1);
        let off = FeedCache::new(&crate::SensorSection {
            cache_secs: 0,
            ..crate::SensorSection::default()
        });
        let k = key(1);
        let slot = off.slot(&k);
        off.keep(&k, &slot, entry(1));
        assert!(kept(&off).is_empty());
        assert!(lock(&off.slots).is_empty());
    }

    /// `newest` finds the last `date_added` of a class with probes alone,
    /// across gaps from 1 µs to decades, from no hint, an old hint or the
    /// answer itself; `first_after` of the answer sees only later rows.
    #[test]
    fn newest_finds_the_last_date_added_by_probing() {
        let dir = tempfile::tempdir().expect("dir");
        let store = sightline_store_sqlite::SqliteStore::open(dir.path()).expect("sqlite");
        let indicators = class(None, "indicator");
        assert_eq!(newest(&store, &indicators, None).expect("empty"), None);
        assert_eq!(newest(&store, &indicators, Some(7)).expect("hint"), Some(7));
        let dates = [
            5i64,
            6,
            1_000,
            1_000_000_000,
            1_000_000_000_007,
            1_765_000_000_000_001,
        ];
        let mut txn = store.begin().expect("begin");
        for (n, d) in dates.iter().enumerate() {
            let v = serde_json::json!({"type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--0c1f6a1e-5d2b-4c3e-8f4a-{n:012x}"),
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "pattern": "[domain-name:value = 'a.example']", "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z"});
            let meta = sightline_stix::ObjectMeta::extract(&v).expect("meta");
            let obj = sightline_store::NewObject {
                meta,
                raw: v.to_string(),
            };
            txn.restore_version(&obj, *d).expect("put");
        }
        txn.commit().expect("commit");
        let last = dates[dates.len() - 1];
        for hint in [None, Some(4), Some(5), Some(1_000), Some(last)] {
            assert_eq!(
                newest(&store, &indicators, hint).expect("newest"),
                Some(last),
                "hint {hint:?}"
            );
        }
        assert_eq!(
            first_after(&store, &indicators, Some(last)).expect("probe"),
            None
        );
        assert_eq!(
            first_after(&store, &indicators, Some(last - 1)).expect("probe"),
            Some(last)
        );
        // Another type is another class.
        assert_eq!(
            newest(&store, &class(None, "opinion"), None).expect("none"),
            None
        );
    }
}
