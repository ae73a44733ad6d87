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
        let out = ok(&sightline(&d, &["get", id, "--json"], None));
        let v: Value = serde_json::from_str(out.trim()).expect("get --json");
        let obj = &v[0]["object"];
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

const BUREAU_121: &str = "threat-actor--393b9cd9-f0d6-5c5b-91e4-56ae36d56881";

fn run_ok(d: &[&str], args: &[&str]) -> String {
    ok(&sightline(d, args, None))
}

/// Issue 14 §1/§4 on the pack alone: Lazarus Group is linked but not in the
/// store, and the table says so.
#[test]
fn related_marks_objects_not_in_the_store() {
    let dir = tempfile::tempdir().expect("dir");
    let d = data(dir.path());
    run_ok(&d, &["import", "--demo"]);
    let out = run_ok(
        &d,
        &[
            "related",
            BUREAU_121,
            "--type",
            "attributed-to",
            "--direction",
            "in",
        ],
    );
    let lazarus = out
        .lines()
        .find(|l| l.contains(LAZARUS))
        .unwrap_or_else(|| panic!("no Lazarus row:\n{out}"));
    assert!(
        lazarus.contains("(not in the store)") && lazarus.starts_with("<-"),
        "{lazarus}"
    );
    assert!(out.contains("DarkSeoul Gang"), "{out}");
    assert!(
        out.lines()
            .last()
            .is_some_and(|l| l.ends_with("(1 not in the store)")),
        "{out}"
    );
    // Aligned: every row's id starts where the header's ID column does.
    let col = out
        .lines()
        .next()
        .and_then(|h| h.rfind("ID"))
        .expect("header");
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("<-")).collect();
    assert_eq!(rows.len(), 9, "{out}");
    for r in rows {
        assert!(
            r.get(col..)
                .is_some_and(|id| id.contains("--") && !id.contains(' ')),
            "{out}"
        );
    }
    let json: Value = serde_json::from_str(
        run_ok(
            &d,
            &["related", BUREAU_121, "--type", "attributed-to", "--json"],
        )
        .trim(),
    )
    .expect("json");
    let n = json[0]["neighbours"].as_array().expect("neighbours");
    let laz = n.iter().find(|n| n["id"] == LAZARUS).expect("Lazarus");
    assert_eq!(laz["presence"], "missing");
    assert_eq!(laz["type"], "intrusion-set");
    assert_eq!(laz["direction"], "in");
    // An unknown id: exit 1.
    let o = sightline(&d, &["related", "G9999"], None);
    assert_eq!(o.status.code(), Some(1));
}

/// Issue 14 §4 with the pack and ATT&CK Enterprise: `related G0032 --type
/// uses` lists Lazarus Group's 93 techniques, 22 malware and 4 tools;
/// `matrix` gives each technique its path; `get`, `search`, `stats`,
/// `collection list` print tables or JSON.
#[test]
fn workbench_commands_on_the_pack_and_attack() {
    let dir = tempfile::tempdir().expect("dir");
    let d = data(dir.path());
    run_ok(&d, &["import", "--demo"]);
    let Some(enterprise) = real_data() else {
        return;
    };
    run_ok(
        &d,
        &[
            "import",
            "--collection",
            "attack",
            enterprise.to_str().expect("utf-8"),
        ],
    );

    let out = run_ok(&d, &["related", "G0032", "--type", "uses"]);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("->")).collect();
    let count = |ty: &str| {
        rows.iter()
            .filter(|l| l.contains(&format!(" {ty} ")))
            .count()
    };
    assert_eq!(
        (count("attack-pattern"), count("malware"), count("tool")),
        (93, 22, 4),
        "{out}"
    );
    assert!(
        out.contains("T1561.001") && out.contains("Disk Content Wipe"),
        "{out}"
    );
    assert!(out.ends_with("119 links to 119 objects\n"), "{out}");
    // One graph: Bureau 121 <- Lazarus Group (named, in the store).
    let out = run_ok(
        &d,
        &[
            "related",
            BUREAU_121,
            "--type",
            "attributed-to",
            "--target-type",
            "intrusion-set",
        ],
    );
    assert!(
        out.lines()
            .any(|l| l.contains(LAZARUS) && l.contains("Lazarus Group") && l.contains("G0032")),
        "{out}"
    );
    assert!(!out.contains("not in the store"), "{out}");

    // The matrix: 93 techniques directly, more through campaigns and software.
    let m: Value =
        serde_json::from_str(run_ok(&d, &["matrix", "G0032", "--json"]).trim()).expect("json");
    let techniques: Vec<&Value> = m[0]["tactics"]
        .as_array()
        .expect("tactics")
        .iter()
        .flat_map(|t| t["techniques"].as_array().expect("techniques"))
        .collect();
    let direct: BTreeSet<&str> = techniques
        .iter()
        .filter(|t| {
            t["paths"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|p| p["via"].as_array().is_some_and(Vec::is_empty))
            })
        })
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(direct.len(), 93);
    // The pack's Financial Theft (T1657) comes through its campaigns.
    let theft = techniques
        .iter()
        .find(|t| t["external_id"] == "T1657")
        .expect("T1657");
    assert!(
        theft["paths"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["via"][0]["type"] == "campaign")),
        "{theft}"
    );
    let table = run_ok(&d, &["matrix", "G0032"]);
    assert!(table.starts_with("TACTIC"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("impact")
            && l.contains("T1657")
            && l.contains("via campaign SWIFT banking hack")),
        "{table}"
    );

    // get: the object ATT&CK's id names (not the pack campaigns citing it),
    // pretty-printed, then its relationships by type; --all adds the citers.
    let got = run_ok(&d, &["get", "G0032"]);
    assert!(got.starts_with("{\n  \"type\": \"intrusion-set\""), "{got}");
    assert!(
        got.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["uses", "119", "0"]),
        "{got}"
    );
    let one: Value =
        serde_json::from_str(run_ok(&d, &["get", "G0032", "--json"]).trim()).expect("json");
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    assert_eq!(one[0]["object"]["id"], LAZARUS);
    let all: Value = serde_json::from_str(run_ok(&d, &["get", "G0032", "--all", "--json"]).trim())
        .expect("json");
    let types: BTreeSet<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|o| o["object"]["type"].as_str())
        .collect();
    assert!(
        types.contains("campaign") && types.contains("intrusion-set"),
        "{types:?}"
    );

    // search: an external id finds what it names first; --limit and "more".
    let out = run_ok(&d, &["search", "T1566", "--limit", "2"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("TYPE") && lines[1].contains("Phishing"),
        "{out}"
    );
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[3].starts_with("… ") && lines[3].contains(" more"),
        "{out}"
    );
    let s: Value =
        serde_json::from_str(run_ok(&d, &["search", "lazarus", "--limit", "1", "--json"]).trim())
            .expect("json");
    assert_eq!(s["hits"][0]["external_id"], "G0032");
    assert!(s["more"].as_u64().unwrap_or(0) > 0, "{s}");

    let st: Value = serde_json::from_str(run_ok(&d, &["stats", "--json"]).trim()).expect("json");
    assert_eq!(st["by_type"]["intrusion-set"], 188, "{st}");
    let cl = run_ok(&d, &["collection", "list"]);
    let lines: Vec<&str> = cl.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("ALIAS") && lines[0].contains("TITLE"),
        "{cl}"
    );
    assert_eq!(lines.len(), 3, "{cl}");
    let cj: Value =
        serde_json::from_str(run_ok(&d, &["collection", "list", "--json"]).trim()).expect("json");
    let aliases: BTreeSet<&str> = cj
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["alias"].as_str())
        .collect();
    assert_eq!(aliases, BTreeSet::from(["attack", "demo"]));

    // Everything ATT&CK holds refers to MITRE's identity (created_by_ref):
    // the objects referring to one are bounded, and the table says so.
    let out = run_ok(&d, &["related", MITRE, "--direction", "in"]);
    assert!(
        out.ends_with("(only the first 1000 objects referring to it are listed)\n"),
        "{}",
        &out[out.len().saturating_sub(300)..]
    );
    // A neighbourhood is bounded and says so.
    let out = run_ok(&d, &["related", "G0032", "--depth", "2", "--limit", "50"]);
    assert!(out.ends_with("(truncated at 50 nodes: --limit)\n"), "{out}");
    assert_eq!(
        out.lines().count(),
        52,
        "a header, 50 nodes, a summary:\n{out}"
    );
}
