//! Indicator lifecycle (issue 16): an effective score 0-100 per indicator,
//! computed, never stored in the object (the STIX objects stay byte for byte
//! as received), from its confidence, its age and a decay rule chosen by
//! observable type, renewed by sightings and overruled by analyst verdicts.
//!
//! # The formula
//!
//! OpenCTI's and MISP's polynomial decay (`../shared/spec/integrations.md`
//! §6.2, §6.3), with the shape `k` exposed directly:
//!
//! ```text
//! score(t) = base * (1 - (t / L) ^ (1 / k))    0 <= t < L
//! score(t) = 0                                  t >= L
//! ```
//!
//! - `base`: the indicator's `confidence`; without one, the default of its
//!   feed (`[lifecycle.feeds."identity--…"]`, by `created_by_ref`), else
//!   `default_confidence` (50, OpenCTI's default score).
//! - `t`: time since the decay clock started: `valid_from` (else
//!   `created`), moved by renewals (below). In days, as a real number.
//! - `L` (`lifetime_days`) and `k` (`speed`) come from the first rule whose
//!   `types` holds the pattern's main observable type: the object type of
//!   its first comparison in text order (OpenCTI's
//!   `x_opencti_main_observable_type`); other pattern languages, and
//!   patterns that do not parse, take the fallback rule. OpenCTI's `k` is
//!   `3 * decay_pound`, MISP's is `decay_speed`.
//!
//! Built-in rules (OpenCTI's, `url` moved to the domain rule: see
//! [`DecayRule::builtin`]):
//!
//! | rule | types | L (days) | k | days to 50 / 20 at base 100 |
//! |---|---|---|---|---|
//! | ip | ipv4-addr, ipv6-addr | 47 | 1.65 | 15.0 / 32.5 |
//! | domain-and-url | domain-name, url | 300 | 2.1 | 70.0 / 187.8 |
//! | file | file, artifact | 460 | 0.9 | 246.5 / 376.3 |
//! | default | (all others) | 470 | 1.05 | 227.0 / 371.8 |
//!
//! States: at or above `active_threshold` (30) **active**; below
//! `revoke_threshold` (20) **revoked** (inactive everywhere); between them
//! **inactive**. `revoked: true` in the object, a passed `valid_until`, and
//! a false-positive verdict make it revoked whatever the curve says; before
//! `valid_from` it is inactive.
//!
//! Differences from the anchors, on purpose:
//! - Sightings renew (MISP restarts the clock on a true-positive sighting;
//!   OpenCTI ignores sightings, its feature requests #4949, #16282): a
//!   sighting by a sensor in `trusted_sensors` (at its `first_seen` and its
//!   `last_seen`) and a true-positive verdict either restart the clock
//!   (`renew = "reset"`, the default) or divide the age at that moment by
//!   `slow_factor` (`renew = "slow"`).
//! - The score is computed at a time the caller passes (event time for a
//!   historical log, wall time for live data), not stepped by a background
//!   manager through reaction points: no stored score to fall behind, and
//!   events after that time do not count.
//! - Editing a rule applies to every indicator at once (OpenCTI copies the
//!   rule into each indicator; its FR #7790).
//! - Verdicts: every verdict is kept (two analysts disagreeing are two
//!   opinions; [`verdicts_of`] lists them); which is in force is
//!   `verdict_conflict`: `"latest"` (default), whoever gave it, or
//!   `"false-positive-wins"` / `"true-positive-wins"`: that verdict while
//!   any analyst's own latest verdict is it, else the latest
//!   ([`Evaluator::verdict_in_force`]). A false positive drops the score to
//!   0 (revoked) while in force; `benign = "drop"` (default) treats benign
//!   the same, `"keep"` leaves the score to the curve.
//! - Event time is piecewise ([`Evaluator::active_windows`]): a historical
//!   event matches only if the indicator was active at its own time, so a
//!   renewal after a lapse opens a new window and leaves the lapse
//!   unmatched; the verdict in force with everything known judges every
//!   event (it is about the indicator, not a moment).
//!
//! # Worked example (the same numbers are in `tests::worked_example`)
//!
//! `[ipv4-addr:value = '198.51.100.7']`, `confidence` 80, `valid_from`
//! 2026-01-01T00:00:00Z, default configuration (rule `ip`: L = 47, k = 1.65):
//!
//! | at | t (days) | score | state |
//! |---|---|---|---|
//! | 2026-01-01 | 0 | 80.00 | active |
//! | 2026-01-11 | 10 | 80 × (1 − (10/47)^(1/1.65)) = 48.68 | active |
//! | 2026-01-21 | 20 | 32.33 | active |
//! | 2026-01-26 | 25 | 25.43 | inactive |
//! | 2026-01-31 | 30 | 19.06 | revoked |
//!
//! With a trusted sighting on 2026-01-21: on 2026-01-31 t = 10, 48.68,
//! active (`renew = "slow"`, factor 2: the age 20 becomes 10 on 2026-01-21,
//! so t = 20 on 2026-01-31: 32.33). Without `confidence` (base 50): 30.43
//! at 10 days. A false-positive verdict on 2026-01-15: 0, revoked, from
//! that moment; the score on 2026-01-11 is still 48.68.

pub mod bulk;
mod config;
pub mod quality;
pub mod retire;
mod score;
pub mod verdict;

pub use config::{BenignEffect, DecayRule, FeedDefaults, LifecycleConfig, Renew, VerdictConflict};
pub use score::{
    Analyst, Evaluator, Event, EventKind, Properties, Reason, RuleId, Score, State, Subject,
    Verdict,
};
pub use verdict::{history, verdicts_of, History, VerdictRecord};

/// Everything that can go wrong, each naming what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// A `[lifecycle]` setting that cannot work.
    #[error("lifecycle: {field}: {message}")]
    Config { field: String, message: String },
    /// An indicator property the score needs is malformed.
    #[error("indicator {id}: {field}: {message}")]
    Indicator {
        id: String,
        field: String,
        message: String,
    },
    /// No object with this id in the store.
    #[error("no object {0:?} in the store")]
    UnknownId(String),
    /// A verdict names something that is neither a sighting nor an indicator,
    /// or a sighting whose indicator is missing.
    #[error("{id}: {message}")]
    Target { id: String, message: String },
    /// An input value (an analyst name, a note, …) that cannot be used.
    #[error("{field}: {message}")]
    Input { field: String, message: String },
    #[error(transparent)]
    Store(#[from] sightline_store::StoreError),
}

/// The main observable type of a STIX pattern: the object type of its first
/// comparison in text order (`[ipv4-addr:value = '…' OR domain-name:value =
/// '…']` is `ipv4-addr`); `None` when it does not parse.
///
/// The common shape (brackets and parentheses, then `type:`) is read by a
/// scan of the first bytes (a full parse costs about 2.5 µs, most of what
/// scoring a stored indicator costs); anything else (`EXISTS`, spaces
/// before the colon, …) is parsed. Stored patterns passed the validator, so
/// the scan's answer is the parser's (`tests::scan_agrees_with_the_parser`).
pub fn main_observable_type(pattern: &str) -> Option<String> {
    let rest =
        pattern.trim_start_matches(|c: char| c == '[' || c == '(' || c.is_ascii_whitespace());
    let end = rest
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or(rest.len());
    if end > 0 && rest.as_bytes().get(end) == Some(&b':') {
        return Some(rest[..end].to_ascii_lowercase());
    }
    parsed_main_observable_type(pattern)
}

/// [`main_observable_type`] by the parser.
pub fn parsed_main_observable_type(pattern: &str) -> Option<String> {
    use sightline_pattern::{CmpKind, ObsKind};
    fn in_cmp(c: &sightline_pattern::CmpExpr) -> Option<&str> {
        match &c.kind {
            CmpKind::Comparison(cmp) => Some(cmp.path.object_type.as_str()),
            CmpKind::Group(g) => in_cmp(g),
            CmpKind::And(v) | CmpKind::Or(v) => v.first().and_then(in_cmp),
        }
    }
    fn in_obs(o: &sightline_pattern::ObsExpr) -> Option<&str> {
        match &o.kind {
            ObsKind::Observation(c) => in_cmp(c),
            ObsKind::Group(g) => in_obs(g),
            ObsKind::And(v) | ObsKind::Or(v) | ObsKind::FollowedBy(v) => v.first().and_then(in_obs),
            ObsKind::Qualified { expr, .. } => in_obs(expr),
        }
    }
    let p = sightline_pattern::parse(pattern).ok()?;
    in_obs(&p.expr).map(|t| t.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
