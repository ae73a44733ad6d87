//! The web UI under `/ui/` (issue 14 §3): server-rendered HTML from the same
//! binary, over the same accounts and collection rights as TAXII and the
//! graph API.
//!
//! - Sign-in (`/ui/login`) turns the form's user and password into a Basic
//!   header for the server's [`Authenticator`], so the accounts, the password
//!   cache and its verification gate are TAXII's. A success starts a
//!   server-side [session](SessionConfig) whose random id is the cookie
//!   [`SESSION_COOKIE`] (HttpOnly, SameSite=Strict, Path=/ui, Secure under
//!   TLS). Failed sign-ins are throttled per client address like failed
//!   `Authorization` headers (10 at once, one more a second: 429 beyond,
//!   with no password verified). Every form carries a CSRF token (the session's; for the sign-in
//!   form, a double-submit cookie) and a POST without it is 403.
//! - Who may read what is the API's rule
//!   ([`sightline_api::readable_collections`] into
//!   [`sightline_graph::Graph`]): an object the caller may not read is a 404,
//!   and a relationship to it shows the id only, like an object the store
//!   lacks. The signed-in principal is kept; its rights are worked out again
//!   on every request, so a config change applies at once.
//! - Templates are `maud`, compiled in; every text is escaped, no HTML from
//!   objects is ever emitted as such (Markdown descriptions go through
//!   `markdown.rs`: raw HTML becomes text, http(s) links only), links to
//!   outside are http(s) only, and a Content-Security-Policy allows only this
//!   server's script and style (no inline code, no `style=""`).
//! - htmx (vendored, `assets/README.md`) gives instant search results;
//!   cytoscape.js (vendored) and `assets/graph.js` draw the graph view, whose
//!   node list works without scripts. Every asset is in [`ASSETS`]; together
//!   they stay within the 600 KB.
//! - Indicators (issue 16): the object page shows the effective score
//!   (`#score`), the kept verdicts the caller may read (`#verdicts`, a
//!   `.conflict` marker when analysts disagree) and, to callers who may
//!   write a collection holding the indicator, verdict forms
//!   (`form.verdict`) posting to `/ui/objects/{id}/verdict`: the graph
//!   API's rule and code (`sightline_api::verdict`).
//! - Pages: object (`/ui/objects/{id}`), its graph (`…/graph`, `…/graph.json`)
//!   and ATT&CK matrix (`…/matrix`, `…/matrix/layer.json`, a Navigator layer);
//!   the home page's activity (`dashboard.rs`), the organisation tree
//!   (`…/tree`, `org.rs`), the campaign timeline (`/ui/campaigns`,
//!   `timeline.rs`), the indicators list (`/ui/indicators`, `indicators.rs`),
//!   collections and upload (`/ui/collections`, `upload.rs`: admitted or
//!   refused as a TAXII POST; [`UiState::with_import`]).
//!
//! Store reads run on tokio's blocking pool. Not done yet: sessions shared
//! between replicas.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use sightline_store::Store;
use sightline_taxii::{AccessPolicy, Authenticator};

mod dashboard;
mod error;
mod indicators;
mod markdown;
mod matrix;
mod org;
mod pages;
mod quality;
mod routes;
mod session;
mod throttle;
mod timeline;
mod upload;

pub use error::UiError;
pub use routes::{Asset, ASSETS};
pub use session::{Clock, ManualClock, SessionConfig, SystemClock, LOGIN_COOKIE, SESSION_COOKIE};

use session::Sessions;
use throttle::LoginThrottle;

pub use throttle::{LOGIN_FAILURES_PER_SEC, LOGIN_FAILURE_BURST};

/// The path prefix of every page.
pub const PREFIX: &str = "/ui";

/// What the pages need: the store (through its reader traits), the server's
/// authentication and access policy, and the sessions.
#[derive(Clone)]
pub struct UiState {
    store: Arc<dyn Store>,
    auth: Arc<dyn Authenticator>,
    policy: Arc<dyn AccessPolicy>,
    sessions: Arc<Sessions>,
    /// Failed sign-ins per client address.
    throttle: Arc<LoginThrottle>,
    /// Cookies get `Secure` (the server speaks TLS).
    secure: bool,
    /// Uploads (`upload.rs`, [`UiState::with_import`]); none: disabled.
    import: Option<Arc<upload::ImportSettings>>,
    /// Indicator scores and verdicts (issue 16): the server's `[lifecycle]`
    /// through [`UiState::with_lifecycle`], else the built-in settings.
    lifecycle: Option<Arc<sightline_api::Lifecycle>>,
    /// The home page's quality summary, kept a minute (`quality.rs`).
    quality: Arc<quality::Cache>,
}

impl UiState {
    /// Default session bounds (30 min idle, 12 h absolute), the OS clock.
    /// `secure_cookies`: the server serves TLS.
    pub fn new(
        store: Arc<dyn Store>,
        auth: Arc<dyn Authenticator>,
        policy: Arc<dyn AccessPolicy>,
        secure_cookies: bool,
    ) -> Self {
        Self {
            store,
            auth,
            policy,
            sessions: Arc::new(Sessions::new(
                SessionConfig::default(),
                Arc::new(SystemClock),
            )),
            throttle: Arc::new(LoginThrottle::new(Arc::new(SystemClock))),
            secure: secure_cookies,
            import: None,
            lifecycle: sightline_api::Lifecycle::builtin().map(Arc::new),
            quality: Arc::new(quality::Cache::default()),
        }
    }

    /// The server's lifecycle settings and local warninglist, shared with
    /// the graph API (`sightline_api::ApiState::with_lifecycle`).
    pub fn with_lifecycle(mut self, lifecycle: Arc<sightline_api::Lifecycle>) -> Self {
        self.lifecycle = Some(lifecycle);
        self
    }

    /// Other session bounds or clock (the sign-in throttle's too); forgets
    /// existing sessions.
    pub fn with_sessions(mut self, config: SessionConfig, clock: Arc<dyn Clock>) -> Self {
        self.throttle = Arc::new(LoginThrottle::new(clock.clone()));
        self.sessions = Arc::new(Sessions::new(config, clock));
        self
    }
}

impl std::fmt::Debug for UiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiState")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

/// The `/ui/` pages and assets.
pub fn router(state: UiState) -> Router {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(routes::home))
        .route("/ui/login", get(routes::login_form).post(routes::login))
        .route("/ui/logout", post(routes::logout))
        .route("/ui/search", get(routes::search))
        .route("/ui/objects/{id}", get(routes::object))
        .route("/ui/objects/{id}/verdict", post(routes::verdict))
        .route("/ui/objects/{id}/graph", get(routes::graph_page))
        .route("/ui/objects/{id}/graph.json", get(routes::graph_json))
        .route("/ui/objects/{id}/matrix", get(matrix::page))
        .route(
            "/ui/objects/{id}/matrix/layer.json",
            get(matrix::layer_json),
        )
        .route("/ui/objects/{id}/tree", get(org::tree))
        .route("/ui/campaigns", get(timeline::campaigns))
        .route("/ui/indicators", get(indicators::indicators))
        .route("/ui/collections", get(upload::collections))
        .route(
            "/ui/collections/{id}/upload",
            post(upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/ui/assets/{name}", get(routes::asset))
        .route("/ui/{*rest}", get(routes::not_found))
        .layer(axum::middleware::from_fn(page_headers))
        .with_state(state)
}

/// The Content-Security-Policy of every page: this server's script and
/// style only (htmx is told not to inject styles nor evaluate code), no
/// framing, forms post here only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// Pages are per user: never cached (the server adds `no-store` only for
/// requests carrying an `Authorization` header, which the UI's do not), never
/// framed. Assets keep their long cache header.
async fn page_headers(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/ui/assets/");
    let mut resp = next.run(req).await;
    if !asset {
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    resp
}

impl UiState {
    /// The accounts generation and the user's stored account now, in one
    /// trip to the blocking pool.
    async fn account(
        &self,
        name: &str,
    ) -> Result<(u64, Option<sightline_store::User>), error::UiError> {
        let store = self.store.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || Ok((store.accounts_generation()?, store.user(&name)?)))
            .await
            .map_err(|e| error::UiError::internal(format!("accounts task: {e}")))?
    }

    /// What a new session for `name` rests on.
    pub(crate) async fn account_stamp(
        &self,
        name: &str,
    ) -> Result<session::AccountStamp, error::UiError> {
        let (generation, user) = self.account(name).await?;
        Ok(session::AccountStamp {
            generation,
            password_hash: user.map(|u| u.password_hash),
        })
    }

    /// The principal session `id` stands for now: the same while the
    /// accounts are unchanged; else read again from the store (`None`: the
    /// account is gone or its password changed, so the session must end).
    pub(crate) async fn recheck(
        &self,
        id: &str,
        s: &session::Session,
    ) -> Result<Option<sightline_taxii::Principal>, error::UiError> {
        let store = self.store.clone();
        let generation = tokio::task::spawn_blocking(move || store.accounts_generation())
            .await
            .map_err(|e| error::UiError::internal(format!("accounts task: {e}")))??;
        if generation == s.account.generation {
            return Ok(Some(s.principal.clone()));
        }
        let Some(before) = &s.account.password_hash else {
            // An authenticator that is not the store's: nothing to compare.
            self.sessions.refresh(id, s.principal.clone(), generation);
            return Ok(Some(s.principal.clone()));
        };
        let (generation, user) = self.account(&s.principal.name).await?;
        let Some(u) = user.filter(|u| &u.password_hash == before) else {
            return Ok(None);
        };
        let principal = sightline_taxii::Principal {
            name: u.name,
            groups: u.groups,
            admin: u.admin,
        };
        self.sessions.refresh(id, principal.clone(), generation);
        Ok(Some(principal))
    }
}
