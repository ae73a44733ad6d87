//! The TAXII 2.1 HTTP interface (OASIS TAXII 2.1, sections 3-5): an axum
//! [`Router`] built by [`router`], the wire types, content negotiation, filter
//! parsing, keyset cursors, paging headers and the TAXII error message.
//!
//! This crate knows HTTP and TAXII JSON, not SQL: it reads and writes through
//! the `sightline-store` traits, running store calls on tokio's blocking pool.
//! Who the caller is comes from an [`Authenticator`]; what they may do from an
//! [`AccessPolicy`]. Both are supplied by the composition root (`sightline-server`).

pub mod auth;

pub use auth::{AccessPolicy, AuthError, Authenticator, Principal};

use std::sync::Arc;

use sightline_stix::Validator;
use sightline_store::Store;

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
}

/// Everything handlers need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub validator: Arc<Validator>,
    pub auth: Arc<dyn Authenticator>,
    pub policy: Arc<dyn AccessPolicy>,
    pub config: Arc<TaxiiConfig>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.config).finish_non_exhaustive()
    }
}
