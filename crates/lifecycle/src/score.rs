//! The score itself: [`Evaluator`] (a validated [`LifecycleConfig`] with
//! per-rule constants computed once), [`Subject`] (what the formula needs of
//! one indicator, `Copy`, no heap), renewals and verdicts folded in by
//! [`Evaluator::renew`], and [`Evaluator::score`] at a given time.

use std::collections::HashMap;

use serde_json::Value;

use crate::config::{BenignEffect, LifecycleConfig, Renew, VerdictConflict};
use crate::LifecycleError;

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// An analyst's verdict on a sighting or an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    TruePositive,
    FalsePositive,
    Benign,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [
        Verdict::TruePositive,
        Verdict::FalsePositive,
        Verdict::Benign,
    ];

    /// The command line's and the `x_sightline_verdict` property's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::TruePositive => "true-positive",
            Verdict::FalsePositive => "false-positive",
            Verdict::Benign => "benign",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The STIX 2.1 `opinion` value (§4.12, opinion-enum) the verdict is
    /// stored as: the opinion is about the referenced sighting and
    /// indicator being right. A true positive strongly agrees; a false
    /// positive (the indicator matched something it should not have)
    /// strongly disagrees; benign (the match is real, the activity harmless)
    /// disagrees.
    pub fn opinion(self) -> &'static str {
        match self {
            Verdict::TruePositive => "strongly-agree",
            Verdict::FalsePositive => "strongly-disagree",
            Verdict::Benign => "disagree",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened to an indicator, at `at_us` (µs since the epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub at_us: i64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    /// A sighting; `trusted` when a sensor in `where_sighted_refs` is one of
    /// `trusted_sensors` (only those renew).
    Sighting { trusted: bool },
    /// A verdict and who gave it (for `verdict_conflict`).
    Verdict(Verdict, Analyst),
}

/// Who gave a verdict: a 64-bit FNV-1a hash of the opinion's
/// `created_by_ref` (the analyst's identity), so an [`Event`] stays `Copy`.
/// Only compared for equality, between the verdicts of one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Analyst(pub u64);

impl Analyst {
    /// The key of an identity id; `None` (no `created_by_ref`) is one
    /// anonymous analyst.
    pub fn of(identity: Option<&str>) -> Analyst {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in identity.unwrap_or("").bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Analyst(h)
    }
}

/// A decay rule's index in the [`Evaluator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleId(pub u16);

/// Per-rule constants, computed once: the bulk path does one `powf` and a
/// few multiplications per indicator.
#[derive(Debug, Clone, Copy)]
struct Curve {
    /// 1 / lifetime in µs.
    inv_lifetime_us: f64,
    /// 1 / k.
    inv_speed: f64,
}

/// What the formula needs of one indicator. Built by [`Evaluator::subject`]
/// from the STIX object, then [`Evaluator::renew`] folds its history in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subject {
    /// `confidence`, else the feed's default, else the global default.
    pub base: f64,
    pub rule: RuleId,
    pub valid_from_us: i64,
    /// `valid_until`, or `i64::MAX` when absent.
    pub valid_until_us: i64,
    /// The STIX `revoked` property.
    pub revoked: bool,
    /// Where the decay clock starts: `valid_from`, moved by renewals.
    pub clock_us: i64,
    /// The verdict in force (the latest at the evaluated time).
    pub verdict: Option<Verdict>,
}

/// An indicator's properties the lifecycle reads, already parsed, for
/// [`Evaluator::subject_of`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Properties<'a> {
    /// `confidence` (0-100).
    pub confidence: Option<f64>,
    pub created_by: Option<&'a str>,
    /// `valid_from`, else `created`.
    pub valid_from_us: i64,
    /// `valid_until`, or `i64::MAX` when absent.
    pub valid_until_us: i64,
    pub revoked: bool,
    /// The pattern when it is a STIX pattern (its main observable type
    /// picks the rule); `None` for other pattern languages.
    pub stix_pattern: Option<&'a str>,
}

/// Where an indicator stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// At or above `active_threshold`: matched and exported.
    Active,
    /// Between the thresholds, or not valid yet: kept, not matched.
    Inactive,
    /// Below `revoke_threshold`, or revoked, expired or judged false: inactive everywhere.
    Revoked,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Inactive => "inactive",
            State::Revoked => "revoked",
        }
    }
}

/// Why a score is what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// The curve of `rule`, `age_days` into it; `renewed` when a sighting
    /// or a true-positive verdict moved the clock.
    Decay {
        rule: RuleId,
        age_days: f64,
        renewed: bool,
    },
    /// A false-positive (or, with `benign = "drop"`, benign) verdict.
    Verdict(Verdict),
    /// The STIX object says `revoked: true`.
    RevokedInStix,
    /// `valid_until` is at or before the evaluated time.
    Expired,
    /// The evaluated time is before `valid_from`.
    NotYetValid,
}

/// An effective score: 0-100, its state and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub value: f64,
    pub state: State,
    pub reason: Reason,
}

impl Score {
    /// The score as a whole number, as OpenCTI shows its live score.
    pub fn rounded(&self) -> u8 {
        // value is within 0..=100 by construction.
        self.value.round().clamp(0.0, 100.0) as u8
    }
}

/// A validated configuration, ready to score: rules compiled, types indexed.
#[derive(Debug, Clone)]
pub struct Evaluator {
    config: LifecycleConfig,
    names: Vec<String>,
    curves: Vec<Curve>,
    by_type: HashMap<String, RuleId>,
    fallback: RuleId,
}

impl Evaluator {
    /// Validates `config` ([`LifecycleConfig::validate`]) and compiles it.
    pub fn new(config: &LifecycleConfig) -> Result<Evaluator, LifecycleError> {
        config.validate()?;
        let mut rules = config.rules.clone();
        if !rules.iter().any(|r| r.types.is_empty()) {
            if let Some(d) = crate::DecayRule::builtin()
                .into_iter()
                .find(|r| r.types.is_empty())
            {
                rules.push(d);
            }
        }
        if rules.len() > usize::from(u16::MAX) {
            return Err(LifecycleError::Config {
                field: "rules".into(),
                message: format!("{} rules, at most {}", rules.len(), u16::MAX),
            });
        }
        let mut by_type = HashMap::new();
        let mut fallback = None;
        let mut curves = Vec::new();
        let mut names = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let id = RuleId(i as u16);
            for t in &r.types {
                by_type.entry(t.to_ascii_lowercase()).or_insert(id);
            }
            if r.types.is_empty() && fallback.is_none() {
                fallback = Some(id);
            }
            curves.push(Curve {
                inv_lifetime_us: 1.0 / (r.lifetime_days * MICROS_PER_DAY),
                inv_speed: 1.0 / r.speed,
            });
            names.push(r.name.clone());
        }
        Ok(Evaluator {
            config: config.clone(),
            names,
            curves,
            by_type,
            fallback: fallback.unwrap_or(RuleId(0)),
        })
    }

    pub fn config(&self) -> &LifecycleConfig {
        &self.config
    }

    /// The rule's name.
    pub fn rule_name(&self, rule: RuleId) -> &str {
        self.names
            .get(usize::from(rule.0))
            .map_or("", String::as_str)
    }

    /// The rule for a main observable type (`ipv4-addr`, …; `None` for
    /// patterns that are not STIX patterns): the first rule listing it, else
    /// the fallback.
    pub fn rule_for(&self, observable_type: Option<&str>) -> RuleId {
        observable_type
            .and_then(|t| self.by_type.get(t))
            .copied()
            .unwrap_or(self.fallback)
    }

    /// The subject of an indicator's JSON (STIX 2.1 §4.7): base score from
    /// `confidence` (else the feed of `created_by_ref`, else the default),
    /// rule from the pattern's main observable type ([`crate::main_observable_type`]),
    /// `valid_from` (else `created`), `valid_until`, `revoked`. A malformed
    /// property is an error naming the indicator and the property.
    pub fn subject(&self, indicator: &Value) -> Result<Subject, LifecycleError> {
        let id = indicator.get("id").and_then(Value::as_str).unwrap_or("?");
        let bad = |field: &str, message: String| LifecycleError::Indicator {
            id: id.to_owned(),
            field: field.to_owned(),
            message,
        };
        let confidence = match indicator.get("confidence") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(c) if (0.0..=100.0).contains(&c) => Some(c),
                _ => return Err(bad("confidence", format!("{v} is not 0 to 100"))),
            },
        };
        let created_by = indicator.get("created_by_ref").and_then(Value::as_str);
        let time = |field: &str| -> Result<Option<i64>, LifecycleError> {
            match indicator.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => sightline_stix::Timestamp::parse(s)
                    .map(|t| Some(t.micros()))
                    .map_err(|e| bad(field, format!("{s:?}: {e}"))),
                Some(v) => Err(bad(field, format!("{v} is not a timestamp"))),
            }
        };
        let valid_from = match time("valid_from")? {
            Some(t) => t,
            None => time("created")?
                .ok_or_else(|| bad("valid_from", "neither valid_from nor created".into()))?,
        };
        let valid_until = time("valid_until")?.unwrap_or(i64::MAX);
        let revoked = indicator
            .get("revoked")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let is_stix = indicator
            .get("pattern_type")
            .and_then(Value::as_str)
            .is_none_or(|t| t == "stix");
        Ok(self.subject_of(&Properties {
            confidence,
            created_by,
            valid_from_us: valid_from,
            valid_until_us: valid_until,
            revoked,
            stix_pattern: if is_stix {
                indicator.get("pattern").and_then(Value::as_str)
            } else {
                None
            },
        }))
    }

    /// The subject of an indicator whose properties are already read and
    /// checked (an export's typed indicators): the one place the rule and
    /// base score are chosen, for [`Evaluator::subject`] too.
    pub fn subject_of(&self, p: &Properties<'_>) -> Subject {
        let ty = p.stix_pattern.and_then(crate::main_observable_type);
        Subject {
            base: self.config.base_score(p.confidence, p.created_by),
            rule: self.rule_for(ty.as_deref()),
            valid_from_us: p.valid_from_us,
            valid_until_us: p.valid_until_us,
            revoked: p.revoked,
            clock_us: p.valid_from_us,
            verdict: None,
        }
    }

    /// Folds `events` (oldest first) up to `now_us` into `s`: each trusted
    /// sighting and each true-positive verdict renews the clock (`renew`:
    /// reset to the event's time, or the age then divided by
    /// `slow_factor`); the verdict in force is [`Evaluator::verdict_in_force`]'s.
    /// Events after `now_us` have not happened yet at that time and are
    /// skipped, so a historical log is judged as the indicator stood at
    /// each event.
    pub fn renew(&self, mut s: Subject, events: &[Event], now_us: i64) -> Subject {
        for e in events {
            if e.at_us > now_us {
                continue;
            }
            if self.renews(e) && e.at_us > s.clock_us {
                s.clock_us = self.renewed_clock(s.clock_us, e.at_us);
            }
        }
        s.verdict = self.verdict_in_force(events, now_us);
        s
    }

    /// Whether `e` renews: a trusted sighting or a true-positive verdict.
    fn renews(&self, e: &Event) -> bool {
        match e.kind {
            EventKind::Sighting { trusted } => trusted,
            EventKind::Verdict(v, _) => v == Verdict::TruePositive,
        }
    }

    /// Where a clock started at `clock_us` stands after a renewal at `at_us`.
    fn renewed_clock(&self, clock_us: i64, at_us: i64) -> i64 {
        match self.config.renew {
            Renew::Reset => at_us,
            Renew::Slow => {
                let age = at_us.saturating_sub(clock_us) as f64;
                at_us.saturating_sub((age / self.config.slow_factor) as i64)
            }
        }
    }

    /// The verdict in force at `now_us` among the verdicts in `events`
    /// (oldest first) given by then, under `verdict_conflict`: the latest
    /// (`latest`); or the named verdict while some analyst's own latest
    /// verdict is it (`false-positive-wins`, `true-positive-wins`), else
    /// the latest. No allocation: verdicts per indicator are few.
    pub fn verdict_in_force(&self, events: &[Event], now_us: i64) -> Option<Verdict> {
        let given = || {
            events
                .iter()
                .enumerate()
                .filter_map(move |(i, e)| match e.kind {
                    EventKind::Verdict(v, a) if e.at_us <= now_us => Some((i, v, a)),
                    _ => None,
                })
        };
        let latest = given().next_back().map(|(_, v, _)| v);
        let wins = match self.config.verdict_conflict {
            VerdictConflict::Latest => return latest,
            VerdictConflict::FalsePositiveWins => Verdict::FalsePositive,
            VerdictConflict::TruePositiveWins => Verdict::TruePositive,
        };
        // Some analyst's latest verdict is `wins`: one of theirs that no
        // later verdict of theirs replaced.
        let held = given().any(|(i, v, a)| v == wins && !given().any(|(j, _, b)| j > i && b == a));
        if held {
            Some(wins)
        } else {
            latest
        }
    }

    /// The score of `s` at `now_us` (µs since the epoch: event time for a
    /// historical log, wall time for live data; the caller chooses):
    /// `base * (1 - (t / L)^(1 / k))` with `t` the time since the clock
    /// started, clamped to 0..=base; no allocation.
    #[inline]
    pub fn score(&self, s: &Subject, now_us: i64) -> Score {
        let fixed = |value: f64, state: State, reason: Reason| Score {
            value,
            state,
            reason,
        };
        if s.revoked {
            return fixed(0.0, State::Revoked, Reason::RevokedInStix);
        }
        if s.valid_until_us <= now_us {
            return fixed(0.0, State::Revoked, Reason::Expired);
        }
        if now_us < s.valid_from_us {
            return fixed(s.base, State::Inactive, Reason::NotYetValid);
        }
        match s.verdict {
            Some(v @ Verdict::FalsePositive) => {
                return fixed(0.0, State::Revoked, Reason::Verdict(v));
            }
            Some(v @ Verdict::Benign) if self.config.benign == BenignEffect::Drop => {
                return fixed(0.0, State::Revoked, Reason::Verdict(v));
            }
            _ => {}
        }
        let c = self
            .curves
            .get(usize::from(s.rule.0))
            .copied()
            .unwrap_or(Curve {
                inv_lifetime_us: 0.0,
                inv_speed: 1.0,
            });
        let t = now_us.saturating_sub(s.clock_us).max(0) as f64;
        let x = t * c.inv_lifetime_us;
        let value = if x >= 1.0 {
            0.0
        } else {
            s.base * (1.0 - x.powf(c.inv_speed))
        };
        let state = if value >= self.config.active_threshold {
            State::Active
        } else if value < self.config.revoke_threshold {
            State::Revoked
        } else {
            State::Inactive
        };
        Score {
            value,
            state,
            reason: Reason::Decay {
                rule: s.rule,
                age_days: t / MICROS_PER_DAY,
                renewed: s.clock_us != s.valid_from_us,
            },
        }
    }

    /// Whether the verdict in force takes `s` out whatever its score: a
    /// false positive, or benign with `benign = "drop"`.
    pub fn verdict_drops(&self, s: &Subject) -> bool {
        match s.verdict {
            Some(Verdict::FalsePositive) => true,
            Some(Verdict::Benign) => self.config.benign == BenignEffect::Drop,
            _ => false,
        }
    }

    /// When `s` is active, as a matcher needs it (issue 16 §3: decay judged
    /// at each event's own time): `[valid_from, end)` in µs, where `end` is
    /// the earlier of `valid_until` and the instant the curve falls below
    /// `active_threshold` (`clock + L * (1 - threshold / base)^k`). `None`:
    /// never active (revoked, a verdict in force that drops it, a base
    /// below the threshold). The renewals folded into `s` hold for the
    /// whole window: an indicator renewed after a lapse is active during
    /// the lapse too: for events at their own time, use
    /// [`Evaluator::active_windows`].
    pub fn active_window(&self, s: &Subject) -> Option<(i64, i64)> {
        if s.revoked || self.verdict_drops(s) {
            return None;
        }
        let end = self.active_end(s.clock_us, s)?.min(s.valid_until_us);
        (end > s.valid_from_us).then_some((s.valid_from_us, end))
    }

    /// The first instant a curve started at `clock_us` is below
    /// `active_threshold` (`clock + L * (1 - threshold / base)^k`, plus
    /// 1 µs: the last active instant is included); `None` when `s` is
    /// never active (a base below the threshold); `i64::MAX` for never.
    fn active_end(&self, clock_us: i64, s: &Subject) -> Option<i64> {
        if s.base < self.config.active_threshold {
            return None;
        }
        let c = self.curves.get(usize::from(s.rule.0))?;
        let left = 1.0 - self.config.active_threshold / s.base;
        // (1 - thr/base)^k * L, with 1/k and 1/L stored.
        let span_us = left.powf(1.0 / c.inv_speed) / c.inv_lifetime_us;
        Some(if span_us.is_finite() && span_us < 9.0e18 {
            clock_us.saturating_add(span_us as i64).saturating_add(1)
        } else {
            i64::MAX
        })
    }

    /// When `s` is active for events judged at their own time (issue 16
    /// §3, historical logs), given its whole known history `events`
    /// (oldest first): disjoint `[from, end)` windows in µs, in order; an
    /// event at `t` is matched only inside one. `s` is the subject as
    /// [`Evaluator::subject`] gives it (not renewed).
    ///
    /// Renewals count from their own time only: a trusted sighting or a
    /// true-positive verdict after a lapse starts a new window there, and
    /// events inside the lapse stay unmatched. Verdicts judge the indicator
    /// rather than a moment, so the one in force with everything known
    /// ([`Evaluator::verdict_in_force`] at the end of time) applies to every
    /// event: a false positive is not right for last year's log either.
    /// Agrees with [`Evaluator::score`] at each instant for histories
    /// without verdicts (`tests::windows_agree_with_the_score`).
    pub fn active_windows(&self, s: &Subject, events: &[Event]) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        let dropped = match self.verdict_in_force(events, i64::MAX) {
            Some(Verdict::FalsePositive) => true,
            Some(Verdict::Benign) => self.config.benign == BenignEffect::Drop,
            _ => false,
        };
        if s.revoked || dropped || s.base < self.config.active_threshold {
            return out;
        }
        let mut push = |from: i64, end: i64| {
            let end = end.min(s.valid_until_us);
            if end <= from {
                return;
            }
            match out.last_mut() {
                Some(last) if last.1 >= from => last.1 = last.1.max(end),
                _ => out.push((from, end)),
            }
        };
        // The clock only moves forward (a reset to a later time, or the
        // age divided), so each segment starts at or after valid_from.
        let mut clock = s.clock_us;
        let mut start = s.valid_from_us;
        for e in events {
            if !self.renews(e) || e.at_us <= clock {
                continue;
            }
            if let Some(end) = self.active_end(clock, s) {
                push(start, end.min(e.at_us));
            }
            clock = self.renewed_clock(clock, e.at_us);
            start = e.at_us;
        }
        if let Some(end) = self.active_end(clock, s) {
            push(start, end);
        }
        out
    }

    /// Whether `s` is active for an event at `t_us` given its whole known
    /// history: inside one of [`Evaluator::active_windows`].
    pub fn active_at(windows: &[(i64, i64)], t_us: i64) -> bool {
        // Windows are disjoint and in order: the last starting at or before t.
        let i = windows.partition_point(|&(from, _)| from <= t_us);
        i > 0 && windows.get(i - 1).is_some_and(|&(_, end)| t_us < end)
    }

    /// The bulk path (exports, reloads): the scores of `subjects` at one
    /// time into `out` (cleared first; reserve once and reuse it).
    pub fn score_all(&self, subjects: &[Subject], now_us: i64, out: &mut Vec<Score>) {
        out.clear();
        out.extend(subjects.iter().map(|s| self.score(s, now_us)));
    }

    /// The score of an indicator's JSON with its history (oldest first).
    pub fn evaluate(
        &self,
        indicator: &Value,
        events: &[Event],
        now_us: i64,
    ) -> Result<Score, LifecycleError> {
        let s = self.renew(self.subject(indicator)?, events, now_us);
        Ok(self.score(&s, now_us))
    }

    /// Whether an indicator is active at `now_us` (what exports and
    /// matchers filter on): [`Evaluator::evaluate`]'s state is
    /// [`State::Active`].
    pub fn is_active(
        &self,
        indicator: &Value,
        events: &[Event],
        now_us: i64,
    ) -> Result<bool, LifecycleError> {
        Ok(self.evaluate(indicator, events, now_us)?.state == State::Active)
    }

    /// The score as JSON for output wrappers (`get --json`'s
    /// `x_sightline_score`): `value` (two decimals), `rounded`, `state`,
    /// `reason`, and for decay the `rule` and `age_days`.
    pub fn describe(&self, score: &Score) -> Value {
        let mut v = serde_json::json!({
            "value": (score.value * 100.0).round() / 100.0,
            "rounded": score.rounded(),
            "state": score.state.as_str(),
        });
        let reason = match score.reason {
            Reason::Decay {
                rule,
                age_days,
                renewed,
            } => {
                v["rule"] = Value::from(self.rule_name(rule));
                v["age_days"] = Value::from((age_days * 100.0).round() / 100.0);
                v["renewed"] = Value::from(renewed);
                "decay"
            }
            Reason::Verdict(Verdict::FalsePositive) => "verdict: false-positive",
            Reason::Verdict(Verdict::Benign) => "verdict: benign",
            Reason::Verdict(Verdict::TruePositive) => "verdict: true-positive",
            Reason::RevokedInStix => "revoked",
            Reason::Expired => "expired (valid_until)",
            Reason::NotYetValid => "not yet valid (valid_from)",
        };
        v["reason"] = Value::from(reason);
        v
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use serde_json::json;

    fn us(t: &str) -> i64 {
        sightline_stix::Timestamp::parse(t).map_or(0, |t| t.micros())
    }

    fn subject(e: &Evaluator, confidence: u8, extra: Value) -> Subject {
        let mut v = json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2025-12-20T00:00:00.000Z", "modified": "2025-12-20T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z", "confidence": confidence});
        if let (Some(o), Some(x)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        e.subject(&v).expect("well formed")
    }

    /// The crate docs' worked example (confidence 80, rule ip: L = 47,
    /// k = 1.65, threshold 30): active until 47 * 0.625^1.65 = 21.64 days,
    /// the last instant whose score is still at least 30.
    #[test]
    fn the_window_ends_where_the_score_leaves_active() {
        let e = Evaluator::new(&LifecycleConfig::default()).expect("defaults");
        let s = subject(&e, 80, json!({}));
        let (from, end) = e.active_window(&s).expect("active at first");
        assert_eq!(from, us("2026-01-01T00:00:00Z"));
        let days = (end - from) as f64 / MICROS_PER_DAY;
        assert!((days - 21.64).abs() < 0.01, "{days}");
        assert_eq!(e.score(&s, end - 1).state, State::Active);
        assert_ne!(e.score(&s, end).state, State::Active);
        // A renewal moves the window; valid_until cuts it.
        let renewed = e.renew(
            s,
            &[Event {
                at_us: us("2026-01-20T00:00:00Z"),
                kind: EventKind::Sighting { trusted: true },
            }],
            i64::MAX,
        );
        let (_, end2) = e.active_window(&renewed).expect("active");
        assert_eq!(end2 - end, us("2026-01-20T00:00:00Z") - from);
        let cut = subject(&e, 80, json!({"valid_until": "2026-01-05T00:00:00Z"}));
        assert_eq!(
            e.active_window(&cut).map(|w| w.1),
            Some(us("2026-01-05T00:00:00Z"))
        );
        // Never active: below the threshold, revoked, a false positive.
        assert_eq!(e.active_window(&subject(&e, 20, json!({}))), None);
        assert_eq!(
            e.active_window(&subject(&e, 80, json!({"revoked": true}))),
            None
        );
        let fp = e.renew(
            s,
            &[Event {
                at_us: us("2026-01-02T00:00:00Z"),
                kind: EventKind::Verdict(Verdict::FalsePositive, Analyst::default()),
            }],
            i64::MAX,
        );
        assert_eq!(e.active_window(&fp), None);
    }
}
