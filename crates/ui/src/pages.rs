//! The templates (maud, compiled in). Every `(text)` is HTML-escaped by maud;
//! nothing from an object is ever emitted as markup (no `PreEscaped` here: the
//! one exception, Markdown descriptions, is `markdown.rs` with its rules), and
//! links to outside the UI are http(s) URLs only.

use axum::http::StatusCode;
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;
use sightline_graph::{Direction, Neighbour, Node, Sighting, SUBJECT_TYPES};
use sightline_store::{CollectionInfo, Stats};

use crate::markdown;
use crate::routes::{
    asset_url, GraphView, Hit, ObjectView, Results, SignedIn, VersionRow, SEARCH_SHOWN,
};

/// htmx settings: no inline styles (the CSP refuses them), no eval, no
/// scripts from swapped content.
const HTMX_CONFIG: &str =
    r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}"#;

/// A path segment or query value, percent-encoded (RFC 3986 unreserved kept).
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn object_href(id: &str) -> String {
    format!("/ui/objects/{}", enc(id))
}

/// A CSS class fragment from a type or level: lowercase letters, digits and `-`.
pub(crate) fn class_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// An outside URL worth a link: http or https only (never `javascript:`).
pub(crate) fn safe_url(u: &str) -> bool {
    let l = u.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

pub(crate) fn layout(title: &str, me: Option<&SignedIn>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { (title) " · Sightline" }
                link rel="stylesheet" href=(asset_url("style.css"));
                script src=(asset_url("htmx.min.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    nav aria-label="Main" {
                        a.brand href="/ui/" { "Sightline" }
                        @if let Some(me) = me {
                            form.nav-search role="search" aria-label="Site search" method="get" action="/ui/search" {
                                label for="nav-q" { "Search" }
                                input #nav-q type="search" name="q" placeholder="name, alias, T1566, G0032…";
                                button type="submit" { "Go" }
                            }
                            span.who { "Signed in as " strong { (me.principal.name) } }
                            form.signout method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(me.csrf);
                                button #sign-out type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

pub(crate) fn error(status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    layout(
        title,
        None,
        html! {
            h1 { (status.as_u16()) " " (title) }
            p { (message) }
            p { a href="/ui/" { "Back to the start page" } }
        },
    )
}

pub(crate) fn login(csrf: &str, user: &str, error: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(e) = error {
                p.error role="alert" #login-error { (e) }
            }
            form.login #login method="post" action="/ui/login" {
                input type="hidden" name="csrf" value=(csrf);
                p {
                    label for="user" { "User name" }
                    input #user type="text" name="user" value=(user) autocomplete="username" required autofocus;
                }
                p {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                p { button type="submit" { "Sign in" } }
            }
            p.hint { "The same accounts as the TAXII server." }
        },
    )
}

/// `activity`: the latest additions, sightings and top indicators (`dashboard.rs`).
pub(crate) fn home(
    me: &SignedIn,
    stats: Option<&Stats>,
    collections: &[CollectionInfo],
    activity: Markup,
) -> Markup {
    layout(
        "Home",
        Some(me),
        html! {
            h1 { "Sightline" }
            section aria-labelledby="h-collections" {
                h2 #h-collections { "Collections you may read" }
                @if collections.is_empty() {
                    p { "None. Ask an administrator for read rights." }
                } @else {
                    ul {
                        @for c in collections {
                            li {
                                strong { (c.title) }
                                @if let Some(a) = &c.alias { " (" code { (a) } ")" }
                                @if let Some(d) = &c.description { " — " (d) }
                            }
                        }
                    }
                }
                @if stats.is_some() {
                    p { "As an administrator you read the whole store, objects imported without a collection included." }
                }
            }
            @if let Some(s) = stats {
                section aria-labelledby="h-counts" {
                    h2 #h-counts { "Objects by type" }
                    p { (s.objects) " objects, " (s.versions) " versions, " (s.revoked) " revoked, " (s.collections) " collections." }
                    table {
                        thead { tr { th scope="col" { "Type" } th scope="col" .num { "Objects" } } }
                        tbody {
                            @for (t, n) in &s.by_type {
                                tr {
                                    th scope="row" { span class=(format!("badge type-{}", class_part(t))) { (t) } }
                                    td.num { (n) }
                                }
                            }
                        }
                    }
                }
            }
            (activity)
        },
    )
}

pub(crate) fn hit_item(h: &Hit) -> Markup {
    html! {
        li {
            span class=(format!("badge type-{}", class_part(&h.ty))) { (h.ty) }
            " "
            a href=(object_href(&h.id)) { (h.name.as_deref().unwrap_or(&h.id)) }
            @if let Some(e) = &h.external_id { " " code.extid { (e) } }
            @if h.revoked { " " span.flag { "revoked" } }
            @if h.deprecated { " " span.flag { "deprecated" } }
        }
    }
}

/// The results block (what htmx swaps in as the user types).
pub(crate) fn results(r: &Results) -> Markup {
    html! {
        div #results aria-live="polite" {
            @if r.q.is_empty() {
                p { "Type a name, an alias or an external id." }
            } @else {
                @if !r.facets.is_empty() {
                    nav.facets #facets aria-label="Filter by type" {
                        a href=(format!("/ui/search?q={}", enc(&r.q))) aria-current=[r.ty.is_none().then_some("page")] { "all" }
                        @for (t, n) in &r.facets {
                            " "
                            a href=(format!("/ui/search?q={}&type={}", enc(&r.q), enc(t)))
                                aria-current=[(r.ty.as_deref() == Some(t.as_str())).then_some("page")] {
                                (t) " (" (n) ")"
                            }
                        }
                    }
                }
                p.count {
                    (r.hits.len()) " results for " q { (r.q) }
                    @if let Some(t) = &r.ty { " of type " (t) }
                    @if r.hits.len() > SEARCH_SHOWN { "; the first " (SEARCH_SHOWN) " are shown" }
                }
                ul.results {
                    @for h in r.hits.iter().take(SEARCH_SHOWN) { (hit_item(h)) }
                }
            }
        }
    }
}

pub(crate) fn search(me: &SignedIn, r: &Results) -> Markup {
    layout(
        "Search",
        Some(me),
        html! {
            h1 { "Search" }
            form role="search" aria-label="Search this page" method="get" action="/ui/search" {
                label for="q" { "Search objects" }
                input #q type="search" name="q" value=(r.q)
                    hx-get="/ui/search" hx-trigger="input changed delay:300ms, search"
                    hx-target="#results" hx-swap="outerHTML" hx-include="closest form";
                @if let Some(t) = &r.ty { input type="hidden" name="type" value=(t); }
                button type="submit" { "Search" }
            }
            (results(r))
        },
    )
}

pub(crate) fn choice(me: &SignedIn, id: &str, hits: &[Hit]) -> Markup {
    layout(
        id,
        Some(me),
        html! {
            h1 { (id) " names " (hits.len()) " objects" }
            ul.results { @for h in hits { (hit_item(h)) } }
        },
    )
}

/// A property value as text: strings as they are, anything else as JSON.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn neighbour_item(n: &Neighbour) -> Markup {
    html! {
        li {
            span class=(format!("badge type-{}", class_part(&n.ty))) { (n.ty) }
            " "
            @match n.presence.info() {
                Some(info) => {
                    a href=(object_href(&n.id)) { (info.name.as_deref().unwrap_or(&n.id)) }
                    @if let Some(e) = &info.external_id { " " code.extid { (e) } }
                    @if info.revoked { " " span.flag { "revoked" } }
                }
                None => {
                    code { (n.id) } " " span.missing { "(not in the store)" }
                }
            }
        }
    }
}

/// Types an organisation tree is drawn for (`/ui/objects/{id}/tree`).
pub(crate) const TREE_TYPES: [&str; 3] = ["identity", "threat-actor", "intrusion-set"];

/// At most this many characters of a value in a version diff.
const DIFF_SHOWN: usize = 300;

/// `s` cut to `max` characters, with an ellipsis when cut.
fn short(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// What changed in one version (`sightline_api::version_diff`'s shape).
fn changes(c: &Value, newer: &Value) -> Markup {
    let added = sightline_graph::str_list(c, "added");
    let removed = sightline_graph::str_list(c, "removed");
    let changed: Vec<(&String, &Value)> = c
        .get("changed")
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    html! {
        @if added.is_empty() && removed.is_empty() && changed.is_empty() {
            span.muted { "no change" }
        } @else {
            ul.changes {
                @for k in &added {
                    li {
                        span.change-added { "added " } code { (k) } ": "
                        (short(&newer.get(k).map(value_text).unwrap_or_default(), DIFF_SHOWN))
                    }
                }
                @for k in &removed { li { span.change-removed { "removed " } code { (k) } } }
                @for (k, d) in &changed {
                    li {
                        span.change-changed { "changed " } code { (k) } ": "
                        del { (short(&d.get("from").map(value_text).unwrap_or_default(), DIFF_SHOWN)) }
                        " → "
                        ins { (short(&d.get("to").map(value_text).unwrap_or_default(), DIFF_SHOWN)) }
                    }
                }
            }
        }
    }
}

const DAY_US: i64 = 86_400_000_000;

/// A bar's height in `0..=full` for `value` of `max` (at least 2 px to be
/// seen), without overflow whatever the counts.
fn bar_height(value: u64, max: u64, full: u64) -> u64 {
    let h = u128::from(full) * u128::from(value) / u128::from(max.max(1));
    u64::try_from(h).unwrap_or(full).clamp(2, full)
}

/// Sightings per day (or week, or longer for long spans), summed by `count`
/// (1 when absent), as bars: inline SVG whose sizes are attributes (the
/// CSP refuses `style=""`), each bar titled with its date and count.
fn timeline(sightings: &[Sighting]) -> Option<Markup> {
    let points: Vec<(i64, u64)> = sightings
        .iter()
        .filter_map(|s| {
            let t = s.first_seen.as_deref().or(s.last_seen.as_deref())?;
            let us = sightline_stix::Timestamp::parse(t).ok()?.micros();
            Some((us.div_euclid(DAY_US), s.count.unwrap_or(1).max(1)))
        })
        .collect();
    let first = points.iter().map(|p| p.0).min()?;
    let last = points.iter().map(|p| p.0).max()?;
    let span = last - first + 1;
    let (bucket, unit) = match span {
        ..=60 => (1, "day".to_owned()),
        61..=420 => (7, "week".to_owned()),
        _ => {
            let b = (span + 59) / 60;
            (b, format!("{b} days"))
        }
    };
    let n = usize::try_from((span + bucket - 1) / bucket).ok()?;
    let mut bars = vec![0u64; n];
    for (day, count) in &points {
        let i = usize::try_from((day - first) / bucket).ok()?;
        if let Some(b) = bars.get_mut(i) {
            *b = b.saturating_add(*count);
        }
    }
    let max = bars.iter().copied().max().unwrap_or(1).max(1);
    let date = |day: i64| {
        let t = sightline_stix::format_micros(day * DAY_US);
        t.get(..10).unwrap_or(&t).to_owned()
    };
    // Bars 6 to 40 px wide, the whole at least 240 px (room for both dates).
    let w = (480 / n.max(1)).clamp(6, 40);
    const H: u64 = 60;
    let width = (n * w).max(240);
    let total: u64 = bars.iter().sum();
    Some(html! {
        figure.timeline {
            svg #sightings-timeline role="img" aria-labelledby="timeline-caption"
                width=(width) height=(H + 16) viewBox=(format!("0 0 {width} {}", H + 16)) {
                @for (i, b) in bars.iter().enumerate() {
                    @if *b > 0 {
                        @let h = bar_height(*b, max, H);
                        rect.bar x=(i * w) y=(H - h) width=(w - 2) height=(h) {
                            title { (date(first + i as i64 * bucket)) ": " (b) }
                        }
                    }
                }
                text x="0" y=(H + 14) { (date(first)) }
                text x=(width) y=(H + 14) text-anchor="end" { (date(last)) }
            }
            figcaption #timeline-caption {
                (total) " sightings from " (date(first)) " to " (date(last)) ", one bar per " (unit) "."
            }
        }
    })
}

pub(crate) fn object(me: &SignedIn, v: &ObjectView) -> Markup {
    let name = v
        .json
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(&v.id)
        .to_owned();
    let revoked = v.json.get("revoked").and_then(Value::as_bool) == Some(true);
    let description = v.json.get("description").and_then(Value::as_str);
    let props: Vec<(&String, &Value)> = v
        .json
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "name" | "description" | "external_references")
                })
                .collect()
        })
        .unwrap_or_default();
    let refs: Vec<&Value> = v
        .json
        .get("external_references")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    // Relationships grouped by type (or property) and direction.
    let mut groups: std::collections::BTreeMap<(String, bool), Vec<&Neighbour>> =
        Default::default();
    for n in &v.neighbours {
        groups
            .entry((n.via.label().to_owned(), n.direction == Direction::In))
            .or_default()
            .push(n);
    }
    let raw = serde_json::to_string_pretty(&v.json).unwrap_or_default();
    let href = object_href(&v.id);
    let versions: Vec<&VersionRow> = v.versions.iter().rev().collect();
    layout(
        &name,
        Some(me),
        html! {
            article {
                h1 { (name) }
                p.badges {
                    span class=(format!("badge type-badge type-{}", class_part(&v.ty))) { (v.ty) }
                    @for t in &v.tlp {
                        " "
                        span class=(format!("badge tlp-badge tlp-{}", class_part(t.trim_start_matches("TLP:")))) { (t) }
                    }
                    @if v.tlp.is_empty() {
                        " " span.badge.tlp-badge.tlp-none { "no TLP marking" }
                    }
                    @if revoked { " " span.flag { "revoked" } }
                }
                @if let Some(sc) = &v.score { (score_badge(sc)) }
                p.id { code { (v.id) } }
                nav.object-links aria-label="Views of this object" {
                    a #open-graph href=(format!("{href}/graph")) { "Graph" }
                    @if SUBJECT_TYPES.contains(&v.ty.as_str()) {
                        " " a #open-matrix href=(format!("{href}/matrix")) { "ATT&CK matrix" }
                    }
                    @if TREE_TYPES.contains(&v.ty.as_str()) {
                        " " a #open-tree href=(format!("{href}/tree")) { "Organisation tree" }
                    }
                }
                @if let Some(d) = description {
                    section aria-labelledby="h-desc" {
                        h2 #h-desc { "Description" }
                        div.markdown { (markdown::render(d)) }
                    }
                }
                section aria-labelledby="h-props" {
                    h2 #h-props { "Properties" }
                    table.props {
                        thead { tr { th scope="col" { "Property" } th scope="col" { "Value" } } }
                        tbody {
                            @for (k, val) in &props {
                                tr { th scope="row" { (k) } td { (value_text(val)) } }
                            }
                        }
                    }
                }
                @if !refs.is_empty() {
                    section aria-labelledby="h-refs" {
                        h2 #h-refs { "External references" }
                        ul #external-references {
                            @for r in &refs {
                                li {
                                    @if let Some(s) = r.get("source_name").and_then(Value::as_str) { strong { (s) } }
                                    @if let Some(e) = r.get("external_id").and_then(Value::as_str) { " " code { (e) } }
                                    @if let Some(u) = r.get("url").and_then(Value::as_str) {
                                        " "
                                        @if safe_url(u) {
                                            a href=(u) rel="noopener noreferrer" { (u) }
                                        } @else {
                                            span.url { (u) }
                                        }
                                    }
                                    @if let Some(d) = r.get("description").and_then(Value::as_str) { " — " (d) }
                                }
                            }
                        }
                    }
                }
                section #relationships aria-labelledby="h-rels" {
                    h2 #h-rels { "Relationships" }
                    @if groups.is_empty() { p { "None you may read." } }
                    @for ((label, incoming), ns) in &groups {
                        h3 {
                            (label)
                            @if *incoming { " (to this object)" } @else { " (from this object)" }
                            " — " (ns.len())
                        }
                        ul.results { @for n in ns { (neighbour_item(n)) } }
                    }
                }
                @if v.ty == "indicator" {
                    section #sightings aria-labelledby="h-sightings" {
                        h2 #h-sightings { "Sightings" }
                        @if v.sightings.is_empty() {
                            p { "None you may read." }
                        } @else {
                            @if let Some(t) = timeline(&v.sightings) { (t) }
                            table {
                                thead { tr {
                                    th scope="col" { "First seen" } th scope="col" { "Last seen" }
                                    th scope="col" .num { "Count" } th scope="col" { "Where" }
                                    @if v.can_verdict { th scope="col" { "Verdict" } }
                                } }
                                tbody {
                                    @for s in &v.sightings {
                                        tr {
                                            td { (s.first_seen.as_deref().unwrap_or("—")) }
                                            td { (s.last_seen.as_deref().unwrap_or("—")) }
                                            td.num { (s.count.map_or("—".to_owned(), |c| c.to_string())) }
                                            td {
                                                @for (i, (id, name)) in s.where_sighted.iter().enumerate() {
                                                    @if i > 0 { ", " }
                                                    @match name {
                                                        Some(n) => a href=(object_href(id)) { (n) },
                                                        None => code { (id) },
                                                    }
                                                }
                                            }
                                            @if v.can_verdict {
                                                td { (verdict_form(me, &v.id, &s.id, "this sighting")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if v.ty == "indicator" { (verdicts_section(me, v)) }
                section #versions aria-labelledby="h-versions" {
                    h2 #h-versions { "Versions" }
                    table {
                        thead { tr {
                            th scope="col" { "Version (modified)" } th scope="col" { "Added" }
                            th scope="col" { "Revoked" } th scope="col" { "Changes from the version before" }
                        } }
                        tbody {
                            @for r in &versions {
                                tr.version {
                                    td { (r.version.as_deref().unwrap_or("—")) }
                                    td { (r.date_added) }
                                    td { @if r.revoked { "yes" } @else { "no" } }
                                    td {
                                        @match &r.changes {
                                            Some(c) => (changes(c, &r.json)),
                                            None => span.muted { "first version" },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                details #raw-json {
                    summary { "Raw JSON" }
                    pre { code { (raw) } }
                }
            }
        },
    )
}

/// The effective score (issue 16): value and state, with its reason.
fn score_badge(sc: &Value) -> Markup {
    let state = sc.get("state").and_then(Value::as_str).unwrap_or("unknown");
    let rounded = sc.get("rounded").map(value_text).unwrap_or_default();
    let reason = sc.get("reason").and_then(Value::as_str).unwrap_or("");
    let rule = sc.get("rule").and_then(Value::as_str);
    let age = sc.get("age_days").and_then(Value::as_f64);
    html! {
        p #score {
            span class=(format!("badge score-badge score-{}", class_part(state))) {
                "Score " (rounded) " · " (state)
            }
            " "
            span.score-reason {
                (reason)
                @if let Some(r) = rule { " (rule " (r) ")" }
                @if let Some(a) = age { ", " (format!("{a:.1}")) " days since the clock started" }
            }
        }
    }
}

/// A verdict form on `target` (the indicator or one of its sightings):
/// three submit buttons, a note, the warninglist box; labels inside.
fn verdict_form(me: &SignedIn, indicator: &str, target: &str, what: &str) -> Markup {
    html! {
        form.verdict method="post" action=(format!("{}/verdict", object_href(indicator))) {
            input type="hidden" name="csrf" value=(me.csrf);
            input type="hidden" name="target" value=(target);
            label { "Note on " (what) " (optional) " input type="text" name="note" maxlength="10000"; }
            " "
            label { input type="checkbox" name="warninglist"; " also add to warninglist" }
            " "
            button type="submit" name="verdict" value="true-positive" { "True positive" }
            " "
            button type="submit" name="verdict" value="false-positive" { "False positive" }
            " "
            button type="submit" name="verdict" value="benign" { "Benign" }
        }
    }
}

/// The kept verdicts the caller may read, a conflict marker, and (writers)
/// a verdict form on the indicator itself.
fn verdicts_section(me: &SignedIn, v: &ObjectView) -> Markup {
    html! {
        section #verdicts aria-labelledby="h-verdicts" {
            h2 #h-verdicts { "Analyst verdicts" }
            @if v.conflict {
                p.conflict.flag role="note" { "Conflict: analysts disagree; the latest verdict is in force." }
            }
            @if v.verdicts.is_empty() {
                p { "None you may read." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Analyst" } th scope="col" { "Verdict" }
                        th scope="col" { "Time" } th scope="col" { "On" } th scope="col" { "Note" }
                    } }
                    tbody {
                        @for r in v.verdicts.iter().rev() {
                            tr.verdict-row {
                                td { (r.analyst_name.as_deref().or(r.analyst.as_deref()).unwrap_or("—")) }
                                td { (r.verdict.as_str()) }
                                td { (r.created) }
                                td {
                                    @match &r.sighting {
                                        Some(s) => code { (s) },
                                        None => "the indicator",
                                    }
                                }
                                td { (r.note.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            @if v.can_verdict {
                h3 { "Your verdict on the indicator" }
                (verdict_form(me, &v.id, &v.id, "the indicator"))
            }
        }
    }
}

/// One node of the graph page's list: what `assets/graph.js` writes too.
fn graph_node(n: &Node, expandable: bool) -> Markup {
    html! {
        li data-id=(n.id) data-type=(n.ty) {
            span class=(format!("badge type-badge type-{}", class_part(&n.ty))) { (n.ty) }
            " "
            @match n.presence.info() {
                Some(info) => {
                    @let name = info.name.as_deref().unwrap_or(&n.id);
                    a href=(object_href(&n.id)) { (name) }
                    @if let Some(e) = &info.external_id { " " code.extid { (e) } }
                    @if expandable {
                        " "
                        button.expand type="submit" name="expand" value=(n.id) data-id=(n.id)
                            aria-label=(format!("Expand {name}")) { "Expand" }
                    }
                }
                None => { code { (n.id) } " " span.missing { "(not in the store)" } }
            }
        }
    }
}

pub(crate) fn graph(me: &SignedIn, v: &GraphView) -> Markup {
    let shown = |ty: &str| v.params.types.is_empty() || v.params.types.iter().any(|t| t == ty);
    let nodes: Vec<&Node> = v
        .graph
        .nodes
        .iter()
        .filter(|n| n.id == v.seed || shown(&n.ty))
        .collect();
    let ids: std::collections::HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let edges = v
        .graph
        .edges
        .iter()
        .filter(|e| ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()))
        .count();
    let href = object_href(&v.seed);
    let expanded = v.params.expanded.join(",");
    layout(
        &format!("Graph of {}", v.seed_name),
        Some(me),
        html! {
            h1 { "Graph of " (v.seed_name) }
            p { a href=(href) { "Back to the object page" } }
            form #graph-form method="get" action=(format!("{href}/graph")) {
                fieldset #graph-filter {
                    legend { "Show types" }
                    @for t in &v.types {
                        label.check {
                            input type="checkbox" name="type" value=(t) checked[shown(t)];
                            " " span class=(format!("swatch type-{}", class_part(t))) {} (t)
                        }
                        " "
                    }
                    label for="graph-depth" { "Hops from the object" }
                    " "
                    select #graph-depth name="depth" {
                        @for d in 1..=3u32 {
                            option value=(d) selected[d == v.params.depth] { (d) }
                        }
                    }
                    @if !expanded.is_empty() {
                        input type="hidden" name="expanded" value=(expanded);
                    }
                    " "
                    button #graph-apply type="submit" { "Apply" }
                }
                p #graph-count aria-live="polite" { (nodes.len()) " nodes, " (edges) " edges" }
                p #graph-status.hint aria-live="polite" {
                    @if v.graph.truncated {
                        "Only the first " (v.graph.nodes.len()) " nodes are shown: expand a node to see more around it."
                    }
                }
                // The neighbourhood drawn is the one listed: graph.js reads it
                // here (an attribute: escaped by maud, decoded by the parser)
                // rather than asking the server to compute it again.
                div #graph.graph-canvas hidden data-seed=(v.seed) data-depth=(v.params.depth)
                    data-expanded=(expanded) data-graph=(serde_json::to_string(&v.graph).unwrap_or_default()) role="img"
                    aria-label="The graph drawn; the same nodes are listed below" {}
                h2 #h-nodes { "Nodes" }
                ul #graph-nodes.results aria-labelledby="h-nodes" {
                    @for n in &nodes {
                        (graph_node(n, n.id != v.seed && !v.params.expanded.contains(&n.id)))
                    }
                }
            }
            // Tells cytoscape.js its container style is in style.css (it
            // would otherwise insert a <style>, which the CSP refuses).
            span #__________cytoscape_stylesheet hidden {}
            script src=(asset_url("cytoscape.min.js")) defer {}
            script src=(asset_url("graph.js")) defer {}
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_links() {
        assert!(safe_url("https://attack.mitre.org/groups/G0032/"));
        assert!(safe_url("HTTP://example.org"));
        assert!(!safe_url("javascript:alert(1)"));
        assert!(!safe_url(" data:text/html,<script>"));
        assert!(!safe_url("//evil.example"));
    }

    #[test]
    fn bar_heights_do_not_overflow() {
        assert_eq!(bar_height(u64::MAX, u64::MAX, 60), 60);
        assert_eq!(bar_height(1, u64::MAX, 60), 2);
        assert_eq!(bar_height(3, 6, 60), 30);
    }

    #[test]
    fn ids_are_percent_encoded_in_links() {
        assert_eq!(enc("a b/<\"&>"), "a%20b%2F%3C%22%26%3E");
        assert_eq!(object_href("malware--1"), "/ui/objects/malware--1");
    }
}
