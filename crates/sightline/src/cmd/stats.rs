//! `sightline stats`

use std::path::Path;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

pub fn run(data: &Path) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let s = store.stats()?;
    with_stdout(|w| {
        writeln!(w, "objects      {}", s.objects)?;
        writeln!(w, "versions     {}", s.versions)?;
        writeln!(w, "revoked      {}", s.revoked)?;
        writeln!(w, "collections  {}", s.collections)?;
        for (ty, n) in &s.by_type {
            writeln!(w, "  {ty:<28} {n}")?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}
