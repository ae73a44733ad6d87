//! `sightline retire [--mode revoke|valid-until] [--dry-run] [--config FILE]`
//! (issue 16 §1, optional): a new version of each indicator below the revoke
//! threshold (decayed, or judged a false positive) saying so, for TAXII
//! consumers; only indicators Sightline created (the feeds' identities and
//! `[lifecycle] own_identities`, STIX 2.1 §3.6). Run it from cron or a timer.
//! The work is `sightline_lifecycle::retire`.

use std::path::{Path, PathBuf};

use sightline_lifecycle::retire::{self, Mode};

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ModeArg {
    /// `revoked: true` (the object is withdrawn).
    Revoke,
    /// `valid_until` = now (the indicator stops being valid, the object stays).
    ValidUntil,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What the new version says.
    #[arg(long, value_enum, default_value_t = ModeArg::Revoke)]
    mode: ModeArg,
    /// List what would be retired; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// A config file (as `serve --config`): its `[lifecycle]` section (rules,
    /// thresholds, own_identities).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let eval = super::evaluator(args.config.as_deref())?;
    let store = super::open_existing_store(data)?;
    // Ours: every feed's identity, and the configured ones.
    let mut ours: Vec<String> = sightline_feeds::registry::list(store.as_ref())
        .map_err(|e| Failure::Store(e.to_string()))?
        .iter()
        .map(|f| sightline_feeds::feed_identity_id(&f.name))
        .collect();
    ours.extend(eval.config().own_identities.iter().cloned());
    let mode = match args.mode {
        ModeArg::Revoke => Mode::Revoke,
        ModeArg::ValidUntil => Mode::ValidUntil,
    };
    let now = sightline_store::now_micros();
    let r = retire::retire(store.as_ref(), &eval, now, mode, &ours, args.dry_run)?;
    with_stdout(|w| {
        for id in &r.written {
            writeln!(w, "{id}")?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    eprintln!(
        "sightline: {} indicators {}; {} below the threshold but created by others (STIX 2.1 §3.6: left to their creators)",
        r.written.len(),
        if args.dry_run { "would be retired" } else { "retired" },
        r.not_ours
    );
    Ok(Outcome::Ok)
}
