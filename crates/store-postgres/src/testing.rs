//! Test support: a fresh database per test on the PostgreSQL cluster named by
//! `SIGHTLINE_TEST_PG` (set by `scripts/test`, which starts a private cluster
//! with `scripts/pg`). Each test gets its own database, so tests run in
//! parallel; it is dropped when the [`TestDb`] is.
//!
//! When the variable is unset, [`TestDb::new`] panics with instructions: a
//! PostgreSQL test that cannot run fails, it never passes by skipping.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::PgStore;

/// The environment variable holding the cluster's URL.
pub const ENV: &str = "SIGHTLINE_TEST_PG";

/// A database created for one test.
#[derive(Debug)]
pub struct TestDb {
    admin_url: String,
    url: String,
    name: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The cluster URL, or a panic saying how to get one.
pub fn cluster_url() -> String {
    match std::env::var(ENV) {
        Ok(u) if !u.trim().is_empty() => u,
        _ => panic!(
            "{ENV} is not set, so the PostgreSQL tests cannot run (they fail rather than skip). \
             Run them with scripts/test, which starts a private cluster, or by hand: \
             `d=$(mktemp -d); export {ENV}=$(scripts/pg start $d)`, run the tests, then `scripts/pg stop $d`."
        ),
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

impl TestDb {
    /// Creates an empty database named after `hint` (a test name).
    pub fn new(hint: &str) -> TestDb {
        let admin_url = cluster_url();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let clean: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!("sl_{clean}_{}_{n}", std::process::id());
        let mut c = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test cluster at {} ({ENV}): {e}",
                crate::redact(&admin_url)
            )
        });
        c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .and_then(|()| {
                c.batch_execute(&format!(
                    "CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"
                ))
            })
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&admin_url, &name);
        TestDb {
            admin_url,
            url,
            name,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens (migrating) the store in this database.
    pub fn open(&self) -> PgStore {
        PgStore::open(&self.url)
            .unwrap_or_else(|e| panic!("cannot open the test store {}: {e}", self.name))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Best effort: the cluster is temporary anyway.
        if let Ok(mut c) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }
}
