//! One module per subcommand.

pub mod check;
pub mod collection;
pub mod copy;
pub mod export;
pub mod feed;
pub mod get;
pub mod healthcheck;
pub mod import;
pub mod matching;
pub mod migrate;
pub mod pattern;
pub mod related;
pub mod report;
pub mod retire;
pub mod search;
pub mod serve;
pub mod sightings;
pub mod stats;
pub mod token;
pub mod user;
pub mod validate;
pub mod verdict;
pub mod warninglist;

use std::path::Path;
use std::sync::Arc;

use sightline_server::store::StoreSpec;
use sightline_store::Store;

use crate::Failure;

/// The global `--store`, set once by `main`.
static STORE_SPEC: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

pub fn set_store_spec(spec: Option<String>) {
    let _ = STORE_SPEC.set(spec);
}

/// The store every command uses: `--store` when given, else `configured`
/// (the config file's `store`), else the embedded store in `data`.
pub fn store_spec(configured: Option<&str>, data: &Path) -> Result<StoreSpec, Failure> {
    match STORE_SPEC.get().and_then(Option::as_deref).or(configured) {
        Some(s) => StoreSpec::parse(s).map_err(|e| Failure::Input(format!("--store: {e}"))),
        None => Ok(StoreSpec::sqlite(data)),
    }
}

/// How messages name a store: its directory, or its URL without password.
pub fn store_name(spec: &StoreSpec) -> String {
    match spec {
        StoreSpec::Sqlite(d) => d.display().to_string(),
        StoreSpec::Postgres(_) => spec.to_string(),
    }
}

/// Opens the store (see [`store_spec`]; no config file).
pub fn open_store(data: &Path) -> Result<Arc<dyn Store>, Failure> {
    open_store_with(None, data)
}

/// Opens the store for a command that only reads it: an embedded store's
/// directory must already hold one. A mistyped `--data` would otherwise
/// create an empty store and answer "0 objects" (issue 17 §4).
pub fn open_existing_store(data: &Path) -> Result<Arc<dyn Store>, Failure> {
    let spec = store_spec(None, data)?;
    require_existing(&spec)?;
    spec.open()
        .map_err(|e| Failure::Store(format!("{spec}: {e}")))
}

/// Refuses an embedded store's directory that holds no store (see
/// [`open_existing_store`]); a PostgreSQL store is always there to ask.
pub fn require_existing(spec: &StoreSpec) -> Result<(), Failure> {
    if let StoreSpec::Sqlite(dir) = spec {
        let db = dir.join(sightline_store_sqlite::DB_FILE);
        if !db.is_file() {
            return Err(Failure::Input(format!(
                "--data {}: no Sightline store there ({} is missing); check the path, \
                 or create one with `sightline import`, `sightline collection add` or `sightline serve --demo`",
                dir.display(),
                db.display()
            )));
        }
    }
    Ok(())
}

/// Opens the store, `configured` being the config file's `store`.
pub fn open_store_with(configured: Option<&str>, data: &Path) -> Result<Arc<dyn Store>, Failure> {
    let spec = store_spec(configured, data)?;
    spec.open()
        .map_err(|e| Failure::Store(format!("{spec}: {e}")))
}

/// The validator every command uses: STIX patterns are checked by
/// `sightline-pattern`.
pub fn validator() -> sightline_stix::Validator {
    sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker))
}

/// `90d`, `12h`: whole days or hours, at least one, at most 100 years.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{s:?}: expected a number of days or hours, like 90d or 12h");
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "d" => n.checked_mul(86_400),
        "h" => n.checked_mul(3_600),
        _ => None,
    }
    .filter(|&v| v > 0 && v <= 100 * 366 * 86_400)
    .ok_or_else(bad)?;
    Ok(std::time::Duration::from_secs(secs))
}

/// The lifecycle settings of a config file's `[lifecycle]` section (as
/// `match --config` reads them), else the built-in ones, checked.
pub fn evaluator(
    config: Option<&std::path::Path>,
) -> Result<sightline_lifecycle::Evaluator, Failure> {
    let settings = match config {
        Some(p) => {
            sightline_server::ServerConfig::load(p)
                .map_err(|e| Failure::Input(format!("--config {}: {e}", p.display())))?
                .lifecycle
        }
        None => sightline_lifecycle::LifecycleConfig::default(),
    };
    sightline_lifecycle::Evaluator::new(&settings).map_err(|e| Failure::Input(e.to_string()))
}
