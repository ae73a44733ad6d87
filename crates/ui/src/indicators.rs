//! The indicators list (`/ui/indicators`, issue 14 §3): the indicators the
//! caller may read, filtered by pattern language, observable type (the SCO
//! types a STIX pattern compares, from `sightline-pattern`'s AST), state,
//! minimum confidence and whether anything sighted them.
//!
//! Paging is by keyset, as TAXII's: `after` is the `date_added` of the last
//! indicator the previous page looked at, never an offset. One request reads
//! at most [`SCAN_WINDOW`] indicators per readable collection (merged in
//! `date_added` order, up to the first collection's window end so no row is
//! skipped); filters that match rarely therefore give short pages with a
//! "next" link rather than a scan of the store. Sightings are counted
//! (`relationships_of`, the caller's visible ones) only for indicators the
//! other filters kept.
//!
//! State, at the time of the request: `revoked` when the latest version says
//! so; else `expired` once `valid_until` has passed; `not yet valid` before
//! `valid_from`; else `valid`. An indicator in two readable collections may
//! show on two pages (the collections added it at different times).

use std::collections::{BTreeSet, HashSet};

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use sightline_api::ApiError;
use sightline_graph::Graph;
use sightline_pattern::{CmpExpr, CmpKind, ObsExpr, ObsKind};
use sightline_stix::Timestamp;
use sightline_store::{format_date_added, DateAdded, ObjectQuery, ObjectReader, VersionFilter};

use crate::dashboard::{now_micros, scopes};
use crate::pages::{enc, layout, object_href};
use crate::routes::{html, with_reader, SignedIn};
use crate::{UiError, UiState};

/// Indicators shown on one page.
pub(crate) const PAGE: usize = 50;
/// Indicators read per readable collection for one page at most.
pub(crate) const SCAN_WINDOW: usize = 1_000;
/// Observable types offered in the filter (any other works typed in the URL).
const OBSERVABLES: [&str; 12] = [
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "file",
    "email-addr",
    "email-message",
    "network-traffic",
    "process",
    "windows-registry-key",
    "x509-certificate",
    "artifact",
];
const PATTERN_TYPES: [&str; 6] = ["stix", "sigma", "snort", "suricata", "yara", "pcre"];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    pattern_type: String,
    #[serde(default)]
    observable: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    min_confidence: String,
    #[serde(default)]
    sighted: String,
    #[serde(default)]
    after: String,
}

/// The filters, checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pattern_type: Option<String>,
    observable: Option<String>,
    state: Option<IndicatorState>,
    min_confidence: Option<u64>,
    sighted: Option<bool>,
    after: Option<DateAdded>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndicatorState {
    Valid,
    Expired,
    Revoked,
    NotYetValid,
}

impl IndicatorState {
    fn label(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::NotYetValid => "not yet valid",
        }
    }
}

fn bad(m: String) -> UiError {
    ApiError::BadRequest(m).into()
}

impl Filter {
    fn parse(p: &Params) -> Result<Filter, UiError> {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let state = match p.state.trim() {
            "" => None,
            "valid" => Some(IndicatorState::Valid),
            "expired" => Some(IndicatorState::Expired),
            "revoked" => Some(IndicatorState::Revoked),
            other => {
                return Err(bad(format!(
                    "state {other:?}: use valid, expired or revoked"
                )))
            }
        };
        let min_confidence = match some(&p.min_confidence) {
            None => None,
            Some(s) => Some(
                s.parse::<u64>()
                    .ok()
                    .filter(|n| *n <= 100)
                    .ok_or_else(|| bad(format!("min_confidence {s:?}: a number 0 to 100")))?,
            ),
        };
        let sighted = match p.sighted.trim() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            other => return Err(bad(format!("sighted {other:?}: use yes or no"))),
        };
        let after = match some(&p.after) {
            None => None,
            Some(s) => Some(
                s.parse::<DateAdded>()
                    .map_err(|_| bad(format!("after {s:?}: not a page cursor")))?,
            ),
        };
        Ok(Filter {
            pattern_type: some(&p.pattern_type),
            observable: some(&p.observable),
            state,
            min_confidence,
            sighted,
            after,
        })
    }

    /// The query string for the same filters from cursor `after`.
    fn href(&self, after: Option<DateAdded>) -> String {
        let mut parts = Vec::new();
        let mut push = |k: &str, v: &str| parts.push(format!("{k}={}", enc(v)));
        if let Some(v) = &self.pattern_type {
            push("pattern_type", v);
        }
        if let Some(v) = &self.observable {
            push("observable", v);
        }
        if let Some(s) = self.state {
            push("state", s.label());
        }
        if let Some(c) = self.min_confidence {
            push("min_confidence", &c.to_string());
        }
        if let Some(s) = self.sighted {
            push("sighted", if s { "yes" } else { "no" });
        }
        if let Some(a) = after {
            push("after", &a.to_string());
        }
        if parts.is_empty() {
            "/ui/indicators".into()
        } else {
            format!("/ui/indicators?{}", parts.join("&"))
        }
    }
}

/// The SCO types a STIX pattern compares (`[ipv4-addr:value = …]` →
/// `ipv4-addr`); none when it does not parse.
pub(crate) fn observable_types(pattern: &str) -> BTreeSet<String> {
    fn cmp(e: &CmpExpr, out: &mut BTreeSet<String>) {
        match &e.kind {
            CmpKind::Comparison(c) => {
                out.insert(c.path.object_type.clone());
            }
            CmpKind::Group(g) => cmp(g, out),
            CmpKind::And(v) | CmpKind::Or(v) => v.iter().for_each(|x| cmp(x, out)),
        }
    }
    fn obs(e: &ObsExpr, out: &mut BTreeSet<String>) {
        match &e.kind {
            ObsKind::Observation(c) => cmp(c, out),
            ObsKind::Group(g) => obs(g, out),
            ObsKind::And(v) | ObsKind::Or(v) | ObsKind::FollowedBy(v) => {
                v.iter().for_each(|x| obs(x, out))
            }
            ObsKind::Qualified { expr, .. } => obs(expr, out),
        }
    }
    let mut out = BTreeSet::new();
    if let Ok(p) = sightline_pattern::parse(pattern) {
        obs(&p.expr, &mut out);
    }
    out
}

fn micros(v: &Value, key: &str) -> Option<i64> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| Timestamp::parse(s).ok())
        .map(|t| t.micros())
}

/// An indicator's state at `now` (module docs).
pub(crate) fn state_of(v: &Value, now: i64) -> IndicatorState {
    if v.get("revoked").and_then(Value::as_bool) == Some(true) {
        IndicatorState::Revoked
    } else if micros(v, "valid_until").is_some_and(|u| u <= now) {
        IndicatorState::Expired
    } else if micros(v, "valid_from").is_some_and(|f| f > now) {
        IndicatorState::NotYetValid
    } else {
        IndicatorState::Valid
    }
}

/// One listed indicator.
pub(crate) struct Row {
    id: String,
    name: Option<String>,
    pattern: String,
    pattern_type: String,
    observables: BTreeSet<String>,
    state: IndicatorState,
    confidence: Option<u64>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    sightings: u64,
}

/// One page.
pub(crate) struct Listing {
    filter: Filter,
    rows: Vec<Row>,
    /// The cursor of the next page, when there may be more.
    next: Option<DateAdded>,
    /// Indicators looked at for this page.
    scanned: usize,
}

/// One stored indicator as read for the page.
struct Stored {
    id: String,
    date_added: DateAdded,
    raw: String,
}

/// Reads the page (blocking): see the module docs.
pub(crate) fn list(
    store: &dyn ObjectReader,
    readable: Option<&BTreeSet<String>>,
    filter: Filter,
) -> Result<Listing, UiError> {
    let g = Graph::new(store, readable);
    let now = now_micros();
    let mut rows: Vec<Stored> = Vec::new();
    // Rows after this may be missing from a collection's window.
    let mut horizon: Option<DateAdded> = None;
    for scope in scopes(readable) {
        let q = ObjectQuery {
            collection: scope,
            types: vec!["indicator".into()],
            versions: VersionFilter::last(),
            after: filter.after,
            limit: SCAN_WINDOW,
            ..ObjectQuery::default()
        };
        let mut last = None;
        let summary = store.query_each(&q, &mut |r| {
            last = Some(r.date_added);
            rows.push(Stored {
                id: r.id.to_owned(),
                date_added: r.date_added,
                raw: r.raw.to_owned(),
            });
        })?;
        if summary.more {
            if let Some(l) = last {
                horizon = Some(horizon.map_or(l, |h: DateAdded| h.min(l)));
            }
        }
    }
    rows.sort_by_key(|r| r.date_added);
    if let Some(h) = horizon {
        rows.retain(|r| r.date_added <= h);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut next = horizon;
    let mut scanned = 0;
    for r in &rows {
        if out.len() == PAGE {
            next = Some(rows[scanned - 1].date_added);
            break;
        }
        scanned += 1;
        if !seen.insert(r.id.as_str()) {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(&r.raw) else {
            continue;
        };
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let pattern = s("pattern").unwrap_or_default();
        let pattern_type = s("pattern_type").unwrap_or_default();
        if filter
            .pattern_type
            .as_ref()
            .is_some_and(|t| !t.eq_ignore_ascii_case(&pattern_type))
        {
            continue;
        }
        let observables = if pattern_type == "stix" {
            observable_types(&pattern)
        } else {
            BTreeSet::new()
        };
        if filter
            .observable
            .as_ref()
            .is_some_and(|o| !observables.contains(o))
        {
            continue;
        }
        let state = state_of(&v, now);
        if filter.state.is_some_and(|want| want != state) {
            continue;
        }
        let confidence = v.get("confidence").and_then(Value::as_u64);
        if filter
            .min_confidence
            .is_some_and(|m| confidence.is_none_or(|c| c < m))
        {
            continue;
        }
        let sightings = g
            .relationship_counts(&r.id)?
            .into_iter()
            .find(|(t, _, _)| t == "sighting")
            .map_or(0, |(_, _, n)| n);
        if filter.sighted.is_some_and(|want| want != (sightings > 0)) {
            continue;
        }
        out.push(Row {
            id: r.id.clone(),
            name: s("name"),
            pattern,
            pattern_type,
            observables,
            state,
            confidence,
            valid_from: s("valid_from"),
            valid_until: s("valid_until"),
            sightings,
        });
    }
    Ok(Listing {
        filter,
        rows: out,
        next,
        scanned,
    })
}

/// `GET /ui/indicators?pattern_type=&observable=&state=&min_confidence=&sighted=&after=`.
pub(crate) async fn indicators(
    State(state): State<UiState>,
    me: SignedIn,
    Query(p): Query<Params>,
) -> Result<Response, UiError> {
    let filter = Filter::parse(&p)?;
    let l = with_reader(&state, &me.principal, move |readable, store| {
        list(store, readable, filter)
    })
    .await?;
    Ok(html(page(&me, &l)))
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

fn select(id: &str, label: &str, current: Option<&str>, options: &[(&str, &str)]) -> Markup {
    html! {
        p.field {
            label for=(id) { (label) }
            " "
            select #(id) name=(id) {
                option value="" selected[current.is_none()] { "any" }
                @for (value, text) in options {
                    option value=(value) selected[current == Some(*value)] { (text) }
                }
            }
        }
    }
}

fn page(me: &SignedIn, l: &Listing) -> Markup {
    let f = &l.filter;
    let mut observables: Vec<(&str, &str)> = OBSERVABLES.iter().map(|o| (*o, *o)).collect();
    if let Some(o) = f.observable.as_deref() {
        if !OBSERVABLES.contains(&o) {
            observables.push((o, o));
        }
    }
    let mut pattern_types: Vec<(&str, &str)> = PATTERN_TYPES.iter().map(|o| (*o, *o)).collect();
    if let Some(o) = f.pattern_type.as_deref() {
        if !PATTERN_TYPES.contains(&o) {
            pattern_types.push((o, o));
        }
    }
    layout(
        "Indicators",
        Some(me),
        html! {
            h1 { "Indicators" }
            form #indicator-filter method="get" action="/ui/indicators" {
                (select("pattern_type", "Pattern language", f.pattern_type.as_deref(), &pattern_types))
                (select("observable", "Observable type", f.observable.as_deref(), &observables))
                (select("state", "State", f.state.map(IndicatorState::label),
                    &[("valid", "valid"), ("expired", "expired"), ("revoked", "revoked")]))
                p.field {
                    label for="min_confidence" { "Minimum confidence" }
                    " "
                    input #min_confidence type="number" name="min_confidence" min="0" max="100"
                        value=[f.min_confidence];
                }
                (select("sighted", "Sighted", f.sighted.map(|s| if s { "yes" } else { "no" }),
                    &[("yes", "yes"), ("no", "no")]))
                p { button type="submit" { "Filter" } " " a href="/ui/indicators" { "Clear" } }
            }
            p.count {
                (l.rows.len()) " indicators on this page, of " (l.scanned) " looked at"
                @if f.after.is_some() { " (after " (format_date_added(f.after.unwrap_or_default())) ")" }
                "."
            }
            table #indicators {
                thead { tr {
                    th scope="col" { "Indicator" } th scope="col" { "Pattern" }
                    th scope="col" { "Observables" } th scope="col" { "State" }
                    th scope="col" .num { "Confidence" } th scope="col" { "Valid from" }
                    th scope="col" { "Valid until" } th scope="col" .num { "Sightings" }
                } }
                tbody {
                    @for r in &l.rows {
                        tr {
                            th scope="row" { a href=(object_href(&r.id)) { (r.name.as_deref().unwrap_or(&r.id)) } }
                            td { span.badge { (r.pattern_type) } " " code { (short(&r.pattern, 160)) } }
                            td { @for (i, o) in r.observables.iter().enumerate() { @if i > 0 { ", " } (o) } }
                            td { span class=(format!("state state-{}", r.state.label().replace(' ', "-"))) { (r.state.label()) } }
                            td.num { @if let Some(c) = r.confidence { (c) } @else { "—" } }
                            td { (r.valid_from.as_deref().unwrap_or("—")) }
                            td { (r.valid_until.as_deref().unwrap_or("—")) }
                            td.num { (r.sightings) }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if f.after.is_some() { a href=(f.href(None)) { "First page" } " " }
                @if let Some(n) = l.next { a rel="next" href=(f.href(Some(n))) { "Next page" } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observable_types_come_from_every_comparison() {
        let t = observable_types(
            "([ipv4-addr:value = '198.51.100.1'] AND [file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR domain-name:value = 'a.example']) WITHIN 60 SECONDS",
        );
        assert_eq!(
            t.into_iter().collect::<Vec<_>>(),
            vec!["domain-name", "file", "ipv4-addr"]
        );
        assert!(observable_types("not a pattern").is_empty());
    }

    #[test]
    fn state_follows_revoked_then_validity() {
        let now = Timestamp::parse("2025-01-01T00:00:00Z")
            .map(|t| t.micros())
            .unwrap_or_default();
        let st = |v: Value| state_of(&v, now);
        use serde_json::json;
        assert_eq!(
            st(json!({"valid_from": "2020-01-01T00:00:00Z"})),
            IndicatorState::Valid
        );
        assert_eq!(
            st(
                json!({"valid_from": "2020-01-01T00:00:00Z", "valid_until": "2024-12-31T23:59:59Z"})
            ),
            IndicatorState::Expired
        );
        assert_eq!(
            st(json!({"valid_from": "2026-01-01T00:00:00Z"})),
            IndicatorState::NotYetValid
        );
        assert_eq!(
            st(json!({"revoked": true, "valid_until": "2024-01-01T00:00:00Z"})),
            IndicatorState::Revoked
        );
    }
}
