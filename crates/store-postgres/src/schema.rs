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
//! Every text column that is compared or sorted is `COLLATE "C"`: byte order,
//! as in SQLite and Rust, whatever the database's locale (version keys, ids
//! and titles must sort the same on every backend).

pub(crate) const MIGRATIONS: &[&str] = &[V1];

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
