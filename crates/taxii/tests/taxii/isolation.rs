//! Collection isolation (issue 12 §1; ARCHITECTURE.md, invariant 3): what a
//! collection serves (TAXII 2.1 §5.3 manifest, §5.4 objects, §5.6 by id,
//! §5.8 versions) is exactly what was added to it, byte for byte, whatever
//! another collection holds under the same id and `modified`. Other content
//! under an id and version the collection already holds is a `failures`
//! entry of the status resource (§4.3), never a silent replacement. Runs on
//! the backend `SIGHTLINE_TEST_BACKEND` names (see `common.rs`).

use serde_json::{json, Value};

use crate::common::*;

/// An indicator whose description is `note`: the same id and `modified`
/// for every note, so only the bytes differ.
fn indicator(note: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id("indicator", 7),
        "created": "2024-03-01T12:00:00.000Z",
        "modified": "2024-03-01T12:00:00.000Z",
        "name": "C2 address",
        "description": note,
        "pattern": "[ipv4-addr:value = '203.0.113.9']",
        "pattern_type": "stix",
        "valid_from": "2024-03-01T12:00:00Z"
    })
}

const SECRET_NOTE: &str = "TLP:RED incident 4711, victim bank-a";
const PLANTED_NOTE: &str = "planted by a writer of public";

/// The object's exact JSON text as POSTed (the envelope is compact JSON).
fn text(v: &Value) -> String {
    serde_json::to_string(v).expect("json")
}

fn object_url(coll: &str, oid: &str) -> String {
    format!("{}{oid}/", objects_url(coll))
}

fn body(r: &Res) -> String {
    String::from_utf8_lossy(&r.bytes).into_owned()
}

/// POSTs `objects` to `coll` as `user`; the status resource (202).
async fn post_as(fx: &Fx, coll: &str, user: &str, objects: Vec<Value>) -> Value {
    post(
        &fx.app,
        &objects_url(coll),
        Some(user),
        &json!({ "objects": objects }),
    )
    .await
    .assert_ok(202)
}

/// Every read of `coll` by `user` for the indicator (objects, by id, all
/// versions, versions, manifest): the object text is exactly `want`, and
/// `never` appears nowhere.
async fn serves_only(fx: &Fx, coll: &str, user: Option<&str>, want: &Value, never: &str) {
    let oid = id("indicator", 7);
    let want = text(want);
    for url in [
        format!("{}?match[type]=indicator", objects_url(coll)),
        format!(
            "{}?match[version]=all&match[type]=indicator",
            objects_url(coll)
        ),
        format!("{}?match[id]={oid}", objects_url(coll)),
        object_url(coll, &oid),
        format!("{}?match[version]=all", object_url(coll, &oid)),
        format!(
            "{}?match[version]=2024-03-01T12:00:00.000Z",
            object_url(coll, &oid)
        ),
    ] {
        let r = get(&fx.app, &url, user).await;
        let v = r.assert_ok(200);
        let b = body(&r);
        assert!(!b.contains(never), "{url} leaks: {b}");
        assert_eq!(v["objects"].as_array().map(Vec::len), Some(1), "{url}: {v}");
        // Byte for byte: the stored text is served unchanged.
        assert!(b.contains(&want), "{url}: want {want}, got {b}");
    }
    for url in [
        format!("{}versions/", object_url(coll, &oid)),
        format!("/api1/collections/{coll}/manifest/?match[type]=indicator"),
        format!("/api1/collections/{coll}/manifest/?match[version]=all&match[type]=indicator"),
    ] {
        let r = get(&fx.app, &url, user).await;
        let v = r.assert_ok(200);
        assert!(!body(&r).contains(never), "{url} leaks");
        let n = v["versions"]
            .as_array()
            .or_else(|| v["objects"].as_array())
            .map(Vec::len);
        assert_eq!(n, Some(1), "{url}: {v}");
    }
}

/// The read-across attack: bob (writer of Public) POSTs the id and
/// `modified` of an object in Secret with his own content, then reads
/// Public in every way; anonymous readers of Public too. Neither ever sees
/// Secret's bytes, and the POST looks like any new object (no oracle).
#[tokio::test]
async fn a_writer_cannot_read_another_collection_through_a_shared_version() {
    let fx = fixture();
    let secret = indicator(SECRET_NOTE);
    let planted = indicator(PLANTED_NOTE);
    post_as(&fx, SECRET, "admin", vec![secret.clone()]).await;
    let s = post_as(&fx, PUBLIC, "bob", vec![planted.clone()]).await;
    assert_eq!(s["success_count"], json!(1), "{s}");
    assert_eq!(s["failure_count"], json!(0), "{s}");
    // The same answer as for an object nobody had: no message at all.
    assert!(s["successes"][0]["message"].is_null(), "{s}");
    for user in [Some("bob"), None, Some("alice")] {
        serves_only(&fx, PUBLIC, user, &planted, SECRET_NOTE).await;
    }
    serves_only(&fx, SECRET, Some("admin"), &secret, PLANTED_NOTE).await;
}

/// The overwrite (poisoning) attack: bob plants a version in Public first;
/// the admin's later POST of the real object (same id and `modified`) to
/// Secret succeeds and Secret serves the admin's bytes, not the planted ones.
#[tokio::test]
async fn a_planted_version_does_not_poison_a_later_post_elsewhere() {
    let fx = fixture();
    let planted = indicator(PLANTED_NOTE);
    let legit = indicator(SECRET_NOTE);
    post_as(&fx, PUBLIC, "bob", vec![planted.clone()]).await;
    let s = post_as(&fx, SECRET, "admin", vec![legit.clone()]).await;
    assert_eq!(s["success_count"], json!(1), "{s}");
    assert_eq!(s["failure_count"], json!(0), "{s}");
    assert!(s["successes"][0]["message"].is_null(), "{s}");
    serves_only(&fx, SECRET, Some("admin"), &legit, PLANTED_NOTE).await;
    serves_only(&fx, PUBLIC, None, &planted, SECRET_NOTE).await;
    // Posting the real object again is an ordinary duplicate.
    let s = post_as(&fx, SECRET, "admin", vec![legit.clone()]).await;
    assert_eq!(s["success_count"], json!(1), "{s}");
}

/// §4.3: other content under an id and version the collection already holds
/// is a failure that says why; HTTP 202; the collection keeps its bytes.
/// Objects beside it in the envelope are stored.
#[tokio::test]
async fn other_content_for_a_held_version_is_a_status_failure() {
    let fx = fixture();
    let first = indicator("first report");
    let second = indicator("second report, other content");
    post_as(&fx, PUBLIC, "bob", vec![first.clone()]).await;
    let r = post(
        &fx.app,
        &objects_url(PUBLIC),
        Some("bob"),
        &json!({ "objects": [second, malware(1)] }),
    )
    .await;
    let s = r.assert_ok(202);
    assert_eq!(s["status"], "complete", "{s}");
    assert_eq!(s["total_count"], json!(2), "{s}");
    assert_eq!(s["success_count"], json!(1), "{s}");
    assert_eq!(s["failure_count"], json!(1), "{s}");
    let f = &s["failures"][0];
    assert_eq!(f["id"], json!(id("indicator", 7)), "{s}");
    assert_eq!(f["version"], "2024-03-01T12:00:00.000Z", "{s}");
    assert_eq!(
        f["message"],
        "a different object with this id and modified is already in this collection"
    );
    assert_eq!(s["successes"][0]["id"], json!(id("malware", 1)), "{s}");
    // The stored status says the same.
    let st = get(
        &fx.app,
        &format!("/api1/status/{}/", s["id"].as_str().expect("status id")),
        Some("bob"),
    )
    .await
    .assert_ok(200);
    assert_eq!(st["failures"], s["failures"]);
    serves_only(&fx, PUBLIC, None, &first, "other content").await;
    // The same bytes again: a success, not a conflict.
    let s = post_as(&fx, PUBLIC, "bob", vec![first.clone()]).await;
    assert_eq!(s["success_count"], json!(1), "{s}");
}

/// SCOs carry no `modified`: their id derives from their value, so the
/// read-across attack needs no knowledge at all. Public still serves only
/// what was posted to it.
#[tokio::test]
async fn scos_are_isolated_too() {
    let fx = fixture();
    let mut secret = ipv4(9);
    secret["x_note"] = json!(SECRET_NOTE);
    let public = ipv4(9);
    post_as(&fx, SECRET, "admin", vec![secret.clone()]).await;
    let s = post_as(&fx, PUBLIC, "bob", vec![public.clone()]).await;
    assert_eq!(s["success_count"], json!(1), "{s}");
    let oid = public["id"].as_str().expect("id").to_owned();
    let r = get(&fx.app, &object_url(PUBLIC, &oid), None).await;
    r.assert_ok(200);
    assert!(!body(&r).contains(SECRET_NOTE), "{}", body(&r));
    assert!(body(&r).contains(&text(&public)));
    let r = get(&fx.app, &object_url(SECRET, &oid), Some("admin")).await;
    r.assert_ok(200);
    assert!(body(&r).contains(&text(&secret)));
}
