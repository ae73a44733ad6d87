//! §1.6.9, §8.2.2 authentication; §5.4/5.5/5.7 permission errors.

use axum::body::Body;
use axum::http::header;
use serde_json::json;

use crate::common::*;

/// §8.2.2: a resource that needs credentials answers 401 with WWW-Authenticate,
/// whether or not the collection exists (nothing revealed to anonymous callers).
#[tokio::test]
async fn anonymous_needs_credentials() {
    let fx = fixture();
    for url in [
        objects_url(INTEL),
        format!("/api1/collections/{INTEL}/"),
        format!("/api1/collections/{INTEL}/manifest/"),
        objects_url(SECRET),
        objects_url("00000000-0000-4000-8000-000000000000"),
    ] {
        let r = get(&fx.app, &url, None).await;
        r.assert_error(401);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"sightline\"")
        );
    }
    // Anonymous may read PUBLIC but not write it.
    get(&fx.app, &objects_url(PUBLIC), None)
        .await
        .assert_ok(200);
    let r = post(&fx.app, &objects_url(PUBLIC), None, &json!({"objects": []})).await;
    r.assert_error(401);
}

/// §5.4: no read right → 403 (the caller may write) or 404 (no right at all).
#[tokio::test]
async fn read_without_right() {
    let fx = fixture();
    get(&fx.app, &objects_url(DROPBOX), Some("bob"))
        .await
        .assert_error(403);
    get(
        &fx.app,
        &format!("/api1/collections/{DROPBOX}/manifest/"),
        Some("bob"),
    )
    .await
    .assert_error(403);
    get(&fx.app, &objects_url(SECRET), Some("alice"))
        .await
        .assert_error(404);
    get(&fx.app, &objects_url(DROPBOX), Some("alice"))
        .await
        .assert_error(404);
}

/// §5.5: no write right → 403 (the caller may read) or 404 (no right at all).
#[tokio::test]
async fn write_without_right() {
    let fx = fixture();
    let env = json!({"objects": [identity(1, 1)]});
    post(&fx.app, &objects_url(INTEL), Some("alice"), &env)
        .await
        .assert_error(403);
    post(&fx.app, &objects_url(SECRET), Some("alice"), &env)
        .await
        .assert_error(404);
    // A write-only caller may write.
    post(&fx.app, &objects_url(DROPBOX), Some("bob"), &env)
        .await
        .assert_ok(202);
}

/// §8.2.2: wrong credentials on a public collection are still a 401.
#[tokio::test]
async fn bad_credentials_on_public_collection() {
    let fx = fixture();
    let r = call(
        &fx.app,
        builder("GET", &objects_url(PUBLIC), None)
            .header(header::AUTHORIZATION, "Bearer nope")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    r.assert_error(401);
    assert!(r.header("www-authenticate").is_some());
}

/// Bearer tokens work like Basic credentials (the Authenticator decides).
#[tokio::test]
async fn bearer_token() {
    let fx = fixture();
    let r = call(
        &fx.app,
        builder("GET", &objects_url(INTEL), None)
            .header(header::AUTHORIZATION, "Bearer bob-token")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    r.assert_ok(200);
}
