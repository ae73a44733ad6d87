//! `sightline export [--format F] ...`: stored objects as one STIX bundle
//! (the default), or the active indicators in a sensor format
//! (`sightline-export`: Zeek Intel, Suricata rules or datasets, Sigma, CSV).
//!
//! Single-file formats go to standard output or `-o FILE` (written to
//! FILE.tmp, then renamed). `suricata-datasets` needs `-o DIR`; `sigma` writes
//! one rule per file into `-o DIR`, or one multi-document YAML stream to
//! standard output or `-o FILE.yml`. A directory is built beside DIR and swapped in whole, so
//! a sensor never loads half an export nor a stale rule of an indicator that
//! went inactive; a non-empty DIR that no export wrote is refused. The report
//! (parts not expressible in the format, suppressed values, inactive counts)
//! goes to standard error as well as into the output's head.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sightline_export::{Format, Lifecycle, Options};
use sightline_interchange::{export_bundle, ExportError};
use sightline_store::{parse_date_added, ObjectQuery, VersionFilter};

use crate::output::with_stdout;
use crate::{Failure, Outcome};

/// The file a directory export always holds (the sign that a directory is ours).
const MARKERS: [&str; 2] = ["sightline-report.txt", "sightline.rules"];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: stix (a bundle of stored objects), or the active
    /// indicators as zeek-intel, suricata, suricata-datasets (needs -o DIR),
    /// sigma (one rule per file with -o DIR, else one YAML stream: standard
    /// output or -o FILE.yml), csv.
    #[arg(long, default_value = "stix", value_name = "FORMAT", value_parser = ["stix", "zeek-intel", "suricata", "suricata-datasets", "sigma", "csv"])]
    format: String,
    /// Only objects of this type (repeatable; stix only).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Only objects in this collection (id or alias).
    #[arg(long)]
    collection: Option<String>,
    /// Every stored version, not only the latest of each object (stix only).
    #[arg(long)]
    all_versions: bool,
    /// Only versions stored after this time (RFC 3339, e.g. 2026-01-01T00:00:00Z; stix only).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Sensor formats: only indicators whose confidence is at least N (0-100);
    /// an indicator without one is left out.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    min_confidence: Option<u8>,
    /// Sensor formats: the instant indicators must be valid at (RFC 3339;
    /// default now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Sensor formats: the server's base URL; Zeek's meta.url and Sigma's
    /// references link BASE/ui/objects/ID.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Suricata: the first SID of the range rules take theirs from (up to
    /// 1999999, the end of the local range, or N+999999 above it).
    #[arg(long, value_name = "N", default_value_t = sightline_export::suricata::DEFAULT_SID_START)]
    sid_start: u32,
    #[command(flatten)]
    lists: super::warninglist::ListArgs,
    /// Sensor formats: leave out, too, what the indicator lifecycle says is
    /// not active at --at (a decayed score, a false-positive verdict), as
    /// the server's /feeds/ do: on (the default; a bare --lifecycle is on)
    /// or off (the STIX validity rules alone). The score is written either
    /// way (csv: score; suricata: metadata sightline_score).
    #[arg(long, value_name = "on|off", num_args = 0..=1, default_missing_value = "on", value_parser = ["on", "off"])]
    lifecycle: Option<String>,
    /// Sensor formats: a config file (as `serve --config`) whose
    /// `[lifecycle]` section sets the scoring rules (default: built in).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write to FILE (or DIR for suricata-datasets and sigma) instead of
    /// standard output (written beside it, then renamed).
    #[arg(short = 'o', long, value_name = "FILE|DIR")]
    output: Option<PathBuf>,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    match Format::parse(&args.format) {
        None => run_stix(data, args),
        Some(f) => run_sensor(data, args, f),
    }
}

fn run_stix(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let sensor_only = [
        ("--min-confidence", args.min_confidence.is_some()),
        ("--at", args.at.is_some()),
        ("--base-url", args.base_url.is_some()),
        (
            "--sid-start",
            args.sid_start != sightline_export::suricata::DEFAULT_SID_START,
        ),
        ("--no-warninglists", args.lists.no_warninglists),
        ("--warninglist", !args.lists.warninglist.is_empty()),
        ("--no-warninglist", !args.lists.no_warninglist.is_empty()),
        ("--lifecycle", args.lifecycle.is_some()),
        ("--config", args.config.is_some()),
    ];
    if let Some((flag, _)) = sensor_only.iter().find(|(_, set)| *set) {
        return Err(Failure::Input(format!(
            "{flag} applies to the sensor formats (--format zeek-intel, suricata, suricata-datasets, sigma, csv), not stix"
        )));
    }
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
    check_collection(store.as_ref(), args.collection.as_deref())?;
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
            let mut n = 0;
            write_file(path, |w| {
                n = export_bundle(store.as_ref(), &q, w).map_err(fail)?;
                Ok(())
            })?;
            Some(n)
        }
    };
    if let Some(n) = n {
        eprintln!("sightline: exported {n} objects");
    }
    let _ = std::io::stderr().flush();
    Ok(Outcome::Ok)
}

fn check_collection(store: &dyn sightline_store::Store, c: Option<&str>) -> Result<(), Failure> {
    if let Some(c) = c {
        if store.collection(c)?.is_none() {
            return Err(Failure::Input(format!(
                "--collection {c:?}: no such collection"
            )));
        }
    }
    Ok(())
}

/// Writes FILE.tmp through `f`, syncs it and renames it to FILE: never a
/// half-written export under the final name.
fn write_file(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let io = |p: &Path, e: &dyn std::fmt::Display| {
        Failure::Other(anyhow::anyhow!("{}: {e}", p.display()))
    };
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp).map_err(|e| io(&tmp, &e))?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    f(&mut w)?;
    w.into_inner()
        .map_err(|e| io(&tmp, e.error()))?
        .sync_all()
        .map_err(|e| io(&tmp, &e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, &e))
}

fn run_sensor(data: &Path, args: Args, format: Format) -> Result<Outcome, Failure> {
    let stix_only = [
        ("--type", !args.types.is_empty()),
        ("--all-versions", args.all_versions),
        ("--since", args.since.is_some()),
    ];
    if let Some((flag, _)) = stix_only.iter().find(|(_, set)| *set) {
        return Err(Failure::Input(format!(
            "{flag} applies to --format stix only (sensor formats take the latest version of each indicator)"
        )));
    }
    if format == Format::SuricataDatasets && args.output.is_none() {
        return Err(Failure::Input(
            "--format suricata-datasets writes several files: give -o DIR".into(),
        ));
    }
    let now = match &args.at {
        None => sightline_store::now_micros(),
        Some(t) => sightline_stix::Timestamp::parse(t)
            .map(|t| t.micros())
            .map_err(|e| Failure::Input(format!("--at {t:?}: {e}")))?,
    };
    let sid_end = if args.sid_start <= sightline_export::suricata::DEFAULT_SID_END {
        sightline_export::suricata::DEFAULT_SID_END
    } else {
        args.sid_start.saturating_add(999_999)
    };
    let lists = sightline_detect::lists::load(&super::warninglist::dir(data), &args.lists.choice())
        .map_err(|e| Failure::Input(e.to_string()))?;
    let store = super::open_existing_store(data)?;
    check_collection(store.as_ref(), args.collection.as_deref())?;
    let mut loaded = sightline_export::from_store(store.as_ref(), args.collection.as_deref())
        .map_err(|e| Failure::Store(e.to_string()))?;
    for e in &loaded.unreadable {
        eprintln!("sightline: skipped: {e}");
    }
    // The lifecycle's score at --at (sightings, verdicts, decay) of every
    // indicator: written in the output, and unless --lifecycle off, what
    // is not active is left out, as the sensor feeds do (issue 16 §1).
    let eval = super::evaluator(args.config.as_deref())?;
    sightline_export::lifecycle::score(store.as_ref(), &eval, &mut loaded.indicators, now)
        .map_err(|e| Failure::Store(e.to_string()))?;
    let filter = sightline_export::Scoring {
        stix: Lifecycle {
            now,
            min_confidence: args.min_confidence,
        },
        apply: args.lifecycle.as_deref() != Some("off"),
    };
    let opts = Options {
        base_url: args.base_url.as_deref(),
        sid_start: args.sid_start,
        sid_end,
        warninglists: (!lists.is_empty()).then_some(&lists),
        ..Options::default()
    };
    let out = sightline_export::export(format, &loaded.indicators, &filter, &opts).map_err(
        |e| match e {
            sightline_export::ExportError::Store(s) => Failure::Store(s.to_string()),
            e => Failure::Input(e.to_string()),
        },
    )?;
    // `sigma -o rules.yml`: the one-stream form in a file.
    let stream_file = format == Format::Sigma
        && args
            .output
            .as_deref()
            .is_some_and(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"));
    match (&args.output, format.is_directory()) {
        (Some(path), true) if stream_file => write_file(path, |w| {
            sightline_export::write_sigma_stream(&out, w).map_err(|e| Failure::Other(e.into()))
        })?,
        (None, false) => {
            with_stdout(|w| w.write_all(&out.files[0].1)).map_err(|e| Failure::Other(e.into()))?
        }
        (None, true) => with_stdout(|w| sightline_export::write_sigma_stream(&out, w))
            .map_err(|e| Failure::Other(e.into()))?,
        (Some(path), false) => write_file(path, |w| {
            w.write_all(&out.files[0].1)
                .map_err(|e| Failure::Other(e.into()))
        })?,
        (Some(dir), true) => write_dir(dir, &out.files)?,
    }
    // One buffered writer: a report of 100,000 lines is 100,000 writes otherwise.
    let r = &out.report;
    let mut e = std::io::BufWriter::new(std::io::stderr().lock());
    for (why, n) in &r.inactive {
        let _ = writeln!(e, "sightline: not active ({why}): {n} indicators");
    }
    for u in &r.unexpressed {
        let _ = writeln!(
            e,
            "sightline: not expressible: {}",
            sightline_export::one_line(&u.to_string())
        );
    }
    for u in &r.suppressed {
        let _ = writeln!(
            e,
            "sightline: suppressed: {}",
            sightline_export::one_line(&u.to_string())
        );
    }
    let _ = writeln!(
        e,
        "sightline: exported {} {} items from {} of {} indicators ({} parts not expressible, {} suppressed)",
        r.items,
        format.name(),
        r.exported,
        r.indicators,
        r.unexpressed.len(),
        r.suppressed.len()
    );
    let _ = e.flush();
    Ok(Outcome::Ok)
}

/// Builds the directory beside `dir` and swaps it in (see the module doc).
fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Failure> {
    let io = |p: &Path, e: &dyn std::fmt::Display| {
        Failure::Other(anyhow::anyhow!("{}: {e}", p.display()))
    };
    if dir.exists() {
        let entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, &e))?
            .filter_map(Result::ok)
            .collect();
        let ours = entries
            .iter()
            .any(|e| MARKERS.iter().any(|m| e.file_name() == *m));
        if !entries.is_empty() && !ours {
            return Err(Failure::Input(format!(
                "-o {}: a non-empty directory that no export wrote (it would be replaced whole); give a new or empty directory",
                dir.display()
            )));
        }
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let tmp = dir.with_file_name(format!(".{name}.tmp"));
    let old = dir.with_file_name(format!(".{name}.old"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, &e))?;
    for (file, bytes) in files {
        let p = tmp.join(file);
        // No fsync per file: 100,000 rule files would take minutes. The
        // swap below is what a reader sees; after a crash, export again.
        std::fs::write(&p, bytes).map_err(|e| io(&p, &e))?;
    }
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old).map_err(|e| io(dir, &e))?;
        std::fs::rename(&tmp, dir).map_err(|e| io(dir, &e))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&tmp, dir).map_err(|e| io(dir, &e))?;
    }
    Ok(())
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
