//! The formats on a fixture set covering every mapped property and every
//! unexpressible case (`tests/golden/indicators.json`), against golden files
//! (`SIGHTLINE_BLESS=1 cargo nextest run -p sightline-export` rewrites them:
//! review the diff), plus the rules the goldens cannot show by themselves.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use sightline_export::{
    export, from_objects, lifecycle, Format, Indicator, Lifecycle, Options, Output, Scoring,
};
use sightline_lifecycle::bulk::Histories;
use sightline_lifecycle::{Evaluator, LifecycleConfig, State};

/// 2026-06-01T00:00:00Z: after every fixture's `valid_from` but the future one's.
const NOW: i64 = 1_780_272_000_000_000;
const BASE: &str = "https://sightline.example/";

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn fixtures() -> Vec<Indicator> {
    let text = std::fs::read_to_string(golden_dir().join("indicators.json")).expect("fixtures");
    let v: Value = serde_json::from_str(&text).expect("fixture JSON");
    let objects = v["objects"].as_array().expect("objects").clone();
    let loaded = from_objects(objects);
    assert!(loaded.unreadable.is_empty(), "{:?}", loaded.unreadable);
    loaded.indicators
}

fn id(key: &str) -> String {
    // The fixture generator's ids: UUIDv5 of the case key.
    let ns = uuid::Uuid::parse_str("3b0c4a5e-1111-4222-8333-444455556666").expect("ns");
    format!("indicator--{}", uuid::Uuid::new_v5(&ns, key.as_bytes()))
}

fn evaluator() -> Evaluator {
    Evaluator::new(&LifecycleConfig::default()).expect("built-in lifecycle rules")
}

/// The fixtures scored at NOW by the built-in lifecycle rules (no
/// sightings): the goldens show the CSV `score` and Suricata's
/// `sightline_score`; the filter is the STIX rules alone.
fn run(format: Format, lists: Option<&sightline_warninglist::WarningLists>) -> Output {
    let filter = Lifecycle {
        now: NOW,
        min_confidence: Some(50),
    };
    let opts = Options {
        base_url: Some(BASE),
        warninglists: lists,
        ..Options::default()
    };
    let mut inds = fixtures();
    lifecycle::score_with(&evaluator(), &mut inds, NOW, &Histories::default());
    export(format, &inds, &filter, &opts).expect("export")
}

fn text(out: &Output) -> String {
    let mut s = String::new();
    for (name, bytes) in &out.files {
        if !name.is_empty() {
            s.push_str(&format!("==> {name} <==\n"));
        }
        s.push_str(&String::from_utf8_lossy(bytes));
    }
    s
}

fn golden(format: Format) {
    let lists = sightline_warninglist::WarningLists::builtin();
    let got = text(&run(format, Some(&lists)));
    let path = golden_dir().join(format!("{}.out", format.name()));
    if std::env::var_os("SIGHTLINE_BLESS").is_some() {
        std::fs::write(&path, &got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "{} differs from the export (SIGHTLINE_BLESS=1 rewrites it):\n{got}",
        path.display()
    );
}

#[test]
fn golden_zeek_intel() {
    golden(Format::ZeekIntel);
}
#[test]
fn golden_suricata() {
    golden(Format::Suricata);
}
#[test]
fn golden_suricata_datasets() {
    golden(Format::SuricataDatasets);
}
#[test]
fn golden_sigma() {
    golden(Format::Sigma);
}
#[test]
fn golden_csv() {
    golden(Format::Csv);
}

/// Every fixture that no format carries whole is in every report with a
/// reason: nothing is dropped silently (issue 15 §2).
#[test]
fn unexpressible_parts_are_reported_by_every_format() {
    let always = [
        "temporal",
        "followedby",
        "obs-and",
        "not",
        "ne",
        "like",
        "matches",
        "and-props",
        "mixed-or",
        "mutex",
        "yara",
    ];
    for f in Format::ALL {
        let out = run(f, None);
        let reported: Vec<&str> = out
            .report
            .unexpressed
            .iter()
            .map(|u| u.indicator.as_str())
            .collect();
        for k in always {
            if f == Format::Csv && k == "mutex" {
                continue; // a CSV row carries any one value with its path
            }
            assert!(
                reported.contains(&id(k).as_str()),
                "{}: {k} not reported",
                f.name()
            );
        }
        let head = String::from_utf8_lossy(&out.files[0].1).into_owned();
        for u in &out.report.unexpressed {
            assert!(
                head.contains(&format!("not expressible: {}", u.indicator)),
                "{}: {u}",
                f.name()
            );
        }
        assert!(!out.report.unexpressed.iter().any(|u| u.reason.is_empty()));
    }
}

/// The mixed pattern: its exact half goes out, its temporal half is reported.
#[test]
fn an_or_keeps_its_expressible_half() {
    let out = run(Format::ZeekIntel, None);
    let s = text(&out);
    assert!(s.contains("mixed-or.evil-corp.test\tIntel::DOMAIN\t"));
    assert!(
        !s.contains("45.155.205.14\t"),
        "the WITHIN part must not be widened to a line"
    );
    let u = out
        .report
        .unexpressed
        .iter()
        .find(|u| u.indicator == id("mixed-or"))
        .expect("reported");
    assert!(u.reason.contains("WITHIN"), "{u}");
}

/// STIX 2.1 §4.7: not yet valid, expired (at `valid_until`), revoked and
/// below the floor stay out; counted by reason.
#[test]
fn only_active_indicators_go_out() {
    let out = run(Format::Csv, None);
    let s = text(&out);
    for k in ["revoked", "expired", "future", "low"] {
        assert!(!s.contains(&id(k)), "{k} exported");
    }
    let want: BTreeMap<String, usize> = [
        ("below the minimum confidence", 1),
        ("expired", 1),
        ("not yet valid", 1),
        ("revoked", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(out.report.inactive, want);
    // At valid_until exactly, an indicator is no longer valid.
    let ind = fixtures()
        .into_iter()
        .find(|i| i.id == id("expired"))
        .expect("fixture");
    let at = Lifecycle {
        now: ind.valid_until.expect("until"),
        min_confidence: None,
    };
    assert_eq!(
        sightline_export::ActiveFilter::inactive(&at, &ind),
        Some(sightline_export::Inactive::Expired)
    );
    let before = Lifecycle {
        now: ind.valid_until.expect("until") - 1,
        min_confidence: None,
    };
    assert_eq!(
        sightline_export::ActiveFilter::inactive(&before, &ind),
        None
    );
}

/// A closure is a filter: the lifecycle service can plug in later.
#[test]
fn a_closure_is_a_filter() {
    let only_domain = |i: &Indicator| {
        (i.id != id("domain")).then(|| sightline_export::Inactive::Other("score below 40".into()))
    };
    let out = export(Format::Csv, &fixtures(), &only_domain, &Options::default()).expect("export");
    assert_eq!(out.report.exported, 1);
    assert_eq!(
        out.report.inactive.get("score below 40"),
        Some(&(fixtures().len() - 1))
    );
}

/// A value on an enabled warninglist is left out and reported; the other
/// alternative of the same indicator goes out.
#[test]
fn warninglisted_values_are_suppressed_and_reported() {
    let lists = sightline_warninglist::WarningLists::builtin();
    let out = run(Format::ZeekIntel, Some(&lists));
    let s = text(&out);
    assert!(!s.contains("www.example.com\t"));
    assert!(s.contains("unlisted.evil-corp.test\tIntel::DOMAIN"));
    assert!(out
        .report
        .suppressed
        .iter()
        .any(|u| u.indicator == id("listed") && u.reason.contains("www.example.com")));
    assert!(s.contains("# suppressed: "));
    let without = text(&run(Format::ZeekIntel, None));
    assert!(without.contains("www.example.com\tIntel::DOMAIN"));
}

/// Digest §1.2: TAB, newline and backslash as `\xHH`, a lone `-` as `\x2d`,
/// a leading `#` as `\x23`, an absent name as `-`.
#[test]
fn zeek_fields_are_escaped() {
    let s = text(&run(Format::ZeekIntel, None));
    assert!(s.contains("\\x23tab\\x09here\tIntel::FILE_NAME\t"), "{s}");
    assert!(s.contains("Weird\\x09name\\x0awith lines\t"));
    assert!(s.contains("invoice\\x5c2026.pdf.exe\tIntel::FILE_NAME"));
    assert!(s.contains("\n\\x2d\tIntel::FILE_NAME\t"));
    for line in s.lines().filter(|l| !l.starts_with('#')) {
        assert_eq!(line.split('\t').count(), 5, "{line:?}");
    }
    // URL: no scheme, host lower case, port kept when not 80, `/` for an empty path.
    assert!(s.contains("gate.evil-corp.test:8080/p/gate.php?id=1;x=\"2\"\tIntel::URL"));
    assert!(s.contains("gate.evil-corp.test/\tIntel::URL"));
    assert!(s.contains(&format!(
        "\t{}\tC2 address\thttps://sightline.example/ui/objects/{}\n",
        id("ipv4"),
        id("ipv4")
    )));
}

fn sids(s: &str) -> BTreeMap<String, String> {
    s.lines()
        .filter(|l| l.starts_with("alert"))
        .map(|l| {
            let sid = l
                .split("sid:")
                .nth(1)
                .and_then(|r| r.split(';').next())
                .unwrap_or_default();
            let key = l.split(" sid:").next().unwrap_or_default();
            (key.to_owned(), sid.to_owned())
        })
        .collect()
}

/// SIDs are in the range, unique, and a rule keeps its SID when other
/// indicators come and go.
#[test]
fn suricata_sids_are_stable_and_in_range() {
    let all = fixtures();
    let opts = Options {
        sid_start: 1_900_000,
        sid_end: 1_999_999,
        ..Options::default()
    };
    let a = export(Format::Suricata, &all, &sightline_export::All, &opts).expect("export");
    let a = sids(&String::from_utf8_lossy(&a.files[0].1));
    let fewer: Vec<Indicator> = all
        .iter()
        .filter(|i| i.id != id("domain"))
        .cloned()
        .collect();
    let b = export(Format::Suricata, &fewer, &sightline_export::All, &opts).expect("export");
    let b = sids(&String::from_utf8_lossy(&b.files[0].1));
    assert!(b.len() < a.len());
    for (rule, sid) in &b {
        assert_eq!(a.get(rule), Some(sid), "{rule}");
        let n: u32 = sid.parse().expect("sid");
        assert!((1_900_000..=1_999_999).contains(&n));
    }
    let mut unique: Vec<&String> = a.values().collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), a.len());
    let tiny = Options {
        sid_start: 5,
        sid_end: 6,
        ..Options::default()
    };
    assert!(matches!(
        export(Format::Suricata, &all, &sightline_export::All, &tiny),
        Err(sightline_export::ExportError::SidRange { .. })
    ));
}

/// Sigma `id` is UUIDv5 of the indicator id; tags come from `indicates`
/// targets' ATT&CK ids and the mitre-attack kill chain phases.
#[test]
fn sigma_ids_and_tags() {
    let out = run(Format::Sigma, None);
    let id = id("domain");
    let want = uuid::Uuid::new_v5(&sightline_export::sigma::NAMESPACE, id.as_bytes());
    let (_, rule) = out
        .files
        .iter()
        .find(|(_, y)| String::from_utf8_lossy(y).contains(&format!("x_sightline_indicator: {id}")))
        .expect("rule");
    let rule = String::from_utf8_lossy(rule);
    assert!(rule.contains(&format!("id: {want}\n")), "{rule}");
    for t in ["attack.t1566.001", "attack.g0032", "attack.initial-access"] {
        assert!(rule.contains(&format!("    - {t}\n")), "{t}: {rule}");
    }
    assert!(rule.contains("query: 'login-update.evil-corp.test'"));
    // The sigma-language indicator is its own text.
    let own = out.files.iter().any(|(_, y)| {
        String::from_utf8_lossy(y).starts_with("title: Suspicious Certutil Download\n")
    });
    assert!(own);
    // Wildcards in values are escaped.
    let all = String::from_utf8_lossy(&sightline_export::sigma_stream(&out)).into_owned();
    assert!(
        all.contains("c-useragent: 'Mozilla/4.0 (compatible; Evil\\*Agent\\?)'"),
        "{all}"
    );
}

/// Issue 16 §1: the export builds the lifecycle's subject from the
/// indicator it read instead of re-reading the JSON; both must give the
/// same score and state (here at three instants, no history).
#[test]
fn subject_agrees_with_the_lifecycle_crate() {
    let text = std::fs::read_to_string(golden_dir().join("indicators.json")).expect("fixtures");
    let v: Value = serde_json::from_str(&text).expect("fixture JSON");
    let eval = evaluator();
    let inds = fixtures();
    let mut n = 0;
    for o in v["objects"].as_array().expect("objects") {
        if o["type"] != "indicator" {
            continue;
        }
        let ind = inds.iter().find(|i| i.id == o["id"]).expect("read");
        for now in [NOW - 200 * 86_400_000_000, NOW - 20 * 86_400_000_000, NOW] {
            let want = eval.evaluate(o, &[], now).expect("scores");
            let s = lifecycle::subject(&eval, ind).expect("subject");
            let got = eval.score(&s, now);
            assert_eq!(
                (got.rounded(), got.state),
                (want.rounded(), want.state),
                "{}",
                ind.id
            );
            n += 1;
        }
    }
    assert!(n > 60, "{n}");
}

/// Issue 16 §1: below the thresholds an indicator is inactive in exports;
/// `apply: false` (`--lifecycle off`) leaves the STIX rules alone to decide,
/// and the score is written either way (CSV `score`, last column).
#[test]
fn the_lifecycle_state_filters_and_the_score_is_written() {
    let mut inds = fixtures();
    // A year after NOW every fixture has decayed below the revoke threshold
    // (the slowest built-in rule lives 470 days from 2026-01-01).
    let later = NOW + 365 * 86_400_000_000;
    lifecycle::score_with(&evaluator(), &mut inds, later, &Histories::default());
    let decayed = inds
        .iter()
        .filter(|i| i.scored.is_some_and(|s| s.state != State::Active))
        .count();
    assert!(decayed > 0);
    let stix = Lifecycle {
        now: later,
        min_confidence: None,
    };
    let csv = |apply: bool| {
        let f = Scoring { stix, apply };
        export(Format::Csv, &inds, &f, &Options::default()).expect("export")
    };
    let on = csv(true);
    let off = csv(false);
    assert!(on.report.exported < off.report.exported);
    assert!(on
        .report
        .inactive
        .keys()
        .any(|k| k.starts_with("lifecycle: ")));
    assert!(!off
        .report
        .inactive
        .keys()
        .any(|k| k.starts_with("lifecycle: ")));
    let body = String::from_utf8_lossy(&off.files[0].1).into_owned();
    assert!(
        body.contains("\nvalue,type,indicator_id,name,confidence,valid_until,indicates,score\n")
    );
    // Every row ends with the indicator's score.
    // (Rows without quoted fields: a quoted one may span lines.)
    let rows = body
        .lines()
        .filter(|l| l.contains(",indicator--") && !l.contains('"'));
    for line in rows {
        let id = line
            .split(',')
            .find(|c| c.starts_with("indicator--"))
            .expect("id");
        let ind = inds.iter().find(|i| i.id == id).expect("indicator");
        let want = ind.scored.map(|s| s.score.to_string()).unwrap_or_default();
        assert!(line.ends_with(&format!(",{want}")), "{line}");
    }
}

/// The export of many indicators is cut into slices formatted on threads
/// and joined: the output must be that of one thread, byte for byte.
#[test]
fn threads_do_not_change_the_output() {
    let base = fixtures();
    // Copies with ids kept apart and in order, so each thread gets several
    // kinds of pattern.
    let mut many = Vec::new();
    for k in 0..40 {
        for ind in &base {
            let mut c = ind.clone();
            c.id = format!("{}-{k:04}", ind.id);
            many.push(c);
        }
    }
    many.sort_by(|a, b| a.id.cmp(&b.id));
    let filter = Lifecycle {
        now: NOW,
        min_confidence: Some(50),
    };
    let lists = sightline_warninglist::WarningLists::builtin();
    for format in Format::ALL {
        let with = |threads| {
            let opts = Options {
                warninglists: Some(&lists),
                threads,
                ..Options::default()
            };
            export(format, &many, &filter, &opts).expect("export")
        };
        let one = with(1);
        assert!(one.report.items > 400, "{}", format.name());
        assert!(one == with(3), "{}", format.name());
    }
}

/// STIX 2.1 §3.6: of several versions of one indicator, the one with the
/// latest `modified` goes out, whatever order they come in.
#[test]
fn the_latest_version_of_an_indicator_is_kept() {
    let version = |modified: &str, name: &str| {
        serde_json::json!({"type": "indicator", "spec_version": "2.1",
            "id": "indicator--00000000-0000-4000-8000-000000000001",
            "created": "2026-01-01T00:00:00Z", "modified": modified, "name": name,
            "pattern": "[domain-name:value = 'a.test']", "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z"})
    };
    for objects in [
        vec![
            version("2026-01-03T00:00:00Z", "new"),
            version("2026-01-02T00:00:00Z", "old"),
        ],
        vec![
            version("2026-01-02T00:00:00Z", "old"),
            version("2026-01-03T00:00:00Z", "new"),
        ],
    ] {
        let loaded = from_objects(objects);
        let names: Vec<_> = loaded.indicators.iter().map(|i| i.name.clone()).collect();
        assert_eq!(names, [Some("new".to_owned())]);
    }
}
