//! In-process tests of `sightline_server::Server`: each starts a server on
//! 127.0.0.1 with a free port (port 0) over a memory store, on its own tokio
//! runtime thread, and talks to it with a blocking HTTP client.
//!
//! Real-binary tests (the CLI, SIGTERM) live in `crates/sightline/tests/it/serve.rs`.

mod access;
mod bad_input;
mod hygiene;
mod lifecycle;
mod limits;
mod sensor;
mod status;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_server::{Server, ServerConfig, ServerError, StoreAuthenticator};
use sightline_store::{CollectionInfo, MemoryStore, Store, User};
use sightline_testkit::config::OneCollection;
use sightline_testkit::http::{basic, client, TestCert};

/// A route that needs a signed-in caller: with no collection readable
/// anonymously, listing collections without credentials is 401 (TAXII 2.1 §5.1).
const COLLECTIONS: &str = "/api1/collections/";

struct Running {
    addr: SocketAddr,
    scheme: &'static str,
    auth: Arc<StoreAuthenticator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServerError>>>,
    _data: tempfile::TempDir,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// Signals shutdown and waits for `run` to return.
    fn stop(&mut self) -> Result<(), ServerError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().expect("server thread panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn config(data: &std::path::Path) -> ServerConfig {
    let mut c = ServerConfig::parse(
        &OneCollection {
            top: "listen = \"127.0.0.1:0\"\ndefault_api_root = \"api1\"",
            limits: "shutdown_grace_secs = 10",
            rights: "can_read = [\"group:analysts\"]\ncan_write = [\"slow\"]",
            ..Default::default()
        }
        .toml(),
    )
    .expect("config");
    c.data_dir = Some(data.to_owned());
    c
}

/// One API root `api1` holding collection c1 with the given rights (TOML
/// lines of `[collections.c1]`); `extra` goes at the top of the file.
fn c1_config(extra: &str, rights: &str) -> ServerConfig {
    ServerConfig::parse(
        &OneCollection {
            top: &format!("listen = \"127.0.0.1:0\"\n{extra}"),
            limits: "shutdown_grace_secs = 2",
            rights,
            ..Default::default()
        }
        .toml(),
    )
    .expect("config")
}

fn start_with(config: ServerConfig, store: Arc<dyn Store>) -> Result<Running, String> {
    start_with_validator(config, store, sightline_stix::Validator::new())
}

/// As [`start_with`], validating POSTed objects with `validator`.
fn start_with_validator(
    mut config: ServerConfig,
    store: Arc<dyn Store>,
    validator: sightline_stix::Validator,
) -> Result<Running, String> {
    let data = tempfile::tempdir().expect("temp dir");
    if config.data_dir.is_none() {
        config.data_dir = Some(data.path().to_owned());
    }
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let server = match Server::bind_with(config, store, validator).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return Ok(());
                }
            };
            let _ = ready_tx.send(Ok((
                server.local_addr(),
                server.scheme(),
                server.authenticator(),
            )));
            server
                .run(async move {
                    let _ = stop_rx.await;
                })
                .await
        })
    });
    let (addr, scheme, auth) = ready_rx.recv().expect("server thread")?;
    Ok(Running {
        addr,
        scheme,
        auth,
        stop: Some(stop_tx),
        thread: Some(thread),
        _data: data,
    })
}

fn start(store: Arc<dyn Store>) -> Running {
    let data = tempfile::tempdir().expect("temp dir");
    let c = config(data.path());
    let mut r = start_with(c, store).expect("start");
    r._data = data;
    r
}

/// Collection `c1` (served as /api1/ by [`config`] and [`c1_config`]).
fn c1() -> CollectionInfo {
    CollectionInfo {
        id: "6cd4b2c5-5f7e-4f3c-9d0b-3f5a7e9d1c21".into(),
        title: "C1".into(),
        description: None,
        alias: Some("c1".into()),
        media_types: vec!["application/stix+json;version=2.1".into()],
    }
}

/// A memory store with collection [`c1`].
fn store_with_c1() -> Arc<dyn Store> {
    let s: Arc<dyn Store> = Arc::new(MemoryStore::new());
    s.create_collection(&c1()).expect("collection");
    s
}

/// Identity `n` (STIX 2.1 §4.5), named `name`.
fn identity(n: u64, name: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": format!("identity--6a1e5b3c-0000-4000-8000-{n:012x}"),
        "created": "2020-01-01T00:00:00.000Z",
        "modified": "2020-01-01T00:00:00.000Z",
        "name": name,
        "identity_class": "organization"
    })
}

/// An envelope of one valid indicator and one object with no valid id: its
/// POST is accepted with one success and one failure (TAXII 2.1 §5.5).
fn one_good_one_bad() -> serde_json::Value {
    serde_json::json!({"objects": [{
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z"
    }, {"type": "indicator", "id": "not-an-id"}]})
}

fn store_with_bob() -> Arc<dyn Store> {
    let s = store_with_c1();
    sightline_server::add_user(
        s.as_ref(),
        "bob",
        "correct horse",
        vec!["analysts".into()],
        false,
    )
    .expect("add bob");
    s
}

/// TAXII 2.1 §1.6.8 / RFC 7235: no credentials → 401 with a Basic
/// challenge; the right ones → 200; argon2 runs once for many requests.
#[test]
fn basic_auth_and_credential_cache() {
    let s = start(store_with_bob());
    let c = client();
    let r = c.get(s.url(COLLECTIONS)).send().expect("request");
    assert_eq!(r.status(), 401);
    let challenge = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.starts_with("Basic"), "challenge {challenge:?}");
    let wrong = c
        .get(s.url(COLLECTIONS))
        .header("authorization", basic("bob", "wrong"))
        .send()
        .expect("request");
    assert_eq!(wrong.status(), 401);
    let before = s.auth.verifications();
    let t0 = Instant::now();
    for _ in 0..200 {
        let r = c
            .get(s.url(COLLECTIONS))
            .header("authorization", basic("bob", "correct horse"))
            .send()
            .expect("request");
        assert_eq!(r.status(), 200);
    }
    let per_request = t0.elapsed() / 200;
    assert_eq!(
        s.auth.verifications() - before,
        1,
        "200 requests with one credential cost one argon2 verification"
    );
    eprintln!("cached Basic auth: {per_request:?} per request (loopback, debug build)");
}

#[test]
fn bearer_token_and_revocation() {
    let store = store_with_bob();
    let t = sightline_server::create_token(store.as_ref(), "bob").expect("token");
    let s = start(store.clone());
    let c = client();
    let get = |h: &str| {
        c.get(s.url(COLLECTIONS))
            .header("authorization", h)
            .send()
            .expect("request")
            .status()
    };
    assert_eq!(get(&format!("Bearer {}", t.text)), 200);
    assert_eq!(get(&format!("Bearer {}x", t.text)), 401);
    assert_eq!(get("Bearer sl_0000_nothing"), 401);
    assert!(store.revoke_token(&t.id).expect("revoke"));
    // The cache notices the accounts change within GENERATION_CHECK.
    std::thread::sleep(sightline_server::auth::GENERATION_CHECK + Duration::from_millis(100));
    assert_eq!(get(&format!("Bearer {}", t.text)), 401);
    // Same for a removed user's cached Basic credential.
    assert_eq!(get(&basic("bob", "correct horse")), 200);
    assert!(store.remove_user("bob").expect("remove"));
    std::thread::sleep(sightline_server::auth::GENERATION_CHECK + Duration::from_millis(100));
    assert_eq!(get(&basic("bob", "correct horse")), 401);
}

/// A user whose hash takes long to verify makes a request that is still in
/// flight when shutdown starts; it must complete, and the server must stop.
#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let store = store_with_c1();
    store
        .add_user(&User {
            name: "slow".into(),
            password_hash: slow_hash("pw"),
            groups: vec![],
            admin: false,
        })
        .expect("add");
    let mut s = start(store);
    let url = s.url(COLLECTIONS);
    let inflight = std::thread::spawn(move || {
        let t0 = Instant::now();
        let r = client()
            .get(url)
            .header("authorization", basic("slow", "pw"))
            .send();
        (r.map(|r| r.status().as_u16()), t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(150));
    let t0 = Instant::now();
    s.stop().expect("clean shutdown");
    let stop_took = t0.elapsed();
    let (status, took) = inflight.join().expect("client thread");
    assert_eq!(status.expect("in-flight request answered"), 200);
    assert!(
        took > Duration::from_millis(150),
        "the request was in flight"
    );
    eprintln!("in-flight request took {took:?}; shutdown waited {stop_took:?}");
    // Nothing listens any more.
    assert!(std::net::TcpStream::connect(s.addr).is_err());
}

/// An argon2id hash costly enough (t = 40) that verifying takes a while.
fn slow_hash(pw: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(19 * 1024, 40, 1, None).expect("params");
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
    a.hash_password(pw.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

#[test]
fn refuses_plain_http_off_loopback() {
    let mut c = ServerConfig::parse("listen = \"0.0.0.0:0\"").expect("config");
    let err = start_with(c.clone(), Arc::new(MemoryStore::new()))
        .err()
        .expect("refused");
    assert!(err.contains("insecure-plain-http-on-network"), "{err}");
    assert!(err.contains("0.0.0.0:0"), "{err}");
    // The config names the same switch.
    c.insecure_plain_http_on_network = true;
    assert!(c.validate().is_ok());
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = TestCert::write(dir.path());
    let mut c = config(dir.path());
    c.tls = Some(sightline_server::TlsConfig {
        cert: cert.cert.clone(),
        key: cert.key.clone(),
    });
    let s = start_with(c, store_with_bob()).expect("start");
    assert_eq!(s.scheme, "https");
    let client = cert.client();
    let url = format!("https://localhost:{}{COLLECTIONS}", s.addr.port());
    let r = client
        .get(&url)
        .header("authorization", basic("bob", "correct horse"))
        .send()
        .expect("TLS request");
    assert_eq!(r.status(), 200);
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = client
        .get(format!("http://127.0.0.1:{}/healthz", s.addr.port()))
        .send();
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    // A missing key file is a clear error.
    let mut bad = config(dir.path());
    bad.tls = Some(sightline_server::TlsConfig {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("missing.pem"),
    });
    let err = start_with(bad, store_with_bob()).err().expect("refused");
    assert!(err.contains("missing.pem"), "{err}");
}

#[test]
fn healthz_metrics_and_request_ids() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut cfg = config(data.path());
    cfg.metrics_public = true;
    let s = start_with(cfg, store_with_bob()).expect("start");
    let c = client();
    let h = c.get(s.url("/healthz")).send().expect("healthz");
    assert_eq!(h.status(), 200);
    assert!(h.headers().contains_key("x-request-id"));
    let _ = c.get(s.url(COLLECTIONS)).send().expect("401");
    let m = c
        .get(s.url("/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("text");
    for want in [
        r#"http_requests_total{method="GET",route="/healthz",status="200"}"#,
        r#"http_requests_total{method="GET",route="/{root}/collections/",status="401"}"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.005"}"#,
        "# TYPE http_request_duration_seconds histogram",
    ] {
        assert!(m.contains(want), "missing {want} in\n{m}");
    }
}

#[test]
fn unknown_collections_in_config_are_refused() {
    let data = tempfile::tempdir().expect("dir");
    let mut c = ServerConfig::parse(
        "listen = \"127.0.0.1:0\"\n[[api_roots]]\npath = \"api1\"\ntitle = \"A\"\ncollections = [\"nope\"]",
    )
    .expect("config");
    c.data_dir = Some(data.path().to_owned());
    let err = start_with(c, Arc::new(MemoryStore::new()))
        .err()
        .expect("refused");
    assert!(
        err.contains("api_roots.api1") && err.contains("nope"),
        "{err}"
    );
}
