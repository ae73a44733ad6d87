//! The detection run: events read and parsed (on parsing threads, or inline
//! when following), probed against the indicators' indexes, fed in input
//! order to the one `Matcher`, warninglist-checked, handed to a [`Sink`] and,
//! when recording, folded into sightings.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_interchange::telemetry::reader::{follow_path, open};
use sightline_interchange::telemetry::suricata::{self, AlertProblem};
use sightline_interchange::telemetry::{
    Adapter, EventReader, Format, Idle, LineEvent, Mapping, Observation, ParallelReader,
    SkipSummary, Skipped, Stage, DEFAULT_MAX_LINE,
};
use sightline_matcher::{
    IndicatorSet, Match, MatchError, Matcher, MatcherConfig, Probe, Probed, Reason, TemporalStats,
    Value,
};
use sightline_store::Store;
use sightline_warninglist::WarningLists;

use crate::indicators::{Indicated, Known, Loaded, Selection, Source};
use crate::reload::{drop_off_path, ListSource, Reloader, Update};
use crate::sightings::{Position, Sightings, DEFAULT_COLLECTION};
use crate::suppress::{suppressed_by, Suppression};
use crate::DetectError;

/// How often a followed file is polled for more lines at its end: a line
/// waits half of it on average (20 cheap reads a second while idle).
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// While following a quiet log, how often the run wakes to see whether
/// sightings are due to be written (at most: never more often than the
/// flush interval itself).
const IDLE_TURN: Duration = Duration::from_secs(1);

/// How a run reads, matches and records.
#[derive(Debug, Clone)]
pub struct Options {
    pub indicators: Source,
    /// A file (.gz too) or `-` for standard input.
    pub input: String,
    pub format: Format,
    /// Fold matches into sightings written to the store.
    pub record: bool,
    /// The sensor's identity for the sightings' `where_sighted_refs`.
    pub sensor: Option<String>,
    /// Sighting window in seconds of event time.
    pub window: u64,
    /// Keep reading as the input grows until stopped.
    pub follow: bool,
    /// While following: how often sightings are written.
    pub flush: Duration,
    /// While following: how often the store (indicators) and the
    /// warninglists' directory are checked for changes; a change is compiled
    /// in the background and swapped in between two events
    /// ([`crate::reload`]).
    pub reload: Duration,
    /// Where the warninglists came from, to reload them while following
    /// (`None`: they stay as loaded).
    pub lists_source: Option<ListSource>,
    /// Hand suppressed matches to the sink too.
    pub show_suppressed: bool,
    /// Which indicators are matched (store collection, confidence).
    pub selection: Selection,
    /// The collection sightings, observed-data and SCOs are put in (created
    /// when missing); default: the selection's collection, else
    /// [`DEFAULT_COLLECTION`].
    pub sightings_collection: Option<String>,
    /// The matcher's bounds (temporal state memory, reorder slack).
    pub matcher: MatcherConfig,
    /// Parsing threads; 1 (and following) parses inline.
    pub threads: usize,
}

/// The format named `name`; `json` needs the mapping file.
pub fn format(name: &str, mapping: Option<&Path>) -> Result<Format, DetectError> {
    let f: Format = name.parse()?;
    match (f, mapping) {
        (Format::Json(_), Some(p)) => Ok(Format::Json(Mapping::load(p)?)),
        (Format::Json(_), None) => Err(DetectError::MappingMissing),
        (f, _) => Ok(f),
    }
}

/// What a run counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines that gave observations.
    pub events: u64,
    pub observations: u64,
    /// Matches reported (not suppressed).
    pub matches: u64,
    /// Matches a warninglist suppressed.
    pub suppressed: u64,
    /// The same, by the list that suppressed them.
    pub suppressed_by: std::collections::BTreeMap<String, u64>,
    pub eval_errors: u64,
    /// Matches not counted into a sighting again: a stored version already
    /// counted their position (see [`crate::sightings`]).
    pub already_counted: u64,
    /// Objects of sightings not written: the collection holds other bytes
    /// under their id and version.
    pub conflicts: u64,
    /// Suricata alerts naming an indicator of the run (`alert.metadata.
    /// sightline_id`), counted in `matches` too.
    pub alerts: u64,
    /// Alerts naming an indicator the run did not load.
    pub alerts_unknown: u64,
    /// Alerts naming an indicator the matcher would not match at the
    /// alert's time (revoked, outside its validity, left out by the
    /// lifecycle): no sighting, as for a pattern match.
    pub alerts_inactive: u64,
    /// Problems with alerts' metadata (values of the wrong type, ids that
    /// are not indicator ids, over-long lists).
    pub alert_problems: u64,
}

/// One match as the run reports it.
#[derive(Debug)]
pub struct Found<'a> {
    pub m: &'a Match,
    /// The observation that completed the match.
    pub observation: &'a Observation,
    /// Its line number in the input.
    pub line: u64,
    /// The input line itself, for formats other than STIX (whose events are
    /// named by their observed-data id instead).
    pub event: Option<&'a [u8]>,
    /// What the indicator indicates (intrusion sets, malware, campaigns).
    pub indicates: &'a [Indicated],
    /// Set when a warninglist suppressed the match (only handed over with
    /// [`Options::show_suppressed`]).
    pub suppressed: Option<&'a Suppression>,
    /// Set when the match is a Suricata alert naming the indicator rather
    /// than a pattern match (`m.reasons` says so in words too).
    pub alert: Option<&'a suricata::Alert>,
}

/// Where a run's results go, in input order. The run itself writes nothing
/// to the terminal.
pub trait Sink {
    /// A match.
    fn matched(&mut self, found: &Found<'_>) -> std::io::Result<()>;
    /// A line that was skipped, with why.
    fn skipped(&mut self, skipped: &Skipped);
    /// An indicator whose evaluation failed on the observation of `line`.
    fn eval_error(&mut self, line: u64, error: &MatchError);
    /// The Suricata alert of `line` names `indicator`, which the run did not
    /// load (not in the store or file, or not selected).
    fn alert_unknown(&mut self, line: u64, indicator: &str) {
        let _ = (line, indicator);
    }
    /// The Suricata alert of `line` has metadata of ours that is wrong.
    fn alert_problem(&mut self, line: u64, problem: &AlertProblem) {
        let _ = (line, problem);
    }
    /// While following, the indicators changed in the store and were
    /// reloaded; they apply from the next event on.
    fn reloaded(&mut self, loaded: &Loaded);
    /// While following, the warninglists changed and were reloaded.
    fn lists_reloaded(&mut self, lists: &WarningLists) {
        let _ = lists;
    }
    /// Called after each event with the counts so far.
    fn progress(&mut self, counts: &Counts) {
        let _ = counts;
    }
    /// Makes what was handed over so far visible (before a periodic flush
    /// of sightings, and at the end).
    fn flush(&mut self) -> std::io::Result<()>;
}

/// What a finished run read and did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Lines read, parsed and skipped (by reason, with examples).
    pub read: SkipSummary,
    pub counts: Counts,
    /// Sighting versions written (every flush of the run).
    pub written: usize,
    /// The temporal state at the end of the run and what its bounds cost.
    pub temporal: TemporalStats,
}

/// A detection run set up: indicators compiled, warninglists loaded.
pub struct Detector {
    opts: Options,
    store: Option<Arc<dyn Store>>,
    set: Arc<IndicatorSet>,
    /// The store's highest `date_added` of indicators and of verdicts read.
    high: (Option<i64>, Option<i64>),
    /// When (wall clock, µs) the first loaded indicator decays out.
    next_change: Option<i64>,
    indicates: HashMap<String, Vec<Indicated>>,
    /// Indicators by id, for alerts that name theirs.
    known: HashMap<String, Known>,
    lists: WarningLists,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("opts", &self.opts)
            .field("indicators", &self.set.len())
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Where recorded sightings go.
    pub fn sightings_collection(&self) -> &str {
        self.sightings_collection
            .as_deref()
            .or(self.selection.collection.as_deref())
            .unwrap_or(DEFAULT_COLLECTION)
    }
}

impl Detector {
    /// `store` is needed to record sightings and to reload indicators from
    /// the store while following.
    pub fn new(
        opts: Options,
        store: Option<Arc<dyn Store>>,
        loaded: Loaded,
        lists: WarningLists,
    ) -> Self {
        Self {
            opts,
            store,
            set: Arc::new(loaded.set),
            high: (loaded.high, loaded.verdicts_high),
            next_change: loaded.next_change,
            indicates: loaded.indicates,
            known: loaded.known,
            lists,
        }
    }

    /// Reads the input to its end (or, following, until `stop` is set),
    /// handing matches to `sink`; writes the sightings when recording.
    pub fn run(self, stop: Arc<AtomicBool>, sink: &mut dyn Sink) -> Result<Summary, DetectError> {
        let Detector {
            opts,
            store,
            mut set,
            high,
            next_change,
            mut indicates,
            mut known,
            mut lists,
        } = self;
        // Rotations of a followed file: each starts a new source.
        let mut rotations = Arc::new(AtomicU64::new(0));
        let src: Box<dyn BufRead + Send> = if opts.follow {
            if opts.input == "-" {
                return Err(DetectError::FollowNeedsFile);
            }
            let f = follow_path(Path::new(&opts.input), FOLLOW_POLL, stop.clone())
                .map_err(|source| DetectError::Input {
                    name: opts.input.clone(),
                    source,
                })?
                .idle_every(opts.flush.clamp(FOLLOW_POLL, IDLE_TURN));
            rotations = f.rotations();
            Box::new(std::io::BufReader::with_capacity(1 << 16, f))
        } else {
            open(&opts.input).map_err(|source| DetectError::Input {
                name: opts.input.clone(),
                source,
            })?
        };
        let stix_input = matches!(opts.format, Format::Stix);
        let alerts_in_input = matches!(opts.format, Format::Suricata);
        let adapter = Adapter::new(opts.format.clone());
        let mut reader = if opts.threads <= 1 || opts.follow {
            Events::Inline(EventReader::new(src, adapter), Probe::new(), Vec::new())
        } else {
            Events::Parallel(
                ParallelReader::with_stage(
                    src,
                    adapter,
                    opts.threads,
                    DEFAULT_MAX_LINE,
                    ProbeStage(set.clone()),
                )
                .map_err(DetectError::Threads)?,
            )
        };
        let mut matcher = Matcher::with_config(opts.matcher);
        let mut sightings = Sightings::new(
            opts.sensor.clone(),
            opts.window,
            opts.sightings_collection().to_owned(),
        )?;
        let recording = match (&store, opts.record) {
            (Some(s), true) => {
                sightings.ensure_collection(s.as_ref())?;
                Some(s.clone())
            }
            _ => None,
        };
        let mut counts = Counts::default();
        let mut written = 0;
        // The source being read and the line before its first (a rotated-in
        // file starts a new source).
        let mut source: Option<(String, u64)> = None;
        let mut rotated = 0;
        let mut at: Option<Position> = None;
        // Sources finished since the last flush, with their last position.
        let mut done: Vec<Position> = Vec::new();
        let mut reported = 0;
        let mut obs = Vec::new();
        let mut last_flush = Instant::now();
        // Following the store's indicators (or warninglists): changes are
        // compiled on another thread and swapped in before the next event
        // is probed.
        let reloader = if opts.follow {
            let from_store = store.clone().filter(|_| opts.indicators == Source::Store);
            if from_store.is_some() || opts.lists_source.is_some() {
                Some(Reloader::start(
                    from_store,
                    opts.selection.clone(),
                    high,
                    next_change,
                    opts.lists_source.clone(),
                    opts.reload,
                )?)
            } else {
                None
            }
        } else {
            None
        };
        loop {
            obs.clear();
            let read = match &mut reader {
                Events::Inline(r, probe, buf) => {
                    buf.clear();
                    let ev = r.next_into(buf);
                    // Between two events (or on a quiet log's turn): the
                    // next one is probed against the newest set.
                    let between = match &ev {
                        Ok(Some(_)) => true,
                        Err(e) => Idle::is(e),
                        Ok(None) => false,
                    };
                    if let (true, Some(rl)) = (between, &reloader) {
                        apply(rl, &mut set, &mut indicates, &mut known, &mut lists, sink)?;
                    }
                    obs.extend(buf.drain(..).map(|o| probing(probe, &set, o)));
                    ev
                }
                Events::Parallel(r) => r.next_into(&mut obs),
            };
            let line = match read {
                Ok(Some(LineEvent::Parsed { line })) => Some(line),
                Ok(Some(LineEvent::Skipped(s))) => {
                    sink.skipped(&s);
                    continue;
                }
                Ok(None) => break,
                // A quiet followed log: no event, but sightings may be due.
                Err(e) if Idle::is(&e) => None,
                Err(source) => {
                    return Err(DetectError::Input {
                        name: opts.input.clone(),
                        source,
                    })
                }
            };
            if let Some(line) = line {
                counts.events += 1;
                if recording.is_some() {
                    let r = rotations.load(Ordering::Relaxed);
                    if r != rotated {
                        rotated = r;
                        source = None;
                        // The rotated-away file was read to its end: mark it
                        // with the next flush too.
                        done.extend(at.take());
                    }
                    let (id, base) = source
                        .get_or_insert_with(|| (Position::source_of(reader.last_line()), line - 1));
                    // `at` is reset with `source`: only a new source allocates.
                    match &mut at {
                        Some(p) => p.line = line - *base,
                        None => {
                            at = Some(Position {
                                source: id.clone(),
                                line: line - *base,
                            })
                        }
                    }
                }
                // A Suricata alert of an exported rule names its indicators:
                // each is a sighting of that indicator, not a pattern match.
                let alert = if alerts_in_input {
                    suricata::alert(reader.last_line())
                } else {
                    None
                };
                let mut alerted: Vec<&str> = Vec::new();
                if let Some(a) = &alert {
                    for p in &a.problems {
                        counts.alert_problems += 1;
                        sink.alert_problem(line, p);
                    }
                    let t = a.observation.first_observed;
                    for id in &a.indicators {
                        let (index, name) = match known.get(id) {
                            None => {
                                counts.alerts_unknown += 1;
                                sink.alert_unknown(line, id);
                                continue;
                            }
                            Some(k) if !k.live_at(t) => {
                                counts.alerts_inactive += 1;
                                continue;
                            }
                            Some(Known::Matched { index, name, .. }) => (*index, name.clone()),
                            Some(Known::Inactive(_)) => continue,
                        };
                        alerted.push(id);
                        let m = alert_match(a, id, index, name);
                        counts.matches += 1;
                        counts.alerts += 1;
                        if let (Some(s), Some(at)) = (&recording, &at) {
                            if !sightings.add(s.as_ref(), &m, &a.observation, at)? {
                                counts.already_counted += 1;
                            }
                        }
                        sink.matched(&Found {
                            m: &m,
                            observation: &a.observation,
                            line,
                            event: Some(reader.last_line()),
                            suppressed: None,
                            indicates: indicates.get(&m.id).map_or(&[], Vec::as_slice),
                            alert: Some(a),
                        })
                        .map_err(DetectError::Output)?;
                    }
                }
                for Probing { obs: o, probed } in obs.drain(..) {
                    counts.observations += 1;
                    // Nothing matched and no multi-observation state to feed.
                    let Some(o) = &o else { continue };
                    let found = matcher.advance_at(&set, o, probed, line);
                    for m in found {
                        // The alert already made this event a sighting of
                        // the indicator: once per event.
                        if alerted.contains(&m.id.as_str()) {
                            continue;
                        }
                        let suppressed = suppressed_by(&lists, m);
                        if let Some(s) = &suppressed {
                            counts.suppressed += 1;
                            *counts.suppressed_by.entry(s.list.clone()).or_default() += 1;
                            if !opts.show_suppressed {
                                continue;
                            }
                        } else {
                            counts.matches += 1;
                            if let (Some(s), Some(at)) = (&recording, &at) {
                                if !sightings.add(s.as_ref(), m, o, at)? {
                                    counts.already_counted += 1;
                                }
                            }
                        }
                        let event = if stix_input {
                            None
                        } else {
                            Some(reader.last_line())
                        };
                        sink.matched(&Found {
                            m,
                            observation: o,
                            line,
                            event,
                            suppressed: suppressed.as_ref(),
                            indicates: indicates.get(&m.id).map_or(&[], Vec::as_slice),
                            alert: None,
                        })
                        .map_err(DetectError::Output)?;
                    }
                    for e in matcher.errors() {
                        counts.eval_errors += 1;
                        sink.eval_error(line, e);
                    }
                }
                sink.progress(&counts);
            }
            // Following, a match is shown when it happens, not when a
            // buffer fills.
            if opts.follow && counts.matches + counts.suppressed > reported {
                reported = counts.matches + counts.suppressed;
                sink.flush().map_err(DetectError::Output)?;
            }
            // On an event or on a quiet log's turn ([`IDLE_TURN`]), so the
            // last sightings before a pause are written within about one
            // interval, not when the next event comes.
            if opts.follow && last_flush.elapsed() >= opts.flush {
                sink.flush().map_err(DetectError::Output)?;
                if let Some(s) = &recording {
                    let f = sightings.flush(s.as_ref(), done.drain(..).chain(at.clone()))?;
                    written += f.versions;
                    counts.conflicts += f.conflicts;
                }
                last_flush = Instant::now();
            }
            if stop.load(Ordering::Relaxed) && !opts.follow {
                break;
            }
        }
        sink.flush().map_err(DetectError::Output)?;
        if let Some(s) = &recording {
            let f = sightings.flush(s.as_ref(), done.drain(..).chain(at.clone()))?;
            written += f.versions;
            counts.conflicts += f.conflicts;
        }
        Ok(Summary {
            read: reader.summary().clone(),
            counts,
            written,
            temporal: matcher.temporal_stats(),
        })
    }
}

/// Swaps in what the reloader compiled since the last event (in the order
/// it was made); the old sets are dropped off the event thread.
fn apply(
    reloader: &Reloader,
    set: &mut Arc<IndicatorSet>,
    indicates: &mut HashMap<String, Vec<Indicated>>,
    known: &mut HashMap<String, Known>,
    lists: &mut WarningLists,
    sink: &mut dyn Sink,
) -> Result<(), DetectError> {
    while let Some(u) = reloader.ready() {
        match u {
            Update::Indicators(loaded) => {
                sink.reloaded(&loaded);
                let Loaded {
                    set: new,
                    indicates: new_indicates,
                    known: new_known,
                    ..
                } = *loaded;
                let old = std::mem::replace(set, Arc::new(new));
                let old_indicates = std::mem::replace(indicates, new_indicates);
                let old_known = std::mem::replace(known, new_known);
                drop_off_path((old, old_indicates, old_known));
            }
            Update::Lists(new) => {
                sink.lists_reloaded(&new);
                drop_off_path(std::mem::replace(lists, new));
            }
            Update::Failed(e) => return Err(e),
        }
    }
    Ok(())
}

/// The match an alert of `a` naming indicator `id` stands for: its reason
/// is the rule (`suricata alert sid N`), read from the metadata path.
fn alert_match(a: &suricata::Alert, id: &str, index: usize, name: String) -> Match {
    let comparison = match a.sid {
        Some(sid) => format!("suricata alert sid {sid}"),
        None => "suricata alert".to_owned(),
    };
    Match {
        indicator: index,
        id: id.to_owned(),
        name,
        reasons: vec![Reason {
            comparison,
            path: format!("alert.metadata.{}", suricata::METADATA_KEY),
            value: Some(Value::str(id)),
        }],
        observations: vec![None],
        took_part: None,
    }
}

/// An observation and what probing it found; the observation is dropped
/// where it was built when there is nothing more to do with it.
struct Probing {
    obs: Option<Observation>,
    probed: Probed,
}

/// Probing on the parsing threads (the set is fixed for the run: only
/// following, which parses inline, reloads indicators).
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
