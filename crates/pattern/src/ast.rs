//! The pattern AST. Every node carries the byte span of the text it came from.
//!
//! Chains of one operator (`a AND b AND c`) are one n-ary node, so the tree's
//! depth grows only with parentheses (capped by the parser), never with the
//! length of a pattern. Parentheses written in the pattern are kept as `Group`
//! nodes; `Display` prints the canonical pattern text.

use std::fmt;

/// A byte range `[start, end)` in the pattern text (the one `Span` type of
/// every diagnostic, from `sightline-stix`).
pub use sightline_stix::Span;

/// A whole pattern: one observation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub expr: ObsExpr,
}

/// An observation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ObsExpr {
    pub kind: ObsKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ObsKind {
    /// `[ comparison-expression ]`
    Observation(CmpExpr),
    /// `( observation-expression )`
    Group(Box<ObsExpr>),
    /// Two or more operands joined by `AND` (binds tightest).
    And(Vec<ObsExpr>),
    /// Two or more operands joined by `OR`.
    Or(Vec<ObsExpr>),
    /// Two or more operands joined by `FOLLOWEDBY` (binds loosest), left to right.
    FollowedBy(Vec<ObsExpr>),
    /// An `Observation` or `Group` followed by qualifiers, in written order.
    Qualified {
        expr: Box<ObsExpr>,
        qualifiers: Vec<Qualifier>,
    },
}

/// A qualifier of an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Qualifier {
    pub kind: QualifierKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QualifierKind {
    /// `WITHIN n SECONDS`: `seconds` is a positive `Int` or `Float`.
    Within { seconds: Constant },
    /// `REPEATS n TIMES`: a positive integer.
    Repeats { times: Integer },
    /// `START t'..' STOP t'..'`: validated RFC 3339 text, START before STOP.
    StartStop { start: String, stop: String },
}

impl QualifierKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            QualifierKind::Within { .. } => "WITHIN",
            QualifierKind::Repeats { .. } => "REPEATS",
            QualifierKind::StartStop { .. } => "START/STOP",
        }
    }
}

/// A comparison expression, inside `[...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CmpExpr {
    pub kind: CmpKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CmpKind {
    Comparison(Comparison),
    /// `( comparison-expression )`
    Group(Box<CmpExpr>),
    /// Two or more comparisons joined by `AND` (binds tighter than `OR`).
    And(Vec<CmpExpr>),
    Or(Vec<CmpExpr>),
}

/// `path [NOT] op operand`, or `[NOT] EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    pub negated: bool,
    pub op: Op,
    pub operand: Operand,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `=` (also written `==`)
    Eq,
    /// `!=` (also written `<>`)
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
    Exists,
}

impl Op {
    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::Like => "LIKE",
            Op::Matches => "MATCHES",
            Op::IsSubset => "ISSUBSET",
            Op::IsSuperset => "ISSUPERSET",
            Op::Exists => "EXISTS",
        }
    }
    pub fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `EXISTS` has none.
    None,
    Constant(Constant, Span),
    /// `( c, ... )` for `IN`; may be empty.
    Set(Vec<(Constant, Span)>, Span),
}

impl Operand {
    /// Each constant with its span: one, each of a set's, or none.
    pub fn constants(&self) -> Vec<(&Constant, Span)> {
        match self {
            Operand::Constant(k, s) => vec![(k, *s)],
            Operand::Set(items, _) => items.iter().map(|(k, s)| (k, *s)).collect(),
            Operand::None => vec![],
        }
    }
}

/// `type:step step ...`; the first step is always a `Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPath {
    pub object_type: String,
    pub type_span: Span,
    pub steps: Vec<PathStep>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// `.name` or `.'quoted name'` (the first property: `:name`).
    Key {
        name: String,
        quoted: bool,
        span: Span,
    },
    /// `[n]`; the grammar admits negative indexes.
    Index { index: i64, span: Span },
    /// `[*]`
    AnyIndex { span: Span },
}

/// A constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    /// Exact, of any size.
    Int(Integer),
    Float(Float),
    /// The value, escapes resolved.
    Str(String),
    Bool(bool),
    /// `t'...'`: the validated RFC 3339 text.
    Timestamp(String),
    /// `h'...'`: the bytes.
    Hex(Vec<u8>),
    /// `b'...'`: the decoded bytes.
    Binary(Vec<u8>),
}

impl Constant {
    /// The name of its kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Constant::Int(_) => "an integer",
            Constant::Float(_) => "a float",
            Constant::Str(_) => "a string",
            Constant::Bool(_) => "a boolean",
            Constant::Timestamp(_) => "a timestamp",
            Constant::Hex(_) => "a hex constant",
            Constant::Binary(_) => "a binary constant",
        }
    }
}

/// An integer constant kept exactly: sign and decimal digits (no leading zeros).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Integer {
    pub negative: bool,
    pub digits: String,
}

impl Integer {
    pub fn is_zero(&self) -> bool {
        self.digits.bytes().all(|b| b == b'0')
    }
    /// The value when it fits an `i128` (39 digits).
    pub fn to_i128(&self) -> Option<i128> {
        let v: i128 = self.digits.parse().ok()?;
        Some(if self.negative { -v } else { v })
    }
    /// Nearest `f64` (inexact beyond 2^53).
    pub fn to_f64(&self) -> f64 {
        let v: f64 = self.digits.parse().unwrap_or(f64::INFINITY);
        if self.negative {
            -v
        } else {
            v
        }
    }
}

impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative && !self.is_zero() {
            f.write_str("-")?;
        }
        f.write_str(&self.digits)
    }
}

/// A float constant as written (without a leading `+`), e.g. `-.5`, `3.25`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Float {
    pub text: String,
}

impl Float {
    pub fn value(&self) -> f64 {
        let t = self.text.as_str();
        let (neg, rest) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        };
        let v: f64 = if rest.starts_with('.') {
            format!("0{rest}").parse().unwrap_or(f64::NAN)
        } else {
            rest.parse().unwrap_or(f64::NAN)
        };
        if neg {
            -v
        } else {
            v
        }
    }
}

impl fmt::Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// ---------------------------------------------------------------------------
// Canonical printer

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

/// Standard base64 with padding (the one encoder: `sightline_stix::encoding`).
pub fn base64_encode(bytes: &[u8]) -> String {
    sightline_stix::encoding::encode_base64(bytes)
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::Int(i) => write!(f, "{i}"),
            Constant::Float(x) => write!(f, "{x}"),
            Constant::Str(s) => write_quoted(f, s),
            Constant::Bool(b) => write!(f, "{b}"),
            Constant::Timestamp(t) => write!(f, "t'{t}'"),
            Constant::Hex(bytes) => {
                f.write_str("h'")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("'")
            }
            Constant::Binary(bytes) => write!(f, "b'{}'", base64_encode(bytes)),
        }
    }
}

fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && crate::lexer::keyword(s).is_none()
        && s != "true"
        && s != "false"
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key { name, .. } => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_plain_identifier(name) {
                        f.write_str(name)?;
                    } else {
                        write_quoted(f, name)?;
                    }
                }
                PathStep::Index { index, .. } => write!(f, "[{index}]")?,
                PathStep::AnyIndex { .. } => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Op::Exists {
            if self.negated {
                f.write_str("NOT ")?;
            }
            return write!(f, "EXISTS {}", self.path);
        }
        write!(f, "{} ", self.path)?;
        if self.negated {
            f.write_str("NOT ")?;
        }
        f.write_str(self.op.as_str())?;
        match &self.operand {
            Operand::None => Ok(()),
            Operand::Constant(c, _) => write!(f, " {c}"),
            Operand::Set(items, _) => {
                f.write_str(" (")?;
                for (i, (c, _)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn cmp_rank(k: &CmpKind) -> u8 {
    match k {
        CmpKind::Or(_) => 1,
        CmpKind::And(_) => 2,
        _ => 3,
    }
}

fn write_cmp_operands(
    f: &mut fmt::Formatter<'_>,
    items: &[CmpExpr],
    sep: &str,
    rank: u8,
) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        // Operands are printed with parentheses when they bind looser (only
        // possible for ASTs built by hand; parsed ones keep `Group` nodes).
        if cmp_rank(&e.kind) <= rank {
            write!(f, "({e})")?;
        } else {
            write!(f, "{e}")?;
        }
    }
    Ok(())
}

impl fmt::Display for CmpExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            CmpKind::Comparison(c) => write!(f, "{c}"),
            CmpKind::Group(e) => write!(f, "({e})"),
            CmpKind::And(items) => write_cmp_operands(f, items, " AND ", 2),
            CmpKind::Or(items) => write_cmp_operands(f, items, " OR ", 1),
        }
    }
}

fn obs_rank(k: &ObsKind) -> u8 {
    match k {
        ObsKind::FollowedBy(_) => 1,
        ObsKind::Or(_) => 2,
        ObsKind::And(_) => 3,
        _ => 4,
    }
}

fn write_obs_operands(
    f: &mut fmt::Formatter<'_>,
    items: &[ObsExpr],
    sep: &str,
    rank: u8,
) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if obs_rank(&e.kind) <= rank {
            write!(f, "({e})")?;
        } else {
            write!(f, "{e}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            QualifierKind::Within { seconds } => write!(f, "WITHIN {seconds} SECONDS"),
            QualifierKind::Repeats { times } => write!(f, "REPEATS {times} TIMES"),
            QualifierKind::StartStop { start, stop } => {
                write!(f, "START t'{start}' STOP t'{stop}'")
            }
        }
    }
}

impl fmt::Display for ObsExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ObsKind::Observation(c) => write!(f, "[{c}]"),
            ObsKind::Group(e) => write!(f, "({e})"),
            ObsKind::And(items) => write_obs_operands(f, items, " AND ", 3),
            ObsKind::Or(items) => write_obs_operands(f, items, " OR ", 2),
            ObsKind::FollowedBy(items) => write_obs_operands(f, items, " FOLLOWEDBY ", 1),
            ObsKind::Qualified { expr, qualifiers } => {
                if obs_rank(&expr.kind) < 4 || matches!(expr.kind, ObsKind::Qualified { .. }) {
                    write!(f, "({expr})")?;
                } else {
                    write!(f, "{expr}")?;
                }
                for q in qualifiers {
                    write!(f, " {q}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}
