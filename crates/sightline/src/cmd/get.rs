//! `sightline get ID|EXTERNAL_ID [--versions]`

use std::path::Path;

use sightline_stix::StixId;
use sightline_store::{ObjectQuery, VersionFilter};

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A STIX id (`intrusion-set--…`) or an external id (`G0032`, `CVE-2017-0144`).
    id: String,
    /// Print every stored version, oldest first, not only the latest.
    #[arg(long)]
    versions: bool,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let store = super::open_existing_store(data)?;
    let ids = if StixId::parse(&args.id).is_ok() {
        vec![args.id.clone()]
    } else {
        store.lookup_external_id(&args.id)?
    };
    let mut objects = Vec::new();
    for id in &ids {
        if args.versions {
            objects.extend(store.versions(id, None)?);
        } else {
            let q = ObjectQuery {
                ids: vec![id.clone()],
                versions: VersionFilter::last(),
                limit: 1,
                ..ObjectQuery::default()
            };
            objects.extend(store.query(&q)?.items);
        }
    }
    if objects.is_empty() {
        eprintln!("sightline: no object {:?}", args.id);
        return Ok(Outcome::Findings);
    }
    with_stdout(|w| {
        for o in &objects {
            w.write_all(o.raw.as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}
