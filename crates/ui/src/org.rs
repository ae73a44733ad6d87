//! The organisation tree (`/ui/objects/{id}/tree`, issue 14 §3): an actor
//! hierarchy as the Bureau 121 pack records it, Bureau 121 -> Lab 110 ->
//! offices, Unit 180, the liaison offices, each a `part-of` relationship from
//! the unit to its parent (the STIX 2.1 vocabulary has no such type; the pack
//! adds it, `packs/README.md`). Intrusion sets and actors `attributed-to` an
//! actor hang under it too (Lazarus Group and DarkSeoul Gang under Bureau 121,
//! APT38 under the RGB); campaigns do not (they are activity, not structure:
//! the timeline shows them).
//!
//! The page walks up from the object to the top (the first readable parent
//! each step, `part-of` before `attributed-to`), then draws the whole tree
//! from there with the object highlighted. Bounded ([`MAX_NODES`],
//! [`MAX_DEPTH`]); a node met twice (a cycle, or two parents) is drawn again
//! as a leaf marked as such, never expanded twice. Each expansion is one
//! `Graph::neighbours` with a relationship-type filter: O(degree). Only
//! readable objects are named and linked; a member the caller may not read,
//! or the store lacks, shows its id only (the graph's rule).

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use sightline_graph::{Direction, Graph, Neighbour, NeighbourQuery, NodeInfo};

use crate::pages::{class_part, layout, object_href};
use crate::routes::{html, with_reader, SignedIn};
use crate::{UiError, UiState};

/// Relationship types that put the source under the target.
pub(crate) const HIERARCHY: [&str; 2] = ["part-of", "attributed-to"];
/// What can be a member of an organisation.
const MEMBER_TYPES: [&str; 3] = ["threat-actor", "intrusion-set", "identity"];
/// Nodes drawn at most.
pub(crate) const MAX_NODES: usize = 300;
/// Levels below the top drawn at most; also the longest walk up.
pub(crate) const MAX_DEPTH: usize = 12;

/// One node of the drawn tree.
pub(crate) struct Node {
    pub(crate) id: String,
    pub(crate) ty: String,
    /// `None`: not readable, or not in the store.
    pub(crate) info: Option<NodeInfo>,
    /// The relationship type linking it to its parent (none for the top).
    pub(crate) via: Option<String>,
    /// Already drawn elsewhere in the tree: not expanded again.
    pub(crate) repeat: bool,
    pub(crate) children: Vec<Node>,
}

/// What the page shows.
pub(crate) struct Tree {
    pub(crate) current: String,
    pub(crate) current_name: String,
    pub(crate) root: Node,
    pub(crate) nodes: usize,
    /// Stopped at a bound: more members exist.
    pub(crate) truncated: bool,
}

fn query(direction: Direction) -> NeighbourQuery {
    NeighbourQuery {
        direction: Some(direction),
        edge_types: HIERARCHY.iter().map(|s| (*s).to_owned()).collect(),
        target_types: MEMBER_TYPES.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// A name's sort key with its runs of digits as numbers, so "Liaison
/// Office 91" comes before "Liaison Office 128".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Num(u128),
    Text(String),
}

fn natural(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest
            .find(|x: char| x.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        out.push(match run.parse::<u128>() {
            Ok(n) if digit => Part::Num(n),
            _ => Part::Text(run.to_lowercase()),
        });
        rest = tail;
    }
    out
}

/// `part-of` before `attributed-to`, then by name (numbers as numbers), then id.
fn order(ns: &mut [Neighbour]) {
    let rank = |n: &Neighbour| HIERARCHY.iter().position(|t| *t == n.via.label());
    let name = |n: &Neighbour| {
        n.presence
            .info()
            .and_then(|i| i.name.as_deref())
            .map(natural)
    };
    ns.sort_by(|a, b| {
        (rank(a), name(a).is_none(), name(a), &a.id).cmp(&(
            rank(b),
            name(b).is_none(),
            name(b),
            &b.id,
        ))
    });
}

/// Builds the tree around `id` (blocking).
pub(crate) fn build(g: &Graph<'_>, id: &str) -> Result<Tree, UiError> {
    let current = g
        .resolve_owners(id)?
        .into_iter()
        .next()
        .ok_or_else(|| UiError::not_found(format!("no object {id} that you may read")))?;
    let current_info = g.presence(&current)?;
    let current_name = current_info
        .info()
        .and_then(|i| i.name.clone())
        .unwrap_or_else(|| current.clone());
    // Up: the first readable parent each step, until the top or a cycle.
    let mut top = (current.clone(), current_info.info().cloned());
    let mut path: HashSet<String> = HashSet::from([current.clone()]);
    for _ in 0..MAX_DEPTH {
        let mut parents: Vec<Neighbour> = g
            .neighbours(&top.0, &query(Direction::Out))?
            .into_iter()
            .filter(|n| n.presence.info().is_some())
            .collect();
        order(&mut parents);
        let Some(p) = parents.into_iter().find(|p| !path.contains(&p.id)) else {
            break;
        };
        path.insert(p.id.clone());
        top = (p.id.clone(), p.presence.info().cloned());
    }
    // Down from the top, breadth first, so the bounds cut the deepest levels.
    let mut placed: HashSet<String> = HashSet::from([top.0.clone()]);
    let mut nodes = 1usize;
    let mut truncated = false;
    let mut root = Node {
        ty: sightline_graph::type_of_id(&top.0).to_owned(),
        id: top.0,
        info: top.1,
        via: None,
        repeat: false,
        children: Vec::new(),
    };
    // Paths (child indexes from the root) of the nodes to expand next.
    let mut level: Vec<Vec<usize>> = vec![Vec::new()];
    for _depth in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for at in std::mem::take(&mut level) {
            let node = node_at(&mut root, &at);
            let mut kids = g.neighbours(&node.id, &query(Direction::In))?;
            order(&mut kids);
            for k in kids {
                if nodes >= MAX_NODES {
                    truncated = true;
                    break;
                }
                nodes += 1;
                let readable = k.presence.info().is_some();
                let repeat = !placed.insert(k.id.clone());
                if readable && !repeat {
                    let mut p = at.clone();
                    p.push(node.children.len());
                    next.push(p);
                }
                node.children.push(Node {
                    ty: k.ty.clone(),
                    info: k.presence.info().cloned(),
                    via: Some(k.via.label().to_owned()),
                    repeat,
                    id: k.id,
                    children: Vec::new(),
                });
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    // The last level reached the depth bound with members still to expand.
    if level.iter().any(|p| p.len() == MAX_DEPTH) {
        truncated = true;
    }
    Ok(Tree {
        current,
        current_name,
        root,
        nodes,
        truncated,
    })
}

fn node_at<'a>(root: &'a mut Node, path: &[usize]) -> &'a mut Node {
    let mut n = root;
    for &i in path {
        n = &mut n.children[i];
    }
    n
}

/// `GET /ui/objects/{id}/tree`.
pub(crate) async fn tree(
    State(state): State<UiState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let t = with_reader(&state, &me.principal, move |readable, store| {
        build(&Graph::new(store, readable), &id)
    })
    .await?;
    Ok(html(page(&me, &t)))
}

fn item(n: &Node, current: &str) -> Markup {
    let is_current = n.id == current;
    html! {
        li class=[is_current.then_some("current")] {
            span class=(format!("badge type-{}", class_part(&n.ty))) { (n.ty) }
            " "
            @match &n.info {
                Some(i) => {
                    a href=(object_href(&n.id)) aria-current=[is_current.then_some("page")] {
                        @if is_current { strong { (i.name.as_deref().unwrap_or(&n.id)) } }
                        @else { (i.name.as_deref().unwrap_or(&n.id)) }
                    }
                }
                None => { code { (n.id) } " " span.missing { "(not in the store)" } }
            }
            @if let Some(v) = &n.via { " " span.via { "(" (v) ")" } }
            @if n.repeat { " " span.flag { "shown elsewhere in this tree" } }
            @if !n.children.is_empty() {
                ul { @for c in &n.children { (item(c, current)) } }
            }
        }
    }
}

fn page(me: &SignedIn, t: &Tree) -> Markup {
    layout(
        &format!("Organisation of {}", t.current_name),
        Some(me),
        html! {
            h1 { "Organisation of " (t.current_name) }
            p {
                a href=(object_href(&t.current)) { "Back to " (t.current_name) }
            }
            p.hint {
                "Units are placed under their parent by " code { "part-of" }
                " relationships; intrusion sets and actors " code { "attributed-to" }
                " an actor hang under it. " (t.nodes) " members shown."
                @if t.truncated { " The tree is larger than this page shows (at most " (MAX_NODES) " members, " (MAX_DEPTH) " levels)." }
            }
            ul #org-tree .tree { (item(&t.root, &t.current)) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_with_numbers_as_numbers() {
        let mut names = vec![
            "Liaison Office 413",
            "Liaison Office 128",
            "Liaison Office 91",
            "Lab 110",
        ];
        names.sort_by_key(|n| natural(n));
        assert_eq!(
            names,
            [
                "Lab 110",
                "Liaison Office 91",
                "Liaison Office 128",
                "Liaison Office 413"
            ]
        );
    }
}
