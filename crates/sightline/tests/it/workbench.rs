//! Issue 14 (analyst workbench) through the real binary: the Bureau 121 pack
//! joined to MITRE ATT&CK, entity resolution on import, and the commands that
//! follow relationships. Real data: `SIGHTLINE_TEST_DATA` (default
//! `../shared/data/real` beside the checkout); where it is absent the tests
//! that need it say NOT RUN and pass.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{data, ok, sightline};
use serde_json::Value;

const PACK: &str = include_str!("../../../../packs/bureau-121.json");
const LAZARUS: &str = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a";
const MITRE: &str = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5";

fn real_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SIGHTLINE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real"));
    let enterprise = dir.join("attack/enterprise-attack-18.1.json.gz");
    if enterprise.is_file() {
        Some(enterprise)
    } else {
        println!(
            "real-data test NOT RUN: {} is missing (set SIGHTLINE_TEST_DATA to the real-data folder)",
            enterprise.display()
        );
        None
    }
}

fn pack_objects() -> Vec<Value> {
    let v: Value = serde_json::from_str(PACK).expect("pack JSON");
    v["objects"].as_array().expect("objects").clone()
}

/// Ids the pack refers to (`*_ref`, `*_refs`) without defining them.
fn pack_external_refs() -> BTreeSet<String> {
    let objects = pack_objects();
    let defined: BTreeSet<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
    let mut refs = BTreeSet::new();
    for o in &objects {
        for (k, v) in o.as_object().expect("object") {
            let ids: Vec<&str> = if k.ends_with("_ref") {
                v.as_str().into_iter().collect()
            } else if k.ends_with("_refs") {
                v.as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            refs.extend(
                ids.into_iter()
                    .filter(|i| !defined.contains(i))
                    .map(str::to_owned),
            );
        }
    }
    refs
}

/// Issue 14 §1: the pack defines no copy of an ATT&CK object; what it says
/// about Lazarus Group, APT38, WannaCry and the techniques it cites is said
/// about ATT&CK's own objects, by their STIX ids. Imported alone it still
/// imports whole (STIX 2.1 §3.3: a reference need not resolve).
#[test]
fn pack_refers_to_attack_objects_instead_of_copying_them() {
    let objects = pack_objects();
    for o in &objects {
        let ty = o["type"].as_str().unwrap_or("");
        if ["intrusion-set", "malware", "tool", "attack-pattern"].contains(&ty) {
            let first_mitre = o["external_references"]
                .as_array()
                .and_then(|r| r.iter().find(|r| r["source_name"] == "mitre-attack"));
            assert!(
                first_mitre.is_none(),
                "the pack defines its own copy of an ATT&CK object: {}",
                o["id"]
            );
        }
    }
    let refs = pack_external_refs();
    assert_eq!(refs.len(), 7, "{refs:?}");
    assert!(refs.contains(LAZARUS));

    let dir = tempfile::tempdir().expect("dir");
    let d = data(dir.path());
    let out = ok(&sightline(&d, &["import", "--demo", "--json"], None));
    let s: Value = serde_json::from_str(out.trim()).expect("summary");
    assert_eq!(s["new"].as_u64(), Some(objects.len() as u64), "{s}");
    assert_eq!(s["rejected"], 0);

    let Some(enterprise) = real_data() else {
        return;
    };
    ok(&sightline(
        &d,
        &["import", enterprise.to_str().expect("utf-8 path")],
        None,
    ));
    // Every id the pack refers to outside itself is now an ATT&CK object.
    for id in &refs {
        let out = ok(&sightline(&d, &["get", id], None));
        let obj: Value = serde_json::from_str(out.trim()).expect("get prints the object");
        assert_eq!(obj["id"], id.as_str());
        assert_eq!(obj["created_by_ref"], MITRE, "{id} is not ATT&CK's object");
    }
}

/// Issue 14 §1: `import --merge-by external-id` links a partner's copy of
/// Lazarus Group (G0032) to ATT&CK's by one `related-to` relationship, and a
/// second import links nothing more.
#[test]
fn merge_by_external_id_links_once() {
    let dir = tempfile::tempdir().expect("dir");
    let d = data(dir.path());
    let t = "2025-01-01T00:00:00.000Z";
    let mitre_lazarus = serde_json::json!({"type": "intrusion-set", "spec_version": "2.1", "id": LAZARUS,
        "created_by_ref": MITRE, "created": t, "modified": t, "name": "Lazarus Group",
        "external_references": [{"source_name": "mitre-attack", "external_id": "G0032"}]});
    let partner = "intrusion-set--6b0e2c1d-8a7f-4e3b-9d21-5c4b3a2f1e0d";
    let partner_lazarus = serde_json::json!({"type": "intrusion-set", "spec_version": "2.1", "id": partner,
        "created_by_ref": "identity--2d1c6b8a-3f0e-4b7a-9c55-0e1f2a3b4c5d", "created": t, "modified": t,
        "name": "HIDDEN COBRA",
        "external_references": [{"source_name": "mitre-attack", "external_id": "G0032"}]});
    let a = dir.path().join("attack.json");
    let b = dir.path().join("partner.json");
    std::fs::write(&a, mitre_lazarus.to_string()).expect("write");
    std::fs::write(&b, partner_lazarus.to_string()).expect("write");
    let (a, b) = (a.to_str().expect("utf-8"), b.to_str().expect("utf-8"));
    ok(&sightline(&d, &["import", a], None));
    let args = ["import", b, "--merge-by", "external-id", "--json"];
    let first: Value = serde_json::from_str(ok(&sightline(&d, &args, None)).trim()).expect("json");
    let linked = first["merge"]["linked"].as_array().expect("linked");
    assert_eq!(linked.len(), 1, "{first}");
    assert_eq!(linked[0]["source_ref"], partner);
    assert_eq!(linked[0]["target_ref"], LAZARUS);
    assert_eq!(linked[0]["external_id"], "G0032");
    let again: Value = serde_json::from_str(ok(&sightline(&d, &args, None)).trim()).expect("json");
    assert_eq!(
        again["merge"]["linked"].as_array().map(Vec::len),
        Some(0),
        "{again}"
    );
    assert_eq!(again["merge"]["already_linked"], 1);
    // Neither object changed: one version each.
    for id in [LAZARUS, partner] {
        let out = ok(&sightline(&d, &["get", id, "--versions"], None));
        assert_eq!(out.lines().count(), 1, "{out}");
    }
}
