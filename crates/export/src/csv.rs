//! CSV (RFC 4180): one row per exported value: `value`, `type` (the STIX
//! object path), `indicator_id`, `name`, `confidence`, `valid_until`,
//! `indicates` (`ATT&CK id name`, or the name, or the id, of each target,
//! `; `-joined), `score` (the indicator lifecycle's effective score 0-100 at
//! the export's instant, issue 16; empty when the export did not score).
//! `score` is last so readers that take columns by position keep working.
//! The report comes first as `#` lines, as IOC lists write them.

use crate::terms::Term;
use crate::Indicator;

pub(crate) const HEADER: &str =
    "value,type,indicator_id,name,confidence,valid_until,indicates,score\n";

/// A field, quoted when it holds a comma, quote, CR or LF, or starts with
/// `#` (which readers of these lists take for a comment).
fn field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\r', '\n']) || s.starts_with('#') {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

pub(crate) fn indicates(ind: &Indicator) -> String {
    let parts: Vec<String> = ind
        .indicates
        .iter()
        .map(|t| match (&t.attack_id, &t.name) {
            (Some(a), Some(n)) => format!("{a} {n}"),
            (Some(a), None) => a.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => t.id.clone(),
        })
        .collect();
    parts.join("; ")
}

/// One row; an alternative of several comparisons has none.
pub(crate) fn row(
    out: &mut String,
    terms: &[Term],
    ind: &Indicator,
    indicates: &str,
) -> Result<(), String> {
    let [t] = terms else {
        return Err(format!(
            "AND of {} comparisons: a CSV row is one value",
            terms.len()
        ));
    };
    field(out, &t.text());
    out.push(',');
    field(out, &t.path);
    out.push(',');
    field(out, &ind.id);
    out.push(',');
    field(out, ind.name.as_deref().unwrap_or(""));
    out.push(',');
    if let Some(c) = ind.confidence {
        out.push_str(&c.to_string());
    }
    out.push(',');
    field(out, ind.valid_until_text.as_deref().unwrap_or(""));
    out.push(',');
    field(out, indicates);
    out.push(',');
    if let Some(s) = ind.scored {
        out.push_str(&s.score.to_string());
    }
    out.push('\n');
    Ok(())
}
