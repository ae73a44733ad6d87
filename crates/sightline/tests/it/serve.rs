//! Real-binary tests of `sightline serve` and the account commands: each
//! test runs the built binary on 127.0.0.1 with a free port (`--listen
//! 127.0.0.1:0`, the port read from the `listening on URL` line), waits with
//! `sightline healthcheck`, talks HTTP with a blocking client, and stops the
//! server with SIGTERM.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{basic, client, ok, Serve, TAXII as ACCEPT};
use sightline_store::AccountStore;
use sightline_testkit::config::OneCollection;
use sightline_testkit::http::TestCert;

fn sightline(data: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    common::sightline(&common::data(data), args, stdin)
}

fn serve(data: &Path, args: &[&str]) -> Serve {
    Serve::start(&common::data(data), args, Stdio::inherit())
}

/// A data dir with collection `c1`, user `bob` (group analysts) and a config
/// serving c1 under /api1/ readable by the group.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    ok(&sightline(&data, &["collection", "add", "c1"], None));
    ok(&sightline(
        &data,
        &[
            "user",
            "add",
            "bob",
            "--group",
            "analysts",
            "--password-stdin",
        ],
        Some("correct horse\n"),
    ));
    let config = dir.path().join("sightline.toml");
    std::fs::write(
        &config,
        OneCollection {
            // The tests read counters from /metrics without credentials.
            top: "default_api_root = \"api1\"\nmetrics_public = true",
            rights: "can_read = [\"group:analysts\"]\ncan_write = [\"slow\"]",
            ..Default::default()
        }
        .toml(),
    )
    .expect("config");
    (dir, config)
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// 401 + challenge without credentials; Basic; the credential cache (one
/// argon2 run for many requests, read from /metrics); tokens and revocation;
/// user commands; a clean exit on SIGTERM.
#[test]
fn auth_cache_tokens_metrics_and_users() {
    let (dir, config) = setup();
    let data = dir.path().join("data");
    let mut s = serve(&data, &["--config", config.to_str().expect("utf-8")]);
    let c = client();
    let r = c.get(s.url("/api1/collections/")).send().expect("request");
    assert_eq!(r.status(), 401);
    assert!(r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic")));
    let metrics = || {
        c.get(s.url("/metrics"))
            .send()
            .expect("metrics")
            .text()
            .expect("text")
    };
    let collections = |pw: &str| {
        c.get(s.url("/api1/collections/"))
            .header("authorization", basic("bob", pw))
            .send()
            .expect("request")
            .status()
    };
    const VERIFIED: &str = "sightline_password_verifications_total";
    let before = metric(&metrics(), VERIFIED);
    let t0 = Instant::now();
    for _ in 0..100 {
        assert_eq!(collections("correct horse"), 200);
    }
    eprintln!("100 Basic-auth requests: {:?}", t0.elapsed());
    let m = metrics();
    assert_eq!(
        metric(&m, VERIFIED) - before,
        1.0,
        "one argon2 verification for 100 requests"
    );
    // A client stuck on a stale password: refused every time, verified once.
    for _ in 0..20 {
        assert_eq!(collections("stale horse"), 401);
    }
    assert_eq!(
        metric(&metrics(), VERIFIED) - metric(&m, VERIFIED),
        1.0,
        "one argon2 verification for 20 refusals of one header"
    );
    assert!(
        m.contains(
            r#"http_requests_total{method="GET",route="/{root}/collections/",status="200"}"#
        ),
        "{m}"
    );
    assert!(m.contains("http_request_duration_seconds_bucket"));

    let token = ok(&sightline(&data, &["token", "create", "bob"], None));
    let token = token.trim();
    assert!(token.starts_with("sl_"));
    let bearer = |t: &str| {
        c.get(s.url("/api1/collections/"))
            .header("authorization", format!("Bearer {t}"))
            .send()
            .expect("request")
            .status()
    };
    assert_eq!(bearer(token), 200);
    let list = ok(&sightline(&data, &["token", "list"], None));
    let id = list.split('\t').next().expect("token id").to_owned();
    assert!(
        !list.contains(&token[3 + id.len() + 1..]),
        "token list never shows the secret"
    );
    ok(&sightline(&data, &["token", "revoke", &id], None));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        bearer(token),
        401,
        "a revoked token stops working within a second"
    );

    let users = ok(&sightline(&data, &["user", "list"], None));
    assert_eq!(users, "bob\t-\tanalysts\n");
    let dup = sightline(
        &data,
        &["user", "add", "bob", "--password-stdin"],
        Some("x\n"),
    );
    assert!(!dup.status.success());
    ok(&sightline(&data, &["user", "remove", "bob"], None));
    assert_eq!(
        sightline(&data, &["user", "remove", "bob"], None)
            .status
            .code(),
        Some(1)
    );
    std::thread::sleep(Duration::from_millis(1200));
    let r = c
        .get(s.url("/api1/collections/"))
        .header("authorization", basic("bob", "correct horse"))
        .send()
        .expect("request");
    assert_eq!(
        r.status(),
        401,
        "a removed user's cached credential is dropped"
    );

    let st = s.terminate();
    assert!(st.success(), "exit status after SIGTERM: {st}");
}

/// SIGTERM while a request is in flight (a user whose password hash takes a
/// while to verify): the request completes with 200, then the server exits 0.
#[test]
fn sigterm_finishes_in_flight_requests() {
    let (dir, config) = setup();
    let data = dir.path().join("data");
    {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let params = argon2::Params::new(19 * 1024, 40, 1, None).expect("params");
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let hash = a.hash_password(b"pw", &salt).expect("hash").to_string();
        let store = sightline_store_sqlite::SqliteStore::open(&data).expect("store");
        store
            .add_user(&sightline_store::User {
                name: "slow".into(),
                password_hash: hash,
                groups: vec![],
                admin: false,
            })
            .expect("add slow");
    }
    let mut s = serve(&data, &["--config", config.to_str().expect("utf-8")]);
    let url = s.url("/api1/collections/");
    let inflight = std::thread::spawn(move || {
        let t0 = Instant::now();
        let r = client()
            .get(url)
            .header("authorization", basic("slow", "pw"))
            .send()
            .map(|r| r.status().as_u16());
        (r, t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    let st = s.terminate();
    let stop = t0.elapsed();
    let (status, took) = inflight.join().expect("client");
    assert_eq!(status.expect("answered"), 200);
    assert!(st.success(), "exit status {st}");
    eprintln!("in-flight request took {took:?}; exit {stop:?} after SIGTERM");
    assert!(
        took > Duration::from_millis(100),
        "the request was in flight at SIGTERM"
    );
}

#[test]
fn refuses_plain_http_off_loopback() {
    let dir = tempfile::tempdir().expect("dir");
    let out = sightline(dir.path(), &["serve", "--listen", "0.0.0.0:0"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--insecure-plain-http-on-network"), "{err}");
    assert!(err.contains("--tls-cert"), "{err}");
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let (dir, config) = setup();
    let data = dir.path().join("data");
    let cert = TestCert::write(dir.path());
    let mut s = serve(
        &data,
        &[
            "--config",
            config.to_str().expect("utf-8"),
            "--tls-cert",
            cert.cert.to_str().expect("utf-8"),
            "--tls-key",
            cert.key.to_str().expect("utf-8"),
        ],
    );
    assert!(s.base.starts_with("https://127.0.0.1:"), "{}", s.base);
    let port = s.base.rsplit(':').next().expect("port").to_owned();
    let r = cert
        .client()
        .get(format!("https://localhost:{port}/api1/collections/"))
        .header("authorization", basic("bob", "correct horse"))
        .send()
        .expect("TLS request");
    assert_eq!(r.status(), 200);
    assert!(s.terminate().success());
}

/// The README's run command: the pack is served and the printed
/// credentials work.
#[test]
fn demo_serves_the_pack() {
    let dir = tempfile::tempdir().expect("dir");
    // `--demo-import` adds a feed (e.g. ATT&CK) to the demo collection.
    let extra_id = "identity--0b6c8d77-2f1e-4e0a-9a57-0d1f2b3c4d5e";
    let extra = dir.path().join("extra.json");
    std::fs::write(
        &extra,
        serde_json::json!({"type": "identity", "spec_version": "2.1", "id": extra_id,
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": "Extra feed object", "identity_class": "organization"})
        .to_string(),
    )
    .expect("write extra");
    let data = dir.path().join("data");
    let extra_arg = extra.to_str().expect("utf-8 path");
    let mut s = serve(&data, &["--demo", "--demo-import", extra_arg]);
    let creds = s
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("demo credentials: user demo, password "))
        .unwrap_or_else(|| panic!("no credentials in {:?}", s.lines))
        .to_owned();
    let c = client();
    let auth = basic("demo", &creds);
    let cols: serde_json::Value = c
        .get(s.url("/api1/collections/"))
        .header("authorization", &auth)
        .send()
        .expect("collections")
        .json()
        .expect("json");
    let id = cols["collections"][0]["id"]
        .as_str()
        .expect("collection id")
        .to_owned();
    let objs: serde_json::Value = c
        .get(s.url(&format!("/api1/collections/{id}/objects/?limit=5")))
        .header("authorization", &auth)
        .send()
        .expect("objects")
        .json()
        .expect("json");
    assert_eq!(objs["objects"].as_array().map(Vec::len), Some(5));
    assert_eq!(objs["more"], true);
    let one: serde_json::Value = c
        .get(s.url(&format!("/api1/collections/{id}/objects/{extra_id}/")))
        .header("authorization", &auth)
        .send()
        .expect("object")
        .json()
        .expect("json");
    assert_eq!(one["objects"][0]["name"], "Extra feed object");
    // The graph API on the same server and accounts (issue 14 §2): the demo
    // user (a reader of the demo collection) finds the pack by search and
    // reads an object; anonymous callers see nothing of it.
    let found: serde_json::Value = c
        .get(s.url("/api/v1/search?q=Bureau%20121"))
        .header("authorization", &auth)
        .send()
        .expect("search")
        .json()
        .expect("json");
    let first = found["results"][0]["id"]
        .as_str()
        .expect("a hit")
        .to_owned();
    assert!(
        found["results"].to_string().contains("Bureau 121"),
        "{found}"
    );
    let obj = c
        .get(s.url(&format!("/api/v1/objects/{first}")))
        .header("authorization", &auth)
        .send()
        .expect("object");
    assert_eq!(obj.status(), 200);
    let obj: serde_json::Value = obj.json().expect("json");
    assert_eq!(obj["id"], first.as_str());
    let anon: serde_json::Value = c
        .get(s.url("/api/v1/search?q=Bureau%20121"))
        .send()
        .expect("search")
        .json()
        .expect("json");
    assert_eq!(anon["total"], 0, "{anon}");
    assert!(s.terminate().success());
}

/// Bad input at the socket against the real binary and its SQLite store
/// (issue 3 §6): a client that never finishes its headers is dropped after
/// `header_read_timeout_secs`, a stalled upload gets a TAXII 408 after
/// `body_read_timeout_secs`, uploads cut off mid-body store nothing; the
/// server keeps serving, SIGTERM with a stalled client still open exits 0,
/// and after a restart exactly the complete uploads are there.
#[test]
fn slow_and_broken_clients_against_sqlite() {
    use std::net::TcpStream;
    let (dir, _) = setup();
    let data = dir.path().join("data");
    let config = dir.path().join("bad-input.toml");
    std::fs::write(
        &config,
        OneCollection {
            limits:
                "header_read_timeout_secs = 1\nbody_read_timeout_secs = 1\nshutdown_grace_secs = 5",
            rights: "can_read = [\"bob\"]\ncan_write = [\"bob\"]",
            ..Default::default()
        }
        .toml(),
    )
    .expect("config");
    let cfg = ["--config", config.to_str().expect("utf-8")];
    let objects = "/api1/collections/c1/objects/";
    let auth = basic("bob", "correct horse");
    let envelope = |from: u64, to: u64| {
        let objs: Vec<serde_json::Value> = (from..to)
            .map(|n| {
                serde_json::json!({
                    "type": "identity", "spec_version": "2.1",
                    "id": format!("identity--6a1e5b3c-0000-4000-8000-{n:012x}"),
                    "created": "2020-01-01T00:00:00.000Z",
                    "modified": "2020-01-01T00:00:00.000Z",
                    "name": format!("Org {n}"), "identity_class": "organization"
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "objects": objs })).expect("json")
    };
    let count = |s: &Serve| -> usize {
        let r = client()
            .get(s.url(&format!("{objects}?limit=1000")))
            .header("authorization", &auth)
            .send()
            .expect("GET");
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().expect("body")).expect("json");
        v["objects"].as_array().map_or(0, Vec::len)
    };
    let mut s = serve(&data, &cfg);
    let addr = s
        .base
        .strip_prefix("http://")
        .expect("plain http")
        .to_owned();
    let r = client()
        .post(s.url(objects))
        .header("authorization", &auth)
        .header("content-type", ACCEPT)
        .body(envelope(1, 11))
        .send()
        .expect("seed");
    assert_eq!(r.status(), 202);
    assert_eq!(count(&s), 10);

    let head = |len: usize| {
        format!(
            "POST {objects} HTTP/1.1\r\nHost: x\r\nAccept: {ACCEPT}\r\nContent-Type: {ACCEPT}\r\n\
             Authorization: {auth}\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    let read_all = |c: &mut TcpStream| -> (String, bool) {
        c.set_read_timeout(Some(Duration::from_secs(8)))
            .expect("timeout");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match std::io::Read::read(c, &mut buf) {
                Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return (String::from_utf8_lossy(&got).into_owned(), true)
                }
                Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
            }
        }
    };
    // Never finishes its headers: dropped, without an answer.
    let t0 = Instant::now();
    let mut stalled = TcpStream::connect(&addr).expect("connect");
    stalled
        .write_all(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    // Cut off mid-upload, at several points.
    let body = envelope(100, 400);
    for cut in [0, body.len() / 3, body.len() - 1] {
        let mut c = TcpStream::connect(&addr).expect("connect");
        c.write_all(head(body.len()).as_bytes()).expect("head");
        c.write_all(&body[..cut]).expect("part");
        drop(c);
    }
    // Stalls mid-body: a TAXII 408, then the connection closes.
    let mut slow = TcpStream::connect(&addr).expect("connect");
    slow.write_all(head(body.len()).as_bytes()).expect("head");
    slow.write_all(&body[..500]).expect("part");
    assert_eq!(count(&s), 10, "served while slow clients hang");
    let (text, closed) = read_all(&mut slow);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"http_status\":\"408\""), "{text}");
    assert!(closed);
    let (text, closed) = read_all(&mut stalled);
    assert!(closed && text.is_empty(), "stalled headers: {text:?}");
    eprintln!("slow clients handled within {:?}", t0.elapsed());
    assert_eq!(count(&s), 10, "nothing partial stored");

    // SIGTERM with a half-sent request open still exits 0, within the grace.
    let mut lingering = TcpStream::connect(&addr).expect("connect");
    lingering.write_all(b"GET /taxii2/ HT").expect("write");
    let t0 = Instant::now();
    let st = s.terminate();
    assert!(st.success(), "exit status {st}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    drop(lingering);

    // Restarted: what was stored is there, nothing else.
    let s = serve(&data, &cfg);
    assert_eq!(count(&s), 10);
}

/// Oversized request heads get a TAXII error message (TAXII 2.1 §3.6.1: every
/// error is one), not hyper's empty answer; the server stays up.
#[test]
fn oversized_request_heads_get_taxii_errors() {
    use std::io::Read;
    use std::net::TcpStream;
    let (dir, _) = setup();
    let data = dir.path().join("data");
    let mut s = serve(&data, &[]);
    let addr = s.base.trim_start_matches("http://").to_owned();
    let ask = |head: String| -> String {
        let mut c = TcpStream::connect(&addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        c.write_all(head.as_bytes()).expect("write");
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    };
    let request = |target: &str, extra: &str| {
        format!(
            "GET {target} HTTP/1.1\r\nHost: x\r\nAccept: application/taxii+json;version=2.1\r\n{extra}Connection: close\r\n\r\n"
        )
    };
    let taxii = |text: &str, status: &str| {
        assert!(text.starts_with(&format!("HTTP/1.1 {status}")), "{text}");
        assert!(
            text.to_ascii_lowercase()
                .contains("content-type: application/taxii+json;version=2.1"),
            "{text}"
        );
        assert!(
            text.contains(&format!("\"http_status\":\"{status}\"")),
            "{text}"
        );
    };
    let many: String = (0..80).map(|i| format!("X-Extra-{i}: {i}\r\n")).collect();
    taxii(&ask(request("/taxii2/", &many)), "431");
    taxii(
        &ask(request(
            "/taxii2/",
            &format!("X-Big: {}\r\n", "b".repeat(40_000)),
        )),
        "431",
    );
    // Past hyper's own parser limits (100 fields, a 64 KiB target) the
    // answer is hyper's, without a body.
    let too_many: String = (0..150).map(|i| format!("X-Extra-{i}: {i}\r\n")).collect();
    assert!(ask(request("/taxii2/", &too_many)).starts_with("HTTP/1.1 431"));
    let long = format!("/taxii2/?x={}", "a".repeat(70_000));
    assert!(ask(request(&long, "")).starts_with("HTTP/1.1 414"));
    // Still serving.
    let ok = ask(request("/healthz", ""));
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(s.terminate().success());
}

/// Issue 17 §4: the banner names each served collection by the URL of its
/// UUID, whose collection resource's `id` (TAXII 2.1 §5.2) is the last
/// segment of that URL, as taxii2-client requires (an alias URL fails it).
#[test]
fn banner_prints_collection_urls_by_uuid() {
    use std::io::BufRead;
    let (dir, config) = setup();
    let data = dir.path().join("data");
    let mut child = std::process::Command::new(common::BIN)
        .env_remove("SIGHTLINE_DATA")
        .env_remove("SIGHTLINE_STORE")
        .args(common::data(&data))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = Vec::new();
    let mut url = None;
    for line in out.lines().take(20) {
        let line = line.expect("banner line");
        url = line.strip_prefix("collection c1: ").map(str::to_owned);
        banner.push(line);
        if url.is_some() {
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("no collection line in {banner:?}"));
    // Issue 14: the banner names the web UI's address too.
    assert!(
        banner
            .iter()
            .any(|l| l.starts_with("web UI: http://127.0.0.1:") && l.ends_with("/ui/")),
        "{banner:?}"
    );
    let id = url
        .strip_suffix('/')
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        url.contains("/api1/collections/") && uuid::Uuid::parse_str(&id).is_ok(),
        "{url}"
    );
    let got = client()
        .get(&url)
        .header("authorization", basic("bob", "correct horse"))
        .send()
        .expect("collection");
    assert_eq!(got.status(), 200);
    let body: serde_json::Value = got.json().expect("json");
    assert_eq!(
        body["id"],
        id.as_str(),
        "the URL ends with the collection's id"
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().expect("wait").success());
}

/// Issue 17 §4: `--log-format json` writes one JSON object per request on
/// standard error, with method, path, status, duration, user and client
/// address (and never a credential).
#[test]
fn json_request_log() {
    let (dir, config) = setup();
    let data = dir.path().join("data");
    let log = dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&log).expect("log file");
    let mut global = common::data(&data).to_vec();
    global.extend(["--log-format", "json"]);
    let mut s = Serve::start(
        &global,
        &["--config", config.to_str().expect("path")],
        Stdio::from(stderr),
    );
    let c = client();
    let get = |path: &str, auth: Option<String>| {
        let mut r = c.get(s.url(path));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send().expect("request").status().as_u16()
    };
    assert_eq!(get("/taxii2/", Some(basic("bob", "correct horse"))), 200);
    assert_eq!(get("/api1/collections/", Some(basic("bob", "not-it"))), 401);
    // No collection is open to anonymous callers: API-root information is 401.
    assert_eq!(get("/api1/", None), 401);
    assert!(s.terminate().success());
    let text = std::fs::read_to_string(&log).expect("log");
    let mut requests = Vec::new();
    for line in text.lines() {
        if line.starts_with("sightline: ") {
            continue; // the CLI's own messages ("stopped")
        }
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
        if v["target"] == "sightline::request" && v["path"] != "/healthz" {
            requests.push(v);
        }
    }
    let seen: Vec<_> = requests
        .iter()
        .map(|v| {
            assert_eq!(v["method"], "GET", "{v}");
            assert!(v["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{v}");
            let client: std::net::SocketAddr = v["client"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("client address in {v}"));
            assert!(client.ip().is_loopback(), "{v}");
            (
                v["path"].as_str().unwrap_or_default().to_owned(),
                v["status"].as_u64().unwrap_or_default(),
                v["user"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want = [
        ("/taxii2/".to_owned(), 200, "bob".to_owned()),
        ("/api1/collections/".to_owned(), 401, "-".to_owned()),
        ("/api1/".to_owned(), 401, "-".to_owned()),
    ];
    assert_eq!(seen, want, "one line per request: {text}");
    assert!(!text.contains("correct horse") && !text.contains("not-it"));
}

/// A standard error nobody reads (a full pipe: a stalled log shipper) must
/// not stall the server: request lines are dropped and counted instead of
/// blocking the workers that log them. Before, ~160 requests filled the 64 KiB
/// pipe and every later request (health checks included) hung.
#[test]
fn an_unread_stderr_does_not_stall_the_server() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    // Every request logs a line (SIGHTLINE_LOG=debug logs more per request).
    let s = Serve::start_with_env(
        &[("SIGHTLINE_LOG", "debug")],
        &common::data(&data),
        &["--demo"],
        Stdio::piped(),
    );
    let c = client();
    let start = Instant::now();
    for i in 0..3_000 {
        let r = c
            .get(s.url("/healthz"))
            .timeout(Duration::from_secs(10))
            .send()
            .unwrap_or_else(|e| panic!("request {i} after {:?}: {e}", start.elapsed()));
        assert_eq!(r.status(), 200, "request {i}");
    }
}
