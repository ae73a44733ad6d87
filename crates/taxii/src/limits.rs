//! The shape bounds of a POSTed body ([`InputLimits`]): nesting depth and
//! longest string, checked in the one pass that also proves the body is JSON
//! (a serde visitor that keeps nothing), before anything is allocated per
//! object. Without them a body within `max_content_length` could still be a
//! 100 MB description or thousands of nested arrays, each costing the
//! validator and the store far more than its bytes.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::error::TaxiiError;
use crate::InputLimits;

#[derive(Debug, Clone, Copy)]
enum Violation {
    Depth,
    String(usize),
    Values,
}

struct Bounds<'a> {
    limits: &'a InputLimits,
    violation: &'a Cell<Option<Violation>>,
    /// Values seen so far in the current envelope object.
    values: Cell<usize>,
}

/// The nesting of an envelope's objects: body (1) → `objects` list (2) → object.
const OBJECT_DEPTH: usize = 3;

/// Checks one value at nesting `depth` (the body itself is depth 1).
#[derive(Clone, Copy)]
struct Check<'a> {
    depth: usize,
    bounds: &'a Bounds<'a>,
}

impl Check<'_> {
    fn fail<E: de::Error>(&self, v: Violation) -> E {
        self.bounds.violation.set(Some(v));
        E::custom("input limit exceeded")
    }

    fn string<E: de::Error>(&self, len: usize) -> Result<(), E> {
        if len > self.bounds.limits.max_string_bytes {
            Err(self.fail(Violation::String(len)))
        } else {
            Ok(())
        }
    }

    fn enter<E: de::Error>(&self) -> Result<Check<'_>, E> {
        if self.depth > self.bounds.limits.max_json_depth {
            return Err(self.fail(Violation::Depth));
        }
        Ok(Check {
            depth: self.depth + 1,
            bounds: self.bounds,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.depth >= OBJECT_DEPTH {
            let b = self.bounds;
            let n = if self.depth == OBJECT_DEPTH {
                1
            } else {
                b.values.get() + 1
            };
            b.values.set(n);
            if n > b.limits.max_values_per_object {
                return Err(self.fail(Violation::Values));
            }
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.string(s.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while map.next_key_seed(inner)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// Checks that `body` is one JSON value within `limits`' depth and string
/// bounds: a 400 when it is not JSON or nests too deep, a 413 for a string
/// over the bound. Each error names the limit and where the body broke it.
pub(crate) fn check_body(body: &str, limits: &InputLimits) -> Result<(), TaxiiError> {
    let violation = Cell::new(None);
    let bounds = Bounds {
        limits,
        violation: &violation,
        values: Cell::new(0),
    };
    let mut de = serde_json::Deserializer::from_str(body);
    let r = Check {
        depth: 1,
        bounds: &bounds,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    let Err(e) = r else { return Ok(()) };
    let at = format!("line {} column {}", e.line(), e.column());
    match violation.get() {
        Some(Violation::Depth) => Err(depth_error(limits, &at)),
        Some(Violation::String(len)) => Err(TaxiiError::TooLarge(format!(
            "the request body has a string of {len} bytes at {at}; \
             max_string_bytes is {}",
            limits.max_string_bytes
        ))),
        Some(Violation::Values) => Err(TaxiiError::TooLarge(format!(
            "the object around {at} holds more than {} JSON values (keys included); \
             max_values_per_object is {}",
            limits.max_values_per_object, limits.max_values_per_object
        ))),
        // serde_json's own bound (MAX_JSON_DEPTH) when the configured one is as high.
        None if e.to_string().starts_with("recursion limit exceeded") => {
            Err(depth_error(limits, &at))
        }
        None => Err(TaxiiError::bad(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

fn depth_error(limits: &InputLimits, at: &str) -> TaxiiError {
    TaxiiError::bad(format!(
        "the request body nests arrays and objects more than {} deep at {at} (max_json_depth)",
        limits.max_json_depth.min(crate::MAX_JSON_DEPTH)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn limits(depth: usize, string: usize) -> InputLimits {
        InputLimits {
            max_objects_per_envelope: 10,
            max_json_depth: depth,
            max_string_bytes: string,
            max_values_per_object: 1_000,
        }
    }

    /// Values are counted per envelope object, keys and nested values
    /// included; the envelope and its list do not count.
    #[test]
    fn values_per_object() {
        let mut l = limits(10, 100);
        l.max_values_per_object = 7;
        // {"a":[1,2],"b":3}: 1 object + 2 keys + list + 2 + 1 = 7.
        let ok = r#"{"objects":[{"a":[1,2],"b":3},{"a":[1,2],"b":3}],"more":false}"#;
        assert_eq!(check_body(ok, &l), Ok(()));
        let bad = r#"{"objects":[{"a":[1,2],"b":3},{"a":[1,2,3],"b":3}]}"#;
        let e = check_body(bad, &l).expect_err("8 values");
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.to_string().contains("max_values_per_object is 7"), "{e}");
        assert!(e.to_string().contains("line 1 column"), "{e}");
        // A long list outside any object (not an envelope) is not counted here.
        let list = format!("[{}]", vec!["1"; 50].join(","));
        assert_eq!(check_body(&list, &l), Ok(()));
    }

    fn nested(n: usize) -> String {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn depth_counts_containers() {
        let l = limits(3, 100);
        assert_eq!(check_body("1", &l), Ok(()));
        assert_eq!(check_body(r#"{"a":[{"b":"c"}]}"#, &l), Ok(()));
        assert_eq!(check_body(&nested(3), &l), Ok(()));
        let e = check_body(&nested(4), &l).expect_err("too deep");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("more than 3 deep"), "{e}");
        assert!(check_body(r#"{"a":[{"b":{}}]}"#, &l).is_err());
    }

    #[test]
    fn serde_json_bound_is_the_ceiling() {
        let l = limits(crate::MAX_JSON_DEPTH, 100);
        assert_eq!(check_body(&nested(crate::MAX_JSON_DEPTH), &l), Ok(()));
        let e = check_body(&nested(crate::MAX_JSON_DEPTH + 1), &l).expect_err("too deep");
        assert!(e.to_string().contains("max_json_depth"), "{e}");
        let e = check_body(&nested(100_000), &l).expect_err("far too deep");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn strings_keys_and_escapes() {
        let l = limits(10, 4);
        assert_eq!(check_body(r#"{"abcd":"wxyz"}"#, &l), Ok(()));
        for bad in [r#"{"abcde":1}"#, r#"["vwxyz"]"#, r#"["\u0041\u0042ccc"]"#] {
            let e = check_body(bad, &l).expect_err(bad);
            assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE, "{bad}");
            assert!(e.to_string().contains("max_string_bytes is 4"), "{e}");
        }
        // Escapes count once decoded: 4 bytes.
        assert_eq!(check_body(r#"["\u00e9\u00e9"]"#, &l), Ok(()));
    }

    #[test]
    fn not_json_is_400() {
        let l = limits(10, 10);
        for bad in ["", "{", "[1,]", "{} {}", "nul"] {
            let e = check_body(bad, &l).expect_err(bad);
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert!(e.to_string().contains("not valid JSON"), "{e}");
        }
    }
}
