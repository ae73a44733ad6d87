//! End-to-end tests of the `sightline` binary: every test runs the real
//! executable against a fresh data directory.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("write");
        p
    }
    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sightline"));
        c.arg("--data")
            .arg(self.data())
            .env_remove("SIGHTLINE_DATA");
        c
    }
    fn run(&self, args: &[&str]) -> Run {
        Run(self.cmd().args(args).output().expect("run sightline"))
    }
    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        Run(child.wait_with_output().expect("wait"))
    }
}

struct Run(Output);

impl Run {
    fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code(),
            code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

const IDENTITY: &str = "identity--6f6b1a5e-0c3f-4c4e-9d7e-6f0f3c6b8d01";

fn identity() -> Value {
    json!({"type": "identity", "spec_version": "2.1", "id": IDENTITY,
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "name": "Example CERT", "identity_class": "organization"})
}

fn malware(modified: &str) -> Value {
    json!({"type": "malware", "spec_version": "2.1", "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
           "created": "2026-01-01T00:00:00.000Z", "modified": modified, "created_by_ref": IDENTITY,
           "name": "WannaCry", "is_family": true, "malware_types": ["ransomware"],
           "external_references": [{"source_name": "mitre-attack", "external_id": "S0366", "url": "https://attack.mitre.org/software/S0366"}],
           "x_sightline_note": {"nested": [1, 2.5, "ü"]}})
}

fn indicator() -> Value {
    json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
           "created": "2026-01-02T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
           "name": "Kill switch domain", "indicator_types": ["malicious-activity"],
           "pattern": "[domain-name:value = 'iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com']",
           "pattern_type": "stix", "valid_from": "2026-01-02T00:00:00Z"})
}

fn bundle(objects: &[Value]) -> String {
    serde_json::to_string_pretty(&json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects}))
        .expect("json")
}

fn export_objects(env: &Env, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["export"];
    args.extend_from_slice(extra);
    let out = env.run(&args).expect_code(0).stdout();
    let b: Value = serde_json::from_str(&out).expect("export is JSON");
    assert_eq!(b["type"], "bundle");
    b["objects"].as_array().cloned().unwrap_or_default()
}

#[test]
fn validate_reports_verdicts_and_exit_codes() {
    let env = Env::new();
    let good = env.file("good.json", &bundle(&[identity(), indicator()]));
    env.run(&["validate", good.to_str().expect("path")])
        .expect_code(0);

    let mut bad = indicator();
    bad["confidence"] = json!(500);
    let badf = env.file("bad.json", &bad.to_string());
    let r = env
        .run(&[
            "validate",
            "--format",
            "jsonl",
            badf.to_str().expect("path"),
        ])
        .expect_code(1);
    let line: Value = serde_json::from_str(r.stdout().trim()).expect("jsonl");
    assert_eq!(line["valid"], false);
    assert_eq!(
        line["id"],
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    );
    assert!(line["errors"].to_string().contains("confidence"), "{line}");

    // JSON Lines: exactly one output line per input line, a non-JSON line gets id null.
    let jsonl = format!("{}\nthis is not json\n{}\n", identity(), indicator());
    let r = env
        .run_stdin(&["validate", "--format", "jsonl", "-"], &jsonl)
        .expect_code(1);
    let lines: Vec<Value> = r
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[1]["id"], Value::Null);
    assert_eq!(lines[1]["valid"], false);
    assert_eq!(lines[2]["valid"], true);

    env.run(&["validate", "/nonexistent/file.json"])
        .expect_code(2);
    let trunc = env.file("trunc.json", &bundle(&[identity(), indicator()])[..200]);
    let r = env
        .run(&["validate", trunc.to_str().expect("path")])
        .expect_code(2);
    assert!(
        r.stderr().contains("trunc.json") && r.stderr().contains("line"),
        "{}",
        r.stderr()
    );
}

#[test]
fn import_export_round_trip_is_lossless_and_idempotent() {
    let env = Env::new();
    // Odd formatting on purpose: the stored text must be what we sent.
    let weird = r#"{"type":"identity","spec_version":"2.1","id":"identity--0b6c8d77-2f1e-4e0a-9a57-0d1f2b3c4d5e","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Caf\u00e9   \"quoted\"","identity_class":"individual","x_score":1.50,"x_big":123456789012345678901234567890}"#;
    let text = format!(
        "{{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\"objects\":[{},{},\n  {}\n,{}]}}",
        identity(),
        malware("2026-01-01T00:00:00.000Z"),
        indicator(),
        weird
    );
    let f = env.file("in.json", &text);
    let r = env
        .run(&["import", "--json", f.to_str().expect("path")])
        .expect_code(0);
    let s: Value = serde_json::from_str(r.stdout().trim()).expect("summary");
    assert_eq!(
        (
            s["new"].as_u64(),
            s["duplicate"].as_u64(),
            s["rejected"].as_u64()
        ),
        (Some(4), Some(0), Some(0))
    );

    let out = env.run(&["export"]).expect_code(0).stdout();
    assert!(out.contains(weird), "raw text must come back byte for byte");
    let exported = export_objects(&env, &[]);
    let input: Value = serde_json::from_str(&text).expect("json");
    let mut a: Vec<String> = input["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(Value::to_string)
        .collect();
    let mut b: Vec<String> = exported.iter().map(Value::to_string).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);

    let r = env
        .run(&["import", "--json", f.to_str().expect("path")])
        .expect_code(0);
    let s: Value = serde_json::from_str(r.stdout().trim()).expect("summary");
    assert_eq!(
        (s["new"].as_u64(), s["duplicate"].as_u64()),
        (Some(0), Some(4))
    );
}

#[test]
fn every_version_is_kept() {
    let env = Env::new();
    let v1 = env.file(
        "v1.json",
        &bundle(&[identity(), malware("2026-01-01T00:00:00.000Z")]),
    );
    let v2 = env.file(
        "v2.json",
        &malware("2026-03-01T00:00:00.123456Z").to_string(),
    );
    env.run(&["import", v1.to_str().expect("p"), v2.to_str().expect("p")])
        .expect_code(0);
    let latest = export_objects(&env, &["--type", "malware"]);
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0]["modified"], "2026-03-01T00:00:00.123456Z");
    assert_eq!(
        export_objects(&env, &["--type", "malware", "--all-versions"]).len(),
        2
    );
    let r = env
        .run(&[
            "get",
            "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
            "--versions",
        ])
        .expect_code(0);
    // Each version is printed as stored (pretty-printed here), one after the other.
    let versions: Vec<Value> = serde_json::Deserializer::from_str(&r.stdout())
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("json");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["modified"], "2026-01-01T00:00:00.000Z");
    // By external id.
    let r = env.run(&["get", "S0366"]).expect_code(0);
    assert!(r.stdout().contains("2026-03-01T00:00:00.123456Z"));
    env.run(&["get", "S9999"]).expect_code(1);
    let r = env.run(&["search", "wannacry"]).expect_code(0);
    assert!(r.stdout().contains("malware--0c7b5b88"), "{}", r.stdout());
    let r = env.run(&["stats"]).expect_code(0);
    assert!(r.stdout().contains("versions     3"), "{}", r.stdout());
}

#[test]
fn invalid_objects_are_rejected_with_reasons_and_strict_rejects_all() {
    let env = Env::new();
    let mut bad = malware("2026-01-01T00:00:00.000Z");
    bad.as_object_mut().expect("obj").remove("is_family");
    let f = env.file("mixed.json", &bundle(&[identity(), bad, indicator()]));
    let r = env
        .run(&["import", "--strict", f.to_str().expect("p")])
        .expect_code(1);
    assert!(r.stdout().contains("is_family"), "{}", r.stdout());
    assert!(
        r.stdout().contains("nothing was imported"),
        "{}",
        r.stdout()
    );
    assert!(export_objects(&env, &[]).is_empty());

    let r = env.run(&["import", f.to_str().expect("p")]).expect_code(1);
    assert!(r.stdout().contains("object #1"), "{}", r.stdout());
    assert_eq!(export_objects(&env, &[]).len(), 2);
}

#[test]
fn unreadable_input_writes_nothing_and_keeps_what_is_stored() {
    let env = Env::new();
    let good = env.file("good.json", &bundle(&[identity()]));
    env.run(&["import", good.to_str().expect("p")])
        .expect_code(0);
    let full = bundle(&[malware("2026-01-01T00:00:00.000Z"), indicator()]);
    let trunc = env.file("trunc.json", &full[..full.len() - 40]);
    // The good file comes first: it must not be half-imported either.
    let second = env.file("second.json", &bundle(&[indicator()]));
    let r = env
        .run(&[
            "import",
            second.to_str().expect("p"),
            trunc.to_str().expect("p"),
        ])
        .expect_code(2);
    assert!(r.stderr().contains("trunc.json"), "{}", r.stderr());
    assert_eq!(export_objects(&env, &[]).len(), 1);
    let deep = env.file(
        "deep.json",
        &format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    env.run(&["import", deep.to_str().expect("p")])
        .expect_code(1);
    let bad_utf8 = env.dir.path().join("bad.json");
    std::fs::write(
        &bad_utf8,
        b"{\"type\": \"identity\", \"name\": \"\xff\xfe\"}",
    )
    .expect("write");
    env.run(&["import", bad_utf8.to_str().expect("p")])
        .expect_code(2);
    let gz = env.file("bad.gz", "\u{1f}\u{8b}garbage");
    env.run(&["import", gz.to_str().expect("p")]).expect_code(2);
    assert_eq!(export_objects(&env, &[]).len(), 1);
}

#[test]
fn demo_pack_imports_into_the_demo_collection() {
    let env = Env::new();
    let r = env.run(&["import", "--demo", "--json"]).expect_code(0);
    let s: Value = serde_json::from_str(r.stdout().trim()).expect("summary");
    assert!(s["new"].as_u64().unwrap_or(0) > 30, "{s}");
    assert_eq!(s["rejected"], 0);
    let r = env.run(&["collection", "list"]).expect_code(0);
    assert!(r.stdout().contains("demo"), "{}", r.stdout());
    let objs = export_objects(&env, &["--collection", "demo", "--type", "threat-actor"]);
    assert!(objs.iter().any(|o| o["name"] == "Bureau 121"));
    env.run(&["search", "Bureau"]).expect_code(0);
}

/// `kill -9` during an import: the store opens afterwards, every import that
/// reported success is complete, and the killed one is all or nothing.
#[test]
fn kill_during_import_leaves_the_store_consistent() {
    let env = Env::new();
    let first = env.file("first.json", &bundle(&[identity(), indicator()]));
    env.run(&["import", first.to_str().expect("p")])
        .expect_code(0);
    const N: usize = 60_000;
    let mut big = String::with_capacity(N * 300);
    for i in 0..N {
        big.push_str(&format!(
            "{{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--{:08x}-0000-4000-8000-000000000000\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"Victim {i}\",\"identity_class\":\"organization\"}}\n",
            i + 1
        ));
    }
    let big = env.file("big.jsonl", &big);
    for delay_ms in [50u64, 200, 400] {
        let mut child = env
            .cmd()
            .args(["import", big.to_str().expect("p")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let n = export_objects(&env, &[]).len();
        assert!(
            n == 2 || n == 2 + N,
            "after kill at {delay_ms} ms: {n} objects, expected 2 or {}",
            2 + N
        );
        if n == 2 + N {
            break;
        }
    }
    let r = env.run(&["check"]).expect_code(0);
    assert!(r.stdout().contains("ok"), "{}", r.stdout());
}

/// Issue 12 §1, the CLI case (ARCHITECTURE.md, invariant 3): the same id and
/// `modified` imported into two collections with different content is kept
/// apart; each collection exports exactly what was imported into it. Other
/// content for a version a collection already holds is a conflict, reported
/// and never stored (nor counted as new).
#[test]
fn collections_keep_their_own_content_for_one_version() {
    let env = Env::new();
    let secret = indicator();
    let mut public = indicator();
    public["name"] = json!("Public copy with other content");
    let fs = env.file("secret.json", &bundle(std::slice::from_ref(&secret)));
    let fp = env.file("public.json", &bundle(std::slice::from_ref(&public)));
    let summary = |r: Run| -> Value { serde_json::from_str(r.stdout().trim()).expect("summary") };
    let s = summary(
        env.run(&[
            "import",
            "--json",
            "--collection",
            "secret",
            fs.to_str().expect("path"),
        ])
        .expect_code(0),
    );
    assert_eq!(s["new"], json!(1), "{s}");
    let s = summary(
        env.run(&[
            "import",
            "--json",
            "--collection",
            "public",
            fp.to_str().expect("path"),
        ])
        .expect_code(0),
    );
    assert_eq!(
        (s["new"].as_u64(), s["conflicts"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
    assert_eq!(
        export_objects(&env, &["--collection", "public"]),
        vec![public.clone()]
    );
    assert_eq!(
        export_objects(&env, &["--collection", "secret"]),
        vec![secret.clone()]
    );
    // The public content again into secret: a conflict, reported by id.
    let r = env
        .run(&[
            "import",
            "--collection",
            "secret",
            fp.to_str().expect("path"),
        ])
        .expect_code(1);
    let out = r.stdout();
    assert!(out.contains("0 new, 0 duplicate, 1 conflicts"), "{out}");
    assert!(
        out.contains("1 conflicts")
            && out.contains("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        "{out}"
    );
    let s = summary(
        env.run(&[
            "import",
            "--json",
            "--collection",
            "secret",
            fp.to_str().expect("path"),
        ])
        .expect_code(1),
    );
    assert_eq!(
        (s["new"].as_u64(), s["conflicts"].as_u64()),
        (Some(0), Some(1)),
        "{s}"
    );
    assert_eq!(
        s["conflict_ids"][0]["id"],
        json!("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
    );
    assert_eq!(
        export_objects(&env, &["--collection", "secret"]),
        vec![secret.clone()]
    );
    // The store stays consistent with both rows.
    let r = env.run(&["check"]).expect_code(0);
    assert!(r.stdout().starts_with("ok: "), "{}", r.stdout());
    // `copy` carries both rows and names each membership's own.
    let to = env.dir.path().join("copy");
    let spec = format!("sqlite:{}", to.display());
    let from = format!("sqlite:{}", env.data().display());
    env.run(&["copy", "--from", &from, "--to", &spec])
        .expect_code(0);
    let copy = Env {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    std::fs::rename(&to, copy.data()).expect("move the copy");
    assert_eq!(
        export_objects(&copy, &["--collection", "public"]),
        vec![public]
    );
    assert_eq!(
        export_objects(&copy, &["--collection", "secret"]),
        vec![secret]
    );
    assert!(copy
        .run(&["check"])
        .expect_code(0)
        .stdout()
        .starts_with("ok: "));
}
