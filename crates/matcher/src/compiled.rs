//! The compiled matcher: many indicators, each observation tested only against
//! the indicators that could match it.
//!
//! # The idea: atoms, candidates, verification
//!
//! Testing every indicator against every event costs indicators × events
//! comparisons; with 100,000 indicators that is hopeless. Instead, as in a
//! YARA-style scanner, each `[ ... ]` of each pattern (a *leaf*) is reduced at
//! compile time to a few **atoms**: facts that must be visible in any
//! observation the leaf can match.
//!
//! | comparison | atom | looked up by |
//! |---|---|---|
//! | `p = 'x'`, `p IN ('x', 'y')` (strings, numbers, booleans) | the exact value at path `p` | a hash map per path |
//! | `p ISSUBSET '10.0.0.0/8'` | the network at `p` | a prefix table per path and family: one hash lookup per prefix length in use |
//! | `p LIKE '%evil.com'`, `p MATCHES 'ev(il|ol)\.'` | the longest literal / the regex's literal prefixes | one Aho-Corasick automaton per path |
//! | anything else (`!=`, `NOT`, `<`, `EXISTS`, `t''`, binary) | the object type | the *residual* list of that type |
//!
//! An `AND` inside the brackets needs only one of its operands' atoms (the
//! most selective is chosen); an `OR` needs the atoms of every operand. Every
//! comparison needs an object of its type (a missing value is false, Part 9
//! §9.5), so the object type is always a valid fallback atom: nothing is
//! tested on events that lack the type.
//!
//! At match time, each SCO of the observation looks up its type, walks the
//! indexed paths of that type, and collects the leaves whose atoms it hits:
//! the **candidates**. Each candidate is then **verified** by running the
//! leaf with the reference evaluator's comparison code (so a comparison
//! means exactly one thing everywhere), except leaves that are a single
//! `=`/`IN` on an exact-indexed path, for which a hit is the match.
//!
//! # Patterns over several observations
//!
//! A pattern whose root is one `[ ... ]` matches or not on each observation.
//! The others are compiled into a [`Plan`] for the streaming temporal engine
//! (`temporal.rs`): each observation that satisfied one of their leaves is
//! fed, in input order, with the leaf numbers, to the [`Matcher`], which
//! holds per indicator only what the operators above can still use (pruned
//! by the enclosing `WITHIN`, capped, and bounded in bytes overall), and
//! reports a match once, at the observation that completes it.
//!
//! # Lifecycle
//!
//! An [`IndicatorSet`] is immutable and carries a generation number; an
//! update compiles a new set and the caller swaps an `Arc`. A [`Matcher`]
//! (one per thread) holds the scratch buffers and streaming state, and resets
//! its state when it sees a set of another generation. Revoked indicators are
//! left out at compile time; the others take part only for observations whose
//! `first_observed` t satisfies `valid_from ≤ t < valid_until` and falls in
//! none of their `lapses` (the indicator lifecycle's inactive periods, issue 16).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::value::Value;
use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use rustc_hash::FxHashMap;
use sightline_pattern::Op;
use unicode_normalization::UnicodeNormalization;

use crate::observation::{EventTime, Observation};
use crate::prepare::{
    parse_net, resolve_each, Const, EvalError, PCmp, PObs, PrepareError, Prepared, Rhs, Step, Test,
};
use crate::reference;
use crate::temporal::{Engine, Fed, Plan, TemporalConfig, TemporalStats, TookPart};

/// The layout version of a compiled set; bump when its meaning changes.
pub const FORMAT_VERSION: u32 = 1;

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// One indicator to compile.
#[derive(Debug, Clone)]
pub struct IndicatorSpec {
    pub id: String,
    pub name: String,
    pub pattern: String,
    pub valid_from: Option<EventTime>,
    pub valid_until: Option<EventTime>,
    pub revoked: bool,
    /// Periods `[from, until)` inside the validity when the indicator is not
    /// matched (disjoint, in order): where the indicator lifecycle judged it
    /// inactive at the event's own time between two active windows.
    pub lapses: Vec<(EventTime, EventTime)>,
}

/// An indicator left out of the set, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub id: String,
    pub error: PrepareError,
}

/// Counts of what a compile produced, by index kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetStats {
    pub indicators: usize,
    pub revoked: usize,
    pub rejected: usize,
    pub leaves: usize,
    /// Leaves found through the exact-value maps only.
    pub exact: usize,
    /// Leaves with at least one prefix-table atom.
    pub prefix: usize,
    /// Leaves with at least one literal (Aho-Corasick) atom.
    pub literal: usize,
    /// Leaves tested on every observation holding their object type.
    pub residual: usize,
    pub multi_observation: usize,
}

struct Indicator {
    id: String,
    name: String,
    prepared: Prepared,
    valid_from: EventTime,
    valid_until: EventTime,
    /// [`IndicatorSpec::lapses`], sorted (usually empty).
    lapses: Box<[(EventTime, EventTime)]>,
    /// The root is one `[ ... ]`.
    single: bool,
    /// The streaming plan of a multi-observation pattern.
    plan: Option<Plan>,
}

impl Indicator {
    /// Whether it takes part for an observation at `t`.
    fn live_at(&self, t: EventTime) -> bool {
        if !(self.valid_from <= t && t < self.valid_until) {
            return false;
        }
        // The last lapse starting at or before t, if t is before its end.
        let i = self.lapses.partition_point(|&(from, _)| from <= t);
        !(i > 0 && self.lapses.get(i - 1).is_some_and(|&(_, until)| t < until))
    }
}

type LeafId = u32;

struct LeafInfo {
    indicator: u32,
    leaf: u32,
    /// A single `=`/`IN` on exact-indexed paths: an index hit is the match.
    exact_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scalar {
    Int(i128),
    Float(u64),
    Bool(bool),
}

#[derive(Default)]
struct PathIndex {
    steps: Vec<Step>,
    strings: FxHashMap<Box<str>, Vec<LeafId>>,
    scalars: FxHashMap<Scalar, Vec<LeafId>>,
    v4: FxHashMap<(u8, u32), Vec<LeafId>>,
    v4_lens: Vec<u8>,
    v6: FxHashMap<(u8, u128), Vec<LeafId>>,
    v6_lens: Vec<u8>,
    literals: Option<AhoCorasick>,
    literal_leaves: Vec<Vec<LeafId>>,
}

#[derive(Default)]
struct TypeIndex {
    paths: Vec<usize>,
    residual: Vec<LeafId>,
}

/// An immutable, compiled set of indicators.
pub struct IndicatorSet {
    generation: u64,
    indicators: Vec<Indicator>,
    leaves: Vec<LeafInfo>,
    types: FxHashMap<Box<str>, TypeIndex>,
    paths: Vec<PathIndex>,
    stats: SetStats,
}

impl std::fmt::Debug for IndicatorSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndicatorSet")
            .field("generation", &self.generation)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What must be seen for a leaf to match.
#[derive(Debug, Clone)]
enum Key {
    /// An object of this type (the residual list).
    Type(String),
    Path(String, Vec<Step>, Atom),
}

#[derive(Debug, Clone)]
enum Atom {
    Str(Box<str>),
    Scalar(Scalar),
    Net(IpNet),
    Literal(Vec<u8>),
}

impl Key {
    fn rank(&self) -> u32 {
        match self {
            Key::Path(_, _, Atom::Str(_) | Atom::Scalar(_)) => 1,
            Key::Path(_, _, Atom::Net(_)) => 2,
            Key::Path(_, _, Atom::Literal(_)) => 3,
            Key::Type(_) => 10,
        }
    }
}

fn scalar_of_const(c: &Const) -> Option<Atom> {
    match c {
        Const::Str(s) => Some(Atom::Str(s.as_str().into())),
        Const::Int(i) => Some(Atom::Scalar(Scalar::Int(*i))),
        Const::Float(f) => Some(Atom::Scalar(float_key(*f))),
        Const::Bool(b) => Some(Atom::Scalar(Scalar::Bool(*b))),
        Const::Time(..) | Const::Bytes(_) => None,
    }
}

/// Integral floats share the integers' key: `5 = 5.0` (Part 9 §9.4).
fn float_key(f: f64) -> Scalar {
    if f.fract() == 0.0 && f.abs() < 1e38 {
        #[allow(clippy::cast_possible_truncation)]
        Scalar::Int(f as i128)
    } else {
        Scalar::Float(f.to_bits())
    }
}

fn value_scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Scalar::Int(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Some(Scalar::Int(i128::from(u)))
            } else {
                n.as_f64().map(float_key)
            }
        }
        _ => None,
    }
}

/// A path whose values are bytes (`_hex`/`_bin`, Part 9 §9.4) compares by
/// decoding, so its values are not exact keys.
fn binary_path(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::Key(k) => k.ends_with("_hex") || k.ends_with("_bin"),
        _ => false,
    })
}

fn test_keys(t: &Test) -> Vec<Key> {
    let fallback = || vec![Key::Type(t.object_type.clone())];
    if t.negated {
        return fallback();
    }
    let path = |a: Atom| Key::Path(t.object_type.clone(), t.steps.clone(), a);
    match (&t.rhs, t.op) {
        (Rhs::Const(c), Op::Eq) if !binary_path(&t.steps) => {
            scalar_of_const(c).map_or_else(fallback, |a| vec![path(a)])
        }
        (Rhs::Set(items), Op::In) if !binary_path(&t.steps) => {
            let atoms: Option<Vec<Atom>> = items.iter().map(scalar_of_const).collect();
            // `IN ()` never holds: no atoms, never a candidate.
            atoms.map_or_else(fallback, |a| a.into_iter().map(path).collect())
        }
        (Rhs::Net(n), Op::IsSubset) => vec![path(Atom::Net(*n))],
        (Rhs::Like(_, src), _) => {
            let best = src
                .split(['%', '_'])
                .max_by_key(|s| s.len())
                .unwrap_or_default();
            if best.len() >= 2 {
                vec![path(Atom::Literal(best.as_bytes().to_vec()))]
            } else {
                fallback()
            }
        }
        (Rhs::Matches(re), _) => regex_literals(re.as_str()).map_or_else(fallback, |lits| {
            lits.into_iter().map(|l| path(Atom::Literal(l))).collect()
        }),
        _ => fallback(),
    }
}

/// Literal prefixes one of which every match of `re` starts with, when the
/// regex parses as a plain (non-backtracking) regex and they are few and
/// not too short.
fn regex_literals(re: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new().build().parse(re).ok()?;
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix).limit_total(64);
    let seq = ex.extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().len() < 2) {
        return None;
    }
    Some(lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

fn cmp_keys(c: &PCmp) -> Vec<Key> {
    match c {
        PCmp::Test(t) => test_keys(t),
        // Every operand must hold: the most selective one's atoms suffice.
        PCmp::And(items) => items
            .iter()
            .map(cmp_keys)
            .min_by_key(|keys| (keys.iter().map(Key::rank).max().unwrap_or(0), keys.len()))
            .unwrap_or_default(),
        PCmp::Or(items) => items.iter().flat_map(cmp_keys).collect(),
    }
}

#[derive(Default)]
struct Builder {
    paths: Vec<PathIndex>,
    path_ids: FxHashMap<(String, Vec<Step>), usize>,
    types: FxHashMap<Box<str>, TypeIndex>,
    fragments: Vec<FxHashMap<Vec<u8>, usize>>,
}

impl Builder {
    fn path(&mut self, ty: &str, steps: &[Step]) -> usize {
        if let Some(&i) = self.path_ids.get(&(ty.to_owned(), steps.to_vec())) {
            return i;
        }
        let i = self.paths.len();
        self.paths.push(PathIndex {
            steps: steps.to_vec(),
            ..PathIndex::default()
        });
        self.fragments.push(FxHashMap::default());
        self.path_ids.insert((ty.to_owned(), steps.to_vec()), i);
        self.types.entry(ty.into()).or_default().paths.push(i);
        i
    }

    fn add(&mut self, leaf: LeafId, key: Key) {
        match key {
            Key::Type(ty) => self.types.entry(ty.into()).or_default().residual.push(leaf),
            Key::Path(ty, steps, atom) => {
                let pi = self.path(&ty, &steps);
                let p = &mut self.paths[pi];
                match atom {
                    Atom::Str(s) => p.strings.entry(s).or_default().push(leaf),
                    Atom::Scalar(k) => p.scalars.entry(k).or_default().push(leaf),
                    Atom::Net(IpNet::V4(n)) => {
                        let len = n.prefix_len();
                        p.v4.entry((len, u32::from(n.network())))
                            .or_default()
                            .push(leaf);
                        if !p.v4_lens.contains(&len) {
                            p.v4_lens.push(len);
                        }
                    }
                    Atom::Net(IpNet::V6(n)) => {
                        let len = n.prefix_len();
                        p.v6.entry((len, u128::from(n.network())))
                            .or_default()
                            .push(leaf);
                        if !p.v6_lens.contains(&len) {
                            p.v6_lens.push(len);
                        }
                    }
                    Atom::Literal(bytes) => {
                        let frags = &mut self.fragments[pi];
                        let n = frags.len();
                        let slot = *frags.entry(bytes).or_insert(n);
                        if slot == p.literal_leaves.len() {
                            p.literal_leaves.push(Vec::new());
                        }
                        p.literal_leaves[slot].push(leaf);
                    }
                }
            }
        }
    }
}

impl PathIndex {
    /// The leaves whose atoms `v` (a value at this path) hits, appended to `out`.
    fn lookup<'v>(&self, v: &'v Value, out: &mut Vec<(LeafId, Option<&'v Value>)>) {
        let mut push = |ls: &Vec<LeafId>| out.extend(ls.iter().map(|&l| (l, None)));
        match v {
            Value::String(s) => {
                if let Some(ls) = self.strings.get(s.as_str()) {
                    push(ls);
                }
                if !self.v4.is_empty() || !self.v6.is_empty() {
                    match parse_net(s) {
                        Some(IpNet::V4(n)) => {
                            let a = u32::from(n.network());
                            for &len in self.v4_lens.iter().take_while(|&&l| l <= n.prefix_len()) {
                                let masked = a
                                    .checked_shl(32 - u32::from(len))
                                    .map_or(0, |_| a & (u32::MAX << (32 - u32::from(len))));
                                if let Some(ls) = self.v4.get(&(len, masked)) {
                                    push(ls);
                                }
                            }
                        }
                        Some(IpNet::V6(n)) => {
                            let a = u128::from(n.network());
                            for &len in self.v6_lens.iter().take_while(|&&l| l <= n.prefix_len()) {
                                let masked = a
                                    .checked_shl(128 - u32::from(len))
                                    .map_or(0, |_| a & (u128::MAX << (128 - u32::from(len))));
                                if let Some(ls) = self.v6.get(&(len, masked)) {
                                    push(ls);
                                }
                            }
                        }
                        None => {}
                    }
                }
                if let Some(ac) = &self.literals {
                    // LIKE and MATCHES see the NFC form (ASCII is already NFC).
                    let nfc;
                    let hay: &str = if s.is_ascii() {
                        s
                    } else {
                        nfc = s.nfc().collect::<String>();
                        &nfc
                    };
                    for m in ac.find_overlapping_iter(hay) {
                        push(&self.literal_leaves[m.pattern().as_usize()]);
                    }
                }
            }
            v => {
                if let Some(ls) = value_scalar(v).and_then(|k| self.scalars.get(&k)) {
                    push(ls);
                }
            }
        }
    }
}

impl IndicatorSet {
    /// Compiles indicators; those whose pattern cannot be prepared are
    /// returned as rejected, revoked ones are left out. When an id occurs
    /// more than once, the last entry wins (pass versions oldest first).
    pub fn compile(specs: impl IntoIterator<Item = IndicatorSpec>) -> (Self, Vec<Rejected>) {
        let mut latest: FxHashMap<String, IndicatorSpec> = FxHashMap::default();
        let mut order = Vec::new();
        for s in specs {
            if !latest.contains_key(&s.id) {
                order.push(s.id.clone());
            }
            latest.insert(s.id.clone(), s);
        }
        let mut stats = SetStats::default();
        let mut rejected = Vec::new();
        let mut indicators = Vec::new();
        let mut leaves = Vec::new();
        let mut b = Builder::default();
        for id in order {
            let Some(spec) = latest.remove(&id) else {
                continue;
            };
            if spec.revoked {
                stats.revoked += 1;
                continue;
            }
            let prepared = match Prepared::new(&spec.pattern) {
                Ok(p) => p,
                Err(error) => {
                    rejected.push(Rejected { id: spec.id, error });
                    continue;
                }
            };
            let Ok(ind_no) = u32::try_from(indicators.len()) else {
                break;
            };
            let single = matches!(prepared.root, PObs::Leaf(..));
            if !single {
                stats.multi_observation += 1;
            }
            for (n, cmp) in prepared.leaves.iter().enumerate() {
                let Ok(leaf_id) = LeafId::try_from(leaves.len()) else {
                    break;
                };
                let keys = cmp_keys(cmp);
                let exact_only = matches!(cmp, PCmp::Test(t) if !t.negated && matches!(t.op, Op::Eq | Op::In))
                    && keys.iter().all(|k| k.rank() == 1);
                if keys.iter().any(|k| matches!(k, Key::Type(_))) {
                    stats.residual += 1;
                } else if keys
                    .iter()
                    .any(|k| matches!(k, Key::Path(_, _, Atom::Literal(_))))
                {
                    stats.literal += 1;
                } else if keys
                    .iter()
                    .any(|k| matches!(k, Key::Path(_, _, Atom::Net(_))))
                {
                    stats.prefix += 1;
                } else {
                    stats.exact += 1;
                }
                for k in keys {
                    b.add(leaf_id, k);
                }
                leaves.push(LeafInfo {
                    indicator: ind_no,
                    leaf: u32::try_from(n).unwrap_or(u32::MAX),
                    exact_only,
                });
            }
            indicators.push(Indicator {
                id: spec.id,
                name: spec.name,
                plan: (!single).then(|| Plan::new(&prepared.root)),
                prepared,
                valid_from: spec.valid_from.unwrap_or(EventTime::MIN),
                valid_until: spec.valid_until.unwrap_or(EventTime::MAX),
                lapses: {
                    let mut l = spec.lapses;
                    l.sort_unstable();
                    l.into_boxed_slice()
                },
                single,
            });
        }
        for (pi, frags) in b.fragments.iter().enumerate() {
            if frags.is_empty() {
                continue;
            }
            let mut pats: Vec<(&Vec<u8>, usize)> = frags.iter().map(|(k, &v)| (k, v)).collect();
            pats.sort_by_key(|&(_, v)| v);
            // Literal atoms that cannot be built fall back to the type's residual list.
            match AhoCorasick::new(pats.iter().map(|(k, _)| k.as_slice())) {
                Ok(ac) => b.paths[pi].literals = Some(ac),
                Err(_) => {
                    let ty = b
                        .path_ids
                        .iter()
                        .find_map(|((ty, _), &i)| (i == pi).then(|| ty.clone()))
                        .unwrap_or_default();
                    let moved: Vec<LeafId> =
                        b.paths[pi].literal_leaves.drain(..).flatten().collect();
                    b.types.entry(ty.into()).or_default().residual.extend(moved);
                }
            }
        }
        for p in &mut b.paths {
            p.v4_lens.sort_unstable();
            p.v6_lens.sort_unstable();
        }
        stats.indicators = indicators.len();
        stats.rejected = rejected.len();
        stats.leaves = leaves.len();
        (
            IndicatorSet {
                generation: GENERATION.fetch_add(1, Ordering::Relaxed),
                indicators,
                leaves,
                types: b.types,
                paths: b.paths,
                stats,
            },
            rejected,
        )
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }
    pub fn stats(&self) -> &SetStats {
        &self.stats
    }
    pub fn len(&self) -> usize {
        self.indicators.len()
    }
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }
}

/// Why an indicator matched: one comparison that held, the path it read and
/// the value it found (none for `NOT EXISTS`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub comparison: String,
    pub path: String,
    pub value: Option<Value>,
}

/// An indicator that matched an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the indicator in the set.
    pub indicator: usize,
    pub id: String,
    pub name: String,
    /// The comparisons that held on this observation.
    pub reasons: Vec<Reason>,
    /// For patterns over several observations, the ids of the observations
    /// in the completed binding (first and last only for a counted
    /// `REPEATS`); for one observation, its id.
    pub observations: Vec<Option<String>>,
    /// For patterns over several observations: how many observations took
    /// part, and the first and last (as numbered by the caller).
    pub took_part: Option<TookPart>,
}

/// An indicator whose evaluation failed on an observation (e.g. a regex over
/// its backtracking limit); the others are unaffected.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchError {
    pub indicator: usize,
    pub id: String,
    pub error: EvalError,
}

/// The leaf numbers an observation satisfied, and why.
/// (indicator, leaf) pairs of multi-observation patterns an observation
/// satisfied; their reasons are built only when a match is reported.
type Touched = Vec<(u32, u32)>;

/// The stateless half of matching, with its scratch buffers: which
/// indicators an observation matches on its own, and which leaves of
/// multi-observation patterns it satisfies. It reads nothing but the set and
/// the observation, so several threads can probe (one `Probe` each) while one
/// [`Matcher`] feeds the results to the streaming state in input order.
#[derive(Default)]
pub struct Probe {
    generation: u64,
    stamp: Vec<u32>,
    epoch: u32,
    candidates: Vec<LeafId>,
    exact_hits: Vec<(LeafId, Value)>,
    /// Multi-observation leaves touched by this observation.
    touched: Touched,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// What [`Probe::probe`] found on one observation, for [`Matcher::advance`].
#[derive(Debug, Default)]
pub struct Probed {
    generation: u64,
    /// Matches of single-observation indicators.
    matches: Vec<Match>,
    errors: Vec<MatchError>,
    /// Multi-observation indicators whose leaves the observation satisfied,
    /// by indicator number.
    touched: Touched,
}

impl Probed {
    /// Whether the observation neither matched, nor failed, nor touched a
    /// multi-observation pattern: then the streaming state does not need it
    /// and [`Matcher::advance`] would report nothing.
    pub fn is_empty(&self) -> bool {
        self.matches.is_empty() && self.errors.is_empty() && self.touched.is_empty()
    }
}

/// Settings of a [`Matcher`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatcherConfig {
    /// The streaming temporal engine's bounds (memory, reorder slack, caps).
    pub temporal: TemporalConfig,
}

/// A per-thread matcher: the streaming state of multi-observation patterns
/// and the scratch of one [`Probe`]. Reuse it for every observation.
#[derive(Default)]
pub struct Matcher {
    probe: Probe,
    generation: u64,
    temporal: Engine,
    /// Observations advanced so far (the default position in match reports).
    advanced: u64,
    matches: Vec<Match>,
    errors: Vec<MatchError>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("generation", &self.generation)
            .field("temporal", &self.temporal.stats())
            .finish_non_exhaustive()
    }
}

fn reasons(why: &reference::Why<'_>) -> Vec<Reason> {
    why.iter()
        .map(|(t, v)| Reason {
            comparison: t.text.clone(),
            path: t.path.clone(),
            value: v.cloned(),
        })
        .collect()
}

impl Probe {
    pub fn new() -> Self {
        Self::default()
    }

    fn mark(&mut self, leaf: LeafId) -> bool {
        let slot = &mut self.stamp[leaf as usize];
        if *slot == self.epoch {
            false
        } else {
            *slot = self.epoch;
            true
        }
    }

    /// The stateless matching of `set` on `obs`; pass the result to
    /// [`Matcher::advance`] in input order.
    pub fn probe(&mut self, set: &IndicatorSet, obs: &Observation) -> Probed {
        if self.generation != set.generation || self.stamp.len() != set.leaves.len() {
            self.generation = set.generation;
            self.stamp = vec![0; set.leaves.len()];
            self.epoch = 0;
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        self.candidates.clear();
        self.exact_hits.clear();
        self.touched.clear();
        let mut out = Probed {
            generation: set.generation,
            ..Probed::default()
        };
        self.collect(set, obs);
        self.verify(set, obs, &mut out);
        // Fed to the streaming state in indicator order.
        self.touched.sort_unstable();
        self.touched.dedup();
        out.touched = self.touched.clone();
        out
    }

    fn collect(&mut self, set: &IndicatorSet, obs: &Observation) {
        // Index hits of one object path before dedup; allocates only on a hit.
        let mut hits: Vec<(LeafId, Option<&Value>)> = Vec::new();
        for (_, obj) in &obs.objects {
            let Some(ti) = Observation::object_type(obj).and_then(|t| set.types.get(t)) else {
                continue;
            };
            for &l in &ti.residual {
                if self.mark(l) {
                    self.candidates.push(l);
                }
            }
            for &pi in &ti.paths {
                let p = &set.paths[pi];
                let hits = &mut hits;
                resolve_each(obs, obj, &p.steps, &mut |r| {
                    let start = hits.len();
                    p.lookup(r.value, hits);
                    for h in &mut hits[start..] {
                        h.1 = Some(r.value);
                    }
                });
                for (l, v) in hits.drain(..) {
                    let exact = set.leaves[l as usize].exact_only;
                    let slot = &mut self.stamp[l as usize];
                    if *slot == self.epoch {
                        continue;
                    }
                    *slot = self.epoch;
                    if exact {
                        // The hit is the match; keep the value for the reason.
                        self.exact_hits.push((l, v.cloned().unwrap_or(Value::Null)));
                    } else {
                        self.candidates.push(l);
                    }
                }
            }
        }
    }

    fn verify(&mut self, set: &IndicatorSet, obs: &Observation, out: &mut Probed) {
        let t = obs.first_observed;
        let live = |ind: &Indicator| ind.live_at(t);
        let mut hits = std::mem::take(&mut self.exact_hits);
        for (l, value) in hits.drain(..) {
            let info = &set.leaves[l as usize];
            let ind = &set.indicators[info.indicator as usize];
            if !live(ind) {
                continue;
            }
            if !ind.single {
                // Reasons of multi-observation leaves are built on a match only.
                self.touched_leaf(info);
                continue;
            }
            let why = match &ind.prepared.leaves[info.leaf as usize] {
                PCmp::Test(test) => vec![Reason {
                    comparison: test.text.clone(),
                    path: test.path.clone(),
                    value: Some(value),
                }],
                _ => Vec::new(),
            };
            self.leaf_matched(set, info, why, obs, out);
        }
        self.exact_hits = hits;
        for i in 0..self.candidates.len() {
            let l = self.candidates[i];
            let info = &set.leaves[l as usize];
            let ind = &set.indicators[info.indicator as usize];
            if !live(ind) {
                continue;
            }
            match reference::observation_matches(&ind.prepared.leaves[info.leaf as usize], obs) {
                Ok(Some(_)) if !ind.single => self.touched_leaf(info),
                Ok(Some(why)) => {
                    let why = reasons(&why);
                    self.leaf_matched(set, info, why, obs, out);
                }
                Ok(None) => {}
                Err(error) => out.errors.push(MatchError {
                    indicator: info.indicator as usize,
                    id: ind.id.clone(),
                    error,
                }),
            }
        }
    }

    fn leaf_matched(
        &mut self,
        set: &IndicatorSet,
        info: &LeafInfo,
        why: Vec<Reason>,
        obs: &Observation,
        out: &mut Probed,
    ) {
        let ind = &set.indicators[info.indicator as usize];
        if ind.single {
            out.matches.push(Match {
                indicator: info.indicator as usize,
                id: ind.id.clone(),
                name: ind.name.clone(),
                reasons: why,
                observations: vec![obs.id.clone()],
                took_part: None,
            });
        } else {
            self.touched_leaf(info);
        }
    }

    fn touched_leaf(&mut self, info: &LeafInfo) {
        self.touched.push((info.indicator, info.leaf));
    }
}

impl Matcher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_config(config: MatcherConfig) -> Self {
        Matcher {
            temporal: Engine::new(config.temporal),
            ..Self::default()
        }
    }

    /// Completions and instances held in streaming state, over all indicators.
    pub fn pending(&self) -> usize {
        self.temporal.pending()
    }

    /// What the temporal state holds and what its bounds cost so far.
    pub fn temporal_stats(&self) -> TemporalStats {
        self.temporal.stats()
    }

    /// Forgets all streaming state.
    pub fn reset(&mut self) {
        self.temporal.reset();
    }

    /// The matches of `set` on `obs` (and the evaluation errors, in
    /// [`Matcher::errors`]), valid until the next call: [`Probe::probe`] and
    /// [`Matcher::advance`] on this thread.
    pub fn scan(&mut self, set: &IndicatorSet, obs: &Observation) -> &[Match] {
        let probed = self.probe.probe(set, obs);
        self.advance(set, obs, probed)
    }

    /// Feeds what a [`Probe`] found on `obs` to the streaming state and
    /// returns every match, as [`Matcher::scan`] would. Call it for the
    /// observations in input order; an observation whose [`Probed`] is
    /// empty may be skipped (it changes nothing). Match reports number the
    /// observations 1, 2, … in the order advanced.
    pub fn advance(&mut self, set: &IndicatorSet, obs: &Observation, probed: Probed) -> &[Match] {
        let at = self.advanced + 1;
        self.advance_at(set, obs, probed, at)
    }

    /// [`Matcher::advance`] with the caller's position of `obs` (e.g. its
    /// input line), which match reports of multi-observation patterns give
    /// for the first and last observation that took part.
    pub fn advance_at(
        &mut self,
        set: &IndicatorSet,
        obs: &Observation,
        probed: Probed,
        at: u64,
    ) -> &[Match] {
        self.advanced += 1;
        if self.generation != set.generation {
            self.generation = set.generation;
            self.temporal.reset();
        }
        self.matches = probed.matches;
        self.errors = probed.errors;
        if probed.generation == set.generation && !probed.touched.is_empty() {
            self.stream(set, obs, probed.touched, at);
        }
        &self.matches
    }

    /// The evaluation errors of the last [`Matcher::scan`] or [`Matcher::advance`].
    pub fn errors(&self) -> &[MatchError] {
        &self.errors
    }

    fn stream(&mut self, set: &IndicatorSet, obs: &Observation, touched: Touched, at: u64) {
        self.temporal.arrive(obs.first_observed);
        let fed = Fed {
            first: obs.first_observed,
            last: obs.last_observed,
            count: obs.number_observed,
            at,
            id: obs.id.as_deref(),
        };
        let mut leaves: Vec<u32> = Vec::new();
        // Sorted by indicator, then leaf: one run per indicator.
        for run in touched.chunk_by(|a, b| a.0 == b.0) {
            let k = run[0].0;
            let ind = &set.indicators[k as usize];
            let Some(plan) = &ind.plan else { continue };
            leaves.clear();
            leaves.extend(run.iter().map(|&(_, l)| l));
            if let Some(done) = self.temporal.feed(k, plan, &leaves, &fed) {
                // Why the completing observation satisfied its leaves.
                let mut why = Vec::new();
                for &leaf in &leaves {
                    if let Some(cmp) = ind.prepared.leaves.get(leaf as usize) {
                        if let Ok(Some(w)) = reference::observation_matches(cmp, obs) {
                            why.extend(reasons(&w));
                        }
                    }
                }
                self.matches.push(Match {
                    indicator: k as usize,
                    id: ind.id.clone(),
                    name: ind.name.clone(),
                    reasons: why,
                    observations: done.observations,
                    took_part: Some(done.took_part),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
