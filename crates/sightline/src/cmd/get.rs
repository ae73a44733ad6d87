//! `sightline get ID|EXTERNAL_ID [--all] [--versions] [--json]`

use std::path::Path;

use serde_json::value::RawValue;
use serde_json::{json, Value};
use sightline_graph::Graph;
use sightline_stix::StixId;
use sightline_store::{ObjectQuery, Store, StoredObject, VersionFilter};

use crate::output::with_stdout;
use crate::table::{pretty_json, Table};
use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A STIX id (`intrusion-set--…`) or an external id (`G0032`, `CVE-2017-0144`).
    id: String,
    /// Every object citing the external id, not only those it names (an
    /// ATT&CK group id names intrusion sets, not the campaigns citing it).
    #[arg(long)]
    all: bool,
    /// Print every stored version, oldest first, as stored (one after the other).
    #[arg(long)]
    versions: bool,
    /// One JSON array: per object its latest version (as stored), version count
    /// and relationship counts by type.
    #[arg(long)]
    json: bool,
    /// With --json: a config file (as `serve --config`) whose `[lifecycle]`
    /// section scores indicators (default: built in).
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
}

/// The objects `input` stands for: a STIX id itself; for an external id the
/// objects it names (its kind fits their type, e.g. `G0032` an intrusion set:
/// `sightline_interchange::merge::named_types`), else, or with `all`, every
/// object citing it. Sorted.
pub fn resolve(store: &dyn Store, input: &str, all: bool) -> Result<Vec<String>, Failure> {
    if StixId::parse(input).is_ok() {
        return Ok(vec![input.to_owned()]);
    }
    let ids = store.lookup_external_id(input)?;
    if all {
        return Ok(ids);
    }
    let objs = latest(store, &ids)?;
    let named: Vec<String> = objs
        .iter()
        .filter(|o| names(o, input))
        .map(|o| o.id.clone())
        .collect();
    Ok(if named.is_empty() { ids } else { named })
}

/// Whether the object's own external references name it by `ext`.
fn names(o: &StoredObject, ext: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(&o.raw) else {
        return false;
    };
    v.get("external_references")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                let s = |k: &str| r.get(k).and_then(Value::as_str);
                s("external_id").is_some_and(|e| e.eq_ignore_ascii_case(ext))
                    && s("source_name").is_some_and(|src| {
                        sightline_interchange::merge::named_types(src, ext)
                            .is_some_and(|t| t.contains(&o.ty.as_str()))
                    })
            })
        })
}

/// The latest version of each id, in id order.
fn latest(store: &dyn Store, ids: &[String]) -> Result<Vec<StoredObject>, Failure> {
    let mut out = Vec::new();
    for id in ids {
        let q = ObjectQuery {
            ids: vec![id.clone()],
            versions: VersionFilter::last(),
            limit: 1,
            ..ObjectQuery::default()
        };
        out.extend(store.query(&q)?.items);
    }
    Ok(out)
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let ids = resolve(store.as_ref(), &args.id, args.all)?;
    let io = |e: std::io::Error| Failure::Other(e.into());
    if args.versions {
        let mut objects = Vec::new();
        for id in &ids {
            objects.extend(store.versions(id, None)?);
        }
        if objects.is_empty() {
            eprintln!("sightline: no object {:?}", args.id);
            return Ok(Outcome::Findings);
        }
        with_stdout(|w| {
            if args.json {
                let raws: Vec<&RawValue> = objects.iter().filter_map(|o| raw(&o.raw)).collect();
                serde_json::to_writer(&mut *w, &raws)?;
                return w.write_all(b"\n");
            }
            for o in &objects {
                w.write_all(o.raw.as_bytes())?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })
        .map_err(io)?;
        return Ok(Outcome::Ok);
    }
    let objects = latest(store.as_ref(), &ids)?;
    if objects.is_empty() {
        eprintln!("sightline: no object {:?}", args.id);
        return Ok(Outcome::Findings);
    }
    let graph = Graph::new(store.as_ref(), None);
    let mut shown = Vec::new();
    // Indicators' effective scores now (issue 16), beside the stored object.
    let lifecycle = super::evaluator(args.config.as_deref())?;
    let now = super::verdict::now_micros();
    let mut scores = Vec::new();
    for o in &objects {
        let versions = store.versions(&o.id, None)?.len();
        let counts = graph
            .relationship_counts(&o.id)
            .map_err(|e| Failure::Store(e.to_string()))?;
        shown.push((o, versions, counts));
        if args.json {
            scores.push(sightline_lifecycle::verdict::score_of_stored(
                store.as_ref(),
                &lifecycle,
                &o.raw,
                now,
            )?);
        }
    }
    with_stdout(|w| {
        if args.json {
            let list: Vec<Value> = shown
                .iter()
                .zip(&scores)
                .map(|((o, versions, counts), score)| {
                    let rels: Vec<Value> = counts
                        .iter()
                        .map(|(t, out, inn)| json!({"type": t, "out": out, "in": inn}))
                        .collect();
                    let mut v =
                        json!({"object": raw(&o.raw), "versions": versions, "relationships": rels});
                    if let Some(s) = score {
                        v["x_sightline_score"] = s.clone();
                    }
                    v
                })
                .collect();
            serde_json::to_writer(&mut *w, &list)?;
            return w.write_all(b"\n");
        }
        for (i, (o, versions, counts)) in shown.iter().enumerate() {
            if i > 0 {
                writeln!(w)?;
            }
            writeln!(w, "{}", pretty_json(&o.raw))?;
            if *versions > 1 {
                writeln!(
                    w,
                    "\n{versions} versions (`sightline get {} --versions` prints them)",
                    o.id
                )?;
            }
            if !counts.is_empty() {
                writeln!(w)?;
                let mut t = Table::new(&["RELATIONSHIP", "OUT", "IN"]).right(1).right(2);
                for (ty, out, inn) in counts {
                    t.row(vec![ty.clone(), out.to_string(), inn.to_string()]);
                }
                t.write(w)?;
                writeln!(w, "(`sightline related {}` lists them)", o.id)?;
            }
        }
        Ok(())
    })
    .map_err(io)?;
    Ok(Outcome::Ok)
}

/// The stored text as a JSON value, byte for byte (stored objects are JSON).
fn raw(s: &str) -> Option<&RawValue> {
    serde_json::from_str(s).ok()
}
