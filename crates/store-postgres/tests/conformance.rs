//! The store conformance suite (`sightline_store::conformance`) on PostgreSQL,
//! one fresh database per check. Needs SIGHTLINE_TEST_PG (see `scripts/pg`).

use sightline_store::conformance::Fixture;
use sightline_store::Store;
use sightline_store_postgres::testing::TestDb;
use sightline_store_postgres::PgStore;

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
        store: db.open(),
        _db: db,
    }
}

sightline_store::conformance_tests!(fresh);
