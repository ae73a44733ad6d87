//! Issue 5 §3: `kill -9` of `sightline serve` during a stream of TAXII POSTs,
//! on SQLite and on PostgreSQL. A client thread POSTs envelopes of new objects
//! (TAXII 2.1 §5.4) and keeps every status resource answered 202; after a
//! random short time the server gets SIGKILL. Then, on the store as the crash
//! left it: `sightline check` finds no problem; a server restarted on it
//! serves every object of every acknowledged status byte for byte (GET by id,
//! §5.6) and every such status (§4.3, the status is stored in the objects'
//! transaction), and accepts new POSTs. A few kills per backend.
//!
//! The PostgreSQL test needs PostgreSQL: SIGHTLINE_TEST_PG, or a private cluster
//! `sightline_testkit::pg` starts; without PostgreSQL it fails and says how to get it.

use crate::common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{basic, ok, sightline, Serve, TAXII};
use serde_json::{json, Value};
use sightline_testkit::pg::TestDb;

const KILLS: usize = 5;
const PER_ENVELOPE: u64 = 5;

fn run(store: &str, args: &[&str], stdin: Option<&str>) -> Output {
    sightline(&["--store", store], args, stdin)
}

/// The server on `store`, its standard error silenced (kills make noise).
fn serve(store: &str, data: &Path, config: &Path) -> Serve {
    let config = config.to_str().expect("UTF-8 path");
    Serve::start(
        &[&["--store", store][..], &common::data(data)[..]].concat(),
        &["--config", config],
        Stdio::null(),
    )
}

fn auth() -> String {
    basic("alice", "correct horse")
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A small xorshift: random kill times without a dependency; the seed is printed.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("SIGHTLINE_FAULTS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
                    | 1
            });
        eprintln!("faults: seed {seed} (SIGHTLINE_FAULTS_SEED to repeat)");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One indicator, as the exact text POSTed: a fresh id from `tag` and `n`.
fn indicator(tag: u32, n: u64) -> (String, String) {
    let id = format!(
        "indicator--{tag:08x}-{:04x}-4000-8000-{:012x}",
        (n >> 48) & 0xffff,
        n & 0xffff_ffff_ffff
    );
    let raw = json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2024-05-01T10:00:00.000Z", "modified": "2024-05-01T10:00:00.000Z",
        "name": format!("kill test {n}"),
        "pattern": format!("[ipv4-addr:value = '10.{}.{}.{}']", (n >> 16) & 255, (n >> 8) & 255, n & 255),
        "pattern_type": "stix", "valid_from": "2024-05-01T10:00:00Z"
    })
    .to_string();
    (id, raw)
}

/// What an acknowledged POST said: the status body as received, and the
/// objects it reported as successes, with the exact text sent for each.
struct Acked {
    status_id: String,
    status_body: String,
    objects: Vec<(String, String)>,
}

/// POSTs envelopes to `url` until `stop`; every 202 whose status lists
/// successes goes to `acked`. Errors (the server dying) end the stream.
fn post_stream(
    url: String,
    tag: u32,
    next: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
    count: Arc<AtomicUsize>,
    cut: Arc<AtomicUsize>,
) {
    let c = client();
    while !stop.load(Ordering::Relaxed) {
        let first = next.fetch_add(PER_ENVELOPE, Ordering::Relaxed);
        let objs: Vec<(String, String)> = (first..first + PER_ENVELOPE)
            .map(|n| indicator(tag, n))
            .collect();
        let body = format!(
            "{{\"objects\":[{}]}}",
            objs.iter()
                .map(|(_, r)| r.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        let r = c
            .post(&url)
            .header("Accept", TAXII)
            .header("Content-Type", TAXII)
            .header("Authorization", auth())
            .body(body)
            .send();
        // A transport error is the kill landing mid-request: its outcome is unknown.
        let Ok(r) = r else {
            cut.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let code = r.status().as_u16();
        let Ok(text) = r.text() else {
            cut.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if code != 202 {
            // Only a dying server may refuse; a live one must accept valid objects.
            assert!(
                stop.load(Ordering::Relaxed) || code >= 500,
                "POST answered {code}: {text}"
            );
            return;
        }
        let st: Value = serde_json::from_str(&text).expect("status JSON");
        let ok_ids: Vec<&str> = st["successes"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d["id"].as_str()).collect())
            .unwrap_or_default();
        let objects = objs
            .iter()
            .filter(|(id, _)| ok_ids.contains(&id.as_str()))
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(
            objects.len(),
            ok_ids.len(),
            "status names unknown ids: {st}"
        );
        assert_eq!(st["success_count"], PER_ENVELOPE, "{st}");
        acked.lock().expect("acked").push(Acked {
            status_id: st["id"].as_str().expect("status id").to_owned(),
            status_body: text,
            objects,
        });
        count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every acknowledged object is served byte for byte, every status is still
/// readable and unchanged.
fn verify(srv: &Serve, acked: &[Acked]) {
    let c = client();
    let objects = format!("{}/api1/collections/c1/objects", srv.base);
    for a in acked {
        let url = format!("{}/api1/status/{}/", srv.base, a.status_id);
        let r = c
            .get(&url)
            .header("Accept", TAXII)
            .header("Authorization", auth())
            .send()
            .expect("GET status");
        assert_eq!(r.status(), 200, "status {} lost", a.status_id);
        assert_eq!(
            r.text().expect("status body"),
            a.status_body,
            "status {} changed",
            a.status_id
        );
        for (id, raw) in &a.objects {
            let r = c
                .get(format!("{objects}/{id}/"))
                .header("Accept", TAXII)
                .header("Authorization", auth())
                .send()
                .expect("GET object");
            assert_eq!(
                r.status(),
                200,
                "{id} of acknowledged status {} is missing",
                a.status_id
            );
            let body = r.text().expect("body");
            // The store keeps the text as sent: the envelope holds it verbatim.
            assert!(
                body.contains(raw.as_str()),
                "{id} is not byte-identical:\nsent {raw}\ngot  {body}"
            );
            let v: Value = serde_json::from_str(&body).expect("envelope");
            assert_eq!(v["objects"].as_array().map(Vec::len), Some(1), "{body}");
        }
    }
}

fn kill_under_posts(store: &str) {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("dir");
    ok(&run(store, &["collection", "add", "c1"], None));
    ok(&run(
        store,
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse\n"),
    ));
    let config = dir.path().join("sightline.toml");
    std::fs::write(
        &config,
        sightline_testkit::config::OneCollection {
            top: "default_api_root = \"api1\"",
            rights: "can_read = [\"alice\"]\ncan_write = [\"alice\"]",
            ..Default::default()
        }
        .toml(),
    )
    .expect("config");
    let data = dir.path().join("data");
    let mut rng = Rng::new();
    let tag = rng.below(u32::MAX as u64) as u32;
    let next = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let cut = Arc::new(AtomicUsize::new(0));
    let mut srv = serve(store, &data, &config);
    for round in 0..KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let url = format!("{}/api1/collections/c1/objects/", srv.base);
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (n, s, a, c, x, u) = (
                    next.clone(),
                    stop.clone(),
                    acked.clone(),
                    count.clone(),
                    cut.clone(),
                    url.clone(),
                );
                std::thread::spawn(move || post_stream(u, tag, n, s, a, c, x))
            })
            .collect();
        // Kill after a few acknowledgements and a random extra while POSTs are in flight.
        let deadline = Instant::now() + Duration::from_secs(20);
        while count.load(Ordering::Relaxed) < 3 {
            assert!(Instant::now() < deadline, "no POST was acknowledged");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.below(700)));
        srv.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().expect("writer thread");
        }
        // The store as the crash left it: consistent.
        let out = ok(&run(store, &["check"], None));
        assert!(out.starts_with("ok: "), "check after kill {round}: {out}");
        // Restarted on it: everything acknowledged is there, and it takes POSTs.
        srv = serve(store, &data, &config);
        let all = acked.lock().expect("acked");
        verify(&srv, &all);
        eprintln!(
            "faults: kill {round}: {} statuses / {} objects acknowledged so far, all intact",
            all.len(),
            all.len() as u64 * PER_ENVELOPE
        );
        drop(all);
        let n = next.fetch_add(PER_ENVELOPE, Ordering::Relaxed);
        let fresh: Vec<Value> = (n..n + PER_ENVELOPE)
            .map(|k| serde_json::from_str(&indicator(tag, k).1).expect("json"))
            .collect();
        let r = client()
            .post(format!("{}/api1/collections/c1/objects/", srv.base))
            .header("Accept", TAXII)
            .header("Content-Type", TAXII)
            .header("Authorization", auth())
            .body(json!({ "objects": fresh }).to_string())
            .send()
            .expect("POST after restart");
        assert_eq!(r.status(), 202);
        let st: Value = r.json().expect("status");
        assert_eq!(st["success_count"], PER_ENVELOPE, "{st}");
    }
    drop(srv);
    let out = ok(&run(store, &["check"], None));
    assert!(out.starts_with("ok: "), "{out}");
    // Two writers POST back to back: the kills must have cut some POSTs mid-flight,
    // or this test did not test a crash during a write.
    let cut = cut.load(Ordering::Relaxed);
    assert!(cut > 0, "no POST was in flight at any kill");
    eprintln!(
        "faults: {store}: {KILLS} kills in {:?}, {cut} POSTs cut mid-flight",
        t0.elapsed()
    );
}

/// Issue 5 §3 on the embedded store (SQLite, WAL).
#[test]
fn kill9_under_posts_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let store = format!("sqlite:{}", dir.path().join("store").display());
    kill_under_posts(&store);
}

/// Issue 5 §3 on PostgreSQL (`sightline_testkit::pg`).
#[test]
fn kill9_under_posts_postgres() {
    let db = TestDb::new("kill9");
    kill_under_posts(db.url());
}
