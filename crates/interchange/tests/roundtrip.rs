//! Property test: whatever valid objects go in come back out unchanged, with
//! every custom property, through import and export (issue #2 §2).

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sightline_interchange::{export_bundle, import, ImportOptions, Input};
use sightline_stix::Validator;
use sightline_store::MemoryStore;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        "[ -~]{0,20}".prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ]
}

/// JSON values without nulls or empty lists/objects (STIX forbids empty lists;
/// nulls are not a property value).
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z][a-z0-9_]{2,8}", inner, 1..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn object(i: usize, custom: Vec<(String, Value)>) -> Value {
    let mut o = json!({
        "type": "identity", "spec_version": "2.1",
        "id": format!("identity--{i:08x}-1111-4111-8111-111111111111"),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": format!("Org {i}"), "identity_class": "organization",
    });
    if let Some(m) = o.as_object_mut() {
        for (k, v) in custom {
            m.insert(format!("x_{k}"), v);
        }
    }
    o
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn import_then_export_returns_every_object_unchanged(
        customs in prop::collection::vec(prop::collection::vec(("[a-z][a-z0-9_]{2,10}", value()), 0..5), 1..12),
        pretty in any::<bool>(),
    ) {
        let objects: Vec<Value> = customs.into_iter().enumerate().map(|(i, c)| object(i, c)).collect();
        let texts: Vec<String> = objects
            .iter()
            .map(|o| if pretty { serde_json::to_string_pretty(o) } else { serde_json::to_string(o) }.expect("json"))
            .collect();
        let bundle = format!(
            "{{\"type\": \"bundle\", \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\", \"objects\": [{}]}}",
            texts.join(",\n")
        );
        let store = MemoryStore::new();
        let input = Input { name: "prop.json".into(), bytes: bundle.into_bytes() };
        let report = import(&store, &Validator::new(), &[input], &ImportOptions::default(), &|_| {}).expect("import");
        prop_assert_eq!(report.rejected_count(), 0, "{:?}", report.rejections);
        prop_assert_eq!(report.new_count(), objects.len() as u64);

        let mut out = Vec::new();
        export_bundle(&store, &Default::default(), &mut out).expect("export");
        let out = String::from_utf8(out).expect("utf8");
        for t in &texts {
            prop_assert!(out.contains(t.as_str()), "object text not returned byte for byte: {}", t);
        }
        let exported: Value = serde_json::from_str(&out).expect("export is JSON");
        let mut got: Vec<String> = exported["objects"].as_array().expect("objects").iter().map(Value::to_string).collect();
        let mut want: Vec<String> = objects.iter().map(Value::to_string).collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }
}
