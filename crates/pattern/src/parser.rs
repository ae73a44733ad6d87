//! Recursive-descent parser over the token list, following the OASIS grammar
//! (`STIXPattern.g4`, STIX 2.1):
//!
//! ```text
//! pattern      := obs-fby EOF
//! obs-fby      := obs-or  (FOLLOWEDBY obs-or)*      loosest
//! obs-or       := obs-and (OR obs-and)*
//! obs-and      := obs     (AND obs)*                tightest
//! obs          := ( '[' cmp-or ']' | '(' obs-fby ')' ) qualifier*
//! qualifier    := WITHIN (int|float) SECONDS | REPEATS int TIMES
//!               | START t'..' STOP t'..'
//! cmp-or       := cmp-and (OR cmp-and)*
//! cmp-and      := test (AND test)*
//! test         := '(' cmp-or ')' | NOT? EXISTS path | path NOT? op operand
//! path         := type ':' (ident | 'str') ('.' (ident | 'str') | '[' (int | '*') ']')*
//! ```
//!
//! A syntax error stops the parse (the first one is reported); operand-kind
//! errors (`LIKE 1`, `< true`) are recorded and parsing goes on. Nesting of
//! parentheses is capped at [`MAX_DEPTH`] so hostile input cannot overflow the
//! stack.

use crate::ast::*;
use crate::diag::show;
use crate::lexer::{Kw, Tok, Token};
use crate::{Code, Diagnostic};

/// The deepest nesting of parentheses and brackets accepted.
pub const MAX_DEPTH: usize = 100;

pub(crate) struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    pub(crate) diags: Vec<Diagnostic>,
}

type PResult<T> = Result<T, Diagnostic>;

fn describe(src: &str, t: &Token) -> String {
    match &t.tok {
        Tok::Eof => "the end of the pattern".to_owned(),
        _ => show(&src[t.span.start..t.span.end]),
    }
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, toks: Vec<Token>) -> Self {
        Parser {
            src,
            toks,
            pos: 0,
            depth: 0,
            diags: Vec::new(),
        }
    }

    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `pos` never passes it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.tok, Tok::Eof) {
            self.pos += 1;
        }
        t
    }

    fn at_kw(&self, k: Kw) -> bool {
        self.peek().tok == Tok::Kw(k)
    }

    fn expected(&self, what: &str) -> Diagnostic {
        let t = self.peek();
        let code = if matches!(t.tok, Tok::Eof) {
            Code::P011
        } else {
            Code::P010
        };
        Diagnostic::in_text(
            self.src,
            code,
            t.span,
            format!("expected {what}, found {}", describe(self.src, t)),
        )
    }

    fn expect(&mut self, tok: Tok, what: &str) -> PResult<Token> {
        if self.peek().tok == tok {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    fn enter(&mut self, span: Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::in_text(
                self.src,
                Code::P012,
                span,
                format!("nesting deeper than {MAX_DEPTH} levels of brackets and parentheses"),
            ));
        }
        Ok(())
    }

    pub(crate) fn pattern(&mut self) -> PResult<Pattern> {
        let expr = self.obs_fby()?;
        if !matches!(self.peek().tok, Tok::Eof) {
            return Err(self.expected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern"));
        }
        Ok(Pattern { expr })
    }

    fn obs_chain(
        &mut self,
        kw: Kw,
        next: fn(&mut Self) -> PResult<ObsExpr>,
        make: fn(Vec<ObsExpr>) -> ObsKind,
    ) -> PResult<ObsExpr> {
        let first = next(self)?;
        if !self.at_kw(kw) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at_kw(kw) {
            self.bump();
            items.push(next(self)?);
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Ok(ObsExpr {
            kind: make(items),
            span,
        })
    }

    fn obs_fby(&mut self) -> PResult<ObsExpr> {
        self.obs_chain(Kw::FollowedBy, Self::obs_or, ObsKind::FollowedBy)
    }

    fn obs_or(&mut self) -> PResult<ObsExpr> {
        self.obs_chain(Kw::Or, Self::obs_and, ObsKind::Or)
    }

    fn obs_and(&mut self) -> PResult<ObsExpr> {
        self.obs_chain(Kw::And, Self::obs, ObsKind::And)
    }

    fn obs(&mut self) -> PResult<ObsExpr> {
        let open = self.peek().clone();
        let base = match open.tok {
            Tok::LBrack => {
                self.bump();
                self.enter(open.span)?;
                let cmp = self.cmp_or()?;
                let close = self.expect(Tok::RBrack, "AND, OR or ']' after a comparison")?;
                self.depth -= 1;
                ObsExpr {
                    kind: ObsKind::Observation(cmp),
                    span: open.span.to(close.span),
                }
            }
            Tok::LParen => {
                self.bump();
                self.enter(open.span)?;
                let inner = self.obs_fby()?;
                let close = self.expect(Tok::RParen, "AND, OR, FOLLOWEDBY, a qualifier or ')'")?;
                self.depth -= 1;
                ObsExpr {
                    kind: ObsKind::Group(Box::new(inner)),
                    span: open.span.to(close.span),
                }
            }
            _ => return Err(self.expected("an observation expression: '[' or '('")),
        };
        let mut qualifiers = Vec::new();
        while let Some(q) = self.qualifier()? {
            qualifiers.push(q);
        }
        if qualifiers.is_empty() {
            return Ok(base);
        }
        let span = base.span.to(qualifiers[qualifiers.len() - 1].span);
        Ok(ObsExpr {
            kind: ObsKind::Qualified {
                expr: Box::new(base),
                qualifiers,
            },
            span,
        })
    }

    fn qualifier(&mut self) -> PResult<Option<Qualifier>> {
        let start = self.peek().span;
        let kind = match self.peek().tok {
            Tok::Kw(Kw::Within) => {
                self.bump();
                let t = self.bump();
                let seconds = match t.tok {
                    Tok::Int(i) if !i.negative => Constant::Int(i),
                    Tok::Float(f) if !f.text.starts_with('-') => Constant::Float(f),
                    Tok::Int(_) | Tok::Float(_) => {
                        return Err(Diagnostic::in_text(
                            self.src,
                            Code::P029,
                            t.span,
                            format!(
                                "WITHIN needs a positive number of seconds, found {}",
                                describe(self.src, &t)
                            ),
                        ))
                    }
                    _ => {
                        self.pos -= usize::from(!matches!(t.tok, Tok::Eof));
                        return Err(self.expected("a positive number of seconds after WITHIN"));
                    }
                };
                let zero = match &seconds {
                    Constant::Int(i) => i.is_zero(),
                    Constant::Float(f) => f.value() <= 0.0,
                    _ => false,
                };
                if zero {
                    self.diags.push(Diagnostic::in_text(
                        self.src,
                        Code::P029,
                        t.span,
                        "WITHIN needs a positive number of seconds, found 0",
                    ));
                }
                let end = self.expect(Tok::Kw(Kw::Seconds), "SECONDS")?;
                Qualifier {
                    kind: QualifierKind::Within { seconds },
                    span: start.to(end.span),
                }
            }
            Tok::Kw(Kw::Repeats) => {
                self.bump();
                let t = self.bump();
                let times = match t.tok {
                    Tok::Int(i) if !i.negative => i,
                    Tok::Int(_) | Tok::Float(_) => {
                        return Err(Diagnostic::in_text(
                            self.src,
                            Code::P030,
                            t.span,
                            format!(
                                "REPEATS needs a positive integer, found {}",
                                describe(self.src, &t)
                            ),
                        ))
                    }
                    _ => {
                        self.pos -= usize::from(!matches!(t.tok, Tok::Eof));
                        return Err(self.expected("a positive integer after REPEATS"));
                    }
                };
                if times.is_zero() {
                    self.diags.push(Diagnostic::in_text(
                        self.src,
                        Code::P030,
                        t.span,
                        "REPEATS needs a positive integer, found 0",
                    ));
                }
                let end = self.expect(Tok::Kw(Kw::Times), "TIMES")?;
                Qualifier {
                    kind: QualifierKind::Repeats { times },
                    span: start.to(end.span),
                }
            }
            Tok::Kw(Kw::Start) => {
                self.bump();
                let (start_ts, s_span) = self.timestamp("a timestamp t'…' after START")?;
                self.expect(Tok::Kw(Kw::Stop), "STOP")?;
                let (stop_ts, e_span) = self.timestamp("a timestamp t'…' after STOP")?;
                let (a, b) = (
                    sightline_stix::Timestamp::parse(&start_ts),
                    sightline_stix::Timestamp::parse(&stop_ts),
                );
                if let (Ok(a), Ok(b)) = (a, b) {
                    if a >= b {
                        self.diags.push(Diagnostic::in_text(
                            self.src,
                            Code::P031,
                            s_span.to(e_span),
                            "the STOP time must be later than the START time",
                        ));
                    }
                }
                Qualifier {
                    kind: QualifierKind::StartStop {
                        start: start_ts,
                        stop: stop_ts,
                    },
                    span: start.to(e_span),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(kind))
    }

    fn timestamp(&mut self, what: &str) -> PResult<(String, Span)> {
        match &self.peek().tok {
            Tok::Timestamp(t) => {
                let t = t.clone();
                let span = self.bump().span;
                Ok((t, span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn cmp_chain(
        &mut self,
        kw: Kw,
        next: fn(&mut Self) -> PResult<CmpExpr>,
        make: fn(Vec<CmpExpr>) -> CmpKind,
    ) -> PResult<CmpExpr> {
        let first = next(self)?;
        if !self.at_kw(kw) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at_kw(kw) {
            self.bump();
            items.push(next(self)?);
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Ok(CmpExpr {
            kind: make(items),
            span,
        })
    }

    fn cmp_or(&mut self) -> PResult<CmpExpr> {
        self.cmp_chain(Kw::Or, Self::cmp_and, CmpKind::Or)
    }

    fn cmp_and(&mut self) -> PResult<CmpExpr> {
        self.cmp_chain(Kw::And, Self::test, CmpKind::And)
    }

    fn test(&mut self) -> PResult<CmpExpr> {
        let first = self.peek().clone();
        match first.tok {
            Tok::LParen => {
                self.bump();
                self.enter(first.span)?;
                let inner = self.cmp_or()?;
                let close = self.expect(Tok::RParen, "AND, OR or ')'")?;
                self.depth -= 1;
                Ok(CmpExpr {
                    kind: CmpKind::Group(Box::new(inner)),
                    span: first.span.to(close.span),
                })
            }
            Tok::Kw(Kw::Not) | Tok::Kw(Kw::Exists) => {
                let negated = first.tok == Tok::Kw(Kw::Not);
                self.bump();
                if negated {
                    if !self.at_kw(Kw::Exists) {
                        return Err(self.expected(
                            "EXISTS after a leading NOT (elsewhere NOT goes between the object path and the operator: a:b NOT = 'x')",
                        ));
                    }
                    self.bump();
                }
                let path = self.path()?;
                let span = first.span.to(path.span);
                Ok(CmpExpr {
                    kind: CmpKind::Comparison(Comparison {
                        path,
                        negated,
                        op: Op::Exists,
                        operand: Operand::None,
                        span,
                    }),
                    span,
                })
            }
            Tok::Ident { .. } => {
                let path = self.path()?;
                let negated = if self.at_kw(Kw::Not) {
                    self.bump();
                    true
                } else {
                    false
                };
                let op_tok = self.peek().clone();
                let op = match op_tok.tok {
                    Tok::Eq => Op::Eq,
                    Tok::Ne => Op::Ne,
                    Tok::Lt => Op::Lt,
                    Tok::Le => Op::Le,
                    Tok::Gt => Op::Gt,
                    Tok::Ge => Op::Ge,
                    Tok::Kw(Kw::In) => Op::In,
                    Tok::Kw(Kw::Like) => Op::Like,
                    Tok::Kw(Kw::Matches) => Op::Matches,
                    Tok::Kw(Kw::IsSubset) => Op::IsSubset,
                    Tok::Kw(Kw::IsSuperset) => Op::IsSuperset,
                    Tok::Kw(Kw::Exists) => {
                        return Err(Diagnostic::in_text(
                            self.src,
                            Code::P013,
                            op_tok.span,
                            "EXISTS goes before the object path: write [EXISTS type:property] or [NOT EXISTS type:property]",
                        ))
                    }
                    _ => {
                        return Err(self.expected(if negated {
                            "a comparison operator after NOT (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)"
                        } else {
                            "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET) or NOT"
                        }))
                    }
                };
                self.bump();
                let operand = self.operand(op)?;
                let end = match &operand {
                    Operand::None => op_tok.span,
                    Operand::Constant(_, s) | Operand::Set(_, s) => *s,
                };
                let span = path.span.to(end);
                Ok(CmpExpr {
                    kind: CmpKind::Comparison(Comparison {
                        path,
                        negated,
                        op,
                        operand,
                        span,
                    }),
                    span,
                })
            }
            _ => Err(self.expected(
                "a comparison: an object path (type:property), EXISTS, NOT EXISTS or '('",
            )),
        }
    }

    fn constant(&mut self) -> Option<(Constant, Span)> {
        let t = self.peek().clone();
        let c = match t.tok {
            Tok::Int(i) => Constant::Int(i),
            Tok::Float(f) => Constant::Float(f),
            Tok::Str(s) => Constant::Str(s),
            Tok::Bool(b) => Constant::Bool(b),
            Tok::Timestamp(s) => Constant::Timestamp(s),
            Tok::Hex(v) => Constant::Hex(v),
            Tok::Binary(v) => Constant::Binary(v),
            _ => return None,
        };
        self.bump();
        Some((c, t.span))
    }

    fn set(&mut self) -> PResult<Operand> {
        let open = self.bump();
        let mut items = Vec::new();
        if self.peek().tok == Tok::RParen {
            let close = self.bump();
            return Ok(Operand::Set(items, open.span.to(close.span)));
        }
        loop {
            match self.constant() {
                Some(c) => items.push(c),
                None => return Err(self.expected("a constant in the set")),
            }
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    let close = self.bump();
                    return Ok(Operand::Set(items, open.span.to(close.span)));
                }
                _ => return Err(self.expected("',' or ')' in the set")),
            }
        }
    }

    fn operand(&mut self, op: Op) -> PResult<Operand> {
        let operand = if self.peek().tok == Tok::LParen {
            self.set()?
        } else {
            match self.constant() {
                Some((c, s)) => Operand::Constant(c, s),
                None => {
                    return Err(self.expected(if op == Op::In {
                        "a set of constants in parentheses after IN"
                    } else {
                        "a constant"
                    }))
                }
            }
        };
        // The operand kinds the grammar admits for each operator.
        let bad = |p: &mut Self, code: Code, span: Span, msg: String| {
            p.diags.push(Diagnostic::in_text(p.src, code, span, msg));
        };
        match (&operand, op) {
            (Operand::Set(_, s), Op::In) => {
                let _ = s;
            }
            (Operand::Set(_, s), _) => bad(
                self,
                Code::P024,
                *s,
                format!(
                    "{} takes a single constant, not a set (sets are for IN)",
                    op.as_str()
                ),
            ),
            (Operand::Constant(c, s), Op::In) => bad(
                self,
                Code::P024,
                *s,
                format!(
                    "IN needs a set of constants in parentheses, found {}",
                    c.kind_name()
                ),
            ),
            (Operand::Constant(c, s), Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset)
                if !matches!(c, Constant::Str(_)) =>
            {
                bad(
                    self,
                    Code::P023,
                    *s,
                    format!(
                        "{} needs a string constant, found {}",
                        op.as_str(),
                        c.kind_name()
                    ),
                )
            }
            (Operand::Constant(Constant::Bool(_), s), o) if o.is_ordering() => bad(
                self,
                Code::P022,
                *s,
                format!(
                    "{} needs a number, string, timestamp or binary constant, not a boolean",
                    o.as_str()
                ),
            ),
            _ => {}
        }
        Ok(operand)
    }

    fn path(&mut self) -> PResult<ObjectPath> {
        let t = self.peek().clone();
        if !matches!(t.tok, Tok::Ident { .. }) {
            return Err(self.expected("an object type (e.g. file, ipv4-addr, x-custom)"));
        }
        self.bump();
        let object_type = self.src[t.span.start..t.span.end].to_owned();
        self.expect(Tok::Colon, "':' between the object type and the property")?;
        let mut steps = vec![self.key("a property name after ':'")?];
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    steps.push(self.key("a property name after '.'")?);
                }
                Tok::LBrack => {
                    let open = self.bump();
                    let it = self.bump();
                    let step = match it.tok {
                        Tok::Star => None,
                        Tok::Int(ref i) => {
                            let v = i.to_i128().and_then(|v| i64::try_from(v).ok());
                            match v {
                                Some(v) => Some(v),
                                None => {
                                    return Err(Diagnostic::in_text(
                                        self.src,
                                        Code::P014,
                                        it.span,
                                        "list index out of range",
                                    ))
                                }
                            }
                        }
                        _ => {
                            self.pos -= usize::from(!matches!(it.tok, Tok::Eof));
                            return Err(self.expected("a list index (an integer or '*')"));
                        }
                    };
                    let close = self.expect(Tok::RBrack, "']' after the list index")?;
                    let span = open.span.to(close.span);
                    steps.push(match step {
                        Some(index) => PathStep::Index { index, span },
                        None => PathStep::AnyIndex { span },
                    });
                }
                _ => break,
            }
        }
        let end = match steps.last() {
            Some(PathStep::Key { span, .. })
            | Some(PathStep::Index { span, .. })
            | Some(PathStep::AnyIndex { span }) => *span,
            None => t.span,
        };
        Ok(ObjectPath {
            object_type,
            type_span: t.span,
            steps,
            span: t.span.to(end),
        })
    }

    fn key(&mut self, what: &str) -> PResult<PathStep> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Ident { hyphen: false } => {
                self.bump();
                Ok(PathStep::Key {
                    name: self.src[t.span.start..t.span.end].to_owned(),
                    quoted: false,
                    span: t.span,
                })
            }
            Tok::Ident { hyphen: true } => Err(Diagnostic::in_text(
                self.src,
                Code::P015,
                t.span,
                format!(
                    "property name {} contains '-': quote it, e.g. hashes.'SHA-256'",
                    show(&self.src[t.span.start..t.span.end])
                ),
            )),
            Tok::Str(s) => {
                self.bump();
                Ok(PathStep::Key {
                    name: s,
                    quoted: true,
                    span: t.span,
                })
            }
            _ => Err(self.expected(what)),
        }
    }
}
