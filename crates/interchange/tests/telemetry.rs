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
