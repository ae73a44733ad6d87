//! `sightline pattern validate 'PATTERN'`: checks one STIX pattern.

use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a STIX 2.1 pattern: prints `valid`, or each problem with a caret under its position.
    Validate {
        /// The pattern text, e.g. "[file:name = 'x.exe']".
        pattern: String,
    },
}

pub fn run(cmd: Command) -> Result<Outcome, Failure> {
    match cmd {
        Command::Validate { pattern } => Ok(validate(&pattern)),
    }
}

fn validate(pattern: &str) -> Outcome {
    match sightline_pattern::parse(pattern) {
        Ok(_) => {
            println!("valid");
            Outcome::Ok
        }
        Err(diags) => {
            for d in &diags {
                println!("error: {d}");
                println!("{}", caret(pattern, d.span.start));
            }
            Outcome::Findings
        }
    }
}

/// The line of `src` holding byte `at`, and a caret under that character.
fn caret(src: &str, at: usize) -> String {
    let at = at.min(src.len());
    let line_start = src[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line_end = src[at..].find(['\n', '\r']).map_or(src.len(), |i| at + i);
    let line = &src[line_start..line_end];
    let col = src[line_start..at].chars().count();
    let pad: String = src[line_start..at]
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    debug_assert_eq!(pad.chars().count(), col);
    format!("  {line}\n  {pad}^")
}

#[cfg(test)]
mod tests {
    use super::caret;

    #[test]
    fn caret_points_at_the_character() {
        assert_eq!(caret("[a:b foo]", 5), "  [a:b foo]\n       ^");
        assert_eq!(caret("[x]\n[é:b ?]", 10), "  [é:b ?]\n       ^");
        assert_eq!(caret("[a", 2), "  [a\n    ^");
    }
}
