//! Semantic checks over a parsed pattern: what the grammar lets through but
//! the specification (STIX 2.1 Part 9) forbids. Each finding has its own code;
//! see `docs/pattern-diagnostics.md` for the section each rule rests on.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::ast::*;
use crate::diag::show;
use crate::{Code, Diagnostic};

/// Compiled-program size limit for `MATCHES` regexes (bytes).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// `MATCHES` comparisons one pattern may hold (P034). Each compiles a regex;
/// real indicators use one or two.
pub const MAX_REGEXES_PER_PATTERN: usize = 16;

/// What a regex the Thompson compiler cannot build on its own (fancy-regex
/// syntax: look-around, backreferences) is charged to the budget: it is
/// compiled within [`REGEX_SIZE_LIMIT`], a quarter of which is a fair guess.
const FANCY_REGEX_COST: u64 = (REGEX_SIZE_LIMIT / 4) as u64;

/// Why a `MATCHES` regex did not compile, in words a pattern author can act
/// on. fancy-regex's own text says only "error building NFA" when the
/// compiled program would pass the size limit; Unicode classes such as `\w`
/// are the usual cause, as each repetition copies a large automaton.
pub fn regex_error_message(e: &fancy_regex::Error) -> String {
    if let fancy_regex::Error::CompileError(fancy_regex::CompileError::InnerError(b)) = e {
        if let Some(limit) = b.size_limit() {
            return too_large_message(limit);
        }
    }
    let msg = e.to_string();
    msg.lines().last().unwrap_or("").trim().to_owned()
}

fn too_large_message(limit: usize) -> String {
    format!(
        "the compiled regular expression would exceed the size limit of {} KiB; \
         Unicode classes (\\w, \\d, \\s, .) repeated many times grow large, \
         an ASCII class such as [A-Za-z0-9_] stays small",
        limit / 1024
    )
}

/// What compiling one regex did to the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charge {
    Fits,
    OverBudget,
    /// Over [`REGEX_SIZE_LIMIT`] on its own (P025).
    TooLarge,
}

pub(crate) fn check(
    src: &str,
    p: &Pattern,
    out: &mut Vec<Diagnostic>,
    budget: Option<&sightline_stix::RegexBudget>,
) {
    let mut cx = Cx {
        src,
        out,
        budget,
        regexes: 0,
    };
    cx.obs(&p.expr);
}

struct Cx<'a, 'o> {
    src: &'a str,
    out: &'o mut Vec<Diagnostic>,
    /// The envelope's or file's compile budget (issue 12 §3), if any.
    budget: Option<&'a sightline_stix::RegexBudget>,
    /// `MATCHES` regexes seen so far in this pattern.
    regexes: usize,
}

impl Cx<'_, '_> {
    fn push(&mut self, code: Code, span: Span, msg: impl Into<String>) {
        self.out
            .push(Diagnostic::in_text(self.src, code, span, msg));
    }

    fn obs(&mut self, e: &ObsExpr) {
        match &e.kind {
            ObsKind::Observation(c) => {
                self.cmp_types(c);
            }
            ObsKind::Group(inner) => self.obs(inner),
            ObsKind::And(items) | ObsKind::Or(items) | ObsKind::FollowedBy(items) => {
                items.iter().for_each(|i| self.obs(i))
            }
            ObsKind::Qualified { expr, qualifiers } => {
                self.obs(expr);
                let mut seen: Vec<&'static str> = Vec::new();
                for q in qualifiers {
                    let k = q.kind.keyword();
                    if seen.contains(&k) {
                        self.push(
                            Code::P032,
                            q.span,
                            format!(
                                "a second {k} qualifier on the same observation expression: \
                                 put the first in parentheses to qualify the group"
                            ),
                        );
                    }
                    seen.push(k);
                }
            }
        }
    }

    /// Checks each comparison and returns the object types that can satisfy
    /// `e`: a comparison's type; the union over `OR`; the intersection over
    /// `AND`, which must not be empty (§9.5: AND-ed comparisons must be
    /// satisfiable by one object).
    fn cmp_types<'p>(&mut self, e: &'p CmpExpr) -> BTreeSet<&'p str> {
        match &e.kind {
            CmpKind::Comparison(c) => {
                self.comparison(c);
                BTreeSet::from([c.path.object_type.as_str()])
            }
            CmpKind::Group(inner) => self.cmp_types(inner),
            CmpKind::Or(items) => items.iter().flat_map(|i| self.cmp_types(i)).collect(),
            CmpKind::And(items) => {
                let mut acc: Option<BTreeSet<&str>> = None;
                let mut union = BTreeSet::new();
                let mut reported = false;
                for i in items {
                    let t = self.cmp_types(i);
                    union.extend(t.iter().copied());
                    acc = Some(match acc {
                        None => t,
                        Some(a) => {
                            let both: BTreeSet<&str> = a.intersection(&t).copied().collect();
                            if both.is_empty() && !reported {
                                reported = true;
                                let l: Vec<_> = a.iter().copied().collect();
                                let r: Vec<_> = t.iter().copied().collect();
                                self.push(
                                    Code::P021,
                                    i.span,
                                    format!(
                                        "comparisons joined by AND inside one observation \
                                         expression must be about one object type: {} and {}; \
                                         use separate observation expressions ([…] AND […])",
                                        l.join("/"),
                                        r.join("/")
                                    ),
                                );
                            }
                            if both.is_empty() {
                                a
                            } else {
                                both
                            }
                        }
                    });
                }
                if reported {
                    union
                } else {
                    acc.unwrap_or_default()
                }
            }
        }
    }

    fn comparison(&mut self, c: &Comparison) {
        let ty = &c.path.object_type;
        if !sightline_stix::ids::is_valid_type_name(ty) {
            self.push(
                Code::P020,
                c.path.type_span,
                format!(
                    "{} is not a STIX object type name: 3-250 characters of a-z, 0-9 and '-', \
                     no leading, trailing or double '-'",
                    show(ty)
                ),
            );
        }
        match (&c.operand, c.op) {
            (Operand::Constant(Constant::Str(s), span), Op::Matches) => self.regex(s, *span),
            (Operand::Constant(Constant::Str(s), span), Op::IsSubset | Op::IsSuperset)
                if !is_ip_or_cidr(s) =>
            {
                self.push(
                    Code::P026,
                    *span,
                    format!(
                        "{} needs an IPv4 or IPv6 address or CIDR block (e.g. '198.51.100.0/24'), found {}",
                        c.op.as_str(),
                        show(s)
                    ),
                );
            }
            (Operand::Set(items, _), _) => {
                let mut first: Option<(&Constant, u8)> = None;
                for (k, span) in items {
                    let class = set_class(k);
                    match first {
                        None => first = Some((k, class)),
                        Some((f, fc)) if fc != class => {
                            self.push(
                                Code::P027,
                                *span,
                                format!(
                                    "the members of a set must be of one type: {} after {}",
                                    k.kind_name(),
                                    f.kind_name()
                                ),
                            );
                            break;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        self.hash_value(c);
        self.address_value(c);
    }

    fn regex(&mut self, re: &str, span: Span) {
        self.regexes += 1;
        if self.regexes > MAX_REGEXES_PER_PATTERN {
            // Reported once, at the first one over; none beyond is compiled.
            if self.regexes == MAX_REGEXES_PER_PATTERN + 1 {
                self.push(
                    Code::P034,
                    span,
                    format!(
                        "a pattern may hold at most {MAX_REGEXES_PER_PATTERN} MATCHES \
                         comparisons (each compiles a regular expression); split it into \
                         several indicators"
                    ),
                );
            }
            return;
        }
        if let Some(b) = self.budget {
            if b.is_cancelled() {
                self.push(
                    Code::P035,
                    span,
                    "validation stopped: the request was cancelled",
                );
                return;
            }
            let charged = self.charge(re, b);
            if charged == Charge::TooLarge {
                self.push(
                    Code::P025,
                    span,
                    format!(
                        "MATCHES needs a valid regular expression: {}",
                        too_large_message(REGEX_SIZE_LIMIT)
                    ),
                );
                return;
            }
            if charged == Charge::OverBudget {
                self.push(
                    Code::P035,
                    span,
                    format!(
                        "the regular expressions of this envelope or file are over their \
                         compile budget ({} MiB of compiled automata); this one was not \
                         compiled: send fewer MATCHES comparisons per request or file",
                        b.total() >> 20
                    ),
                );
                return;
            }
        }
        let built = fancy_regex::RegexBuilder::new(re)
            .delegate_size_limit(REGEX_SIZE_LIMIT)
            .delegate_dfa_size_limit(REGEX_SIZE_LIMIT)
            .backtrack_limit(1_000_000)
            .build();
        if let Err(e) = built {
            let msg = regex_error_message(&e);
            self.push(
                Code::P025,
                span,
                format!("MATCHES needs a valid regular expression: {msg}"),
            );
        }
    }

    /// Builds the regex's Thompson NFA within what is left of `budget` (at
    /// most [`REGEX_SIZE_LIMIT`]) and spends its size. The compiler stops as
    /// soon as it passes the limit, so a regex never costs more than was
    /// left; one over the per-regex limit costs that limit (it was built
    /// that far) and is refused here, not compiled a second time.
    fn charge(&self, re: &str, b: &sightline_stix::RegexBudget) -> Charge {
        use regex_automata::nfa::thompson;
        let left = b.remaining();
        let limit = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(REGEX_SIZE_LIMIT);
        let built = thompson::NFA::compiler()
            .configure(thompson::Config::new().nfa_size_limit(Some(limit)))
            .build(re);
        match built {
            Ok(nfa) if b.spend(nfa.memory_usage() as u64) => Charge::Fits,
            Ok(_) => Charge::OverBudget,
            Err(e) if e.size_limit().is_some() => {
                b.spend(limit as u64);
                if limit < REGEX_SIZE_LIMIT {
                    Charge::OverBudget
                } else {
                    Charge::TooLarge
                }
            }
            // fancy-regex syntax (or a plain error, reported as P025).
            Err(_) if b.spend(FANCY_REGEX_COST) => Charge::Fits,
            Err(_) => Charge::OverBudget,
        }
    }

    /// Hash values compared with `=`, `!=`, ordering or `IN` must have the
    /// algorithm's form (hex of the right length), as the OASIS validator
    /// checks: a path with a `hashes` step whose last key names an algorithm.
    fn hash_value(&mut self, c: &Comparison) {
        if matches!(
            c.op,
            Op::Like | Op::Matches | Op::Exists | Op::IsSubset | Op::IsSuperset
        ) {
            return;
        }
        let has_hashes = c
            .path
            .steps
            .iter()
            .any(|s| matches!(s, PathStep::Key { name, .. } if name == "hashes"));
        let Some(PathStep::Key { name, .. }) = c.path.steps.last() else {
            return;
        };
        if !has_hashes {
            return;
        }
        let norm: String = name
            .chars()
            .filter(|&ch| ch != '-')
            .flat_map(char::to_uppercase)
            .collect();
        let Some(ok) = hash_form(&norm) else {
            return;
        };
        for (k, span) in c.operand.constants() {
            let valid = matches!(k, Constant::Str(s) if ok(s));
            if !valid {
                self.push(
                    Code::P033,
                    span,
                    format!("{k} is not a valid {name} hash value"),
                );
            }
        }
    }
}

impl Cx<'_, '_> {
    /// `ipv4-addr:value` and `ipv6-addr:value` hold an address of their
    /// family or a CIDR block (STIX 2.1 §6.8, §6.9: "MUST"), so a string
    /// compared with them by `=`, `!=`, ordering or `IN` must be one, as a
    /// hash value must have its algorithm's form (P033). `ISSUBSET` and
    /// `ISSUPERSET` have their own check (P026); `LIKE`/`MATCHES` constants
    /// are patterns; other constant kinds are P041's (a warning).
    fn address_value(&mut self, c: &Comparison) {
        let v6 = match c.path.object_type.as_str() {
            "ipv4-addr" => false,
            "ipv6-addr" => true,
            _ => return,
        };
        if !matches!(c.path.steps.as_slice(), [PathStep::Key { name, .. }] if name == "value")
            || matches!(
                c.op,
                Op::Like | Op::Matches | Op::Exists | Op::IsSubset | Op::IsSuperset
            )
        {
            return;
        }
        for (k, span) in c.operand.constants() {
            let Constant::Str(s) = k else { continue };
            if let Some(why) = address_problem(v6, s) {
                let (fam, ty, sec) = if v6 {
                    ("IPv6", "ipv6-addr", "6.9")
                } else {
                    ("IPv4", "ipv4-addr", "6.8")
                };
                self.push(
                    Code::P036,
                    span,
                    format!(
                        "{} is not an {fam} address or CIDR block, which {ty}:value must hold \
                         (STIX 2.1 §{sec}): {why}",
                        show(s)
                    ),
                );
            }
        }
    }
}

/// Why `s` is not an address of the family (IPv6 when `v6`) with an optional
/// `/prefix` in range; `None` when it is one.
fn address_problem(v6: bool, s: &str) -> Option<String> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let max = if v6 { 128 } else { 32 };
    let family = ip_family(addr);
    if family == Some(if v6 { 128 } else { 32 }) {
        return match prefix {
            Some(p) if !prefix_in_range(p, max) => Some(format!(
                "the prefix length /{p} is not a whole number from 0 to {max}"
            )),
            _ => None,
        };
    }
    Some(match family {
        Some(32) => "an IPv4 address: compare ipv4-addr:value, or write it IPv4-mapped \
                     (::ffff:a.b.c.d)"
            .to_owned(),
        Some(_) => "an IPv6 address: compare ipv6-addr:value".to_owned(),
        None if v6 && addr.contains('%') => format!(
            "a zone id ('%{}') is no part of the address: write {}",
            addr.split_once('%').map_or("", |(_, z)| z),
            show(addr.split_once('%').map_or(addr, |(a, _)| a))
        ),
        None if v6 => match addr
            .split([':', '.'])
            .find(|g| g.len() > 4 && g.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            Some(g) => format!("the group {} has more than 4 hex digits", show(g)),
            None => "eight groups of 1-4 hex digits, '::' standing for one or more \
                     groups of zeros, the last two may be an IPv4 address"
                .to_owned(),
        },
        None => "four decimal numbers 0-255 without leading zeros, joined by '.'".to_owned(),
    })
}

/// 32 for an IPv4 address, 128 for an IPv6 one (std's parsers: RFC 4291
/// §2.2 text forms, no zone ids; IPv4 without leading zeros).
fn ip_family(addr: &str) -> Option<u32> {
    if addr.parse::<Ipv4Addr>().is_ok() {
        Some(32)
    } else if addr.parse::<Ipv6Addr>().is_ok() {
        Some(128)
    } else {
        None
    }
}

/// A CIDR prefix length: 1-3 decimal digits, at most `max`.
fn prefix_in_range(p: &str, max: u32) -> bool {
    !p.is_empty()
        && p.len() <= 3
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u32>().is_ok_and(|n| n <= max)
}

/// Kinds that may share a set: integers and floats mix.
fn set_class(c: &Constant) -> u8 {
    match c {
        Constant::Int(_) | Constant::Float(_) => 0,
        Constant::Str(_) => 1,
        Constant::Bool(_) => 2,
        Constant::Timestamp(_) => 3,
        Constant::Hex(_) | Constant::Binary(_) => 4,
    }
}

fn hex_of(s: &str, lens: &[usize]) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The value check for a hash algorithm named (upper-cased, '-' removed) `norm`.
fn hash_form(norm: &str) -> Option<fn(&str) -> bool> {
    Some(match norm {
        "MD5" => |s| hex_of(s, &[32]),
        "MD6" => |s| hex_of(s, &[32, 40, 56, 64, 96, 128]),
        "RIPEMD160" | "SHA1" => |s| hex_of(s, &[40]),
        "SHA224" | "SHA3224" => |s| hex_of(s, &[56]),
        "SHA256" | "SHA3256" => |s| hex_of(s, &[64]),
        "SHA384" | "SHA3384" => |s| hex_of(s, &[96]),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => |s| hex_of(s, &[128]),
        "SSDEEP" => |s| {
            (1..=128).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b':' | b'.'))
        },
        _ => return None,
    })
}

/// An IPv4/IPv6 address, optionally with a `/prefix` in range.
pub(crate) fn is_ip_or_cidr(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Some(max) = ip_family(addr) else {
        return false;
    };
    prefix.is_none_or(|p| prefix_in_range(p, max))
}
