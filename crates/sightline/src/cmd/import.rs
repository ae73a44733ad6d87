//! `sightline import FILE... [--collection C] [--strict] [--merge-by external-id]`, `sightline import --demo`

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use sightline_interchange::{import, read_input, ImportOptions, ImportReport, Input, MergeBy};
use sightline_store::CollectionInfo;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

/// The Bureau 121 knowledge pack, built into the binary.
pub const BUREAU_121_PACK: &str = include_str!("../../../../packs/bureau-121.json");

/// Inputs above this size get a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: usize = 4 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bundles, objects, JSON arrays or JSON Lines; gzip is detected. `-` reads standard input.
    #[arg(required_unless_present = "demo")]
    files: Vec<String>,
    /// Also add every imported version to this collection (id or alias; created when missing).
    #[arg(long)]
    collection: Option<String>,
    /// Reject the whole import if any object is invalid.
    #[arg(long)]
    strict: bool,
    /// Load the built-in Bureau 121 knowledge pack (into collection `demo` unless --collection is given).
    #[arg(long)]
    demo: bool,
    /// Reject objects whose JSON text is longer than this many bytes.
    #[arg(long, default_value_t = sightline_interchange::DEFAULT_MAX_OBJECT_BYTES)]
    max_object_bytes: usize,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// After the import, link objects from different sources that name the same
    /// ATT&CK or CVE entity (`related-to`, created by Sightline; objects are never changed).
    #[arg(long, value_enum)]
    merge_by: Option<MergeByArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MergeByArg {
    /// ATT&CK (G/S/T/C/M/TA ids of source mitre-*-attack) and CVE ids.
    ExternalId,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let mut inputs = args
        .files
        .iter()
        .map(|f| read_input(f))
        .collect::<Result<Vec<Input>, _>>()?;
    let mut collection = args.collection.clone();
    if args.demo {
        inputs.push(Input {
            name: "packs/bureau-121.json (built in)".into(),
            bytes: BUREAU_121_PACK.as_bytes().to_vec(),
        });
        collection.get_or_insert_with(|| "demo".to_owned());
    }
    let store = super::open_store(data)?;
    if let Some(c) = &collection {
        ensure_collection(store.as_ref(), c)?;
    }
    let total: usize = inputs.iter().map(|i| i.bytes.len()).sum();
    let bar = if total >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} {pos} objects {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Some(b)
    } else {
        None
    };
    let progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let opts = ImportOptions {
        collection,
        strict: args.strict,
        max_object_bytes: args.max_object_bytes,
        merge_by: args
            .merge_by
            .map(|MergeByArg::ExternalId| MergeBy::ExternalId),
    };
    let report = import(
        store.as_ref(),
        &crate::cmd::validator(),
        &inputs,
        &opts,
        &progress,
    )
    .map_err(|e| match e {
        sightline_interchange::ImportError::Read(r) => Failure::Input(r.to_string()),
        sightline_interchange::ImportError::Store(s) => Failure::Store(s.to_string()),
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    tracing::debug!("import committed");
    drop(store);
    tracing::debug!("store closed");
    print_report(&report, args.json, args.strict).map_err(|e| Failure::Other(e.into()))?;
    // A conflict was not stored, as a rejection was not: both are findings.
    Ok(
        if report.rejected_count() == 0 && report.conflict_count() == 0 {
            Outcome::Ok
        } else {
            Outcome::Findings
        },
    )
}

fn ensure_collection(store: &dyn sightline_store::Store, c: &str) -> Result<(), Failure> {
    if store.collection(c)?.is_none() {
        let info = CollectionInfo {
            id: uuid_v4(),
            title: c.to_owned(),
            description: None,
            alias: Some(c.to_owned()),
            media_types: vec!["application/stix+json;version=2.1".to_owned()],
        };
        store.create_collection(&info)?;
        eprintln!("sightline: created collection {c} ({})", info.id);
    }
    Ok(())
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn print_report(r: &ImportReport, as_json: bool, strict: bool) -> std::io::Result<()> {
    with_stdout(|w| {
        if as_json {
            let rejections: Vec<_> = r
                .rejections
                .iter()
                .map(|x| json!({"file": x.file, "index": x.index, "line": x.line, "id": x.id, "errors": x.errors}))
                .collect();
            let conflicts: Vec<_> = r
                .conflict_ids
                .iter()
                .map(|(id, v)| json!({"id": id, "version": v}))
                .collect();
            let files: Vec<_> = r
                .files
                .iter()
                .map(|f| json!({"file": f.name, "objects": f.objects, "new": f.new, "duplicate": f.duplicate, "conflicts": f.conflicts, "rejected": f.rejected, "warnings": f.warnings}))
                .collect();
            let mut summary = json!({
                "objects": r.object_count(), "new": r.new_count(), "duplicate": r.duplicate_count(),
                "conflicts": r.conflict_count(), "conflict_ids": conflicts,
                "rejected": r.rejected_count(), "committed": r.committed, "files": files, "rejections": rejections,
            });
            if let Some(m) = &r.merge {
                let links: Vec<_> = m
                    .linked
                    .iter()
                    .map(|(rel, a, b, ext)| json!({"relationship": rel, "source_ref": a, "target_ref": b, "external_id": ext}))
                    .collect();
                summary["merge"] = json!({"linked": links, "already_linked": m.already_linked});
            }
            serde_json::to_writer(&mut *w, &summary)?;
            return w.write_all(b"\n");
        }
        for x in &r.rejections {
            let place = match x.line {
                Some(l) => format!("line {l}"),
                None => format!("object #{}", x.index),
            };
            writeln!(
                w,
                "{}: {place} {}: rejected",
                x.file,
                x.id.as_deref().unwrap_or("(no id)")
            )?;
            for e in &x.errors {
                writeln!(w, "  {e}")?;
            }
        }
        for f in &r.files {
            writeln!(
                w,
                "{}: {} objects: {} new, {} duplicate, {} conflicts, {} rejected",
                f.name, f.objects, f.new, f.duplicate, f.conflicts, f.rejected
            )?;
        }
        if r.conflict_count() > 0 {
            // Never stored: the collection (or the store) keeps the content it had.
            let shown: Vec<String> = r
                .conflict_ids
                .iter()
                .map(|(id, v)| match v {
                    Some(v) => format!("{id} ({v})"),
                    None => id.clone(),
                })
                .collect();
            let more = if r.conflict_count() > shown.len() as u64 {
                ", …"
            } else {
                ""
            };
            writeln!(
                w,
                "{} conflicts (other content under an id and version already stored there, not imported): {}{more}",
                r.conflict_count(),
                shown.join(", ")
            )?;
        }
        if let Some(m) = &r.merge {
            for (rel, a, b, ext) in &m.linked {
                writeln!(w, "linked {a} and {b} (both {ext}): {rel}")?;
            }
            writeln!(
                w,
                "merge by external id: {} linked, {} already linked",
                m.linked.len(),
                m.already_linked
            )?;
        }
        if strict && !r.committed {
            writeln!(
                w,
                "--strict: {} invalid objects, nothing was imported",
                r.rejected_count()
            )?;
        } else if r.files.len() > 1 {
            writeln!(
                w,
                "total: {} new, {} duplicate, {} conflicts, {} rejected",
                r.new_count(),
                r.duplicate_count(),
                r.conflict_count(),
                r.rejected_count()
            )?;
        }
        Ok(())
    })
}
