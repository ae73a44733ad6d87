//! The reference evaluator: slow and obviously correct, straight from STIX 2.1
//! Part 9. It enumerates every *binding* (which observations satisfy which
//! observation expression) the way the specification describes the
//! semantics, and is the oracle the compiled matcher is tested against.
//!
//! - `[ ... ]` (§9.5) holds for an observation when some SCO of it satisfies
//!   the comparison expression; `AND` inside the brackets must hold for the
//!   same root object, `OR` for any.
//! - An observation with `number_observed = n` counts as n observations with
//!   the same interval (§9.6, REPEATS). A binding is therefore a multiset of
//!   observation indexes, each used at most `number_observed` times (kept as
//!   sorted `(index, times)` pairs).
//! - `A AND B` (§9.6): bindings of A and of B that share no observation.
//!   `A OR B`: bindings of either. `A FOLLOWEDBY B`: as AND, and B's
//!   observations are not earlier than A's: the latest `first_observed` of A
//!   ≤ the earliest `last_observed` of B (timestamps may be chosen anywhere in
//!   each observation's interval).
//! - `WITHIN n SECONDS` (§9.7): some n-second window touches every interval of
//!   the binding: max(first_observed) − min(last_observed) ≤ n.
//! - `START s STOP e`: every observation's interval meets `[s, e)`:
//!   first_observed < e and last_observed ≥ s; s ≥ e never matches.
//! - `REPEATS n TIMES`: n bindings of the inner expression, pairwise disjoint.
//!
//! Qualifiers apply in the order written. Bindings are kept as a set, so the
//! cost is polynomial in the number of observations per node, with a cap
//! ([`MAX_BINDINGS`]) that turns an explosion into an error.

use std::cell::Cell;
use std::collections::BTreeSet;

use crate::value::Value;

use crate::observation::Observation;
use crate::prepare::{EvalError, PCmp, PObs, Prepared, Test};

/// The most bindings one node may produce before evaluation gives up.
pub const MAX_BINDINGS: usize = 200_000;
/// The most binding joins one evaluation may try (`REPEATS 1000000000 TIMES`
/// over an observed-data with a huge `number_observed` would otherwise run
/// for ever).
pub const MAX_JOINS: u64 = 2_000_000;

/// A multiset of observation indexes: `(index, times)`, sorted by index.
type Binding = Vec<(u32, u64)>;
type Bindings = BTreeSet<Binding>;

/// Whether `observations` satisfy `pattern`.
pub fn evaluate(pattern: &Prepared, observations: &[Observation]) -> Result<bool, EvalError> {
    let times: Vec<Slot> = observations.iter().map(Slot::of).collect();
    let leaf = |_: usize, cmp: &PCmp, i: usize| -> Result<bool, EvalError> {
        Ok(observation_matches(cmp, &observations[i])?.is_some())
    };
    Ok(!Reference {
        slots: &times,
        leaf: &leaf,
        joins: Cell::new(0),
    }
    .bindings(&pattern.root)?
    .is_empty())
}

/// What the binding rules need of one observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub first: i64,
    pub last: i64,
    pub count: u64,
}

impl Slot {
    pub fn of(o: &Observation) -> Self {
        Slot {
            first: o.first_observed,
            last: o.last_observed,
            count: o.number_observed,
        }
    }
}

/// Whether a leaf (by number and comparison expression) holds for the
/// observation at an index.
pub type LeafOracle<'a> = dyn Fn(usize, &PCmp, usize) -> Result<bool, EvalError> + 'a;

/// The bindings of `root` over observations described by `slots`, with leaf
/// verdicts from `leaf`: the same rules as [`evaluate`], for callers that
/// already know which observation satisfies which `[ ... ]` (the compiled
/// matcher's streaming state). Returns the multisets of slot indexes.
pub fn bindings(
    root: &PObs,
    slots: &[Slot],
    leaf: &LeafOracle<'_>,
) -> Result<BTreeSet<Vec<(u32, u64)>>, EvalError> {
    Reference {
        slots,
        leaf,
        joins: Cell::new(0),
    }
    .bindings(root)
}

/// The comparisons that held and the value each matched (none for `NOT EXISTS`).
pub type Why<'a> = Vec<(&'a Test, Option<&'a Value>)>;

/// Whether one observation satisfies a comparison expression, and the first
/// (test, value) that did, for explanations.
pub fn observation_matches<'a>(
    cmp: &'a PCmp,
    obs: &'a Observation,
) -> Result<Option<Why<'a>>, EvalError> {
    let mut why = Vec::new();
    let roots = roots(cmp, obs, &mut why)?;
    Ok((!roots.is_empty()).then_some(why))
}

/// The indexes of the SCOs of `obs` for which `cmp` holds (same-object rule:
/// AND intersects, OR unites; Part 9 §9.5).
fn roots<'a>(
    cmp: &'a PCmp,
    obs: &'a Observation,
    why: &mut Why<'a>,
) -> Result<BTreeSet<usize>, EvalError> {
    match cmp {
        PCmp::Test(t) => {
            let mut out = BTreeSet::new();
            for (i, (_, obj)) in obs.objects.iter().enumerate() {
                if Observation::object_type(obj) != Some(t.object_type.as_str()) {
                    continue;
                }
                if let Some(v) = t.on_object(obs, obj)? {
                    if out.is_empty() {
                        why.push((t.as_ref(), v));
                    }
                    out.insert(i);
                }
            }
            Ok(out)
        }
        PCmp::And(items) => {
            let mut acc: Option<BTreeSet<usize>> = None;
            for c in items {
                let r = roots(c, obs, why)?;
                acc = Some(match acc {
                    None => r,
                    Some(a) => a.intersection(&r).copied().collect(),
                });
                if acc.as_ref().is_some_and(BTreeSet::is_empty) {
                    break;
                }
            }
            Ok(acc.unwrap_or_default())
        }
        PCmp::Or(items) => {
            let mut acc = BTreeSet::new();
            for c in items {
                acc.extend(roots(c, obs, why)?);
            }
            Ok(acc)
        }
    }
}

struct Reference<'a> {
    slots: &'a [Slot],
    leaf: &'a LeafOracle<'a>,
    /// Joins tried so far, against [`MAX_JOINS`].
    joins: Cell<u64>,
}

impl Reference<'_> {
    fn first(&self, i: u32) -> i64 {
        self.slots[i as usize].first
    }
    fn last(&self, i: u32) -> i64 {
        self.slots[i as usize].last
    }

    /// The union of two bindings if no observation is used more often than
    /// it was observed.
    fn join(&self, a: &Binding, b: &Binding) -> Option<Binding> {
        let mut out: Binding = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = match (a.get(i), b.get(j)) {
                (Some(&(x, n)), Some(&(y, m))) if x == y => {
                    i += 1;
                    j += 1;
                    (x, n.checked_add(m)?)
                }
                (Some(&(x, n)), Some(&(y, _))) if x < y => {
                    i += 1;
                    (x, n)
                }
                (_, Some(&(y, m))) => {
                    j += 1;
                    (y, m)
                }
                (Some(&(x, n)), None) => {
                    i += 1;
                    (x, n)
                }
                (None, None) => break,
            };
            if next.1 > self.slots[next.0 as usize].count {
                return None;
            }
            out.push(next);
        }
        Some(out)
    }

    fn product(
        &self,
        left: &Bindings,
        right: &Bindings,
        keep: impl Fn(&Binding, &Binding) -> bool,
    ) -> Result<Bindings, EvalError> {
        let mut out = Bindings::new();
        for l in left {
            for r in right {
                let tried = self.joins.get() + 1;
                if tried > MAX_JOINS {
                    return Err(EvalError::TooCostly { limit: MAX_JOINS });
                }
                self.joins.set(tried);
                if keep(l, r) {
                    if let Some(b) = self.join(l, r) {
                        out.insert(b);
                        if out.len() > MAX_BINDINGS {
                            return Err(EvalError::TooManyBindings {
                                limit: MAX_BINDINGS,
                            });
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn bindings(&self, e: &PObs) -> Result<Bindings, EvalError> {
        match e {
            PObs::Leaf(id, cmp) => {
                let mut out = Bindings::new();
                for i in 0..self.slots.len() {
                    if (self.leaf)(*id, cmp, i)? {
                        let i = u32::try_from(i).map_err(|_| EvalError::TooManyBindings {
                            limit: MAX_BINDINGS,
                        })?;
                        out.insert(vec![(i, 1)]);
                    }
                }
                Ok(out)
            }
            PObs::And(items) => {
                let mut acc = self.bindings(&items[0])?;
                for item in &items[1..] {
                    if acc.is_empty() {
                        break;
                    }
                    acc = self.product(&acc, &self.bindings(item)?, |_, _| true)?;
                }
                Ok(acc)
            }
            PObs::Or(items) => {
                let mut acc = Bindings::new();
                for item in items {
                    acc.extend(self.bindings(item)?);
                    if acc.len() > MAX_BINDINGS {
                        return Err(EvalError::TooManyBindings {
                            limit: MAX_BINDINGS,
                        });
                    }
                }
                Ok(acc)
            }
            PObs::FollowedBy(items) => {
                let mut acc = self.bindings(&items[0])?;
                for item in &items[1..] {
                    if acc.is_empty() {
                        break;
                    }
                    acc = self.product(&acc, &self.bindings(item)?, |l, r| {
                        let latest_first = l.iter().map(|&(i, _)| self.first(i)).max();
                        let earliest_last = r.iter().map(|&(i, _)| self.last(i)).min();
                        latest_first <= earliest_last
                    })?;
                }
                Ok(acc)
            }
            PObs::Within(inner, micros) => {
                let mut acc = self.bindings(inner)?;
                acc.retain(|b| {
                    let max_first = b.iter().map(|&(i, _)| self.first(i)).max().unwrap_or(0);
                    let min_last = b.iter().map(|&(i, _)| self.last(i)).min().unwrap_or(0);
                    i128::from(max_first) - i128::from(min_last) <= i128::from(*micros)
                });
                Ok(acc)
            }
            PObs::StartStop(inner, start, stop) => {
                if start >= stop {
                    return Ok(Bindings::new());
                }
                let mut acc = self.bindings(inner)?;
                acc.retain(|b| {
                    b.iter()
                        .all(|&(i, _)| self.first(i) < *stop && self.last(i) >= *start)
                });
                Ok(acc)
            }
            PObs::Repeats(inner, n) => {
                let base = self.bindings(inner)?;
                let instances = self
                    .slots
                    .iter()
                    .fold(0u64, |acc, o| acc.saturating_add(o.count));
                // n non-empty disjoint bindings need at least n instances.
                if base.is_empty() || *n > instances {
                    return Ok(Bindings::new());
                }
                let mut acc = base.clone();
                for _ in 1..*n {
                    acc = self.product(&acc, &base, |_, _| true)?;
                    if acc.is_empty() {
                        break;
                    }
                }
                Ok(acc)
            }
        }
    }
}

#[cfg(test)]
mod tests;
