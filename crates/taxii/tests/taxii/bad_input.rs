//! Bad input (issue 3 §6), in process: malformed envelopes, wrong JSON types,
//! invalid objects amid valid ones, bodies over the limit, a body that fails
//! mid-upload, out-of-range and malformed filters, path tricks and huge
//! numbers of query parameters. Each gets a TAXII error message (§3.6.1, with
//! the TAXII media type, §1.6.8) or a per-object failure in the status (§4.3),
//! and afterwards everything stored before is still there and nothing partial
//! was stored.
//!
//! Socket-level cases (slow clients, disconnects) are in
//! `crates/server/tests/server/bad_input.rs`.

use axum::body::{Body, Bytes};
use axum::http::header;
use http_body_util::channel::Channel;
use serde_json::{json, Value};

use crate::common::*;

/// A fixture with two identities in PUBLIC; [`intact`] checks they survive.
async fn seeded() -> Fx {
    let fx = fixture();
    add(&fx.app, PUBLIC, vec![identity(1, 1), identity(2, 1)]).await;
    fx
}

/// What was stored before is still there, and nothing else is.
async fn intact(fx: &Fx) {
    let v = get(&fx.app, &objects_url(PUBLIC), None)
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&v), [id("identity", 1), id("identity", 2)], "{v}");
}

/// §3.7, §5.5: a body that is not JSON (truncated, binary, not UTF-8, nested
/// deeper than any envelope) is a 400; JSON of the wrong shape (the envelope
/// a list, a string, a number, null; `objects` not a list) is a 422. Nothing
/// is stored either way.
#[tokio::test]
async fn malformed_envelopes_and_wrong_json_types() {
    let fx = seeded().await;
    let url = objects_url(PUBLIC);
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let deep_in_objects = format!(
        "{{\"objects\": [{}1{}]}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    let not_json: Vec<Vec<u8>> = vec![
        b"{\"objects\": [".to_vec(),
        b"{\"objects\": []".to_vec(),
        b"{\"objects\": [] }}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        b"{\"objects\": [\"\xff\"]}".to_vec(),
        b"\x00\x00\x00".to_vec(),
        b"{\"objects\": [NaN]}".to_vec(),
        b"{'objects': []}".to_vec(),
    ];
    for body in not_json {
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let r = post_raw(&fx.app, &url, Some("bob"), body).await;
        assert_eq!(r.status, 400, "{shown}");
        r.assert_error(400);
    }
    // Nesting deeper than any STIX object, at the top or inside an object:
    // the whole body is refused (400, `[limits] max_json_depth`; issue 5 §5).
    for body in [deep, deep_in_objects] {
        let e = post_raw(&fx.app, &url, Some("bob"), body.into_bytes())
            .await
            .assert_error(400);
        let d = e["description"].as_str().unwrap_or_default();
        assert!(d.contains("max_json_depth"), "{d}");
    }
    for body in [
        json!([]),
        json!([{"objects": []}]),
        json!("{\"objects\": []}"),
        json!(42),
        json!(null),
        json!(true),
        json!({}),
        json!({"objects": null}),
        json!({"objects": "identity"}),
        json!({"objects": 7}),
        json!({"objects": {"0": identity(3, 1)}}),
        json!({"Objects": [identity(3, 1)]}),
    ] {
        let r = post(&fx.app, &url, Some("bob"), &body).await;
        assert_eq!(r.status, 422, "{body}");
        r.assert_error(422);
    }
    intact(&fx).await;
}

/// §4.3: a refused object's failure message names its position, then the
/// validator's findings (`CODE /pointer: message`), at most five, and how many
/// more there were (issue 17 §2).
#[tokio::test]
async fn a_failure_message_lists_the_findings() {
    let fx = seeded().await;
    let mut bad = identity(5, 1);
    // STIX 2.1 §4.5: six properties of the wrong JSON type (E105).
    for p in [
        "name",
        "description",
        "identity_class",
        "contact_information",
    ] {
        bad[p] = json!(1);
    }
    bad["roles"] = json!("not a list");
    bad["sectors"] = json!("not a list");
    let env = json!({"objects": [identity(3, 1), bad]});
    let s = post(&fx.app, &objects_url(PUBLIC), Some("bob"), &env)
        .await
        .assert_ok(202);
    let m = s["failures"][0]["message"].as_str().expect("message");
    assert!(m.starts_with("objects[1]: invalid STIX: E105 /"), "{m}");
    assert_eq!(m.matches("E105 /").count(), 5, "{m}");
    assert!(m.ends_with(" (and 1 more)"), "{m}");
}

/// §5.5, §4.3: invalid entries amid valid ones. The valid ones are stored;
/// each other one is a failure in the status with its position and the
/// reason; the status adds up.
#[tokio::test]
async fn invalid_objects_amid_valid_ones() {
    let fx = seeded().await;
    let mut bad_class = identity(5, 1);
    bad_class["identity_class"] = json!(["not", "a", "string"]);
    let mut bad_id = identity(6, 1);
    bad_id["id"] = json!("identity--not-a-uuid");
    let mut bad_time = identity(7, 1);
    bad_time["modified"] = json!("2020-02-30T00:00:00.000Z");
    let env = json!({"objects": [
        identity(3, 1),
        "a string",
        12345,
        null,
        [identity(9, 1)],
        {},
        bad_class,
        bad_id,
        bad_time,
        identity(4, 1),
    ]});
    let s = post(&fx.app, &objects_url(PUBLIC), Some("bob"), &env)
        .await
        .assert_ok(202);
    assert_eq!(s["status"], "complete");
    assert_eq!(s["total_count"], 10, "{s}");
    assert_eq!(s["success_count"], 2, "{s}");
    assert_eq!(s["failure_count"], 8, "{s}");
    assert_eq!(s["pending_count"], 0);
    let failures = s["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 8);
    for (f, i) in failures.iter().zip([1, 2, 3, 4, 5, 6, 7, 8]) {
        let m = f["message"].as_str().expect("every failure says why");
        assert!(m.starts_with(&format!("objects[{i}]")), "{m}");
        assert!(m.len() > 15, "a reason, not just a position: {m}");
    }
    assert!(failures[5]["message"]
        .as_str()
        .is_some_and(|m| m.contains("identity_class")));
    assert_eq!(failures[5]["id"], json!(id("identity", 5)));
    let successes: Vec<&str> = s["successes"]
        .as_array()
        .expect("successes")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(successes, [id("identity", 3), id("identity", 4)]);
    let v = get(&fx.app, &objects_url(PUBLIC), None)
        .await
        .assert_ok(200);
    assert_eq!(
        ids_of(&v),
        [1, 2, 3, 4].map(|n| id("identity", n)),
        "the valid ones are stored, nothing else"
    );
}

/// §4.2 max_content_length, §5.5: over the limit is a 413, whether declared
/// (a Content-Length above it; also one that lies, or is malformed: 400) or
/// streamed without a length; nothing is stored.
#[tokio::test]
async fn bodies_over_the_limit() {
    let fx = seeded().await;
    let url = objects_url(PUBLIC);
    let objs: Vec<Value> = (100..2000).map(|n| identity(n, 1)).collect();
    let big = serde_json::to_vec(&json!({ "objects": objs })).expect("json");
    assert!(big.len() > MAX_CONTENT);
    // Declared: refused before reading anything.
    for declared in [big.len().to_string(), u64::MAX.to_string()] {
        let r = call(
            &fx.app,
            builder("POST", &url, Some("bob"))
                .header(header::CONTENT_TYPE, TAXII)
                .header(header::CONTENT_LENGTH, declared)
                .body(Body::from(big.clone()))
                .expect("req"),
        )
        .await;
        r.assert_error(413);
    }
    for declared in ["-1", "abc", "1e6", "18446744073709551616"] {
        let r = call(
            &fx.app,
            builder("POST", &url, Some("bob"))
                .header(header::CONTENT_TYPE, TAXII)
                .header(header::CONTENT_LENGTH, declared)
                .body(Body::from(b"{\"objects\": []}".to_vec()))
                .expect("req"),
        )
        .await;
        assert!(
            [400, 413].contains(&r.status),
            "Content-Length {declared}: {}",
            r.status
        );
        r.assert_error(r.status);
    }
    // Streamed (chunked): cut off while reading.
    let r = call(
        &fx.app,
        builder("POST", &url, Some("bob"))
            .header(header::CONTENT_TYPE, TAXII)
            .body(stream(vec![Ok(big.clone())]))
            .expect("req"),
    )
    .await;
    r.assert_error(413);
    // A body of only whitespace past the limit, too.
    let r = post_raw(&fx.app, &url, Some("bob"), vec![b' '; MAX_CONTENT + 1]).await;
    r.assert_error(413);
    intact(&fx).await;
}

/// §5.5: a body that breaks off mid-upload (the client went away) is never
/// parsed: no transaction starts, nothing of it is stored, and the server
/// answers the next request normally.
#[tokio::test]
async fn body_that_fails_mid_upload_stores_nothing() {
    let fx = seeded().await;
    let objs: Vec<Value> = (10..60).map(|n| identity(n, 1)).collect();
    let full = serde_json::to_vec(&json!({ "objects": objs })).expect("json");
    // All but the last byte arrive, then the connection fails.
    let (head, _) = full.split_at(full.len() - 1);
    let r = call(
        &fx.app,
        builder("POST", &objects_url(PUBLIC), Some("bob"))
            .header(header::CONTENT_TYPE, TAXII)
            .body(stream(vec![Ok(head.to_vec()), Err(())]))
            .expect("req"),
    )
    .await;
    assert!(r.status >= 400, "{}", r.status);
    r.assert_error(r.status);
    intact(&fx).await;
    // A complete body declared longer than what is sent is cut off the same way.
    let r = call(
        &fx.app,
        builder("POST", &objects_url(PUBLIC), Some("bob"))
            .header(header::CONTENT_TYPE, TAXII)
            .body(stream(vec![Ok(head[..100].to_vec()), Err(())]))
            .expect("req"),
    )
    .await;
    r.assert_error(r.status);
    intact(&fx).await;
    // And the same upload, whole, works.
    let s = post_raw(&fx.app, &objects_url(PUBLIC), Some("bob"), full)
        .await
        .assert_ok(202);
    assert_eq!(s["success_count"], 50);
}

/// §3.4 `limit`: not a positive integer (-1, 0, abc, 1e3, empty, huge beyond
/// any integer) is a 400; a positive one beyond the maximum page size (10^12)
/// is capped, never an error and never a giant page.
#[tokio::test]
async fn limit_out_of_range() {
    let fx = seeded().await;
    let base = objects_url(PUBLIC);
    for q in [
        "limit=-1",
        "limit=0",
        "limit=00",
        "limit=abc",
        "limit=1e3",
        "limit=1.5",
        "limit=",
        "limit=%00",
        "limit=0x10",
        "limit=340282366920938463463374607431768211456",
    ] {
        for e in [&base, &format!("/api1/collections/{PUBLIC}/manifest/")] {
            let r = get(&fx.app, &format!("{e}?{q}"), None).await;
            assert_eq!(r.status, 400, "{e}?{q}");
            r.assert_error(400);
        }
    }
    for q in [
        "limit=1000000000000",
        "limit=18446744073709551615",
        "limit=1",
    ] {
        let v = get(&fx.app, &format!("{base}?{q}"), None)
            .await
            .assert_ok(200);
        let n = ids_of(&v).len();
        assert!((1..=2).contains(&n), "{q}: {n}");
    }
    intact(&fx).await;
}

/// §3.4 `added_after`, `match[version]`: timestamps that are not timestamps
/// (impossible dates, out-of-range fields, a year 10000, absurd fractions,
/// offsets out of range, control characters) are a 400, on every endpoint
/// that takes them.
#[tokio::test]
async fn bad_timestamps_in_filters() {
    let fx = seeded().await;
    let long_fraction = format!("2020-01-01T00:00:00.{}Z", "1".repeat(10_000));
    let bad_times = [
        "2020-02-30T00:00:00Z",
        "2021-02-29T00:00:00Z",
        "2020-00-10T00:00:00Z",
        "2020-01-01T24:00:00Z",
        "2020-01-01T23:60:00Z",
        "2020-01-01T23:59:61Z",
        "10000-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "2020-01-01T00:00:00+99:00",
        "2020-01-01T00:00:00.Z",
        "2020-01-01%2000:00:00Z",
        "2020-01-01T00:00:00Z%00",
        "%FF%FE",
        "0",
        "-1",
        "1e308",
        "9999999999999999999",
    ];
    let base = objects_url(PUBLIC);
    let endpoints = [
        base.clone(),
        format!("/api1/collections/{PUBLIC}/manifest/"),
        format!("{base}{}/", id("identity", 1)),
        format!("{base}{}/versions/", id("identity", 1)),
    ];
    for t in bad_times {
        for e in &endpoints {
            for q in [format!("added_after={t}"), format!("match[version]={t}")] {
                let r = get(&fx.app, &format!("{e}?{q}"), None).await;
                assert_eq!(r.status, 400, "{e}?{}", &q[..q.len().min(60)]);
                r.assert_error(400);
            }
        }
    }
    // Any number of fractional digits is a timestamp (RFC 3339 sets no
    // bound); ten thousand of them are parsed, not a failure.
    for e in &endpoints {
        for p in ["match[version]", "added_after"] {
            get(&fx.app, &format!("{e}?{p}={long_fraction}"), None)
                .await
                .assert_ok(200);
        }
    }
    // An extreme but valid time is fine: nothing is added after year 9999.
    let v = get(
        &fx.app,
        &format!("{base}?added_after=9999-12-31T23:59:59.999999Z"),
        None,
    )
    .await
    .assert_ok(200);
    assert_eq!(v, json!({"more": false}));
    intact(&fx).await;
}

/// §3.6.1, §5: path tricks never reach another collection or API root:
/// `..` segments (raw or percent-encoded), encoded slashes in the API root,
/// collection or object id, overlong ids, and percent-escapes that are not
/// UTF-8 are all a TAXII 404 (or 400), never a crash or another resource.
#[tokio::test]
async fn path_tricks() {
    let fx = seeded().await;
    // SECRET holds data only admin may read; bob may not.
    add(&fx.app, SECRET, vec![identity(77, 1)]).await;
    // (Below http's 64 KiB URI limit, which the HTTP server enforces first.)
    let long = "a".repeat(60_000);
    let long_object = format!("identity--{}", "0".repeat(60_000));
    let paths = [
        format!("/api1/collections/../collections/{SECRET}/objects/"),
        format!("/api1/collections/{PUBLIC}/../{SECRET}/objects/"),
        format!("/api1/collections/%2e%2e/{SECRET}/objects/"),
        format!("/api1/collections/{PUBLIC}%2F..%2F{SECRET}/objects/"),
        format!("/api1/collections/{PUBLIC}%2fobjects%2f/"),
        format!("/api1/collections/%2E%2E%2F{SECRET}/objects/"),
        format!("/api1%2F..%2Fapi2/collections/{OTHER}/objects/"),
        format!("/api2/collections/{SECRET}/objects/"),
        "/api1/collections/%2e%2e/".to_owned(),
        "/api1/collections/./".to_owned(),
        "/%2e%2e/taxii2/".to_owned(),
        "/taxii2/../api1/".to_owned(),
        "/api1/%2e%2e/".to_owned(),
        "/..%2F..%2Fetc%2Fpasswd/".to_owned(),
        format!("/api1/collections/{long}/objects/"),
        format!("/{long}/collections/"),
        format!("/api1/collections/{PUBLIC}/objects/{long_object}/"),
        format!("/api1/collections/{PUBLIC}/objects/{long_object}/versions/"),
        format!(
            "/api1/collections/{PUBLIC}/objects/{}%2F..%2F{}/",
            id("identity", 1),
            id("identity", 2)
        ),
        format!("/api1/collections/{PUBLIC}/objects/..%2F{SECRET}/"),
        format!("/api1/collections/{PUBLIC}/objects/%2e%2e/"),
        "/api1/collections/%FF%FE/objects/".to_owned(),
        "/%C0%AE%C0%AE/collections/".to_owned(),
        "/api1/status/%FF/".to_owned(),
        format!("/api1/collections/{PUBLIC}/objects/%FF%FE/"),
        format!("/api1/collections/{PUBLIC}/objects/identity--%FF/versions/"),
        format!(
            "/api1/collections/{PUBLIC}/objects/{}%00/",
            id("identity", 1)
        ),
        "/api1/collections/%00/".to_owned(),
    ];
    for p in &paths {
        let shown = &p[..p.len().min(80)];
        for method in ["GET", "DELETE"] {
            let r = call(
                &fx.app,
                builder(method, p, Some("bob"))
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
            assert!(
                [400, 404, 405].contains(&r.status),
                "{method} {shown}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.bytes)
            );
            r.assert_error(r.status);
            assert!(
                !String::from_utf8_lossy(&r.bytes).contains(&id("identity", 77)),
                "{method} {shown} leaked SECRET"
            );
        }
        let r = post(
            &fx.app,
            p,
            Some("bob"),
            &json!({"objects": [identity(99, 1)]}),
        )
        .await;
        assert!(
            [400, 404, 405].contains(&r.status),
            "POST {shown}: {}",
            r.status
        );
        r.assert_error(r.status);
    }
    intact(&fx).await;
    let v = get(&fx.app, &objects_url(SECRET), Some("admin"))
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&v), [id("identity", 77)], "SECRET untouched");
    for c in [PUBLIC, SECRET, INTEL, OTHER] {
        let url = format!("/api1/collections/{c}/objects/{}/", id("identity", 99));
        let r = get(&fx.app, &url, Some("admin")).await;
        assert!([404].contains(&r.status), "{url}: nothing was posted");
    }
}

/// §3.4: huge numbers of query parameters (as many as fit in a URI, whose
/// length HTTP servers cap at 64 KiB). Unknown ones are ignored (and cheap);
/// more filter values than the server takes (1,000) are a 400 naming the
/// limit, never a store query with thousands of terms; a repeated single
/// value parameter is a 400.
#[tokio::test]
async fn huge_numbers_of_query_parameters() {
    let fx = seeded().await;
    let base = objects_url(PUBLIC);
    let t0 = std::time::Instant::now();
    let list = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
    let unknown = list(15_000, &|_| "x=1".into()).join("&");
    let v = get(&fx.app, &format!("{base}?{unknown}"), None)
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&v).len(), 2);
    let too_many = [
        list(2_500, &|_| "match[type]=identity".into()).join("&"),
        format!(
            "match[type]={}",
            list(8_000, &|i| format!("t{i:04}")).join(",")
        ),
        format!(
            "match[id]={}",
            list(1_200, &|i| id("identity", i as u64)).join(",")
        ),
        list(1_400, &|n| {
            format!("match[version]=2020-01-01T00:00:00.{n:06}Z")
        })
        .join("&"),
        list(2_500, &|_| "match[spec_version]=2.1".into()).join("&"),
        list(1_001, &|_| "match[type]=identity".into()).join("&"),
    ];
    for q in too_many {
        assert!(q.len() < 65_000);
        let r = get(&fx.app, &format!("{base}?{q}"), None).await;
        assert_eq!(r.status, 400, "{}", &q[..60]);
        let e = r.assert_error(400);
        assert!(
            e["description"]
                .as_str()
                .is_some_and(|d| d.contains("1000")),
            "{e}"
        );
    }
    for q in [
        list(5_000, &|_| "limit=1".into()).join("&"),
        list(1_500, &|_| "added_after=2020-01-01T00:00:00Z".into()).join("&"),
        list(5_000, &|_| "next=x".into()).join("&"),
    ] {
        get(&fx.app, &format!("{base}?{q}"), None)
            .await
            .assert_error(400);
    }
    // Up to the limit is fine.
    let q = list(1_000, &|_| "match[type]=identity".into()).join("&");
    let v = get(&fx.app, &format!("{base}?{q}"), None)
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&v).len(), 2);
    let q = format!(
        "match[id]={}",
        list(1_000, &|i| id("identity", i as u64)).join(",")
    );
    let v = get(&fx.app, &format!("{base}?{q}"), None)
        .await
        .assert_ok(200);
    assert_eq!(ids_of(&v).len(), 2);
    let took = t0.elapsed();
    assert!(
        took < std::time::Duration::from_secs(20),
        "huge query strings took {took:?}"
    );
    intact(&fx).await;
}

/// A body without a length, from chunks; `Err(())` breaks the stream off as
/// a client disconnect does.
fn stream(chunks: Vec<Result<Vec<u8>, ()>>) -> Body {
    let (mut tx, body) = Channel::<Bytes, std::io::Error>::new(4);
    tokio::spawn(async move {
        for c in chunks {
            match c {
                Ok(b) => {
                    for piece in b.chunks(8192) {
                        if tx.send_data(Bytes::copy_from_slice(piece)).await.is_err() {
                            return; // the server stopped reading
                        }
                    }
                }
                Err(()) => {
                    tx.abort(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "client went away",
                    ));
                    return;
                }
            }
        }
    });
    Body::new(body)
}

/// STIX 2.1 §2.1: a string is any Unicode text, NUL (U+0000, `\u0000` in
/// JSON) included. An envelope whose objects carry it in free text is stored
/// and served back exactly, on every backend (PostgreSQL text cannot hold
/// NUL: issue 12 §4); a NUL in a status id or a filter finds nothing; none of
/// it is ever a 5xx.
#[tokio::test]
async fn nul_characters_are_input_not_failures() {
    let fx = seeded().await;
    let mut o = identity(3, 1);
    o["name"] = json!("nul\u{0}name");
    o["description"] = json!("a \u{0} description");
    o["external_references"] = json!([{"source_name": "s\u{0}", "external_id": "E\u{0}1"}]);
    let s = post(
        &fx.app,
        &objects_url(PUBLIC),
        Some("bob"),
        &json!({"objects": [o.clone()]}),
    )
    .await
    .assert_ok(202);
    assert_eq!(s["success_count"], 1, "{s}");
    assert_eq!(s["failure_count"], 0, "{s}");
    let url = format!("{}{}/", objects_url(PUBLIC), id("identity", 3));
    let v = get(&fx.app, &url, None).await.assert_ok(200);
    assert_eq!(v["objects"][0], o, "served back exactly");
    for p in [
        "/api1/status/%00/".to_owned(),
        format!(
            "/api1/status/{}%00/",
            "6b8a8a8e-4f5c-4d7e-9a0b-000000000001"
        ),
        format!("{}?match[id]=identity--%00", objects_url(PUBLIC)),
        format!("{}?match[type]=identity%00", objects_url(PUBLIC)),
        format!("{}?match[spec_version]=2.1%00", objects_url(PUBLIC)),
        format!("{}?match[version]=%00", objects_url(PUBLIC)),
        format!(
            "{}/{}%00/versions/",
            objects_url(PUBLIC).trim_end_matches('/'),
            id("identity", 1)
        ),
    ] {
        let r = get(&fx.app, &p, Some("bob")).await;
        assert!(
            r.status < 500,
            "{p}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.bytes)
        );
        if r.status == 200 {
            assert!(ids_of(&r.json()).is_empty(), "{p}: {}", r.json());
        } else {
            r.assert_error(r.status);
        }
    }
}
