//! The authorization matrix (issue 5 §5): every endpoint × caller ×
//! collection, with the status each cell must get, from one table, run cell
//! by cell against the router. A failing cell is named in full.
//!
//! The rules are those at the top of `crates/taxii/src/access.rs` (TAXII 2.1
//! §5 leaves most of them open; §5.7 fixes DELETE's): anonymous callers
//! lacking a right get 401 with `WWW-Authenticate` (§8.2.2, RFC 7235), known
//! or not, so nothing is revealed; an authenticated caller with no right on a
//! collection gets 404, as for one that does not exist (§5.1: never listed
//! either); with one right, a missing one is 403; DELETE needs both (§5.7);
//! collection information needs either (§5.2). Wrong credentials are 401
//! everywhere, even on discovery. Who has which right comes from the
//! fixture's policy (`common.rs`):
//!
//! | collection | anonymous | reader (alice) | writer (bob) | admin |
//! |---|---|---|---|---|
//! | allowed (Intel) | - | read | read, write | all |
//! | forbidden (Secret) | - | - | - | all |
//! | public-readable (Public) | read | read | read, write | all |
//! | write-only (Dropbox) | - | - | write | all |
//! | missing (no such id) | - | - | - | - |
//! | other root (Other, under api1) | - | - | - | - |
//!
//! A refused request must change nothing: after each error cell the object a
//! refused POST carried is absent and the object a refused DELETE named is
//! still there.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::header;
use serde_json::json;

use crate::common::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Reader,
    Writer,
    Admin,
    /// Credentials that do not verify.
    BadCredentials,
}

const CALLERS: [Who; 5] = [
    Who::Anonymous,
    Who::Reader,
    Who::Writer,
    Who::Admin,
    Who::BadCredentials,
];

impl Who {
    fn authorization(self) -> Option<String> {
        match self {
            Who::Anonymous => None,
            Who::Reader => Some(basic("alice")),
            Who::Writer => Some(basic("bob")),
            Who::Admin => Some(basic("admin")),
            Who::BadCredentials => Some("Basic Ym9iOndyb25n".into()), // bob:wrong
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coll {
    /// Endpoints outside any collection.
    NotApplicable,
    Allowed,
    Forbidden,
    Public,
    WriteOnly,
    Missing,
    OtherRoot,
}

impl Coll {
    fn id(self) -> &'static str {
        match self {
            Coll::NotApplicable => "",
            Coll::Allowed => INTEL,
            Coll::Forbidden => SECRET,
            Coll::Public => PUBLIC,
            Coll::WriteOnly => DROPBOX,
            Coll::Missing => "00000000-0000-4000-8000-00000000dead",
            Coll::OtherRoot => OTHER,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// §4.1 `GET /taxii2/`
    Discovery,
    /// §4.2 `GET /api1/`
    ApiRoot,
    /// §4.3 `GET /api1/status/{id}/`: the status of a POST into the row's
    /// collection (Public: posted by the writer; Forbidden: by the admin).
    Status,
    /// §5.1 `GET /api1/collections/`
    Collections,
    /// §5.2 `GET …/collections/{id}/`
    Collection,
    /// §5.3 `GET …/manifest/`
    Manifest,
    /// §5.4 `GET …/objects/`
    GetObjects,
    /// §5.5 `POST …/objects/`
    AddObjects,
    /// §5.6 `GET …/objects/{object_id}/`
    GetObject,
    /// §5.7 `DELETE …/objects/{object_id}/`
    DeleteObject,
    /// §5.8 `GET …/objects/{object_id}/versions/`
    Versions,
}

/// One row: endpoint, collection, and the status for each of [`CALLERS`]
/// (anonymous, reader, writer, admin, bad credentials).
type Row = (Endpoint, Coll, [u16; 5]);

use Coll::*;
use Endpoint::*;

/// The matrix. Collection endpoints repeat one pattern per right needed:
/// view (§5.2: read or write), read (§5.3, 5.4, 5.6, 5.8), write (§5.5),
/// delete (§5.7: both).
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                               anon reader writer admin bad
    (Discovery,    NotApplicable, [200, 200, 200, 200, 401]),
    (ApiRoot,      NotApplicable, [200, 200, 200, 200, 401]),
    (Collections,  NotApplicable, [200, 200, 200, 200, 401]),
    (Status,       Public,        [404, 404, 200, 200, 401]),
    (Status,       Forbidden,     [404, 404, 404, 200, 401]),

    (Collection,   Allowed,       [401, 200, 200, 200, 401]),
    (Collection,   Forbidden,     [401, 404, 404, 200, 401]),
    (Collection,   Public,        [200, 200, 200, 200, 401]),
    (Collection,   WriteOnly,     [401, 404, 200, 200, 401]),
    (Collection,   Missing,       [401, 404, 404, 404, 401]),
    (Collection,   OtherRoot,     [401, 404, 404, 404, 401]),

    (Manifest,     Allowed,       [401, 200, 200, 200, 401]),
    (Manifest,     Forbidden,     [401, 404, 404, 200, 401]),
    (Manifest,     Public,        [200, 200, 200, 200, 401]),
    (Manifest,     WriteOnly,     [401, 404, 403, 200, 401]),
    (Manifest,     Missing,       [401, 404, 404, 404, 401]),
    (Manifest,     OtherRoot,     [401, 404, 404, 404, 401]),

    (GetObjects,   Allowed,       [401, 200, 200, 200, 401]),
    (GetObjects,   Forbidden,     [401, 404, 404, 200, 401]),
    (GetObjects,   Public,        [200, 200, 200, 200, 401]),
    (GetObjects,   WriteOnly,     [401, 404, 403, 200, 401]),
    (GetObjects,   Missing,       [401, 404, 404, 404, 401]),
    (GetObjects,   OtherRoot,     [401, 404, 404, 404, 401]),

    (AddObjects,   Allowed,       [401, 403, 202, 202, 401]),
    (AddObjects,   Forbidden,     [401, 404, 404, 202, 401]),
    (AddObjects,   Public,        [401, 403, 202, 202, 401]),
    (AddObjects,   WriteOnly,     [401, 404, 202, 202, 401]),
    (AddObjects,   Missing,       [401, 404, 404, 404, 401]),
    (AddObjects,   OtherRoot,     [401, 404, 404, 404, 401]),

    (GetObject,    Allowed,       [401, 200, 200, 200, 401]),
    (GetObject,    Forbidden,     [401, 404, 404, 200, 401]),
    (GetObject,    Public,        [200, 200, 200, 200, 401]),
    (GetObject,    WriteOnly,     [401, 404, 403, 200, 401]),
    (GetObject,    Missing,       [401, 404, 404, 404, 401]),
    (GetObject,    OtherRoot,     [401, 404, 404, 404, 401]),

    (DeleteObject, Allowed,       [401, 403, 200, 200, 401]),
    (DeleteObject, Forbidden,     [401, 404, 404, 200, 401]),
    (DeleteObject, Public,        [401, 403, 200, 200, 401]),
    (DeleteObject, WriteOnly,     [401, 404, 403, 200, 401]),
    (DeleteObject, Missing,       [401, 404, 404, 404, 401]),
    (DeleteObject, OtherRoot,     [401, 404, 404, 404, 401]),

    (Versions,     Allowed,       [401, 200, 200, 200, 401]),
    (Versions,     Forbidden,     [401, 404, 404, 200, 401]),
    (Versions,     Public,        [200, 200, 200, 200, 401]),
    (Versions,     WriteOnly,     [401, 404, 403, 200, 401]),
    (Versions,     Missing,       [401, 404, 404, 404, 401]),
    (Versions,     OtherRoot,     [401, 404, 404, 404, 401]),
];

/// The object every collection holds before a cell runs.
const SEEDED: u64 = 1;
/// The object a cell's POST carries.
const POSTED: u64 = 2;

/// A fresh fixture whose four api1 collections and Other hold identity 1
/// (added by the admin). Returns the fixture and the status ids of a POST
/// into Public by the writer and into Secret by the admin.
async fn seeded() -> (Fx, String, String) {
    let fx = fixture();
    for c in [PUBLIC, INTEL, DROPBOX, SECRET] {
        add(&fx.app, c, vec![identity(SEEDED, 1)]).await;
    }
    let env = json!({ "objects": [identity(SEEDED, 1)] });
    let by_writer = post(&fx.app, &objects_url(PUBLIC), Some("bob"), &env)
        .await
        .assert_ok(202);
    let by_admin = post(&fx.app, &objects_url(SECRET), Some("admin"), &env)
        .await
        .assert_ok(202);
    let sid = |v: &serde_json::Value| v["id"].as_str().unwrap_or_default().to_owned();
    (fx, sid(&by_writer), sid(&by_admin))
}

fn request(
    endpoint: Endpoint,
    coll: Coll,
    who: Who,
    statuses: (&str, &str),
) -> axum::http::Request<Body> {
    let c = format!("/api1/collections/{}", coll.id());
    let object = id("identity", SEEDED);
    let (method, uri, body) = match endpoint {
        Discovery => ("GET", "/taxii2/".to_owned(), None),
        ApiRoot => ("GET", "/api1/".to_owned(), None),
        Status => {
            let s = if coll == Public {
                statuses.0
            } else {
                statuses.1
            };
            ("GET", format!("/api1/status/{s}/"), None)
        }
        Collections => ("GET", "/api1/collections/".to_owned(), None),
        Collection => ("GET", format!("{c}/"), None),
        Manifest => ("GET", format!("{c}/manifest/"), None),
        GetObjects => ("GET", format!("{c}/objects/"), None),
        AddObjects => (
            "POST",
            format!("{c}/objects/"),
            Some(json!({ "objects": [identity(POSTED, 1)] })),
        ),
        GetObject => ("GET", format!("{c}/objects/{object}/"), None),
        DeleteObject => ("DELETE", format!("{c}/objects/{object}/"), None),
        Versions => ("GET", format!("{c}/objects/{object}/versions/"), None),
    };
    let mut b = builder(method, &uri, None);
    if let Some(a) = who.authorization() {
        b = b.header(header::AUTHORIZATION, a);
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, TAXII)
            .body(Body::from(serde_json::to_vec(&v).expect("json"))),
        None => b.body(Body::empty()),
    }
    .expect("request")
}

/// The api1 collections each caller must see listed (§5.1), and no other.
fn visible(who: Who) -> BTreeSet<&'static str> {
    let ids: &[&str] = match who {
        Who::Anonymous => &[PUBLIC],
        Who::Reader => &[PUBLIC, INTEL],
        Who::Writer => &[PUBLIC, INTEL, DROPBOX],
        Who::Admin => &[PUBLIC, INTEL, DROPBOX, SECRET],
        Who::BadCredentials => &[],
    };
    ids.iter().copied().collect()
}

/// Runs one cell; `Err` says what was wrong with it.
async fn run_cell(endpoint: Endpoint, coll: Coll, who: Who, want: u16) -> Result<(), String> {
    let (fx, by_writer, by_admin) = seeded().await;
    let r = call(
        &fx.app,
        request(endpoint, coll, who, (&by_writer, &by_admin)),
    )
    .await;
    let body = String::from_utf8_lossy(&r.bytes).into_owned();
    if r.status != want {
        return Err(format!("got {} (body {body})", r.status));
    }
    if want >= 400 {
        // §3.6.1: every error is a TAXII error message.
        let v: serde_json::Value =
            serde_json::from_slice(&r.bytes).map_err(|e| format!("error body not JSON: {e}"))?;
        if v["http_status"] != json!(want.to_string()) || !v["title"].is_string() {
            return Err(format!("not a TAXII error message: {body}"));
        }
    }
    // §8.2.2, RFC 7235 §3.1: a 401 carries the challenge.
    if (want == 401) != r.header("www-authenticate").is_some() {
        return Err(format!(
            "WWW-Authenticate {:?} on a {want}",
            r.header("www-authenticate")
        ));
    }
    if endpoint == Collections && want == 200 {
        let listed: BTreeSet<String> = r.json()["collections"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let expected: BTreeSet<String> = visible(who).into_iter().map(str::to_owned).collect();
        if listed != expected {
            return Err(format!("listed {listed:?}, want exactly {expected:?}"));
        }
    }
    // A refused request changes nothing; an accepted one does what it says.
    if coll != NotApplicable && coll != Missing && coll != OtherRoot {
        let admin_get = |n: u64| {
            let url = format!(
                "/api1/collections/{}/objects/{}/",
                coll.id(),
                id("identity", n)
            );
            let app = fx.app.clone();
            async move { get(&app, &url, Some("admin")).await.status }
        };
        match endpoint {
            AddObjects => {
                let present = admin_get(POSTED).await == 200;
                if present != (want == 202) {
                    return Err(format!(
                        "after a {want} the posted object present={present}"
                    ));
                }
            }
            DeleteObject => {
                let present = admin_get(SEEDED).await == 200;
                if present != (want != 200) {
                    return Err(format!("after a {want} the object present={present}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Issue 5 §5, TAXII 2.1 §4.1-§4.3, §5.1-§5.8, §8.2.2: every cell of
/// [`MATRIX`]; all failures are reported together, each naming its cell.
#[tokio::test]
async fn authorization_matrix() {
    let mut failures = Vec::new();
    let mut cells = 0;
    for &(endpoint, coll, wants) in MATRIX {
        for (who, want) in CALLERS.into_iter().zip(wants) {
            cells += 1;
            if let Err(why) = run_cell(endpoint, coll, who, want).await {
                failures.push(format!(
                    "{endpoint:?} × {who:?} × {coll:?}: expected {want}, {why}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, MATRIX.len() * CALLERS.len());
}

/// The matrix covers every endpoint, and every collection-scoped endpoint
/// with every kind of collection, so a new endpoint or case cannot be
/// forgotten silently.
#[test]
fn matrix_is_complete() {
    let colls = [Allowed, Forbidden, Public, WriteOnly, Missing, OtherRoot];
    for e in [
        Collection,
        Manifest,
        GetObjects,
        AddObjects,
        GetObject,
        DeleteObject,
        Versions,
    ] {
        for c in colls {
            let n = MATRIX.iter().filter(|r| r.0 == e && r.1 == c).count();
            assert_eq!(n, 1, "{e:?} × {c:?} appears {n} times");
        }
    }
    for e in [Discovery, ApiRoot, Collections, Status] {
        assert!(MATRIX.iter().any(|r| r.0 == e), "{e:?} missing");
    }
}
