//! The pullers against a scripted TAXII 2.1 server on 127.0.0.1 (TAXII 2.1
//! §5.4 Get Objects: `added_after`, `limit`, `next`, `more`, the
//! `X-TAXII-Date-Added-First/Last` headers) and its misbehaviours (digest §5.3).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sightline_store::{MemoryStore, ObjectQuery, ObjectWriter, Store, VersionReader};

use crate::http::Retry;
use crate::registry;
use crate::testserver::{Reply, Req, TestServer};
use crate::{sync_feed, FeedConfig, FeedKind, SyncOptions};

fn validator() -> sightline_stix::Validator {
    sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker))
}

fn opts() -> SyncOptions {
    SyncOptions {
        full: false,
        retry: Retry {
            attempts: 3,
            base: Duration::from_millis(10),
            max_wait: Duration::from_secs(2),
        },
    }
}

/// An indicator numbered `n`, with a `modified` of its own.
fn indicator(n: usize) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{:08x}-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.{}']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}}"#,
        n,
        n % 250
    )
}

/// `date_added` of object `n`: distinct and increasing.
fn date_added(n: usize) -> String {
    format!("2024-02-01T00:00:{:02}.{:06}Z", n / 1000, n % 1000)
}

/// How the fake server misbehaves.
#[derive(Default, Clone, Copy)]
struct Quirks {
    /// Never send X-TAXII-Date-Added-First/Last.
    no_headers: bool,
    /// Answer everything from the start whatever `added_after` says.
    ignore_added_after: bool,
    /// Page by `added_after` only: `more` without `next`.
    no_next: bool,
    /// Refuse the `next` token "3" (issued before a restart that forgot it).
    forget_next: bool,
    /// One `next` token for a whole paging session, as medallion: "s",
    /// the position kept by the server.
    session_next: bool,
    /// Answer the same page and the same `next` forever.
    stuck: bool,
    /// Every object gets the same date_added (one POST, on medallion).
    one_date: bool,
}

/// A TAXII collection of `objects` served at /api1/collections/c/, paged
/// by `limit` (default 3) with `next` = the offset.
struct Fake {
    objects: Arc<Mutex<Vec<String>>>,
    server: TestServer,
    /// 0: serve; 1: a request with `next` gets a 500; 2: `next` "3" is unknown (404) once.
    mode: Arc<AtomicUsize>,
}

fn fake(quirks: Quirks) -> Fake {
    let objects: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let objs = objects.clone();
    let session = Arc::new(AtomicUsize::new(0));
    let mode = Arc::new(AtomicUsize::new(0));
    let mode2 = mode.clone();
    let date_of = move |i: usize| {
        if quirks.one_date {
            date_added(0)
        } else {
            date_added(i)
        }
    };
    let server = TestServer::start(move |r: &Req| {
        let all = objs.lock().map(|o| o.clone()).unwrap_or_default();
        let start = match r.param("added_after") {
            Some(a) if !quirks.ignore_added_after => all
                .iter()
                .enumerate()
                .take_while(|(i, _)| date_of(*i).as_str() <= a)
                .count(),
            _ => 0,
        };
        let limit: usize = r.param("limit").and_then(|l| l.parse().ok()).unwrap_or(3);
        match (mode2.load(Ordering::SeqCst), r.param("next")) {
            (1, Some(_)) => return Reply::status(500, "down"),
            (2, Some("3")) => {
                // Forgotten once: a token issued after this is known.
                mode2.store(0, Ordering::SeqCst);
                return Reply::status(404, "unknown next");
            }
            _ => {}
        }
        let offset = match r.param("next") {
            Some("3") if quirks.forget_next => return Reply::status(404, "unknown next"),
            Some(_) if quirks.stuck => start,
            Some("s") => session.load(Ordering::SeqCst),
            Some(n) => match n.parse::<usize>() {
                Ok(v) => v,
                Err(_) => return Reply::status(400, "bad next"),
            },
            None => start,
        };
        if r.path.ends_with("/manifest/") {
            let entries: Vec<String> = (start..all.len())
                .map(|i| {
                    let v: serde_json::Value = serde_json::from_str(&all[i]).unwrap_or_default();
                    format!(
                        r#"{{"id":{},"date_added":"{}","version":"x","media_type":"application/stix+json;version=2.1"}}"#,
                        v["id"],
                        date_of(i)
                    )
                })
                .collect();
            return Reply::taxii(&format!(r#"{{"objects":[{}]}}"#, entries.join(",")));
        }
        let end = (offset + limit).min(all.len());
        let page = &all[offset.min(end)..end];
        let more = end < all.len();
        session.store(end, Ordering::SeqCst);
        let next = if more && (quirks.session_next || quirks.stuck) {
            r#","next":"s""#.to_owned()
        } else if more && !quirks.no_next {
            format!(r#","next":"{end}""#)
        } else {
            String::new()
        };
        let mut reply = Reply::taxii(&format!(
            r#"{{"more":{more}{next},"objects":[{}]}}"#,
            page.join(",")
        ));
        if !quirks.no_headers && !page.is_empty() {
            reply = reply
                .header("X-TAXII-Date-Added-First", &date_of(offset))
                .header("X-TAXII-Date-Added-Last", &date_of(end - 1));
        }
        reply
    });
    Fake {
        objects,
        server,
        mode,
    }
}

impl Fake {
    fn add(&self, range: std::ops::Range<usize>) {
        if let Ok(mut o) = self.objects.lock() {
            o.extend(range.map(indicator));
        }
    }
    fn feed(&self) -> FeedConfig {
        FeedConfig::new(
            "p",
            FeedKind::Taxii,
            &format!("{}/api1/collections/c/", self.server.base),
        )
    }
}

fn count(store: &dyn Store, coll: &str, ty: &str) -> usize {
    let Ok(Some(c)) = store.collection(coll) else {
        return 0;
    };
    let q = ObjectQuery {
        collection: Some(c.id),
        types: vec![ty.to_owned()],
        versions: sightline_store::VersionFilter::all(),
        limit: 100_000,
        ..ObjectQuery::default()
    };
    store.query(&q).map(|p| p.items.len()).unwrap_or(0)
}

/// TAXII 2.1 §5.4: the first run pages with `next` through everything,
/// sending `match[version]=all`; the second sends `added_after` = the last
/// page's X-TAXII-Date-Added-Last (verbatim) and gets only the new objects.
#[test]
fn incremental_pull_by_next_then_added_after() {
    let f = fake(Quirks::default());
    f.add(0..10);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync");
    assert_eq!(r.error, None);
    assert_eq!((r.counts.new, r.counts.pages), (10, 4));
    assert_eq!(count(&store, "feed-p", "indicator"), 10);
    assert_eq!(
        count(&store, "feed-p", "identity"),
        1,
        "the feed's identity"
    );
    let st = registry::state(&store, "p").expect("state");
    assert_eq!(st.cursor.as_deref(), Some(date_added(9).as_str()));
    assert_eq!(st.pending_next, None);
    let reqs = f.server.requests();
    assert!(reqs
        .iter()
        .all(|q| q.param("match[version]") == Some("all")));
    assert_eq!(reqs[1].param("next"), Some("3"));
    assert_eq!(reqs[0].header("accept"), Some(crate::taxii::TAXII_MEDIA));

    f.add(10..12);
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync 2");
    assert_eq!((r.counts.new, r.counts.duplicate), (2, 0));
    let last = f.server.requests();
    let q = &last[reqs.len()];
    assert_eq!(q.param("added_after"), Some(date_added(9).as_str()));
    assert_eq!(count(&store, "feed-p", "indicator"), 12);
    // --full reads everything again; nothing is stored twice.
    let full = SyncOptions {
        full: true,
        ..opts()
    };
    let r = sync_feed(&store, &validator(), &f.feed(), &full).expect("full");
    assert_eq!((r.counts.new, r.counts.duplicate), (0, 12));
}

/// Digest §5.1: `more` without `next` pages by `added_after` = the page's
/// X-TAXII-Date-Added-Last, with the other parameters unchanged.
#[test]
fn paging_by_added_after_when_no_next() {
    let f = fake(Quirks {
        no_next: true,
        ..Quirks::default()
    });
    f.add(0..7);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync");
    assert_eq!(r.error, None);
    assert_eq!(r.counts.new, 7);
    let reqs = f.server.requests();
    assert_eq!(reqs[1].param("added_after"), Some(date_added(2).as_str()));
}

/// A server that ignores `added_after` (digest §5.3, mitre/cti#40): the
/// second run re-reads everything as duplicates, warns, and ends.
#[test]
fn a_server_ignoring_added_after_does_not_loop() {
    let f = fake(Quirks {
        ignore_added_after: true,
        ..Quirks::default()
    });
    f.add(0..5);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync");
    assert_eq!(r.counts.new, 5);
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync 2");
    assert_eq!(r.error, None);
    assert_eq!((r.counts.new, r.counts.duplicate), (0, 5));
    assert!(
        r.warnings.iter().any(|w| w.contains("ignores added_after")),
        "{:?}",
        r.warnings
    );
    // Worse: no `next` either, so paging by `added_after` would start over
    // forever. A page that does not move past what was sent ends the run.
    let g = fake(Quirks {
        ignore_added_after: true,
        no_next: true,
        ..Quirks::default()
    });
    g.add(0..5);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &g.feed(), &opts()).expect("sync");
    assert_eq!(r.error, None);
    assert_eq!(
        r.counts.new, 3,
        "the first page; the second was the same again"
    );
    assert_eq!(g.server.requests().len(), 2);
    assert!(
        r.warnings.iter().any(|w| w.contains("run stopped")),
        "{:?}",
        r.warnings
    );
}

/// Missing X-TAXII-Date-Added-Last (Azure-Sentinel#12234): the cursor
/// comes from the manifest's `date_added` of the page's objects.
#[test]
fn missing_headers_fall_back_to_the_manifest() {
    let f = fake(Quirks {
        no_headers: true,
        ..Quirks::default()
    });
    f.add(0..4);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync");
    assert_eq!((r.error, r.counts.new), (None, 4));
    let st = registry::state(&store, "p").expect("state");
    assert_eq!(st.cursor.as_deref(), Some(date_added(3).as_str()));
    assert!(f
        .server
        .requests()
        .iter()
        .any(|q| q.path.ends_with("/manifest/")));
}

/// A crash mid-run: the state committed with page 1 holds the `next` of
/// page 2 and the run's `added_after`; the next sync resumes there. When
/// the server no longer knows that `next` (404), the run restarts from the
/// committed cursor (digest §5.3), re-reading at most what it had.
#[test]
fn resume_and_expired_next() {
    let f = fake(Quirks::default());
    f.add(0..9);
    let store = MemoryStore::new();
    // What a crash after page 1 leaves behind.
    let st = registry::FeedState {
        cursor: Some(date_added(2)),
        pending_next: Some("3".into()),
        pending_added_after: None,
        ..Default::default()
    };
    registry::save_state(&store, "p", &st).expect("state");
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("resume");
    assert_eq!(r.counts.new, 6, "objects 3..9 only");
    assert_eq!(f.server.requests()[0].param("next"), Some("3"));
    assert_eq!(
        f.server.requests()[0].param("added_after"),
        None,
        "the run's own params"
    );

    let g = fake(Quirks {
        forget_next: true,
        ..Quirks::default()
    });
    g.add(0..9);
    let store = MemoryStore::new();
    registry::save_state(&store, "p", &st).expect("state");
    let r = sync_feed(&store, &validator(), &g.feed(), &opts()).expect("restart");
    assert_eq!(r.error, None);
    assert_eq!(r.counts.new, 6);
    assert!(
        r.warnings.iter().any(|w| w.contains("next token")),
        "{:?}",
        r.warnings
    );
    let reqs = g.server.requests();
    assert_eq!(reqs[1].param("added_after"), Some(date_added(2).as_str()));
}

/// Bad answers: each is recorded in the state, nothing committed is lost,
/// and the next run succeeds.
#[test]
fn bad_answers_are_recorded_and_retried_later() {
    type Case = (&'static str, fn() -> Reply, &'static str);
    let cases: [Case; 5] = [
        ("500", || Reply::status(500, "boom"), "HTTP 500"),
        (
            "garbage",
            || Reply::taxii("{\"objects\": [nope"),
            "not a TAXII envelope",
        ),
        (
            "media type",
            || {
                let mut r = Reply::taxii(r#"{"objects":[]}"#);
                r.headers = vec![("Content-Type".into(), "text/html".into())];
                r
            },
            "media type",
        ),
        (
            "truncated",
            || Reply {
                truncate_to: Some(10),
                ..Reply::taxii(&format!(r#"{{"objects":[{}]}}"#, indicator(77)))
            },
            "",
        ),
        (
            "timeout",
            || Reply {
                delay: Duration::from_secs(3),
                ..Reply::taxii(r#"{"objects":[]}"#)
            },
            "timed out",
        ),
    ];
    for (name, bad, expect) in cases {
        let f = fake(Quirks::default());
        f.add(0..6);
        let store = MemoryStore::new();
        let mut feed = f.feed();
        feed.timeout_secs = Some(1);
        feed.limit = Some(3);
        // A good first run.
        sync_feed(&store, &validator(), &feed, &opts()).expect("first");
        f.add(6..8);
        // The same URL, now misbehaving.
        let broken = TestServer::start(move |_: &Req| bad());
        let mut bfeed = feed.clone();
        bfeed.url = format!("{}/api1/collections/c/", broken.base);
        let r = sync_feed(&store, &validator(), &bfeed, &opts()).expect(name);
        let err = r.error.clone().unwrap_or_default();
        assert!(err.contains(expect), "{name}: {err}");
        let st = registry::state(&store, "p").expect("state");
        assert_eq!(st.outcome.as_deref(), Some("error"), "{name}");
        assert_eq!(st.consecutive_failures, 1, "{name}");
        assert_eq!(
            st.cursor.as_deref(),
            Some(date_added(5).as_str()),
            "{name}: cursor kept"
        );
        assert_eq!(
            count(&store, "feed-p", "indicator"),
            6,
            "{name}: nothing lost"
        );
        let r = sync_feed(&store, &validator(), &feed, &opts()).expect("again");
        assert_eq!((r.error, r.counts.new), (None, 2), "{name}");
        let st = registry::state(&store, "p").expect("state");
        assert_eq!(
            (st.outcome.as_deref(), st.consecutive_failures),
            (Some("ok"), 0)
        );
    }
}

/// 429 and 503 are retried, waiting what `Retry-After` says (RFC 9110
/// §10.2.3); a 503 without it backs off.
#[test]
fn retry_after_is_honoured() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = TestServer::start(move |_: &Req| match c.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::status(429, "slow down").header("Retry-After", "1"),
        1 => Reply::status(503, "busy"),
        _ => Reply::taxii(&format!(r#"{{"objects":[{}]}}"#, indicator(1)))
            .header("X-TAXII-Date-Added-Last", "2024-01-01T00:00:00.000001Z"),
    });
    let feed = FeedConfig::new(
        "p",
        FeedKind::Taxii,
        &format!("{}/r/collections/c/", server.base),
    );
    let mut fetch = crate::http::Fetcher::new(&feed, opts().retry).expect("fetcher");
    let r = fetch
        .get(&format!("{}/x", server.base), &[], "a/b")
        .expect("get");
    assert_eq!(r.status, 200);
    assert_eq!(
        fetch.slept,
        vec![Duration::from_secs(1), Duration::from_millis(20)]
    );
}

/// One invalid object is counted with its diagnostics; the rest of the
/// page is stored.
#[test]
fn one_bad_object_does_not_reject_the_page() {
    let f = fake(Quirks::default());
    f.add(0..2);
    if let Ok(mut o) = f.objects.lock() {
        o.push(r#"{"type":"indicator","id":"indicator--nope"}"#.into());
        o.push("42".into());
    }
    let store = MemoryStore::new();
    let mut feed = f.feed();
    feed.limit = Some(10);
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
    assert_eq!((r.counts.new, r.counts.rejected), (2, 2));
    let st = registry::state(&store, "p").expect("state");
    assert_eq!(st.rejections.len(), 2);
    assert_eq!(st.rejections[0].id.as_deref(), Some("indicator--nope"));
    assert!(!st.rejections[0].errors.is_empty());
}

/// Basic and Bearer credentials come from the environment variables named.
#[test]
fn credentials_from_the_environment() {
    let f = fake(Quirks::default());
    f.add(0..1);
    let store = MemoryStore::new();
    let mut feed = f.feed();
    feed.token_env = Some("SIGHTLINE_FEEDS_TEST_TOKEN_UNSET".into());
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
    assert!(r
        .error
        .unwrap_or_default()
        .contains("SIGHTLINE_FEEDS_TEST_TOKEN_UNSET"));
    // PATH is always set: it stands in for a token variable.
    let path = std::env::var("PATH").unwrap_or_default();
    feed.token_env = Some("PATH".into());
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
    assert_eq!(r.error, None);
    let want = format!("Bearer {path}");
    assert!(f
        .server
        .requests()
        .iter()
        .all(|q| q.header("authorization") == Some(want.as_str())));
}

/// CSV from an http URL: refanged values, a re-sync stores nothing new, a
/// changed description is a new version of the same indicator.
#[test]
fn csv_over_http_dedups_and_updates() {
    let body = Arc::new(Mutex::new(String::from(
        "# comment\nurl,desc\nhxxp://evil[.]example/a,first\n1.2.3[.]4,second\nnot valid,x\n",
    )));
    let b = body.clone();
    let server = TestServer::start(move |_: &Req| {
        let mut r = Reply::status(200, &b.lock().map(|s| s.clone()).unwrap_or_default());
        r.headers = vec![("Content-Type".into(), "text/csv".into())];
        r
    });
    let mut feed = FeedConfig::new("list", FeedKind::Csv, &format!("{}/list.csv", server.base));
    feed.csv.description_column = Some(2);
    feed.csv.confidence = Some(70);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
    assert_eq!((r.counts.new, r.counts.rejected), (2, 1), "{r:?}");
    let id = crate::csv::indicator_id(
        "list",
        crate::csv::IndicatorType::Url,
        "http://evil.example/a",
    );
    let v = store.versions(&id, None).expect("versions");
    assert_eq!(v.len(), 1);
    let o: serde_json::Value = serde_json::from_str(&v[0].raw).expect("json");
    assert_eq!(o["pattern"], "[url:value = 'http://evil.example/a']");
    assert_eq!(o["created_by_ref"], crate::feed_identity_id("list"));
    assert_eq!(o["x_sightline_feed"], "list");
    assert_eq!(o["confidence"], 70);

    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("resync");
    assert_eq!(
        (r.counts.new, r.counts.duplicate, r.counts.updated),
        (0, 2, 0)
    );

    if let Ok(mut s) = body.lock() {
        *s = s.replace("first", "changed");
    }
    std::thread::sleep(Duration::from_millis(2)); // a later `modified`
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("update");
    assert_eq!((r.counts.updated, r.counts.duplicate), (1, 1));
    let v = store.versions(&id, None).expect("versions");
    assert_eq!(v.len(), 2);
    let o2: serde_json::Value = serde_json::from_str(&v[1].raw).expect("json");
    assert_eq!(o2["created"], o["created"]);
    assert_eq!(o2["description"], "changed");
}

/// A new version of an object the collection holds is "updated", not "new"
/// (match[version]=all brings every version, TAXII 2.1 §3.4.1).
#[test]
fn a_new_version_counts_as_updated() {
    let f = fake(Quirks::default());
    f.add(0..2);
    let store = MemoryStore::new();
    sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync");
    if let Ok(mut o) = f.objects.lock() {
        let v2 = indicator(1).replace(
            r#""modified":"2024-01-01T00:00:00.000Z""#,
            r#""modified":"2024-06-01T00:00:00.000Z""#,
        );
        o.push(v2);
        o.push(indicator(7));
    }
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync 2");
    assert_eq!((r.counts.new, r.counts.updated), (1, 1), "{r:?}");
}

/// medallion keeps one `next` token for a whole paging session (found by
/// tests/interop/feeds_medallion.py): the same token again is followed while
/// the pages move on; a server answering the same page with the same token
/// forever is stopped.
#[test]
fn one_next_token_per_session_is_followed_a_stuck_one_is_not() {
    let f = fake(Quirks {
        session_next: true,
        ..Quirks::default()
    });
    f.add(0..10);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync");
    assert_eq!((r.error, r.counts.new, r.counts.pages), (None, 10, 4));
    let g = fake(Quirks {
        stuck: true,
        ..Quirks::default()
    });
    g.add(0..10);
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &g.feed(), &opts()).expect("sync");
    assert_eq!(r.counts.new, 3);
    assert_eq!(g.server.requests().len(), 2);
    assert!(
        r.warnings.iter().any(|w| w.contains("same objects again")),
        "{:?}",
        r.warnings
    );
}

/// Objects sharing one date_added across pages (digest §5.3; medallion
/// gives a POST's objects one): a run cut after page 1, whose `next` the
/// server then forgets, restarts from the committed cursor, which is 1 µs
/// before that date, so the objects of the later pages are not skipped by
/// `added_after` (strictly after, TAXII 2.1 §3.4.1).
#[test]
fn a_shared_date_added_loses_nothing_on_restart() {
    let f = fake(Quirks {
        one_date: true,
        ..Quirks::default()
    });
    f.add(0..9);
    let store = MemoryStore::new();
    f.mode.store(1, Ordering::SeqCst);
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("sync");
    assert!(r.error.is_some());
    assert_eq!(r.counts.new, 3, "page 1 committed");
    f.mode.store(2, Ordering::SeqCst);
    let r = sync_feed(&store, &validator(), &f.feed(), &opts()).expect("restart");
    assert_eq!(r.error, None);
    assert_eq!((r.counts.new, r.counts.duplicate), (6, 3), "{r:?}");
    assert_eq!(count(&store, "feed-p", "indicator"), 9);
}

fn misp_event(uuid: &str, ts: u64, published: bool) -> String {
    format!(
        r#"{{"Event": {{"uuid": "{uuid}", "info": "C2 for FooRAT", "date": "2026-05-01",
  "threat_level_id": "2", "analysis": "1", "timestamp": "{ts}", "published": {published},
  "publish_timestamp": "1777600100", "Orgc": {{"name": "ExampleCERT"}},
  "Tag": [{{"name": "tlp:amber"}}, {{"name": "misp-galaxy:threat-actor=\"Foo\""}}],
  "Galaxy": [{{"type": "threat-actor", "name": "Threat Actor", "GalaxyCluster": [{{"uuid": "7cdff317-a673-4474-84ec-4f1754947823",
     "type": "threat-actor", "value": "Foo", "description": "A group", "meta": {{"synonyms": ["FooTeam"]}}}}]}}],
  "Attribute": [
    {{"uuid": "518b4bcb-a86b-4783-9457-391d548b605b", "type": "ip-dst|port", "category": "Network activity",
     "value": "5.6.7.8|443", "to_ids": true, "comment": "C2", "timestamp": "1777600000"}},
    {{"uuid": "2007ec09-8137-4a71-a3ce-6ef967bebacf", "type": "filename|sha256", "category": "Payload delivery",
     "value": "foo.exe|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "to_ids": true, "timestamp": "1777600000"}},
    {{"uuid": "9a6e4a8e-64c4-4a8e-9d4a-1f2d8c2b7e01", "type": "text", "category": "Other",
     "value": "seen in May", "to_ids": false, "timestamp": "1777600000"}},
    {{"type": "domain", "value": "no-uuid.example", "to_ids": true}}]}}}}"#
    )
}

/// A MISP feed over HTTP (digest §4.2): events from the manifest become a
/// report (published) or grouping with indicators (to_ids, patterns of
/// digest §4.5) and notes; TLP tags become markings, other tags labels; a
/// manifest that did not change fetches no event; a later timestamp does.
#[test]
fn misp_feed_events_and_updates() {
    let e1 = "5720accd-dd28-45f8-80e5-4605950d210f";
    let e2 = "6720accd-dd28-45f8-80e5-4605950d210f";
    let ts1 = Arc::new(AtomicUsize::new(1_777_600_000));
    let t = ts1.clone();
    let server = TestServer::start(move |r: &Req| {
        let ts = t.load(Ordering::SeqCst) as u64;
        let body = match r.path.as_str() {
            "/feed/manifest.json" => format!(
                r#"{{"{e1}": {{"info": "C2", "timestamp": "{ts}"}}, "{e2}": {{"info": "x", "timestamp": "1777600000"}}}}"#
            ),
            p if p == format!("/feed/{e1}.json") => misp_event(e1, ts, true),
            p if p == format!("/feed/{e2}.json") => misp_event(e2, 1_777_600_000, false)
                .replace("518b4bcb", "618b4bcb")
                .replace("2007ec09", "3007ec09")
                .replace("9a6e4a8e", "aa6e4a8e"),
            _ => return Reply::status(404, "no"),
        };
        let mut r = Reply::status(200, &body);
        r.headers = vec![("Content-Type".into(), "application/json".into())];
        r
    });
    let feed = FeedConfig::new("misp", FeedKind::Misp, &format!("{}/feed/", server.base));
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
    assert_eq!(r.error, None);
    // Per event: 2 indicators, 1 note, the report or grouping; 1 attribute without uuid refused.
    // + the threat actor (once, then a duplicate) and 2 relationships each.
    assert_eq!(
        (r.counts.new, r.counts.rejected, r.counts.duplicate),
        (13, 2, 1),
        "{r:?}"
    );
    let rep = store
        .versions(&format!("report--{e1}"), None)
        .expect("report");
    let rep: serde_json::Value = serde_json::from_str(&rep[0].raw).expect("json");
    assert_eq!(rep["name"], "C2 for FooRAT");
    assert_eq!(
        rep["object_marking_refs"][0],
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    );
    assert_eq!(rep["labels"][0], "misp-galaxy:threat-actor=\"Foo\"");
    assert_eq!(rep["created_by_ref"], crate::feed_identity_id("misp"));
    assert_eq!(
        count(&store, "feed-misp", "grouping"),
        1,
        "the unpublished event"
    );
    let ind = store
        .versions("indicator--518b4bcb-a86b-4783-9457-391d548b605b", None)
        .expect("indicator");
    let ind: serde_json::Value = serde_json::from_str(&ind[0].raw).expect("json");
    assert_eq!(
        ind["pattern"],
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = 443]"
    );
    assert_eq!(ind["description"], "C2");
    assert_eq!(count(&store, "feed-misp", "note"), 2);
    // The galaxy cluster, once for both events, indicated by each indicator.
    assert_eq!(count(&store, "feed-misp", "threat-actor"), 1);
    assert_eq!(count(&store, "feed-misp", "relationship"), 4);
    let ta = store
        .versions("threat-actor--7cdff317-a673-4474-84ec-4f1754947823", None)
        .expect("threat actor");
    let ta: serde_json::Value = serde_json::from_str(&ta[0].raw).expect("json");
    assert_eq!(
        (ta["name"].as_str(), ta["aliases"][0].as_str()),
        (Some("Foo"), Some("FooTeam"))
    );

    let before = server.requests().len();
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("resync");
    assert_eq!((r.counts.new, r.counts.duplicate), (0, 0));
    assert_eq!(server.requests().len(), before + 1, "the manifest only");

    ts1.store(1_777_700_000, Ordering::SeqCst);
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("update");
    assert_eq!((r.counts.updated, r.counts.duplicate), (1, 6), "{r:?}");
}

/// `overlap_secs` (digest §5.3, non-monotonic date_added): a run starts
/// that long before the cursor; what it re-reads is duplicate, and a
/// server answering from before the cursor is not taken for one ignoring
/// `added_after`.
#[test]
fn overlap_rereads_before_the_cursor() {
    let f = fake(Quirks::default());
    f.add(0..5);
    let store = MemoryStore::new();
    let mut feed = f.feed();
    feed.overlap_secs = Some(1);
    sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
    let n = f.server.requests().len();
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync 2");
    let q = &f.server.requests()[n];
    assert_eq!(q.param("added_after"), Some("2024-01-31T23:59:59.000004Z"));
    assert_eq!((r.counts.new, r.counts.duplicate), (0, 5));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

/// A MISP feed directory (digest §4.2) with `manifest.json` and the given
/// event files; removed on drop.
struct MispDir(std::path::PathBuf);

impl MispDir {
    fn new(tag: &str) -> MispDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "sightline-misp-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        MispDir(dir)
    }
    fn write(&self, name: &str, body: &str) {
        std::fs::write(self.0.join(name), body).expect("write");
    }
}

impl Drop for MispDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Digest §4.2: a manifest entry's `integrity:sha256` is the hex SHA-256 of
/// the event file. An event file that matches it is imported; a tampered
/// one is refused with a diagnostic in the feed's state (counted as
/// rejected), nothing of it is stored, and it is fetched again at the next
/// sync (not recorded as read), so once the file is right it is imported.
/// `hashes.csv` (MISP's feed-hit cache) is never read, even when it is garbage.
#[test]
fn misp_integrity_sha256_is_checked() {
    let good = "5720accd-dd28-45f8-80e5-4605950d210f";
    let bad = "6720accd-dd28-45f8-80e5-4605950d210f";
    let good_body = misp_event(good, 1_777_600_000, true);
    let bad_body = misp_event(bad, 1_777_600_000, true)
        .replace("518b4bcb", "618b4bcb")
        .replace("2007ec09", "3007ec09")
        .replace("9a6e4a8e", "aa6e4a8e");
    // What the feed's publisher hashed, then the file as an attacker left it.
    let tampered = bad_body.replace("5.6.7.8|443", "9.9.9.9|443");
    let dir = MispDir::new("integrity");
    dir.write(
        "manifest.json",
        &format!(
            r#"{{"{good}": {{"info": "C2", "timestamp": "1777600000", "integrity:sha256": "{}"}},
               "{bad}": {{"info": "x", "timestamp": "1777600000", "integrity:sha256": "{}"}}}}"#,
            sha256_hex(&good_body),
            sha256_hex(&bad_body).to_ascii_uppercase()
        ),
    );
    dir.write(&format!("{good}.json"), &good_body);
    dir.write(&format!("{bad}.json"), &tampered);
    dir.write("hashes.csv", "not,a,cache\n\u{0}garbage");
    let feed = FeedConfig::new("misp", FeedKind::Misp, &dir.0.display().to_string());
    let store = MemoryStore::new();
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
    assert_eq!(r.error, None);
    // The good event as in misp_feed_events_and_updates: 2 indicators, a
    // note, the report, the threat actor, 2 relationships; 1 attribute
    // without uuid refused, + the tampered event refused whole.
    assert_eq!((r.counts.new, r.counts.rejected), (7, 2), "{r:?}");
    assert_eq!(
        store
            .versions(&format!("report--{good}"), None)
            .map(|v| v.len())
            .ok(),
        Some(1)
    );
    assert!(
        store
            .versions(&format!("report--{bad}"), None)
            .map(|v| v.is_empty())
            .unwrap_or(true),
        "a tampered event is never imported"
    );
    assert!(store
        .versions("indicator--618b4bcb-a86b-4783-9457-391d548b605b", None)
        .map(|v| v.is_empty())
        .unwrap_or(true));
    let st = registry::state(&store, "misp").expect("state");
    let note = st
        .rejections
        .iter()
        .find(|n| n.at == format!("event {bad}"))
        .expect("a diagnostic for the tampered event");
    assert!(
        note.errors[0].contains("integrity")
            && note.errors[0].contains(&sha256_hex(&tampered))
            && note.errors[0].contains("not imported"),
        "{note:?}"
    );
    assert!(st.misp_events.contains_key(good));
    assert!(
        !st.misp_events.contains_key(bad),
        "retried at the next sync"
    );

    // Next sync: the tampered file again is refused again; once the file
    // is what the manifest vouches for, it is imported.
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("again");
    assert_eq!((r.counts.new, r.counts.rejected), (0, 1), "{r:?}");
    dir.write(&format!("{bad}.json"), &bad_body);
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("fixed");
    assert_eq!(r.error, None);
    assert_eq!(
        store
            .versions(&format!("report--{bad}"), None)
            .map(|v| v.len())
            .ok(),
        Some(1)
    );
    assert!(r.counts.new >= 5, "{r:?}");

    // A value that is not a SHA-256 refuses the event too.
    dir.write(
        "manifest.json",
        &format!(r#"{{"{good}": {{"info": "C2", "timestamp": "1777700000", "integrity:sha256": "abc"}}}}"#),
    );
    let r = sync_feed(&store, &validator(), &feed, &opts()).expect("bad hash");
    assert_eq!((r.counts.updated, r.counts.rejected), (0, 1), "{r:?}");
    let st = registry::state(&store, "misp").expect("state");
    assert!(
        st.rejections[0].errors[0].contains("not a hex SHA-256"),
        "{:?}",
        st.rejections
    );
}

/// Pages are written while the next is fetched, and with `commit_pages`
/// several pages share a transaction: the counts stay exact (a new version
/// of an object stored by an earlier page of the run, committed or not yet,
/// is "updated", TAXII 2.1 §3.4.1 `match[version]=all`), and a run that
/// fails mid-way commits the pages it has before recording the error, with
/// the cursor and `next` of the last of them.
#[test]
fn pages_in_flight_and_in_one_transaction_count_exactly() {
    for commit_pages in [None, Some(3)] {
        let f = fake(Quirks::default());
        f.add(0..5);
        if let Ok(mut o) = f.objects.lock() {
            o.push(indicator(1).replace(
                r#""modified":"2024-01-01T00:00:00.000Z""#,
                r#""modified":"2024-06-01T00:00:00.000Z""#,
            ));
            o.extend((6..10).map(indicator));
        }
        let mut feed = f.feed();
        feed.commit_pages = commit_pages;
        let store = MemoryStore::new();
        let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
        assert_eq!(r.error, None);
        assert_eq!(
            (r.counts.new, r.counts.updated, r.counts.pages),
            (9, 1, 4),
            "{commit_pages:?}: {r:?}"
        );
        let st = registry::state(&store, "p").expect("state");
        assert_eq!(st.cursor.as_deref(), Some(date_added(9).as_str()));
        assert_eq!(st.pending_next, None);

        // The server fails from page 2 on: page 1 is committed with the
        // `next` to resume from, the error recorded.
        let g = fake(Quirks::default());
        g.add(0..9);
        let mut feed = g.feed();
        feed.commit_pages = commit_pages;
        g.mode.store(1, Ordering::SeqCst);
        let store = MemoryStore::new();
        let r = sync_feed(&store, &validator(), &feed, &opts()).expect("sync");
        assert!(r.error.is_some(), "{r:?}");
        assert_eq!((r.counts.new, r.counts.pages), (3, 1), "{commit_pages:?}");
        assert_eq!(count(&store, "feed-p", "indicator"), 3);
        let st = registry::state(&store, "p").expect("state");
        assert_eq!(st.pending_next.as_deref(), Some("3"), "{commit_pages:?}");
        g.mode.store(0, Ordering::SeqCst);
        let r = sync_feed(&store, &validator(), &feed, &opts()).expect("resume");
        assert_eq!((r.error, r.counts.new, r.counts.duplicate), (None, 6, 0));
    }
}

/// Fetch-ahead: the next page is requested while the current one is still
/// being written. The store's writer is held (a transaction left open by
/// another writer) from the moment the first page is asked for, so page 1
/// cannot be committed; page 2 must be requested anyway. Once the writer is
/// free, the run completes with both pages and its cursor (TAXII 2.1 §5.4:
/// `next`, X-TAXII-Date-Added-Last).
#[test]
fn the_next_page_is_fetched_while_this_one_is_written() {
    use std::sync::mpsc;
    let store = Arc::new(MemoryStore::new());
    let (lock_tx, lock_rx) = mpsc::channel::<()>();
    let (locked_tx, locked_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (page2_tx, page2_rx) = mpsc::channel::<()>();
    // Holds the store's writer while asked to, until released.
    let locker_store = store.clone();
    let locker = std::thread::spawn(move || {
        if lock_rx.recv().is_ok() {
            let txn = locker_store.begin().expect("begin");
            let _ = locked_tx.send(());
            let _ = release_rx.recv_timeout(Duration::from_secs(30));
            drop(txn);
        }
    });
    let lock_tx = Mutex::new(lock_tx);
    let locked_rx = Mutex::new(locked_rx);
    let page2_tx = Mutex::new(page2_tx);
    let server = TestServer::start(move |r: &Req| {
        let (objs, next, last) = match r.param("next") {
            None => {
                // Page 1: from now on nothing can be committed.
                if let (Ok(l), Ok(d)) = (lock_tx.lock(), locked_rx.lock()) {
                    let _ = l.send(());
                    let _ = d.recv_timeout(Duration::from_secs(10));
                }
                (0..3, r#","next":"2""#, 2)
            }
            Some(_) => {
                if let Ok(p) = page2_tx.lock() {
                    let _ = p.send(());
                }
                (3..5, "", 4)
            }
        };
        let more = !next.is_empty();
        let page: Vec<String> = objs.map(indicator).collect();
        Reply::taxii(&format!(
            r#"{{"more":{more}{next},"objects":[{}]}}"#,
            page.join(",")
        ))
        .header("X-TAXII-Date-Added-Last", &date_added(last))
    });
    let feed = FeedConfig::new(
        "p",
        FeedKind::Taxii,
        &format!("{}/api1/collections/c/", server.base),
    );
    let sync_store = store.clone();
    let sync = std::thread::spawn(move || {
        sync_feed(&*sync_store, &validator(), &feed, &opts()).expect("sync")
    });
    let fetched_ahead = page2_rx.recv_timeout(Duration::from_secs(10)).is_ok();
    let committed_then = count(&*store, "feed-p", "indicator");
    let _ = release_tx.send(());
    let r = sync.join().expect("sync thread");
    let _ = locker.join();
    assert!(
        fetched_ahead,
        "page 2 was not requested while page 1 waited for the store"
    );
    assert_eq!(committed_then, 0, "page 1 was not committed yet");
    assert_eq!(r.error, None);
    assert_eq!((r.counts.new, r.counts.pages), (5, 2), "{r:?}");
    let st = registry::state(&*store, "p").expect("state");
    assert_eq!(st.cursor.as_deref(), Some(date_added(4).as_str()));
}
