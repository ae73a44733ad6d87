//! Storage traits, split by role, and the types every backend shares:
//! objects as stored, queries with TAXII-shaped filters and keyset paging,
//! collections, and [`StoreError`].
//!
//! The traits are synchronous: SQLite is synchronous, and async callers (the
//! TAXII server) run store calls on a blocking pool. No driver type appears in
//! any signature here, so a PostgreSQL backend fits without changes above.
//!
//! Invariants every backend keeps (checked by `conformance`, the suite every
//! backend's tests run; compiled only for tests, with the `testing` feature):
//! - a stored row is `(id, version_key, raw)`; a put of the same key with the
//!   same bytes reuses the row ([`PutOutcome::Duplicate`] when the collection,
//!   or with none the store, already holds it); other bytes get a row of their
//!   own (a variant), so a collection returns only bytes put into it. Within
//!   one collection (and in the store-wide space) a key holds one row: other
//!   bytes there are a [`PutOutcome::Conflict`], never a rewrite. Store-wide
//!   latest/first consider only each key's first-arrived row;
//! - every new version, and every new collection membership, gets a `date_added`
//!   from [`DateAddedClock`]: microseconds, strictly increasing, never reused;
//! - the raw JSON given to [`WriteTxn::put`] is returned byte for byte;
//! - a [`WriteTxn`] dropped without `commit` leaves nothing behind.

pub mod accounts;
pub mod clock;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod error;
pub mod memory;
pub mod query;
pub mod refs;
pub mod status;

pub use accounts::{AccountStore, ApiToken, User};
pub use clock::{format_date_added, now_micros, parse_date_added, DateAdded, DateAddedClock};
pub use error::{Cause, Redacted, StoreError};
pub use memory::MemoryStore;
pub use query::{
    for_each_latest_of, for_each_page, ObjectQuery, ObjectRow, Page, PageSummary, VersionFilter,
    MAX_TYPE_ARMS,
};
pub use status::{StatusStore, StoredStatus};

use sightline_stix::ObjectMeta;

/// Whether two objects' JSON texts are the same JSON (whitespace and member
/// order aside): how every backend tells a duplicate of a stored version
/// (the same object reformatted, e.g. ATT&CK pretty-printed in one file and
/// compact in another) from a conflict (other content under the same id and
/// `modified`). Only called when the bytes differ. Text that does not parse
/// is never the same.
pub fn same_json(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (
                serde_json::from_str::<serde_json::Value>(a),
                serde_json::from_str::<serde_json::Value>(b),
            ),
            (Ok(x), Ok(y)) if x == y
        )
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An object version to store: its indexed fields and its JSON text as received.
#[derive(Debug, Clone)]
pub struct NewObject {
    pub meta: ObjectMeta,
    /// The object's JSON exactly as received (one object, no trailing newline).
    pub raw: String,
}

/// One stored object version (or one collection membership of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub id: String,
    pub ty: String,
    pub spec_version: String,
    /// `modified`, else `created`, as written; `None` for objects with neither.
    pub version: Option<String>,
    /// [`sightline_stix::Timestamp::sort_key`] of `version`; "" when `version` is `None`.
    pub version_key: String,
    /// When this version was stored (or, in a collection query, added to that collection).
    pub date_added: DateAdded,
    pub revoked: bool,
    pub raw: String,
}

/// The result of putting one object version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new version (or a new collection membership of a known version).
    Added { date_added: DateAdded },
    /// The same `(id, version)` with the same raw bytes was already stored
    /// (and, when a collection was given, already in it). Nothing changed.
    Duplicate { date_added: DateAdded },
    /// Different raw bytes for an `(id, version_key)` the collection already
    /// holds (or, with no collection, that the store-wide space already holds):
    /// a version is never replaced by other bytes. Nothing was written.
    Conflict,
}

/// A TAXII collection (TAXII 2.1 §5.2): identity and description. Who may read
/// or write it is the server's business, not the store's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionInfo {
    /// A UUIDv4, as TAXII clients expect.
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// A short human name, unique, usable wherever an id is.
    pub alias: Option<String>,
    pub media_types: Vec<String>,
}

impl CollectionInfo {
    /// Checks a collection description before a backend stores it: the id is a
    /// UUID, the title is not blank, the alias (if any) is non-empty and not a
    /// UUID (so ids and aliases can never be confused).
    pub fn validate(&self) -> Result<()> {
        if uuid::Uuid::parse_str(&self.id).is_err() {
            return Err(StoreError::Invalid(format!(
                "collection id {:?} is not a UUID",
                self.id
            )));
        }
        if self.title.trim().is_empty() {
            return Err(StoreError::Invalid("a collection needs a title".into()));
        }
        if let Some(a) = &self.alias {
            if a.is_empty() || uuid::Uuid::parse_str(a).is_ok() {
                return Err(StoreError::Invalid(format!(
                    "collection alias {a:?} must be non-empty and not a UUID"
                )));
            }
        }
        Ok(())
    }
}

/// A full-text search hit: the latest version of a matching object.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: String,
    pub ty: String,
    pub name: Option<String>,
    /// Lower is better (BM25-like rank as the backend computes it).
    pub rank: f64,
}

/// Counts for `sightline stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Distinct object ids.
    pub objects: u64,
    /// Stored versions over all objects.
    pub versions: u64,
    /// Objects whose latest version is revoked.
    pub revoked: u64,
    pub collections: u64,
    /// `(type, distinct ids)` sorted by type.
    pub by_type: Vec<(String, u64)>,
}

/// Reading objects.
pub trait ObjectReader: Send + Sync {
    /// Objects matching `q`, ascending by `date_added`, at most `q.limit`,
    /// starting strictly after `q.after` (the keyset cursor).
    fn query(&self, q: &ObjectQuery) -> Result<Page>;
    /// The page [`ObjectReader::query`] returns, handed row by row to `each`
    /// (borrowed, in order, at most `q.limit` rows) instead of collected.
    /// Backends override it to skip building owned rows.
    fn query_each(
        &self,
        q: &ObjectQuery,
        each: &mut dyn FnMut(&ObjectRow<'_>),
    ) -> Result<PageSummary> {
        let page = self.query(q)?;
        let mut summary = PageSummary {
            more: page.more,
            ..PageSummary::default()
        };
        for o in page.items.iter().take(q.limit) {
            summary.saw(o.date_added);
            each(&o.as_row());
        }
        if page.items.len() > q.limit {
            summary.more = true;
        }
        Ok(summary)
    }
    /// Object ids whose `external_references` carry `external_id` (e.g. `G0032`),
    /// in any source; sorted.
    fn lookup_external_id(&self, external_id: &str) -> Result<Vec<String>>;
    /// Full-text search over names, aliases and descriptions of the latest
    /// versions of objects other than relationships and sightings. `text` is
    /// words (runs of letters and digits), matched as prefixes, all required;
    /// any other character only separates words.
    fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>>;
    fn stats(&self) -> Result<Stats>;
    /// Ids of relationships and sightings (latest versions) whose `source_ref`
    /// (or `sighting_of_ref`) or `target_ref` is `id`; sorted.
    fn relationships_of(&self, id: &str) -> Result<Vec<String>> {
        let _ = id;
        Err(StoreError::Invalid(
            "this backend does not index relationships".into(),
        ))
    }
    /// Ids of objects (latest versions) whose embedded references name `id`:
    /// `*_ref` / `*_refs` properties at any depth ([`refs::indexed_refs`]:
    /// `created_by_ref`, `object_refs`, `where_sighted_refs`, a granular
    /// marking's `marking_ref`, …), but not a relationship's `source_ref` /
    /// `target_ref` nor a sighting's `sighting_of_ref` (those are
    /// [`ObjectReader::relationships_of`]). Sorted, at most `limit`: a
    /// producer or a marking is referred to by every object. Backends index
    /// them, so the cost is the answer's size, not the store's.
    fn referrers_of(&self, id: &str, limit: usize) -> Result<Vec<String>> {
        let _ = (id, limit);
        Err(StoreError::Invalid(
            "this backend does not index embedded references".into(),
        ))
    }
    /// Checks the store's own consistency (indexes, flags, the backend's
    /// integrity check) and returns one message per problem; empty means healthy.
    fn check(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// Reading the version history of one object.
pub trait VersionReader: Send + Sync {
    /// Every stored version of `id` (in `collection`, when given), oldest first.
    fn versions(&self, id: &str, collection: Option<&str>) -> Result<Vec<StoredObject>>;
}

/// Writing objects, always inside a transaction.
pub trait ObjectWriter: Send + Sync {
    /// Starts a write transaction. Backends allow one writer at a time; a second
    /// `begin` waits for the first to finish (or fails with [`StoreError::Busy`]).
    fn begin(&self) -> Result<Box<dyn WriteTxn + '_>>;
}

/// A write transaction: everything put commits together at [`WriteTxn::commit`];
/// dropping it without commit rolls everything back.
pub trait WriteTxn {
    /// Stores one version and, when `collection` is given, adds it to that
    /// collection (which must exist: [`StoreError::NoSuchCollection`]).
    fn put(&mut self, obj: &NewObject, collection: Option<&str>) -> Result<PutOutcome>;
    /// Removes versions of `id` from `collection` (all versions when `versions`
    /// is empty; else those whose version_key is listed). Returns how many
    /// memberships were removed. The versions stay in the store.
    fn remove_from_collection(
        &mut self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64>;
    /// Stores a TAXII status resource with this transaction's objects
    /// (see [`status`]). A second put of the same id replaces it.
    fn put_status(&mut self, status: &StoredStatus) -> Result<()> {
        let _ = status;
        Err(status::no_statuses())
    }
    /// Copying a store (`sightline copy`): stores a version with the
    /// `date_added` it had in the source store instead of a new one; values
    /// handed out later still come after it. The same bytes already stored
    /// are a duplicate (keeping their date); other bytes under a stored key
    /// become a variant row (copy restores rows oldest first, so each key's
    /// first arrival stays first); a date taken by another row is
    /// [`StoreError::Invalid`]. Backends that cannot keep dates refuse.
    fn restore_version(&mut self, obj: &NewObject, date_added: DateAdded) -> Result<PutOutcome> {
        let _ = (obj, date_added);
        Err(StoreError::Invalid(
            "this backend cannot restore a store (keep given dates)".into(),
        ))
    }
    /// Copying a store: adds the stored row `(id, version_key, raw)` (the
    /// raw text names the row among variants) to `collection` with the
    /// membership date it had in the source store. No such row is
    /// [`StoreError::Invalid`].
    fn restore_membership(
        &mut self,
        collection: &str,
        id: &str,
        version_key: &str,
        raw: &str,
        date_added: DateAdded,
    ) -> Result<PutOutcome> {
        let _ = (collection, id, version_key, raw, date_added);
        Err(StoreError::Invalid(
            "this backend cannot restore a store (keep given dates)".into(),
        ))
    }
    fn commit(self: Box<Self>) -> Result<()>;
}

/// Managing collections.
pub trait CollectionStore: Send + Sync {
    fn create_collection(&self, c: &CollectionInfo) -> Result<()>;
    /// All collections, in a stable order (by title, then id).
    fn collections(&self) -> Result<Vec<CollectionInfo>>;
    /// A collection by id or alias.
    fn collection(&self, id_or_alias: &str) -> Result<Option<CollectionInfo>>;
    /// Removes a collection and its memberships (not the object versions).
    /// Returns false when there was none.
    fn remove_collection(&self, id_or_alias: &str) -> Result<bool>;
}

/// Everything a backend provides. Code above the store crates holds an
/// `Arc<dyn Store>` and never names a backend type.
pub trait Store:
    ObjectReader + VersionReader + ObjectWriter + CollectionStore + AccountStore + StatusStore
{
}
impl<
        T: ObjectReader + VersionReader + ObjectWriter + CollectionStore + AccountStore + StatusStore,
    > Store for T
{
}
