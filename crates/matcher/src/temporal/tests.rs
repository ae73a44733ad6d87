//! Scenario tests of the streaming temporal engine: thousands of events per
//! indicator (beacons, bursts, windows, sequences), its bounds and counters.
//! STIX 2.1 Part 9 §9.6 (REPEATS, FOLLOWEDBY, AND/OR of observation
//! expressions) and §9.7 (WITHIN, START/STOP), with the optimistic interval
//! rules of docs/matcher-differences.md.

use serde_json::json;

use crate::compiled::{IndicatorSet, IndicatorSpec, Match, Matcher, MatcherConfig};
use crate::observation::Observation;
use crate::temporal::TemporalConfig;

const T0: i64 = 1_700_000_000_000_000;
const SEC: i64 = 1_000_000;

fn set_of(patterns: &[&str]) -> IndicatorSet {
    let (set, rejected) =
        IndicatorSet::compile(patterns.iter().enumerate().map(|(i, p)| IndicatorSpec {
            id: format!("i{i}"),
            name: format!("n{i}"),
            pattern: (*p).to_owned(),
            valid_from: None,
            valid_until: None,
            revoked: false,
            lapses: Vec::new(),
        }));
    assert!(rejected.is_empty(), "{rejected:?}");
    set
}

/// A DNS lookup of `name` at `micros` after T0 (a point in time).
fn dns(micros: i64, name: &str) -> Observation {
    Observation::from_json(
        T0 + micros,
        T0 + micros,
        [(
            "0".to_owned(),
            json!({"type": "domain-name", "value": name}),
        )],
    )
}

/// Feeds the events (numbered 1, 2, …) and returns (event number, match) for
/// every match, asserting there is no evaluation error.
fn run(m: &mut Matcher, set: &IndicatorSet, events: &[Observation]) -> Vec<(usize, Match)> {
    let mut out = Vec::new();
    for (k, e) in events.iter().enumerate() {
        for x in m.scan(set, e) {
            out.push((k + 1, x.clone()));
        }
        assert!(m.errors().is_empty(), "event {}: {:?}", k + 1, m.errors());
    }
    out
}

fn beacon(count: usize, period_micros: i64, name: &str) -> Vec<Observation> {
    (0..count)
        .map(|k| dns(i64::try_from(k).unwrap_or(0) * period_micros, name))
        .collect()
}

fn at(found: &[(usize, Match)]) -> Vec<usize> {
    found.iter().map(|(k, _)| *k).collect()
}

#[test]
fn beacon_every_second_repeats_20_and_50_within_300() {
    let set = set_of(&[
        "[domain-name:value = 'beacon.example'] REPEATS 20 TIMES WITHIN 300 SECONDS",
        "[domain-name:value = 'beacon.example'] REPEATS 50 TIMES WITHIN 300 SECONDS",
        "[domain-name:value = 'beacon.example'] REPEATS 61 TIMES WITHIN 300 SECONDS",
    ]);
    let mut m = Matcher::new();
    let found = run(&mut m, &set, &beacon(60, SEC, "beacon.example"));
    let of = |i: usize| -> Vec<usize> {
        found
            .iter()
            .filter(|(_, x)| x.indicator == i)
            .map(|(k, _)| *k)
            .collect()
    };
    // Reported once when complete; the next match is built from later lookups.
    assert_eq!(of(0), [20, 40, 60]);
    assert_eq!(of(1), [50]);
    assert!(of(2).is_empty(), "only 60 lookups");
    let first = &found[0].1;
    let took = first.took_part.as_ref().expect("multi-observation match");
    assert_eq!(took.count, 20);
    assert_eq!((took.first.at, took.last.at), (1, 20));
    let stats = m.temporal_stats();
    assert_eq!(stats.matches, 4);
    assert_eq!((stats.evictions, stats.late, stats.capped), (0, 0, 0));
}

#[test]
fn repeats_1000_within_an_hour_at_3_and_4_second_periods() {
    let set =
        set_of(&["[domain-name:value = 'c2.example'] REPEATS 1000 TIMES WITHIN 3600 SECONDS"]);
    let mut m = Matcher::new();
    // 1000 lookups 3 s apart span 2,997 s: inside the hour.
    let found = run(&mut m, &set, &beacon(3000, 3 * SEC, "c2.example"));
    assert_eq!(at(&found), [1000, 2000, 3000]);
    // 4 s apart, an hour holds at most 901 lookups: never.
    let mut m = Matcher::new();
    let found = run(&mut m, &set, &beacon(5000, 4 * SEC, "c2.example"));
    assert!(found.is_empty());
    assert!(m.pending() <= 902, "state is the window: {}", m.pending());
}

#[test]
fn repeats_100000_within_seven_days() {
    let set = set_of(&[
        "[domain-name:value = 'slow.example'] REPEATS 100000 TIMES WITHIN 604800 SECONDS",
    ]);
    let mut m = Matcher::new();
    // Every 6 s: 100,000 lookups span 599,994 s < 7 days.
    let found = run(&mut m, &set, &beacon(100_000, 6 * SEC, "slow.example"));
    assert_eq!(at(&found), [100_000]);
    let took = found[0].1.took_part.as_ref().expect("took part");
    assert_eq!(took.count, 100_000);
    assert_eq!((took.first.at, took.last.at), (1, 100_000));
    // Every 7 s they span 699,993 s: never.
    let mut m = Matcher::new();
    let found = run(&mut m, &set, &beacon(110_000, 7 * SEC, "slow.example"));
    assert!(found.is_empty());
    assert!(m.temporal_stats().state_bytes < 16 << 20);
}

#[test]
fn slow_repeats_just_inside_and_just_outside_the_window() {
    let set = set_of(&["[domain-name:value = 's.example'] REPEATS 3 TIMES WITHIN 60 SECONDS"]);
    // 0, 30, 60: max first − min last = 60 s ≤ 60 (Part 9 §9.7: ties count).
    let inside = [0, 30 * SEC, 60 * SEC].map(|t| dns(t, "s.example"));
    assert_eq!(at(&run(&mut Matcher::new(), &set, &inside)), [3]);
    // One microsecond more: outside, and nothing after helps.
    let outside: Vec<Observation> = [0, 30 * SEC, 60 * SEC + 1, 121 * SEC, 200 * SEC]
        .map(|t| dns(t, "s.example"))
        .to_vec();
    assert!(run(&mut Matcher::new(), &set, &outside).is_empty());
    // Thousands of lookups 31 s apart: never 3 within 60 s.
    let slow = beacon(3000, 31 * SEC, "s.example");
    assert!(run(&mut Matcher::new(), &set, &slow).is_empty());
    // 30 s apart: every third one completes a match.
    let fast = beacon(3000, 30 * SEC, "s.example");
    let found = run(&mut Matcher::new(), &set, &fast);
    assert_eq!(found.len(), 1000);
}

#[test]
fn bursts_and_number_observed() {
    let set = set_of(&["[domain-name:value = 'b.example'] REPEATS 10 TIMES WITHIN 5 SECONDS"]);
    let mut events = Vec::new();
    // Ten bursts of 12 lookups in the same second, an hour apart, among noise.
    for burst in 0..10 {
        for _ in 0..12 {
            events.push(dns(burst * 3600 * SEC, "b.example"));
        }
        for k in 1..200 {
            events.push(dns(burst * 3600 * SEC + k * SEC, "noise.example"));
        }
    }
    let found = run(&mut Matcher::new(), &set, &events);
    assert_eq!(found.len(), 10, "one match per burst");
    // One observed-data with number_observed = 10 is ten observations (§9.6).
    let mut o = dns(0, "b.example");
    o.number_observed = 10;
    let found = run(&mut Matcher::new(), &set, &[o]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1.took_part.as_ref().map(|t| t.count), Some(10));
}

#[test]
fn followedby_in_order_and_out_of_order() {
    let set = set_of(&[
        "([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']) WITHIN 600 SECONDS",
    ]);
    // 2000 pairs, A then B 10 s later, pairs 20 min apart.
    let mut events = Vec::new();
    for k in 0..2000 {
        events.push(dns(k * 1200 * SEC, "a.example"));
        events.push(dns(k * 1200 * SEC + 10 * SEC, "b.example"));
    }
    let found = run(&mut Matcher::new(), &set, &events);
    assert_eq!(found.len(), 2000);
    let took = found[0].1.took_part.as_ref().expect("took part");
    assert_eq!((took.count, took.first.at, took.last.at), (2, 1, 2));
    // B before A (10 s, 20 min apart): never, and the state stays small.
    let mut events = Vec::new();
    for k in 0..2000 {
        events.push(dns(k * 1200 * SEC, "b.example"));
        events.push(dns(k * 1200 * SEC + 10 * SEC, "a.example"));
    }
    let mut m = Matcher::new();
    assert!(run(&mut m, &set, &events).is_empty());
    assert!(m.pending() <= 4, "{}", m.pending());
    // B more than 600 s after A: never.
    let mut events = Vec::new();
    for k in 0..2000 {
        events.push(dns(k * 1300 * SEC, "a.example"));
        events.push(dns(k * 1300 * SEC + 601 * SEC, "b.example"));
    }
    assert!(run(&mut Matcher::new(), &set, &events).is_empty());
    // A and B at the same instant: FOLLOWEDBY holds (ties count).
    let tie = [dns(0, "a.example"), dns(0, "b.example")];
    assert_eq!(run(&mut Matcher::new(), &set, &tie).len(), 1);
}

#[test]
fn and_or_start_stop() {
    let set = set_of(&[
        "([domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']) WITHIN 60 SECONDS",
        "[domain-name:value = 'a.example'] OR [domain-name:value = 'c.example']",
        "([domain-name:value = 'a.example'] REPEATS 2 TIMES) START t'2023-11-14T22:13:30Z' STOP t'2023-11-14T22:14:00Z'",
    ]);
    // T0 is 2023-11-14T22:13:20Z.
    let events = [
        dns(0, "b.example"),
        dns(5 * SEC, "c.example"),
        dns(10 * SEC, "a.example"),
        dns(20 * SEC, "a.example"),
        dns(30 * SEC, "a.example"),
    ];
    let found = run(&mut Matcher::new(), &set, &events);
    let got: Vec<(usize, usize)> = found.iter().map(|(k, x)| (*k, x.indicator)).collect();
    // AND: B then A within 60 s, either order. OR: each. START/STOP: the
    // lookups at +10 s (22:13:30) and +20 s are inside, the first pair.
    assert_eq!(got, [(2, 1), (3, 0), (3, 1), (4, 1), (4, 2), (5, 1)]);
}

#[test]
fn chains_and_repeated_sequences() {
    let set = set_of(&[
        "([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example'] FOLLOWEDBY [domain-name:value = 'c.example']) WITHIN 600 SECONDS",
        "(([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']) REPEATS 3 TIMES) WITHIN 600 SECONDS",
    ]);
    let mut events = Vec::new();
    for k in 0..1000 {
        let t = k * 100 * SEC;
        events.push(dns(t, "a.example"));
        events.push(dns(t + 10 * SEC, "b.example"));
        events.push(dns(t + 20 * SEC, "c.example"));
    }
    let found = run(&mut Matcher::new(), &set, &events);
    let chain = found.iter().filter(|(_, x)| x.indicator == 0).count();
    let pairs: Vec<usize> = found
        .iter()
        .filter(|(_, x)| x.indicator == 1)
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(chain, 1000);
    // Three disjoint A→B pairs: one match per three rounds (re-armed).
    assert_eq!(pairs.len(), 333);
    assert_eq!(pairs[0], 8, "the third B is event 8");
    let took = found
        .iter()
        .find(|(_, x)| x.indicator == 1)
        .and_then(|(_, x)| x.took_part.clone())
        .expect("took part");
    assert_eq!((took.count, took.first.at, took.last.at), (6, 1, 8));
    // C before B before A, rounds 1000 s apart: neither ever completes.
    let mut events = Vec::new();
    for k in 0..1000 {
        let t = k * 1000 * SEC;
        events.push(dns(t, "c.example"));
        events.push(dns(t + 10 * SEC, "b.example"));
        events.push(dns(t + 20 * SEC, "a.example"));
    }
    let mut m = Matcher::new();
    assert!(run(&mut m, &set, &events).is_empty());
    assert!(m.pending() <= 8, "{}", m.pending());
}

#[test]
fn memory_bound_evicts_and_counts() {
    // 200 FOLLOWEDBY indicators whose A is seen every second, B never.
    let patterns: Vec<String> = (0..200)
        .map(|i| {
            format!("([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b{i}.example']) WITHIN 3600 SECONDS")
        })
        .collect();
    let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let set = set_of(&refs);
    let limit = 256 << 10;
    let mut m = Matcher::with_config(MatcherConfig {
        temporal: TemporalConfig {
            memory: limit,
            ..TemporalConfig::default()
        },
    });
    let events = beacon(2000, SEC, "a.example");
    assert!(run(&mut m, &set, &events).is_empty());
    let s = m.temporal_stats();
    assert!(s.evictions > 0, "{s:?}");
    assert!(s.state_bytes <= limit, "{s:?}");
    // Without the bound all of it is held: 200 × 2000 completions.
    let mut m = Matcher::new();
    run(&mut m, &set, &events);
    let s = m.temporal_stats();
    assert_eq!(s.evictions, 0);
    assert!(s.state_bytes > limit, "{s:?}");
    assert_eq!(m.pending(), 200 * 2000);
}

#[test]
fn late_events_are_counted_and_slack_keeps_the_verdict() {
    let set = set_of(&["[domain-name:value = 'x.example'] REPEATS 5 TIMES WITHIN 10 SECONDS"]);
    // In order: 0..5 s; shuffled within the 5 s slack: the same match.
    let in_order: Vec<Observation> = (0..5).map(|k| dns(k * SEC, "x.example")).collect();
    let shuffled: Vec<Observation> = [4, 0, 3, 1, 2]
        .iter()
        .map(|k| dns(k * SEC, "x.example"))
        .collect();
    let mut m = Matcher::new();
    assert_eq!(at(&run(&mut m, &set, &in_order)), [5]);
    let mut m = Matcher::new();
    assert_eq!(at(&run(&mut m, &set, &shuffled)), [5]);
    assert_eq!(m.temporal_stats().late, 0);
    // 30 s behind the newest: late, counted, still processed best-effort.
    let mut events: Vec<Observation> = (0..4)
        .map(|k| dns(40 * SEC + k * SEC, "x.example"))
        .collect();
    events.push(dns(10 * SEC, "x.example"));
    events.push(dns(44 * SEC, "x.example"));
    let mut m = Matcher::new();
    assert_eq!(at(&run(&mut m, &set, &events)), [6]);
    assert_eq!(m.temporal_stats().late, 1);
    // A smaller slack makes the shuffled stream late.
    let mut m = Matcher::with_config(MatcherConfig {
        temporal: TemporalConfig {
            reorder_slack: SEC,
            ..TemporalConfig::default()
        },
    });
    run(&mut m, &set, &shuffled);
    assert!(m.temporal_stats().late >= 2);
}

#[test]
fn match_reports_name_the_observations() {
    let set = set_of(&[
        "([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']) WITHIN 60 SECONDS",
        "[domain-name:value = 'a.example'] REPEATS 3 TIMES WITHIN 60 SECONDS",
    ]);
    let mut m = Matcher::new();
    let mut found = Vec::new();
    for (line, (t, name)) in [
        (0, "a.example"),
        (1, "a.example"),
        (2, "b.example"),
        (3, "a.example"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut o = dns(t * SEC, name);
        o.id = Some(format!("observed-data--{line}"));
        let probed = crate::compiled::Probe::new().probe(&set, &o);
        let at = u64::try_from(line).unwrap_or(0) * 10 + 7;
        found.extend(m.advance_at(&set, &o, probed, at).iter().cloned());
    }
    assert_eq!(found.len(), 2);
    let seq = &found[0];
    assert_eq!(seq.indicator, 0);
    assert_eq!(
        seq.observations,
        [
            Some("observed-data--1".to_owned()),
            Some("observed-data--2".to_owned())
        ]
    );
    let took = seq.took_part.as_ref().expect("took part");
    assert_eq!((took.count, took.first.at, took.last.at), (2, 17, 27));
    assert_eq!(took.last.id.as_deref(), Some("observed-data--2"));
    let rep = &found[1];
    let took = rep.took_part.as_ref().expect("took part");
    assert_eq!((took.count, took.first.at, took.last.at), (3, 7, 37));
    assert_eq!(took.first.id.as_deref(), Some("observed-data--0"));
    assert_eq!(
        rep.observations,
        [
            Some("observed-data--0".to_owned()),
            Some("observed-data--3".to_owned())
        ]
    );
}

#[test]
fn sizes_as_people_write_them() {
    use crate::temporal::parse_size;
    assert_eq!(parse_size("256MiB"), Ok(256 << 20));
    assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    assert_eq!(parse_size("500000"), Ok(500_000));
    assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
    assert_eq!(parse_size("1.5k"), Ok(1536));
    assert!(parse_size("lots").is_err());
    assert!(parse_size("3 parsecs").is_err());
}

#[test]
fn without_within_state_is_held_up_to_the_cap() {
    // No WITHIN: nothing expires by time; the per-node cap bounds it, and
    // every completion it drops is counted.
    let set = set_of(&[
        "[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']",
        "[domain-name:value = 'a.example'] REPEATS 5000 TIMES",
    ]);
    let mut m = Matcher::with_config(MatcherConfig {
        temporal: TemporalConfig {
            max_node_items: 100,
            ..TemporalConfig::default()
        },
    });
    let mut events = beacon(4000, 3600 * SEC, "a.example");
    events.push(dns(4000 * 3600 * SEC, "b.example"));
    events.extend(beacon(1000, SEC, "a.example").into_iter().map(|mut o| {
        o.first_observed += 5000 * 3600 * SEC;
        o.last_observed += 5000 * 3600 * SEC;
        o
    }));
    let found = run(&mut m, &set, &events);
    // A months ago is still A before B; REPEATS without WITHIN only counts.
    assert_eq!(at(&found), [4001, 5001]);
    let s = m.temporal_stats();
    // 3,900 of the first 4,000 A, 900 of the 1,000 after the match.
    assert_eq!(s.capped, 4800, "{s:?}");
    assert!(m.pending() <= 200, "{}", m.pending());
}

#[test]
fn huge_repeats_of_a_compound_expression_is_counted_not_multiplied() {
    // Part 9 §9.6 allows any n; a product of 10^9 levels would never end.
    let set = set_of(&[
        "([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']) REPEATS 1000000000 TIMES",
        "(([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']) REPEATS 100 TIMES) WITHIN 3600 SECONDS",
    ]);
    let mut events = Vec::new();
    for k in 0..150 {
        events.push(dns(k * 10 * SEC, "a.example"));
        events.push(dns(k * 10 * SEC + SEC, "b.example"));
    }
    let mut m = Matcher::new();
    let found = run(&mut m, &set, &events);
    // 100 A→B completions within the hour: the 100th B (event 200).
    assert_eq!(at(&found), [200]);
    let took = found[0].1.took_part.as_ref().expect("took part");
    assert_eq!(took.count, 100);
    assert!(m.temporal_stats().state_bytes < 1 << 20);
}
