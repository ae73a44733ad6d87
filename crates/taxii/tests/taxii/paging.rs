//! §3.5 pagination: `next` cursors and `added_after` from X-TAXII-Date-Added-Last.

use std::collections::BTreeSet;

use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

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

/// Identities with a 3 KB description: a few fill a small page budget.
async fn seed_large(fx: &Fx, coll: &str, range: std::ops::Range<u64>) {
    for n in range {
        let mut o = identity(n, 1);
        o["description"] = json!("x".repeat(3000));
        add(&fx.app, coll, vec![o]).await;
    }
}

/// Issue 12 §3 (slow readers): a page that would pass `max_page_bytes` ends
/// early with `more` and a `next` cursor (§3.4: a server may return fewer
/// objects than `limit`); following `next` still visits every object once,
/// for objects and manifest alike.
#[tokio::test]
async fn pages_end_early_at_their_byte_bound_and_lose_nothing() {
    let fx = fixture_with(|c| c.pages.max_page_bytes = 11_000);
    seed_large(&fx, INTEL, 0..12).await;
    for endpoint in ["objects", "manifest"] {
        let base = format!("/api1/collections/{INTEL}/{endpoint}/?limit=25");
        let (mut url, mut seen, mut sizes) = (base.clone(), Vec::new(), Vec::new());
        loop {
            let r = get(&fx.app, &url, Some("alice")).await;
            let v = r.assert_ok(200);
            let page: Vec<String> = v["objects"]
                .as_array()
                .expect("objects")
                .iter()
                .map(|o| o["id"].as_str().unwrap_or_default().to_owned())
                .collect();
            assert!(!page.is_empty());
            sizes.push(page.len());
            seen.extend(page);
            if v["more"] == false {
                break;
            }
            url = format!("{base}&next={}", v["next"].as_str().expect("next"));
            assert!(sizes.len() < 20, "runaway paging");
        }
        let want: Vec<String> = (0..12).map(|n| id("identity", n)).collect();
        assert_eq!(seen, want, "{endpoint}: every object once, in order");
        if endpoint == "objects" {
            // ~3.2 KB per object: three fit in 11,000 bytes with the frame.
            assert_eq!(sizes, vec![3, 3, 3, 3], "objects cut by max_page_bytes");
        } else {
            assert_eq!(sizes, vec![12], "manifest records are small");
        }
    }
    // An object larger than the bound is still served, alone.
    let fx = fixture_with(|c| c.pages.max_page_bytes = 1_000);
    seed_large(&fx, INTEL, 0..2).await;
    let v = get(
        &fx.app,
        &format!("{}?limit=25", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(ids_of(&v), vec![id("identity", 0)]);
    assert_eq!(v["more"], true);
}

/// Issue 12 §3 (slow readers): page bodies not yet sent hold the server-wide
/// `max_inflight_page_bytes`; while it is spent, later pages are cut short
/// and a page with no room gets 503 with `Retry-After` (after a wait that
/// holds nothing), and the room comes back when the held body is dropped.
#[tokio::test]
async fn unsent_pages_hold_the_budget_until_dropped() {
    let fx = fixture_with(|c| {
        c.pages.max_inflight_page_bytes = 64 << 10;
        c.pages.wait = std::time::Duration::from_millis(200);
    });
    seed_large(&fx, INTEL, 0..25).await;
    let url = format!("{}?limit=25", objects_url(INTEL));
    let req = || {
        builder("GET", &url, Some("alice"))
            .body(axum::body::Body::empty())
            .expect("request")
    };
    // A client that never reads: its response (and body) is kept, unread.
    let held = fx.app.clone().oneshot(req()).await.expect("router");
    assert_eq!(held.status(), 200);
    // 25 × 3.2 KB would be 80 KB: the 64 KiB budget cut the page.
    let refused = call(&fx.app, req()).await;
    let e = refused.assert_error(503);
    assert!(
        e["description"].as_str().unwrap_or("").contains("retry"),
        "{e}"
    );
    assert_eq!(refused.header("retry-after"), Some("5"));
    // The held body is complete and honest about the cut.
    let bytes = held.into_body().collect().await.expect("body").to_bytes();
    let v: Value = serde_json::from_slice(&bytes).expect("JSON page");
    let n = ids_of(&v).len();
    assert!((15..25).contains(&n), "cut by the budget: {n}");
    assert_eq!(v["more"], true);
    // Sent (or dropped), the room is back.
    let r = get(&fx.app, &url, Some("alice")).await;
    assert!(!ids_of(&r.assert_ok(200)).is_empty());
}
