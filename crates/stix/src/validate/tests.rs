//! One test per rule, each naming the STIX 2.1 section it enforces.

use serde_json::{json, Value};

use super::{is_valid, PatternChecker, Validator};
use crate::diag::Severity;

const IDENT: &str = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff";
const TLP_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";

fn campaign() -> Value {
    json!({
        "type": "campaign", "spec_version": "2.1",
        "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z",
        "name": "Green Group Attacks Against Finance",
        "created_by_ref": IDENT, "object_marking_refs": [TLP_WHITE]
    })
}

fn with(mut base: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    if let Some(m) = base.as_object_mut() {
        f(m);
    }
    base
}

fn codes(v: &Value) -> Vec<(&'static str, Severity, String)> {
    Validator::new()
        .validate(v)
        .into_iter()
        .map(|d| (d.code.as_str(), d.severity, d.pointer().to_owned()))
        .collect()
}

#[track_caller]
fn assert_error(v: &Value, code: &str, pointer: &str) {
    let ds = Validator::new().validate(v);
    assert!(
        ds.iter()
            .any(|d| d.code == code && d.severity == Severity::Error && d.pointer() == pointer),
        "expected error {code} at {pointer:?}, got {ds:#?}"
    );
}

#[track_caller]
fn assert_warning(v: &Value, code: &str) {
    let ds = Validator::new().validate(v);
    assert!(is_valid(&ds), "expected valid, got {ds:#?}");
    assert!(
        ds.iter()
            .any(|d| d.code == code && d.severity == Severity::Warning),
        "expected warning {code}, got {ds:#?}"
    );
}

#[track_caller]
fn assert_clean(v: &Value) {
    let ds = Validator::new().validate(v);
    assert!(ds.is_empty(), "expected no findings, got {ds:#?}");
}

#[test]
fn a_clean_object_has_no_findings() {
    assert_clean(&campaign());
}

#[test]
fn display_format() {
    let v = with(campaign(), |m| {
        m.insert("confidence".into(), json!(500));
    });
    let ds = Validator::new().validate(&v);
    assert_eq!(
        ds[0].to_string(),
        "E113 /confidence: must be an integer 0..=100, got 500"
    );
}

// STIX 2.1 §3.1 type
#[test]
fn e001_e100_e101_type() {
    assert_error(&json!([1]), "E001", "");
    assert_error(&json!({"id": "x"}), "E101", "/type");
    assert_error(&json!({"type": "Bad_Type"}), "E100", "/type");
    assert_error(&json!({"type": 3}), "E105", "/type");
}

// STIX 2.1 §2.9 identifier
#[test]
fn e102_e103_id() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("id".into(), json!("campaign--1234")))
        }),
        "E102",
        "/id",
    );
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert(
                "id".into(),
                json!("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            ))
        }),
        "E103",
        "/id",
    );
    // upper-case hex is read, with a warning (RFC 4122 §3)
    assert_warning(
        &with(campaign(), |m| {
            drop(m.insert(
                "id".into(),
                json!("campaign--8E2E2D2B-17d4-4cbf-938f-98ee46b3cd3f"),
            ))
        }),
        "W214",
    );
}

// STIX 2.1 §3.2 spec_version
#[test]
fn e104_spec_version() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("spec_version".into(), json!("2.0")))
        }),
        "E104",
        "/spec_version",
    );
    assert_error(
        &with(campaign(), |m| drop(m.remove("spec_version"))),
        "E101",
        "/spec_version",
    );
}

// STIX 2.1 §3.2 required common properties; §4.3 campaign name
#[test]
fn e101_required() {
    assert_error(
        &with(campaign(), |m| drop(m.remove("modified"))),
        "E101",
        "/modified",
    );
    assert_error(
        &with(campaign(), |m| drop(m.remove("name"))),
        "E101",
        "/name",
    );
}

// STIX 2.1 §2 property types
#[test]
fn e105_e117_types_and_null() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("description".into(), json!(5)))
        }),
        "E105",
        "/description",
    );
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("description".into(), Value::Null))
        }),
        "E117",
        "/description",
    );
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("revoked".into(), json!("yes")))
        }),
        "E105",
        "/revoked",
    );
    assert_error(
        &with(campaign(), |m| drop(m.insert("labels".into(), json!([1])))),
        "E105",
        "/labels/0",
    );
}

// STIX 2.1 §2.1 lists must not be empty (custom properties included)
#[test]
fn e106_empty_lists() {
    assert_error(
        &with(campaign(), |m| drop(m.insert("aliases".into(), json!([])))),
        "E106",
        "/aliases",
    );
    assert_error(
        &with(campaign(), |m| drop(m.insert("x_things".into(), json!([])))),
        "E106",
        "/x_things",
    );
}

// STIX 2.1 §2.13 timestamp; §3.2 created/modified precision
#[test]
fn e107_e108_timestamps() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("first_seen".into(), json!("2016-13-01T00:00:00Z")))
        }),
        "E107",
        "/first_seen",
    );
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("created".into(), json!("2016-04-06T20:03:00Z")))
        }),
        "E108",
        "/created",
    );
    assert_clean(&with(campaign(), |m| {
        drop(m.insert("first_seen".into(), json!("2016-04-06T20:03:00Z")))
    }));
}

// STIX 2.1 §3.2 modified >= created
#[test]
fn e109_modified_before_created() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("modified".into(), json!("2016-04-06T20:02:59.999Z")))
        }),
        "E109",
        "/modified",
    );
    // equal instants written differently are fine
    assert_clean(&with(campaign(), |m| {
        drop(m.insert("modified".into(), json!("2016-04-06T20:03:00.0000Z")))
    }));
}

// STIX 2.1 §4.3 last_seen >= first_seen; §4.7 valid_until > valid_from; §5.1 stop_time > start_time
#[test]
fn e110_windows() {
    let v = with(campaign(), |m| {
        m.insert("first_seen".into(), json!("2016-04-06T00:00:00Z"));
        m.insert("last_seen".into(), json!("2016-04-05T00:00:00Z"));
    });
    assert_error(&v, "E110", "/last_seen");
    let i = with(indicator(), |m| {
        drop(m.insert("valid_until".into(), json!("2016-01-01T00:00:00Z")))
    });
    assert_error(&i, "E110", "/valid_until");
}

// STIX 2.1 §3.1 property names; §11.1 custom properties
#[test]
fn e111_w203_custom_property_names() {
    assert_error(
        &with(campaign(), |m| drop(m.insert("Bad-Name".into(), json!(1)))),
        "E111",
        "/Bad-Name",
    );
    assert_warning(
        &with(campaign(), |m| {
            drop(m.insert("custom_prop".into(), json!(1)))
        }),
        "W203",
    );
    assert_clean(&with(campaign(), |m| {
        drop(m.insert("x_acme_prop".into(), json!(1)))
    }));
}

// STIX 2.1 §3.1 reserved property names
#[test]
fn e112_reserved() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("severity".into(), json!("high")))
        }),
        "E112",
        "/severity",
    );
}

// STIX 2.1 §3.2 confidence; §5.2 count; §4.14 number_observed
#[test]
fn e113_ranges() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("confidence".into(), json!(101)))
        }),
        "E113",
        "/confidence",
    );
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("confidence".into(), json!(-1)))
        }),
        "E113",
        "/confidence",
    );
}

// STIX 2.1 §3.2 lang (RFC 5646)
#[test]
fn e114_lang() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("lang".into(), json!("not a tag")))
        }),
        "E114",
        "/lang",
    );
    assert_clean(&with(campaign(), |m| {
        drop(m.insert("lang".into(), json!("en-US")))
    }));
    // Valid, not only well-formed (RFC 5646 §2.2.9): the shape of a language
    // subtag is not enough, it must be registered with IANA.
    for tag in ["english", "korean", "en-QQQ"] {
        assert_error(
            &with(campaign(), |m| drop(m.insert("lang".into(), json!(tag)))),
            "E114",
            "/lang",
        );
    }
    for tag in [
        "ko",
        "ko-KP",
        "zh-Hans-CN",
        "de-CH-1901",
        "en-x-private",
        "i-klingon",
    ] {
        assert_clean(&with(campaign(), |m| {
            drop(m.insert("lang".into(), json!(tag)))
        }));
    }
}

// STIX 2.1 §3.2 created_by_ref → identity; §7.2.2 object_marking_refs → marking-definition
#[test]
fn e115_e116_references() {
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert(
                "created_by_ref".into(),
                json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            ))
        }),
        "E115",
        "/created_by_ref",
    );
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("object_marking_refs".into(), json!([IDENT])))
        }),
        "E115",
        "/object_marking_refs/0",
    );
    assert_error(
        &with(campaign(), |m| {
            drop(m.insert("created_by_ref".into(), json!("identity--x")))
        }),
        "E116",
        "/created_by_ref",
    );
}

// STIX 2.1 §2.5 external references
#[test]
fn e118_e119_e130_external_references() {
    let er = |r: Value| {
        with(campaign(), |m| {
            drop(m.insert("external_references".into(), json!([r])))
        })
    };
    assert_error(
        &er(json!({"source_name": "x"})),
        "E118",
        "/external_references/0",
    );
    assert_error(
        &er(json!({"description": "x"})),
        "E101",
        "/external_references/0/source_name",
    );
    assert_error(
        &er(json!({"source_name": "capec", "external_id": "163"})),
        "E119",
        "/external_references/0/external_id",
    );
    assert_error(
        &er(json!({"source_name": "cve", "url": "http://x"})),
        "E119",
        "/external_references/0/external_id",
    );
    assert_error(
        &er(json!({"source_name": "x", "url": "hxxp://a[.]b"})),
        "E130",
        "/external_references/0/url",
    );
    assert_clean(&er(
        json!({"source_name": "cve", "external_id": "CVE-2016-1234"}),
    ));
}

// STIX 2.1 §2.7 hashes
#[test]
fn e120_w209_hashes() {
    let f = |h: Value| json!({"type": "file", "id": "file--5a27d487-c542-5f97-a131-a8866b477b46", "hashes": h});
    assert_error(&f(json!({})), "E120", "/hashes");
    assert_error(&f(json!({"MD5": "zz"})), "E120", "/hashes/MD5");
    assert_error(&f(json!("MD5: abc")), "E105", "/hashes");
    let ds = codes(&f(json!({"weird-algo": "abc"})));
    assert!(ds
        .iter()
        .any(|(c, s, _)| *c == "W209" && *s == Severity::Warning));
}

// STIX 2.1 §2.8 kill chain phases
#[test]
fn e121_kill_chain_phases() {
    let v = with(attack_pattern(), |m| {
        drop(m.insert(
            "kill_chain_phases".into(),
            json!([{"kill_chain_name": "x"}]),
        ))
    });
    assert_error(&v, "E101", "/kill_chain_phases/0/phase_name");
}

// STIX 2.1 §7.2.3 granular markings: exactly one of marking_ref / lang; selectors resolve
#[test]
fn e122_e123_granular_markings() {
    let gm = |g: Value| {
        with(campaign(), |m| {
            drop(m.insert("granular_markings".into(), json!([g])))
        })
    };
    assert_error(
        &gm(json!({"selectors": ["name"], "marking_ref": TLP_WHITE, "lang": "en"})),
        "E122",
        "/granular_markings/0",
    );
    assert_error(
        &gm(json!({"selectors": ["name"]})),
        "E122",
        "/granular_markings/0",
    );
    assert_clean(&gm(json!({"selectors": ["name"], "lang": "en"})));
    assert_error(
        &gm(json!({"selectors": ["description"], "marking_ref": TLP_WHITE})),
        "E123",
        "/granular_markings/0/selectors/0",
    );
    assert_clean(&gm(
        json!({"selectors": ["object_marking_refs.[0]"], "marking_ref": TLP_WHITE}),
    ));
    assert_error(
        &gm(json!({"selectors": ["object_marking_refs.[1]"], "marking_ref": TLP_WHITE})),
        "E123",
        "/granular_markings/0/selectors/0",
    );
}

// STIX 2.1 §7.2 marking-definition must not mark itself
#[test]
fn e124_circular_marking() {
    let v = json!({"type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp", "definition": {"tlp": "green"}, "name": "TLP:GREEN",
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]});
    assert_error(&v, "E124", "/object_marking_refs");
}

// STIX 2.1 §7.3 extensions
#[test]
fn e125_extensions() {
    let e = |x: Value| with(campaign(), |m| drop(m.insert("extensions".into(), x)));
    assert_error(
        &e(json!({"bad key": {"a": 1}})),
        "E125",
        "/extensions/bad key",
    );
    assert_error(
        &e(json!({"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"x": 1}})),
        "E125",
        "/extensions/extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e/extension_type",
    );
    assert_error(
        &e(
            json!({"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"extension_type": "nope"}}),
        ),
        "E126",
        "/extensions/extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e/extension_type",
    );
    // a toplevel-property-extension makes unprefixed top-level properties legal without warning
    let v = with(
        e(
            json!({"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"extension_type": "toplevel-property-extension"}}),
        ),
        |m| drop(m.insert("toxicity".into(), json!(3))),
    );
    assert_clean(&v);
}

// STIX 2.1 §4.13 opinion enum (closed)
#[test]
fn e126_enum() {
    let v = json!({"type": "opinion", "spec_version": "2.1", "id": "opinion--b01efc25-77b4-4003-b18b-f6e24b5cd9f7",
        "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
        "opinion": "maybe", "object_refs": ["campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]});
    assert_error(&v, "E126", "/opinion");
}

// STIX 2.1 §6.1 artifact payload_bin xor url; §2.1 binary
#[test]
fn e131_e133_e143_artifact() {
    let a = |extra: Value| {
        let mut o =
            json!({"type": "artifact", "id": "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641"});
        if let (Some(m), Some(e)) = (o.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        o
    };
    assert_error(&a(json!({})), "E143", "");
    assert_error(
        &a(
            json!({"payload_bin": "aGVsbG8=", "url": "http://x/y", "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}}),
        ),
        "E143",
        "",
    );
    assert_error(&a(json!({"url": "http://x/y"})), "E143", "/url");
    assert_error(
        &a(json!({"payload_bin": "not base64!"})),
        "E131",
        "/payload_bin",
    );
    assert_error(
        &a(json!({"payload_bin": "aGVsbG8=", "mime_type": "zip"})),
        "E133",
        "/mime_type",
    );
}

// STIX 2.1 §6.7 file needs hashes or name; §6.7 parent_directory_ref → directory
#[test]
fn e144_file() {
    let f = json!({"type": "file", "id": "file--5a27d487-c542-5f97-a131-a8866b477b46", "size": 3});
    assert_error(&f, "E144", "");
    let g = json!({"type": "file", "id": "file--5a27d487-c542-5f97-a131-a8866b477b46", "name": "a.exe",
        "parent_directory_ref": "file--5a27d487-c542-5f97-a131-a8866b477b46"});
    assert_error(&g, "E115", "/parent_directory_ref");
}

// STIX 2.1 §6.12 network-traffic src_ref types, is_active/end
#[test]
fn e145_network_traffic() {
    let n = json!({"type": "network-traffic", "id": "network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d",
        "src_ref": "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3", "protocols": ["tcp"],
        "is_active": true, "end": "2016-01-01T00:00:00Z"});
    assert_error(&n, "E115", "/src_ref");
    assert_error(&n, "E145", "/end");
}

// STIX 2.1 §6.13 process ids MUST be UUIDv4; §2.9 SCO without contributing props → UUIDv4
#[test]
fn e146_sco_id_versions() {
    let p =
        json!({"type": "process", "id": "process--5a27d487-c542-5f97-a131-a8866b477b46", "pid": 1});
    assert_error(&p, "E146", "/id");
    let u = json!({"type": "user-account", "id": "user-account--5a27d487-c542-5f97-a131-a8866b477b46", "display_name": "x"});
    assert_error(&u, "E146", "/id");
}

// STIX 2.1 §2.9 SCO ids SHOULD be the UUIDv5 of their contributing properties
#[test]
fn w206_sco_deterministic_id() {
    let ok = json!({"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3"});
    assert_clean(&ok);
    let v4 = json!({"type": "ipv4-addr", "id": "ipv4-addr--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "value": "198.51.100.3"});
    assert_warning(&v4, "W206");
    let other = json!({"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.4"});
    assert_warning(&other, "W206");
}

// STIX 2.1 §6.8 ipv4-addr value; §6.14 url value; §6.4 domain-name value
#[test]
fn e137_e130_sco_values() {
    let ip = json!({"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "1.2.3"});
    assert_error(&ip, "E137", "/value");
    let url = json!({"type": "url", "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "hxxps://ptpb[.]pw/OAZG"});
    assert_error(&url, "E130", "/value");
}

// STIX 2.1 §7.1 language-content
#[test]
fn e147_language_content() {
    let v = json!({"type": "language-content", "spec_version": "2.1", "id": "language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d",
        "created": "2017-02-08T21:31:22.007Z", "modified": "2017-02-08T21:31:22.007Z",
        "object_ref": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "contents": {"de": {"name": "Bank Angriff"}, "bad tag!": {"name": "x"}, "fr": "pas un objet"}});
    assert_error(&v, "E114", "/contents/bad tag!");
    assert_error(&v, "E147", "/contents/fr");
}

// TLP 2.0 extension: the five fixed objects; STIX 2.1 §7.2.1.4 TLP 1.0
#[test]
fn e148_tlp() {
    for m in crate::tlp::all() {
        assert!(
            is_valid(&Validator::new().validate(&m.to_value())),
            "{}",
            m.name
        );
    }
    let mut v = crate::tlp::TLP2_CLEAR.to_value();
    v["name"] = json!("TLP:RED");
    assert_error(&v, "E148", "/name");
    let mut w = crate::tlp::TLP1_WHITE.to_value();
    w["definition"] = json!({"tlp": "red"});
    assert_error(&w, "E148", "/id");
    let mut x = crate::tlp::TLP2_GREEN.to_value();
    x["id"] = json!("marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    assert_error(&x, "E148", "/id");
}

fn indicator() -> Value {
    json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.3']", "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z"})
}

fn attack_pattern() -> Value {
    json!({"type": "attack-pattern", "spec_version": "2.1", "id": "attack-pattern--7e33a43e-e34b-40ec-89da-36c9bb2cacd5",
        "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z", "name": "Spear Phishing"})
}

struct RejectAll;
impl PatternChecker for RejectAll {
    fn check(&self, _: &str) -> Result<(), String> {
        Err("nope".into())
    }
}

// STIX 2.1 §4.7 indicator pattern (stix patterns are parsed); pattern_type open vocabulary
#[test]
fn e141_w201_indicator_pattern() {
    let ds = Validator::new()
        .with_pattern_checker(Box::new(RejectAll))
        .validate(&indicator());
    assert!(
        ds.iter()
            .any(|d| d.code == "E141" && d.pointer() == "/pattern"),
        "{ds:#?}"
    );
    assert_clean(&indicator());
    let other = with(indicator(), |m| {
        drop(m.insert("pattern_type".into(), json!("kql")))
    });
    assert_warning(&other, "W201");
    // non-stix patterns are not handed to the checker
    let sigma = with(indicator(), |m| {
        drop(m.insert("pattern_type".into(), json!("sigma")))
    });
    assert!(is_valid(
        &Validator::new()
            .with_pattern_checker(Box::new(RejectAll))
            .validate(&sigma)
    ));
}

// STIX 2.1 §4.11 malware is_family required; name required when is_family
#[test]
fn e140_malware() {
    let m = json!({"type": "malware", "spec_version": "2.1", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
        "created": "2016-04-06T20:07:09.000Z", "modified": "2016-04-06T20:07:09.000Z", "is_family": true});
    assert_error(&m, "E140", "/name");
    assert_error(
        &with(m, |o| drop(o.remove("is_family"))),
        "E101",
        "/is_family",
    );
}

// STIX 2.1 §4.10 location
#[test]
fn e142_location() {
    let l = json!({"type": "location", "spec_version": "2.1", "id": "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
        "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z", "latitude": 48.8});
    assert_error(&l, "E142", "");
    let ok = with(l.clone(), |m| {
        drop(m.insert("longitude".into(), json!(2.3)))
    });
    assert_clean(&ok);
    assert_error(
        &with(ok, |m| drop(m.insert("latitude".into(), json!(91.0)))),
        "E113",
        "/latitude",
    );
}

// STIX 2.1 §4.14 observed-data object_refs (SCO or SRO) and the deprecated objects
#[test]
fn e151_observed_data() {
    let o = json!({"type": "observed-data", "spec_version": "2.1", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
        "created": "2016-04-06T19:58:16.000Z", "modified": "2016-04-06T19:58:16.000Z",
        "first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z", "number_observed": 0});
    assert_error(&o, "E151", "");
    assert_error(&o, "E113", "/number_observed");
    let bad = with(o, |m| {
        m.insert("number_observed".into(), json!(1));
        m.insert(
            "object_refs".into(),
            json!(["campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
        );
    });
    assert_error(&bad, "E115", "/object_refs/0");
}

fn relationship(rel: &str, src: &str, dst: &str) -> Value {
    json!({"type": "relationship", "spec_version": "2.1", "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
        "created": "2016-04-06T20:06:37.000Z", "modified": "2016-04-06T20:06:37.000Z",
        "relationship_type": rel, "source_ref": src, "target_ref": dst})
}

// STIX 2.1 §5.1 relationship endpoints and types
#[test]
fn e152_w202_relationships() {
    let is = "intrusion-set--4e78f46f-a023-4e5f-bc24-71b3ca22ec29";
    let mw = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b";
    assert_clean(&relationship("uses", is, mw));
    assert_warning(&relationship("subtechnique-of", is, mw), "W202");
    assert_error(
        &relationship("Uses It", is, mw),
        "E152",
        "/relationship_type",
    );
    assert_error(
        &relationship(
            "uses",
            "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
            mw,
        ),
        "E115",
        "/source_ref",
    );
}

// STIX 2.1 §5.2 sighting
#[test]
fn sighting_refs_and_count() {
    let s = json!({"type": "sighting", "spec_version": "2.1", "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
        "created": "2016-04-06T20:08:31.000Z", "modified": "2016-04-06T20:08:31.000Z",
        "sighting_of_ref": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad", "count": 1_000_000_000,
        "where_sighted_refs": ["malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"]});
    assert_error(&s, "E115", "/sighting_of_ref");
    assert_error(&s, "E113", "/count");
    assert_error(&s, "E115", "/where_sighted_refs/0");
}

// STIX 2.1 §7.3 extension-definition requires created_by_ref (deliberately stricter than OASIS)
#[test]
fn extension_definition_requires_created_by_ref() {
    let e = json!({"type": "extension-definition", "spec_version": "2.1",
        "id": "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e",
        "created": "2014-02-20T09:16:08.000Z", "modified": "2014-02-20T09:16:08.000Z",
        "name": "x", "schema": "https://example.com/s.json", "version": "1.0", "extension_types": ["property-extension"]});
    assert_error(&e, "E101", "/created_by_ref");
}

// STIX 2.1 §2.9 SDO ids SHOULD be UUIDv4; §11.2 custom object types
#[test]
fn w205_w204_custom_types_and_versions() {
    let v = with(campaign(), |m| {
        drop(m.insert(
            "id".into(),
            json!("campaign--28bb3599-77cd-5a82-a950-b5bc3caf07c4"),
        ))
    });
    assert_warning(&v, "W205");
    let c = with(campaign(), |m| {
        m.insert("type".into(), json!("my-thing"));
        m.insert(
            "id".into(),
            json!("my-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        );
    });
    assert_warning(&c, "W204");
    let x = with(campaign(), |m| {
        m.insert("type".into(), json!("x-mitre-tactic"));
        m.insert(
            "id".into(),
            json!("x-mitre-tactic--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        );
        m.insert("x_mitre_shortname".into(), json!("execution"));
        m.insert(
            "tactic_refs".into(),
            json!(["x-mitre-tactic--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
        );
    });
    assert_clean(&x);
}

// STIX 2.1 §10 open vocabularies
#[test]
fn w201_open_vocabulary() {
    let v = with(campaign(), |m| {
        m.insert("type".into(), json!("tool"));
        m.insert(
            "id".into(),
            json!("tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        );
        m.insert("tool_types".into(), json!(["remote-access", "magic"]));
    });
    let ds = Validator::new().validate(&v);
    assert!(is_valid(&ds));
    assert_eq!(
        ds.iter()
            .filter(|d| d.code == "W201")
            .map(|d| d.pointer())
            .collect::<Vec<_>>(),
        ["/tool_types/1"]
    );
}

// STIX 2.1 §2.9 (UUID reuse across types) and duplicate versions in a bundle
#[test]
fn w207_w213_bundle_checks() {
    let a = campaign();
    let b = with(campaign(), |m| {
        m.insert("type".into(), json!("tool"));
        m.insert(
            "id".into(),
            json!("tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        );
    });
    let r = Validator::new().validate_bundle_objects(&[a.clone(), a, b]);
    assert!(r[1].iter().any(|d| d.code == "W207"), "{r:#?}");
    assert!(r[2].iter().any(|d| d.code == "W213"), "{r:#?}");
    let (bd, _) = Validator::new().validate_bundle(&json!({"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "objects": []}));
    assert!(bd.iter().any(|d| d.code == "E106"));
}

/// No input panics: deep nesting, huge strings, wrong types everywhere.
#[test]
fn hostile_inputs_do_not_panic() {
    let v = Validator::new();
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!({"a": [deep]});
    }
    let huge = "x".repeat(1 << 20);
    let mut cases = vec![
        json!(null),
        json!("s"),
        json!({}),
        json!({"type": "campaign"}),
        deep.clone(),
    ];
    for base in [campaign(), indicator(), crate::tlp::TLP2_RED.to_value()] {
        if let Some(m) = base.as_object() {
            for k in m.keys() {
                for bad in [
                    json!(null),
                    json!([]),
                    json!({}),
                    json!(-1),
                    json!(huge.clone()),
                    deep.clone(),
                    json!([[[]]]),
                ] {
                    let mut o = base.clone();
                    o[k.as_str()] = bad;
                    cases.push(o);
                }
            }
        }
    }
    for c in &cases {
        let _ = v.validate(c);
    }
    let _ = v.validate_bundle_objects(&cases);
}

mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z_\\-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Arbitrary properties on a valid object never panic the validator.
        #[test]
        fn never_panics(extra in proptest::collection::btree_map("[a-z_]{1,16}", arb_json(), 0..8)) {
            let mut o = campaign();
            if let Some(m) = o.as_object_mut() {
                m.extend(extra);
            }
            let _ = Validator::new().validate(&o);
        }
    }
}

// The ingest gate (import, TAXII POST) answers with the validator's own
// findings: errors only, with their codes and pointers (issue 17 §2).
#[test]
fn admit_returns_error_diagnostics() {
    let v = Validator::new();
    let warned = with(campaign(), |m| {
        drop(m.insert("custom_prop".into(), json!(1)))
    });
    let (meta, warnings) = v.admit(&warned).expect("a warning does not refuse");
    assert_eq!(meta.ty, "campaign");
    assert_eq!(warnings, 1);

    // STIX 2.1 §3.2: id is required; W203 on the same object is not an error.
    let bad = with(warned, |m| drop(m.remove("id")));
    let errors = v.admit(&bad).expect_err("no id");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, "E101");
    assert_eq!(errors[0].pointer(), "/id");
    assert_eq!(errors[0].severity, Severity::Error);
    assert_eq!(
        crate::diag::summary(&errors, 5),
        "E101 /id: required property id is missing"
    );
}
