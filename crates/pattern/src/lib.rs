//! STIX 2.1 Patterning (Part 9): lexer → parser → AST with byte spans,
//! semantic checks, and diagnostics with stable codes
//! (`docs/pattern-diagnostics.md`). Pure: no I/O, no async.
//!
//! ```
//! let p = sightline_pattern::parse("[file:hashes.'SHA-256' = 'aa' OR file:name == 'x']");
//! assert!(p.is_err()); // 'aa' is not a SHA-256 value (P033)
//! let p = sightline_pattern::parse("[file:name == 'x'] WITHIN 5 SECONDS").unwrap();
//! assert_eq!(p.to_string(), "[file:name = 'x'] WITHIN 5 SECONDS");
//! ```
//!
//! The grammar is the OASIS ANTLR grammar (`STIXPattern.g4`, STIX 2.1), where
//! observation operators bind `AND` tighter than `OR`, and `OR` tighter than
//! `FOLLOWEDBY`, all left-associative; a qualifier binds to the observation
//! expression (`[...]` or `( ... )`) written just before it.

pub mod ast;
mod check;
mod diag;
mod lexer;
mod lint;
mod parser;

pub use ast::*;
pub use check::{regex_error_message, MAX_REGEXES_PER_PATTERN, REGEX_SIZE_LIMIT};
pub use parser::MAX_DEPTH;
pub use sightline_stix::{Code, Diagnostic, Severity};

/// The AST (when the text parses) and every diagnostic, in order of position.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub pattern: Option<Pattern>,
    pub diagnostics: Vec<Diagnostic>,
    /// For a valid pattern: findings that say it cannot match as written
    /// (P040–P043, `lint.rs`). They do not make it invalid.
    pub warnings: Vec<Diagnostic>,
}

/// Parses and checks `src`, returning the AST if it parsed at all plus all
/// findings. A pattern is valid when `diagnostics` is empty.
pub fn analyze(src: &str) -> Parsed {
    analyze_within(src, None)
}

/// As [`analyze`], spending `budget` (shared by the envelope or file the
/// pattern came in) on compiling its `MATCHES` regexes: over it, P035.
pub fn analyze_within(src: &str, budget: Option<&sightline_stix::RegexBudget>) -> Parsed {
    let toks = match lexer::tokenize(src) {
        Ok(t) => t,
        Err(d) => {
            return Parsed {
                pattern: None,
                diagnostics: vec![d],
                warnings: Vec::new(),
            }
        }
    };
    let mut p = parser::Parser::new(src, toks);
    match p.pattern() {
        Ok(pattern) => {
            let mut diagnostics = std::mem::take(&mut p.diags);
            check::check(src, &pattern, &mut diagnostics, budget);
            diagnostics.sort_by_key(|d| (d.span().start, d.code));
            let warnings = if diagnostics.is_empty() {
                lint::lint(src, &pattern)
            } else {
                Vec::new()
            };
            Parsed {
                pattern: Some(pattern),
                diagnostics,
                warnings,
            }
        }
        Err(d) => {
            // Operand-kind findings before the syntax error are still reported.
            let mut diagnostics = std::mem::take(&mut p.diags);
            diagnostics.push(d);
            diagnostics.sort_by_key(|d| (d.span().start, d.code));
            Parsed {
                pattern: None,
                diagnostics,
                warnings: Vec::new(),
            }
        }
    }
}

/// The AST of a valid pattern, or every diagnostic.
pub fn parse(src: &str) -> Result<Pattern, Vec<Diagnostic>> {
    valid(analyze(src))
}

fn valid(parsed: Parsed) -> Result<Pattern, Vec<Diagnostic>> {
    match parsed.pattern {
        Some(p) if parsed.diagnostics.is_empty() => Ok(p),
        _ => Err(parsed.diagnostics),
    }
}

/// The [`sightline_stix::PatternChecker`] for `pattern_type: stix`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StixPatternChecker;

impl sightline_stix::PatternChecker for StixPatternChecker {
    fn check(&self, pattern: &str) -> Result<(), String> {
        verdict(parse(pattern))
    }

    fn check_within(
        &self,
        pattern: &str,
        budget: &sightline_stix::RegexBudget,
    ) -> Result<(), String> {
        verdict(valid(analyze_within(pattern, Some(budget))))
    }

    fn verdict(
        &self,
        pattern: &str,
        budget: Option<&sightline_stix::RegexBudget>,
    ) -> sightline_stix::PatternVerdict {
        let parsed = analyze_within(pattern, budget);
        let warnings = parsed.warnings.iter().map(ToString::to_string).collect();
        sightline_stix::PatternVerdict {
            error: verdict(valid(parsed)).err(),
            warnings,
        }
    }
}

fn verdict(r: Result<Pattern, Vec<Diagnostic>>) -> Result<(), String> {
    match r {
        Ok(_) => Ok(()),
        Err(diags) => Err(diags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

#[cfg(test)]
mod tests;
