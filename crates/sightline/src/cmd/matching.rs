//! `sightline match`: telemetry in, explained detections (and, with
//! `--record`, STIX sightings) out.
//!
//! The detection itself is `sightline-detect`; this module turns the flags
//! into its `Options`, prints each match as one JSON line (the indicator,
//! the event: the observed-data id for STIX input, otherwise the line number
//! and the event itself, and why: each comparison that held, the path it
//! read and the value it found; for a Suricata alert of an exported rule,
//! `suricata alert sid N`), reports skipped lines, evaluation errors and
//! alerts for unknown indicators on standard error, and prints the summary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use sightline_detect::{
    indicators, Counts, Decay, DetectError, Detector, Found, ListSource, Loaded, Options,
    Selection, Sink, Source, Summary,
};
use sightline_interchange::telemetry::suricata::AlertProblem;
use sightline_interchange::telemetry::{Format, Skipped};
use sightline_matcher::{MatchError, MatcherConfig};
use sightline_warninglist::WarningLists;

use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where indicators come from: `store` (the latest indicator versions in
    /// the store) or a STIX file (bundle, array, JSON Lines; .gz too).
    #[arg(long, default_value = "store")]
    indicators: String,
    /// The events: a file (.gz too) or `-` for standard input.
    #[arg(long, default_value = "-")]
    input: String,
    /// The events' format: stix, zeek, zeek:KIND (conn, dns, http, files,
    /// ssl, x509), suricata, json.
    // `--input-format`, as `--format` names an output format elsewhere
    // (`validate`); `--format` stays as a hidden alias for one release.
    #[arg(long = "input-format", alias = "format", value_name = "FORMAT")]
    format: String,
    /// For `--input-format json`: the field-to-STIX-path mapping (TOML or JSON).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Write STIX sightings of the matches into the store.
    #[arg(long)]
    record: bool,
    /// The sensor's identity (`identity--...`) for the sightings'
    /// `where_sighted_refs`.
    #[arg(long, value_name = "IDENTITY_ID")]
    sensor: Option<String>,
    /// Sighting window in seconds of event time: one sighting per indicator
    /// per window.
    #[arg(long, default_value_t = 3600)]
    window: u64,
    /// Keep reading as the input file grows (`tail -f`) until interrupted.
    #[arg(long)]
    follow: bool,
    /// With --follow: write sightings every this many seconds.
    #[arg(long, default_value_t = 10)]
    flush: u64,
    /// With --follow: check the store's indicators and the warninglists for
    /// changes every this many seconds; a change is compiled in the
    /// background and applies from the next event on.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0,
          value_parser = parse_interval)]
    reload_every: f64,
    /// Also print matches that a warninglist suppressed.
    #[arg(long)]
    show_suppressed: bool,
    #[command(flatten)]
    lists: super::warninglist::ListArgs,
    /// Match only the indicators in this collection (id or alias); with
    /// --record, also where sightings go unless --sightings-collection says.
    #[arg(long)]
    collection: Option<String>,
    /// With --record: the collection for sightings, observed-data and SCOs
    /// (created when missing). Default: --collection, else `sightings`.
    #[arg(long, value_name = "NAME", env = "SIGHTLINE_SIGHTINGS_COLLECTION")]
    sightings_collection: Option<String>,
    /// What an indicator's decaying score does (issue 16: below the
    /// thresholds an indicator is inactive everywhere; verdicts apply to
    /// indicators from the store whatever this says). `auto` (default):
    /// `event-time` when reading a file or stdin to its end, `wall-time`
    /// with --follow. `event-time`, for historical logs: each indicator
    /// matches events whose own time falls where it was active;
    /// `wall-time`, for live data: an indicator inactive now is left out,
    /// and one that decays while following is taken out then; `off`: only
    /// valid_from/valid_until and verdicts.
    #[arg(long, value_enum, default_value_t = DecayMode::Auto)]
    decay: DecayMode,
    /// A config file (as `serve --config`): its `[lifecycle]` section sets
    /// the decay rules, thresholds and trusted sensors (default: built in).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Match only indicators whose `confidence` is at least N (0-100);
    /// indicators without a confidence are left out.
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<u8>::new().range(0..=100))]
    min_confidence: Option<u8>,
    /// Threads that parse events and test them against the indicators'
    /// indexes while one thread keeps multi-observation state and writes
    /// matches, in input order (default: one per core; 1 does everything
    /// on one thread; --follow always does, so each event is seen as soon as
    /// it is written).
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    threads: Option<usize>,
    /// Show a progress line on standard error (default: when it is a terminal).
    #[arg(long)]
    progress: bool,
    /// Bound on the state of multi-observation patterns (e.g. 256MiB, 1GiB);
    /// beyond it the oldest state is evicted, counted and reported.
    #[arg(long, value_name = "SIZE", default_value = "256MiB",
          value_parser = sightline_matcher::temporal::parse_size)]
    temporal_memory: usize,
    /// Events whose first_observed is more than this many seconds before the
    /// latest seen are late: counted, reported and matched best-effort.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    reorder_slack: f64,
    /// An edge matcher: pull the indicators from a hub's TAXII 2.1
    /// collection (`taxii+https://HUB/api1/collections/ID/`) into this
    /// matcher's store (collection `hub`) and, with --follow, keep them in
    /// sync. Credentials: --hub-user with $SIGHTLINE_HUB_PASSWORD, or
    /// $SIGHTLINE_HUB_TOKEN.
    #[arg(long, value_name = "URL")]
    indicators_from: Option<String>,
    /// Post the sightings recorded (with their observed-data and SCOs) to a
    /// hub's TAXII 2.1 collection (`taxii+https://…/collections/ID/`);
    /// implies --record.
    #[arg(long, value_name = "URL")]
    record_to: Option<String>,
    /// The hub's user (HTTP Basic; the password is read from
    /// $SIGHTLINE_HUB_PASSWORD).
    #[arg(long, value_name = "USER")]
    hub_user: Option<String>,
    /// A PEM file of the CA that signed the hub's certificate.
    #[arg(long, value_name = "FILE")]
    hub_ca: Option<PathBuf>,
    /// With --follow: how often the hub is asked for changes and recorded
    /// sightings are posted to it, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = parse_interval)]
    hub_every: f64,
}

/// The local collection an edge matcher keeps the hub's objects in.
const HUB_COLLECTION: &str = "hub";

/// A reload interval: 0.05 s to a day.
fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.05..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: expected seconds between 0.05 and 86400")),
    }
}

pub fn run(data: &Path, mut args: Args) -> Result<Outcome, Failure> {
    let format = sightline_detect::format(&args.format, args.mapping.as_deref())?;
    let source = Source::parse(&args.indicators);
    let hub = hub_auth(&args);
    let pull = match &args.indicators_from {
        Some(u) if source != Source::Store => {
            return Err(Failure::Input(format!(
                "--indicators-from {u}: the indicators come from the hub, not from --indicators {}",
                args.indicators
            )))
        }
        Some(u) => {
            let url =
                sightline_feeds::edge::hub_url(u).map_err(|e| Failure::Input(e.to_string()))?;
            args.collection
                .get_or_insert_with(|| HUB_COLLECTION.to_owned());
            Some(sightline_feeds::edge::hub_feed(HUB_COLLECTION, &url, &hub))
        }
        None => None,
    };
    let push_url = match &args.record_to {
        Some(u) => {
            args.record = true;
            Some(sightline_feeds::edge::hub_url(u).map_err(|e| Failure::Input(e.to_string()))?)
        }
        None => None,
    };
    // Decay is judged at event time for historical logs and at wall time
    // for live ones (issue 16 §3): a file read to its end is history.
    let decay = match args.decay {
        DecayMode::Auto if args.follow => Decay::WallTime,
        DecayMode::Auto => Decay::EventTime,
        DecayMode::Off => Decay::Off,
        DecayMode::EventTime => Decay::EventTime,
        DecayMode::WallTime => Decay::WallTime,
    };
    // Verdicts need the store; decay needs only the indicators.
    let lifecycle = if source == Source::Store || decay != Decay::Off {
        Some(Arc::new(super::evaluator(args.config.as_deref())?))
    } else {
        None
    };
    let selection = Selection {
        collection: args.collection.clone(),
        min_confidence: args.min_confidence,
        lifecycle,
        decay,
        // Suricata alerts of exported rules name their indicator.
        known_ids: matches!(format, Format::Suricata),
    };
    let store = if args.record || source == Source::Store {
        Some(super::open_store(data)?)
    } else {
        None
    };
    // An edge matcher starts from the hub's current indicators (or, when the
    // hub cannot be reached, from the copy of the last run, with a warning).
    let validator = Arc::new(super::validator());
    if let (Some(feed), Some(s)) = (&pull, &store) {
        let r = sightline_feeds::sync_feed(s.as_ref(), &validator, feed, &Default::default())
            .map_err(|e| Failure::Store(e.to_string()))?;
        match (&r.error, s.collection(HUB_COLLECTION)?) {
            (None, _) => eprintln!(
                "sightline: hub {}: {} new, {} updated, {} rejected",
                feed.url, r.counts.new, r.counts.updated, r.counts.rejected
            ),
            (Some(e), Some(_)) => {
                eprintln!(
                    "sightline: warning: hub {}: {e}; matching the copy of the last pull",
                    feed.url
                )
            }
            (Some(e), None) => return Err(Failure::Input(format!("hub {}: {e}", feed.url))),
        }
    }
    let started = Instant::now();
    let loaded = indicators::load(&source, &selection, store.as_deref())?;
    report_rejected(&loaded);
    let mut err = std::io::stderr().lock();
    let stats = loaded.set.stats();
    let _ = writeln!(
        err,
        "sightline: {} indicators compiled in {:.2} s ({} rejected, {} revoked)",
        stats.indicators,
        started.elapsed().as_secs_f64(),
        stats.rejected,
        stats.revoked
    );
    drop(err);
    let list_source = ListSource {
        dir: super::warninglist::dir(data),
        choice: args.lists.choice(),
    };
    let lists = sightline_detect::lists::load(&list_source.dir, &list_source.choice)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Best effort: without it Ctrl-C still ends the run, only abruptly.
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    let threads = match args.threads {
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let opts = Options {
        indicators: source,
        input: args.input.clone(),
        format,
        record: args.record,
        sensor: args.sensor.clone(),
        window: args.window,
        follow: args.follow,
        flush: Duration::from_secs(args.flush),
        reload: Duration::from_secs_f64(args.reload_every),
        lists_source: (!list_source.choice.none).then_some(list_source),
        show_suppressed: args.show_suppressed,
        selection,
        sightings_collection: args.sightings_collection.clone(),
        matcher: MatcherConfig {
            temporal: sightline_matcher::TemporalConfig {
                memory: args.temporal_memory,
                #[allow(clippy::cast_possible_truncation)]
                reorder_slack: (args.reorder_slack.max(0.0) * 1e6) as i64,
                ..Default::default()
            },
        },
        threads,
    };
    let out = std::io::stdout();
    let mut printer = Printer {
        out: std::io::BufWriter::with_capacity(1 << 16, out.lock()),
        input: &args.input,
        progress: Progress::new(
            args.progress || std::io::IsTerminal::is_terminal(&std::io::stderr()),
        ),
    };
    // The hub's threads stop with the run; the pusher posts once more then.
    let hub_stop = Arc::new(AtomicBool::new(false));
    let every = Duration::from_secs_f64(args.hub_every);
    let mut threads = Vec::new();
    if let (Some(feed), Some(s), true) = (pull, &store, args.follow) {
        threads.push(
            sightline_feeds::edge::spawn_puller(
                s.clone(),
                validator,
                feed,
                every,
                hub_stop.clone(),
            )
            .map_err(|e| Failure::Other(e.into()))?,
        );
    }
    if let (Some(url), Some(s)) = (&push_url, &store) {
        let sightings = opts.sightings_collection().to_owned();
        let pusher = sightline_feeds::edge::Pusher::new(url, &hub, &sightings, None)
            .map_err(|e| Failure::Input(e.to_string()))?;
        // Not following: one push at the end of the run.
        let every = if args.follow {
            every
        } else {
            Duration::from_secs(86_400)
        };
        threads.push(
            sightline_feeds::edge::spawn_pusher(s.clone(), pusher, every, hub_stop.clone())
                .map_err(|e| Failure::Other(e.into()))?,
        );
    }
    let summary = Detector::new(opts, store, loaded, lists).run(stop, &mut printer);
    hub_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let summary = summary?;
    printer.progress.finish();
    let (read, counts) = (&summary.read, &summary.counts);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "sightline: {read}; {} observations, {} matches, {} suppressed by warninglists{}, {} evaluation errors{}",
        counts.observations,
        counts.matches,
        counts.suppressed,
        by_list(counts),
        counts.eval_errors,
        if args.record {
            recorded(&summary)
        } else {
            String::new()
        }
    );
    if counts.alerts + counts.alerts_unknown + counts.alerts_inactive + counts.alert_problems > 0 {
        let _ = writeln!(
            err,
            "sightline: suricata alerts of exported rules: {} sightings of indicators, {} for unknown indicators, {} for inactive indicators (revoked, outside their validity or left out by the lifecycle: not counted), {} metadata problems",
            counts.alerts, counts.alerts_unknown, counts.alerts_inactive, counts.alert_problems
        );
    }
    for s in &read.examples {
        let _ = writeln!(err, "sightline:   skipped {s}");
    }
    let t = &summary.temporal;
    if t.evictions > 0 || t.late > 0 || t.capped > 0 {
        let _ = writeln!(
            err,
            "sightline: warning: multi-observation state: {} held completions evicted at --temporal-memory, {} late events (beyond --reorder-slack), {} dropped by per-pattern caps (peak {} bytes)",
            t.evictions, t.late, t.capped, t.peak_state_bytes
        );
    }
    // Malformed alert metadata is bad input, as a skipped line is; an alert
    // for an indicator not loaded is reported but can be a stale rule.
    Ok(if read.skipped > 0 || counts.alert_problems > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

impl From<DetectError> for Failure {
    fn from(e: DetectError) -> Self {
        match e {
            DetectError::Store(e) => Failure::Store(e.to_string()),
            e if e.is_usage() => Failure::Input(e.to_string()),
            e => Failure::Other(e.into()),
        }
    }
}

/// Which list suppressed how many, for the summary line.
fn by_list(c: &Counts) -> String {
    if c.suppressed_by.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = c
        .suppressed_by
        .iter()
        .map(|(l, n)| format!("{l}: {n}"))
        .collect();
    format!(" ({})", parts.join(", "))
}

/// What recording did, for the summary line.
fn recorded(s: &Summary) -> String {
    let mut t = format!(", {} sighting versions written", s.written);
    if s.counts.already_counted > 0 {
        t += &format!(
            " ({} matches already counted by earlier runs)",
            s.counts.already_counted
        );
    }
    if s.counts.conflicts > 0 {
        t += &format!(
            ", {} objects not written (conflict: the collection holds other content under their id and version)",
            s.counts.conflicts
        );
    }
    t
}

/// The first 20 indicators left out of a compile, and how many more.
/// The hub's credentials: --hub-user with $SIGHTLINE_HUB_PASSWORD, else
/// $SIGHTLINE_HUB_TOKEN when set (names only: read at each request batch).
fn hub_auth(args: &Args) -> sightline_feeds::edge::HubAuth {
    let token = args.hub_user.is_none() && std::env::var_os("SIGHTLINE_HUB_TOKEN").is_some();
    sightline_feeds::edge::HubAuth {
        user: args.hub_user.clone(),
        password_env: args
            .hub_user
            .as_ref()
            .map(|_| "SIGHTLINE_HUB_PASSWORD".to_owned()),
        token_env: token.then(|| "SIGHTLINE_HUB_TOKEN".to_owned()),
        ca: args.hub_ca.clone(),
    }
}

/// `--decay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DecayMode {
    Auto,
    Off,
    EventTime,
    WallTime,
}

fn report_rejected(loaded: &Loaded) {
    if loaded.inactive > 0 {
        eprintln!(
            "sightline: {} indicators never active under the lifecycle (a verdict, a low score, or a malformed confidence or time): left out",
            loaded.inactive
        );
    }
    for r in loaded.rejected.iter().take(20) {
        eprintln!("sightline: indicator {} left out: {}", r.id, r.error);
    }
    if loaded.rejected.len() > 20 {
        eprintln!(
            "sightline: ... and {} more left out",
            loaded.rejected.len() - 20
        );
    }
}

/// Matches as JSON lines on standard output, the rest on standard error.
struct Printer<'a, W: Write> {
    out: W,
    input: &'a str,
    progress: Progress,
}

impl<W: Write> Sink for Printer<'_, W> {
    fn matched(&mut self, f: &Found<'_>) -> std::io::Result<()> {
        write_match(&mut self.out, f)
    }

    fn skipped(&mut self, s: &Skipped) {
        eprintln!("sightline: {}: {s}", self.input);
    }

    fn eval_error(&mut self, line: u64, e: &MatchError) {
        eprintln!(
            "sightline: {}: line {line}: indicator {}: {}",
            self.input, e.id, e.error
        );
    }

    fn alert_unknown(&mut self, line: u64, indicator: &str) {
        eprintln!(
            "sightline: {}: line {line}: alert for unknown indicator {indicator}",
            self.input
        );
    }

    fn alert_problem(&mut self, line: u64, p: &AlertProblem) {
        eprintln!(
            "sightline: {}: line {line}: suricata alert: {p}",
            self.input
        );
    }

    fn reloaded(&mut self, loaded: &Loaded) {
        report_rejected(loaded);
        eprintln!(
            "sightline: indicators changed: {} compiled",
            loaded.set.stats().indicators
        );
    }

    fn lists_reloaded(&mut self, lists: &WarningLists) {
        eprintln!(
            "sightline: warninglists changed: {} lists loaded",
            lists.lists().len()
        );
    }

    fn progress(&mut self, counts: &Counts) {
        self.progress.tick(counts);
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn write_match(out: &mut impl Write, f: &Found<'_>) -> std::io::Result<()> {
    let (m, o, line, event, indicates) = (f.m, f.observation, f.line, f.event, f.indicates);
    let suppressed = f.suppressed.map(|s| (s.list.as_str(), s.value.as_str()));
    let mut rec = Map::new();
    rec.insert("indicator".into(), json!(m.id));
    rec.insert("name".into(), json!(m.name));
    rec.insert("line".into(), json!(line));
    if let Some(id) = &o.id {
        rec.insert("observed_data".into(), json!(id));
    }
    // The event as the log wrote it, spliced in as raw JSON: parsing it into
    // a tree and printing it again cost a third of the ordered output
    // thread's time when temporal indicators match often (BENCHMARKS.md,
    // issue 13). A line that is not JSON is shown as a string.
    let raw_event = event.and_then(|e| serde_json::from_slice::<&RawValue>(e).ok());
    if let (Some(e), None) = (event, raw_event) {
        rec.insert(
            "event".into(),
            Value::String(String::from_utf8_lossy(e).into_owned()),
        );
    }
    let why: Vec<Value> = m
        .reasons
        .iter()
        .map(|r| json!({"comparison": r.comparison, "path": r.path, "value": r.value}))
        .collect();
    rec.insert("why".into(), Value::Array(why));
    // Observed-data ids, for STIX input; log lines have none (`took_part`
    // names them by line), so no list of nulls.
    if m.observations.len() > 1 && m.observations.iter().any(Option::is_some) {
        rec.insert("observations".into(), json!(m.observations));
    }
    if let Some(t) = &m.took_part {
        // A multi-observation match: how many took part, the first and the last.
        let at = |r: &sightline_matcher::ObsRef| match &r.id {
            Some(id) => json!({"line": r.at, "observed_data": id}),
            None => json!({"line": r.at}),
        };
        rec.insert(
            "took_part".into(),
            json!({"count": t.count, "first": at(&t.first), "last": at(&t.last)}),
        );
    }
    if !indicates.is_empty() {
        let v: Vec<Value> = indicates
            .iter()
            .map(|i| json!({"type": i.ty, "name": i.name, "id": i.id}))
            .collect();
        rec.insert("indicates".into(), Value::Array(v));
    }
    if let Some((list, value)) = suppressed {
        rec.insert(
            "suppressed".into(),
            json!({"warninglist": list, "value": value}),
        );
    }
    if let Some(a) = f.alert {
        // The rule that fired, as Suricata names it (gid:sid:rev).
        rec.insert(
            "suricata_alert".into(),
            json!({"gid": a.gid, "sid": a.sid, "rev": a.rev}),
        );
    }
    match raw_event {
        // "event" sorts first among the keys, so the record stays in key order.
        Some(raw) => {
            out.write_all(b"{\"event\":")?;
            out.write_all(raw.get().as_bytes())?;
            let rest = serde_json::to_vec(&Value::Object(rec))?;
            if rest.len() > 2 {
                out.write_all(b",")?;
            }
            out.write_all(&rest[1..])?;
        }
        None => serde_json::to_writer(&mut *out, &Value::Object(rec))?,
    }
    out.write_all(b"\n")
}

// ---------------------------------------------------------------- progress

struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
}

impl Progress {
    fn new(show: bool) -> Self {
        let bar = show.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(Duration::from_millis(250));
            b
        });
        Self {
            bar,
            started: Instant::now(),
        }
    }

    fn tick(&self, c: &Counts) {
        if let Some(b) = &self.bar {
            if c.events % 4096 == 0 {
                let rate = c.events as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                b.set_message(format!(
                    "{} events ({rate:.0}/s), {} matches, {} suppressed",
                    c.events, c.matches, c.suppressed
                ));
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
