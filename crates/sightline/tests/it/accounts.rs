//! Issue 12 §4 through the real binary: `token create --expires`, `token
//! list` with expiry and last use, and the audit lines of account commands
//! (to `SIGHTLINE_AUDIT_LOG`), which never hold a password or a token.

use crate::common;

use std::path::Path;
use std::process::{Output, Stdio};

const PW: &str = "correct horse battery";

/// `sightline --data DATA ARGS...` with the audit log in `audit`.
fn run(data: &Path, audit: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    common::sightline_with_env(
        &[("SIGHTLINE_AUDIT_LOG", audit.as_os_str())],
        &common::data(data),
        args,
        stdin,
    )
}

#[test]
fn token_expiry_listing_and_audit() {
    let dir = tempfile::tempdir().expect("dir");
    let (data, audit) = (dir.path().join("data"), dir.path().join("audit.log"));
    common::ok(&run(
        &data,
        &audit,
        &["user", "add", "bob", "--password-stdin"],
        Some(&format!("{PW}\n")),
    ));
    let expiring = common::ok(&run(
        &data,
        &audit,
        &["token", "create", "bob", "--expires", "90d"],
        None,
    ));
    let forever = common::ok(&run(&data, &audit, &["token", "create", "bob"], None));
    for bad in ["5m", "0d", "d", "1.5d"] {
        let out = run(
            &data,
            &audit,
            &["token", "create", "bob", "--expires", bad],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "--expires {bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("90d"),
            "--expires {bad}"
        );
    }

    let list = common::ok(&run(&data, &audit, &["token", "list", "bob"], None));
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{list}");
    let id_of = |text: &str| {
        text.trim()
            .strip_prefix("sl_")
            .and_then(|r| r.split_once('_'))
            .map(|(id, _)| id.to_owned())
            .expect("sl_<id>_<secret>")
    };
    let row = |id: &str| rows.iter().find(|r| r[0] == id).expect("listed").clone();
    let e = row(&id_of(&expiring));
    let f = row(&id_of(&forever));
    // id, user, created, expires, last use, state
    assert_eq!(e.len(), 6, "{list}");
    assert_eq!((e[1], e[4], e[5]), ("bob", "-", "active"), "{list}");
    assert_eq!((f[3], f[4], f[5]), ("-", "-", "active"), "{list}");
    let year = |t: &str| t[..4].parse::<u32>().expect("year");
    let days = |t: &str| {
        // Crude but enough: days since 2000 from YYYY-MM-DD.
        let (y, m, d) = (
            year(t),
            t[5..7].parse::<u32>().expect("month"),
            t[8..10].parse::<u32>().expect("day"),
        );
        y * 365
            + y / 4
            + [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][m as usize - 1]
            + d
    };
    let span = days(e[3]) - days(e[2]);
    assert!(
        (89..=91).contains(&span),
        "created {} expires {}",
        e[2],
        e[3]
    );
    assert!(
        e[2].ends_with('Z') && e[2].len() == 20,
        "RFC 3339: {}",
        e[2]
    );

    let text = std::fs::read_to_string(&audit).expect("audit log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(
        events,
        ["user_add", "token_create", "token_create"],
        "{text}"
    );
    assert_eq!(lines[0]["user"], "bob");
    assert_eq!(lines[1]["token_id"], id_of(&expiring).as_str());
    for secret in [PW, expiring.trim(), forever.trim()] {
        let tail = &secret[secret.len() - 20..];
        assert!(!text.contains(tail), "the audit log holds a secret");
    }
}

/// Issue 12 §4: with standard error not a terminal (here a file), the log is
/// plain text, without ANSI colour codes; the server's audit records go
/// there too by default, one JSON line per failed authentication.
#[test]
fn server_log_is_plain_off_a_terminal() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let log = dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&log).expect("log file");
    let mut s = common::Serve::start_with_env(
        &[("SIGHTLINE_LOG", "info")],
        &common::data(&data),
        &[],
        Stdio::from(stderr),
    );
    let r = common::client()
        .get(s.url("/taxii2/"))
        .header("authorization", common::basic("mallory", "guess-one"))
        .send()
        .expect("request");
    assert_eq!(r.status(), 401);
    assert!(s.terminate().success());
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("request done"), "the log has lines: {text}");
    assert!(!text.contains('\u{1b}'), "ANSI escape codes in: {text}");
    let audit: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"event\":\"auth_failed\""))
        .collect();
    assert_eq!(audit.len(), 1, "{text}");
    assert!(audit[0].contains("\"user\":\"mallory\"") && !text.contains("guess-one"));
}
