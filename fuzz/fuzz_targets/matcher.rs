//! STIX Patterning evaluation: the first line is a pattern, the rest a JSON
//! array of STIX objects (observed-data and SCOs; a fixed set when it is not
//! one). Evaluation must never panic, and the compiled matcher must agree with
//! the reference evaluator on each observation for single-observation patterns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use sightline_matcher::compiled::{IndicatorSet, IndicatorSpec, Matcher};
use sightline_matcher::{evaluate, Observation, Prepared};
use sightline_matcher::prepare::PObs;

fn fixed() -> Vec<Value> {
    vec![
        json!({"type": "observed-data", "id": "observed-data--1", "first_observed": "2024-01-01T00:00:00Z",
               "last_observed": "2024-01-01T00:00:05Z", "number_observed": 2,
               "object_refs": ["ipv4-addr--1", "network-traffic--1", "file--1"]}),
        json!({"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.7"}),
        json!({"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1",
               "dst_port": 443, "protocols": ["ipv4", "tcp"]}),
        json!({"type": "file", "id": "file--1", "name": "setup.exe", "size": 2048,
               "hashes": {"MD5": "0cc175b9c0f1b6a831c399e269772661"}, "mtime": "2024-01-01T00:00:00.5Z"}),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (pattern, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(prepared) = Prepared::new(pattern) else { return };
    let objects = match serde_json::from_str::<Value>(rest) {
        Ok(Value::Array(items)) => items,
        _ => fixed(),
    };
    let Ok(observations) = Observation::from_stix_objects(&objects) else { return };
    let _ = evaluate(&prepared, &observations);
    let (set, _) = IndicatorSet::compile([IndicatorSpec {
        id: "indicator--1".into(),
        name: "fuzz".into(),
        pattern: pattern.to_owned(),
        valid_from: None,
        valid_until: None,
        revoked: false,
    }]);
    let mut m = Matcher::new();
    for o in &observations {
        let got = !m.scan(&set, o).is_empty();
        if matches!(prepared.root, PObs::Leaf(..)) && m.errors().is_empty() {
            if let Ok(want) = evaluate(&prepared, std::slice::from_ref(o)) {
                assert_eq!(got, want, "indexed and reference disagree on {pattern}");
            }
        }
    }
});
