//! Any JSON event, mapped to SCOs by a mapping file: each entry maps a field
//! path in the event to a STIX object path, and one field gives the time.
//!
//! ```toml
//! time = "@timestamp"          # epoch seconds (number) or ISO 8601 text
//! time_unit = "s"              # for numeric times: s (default), ms, us
//! [fields]
//! "source.ip" = "network-traffic:src_ref.value"
//! "destination.ip" = "network-traffic:dst_ref.value"
//! "destination.port" = "network-traffic:dst_port"
//! "dns.question.name" = "domain-name:value"
//! "file.hash.sha256" = "file:hashes.'SHA-256'"
//! ```
//!
//! The same as JSON: `{"time": "@timestamp", "fields": {"source.ip": "…"}}`.
//! One object is made per STIX type. A field path is looked up whole first
//! (keys may contain dots, as Zeek's `id.orig_h`), then split at dots into
//! nested objects (and list indexes). `X_ref.value` makes a separate object
//! (an `ipv4-addr`/`ipv6-addr` for an IP address, else a `domain-name`) that
//! `X_ref` points at. Absent and `null` fields are left out; an event none of
//! whose mapped fields is present is an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use sightline_matcher::Observation;
use sightline_matcher::{Object as Map, Value};

use super::sco::{ip_type, sco, Scos};
use super::time::{from_epoch_secs, parse_iso};
use super::EventError;

/// A problem in a mapping file.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{name}: cannot read: {source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    #[error("{name}: not a valid mapping: {message}")]
    Syntax { name: String, message: String },
    #[error("{name}:{line}: field `{field}`: bad STIX object path `{target}`: {why}")]
    Target {
        name: String,
        /// The line of the mapping file that maps the field (1-based).
        line: usize,
        field: String,
        target: String,
        why: &'static str,
    },
    /// The path names a type or property STIX 2.1 does not define (custom
    /// ones start with `x-` or `x_`).
    #[error("{name}:{line}: field `{field}`: `{target}`: {why}")]
    Unknown {
        name: String,
        line: usize,
        field: String,
        target: String,
        why: String,
    },
    #[error("{name}: `time_unit` must be s, ms or us, not `{unit}`")]
    Unit { name: String, unit: String },
    #[error("{name}: `fields` is empty")]
    Empty { name: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    time: Option<String>,
    time_unit: Option<String>,
    fields: BTreeMap<String, String>,
}

/// Where one mapped field goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    ty: String,
    /// `Some(prop)` for `prop_ref.value`: a separate referenced object.
    via_ref: Option<String>,
    /// Property path inside the object.
    path: Vec<String>,
}

/// A compiled mapping.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    time: Option<String>,
    /// Multiplier from the numeric time's unit to seconds.
    unit_secs: f64,
    fields: Vec<(String, Target)>,
}

impl Mapping {
    /// Reads a mapping file: TOML, or JSON when the name ends in `.json` or
    /// the text starts with `{`.
    pub fn load(path: &std::path::Path) -> Result<Self, MappingError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            name: name.clone(),
            source,
        })?;
        Self::parse(&name, &text)
    }

    /// Parses mapping text; `name` is used in errors.
    pub fn parse(name: &str, text: &str) -> Result<Self, MappingError> {
        let syntax = |message: String| MappingError::Syntax {
            name: name.to_owned(),
            message,
        };
        let spec: Spec = if name.ends_with(".json") || text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| syntax(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| syntax(e.to_string()))?
        };
        if spec.fields.is_empty() {
            return Err(MappingError::Empty { name: name.into() });
        }
        let unit_secs = match spec.time_unit.as_deref() {
            None | Some("s") => 1.0,
            Some("ms") => 1e-3,
            Some("us") => 1e-6,
            Some(u) => {
                return Err(MappingError::Unit {
                    name: name.into(),
                    unit: u.into(),
                })
            }
        };
        let mut fields = Vec::new();
        for (field, target) in spec.fields {
            let line = line_of(text, &field, &target);
            let t = parse_target(&target).map_err(|why| MappingError::Target {
                name: name.into(),
                line,
                field: field.clone(),
                target: target.clone(),
                why,
            })?;
            check_target(&t).map_err(|why| MappingError::Unknown {
                name: name.into(),
                line,
                field: field.clone(),
                target: target.clone(),
                why,
            })?;
            fields.push((field, t));
        }
        Ok(Mapping {
            time: spec.time,
            unit_secs,
            fields,
        })
    }

    /// Maps one event.
    pub fn apply(&self, text: &str) -> Result<Observation, EventError> {
        if self.fields.is_empty() {
            return Err(EventError::Unsupported {
                what: "JSON input without a mapping (--mapping FILE)".into(),
            });
        }
        let v: Value = super::parse_json(text)?;
        if !v.is_object() {
            return Err(EventError::NotAnObject);
        }
        let ts = match &self.time {
            None => 0,
            Some(f) => match lookup(&v, f) {
                None | Some(Value::Null) => return Err(EventError::missing(f)),
                Some(Value::String(s)) => parse_iso(s)
                    .ok_or_else(|| EventError::bad(f, format!("`{s}` is not an ISO 8601 time")))?,
                Some(Value::Number(n)) => n
                    .as_f64()
                    .and_then(|x| from_epoch_secs(x * self.unit_secs))
                    .ok_or_else(|| EventError::bad(f, format!("{n} is out of range")))?,
                Some(_) => {
                    return Err(EventError::WrongType {
                        field: f.clone(),
                        message: "expected a number or a string time".into(),
                    })
                }
            },
        };
        let mut s = Scos::new();
        let mut by_type: Vec<(String, sightline_matcher::Text)> = Vec::new();
        let mut mapped = 0usize;
        for (field, t) in &self.fields {
            let Some(val) = lookup(&v, field).filter(|x| !x.is_null()) else {
                continue;
            };
            mapped += 1;
            let key = match by_type.iter().find(|(ty, _)| *ty == t.ty) {
                Some((_, k)) => k.clone(),
                None => {
                    let k = s.add(sco(&t.ty));
                    by_type.push((t.ty.clone(), k.clone()));
                    k
                }
            };
            if let Some(prop) = &t.via_ref {
                let text = match val {
                    Value::String(x) => x.to_string(),
                    other => other.to_string(),
                };
                let ty = ip_type(&text).unwrap_or("domain-name");
                let rk = s.add_value(ty, &text);
                if let Some(obj) = s.get_mut(&key) {
                    obj.insert(format!("{prop}_ref"), Value::str(rk));
                }
            } else if let Some(obj) = s.get_mut(&key) {
                set_path(obj, &t.path, val.clone());
            }
        }
        if mapped == 0 {
            return Err(EventError::Missing {
                field: "any of the mapped fields".into(),
            });
        }
        Ok(s.into_observation(ts, ts))
    }
}

/// The line (1-based) that maps `field` to `target`: the first holding both
/// as quoted strings, else the first holding the target, else the field.
fn line_of(text: &str, field: &str, target: &str) -> usize {
    let quoted = |s: &str| [format!("\"{s}\""), format!("'{s}'")];
    let has = |l: &str, s: &str| quoted(s).iter().any(|q| l.contains(q.as_str()));
    let bare_key = |l: &str| {
        l.trim_start()
            .strip_prefix(field)
            .is_some_and(|r| r.trim_start().starts_with('='))
    };
    let find = |f: &dyn Fn(&str) -> bool| text.lines().position(f).map(|i| i + 1);
    find(&|l| (has(l, field) || bare_key(l)) && has(l, target))
        .or_else(|| find(&|l| has(l, target)))
        .or_else(|| find(&|l| has(l, field) || bare_key(l)))
        .unwrap_or(0)
}

/// Checks a target against STIX 2.1's SCO types and their properties
/// (§6; the validator's tables): a custom type (`x-…`) or property (`x_…`)
/// is accepted, a misspelt one is not.
fn check_target(t: &Target) -> Result<(), String> {
    use sightline_stix::validate::schema::{sco_properties, sco_property};
    if t.ty.starts_with("x-") {
        return Ok(());
    }
    let prop = match (&t.via_ref, t.path.first()) {
        (Some(r), _) => format!("{r}_ref"),
        (None, Some(p)) => p.clone(),
        (None, None) => return Ok(()),
    };
    match sco_property(&t.ty, &prop) {
        None => Err(format!("`{}` is not a STIX 2.1 observable type", t.ty)),
        Some(Some(_)) => Ok(()),
        Some(None) if prop.starts_with("x_") => Ok(()),
        Some(None) => {
            let mut known = sco_properties(&t.ty).unwrap_or_default();
            known.sort_unstable();
            known.dedup();
            Err(format!(
                "`{}` has no property `{prop}` (it has: {})",
                t.ty,
                known.join(", ")
            ))
        }
    }
}

/// `type:prop.sub.'quoted key'` or `type:x_ref.value`.
fn parse_target(t: &str) -> Result<Target, &'static str> {
    let (ty, path) = t.split_once(':').ok_or("expected TYPE:PROPERTY")?;
    let valid_type = !ty.is_empty()
        && ty
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if !valid_type {
        return Err("the object type must be lower-case letters, digits and hyphens");
    }
    let mut parts = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let (part, tail) = if let Some(q) = rest.strip_prefix('\'') {
            let end = q.find('\'').ok_or("unterminated quoted key")?;
            (&q[..end], &q[end + 1..])
        } else {
            match rest.find('.') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            }
        };
        if part.is_empty() {
            return Err("empty property name");
        }
        parts.push(part.to_owned());
        rest = match tail.strip_prefix('.') {
            Some("") => return Err("path ends with a dot"),
            Some(r) => r,
            None if tail.is_empty() => "",
            None => return Err("expected a dot after a quoted key"),
        };
    }
    if parts.is_empty() {
        return Err("no property");
    }
    if parts.len() == 2 && parts[1] == "value" {
        if let Some(p) = parts[0].strip_suffix("_ref") {
            return Ok(Target {
                ty: ty.into(),
                via_ref: Some(p.to_owned()),
                path: Vec::new(),
            });
        }
    }
    if parts
        .iter()
        .any(|p| p.ends_with("_ref") || p.ends_with("_refs"))
    {
        return Err("only `X_ref.value` may go through a reference");
    }
    Ok(Target {
        ty: ty.into(),
        via_ref: None,
        path: parts,
    })
}

/// Looks `path` up in `v`: the whole key first, then split at each dot.
fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(path) {
                return Some(x);
            }
            for (i, _) in path.match_indices('.') {
                if let Some(x) = m.get(&path[..i]) {
                    if let Some(found) = lookup(x, &path[i + 1..]) {
                        return Some(found);
                    }
                }
            }
            None
        }
        Value::Array(a) => {
            let (head, tail) = path.split_once('.').unwrap_or((path, ""));
            let x = a.get(head.parse::<usize>().ok()?)?;
            if tail.is_empty() {
                Some(x)
            } else {
                lookup(x, tail)
            }
        }
        _ => None,
    }
}

fn set_path(obj: &mut Map, path: &[String], val: Value) {
    let Some((last, init)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for p in init {
        if !cur.get(p).is_some_and(Value::is_object) {
            cur.insert(p.as_str(), Value::Object(Map::new()));
        }
        let Some(Value::Object(next)) = cur.get_mut(p) else {
            return;
        };
        cur = next;
    }
    cur.insert(last.as_str(), val);
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
time = "@timestamp"
[fields]
"source.ip" = "network-traffic:src_ref.value"
"destination.ip" = "network-traffic:dst_ref.value"
"destination.port" = "network-traffic:dst_port"
"file.hash.sha256" = "file:hashes.'SHA-256'"
"#;

    #[test]
    fn maps_nested_and_dotted_fields() {
        let m = Mapping::parse("m.toml", TOML).unwrap_or_else(|e| panic!("{e}"));
        let o = m
            .apply(r#"{"@timestamp":"2024-01-15T10:00:00Z","source":{"ip":"10.0.0.1"},"destination.ip":"2001:db8::2","destination":{"port":443},"file":{"hash":{"sha256":"abc"}}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let objs: Vec<_> = o.objects.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(o.first_observed, 1_705_312_800_000_000);
        assert_eq!(
            objs,
            vec![
                serde_json::json!({"type":"network-traffic","dst_ref":"1","src_ref":"3","dst_port":443}),
                serde_json::json!({"type":"ipv6-addr","value":"2001:db8::2"}),
                serde_json::json!({"type":"file","hashes":{"SHA-256":"abc"}}),
                serde_json::json!({"type":"ipv4-addr","value":"10.0.0.1"}),
            ]
        );
    }

    #[test]
    fn bad_mappings_are_named() {
        for (text, needle) in [
            ("[fields]\n\"a\" = \"nocolon\"", "TYPE:PROPERTY"),
            ("[fields]\n\"a\" = \"File:name\"", "lower-case"),
            ("[fields]\n\"a\" = \"file:hashes.'SHA-256\"", "unterminated"),
            (
                "[fields]\n\"a\" = \"file:parent_directory_ref.path\"",
                "reference",
            ),
            (
                "time_unit = \"h\"\n[fields]\n\"a\" = \"file:name\"",
                "time_unit",
            ),
            ("[fields]\n", "empty"),
            ("bogus = 1\n[fields]\n\"a\" = \"file:name\"", "bogus"),
            // Unknown types and properties, with the line that maps them.
            (
                "time = \"t\"\n[fields]\n\"a\" = \"file:name\"\n\"b\" = \"ipv4-adr:value\"",
                "m.toml:4: field `b`: `ipv4-adr:value`: `ipv4-adr` is not a STIX 2.1 observable type",
            ),
            (
                "[fields]\nip = \"ipv4-addr:valu\"",
                "m.toml:2: field `ip`: `ipv4-addr:valu`: `ipv4-addr` has no property `valu`",
            ),
            (
                "[fields]\n\"s\" = \"network-traffic:source_ref.value\"",
                "no property `source_ref`",
            ),
        ] {
            let e = Mapping::parse("m.toml", text)
                .map(|_| ())
                .expect_err(text)
                .to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn custom_types_and_properties_pass() {
        let text = "{\n  \"fields\": {\n    \"a\": \"x-thing:value\",\n    \"b\": \"file:x_tag\",\n    \"c\": \"file:hashes.'SHA-256'\"\n  }\n}";
        assert!(Mapping::parse("m.json", text).is_ok());
        let bad = text.replace("file:x_tag", "file:tag");
        let e = Mapping::parse("m.json", &bad).map(|_| ()).expect_err("tag");
        assert!(e.to_string().starts_with("m.json:4: field `b`"), "{e}");
    }

    #[test]
    fn event_errors() {
        let m = Mapping::parse(
            "m.json",
            r#"{"time":"t","time_unit":"ms","fields":{"ip":"ipv4-addr:value"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            m.apply(r#"{"t":1500,"ip":"1.2.3.4"}"#)
                .map(|o| o.first_observed),
            Ok(1_500_000)
        );
        assert_eq!(
            m.apply(r#"{"ip":"1.2.3.4"}"#).err(),
            Some(EventError::missing("t"))
        );
        assert!(matches!(
            m.apply(r#"{"t":true,"ip":"x"}"#),
            Err(EventError::WrongType { .. })
        ));
        assert!(matches!(
            m.apply(r#"{"t":1}"#),
            Err(EventError::Missing { .. })
        ));
        assert_eq!(m.apply("[1]").err(), Some(EventError::NotAnObject));
    }
}
