//! `[lifecycle]`: decay rules, thresholds, default confidences and what
//! sightings and verdicts do, with built-in defaults for every setting.
//!
//! ```toml
//! [lifecycle]
//! default_confidence = 50      # an indicator without `confidence` and no feed default
//! active_threshold = 30        # at or above: active (matched, exported)
//! revoke_threshold = 20        # below: revoked (inactive everywhere)
//! trusted_sensors = ["identity--…"]   # whose sightings renew; "*" = every sensor
//! renew = "reset"              # or "slow": the age at a renewal is divided by slow_factor
//! slow_factor = 2.0
//! benign = "drop"              # "drop" (like a false positive) or "keep" (no effect)
//! verdict_conflict = "latest"  # analysts disagree: "latest", "false-positive-wins",
//!                              # "true-positive-wins"
//!
//! [lifecycle.feeds."identity--…"]   # by the indicator's created_by_ref
//! confidence = 70
//!
//! [[lifecycle.rules]]          # replaces the built-in rules when given
//! name = "ip"
//! types = ["ipv4-addr", "ipv6-addr"]
//! lifetime_days = 47
//! speed = 1.65                 # k in base * (1 - (t/L)^(1/k))
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::LifecycleError;

/// One decay curve and the observable types it applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecayRule {
    pub name: String,
    /// STIX Cyber-observable types (`ipv4-addr`, `domain-name`, `file`, …)
    /// as written in patterns; empty: the fallback rule (every type).
    #[serde(default)]
    pub types: Vec<String>,
    /// Days from the start of the clock to a score of 0 (`L`).
    pub lifetime_days: f64,
    /// The curve's shape `k` (OpenCTI: `3 * decay_pound`; MISP:
    /// `decay_speed`): above 1 the score falls fast at first, then slowly;
    /// below 1 it stays high, then drops near the end of the lifetime.
    pub speed: f64,
}

impl DecayRule {
    fn new(name: &str, types: &[&str], lifetime_days: f64, speed: f64) -> Self {
        Self {
            name: name.to_owned(),
            types: types.iter().map(|s| (*s).to_owned()).collect(),
            lifetime_days,
            speed,
        }
    }

    /// The built-in rules: OpenCTI's built-in rules (lifetime and
    /// `k = 3 * pound`), except that `url` follows the domain rule (months)
    /// rather than OpenCTI's IP-and-URL rule (47 days): a URL names a path
    /// on a host someone chose, which outlives the address it resolved to.
    pub fn builtin() -> Vec<DecayRule> {
        vec![
            DecayRule::new("ip", &["ipv4-addr", "ipv6-addr"], 47.0, 1.65),
            DecayRule::new("domain-and-url", &["domain-name", "url"], 300.0, 2.1),
            DecayRule::new("file", &["file", "artifact"], 460.0, 0.9),
            DecayRule::new("default", &[], 470.0, 1.05),
        ]
    }
}

/// What a renewal (a trusted sighting, a true-positive verdict) does to the
/// decay clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Renew {
    /// The clock restarts at the renewal: the score is back to its base.
    #[default]
    Reset,
    /// The age at the renewal is divided by `slow_factor` (the clock is
    /// wound back, not restarted): repeated sightings keep an indicator
    /// alive longer without making it look new.
    Slow,
}

/// What a `benign` verdict does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenignEffect {
    /// As a false positive: the score drops to 0 at once.
    #[default]
    Drop,
    /// Recorded, no effect on the score.
    Keep,
}

/// Which verdict is in force when analysts disagree (issue 16 §4: every
/// verdict is kept; the latest by default). Each analyst's own latest
/// verdict is their opinion (an analyst who changes their mind overrules
/// themselves, whatever the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictConflict {
    /// The latest verdict, whoever gave it.
    #[default]
    Latest,
    /// A false positive while any analyst's latest verdict says so (the
    /// cautious choice for a noisy feed: one analyst's objection stops the
    /// alerts until they change their mind); else the latest.
    FalsePositiveWins,
    /// A true positive while any analyst's latest verdict says so (the
    /// cautious choice against missing an attack); else the latest.
    TruePositiveWins,
}

impl VerdictConflict {
    /// The config's word.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictConflict::Latest => "latest",
            VerdictConflict::FalsePositiveWins => "false-positive-wins",
            VerdictConflict::TruePositiveWins => "true-positive-wins",
        }
    }
}

/// A feed's defaults, keyed by the identity its indicators are `created_by_ref`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedDefaults {
    /// The base score of this feed's indicators that carry no `confidence`.
    pub confidence: f64,
}

/// The `[lifecycle]` section. Every field has a default; [`LifecycleConfig::validate`]
/// checks a parsed one before use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleConfig {
    pub default_confidence: f64,
    pub active_threshold: f64,
    pub revoke_threshold: f64,
    pub trusted_sensors: Vec<String>,
    pub renew: Renew,
    pub slow_factor: f64,
    pub benign: BenignEffect,
    /// Which verdict is in force when analysts disagree.
    pub verdict_conflict: VerdictConflict,
    pub feeds: BTreeMap<String, FeedDefaults>,
    /// Identities (`identity--…`) whose indicators `sightline retire` may
    /// give a retiring version (STIX 2.1 §3.6: only the creator versions an
    /// object), besides the feeds' own identities.
    pub own_identities: Vec<String>,
    /// Tried in order; the first whose `types` holds the indicator's main
    /// observable type applies, else the first with no `types`, else the
    /// built-in `default`.
    pub rules: Vec<DecayRule>,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            default_confidence: 50.0,
            active_threshold: 30.0,
            revoke_threshold: 20.0,
            trusted_sensors: Vec::new(),
            renew: Renew::Reset,
            slow_factor: 2.0,
            benign: BenignEffect::Drop,
            verdict_conflict: VerdictConflict::Latest,
            feeds: BTreeMap::new(),
            own_identities: Vec::new(),
            rules: DecayRule::builtin(),
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> LifecycleError {
    LifecycleError::Config {
        field: field.into(),
        message: message.into(),
    }
}

/// A score or threshold: a finite number 0 to 100.
fn points(field: &str, v: f64) -> Result<(), LifecycleError> {
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(field, format!("{v} is not a score from 0 to 100")))
    }
}

impl LifecycleConfig {
    /// Refuses a configuration that cannot work, naming the field: a
    /// lifetime or speed that is not a positive number, points outside
    /// 0-100, thresholds inverted, a slow factor below 1, a rule without a
    /// name or with a name used twice, a blank type.
    pub fn validate(&self) -> Result<(), LifecycleError> {
        points("default_confidence", self.default_confidence)?;
        points("active_threshold", self.active_threshold)?;
        points("revoke_threshold", self.revoke_threshold)?;
        if self.revoke_threshold > self.active_threshold {
            return Err(invalid(
                "revoke_threshold",
                format!(
                    "{} is above active_threshold ({}): an indicator would be revoked while active",
                    self.revoke_threshold, self.active_threshold
                ),
            ));
        }
        if !(self.slow_factor.is_finite() && self.slow_factor >= 1.0) {
            return Err(invalid(
                "slow_factor",
                format!("{} must be a number >= 1", self.slow_factor),
            ));
        }
        for (feed, d) in &self.feeds {
            points(&format!("feeds.{feed}.confidence"), d.confidence)?;
        }
        for s in &self.trusted_sensors {
            if s != "*" && !s.starts_with("identity--") {
                return Err(invalid(
                    "trusted_sensors",
                    format!("{s:?} is not an identity id (identity--…) or \"*\""),
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            if r.name.trim().is_empty() {
                return Err(invalid(at("name"), "a rule needs a name"));
            }
            if !names.insert(r.name.as_str()) {
                return Err(invalid(at("name"), format!("{:?} is used twice", r.name)));
            }
            if !(r.lifetime_days.is_finite() && r.lifetime_days > 0.0) {
                return Err(invalid(
                    at("lifetime_days"),
                    format!("{} must be a positive number of days", r.lifetime_days),
                ));
            }
            if !(r.speed.is_finite() && r.speed > 0.0) {
                return Err(invalid(
                    at("speed"),
                    format!("{} must be a positive number", r.speed),
                ));
            }
            if r.types.iter().any(|t| t.trim().is_empty()) {
                return Err(invalid(at("types"), "a type is blank"));
            }
        }
        Ok(())
    }

    /// The base score of an indicator: its `confidence`, else its feed's
    /// default, else `default_confidence`.
    pub fn base_score(&self, confidence: Option<f64>, created_by: Option<&str>) -> f64 {
        confidence
            .or_else(|| {
                created_by
                    .and_then(|c| self.feeds.get(c))
                    .map(|f| f.confidence)
            })
            .unwrap_or(self.default_confidence)
    }

    /// Whether sightings by `sensor` (a `where_sighted_refs` entry) renew.
    pub fn trusts(&self, sensor: &str) -> bool {
        self.trusted_sensors.iter().any(|s| s == "*" || s == sensor)
    }
}
