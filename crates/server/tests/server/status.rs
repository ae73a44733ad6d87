//! TAXII 2.1 §4.3: status resources live in the store, so they survive a
//! restart (and any replica over the same store answers for them).

use std::sync::Arc;

use sightline_store::Store;
use sightline_store_sqlite::SqliteStore;

use crate::{basic, c1, client, config, one_good_one_bad, start_with};

fn open(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir).expect("open store"))
}

#[test]
fn status_survives_a_restart() {
    let data = tempfile::tempdir().expect("temp dir");
    {
        let s = open(data.path());
        s.create_collection(&c1()).expect("collection");
        sightline_server::add_user(s.as_ref(), "slow", "twelve-chars-pw", vec![], false)
            .expect("writer");
        sightline_server::add_user(
            s.as_ref(),
            "eve",
            "twelve-chars-pw",
            vec!["analysts".into()],
            false,
        )
        .expect("reader");
    }
    let envelope = one_good_one_bad();
    let c = client();
    let (id, body) = {
        let mut r = start_with(config(data.path()), open(data.path())).expect("start");
        let resp = c
            .post(r.url("/api1/collections/c1/objects/"))
            .header("authorization", basic("slow", "twelve-chars-pw"))
            .header("content-type", "application/taxii+json;version=2.1")
            .body(envelope.to_string())
            .send()
            .expect("post");
        assert_eq!(resp.status(), 202);
        let body: serde_json::Value =
            serde_json::from_str(&resp.text().expect("body")).expect("status json");
        assert_eq!(body["success_count"], 1);
        assert_eq!(body["failure_count"], 1);
        r.stop().expect("stop");
        (body["id"].as_str().expect("status id").to_owned(), body)
    };
    let r = start_with(config(data.path()), open(data.path())).expect("restart");
    let got = c
        .get(r.url(&format!("/api1/status/{id}/")))
        .header("authorization", basic("slow", "twelve-chars-pw"))
        .send()
        .expect("get status");
    assert_eq!(got.status(), 200);
    let got: serde_json::Value = serde_json::from_str(&got.text().expect("body")).expect("json");
    assert_eq!(got, body);
    // Someone else's status is not theirs to read (404, as if unknown).
    let other = c
        .get(r.url(&format!("/api1/status/{id}/")))
        .header("authorization", basic("eve", "twelve-chars-pw"))
        .send()
        .expect("get status");
    assert_eq!(other.status(), 404);
}
