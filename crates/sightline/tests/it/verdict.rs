//! `sightline verdict` end to end (issue 16 §2, §4): a verdict on a recorded
//! sighting is a STIX 2.1 opinion (§4.12) by the analyst's identity,
//! `--warninglist` stops the value from matching, a second analyst's
//! contrary verdict is kept beside the first, and bad ids write nothing.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

const IND: &str = "indicator--3c0d9f1e-2b4a-4c6d-8e0f-1a2b3c4d0001";
const SENSOR: &str = "identity--3c0d9f1e-2b4a-4c6d-8e0f-1a2b3c4d0002";

fn run(data: &Path, args: &[&str]) -> Output {
    common::sightline(&common::data(data), args, None)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A store with one IP indicator and the sensor, and a Zeek log with one
/// connection from 192.168.1.10 to the indicator's address.
fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = dir.join("data");
    let t = "2024-01-01T00:00:00.000Z";
    let bundle = json!({"type": "bundle", "id": "bundle--3c0d9f1e-2b4a-4c6d-8e0f-1a2b3c4d0003",
    "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": IND, "created": t, "modified": t,
         "name": "C2 server", "pattern": "[ipv4-addr:value = '45.33.32.156']",
         "pattern_type": "stix", "valid_from": "2024-01-10T00:00:00Z"},
        {"type": "identity", "spec_version": "2.1", "id": SENSOR, "created": t, "modified": t,
         "name": "Sensor 1", "identity_class": "system"}
    ]});
    let ind = dir.join("indicators.json");
    std::fs::write(&ind, bundle.to_string()).expect("write indicators");
    let o = run(&data, &["import", ind.to_str().expect("path")]);
    assert!(o.status.success(), "{o:?}");
    let log = dir.join("conn.log");
    let conn = json!({"_path": "conn", "ts": 1705312810.0, "uid": "C2", "id.orig_h": "192.168.1.10",
        "id.orig_p": 49152, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"});
    let mut f = std::fs::File::create(&log).expect("log");
    writeln!(f, "{conn}").expect("write log");
    (data, log)
}

fn matches(data: &Path, log: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "match",
        "--input",
        log.to_str().expect("path"),
        "--format",
        "zeek",
    ];
    args.extend_from_slice(extra);
    let o = run(data, &args);
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn sighting_id(data: &Path) -> String {
    let o = run(data, &["sightings", "--json"]);
    let out = common::ok(&o);
    let first: Value = serde_json::from_str(out.lines().next().expect("a sighting")).expect("json");
    first["id"].as_str().expect("id").to_owned()
}

fn objects_of_type(data: &Path, ty: &str) -> Vec<Value> {
    let o = run(data, &["export", "--type", ty]);
    let bundle: Value = serde_json::from_slice(&o.stdout).expect("bundle");
    bundle["objects"].as_array().cloned().unwrap_or_default()
}

/// The indicator as `get --json` shows it.
fn get_json(data: &Path) -> Value {
    let out = common::ok(&run(data, &["get", IND, "--json"]));
    let list: Value = serde_json::from_str(&out).expect("json");
    list[0].clone()
}

#[test]
fn a_false_positive_verdict_is_an_opinion_and_stops_the_value_matching() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, log) = setup(dir.path());
    let found = matches(&data, &log, &["--record", "--sensor", SENSOR]);
    assert_eq!(found.len(), 1, "{found:?}");
    let sighting = sighting_id(&data);

    let o = run(
        &data,
        &[
            "verdict",
            &sighting,
            "false-positive",
            "--note",
            "our own load balancer",
            "--analyst",
            "Ana Lyst",
            "--warninglist",
        ],
    );
    let out = common::ok(&o);
    assert!(
        out.contains(&format!(
            "false-positive on {sighting} (indicator {IND}) by Ana Lyst"
        )),
        "{out}"
    );
    assert!(out.contains("new analyst identity identity--"), "{out}");
    assert!(out.contains("1 new of 45.33.32.156"), "{out}");
    assert!(out.contains("indicator score now 0 (revoked)"), "{out}");

    // STIX 2.1 §4.12: an opinion on the sighting and its indicator, by the
    // analyst's identity (§4.5), with the verdict and the note.
    let opinions = objects_of_type(&data, "opinion");
    assert_eq!(opinions.len(), 1, "{opinions:?}");
    let op = &opinions[0];
    assert_eq!(op["opinion"], "strongly-disagree");
    assert_eq!(op["object_refs"], json!([sighting, IND]));
    assert_eq!(op["x_sightline_verdict"], "false-positive");
    assert_eq!(op["explanation"], "our own load balancer");
    let who = objects_of_type(&data, "identity");
    let analyst = who
        .iter()
        .find(|i| i["id"] == op["created_by_ref"])
        .expect("the analyst's identity is stored");
    assert_eq!(analyst["name"], "Ana Lyst");
    assert_eq!(analyst["identity_class"], "individual");

    // The value is on the local warninglist; the other end of the
    // connection is not.
    let o = run(&data, &["warninglist", "check", "45.33.32.156"]);
    assert!(
        common::ok(&o).contains("45.33.32.156: local: analyst verdicts"),
        "{o:?}"
    );
    let o = run(&data, &["warninglist", "check", "192.168.1.10"]);
    assert!(!stdout(&o).contains("analyst verdicts"), "{}", stdout(&o));
    // And it no longer matches.
    assert_eq!(matches(&data, &log, &[]), Vec::<Value>::new());

    // `get --json` shows the score beside the object, which is unchanged.
    let got = get_json(&data);
    assert_eq!(got["x_sightline_score"]["state"], "revoked", "{got}");
    assert_eq!(
        got["x_sightline_score"]["reason"],
        "verdict: false-positive"
    );
    assert_eq!(got["x_sightline_score"]["value"], 0.0);
    assert!(got["object"].get("x_sightline_score").is_none());
    assert_eq!(got["object"]["id"], IND);

    // A second analyst disagrees: both verdicts are kept, the latest is in
    // force (the clock restarts now: the default base 50, active).
    let o = run(&data, &["verdict", IND, "true-positive", "--analyst", "Bo"]);
    let out = common::ok(&o);
    assert!(out.contains("analysts disagree"), "{out}");
    assert!(out.contains("indicator score now 50 (active)"), "{out}");
    assert_eq!(objects_of_type(&data, "opinion").len(), 2);
    let got = get_json(&data);
    assert_eq!(got["x_sightline_score"]["state"], "active", "{got}");
    assert_eq!(got["x_sightline_score"]["rule"], "ip");
    assert_eq!(got["x_sightline_score"]["renewed"], true);
    assert_eq!(got["x_sightline_score"]["verdicts"], 2);
    assert_eq!(got["x_sightline_score"]["conflict"], true);

    // The server config's [lifecycle] section, as `match --config` reads it.
    let cfg = dir.path().join("sightline.toml");
    std::fs::write(&cfg, "[lifecycle]\nactive_threshold = 60\n").expect("write config");
    let cfg = cfg.to_str().expect("path");
    let out = common::ok(&run(&data, &["get", IND, "--json", "--config", cfg]));
    let list: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list[0]["x_sightline_score"]["state"], "inactive", "{out}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[lifecycle]\n[[lifecycle.rules]]\nname = \"ip\"\nlifetime_days = -1\nspeed = 1\n",
    )
    .expect("write config");
    let o = run(
        &data,
        &[
            "get",
            IND,
            "--json",
            "--config",
            bad.to_str().expect("path"),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("rules[0].lifetime_days"), "{err}");
}

/// Issue 16 §4: unknown ids and impossible requests are clear errors naming
/// the id, and nothing is written.
#[test]
fn bad_verdicts_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, _log) = setup(dir.path());
    let stats = || common::ok(&run(&data, &["stats", "--json"]));
    let before = stats();
    let unknown = "sighting--00000000-0000-4000-8000-000000000009";
    // Issue 16 §4: a [lifecycle] that cannot work (a lifetime of 0 or
    // negative, a score outside 0-100, an unknown conflict rule) is refused
    // naming the field before anything is written.
    let config = |name: &str, text: &str| -> String {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write config");
        p.to_str().expect("path").to_owned()
    };
    let zero = config(
        "zero.toml",
        "[lifecycle]\n[[lifecycle.rules]]\nname = \"ip\"\nlifetime_days = 0\nspeed = 1\n",
    );
    let score = config("score.toml", "[lifecycle]\nactive_threshold = 150\n");
    let feed = config(
        "feed.toml",
        "[lifecycle.feeds.\"identity--5f3c6c66-8d5e-4a3c-9f0e-2a7a9a0d2f02\"]\nconfidence = -10\n",
    );
    let conflict = config(
        "conflict.toml",
        "[lifecycle]\nverdict_conflict = \"loudest\"\n",
    );
    let with_config = |c: &str| {
        vec![
            "verdict",
            IND,
            "false-positive",
            "--analyst",
            "Ana",
            "--config",
            c,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<String>>()
    };
    for (args, says) in [
        (with_config(&zero), "rules[0].lifetime_days"),
        (with_config(&score), "active_threshold: 150"),
        (
            with_config(&feed),
            "feeds.identity--5f3c6c66-8d5e-4a3c-9f0e-2a7a9a0d2f02.confidence",
        ),
        (with_config(&conflict), "verdict_conflict"),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&data, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    for (args, says) in [
        (
            vec!["verdict", unknown, "false-positive", "--analyst", "Ana"],
            format!("no object {unknown:?}"),
        ),
        (
            vec!["verdict", SENSOR, "benign", "--analyst", "Ana"],
            "not a identity".to_owned(),
        ),
        (
            vec!["verdict", "G0032", "benign", "--analyst", "Ana"],
            "G0032: not a STIX id".to_owned(),
        ),
        (
            vec![
                "verdict",
                IND,
                "true-positive",
                "--analyst",
                "Ana",
                "--warninglist",
            ],
            "--warninglist is for false-positive and benign".to_owned(),
        ),
        (
            vec!["verdict", IND, "benign", "--analyst", " "],
            "analyst".to_owned(),
        ),
    ] {
        let o = run(&data, &args);
        assert!(!o.status.success(), "{args:?}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&says), "{args:?}: {err}");
    }
    assert_eq!(stats(), before);
    assert!(!data.join("warninglists").exists());
}
