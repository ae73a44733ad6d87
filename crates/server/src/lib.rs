//! `sightline-server`: the composition root. Turns a [`ServerConfig`] into a
//! running TAXII 2.1 server: opens the store, resolves API roots and
//! permissions, builds the [`AppState`] for `sightline-taxii`'s router, adds
//! `/healthz` and `/metrics` (admins and group `metrics` unless
//! `metrics_public`), request ids (a client's only when short and plain),
//! request logs, the audit log ([`audit`]), security headers and timeouts, and
//! serves HTTP/1.1, plain (loopback unless explicitly allowed) or TLS (rustls
//! on the `ring` provider), with header, body and request timeouts against
//! slow clients (`listen`), until a shutdown signal, then lets in-flight
//! requests finish within a grace period.
//!
//! Nothing here prints: the binary reports [`Server::local_addr`] and errors.
//!
//! ```text
//! let server = Server::bind_with(config, store, validator).await?; // port bound
//! println!("listening on http://{}", server.local_addr());
//! server.run(shutdown_signal()).await?;
//! ```

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod config;
mod headers;
mod listen;
mod metrics;
pub mod policy;
mod sensor;
pub mod store;

pub use auth::{
    add_user, create_token, create_token_expiring, hash_password, NewToken, StoreAuthenticator,
};
pub use config::{
    ApiRootSection, CollectionSection, Limits, SensorSection, ServerConfig, TlsConfig,
};
pub use policy::ConfigPolicy;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use sightline_stix::Validator;
use sightline_store::{AccountStore, CollectionStore, StatusStore, Store, StoreError};
use sightline_taxii::{ApiRootConfig, AppState, TaxiiConfig};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// Where the store lives when neither the config nor the caller says.
pub const DEFAULT_DATA_DIR: &str = "./sightline-data";

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(
        "refusing plain HTTP on {0}, which is not a loopback address: passwords and tokens \
         would cross the network in clear text. Give a TLS certificate and key \
         (--tls-cert/--tls-key or [tls]), or, only behind a TLS-terminating proxy, \
         --insecure-plain-http-on-network (insecure_plain_http_on_network = true)"
    )]
    InsecureListen(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
}

/// A server with its port bound, ready to [`run`](Server::run).
pub struct Server {
    app: Router,
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    conn: listen::ConnLimits,
    auth: Arc<StoreAuthenticator>,
    data_dir: PathBuf,
    /// For purging expired status resources, nothing else.
    store: Arc<dyn StatusStore>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Checks the config and binds the listen address, over `store`,
    /// validating POSTed objects with `validator` (the binary's also checks
    /// STIX patterns). The one way to build a server: no constructor makes a
    /// validator of its own (one without pattern checks).
    pub async fn bind_with(
        config: ServerConfig,
        store: Arc<dyn Store>,
        validator: Validator,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        let data = data_dir(&config);
        let tls = match &config.tls {
            Some(t) => Some(load_tls(&t.cert, &t.key).await?),
            None => None,
        };
        let taxii = Arc::new(taxii_config(&config, store.as_ref(), &data)?);
        let policy = ConfigPolicy::new(resolve_sections(&config, store.as_ref())?)
            .map_err(ServerError::Config)?;
        let auth = Arc::new(StoreAuthenticator::new(
            store.clone(),
            Duration::from_secs(config.limits.auth_cache_secs),
        )?);
        let policy = Arc::new(policy);
        // Scores and verdicts (issue 16): the [lifecycle] section, and the
        // local warninglist `match` loads, for the API and the UI alike.
        let lifecycle = Arc::new(
            sightline_api::Lifecycle::new(&config.lifecycle, Some(data.join("warninglists")))
                .map_err(|e| ServerError::Config(e.to_string()))?,
        );
        // Sensor feeds (issue 15 §2): the active indicators as Zeek Intel,
        // Suricata rules or CSV, by the same rights and lifecycle.
        let sensor = sensor::SensorState {
            store: store.clone(),
            auth: auth.clone(),
            policy: policy.clone(),
            lifecycle: Arc::new(lifecycle.evaluator.clone()),
            lists: data.join("warninglists"),
            scheme: if tls.is_some() { "https" } else { "http" },
            cache: Arc::new(sensor::FeedCache::new(&config.sensor)),
        };
        let api = sightline_api::ApiState::new(store.clone(), auth.clone(), policy.clone())
            .with_lifecycle(lifecycle.clone());
        let validator = Arc::new(validator);
        // The web UI: same accounts and rights; Secure cookies under TLS.
        let ui =
            sightline_ui::UiState::new(store.clone(), auth.clone(), policy.clone(), tls.is_some())
                .with_sessions(
                    sightline_ui::SessionConfig {
                        idle: Duration::from_secs(config.limits.ui_session_idle_secs),
                        absolute: Duration::from_secs(config.limits.ui_session_max_secs),
                        ..sightline_ui::SessionConfig::default()
                    },
                    Arc::new(sightline_ui::SystemClock),
                )
                // Uploads pass the validator and bounds a TAXII POST does.
                .with_import(validator.clone(), taxii.limits, &taxii.api_roots)
                .with_lifecycle(lifecycle);
        let state = AppState::new(store.clone(), validator, auth.clone(), policy, taxii);
        // Installs the recorder before the first request is counted.
        let _ = metrics::handle();
        // The routes beside TAXII's: the graph API, the web UI, sensor feeds.
        let beside = sightline_api::router(api)
            .merge(sightline_ui::router(ui))
            .merge(sensor::router(sensor));
        let app = app(
            state,
            beside,
            store.clone(),
            Duration::from_secs(config.limits.request_timeout_secs),
            Duration::from_secs(config.limits.body_read_timeout_secs),
            metrics::Gate {
                auth: auth.clone(),
                public: config.metrics_public,
            },
        );
        let app = resource_layers(app, &config, auth.clone());
        let audit = Arc::new(audit::AuditLog::open(
            config.audit_log.as_deref().unwrap_or("stderr"),
        )?);
        let app = hygiene_layers(app, audit, tls.is_some());
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Bind {
                addr: config.listen,
                source,
            })?;
        let io = |e: std::io::Error| ServerError::Io(format!("listener: {e}"));
        listener.set_nonblocking(true).map_err(io)?;
        let local_addr = listener.local_addr().map_err(io)?;
        Ok(Server {
            app,
            listener,
            local_addr,
            tls,
            conn: conn_limits(&config.limits),
            auth,
            data_dir: data,
            store,
        })
    }

    /// The bound address (with the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The authenticator (its [`StoreAuthenticator::verifications`] counter
    /// is what tests read to see the credential cache work).
    pub fn authenticator(&self) -> Arc<StoreAuthenticator> {
        self.auth.clone()
    }

    /// Serves until `shutdown` completes; then stops accepting, lets
    /// in-flight requests finish for up to the grace period, and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let listener = tokio::net::TcpListener::from_std(self.listener)
            .map_err(|e| ServerError::Io(format!("server: {e}")))?;
        let purger = tokio::spawn(purge_statuses(self.store.clone()));
        listen::serve(listener, self.tls, self.app, self.conn, shutdown).await;
        purger.abort();
        Ok(())
    }
}

/// The accept loop's bounds; raises the open file limit first, as the
/// default connection cap depends on it.
fn conn_limits(l: &Limits) -> listen::ConnLimits {
    let nofile = listen::raise_nofile_limit();
    let ceiling = listen::default_max_connections(nofile);
    let max_connections = match l.max_connections {
        Some(n) if n > ceiling => {
            tracing::warn!(
                configured = n,
                used = ceiling,
                open_file_limit = nofile,
                "limits.max_connections is above the open file limit: lowered"
            );
            ceiling
        }
        Some(n) => n,
        None => ceiling,
    };
    // One address may hold at most half of the cap, so it cannot take every
    // connection from other clients (0 keeps the per-address bound off).
    let half = (max_connections / 2).max(1);
    let max_per_ip = match l.max_connections_per_ip {
        n if n > half => {
            tracing::info!(
                configured = n,
                used = half,
                "limits.max_connections_per_ip lowered to half of max_connections"
            );
            half
        }
        n => n,
    };
    tracing::debug!(
        max_connections,
        max_per_ip,
        open_file_limit = nofile,
        "connection bounds"
    );
    listen::ConnLimits {
        header_timeout: Duration::from_secs(l.header_read_timeout_secs),
        grace: Duration::from_secs(l.shutdown_grace_secs),
        max_per_ip,
        max_connections,
        write_timeout: Duration::from_secs(l.write_timeout_secs),
    }
}

/// The resource bounds around the application (issue 12 §3): the failed
/// authentication throttle, then (outermost, so waiting for room does not
/// eat into the body deadline) the in-flight POST bytes.
fn resource_layers(app: Router, config: &ServerConfig, auth: Arc<StoreAuthenticator>) -> Router {
    let l = &config.limits;
    let app = if l.auth_failure_burst > 0 {
        app.layer(axum::middleware::from_fn_with_state(
            auth::ThrottleState {
                auth,
                throttle: Arc::new(auth::AuthThrottle::new(
                    l.auth_failure_burst,
                    l.auth_failure_per_sec,
                    auth::THROTTLE_MAX_ADDRESSES,
                )),
                pending: Arc::default(),
            },
            auth::throttle_failures,
        ))
    } else {
        app
    };
    let chunked = config
        .api_roots
        .iter()
        .map(|r| r.max_content_length)
        .max()
        .unwrap_or(l.max_inflight_post_bytes);
    app.layer(axum::middleware::from_fn_with_state(
        listen::PostBytes::new(
            l.max_inflight_post_bytes,
            chunked,
            Duration::from_secs(l.post_wait_secs),
        ),
        listen::post_bytes,
    ))
}

/// Forgets expired TAXII status resources now and then (they are kept
/// [`sightline_taxii::STATUS_TTL`]); every replica does it, which is harmless.
async fn purge_statuses(store: Arc<dyn StatusStore>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let store = store.clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match tokio::task::spawn_blocking(move || store.purge_statuses(now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::debug!(purged = n, "expired status resources purged"),
            Ok(Err(e)) => tracing::warn!(error = %e, "purging status resources failed"),
            Err(e) => tracing::warn!(error = %e, "purging status resources failed"),
        }
    }
}

/// Completes on ctrl-c (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn data_dir(config: &ServerConfig) -> PathBuf {
    config
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

async fn load_tls(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    // One provider for the process: ring (no C/CMake toolchain needed, unlike
    // aws-lc-rs). Already installed (a second server in-process) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fail = |e: String| {
        ServerError::Tls(format!(
            "cannot load certificate {} and key {}: {e}",
            cert.display(),
            key.display()
        ))
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail(format!("certificate: {e}")))?;
    if chain.is_empty() {
        return Err(fail("no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| fail(format!("key: {e}")))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| fail(e.to_string()))?;
    // HTTP/1.1 only: the server speaks no h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Collection id for an id or alias in the config, or a config error.
fn resolve(store: &dyn CollectionStore, what: &str, c: &str) -> Result<String, ServerError> {
    match store.collection(c)? {
        Some(info) => Ok(info.id),
        None => Err(ServerError::Config(format!(
            "{what}: no collection {c:?} in the store (create it with `sightline collection add`)"
        ))),
    }
}

fn resolve_sections<'a>(
    config: &'a ServerConfig,
    store: &dyn CollectionStore,
) -> Result<Vec<(String, &'a CollectionSection)>, ServerError> {
    config
        .collections
        .iter()
        .map(|(k, s)| Ok((resolve(store, &format!("collections.{k}"), k)?, s)))
        .collect()
}

fn taxii_config(
    config: &ServerConfig,
    store: &dyn CollectionStore,
    data: &Path,
) -> Result<TaxiiConfig, ServerError> {
    let api_roots = config
        .api_roots
        .iter()
        .map(|r| {
            let collections = r
                .collections
                .iter()
                .map(|c| resolve(store, &format!("api_roots.{}", r.path), c))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ApiRootConfig {
                path: r.path.clone(),
                title: r.title.clone(),
                description: r.description.clone(),
                max_content_length: r.max_content_length,
                collections,
            })
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(TaxiiConfig {
        title: config.title.clone(),
        description: config.description.clone(),
        contact: config.contact.clone(),
        default_api_root: config.default_api_root.clone(),
        api_roots,
        default_page_size: config.limits.default_page_size,
        max_page_size: config.limits.max_page_size,
        cursor_key: config::cursor_key(config, data)?,
        limits: sightline_taxii::InputLimits {
            max_objects_per_envelope: config.limits.max_objects_per_envelope,
            max_json_depth: config.limits.max_json_depth,
            max_string_bytes: config.limits.max_string_bytes,
            max_values_per_object: config.limits.max_values_per_object,
        },
        discovery_requires_auth: config.discovery_private(),
        pages: sightline_taxii::PageLimits {
            max_page_bytes: config.limits.max_page_bytes,
            max_inflight_page_bytes: config.limits.max_inflight_page_bytes,
            ..Default::default()
        },
    })
}

/// The whole HTTP application: TAXII routes, the graph API (`/api/v1/`), the web UI (`/ui/`),
/// `/healthz`, `/metrics`, and the layers every request passes (outermost
/// first): request id, body deadline, request timeout, metrics.
fn app(
    state: AppState,
    // The graph API, the web UI and the sensor feeds.
    beside: Router,
    // `/healthz` reads the accounts generation, nothing else.
    store: Arc<dyn AccountStore>,
    request_timeout: Duration,
    body_timeout: Duration,
    metrics_gate: metrics::Gate,
) -> Router {
    let healthz = move || {
        let store = store.clone();
        async move {
            // A cheap store read on the blocking pool: a server whose store
            // cannot answer is not healthy.
            match tokio::task::spawn_blocking(move || store.accounts_generation()).await {
                Ok(Ok(_)) => (StatusCode::OK, "ok\n").into_response(),
                _ => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response(),
            }
        }
    };
    let trace = TraceLayer::new_for_http()
        // Method, path and request id only: no headers (Authorization), no
        // query string, no body.
        .make_span_with(|req: &Request<Body>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                id = %id,
            )
        })
        .on_request(())
        .on_response(
            // The request line is `access_log`'s; this one is for debugging.
            DefaultOnResponse::new()
                .level(tracing::Level::DEBUG)
                .latency_unit(tower_http::LatencyUnit::Micros),
        );
    // The TAXII router sets its own request ids and logs its requests; the
    // trace layer here is for the server's own routes only.
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(metrics::render_gated).with_state(metrics_gate),
        )
        .layer(trace)
        .merge(beside)
        .merge(sightline_taxii::router(state))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            listen::request_deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            listen::body_deadline,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // A client's id is logged only when short and plain (issue 12 §4).
        .layer(axum::middleware::from_fn(
            sightline_taxii::sanitize_request_id,
        ))
}

/// The outermost layers, around everything (resource bounds included, so
/// their answers get them too): the audit log, then the security headers.
fn hygiene_layers(app: Router, audit: Arc<audit::AuditLog>, tls: bool) -> Router {
    app.layer(axum::middleware::from_fn_with_state(
        audit,
        audit::middleware,
    ))
    .layer(axum::middleware::from_fn_with_state(
        tls,
        headers::security_headers,
    ))
    // Outermost: one line per request, whatever answered it.
    .layer(axum::middleware::from_fn(access_log::middleware))
}
