//! `sightline warninglist`: the real binary imports MISP lists into the data
//! directory, lists them with the built-in ones, and checks values.

use crate::common;

use std::process::Output;

fn run(data: &std::path::Path, args: &[&str]) -> Output {
    common::sightline(&common::data(data), args, None)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn builtin_lists_work_without_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let o = run(
        &data,
        &[
            "warninglist",
            "check",
            "8.8.8.8",
            "www.example.org",
            "192.168.1.1",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(
        out.contains("8.8.8.8: sightline: public DNS resolvers"),
        "{out}"
    );
    assert!(
        out.contains("www.example.org: sightline: example domains"),
        "{out}"
    );
    assert!(
        out.contains("192.168.1.1: sightline: private IP ranges (RFC 1918)"),
        "{out}"
    );
    let o = run(&data, &["warninglist", "check", "45.33.32.156"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("not on any list"));
}

#[test]
fn import_a_misp_tree_then_list_and_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let lists = dir.path().join("misp/lists");
    for (name, body) in [
        (
            "google-gcp",
            r#"{"name":"List of known GCP IP ranges","type":"cidr","version":20240101,"description":"GCP","matching_attributes":["ip-src","ip-dst"],"list":["34.64.0.0/10","bogus"]}"#,
        ),
        (
            "tranco",
            r#"{"name":"Top 10 domains","type":"hostname","version":1,"description":"","matching_attributes":["domain","hostname"],"list":["wikipedia.org","google.com"]}"#,
        ),
        ("broken", r#"{"name":"x","type":"cidr""#),
    ] {
        std::fs::create_dir_all(lists.join(name)).expect("mkdir");
        std::fs::write(lists.join(name).join("list.json"), body).expect("write");
    }
    let o = run(
        &data,
        &["warninglist", "import", lists.to_str().expect("utf-8")],
    );
    // One file was malformed: exit 1, the others imported.
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("imported 2 warninglists (3 entries)"), "{out}");
    assert!(out.contains("1 files rejected"), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken/list.json"), "{err}");
    assert!(err.contains("`bogus`"), "{err}");
    assert!(data
        .join("warninglists/list-of-known-gcp-ip-ranges.json")
        .is_file());

    let o = run(&data, &["warninglist", "list", "--json"]);
    assert!(o.status.success());
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert!(rows
        .iter()
        .any(|r| r["name"] == "Top 10 domains" && r["source"] == "imported" && r["entries"] == 2));
    assert!(rows.iter().any(|r| r["source"] == "built-in"));

    let o = run(
        &data,
        &["warninglist", "check", "en.wikipedia.org", "34.100.1.1"],
    );
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("en.wikipedia.org: Top 10 domains"), "{out}");
    assert!(
        out.contains("34.100.1.1: List of known GCP IP ranges"),
        "{out}"
    );

    // Importing again replaces, not duplicates.
    run(
        &data,
        &[
            "warninglist",
            "import",
            lists.join("tranco/list.json").to_str().expect("utf-8"),
        ],
    );
    let o = run(&data, &["warninglist", "list", "--json"]);
    assert_eq!(stdout(&o).matches("Top 10 domains").count(), 1);
}

/// `sightline warninglist list | head -0` (issue 17 §4): a reader that went
/// away ends the command quietly, not with a panic and exit 101. The pipe's
/// read end is closed before the command writes, so every write is EPIPE.
#[test]
fn closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for args in [
        &["warninglist", "list"][..],
        &["warninglist", "list", "--json"],
        &["warninglist", "check", "8.8.8.8", "192.0.2.1"],
    ] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sightline"))
            .env_remove("SIGHTLINE_DATA")
            .env_remove("SIGHTLINE_STORE")
            .args(common::data(&data))
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run sightline");
        drop(c.stdout.take());
        let o = c.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(1),
            "{args:?}: {:?} {err}",
            o.status
        );
    }
}
