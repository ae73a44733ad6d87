//! TAXII status resources (TAXII 2.1 §4.3) kept in the store, so that a status
//! written by one replica is readable from every other and survives restarts.
//!
//! The store treats the resource as opaque JSON: what it means is the TAXII
//! layer's business. A status is written in the same [`crate::WriteTxn`] as the
//! objects it reports on ([`crate::WriteTxn::put_status`]), so a client never
//! reads a "success" for an object that is not durable, and a crash never
//! leaves objects without their status or a status without its objects.

use crate::{Result, StoreError};

/// One status resource as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatus {
    /// The status id (a UUID), unique per store.
    pub id: String,
    /// The API root it belongs to (a status is only found under its root).
    pub api_root: String,
    /// The principal who posted; `None` for an anonymous writer.
    pub owner: Option<String>,
    /// When it may be forgotten, in seconds since the Unix epoch.
    pub expires: u64,
    /// The status resource, JSON.
    pub body: String,
}

/// Reading and expiring status resources. Writing is [`crate::WriteTxn::put_status`].
pub trait StatusStore: Send + Sync {
    /// The status `id` unless it expired before `now` (seconds since the epoch).
    fn status(&self, id: &str, now: u64) -> Result<Option<StoredStatus>> {
        let _ = (id, now);
        Err(no_statuses())
    }
    /// Forgets statuses that expired before `now`; returns how many.
    fn purge_statuses(&self, now: u64) -> Result<u64> {
        let _ = now;
        Err(no_statuses())
    }
    /// Every record under `api_root`, expired or not, by id: `sightline copy`
    /// carries the records that are not short-lived TAXII statuses (the
    /// feeds' definitions and cursors, `#sightline-feeds`) to the new store.
    fn statuses_of_root(&self, api_root: &str) -> Result<Vec<StoredStatus>> {
        let _ = api_root;
        Err(no_statuses())
    }
}

pub(crate) fn no_statuses() -> StoreError {
    StoreError::Invalid("this backend does not keep status resources".into())
}
