//! Fixture: a store with collections, test users and a policy, and request
//! helpers that check the TAXII content type on every response.
//!
//! The store is the backend named by `SIGHTLINE_TEST_BACKEND`: `memory`
//! (default), `sqlite` (a fresh data directory per fixture) or `postgres` (a
//! fresh database per fixture: `sightline_testkit::pg`). `scripts/test` runs this
//! suite on all three, so every endpoint and error path is checked on each.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request};
use axum::Router;
use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sightline_stix::Validator;
use sightline_store::{CollectionInfo, MemoryStore, Store};
use sightline_taxii::{
    router, AccessPolicy, ApiRootConfig, AppState, AuthError, Authenticator, Principal,
    TaxiiConfig, TAXII_CONTENT_TYPE,
};
use tower::ServiceExt;

/// Readable by anyone (also anonymous); writable and deletable by bob and admin.
pub const PUBLIC: &str = "1c5bd3e4-5b6c-4d3f-9a7e-000000000001";
/// Readable by alice, bob, admin; writable and deletable by bob, admin.
pub const INTEL: &str = "1c5bd3e4-5b6c-4d3f-9a7e-000000000002";
/// Write-only for bob; admin reads and writes.
pub const DROPBOX: &str = "1c5bd3e4-5b6c-4d3f-9a7e-000000000003";
/// Admin only.
pub const SECRET: &str = "1c5bd3e4-5b6c-4d3f-9a7e-000000000004";
/// In API root `api2`; readable and writable by any authenticated user;
/// only the admin deletes.
pub const OTHER: &str = "1c5bd3e4-5b6c-4d3f-9a7e-000000000005";

pub const MAX_CONTENT: usize = 64 * 1024;
pub const DEFAULT_PAGE: usize = 10;
pub const MAX_PAGE: usize = 25;

pub const TAXII: &str = "application/taxii+json;version=2.1";

struct TestAuth;

fn principal(name: &str) -> Principal {
    Principal {
        name: name.into(),
        groups: Vec::new(),
        admin: name == "admin",
    }
}

impl Authenticator for TestAuth {
    fn authenticate(&self, authorization: Option<&str>) -> Result<Option<Principal>, AuthError> {
        let Some(h) = authorization else {
            return Ok(None);
        };
        if let Some(b) = h.strip_prefix("Basic ") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| AuthError::Malformed)?;
            let s = String::from_utf8(raw).map_err(|_| AuthError::Malformed)?;
            return match s.as_str() {
                "alice:alice-pw" => Ok(Some(principal("alice"))),
                "bob:bob-pw" => Ok(Some(principal("bob"))),
                "admin:admin-pw" => Ok(Some(principal("admin"))),
                _ => Err(AuthError::Invalid),
            };
        }
        match h {
            "Bearer bob-token" => Ok(Some(principal("bob"))),
            "Bearer down" => Err(AuthError::Unavailable("credential db offline".into())),
            h if h.starts_with("Bearer ") => Err(AuthError::Invalid),
            _ => Err(AuthError::Malformed),
        }
    }
}

struct TestPolicy;

impl AccessPolicy for TestPolicy {
    fn can_read(&self, who: Option<&Principal>, c: &str) -> bool {
        let name = who.map(|p| p.name.as_str());
        if who.is_some_and(|p| p.admin) {
            return true;
        }
        match c {
            PUBLIC => true,
            INTEL => matches!(name, Some("alice" | "bob")),
            OTHER => who.is_some(),
            _ => false,
        }
    }
    fn can_write(&self, who: Option<&Principal>, c: &str) -> bool {
        let name = who.map(|p| p.name.as_str());
        if who.is_some_and(|p| p.admin) {
            return true;
        }
        match c {
            PUBLIC | INTEL | DROPBOX => name == Some("bob"),
            OTHER => who.is_some(),
            _ => false,
        }
    }
    /// bob may delete in Public and Intel; in Other only the admin.
    fn can_delete(&self, who: Option<&Principal>, c: &str) -> bool {
        who.is_some_and(|p| p.admin || (p.name == "bob" && matches!(c, PUBLIC | INTEL)))
    }
}

pub struct Fx {
    pub app: Router,
    pub store: Arc<dyn Store>,
    _keep: Keep,
}

/// What keeps a fixture's store alive (and removes it after).
enum Keep {
    Nothing,
    Dir(tempfile::TempDir),
    Db(DropOffRuntime),
}

/// Drops its test database on a plain thread: fixtures are dropped inside a
/// tokio runtime, where the synchronous PostgreSQL client may not run.
struct DropOffRuntime(Option<sightline_testkit::pg::TestDb>);

impl Drop for DropOffRuntime {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = std::thread::spawn(move || drop(db)).join();
        }
    }
}

fn backend() -> (Arc<dyn Store>, Keep) {
    match std::env::var("SIGHTLINE_TEST_BACKEND").as_deref() {
        Ok("sqlite") => {
            let dir = tempfile::tempdir().expect("temp dir");
            let s =
                sightline_store_sqlite::SqliteStore::open(dir.path()).expect("open SQLite store");
            (Arc::new(s), Keep::Dir(dir))
        }
        Ok("postgres") => {
            let db = sightline_testkit::pg::TestDb::new("taxii");
            let s =
                sightline_store_postgres::PgStore::open(db.url()).expect("open PostgreSQL store");
            (Arc::new(s), Keep::Db(DropOffRuntime(Some(db))))
        }
        Ok("memory") | Err(_) => (Arc::new(MemoryStore::new()), Keep::Nothing),
        Ok(other) => {
            panic!("SIGHTLINE_TEST_BACKEND={other:?}: expected memory, sqlite or postgres")
        }
    }
}

fn coll(id: &str, title: &str, alias: Option<&str>) -> CollectionInfo {
    CollectionInfo {
        id: id.into(),
        title: title.into(),
        description: Some(format!("{title} collection")),
        alias: alias.map(Into::into),
        media_types: vec!["application/stix+json;version=2.1".into()],
    }
}

pub fn fixture() -> Fx {
    fixture_with(|_| {})
}

/// [`fixture`] with the TAXII settings changed by `configure`.
pub fn fixture_with(configure: impl FnOnce(&mut TaxiiConfig)) -> Fx {
    // On its own thread: tests call this inside a tokio runtime, where the
    // synchronous PostgreSQL client may not start its own.
    let (store, keep) = std::thread::spawn(backend).join().expect("backend setup");
    for c in [
        coll(PUBLIC, "Public", Some("public")),
        coll(INTEL, "Intel", Some("intel")),
        coll(DROPBOX, "Dropbox", None),
        coll(SECRET, "Secret", Some("secret")),
        coll(OTHER, "Other", None),
    ] {
        store.create_collection(&c).expect("create collection");
    }
    let config = TaxiiConfig {
        title: "Sightline test".into(),
        description: Some("test server".into()),
        contact: Some("soc@example.org".into()),
        default_api_root: Some("api1".into()),
        api_roots: vec![
            ApiRootConfig {
                path: "api1".into(),
                title: "API one".into(),
                description: None,
                max_content_length: MAX_CONTENT,
                collections: vec![PUBLIC.into(), INTEL.into(), DROPBOX.into(), SECRET.into()],
            },
            ApiRootConfig {
                path: "api2".into(),
                title: "API two".into(),
                description: Some("second root".into()),
                max_content_length: MAX_CONTENT,
                collections: vec![OTHER.into()],
            },
        ],
        default_page_size: DEFAULT_PAGE,
        max_page_size: MAX_PAGE,
        cursor_key: b"test cursor key".to_vec(),
        limits: Default::default(),
        discovery_requires_auth: false,
        pages: Default::default(),
    };
    let mut config = config;
    configure(&mut config);
    let state = AppState::new(
        store.clone(),
        Arc::new(Validator::new()),
        Arc::new(TestAuth),
        Arc::new(TestPolicy),
        Arc::new(config),
    );
    Fx {
        app: router(state),
        store,
        _keep: keep,
    }
}

/// `Authorization` for a test user (`None`: anonymous).
pub fn basic(user: &str) -> String {
    let pw = format!("{user}:{user}-pw");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pw)
    )
}

pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// An error response: a TAXII error message whose `http_status` is the status.
    pub fn assert_error(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.bytes)
        );
        let v = self.json();
        assert!(v["title"].is_string(), "error has a title: {v}");
        assert!(v["description"].is_string(), "error has a description: {v}");
        assert_eq!(v["http_status"], json!(status.to_string()));
        v
    }

    pub fn assert_ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.bytes)
        );
        if self.bytes.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// Sends one request; every response must carry the TAXII content type (§1.6.8).
pub async fn call(app: &Router, req: Request<Body>) -> Res {
    let resp = app.clone().oneshot(req).await.expect("infallible router");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some(TAXII_CONTENT_TYPE),
        "status {status}: every response has the TAXII media type"
    );
    Res {
        status,
        headers,
        bytes,
    }
}

pub fn builder(method: &str, uri: &str, user: Option<&str>) -> axum::http::request::Builder {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, TAXII);
    if let Some(u) = user {
        b = b.header(header::AUTHORIZATION, basic(u));
    }
    b
}

pub async fn get(app: &Router, uri: &str, user: Option<&str>) -> Res {
    call(
        app,
        builder("GET", uri, user)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

pub async fn delete(app: &Router, uri: &str, user: Option<&str>) -> Res {
    call(
        app,
        builder("DELETE", uri, user)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

pub async fn post(app: &Router, uri: &str, user: Option<&str>, body: &Value) -> Res {
    post_raw(app, uri, user, serde_json::to_vec(body).expect("json")).await
}

pub async fn post_raw(app: &Router, uri: &str, user: Option<&str>, body: Vec<u8>) -> Res {
    call(
        app,
        builder("POST", uri, user)
            .header(header::CONTENT_TYPE, TAXII)
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

pub fn objects_url(coll: &str) -> String {
    format!("/api1/collections/{coll}/objects/")
}

/// A deterministic UUIDv4-shaped id.
pub fn id(ty: &str, n: u64) -> String {
    format!("{ty}--6a1e5b3c-0000-4000-8000-{n:012x}")
}

/// A valid identity; `modified` picks the version (seconds after a base time).
pub fn identity(n: u64, version: u32) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": id("identity", n),
        "created": "2020-01-01T00:00:00.000Z",
        "modified": format!("2020-01-01T00:{:02}:{:02}.000Z", version / 60, version % 60),
        "name": format!("Org {n}"),
        "identity_class": "organization"
    })
}

/// A valid malware (a second type for match[type]).
pub fn malware(n: u64) -> Value {
    json!({
        "type": "malware",
        "spec_version": "2.1",
        "id": id("malware", n),
        "created": "2021-05-01T10:00:00.000Z",
        "modified": "2021-05-01T10:00:00.000Z",
        "name": format!("Malware {n}"),
        "is_family": false
    })
}

/// An SCO without created/modified (versioned by date_added here).
pub fn ipv4(n: u8) -> Value {
    json!({
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": format!("ipv4-addr--6a1e5b3c-0000-4000-8000-0000000000{n:02x}"),
        "value": format!("198.51.100.{n}")
    })
}

/// POSTs `objects` as bob (writer) and checks they all succeeded.
pub async fn add(app: &Router, coll: &str, objects: Vec<Value>) -> Value {
    let n = objects.len();
    let r = post(
        app,
        &objects_url(coll),
        Some("admin"),
        &json!({ "objects": objects }),
    )
    .await;
    let s = r.assert_ok(202);
    assert_eq!(s["success_count"], json!(n), "{s}");
    s
}

/// The ids of an envelope's objects, in order.
pub fn ids_of(envelope: &Value) -> Vec<String> {
    envelope["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
