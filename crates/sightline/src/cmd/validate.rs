//! `sightline validate FILE|-`

use clap::ValueEnum;
use rayon::prelude::*;
use serde_json::{json, Value};
use sightline_interchange::{read_input, split_objects, Item, Shape};
use sightline_stix::{Diagnostic, Severity, Validator};

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary and each problem, for people.
    Human,
    /// One JSON line per input object (per input line for JSON Lines input).
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundle, an object, a JSON array or JSON Lines; gzip is detected. `-` reads standard input.
    file: String,
    /// What to print: a summary for people, or one JSON line per object.
    /// (`--format` is the old spelling, kept hidden for one release: `match
    /// --format` names the input format.)
    #[arg(long = "output-format", alias = "format", value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Objects whose JSON text is longer than this many bytes are reported invalid unparsed.
    #[arg(long, default_value_t = sightline_interchange::DEFAULT_MAX_OBJECT_BYTES)]
    max_object_bytes: usize,
    /// Also list warnings (SHOULD-level findings) in human output.
    #[arg(long, short = 'w')]
    warnings: bool,
}

/// The verdict on one input object.
struct Verdict {
    index: usize,
    line: Option<usize>,
    id: Option<String>,
    errors: Vec<String>,
    warnings: Vec<String>,
    /// `(id, modified else created)`, for the findings across objects.
    key: Option<(String, String)>,
}

pub fn run(args: Args) -> Result<Outcome, Failure> {
    let t = std::time::Instant::now();
    let input = read_input(&args.file)?;
    tracing::debug!(elapsed = ?t.elapsed(), bytes = input.bytes.len(), "read");
    let doc = split_objects(&input.name, &input.bytes)?;
    tracing::debug!(elapsed = ?t.elapsed(), objects = doc.items.len(), "split");
    let validator = crate::cmd::validator();
    // The file's regex compile budget, as import and TAXII POST spend it (P035).
    let budget = sightline_stix::RegexBudget::for_input(input.bytes.len());
    let mut verdicts: Vec<Verdict> = doc
        .items
        .par_iter()
        .map(|item| {
            let whole = doc.shape == Shape::Object;
            judge(&validator, &budget, args.max_object_bytes, whole, item)
        })
        .collect();
    // Repeated versions and UUIDs shared across types need the whole file
    // (STIX 2.1 §2.9, §3.2): objects are validated apart, so these come after.
    let keys: Vec<Option<(&str, &str)>> = verdicts
        .iter()
        .map(|v| v.key.as_ref().map(|(i, m)| (i.as_str(), m.as_str())))
        .collect();
    let across = sightline_stix::cross_object_findings(keys);
    for (i, d) in across {
        push(&mut verdicts[i], &d);
    }
    tracing::debug!(elapsed = ?t.elapsed(), "validated");
    let invalid = verdicts.iter().filter(|v| !v.errors.is_empty()).count();
    let io = |e: std::io::Error| Failure::Other(e.into());
    match args.format {
        Format::Jsonl => with_stdout(|w| {
            for v in &verdicts {
                let line = json!({"id": v.id, "valid": v.errors.is_empty(), "errors": v.errors, "warnings": v.warnings});
                serde_json::to_writer(&mut *w, &line)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })
        .map_err(io)?,
        Format::Human => with_stdout(|w| {
            for warning in &doc.envelope_warnings {
                writeln!(w, "{}: warning: {warning}", input.name)?;
            }
            for v in &verdicts {
                let show_warnings = args.warnings && !v.warnings.is_empty();
                if v.errors.is_empty() && !show_warnings {
                    continue;
                }
                let place = match v.line {
                    Some(l) => format!("line {l}"),
                    None => format!("object #{}", v.index),
                };
                writeln!(w, "{}: {place} {}: {}", input.name, v.id.as_deref().unwrap_or("(no id)"), if v.errors.is_empty() { "valid" } else { "INVALID" })?;
                for e in &v.errors {
                    writeln!(w, "  error   {e}")?;
                }
                if args.warnings {
                    for x in &v.warnings {
                        writeln!(w, "  warning {x}")?;
                    }
                }
            }
            let warns: usize = verdicts.iter().map(|v| v.warnings.len()).sum();
            writeln!(
                w,
                "{}: {} of {} objects: {} valid, {} invalid, {} warnings{}",
                input.name,
                doc.shape,
                verdicts.len(),
                verdicts.len() - invalid,
                invalid,
                warns,
                if warns > 0 && !args.warnings { " (--warnings lists them)" } else { "" }
            )
        })
        .map_err(io)?,
    }
    Ok(if invalid == 0 {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// `whole`: the item is the whole input (a single object), which may be a
/// bundle with a wrong `type`.
fn judge(
    validator: &Validator,
    budget: &sightline_stix::RegexBudget,
    max_bytes: usize,
    whole: bool,
    item: &Item<'_>,
) -> Verdict {
    let mut v = Verdict {
        index: item.index,
        line: item.line,
        id: None,
        errors: Vec::new(),
        warnings: Vec::new(),
        key: None,
    };
    let raw = match &item.raw {
        Ok(r) => *r,
        Err(e) => {
            v.errors.push(e.clone());
            return v;
        }
    };
    if raw.len() > max_bytes {
        v.errors
            .push(sightline_interchange::too_big(raw.len(), max_bytes));
        return v;
    }
    let value: Value = match serde_json::from_str(raw) {
        Ok(x) => x,
        Err(e) => {
            v.errors.push(format!("invalid JSON: {e}"));
            return v;
        }
    };
    v.id = value.get("id").and_then(Value::as_str).map(str::to_owned);
    v.key = v.id.clone().map(|id| {
        let ver = value
            .get("modified")
            .or_else(|| value.get("created"))
            .and_then(Value::as_str)
            .unwrap_or("");
        (id, ver.to_owned())
    });
    if whole && mistyped_bundle(&value) {
        // STIX 2.1 §8: checked as the bundle it is (E160 on its type), its
        // objects' findings under /objects/N, rather than as one object of
        // an unknown type.
        let (envelope, objects) = validator.validate_bundle(&value);
        for d in &envelope {
            push(&mut v, d);
        }
        for (i, found) in objects.iter().enumerate() {
            for d in found {
                let mut d = d.clone();
                d.location =
                    sightline_stix::Location::Pointer(format!("/objects/{i}{}", d.pointer()));
                push(&mut v, &d);
            }
        }
        return v;
    }
    for d in validator.validate_within(&value, budget) {
        push(&mut v, &d);
    }
    v
}

/// A bundle but for its `type`: an `objects` list, and a `bundle--` id or a
/// `type` that is "bundle" in other letter case. (A type-less or other object
/// with such a list is not taken for one: STIX 2.0's observed-data had an
/// `objects` property too.)
fn mistyped_bundle(v: &Value) -> bool {
    let Some(o) = v.as_object() else {
        return false;
    };
    let ty = o.get("type").and_then(Value::as_str);
    let id = o.get("id").and_then(Value::as_str);
    o.get("objects").is_some_and(Value::is_array)
        && ty != Some("bundle")
        && (ty.is_some_and(|t| t.eq_ignore_ascii_case("bundle"))
            || id.is_some_and(|i| i.starts_with("bundle--")))
}

fn push(v: &mut Verdict, d: &Diagnostic) {
    match d.severity {
        Severity::Error => v.errors.push(d.to_string()),
        Severity::Warning => v.warnings.push(d.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::mistyped_bundle;
    use serde_json::json;

    /// STIX 2.1 §8: what `validate` takes for a bundle with a wrong type.
    #[test]
    fn what_counts_as_a_mistyped_bundle() {
        let id = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d";
        assert!(mistyped_bundle(&json!({"type": "Bundle", "objects": []})));
        assert!(mistyped_bundle(
            &json!({"type": "bundles", "id": id, "objects": [{}]})
        ));
        assert!(mistyped_bundle(&json!({"id": id, "objects": []})));
        // A real bundle is split before; objects without a list or a
        // bundle's name are objects.
        assert!(!mistyped_bundle(
            &json!({"type": "bundle", "id": id, "objects": []})
        ));
        assert!(!mistyped_bundle(
            &json!({"type": "Bundle", "id": id, "objects": {}})
        ));
        assert!(!mistyped_bundle(
            &json!({"type": "observed-data", "objects": []})
        ));
        assert!(!mistyped_bundle(
            &json!([{"type": "Bundle", "objects": []}])
        ));
    }
}
