//! The compiled matcher against the reference evaluator (style.md invariant 4:
//! the indexed matcher and the reference evaluator agree on every test input),
//! plus its own behaviour: candidates, reasons, lifecycle, expiry.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::reference::evaluate;

const T0: i64 = 1_700_000_000_000_000;

fn obs_at(sec: i64, span: i64, n: u64, objects: Vec<Value>) -> Observation {
    Observation {
        id: Some(format!("observed-data--{sec}")),
        first_observed: T0 + sec * 1_000_000,
        last_observed: T0 + (sec + span) * 1_000_000,
        number_observed: n,
        objects: objects
            .into_iter()
            .enumerate()
            .map(|(i, o)| (i.to_string().into(), crate::Value::from(o)))
            .collect(),
    }
}

fn spec(id: &str, pattern: &str) -> IndicatorSpec {
    IndicatorSpec {
        id: id.to_owned(),
        name: format!("name of {id}"),
        pattern: pattern.to_owned(),
        valid_from: None,
        valid_until: None,
        revoked: false,
        lapses: Vec::new(),
    }
}

fn compile(specs: Vec<IndicatorSpec>) -> IndicatorSet {
    let (set, rejected) = IndicatorSet::compile(specs);
    assert!(rejected.is_empty(), "rejected: {rejected:?}");
    set
}

/// Indicators `i0`, `i1`, … with these patterns (all valid).
fn compile_patterns(patterns: &[String]) -> IndicatorSet {
    compile(
        patterns
            .iter()
            .enumerate()
            .map(|(i, p)| spec(&format!("i{i}"), p))
            .collect(),
    )
}

fn ids(m: &[Match]) -> Vec<String> {
    let mut v: Vec<String> = m.iter().map(|m| m.id.clone()).collect();
    v.sort();
    v
}

#[test]
fn index_kinds_and_reasons() {
    let set = compile(vec![
        spec("eq", "[ipv4-addr:value = '198.51.100.7']"),
        spec("cidr", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
        spec("v6", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
        spec("like", "[domain-name:value LIKE '%.evil.example']"),
        spec(
            "re",
            "[url:value MATCHES 'https?://[a-z]+\\\\.example/login']",
        ),
        spec("in", "[network-traffic:dst_port IN (4444, 31337)]"),
        spec("ne", "[domain-name:value != 'benign.example']"),
        spec(
            "ref",
            "[network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 443]",
        ),
    ]);
    let st = set.stats();
    assert_eq!(st.indicators, 8);
    assert_eq!(st.exact, 3, "{st:?}"); // eq, in, ref (AND picks an exact operand)
    assert_eq!(st.prefix, 2, "{st:?}");
    assert_eq!(st.literal, 2, "{st:?}");
    assert_eq!(st.residual, 1, "{st:?}");

    let mut m = Matcher::new();
    let o = obs_at(
        0,
        0,
        1,
        vec![json!({"type": "ipv4-addr", "value": "198.51.100.7"})],
    );
    let got = m.scan(&set, &o).to_vec();
    assert_eq!(ids(&got), ["cidr", "eq"]);
    let eq = got.iter().find(|x| x.id == "eq").expect("eq matched");
    assert_eq!(eq.name, "name of eq");
    assert_eq!(
        eq.reasons,
        vec![Reason {
            comparison: "ipv4-addr:value = '198.51.100.7'".into(),
            path: "ipv4-addr:value".into(),
            value: Some(crate::Value::from("198.51.100.7")),
        }]
    );
    let o = obs_at(
        0,
        0,
        1,
        vec![
            json!({"type": "domain-name", "value": "a.evil.example"}),
            json!({"type": "url", "value": "http://bank.example/login?x"}),
            json!({"type": "ipv6-addr", "value": "2001:db8::5"}),
        ],
    );
    assert_eq!(ids(m.scan(&set, &o)), ["like", "ne", "re", "v6"]);
    let o = obs_at(
        0,
        0,
        1,
        vec![
            json!({"type": "ipv4-addr", "value": "203.0.113.9"}),
            json!({"type": "network-traffic", "dst_ref": "0", "dst_port": 443}),
        ],
    );
    assert_eq!(ids(m.scan(&set, &o)), ["ref"]);
    let o = obs_at(
        0,
        0,
        1,
        vec![json!({"type": "network-traffic", "dst_port": 31337.0})],
    );
    assert_eq!(ids(m.scan(&set, &o)), ["in"]);
}

#[test]
fn lifecycle_revoked_invalid_and_replaced() {
    let mut a = spec("a", "[domain-name:value = 'x.example']");
    a.valid_from = Some(T0 + 10_000_000);
    a.valid_until = Some(T0 + 20_000_000);
    let mut r = spec("r", "[domain-name:value = 'x.example']");
    r.revoked = true;
    let old = spec("v", "[domain-name:value = 'old.example']");
    let new = spec("v", "[domain-name:value = 'x.example']");
    let bad = spec("bad", "[domain-name:value = ");
    let (set, rejected) = IndicatorSet::compile(vec![a, r, old, new, bad]);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].id, "bad");
    assert_eq!(set.stats().revoked, 1);
    assert_eq!(set.len(), 2);
    let dom = || vec![json!({"type": "domain-name", "value": "x.example"})];
    let mut m = Matcher::new();
    assert_eq!(ids(m.scan(&set, &obs_at(5, 0, 1, dom()))), ["v"]);
    assert_eq!(ids(m.scan(&set, &obs_at(10, 0, 1, dom()))), ["a", "v"]); // valid_from inclusive
    assert_eq!(ids(m.scan(&set, &obs_at(20, 0, 1, dom()))), ["v"]); // valid_until exclusive
}

/// Issue 16 §3: an indicator with a lapse (the lifecycle judged it inactive
/// between two active windows) takes no part for observations inside it,
/// single or multi-observation, and does on both sides.
#[test]
fn lapses_inside_the_validity_are_not_matched() {
    let mut a = spec("a", "[domain-name:value = 'x.example']");
    a.valid_from = Some(T0);
    a.valid_until = Some(T0 + 100_000_000);
    a.lapses = vec![
        (T0 + 60_000_000, T0 + 70_000_000),
        (T0 + 20_000_000, T0 + 30_000_000),
    ];
    let mut r = spec(
        "r",
        "[domain-name:value = 'x.example'] FOLLOWEDBY [domain-name:value = 'y.example']",
    );
    r.lapses = vec![(T0 + 20_000_000, T0 + 30_000_000)];
    let set = compile(vec![a, r]);
    let dom = |v: &str| vec![json!({"type": "domain-name", "value": v})];
    let mut m = Matcher::new();
    let mut at = |s: i64, v: &str| ids(m.scan(&set, &obs_at(s, 0, 1, dom(v))));
    let none: Vec<String> = Vec::new();
    assert_eq!(at(19, "x.example"), ["a"]);
    assert_eq!(at(20, "x.example"), none); // a lapse's start is in it
    assert_eq!(at(25, "y.example"), none); // r's second half, in its lapse
    assert_eq!(at(30, "y.example"), ["r"]); // a lapse's end is not in it
    assert_eq!(at(65, "x.example"), none); // a's other lapse (given out of order)
    assert_eq!(at(70, "x.example"), ["a"]);
    assert_eq!(at(100, "x.example"), none); // valid_until
}

#[test]
fn multi_observation_state_and_expiry() {
    let set = compile(vec![
        spec("w", "([ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [domain-name:value = 'x.example']) WITHIN 60 SECONDS"),
        spec("r", "[ipv4-addr:value = '1.1.1.1'] REPEATS 3 TIMES"),
    ]);
    let ip = || vec![json!({"type": "ipv4-addr", "value": "1.1.1.1"})];
    let dom = || vec![json!({"type": "domain-name", "value": "x.example"})];
    let mut m = Matcher::new();
    assert!(m.scan(&set, &obs_at(0, 0, 1, ip())).is_empty());
    assert!(m.scan(&set, &obs_at(1, 0, 1, ip())).is_empty());
    let got = m.scan(&set, &obs_at(30, 0, 1, dom())).to_vec();
    assert_eq!(ids(&got), ["w"]);
    assert_eq!(got[0].observations.len(), 2);
    assert_eq!(ids(m.scan(&set, &obs_at(40, 0, 2, ip()))), ["r"]);
    // 200 s later the window has passed: the IPs expire from "w"'s state.
    assert!(m.scan(&set, &obs_at(240, 0, 1, dom())).is_empty());
    for s in 300..400 {
        m.scan(&set, &obs_at(s, 0, 1, ip()));
        assert!(m.errors().is_empty(), "{:?}", m.errors());
    }
    // "w" holds the IPs of its 60 s window (plus the reorder slack) only.
    assert!(m.pending() <= 70, "state is bounded: {}", m.pending());
}

#[test]
fn hostile_regex_is_an_error_for_that_indicator_only() {
    let set = compile(vec![
        spec("bad", "[x-t:v MATCHES '^(a|aa)+\\\\1b']"),
        spec("good", "[x-t:v LIKE 'aaaa%']"),
    ]);
    let mut m = Matcher::new();
    let o = obs_at(
        0,
        0,
        1,
        vec![json!({"type": "x-t", "v": format!("{}!", "a".repeat(48))})],
    );
    assert_eq!(ids(m.scan(&set, &o)), ["good"]);
    assert_eq!(m.errors().len(), 1);
    assert_eq!(m.errors()[0].id, "bad");
}

// ---------------------------------------------------------------------------
// Property: indexed == reference.

fn ipv4_cmp() -> BoxedStrategy<String> {
    let ip = prop::sample::select(vec!["10.0.0.1", "10.0.0.2", "192.0.2.1", "10.0.0.0/30"]);
    let net = prop::sample::select(vec![
        "10.0.0.0/8",
        "10.0.0.0/31",
        "192.0.2.0/24",
        "0.0.0.0/0",
        "10.0.0.2",
    ]);
    let not = |n: bool| if n { "NOT " } else { "" };
    prop_oneof![
        (ip.clone(), any::<bool>())
            .prop_map(move |(v, n)| format!("ipv4-addr:value {}= '{v}'", not(n))),
        ip.prop_map(|v| format!("ipv4-addr:value != '{v}'")),
        (net, any::<bool>())
            .prop_map(move |(v, n)| format!("ipv4-addr:value {}ISSUBSET '{v}'", not(n))),
        prop::sample::select(vec!["10.0.0.1", "10.0.0.0/31"])
            .prop_map(|v| format!("ipv4-addr:value ISSUPERSET '{v}'")),
    ]
    .boxed()
}

fn domain_cmp() -> BoxedStrategy<String> {
    let dom = prop::sample::select(vec![
        "a.example",
        "b.example",
        "evil.example.org",
        "é.example",
    ]);
    let like = prop::sample::select(vec!["%.example", "evil%", "_.example", "%", "%xam%", "é%"]);
    let re = prop::sample::select(vec![
        "^evil",
        "example$",
        "(a|b)\\\\.ex",
        "[0-9]",
        "xam",
        "(?i)EVIL",
    ]);
    prop_oneof![
        (dom.clone(), dom.clone())
            .prop_map(|(a, b)| format!("domain-name:value IN ('{a}', '{b}')")),
        dom.prop_map(|v| format!("domain-name:value = '{v}'")),
        like.prop_map(|v| format!("domain-name:value LIKE '{v}'")),
        re.prop_map(|v| format!("domain-name:value MATCHES '{v}'")),
    ]
    .boxed()
}

fn traffic_cmp() -> BoxedStrategy<String> {
    let ip = prop::sample::select(vec!["10.0.0.1", "10.0.0.2", "192.0.2.1"]);
    let num = prop::sample::select(vec!["80", "443", "443.0", "8080", "-1"]);
    prop_oneof![
        (num, prop::sample::select(vec!["=", "!=", ">", "<="]))
            .prop_map(|(v, op)| format!("network-traffic:dst_port {op} {v}")),
        ip.prop_map(|v| format!("network-traffic:dst_ref.value = '{v}'")),
        Just("network-traffic:protocols[*] = 'tcp'".to_owned()),
        Just("EXISTS network-traffic:dst_ref".to_owned()),
        Just("NOT EXISTS network-traffic:src_ref".to_owned()),
    ]
    .boxed()
}

fn file_cmp() -> BoxedStrategy<String> {
    prop::sample::select(vec![
        "file:hashes.MD5 = '0cc175b9c0f1b6a831c399e269772661'",
        "file:hashes.MD5 = '0CC175B9C0F1B6A831C399E269772661'",
        "file:name LIKE '%.exe'",
        "file:name MATCHES '^setup'",
        "file:name NOT LIKE 'setup%'",
        "file:size > 100",
        "file:size IN (1, 2048)",
        "file:size <= 2048.0",
        "file:mtime > t'2024-01-01T00:00:00Z'",
        "file:mtime = t'2024-01-01T00:00:00.5Z'",
        "file:x_hex = h'00ff'",
        "file:x_hex = 'abc'",
        "file:parts[1] = 'b'",
        "file:parts[*] LIKE 'a%'",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

/// `[ ... ]`: comparisons on one type joined by AND/OR, sometimes OR-ed with
/// one of another type (AND across types is invalid, Part 9 §9.5).
fn leaf() -> impl Strategy<Value = String> {
    let kinds = || prop_oneof![ipv4_cmp(), domain_cmp(), traffic_cmp(), file_cmp()];
    let same = prop_oneof![
        prop::collection::vec((ipv4_cmp(), any::<bool>()), 1..4),
        prop::collection::vec((domain_cmp(), any::<bool>()), 1..4),
        prop::collection::vec((traffic_cmp(), any::<bool>()), 1..4),
        prop::collection::vec((file_cmp(), any::<bool>()), 1..4),
    ];
    (same, prop::option::of(kinds())).prop_map(|(items, other)| {
        let mut out = items[0].0.clone();
        for (c, and) in &items[1..] {
            out = format!("{out} {} {c}", if *and { "AND" } else { "OR" });
        }
        if let Some(o) = other {
            out = format!("({out}) OR {o}");
        }
        format!("[{out}]")
    })
}

fn pattern() -> impl Strategy<Value = String> {
    let qual = prop::sample::select(vec![
        "",
        " WITHIN 5 SECONDS",
        " WITHIN 60 SECONDS",
        " REPEATS 2 TIMES",
        " START t'2023-11-14T22:13:20Z' STOP t'2023-11-14T22:13:40Z'",
    ]);
    leaf().prop_recursive(2, 6, 3, move |inner| {
        (
            inner.clone(),
            prop::sample::select(vec!["AND", "OR", "FOLLOWEDBY"]),
            inner,
            qual.clone(),
        )
            .prop_map(|(a, op, b, q)| {
                if q.is_empty() {
                    format!("{a} {op} {b}")
                } else {
                    format!("({a} {op} {b}){q}")
                }
            })
    })
}

fn sco() -> impl Strategy<Value = Vec<Value>> {
    let ip = prop::sample::select(vec![
        "10.0.0.1",
        "10.0.0.2",
        "192.0.2.1",
        "10.0.0.0/30",
        "2001:db8::1",
    ]);
    let dom = prop::sample::select(vec![
        "a.example",
        "b.example",
        "evil.example.org",
        "é.example",
        "EVIL.example",
    ]);
    prop_oneof![
        ip.clone()
            .prop_map(|v| vec![json!({"type": "ipv4-addr", "value": v})]),
        dom.prop_map(|v| vec![json!({"type": "domain-name", "value": v})]),
        (
            ip,
            prop::sample::select(vec![
                json!(80),
                json!(443),
                json!(443.0),
                json!(8080),
                json!("443")
            ]),
            any::<bool>()
        )
            .prop_map(|(v, port, tcp)| vec![
                json!({"type": "ipv4-addr", "value": v}),
                json!({"type": "network-traffic", "dst_ref": "0", "dst_port": port,
                       "protocols": if tcp { json!(["ipv4", "tcp"]) } else { json!(["udp"]) }}),
            ]),
    ]
}

fn observation_list() -> impl Strategy<Value = Vec<Observation>> {
    prop::collection::vec(
        (
            prop::collection::vec(sco(), 1..3),
            0..20i64,
            prop::sample::select(vec![0i64, 0, 3]),
            1..3u64,
        ),
        1..6,
    )
    .prop_map(|items| {
        let mut t = 0;
        items
            .into_iter()
            .map(|(groups, dt, span, n)| {
                t += dt;
                // Refs inside a group are relative to it: renumber.
                let mut objects = Vec::new();
                for g in groups {
                    let base = objects.len();
                    for mut o in g {
                        if let Some(r) = o
                            .get("dst_ref")
                            .and_then(Value::as_str)
                            .and_then(|r| r.parse::<usize>().ok())
                        {
                            o["dst_ref"] = json!((base + r).to_string());
                        }
                        objects.push(o);
                    }
                }
                obs_at(t, span, n, objects)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn indexed_matcher_agrees_with_reference(
        patterns in prop::collection::vec(pattern(), 1..6),
        observations in observation_list(),
    ) {
        let set = compile_patterns(&patterns);
        let prepared: Vec<Prepared> =
            patterns.iter().map(|p| Prepared::new(p).expect("valid")).collect();
        let mut m = Matcher::new();
        let mut ever = vec![false; patterns.len()];
        for o in &observations {
            let got: Vec<usize> = m.scan(&set, o).iter().map(|x| x.indicator).collect();
            prop_assert!(m.errors().is_empty(), "errors {:?}", m.errors());
            for (i, (p, prepared)) in patterns.iter().zip(&prepared).enumerate() {
                if matches!(prepared.root, PObs::Leaf(..)) {
                    // Single observation patterns: per event.
                    let want = evaluate(prepared, std::slice::from_ref(o)).expect("evaluates");
                    prop_assert_eq!(got.contains(&i), want, "pattern {} on {:?}", p, o.objects);
                }
                ever[i] |= got.contains(&i);
            }
        }
        for (i, (p, prepared)) in patterns.iter().zip(&prepared).enumerate() {
            let want = evaluate(prepared, &observations).expect("evaluates");
            prop_assert_eq!(ever[i], want, "pattern {} over the stream", p);
        }
    }

    /// `sightline match` probes on parsing threads and advances the stream
    /// on one thread, skipping observations whose probe is empty; that must
    /// report exactly what `scan` reports, observation by observation.
    #[test]
    fn probing_apart_and_skipping_empty_probes_changes_nothing(
        patterns in prop::collection::vec(pattern(), 1..6),
        observations in observation_list(),
    ) {
        let set = compile_patterns(&patterns);
        let (mut whole, mut apart, mut probe) = (Matcher::new(), Matcher::new(), Probe::new());
        let probed: Vec<Probed> = observations.iter().map(|o| probe.probe(&set, o)).collect();
        for (k, (o, p)) in observations.iter().zip(probed).enumerate() {
            let want = whole.scan(&set, o).to_vec();
            // Positions as the caller numbers them (scan numbers 1, 2, …).
            let at = k as u64 + 1;
            let got = if p.is_empty() { Vec::new() } else { apart.advance_at(&set, o, p, at).to_vec() };
            prop_assert_eq!(got, want);
        }
        prop_assert_eq!(apart.pending(), whole.pending());
    }
}

#[test]
fn a_set_is_shared_across_threads_and_a_matcher_moves_between_them() {
    // style.md invariant 3: the set is swapped atomically behind an Arc.
    fn shared<T: Send + Sync>() {}
    fn movable<T: Send>() {}
    shared::<IndicatorSet>();
    movable::<Matcher>();
    movable::<Probe>();
    movable::<Probed>();
    let a = compile(vec![spec("a", "[domain-name:value = 'x.example']")]);
    let b = compile(vec![spec(
        "b",
        "[domain-name:value = 'x.example'] REPEATS 2 TIMES",
    )]);
    assert_ne!(a.generation(), b.generation());
    let mut m = Matcher::new();
    let o = obs_at(
        0,
        0,
        1,
        vec![json!({"type": "domain-name", "value": "x.example"})],
    );
    assert_eq!(ids(m.scan(&a, &o)), ["a"]);
    assert!(m.scan(&b, &o).is_empty());
    assert_eq!(ids(m.scan(&b, &o)), ["b"]);
    // Back to the first set: the state of the second is dropped.
    m.scan(&a, &o);
    assert_eq!(m.pending(), 0);
}

// ---------------------------------------------------------------------------
// Differential: the streaming temporal engine against the reference
// evaluator, report by report (docs/matcher-differences.md, "Streaming
// evaluation of multi-observation patterns"). A match is reported at the
// observation that completes it, then the indicator re-arms; so the stream
// reports at observation k exactly when the reference evaluator finds a
// binding among the observations after the previous report up to k, and
// none up to k − 1. Part 9 §9.6, §9.7.

fn temporal_leaf() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "[domain-name:value = 'a.example']",
        "[domain-name:value = 'b.example']",
        "[domain-name:value = 'c.example']",
        "[domain-name:value LIKE '%.example']",
        "[ipv4-addr:value = '10.0.0.1']",
        "[domain-name:value = 'a.example' OR ipv4-addr:value = '10.0.0.1']",
    ])
    .prop_map(str::to_owned)
}

fn temporal_pattern() -> impl Strategy<Value = String> {
    let qual = prop::sample::select(vec![
        "",
        "",
        " WITHIN 5 SECONDS",
        " WITHIN 20 SECONDS",
        " REPEATS 2 TIMES",
        " REPEATS 3 TIMES",
        " START t'2023-11-14T22:13:25Z' STOP t'2023-11-14T22:13:40Z'",
    ]);
    let leafq = (temporal_leaf(), qual.clone()).prop_map(|(l, q)| format!("{l}{q}"));
    leafq.prop_recursive(3, 8, 3, move |inner| {
        (
            prop::collection::vec(inner, 2..4),
            prop::sample::select(vec!["AND", "OR", "FOLLOWEDBY", "FOLLOWEDBY"]),
            qual.clone(),
        )
            .prop_map(|(items, op, q)| {
                let parts: Vec<String> = items.iter().map(|i| format!("({i})")).collect();
                format!("({}){q}", parts.join(&format!(" {op} ")))
            })
    })
}

/// Up to 8 observations, times nondecreasing up to a jitter of 4 s (inside
/// the default 5 s reorder slack: never late), with ties, intervals and
/// `number_observed` up to 3.
fn temporal_stream() -> impl Strategy<Value = Vec<Observation>> {
    let sco = prop_oneof![
        prop::sample::select(vec!["a.example", "b.example", "c.example"])
            .prop_map(|v| json!({"type": "domain-name", "value": v})),
        prop::sample::select(vec!["10.0.0.1", "10.0.0.2"])
            .prop_map(|v| json!({"type": "ipv4-addr", "value": v})),
    ];
    prop::collection::vec(
        (
            prop::collection::vec(sco, 1..3),
            prop::sample::select(vec![0i64, 0, 1, 2, 4, 7, 15]),
            prop::sample::select(vec![0i64, 0, 0, 1, 3, 4]),
            prop::sample::select(vec![0i64, 0, 2]),
            prop::sample::select(vec![1u64, 1, 1, 2, 3]),
        ),
        1..9,
    )
    .prop_map(|items| {
        let mut base = 0;
        items
            .into_iter()
            .map(|(objects, dt, jitter, span, n)| {
                base += dt;
                obs_at(base + jitter, span, n, objects)
            })
            .collect()
    })
}

/// The report positions of each indicator over the stream, and the stats.
fn reports(
    m: &mut Matcher,
    set: &IndicatorSet,
    observations: &[Observation],
    n: usize,
) -> Result<(Vec<Vec<usize>>, crate::TemporalStats), TestCaseError> {
    let mut got: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, o) in observations.iter().enumerate() {
        for x in m.scan(set, o) {
            got[x.indicator].push(k);
        }
        prop_assert!(m.errors().is_empty(), "errors {:?}", m.errors());
    }
    Ok((got, m.temporal_stats()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn streaming_reports_agree_with_reference(
        patterns in prop::collection::vec(temporal_pattern(), 1..4),
        observations in temporal_stream(),
    ) {
        let set = compile_patterns(&patterns);
        let prepared: Vec<Prepared> =
            patterns.iter().map(|p| Prepared::new(p).expect("valid")).collect();
        // What the reference evaluator says, re-armed after each report.
        let mut since = vec![0usize; patterns.len()];
        let mut want: Vec<Vec<usize>> = vec![Vec::new(); patterns.len()];
        for k in 0..observations.len() {
            for (i, p) in prepared.iter().enumerate() {
                if matches!(p.root, PObs::Leaf(..)) {
                    continue;
                }
                match evaluate(p, &observations[since[i]..=k]) {
                    Ok(true) => {
                        want[i].push(k);
                        since[i] = k + 1;
                    }
                    Ok(false) => {}
                    // Beyond what the reference enumerates: nothing to compare.
                    Err(_) => return Ok(()),
                }
            }
        }
        // The default caps, and caps these streams rarely reach.
        let wide = MatcherConfig {
            temporal: crate::TemporalConfig {
                max_delta: 1024,
                ..crate::TemporalConfig::default()
            },
        };
        for config in [MatcherConfig::default(), wide] {
            let mut m = Matcher::with_config(config);
            let (got, stats) = reports(&mut m, &set, &observations, patterns.len())?;
            prop_assert_eq!((stats.late, stats.evictions), (0, 0));
            for (i, p) in patterns.iter().enumerate() {
                if matches!(prepared[i].root, PObs::Leaf(..)) {
                    continue;
                }
                // Sound always: each report is a match of what came since the last.
                let mut from = 0;
                for &k in &got[i] {
                    prop_assert!(
                        evaluate(&prepared[i], &observations[from..=k]).unwrap_or(true),
                        "pattern {} reported at {} without a match", p, k
                    );
                    from = k + 1;
                }
                // Exact unless a cap bit (and then it was counted).
                if stats.capped == 0 {
                    prop_assert_eq!(&got[i], &want[i], "pattern {}", p);
                }
            }
        }
    }
}
