//! `sightline migrate`: apply the store's schema migrations and exit. Servers
//! and commands migrate on open too; this lets an operator do it once, before
//! starting replicas, with rights the servers need not have.

use std::path::Path;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

pub fn run(data: &Path) -> Result<Outcome, Failure> {
    let spec = super::store_spec(None, data)?;
    let done = spec
        .migrate()
        .map_err(|e| Failure::Store(format!("{spec}: {e}")))?;
    with_stdout(|w| writeln!(w, "{done}")).map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}
