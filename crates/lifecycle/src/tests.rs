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
    verdict_by(at, v, "identity--a0000000-0000-4000-8000-00000000a11c")
}

fn verdict_by(at: &str, v: Verdict, analyst: &str) -> Event {
    Event {
        at_us: us(at),
        kind: EventKind::Verdict(v, Analyst::of(Some(analyst))),
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

const ANA: &str = "identity--a0000000-0000-4000-8000-0000000000a1";
const BO: &str = "identity--b0000000-0000-4000-8000-0000000000b2";

fn with_conflict(rule: VerdictConflict) -> Evaluator {
    Evaluator::new(&LifecycleConfig {
        verdict_conflict: rule,
        ..LifecycleConfig::default()
    })
    .expect("valid")
}

/// Issue 16 §4: two analysts disagreeing are both kept; which verdict is in
/// force is `verdict_conflict`: the latest by default, or the named verdict
/// while some analyst's own latest verdict is it. An analyst who changes
/// their mind overrules themselves under every rule.
#[test]
fn verdict_conflict_rules() {
    use Verdict::{Benign, FalsePositive as Fp, TruePositive as Tp};
    use VerdictConflict::{FalsePositiveWins, Latest, TruePositiveWins};
    let at = us("2026-01-11T00:00:00Z");
    // (what, history, verdict in force by latest / fp-wins / tp-wins)
    type Case = (&'static str, Vec<Event>, [Option<Verdict>; 3]);
    let cases: [Case; 5] = [
        (
            "Ana true positive, then Bo false positive",
            vec![
                verdict_by("2026-01-05T00:00:00Z", Tp, ANA),
                verdict_by("2026-01-06T00:00:00Z", Fp, BO),
            ],
            [Some(Fp), Some(Fp), Some(Tp)],
        ),
        (
            "Ana false positive, then Bo true positive",
            vec![
                verdict_by("2026-01-05T00:00:00Z", Fp, ANA),
                verdict_by("2026-01-06T00:00:00Z", Tp, BO),
            ],
            [Some(Tp), Some(Fp), Some(Tp)],
        ),
        (
            "Ana false positive, Bo benign, Ana then true positive",
            vec![
                verdict_by("2026-01-05T00:00:00Z", Fp, ANA),
                verdict_by("2026-01-06T00:00:00Z", Benign, BO),
                verdict_by("2026-01-07T00:00:00Z", Tp, ANA),
            ],
            // Ana no longer says false positive: the latest (Ana's) stands.
            [Some(Tp), Some(Tp), Some(Tp)],
        ),
        (
            "one analyst changing their mind",
            vec![
                verdict_by("2026-01-05T00:00:00Z", Tp, ANA),
                verdict_by("2026-01-06T00:00:00Z", Fp, ANA),
            ],
            [Some(Fp), Some(Fp), Some(Fp)],
        ),
        (
            "a verdict after the evaluated time does not count yet",
            vec![
                verdict_by("2026-01-05T00:00:00Z", Fp, ANA),
                verdict_by("2026-01-20T00:00:00Z", Tp, BO),
            ],
            [Some(Fp), Some(Fp), Some(Fp)],
        ),
    ];
    for (what, events, want) in &cases {
        for (rule, want) in [Latest, FalsePositiveWins, TruePositiveWins]
            .into_iter()
            .zip(want)
        {
            let e = with_conflict(rule);
            assert_eq!(
                e.verdict_in_force(events, at),
                *want,
                "{what}: {}",
                rule.as_str()
            );
        }
    }
    // The rule reaches the score: Ana's true positive (renewing on 01-05),
    // Bo's false positive on 01-06.
    let ind = ip_indicator(Some(80));
    let events = &cases[0].1;
    let s = score_at(
        &with_conflict(TruePositiveWins),
        &ind,
        events,
        "2026-01-11T00:00:00Z",
    );
    let six_days = 80.0 * (1.0 - (6.0f64 / 47.0).powf(1.0 / 1.65));
    assert!(close(s.value, six_days), "{}", s.value);
    assert_eq!(s.state, State::Active);
    let s = score_at(&eval(), &ind, events, "2026-01-11T00:00:00Z");
    assert_eq!(s.reason, Reason::Verdict(Fp));
}

/// `verdict_conflict` in TOML: the three words, `latest` when absent, and a
/// bad value refused naming the field.
#[test]
fn verdict_conflict_from_toml() {
    assert_eq!(
        parse_config("[lifecycle]\n").verdict_conflict,
        VerdictConflict::Latest
    );
    for rule in [
        VerdictConflict::Latest,
        VerdictConflict::FalsePositiveWins,
        VerdictConflict::TruePositiveWins,
    ] {
        let c = parse_config(&format!(
            "[lifecycle]\nverdict_conflict = \"{}\"\n",
            rule.as_str()
        ));
        assert_eq!(c.verdict_conflict, rule);
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct File {
        lifecycle: LifecycleConfig,
    }
    let err = match toml::from_str::<File>("[lifecycle]\nverdict_conflict = \"loudest\"\n") {
        Err(e) => e.to_string(),
        Ok(f) => panic!("accepted {f:?}"),
    };
    assert!(
        err.contains("verdict_conflict") && err.contains("loudest") && err.contains("latest"),
        "{err}"
    );
}

fn days_after(from: i64, days: f64) -> i64 {
    from + (days * 86_400_000_000.0) as i64
}

/// The worked example's indicator (confidence 80, rule ip: active for
/// 47 * (1 - 30/80)^1.65 = 21.64 days after its clock starts).
fn active_days() -> f64 {
    47.0 * 0.625f64.powf(1.65)
}

fn windows_of(e: &Evaluator, extra: Value, events: &[Event]) -> Vec<(i64, i64)> {
    let mut ind = ip_indicator(Some(80));
    if let (Some(o), Some(x)) = (ind.as_object_mut(), extra.as_object()) {
        o.extend(x.clone());
    }
    let s = e.subject(&ind).expect("well formed");
    e.active_windows(&s, events)
}

fn near(a: i64, b: i64) -> bool {
    // Within a second: the windows are computed to the µs from f64 days.
    (a - b).abs() < 1_000_000
}

/// Issue 16 §3, event time: an indicator is active for an event only if it
/// was active at that event's own time. Worked examples (confidence 80,
/// valid from 2026-01-01, rule ip):
///
/// | history | windows |
/// |---|---|
/// | none | 01-01 .. 01-22.64 |
/// | trusted sighting 02-01 (after the lapse) | 01-01 .. 01-22.64, 02-01 .. 02-22.64 |
/// | trusted sighting 01-15 (while active) | 01-01 .. 02-05.64 (one window) |
/// | the same 02-01, `renew = "slow"`, factor 2 | 01-01 .. 01-22.64, 02-01 .. 02-08.14 |
/// | false positive 01-05, true positive 01-10 (latest) | 01-01 .. 01-31.64 |
/// | true positive 01-10, false positive 01-20 | none: the verdict in force judges every event |
/// | `valid_until` 01-20, sighting 02-01 | 01-01 .. 01-20 |
#[test]
fn event_time_activity_is_piecewise() {
    let e = eval();
    let from = us("2026-01-01T00:00:00Z");
    let feb1 = us("2026-02-01T00:00:00Z");
    let one = windows_of(&e, json!({}), &[]);
    assert_eq!(one.len(), 1);
    assert!(near(one[0].1, days_after(from, active_days())), "{one:?}");

    // A lapse, then a renewal: events in the lapse do not match.
    let lapse = [sighting("2026-02-01T00:00:00Z", true)];
    let w = windows_of(&e, json!({}), &lapse);
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0].0, from);
    assert!(near(w[0].1, days_after(from, active_days())));
    assert_eq!(w[1].0, feb1);
    assert!(near(w[1].1, days_after(feb1, active_days())));
    for (day, active) in [
        ("2026-01-10T00:00:00Z", true),
        ("2026-01-25T00:00:00Z", false),
        ("2026-01-31T23:59:59Z", false),
        ("2026-02-01T00:00:00Z", true),
        ("2026-02-05T00:00:00Z", true),
        ("2026-02-25T00:00:00Z", false),
        ("2025-12-31T00:00:00Z", false),
    ] {
        assert_eq!(Evaluator::active_at(&w, us(day)), active, "{day}");
    }
    // The single window (wall time's view) covered the lapse.
    let renewed = e.renew(
        e.subject(&ip_indicator(Some(80))).expect("ok"),
        &lapse,
        i64::MAX,
    );
    let hull = e.active_window(&renewed).expect("active");
    assert!(hull.0 <= us("2026-01-25T00:00:00Z") && us("2026-01-25T00:00:00Z") < hull.1);

    // A renewal while active extends the one window.
    let w = windows_of(&e, json!({}), &[sighting("2026-01-15T00:00:00Z", true)]);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(near(
        w[0].1,
        days_after(us("2026-01-15T00:00:00Z"), active_days())
    ));
    // An untrusted sighting renews nothing.
    assert_eq!(
        windows_of(&e, json!({}), &[sighting("2026-02-01T00:00:00Z", false)]),
        one
    );

    // Slow: the age on 02-01 (31 days) halved, the clock at 01-17.5.
    let slow = Evaluator::new(&LifecycleConfig {
        renew: Renew::Slow,
        slow_factor: 2.0,
        ..LifecycleConfig::default()
    })
    .expect("valid");
    let w = windows_of(&slow, json!({}), &lapse);
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[1].0, feb1);
    assert!(
        near(w[1].1, days_after(from, 15.5 + active_days())),
        "{w:?}"
    );

    // A false positive overruled by a later true positive (which renews).
    let w = windows_of(
        &e,
        json!({}),
        &[
            verdict_at("2026-01-05T00:00:00Z", Verdict::FalsePositive),
            verdict_at("2026-01-10T00:00:00Z", Verdict::TruePositive),
        ],
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(near(
        w[0].1,
        days_after(us("2026-01-10T00:00:00Z"), active_days())
    ));
    // The verdict in force now is a false positive: no window at all.
    assert!(windows_of(
        &e,
        json!({}),
        &[
            verdict_at("2026-01-10T00:00:00Z", Verdict::TruePositive),
            verdict_at("2026-01-20T00:00:00Z", Verdict::FalsePositive),
        ],
    )
    .is_empty());

    // valid_until cuts, and a renewal after it opens nothing.
    let w = windows_of(&e, json!({"valid_until": "2026-01-20T00:00:00Z"}), &lapse);
    assert_eq!(w, [(from, us("2026-01-20T00:00:00Z"))]);
    // Below the threshold, or revoked: never.
    assert!(windows_of(&e, json!({"confidence": 25}), &lapse).is_empty());
    assert!(windows_of(&e, json!({"revoked": true}), &[]).is_empty());
}

/// The windows and the score agree at every instant for histories of
/// sightings (reset and slow renewals, trusted or not, before valid_from,
/// in and after lapses): an event at `t` is inside a window exactly when
/// the score at `t` with the history up to `t` is active.
#[test]
fn windows_agree_with_the_score() {
    let histories: Vec<Vec<Event>> = vec![
        vec![],
        vec![sighting("2025-12-20T00:00:00Z", true)],
        vec![sighting("2026-01-15T00:00:00Z", true)],
        vec![
            sighting("2026-01-10T00:00:00Z", true),
            sighting("2026-02-20T00:00:00Z", false),
            sighting("2026-03-01T00:00:00Z", true),
            sighting("2026-03-02T00:00:00Z", true),
            sighting("2026-04-20T00:00:00Z", true),
        ],
        vec![
            sighting("2026-01-30T00:00:00Z", true),
            sighting("2026-02-03T12:00:00Z", true),
        ],
    ];
    for renew in [Renew::Reset, Renew::Slow] {
        let e = Evaluator::new(&LifecycleConfig {
            renew,
            slow_factor: 3.0,
            ..LifecycleConfig::default()
        })
        .expect("valid");
        for confidence in [40, 80, 100] {
            let ind = ip_indicator(Some(confidence));
            let s = e.subject(&ind).expect("ok");
            for h in &histories {
                let w = e.active_windows(&s, h);
                let mut t = us("2025-12-25T00:00:00Z") + 1_234_567;
                while t < us("2026-06-01T00:00:00Z") {
                    let by_score = e.score(&e.renew(s, h, t), t).state == State::Active;
                    assert_eq!(
                        Evaluator::active_at(&w, t),
                        by_score,
                        "{renew:?} confidence {confidence} {h:?} at {t}: {w:?}"
                    );
                    t += 3_600_000_000;
                }
            }
        }
    }
}

/// Issue 16 §4: a score outside 0-100 anywhere a score is configured, a
/// lifetime of 0 or negative days: each refused naming the field, before
/// anything can be scored (the command line refuses the config before
/// opening the store: `tests/it/verdict.rs`).
#[test]
fn scores_outside_0_to_100_name_the_field() {
    let with = |f: &dyn Fn(&mut LifecycleConfig)| {
        let mut c = LifecycleConfig::default();
        f(&mut c);
        let field = field_of(&c);
        assert!(Evaluator::new(&c).is_err(), "{field}");
        field
    };
    assert_eq!(with(&|c| c.default_confidence = -0.5), "default_confidence");
    assert_eq!(with(&|c| c.active_threshold = 100.5), "active_threshold");
    assert_eq!(with(&|c| c.revoke_threshold = -1.0), "revoke_threshold");
    assert_eq!(with(&|c| c.revoke_threshold = f64::NAN), "revoke_threshold");
    assert_eq!(
        with(&|c| c.default_confidence = f64::INFINITY),
        "default_confidence"
    );
    // The second rule is named by its place.
    assert_eq!(
        with(&|c| c.rules[1].lifetime_days = 0.0),
        "rules[1].lifetime_days"
    );
    assert_eq!(
        with(&|c| c.rules[1].lifetime_days = -0.0),
        "rules[1].lifetime_days"
    );
    // An indicator's own confidence outside 0-100 names the indicator and
    // the field (`malformed_indicators_name_the_field` covers 101).
    let mut v = ip_indicator(None);
    v["confidence"] = json!(-1);
    match eval().subject(&v) {
        Err(LifecycleError::Indicator { field, .. }) => assert_eq!(field, "confidence"),
        other => panic!("{other:?}"),
    }
}
