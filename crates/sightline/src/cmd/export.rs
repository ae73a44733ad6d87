//! `sightline export [--type T] [--collection C] [--all-versions] [--since T] [-o FILE]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sightline_interchange::{export_bundle, ExportError};
use sightline_store::{parse_date_added, ObjectQuery, VersionFilter};

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only objects of this type (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Only objects in this collection (id or alias).
    #[arg(long)]
    collection: Option<String>,
    /// Every stored version, not only the latest of each object.
    #[arg(long)]
    all_versions: bool,
    /// Only versions stored after this time (RFC 3339, e.g. 2026-01-01T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Write to FILE instead of standard output (written to FILE.tmp, then renamed).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let added_after = match &args.since {
        Some(s) => Some(parse_date_added(s).ok_or_else(|| {
            Failure::Input(format!(
                "--since {s:?}: not an RFC 3339 UTC time like 2026-01-01T00:00:00Z"
            ))
        })?),
        None => None,
    };
    let store = super::open_existing_store(data)?;
    for t in &args.types {
        check_type(store.as_ref(), t)?;
    }
    if let Some(c) = &args.collection {
        if store.collection(c)?.is_none() {
            return Err(Failure::Input(format!(
                "--collection {c:?}: no such collection"
            )));
        }
    }
    let q = ObjectQuery {
        collection: args.collection.clone(),
        types: args.types.clone(),
        versions: if args.all_versions {
            VersionFilter::all()
        } else {
            VersionFilter::last()
        },
        added_after,
        ..ObjectQuery::default()
    };
    let fail = |e: ExportError| match e {
        ExportError::Store(s) => Failure::Store(s.to_string()),
        ExportError::Io(e) => Failure::Other(e.into()),
    };
    let n = match &args.output {
        None => {
            // Stays None when the reader went away (`export | head`).
            let mut n = None;
            with_stdout(|w| {
                n = Some(export_bundle(store.as_ref(), &q, w).map_err(|e| match e {
                    ExportError::Io(e) => e,
                    ExportError::Store(s) => std::io::Error::other(s),
                })?);
                Ok(())
            })
            .map_err(|e| Failure::Store(e.to_string()))?;
            n
        }
        Some(path) => {
            // Never leave a half-written export under the final name.
            let tmp = path.with_extension("tmp");
            let f = File::create(&tmp)
                .map_err(|e| Failure::Other(anyhow::anyhow!("{}: {e}", tmp.display())))?;
            let mut w = BufWriter::with_capacity(1 << 16, f);
            let n = export_bundle(store.as_ref(), &q, &mut w).map_err(fail)?;
            w.into_inner()
                .map_err(|e| Failure::Other(anyhow::anyhow!("{}: {}", tmp.display(), e.error())))?
                .sync_all()
                .map_err(|e| Failure::Other(anyhow::anyhow!("{}: {e}", tmp.display())))?;
            std::fs::rename(&tmp, path)
                .map_err(|e| Failure::Other(anyhow::anyhow!("{}: {e}", path.display())))?;
            Some(n)
        }
    };
    if let Some(n) = n {
        eprintln!("sightline: exported {n} objects");
    }
    let _ = std::io::stderr().flush();
    Ok(Outcome::Ok)
}

/// A `--type` that is neither a STIX 2.1 type nor one the store holds (a
/// custom type such as `x-mitre-tactic`) is a typo: an empty bundle with exit
/// 0 would hide it (issue 17 §4).
fn check_type(store: &dyn sightline_store::Store, t: &str) -> Result<(), Failure> {
    use sightline_stix::object::{DOMAIN_TYPES, META_TYPES, OBSERVABLE_TYPES, RELATIONSHIP_TYPES};
    let spec_types = || {
        DOMAIN_TYPES
            .iter()
            .chain(&RELATIONSHIP_TYPES)
            .chain(&OBSERVABLE_TYPES)
            .chain(&META_TYPES)
    };
    if spec_types().any(|k| *k == t) {
        return Ok(());
    }
    let probe = ObjectQuery {
        types: vec![t.to_owned()],
        versions: VersionFilter::all(),
        limit: 1,
        ..ObjectQuery::default()
    };
    if !store.query(&probe)?.items.is_empty() {
        return Ok(());
    }
    let normalized = t.to_ascii_lowercase().replace('_', "-");
    let best = spec_types()
        .map(|k| (strsim::levenshtein(&normalized, k), *k))
        .min()
        .filter(|(d, _)| *d <= 3);
    Err(Failure::Input(match best {
        Some((_, k)) => {
            format!("--type {t:?}: not a STIX 2.1 type and none stored; did you mean {k:?}?")
        }
        None => format!("--type {t:?}: not a STIX 2.1 type and no object of it is stored"),
    }))
}
