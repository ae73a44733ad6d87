//! The formula against the worked example of the crate docs, the
//! configuration's checks, and verdicts as STIX opinions in a store.

use serde_json::{json, Value};
use sightline_store::{
    CollectionInfo, CollectionStore, MemoryStore, NewObject, ObjectReader, ObjectWriter,
};

use crate::verdict::{self, Target};
use crate::*;

fn us(t: &str) -> i64 {
    match sightline_stix::Timestamp::parse(t) {
        Ok(t) => t.micros(),
        Err(e) => panic!("test timestamp {t}: {e}"),
    }
}

fn ip_indicator(confidence: Option<u8>) -> Value {
    let mut v = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2025-12-20T00:00:00.000Z", "modified": "2025-12-20T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    });
    if let Some(c) = confidence {
        v["confidence"] = json!(c);
    }
    v
}

fn eval() -> Evaluator {
    Evaluator::new(&LifecycleConfig::default()).expect("defaults are valid")
}

fn score_at(e: &Evaluator, ind: &Value, events: &[Event], at: &str) -> Score {
    e.evaluate(ind, events, us(at))
        .expect("indicator is well formed")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

/// The crate docs' worked example, row by row.
#[test]
fn worked_example() {
    let e = eval();
    let ind = ip_indicator(Some(80));
    for (at, value, state) in [
        ("2026-01-01T00:00:00Z", 80.00, State::Active),
        ("2026-01-11T00:00:00Z", 48.68, State::Active),
        ("2026-01-21T00:00:00Z", 32.33, State::Active),
        ("2026-01-26T00:00:00Z", 25.43, State::Inactive),
        ("2026-01-31T00:00:00Z", 19.06, State::Revoked),
        ("2026-02-17T00:00:00Z", 0.0, State::Revoked),
    ] {
        let s = score_at(&e, &ind, &[], at);
        assert!(close(s.value, value), "{at}: {} != {value}", s.value);
        assert_eq!(s.state, state, "{at}");
        match s.reason {
            Reason::Decay { rule, renewed, .. } => {
                assert_eq!(e.rule_name(rule), "ip");
                assert!(!renewed);
            }
            r => panic!("{at}: reason {r:?}"),
        }
    }
    // Without confidence: the default base, 50.
    let s = score_at(&e, &ip_indicator(None), &[], "2026-01-11T00:00:00Z");
    assert!(close(s.value, 30.43), "{}", s.value);
}

fn sighting(at: &str, trusted: bool) -> Event {
    Event {
        at_us: us(at),
        kind: EventKind::Sighting { trusted },
    }
}

fn verdict_at(at: &str, v: Verdict) -> Event {
    Event {
        at_us: us(at),
        kind: EventKind::Verdict(v),
    }
}

#[test]
fn a_trusted_sighting_resets_or_slows_the_clock() {
    let ind = ip_indicator(Some(80));
    let events = [sighting("2026-01-21T00:00:00Z", true)];
    let s = score_at(&eval(), &ind, &events, "2026-01-31T00:00:00Z");
    assert!(close(s.value, 48.68), "{}", s.value);
    assert_eq!(s.state, State::Active);
    assert!(matches!(s.reason, Reason::Decay { renewed: true, .. }));
    // An untrusted sensor's sighting changes nothing.
    let s = score_at(
        &eval(),
        &ind,
        &[sighting("2026-01-21T00:00:00Z", false)],
        "2026-01-31T00:00:00Z",
    );
    assert!(close(s.value, 19.06), "{}", s.value);
    // Slow, factor 2: age 20 days becomes 10 on 2026-01-21, 20 on 2026-01-31.
    let slow = Evaluator::new(&LifecycleConfig {
        renew: Renew::Slow,
        slow_factor: 2.0,
        ..LifecycleConfig::default()
    })
    .expect("valid");
    let s = score_at(&slow, &ind, &events, "2026-01-31T00:00:00Z");
    assert!(close(s.value, 32.33), "{}", s.value);
}

/// Issue 16 §3: event time for a historical log, wall time for live data.
/// The caller passes the time; events after it have not happened yet.
#[test]
fn evaluation_at_event_time_ignores_later_events() {
    let e = eval();
    let ind = ip_indicator(Some(80));
    let events = [
        sighting("2026-01-21T00:00:00Z", true),
        verdict_at("2026-01-25T00:00:00Z", Verdict::FalsePositive),
    ];
    // An event on 2026-01-11: neither the sighting nor the verdict yet.
    let s = score_at(&e, &ind, &events, "2026-01-11T00:00:00Z");
    assert!(close(s.value, 48.68), "{}", s.value);
    // On 2026-01-23: renewed two days earlier.
    let s = score_at(&e, &ind, &events, "2026-01-23T00:00:00Z");
    let two_days = 80.0 * (1.0 - (2.0f64 / 47.0).powf(1.0 / 1.65));
    assert!(close(s.value, two_days), "{}", s.value);
    // From the verdict on: revoked, whatever the curve.
    let s = score_at(&e, &ind, &events, "2026-01-25T00:00:00Z");
    assert_eq!(
        (s.value, s.state, s.reason),
        (0.0, State::Revoked, Reason::Verdict(Verdict::FalsePositive))
    );
    // Before valid_from: not valid yet.
    let s = score_at(&e, &ind, &events, "2025-12-31T00:00:00Z");
    assert_eq!((s.state, s.reason), (State::Inactive, Reason::NotYetValid));
}

#[test]
fn the_latest_verdict_wins_and_benign_is_configurable() {
    let ind = ip_indicator(Some(80));
    let at = "2026-01-11T00:00:00Z";
    let fp_then_tp = [
        verdict_at("2026-01-05T00:00:00Z", Verdict::FalsePositive),
        verdict_at("2026-01-06T00:00:00Z", Verdict::TruePositive),
    ];
    let s = score_at(&eval(), &ind, &fp_then_tp, at);
    // The true positive renewed the clock on 2026-01-06: 5 days old.
    assert!(close(
        s.value,
        80.0 * (1.0 - (5.0f64 / 47.0).powf(1.0 / 1.65))
    ));
    assert_eq!(s.state, State::Active);
    let benign = [verdict_at("2026-01-05T00:00:00Z", Verdict::Benign)];
    assert_eq!(score_at(&eval(), &ind, &benign, at).state, State::Revoked);
    let keep = Evaluator::new(&LifecycleConfig {
        benign: BenignEffect::Keep,
        ..LifecycleConfig::default()
    })
    .expect("valid");
    let s = score_at(&keep, &ind, &benign, at);
    assert!(close(s.value, 48.68), "{}", s.value);
}

#[test]
fn rules_by_main_observable_type() {
    let e = eval();
    let with = |pattern: &str, pattern_type: &str| {
        let mut v = ip_indicator(Some(100));
        v["pattern"] = json!(pattern);
        v["pattern_type"] = json!(pattern_type);
        let s = e.subject(&v).expect("well formed");
        e.rule_name(s.rule).to_owned()
    };
    assert_eq!(
        with("[domain-name:value = 'x.example']", "stix"),
        "domain-and-url"
    );
    assert_eq!(
        with("[url:value = 'http://x.example/a']", "stix"),
        "domain-and-url"
    );
    assert_eq!(
        with("[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'] AND [ipv4-addr:value = '1.2.3.4']", "stix"),
        "file"
    );
    assert_eq!(
        with(
            "([ipv6-addr:value = '::1' OR domain-name:value = 'a.b'])",
            "stix"
        ),
        "ip"
    );
    assert_eq!(with("[email-addr:value = 'a@b.c']", "stix"), "default");
    assert_eq!(with("alert tcp any any -> any any", "snort"), "default");
    assert_eq!(with("not a pattern [", "stix"), "default");
    // Half-lives: 100 → 50 after 15.0 days (ip), 70.0 (domain), 246.5 (file).
    for (pattern, days) in [
        ("[ipv4-addr:value = '1.2.3.4']", 15.0),
        ("[domain-name:value = 'a.example']", 70.0),
        ("[file:name = 'x']", 246.5),
    ] {
        let mut v = ip_indicator(Some(100));
        v["pattern"] = json!(pattern);
        let at = us("2026-01-01T00:00:00Z") + (days * 86_400e6) as i64;
        let s = e.evaluate(&v, &[], at).expect("well formed");
        assert!((s.value - 50.0).abs() < 0.1, "{pattern}: {}", s.value);
    }
}

#[test]
fn feed_defaults_revocation_and_expiry() {
    let mut cfg = LifecycleConfig::default();
    cfg.feeds.insert(
        "identity--5f3c6c66-8d5e-4a3c-9f0e-2a7a9a0d2f01".into(),
        FeedDefaults { confidence: 90.0 },
    );
    let e = Evaluator::new(&cfg).expect("valid");
    let mut v = ip_indicator(None);
    v["created_by_ref"] = json!("identity--5f3c6c66-8d5e-4a3c-9f0e-2a7a9a0d2f01");
    assert_eq!(e.subject(&v).expect("ok").base, 90.0);
    v["confidence"] = json!(10);
    assert_eq!(e.subject(&v).expect("ok").base, 10.0);
    let at = us("2026-01-02T00:00:00Z");
    let mut r = ip_indicator(Some(80));
    r["revoked"] = json!(true);
    assert_eq!(
        e.evaluate(&r, &[], at).expect("ok").reason,
        Reason::RevokedInStix
    );
    let mut x = ip_indicator(Some(80));
    x["valid_until"] = json!("2026-01-02T00:00:00Z");
    let s = e.evaluate(&x, &[], at).expect("ok");
    assert_eq!((s.state, s.reason), (State::Revoked, Reason::Expired));
    assert!(e.is_active(&ip_indicator(Some(80)), &[], at).expect("ok"));
    assert!(!e.is_active(&x, &[], at).expect("ok"));
}

#[test]
fn malformed_indicators_name_the_field() {
    let e = eval();
    for (field, value) in [
        ("confidence", json!(101)),
        ("confidence", json!("high")),
        ("valid_from", json!("yesterday")),
        ("valid_until", json!(5)),
    ] {
        let mut v = ip_indicator(Some(80));
        v[field] = value;
        match e.subject(&v) {
            Err(LifecycleError::Indicator { field: f, id, .. }) => {
                assert_eq!(f, field);
                assert_eq!(id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

fn parse_config(toml_text: &str) -> LifecycleConfig {
    #[derive(serde::Deserialize)]
    struct File {
        lifecycle: LifecycleConfig,
    }
    match toml::from_str::<File>(toml_text) {
        Ok(f) => f.lifecycle,
        Err(e) => panic!("{e}"),
    }
}

fn field_of(c: &LifecycleConfig) -> String {
    match c.validate() {
        Err(LifecycleError::Config { field, .. }) => field,
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn config_from_toml_with_defaults() {
    let c = parse_config(
        r#"
[lifecycle]
active_threshold = 40
trusted_sensors = ["identity--5f3c6c66-8d5e-4a3c-9f0e-2a7a9a0d2f01"]
renew = "slow"
slow_factor = 3

[lifecycle.feeds."identity--5f3c6c66-8d5e-4a3c-9f0e-2a7a9a0d2f02"]
confidence = 70

[[lifecycle.rules]]
name = "ip"
types = ["ipv4-addr"]
lifetime_days = 14
speed = 2
"#,
    );
    c.validate().expect("valid");
    assert_eq!(c.active_threshold, 40.0);
    assert_eq!(c.revoke_threshold, 20.0);
    assert_eq!(c.renew, Renew::Slow);
    assert_eq!(c.rules.len(), 1);
    let e = Evaluator::new(&c).expect("valid");
    // The built-in fallback is added when no rule has empty types.
    assert_eq!(e.rule_name(e.rule_for(Some("domain-name"))), "default");
    assert_eq!(e.rule_name(e.rule_for(Some("ipv4-addr"))), "ip");
    // An empty section is the defaults.
    assert_eq!(parse_config("[lifecycle]\n"), LifecycleConfig::default());
}

/// Issue 16 §4: a lifetime of 0 or negative, points outside 0-100,
/// thresholds inverted: each an error naming the field.
#[test]
fn bad_config_names_the_field() {
    let rule = |lifetime: f64, speed: f64| LifecycleConfig {
        rules: vec![DecayRule {
            name: "r".into(),
            types: vec![],
            lifetime_days: lifetime,
            speed,
        }],
        ..LifecycleConfig::default()
    };
    assert_eq!(field_of(&rule(0.0, 1.0)), "rules[0].lifetime_days");
    assert_eq!(field_of(&rule(-3.0, 1.0)), "rules[0].lifetime_days");
    assert_eq!(field_of(&rule(f64::NAN, 1.0)), "rules[0].lifetime_days");
    assert_eq!(field_of(&rule(10.0, 0.0)), "rules[0].speed");
    let with = |f: &dyn Fn(&mut LifecycleConfig)| {
        let mut c = LifecycleConfig::default();
        f(&mut c);
        field_of(&c)
    };
    assert_eq!(
        with(&|c| c.default_confidence = 101.0),
        "default_confidence"
    );
    assert_eq!(with(&|c| c.active_threshold = -1.0), "active_threshold");
    assert_eq!(
        with(&|c| {
            c.active_threshold = 20.0;
            c.revoke_threshold = 30.0;
        }),
        "revoke_threshold"
    );
    assert_eq!(with(&|c| c.slow_factor = 0.5), "slow_factor");
    assert_eq!(
        with(&|c| {
            c.feeds
                .insert("identity--x".into(), FeedDefaults { confidence: 150.0 });
        }),
        "feeds.identity--x.confidence"
    );
    assert_eq!(
        with(&|c| c.trusted_sensors = vec!["sensor-1".into()]),
        "trusted_sensors"
    );
    // From TOML too, and the message says what is wrong.
    let c = parse_config(
        "[lifecycle]\n[[lifecycle.rules]]\nname = \"x\"\nlifetime_days = -5\nspeed = 1\n",
    );
    let msg = match Evaluator::new(&c) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted a negative lifetime"),
    };
    assert!(
        msg.contains("rules[0].lifetime_days") && msg.contains("-5"),
        "{msg}"
    );
}

#[test]
fn bulk_path_equals_one_by_one() {
    let e = eval();
    let base = e.subject(&ip_indicator(Some(80))).expect("ok");
    let subjects: Vec<Subject> = (0..1000)
        .map(|i| Subject {
            base: f64::from(i % 101),
            clock_us: base.clock_us - i64::from(i) * 3_600_000_000,
            ..base
        })
        .collect();
    let now = us("2026-01-20T00:00:00Z");
    let mut out = Vec::with_capacity(subjects.len());
    e.score_all(&subjects, now, &mut out);
    for (s, got) in subjects.iter().zip(&out) {
        assert_eq!(*got, e.score(s, now));
    }
}

// --- verdicts in a store -------------------------------------------------

const IND: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const SIGHTING: &str = "sighting--1d8c3a4e-5b6f-4a7c-8d9e-0f1a2b3c4d5e";
const SENSOR: &str = "identity--5f3c6c66-8d5e-4a3c-9f0e-2a7a9a0d2f01";

fn put_all(store: &MemoryStore, objs: &[Value]) {
    let v = sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker));
    let mut txn = store.begin().expect("begin");
    for o in objs {
        let (meta, _) = v.admit(o).unwrap_or_else(|e| panic!("{o}: {e:?}"));
        txn.put(
            &NewObject {
                meta,
                raw: o.to_string(),
            },
            Some("c"),
        )
        .expect("put");
    }
    txn.commit().expect("commit");
}

fn store_with_sighting() -> MemoryStore {
    let store = MemoryStore::new();
    store
        .create_collection(&CollectionInfo {
            id: "2f1b0c4a-6b7e-4f35-9a0c-3d2e1f0a9b8c".into(),
            title: "c".into(),
            description: None,
            alias: Some("c".into()),
            media_types: vec![],
        })
        .expect("collection");
    let t = "2026-01-21T00:00:00.000Z";
    put_all(
        &store,
        &[
            ip_indicator(Some(80)),
            json!({"type": "identity", "spec_version": "2.1", "id": SENSOR,
                   "created": t, "modified": t, "name": "sensor-1", "identity_class": "system"}),
            json!({"type": "ipv4-addr", "spec_version": "2.1",
                   "id": "ipv4-addr--a3c8a7a1-6b3a-5a6b-8b0e-4c1b0e5f2d11", "value": "198.51.100.7"}),
            json!({"type": "ipv4-addr", "spec_version": "2.1",
                   "id": "ipv4-addr--b3c8a7a1-6b3a-5a6b-8b0e-4c1b0e5f2d12", "value": "10.0.0.5"}),
            json!({"type": "observed-data", "spec_version": "2.1",
                   "id": "observed-data--2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                   "created": t, "modified": t, "first_observed": t, "last_observed": t,
                   "number_observed": 1,
                   "object_refs": ["ipv4-addr--a3c8a7a1-6b3a-5a6b-8b0e-4c1b0e5f2d11",
                                   "ipv4-addr--b3c8a7a1-6b3a-5a6b-8b0e-4c1b0e5f2d12"]}),
            json!({"type": "sighting", "spec_version": "2.1", "id": SIGHTING,
                   "created": t, "modified": t, "first_seen": t, "last_seen": t, "count": 1,
                   "sighting_of_ref": IND, "where_sighted_refs": [SENSOR],
                   "observed_data_refs": ["observed-data--2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"]}),
        ],
    );
    store
}

/// STIX 2.1 §4.12: the opinion refers to the sighting and its indicator,
/// by the analyst's identity, with the verdict and the note.
#[test]
fn a_verdict_is_an_opinion_by_the_analysts_identity() {
    let store = store_with_sighting();
    let now = us("2026-01-25T00:00:00Z");
    let r = verdict::record(
        &store,
        "c",
        SIGHTING,
        Verdict::FalsePositive,
        "Ana Lyst",
        Some("our scanner"),
        now,
    )
    .expect("recorded");
    assert!(r.identity_created);
    assert_eq!(r.analyst, verdict::analyst_id("Ana Lyst"));
    let o = verdict::object(&store, &r.opinion).expect("stored");
    assert_eq!(o["opinion"], "strongly-disagree");
    assert_eq!(o["object_refs"], json!([SIGHTING, IND]));
    assert_eq!(o["created_by_ref"], json!(r.analyst));
    assert_eq!(o["x_sightline_verdict"], "false-positive");
    assert_eq!(o["explanation"], "our scanner");
    let who = verdict::object(&store, &r.analyst).expect("identity stored");
    assert_eq!(who["name"], "Ana Lyst");
    assert_eq!(who["identity_class"], "individual");
    // The same analyst again: no second identity.
    let again = verdict::record(
        &store,
        "c",
        IND,
        Verdict::TruePositive,
        "Ana Lyst",
        None,
        now + 1_000_000,
    )
    .expect("recorded");
    assert!(!again.identity_created);
    // The indicator's history has both verdicts, the latest in force.
    let cfg = LifecycleConfig {
        trusted_sensors: vec![SENSOR.into()],
        ..LifecycleConfig::default()
    };
    let h = verdict::history(&store, &cfg, IND).expect("history");
    assert_eq!(h.verdicts.len(), 2);
    assert!(
        !h.conflict(),
        "one analyst changing their mind is no conflict"
    );
    let e = Evaluator::new(&cfg).expect("valid");
    let ind = ip_indicator(Some(80));
    // Between the verdicts: false positive.
    let s = e.evaluate(&ind, &h.events, now).expect("ok");
    assert_eq!(s.reason, Reason::Verdict(Verdict::FalsePositive));
    let s = e.evaluate(&ind, &h.events, now + 2_000_000).expect("ok");
    assert_eq!(s.state, State::Active);
    // Before the verdicts, the trusted sighting of 2026-01-21 renewed it.
    let s = e
        .evaluate(&ind, &h.events, us("2026-01-24T00:00:00Z"))
        .expect("ok");
    assert!(
        matches!(s.reason, Reason::Decay { renewed: true, .. }),
        "{s:?}"
    );
}

#[test]
fn two_analysts_disagreeing_are_both_kept() {
    let store = store_with_sighting();
    let now = us("2026-01-25T00:00:00Z");
    verdict::record(
        &store,
        "c",
        SIGHTING,
        Verdict::TruePositive,
        "Ana",
        None,
        now,
    )
    .expect("recorded");
    verdict::record(
        &store,
        "c",
        SIGHTING,
        Verdict::FalsePositive,
        "Bo",
        None,
        now + 1,
    )
    .expect("recorded");
    let h = verdict::history(&store, &LifecycleConfig::default(), IND).expect("history");
    let kept: Vec<_> = h
        .verdicts
        .iter()
        .map(|v| (v.verdict, v.analyst_name.clone()))
        .collect();
    assert_eq!(
        kept,
        vec![
            (Verdict::TruePositive, Some("Ana".into())),
            (Verdict::FalsePositive, Some("Bo".into()))
        ]
    );
    assert!(h.conflict());
    let s = eval()
        .evaluate(&ip_indicator(Some(80)), &h.events, now + 10)
        .expect("ok");
    assert_eq!(s.reason, Reason::Verdict(Verdict::FalsePositive));
}

/// Issue 16 §4: verdicts on unknown ids, or on objects that are neither a
/// sighting nor an indicator, name the id and write nothing.
#[test]
fn bad_verdict_targets_write_nothing() {
    let store = store_with_sighting();
    let before = store.stats().expect("stats").versions;
    let unknown = "indicator--00000000-0000-4000-8000-000000000000";
    for (id, want) in [
        (unknown, unknown),
        (
            "sighting--00000000-0000-4000-8000-000000000001",
            "sighting--00000000-0000-4000-8000-000000000001",
        ),
        (SENSOR, "not a identity"),
        ("nonsense", "not a STIX id"),
    ] {
        let err =
            verdict::record(&store, "c", id, Verdict::Benign, "Ana", None, 0).expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains(id) && msg.contains(want), "{msg}");
    }
    for bad in ["", "  ", "a\u{7}b"] {
        let err =
            verdict::record(&store, "c", IND, Verdict::Benign, bad, None, 0).expect_err("refused");
        assert!(matches!(err, LifecycleError::Input { ref field, .. } if field == "analyst"));
    }
    assert_eq!(store.stats().expect("stats").versions, before);
}

#[test]
fn sighted_values_are_the_compared_values_only() {
    let store = store_with_sighting();
    let on_sighting = Target {
        indicator: IND.into(),
        sighting: Some(SIGHTING.into()),
    };
    // 10.0.0.5 is in the observed-data too, but the pattern does not name it.
    assert_eq!(
        verdict::sighted_values(&store, &on_sighting).expect("ok"),
        vec!["198.51.100.7".to_owned()]
    );
    let on_indicator = Target {
        indicator: IND.into(),
        sighting: None,
    };
    assert_eq!(
        verdict::sighted_values(&store, &on_indicator).expect("ok"),
        vec!["198.51.100.7".to_owned()]
    );
    let (list, added) = verdict::add_to_local_list(None, &["198.51.100.7".into()]);
    assert_eq!(added, 1);
    let (list, added) = verdict::add_to_local_list(Some(list), &["198.51.100.7".into()]);
    assert_eq!(added, 0);
    let w = sightline_warninglist::WarningLists::new([list]);
    assert_eq!(
        w.first(None, "198.51.100.7"),
        Some(verdict::LOCAL_LIST_NAME)
    );
}

#[test]
fn scan_agrees_with_the_parser() {
    for p in [
        "[ipv4-addr:value = '1.2.3.4']",
        "  ( [ domain-name:value = 'a.example'] OR [url:value = 'http://b/'])",
        "([file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] AND [ipv4-addr:value = '1.2.3.4']) WITHIN 60 SECONDS",
        "[ipv4-addr : value = '1.2.3.4']",
        "[EXISTS windows-registry-key:values]",
        "[x-custom-thing:value = 'a']",
        "[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8']",
    ] {
        assert_eq!(
            main_observable_type(p),
            parsed_main_observable_type(p),
            "{p}"
        );
        assert!(main_observable_type(p).is_some(), "{p}");
    }
}

/// `now` is the caller's: the far future or past must not overflow.
#[test]
fn extreme_times_do_not_overflow() {
    let e = eval();
    let mut v = ip_indicator(Some(80));
    v["valid_from"] = json!("0001-01-01T00:00:00Z");
    let s = e.evaluate(&v, &[], i64::MAX).expect("ok");
    assert_eq!((s.value, s.state), (0.0, State::Revoked));
    let s = e.evaluate(&v, &[], i64::MIN).expect("ok");
    assert_eq!(s.reason, Reason::NotYetValid);
}
