//! `sightline report quality [--since 30d] [--json]` (issue 16 §2): how each
//! feed's and each observable type's indicators fared: matches, verdicts,
//! precision, never matched, stale. The work is
//! `sightline_lifecycle::quality`; this prints it.

use std::path::{Path, PathBuf};

use serde_json::json;
use sightline_lifecycle::quality::{self, Row};

use super::parse_duration;
use crate::output::with_stdout;
use crate::table::Table;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Per feed (`created_by_ref`) and per observable type: indicators,
    /// active and stale now, never matched, matched and sightings counted
    /// since --since, analysts' verdicts and precision (true positives over
    /// judged matches).
    Quality(QualityArgs),
}

#[derive(Debug, clap::Args)]
pub struct QualityArgs {
    /// Count sightings and verdicts of this last span: days or hours
    /// (`30d`, `12h`).
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
    since: std::time::Duration,
    /// One JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// A config file (as `serve --config`): its `[lifecycle]` section decides
    /// what is stale (default: built in).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(data: &Path, cmd: Command) -> Result<Outcome, Failure> {
    let Command::Quality(args) = cmd;
    let eval = super::evaluator(args.config.as_deref())?;
    let store = super::open_existing_store(data)?;
    let now = sightline_store::now_micros();
    let span = i64::try_from(args.since.as_micros()).unwrap_or(i64::MAX);
    let r = quality::report(store.as_ref(), &eval, now.saturating_sub(span), now)
        .map_err(|e| Failure::Store(e.to_string()))?;
    with_stdout(|w| {
        if args.json {
            let v = json!({
                "since": sightline_store::format_date_added(r.since_us),
                "now": sightline_store::format_date_added(r.now_us),
                "by_feed": r.by_feed, "by_type": r.by_type, "total": r.total,
            });
            serde_json::to_writer(&mut *w, &v)?;
            return w.write_all(b"\n");
        }
        writeln!(
            w,
            "since {} ({} indicators)",
            sightline_store::format_date_added(r.since_us),
            r.total.indicators
        )?;
        for (title, rows) in [("FEED", &r.by_feed), ("TYPE", &r.by_type)] {
            writeln!(w)?;
            let mut t = Table::new(&[
                title,
                "INDICATORS",
                "ACTIVE",
                "STALE",
                "NEVER MATCHED",
                "MATCHED",
                "SIGHTINGS",
                "TP",
                "FP",
                "BENIGN",
                "PRECISION",
            ]);
            for i in 1..=10 {
                t = t.right(i);
            }
            for row in rows.iter().chain(std::iter::once(&r.total)) {
                t.row(cells(row));
            }
            t.write(w)?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}

fn cells(r: &Row) -> Vec<String> {
    vec![
        r.key.clone(),
        r.indicators.to_string(),
        r.active.to_string(),
        r.stale.to_string(),
        r.never_matched.to_string(),
        r.matched.to_string(),
        r.sightings.to_string(),
        r.true_positive.to_string(),
        r.false_positive.to_string(),
        r.benign.to_string(),
        r.precision
            .map_or_else(|| "-".to_owned(), |p| format!("{:.0}%", p * 100.0)),
    ]
}
