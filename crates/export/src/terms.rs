//! A STIX pattern as the sensors see it: a disjunction of alternatives, each
//! the conjunction of exact comparisons one observation must satisfy.
//!
//! Observation-level `OR` and comparison-level `OR`/`IN` become separate
//! alternatives (an OR of alternatives is exactly the union of what each
//! matches, so every format may emit one line or rule per alternative);
//! comparison-level `AND` distributes. What has no exact sensor form at all
//! (observation `AND`/`FOLLOWEDBY`, qualifiers, `NOT`, ordering, `LIKE`,
//! `MATCHES`, `ISSUPERSET`, `EXISTS`) becomes an [`Unexpressed`] part with
//! its reason: reported, never dropped or widened. Each format then decides
//! which of the remaining alternatives it can carry.

use std::net::IpAddr;

use ipnet::IpNet;
use sightline_pattern::{
    CmpExpr, CmpKind, Comparison, Constant, ObsExpr, ObsKind, Op, Operand, PathStep,
};

/// At most this many alternatives per pattern: `AND` of `OR`s multiplies.
pub const MAX_ALTERNATIVES: usize = 1024;

/// A hash algorithm named by a `hashes` key (STIX 2.1 §10.7 hash-algorithm-ov).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlgo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Other(String),
}

impl HashAlgo {
    fn of(key: &str) -> HashAlgo {
        match key.to_ascii_uppercase().replace('_', "-").as_str() {
            "MD5" => HashAlgo::Md5,
            "SHA-1" | "SHA1" => HashAlgo::Sha1,
            "SHA-256" | "SHA256" => HashAlgo::Sha256,
            "SHA-512" | "SHA512" => HashAlgo::Sha512,
            _ => HashAlgo::Other(key.to_owned()),
        }
    }

    /// The STIX key (`MD5`, `SHA-1`, ...).
    pub fn stix_key(&self) -> &str {
        match self {
            HashAlgo::Md5 => "MD5",
            HashAlgo::Sha1 => "SHA-1",
            HashAlgo::Sha256 => "SHA-256",
            HashAlgo::Sha512 => "SHA-512",
            HashAlgo::Other(k) => k,
        }
    }
}

/// The property a comparison reads, among those some sensor can observe.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prop {
    /// `ipv4-addr:value`, `ipv6-addr:value`: an address in either direction.
    Addr,
    Domain,
    Url,
    Email,
    FileHash(HashAlgo),
    FileName,
    CertHash(HashAlgo),
    /// `network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'`
    UserAgent,
    AccountLogin,
    /// `network-traffic:dst_ref.value`
    DstAddr,
    SrcAddr,
    DstPort,
    SrcPort,
    /// `network-traffic:protocols[*]`
    Protocol,
    /// Any other property (its path text).
    Other(String),
}

/// The constant of an exact comparison.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TermValue {
    Str(String),
    Addr(IpAddr),
    /// A CIDR range (`ISSUBSET`, or a CIDR written as an address value).
    Net(IpNet),
    Port(u16),
}

/// One exact comparison: `path = value` (or an address `ISSUBSET` a range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub prop: Prop,
    /// The STIX object path as canonically printed (`file:hashes.'SHA-256'`).
    pub path: String,
    pub value: TermValue,
}

impl Term {
    /// The value as text (a CIDR as `a/n`).
    pub fn text(&self) -> String {
        match &self.value {
            TermValue::Str(s) => s.clone(),
            TermValue::Addr(a) => a.to_string(),
            TermValue::Net(n) => n.to_string(),
            TermValue::Port(p) => p.to_string(),
        }
    }
}

/// A conjunction of exact comparisons on one observation, with the text of
/// the pattern part it came from (for reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub terms: Vec<Term>,
    pub text: String,
}

/// A part of a pattern no sensor format can carry exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpressed {
    /// The pattern text of the part.
    pub text: String,
    pub reason: String,
}

/// A pattern split into what may be exported and what may not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub alternatives: Vec<Alternative>,
    pub unexpressed: Vec<Unexpressed>,
}

/// Splits a parsed pattern.
pub fn split(pattern: &sightline_pattern::Pattern) -> Split {
    let mut out = Split::default();
    obs(&pattern.expr, &mut out);
    out
}

fn obs(e: &ObsExpr, out: &mut Split) {
    let why = match &e.kind {
        ObsKind::Observation(c) => {
            match cmp(c) {
                Ok(alts) => {
                    for a in alts {
                        match a.iter().map(term).collect::<Result<Vec<_>, _>>() {
                            Ok(terms) => out.alternatives.push(Alternative {
                                text: alt_text(&a),
                                terms,
                            }),
                            Err(reason) => out.unexpressed.push(Unexpressed {
                                text: alt_text(&a),
                                reason,
                            }),
                        }
                    }
                }
                Err(reason) => out.unexpressed.push(Unexpressed {
                    text: e.to_string(),
                    reason,
                }),
            }
            return;
        }
        ObsKind::Group(inner) => return obs(inner, out),
        ObsKind::Or(items) => {
            for i in items {
                obs(i, out);
            }
            return;
        }
        ObsKind::And(_) => {
            "AND between observations needs two observations joined by the sensor".to_owned()
        }
        ObsKind::FollowedBy(_) => "FOLLOWEDBY is a temporal operator".to_owned(),
        ObsKind::Qualified { qualifiers, .. } => {
            let names: Vec<&str> = qualifiers.iter().map(|q| q.kind.keyword()).collect();
            format!("{} is a temporal qualifier", names.join(", "))
        }
    };
    out.unexpressed.push(Unexpressed {
        text: e.to_string(),
        reason: why,
    });
}

fn alt_text(a: &[Comparison]) -> String {
    let parts: Vec<String> = a.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(" AND "))
}

/// The comparison expression in disjunctive normal form, `IN` expanded.
fn cmp(e: &CmpExpr) -> Result<Vec<Vec<Comparison>>, String> {
    match &e.kind {
        CmpKind::Comparison(c) => Ok(expand_in(c)),
        CmpKind::Group(inner) => cmp(inner),
        CmpKind::Or(items) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(cmp(i)?);
                if out.len() > MAX_ALTERNATIVES {
                    return Err(format!("more than {MAX_ALTERNATIVES} alternatives"));
                }
            }
            Ok(out)
        }
        CmpKind::And(items) => {
            let mut acc: Vec<Vec<Comparison>> = vec![Vec::new()];
            for i in items {
                let rhs = cmp(i)?;
                if acc.len().saturating_mul(rhs.len()) > MAX_ALTERNATIVES {
                    return Err(format!("more than {MAX_ALTERNATIVES} alternatives"));
                }
                let mut next = Vec::with_capacity(acc.len() * rhs.len());
                for a in &acc {
                    for b in &rhs {
                        let mut c = a.clone();
                        c.extend(b.iter().cloned());
                        next.push(c);
                    }
                }
                acc = next;
            }
            Ok(acc)
        }
    }
}

/// `p IN (a, b)` is `p = a OR p = b` (STIX 2.1 Part 9 §9.8.1); `NOT IN` is kept
/// whole (it is a conjunction of `!=`, which no format expresses).
fn expand_in(c: &Comparison) -> Vec<Vec<Comparison>> {
    match (&c.op, &c.operand, c.negated) {
        (Op::In, Operand::Set(items, _), false) => items
            .iter()
            .map(|(k, span)| {
                vec![Comparison {
                    op: Op::Eq,
                    operand: Operand::Constant(k.clone(), *span),
                    ..c.clone()
                }]
            })
            .collect(),
        _ => vec![vec![c.clone()]],
    }
}

fn key(step: &PathStep) -> Option<&str> {
    match step {
        PathStep::Key { name, .. } => Some(name),
        _ => None,
    }
}

fn prop_of(c: &Comparison) -> Prop {
    let p = &c.path;
    let steps: Vec<Option<&str>> = p.steps.iter().map(key).collect();
    let any_index = |i: usize| matches!(p.steps.get(i), Some(PathStep::AnyIndex { .. }));
    match (p.object_type.as_str(), steps.as_slice()) {
        ("ipv4-addr" | "ipv6-addr", [Some("value")]) => Prop::Addr,
        ("domain-name", [Some("value")]) => Prop::Domain,
        ("url", [Some("value")]) => Prop::Url,
        ("email-addr", [Some("value")]) => Prop::Email,
        ("file", [Some("hashes"), Some(k)]) => Prop::FileHash(HashAlgo::of(k)),
        ("file", [Some("name")]) => Prop::FileName,
        ("x509-certificate", [Some("hashes"), Some(k)]) => Prop::CertHash(HashAlgo::of(k)),
        ("user-account", [Some("account_login")]) => Prop::AccountLogin,
        ("network-traffic", [Some("dst_ref"), Some("value")]) => Prop::DstAddr,
        ("network-traffic", [Some("src_ref"), Some("value")]) => Prop::SrcAddr,
        ("network-traffic", [Some("dst_port")]) => Prop::DstPort,
        ("network-traffic", [Some("src_port")]) => Prop::SrcPort,
        ("network-traffic", [Some("protocols"), None]) if any_index(1) => Prop::Protocol,
        (
            "network-traffic",
            [Some("extensions"), Some("http-request-ext"), Some("request_header"), Some(h)],
        ) if h.eq_ignore_ascii_case("User-Agent") => Prop::UserAgent,
        _ => Prop::Other(p.to_string()),
    }
}

fn is_addr(p: &Prop) -> bool {
    matches!(p, Prop::Addr | Prop::DstAddr | Prop::SrcAddr)
}

/// An address or CIDR constant; a CIDR of full length is the address.
fn ip_value(s: &str) -> Option<TermValue> {
    if let Ok(a) = s.parse::<IpAddr>() {
        return Some(TermValue::Addr(a));
    }
    let n = s.parse::<IpNet>().ok()?;
    if n.prefix_len() == n.max_prefix_len() {
        Some(TermValue::Addr(n.addr()))
    } else {
        Some(TermValue::Net(n.trunc()))
    }
}

fn term(c: &Comparison) -> Result<Term, String> {
    let prop = prop_of(c);
    let path = c.path.to_string();
    if c.negated {
        return Err(format!("NOT {} has no exact sensor form", c.op.as_str()));
    }
    let constant = match &c.operand {
        Operand::Constant(k, _) => k,
        _ => return Err(format!("{} has no exact sensor form", c.op.as_str())),
    };
    let value = match (c.op, constant) {
        (Op::Eq, Constant::Str(s)) if is_addr(&prop) => {
            ip_value(s).ok_or_else(|| format!("{s:?} is not an IP address or CIDR"))?
        }
        (Op::IsSubset, Constant::Str(s)) if is_addr(&prop) => match s.parse::<IpNet>() {
            Ok(n) => TermValue::Net(n.trunc()),
            Err(_) => return Err(format!("{s:?} is not a CIDR range")),
        },
        (Op::Eq, Constant::Int(i)) if matches!(prop, Prop::DstPort | Prop::SrcPort) => {
            match i.to_i128().and_then(|v| u16::try_from(v).ok()) {
                Some(p) => TermValue::Port(p),
                None => return Err(format!("{i} is not a port number")),
            }
        }
        (Op::Eq, Constant::Str(s)) if prop == Prop::Protocol => {
            TermValue::Str(s.to_ascii_lowercase())
        }
        (Op::Eq, Constant::Str(s)) => TermValue::Str(s.clone()),
        (Op::Eq, k) => return Err(format!("= {} has no sensor form", k.kind_name())),
        (op, _) => return Err(format!("{} has no exact sensor form", op.as_str())),
    };
    Ok(Term { prop, path, value })
}
