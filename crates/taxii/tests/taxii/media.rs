//! §1.6.8, §3.1 media types; §5.5 413 and 415.

use axum::body::{Body, Bytes};
use axum::http::header;
use http_body_util::channel::Channel;
use serde_json::json;

use crate::common::*;

/// §1.6.8: `application/taxii+json` with or without version, with parameters,
/// in lists; `*/*` and a missing Accept are accepted (documented choice).
#[tokio::test]
async fn accepted_accept_headers() {
    let fx = fixture();
    for accept in [
        Some("application/taxii+json"),
        Some("application/taxii+json;version=2.1"),
        Some("application/taxii+json; version=2.1; q=0.5"),
        Some("text/html, application/taxii+json;charset=utf-8"),
        Some("*/*"),
        None,
    ] {
        let mut b = axum::http::Request::builder().uri("/taxii2/");
        if let Some(a) = accept {
            b = b.header(header::ACCEPT, a);
        }
        let r = call(&fx.app, b.body(Body::empty()).expect("req")).await;
        assert_eq!(r.status, 200, "{accept:?}");
    }
}

/// §1.6.8: anything else is a 406 TAXII error (errors too carry the TAXII type).
#[tokio::test]
async fn other_accept_is_406() {
    let fx = fixture();
    for accept in [
        "application/json",
        "application/taxii+json;version=2.0",
        "application/stix+json;version=2.1",
        "text/html",
        "application/taxii+json;q=0",
    ] {
        let r = call(
            &fx.app,
            axum::http::Request::builder()
                .uri(format!("/api1/collections/{PUBLIC}/objects/"))
                .header(header::ACCEPT, accept)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        r.assert_error(406);
    }
}

/// §5.5: a POST body that is not application/taxii+json is a 415.
#[tokio::test]
async fn post_with_other_content_type_is_415() {
    let fx = fixture();
    let body = serde_json::to_vec(&json!({"objects": [identity(1, 1)]})).expect("json");
    for ct in [
        Some("application/json"),
        Some("application/stix+json;version=2.1"),
        Some("application/taxii+json;version=2.0"),
        Some("text/plain"),
        None,
    ] {
        let mut b = builder("POST", &objects_url(PUBLIC), Some("bob"));
        if let Some(ct) = ct {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        let r = call(&fx.app, b.body(Body::from(body.clone())).expect("req")).await;
        r.assert_error(415);
    }
    // Both spellings of the TAXII type are fine.
    for ct in [
        "application/taxii+json",
        "application/taxii+json; version=2.1",
    ] {
        let r = call(
            &fx.app,
            builder("POST", &objects_url(PUBLIC), Some("bob"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body.clone()))
                .expect("req"),
        )
        .await;
        r.assert_ok(202);
    }
}

fn big_envelope() -> Vec<u8> {
    let objects: Vec<_> = (0..400).map(|n| identity(n, 1)).collect();
    let b = serde_json::to_vec(&json!({ "objects": objects })).expect("json");
    assert!(b.len() > MAX_CONTENT);
    b
}

/// §4.2, §5.5: a declared Content-Length over max_content_length is a 413.
#[tokio::test]
async fn declared_body_over_limit_is_413() {
    let fx = fixture();
    let b = big_envelope();
    let r = call(
        &fx.app,
        builder("POST", &objects_url(PUBLIC), Some("bob"))
            .header(header::CONTENT_TYPE, TAXII)
            .header(header::CONTENT_LENGTH, b.len())
            .body(Body::from(b))
            .expect("req"),
    )
    .await;
    r.assert_error(413);
}

/// §5.5: a chunked body (no Content-Length) is cut off at max_content_length: 413.
#[tokio::test]
async fn chunked_body_over_limit_is_413() {
    let fx = fixture();
    let b = big_envelope();
    let r = call(
        &fx.app,
        builder("POST", &objects_url(PUBLIC), Some("bob"))
            .header(header::CONTENT_TYPE, TAXII)
            .body(chunked(&b, 4096))
            .expect("req"),
    )
    .await;
    r.assert_error(413);
    // Nothing was stored.
    let v = get(&fx.app, &objects_url(PUBLIC), None)
        .await
        .assert_ok(200);
    assert_eq!(v, json!({"more": false}));
}

/// §4.2: a body just under the limit is never a 413, chunked or not.
#[tokio::test]
async fn chunked_body_under_limit_is_accepted() {
    let fx = fixture();
    let b =
        serde_json::to_vec(&json!({"objects": [identity(1, 1), identity(2, 1)]})).expect("json");
    let r = call(
        &fx.app,
        builder("POST", &objects_url(PUBLIC), Some("bob"))
            .header(header::CONTENT_TYPE, TAXII)
            .body(chunked(&b, 7))
            .expect("req"),
    )
    .await;
    assert_eq!(r.assert_ok(202)["success_count"], json!(2));
}

/// A chunked body (no Content-Length) fed from a task, chunk by chunk.
fn chunked(b: &[u8], size: usize) -> Body {
    let chunks: Vec<Bytes> = b.chunks(size).map(Bytes::copy_from_slice).collect();
    let (mut tx, body) = Channel::<Bytes, std::convert::Infallible>::new(4);
    tokio::spawn(async move {
        for c in chunks {
            if tx.send_data(c).await.is_err() {
                break; // the server stopped reading (413)
            }
        }
    });
    Body::new(body)
}
