//! Status resources (TAXII 2.1 §4.3) and where they are kept.
//!
//! Adding objects is synchronous here: the 202 already carries a `complete`
//! status, and the same resource stays readable at `/{root}/status/{id}/` for
//! at least [`STATUS_TTL`] (§4.3 SHOULD: 24 hours).
//!
//! They are kept in the store ([`sightline_store::StatusStore`]), written in
//! the same transaction as the objects they report on, so every replica over
//! one store answers for them and they survive restarts. The server purges
//! expired ones periodically.

use std::time::Duration;

use serde::Serialize;

/// How long a status resource stays readable.
pub const STATUS_TTL: Duration = Duration::from_secs(25 * 3600);

/// One object's outcome in a status resource (§4.3.1 status details).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct StatusDetail {
    pub id: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The status resource (§4.3.1). Lists are omitted when empty (§2: lists
/// never empty).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct StatusResource {
    pub id: String,
    pub status: &'static str,
    pub request_timestamp: String,
    pub total_count: u64,
    pub success_count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub successes: Vec<StatusDetail>,
    pub failure_count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<StatusDetail>,
    pub pending_count: u64,
}
