//! STIX observations, one per line: a JSON array holding observed-data
//! objects and the SCOs they reference (2.1 `object_refs`), a bundle of the
//! same, or an observed-data object with embedded `objects` (2.0). Each
//! observed-data object is one [`Observation`] (STIX 2.1 §4.13, Part 9 §9.1).

use serde_json::Value;
use sightline_matcher::Observation;

use super::time::parse_iso;
use super::EventError;

/// Appends one observation per observed-data object on the line.
pub fn parse(text: &str, out: &mut Vec<Observation>) -> Result<(), EventError> {
    let v: Value = super::parse_json(text)?;
    let objects: Vec<&Value> = match &v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("bundle") => {
            match m.get("objects") {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(_) => {
                    return Err(EventError::WrongType {
                        field: "objects".into(),
                        message: "a bundle's objects must be a list".into(),
                    })
                }
                None => Vec::new(),
            }
        }
        Value::Object(_) => vec![&v],
        _ => return Err(EventError::NotAnObject),
    };
    let start = out.len();
    for (i, o) in objects.iter().enumerate() {
        if o.get("type").and_then(Value::as_str) != Some("observed-data") {
            continue;
        }
        match observation(o, &objects) {
            Ok(obs) => out.push(obs),
            Err(e) => {
                out.truncate(start);
                return Err(match e {
                    EventError::Missing { field } => EventError::Missing {
                        field: format!("[{i}].{field}"),
                    },
                    EventError::BadValue { field, message } => EventError::BadValue {
                        field: format!("[{i}].{field}"),
                        message,
                    },
                    other => other,
                });
            }
        }
    }
    if out.len() == start {
        return Err(EventError::Missing {
            field: "an observed-data object".into(),
        });
    }
    Ok(())
}

fn time(o: &Value, field: &str) -> Result<i64, EventError> {
    match o.get(field) {
        None => Err(EventError::missing(field)),
        Some(Value::String(s)) => {
            parse_iso(s).ok_or_else(|| EventError::bad(field, format!("`{s}` is not a timestamp")))
        }
        Some(_) => Err(EventError::bad(field, "must be a timestamp string")),
    }
}

fn observation(o: &Value, all: &[&Value]) -> Result<Observation, EventError> {
    let first = time(o, "first_observed")?;
    let last = time(o, "last_observed")?;
    let number_observed = match o.get("number_observed") {
        None => 1,
        Some(n) => n
            .as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| EventError::bad("number_observed", "must be an integer ≥ 1"))?,
    };
    let id = o.get("id").and_then(Value::as_str).map(str::to_owned);
    let mut objects = Vec::new();
    if let Some(embedded) = o.get("objects") {
        let m = embedded
            .as_object()
            .ok_or_else(|| EventError::bad("objects", "must be a dictionary of SCOs"))?;
        for (k, v) in m {
            objects.push((k.clone(), v.clone()));
        }
    } else if let Some(refs) = o.get("object_refs") {
        let refs = refs
            .as_array()
            .ok_or_else(|| EventError::bad("object_refs", "must be a list of ids"))?;
        for r in refs {
            let r = r
                .as_str()
                .ok_or_else(|| EventError::bad("object_refs", "must be a list of ids"))?;
            // A reference to an object not on the line is left out: it cannot
            // satisfy a comparison (Part 9 §9.5).
            if let Some(sco) = all
                .iter()
                .find(|x| x.get("id").and_then(Value::as_str) == Some(r))
            {
                objects.push((r.to_owned(), (*sco).clone()));
            }
        }
    } else {
        return Err(EventError::missing("object_refs"));
    }
    Ok(Observation {
        id,
        first_observed: first,
        last_observed: last.max(first),
        number_observed,
        objects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shapes() {
        let od21 = r#"{"type":"observed-data","id":"observed-data--1","first_observed":"2024-01-15T10:00:00Z","last_observed":"2024-01-15T10:00:01Z","number_observed":3,"object_refs":["ipv4-addr--a","ipv4-addr--missing"]}"#;
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
        assert_eq!(e, Err(EventError::missing("[0].first_observed")));
        let e = parse(r#"{"type":"indicator"}"#, &mut out);
        assert!(matches!(e, Err(EventError::Missing { .. })));
        assert!(out.is_empty());
    }
}
