//! The templates (maud, compiled in). Every `(text)` is HTML-escaped by maud;
//! nothing from an object is ever emitted as markup (no `PreEscaped` here), and links to outside the UI are http(s) URLs only.

use axum::http::StatusCode;
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;
use sightline_graph::{Direction, Neighbour};
use sightline_store::{CollectionInfo, Stats};

use crate::routes::{Hit, ObjectView, Results, SignedIn, HTMX_VERSION, SEARCH_SHOWN};

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
                link rel="stylesheet" href="/ui/assets/style.css?v=1";
                script src=(format!("/ui/assets/htmx.min.js?v={HTMX_VERSION}")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    nav aria-label="Main" {
                        a.brand href="/ui/" { "Sightline" }
                        @if let Some(me) = me {
                            form.nav-search role="search" method="get" action="/ui/search" {
                                label for="nav-q" { "Search" }
                                input #nav-q type="search" name="q" placeholder="name, alias, T1566, G0032…";
                                button type="submit" { "Go" }
                            }
                            span.who { "Signed in as " strong { (me.principal.name) } }
                            form.signout method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(me.csrf);
                                button type="submit" { "Sign out" }
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
            form.login method="post" action="/ui/login" {
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

pub(crate) fn home(me: &SignedIn, stats: Option<&Stats>, collections: &[CollectionInfo]) -> Markup {
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
                    nav.facets aria-label="Filter by type" {
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
            form role="search" method="get" action="/ui/search" {
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

/// Paragraphs of a description: blank lines separate them; single line
/// breaks stay (CSS `white-space: pre-line`). Plain text, escaped.
fn paragraphs(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
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
    layout(
        &name,
        Some(me),
        html! {
            article {
                h1 { (name) }
                p.badges {
                    span class=(format!("badge type-{}", class_part(&v.ty))) { (v.ty) }
                    @for t in &v.tlp {
                        " "
                        span class=(format!("badge tlp tlp-{}", class_part(t.trim_start_matches("TLP:")))) { (t) }
                    }
                    @if revoked { " " span.flag { "revoked" } }
                }
                p.id { code { (v.id) } }
                @if let Some(d) = description {
                    section aria-labelledby="h-desc" {
                        h2 #h-desc { "Description" }
                        @for para in paragraphs(d) { p.desc { (para) } }
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
                        ul {
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
                section aria-labelledby="h-rels" {
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
                section aria-labelledby="h-versions" {
                    h2 #h-versions { "Versions" }
                    table {
                        thead { tr { th scope="col" { "Version (modified)" } th scope="col" { "Added" } th scope="col" { "Revoked" } } }
                        tbody {
                            @for r in v.versions.iter().rev() {
                                tr {
                                    td { (r.version.as_deref().unwrap_or("—")) }
                                    td { (r.date_added) }
                                    td { @if r.revoked { "yes" } @else { "no" } }
                                }
                            }
                        }
                    }
                }
                details {
                    summary { "Raw JSON" }
                    pre { code { (raw) } }
                }
            }
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
    fn ids_are_percent_encoded_in_links() {
        assert_eq!(enc("a b/<\"&>"), "a%20b%2F%3C%22%26%3E");
        assert_eq!(object_href("malware--1"), "/ui/objects/malware--1");
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        assert_eq!(paragraphs("a\nb\r\n\r\n\n c \n\n"), vec!["a\nb", "c"]);
    }
}
