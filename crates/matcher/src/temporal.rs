//! The streaming temporal engine: multi-observation patterns (Part 9 §9.6,
//! §9.7: `AND`, `OR`, `FOLLOWEDBY` of observation expressions, `REPEATS`,
//! `WITHIN`, `START/STOP`) evaluated one observation at a time, with state
//! bounded by the windows and by configuration, never by enumerating
//! combinations of held observations.
//!
//! # Completions
//!
//! A pattern is compiled into a tree of nodes ([`Plan`]). A *completion* of a
//! node is a binding of its sub-expression (the reference evaluator's word):
//! the observations that satisfy it together. The engine never keeps a
//! binding's members, only what the enclosing operators can ask of it (an
//! [`Item`]): `F` = the latest `first_observed`, `L` = the earliest
//! `last_observed` (the optimistic interval rules: `FOLLOWEDBY` needs
//! `F(left) ≤ L(right)`, `WITHIN w` needs `F − L ≤ w`, `START s STOP e` needs
//! `F < e` and `L ≥ s`), and the observations used (for disjointness: an
//! observation takes part at most `number_observed` times) when the
//! sub-expression has a bounded size.
//!
//! Each arriving observation `o` yields, per node, the *new* completions: the
//! ones that use `o` (all others were found before). A binary operator
//! combines its operands' new completions with the other operand's *held*
//! completions; `REPEATS n` over a single `[ ... ]` counts instances instead
//! (a heap of `last_observed` values pruned by the window: O(log k) per
//! event), `REPEATS n` over anything else is a product of n levels. A held
//! completion whose `L` is older than the tightest enclosing `WITHIN` allows
//! for an event that is not late can never take part again and is dropped.
//!
//! Pruning keeps this exact: a held completion is dropped only when another
//! is at least as good for every operator (`F` no later, `L` no earlier,
//! observations a subset). Caps (new completions per node and event, held
//! completions per node, the memory bound) make it approximate, and every
//! time one bites it is counted in [`TemporalStats`].
//!
//! # Reporting and re-arming
//!
//! A match is reported at the observation that completes it, once. Then the
//! indicator's state is cleared: every observation held so far is consumed,
//! and the next match is built from later observations only (a beacon seen
//! every second against `REPEATS 20 TIMES WITHIN 300 SECONDS` reports at the
//! 20th, 40th, 60th lookup, not at every lookup after the 20th).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rustc_hash::FxHashMap;

use crate::prepare::PObs;

/// Default bound on the bytes of temporal state held by one [`crate::Matcher`].
pub const DEFAULT_TEMPORAL_MEMORY: usize = 256 << 20;
/// Default reorder slack: events up to 5 s older than the newest seen are in order.
pub const DEFAULT_REORDER_SLACK_MICROS: i64 = 5_000_000;
/// Default cap on completions held by one node of one indicator (binds only
/// where no enclosing `WITHIN` expires them).
pub const DEFAULT_MAX_NODE_ITEMS: usize = 65_536;
/// Default cap on new completions one node keeps per event (the ones with the
/// latest `L` are kept).
pub const DEFAULT_MAX_DELTA: usize = 32;
/// `REPEATS n` of one `[ ... ]` below another operator is evaluated by product
/// (exact, disjointness included) up to this n, by counting above it.
const PRODUCT_MAX: u64 = 8;
/// `REPEATS n` of a compound expression is a product of n levels up to this
/// n; above it, completions of the expression are counted (without checking
/// that two of them share no observation), so a huge n costs no memory.
const PRODUCT_LEVELS_MAX: u64 = 64;
/// Completions compared for dominance when one is added to a node's store.
const DOMINANCE_PEEK: usize = 8;
/// Candidate windows tried for an out-of-order `REPEATS` arrival.
const MAX_REORDER_CANDIDATES: usize = 256;

/// Settings of the temporal engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemporalConfig {
    /// Bytes of temporal state (estimated) before the oldest is evicted.
    pub memory: usize,
    /// Events whose `first_observed` is more than this (µs) before the latest
    /// seen are *late*: counted, and processed best-effort against whatever
    /// state is left (state older than the slack may already be gone).
    pub reorder_slack: i64,
    /// Completions held per node of one indicator; the oldest go first.
    pub max_node_items: usize,
    /// New completions kept per node and event.
    pub max_delta: usize,
}

impl Default for TemporalConfig {
    fn default() -> Self {
        TemporalConfig {
            memory: DEFAULT_TEMPORAL_MEMORY,
            reorder_slack: DEFAULT_REORDER_SLACK_MICROS,
            max_node_items: DEFAULT_MAX_NODE_ITEMS,
            max_delta: DEFAULT_MAX_DELTA,
        }
    }
}

/// What the temporal engine holds and what its bounds cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TemporalStats {
    /// Estimated bytes of state held now.
    pub state_bytes: usize,
    /// The most ever held.
    pub peak_state_bytes: usize,
    /// Indicators holding state now.
    pub indicators: usize,
    /// Held completions dropped because the memory bound was hit.
    pub evictions: u64,
    /// Completions dropped by the per-node caps (held or new per event).
    pub capped: u64,
    /// Observations older than the reorder slack allows (processed best-effort).
    pub late: u64,
    /// Matches of multi-observation patterns reported.
    pub matches: u64,
}

/// An observation as the caller numbered it, for match reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsRef {
    /// The caller's position (the input line for `sightline match`), or the
    /// number of the observation fed to the matcher when none was given.
    pub at: u64,
    /// The observed-data id, for STIX input.
    pub id: Option<String>,
}

/// The observations that took part in a multi-observation match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TookPart {
    /// Observation instances in the binding (`number_observed` counts).
    pub count: u64,
    pub first: ObsRef,
    pub last: ObsRef,
}

/// A byte size as people write it: `500000`, `64KiB`, `256MiB`, `1GiB`,
/// `2GB` (decimal units are powers of ten), for `--temporal-memory`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 256MiB)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "tb" => 1e12,
        u => {
            return Err(format!(
                "unknown size unit {u:?} in {text:?} (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ))
        }
    };
    let bytes = (n * mult).round();
    if !bytes.is_finite() || bytes < 0.0 || bytes > usize::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(bytes as usize)
}

// ---------------------------------------------------------------- the plan

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    Within(i64),
    StartStop(i64, i64),
}

impl Filter {
    fn pass(self, f: i64, l: i64) -> bool {
        match self {
            Filter::Within(w) => i128::from(f) - i128::from(l) <= i128::from(w),
            Filter::StartStop(s, e) => s < e && f < e && l >= s,
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Leaf(u32),
    Or(Vec<usize>),
    And(usize, usize),
    Followed(usize, usize),
    Filter(usize, Filter),
    /// `REPEATS n` of a single-observation expression, by counting.
    /// The bool: the operand's completions are single observations.
    Count(usize, u64, bool),
    /// `REPEATS n` by product; levels 2..n-1 held by this node.
    Product(usize, u64),
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    /// Its completions are held (an operator above combines them later).
    keep: bool,
    /// Only whether a completion exists matters (nothing above but OR,
    /// WITHIN, START/STOP): the first one passing `accept` is enough.
    rootish: bool,
    /// For `rootish` nodes: the filters between it and the root.
    accept: Vec<Filter>,
    /// The tightest `WITHIN` above it, in µs.
    horizon: Option<i64>,
}

/// A multi-observation pattern compiled for the streaming engine.
#[derive(Debug, Clone)]
pub struct Plan {
    nodes: Vec<Node>,
    root: usize,
}

#[derive(Clone)]
struct Ctx {
    keep: bool,
    rootish: bool,
    accept: Vec<Filter>,
    horizon: Option<i64>,
}

fn single(e: &PObs) -> bool {
    match e {
        PObs::Leaf(..) => true,
        PObs::Or(items) => items.iter().all(single),
        PObs::Within(inner, _) | PObs::StartStop(inner, _, _) => single(inner),
        _ => false,
    }
}

impl Plan {
    pub fn new(root: &PObs) -> Self {
        let mut p = Plan {
            nodes: Vec::new(),
            root: 0,
        };
        let ctx = Ctx {
            keep: false,
            rootish: true,
            accept: Vec::new(),
            horizon: None,
        };
        p.root = p.build(root, &ctx);
        p
    }

    fn push(&mut self, kind: Kind, ctx: &Ctx) -> usize {
        self.nodes.push(Node {
            kind,
            keep: ctx.keep,
            rootish: ctx.rootish,
            accept: if ctx.rootish {
                ctx.accept.clone()
            } else {
                Vec::new()
            },
            horizon: ctx.horizon,
        });
        self.nodes.len() - 1
    }

    fn combined(ctx: &Ctx) -> Ctx {
        Ctx {
            keep: true,
            rootish: false,
            accept: Vec::new(),
            horizon: ctx.horizon,
        }
    }

    fn chain(&mut self, items: &[PObs], ctx: &Ctx, followed: bool) -> usize {
        match items {
            [] => self.push(Kind::Or(Vec::new()), ctx),
            [one] => self.build(one, ctx),
            [init @ .., last] => {
                let kid = Self::combined(ctx);
                let a = self.chain(init, &kid, followed);
                let b = self.build(last, &kid);
                let kind = if followed {
                    Kind::Followed(a, b)
                } else {
                    Kind::And(a, b)
                };
                self.push(kind, ctx)
            }
        }
    }

    fn build(&mut self, e: &PObs, ctx: &Ctx) -> usize {
        match e {
            PObs::Leaf(id, _) => self.push(Kind::Leaf(u32::try_from(*id).unwrap_or(u32::MAX)), ctx),
            PObs::Or(items) => {
                // OR and the filters never read their operands' held
                // completions: only operators that combine do.
                let kid = Ctx {
                    keep: false,
                    ..ctx.clone()
                };
                let kids = items.iter().map(|i| self.build(i, &kid)).collect();
                self.push(Kind::Or(kids), ctx)
            }
            PObs::And(items) => self.chain(items, ctx, false),
            PObs::FollowedBy(items) => self.chain(items, ctx, true),
            PObs::Within(inner, w) => {
                let f = Filter::Within(*w);
                let mut kid = ctx.clone();
                kid.keep = false;
                kid.horizon = Some(ctx.horizon.map_or(*w, |h| h.min(*w)));
                kid.accept.push(f);
                let k = self.build(inner, &kid);
                self.push(Kind::Filter(k, f), ctx)
            }
            PObs::StartStop(inner, s, e) => {
                let f = Filter::StartStop(*s, *e);
                let mut kid = ctx.clone();
                kid.keep = false;
                kid.accept.push(f);
                let k = self.build(inner, &kid);
                self.push(Kind::Filter(k, f), ctx)
            }
            PObs::Repeats(inner, n) => {
                let one = single(inner);
                let count =
                    (one && (ctx.rootish || *n > PRODUCT_MAX)) || (!one && *n > PRODUCT_LEVELS_MAX);
                if count {
                    let kid = Ctx {
                        keep: false,
                        rootish: false,
                        accept: Vec::new(),
                        horizon: ctx.horizon,
                    };
                    let k = self.build(inner, &kid);
                    self.push(Kind::Count(k, *n, one), ctx)
                } else {
                    let k = self.build(inner, &Self::combined(ctx));
                    self.push(Kind::Product(k, *n), ctx)
                }
            }
        }
    }
}

// ---------------------------------------------------------------- the state

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ref {
    uid: u64,
    at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Use {
    uid: u64,
    times: u64,
    cap: u64,
}

/// What operators above need of one completion.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    f: i64,
    l: i64,
    lo: Ref,
    hi: Ref,
    /// Observation instances in it.
    n: u64,
    /// The observations used, by uid; `None` when untracked (a counted
    /// `REPEATS` of more than [`PRODUCT_MAX`]).
    used: Option<Box<[Use]>>,
}

impl Item {
    fn bytes(&self) -> usize {
        std::mem::size_of::<Item>()
            + 8
            + self
                .used
                .as_ref()
                .map_or(0, |u| u.len() * std::mem::size_of::<Use>())
    }

    /// At least as good as `other` under every operator.
    fn dominates(&self, other: &Item) -> bool {
        if self.f > other.f || self.l < other.l {
            return false;
        }
        match (&self.used, &other.used) {
            (Some(a), Some(b)) => a
                .iter()
                .all(|x| b.iter().any(|y| y.uid == x.uid && y.times >= x.times)),
            (None, None) => self.n <= other.n && self.lo == other.lo && self.hi == other.hi,
            _ => false,
        }
    }
}

/// The union of two completions, if no observation is used more often
/// than it was observed.
fn join(x: &Item, y: &Item) -> Option<Item> {
    let used = match (&x.used, &y.used) {
        (Some(a), Some(b)) => {
            let mut out: Vec<Use> = Vec::with_capacity(a.len() + b.len());
            let (mut i, mut j) = (0, 0);
            while i < a.len() || j < b.len() {
                let next = match (a.get(i), b.get(j)) {
                    (Some(p), Some(q)) if p.uid == q.uid => {
                        i += 1;
                        j += 1;
                        let times = p.times.checked_add(q.times)?;
                        if times > p.cap {
                            return None;
                        }
                        Use { times, ..*p }
                    }
                    (Some(p), Some(q)) if p.uid < q.uid => {
                        i += 1;
                        *p
                    }
                    (_, Some(q)) => {
                        j += 1;
                        *q
                    }
                    (Some(p), None) => {
                        i += 1;
                        *p
                    }
                    (None, None) => break,
                };
                out.push(next);
            }
            Some(out.into_boxed_slice())
        }
        _ => None,
    };
    Some(Item {
        f: x.f.max(y.f),
        l: x.l.min(y.l),
        lo: if x.lo.uid <= y.lo.uid { x.lo } else { y.lo },
        hi: if x.hi.uid >= y.hi.uid { x.hi } else { y.hi },
        n: x.n.saturating_add(y.n),
        used,
    })
}

#[derive(Debug, Default)]
struct Store {
    /// In arrival order, each with the running maximum of `l` from the front
    /// at insertion (an upper bound of `l` over it and everything before).
    items: VecDeque<(Item, i64)>,
}

#[derive(Debug, Clone, Copy)]
struct Pt {
    f: i64,
    l: i64,
    c: u64,
    lo: Ref,
    hi: Ref,
}

/// `REPEATS n` of one `[ ... ]`: the instances held, and among them the
/// ones whose `last_observed` is within the window of the latest
/// `first_observed` (a min-heap, so expiring is O(log k)).
#[derive(Debug, Default)]
struct Counter {
    pts: VecDeque<Pt>,
    heap: BinaryHeap<Reverse<(i64, u64)>>,
    live: u64,
    /// The first instance ever counted (no window: `pts` may be capped).
    first: Option<Ref>,
}

#[derive(Debug, Default)]
struct NodeState {
    store: Store,
    levels: Vec<Store>,
    counter: Counter,
}

/// One indicator's streaming state.
#[derive(Debug, Default)]
struct State {
    nodes: Vec<NodeState>,
    /// The latest `first_observed` seen (i64::MIN: none yet).
    max_f: i64,
    bytes: usize,
    /// Observed-data ids of held observations, by uid.
    ids: FxHashMap<u64, Box<str>>,
}

/// One arrival, as the engine sees it.
struct Arrival<'a> {
    f: i64,
    l: i64,
    cap: u64,
    r: Ref,
    leaves: &'a [u32],
}

impl Arrival<'_> {
    fn item(&self) -> Item {
        Item {
            f: self.f,
            l: self.l,
            lo: self.r,
            hi: self.r,
            n: self.cap,
            used: Some(Box::new([Use {
                uid: self.r.uid,
                times: 1,
                cap: self.cap,
            }])),
        }
    }
}

struct Run<'a> {
    plan: &'a Plan,
    cfg: &'a TemporalConfig,
    stats: &'a mut TemporalStats,
    a: Arrival<'a>,
    /// Events before this are late (max seen − slack).
    now: i64,
    in_order: bool,
}

impl Run<'_> {
    fn cut(&self, node: &Node) -> Option<i64> {
        node.horizon.map(|w| self.now.saturating_sub(w))
    }

    fn delta(&mut self, st: &mut State, i: usize) -> Vec<Item> {
        let plan = self.plan;
        let node = &plan.nodes[i];
        match &node.kind {
            Kind::Leaf(id) => {
                if self.a.leaves.binary_search(id).is_ok() {
                    let mut it = self.a.item();
                    // A leaf completion uses one instance.
                    it.n = 1;
                    vec![it]
                } else {
                    Vec::new()
                }
            }
            Kind::Or(kids) => {
                let mut out = Vec::new();
                for &k in kids {
                    let d = self.delta(st, k);
                    self.commit(st, k, &d);
                    out.extend(d);
                }
                out
            }
            Kind::Filter(k, f) => {
                let mut d = self.delta(st, *k);
                self.commit(st, *k, &d);
                d.retain(|it| f.pass(it.f, it.l));
                d
            }
            Kind::And(x, y) | Kind::Followed(x, y) => {
                let followed = matches!(node.kind, Kind::Followed(..));
                let dx = self.delta(st, *x);
                let dy = self.delta(st, *y);
                let mut out = Vec::new();
                if !dx.is_empty() || !dy.is_empty() {
                    let how = How {
                        rootish: node.rootish,
                        accept: &node.accept,
                        cut: self.cut(node),
                        limit: self.limit(node.rootish),
                        followed,
                    };
                    self.pairs(&how, &dx, &st.nodes[*y].store, true, &mut out);
                    self.pairs(&how, &dy, &st.nodes[*x].store, false, &mut out);
                    self.stats.capped += cross(&how, &dx, &dy, &mut out);
                }
                self.commit(st, *x, &dx);
                self.commit(st, *y, &dy);
                out
            }
            Kind::Product(k, n) => {
                let di = self.delta(st, *k);
                let levels = usize::try_from(*n).unwrap_or(usize::MAX);
                // ΔR_1: the inner expression's new completions.
                let mut out = di.clone();
                if levels > 1 && !di.is_empty() {
                    if st.nodes[i].levels.len() < levels - 2 {
                        st.nodes[i].levels.resize_with(levels - 2, Store::default);
                    }
                    let cut = self.cut(node);
                    // ΔR_j = ΔR_{j-1} × held inner ∪ held R_{j-1} × Δinner ∪ ΔR_{j-1} × Δinner
                    for lvl in 2..=levels {
                        let top = lvl == levels;
                        let how = How {
                            rootish: top && node.rootish,
                            accept: &node.accept,
                            cut,
                            limit: self.limit(top && node.rootish),
                            followed: false,
                        };
                        let mut cur = Vec::new();
                        {
                            let ns = &st.nodes;
                            let inner = &ns[*k].store;
                            let prev = if lvl == 2 {
                                inner
                            } else {
                                &ns[i].levels[lvl - 3]
                            };
                            self.pairs(&how, &out, inner, true, &mut cur);
                            self.pairs(&how, &di, prev, false, &mut cur);
                            self.stats.capped += cross(&how, &out, &di, &mut cur);
                        }
                        if lvl > 2 {
                            self.commit_level(st, i, lvl - 3, &out, cut);
                        }
                        out = cur;
                    }
                }
                self.commit(st, *k, &di);
                out
            }
            Kind::Count(k, n, one) => {
                // The common shape, `[x] REPEATS n`: no completion to build.
                let single = if let Kind::Leaf(id) = plan.nodes[*k].kind {
                    if self.a.leaves.binary_search(&id).is_err() {
                        return Vec::new();
                    }
                    (self.a.f, self.a.l, self.a.cap, self.a.r, self.a.r)
                } else {
                    let d = self.delta(st, *k);
                    self.commit(st, *k, &d);
                    let Some(it) = d.into_iter().next() else {
                        return Vec::new();
                    };
                    // One observation counts number_observed times; one
                    // completion of a compound expression, once.
                    let c = if *one { self.a.cap } else { 1 };
                    (it.f, it.l, c, it.lo, it.hi)
                };
                self.count(st, i, single, *n).into_iter().collect()
            }
        }
    }

    fn limit(&self, rootish: bool) -> usize {
        if rootish {
            1
        } else {
            self.cfg.max_delta.max(1)
        }
    }

    fn accept(node: &Node, it: &Item) -> bool {
        node.accept.iter().all(|f| f.pass(it.f, it.l))
    }

    /// New completions `news` (this arrival's) joined with held ones, the
    /// newest first; stops where no older held one can pair.
    fn pairs(
        &mut self,
        how: &How<'_>,
        news: &[Item],
        held: &Store,
        news_left: bool,
        out: &mut Vec<Item>,
    ) {
        if news.is_empty() || held.items.is_empty() {
            return;
        }
        for d in news {
            let mut need = how.cut.unwrap_or(i64::MIN);
            if how.rootish {
                for f in how.accept {
                    if let Filter::Within(w) = f {
                        need = need.max(d.f.saturating_sub(*w));
                    }
                }
            }
            if how.followed && news_left {
                // FOLLOWEDBY with the new one on the left: held.l ≥ d.f.
                need = need.max(d.f);
            }
            for (h, pmax) in held.items.iter().rev() {
                if *pmax < need {
                    break;
                }
                let (l, r) = if news_left { (d, h) } else { (h, d) };
                if let Some(j) = how.join(l, r) {
                    if out.len() >= how.limit {
                        if !how.rootish {
                            self.stats.capped += 1;
                        }
                        return;
                    }
                    out.push(j);
                }
            }
        }
    }

    /// Holds a node's new completions when an operator above needs them.
    fn commit(&mut self, st: &mut State, i: usize, d: &[Item]) {
        let node = &self.plan.nodes[i];
        if !node.keep || d.is_empty() {
            return;
        }
        let cut = self.cut(node);
        let cap = self.cfg.max_node_items;
        let store = &mut st.nodes[i].store;
        let added = push_items(store, d, cut);
        let freed = prune(store, cut, cap, self.stats);
        st.bytes = st.bytes.saturating_add(added).saturating_sub(freed);
    }

    fn commit_level(
        &mut self,
        st: &mut State,
        i: usize,
        level: usize,
        d: &[Item],
        cut: Option<i64>,
    ) {
        if d.is_empty() {
            return;
        }
        let cap = self.cfg.max_node_items;
        let store = &mut st.nodes[i].levels[level];
        let added = push_items(store, d, cut);
        let freed = prune(store, cut, cap, self.stats);
        st.bytes = st.bytes.saturating_add(added).saturating_sub(freed);
    }

    /// Counts `it` into a `REPEATS n` of one `[ ... ]` and returns the
    /// completion it makes, if any.
    fn count(
        &mut self,
        st: &mut State,
        i: usize,
        one: (i64, i64, u64, Ref, Ref),
        n: u64,
    ) -> Option<Item> {
        let (f, l, c, lo, hi) = one;
        let it = &Item {
            f,
            l,
            lo,
            hi,
            n: c,
            used: None,
        };
        let node = &self.plan.nodes[i];
        // START/STOP above a counted REPEATS hold for every instance or for
        // none of the binding: an instance outside is never counted.
        if node
            .accept
            .iter()
            .any(|f| matches!(f, Filter::StartStop(..)) && !f.pass(it.f, it.l))
        {
            return None;
        }
        let window = node.horizon;
        // A counted instance is the whole observation (number_observed).
        let c = c.max(1);
        let cut = self.cut(node);
        let in_order = self.in_order;
        let max_f = st.max_f.max(it.f);
        let ctr = &mut st.nodes[i].counter;
        let mut added = 0usize;
        match ctr.pts.back_mut() {
            // Same interval as the newest: one entry, counts add up.
            Some(b) if b.f == it.f && b.l == it.l => {
                b.c = b.c.saturating_add(c);
                b.hi = it.hi;
            }
            _ => {
                ctr.pts.push_back(Pt {
                    f: it.f,
                    l: it.l,
                    c,
                    lo: it.lo,
                    hi: it.hi,
                });
                added += std::mem::size_of::<Pt>();
            }
        }
        if ctr.first.is_none() {
            ctr.first = Some(it.lo);
        }
        let mut freed = 0usize;
        let result = match window {
            None => {
                ctr.live = ctr.live.saturating_add(c);
                // Without a window only the count matters; instances beyond the
                // cap are forgotten (not counted as a loss: the count stays).
                while ctr.pts.len() > self.cfg.max_node_items {
                    ctr.pts.pop_front();
                    freed += std::mem::size_of::<Pt>();
                }
                (ctr.live >= n).then(|| {
                    // The most recent instances (the latest L); when the cap
                    // forgot some, all that are left.
                    gather(&ctr.pts, i64::MAX, i64::MIN, n).unwrap_or_else(|| Item {
                        f: ctr.pts.iter().map(|p| p.f).max().unwrap_or(it.f),
                        l: ctr.pts.iter().map(|p| p.l).min().unwrap_or(it.l),
                        lo: ctr.first.unwrap_or(it.lo),
                        hi: it.hi,
                        n: ctr.live.min(n),
                        used: None,
                    })
                })
            }
            Some(w) => {
                let thr = max_f.saturating_sub(w);
                if it.l >= thr {
                    ctr.heap.push(Reverse((it.l, c)));
                    ctr.live = ctr.live.saturating_add(c);
                    added += 16;
                }
                while let Some(Reverse((l, k))) = ctr.heap.peek().copied() {
                    if l >= thr {
                        break;
                    }
                    ctr.heap.pop();
                    ctr.live = ctr.live.saturating_sub(k);
                    freed += 16;
                }
                if let Some(cut) = cut {
                    while ctr.pts.front().is_some_and(|p| p.l < cut) {
                        ctr.pts.pop_front();
                        freed += std::mem::size_of::<Pt>();
                    }
                }
                // No count cap here: the window bounds the instances (one entry
                // per distinct interval), and the memory bound bounds the window.
                if in_order {
                    (ctr.live >= n)
                        .then(|| gather(&ctr.pts, it.f, it.f.saturating_sub(w), n))
                        .flatten()
                } else {
                    // Out of order: the window may end at this arrival or at any
                    // later-starting instance held.
                    let mut ends: Vec<i64> =
                        ctr.pts.iter().map(|p| p.f).filter(|&f| f >= it.f).collect();
                    ends.push(it.f);
                    ends.sort_unstable();
                    ends.dedup();
                    if ends.len() > MAX_REORDER_CANDIDATES {
                        self.stats.capped += (ends.len() - MAX_REORDER_CANDIDATES) as u64;
                        ends.truncate(MAX_REORDER_CANDIDATES);
                    }
                    ends.into_iter()
                        .filter(|&end| i128::from(end) - i128::from(it.l) <= i128::from(w))
                        .find_map(|end| gather(&ctr.pts, end, end.saturating_sub(w), n))
                }
            }
        };
        st.bytes = st.bytes.saturating_add(added).saturating_sub(freed);
        let out = result?;
        if node.rootish && !Self::accept(node, &out) {
            return None;
        }
        Some(out)
    }
}

/// How one operator joins completions.
struct How<'a> {
    rootish: bool,
    accept: &'a [Filter],
    cut: Option<i64>,
    limit: usize,
    followed: bool,
}

impl How<'_> {
    fn join(&self, l: &Item, r: &Item) -> Option<Item> {
        if self.followed && l.f > r.l {
            return None;
        }
        let j = join(l, r)?;
        if self.rootish && !self.accept.iter().all(|f| f.pass(j.f, j.l)) {
            return None;
        }
        Some(j)
    }
}

/// New completions of both operands joined (an observation seen more than
/// once may fill both).
fn cross(how: &How<'_>, left: &[Item], right: &[Item], out: &mut Vec<Item>) -> u64 {
    for l in left {
        for r in right {
            if let Some(j) = how.join(l, r) {
                if out.len() >= how.limit {
                    return u64::from(!how.rootish);
                }
                out.push(j);
            }
        }
    }
    0
}

/// The most recent instances inside a window (first ≤ end, last ≥ start)
/// that add up to n, as one completion.
fn gather(pts: &VecDeque<Pt>, end: i64, start: i64, n: u64) -> Option<Item> {
    let mut got = 0u64;
    let (mut f, mut l) = (i64::MIN, i64::MAX);
    let mut hi = None::<Ref>;
    for p in pts.iter().rev() {
        if p.f > end || p.l < start {
            continue;
        }
        got = got.saturating_add(p.c);
        f = f.max(p.f);
        l = l.min(p.l);
        if hi.is_none_or(|h| p.hi.uid > h.uid) {
            hi = Some(p.hi);
        }
        if got >= n {
            return Some(Item {
                f,
                l,
                lo: p.lo,
                hi: hi?,
                n,
                used: None,
            });
        }
    }
    None
}

fn push_items(store: &mut Store, d: &[Item], cut: Option<i64>) -> usize {
    let mut added = 0;
    'next: for it in d {
        if cut.is_some_and(|c| it.l < c) {
            continue;
        }
        for (h, _) in store.items.iter().rev().take(DOMINANCE_PEEK) {
            if h.dominates(it) {
                continue 'next;
            }
        }
        let pmax = store.items.back().map_or(it.l, |(_, p)| (*p).max(it.l));
        added += it.bytes();
        store.items.push_back((it.clone(), pmax));
    }
    added
}

/// Drops held completions that can no longer take part (their `l` is
/// before the horizon) and those over the cap, oldest first.
fn prune(store: &mut Store, cut: Option<i64>, cap: usize, stats: &mut TemporalStats) -> usize {
    let mut freed = 0;
    if let Some(c) = cut {
        while store.items.front().is_some_and(|(it, _)| it.l < c) {
            if let Some((it, _)) = store.items.pop_front() {
                freed += it.bytes();
            }
        }
    }
    while store.items.len() > cap {
        if let Some((it, _)) = store.items.pop_front() {
            freed += it.bytes();
            stats.capped += 1;
        }
    }
    freed
}

// ---------------------------------------------------------------- the engine

/// The streaming state of every multi-observation indicator of one set.
#[derive(Debug, Default)]
pub struct Engine {
    cfg: TemporalConfig,
    states: FxHashMap<u32, State>,
    stats: TemporalStats,
    bytes: usize,
    next_uid: u64,
    /// The latest `first_observed` over all indicators (for lateness).
    max_seen: Option<i64>,
}

/// A multi-observation match found by [`Engine::feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub took_part: TookPart,
    /// Ids of the observations in the binding, when the engine tracked them
    /// (first and last for counted `REPEATS`).
    pub observations: Vec<Option<String>>,
}

/// An observation handed to [`Engine::feed`].
pub struct Fed<'a> {
    pub first: i64,
    pub last: i64,
    pub count: u64,
    pub at: u64,
    pub id: Option<&'a str>,
}

impl Engine {
    pub fn new(cfg: TemporalConfig) -> Self {
        Engine {
            cfg,
            ..Engine::default()
        }
    }

    pub fn config(&self) -> &TemporalConfig {
        &self.cfg
    }

    pub fn stats(&self) -> TemporalStats {
        TemporalStats {
            state_bytes: self.bytes,
            indicators: self.states.values().filter(|s| s.bytes > 0).count(),
            ..self.stats
        }
    }

    /// Forgets all state (the counters stay).
    pub fn reset(&mut self) {
        self.states.clear();
        self.bytes = 0;
    }

    /// Held completions and instances, over all indicators.
    pub fn pending(&self) -> usize {
        self.states
            .values()
            .flat_map(|s| s.nodes.iter())
            .map(|n| {
                n.store.items.len()
                    + n.levels.iter().map(|l| l.items.len()).sum::<usize>()
                    + n.counter.pts.len()
            })
            .sum()
    }

    /// Starts an arrival: numbers it and records lateness; call once per
    /// observation before [`Engine::feed`] for each indicator it touched.
    pub fn arrive(&mut self, first: i64) -> u64 {
        self.next_uid += 1;
        match self.max_seen {
            Some(m) if first < m.saturating_sub(self.cfg.reorder_slack) => self.stats.late += 1,
            Some(m) if first <= m => {}
            _ => self.max_seen = Some(first),
        }
        self.next_uid
    }

    /// Feeds one arrival to indicator `k` whose leaves (sorted) it satisfied.
    pub fn feed(&mut self, k: u32, plan: &Plan, leaves: &[u32], o: &Fed<'_>) -> Option<Completed> {
        let uid = self.next_uid;
        let st = self.states.entry(k).or_insert_with(|| State {
            nodes: (0..plan.nodes.len())
                .map(|_| NodeState::default())
                .collect(),
            max_f: i64::MIN,
            ..State::default()
        });
        let before = st.bytes;
        let in_order = o.first >= st.max_f;
        let now = st.max_f.max(o.first).saturating_sub(self.cfg.reorder_slack);
        let mut run = Run {
            plan,
            cfg: &self.cfg,
            stats: &mut self.stats,
            a: Arrival {
                f: o.first,
                l: o.last,
                cap: o.count.max(1),
                r: Ref { uid, at: o.at },
                leaves,
            },
            now,
            in_order,
        };
        let done = run.delta(st, plan.root);
        st.max_f = st.max_f.max(o.first);
        if let Some(id) = o.id {
            st.ids.insert(uid, id.into());
            st.bytes += id.len() + 32;
        }
        let result = done.into_iter().next().map(|it| completed(st, &it));
        if result.is_some() {
            // Re-arm: the observations held so far are consumed (in place,
            // keeping the allocations for the next round).
            self.stats.matches += 1;
            st.clear();
        } else if st.ids.len() > 1024 {
            let held = min_uid(st);
            let freed: usize = st
                .ids
                .iter()
                .filter(|(u, _)| **u < held)
                .map(|(_, s)| s.len() + 32)
                .sum();
            st.ids.retain(|u, _| *u >= held);
            st.bytes = st.bytes.saturating_sub(freed);
        }
        let after = st.bytes;
        self.bytes = self.bytes.saturating_add(after).saturating_sub(before);
        self.stats.peak_state_bytes = self.stats.peak_state_bytes.max(self.bytes);
        if self.bytes > self.cfg.memory {
            self.evict();
        }
        result
    }

    /// Drops the oldest state until under 90% of the bound, counting what went.
    fn evict(&mut self) {
        let goal = self.cfg.memory / 10 * 9;
        while self.bytes > goal && !self.states.is_empty() {
            // The indicator whose newest event is oldest goes first.
            let Some((&k, _)) = self.states.iter().min_by_key(|(_, s)| s.max_f) else {
                break;
            };
            let Some(st) = self.states.get_mut(&k) else {
                break;
            };
            let mut freed = 0usize;
            let mut dropped = 0u64;
            for ns in &mut st.nodes {
                for store in std::iter::once(&mut ns.store).chain(ns.levels.iter_mut()) {
                    let half = store.items.len().div_ceil(2);
                    for _ in 0..half {
                        if let Some((it, _)) = store.items.pop_front() {
                            freed += it.bytes();
                            dropped += 1;
                        }
                    }
                }
                let half = ns.counter.pts.len().div_ceil(2);
                for _ in 0..half {
                    if let Some(p) = ns.counter.pts.pop_front() {
                        freed += std::mem::size_of::<Pt>();
                        dropped += p.c;
                    }
                }
                // The live count must not outlive the instances it counts: it
                // is rebuilt from what is left (the next arrival expires it).
                freed += ns.counter.heap.len() * 16;
                ns.counter.heap.clear();
                ns.counter.live = 0;
                for p in &ns.counter.pts {
                    ns.counter.heap.push(Reverse((p.l, p.c)));
                    ns.counter.live = ns.counter.live.saturating_add(p.c);
                    freed = freed.saturating_sub(16);
                }
            }
            self.stats.evictions += dropped;
            let small = st.bytes.saturating_sub(freed) < 1024 || dropped == 0;
            st.bytes = st.bytes.saturating_sub(freed);
            self.bytes = self.bytes.saturating_sub(freed);
            if small {
                if let Some(st) = self.states.remove(&k) {
                    self.bytes = self.bytes.saturating_sub(st.bytes);
                }
            }
        }
    }
}

/// The report of a root completion.
fn completed(st: &State, it: &Item) -> Completed {
    let id_of = |r: Ref| st.ids.get(&r.uid).map(|s| s.to_string());
    let observations = match &it.used {
        Some(u) => u.iter().map(|x| id_of(Ref { uid: x.uid, at: 0 })).collect(),
        None => vec![id_of(it.lo), id_of(it.hi)],
    };
    Completed {
        took_part: TookPart {
            count: it
                .used
                .as_ref()
                .map_or(it.n, |u| u.iter().map(|x| x.times).sum()),
            first: ObsRef {
                at: it.lo.at,
                id: id_of(it.lo),
            },
            last: ObsRef {
                at: it.hi.at,
                id: id_of(it.hi),
            },
        },
        observations,
    }
}

impl State {
    /// Forgets everything held, keeping the allocations.
    fn clear(&mut self) {
        for n in &mut self.nodes {
            n.store.items.clear();
            for l in &mut n.levels {
                l.items.clear();
            }
            n.counter.pts.clear();
            n.counter.heap.clear();
            n.counter.live = 0;
            n.counter.first = None;
        }
        self.ids.clear();
        self.max_f = i64::MIN;
        self.bytes = 0;
    }
}

fn min_uid(st: &State) -> u64 {
    st.nodes
        .iter()
        .flat_map(|n| {
            let s = n.store.items.front().map(|(it, _)| it.lo.uid);
            let l = n
                .levels
                .iter()
                .filter_map(|s| s.items.front().map(|(it, _)| it.lo.uid));
            let c = n.counter.pts.front().map(|p| p.lo.uid);
            s.into_iter().chain(l).chain(c)
        })
        .min()
        .unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
