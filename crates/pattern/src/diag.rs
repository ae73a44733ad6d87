//! Diagnostics as data: a stable code, a byte span, the character position of
//! its start and a message. Codes are listed in `docs/pattern-diagnostics.md`
//! and never reused.

use std::fmt;

use crate::ast::Span;

/// A pattern diagnostic. `Display` renders `P010 at 14: expected …`, where 14
/// is the 0-based *character* position (equal to the byte offset for ASCII).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, `P001`…; see `docs/pattern-diagnostics.md`.
    pub code: &'static str,
    /// Byte range in the pattern text.
    pub span: Span,
    /// 0-based character index of `span.start`.
    pub position: usize,
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(
        src: &str,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        let start = span.start.min(src.len());
        let position = src
            .get(..start)
            .map_or(start, |prefix| prefix.chars().count());
        Diagnostic {
            code,
            span,
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.code, self.position, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Shows a piece of pattern text in a message: quoted, shortened when long.
pub(crate) fn show(text: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::from("'");
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('\'');
    out
}
