//! STIX observations, one per line: a JSON array holding observed-data
//! objects and the SCOs they reference (2.1 `object_refs`), a bundle of the
//! same, or an observed-data object with embedded `objects` (2.0). Each
//! observed-data object is one [`Observation`] (STIX 2.1 §4.13, Part 9 §9.1).

use serde_json::Value;
use sightline_matcher::observation::ObservationError;
use sightline_matcher::Observation;

use super::EventError;

/// Appends one observation per observed-data object on the line. The matcher's
/// own constructors read the observed-data, so STIX input means the same here
/// as in `sightline pattern eval`.
pub fn parse(text: &str, out: &mut Vec<Observation>) -> Result<(), EventError> {
    let v: Value = super::parse_json(text)?;
    let obs = match &v {
        Value::Array(items) => Observation::from_stix_objects(items),
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("bundle") => {
            match m.get("objects") {
                Some(Value::Array(items)) => Observation::from_stix_objects(items),
                Some(_) => {
                    return Err(EventError::WrongType {
                        field: "objects".into(),
                        message: "a bundle's objects must be a list".into(),
                    })
                }
                None => Err(ObservationError::NoObservedData { count: 0 }),
            }
        }
        Value::Object(_) => Observation::from_observed_data(&v, 0, |_| None).map(|o| vec![o]),
        _ => return Err(EventError::NotAnObject),
    };
    out.extend(obs.map_err(event_error)?);
    Ok(())
}

fn event_error(e: ObservationError) -> EventError {
    let message = e.to_string();
    match e {
        ObservationError::NotAnObject { index } => EventError::WrongType {
            field: format!("[{index}]"),
            message,
        },
        ObservationError::Missing { field, .. } => EventError::Missing {
            field: field.to_owned(),
        },
        ObservationError::WrongType { field, .. } => EventError::WrongType {
            field: field.to_owned(),
            message,
        },
        ObservationError::BadTimestamp { field, .. } => EventError::BadValue {
            field: field.to_owned(),
            message,
        },
        ObservationError::TimeOrder { .. } => EventError::BadValue {
            field: "last_observed".into(),
            message,
        },
        ObservationError::UnknownRef { .. } => EventError::BadValue {
            field: "object_refs".into(),
            message,
        },
        ObservationError::NoObservedData { .. } => EventError::Missing {
            field: "an observed-data object".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shapes() {
        let od21 = r#"{"type":"observed-data","id":"observed-data--1","first_observed":"2024-01-15T10:00:00Z","last_observed":"2024-01-15T10:00:01Z","number_observed":3,"object_refs":["ipv4-addr--a"]}"#;
        let sco = r#"{"type":"ipv4-addr","id":"ipv4-addr--a","value":"198.51.100.1"}"#;
        let mut out = Vec::new();
        parse(&format!("[{od21},{sco}]"), &mut out).unwrap_or_else(|e| panic!("{e}"));
        parse(
            &format!(r#"{{"type":"bundle","id":"bundle--1","objects":[{od21},{sco}]}}"#),
            &mut out,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out[0], out[1]);
        assert_eq!(out[0].number_observed, 3);
        assert_eq!(out[0].id.as_deref(), Some("observed-data--1"));
        assert_eq!(out[0].objects.len(), 1);
        assert_eq!(out[0].objects[0].0, "ipv4-addr--a");
        let od20 = r#"{"type":"observed-data","first_observed":"2024-01-15T10:00:00Z","last_observed":"2024-01-15T10:00:00Z","number_observed":1,"objects":{"0":{"type":"domain-name","value":"x.example"}}}"#;
        parse(od20, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out[2].objects[0].0, "0");
    }

    #[test]
    fn problems_name_the_object() {
        let mut out = Vec::new();
        let e = parse(
            r#"[{"type":"observed-data","last_observed":"2024-01-15T10:00:00Z"}]"#,
            &mut out,
        );
        assert_eq!(e, Err(EventError::missing("first_observed")));
        let e = parse(
            r#"[{"type":"observed-data","id":"observed-data--1","first_observed":"2024-01-15T10:00:00Z","last_observed":"2024-01-15T10:00:00Z","number_observed":1,"object_refs":["ipv4-addr--gone"]}]"#,
            &mut out,
        );
        assert!(
            matches!(e, Err(EventError::BadValue { ref field, ref message })
                if field == "object_refs" && message.contains("ipv4-addr--gone")),
            "{e:?}"
        );
        let e = parse(r#"[{"type":"indicator"}]"#, &mut out);
        assert_eq!(e, Err(EventError::missing("an observed-data object")));
        let e = parse(r#"{"type":"indicator"}"#, &mut out);
        assert!(matches!(e, Err(EventError::WrongType { .. })), "{e:?}");
        assert!(out.is_empty());
    }
}
