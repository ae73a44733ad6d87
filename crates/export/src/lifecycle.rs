//! The indicator lifecycle (issue 16) on the indicators an export read:
//! each one's effective score and state at the export's instant, from its
//! own properties plus its sightings and verdicts, so an export can leave
//! out what is not active ([`Scoring`]) and write the score (CSV `score`,
//! Suricata `sightline_score`).
//!
//! The subject is built from the [`Indicator`] already read, not by
//! `sightline_lifecycle::bulk::not_active`, which reads every indicator's
//! JSON a second time (most of an export's store time at 100,000), through
//! the lifecycle's own [`Evaluator::subject_of`] (rule and base score chosen
//! there only); the `subject_agrees_with_the_lifecycle_crate` test checks
//! the properties read here against the JSON reading.

use std::collections::HashSet;

use sightline_lifecycle::bulk::Histories;
use sightline_lifecycle::{Evaluator, Properties, State, Subject};
use sightline_store::ObjectReader;

use crate::{ActiveFilter, ExportError, Inactive, Indicator, Lifecycle};

/// An indicator's lifecycle score (0-100, rounded) and state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scored {
    pub score: u8,
    pub state: State,
}

/// The lifecycle's subject of `ind`, as [`Evaluator::subject`] builds it from
/// the indicator's JSON; `None` when it has neither `valid_from` nor a
/// readable `created` (the lifecycle cannot score it; it is left to the
/// STIX rules, as the sensor feeds do).
pub fn subject(eval: &Evaluator, ind: &Indicator) -> Option<Subject> {
    let valid_from = match ind.valid_from {
        Some(t) => t,
        None => sightline_stix::Timestamp::parse(ind.created.as_deref()?)
            .ok()?
            .micros(),
    };
    Some(eval.subject_of(&Properties {
        confidence: ind.confidence.map(f64::from),
        created_by: ind.created_by.as_deref(),
        valid_from_us: valid_from,
        valid_until_us: ind.valid_until.unwrap_or(i64::MAX),
        revoked: ind.revoked,
        stix_pattern: (ind.pattern_type == "stix").then_some(ind.pattern.as_str()),
    }))
}

/// Scores `indicators` at `now_us` with their sightings and verdicts (two
/// paged store passes, `sightline_lifecycle::bulk::histories`) into
/// [`Indicator::scored`].
pub fn score(
    store: &dyn ObjectReader,
    eval: &Evaluator,
    indicators: &mut [Indicator],
    now_us: i64,
) -> Result<(), ExportError> {
    let ids: HashSet<String> = indicators.iter().map(|i| i.id.clone()).collect();
    let h = sightline_lifecycle::bulk::histories(store, eval.config(), &ids)?;
    score_with(eval, indicators, now_us, &h);
    Ok(())
}

/// As [`score`], with the histories already read (empty: no sightings and
/// no verdicts).
pub fn score_with(eval: &Evaluator, indicators: &mut [Indicator], now_us: i64, h: &Histories) {
    for ind in indicators {
        ind.scored = subject(eval, ind).map(|s| {
            let events = h.events.get(&ind.id).map_or(&[][..], Vec::as_slice);
            let sc = eval.score(&eval.renew(s, events, now_us), now_us);
            Scored {
                score: sc.rounded(),
                state: sc.state,
            }
        });
    }
}

/// The filter of `sightline export` and the sensor feeds: the STIX validity
/// rules ([`Lifecycle`]) first, then, when `apply`, the lifecycle's state
/// (an indicator not scored is judged by the STIX rules alone).
#[derive(Debug, Clone, Copy)]
pub struct Scoring {
    pub stix: Lifecycle,
    pub apply: bool,
}

impl ActiveFilter for Scoring {
    fn inactive(&self, ind: &Indicator) -> Option<Inactive> {
        self.stix.inactive(ind).or_else(|| {
            let s = ind
                .scored
                .filter(|s| self.apply && s.state != State::Active)?;
            Some(Inactive::Other(format!("lifecycle: {}", s.state.as_str())))
        })
    }
}
