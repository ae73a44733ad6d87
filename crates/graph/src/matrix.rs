//! The ATT&CK matrix of a subject: the techniques (attack patterns) it is
//! linked to, by tactic (the `kill_chain_phases` of the technique, STIX 2.1
//! §3.4 / ATT&CK's `mitre-attack` kill chain), each with the paths that link
//! it to the subject:
//! - direct: subject `uses` technique;
//! - via a campaign (or, for a threat actor, an intrusion set or campaign)
//!   `attributed-to` the subject, which `uses` the technique;
//! - via malware or a tool the subject (or such a campaign) `uses`, which
//!   `uses` the technique.
//!
//! At most three hops; each object expanded costs one `relationships_of`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::{type_of_id, Graph, GraphError, Obj, Result};

/// Subject types a matrix can be built for.
pub const SUBJECT_TYPES: [&str; 4] = ["intrusion-set", "threat-actor", "campaign", "malware"];

/// ATT&CK Enterprise's tactic order (its matrix's columns); other phases
/// follow, by name.
const TACTIC_ORDER: [&str; 14] = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// An object on a path, between the subject and the technique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Step {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub name: Option<String>,
}

/// How one technique is linked to the subject: the objects in between
/// (empty: the subject uses it directly).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TechniquePath {
    pub via: Vec<Step>,
}

impl TechniquePath {
    /// "direct", "via campaign Operation Dream Job", "via malware Bankshot", …
    pub fn describe(&self) -> String {
        if self.via.is_empty() {
            return "direct".into();
        }
        let hops: Vec<String> = self
            .via
            .iter()
            .map(|s| format!("{} {}", s.ty, s.name.as_deref().unwrap_or(&s.id)))
            .collect();
        format!("via {}", hops.join(" > "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixTechnique {
    pub id: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub revoked: bool,
    pub deprecated: bool,
    pub paths: Vec<TechniquePath>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tactic {
    /// The kill-chain phase name (`initial-access`); "" for techniques with none.
    pub phase: String,
    pub techniques: Vec<MatrixTechnique>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttackMatrix {
    pub subject: String,
    pub subject_type: String,
    pub subject_name: Option<String>,
    pub tactics: Vec<Tactic>,
    /// Distinct techniques (one may sit under several tactics).
    pub technique_count: usize,
}

impl Graph<'_> {
    /// `(relationship type, other end)` of the visible, unrevoked relationships
    /// going out of (`out`) or into `id`.
    fn edges(&self, id: &str, out: bool) -> Result<Vec<(String, String)>> {
        let mut v = Vec::new();
        for r in self.relationships(id)? {
            if r.ty != "relationship" || r.revoked() {
                continue;
            }
            let (me, other) = if out {
                ("source_ref", "target_ref")
            } else {
                ("target_ref", "source_ref")
            };
            if r.str(me) == Some(id) {
                if let (Some(t), Some(o)) = (r.str("relationship_type"), r.str(other)) {
                    v.push((t.to_owned(), o.to_owned()));
                }
            }
        }
        Ok(v)
    }

    /// The ATT&CK matrix of `subject` (see the module docs).
    pub fn attack_matrix(&self, subject: &str) -> Result<AttackMatrix> {
        let subj = self.load_one(subject)?;
        if !SUBJECT_TYPES.contains(&subj.ty.as_str()) {
            return Err(GraphError::Invalid(format!(
                "an ATT&CK matrix is for an intrusion-set, threat-actor, campaign or malware; {subject} is a {}",
                subj.ty
            )));
        }
        // Technique id -> paths (the objects in between).
        let mut found: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        // Who acts for the subject: itself, and what is attributed to it.
        let mut actors: Vec<Vec<String>> = vec![Vec::new()];
        let attributable: &[&str] = match subj.ty.as_str() {
            "threat-actor" => &["campaign", "intrusion-set"],
            "intrusion-set" => &["campaign"],
            _ => &[],
        };
        for (rtype, other) in self.edges(subject, false)? {
            if rtype == "attributed-to" && attributable.contains(&type_of_id(&other)) {
                actors.push(vec![other]);
            }
        }
        actors.sort();
        actors.dedup();
        let mut software: Vec<Vec<String>> = Vec::new();
        for path in &actors {
            let at = path.last().map_or(subject, String::as_str);
            for (rtype, other) in self.edges(at, true)? {
                if rtype != "uses" {
                    continue;
                }
                match type_of_id(&other) {
                    "attack-pattern" => found.entry(other).or_default().push(path.clone()),
                    "malware" | "tool" if other != subject => {
                        let mut p = path.clone();
                        p.push(other);
                        software.push(p);
                    }
                    _ => {}
                }
            }
        }
        software.sort();
        software.dedup();
        // One read of each piece of software, whichever paths lead to it.
        let mut software_uses: HashMap<String, Vec<String>> = HashMap::new();
        for path in &software {
            let Some(sw) = path.last() else { continue };
            if !software_uses.contains_key(sw) {
                let uses = self
                    .edges(sw, true)?
                    .into_iter()
                    .filter(|(t, o)| t == "uses" && type_of_id(o) == "attack-pattern")
                    .map(|(_, o)| o)
                    .collect();
                software_uses.insert(sw.clone(), uses);
            }
            for t in software_uses.get(sw).into_iter().flatten() {
                found.entry(t.clone()).or_default().push(path.clone());
            }
        }
        // Read the techniques and everything on the paths, once.
        let mut ids: Vec<String> = found.keys().cloned().collect();
        ids.extend(found.values().flatten().flatten().cloned());
        let objs = self.load(&ids)?;
        let step = |id: &String| Step {
            id: id.clone(),
            ty: type_of_id(id).to_owned(),
            name: objs.get(id).and_then(|o| o.info().name),
        };
        let mut by_phase: BTreeMap<(usize, String), Vec<MatrixTechnique>> = BTreeMap::new();
        let mut technique_count = 0;
        for (tid, mut paths) in found {
            // A technique the caller may not read is left out.
            let Some(t) = objs.get(&tid) else { continue };
            technique_count += 1;
            paths.sort();
            paths.dedup();
            let info = t.info();
            let entry = MatrixTechnique {
                id: tid.clone(),
                name: info.name,
                external_id: info.external_id,
                revoked: info.revoked,
                deprecated: info.deprecated,
                paths: paths
                    .iter()
                    .map(|p| TechniquePath {
                        via: p.iter().map(step).collect(),
                    })
                    .collect(),
            };
            for phase in phases(t) {
                let rank = TACTIC_ORDER
                    .iter()
                    .position(|p| *p == phase)
                    .unwrap_or(TACTIC_ORDER.len());
                by_phase
                    .entry((rank, phase))
                    .or_default()
                    .push(entry.clone());
            }
        }
        let tactics = by_phase
            .into_iter()
            .map(|((_, phase), mut techniques)| {
                techniques.sort_by(|a, b| {
                    (&a.external_id, &a.name, &a.id).cmp(&(&b.external_id, &b.name, &b.id))
                });
                Tactic { phase, techniques }
            })
            .collect();
        Ok(AttackMatrix {
            subject: subject.to_owned(),
            subject_type: subj.ty.clone(),
            subject_name: subj.info().name,
            tactics,
            technique_count,
        })
    }
}

/// The ATT&CK kill-chain phases of a technique (its other kill chains' when
/// it has no ATT&CK one; "" when it has none).
fn phases(t: &Obj) -> Vec<String> {
    let all: Vec<(&str, &str)> = t
        .json
        .get("kill_chain_phases")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|k| {
                    Some((
                        k.get("kill_chain_name")?.as_str()?,
                        k.get("phase_name")?.as_str()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let attack = all.iter().any(|(c, _)| c.starts_with("mitre-"));
    let mut v: Vec<String> = all
        .iter()
        .filter(|(c, _)| !attack || c.starts_with("mitre-"))
        .map(|(_, p)| (*p).to_owned())
        .collect();
    if v.is_empty() {
        v.push(String::new());
    }
    v.sort();
    v.dedup();
    v
}
