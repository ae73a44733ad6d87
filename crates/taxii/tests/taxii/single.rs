//! §5.3 manifest, §5.6 get an object, §5.7 delete an object, §5.8 versions.

use serde_json::json;

use crate::common::*;

fn object_url(coll: &str, id: &str) -> String {
    format!("{}{id}/", objects_url(coll))
}

async fn three_versions(fx: &Fx, coll: &str) -> String {
    add(&fx.app, coll, vec![identity(1, 1)]).await;
    add(&fx.app, coll, vec![identity(1, 2), malware(1)]).await;
    add(&fx.app, coll, vec![identity(1, 3)]).await;
    id("identity", 1)
}

fn modified(v: &serde_json::Value) -> Vec<String> {
    v["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["modified"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn t(n: u32) -> String {
    format!("2020-01-01T00:00:{n:02}.000Z")
}

/// §5.6: the latest version by default, all with match[version]=all, headers set.
#[tokio::test]
async fn get_an_object() {
    let fx = fixture();
    let oid = three_versions(&fx, INTEL).await;
    let r = get(&fx.app, &object_url(INTEL, &oid), Some("alice")).await;
    let v = r.assert_ok(200);
    assert_eq!(modified(&v), [t(3)]);
    assert_eq!(v["more"], false);
    assert!(r.header("x-taxii-date-added-first").is_some());
    assert_eq!(
        r.header("x-taxii-date-added-first"),
        r.header("x-taxii-date-added-last")
    );
    let v = get(
        &fx.app,
        &format!("{}?match[version]=all", object_url(INTEL, &oid)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(modified(&v), [t(1), t(2), t(3)]);
    let v = get(
        &fx.app,
        &format!(
            "{}?match[version]=first&match[spec_version]=2.1",
            object_url(INTEL, &oid)
        ),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(modified(&v), [t(1)]);
    // Paged with limit and next.
    let v = get(
        &fx.app,
        &format!("{}?match[version]=all&limit=2", object_url(INTEL, &oid)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(modified(&v), [t(1), t(2)]);
    let next = v["next"].as_str().expect("next");
    let v = get(
        &fx.app,
        &format!(
            "{}?match[version]=all&limit=2&next={next}",
            object_url(INTEL, &oid)
        ),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(modified(&v), [t(3)]);
}

/// §5.6: an unknown object (or one only in another collection) is a 404.
#[tokio::test]
async fn unknown_object_is_404() {
    let fx = fixture();
    three_versions(&fx, PUBLIC).await;
    for oid in [id("identity", 1), id("identity", 2), "not-an-id".to_owned()] {
        get(&fx.app, &object_url(INTEL, &oid), Some("alice"))
            .await
            .assert_error(404);
        get(
            &fx.app,
            &format!("{}versions/", object_url(INTEL, &oid)),
            Some("alice"),
        )
        .await
        .assert_error(404);
    }
    // Filters that exclude every version give an empty envelope, not a 404.
    let v = get(
        &fx.app,
        &format!(
            "{}?match[version]=2019-01-01T00:00:00Z",
            object_url(PUBLIC, &id("identity", 1))
        ),
        None,
    )
    .await
    .assert_ok(200);
    assert_eq!(v, json!({"more": false}));
}

/// §5.8: every version, ascending, with headers.
#[tokio::test]
async fn versions_of_an_object() {
    let fx = fixture();
    let oid = three_versions(&fx, INTEL).await;
    let r = get(
        &fx.app,
        &format!("{}versions/", object_url(INTEL, &oid)),
        Some("alice"),
    )
    .await;
    let v = r.assert_ok(200);
    assert_eq!(v, json!({"more": false, "versions": [t(1), t(2), t(3)]}));
    assert!(r.header("x-taxii-date-added-first").is_some());
    assert!(r.header("x-taxii-date-added-last").is_some());
    // An SCO (no created/modified) is versioned by its date_added (§3.4.1).
    add(&fx.app, INTEL, vec![ipv4(9)]).await;
    let sco = ipv4(9)["id"].as_str().expect("id").to_owned();
    let r = get(
        &fx.app,
        &format!("{}versions/", object_url(INTEL, &sco)),
        Some("alice"),
    )
    .await;
    let v = r.assert_ok(200);
    assert_eq!(
        v["versions"][0].as_str(),
        r.header("x-taxii-date-added-first")
    );
}

/// §5.3: one record per version with id, date_added, version, media_type;
/// filters apply (default: latest versions).
#[tokio::test]
async fn manifest_records() {
    let fx = fixture();
    let oid = three_versions(&fx, INTEL).await;
    let url = format!("/api1/collections/{INTEL}/manifest/");
    let r = get(&fx.app, &url, Some("alice")).await;
    let v = r.assert_ok(200);
    let recs = v["objects"].as_array().expect("records");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["id"], json!(id("malware", 1)));
    assert_eq!(recs[1]["id"], json!(oid));
    assert_eq!(recs[1]["version"], json!(t(3)));
    assert_eq!(recs[1]["media_type"], "application/stix+json;version=2.1");
    assert_eq!(
        recs[1]["date_added"].as_str(),
        r.header("x-taxii-date-added-last")
    );
    assert_eq!(
        recs[0]["date_added"].as_str(),
        r.header("x-taxii-date-added-first")
    );
    let v = get(
        &fx.app,
        &format!("{url}?match[version]=all&match[type]=identity"),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    let versions: Vec<_> = v["objects"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["version"].clone())
        .collect();
    assert_eq!(versions, [json!(t(1)), json!(t(2)), json!(t(3))]);
    // Empty manifest.
    let r = get(&fx.app, &format!("{url}?match[type]=tool"), Some("alice")).await;
    assert_eq!(r.assert_ok(200), json!({"more": false}));
    assert!(r.header("x-taxii-date-added-first").is_none());
}

/// §5.7 permission matrix, exactly: (F,F) 404, (T,F) 403, (F,T) 403, (T,T) 200.
#[tokio::test]
async fn delete_permission_matrix() {
    let fx = fixture();
    let oid = three_versions(&fx, INTEL).await;
    add(&fx.app, DROPBOX, vec![identity(1, 1)]).await;
    add(&fx.app, SECRET, vec![identity(1, 1)]).await;
    // alice on SECRET: can_read=false, can_write=false.
    delete(&fx.app, &object_url(SECRET, &oid), Some("alice"))
        .await
        .assert_error(404);
    // alice on INTEL: can_read=true, can_write=false.
    delete(&fx.app, &object_url(INTEL, &oid), Some("alice"))
        .await
        .assert_error(403);
    // bob on DROPBOX: can_read=false, can_write=true.
    delete(&fx.app, &object_url(DROPBOX, &oid), Some("bob"))
        .await
        .assert_error(403);
    // Anonymous: authenticate first.
    delete(&fx.app, &object_url(PUBLIC, &oid), None)
        .await
        .assert_error(401);
    // bob on INTEL: both.
    let r = delete(&fx.app, &object_url(INTEL, &oid), Some("bob")).await;
    assert_eq!(r.status, 200);
}

/// §5.7: without match[version], every version leaves the collection; then
/// GET is a 404 and it is gone from objects, manifest and versions. Other
/// collections keep their copies.
#[tokio::test]
async fn delete_removes_all_versions() {
    let fx = fixture();
    let oid = three_versions(&fx, INTEL).await;
    add(&fx.app, PUBLIC, vec![identity(1, 3)]).await;
    delete(&fx.app, &object_url(INTEL, &oid), Some("bob"))
        .await
        .assert_ok(200);
    get(&fx.app, &object_url(INTEL, &oid), Some("alice"))
        .await
        .assert_error(404);
    get(
        &fx.app,
        &format!("{}versions/", object_url(INTEL, &oid)),
        Some("alice"),
    )
    .await
    .assert_error(404);
    let v = get(
        &fx.app,
        &format!("{}?match[version]=all", objects_url(INTEL)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(ids_of(&v), [id("malware", 1)]);
    let v = get(
        &fx.app,
        &format!("/api1/collections/{INTEL}/manifest/?match[version]=all"),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(v["objects"].as_array().map(Vec::len), Some(1));
    // Still in PUBLIC.
    get(&fx.app, &object_url(PUBLIC, &oid), None)
        .await
        .assert_ok(200);
    // Deleting again: nothing there.
    delete(&fx.app, &object_url(INTEL, &oid), Some("bob"))
        .await
        .assert_error(404);
}

/// §5.7: with match[version], only the selected versions go.
#[tokio::test]
async fn delete_selected_versions() {
    let fx = fixture();
    let oid = three_versions(&fx, INTEL).await;
    delete(
        &fx.app,
        &format!("{}?match[version]=last", object_url(INTEL, &oid)),
        Some("bob"),
    )
    .await
    .assert_ok(200);
    let v = get(
        &fx.app,
        &format!("{}versions/", object_url(INTEL, &oid)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(v["versions"], json!([t(1), t(2)]));
    delete(
        &fx.app,
        &format!("{}?match[version]={}", object_url(INTEL, &oid), t(1)),
        Some("bob"),
    )
    .await
    .assert_ok(200);
    let v = get(
        &fx.app,
        &format!("{}versions/", object_url(INTEL, &oid)),
        Some("alice"),
    )
    .await
    .assert_ok(200);
    assert_eq!(v["versions"], json!([t(2)]));
    // A version that is not there: 404, nothing removed.
    delete(
        &fx.app,
        &format!("{}?match[version]={}", object_url(INTEL, &oid), t(9)),
        Some("bob"),
    )
    .await
    .assert_error(404);
    delete(
        &fx.app,
        &format!("{}?match[spec_version]=2.0", object_url(INTEL, &oid)),
        Some("bob"),
    )
    .await
    .assert_error(404);
    // spec_version alone selects all versions of that spec version.
    delete(
        &fx.app,
        &format!("{}?match[spec_version]=2.1", object_url(INTEL, &oid)),
        Some("bob"),
    )
    .await
    .assert_ok(200);
    get(&fx.app, &object_url(INTEL, &oid), Some("alice"))
        .await
        .assert_error(404);
}
