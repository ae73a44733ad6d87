//! Who is calling and what they may do with a collection (TAXII 2.1 §1.6.9,
//! §5, §8.2.2).
//!
//! Handlers never touch the store for collection data directly: they take a
//! [`CollectionReader`], [`CollectionWriter`], [`CollectionDeleter`] or
//! [`CollectionViewer`] as an extractor argument, and the only way to build
//! one is [`grant`], which authenticates the caller and asks the
//! [`AccessPolicy`](crate::AccessPolicy). A handler without the right handle
//! has no method to read or write the collection, so a forgotten check does
//! not compile (style.md invariant 8).
//!
//! Decisions (documented, as the spec leaves them open):
//! - Discovery and API-root information are open to anonymous callers unless
//!   [`TaxiiConfig::discovery_requires_auth`](crate::TaxiiConfig) is set
//!   (then 401 with `WWW-Authenticate`: a private server does not describe
//!   itself to strangers). The collections list shows only what the caller
//!   may read or write; an anonymous caller who would see no collection at
//!   all gets a 401, so a client without credentials learns that it needs some.
//! - `can_read` and `can_write` are independent (a submission inbox: partners
//!   write, analysts read). The collection resource (§5.2) reports exactly the
//!   caller's two rights; a write-only caller may POST and read its own status
//!   resources, nothing else of the collection.
//! - An anonymous caller lacking a right gets 401 with `WWW-Authenticate`
//!   (whether or not the collection exists, so nothing is revealed);
//!   credentials given but wrong or malformed are always a 401.
//! - An authenticated caller who can neither read nor write a collection gets
//!   404, exactly as for a collection that does not exist (never revealed).
//!   With one of the two rights, a missing one is a 403.
//! - DELETE needs the separate delete right ([`AccessPolicy::can_delete`](crate::AccessPolicy::can_delete),
//!   by default admins only) on top of both TAXII rights, so §5.7's matrix
//!   holds exactly: (F,F) 404, (T,F) and (F,T) 403; (T,T) without the delete
//!   right is 403 too, so a plain writer cannot remove what others posted.
//! - A write-only caller's POST status does not tell it what the collection
//!   already held: a duplicate is reported like a new object (no "already in
//!   the collection" message, and a version-less object is named by the
//!   request's time, not by the earlier copy's `date_added`).
//! - Collection information needs read *or* write: a write-only client must
//!   be able to learn `can_write` (the list shows it too).
//! - The [`Authenticator`](crate::Authenticator) may hash a password, so it
//!   runs on the blocking pool when credentials are given, unless its
//!   non-blocking cache answers (`authenticate_cached`); the
//!   [`AccessPolicy`](crate::AccessPolicy) is expected to be an in-memory
//!   lookup and runs inline.
//! - Collection records are cached for [`COLLECTION_TTL`]: they are read on
//!   every request and change only by an operator's hand, and a store call
//!   here is a hop to the blocking pool and back (a third of the cost of a
//!   by-id read in `perf`). A collection removed meanwhile answers 404 from
//!   the store itself, so the cache can only delay a new one's appearance.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sightline_store::{
    CollectionInfo, NewObject, ObjectQuery, ObjectRow, PageSummary, PutOutcome, Store, StoreError,
    StoredObject, StoredStatus,
};

use crate::error::TaxiiError;
use crate::pagebytes::{PageBytes, Reservation};
use crate::{
    blocking, blocking_write, AccessPolicy, ApiRootConfig, AuthError, Authenticator, Principal,
    TaxiiConfig,
};
use sightline_stix::Validator;
use sightline_store::StatusStore;

/// Everything handlers need. Cheap to clone. The store is private to this
/// module: handlers reach collection data only through the handles that
/// [`grant`] issues after the permission check (invariant 9).
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    pub validator: Arc<Validator>,
    pub auth: Arc<dyn Authenticator>,
    pub policy: Arc<dyn AccessPolicy>,
    pub config: Arc<TaxiiConfig>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        validator: Arc<Validator>,
        auth: Arc<dyn Authenticator>,
        policy: Arc<dyn AccessPolicy>,
        config: Arc<TaxiiConfig>,
    ) -> AppState {
        AppState {
            store,
            validator,
            auth,
            policy,
            config,
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The router's internal state: the application state plus what lives only
/// in this crate. Handlers see its configuration, validator and status
/// resources through methods, never the store itself.
#[derive(Clone)]
pub(crate) struct Ctx {
    app: AppState,
    collections: Arc<CollectionCache>,
    pages: Arc<PageBytes>,
}

impl Ctx {
    pub(crate) fn new(app: AppState) -> Ctx {
        let pages = Arc::new(PageBytes::new(app.config.pages));
        Ctx {
            app,
            collections: Arc::new(CollectionCache::default()),
            pages,
        }
    }

    /// The budget every paged response body takes its bytes from.
    pub(crate) fn pages(&self) -> &PageBytes {
        &self.pages
    }

    pub(crate) fn root(&self, path: &str) -> Option<&ApiRootConfig> {
        self.app.config.api_roots.iter().find(|r| r.path == path)
    }

    pub(crate) fn config(&self) -> &TaxiiConfig {
        &self.app.config
    }

    pub(crate) fn validator(&self) -> &Arc<Validator> {
        &self.app.validator
    }

    /// Status resources (not collection data: the status route filters them
    /// by API root and owner itself).
    pub(crate) fn statuses(&self) -> Arc<dyn StatusStore> {
        self.app.store.clone()
    }
}

/// The authenticated caller (`None`: anonymous). Cached in the request's
/// extensions, so several extractors authenticate once.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Option<Principal>);

impl FromRequestParts<Ctx> for Caller {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, TaxiiError> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let auth = ctx.app.auth.clone();
        let result = match parts.headers.get(AUTHORIZATION) {
            None => auth.authenticate(None),
            Some(v) => {
                let header = v.to_str().map_err(|_| {
                    TaxiiError::Unauthorized("malformed Authorization header".into())
                })?;
                // A cache hit is a keyed hash and a map lookup: cheaper than the
                // hop to a blocking thread and back, so it runs inline.
                match auth.authenticate_cached(header) {
                    Some(p) => Ok(Some(p)),
                    None => {
                        let header = header.to_owned();
                        tokio::task::spawn_blocking(move || auth.authenticate(Some(&header)))
                            .await
                            .map_err(|e| {
                                TaxiiError::Internal(format!("authentication task: {e}"))
                            })?
                    }
                }
            }
        };
        let who = result.map_err(|e| match e {
            AuthError::Invalid => TaxiiError::Unauthorized("invalid credentials".into()),
            AuthError::Malformed => TaxiiError::Unauthorized(
                "unsupported or malformed Authorization header (use Basic or Bearer)".into(),
            ),
            AuthError::Unavailable(m) => {
                tracing::error!(error = %m, "authentication unavailable");
                TaxiiError::Unavailable("authentication is unavailable; retry later".into())
            }
        })?;
        if let (Some(slot), Some(p)) = (parts.extensions.get::<RequestUser>(), &who) {
            slot.record(&p.name);
        }
        let caller = Caller(who);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// Who a request was authenticated as, for a request log outside the
/// router: a layer puts an empty one into the request's extensions and reads
/// it after the response; the router fills it once it knows the caller
/// (signed-in callers only: anonymous or refused, it stays empty).
#[derive(Debug, Clone, Default)]
pub struct RequestUser(Arc<std::sync::OnceLock<String>>);

impl RequestUser {
    /// The signed-in user's name, if the request got that far.
    pub fn name(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    /// Records the signed-in user (the first call wins): for routers beside
    /// TAXII's that authenticate the same way (the graph API).
    pub fn record(&self, name: &str) {
        let _ = self.0.set(name.to_owned());
    }
}

/// What a request is about to do with a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Collection information: read or write.
    View,
    Read,
    Write,
    /// §5.7: read and write, plus the delete right.
    Delete,
}

/// The rights one caller has on one collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Rights {
    read: bool,
    write: bool,
    delete: bool,
}

/// The permission decision, separate from I/O so it can be read against the spec.
fn decide(anonymous: bool, exists: bool, rights: Rights, need: Need) -> Result<(), TaxiiError> {
    let Rights {
        read: can_read,
        write: can_write,
        delete: can_delete,
    } = rights;
    let missing = if anonymous {
        TaxiiError::unauthenticated()
    } else {
        TaxiiError::Forbidden(match need {
            Need::Read | Need::View => "you may not read this collection".into(),
            Need::Write => "you may not write to this collection".into(),
            Need::Delete => {
                "deleting needs read, write and delete rights on this collection".into()
            }
        })
    };
    let hidden = || {
        if anonymous {
            TaxiiError::unauthenticated()
        } else {
            TaxiiError::not_found("no such collection")
        }
    };
    if !exists || (!can_read && !can_write) {
        return Err(hidden());
    }
    let ok = match need {
        Need::View => true,
        Need::Read => can_read,
        Need::Write => can_write,
        Need::Delete => can_read && can_write && can_delete,
    };
    if ok {
        Ok(())
    } else {
        Err(missing)
    }
}

/// Access to one collection after a successful check. Private fields: only
/// [`grant`] builds it.
struct Granted {
    store: Arc<dyn Store>,
    info: CollectionInfo,
    can_read: bool,
    can_write: bool,
    caller: Option<Principal>,
    root: String,
    max_content_length: usize,
}

/// Authenticates, resolves `/{root}/collections/{collection}/` and checks `need`.
async fn grant(parts: &mut Parts, ctx: &Ctx, need: Need) -> Result<Granted, TaxiiError> {
    let Caller(caller) = Caller::from_request_parts(parts, ctx).await?;
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, ctx)
        .await
        .map_err(|_| TaxiiError::not_found("no such resource"))?;
    let root_name = params.get("root").map(String::as_str).unwrap_or("");
    let coll = params
        .get("collection")
        .cloned()
        .ok_or_else(|| TaxiiError::not_found("no such collection"))?;
    let root = ctx
        .root(root_name)
        .ok_or_else(|| TaxiiError::not_found("no such API root"))?;
    let store = ctx.app.store.clone();
    let info = match ctx.collections.get(&coll) {
        Some(hit) => hit,
        None => {
            let store = store.clone();
            let key = coll.clone();
            let info = blocking(move || store.collection(&key)).await?;
            ctx.collections.put(coll, info.clone());
            info
        }
    };
    let info = info.filter(|i| root.collections.iter().any(|c| c == &i.id));
    let anonymous = caller.is_none();
    let policy = &ctx.app.policy;
    let rights = match &info {
        Some(i) => Rights {
            read: policy.can_read(caller.as_ref(), &i.id),
            write: policy.can_write(caller.as_ref(), &i.id),
            // Asked only when it matters: a policy may make it costlier.
            delete: need == Need::Delete && policy.can_delete(caller.as_ref(), &i.id),
        },
        None => Rights::default(),
    };
    decide(anonymous, info.is_some(), rights, need)?;
    let info = info.ok_or_else(|| TaxiiError::not_found("no such collection"))?;
    Ok(Granted {
        store,
        info,
        can_read: rights.read,
        can_write: rights.write,
        caller,
        root: root.path.clone(),
        max_content_length: root.max_content_length,
    })
}

/// How long a collection record (or its absence) is trusted.
pub(crate) const COLLECTION_TTL: Duration = Duration::from_secs(2);

/// Bounded: the URL segment is client input.
const COLLECTION_CACHE_MAX: usize = 1024;

/// Collection records by the id or alias a URL named (see the module doc).
#[derive(Default)]
pub(crate) struct CollectionCache {
    map: RwLock<HashMap<String, (Instant, Option<CollectionInfo>)>>,
}

impl CollectionCache {
    fn get(&self, key: &str) -> Option<Option<CollectionInfo>> {
        let g = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let (at, info) = g.get(key)?;
        (at.elapsed() < COLLECTION_TTL).then(|| info.clone())
    }

    fn put(&self, key: String, info: Option<CollectionInfo>) {
        let mut g = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if g.len() >= COLLECTION_CACHE_MAX {
            g.retain(|_, (at, _)| at.elapsed() < COLLECTION_TTL);
            if g.len() >= COLLECTION_CACHE_MAX {
                g.clear();
            }
        }
        g.insert(key, (Instant::now(), info));
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $need:expr) => {
        $(#[$doc])*
        pub(crate) struct $name(Granted);

        impl FromRequestParts<Ctx> for $name {
            type Rejection = TaxiiError;

            async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, TaxiiError> {
                grant(parts, ctx, $need).await.map($name)
            }
        }

        impl $name {
            #[allow(dead_code)]
            pub fn info(&self) -> &CollectionInfo {
                &self.0.info
            }
        }
    };
}

handle!(
    /// May see the collection's description (read or write right).
    CollectionViewer,
    Need::View
);
handle!(
    /// May read the collection's objects.
    CollectionReader,
    Need::Read
);
handle!(
    /// May add objects to the collection.
    CollectionWriter,
    Need::Write
);
handle!(
    /// May remove objects from the collection (read, write and delete, §5.7).
    CollectionDeleter,
    Need::Delete
);

impl CollectionViewer {
    pub fn rights(&self) -> (bool, bool) {
        (self.0.can_read, self.0.can_write)
    }
}

async fn versions_in(g: &Granted, id: &str) -> Result<Vec<StoredObject>, TaxiiError> {
    let store = g.store.clone();
    let coll = g.info.id.clone();
    let id = id.to_owned();
    blocking(move || store.versions(&id, Some(&coll))).await
}

impl CollectionReader {
    /// One page of this collection's objects handed row by row to `sink`
    /// on a reader thread (see [`sightline_store::ObjectReader::query_each`]),
    /// each row's bytes taken from `room` first: the page ends early (with
    /// `more`) at the first row that does not fit. Returns the sink, what
    /// the page holds, and the room it took; 503 when not even its first row
    /// fits (see [`crate::pagebytes`]).
    pub async fn query_each<S: RowSink>(
        &self,
        mut q: ObjectQuery,
        mut sink: S,
        mut room: Reservation,
    ) -> Result<(S, PageSummary, Reservation), TaxiiError> {
        q.collection = Some(self.0.info.id.clone());
        let store = self.0.store.clone();
        let (sink, summary, room, cut) = blocking(move || {
            let mut taken = PageSummary::default();
            let mut cut = false;
            let all = store.query_each(&q, &mut |r| {
                if cut {
                    return;
                }
                if room.take(sink.cost(r), taken.count == 0) {
                    sink.row(r);
                    taken.saw(r.date_added);
                } else {
                    cut = true;
                }
            })?;
            taken.more = all.more || cut;
            Ok((sink, taken, room, cut))
        })
        .await?;
        if cut && summary.count == 0 {
            return Err(crate::pagebytes::busy());
        }
        Ok((sink, summary, room))
    }

    /// Every version of `id` in this collection, by version.
    pub async fn versions(&self, id: &str) -> Result<Vec<StoredObject>, TaxiiError> {
        versions_in(&self.0, id).await
    }
}

/// Takes the rows of a page as the store reads them (to render a response
/// body without owning each row first).
pub(crate) trait RowSink: Send + 'static {
    fn row(&mut self, r: &ObjectRow<'_>);
    /// At least the bytes [`RowSink::row`] adds for `r` (what the page takes
    /// from the budget for it).
    fn cost(&self, r: &ObjectRow<'_>) -> usize;
}

/// The outcome of one object put.
pub(crate) type PutResult = Result<PutOutcome, String>;

impl CollectionWriter {
    pub fn caller(&self) -> Option<&Principal> {
        self.0.caller.as_ref()
    }

    /// Whether the writer may also read: a write-only caller's status must
    /// not reveal what the collection already held.
    pub fn can_read(&self) -> bool {
        self.0.can_read
    }

    pub fn root(&self) -> &str {
        &self.0.root
    }

    /// The API root's `max_content_length`.
    pub fn max_content_length(&self) -> usize {
        self.0.max_content_length
    }

    /// Puts all objects into this collection in one transaction, together
    /// with the status resource `finish` makes from the outcomes (TAXII 2.1
    /// §4.3): both are durable, or neither. A rejected object
    /// ([`StoreError::Invalid`]) is a per-object failure; any other store
    /// failure rolls everything back and fails the request.
    pub async fn put_all_with_status<R, F>(
        &self,
        objects: Vec<NewObject>,
        finish: F,
    ) -> Result<R, TaxiiError>
    where
        R: Send + 'static,
        F: FnOnce(Vec<PutResult>) -> Result<(StoredStatus, R), StoreError> + Send + 'static,
    {
        let store = self.0.store.clone();
        let coll = self.0.info.id.clone();
        blocking_write(move || {
            let mut txn = store.begin()?;
            let mut out = Vec::with_capacity(objects.len());
            for o in &objects {
                match txn.put(o, Some(&coll)) {
                    Ok(r) => out.push(Ok(r)),
                    Err(StoreError::Invalid(m)) => out.push(Err(m)),
                    Err(e) => return Err(e),
                }
            }
            drop(objects);
            let (status, r) = finish(out)?;
            txn.put_status(&status)?;
            txn.commit()?;
            Ok(r)
        })
        .await
    }
}

impl CollectionDeleter {
    pub fn caller(&self) -> Option<&Principal> {
        self.0.caller.as_ref()
    }

    pub async fn versions(&self, id: &str) -> Result<Vec<StoredObject>, TaxiiError> {
        versions_in(&self.0, id).await
    }

    /// Removes versions of `id` from this collection (all when `version_keys`
    /// is empty). The versions stay in the store.
    pub async fn remove(&self, id: &str, version_keys: Vec<String>) -> Result<u64, TaxiiError> {
        let store = self.0.store.clone();
        let coll = self.0.info.id.clone();
        let id = id.to_owned();
        blocking_write(move || {
            let mut txn = store.begin()?;
            let n = txn.remove_from_collection(&coll, &id, &version_keys)?;
            txn.commit()?;
            Ok(n)
        })
        .await
    }
}

/// One collection as the collections list shows it to a caller.
pub(crate) struct Visible {
    pub info: CollectionInfo,
    pub can_read: bool,
    pub can_write: bool,
}

/// The collections of API root `root` that `caller` may read or write, in the
/// store's stable order (title, then id; §3.3).
pub(crate) async fn visible_collections(
    ctx: &Ctx,
    caller: Option<&Principal>,
    root: &crate::ApiRootConfig,
) -> Result<Vec<Visible>, TaxiiError> {
    let store = ctx.app.store.clone();
    let all = blocking(move || store.collections()).await?;
    Ok(all
        .into_iter()
        .filter(|c| root.collections.iter().any(|id| id == &c.id))
        .filter_map(|info| {
            let can_read = ctx.app.policy.can_read(caller, &info.id);
            let can_write = ctx.app.policy.can_write(caller, &info.id);
            (can_read || can_write).then_some(Visible {
                info,
                can_read,
                can_write,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn code(r: Result<(), TaxiiError>) -> u16 {
        r.map_or_else(|e| e.status().as_u16(), |()| StatusCode::OK.as_u16())
    }

    fn rights(read: bool, write: bool, delete: bool) -> Rights {
        Rights {
            read,
            write,
            delete,
        }
    }

    #[test]
    fn delete_matrix_is_section_5_7() {
        // (can_read, can_write) → status, for an authenticated caller with
        // the delete right: §5.7 exactly.
        let d = |r, w| code(decide(false, true, rights(r, w, true), Need::Delete));
        assert_eq!(d(false, false), 404);
        assert_eq!(d(true, false), 403);
        assert_eq!(d(false, true), 403);
        assert_eq!(d(true, true), 200);
    }

    #[test]
    fn delete_needs_the_delete_right() {
        let d = |r, w| code(decide(false, true, rights(r, w, false), Need::Delete));
        assert_eq!(d(true, true), 403, "a plain reader-writer may not delete");
        assert_eq!(d(false, true), 403);
        assert_eq!(d(false, false), 404, "still hidden");
        assert_eq!(
            code(decide(
                true,
                true,
                rights(false, false, false),
                Need::Delete
            )),
            401
        );
    }

    #[test]
    fn hidden_and_anonymous() {
        let c = |anon, exists, r, w, need| code(decide(anon, exists, rights(r, w, false), need));
        assert_eq!(c(false, false, true, true, Need::Read), 404);
        assert_eq!(c(true, false, false, false, Need::Read), 401);
        assert_eq!(c(true, true, true, false, Need::Write), 401);
        assert_eq!(c(false, true, false, true, Need::Read), 403);
        assert_eq!(c(false, true, true, false, Need::Write), 403);
        assert_eq!(c(false, true, false, true, Need::View), 200);
        assert_eq!(c(false, true, false, true, Need::Write), 200);
    }
}
