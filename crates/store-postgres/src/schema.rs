//! The schema and its migrations, versioned in `schema_migrations`.
//!
//! Migration `i` (0-based) takes the schema from version `i` to `i + 1`; each
//! runs in one transaction with its row in `schema_migrations`, under a
//! session advisory lock so that replicas starting together migrate once. A
//! database whose version is higher than `MIGRATIONS.len()` was written by a
//! newer Sightline and is refused rather than misread.
//!
//! The tables mirror the SQLite backend's (see `store-sqlite/src/schema.rs`):
//! - `versions`: one row per object version, keyed by `date_added`; `is_latest`
//!   / `is_first` flags with partial indexes on `date_added`, so "last"/"first"
//!   pages are index range scans whatever the page depth. `search_names`
//!   (name and aliases) and `search_all` (also the description) are tsvectors
//!   set only on the latest version of searchable objects (not relationships
//!   or sightings), NULL elsewhere; a GIN index serves prefix queries.
//! - `members`: collection memberships keyed by their own `date_added`, with
//!   per-collection flags and partial indexes.
//! - `external_ids`: `(ASCII-lowercased external id, object id)`.
//! - `meta`: `date_added_high` (the highest `date_added` ever handed out; read
//!   and raised by writers under the write lock) and `accounts_generation`.
//! - `users`, `tokens`, `statuses`.
//!
//! V2 adds `sightline_put`, a put in one round trip (`put_fn!`: defined once); V3
//! gives memberships their version's type (collection pages by type). V4
//! makes rows content-addressed (ARCHITECTURE.md, invariant 3): `versions_id`
//! is no longer unique, the same `(id, version_key)` with other bytes put
//! into another collection is a row of its own (a variant, without
//! store-wide flags or search vectors: store-wide, a key's first arrival
//! stands), and a membership names the exact row; `members_id` still keeps
//! one membership per key and collection. V5 indexes the versions whose
//! `spec_version` is not 2.1 (none that the validator admits, E104: a put
//! pays nothing), so `match[spec_version]=2.0` is a probe, not a scan
//! (issue 12 §3). V8 adds `refs (target, version)`: each version's embedded
//! references for `referrers_of` (see the SQLite schema), indexed by target.
//!
//! Every text column that is compared or sorted is `COLLATE "C"`: byte order,
//! as in SQLite and Rust, whatever the database's locale (version keys, ids
//! and titles must sort the same on every backend).

pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The migration (1-based) after whose SQL `refs` is filled from the stored
/// versions in Rust (`lib.rs`, `backfill_refs`): the same extraction as a
/// put (`sightline_store::refs::indexed_refs`), which jsonb could not do for
/// text it refuses (`\u0000`).
pub(crate) const REFS_MIGRATION: u32 = 8;

const V1: &str = r#"
CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('date_added_high', 0), ('accounts_generation', 0);

CREATE TABLE versions (
    date_added   bigint PRIMARY KEY,
    id           text COLLATE "C" NOT NULL,
    version_key  text COLLATE "C" NOT NULL,
    type         text COLLATE "C" NOT NULL,
    spec_version text COLLATE "C" NOT NULL,
    version      text,
    revoked      boolean NOT NULL,
    is_latest    boolean NOT NULL,
    is_first     boolean NOT NULL,
    name         text,
    source_ref   text COLLATE "C",
    target_ref   text COLLATE "C",
    raw          text NOT NULL,
    search_names tsvector,
    search_all   tsvector
);
CREATE UNIQUE INDEX versions_id ON versions (id, version_key);
CREATE INDEX versions_latest ON versions (date_added) WHERE is_latest;
CREATE INDEX versions_first ON versions (date_added) WHERE is_first;
CREATE INDEX versions_type ON versions (type, date_added);
CREATE INDEX versions_type_latest ON versions (type, date_added) WHERE is_latest;
CREATE INDEX versions_source ON versions (source_ref) WHERE source_ref IS NOT NULL AND is_latest;
CREATE INDEX versions_target ON versions (target_ref) WHERE target_ref IS NOT NULL AND is_latest;
CREATE INDEX versions_search ON versions USING gin (search_all) WHERE search_all IS NOT NULL;

CREATE TABLE collections (
    cid         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text COLLATE "C" NOT NULL UNIQUE,
    alias       text COLLATE "C" UNIQUE,
    title       text COLLATE "C" NOT NULL,
    description text,
    media_types text NOT NULL
);

CREATE TABLE members (
    date_added  bigint PRIMARY KEY,
    cid         bigint NOT NULL REFERENCES collections (cid) ON DELETE CASCADE,
    version     bigint NOT NULL REFERENCES versions (date_added),
    id          text COLLATE "C" NOT NULL,
    version_key text COLLATE "C" NOT NULL,
    is_latest   boolean NOT NULL,
    is_first    boolean NOT NULL
);
CREATE UNIQUE INDEX members_id ON members (cid, id, version_key);
CREATE INDEX members_all ON members (cid, date_added);
CREATE INDEX members_latest ON members (cid, date_added) WHERE is_latest;
CREATE INDEX members_first ON members (cid, date_added) WHERE is_first;

CREATE TABLE external_ids (
    external_id text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    PRIMARY KEY (external_id, id)
);

CREATE TABLE users (
    name          text COLLATE "C" PRIMARY KEY,
    password_hash text NOT NULL,
    groups        text NOT NULL,
    admin         boolean NOT NULL
);

CREATE TABLE tokens (
    id            text COLLATE "C" PRIMARY KEY,
    "user"        text COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    secret_sha256 bytea NOT NULL,
    created       bigint NOT NULL,
    revoked       boolean NOT NULL
);
CREATE INDEX tokens_user ON tokens ("user");

CREATE TABLE statuses (
    id       text COLLATE "C" PRIMARY KEY,
    api_root text NOT NULL,
    owner    text,
    expires  bigint NOT NULL,
    body     text NOT NULL
);
CREATE INDEX statuses_expires ON statuses (expires);
"#;

/// One put, server-side, in one round trip: the same steps as the SQLite
/// backend's `put_inner` (find the id's latest, first and same-key versions;
/// insert a new version with its flags, search vectors and external ids,
/// clearing the old latest/first; then the same for the collection's
/// memberships). `p_last` is the last `date_added` the transaction handed
/// out; new values are `max(clock_timestamp() in µs, last + 1)` unless given
/// (`p_date`, `p_member_date`: restoring a copied store). Version keys are
/// compared `COLLATE "C"`, byte order, as everywhere. Relies on the caller
/// holding the write lock (see the crate doc).
///
/// Defined once, here: the migration that first creates it (V2) and each
/// one that changes it (V4; a future one: `concat!(..., put_fn!())`, after a
/// `DROP FUNCTION IF EXISTS` of a signature it replaces) run this same
/// `CREATE OR REPLACE`, so a new database and a migrated one end with the
/// same function. (A database past V2 kept its older definition until V4.)
///
/// `p_variants` (restoring a copied store: other bytes under a stored key are
/// a variant row, not a conflict) and `conflict` (nothing written: the
/// collection, or with none the store-wide space, holds other bytes under
/// this key) came with V4. The raw text is read only for same-key rows.
macro_rules! put_fn {
    () => {
        r#"
CREATE OR REPLACE FUNCTION sightline_put(
    p_last bigint, p_date bigint,
    p_id text, p_vk text, p_type text, p_spec text, p_version text, p_revoked boolean,
    p_name text, p_source text, p_target text, p_raw text,
    p_names text, p_all text, p_ext text[],
    p_cid bigint, p_member_date bigint, p_variants boolean,
    OUT version_date bigint, OUT version_added boolean,
    OUT member_date bigint, OUT member_added boolean, OUT last bigint, OUT conflict boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    v_known boolean := false;
    v_identical bigint;
    v_latest bigint;
    v_latest_key text COLLATE "C";
    v_first bigint;
    v_first_key text COLLATE "C";
    v_is_latest boolean;
    v_is_first boolean;
    m_same bigint;
    m_row bigint;
    m_latest bigint;
    m_latest_key text COLLATE "C";
    m_first bigint;
    m_first_key text COLLATE "C";
    vk text COLLATE "C" := p_vk;
    d bigint;
    v_first_same bigint;
    v_first_same_raw text;
BEGIN
    last := p_last;
    conflict := false;
    FOR r IN SELECT v.date_added, v.version_key, v.is_latest, v.is_first,
                    CASE WHEN v.version_key = p_vk THEN v.raw END AS raw
             FROM versions v
             WHERE v.id = p_id AND (v.is_latest OR v.is_first OR v.version_key = p_vk) LOOP
        IF r.version_key = vk THEN
            v_known := true;
            IF r.raw = p_raw THEN v_identical := r.date_added; END IF;
            IF v_first_same IS NULL OR r.date_added < v_first_same THEN
                v_first_same := r.date_added;
                v_first_same_raw := r.raw;
            END IF;
        END IF;
        IF r.is_latest THEN v_latest := r.date_added; v_latest_key := r.version_key; END IF;
        IF r.is_first THEN v_first := r.date_added; v_first_key := r.version_key; END IF;
    END LOOP;
    IF p_cid IS NULL THEN
        IF v_identical IS NOT NULL THEN
            version_date := v_identical;
            version_added := false;
            RETURN;
        END IF;
        IF v_known AND NOT p_variants THEN
            -- The store-wide version keeps its first bytes: the same JSON
            -- reformatted is a duplicate of it (V7), other content a conflict.
            IF sightline_same_json(v_first_same_raw, p_raw) THEN
                version_date := v_first_same;
                version_added := false;
            ELSE
                conflict := true;
            END IF;
            RETURN;
        END IF;
    ELSE
        FOR r IN SELECT m.date_added, m.version_key, m.is_latest, m.is_first, m.version FROM members m
                 WHERE m.cid = p_cid AND m.id = p_id AND (m.is_latest OR m.is_first OR m.version_key = p_vk) LOOP
            IF r.version_key = vk THEN m_same := r.date_added; m_row := r.version; END IF;
            IF r.is_latest THEN m_latest := r.date_added; m_latest_key := r.version_key; END IF;
            IF r.is_first THEN m_first := r.date_added; m_first_key := r.version_key; END IF;
        END LOOP;
        IF m_same IS NOT NULL THEN
            IF m_row = v_identical OR sightline_same_json(
                    (SELECT v.raw FROM versions v WHERE v.date_added = m_row), p_raw) THEN
                version_date := m_row;
                version_added := false;
                member_date := m_same;
                member_added := false;
            ELSE
                -- This collection holds other bytes under this key.
                conflict := true;
            END IF;
            RETURN;
        END IF;
    END IF;
    IF v_identical IS NOT NULL THEN
        version_date := v_identical;
        version_added := false;
    ELSE
        IF v_known THEN
            -- A variant: no store-wide flag, so no search vectors either.
            v_is_latest := false;
            v_is_first := false;
        ELSE
            v_is_latest := v_latest_key IS NULL OR vk > v_latest_key;
            v_is_first := v_first_key IS NULL OR vk < v_first_key;
        END IF;
        d := coalesce(p_date, greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, last + 1));
        INSERT INTO versions (date_added, id, version_key, type, spec_version, version, revoked,
            is_latest, is_first, name, source_ref, target_ref, raw, search_names, search_all)
        VALUES (d, p_id, p_vk, p_type, p_spec, p_version, p_revoked, v_is_latest, v_is_first,
            p_name, p_source, p_target, p_raw,
            CASE WHEN v_is_latest THEN to_tsvector('simple', p_names) END,
            CASE WHEN v_is_latest THEN to_tsvector('simple', p_all) END);
        IF v_is_latest AND v_latest IS NOT NULL THEN
            UPDATE versions SET is_latest = false, search_names = NULL, search_all = NULL
            WHERE date_added = v_latest;
        END IF;
        IF v_is_first AND v_first IS NOT NULL THEN
            UPDATE versions SET is_first = false WHERE date_added = v_first;
        END IF;
        IF p_ext IS NOT NULL AND cardinality(p_ext) > 0 THEN
            INSERT INTO external_ids (external_id, id)
            SELECT e, p_id FROM unnest(p_ext) e ON CONFLICT DO NOTHING;
        END IF;
        version_date := d;
        version_added := true;
        last := greatest(last, d);
    END IF;
    IF p_cid IS NULL THEN
        RETURN;
    END IF;
    v_is_latest := m_latest_key IS NULL OR vk > m_latest_key;
    v_is_first := m_first_key IS NULL OR vk < m_first_key;
    IF version_added THEN
        -- A new version joins with its own date (one value, as on SQLite).
        d := version_date;
    ELSE
        d := coalesce(p_member_date, greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, last + 1));
    END IF;
    INSERT INTO members (date_added, cid, version, id, version_key, is_latest, is_first, type)
    SELECT d, p_cid, version_date, p_id, p_vk, v_is_latest, v_is_first, v.type
    FROM versions v WHERE v.date_added = version_date;
    IF v_is_latest AND m_latest IS NOT NULL THEN
        UPDATE members SET is_latest = false WHERE date_added = m_latest;
    END IF;
    IF v_is_first AND m_first IS NOT NULL THEN
        UPDATE members SET is_first = false WHERE date_added = m_first;
    END IF;
    member_date := d;
    member_added := true;
    last := greatest(last, d);
END
$fn$;
"#
    };
}

/// `sightline_put` (see [`put_fn!`]; before V4, a 17-argument version).
const V2: &str = put_fn!();

/// Memberships carry their version's type, so a collection page filtered by
/// type (`match[type]`, the commonest TAXII filter) is an ordered range scan
/// of `(cid, type, date_added)` instead of a join over the whole collection.
const V3: &str = r#"
ALTER TABLE members ADD COLUMN type text COLLATE "C";
UPDATE members m SET type = v.type FROM versions v WHERE v.date_added = m.version;
ALTER TABLE members ALTER COLUMN type SET NOT NULL;
CREATE INDEX members_type ON members (cid, type, date_added);
CREATE INDEX members_type_latest ON members (cid, type, date_added) WHERE is_latest;
"#;

/// Content-addressed rows (see the module doc); `sightline_put` gains
/// `p_variants` and `conflict` (see [`put_fn!`]).
pub(crate) const V4: &str = concat!(
    r#"
DROP INDEX versions_id;
CREATE INDEX versions_id ON versions (id, version_key);
DROP FUNCTION IF EXISTS sightline_put(bigint, bigint, text, text, text, text, text, boolean,
    text, text, text, text, text, text, text[], bigint, bigint);
"#,
    put_fn!()
);

/// Rare spec versions (see the module doc; `read.rs`, `page_sql`).
const V5: &str = r#"
CREATE INDEX versions_spec ON versions (spec_version, date_added) WHERE spec_version <> '2.1';
"#;

/// Token expiry and last use (seconds since the epoch; NULL: never / not yet).
const V6: &str = r#"
ALTER TABLE tokens ADD COLUMN expires bigint;
ALTER TABLE tokens ADD COLUMN last_used bigint;
"#;

/// The same JSON reformatted is a duplicate, not a conflict
/// (`sightline_store::same_json`; jsonb equality: whitespace and member order
/// aside). Text that is no JSON (or that jsonb refuses, as `\u0000`) is never
/// the same. `sightline_put` calls it only when the bytes differ.
const V7: &str = concat!(
    r#"
CREATE OR REPLACE FUNCTION sightline_same_json(a text, b text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
    RETURN a::jsonb = b::jsonb;
EXCEPTION WHEN others THEN
    RETURN false;
END
$fn$;
"#,
    put_fn!()
);

/// Embedded references by target (`referrers_of`), filled for stored
/// versions by `backfill_refs` in the same transaction.
const V8: &str = r#"
CREATE TABLE refs (
    target  text COLLATE "C" NOT NULL,
    version bigint NOT NULL
);
CREATE INDEX refs_target ON refs (target, version);
"#;

#[cfg(test)]
mod tests {
    use sightline_store::conformance::{obj, sid, ts};
    use sightline_store::{
        CollectionInfo, CollectionStore, ObjectReader, ObjectWriter, PutOutcome, VersionReader,
    };

    use super::MIGRATIONS;

    /// `sightline_put`'s arguments before V4 and since.
    const V3_SIGNATURE: &str = "bigint, bigint, text, text, text, text, text, boolean,
        text, text, text, text, text, text, text[], bigint, bigint";
    const CURRENT: &str = "bigint, bigint, text, text, text, text, text, boolean,
        text, text, text, text, text, text, text[], bigint, bigint, boolean";
    use sightline_testkit::pg::TestDb;

    use crate::PgStore;

    fn malware(who: &str) -> sightline_store::NewObject {
        obj(&serde_json::json!({
            "type": "malware", "spec_version": "2.1", "id": sid("malware", 1),
            "created": ts(0), "modified": ts(1), "name": "m", "description": who,
            "is_family": false
        }))
    }

    fn coll(n: u32, alias: &str) -> CollectionInfo {
        CollectionInfo {
            id: format!("{n:08x}-1111-4222-8333-444455556666"),
            title: alias.into(),
            description: None,
            alias: Some(alias.into()),
            media_types: vec![],
        }
    }

    /// Copying a store (`restore_version`, `restore_membership`) carries
    /// variants, each membership naming its row by its bytes. Needs
    /// PostgreSQL (`sightline_testkit::pg`).
    #[test]
    fn restore_carries_variants_and_their_memberships() {
        use sightline_store::{ObjectQuery, StoreError, VersionFilter};
        let (a, b) = (TestDb::new("restore_src"), TestDb::new("restore_dst"));
        let (src, dst) = (
            PgStore::open(a.url()).expect("open"),
            PgStore::open(b.url()).expect("open"),
        );
        for s in [&src, &dst] {
            s.create_collection(&coll(1, "feed")).expect("feed");
            s.create_collection(&coll(2, "other")).expect("other");
        }
        let mut t = src.begin().expect("begin");
        t.put(&malware("planted"), Some("other")).expect("put");
        t.put(&malware("legit"), Some("feed")).expect("put");
        t.put(&malware("legit"), Some("other")).expect("put");
        t.commit().expect("commit");
        let all = |s: &crate::PgStore, c: Option<&str>| {
            s.query(&ObjectQuery {
                collection: c.map(str::to_owned),
                versions: VersionFilter::all(),
                limit: 100,
                ..ObjectQuery::default()
            })
            .expect("query")
            .items
        };
        let mut t = dst.begin().expect("begin");
        for o in all(&src, None) {
            let got = t
                .restore_version(&sightline_store::conformance::raw_obj(&o.raw), o.date_added)
                .expect("restore");
            assert_eq!(
                got,
                PutOutcome::Added {
                    date_added: o.date_added
                }
            );
        }
        for c in ["feed", "other"] {
            for o in all(&src, Some(c)) {
                let got = t
                    .restore_membership(c, &o.id, &o.version_key, &o.raw, o.date_added)
                    .expect("membership");
                assert_eq!(
                    got,
                    PutOutcome::Added {
                        date_added: o.date_added
                    }
                );
            }
        }
        assert!(matches!(
            t.restore_membership("feed", &sid("malware", 1), "x", "{}", 1),
            Err(StoreError::Invalid(_))
        ));
        t.commit().expect("commit");
        for c in [None, Some("feed"), Some("other")] {
            assert_eq!(all(&dst, c), all(&src, c), "{c:?}");
        }
        assert_eq!(dst.stats().expect("stats"), src.stats().expect("stats"));
        let problems = dst.check().expect("check");
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// A V3 database (one row per id and version, `versions_id` unique, the
    /// old `sightline_put`) migrates to V4: its data reads back, the index is
    /// not unique, and other bytes for a stored version put into another
    /// collection are a row of their own. Needs PostgreSQL.
    #[test]
    fn v3_database_migrates_to_content_addressed_versions() {
        let db = TestDb::new("v3_to_v4");
        let old = malware("first");
        {
            let mut c = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
            c.batch_execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .expect("migrations table");
            for (i, m) in MIGRATIONS[..3].iter().enumerate() {
                c.batch_execute(m).expect("old migration");
                c.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[&(i32::try_from(i).expect("small") + 1)],
                )
                .expect("record");
            }
            // What a V3 release left: its own 17-argument `sightline_put`
            // (a stand-in; V4 must replace it), not today's, and a version
            // row as it wrote them.
            c.batch_execute(&format!(
                "DROP FUNCTION sightline_put({CURRENT});
                 CREATE FUNCTION sightline_put({V3_SIGNATURE}) RETURNS void
                 LANGUAGE plpgsql AS $$BEGIN END$$"
            ))
            .expect("V3 function");
            c.execute(
                "INSERT INTO versions (date_added, id, version_key, type, spec_version, version,
                    revoked, is_latest, is_first, name, raw, search_names, search_all)
                 VALUES (1, $1, $2, 'malware', '2.1', $3, false, true, true, 'm', $4,
                    to_tsvector('simple', 'm'), to_tsvector('simple', 'm first'))",
                &[
                    &old.meta.id,
                    &old.meta.version_key,
                    &old.meta.version,
                    &old.raw,
                ],
            )
            .expect("V3 row");
            c.execute(
                "UPDATE meta SET value = (SELECT max(date_added) FROM versions)
                 WHERE key = 'date_added_high'",
                &[],
            )
            .expect("clock");
        }
        let s = PgStore::open(db.url()).expect("open");
        let latest = MIGRATIONS.len() as u32;
        assert_eq!(s.schema_version().expect("version"), (latest, latest));
        let mut c = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
        let unique: bool = c
            .query_one(
                "SELECT indisunique FROM pg_index WHERE indexrelid = 'versions_id'::regclass",
                &[],
            )
            .expect("index")
            .get(0);
        assert!(!unique, "versions_id still unique");
        // One `sightline_put`, today's (18 arguments, from `put_fn!`).
        let functions: Vec<i16> = c
            .query(
                "SELECT pronargs FROM pg_proc WHERE proname = 'sightline_put'",
                &[],
            )
            .expect("functions")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(functions, [18]);
        s.create_collection(&coll(1, "feed")).expect("feed");
        s.create_collection(&coll(2, "other")).expect("other");
        let new = malware("second");
        let mut t = s.begin().expect("begin");
        assert!(matches!(
            t.put(&old, Some("feed")).expect("put"),
            PutOutcome::Added { .. }
        ));
        assert!(matches!(
            t.put(&new, Some("other")).expect("put"),
            PutOutcome::Added { .. }
        ));
        // Store-wide the first arrival stands: other bytes are a conflict.
        assert_eq!(
            t.put(&malware("third"), None).expect("put"),
            PutOutcome::Conflict
        );
        t.commit().expect("commit");
        let raws = |c: Option<&str>| -> Vec<String> {
            s.versions(&old.meta.id, c)
                .expect("versions")
                .into_iter()
                .map(|o| o.raw)
                .collect()
        };
        assert_eq!(raws(Some("feed")), vec![old.raw.clone()]);
        assert_eq!(raws(Some("other")), vec![new.raw.clone()]);
        assert_eq!(raws(None), vec![old.raw.clone(), new.raw.clone()]);
        let problems = s.check().expect("check");
        assert!(problems.is_empty(), "{problems:?}");
    }
}
