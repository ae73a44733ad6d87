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
    let mut config = super::c1_config(
        "",
        r#"can_read = ["group:analysts"]
        can_write = ["group:analysts"]"#,
    );
    // Domains that keep their score for the test's lifetime.
    config.lifecycle.rules.insert(
        0,
        sightline_lifecycle::DecayRule {
            name: "forever".into(),
            types: vec!["domain-name".into()],
            lifetime_days: 1_000_000.0,
            speed: 1.0,
        },
    );
    let s = start_with(config, store).expect("start");
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
