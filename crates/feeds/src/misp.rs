//! MISP feeds (digest §4.2): `manifest.json` (event uuid -> info, timestamp,
//! tags) and one `<uuid>.json` per event, from a directory or an http(s)
//! base URL. An event is fetched when it is new or its manifest `timestamp`
//! moved past the one recorded in the feed's state (MISP's own rule,
//! `Feed.php getNewEventUuids`); deletions are not propagated (MISP neither).
//!
//! Integrity (digest §4.2): when a manifest entry carries `integrity:sha256`
//! (the hex SHA-256 of the event file), the downloaded `<uuid>.json` must
//! hash to it, else the event is refused with that diagnostic (counted as
//! rejected, shown by `feed status`), never imported, and not recorded, so
//! the next sync fetches it again. `integrity:pgp` and `.asc` signatures are
//! not checked. `hashes.csv` is never read, on purpose: MISP uses it only to
//! fill its feed-hit cache (md5 of attribute values), never to create
//! events; the events come from the manifest and the event files alone.
//!
//! Mapping (after misp-stix, digest §4.5; ids reuse MISP's UUIDs, so a
//! re-sync finds the same objects and a changed event is a new version with
//! `modified` = its timestamp):
//! - event: `report--<event uuid>` when published (`published` = its
//!   publish_timestamp), else `grouping--<event uuid>` (context
//!   `suspicious-activity`); `name` = info; tags become `labels`, TLP tags
//!   `object_marking_refs` (the TLP 1.0 marking definitions of STIX 2.1 §7.2.1.4);
//! - attribute with `to_ids`: `indicator--<attribute uuid>` with the
//!   digest's pattern for its type, labels `misp:type="…"`,
//!   `misp:category="…"` and its tags, description = comment;
//! - any other attribute (and a `to_ids` one of a type without a pattern):
//!   `note--<attribute uuid>` on the event, its content `type: value`;
//! - threat-actor, malware and tool galaxy clusters of the event: objects
//!   `<type>--<cluster uuid>` (aliases from the synonyms), which each of the
//!   event's indicators `indicates` (relationship ids UUIDv5).
//!
//! Differences from misp-stix, on purpose: integer properties are compared
//! to integers (`dst_port = 443`, `number = 174`: STIX 2.1 types them, and
//! our validator checks it), a `sigma`/`snort`/`suricata`/`yara` rule is the
//! pattern as it is (not wrapped in brackets); no observed-data is written
//! beside each indicator; other galaxies (attack patterns, sectors, ...)
//! stay tags (labels) only.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::http::Fetcher;
use crate::registry::{FeedState, RejectionNote, RunCounts};
use crate::{FeedConfig, FeedError, Result};

/// STIX 2.1 §7.2.1.4's TLP marking definitions, by MISP tag.
const TLP: &[(&str, &str)] = &[
    (
        "tlp:white",
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        "tlp:clear",
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        "tlp:green",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        "tlp:amber",
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        "tlp:red",
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// Reads one file of the feed: `base/name` over HTTP or from a directory.
pub(crate) fn read(feed: &FeedConfig, fetch: &mut Fetcher, name: &str) -> Result<Vec<u8>> {
    let base = feed.url.trim_end_matches('/');
    if base.starts_with("http://") || base.starts_with("https://") {
        let url = format!("{base}/{name}");
        let r = fetch.get(&url, &[], "application/json")?;
        if !(200..300).contains(&r.status) {
            return Err(FeedError::Status {
                url: r.url,
                status: r.status,
                message: String::new(),
            });
        }
        Ok(r.body)
    } else {
        let path = std::path::Path::new(base).join(name);
        std::fs::read(&path).map_err(|e| FeedError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }
}

fn json_of(feed: &FeedConfig, name: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| FeedError::BadBody {
        url: format!("{}/{name}", feed.url.trim_end_matches('/')),
        message: format!("not JSON: {e}"),
    })
}

/// A MISP number, written as a string or a number.
fn num(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn stamp(secs: i64) -> String {
    let s = sightline_stix::format_micros(secs.saturating_mul(1_000_000));
    format!("{}Z", &s[..23])
}

/// The manifest's entry for the event `uuid` (keys compared without case,
/// as [`changed`] lowercases them).
fn entry<'m>(manifest: &'m Value, uuid: &str) -> Option<&'m Value> {
    manifest
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(uuid))
        .map(|(_, v)| v)
}

/// Checks an event file against its manifest entry's `integrity:sha256`
/// (digest §4.2: the hex SHA-256 of the event file), when there is one.
/// A mismatch, or a value that is not a SHA-256, is the diagnostic.
fn verify(manifest: &Value, uuid: &str, name: &str, bytes: &[u8]) -> Result<(), String> {
    let Some(want) = entry(manifest, uuid).and_then(|e| e.get("integrity:sha256")) else {
        return Ok(());
    };
    let want_hex = want.as_str().unwrap_or_default().trim();
    let Some(want) = sightline_stix::encoding::decode_hex(want_hex).filter(|w| w.len() == 32)
    else {
        return Err(format!(
            "integrity: the manifest's integrity:sha256 for {name} is not a hex SHA-256 ({want}); not imported"
        ));
    };
    use sha2::Digest as _;
    let got = sha2::Sha256::digest(bytes);
    if got.as_slice() == want.as_slice() {
        return Ok(());
    }
    let got_hex: String = got.iter().map(|b| format!("{b:02x}")).collect();
    Err(format!(
        "integrity: the SHA-256 of {name} is {got_hex}, the manifest's integrity:sha256 is {want_hex}; not imported (fetched again at the next sync)"
    ))
}

/// The events of the manifest to fetch: new, or with a later timestamp
/// than recorded. Returns (uuid, timestamp) pairs, sorted.
pub(crate) fn changed(manifest: &Value, seen: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = manifest
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| uuid::Uuid::parse_str(k).is_ok())
                .map(|(k, v)| (k.to_ascii_lowercase(), num(v.get("timestamp")).unwrap_or(0)))
                .filter(|(k, t)| seen.get(k).is_none_or(|s| t > s))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn lit(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn addr_type(v: &str) -> &'static str {
    if v.contains(':') {
        "ipv6-addr"
    } else {
        "ipv4-addr"
    }
}

fn hash_name(t: &str) -> Option<&'static str> {
    Some(match t {
        "md5" => "MD5",
        "sha1" => "'SHA-1'",
        "sha256" => "'SHA-256'",
        "sha512" => "'SHA-512'",
        _ => return None,
    })
}

/// The STIX pattern (and pattern type) of an attribute, per the digest's
/// table; None for a type without one.
pub fn pattern(ty: &str, value: &str) -> Option<(String, &'static str)> {
    let (left, right) = value.split_once('|').unwrap_or((value, ""));
    let port = |p: &str| p.trim().parse::<u16>().ok();
    let p = match ty {
        "ip-src" | "ip-dst" => {
            let side = if ty == "ip-src" { "src" } else { "dst" };
            format!(
                "[network-traffic:{side}_ref.type = '{}' AND network-traffic:{side}_ref.value = {}]",
                addr_type(value),
                lit(value)
            )
        }
        "ip-src|port" | "ip-dst|port" => {
            let side = if ty.starts_with("ip-src") {
                "src"
            } else {
                "dst"
            };
            format!(
                "[network-traffic:{side}_ref.type = '{}' AND network-traffic:{side}_ref.value = {} AND network-traffic:{side}_port = {}]",
                addr_type(left),
                lit(left),
                port(right)?
            )
        }
        "domain" | "hostname" => format!("[domain-name:value = {}]", lit(value)),
        "domain|ip" => format!(
            "[domain-name:value = {} AND domain-name:resolves_to_refs[*].value = {}]",
            lit(left),
            lit(right)
        ),
        "url" | "uri" | "link" => format!("[url:value = {}]", lit(value)),
        "md5" | "sha1" | "sha256" | "sha512" => {
            format!("[file:hashes.{} = {}]", hash_name(ty)?, lit(value))
        }
        "filename" => format!("[file:name = {}]", lit(value)),
        t if t.starts_with("filename|") => format!(
            "[file:name = {} AND file:hashes.{} = {}]",
            lit(left),
            hash_name(&t["filename|".len()..])?,
            lit(right)
        ),
        "email-src" => format!("[email-message:from_ref.value = {}]", lit(value)),
        "email-dst" => format!("[email-message:to_refs[*].value = {}]", lit(value)),
        "email" => format!("[email-addr:value = {}]", lit(value)),
        "user-agent" => format!(
            "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {}]",
            lit(value)
        ),
        "x509-fingerprint-sha1" => format!("[x509-certificate:hashes.'SHA-1' = {}]", lit(value)),
        "AS" => format!(
            "[autonomous-system:number = {}]",
            value.trim().trim_start_matches("AS").parse::<u32>().ok()?
        ),
        "sigma" | "snort" | "suricata" | "yara" => {
            let pt = match ty {
                "sigma" => "sigma",
                "snort" => "snort",
                "suricata" => "suricata",
                _ => "yara",
            };
            return Some((value.to_owned(), pt));
        }
        _ => return None,
    };
    Some((p, "stix"))
}

fn tags(v: &Value) -> Vec<String> {
    v.get("Tag")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `(labels, markings)` of a tag list: TLP tags become markings.
fn split_tags(tags: &[String]) -> (Vec<String>, Vec<String>) {
    let mut labels = Vec::new();
    let mut marks = Vec::new();
    for t in tags {
        match TLP.iter().find(|(k, _)| t.eq_ignore_ascii_case(k)) {
            Some((_, m)) => {
                if !marks.iter().any(|x: &String| x == m) {
                    marks.push((*m).to_owned());
                }
            }
            None => labels.push(t.clone()),
        }
    }
    (labels, marks)
}

/// The STIX objects of one event (`{"Event": {...}}`). Attributes that
/// cannot be read are returned as rejections.
pub fn convert(
    feed: &str,
    doc: &Value,
) -> std::result::Result<(Vec<Value>, Vec<RejectionNote>), String> {
    let ev = doc.get("Event").unwrap_or(doc);
    let uuid = ev
        .get("uuid")
        .and_then(Value::as_str)
        .filter(|u| uuid::Uuid::parse_str(u).is_ok())
        .ok_or("the event has no uuid")?
        .to_ascii_lowercase();
    let ts = num(ev.get("timestamp")).ok_or("the event has no timestamp")?;
    let info = ev
        .get("info")
        .and_then(Value::as_str)
        .unwrap_or("MISP event");
    let identity = crate::feed_identity_id(feed);
    let (ev_labels, ev_marks) = split_tags(&tags(ev));
    let mut objects = Vec::new();
    let mut bad = Vec::new();
    let mut refs = Vec::new();
    let attrs = ev
        .get("Attribute")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Attributes inside MISP objects count as the event's own.
    let in_objects = ev
        .get("Object")
        .and_then(Value::as_array)
        .map(|os| {
            os.iter()
                .filter_map(|o| o.get("Attribute").and_then(Value::as_array))
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let container = if ev.get("published").and_then(Value::as_bool) == Some(true) {
        format!("report--{uuid}")
    } else {
        format!("grouping--{uuid}")
    };
    for (i, a) in attrs.iter().chain(&in_objects).enumerate() {
        if a.get("deleted").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let at = format!("event {uuid} attribute {i}");
        let (Some(auuid), Some(ty), Some(value)) = (
            a.get("uuid")
                .and_then(Value::as_str)
                .filter(|u| uuid::Uuid::parse_str(u).is_ok()),
            a.get("type").and_then(Value::as_str),
            a.get("value").and_then(Value::as_str),
        ) else {
            bad.push(RejectionNote {
                at,
                id: None,
                errors: vec!["an attribute without uuid, type or value".into()],
            });
            continue;
        };
        let auuid = auuid.to_ascii_lowercase();
        let ats = stamp(num(a.get("timestamp")).unwrap_or(ts));
        let category = a.get("category").and_then(Value::as_str).unwrap_or("Other");
        let (mut labels, marks) = split_tags(&tags(a));
        let to_ids = a.get("to_ids").and_then(Value::as_bool).unwrap_or(false);
        let comment = a
            .get("comment")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty());
        let marks = if marks.is_empty() {
            ev_marks.clone()
        } else {
            marks
        };
        match pattern(ty, value).filter(|_| to_ids) {
            Some((p, pt)) => {
                let mut all = vec![
                    format!("misp:type=\"{ty}\""),
                    format!("misp:category=\"{category}\""),
                ];
                all.append(&mut labels);
                let mut o = json!({
                    "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{auuid}"),
                    "created_by_ref": identity, "created": ats, "modified": ats,
                    "name": value, "pattern": p, "pattern_type": pt, "valid_from": ats,
                    "labels": all,
                    "kill_chain_phases": [{"kill_chain_name": "misp-category", "phase_name": category}],
                    "x_sightline_feed": feed,
                });
                if pt == "stix" {
                    o["pattern_version"] = "2.1".into();
                }
                if let Some(c) = comment {
                    o["description"] = c.into();
                }
                if !marks.is_empty() {
                    o["object_marking_refs"] = json!(marks);
                }
                refs.push(format!("indicator--{auuid}"));
                objects.push(o);
            }
            None => {
                let mut content = format!("{ty}: {value}");
                if let Some(c) = comment {
                    content.push_str(&format!("\n{c}"));
                }
                let mut o = json!({
                    "type": "note", "spec_version": "2.1", "id": format!("note--{auuid}"),
                    "created_by_ref": identity, "created": ats, "modified": ats,
                    "abstract": format!("MISP {category}: {ty}"), "content": content,
                    "object_refs": [container], "x_sightline_feed": feed,
                });
                let mut all = vec![
                    format!("misp:type=\"{ty}\""),
                    format!("misp:category=\"{category}\""),
                ];
                all.append(&mut labels);
                o["labels"] = json!(all);
                if !marks.is_empty() {
                    o["object_marking_refs"] = json!(marks);
                }
                objects.push(o);
            }
        }
    }
    // Galaxies: threat-actor, malware and tool clusters as objects of their
    // own (ids = the cluster uuids; fixed timestamps, so the same cluster in
    // many events is one version), each indicator `indicates` them.
    let indicators: Vec<String> = refs.clone();
    for (cid, o) in galaxy_objects(ev) {
        for ind in &indicators {
            let rid = uuid::Uuid::new_v5(
                &crate::namespace(),
                format!("misp-rel\n{feed}\n{ind}\n{cid}").as_bytes(),
            );
            objects.push(json!({
                "type": "relationship", "spec_version": "2.1", "id": format!("relationship--{rid}"),
                "created_by_ref": identity, "created": crate::IDENTITY_CREATED,
                "modified": crate::IDENTITY_CREATED, "relationship_type": "indicates",
                "source_ref": ind, "target_ref": cid, "x_sightline_feed": feed,
            }));
            refs.push(format!("relationship--{rid}"));
        }
        let mut o = o;
        o["created_by_ref"] = identity.clone().into();
        o["x_sightline_feed"] = feed.into();
        objects.push(o);
        refs.push(cid);
    }
    let created = stamp(num(ev.get("date").and_then(|_| ev.get("timestamp"))).unwrap_or(ts));
    if refs.is_empty() {
        // A report or grouping refers to something (STIX 2.1 §4.13: object_refs required).
        refs.push(identity.clone());
    }
    let mut c = json!({
        "spec_version": "2.1", "id": container, "created_by_ref": identity,
        "created": created, "modified": stamp(ts), "name": info,
        "object_refs": refs, "x_sightline_feed": feed,
        "x_misp_event_uuid": uuid,
    });
    if container.starts_with("report--") {
        c["type"] = "report".into();
        let published = num(ev.get("publish_timestamp"))
            .filter(|&p| p > 0)
            .unwrap_or(ts);
        c["published"] = stamp(published).into();
        c["report_types"] = json!(["threat-report"]);
    } else {
        c["type"] = "grouping".into();
        c["context"] = "suspicious-activity".into();
    }
    if !ev_labels.is_empty() {
        c["labels"] = json!(ev_labels);
    }
    if !ev_marks.is_empty() {
        c["object_marking_refs"] = json!(ev_marks);
    }
    if let Some(org) = ev
        .get("Orgc")
        .and_then(|o| o.get("name"))
        .and_then(Value::as_str)
    {
        c["x_misp_orgc"] = org.into();
    }
    objects.push(c);
    Ok((objects, bad))
}

/// STIX objects of an event's threat-actor, malware and tool galaxy
/// clusters: `(id, object)`.
fn galaxy_objects(ev: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let galaxies = ev
        .get("Galaxy")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for g in &galaxies {
        let gtype = g.get("type").and_then(Value::as_str).unwrap_or("");
        let clusters = g
            .get("GalaxyCluster")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in &clusters {
            let (Some(cu), Some(name)) = (
                c.get("uuid")
                    .and_then(Value::as_str)
                    .filter(|u| uuid::Uuid::parse_str(u).is_ok()),
                c.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            let ty = match gtype {
                "threat-actor" => "threat-actor",
                "malware" | "ransomware" | "mitre-malware" | "botnet" | "rat" | "banker"
                | "stealer" => "malware",
                "tool" | "mitre-tool" => "tool",
                _ => continue,
            };
            let id = format!("{ty}--{}", cu.to_ascii_lowercase());
            if out.iter().any(|(i, _)| *i == id) {
                continue;
            }
            let mut o = json!({
                "type": ty, "spec_version": "2.1", "id": id,
                "created": crate::IDENTITY_CREATED, "modified": crate::IDENTITY_CREATED,
                "name": name,
            });
            if ty == "malware" {
                o["is_family"] = true.into();
            }
            if let Some(d) = c
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
            {
                o["description"] = d.into();
            }
            let syn: Vec<&str> = c
                .get("meta")
                .and_then(|m| m.get("synonyms"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !syn.is_empty() && ty != "tool" {
                o["aliases"] = json!(syn);
            }
            out.push((id, o));
        }
    }
    out
}

/// Syncs a MISP feed: the manifest, then each new or changed event in a
/// transaction of its own with the state (event timestamps recorded).
pub(crate) fn run(
    store: &dyn sightline_store::Store,
    validator: &sightline_stix::Validator,
    feed: &FeedConfig,
    collection: &str,
    mut fetch: Fetcher,
    st: &mut FeedState,
) -> Result<()> {
    let manifest = json_of(
        feed,
        "manifest.json",
        &read(feed, &mut fetch, "manifest.json")?,
    )?;
    if !manifest.is_object() {
        return Err(FeedError::BadBody {
            url: format!("{}/manifest.json", feed.url.trim_end_matches('/')),
            message: "the manifest is not a JSON object keyed by event uuid".into(),
        });
    }
    for (uuid, ts) in changed(&manifest, &st.misp_events) {
        let name = format!("{uuid}.json");
        let mut counts = RunCounts {
            pages: 1,
            ..RunCounts::default()
        };
        // A file that could not be read, or whose bytes are not those the
        // manifest vouches for, is refused and NOT recorded: the next sync
        // fetches it again. Bytes that were read and verified but do not
        // convert are recorded (the same bytes would be refused again).
        let (converted, record) = match read(feed, &mut fetch, &name) {
            Err(e) => (Err(e.to_string()), false),
            Ok(bytes) => match verify(&manifest, &uuid, &name, &bytes) {
                Err(m) => (Err(m), false),
                Ok(()) => (
                    json_of(feed, &name, &bytes)
                        .map_err(|e| e.to_string())
                        .and_then(|d| convert(&feed.name, &d).map_err(|m| m.to_owned())),
                    true,
                ),
            },
        };
        let mut txn = store.begin()?;
        match converted {
            Err(m) => {
                counts.rejected += 1;
                st.note_rejection(RejectionNote {
                    at: format!("event {uuid}"),
                    id: None,
                    errors: vec![m],
                });
            }
            Ok((objs, bad)) => {
                for b in bad {
                    counts.rejected += 1;
                    st.note_rejection(b);
                }
                for o in objs {
                    crate::sync::put_converted(
                        store,
                        validator,
                        &mut *txn,
                        collection,
                        &o,
                        &mut counts,
                        st,
                    )?;
                }
            }
        }
        // A changed event (a later timestamp) is read again.
        if record {
            st.misp_events.insert(uuid, ts);
        }
        st.run.add(&counts);
        st.total.add(&counts);
        crate::registry::put_state(&mut *txn, &feed.name, st)?;
        txn.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_of_the_digest_table_parse() {
        use sightline_stix::PatternChecker as _;
        for (t, v) in [
            ("ip-src", "1.2.3.4"),
            ("ip-dst", "2001:db8::1"),
            ("ip-dst|port", "5.6.7.8|443"),
            ("domain", "circl.lu"),
            ("hostname", "www.circl.lu"),
            ("domain|ip", "circl.lu|149.13.33.14"),
            ("url", "https://vm.misp-project.org/latest/"),
            ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
            ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (
                "sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                "filename|sha256",
                "foo.exe|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            ("filename", "x'y.exe"),
            ("email-src", "src@email.test"),
            ("email-dst", "dst@email.test"),
            ("user-agent", "Mozilla/5.0"),
            (
                "x509-fingerprint-sha1",
                "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            ),
            ("AS", "AS174"),
        ] {
            let (p, pt) = pattern(t, v).unwrap_or_else(|| panic!("{t}"));
            assert_eq!(pt, "stix");
            assert!(
                sightline_pattern::StixPatternChecker.check(&p).is_ok(),
                "{t}: {p}"
            );
        }
        assert_eq!(
            pattern("ip-dst", "5.6.7.8").map(|p| p.0).as_deref(),
            Some("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8']")
        );
        assert_eq!(pattern("yara", "rule x {}").map(|p| p.1), Some("yara"));
        assert_eq!(pattern("text", "x"), None);
        assert_eq!(pattern("ip-dst|port", "1.2.3.4|nope"), None);
    }
}
