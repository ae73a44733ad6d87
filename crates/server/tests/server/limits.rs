//! Limits against exhaustion (issue 5 §5), one test per limit, each set
//! small in `[limits]` (or the API root) of a real listener: the request
//! over it gets a clear TAXII error (TAXII 2.1 §3.6.1) or its connection is
//! dropped, nothing of it is stored, and the server keeps serving.
//!
//! Also here: the request deadline (`request_timeout_secs`). The header and
//! body read deadlines are in `bad_input.rs` (slowloris tests), the body
//! size by declared length there too (`garbage_and_oversized_requests`) and
//! for chunked bodies in the TAXII router's tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use reqwest::blocking::Response;
use serde_json::{json, Value};
use sightline_server::ServerConfig;

use sightline_testkit::config::OneCollection;

use super::{basic, client, identity, start_with, start_with_validator, store_with_bob, Running};

const OBJECTS: &str = "/api1/collections/c1/objects/";
const TAXII: &str = "application/taxii+json;version=2.1";

/// A config with `limits` (TOML lines) in `[limits]`; c1 read and written by bob.
fn config(limits: &str) -> ServerConfig {
    ServerConfig::parse(
        &OneCollection {
            // Anonymous discovery answers (the liveness probe below uses it), and
            // so do the metrics: the tests read counters without credentials.
            top: "listen = \"127.0.0.1:0\"\ndiscovery_requires_auth = false\nmetrics_public = true",
            limits: &format!("shutdown_grace_secs = 2\n{limits}"),
            root: "max_content_length = 65536",
            rights: "can_read = [\"bob\"]\ncan_write = [\"bob\"]",
        }
        .toml(),
    )
    .expect("config")
}

fn start(limits: &str) -> Running {
    start_with(config(limits), store_with_bob()).expect("start")
}

fn post(s: &Running, body: Vec<u8>) -> Response {
    client()
        .post(s.url(OBJECTS))
        .header("authorization", basic("bob", "correct horse"))
        .header("content-type", TAXII)
        .body(body)
        .send()
        .expect("POST")
}

fn post_json(s: &Running, v: &Value) -> Response {
    post(s, serde_json::to_vec(v).expect("json"))
}

/// A TAXII error message with `status` whose description mentions `needle`.
fn assert_error(r: Response, status: u16, needle: &str) {
    assert_eq!(r.status().as_u16(), status);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, TAXII);
    let e: Value = serde_json::from_slice(&r.bytes().expect("body")).expect("TAXII error");
    assert_eq!(e["http_status"], status.to_string());
    let d = e["description"].as_str().unwrap_or_default();
    assert!(d.contains(needle), "description {d:?} lacks {needle:?}");
}

/// The status resource of an accepted POST.
fn accepted(r: Response) -> Value {
    assert_eq!(r.status().as_u16(), 202);
    serde_json::from_slice(&r.bytes().expect("body")).expect("status")
}

fn stored(s: &Running) -> usize {
    let r = client()
        .get(s.url(&format!("{OBJECTS}?limit=1000")))
        .header("authorization", basic("bob", "correct horse"))
        .send()
        .expect("GET");
    let v: Value = serde_json::from_slice(&r.bytes().expect("body")).expect("envelope");
    v["objects"].as_array().map_or(0, Vec::len)
}

fn alive(s: &Running) {
    let r = client()
        .get(s.url("/taxii2/"))
        .send()
        .expect("still serving");
    assert_eq!(r.status(), 200);
}

/// §4.2 `max_content_length`, §5.5: a body over it is a 413 (also when its
/// length is not declared up front, as with chunked uploads).
#[test]
fn body_size() {
    let s = start("");
    let big =
        serde_json::to_vec(&json!({"objects": [identity(1, &"x".repeat(70_000))]})).expect("json");
    assert_error(post(&s, big), 413, "max_content_length (65536 bytes)");
    assert_eq!(stored(&s), 0);
    alive(&s);
}

/// `max_objects_per_envelope`: one more object than allowed is a 413 and
/// nothing of the envelope is stored; exactly as many is accepted.
#[test]
fn objects_per_envelope() {
    let s = start("max_objects_per_envelope = 5");
    let env = |n: u64| json!({"objects": (0..n).map(|i| identity(i, "Org")).collect::<Vec<_>>()});
    assert_error(
        post_json(&s, &env(6)),
        413,
        "holds 6 objects; max_objects_per_envelope is 5",
    );
    assert_eq!(stored(&s), 0, "nothing of a refused envelope");
    assert_eq!(accepted(post_json(&s, &env(5)))["success_count"], 5);
    assert_eq!(stored(&s), 5);
    alive(&s);
}

/// `max_json_depth`: a body nesting deeper (here in an object's extension)
/// is a 400 naming the limit and the place; as deep as allowed is parsed.
#[test]
fn json_depth() {
    let s = start("max_json_depth = 8");
    // envelope (1) > objects (2) > object (3) > extensions (4) > ext (5) > `n` levels.
    let nested = |n: usize| {
        let mut v = json!(1);
        for _ in 0..n {
            v = json!([v]);
        }
        let mut o = identity(1, "Deep");
        o["extensions"] =
            json!({"x-acme-ext": {"extension_type": "property-extension", "deep": v}});
        json!({ "objects": [o] })
    };
    assert_error(post_json(&s, &nested(4)), 400, "more than 8 deep");
    assert_eq!(stored(&s), 0);
    // Depth 8 exactly: accepted (the object itself may be valid or not).
    let st = accepted(post_json(&s, &nested(3)));
    assert_eq!(st["total_count"], 1, "{st}");
    // Far beyond serde_json's own recursion limit: the same clear 400.
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    assert_error(post(&s, deep.into_bytes()), 400, "max_json_depth");
    alive(&s);
}

/// `max_string_bytes`: a longer string, value or key, is a 413 naming its
/// size and place; one at the limit is stored.
#[test]
fn string_length() {
    let s = start("max_string_bytes = 1000");
    assert_error(
        post_json(&s, &json!({"objects": [identity(1, &"n".repeat(1001))]})),
        413,
        "a string of 1001 bytes at line 1",
    );
    let mut o = identity(2, "Org");
    o[&"k".repeat(1200)] = json!(1);
    assert_error(
        post_json(&s, &json!({ "objects": [o] })),
        413,
        "max_string_bytes is 1000",
    );
    assert_eq!(stored(&s), 0);
    let st = accepted(post_json(
        &s,
        &json!({"objects": [identity(3, &"n".repeat(1000))]}),
    ));
    assert_eq!(st["success_count"], 1, "{st}");
    alive(&s);
}

/// `max_values_per_object` (issue 12 §3, upload memory): one object of many
/// tiny values is refused with 413 before any object is parsed into a tree
/// (which would cost ~50 bytes a value), naming the limit; an object at the
/// limit is stored, and the bound is per object, not per envelope.
#[test]
fn values_per_object() {
    let s = start("max_values_per_object = 100");
    // identity: 7 keys + 7 values + the object = 15, plus a 10-label list:
    // 1 key + 1 list + 10 = 12 → 27.
    let with_labels = |n: u64, labels: usize| {
        let mut o = identity(n, "Org");
        o["labels"] = json!(vec!["x"; labels]);
        o
    };
    assert_error(
        post_json(&s, &json!({ "objects": [with_labels(1, 90)] })),
        413,
        "max_values_per_object is 100",
    );
    assert_eq!(stored(&s), 0);
    let st = accepted(post_json(
        &s,
        &json!({ "objects": [with_labels(2, 10), with_labels(3, 10), with_labels(4, 10),
                             with_labels(5, 10), with_labels(6, 10)] }),
    ));
    assert_eq!(st["success_count"], 5, "{st}");
    alive(&s);
}

/// Regex size (STIX 2.1 Part 9 §9.7 MATCHES; `sightline_pattern::REGEX_SIZE_LIMIT`,
/// 1 MiB compiled, not configurable): an indicator whose regex compiles
/// larger is refused as invalid (P025) in the status, quickly, while a
/// valid one in the same envelope is stored.
#[test]
fn regex_size() {
    let validator = sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker));
    let s = start_with_validator(config(""), store_with_bob(), validator).expect("start");
    let indicator = |n: u64, re: &str| {
        json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": format!("indicator--6a1e5b3c-0000-4000-8000-{n:012x}"),
            "created": "2020-01-01T00:00:00.000Z",
            "modified": "2020-01-01T00:00:00.000Z",
            "pattern": format!("[file:name MATCHES '{re}']"),
            "pattern_type": "stix",
            "valid_from": "2020-01-01T00:00:00Z"
        })
    };
    let t0 = Instant::now();
    let st = accepted(post_json(
        &s,
        &json!({"objects": [
            indicator(1, "^\\\\w{2000}\\\\d{2000}$"),
            indicator(2, "^evil.*$"),
            // The same class, repeated less: only the size is refused.
            indicator(3, "^\\\\w{20}$"),
        ]}),
    ));
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    assert_eq!(
        (st["success_count"].clone(), st["failure_count"].clone()),
        (json!(2), json!(1)),
        "{st}"
    );
    let why = st["failures"][0]["message"].as_str().unwrap_or_default();
    assert!(why.contains("P025") && why.contains("size limit"), "{why}");
    assert_eq!(stored(&s), 2);
    alive(&s);
}

fn connect(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    c
}

/// Sends a GET of discovery on `c` and reads one response head (keep-alive).
fn get_discovery(c: &mut TcpStream) -> std::io::Result<String> {
    c.write_all(
        b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: application/taxii+json;version=2.1\r\n\r\n",
    )?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = c.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= len {
                return Ok(head.to_owned());
            }
        }
    }
}

/// `max_connections_per_ip`: with that many connections open from one
/// address, a further one is closed without an answer; once one closes, a
/// new connection is served again.
#[test]
fn connections_per_ip() {
    let s = start("max_connections_per_ip = 4\nheader_read_timeout_secs = 30");
    let mut open: Vec<TcpStream> = (0..4).map(|_| connect(s.addr)).collect();
    for c in &mut open {
        let head = get_discovery(c).expect("one of the first four is served");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    for _ in 0..3 {
        let mut extra = connect(s.addr);
        // Closed before anything is read: the write may or may not fail,
        // the read finds the end of the stream (or a reset), never an answer.
        match get_discovery(&mut extra) {
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::BrokenPipe
                ),
                "{e}"
            ),
            Ok(head) => panic!("a fifth connection was served: {head}"),
        }
    }
    // The four are still served, and the refusals are counted.
    for c in &mut open {
        assert!(get_discovery(c).expect("kept").starts_with("HTTP/1.1 200"));
    }
    let c = &mut open[0];
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("metrics request");
    let mut text = String::new();
    let _ = c.read_to_string(&mut text);
    let refused = text
        .lines()
        .find_map(|l| l.strip_prefix("sightline_connections_refused_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(refused >= 3.0, "refusals counted: {text}");
    drop(open.remove(0));
    // The server notices the close when it next reads; then a slot is free.
    let t0 = Instant::now();
    loop {
        let mut c = connect(s.addr);
        if let Ok(head) = get_discovery(&mut c) {
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no slot freed after a connection closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `request_timeout_secs`: a request not done in time (here an upload that
/// stalls, with the body deadline set longer) is answered with a TAXII 408
/// and the connection closed; nothing is stored and the server serves on.
#[test]
fn request_timeout() {
    let s = start("request_timeout_secs = 1\nbody_read_timeout_secs = 60");
    let body = serde_json::to_vec(&json!({"objects": [identity(1, "Org")]})).expect("json");
    let mut c = connect(s.addr);
    let head = format!(
        "POST {OBJECTS} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\n\
         Authorization: {}\r\nContent-Length: {}\r\n\r\n",
        basic("bob", "correct horse"),
        body.len()
    );
    c.write_all(head.as_bytes()).expect("head");
    c.write_all(&body[..10]).expect("part of the body");
    let t0 = Instant::now();
    let mut got = Vec::new();
    let closed = loop {
        let mut buf = [0u8; 4096];
        match c.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    let took = t0.elapsed();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let e: Value = serde_json::from_str(body).expect("TAXII error");
    assert_eq!(e["http_status"], "408");
    assert!(closed, "the connection is closed after the 408");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(10),
        "answered after {took:?}"
    );
    assert_eq!(stored(&s), 0);
    alive(&s);
}

/// Issue 12 §3 (password hashing as a lever): random Basic credentials from
/// one address beyond `auth_failure_burst` get a TAXII 429 with
/// `Retry-After`, without an argon2 run; a credential already verified
/// (cached) is served as before, and so is a client without credentials.
#[test]
fn failed_authentication_is_throttled() {
    let s = start("auth_failure_burst = 3\nauth_failure_per_sec = 0.2");
    let get = |auth: &str| {
        client()
            .get(s.url(OBJECTS))
            .header("authorization", auth)
            .send()
            .expect("GET")
    };
    assert_eq!(get(&basic("bob", "correct horse")).status(), 200);
    let before = s.auth.verifications();
    for i in 0..3 {
        assert_eq!(get(&basic("bob", &format!("guess {i}"))).status(), 401);
    }
    for i in 3..40 {
        let r = get(&basic("bob", &format!("guess {i}")));
        assert_eq!(r.status().as_u16(), 429);
        let wait: u64 = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((1..=5).contains(&wait), "{wait}");
        if i == 3 {
            assert_error(r, 429, "too many failed authentications");
        }
    }
    assert_eq!(
        s.auth.verifications() - before,
        3,
        "argon2 ran only for the burst"
    );
    // The cached good credential and a repeated (cached) refusal still get
    // their real answers; requests without credentials are not counted.
    assert_eq!(get(&basic("bob", "correct horse")).status(), 200);
    assert_eq!(get(&basic("bob", "guess 0")).status(), 401);
    alive(&s);
}

/// Issue 12 §3 (file descriptors): `max_connections` bounds connections in
/// all; one over is closed at once, and an address may hold at most half of
/// them, so another client (127.0.0.2, also loopback) is still served while
/// one address keeps its connections idle.
#[test]
fn global_connection_cap() {
    let s = start("max_connections = 8\nmax_connections_per_ip = 100");
    let mut idle: Vec<TcpStream> = (0..4).map(|_| connect(s.addr)).collect();
    for c in &mut idle {
        assert!(get_discovery(c)
            .expect("served")
            .starts_with("HTTP/1.1 200"));
    }
    // A fifth from 127.0.0.1 is over its half of the cap.
    let mut extra = connect(s.addr);
    assert!(
        get_discovery(&mut extra).is_err(),
        "over the per-address half"
    );
    // Another address gets in, up to the cap.
    let from2 = |n: usize| -> Vec<TcpStream> {
        (0..n)
            .filter_map(|_| connect_from("127.0.0.2", s.addr))
            .collect()
    };
    let mut second = from2(4);
    if second.is_empty() {
        eprintln!("127.0.0.2 not usable here: skipping the second-address half");
        return;
    }
    for c in &mut second {
        assert!(get_discovery(c)
            .expect("served")
            .starts_with("HTTP/1.1 200"));
    }
    // Now 8 are open: a ninth from either address is closed.
    let mut ninth = connect_from("127.0.0.3", s.addr).expect("connect");
    assert!(get_discovery(&mut ninth).is_err(), "over the global cap");
    drop(second.pop());
    let t0 = Instant::now();
    loop {
        let mut c = connect_from("127.0.0.3", s.addr).expect("connect");
        if let Ok(head) = get_discovery(&mut c) {
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "no slot freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A TCP connection from `local` (a loopback address other than 127.0.0.1).
/// std has no bind-then-connect, so this goes through tokio's `TcpSocket`.
fn connect_from(local: &str, to: SocketAddr) -> Option<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let std = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().ok()?;
        sock.bind(format!("{local}:0").parse().ok()?).ok()?;
        let s = sock.connect(to).await.ok()?;
        s.into_std().ok()
    })?;
    std.set_nonblocking(false).ok()?;
    std.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    Some(std)
}

/// Issue 12 §3 (slow readers): a client that sends requests and never reads
/// the answers is dropped after `write_timeout_secs`, with what its
/// responses held; the drop is counted.
#[test]
fn readers_that_never_read_are_dropped() {
    let s = start("write_timeout_secs = 1");
    // 1,000 objects of about 1.2 KB: a 1.2 MB page.
    for batch in 0..20u64 {
        let env = json!({"objects": (0..50u64)
            .map(|i| identity(batch * 50 + i, &"n".repeat(1000)))
            .collect::<Vec<_>>()});
        assert_eq!(accepted(post_json(&s, &env))["success_count"], 50);
    }
    let mut c = connect(s.addr);
    let req = format!(
        "GET {OBJECTS}?limit=1000 HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nAuthorization: {}\r\n\r\n",
        basic("bob", "correct horse")
    );
    // 40 pipelined pages (48 MB) that are never read: far beyond what the
    // socket buffers hold, so the server's writes stall.
    for _ in 0..40 {
        if c.write_all(req.as_bytes()).is_err() {
            break;
        }
    }
    std::thread::sleep(Duration::from_secs(4));
    // The server gave up on this connection: reading what was buffered ends
    // well short of 40 pages.
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let ended = loop {
        match c.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    assert!(ended, "the connection was closed by the server");
    assert!(total < 40 * 1_000_000, "read {total} bytes");
    let m = client()
        .get(s.url("/metrics"))
        .header("authorization", basic("bob", "correct horse"))
        .send()
        .expect("metrics")
        .text()
        .expect("text");
    assert!(
        m.lines()
            .any(|l| l.starts_with("sightline_write_timeouts_total ") && !l.ends_with(" 0")),
        "{m}"
    );
    alive(&s);
}

/// Issue 12 §3 (upload memory): POST bodies in flight are bounded by
/// `max_inflight_post_bytes`; a POST that would exceed it waits, and gets a
/// TAXII 503 with `Retry-After` after `post_wait_secs`. Once the first
/// upload is gone, the next is served.
#[test]
fn inflight_post_bytes_are_bounded() {
    let s = start("max_inflight_post_bytes = 100000\npost_wait_secs = 1\nbody_read_timeout_secs = 30\nrequest_timeout_secs = 30");
    let body =
        serde_json::to_vec(&json!({"objects": [identity(1, &"x".repeat(60_000))]})).expect("json");
    // A slow upload declares 60 KB and sends part of it: it holds its share.
    let mut slow = connect(s.addr);
    let head = format!(
        "POST {OBJECTS} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\n\
         Authorization: {}\r\nContent-Length: {}\r\n\r\n",
        basic("bob", "correct horse"),
        body.len()
    );
    slow.write_all(head.as_bytes()).expect("head");
    slow.write_all(&body[..100]).expect("part");
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    let r = post(&s, body.clone());
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, 503, "busy receiving other uploads");
    // A small POST fits beside it.
    let small = serde_json::to_vec(&json!({"objects": [identity(2, "Org")]})).expect("json");
    assert_eq!(accepted(post(&s, small))["success_count"], 1);
    drop(slow);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(accepted(post(&s, body))["success_count"], 1);
}

/// Issue 12 §3 (regex cost): an envelope of indicators with many MATCHES
/// terms is answered quickly; patterns over 16 regexes are P034 and those
/// past the envelope's compile budget P035, as status failures (TAXII 2.1
/// §4.3.1); a plain indicator in the same envelope is stored.
#[test]
fn regex_budget_per_envelope() {
    let validator = sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker));
    let s = start_with_validator(config(""), store_with_bob(), validator).expect("start");
    let indicator = |n: u64, terms: usize| {
        let pattern = (0..terms)
            .map(|i| format!("file:name MATCHES '\\\\w{{60}}{n}x{i}'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": format!("indicator--6a1e5b3c-0000-4000-8000-{n:012x}"),
            "created": "2020-01-01T00:00:00.000Z",
            "modified": "2020-01-01T00:00:00.000Z",
            "pattern": format!("[{pattern}]"),
            "pattern_type": "stix",
            "valid_from": "2020-01-01T00:00:00Z"
        })
    };
    let mut objects: Vec<Value> = (1..=70).map(|n| indicator(n, 16)).collect();
    objects.push(indicator(100, 17));
    let mut plain = indicator(101, 0);
    plain["pattern"] = json!("[file:name = 'evil.exe']");
    objects.push(plain);
    let body = serde_json::to_vec(&json!({ "objects": objects })).expect("json");
    assert!(body.len() < 65_536, "{}", body.len());
    let t0 = Instant::now();
    let st = accepted(post(&s, body));
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    let failures = st["failures"].as_array().cloned().unwrap_or_default();
    let with = |code: &str| {
        failures
            .iter()
            .filter(|f| f["message"].as_str().unwrap_or_default().contains(code))
            .count()
    };
    assert_eq!(with("P034"), 1, "{st}");
    assert!(with("P035") > 40, "most are over the budget: {st}");
    assert!(st["success_count"].as_u64() >= Some(1), "{st}");
    let why = failures
        .iter()
        .filter_map(|f| f["message"].as_str())
        .find(|m| m.contains("P035"))
        .unwrap_or_default();
    assert!(why.contains("compile budget"), "{why}");
    alive(&s);
}

/// The throttle counts headers, not requests: many workers of one client
/// sending the same good (not yet cached) credential at once all get in,
/// with a burst far smaller than their number.
#[test]
fn one_credential_stampede_is_not_throttled() {
    let s = start("auth_failure_burst = 2\nauth_failure_per_sec = 0.1");
    let url = s.url(OBJECTS);
    let threads: Vec<_> = (0..24)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                client()
                    .get(url)
                    .header("authorization", basic("bob", "correct horse"))
                    .send()
                    .expect("GET")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let got: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    assert!(got.iter().all(|c| *c == 200), "{got:?}");
    assert_eq!(s.auth.verifications(), 1);
}
