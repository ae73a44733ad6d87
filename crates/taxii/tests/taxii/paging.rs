//! §3.5 pagination: `next` cursors and `added_after` from X-TAXII-Date-Added-Last.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::*;

async fn seed(fx: &Fx, coll: &str, range: std::ops::Range<u64>) {
    let objs: Vec<Value> = range.map(|n| identity(n, 1)).collect();
    add(&fx.app, coll, objs).await;
}

/// §3.5: following `next` with limit 7 visits every object exactly once, in
/// date_added order, including objects POSTed between pages.
#[tokio::test]
async fn next_visits_everything_once() {
    let fx = fixture();
    seed(&fx, INTEL, 0..30).await;
    let base = format!("{}?limit=7&match[type]=identity", objects_url(INTEL));
    let mut seen = Vec::new();
    let mut url = base.clone();
    let mut pages = 0;
    let mut last_header: Option<String> = None;
    loop {
        let r = get(&fx.app, &url, Some("alice")).await;
        let v = r.assert_ok(200);
        let page = ids_of(&v);
        assert!(page.len() <= 7);
        // Ascending across pages too (§3.3).
        if let (Some(prev), Some(first)) = (&last_header, r.header("x-taxii-date-added-first")) {
            assert!(prev.as_str() < first);
        }
        last_header = r.header("x-taxii-date-added-last").map(str::to_owned);
        seen.extend(page);
        pages += 1;
        if pages == 2 {
            // Objects added while a client pages through must not be skipped.
            seed(&fx, INTEL, 100..105).await;
        }
        if v["more"] == false {
            assert!(v.get("next").is_none());
            break;
        }
        let next = v["next"].as_str().expect("next when more");
        url = format!("{base}&next={next}");
        assert!(pages < 20, "runaway paging");
    }
    assert_eq!(seen.len(), 35, "no skips: {seen:?}");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 35, "no repeats");
    let want: Vec<String> = (0..30).chain(100..105).map(|n| id("identity", n)).collect();
    assert_eq!(seen, want, "date_added order");
    assert_eq!(pages, 5);
}

/// §3.5: the alternative, `added_after` = the last page's X-TAXII-Date-Added-Last.
#[tokio::test]
async fn added_after_from_last_header_visits_everything_once() {
    let fx = fixture();
    seed(&fx, INTEL, 0..30).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for round in 0..20 {
        let mut url = format!("{}?limit=7", objects_url(INTEL));
        if let Some(a) = &after {
            url.push_str(&format!("&added_after={a}"));
        }
        let r = get(&fx.app, &url, Some("alice")).await;
        let v = r.assert_ok(200);
        let page = ids_of(&v);
        if page.is_empty() {
            assert_eq!(v, json!({"more": false}));
            assert!(r.header("x-taxii-date-added-last").is_none());
            break;
        }
        seen.extend(page);
        after = r.header("x-taxii-date-added-last").map(str::to_owned);
        if round == 1 {
            seed(&fx, INTEL, 200..203).await;
        }
    }
    let want: Vec<String> = (0..30).chain(200..203).map(|n| id("identity", n)).collect();
    assert_eq!(seen, want);
}

async fn first_next(fx: &Fx, query: &str) -> String {
    let v = get(
        &fx.app,
        &format!("{}?{query}", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    v["next"].as_str().expect("next").to_owned()
}

/// §3.5: a cursor used with other filters is a 400 (it would skip or repeat).
#[tokio::test]
async fn cursor_with_other_filters_is_400() {
    let fx = fixture();
    seed(&fx, INTEL, 0..10).await;
    add(&fx.app, INTEL, vec![malware(1)]).await;
    let next = first_next(&fx, "limit=3&match[type]=identity").await;
    let url = |q: &str| format!("{}?{q}&next={next}", objects_url(INTEL));
    // Same filters (other order, other limit): fine.
    get(&fx.app, &url("match[type]=identity&limit=5"), Some("alice"))
        .await
        .assert_ok(200);
    for q in [
        "limit=3",
        "limit=3&match[type]=malware",
        "limit=3&match[type]=identity,malware",
        "limit=3&match[type]=identity&match[version]=all",
        "limit=3&match[type]=identity&added_after=2000-01-01T00:00:00Z",
        "limit=3&match[type]=identity&match[spec_version]=2.1",
    ] {
        get(&fx.app, &url(q), Some("alice")).await.assert_error(400);
    }
    // Another endpoint of the same collection.
    get(
        &fx.app,
        &format!("/api1/collections/{INTEL}/manifest/?limit=3&match[type]=identity&next={next}"),
        Some("alice"),
    )
    .await
    .assert_error(400);
}

/// §3.5: a cursor of one collection is a 400 on another.
#[tokio::test]
async fn cursor_of_another_collection_is_400() {
    let fx = fixture();
    seed(&fx, INTEL, 0..10).await;
    seed(&fx, PUBLIC, 0..10).await;
    let next = first_next(&fx, "limit=3").await;
    get(
        &fx.app,
        &format!("{}?limit=3&next={next}", objects_url(PUBLIC)),
        Some("alice"),
    )
    .await
    .assert_error(400);
}

/// §3.5: a tampered or forged cursor is a 400.
#[tokio::test]
async fn tampered_cursor_is_400() {
    let fx = fixture();
    seed(&fx, INTEL, 0..10).await;
    let next = first_next(&fx, "limit=3").await;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let raw = engine.decode(&next).expect("url-safe base64");
    // Flip one bit anywhere: always rejected.
    for i in [0, 1, 5, 8, 12, 30, raw.len() - 1] {
        let mut t = raw.clone();
        t[i] ^= 0x01;
        let forged = engine.encode(&t);
        get(
            &fx.app,
            &format!("{}?limit=3&next={forged}", objects_url(INTEL)),
            Some("alice"),
        )
        .await
        .assert_error(400);
    }
    // Truncated, extended, or not base64 at all.
    for forged in [
        next[..next.len() - 2].to_owned(),
        format!("{next}AA"),
        "%2F%2F%2F".to_owned(),
    ] {
        get(
            &fx.app,
            &format!("{}?limit=3&next={forged}", objects_url(INTEL)),
            Some("alice"),
        )
        .await
        .assert_error(400);
    }
    // The genuine one still works.
    let v = get(
        &fx.app,
        &format!("{}?limit=3&next={next}", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(ids_of(&v).len(), 3);
}

/// §3.5 + errata cti-taxii2#110: manifest and versions page with next too.
#[tokio::test]
async fn manifest_and_versions_pages() {
    let fx = fixture();
    seed(&fx, INTEL, 0..12).await;
    for v in 2..=9 {
        add(&fx.app, INTEL, vec![identity(0, v)]).await;
    }
    let mut seen = 0;
    let mut url = format!("/api1/collections/{INTEL}/manifest/?limit=5");
    loop {
        let v = get(&fx.app, &url, Some("alice")).await.assert_ok(200);
        seen += v["objects"].as_array().map_or(0, Vec::len);
        match v["next"].as_str() {
            Some(n) => url = format!("/api1/collections/{INTEL}/manifest/?limit=5&next={n}"),
            None => break,
        }
    }
    assert_eq!(seen, 12, "latest version of each object");
    let base = format!(
        "{}{}/versions/?limit=3",
        objects_url(INTEL),
        id("identity", 0)
    );
    let mut all = Vec::new();
    let mut url = base.clone();
    loop {
        let v = get(&fx.app, &url, Some("alice")).await.assert_ok(200);
        all.extend(v["versions"].as_array().cloned().unwrap_or_default());
        match v["next"].as_str() {
            Some(n) => url = format!("{base}&next={n}"),
            None => {
                assert_eq!(v["more"], false);
                break;
            }
        }
    }
    let want: Vec<Value> = (1..=9)
        .map(|n| json!(format!("2020-01-01T00:00:{n:02}.000Z")))
        .collect();
    assert_eq!(all, want);
}
