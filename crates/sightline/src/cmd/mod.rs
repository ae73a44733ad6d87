//! One module per subcommand.

pub mod check;
pub mod collection;
pub mod export;
pub mod get;
pub mod healthcheck;
pub mod import;
pub mod pattern;
pub mod search;
pub mod serve;
pub mod stats;
pub mod token;
pub mod user;
pub mod validate;

use std::path::Path;
use std::sync::Arc;

use sightline_store::Store;

use crate::Failure;

/// Opens the embedded store in `data`.
pub fn open_store(data: &Path) -> Result<Arc<dyn Store>, Failure> {
    let s = sightline_store_sqlite::SqliteStore::open(data)
        .map_err(|e| Failure::Store(format!("{}: {e}", data.display())))?;
    Ok(Arc::new(s))
}

/// The validator every command uses: STIX patterns are checked by
/// `sightline-pattern`.
pub fn validator() -> sightline_stix::Validator {
    sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker))
}
