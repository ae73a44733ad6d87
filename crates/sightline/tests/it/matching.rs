//! `sightline match` end to end, through the real binary: indicators from a
//! file and from the store, Zeek and STIX input, explanations, warninglist
//! suppression, bad lines skipped with their numbers, and sightings recorded
//! as versions (STIX 2.1 §5.6 sighting: count, first_seen, last_seen,
//! observed_data_refs, where_sighted_refs).

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

fn run(data: &std::path::Path, args: &[&str]) -> Output {
    common::sightline(&common::data(data), args, None)
}

/// Writes `objects` as the bundle `file` (its id `bundle_id`) and imports it
/// into `data`, which must succeed.
fn import_bundle(data: &std::path::Path, file: &std::path::Path, bundle_id: &str, objects: Value) {
    std::fs::write(
        file,
        json!({"type": "bundle", "id": bundle_id, "objects": objects}).to_string(),
    )
    .expect("write");
    let o = run(data, &["import", file.to_str().expect("path")]);
    assert!(o.status.success(), "{o:?}");
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

/// Valid from 2024-01-10, five days before the fixture events (2024-01-15):
/// without a confidence (base 50) an IP indicator is active for 10.4 days
/// of event time under the default decay (`--decay auto`).
fn indicator(id: &str, name: &str, pattern: &str) -> Value {
    json!({"type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": name, "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2024-01-10T00:00:00Z"})
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
    // Issue 13 §1: a multi-observation match names what took part, by line
    // for log input (no list of nulls).
    assert_eq!(seq["took_part"]["count"], 2, "{seq}");
    assert!(
        seq["took_part"]["first"]["line"].as_u64() < seq["took_part"]["last"]["line"].as_u64(),
        "{seq}"
    );
    assert!(seq.get("observations").is_none(), "{seq}");

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
/// PostgreSQL (`sightline_testkit::pg`), as every PostgreSQL test.
#[test]
fn record_on_postgres() {
    let db = sightline_testkit::pg::TestDb::new("match_record");
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
    // Issue 13 §2: the same log matched twice counts each event once.
    for written in [
        "3 sighting versions written",
        "0 sighting versions written (4 matches already counted",
    ] {
        let o = run(&data, &args);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(written), "{written}: {err}");
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
    // One sighting (one window), one version: the second run counted
    // nothing again (before issue 13 it wrote a second version, count 4).
    assert_eq!(sightings.len(), 1, "{sightings:?}");
    assert_eq!(sightings[0]["count"], 2);
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

/// The latest version of each sighting of `indicator`, from a store-wide export.
fn sightings_of(data: &Path, indicator: &str) -> Vec<Value> {
    let o = run(data, &["export", "--type", "sighting"]);
    assert!(o.status.success(), "{o:?}");
    let bundle: Value = serde_json::from_slice(&o.stdout).expect("bundle");
    bundle["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|s| s["sighting_of_ref"] == indicator)
        .cloned()
        .collect()
}

fn record(data: &Path, log: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "match",
        "--input",
        log.to_str().expect("path"),
        "--format",
        "zeek",
        "--record",
        "--sensor",
        SENSOR,
    ];
    args.extend_from_slice(extra);
    let o = run(data, &args);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    o
}

/// Issue 13 §2: a run that read only the start of a log (it crashed, or the
/// log has grown since) and a later run over the whole log count each event
/// once; so does a run over the same log again.
#[test]
fn record_counts_overlapping_runs_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, log) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    // The first two lines: the DNS answer and the connection, both to the IP.
    let text = std::fs::read(&log).expect("read log");
    let cut = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .map(|(i, _)| i + 1)
        .expect("two lines");
    let partial = dir.path().join("partial.log");
    std::fs::write(&partial, &text[..cut]).expect("write partial");
    let o = run(
        &data,
        &[
            "match",
            "--input",
            partial.to_str().expect("path"),
            "--format",
            "zeek",
            "--record",
            "--sensor",
            SENSOR,
        ],
    );
    assert!(o.status.success(), "{o:?}");
    let count = |data: &Path| -> u64 {
        let s = sightings_of(data, IP);
        assert_eq!(s.len(), 1, "one sighting per window: {s:?}");
        s[0]["count"].as_u64().expect("count")
    };
    assert_eq!(count(&data), 2);
    // The whole log: lines 1-2 were counted, the rest has no match of IP.
    let o = record(&data, &log, &[]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("4 matches already counted"),
        "{o:?}"
    );
    assert_eq!(count(&data), 2);
    // The log grows by one more connection to the IP, in the same hour.
    let more = json!({"_path": "conn", "ts": 1705312900.0, "uid": "C9", "id.orig_h": "192.168.1.11",
        "id.orig_p": 49200, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"});
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("append");
    writeln!(f, "{more}").expect("w");
    drop(f);
    record(&data, &log, &[]);
    assert_eq!(count(&data), 3);
    let latest = &sightings_of(&data, IP)[0];
    assert_eq!(
        latest["last_seen"].as_str().map(|s| &s[..19]),
        Some("2024-01-15T10:01:40")
    );
    // What was counted is kept with the sighting (per source, the last line).
    let marks = latest["x_sightline_counted"].as_array().expect("marks");
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(marks[0]["line"], 6);
    // And again: nothing new.
    let o = record(&data, &log, &[]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("0 sighting versions written"),
        "{o:?}"
    );
    assert_eq!(count(&data), 3);
    // Standard input holding the same log is the same source.
    let o = common::sightline(
        &common::data(&data),
        &["match", "--format", "zeek", "--record", "--sensor", SENSOR],
        Some(&String::from_utf8_lossy(&std::fs::read(&log).expect("log"))),
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("0 sighting versions written"),
        "{o:?}"
    );
    assert_eq!(count(&data), 3);
}

/// Issue 13 §2: sightings, their observed-data and SCOs go into a collection
/// (`sightings` unless named), created when missing, so TAXII clients of that
/// collection see them.
#[test]
fn record_puts_sightings_in_a_collection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, log) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    record(&data, &log, &[]);
    record(
        &data,
        &log,
        &["--sightings-collection", "soc", "--window", "60"],
    );
    let list = run(&data, &["collection", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("sightings") && text.contains("soc"), "{text}");
    for coll in ["sightings", "soc"] {
        let o = run(&data, &["export", "--collection", coll]);
        assert!(o.status.success(), "{o:?}");
        let bundle: Value = serde_json::from_slice(&o.stdout).expect("bundle");
        let objects = bundle["objects"].as_array().expect("objects");
        let of = |t: &str| objects.iter().filter(|o| o["type"] == t).count();
        assert_eq!(of("sighting"), 3, "{coll}: {objects:?}");
        assert!(of("observed-data") >= 2, "{coll}");
        assert!(of("ipv4-addr") >= 1 && of("domain-name") >= 1, "{coll}");
        assert_eq!(of("indicator"), 0, "{coll}");
        // Every observed-data's SCOs are in the collection with it.
        for od in objects.iter().filter(|o| o["type"] == "observed-data") {
            for r in od["object_refs"].as_array().expect("refs") {
                assert!(objects.iter().any(|o| o["id"] == *r), "{coll}: {r}");
            }
        }
    }
    // --collection selects indicators: none are in `soc`.
    let o = run(
        &data,
        &[
            "match",
            "--input",
            log.to_str().expect("path"),
            "--format",
            "zeek",
            "--collection",
            "soc",
        ],
    );
    assert!(lines(&o).is_empty(), "{o:?}");
    let o = run(
        &data,
        &[
            "match",
            "--input",
            log.to_str().expect("path"),
            "--format",
            "zeek",
            "--collection",
            "nowhere",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

/// Issue 13 §2: `sightline sightings` lists the recorded sightings with
/// counts, first and last seen, the indicator's and the sensor's names.
#[test]
fn sightings_are_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, log) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    record(&data, &log, &[]);

    let o = run(&data, &["sightings"]);
    let text = common::ok(&o);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 4, "a header and three sightings:\n{text}");
    assert!(rows[0].starts_with("LAST SEEN"), "{text}");
    for col in ["FIRST SEEN", "COUNT", "INDICATOR", "SENSOR", "SIGHTING"] {
        assert!(rows[0].contains(col), "{text}");
    }
    // Most recently seen first: the connection (10:00:10) before the lookup.
    assert!(rows[1].starts_with("2024-01-15T10:00:10"), "{text}");
    let ip = rows
        .iter()
        .find(|r| r.contains("C2 server"))
        .expect("the IP sighting");
    assert!(ip.contains("Sensor 1"), "{ip}");
    assert!(ip.contains(" 2 "), "count 2: {ip}");
    assert!(ip.contains("2024-01-15T10:00:00"), "first seen: {ip}");

    let o = run(&data, &["sightings", "--json"]);
    let all = lines(&o);
    assert_eq!(all.len(), 3, "{all:?}");
    let ip = all
        .iter()
        .find(|s| s["indicator"] == IP)
        .expect("IP sighting");
    assert_eq!(ip["indicator_name"], "C2 server");
    assert_eq!(ip["count"], 2);
    assert_eq!(ip["sensors"], json!([{"id": SENSOR, "name": "Sensor 1"}]));
    assert_eq!(
        ip["first_seen"].as_str().map(|s| &s[..19]),
        Some("2024-01-15T10:00:00")
    );
    assert_eq!(
        ip["last_seen"].as_str().map(|s| &s[..19]),
        Some("2024-01-15T10:00:10")
    );

    let only = lines(&run(&data, &["sightings", "--json", "--indicator", DOMAIN]));
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["indicator_name"], "C2 domain");
    // The lookup was last seen at 10:00:00; the IP and the sequence at 10:00:10.
    let since = lines(&run(
        &data,
        &["sightings", "--json", "--since", "2024-01-15T10:00:05Z"],
    ));
    assert_eq!(since.len(), 2, "{since:?}");
    assert!(since.iter().all(|s| s["indicator"] != DOMAIN));
    let bad = run(&data, &["sightings", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}

/// Issue 13 §2: with --follow the summary counts the sighting versions the
/// periodic flushes wrote, not only the last flush's.
#[test]
fn follow_summary_counts_periodic_flushes() {
    use std::process::{Command, Stdio};
    use std::time::Duration;
    let dir = tempfile::tempdir().expect("tempdir");
    // The setup log has bad lines; this test writes its own.
    let (ind, _) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    let log = dir.path().join("live.log");
    let line = |ts: f64, uid: &str| {
        json!({"_path": "conn", "ts": ts, "uid": uid, "id.orig_h": "192.168.1.10",
            "id.orig_p": 49152, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"})
        .to_string()
            + "\n"
    };
    std::fs::write(&log, line(1705312810.0, "A1")).expect("write");
    let child = Command::new(common::BIN)
        .env_remove("SIGHTLINE_DATA")
        .env_remove("SIGHTLINE_STORE")
        .args(common::data(&data))
        .args([
            "match",
            "--input",
            log.to_str().expect("path"),
            "--format",
            "zeek",
            "--record",
            "--follow",
            "--flush",
            "1",
            // 2024 fixtures followed now: wall-time decay (the default
            // with --follow) has them out; this test is about flushes.
            "--decay",
            "off",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let append = |s: String| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("append");
        f.write_all(s.as_bytes()).expect("w");
    };
    std::thread::sleep(Duration::from_millis(1500));
    // Over a second since the start: this event triggers a flush.
    append(line(1705312811.0, "A2"));
    std::thread::sleep(Duration::from_millis(600));
    // Another match after that flush, written by the final one.
    append(line(1705312812.0, "A3"));
    std::thread::sleep(Duration::from_millis(600));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill")
        .success());
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(lines(&o).len(), 3, "{err}");
    assert!(err.contains("2 sighting versions written"), "{err}");
    let s = sightings_of(&data, IP);
    assert_eq!(s[0]["count"], 3, "{s:?}");
}

/// Issue 13 §3: `--format zeek` reads Zeek's default TSV logs too, with the
/// same matches as the JSON form of the same events.
#[test]
fn zeek_tsv_matches_like_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, _) = setup(dir.path());
    let data = dir.path().join("data");
    let tsv = dir.path().join("conn.log");
    std::fs::write(
        &tsv,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n\
         1705312810.000000\tC2\t192.168.1.10\t49152\t45.33.32.156\t443\ttcp\t-\n",
    )
    .expect("write");
    let json = dir.path().join("conn.json");
    std::fs::write(
        &json,
        json!({"_path": "conn", "ts": 1705312810.0, "uid": "C2", "id.orig_h": "192.168.1.10",
            "id.orig_p": 49152, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"})
        .to_string()
            + "\n",
    )
    .expect("write");
    let matched = |log: &Path| -> Vec<(Value, Value)> {
        let o = run(
            &data,
            &[
                "match",
                "--indicators",
                ind.to_str().expect("path"),
                "--input",
                log.to_str().expect("path"),
                "--format",
                "zeek",
            ],
        );
        assert!(o.status.success(), "{o:?}");
        lines(&o)
            .into_iter()
            .map(|m| (m["indicator"].clone(), m["why"].clone()))
            .collect()
    };
    let t = matched(&tsv);
    assert_eq!(t, matched(&json));
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].0, IP);
}

/// Issue 13 §3: warninglists are turned on and off one by one, RFC 1918
/// space alone among the reserved ranges, and the summary says which list
/// suppressed how many matches.
#[test]
fn warninglists_one_by_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let ind = dir.path().join("ind.json");
    let (private, loopback) = (
        "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0011",
        "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0012",
    );
    let objects: Vec<Value> = vec![
        indicator(private, "Private", "[ipv4-addr:value = '192.168.1.10']"),
        indicator(loopback, "Loopback", "[ipv4-addr:value = '127.0.0.1']"),
        indicator(RESOLVER, "Resolver", "[ipv4-addr:value = '8.8.8.8']"),
    ];
    std::fs::write(&ind, Value::Array(objects).to_string()).expect("write");
    let log = dir.path().join("conn.log");
    let conn = |ts: f64, a: &str, b: &str| {
        json!({"_path": "conn", "ts": ts, "uid": "C", "id.orig_h": a, "id.orig_p": 1,
            "id.resp_h": b, "id.resp_p": 53, "proto": "udp"})
        .to_string()
    };
    std::fs::write(
        &log,
        conn(1705312800.0, "192.168.1.10", "8.8.8.8")
            + "\n"
            + &conn(1705312801.0, "10.0.0.5", "127.0.0.1")
            + "\n",
    )
    .expect("write");
    let go = |extra: &[&str]| -> (Vec<String>, Output) {
        let mut args = vec![
            "match",
            "--indicators",
            ind.to_str().expect("path"),
            "--input",
            log.to_str().expect("path"),
            "--format",
            "zeek",
        ];
        args.extend_from_slice(extra);
        let o = run(&data, &args);
        let mut ids: Vec<String> = lines(&o)
            .iter()
            .map(|m| m["indicator"].as_str().unwrap_or_default().to_owned())
            .collect();
        ids.sort();
        (ids, o)
    };
    let (ids, o) = go(&[]);
    assert!(ids.is_empty(), "{ids:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "3 suppressed by warninglists (sightline: private IP ranges (RFC 1918): 1, \
             sightline: public DNS resolvers: 1, sightline: reserved IP ranges: 1)"
        ),
        "{err}"
    );
    let (ids, o) = go(&["--no-warninglist", "rfc1918"]);
    assert_eq!(ids, [private], "{o:?}");
    let (ids, _) = go(&["--warninglist", "resolvers"]);
    assert_eq!(ids, [private, loopback]);
    let (ids, _) = go(&[
        "--no-warninglist",
        "RFC1918",
        "--no-warninglist",
        "sightline: reserved IP ranges",
    ]);
    assert_eq!(ids, [private, loopback]);
    let (ids, _) = go(&["--no-warninglists"]);
    assert_eq!(ids.len(), 3);
    let (_, o) = go(&["--no-warninglist", "bogus"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("rfc1918"),
        "{o:?}"
    );
}

/// Issue 13 §3: `--collection` and `--min-confidence` select the indicators
/// matched, and each match names what its indicator indicates (the targets
/// of its `indicates` relationships, STIX 2.1 §5.1), from the store or the
/// indicator file.
#[test]
fn selection_and_what_indicators_indicate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, log) = setup(dir.path());
    let data = dir.path().join("data");
    let t = "2024-01-01T00:00:00.000Z";
    let group = "intrusion-set--3f1d4a6e-1b2c-4d5e-8f90-a1b2c3d4e5f6";
    let malware = "malware--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    let rel = |n: u32, from: &str, to: &str, ty: &str| {
        json!({"type": "relationship", "spec_version": "2.1",
            "id": format!("relationship--0a0b0c0d-0e0f-4a1b-8c2d-00000000000{n}"),
            "created": t, "modified": t, "relationship_type": ty,
            "source_ref": from, "target_ref": to})
    };
    let mut ip = indicator(IP, "C2 server", "[ipv4-addr:value = '45.33.32.156']");
    ip["confidence"] = json!(80);
    let mut domain = indicator(DOMAIN, "C2 domain", "[domain-name:value = 'bad-actor.top']");
    domain["confidence"] = json!(20);
    let intel = json!([
        ip, domain,
        {"type": "intrusion-set", "spec_version": "2.1", "id": group, "created": t,
         "modified": t, "name": "Lazarus Group"},
        {"type": "malware", "spec_version": "2.1", "id": malware, "created": t,
         "modified": t, "name": "BLINDINGCAN", "is_family": true},
        rel(1, IP, group, "indicates"),
        rel(2, IP, malware, "indicates"),
        rel(3, DOMAIN, group, "related-to"),
    ]);
    let intel_file = dir.path().join("intel.json");
    std::fs::write(&intel_file, intel.to_string()).expect("write");
    let other = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0099";
    let other_file = dir.path().join("other.json");
    std::fs::write(
        &other_file,
        json!([indicator(
            other,
            "Other",
            "[ipv4-addr:value = '45.33.32.156']"
        )])
        .to_string(),
    )
    .expect("write");
    let o = run(
        &data,
        &[
            "import",
            "--collection",
            "intel",
            intel_file.to_str().expect("p"),
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert!(run(&data, &["import", other_file.to_str().expect("p")])
        .status
        .success());

    let matched = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec![
            "match",
            "--input",
            log.to_str().expect("p"),
            "--format",
            "zeek",
            // DOMAIN's confidence 20 is below the lifecycle's active
            // threshold (30); this test is about selection.
            "--decay",
            "off",
        ];
        args.extend_from_slice(extra);
        let o = run(&data, &args);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        lines(&o)
    };
    let ids = |ms: &[Value]| -> Vec<String> {
        let mut v: Vec<String> = ms
            .iter()
            .map(|m| m["indicator"].as_str().unwrap_or_default().to_owned())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(
        ids(&matched(&[])),
        [IP, DOMAIN, other].map(String::from).to_vec().tap_sort()
    );
    assert_eq!(
        ids(&matched(&["--collection", "intel"])),
        [IP, DOMAIN].map(String::from).to_vec().tap_sort()
    );
    // Confidence 80 passes, 20 does not, and no confidence is no pass.
    assert_eq!(ids(&matched(&["--min-confidence", "50"])), [IP]);
    assert_eq!(
        ids(&matched(&[
            "--min-confidence",
            "10",
            "--collection",
            "intel"
        ]))
        .len(),
        2
    );

    let want = json!([
        {"type": "intrusion-set", "name": "Lazarus Group", "id": group},
        {"type": "malware", "name": "BLINDINGCAN", "id": malware},
    ]);
    for from_file in [false, true] {
        let extra: Vec<&str> = if from_file {
            vec!["--indicators", intel_file.to_str().expect("p")]
        } else {
            vec![]
        };
        let ms = matched(&extra);
        let ip = ms.iter().find(|m| m["indicator"] == IP).expect("IP match");
        assert_eq!(ip["indicates"], want, "from file: {from_file}");
        // `related-to` is not `indicates`.
        let d = ms
            .iter()
            .find(|m| m["indicator"] == DOMAIN)
            .expect("domain match");
        assert!(d.get("indicates").is_none(), "{d}");
    }
}

trait TapSort {
    fn tap_sort(self) -> Self;
}

impl TapSort for Vec<String> {
    fn tap_sort(mut self) -> Self {
        self.sort();
        self
    }
}

/// Issue 13 §2 with the collection rules of "every collection is its own":
/// an observed-data or SCO the collection already holds with other content
/// under the same id and version is not replaced; the run counts it as a
/// conflict and still writes the sighting.
#[test]
fn record_reports_conflicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, _) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    let od = "observed-data--6f0e2d4c-3b1a-4c5d-9e8f-7a6b5c4d3e2f";
    let ip = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd";
    let line = json!([
        {"type": "observed-data", "spec_version": "2.1", "id": od,
         "created": "2024-01-15T10:00:00.000Z", "modified": "2024-01-15T10:00:00.000Z",
         "first_observed": "2024-01-15T10:00:00Z", "last_observed": "2024-01-15T10:00:00Z",
         "number_observed": 1, "object_refs": [ip]},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": ip, "value": "45.33.32.156"}
    ])
    .to_string();
    let input = dir.path().join("od.json");
    std::fs::write(&input, format!("{line}\n")).expect("write");
    let o = run(
        &data,
        &[
            "import",
            "--collection",
            "sightings",
            input.to_str().expect("path"),
        ],
    );
    assert!(o.status.success(), "{o:?}");
    let o = run(
        &data,
        &[
            "match",
            "--input",
            input.to_str().expect("path"),
            "--format",
            "stix",
            "--record",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("1 sighting versions written"), "{err}");
    assert!(err.contains("objects not written (conflict"), "{err}");
    let o = run(
        &data,
        &[
            "export",
            "--collection",
            "sightings",
            "--type",
            "observed-data",
        ],
    );
    let bundle: Value = serde_json::from_slice(&o.stdout).expect("bundle");
    let stored = &bundle["objects"][0];
    assert_eq!(stored["id"], od);
    assert_eq!(
        stored["created"], "2024-01-15T10:00:00.000Z",
        "the original stays"
    );
    let s = sightings_of(&data, IP);
    assert_eq!(s[0]["observed_data_refs"], json!([od]));
}

/// Issue 13 §2/§3: following a log across a rename rotation counts the
/// events of both files once, and a later run over the rotated-away file
/// (the same first line: the same source) counts nothing again.
#[test]
fn follow_records_across_rotation() {
    use std::process::{Command, Stdio};
    use std::time::Duration;
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, _) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    let log = dir.path().join("conn.log");
    let line = |ts: f64, uid: &str| {
        json!({"_path": "conn", "ts": ts, "uid": uid, "id.orig_h": "192.168.1.10",
            "id.orig_p": 49152, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"})
        .to_string()
            + "\n"
    };
    std::fs::write(&log, line(1705312810.0, "R1") + &line(1705312811.0, "R2")).expect("write");
    let child = Command::new(common::BIN)
        .env_remove("SIGHTLINE_DATA")
        .env_remove("SIGHTLINE_STORE")
        .args(common::data(&data))
        .args([
            "match",
            "--input",
            log.to_str().expect("path"),
            "--format",
            "zeek",
            "--record",
            "--follow",
            "--flush",
            "1",
            // 2024 fixtures followed now: wall-time decay (the default
            // with --follow) has them out; this test is about flushes.
            "--decay",
            "off",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut child = child;
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(l);
        }
    });
    // Following, a match is printed when it is found, not when the output
    // buffer fills or the run ends.
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a match printed while following");
    assert!(first.contains("\"uid\":\"R1\""), "{first}");
    std::thread::sleep(Duration::from_millis(300));
    let old = dir.path().join("conn.2024-01-15-10-00-00.log");
    std::fs::rename(&log, &old).expect("rename");
    std::fs::write(&log, line(1705312900.0, "R3")).expect("new file");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let rest: Vec<String> = rx.iter().collect();
    assert_eq!(1 + rest.len(), 3, "{err}");
    assert_eq!(sightings_of(&data, IP)[0]["count"], 3);
    // The rotated file again, and the new one: both sources are marked.
    for f in [&old, &log] {
        let o = run(
            &data,
            &[
                "match",
                "--input",
                f.to_str().expect("path"),
                "--format",
                "zeek",
                "--record",
            ],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("0 sighting versions written"), "{err}");
    }
    assert_eq!(sightings_of(&data, IP)[0]["count"], 3);
    let marks = sightings_of(&data, IP)[0]["x_sightline_counted"].clone();
    assert_eq!(marks.as_array().map(Vec::len), Some(2), "{marks}");
}

/// Issue 17 §4: `--input-format` names the events' format (`--format` names
/// an output format elsewhere); `--format` still works, hidden from help.
#[test]
fn input_format_flag_and_hidden_alias() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, log) = setup(dir.path());
    let data = dir.path().join("data");
    let mut found = Vec::new();
    for flag in ["--input-format", "--format"] {
        let o = run(
            &data,
            &[
                "match",
                "--indicators",
                ind.to_str().expect("path"),
                "--input",
                log.to_str().expect("path"),
                flag,
                "zeek",
            ],
        );
        // Two bad lines in the log: the exit code says so, the same for both.
        found.push((lines(&o).len(), o.status.code()));
    }
    assert!(found[0].0 > 0, "matches with --input-format");
    assert_eq!(found[0], found[1], "the alias reads the same");
    let help = run(&data, &["match", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--input-format <FORMAT>"), "{help}");
    assert!(
        !help.contains("--format"),
        "the old spelling is hidden: {help}"
    );
}

/// Issue 13 §1 through the binary: a beacon (one lookup a second for ten
/// minutes) against temporal indicators of several shapes (STIX 2.1 Part 9:
/// REPEATS, WITHIN, FOLLOWEDBY), thousands of events per indicator. Every
/// verdict is as the re-arm rule says, no evaluation error, each match names
/// the lines that took part, and one thread or several give the same bytes.
#[test]
fn temporal_beacons_match_the_same_on_any_thread_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("dns.log");
    let mut f = std::fs::File::create(&log).expect("log");
    let t0 = 1_767_261_600.0_f64;
    let mut line = 0u64;
    let mut beacon_lines = Vec::new();
    for i in 0..600u32 {
        // The beacon, and unrelated lookups in between.
        for (q, ts) in [
            ("beacon.lazarus-demo.net", f64::from(i)),
            ("intranet.corp.local", f64::from(i) + 0.5),
        ] {
            line += 1;
            if q.starts_with("beacon") {
                beacon_lines.push(line);
            }
            writeln!(
                f,
                "{}",
                json!({"_path": "dns", "ts": t0 + ts, "uid": format!("C{line}"),
                       "id.orig_h": "10.20.30.40", "id.orig_p": 50000, "id.resp_h": "10.20.30.1",
                       "id.resp_p": 53, "proto": "udp", "query": q, "answers": []})
            )
            .expect("write");
        }
    }
    drop(f);
    let ind = |n: u32, pattern: &str| {
        indicator(
            &format!("indicator--5a1e{n:04x}-0000-4000-8000-0000000000aa"),
            &format!("t{n}"),
            pattern,
        )
    };
    let bundle = json!({"type": "bundle", "id": "bundle--5a1e0000-0000-4000-8000-0000000000aa", "objects": [
        ind(1, "[domain-name:value = 'beacon.lazarus-demo.net'] REPEATS 20 TIMES WITHIN 300 SECONDS"),
        ind(2, "[domain-name:value = 'beacon.lazarus-demo.net'] REPEATS 500 TIMES WITHIN 3600 SECONDS"),
        ind(3, "[domain-name:value = 'beacon.lazarus-demo.net'] REPEATS 601 TIMES WITHIN 3600 SECONDS"),
        ind(4, "[domain-name:value = 'beacon.lazarus-demo.net'] REPEATS 30 TIMES WITHIN 20 SECONDS"),
        ind(5, "[domain-name:value = 'intranet.corp.local'] FOLLOWEDBY [domain-name:value = 'beacon.lazarus-demo.net'] WITHIN 1 SECONDS"),
    ]});
    let inds = dir.path().join("ind.json");
    std::fs::write(&inds, bundle.to_string()).expect("indicators");
    let data = dir.path().join("data");
    let args = |threads: &'static str| {
        vec![
            "match".to_owned(),
            "--indicators".into(),
            inds.display().to_string(),
            "--input-format".into(),
            "zeek".into(),
            "--input".into(),
            log.display().to_string(),
            "--threads".into(),
            threads.into(),
            // Events in 2026, indicators valid from 2024 (decayed by
            // then); this test is about temporal operators.
            "--decay".into(),
            "off".into(),
        ]
    };
    let go = |threads: &'static str| {
        let a = args(threads);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&data, &a)
    };
    let one = go("1");
    let many = go("4");
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(
        one.stdout, many.stdout,
        "--threads 1 and 4 print the same matches"
    );
    let err = String::from_utf8_lossy(&one.stderr);
    assert!(err.contains("0 evaluation errors"), "{err}");
    let out = lines(&one);
    let of = |n: u32| -> Vec<&Value> {
        let id = format!("indicator--5a1e{n:04x}-0000-4000-8000-0000000000aa");
        out.iter()
            .filter(|m| m["indicator"] == id.as_str())
            .collect()
    };
    // REPEATS 20 within 300 s: every 20th beacon (re-armed after each match).
    let t1 = of(1);
    assert_eq!(t1.len(), 30);
    for (k, m) in t1.iter().enumerate() {
        assert_eq!(m["line"], beacon_lines[20 * k + 19], "{m}");
        assert_eq!(m["took_part"]["count"], 20, "{m}");
        assert_eq!(m["took_part"]["first"]["line"], beacon_lines[20 * k], "{m}");
        assert_eq!(
            m["took_part"]["last"]["line"],
            beacon_lines[20 * k + 19],
            "{m}"
        );
    }
    // 500 within an hour: once, at the 500th; 601 can never match in 600.
    assert_eq!(of(2).len(), 1);
    assert_eq!(of(2)[0]["line"], beacon_lines[499]);
    assert!(of(3).is_empty());
    // 30 within 20 s with one a second: impossible (21 fit at most).
    assert!(of(4).is_empty());
    // Intranet at i + 0.5 s, then beacon at i + 1: inside one second, out of
    // order never (the beacon at i comes before the intranet lookup at i + 0.5).
    assert_eq!(of(5).len(), 599);
    assert!(of(5).iter().all(|m| m["took_part"]["count"] == 2));
}

/// Issue 16 §3: a following matcher picks up an indicator imported while it
/// runs, and a warninglist imported later, without a restart and without
/// losing or re-reading an event: the new indicator matches within 5 s of
/// its import, the list suppresses its value within 5 s of its import, and
/// every line written is read exactly once (the summary's event count).
#[test]
fn follow_applies_new_indicators_and_warninglists_within_seconds() {
    use std::time::{Duration, Instant};
    const NEW: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0099";
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, _) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    let mut m = common::Following::start(
        &dir.path().join("follow"),
        &data,
        // The 2024 fixtures are decayed at wall time (the default with
        // --follow); this test is about reloads.
        &["--reload-every", "0.2", "--decay", "off"],
        &[],
    );
    // Known before the run: matches at once.
    m.dns("bad-actor.top");
    let first = m
        .next_match(Duration::from_secs(10))
        .expect("a match while following");
    assert_eq!(first["indicator"], DOMAIN, "{first}");
    // A new indicator, imported while the matcher runs.
    import_bundle(
        &data,
        &dir.path().join("new.json"),
        "bundle--5d0092c5-5f74-4287-9642-33f4c354e599",
        json!([indicator(
            NEW,
            "New C2",
            "[domain-name:value = 'fresh-c2.top']"
        )]),
    );
    let took = m
        .until_match("fresh-c2.top", NEW, Instant::now(), Duration::from_secs(5))
        .unwrap_or_else(|| {
            panic!(
                "the new indicator did not match within 5 s of its import: {}",
                m.stderr()
            )
        });
    eprintln!("new indicator in effect after {took:?}");
    std::thread::sleep(Duration::from_millis(300));
    m.drain();
    // A warninglist naming the value, imported while the matcher runs.
    let list = dir.path().join("list.json");
    std::fs::write(
        &list,
        r#"{"name":"Analyst: false positives","type":"hostname","version":1,"description":"","matching_attributes":["domain","hostname"],"list":["fresh-c2.top"]}"#,
    )
    .expect("write");
    assert!(run(
        &data,
        &["warninglist", "import", list.to_str().expect("path")]
    )
    .status
    .success());
    assert!(
        m.until_quiet(
            "fresh-c2.top",
            Instant::now(),
            Duration::from_secs(5),
            Duration::from_millis(800)
        ),
        "matches of a warninglisted value stopped within 5 s of the list's import"
    );
    std::thread::sleep(Duration::from_millis(300));
    let written = m.written;
    let err = m.stop();
    assert!(err.contains("indicators changed"), "{err}");
    assert!(err.contains("warninglists changed"), "{err}");
    // Every line read once: no event lost or read again across the swaps.
    assert!(
        err.contains(&format!("{written} lines: {written} events, 0 skipped")),
        "{written} events written: {err}"
    );
}

/// Issue 16 §3 "Done when": a false-positive verdict stops a value from
/// matching within 5 s in a following matcher, without a restart (the
/// verdict is a STIX opinion in the store; the matcher's reloader notices
/// it and leaves the indicator out).
#[test]
fn a_false_positive_verdict_stops_matching_within_seconds_while_following() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().expect("tempdir");
    let (ind, _) = setup(dir.path());
    let data = dir.path().join("data");
    assert!(run(&data, &["import", ind.to_str().expect("path")])
        .status
        .success());
    let mut m = common::Following::start(
        &dir.path().join("follow"),
        &data,
        // The 2024 fixtures are decayed at wall time (the default with
        // --follow); this test is about reloads.
        &["--reload-every", "0.2", "--decay", "off"],
        &[],
    );
    m.dns("bad-actor.top");
    let first = m
        .next_match(Duration::from_secs(10))
        .expect("a match while following");
    assert_eq!(first["indicator"], DOMAIN, "{first}");
    let o = run(
        &data,
        &[
            "verdict",
            DOMAIN,
            "false-positive",
            "--analyst",
            "Alice",
            "--note",
            "a CDN name",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert!(
        m.until_quiet(
            "bad-actor.top",
            Instant::now(),
            Duration::from_secs(5),
            Duration::from_millis(800)
        ),
        "matches went on for 5 s after the false-positive verdict: {}",
        m.stderr()
    );
    let err = m.stop();
    assert!(err.contains("indicators changed"), "{err}");
    assert!(err.contains("never active under the lifecycle"), "{err}");
}

/// Issue 16 §3: decay judged at each event's own time for historical logs
/// (`--decay event-time`, and the default `auto` on a file read to its
/// end) and at the wall clock for live data (`--decay wall-time`). The IP
/// indicator (confidence 80, valid_from 2024-01-01, rule ip: L = 47 days,
/// k = 1.65) is active for 21.64 days: an event on 2024-01-10 matches, one
/// on 2024-02-10 does not; at the wall clock (years later) it is inactive,
/// so nothing matches; without decay both match.
#[test]
fn decay_is_judged_at_event_time_or_wall_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut ind = indicator(IP, "C2 server", "[ipv4-addr:value = '45.33.32.156']");
    ind["confidence"] = json!(80);
    ind["valid_from"] = json!("2024-01-01T00:00:00Z");
    import_bundle(
        &data,
        &dir.path().join("ind.json"),
        "bundle--5d0092c5-5f74-4287-9642-33f4c354e5aa",
        json!([ind]),
    );
    let log = dir.path().join("conn.log");
    let conn = |ts: &str, uid: &str| {
        let t = chrono_free_epoch(ts);
        json!({"_path": "conn", "ts": t, "uid": uid, "id.orig_h": "192.168.1.10",
            "id.orig_p": 49152, "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp"})
        .to_string()
            + "\n"
    };
    std::fs::write(
        &log,
        conn("2024-01-10", "EARLY") + &conn("2024-02-10", "LATE"),
    )
    .expect("write");
    let uids = |decay: &str| -> Vec<String> {
        let mut args = vec![
            "match",
            "--input",
            log.to_str().expect("path"),
            "--input-format",
            "zeek",
        ];
        if !decay.is_empty() {
            args.extend(["--decay", decay]);
        }
        let o = run(&data, &args);
        assert!(o.status.success(), "{o:?}");
        lines(&o)
            .iter()
            .map(|m| m["event"]["uid"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(uids("off"), ["EARLY", "LATE"]);
    assert_eq!(uids("event-time"), ["EARLY"]);
    assert!(uids("wall-time").is_empty());
    // The default on a file: event time.
    assert_eq!(uids(""), ["EARLY"]);
    assert_eq!(uids("auto"), ["EARLY"]);
}

/// Issue 16 §3, the default both ways: `--decay auto` judges a followed
/// (live) log at wall time and the same log read to its end at event time.
/// Two indicators valid from 2024-01-10, met by events of 2024-01-15: an IP
/// (rule ip, 47 days: decayed long before now) and a domain whose rule
/// (this test's config) lasts a century. Following, only the domain
/// matches, and the IP is counted as never active; reading the file
/// afterwards, both match (five days into their lives).
#[test]
fn the_default_decay_is_wall_time_following_and_event_time_otherwise() {
    use std::time::Duration;
    const LIVE_IP: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f00a1";
    const LIVE_DOMAIN: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f00a2";
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    import_bundle(
        &data,
        &dir.path().join("ind.json"),
        "bundle--5d0092c5-5f74-4287-9642-33f4c354e5a1",
        json!([
            // Following::dns events answer 198.51.100.7.
            indicator(
                LIVE_IP,
                "Old C2 address",
                "[ipv4-addr:value = '198.51.100.7']"
            ),
            indicator(
                LIVE_DOMAIN,
                "C2 name",
                "[domain-name:value = 'live-c2.example']"
            ),
        ]),
    );
    let config = dir.path().join("sightline.toml");
    std::fs::write(
        &config,
        "[lifecycle]\n\
         [[lifecycle.rules]]\nname = \"ip\"\ntypes = [\"ipv4-addr\"]\nlifetime_days = 47\nspeed = 1.65\n\
         [[lifecycle.rules]]\nname = \"century\"\ntypes = [\"domain-name\"]\nlifetime_days = 36500\nspeed = 2.1\n",
    )
    .expect("write config");
    let config = config.to_str().expect("path");
    let follow_dir = dir.path().join("follow");
    // 198.51.100.7 is a documentation address (a built-in warninglist).
    let mut m = common::Following::start(
        &follow_dir,
        &data,
        &["--config", config, "--no-warninglists"],
        &[],
    );
    m.dns("live-c2.example");
    let first = m
        .next_match(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no match while following: {}", m.stderr()));
    assert_eq!(first["indicator"], LIVE_DOMAIN, "{first}");
    // The same event answered 198.51.100.7: no match of the decayed IP.
    assert!(
        m.next_match(Duration::from_millis(1500)).is_none(),
        "the IP indicator, decayed at wall time, matched while following"
    );
    let err = m.stop();
    assert!(
        err.contains("1 indicators never active under the lifecycle"),
        "{err}"
    );
    // The same log, read to its end: event time, both match.
    let log = follow_dir.join("zeek.log");
    let o = run(
        &data,
        &[
            "match",
            "--input",
            log.to_str().expect("path"),
            "--input-format",
            "zeek",
            "--config",
            config,
            "--no-warninglists",
        ],
    );
    let mut got: Vec<String> = lines(&o)
        .iter()
        .map(|m| m["indicator"].as_str().unwrap_or_default().to_owned())
        .collect();
    got.sort();
    assert_eq!(got, [LIVE_IP, LIVE_DOMAIN], "{o:?}");
}

/// Issue 16 §3, event time piecewise: an IP indicator (confidence 80, valid
/// from 2024-01-01: active for 21.64 days) renewed by a trusted sensor's
/// sighting on 2024-02-10 is active again from then, but not in the lapse
/// between: events on 01-10 and 02-12 match, the one on 01-30 does not.
#[test]
fn a_renewal_after_a_lapse_leaves_the_lapse_unmatched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut ind = indicator(IP, "C2 server", "[ipv4-addr:value = '45.33.32.156']");
    ind["confidence"] = json!(80);
    ind["valid_from"] = json!("2024-01-01T00:00:00Z");
    let t = "2024-02-10T00:00:00.000Z";
    import_bundle(
        &data,
        &dir.path().join("ind.json"),
        "bundle--5d0092c5-5f74-4287-9642-33f4c354e5ab",
        json!([ind,
                {"type": "identity", "spec_version": "2.1", "id": SENSOR, "created": t,
                 "modified": t, "name": "Sensor 1", "identity_class": "system"},
                {"type": "sighting", "spec_version": "2.1",
                 "id": "sighting--0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", "created": t,
                 "modified": t, "sighting_of_ref": IP, "where_sighted_refs": [SENSOR],
                 "first_seen": t, "last_seen": t, "count": 1}]),
    );
    let config = dir.path().join("sightline.toml");
    std::fs::write(
        &config,
        format!("[lifecycle]\ntrusted_sensors = [\"{SENSOR}\"]\n"),
    )
    .expect("write config");
    let log = dir.path().join("conn.log");
    let conn = |day: &str, uid: &str| {
        json!({"_path": "conn", "ts": chrono_free_epoch(day), "uid": uid,
            "id.orig_h": "192.168.1.10", "id.orig_p": 49152, "id.resp_h": "45.33.32.156",
            "id.resp_p": 443, "proto": "tcp"})
        .to_string()
            + "\n"
    };
    std::fs::write(
        &log,
        conn("2024-01-10", "ACTIVE")
            + &conn("2024-01-30", "LAPSE")
            + &conn("2024-02-12", "RENEWED"),
    )
    .expect("write");
    let uids = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "match",
            "--input",
            log.to_str().expect("path"),
            "--input-format",
            "zeek",
        ];
        args.extend_from_slice(extra);
        let o = run(&data, &args);
        assert!(o.status.success(), "{o:?}");
        lines(&o)
            .iter()
            .map(|m| m["event"]["uid"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let cfg = config.to_str().expect("path");
    assert_eq!(uids(&["--config", cfg]), ["ACTIVE", "RENEWED"]);
    // The sensor not trusted: no renewal, the first window only.
    assert_eq!(uids(&[]), ["ACTIVE"]);
    assert_eq!(
        uids(&["--config", cfg, "--decay", "off"]),
        ["ACTIVE", "LAPSE", "RENEWED"]
    );
}

/// Seconds since the epoch of a `YYYY-MM-DD` day (UTC), for the fixtures.
fn chrono_free_epoch(day: &str) -> f64 {
    let text = format!("{day}T00:00:00Z");
    let t = sightline_stix::Timestamp::parse(&text).expect("a day");
    t.micros() as f64 / 1e6
}
