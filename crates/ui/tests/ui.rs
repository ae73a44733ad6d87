//! The web UI through its router (issue 14 §3): sign-in and its cookie,
//! sessions (CSRF, sign-out, idle timeout), what a reader of one collection
//! sees (the API's rule: unreadable = absent), and escaping on every page.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sightline_interchange::{import, ImportOptions, Input};
use sightline_stix::Validator;
use sightline_store::{CollectionInfo, MemoryStore, Store};
use sightline_taxii::{AccessPolicy, AuthError, Authenticator, Principal};
use sightline_ui::{router, ManualClock, SessionConfig, UiState, LOGIN_COOKIE, SESSION_COOKIE};
use tower::ServiceExt;

const T: &str = "2025-01-01T00:00:00.000Z";
const T2: &str = "2025-02-01T00:00:00.000Z";
const GROUP: &str = "intrusion-set--11111111-1111-4111-8111-111111111111";
const EVIL: &str = "malware--22222222-2222-4222-8222-222222222222";
const SECRET_MAL: &str = "malware--33333333-3333-4333-8333-333333333333";
const PUBLIC_C: &str = "6f0c6f4e-0000-4000-8000-000000000001";
const SECRET_C: &str = "6f0c6f4e-0000-4000-8000-000000000002";
const IND: &str = "indicator--44444444-4444-4444-8444-444444444444";
const SECRET_ORG: &str = "identity--55555555-5555-4555-8555-555555555555";
// The matrix's subgraph: a group using a technique directly, through its
// malware and through a campaign attributed to it; a technique alice may
// not read.
const MGROUP: &str = "intrusion-set--66666666-6666-4666-8666-666666666666";
const MMAL: &str = "malware--77777777-7777-4777-8777-777777777777";
const MCAMP: &str = "campaign--88888888-8888-4888-8888-888888888888";
const AP_PHISH: &str = "attack-pattern--99999999-9999-4999-8999-999999999991";
const AP_EXEC: &str = "attack-pattern--99999999-9999-4999-8999-999999999992";
const AP_SECRET: &str = "attack-pattern--99999999-9999-4999-8999-999999999993";
/// Markdown with raw HTML and a `javascript:` link: shown, never obeyed.
const HOSTILE_MD: &str = "[click](javascript:alert(3)) <img src=x onerror=alert(4)>\n\n<iframe src=\"https://evil.example\"></iframe>";
/// STIX 2.1 §7.2.1.4: the predefined TLP:AMBER marking definition.
const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
const XSS: &str = "<script>alert(1)</script>";
const XSS_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
const ALICE_PW: &str = "correct horse battery";
const ADMIN_PW: &str = "admin password 1";
const BOB_PW: &str = "bob writes public";

use sightline_testkit::http::basic;

/// alice and admin, by Basic header, as the server's authenticator would.
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
            Some(h) if h == basic("admin", ADMIN_PW) => p("admin", true),
            Some(h) if h == basic("bob", BOB_PW) => p("bob", false),
            Some(_) => Err(AuthError::Invalid),
        }
    }
}

/// alice reads `public`, bob reads and writes it; nobody else but the
/// admin reads or writes anything.
struct TestPolicy;

impl AccessPolicy for TestPolicy {
    fn can_read(&self, who: Option<&Principal>, c: &str) -> bool {
        who.is_some_and(|p| p.admin || ((p.name == "alice" || p.name == "bob") && c == PUBLIC_C))
    }
    fn can_write(&self, who: Option<&Principal>, c: &str) -> bool {
        who.is_some_and(|p| p.admin || (p.name == "bob" && c == PUBLIC_C))
    }
}

fn load(store: &dyn Store, cid: &str, objects: Vec<Value>) {
    let input = Input {
        name: "b".into(),
        bytes: json!({"type": "bundle", "id": "bundle--0f6a3b7e-5d3c-4f0e-9f57-3f0b7d5e0c11", "objects": objects})
            .to_string()
            .into_bytes(),
    };
    let opts = ImportOptions {
        collection: Some(cid.into()),
        ..ImportOptions::default()
    };
    let r = import(store, &Validator::new(), &[input], &opts, &|_| {}).expect("import");
    assert!(r.rejections.is_empty(), "{:?}", r.rejections);
}

/// A sighting of `IND` at `when`, seen at the secret organisation.
fn sighting(n: u32, when: &str, count: Option<u64>) -> Value {
    let mut s = json!({"type": "sighting", "spec_version": "2.1",
        "id": format!("sighting--00000000-0000-4000-8000-{n:012}"), "created": T, "modified": T,
        "sighting_of_ref": IND, "first_seen": when, "last_seen": when,
        "where_sighted_refs": [SECRET_ORG]});
    if let Some(c) = count {
        s["count"] = json!(c);
    }
    s
}

fn technique(id: &str, ext: &str, name: &str, phase: &str) -> Value {
    json!({"type": "attack-pattern", "spec_version": "2.1", "id": id, "created": T,
        "modified": T, "name": name,
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": phase}],
        "external_references": [{"source_name": "mitre-attack", "external_id": ext,
            "url": format!("https://attack.mitre.org/techniques/{ext}/")}]})
}

fn rel(n: u32, ty: &str, source: &str, target: &str) -> Value {
    json!({"type": "relationship", "spec_version": "2.1",
        "id": format!("relationship--10000000-0000-4000-8000-{n:012}"), "created": T,
        "modified": T, "relationship_type": ty, "source_ref": source, "target_ref": target})
}

fn matrix_objects() -> Vec<Value> {
    vec![
        json!({"type": "intrusion-set", "spec_version": "2.1", "id": MGROUP, "created": T,
            "modified": T, "name": format!("Matrix Group {XSS}"),
            // The CISA TLP 2.0 marking definitions are badges too.
            "object_marking_refs": [sightline_stix::tlp::TLP2_AMBER_STRICT.id],
            "external_references": [{"source_name": "mitre-attack", "external_id": "G9998"}]}),
        json!({"type": "malware", "spec_version": "2.1", "id": MMAL, "created": T,
            "modified": T, "name": format!("Loader {XSS}"), "is_family": true}),
        json!({"type": "campaign", "spec_version": "2.1", "id": MCAMP, "created": T,
            "modified": T, "name": "Operation Test"}),
        technique(AP_PHISH, "T1566", "Phishing", "initial-access"),
        technique(
            AP_EXEC,
            "T1059",
            "Command and Scripting Interpreter",
            "execution",
        ),
        json!({"type": "x-mitre-collection", "spec_version": "2.1",
            "id": "x-mitre-collection--1f5f1533-f617-4ca8-9ab4-6a02367fa019", "created": T,
            "modified": T, "name": "Enterprise ATT&CK", "x_mitre_version": "16.1"}),
        rel(1, "uses", MGROUP, AP_PHISH),
        rel(2, "uses", MGROUP, MMAL),
        rel(3, "uses", MMAL, AP_PHISH),
        rel(4, "uses", MMAL, AP_EXEC),
        rel(5, "attributed-to", MCAMP, MGROUP),
        rel(6, "uses", MCAMP, AP_PHISH),
        rel(7, "uses", MGROUP, AP_SECRET),
    ]
}

fn store() -> Arc<dyn Store> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
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
    let group = |modified: &str| {
        json!({"type": "intrusion-set", "spec_version": "2.1", "id": GROUP, "created": T,
            "modified": modified, "name": "Test Group",
            "description": format!("First paragraph {XSS}.\n\nSecond <b>paragraph</b>, **bold** and [a link](https://attack.mitre.org/).\n\n{HOSTILE_MD}"),
            "object_marking_refs": [TLP_AMBER],
            "external_references": [
                {"source_name": "mitre-attack", "external_id": "G9999",
                 "url": "https://attack.mitre.org/groups/G9999/"},
                {"source_name": "bad", "url": "javascript:alert(2)"}]})
    };
    load(
        &*store,
        PUBLIC_C,
        vec![
            group(T),
            group(T2),
            json!({"type": "malware", "spec_version": "2.1", "id": EVIL, "created": T,
                "modified": T, "name": XSS, "is_family": true,
                // Cites the group's id: G9999 still names the group.
                "external_references": [{"source_name": "mitre-attack", "external_id": "G9999"}]}),
            json!({"type": "relationship", "spec_version": "2.1",
                "id": "relationship--00000001-0000-4000-8000-000000000000", "created": T,
                "modified": T, "relationship_type": "uses", "source_ref": GROUP, "target_ref": EVIL}),
            json!({"type": "relationship", "spec_version": "2.1",
                "id": "relationship--00000002-0000-4000-8000-000000000000", "created": T,
                "modified": T, "relationship_type": "uses", "source_ref": GROUP,
                "target_ref": SECRET_MAL}),
            json!({"type": "indicator", "spec_version": "2.1", "id": IND, "created": T,
                "modified": T, "name": format!("Indicator {XSS}"), "pattern_type": "stix",
                "pattern": "[ipv4-addr:value = '198.51.100.1']", "valid_from": T}),
            sighting(1, "2025-01-01T10:00:00Z", Some(2)),
            sighting(2, "2025-01-03T10:00:00Z", None),
        ],
    );
    load(&*store, PUBLIC_C, matrix_objects());
    load(
        &*store,
        SECRET_C,
        vec![
            json!({"type": "malware", "spec_version": "2.1", "id": SECRET_MAL, "created": T,
            "modified": T, "name": "Hidden Malware", "is_family": true}),
            json!({"type": "identity", "spec_version": "2.1", "id": SECRET_ORG, "created": T,
            "modified": T, "name": "Covert Org", "identity_class": "organization"}),
            technique(AP_SECRET, "T1999", "Covert Technique", "impact"),
            // A sighting alice may not read: not counted, not shown.
            sighting(3, "2025-01-02T10:00:00Z", Some(50)),
        ],
    );
    store
}

fn app_with(secure: bool, clock: Option<Arc<ManualClock>>) -> Router {
    let mut state = UiState::new(store(), Arc::new(TestAuth), Arc::new(TestPolicy), secure);
    if let Some(c) = clock {
        state = state.with_sessions(SessionConfig::default(), c);
    }
    router(state)
}

fn app() -> Router {
    app_with(false, None)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` values for cookie `name`.
    fn set_cookies(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
            .collect()
    }

    /// The value of the form's hidden `csrf` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let at = self.body.find(marker).expect("a csrf field") + marker.len();
        self.body[at..].split('"').next().expect("value").to_owned()
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

async fn get(app: &Router, path: &str, session: Option<&str>) -> Answer {
    let mut b = Request::get(path);
    if let Some(s) = session {
        b = b.header(header::COOKIE, format!("{SESSION_COOKIE}={s}"));
    }
    send(app, b.body(Body::empty()).expect("request")).await
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

async fn post(app: &Router, path: &str, cookie: &str, body: String) -> Answer {
    post_from(app, path, cookie, body, None).await
}

/// A POST from `peer`, as the server's accept loop reports it.
async fn post_from(
    app: &Router,
    path: &str,
    cookie: &str,
    body: String,
    peer: Option<SocketAddr>,
) -> Answer {
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .expect("request");
    if let Some(p) = peer {
        req.extensions_mut().insert(ConnectInfo(p));
    }
    send(app, req).await
}

/// Fetches the sign-in form and posts it; returns the answer to the POST.
async fn sign_in(app: &Router, user: &str, pw: &str) -> Answer {
    sign_in_from(app, user, pw, None).await
}

async fn sign_in_from(app: &Router, user: &str, pw: &str, peer: Option<SocketAddr>) -> Answer {
    let page = get(app, "/ui/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = page.set_cookies(LOGIN_COOKIE);
    let login_cookie = cookie[0].split(';').next().expect("name=value").to_owned();
    let body = form(&[("user", user), ("password", pw), ("csrf", &page.csrf())]);
    post_from(app, "/ui/login", &login_cookie, body, peer).await
}

/// Signs in and returns the session id.
async fn session(app: &Router, user: &str, pw: &str) -> String {
    let a = sign_in(app, user, pw).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let c = a.set_cookies(SESSION_COOKIE);
    assert_eq!(c.len(), 1, "{c:?}");
    c[0].split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("session id")
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_session_cookie() {
    let app = app();
    let a = sign_in(&app, "alice", ALICE_PW).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), Some("/ui/"));
    let c = a.set_cookies(SESSION_COOKIE);
    assert_eq!(c.len(), 1);
    let parts: Vec<&str> = c[0].split("; ").collect();
    let id = parts[0].trim_start_matches("sightline_session=");
    assert_eq!(id.len(), 64, "256 bits in hex: {id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    for flag in ["Path=/ui", "HttpOnly", "SameSite=Strict"] {
        assert!(parts.contains(&flag), "{flag} missing from {}", c[0]);
    }
    assert!(!parts.contains(&"Secure"), "plain HTTP: no Secure");
    let home = get(&app, "/ui/", Some(id)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Signed in as <strong>alice</strong>"));

    // Under TLS the cookie is Secure (and so is the sign-in form's).
    let tls = app_with(true, None);
    let a = sign_in(&tls, "alice", ALICE_PW).await;
    assert!(a.set_cookies(SESSION_COOKIE)[0].contains("; Secure"));
    let form = get(&tls, "/ui/login", None).await;
    assert!(form.set_cookies(LOGIN_COOKIE)[0].contains("; Secure"));
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_sets_no_session() {
    let app = app();
    for (user, pw) in [
        ("alice", "wrong password"),
        ("nobody", ALICE_PW),
        ("", ""),
        ("a:b", "c"),
    ] {
        let a = sign_in(&app, user, pw).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{user}");
        assert!(a.body.contains("Wrong user name or password."));
        assert!(a.body.contains("action=\"/ui/login\""));
        assert!(a.set_cookies(SESSION_COOKIE).is_empty());
    }
}

#[tokio::test]
async fn pages_without_a_live_session_redirect_to_sign_in() {
    let app = app();
    for path in [
        "/ui/",
        "/ui/search?q=test",
        &format!("/ui/objects/{GROUP}"),
        "/ui/no-such-page",
    ] {
        for session in [None, Some("0123"), Some(&"ab".repeat(32)[..])] {
            let a = get(&app, path, session).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{path} {session:?}");
            assert_eq!(a.location(), Some("/ui/login"));
            assert!(!a.body.contains("Test Group"));
        }
    }
    // htmx is told to leave the page rather than swap the form in.
    let req = Request::get("/ui/search?q=test")
        .header("hx-request", "true")
        .body(Body::empty())
        .expect("request");
    let a = send(&app, req).await;
    assert_eq!(
        a.headers.get("hx-redirect").map(|v| v.as_bytes()),
        Some(&b"/ui/login"[..])
    );
    // Signed in, an unknown page is a 404.
    let s = session(&app, "alice", ALICE_PW).await;
    assert_eq!(
        get(&app, "/ui/no-such-page", Some(&s)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn posts_need_the_csrf_token_and_sign_out_ends_the_session() {
    let app = app();
    // The sign-in form: without its cookie, or with another token, 403.
    let page = get(&app, "/ui/login", None).await;
    let good = form(&[
        ("user", "alice"),
        ("password", ALICE_PW),
        ("csrf", &page.csrf()),
    ]);
    let a = post(&app, "/ui/login", "x=y", good.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.set_cookies(SESSION_COOKIE).is_empty());
    let wrong = form(&[
        ("user", "alice"),
        ("password", ALICE_PW),
        ("csrf", &"0".repeat(64)),
    ]);
    let cookie = page.set_cookies(LOGIN_COOKIE)[0]
        .split(';')
        .next()
        .expect("cookie")
        .to_owned();
    assert_eq!(
        post(&app, "/ui/login", &cookie, wrong).await.status,
        StatusCode::FORBIDDEN
    );

    let s = session(&app, "alice", ALICE_PW).await;
    let cookie = format!("{SESSION_COOKIE}={s}");
    let home = get(&app, "/ui/", Some(&s)).await;
    let csrf = home.csrf();
    assert_eq!(csrf.len(), 64);
    for body in [
        String::new(),
        form(&[("csrf", &"f".repeat(64))]),
        form(&[("csrf", "")]),
    ] {
        let a = post(&app, "/ui/logout", &cookie, body).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
    }
    // Refused sign-outs did not end it.
    assert_eq!(get(&app, "/ui/", Some(&s)).await.status, StatusCode::OK);
    let a = post(&app, "/ui/logout", &cookie, form(&[("csrf", &csrf)])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), Some("/ui/login"));
    assert!(a.set_cookies(SESSION_COOKIE)[0].contains("Max-Age=0"));
    // The server forgot it: the old cookie is worth nothing.
    let after = get(&app, "/ui/", Some(&s)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location(), Some("/ui/login"));
}

#[tokio::test]
async fn a_reader_sees_only_the_collections_it_may_read() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let admin = session(&app, "admin", ADMIN_PW).await;

    // An object of another collection is absent: 404, name never shown.
    let a = get(&app, &format!("/ui/objects/{SECRET_MAL}"), Some(&alice)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(!a.body.contains("Hidden Malware"));
    let a = get(&app, &format!("/ui/objects/{SECRET_MAL}"), Some(&admin)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Hidden Malware"));

    // A relationship to it shows the id, no name, no link.
    let g = get(&app, &format!("/ui/objects/{GROUP}"), Some(&alice)).await;
    assert_eq!(g.status, StatusCode::OK);
    assert!(g.body.contains(SECRET_MAL));
    assert!(!g.body.contains("Hidden Malware"));
    assert!(!g
        .body
        .contains(&format!("href=\"/ui/objects/{SECRET_MAL}\"")));
    assert!(g.body.contains(&format!("href=\"/ui/objects/{EVIL}\"")));
    let g = get(&app, &format!("/ui/objects/{GROUP}"), Some(&admin)).await;
    assert!(g.body.contains("Hidden Malware"));

    // Search: not found for alice, found for the admin.
    let s = get(&app, "/ui/search?q=hidden", Some(&alice)).await;
    assert!(s.body.contains("0 results"), "{}", s.body);
    assert!(!s.body.contains("Hidden Malware"));
    let s = get(&app, "/ui/search?q=hidden", Some(&admin)).await;
    assert!(s.body.contains("1 results") && s.body.contains("Hidden Malware"));

    // Home: alice's collections only, no store-wide counts.
    let h = get(&app, "/ui/", Some(&alice)).await;
    assert!(h.body.contains("public") && !h.body.contains("Secret collection"));
    assert!(!h.body.contains("Objects by type"));
    let h = get(&app, "/ui/", Some(&admin)).await;
    assert!(h.body.contains("Secret collection") && h.body.contains("Objects by type"));
}

#[tokio::test]
async fn the_object_page_shows_what_the_object_holds() {
    let app = app();
    let s = session(&app, "alice", ALICE_PW).await;
    // By external id as well as by STIX id.
    for path in [
        format!("/ui/objects/{GROUP}"),
        "/ui/objects/G9999".to_owned(),
    ] {
        let p = get(&app, &path, Some(&s)).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        let b = &p.body;
        assert!(b.contains("<h1>Test Group</h1>"));
        assert!(b.contains("badge type-intrusion-set"));
        assert!(b.contains("badge type-badge type-intrusion-set\">intrusion-set</span>"));
        assert!(
            b.contains("badge tlp-badge tlp-amber\">TLP:AMBER</span>"),
            "{b}"
        );
        // Markdown: rendered, but raw HTML is shown, not obeyed, and only
        // http(s) links are links.
        assert!(b.contains("<p>Second &lt;b&gt;paragraph&lt;/b&gt;, <strong>bold</strong> and <a href=\"https://attack.mitre.org/\">a link</a>.</p>"), "{b}");
        assert!(b.contains("&lt;img src=x onerror=alert(4)&gt;") && !b.contains("<img"));
        assert!(b.contains("&lt;iframe") && !b.contains("<iframe"));
        // The javascript: link is its text alone (the raw JSON still shows it, as text).
        assert!(
            b.contains("<p>click &lt;img src=x onerror=alert(4)&gt;</p>"),
            "{b}"
        );
        // http(s) references are links; a javascript: URL is text.
        assert!(b.contains("href=\"https://attack.mitre.org/groups/G9999/\""));
        assert!(!b.contains("href=\"javascript:"));
        assert!(b.contains("javascript:alert(2)"));
        // Both versions, what changed between them, the relationships
        // grouped, the raw JSON on demand, pretty-printed and escaped.
        assert!(b.contains(T) && b.contains(T2));
        assert_eq!(b.matches("<tr class=\"version\">").count(), 2);
        assert!(
            b.contains(&format!(
                "changed </span><code>modified</code>: <del>{T}</del> → <ins>{T2}</ins>"
            )),
            "{b}"
        );
        assert!(b.contains("first version"));
        assert!(b.contains("<section id=\"relationships\""));
        assert!(b.contains("uses (from this object) — 2"));
        assert!(b.contains("<details id=\"raw-json\"><summary>Raw JSON</summary>"));
        assert!(
            b.contains(&format!("\n  &quot;id&quot;: &quot;{GROUP}&quot;,\n")),
            "pretty-printed"
        );
        // Its views: graph, matrix and (a group) the organisation tree.
        for (link, view) in [
            ("open-graph", "graph"),
            ("open-matrix", "matrix"),
            ("open-tree", "tree"),
        ] {
            assert!(
                b.contains(&format!(
                    "id=\"{link}\" href=\"/ui/objects/{GROUP}/{view}\""
                )),
                "{link}"
            );
        }
        assert!(!b.contains("id=\"sightings\""), "not an indicator");
    }
    let p = get(&app, &format!("/ui/objects/{EVIL}"), Some(&s)).await;
    assert!(p.body.contains("uses (to this object) — 1"));
    assert!(p.body.contains("Test Group"));
    // Malware has a matrix but no organisation tree; no marking, no TLP.
    assert!(p.body.contains("id=\"open-matrix\"") && !p.body.contains("id=\"open-tree\""));
    assert!(p.body.contains("tlp-badge tlp-none\">no TLP marking"));
    let p = get(&app, &format!("/ui/objects/{MGROUP}"), Some(&s)).await;
    assert!(
        p.body
            .contains("<span class=\"badge tlp-badge tlp-amber-strict\">TLP:AMBER+STRICT</span>"),
        "{}",
        p.body
    );
    let p = get(&app, &format!("/ui/objects/{IND}"), Some(&s)).await;
    assert!(!p.body.contains("id=\"open-matrix\"") && !p.body.contains("id=\"open-tree\""));
    // An external id cited by several objects names its owner; else a choice.
    let p = get(&app, "/ui/objects/G9999", Some(&s)).await;
    assert!(p.body.contains("<h1>Test Group</h1>"));
    let p = get(&app, "/ui/objects/G0000", Some(&s)).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

/// STIX 2.1 §5.2: the sightings of an indicator (`sighting_of_ref`), those
/// the caller may read only, on a timeline of bars per day.
#[tokio::test]
async fn an_indicator_shows_its_readable_sightings_on_a_timeline() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let p = get(&app, &format!("/ui/objects/{IND}"), Some(&alice)).await;
    assert_eq!(p.status, StatusCode::OK);
    let b = &p.body;
    assert!(b.contains("<section id=\"sightings\""), "{b}");
    assert!(
        b.contains("3 sightings from 2025-01-01 to 2025-01-03, one bar per day."),
        "{b}"
    );
    // Two days with sightings: two bars (SVG attributes, no style="").
    assert_eq!(b.matches("<rect class=\"bar\"").count(), 2, "{b}");
    assert!(!b.contains("style="));
    assert!(b.contains("<title>2025-01-01: 2</title>"));
    // The secret sighting and the secret place: neither counted nor named.
    assert!(!b.contains("2025-01-02") && !b.contains("Covert Org"));
    assert!(b.contains(SECRET_ORG));
    let admin = session(&app, "admin", ADMIN_PW).await;
    let p = get(&app, &format!("/ui/objects/{IND}"), Some(&admin)).await;
    assert!(p
        .body
        .contains("53 sightings from 2025-01-01 to 2025-01-03"));
    assert_eq!(p.body.matches("<rect class=\"bar\"").count(), 3);
    assert!(p.body.contains(&format!(
        "<a href=\"/ui/objects/{SECRET_ORG}\">Covert Org</a>"
    )));
}

#[tokio::test]
async fn every_page_escapes_names_from_the_store() {
    let app = app();
    let s = session(&app, "alice", ALICE_PW).await;
    let mut pages = vec![
        get(&app, "/ui/", Some(&s)).await,
        get(&app, "/ui/search?q=alert", Some(&s)).await,
        get(&app, &format!("/ui/objects/{EVIL}"), Some(&s)).await,
        get(&app, &format!("/ui/objects/{GROUP}"), Some(&s)).await,
        get(&app, &format!("/ui/objects/{IND}"), Some(&s)).await,
        get(&app, &format!("/ui/objects/{EVIL}/graph"), Some(&s)).await,
        get(&app, &format!("/ui/objects/{GROUP}/graph"), Some(&s)).await,
        get(&app, &format!("/ui/objects/{MGROUP}/matrix"), Some(&s)).await,
    ];
    let req = Request::get("/ui/search?q=alert")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={s}"))
        .header("hx-request", "true")
        .body(Body::empty())
        .expect("request");
    let fragment = send(&app, req).await;
    assert!(
        fragment.body.starts_with("<div id=\"results\""),
        "{}",
        fragment.body
    );
    pages.push(fragment);
    // The sign-in form shows the user name it was given back.
    pages.push(sign_in(&app, XSS, "x").await);
    for (i, p) in pages.iter().enumerate() {
        assert!(
            p.status.is_success() || p.status == StatusCode::UNAUTHORIZED,
            "page {i}"
        );
        assert!(!p.body.contains("<script>alert"), "page {i}: {}", p.body);
        assert!(
            p.body.contains(XSS_ESCAPED),
            "page {i} lacks the escaped name"
        );
    }
    // Every page says where scripts may come from.
    let csp = pages[0]
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("CSP");
    assert!(csp.to_str().expect("ascii").contains("script-src 'self'"));
    assert_eq!(
        pages[0]
            .headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
}

#[tokio::test]
async fn an_idle_session_ends_after_30_minutes() {
    let clock = Arc::new(ManualClock::new());
    let app = app_with(false, Some(clock.clone()));
    let s = session(&app, "alice", ALICE_PW).await;
    // Each request restarts the idle time.
    for _ in 0..3 {
        clock.advance(Duration::from_secs(29 * 60));
        assert_eq!(get(&app, "/ui/", Some(&s)).await.status, StatusCode::OK);
    }
    clock.advance(Duration::from_secs(30 * 60));
    let a = get(&app, "/ui/", Some(&s)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), Some("/ui/login"));
    // Forgotten, not only refused: time going back does not revive it.
    assert_eq!(
        get(&app, "/ui/", Some(&s)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn htmx_is_served_compiled_in_with_a_long_cache_header() {
    let app = app();
    let a = get(&app, "/ui/assets/htmx.min.js", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("htmx"));
    assert_eq!(a.body.len(), include_bytes!("../assets/htmx.min.js").len());
    let cc = a.headers.get(header::CACHE_CONTROL).expect("cache-control");
    assert!(cc.to_str().expect("ascii").contains("max-age=31536000"));
    let page = get(&app, "/ui/login", None).await;
    // Versioned by content, so a new file is fetched despite the cache.
    assert!(page.body.contains("src=\"/ui/assets/htmx.min.js?v="));
    // The search box asks for results as the user types.
    let s = session(&app, "alice", ALICE_PW).await;
    let search = get(&app, "/ui/search?q=test", Some(&s)).await;
    assert!(search.body.contains("hx-get=\"/ui/search\""));
    // The type filter goes along with what is typed.
    assert!(search.body.contains("hx-include=\"closest form\""));
    assert!(search.body.contains("Test Group"));
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_address() {
    let clock = Arc::new(ManualClock::new());
    let app = app_with(false, Some(clock.clone()));
    let a: SocketAddr = "192.0.2.1:4000".parse().expect("addr");
    let b: SocketAddr = "192.0.2.2:4000".parse().expect("addr");
    // Good sign-ins cost nothing.
    for _ in 0..20 {
        let r = sign_in_from(&app, "alice", ALICE_PW, Some(a)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    for i in 0..10 {
        let r = sign_in_from(&app, "alice", &format!("guess {i}"), Some(a)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    // The 11th is refused before any verification, the right password too.
    for pw in ["guess 10", ALICE_PW] {
        let r = sign_in_from(&app, "alice", pw, Some(a)).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers.contains_key(header::RETRY_AFTER));
        assert!(r.body.contains("Too many failed sign-ins"));
        assert!(r.set_cookies(SESSION_COOKIE).is_empty());
    }
    // Another address is not affected; a second later, one more try.
    let r = sign_in_from(&app, "alice", ALICE_PW, Some(b)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    clock.advance(Duration::from_secs(1));
    let r = sign_in_from(&app, "alice", ALICE_PW, Some(a)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

/// A session rests on the account it signed in with: a new password or a
/// removed account ends it at the next request (not at the idle timeout),
/// while changes to other accounts leave it alone.
#[tokio::test]
async fn a_changed_or_removed_account_ends_its_sessions() {
    let store = store();
    let user = |hash: &str| sightline_store::User {
        name: "alice".into(),
        password_hash: hash.into(),
        groups: vec![],
        admin: false,
    };
    store.add_user(&user("$argon2id$one")).expect("user");
    let app = router(UiState::new(
        store.clone(),
        Arc::new(TestAuth),
        Arc::new(TestPolicy),
        false,
    ));
    let id = session(&app, "alice", ALICE_PW).await;
    assert_eq!(get(&app, "/ui/", Some(&id)).await.status, StatusCode::OK);
    // Another account changes: the session stands.
    store
        .add_user(&sightline_store::User {
            name: "bob".into(),
            password_hash: "$argon2id$bob".into(),
            groups: vec![],
            admin: false,
        })
        .expect("bob");
    assert_eq!(get(&app, "/ui/", Some(&id)).await.status, StatusCode::OK);
    // alice's password changes: the session ends.
    store.remove_user("alice").expect("remove");
    store
        .add_user(&user("$argon2id$two"))
        .expect("new password");
    let a = get(&app, "/ui/", Some(&id)).await;
    assert_eq!(
        (a.status, a.location()),
        (StatusCode::SEE_OTHER, Some("/ui/login"))
    );
    // Removed: a new session ends as soon as the account is gone.
    let id = session(&app, "alice", ALICE_PW).await;
    assert_eq!(get(&app, "/ui/", Some(&id)).await.status, StatusCode::OK);
    store.remove_user("alice").expect("remove");
    let a = get(&app, "/ui/", Some(&id)).await;
    assert_eq!(
        (a.status, a.location()),
        (StatusCode::SEE_OTHER, Some("/ui/login"))
    );
}

/// The graph page: the neighbourhood as a server-rendered list (expand and
/// filter work as form submissions without scripts), drawn by graph.js.
#[tokio::test]
async fn the_graph_page_lists_the_neighbourhood_and_expands_without_scripts() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let p = get(&app, &format!("/ui/objects/{EVIL}/graph"), Some(&alice)).await;
    assert_eq!(p.status, StatusCode::OK);
    let b = &p.body;
    assert!(
        b.contains("<div class=\"graph-canvas\" id=\"graph\" hidden"),
        "{b}"
    );
    assert!(
        b.contains("<ul class=\"results\" id=\"graph-nodes\""),
        "{b}"
    );
    assert!(
        b.contains("<p id=\"graph-count\" aria-live=\"polite\">2 nodes, 1 edges</p>"),
        "{b}"
    );
    assert!(b.contains("<fieldset id=\"graph-filter\">"));
    for t in ["intrusion-set", "malware"] {
        assert!(
            b.contains(&format!("name=\"type\" value=\"{t}\" checked")),
            "{t}"
        );
    }
    // The group can be expanded; the seed is expanded already.
    assert!(b.contains(&format!("class=\"expand\" type=\"submit\" name=\"expand\" value=\"{GROUP}\" data-id=\"{GROUP}\"")), "{b}");
    assert!(!b.contains(&format!("data-id=\"{EVIL}\" aria-label")));
    assert!(
        b.contains("src=\"/ui/assets/cytoscape.min.js?v=")
            && b.contains("src=\"/ui/assets/graph.js?v=")
    );
    assert!(b.contains("id=\"__________cytoscape_stylesheet\""));
    // The drawing's data rides along, escaped (graph.js reads the attribute).
    assert!(
        b.contains(&format!(
            "data-graph=\"{{&quot;seed&quot;:&quot;{EVIL}&quot;"
        )),
        "{b}"
    );
    assert!(!b.contains("style="), "the CSP refuses inline styles");

    // Expanding the group (a form submission) adds its neighbours: the
    // secret malware, as its id only.
    let p = get(
        &app,
        &format!("/ui/objects/{EVIL}/graph?expand={GROUP}"),
        Some(&alice),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("3 nodes, 2 edges"), "{}", p.body);
    assert!(p.body.contains(&format!(
        "<code>{SECRET_MAL}</code> <span class=\"missing\">"
    )));
    assert!(!p.body.contains("Hidden Malware"));
    assert!(p
        .body
        .contains(&format!("name=\"expanded\" value=\"{GROUP}\"")));
    // The admin sees its name.
    let admin = session(&app, "admin", ADMIN_PW).await;
    let p = get(
        &app,
        &format!("/ui/objects/{EVIL}/graph?expand={GROUP}"),
        Some(&admin),
    )
    .await;
    assert!(p.body.contains("Hidden Malware"));

    // The type filter hides the others (the object itself stays).
    let p = get(
        &app,
        &format!("/ui/objects/{GROUP}/graph?type=intrusion-set"),
        Some(&alice),
    )
    .await;
    assert!(p.body.contains("1 nodes, 0 edges"), "{}", p.body);
    assert!(
        p.body.contains("value=\"malware\">"),
        "unticked, still offered"
    );
    assert!(!p.body.contains(&format!("href=\"/ui/objects/{EVIL}\"")));

    // Bad parameters are a 400; an unreadable seed a 404.
    let p = get(
        &app,
        &format!("/ui/objects/{GROUP}/graph?depth=4"),
        Some(&alice),
    )
    .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    let p = get(
        &app,
        &format!("/ui/objects/{SECRET_MAL}/graph"),
        Some(&alice),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(!p.body.contains("Hidden Malware"));
}

/// graph.json: the API's bounded neighbourhood under the session, the
/// access rule included (an unreadable neighbour is its id only).
#[tokio::test]
async fn graph_json_is_bounded_and_shows_only_readable_objects() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let json = |a: &Answer| -> Value { serde_json::from_str(&a.body).expect("JSON") };
    let a = get(
        &app,
        &format!("/ui/objects/{GROUP}/graph.json?depth=2"),
        Some(&alice),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let v = json(&a);
    assert_eq!(v["seed"], GROUP);
    assert_eq!(v["truncated"], false);
    let nodes = v["nodes"].as_array().expect("nodes");
    let secret = nodes
        .iter()
        .find(|n| n["id"] == SECRET_MAL)
        .expect("the secret node");
    assert_eq!(secret["presence"], "missing");
    assert!(secret.get("name").is_none());
    assert!(!a.body.contains("Hidden Malware"));
    let evil = nodes.iter().find(|n| n["id"] == EVIL).expect("evil");
    assert_eq!(
        evil["name"], XSS,
        "JSON carries the text; graph.js sets textContent"
    );
    assert_eq!(v["edges"].as_array().map(Vec::len), Some(2));
    // A sighting in the secret collection is no node of the indicator's
    // graph: not even its id.
    let a = get(
        &app,
        &format!("/ui/objects/{IND}/graph.json?depth=2"),
        Some(&alice),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a
        .body
        .contains("sighting--00000000-0000-4000-8000-000000000001"));
    assert!(!a
        .body
        .contains("sighting--00000000-0000-4000-8000-000000000003"));
    assert!(!a.body.contains("Covert Org"));
    // Bounded: a limit of 2 leaves one neighbour out and says so.
    let v = json(
        &get(
            &app,
            &format!("/ui/objects/{GROUP}/graph.json?limit=2"),
            Some(&alice),
        )
        .await,
    );
    assert_eq!(v["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["truncated"], true);
    // types: the traversal's type filter, as the API's.
    let v = json(
        &get(
            &app,
            &format!("/ui/objects/{GROUP}/graph.json?types=intrusion-set"),
            Some(&alice),
        )
        .await,
    );
    assert_eq!(v["nodes"].as_array().map(Vec::len), Some(1));
    // An unreadable seed: 404, nothing about it; no session: sign in.
    let a = get(
        &app,
        &format!("/ui/objects/{SECRET_MAL}/graph.json"),
        Some(&alice),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(!a.body.contains("Hidden Malware"));
    let a = get(&app, &format!("/ui/objects/{GROUP}/graph.json"), None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
}

/// The ATT&CK matrix: tactics as columns in ATT&CK's order, each technique
/// coloured by how many paths link it (direct, via malware, via a campaign
/// attributed to the group); techniques alice may not read are absent.
#[tokio::test]
async fn the_matrix_is_a_heatmap_of_readable_techniques() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    for path in [
        format!("/ui/objects/{MGROUP}/matrix"),
        "/ui/objects/G9998/matrix".to_owned(),
    ] {
        let p = get(&app, &path, Some(&alice)).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        let b = &p.body;
        assert!(b.contains("<table id=\"matrix\">"), "{b}");
        // Initial Access before Execution (ATT&CK's order), not by name.
        let ia = b
            .find("data-tactic=\"initial-access\"")
            .expect("initial access");
        let ex = b.find("data-tactic=\"execution\"").expect("execution");
        assert!(ia < ex);
        // Phishing: direct, via the malware, via the campaign: 3 paths.
        assert!(
            b.contains("<td class=\"technique heat-3\" data-technique=\"T1566\" data-paths=\"3\""),
            "{b}"
        );
        assert!(
            b.contains("<td class=\"technique heat-1\" data-technique=\"T1059\" data-paths=\"1\"")
        );
        assert!(b.contains("via campaign Operation Test"));
        assert!(b.contains(&format!("via malware Loader {XSS_ESCAPED}")));
        // The technique in the secret collection is not there, nor its tactic.
        assert!(!b.contains("T1999") && !b.contains("Covert Technique") && !b.contains("impact"));
        assert!(!b.contains(AP_SECRET), "not even its id");
        assert!(b.contains(&format!(
            "id=\"navigator-layer\" href=\"/ui/objects/{MGROUP}/matrix/layer.json\""
        )));
        assert!(!b.contains("style="));
    }
    let admin = session(&app, "admin", ADMIN_PW).await;
    let p = get(&app, &format!("/ui/objects/{MGROUP}/matrix"), Some(&admin)).await;
    assert!(p.body.contains("data-technique=\"T1999\""));
    // Only for the matrix's subject types.
    let p = get(
        &app,
        &format!("/ui/objects/{AP_PHISH}/matrix"),
        Some(&alice),
    )
    .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    let p = get(
        &app,
        &format!("/ui/objects/{SECRET_MAL}/matrix"),
        Some(&alice),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(!p.body.contains("Hidden Malware"));
}

/// ATT&CK Navigator layer format 4.5, as a download.
#[tokio::test]
async fn the_navigator_layer_is_a_download_of_readable_techniques() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let a = get(
        &app,
        &format!("/ui/objects/{MGROUP}/matrix/layer.json"),
        Some(&alice),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.headers
            .get(header::CONTENT_DISPOSITION)
            .map(|v| v.as_bytes()),
        Some(&b"attachment; filename=\"G9998-attack-layer.json\""[..])
    );
    let l: Value = serde_json::from_str(&a.body).expect("JSON");
    assert_eq!(l["name"], format!("Matrix Group {XSS} (Sightline)"));
    assert_eq!(l["domain"], "enterprise-attack");
    assert_eq!(l["versions"]["layer"], "4.5");
    assert_eq!(
        l["versions"]["attack"], "16",
        "from the store's x-mitre-collection"
    );
    let t = l["techniques"].as_array().expect("techniques");
    let ids: Vec<&str> = t.iter().filter_map(|x| x["techniqueID"].as_str()).collect();
    assert_eq!(
        ids,
        ["T1566", "T1059"],
        "in tactic order; T1999 not readable"
    );
    assert_eq!(t[0]["tactic"], "initial-access");
    assert_eq!(t[0]["score"], 3);
    assert!(t[0]["comment"]
        .as_str()
        .is_some_and(|c| c.contains("direct")));
    assert_eq!(l["gradient"]["maxValue"], 3);
    let admin = session(&app, "admin", ADMIN_PW).await;
    let a = get(
        &app,
        &format!("/ui/objects/{MGROUP}/matrix/layer.json"),
        Some(&admin),
    )
    .await;
    assert!(a.body.contains("T1999"));
    let a = get(
        &app,
        &format!("/ui/objects/{SECRET_MAL}/matrix/layer.json"),
        Some(&alice),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

/// Issue 14's figure: the UI's JavaScript and CSS together are at most
/// 600 KB. Sums every asset the router serves (the `ASSETS` table, each
/// fetched), and checks that every asset a page refers to is in it.
#[tokio::test]
async fn the_assets_fit_the_600_kb_budget() {
    const BUDGET: usize = 600_000;
    let app = app();
    let mut total = 0;
    let mut parts = Vec::new();
    for a in sightline_ui::ASSETS {
        let r = get(&app, &format!("/ui/assets/{}", a.name), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", a.name);
        assert_eq!(r.body.len(), a.bytes.len(), "{}", a.name);
        let ct = r.headers.get(header::CONTENT_TYPE).expect("content type");
        let ct = ct.to_str().expect("ascii");
        assert!(
            ct.starts_with("text/javascript") || ct.starts_with("text/css"),
            "{ct}"
        );
        total += a.bytes.len();
        parts.push(format!(
            "{} {:.1} KB",
            a.name,
            a.bytes.len() as f64 / 1000.0
        ));
    }
    assert_eq!(
        get(&app, "/ui/assets/nope.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    // Every asset a page loads is one of them.
    let s = session(&app, "alice", ALICE_PW).await;
    for path in [
        "/ui/login".to_owned(),
        "/ui/".to_owned(),
        format!("/ui/objects/{GROUP}"),
        format!("/ui/objects/{GROUP}/graph"),
        format!("/ui/objects/{MGROUP}/matrix"),
    ] {
        let p = get(&app, &path, Some(&s)).await;
        for (at, _) in p.body.match_indices("/ui/assets/") {
            let name = p.body[at + "/ui/assets/".len()..]
                .split(['?', '"'])
                .next()
                .unwrap_or("");
            assert!(
                sightline_ui::ASSETS.iter().any(|a| a.name == name),
                "{path} loads {name}, which the budget does not count"
            );
        }
    }
    let figure = format!(
        "UI JavaScript + CSS: {total} bytes = {:.1} KB of the {} KB budget ({})",
        total as f64 / 1000.0,
        BUDGET / 1000,
        parts.join(", ")
    );
    eprintln!("{figure}");
    assert!(total <= BUDGET, "{figure}");
}

/// Issue 16 §1-2: an indicator's page shows its score with the reason, the
/// kept verdicts, and verdict forms (on each sighting and on the indicator)
/// only to a caller who may write a collection holding it.
#[tokio::test]
async fn an_indicator_shows_its_score_and_verdict_forms_to_writers_only() {
    let app = app();
    let alice = session(&app, "alice", ALICE_PW).await;
    let p = get(&app, &format!("/ui/objects/{IND}"), Some(&alice)).await;
    assert_eq!(p.status, StatusCode::OK);
    let b = &p.body;
    // Built-in rules: an address valid from 2025-01-01 has decayed out.
    assert!(b.contains("<p id=\"score\">"), "{b}");
    assert!(b.contains("Score 0 · revoked"), "{b}");
    assert!(b.contains("decay (rule ip)"), "{b}");
    assert!(b.contains("<section id=\"verdicts\""), "{b}");
    assert!(
        !b.contains("class=\"verdict\""),
        "a reader gets no form: {b}"
    );
    let bob = session(&app, "bob", BOB_PW).await;
    let p = get(&app, &format!("/ui/objects/{IND}"), Some(&bob)).await;
    // Two readable sightings and the indicator itself.
    assert_eq!(
        p.body.matches("<form class=\"verdict\"").count(),
        3,
        "{}",
        p.body
    );
    assert!(p
        .body
        .contains("name=\"target\" value=\"sighting--00000000-0000-4000-8000-000000000001\""));
    // Every control labelled, every button with text (axe-core).
    assert_eq!(
        p.body.matches("<label>Note on").count(),
        p.body.matches("name=\"note\"").count()
    );
    assert!(p
        .body
        .contains("<button type=\"submit\" name=\"verdict\" value=\"benign\">Benign</button>"));
    // Other objects: no score, no verdicts.
    let p = get(&app, &format!("/ui/objects/{GROUP}"), Some(&bob)).await;
    assert!(!p.body.contains("id=\"score\"") && !p.body.contains("id=\"verdicts\""));
}

/// Issue 16 §2 and §4: a verdict from the page is stored as the signed-in
/// analyst's and listed; two analysts disagreeing are both kept and marked
/// as a conflict; a reader's forged POST (with its own valid token) is a
/// 403, a POST without the token too, and what the caller may not read a
/// 404; nothing is written by any of them.
#[tokio::test]
async fn verdicts_from_the_page_are_kept_and_conflicts_marked() {
    let app = app();
    let path = format!("/ui/objects/{IND}/verdict");
    let page = format!("/ui/objects/{IND}");
    let s1 = "sighting--00000000-0000-4000-8000-000000000001";
    let alice = session(&app, "alice", ALICE_PW).await;
    let alice_csrf = get(&app, &page, Some(&alice)).await.csrf();
    let a = post(
        &app,
        &path,
        &format!("{SESSION_COOKIE}={alice}"),
        form(&[
            ("csrf", &alice_csrf),
            ("target", s1),
            ("verdict", "false-positive"),
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let bob = session(&app, "bob", BOB_PW).await;
    let bob_cookie = format!("{SESSION_COOKIE}={bob}");
    let csrf = get(&app, &page, Some(&bob)).await.csrf();
    let a = post(
        &app,
        &path,
        &bob_cookie,
        form(&[("target", s1), ("verdict", "false-positive")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "no token: {}", a.body);
    // The secret sighting: bob may not read it.
    let a = post(
        &app,
        &path,
        &bob_cookie,
        form(&[
            ("csrf", &csrf),
            ("target", "sighting--00000000-0000-4000-8000-000000000003"),
            ("verdict", "benign"),
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    let a = post(
        &app,
        &path,
        &bob_cookie,
        form(&[("csrf", &csrf), ("target", s1), ("verdict", "maybe")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("verdict:"), "{}", a.body);
    let p = get(&app, &page, Some(&bob)).await;
    assert!(
        !p.body.contains("class=\"verdict-row\""),
        "nothing written: {}",
        p.body
    );

    let a = post(
        &app,
        &path,
        &bob_cookie,
        form(&[
            ("csrf", &csrf),
            ("target", s1),
            ("verdict", "false-positive"),
            ("note", "our own scanner"),
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(
        a.location(),
        Some(format!("/ui/objects/{IND}#verdicts").as_str())
    );
    // alice reads `public`, where the opinion went: she sees it.
    let p = get(&app, &page, Some(&alice)).await;
    assert!(p.body.contains("verdict: false-positive"), "{}", p.body);
    assert!(
        p.body.contains("<td>bob</td><td>false-positive</td>"),
        "{}",
        p.body
    );
    assert!(p.body.contains("our own scanner"));
    assert!(
        !p.body.contains("class=\"conflict"),
        "one analyst: {}",
        p.body
    );
    // The admin disagrees, on the indicator itself.
    let admin = session(&app, "admin", ADMIN_PW).await;
    let admin_csrf = get(&app, &page, Some(&admin)).await.csrf();
    let a = post(
        &app,
        &path,
        &format!("{SESSION_COOKIE}={admin}"),
        form(&[
            ("csrf", &admin_csrf),
            ("target", IND),
            ("verdict", "true-positive"),
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let p = get(&app, &page, Some(&alice)).await;
    assert_eq!(
        p.body.matches("class=\"verdict-row\"").count(),
        2,
        "{}",
        p.body
    );
    assert!(p.body.contains("<p class=\"conflict flag\""), "{}", p.body);
    // The latest in force: a true positive restarts the decay clock.
    assert!(p.body.contains("Score 50 · active"), "{}", p.body);
}

/// Issue 16 §2: the home page's quality summary (`#quality`) per feed for
/// administrators (the report is store-wide); others are told it is theirs
/// only.
#[tokio::test]
async fn the_home_page_shows_the_quality_summary_to_administrators() {
    let app = app();
    let bob = session(&app, "bob", BOB_PW).await;
    let csrf = get(&app, "/ui/", Some(&bob)).await.csrf();
    let a = post(
        &app,
        &format!("/ui/objects/{IND}/verdict"),
        &format!("{SESSION_COOKIE}={bob}"),
        form(&[
            ("csrf", &csrf),
            ("target", "sighting--00000000-0000-4000-8000-000000000001"),
            ("verdict", "false-positive"),
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let p = get(&app, "/ui/", Some(&bob)).await;
    assert!(p.body.contains("<section id=\"quality\""), "{}", p.body);
    assert!(
        p.body.contains("Shown to administrators only"),
        "{}",
        p.body
    );
    assert!(!p.body.contains("(no created_by_ref)"));
    let admin = session(&app, "admin", ADMIN_PW).await;
    let p = get(&app, "/ui/", Some(&admin)).await;
    // indicators, matched (sightings of 2025: none in 30 days), true
    // positives, false positives, benign, precision.
    let row = "<th scope=\"row\">(no created_by_ref)</th><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0 %</td>";
    assert!(p.body.contains(row), "{}", p.body);
    assert!(!p.body.contains("Shown to administrators only"));
}
