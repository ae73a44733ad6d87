//! `sightline check`: verify the store's integrity (indexes, versions,
//! collection membership, full-text index).

use std::path::Path;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

pub fn run(data: &Path) -> Result<Outcome, Failure> {
    let store = sightline_store_sqlite::SqliteStore::open(data)
        .map_err(|e| Failure::Store(format!("{}: {e}", data.display())))?;
    let problems = store.check()?;
    with_stdout(|w| {
        for p in &problems {
            writeln!(w, "problem: {p}")?;
        }
        if problems.is_empty() {
            writeln!(w, "ok: {} is consistent", data.display())
        } else {
            writeln!(w, "{} problems found in {}", problems.len(), data.display())
        }
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
