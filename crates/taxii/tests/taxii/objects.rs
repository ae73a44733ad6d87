//! §5.4 get objects, §5.5 add objects, §4.3 status, §3.4 filters.

use serde_json::{json, Value};

use crate::common::*;

/// §5.5, §4.3: valid, invalid and duplicate objects in one envelope: 202 with
/// a complete status; duplicates count as successes, invalid ones as failures
/// with id, version and a message.
#[tokio::test]
async fn post_counts_valid_invalid_duplicate() {
    let fx = fixture();
    add(&fx.app, PUBLIC, vec![identity(1, 1)]).await;
    let mut bad = identity(2, 1);
    bad["identity_class"] = json!(42);
    let no_id = json!({"type": "identity", "name": "x"});
    let env = json!({"objects": [identity(1, 1), identity(3, 1), bad, no_id, identity(3, 1)]});
    let r = post(&fx.app, &objects_url(PUBLIC), Some("bob"), &env).await;
    let s = r.assert_ok(202);
    assert_eq!(s["status"], "complete");
    assert_eq!(s["total_count"], 5);
    assert_eq!(s["success_count"], 3, "{s}");
    assert_eq!(s["failure_count"], 2, "{s}");
    assert_eq!(s["pending_count"], 0);
    assert!(s.get("pendings").is_none());
    let id = s["id"].as_str().expect("id");
    assert_eq!(
        uuid::Uuid::parse_str(id).expect("uuid").get_version_num(),
        4
    );
    assert!(
        sightline_store::parse_date_added(s["request_timestamp"].as_str().expect("ts")).is_some()
    );
    let failures = s["failures"].as_array().expect("failures");
    assert_eq!(failures[0]["id"], json!(id_of(2)));
    assert_eq!(failures[0]["version"], "2020-01-01T00:00:01.000Z");
    assert!(failures[0]["message"]
        .as_str()
        .expect("msg")
        .contains("identity_class"));
    let successes = s["successes"].as_array().expect("successes");
    assert_eq!(successes[0]["id"], json!(id_of(1)));
    assert_eq!(successes[0]["version"], "2020-01-01T00:00:01.000Z");

    // §4.3: the same status is readable afterwards, by its poster.
    let url = format!("/api1/status/{id}/");
    assert_eq!(get(&fx.app, &url, Some("bob")).await.assert_ok(200), s);
    assert_eq!(get(&fx.app, &url, Some("admin")).await.assert_ok(200), s);
    // Not by someone else, nor under another API root.
    get(&fx.app, &url, Some("alice")).await.assert_error(404);
    get(&fx.app, &format!("/api2/status/{id}/"), Some("bob"))
        .await
        .assert_error(404);

    // Stored: 3 distinct objects.
    let v = get(&fx.app, &objects_url(PUBLIC), None)
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&v), [id_of(1), id_of(3)]);
}

fn id_of(n: u64) -> String {
    id("identity", n)
}

/// §4.3: an unknown status id is a 404.
#[tokio::test]
async fn unknown_status_is_404() {
    let fx = fixture();
    for s in ["2d086da7-4bdc-4f91-900e-d77486753710", "not-a-uuid"] {
        get(&fx.app, &format!("/api1/status/{s}/"), Some("admin"))
            .await
            .assert_error(404);
    }
}

/// §5.5: a body that is not JSON is a 400; JSON that is not an envelope a 422.
#[tokio::test]
async fn malformed_envelopes() {
    let fx = fixture();
    let url = objects_url(PUBLIC);
    for body in [&b"{"[..], b"not json", b"", b"{\"objects\": [}"] {
        post_raw(&fx.app, &url, Some("bob"), body.to_vec())
            .await
            .assert_error(400);
    }
    for body in [
        json!([identity(1, 1)]),
        json!("objects"),
        json!({"objects": {"a": 1}}),
        json!({"more": false}),
        json!({"objects": 3}),
    ] {
        post(&fx.app, &url, Some("bob"), &body)
            .await
            .assert_error(422);
    }
    // Non-object entries are per-object failures, not request failures.
    let s = post(
        &fx.app,
        &url,
        Some("bob"),
        &json!({"objects": [1, "x", null]}),
    )
    .await
    .assert_ok(202);
    assert_eq!(
        (s["total_count"].clone(), s["failure_count"].clone()),
        (json!(3), json!(3))
    );
}

/// Invariant 2 of ARCHITECTURE.md: objects come back as the exact JSON text sent.
#[tokio::test]
async fn objects_are_returned_byte_for_byte() {
    let fx = fixture();
    let raw = r#"{"type":"identity","spec_version":"2.1","id":"identity--6a1e5b3c-0000-4000-8000-0000000000aa","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"Spaced   \u00e9","identity_class":"organization","x_custom":{"b":1,"a":[1.50,2]}}"#;
    let body = format!("{{\"objects\": [ {raw} ]}}");
    post_raw(
        &fx.app,
        &objects_url(PUBLIC),
        Some("bob"),
        body.into_bytes(),
    )
    .await
    .assert_ok(202);
    let r = get(&fx.app, &objects_url(PUBLIC), None).await;
    let text = String::from_utf8(r.bytes.clone()).expect("utf8");
    assert!(text.contains(raw), "{text}");
}

/// §3.7: an empty result is an envelope without objects, and §3.2's headers
/// are omitted (there is no first or last object).
#[tokio::test]
async fn empty_envelope() {
    let fx = fixture();
    let r = get(&fx.app, &objects_url(PUBLIC), None).await;
    assert_eq!(r.assert_ok(200), json!({"more": false}));
    assert!(r.header("x-taxii-date-added-first").is_none());
    assert!(r.header("x-taxii-date-added-last").is_none());
}

/// §5.4, §3.2, §3.3: objects ascending by date_added; headers name the first
/// and last date_added with six fractional digits.
#[tokio::test]
async fn get_objects_with_headers() {
    let fx = fixture();
    add(
        &fx.app,
        INTEL,
        vec![identity(1, 1), malware(1), identity(2, 1)],
    )
    .await;
    let r = get(&fx.app, &objects_url(INTEL), Some("alice")).await;
    let v = r.assert_ok(200);
    assert_eq!(v["more"], false);
    assert!(v.get("next").is_none());
    assert_eq!(ids_of(&v), [id_of(1), id("malware", 1), id_of(2)]);
    let first = r.header("x-taxii-date-added-first").expect("first");
    let last = r.header("x-taxii-date-added-last").expect("last");
    for h in [first, last] {
        assert_eq!(h.len(), 27, "YYYY-MM-DDTHH:MM:SS.ssssssZ: {h}");
        assert!(h.ends_with('Z'));
    }
    assert!(first < last);
}

async fn ids(fx: &Fx, query: &str) -> Vec<String> {
    let v = get(
        &fx.app,
        &format!("{}?{query}", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    ids_of(&v)
}

async fn versions(fx: &Fx, query: &str) -> Vec<(String, String)> {
    let v = get(
        &fx.app,
        &format!("{}?{query}", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    v["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| {
                    (
                        o["id"].as_str().unwrap_or_default().to_owned(),
                        o["modified"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Three identities with versions 1..3 of identity 1, plus a malware and an SCO.
async fn seeded() -> Fx {
    let fx = fixture();
    add(
        &fx.app,
        INTEL,
        vec![identity(1, 1), identity(2, 1), malware(1)],
    )
    .await;
    add(&fx.app, INTEL, vec![identity(1, 2), ipv4(7)]).await;
    add(&fx.app, INTEL, vec![identity(1, 3)]).await;
    fx
}

/// §3.4.1 match[id]: one or a comma list.
#[tokio::test]
async fn filter_match_id() {
    let fx = seeded().await;
    assert_eq!(
        ids(&fx, &format!("match[id]={}", id_of(2))).await,
        [id_of(2)]
    );
    assert_eq!(
        ids(&fx, &format!("match[id]={},{}", id("malware", 1), id_of(2))).await,
        [id_of(2), id("malware", 1)]
    );
    assert!(ids(&fx, &format!("match[id]={}", id_of(99)))
        .await
        .is_empty());
}

/// §3.4.1 match[type]: one, a list, and repeated parameters (OR).
#[tokio::test]
async fn filter_match_type() {
    let fx = seeded().await;
    assert_eq!(ids(&fx, "match[type]=malware").await, [id("malware", 1)]);
    assert_eq!(ids(&fx, "match[type]=malware,ipv4-addr").await.len(), 2);
    assert_eq!(
        ids(&fx, "match[type]=malware&match[type]=ipv4-addr")
            .await
            .len(),
        2
    );
    // A valid STIX type nobody stored is an empty result, never an error.
    assert!(ids(&fx, "match[type]=x-unknown-thing").await.is_empty());
    // Filters on different fields are AND-ed.
    assert!(
        ids(&fx, &format!("match[type]=malware&match[id]={}", id_of(1)))
            .await
            .is_empty()
    );
}

/// §3.4.1 match[version]: default last; first; all; a timestamp; combinations.
#[tokio::test]
async fn filter_match_version() {
    let fx = seeded().await;
    let one = format!("match[id]={}", id_of(1));
    let v = |s: &str| (id_of(1), s.to_owned());
    let t = |n: u32| format!("2020-01-01T00:00:{n:02}.000Z");
    assert_eq!(versions(&fx, &one).await, [v(&t(3))]);
    assert_eq!(
        versions(&fx, &format!("{one}&match[version]=last")).await,
        [v(&t(3))]
    );
    assert_eq!(
        versions(&fx, &format!("{one}&match[version]=first")).await,
        [v(&t(1))]
    );
    assert_eq!(
        versions(&fx, &format!("{one}&match[version]=all")).await,
        [v(&t(1)), v(&t(2)), v(&t(3))]
    );
    assert_eq!(
        versions(&fx, &format!("{one}&match[version]=first,last")).await,
        [v(&t(1)), v(&t(3))]
    );
    // A timestamp matches by instant, whatever its precision.
    assert_eq!(
        versions(&fx, &format!("{one}&match[version]=2020-01-01T00:00:02Z")).await,
        [v(&t(2))]
    );
    assert_eq!(
        versions(
            &fx,
            &format!("{one}&match[version]=2020-01-01T00:00:02.000000Z,first")
        )
        .await,
        [v(&t(1)), v(&t(2))]
    );
    // All objects at their latest version by default.
    assert_eq!(ids(&fx, "").await.len(), 4);
    assert_eq!(ids(&fx, "match[version]=all").await.len(), 6);
}

/// §3.4.1 match[spec_version].
#[tokio::test]
async fn filter_match_spec_version() {
    let fx = seeded().await;
    assert_eq!(ids(&fx, "match[spec_version]=2.1").await.len(), 4);
    assert!(ids(&fx, "match[spec_version]=2.0").await.is_empty());
    assert_eq!(ids(&fx, "match[spec_version]=2.0,2.1").await.len(), 4);
}

/// §3.4 added_after: strictly after, any fraction length, `+00:00` offsets.
#[tokio::test]
async fn filter_added_after() {
    let fx = seeded().await;
    let r = get(
        &fx.app,
        &format!("{}?match[version]=all", objects_url(INTEL)),
        Some("alice"),
    )
    .await;
    let all = r.assert_ok(200);
    let first = r
        .header("x-taxii-date-added-first")
        .expect("first")
        .to_owned();
    let last = r
        .header("x-taxii-date-added-last")
        .expect("last")
        .to_owned();
    assert_eq!(ids_of(&all).len(), 6);
    // Strictly after the first: five left.
    assert_eq!(
        ids(&fx, &format!("match[version]=all&added_after={first}"))
            .await
            .len(),
        5
    );
    // Strictly after the last: nothing.
    assert!(ids(&fx, &format!("added_after={last}&match[version]=all"))
        .await
        .is_empty());
    // Same instant written with nanoseconds, or with +00:00.
    let nanos = format!("{}000Z", &first[..first.len() - 1]);
    assert_eq!(
        ids(&fx, &format!("match[version]=all&added_after={nanos}"))
            .await
            .len(),
        5
    );
    let offset = format!("{}%2B00:00", &first[..first.len() - 1]);
    assert_eq!(
        ids(&fx, &format!("match[version]=all&added_after={offset}"))
            .await
            .len(),
        5
    );
    // Far in the past: everything.
    assert_eq!(
        ids(&fx, "match[version]=all&added_after=2000-01-01T00:00:00Z")
            .await
            .len(),
        6
    );
}

/// §3.4 limit: at most that many, `more` set when something is left.
#[tokio::test]
async fn filter_limit() {
    let fx = seeded().await;
    let v = get(
        &fx.app,
        &format!("{}?limit=2", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(ids_of(&v).len(), 2);
    assert_eq!(v["more"], true);
    assert!(v["next"].is_string());
    // If everything fits, everything is returned and more is false.
    let v = get(
        &fx.app,
        &format!("{}?limit=4", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(ids_of(&v).len(), 4);
    assert_eq!(v["more"], false);
    assert!(v.get("next").is_none());
}

/// §3.4: unknown match fields and other parameters are ignored.
#[tokio::test]
async fn unknown_filters_are_ignored() {
    let fx = seeded().await;
    assert_eq!(ids(&fx, "match[color]=red&foo=bar").await.len(), 4);
}

/// §3.4: a malformed value of any filter is a 400 TAXII error, never a 500.
#[tokio::test]
async fn malformed_filters_are_400() {
    let fx = seeded().await;
    let bad = [
        "match[id]=indicator",
        "match[id]=identity--not-a-uuid",
        "match[id]=",
        "match[type]=Bad%20Type",
        "match[type]=,",
        "match[version]=newest",
        "match[version]=2020-13-01T00:00:00Z",
        "match[version]=",
        "match[spec_version]=latest",
        "added_after=yesterday",
        "added_after=2020-01-01",
        "added_after=",
        "added_after=2020-01-01T00:00:00Z&added_after=2020-01-01T00:00:00Z",
        "limit=0",
        "limit=-3",
        "limit=many",
        "limit=99999999999999999999999",
        "next=",
        "next=garbage",
        "next=%FF%FE",
        "match[type]=%ZZ",
    ];
    let base = objects_url(INTEL);
    let object = format!("{base}{}/", id_of(1));
    let endpoints = [
        base.clone(),
        format!("/api1/collections/{INTEL}/manifest/"),
        object.clone(),
        format!("{object}versions/"),
    ];
    for q in bad {
        for e in &endpoints {
            let r = get(&fx.app, &format!("{e}?{q}"), Some("alice")).await;
            assert_eq!(r.status, 400, "GET {e}?{q}");
            r.assert_error(400);
        }
        if !q.starts_with("next=") {
            // (DELETE has no paging: a well-formed `next` is simply ignored.)
            let r = delete(&fx.app, &format!("{object}?{q}"), Some("admin")).await;
            assert_eq!(r.status, 400, "DELETE ?{q}");
            r.assert_error(400);
        }
    }
    // Nothing was deleted by the rejected requests.
    assert_eq!(ids(&fx, "").await.len(), 4);
}

/// §3.4: limit is capped to the server's maximum page size.
#[tokio::test]
async fn limit_is_capped() {
    let fx = fixture();
    let objs: Vec<Value> = (0..40).map(|n| identity(n, 1)).collect();
    add(&fx.app, INTEL, objs).await;
    let v = get(
        &fx.app,
        &format!("{}?limit=1000", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(ids_of(&v).len(), MAX_PAGE);
    assert_eq!(v["more"], true);
    // Without a limit, the default page size.
    let v = get(&fx.app, &objects_url(INTEL), Some("alice"))
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&v).len(), DEFAULT_PAGE);
}

/// §3.4.1 `match[spec_version]`: without it a server returns only the newest
/// spec version of each object. Sightline stores STIX 2.1 only (a 2.0 object
/// is refused with E104), so every object has exactly one spec version and
/// that default is "everything"; `match[spec_version]=2.0` matches nothing.
#[tokio::test]
async fn spec_version_default_and_filter() {
    let fx = fixture();
    let mut old = identity(7, 2);
    old["spec_version"] = json!("2.0");
    let env = json!({"objects": [identity(7, 1), old]});
    let s = post(&fx.app, &objects_url(PUBLIC), Some("bob"), &env)
        .await
        .assert_ok(202);
    assert_eq!(s["success_count"], 1, "{s}");
    assert_eq!(s["failure_count"], 1, "{s}");
    let msg = s["failures"][0]["message"].as_str().expect("message");
    assert!(msg.contains("E104"), "{msg}");
    let all = get(&fx.app, &objects_url(PUBLIC), None)
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&all), [id_of(7)]);
    let url = format!("{}?match[spec_version]=2.1", objects_url(PUBLIC));
    assert_eq!(get(&fx.app, &url, None).await.assert_ok(200), all);
    let url = format!("{}?match[spec_version]=2.0", objects_url(PUBLIC));
    let none = get(&fx.app, &url, None).await.assert_ok(200);
    assert_eq!(none["more"], false);
    assert!(none.get("objects").is_none(), "{none}");
}
