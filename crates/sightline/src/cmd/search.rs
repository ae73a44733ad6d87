//! `sightline search TEXT`

use std::path::Path;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Words to find in names, aliases and descriptions (all must match; prefixes count).
    #[arg(required = true)]
    text: Vec<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let hits = store.search(&args.text.join(" "), args.limit)?;
    with_stdout(|w| {
        for h in &hits {
            writeln!(w, "{}\t{}\t{}", h.id, h.ty, h.name.as_deref().unwrap_or(""))?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(if hits.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
