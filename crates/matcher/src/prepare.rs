//! A parsed pattern made ready to evaluate: constants decoded once (integers
//! exact, timestamps as order keys, CIDRs parsed, LIKE and MATCHES compiled
//! with limits), groups flattened. Both the reference evaluator and the
//! compiled matcher run these [`Test`]s, so a comparison means one thing.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::value::Value;
use ipnet::IpNet;
use sightline_pattern::{
    CmpExpr, CmpKind, Constant, ObsExpr, ObsKind, Op, Operand, PathStep, Pattern, QualifierKind,
};
use sightline_stix::encoding::{decode_base64, decode_hex};
use unicode_normalization::UnicodeNormalization;

use crate::observation::Observation;
use crate::time;

/// Compiled-program size limit of a `MATCHES` regex (bytes).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Backtracking steps a `MATCHES` regex may take on one value before the
/// evaluation fails (a hostile regex such as `(a+)+$` is an error, not a hang).
pub const REGEX_BACKTRACK_LIMIT: usize = 1_000_000;

/// A pattern that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    #[error("invalid pattern: {0}")]
    Invalid(String),
    #[error("{what} is out of range")]
    OutOfRange { what: String },
    #[error("invalid regular expression {regex:?}: {message}")]
    Regex { regex: String, message: String },
    #[error("invalid timestamp {0:?}")]
    Timestamp(String),
    #[error("{0:?} is not an IPv4 or IPv6 address or CIDR block")]
    Cidr(String),
}

/// A failure while evaluating.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("regular expression {regex:?} gave up on a value: {message}")]
    RegexLimit { regex: String, message: String },
    #[error("more than {limit} partial matches: the pattern is too costly to evaluate over these observations")]
    TooManyBindings { limit: usize },
    #[error("more than {limit} combinations of observations tried: the pattern is too costly to evaluate over these observations")]
    TooCostly { limit: u64 },
}

/// An observation expression with its qualifiers as nodes.
#[derive(Debug, Clone)]
pub enum PObs {
    /// `[ ... ]`, numbered 0.. in written order within its pattern.
    Leaf(usize, PCmp),
    And(Vec<PObs>),
    Or(Vec<PObs>),
    FollowedBy(Vec<PObs>),
    /// `WITHIN n SECONDS`, in µs.
    Within(Box<PObs>, i64),
    /// `REPEATS n TIMES`
    Repeats(Box<PObs>, u64),
    /// `START s STOP e`, in µs.
    StartStop(Box<PObs>, i64, i64),
}

/// A comparison expression (inside `[...]`).
#[derive(Debug, Clone)]
pub enum PCmp {
    Test(Arc<Test>),
    And(Vec<PCmp>),
    Or(Vec<PCmp>),
}

/// One step of an object path after the first key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    Key(String),
    Index(i64),
    Any,
}

/// A constant, decoded.
#[derive(Debug, Clone)]
pub enum Const {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
    /// `t'...'`: the text and its order key.
    Time(String, String),
    /// `h'..'` and `b'..'`
    Bytes(Vec<u8>),
}

/// The right-hand side of a test.
#[derive(Debug, Clone)]
pub enum Rhs {
    None,
    Const(Const),
    Set(Vec<Const>),
    /// The compiled LIKE and its NFC-normalised source.
    Like(regex::Regex, String),
    Matches(Box<fancy_regex::Regex>),
    Net(IpNet),
}

/// One comparison: `type:path [NOT] op rhs`.
#[derive(Debug, Clone)]
pub struct Test {
    pub object_type: String,
    pub steps: Vec<Step>,
    pub negated: bool,
    pub op: Op,
    pub rhs: Rhs,
    /// The comparison as written canonically, for explanations.
    pub text: String,
    /// The path as written canonically (`network-traffic:dst_ref.value`).
    pub path: String,
}

/// A pattern ready to evaluate.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub root: PObs,
    /// The `[ ... ]` of the pattern, by leaf number.
    pub leaves: Vec<PCmp>,
    /// The canonical pattern text.
    pub text: String,
}

impl Prepared {
    /// Parses, checks and prepares `src`.
    pub fn new(src: &str) -> Result<Self, PrepareError> {
        let pattern = sightline_pattern::parse(src).map_err(|diags| {
            PrepareError::Invalid(
                diags
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        Self::from_ast(&pattern)
    }

    pub fn from_ast(p: &Pattern) -> Result<Self, PrepareError> {
        let mut leaves = Vec::new();
        Ok(Prepared {
            root: obs(&p.expr, &mut leaves)?,
            leaves,
            text: p.to_string(),
        })
    }
}

fn obs(e: &ObsExpr, leaves: &mut Vec<PCmp>) -> Result<PObs, PrepareError> {
    let mut list = |items: &[ObsExpr]| {
        items
            .iter()
            .map(|i| obs(i, leaves))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match &e.kind {
        ObsKind::Observation(c) => {
            let c = cmp(c)?;
            leaves.push(c.clone());
            PObs::Leaf(leaves.len() - 1, c)
        }
        ObsKind::Group(inner) => obs(inner, leaves)?,
        ObsKind::And(items) => PObs::And(list(items)?),
        ObsKind::Or(items) => PObs::Or(list(items)?),
        ObsKind::FollowedBy(items) => PObs::FollowedBy(list(items)?),
        ObsKind::Qualified { expr, qualifiers } => {
            let mut node = obs(expr, leaves)?;
            // Qualifiers apply in written order (Part 9 §9.6).
            for q in qualifiers {
                node = match &q.kind {
                    QualifierKind::Within { seconds } => {
                        PObs::Within(Box::new(node), seconds_to_micros(seconds)?)
                    }
                    QualifierKind::Repeats { times } => {
                        let n = times
                            .to_i128()
                            .and_then(|v| u64::try_from(v).ok())
                            .ok_or_else(|| PrepareError::OutOfRange {
                                what: format!("REPEATS {times}"),
                            })?;
                        PObs::Repeats(Box::new(node), n)
                    }
                    QualifierKind::StartStop { start, stop } => {
                        let s = time::parse_micros(start)
                            .map_err(|_| PrepareError::Timestamp(start.clone()))?;
                        let e = time::parse_micros(stop)
                            .map_err(|_| PrepareError::Timestamp(stop.clone()))?;
                        PObs::StartStop(Box::new(node), s, e)
                    }
                };
            }
            node
        }
    })
}

fn seconds_to_micros(c: &Constant) -> Result<i64, PrepareError> {
    let out_of_range = || PrepareError::OutOfRange {
        what: format!("WITHIN {c} SECONDS"),
    };
    match c {
        Constant::Int(i) => i
            .to_i128()
            .and_then(|v| v.checked_mul(1_000_000))
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(out_of_range),
        Constant::Float(f) => {
            let us = (f.value() * 1e6).round();
            if us.is_finite() && us.abs() < 9.2e18 {
                #[allow(clippy::cast_possible_truncation)]
                Ok(us as i64)
            } else {
                Err(out_of_range())
            }
        }
        _ => Err(out_of_range()),
    }
}

fn cmp(e: &CmpExpr) -> Result<PCmp, PrepareError> {
    let list = |items: &[CmpExpr]| items.iter().map(cmp).collect::<Result<Vec<_>, _>>();
    Ok(match &e.kind {
        CmpKind::Comparison(c) => PCmp::Test(Arc::new(test(c)?)),
        CmpKind::Group(inner) => cmp(inner)?,
        CmpKind::And(items) => PCmp::And(list(items)?),
        CmpKind::Or(items) => PCmp::Or(list(items)?),
    })
}

fn constant(c: &Constant) -> Result<Const, PrepareError> {
    Ok(match c {
        Constant::Int(i) => Const::Int(i.to_i128().ok_or_else(|| PrepareError::OutOfRange {
            what: format!("integer {i}"),
        })?),
        Constant::Float(f) => Const::Float(f.value()),
        Constant::Str(s) => Const::Str(s.clone()),
        Constant::Bool(b) => Const::Bool(*b),
        Constant::Timestamp(t) => Const::Time(
            t.clone(),
            time::order_key(t).ok_or_else(|| PrepareError::Timestamp(t.clone()))?,
        ),
        Constant::Hex(b) | Constant::Binary(b) => Const::Bytes(b.clone()),
    })
}

fn test(c: &sightline_pattern::Comparison) -> Result<Test, PrepareError> {
    let steps = c
        .path
        .steps
        .iter()
        .map(|s| match s {
            PathStep::Key { name, .. } => Step::Key(name.clone()),
            PathStep::Index { index, .. } => Step::Index(*index),
            PathStep::AnyIndex { .. } => Step::Any,
        })
        .collect();
    let rhs = match (&c.operand, c.op) {
        (Operand::None, _) => Rhs::None,
        (Operand::Set(items, _), _) => Rhs::Set(
            items
                .iter()
                .map(|(c, _)| constant(c))
                .collect::<Result<_, _>>()?,
        ),
        (Operand::Constant(Constant::Str(s), _), Op::Like) => {
            Rhs::Like(like_regex(s)?, s.nfc().collect())
        }
        (Operand::Constant(Constant::Str(s), _), Op::Matches) => {
            Rhs::Matches(Box::new(matches_regex(s)?))
        }
        (Operand::Constant(Constant::Str(s), _), Op::IsSubset | Op::IsSuperset) => {
            Rhs::Net(parse_net(s).ok_or_else(|| PrepareError::Cidr(s.clone()))?)
        }
        (Operand::Constant(k, _), _) => Rhs::Const(constant(k)?),
    };
    Ok(Test {
        object_type: c.path.object_type.clone(),
        steps,
        negated: c.negated,
        op: c.op,
        rhs,
        text: c.to_string(),
        path: c.path.to_string(),
    })
}

/// `LIKE` as a regex over the whole value: `%` any run, `_` one character,
/// newlines included (`(?s)`), no escape character (Part 9 §9.3 / SQL LIKE).
/// Both sides are NFC-normalised.
fn like_regex(s: &str) -> Result<regex::Regex, PrepareError> {
    let mut re = String::from("(?s)\\A");
    for ch in s.nfc() {
        match ch {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push_str("\\z");
    regex::RegexBuilder::new(&re)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| PrepareError::Regex {
            regex: s.to_owned(),
            message: e.to_string(),
        })
}

fn matches_regex(s: &str) -> Result<fancy_regex::Regex, PrepareError> {
    let nfc: String = s.nfc().collect();
    fancy_regex::RegexBuilder::new(&nfc)
        .backtrack_limit(REGEX_BACKTRACK_LIMIT)
        .delegate_size_limit(REGEX_SIZE_LIMIT)
        .delegate_dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| PrepareError::Regex {
            regex: s.to_owned(),
            message: sightline_pattern::regex_error_message(&e),
        })
}

/// An address (as a /32 or /128) or a CIDR block, host bits cleared.
#[must_use]
pub fn parse_net(s: &str) -> Option<IpNet> {
    if s.contains('/') {
        s.parse::<IpNet>().ok().map(|n| n.trunc())
    } else {
        s.parse::<std::net::IpAddr>().ok().map(IpNet::from)
    }
}

// ---------------------------------------------------------------------------
// Paths

/// A value reached by a path, with the name of the key it came from (its
/// `_hex`/`_bin` suffix makes a string binary, Part 9 §9.4).
#[derive(Debug, Clone, Copy)]
pub struct Reached<'a> {
    pub value: &'a Value,
    pub key: &'a str,
}

/// Every value `steps` reach from `root`, an SCO of `obs`. Keys ending in
/// `_ref`/`_refs` are followed to the referenced SCO of the same observation
/// when the path goes on past them; dangling references reach nothing
/// (Part 9 §9.5).
pub fn resolve<'a>(obs: &'a Observation, root: &'a Value, steps: &'a [Step]) -> Vec<Reached<'a>> {
    let mut out = Vec::new();
    resolve_each(obs, root, steps, &mut |r| out.push(r));
    out
}

/// [`resolve`] without allocating: calls `f` with each value reached, in order.
pub fn resolve_each<'a>(
    obs: &'a Observation,
    root: &'a Value,
    steps: &'a [Step],
    f: &mut dyn FnMut(Reached<'a>),
) {
    walk(
        obs,
        Reached {
            value: root,
            key: "",
        },
        steps,
        f,
    );
}

fn walk<'a>(
    obs: &'a Observation,
    r: Reached<'a>,
    steps: &'a [Step],
    f: &mut dyn FnMut(Reached<'a>),
) {
    let Some((step, rest)) = steps.split_first() else {
        f(r);
        return;
    };
    let value = if let (Value::String(id), true) = (r.value, is_ref_key(r.key)) {
        // A reference with more path after it: step into the object.
        match obs.object(id) {
            Some(v) => v,
            None => return,
        }
    } else {
        r.value
    };
    match (step, value) {
        (Step::Key(k), Value::Object(m)) => {
            if let Some((key, v)) = m.get_key_value(k) {
                walk(
                    obs,
                    Reached {
                        value: v,
                        key: key.as_str(),
                    },
                    rest,
                    f,
                );
            }
        }
        (Step::Index(i), Value::Array(a)) => {
            if let Some(v) = usize::try_from(*i).ok().and_then(|i| a.get(i)) {
                walk(
                    obs,
                    Reached {
                        value: v,
                        key: r.key,
                    },
                    rest,
                    f,
                );
            }
        }
        (Step::Any, Value::Array(a)) => {
            for v in a {
                walk(
                    obs,
                    Reached {
                        value: v,
                        key: r.key,
                    },
                    rest,
                    f,
                );
            }
        }
        _ => {}
    }
}

fn is_ref_key(k: &str) -> bool {
    k.ends_with("_ref") || k.ends_with("_refs")
}

// ---------------------------------------------------------------------------
// Comparisons

/// A property value in the comparison domain.
enum Val<'a> {
    Int(i128),
    Float(f64),
    Str(&'a str),
    Bool(bool),
    Bytes(Vec<u8>),
    /// Lists, objects, null, undecodable `_hex`/`_bin`: compares with nothing.
    Other,
}

fn val<'a>(r: &Reached<'a>) -> Val<'a> {
    match r.value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Val::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Val::Int(i128::from(u))
            } else {
                n.as_f64().map_or(Val::Other, Val::Float)
            }
        }
        Value::Bool(b) => Val::Bool(*b),
        Value::String(s) if r.key.ends_with("_hex") => decode_hex(s).map_or(Val::Other, Val::Bytes),
        Value::String(s) if r.key.ends_with("_bin") => {
            decode_base64(s).map_or(Val::Other, Val::Bytes)
        }
        Value::String(s) => Val::Str(s),
        _ => Val::Other,
    }
}

/// A string as bytes when every code point is below 256 (Part 9 §9.4:
/// binary against string).
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Exact order of an integer and a float.
fn cmp_int_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= 1.7e38 {
        return Some(Ordering::Less);
    }
    if f <= -1.7e38 {
        return Some(Ordering::Greater);
    }
    let fl = f.floor();
    #[allow(clippy::cast_possible_truncation)]
    let fi = fl as i128;
    Some(match i.cmp(&fi) {
        Ordering::Equal if f > fl => Ordering::Less,
        o => o,
    })
}

/// The order of a value and a constant, or `None` when they are of types that
/// do not compare (no coercion between strings and numbers, Part 9 §9.4).
fn order(v: &Val<'_>, c: &Const) -> Option<Ordering> {
    match (v, c) {
        (Val::Int(a), Const::Int(b)) => Some(a.cmp(b)),
        (Val::Int(a), Const::Float(b)) => cmp_int_float(*a, *b),
        (Val::Float(a), Const::Int(b)) => cmp_int_float(*b, *a).map(Ordering::reverse),
        (Val::Float(a), Const::Float(b)) => a.partial_cmp(b),
        (Val::Str(a), Const::Str(b)) => Some((*a).cmp(b.as_str())),
        (Val::Str(a), Const::Time(_, key)) => {
            time::order_key(a).map(|k| k.as_str().cmp(key.as_str()))
        }
        (Val::Str(a), Const::Bytes(b)) => latin1(a).map(|a| a.as_slice().cmp(b)),
        (Val::Bytes(a), Const::Bytes(b)) => Some(a.as_slice().cmp(b)),
        (Val::Bytes(a), Const::Str(b)) => latin1(b).map(|b| a.as_slice().cmp(&b)),
        _ => None,
    }
}

fn equal(v: &Val<'_>, c: &Const) -> bool {
    match (v, c) {
        (Val::Bool(a), Const::Bool(b)) => a == b,
        _ => order(v, c) == Some(Ordering::Equal),
    }
}

impl Test {
    /// The test on one value: `Some(result)` with `NOT` applied, or `None`
    /// when the comparison cannot be made (an ordering, LIKE, MATCHES or
    /// ISSUBSET/ISSUPERSET against a value of another type), which is false
    /// with or without `NOT`. `=`/`!=`/`IN` on a type mismatch are false/true
    /// (Part 9 §9.4).
    pub fn on_value(&self, r: &Reached<'_>) -> Result<Option<bool>, EvalError> {
        let v = val(r);
        let raw = match (&self.rhs, self.op) {
            (Rhs::Const(c), Op::Eq) => Some(equal(&v, c)),
            (Rhs::Const(c), Op::Ne) => Some(!equal(&v, c)),
            (Rhs::Const(c), Op::Lt) => order(&v, c).map(Ordering::is_lt),
            (Rhs::Const(c), Op::Le) => order(&v, c).map(Ordering::is_le),
            (Rhs::Const(c), Op::Gt) => order(&v, c).map(Ordering::is_gt),
            (Rhs::Const(c), Op::Ge) => order(&v, c).map(Ordering::is_ge),
            (Rhs::Set(items), _) => Some(items.iter().any(|c| equal(&v, c))),
            (Rhs::Like(re, _), _) => match v {
                Val::Str(s) => Some(re.is_match(&s.nfc().collect::<String>())),
                _ => None,
            },
            (Rhs::Matches(re), _) => match v {
                Val::Str(s) => Some(re.is_match(&s.nfc().collect::<String>()).map_err(|e| {
                    EvalError::RegexLimit {
                        regex: re.as_str().to_owned(),
                        message: e.to_string(),
                    }
                })?),
                _ => None,
            },
            (Rhs::Net(net), op) => match v {
                Val::Str(s) => parse_net(s).map(|value| match op {
                    Op::IsSubset => net.contains(&value),
                    _ => value.contains(net),
                }),
                _ => None,
            },
            _ => None,
        };
        Ok(raw.map(|b| b != self.negated))
    }

    /// Whether `root` (an SCO of `obs`, of this test's type) satisfies the
    /// test, and the value that did. A path that reaches nothing makes every
    /// comparison false, `!=` and `NOT` included; `[*]` matches when any
    /// element does (Part 9 §9.5).
    pub fn on_object<'a>(
        &'a self,
        obs: &'a Observation,
        root: &'a Value,
    ) -> Result<Option<Option<&'a Value>>, EvalError> {
        let reached = resolve(obs, root, &self.steps);
        if self.op == Op::Exists {
            return Ok(
                (reached.is_empty() == self.negated).then(|| reached.first().map(|r| r.value))
            );
        }
        for r in &reached {
            if self.on_value(r)? == Some(true) {
                return Ok(Some(Some(r.value)));
            }
        }
        Ok(None)
    }
}
