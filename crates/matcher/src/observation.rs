//! The one input type of the matcher: an observation, i.e. what a STIX
//! observed-data object says (Part 9 §9.1, STIX 2.1 §4.13): a time window, a
//! count, and the cyber-observable objects (SCOs) seen.
//!
//! SCOs are kept as JSON objects (`serde_json::Value`) because patterns address
//! them by property path, including custom properties and extensions. Each SCO
//! has a *key*: its STIX id for the 2.1 `object_refs` form, or its key in the
//! embedded `objects` dictionary for the 2.0 form ("0", "1", ...). `*_ref` and
//! `*_refs` properties are resolved against these keys.

/// Microseconds since the Unix epoch (UTC). STIX timestamps in patterns and
/// qualifiers are compared at this precision.
pub type EventTime = i64;

/// One observation: the SCOs seen together plus when and how often.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The observed-data id for STIX input; `None` for telemetry events.
    pub id: Option<String>,
    pub first_observed: EventTime,
    pub last_observed: EventTime,
    /// `number_observed` (≥ 1); feeds `REPEATS`.
    pub number_observed: u64,
    /// `(key, SCO)` pairs. Every SCO here is a candidate for a comparison
    /// expression (Part 9 §9.5: the objects the observed-data refers to).
    pub objects: Vec<(String, serde_json::Value)>,
}

impl Observation {
    /// The SCO with this key, for `*_ref` dereferencing.
    pub fn object(&self, key: &str) -> Option<&serde_json::Value> {
        self.objects
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }
}
