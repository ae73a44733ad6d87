//! The graph API under `/api/v1/`: JSON over the same accounts and
//! collection rights as the TAXII routes.
//!
//! Who may read what is [`sightline_graph`]'s rule: a caller sees the objects
//! of the collections its [`AccessPolicy`] lets it read (an administrator the
//! whole store, objects imported without a collection included); a
//! relationship to an object it may not read shows the id only, exactly like
//! an object the store lacks. A seed, subject or object it may not read is a
//! 404, like one that does not exist.
//!
//! Indicators (issue 16): `objects/{id}` carries the effective score beside
//! the object, and `POST /api/v1/verdicts` records the caller's verdict
//! ([`verdict`]: who may, where it goes; the web UI uses the same code).
//!
//! Every route reads the store on the blocking pool; every answer is JSON,
//! errors included (`{"error": {"status", "title", "message"}}`). Request ids,
//! timeouts, metrics and the request log come from the server's layers
//! around this router, as for TAXII.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use sightline_store::{Store, StoreError, StoredObject};
use sightline_taxii::{AccessPolicy, AuthError, Authenticator, Principal, RequestUser};

mod error;
pub mod openapi;
mod routes;
pub mod verdict;

pub use error::{client_message, ApiError};
pub use routes::diff as version_diff;
pub use verdict::{Lifecycle, VerdictRequest};

/// What the routes need: the store (read through its reader traits only),
/// and the server's authentication and access policy.
#[derive(Clone)]
pub struct ApiState {
    store: Arc<dyn Store>,
    auth: Arc<dyn Authenticator>,
    policy: Arc<dyn AccessPolicy>,
    /// Scores and verdicts (issue 16); none: objects carry no score and
    /// verdicts are refused (503).
    lifecycle: Option<Arc<Lifecycle>>,
}

impl ApiState {
    /// With the built-in lifecycle settings and no local warninglist
    /// ([`ApiState::with_lifecycle`] sets the server's).
    pub fn new(
        store: Arc<dyn Store>,
        auth: Arc<dyn Authenticator>,
        policy: Arc<dyn AccessPolicy>,
    ) -> Self {
        Self {
            store,
            auth,
            policy,
            lifecycle: Lifecycle::builtin().map(Arc::new),
        }
    }

    /// The server's `[lifecycle]` settings (thresholds, rules, trusted
    /// sensors) and local warninglist, shared with the web UI.
    pub fn with_lifecycle(mut self, lifecycle: Arc<Lifecycle>) -> Self {
        self.lifecycle = Some(lifecycle);
        self
    }
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").finish_non_exhaustive()
    }
}

/// The path prefix of every route.
pub const PREFIX: &str = "/api/v1";

/// The `/api/v1/` routes (see [`openapi::ROUTES`] for what each does).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/search", get(routes::search))
        .route("/api/v1/objects/{id}", get(routes::object))
        .route(
            "/api/v1/objects/{id}/relationships",
            get(routes::relationships),
        )
        .route("/api/v1/graph", get(routes::graph))
        .route("/api/v1/attack-matrix", get(routes::attack_matrix))
        .route("/api/v1/verdicts", post(routes::verdict))
        .route("/api/v1/openapi.json", get(routes::openapi))
        .with_state(state)
}

/// The caller and what it may read: `None` for an administrator (the whole
/// store), else the ids of the collections it may read.
pub(crate) struct Reader {
    pub(crate) readable: Option<BTreeSet<String>>,
    /// Who it is (`None`: anonymous).
    pub(crate) who: Option<Principal>,
}

impl ApiState {
    /// Authenticates the request (anonymous when it has no credentials) and
    /// works out the collections the caller may read.
    pub(crate) async fn reader(
        &self,
        headers: &HeaderMap,
        user: Option<&RequestUser>,
    ) -> Result<Reader, ApiError> {
        let header = match headers.get(AUTHORIZATION) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?
                    .to_owned(),
            ),
        };
        let auth = self.auth.clone();
        let who: Option<Principal> =
            match header.as_deref().and_then(|h| auth.authenticate_cached(h)) {
                Some(p) => Some(p),
                None => tokio::task::spawn_blocking(move || auth.authenticate(header.as_deref()))
                    .await
                    .map_err(|e| ApiError::Internal(format!("authentication task: {e}")))?
                    .map_err(|e| match e {
                        AuthError::Unavailable(m) => ApiError::Unavailable(m),
                        other => ApiError::Unauthorized(other.to_string()),
                    })?,
            };
        if let (Some(slot), Some(p)) = (user, &who) {
            slot.record(&p.name);
        }
        if who.as_ref().is_some_and(|p| p.admin) {
            return Ok(Reader {
                readable: None,
                who,
            });
        }
        let store = self.store.clone();
        let policy = self.policy.clone();
        let caller = who.clone();
        let readable = tokio::task::spawn_blocking(move || {
            readable_collections(&*store, &*policy, caller.as_ref())
        })
        .await
        .map_err(|e| ApiError::Internal(format!("store task: {e}")))??;
        Ok(Reader { readable, who })
    }
}

/// What `who` may read, for [`sightline_graph::Graph::new`]: `None` for an
/// administrator (the whole store), else the ids of the collections the
/// policy lets it read. The one rule of the API and the web UI (`sightline-ui`),
/// so both show the same objects. Blocking: reads the collection list.
pub fn readable_collections(
    store: &dyn Store,
    policy: &dyn AccessPolicy,
    who: Option<&Principal>,
) -> Result<Option<BTreeSet<String>>, StoreError> {
    if who.is_some_and(|p| p.admin) {
        return Ok(None);
    }
    Ok(Some(
        store
            .collections()?
            .into_iter()
            .filter(|c| policy.can_read(who, &c.id))
            .map(|c| c.id)
            .collect(),
    ))
}

/// Every version of `id` the caller may read (`readable` as from
/// [`readable_collections`]), by version then date added; the same bytes in
/// two collections are one version. Blocking.
pub fn readable_versions(
    store: &dyn Store,
    id: &str,
    readable: Option<&BTreeSet<String>>,
) -> Result<Vec<StoredObject>, StoreError> {
    let mut out: Vec<StoredObject> = match readable {
        None => store.versions(id, None)?,
        Some(set) => {
            let mut all = Vec::new();
            for c in set {
                match store.versions(id, Some(c)) {
                    Ok(v) => all.extend(v),
                    Err(StoreError::NoSuchCollection { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            all
        }
    };
    out.sort_by(|a, b| {
        (a.version_key.as_str(), a.date_added).cmp(&(b.version_key.as_str(), b.date_added))
    });
    out.dedup_by(|a, b| a.version_key == b.version_key && a.raw == b.raw);
    Ok(out)
}
