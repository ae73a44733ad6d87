//! The graph library on a small hand-made store (memory and SQLite), then on
//! the real Bureau 121 pack with MITRE ATT&CK Enterprise (issue 14 §1-2).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sightline_graph::{
    Direction, Graph, GraphError, NeighbourQuery, NeighbourhoodQuery, Presence, Via,
};
use sightline_interchange::{import, ImportOptions, Input};
use sightline_stix::Validator;
use sightline_store::{CollectionInfo, MemoryStore, Store};

const T: &str = "2025-01-01T00:00:00.000Z";
const GROUP: &str = "intrusion-set--11111111-1111-4111-8111-111111111111";
const ACTOR: &str = "threat-actor--22222222-2222-4222-8222-222222222222";
const CAMPAIGN: &str = "campaign--33333333-3333-4333-8333-333333333333";
const MALWARE: &str = "malware--44444444-4444-4444-8444-444444444444";
const TECH_A: &str = "attack-pattern--55555555-5555-4555-8555-555555555555";
const TECH_B: &str = "attack-pattern--66666666-6666-4666-8666-666666666666";
const TECH_C: &str = "attack-pattern--77777777-7777-4777-8777-777777777777";
const INDICATOR: &str = "indicator--88888888-8888-4888-8888-888888888888";
const SECRET: &str = "identity--99999999-9999-4999-8999-999999999999";
const ABSENT: &str = "location--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const REPORT: &str = "report--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const SECRET_NOTE: &str = "note--dddddddd-dddd-4ddd-8ddd-dddddddddddd";

fn sdo(ty: &str, id: &str, name: &str) -> Value {
    let mut o = json!({"type": ty, "spec_version": "2.1", "id": id, "created": T, "modified": T, "name": name});
    if ty == "malware" {
        o["is_family"] = json!(true);
    }
    o
}

fn technique(id: &str, name: &str, ext: &str, phase: &str) -> Value {
    let mut o = sdo("attack-pattern", id, name);
    o["kill_chain_phases"] = json!([{"kill_chain_name": "mitre-attack", "phase_name": phase}]);
    o["external_references"] = json!([{"source_name": "mitre-attack", "external_id": ext}]);
    o
}

fn rel(n: u32, ty: &str, src: &str, tgt: &str) -> Value {
    json!({"type": "relationship", "spec_version": "2.1",
        "id": format!("relationship--{n:08x}-0000-4000-8000-000000000000"),
        "created": T, "modified": T, "relationship_type": ty, "source_ref": src, "target_ref": tgt})
}

/// Public: the group, its campaign, malware, techniques, an indicator with a
/// sighting, a report. Secret (another collection): an identity the group
/// `targets` and the relationship saying so, and one the public group has.
fn public_objects() -> Vec<Value> {
    let mut deprecated = technique(TECH_C, "Old Technique", "T0003", "execution");
    deprecated["x_mitre_deprecated"] = json!(true);
    let mut campaign = sdo("campaign", CAMPAIGN, "Operation Test");
    campaign["created_by_ref"] = json!(SECRET);
    vec![
        sdo("intrusion-set", GROUP, "Test Group"),
        sdo("threat-actor", ACTOR, "Test Bureau"),
        campaign,
        sdo("malware", MALWARE, "TestRAT"),
        technique(TECH_A, "Phishing", "T0001", "initial-access"),
        technique(TECH_B, "Encrypt", "T0002", "impact"),
        deprecated,
        json!({"type": "indicator", "spec_version": "2.1", "id": INDICATOR, "created": T, "modified": T,
            "name": "bad domain", "pattern": "[domain-name:value = 'x.example']", "pattern_type": "stix",
            "valid_from": T}),
        json!({"type": "sighting", "spec_version": "2.1",
            "id": "sighting--cccccccc-cccc-4ccc-8ccc-cccccccccccc", "created": T, "modified": T,
            "sighting_of_ref": INDICATOR, "count": 3, "first_seen": T,
            "last_seen": "2025-01-02T00:00:00.000Z", "where_sighted_refs": [SECRET]}),
        json!({"type": "report", "spec_version": "2.1", "id": REPORT, "created": T, "modified": T,
            "name": "Report", "published": T, "object_refs": [GROUP, ABSENT]}),
        rel(1, "uses", GROUP, TECH_A),
        rel(2, "attributed-to", CAMPAIGN, GROUP),
        rel(3, "uses", CAMPAIGN, TECH_B),
        rel(4, "uses", GROUP, MALWARE),
        rel(5, "uses", MALWARE, TECH_B),
        rel(6, "uses", MALWARE, TECH_C),
        rel(7, "attributed-to", GROUP, ACTOR),
        rel(8, "located-at", GROUP, ABSENT),
    ]
}

fn secret_objects() -> Vec<Value> {
    vec![
        json!({"type": "identity", "spec_version": "2.1", "id": SECRET, "created": T, "modified": T,
            "name": "Hidden Victim", "identity_class": "organization"}),
        rel(9, "targets", GROUP, SECRET),
        json!({"type": "note", "spec_version": "2.1", "id": SECRET_NOTE, "created": T, "modified": T,
            "content": "secret", "object_refs": [GROUP]}),
    ]
}

fn bundle(name: &str, objects: &[Value]) -> Input {
    Input {
        name: name.into(),
        bytes: json!({"type": "bundle", "id": "bundle--0f6a3b7e-5d3c-4f0e-9f57-3f0b7d5e0c11", "objects": objects})
            .to_string()
            .into_bytes(),
    }
}

fn load(store: &dyn Store) -> (String, String) {
    let mut cids = Vec::new();
    for alias in ["public", "secret"] {
        let id = match alias {
            "public" => "6f0c6f4e-0000-4000-8000-000000000001",
            _ => "6f0c6f4e-0000-4000-8000-000000000002",
        };
        store
            .create_collection(&CollectionInfo {
                id: id.into(),
                title: alias.into(),
                description: None,
                alias: Some(alias.into()),
                media_types: vec![],
            })
            .expect("collection");
        cids.push(id.to_owned());
    }
    let v = Validator::new();
    for (cid, objs) in [(&cids[0], public_objects()), (&cids[1], secret_objects())] {
        let opts = ImportOptions {
            collection: Some(cid.clone()),
            ..ImportOptions::default()
        };
        let r = import(store, &v, &[bundle("b", &objs)], &opts, &|_| {}).expect("import");
        assert!(r.rejections.is_empty(), "{:?}", r.rejections);
    }
    (cids[0].clone(), cids[1].clone())
}

/// A backend's name, store, and what keeps its files or database alive.
type Backend = (&'static str, Box<dyn Store>, Box<dyn std::any::Any>);

/// Every backend: memory, SQLite, PostgreSQL (`sightline_testkit::pg`). The
/// third member keeps the backend's files or database alive; it is dropped
/// after the store.
fn stores() -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = sightline_store_sqlite::SqliteStore::open(dir.path()).expect("sqlite");
    let db = sightline_testkit::pg::TestDb::new("graph");
    let pg = sightline_store_postgres::PgStore::open(db.url()).expect("postgres");
    vec![
        ("memory", Box::new(MemoryStore::new()), Box::new(())),
        ("sqlite", Box::new(sqlite), Box::new(dir)),
        ("postgres", Box::new(pg), Box::new(db)),
    ]
}

fn ids_of(ns: &[sightline_graph::Neighbour]) -> Vec<(&str, &str, Direction)> {
    ns.iter()
        .map(|n| (n.via.label(), n.id.as_str(), n.direction))
        .collect()
}

#[test]
fn neighbours_through_relationships_and_embedded_refs() {
    for (name, store, _dir) in stores() {
        load(store.as_ref());
        let g = Graph::new(store.as_ref(), None);
        let all = g
            .neighbours(GROUP, &NeighbourQuery::default())
            .expect("neighbours");
        let got = ids_of(&all);
        // STIX 2.1 §5.1: source_ref → target_ref is "out" of the source.
        for want in [
            ("uses", TECH_A, Direction::Out),
            ("uses", MALWARE, Direction::Out),
            ("attributed-to", CAMPAIGN, Direction::In),
            ("attributed-to", ACTOR, Direction::Out),
            ("targets", SECRET, Direction::Out),
            ("located-at", ABSENT, Direction::Out),
            // Embedded references naming it (`referrers_of`): in.
            ("object_refs", REPORT, Direction::In),
            ("object_refs", SECRET_NOTE, Direction::In),
        ] {
            assert!(got.contains(&want), "{name}: {want:?} not in {got:?}");
        }
        // Names come with neighbours; a neighbour the store lacks is Missing.
        let tech = all.iter().find(|n| n.id == TECH_A).expect("tech");
        assert_eq!(
            tech.presence.info().and_then(|i| i.name.as_deref()),
            Some("Phishing")
        );
        assert_eq!(
            tech.presence.info().and_then(|i| i.external_id.as_deref()),
            Some("T0001")
        );
        let absent = all.iter().find(|n| n.id == ABSENT).expect("absent");
        assert_eq!(absent.presence, Presence::Missing, "{name}");
        assert_eq!(absent.ty, "location");

        // Filters: direction, relationship type, target type.
        let uses = g
            .neighbours(
                GROUP,
                &NeighbourQuery {
                    direction: Some(Direction::Out),
                    edge_types: vec!["uses".into()],
                    target_types: vec!["attack-pattern".into()],
                },
            )
            .expect("uses");
        assert_eq!(
            ids_of(&uses),
            vec![("uses", TECH_A, Direction::Out)],
            "{name}"
        );
        let incoming = g
            .neighbours(
                GROUP,
                &NeighbourQuery {
                    direction: Some(Direction::In),
                    ..NeighbourQuery::default()
                },
            )
            .expect("in");
        assert!(
            incoming.iter().all(|n| n.direction == Direction::In),
            "{name}"
        );

        // Embedded references (out): the campaign's created_by_ref, the
        // report's object_refs (one of them missing).
        let c = g
            .neighbours(CAMPAIGN, &NeighbourQuery::default())
            .expect("campaign");
        assert!(
            ids_of(&c).contains(&("created_by_ref", SECRET, Direction::Out)),
            "{name}"
        );
        let r = g
            .neighbours(REPORT, &NeighbourQuery::default())
            .expect("report");
        let got = ids_of(&r);
        assert!(
            got.contains(&("object_refs", GROUP, Direction::Out)),
            "{name}: {got:?}"
        );
        assert!(
            got.contains(&("object_refs", ABSENT, Direction::Out)),
            "{name}: {got:?}"
        );
        // A relationship's own ends are its neighbours.
        let rel1 = "relationship--00000001-0000-4000-8000-000000000000";
        let ends = g.neighbours(rel1, &NeighbourQuery::default()).expect("rel");
        assert_eq!(
            ids_of(&ends),
            vec![
                ("source_ref", GROUP, Direction::Out),
                ("target_ref", TECH_A, Direction::Out)
            ],
            "{name}"
        );
        // An indicator's sightings are "in" neighbours (STIX 2.1 §5.2).
        let i = g
            .neighbours(INDICATOR, &NeighbourQuery::default())
            .expect("indicator");
        assert_eq!(
            i[0].via,
            Via::Property {
                name: "sighting_of_ref".into()
            }
        );
        assert!(matches!(
            g.neighbours(ABSENT, &NeighbourQuery::default()),
            Err(GraphError::NotFound(_))
        ));
        // The secret identity is the campaign's creator and where the
        // indicator was sighted: both embedded references, in.
        let q = NeighbourQuery {
            direction: Some(Direction::In),
            ..NeighbourQuery::default()
        };
        let who = g.neighbours(SECRET, &q).expect("secret");
        let got = ids_of(&who);
        let sighting = "sighting--cccccccc-cccc-4ccc-8ccc-cccccccccccc";
        assert!(
            got.contains(&("created_by_ref", CAMPAIGN, Direction::In)),
            "{name}: {got:?}"
        );
        assert!(
            got.contains(&("where_sighted_refs", sighting, Direction::In)),
            "{name}: {got:?}"
        );
    }
}

/// The rule of ARCHITECTURE.md: a relationship the caller may not read is
/// left out; a reference to an object it may not read shows no name (the
/// same as an object the store lacks); an unreadable seed is not found.
#[test]
fn a_reader_sees_only_readable_collections() {
    for (name, store, _dir) in stores() {
        let (public, _secret) = load(store.as_ref());
        let readable = BTreeSet::from([public.clone()]);
        let g = Graph::new(store.as_ref(), Some(&readable));
        let all = g
            .neighbours(GROUP, &NeighbourQuery::default())
            .expect("neighbours");
        let got = ids_of(&all);
        assert!(
            !got.contains(&("targets", SECRET, Direction::Out)),
            "{name}: the secret relationship shows: {got:?}"
        );
        // A referrer the reader may not read is left out; a readable one shows.
        assert!(
            !got.iter().any(|(_, id, _)| *id == SECRET_NOTE),
            "{name}: {got:?}"
        );
        assert!(
            got.contains(&("object_refs", REPORT, Direction::In)),
            "{name}: {got:?}"
        );
        assert!(got.contains(&("uses", TECH_A, Direction::Out)), "{name}");
        // The public campaign's created_by_ref names the secret identity: no name.
        let c = g
            .neighbours(CAMPAIGN, &NeighbourQuery::default())
            .expect("campaign");
        let creator = c.iter().find(|n| n.id == SECRET).expect("creator");
        assert_eq!(creator.presence, Presence::Missing, "{name}");
        // The sighting is public, where it was seen is not.
        let s = g.sightings(INDICATOR).expect("sightings");
        assert_eq!(
            s[0].where_sighted,
            vec![(SECRET.to_owned(), None)],
            "{name}"
        );
        assert!(matches!(
            g.neighbours(SECRET, &NeighbourQuery::default()),
            Err(GraphError::NotFound(_))
        ));
        // An administrator sees the name.
        let admin = Graph::new(store.as_ref(), None);
        let s = admin.sightings(INDICATOR).expect("sightings");
        assert_eq!(
            s[0].where_sighted,
            vec![(SECRET.to_owned(), Some("Hidden Victim".to_owned()))]
        );
        assert_eq!(s[0].count, Some(3));
        // Resolution by external id respects the scope too.
        let none = BTreeSet::new();
        assert!(Graph::new(store.as_ref(), Some(&none))
            .resolve("T0001")
            .expect("resolve")
            .is_empty());
        assert_eq!(
            g.resolve("T0001").expect("resolve"),
            vec![TECH_A.to_owned()]
        );
    }
}

#[test]
fn neighbourhood_is_bounded() {
    for (name, store, _dir) in stores() {
        load(store.as_ref());
        let g = Graph::new(store.as_ref(), None);
        let one = g
            .neighbourhood(GROUP, &NeighbourhoodQuery::default())
            .expect("depth 1");
        assert!(!one.truncated);
        assert_eq!(one.nodes[0].id, GROUP);
        let ids: BTreeSet<&str> = one.nodes.iter().map(|n| n.id.as_str()).collect();
        // Depth 1: the group's neighbours (the report naming it too); TECH_B
        // is two hops away.
        assert!(
            ids.contains(TECH_A) && ids.contains(MALWARE) && ids.contains(CAMPAIGN),
            "{name}: {ids:?}"
        );
        assert!(
            ids.contains(REPORT),
            "{name}: the report naming it: {ids:?}"
        );
        assert!(!ids.contains(TECH_B), "{name}");
        let two = g
            .neighbourhood(
                GROUP,
                &NeighbourhoodQuery {
                    depth: 2,
                    ..NeighbourhoodQuery::default()
                },
            )
            .expect("depth 2");
        assert!(
            two.nodes.iter().any(|n| n.id == TECH_B && n.depth == 2),
            "{name}"
        );
        assert!(two
            .edges
            .iter()
            .any(|e| e.source == MALWARE && e.target == TECH_B && e.label == "uses"));
        // Every edge joins two nodes of the result.
        let ids: BTreeSet<&str> = two.nodes.iter().map(|n| n.id.as_str()).collect();
        assert!(two
            .edges
            .iter()
            .all(|e| ids.contains(e.source.as_str()) && ids.contains(e.target.as_str())));
        let capped = g
            .neighbourhood(
                GROUP,
                &NeighbourhoodQuery {
                    depth: 2,
                    node_limit: 3,
                    ..NeighbourhoodQuery::default()
                },
            )
            .expect("capped");
        assert_eq!(capped.nodes.len(), 3);
        assert!(capped.truncated, "{name}");
        let typed = g
            .neighbourhood(
                GROUP,
                &NeighbourhoodQuery {
                    depth: 2,
                    types: vec!["attack-pattern".into()],
                    ..NeighbourhoodQuery::default()
                },
            )
            .expect("typed");
        assert!(
            typed.nodes[1..].iter().all(|n| n.ty == "attack-pattern"),
            "{name}"
        );
        for depth in [0, 4] {
            let q = NeighbourhoodQuery {
                depth,
                ..NeighbourhoodQuery::default()
            };
            assert!(matches!(
                g.neighbourhood(GROUP, &q),
                Err(GraphError::Invalid(_))
            ));
        }
    }
}

#[test]
fn attack_matrix_gives_each_technique_its_paths() {
    for (name, store, _dir) in stores() {
        load(store.as_ref());
        let g = Graph::new(store.as_ref(), None);
        let m = g.attack_matrix(GROUP).expect("matrix");
        assert_eq!(m.technique_count, 3, "{name}");
        let phases: Vec<&str> = m.tactics.iter().map(|t| t.phase.as_str()).collect();
        // ATT&CK's column order, not alphabetical.
        assert_eq!(
            phases,
            vec!["initial-access", "execution", "impact"],
            "{name}"
        );
        let find = |id: &str| {
            m.tactics
                .iter()
                .flat_map(|t| &t.techniques)
                .find(|t| t.id == id)
                .unwrap_or_else(|| panic!("{id} missing"))
        };
        let paths = |id: &str| {
            find(id)
                .paths
                .iter()
                .map(|p| p.describe())
                .collect::<Vec<_>>()
        };
        assert_eq!(paths(TECH_A), vec!["direct"]);
        assert_eq!(
            paths(TECH_B),
            vec!["via campaign Operation Test", "via malware TestRAT"],
            "{name}"
        );
        assert!(find(TECH_C).deprecated);
        // A threat actor reaches them through the intrusion set attributed to it.
        let actor = g.attack_matrix(ACTOR).expect("actor");
        assert_eq!(actor.technique_count, 3);
        assert!(matches!(
            g.attack_matrix(TECH_A),
            Err(GraphError::Invalid(_))
        ));
    }
}

// ---------------------------------------------------------------------------
// Real data: the pack with ATT&CK Enterprise v18.1.

const LAZARUS: &str = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a";
const BUREAU_121: &str = "threat-actor--393b9cd9-f0d6-5c5b-91e4-56ae36d56881";

fn enterprise() -> Option<PathBuf> {
    let dir = std::env::var_os("SIGHTLINE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real"));
    let f = dir.join("attack/enterprise-attack-18.1.json.gz");
    if f.is_file() {
        Some(f)
    } else {
        println!(
            "real-data test NOT RUN: {} is missing (set SIGHTLINE_TEST_DATA)",
            f.display()
        );
        None
    }
}

/// Issue 14 §1: with the pack and ATT&CK imported, Bureau 121 -> Lazarus
/// Group -> its 93 Enterprise techniques is one graph; the pack alone shows
/// Lazarus as not in the store.
#[test]
fn pack_and_attack_are_one_graph() {
    let pack = Input {
        name: "pack".into(),
        bytes: include_bytes!("../../../packs/bureau-121.json").to_vec(),
    };
    let dir = tempfile::tempdir().expect("dir");
    let store = sightline_store_sqlite::SqliteStore::open(dir.path()).expect("store");
    let v = Validator::new();
    import(&store, &v, &[pack], &ImportOptions::default(), &|_| {}).expect("pack");
    let g = Graph::new(&store, None);
    let q = NeighbourQuery {
        edge_types: vec!["attributed-to".into()],
        target_types: vec!["intrusion-set".into()],
        ..NeighbourQuery::default()
    };
    let n = g.neighbours(BUREAU_121, &q).expect("neighbours");
    let laz = n
        .iter()
        .find(|n| n.id == LAZARUS)
        .expect("Lazarus is linked");
    assert_eq!(
        laz.presence,
        Presence::Missing,
        "alone, the pack has no Lazarus object"
    );

    let Some(f) = enterprise() else { return };
    let input = sightline_interchange::read_input(f.to_str().expect("utf-8")).expect("read");
    import(&store, &v, &[input], &ImportOptions::default(), &|_| {}).expect("attack");
    let n = g.neighbours(BUREAU_121, &q).expect("neighbours");
    let laz = n
        .iter()
        .find(|n| n.id == LAZARUS)
        .expect("Lazarus is linked");
    assert_eq!(
        laz.presence.info().and_then(|i| i.name.as_deref()),
        Some("Lazarus Group")
    );
    let uses = g
        .neighbours(
            LAZARUS,
            &NeighbourQuery {
                direction: Some(Direction::Out),
                edge_types: vec!["uses".into()],
                target_types: vec!["attack-pattern".into()],
            },
        )
        .expect("uses");
    let distinct: BTreeSet<&str> = uses.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(distinct.len(), 93);
    let m = g.attack_matrix(LAZARUS).expect("matrix");
    // 93 direct, more through Operation Dream Job and the 26 pieces of software.
    assert!(m.technique_count > 93, "{}", m.technique_count);
    let direct = m
        .tactics
        .iter()
        .flat_map(|t| &t.techniques)
        .filter(|t| t.paths.iter().any(|p| p.via.is_empty()))
        .map(|t| t.id.as_str())
        .collect::<BTreeSet<_>>();
    assert_eq!(direct.len(), 93);
    // Bureau 121's matrix reaches ATT&CK's techniques through Lazarus.
    let b = g.attack_matrix(BUREAU_121).expect("bureau matrix");
    assert!(b.technique_count >= 93, "{}", b.technique_count);
}

/// The JSON of a neighbour names the link and the neighbour without one
/// key hiding another (both have an id and a name).
#[test]
fn neighbour_json_keeps_link_and_object_apart() {
    let store = MemoryStore::new();
    load(&store);
    let g = Graph::new(&store, None);
    let c = g
        .neighbours(CAMPAIGN, &NeighbourQuery::default())
        .expect("campaign");
    let v = serde_json::to_value(&c).expect("json");
    let rel = v
        .as_array()
        .and_then(|a| a.iter().find(|n| n["via"] == "relationship"))
        .expect("a relationship neighbour");
    assert_eq!(rel["id"], GROUP);
    assert_eq!(rel["name"], "Test Group");
    assert_eq!(
        rel["relationship"],
        "relationship--00000002-0000-4000-8000-000000000000"
    );
    assert_eq!(rel["relationship_type"], "attributed-to");
    let prop = v
        .as_array()
        .and_then(|a| a.iter().find(|n| n["via"] == "property"))
        .expect("a property neighbour");
    assert_eq!(prop["property"], "created_by_ref");
    assert_eq!(prop["id"], SECRET);
    assert_eq!(prop["presence"], "present");
}
