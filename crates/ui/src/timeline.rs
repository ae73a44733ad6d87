//! The campaign timeline (`/ui/campaigns`, issue 14 §3): the campaigns and
//! intrusion sets the caller may read, each a bar from `first_seen` to
//! `last_seen` on a shared time axis, server-rendered SVG (geometry and
//! colour as SVG attributes: the CSP refuses `style=""` and inline scripts),
//! with a table of the same dates for keyboards and screen readers.
//!
//! The dates' precision is the pack's to say: STIX 2.1 timestamps have none,
//! so the Bureau 121 pack writes it in prose ("(month precision)", "first_seen
//! has year precision only") in the description or an external reference's
//! description. Every such sentence is shown beside the dates, and so is any
//! custom `x_…precision…` property a producer may use instead.

use std::collections::{BTreeSet, HashMap};

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::Value;
use sightline_stix::Timestamp;
use sightline_store::{ObjectQuery, ObjectReader, VersionFilter};

use crate::dashboard::scopes;
use crate::pages::{class_part, layout, object_href};
use crate::routes::{html, with_reader, SignedIn};
use crate::{UiError, UiState};

/// Types on the timeline.
pub(crate) const TYPES: [&str; 2] = ["campaign", "intrusion-set"];
/// Objects read at most (per readable collection): more is said on the page.
pub(crate) const MAX_ITEMS: usize = 2_000;

/// One object on the timeline.
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) ty: String,
    pub(crate) name: String,
    pub(crate) first_seen: Option<(String, i64)>,
    pub(crate) last_seen: Option<(String, i64)>,
    pub(crate) notes: Vec<String>,
    version_key: String,
}

impl Item {
    /// Where it starts on the axis (its only date when it has one).
    fn start(&self) -> Option<i64> {
        self.first_seen
            .as_ref()
            .or(self.last_seen.as_ref())
            .map(|d| d.1)
    }
    fn end(&self) -> Option<i64> {
        self.last_seen
            .as_ref()
            .or(self.first_seen.as_ref())
            .map(|d| d.1)
    }
}

/// What the page shows.
pub(crate) struct Timeline {
    /// Dated, by start then name.
    pub(crate) dated: Vec<Item>,
    pub(crate) undated: Vec<Item>,
    pub(crate) truncated: bool,
}

/// The sentences of `text` that speak of precision.
fn precision_sentences(text: &str, out: &mut Vec<String>) {
    for s in text.split_inclusive(['.', '\n']) {
        let s = s.trim();
        if s.to_ascii_lowercase().contains("precision") && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
}

/// The precision notes of an object (see the module docs).
pub(crate) fn precision_notes(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = v.get("description").and_then(Value::as_str) {
        precision_sentences(d, &mut out);
    }
    for r in v
        .get("external_references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(d) = r.get("description").and_then(Value::as_str) {
            precision_sentences(d, &mut out);
        }
    }
    if let Some(o) = v.as_object() {
        for (k, x) in o {
            if k.starts_with("x_") && k.contains("precision") {
                let text = match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push(format!("{k}: {text}"));
            }
        }
    }
    out
}

fn date(v: &Value, key: &str) -> Option<(String, i64)> {
    let s = v.get(key)?.as_str()?;
    let t = Timestamp::parse(s).ok()?;
    Some((s.to_owned(), t.micros()))
}

/// The readable campaigns and intrusion sets (blocking): the latest version
/// among the readable collections of each.
pub(crate) fn gather(
    store: &dyn ObjectReader,
    readable: Option<&BTreeSet<String>>,
) -> Result<Timeline, UiError> {
    let mut by_id: HashMap<String, Item> = HashMap::new();
    let mut truncated = false;
    for scope in scopes(readable) {
        let q = ObjectQuery {
            collection: scope,
            types: TYPES.iter().map(|t| (*t).to_owned()).collect(),
            versions: VersionFilter::last(),
            limit: MAX_ITEMS,
            ..ObjectQuery::default()
        };
        let mut failed = None;
        let summary = store.query_each(&q, &mut |r| {
            if by_id
                .get(r.id)
                .is_some_and(|i| i.version_key.as_str() >= r.version_key)
            {
                return;
            }
            let v: Value = match serde_json::from_str(r.raw) {
                Ok(v) => v,
                Err(e) => {
                    failed.get_or_insert(format!("stored JSON of {}: {e}", r.id));
                    return;
                }
            };
            let name = v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(r.id)
                .to_owned();
            by_id.insert(
                r.id.to_owned(),
                Item {
                    id: r.id.to_owned(),
                    ty: r.ty.to_owned(),
                    name,
                    first_seen: date(&v, "first_seen"),
                    last_seen: date(&v, "last_seen"),
                    notes: precision_notes(&v),
                    version_key: r.version_key.to_owned(),
                },
            );
        })?;
        if let Some(m) = failed {
            return Err(UiError::internal(m));
        }
        truncated |= summary.more;
    }
    let (mut dated, mut undated): (Vec<Item>, Vec<Item>) =
        by_id.into_values().partition(|i| i.start().is_some());
    dated.sort_by(|a, b| (a.start(), &a.name, &a.id).cmp(&(b.start(), &b.name, &b.id)));
    undated.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(Timeline {
        dated,
        undated,
        truncated,
    })
}

/// `GET /ui/campaigns`.
pub(crate) async fn campaigns(
    State(state): State<UiState>,
    me: SignedIn,
) -> Result<Response, UiError> {
    let t = with_reader(&state, &me.principal, |readable, store| {
        gather(store, readable)
    })
    .await?;
    Ok(html(page(&me, &t)))
}

/// The year of an instant (µs since the epoch).
fn year_of(us: i64) -> i64 {
    sightline_stix::format_micros(us)
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(1970)
}

/// µs of 1 January of `year` (0001..=9999).
fn year_start(year: i64) -> i64 {
    Timestamp::parse(&format!("{:04}-01-01T00:00:00Z", year.clamp(1, 9999)))
        .map(|t| t.micros())
        .unwrap_or(0)
}

const LABEL_W: i64 = 260;
const PLOT_W: i64 = 640;
const ROW_H: i64 = 24;
const AXIS_H: i64 = 28;

/// The SVG chart of the dated items: a picture (`role="img"`, its children
/// presentational, so no links in it: the table below links each object).
fn chart(items: &[Item]) -> Markup {
    let lo = items.iter().filter_map(Item::start).min().unwrap_or(0);
    let hi = items.iter().filter_map(Item::end).max().unwrap_or(0);
    let (y0, y1) = (year_of(lo), year_of(hi) + 1);
    let (t0, t1) = (year_start(y0), year_start(y1));
    let span = (t1 - t0).max(1);
    let x = |t: i64| -> i64 {
        let f = (t - t0) as f64 / span as f64;
        LABEL_W + (f * PLOT_W as f64).round() as i64
    };
    let years = y1 - y0;
    let step = match years {
        0..=12 => 1,
        13..=30 => 2,
        31..=60 => 5,
        _ => 10,
    };
    let height = AXIS_H + ROW_H * items.len() as i64 + 4;
    let width = LABEL_W + PLOT_W + 20;
    html! {
        svg.timeline-chart xmlns="http://www.w3.org/2000/svg" role="img"
            width=(width) height=(height) viewBox=(format!("0 0 {width} {height}"))
            aria-labelledby="timeline-title" {
            title #timeline-title { "Campaigns and intrusion sets from " (y0) " to " (y1 - 1) }
            @for y in (y0..=y1).step_by(step as usize) {
                line x1=(x(year_start(y))) x2=(x(year_start(y))) y1=(AXIS_H - 6) y2=(height)
                    stroke="#c8c8c8" stroke-width="1" {}
                text x=(x(year_start(y))) y=(AXIS_H - 10) font-size="12" text-anchor="middle" fill="#1a1a1a" { (y) }
            }
            @for (row, i) in items.iter().enumerate() {
                @let top = AXIS_H + ROW_H * row as i64;
                @let (s, e) = (i.start().unwrap_or(t0), i.end().unwrap_or(t0));
                @let open = i.first_seen.is_none() || i.last_seen.is_none();
                @let colour = if i.ty == "campaign" { "#12355b" } else { "#7a3b00" };
                text x="4" y=(top + 16) font-size="13" fill="#1a1a1a" { (truncate(&i.name, 34)) }
                rect class=(format!("bar type-{}", class_part(&i.ty)))
                    x=(x(s)) y=(top + 5) width=((x(e) - x(s)).max(4)) height=(ROW_H - 10)
                    fill=(colour) fill-opacity=(if open { "0.55" } else { "1" }) {
                    title {
                        (i.name) ": "
                        (i.first_seen.as_ref().map_or("?", |d| d.0.as_str()))
                        " – "
                        (i.last_seen.as_ref().map_or("?", |d| d.0.as_str()))
                    }
                }
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn rows(items: &[Item]) -> Markup {
    html! {
        table.timeline-table {
            thead { tr {
                th scope="col" { "Name" } th scope="col" { "Type" }
                th scope="col" { "First seen" } th scope="col" { "Last seen" }
                th scope="col" { "Precision" }
            } }
            tbody {
                @for i in items {
                    tr {
                        th scope="row" { a href=(object_href(&i.id)) { (i.name) } }
                        td { span class=(format!("badge type-{}", class_part(&i.ty))) { (i.ty) } }
                        td { (i.first_seen.as_ref().map_or("not given", |d| d.0.as_str())) }
                        td { (i.last_seen.as_ref().map_or("not given", |d| d.0.as_str())) }
                        td.precision {
                            @if i.notes.is_empty() { span.missing { "not stated" } }
                            @for n in &i.notes { p.note { (n) } }
                        }
                    }
                }
            }
        }
    }
}

fn page(me: &SignedIn, t: &Timeline) -> Markup {
    layout(
        "Campaign timeline",
        Some(me),
        html! {
            h1 { "Campaign timeline" }
            p.hint {
                "Campaigns (blue) and intrusion sets (brown) you may read, from "
                code { "first_seen" } " to " code { "last_seen" }
                ". A paler bar has one of the two dates only. STIX timestamps carry no precision; "
                "where the producer states it, its words are in the Precision column."
            }
            @if t.truncated {
                p.hint { "More than " (MAX_ITEMS) " objects in a collection: the first " (MAX_ITEMS) " are shown." }
            }
            section #timeline aria-labelledby="h-timeline" {
                h2 #h-timeline { (t.dated.len()) " dated" }
                @if t.dated.is_empty() {
                    p { "No dated campaign or intrusion set you may read." }
                } @else {
                    div.timeline-scroll { (chart(&t.dated)) }
                    (rows(&t.dated))
                }
                @if !t.undated.is_empty() {
                    h2 { (t.undated.len()) " without dates" }
                    (rows(&t.undated))
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_is_read_from_prose_and_custom_properties() {
        let v = serde_json::json!({
            "description": "Attacks in 2013. Its main wave is dated to March (month precision). Alleged.",
            "external_references": [{"source_name": "w", "description": "first_seen has year precision only."}],
            "x_date_precision": "month"
        });
        assert_eq!(
            precision_notes(&v),
            vec![
                "Its main wave is dated to March (month precision).",
                "first_seen has year precision only.",
                "x_date_precision: month",
            ]
        );
    }

    #[test]
    fn years_convert_both_ways() {
        assert_eq!(year_of(year_start(2016)), 2016);
        assert_eq!(year_of(year_start(2017) - 1), 2016);
    }
}
