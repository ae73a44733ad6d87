//! Issue 12 §4 hygiene through a real listener: `/metrics` behind
//! authentication, sanitised request ids, security headers, the audit log.

use std::sync::Arc;

use reqwest::blocking::Response;
use serde_json::{json, Value};
use sightline_server::ServerConfig;
use sightline_store::Store;

use sightline_testkit::http::TestCert;

use super::{basic, client, one_good_one_bad, start_with, store_with_c1, Running};

const PW: &str = "correct horse battery";
const TAXII: &str = "application/taxii+json;version=2.1";
const C1: &str = "6cd4b2c5-5f7e-4f3c-9d0b-3f5a7e9d1c21";
const OBJECTS: &str = "/api1/collections/c1/objects/";

fn config(extra: &str) -> ServerConfig {
    super::c1_config(
        extra,
        r#"can_read = ["bob"]
        can_write = ["bob"]"#,
    )
}

/// c1; bob (reader-writer), mona (group metrics), root (admin).
fn store() -> Arc<dyn Store> {
    let s = store_with_c1();
    for (name, groups, admin) in [
        ("bob", vec![], false),
        ("mona", vec!["metrics".to_owned()], false),
        ("root", vec![], true),
    ] {
        sightline_server::add_user(s.as_ref(), name, PW, groups, admin).expect("add user");
    }
    s
}

fn start(extra: &str) -> Running {
    start_with(config(extra), store()).expect("start")
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Issue 12 §4: `/metrics` answers admins and the `metrics` group only
/// (401 with a challenge without credentials, 403 for other users) unless
/// `metrics_public = true`.
#[test]
fn metrics_need_authentication() {
    let s = start("");
    let c = client();
    let get = |user: Option<&str>| {
        let mut b = c.get(s.url("/metrics"));
        if let Some(u) = user {
            b = b.header("authorization", basic(u, PW));
        }
        b.send().expect("metrics")
    };
    let anon = get(None);
    assert_eq!(anon.status(), 401);
    assert!(header(&anon, "www-authenticate").is_some_and(|v| v.starts_with("Basic")));
    assert!(!anon.text().expect("body").contains("http_requests_total"));
    let wrong = c
        .get(s.url("/metrics"))
        .header("authorization", basic("root", "wrong password"))
        .send()
        .expect("metrics");
    assert_eq!(wrong.status(), 401);
    assert_eq!(get(Some("bob")).status(), 403);
    for who in ["mona", "root"] {
        let r = get(Some(who));
        assert_eq!(r.status(), 200, "{who}");
        assert!(r.text().expect("body").contains("# TYPE"), "{who}");
    }
    let open = start("metrics_public = true");
    let r = c.get(open.url("/metrics")).send().expect("metrics");
    assert_eq!(r.status(), 200);
}

/// A fresh request id: a hyphenated UUID.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Issue 12 §4: a client's `X-Request-Id` is kept (echoed, logged) only
/// when at most 64 characters of `[A-Za-z0-9._-]`; otherwise a fresh UUID
/// replaces it, on the server's own routes and on TAXII's.
#[test]
fn request_ids_are_sanitised() {
    let s = start("discovery_requires_auth = false");
    let c = client();
    let long = "a".repeat(65);
    for path in ["/healthz", "/taxii2/"] {
        for (sent, kept) in [
            ("req-1.2_3", true),
            (long.as_str(), false),
            ("forged id=1 user=root", false),
            ("a\"b", false),
        ] {
            let r = c
                .get(s.url(path))
                .header("x-request-id", sent)
                .send()
                .expect("get");
            let got = header(&r, "x-request-id").expect("request id").to_owned();
            if kept {
                assert_eq!(got, sent, "{path}");
            } else {
                assert!(is_uuid(&got), "{path}: {sent:?} → {got}");
            }
        }
    }
}

/// Issue 12 §4: `X-Content-Type-Options: nosniff` on every response;
/// `Cache-Control: no-store` on every answer to a request with credentials
/// (good or bad); no HSTS over plain HTTP (TLS: see
/// [`hsts_when_serving_tls`]).
#[test]
fn security_headers() {
    let s = start("");
    let c = client();
    let check = |r: Response, no_store: bool, what: &str| {
        assert_eq!(
            header(&r, "x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            header(&r, "cache-control") == Some("no-store"),
            no_store,
            "{what}: cache-control {:?}",
            header(&r, "cache-control")
        );
        assert!(header(&r, "strict-transport-security").is_none(), "{what}");
    };
    check(
        c.get(s.url("/healthz")).send().expect("get"),
        false,
        "healthz",
    );
    check(
        c.get(s.url("/taxii2/")).send().expect("get"),
        false,
        "anonymous 401",
    );
    check(c.get(s.url("/nope/")).send().expect("get"), false, "404");
    let signed = |path: &str, pw: &str| {
        c.get(s.url(path))
            .header("authorization", basic("bob", pw))
            .send()
            .expect("get")
    };
    check(signed(OBJECTS, PW), true, "objects");
    check(signed("/taxii2/", PW), true, "discovery");
    check(signed(OBJECTS, "wrong password"), true, "bad credentials");
    check(signed("/metrics", PW), true, "metrics 403");
}

#[test]
fn hsts_when_serving_tls() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = TestCert::write(dir.path());
    let mut c = config("");
    c.tls = Some(sightline_server::TlsConfig {
        cert: cert.cert.clone(),
        key: cert.key.clone(),
    });
    let s = start_with(c, store()).expect("start");
    let tls = cert.client();
    for path in ["/healthz", "/taxii2/"] {
        let r = tls
            .get(format!("https://localhost:{}{path}", s.addr.port()))
            .header("accept", TAXII)
            .send()
            .expect("TLS request");
        assert_eq!(
            header(&r, "strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
        assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    }
}

/// The audit file's records, one JSON object per line.
fn records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Issue 12 §4: `audit_log = FILE` gets exactly one JSON line per POST (user,
/// client address, collection, counts, status id), per DELETE and per failed
/// authentication (the claimed user, never the password); reads and
/// requests without credentials add none.
#[test]
fn audit_log_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("audit.log");
    let s = start(&format!("audit_log = {:?}", file.to_str().expect("utf-8")));
    let c = client();
    let envelope = one_good_one_bad();
    let posted: Value = c
        .post(s.url(OBJECTS))
        .header("authorization", basic("bob", PW))
        .header("content-type", TAXII)
        .body(envelope.to_string())
        .send()
        .expect("post")
        .text()
        .map(|t| serde_json::from_str(&t).expect("status JSON"))
        .expect("status");
    let lines = records(&file);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let p = &lines[0];
    assert_eq!(p["event"], "post");
    assert_eq!(p["user"], "bob");
    assert_eq!(p["client"], "127.0.0.1");
    assert_eq!(p["api_root"], "api1");
    assert_eq!(p["collection"], C1);
    assert_eq!(
        (&p["total"], &p["success"], &p["failure"]),
        (&json!(2), &json!(1), &json!(1))
    );
    assert_eq!(p["status_id"], posted["id"]);
    assert_eq!(p["http_status"], 202);
    let time = p["time"].as_str().expect("time");
    assert!(time.len() == 27 && time.ends_with('Z'), "RFC 3339: {time}");

    // Reads, and requests without credentials, are not audited.
    let r = c
        .get(s.url(OBJECTS))
        .header("authorization", basic("bob", PW))
        .send();
    assert_eq!(r.expect("get").status(), 200);
    assert_eq!(c.get(s.url(OBJECTS)).send().expect("get").status(), 401);
    assert_eq!(records(&file).len(), 1);

    let secret = "Tr0ub4dor&3-not-bobs";
    let r = c
        .get(s.url(OBJECTS))
        .header("authorization", basic("bob", secret))
        .send()
        .expect("get");
    assert_eq!(r.status(), 401);
    let r = c
        .get(s.url("/taxii2/"))
        .header(
            "authorization",
            "Bearer sl_00112233aabbccdd_TOKENSECRETPART",
        )
        .send()
        .expect("get");
    assert_eq!(r.status(), 401);
    let lines = records(&file);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1]["event"], "auth_failed");
    assert_eq!(lines[1]["user"], "bob");
    assert_eq!(lines[1]["client"], "127.0.0.1");
    assert_eq!(lines[2]["event"], "auth_failed");
    assert_eq!(lines[2]["token_id"], "00112233aabbccdd");
    assert!(lines[2].get("user").is_none());

    let r = c
        .delete(s.url(&format!(
            "{OBJECTS}indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/"
        )))
        .header("authorization", basic("root", PW))
        .send()
        .expect("delete");
    assert_eq!(r.status(), 200);
    let lines = records(&file);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let d = &lines[3];
    assert_eq!(d["event"], "delete");
    assert_eq!(d["user"], "root");
    assert_eq!(
        d["object"],
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    );
    assert_eq!(d["collection"], C1);

    let text = std::fs::read_to_string(&file).expect("audit file");
    for never in [secret, PW, "TOKENSECRETPART", "Basic "] {
        assert!(!text.contains(never), "the audit log holds {never:?}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "audit log mode {mode:o}");
    }
}

/// Issue 12 §4: a token created with an expiry works until then and is a
/// 401 after, even though the first request put it in the credential cache
/// (whose TTL is longer); a use is recorded as `last_used` (at most once a
/// minute).
#[test]
fn expiring_tokens_and_last_use() {
    let store = store();
    let t = sightline_server::create_token_expiring(
        store.as_ref(),
        "bob",
        Some(std::time::Duration::from_secs(2)),
    )
    .expect("token");
    let forever = sightline_server::create_token(store.as_ref(), "bob").expect("token");
    let s = start_with(config(""), store.clone()).expect("start");
    let c = client();
    let get = |token: &str| {
        c.get(s.url(OBJECTS))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .expect("get")
            .status()
            .as_u16()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert_eq!(get(&t.text), 200);
    let stored = store.token(&t.id).expect("token").expect("listed");
    assert!(
        stored.expires.is_some_and(|e| e > now && e <= now + 2),
        "{stored:?}"
    );
    let used = stored.last_used.expect("last use recorded");
    assert!(used >= now && used <= now + 1, "{used} vs {now}");
    assert_eq!(get(&t.text), 200, "cached");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(get(&t.text), 401, "expired");
    assert_eq!(get(&forever.text), 200);
    assert_eq!(get(&forever.text), 200);
    assert!(store
        .token(&forever.id)
        .expect("token")
        .expect("listed")
        .last_used
        .is_some());
}
