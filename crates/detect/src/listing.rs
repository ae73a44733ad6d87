//! Reading recorded sightings back (`sightline sightings`): the latest
//! version of each, with the name of the indicator sighted and of the sensor.

use std::collections::HashMap;

use serde_json::Value;
use sightline_matcher::time::parse_micros;
use sightline_store::{ObjectQuery, Store, VersionFilter};

use crate::DetectError;

/// Which sightings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only sightings of this indicator (`sighting_of_ref`).
    pub indicator: Option<String>,
    /// Only sightings last seen at or after this instant (µs since the epoch).
    pub since: Option<i64>,
    /// Only sightings in this collection (id or alias).
    pub collection: Option<String>,
}

/// One sighting, latest version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SightingRow {
    pub id: String,
    /// `sighting_of_ref` and that object's name, when the store has it.
    pub indicator: String,
    pub indicator_name: Option<String>,
    pub count: Option<u64>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// `where_sighted_refs` with their names, when the store has them.
    pub sensors: Vec<(String, Option<String>)>,
    pub modified: Option<String>,
}

/// The sightings `filter` selects, most recently seen first (then by id).
pub fn list(store: &dyn Store, filter: &ListFilter) -> Result<Vec<SightingRow>, DetectError> {
    if let Some(c) = &filter.collection {
        if store.collection(c)?.is_none() {
            return Err(DetectError::NoCollection(c.clone()));
        }
    }
    let mut rows: Vec<(i64, SightingRow)> = Vec::new();
    let q = ObjectQuery {
        collection: filter.collection.clone(),
        types: vec!["sighting".into()],
        versions: VersionFilter::last(),
        limit: 5000,
        ..ObjectQuery::default()
    };
    sightline_store::for_each_page(store, &q, |o| {
        let Ok(v) = serde_json::from_str::<Value>(o.raw) else {
            return Ok(());
        };
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let indicator = s("sighting_of_ref").unwrap_or_default();
        if filter.indicator.as_ref().is_some_and(|i| *i != indicator) {
            return Ok(());
        }
        let last = s("last_seen")
            .or_else(|| s("first_seen"))
            .and_then(|t| parse_micros(&t).ok())
            .unwrap_or(i64::MIN);
        if filter.since.is_some_and(|since| last < since) {
            return Ok(());
        }
        let sensors = v
            .get("where_sighted_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|r| (r.to_owned(), None))
            .collect();
        rows.push((
            last,
            SightingRow {
                id: o.id.to_owned(),
                indicator,
                indicator_name: None,
                count: v.get("count").and_then(Value::as_u64),
                first_seen: s("first_seen"),
                last_seen: s("last_seen"),
                sensors,
                modified: s("modified"),
            },
        ));
        Ok::<(), DetectError>(())
    })?;
    let mut wanted: Vec<String> = rows
        .iter()
        .flat_map(|(_, r)| {
            std::iter::once(r.indicator.clone()).chain(r.sensors.iter().map(|(s, _)| s.clone()))
        })
        .collect();
    wanted.sort();
    wanted.dedup();
    let names = names_of(store, &wanted)?;
    for (_, r) in &mut rows {
        r.indicator_name = names.get(&r.indicator).cloned();
        for (s, n) in &mut r.sensors {
            *n = names.get(s).cloned();
        }
    }
    rows.sort_by(|(a, ra), (b, rb)| b.cmp(a).then_with(|| ra.id.cmp(&rb.id)));
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

/// The `name` of the latest version of each of `ids` that has one.
pub fn names_of(store: &dyn Store, ids: &[String]) -> Result<HashMap<String, String>, DetectError> {
    let mut names = HashMap::new();
    sightline_store::for_each_latest_of(store, None, ids, |o| {
        if let Some(n) = serde_json::from_str::<Value>(o.raw)
            .ok()
            .and_then(|v| v.get("name")?.as_str().map(str::to_owned))
        {
            names.insert(o.id.to_owned(), n);
        }
        Ok::<(), DetectError>(())
    })?;
    Ok(names)
}
