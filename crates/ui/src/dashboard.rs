//! The home page's activity (issue 14 §3 "home"): the latest additions, the
//! latest sightings and the most matched indicators, among what the caller
//! may read.
//!
//! The store pages by `date_added` ascending only (TAXII's order), so "the
//! newest N" is found with bounded windows instead of a scan: rows added
//! after `now - span` for growing spans, and when a window holds more than a
//! page, a bisection on `added_after` between the last window that held too
//! few and the first that held too many ([`newest`]). Every probe reads at
//! most [`PROBE_CAP`] rows, so the page costs at most a few dozen bounded
//! range reads whatever the store's size or how bursty its imports were.

use std::collections::{BTreeSet, HashMap};

use maud::{html, Markup};
use serde_json::Value;
use sightline_graph::{type_of_id, Graph, NodeInfo};
use sightline_store::{
    format_date_added, DateAdded, ObjectQuery, ObjectReader, Store, VersionFilter,
};

use crate::pages::{class_part, object_href};
use crate::UiError;

/// Latest additions and latest sightings shown.
pub(crate) const LATEST: usize = 20;
/// Sightings counted for the top indicators: the newest this many.
pub(crate) const TOP_WINDOW: usize = 2_000;
/// Indicators in the top list.
pub(crate) const TOP: usize = 10;
/// Rows one probe of [`newest`] reads at most (more: the window is narrowed).
pub(crate) const PROBE_CAP: usize = 1_000;

/// One row as [`newest`] keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) ty: String,
    pub(crate) date_added: DateAdded,
    /// The JSON, when asked for.
    pub(crate) raw: Option<String>,
}

/// The query scopes of a reader: each readable collection, or the whole
/// store (`None`) for an administrator.
pub(crate) fn scopes(readable: Option<&BTreeSet<String>>) -> Vec<Option<String>> {
    match readable {
        None => vec![None],
        Some(set) => set.iter().cloned().map(Some).collect(),
    }
}

pub(crate) fn now_micros() -> DateAdded {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Windows tried before bisecting: a minute, an hour, a day, a week, 30
/// days, a year, ten years (µs); then everything.
const SPANS: [i64; 7] = [
    60_000_000,
    3_600_000_000,
    86_400_000_000,
    604_800_000_000,
    2_592_000_000_000,
    31_536_000_000_000,
    315_360_000_000_000,
];

/// The newest `want` latest versions `base` matches in one scope that `keep`
/// accepts, newest first; fewer when the store holds fewer, or when even a
/// window narrowed to [`PROBE_CAP`].max(2 × `want`) rows holds fewer kept
/// ones (a burst of rows `keep` refuses). `with_raw`: with their JSON, read
/// by id once the rows are known (probes carry none: a bisection may read
/// dozens of windows).
pub(crate) fn newest(
    reader: &dyn ObjectReader,
    base: &ObjectQuery,
    want: usize,
    now: DateAdded,
    keep: &dyn Fn(&str) -> bool,
    with_raw: bool,
) -> Result<Vec<Row>, UiError> {
    let mut rows = newest_rows(reader, base, want, now, keep)?;
    if with_raw {
        let mut raw: HashMap<String, String> = HashMap::new();
        for chunk in rows.chunks(200) {
            let q = ObjectQuery {
                collection: base.collection.clone(),
                ids: chunk.iter().map(|r| r.id.clone()).collect(),
                versions: VersionFilter::last(),
                limit: 1000,
                ..ObjectQuery::default()
            };
            sightline_store::for_each_page(reader, &q, |r| {
                raw.insert(r.id.to_owned(), r.raw.to_owned());
                Ok::<_, sightline_store::StoreError>(())
            })?;
        }
        for r in &mut rows {
            r.raw = raw.remove(&r.id);
        }
    }
    Ok(rows)
}

/// [`newest`] without the JSON.
fn newest_rows(
    reader: &dyn ObjectReader,
    base: &ObjectQuery,
    want: usize,
    now: DateAdded,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<Row>, UiError> {
    let cap = PROBE_CAP.max(want.saturating_mul(2));
    // Rows added after `t` (all rows for `None`): the kept ones, and whether
    // the window held more than `cap` rows.
    let probe = |t: Option<DateAdded>| -> Result<(Vec<Row>, bool), UiError> {
        let q = ObjectQuery {
            added_after: t,
            after: None,
            limit: cap,
            versions: VersionFilter::last(),
            ..base.clone()
        };
        let mut rows = Vec::new();
        let mut seen = 0usize;
        let summary = reader.query_each(&q, &mut |r| {
            seen += 1;
            if keep(r.ty) {
                rows.push(Row {
                    id: r.id.to_owned(),
                    ty: r.ty.to_owned(),
                    date_added: r.date_added,
                    raw: None,
                });
            }
        })?;
        Ok((rows, summary.more || seen > cap))
    };
    let done = |mut rows: Vec<Row>| {
        rows.sort_by_key(|r| std::cmp::Reverse(r.date_added));
        rows.truncate(want);
        rows
    };
    // `small`: a threshold whose window holds too few kept rows (and at
    // most `cap` rows); `big`: one whose window holds more than `cap`.
    let mut small: (DateAdded, Vec<Row>) = (now, Vec::new());
    let mut big = None;
    for span in SPANS {
        let t = now.saturating_sub(span);
        let (rows, too_many) = probe(Some(t))?;
        if too_many {
            big = Some(t);
            break;
        }
        if rows.len() >= want {
            return Ok(done(rows));
        }
        small = (t, rows);
    }
    let Some(big) = big else {
        let (rows, too_many) = probe(None)?;
        if !too_many {
            return Ok(done(rows));
        }
        // More than `cap` rows, but fewer than `want` kept ones in ten years:
        // bisect from far back (restored stores may hold any dates).
        return bisect(&probe, i64::MIN / 2, small, want).map(done);
    };
    if big >= small.0 {
        // Rows dated after `now` (a clock ahead of this one): show the window.
        return Ok(done(small.1));
    }
    bisect(&probe, big, small, want).map(done)
}

/// Narrows `(big, small)` until a window holds at most the cap and at least
/// `want` kept rows; else the fullest window under the cap.
fn bisect(
    probe: &dyn Fn(Option<DateAdded>) -> Result<(Vec<Row>, bool), UiError>,
    mut big: DateAdded,
    mut small: (DateAdded, Vec<Row>),
    want: usize,
) -> Result<Vec<Row>, UiError> {
    while small.0 - big > 1 {
        let mid = big + (small.0 - big) / 2;
        let (rows, too_many) = probe(Some(mid))?;
        if too_many {
            big = mid;
        } else if rows.len() >= want {
            return Ok(rows);
        } else {
            small = (mid, rows);
        }
    }
    Ok(small.1)
}

/// [`newest`] over every scope, merged: one row per id (its newest), newest first.
pub(crate) fn newest_visible(
    reader: &dyn ObjectReader,
    readable: Option<&BTreeSet<String>>,
    base: &ObjectQuery,
    want: usize,
    keep: &dyn Fn(&str) -> bool,
    with_raw: bool,
) -> Result<Vec<Row>, UiError> {
    let now = now_micros();
    let mut all = Vec::new();
    for scope in scopes(readable) {
        let q = ObjectQuery {
            collection: scope,
            ..base.clone()
        };
        all.extend(newest(reader, &q, want, now, keep, with_raw)?);
    }
    all.sort_by_key(|r| std::cmp::Reverse(r.date_added));
    let mut seen = std::collections::HashSet::new();
    all.retain(|r| seen.insert(r.id.clone()));
    all.truncate(want);
    Ok(all)
}

/// A recent object.
pub(crate) struct Recent {
    pub(crate) id: String,
    pub(crate) ty: String,
    pub(crate) info: Option<NodeInfo>,
    pub(crate) date_added: DateAdded,
}

/// A recent sighting.
pub(crate) struct RecentSighting {
    pub(crate) id: String,
    pub(crate) of: String,
    /// The sighted object's name, when the caller may read it.
    pub(crate) of_info: Option<NodeInfo>,
    pub(crate) count: u64,
    pub(crate) last_seen: Option<String>,
    pub(crate) date_added: DateAdded,
}

/// An indicator and how often it was sighted.
pub(crate) struct TopIndicator {
    pub(crate) id: String,
    pub(crate) info: NodeInfo,
    /// Sum of the sightings' `count` (1 when absent).
    pub(crate) matches: u64,
    pub(crate) sightings: u64,
}

/// Objects counted per collection at most: the count is then "at least".
pub(crate) const COUNT_CAP: usize = 5_000;

/// The latest versions in one readable collection, by type.
pub(crate) struct CollectionCount {
    pub(crate) title: String,
    pub(crate) alias: Option<String>,
    pub(crate) total: u64,
    /// The collection holds more than [`COUNT_CAP`]: the counts are of the
    /// first ones added.
    pub(crate) more: bool,
    pub(crate) by_type: std::collections::BTreeMap<String, u64>,
}

/// What the home page shows beside the counts.
pub(crate) struct Dashboard {
    pub(crate) counts: Vec<CollectionCount>,
    pub(crate) latest: Vec<Recent>,
    pub(crate) sightings: Vec<RecentSighting>,
    pub(crate) top: Vec<TopIndicator>,
    /// Sightings the top list counted.
    pub(crate) counted: usize,
}

/// Objects worth listing as additions: relationships and sightings have
/// their own views (the object pages, the sightings list).
fn addition(ty: &str) -> bool {
    !matches!(ty, "relationship" | "sighting")
}

/// Objects by type in each collection the caller may read (an
/// administrator: every collection), each counted up to [`COUNT_CAP`]: the
/// store counts store-wide only (`Stats`), which a reader may not see.
fn collection_counts(
    store: &dyn Store,
    readable: Option<&BTreeSet<String>>,
) -> Result<Vec<CollectionCount>, UiError> {
    let mut out = Vec::new();
    for c in store.collections()? {
        if readable.is_some_and(|r| !r.contains(&c.id)) {
            continue;
        }
        let q = ObjectQuery {
            collection: Some(c.id.clone()),
            versions: VersionFilter::last(),
            limit: COUNT_CAP,
            ..ObjectQuery::default()
        };
        let mut by_type = std::collections::BTreeMap::new();
        let summary = store.query_each(&q, &mut |r| {
            *by_type.entry(r.ty.to_owned()).or_insert(0u64) += 1;
        })?;
        out.push(CollectionCount {
            title: c.title,
            alias: c.alias,
            total: summary.count as u64,
            more: summary.more,
            by_type,
        });
    }
    Ok(out)
}

/// Gathers the dashboard for a reader (blocking).
pub(crate) fn gather(
    store: &dyn Store,
    readable: Option<&BTreeSet<String>>,
) -> Result<Dashboard, UiError> {
    let counts = collection_counts(store, readable)?;
    let g = Graph::new(store, readable);
    let latest_rows = newest_visible(
        store,
        readable,
        &ObjectQuery::default(),
        LATEST,
        &addition,
        false,
    )?;
    let sightings_q = ObjectQuery {
        types: vec!["sighting".into()],
        ..ObjectQuery::default()
    };
    let sighting_rows = newest_visible(store, readable, &sightings_q, TOP_WINDOW, &|_| true, true)?;
    struct Parsed {
        row: Row,
        of: String,
        count: u64,
        last_seen: Option<String>,
    }
    let parsed: Vec<Parsed> = sighting_rows
        .into_iter()
        .filter_map(|row| {
            let v: Value = serde_json::from_str(row.raw.as_deref()?).ok()?;
            let of = v.get("sighting_of_ref")?.as_str()?.to_owned();
            let count = v.get("count").and_then(Value::as_u64).unwrap_or(1);
            let last_seen = v
                .get("last_seen")
                .or_else(|| v.get("first_seen"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some(Parsed {
                row,
                of,
                count,
                last_seen,
            })
        })
        .collect();
    let mut totals: HashMap<&str, (u64, u64)> = HashMap::new();
    for p in &parsed {
        if type_of_id(&p.of) == "indicator" {
            let e = totals.entry(p.of.as_str()).or_default();
            e.0 = e.0.saturating_add(p.count);
            e.1 += 1;
        }
    }
    let mut ranked: Vec<(&str, (u64, u64))> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    // Names: the recent objects, the sighted objects; unreadable ones are
    // absent from `infos` (the graph's rule).
    let mut wanted: Vec<String> = latest_rows.iter().map(|r| r.id.clone()).collect();
    wanted.extend(parsed.iter().take(LATEST).map(|p| p.of.clone()));
    // Enough candidates that unreadable indicators can drop out.
    wanted.extend(ranked.iter().take(TOP * 10).map(|(id, _)| (*id).to_owned()));
    let infos = g.infos(&wanted)?;
    let top = ranked
        .iter()
        .filter_map(|(id, (matches, sightings))| {
            Some(TopIndicator {
                id: (*id).to_owned(),
                info: infos.get(*id)?.clone(),
                matches: *matches,
                sightings: *sightings,
            })
        })
        .take(TOP)
        .collect();
    let counted = parsed.len();
    let sightings = parsed
        .into_iter()
        .take(LATEST)
        .map(|p| RecentSighting {
            of_info: infos.get(&p.of).cloned(),
            id: p.row.id,
            of: p.of,
            count: p.count,
            last_seen: p.last_seen,
            date_added: p.row.date_added,
        })
        .collect();
    let latest = latest_rows
        .into_iter()
        .map(|r| Recent {
            info: infos.get(&r.id).cloned(),
            id: r.id,
            ty: r.ty,
            date_added: r.date_added,
        })
        .collect();
    Ok(Dashboard {
        counts,
        latest,
        sightings,
        top,
        counted,
    })
}

fn badge(ty: &str) -> Markup {
    html! { span class=(format!("badge type-{}", class_part(ty))) { (ty) } }
}

/// A link to a readable object by name; an unreadable one by id only.
pub(crate) fn named(id: &str, info: Option<&NodeInfo>) -> Markup {
    html! {
        @match info {
            Some(i) => { a href=(object_href(id)) { (i.name.as_deref().unwrap_or(id)) } }
            None => { code { (id) } " " span.missing { "(not in the store)" } }
        }
    }
}

/// The three blocks, for the home page.
pub(crate) fn markup(d: &Dashboard) -> Markup {
    html! {
        nav.workbench aria-label="Workbench" {
            h2 { "Workbench" }
            ul {
                li { a href="/ui/campaigns" { "Campaign timeline" } }
                li { a href="/ui/indicators" { "Indicators" } }
                li { a href="/ui/collections" { "Collections and import" } }
            }
        }
        section #counts aria-labelledby="h-collection-counts" {
            h2 #h-collection-counts { "Objects in the collections you may read" }
            @if d.counts.is_empty() {
                p { "None." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Collection" } th scope="col" .num { "Objects" } th scope="col" { "By type" } } }
                    tbody {
                        @for c in &d.counts {
                            tr {
                                th scope="row" { (c.title) @if let Some(a) = &c.alias { " (" code { (a) } ")" } }
                                td.num { (c.total) @if c.more { "+" } }
                                td {
                                    @for (i, (t, n)) in c.by_type.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        (badge(t)) " " (n)
                                    }
                                    @if c.more { " " span.hint { "(the first " (COUNT_CAP) " counted)" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #latest aria-labelledby="h-latest" {
            h2 #h-latest { "Latest additions" }
            @if d.latest.is_empty() {
                p { "Nothing you may read yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Added" } th scope="col" { "Type" } th scope="col" { "Object" } } }
                    tbody {
                        @for r in &d.latest {
                            tr {
                                td { (format_date_added(r.date_added)) }
                                td { (badge(&r.ty)) }
                                td { (named(&r.id, r.info.as_ref())) }
                            }
                        }
                    }
                }
            }
        }
        section #latest-sightings aria-labelledby="h-latest-sightings" {
            h2 #h-latest-sightings { "Latest sightings" }
            @if d.sightings.is_empty() {
                p { "No sightings you may read." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Added" } th scope="col" { "Sighting of" }
                        th scope="col" .num { "Count" } th scope="col" { "Last seen" } th scope="col" { "Sighting" }
                    } }
                    tbody {
                        @for s in &d.sightings {
                            tr {
                                td { (format_date_added(s.date_added)) }
                                td { (badge(type_of_id(&s.of))) " " (named(&s.of, s.of_info.as_ref())) }
                                td.num { (s.count) }
                                td { (s.last_seen.as_deref().unwrap_or("—")) }
                                td { a href=(object_href(&s.id)) { "details" } }
                            }
                        }
                    }
                }
            }
        }
        section #top-indicators aria-labelledby="h-top-indicators" {
            h2 #h-top-indicators { "Top matched indicators" }
            p.hint { "Among the latest " (d.counted) " sightings you may read; matches are the sightings' counts added up." }
            @if d.top.is_empty() {
                p { "No sighted indicator you may read." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Indicator" } th scope="col" .num { "Matches" } th scope="col" .num { "Sightings" } } }
                    tbody {
                        @for t in &d.top {
                            tr {
                                td { (named(&t.id, Some(&t.info))) }
                                td.num { (t.matches) }
                                td.num { (t.sightings) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_store::{MemoryStore, NewObject, ObjectWriter};

    fn tool(n: u32) -> NewObject {
        let v = serde_json::json!({"type": "tool", "spec_version": "2.1",
            "id": format!("tool--00000000-0000-4000-8000-{n:012}"),
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
            "name": format!("tool {n}")});
        let (meta, _) = sightline_stix::Validator::new().admit(&v).expect("valid");
        NewObject {
            meta,
            raw: v.to_string(),
        }
    }

    /// 3,000 rows added in one burst: the newest 20 come from a window of at
    /// most PROBE_CAP rows found by bisection, the same as sorting them all.
    #[test]
    fn newest_finds_the_last_rows_of_a_burst() {
        let s = MemoryStore::new();
        let mut t = s.begin().expect("begin");
        for n in 0..3_000 {
            t.put(&tool(n), None).expect("put");
        }
        t.commit().expect("commit");
        let mut all = Vec::new();
        sightline_store::for_each_page(&s, &ObjectQuery::default(), |r| {
            all.push((r.date_added, r.id.to_owned()));
            Ok::<_, sightline_store::StoreError>(())
        })
        .expect("all");
        all.sort();
        let expected: Vec<String> = all.iter().rev().take(20).map(|(_, i)| i.clone()).collect();
        let got = newest(
            &s,
            &ObjectQuery::default(),
            20,
            now_micros(),
            &|_| true,
            false,
        )
        .expect("newest");
        let got: Vec<String> = got.into_iter().map(|r| r.id).collect();
        assert_eq!(got, expected);
    }
}
