//! STIX identifiers: `type--UUID`, UUIDv4 generation and the deterministic
//! UUIDv5 identifiers of cyber observables (STIX 2.1 §2.9).

use std::fmt;
use uuid::Uuid;

/// The namespace of SCO UUIDv5 ids (STIX 2.1 §2.9).
pub const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StixIdError {
    #[error("identifier {0:?} is not of the form <type>--<UUID>")]
    Form(String),
    #[error("identifier {id:?}: type part {ty:?} is not 3-250 characters of a-z, 0-9 and '-'")]
    Type { id: String, ty: String },
    #[error("identifier {id:?}: {uuid:?} is not an RFC 4122 UUID")]
    Uuid { id: String, uuid: String },
}

/// A parsed STIX identifier. Borrowing the type keeps parsing allocation-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StixId<'a> {
    pub ty: &'a str,
    pub uuid: Uuid,
}

/// Whether `s` is a legal STIX type name: 3–250 of `a-z 0-9 -`, no leading or
/// trailing '-', no `--` (STIX 2.1 §3.1 `type`).
pub fn is_valid_type_name(s: &str) -> bool {
    (3..=250).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

impl<'a> StixId<'a> {
    /// Parses `type--UUID`, requiring an RFC 4122 UUID (variant `10xx`, version 1–8)
    /// in the hyphenated form. Upper-case hex digits are accepted here (real
    /// producers emit them); the validator warns about them (W214).
    pub fn parse(id: &'a str) -> Result<Self, StixIdError> {
        let (ty, uuid_s) = id
            .rsplit_once("--")
            .ok_or_else(|| StixIdError::Form(id.to_owned()))?;
        if !is_valid_type_name(ty) {
            return Err(StixIdError::Type {
                id: id.to_owned(),
                ty: ty.to_owned(),
            });
        }
        let bad_uuid = || StixIdError::Uuid {
            id: id.to_owned(),
            uuid: uuid_s.to_owned(),
        };
        if uuid_s.len() != 36 {
            return Err(bad_uuid());
        }
        let uuid = Uuid::try_parse(uuid_s).map_err(|_| bad_uuid())?;
        if uuid.get_variant() != uuid::Variant::RFC4122
            || !(1..=8).contains(&uuid.get_version_num())
        {
            return Err(bad_uuid());
        }
        Ok(StixId { ty, uuid })
    }

    /// A fresh random (UUIDv4) id for `ty`.
    pub fn new_v4(ty: &str) -> String {
        format!("{ty}--{}", Uuid::new_v4())
    }
}

impl fmt::Display for StixId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}--{}", self.ty, self.uuid)
    }
}

/// The id-contributing properties of each predefined SCO type (STIX 2.1 §6).
/// `None` means the type has none and its ids are UUIDv4 (e.g. `process`).
pub fn sco_id_contributing_properties(ty: &str) -> Option<&'static [&'static str]> {
    Some(match ty {
        "artifact" => &["hashes", "payload_bin"],
        "autonomous-system" => &["number"],
        "directory" => &["path"],
        "domain-name" => &["value"],
        "email-addr" => &["value"],
        "email-message" => &["from_ref", "subject", "body"],
        "file" => &["hashes", "name", "extensions", "parent_directory_ref"],
        "ipv4-addr" => &["value"],
        "ipv6-addr" => &["value"],
        "mac-addr" => &["value"],
        "mutex" => &["name"],
        "network-traffic" => &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        "software" => &["name", "cpe", "swid", "vendor", "version"],
        "url" => &["value"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "x509-certificate" => &["hashes", "serial_number"],
        _ => return None,
    })
}

/// The deterministic SCO id of `obj` (STIX 2.1 §2.9): UUIDv5 in [`SCO_NAMESPACE`]
/// over the JCS (RFC 8785) canonical JSON of its id-contributing properties.
///
/// Returns `None` when the type has no id-contributing properties or none of them
/// is present, in which case the spec requires a UUIDv4.
/// For `hashes`, only one hash is used, in the spec's order of preference
/// (MD5, SHA-1, SHA-256, SHA-512, then others), as the spec requires.
pub fn sco_deterministic_id(obj: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let ty = obj.get("type")?.as_str()?;
    let props = sco_id_contributing_properties(ty)?;
    let mut contrib = serde_json::Map::new();
    for &p in props {
        if let Some(v) = obj.get(p) {
            let v = if p == "hashes" {
                preferred_hash(v)?
            } else {
                v.clone()
            };
            contrib.insert(p.to_owned(), v);
        }
    }
    if contrib.is_empty() {
        return None;
    }
    let canon = serde_json_canonicalizer::to_string(&serde_json::Value::Object(contrib)).ok()?;
    Some(format!(
        "{ty}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, canon.as_bytes())
    ))
}

/// Hashes contribute only one entry: the first of MD5, SHA-1, SHA-256, SHA-512,
/// else the lexically first other (STIX 2.1 §2.9, `hashes` rule).
fn preferred_hash(v: &serde_json::Value) -> Option<serde_json::Value> {
    let map = v.as_object()?;
    let key = ["MD5", "SHA-1", "SHA-256", "SHA-512"]
        .into_iter()
        .find(|k| map.contains_key(*k))
        .map(str::to_owned)
        .or_else(|| map.keys().min().cloned())?;
    let mut one = serde_json::Map::new();
    one.insert(key.clone(), map.get(&key)?.clone());
    Some(serde_json::Value::Object(one))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_ids() {
        let id = StixId::parse("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").expect("valid");
        assert_eq!(id.ty, "indicator");
        assert!(StixId::parse("indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_err());
        assert!(StixId::parse("Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_err());
        // variant nibble must be 8, 9, a or b (RFC 4122)
        assert!(StixId::parse("indicator--8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f").is_err());
        assert!(StixId::parse("indicator--8E2E2D2B-17d4-4cbf-938f-98ee46b3cd3f").is_ok());
        assert!(StixId::parse("indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f0000").is_err());
        assert!(StixId::parse("malware--1234").is_err());
    }

    /// STIX 2.1 §2.9: UUIDv5(SCO namespace, JCS of the id-contributing properties).
    /// The expected value is `uuid.uuid5(ns, '{"value":"198.51.100.3"}')` in Python.
    #[test]
    fn sco_ids_match_the_reference_library() {
        let o = json!({"type": "ipv4-addr", "value": "198.51.100.3"});
        assert_eq!(
            sco_deterministic_id(o.as_object().expect("object")).as_deref(),
            Some("ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4")
        );
        let f =
            json!({"type": "file", "name": "foo.exe", "hashes": {"SHA-256": "abc", "MD5": "def"}});
        // only MD5 contributes when present
        let g = json!({"type": "file", "name": "foo.exe", "hashes": {"MD5": "def"}});
        assert_eq!(
            sco_deterministic_id(f.as_object().expect("object")),
            sco_deterministic_id(g.as_object().expect("object"))
        );
        let p = json!({"type": "process", "pid": 1});
        assert_eq!(sco_deterministic_id(p.as_object().expect("object")), None);
    }
}
