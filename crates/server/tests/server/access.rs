//! Issue 12 §2 through the config (`ConfigPolicy`) and a real listener: a
//! submission inbox where partners write and only analysts read, the
//! separate delete right, and private discovery (TAXII 2.1 §4.1, §4.2, §5).
//! The rules themselves are matrix-tested in the TAXII router's `authz.rs`.

use std::sync::Arc;

use reqwest::blocking::Response;
use serde_json::{json, Value};
use sightline_server::ServerConfig;
use sightline_store::Store;

use super::{basic, client, start_with, store_with_c1};

const PW: &str = "correct horse battery";
const TAXII: &str = "application/taxii+json;version=2.1";
const INBOX: &str = "/api1/collections/c1/";
const OBJECT: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

/// c1 as a submission inbox; `extra` goes at the top of the file.
fn inbox_config(extra: &str) -> ServerConfig {
    super::c1_config(
        extra,
        r#"can_read = ["group:analysts"]
        can_write = ["group:partners", "group:analysts"]
        can_delete = ["lead"]"#,
    )
}

/// c1 with partners acme and bolt, analyst ann and the analysts' lead.
fn hub_store() -> Arc<dyn Store> {
    let s = store_with_c1();
    for (name, group) in [
        ("acme", "partners"),
        ("bolt", "partners"),
        ("ann", "analysts"),
        ("lead", "analysts"),
    ] {
        sightline_server::add_user(s.as_ref(), name, PW, vec![group.into()], false)
            .expect("add user");
    }
    s
}

fn indicator() -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": OBJECT,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z"
    })
}

fn json_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, TAXII, "status {status}: TAXII media type");
    let text = r.text().expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    };
    (status, v)
}

/// Issue 12 §2, TAXII 2.1 §5.2-§5.8, §4.3: partners write but do not read,
/// the collection resource says so, a status is its poster's, and only the
/// `can_delete` principal (who also reads and writes) deletes.
#[test]
fn submission_inbox() {
    let s = start_with(inbox_config(""), hub_store()).expect("start");
    let c = client();
    let get = |user: &str, path: &str| {
        json_of(
            c.get(s.url(path))
                .header("authorization", basic(user, PW))
                .send()
                .expect("get"),
        )
    };
    let (st, coll) = get("acme", INBOX);
    assert_eq!(st, 200);
    assert_eq!(
        (coll["can_read"].clone(), coll["can_write"].clone()),
        (json!(false), json!(true))
    );
    let (_, coll) = get("ann", INBOX);
    assert_eq!(
        (coll["can_read"].clone(), coll["can_write"].clone()),
        (json!(true), json!(true))
    );

    let posted = json_of(
        c.post(s.url(&format!("{INBOX}objects/")))
            .header("authorization", basic("acme", PW))
            .header("content-type", TAXII)
            .body(json!({ "objects": [indicator()] }).to_string())
            .send()
            .expect("post"),
    );
    assert_eq!(posted.0, 202, "{}", posted.1);
    assert_eq!(posted.1["success_count"], 1);
    let status = format!("/api1/status/{}/", posted.1["id"].as_str().expect("id"));

    let reads = [
        format!("{INBOX}objects/"),
        format!("{INBOX}manifest/"),
        format!("{INBOX}objects/{OBJECT}/"),
        format!("{INBOX}objects/{OBJECT}/versions/"),
    ];
    for path in &reads {
        let (st, v) = get("acme", path);
        assert_eq!(st, 403, "write-only partner on {path}: {v}");
        assert_eq!(v["http_status"], "403");
        assert_eq!(get("ann", path).0, 200, "analyst on {path}");
    }
    assert_eq!(get("acme", &status).0, 200, "the poster reads its status");
    assert_eq!(get("bolt", &status).0, 404, "another partner does not");
    assert_eq!(get("ann", &status).0, 404, "nor does an analyst");

    let delete = |user: &str| {
        json_of(
            c.delete(s.url(&format!("{INBOX}objects/{OBJECT}/")))
                .header("authorization", basic(user, PW))
                .send()
                .expect("delete"),
        )
        .0
    };
    assert_eq!(
        delete("acme"),
        403,
        "a partner may not delete, even its own"
    );
    assert_eq!(delete("ann"), 403, "reading and writing is not deleting");
    assert_eq!(get("ann", &format!("{INBOX}objects/{OBJECT}/")).0, 200);
    assert_eq!(delete("lead"), 200);
    assert_eq!(get("ann", &format!("{INBOX}objects/{OBJECT}/")).0, 404);
}

/// Issue 12 §2, TAXII 2.1 §4.1, §4.2, §8.2.2: with no anonymous collection,
/// discovery and API-root information need credentials by default (401 with
/// a challenge, as a TAXII error); `discovery_requires_auth = false` opens them.
#[test]
fn discovery_is_private_by_default() {
    let c = client();
    let s = start_with(inbox_config(""), hub_store()).expect("start");
    for path in ["/taxii2/", "/api1/"] {
        let r = c.get(s.url(path)).send().expect("get");
        assert!(r.headers().get("www-authenticate").is_some(), "{path}");
        let (st, v) = json_of(r);
        assert_eq!(st, 401, "{path}: {v}");
        assert_eq!(v["http_status"], "401");
        let r = c
            .get(s.url(path))
            .header("authorization", basic("acme", PW))
            .send()
            .expect("get");
        assert_eq!(r.status(), 200, "{path} signed in");
    }
    let open =
        start_with(inbox_config("discovery_requires_auth = false"), hub_store()).expect("start");
    for path in ["/taxii2/", "/api1/"] {
        assert_eq!(c.get(open.url(path)).send().expect("get").status(), 200);
    }
}
