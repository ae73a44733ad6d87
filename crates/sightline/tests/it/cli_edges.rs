//! The CLI as a new user meets it (issue 17 §4): a mistyped `--data`, a
//! mistyped `--type`, a duplicate collection. Each is refused with a message
//! that names what is wrong, and the right exit code.

use crate::common;

use common::{data, sightline};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn read_only_commands_refuse_a_directory_without_a_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let typo = dir.path().join("sightlin-data");
    for args in [
        &["stats"][..],
        &["export"],
        &["get", "G0032"],
        &["search", "lazarus"],
        &["check"],
        &["collection", "list"],
    ] {
        let o = sightline(&data(&typo), args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("--data") && err.contains("sightlin-data"),
            "{args:?}: {err}"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
}

#[test]
fn an_unknown_type_is_an_error_with_a_suggestion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let made = sightline(&data(&d), &["collection", "add", "feeds"], None);
    assert!(made.status.success(), "{}", stderr(&made));
    let o = sightline(&data(&d), &["export", "--type", "intrusion_set"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean \"intrusion-set\""),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty(), "no bundle is printed");
    // A spec type with nothing stored is fine (an empty bundle).
    let o = sightline(&data(&d), &["export", "--type", "intrusion-set"], None);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_duplicate_collection_is_refused_not_a_store_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let first = sightline(&data(&d), &["collection", "add", "feeds"], None);
    assert!(first.status.success(), "{}", stderr(&first));
    let again = sightline(&data(&d), &["collection", "add", "feeds"], None);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}

/// `--format` meant the output in `validate` and the input in `match`: the
/// output is `--output-format` now, the old spelling a hidden alias.
#[test]
fn validate_output_format_and_its_old_spelling() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("one.json");
    std::fs::write(
        &f,
        r#"{"type":"identity","spec_version":"2.1","id":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"x"}"#,
    )
    .expect("write");
    let path = f.to_str().expect("utf-8");
    let new = sightline(&[], &["validate", "--output-format", "jsonl", path], None);
    let old = sightline(&[], &["validate", "--format", "jsonl", path], None);
    assert!(new.status.success(), "{}", stderr(&new));
    assert_eq!(new.stdout, old.stdout);
    assert!(String::from_utf8_lossy(&new.stdout).starts_with('{'));
    let help = sightline(&[], &["validate", "--help"], None);
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    assert!(
        help.contains("--output-format") && !help.contains("--format <"),
        "{help}"
    );
}

/// `pattern eval` reads JSON Lines cases without `--batch` (the only mode).
#[test]
fn pattern_eval_needs_no_batch_flag() {
    let case = r#"{"id":1,"pattern":"[ipv4-addr:value = '203.0.113.1']","observed":[{"type":"observed-data","spec_version":"2.1","id":"observed-data--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","first_observed":"2026-01-01T00:00:00Z","last_observed":"2026-01-01T00:00:00Z","number_observed":1,"object_refs":["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]},{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"203.0.113.1"}]}"#;
    let o = sightline(&[], &["pattern", "eval"], Some(&format!("{case}\n")));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\"id\":1,\"matched\":true}\n"
    );
    let o = sightline(
        &[],
        &["pattern", "eval", "--batch", "-"],
        Some(&format!("{case}\n")),
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\"id\":1,\"matched\":true}\n"
    );
}

/// A valid pattern that cannot match as written gets a warning with the fix
/// (issue 13 §4); `--strict` makes it fail.
#[test]
fn pattern_warnings_and_strict() {
    let p = "[network-traffic:dst_port = '443']";
    let o = sightline(&[], &["pattern", "validate", p], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("warning: P041") && out.ends_with("valid\n"),
        "{out}"
    );
    let o = sightline(&[], &["pattern", "validate", "--strict", p], None);
    assert_eq!(o.status.code(), Some(1));
    let o = sightline(
        &[],
        &[
            "pattern",
            "validate",
            "--strict",
            "[network-traffic:dst_port = 443]",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
}
