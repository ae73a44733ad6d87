//! What the property tables say about an SCO's properties, for code outside
//! the validator (the pattern linter): which properties a type defines and
//! what kind of value each holds (STIX 2.1 §6). One home: the same tables the
//! validator checks objects against.

use super::props::{K, P};
use super::types;

/// The kind of value a property holds, as far as a comparison can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    String,
    /// A string holding an IPv4 address or CIDR block.
    Ipv4,
    /// A string holding an IPv6 address or CIDR block.
    Ipv6,
    /// A string holding a MAC address.
    Mac,
    Integer,
    Number,
    Boolean,
    Timestamp,
    /// Base64 (`b'…'` in patterns).
    Binary,
    /// Hex digits (`h'…'` in patterns).
    Hex,
    /// A list of strings.
    StringList,
    /// A reference (or list of them) to another object: paths continue there.
    Reference,
    /// A dictionary, an embedded object or list of them: paths continue inside.
    Object,
}

fn kind(k: &K) -> ValueKind {
    match k {
        K::Str
        | K::Ov(_)
        | K::Enum(_)
        | K::Url
        | K::Domain
        | K::Email
        | K::Mime
        | K::Charset
        | K::Cpe
        | K::Lang => ValueKind::String,
        K::Ipv4 => ValueKind::Ipv4,
        K::Ipv6 => ValueKind::Ipv6,
        K::Mac => ValueKind::Mac,
        K::StrList | K::OvList(_) | K::EnumList(_) | K::Iso639List => ValueKind::StringList,
        K::Ts | K::TsMs => ValueKind::Timestamp,
        K::Bool => ValueKind::Boolean,
        K::Int(..) => ValueKind::Integer,
        K::Num(..) => ValueKind::Number,
        K::Bin => ValueKind::Binary,
        K::Hex => ValueKind::Hex,
        K::Ref(_) | K::Refs(_) => ValueKind::Reference,
        K::Hashes
        | K::KillChain
        | K::ExtRefs
        | K::Granular
        | K::Extensions
        | K::Dict
        | K::Obj
        | K::Embedded(_)
        | K::EmbeddedList(_) => ValueKind::Object,
    }
}

fn sco_tables(ty: &str) -> Option<[&'static [P]; 2]> {
    if !crate::object::OBSERVABLE_TYPES.contains(&ty) {
        return None;
    }
    Some([types::SCO_COMMON, types::table(ty)?])
}

/// The kind of property `name` of SCO type `ty`: `None` when `ty` is not a
/// STIX 2.1 SCO type, `Some(None)` when the type defines no such property.
pub fn sco_property(ty: &str, name: &str) -> Option<Option<ValueKind>> {
    let tables = sco_tables(ty)?;
    Some(
        tables
            .iter()
            .flat_map(|t| t.iter())
            .find(|p| p.name == name)
            .map(|p| kind(&p.kind)),
    )
}

/// Every property SCO type `ty` defines (common ones included), or `None`.
pub fn sco_properties(ty: &str) -> Option<Vec<&'static str>> {
    let tables = sco_tables(ty)?;
    Some(
        tables
            .iter()
            .flat_map(|t| t.iter())
            .map(|p| p.name)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sco_properties_come_from_the_validator_tables() {
        assert_eq!(
            sco_property("ipv4-addr", "value"),
            Some(Some(ValueKind::Ipv4))
        );
        assert_eq!(sco_property("ipv4-addr", "valu"), Some(None));
        assert_eq!(
            sco_property("network-traffic", "dst_port"),
            Some(Some(ValueKind::Integer))
        );
        assert_eq!(
            sco_property("file", "defanged"),
            Some(Some(ValueKind::Boolean))
        );
        assert_eq!(sco_property("indicator", "name"), None, "not an SCO");
        assert_eq!(sco_property("x-custom", "a"), None);
        assert!(sco_properties("url").is_some_and(|p| p.contains(&"value")));
    }
}
