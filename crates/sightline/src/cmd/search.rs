//! `sightline search TEXT [--limit N] [--json]`

use std::path::Path;

use serde_json::json;
use sightline_graph::Graph;
use sightline_store::SearchHit;

use crate::output::with_stdout;
use crate::table::Table;
use crate::{Failure, Outcome};

/// Beyond the hits shown, matches are counted up to this many ("N more").
const COUNT_MORE: usize = 10_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Words to find in names, aliases and descriptions (all must match; prefixes count).
    #[arg(required = true)]
    text: Vec<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// One JSON object: the hits and how many more matched.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let text = args.text.join(" ");
    // One query, counting what lies beyond the limit (up to COUNT_MORE).
    let mut hits = store.search(&text, args.limit.saturating_add(COUNT_MORE))?;
    let capped = hits.len() == args.limit.saturating_add(COUNT_MORE);
    // An external id (`T1566`, `G0032`, `CVE-…`) finds the objects it names
    // first, then what the text search finds.
    if args.text.len() == 1 && !text.contains("--") {
        let named = super::get::resolve(store.as_ref(), &text, false)?;
        if !named.is_empty() {
            hits.retain(|h| !named.contains(&h.id));
            let graph = Graph::new(store.as_ref(), None);
            let found = graph
                .infos(&named)
                .map_err(|e| Failure::Store(e.to_string()))?;
            let first: Vec<SearchHit> = named
                .iter()
                .filter_map(|id| {
                    found.get(id).map(|i| SearchHit {
                        id: id.clone(),
                        ty: sightline_graph::type_of_id(id).to_owned(),
                        name: i.name.clone(),
                        rank: f64::MIN,
                    })
                })
                .collect();
            hits.splice(0..0, first);
        }
    }
    let more = hits.len().saturating_sub(args.limit);
    hits.truncate(args.limit);
    let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    let infos = Graph::new(store.as_ref(), None)
        .infos(&ids)
        .map_err(|e| Failure::Store(e.to_string()))?;
    with_stdout(|w| {
        if args.json {
            let list: Vec<_> = hits
                .iter()
                .map(|h| {
                    let i = infos.get(&h.id);
                    json!({
                        "id": h.id, "type": h.ty, "name": h.name,
                        "external_id": i.and_then(|i| i.external_id.clone()),
                        "revoked": i.is_some_and(|i| i.revoked),
                        "deprecated": i.is_some_and(|i| i.deprecated),
                    })
                })
                .collect();
            let v = json!({"hits": list, "more": more, "more_is_at_least": capped});
            serde_json::to_writer(&mut *w, &v)?;
            return w.write_all(b"\n");
        }
        if hits.is_empty() {
            return Ok(());
        }
        let mut t = Table::new(&["TYPE", "EXTERNAL ID", "NAME", "ID"]);
        for h in &hits {
            let i = infos.get(&h.id);
            let mut name = h.name.clone().unwrap_or_default();
            if i.is_some_and(|i| i.revoked) {
                name.push_str(" [revoked]");
            }
            if i.is_some_and(|i| i.deprecated) {
                name.push_str(" [deprecated]");
            }
            t.row(vec![
                h.ty.clone(),
                i.and_then(|i| i.external_id.clone()).unwrap_or_default(),
                name,
                h.id.clone(),
            ]);
        }
        t.write(w)?;
        if more > 0 {
            let plus = if capped { "+" } else { "" };
            writeln!(
                w,
                "… {more}{plus} more (`--limit {}` shows them)",
                args.limit + more
            )?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(if hits.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
