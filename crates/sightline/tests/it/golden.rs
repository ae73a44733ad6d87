//! Golden diagnostics (issue 17 §2): small inputs under `tests/golden/` with
//! the exact output the real binary gives for them, reviewed like code.
//!
//! - `tests/golden/validate/CODE-what.json`: `sightline validate
//!   --output-format jsonl FILE` must print `CODE-what.jsonl` byte for byte, and that output
//!   must contain CODE (the case is named for the rule it exercises).
//! - `tests/golden/pattern/CODE-what.pattern`: `sightline pattern validate
//!   PATTERN` (the file's text without its final newline) must print
//!   `CODE-what.out`.
//!
//! Every code documented in `docs/diagnostics.md` and
//! `docs/pattern-diagnostics.md` must appear in some golden output, and the
//! documents must list exactly the codes of `sightline_stix::Code`.
//!
//! `SIGHTLINE_BLESS=1 cargo test -p sightline --test it golden::` rewrites the
//! expected files from the current binary; review the diff.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bless() -> bool {
    std::env::var_os("SIGHTLINE_BLESS").is_some()
}

/// Codes like E101, W212, P014 in `text`.
fn codes_in(text: &str, letters: &[u8]) -> BTreeSet<String> {
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    for i in 0..b.len().saturating_sub(3) {
        let boundary = |j: usize| j >= b.len() || !b[j].is_ascii_alphanumeric();
        if letters.contains(&b[i])
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b[i + 1..i + 4].iter().all(u8::is_ascii_digit)
            && boundary(i + 4)
        {
            out.insert(text[i..i + 4].to_owned());
        }
    }
    out
}

/// The codes a diagnostics document defines: the first cell of its table rows.
fn documented(doc: &str, letters: &[u8]) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join(doc)).expect("read doc");
    text.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .flat_map(|cell| codes_in(cell, letters))
        .collect()
}

/// Cases in `dir` with extension `ext`, sorted.
fn cases(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .expect("golden dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// Compares (or, blessing, writes) one expected file; returns the output.
fn check(case: &Path, expected: &Path, got: &str, failures: &mut Vec<String>) {
    if bless() {
        std::fs::write(expected, got).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_default();
    if want != got {
        failures.push(format!(
            "{}:\n--- expected ({})\n{want}--- got\n{got}",
            case.display(),
            expected.display()
        ));
    }
    let stem = case.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let code = stem.split('-').next().unwrap_or("");
    if !got.contains(code) {
        failures.push(format!(
            "{}: the output does not contain {code}",
            case.display()
        ));
    }
}

#[test]
fn validator_goldens() {
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for case in cases("tests/golden/validate", "json") {
        // One validation thread: which objects of a file exhaust the shared
        // regex budget (P035) depends on the order they are checked in.
        let o = common::sightline_with_env(
            &[("RAYON_NUM_THREADS", std::ffi::OsStr::new("1"))],
            &[],
            &[
                "validate",
                "--output-format",
                "jsonl",
                case.to_str().expect("utf-8 path"),
            ],
            None,
        );
        let got = String::from_utf8_lossy(&o.stdout).into_owned();
        seen.extend(codes_in(&got, b"EW"));
        check(&case, &case.with_extension("jsonl"), &got, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let docs = documented("docs/diagnostics.md", b"EW");
    let missing: Vec<_> = docs.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "documented codes no golden case exercises: {missing:?}"
    );
}

#[test]
fn pattern_goldens() {
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for case in cases("tests/golden/pattern", "pattern") {
        let text = std::fs::read_to_string(&case).expect("read case");
        let pattern = text.strip_suffix('\n').unwrap_or(&text);
        let o = common::sightline(&[], &["pattern", "validate", pattern], None);
        let got = String::from_utf8_lossy(&o.stdout).into_owned();
        seen.extend(codes_in(&got, b"P"));
        check(&case, &case.with_extension("out"), &got, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Budgets over a whole file (P035) show in the validator's cases.
    for case in cases("tests/golden/validate", "jsonl") {
        seen.extend(codes_in(
            &std::fs::read_to_string(case).expect("read golden"),
            b"P",
        ));
    }
    let docs = documented("docs/pattern-diagnostics.md", b"P");
    let missing: Vec<_> = docs.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "documented pattern codes no golden case exercises: {missing:?}"
    );
}

/// The documents list exactly the codes of `sightline_stix::Code`: a new
/// code without its line in the docs, or a documented code the enum lacks,
/// fails here.
#[test]
fn documents_list_exactly_the_codes_in_use() {
    let all = |letters: &[u8]| -> BTreeSet<String> {
        sightline_stix::Code::ALL
            .iter()
            .map(|c| c.as_str().to_owned())
            .filter(|c| letters.contains(&c.as_bytes()[0]))
            .collect()
    };
    assert_eq!(
        documented("docs/diagnostics.md", b"EW"),
        all(b"EW"),
        "docs/diagnostics.md vs Code::ALL"
    );
    assert_eq!(
        documented("docs/pattern-diagnostics.md", b"P"),
        all(b"P"),
        "docs/pattern-diagnostics.md vs Code::ALL"
    );
}

/// Issue 14 §4: the read commands' tables and JSON, byte for byte, on a store
/// holding the Bureau 121 pack (`tests/golden/cli/README.md`). Each command
/// must succeed; `(not in the store)` must show where the pack refers to
/// ATT&CK objects the store lacks.
#[test]
fn cli_goldens() {
    let dir = tempfile::tempdir().expect("dir");
    let d = common::data(dir.path());
    common::ok(&common::sightline(&d, &["import", "--demo"], None));
    let mut failures = Vec::new();
    let mut all = String::new();
    let cases = cases("tests/golden/cli", "args");
    assert!(cases.len() >= 8, "{cases:?}");
    for case in cases {
        let text = std::fs::read_to_string(&case).expect("read case");
        let args: Vec<&str> = text.lines().collect();
        let o = common::sightline(&d, &args, None);
        let got = common::ok(&o);
        all.push_str(&got);
        let expected = case.with_extension("out");
        if bless() {
            std::fs::write(&expected, &got).expect("bless");
            continue;
        }
        let want = std::fs::read_to_string(&expected).unwrap_or_default();
        if want != got {
            failures.push(format!(
                "{}:\n--- expected ({})\n{want}--- got\n{got}",
                case.display(),
                expected.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(all.contains("(not in the store)"));
}
