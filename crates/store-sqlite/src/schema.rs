//! The schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Migration `i` (0-based) takes the schema from version `i` to `i + 1`. A
//! store whose version is higher than `MIGRATIONS.len()` was written by a newer
//! Sightline and is refused rather than misread.
//!
//! Tables:
//! - `versions`: one row per object version; `date_added` (unique, strictly
//!   increasing) is the rowid, so inserts append and store-wide pages are rowid
//!   range scans. `is_latest` / `is_first` flags are maintained on insert, with
//!   partial indexes on `date_added` so "last"/"first" pages are index range
//!   scans whose cost does not depend on page depth or store size.
//! - `members`: collection memberships, keyed by their own `date_added`, with
//!   per-collection `is_latest` / `is_first` flags and partial indexes. A
//!   membership is found by id through the id's versions (`versions_id`) and
//!   `members_version (version, cid)` (V4). Until V3 it had its own index by
//!   `(cid, id, version_key)`: ids are random UUIDs, so each new object
//!   dirtied a random leaf of it (8 KiB of WAL, and again at checkpoint);
//!   `members_version` keys grow with `date_added`, so a new object's
//!   membership appends. SQLite alone then posts 41% more objects per second
//!   into a 1M-object store (`bench/post-floor`, BENCHMARKS.md).
//! - `fts`: contentless FTS5 (`detail=column`: no positions, as queries are
//!   prefix terms only) over name, aliases, description of the latest version
//!   of each object except relationships and sightings (their descriptions
//!   are procedure text about other objects: they would drown the named
//!   objects a search looks for, and are most of the indexing cost); its rowid
//!   is that version's `date_added`.
//! - `external_ids`: `(external_id, object id)` for `lookup_external_id`.
//! - `meta`: key/value; `date_added_high` is the highest `date_added` ever
//!   handed out, so a restart never reuses one (even one whose row is gone);
//!   `accounts_generation` counts changes to users and tokens (V2).
//! - `users`, `tokens` (V2): accounts for HTTP Basic and Bearer. Passwords as
//!   argon2 PHC strings, token secrets as SHA-256 only; groups as a JSON array.
//!   A user's tokens go with the user (ON DELETE CASCADE).
//! - `statuses` (V3): TAXII status resources as opaque JSON, with their API
//!   root, owner and expiry (seconds since the epoch; indexed for purging).
//! - V4: `members_version` replaces `members_id` (see `members`).
//! - V5: `versions_id` is no longer unique: rows are content-addressed
//!   (ARCHITECTURE.md, invariant 3). The same `(id, version_key)` with other
//!   bytes, put into another collection, is a row of its own (a variant,
//!   with `is_latest = is_first = 0`: store-wide, a key's first arrival
//!   stands), so a membership names exactly the bytes put into its
//!   collection. Within one collection a key still has one membership (the
//!   write path checks it; `check` verifies it).
//! - V6: filters that match nothing cost an index probe, not a scan of the
//!   collection (issue 12, `read.rs`, `page_sql`). Memberships carry their
//!   version's `type`, with `members_type (cid, type, date_added)` (its keys
//!   grow with `date_added` within each type: a put appends, as to
//!   `members_all`); `versions_spec` indexes versions whose `spec_version`
//!   is not 2.1: none that the validator admits (E104), so it costs a put
//!   nothing.
//! - V7: tokens may expire (`tokens.expires`, seconds since the epoch, NULL:
//!   never) and record their last use (`tokens.last_used`, updated at most
//!   once a minute per token by the server).
//! - V8: `refs (target, version)`: each version's embedded references
//!   (`sightline_store::refs::indexed_refs`: `*_ref`/`*_refs` at any depth but
//!   a relationship's or sighting's own ends), for `referrers_of`, with
//!   `refs_target (target, version)`: a look-up is one index range plus the
//!   `is_latest` check of each row, O(answer). Written with the version row;
//!   the migration fills it for stored versions with `json_tree`.

pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

const V1: &str = r"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value ANY
) WITHOUT ROWID, STRICT;

CREATE TABLE versions (
    date_added   INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    version_key  TEXT NOT NULL,
    type         TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    version      TEXT,
    revoked      INTEGER NOT NULL,
    is_latest    INTEGER NOT NULL,
    is_first     INTEGER NOT NULL,
    name         TEXT,
    source_ref   TEXT,
    target_ref   TEXT,
    raw          TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX versions_id ON versions (id, version_key);
CREATE INDEX versions_latest ON versions (date_added) WHERE is_latest = 1;
CREATE INDEX versions_first ON versions (date_added) WHERE is_first = 1;
CREATE INDEX versions_type ON versions (type, date_added);
CREATE INDEX versions_type_latest ON versions (type, date_added) WHERE is_latest = 1;
CREATE INDEX versions_source ON versions (source_ref) WHERE source_ref IS NOT NULL;
CREATE INDEX versions_target ON versions (target_ref) WHERE target_ref IS NOT NULL;

CREATE TABLE collections (
    cid         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    alias       TEXT UNIQUE,
    title       TEXT NOT NULL,
    description TEXT,
    media_types TEXT NOT NULL
) STRICT;

CREATE TABLE members (
    date_added  INTEGER PRIMARY KEY,
    cid         INTEGER NOT NULL REFERENCES collections (cid) ON DELETE CASCADE,
    version     INTEGER NOT NULL REFERENCES versions (date_added),
    id          TEXT NOT NULL,
    version_key TEXT NOT NULL,
    is_latest   INTEGER NOT NULL,
    is_first    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX members_id ON members (cid, id, version_key);
CREATE INDEX members_all ON members (cid, date_added);
CREATE INDEX members_latest ON members (cid, date_added) WHERE is_latest = 1;
CREATE INDEX members_first ON members (cid, date_added) WHERE is_first = 1;

CREATE TABLE external_ids (
    external_id TEXT NOT NULL COLLATE NOCASE,
    id          TEXT NOT NULL,
    PRIMARY KEY (external_id, id)
) WITHOUT ROWID, STRICT;

CREATE VIRTUAL TABLE fts USING fts5 (
    name, aliases, description,
    content = '', contentless_delete = 1, detail = column,
    tokenize = 'unicode61 remove_diacritics 2'
);
";

const V2: &str = r"
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    groups        TEXT NOT NULL,
    admin         INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,
    user          TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    secret_sha256 BLOB NOT NULL,
    created       INTEGER NOT NULL,
    revoked       INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX tokens_user ON tokens (user);
";

const V3: &str = r"
CREATE TABLE statuses (
    id       TEXT PRIMARY KEY,
    api_root TEXT NOT NULL,
    owner    TEXT,
    expires  INTEGER NOT NULL,
    body     TEXT NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX statuses_expires ON statuses (expires);
";

const V4: &str = r"
CREATE UNIQUE INDEX members_version ON members (version, cid);
DROP INDEX members_id;
";

const V5: &str = r"
DROP INDEX versions_id;
CREATE INDEX versions_id ON versions (id, version_key);
";

const V6: &str = r"
ALTER TABLE members ADD COLUMN type TEXT NOT NULL DEFAULT '';
UPDATE members SET type = (SELECT v.type FROM versions v WHERE v.date_added = members.version);
CREATE INDEX members_type ON members (cid, type, date_added);
CREATE INDEX versions_spec ON versions (spec_version, date_added) WHERE spec_version <> '2.1';
";

const V7: &str = r"
ALTER TABLE tokens ADD COLUMN expires INTEGER;
ALTER TABLE tokens ADD COLUMN last_used INTEGER;
";

// json_tree's `path` of an array element is the array's path, its key
// quoted when not a plain identifier (`$."object_refs"` on recent SQLite):
// both spellings count.
const V8: &str = r#"
CREATE TABLE refs (
    target  TEXT NOT NULL,
    version INTEGER NOT NULL
) STRICT;
INSERT INTO refs (target, version)
SELECT DISTINCT j.value, v.date_added
FROM versions v, json_tree(v.raw) j
WHERE j.type = 'text' AND j.value LIKE '%--%'
  AND (
    (j.key LIKE '%\_ref' ESCAPE '\'
      AND NOT (j.path = '$' AND j.key IN ('source_ref', 'target_ref', 'sighting_of_ref')))
    OR (typeof(j.key) = 'integer'
      AND (j.path LIKE '%\_refs' ESCAPE '\' OR j.path LIKE '%\_refs"' ESCAPE '\'))
  );
CREATE INDEX refs_target ON refs (target, version);
"#;
