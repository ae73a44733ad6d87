//! One sync of one feed: the collection and identity made sure of, the state
//! loaded, the kind's puller run, the outcome recorded in the state (an error
//! too: `feed status` shows it, and the next run retries from what was
//! committed).

use std::collections::HashSet;

use sightline_stix::Validator;
use sightline_store::{CollectionInfo, NewObject, PutOutcome, Store};

use crate::csv;
use crate::http::{Fetcher, Retry};
use crate::registry::{self, FeedState, RejectionNote, RunCounts};
use crate::taxii::Run;
use crate::{FeedConfig, FeedError, FeedKind, Result};

#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Forget the cursor: read the whole feed again (versions already held
    /// are duplicates, so nothing is stored twice).
    pub full: bool,
    pub retry: Retry,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub feed: String,
    /// The collection written into (its id).
    pub collection: String,
    pub counts: RunCounts,
    /// Why the run stopped early; what was committed before it stays.
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

/// Syncs `feed` into `store`. An error of the run is recorded in the feed's
/// state and returned in the report; only a store that cannot even record
/// it is an `Err`.
pub fn sync_feed(
    store: &dyn Store,
    validator: &Validator,
    feed: &FeedConfig,
    opts: &SyncOptions,
) -> Result<SyncReport> {
    let mut state = registry::state(store, &feed.name)?;
    if opts.full {
        state.cursor = None;
        state.pending_next = None;
        state.pending_added_after = None;
    }
    state.run = RunCounts::default();
    state.rejections.clear();
    state.warnings.clear();
    state.last_run = Some(crate::now_stamp());
    state.outcome = Some("running".into());
    registry::save_state(store, &feed.name, &state)?;

    let mut collection = String::new();
    let result = (|| -> Result<FeedState> {
        feed.validate()?;
        collection = ensure_collection(store, feed)?;
        let fetch = Fetcher::new(feed, opts.retry)?;
        match feed.kind {
            FeedKind::Taxii => {
                let mut run = Run {
                    store,
                    validator,
                    feed,
                    collection: collection.clone(),
                    state: state.clone(),
                    fetch,
                };
                let r = run.pull();
                // Keep what the committed pages changed, even on error.
                state = run.state.clone();
                r.map(|()| run.state)
            }
            FeedKind::Csv => {
                let mut st = state.clone();
                csv_run(store, validator, feed, &collection, fetch, &mut st)?;
                Ok(st)
            }
            FeedKind::Misp => {
                let mut st = state.clone();
                let r = crate::misp::run(store, validator, feed, &collection, fetch, &mut st);
                // Events committed before an error stay recorded.
                state = st.clone();
                r.map(|()| st)
            }
        }
    })();
    let now = crate::now_stamp();
    let (mut st, error) = match result {
        Ok(st) => (st, None),
        Err(FeedError::Store(e)) if !matches!(e, sightline_store::StoreError::Invalid(_)) => {
            // The store itself failed: recording it would fail too.
            return Err(FeedError::Store(e));
        }
        Err(e) => (state, Some(e.to_string())),
    };
    st.last_finished = Some(now.clone());
    match &error {
        None => {
            st.outcome = Some("ok".into());
            st.last_success = Some(now);
            st.last_error = None;
            st.consecutive_failures = 0;
        }
        Some(e) => {
            st.outcome = Some("error".into());
            st.last_error = Some(e.clone());
            st.consecutive_failures = st.consecutive_failures.saturating_add(1);
        }
    }
    registry::save_state(store, &feed.name, &st)?;
    Ok(SyncReport {
        feed: feed.name.clone(),
        collection,
        counts: st.run,
        error,
        warnings: st.warnings.clone(),
    })
}

/// The feed's collection, created (alias = the configured name) when
/// missing, with the feed's identity in it. Returns its id.
fn ensure_collection(store: &dyn Store, feed: &FeedConfig) -> Result<String> {
    let target = feed.target_collection();
    let id = match store.collection(&target)? {
        Some(c) => c.id,
        None => {
            let is_uuid = uuid::Uuid::parse_str(&target).is_ok();
            let info = CollectionInfo {
                id: if is_uuid {
                    target.clone()
                } else {
                    uuid::Uuid::new_v4().to_string()
                },
                title: format!("Feed {}", feed.name),
                description: Some(format!(
                    "Objects pulled by the Sightline feed {:?} ({} from {})",
                    feed.name,
                    feed.kind.as_str(),
                    redact(&feed.url)
                )),
                alias: (!is_uuid).then(|| target.clone()),
                media_types: vec!["application/stix+json;version=2.1".to_owned()],
            };
            store.create_collection(&info)?;
            info.id
        }
    };
    let raw = crate::feed_identity(&feed.name);
    let value: serde_json::Value = serde_json::from_str(&raw)
        .map_err(|e| FeedError::Store(sightline_store::StoreError::Invalid(e.to_string())))?;
    let meta = sightline_stix::ObjectMeta::extract(&value)
        .map_err(|e| FeedError::Store(sightline_store::StoreError::Invalid(e.to_string())))?;
    let mut txn = store.begin()?;
    txn.put(&NewObject { meta, raw }, Some(&id))?;
    txn.commit()?;
    Ok(id)
}

/// A URL without its user-info (a password in a URL stays out of descriptions).
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(a)) if a > s && !url[s + 3..a].contains('/') => {
            format!("{}{}", &url[..s + 3], &url[a + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The list's text: an http(s) URL fetched, else a file read.
fn csv_body(feed: &FeedConfig, fetch: &mut Fetcher) -> Result<String> {
    let bytes = if feed.url.starts_with("http://") || feed.url.starts_with("https://") {
        let r = fetch.get(&feed.url, &[], "text/csv, text/plain;q=0.9, */*;q=0.1")?;
        if !(200..300).contains(&r.status) {
            return Err(FeedError::Status {
                url: r.url,
                status: r.status,
                message: String::new(),
            });
        }
        r.body
    } else {
        std::fs::read(&feed.url).map_err(|e| FeedError::Io {
            path: feed.url.clone(),
            message: e.to_string(),
        })?
    };
    String::from_utf8(bytes).map_err(|e| FeedError::BadBody {
        url: feed.url.clone(),
        message: format!("not UTF-8 text: {e}"),
    })
}

/// Two versions of a converted indicator say the same, timestamps aside.
fn same_content(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("created");
            o.remove("modified");
        }
        v
    };
    strip(a) == strip(b)
}

/// Validates and puts one object a feed converted (MISP: its timestamps
/// come from the source, so an unchanged event is a duplicate).
pub(crate) fn put_converted(
    store: &dyn Store,
    validator: &Validator,
    txn: &mut dyn sightline_store::WriteTxn,
    collection: &str,
    obj: &serde_json::Value,
    counts: &mut RunCounts,
    st: &mut FeedState,
) -> Result<()> {
    let id = obj.get("id").and_then(|v| v.as_str()).map(str::to_owned);
    let meta = match validator.admit(obj) {
        Ok((m, _)) => m,
        Err(diags) => {
            counts.rejected += 1;
            st.note_rejection(RejectionNote {
                at: id.clone().unwrap_or_default(),
                id,
                errors: diags.iter().map(ToString::to_string).collect(),
            });
            return Ok(());
        }
    };
    let known = !store.versions(&meta.id, Some(collection))?.is_empty();
    let raw = obj.to_string();
    match txn.put(&NewObject { meta, raw }, Some(collection))? {
        PutOutcome::Added { .. } if known => counts.updated += 1,
        PutOutcome::Added { .. } => counts.new += 1,
        PutOutcome::Duplicate { .. } => counts.duplicate += 1,
        PutOutcome::Conflict => counts.conflicts += 1,
    }
    Ok(())
}

fn csv_run(
    store: &dyn Store,
    validator: &Validator,
    feed: &FeedConfig,
    collection: &str,
    mut fetch: Fetcher,
    st: &mut FeedState,
) -> Result<()> {
    let text = csv_body(feed, &mut fetch)?;
    let (lines, bad) = csv::read(&text, &feed.csv);
    let mut counts = RunCounts {
        pages: 1,
        ..RunCounts::default()
    };
    for b in bad {
        counts.rejected += 1;
        st.note_rejection(RejectionNote {
            at: format!("line {}", b.line),
            id: None,
            errors: vec![b.message],
        });
    }
    let now = crate::now_stamp();
    let mut seen = HashSet::new();
    let mut txn = store.begin()?;
    for l in &lines {
        let id = csv::indicator_id(&feed.name, l.ty, &l.value);
        if !seen.insert(id.clone()) {
            counts.duplicate += 1; // the same value twice in one list
            continue;
        }
        let latest = store.versions(&id, Some(collection))?.pop();
        let prior = latest
            .as_ref()
            .and_then(|o| serde_json::from_str::<serde_json::Value>(&o.raw).ok());
        let created = prior
            .as_ref()
            .and_then(|p| p.get("created").and_then(|c| c.as_str()))
            .unwrap_or(&now)
            .to_owned();
        let fresh = csv::indicator(&feed.name, l, &created, &created);
        if let Some(p) = &prior {
            if same_content(p, &fresh) {
                counts.duplicate += 1;
                continue;
            }
        }
        let obj = if prior.is_some() {
            csv::indicator(&feed.name, l, &created, &now)
        } else {
            fresh
        };
        let meta = match validator.admit(&obj) {
            Ok((m, _)) => m,
            Err(diags) => {
                counts.rejected += 1;
                st.note_rejection(RejectionNote {
                    at: format!("line {}", l.line),
                    id: Some(id),
                    errors: diags.iter().map(ToString::to_string).collect(),
                });
                continue;
            }
        };
        let raw = obj.to_string();
        match txn.put(&NewObject { meta, raw }, Some(collection))? {
            PutOutcome::Added { .. } if prior.is_some() => counts.updated += 1,
            PutOutcome::Added { .. } => counts.new += 1,
            PutOutcome::Duplicate { .. } => counts.duplicate += 1,
            PutOutcome::Conflict => counts.conflicts += 1,
        }
    }
    st.run.add(&counts);
    st.total.add(&counts);
    registry::put_state(&mut *txn, &feed.name, st)?;
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact("https://u:pw@h/x"), "https://h/x");
        assert_eq!(redact("https://h/x@y"), "https://h/x@y");
    }
}
