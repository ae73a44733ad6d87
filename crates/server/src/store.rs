//! Choosing the store from one string, as `--store` and the config's `store`
//! give it:
//!
//! | spec | store |
//! |---|---|
//! | `postgres://…` or `postgresql://…` | PostgreSQL (`sightline-store-postgres`), migrated on open |
//! | `sqlite:DIR` | the embedded SQLite store in `DIR` (created when missing) |
//! | any other text | a directory path: SQLite, as `sqlite:DIR` |
//!
//! Everything above this module holds an `Arc<dyn Store>` and never names a
//! backend.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sightline_store::{Store, StoreError};
use sightline_store_postgres::PgStore;
use sightline_store_sqlite::SqliteStore;

/// Where a store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// The embedded store's data directory.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

// The URL may carry a password: Debug and Display show it redacted.
impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreSpec({self})")
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Sqlite(d) => write!(f, "sqlite:{}", d.display()),
            StoreSpec::Postgres(u) => f.write_str(&sightline_store_postgres::redact(u)),
        }
    }
}

impl StoreSpec {
    /// Parses a spec (see the module doc). An empty one is refused.
    pub fn parse(spec: &str) -> Result<StoreSpec, StoreError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(StoreError::Invalid(
                "an empty store: give a directory, sqlite:DIR or postgres://…".into(),
            ));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(StoreSpec::Postgres(spec.to_owned()));
        }
        if let Some(dir) = spec.strip_prefix("sqlite:") {
            if dir.is_empty() {
                return Err(StoreError::Invalid(
                    "sqlite: needs a directory (sqlite:DIR)".into(),
                ));
            }
            return Ok(StoreSpec::Sqlite(PathBuf::from(dir)));
        }
        Ok(StoreSpec::Sqlite(PathBuf::from(spec)))
    }

    /// The SQLite store in `dir`.
    pub fn sqlite(dir: &Path) -> StoreSpec {
        StoreSpec::Sqlite(dir.to_owned())
    }

    /// Opens the store, migrating its schema.
    pub fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            StoreSpec::Sqlite(dir) => Ok(Arc::new(
                SqliteStore::open(dir).map_err(|e| in_dir(e, dir))?,
            )),
            StoreSpec::Postgres(url) => Ok(Arc::new(PgStore::open(url)?)),
        }
    }

    /// Runs the schema migrations alone (`sightline migrate`). Returns a
    /// line saying what was done.
    pub fn migrate(&self) -> Result<String, StoreError> {
        match self {
            StoreSpec::Sqlite(dir) => {
                SqliteStore::open(dir).map_err(|e| in_dir(e, dir))?;
                Ok(format!("{self}: schema is current"))
            }
            StoreSpec::Postgres(url) => {
                let s = PgStore::connect(url)?;
                let applied = s.migrate()?;
                let (v, _) = s.schema_version()?;
                Ok(if applied.is_empty() {
                    format!("{}: schema version {v} is current", s.label())
                } else {
                    format!(
                        "{}: applied migrations {applied:?}; schema version {v}",
                        s.label()
                    )
                })
            }
        }
    }
}

/// Opens the store named by `spec` (see [`StoreSpec::parse`]).
pub fn open_store(spec: &str) -> Result<Arc<dyn Store>, StoreError> {
    StoreSpec::parse(spec)?.open()
}

/// SQLite messages name the file; make sure they name the directory too.
fn in_dir(e: StoreError, dir: &Path) -> StoreError {
    match e {
        StoreError::Io(m) if !m.contains(&*dir.to_string_lossy()) => {
            StoreError::Io(format!("{}: {m}", dir.display()))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            StoreSpec::parse("sqlite:/tmp/x").expect("ok"),
            StoreSpec::Sqlite("/tmp/x".into())
        );
        assert_eq!(
            StoreSpec::parse("./data").expect("ok"),
            StoreSpec::Sqlite("./data".into())
        );
        assert!(matches!(
            StoreSpec::parse("postgresql://u:pw@h/db").expect("ok"),
            StoreSpec::Postgres(_)
        ));
        assert_eq!(
            StoreSpec::parse("postgres://u:pw@h/db")
                .expect("ok")
                .to_string(),
            "postgres://u:***@h/db",
            "the password never shows"
        );
        assert!(StoreSpec::parse("").is_err());
        assert!(StoreSpec::parse("sqlite:").is_err());
    }
}
