//! `sightline check`: verify the store's integrity (indexes, versions,
//! collection membership, full-text index).

use std::path::Path;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

pub fn run(data: &Path) -> Result<Outcome, Failure> {
    let spec = super::store_spec(None, data)?;
    super::require_existing(&spec)?;
    let store = spec
        .open()
        .map_err(|e| Failure::Store(format!("{spec}: {e}")))?;
    let name = super::store_name(&spec);
    let problems = store.check()?;
    with_stdout(|w| {
        for p in &problems {
            writeln!(w, "problem: {p}")?;
        }
        if problems.is_empty() {
            writeln!(w, "ok: {name} is consistent")
        } else {
            writeln!(w, "{} problems found in {name}", problems.len())
        }
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
