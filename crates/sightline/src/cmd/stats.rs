//! `sightline stats [--json]`

use std::path::Path;

use serde_json::json;

use crate::output::with_stdout;
use crate::table::Table;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let s = store.stats()?;
    with_stdout(|w| {
        if args.json {
            let by_type: serde_json::Map<String, serde_json::Value> = s
                .by_type
                .iter()
                .map(|(t, n)| (t.clone(), json!(n)))
                .collect();
            let v = json!({
                "objects": s.objects, "versions": s.versions, "revoked": s.revoked,
                "collections": s.collections, "by_type": by_type,
            });
            serde_json::to_writer(&mut *w, &v)?;
            return w.write_all(b"\n");
        }
        writeln!(w, "objects      {}", s.objects)?;
        writeln!(w, "versions     {}", s.versions)?;
        writeln!(w, "revoked      {}", s.revoked)?;
        writeln!(w, "collections  {}", s.collections)?;
        if !s.by_type.is_empty() {
            writeln!(w)?;
            let mut t = Table::new(&["TYPE", "OBJECTS"]).right(1);
            for (ty, n) in &s.by_type {
                t.row(vec![ty.clone(), n.to_string()]);
            }
            t.write(w)?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}
