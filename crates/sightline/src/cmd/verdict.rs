//! `sightline verdict SIGHTING-ID|INDICATOR-ID true-positive|false-positive|benign`:
//! an analyst's verdict, stored as a STIX opinion (`sightline_lifecycle::verdict`
//! builds and writes it), and optionally the sighted value added to the local
//! warninglist so it stops matching for every indicator.

use std::path::Path;

use sightline_lifecycle::verdict::{self, LOCAL_LIST_FILE, LOCAL_LIST_NAME};
use sightline_lifecycle::{LifecycleError, Verdict};
use sightline_warninglist::WarningList;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Judged {
    TruePositive,
    FalsePositive,
    Benign,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sighting (`sightline sightings` lists them) or the indicator judged.
    id: String,
    /// What the match was.
    #[arg(value_enum)]
    verdict: Judged,
    /// Why (stored as the opinion's `explanation`).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Who judged; their identity is created on first use (default: $USER).
    #[arg(long, value_name = "NAME")]
    analyst: Option<String>,
    /// Also add the sighted value to the local warninglist (`local: analyst
    /// verdicts`), so it stops matching for every indicator (false-positive
    /// and benign only).
    #[arg(long)]
    warninglist: bool,
    /// The collection the opinion is stored in (created when missing).
    #[arg(long, default_value = sightline_detect::DEFAULT_COLLECTION)]
    collection: String,
    /// A config file (as `serve --config`): its `[lifecycle]` section scores
    /// the indicator shown after the verdict (default: built in).
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
}

impl From<LifecycleError> for Failure {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::Store(e) => Failure::Store(e.to_string()),
            e => Failure::Input(e.to_string()),
        }
    }
}

/// Wall time in µs (live data is judged at wall time).
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let v = match args.verdict {
        Judged::TruePositive => Verdict::TruePositive,
        Judged::FalsePositive => Verdict::FalsePositive,
        Judged::Benign => Verdict::Benign,
    };
    if args.warninglist && v == Verdict::TruePositive {
        return Err(Failure::Input(
            "--warninglist is for false-positive and benign verdicts".into(),
        ));
    }
    let analyst = match args.analyst.or_else(|| std::env::var("USER").ok()) {
        Some(a) => a,
        None => {
            return Err(Failure::Input(
                "--analyst NAME is needed ($USER is unset)".into(),
            ))
        }
    };
    // Everything is checked before anything is written.
    verdict::analyst_identity(&analyst, 0)?;
    let eval = super::evaluator(args.config.as_deref())?;
    let store = super::open_existing_store(data)?;
    let target = verdict::resolve(store.as_ref(), &args.id)?;
    let list_path = super::warninglist::dir(data).join(LOCAL_LIST_FILE);
    let values = if args.warninglist {
        let values = verdict::sighted_values(store.as_ref(), &target)?;
        if values.is_empty() {
            return Err(Failure::Input(format!(
                "--warninglist: {} compares no value with = or IN, so no single value stands for the match; nothing written",
                target.indicator
            )));
        }
        values
    } else {
        Vec::new()
    };
    let existing = match std::fs::read_to_string(&list_path) {
        Ok(t) if args.warninglist => Some(
            WarningList::from_json(&t)
                .map_err(|e| Failure::Input(format!("{}: {e}", list_path.display())))?,
        ),
        _ => None,
    };
    sightline_detect::Sightings::new(None, 1, args.collection.clone())?
        .ensure_collection(store.as_ref())?;
    let now = now_micros();
    let rec = verdict::record(
        store.as_ref(),
        &args.collection,
        &args.id,
        v,
        &analyst,
        args.note.as_deref(),
        now,
    )?;
    let mut added = 0;
    if args.warninglist {
        let (list, n) = verdict::add_to_local_list(existing, &values);
        added = n;
        let dir = super::warninglist::dir(data);
        let tmp = dir.join(format!(".{LOCAL_LIST_FILE}.tmp"));
        let text = serde_json::to_vec(&list).map_err(|e| Failure::Other(e.into()))?;
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&tmp, text))
            .and_then(|()| std::fs::rename(&tmp, &list_path))
            .map_err(|e| Failure::Store(format!("{}: {e}", list_path.display())))?;
    }
    // The indicator as it stands now.
    let history = verdict::history(store.as_ref(), eval.config(), &target.indicator)?;
    let ind = verdict::object(store.as_ref(), &target.indicator)?;
    let score = eval.evaluate(&ind, &history.events, now)?;
    with_stdout(|w| {
        let on = match &target.sighting {
            Some(s) => format!("{s} (indicator {})", target.indicator),
            None => target.indicator.clone(),
        };
        writeln!(w, "{} on {on} by {analyst}: {}", v.as_str(), rec.opinion)?;
        if rec.identity_created {
            writeln!(w, "new analyst identity {}", rec.analyst)?;
        }
        if args.warninglist {
            writeln!(
                w,
                "warninglist {LOCAL_LIST_NAME:?}: {added} new of {} ({})",
                values.join(", "),
                list_path.display()
            )?;
        }
        if history.conflict() {
            writeln!(
                w,
                "note: analysts disagree on this indicator; the latest verdict is in force"
            )?;
        }
        writeln!(
            w,
            "indicator score now {} ({})",
            score.rounded(),
            score.state.as_str()
        )
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}
