//! `sightline related ID|EXTERNAL-ID [--type T] [--target-type T] [--direction D] [--depth N] [--json]`
//! and `sightline matrix ID|EXTERNAL-ID [--json]`: what `sightline_graph`
//! finds, as aligned tables or JSON.

use std::path::Path;

use serde_json::json;
use sightline_graph::{
    Direction, Graph, GraphError, Neighbour, NeighbourQuery, NeighbourhoodQuery, NodeInfo,
    Presence, Via,
};

use crate::output::with_stdout;
use crate::table::Table;
use crate::{Failure, Outcome};

/// What a table shows for an object the store lacks.
const NOT_IN_STORE: &str = "(not in the store)";

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Dir {
    Out,
    In,
    Both,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A STIX id or an external id (`G0032`, `S0366`, `T1486`, `CVE-…`).
    id: String,
    /// Only these relationship types or reference properties (repeat or comma-separate:
    /// `--type uses,attributed-to`, `--type object_refs`).
    #[arg(long = "type", value_delimiter = ',')]
    types: Vec<String>,
    /// Only neighbours of these types (`--target-type attack-pattern,malware`).
    #[arg(long, value_delimiter = ',')]
    target_type: Vec<String>,
    /// Which way the links run from the object (with --depth 1).
    #[arg(long, value_enum, default_value = "both")]
    direction: Dir,
    /// Hops to follow: 1 lists the neighbours; 2 or 3 the neighbourhood.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3))]
    depth: u32,
    /// At most this many nodes in a neighbourhood (--depth 2 or 3).
    #[arg(long, default_value_t = sightline_graph::DEFAULT_NODE_LIMIT)]
    limit: usize,
    /// Every object citing the external id, not only those it names.
    #[arg(long)]
    all: bool,
    /// One JSON array: per object, its neighbours (or its neighbourhood).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct MatrixArgs {
    /// An intrusion set, threat actor, campaign or malware: STIX id or external id.
    id: String,
    /// One JSON array: per subject, techniques by tactic with their paths.
    #[arg(long)]
    json: bool,
}

fn graph_failure(e: GraphError) -> Failure {
    match e {
        GraphError::Store(s) => Failure::Store(s.to_string()),
        GraphError::NotFound(_) | GraphError::Invalid(_) => Failure::Input(e.to_string()),
    }
}

/// `name` with its lifecycle marks, or "(not in the store)".
fn label(p: &Presence) -> String {
    match p {
        Presence::Present(i) => marked(i),
        Presence::Missing => NOT_IN_STORE.to_owned(),
    }
}

fn marked(i: &NodeInfo) -> String {
    let mut s = i.name.clone().unwrap_or_default();
    if i.revoked {
        s.push_str(" [revoked]");
    }
    if i.deprecated {
        s.push_str(" [deprecated]");
    }
    s
}

fn ext(p: &Presence) -> String {
    p.info()
        .and_then(|i| i.external_id.clone())
        .unwrap_or_default()
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let ids = super::get::resolve(store.as_ref(), &args.id, args.all)?;
    let graph = Graph::new(store.as_ref(), None);
    let mut found = Vec::new();
    for id in &ids {
        match graph.presence(id).map_err(graph_failure)? {
            Presence::Present(info) => found.push((id.clone(), info)),
            Presence::Missing => {}
        }
    }
    if found.is_empty() {
        eprintln!("sightline: no object {:?}", args.id);
        return Ok(Outcome::Findings);
    }
    let io = |e: std::io::Error| Failure::Other(e.into());
    if args.depth == 1 {
        let q = NeighbourQuery {
            direction: Some(match args.direction {
                Dir::Out => Direction::Out,
                Dir::In => Direction::In,
                Dir::Both => Direction::Both,
            }),
            edge_types: args.types.clone(),
            target_types: args.target_type.clone(),
        };
        let mut results: Vec<(String, NodeInfo, Vec<Neighbour>)> = Vec::new();
        for (id, info) in found {
            let n = graph.neighbours(&id, &q).map_err(graph_failure)?;
            results.push((id, info, n));
        }
        with_stdout(|w| {
            if args.json {
                let v: Vec<_> = results
                    .iter()
                    .map(|(id, info, n)| json!({"id": id, "object": info, "neighbours": n}))
                    .collect();
                serde_json::to_writer(&mut *w, &v)?;
                return w.write_all(b"\n");
            }
            for (i, (id, info, ns)) in results.iter().enumerate() {
                if i > 0 {
                    writeln!(w)?;
                }
                if results.len() > 1 || ns.is_empty() {
                    writeln!(
                        w,
                        "{} {} ({id})",
                        sightline_graph::type_of_id(id),
                        marked(info)
                    )?;
                }
                if ns.is_empty() {
                    writeln!(w, "no neighbours")?;
                    continue;
                }
                let mut t = Table::new(&["", "RELATIONSHIP", "TYPE", "EXTERNAL ID", "NAME", "ID"]);
                for n in ns {
                    let arrow = match n.direction {
                        Direction::In => "<-",
                        _ => "->",
                    };
                    t.row(vec![
                        arrow.into(),
                        n.via.label().to_owned(),
                        n.ty.clone(),
                        ext(&n.presence),
                        label(&n.presence),
                        n.id.clone(),
                    ]);
                }
                t.write(w)?;
                let missing = ns
                    .iter()
                    .filter(|n| n.presence == Presence::Missing)
                    .count();
                let distinct: std::collections::BTreeSet<&str> =
                    ns.iter().map(|n| n.id.as_str()).collect();
                write!(w, "{} links to {} objects", ns.len(), distinct.len())?;
                if missing > 0 {
                    write!(w, " ({missing} not in the store)")?;
                }
                writeln!(w)?;
                // The graph follows at most REFERRER_LIMIT objects referring to one.
                let referrers: std::collections::BTreeSet<&str> = ns
                    .iter()
                    .filter(|n| {
                        n.direction == Direction::In
                            && matches!(&n.via, Via::Property { name } if name != "sighting_of_ref")
                    })
                    .map(|n| n.id.as_str())
                    .collect();
                if referrers.len() >= sightline_graph::REFERRER_LIMIT {
                    writeln!(
                        w,
                        "(only the first {} objects referring to it are listed)",
                        sightline_graph::REFERRER_LIMIT
                    )?;
                }
            }
            Ok(())
        })
        .map_err(io)?;
        return Ok(Outcome::Ok);
    }
    let q = NeighbourhoodQuery {
        depth: args.depth,
        types: args.target_type.clone(),
        edge_types: args.types.clone(),
        follow_meta: false,
        node_limit: args.limit,
    };
    let mut results = Vec::new();
    for (id, _) in &found {
        results.push(graph.neighbourhood(id, &q).map_err(graph_failure)?);
    }
    with_stdout(|w| {
        if args.json {
            serde_json::to_writer(&mut *w, &results)?;
            return w.write_all(b"\n");
        }
        for (i, g) in results.iter().enumerate() {
            if i > 0 {
                writeln!(w)?;
            }
            let mut t = Table::new(&["DEPTH", "TYPE", "EXTERNAL ID", "NAME", "ID"]).right(0);
            for n in &g.nodes {
                t.row(vec![
                    n.depth.to_string(),
                    n.ty.clone(),
                    ext(&n.presence),
                    label(&n.presence),
                    n.id.clone(),
                ]);
            }
            t.write(w)?;
            write!(w, "{} nodes, {} edges", g.nodes.len(), g.edges.len())?;
            if g.truncated {
                write!(w, " (truncated at {} nodes: --limit)", args.limit)?;
            }
            writeln!(w)?;
        }
        Ok(())
    })
    .map_err(io)?;
    Ok(Outcome::Ok)
}

pub fn matrix(data: &Path, args: MatrixArgs) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let ids = super::get::resolve(store.as_ref(), &args.id, false)?;
    let graph = Graph::new(store.as_ref(), None);
    let mut results = Vec::new();
    for id in &ids {
        match graph.attack_matrix(id) {
            Ok(m) => results.push(m),
            // One of several objects citing the id may not be a subject.
            Err(GraphError::Invalid(e)) if ids.len() > 1 => tracing::debug!("{e}"),
            Err(GraphError::NotFound(_)) => {}
            Err(e) => return Err(graph_failure(e)),
        }
    }
    if results.is_empty() {
        eprintln!("sightline: no object {:?}", args.id);
        return Ok(Outcome::Findings);
    }
    with_stdout(|w| {
        if args.json {
            serde_json::to_writer(&mut *w, &results)?;
            return w.write_all(b"\n");
        }
        for (i, m) in results.iter().enumerate() {
            if i > 0 {
                writeln!(w)?;
            }
            let mut t = Table::new(&["TACTIC", "TECHNIQUE", "NAME", "PATHS"]);
            for tactic in &m.tactics {
                let phase = if tactic.phase.is_empty() {
                    "(no tactic)"
                } else {
                    tactic.phase.as_str()
                };
                for tech in &tactic.techniques {
                    let mut name = tech.name.clone().unwrap_or_default();
                    if tech.revoked {
                        name.push_str(" [revoked]");
                    }
                    if tech.deprecated {
                        name.push_str(" [deprecated]");
                    }
                    let paths: Vec<String> = tech.paths.iter().map(|p| p.describe()).collect();
                    t.row(vec![
                        phase.to_owned(),
                        tech.external_id.clone().unwrap_or_else(|| tech.id.clone()),
                        name,
                        paths.join("; "),
                    ]);
                }
            }
            t.write(w)?;
            writeln!(
                w,
                "{} techniques in {} tactics for {} {}",
                m.technique_count,
                m.tactics.len(),
                m.subject_type,
                m.subject_name.as_deref().unwrap_or(&m.subject)
            )?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}
