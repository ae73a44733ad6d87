//! Warnings on valid patterns that can never match as written (issue 13 §4):
//! the grammar admits them, but no STIX 2.1 observation can satisfy them.
//!
//! - P040: a property the SCO type does not define (`ipv4-addr:valu`), with
//!   the closest defined name; custom `x_` properties are left alone.
//! - P041: a constant of the wrong kind for the property (`dst_port = '443'`):
//!   a type mismatch is never equal (docs/matcher-differences.md).
//! - P042: a MAC address literal that is no MAC address (`'aa:bb:cc'`
//!   compared with `mac-addr:value`). IPv4 and IPv6 values that are no
//!   address are errors (P036, `check`): STIX 2.1 §6.8/§6.9 say the property
//!   MUST hold one, as for hash values (P033).
//! - P043: a defanged value (`hxxp://`, `[.]`): telemetry holds live values.
//!
//! Each message says what to write instead. They stay warnings: the pattern
//! is valid STIX Patterning (`pattern validate --strict` makes them fail).

use sightline_stix::validate::schema::{sco_properties, sco_property, ValueKind};

use crate::ast::*;
use crate::diag::show;
use crate::{Code, Diagnostic};

/// The warnings for a parsed pattern, in order of position.
pub(crate) fn lint(src: &str, pattern: &Pattern) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    obs(src, &pattern.expr, &mut out);
    out.sort_by_key(|d| (d.span().start, d.code));
    out
}

fn obs(src: &str, e: &ObsExpr, out: &mut Vec<Diagnostic>) {
    match &e.kind {
        ObsKind::Observation(c) => cmp(src, c, out),
        ObsKind::Group(inner) => obs(src, inner, out),
        ObsKind::And(v) | ObsKind::Or(v) | ObsKind::FollowedBy(v) => {
            for x in v {
                obs(src, x, out);
            }
        }
        ObsKind::Qualified { expr, .. } => obs(src, expr, out),
    }
}

fn cmp(src: &str, c: &CmpExpr, out: &mut Vec<Diagnostic>) {
    match &c.kind {
        CmpKind::Comparison(x) => comparison(src, x, out),
        CmpKind::Group(inner) => cmp(src, inner, out),
        CmpKind::And(v) | CmpKind::Or(v) => {
            for x in v {
                cmp(src, x, out);
            }
        }
    }
}

fn constants(operand: &Operand) -> Vec<(&Constant, Span)> {
    match operand {
        Operand::None => Vec::new(),
        Operand::Constant(c, s) => vec![(c, *s)],
        Operand::Set(v, _) => v.iter().map(|(c, s)| (c, *s)).collect(),
    }
}

fn comparison(src: &str, x: &Comparison, out: &mut Vec<Diagnostic>) {
    for (c, span) in constants(&x.operand) {
        if let Constant::Str(s) = c {
            if let Some(live) = refang(s) {
                out.push(Diagnostic::in_text(
                    src,
                    Code::P043,
                    span,
                    format!(
                        "{} is defanged; telemetry carries the live value: write {}",
                        show(s),
                        show(&live)
                    ),
                ));
            }
        }
    }
    let ty = x.path.object_type.as_str();
    let Some(PathStep::Key { name, span, .. }) = x.path.steps.first() else {
        return;
    };
    let Some(found) = sco_property(ty, name) else {
        return; // not a STIX 2.1 SCO type: custom types define their own
    };
    let Some(kind) = found else {
        if !name.starts_with("x_") {
            let near = sco_properties(ty)
                .unwrap_or_default()
                .into_iter()
                .map(|p| (strsim::levenshtein(name, p), p))
                .min()
                .filter(|(d, _)| *d <= 3);
            let hint = near.map_or_else(String::new, |(_, p)| format!(": did you mean {p}?"));
            out.push(Diagnostic::in_text(
                src,
                Code::P040,
                *span,
                format!("{ty} has no property {} (STIX 2.1 §6){hint}", show(name)),
            ));
        }
        return;
    };
    // Deeper paths (into lists, references, dictionaries) are not judged.
    let element = match (kind, x.path.steps.get(1), x.path.steps.len()) {
        (_, None, 1) => kind,
        (ValueKind::StringList, Some(PathStep::Index { .. } | PathStep::AnyIndex { .. }), 2) => {
            ValueKind::String
        }
        _ => return,
    };
    if !matches!(
        x.op,
        Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::In
    ) {
        return;
    }
    for (c, cspan) in constants(&x.operand) {
        if let Some(msg) = mismatch(element, c) {
            out.push(Diagnostic::in_text(
                src,
                Code::P041,
                cspan,
                format!("{ty}:{name} {msg}"),
            ));
        } else if let (Some(fam), Constant::Str(s)) = (address_family(element), c) {
            if !is_address(element, s) {
                out.push(Diagnostic::in_text(
                    src,
                    Code::P042,
                    cspan,
                    format!(
                        "{} is not a {fam} address, so no {ty}:{name} can equal it",
                        show(s)
                    ),
                ));
            }
        }
    }
}

/// Why constant `c` can never compare equal to a value of `kind`, if so.
fn mismatch(kind: ValueKind, c: &Constant) -> Option<String> {
    use ValueKind as V;
    let stringy = matches!(kind, V::String | V::Ipv4 | V::Ipv6 | V::Mac | V::StringList);
    let ok = match c {
        Constant::Str(_) => stringy || matches!(kind, V::Binary | V::Hex),
        Constant::Int(_) => matches!(kind, V::Integer | V::Number),
        Constant::Float(_) => matches!(kind, V::Number | V::Integer),
        Constant::Bool(_) => kind == V::Boolean,
        Constant::Timestamp(_) => kind == V::Timestamp,
        Constant::Hex(_) => kind == V::Hex,
        Constant::Binary(_) => kind == V::Binary,
    };
    if ok {
        return None;
    }
    let want = match kind {
        V::Integer => "an integer",
        V::Number => "a number",
        V::Boolean => "a boolean (true or false)",
        V::Timestamp => "a timestamp: write t'…'",
        V::Binary => "binary: write b'…'",
        V::Hex => "hex: write h'…'",
        V::String | V::Ipv4 | V::Ipv6 | V::Mac | V::StringList => "a string: quote it",
        V::Reference | V::Object => return None,
    };
    let fix = match (kind, c) {
        (V::Integer | V::Number, Constant::Str(s)) if s.trim().parse::<f64>().is_ok() => {
            format!(" (write {} without quotes)", s.trim())
        }
        _ => String::new(),
    };
    Some(format!(
        "holds {want}, and {} never equals one{fix}",
        c.kind_name()
    ))
}

/// The address family whose literals P042 judges (IPv4 and IPv6 are P036's).
fn address_family(kind: ValueKind) -> Option<&'static str> {
    match kind {
        ValueKind::Mac => Some("MAC"),
        _ => None,
    }
}

fn is_address(kind: ValueKind, s: &str) -> bool {
    match kind {
        ValueKind::Mac => {
            s.split([':', '-']).count() == 6
                && s.split([':', '-'])
                    .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit()))
        }
        _ => true,
    }
}

/// The live form of a defanged value, when `s` is one.
fn refang(s: &str) -> Option<String> {
    const MARKS: &[(&str, &str)] = &[
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("hXXps://", "https://"),
        ("hXXp://", "http://"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("[:]", ":"),
        ("[://]", "://"),
        ("[@]", "@"),
        ("[at]", "@"),
    ];
    let mut live = s.to_owned();
    let mut changed = false;
    for (from, to) in MARKS {
        if live.contains(from) {
            live = live.replace(from, to);
            changed = true;
        }
    }
    changed.then_some(live)
}

#[cfg(test)]
mod tests {
    use crate::Code;

    fn codes(p: &str) -> Vec<Code> {
        let parsed = crate::analyze(p);
        assert!(
            parsed.diagnostics.is_empty(),
            "{p}: {:?}",
            parsed.diagnostics
        );
        parsed.warnings.iter().map(|d| d.code).collect()
    }

    #[test]
    fn patterns_that_cannot_match_are_warned_about() {
        assert_eq!(codes("[ipv4-addr:valu = '198.51.100.1']"), [Code::P040]);
        let w = crate::analyze("[ipv4-addr:valu = '198.51.100.1']").warnings;
        assert!(w[0].message.contains("did you mean value?"), "{}", w[0]);
        assert_eq!(codes("[network-traffic:dst_port = '443']"), [Code::P041]);
        let w = crate::analyze("[network-traffic:dst_port = '443']").warnings;
        assert!(
            w[0].message.contains("write 443 without quotes"),
            "{}",
            w[0]
        );
        assert_eq!(codes("[mac-addr:value = 'aa:bb:cc:dd:ee']"), [Code::P042]);
        assert_eq!(
            codes("[url:value = 'hxxp://evil[.]example/a']"),
            [Code::P043]
        );
        let w = crate::analyze("[url:value = 'hxxp://evil[.]example/a']").warnings;
        assert!(w[0].message.contains("'http://evil.example/a'"), "{}", w[0]);
        assert_eq!(
            codes("[file:size = 'big' AND file:name = 5]"),
            [Code::P041, Code::P041]
        );
    }

    #[test]
    fn patterns_that_can_match_are_left_alone() {
        for p in [
            "[ipv4-addr:value = '198.51.100.1']",
            "[ipv4-addr:value = '10.0.0.0/8']",
            "[ipv4-addr:x_score > 5]",
            "[network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']",
            "[network-traffic:dst_ref.value = '198.51.100.1']",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
            "[x-custom:valu = '1']",
            "[mac-addr:value = 'aa:bb:cc:dd:ee:ff']",
            "[domain-name:value LIKE '%.example.com'] REPEATS 3 TIMES WITHIN 60 SECONDS",
            "[file:ctime > t'2026-01-01T00:00:00Z']",
            "[process:pid = 4]",
        ] {
            assert!(codes(p).is_empty(), "{p}: {:?}", crate::analyze(p).warnings);
        }
    }
}
