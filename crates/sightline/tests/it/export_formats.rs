//! `sightline export --format zeek-intel|suricata|suricata-datasets|sigma|csv`
//! (issue 15 §2): the real binary on the export crate's fixture set, imported
//! into a store. What the formats write is the crate's golden files; here:
//! the flags, where output goes, the report on stderr, and the filters.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common;

const AT: &str = "2026-06-01T00:00:00Z";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../export/tests/golden/indicators.json")
}

fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let f = fixtures();
    let o = common::sightline(
        &common::data(&data),
        &["import", f.to_str().expect("path")],
        None,
    );
    assert!(
        o.status.success(),
        "import: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (dir, data)
}

/// The tests here are about the formats and the STIX validity rules: the
/// lifecycle (on by default, issue 16) would decay the fixtures (valid from
/// 2026-03-01) out by AT, so a sensor export runs with `--lifecycle off`
/// unless the test sets `--lifecycle` itself (the last test).
fn run(data: &Path, args: &[&str]) -> Output {
    let mut args = args.to_vec();
    if args.contains(&"--format") && !args.contains(&"--lifecycle") {
        args.extend(["--lifecycle", "off"]);
    }
    common::sightline(&common::data(data), &args, None)
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn zeek_intel_to_stdout_with_the_report_on_stderr() {
    let (_d, data) = store();
    let o = run(
        &data,
        &[
            "export",
            "--format",
            "zeek-intel",
            "--at",
            AT,
            "--min-confidence",
            "50",
            "--base-url",
            "https://hub.example",
        ],
    );
    let out = common::ok(&o);
    assert!(
        out.contains("\n#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"),
        "{out}"
    );
    assert!(out.contains("login-update.evil-corp.test\tIntel::DOMAIN\tindicator--"));
    assert!(out.contains("\thttps://hub.example/ui/objects/indicator--"));
    let e = err(&o);
    // The temporal pattern is reported with its reason, on stderr and in the file's head.
    assert!(e.contains("not expressible: indicator--1c4d6604-b86f-53e2-a40a-35649a487c9e: [ipv4-addr:value = '45.155.205.12'] REPEATS 5 TIMES WITHIN 60 SECONDS: REPEATS, WITHIN is a temporal qualifier"), "{e}");
    assert!(out.contains("# not expressible: indicator--1c4d6604-b86f-53e2-a40a-35649a487c9e"));
    assert!(e.contains("not active (revoked): 1 indicators"), "{e}");
    // Built-in warninglists are on by default, as for `match`.
    assert!(!out.contains("www.example.com\t"));
    assert!(
        e.contains("suppressed: indicator--1e31a583-ccd8-556e-967d-72651dee1782"),
        "{e}"
    );
    let o = run(
        &data,
        &[
            "export",
            "--format",
            "zeek-intel",
            "--at",
            AT,
            "--no-warninglists",
        ],
    );
    assert!(common::ok(&o).contains("www.example.com\tIntel::DOMAIN"));
}

#[test]
fn min_confidence_and_the_instant_select() {
    let (_d, data) = store();
    let csv = |args: &[&str]| {
        let mut a = vec!["export", "--format", "csv"];
        a.extend_from_slice(args);
        common::ok(&run(&data, &a))
    };
    let all = csv(&["--at", AT]);
    assert!(all.contains("low.evil-corp.test,domain-name:value"));
    assert!(!csv(&["--at", AT, "--min-confidence", "50"]).contains("low.evil-corp.test"));
    // valid_until 2026-01-01: exported before it, not after; valid_from 2027-06-01: the reverse.
    assert!(csv(&["--at", "2025-12-31T00:00:00Z"]).contains("expired.evil-corp.test"));
    assert!(!all.contains("expired.evil-corp.test"));
    assert!(!all.contains("future.evil-corp.test"));
    assert!(csv(&["--at", "2027-07-01T00:00:00Z"]).contains("future.evil-corp.test"));
}

#[test]
fn file_output_and_directory_formats() {
    let (dir, data) = store();
    let f = dir.path().join("iocs.csv");
    let o = run(
        &data,
        &[
            "export",
            "--format",
            "csv",
            "--at",
            AT,
            "-o",
            f.to_str().expect("p"),
        ],
    );
    assert!(common::ok(&o).is_empty());
    let text = std::fs::read_to_string(&f).expect("csv");
    assert!(
        text.contains("\nvalue,type,indicator_id,name,confidence,valid_until,indicates,score\n")
    );
    assert!(text.contains("T1566.001 Spearphishing Attachment; G0032 Lazarus Group"));

    // suricata-datasets needs a directory.
    let o = run(
        &data,
        &["export", "--format", "suricata-datasets", "--at", AT],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("-o DIR"));
    let ds = dir.path().join("suricata");
    common::ok(&run(
        &data,
        &[
            "export",
            "--format",
            "suricata-datasets",
            "--at",
            AT,
            "--sid-start",
            "1900000",
            "-o",
            ds.to_str().expect("p"),
        ],
    ));
    let rules = std::fs::read_to_string(ds.join("sightline.rules")).expect("rules");
    assert!(rules.contains("dataset:isset,sl-domains, type string, load sl-domains.lst;"));
    for sid in rules.lines().filter_map(|l| l.split("sid:").nth(1)) {
        let n: u32 = sid
            .split(';')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("sid");
        assert!((1_900_000..=1_999_999).contains(&n), "{n}");
    }
    let domains = std::fs::read_to_string(ds.join("sl-domains.lst")).expect("set");
    // base64("login-update.evil-corp.test")
    assert!(
        domains.contains("bG9naW4tdXBkYXRlLmV2aWwtY29ycC50ZXN0\n"),
        "{domains}"
    );
    assert!(ds.join("sl-md5.txt").is_file());

    // Sigma: one file per rule; a later export replaces the directory whole,
    // so the rule of an indicator that went inactive does not linger.
    let sg = dir.path().join("sigma");
    common::ok(&run(
        &data,
        &[
            "export",
            "--format",
            "sigma",
            "--at",
            AT,
            "-o",
            sg.to_str().expect("p"),
        ],
    ));
    let names = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = names(&sg);
    assert!(before.contains(&"sightline-report.txt".to_owned()));
    common::ok(&run(
        &data,
        &[
            "export",
            "--format",
            "sigma",
            "--at",
            AT,
            "--min-confidence",
            "80",
            "-o",
            sg.to_str().expect("p"),
        ],
    ));
    let after = names(&sg);
    assert!(after.len() < before.len(), "{before:?} -> {after:?}");
    assert!(after.iter().all(|n| before.contains(n)));
    // Standard output: one multi-document stream.
    let s = common::ok(&run(&data, &["export", "--format", "sigma", "--at", AT]));
    assert!(s.matches("\n---\n").count() >= 10, "{s}");
    // ... or in a file named .yml/.yaml.
    let f = dir.path().join("rules.yml");
    common::ok(&run(
        &data,
        &[
            "export",
            "--format",
            "sigma",
            "--at",
            AT,
            "-o",
            f.to_str().expect("p"),
        ],
    ));
    assert_eq!(std::fs::read_to_string(&f).expect("stream"), s);

    // A directory that no export wrote is not replaced.
    let foreign = dir.path().join("etc");
    std::fs::create_dir(&foreign).expect("mkdir");
    std::fs::write(foreign.join("suricata.yaml"), "keep").expect("write");
    let o = run(
        &data,
        &[
            "export",
            "--format",
            "sigma",
            "-o",
            foreign.to_str().expect("p"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(foreign.join("suricata.yaml")).expect("kept"),
        "keep"
    );
}

#[test]
fn stix_stays_the_default_and_flags_belong_to_their_formats() {
    let (_d, data) = store();
    let o = run(&data, &["export", "--type", "indicator"]);
    let v: serde_json::Value = serde_json::from_str(&common::ok(&o)).expect("bundle");
    assert_eq!(v["type"], "bundle");
    assert_eq!(v["objects"].as_array().map(Vec::len), Some(42));
    let o = run(&data, &["export", "--min-confidence", "50"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--min-confidence applies to the sensor formats"));
    let o = run(&data, &["export", "--format", "csv", "--type", "indicator"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(
        &data,
        &["export", "--format", "csv", "--collection", "nope"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no such collection"));
}

/// Issue 16 §1: below the revoke threshold an indicator is inactive
/// everywhere: what the indicator lifecycle says is not active (here: a
/// false-positive verdict) is left out of a sensor export by default (and
/// with a bare `--lifecycle`), and the header says why; with `--lifecycle
/// off` the STIX validity rules alone decide. The score is a CSV column
/// either way.
#[test]
fn lifecycle_leaves_judged_indicators_out_of_sensor_exports() {
    let (_dir, data) = store();
    let run = |args: &[&str]| common::sightline(&common::data(&data), args, None);
    // Fixtures valid from 2026-03-01, on 2026-03-10 still active by the
    // built-in decay; the verdict below is in force from now on (wall time),
    // so it is judged at a later --at.
    let csv = |extra: &[&str]| -> String {
        let mut args = vec!["export", "--format", "csv"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let rows = |text: &str| -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.contains('"'))
            .filter_map(|l| {
                let id = l.split(',').find(|c| c.starts_with("indicator--"))?;
                Some((id.to_owned(), l.rsplit(',').next()?.to_owned()))
            })
            .collect()
    };
    let exported = |text: &str| -> Vec<String> { rows(text).into_iter().map(|r| r.0).collect() };
    let early = csv(&["--at", "2026-03-10T00:00:00Z"]);
    let (id, score) = rows(&early)
        .into_iter()
        .next()
        .expect("an active indicator");
    // The score column: a whole number, at most the confidence (75 or 90).
    assert!(
        score.parse::<u8>().is_ok_and(|s| (30..=90).contains(&s)),
        "{score}"
    );
    let o = run(&["verdict", &id, "false-positive", "--analyst", "Ann"]);
    assert!(o.status.success(), "{o:?}");
    let later = "2099-01-01T00:00:00Z";
    let off = csv(&["--lifecycle", "off", "--at", later]);
    assert!(
        exported(&off).contains(&id),
        "with --lifecycle off the verdict (and the decay) do not filter"
    );
    for flags in [
        &["--at", later][..],
        &["--lifecycle", "--at", later],
        &["--lifecycle", "on", "--at", later],
    ] {
        let after = csv(flags);
        assert!(!exported(&after).contains(&id), "{flags:?}: {after}");
        assert!(after.contains("not active (lifecycle: revoked)"), "{after}");
    }
    let o = run(&["export", "--format", "csv", "--lifecycle", "maybe"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
