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
//! V2 adds `sightline_put`, a put in one round trip (see its comment); V3
//! gives memberships their version's type (collection pages by type).
//!
//! Every text column that is compared or sorted is `COLLATE "C"`: byte order,
//! as in SQLite and Rust, whatever the database's locale (version keys, ids
//! and titles must sort the same on every backend).

pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3];

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
const V2: &str = r#"
CREATE FUNCTION sightline_put(
    p_last bigint, p_date bigint,
    p_id text, p_vk text, p_type text, p_spec text, p_version text, p_revoked boolean,
    p_name text, p_source text, p_target text, p_raw text,
    p_names text, p_all text, p_ext text[],
    p_cid bigint, p_member_date bigint,
    OUT version_date bigint, OUT version_added boolean,
    OUT member_date bigint, OUT member_added boolean, OUT last bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    v_same bigint;
    v_latest bigint;
    v_latest_key text COLLATE "C";
    v_first bigint;
    v_first_key text COLLATE "C";
    v_is_latest boolean;
    v_is_first boolean;
    vk text COLLATE "C" := p_vk;
    d bigint;
BEGIN
    last := p_last;
    FOR r IN SELECT v.date_added, v.version_key, v.is_latest, v.is_first FROM versions v
             WHERE v.id = p_id AND (v.is_latest OR v.is_first OR v.version_key = p_vk) LOOP
        IF r.version_key = vk THEN v_same := r.date_added; END IF;
        IF r.is_latest THEN v_latest := r.date_added; v_latest_key := r.version_key; END IF;
        IF r.is_first THEN v_first := r.date_added; v_first_key := r.version_key; END IF;
    END LOOP;
    IF v_same IS NOT NULL THEN
        version_date := v_same;
        version_added := false;
    ELSE
        v_is_latest := v_latest_key IS NULL OR vk > v_latest_key;
        v_is_first := v_first_key IS NULL OR vk < v_first_key;
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
    v_same := NULL; v_latest := NULL; v_latest_key := NULL; v_first := NULL; v_first_key := NULL;
    FOR r IN SELECT m.date_added, m.version_key, m.is_latest, m.is_first FROM members m
             WHERE m.cid = p_cid AND m.id = p_id AND (m.is_latest OR m.is_first OR m.version_key = p_vk) LOOP
        IF r.version_key = vk THEN v_same := r.date_added; END IF;
        IF r.is_latest THEN v_latest := r.date_added; v_latest_key := r.version_key; END IF;
        IF r.is_first THEN v_first := r.date_added; v_first_key := r.version_key; END IF;
    END LOOP;
    IF v_same IS NOT NULL THEN
        member_date := v_same;
        member_added := false;
        RETURN;
    END IF;
    v_is_latest := v_latest_key IS NULL OR vk > v_latest_key;
    v_is_first := v_first_key IS NULL OR vk < v_first_key;
    IF version_added THEN
        -- A new version joins with its own date (one value, as on SQLite).
        d := version_date;
    ELSE
        d := coalesce(p_member_date, greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, last + 1));
    END IF;
    INSERT INTO members (date_added, cid, version, id, version_key, is_latest, is_first)
    VALUES (d, p_cid, version_date, p_id, p_vk, v_is_latest, v_is_first);
    IF v_is_latest AND v_latest IS NOT NULL THEN
        UPDATE members SET is_latest = false WHERE date_added = v_latest;
    END IF;
    IF v_is_first AND v_first IS NOT NULL THEN
        UPDATE members SET is_first = false WHERE date_added = v_first;
    END IF;
    member_date := d;
    member_added := true;
    last := greatest(last, d);
END
$fn$;
"#;

/// Memberships carry their version's type, so a collection page filtered by
/// type (`match[type]`, the commonest TAXII filter) is an ordered range scan
/// of `(cid, type, date_added)` instead of a join over the whole collection.
const V3: &str = r#"
ALTER TABLE members ADD COLUMN type text COLLATE "C";
UPDATE members m SET type = v.type FROM versions v WHERE v.date_added = m.version;
ALTER TABLE members ALTER COLUMN type SET NOT NULL;
CREATE INDEX members_type ON members (cid, type, date_added);
CREATE INDEX members_type_latest ON members (cid, type, date_added) WHERE is_latest;
CREATE OR REPLACE FUNCTION sightline_put(
    p_last bigint, p_date bigint,
    p_id text, p_vk text, p_type text, p_spec text, p_version text, p_revoked boolean,
    p_name text, p_source text, p_target text, p_raw text,
    p_names text, p_all text, p_ext text[],
    p_cid bigint, p_member_date bigint,
    OUT version_date bigint, OUT version_added boolean,
    OUT member_date bigint, OUT member_added boolean, OUT last bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    v_same bigint;
    v_latest bigint;
    v_latest_key text COLLATE "C";
    v_first bigint;
    v_first_key text COLLATE "C";
    v_is_latest boolean;
    v_is_first boolean;
    vk text COLLATE "C" := p_vk;
    d bigint;
BEGIN
    last := p_last;
    FOR r IN SELECT v.date_added, v.version_key, v.is_latest, v.is_first FROM versions v
             WHERE v.id = p_id AND (v.is_latest OR v.is_first OR v.version_key = p_vk) LOOP
        IF r.version_key = vk THEN v_same := r.date_added; END IF;
        IF r.is_latest THEN v_latest := r.date_added; v_latest_key := r.version_key; END IF;
        IF r.is_first THEN v_first := r.date_added; v_first_key := r.version_key; END IF;
    END LOOP;
    IF v_same IS NOT NULL THEN
        version_date := v_same;
        version_added := false;
    ELSE
        v_is_latest := v_latest_key IS NULL OR vk > v_latest_key;
        v_is_first := v_first_key IS NULL OR vk < v_first_key;
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
    v_same := NULL; v_latest := NULL; v_latest_key := NULL; v_first := NULL; v_first_key := NULL;
    FOR r IN SELECT m.date_added, m.version_key, m.is_latest, m.is_first FROM members m
             WHERE m.cid = p_cid AND m.id = p_id AND (m.is_latest OR m.is_first OR m.version_key = p_vk) LOOP
        IF r.version_key = vk THEN v_same := r.date_added; END IF;
        IF r.is_latest THEN v_latest := r.date_added; v_latest_key := r.version_key; END IF;
        IF r.is_first THEN v_first := r.date_added; v_first_key := r.version_key; END IF;
    END LOOP;
    IF v_same IS NOT NULL THEN
        member_date := v_same;
        member_added := false;
        RETURN;
    END IF;
    v_is_latest := v_latest_key IS NULL OR vk > v_latest_key;
    v_is_first := v_first_key IS NULL OR vk < v_first_key;
    IF version_added THEN
        -- A new version joins with its own date (one value, as on SQLite).
        d := version_date;
    ELSE
        d := coalesce(p_member_date, greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, last + 1));
    END IF;
    INSERT INTO members (date_added, cid, version, id, version_key, is_latest, is_first, type)
    SELECT d, p_cid, version_date, p_id, p_vk, v_is_latest, v_is_first, v.type
    FROM versions v WHERE v.date_added = version_date;
    IF v_is_latest AND v_latest IS NOT NULL THEN
        UPDATE members SET is_latest = false WHERE date_added = v_latest;
    END IF;
    IF v_is_first AND v_first IS NOT NULL THEN
        UPDATE members SET is_first = false WHERE date_added = v_first;
    END IF;
    member_date := d;
    member_added := true;
    last := greatest(last, d);
END
$fn$;
"#;
