//! Issue 16: the `[lifecycle]` section reaches the graph API and the web UI
//! (scores by its rules), and a verdict's warninglist lands in the data
//! directory's `warninglists/`, where `sightline match` reads it.

use serde_json::{json, Value};
use sightline_server::ServerConfig;

use super::{basic, client, start_with, store_with_c1};

const PW: &str = "correct horse battery";
const TAXII: &str = "application/taxii+json;version=2.1";
const ID: &str = "indicator--0c1f6a1e-5d2b-4c3e-8f4a-9b7c6d5e4f31";

fn config() -> ServerConfig {
    let mut c = super::c1_config(
        "",
        r#"can_read = ["group:analysts"]
        can_write = ["group:analysts"]"#,
    );
    // A domain rule that does not decay in the test's lifetime: the
    // built-in one (300 days) has this 2024 indicator revoked.
    c.lifecycle.rules.insert(
        0,
        sightline_lifecycle::DecayRule {
            name: "forever".into(),
            types: vec!["domain-name".into()],
            lifetime_days: 1_000_000.0,
            speed: 1.0,
        },
    );
    // A benign verdict leaves the score to the curve.
    c.lifecycle.benign = sightline_lifecycle::BenignEffect::Keep;
    c
}

#[test]
fn the_lifecycle_section_reaches_the_api_and_the_ui() {
    let store = store_with_c1();
    sightline_server::add_user(store.as_ref(), "ann", PW, vec!["analysts".into()], false)
        .expect("add ann");
    let s = start_with(config(), store).expect("start");
    let c = client();
    let auth = basic("ann", PW);
    let r = c
        .post(s.url("/api1/collections/c1/objects/"))
        .header("authorization", &auth)
        .header("content-type", TAXII)
        .header("accept", TAXII)
        .body(
            json!({"objects": [{
                "type": "indicator", "spec_version": "2.1", "id": ID,
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "pattern": "[domain-name:value = 'lifecycle.example']", "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z"
            }]})
            .to_string(),
        )
        .send()
        .expect("post");
    assert_eq!(r.status().as_u16(), 202);
    let r = c
        .get(s.url(&format!("/api/v1/objects/{ID}")))
        .header("authorization", &auth)
        .send()
        .expect("get");
    let v: Value = serde_json::from_str(&r.text().expect("body")).expect("json");
    assert_eq!(v["x_sightline_score"]["rule"], "forever", "{v}");
    assert_eq!(v["x_sightline_score"]["state"], "active", "{v}");

    // A benign verdict adding the value to the local warninglist.
    let r = c
        .post(s.url("/api/v1/verdicts"))
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body(json!({"target": ID, "verdict": "benign", "warninglist": true}).to_string())
        .send()
        .expect("verdict");
    assert_eq!(r.status().as_u16(), 201);
    let list = s
        ._data
        .path()
        .join("warninglists")
        .join(sightline_lifecycle::verdict::LOCAL_LIST_FILE);
    let text = std::fs::read_to_string(&list).expect("the local warninglist");
    assert!(text.contains("lifecycle.example"), "{text}");

    // The UI scores by the same rules.
    let ui = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = ui.get(s.url("/ui/login")).send().expect("login form");
    let login_cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("login cookie")
        .to_owned();
    let body = page.text().expect("body");
    let marker = "name=\"csrf\" value=\"";
    let at = body.find(marker).expect("csrf") + marker.len();
    let csrf = body[at..].split('"').next().expect("value").to_owned();
    let r = ui
        .post(s.url("/ui/login"))
        .header("cookie", login_cookie)
        .form(&[("user", "ann"), ("password", PW), ("csrf", &csrf)])
        .send()
        .expect("sign in");
    assert_eq!(r.status().as_u16(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(sightline_ui::SESSION_COOKIE))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned();
    let page = ui
        .get(s.url(&format!("/ui/objects/{ID}")))
        .header("cookie", session)
        .send()
        .expect("object page")
        .text()
        .expect("body");
    assert!(page.contains("(rule forever)"), "{page}");
    assert!(page.contains("Score 50 · active"), "{page}");
    assert!(page.contains("<td>ann</td><td>benign</td>"), "{page}");
}
