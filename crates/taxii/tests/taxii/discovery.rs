//! §4.1 discovery, §4.2 API root, unknown paths, wrong methods, observability.

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::common::*;

/// §4.1: title, description, contact, default ∈ api_roots, relative URLs; anonymous allowed.
#[tokio::test]
async fn discovery_lists_api_roots() {
    let fx = fixture();
    let v = get(&fx.app, "/taxii2/", None).await.assert_ok(200);
    assert_eq!(
        v,
        json!({
            "title": "Sightline test",
            "description": "test server",
            "contact": "soc@example.org",
            "default": "/api1/",
            "api_roots": ["/api1/", "/api2/"]
        })
    );
}

/// Issue 12 §2, §4.1, §4.2, §8.2.2: with `discovery_requires_auth`, an
/// anonymous caller gets a 401 TAXII error with a challenge on discovery and
/// API-root information (known root or not, so nothing is revealed); signed-in
/// callers get the description.
#[tokio::test]
async fn private_discovery_needs_credentials() {
    let fx = fixture_with(|c| c.discovery_requires_auth = true);
    for path in ["/taxii2/", "/api1/", "/api2/", "/nope/"] {
        let r = get(&fx.app, path, None).await;
        r.assert_error(401);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"sightline\""),
            "{path}"
        );
    }
    let v = get(&fx.app, "/taxii2/", Some("alice")).await.assert_ok(200);
    assert_eq!(v["api_roots"], json!(["/api1/", "/api2/"]));
    let v = get(&fx.app, "/api2/", Some("bob")).await.assert_ok(200);
    assert_eq!(v["title"], "API two");
    get(&fx.app, "/nope/", Some("bob")).await.assert_error(404);
    // The collections list stays what it was: anonymous callers see what
    // they may read.
    get(&fx.app, "/api1/collections/", None)
        .await
        .assert_ok(200);
}

/// §4.1 + §8.2.2: wrong credentials are a 401 with WWW-Authenticate, even where anonymous works.
#[tokio::test]
async fn discovery_with_bad_credentials_is_401() {
    let fx = fixture();
    let r = call(
        &fx.app,
        builder("GET", "/taxii2/", None)
            .header(header::AUTHORIZATION, "Basic Ym9iOndyb25n") // bob:wrong
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    r.assert_error(401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"sightline\"")
    );
    // A malformed header (unknown scheme) is a 401 too.
    let r = call(
        &fx.app,
        builder("GET", "/taxii2/", None)
            .header(header::AUTHORIZATION, "Negotiate abc")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    r.assert_error(401);
    assert!(r.header("www-authenticate").is_some());
}

/// §1.6.9: a failing credential store is a 503, not a 401 or 500.
#[tokio::test]
async fn authentication_unavailable_is_503() {
    let fx = fixture();
    let r = call(
        &fx.app,
        builder("GET", "/taxii2/", None)
            .header(header::AUTHORIZATION, "Bearer down")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    let v = r.assert_error(503);
    assert!(
        !v.to_string().contains("offline"),
        "no internal detail: {v}"
    );
}

/// §4.2: title, versions with the 2.1 media type, max_content_length.
#[tokio::test]
async fn api_root_information() {
    let fx = fixture();
    let v = get(&fx.app, "/api2/", None).await.assert_ok(200);
    assert_eq!(
        v,
        json!({
            "title": "API two",
            "description": "second root",
            "versions": ["application/taxii+json;version=2.1"],
            "max_content_length": MAX_CONTENT
        })
    );
    let v = get(&fx.app, "/api1/", Some("alice")).await.assert_ok(200);
    assert!(v.get("description").is_none());
}

/// §4.2: unknown API root → 404 TAXII error.
#[tokio::test]
async fn unknown_api_root_is_404() {
    let fx = fixture();
    get(&fx.app, "/nope/", None).await.assert_error(404);
    get(&fx.app, "/nope/collections/", None)
        .await
        .assert_error(404);
    get(
        &fx.app,
        &format!("/nope/collections/{PUBLIC}/objects/"),
        None,
    )
    .await
    .assert_error(404);
}

/// §3.1: every endpoint ends in `/`; anything else is a 404 TAXII error.
#[tokio::test]
async fn unknown_paths_are_404() {
    let fx = fixture();
    for p in [
        "/taxii2",
        "/",
        "/api1/collections",
        "/api1/what/",
        "/api1/collections/x/y/z/w/v/",
    ] {
        get(&fx.app, p, None).await.assert_error(404);
    }
}

/// §3.6: a wrong method is a 405 TAXII error.
#[tokio::test]
async fn wrong_method_is_405() {
    let fx = fixture();
    for (m, p) in [
        ("POST", "/taxii2/".to_owned()),
        ("DELETE", "/api1/".to_owned()),
        ("PUT", objects_url(PUBLIC)),
        ("POST", format!("/api1/collections/{PUBLIC}/manifest/")),
    ] {
        let r = call(
            &fx.app,
            builder(m, &p, Some("admin"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        r.assert_error(405);
    }
}

/// Observability: every response carries an x-request-id; a client's own is kept.
#[tokio::test]
async fn request_ids() {
    let fx = fixture();
    let r = get(&fx.app, "/taxii2/", None).await;
    let rid = r.header("x-request-id").expect("request id");
    assert_eq!(rid.len(), 36, "a UUID: {rid}");
    let r = call(
        &fx.app,
        builder("GET", "/nope/", None)
            .header("x-request-id", "client-chosen-1")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(r.header("x-request-id"), Some("client-chosen-1"));
}

/// Issue 12 §4: a client's request id is logged only when it is at most 64
/// characters of `[A-Za-z0-9._-]`; any other is replaced by a fresh UUID
/// (echoed), so it cannot forge or flood log lines.
#[tokio::test]
async fn bad_request_ids_are_replaced() {
    let fx = fixture();
    let long = "a".repeat(65);
    let max = "b".repeat(64);
    for (sent, kept) in [
        ("ok-1.2_3", true),
        (max.as_str(), true),
        (long.as_str(), false),
        ("two words", false),
        ("x\"y", false),
        ("evil%0d%0a", false),
        ("a,b", false),
    ] {
        let r = call(
            &fx.app,
            builder("GET", "/taxii2/", None)
                .header("x-request-id", sent)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        let got = r.header("x-request-id").expect("a request id");
        if kept {
            assert_eq!(got, sent);
        } else {
            assert_ne!(got, sent);
            assert!(uuid::Uuid::parse_str(got).is_ok(), "a fresh UUID: {got}");
        }
    }
    // Two ids are not one: replaced.
    let r = call(
        &fx.app,
        builder("GET", "/taxii2/", None)
            .header("x-request-id", "one")
            .header("x-request-id", "two")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    let got: Vec<_> = r.headers.get_all("x-request-id").iter().collect();
    assert_eq!(got.len(), 1);
    assert!(uuid::Uuid::parse_str(got[0].to_str().unwrap_or_default()).is_ok());
}

/// Health endpoint for load balancers (not TAXII).
#[tokio::test]
async fn healthz() {
    let resp = sightline_taxii::health_router()
        .oneshot(
            Request::builder()
                .uri("/healthz")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("infallible");
    assert_eq!(resp.status(), 200);
    let b = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&b[..], b"ok");
}
