//! Borrowed field types for the adapters' serde structs: strings that borrow
//! from the line unless they hold escapes, times in either form sensors write,
//! and fields whose unexpected shapes are ignored rather than fatal.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};
use sightline_matcher::EventTime;

use super::time::{from_epoch_secs, parse_iso};

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Str<'a>(pub Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A string if the value is one; any other JSON value is skipped. For fields
/// that mean different things in different logs (Zeek's `id`).
#[derive(Debug, Clone, Default)]
pub struct AnyStr<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for AnyStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(AnyStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AnyStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnyStr(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnyStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A time: epoch seconds (a JSON number, as Zeek writes `ts`; ms, µs or ns
/// when too large for seconds) or ISO 8601 text (Zeek's `JSON::TS_ISO8601`,
/// Suricata). Either way µs since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub EventTime);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const WHAT: &str = "epoch seconds or an ISO 8601 time";
        impl Visitor<'_> for V {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(WHAT)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Time, E> {
                // Zeek's `JSON::TS_MILLIS` writes integer milliseconds; other
                // tools write µs or ns. Seconds past 1e11 (year 5138) are not
                // plausible event times, so larger numbers are taken as the
                // finer units.
                let a = v.abs();
                let secs = if a >= 1e17 {
                    v / 1e9
                } else if a >= 1e14 {
                    v / 1e6
                } else if a >= 1e11 {
                    v / 1e3
                } else {
                    v
                };
                from_epoch_secs(secs)
                    .map(Time)
                    .ok_or_else(|| E::custom(format_args!("{v} is out of range for {WHAT}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Time, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Time, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
                parse_iso(v)
                    .map(Time)
                    .ok_or_else(|| E::custom(format_args!("`{v}` is not {WHAT}")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct T<'a> {
        #[serde(borrow)]
        s: Str<'a>,
        #[serde(borrow, default)]
        any: AnyStr<'a>,
        t: Time,
    }

    #[test]
    fn borrows_unless_escaped() {
        let j = r#"{"s":"plain","any":{"x":[1]},"t":1.5}"#;
        let v: T = serde_json::from_str(j).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(v.s.0, Cow::Borrowed("plain")));
        assert!(v.any.0.is_none());
        assert_eq!(v.t, Time(1_500_000));
        let j = r#"{"s":"a\"b","any":"x","t":"1970-01-01T00:00:02Z"}"#;
        let v: T = serde_json::from_str(j).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(v.s.0, Cow::Owned(ref s) if s == "a\"b"));
        assert_eq!(v.any.0.as_deref(), Some("x"));
        assert_eq!(v.t, Time(2_000_000));
    }

    #[test]
    fn bad_times_are_errors() {
        assert!(serde_json::from_str::<Time>("\"yesterday\"").is_err());
        assert!(serde_json::from_str::<Time>("1e300").is_err());
        // ms (Zeek JSON::TS_MILLIS), µs and ns since the epoch.
        for t in ["1705312800123", "1705312800123000", "1705312800123000000"] {
            let v: Time = serde_json::from_str(t).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(v, Time(1_705_312_800_123_000), "{t}");
        }
        assert!(serde_json::from_str::<Time>("true").is_err());
    }
}
