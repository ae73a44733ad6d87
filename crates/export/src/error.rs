//! The one error type of the crate.

use sightline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("no collection {0:?}")]
    NoCollection(String),
    /// An object that is not a usable indicator (only from [`crate::Indicator::from_json`]).
    #[error("{id}: {message}")]
    Indicator { id: String, message: String },
    /// More Suricata rules than the SID range holds.
    #[error("{needed} rules do not fit the SID range {start}..={end}")]
    SidRange { needed: usize, start: u32, end: u32 },
    /// The indicator lifecycle could not score (its store passes failed).
    #[error("lifecycle: {0}")]
    Lifecycle(#[from] sightline_lifecycle::LifecycleError),
    #[error("usage: {0}")]
    Usage(String),
}
