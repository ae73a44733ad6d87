//! Table tests of the reference evaluator, one row per rule, each citing
//! STIX 2.1 Part 9 (issue 4 §1, "points that implementations often get wrong").

use serde_json::{json, Value};

use super::evaluate;
use crate::observation::Observation;
use crate::prepare::{PrepareError, Prepared};

const T0: i64 = 1_700_000_000_000_000;

/// An observation at `[first, last]` seconds after T0, seen `n` times.
fn at(first: i64, last: i64, n: u64, objects: Value) -> Observation {
    let objects = match objects {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, o)| (i.to_string().into(), crate::Value::from(o)))
            .collect(),
        _ => Vec::new(),
    };
    Observation {
        id: None,
        first_observed: T0 + first * 1_000_000,
        last_observed: T0 + last * 1_000_000,
        number_observed: n,
        objects,
    }
}

fn one(objects: Value) -> Vec<Observation> {
    vec![at(0, 0, 1, objects)]
}

fn eval(pattern: &str, obs: &[Observation]) -> bool {
    let p = Prepared::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
    evaluate(&p, obs).unwrap_or_else(|e| panic!("{pattern}: {e}"))
}

/// Rows of (pattern, expected) against one set of observations.
macro_rules! table {
    ($obs:expr, [$(($pat:expr, $want:expr)),* $(,)?]) => {{
        let obs = $obs;
        $( assert_eq!(eval($pat, &obs), $want, "pattern {}", $pat); )*
    }};
}

#[test]
fn comparison_operators_9_3() {
    let obs = one(json!([{"type": "file", "name": "report.pdf", "size": 2048,
        "hashes": {"SHA-256": "aa".repeat(32), "MD5": "ABCDEF0123456789ABCDEF0123456789"},
        "x_flag": true, "x_list": [22, 443]}]));
    table!(
        obs,
        [
            ("[file:name = 'report.pdf']", true),
            ("[file:name == 'report.pdf']", true), // `==` is an alias (§9.3)
            ("[file:name != 'x']", true),
            ("[file:name <> 'report.pdf']", false), // `<>` is an alias
            ("[file:size > 2047]", true),
            ("[file:size >= 2048]", true),
            ("[file:size < 2048]", false),
            ("[file:size <= 2048.0]", true),
            ("[file:size = 2048.0]", true), // int and float compare numerically
            ("[file:size IN (1, 2048)]", true),
            ("[file:size IN ()]", false),
            ("[file:size NOT IN ()]", true),
            ("[file:name LIKE 'rep%.p_f']", true),
            ("[file:name LIKE 'REP%']", false), // case-sensitive
            ("[file:name MATCHES '^rep.*\\\\.pdf$']", true),
            ("[file:name MATCHES 'ort']", true), // unanchored search
            ("[EXISTS file:size]", true),
            ("[NOT EXISTS file:size]", false),
            ("[NOT EXISTS file:ctime]", true),
            ("[file:name NOT = 'report.pdf']", false), // NOT between path and operator
            ("[file:name NOT LIKE 'x%']", true),
            ("[file:x_flag = true]", true),
            ("[file:x_list[*] = 443]", true),
            ("[file:x_list[1] = 443]", true),
            ("[file:x_list[0] = 443]", false),
            ("[file:x_list[5] = 443]", false),
        ]
    );
}

#[test]
fn missing_values_are_false_even_negated_9_5() {
    // "a missing value makes the comparison false, also for != and NOT".
    let obs = one(json!([{"type": "file", "name": "a"}]));
    table!(
        obs,
        [
            ("[file:size != 5]", false),
            ("[file:size NOT = 5]", false),
            ("[file:size NOT IN (1, 2)]", false),
            ("[file:size NOT LIKE 'x']", false),
            ("[mutex:name != 'x']", false), // no object of that type at all
            ("[file:name != 'b']", true),
        ]
    );
}

#[test]
fn same_object_rule_for_and_inside_brackets_9_5() {
    let obs = one(json!([{"type": "file", "name": "a"}, {"type": "file", "size": 5}]));
    table!(
        obs,
        [
            ("[file:name = 'a' AND file:size = 5]", false),
            ("[file:name = 'a' OR file:size = 5]", true),
            ("[file:name = 'a'] AND [file:size = 5]", false), // two observations needed
        ]
    );
    let flows = one(json!([
        {"type": "ipv4-addr", "value": "203.0.113.9"},
        {"type": "network-traffic", "dst_ref": "0", "dst_port": 443, "protocols": ["tcp"]},
        {"type": "network-traffic", "dst_port": 80, "protocols": ["tcp"]},
    ]));
    table!(flows, [
        ("[network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 443]", true),
        ("[network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 80]", false),
        ("[network-traffic:dst_ref = '0']", true),          // the reference itself
        ("[network-traffic:src_ref.value = '203.0.113.9']", false),
    ]);
}

#[test]
fn references_lists_and_extensions_9_5() {
    let obs = one(json!([
        {"type": "email-addr", "value": "a@example.com"},
        {"type": "email-addr", "value": "b@example.com"},
        {"type": "email-message", "is_multipart": false, "to_refs": ["0", "1", "9"],
         "from_ref": "0"},
        {"type": "file", "name": "x.exe", "extensions": {"windows-pebinary-ext":
            {"pe_type": "exe", "sections": [{"name": ".text", "entropy": 7.5}]}}},
    ]));
    table!(
        obs,
        [
            ("[email-message:to_refs[*].value = 'b@example.com']", true),
            ("[email-message:to_refs[0].value = 'b@example.com']", false),
            ("[email-message:to_refs[1].value = 'b@example.com']", true),
            ("[email-message:to_refs[2].value = 'b@example.com']", false), // dangling
            ("[email-message:from_ref.value LIKE 'a@%']", true),
            (
                "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7]",
                true
            ),
            (
                "[file:extensions.'windows-pebinary-ext'.pe_type = 'exe']",
                true
            ),
        ]
    );
}

#[test]
fn no_coercion_and_exact_integers_9_4() {
    let obs = one(json!([{"type": "x-thing", "s": "5", "n": 5, "b": true,
        "big": 9_007_199_254_740_993_u64}]));
    table!(
        obs,
        [
            ("[x-thing:s = 5]", false),
            ("[x-thing:s != 5]", true), // type mismatch: = false, != true
            ("[x-thing:n = '5']", false),
            ("[x-thing:s < 6]", false),     // not orderable
            ("[x-thing:s NOT < 6]", false), // ... with or without NOT
            ("[x-thing:b = 1]", false),     // booleans only equal booleans
            ("[x-thing:big = 9007199254740993]", true),
            ("[x-thing:big = 9007199254740992]", false), // exact beyond 2^53
            ("[x-thing:big > 9007199254740992]", true),
        ]
    );
}

#[test]
fn strings_and_hashes_are_case_sensitive_9_4() {
    let obs = one(json!([{"type": "file",
        "hashes": {"MD5": "ABCDEF0123456789ABCDEF0123456789"}}]));
    table!(
        obs,
        [
            (
                "[file:hashes.MD5 = 'ABCDEF0123456789ABCDEF0123456789']",
                true
            ),
            (
                "[file:hashes.MD5 = 'abcdef0123456789abcdef0123456789']",
                false
            ),
            (
                "[file:hashes.md5 = 'ABCDEF0123456789ABCDEF0123456789']",
                false
            ),
            (
                "[file:hashes.'MD5' = 'ABCDEF0123456789ABCDEF0123456789']",
                true
            ),
        ]
    );
}

#[test]
fn like_semantics_9_3() {
    let obs = one(json!([{"type": "x-t", "v": "ab\ncd", "w": "abc\n"}]));
    table!(
        obs,
        [
            ("[x-t:v LIKE 'ab%cd']", true), // % spans newlines
            ("[x-t:v LIKE 'ab_cd']", true), // _ matches a newline
            ("[x-t:w LIKE 'abc']", false),  // whole value: the trailing newline counts
            ("[x-t:w LIKE 'a%']", true),
            ("[x-t:v LIKE '.%']", false), // regex metacharacters are literal
        ]
    );
}

#[test]
fn matches_is_pcre_like_and_bounded_9_3() {
    let obs = one(
        json!([{"type": "x-t", "v": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
        "w": "abab"}]),
    );
    table!(
        obs.clone(),
        [
            ("[x-t:w MATCHES '(ab)\\\\1']", true), // backreference
            ("[x-t:w MATCHES '^a(?=b)']", true),   // lookahead
            ("[x-t:w MATCHES '^[[:alpha:]]+$']", true),
        ]
    );
    // `(a+)+$` runs on the linear-time engine: no match, no hang.
    let p = Prepared::new("[x-t:v MATCHES '^(a+)+$']").expect("valid pattern");
    assert_eq!(evaluate(&p, &obs), Ok(false));
    // A lookahead forces backtracking: the step limit turns it into an error.
    let p = Prepared::new("[x-t:v MATCHES '^(a|aa)+\\\\1b']").expect("valid pattern");
    let r = evaluate(&p, &obs);
    assert!(
        r.is_err(),
        "a catastrophic regex must fail, not hang: {r:?}"
    );
}

#[test]
fn binary_constants_9_4() {
    let obs = one(
        json!([{"type": "artifact", "payload_bin": "AAEC", "x_hex": "00ff",
        "x_str": "AB"}]),
    );
    table!(
        obs,
        [
            ("[artifact:payload_bin = h'000102']", true),
            ("[artifact:payload_bin = b'AAEC']", true),
            ("[artifact:x_hex = h'00ff']", true),
            ("[artifact:x_hex = h'00FF']", true),
            ("[artifact:x_str = h'4142']", true), // string as bytes, code points < 256
            ("[artifact:x_str = b'QUI=']", true),
        ]
    );
}

#[test]
fn timestamps_compare_as_instants_9_4() {
    let obs = one(
        json!([{"type": "file", "ctime": "2024-01-01T00:00:00.123456789Z",
        "mtime": "2024-01-01T00:00:00.1Z"}]),
    );
    table!(
        obs,
        [
            ("[file:ctime > t'2024-01-01T00:00:00.123456Z']", true), // ns kept
            ("[file:ctime = t'2024-01-01T00:00:00.123456Z']", false),
            ("[file:mtime = t'2024-01-01T00:00:00.100Z']", true),
            ("[file:mtime < t'2024-01-02T00:00:00Z']", true),
        ]
    );
}

#[test]
fn cidr_subset_superset_v4_and_v6_9_3() {
    let obs = one(json!([
        {"type": "ipv4-addr", "value": "198.51.100.7"},
        {"type": "ipv4-addr", "value": "203.0.113.0/24"},
        {"type": "ipv6-addr", "value": "2001:db8::1"},
        {"type": "ipv4-addr", "value": "not-an-ip"},
    ]));
    table!(
        obs,
        [
            ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", true),
            ("[ipv4-addr:value ISSUBSET '198.51.100.99/24']", true), // host bits ignored
            ("[ipv4-addr:value ISSUBSET '0.0.0.0/0']", true),
            ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", false),
            ("[ipv4-addr:value ISSUPERSET '203.0.113.9']", true),
            ("[ipv4-addr:value ISSUPERSET '198.51.100.7']", true), // bare address = /32
            ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", true),
            ("[ipv6-addr:value ISSUBSET '2001:db9::/32']", false),
            ("[ipv6-addr:value ISSUBSET '0.0.0.0/0']", false), // v4 never contains v6
            ("[ipv6-addr:value NOT ISSUBSET '10.0.0.0/8']", true),
        ]
    );
    assert!(matches!(
        Prepared::new("[ipv4-addr:value ISSUBSET '300.0.0.0/8']"),
        Err(PrepareError::Invalid(_) | PrepareError::Cidr(_))
    ));
}

fn ip(v: &str) -> Value {
    json!([{"type": "ipv4-addr", "value": v}])
}

#[test]
fn observation_operators_bind_distinct_observations_9_6() {
    let two = vec![at(0, 0, 1, ip("1.1.1.1")), at(10, 10, 1, ip("2.2.2.2"))];
    table!(two.clone(), [
        ("[ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '2.2.2.2']", true),
        ("[ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '1.1.1.1']", false),
        ("[ipv4-addr:value = '1.1.1.1'] OR [ipv4-addr:value = '9.9.9.9']", true),
        ("[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [ipv4-addr:value = '2.2.2.2']", true),
        ("[ipv4-addr:value = '2.2.2.2'] FOLLOWEDBY [ipv4-addr:value = '1.1.1.1']", false),
        // AND binds tighter than OR, OR tighter than FOLLOWEDBY (§9.6)
        ("[ipv4-addr:value = '9.9.9.9'] AND [ipv4-addr:value = '1.1.1.1'] OR [ipv4-addr:value = '2.2.2.2']", true),
    ]);
    // number_observed = 2 counts as two observations (§9.6).
    let twice = vec![at(0, 0, 2, ip("1.1.1.1"))];
    table!(
        twice,
        [
            (
                "[ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '1.1.1.1']",
                true
            ),
            ("[ipv4-addr:value = '1.1.1.1'] REPEATS 2 TIMES", true),
            ("[ipv4-addr:value = '1.1.1.1'] REPEATS 3 TIMES", false),
        ]
    );
}

#[test]
fn followedby_uses_observation_intervals_9_6() {
    // Overlapping intervals: a time can be chosen in each so that left ≤ right.
    let obs = vec![at(0, 20, 1, ip("1.1.1.1")), at(10, 11, 1, ip("2.2.2.2"))];
    table!(
        obs,
        [
            (
                "[ipv4-addr:value = '2.2.2.2'] FOLLOWEDBY [ipv4-addr:value = '1.1.1.1']",
                true
            ),
            (
                "[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [ipv4-addr:value = '2.2.2.2']",
                true
            ),
        ]
    );
    let ties = vec![at(5, 5, 1, ip("1.1.1.1")), at(5, 5, 1, ip("2.2.2.2"))];
    table!(
        ties,
        [(
            "[ipv4-addr:value = '2.2.2.2'] FOLLOWEDBY [ipv4-addr:value = '1.1.1.1']",
            true
        ),]
    );
}

#[test]
fn qualifiers_9_7() {
    let obs = vec![
        at(0, 0, 1, ip("1.1.1.1")),
        at(30, 30, 1, ip("1.1.1.1")),
        at(100, 100, 1, ip("2.2.2.2")),
    ];
    table!(obs, [
        ("[ipv4-addr:value = '1.1.1.1'] REPEATS 2 TIMES", true),
        ("[ipv4-addr:value = '1.1.1.1'] REPEATS 2 TIMES WITHIN 30 SECONDS", true),
        ("[ipv4-addr:value = '1.1.1.1'] REPEATS 2 TIMES WITHIN 29.5 SECONDS", false),
        ("([ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '2.2.2.2']) WITHIN 70 SECONDS", true),
        ("([ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '2.2.2.2']) WITHIN 60 SECONDS", false),
        // A qualifier binds to the expression just before it (§9.6).
        ("[ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '2.2.2.2'] WITHIN 1 SECONDS", true),
        ("[ipv4-addr:value = '2.2.2.2'] START t'2023-11-14T22:14:00Z' STOP t'2023-11-14T22:15:01Z'", true),
        ("[ipv4-addr:value = '2.2.2.2'] START t'2023-11-14T22:14:00Z' STOP t'2023-11-14T22:15:00Z'", false),
        ("[ipv4-addr:value = '2.2.2.2'] START t'2023-11-14T22:13:20Z' STOP t'2023-11-14T22:14:00Z'", false),
    ]);
    // START is inclusive, STOP exclusive (§9.7).
    let t = at(0, 0, 1, ip("1.1.1.1"));
    table!(vec![t], [
        ("[ipv4-addr:value = '1.1.1.1'] START t'2023-11-14T22:13:20Z' STOP t'2023-11-14T22:13:21Z'", true),
        ("[ipv4-addr:value = '1.1.1.1'] START t'2023-11-14T22:13:19Z' STOP t'2023-11-14T22:13:20Z'", false),
    ]);
}

#[test]
fn comments_and_unicode_spaces_are_whitespace_9_2() {
    let obs = one(ip("1.1.1.1"));
    table!(
        obs,
        [
            ("[ipv4-addr:value /* c */ = '1.1.1.1'] // trailing", true),
            ("[ipv4-addr:value\u{00a0}=\u{2003}'1.1.1.1']", true),
        ]
    );
}

#[test]
fn sdo_types_never_match_9_5() {
    let obs = one(json!([{"type": "ipv4-addr", "value": "1.1.1.1"}]));
    table!(obs, [("[observed-data:number_observed = 1]", false)]);
}

#[test]
fn binding_explosions_are_errors() {
    let obs: Vec<Observation> = (0..700).map(|i| at(i, i, 1, ip("1.1.1.1"))).collect();
    let p = Prepared::new(
        "[ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '1.1.1.1']",
    )
    .expect("valid");
    assert!(evaluate(&p, &obs).is_err());
}

#[test]
fn huge_repeats_over_huge_counts_is_an_error_not_a_hang() {
    let obs = vec![
        at(0, 0, u64::MAX, ip("1.1.1.1")),
        at(1, 1, u64::MAX, ip("1.1.1.1")),
    ];
    let p = Prepared::new("[ipv4-addr:value = '1.1.1.1'] REPEATS 1000000000 TIMES").expect("valid");
    assert!(evaluate(&p, &obs).is_err());
    let p = Prepared::new("[ipv4-addr:value = '1.1.1.1'] REPEATS 3 TIMES").expect("valid");
    assert_eq!(evaluate(&p, &obs), Ok(true));
}
