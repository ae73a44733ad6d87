//! The workbench pages beside the object pages (issue 14 §3): home activity,
//! organisation tree, campaign timeline, indicators list, collections and
//! upload. Memory store with the Bureau 121 pack, a reader (alice), a writer
//! (wendy) and an administrator; what alice may not read never shows.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sightline_interchange::{import, ImportOptions, Input};
use sightline_stix::Validator;
use sightline_store::{CollectionInfo, MemoryStore, Store};
use sightline_taxii::{
    AccessPolicy, ApiRootConfig, AuthError, Authenticator, InputLimits, Principal,
};
use sightline_ui::{router, UiState, LOGIN_COOKIE, SESSION_COOKIE};
use tower::ServiceExt;

const T: &str = "2025-01-01T00:00:00.000Z";
const PUBLIC_C: &str = "6f0c6f4e-0000-4000-8000-000000000001";
const SECRET_C: &str = "6f0c6f4e-0000-4000-8000-000000000002";
const XSS: &str = "<script>alert(1)</script>";
const XSS_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
const PACK: &str = include_str!("../../../packs/bureau-121.json");
const BUREAU_121: &str = "threat-actor--393b9cd9-f0d6-5c5b-91e4-56ae36d56881";
const LAB_110: &str = "threat-actor--9db8bf67-33e6-5550-9e5f-05bdcf9d6087";
const OFFICE_98: &str = "threat-actor--b2a70cca-0d8a-58db-b7cf-04e7c4a5c8ce";
const RGB: &str = "threat-actor--96090799-f1df-5cd2-861e-c4e1bfd23c7f";
const XSS_UNIT: &str = "threat-actor--a0000000-0000-4000-8000-000000000001";
const CYCLE_A: &str = "threat-actor--a0000000-0000-4000-8000-000000000002";
const CYCLE_B: &str = "threat-actor--a0000000-0000-4000-8000-000000000003";
const HIDDEN_UNIT: &str = "threat-actor--a0000000-0000-4000-8000-000000000004";
const XSS_CAMPAIGN: &str = "campaign--a0000000-0000-4000-8000-000000000005";
const HIDDEN_CAMPAIGN: &str = "campaign--a0000000-0000-4000-8000-000000000006";
const IND_IP: &str = "indicator--a0000000-0000-4000-8000-000000000010";
const IND_DOMAIN: &str = "indicator--a0000000-0000-4000-8000-000000000011";
const IND_URL: &str = "indicator--a0000000-0000-4000-8000-000000000012";
const IND_FILE: &str = "indicator--a0000000-0000-4000-8000-000000000013";
const IND_XSS: &str = "indicator--a0000000-0000-4000-8000-000000000014";
const HIDDEN_IND: &str = "indicator--a0000000-0000-4000-8000-000000000015";
const ALICE_PW: &str = "correct horse battery";
const WENDY_PW: &str = "writer password 1";
const ADMIN_PW: &str = "admin password 1";

use sightline_testkit::http::basic;

/// alice, wendy and admin, by Basic header, as the server's authenticator would.
struct TestAuth;

impl Authenticator for TestAuth {
    fn authenticate(&self, h: Option<&str>) -> Result<Option<Principal>, AuthError> {
        let p = |name: &str, admin| {
            Ok(Some(Principal {
                name: name.into(),
                groups: vec![],
                admin,
            }))
        };
        match h {
            None => Ok(None),
            Some(h) if h == basic("alice", ALICE_PW) => p("alice", false),
            Some(h) if h == basic("wendy", WENDY_PW) => p("wendy", false),
            Some(h) if h == basic("wanda", WENDY_PW) => p("wanda", false),
            Some(h) if h == basic("admin", ADMIN_PW) => p("admin", true),
            Some(_) => Err(AuthError::Invalid),
        }
    }
}

/// alice reads `public`; wendy reads and writes it; wanda only writes it
/// (a submission inbox); only the admin reads (and writes) `secret`.
struct TestPolicy;

impl AccessPolicy for TestPolicy {
    fn can_read(&self, who: Option<&Principal>, c: &str) -> bool {
        who.is_some_and(|p| p.admin || ((p.name == "alice" || p.name == "wendy") && c == PUBLIC_C))
    }
    fn can_write(&self, who: Option<&Principal>, c: &str) -> bool {
        who.is_some_and(|p| p.admin || ((p.name == "wendy" || p.name == "wanda") && c == PUBLIC_C))
    }
}

fn load(store: &dyn Store, cid: &str, objects: Vec<Value>) {
    load_bytes(
        store,
        cid,
        json!({"type": "bundle", "id": "bundle--0f6a3b7e-5d3c-4f0e-9f57-3f0b7d5e0c11", "objects": objects})
            .to_string()
            .into_bytes(),
    );
}

fn load_bytes(store: &dyn Store, cid: &str, bytes: Vec<u8>) {
    let input = Input {
        name: "b".into(),
        bytes,
    };
    let opts = ImportOptions {
        collection: Some(cid.into()),
        ..ImportOptions::default()
    };
    let r = import(store, &Validator::new(), &[input], &opts, &|_| {}).expect("import");
    assert!(r.rejections.is_empty(), "{:?}", r.rejections);
}

fn actor(id: &str, name: &str) -> Value {
    json!({"type": "threat-actor", "spec_version": "2.1", "id": id, "created": T,
        "modified": T, "name": name})
}

fn rel(n: u32, ty: &str, source: &str, target: &str) -> Value {
    json!({"type": "relationship", "spec_version": "2.1",
        "id": format!("relationship--b0000000-0000-4000-8000-{n:012}"), "created": T,
        "modified": T, "relationship_type": ty, "source_ref": source, "target_ref": target})
}

fn indicator(id: &str, name: &str, pattern: &str, extra: Value) -> Value {
    let mut v = json!({"type": "indicator", "spec_version": "2.1", "id": id, "created": T,
        "modified": T, "name": name, "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2020-01-01T00:00:00Z"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

fn sighting(n: u32, of: &str, count: u64) -> Value {
    json!({"type": "sighting", "spec_version": "2.1",
        "id": format!("sighting--c0000000-0000-4000-8000-{n:012}"), "created": T, "modified": T,
        "sighting_of_ref": of, "count": count, "last_seen": "2025-03-01T00:00:00Z"})
}

fn store() -> Arc<dyn Store> {
    store_with(vec![])
}

/// The fixture plus `extra` objects in `public`.
fn store_with(extra: Vec<Value>) -> Arc<dyn Store> {
    fill(Arc::new(MemoryStore::new()), extra)
}

/// Loads the fixture (and `extra` in `public`) into an empty `store`.
fn fill(store: Arc<dyn Store>, extra: Vec<Value>) -> Arc<dyn Store> {
    for (id, alias, title) in [
        (PUBLIC_C, "public", format!("Public {XSS}")),
        (SECRET_C, "secret", "Secret collection".to_owned()),
    ] {
        store
            .create_collection(&CollectionInfo {
                id: id.into(),
                title,
                description: None,
                alias: Some(alias.into()),
                media_types: vec![],
            })
            .expect("collection");
    }
    load_bytes(&*store, PUBLIC_C, PACK.as_bytes().to_vec());
    load(
        &*store,
        PUBLIC_C,
        vec![
            actor(XSS_UNIT, XSS),
            rel(1, "part-of", XSS_UNIT, LAB_110),
            actor(CYCLE_A, "Cycle A"),
            actor(CYCLE_B, "Cycle B"),
            rel(2, "part-of", CYCLE_A, CYCLE_B),
            rel(3, "part-of", CYCLE_B, CYCLE_A),
            json!({"type": "campaign", "spec_version": "2.1", "id": XSS_CAMPAIGN, "created": T,
                "modified": T, "name": XSS, "first_seen": "2020-01-01T00:00:00Z",
                "last_seen": "2020-06-30T23:59:59Z",
                "description": format!("Dated to the month (month precision). {XSS}")}),
            indicator(IND_IP, "IP indicator", "[ipv4-addr:value = '198.51.100.7']",
                json!({"confidence": 80})),
            indicator(IND_DOMAIN, "Expired domain", "[domain-name:value = 'evil.example']",
                json!({"confidence": 40, "valid_until": "2021-01-01T00:00:00Z"})),
            indicator(IND_URL, "Revoked url", "[url:value = 'http://bad.example/a']",
                json!({"revoked": true})),
            indicator(IND_FILE, "File hash",
                "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
                json!({"confidence": 95})),
            indicator(IND_XSS, XSS, "[ipv4-addr:value = '203.0.113.9']", json!({})),
            sighting(1, IND_IP, 5),
            sighting(2, IND_FILE, 2),
            // A sighting alice may read, of an indicator she may not.
            sighting(3, HIDDEN_IND, 1000),
        ],
    );
    load(
        &*store,
        SECRET_C,
        vec![
            actor(HIDDEN_UNIT, "Hidden Office"),
            rel(10, "part-of", HIDDEN_UNIT, LAB_110),
            json!({"type": "campaign", "spec_version": "2.1", "id": HIDDEN_CAMPAIGN,
                "created": T, "modified": T, "name": "Hidden Campaign",
                "first_seen": "2019-01-01T00:00:00Z"}),
            indicator(
                HIDDEN_IND,
                "Hidden Indicator",
                "[ipv4-addr:value = '192.0.2.1']",
                json!({"confidence": 99}),
            ),
            sighting(4, HIDDEN_IND, 7),
        ],
    );
    if !extra.is_empty() {
        load(&*store, PUBLIC_C, extra);
    }
    store
}

fn app() -> Router {
    app_on(store())
}

/// The API root's `max_content_length` in these tests.
const MAX_BODY: usize = 64 * 1024;

fn app_on(store: Arc<dyn Store>) -> Router {
    // The server's validator checks patterns too (E141).
    let validator =
        Validator::new().with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker));
    let root = ApiRootConfig {
        path: "api1".into(),
        title: "API root".into(),
        description: None,
        max_content_length: MAX_BODY,
        collections: vec![PUBLIC_C.into(), SECRET_C.into()],
    };
    router(
        UiState::new(store, Arc::new(TestAuth), Arc::new(TestPolicy), false).with_import(
            Arc::new(validator),
            InputLimits::default(),
            &[root],
        ),
    )
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn set_cookies(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
            .collect()
    }

    /// The value of the page's first hidden `csrf` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let at = self.body.find(marker).expect("a csrf field") + marker.len();
        self.body[at..].split('"').next().expect("value").to_owned()
    }

    /// The element with id `id`, up to the end of the enclosing section
    /// (roughly: enough to tell what a block shows).
    fn block(&self, id: &str) -> &str {
        let marker = format!("id=\"{id}\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let rest = &self.body[at..];
        let end = rest.find("</section>").unwrap_or(rest.len());
        &rest[..end]
    }
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &Router, path: &str, session: &str) -> Answer {
    let req = Request::get(path)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
        .body(Body::empty())
        .expect("request");
    send(app, req).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs in through the form and returns the session id.
async fn session(app: &Router, user: &str, pw: &str) -> String {
    let page = send(
        app,
        Request::get("/ui/login")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    let login = page.set_cookies(LOGIN_COOKIE)[0]
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let body = form(&[("user", user), ("password", pw), ("csrf", &page.csrf())]);
    let req = Request::post("/ui/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, login)
        .body(Body::from(body))
        .expect("request");
    let a = send(app, req).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    a.set_cookies(SESSION_COOKIE)[0]
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("session id")
}

/// Names of objects alice may not read: never on any of her pages.
const HIDDEN_NAMES: [&str; 4] = [
    "Hidden Office",
    "Hidden Campaign",
    "Hidden Indicator",
    "Secret collection",
];

fn assert_no_hidden(path: &str, body: &str) {
    for n in HIDDEN_NAMES {
        assert!(!body.contains(n), "{path} shows {n:?}");
    }
}

/// Every text from an object is escaped: the hostile name appears only
/// escaped, never as a tag.
fn assert_escaped(path: &str, body: &str) {
    assert!(!body.contains(XSS), "{path} has a raw <script>");
}

#[tokio::test]
async fn home_shows_latest_additions_sightings_and_top_indicators() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let home = get(&app, "/ui/", &alice).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_no_hidden("/ui/", &home.body);
    assert_escaped("/ui/", &home.body);
    // Counts by type in the collections alice may read (the pack: 10
    // threat actors, 3 more here).
    let counts = home.block("counts");
    assert!(
        counts.contains(&format!("Public {XSS_ESCAPED}")),
        "{counts}"
    );
    assert!(counts.contains("threat-actor</span> 13"), "{counts}");
    assert!(counts.contains("indicator</span> 5"), "{counts}");
    let latest = home.block("latest");
    // The last objects loaded into public, newest first; relationships and
    // sightings are not "additions".
    assert!(latest.contains(XSS_ESCAPED), "{latest}");
    assert!(latest.contains("File hash"));
    assert!(!latest.contains("relationship--"));
    assert!(latest.find("File hash") < latest.find("IP indicator"));
    let sightings = home.block("latest-sightings");
    assert!(sightings.contains("IP indicator"));
    // Sighting 3 is of an indicator alice may not read: its id only.
    assert!(sightings.contains("not in the store"));
    let top = home.block("top-indicators");
    // 5 matches of the IP indicator, 2 of the file hash; the hidden
    // indicator's 1000 are not shown, not even by id.
    assert!(
        top.contains("IP indicator") && top.contains("File hash"),
        "{top}"
    );
    assert!(top.find("IP indicator") < top.find("File hash"));
    assert!(!top.contains(HIDDEN_IND));

    let admin = session(&app, "admin", ADMIN_PW).await;
    let home = get(&app, "/ui/", &admin).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.block("counts").contains("Secret collection"));
    let top = home.block("top-indicators");
    // 1000 + 7 matches: first for the administrator.
    assert!(
        top.find("Hidden Indicator") < top.find("IP indicator"),
        "{top}"
    );
    assert!(top.contains(">1007<"), "{top}");
    assert!(home.block("latest").contains("Hidden"));
}

/// The Bureau 121 pack's `part-of` tree, from a leaf: walked up to the RGB,
/// drawn whole, the office highlighted; attributed intrusion sets under their
/// actor; what alice may not read is absent (a hidden office under Lab 110).
#[tokio::test]
async fn the_org_tree_is_drawn_from_the_top_with_the_object_highlighted() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let path = format!("/ui/objects/{OFFICE_98}/tree");
    let t = get(&app, &path, &alice).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert_no_hidden(&path, &t.body);
    assert_escaped(&path, &t.body);
    let tree = &t.body[t.body.find("id=\"org-tree\"").expect("ul#org-tree")..];
    let at = |s: &str| tree.find(s).unwrap_or_else(|| panic!("{s} not in {tree}"));
    // Top first, then down the branch; Office 98 inside Lab 110's list,
    // before Bureau 121's next unit.
    assert!(at("Reconnaissance General Bureau") < at(">Bureau 121<"));
    assert!(at(">Bureau 121<") < at("Lab 110"));
    assert!(at("Lab 110") < at("Office 98") && at("Office 98") < at("Liaison Office 91"));
    // Numbers in names sort as numbers.
    assert!(at("Liaison Office 91") < at("Liaison Office 128"));
    for unit in [
        "Unit 180",
        "Liaison Office 91",
        "Liaison Office 413",
        "Office 414",
        "Office 35",
    ] {
        at(unit);
    }
    // DarkSeoul Gang is attributed to Bureau 121; the XSS unit is part of Lab 110.
    assert!(at("DarkSeoul Gang") > at(">Bureau 121<"));
    assert!(tree.contains(XSS_ESCAPED));
    assert!(tree.contains(&format!(
        "<li class=\"current\"><span class=\"badge type-threat-actor\">threat-actor</span> <a href=\"/ui/objects/{OFFICE_98}\" aria-current=\"page\">"
    )), "{tree}");
    assert!(tree.contains(&format!("href=\"/ui/objects/{RGB}\"")));
    // ATT&CK's Lazarus Group is attributed-to Bureau 121 but not in the store.
    assert!(tree.contains("intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"));

    // Alice may not open the hidden office's tree at all; the admin sees it
    // under Lab 110.
    let hidden = format!("/ui/objects/{HIDDEN_UNIT}/tree");
    assert_eq!(
        get(&app, &hidden, &alice).await.status,
        StatusCode::NOT_FOUND
    );
    let admin = session(&app, "admin", ADMIN_PW).await;
    let t = get(&app, &hidden, &admin).await;
    assert_eq!(t.status, StatusCode::OK);
    let tree = &t.body[t.body.find("id=\"org-tree\"").expect("ul#org-tree")..];
    assert!(tree.find("Lab 110") < tree.find("Hidden Office"), "{tree}");
    assert!(get(&app, &format!("/ui/objects/{BUREAU_121}/tree"), &admin)
        .await
        .body
        .contains("Hidden Office"));
}

/// A `part-of` cycle (A under B under A) ends: the repeated node is a leaf.
#[tokio::test]
async fn an_org_tree_with_a_cycle_ends() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let t = get(&app, &format!("/ui/objects/{CYCLE_A}/tree"), &alice).await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(t.body.contains("Cycle A") && t.body.contains("Cycle B"));
    assert_eq!(
        t.body.matches("shown elsewhere in this tree").count(),
        1,
        "{}",
        t.body
    );
}

/// The pack's campaigns on a time axis in order, with their precision notes
/// (the pack states precision in prose); SVG geometry as attributes only
/// (the CSP forbids style=""); the hidden campaign for the admin only.
#[tokio::test]
async fn the_campaign_timeline_orders_bars_and_shows_precision() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let t = get(&app, "/ui/campaigns", &alice).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert_no_hidden("/ui/campaigns", &t.body);
    assert_escaped("/ui/campaigns", &t.body);
    let tl = t.block("timeline");
    assert!(tl.contains("<svg"), "{tl}");
    assert!(!tl.contains("style="));
    // A picture (role="img": children presentational), so no links inside
    // it (axe's nested-interactive); the table links each object.
    let svg = &tl[tl.find("<svg").expect("svg")..tl.find("</svg>").expect("</svg>")];
    assert!(
        svg.contains("role=\"img\"") && !svg.contains("<a "),
        "{svg}"
    );
    // One bar per dated campaign or intrusion set: 6 of the pack's 7
    // campaigns have both dates, GPS jamming only last_seen; DarkSeoul Gang;
    // the XSS campaign.
    assert_eq!(tl.matches("<rect").count(), 9, "{tl}");
    let at = |s: &str| {
        tl.find(s)
            .unwrap_or_else(|| panic!("{s} not in the timeline"))
    };
    // 2013-01 (gaming app, DarkSeoul Gang: same start, by name), then 2013-03.
    assert!(at("2013 malicious gaming app campaign") < at("DarkSeoul Gang"));
    assert!(at("DarkSeoul Gang") < at("2013 South Korea cyberattack"));
    assert!(at("Sony Pictures hack") < at("SWIFT banking hack"));
    assert!(at("SWIFT banking hack") < at("WannaCry ransomware attack"));
    assert!(at("WannaCry ransomware attack") < at(XSS_ESCAPED));
    // The pack's words on precision, and the XSS campaign's own.
    assert!(
        tl.contains("An attack on Sony Pictures Entertainment in November 2014 (month precision).")
    );
    assert!(tl.contains("day precision in last_seen"));
    assert!(tl.contains("Dated to the month (month precision)."));
    assert!(tl.contains("2014-11-01T00:00:00.000Z"));

    if let Ok(d) = std::env::var("UI_DUMP") {
        std::fs::write(format!("{d}/campaigns.html"), &t.body).expect("dump");
    }
    let admin = session(&app, "admin", ADMIN_PW).await;
    let t = get(&app, "/ui/campaigns", &admin).await;
    assert!(t.block("timeline").contains("Hidden Campaign"));
}

/// The names in table#indicators, in order.
fn indicator_names(body: &str) -> Vec<String> {
    let at = body.find("id=\"indicators\"").expect("table#indicators");
    let table = &body[at..body[at..].find("</table>").map_or(body.len(), |e| at + e)];
    table
        .split("<th scope=\"row\">")
        .skip(1)
        .filter_map(|cell| {
            let start = cell.find('>')? + 1;
            let end = cell.find("</a>")?;
            Some(cell[start..end].to_owned())
        })
        .collect()
}

/// Each filter of the indicators list against the fixture's five readable
/// indicators (STIX 2.1 §4.7: `valid_until`, `revoked`, `confidence`; the
/// observable types are the SCO types the pattern compares, §9).
#[tokio::test]
async fn the_indicators_list_filters_by_type_state_confidence_and_sightings() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let all = get(&app, "/ui/indicators", &alice).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert!(all.body.contains("id=\"indicator-filter\""));
    assert_no_hidden("/ui/indicators", &all.body);
    assert_escaped("/ui/indicators", &all.body);
    assert_eq!(
        indicator_names(&all.body),
        [
            "IP indicator",
            "Expired domain",
            "Revoked url",
            "File hash",
            XSS_ESCAPED
        ]
    );
    for (query, want) in [
        (
            "state=valid",
            vec!["IP indicator", "File hash", XSS_ESCAPED],
        ),
        ("state=expired", vec!["Expired domain"]),
        ("state=revoked", vec!["Revoked url"]),
        ("observable=file", vec!["File hash"]),
        ("observable=ipv4-addr", vec!["IP indicator", XSS_ESCAPED]),
        ("observable=url&state=revoked", vec!["Revoked url"]),
        ("min_confidence=80", vec!["IP indicator", "File hash"]),
        ("min_confidence=90", vec!["File hash"]),
        ("sighted=yes", vec!["IP indicator", "File hash"]),
        (
            "sighted=no",
            vec!["Expired domain", "Revoked url", XSS_ESCAPED],
        ),
        (
            "pattern_type=stix&sighted=yes&min_confidence=90",
            vec!["File hash"],
        ),
        ("pattern_type=yara", vec![]),
    ] {
        let a = get(&app, &format!("/ui/indicators?{query}"), &alice).await;
        assert_eq!(a.status, StatusCode::OK, "{query}");
        assert_eq!(indicator_names(&a.body), want, "{query}");
    }
    for query in [
        "state=bogus",
        "min_confidence=101",
        "min_confidence=x",
        "sighted=maybe",
        "after=x",
    ] {
        let a = get(&app, &format!("/ui/indicators?{query}"), &alice).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
    }
    let admin = session(&app, "admin", ADMIN_PW).await;
    let a = get(&app, "/ui/indicators?min_confidence=99", &admin).await;
    assert_eq!(indicator_names(&a.body), ["Hidden Indicator"]);
}

/// 65 readable indicators: two keyset pages (50 + 15), each indicator once,
/// the second reached through the first's "next" link (no offset).
#[tokio::test]
async fn the_indicators_list_pages_by_keyset() {
    let extra = (0..60)
        .map(|n| {
            indicator(
                &format!("indicator--d0000000-0000-4000-8000-{n:012}"),
                &format!("Bulk {n}"),
                "[ipv4-addr:value = '198.51.100.9']",
                json!({}),
            )
        })
        .collect();
    let app = app_on(store_with(extra));
    let alice = session(&app, "alice", ALICE_PW).await;
    let first = get(&app, "/ui/indicators", &alice).await;
    let page1 = indicator_names(&first.body);
    assert_eq!(page1.len(), 50);
    let marker = "rel=\"next\" href=\"";
    let at = first.body.find(marker).expect("a next link") + marker.len();
    let next = first.body[at..]
        .split('"')
        .next()
        .expect("href")
        .replace("&amp;", "&");
    assert!(next.starts_with("/ui/indicators?after="), "{next}");
    let second = get(&app, &next, &alice).await;
    let page2 = indicator_names(&second.body);
    assert_eq!(page2.len(), 15, "{page2:?}");
    assert!(!second.body.contains("rel=\"next\""));
    let mut all: Vec<String> = page1.into_iter().chain(page2).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 65);
}

/// A multipart upload form as a browser sends it.
fn multipart(csrf: Option<&str>, file_name: &str, bundle: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----sightline-test-boundary";
    let mut body = Vec::new();
    if let Some(c) = csrf {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{c}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"{file_name}\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bundle);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &Router,
    session: &str,
    collection: &str,
    csrf: Option<&str>,
    bundle: &[u8],
    declare_length: bool,
) -> Answer {
    let req = upload_request(session, collection, csrf, bundle, declare_length);
    send(app, req).await
}

fn upload_request(
    session: &str,
    collection: &str,
    csrf: Option<&str>,
    bundle: &[u8],
    declare_length: bool,
) -> Request<Body> {
    let (ctype, body) = multipart(csrf, &format!("feed {XSS}.json"), bundle);
    let mut req = Request::post(format!("/ui/collections/{collection}/upload"))
        .header(header::CONTENT_TYPE, ctype)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"));
    if declare_length {
        req = req.header(header::CONTENT_LENGTH, body.len());
    }
    req.body(Body::from(body)).expect("request")
}

const NEW_ID: &str = "identity--e0000000-0000-4000-8000-000000000001";
const NAMELESS_ID: &str = "identity--e0000000-0000-4000-8000-000000000002";
const BAD_PATTERN_ID: &str = "indicator--e0000000-0000-4000-8000-000000000003";

fn upload_bundle() -> Vec<u8> {
    json!({"type": "bundle", "id": "bundle--e0000000-0000-4000-8000-0000000000ff", "objects": [
        {"type": "identity", "spec_version": "2.1", "id": NEW_ID, "created": T, "modified": T,
         "name": "Uploaded identity", "identity_class": "organization"},
        // Already in public (the same JSON).
        actor(CYCLE_A, "Cycle A"),
        // STIX 2.1 §4.5: an identity needs a name (E101).
        {"type": "identity", "spec_version": "2.1", "id": NAMELESS_ID, "created": T, "modified": T,
         "identity_class": "organization"},
        // §9: a pattern that does not parse (E141).
        indicator(BAD_PATTERN_ID, "Broken", "[ipv4-addr:value = ", json!({})),
    ]})
    .to_string()
    .into_bytes()
}

/// The collections page shows each caller's rights; only writers get the
/// upload form (multipart, file input "bundle", the session's CSRF token).
#[tokio::test]
async fn the_collections_page_lists_rights_and_offers_upload_to_writers() {
    let app = app();
    let wendy = session(&app, "wendy", WENDY_PW).await;
    let page = get(&app, "/ui/collections", &wendy).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_escaped("/ui/collections", &page.body);
    assert_no_hidden("/ui/collections", &page.body);
    let table = page.block("collections");
    assert!(
        table.contains("<td class=\"can-read\">yes</td><td class=\"can-write\">yes</td>"),
        "{table}"
    );
    assert!(table.contains(&format!(
        "<form class=\"upload\" method=\"post\" enctype=\"multipart/form-data\" action=\"/ui/collections/{PUBLIC_C}/upload\">"
    )), "{table}");
    assert!(table.contains("type=\"file\" name=\"bundle\""));
    assert!(table.contains(&format!("name=\"csrf\" value=\"{}\"", page.csrf())));

    let alice = session(&app, "alice", ALICE_PW).await;
    let page = get(&app, "/ui/collections", &alice).await;
    let table = page.block("collections");
    assert!(table.contains("<td class=\"can-read\">yes</td><td class=\"can-write\">no</td>"));
    assert!(!table.contains("class=\"upload\""));
    assert_no_hidden("/ui/collections", &page.body);

    let admin = session(&app, "admin", ADMIN_PW).await;
    let page = get(&app, "/ui/collections", &admin).await;
    assert_eq!(
        page.block("collections")
            .matches("class=\"upload\"")
            .count(),
        2
    );
}

/// A writer's upload: stored in one transaction, the summary counts new,
/// already stored and rejected objects, and each rejected object is listed
/// with the validator's codes, pointers and messages.
#[tokio::test]
async fn a_writer_uploads_a_bundle_and_sees_each_rejection() {
    let app = app();
    let wendy = session(&app, "wendy", WENDY_PW).await;
    let csrf = get(&app, "/ui/collections", &wendy).await.csrf();
    let r = upload(&app, &wendy, PUBLIC_C, Some(&csrf), &upload_bundle(), true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_escaped("upload result", &r.body);
    if let Ok(d) = std::env::var("UI_DUMP") {
        std::fs::write(format!("{d}/upload.html"), &r.body).expect("dump");
        let c = get(&app, "/ui/collections", &wendy).await;
        std::fs::write(format!("{d}/collections-writer.html"), &c.body).expect("dump");
    }
    let summary = r.block("import-summary");
    for (class, n) in [
        ("objects", 4),
        ("new", 1),
        ("duplicate", 1),
        ("conflicts", 0),
        ("rejected", 2),
    ] {
        assert!(
            summary.contains(&format!("<td class=\"num {class}\">{n}</td>")),
            "{class} {summary}"
        );
    }
    let rejected = r.block("rejected");
    assert!(
        rejected.contains(NAMELESS_ID) && rejected.contains(BAD_PATTERN_ID),
        "{rejected}"
    );
    assert!(
        rejected.contains("<code class=\"code\">E101</code>"),
        "{rejected}"
    );
    assert!(rejected.contains("<code>/name</code>"), "{rejected}");
    assert!(
        rejected.contains("<code class=\"code\">E141</code>"),
        "{rejected}"
    );
    assert!(rejected.contains("<code>/pattern</code>"), "{rejected}");
    assert!(!rejected.contains(NEW_ID));
    // Stored: alice reads public.
    let alice = session(&app, "alice", ALICE_PW).await;
    let o = get(&app, &format!("/ui/objects/{NEW_ID}"), &alice).await;
    assert_eq!(o.status, StatusCode::OK);
    assert!(o.body.contains("Uploaded identity"));
    // Again: everything valid is already stored.
    let r = upload(&app, &wendy, PUBLIC_C, Some(&csrf), &upload_bundle(), false).await;
    assert!(r
        .block("import-summary")
        .contains("<td class=\"num duplicate\">2</td>"));
}

/// A reader may not upload (403, a page saying so), nor may anyone without
/// the session's CSRF token; a collection the caller cannot see is a 404.
/// Nothing is stored by any of them.
#[tokio::test]
async fn uploads_are_refused_to_readers_and_without_the_csrf_token() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let csrf = get(&app, "/ui/collections", &alice).await.csrf();
    let r = upload(&app, &alice, PUBLIC_C, Some(&csrf), &upload_bundle(), true).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("may read the collection") && r.body.contains("not write to it"),
        "{}",
        r.body
    );

    let wendy = session(&app, "wendy", WENDY_PW).await;
    let good = get(&app, "/ui/collections", &wendy).await.csrf();
    for csrf in [None, Some("f".repeat(64)), Some(csrf.clone())] {
        let r = upload(
            &app,
            &wendy,
            PUBLIC_C,
            csrf.as_deref(),
            &upload_bundle(),
            true,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(!r.body.contains("import-summary"));
    }
    // wendy may neither read nor write secret: not revealed.
    let r = upload(&app, &wendy, SECRET_C, Some(&good), &upload_bundle(), true).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let admin = session(&app, "admin", ADMIN_PW).await;
    assert_eq!(
        get(&app, &format!("/ui/objects/{NEW_ID}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// Over the API root's max_content_length (declared or not), 413; a body
/// TAXII refuses (not an envelope: 422) is refused the same way; nothing stored.
#[tokio::test]
async fn oversize_and_malformed_uploads_are_refused_like_a_taxii_post() {
    let app = app();
    let wendy = session(&app, "wendy", WENDY_PW).await;
    let csrf = get(&app, "/ui/collections", &wendy).await.csrf();
    let mut big =
        json!({"type": "bundle", "id": "bundle--e0000000-0000-4000-8000-0000000000fe", "objects": [
        {"type": "identity", "spec_version": "2.1", "id": NEW_ID, "created": T, "modified": T,
         "name": "x".repeat(MAX_BODY), "identity_class": "organization"}]})
        .to_string()
        .into_bytes();
    for declared in [true, false] {
        let r = upload(&app, &wendy, PUBLIC_C, Some(&csrf), &big, declared).await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "declared {declared}: {}",
            r.body
        );
    }
    // Far past the form's slack too, not declared: cut off while streaming.
    big.extend(std::iter::repeat_n(b' ', 4 * MAX_BODY));
    let r = upload(&app, &wendy, PUBLIC_C, Some(&csrf), &big, false).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = upload(&app, &wendy, PUBLIC_C, Some(&csrf), b"[1, 2]", true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = upload(&app, &wendy, PUBLIC_C, Some(&csrf), b"{not json", true).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let admin = session(&app, "admin", ADMIN_PW).await;
    assert_eq!(
        get(&app, &format!("/ui/objects/{NEW_ID}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// Every page of this file, for a reader and an administrator: 200, escaped,
/// and for the reader nothing from a collection she may not read.
async fn every_page_renders(app: &Router) {
    let alice = session(app, "alice", ALICE_PW).await;
    let admin = session(app, "admin", ADMIN_PW).await;
    let pages = [
        "/ui/".to_owned(),
        format!("/ui/objects/{BUREAU_121}/tree"),
        format!("/ui/objects/{LAB_110}/tree"),
        "/ui/campaigns".to_owned(),
        "/ui/indicators".to_owned(),
        "/ui/indicators?observable=ipv4-addr&state=valid&min_confidence=1&sighted=yes".to_owned(),
        "/ui/collections".to_owned(),
    ];
    for (n, path) in pages.iter().enumerate() {
        let a = get(app, path, &alice).await;
        if let Ok(d) = std::env::var("UI_DUMP") {
            std::fs::write(format!("{d}/page{n}.html"), &a.body).expect("dump");
        }
        assert_eq!(a.status, StatusCode::OK, "alice {path}: {}", a.body);
        assert_no_hidden(path, &a.body);
        assert_escaped(path, &a.body);
        let a = get(app, path, &admin).await;
        assert_eq!(a.status, StatusCode::OK, "admin {path}: {}", a.body);
        assert_escaped(path, &a.body);
    }
    let home = get(app, "/ui/", &admin).await;
    for id in ["latest", "latest-sightings", "top-indicators"] {
        home.block(id);
    }
    assert!(home.block("top-indicators").contains("Hidden Indicator"));
    let tree = get(app, &format!("/ui/objects/{BUREAU_121}/tree"), &admin).await;
    assert!(tree.body.contains("Hidden Office") && tree.body.contains("Office 98"));
    let t = get(app, "/ui/campaigns", &admin).await;
    assert!(t.block("timeline").contains("Hidden Campaign"));
    let i = get(app, "/ui/indicators?sighted=yes", &admin).await;
    assert_eq!(
        indicator_names(&i.body),
        ["IP indicator", "File hash", "Hidden Indicator"]
    );
    let i = get(app, "/ui/indicators?sighted=yes", &alice).await;
    assert_eq!(indicator_names(&i.body), ["IP indicator", "File hash"]);
}

#[tokio::test]
async fn every_page_renders_for_a_reader_and_an_admin() {
    every_page_renders(&app()).await;
}

/// The same on SQLite: the windows of the home page and the keyset pages of
/// the indicators list rely only on the store's query contract.
#[tokio::test]
async fn every_page_renders_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sightline_store_sqlite::SqliteStore::open(dir.path()).expect("sqlite");
    let app = app_on(fill(Arc::new(sqlite), vec![]));
    every_page_renders(&app).await;
    let alice = session(&app, "alice", ALICE_PW).await;
    let home = get(&app, "/ui/", &alice).await;
    let top = home.block("top-indicators");
    assert!(top.find("IP indicator") < top.find("File hash"), "{top}");
    assert!(home.block("latest").find("File hash") < home.block("latest").find("IP indicator"));
}

/// A write-only caller (TAXII 2.1 §5.5, a submission inbox) may upload, but
/// the summary does not tell it which objects the collection already held;
/// the response carries the audit note the server's audit log records.
#[tokio::test]
async fn a_write_only_caller_is_not_told_what_was_already_stored() {
    let app = app();
    let wanda = session(&app, "wanda", WENDY_PW).await;
    let page = get(&app, "/ui/collections", &wanda).await;
    let table = page.block("collections");
    assert!(table.contains("<td class=\"can-read\">no</td><td class=\"can-write\">yes</td>"));
    assert!(table.contains("class=\"upload\""));
    let r = upload(
        &app,
        &wanda,
        PUBLIC_C,
        Some(&page.csrf()),
        &upload_bundle(),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let summary = r.block("import-summary");
    // New and already stored (Cycle A) are one count.
    assert!(
        summary.contains("<td class=\"num stored\">2</td>"),
        "{summary}"
    );
    assert!(!summary.contains("Already stored") && !summary.contains("class=\"num new\""));
    // The server's audit log records the upload from this note.
    let req = upload_request(&wanda, PUBLIC_C, Some(&page.csrf()), &upload_bundle(), true);
    let resp = app.clone().oneshot(req).await.expect("response");
    let note = resp
        .extensions()
        .get::<sightline_taxii::AuditNote>()
        .expect("an audit note");
    assert_eq!(
        (note.action, note.user.as_deref(), note.collection.as_str()),
        ("post", Some("wanda"), PUBLIC_C)
    );
    assert_eq!((note.total, note.success, note.failure), (4, 2, 2));
    // She may not read public: the home page shows none of it.
    let home = get(&app, "/ui/", &wanda).await;
    assert!(!home.body.contains("Uploaded identity") && !home.body.contains("Cycle A"));
}

/// The same on PostgreSQL, whose `date_added` comes from the database's
/// clock (the home page's windows are reckoned from this process's).
#[test]
fn every_page_renders_on_postgresql() {
    let db = sightline_testkit::pg::TestDb::new("ui_pages");
    let pg = sightline_store_postgres::PgStore::open(db.url()).expect("open");
    let store = fill(Arc::new(pg), vec![]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let app = app_on(store);
        every_page_renders(&app).await;
        let alice = session(&app, "alice", ALICE_PW).await;
        let home = get(&app, "/ui/", &alice).await;
        let latest = home.block("latest");
        assert!(
            latest.find("File hash") < latest.find("IP indicator"),
            "{latest}"
        );
        let wendy = session(&app, "wendy", WENDY_PW).await;
        let csrf = get(&app, "/ui/collections", &wendy).await.csrf();
        let r = upload(&app, &wendy, PUBLIC_C, Some(&csrf), &upload_bundle(), true).await;
        assert!(r
            .block("import-summary")
            .contains("<td class=\"num rejected\">2</td>"));
    });
}
