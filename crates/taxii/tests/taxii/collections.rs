//! §5.1 collections list and §5.2 one collection, filtered by rights.

use serde_json::json;

use crate::common::*;

fn listed(v: &serde_json::Value) -> Vec<(String, bool, bool)> {
    v["collections"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["title"].as_str().unwrap_or_default().to_owned(),
                        c["can_read"].as_bool().unwrap_or_default(),
                        c["can_write"].as_bool().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn t(s: &str, r: bool, w: bool) -> (String, bool, bool) {
    (s.to_owned(), r, w)
}

/// §5.1: only collections the caller may read or write, in a stable order
/// (§3.3: by title, then id), with the caller's own can_read/can_write.
#[tokio::test]
async fn collections_are_filtered_by_rights() {
    let fx = fixture();
    let url = "/api1/collections/";
    assert_eq!(
        listed(&get(&fx.app, url, None).await.assert_ok(200)),
        [t("Public", true, false)]
    );
    assert_eq!(
        listed(&get(&fx.app, url, Some("alice")).await.assert_ok(200)),
        [t("Intel", true, false), t("Public", true, false)]
    );
    assert_eq!(
        listed(&get(&fx.app, url, Some("bob")).await.assert_ok(200)),
        [
            t("Dropbox", false, true),
            t("Intel", true, true),
            t("Public", true, true)
        ]
    );
    assert_eq!(
        listed(&get(&fx.app, url, Some("admin")).await.assert_ok(200)),
        [
            t("Dropbox", true, true),
            t("Intel", true, true),
            t("Public", true, true),
            t("Secret", true, true)
        ]
    );
    // Stable: the same answer twice.
    assert_eq!(
        get(&fx.app, url, Some("admin")).await.bytes,
        get(&fx.app, url, Some("admin")).await.bytes
    );
}

/// §5.1: a root only lists its own collections.
#[tokio::test]
async fn collections_of_another_root_are_not_listed() {
    let fx = fixture();
    let v = get(&fx.app, "/api2/collections/", Some("admin"))
        .await
        .assert_ok(200);
    assert_eq!(listed(&v), [t("Other", true, true)]);
}

/// §5.1, §2 (lists never empty): an authenticated caller who sees nothing
/// gets `{}`; an anonymous one gets a 401 asking for credentials.
#[tokio::test]
async fn nothing_visible() {
    let fx = fixture();
    let v = get(&fx.app, "/api2/collections/", None).await;
    v.assert_error(401);
    assert!(v.header("www-authenticate").is_some());
}

/// §5.2: all properties of one collection; the alias works as an id.
#[tokio::test]
async fn one_collection() {
    let fx = fixture();
    let want = json!({
        "id": INTEL,
        "title": "Intel",
        "description": "Intel collection",
        "alias": "intel",
        "can_read": true,
        "can_write": false,
        "media_types": ["application/stix+json;version=2.1"]
    });
    let v = get(
        &fx.app,
        &format!("/api1/collections/{INTEL}/"),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(v, want);
    let v = get(&fx.app, "/api1/collections/intel/", Some("alice"))
        .await
        .assert_ok(200);
    assert_eq!(v, want);
}

/// §5.2: a write-only caller may see the collection (to learn can_write).
#[tokio::test]
async fn write_only_caller_sees_collection_info() {
    let fx = fixture();
    let v = get(
        &fx.app,
        &format!("/api1/collections/{DROPBOX}/"),
        Some("bob"),
    )
    .await
    .assert_ok(200);
    assert_eq!(
        (v["can_read"].clone(), v["can_write"].clone()),
        (json!(false), json!(true))
    );
    assert!(v.get("alias").is_none());
}

/// §5.2: unknown, hidden (no rights) and other-root collections are all 404.
#[tokio::test]
async fn hidden_collections_are_404() {
    let fx = fixture();
    for (user, c) in [
        ("alice", SECRET),
        ("alice", "secret"),
        ("alice", DROPBOX),
        ("alice", "00000000-0000-4000-8000-000000000000"),
        ("admin", OTHER), // exists, but in api2
        ("admin", "no-such-alias"),
    ] {
        get(&fx.app, &format!("/api1/collections/{c}/"), Some(user))
            .await
            .assert_error(404);
    }
}
