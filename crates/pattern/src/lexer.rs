//! The lexer: pattern text → tokens with byte spans.
//!
//! It follows the lexer rules of the OASIS ANTLR grammar (`STIXPattern.g4`,
//! STIX 2.1): longest match, keywords upper-case only (`true`/`false`
//! lower-case), identifiers `[a-zA-Z_][a-zA-Z0-9_-]*` (the parser decides where
//! a hyphen is allowed), the grammar's set of Unicode white-space characters,
//! `/* */` and `//` comments. Where ANTLR would fall back to shorter tokens that
//! can never parse (`h'abc'` → `h` + `'abc'`, `01` → `0` + `1`), this lexer
//! reports what is wrong with the literal instead.

use crate::ast::{Float, Integer, Span};
use crate::diag::show;
use crate::{Code, Diagnostic};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kw {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
}

/// The keyword spelled exactly `s`, if any. `true`/`false` are literals.
pub(crate) fn keyword(s: &str) -> Option<Kw> {
    Some(match s {
        "AND" => Kw::And,
        "OR" => Kw::Or,
        "NOT" => Kw::Not,
        "FOLLOWEDBY" => Kw::FollowedBy,
        "LIKE" => Kw::Like,
        "MATCHES" => Kw::Matches,
        "ISSUPERSET" => Kw::IsSuperset,
        "ISSUBSET" => Kw::IsSubset,
        "EXISTS" => Kw::Exists,
        "LAST" => Kw::Last,
        "IN" => Kw::In,
        "START" => Kw::Start,
        "STOP" => Kw::Stop,
        "SECONDS" => Kw::Seconds,
        "WITHIN" => Kw::Within,
        "REPEATS" => Kw::Repeats,
        "TIMES" => Kw::Times,
        "true" | "false" => return None,
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Comma,
    Colon,
    Dot,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Kw(Kw),
    /// An identifier; `hyphen` when it contains `-`.
    Ident {
        hyphen: bool,
    },
    Str(String),
    /// `+`-signed or unsigned integer (the grammar's `IntPosLiteral`) or negative.
    Int(Integer),
    Float(Float),
    Bool(bool),
    Timestamp(String),
    Hex(Vec<u8>),
    Binary(Vec<u8>),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// White space per the grammar's `WS` rule.
pub(crate) fn is_ws(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\r'
            | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, Diagnostic> {
    let mut lx = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_trivia()?;
        let start = lx.pos;
        if start >= lx.b.len() {
            out.push(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
            return Ok(out);
        }
        let tok = lx.token()?;
        out.push(Token {
            tok,
            span: Span::new(start, lx.pos),
        });
    }
}

impl Lexer<'_> {
    fn err(&self, code: Code, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::in_text(self.src, code, span, msg)
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn skip_trivia(&mut self) -> Result<(), Diagnostic> {
        loop {
            match self.peek_char() {
                Some(c) if is_ws(c) => self.pos += c.len_utf8(),
                Some('/') if self.b.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.pos;
                    match self.src[self.pos + 2..].find("*/") {
                        Some(i) => self.pos += 2 + i + 2,
                        None => {
                            return Err(self.err(
                                Code::P008,
                                Span::new(start, start + 2),
                                "unterminated comment: expected '*/' before the end of the pattern",
                            ))
                        }
                    }
                }
                Some('/') if self.b.get(self.pos + 1) == Some(&b'/') => {
                    while let Some(&c) = self.b.get(self.pos) {
                        if c == b'\r' || c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                    // Stop on a char boundary (the loop above stops on ASCII).
                }
                _ => return Ok(()),
            }
        }
    }

    fn token(&mut self) -> Result<Tok, Diagnostic> {
        let start = self.pos;
        let b = self.b;
        let c = b[start];
        let next = b.get(start + 1).copied();
        let one = |s: &mut Self, t: Tok| {
            s.pos += 1;
            Ok(t)
        };
        match c {
            b'[' => one(self, Tok::LBrack),
            b']' => one(self, Tok::RBrack),
            b'(' => one(self, Tok::LParen),
            b')' => one(self, Tok::RParen),
            b',' => one(self, Tok::Comma),
            b':' => one(self, Tok::Colon),
            b'*' => one(self, Tok::Star),
            b'=' => {
                self.pos += if next == Some(b'=') { 2 } else { 1 };
                Ok(Tok::Eq)
            }
            b'!' if next == Some(b'=') => {
                self.pos += 2;
                Ok(Tok::Ne)
            }
            b'<' => match next {
                Some(b'=') => {
                    self.pos += 2;
                    Ok(Tok::Le)
                }
                Some(b'>') => {
                    self.pos += 2;
                    Ok(Tok::Ne)
                }
                _ => one(self, Tok::Lt),
            },
            b'>' => {
                if next == Some(b'=') {
                    self.pos += 2;
                    Ok(Tok::Ge)
                } else {
                    one(self, Tok::Gt)
                }
            }
            b'.' if next.is_some_and(|d| d.is_ascii_digit()) => self.number(),
            b'.' => one(self, Tok::Dot),
            b'+' | b'-' | b'0'..=b'9' => self.number(),
            b'\'' => {
                self.pos += 1;
                let s = self.string_body(start)?;
                Ok(Tok::Str(s))
            }
            b't' | b'h' | b'b' if next == Some(b'\'') => self.prefixed(c),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut hyphen = false;
                while let Some(&d) = b.get(self.pos) {
                    if d.is_ascii_alphanumeric() || d == b'_' {
                        self.pos += 1;
                    } else if d == b'-' {
                        hyphen = true;
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                let text = &self.src[start..self.pos];
                Ok(match text {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    _ => match keyword(text) {
                        Some(k) => Tok::Kw(k),
                        None => Tok::Ident { hyphen },
                    },
                })
            }
            _ => {
                let ch = self.peek_char().unwrap_or('\u{FFFD}');
                Err(self.err(
                    Code::P001,
                    Span::new(start, start + ch.len_utf8()),
                    format!("unexpected character {}", show(&ch.to_string())),
                ))
            }
        }
    }

    /// `[+-]? ('0' | [1-9][0-9]*)` or `[+-]? [0-9]* '.' [0-9]+`.
    fn number(&mut self) -> Result<Tok, Diagnostic> {
        let start = self.pos;
        let b = self.b;
        let mut p = start;
        let negative = b[p] == b'-';
        if b[p] == b'+' || b[p] == b'-' {
            p += 1;
        }
        let digits_start = p;
        while b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        let int_end = p;
        if b.get(p) == Some(&b'.') && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
            p += 1;
            while b.get(p).is_some_and(u8::is_ascii_digit) {
                p += 1;
            }
            self.pos = p;
            let text = &self.src[start..p];
            let text = text.strip_prefix('+').unwrap_or(text);
            return Ok(Tok::Float(Float {
                text: text.to_owned(),
            }));
        }
        if int_end == digits_start {
            let sign = &self.src[start..start + 1];
            return Err(self.err(
                Code::P001,
                Span::new(start, start + 1),
                format!(
                    "unexpected character {}: a sign must be followed by a number",
                    show(sign)
                ),
            ));
        }
        let digits = &self.src[digits_start..int_end];
        if digits.len() > 1 && digits.starts_with('0') {
            return Err(self.err(
                Code::P004,
                Span::new(start, int_end),
                format!(
                    "invalid number {}: integers have no leading zeros",
                    show(&self.src[start..int_end])
                ),
            ));
        }
        self.pos = int_end;
        Ok(Tok::Int(Integer {
            negative,
            digits: digits.to_owned(),
        }))
    }

    /// After the opening quote: the string's value, escapes resolved.
    fn string_body(&mut self, start: usize) -> Result<String, Diagnostic> {
        let mut out = String::new();
        let mut seg = self.pos;
        loop {
            let Some(i) = self.src[self.pos..].find(['\'', '\\']) else {
                return Err(self.err(
                    Code::P002,
                    Span::new(start, self.b.len()),
                    "unterminated string: expected a closing quote (')",
                ));
            };
            self.pos += i;
            if self.b[self.pos] == b'\'' {
                out.push_str(&self.src[seg..self.pos]);
                self.pos += 1;
                return Ok(out);
            }
            // A backslash.
            out.push_str(&self.src[seg..self.pos]);
            match self.b.get(self.pos + 1) {
                Some(b'\'') => out.push('\''),
                Some(b'\\') => out.push('\\'),
                _ => {
                    let esc: String = self.src[self.pos..].chars().take(2).collect();
                    return Err(self.err(
                        Code::P003,
                        Span::new(self.pos, self.pos + esc.len()),
                        format!(
                            "invalid escape {} in a string: only \\' and \\\\ are allowed (write \\\\ for a backslash)",
                            show(&esc)
                        ),
                    ));
                }
            }
            self.pos += 2;
            seg = self.pos;
        }
    }

    /// `t'…'`, `h'…'`, `b'…'` (no escapes inside).
    fn prefixed(&mut self, kind: u8) -> Result<Tok, Diagnostic> {
        let start = self.pos;
        let body_start = start + 2;
        let Some(len) = self.src[body_start..].find('\'') else {
            return Err(self.err(
                Code::P002,
                Span::new(start, self.b.len()),
                "unterminated constant: expected a closing quote (')",
            ));
        };
        let body = &self.src[body_start..body_start + len];
        self.pos = body_start + len + 1;
        let span = Span::new(start, self.pos);
        match kind {
            b't' => {
                if !timestamp_form(body) {
                    return Err(self.err(
                        Code::P005,
                        span,
                        format!(
                            "invalid timestamp constant t{}: expected YYYY-MM-DDTHH:MM:SS[.fraction]Z (upper-case T and Z, UTC)",
                            show(body)
                        ),
                    ));
                }
                if let Err(e) = sightline_stix::Timestamp::parse(body) {
                    return Err(self.err(
                        Code::P028,
                        span,
                        format!("invalid timestamp constant: {e}"),
                    ));
                }
                Ok(Tok::Timestamp(body.to_owned()))
            }
            b'h' => match hex_decode(body) {
                Some(v) => Ok(Tok::Hex(v)),
                None => Err(self.err(
                    Code::P006,
                    span,
                    format!(
                        "invalid hex constant h{}: expected an even number of hex digits",
                        show(body)
                    ),
                )),
            },
            _ => match base64_decode(body) {
                Some(v) => Ok(Tok::Binary(v)),
                None => Err(self.err(
                    Code::P007,
                    span,
                    format!(
                        "invalid binary constant b{}: expected non-empty, correctly padded base64",
                        show(body)
                    ),
                )),
            },
        }
    }
}

/// The grammar's `TimestampLiteral` body: field ranges, but not calendars.
fn timestamp_form(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !b.is_ascii() {
        return false;
    }
    let d = |i: usize| b[i].is_ascii_digit();
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    if !(d(0) && d(1) && d(2) && d(3) && b[4] == b'-' && d(5) && d(6) && b[7] == b'-')
        || !(d(8) && d(9) && b[10] == b'T' && d(11) && d(12) && b[13] == b':')
        || !(d(14) && d(15) && b[16] == b':' && d(17) && d(18))
    {
        return false;
    }
    let (mo, day, h, mi, sec) = (two(5), two(8), two(11), two(14), two(17));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return false;
    }
    let rest = &b[19..];
    match rest {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    sightline_stix::encoding::decode_hex(s)
}

/// Base64 as the grammar has it: non-empty, groups of four, `=`/`==` padding
/// only in the last group; decoded by the one decoder the validator and the
/// matcher use (`sightline_stix::encoding`).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() {
        return None;
    }
    sightline_stix::encoding::decode_base64(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(base64_decode("YQ=="), Some(b"a".to_vec()));
        assert_eq!(base64_decode("YWI="), Some(b"ab".to_vec()));
        assert_eq!(base64_decode("YWJj"), Some(b"abc".to_vec()));
        assert_eq!(base64_decode("YQ="), None);
        assert_eq!(base64_decode(""), None);
        assert_eq!(base64_decode("Y==="), None);
        assert_eq!(base64_decode("=YQ="), None);
        assert_eq!(base64_decode("YQ==YQ=="), None);
        assert_eq!(crate::ast::base64_encode(b"ab"), "YWI=");
        assert_eq!(crate::ast::base64_encode(b"abc"), "YWJj");
    }

    #[test]
    fn timestamp_forms() {
        assert!(timestamp_form("2024-01-01T00:00:00Z"));
        assert!(timestamp_form("2024-01-01T00:00:60.123456789Z"));
        assert!(!timestamp_form("2024-01-01T00:00:00.Z"));
        assert!(!timestamp_form("2024-01-01t00:00:00Z"));
        assert!(!timestamp_form("2024-13-01T00:00:00Z"));
        assert!(!timestamp_form("2024-01-01T24:00:00Z"));
        assert!(!timestamp_form("2024-01-01T00:00:00+01:00"));
        assert!(!timestamp_form("2024-01-01T00:00:00é"));
    }
}
