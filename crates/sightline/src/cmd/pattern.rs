//! `sightline pattern validate 'PATTERN'`: checks one STIX pattern.
//! `sightline pattern eval [FILE|-]`: evaluates patterns against
//! observations, one JSON line in, one JSON line out.

use std::io::{BufRead, Write};

use serde_json::Value;
use sightline_matcher::{Observation, Prepared};

use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a STIX 2.1 pattern: prints `valid`, or each problem with a caret under its position.
    ///
    /// A valid pattern that cannot match as written (an unknown SCO property,
    /// a constant of the wrong kind, an impossible address, a defanged value)
    /// gets warnings (P040–P043) with what to write instead; exit 0 unless
    /// --strict.
    Validate {
        /// The pattern text, e.g. "[file:name = 'x.exe']".
        pattern: String,
        /// Warnings fail too (exit 1).
        #[arg(long)]
        strict: bool,
    },
    /// Evaluate patterns against observations with the reference evaluator.
    ///
    /// Reads JSON Lines `{"id": .., "pattern": "..", "observed": [..]}` where
    /// `observed` holds observed-data objects and the SCOs their `object_refs`
    /// name (STIX 2.1), or observed-data with embedded `objects` (2.0). Prints
    /// one line per input line, in order: `{"id": .., "matched": true|false}`
    /// or `{"id": .., "error": ".."}`; a bad line does not stop the run.
    Eval {
        /// Accepted for scripts written when it was required: JSON Lines
        /// cases are the only mode.
        #[arg(long, hide = true)]
        batch: bool,
        /// The JSON Lines file, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
    },
}

pub fn run(cmd: Command) -> Result<Outcome, Failure> {
    match cmd {
        Command::Validate { pattern, strict } => validate(&pattern, strict),
        Command::Eval { batch: _, input } => eval_batch(&input),
    }
}

fn eval_batch(input: &str) -> Result<Outcome, Failure> {
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(input)
            .map_err(|e| Failure::Input(format!("cannot read {input}: {e}")))?;
        Box::new(std::io::BufReader::new(f))
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut matched, mut unmatched, mut errors) = (0u64, 0u64, 0u64);
    for (n, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|e| Failure::Input(format!("{input}: line {}: {e}", n + 1)))?;
        let (id, verdict) = eval_line(&line, n + 1);
        // Built by hand so that "id" comes first.
        let line_out = match verdict {
            Ok(m) => {
                if m {
                    matched += 1;
                } else {
                    unmatched += 1;
                }
                format!("{{\"id\":{id},\"matched\":{m}}}")
            }
            Err(e) => {
                errors += 1;
                format!("{{\"id\":{id},\"error\":{}}}", Value::String(e))
            }
        };
        if writeln!(out, "{line_out}").is_err() {
            // The reader went away (e.g. `| head`): nothing more to say.
            return Ok(Outcome::Ok);
        }
    }
    out.flush().ok();
    eprintln!("pattern eval: {matched} matched, {unmatched} not matched, {errors} errors");
    Ok(Outcome::Ok)
}

/// The case's id (null when unreadable) and its verdict or error.
fn eval_line(raw: &[u8], number: usize) -> (Value, Result<bool, String>) {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t,
        Err(e) => return (Value::Null, Err(format!("line {number}: not UTF-8: {e}"))),
    };
    if text.trim().is_empty() {
        return (Value::Null, Err(format!("line {number}: empty line")));
    }
    let case: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return (
                Value::Null,
                Err(format!("line {number}: invalid JSON: {e}")),
            )
        }
    };
    let id = case.get("id").cloned().unwrap_or(Value::Null);
    let verdict = (|| {
        let pattern = case
            .get("pattern")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("line {number}: \"pattern\" must be a string"))?;
        let observed = case
            .get("observed")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("line {number}: \"observed\" must be a list of STIX objects"))?;
        let prepared = Prepared::new(pattern).map_err(|e| format!("line {number}: {e}"))?;
        let observations = Observation::from_stix_objects(observed)
            .map_err(|e| format!("line {number}: observed: {e}"))?;
        sightline_matcher::evaluate(&prepared, &observations)
            .map_err(|e| format!("line {number}: {e}"))
    })();
    (id, verdict)
}

fn validate(pattern: &str, strict: bool) -> Result<Outcome, Failure> {
    let parsed = sightline_pattern::analyze(pattern);
    let valid = parsed.pattern.is_some() && parsed.diagnostics.is_empty();
    crate::output::with_stdout(|w| {
        for d in &parsed.diagnostics {
            writeln!(w, "error: {d}")?;
            writeln!(w, "{}", caret(pattern, d.span().start))?;
        }
        for d in &parsed.warnings {
            writeln!(w, "warning: {d}")?;
            writeln!(w, "{}", caret(pattern, d.span().start))?;
        }
        if valid {
            writeln!(w, "valid")?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(if valid && (!strict || parsed.warnings.is_empty()) {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
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
