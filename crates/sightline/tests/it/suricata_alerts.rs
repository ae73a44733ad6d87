//! Suricata alerts back to sightings (issue 15 §2): `sightline export
//! --format suricata` writes rules whose `metadata` carries the indicator id
//! (`sightline_id indicator--…`); Suricata writes it back in each EVE
//! `alert` as `alert.metadata.sightline_id: [id]` (key -> list of strings,
//! `doc/userguide/output/eve/eve-json-format.rst`); `sightline match
//! --input-format suricata --record` turns such an alert into a STIX 2.1
//! sighting (§5.6) of that indicator, at the alert's `timestamp`, once per
//! event however often the log is read.
//!
//! Real Suricata is not run here: Debian bookworm (this machine's release)
//! has no `suricata` package in main (only bookworm-backports), so the EVE
//! lines are written as Suricata writes them, for the sids and metadata of
//! the rules the export wrote.

use crate::common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const DOM: &str = "indicator--5a1e0000-0000-4000-8000-000000000001";
const IP: &str = "indicator--5a1e0000-0000-4000-8000-000000000002";
const REVOKED: &str = "indicator--5a1e0000-0000-4000-8000-000000000003";
const FALSE_POSITIVE: &str = "indicator--5a1e0000-0000-4000-8000-000000000004";
/// Named by an alert, never in the store (a stale rule, another hub's).
const UNKNOWN: &str = "indicator--5a1e0000-0000-4000-8000-0000000000ff";
const SENSOR: &str = "identity--5a1e0000-0000-4000-8000-0000000000aa";

fn run(data: &Path, args: &[&str]) -> Output {
    common::sightline(&common::data(data), args, None)
}

fn indicator(id: &str, name: &str, pattern: &str) -> Value {
    json!({"type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": name, "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z", "confidence": 90})
}

/// A store with the four indicators; the sensor's identity too.
fn store(dir: &Path) -> PathBuf {
    let bundle = json!({"type": "bundle", "id": "bundle--5a1e0000-0000-4000-8000-0000000000bb",
    "objects": [
        indicator(DOM, "C2 domain", "[domain-name:value = 'c2.sl-alerts.test']"),
        indicator(IP, "C2 address", "[ipv4-addr:value = '45.33.32.156']"),
        indicator(REVOKED, "Revoked later", "[domain-name:value = 'old.sl-alerts.test']"),
        indicator(FALSE_POSITIVE, "Judged later", "[domain-name:value = 'cdn.sl-alerts.test']"),
        {"type": "identity", "spec_version": "2.1", "id": SENSOR,
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "name": "Suricata sensor", "identity_class": "system"}
    ]});
    let f = dir.join("indicators.json");
    std::fs::write(&f, bundle.to_string()).expect("write");
    let data = dir.join("data");
    common::ok(&run(&data, &["import", f.to_str().expect("path")]));
    data
}

/// A rule of the export: its sid, rev and message.
#[derive(Debug, Clone)]
struct Rule {
    sid: u64,
    rev: u64,
    msg: String,
}

/// `sightline export --format suricata`, read back: the rule of each
/// indicator id in a `metadata: sightline_id …`.
fn exported_rules(data: &Path) -> HashMap<String, Rule> {
    let out = common::ok(&run(
        data,
        &[
            "export",
            "--format",
            "suricata",
            "--at",
            "2026-01-02T00:00:00Z",
        ],
    ));
    let between = |l: &str, a: &str, b: &str| -> Option<String> {
        let from = l.find(a)? + a.len();
        let to = l[from..].find(b)? + from;
        Some(l[from..to].to_owned())
    };
    let mut rules = HashMap::new();
    for l in out.lines().filter(|l| l.starts_with("alert ")) {
        let id = between(l, "metadata: sightline_id ", ";")
            .expect("each rule names its indicator")
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let num = |k: &str| {
            between(l, &format!(" {k}:"), ";")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{k} in {l}"))
        };
        let rule = Rule {
            sid: num("sid"),
            rev: num("rev"),
            msg: between(l, "msg:\"", "\";").expect("msg"),
        };
        rules.insert(id, rule);
    }
    rules
}

/// An EVE alert line for `rule` as Suricata writes it, at `ts`
/// (`2026-05-02T10:MM:SS`), with the metadata `meta` (JSON) and the flow's
/// start two seconds earlier; `dns` the query, if any.
fn alert(rule: &Rule, ts: &str, meta: Value, dest: &str, dns: Option<&str>) -> String {
    let mut e = json!({"timestamp": format!("2026-05-02T10:{ts}.123456+0000"),
        "flow_id": 1_676_750_115_612_680_u64, "in_iface": "eth0", "event_type": "alert",
        "src_ip": "10.0.0.5", "src_port": 53122, "dest_ip": dest, "dest_port": 53,
        "proto": "UDP", "pkt_src": "wire/pcap",
        "alert": {"action": "allowed", "gid": 1, "signature_id": rule.sid, "rev": rule.rev,
            "signature": rule.msg, "category": "A Network Trojan was detected", "severity": 1,
            "metadata": meta},
        "flow": {"pkts_toserver": 1, "pkts_toclient": 0, "bytes_toserver": 74,
            "bytes_toclient": 0, "start": "2026-05-02T10:00:00.000000+0000",
            "src_ip": "10.0.0.5", "dest_ip": dest, "src_port": 53122, "dest_port": 53}});
    if let Some(q) = dns {
        e["app_proto"] = json!("dns");
        e["dns"] = json!({"version": 3, "type": "request", "id": 16000,
            "queries": [{"rrname": q, "rrtype": "A"}]});
    }
    e.to_string()
}

fn ours(id: &str) -> Value {
    json!({"sightline_id": [id]})
}

/// The latest version of each sighting of `indicator`.
fn sightings_of(data: &Path, indicator: &str) -> Vec<Value> {
    let o = run(data, &["export", "--type", "sighting"]);
    assert!(o.status.success(), "{o:?}");
    let bundle: Value = serde_json::from_slice(&o.stdout).expect("bundle");
    bundle["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["sighting_of_ref"] == indicator)
        .cloned()
        .collect()
}

/// The exported rules, the two indicators made inactive after the export
/// (revoked; a false-positive verdict), and an EVE log of alerts for them.
fn scenario(dir: &Path) -> (PathBuf, PathBuf, HashMap<String, Rule>) {
    let data = store(dir);
    let rules = exported_rules(&data);
    for id in [DOM, IP, REVOKED, FALSE_POSITIVE] {
        assert!(rules.contains_key(id), "no rule for {id}: {rules:?}");
    }
    // After the export the sensor still runs these rules.
    let mut revoked = indicator(
        REVOKED,
        "Revoked later",
        "[domain-name:value = 'old.sl-alerts.test']",
    );
    revoked["modified"] = json!("2026-02-01T00:00:00.000Z");
    revoked["revoked"] = json!(true);
    let f = dir.join("revoked.json");
    std::fs::write(&f, revoked.to_string()).expect("write");
    common::ok(&run(&data, &["import", f.to_str().expect("path")]));
    common::ok(&run(
        &data,
        &[
            "verdict",
            FALSE_POSITIVE,
            "false-positive",
            "--analyst",
            "Ana",
        ],
    ));
    let r = |id: &str| rules[id].clone();
    let et = Rule {
        sid: 2_027_863,
        rev: 2,
        msg: "ET MALWARE Known C2 address".into(),
    };
    let lines = [
        // 1, 2: alerts of DOM's rule; their DNS sections also hold the value
        // DOM's pattern matches (one sighting count per event, not two).
        alert(
            &r(DOM),
            "11:12",
            ours(DOM),
            "10.0.0.1",
            Some("c2.sl-alerts.test"),
        ),
        alert(
            &r(DOM),
            "12:00",
            ours(DOM),
            "10.0.0.1",
            Some("c2.sl-alerts.test"),
        ),
        // 3: IP's rule.
        alert(&r(IP), "13:00", ours(IP), "45.33.32.156", None),
        // 4, 5: rules of indicators no longer active.
        alert(&r(REVOKED), "14:00", ours(REVOKED), "10.0.0.1", None),
        alert(
            &r(FALSE_POSITIVE),
            "15:00",
            ours(FALSE_POSITIVE),
            "10.0.0.1",
            None,
        ),
        // 6: an indicator this store does not have.
        alert(&r(DOM), "16:00", ours(UNKNOWN), "10.0.0.1", None),
        // 7, 8: metadata of the wrong shape.
        alert(
            &r(DOM),
            "17:00",
            json!({"sightline_id": DOM}),
            "10.0.0.1",
            None,
        ),
        alert(
            &r(DOM),
            "18:00",
            json!({"sightline_id": [42, "malware--5a1e0000-0000-4000-8000-000000000001"]}),
            "10.0.0.1",
            None,
        ),
        // 9: another ruleset's alert: an event like any other (IP's pattern).
        alert(
            &et,
            "19:00",
            json!({"signature_severity": ["Major"]}),
            "45.33.32.156",
            None,
        ),
        // 10: a DNS event (no alert): DOM's pattern.
        json!({"timestamp": "2026-05-02T10:20:00.000000+0000", "event_type": "dns",
            "src_ip": "10.0.0.5", "src_port": 5353, "dest_ip": "10.0.0.1", "dest_port": 53,
            "proto": "UDP", "dns": {"version": 3, "type": "request",
            "queries": [{"rrname": "c2.sl-alerts.test", "rrtype": "A"}]}})
        .to_string(),
    ];
    let eve = dir.join("eve.json");
    std::fs::write(&eve, lines.join("\n") + "\n").expect("write eve");
    (data, eve, rules)
}

fn record(data: &Path, eve: &Path) -> Output {
    run(
        data,
        &[
            "match",
            "--input",
            eve.to_str().expect("path"),
            "--input-format",
            "suricata",
            "--record",
            "--sensor",
            SENSOR,
            "--decay",
            "off",
            "--threads",
            "2",
        ],
    )
}

fn stdout_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn exported_rules_alerts_become_sightings_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, eve, rules) = scenario(dir.path());
    let o = record(&data, &eve);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    // Malformed metadata is bad input: exit 1, as for skipped lines.
    assert_eq!(o.status.code(), Some(1), "{err}");
    let found = stdout_lines(&o);
    let of = |line: u64| -> Vec<&Value> { found.iter().filter(|m| m["line"] == line).collect() };
    // Line 1: the alert, explained by its rule, not a pattern comparison;
    // DOM's pattern match on the same event is not reported twice.
    let l1 = of(1);
    assert_eq!(l1.len(), 1, "{l1:?}");
    assert_eq!(l1[0]["indicator"], DOM);
    let sid = rules[DOM].sid;
    assert_eq!(
        l1[0]["why"],
        json!([{"comparison": format!("suricata alert sid {sid}"),
            "path": "alert.metadata.sightline_id", "value": DOM}])
    );
    assert_eq!(
        l1[0]["suricata_alert"],
        json!({"gid": 1, "sid": sid, "rev": rules[DOM].rev})
    );
    assert_eq!(l1[0]["event"]["alert"]["signature_id"], sid);
    assert_eq!(of(3)[0]["indicator"], IP);
    // Nothing for the inactive, unknown and malformed ones.
    for l in 4..=8 {
        assert!(of(l).is_empty(), "line {l}: {:?}", of(l));
    }
    // Line 9 (another ruleset) and line 10 (no alert) are matched by pattern.
    assert_eq!(of(9)[0]["indicator"], IP);
    assert_eq!(
        of(9)[0]["why"][0]["comparison"],
        "ipv4-addr:value = '45.33.32.156'"
    );
    assert!(of(9)[0].get("suricata_alert").is_none());
    assert_eq!(of(10)[0]["indicator"], DOM);
    assert_eq!(found.len(), 5, "{found:?}");
    assert!(
        err.contains(&format!("line 6: alert for unknown indicator {UNKNOWN}")),
        "{err}"
    );
    assert!(
        err.contains("line 7: suricata alert: `alert.metadata.sightline_id` is a string, not a list of strings"),
        "{err}"
    );
    assert!(
        err.contains(
            "line 8: suricata alert: `alert.metadata.sightline_id[0]` is a number, not a string"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "line 8: suricata alert: `alert.metadata.sightline_id[1]` is not an indicator id"
        ),
        "{err}"
    );
    assert!(
        err.contains("suricata alerts of exported rules: 3 sightings of indicators, 1 for unknown indicators, 2 for inactive indicators"),
        "{err}"
    );
    assert!(err.contains(", 3 metadata problems"), "{err}");

    // STIX 2.1 §5.6: one sighting per indicator (one window), counting
    // each event once, seen from the alert's timestamp (not its flow's
    // start), where the sensor is.
    let check = |data: &Path| {
        let dom = sightings_of(data, DOM);
        assert_eq!(dom.len(), 1, "{dom:?}");
        assert_eq!(dom[0]["count"], 3, "{dom:?}");
        assert!(
            dom[0]["first_seen"]
                .as_str()
                .is_some_and(|t| t.starts_with("2026-05-02T10:11:12.123")),
            "{dom:?}"
        );
        assert!(
            dom[0]["last_seen"]
                .as_str()
                .is_some_and(|t| t.starts_with("2026-05-02T10:20:00")),
            "{dom:?}"
        );
        assert_eq!(dom[0]["where_sighted_refs"], json!([SENSOR]));
        let ip = sightings_of(data, IP);
        assert_eq!(ip.len(), 1, "{ip:?}");
        assert_eq!(ip[0]["count"], 2, "{ip:?}");
        for id in [REVOKED, FALSE_POSITIVE, UNKNOWN] {
            assert!(sightings_of(data, id).is_empty(), "{id}");
        }
    };
    check(&data);
    // The same log again: the same matches shown, nothing counted twice.
    let again = record(&data, &eve);
    let err = String::from_utf8_lossy(&again.stderr).into_owned();
    assert_eq!(stdout_lines(&again).len(), 5, "{err}");
    assert!(
        err.contains("0 sighting versions written (5 matches already counted by earlier runs)"),
        "{err}"
    );
    check(&data);
}

/// A following matcher writes an alert's sighting while the log stays
/// quiet (within about one --flush interval), not when the next event
/// comes: before, a quiet log kept its last sightings until the next event
/// or the end of the run.
/// A matcher killed when its test fails before stopping it.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn following_writes_sightings_while_the_log_is_quiet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, _, rules) = scenario(dir.path());
    let eve = dir.path().join("live.json");
    std::fs::write(&eve, "").expect("eve");
    let mut child = Kill(
        Command::new(common::BIN)
            .env_remove("SIGHTLINE_DATA")
            .env_remove("SIGHTLINE_STORE")
            .args(common::data(&data))
            .args(["match", "--input", eve.to_str().expect("path")])
            .args(["--input-format", "suricata", "--follow", "--record"])
            .args(["--flush", "1", "--decay", "off", "--sensor", SENSOR])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("stderr")).expect("stderr"))
            .spawn()
            .expect("spawn"),
    );
    let stderr = || std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.0.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&eve)
        .expect("append");
    writeln!(
        f,
        "{}",
        alert(&rules[IP], "30:00", ours(IP), "45.33.32.156", None)
    )
    .expect("w");
    f.flush().expect("flush");
    let shown: Value = serde_json::from_str(
        &rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no match shown; it said:\n{}", stderr())),
    )
    .expect("JSON");
    assert_eq!(shown["indicator"], IP);
    assert_eq!(shown["suricata_alert"]["sid"], rules[IP].sid);
    // Nothing more is written to the log from here on.
    let quiet = Instant::now();
    let stored = loop {
        let s = sightings_of(&data, IP);
        if !s.is_empty() || quiet.elapsed() > Duration::from_secs(8) {
            break s;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let took = quiet.elapsed();
    assert_eq!(
        stored.len(),
        1,
        "no sighting while the log was quiet; it said:\n{}",
        stderr()
    );
    assert_eq!(stored[0]["count"], 1);
    eprintln!("sighting stored {took:?} after the match, the log quiet");
    let _ = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status();
    let status = child.0.wait().expect("wait");
    let err = stderr();
    assert!(status.success(), "{err}");
    assert!(err.contains("1 sighting versions written"), "{err}");
}
