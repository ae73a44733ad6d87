//! Which indicators go out: only active ones (issue 15 §2).
//!
//! [`ActiveFilter`] is the plug: [`Lifecycle`] is the rule of today (inside
//! `valid_from`/`valid_until` at a given instant, not revoked, confidence at
//! or above a floor); a scoring lifecycle can replace it without touching the
//! formats. Any `Fn(&Indicator) -> Option<Inactive>` is a filter too.
//! Warninglists are applied per value, later ([`crate::Options::warninglists`]),
//! because one indicator may carry several values and only some be listed.

use crate::Indicator;

/// Why an indicator does not go out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Inactive {
    /// `valid_from` is after the export's instant.
    NotYetValid,
    /// `valid_until` is at or before the export's instant (STIX 2.1 §4.7:
    /// the indicator is no longer valid from `valid_until` on).
    Expired,
    Revoked,
    /// Confidence below the floor, or none stated while a floor is set.
    LowConfidence,
    /// A reason given by another filter (e.g. a decayed score).
    Other(String),
}

impl std::fmt::Display for Inactive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inactive::NotYetValid => f.write_str("not yet valid"),
            Inactive::Expired => f.write_str("expired"),
            Inactive::Revoked => f.write_str("revoked"),
            Inactive::LowConfidence => f.write_str("below the minimum confidence"),
            Inactive::Other(s) => f.write_str(s),
        }
    }
}

/// Decides whether an indicator is active; `None` means it goes out.
pub trait ActiveFilter: Send + Sync {
    fn inactive(&self, indicator: &Indicator) -> Option<Inactive>;
}

impl<F> ActiveFilter for F
where
    F: Fn(&Indicator) -> Option<Inactive> + Send + Sync,
{
    fn inactive(&self, indicator: &Indicator) -> Option<Inactive> {
        self(indicator)
    }
}

/// The lifecycle rule of STIX 2.1 §4.7 plus a confidence floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// The instant the export is for, µs since the epoch.
    pub now: i64,
    /// Only indicators whose `confidence` is at least this; an indicator
    /// without a confidence states none and is left out when a floor is set
    /// (as `sightline match --min-confidence`).
    pub min_confidence: Option<u8>,
}

impl ActiveFilter for Lifecycle {
    fn inactive(&self, ind: &Indicator) -> Option<Inactive> {
        if ind.revoked {
            return Some(Inactive::Revoked);
        }
        if ind.valid_from.is_some_and(|t| t > self.now) {
            return Some(Inactive::NotYetValid);
        }
        if ind.valid_until.is_some_and(|t| t <= self.now) {
            return Some(Inactive::Expired);
        }
        if let Some(min) = self.min_confidence {
            if ind.confidence.is_none_or(|c| c < min) {
                return Some(Inactive::LowConfidence);
            }
        }
        None
    }
}

/// Admits everything (for tests and for exports that filter elsewhere).
#[derive(Debug, Clone, Copy, Default)]
pub struct All;

impl ActiveFilter for All {
    fn inactive(&self, _: &Indicator) -> Option<Inactive> {
        None
    }
}
