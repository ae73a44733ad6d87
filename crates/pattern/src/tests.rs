//! Table tests: every grammar point and every "often gotten wrong" point of
//! the patterning checklist (`shared/spec/stix-patterning.md`).

use crate::*;

#[track_caller]
fn ok(src: &str) -> Pattern {
    match parse(src) {
        Ok(p) => p,
        Err(d) => panic!("{src:?} should be valid, got {d:?}"),
    }
}

/// `src` is invalid and its first diagnostic has `code`.
#[track_caller]
fn bad(src: &str, code: &str) -> Diagnostic {
    match parse(src) {
        Ok(p) => panic!("{src:?} should be invalid ({code}), parsed as {p}"),
        Err(d) => {
            assert!(
                d.iter().any(|x| x.code == code),
                "{src:?}: expected {code}, got {d:?}"
            );
            d.into_iter()
                .find(|x| x.code == code)
                .unwrap_or_else(|| unreachable!())
        }
    }
}

/// Canonical printing: parse, print, and the printed text parses to the same print.
#[track_caller]
fn canon(src: &str, expected: &str) {
    let p = ok(src);
    let printed = p.to_string();
    assert_eq!(printed, expected, "printing {src:?}");
    assert_eq!(ok(&printed).to_string(), printed, "re-printing {printed:?}");
}

fn cmp(p: &Pattern) -> &Comparison {
    let mut e = &p.expr;
    loop {
        match &e.kind {
            ObsKind::Observation(c) => {
                let mut c = c;
                loop {
                    match &c.kind {
                        CmpKind::Comparison(x) => return x,
                        CmpKind::Group(g) => c = g,
                        CmpKind::And(v) | CmpKind::Or(v) => c = &v[0],
                    }
                }
            }
            ObsKind::Group(g) => e = g,
            ObsKind::Qualified { expr, .. } => e = expr,
            ObsKind::And(v) | ObsKind::Or(v) | ObsKind::FollowedBy(v) => e = &v[0],
        }
    }
}

#[test]
fn every_comparison_operator() {
    for op in ["=", "==", "!=", "<>", "<", ">", "<=", ">="] {
        ok(&format!("[x-thing:size {op} 5]"));
        ok(&format!("[x-thing:size NOT {op} 5]"));
    }
    ok("[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')]");
    ok("[file:name LIKE 'evil%.exe']");
    ok("[file:name MATCHES '^evil\\\\d+\\\\.exe$']");
    ok("[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
    ok("[ipv4-addr:value ISSUPERSET '198.51.100.7']");
    ok("[ipv6-addr:value ISSUBSET '2001:db8::/32']");
    ok("[ipv4-addr:value NOT ISSUBSET '0.0.0.0/0']");
    ok("[EXISTS file:ctime]");
    ok("[NOT EXISTS file:ctime]");
}

#[test]
fn aliases_print_canonically() {
    let p = ok("[x-a:b == 1 AND x-a:c <> 2]");
    assert_eq!(p.to_string(), "[x-a:b = 1 AND x-a:c != 2]");
    assert_eq!(cmp(&p).op, Op::Eq);
}

#[test]
fn not_goes_between_path_and_operator() {
    let p = ok("[file:name NOT = 'x']");
    assert!(cmp(&p).negated);
    let d = bad("[NOT file:name = 'x']", "P010");
    assert_eq!(d.position(), 5);
    assert!(d.message.contains("EXISTS"), "{d}");
    bad("NOT [file:name = 'x']", "P010");
    bad("[file:name NOT NOT = 'x']", "P010");
    bad("[file:name = NOT 'x']", "P010");
    // EXISTS is prefix.
    bad("[file:name EXISTS]", "P013");
    bad("[file:name NOT EXISTS]", "P013");
    bad("[EXISTS file:name = 'x']", "P010");
}

#[test]
fn error_names_position_and_expectation() {
    let d = bad("[file:name foo 'x']", "P010");
    assert_eq!(d.to_string().split(':').next(), Some("P010 at 11"));
    assert!(d.message.contains("expected a comparison operator"), "{d}");
    assert!(d.message.contains("found 'foo'"), "{d}");
    let d = bad("[file:name = 'x'", "P011");
    assert_eq!(d.position(), 16);
    assert!(d.message.contains("the end of the pattern"), "{d}");
    // Positions count characters.
    let d = bad("[file:name = 'é' AND]", "P010");
    assert_eq!(d.position(), 20);
    assert_eq!(d.span().start, 21);
}

#[test]
fn object_paths() {
    let p = ok("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.5]");
    let steps = &cmp(&p).path.steps;
    assert_eq!(steps.len(), 5);
    assert!(
        matches!(&steps[1], PathStep::Key { name, quoted: true, .. } if name == "windows-pebinary-ext")
    );
    assert!(matches!(steps[3], PathStep::AnyIndex { .. }));
    ok("[network-traffic:src_ref.value = '198.51.100.1']");
    ok("[email-message:to_refs[*].value = 'a@example.com']");
    ok("[email-message:to_refs[0].value = 'a@example.com']");
    ok("[x-custom:'first-quoted' = 1]");
    ok("[x-custom:list[+1] = 1]");
    let p = ok("[x-custom:list[-1] = 1]");
    assert!(matches!(
        cmp(&p).path.steps[1],
        PathStep::Index { index: -1, .. }
    ));
    ok("[x-custom:a[*][*] = 1]");
    ok("[file:hashes.'SHA-256' = 'fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db']");
    let d = bad("[file:hashes.SHA-256 = 'x']", "P015");
    assert!(d.message.contains("quote"), "{d}");
    bad("[ipv4-addr = '1.2.3.4']", "P010");
    bad("[x-a:b.[*] = 1]", "P010");
    bad("[x-a:b[01] = 1]", "P004");
    bad("[x-a:b[1.5] = 1]", "P010");
    bad("[x-a:\"b\" = 1]", "P001");
    bad("[x-a:AND = 1]", "P010");
    bad("[x-a:b. = 1]", "P010");
    bad("[x-a:b.5 = 1]", "P010");
}

#[test]
fn object_type_names() {
    ok("[x-sightline-ticket:x_queue = 'soc']");
    ok("[ipv4-addr:value = '1.2.3.4']");
    bad("[File:name = 'x']", "P020");
    bad("[ab:name = 'x']", "P020");
    bad("[x--y:name = 'x']", "P020");
    bad("[file-:name = 'x']", "P020");
    bad("[x_y:name = 'x']", "P020");
}

#[test]
fn and_inside_one_observation_needs_one_type() {
    let d = bad(
        "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.com']",
        "P021",
    );
    assert_eq!(d.position(), 33);
    ok("[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'x.com']");
    ok("[(ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'x.com') AND domain-name:resolves_to_refs[*].value = '1.2.3.4']");
    bad(
        "[(file:name = 'a' AND file:size = 1) AND process:pid = 4]",
        "P021",
    );
    ok("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.com']");
}

#[test]
fn constants() {
    let p = ok("[x-a:n = 99999999999999999999999999999999999999999999]");
    match &cmp(&p).operand {
        Operand::Constant(Constant::Int(i), _) => {
            assert_eq!(i.digits, "99999999999999999999999999999999999999999999");
            assert_eq!(i.to_i128(), None);
        }
        o => panic!("{o:?}"),
    }
    let p = ok("[x-a:n = 9007199254740993]");
    match &cmp(&p).operand {
        Operand::Constant(Constant::Int(i), _) => {
            assert_eq!(i.to_i128(), Some(9_007_199_254_740_993))
        }
        o => panic!("{o:?}"),
    }
    for v in [
        "0",
        "-0",
        "+0",
        "-12",
        "+12",
        "1.5",
        ".5",
        "-.25",
        "+.5",
        "00.5",
        "true",
        "false",
        "'x'",
        "''",
        "t'2024-01-01T00:00:00Z'",
        "t'2024-01-01T00:00:00.123456789Z'",
        "t'2016-12-31T23:59:60Z'",
        "h''",
        "h'0aFF'",
        "b'YQ=='",
        "b'YWI='",
        "b'YWJj'",
    ] {
        ok(&format!("[x-a:b = {v}]"));
    }
    bad("[x-a:b = 01]", "P004");
    bad("[x-a:b = 1.]", "P010");
    bad("[x-a:b = 1e3]", "P010");
    bad("[x-a:b = 0x10]", "P010");
    bad("[x-a:b = TRUE]", "P010");
    bad("[x-a:b = True]", "P010");
    bad("[x-a:b = null]", "P010");
    bad("[x-a:b = - 1]", "P001");
    bad("[x-a:b = h'abc']", "P006");
    bad("[x-a:b = h'zz']", "P006");
    bad("[x-a:b = b'']", "P007");
    bad("[x-a:b = b'YQ=']", "P007");
    bad("[x-a:b = b'Y===']", "P007");
    bad("[x-a:b = b'YQ==YQ==']", "P007");
    bad("[x-a:b = t'2024-01-01T00:00:00+01:00']", "P005");
    bad("[x-a:b = t'2024-01-01t00:00:00Z']", "P005");
    bad("[x-a:b = t'2024-13-01T00:00:00Z']", "P005");
    bad("[x-a:b = t'2024-01-01T00:00:00.Z']", "P005");
    bad("[x-a:b = t'yesterday']", "P005");
    bad("[x-a:b = t'2024-02-30T00:00:00Z']", "P028");
    bad("[x-a:b = t'2023-02-29T00:00:00Z']", "P028");
    ok("[x-a:b = t'2024-02-29T00:00:00Z']");
}

#[test]
fn strings_and_escapes() {
    let p = ok(r"[file:name = 'it\'s a \\ path']");
    assert!(
        matches!(&cmp(&p).operand, Operand::Constant(Constant::Str(s), _) if s == r"it's a \ path")
    );
    let d = bad(r"[file:name = 'C:\Windows']", "P003");
    assert_eq!(d.position(), 16);
    bad(r"[file:name = 'a\n']", "P003");
    bad("[file:name = 'abc]", "P002");
    // Newlines and any Unicode inside strings are fine; strings are case-sensitive.
    let p = ok("[file:name = 'ÄBC\nx']");
    assert!(matches!(&cmp(&p).operand, Operand::Constant(Constant::Str(s), _) if s == "ÄBC\nx"));
    let upper = ok("[file:hashes.MD5 = 'ABCDEFABCDEFABCDEFABCDEFABCDEFAB']");
    let lower = ok("[file:hashes.MD5 = 'abcdefabcdefabcdefabcdefabcdefab']");
    assert_ne!(upper, lower);
}

#[test]
fn sets() {
    ok("[x-a:b IN ()]");
    ok("[x-a:b NOT IN (1, 2.5, -3)]");
    ok("[x-a:b IN (true, false)]");
    ok("[x-a:b IN (h'00', b'AAAA')]");
    bad("[x-a:b IN ('a', 1)]", "P027");
    bad("[x-a:b IN ('a',)]", "P010");
    bad("[x-a:b IN ('a' 'b')]", "P010");
    bad("[x-a:b IN 'a']", "P024");
    bad("[x-a:b = ('a')]", "P024");
    bad("[x-a:b IN ([x-a:b = 1])]", "P010");
}

#[test]
fn operand_kinds() {
    bad("[x-a:b < true]", "P022");
    bad("[x-a:b >= false]", "P022");
    ok("[x-a:b > 'abc']");
    ok("[x-a:b > t'2024-01-01T00:00:00Z']");
    ok("[x-a:b > h'00']");
    bad("[x-a:b LIKE 1]", "P023");
    bad("[x-a:b MATCHES true]", "P023");
    bad("[x-a:b ISSUBSET 5]", "P023");
    bad("[x-a:b ISSUPERSET h'00']", "P023");
}

#[test]
fn regexes() {
    ok("[file:name MATCHES '(?i)^[[:alpha:]]+\\\\z']");
    ok("[file:name MATCHES '(a)\\\\1']");
    ok("[file:name MATCHES '(?<=a)b']");
    ok("[file:name MATCHES '(a+)+$']");
    let d = bad("[file:name MATCHES '(']", "P025");
    assert_eq!(d.position(), 19);
    bad("[file:name MATCHES '[z-a]']", "P025");
    // Too big for the size limit: reported, not compiled forever, with the
    // cause and a way out.
    bad(
        "[file:name MATCHES '((((a{100}){100}){100}){100})']",
        "P025",
    );
    let d = bad("[file:name MATCHES '^\\\\w{100}$']", "P025");
    assert!(
        d.message.contains("size limit of 1024 KiB") && d.message.contains("[A-Za-z0-9_]"),
        "{}",
        d.message
    );
    ok("[file:name MATCHES '^[A-Za-z0-9_]{100}$']");
    // Deep nesting inside a regex is refused by its parser, not recursed into.
    let nested = format!(
        "[file:name MATCHES '{}a{}']",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    bad(&nested, "P025");
}

#[test]
fn cidrs() {
    for c in [
        "10.0.0.0/8",
        "10.0.0.1",
        "0.0.0.0/0",
        "::/0",
        "2001:db8::/32",
        "::1",
    ] {
        ok(&format!("[ipv4-addr:value ISSUBSET '{c}']"));
    }
    for c in [
        "foo",
        "10.0.0.0/33",
        "10.0.0.0/",
        "2001:db8::/129",
        "10.0.0/8",
        "10.0.0.0/-1",
    ] {
        bad(&format!("[ipv4-addr:value ISSUPERSET '{c}']"), "P026");
    }
}

#[test]
fn hash_values() {
    bad("[file:hashes.MD5 = 'abc']", "P033");
    bad("[file:hashes.md5 = 'abc']", "P033");
    bad("[file:hashes.'SHA-256' = 'abc']", "P033");
    bad("[file:hashes.'SHA-1' IN ('abc')]", "P033");
    bad("[file:hashes.MD5 = 5]", "P033");
    ok("[file:hashes.'SHA-1' IN ('0123456789abcdef0123456789abcdef01234567')]");
    ok("[file:hashes.MD5 LIKE 'abc%']");
    ok("[file:hashes.TLSH = 'anything']");
    ok("[file:hashes.SSDEEP = '3:a+b:c']");
    ok("[file:hashes[*] = 'abc']");
}

/// STIX 2.1 §6.8/§6.9: `ipv4-addr:value` and `ipv6-addr:value` MUST hold an
/// address of their family or a CIDR block; a constant compared with them
/// that cannot be one is an error naming it (P036).
#[test]
fn address_values() {
    for p in [
        "[ipv4-addr:value = '198.51.100.1']",
        "[ipv4-addr:value = '198.51.100.0/24']",
        "[ipv4-addr:value = '0.0.0.0/0']",
        "[ipv4-addr:value = '10.0.0.0/32']",
        "[ipv4-addr:value != '198.51.100.1']",
        "[ipv4-addr:value IN ('198.51.100.1', '203.0.113.0/24')]",
        "[ipv6-addr:value = '::']",
        "[ipv6-addr:value = '::1']",
        "[ipv6-addr:value = '::/0']",
        "[ipv6-addr:value = '2a01:1f:a::1006']",
        "[ipv6-addr:value = '2001:DB8::1']",
        "[ipv6-addr:value = '2001:db8::/128']",
        "[ipv6-addr:value = '::ffff:198.51.100.1']",
        "[ipv6-addr:value = '64:ff9b::198.51.100.1/120']",
        "[ipv6-addr:value = '1:2:3:4:5:6:7:8']",
        // Patterns, not addresses; other constant kinds are P041 warnings.
        "[ipv4-addr:value LIKE '198.51.%']",
        "[ipv4-addr:value MATCHES '^198[.]51[.]']",
        "[ipv4-addr:value = 5]",
        // Other properties and types are not addresses.
        "[ipv4-addr:x_note = 'n/a']",
        "[domain-name:value = '2a01:1f:a::10006']",
    ] {
        let parsed = crate::analyze(p);
        assert!(
            parsed.diagnostics.is_empty(),
            "{p}: {:?}",
            parsed.diagnostics
        );
    }
    for (p, value, why) in [
        (
            "[ipv6-addr:value = '2a01:1f:a::10006']",
            "'2a01:1f:a::10006'",
            "the group '10006' has more than 4 hex digits",
        ),
        (
            "[ipv6-addr:value = '2001:db8::/129']",
            "'2001:db8::/129'",
            "/129 is not a whole number from 0 to 128",
        ),
        (
            "[ipv6-addr:value = 'fe80::1%eth0']",
            "'fe80::1%eth0'",
            "a zone id ('%eth0') is no part of the address: write 'fe80::1'",
        ),
        (
            "[ipv6-addr:value = '198.51.100.1']",
            "'198.51.100.1'",
            "compare ipv4-addr:value",
        ),
        (
            "[ipv6-addr:value = '1:2:3:4:5:6:7:8:9']",
            "'1:2:3:4:5:6:7:8:9'",
            "eight groups",
        ),
        ("[ipv6-addr:value = ':::']", "':::'", "eight groups"),
        ("[ipv6-addr:value = '::/']", "'::/'", "the prefix length /"),
        (
            "[ipv4-addr:value = '203.0.113.999']",
            "'203.0.113.999'",
            "four decimal numbers 0-255",
        ),
        (
            "[ipv4-addr:value = '010.0.0.1']",
            "'010.0.0.1'",
            "without leading zeros",
        ),
        (
            "[ipv4-addr:value = '10.0.0.0/33']",
            "'10.0.0.0/33'",
            "0 to 32",
        ),
        (
            "[ipv4-addr:value = '10.0.0.0/+8']",
            "'10.0.0.0/+8'",
            "0 to 32",
        ),
        (
            "[ipv4-addr:value = '::ffff:198.51.100.1']",
            "'::ffff:198.51.100.1'",
            "compare ipv6-addr:value",
        ),
        (
            "[ipv4-addr:value > 'nope']",
            "'nope'",
            "four decimal numbers",
        ),
        (
            "[ipv4-addr:value IN ('198.51.100.1', '198.51.100.256')]",
            "'198.51.100.256'",
            "four decimal numbers",
        ),
        (
            "[ipv4-addr:value NOT = '1.2.3']",
            "'1.2.3'",
            "four decimal numbers",
        ),
    ] {
        let d = bad(p, "P036");
        assert_eq!(d.severity, sightline_stix::Severity::Error, "{p}");
        assert!(d.message.starts_with(value), "{p}: {}", d.message);
        assert!(
            d.message.contains("must hold (STIX 2.1 §6."),
            "{p}: {}",
            d.message
        );
        assert!(d.message.contains(why), "{p}: {}", d.message);
    }
    // The span is the constant's, in a set too.
    let d = bad("[ipv4-addr:value IN ('198.51.100.1', 'x')]", "P036");
    assert_eq!(d.span(), Span::new(37, 40));
}

#[test]
fn observation_precedence_and_over_or_over_followedby() {
    let p = ok("[x-a:b = 1] AND [x-a:b = 2] OR [x-a:b = 3] FOLLOWEDBY [x-a:b = 4] OR [x-a:b = 5] AND [x-a:b = 6]");
    let ObsKind::FollowedBy(top) = &p.expr.kind else {
        panic!("{p:?}")
    };
    assert_eq!(top.len(), 2);
    let ObsKind::Or(left) = &top[0].kind else {
        panic!()
    };
    assert!(matches!(left[0].kind, ObsKind::And(_)));
    assert!(matches!(left[1].kind, ObsKind::Observation(_)));
    let ObsKind::Or(right) = &top[1].kind else {
        panic!()
    };
    assert!(matches!(right[1].kind, ObsKind::And(_)));
    // Chains are n-ary, left to right.
    let p = ok("[x-a:b = 1] FOLLOWEDBY [x-a:b = 2] FOLLOWEDBY [x-a:b = 3]");
    assert!(matches!(&p.expr.kind, ObsKind::FollowedBy(v) if v.len() == 3));
}

#[test]
fn comparison_precedence_and_over_or() {
    let p = ok("[x-a:b = 1 OR x-a:c = 2 AND x-a:d = 3]");
    let ObsKind::Observation(c) = &p.expr.kind else {
        panic!()
    };
    let CmpKind::Or(v) = &c.kind else {
        panic!("{c:?}")
    };
    assert!(matches!(v[1].kind, CmpKind::And(_)));
    let p = ok("[(x-a:b = 1 OR x-a:c = 2) AND x-a:d = 3]");
    let ObsKind::Observation(c) = &p.expr.kind else {
        panic!()
    };
    assert!(matches!(&c.kind, CmpKind::And(v) if matches!(v[0].kind, CmpKind::Group(_))));
}

#[test]
fn a_qualifier_binds_to_the_expression_just_before_it() {
    let p = ok("[x-a:b = 1] AND [x-a:b = 2] WITHIN 5 SECONDS");
    let ObsKind::And(v) = &p.expr.kind else {
        panic!("{p:?}")
    };
    assert!(matches!(v[0].kind, ObsKind::Observation(_)));
    assert!(matches!(v[1].kind, ObsKind::Qualified { .. }));
    let p = ok("([x-a:b = 1] AND [x-a:b = 2]) WITHIN 5 SECONDS");
    let ObsKind::Qualified { expr, qualifiers } = &p.expr.kind else {
        panic!()
    };
    assert!(matches!(expr.kind, ObsKind::Group(_)));
    assert_eq!(qualifiers.len(), 1);
    // Several qualifiers apply in written order.
    let p = ok("[x-a:b = 1] REPEATS 2 TIMES WITHIN 60 SECONDS");
    let ObsKind::Qualified { qualifiers, .. } = &p.expr.kind else {
        panic!()
    };
    assert_eq!(qualifiers[0].kind.keyword(), "REPEATS");
    assert_eq!(qualifiers[1].kind.keyword(), "WITHIN");
}

#[test]
fn qualifiers() {
    ok("[x-a:b = 1] WITHIN 1 SECONDS");
    ok("[x-a:b = 1] WITHIN 0.5 SECONDS");
    ok("[x-a:b = 1] WITHIN +1 SECONDS");
    ok("[x-a:b = 1] WITHIN 99999999999999999999999999 SECONDS");
    ok("[x-a:b = 1] REPEATS 3 TIMES");
    ok("[x-a:b = 1] START t'2024-01-01T00:00:00Z' STOP t'2024-01-01T00:00:00.001Z'");
    ok("([x-a:b = 1] WITHIN 5 SECONDS) WITHIN 10 SECONDS");
    bad("[x-a:b = 1] WITHIN 0 SECONDS", "P029");
    bad("[x-a:b = 1] WITHIN 0.0 SECONDS", "P029");
    bad("[x-a:b = 1] WITHIN -5 SECONDS", "P029");
    bad("[x-a:b = 1] REPEATS 0 TIMES", "P030");
    bad("[x-a:b = 1] REPEATS 1.5 TIMES", "P030");
    bad("[x-a:b = 1] REPEATS -1 TIMES", "P030");
    bad(
        "[x-a:b = 1] START t'2024-01-02T00:00:00Z' STOP t'2024-01-01T00:00:00Z'",
        "P031",
    );
    bad(
        "[x-a:b = 1] START t'2024-01-01T00:00:00.0Z' STOP t'2024-01-01T00:00:00Z'",
        "P031",
    );
    bad(
        "[x-a:b = 1] START '2024-01-01T00:00:00Z' STOP '2024-01-02T00:00:00Z'",
        "P010",
    );
    bad("[x-a:b = 1] START t'2024-01-01T00:00:00Z'", "P011");
    bad("[x-a:b = 1] WITHIN 5 SECOND", "P010");
    bad("[x-a:b = 1] within 5 SECONDS", "P010");
    bad("[x-a:b = 1] WITHIN 5 SECONDS WITHIN 10 SECONDS", "P032");
    bad(
        "[x-a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 3 TIMES",
        "P032",
    );
    bad("([x-a:b = 1]) WITHIN 5 SECONDS WITHIN 10 SECONDS", "P032");
    bad("WITHIN 5 SECONDS", "P010");
}

#[test]
fn keywords_are_case_sensitive() {
    bad("[x-a:b = 1] and [x-a:b = 2]", "P010");
    bad("[x-a:b = 1 or x-a:c = 2]", "P010");
    bad("[x-a:b like 'x']", "P010");
    bad("[x-a:b = 1] followedby [x-a:b = 2]", "P010");
}

#[test]
fn comments_and_unicode_whitespace() {
    ok("/* lead */ [x-a:b = 1] // trailing");
    ok("[x-a:b /* in */ = 1]\n// line\n AND [x-a:b = 2]");
    ok("\u{A0}[\u{2003}x-a:b\u{3000}=\u{2028}1\u{202F}]\u{85}");
    ok("\t\r\n\u{0B}\u{0C}[x-a:b = 1]");
    bad("[x-a:b = 1] /* open", "P008");
    bad("[x-a:b = 1] / 2", "P001");
    bad("\u{FEFF}[x-a:b = 1]", "P001");
}

#[test]
fn structure_errors() {
    bad("", "P011");
    bad("   ", "P011");
    bad("[]", "P010");
    bad("[x-a:b = 1]]", "P010");
    bad("[x-a:b = 1] [x-a:b = 2]", "P010");
    bad("[x-a:b = 1 AND]", "P010");
    bad("[x-a:b = 1] FOLLOWEDBY", "P011");
    bad("([x-a:b = 1]", "P011");
    bad("ipv4-addr:value = '1.2.3.4'", "P010");
    ok("(([x-a:b = 1]))");
    ok("[((x-a:b = 1))]");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = MAX_DEPTH;
    let fine = format!(
        "{}[x-a:b = 1]{}",
        "(".repeat(depth - 1),
        ")".repeat(depth - 1)
    );
    ok(&fine);
    let deep = format!("{}[x-a:b = 1]{}", "(".repeat(depth), ")".repeat(depth));
    bad(&deep, "P012");
    let deep = format!("[{}x-a:b = 1{}]", "(".repeat(100_000), ")".repeat(100_000));
    bad(&deep, "P012");
    let open = "(".repeat(1_000_000);
    bad(&open, "P012");
}

#[test]
fn long_inputs_are_fine() {
    let chain = vec!["[x-a:b = 1]"; 50_000].join(" AND ");
    let p = ok(&chain);
    assert_eq!(p.to_string(), chain);
    let inner = vec!["x-a:b = 1"; 50_000].join(" OR ");
    ok(&format!("[{inner}]"));
    let big = format!("[x-a:b = '{}']", "x".repeat(1 << 20));
    ok(&big);
}

#[test]
fn no_panics_on_junk() {
    let samples = [
        "[",
        "]",
        "(",
        ")",
        "'",
        "t'",
        "h'",
        "b'",
        "[x-a:b = t'",
        "[x-a:b[",
        "[x-a:b[*",
        "[x-a:b = 1] WITHIN",
        "[x-a:b = 1] REPEATS",
        "[x-a:b = 1] START",
        "[x-a:",
        "[x-a",
        "[x-a:b NOT",
        "[x-a:b IN (",
        "[x-a:b IN (1,",
        "\\",
        "[x-a:b = '\\",
        "é",
        "[é]",
        "[x-a:b = 1] WITHIN 5",
        "[x-a:b = 1] START t'2024-01-01T00:00:00Z' STOP",
        "+",
        "-",
        "[x-a:b = +]",
        "[x-a:b = .]",
        "[x-a:b[99999999999999999999999] = 1]",
        "/*",
        "//",
    ];
    for s in samples {
        let r = analyze(s);
        assert!(!r.diagnostics.is_empty(), "{s:?} should be invalid");
        for d in &r.diagnostics {
            assert!(
                d.span().start <= s.len() && d.span().end <= s.len(),
                "{s:?}: {d:?}"
            );
        }
    }
    // Every prefix of a rich pattern.
    let rich = "([file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.5 AND file:name NOT LIKE 'a%'] \
                FOLLOWEDBY [NOT EXISTS x-a:b[-1]] OR [x-a:b IN (h'00', b'YQ==')]) WITHIN 5.5 SECONDS \
                START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z' // é";
    for (i, _) in rich.char_indices() {
        let _ = analyze(&rich[..i]);
    }
    ok(rich);
}

#[test]
fn printer_goldens() {
    let cases = [
        ("[file:name='x']", "[file:name = 'x']"),
        ("[file:name=='x' AND file:size>=+5]", "[file:name = 'x' AND file:size >= 5]"),
        ("[ x-a:b <> -0 ]", "[x-a:b != 0]"),
        ("[file:hashes.'SHA-256' = 'fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db']",
         "[file:hashes.'SHA-256' = 'fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db']"),
        ("[file:'name' = 'x']", "[file:name = 'x']"),
        ("[x-a:'b c'.'IN'[*][-1] = 1]", "[x-a:'b c'.'IN'[*][-1] = 1]"),
        ("[x-a:'true'.'false'.'x-y' = 1]", "[x-a:'true'.'false'.'x-y' = 1]"),
        ("[x-a:b NOT IN ('a','b')]", "[x-a:b NOT IN ('a', 'b')]"),
        ("[x-a:b IN ( )]", "[x-a:b IN ()]"),
        ("[NOT  EXISTS x-a:b]", "[NOT EXISTS x-a:b]"),
        (r"[x-a:b = 'it\'s \\']", r"[x-a:b = 'it\'s \\']"),
        ("[x-a:b = h'0aFF' OR x-a:b = b'YWI=']", "[x-a:b = h'0aff' OR x-a:b = b'YWI=']"),
        ("[x-a:b = +.5 OR x-a:b = -1.25 OR x-a:b = true]", "[x-a:b = .5 OR x-a:b = -1.25 OR x-a:b = true]"),
        ("[x-a:b = t'2024-01-01T00:00:00.5Z']", "[x-a:b = t'2024-01-01T00:00:00.5Z']"),
        ("[(x-a:b = 1 OR x-a:c = 2) AND x-a:d = 3]", "[(x-a:b = 1 OR x-a:c = 2) AND x-a:d = 3]"),
        ("([x-a:b = 1] AND [x-a:b = 2]) WITHIN +5 SECONDS", "([x-a:b = 1] AND [x-a:b = 2]) WITHIN 5 SECONDS"),
        ("[x-a:b = 1] REPEATS 2 TIMES WITHIN 1.5 SECONDS", "[x-a:b = 1] REPEATS 2 TIMES WITHIN 1.5 SECONDS"),
        ("[x-a:b = 1]START t'2024-01-01T00:00:00Z'STOP t'2024-01-02T00:00:00Z'",
         "[x-a:b = 1] START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z'"),
        ("[x-a:b = 1] /* c */ FOLLOWEDBY\n[x-a:b = 2] // d", "[x-a:b = 1] FOLLOWEDBY [x-a:b = 2]"),
        ("[x-a:b = 99999999999999999999999999999999999999999999]", "[x-a:b = 99999999999999999999999999999999999999999999]"),
    ];
    for (src, want) in cases {
        canon(src, want);
    }
}

#[test]
fn printer_adds_parentheses_for_hand_built_trees() {
    let leaf = || ok("[x-a:b = 1]").expr;
    let or = ObsExpr {
        kind: ObsKind::Or(vec![leaf(), leaf()]),
        span: Span::default(),
    };
    let and = ObsExpr {
        kind: ObsKind::And(vec![or.clone(), leaf()]),
        span: Span::default(),
    };
    assert_eq!(
        and.to_string(),
        "([x-a:b = 1] OR [x-a:b = 1]) AND [x-a:b = 1]"
    );
    let q = ObsExpr {
        kind: ObsKind::Qualified {
            expr: Box::new(or),
            qualifiers: vec![Qualifier {
                kind: QualifierKind::Repeats {
                    times: Integer {
                        negative: false,
                        digits: "2".into(),
                    },
                },
                span: Span::default(),
            }],
        },
        span: Span::default(),
    };
    assert_eq!(
        q.to_string(),
        "([x-a:b = 1] OR [x-a:b = 1]) REPEATS 2 TIMES"
    );
}

#[test]
fn spans_cover_their_text() {
    let src = "[file:name = 'x'] AND [x-a:b NOT IN (1, 2)] WITHIN 5 SECONDS";
    let p = ok(src);
    assert_eq!(p.expr.span, Span::new(0, src.len()));
    let ObsKind::And(v) = &p.expr.kind else {
        panic!()
    };
    assert_eq!(&src[v[0].span.start..v[0].span.end], "[file:name = 'x']");
    assert_eq!(
        &src[v[1].span.start..v[1].span.end],
        "[x-a:b NOT IN (1, 2)] WITHIN 5 SECONDS"
    );
    let c = cmp(&p);
    assert_eq!(&src[c.span.start..c.span.end], "file:name = 'x'");
    assert_eq!(&src[c.path.span.start..c.path.span.end], "file:name");
}

#[test]
fn checker_reports_position_and_expectation() {
    use sightline_stix::PatternChecker;
    assert_eq!(StixPatternChecker.check("[file:name = 'x']"), Ok(()));
    let e = StixPatternChecker
        .check("[file:name = 'x'")
        .expect_err("invalid");
    assert!(e.starts_with("P011 at 16: expected"), "{e}");
    let v = sightline_stix::Validator::new().with_pattern_checker(Box::new(StixPatternChecker));
    let _ = v;
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const SEEDS: &[&str] = &[
        "[file:name = 'x'] AND [x-a:b NOT IN (1, 2.5)] WITHIN 5 SECONDS",
        "([ipv4-addr:value ISSUBSET '10.0.0.0/8' OR EXISTS x-a:c[*].d] FOLLOWEDBY [file:hashes.'SHA-256' LIKE 'a%']) REPEATS 2 TIMES",
        "[x-a:b = t'2024-01-01T00:00:00Z'] START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z'",
        "[x-a:b MATCHES '^a\\\\d+$' AND x-a:c != h'00ff' AND x-a:d <= b'YQ=='] // c",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Arbitrary text never panics and spans stay inside the input.
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
            for d in analyze(&s).diagnostics {
                prop_assert!(d.span().start <= d.span().end && d.span().end <= s.len());
            }
        }

        /// Mutating valid patterns (delete, insert, swap a byte range) never
        /// panics; whatever still parses prints to text that parses to the same print.
        #[test]
        fn mutations_never_panic_and_print_round_trips(
            seed in 0..SEEDS.len(),
            at in 0usize..200,
            len in 0usize..6,
            ins in prop::sample::select(vec!["", "(", ")", "[", "]", "'", " AND ", " NOT ", "*", "-", "é", "/*", "\\"]),
        ) {
            let src = SEEDS[seed];
            let mut at = at.min(src.len());
            while !src.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(src.len());
            while !src.is_char_boundary(end) { end -= 1; }
            let mutated = format!("{}{}{}", &src[..at], ins, &src[end..]);
            if let Ok(p) = parse(&mutated) {
                let printed = p.to_string();
                let again = parse(&printed);
                prop_assert!(again.is_ok(), "{mutated:?} printed as {printed:?}: {again:?}");
                if let Ok(q) = again {
                    prop_assert_eq!(q.to_string(), printed);
                }
            }
        }
    }
}

/// Issue 12 §3: MATCHES regexes are bounded per pattern (P034) and, through
/// a shared budget, per envelope or import file (P035).
mod regex_cost {
    use crate::*;
    use sightline_stix::{PatternChecker, RegexBudget};
    use std::time::{Duration, Instant};

    fn matches_terms(n: usize, re: &str) -> String {
        let terms: Vec<String> = (0..n)
            .map(|i| format!("file:name MATCHES '{re}{i}'"))
            .collect();
        format!("[{}]", terms.join(" OR "))
    }

    fn codes(p: &Parsed) -> Vec<&'static str> {
        p.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn p034_regexes_per_pattern() {
        let at = matches_terms(MAX_REGEXES_PER_PATTERN, "^a");
        assert!(parse(&at).is_ok(), "{:?}", parse(&at));
        let over = matches_terms(MAX_REGEXES_PER_PATTERN + 5, "^a");
        let p = analyze(&over);
        assert_eq!(codes(&p), vec!["P034"], "reported once");
        assert!(p.diagnostics[0].to_string().contains("at most 16 MATCHES"));
    }

    #[test]
    fn p035_budget_is_shared_and_spent() {
        let pat = matches_terms(2, "\\\\w{8}");
        let probe = RegexBudget::new(1 << 30);
        assert!(analyze_within(&pat, Some(&probe)).diagnostics.is_empty());
        let cost = probe.total() - probe.remaining();
        assert!(cost > 10_000, "two Unicode class automata: {cost} bytes");
        // Room for exactly ten patterns: the eleventh and later are refused.
        let budget = RegexBudget::new(cost * 10 + cost / 4);
        let refused: Vec<bool> = (0..20)
            .map(|_| codes(&analyze_within(&pat, Some(&budget))).contains(&"P035"))
            .collect();
        assert_eq!(refused.iter().position(|r| *r), Some(10), "{refused:?}");
        assert!(refused[10..].iter().all(|r| *r));
        let why = StixPatternChecker
            .check_within(&pat, &budget)
            .expect_err("over budget");
        assert!(
            why.contains("P035") && why.contains("compile budget"),
            "{why}"
        );
        // Without a budget (a single pattern checked alone) it is valid.
        assert!(StixPatternChecker.check(&pat).is_ok());
        // Cheap regexes still fit a fresh budget many times over.
        let cheap = RegexBudget::default();
        for _ in 0..1000 {
            assert!(
                analyze_within("[file:name MATCHES '^evil\\\\.exe$']", Some(&cheap))
                    .diagnostics
                    .is_empty()
            );
        }
    }

    #[test]
    fn p035_cancelled() {
        let budget = RegexBudget::default();
        budget.cancel();
        let p = analyze_within("[file:name MATCHES '^a']", Some(&budget));
        assert_eq!(codes(&p), vec!["P035"]);
        assert!(p.diagnostics[0].to_string().contains("cancelled"));
    }

    /// The issue's attack: a ~70 KB envelope of indicators whose patterns are
    /// MATCHES terms with Unicode classes repeated (each just under the
    /// 1 MiB limit). With one shared default budget the whole batch is
    /// checked in well under a second of CPU (7.7 s before, issue 12 §3).
    #[test]
    fn attack_batch_is_bounded() {
        let pat = matches_terms(MAX_REGEXES_PER_PATTERN, "\\\\w{60}");
        let n = 70_000 / pat.len() + 1;
        let budget = RegexBudget::default();
        let t0 = Instant::now();
        let mut over = 0;
        for _ in 0..n {
            if codes(&analyze_within(&pat, Some(&budget))).contains(&"P035") {
                over += 1;
            }
        }
        let took = t0.elapsed();
        eprintln!(
            "{n} patterns of {} bytes: {took:?}, {over} over budget",
            pat.len()
        );
        assert!(over > 0, "the budget was reached");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}
