//! `sightline feed add|list|sync|status|remove`: partner feeds pulled into
//! the store (`sightline_feeds`). Definitions and states live in the store,
//! so they survive restarts; `--config FILE` adds the `[[feeds]]` of a
//! server config (those win over a stored feed of the same name).

use std::path::{Path, PathBuf};

use serde_json::json;
use sightline_feeds::{registry, FeedConfig, FeedKind, FeedState, SyncOptions};
use sightline_store::Store;

use crate::output::with_stdout;
use crate::table::Table;
use crate::{Failure, Outcome};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// A TAXII 2.1 collection: --url https://HOST/API-ROOT/collections/ID/
    Taxii,
    /// A CSV file or plain list, one indicator a line (a file path or an http(s) URL).
    Csv,
    /// A MISP feed (manifest.json and <uuid>.json events): a directory or an http(s) base URL.
    Misp,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Short unique name (letters, digits, '-', '_', '.'): names the feed's
    /// identity and its default collection `feed-NAME`.
    name: String,
    /// What the feed is.
    #[arg(long, value_enum)]
    kind: Kind,
    /// TAXII: the collection's URL; CSV: an http(s) URL or a file path; MISP: the
    /// feed's base URL or directory (where manifest.json is).
    #[arg(long)]
    url: String,
    /// Write into this collection (id or alias; created when missing) [default: feed-NAME].
    #[arg(long)]
    collection: Option<String>,
    /// HTTP Basic user name.
    #[arg(long, requires = "password_env")]
    user: Option<String>,
    /// The environment variable holding the Basic password (read at each sync, never stored).
    #[arg(long, value_name = "VAR", requires = "user")]
    password_env: Option<String>,
    /// The environment variable holding a Bearer token (read at each sync, never stored).
    #[arg(long, value_name = "VAR", conflicts_with = "user")]
    token_env: Option<String>,
    /// PEM file of the CA that signed the server's certificate.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// How often `serve` syncs the feed: 90s, 15m, 1h, 1d [default: on demand only].
    #[arg(long)]
    interval: Option<String>,
    /// TAXII: objects per page to ask for.
    #[arg(long)]
    limit: Option<usize>,
    /// Seconds one HTTP request may take, body included [default: 60].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// TAXII: start each run this many seconds before the cursor (re-read objects are
    /// duplicates), for hubs whose concurrent writers may commit a date_added late.
    #[arg(long, value_name = "SECS")]
    overlap: Option<u64>,
    /// TAXII: pages committed per store transaction [default: 1]. More is faster for big
    /// pulls; a crash then loses up to that many pages' work (fetched again next sync).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    commit_pages: Option<u32>,
    /// CSV: the field separator (one character; `\t` for a tab).
    #[arg(long, default_value = ",")]
    delimiter: String,
    /// CSV: the column (from 1) holding the value.
    #[arg(long, default_value_t = 1)]
    value_column: usize,
    /// CSV: the column holding each line's type (ip, domain, url, md5, sha256, ...).
    #[arg(long)]
    type_column: Option<usize>,
    /// CSV: the type of every line, or `auto` (by the value's shape) [default: auto].
    #[arg(long = "type", value_name = "TYPE")]
    fixed_type: Option<String>,
    /// CSV: the column holding the first-seen date (becomes valid_from).
    #[arg(long)]
    first_seen_column: Option<usize>,
    /// CSV: the column holding a description.
    #[arg(long)]
    description_column: Option<usize>,
    /// CSV: the column holding a confidence 0-100.
    #[arg(long)]
    confidence_column: Option<usize>,
    /// CSV: the confidence (0-100) of every line without a confidence column.
    #[arg(long)]
    confidence: Option<u8>,
    /// CSV: the first line that is not a comment is a header (a plain-word
    /// first value is taken as one anyway).
    #[arg(long)]
    header: bool,
    /// Replace a stored feed of that name.
    #[arg(long)]
    replace: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Define a feed (stored in the store; synced by `feed sync` or by `serve` on its interval).
    Add(Box<AddArgs>),
    /// List the feeds (an aligned table, or JSON with --json).
    List {
        /// One JSON array of feed definitions.
        #[arg(long)]
        json: bool,
        /// Also the `[[feeds]]` of this server config.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Pull a feed now: TAXII incrementally from its cursor, CSV the whole list.
    Sync {
        /// The feed's name.
        name: String,
        /// Read the whole feed again (what is already held is skipped as duplicate).
        #[arg(long)]
        full: bool,
        /// Also the `[[feeds]]` of this server config.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the run's summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Each feed's last run: outcome, objects new/updated/duplicate/rejected,
    /// error, lag since the last success, cursor.
    Status {
        /// Only this feed.
        name: Option<String>,
        /// One JSON array, with the refused objects' diagnostics and warnings.
        #[arg(long)]
        json: bool,
        /// Also the `[[feeds]]` of this server config.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Forget a stored feed and its state (its collection and objects stay).
    Remove {
        /// The feed's name.
        name: String,
    },
}

fn feed_failure(e: sightline_feeds::FeedError) -> Failure {
    match e {
        sightline_feeds::FeedError::Store(s) => Failure::Store(s.to_string()),
        e => Failure::Input(e.to_string()),
    }
}

/// Stored feeds plus the config's `[[feeds]]` (config wins), by name.
fn all_feeds(
    store: &dyn Store,
    config: Option<&Path>,
) -> Result<Vec<(FeedConfig, &'static str)>, Failure> {
    let mut feeds: Vec<(FeedConfig, &'static str)> = registry::list(store)
        .map_err(feed_failure)?
        .into_iter()
        .map(|f| (f, "store"))
        .collect();
    if let Some(path) = config {
        for f in config_feeds(path)? {
            feeds.retain(|(g, _)| g.name != f.name);
            feeds.push((f, "config"));
        }
    }
    feeds.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(feeds)
}

/// The `[[feeds]]` of a server config file.
pub fn config_feeds(path: &Path) -> Result<Vec<FeedConfig>, Failure> {
    let cfg = sightline_server::ServerConfig::load(path)
        .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    // `load` made relative paths relative to the file (FeedConfig::rebase).
    for f in &cfg.feeds {
        f.validate().map_err(feed_failure)?;
    }
    Ok(cfg.feeds)
}

pub fn run(data: &Path, cmd: Command) -> Result<Outcome, Failure> {
    let io = |e: std::io::Error| Failure::Other(e.into());
    match cmd {
        Command::Add(a) => {
            let store = super::open_store(data)?;
            let a = *a;
            let feed = FeedConfig {
                name: a.name,
                kind: match a.kind {
                    Kind::Taxii => FeedKind::Taxii,
                    Kind::Csv => FeedKind::Csv,
                    Kind::Misp => FeedKind::Misp,
                },
                url: a.url,
                collection: a.collection,
                user: a.user,
                password_env: a.password_env,
                token_env: a.token_env,
                ca: a.ca.map(|p| std::path::absolute(&p).unwrap_or(p)),
                interval: a.interval,
                limit: a.limit,
                timeout_secs: a.timeout,
                overlap_secs: a.overlap,
                commit_pages: a.commit_pages,
                csv: sightline_feeds::csv::CsvOptions {
                    delimiter: a.delimiter,
                    value_column: a.value_column,
                    type_column: a.type_column,
                    fixed_type: a.fixed_type,
                    first_seen_column: a.first_seen_column,
                    description_column: a.description_column,
                    confidence_column: a.confidence_column,
                    confidence: a.confidence,
                    header: a.header,
                },
            };
            // A relative list path would depend on where `serve` runs later.
            let feed = match feed.kind {
                FeedKind::Csv | FeedKind::Misp if !feed.url.contains("://") => FeedConfig {
                    url: std::path::absolute(&feed.url)
                        .map(|p| p.display().to_string())
                        .unwrap_or(feed.url.clone()),
                    ..feed
                },
                _ => feed,
            };
            if !registry::put(store.as_ref(), &feed, a.replace).map_err(feed_failure)? {
                eprintln!(
                    "sightline: feed {:?} already exists (`sightline feed list` shows it; --replace changes it); nothing changed",
                    feed.name
                );
                return Ok(Outcome::Findings);
            }
            eprintln!(
                "feed {} added: writes into collection {}; `sightline feed sync {}` pulls it now",
                feed.name,
                feed.target_collection(),
                feed.name
            );
        }
        Command::List { json, config } => {
            let store = super::open_existing_store(data)?;
            let feeds = all_feeds(store.as_ref(), config.as_deref())?;
            with_stdout(|w| {
                if json {
                    let list: Vec<_> = feeds
                        .iter()
                        .map(|(f, src)| {
                            let mut v = serde_json::to_value(f).unwrap_or_default();
                            v["source"] = json!(src);
                            v
                        })
                        .collect();
                    serde_json::to_writer(&mut *w, &list)?;
                    return w.write_all(b"\n");
                }
                if feeds.is_empty() {
                    return Ok(());
                }
                let mut t =
                    Table::new(&["NAME", "KIND", "COLLECTION", "INTERVAL", "SOURCE", "URL"]);
                for (f, src) in &feeds {
                    t.row(vec![
                        f.name.clone(),
                        f.kind.as_str().into(),
                        f.target_collection(),
                        f.interval.clone().unwrap_or_else(|| "-".into()),
                        (*src).into(),
                        f.url.clone(),
                    ]);
                }
                t.write(w)
            })
            .map_err(io)?;
        }
        Command::Sync {
            name,
            full,
            config,
            json,
        } => {
            let store = super::open_store(data)?;
            let feeds = all_feeds(store.as_ref(), config.as_deref())?;
            let Some((feed, _)) = feeds.into_iter().find(|(f, _)| f.name == name) else {
                return Err(Failure::Input(format!(
                    "no feed {name:?} (`sightline feed list` shows the feeds)"
                )));
            };
            let opts = SyncOptions {
                full,
                ..SyncOptions::default()
            };
            let r = sightline_feeds::sync_feed(store.as_ref(), &super::validator(), &feed, &opts)
                .map_err(feed_failure)?;
            let c = r.counts;
            if json {
                with_stdout(|w| {
                    serde_json::to_writer(
                        &mut *w,
                        &json!({"feed": r.feed, "collection": r.collection, "pages": c.pages,
                            "new": c.new, "updated": c.updated, "duplicate": c.duplicate,
                            "rejected": c.rejected, "conflicts": c.conflicts,
                            "error": r.error, "warnings": r.warnings}),
                    )?;
                    w.write_all(b"\n")
                })
                .map_err(io)?;
            } else {
                eprintln!(
                    "feed {}: {} new, {} updated, {} duplicate, {} rejected, {} conflicting ({} pages) into collection {}",
                    r.feed, c.new, c.updated, c.duplicate, c.rejected, c.conflicts, c.pages, r.collection
                );
                for w in &r.warnings {
                    eprintln!("sightline: warning: {w}");
                }
                if c.rejected > 0 {
                    eprintln!("sightline: `sightline feed status {} --json` lists the rejected objects with their diagnostics", r.feed);
                }
            }
            if let Some(e) = r.error {
                return Err(Failure::Input(format!(
                    "feed {}: {e} (what was committed before stays; the next sync resumes from it)",
                    r.feed
                )));
            }
            if c.rejected > 0 {
                return Ok(Outcome::Findings);
            }
        }
        Command::Status { name, json, config } => {
            let store = super::open_existing_store(data)?;
            let mut feeds = all_feeds(store.as_ref(), config.as_deref())?;
            if let Some(n) = &name {
                feeds.retain(|(f, _)| &f.name == n);
                if feeds.is_empty() {
                    return Err(Failure::Input(format!("no feed {n:?}")));
                }
            }
            let states = feeds
                .iter()
                .map(|(f, _)| registry::state(store.as_ref(), &f.name).map(|s| (f, s)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(feed_failure)?;
            with_stdout(|w| {
                if json {
                    let list: Vec<_> = states
                        .iter()
                        .map(|(f, s)| status_json(store.as_ref(), f, s))
                        .collect();
                    serde_json::to_writer(&mut *w, &list)?;
                    return w.write_all(b"\n");
                }
                if states.is_empty() {
                    return Ok(());
                }
                let mut t = Table::new(&[
                    "NAME", "OUTCOME", "LAST RUN", "NEW", "UPDATED", "DUP", "REJECTED", "LAG",
                    "ERROR",
                ])
                .right(3)
                .right(4)
                .right(5)
                .right(6);
                for (f, s) in &states {
                    t.row(vec![
                        f.name.clone(),
                        s.outcome.clone().unwrap_or_else(|| "never run".into()),
                        s.last_run.clone().unwrap_or_else(|| "-".into()),
                        s.run.new.to_string(),
                        s.run.updated.to_string(),
                        s.run.duplicate.to_string(),
                        s.run.rejected.to_string(),
                        lag_secs(s).map_or_else(|| "-".into(), human_secs),
                        s.last_error.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
                t.write(w)
            })
            .map_err(io)?;
        }
        Command::Remove { name } => {
            let store = super::open_existing_store(data)?;
            if !registry::remove(store.as_ref(), &name).map_err(feed_failure)? {
                eprintln!("sightline: no stored feed {name:?}");
                return Ok(Outcome::Findings);
            }
        }
    }
    Ok(Outcome::Ok)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Seconds since the last successful run.
fn lag_secs(s: &FeedState) -> Option<i64> {
    let t = sightline_stix::Timestamp::parse(s.last_success.as_deref()?).ok()?;
    Some((now_secs() - t.micros() / 1_000_000).max(0))
}

fn human_secs(s: i64) -> String {
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn status_json(store: &dyn Store, f: &FeedConfig, s: &FeedState) -> serde_json::Value {
    let counts = |c: &sightline_feeds::RunCounts| {
        json!({"pages": c.pages, "new": c.new, "updated": c.updated, "duplicate": c.duplicate,
            "rejected": c.rejected, "conflicts": c.conflicts})
    };
    let coll = f.target_collection();
    let collection_id = store.collection(&coll).ok().flatten().map(|c| c.id);
    json!({
        "name": f.name,
        "kind": f.kind.as_str(),
        "url": f.url,
        "collection": coll,
        "collection_id": collection_id,
        "identity": sightline_feeds::feed_identity_id(&f.name),
        "outcome": s.outcome,
        "last_run": s.last_run,
        "last_finished": s.last_finished,
        "last_success": s.last_success,
        "lag_secs": lag_secs(s),
        "last_error": s.last_error,
        "consecutive_failures": s.consecutive_failures,
        "cursor": s.cursor,
        "pending_next": s.pending_next.is_some(),
        "run": counts(&s.run),
        "total": counts(&s.total),
        "rejections": s.rejections.iter().map(|r| json!({"at": r.at, "id": r.id, "errors": r.errors})).collect::<Vec<_>>(),
        "warnings": s.warnings,
    })
}
