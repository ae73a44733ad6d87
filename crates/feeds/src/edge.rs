//! Edge matchers synced from a hub (issue 15 §3): `sightline match
//! --indicators-from taxii+https://HUB/api1/collections/ID/` keeps a local
//! copy of the hub collection's objects (a TAXII feed, [`hub_feed`], pulled
//! incrementally into the matcher's own store, so its reloader sees new and
//! revoked indicators), and `--record-to taxii+https://…` posts the
//! sightings it records back to a hub collection ([`Pusher`]).
//!
//! Deployment shape: one hub (on PostgreSQL replicas) and one matcher per
//! sensor, each with a small embedded store of its own.

use serde_json::Value;
use sightline_store::{ObjectQuery, Store, VersionFilter};

use crate::http::{Fetcher, Retry};
use crate::{FeedConfig, FeedError, FeedKind, Result};

/// The TAXII media type (TAXII 2.1 §1.6.8).
const TAXII: &str = "application/taxii+json;version=2.1";
/// Objects per POSTed envelope: well under any server's body limit.
const BATCH: usize = 200;

/// Where credentials for the hub come from (environment variable names, read
/// at each request batch, never stored).
#[derive(Debug, Clone, Default)]
pub struct HubAuth {
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub token_env: Option<String>,
    pub ca: Option<std::path::PathBuf>,
}

/// The collection URL of `taxii+https://…/collections/ID/` (also
/// `taxii+http://` for loopback tests), with its trailing slash.
pub fn hub_url(spec: &str) -> Result<String> {
    let bad = |m: &str| FeedError::Config {
        feed: "hub".into(),
        message: format!("{spec:?}: {m}"),
    };
    let url = spec
        .strip_prefix("taxii+")
        .ok_or_else(|| bad("expected taxii+https://HOST/API-ROOT/collections/ID/"))?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(bad("expected taxii+https:// (or taxii+http://)"));
    }
    let url = if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    };
    let mut parts = url.trim_end_matches('/').rsplit('/');
    match (parts.next(), parts.next()) {
        (Some(id), Some("collections")) if !id.is_empty() => Ok(url),
        _ => Err(bad("the URL must end with /collections/ID/")),
    }
}

/// The feed an edge matcher pulls: the hub collection into a local
/// collection `name` (created if missing).
pub fn hub_feed(name: &str, url: &str, auth: &HubAuth) -> FeedConfig {
    let mut f = FeedConfig::new(name, FeedKind::Taxii, url);
    f.collection = Some(name.to_owned());
    f.user = auth.user.clone();
    f.password_env = auth.password_env.clone();
    f.token_env = auth.token_env.clone();
    f.ca = auth.ca.clone();
    // A matcher waits for this: short requests, retried by the next poll.
    f.timeout_secs = Some(30);
    f
}

/// Posts what a local collection gained since the last push to a hub
/// collection (TAXII 2.1 §5.5, "Add Objects"), in envelopes of [`BATCH`].
pub struct Pusher {
    fetch: Fetcher,
    objects_url: String,
    /// The local collection read.
    collection: String,
    /// The highest local `date_added` posted and accepted.
    cursor: Option<i64>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("objects_url", &self.objects_url)
            .field("collection", &self.collection)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

/// What one push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Object versions the hub took (its status `success_count`).
    pub accepted: u64,
    /// Versions it refused (`failure_count`), e.g. a conflict.
    pub refused: u64,
}

impl Pusher {
    /// Pushes `collection` (local, id or alias) to the hub collection `url`
    /// (from [`hub_url`]); only what is added after `start` (µs; `None`:
    /// everything already there too).
    pub fn new(url: &str, auth: &HubAuth, collection: &str, start: Option<i64>) -> Result<Self> {
        let feed = hub_feed("hub-push", url, auth);
        Ok(Self {
            fetch: Fetcher::new(&feed, Retry::default())?,
            objects_url: format!("{url}objects/"),
            collection: collection.to_owned(),
            cursor: start,
        })
    }

    /// Posts every version added to the local collection since the last
    /// push. The cursor moves only past envelopes the hub answered 202 to,
    /// so a failed push is repeated whole next time (adds are idempotent).
    pub fn push(&mut self, store: &dyn Store) -> Result<Pushed> {
        let mut done = Pushed::default();
        if store.collection(&self.collection)?.is_none() {
            return Ok(done);
        }
        loop {
            let q = ObjectQuery {
                collection: Some(self.collection.clone()),
                versions: VersionFilter::all(),
                added_after: self.cursor,
                limit: BATCH,
                ..ObjectQuery::default()
            };
            let page = store.query(&q)?;
            let Some(last) = page.items.iter().map(|o| o.date_added).max() else {
                return Ok(done);
            };
            let objects: Vec<Value> = page
                .items
                .iter()
                .filter_map(|o| serde_json::from_str(&o.raw).ok())
                .collect();
            let body =
                serde_json::to_vec(&serde_json::json!({ "objects": objects })).map_err(|e| {
                    FeedError::BadBody {
                        url: self.objects_url.clone(),
                        message: e.to_string(),
                    }
                })?;
            let r = self.fetch.post(&self.objects_url, body, TAXII, TAXII)?;
            if r.status != 202 {
                return Err(FeedError::Status {
                    url: self.objects_url.clone(),
                    status: r.status,
                    message: String::from_utf8_lossy(&r.body).chars().take(300).collect(),
                });
            }
            let status: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            let n = |k: &str| status.get(k).and_then(Value::as_u64).unwrap_or(0);
            done.accepted += n("success_count");
            done.refused += n("failure_count");
            self.cursor = Some(last);
            if page.items.len() < BATCH {
                return Ok(done);
            }
        }
    }
}

/// Runs `f` every `every` on a thread of its own until `stop` is set (then
/// once more, so what was recorded last is pushed too); its errors go to the
/// log and the next round tries again.
fn every_until(
    name: &str,
    every: std::time::Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    mut f: impl FnMut() + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    use std::sync::atomic::Ordering;
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || loop {
            let done = stop.load(Ordering::Relaxed);
            f();
            if done {
                return;
            }
            let until = std::time::Instant::now() + every;
            while std::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })
}

/// Keeps the local copy of the hub collection in sync every `every` (one
/// incremental TAXII request when nothing changed).
pub fn spawn_puller(
    store: std::sync::Arc<dyn Store>,
    validator: std::sync::Arc<sightline_stix::Validator>,
    feed: FeedConfig,
    every: std::time::Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    every_until(
        "sightline-hub-pull",
        every,
        stop,
        move || match crate::sync_feed(store.as_ref(), &validator, &feed, &Default::default()) {
            Ok(r) => {
                if let Some(e) = r.error {
                    tracing::warn!(hub = %feed.url, error = %e, "pulling from the hub failed");
                }
            }
            Err(e) => tracing::warn!(hub = %feed.url, error = %e, "pulling from the hub failed"),
        },
    )
}

/// Pushes what the local sightings collection gains every `every`.
pub fn spawn_pusher(
    store: std::sync::Arc<dyn Store>,
    mut pusher: Pusher,
    every: std::time::Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    every_until("sightline-hub-push", every, stop, move || {
        match pusher.push(store.as_ref()) {
            Ok(p) if p.refused > 0 => {
                tracing::warn!(hub = %pusher.objects_url, refused = p.refused, "the hub refused objects")
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(hub = %pusher.objects_url, error = %e, "pushing to the hub failed")
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_urls() {
        assert_eq!(
            hub_url("taxii+https://hub.example/api1/collections/abc").ok(),
            Some("https://hub.example/api1/collections/abc/".to_owned())
        );
        assert!(hub_url("taxii+http://127.0.0.1:9/api1/collections/abc/").is_ok());
        for bad in [
            "https://hub.example/api1/collections/abc/",
            "taxii+ftp://hub.example/api1/collections/abc/",
            "taxii+https://hub.example/api1/",
            "taxii+https://hub.example/api1/collections/",
        ] {
            assert!(hub_url(bad).is_err(), "{bad}");
        }
    }
}
