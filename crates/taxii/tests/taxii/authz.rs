//! The authorization matrix (issue 5 §5, issue 12 §2): every endpoint ×
//! caller × collection, with the status each cell must get, from one table,
//! run cell by cell against the router. A failing cell is named in full.
//!
//! The rules are those at the top of `crates/taxii/src/access.rs` (TAXII 2.1
//! §5 leaves most of them open; §5.7 fixes DELETE's): anonymous callers
//! lacking a right get 401 with `WWW-Authenticate` (§8.2.2, RFC 7235), known
//! or not, so nothing is revealed; an authenticated caller with no right on a
//! collection gets 404, as for one that does not exist (§5.1: never listed
//! either); with one right, a missing one is 403; DELETE needs both (§5.7)
//! and the delete right besides; collection information needs either (§5.2)
//! and reports exactly the caller's `can_read`/`can_write`. Writing does not
//! imply reading (a write-only collection is a submission inbox): every GET of
//! its data is 403 for a writer, and a status resource is its poster's alone.
//! Wrong credentials are 401 everywhere, even on discovery. Who has which
//! right comes from the fixture's policy (`common.rs`):
//!
//! | collection | anonymous | reader (alice) | writer (bob) | admin |
//! |---|---|---|---|---|
//! | allowed (Intel) | - | read | read, write, delete | all |
//! | forbidden (Secret) | - | - | - | all |
//! | public-readable (Public) | read | read | read, write, delete | all |
//! | write-only (Dropbox) | - | - | write | all |
//! | shared (Other, under api2) | - | read, write | read, write | all |
//! | missing (no such id) | - | - | - | - |
//! | other root (Other, under api1) | - | - | - | - |
//!
//! The object a DELETE names was posted by the admin, so the 403s on Shared
//! are plain writers refused removing another's object.
//!
//! A refused request must change nothing: after each error cell the object a
//! refused POST carried is absent and the object a refused DELETE named is
//! still there. Cells that must change something (a 202 POST, a 200 DELETE)
//! get a fresh fixture each; all others share one (on PostgreSQL a fixture is
//! a new database, so one per cell made the matrix take minutes), which is
//! replaced after any failing cell so that one wrong answer cannot spread.

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
    /// Every signed-in user reads and writes; only the admin deletes.
    Shared,
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
            Coll::Shared => OTHER,
            Coll::Missing => "00000000-0000-4000-8000-00000000dead",
            Coll::OtherRoot => OTHER,
        }
    }

    /// The API root its URLs are under.
    fn root(self) -> &'static str {
        if self == Coll::Shared {
            "api2"
        } else {
            "api1"
        }
    }

    /// `…/collections/{id}` under its root.
    fn url(self) -> String {
        format!("/{}/collections/{}", self.root(), self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// §4.1 `GET /taxii2/`
    Discovery,
    /// §4.2 `GET /api1/`
    ApiRoot,
    /// §4.3 `GET /api1/status/{id}/`: the status of a POST into the row's
    /// collection (Public: posted by the writer; Forbidden and WriteOnly: by
    /// the admin, so the write-only writer asks for someone else's results).
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
/// delete (§5.7: both, and the delete right).
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                               anon reader writer admin bad
    (Discovery,    NotApplicable, [200, 200, 200, 200, 401]),
    (ApiRoot,      NotApplicable, [200, 200, 200, 200, 401]),
    (Collections,  NotApplicable, [200, 200, 200, 200, 401]),
    (Status,       Public,        [404, 404, 200, 200, 401]),
    (Status,       Forbidden,     [404, 404, 404, 200, 401]),
    (Status,       WriteOnly,     [404, 404, 404, 200, 401]),

    (Collection,   Allowed,       [401, 200, 200, 200, 401]),
    (Collection,   Forbidden,     [401, 404, 404, 200, 401]),
    (Collection,   Public,        [200, 200, 200, 200, 401]),
    (Collection,   WriteOnly,     [401, 404, 200, 200, 401]),
    (Collection,   Shared,        [401, 200, 200, 200, 401]),
    (Collection,   Missing,       [401, 404, 404, 404, 401]),
    (Collection,   OtherRoot,     [401, 404, 404, 404, 401]),

    (Manifest,     Allowed,       [401, 200, 200, 200, 401]),
    (Manifest,     Forbidden,     [401, 404, 404, 200, 401]),
    (Manifest,     Public,        [200, 200, 200, 200, 401]),
    (Manifest,     WriteOnly,     [401, 404, 403, 200, 401]),
    (Manifest,     Shared,        [401, 200, 200, 200, 401]),
    (Manifest,     Missing,       [401, 404, 404, 404, 401]),
    (Manifest,     OtherRoot,     [401, 404, 404, 404, 401]),

    (GetObjects,   Allowed,       [401, 200, 200, 200, 401]),
    (GetObjects,   Forbidden,     [401, 404, 404, 200, 401]),
    (GetObjects,   Public,        [200, 200, 200, 200, 401]),
    (GetObjects,   WriteOnly,     [401, 404, 403, 200, 401]),
    (GetObjects,   Shared,        [401, 200, 200, 200, 401]),
    (GetObjects,   Missing,       [401, 404, 404, 404, 401]),
    (GetObjects,   OtherRoot,     [401, 404, 404, 404, 401]),

    (AddObjects,   Allowed,       [401, 403, 202, 202, 401]),
    (AddObjects,   Forbidden,     [401, 404, 404, 202, 401]),
    (AddObjects,   Public,        [401, 403, 202, 202, 401]),
    (AddObjects,   WriteOnly,     [401, 404, 202, 202, 401]),
    (AddObjects,   Shared,        [401, 202, 202, 202, 401]),
    (AddObjects,   Missing,       [401, 404, 404, 404, 401]),
    (AddObjects,   OtherRoot,     [401, 404, 404, 404, 401]),

    (GetObject,    Allowed,       [401, 200, 200, 200, 401]),
    (GetObject,    Forbidden,     [401, 404, 404, 200, 401]),
    (GetObject,    Public,        [200, 200, 200, 200, 401]),
    (GetObject,    WriteOnly,     [401, 404, 403, 200, 401]),
    (GetObject,    Shared,        [401, 200, 200, 200, 401]),
    (GetObject,    Missing,       [401, 404, 404, 404, 401]),
    (GetObject,    OtherRoot,     [401, 404, 404, 404, 401]),

    (DeleteObject, Allowed,       [401, 403, 200, 200, 401]),
    (DeleteObject, Forbidden,     [401, 404, 404, 200, 401]),
    (DeleteObject, Public,        [401, 403, 200, 200, 401]),
    (DeleteObject, WriteOnly,     [401, 404, 403, 200, 401]),
    (DeleteObject, Shared,        [401, 403, 403, 200, 401]),
    (DeleteObject, Missing,       [401, 404, 404, 404, 401]),
    (DeleteObject, OtherRoot,     [401, 404, 404, 404, 401]),

    (Versions,     Allowed,       [401, 200, 200, 200, 401]),
    (Versions,     Forbidden,     [401, 404, 404, 200, 401]),
    (Versions,     Public,        [200, 200, 200, 200, 401]),
    (Versions,     WriteOnly,     [401, 404, 403, 200, 401]),
    (Versions,     Shared,        [401, 200, 200, 200, 401]),
    (Versions,     Missing,       [401, 404, 404, 404, 401]),
    (Versions,     OtherRoot,     [401, 404, 404, 404, 401]),
];

/// The object every collection holds before a cell runs.
const SEEDED: u64 = 1;
/// The object a cell's POST carries.
const POSTED: u64 = 2;

/// A fixture whose four api1 collections and Other hold identity 1 (added by
/// the admin), with the status ids of POSTs to ask for in [`Status`] cells.
struct Seeded {
    fx: Fx,
    /// Into Public by the writer.
    by_writer: String,
    /// Into Secret by the admin.
    by_admin: String,
    /// Into Dropbox (write-only for the writer) by the admin.
    in_dropbox: String,
}

async fn seeded() -> Seeded {
    let fx = fixture();
    let mut in_dropbox = String::new();
    let sid = |v: &serde_json::Value| v["id"].as_str().unwrap_or_default().to_owned();
    for c in [PUBLIC, INTEL, DROPBOX, SECRET] {
        let s = add(&fx.app, c, vec![identity(SEEDED, 1)]).await;
        if c == DROPBOX {
            in_dropbox = sid(&s);
        }
    }
    let env = json!({ "objects": [identity(SEEDED, 1)] });
    post(
        &fx.app,
        &format!("{}/objects/", Shared.url()),
        Some("admin"),
        &env,
    )
    .await
    .assert_ok(202);
    let by_writer = post(&fx.app, &objects_url(PUBLIC), Some("bob"), &env)
        .await
        .assert_ok(202);
    let by_admin = post(&fx.app, &objects_url(SECRET), Some("admin"), &env)
        .await
        .assert_ok(202);
    Seeded {
        fx,
        by_writer: sid(&by_writer),
        by_admin: sid(&by_admin),
        in_dropbox,
    }
}

fn request(endpoint: Endpoint, coll: Coll, who: Who, seeded: &Seeded) -> axum::http::Request<Body> {
    let c = coll.url();
    let object = id("identity", SEEDED);
    let (method, uri, body) = match endpoint {
        Discovery => ("GET", "/taxii2/".to_owned(), None),
        ApiRoot => ("GET", "/api1/".to_owned(), None),
        Status => {
            let s = match coll {
                Public => &seeded.by_writer,
                WriteOnly => &seeded.in_dropbox,
                _ => &seeded.by_admin,
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

/// `(can_read, can_write)` as the collection resource must report them to
/// `who` (§5.2): the table in the module doc.
fn rights(who: Who, coll_id: &str) -> (bool, bool) {
    match (who, coll_id) {
        (Who::Admin, _) => (true, true),
        (Who::Anonymous | Who::Reader, PUBLIC) => (true, false),
        (Who::Reader, INTEL) => (true, false),
        (Who::Writer, PUBLIC | INTEL) => (true, true),
        (Who::Writer, DROPBOX) => (false, true),
        (Who::Reader | Who::Writer, OTHER) => (true, true),
        _ => (false, false),
    }
}

/// Checks one collection resource's `can_read`/`can_write` against [`rights`].
fn check_rights(who: Who, c: &serde_json::Value) -> Result<(), String> {
    let id = c["id"].as_str().unwrap_or_default();
    let got = (c["can_read"].as_bool(), c["can_write"].as_bool());
    let (r, w) = rights(who, id);
    if got != (Some(r), Some(w)) {
        return Err(format!(
            "{id}: (can_read, can_write) = {got:?}, want ({r}, {w})"
        ));
    }
    Ok(())
}

/// Whether a cell must change the store (so it needs a fixture of its own).
fn mutates(endpoint: Endpoint, want: u16) -> bool {
    matches!((endpoint, want), (AddObjects, 202) | (DeleteObject, 200))
}

/// Runs one cell on `s`; `Err` says what was wrong with it.
async fn run_cell(
    s: &Seeded,
    endpoint: Endpoint,
    coll: Coll,
    who: Who,
    want: u16,
) -> Result<(), String> {
    let fx = &s.fx;
    let r = call(&fx.app, request(endpoint, coll, who, s)).await;
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
        let list = r.json()["collections"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let listed: BTreeSet<String> = list
            .iter()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect();
        let expected: BTreeSet<String> = visible(who).into_iter().map(str::to_owned).collect();
        if listed != expected {
            return Err(format!("listed {listed:?}, want exactly {expected:?}"));
        }
        for c in &list {
            check_rights(who, c)?;
        }
    }
    // §5.2: exactly the caller's rights (issue 12 §2: a writer is not a reader).
    if endpoint == Collection && want == 200 {
        check_rights(who, &r.json())?;
    }
    // A refused request changes nothing; an accepted one does what it says.
    if coll != NotApplicable && coll != Missing && coll != OtherRoot {
        let admin_get = |n: u64| {
            let url = format!("{}/objects/{}/", coll.url(), id("identity", n));
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

/// Issue 5 §5, issue 12 §2, TAXII 2.1 §4.1-§4.3, §5.1-§5.8, §8.2.2: every
/// cell of [`MATRIX`]; all failures are reported together, each naming its
/// cell.
#[tokio::test]
async fn authorization_matrix() {
    let mut failures = Vec::new();
    let mut cells = 0;
    let mut fixtures = 1;
    let mut shared = seeded().await;
    for &(endpoint, coll, wants) in MATRIX {
        for (who, want) in CALLERS.into_iter().zip(wants) {
            cells += 1;
            let result = if mutates(endpoint, want) {
                fixtures += 1;
                run_cell(&seeded().await, endpoint, coll, who, want).await
            } else {
                run_cell(&shared, endpoint, coll, who, want).await
            };
            if let Err(why) = result {
                failures.push(format!(
                    "{endpoint:?} × {who:?} × {coll:?}: expected {want}, {why}"
                ));
                // It may have changed the shared store: start afresh.
                fixtures += 1;
                shared = seeded().await;
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
    eprintln!("{cells} cells on {fixtures} fixtures");
}

/// Issue 12 §2, TAXII 2.1 §4.3: in a write-only collection the writer reads
/// the status of its own POST, and nobody else's; nobody else reads its.
#[tokio::test]
async fn write_only_status_is_the_posters() {
    let s = seeded().await;
    let app = &s.fx.app;
    let env = json!({ "objects": [identity(POSTED, 1)] });
    let mine = post(app, &objects_url(DROPBOX), Some("bob"), &env)
        .await
        .assert_ok(202);
    let url = format!("/api1/status/{}/", mine["id"].as_str().expect("status id"));
    let own = get(app, &url, Some("bob")).await.assert_ok(200);
    assert_eq!(own, mine, "the 202's status is the one stored");
    get(app, &url, Some("alice")).await.assert_error(404);
    get(app, &url, None).await.assert_error(404);
    get(app, &url, Some("admin")).await.assert_ok(200);
    // The admin's POST into the same collection is not the writer's to see.
    let theirs = format!("/api1/status/{}/", s.in_dropbox);
    get(app, &theirs, Some("bob")).await.assert_error(404);
}

/// Issue 12 §2: a write-only caller's POST status does not reveal that the
/// collection already held an object (the admin's identity 1 and SCO): it
/// reads exactly like a first submission, while a reader-writer is told.
#[tokio::test]
async fn write_only_status_hides_what_the_collection_held() {
    let s = seeded().await;
    let app = &s.fx.app;
    add(app, DROPBOX, vec![ipv4(7)]).await;
    add(app, INTEL, vec![ipv4(7)]).await;
    // identity 1 and ipv4 7 are there already, ipv4 8 is new.
    let env = json!({ "objects": [identity(SEEDED, 1), ipv4(7), ipv4(8)] });
    let st = post(app, &objects_url(DROPBOX), Some("bob"), &env)
        .await
        .assert_ok(202);
    assert_eq!(st["success_count"], json!(3), "{st}");
    let successes = st["successes"].as_array().cloned().unwrap_or_default();
    for d in &successes {
        assert!(
            d.get("message").is_none(),
            "nothing said of a duplicate: {st}"
        );
    }
    // SCOs (no `modified`), old or new, are named by this request's time,
    // not by the date_added of the copy already there.
    for n in [7, 8] {
        let sco = successes
            .iter()
            .find(|d| d["id"] == ipv4(n)["id"])
            .expect("the SCO's detail");
        assert_eq!(sco["version"], st["request_timestamp"], "{st}");
    }
    // Where the writer may read, a duplicate is reported as such.
    let st = post(app, &objects_url(INTEL), Some("bob"), &env)
        .await
        .assert_ok(202);
    for held in [identity(SEEDED, 1), ipv4(7)] {
        let told = st["successes"].as_array().is_some_and(|a| {
            a.iter()
                .any(|d| d["id"] == held["id"] && d.get("message").is_some())
        });
        assert!(told, "{} reported as held: {st}", held["id"]);
    }
}

/// Issue 12 §2, TAXII 2.1 §5.7: the delete right is separate. In Other
/// (api2) alice and bob both read and write but may not delete: neither
/// removes the admin's object nor one the other posted, with or without
/// `match[version]`; with the right (bob on Intel) the same request works.
#[tokio::test]
async fn delete_needs_the_delete_right() {
    let s = seeded().await;
    let app = &s.fx.app;
    post(
        app,
        &format!("{}/objects/", Shared.url()),
        Some("bob"),
        &json!({ "objects": [identity(POSTED, 1)] }),
    )
    .await
    .assert_ok(202);
    for (who, n) in [
        ("bob", SEEDED),
        ("alice", SEEDED),
        ("alice", POSTED),
        ("bob", POSTED),
    ] {
        let object = format!("{}/objects/{}/", Shared.url(), id("identity", n));
        for q in ["", "?match[version]=all"] {
            let v = delete(app, &format!("{object}{q}"), Some(who))
                .await
                .assert_error(403);
            assert!(
                v["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("delete")),
                "{v}"
            );
        }
        get(app, &object, Some("alice")).await.assert_ok(200);
    }
    let url = format!("{}/objects/{}/", Allowed.url(), id("identity", SEEDED));
    delete(app, &url, Some("bob")).await.assert_ok(200);
    get(app, &url, Some("alice")).await.assert_error(404);
}

/// The matrix covers every endpoint, and every collection-scoped endpoint
/// with every kind of collection, so a new endpoint or case cannot be
/// forgotten silently.
#[test]
fn matrix_is_complete() {
    let colls = [
        Allowed, Forbidden, Public, WriteOnly, Shared, Missing, OtherRoot,
    ];
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
