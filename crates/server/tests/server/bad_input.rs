//! Bad input at the socket (issue 3 §6), against a real listener with raw
//! `std::net::TcpStream`s, so the tests control every byte and its timing:
//! clients that never finish their headers or body (slowloris), a client that
//! disconnects mid-upload, garbage and oversized requests. Each is dropped or
//! answered with an error, the server keeps serving everyone else, nothing
//! already stored is lost and nothing partial is stored.
//!
//! The timeouts are configured short (`[limits] header_read_timeout_secs`,
//! `body_read_timeout_secs` = 1 s); the bounds asserted are generous, for a
//! loaded machine.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sightline_server::ServerConfig;

use sightline_testkit::config::OneCollection;
use sightline_testkit::http::TestCert;

use super::{basic, client, identity, start_with, store_with_bob, Running};

const OBJECTS: &str = "/api1/collections/c1/objects/";
const TAXII: &str = "application/taxii+json;version=2.1";
/// How long a dropped connection may take to be noticed (timeouts are 1 s).
const DROP_WITHIN: Duration = Duration::from_secs(8);

fn short_timeouts(data: &std::path::Path) -> ServerConfig {
    let mut c = ServerConfig::parse(
        &OneCollection {
            // Anonymous discovery answers: the liveness probe below uses it.
            top: "listen = \"127.0.0.1:0\"\ndiscovery_requires_auth = false",
            limits: "header_read_timeout_secs = 1\nbody_read_timeout_secs = 1\n\
                     request_timeout_secs = 20\nshutdown_grace_secs = 5",
            root: "max_content_length = 1048576",
            rights: "can_read = [\"bob\"]\ncan_write = [\"bob\"]",
        }
        .toml(),
    )
    .expect("config");
    c.data_dir = Some(data.to_owned());
    c
}

fn start_short() -> (Running, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("dir");
    let s = start_with(short_timeouts(data.path()), store_with_bob()).expect("start");
    (s, data)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Reads until the server closes the connection (or `within` passes):
/// what it sent, and whether it closed.
fn read_until_closed(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (got, false);
        }
        s.set_read_timeout(Some(left)).expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (got, false)
            }
            // Reset by the server: closed too.
            Err(_) => return (got, true),
        }
    }
}

/// Status code and body of a raw HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// The ids stored in c1, read as bob through the API.
fn stored_ids(s: &Running) -> Vec<String> {
    let v: Value = client()
        .get(s.url(&format!("{OBJECTS}?limit=1000")))
        .header("authorization", basic("bob", "correct horse"))
        .send()
        .expect("GET objects")
        .bytes()
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .expect("envelope");
    v["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The server still answers a normal request, quickly.
fn alive(s: &Running) {
    let t0 = Instant::now();
    let r = client()
        .get(s.url("/taxii2/"))
        .send()
        .expect("the server still answers");
    assert_eq!(r.status(), 200);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "a normal request took {:?}",
        t0.elapsed()
    );
}

fn envelope(ns: std::ops::Range<u64>) -> Vec<u8> {
    let objects: Vec<Value> = ns.map(|n| identity(n, &format!("Org {n}"))).collect();
    serde_json::to_vec(&json!({ "objects": objects })).expect("json")
}

/// Request head of a POST of `len` bytes to c1 as bob.
fn post_head(addr: SocketAddr, len: usize) -> String {
    format!(
        "POST {OBJECTS} HTTP/1.1\r\nHost: {addr}\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\n\
         Authorization: {}\r\nContent-Length: {len}\r\n\r\n",
        basic("bob", "correct horse")
    )
}

/// Stores objects 1..=3 with a complete POST (the "already stored" data).
fn seed(s: &Running) {
    let r = client()
        .post(s.url(OBJECTS))
        .header("authorization", basic("bob", "correct horse"))
        .header("content-type", TAXII)
        .body(envelope(1..4))
        .send()
        .expect("seed");
    assert_eq!(r.status(), 202);
    assert_eq!(stored_ids(s).len(), 3);
}

/// Slowloris, headers: clients that connect and send nothing, stop halfway
/// through the request line or the headers, or trickle header bytes forever
/// are all disconnected after `header_read_timeout_secs`, while other clients
/// are served all along. (RFC 9112 §9.8: a server may close idle or slow
/// connections; TAXII 2.1 §1.6.8 does not change that.)
#[test]
fn slowloris_headers_are_dropped() {
    let (s, _data) = start_short();
    let partials: [&[u8]; 5] = [
        b"",
        b"GET /tax",
        b"GET /taxii2/ HTTP/1.1\r\n",
        b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: application/taxii+json",
        b"POST /api1/collections/c1/objects/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n",
    ];
    let t0 = Instant::now();
    let mut stalled: Vec<TcpStream> = Vec::new();
    for _ in 0..10 {
        for p in partials {
            let mut c = connect(s.addr);
            c.write_all(p).expect("write");
            stalled.push(c);
        }
    }
    // One that keeps sending a header byte every 200 ms, never finishing.
    let addr = s.addr;
    let trickler = std::thread::spawn(move || {
        let mut c = connect(addr);
        let start = Instant::now();
        let _ = c.write_all(b"GET /taxii2/ HTTP/1.1\r\nX-Slow: ");
        while start.elapsed() < DROP_WITHIN {
            if c.write_all(b"a").is_err() {
                return Some(start.elapsed()); // the server closed it
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    });
    // Everyone else is served while the slow ones hang.
    alive(&s);
    for mut c in stalled {
        let left = DROP_WITHIN.saturating_sub(t0.elapsed());
        let (got, closed) = read_until_closed(&mut c, left);
        assert!(closed, "a stalled connection was not dropped");
        // Dropped, not answered with a TAXII message it would not read.
        let (status, ..) = parse_response(&got);
        assert!(got.is_empty() || status == 408, "{got:?}");
    }
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "dropped before the timeout: {took:?}"
    );
    let trickled = trickler.join().expect("trickler");
    assert!(
        trickled.is_some(),
        "a client trickling header bytes was never dropped"
    );
    eprintln!("stalled headers dropped after {took:?}; trickler after {trickled:?}");
    alive(&s);
}

/// Slowloris, body: an upload whose body stalls (or trickles) past
/// `body_read_timeout_secs` gets a TAXII 408 (§3.6.1) and its connection is
/// closed; nothing of it is stored, and the server serves others meanwhile.
#[test]
fn slow_bodies_get_408_and_store_nothing() {
    let (s, _data) = start_short();
    seed(&s);
    let body = envelope(10..40);
    let mut stalled = connect(s.addr);
    stalled
        .write_all(post_head(s.addr, body.len()).as_bytes())
        .expect("head");
    stalled.write_all(&body[..100]).expect("part of the body");
    let addr = s.addr;
    let trickled_body = body.clone();
    let trickler = std::thread::spawn(move || {
        let mut c = connect(addr);
        c.write_all(post_head(addr, trickled_body.len()).as_bytes())
            .expect("head");
        let start = Instant::now();
        for b in trickled_body.iter() {
            if c.write_all(&[*b]).is_err() || start.elapsed() > DROP_WITHIN {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        read_until_closed(&mut c, DROP_WITHIN)
    });
    alive(&s);
    let t0 = Instant::now();
    let (got, closed) = read_until_closed(&mut stalled, DROP_WITHIN);
    let (status, head, text) = parse_response(&got);
    assert_eq!(status, 408, "{head}\n{text}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-type: {TAXII}")),
        "{head}"
    );
    let err: Value = serde_json::from_str(&text).expect("a TAXII error message");
    assert_eq!(err["http_status"], "408");
    assert!(closed, "the connection is closed after the 408");
    eprintln!("stalled body answered 408 after {:?}", t0.elapsed());
    let (got, closed) = trickler.join().expect("trickler");
    assert_eq!(parse_response(&got).0, 408);
    assert!(closed);
    assert_eq!(
        stored_ids(&s).len(),
        3,
        "nothing partial stored, nothing lost"
    );
    alive(&s);
}

/// A client that disconnects mid-upload (after part of the body, or after
/// all but its last byte): the body never completes, so it is never parsed
/// and no transaction starts. Nothing of it is stored, what was stored
/// stays, and the same upload sent whole afterwards is stored in full.
#[test]
fn disconnect_mid_upload_stores_nothing() {
    let (s, _data) = start_short();
    seed(&s);
    let body = envelope(100..300);
    for cut in [0, 1, body.len() / 2, body.len() - 1] {
        let mut c = connect(s.addr);
        c.write_all(post_head(s.addr, body.len()).as_bytes())
            .expect("head");
        c.write_all(&body[..cut]).expect("part");
        c.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(50));
        // Gone: a reset (SO_LINGER 0 is not in std; shutdown + drop closes).
        c.shutdown(std::net::Shutdown::Both).expect("shutdown");
        drop(c);
    }
    // Many at once, too.
    let addr = s.addr;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut c = connect(addr);
                let _ = c.write_all(post_head(addr, body.len()).as_bytes());
                let _ = c.write_all(&body[..body.len() * i / 8 + 1]);
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client");
    }
    std::thread::sleep(Duration::from_millis(300));
    alive(&s);
    assert_eq!(stored_ids(&s).len(), 3, "nothing of the broken uploads");
    let r = client()
        .post(s.url(OBJECTS))
        .header("authorization", basic("bob", "correct horse"))
        .header("content-type", TAXII)
        .body(body)
        .send()
        .expect("whole upload");
    assert_eq!(r.status(), 202);
    let status: Value = serde_json::from_slice(&r.bytes().expect("body")).expect("status");
    assert_eq!(status["success_count"], 200);
    assert_eq!(stored_ids(&s).len(), 203);
}

/// Garbage and oversized requests at the socket: a request line that is not
/// HTTP, a URI over 64 KiB (tens of thousands of query parameters), too many
/// or too large headers, a body declared over max_content_length, a
/// malformed chunked body. Each gets an error status (or is dropped), and
/// the server keeps serving.
#[test]
fn garbage_and_oversized_requests() {
    let (s, _data) = start_short();
    seed(&s);
    let auth = basic("bob", "correct horse");
    let many_params = vec!["match[type]=identity"; 5_000].join("&");
    let many_headers: String = (0..500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let huge_header = format!("X-Big: {}\r\n", "a".repeat(1 << 20));
    let requests: Vec<(Vec<u8>, &[u16])> = vec![
        (b"\x00\x01\x02garbage\r\n\r\n".to_vec(), &[400]),
        (b"GET\r\n\r\n".to_vec(), &[400]),
        (b"GET /taxii2/ HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(), &[400, 505]),
        (
            format!("GET {OBJECTS}?{many_params} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n")
                .into_bytes(),
            &[400, 414, 431],
        ),
        (
            format!("GET /taxii2/ HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
            &[400, 431],
        ),
        (
            format!("GET /taxii2/ HTTP/1.1\r\nHost: x\r\n{huge_header}\r\n").into_bytes(),
            &[400, 431],
        ),
        (post_head(s.addr, 50 << 20).into_bytes(), &[413]),
        (
            format!(
                "POST {OBJECTS} HTTP/1.1\r\nHost: x\r\nContent-Type: {TAXII}\r\nAuthorization: {auth}\r\n\
                 Transfer-Encoding: chunked\r\n\r\nzz\r\nnot hex\r\n0\r\n\r\n"
            )
            .into_bytes(),
            &[400],
        ),
        (
            format!(
                "POST {OBJECTS} HTTP/1.1\r\nHost: x\r\nContent-Type: {TAXII}\r\nAuthorization: {auth}\r\n\
                 Content-Length: 5\r\nContent-Length: 7\r\n\r\n{{}}"
            )
            .into_bytes(),
            &[400],
        ),
    ];
    for (req, want) in requests {
        let mut c = connect(s.addr);
        // The server may answer and close before reading everything.
        let _ = c.write_all(&req);
        let (got, _) = read_until_closed(&mut c, DROP_WITHIN);
        let (status, head, body) = parse_response(&got);
        let shown = String::from_utf8_lossy(&req[..req.len().min(50)]).into_owned();
        assert!(
            got.is_empty() || want.contains(&status),
            "{shown:?}: {head}\n{body}"
        );
        if status == 413 {
            let e: Value = serde_json::from_str(&body).expect("TAXII error");
            assert_eq!(e["http_status"], "413");
        }
        alive(&s);
    }
    assert_eq!(stored_ids(&s).len(), 3);
}

/// TLS: a client that connects and never sends its ClientHello is dropped
/// after the header timeout, while TLS clients are served (HTTP/1.1 by ALPN).
#[test]
fn tls_handshake_stall_is_dropped() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = TestCert::write(dir.path());
    let mut c = short_timeouts(dir.path());
    c.tls = Some(sightline_server::TlsConfig {
        cert: cert.cert.clone(),
        key: cert.key.clone(),
    });
    let s = start_with(c, store_with_bob()).expect("start");
    let t0 = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..10).map(|_| connect(s.addr)).collect();
    // Half a ClientHello record header.
    stalled[0].write_all(&[0x16, 0x03]).expect("write");
    let tls_client = cert.client();
    let url = format!("https://localhost:{}/taxii2/", s.addr.port());
    let r = tls_client.get(&url).send().expect("TLS request");
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    for c in &mut stalled {
        let left = DROP_WITHIN.saturating_sub(t0.elapsed());
        let (_, closed) = read_until_closed(c, left);
        assert!(closed, "a stalled TLS handshake was not dropped");
    }
    let r = tls_client.get(&url).send().expect("TLS request after");
    assert_eq!(r.status(), 200);
}

/// Issue 12 §4: the SQLite store is private to its owner whatever the
/// umask: the data directory 0700, `sightline.db`, `-wal` and `-shm` 0600;
/// an existing store with wider permissions is tightened when opened.
#[cfg(unix)]
#[test]
fn store_files_are_private() {
    use sightline_store_sqlite::SqliteStore;
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    let files = ["sightline.db", "sightline.db-wal", "sightline.db-shm"].map(|f| dir.join(f));
    let check = |what: &str| {
        assert_eq!(mode(&dir), 0o700, "{what}: the directory");
        for f in &files {
            assert!(f.exists(), "{what}: {} exists", f.display());
            assert_eq!(mode(f), 0o600, "{what}: {}", f.display());
        }
    };
    let store = SqliteStore::open(&dir).expect("open");
    check("a new store");
    drop(store);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&files[0], std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let _store = SqliteStore::open(&dir).expect("reopen");
    check("an old store, reopened");
}
