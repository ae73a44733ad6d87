//! The graph API through its router (issue 14 §2): every route for an
//! anonymous caller, a reader of one collection and an administrator, with
//! what each may see (the rule in the crate docs), bad parameters and bad
//! credentials, and the OpenAPI description against the routes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sightline_api::{openapi, router, ApiState};
use sightline_interchange::{import, ImportOptions, Input};
use sightline_stix::Validator;
use sightline_store::{CollectionInfo, MemoryStore, Store};
use sightline_taxii::{AccessPolicy, AuthError, Authenticator, Principal};
use tower::ServiceExt;

const T: &str = "2025-01-01T00:00:00.000Z";
const T2: &str = "2025-02-01T00:00:00.000Z";
const GROUP: &str = "intrusion-set--11111111-1111-4111-8111-111111111111";
const TECH: &str = "attack-pattern--55555555-5555-4555-8555-555555555555";
const INDICATOR: &str = "indicator--88888888-8888-4888-8888-888888888888";
const SECRET: &str = "identity--99999999-9999-4999-8999-999999999999";
const PUBLIC_C: &str = "6f0c6f4e-0000-4000-8000-000000000001";
/// An indicator in `secret`: bob may not read it.
const SECRET_INDICATOR: &str = "indicator--77777777-7777-4777-8777-777777777777";
const SIGHTING: &str = "sighting--cccccccc-cccc-4ccc-8ccc-cccccccccccc";
const SECRET_C: &str = "6f0c6f4e-0000-4000-8000-000000000002";

struct TestAuth;

impl Authenticator for TestAuth {
    fn authenticate(&self, h: Option<&str>) -> Result<Option<Principal>, AuthError> {
        let p = |name: &str, admin| {
            Ok(Some(Principal {
                name: name.into(),
                groups: vec![],
                admin,
            }))
        };
        match h {
            None => Ok(None),
            Some("Bearer admin") => p("admin", true),
            Some("Bearer alice") => p("alice", false),
            Some("Bearer bob") => p("bob", false),
            Some(_) => Err(AuthError::Invalid),
        }
    }
}

/// alice reads `public`; bob reads and writes it; nobody else but the admin
/// reads or writes anything.
struct TestPolicy;

impl AccessPolicy for TestPolicy {
    fn can_read(&self, who: Option<&Principal>, c: &str) -> bool {
        who.is_some_and(|p| p.admin || ((p.name == "alice" || p.name == "bob") && c == PUBLIC_C))
    }
    fn can_write(&self, who: Option<&Principal>, c: &str) -> bool {
        who.is_some_and(|p| p.admin || (p.name == "bob" && c == PUBLIC_C))
    }
}

fn rel(n: u32, ty: &str, src: &str, tgt: &str) -> Value {
    json!({"type": "relationship", "spec_version": "2.1",
        "id": format!("relationship--{n:08x}-0000-4000-8000-000000000000"),
        "created": T, "modified": T, "relationship_type": ty, "source_ref": src, "target_ref": tgt})
}

fn group(modified: &str, description: &str) -> Value {
    json!({"type": "intrusion-set", "spec_version": "2.1", "id": GROUP, "created": T,
        "modified": modified, "name": "Test Group", "description": description,
        "external_references": [{"source_name": "mitre-attack", "external_id": "G9999"}]})
}

fn load(store: &dyn Store, cid: &str, objects: Vec<Value>) {
    let input = Input {
        name: "b".into(),
        bytes: json!({"type": "bundle", "id": "bundle--0f6a3b7e-5d3c-4f0e-9f57-3f0b7d5e0c11", "objects": objects})
            .to_string()
            .into_bytes(),
    };
    let opts = ImportOptions {
        collection: Some(cid.into()),
        ..ImportOptions::default()
    };
    let r = import(store, &Validator::new(), &[input], &opts, &|_| {}).expect("import");
    assert!(r.rejections.is_empty(), "{:?}", r.rejections);
}

/// Drops its test database on a plain thread: the synchronous PostgreSQL
/// client may not run on a tokio runtime's thread.
struct DropOffRuntime(Option<sightline_testkit::pg::TestDb>);

impl Drop for DropOffRuntime {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = std::thread::spawn(move || drop(db)).join();
        }
    }
}

type Keep = Box<dyn std::any::Any + Send>;

/// The router over each backend (memory, SQLite, PostgreSQL through
/// `sightline_testkit::pg`), loaded alike, built on a plain thread (the
/// loading is synchronous); the third member keeps the backend's files or
/// database alive.
fn apps() -> Vec<(&'static str, Router, Keep)> {
    std::thread::spawn(|| {
        let dir = tempfile::tempdir().expect("dir");
        let sqlite = sightline_store_sqlite::SqliteStore::open(dir.path()).expect("sqlite");
        let db = sightline_testkit::pg::TestDb::new("api");
        let pg = sightline_store_postgres::PgStore::open(db.url()).expect("postgres");
        let stores: Vec<(&'static str, Arc<dyn Store>, Keep)> = vec![
            ("memory", Arc::new(MemoryStore::new()), Box::new(())),
            ("sqlite", Arc::new(sqlite), Box::new(dir)),
            ("postgres", Arc::new(pg), Box::new(DropOffRuntime(Some(db)))),
        ];
        stores
            .into_iter()
            .map(|(name, store, keep)| (name, app(store), keep))
            .collect()
    })
    .join()
    .expect("backends")
}

fn app(store: Arc<dyn Store>) -> Router {
    for (id, alias) in [(PUBLIC_C, "public"), (SECRET_C, "secret")] {
        store
            .create_collection(&CollectionInfo {
                id: id.into(),
                title: alias.into(),
                description: None,
                alias: Some(alias.into()),
                media_types: vec![],
            })
            .expect("collection");
    }
    load(
        &*store,
        PUBLIC_C,
        vec![
            group(T, "first"),
            json!({"type": "attack-pattern", "spec_version": "2.1", "id": TECH, "created": T,
                "modified": T, "name": "Phishing",
                "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
                "external_references": [{"source_name": "mitre-attack", "external_id": "T0001"}]}),
            json!({"type": "indicator", "spec_version": "2.1", "id": INDICATOR, "created": T,
                "modified": T, "name": "bad domain", "pattern": "[domain-name:value = 'x.example']",
                "pattern_type": "stix", "valid_from": T, "created_by_ref": SECRET}),
            json!({"type": "sighting", "spec_version": "2.1",
                "id": "sighting--cccccccc-cccc-4ccc-8ccc-cccccccccccc", "created": T, "modified": T,
                "sighting_of_ref": INDICATOR, "count": 3}),
            rel(1, "uses", GROUP, TECH),
            // Cites G9999 without being it.
            json!({"type": "campaign", "spec_version": "2.1",
                "id": "campaign--33333333-3333-4333-8333-333333333333", "created": T, "modified": T,
                "name": "Operation Test",
                "external_references": [{"source_name": "mitre-attack", "external_id": "G9999",
                    "description": "attributed to the group"}]}),
            rel(2, "indicates", INDICATOR, GROUP),
        ],
    );
    // A second version, to see a diff.
    load(&*store, PUBLIC_C, vec![group(T2, "second")]);
    load(
        &*store,
        SECRET_C,
        vec![
            json!({"type": "identity", "spec_version": "2.1", "id": SECRET, "created": T,
                "modified": T, "name": "Hidden Victim", "identity_class": "organization"}),
            rel(9, "targets", GROUP, SECRET),
            json!({"type": "indicator", "spec_version": "2.1", "id": SECRET_INDICATOR, "created": T,
                "modified": T, "pattern": "[ipv4-addr:value = '198.51.100.7']",
                "pattern_type": "stix", "valid_from": T}),
        ],
    );
    router(ApiState::new(
        store,
        Arc::new(TestAuth),
        Arc::new(TestPolicy),
    ))
}

/// [`app`] with a `[lifecycle]` section and a local warninglist directory.
fn app_with_lifecycle(
    store: Arc<dyn Store>,
    config: &sightline_lifecycle::LifecycleConfig,
    lists: &std::path::Path,
) -> Router {
    let plain = app(store.clone());
    drop(plain);
    let lifecycle =
        sightline_api::Lifecycle::new(config, Some(lists.to_owned())).expect("lifecycle");
    router(
        ApiState::new(store, Arc::new(TestAuth), Arc::new(TestPolicy))
            .with_lifecycle(Arc::new(lifecycle)),
    )
}

/// Per backend, the router with a domain rule that never decays in the
/// tests' lifetime (`forever`), and its warninglist directory.
fn lifecycle_apps() -> Vec<(&'static str, Router, Keep)> {
    std::thread::spawn(|| {
        let dir = tempfile::tempdir().expect("dir");
        let sqlite = sightline_store_sqlite::SqliteStore::open(dir.path()).expect("sqlite");
        let db = sightline_testkit::pg::TestDb::new("api_verdicts");
        let pg = sightline_store_postgres::PgStore::open(db.url()).expect("postgres");
        let stores: Vec<(&'static str, Arc<dyn Store>, Keep)> = vec![
            ("memory", Arc::new(MemoryStore::new()), Box::new(())),
            ("sqlite", Arc::new(sqlite), Box::new(dir)),
            ("postgres", Arc::new(pg), Box::new(DropOffRuntime(Some(db)))),
        ];
        let mut config = sightline_lifecycle::LifecycleConfig::default();
        config.rules.insert(
            0,
            sightline_lifecycle::DecayRule {
                name: "forever".into(),
                types: vec!["domain-name".into()],
                lifetime_days: 1_000_000.0,
                speed: 1.0,
            },
        );
        stores
            .into_iter()
            .map(|(name, store, keep)| {
                let lists = tempfile::tempdir().expect("lists");
                let app = app_with_lifecycle(store, &config, lists.path());
                (name, app, Box::new((keep, lists)) as Keep)
            })
            .collect()
    })
    .join()
    .expect("backends")
}

async fn post(app: &Router, uri: &str, who: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut b = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(w) = who {
        b = b.header("authorization", format!("Bearer {w}"));
    }
    let resp = app
        .clone()
        .oneshot(b.body(Body::from(body.to_owned())).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn get(
    app: &Router,
    uri: &str,
    who: Option<&str>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let mut b = Request::builder().uri(uri);
    if let Some(w) = who {
        b = b.header("authorization", format!("Bearer {w}"));
    }
    let resp = app
        .clone()
        .oneshot(b.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v, headers)
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn object_versions_diff_and_counts_per_caller() {
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend}");
        let uri = format!("/api/v1/objects/{GROUP}");
        // Anonymous may read nothing: the object is not found, as if absent.
        let (s, v, _) = get(&app, &uri, None).await;
        assert_eq!(s, 404, "{v}");
        assert_eq!(v["error"]["status"], 404);
        let (s, v, _) = get(&app, &uri, Some("alice")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["object"]["description"], "second", "latest version");
        let versions = v["versions"].as_array().expect("versions");
        assert_eq!(versions.len(), 2);
        assert_eq!(
            versions[1]["changes"]["changed"]["description"],
            json!({"from": "first", "to": "second"})
        );
        assert_eq!(versions[1]["changes"]["changed"]["modified"]["to"], T2);
        assert_eq!(v["external_references"][0]["external_id"], "G9999");
        let counts = v["relationship_counts"].to_string();
        assert!(
            counts.contains("\"uses\"") && counts.contains("\"indicates\""),
            "{counts}"
        );
        assert!(
            !counts.contains("targets"),
            "the secret relationship is not counted for alice: {counts}"
        );
        let (_, v, _) = get(&app, &uri, Some("admin")).await;
        assert!(
            v["relationship_counts"].to_string().contains("targets"),
            "{v}"
        );
        // By external id too.
        let (s, v, _) = get(&app, "/api/v1/objects/G9999", Some("alice")).await;
        assert_eq!((s, v["id"].as_str()), (StatusCode::OK, Some(GROUP)));
        // The secret object: not found for alice, there for the admin.
        let (s, _, _) = get(&app, &format!("/api/v1/objects/{SECRET}"), Some("alice")).await;
        assert_eq!(s, 404);
        let (s, v, _) = get(&app, &format!("/api/v1/objects/{SECRET}"), Some("admin")).await;
        assert_eq!(
            (s, v["object"]["name"].as_str()),
            (StatusCode::OK, Some("Hidden Victim"))
        );
    }
}

#[tokio::test]
async fn the_raw_object_is_served_as_received() {
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend}");
        let (_, v, _) = get(&app, &format!("/api/v1/objects/{TECH}"), Some("alice")).await;
        assert_eq!(
            v["object"]["kill_chain_phases"][0]["phase_name"],
            "initial-access"
        );
        assert_eq!(v["type"], "attack-pattern");
    }
}

#[tokio::test]
async fn relationships_hide_what_the_caller_may_not_read() {
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend}");
        let uri = format!("/api/v1/objects/{GROUP}/relationships");
        let (s, v, _) = get(&app, &uri, Some("alice")).await;
        assert_eq!(s, 200, "{v}");
        let text = v.to_string();
        assert!(text.contains(TECH) && text.contains("Phishing"), "{text}");
        assert!(
            !text.contains(SECRET),
            "the targets relationship is in secret: {text}"
        );
        let (_, v, _) = get(&app, &uri, Some("admin")).await;
        assert!(v.to_string().contains("Hidden Victim"), "{v}");
        // An embedded reference to an unreadable object: its id, no name.
        let (_, v, _) = get(
            &app,
            &format!("/api/v1/objects/{INDICATOR}/relationships?direction=out"),
            Some("alice"),
        )
        .await;
        let created_by = v["neighbours"]
            .as_array()
            .and_then(|a| a.iter().find(|n| n["id"] == SECRET))
            .cloned()
            .expect("created_by_ref shown");
        assert_eq!(created_by["presence"], "missing", "{created_by}");
        assert!(
            created_by.get("name").is_none_or(Value::is_null),
            "{created_by}"
        );
        // An indicator's sightings.
        assert_eq!(v["sightings"][0]["count"], 3, "{v}");
        // Filters.
        let (_, v, _) = get(
            &app,
            &format!("{uri}?direction=out&type=uses"),
            Some("admin"),
        )
        .await;
        let ids: Vec<&str> = v["neighbours"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|n| n["id"].as_str())
            .collect();
        assert_eq!(ids, vec![TECH]);
        let (s, v, _) = get(&app, &format!("{uri}?direction=up"), Some("alice")).await;
        assert_eq!(s, 400, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("direction"),
            "{v}"
        );
    }
}

#[tokio::test]
async fn graph_and_matrix() {
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend}");
        let (s, v, _) = get(
            &app,
            &format!("/api/v1/graph?seed={GROUP}&depth=2"),
            Some("alice"),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["truncated"], false);
        assert!(!v.to_string().contains("Hidden Victim"), "{v}");
        let (_, v, _) = get(
            &app,
            &format!("/api/v1/graph?seed={GROUP}&depth=2&limit=2"),
            Some("admin"),
        )
        .await;
        assert_eq!(v["truncated"], true, "{v}");
        assert_eq!(v["nodes"].as_array().map(Vec::len), Some(2));
        for bad in ["depth=4", "depth=x", "limit=0", "limit=5000"] {
            let (s, v, _) = get(
                &app,
                &format!("/api/v1/graph?seed={GROUP}&{bad}"),
                Some("alice"),
            )
            .await;
            assert_eq!(s, 400, "{bad}: {v}");
        }
        let (s, _, _) = get(&app, "/api/v1/graph", Some("alice")).await;
        assert_eq!(s, 400, "seed is required");
        let (s, v, _) = get(
            &app,
            &format!("/api/v1/attack-matrix?subject={GROUP}"),
            Some("alice"),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert!(
            v.to_string().contains("initial-access") && v.to_string().contains("Phishing"),
            "{v}"
        );
        let (s, _, _) = get(
            &app,
            &format!("/api/v1/attack-matrix?subject={SECRET}"),
            Some("alice"),
        )
        .await;
        assert_eq!(s, 404);
    }
}

#[tokio::test]
async fn search_facets_paging_and_visibility() {
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend}");
        let (s, v, _) = get(&app, "/api/v1/search?q=Hidden", Some("alice")).await;
        assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(0)), "{v}");
        let (_, v, _) = get(&app, "/api/v1/search?q=Hidden", Some("admin")).await;
        assert_eq!(names(&v, "results"), vec!["Hidden Victim"]);
        // An external id finds its object first.
        let (_, v, _) = get(&app, "/api/v1/search?q=T0001", Some("alice")).await;
        assert_eq!(v["results"][0]["id"], TECH, "{v}");
        // Facets, a type filter, and keyset pages of one.
        let (_, v, _) = get(&app, "/api/v1/search?q=Test%20Group&limit=1", Some("admin")).await;
        assert!(v["facets"]["intrusion-set"].as_u64() >= Some(1), "{v}");
        let (s, _, _) = get(&app, "/api/v1/search?q=", Some("alice")).await;
        assert_eq!(s, 400);
        let (s, _, _) = get(&app, "/api/v1/search?q=x&cursor=nope", Some("alice")).await;
        assert_eq!(s, 400);
    }
}

#[tokio::test]
async fn refused_credentials_are_401_with_a_challenge() {
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend}");
        let (s, v, h) = get(&app, &format!("/api/v1/objects/{GROUP}"), Some("mallory")).await;
        assert_eq!(s, 401, "{v}");
        assert!(h.get("www-authenticate").is_some());
    }
}

/// The OpenAPI document lists exactly the routes: each one answers (not the
/// router's bare 404), and the document's paths are [`openapi::ROUTES`].
#[tokio::test]
async fn openapi_matches_the_routes() {
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend}");
        let (s, doc, _) = get(&app, "/api/v1/openapi.json", None).await;
        assert_eq!(s, 200);
        assert_eq!(doc["openapi"], "3.1.0");
        let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
        assert_eq!(paths.len(), openapi::ROUTES.len());
        for r in openapi::ROUTES {
            assert!(doc["paths"][r.path].get(r.method).is_some(), "{}", r.path);
            let uri = r.path.replace("{id}", GROUP);
            let (s, v) = match r.method {
                "get" => {
                    let (s, v, _) = get(&app, &uri, Some("admin")).await;
                    (s, v)
                }
                _ => post(&app, &uri, Some("admin"), "{}").await,
            };
            // A missing required parameter is a JSON 400; never the bare 404 of
            // a path the router does not have.
            assert!(
                s == 200 || (s == 400 && v["error"].is_object()),
                "{uri}: {s} {v}"
            );
        }
        let (s, v, _) = get(&app, "/api/v1/nope", Some("admin")).await;
        assert_eq!(
            (s, v),
            (StatusCode::NOT_FOUND, Value::Null),
            "unknown paths are not in the API"
        );
    }
}

/// Issue 16 §1: an indicator's effective score beside the object (never
/// inside it), scored with the server's `[lifecycle]` rules; search hits of
/// indicators carry its state.
#[tokio::test]
async fn an_indicator_carries_its_score_beside_the_object() {
    for (backend, app, _keep) in lifecycle_apps() {
        eprintln!("checking {backend}");
        let (s, v, _) = get(&app, &format!("/api/v1/objects/{INDICATOR}"), Some("alice")).await;
        assert_eq!(s, 200, "{v}");
        let score = &v["x_sightline_score"];
        // No confidence: base 50; the configured rule barely decays.
        assert_eq!(score["rule"], "forever", "{v}");
        assert_eq!(score["state"], "active", "{v}");
        assert_eq!(score["rounded"], 50, "{v}");
        assert_eq!(score["reason"], "decay", "{v}");
        assert_eq!(score["verdicts"], 0, "{v}");
        assert!(v["object"].get("x_sightline_score").is_none(), "{v}");
        // Other objects have none.
        let (_, v, _) = get(&app, &format!("/api/v1/objects/{GROUP}"), Some("alice")).await;
        assert!(v.get("x_sightline_score").is_none(), "{v}");
        let (_, v, _) = get(&app, "/api/v1/search?q=bad%20domain", Some("alice")).await;
        let hit = v["results"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["id"] == INDICATOR))
            .cloned()
            .expect("indicator found");
        assert_eq!(hit["score_state"], "active", "{v}");
    }
    // The built-in rules: a domain from 2025-01-01 has decayed out (300 days).
    for (backend, app, _keep) in apps() {
        eprintln!("checking {backend} (built-in rules)");
        let (_, v, _) = get(&app, &format!("/api/v1/objects/{INDICATOR}"), Some("alice")).await;
        assert_eq!(v["x_sightline_score"]["rule"], "domain-and-url", "{v}");
        assert_eq!(v["x_sightline_score"]["state"], "revoked", "{v}");
    }
}

/// Issue 16 §2 and §4: `POST /api/v1/verdicts` as the signed-in analyst,
/// only for a caller who may write a collection holding the indicator and
/// read the target; bad input names the field and writes nothing.
#[tokio::test]
async fn verdicts_are_recorded_for_writers_only() {
    for (backend, app, _keep) in lifecycle_apps() {
        eprintln!("checking {backend}");
        let uri = "/api/v1/verdicts";
        let count = |v: &Value| v["x_sightline_score"]["verdicts"].as_u64();
        let ind = format!("/api/v1/objects/{INDICATOR}");
        let body = |target: &str, verdict: &str| {
            json!({"target": target, "verdict": verdict, "note": "seen in the proxy log"})
                .to_string()
        };
        // Anonymous: 401; a reader: 403; nothing written.
        let (s, v) = post(&app, uri, None, &body(SIGHTING, "false-positive")).await;
        assert_eq!(s, 401, "{v}");
        let (s, v) = post(&app, uri, Some("alice"), &body(SIGHTING, "false-positive")).await;
        assert_eq!(s, 403, "{v}");
        assert_eq!(v["error"]["status"], 403, "{v}");
        // What bob may not read is absent, exactly like an unknown id.
        let (s, unreadable) = post(&app, uri, Some("bob"), &body(SECRET_INDICATOR, "benign")).await;
        assert_eq!(s, 404, "{unreadable}");
        assert_eq!(
            unreadable["error"]["message"],
            format!("target: no object {SECRET_INDICATOR} that you may read"),
            "{unreadable}"
        );
        let unknown = "indicator--00000000-0000-4000-8000-000000000000";
        let (s, v) = post(&app, uri, Some("bob"), &body(unknown, "benign")).await;
        assert_eq!(s, 404, "{v}");
        // The same answer, but for the id.
        assert_eq!(
            v.to_string().replace(unknown, SECRET_INDICATOR),
            unreadable.to_string()
        );
        // Bad input: a 400 naming the field.
        let huge = json!({"target": SIGHTING, "verdict": "benign", "note": "x".repeat(10_001)});
        for (bad, field) in [
            (body(SIGHTING, "maybe"), "verdict"),
            (body("not-an-id", "benign"), "target"),
            (body(GROUP, "benign"), "target"),
            (huge.to_string(), "note"),
            ("{\"target\": 1}".to_owned(), "body"),
            ("not json".to_owned(), "body"),
            (
                json!({"target": SIGHTING, "verdict": "true-positive", "warninglist": true})
                    .to_string(),
                "warninglist",
            ),
        ] {
            let (s, v) = post(&app, uri, Some("bob"), &bad).await;
            assert_eq!(s, 400, "{field}: {v}");
            let m = v["error"]["message"].as_str().unwrap_or("");
            assert!(m.starts_with(&format!("{field}:")), "{field}: {m}");
        }
        let (s, v) = post(&app, uri, Some("bob"), &"x".repeat(100_000)).await;
        assert_eq!(s, 413, "{v}");
        let (_, v, _) = get(&app, &ind, Some("admin")).await;
        assert_eq!(count(&v), Some(0), "nothing written: {v}");
        // bob's false positive on the sighting: into `public`, the indicator
        // revoked at once.
        let (s, v) = post(&app, uri, Some("bob"), &body(SIGHTING, "false-positive")).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["collection"], PUBLIC_C, "{v}");
        assert_eq!(v["indicator"], INDICATOR, "{v}");
        assert_eq!(v["sighting"], SIGHTING, "{v}");
        assert_eq!(v["x_sightline_score"]["state"], "revoked", "{v}");
        let opinion = v["opinion"].as_str().expect("opinion id").to_owned();
        let (s, o, _) = get(&app, &format!("/api/v1/objects/{opinion}"), Some("alice")).await;
        assert_eq!(s, 200, "alice reads the opinion in public: {o}");
        assert_eq!(o["object"]["authors"], json!(["bob"]), "{o}");
        assert_eq!(o["object"]["explanation"], "seen in the proxy log", "{o}");
        assert_eq!(
            o["object"]["object_refs"],
            json!([SIGHTING, INDICATOR]),
            "{o}"
        );
        let (_, v, _) = get(&app, &ind, Some("alice")).await;
        assert_eq!(
            v["x_sightline_score"]["reason"], "verdict: false-positive",
            "{v}"
        );
        assert!(v["x_sightline_score"].get("conflict").is_none(), "{v}");
        // The admin disagrees: both kept, the latest in force, a conflict.
        let (s, v) = post(&app, uri, Some("admin"), &body(INDICATOR, "true-positive")).await;
        assert_eq!(s, 201, "{v}");
        let (_, v, _) = get(&app, &ind, Some("alice")).await;
        assert_eq!(count(&v), Some(2), "{v}");
        assert_eq!(v["x_sightline_score"]["conflict"], true, "{v}");
        assert_eq!(v["x_sightline_score"]["state"], "active", "{v}");
    }
}

/// Issue 16 §2: a benign verdict with `warninglist` adds the indicator's
/// value to the local list `match` loads; one without a single value is
/// refused and writes nothing.
#[tokio::test]
async fn a_verdict_can_add_the_value_to_the_local_warninglist() {
    for (backend, app, keep) in lifecycle_apps() {
        eprintln!("checking {backend}");
        let lists = keep
            .downcast_ref::<(Keep, tempfile::TempDir)>()
            .expect("dirs")
            .1
            .path()
            .join(sightline_lifecycle::verdict::LOCAL_LIST_FILE);
        // The sighting holds no observed-data: no value stands for it.
        let (s, v) = post(
            &app,
            "/api/v1/verdicts",
            Some("bob"),
            &json!({"target": SIGHTING, "verdict": "benign", "warninglist": true}).to_string(),
        )
        .await;
        assert_eq!(s, 400, "{v}");
        assert!(!lists.exists());
        let (_, v, _) = get(&app, &format!("/api/v1/objects/{INDICATOR}"), Some("bob")).await;
        assert_eq!(
            v["x_sightline_score"]["verdicts"], 0,
            "nothing written: {v}"
        );
        let (s, v) = post(
            &app,
            "/api/v1/verdicts",
            Some("bob"),
            &json!({"target": INDICATOR, "verdict": "benign", "warninglist": true}).to_string(),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["warninglist_added"], json!(["x.example"]), "{v}");
        let list = std::fs::read_to_string(&lists).expect("list written");
        let list = sightline_warninglist::WarningList::from_json(&list).expect("a warninglist");
        assert_eq!(list.list, vec!["x.example".to_owned()]);
    }
}

/// Search pages score their indicators in one batch
/// (`sightline_api::verdict::states`): the states are those the one-by-one
/// path (`readable_versions(..).last()` and `verdict::score`) gives, for an
/// administrator and for a reader who sees an older version, with sightings
/// (trusted and not) and verdicts (false positive, true positive, two
/// analysts), on every backend (issue 16 §1).
#[test]
fn search_page_states_are_the_one_by_one_scores() {
    use sightline_lifecycle::{verdict as lv, Verdict};
    use std::collections::{BTreeSet, HashMap};
    let now = sightline_store::now_micros();
    let day = 86_400_000_000i64;
    let at = |days_ago: i64| sightline_stix::format_micros(now - days_ago * day);
    let sensor = "identity--5e5e5e5e-0000-4000-8000-000000000001";
    let ind = |n: u32, value: &str, days_ago: i64, extra: Value| {
        let mut v = json!({"type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--{n:08x}-1111-4111-8111-111111111111"),
            "created": at(days_ago), "modified": at(days_ago), "name": format!("I{n}"),
            "pattern": format!("[ipv4-addr:value = '{value}']"), "pattern_type": "stix",
            "valid_from": at(days_ago), "confidence": 80});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    let sighting = |n: u32, of: &Value, days_ago: i64, trusted: bool| {
        let mut s = json!({"type": "sighting", "spec_version": "2.1",
            "id": format!("sighting--{n:08x}-2222-4222-8222-222222222222"),
            "created": at(days_ago), "modified": at(days_ago),
            "sighting_of_ref": of["id"], "first_seen": at(days_ago), "last_seen": at(days_ago),
            "count": 1});
        if trusted {
            s["where_sighted_refs"] = json!([sensor]);
        }
        s
    };
    // Fresh; old and renewed by a trusted sighting; old with an untrusted
    // one; judged false (then true by another analyst); judged benign.
    let fresh = ind(1, "198.51.100.1", 1, json!({}));
    let renewed = ind(2, "198.51.100.2", 60, json!({}));
    let stale = ind(3, "198.51.100.3", 60, json!({}));
    let judged = ind(4, "198.51.100.4", 2, json!({}));
    let benign = ind(5, "198.51.100.5", 2, json!({}));
    // v1 readable by alice; v2, revoked, only in `secret`.
    let two = ind(6, "198.51.100.6", 3, json!({}));
    let mut two_v2 = two.clone();
    two_v2["modified"] = json!(at(1));
    two_v2["revoked"] = json!(true);
    let all = [&fresh, &renewed, &stale, &judged, &benign, &two];
    let ids: Vec<String> = all
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let config = sightline_lifecycle::LifecycleConfig {
        trusted_sensors: vec![sensor.into()],
        ..Default::default()
    };
    let lifecycle = sightline_api::Lifecycle::new(&config, None).expect("lifecycle");
    // A plain thread: the PostgreSQL client is synchronous.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let dir = tempfile::tempdir().expect("dir");
                let db = sightline_testkit::pg::TestDb::new("api_states");
                let stores: Vec<(&str, Arc<dyn Store>)> = vec![
                    ("memory", Arc::new(MemoryStore::new())),
                    (
                        "sqlite",
                        Arc::new(
                            sightline_store_sqlite::SqliteStore::open(dir.path()).expect("sqlite"),
                        ),
                    ),
                    (
                        "postgres",
                        Arc::new(sightline_store_postgres::PgStore::open(db.url()).expect("pg")),
                    ),
                ];
                for (backend, store) in stores {
                    for (id, alias) in [(PUBLIC_C, "public"), (SECRET_C, "secret")] {
                        store
                            .create_collection(&CollectionInfo {
                                id: id.into(),
                                title: alias.into(),
                                description: None,
                                alias: Some(alias.into()),
                                media_types: vec![],
                            })
                            .expect("collection");
                    }
                    let mut objects: Vec<Value> = all.iter().map(|v| (*v).clone()).collect();
                    objects.extend([
                        sighting(1, &renewed, 1, true),
                        sighting(2, &stale, 1, false),
                        sighting(3, &judged, 1, true),
                    ]);
                    load(store.as_ref(), PUBLIC_C, objects);
                    load(store.as_ref(), SECRET_C, vec![two_v2.clone()]);
                    let id_of = |v: &Value| v["id"].as_str().unwrap_or_default().to_owned();
                    for (target, verdict, analyst) in [
                        (id_of(&judged), Verdict::FalsePositive, "ann"),
                        (id_of(&benign), Verdict::Benign, "ann"),
                        (id_of(&benign), Verdict::TruePositive, "bo"),
                    ] {
                        lv::record(
                            store.as_ref(),
                            PUBLIC_C,
                            &target,
                            verdict,
                            analyst,
                            None,
                            now,
                        )
                        .expect("verdict");
                    }
                    let public: BTreeSet<String> = [PUBLIC_C.to_owned()].into();
                    for readable in [None, Some(&public)] {
                        let batched = sightline_api::verdict::states(
                            store.as_ref(),
                            &lifecycle,
                            readable,
                            &ids,
                        )
                        .expect("states");
                        let mut one_by_one = HashMap::new();
                        for id in &ids {
                            let versions =
                                sightline_api::readable_versions(store.as_ref(), id, readable)
                                    .expect("versions");
                            let latest = versions.last().expect("a readable version");
                            let score = sightline_api::verdict::score(
                                store.as_ref(),
                                &lifecycle,
                                &latest.raw,
                            )
                            .expect("score")
                            .expect("an indicator");
                            one_by_one.insert(
                                id.clone(),
                                score["state"].as_str().unwrap_or("").to_owned(),
                            );
                        }
                        assert_eq!(batched, one_by_one, "{backend}, readable {readable:?}");
                        // The fixtures reach every state.
                        let states: BTreeSet<&str> = batched.values().map(String::as_str).collect();
                        assert!(
                            states.contains("active") && states.contains("revoked"),
                            "{backend}: {batched:?}"
                        );
                        let two_state = batched.get(&id_of(&two)).map(String::as_str);
                        assert_eq!(
                            two_state,
                            Some(if readable.is_none() {
                                "revoked"
                            } else {
                                "active"
                            }),
                            "{backend}: the caller's latest version"
                        );
                    }
                }
                drop(db);
            })
            .join()
            .expect("backends")
    });
}
