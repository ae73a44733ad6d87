//! A bounded neighbourhood: breadth-first from a seed, `depth` hops, at most
//! `node_limit` nodes (then `truncated`).

use std::collections::{BTreeSet, HashSet, VecDeque};

use serde::Serialize;

use crate::{type_of_id, Direction, Graph, GraphError, NeighbourQuery, Obj, Presence, Result, Via};

/// The default node bound (issue 14: a readable graph stays under it).
pub const DEFAULT_NODE_LIMIT: usize = 2_000;

/// References every object carries that would join everything to its
/// producer and marking: not followed unless asked for (`follow_meta`).
const META_REFS: [&str; 2] = ["created_by_ref", "object_marking_refs"];

#[derive(Debug, Clone)]
pub struct NeighbourhoodQuery {
    /// 1..=3.
    pub depth: u32,
    /// Node types kept (the seed always is); empty: all.
    pub types: Vec<String>,
    /// Relationship types or reference properties followed; empty: all but
    /// `created_by_ref` and `object_marking_refs` (see `follow_meta`).
    pub edge_types: Vec<String>,
    pub follow_meta: bool,
    pub node_limit: usize,
}

impl Default for NeighbourhoodQuery {
    fn default() -> Self {
        Self {
            depth: 1,
            types: Vec::new(),
            edge_types: Vec::new(),
            follow_meta: false,
            node_limit: DEFAULT_NODE_LIMIT,
        }
    }
}

/// One node: `depth` hops from the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub depth: u32,
    #[serde(flatten)]
    pub presence: Presence,
}

/// One edge between two nodes of the result, `source` → `target`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub source: String,
    pub target: String,
    /// Relationship type or reference property.
    pub label: String,
    /// The relationship object, for relationship edges.
    pub relationship: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbourhood {
    pub seed: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Nodes were left out to stay within the node limit.
    pub truncated: bool,
}

impl Graph<'_> {
    /// The neighbourhood of `seed` (see [`NeighbourhoodQuery`]). Each expanded
    /// node costs one `relationships_of` and the reads of its neighbours;
    /// missing (or unreadable) nodes are kept but not expanded.
    pub fn neighbourhood(&self, seed: &str, q: &NeighbourhoodQuery) -> Result<Neighbourhood> {
        if !(1..=3).contains(&q.depth) {
            return Err(GraphError::Invalid(format!(
                "depth {} is out of range 1..=3",
                q.depth
            )));
        }
        if q.node_limit == 0 {
            return Err(GraphError::Invalid(
                "the node limit must be at least 1".into(),
            ));
        }
        let seed_obj = self.load_one(seed)?;
        let mut nodes: Vec<Node> = vec![Node {
            id: seed.to_owned(),
            ty: seed_obj.ty.clone(),
            depth: 0,
            presence: Presence::Present(seed_obj.info()),
        }];
        let mut index: HashSet<String> = HashSet::from([seed.to_owned()]);
        let mut edges: BTreeSet<Edge> = BTreeSet::new();
        let mut truncated = false;
        let mut queue: VecDeque<(Obj, u32)> = VecDeque::from([(seed_obj, 0)]);
        let nq = NeighbourQuery {
            direction: Some(Direction::Both),
            edge_types: q.edge_types.clone(),
            target_types: Vec::new(),
        };
        while let Some((obj, depth)) = queue.pop_front() {
            if depth >= q.depth {
                continue;
            }
            // Full: what is left in the queue could add no node, only edges
            // among the nodes kept, each at the price of reading all its
            // relationships (a technique has hundreds). The answer says it is
            // truncated; a client expands a node to see more.
            if truncated && nodes.len() >= q.node_limit {
                break;
            }
            let mut links = self.links(&obj, &nq)?;
            links.retain(|(_, via, other)| {
                !(q.edge_types.is_empty() && !q.follow_meta && META_REFS.contains(&via.label()))
                    && (q.types.is_empty() || q.types.iter().any(|t| t == type_of_id(other)))
            });
            // Only the ends that become nodes are read: a node with a large
            // degree costs its links, not a read of every object behind them.
            let mut new_ids: Vec<String> = Vec::new();
            let mut new_set: HashSet<&str> = HashSet::new();
            for (_, _, other) in &links {
                if index.contains(other) || new_set.contains(other.as_str()) {
                    continue;
                }
                if nodes.len() + new_ids.len() >= q.node_limit {
                    truncated = true;
                    continue;
                }
                new_set.insert(other);
                new_ids.push(other.clone());
            }
            let mut loaded = self.load(&new_ids)?;
            for other in new_ids {
                let found = loaded.remove(&other);
                nodes.push(Node {
                    ty: type_of_id(&other).to_owned(),
                    depth: depth + 1,
                    presence: found
                        .as_ref()
                        .map_or(Presence::Missing, |o| Presence::Present(o.info())),
                    id: other.clone(),
                });
                index.insert(other);
                // Missing (or unreadable) nodes are kept but not expanded.
                if let Some(o) = found {
                    queue.push_back((o, depth + 1));
                }
            }
            for (direction, via, other) in links {
                if !index.contains(&other) {
                    continue;
                }
                let (source, target) = match direction {
                    Direction::In => (other, obj.id.clone()),
                    _ => (obj.id.clone(), other),
                };
                let relationship = match &via {
                    Via::Relationship { id, .. } => Some(id.clone()),
                    Via::Property { .. } => None,
                };
                edges.insert(Edge {
                    source,
                    target,
                    label: via.label().to_owned(),
                    relationship,
                });
            }
        }
        // Readable and stable: by depth, then type, name and id.
        nodes.sort_by(|a, b| {
            let name = |n: &Node| n.presence.info().and_then(|i| i.name.clone());
            (a.depth, &a.ty, name(a), &a.id).cmp(&(b.depth, &b.ty, name(b), &b.id))
        });
        Ok(Neighbourhood {
            seed: seed.to_owned(),
            nodes,
            edges: edges.into_iter().collect(),
            truncated,
        })
    }
}
