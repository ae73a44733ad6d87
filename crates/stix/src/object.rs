//! The few fields of an object that Sightline indexes, read from its JSON.
//! The object itself stays as received (raw JSON); nothing here rewrites it.

use serde_json::{Map, Value};

use crate::ids::StixId;
use crate::time::Timestamp;

/// What kind of STIX object a type is (STIX 2.1 §2.1–2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// STIX Domain Object (the 19 of §4, or a custom object type).
    Domain,
    /// STIX Relationship Object: relationship, sighting.
    Relationship,
    /// STIX Cyber-observable Object (the 18 of §6).
    Observable,
    /// STIX Meta Object: marking-definition, language-content, extension-definition.
    Meta,
}

pub const DOMAIN_TYPES: [&str; 19] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];
pub const RELATIONSHIP_TYPES: [&str; 2] = ["relationship", "sighting"];
pub const OBSERVABLE_TYPES: [&str; 18] = [
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];
pub const META_TYPES: [&str; 3] = [
    "marking-definition",
    "language-content",
    "extension-definition",
];

/// The category of a type. Unknown (custom) types count as domain objects
/// unless they look like observables (no `created`), as STIX 2.1 §11 allows both.
pub fn category_of(ty: &str, obj: Option<&Map<String, Value>>) -> Category {
    if RELATIONSHIP_TYPES.contains(&ty) {
        Category::Relationship
    } else if OBSERVABLE_TYPES.contains(&ty) {
        Category::Observable
    } else if META_TYPES.contains(&ty) {
        Category::Meta
    } else if DOMAIN_TYPES.contains(&ty) {
        Category::Domain
    } else if obj.is_some_and(|o| !o.contains_key("created") && !o.contains_key("spec_version")) {
        Category::Observable
    } else {
        Category::Domain
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectMetaError {
    #[error("not a JSON object")]
    NotAnObject,
    #[error("missing or non-string `{0}`")]
    Missing(&'static str),
    #[error("{0}")]
    Id(#[from] crate::ids::StixIdError),
    #[error("`{prop}`: {source}")]
    Time {
        prop: &'static str,
        source: crate::time::TimestampError,
    },
}

impl From<&ObjectMetaError> for crate::Diagnostic {
    /// The validator's code for the same fault (E001, E101, E102, E107), so
    /// an object the indexer refuses is reported like any invalid object.
    fn from(e: &ObjectMetaError) -> Self {
        use crate::diag::Code;
        let (code, pointer) = match e {
            ObjectMetaError::NotAnObject => (Code::E001, String::new()),
            ObjectMetaError::Missing(prop) => (Code::E101, format!("/{prop}")),
            ObjectMetaError::Id(_) => (Code::E102, "/id".to_owned()),
            ObjectMetaError::Time { prop, .. } => (Code::E107, format!("/{prop}")),
        };
        crate::Diagnostic::error(code, pointer, e.to_string())
    }
}

/// The indexed fields of one object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub id: String,
    pub ty: String,
    pub category: Category,
    /// `spec_version` when present; SCOs may omit it (then "2.1").
    pub spec_version: String,
    pub created: Option<String>,
    pub modified: Option<String>,
    /// The version key: `modified`, else `created`, else "" (one version only),
    /// as a [`Timestamp::sort_key`] so that versions sort by instant.
    pub version_key: String,
    /// The timestamp text that names this version (`modified` or `created`), as written.
    pub version: Option<String>,
    pub revoked: bool,
    pub name: Option<String>,
    pub aliases: Vec<String>,
    pub description: Option<String>,
    pub source_ref: Option<String>,
    pub target_ref: Option<String>,
    /// `(source_name, external_id)` of each external reference that has an id.
    pub external_ids: Vec<(String, String)>,
    /// The ids its embedded references name (`*_ref`/`*_refs` at any depth,
    /// but not a relationship's or sighting's own ends), distinct, sorted:
    /// [`crate::refs::indexed_refs_of`]. Stores index them (`referrers_of`).
    pub refs: Vec<String>,
}

impl ObjectMeta {
    /// Extracts the metadata. Fails only when the object lacks what any stored
    /// object must have (`type`, a well-formed `id`, parseable version stamps);
    /// everything else is the validator's business.
    pub fn extract(v: &Value) -> Result<Self, ObjectMetaError> {
        let o = v.as_object().ok_or(ObjectMetaError::NotAnObject)?;
        let str_of = |k: &str| o.get(k).and_then(Value::as_str);
        let ty = str_of("type").ok_or(ObjectMetaError::Missing("type"))?;
        let id = str_of("id").ok_or(ObjectMetaError::Missing("id"))?;
        StixId::parse(id)?;
        let ts = |prop: &'static str| -> Result<Option<Timestamp<'_>>, ObjectMetaError> {
            match o.get(prop) {
                None => Ok(None),
                Some(Value::String(s)) => Timestamp::parse(s)
                    .map(Some)
                    .map_err(|source| ObjectMetaError::Time { prop, source }),
                Some(_) => Err(ObjectMetaError::Missing(prop)),
            }
        };
        let created = ts("created")?;
        let modified = ts("modified")?;
        let ver = modified.as_ref().or(created.as_ref());
        let aliases = ["aliases", "x_mitre_aliases"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let external_ids = o
            .get("external_references")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| {
                        let r = r.as_object()?;
                        Some((
                            r.get("source_name")?.as_str()?.to_owned(),
                            r.get("external_id")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(ObjectMeta {
            id: id.to_owned(),
            ty: ty.to_owned(),
            category: category_of(ty, Some(o)),
            spec_version: str_of("spec_version").unwrap_or("2.1").to_owned(),
            created: created.as_ref().map(|t| t.as_str().to_owned()),
            modified: modified.as_ref().map(|t| t.as_str().to_owned()),
            version_key: ver.map(Timestamp::sort_key).unwrap_or_default(),
            version: ver.map(|t| t.as_str().to_owned()),
            revoked: o.get("revoked").and_then(Value::as_bool).unwrap_or(false),
            name: str_of("name").map(str::to_owned),
            aliases,
            description: str_of("description").map(str::to_owned),
            source_ref: str_of("source_ref")
                .or_else(|| str_of("sighting_of_ref"))
                .map(str::to_owned),
            target_ref: str_of("target_ref").map(str::to_owned),
            external_ids,
            refs: crate::refs::indexed_refs_of(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_indexed_fields() {
        let v = json!({
            "type": "intrusion-set", "spec_version": "2.1",
            "id": "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a",
            "created": "2017-05-31T21:32:03.807Z", "modified": "2025-04-16T20:37:45.123Z",
            "name": "Lazarus Group", "aliases": ["Lazarus Group", "HIDDEN COBRA"],
            "external_references": [{"source_name": "mitre-attack", "external_id": "G0032"}],
            "x_custom": 1
        });
        let m = ObjectMeta::extract(&v).expect("valid");
        assert_eq!(m.version.as_deref(), Some("2025-04-16T20:37:45.123Z"));
        assert_eq!(m.version_key, "2025-04-16T20:37:45.123000000");
        assert_eq!(
            m.external_ids,
            vec![("mitre-attack".into(), "G0032".into())]
        );
        assert_eq!(m.category, Category::Domain);
        assert_eq!(m.aliases.len(), 2);
    }

    #[test]
    fn extraction_faults_map_to_validator_codes() {
        use crate::diag::Code;
        let d = |v: Value| {
            let e = ObjectMeta::extract(&v).expect_err("refused");
            crate::Diagnostic::from(&e)
        };
        let code = |x: crate::Diagnostic| (x.code, x.pointer().to_owned());
        assert_eq!(code(d(json!([1]))), (Code::E001, String::new()));
        assert_eq!(code(d(json!({"type": "tool"}))), (Code::E101, "/id".into()));
        let id = "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        assert_eq!(
            code(d(json!({"type": "tool", "id": "tool--x"}))),
            (Code::E102, "/id".into())
        );
        assert_eq!(
            code(d(json!({"type": "tool", "id": id, "created": "yesterday"}))),
            (Code::E107, "/created".into())
        );
    }

    #[test]
    fn sco_without_timestamps_has_one_version() {
        let v = json!({"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3"});
        let m = ObjectMeta::extract(&v).expect("valid");
        assert_eq!(m.version_key, "");
        assert_eq!(m.category, Category::Observable);
    }
}
