//! The shared backend conformance suite, run against the SQLite store.

use sightline_store::conformance::Fixture;
use sightline_store::Store;
use sightline_store_sqlite::SqliteStore;

struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Fixture for TempStore {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

fn fresh() -> TempStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("open store");
    let problems = store.check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
    TempStore { store, _dir: dir }
}

sightline_store::conformance_tests!(fresh);
