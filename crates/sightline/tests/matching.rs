//! `sightline match` end to end, through the real binary: indicators from a
//! file and from the store, Zeek and STIX input, explanations, warninglist
//! suppression, bad lines skipped with their numbers, and sightings recorded
//! as versions (STIX 2.1 §5.6 sighting: count, first_seen, last_seen,
//! observed_data_refs, where_sighted_refs).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

fn run(data: &std::path::Path, args: &[&str]) -> Output {
    common::sightline(&common::data(data), args, None)
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

const IP: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0001";
const DOMAIN: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0002";
const RESOLVER: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0003";
const SEQUENCE: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0004";
const SENSOR: &str = "identity--7d1f2b3c-4a5e-4f60-8a7b-9c0d1e2f3a4b";

fn indicator(id: &str, name: &str, pattern: &str) -> Value {
    json!({"type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": name, "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z"})
}

fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let bundle = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
    "objects": [
        indicator(IP, "C2 server", "[ipv4-addr:value = '45.33.32.156']"),
        indicator(DOMAIN, "C2 domain", "[domain-name:value = 'bad-actor.top']"),
        indicator(RESOLVER, "Too broad", "[ipv4-addr:value = '8.8.8.8']"),
        indicator(SEQUENCE, "Lookup then connect",
            "[domain-name:value = 'bad-actor.top'] FOLLOWEDBY [network-traffic:dst_ref.value = '45.33.32.156'] WITHIN 60 SECONDS"),
        {"type": "identity", "spec_version": "2.1", "id": SENSOR,
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": "Sensor 1", "identity_class": "system"}
    ]});
    let ind = dir.join("indicators.json");
    std::fs::write(&ind, bundle.to_string()).expect("write indicators");
    let log = dir.join("zeek.log");
    let mut f = std::fs::File::create(&log).expect("log");
    let dns = json!({"_path": "dns", "ts": 1705312800.0, "uid": "C1", "id.orig_h": "192.168.1.10",
        "id.orig_p": 5353, "id.resp_h": "192.168.1.1", "id.resp_p": 53, "proto": "udp",
        "query": "bad-actor.top", "answers": ["45.33.32.156"]});
    let conn = json!({"_path": "conn", "ts": 1705312810.0, "uid": "C2", "id.orig_h": "192.168.1.10",
        "id.orig_p": 49152, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"});
    let resolver = json!({"_path": "conn", "ts": 1705312811.0, "uid": "C3", "id.orig_h": "192.168.1.10",
        "id.orig_p": 49153, "id.resp_h": "8.8.8.8", "id.resp_p": 53, "proto": "udp"});
    writeln!(f, "{dns}").expect("w");
    writeln!(f, "{conn}").expect("w");
    writeln!(f, "{{\"_path\": \"conn\", \"ts\": 17053128").expect("w"); // truncated
    f.write_all(b"{\"_path\": \"conn\", \"uid\": \"\xff\xfe\"}\n")
        .expect("w"); // not UTF-8
    writeln!(f, "{resolver}").expect("w");
    (ind, log)
}

#[test]
fn matches_are_explained_and_bad_lines_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, log) = setup(dir.path());
    let data = dir.path().join("data");
    let args = [
        "match",
        "--indicators",
        ind.to_str().expect("path"),
        "--input",
        log.to_str().expect("path"),
        "--format",
        "zeek",
    ];
    let o = run(&data, &args);
    // Skipped lines make the exit status 1 (findings), the run goes on.
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 3: truncated JSON"), "{err}");
    assert!(err.contains("line 4: not UTF-8"), "{err}");
    assert!(err.contains("1 suppressed by warninglists"), "{err}");
    let out = lines(&o);
    let got: Vec<(&str, u64)> = out
        .iter()
        .map(|m| {
            (
                m["indicator"].as_str().expect("id"),
                m["line"].as_u64().expect("line"),
            )
        })
        .collect();
    assert!(got.contains(&(DOMAIN, 1)), "{got:?}");
    assert!(
        got.contains(&(IP, 1)),
        "the DNS answer is an ipv4-addr too: {got:?}"
    );
    assert!(got.contains(&(IP, 2)), "{got:?}");
    assert!(got.contains(&(SEQUENCE, 2)), "{got:?}");
    assert!(
        !got.iter().any(|(id, _)| *id == RESOLVER),
        "8.8.8.8 is on the resolver list"
    );
    let ip2 = out
        .iter()
        .find(|m| m["indicator"] == IP && m["line"] == 2)
        .expect("match");
    assert_eq!(ip2["name"], "C2 server");
    assert_eq!(ip2["event"]["uid"], "C2", "the event itself is shown");
    assert_eq!(ip2["why"][0]["value"], "45.33.32.156");
    assert_eq!(ip2["why"][0]["path"], "ipv4-addr:value");
    let seq = out
        .iter()
        .find(|m| m["indicator"] == SEQUENCE)
        .expect("sequence");
    assert_eq!(
        seq["observations"].as_array().map(Vec::len),
        Some(2),
        "{seq}"
    );

    let mut shown = args.to_vec();
    shown.push("--show-suppressed");
    let out = lines(&run(&data, &shown));
    let s = out
        .iter()
        .find(|m| m["indicator"] == RESOLVER)
        .expect("suppressed match shown");
    assert_eq!(s["suppressed"]["value"], "8.8.8.8");
    assert!(
        s["suppressed"]["warninglist"]
            .as_str()
            .is_some_and(|l| l.contains("DNS")),
        "{s}"
    );

    // Parsing on other threads changes nothing a user sees: the same lines,
    // errors and summary, in the same order.
    let inline = run(&data, &[&args[..], &["--threads", "1"]].concat());
    for n in ["2", "5"] {
        let threaded = run(&data, &[&args[..], &["--threads", n]].concat());
        assert_eq!(threaded.stdout, inline.stdout, "--threads {n}");
        // The compile time line varies from run to run.
        let timeless = |o: &Output| -> Vec<String> {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter(|l| !l.contains(" compiled in "))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(timeless(&threaded), timeless(&inline), "--threads {n}");
        assert_eq!(threaded.status.code(), inline.status.code());
    }
    let zero = run(&data, &[&args[..], &["--threads", "0"]].concat());
    assert_eq!(zero.status.code(), Some(2), "{zero:?}");
}

#[test]
fn record_writes_sightings_as_versions() {
    record_on(&[]);
}

/// The same on PostgreSQL (issue 5 §1: matching runs against it too). Needs
/// SIGHTLINE_TEST_PG, as every PostgreSQL test.
#[test]
fn record_on_postgres() {
    let db = sightline_store_postgres::testing::TestDb::new("match_record");
    record_on(&["--store", db.url()]);
}

fn record_on(store: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, log) = setup(dir.path());
    let data = dir.path().join("data");
    let run = |data: &Path, args: &[&str]| {
        let all: Vec<&str> = store.iter().chain(args).copied().collect();
        run(data, &all)
    };
    let o = run(&data, &["import", ind.to_str().expect("path")]);
    assert!(o.status.success(), "{o:?}");
    let args = [
        "match",
        "--input",
        log.to_str().expect("path"),
        "--format",
        "zeek",
        "--record",
        "--sensor",
        SENSOR,
    ];
    for _ in 0..2 {
        let o = run(&data, &args);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("sighting versions written"));
    }
    let o = run(&data, &["export", "--type", "sighting", "--all-versions"]);
    assert!(o.status.success(), "{o:?}");
    let bundle: Value = serde_json::from_slice(&o.stdout).expect("bundle");
    let sightings: Vec<&Value> = bundle["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|s| s["sighting_of_ref"] == IP)
        .collect();
    // One sighting (one window), two versions: counts add up across runs.
    assert_eq!(sightings.len(), 2, "{sightings:?}");
    assert_eq!(sightings[0]["id"], sightings[1]["id"]);
    let mut counts: Vec<u64> = sightings
        .iter()
        .map(|s| s["count"].as_u64().expect("count"))
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [2, 4]);
    let latest = sightings
        .iter()
        .max_by_key(|s| s["modified"].as_str().map(str::to_owned))
        .expect("latest");
    assert_eq!(latest["where_sighted_refs"], json!([SENSOR]));
    assert_eq!(
        latest["first_seen"].as_str().map(|s| &s[..19]),
        Some("2024-01-15T10:00:00")
    );
    assert_eq!(
        latest["last_seen"].as_str().map(|s| &s[..19]),
        Some("2024-01-15T10:00:10")
    );
    // Its observed-data are stored, with their SCOs.
    let refs = latest["observed_data_refs"].as_array().expect("refs");
    assert!(!refs.is_empty());
    for r in refs {
        let o = run(&data, &["get", r.as_str().expect("id")]);
        assert!(o.status.success(), "observed-data {r} stored: {o:?}");
        let od: Value = serde_json::from_slice(&o.stdout).expect("json");
        for sco in od["object_refs"].as_array().expect("object_refs") {
            let o = run(&data, &["get", sco.as_str().expect("id")]);
            assert!(o.status.success(), "SCO {sco} stored");
        }
    }
    // No sighting for a suppressed match.
    assert!(!bundle["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .any(|s| s["sighting_of_ref"] == RESOLVER));
}
