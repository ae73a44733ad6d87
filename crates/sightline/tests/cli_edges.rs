//! The CLI as a new user meets it (issue 17 §4): a mistyped `--data`, a
//! mistyped `--type`, a duplicate collection. Each is refused with a message
//! that names what is wrong, and the right exit code.

mod common;

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
