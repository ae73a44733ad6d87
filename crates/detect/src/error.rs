//! The one error type of a detection run.

use std::io;

use sightline_interchange::telemetry::{MappingError, UnknownFormat};
use sightline_store::StoreError;

/// Why a detection run could not start or had to stop. Bad input lines are
/// not errors: they are skipped and counted (`SkipSummary`).
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The store failed (read, write, open).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the indicators' sightings and verdicts for their lifecycle.
    #[error(transparent)]
    Lifecycle(#[from] sightline_lifecycle::LifecycleError),
    /// The indicator file could not be read or split into objects.
    #[error(transparent)]
    Indicators(#[from] sightline_interchange::ReadError),
    /// The telemetry input could not be opened or read.
    #[error("{name}: {source}")]
    Input {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Format(#[from] UnknownFormat),
    /// The field mapping of `--format json` is unreadable or invalid.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("--input-format json needs --mapping FILE (field → STIX path)")]
    MappingMissing,
    /// Following needs a file to reopen and poll.
    #[error("--follow needs --input FILE")]
    FollowNeedsFile,
    #[error("--sensor {0:?}: expected an identity id (identity--<uuid>)")]
    BadSensor(String),
    #[error("--window must be at least 1 second")]
    ZeroWindow,
    /// Indicators were to come from the store, but none was given.
    #[error("no store to read indicators from")]
    NoStore,
    /// `--collection` names no collection of the store.
    #[error("no collection {0:?} in the store")]
    NoCollection(String),
    /// An imported warninglist is unreadable.
    #[error("{path}: {message}")]
    Warninglist { path: String, message: String },
    /// A usage error found while setting up a run (a bad option value).
    #[error("{0}")]
    Usage(String),
    #[error("starting parser threads: {0}")]
    Threads(#[source] io::Error),
    /// A sighting, observed-data or SCO built from a match did not pass the
    /// validator: a bug, reported rather than stored.
    #[error("a generated {ty} is invalid: {}", sightline_stix::diag::summary(.errors, 5))]
    Generated {
        ty: String,
        errors: Vec<sightline_stix::Diagnostic>,
    },
    /// Writing the matches out failed (a closed pipe, a full disk).
    #[error(transparent)]
    Output(io::Error),
}

impl DetectError {
    /// Whether the error is in what the user gave (input, flags, indicator
    /// file), as opposed to the store or the machine failing.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            DetectError::Indicators(_)
                | DetectError::Input { .. }
                | DetectError::Format(_)
                | DetectError::Mapping(_)
                | DetectError::MappingMissing
                | DetectError::FollowNeedsFile
                | DetectError::BadSensor(_)
                | DetectError::ZeroWindow
                | DetectError::NoStore
                | DetectError::NoCollection(_)
                | DetectError::Warninglist { .. }
                | DetectError::Usage(_)
        )
    }
}
