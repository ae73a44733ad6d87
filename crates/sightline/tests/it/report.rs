//! `sightline report quality` (issue 16 §2): per feed and per observable
//! type, through the real binary, after real matches and verdicts.

use crate::common;

use serde_json::{json, Value};

fn run(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::sightline(&common::data(data), args, None)
}

const FEED_A: &str = "identity--0a0a0a0a-0000-4000-8000-00000000000a";
const FEED_B: &str = "identity--0b0b0b0b-0000-4000-8000-00000000000b";
const IP: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0101";
const DOMAIN: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0102";
const NEVER: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0103";

#[test]
fn quality_per_feed_and_type_after_matches_and_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let day = 86_400_000_000i64;
    let now = sightline_store::now_micros();
    // Valid since yesterday, full confidence: active now.
    let from = sightline_store::format_date_added(now - day);
    let created = "2026-01-01T00:00:00.000Z";
    let identity = |id: &str, name: &str| {
        json!({"type": "identity", "spec_version": "2.1", "id": id, "created": created,
            "modified": created, "name": name, "identity_class": "organization"})
    };
    let indicator = |id: &str, by: &str, pattern: &str| {
        json!({"type": "indicator", "spec_version": "2.1", "id": id, "created": created,
            "modified": created, "created_by_ref": by, "pattern": pattern, "pattern_type": "stix",
            "valid_from": from, "confidence": 100})
    };
    let bundle = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e5bb",
        "objects": [identity(FEED_A, "Feed A"), identity(FEED_B, "Feed B"),
            indicator(IP, FEED_A, "[ipv4-addr:value = '45.33.32.156']"),
            indicator(DOMAIN, FEED_A, "[domain-name:value = 'bad-actor.top']"),
            indicator(NEVER, FEED_B, "[domain-name:value = 'never-seen.top']")]});
    let f = dir.path().join("ind.json");
    std::fs::write(&f, bundle.to_string()).expect("write");
    assert!(run(&data, &["import", f.to_str().expect("path")])
        .status
        .success());
    // An hour ago: inside --since 30d.
    let ts = (now - day / 24) as f64 / 1e6;
    let log = dir.path().join("zeek.log");
    std::fs::write(
        &log,
        format!(
            "{}\n{}\n",
            json!({"_path": "conn", "ts": ts, "uid": "Q1", "id.orig_h": "192.168.1.10",
                "id.orig_p": 49152, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"}),
            json!({"_path": "dns", "ts": ts + 1.0, "uid": "Q2", "id.orig_h": "192.168.1.10",
                "id.orig_p": 5353, "id.resp_h": "192.168.1.1", "id.resp_p": 53, "proto": "udp",
                "query": "bad-actor.top", "answers": ["198.51.100.9"]})
        ),
    )
    .expect("log");
    let o = run(
        &data,
        &[
            "match",
            "--input",
            log.to_str().expect("path"),
            "--input-format",
            "zeek",
            "--record",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    for (id, verdict, who) in [
        (IP, "true-positive", "Ann"),
        (DOMAIN, "false-positive", "Bo"),
    ] {
        let o = run(&data, &["verdict", id, verdict, "--analyst", who]);
        assert!(o.status.success(), "{o:?}");
    }
    let o = run(&data, &["report", "quality", "--since", "30d", "--json"]);
    assert!(o.status.success(), "{o:?}");
    let r: Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let row = |list: &str, key: &str| -> Value {
        r[list]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|x| x["key"].as_str().is_some_and(|k| k.contains(key)))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no {list} row {key}: {r}"))
    };
    let a = row("by_feed", FEED_A);
    assert!(
        a["key"].as_str().is_some_and(|k| k.starts_with("Feed A")),
        "{a}"
    );
    assert_eq!(a["indicators"], 2, "{a}");
    assert_eq!(a["matched"], 2, "{a}");
    assert_eq!(a["sightings"], 2, "{a}");
    assert_eq!(a["true_positive"], 1, "{a}");
    assert_eq!(a["false_positive"], 1, "{a}");
    assert_eq!(a["precision"], 0.5, "{a}");
    // The false positive is retired: stale.
    assert_eq!(a["active"], 1, "{a}");
    assert_eq!(a["stale"], 1, "{a}");
    let b = row("by_feed", FEED_B);
    assert_eq!(b["indicators"], 1, "{b}");
    assert_eq!(b["never_matched"], 1, "{b}");
    assert_eq!(b["active"], 1, "{b}");
    assert_eq!(b["precision"], Value::Null, "{b}");
    let d = row("by_type", "domain-name");
    assert_eq!(d["indicators"], 2, "{d}");
    assert_eq!(d["never_matched"], 1, "{d}");
    assert_eq!(row("by_type", "ipv4-addr")["precision"], 1.0);
    assert_eq!(r["total"]["indicators"], 3);
    // The table: one line per feed and type, and the totals.
    let o = run(&data, &["report", "quality"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("PRECISION"), "{text}");
    assert!(text.contains("50%"), "{text}");
}

/// Issue 16 §1 (optional retiring versions): indicators a feed of ours
/// created that decayed below the revoke threshold get a new version with
/// `revoked: true` and the reason (STIX 2.1 §3.6: only the creator versions
/// an object, so someone else's decayed indicator is left alone); a dry run
/// writes nothing; a second run finds nothing more to do.
#[test]
fn retire_writes_revoking_versions_of_our_decayed_indicators_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let csv =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/feeds/blocklist.csv");
    let o = run(
        &data,
        &[
            "feed",
            "add",
            "blocklist",
            "--kind",
            "csv",
            "--url",
            csv.to_str().expect("path"),
            "--value-column",
            "3",
            "--first-seen-column",
            "2",
            "--header",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert!(run(&data, &["feed", "sync", "blocklist"]).status.success());
    // Someone else's, decayed as much (an IP seen in 2024).
    let foreign = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e5cc",
        "objects": [{"type": "indicator", "spec_version": "2.1",
            "id": "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0201",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "created_by_ref": FEED_B, "pattern": "[ipv4-addr:value = '45.33.32.156']",
            "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}]});
    let f = dir.path().join("foreign.json");
    std::fs::write(&f, foreign.to_string()).expect("write");
    assert!(run(&data, &["import", f.to_str().expect("path")])
        .status
        .success());
    let versions = |data: &std::path::Path| -> u64 {
        let o = run(data, &["stats", "--json"]);
        let v: Value = serde_json::from_slice(&o.stdout).expect("stats");
        v["versions"].as_u64().unwrap_or(0)
    };
    let before = versions(&data);
    let o = run(&data, &["retire", "--dry-run"]);
    assert!(o.status.success(), "{o:?}");
    let listed: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(listed.len(), 2, "the feed's two URL indicators: {listed:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 below the threshold but created by others"),
        "{err}"
    );
    assert_eq!(versions(&data), before, "a dry run writes nothing");
    let o = run(&data, &["retire"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(versions(&data), before + 2);
    let o = run(&data, &["get", &listed[0], "--json"]);
    let got: Value = serde_json::from_slice(&o.stdout).expect("get --json");
    let obj = &got[0]["object"];
    assert_eq!(obj["revoked"], true, "{got}");
    assert_eq!(
        obj["x_sightline_retired"]["reason"], "decayed below the revoke threshold",
        "{got}"
    );
    // Nothing more to do: revoked in STIX now.
    let o = run(&data, &["retire"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).trim().is_empty(),
        "{o:?}"
    );
    assert_eq!(versions(&data), before + 2);
}
