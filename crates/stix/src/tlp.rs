//! The predefined Traffic Light Protocol marking definitions: the four TLP 1.0
//! objects of STIX 2.1 §7.2.1.4 and the five TLP 2.0 objects of the CISA
//! extension `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`.
//!
//! The JSON texts are the exact published objects, so a store can seed them and
//! the validator can compare against them.

use serde_json::Value;

/// The extension-definition that TLP 2.0 marking definitions use.
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A predefined TLP marking definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlpMarking {
    /// `1` for TLP 1.0 (STIX 2.1 §7.2.1.4), `2` for TLP 2.0 (CISA extension).
    pub version: u8,
    /// The level as written in the object: `white`, `amber+strict`, …
    pub level: &'static str,
    /// The object's `name`, e.g. `TLP:AMBER+STRICT`.
    pub name: &'static str,
    pub id: &'static str,
    /// The whole object as JSON text.
    pub json: &'static str,
}

impl TlpMarking {
    /// The object as a JSON value.
    pub fn to_value(&self) -> Value {
        // The texts are constants checked by a unit test; a parse failure would be a
        // bug caught there, so fall back to Null rather than panicking.
        serde_json::from_str(self.json).unwrap_or(Value::Null)
    }
}

macro_rules! tlp1 {
    ($level:literal, $name:literal, $uuid:literal) => {
        TlpMarking {
            version: 1,
            level: $level,
            name: $name,
            id: concat!("marking-definition--", $uuid),
            json: concat!(
                r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--"#,
                $uuid,
                r#"","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":""#,
                $name,
                r#"","definition":{"tlp":""#,
                $level,
                r#""}}"#
            ),
        }
    };
}

macro_rules! tlp2 {
    ($level:literal, $name:literal, $uuid:literal) => {
        TlpMarking {
            version: 2,
            level: $level,
            name: $name,
            id: concat!("marking-definition--", $uuid),
            json: concat!(
                r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--"#,
                $uuid,
                r#"","created":"2022-10-01T00:00:00.000Z","name":""#,
                $name,
                r#"","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":""#,
                $level,
                r#""}}}"#
            ),
        }
    };
}

pub const TLP1_WHITE: TlpMarking =
    tlp1!("white", "TLP:WHITE", "613f2e26-407d-48c7-9eca-b8e91df99dc9");
pub const TLP1_GREEN: TlpMarking =
    tlp1!("green", "TLP:GREEN", "34098fce-860f-48ae-8e50-ebd3cc5e41da");
pub const TLP1_AMBER: TlpMarking =
    tlp1!("amber", "TLP:AMBER", "f88d31f6-486f-44da-b317-01333bde0b82");
pub const TLP1_RED: TlpMarking = tlp1!("red", "TLP:RED", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed");

pub const TLP2_CLEAR: TlpMarking =
    tlp2!("clear", "TLP:CLEAR", "94868c89-83c2-464b-929b-a1a8aa3c8487");
pub const TLP2_GREEN: TlpMarking =
    tlp2!("green", "TLP:GREEN", "bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
pub const TLP2_AMBER: TlpMarking =
    tlp2!("amber", "TLP:AMBER", "55d920b0-5e8b-4f79-9ee9-91f868d9b421");
pub const TLP2_AMBER_STRICT: TlpMarking = tlp2!(
    "amber+strict",
    "TLP:AMBER+STRICT",
    "939a9414-2ddd-4d32-a0cd-375ea402b003"
);
pub const TLP2_RED: TlpMarking = tlp2!("red", "TLP:RED", "e828b379-4e03-4974-9ac4-e53a884c97c1");

/// The four TLP 1.0 markings (STIX 2.1 §7.2.1.4).
pub const TLP1: [TlpMarking; 4] = [TLP1_WHITE, TLP1_GREEN, TLP1_AMBER, TLP1_RED];
/// The five TLP 2.0 markings (CISA extension).
pub const TLP2: [TlpMarking; 5] = [
    TLP2_CLEAR,
    TLP2_GREEN,
    TLP2_AMBER,
    TLP2_AMBER_STRICT,
    TLP2_RED,
];

/// All nine predefined TLP markings, TLP 1.0 first.
pub fn all() -> impl Iterator<Item = &'static TlpMarking> {
    TLP1.iter().chain(TLP2.iter())
}

/// All nine predefined TLP marking definitions as JSON values (for seeding a store).
pub fn predefined_markings() -> Vec<Value> {
    all().map(TlpMarking::to_value).collect()
}

/// The predefined marking with this id, if any.
pub fn by_id(id: &str) -> Option<&'static TlpMarking> {
    all().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_json_with_their_ids() {
        for m in all() {
            let v: Value = serde_json::from_str(m.json).expect("constant JSON parses");
            assert_eq!(v["id"], m.id);
            assert_eq!(v["name"], m.name);
            assert_eq!(v["type"], "marking-definition");
        }
        assert_eq!(predefined_markings().len(), 9);
        assert_eq!(by_id(TLP2_RED.id).map(|m| m.level), Some("red"));
        let v = TLP2_AMBER_STRICT.to_value();
        assert_eq!(
            v["extensions"][TLP2_EXTENSION_ID]["tlp_2_0"],
            "amber+strict"
        );
    }
}
