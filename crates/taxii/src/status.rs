//! Status resources (TAXII 2.1 §4.3) and where they are kept.
//!
//! Adding objects is synchronous here: the 202 already carries a `complete`
//! status, and the same resource stays readable at `/{root}/status/{id}/` for
//! at least [`STATUS_TTL`] (§4.3 SHOULD: 24 hours).
//!
//! [`StatusBook`] keeps them in this process's memory. That is enough for one
//! server; replicas behind a load balancer need the status resources in the
//! store (a status fetched from another replica would be a 404), see issue #5.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long a status resource stays readable.
pub const STATUS_TTL: Duration = Duration::from_secs(25 * 3600);

/// At most this many status resources are kept; the oldest go first.
const MAX_ENTRIES: usize = 200_000;

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

struct Entry {
    expires: Instant,
    root: String,
    /// The principal who posted; `None` for an anonymous writer.
    owner: Option<String>,
    status: Arc<StatusResource>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Entry>,
    /// Ids in insertion order (so also in expiry order: the TTL is constant).
    order: VecDeque<String>,
}

/// In-memory status resources with expiry. Not shared between replicas: issue #5.
#[derive(Default)]
pub(crate) struct StatusBook {
    inner: Mutex<Inner>,
}

impl StatusBook {
    pub fn insert(&self, root: &str, owner: Option<&str>, status: StatusResource) {
        let now = Instant::now();
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let inner = &mut *g;
        while let Some(front) = inner.order.front() {
            let expired = inner.map.get(front).is_none_or(|e| e.expires <= now);
            if expired || inner.map.len() >= MAX_ENTRIES {
                if let Some(id) = inner.order.pop_front() {
                    inner.map.remove(&id);
                }
            } else {
                break;
            }
        }
        let id = status.id.clone();
        inner.order.push_back(id.clone());
        inner.map.insert(
            id,
            Entry {
                expires: now + STATUS_TTL,
                root: root.to_owned(),
                owner: owner.map(str::to_owned),
                status: Arc::new(status),
            },
        );
    }

    /// The status `id` of API root `root`, if it has not expired and `caller`
    /// may see it: whoever posted it (an anonymous post: anyone holding the
    /// id), or an admin.
    pub fn get(
        &self,
        root: &str,
        id: &str,
        caller: Option<&crate::Principal>,
    ) -> Option<Arc<StatusResource>> {
        let g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let e = g.map.get(id)?;
        let visible = match &e.owner {
            None => true,
            Some(owner) => caller.is_some_and(|c| c.admin || &c.name == owner),
        };
        (e.root == root && e.expires > Instant::now() && visible).then(|| e.status.clone())
    }
}
