//! `sightline match`: telemetry in, explained detections (and, with
//! `--record`, STIX sightings) out.
//!
//! Indicators come from the store (latest versions of `indicator` objects
//! with `pattern_type: stix`) or a bundle file, and are compiled into one
//! `IndicatorSet`. Events are read line by line through the telemetry
//! adapters (`sightline_interchange::telemetry`). Each observation is first
//! probed (the stateless half of matching: indexes, verification), on the
//! parsing threads when there are several, then fed in input order to one
//! `Matcher`, which keeps the state of multi-observation patterns. A match
//! prints one JSON line: the indicator, the event (the observed-data id for
//! STIX input; otherwise the line number and the event itself) and why (each
//! comparison that held, the path it read and the value it found). Matches whose values are on a warninglist are suppressed
//! and counted (printed with `--show-suppressed`).
//!
//! `--record` keeps one sighting per indicator per time window (event time,
//! `--window`), merged with that sighting's stored latest version (counts add
//! up across runs), and writes each as a new version at the end of the run
//! and, with `--follow`, every `--flush` seconds. Up to
//! [`MAX_REFS`] matched observations per sighting are stored as observed-data
//! (with their SCOs) for `observed_data_refs`.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use sightline_interchange::telemetry::reader::{follow, open};
use sightline_interchange::telemetry::{
    Adapter, EventReader, Format, LineEvent, Mapping, Observation, ParallelReader, SkipSummary,
    Stage, DEFAULT_MAX_LINE,
};
use sightline_matcher::{
    time::parse_micros, IndicatorSet, IndicatorSpec, Match, Matcher, Probe, Probed,
};
use sightline_store::{NewObject, ObjectQuery, Store, VersionFilter};
use sightline_warninglist::{ValueKind, WarningLists};

use crate::{Failure, Outcome};

/// Observed-data kept per sighting (for `observed_data_refs`).
pub const MAX_REFS: usize = 10;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where indicators come from: `store` (the latest indicator versions in
    /// the store) or a STIX file (bundle, array, JSON Lines; .gz too).
    #[arg(long, default_value = "store")]
    indicators: String,
    /// The events: a file (.gz too) or `-` for standard input.
    #[arg(long, default_value = "-")]
    input: String,
    /// stix, zeek, zeek:KIND (conn, dns, http, files, ssl, x509), suricata, json.
    #[arg(long)]
    format: String,
    /// For `--format json`: the field-to-STIX-path mapping (TOML or JSON).
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
    /// With --follow: write sightings and reload changed indicators every
    /// this many seconds.
    #[arg(long, default_value_t = 10)]
    flush: u64,
    /// Also print matches that a warninglist suppressed.
    #[arg(long)]
    show_suppressed: bool,
    /// Do not consult warninglists (built-in or imported).
    #[arg(long)]
    no_warninglists: bool,
    /// Collection to put sightings in (id or alias).
    #[arg(long)]
    collection: Option<String>,
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
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let format = format(&args)?;
    let store = if args.record || args.indicators == "store" {
        Some(super::open_store(data)?)
    } else {
        None
    };
    let started = Instant::now();
    let (set, mut high) = load_indicators(&args.indicators, store.as_deref())?;
    let mut set = Arc::new(set);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "sightline: {} indicators compiled in {:.2} s ({} rejected, {} revoked)",
        set.stats().indicators,
        started.elapsed().as_secs_f64(),
        set.stats().rejected,
        set.stats().revoked
    );
    drop(err);
    let lists = if args.no_warninglists {
        WarningLists::new(Vec::new())
    } else {
        super::warninglist::load(data)?
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Best effort: without it Ctrl-C still ends the run, only abruptly.
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    let src: Box<dyn BufRead + Send> = if args.follow {
        if args.input == "-" {
            return Err(Failure::Input("--follow needs --input FILE".into()));
        }
        let f = std::fs::File::open(&args.input)
            .map_err(|e| Failure::Input(format!("{}: {e}", args.input)))?;
        Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            follow(f, Duration::from_millis(200), stop.clone()),
        ))
    } else {
        open(&args.input).map_err(|e| Failure::Input(format!("{}: {e}", args.input)))?
    };
    let stix_input = matches!(format, Format::Stix);
    let threads = match args.threads {
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let adapter = Adapter::new(format);
    let mut reader = if threads == 1 || args.follow {
        Events::Inline(EventReader::new(src, adapter), Probe::new(), Vec::new())
    } else {
        Events::Parallel(
            ParallelReader::with_stage(
                src,
                adapter,
                threads,
                DEFAULT_MAX_LINE,
                ProbeStage(set.clone()),
            )
            .map_err(|e| Failure::Other(anyhow::anyhow!("starting parser threads: {e}")))?,
        )
    };
    let mut matcher = Matcher::new();
    let mut sightings = Sightings::new(&args)?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out.lock());
    let progress =
        Progress::new(args.progress || std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let mut counts = Counts::default();
    let mut obs = Vec::new();
    let mut last_flush = Instant::now();
    let io = |e: std::io::Error| Failure::Other(e.into());
    loop {
        obs.clear();
        let ev = match reader.next_into(&set, &mut obs) {
            Ok(Some(ev)) => ev,
            Ok(None) => break,
            Err(e) => return Err(Failure::Input(format!("{}: {e}", args.input))),
        };
        let line = match ev {
            LineEvent::Parsed { line } => line,
            LineEvent::Skipped(s) => {
                eprintln!("sightline: {}: {s}", args.input);
                continue;
            }
        };
        counts.events += 1;
        for Probing { obs: o, probed } in obs.drain(..) {
            counts.observations += 1;
            // Nothing matched and no multi-observation state to feed.
            let Some(o) = &o else { continue };
            let found = matcher.advance(&set, o, probed);
            for m in found {
                let suppressed = suppressed_by(&lists, m);
                if suppressed.is_some() {
                    counts.suppressed += 1;
                    if !args.show_suppressed {
                        continue;
                    }
                } else {
                    counts.matches += 1;
                    if args.record {
                        sightings.add(m, o, args.window);
                    }
                }
                let event = if stix_input {
                    None
                } else {
                    Some(reader.last_line())
                };
                write_match(&mut out, m, o, line, event, suppressed.as_ref()).map_err(io)?;
            }
            for e in matcher.errors() {
                counts.eval_errors += 1;
                eprintln!(
                    "sightline: {}: line {line}: indicator {}: {}",
                    args.input, e.id, e.error
                );
            }
        }
        progress.tick(&counts);
        if args.follow && last_flush.elapsed() >= Duration::from_secs(args.flush) {
            out.flush().map_err(io)?;
            if let Some(s) = &store {
                if args.record {
                    sightings.flush(s.as_ref())?;
                }
                if args.indicators == "store" && changed_since(s.as_ref(), high)? {
                    let (new_set, new_high) = load_indicators("store", Some(s.as_ref()))?;
                    eprintln!(
                        "sightline: indicators changed: {} compiled",
                        new_set.stats().indicators
                    );
                    set = Arc::new(new_set);
                    high = new_high;
                }
            }
            last_flush = Instant::now();
        }
        if stop.load(Ordering::Relaxed) && !args.follow {
            break;
        }
    }
    out.flush().map_err(io)?;
    progress.finish();
    let written = match (&store, args.record) {
        (Some(s), true) => sightings.flush(s.as_ref())?,
        _ => 0,
    };
    let summary = reader.summary();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "sightline: {summary}; {} observations, {} matches, {} suppressed by warninglists, {} evaluation errors{}",
        counts.observations,
        counts.matches,
        counts.suppressed,
        counts.eval_errors,
        if args.record {
            format!(", {written} sighting versions written")
        } else {
            String::new()
        }
    );
    for s in &summary.examples {
        let _ = writeln!(err, "sightline:   skipped {s}");
    }
    Ok(if summary.skipped > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// An observation and what probing it found; the observation is dropped
/// where it was built when there is nothing more to do with it.
struct Probing {
    obs: Option<Observation>,
    probed: Probed,
}

/// Probing on the parsing threads (the set is fixed for the run: only
/// `--follow`, which parses inline, reloads indicators).
struct ProbeStage(Arc<IndicatorSet>);

impl Stage for ProbeStage {
    type Scratch = Probe;
    type Output = Probing;
    fn run(&self, probe: &mut Probe, obs: Observation) -> Probing {
        probing(probe, &self.0, obs)
    }
}

fn probing(probe: &mut Probe, set: &IndicatorSet, obs: Observation) -> Probing {
    let probed = probe.probe(set, &obs);
    Probing {
        obs: (!probed.is_empty()).then_some(obs),
        probed,
    }
}

/// Events parsed and probed on this thread or on parsing threads: the same
/// lines and results, in the same order, either way.
enum Events {
    Inline(
        EventReader<Box<dyn BufRead + Send>>,
        Probe,
        Vec<Observation>,
    ),
    Parallel(ParallelReader<ProbeStage>),
}

impl Events {
    fn next_into(
        &mut self,
        set: &IndicatorSet,
        out: &mut Vec<Probing>,
    ) -> std::io::Result<Option<LineEvent>> {
        match self {
            Events::Inline(r, probe, buf) => {
                buf.clear();
                let ev = r.next_into(buf)?;
                out.extend(buf.drain(..).map(|o| probing(probe, set, o)));
                Ok(ev)
            }
            Events::Parallel(r) => r.next_into(out),
        }
    }

    fn last_line(&self) -> &[u8] {
        match self {
            Events::Inline(r, ..) => r.last_line(),
            Events::Parallel(r) => r.last_line(),
        }
    }

    fn summary(&self) -> &SkipSummary {
        match self {
            Events::Inline(r, ..) => r.summary(),
            Events::Parallel(r) => r.summary(),
        }
    }
}

fn format(args: &Args) -> Result<Format, Failure> {
    let f: Format =
        args.format
            .parse()
            .map_err(|e: sightline_interchange::telemetry::UnknownFormat| {
                Failure::Input(e.to_string())
            })?;
    match (f, &args.mapping) {
        (Format::Json(_), Some(p)) => {
            let m = Mapping::load(p).map_err(|e| Failure::Input(e.to_string()))?;
            Ok(Format::Json(m))
        }
        (Format::Json(_), None) => Err(Failure::Input(
            "--format json needs --mapping FILE (field → STIX path)".into(),
        )),
        (f, _) => Ok(f),
    }
}

#[derive(Default)]
struct Counts {
    events: u64,
    observations: u64,
    matches: u64,
    suppressed: u64,
    eval_errors: u64,
}

/// Indicators from the store or a file, compiled; plus the store's highest
/// `date_added` seen (to notice changes with `--follow`).
fn load_indicators(
    source: &str,
    store: Option<&dyn Store>,
) -> Result<(IndicatorSet, Option<i64>), Failure> {
    let mut latest: HashMap<String, (String, Value)> = HashMap::new();
    let mut high = None;
    let mut keep = |v: Value| {
        if v.get("type").and_then(Value::as_str) != Some("indicator") {
            return;
        }
        let Some(id) = v.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return;
        };
        let key = v
            .get("modified")
            .and_then(Value::as_str)
            .and_then(sightline_matcher::time::order_key)
            .unwrap_or_default();
        // A newer version replaces the older one.
        if latest.get(&id).is_none_or(|(k, _)| key > *k) {
            latest.insert(id, (key, v));
        }
    };
    match (source, store) {
        ("store", Some(s)) => {
            let mut q = ObjectQuery {
                types: vec!["indicator".into()],
                versions: VersionFilter::last(),
                limit: 5000,
                ..ObjectQuery::default()
            };
            loop {
                let page = s.query(&q)?;
                for o in &page.items {
                    if let Ok(v) = serde_json::from_str::<Value>(&o.raw) {
                        keep(v);
                    }
                }
                if let Some(l) = page.items.last() {
                    high = high.max(Some(l.date_added));
                }
                match page.next_cursor() {
                    Some(c) => q.after = Some(c),
                    None => break,
                }
            }
        }
        ("store", None) => return Err(Failure::Input("no store to read indicators from".into())),
        (path, _) => {
            let input = sightline_interchange::read_input(path)?;
            let doc = sightline_interchange::split_objects(&input.name, &input.bytes)?;
            for item in doc.items {
                if let Ok(raw) = item.raw {
                    if let Ok(v) = serde_json::from_str::<Value>(raw) {
                        keep(v);
                    }
                }
            }
        }
    }
    let specs = latest.into_values().filter_map(|(_, v)| spec_of(&v));
    let (set, rejected) = IndicatorSet::compile(specs);
    for r in rejected.iter().take(20) {
        eprintln!("sightline: indicator {} left out: {}", r.id, r.error);
    }
    if rejected.len() > 20 {
        eprintln!("sightline: ... and {} more left out", rejected.len() - 20);
    }
    Ok((set, high))
}

/// Whether indicators were added to the store after `high`.
fn changed_since(store: &dyn Store, high: Option<i64>) -> Result<bool, Failure> {
    let q = ObjectQuery {
        types: vec!["indicator".into()],
        versions: VersionFilter::all(),
        added_after: high,
        limit: 1,
        ..ObjectQuery::default()
    };
    Ok(!store.query(&q)?.items.is_empty())
}

fn spec_of(v: &Value) -> Option<IndicatorSpec> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if s("pattern_type").is_some_and(|t| t != "stix") {
        return None;
    }
    let time = |k: &str| s(k).and_then(|t| parse_micros(t).ok());
    Some(IndicatorSpec {
        id: s("id")?.to_owned(),
        name: s("name").unwrap_or("").to_owned(),
        pattern: s("pattern")?.to_owned(),
        valid_from: time("valid_from"),
        valid_until: time("valid_until"),
        revoked: v.get("revoked").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The warninglist that one of the match's values is on, and that value.
fn suppressed_by(lists: &WarningLists, m: &Match) -> Option<(String, String)> {
    if lists.is_empty() {
        return None;
    }
    for r in &m.reasons {
        let Some(sightline_matcher::Value::String(value)) = &r.value else {
            continue;
        };
        // `type:prop` says what kind of value it is (`file:hashes.MD5` too);
        // through a `_ref` the object's type is not known here, so the value's
        // shape decides (an IP is never checked against a phone-number list).
        let kind = match r.path.split_once(':') {
            Some((ty, prop)) if !prop.contains("_ref") => ValueKind::of_sco(ty, prop),
            _ => ValueKind::guess(value),
        };
        let kind = Some(kind);
        if let Some(name) = lists.first(kind, value) {
            return Some((name.to_owned(), value.to_string()));
        }
    }
    None
}

fn write_match(
    out: &mut impl Write,
    m: &Match,
    o: &Observation,
    line: u64,
    event: Option<&[u8]>,
    suppressed: Option<&(String, String)>,
) -> std::io::Result<()> {
    let mut rec = Map::new();
    rec.insert("indicator".into(), json!(m.id));
    rec.insert("name".into(), json!(m.name));
    rec.insert("line".into(), json!(line));
    if let Some(id) = &o.id {
        rec.insert("observed_data".into(), json!(id));
    }
    if let Some(e) = event {
        let v = serde_json::from_slice::<Value>(e)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(e).into_owned()));
        rec.insert("event".into(), v);
    }
    let why: Vec<Value> = m
        .reasons
        .iter()
        .map(|r| json!({"comparison": r.comparison, "path": r.path, "value": r.value}))
        .collect();
    rec.insert("why".into(), Value::Array(why));
    if m.observations.len() > 1 {
        rec.insert("observations".into(), json!(m.observations));
    }
    if let Some((list, value)) = suppressed {
        rec.insert(
            "suppressed".into(),
            json!({"warninglist": list, "value": value}),
        );
    }
    serde_json::to_writer(&mut *out, &Value::Object(rec))?;
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

// ---------------------------------------------------------------- sightings

/// One sighting being counted: an indicator in one window.
struct Tally {
    count: u64,
    first_seen: i64,
    last_seen: i64,
    /// Matched observations to store as observed-data (at most MAX_REFS).
    refs: Vec<Observation>,
    dirty: bool,
}

struct Sightings {
    sensor: Option<String>,
    collection: Option<String>,
    tallies: BTreeMap<(String, i64), Tally>,
    /// Sightings already written by this run: (id, modified) of the last version.
    written: HashMap<String, String>,
}

impl Sightings {
    fn new(args: &Args) -> Result<Self, Failure> {
        if let Some(s) = &args.sensor {
            let ok = s.starts_with("identity--") && sightline_stix::StixId::parse(s).is_ok();
            if !ok {
                return Err(Failure::Input(format!(
                    "--sensor {s:?}: expected an identity id (identity--<uuid>)"
                )));
            }
        }
        if args.window == 0 {
            return Err(Failure::Input("--window must be at least 1 second".into()));
        }
        Ok(Self {
            sensor: args.sensor.clone(),
            collection: args.collection.clone(),
            tallies: BTreeMap::new(),
            written: HashMap::new(),
        })
    }

    fn add(&mut self, m: &Match, o: &Observation, window: u64) {
        let w = i64::try_from(window)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000);
        let start = o.first_observed.div_euclid(w) * w;
        let t = self
            .tallies
            .entry((m.id.clone(), start))
            .or_insert_with(|| Tally {
                count: 0,
                first_seen: o.first_observed,
                last_seen: o.last_observed,
                refs: Vec::new(),
                dirty: true,
            });
        t.count += o.number_observed.max(1);
        t.first_seen = t.first_seen.min(o.first_observed);
        t.last_seen = t.last_seen.max(o.last_observed);
        if t.refs.len() < MAX_REFS {
            t.refs.push(o.clone());
        }
        t.dirty = true;
    }

    /// Writes every changed sighting as a new version (with the observed-data
    /// it refers to), in one transaction. Returns the versions written.
    fn flush(&mut self, store: &dyn Store) -> Result<usize, Failure> {
        let validator = super::validator();
        let mut puts: Vec<NewObject> = Vec::new();
        let now = now_micros();
        let mut n = 0;
        for ((indicator, start), t) in self.tallies.iter_mut().filter(|(_, t)| t.dirty) {
            let id = sighting_id(indicator, *start, self.sensor.as_deref());
            let mut refs = Vec::new();
            for o in t.refs.drain(..) {
                let (od, scos) = observed_data(&o);
                if let Some(od_id) = od.get("id").and_then(Value::as_str) {
                    refs.push(od_id.to_owned());
                }
                for v in scos.into_iter().chain(std::iter::once(od)) {
                    puts.push(admit(&validator, &v)?);
                }
            }
            // Counts add up with the stored latest version (another run, or
            // this one's last flush).
            let prev = store
                .versions(&id, None)?
                .into_iter()
                .last()
                .and_then(|o| serde_json::from_str::<Value>(&o.raw).ok());
            let (mut count, mut first, mut last) = (t.count, t.first_seen, t.last_seen);
            let mut modified = now;
            let mut created = fmt_time(*start);
            if let Some(p) = &prev {
                if let Some(c) = p.get("count").and_then(Value::as_u64) {
                    count += c;
                }
                let ts = |k: &str| {
                    p.get(k)
                        .and_then(Value::as_str)
                        .and_then(|s| parse_micros(s).ok())
                };
                if let Some(f) = ts("first_seen") {
                    first = first.min(f);
                }
                if let Some(l) = ts("last_seen") {
                    last = last.max(l);
                }
                if let Some(m) = ts("modified") {
                    // Versions must move forward even if the clock does not.
                    modified = modified.max(m + 1000);
                }
                if let Some(c) = p.get("created").and_then(Value::as_str) {
                    created = c.to_owned();
                }
                for r in p
                    .get("observed_data_refs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if refs.len() < MAX_REFS && !refs.iter().any(|x| x == r) {
                        refs.push(r.to_owned());
                    }
                }
            }
            let mut s = json!({
                "type": "sighting", "spec_version": "2.1", "id": id,
                "created": created, "modified": fmt_time(modified),
                "sighting_of_ref": indicator, "count": count.min(999_999_999),
                "first_seen": fmt_time(first), "last_seen": fmt_time(last.max(first)),
            });
            if !refs.is_empty() {
                s["observed_data_refs"] = json!(refs);
            }
            if let Some(sensor) = &self.sensor {
                s["where_sighted_refs"] = json!([sensor]);
            }
            puts.push(admit(&validator, &s)?);
            self.written.insert(id, fmt_time(modified));
            t.count = 0;
            t.first_seen = i64::MAX;
            t.last_seen = i64::MIN;
            t.dirty = false;
            n += 1;
        }
        if puts.is_empty() {
            return Ok(0);
        }
        let mut txn = store.begin()?;
        for p in &puts {
            txn.put(p, self.collection.as_deref())?;
        }
        txn.commit()?;
        // Tallies start again from zero: the stored version holds the sum.
        self.tallies.retain(|_, t| t.dirty);
        Ok(n)
    }
}

fn admit(validator: &sightline_stix::Validator, v: &Value) -> Result<NewObject, Failure> {
    match validator.admit(v) {
        Ok((meta, _)) => Ok(NewObject {
            meta,
            raw: v.to_string(),
        }),
        Err(errors) => Err(Failure::Other(anyhow::anyhow!(
            "a generated {} is invalid: {}",
            v.get("type").and_then(Value::as_str).unwrap_or("object"),
            errors.join("; ")
        ))),
    }
}

const NS: uuid::Uuid = uuid::Uuid::from_u128(0x5e7c_1a9b_2f3d_4e6f_8a0b_1c2d_3e4f_5a6b);

/// One sighting id per indicator, window and sensor, the same on every run.
fn sighting_id(indicator: &str, start: i64, sensor: Option<&str>) -> String {
    let key = format!("{indicator}|{start}|{}", sensor.unwrap_or(""));
    format!("sighting--{}", uuid::Uuid::new_v5(&NS, key.as_bytes()))
}

/// An observed-data object (STIX 2.1 §4.13) for an observation, with its SCOs
/// given deterministic ids (§6.1) and `*_ref`s rewritten to them.
fn observed_data(o: &Observation) -> (Value, Vec<Value>) {
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut scos: Vec<(String, Map<String, Value>)> = o
        .objects
        .iter()
        .filter_map(|(k, v)| match v.to_json() {
            Value::Object(m) => Some((k.to_string(), m)),
            _ => None,
        })
        .collect();
    // Objects whose references are all resolved get their id; repeat for
    // objects referring to those (a few rounds cover every SCO graph built
    // by the adapters), and anything left gets a random id.
    for _ in 0..4 {
        for (key, m) in &mut scos {
            if ids.contains_key(key.as_str()) || !refs_resolved(m, &ids) {
                continue;
            }
            rewrite_refs(m, &ids);
            let id = if key.contains("--") {
                key.clone()
            } else {
                sightline_stix::ids::sco_deterministic_id(m).unwrap_or_else(|| random_id(m))
            };
            ids.insert(key.clone(), id);
        }
    }
    let mut out = Vec::new();
    for (key, mut m) in scos {
        rewrite_refs(&mut m, &ids);
        let id = ids.get(&key).cloned().unwrap_or_else(|| random_id(&m));
        m.insert("id".into(), json!(id));
        m.entry("spec_version").or_insert(json!("2.1"));
        out.push(Value::Object(m));
    }
    let refs: Vec<&Value> = out.iter().filter_map(|v| v.get("id")).collect();
    let now = fmt_time(now_micros());
    let first = fmt_time(o.first_observed);
    let last = fmt_time(o.last_observed.max(o.first_observed));
    let od_id = match &o.id {
        Some(id) => id.clone(),
        None => {
            let key = format!(
                "{first}|{}",
                serde_json::to_string(&refs).unwrap_or_default()
            );
            format!("observed-data--{}", uuid::Uuid::new_v5(&NS, key.as_bytes()))
        }
    };
    let od = json!({
        "type": "observed-data", "spec_version": "2.1", "id": od_id,
        "created": now, "modified": now,
        "first_observed": first, "last_observed": last,
        "number_observed": o.number_observed.clamp(1, 999_999_999),
        "object_refs": refs,
    });
    (od, out)
}

/// A UUIDv4 id for an SCO whose deterministic id cannot be computed.
fn random_id(m: &Map<String, Value>) -> String {
    sightline_stix::StixId::new_v4(m.get("type").and_then(Value::as_str).unwrap_or("x-unknown"))
}

fn is_ref(k: &str) -> bool {
    k.ends_with("_ref") || k.ends_with("_refs")
}

fn refs_resolved(m: &Map<String, Value>, ids: &HashMap<String, String>) -> bool {
    m.iter().filter(|(k, _)| is_ref(k)).all(|(_, v)| match v {
        Value::String(s) => s.contains("--") || ids.contains_key(s),
        Value::Array(a) => a.iter().all(|x| {
            x.as_str()
                .is_some_and(|s| s.contains("--") || ids.contains_key(s))
        }),
        _ => true,
    })
}

fn rewrite_refs(m: &mut Map<String, Value>, ids: &HashMap<String, String>) {
    let swap = |v: &mut Value| {
        if let Some(new) = v.as_str().and_then(|s| ids.get(s)) {
            *v = Value::String(new.clone());
        }
    };
    for (k, v) in m.iter_mut() {
        if !is_ref(k) {
            continue;
        }
        match v {
            Value::Array(a) => a.iter_mut().for_each(swap),
            v => swap(v),
        }
    }
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// RFC 3339 with milliseconds, as STIX timestamps are usually written.
fn fmt_time(us: i64) -> String {
    sightline_store::format_date_added(us)
}
