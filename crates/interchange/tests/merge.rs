//! Entity resolution on import (`ImportOptions::merge_by`, issue 14 §1):
//! objects from different sources naming the same ATT&CK/CVE entity are
//! linked by one `related-to` relationship, never changed, and re-importing
//! links nothing twice.

use serde_json::{json, Value};
use sightline_interchange::{import, ImportOptions, Input, MergeBy, MERGE_IDENTITY};
use sightline_stix::Validator;
use sightline_store::{MemoryStore, ObjectQuery, ObjectReader, VersionFilter};

const T: &str = "2025-01-01T00:00:00.000Z";
const MITRE: &str = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5";
const PARTNER: &str = "identity--2d1c6b8a-3f0e-4b7a-9c55-0e1f2a3b4c5d";

fn sdo(ty: &str, id: &str, creator: &str, name: &str, refs: Value) -> Value {
    let mut o = json!({"type": ty, "spec_version": "2.1", "id": id, "created_by_ref": creator,
        "created": T, "modified": T, "name": name, "external_references": refs});
    if ty == "malware" {
        o["is_family"] = json!(true);
    }
    o
}

fn attack(ext: &str) -> Value {
    json!([{"source_name": "mitre-attack", "external_id": ext, "url": format!("https://attack.mitre.org/{ext}")}])
}

fn input(name: &str, objects: &[Value]) -> Input {
    Input {
        name: name.into(),
        bytes: json!({"type": "bundle", "id": "bundle--0f6a3b7e-5d3c-4f0e-9f57-3f0b7d5e0c11", "objects": objects})
            .to_string()
            .into_bytes(),
    }
}

fn merge_opts() -> ImportOptions {
    ImportOptions {
        merge_by: Some(MergeBy::ExternalId),
        ..ImportOptions::default()
    }
}

fn latest(store: &MemoryStore, id: &str) -> Value {
    let q = ObjectQuery {
        ids: vec![id.into()],
        versions: VersionFilter::last(),
        ..ObjectQuery::default()
    };
    let page = store.query(&q).expect("query");
    serde_json::from_str(&page.items[0].raw).expect("json")
}

#[test]
fn objects_naming_one_entity_are_linked_once_and_never_changed() {
    let store = MemoryStore::new();
    let v = Validator::new();
    let lazarus = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a";
    let cve_a = "vulnerability--0a4c5e1f-6b2d-4e8a-9c3f-7d1e2b5a4c60";
    let attack_feed = [
        sdo(
            "intrusion-set",
            lazarus,
            MITRE,
            "Lazarus Group",
            attack("G0032"),
        ),
        sdo(
            "vulnerability",
            cve_a,
            MITRE,
            "CVE-2017-0144",
            json!([{"source_name": "cve", "external_id": "CVE-2017-0144"}]),
        ),
    ];
    let r = import(
        &store,
        &v,
        &[input("attack.json", &attack_feed)],
        &merge_opts(),
        &|_| {},
    )
    .expect("import");
    assert_eq!(
        r.merge.as_ref().map(|m| m.linked.len()),
        Some(0),
        "one source: nothing to link"
    );

    let partner_group = "intrusion-set--6b0e2c1d-8a7f-4e3b-9d21-5c4b3a2f1e0d";
    let partner_cve = "vulnerability--9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
    let citing_campaign = "campaign--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    let same_source = "intrusion-set--3c2b1a0f-9e8d-4c7b-8a6f-5e4d3c2b1a0f";
    let partner_feed = [
        sdo(
            "intrusion-set",
            partner_group,
            PARTNER,
            "HIDDEN COBRA",
            attack("G0032"),
        ),
        sdo(
            "vulnerability",
            partner_cve,
            PARTNER,
            "EternalBlue bug",
            json!([{"source_name": "cve", "external_id": "CVE-2017-0144"}]),
        ),
        // Cites G0032 as a source: a campaign is not the group (not linked).
        sdo(
            "campaign",
            citing_campaign,
            PARTNER,
            "Some operation",
            attack("G0032"),
        ),
    ];
    // MITRE's own second object with G0032 (same creator): not another source.
    let mitre_again = [sdo(
        "intrusion-set",
        same_source,
        MITRE,
        "Lazarus (old)",
        attack("G0032"),
    )];
    let before = latest(&store, lazarus);

    let r = import(
        &store,
        &v,
        &[
            input("partner.json", &partner_feed),
            input("mitre2.json", &mitre_again),
        ],
        &merge_opts(),
        &|_| {},
    )
    .expect("import");
    assert!(r.rejections.is_empty(), "{:?}", r.rejections);
    let m = r.merge.expect("merge report");
    // Unordered pairs: either end may be the one looked up first.
    let unordered = |a: &str, b: &str, ext: &str| {
        let (x, y) = if a <= b { (a, b) } else { (b, a) };
        (x.to_owned(), y.to_owned(), ext.to_owned())
    };
    let mut pairs: Vec<_> = m
        .linked
        .iter()
        .map(|(_, a, b, ext)| unordered(a, b, ext))
        .collect();
    pairs.sort();
    let mut want = vec![
        unordered(partner_group, lazarus, "G0032"),
        unordered(partner_group, same_source, "G0032"),
        unordered(partner_cve, cve_a, "CVE-2017-0144"),
    ];
    want.sort();
    assert_eq!(pairs, want);
    // The relationships: related-to by Sightline, saying why, valid STIX 2.1.
    for (rid, a, b, ext) in &m.linked {
        let rel = latest(&store, rid);
        assert_eq!(rel["relationship_type"], "related-to");
        assert_eq!(rel["created_by_ref"], MERGE_IDENTITY);
        assert_eq!(rel["source_ref"], a.as_str());
        assert_eq!(rel["target_ref"], b.as_str());
        let why = rel["description"].as_str().expect("description");
        assert!(
            why.contains(ext.as_str()) && why.contains("different sources"),
            "{why}"
        );
        assert!(v.admit(&rel).is_ok(), "{rel}");
    }
    assert!(v.admit(&latest(&store, MERGE_IDENTITY)).is_ok());
    // Never overwritten: the objects are as they were.
    assert_eq!(latest(&store, lazarus), before);

    // Idempotent: the same files again link nothing new.
    let r = import(
        &store,
        &v,
        &[
            input("partner.json", &partner_feed),
            input("mitre2.json", &mitre_again),
        ],
        &merge_opts(),
        &|_| {},
    )
    .expect("import");
    let m = r.merge.expect("merge report");
    assert!(m.linked.is_empty(), "{:?}", m.linked);
    assert_eq!(m.already_linked, 3);
    // And the store holds exactly three merge relationships.
    let q = ObjectQuery {
        types: vec!["relationship".into()],
        ..ObjectQuery::default()
    };
    let rels = store.query(&q).expect("query").items;
    assert_eq!(rels.len(), 3);
}

#[test]
fn without_merge_by_nothing_is_linked() {
    let store = MemoryStore::new();
    let v = Validator::new();
    let feed = [
        sdo(
            "malware",
            "malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
            MITRE,
            "WannaCry",
            attack("S0366"),
        ),
        sdo(
            "malware",
            "malware--1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b",
            PARTNER,
            "WCry",
            attack("S0366"),
        ),
    ];
    let r = import(
        &store,
        &v,
        &[input("f.json", &feed)],
        &ImportOptions::default(),
        &|_| {},
    )
    .expect("import");
    assert!(r.merge.is_none());
    // The same objects with merge_by: linked (both in one import count too).
    let r = import(
        &store,
        &v,
        &[input("f.json", &feed)],
        &merge_opts(),
        &|_| {},
    )
    .expect("import");
    assert_eq!(r.merge.map(|m| m.linked.len()), Some(1));
}

#[test]
fn entity_ids_fit_the_object_type() {
    use sightline_interchange::merge::named_types;
    assert_eq!(
        named_types("mitre-attack", "G0032"),
        Some(&["intrusion-set", "threat-actor"][..])
    );
    assert_eq!(
        named_types("mitre-attack", "T1561.001"),
        Some(&["attack-pattern"][..])
    );
    assert_eq!(
        named_types("mitre-ics-attack", "TA0100"),
        Some(&["x-mitre-tactic"][..])
    );
    assert_eq!(
        named_types("cve", "CVE-2017-0144"),
        Some(&["vulnerability"][..])
    );
    assert_eq!(named_types("capec", "CAPEC-163"), None);
    assert_eq!(named_types("mitre-attack", "G32"), None);
    assert_eq!(named_types("mitre-attack", "DET0001"), None);
}

/// With `collection`, the links and the Sightline identity go into that
/// collection too, so its readers see them (TAXII 2.1 §5.3: a collection
/// serves only what was added to it).
#[test]
fn links_go_into_the_import_collection() {
    use sightline_store::{CollectionInfo, CollectionStore};
    let store = MemoryStore::new();
    store
        .create_collection(&CollectionInfo {
            id: "6f0c6f4e-0000-4000-8000-000000000009".into(),
            title: "feeds".into(),
            description: None,
            alias: Some("feeds".into()),
            media_types: vec![],
        })
        .expect("collection");
    let v = Validator::new();
    let feed = [
        sdo(
            "malware",
            "malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
            MITRE,
            "WannaCry",
            attack("S0366"),
        ),
        sdo(
            "malware",
            "malware--1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b",
            PARTNER,
            "WCry",
            attack("S0366"),
        ),
    ];
    let opts = ImportOptions {
        collection: Some("feeds".into()),
        ..merge_opts()
    };
    let r = import(&store, &v, &[input("f.json", &feed)], &opts, &|_| {}).expect("import");
    let m = r.merge.expect("merge");
    assert_eq!(m.linked.len(), 1);
    let q = ObjectQuery {
        collection: Some("feeds".into()),
        types: vec!["relationship".into(), "identity".into()],
        ..ObjectQuery::default()
    };
    let ids: Vec<String> = store
        .query(&q)
        .expect("query")
        .items
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert!(ids.contains(&m.linked[0].0), "{ids:?}");
    assert!(ids.contains(&MERGE_IDENTITY.to_owned()), "{ids:?}");
}
