//! Retiring indicators as STIX (issue 16 §1, optional): an indicator below
//! the revoke threshold (decayed, or judged false) is inactive everywhere in
//! Sightline already; with this, a new version saying so is written, so TAXII
//! consumers learn it too. Either `revoked: true` (STIX 2.1 §3.6: the object
//! is no longer valid) or `valid_until` set to the moment (§4.7: the indicator
//! stops being valid then, while staying a live object), with the reason in
//! `x_sightline_retired` (`reason`, `score`, `at`).
//!
//! STIX 2.1 §3.6 lets only an object's creator make new versions of it, so
//! only indicators whose `created_by_ref` is one of `ours` (the identities
//! Sightline writes as: the feeds' identities for what they convert, or a
//! configured one) are retired; others are counted and left alone.

use serde_json::Value;
use sightline_store::{ObjectQuery, Store, VersionFilter};

use crate::score::{Evaluator, Reason, State};
use crate::LifecycleError;

/// What a retirement writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `revoked: true`.
    Revoke,
    /// `valid_until` = now.
    ValidUntil,
}

/// What [`retire`] did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retired {
    /// Indicators given a new version.
    pub written: Vec<String>,
    /// Below the threshold but created by someone else (§3.6).
    pub not_ours: usize,
}

/// Writes the new versions (one transaction) for every indicator of the
/// store below the revoke threshold at `now_us` by its decay or a verdict
/// (not those already revoked or expired in STIX), created by one of `ours`.
/// Each new version goes into every collection that holds the indicator.
/// `dry`: nothing is written.
pub fn retire(
    store: &dyn Store,
    eval: &Evaluator,
    now_us: i64,
    mode: Mode,
    ours: &[String],
    dry: bool,
) -> Result<Retired, LifecycleError> {
    let below = crate::bulk::not_active(store, eval, None, now_us)?;
    let mut out = Retired::default();
    let stamp = sightline_store::format_date_added(now_us);
    let collections = store.collections()?;
    let mut puts = Vec::new();
    let mut ids: Vec<&String> = below
        .iter()
        .filter(|(_, s)| {
            s.state == State::Revoked
                && matches!(s.reason, Reason::Decay { .. } | Reason::Verdict(_))
        })
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    for id in ids {
        let score = &below[id];
        let q = ObjectQuery {
            ids: vec![id.clone()],
            versions: VersionFilter::last(),
            limit: 1,
            ..ObjectQuery::default()
        };
        let Some(latest) = store.query(&q)?.items.into_iter().next() else {
            continue;
        };
        let Ok(mut v) = serde_json::from_str::<Value>(&latest.raw) else {
            continue;
        };
        let creator = v.get("created_by_ref").and_then(Value::as_str);
        if !creator.is_some_and(|c| ours.iter().any(|o| o == c)) {
            out.not_ours += 1;
            continue;
        }
        // A new version must be newer than the last (§3.2 `modified`).
        let modified = v.get("modified").and_then(Value::as_str).unwrap_or("");
        if stamp.as_str() <= modified {
            continue;
        }
        v["modified"] = Value::from(stamp.clone());
        match mode {
            Mode::Revoke => v["revoked"] = Value::Bool(true),
            Mode::ValidUntil => v["valid_until"] = Value::from(stamp.clone()),
        }
        let reason = match score.reason {
            Reason::Verdict(verdict) => format!("verdict: {}", verdict.as_str()),
            _ => "decayed below the revoke threshold".to_owned(),
        };
        v["x_sightline_retired"] = serde_json::json!({
            "reason": reason,
            "score": (score.value * 100.0).round() / 100.0,
            "at": stamp,
        });
        let mut holders = Vec::new();
        for c in &collections {
            let q = ObjectQuery {
                collection: Some(c.id.clone()),
                ids: vec![id.clone()],
                versions: VersionFilter::all(),
                limit: 1,
                ..ObjectQuery::default()
            };
            if !store.query(&q)?.items.is_empty() {
                holders.push(c.id.clone());
            }
        }
        puts.push((crate::verdict::admit(&v)?, holders));
        out.written.push(id.clone());
    }
    if !dry && !puts.is_empty() {
        let mut txn = store.begin()?;
        for (obj, holders) in &puts {
            if holders.is_empty() {
                txn.put(obj, None)?;
            }
            for c in holders {
                txn.put(obj, Some(c))?;
            }
        }
        txn.commit()?;
    }
    Ok(out)
}
