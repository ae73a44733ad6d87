//! Issue 15 §2: sensor feeds, `GET /feeds/{collection}/{format}`: the
//! collection's active indicators as Zeek Intel, Suricata rules or CSV, by
//! the caller's read right, with an ETag a poller revalidates (304).

use serde_json::json;

use super::{basic, client, start_with, store_with_c1};

const PW: &str = "correct horse battery";
const TAXII: &str = "application/taxii+json;version=2.1";
const ACTIVE: &str = "indicator--0c1f6a1e-5d2b-4c3e-8f4a-9b7c6d5e4f41";
const EXPIRED: &str = "indicator--0c1f6a1e-5d2b-4c3e-8f4a-9b7c6d5e4f42";
const JUDGED: &str = "indicator--0c1f6a1e-5d2b-4c3e-8f4a-9b7c6d5e4f43";

fn indicator(id: &str, domain: &str, until: Option<&str>) -> serde_json::Value {
    let mut v = json!({"type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": format!("C2 {domain}"), "pattern": format!("[domain-name:value = '{domain}']"),
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "confidence": 90});
    if let Some(u) = until {
        v["valid_until"] = json!(u);
    }
    v
}

#[test]
fn sensor_feeds_serve_active_indicators_with_an_etag() {
    let store = store_with_c1();
    sightline_server::add_user(store.as_ref(), "ann", PW, vec!["analysts".into()], false)
        .expect("add ann");
    sightline_server::add_user(store.as_ref(), "eve", PW, vec![], false).expect("add eve");
    let s = start_with(cached_config(), store).expect("start");
    let c = client();
    let ann = basic("ann", PW);
    let r = c
        .post(s.url("/api1/collections/c1/objects/"))
        .header("authorization", &ann)
        .header("content-type", TAXII)
        .header("accept", TAXII)
        .body(
            json!({"objects": [
                indicator(ACTIVE, "active-c2.example-bad.top", None),
                indicator(EXPIRED, "expired-c2.example-bad.top", Some("2026-02-01T00:00:00Z")),
                indicator(JUDGED, "judged-c2.example-bad.top", None),
            ]})
            .to_string(),
        )
        .send()
        .expect("post");
    assert_eq!(r.status().as_u16(), 202);
    // A false-positive verdict takes JUDGED out (issue 16: everywhere).
    let r = c
        .post(s.url("/api/v1/verdicts"))
        .header("authorization", &ann)
        .header("content-type", "application/json")
        .body(json!({"target": JUDGED, "verdict": "false-positive"}).to_string())
        .send()
        .expect("verdict");
    assert_eq!(r.status().as_u16(), 201);

    let get = |path: &str, auth: Option<&str>, etag: Option<&str>| {
        let mut rq = c.get(s.url(path));
        if let Some(a) = auth {
            rq = rq.header("authorization", a);
        }
        if let Some(e) = etag {
            rq = rq.header("if-none-match", e);
        }
        rq.send().expect("get")
    };
    let r = get("/feeds/c1/zeek-intel", Some(&ann), None);
    assert_eq!(r.status().as_u16(), 200);
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    let body = r.text().expect("body");
    assert!(
        body.contains("\n#fields\tindicator\tindicator_type"),
        "{body}"
    );
    // What was left out is said in the header, with why.
    assert!(body.contains("# not active (expired): 1"), "{body}");
    assert!(
        body.contains("# not active (lifecycle: revoked): 1"),
        "{body}"
    );
    assert!(
        body.contains("active-c2.example-bad.top\tIntel::DOMAIN\t"),
        "{body}"
    );
    assert!(
        body.contains(ACTIVE),
        "meta.source is the indicator id: {body}"
    );
    assert!(
        !body.contains("expired-c2"),
        "expired (valid_until): {body}"
    );
    assert!(!body.contains("judged-c2"), "a false positive: {body}");
    // Polling: the same content answers 304 without a body.
    let r = get("/feeds/c1/zeek-intel", Some(&ann), Some(&etag));
    assert_eq!(r.status().as_u16(), 304);
    assert!(r.text().expect("body").is_empty());
    // Other formats; the directory ones are refused with a hint.
    let r = get("/feeds/c1/csv", Some(&ann), None);
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().expect("csv").contains("active-c2.example-bad.top"));
    let r = get("/feeds/c1/suricata", Some(&ann), None);
    assert_eq!(r.status().as_u16(), 200);
    let rules = r.text().expect("rules");
    assert!(rules.contains("active-c2.example-bad.top"), "{rules}");
    assert!(rules.contains(ACTIVE), "metadata carries the id: {rules}");
    assert_eq!(
        get("/feeds/c1/sigma", Some(&ann), None).status().as_u16(),
        400
    );
    assert_eq!(
        get("/feeds/c1/nope", Some(&ann), None).status().as_u16(),
        404
    );
    assert_eq!(
        get("/feeds/c1/zeek-intel?min_confidence=900", Some(&ann), None)
            .status()
            .as_u16(),
        400
    );
    // Rights: anonymous is challenged; a caller who may not read c1, and a
    // collection that does not exist, get the same 404.
    let r = get("/feeds/c1/zeek-intel", None, None);
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let eve = basic("eve", PW);
    let hidden = get("/feeds/c1/zeek-intel", Some(&eve), None);
    let absent = get("/feeds/nope/zeek-intel", Some(&eve), None);
    assert_eq!(hidden.status().as_u16(), 404);
    assert_eq!(absent.status().as_u16(), 404);
    assert_eq!(
        get("/feeds/c1/zeek-intel", Some(&basic("ann", "wrong")), None)
            .status()
            .as_u16(),
        401
    );
}

type Keep = Box<dyn std::any::Any>;

/// Collection c1 on each backend: memory, SQLite, PostgreSQL (through
/// `sightline_testkit::pg`, which starts a cluster when none is given).
fn backends() -> Vec<(
    &'static str,
    std::sync::Arc<dyn sightline_store::Store>,
    Keep,
)> {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = sightline_store_sqlite::SqliteStore::open(dir.path()).expect("sqlite");
    let db = sightline_testkit::pg::TestDb::new("sensor_cache");
    let pg = sightline_store_postgres::PgStore::open(db.url()).expect("postgres");
    let out: Vec<(
        &'static str,
        std::sync::Arc<dyn sightline_store::Store>,
        Keep,
    )> = vec![
        ("memory", store_with_c1(), Box::new(())),
        ("sqlite", std::sync::Arc::new(sqlite), Box::new(dir)),
        ("postgres", std::sync::Arc::new(pg), Box::new(db)),
    ];
    for (_, s, _) in &out[1..] {
        s.create_collection(&super::c1()).expect("collection");
    }
    out
}

/// ann reads and writes c1; eve reads nothing. Domains never decay here.
fn cached_config() -> sightline_server::ServerConfig {
    let mut config = super::c1_config(
        "",
        r#"can_read = ["group:analysts"]
        can_write = ["group:analysts"]"#,
    );
    config.lifecycle.rules.insert(
        0,
        sightline_lifecycle::DecayRule {
            name: "forever".into(),
            types: vec!["domain-name".into()],
            lifetime_days: 1_000_000.0,
            speed: 1.0,
        },
    );
    config
}

fn id(n: u32) -> String {
    format!("indicator--0c1f6a1e-5d2b-4c3e-8f4a-{n:012x}")
}

/// Issue 15 §2 sensor feeds under polling: a repeated poll is answered from
/// the kept export (304 with `If-None-Match`, 200 without) and not computed
/// again; a new indicator or verdict is in the very next answer; concurrent
/// polls compute once; a caller who may not read the collection is refused
/// as before, whatever is kept. On every backend.
#[test]
fn sensor_feeds_are_kept_between_polls_until_something_changes() {
    for (backend, store, _keep) in backends() {
        eprintln!("checking {backend}");
        sightline_server::add_user(store.as_ref(), "ann", PW, vec!["analysts".into()], false)
            .expect("add ann");
        sightline_server::add_user(store.as_ref(), "eve", PW, vec![], false).expect("add eve");
        let s = start_with(cached_config(), store.clone()).expect("start");
        let c = client();
        let ann = basic("ann", PW);
        let post = |objects: Vec<serde_json::Value>| {
            let r = c
                .post(s.url("/api1/collections/c1/objects/"))
                .header("authorization", &ann)
                .header("content-type", TAXII)
                .header("accept", TAXII)
                .body(json!({ "objects": objects }).to_string())
                .send()
                .expect("post");
            assert_eq!(r.status().as_u16(), 202, "{backend}");
        };
        // (status, cache header, etag, body)
        let get = |path: &str, auth: Option<&str>, etag: Option<&str>| {
            let mut rq = c.get(s.url(path));
            if let Some(a) = auth {
                rq = rq.header("authorization", a);
            }
            if let Some(e) = etag {
                rq = rq.header("if-none-match", e);
            }
            let r = rq.send().expect("get");
            let h = |k: &str| {
                r.headers()
                    .get(k)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            let (cache, etag) = (h("sightline-feed-cache"), h("etag"));
            (r.status().as_u16(), cache, etag, r.text().expect("body"))
        };
        let feed = "/feeds/c1/zeek-intel";
        post(vec![indicator(&id(1), "one.example-bad.top", None)]);
        let (st, cache, etag, body) = get(feed, Some(&ann), None);
        assert_eq!((st, cache.as_str()), (200, "miss"), "{backend}");
        assert!(body.contains("one.example-bad.top"), "{backend}: {body}");
        // Polls: nothing changed, nothing computed.
        let (st, cache, etag2, body2) = get(feed, Some(&ann), Some(&etag));
        assert_eq!(
            (st, cache.as_str(), body2.as_str()),
            (304, "hit", ""),
            "{backend}"
        );
        assert_eq!(etag2, etag, "{backend}");
        let (st, cache, etag2, body2) = get(feed, Some(&ann), None);
        assert_eq!((st, cache.as_str()), (200, "hit"), "{backend}");
        assert_eq!((etag2, body2), (etag.clone(), body.clone()), "{backend}");
        // The alias and the id share the kept export.
        let (st, cache, _, _) = get(
            "/feeds/6cd4b2c5-5f7e-4f3c-9d0b-3f5a7e9d1c21/zeek-intel",
            Some(&ann),
            Some(&etag),
        );
        assert_eq!((st, cache.as_str()), (304, "hit"), "{backend}");
        // Rights are checked before the cache: refused as before.
        let eve = basic("eve", PW);
        assert_eq!(get(feed, Some(&eve), Some(&etag)).0, 404, "{backend}");
        assert_eq!(get(feed, Some(&eve), None).0, 404, "{backend}");
        assert_eq!(get(feed, None, Some(&etag)).0, 401, "{backend}");
        assert_eq!(
            get(feed, Some(&basic("ann", "wrong")), Some(&etag)).0,
            401,
            "{backend}"
        );
        // Another min_confidence is another export.
        let (st, cache, _, body95) = get(&format!("{feed}?min_confidence=95"), Some(&ann), None);
        assert_eq!((st, cache.as_str()), (200, "miss"), "{backend}");
        assert!(
            !body95.contains("one.example-bad.top"),
            "{backend}: {body95}"
        );
        // A new indicator is in the next answer.
        post(vec![indicator(&id(2), "two.example-bad.top", None)]);
        let (st, cache, etag3, body) = get(feed, Some(&ann), Some(&etag));
        assert_eq!((st, cache.as_str()), (200, "miss"), "{backend}");
        assert!(body.contains("two.example-bad.top"), "{backend}: {body}");
        assert_ne!(etag3, etag, "{backend}");
        // So is a verdict (an opinion, stored elsewhere than c1's indicators).
        let r = c
            .post(s.url("/api/v1/verdicts"))
            .header("authorization", &ann)
            .header("content-type", "application/json")
            .body(json!({"target": id(2), "verdict": "false-positive"}).to_string())
            .send()
            .expect("verdict");
        assert_eq!(r.status().as_u16(), 201, "{backend}");
        let (st, cache, etag4, body) = get(feed, Some(&ann), Some(&etag3));
        assert_eq!((st, cache.as_str()), (200, "miss"), "{backend}");
        assert!(!body.contains("two.example-bad.top"), "{backend}: {body}");
        // Concurrent polls after a change compute once.
        post(vec![indicator(&id(3), "three.example-bad.top", None)]);
        let answers: Vec<(u16, String, String)> = std::thread::scope(|scope| {
            let polls: Vec<_> = (0..6)
                .map(|_| {
                    scope.spawn(|| {
                        let (st, cache, _, body) = get(feed, Some(&ann), Some(&etag4));
                        (st, cache, body)
                    })
                })
                .collect();
            polls.into_iter().map(|p| p.join().expect("poll")).collect()
        });
        let misses = answers.iter().filter(|a| a.1 == "miss").count();
        assert_eq!(misses, 1, "{backend}: {answers:?}");
        for (st, _, body) in &answers {
            assert_eq!(*st, 200, "{backend}");
            assert!(body.contains("three.example-bad.top"), "{backend}: {body}");
        }
        drop(s);
    }
}

/// `[sensor] cache_secs` bounds how long a kept export is served (scores
/// decay with wall time): after it, the next poll computes again.
#[test]
fn sensor_feeds_are_recomputed_after_cache_secs() {
    let store = store_with_c1();
    sightline_server::add_user(store.as_ref(), "ann", PW, vec!["analysts".into()], false)
        .expect("add ann");
    let mut config = cached_config();
    config.sensor.cache_secs = 1;
    let s = start_with(config, store).expect("start");
    let c = client();
    let ann = basic("ann", PW);
    let cache = || {
        let r = c
            .get(s.url("/feeds/c1/csv"))
            .header("authorization", &ann)
            .send()
            .expect("get");
        assert_eq!(r.status().as_u16(), 200);
        r.headers()
            .get("sightline-feed-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(cache(), "miss");
    assert_eq!(cache(), "hit");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(cache(), "miss");
    assert_eq!(cache(), "hit");
}

/// A sensor feed names what an indicator `indicates` only from collections
/// its poller may read: ann reads c1, whose indicator is linked (by a
/// relationship in c1 and by one in a collection only admins read) to
/// objects kept in that other collection; ann's CSV names neither, an
/// admin's names both. Kept exports are not shared between the two.
#[test]
fn sensor_feeds_do_not_name_objects_the_poller_may_not_read() {
    use sightline_store::CollectionInfo;
    let store = store_with_c1();
    let secret = CollectionInfo {
        id: "0b1c2d3e-0000-4000-8000-00000000c0de".into(),
        title: "Internal attribution".into(),
        description: None,
        alias: Some("internal".into()),
        media_types: vec!["application/stix+json;version=2.1".into()],
    };
    store.create_collection(&secret).expect("collection");
    sightline_server::add_user(store.as_ref(), "ann", PW, vec!["analysts".into()], false)
        .expect("add ann");
    sightline_server::add_user(store.as_ref(), "root", PW, vec![], true).expect("add root");
    let ap = "attack-pattern--0b1c2d3e-0000-4000-8000-0000000000a1";
    let actor = "intrusion-set--0b1c2d3e-0000-4000-8000-0000000000a2";
    let rel = |n: u32, target: &str| {
        json!({"type": "relationship", "spec_version": "2.1",
            "id": format!("relationship--0b1c2d3e-0000-4000-8000-{n:012x}"),
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "relationship_type": "indicates", "source_ref": ACTIVE, "target_ref": target})
    };
    let put = |v: serde_json::Value, coll: &str| {
        let raw = v.to_string();
        let meta = sightline_stix::ObjectMeta::extract(&v).expect("meta");
        let o = sightline_store::NewObject { meta, raw };
        let mut t = store.begin().expect("begin");
        t.put(&o, Some(coll)).expect("put");
        t.commit().expect("commit");
    };
    put(
        indicator(ACTIVE, "active-c2.example-bad.top", None),
        &super::c1().id,
    );
    put(rel(1, ap), &super::c1().id);
    put(rel(2, actor), &secret.id);
    put(
        json!({"type": "attack-pattern", "spec_version": "2.1", "id": ap,
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": "Hidden Ledger Technique"}),
        &secret.id,
    );
    put(
        json!({"type": "intrusion-set", "spec_version": "2.1", "id": actor,
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": "Codename Quiet Harbour"}),
        &secret.id,
    );
    let s = start_with(cached_config(), store).expect("start");
    let c = client();
    let csv = |who: &str| {
        let r = c
            .get(s.url("/feeds/c1/csv"))
            .header("authorization", basic(who, PW))
            .send()
            .expect("get");
        assert_eq!(r.status().as_u16(), 200, "{who}");
        r.text().expect("body")
    };
    // The admin first, so a kept export would be there for ann to get.
    let admin = csv("root");
    assert!(admin.contains("active-c2.example-bad.top"), "{admin}");
    assert!(admin.contains("Hidden Ledger Technique"), "{admin}");
    assert!(admin.contains("Codename Quiet Harbour"), "{admin}");
    let ann = csv("ann");
    assert!(ann.contains("active-c2.example-bad.top"), "{ann}");
    assert!(
        !ann.contains("Hidden Ledger"),
        "a name from a collection ann may not read: {ann}"
    );
    assert!(
        !ann.contains("Quiet Harbour"),
        "a relationship ann may not read: {ann}"
    );
    // The relationship in c1 (ann reads it) names its target's id, no more.
    assert!(ann.contains(ap), "{ann}");
    assert!(!ann.contains(actor), "{ann}");
}
