//! Feed definitions and feed states, kept in the store.
//!
//! The store's status table ([`sightline_store::StatusStore`]) holds opaque
//! JSON records that a [`sightline_store::WriteTxn`] writes together with
//! objects ([`sightline_store::WriteTxn::put_status`]): exactly what a feed's
//! cursor needs (committed with the page it covers). Feed records use the API
//! root [`API_ROOT`], which no TAXII request path can name (`#` ends a URL's
//! path), so the TAXII status endpoint never shows them, and they never expire.
//!
//! Records: one holding every feed definition (`feed add` and `feed remove`
//! rewrite it), and one state per feed, ids UUIDv5 of fixed names.

use serde::{Deserialize, Serialize};
use sightline_store::{Store, StoredStatus, WriteTxn};

use crate::{FeedConfig, FeedError, Result};

/// The API root of feed records: not a path any request can have.
pub const API_ROOT: &str = "#sightline-feeds";

/// Feed records never expire (the store clamps to its integer range).
const NEVER: u64 = i64::MAX as u64;

/// How many rejected objects a state keeps with their diagnostics (the count is exact).
pub const MAX_REJECTION_NOTES: usize = 20;

fn record_id(what: &str) -> String {
    uuid::Uuid::new_v5(&crate::namespace(), what.as_bytes()).to_string()
}

fn definitions_id() -> String {
    record_id("definitions")
}

fn state_id(feed: &str) -> String {
    record_id(&format!("state\n{feed}"))
}

fn record(id: String, body: String) -> StoredStatus {
    StoredStatus {
        id,
        api_root: API_ROOT.to_owned(),
        owner: None,
        expires: NEVER,
        body,
    }
}

fn read(store: &dyn Store, id: &str) -> Result<Option<String>> {
    Ok(store
        .status(id, 0)?
        .filter(|s| s.api_root == API_ROOT)
        .map(|s| s.body))
}

fn corrupt(what: &str, e: serde_json::Error) -> FeedError {
    FeedError::Store(sightline_store::StoreError::Invalid(format!(
        "the stored {what} is unreadable: {e}"
    )))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Definitions {
    feeds: Vec<FeedConfig>,
}

/// Every feed stored by `feed add`, by name.
pub fn list(store: &dyn Store) -> Result<Vec<FeedConfig>> {
    let Some(body) = read(store, &definitions_id())? else {
        return Ok(Vec::new());
    };
    let defs: Definitions =
        serde_json::from_str(&body).map_err(|e| corrupt("feed definitions", e))?;
    Ok(defs.feeds)
}

/// One stored feed.
pub fn get(store: &dyn Store, name: &str) -> Result<Option<FeedConfig>> {
    Ok(list(store)?.into_iter().find(|f| f.name == name))
}

/// Stores `feed` (replacing a feed of that name when `replace`). Returns false
/// when the name is taken and `replace` is not set.
pub fn put(store: &dyn Store, feed: &FeedConfig, replace: bool) -> Result<bool> {
    feed.validate()?;
    let mut feeds = list(store)?;
    match feeds.iter_mut().find(|f| f.name == feed.name) {
        Some(_) if !replace => return Ok(false),
        Some(f) => *f = feed.clone(),
        None => feeds.push(feed.clone()),
    }
    feeds.sort_by(|a, b| a.name.cmp(&b.name));
    write_definitions(store, feeds)?;
    Ok(true)
}

/// Forgets a feed's definition and state (its objects and collection stay).
pub fn remove(store: &dyn Store, name: &str) -> Result<bool> {
    let mut feeds = list(store)?;
    let before = feeds.len();
    feeds.retain(|f| f.name != name);
    if feeds.len() == before {
        return Ok(false);
    }
    write_definitions(store, feeds)?;
    let mut txn = store.begin()?;
    put_state(&mut *txn, name, &FeedState::default())?;
    txn.commit()?;
    Ok(true)
}

fn write_definitions(store: &dyn Store, feeds: Vec<FeedConfig>) -> Result<()> {
    let body = serde_json::to_string(&Definitions { feeds })
        .map_err(|e| corrupt("feed definitions", e))?;
    let mut txn = store.begin()?;
    txn.put_status(&record(definitions_id(), body))?;
    txn.commit()?;
    Ok(())
}

/// Object counts of a run (or of all runs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    /// HTTP pages (or files) read and committed.
    pub pages: u64,
    /// Objects never seen before in the feed's collection.
    pub new: u64,
    /// New versions of objects the collection already held.
    pub updated: u64,
    /// Versions already held (re-read pages, unchanged CSV lines).
    pub duplicate: u64,
    /// Objects refused by the validator or unreadable.
    pub rejected: u64,
    /// Other bytes under an `(id, modified)` already held: not stored.
    pub conflicts: u64,
}

impl RunCounts {
    pub fn add(&mut self, o: &RunCounts) {
        self.pages += o.pages;
        self.new += o.new;
        self.updated += o.updated;
        self.duplicate += o.duplicate;
        self.rejected += o.rejected;
        self.conflicts += o.conflicts;
    }
}

/// One refused object, with the validator's findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionNote {
    /// Where it was: `page 3 object 7`, `line 12`.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// One line per finding (code, pointer, message).
    pub errors: Vec<String>,
}

/// What `feed status` shows, and what the next sync resumes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    /// TAXII: `added_after` of the next run, the last `X-TAXII-Date-Added-Last`
    /// of a committed page, verbatim as the server sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// TAXII: a `next` token of a run that did not finish, and the
    /// `added_after` that run sent (a `next` is only valid with the same parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_added_after: Option<String>,
    /// When the last run started and ended (local clock, for people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_finished: Option<String>,
    /// When a run last completed without error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// `ok`, `error`, or `running` (a run that died leaves `running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Runs that failed since the last success (a scheduler backs off on it).
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Counts of the last run, and of all runs.
    #[serde(default)]
    pub run: RunCounts,
    #[serde(default)]
    pub total: RunCounts,
    /// Refused objects of the last run (at most [`MAX_REJECTION_NOTES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejections: Vec<RejectionNote>,
    /// What the last run noticed about the server (missing headers, an
    /// ignored `added_after`, an expired `next`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// MISP: each event read, with its manifest timestamp (an event is read
    /// again when the manifest's moves past it).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub misp_events: std::collections::BTreeMap<String, i64>,
}

impl FeedState {
    pub fn note_rejection(&mut self, note: RejectionNote) {
        if self.rejections.len() < MAX_REJECTION_NOTES {
            self.rejections.push(note);
        }
    }

    pub fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }
}

/// A feed's state; the default when it never ran.
pub fn state(store: &dyn Store, feed: &str) -> Result<FeedState> {
    match read(store, &state_id(feed))? {
        None => Ok(FeedState::default()),
        Some(body) => serde_json::from_str(&body).map_err(|e| corrupt("feed state", e)),
    }
}

/// Every feed record of `store` (definitions and states), for copying them
/// to another store ([`restore`]): a copied store goes on pulling each feed
/// from its cursor instead of from the start.
pub fn records(store: &dyn Store) -> Result<Vec<StoredStatus>> {
    Ok(store.statuses_of_root(API_ROOT)?)
}

/// Writes feed records read by [`records`] in `txn` (the copy's objects
/// transaction: the cursors arrive with the objects they cover). Records
/// that are not feed records are refused.
pub fn restore(txn: &mut dyn WriteTxn, records: &[StoredStatus]) -> Result<()> {
    for r in records {
        if r.api_root != API_ROOT {
            return Err(FeedError::Store(sightline_store::StoreError::Invalid(
                format!("status {} is not a feed record", r.id),
            )));
        }
        txn.put_status(r)?;
    }
    Ok(())
}

/// Writes a feed's state in `txn` (with the objects it accounts for).
pub fn put_state(txn: &mut dyn WriteTxn, feed: &str, st: &FeedState) -> Result<()> {
    let body = serde_json::to_string(st).map_err(|e| corrupt("feed state", e))?;
    txn.put_status(&record(state_id(feed), body))?;
    Ok(())
}

/// Writes a feed's state alone.
pub fn save_state(store: &dyn Store, feed: &str, st: &FeedState) -> Result<()> {
    let mut txn = store.begin()?;
    put_state(&mut *txn, feed, st)?;
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FeedKind;
    use sightline_store::MemoryStore;

    #[test]
    fn definitions_and_state_round_trip() {
        let store = MemoryStore::new();
        let f = FeedConfig::new("a", FeedKind::Csv, "/tmp/x.csv");
        assert!(put(&store, &f, false).expect("put"));
        assert!(!put(&store, &f, false).expect("put again"), "name taken");
        assert_eq!(get(&store, "a").expect("get"), Some(f));
        let st = FeedState {
            cursor: Some("2024-01-01T00:00:00.000001Z".into()),
            ..FeedState::default()
        };
        save_state(&store, "a", &st).expect("save");
        assert_eq!(state(&store, "a").expect("state"), st);
        assert!(remove(&store, "a").expect("remove"));
        assert!(list(&store).expect("list").is_empty());
        assert_eq!(state(&store, "a").expect("state"), FeedState::default());
    }
}
