//! Edge matchers synced from a hub (issue 15 §3), on loopback: one hub
//! (`sightline serve --demo`) and two edge matchers (`sightline match
//! --follow --indicators-from taxii+http://… --record-to taxii+http://…`),
//! each with a store of its own. An indicator POSTed to the hub matches on
//! both edges within seconds, without a restart, and the sightings they
//! record arrive in the hub's collection.

use crate::common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const NEW: &str = "indicator--e0e0e0e0-0000-4000-8000-00000000ed9e";

/// An edge matcher: its own store, following its own log, the hub's
/// collection as its indicators and its sightings' destination.
fn edge(dir: &std::path::Path, hub: &str, pw: &str, sensor: &str) -> common::Following {
    let hub = format!("taxii+{hub}");
    common::Following::start(
        dir,
        &dir.join("data"),
        &[
            "--reload-every",
            "0.2",
            "--indicators-from",
            &hub,
            "--record-to",
            &hub,
            "--hub-user",
            "demo",
            "--hub-every",
            "0.5",
            "--flush",
            "1",
            "--sensor",
            sensor,
            // The demo pack and this test's indicator date from 2024-2026
            // and are decayed at wall time (the default with --follow);
            // this test is about hub and edge sync.
            "--decay",
            "off",
        ],
        &[("SIGHTLINE_HUB_PASSWORD", pw)],
    )
}

#[test]
fn a_hub_and_two_edge_matchers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = common::Serve::start(
        &common::data(&dir.path().join("hub")),
        &["--demo"],
        Stdio::null(),
    );
    let pw = hub
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("demo credentials: user demo, password "))
        .expect("the demo password")
        .to_owned();
    let collection = hub
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("collection demo: "))
        .expect("the demo collection's URL")
        .to_owned();
    let mut edges: Vec<common::Following> = (0..2)
        .map(|i| {
            let sensor = format!("identity--5e5e5e5e-0000-4000-8000-00000000000{i}");
            edge(
                &dir.path().join(format!("edge{i}")),
                &collection,
                &pw,
                &sensor,
            )
        })
        .collect();
    // Both edges pulled the pack and follow their logs.
    std::thread::sleep(Duration::from_millis(1500));
    let c = reqwest::blocking::Client::new();
    let t = "2026-01-01T00:00:00.000Z";
    let r = c
        .post(format!("{collection}objects/"))
        .header("authorization", common::basic("demo", &pw))
        .header("content-type", "application/taxii+json;version=2.1")
        .header("accept", "application/taxii+json;version=2.1")
        .body(
            json!({"objects": [{"type": "indicator", "spec_version": "2.1", "id": NEW,
                "created": t, "modified": t, "name": "Edge test C2",
                "pattern": "[domain-name:value = 'edge-c2.example-bad.top']",
                "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}]})
            .to_string(),
        )
        .send()
        .expect("POST to the hub");
    assert_eq!(r.status(), 202);
    let status: Value = r.json().expect("a status resource");
    assert_eq!(status["success_count"], 1, "{status}");
    let posted = Instant::now();
    for (i, e) in edges.iter_mut().enumerate() {
        let took = e
            .until_match(
                "edge-c2.example-bad.top",
                NEW,
                posted,
                Duration::from_secs(10),
            )
            .unwrap_or_else(|| {
                panic!(
                    "edge {i}: no match within 10 s of the POST; it said:\n{}",
                    e.stderr()
                )
            });
        eprintln!("edge {i}: first match {took:?} after the POST to the hub");
        assert!(took < Duration::from_secs(5), "edge {i}: {took:?}");
    }
    // Their sightings reach the hub (pushed every 0.5 s after each 1 s
    // flush), the logs quiet from here on: a following run flushes on a
    // timer, not only when events come.
    let deadline = Instant::now() + Duration::from_secs(10);
    let sightings = loop {
        let v: Value = c
            .get(format!("{collection}objects/?match[type]=sighting"))
            .header("authorization", common::basic("demo", &pw))
            .header("accept", "application/taxii+json;version=2.1")
            .send()
            .expect("GET sightings")
            .json()
            .unwrap_or(Value::Null);
        let of_new: Vec<Value> = v["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["sighting_of_ref"] == NEW)
            .cloned()
            .collect();
        if of_new.len() >= 2 || Instant::now() > deadline {
            break of_new;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        sightings.len(),
        2,
        "one sighting of the new indicator from each edge: {sightings:?}; edges said:\n{}\n{}",
        edges[0].stderr(),
        edges[1].stderr()
    );
    for e in edges {
        let err = e.stop();
        assert!(err.contains("indicators changed"), "{err}");
    }
    hub.terminate();
}
