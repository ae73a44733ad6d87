//! Golden tests of the telemetry adapters: each sample log under
//! `tests/data/` (Zeek, Suricata EVE, mapped JSON, STIX observations) against
//! `<name>.expected.jsonl`, one line per input line: the observations with
//! their SCOs (STIX 2.1 §6), or why the line was skipped.
//!
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p sightline-interchange --test
//! telemetry` and review the diff.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sightline_interchange::telemetry::{
    reader, time, Adapter, EventReader, Format, LineEvent, Mapping, Observation,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn format_for(path: &Path) -> Format {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.starts_with("zeek_") {
        Format::Zeek
    } else if name.starts_with("suricata_") {
        Format::Suricata
    } else if name.starts_with("stix_") {
        Format::Stix
    } else {
        let stem = name.split('.').next().unwrap_or_default();
        let m = Mapping::load(&data_dir().join(format!("{stem}.mapping.toml")))
            .unwrap_or_else(|e| panic!("{e}"));
        Format::Json(m)
    }
}

fn obs_json(o: &Observation) -> Value {
    let objects: Map<String, Value> = o
        .objects
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_json()))
        .collect();
    let mut v = json!({
        "first_observed": time::to_stix(o.first_observed),
        "last_observed": time::to_stix(o.last_observed),
        "number_observed": o.number_observed,
        "objects": objects,
    });
    if let Some(id) = &o.id {
        v["id"] = Value::String(id.clone());
    }
    v
}

fn render(path: &Path) -> String {
    let src = reader::open(path.to_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    let mut r = EventReader::new(src, Adapter::new(format_for(path)));
    let mut out = String::new();
    let mut obs = Vec::new();
    while let Some(ev) = r.next_into(&mut obs).unwrap_or_else(|e| panic!("{e}")) {
        let line = match ev {
            LineEvent::Parsed { line } => {
                json!({"line": line, "observations": obs.iter().map(obs_json).collect::<Vec<_>>()})
            }
            LineEvent::Skipped(s) => {
                json!({"line": s.line, "skipped": s.error.kind(), "reason": s.error.to_string()})
            }
        };
        obs.clear();
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out.push_str(&json!({"summary": r.summary().to_string()}).to_string());
    out.push('\n');
    out
}

#[test]
fn golden_observations() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            !n.ends_with(".expected.jsonl") && !n.ends_with(".mapping.toml")
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 9, "sample logs missing: {inputs:?}");
    let mut failed = Vec::new();
    for input in &inputs {
        let got = render(input);
        let golden = input.with_extension("expected.jsonl");
        if update {
            std::fs::write(&golden, &got).unwrap_or_else(|e| panic!("{e}"));
            continue;
        }
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", golden.display()));
        if got != want {
            for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
                if g != w {
                    eprintln!(
                        "{} line {}:\n  got  {g}\n  want {w}",
                        input.display(),
                        i + 1
                    );
                }
            }
            failed.push(input.display().to_string());
        }
    }
    assert!(failed.is_empty(), "golden mismatch: {failed:?}");
}

/// Every kind the issue names is covered by a sample that parses (issue 4 §3).
#[test]
fn every_kind_has_a_parsed_sample() {
    let mut zeek = std::collections::BTreeSet::new();
    let mut eve = std::collections::BTreeSet::new();
    for input in [
        "zeek_conn.log",
        "zeek_dns.log",
        "zeek_http.log",
        "zeek_files.log",
        "zeek_ssl.log",
        "zeek_x509.log",
        "suricata_eve.json",
    ] {
        let text =
            std::fs::read_to_string(data_dir().join(input)).unwrap_or_else(|e| panic!("{e}"));
        for line in text.lines() {
            let v: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(_) => continue,
            };
            let a = Adapter::new(format_for(Path::new(input)));
            if a.parse_str(line, &mut Vec::new()).is_ok() {
                if let Some(p) = v.get("_path").and_then(Value::as_str) {
                    zeek.insert(p.to_owned());
                }
                if let Some(t) = v.get("event_type").and_then(Value::as_str) {
                    eve.insert(t.to_owned());
                }
            }
        }
    }
    assert_eq!(
        zeek.into_iter().collect::<Vec<_>>(),
        ["conn", "dns", "files", "http", "ssl", "x509"]
    );
    assert_eq!(
        eve.into_iter().collect::<Vec<_>>(),
        ["alert", "dns", "fileinfo", "flow", "http", "tls"]
    );
}

/// The observations of every line that parses, in order.
fn parsed_observations(path: &Path, threads: usize) -> Vec<Value> {
    use sightline_interchange::telemetry::ParallelReader;
    let src = reader::open(path.to_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    let adapter = Adapter::new(Format::Zeek);
    let mut out = Vec::new();
    let mut obs = Vec::new();
    if threads == 1 {
        let mut r = EventReader::new(src, adapter);
        while let Some(ev) = r.next_into(&mut obs).unwrap_or_else(|e| panic!("{e}")) {
            if let LineEvent::Parsed { .. } = ev {
                out.extend(obs.iter().map(obs_json));
            }
            obs.clear();
        }
    } else {
        let mut r = ParallelReader::new(src, adapter, threads).unwrap_or_else(|e| panic!("{e}"));
        while let Some(ev) = r.next_into(&mut obs).unwrap_or_else(|e| panic!("{e}")) {
            if let LineEvent::Parsed { .. } = ev {
                out.extend(obs.iter().map(obs_json));
            }
            obs.clear();
        }
    }
    out
}

/// Issue 13 §3: Zeek's default TSV logs give the observations of the same
/// events written as JSON (`--format zeek` tells them apart by the header),
/// on one thread and on several.
#[test]
fn zeek_tsv_reads_as_json() {
    for kind in ["conn", "dns", "http"] {
        let json = parsed_observations(&data_dir().join(format!("zeek_{kind}.log")), 1);
        assert!(!json.is_empty());
        for threads in [1, 3] {
            let tsv =
                parsed_observations(&data_dir().join(format!("zeek_tsv_{kind}.log")), threads);
            assert_eq!(tsv, json, "{kind}, {threads} threads");
        }
    }
}

/// Two TSV logs one after the other (as `cat` or a rotation gives them): the
/// second header replaces the first, and line numbers count header lines.
#[test]
fn zeek_tsv_header_changes_midway() {
    let mut text = std::fs::read_to_string(data_dir().join("zeek_tsv_dns.log"))
        .unwrap_or_else(|e| panic!("{e}"));
    text += &std::fs::read_to_string(data_dir().join("zeek_tsv_http.log"))
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = dir.path().join("both.log");
    std::fs::write(&p, &text).unwrap_or_else(|e| panic!("{e}"));
    let mut want = parsed_observations(&data_dir().join("zeek_dns.log"), 1);
    want.extend(parsed_observations(&data_dir().join("zeek_http.log"), 1));
    for threads in [1, 2] {
        assert_eq!(parsed_observations(&p, threads), want, "{threads} threads");
    }
    let src = reader::open(p.to_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    let mut r = EventReader::new(src, Adapter::new(Format::Zeek));
    let mut lines = Vec::new();
    let mut obs = Vec::new();
    while let Some(ev) = r.next_into(&mut obs).unwrap_or_else(|e| panic!("{e}")) {
        if let LineEvent::Parsed { line } = ev {
            lines.push(line);
        }
    }
    // 8 header lines, 4 DNS events, #close, 8 header lines, 3 HTTP events.
    assert_eq!(lines, [9, 10, 11, 12, 22, 23, 24]);
    assert_eq!(r.summary().skipped, 0);
}

/// Issue 13 §3: following a log survives its rotation, both as Zeek does it
/// (the file renamed away, a new one created under the name) and as
/// logrotate's copytruncate does (the file truncated in place); every line
/// of both files is read once, in order, and the rotations are counted.
#[test]
fn follow_survives_rotation() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    for rename in [true, false] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("conn.log");
        let line = |i: u32| {
            format!(
                "{{\"_path\":\"conn\",\"ts\":{}.0,\"uid\":\"C{i}\",\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.1.{i}\"}}\n",
                1_700_000_000 + i
            )
        };
        std::fs::write(&p, line(1) + &line(2)).unwrap_or_else(|e| panic!("{e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let f = reader::follow_path(&p, Duration::from_millis(5), stop.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        let rotations = f.rotations();
        let mut r = EventReader::new(std::io::BufReader::new(f), Adapter::new(Format::Zeek));
        let writer = {
            let (p, stop, dir) = (p.clone(), stop.clone(), dir.path().to_owned());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                let append = |s: String| {
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(&p)
                        .unwrap_or_else(|e| panic!("{e}"));
                    f.write_all(s.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
                };
                append(line(3));
                std::thread::sleep(Duration::from_millis(50));
                if rename {
                    let old = dir.join("conn.2024-01-15-10.log");
                    std::fs::rename(&p, &old).unwrap_or_else(|e| panic!("{e}"));
                    // The writer finishes its line in the old file, then
                    // opens a new one.
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(&old)
                        .unwrap_or_else(|e| panic!("{e}"));
                    f.write_all(line(4).as_bytes())
                        .unwrap_or_else(|e| panic!("{e}"));
                    std::fs::write(&p, line(5)).unwrap_or_else(|e| panic!("{e}"));
                } else {
                    let copy = dir.join("conn.log.1");
                    std::fs::copy(&p, &copy).unwrap_or_else(|e| panic!("{e}"));
                    std::fs::write(&p, "").unwrap_or_else(|e| panic!("{e}"));
                    std::thread::sleep(Duration::from_millis(50));
                    append(line(5));
                }
                std::thread::sleep(Duration::from_millis(100));
                append(line(6));
                std::thread::sleep(Duration::from_millis(100));
                stop.store(true, Ordering::Relaxed);
            })
        };
        let mut obs = Vec::new();
        while r
            .next_into(&mut obs)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_some()
        {}
        writer.join().unwrap_or_else(|_| panic!("writer"));
        let uids: Vec<String> = obs
            .iter()
            .map(|o| {
                let t = obs_json(o);
                t["objects"]
                    .as_object()
                    .and_then(|m| {
                        m.values()
                            .find(|v| v["type"] == "ipv4-addr" && v["value"] != "10.0.0.1")
                    })
                    .and_then(|v| v["value"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        let want: Vec<String> = if rename {
            [1, 2, 3, 4, 5, 6]
                .iter()
                .map(|i| format!("10.0.1.{i}"))
                .collect()
        } else {
            [1, 2, 3, 5, 6]
                .iter()
                .map(|i| format!("10.0.1.{i}"))
                .collect()
        };
        assert_eq!(uids, want, "rename: {rename}");
        assert_eq!(rotations.load(Ordering::Relaxed), 1, "rename: {rename}");
    }
}

/// The ECS example of docs/mapping.md loads (every path is a STIX 2.1
/// property) and maps the ECS sample's events as the test mapping does.
#[test]
fn docs_ecs_mapping_example() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mapping-ecs.toml");
    let m = Mapping::load(&docs).unwrap_or_else(|e| panic!("{e}"));
    let src = reader::open(
        data_dir()
            .join("json_ecs.jsonl")
            .to_str()
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut r = EventReader::new(src, Adapter::new(Format::Json(m)));
    let mut obs = Vec::new();
    while r
        .next_into(&mut obs)
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some()
    {}
    let test_mapping = format_for(&data_dir().join("json_ecs.jsonl"));
    let src = reader::open(
        data_dir()
            .join("json_ecs.jsonl")
            .to_str()
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut r2 = EventReader::new(src, Adapter::new(test_mapping));
    let mut obs2 = Vec::new();
    while r2
        .next_into(&mut obs2)
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some()
    {}
    assert!(!obs.is_empty());
    assert_eq!(r.summary().parsed, r2.summary().parsed);
    let first = obs_json(&obs[0]);
    let objects: Vec<&Value> = first["objects"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    assert!(
        objects
            .iter()
            .any(|o| o["type"] == "network-traffic" && o["dst_port"] == 443),
        "{first}"
    );
    assert!(
        objects.iter().any(|o| o["value"] == "198.51.100.5"),
        "{first}"
    );
}
