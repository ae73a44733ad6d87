//! `sightline pattern eval --batch` through the real binary: one output line
//! per input line, in order, errors in place, the run goes on.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn run_batch(stdin: &[u8]) -> (i32, Vec<Value>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["pattern", "eval", "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("the binary exits");
    let lines = String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn observed_21(value: &str) -> Value {
    json!([
        {"type": "observed-data", "id": "observed-data--6d8a0c0b-6e9b-4d4c-9f59-0d5e1e7c2a11",
         "spec_version": "2.1", "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
         "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z",
         "number_observed": 2, "object_refs": ["ipv4-addr--1"]},
        {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": value}
    ])
}

#[test]
fn batch_answers_every_line_in_order() {
    let observed_20 = json!([{"type": "observed-data", "first_observed": "2024-01-01T00:00:00Z",
        "last_observed": "2024-01-01T00:00:10Z", "number_observed": 1,
        "objects": {"0": {"type": "domain-name", "value": "example.com"}}}]);
    let cases = [
        json!({"id": 1, "pattern": "[ipv4-addr:value = '198.51.100.1']", "observed": observed_21("198.51.100.1")}).to_string(),
        json!({"id": "two", "pattern": "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] REPEATS 2 TIMES", "observed": observed_21("198.51.100.9")}).to_string(),
        json!({"id": 3, "pattern": "[ipv4-addr:value = '198.51.100.1'] REPEATS 3 TIMES", "observed": observed_21("198.51.100.1")}).to_string(),
        json!({"id": 4, "pattern": "[domain-name:value LIKE '%.com']", "observed": observed_20}).to_string(),
        json!({"id": 5, "pattern": "[ipv4-addr:value = ", "observed": []}).to_string(),
        "{\"id\": 6, \"pattern\": ".to_owned(),
        json!({"id": 7, "pattern": "[ipv4-addr:value = '1.2.3.4']", "observed": [{"type": "observed-data"}]}).to_string(),
        json!({"id": 8, "pattern": "[ipv4-addr:value = '1.2.3.4']"}).to_string(),
        json!({"id": 9, "pattern": "[ipv4-addr:value = '198.51.100.1']", "observed": observed_21("198.51.100.2")}).to_string(),
    ];
    let mut input = cases.join("\n").into_bytes();
    input.extend_from_slice(b"\n\xff\xfe\n");
    let (code, out, stderr) = run_batch(&input);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(out.len(), 10, "one line per input line: {out:?}");
    assert_eq!(out[0], json!({"id": 1, "matched": true}));
    assert_eq!(out[1], json!({"id": "two", "matched": true}));
    assert_eq!(out[2], json!({"id": 3, "matched": false}));
    assert_eq!(out[3], json!({"id": 4, "matched": true}));
    let err = |i: usize| out[i]["error"].as_str().unwrap_or_default().to_owned();
    assert_eq!(out[4]["id"], json!(5));
    assert!(err(4).starts_with("line 5: invalid pattern"), "{}", err(4));
    assert!(err(5).starts_with("line 6: invalid JSON"), "{}", err(5));
    assert!(
        err(6).contains("line 7: observed") && err(6).contains("first_observed"),
        "{}",
        err(6)
    );
    assert!(
        err(7).contains("line 8") && err(7).contains("observed"),
        "{}",
        err(7)
    );
    assert_eq!(out[8], json!({"id": 9, "matched": false}));
    assert!(err(9).starts_with("line 10: not UTF-8"), "{}", err(9));
    assert!(
        stderr.contains("3 matched, 2 not matched, 5 errors"),
        "{stderr}"
    );
}

#[test]
fn batch_reads_a_file_and_reports_an_unreadable_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cases.jsonl");
    std::fs::write(
        &path,
        json!({"id": "f", "pattern": "[ipv4-addr:value != '9.9.9.9']", "observed": observed_21("1.1.1.1")}).to_string(),
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["pattern", "eval", "--batch"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"id":"f","matched":true}"#
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["pattern", "eval", "--batch"])
        .arg(dir.path().join("missing.jsonl"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// Issue 4 §5: hostile patterns and events get an error on their own line.
#[test]
fn bad_input_gets_an_error_per_line_and_the_run_goes_on() {
    let observed = json!([
        {"type": "observed-data", "id": "observed-data--1", "first_observed": "2024-01-01T00:00:00Z",
         "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1, "object_refs": ["x-t--1"]},
        {"type": "x-t", "id": "x-t--1", "v": format!("{}!", "a".repeat(40)), "ip": "10.0.0.1"}
    ]);
    let big = "b".repeat(1 << 20);
    let cases = [
        json!({"id": "unbalanced", "pattern": "[x-t:v = 'a'", "observed": observed}),
        json!({"id": "unknown-op", "pattern": "[x-t:v ~= 'a']", "observed": observed}),
        json!({"id": "huge-literal", "pattern": format!("[x-t:v = '{big}']"), "observed": observed}),
        json!({"id": "backtracking", "pattern": "[x-t:v MATCHES '^(a|aa)+\\\\1b']", "observed": observed}),
        json!({"id": "linear", "pattern": "[x-t:v MATCHES '^(a+)+$']", "observed": observed}),
        json!({"id": "cidr", "pattern": "[x-t:ip ISSUBSET '10.0.0.0/33']", "observed": observed}),
        json!({"id": "timestamp", "pattern": "[x-t:v = 'a'] START t'2024-02-30T00:00:00Z' STOP t'2024-03-01T00:00:00Z'", "observed": observed}),
        json!({"id": "wrong-type", "pattern": "[x-t:v = 'a']", "observed": [{"type": "observed-data", "first_observed": 5,
            "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1, "objects": {}}]}),
        json!({"id": "ok", "pattern": "[x-t:ip ISSUBSET '10.0.0.0/8']", "observed": observed}),
    ];
    let mut input: Vec<u8> = cases
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    input.extend_from_slice(b"\n{\"id\": \"truncated\", \"pattern\": \"[x-t:v = \n");
    let (code, out, stderr) = run_batch(&input);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out.len(), 10);
    let by_id = |i: usize| {
        (
            out[i]["id"].clone(),
            out[i]
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_owned),
        )
    };
    for (i, id) in [
        "unbalanced",
        "unknown-op",
        "backtracking",
        "cidr",
        "timestamp",
        "wrong-type",
    ]
    .iter()
    .map(|id| {
        cases
            .iter()
            .position(|c| c["id"] == *id)
            .map(|i| (i, *id))
            .expect("case")
    }) {
        let (got_id, err) = by_id(i);
        assert_eq!(got_id, json!(id));
        let err = err.unwrap_or_else(|| panic!("{id}: expected an error, got {}", out[i]));
        assert!(err.starts_with(&format!("line {}:", i + 1)), "{id}: {err}");
    }
    assert_eq!(out[2], json!({"id": "huge-literal", "matched": false}));
    assert_eq!(out[4], json!({"id": "linear", "matched": false}));
    assert_eq!(out[8], json!({"id": "ok", "matched": true}));
    assert!(
        out[9]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("line 10: invalid JSON")),
        "{}",
        out[9]
    );
}
