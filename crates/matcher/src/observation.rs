//! The one input type of the matcher: an observation, i.e. what a STIX
//! observed-data object says (Part 9 §9.1, STIX 2.1 §4.13): a time window, a
//! count, and the cyber-observable objects (SCOs) seen.
//!
//! SCOs are kept as JSON objects (the matcher's own [`Value`], see
//! `value.rs`) because patterns address them by property path, including
//! custom properties and extensions. Each SCO
//! has a *key*: its STIX id for the 2.1 `object_refs` form, or its key in the
//! embedded `objects` dictionary for the 2.0 form ("0", "1", ...). `*_ref` and
//! `*_refs` properties are resolved against these keys.

use crate::value::{Text, Value};

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
    pub objects: Vec<(Text, Value)>,
}

impl Observation {
    /// A telemetry-style observation (no id, seen once in `[first, last]`)
    /// of `(key, SCO)` pairs given as `serde_json` values: for tests and
    /// generated workloads.
    pub fn from_json(
        first: EventTime,
        last: EventTime,
        objects: impl IntoIterator<Item = (String, serde_json::Value)>,
    ) -> Self {
        Observation {
            id: None,
            first_observed: first,
            last_observed: last,
            number_observed: 1,
            objects: objects
                .into_iter()
                .map(|(k, v)| (Text::from(k), Value::from(v)))
                .collect(),
        }
    }

    /// The SCO with this key, for `*_ref` dereferencing.
    pub fn object(&self, key: &str) -> Option<&Value> {
        self.objects
            .iter()
            .find_map(|(k, v)| (k.as_str() == key).then_some(v))
    }
}

/// Why observed-data could not become an [`Observation`]. `id` is the
/// observed-data's `id`, or its position (`#3`) when it has none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservationError {
    #[error("item {index} is not a JSON object")]
    NotAnObject { index: usize },
    #[error("{id}: missing required property {field}")]
    Missing { id: String, field: &'static str },
    #[error("{id}: {field} must be {expected}")]
    WrongType {
        id: String,
        field: &'static str,
        expected: &'static str,
    },
    #[error("{id}: {field} is not a valid timestamp: {message}")]
    BadTimestamp {
        id: String,
        field: &'static str,
        message: String,
    },
    #[error("{id}: last_observed is before first_observed")]
    TimeOrder { id: String },
    #[error("{id}: object_refs names {reference}, which is not among the objects given")]
    UnknownRef { id: String, reference: String },
    #[error("no observed-data object among the {count} objects given")]
    NoObservedData { count: usize },
}

type Map = serde_json::Map<String, serde_json::Value>;

impl Observation {
    /// One observed-data object (STIX 2.1 §4.13). The 2.1 form lists its SCOs
    /// in `object_refs`, resolved with `lookup` (typically the other objects of
    /// the same bundle or line); the deprecated 2.0 form embeds them in an
    /// `objects` dictionary whose keys the references use. `first_observed`,
    /// `last_observed` and `number_observed` are required (§4.13; Part 9 §9.6
    /// qualifiers read them).
    pub fn from_observed_data<'a>(
        od: &serde_json::Value,
        position: usize,
        lookup: impl Fn(&str) -> Option<&'a serde_json::Value>,
    ) -> Result<Self, ObservationError> {
        let map = od
            .as_object()
            .ok_or(ObservationError::NotAnObject { index: position })?;
        let sdo_id = map.get("id").and_then(|v| v.as_str()).map(str::to_owned);
        let id = sdo_id.clone().unwrap_or_else(|| format!("#{position}"));
        if map.get("type").and_then(|v| v.as_str()) != Some("observed-data") {
            return Err(ObservationError::WrongType {
                id,
                field: "type",
                expected: "\"observed-data\"",
            });
        }
        let first_observed = time_field(map, &id, "first_observed")?;
        let last_observed = time_field(map, &id, "last_observed")?;
        if last_observed < first_observed {
            return Err(ObservationError::TimeOrder { id });
        }
        let number_observed = match map.get("number_observed") {
            None => {
                return Err(ObservationError::Missing {
                    id,
                    field: "number_observed",
                })
            }
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => n,
                _ => {
                    return Err(ObservationError::WrongType {
                        id,
                        field: "number_observed",
                        expected: "an integer of at least 1",
                    })
                }
            },
        };
        let mut objects = Vec::new();
        if let Some(refs) = map.get("object_refs") {
            let refs = refs.as_array().ok_or_else(|| ObservationError::WrongType {
                id: id.clone(),
                field: "object_refs",
                expected: "a list of identifiers",
            })?;
            for r in refs {
                let r = r.as_str().ok_or_else(|| ObservationError::WrongType {
                    id: id.clone(),
                    field: "object_refs",
                    expected: "a list of identifiers",
                })?;
                let obj = lookup(r).ok_or_else(|| ObservationError::UnknownRef {
                    id: id.clone(),
                    reference: r.to_owned(),
                })?;
                objects.push((Text::from(r), Value::from(obj)));
            }
        } else if let Some(embedded) = map.get("objects") {
            let embedded = embedded
                .as_object()
                .ok_or_else(|| ObservationError::WrongType {
                    id: id.clone(),
                    field: "objects",
                    expected: "a dictionary of cyber-observable objects",
                })?;
            for (k, v) in embedded {
                if !v.is_object() {
                    return Err(ObservationError::WrongType {
                        id,
                        field: "objects",
                        expected: "a dictionary of cyber-observable objects",
                    });
                }
                objects.push((Text::from(k.as_str()), Value::from(v)));
            }
        } else {
            return Err(ObservationError::Missing {
                id,
                field: "object_refs",
            });
        }
        Ok(Observation {
            id: sdo_id,
            first_observed,
            last_observed,
            number_observed,
            objects,
        })
    }

    /// Every observed-data object in `items` (in order) with its SCOs taken
    /// from the other items by `id`: the shape of a bundle's `objects`, or of
    /// one `sightline pattern eval` / `sightline match` input line.
    pub fn from_stix_objects(items: &[serde_json::Value]) -> Result<Vec<Self>, ObservationError> {
        let mut by_id: std::collections::HashMap<&str, &serde_json::Value> =
            std::collections::HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let map = item
                .as_object()
                .ok_or(ObservationError::NotAnObject { index })?;
            if let Some(id) = map.get("id").and_then(|v| v.as_str()) {
                by_id.insert(id, item);
            }
        }
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if item.get("type").and_then(|v| v.as_str()) == Some("observed-data") {
                out.push(Self::from_observed_data(item, index, |r| {
                    by_id.get(r).copied()
                })?);
            }
        }
        if out.is_empty() {
            return Err(ObservationError::NoObservedData { count: items.len() });
        }
        Ok(out)
    }

    /// The SCO type of an object (`"type"`), if it has one.
    pub fn object_type(obj: &Value) -> Option<&str> {
        obj.get("type").and_then(|v| v.as_str())
    }
}

fn time_field(map: &Map, id: &str, field: &'static str) -> Result<EventTime, ObservationError> {
    let text = match map.get(field) {
        None => {
            return Err(ObservationError::Missing {
                id: id.to_owned(),
                field,
            })
        }
        Some(v) => v.as_str().ok_or_else(|| ObservationError::WrongType {
            id: id.to_owned(),
            field,
            expected: "a timestamp string",
        })?,
    };
    crate::time::parse_micros(text).map_err(|e| ObservationError::BadTimestamp {
        id: id.to_owned(),
        field,
        message: e.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn od21() -> serde_json::Value {
        json!({"type": "observed-data", "id": "observed-data--1",
               "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:05.5Z",
               "number_observed": 3, "object_refs": ["ipv4-addr--a", "domain-name--b"]})
    }

    #[test]
    fn stix21_object_refs_resolve_against_the_objects_given() {
        let items = vec![
            od21(),
            json!({"type": "ipv4-addr", "id": "ipv4-addr--a", "value": "198.51.100.1"}),
            json!({"type": "domain-name", "id": "domain-name--b", "value": "example.com"}),
            json!({"type": "file", "id": "file--unrelated", "name": "x"}),
        ];
        let obs = Observation::from_stix_objects(&items).expect("valid");
        assert_eq!(obs.len(), 1);
        let o = &obs[0];
        assert_eq!(o.id.as_deref(), Some("observed-data--1"));
        assert_eq!(o.number_observed, 3);
        assert_eq!(o.last_observed - o.first_observed, 5_500_000);
        assert_eq!(o.objects.len(), 2);
        assert!(o.object("domain-name--b").is_some());
        assert!(o.object("file--unrelated").is_none());
    }

    #[test]
    fn stix20_embedded_objects() {
        let od = json!({"type": "observed-data", "first_observed": "2024-01-01T00:00:00Z",
            "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1,
            "objects": {"0": {"type": "ipv4-addr", "value": "10.0.0.1"},
                        "1": {"type": "network-traffic", "src_ref": "0", "protocols": ["tcp"]}}});
        let obs = Observation::from_stix_objects(&[od]).expect("valid");
        assert_eq!(obs[0].objects.len(), 2);
        assert_eq!(obs[0].id, None);
        assert!(obs[0].object("0").is_some());
    }

    #[test]
    fn errors_name_the_field() {
        let mut od = od21();
        od.as_object_mut().map(|m| m.remove("number_observed"));
        let e = Observation::from_observed_data(&od, 0, |_| None).expect_err("invalid");
        assert_eq!(
            e.to_string(),
            "observed-data--1: missing required property number_observed"
        );
        let mut od = od21();
        od["number_observed"] = json!(0);
        let e = Observation::from_observed_data(&od, 0, |_| None).expect_err("invalid");
        assert!(matches!(
            e,
            ObservationError::WrongType {
                field: "number_observed",
                ..
            }
        ));
        let mut od = od21();
        od["first_observed"] = json!("yesterday");
        let e = Observation::from_observed_data(&od, 0, |_| None).expect_err("invalid");
        assert!(matches!(
            e,
            ObservationError::BadTimestamp {
                field: "first_observed",
                ..
            }
        ));
        let e = Observation::from_observed_data(&od21(), 0, |_| None).expect_err("invalid");
        assert!(matches!(e, ObservationError::UnknownRef { .. }));
        let mut od = od21();
        od["last_observed"] = json!("2023-01-01T00:00:00Z");
        let e = Observation::from_observed_data(&od, 0, |_| None).expect_err("invalid");
        assert!(matches!(e, ObservationError::TimeOrder { .. }));
        let e = Observation::from_stix_objects(&[json!({"type": "file"})]).expect_err("invalid");
        assert!(matches!(e, ObservationError::NoObservedData { count: 1 }));
        let e = Observation::from_stix_objects(&[json!(3)]).expect_err("invalid");
        assert_eq!(e, ObservationError::NotAnObject { index: 0 });
    }
}
