//! Building the SCOs of one event (STIX 2.1 §6): objects get keys "0", "1", …
//! in the order they are added, and `*_ref` properties hold those keys, as in
//! the 2.0 embedded `objects` form the matcher resolves references against.

use std::net::IpAddr;

use sightline_matcher::{EventTime, Object, Observation, Text, Value};

/// Keys of the first objects, without formatting a number each time.
const KEYS: [&str; 8] = ["0", "1", "2", "3", "4", "5", "6", "7"];

/// The SCOs of one event under construction.
#[derive(Debug, Default)]
pub struct Scos {
    objects: Vec<(Text, Value)>,
}

/// A JSON object with its `type` set.
pub fn sco(ty: &str) -> Object {
    let mut m = Object::with_capacity(8);
    m.push(Text::const_new("type"), Value::str(ty));
    m
}

impl Scos {
    pub fn new() -> Self {
        Self {
            objects: Vec::with_capacity(4),
        }
    }

    /// Adds an object and returns its key.
    pub fn add(&mut self, obj: Object) -> Text {
        let n = self.objects.len();
        let key = KEYS
            .get(n)
            .map_or_else(|| Text::from(n.to_string()), |k| Text::const_new(k));
        self.objects.push((key.clone(), Value::Object(obj)));
        key
    }

    /// Adds a `{type, value}` object unless one with the same type and value is
    /// already there (a DNS answer equal to the query, a flow to itself).
    pub fn add_value(&mut self, ty: &str, value: &str) -> Text {
        for (k, v) in &self.objects {
            if v.get("type").and_then(Value::as_str) == Some(ty)
                && v.get("value").and_then(Value::as_str) == Some(value)
            {
                return k.clone();
            }
        }
        let mut m = sco(ty);
        m.push(Text::const_new("value"), Value::str(value));
        self.add(m)
    }

    /// Adds an `ipv4-addr` or `ipv6-addr` for `addr`, or `None` if it is not an
    /// IP address.
    pub fn add_ip(&mut self, addr: &str) -> Option<Text> {
        let ty = ip_type(addr)?;
        Some(self.add_value(ty, addr))
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object with `key`, to add properties after the fact.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Object> {
        self.objects
            .iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .and_then(|(_, v)| v.as_object_mut())
    }

    /// One observation of these objects, seen once in `[first, last]`.
    pub fn into_observation(self, first: EventTime, last: EventTime) -> Observation {
        Observation {
            id: None,
            first_observed: first,
            last_observed: last.max(first),
            number_observed: 1,
            objects: self.objects,
        }
    }
}

/// `ipv4-addr` / `ipv6-addr` for an IP address (either family's text form).
pub fn ip_type(addr: &str) -> Option<&'static str> {
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(_) => Some("ipv4-addr"),
        IpAddr::V6(_) => Some("ipv6-addr"),
    }
}

/// Whether `s` looks like a DNS name (letters, digits, `-`, `_`, dots; at
/// least one dot or a single label; no spaces), so a DNS answer that is
/// neither an address nor a name (TXT text) is not made a `domain-name`.
pub fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c >= 0x80)
        })
}

/// `network-traffic` protocols, outermost first (STIX 2.1 §6.12): the IP
/// version from the source address (an IP address: callers add it first), the transport, then each application
/// protocol; lower-cased, without Zeek's `-` placeholder or duplicates.
pub fn protocols<'s>(
    src: &str,
    transport: Option<&str>,
    apps: impl IntoIterator<Item = &'s str>,
) -> Value {
    let mut out: Vec<Value> = Vec::with_capacity(4);
    let mut push = |p: &str| {
        let p = p.trim();
        let p = if p.bytes().any(|b| b.is_ascii_uppercase()) {
            Text::from(p.to_ascii_lowercase())
        } else {
            Text::from(p)
        };
        if !p.is_empty() && p != "-" && !out.iter().any(|v| v.as_str() == Some(p.as_str())) {
            out.push(Value::String(p));
        }
    };
    // `src` is an address the caller has already parsed (a flow end), so
    // its family shows in its text; parsing it a third time cost 2%.
    push(if src.contains(':') { "ipv6" } else { "ipv4" });
    if let Some(t) = transport {
        push(t);
    }
    for a in apps {
        for p in a.split(',') {
            push(p);
        }
    }
    Value::Array(out)
}

/// Sets `key` to a string.
/// One end of a flow: the event's field name (for errors), address and port.
pub struct End<'a> {
    pub field: &'a str,
    pub addr: &'a str,
    pub port: Option<u16>,
}

impl Scos {
    /// A `network-traffic` object from `src` to `dst` (STIX 2.1 §6.12): the
    /// two addresses added as `ipv4-addr`/`ipv6-addr` and referenced, the
    /// ports set when known. The caller adds protocols and extensions, then
    /// [`Scos::add`]s it. An end that is not an IP address is an error naming
    /// its field.
    pub fn flow(&mut self, src: End<'_>, dst: End<'_>) -> Result<Object, super::EventError> {
        let mut nt = sco("network-traffic");
        for (end, r, p) in [(src, "src_ref", "src_port"), (dst, "dst_ref", "dst_port")] {
            let key = self.add_ip(end.addr).ok_or_else(|| {
                super::EventError::bad(end.field, format!("`{}` is not an IP address", end.addr))
            })?;
            // Fresh object, distinct static keys: push without a lookup.
            nt.push(Text::const_new(r), Value::String(key));
            if let Some(port) = end.port {
                nt.push(Text::const_new(p), Value::from(u64::from(port)));
            }
        }
        Ok(nt)
    }
}

pub fn set_str(m: &mut Object, key: &str, v: &str) {
    m.insert(key, Value::str(v));
}

/// Sets `key` to an integer.
pub fn set_u64(m: &mut Object, key: &str, v: u64) {
    m.insert(key, Value::from(v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_object() {
        let mut s = Scos::new();
        let a = s.add_ip("10.0.0.1");
        let b = s.add_ip("10.0.0.1");
        assert_eq!(a, b);
        assert_eq!(s.add_ip("::1").as_deref(), Some("1"));
        assert_eq!(a.as_deref(), Some("0"));
        assert_eq!(s.add_ip("not-an-ip"), None);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn protocol_stack() {
        let p = protocols("10.0.0.1", Some("TCP"), ["ssl,http", "-"]);
        assert_eq!(p, serde_json::json!(["ipv4", "tcp", "ssl", "http"]));
        let p = protocols("2001:db8::1", Some("udp"), ["dns"]);
        assert_eq!(p, serde_json::json!(["ipv6", "udp", "dns"]));
    }

    #[test]
    fn hostnames() {
        assert!(is_hostname("www.example.com"));
        assert!(is_hostname("example.com."));
        assert!(is_hostname("_dmarc.example.com"));
        assert!(!is_hostname("v=spf1 include:_spf.google.com ~all"));
        assert!(!is_hostname(""));
        assert!(!is_hostname("a..b"));
    }
}
