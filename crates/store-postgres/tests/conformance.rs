//! The store conformance suite (`sightline_store::conformance`) on PostgreSQL,
//! one fresh database per check. Needs PostgreSQL
//! (`sightline_testkit::pg`: SIGHTLINE_TEST_PG, or a private cluster it starts).

use sightline_store::conformance::Fixture;
use sightline_store::Store;
use sightline_store_postgres::PgStore;
use sightline_testkit::pg::TestDb;

struct Pg {
    // Dropped before the database.
    store: PgStore,
    _db: TestDb,
}

impl Fixture for Pg {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

fn fresh() -> Pg {
    let db = TestDb::new("conformance");
    Pg {
        store: PgStore::open(db.url()).expect("open"),
        _db: db,
    }
}

sightline_store::conformance_tests!(fresh);
