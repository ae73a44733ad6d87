//! Suricata EVE JSON: `flow`, `dns` (v1 one record per query/answer, v2
//! `answers`/`grouped`, v3 `queries`), `http`, `tls`, `fileinfo` and `alert`.
//! Every event gives the `network-traffic` of its 5-tuple; the application
//! sections present (an alert or fileinfo carries its `http`/`tls`/`dns`) add
//! their SCOs.
//!
//! An `alert` whose rule came from `sightline export --format suricata`
//! carries the indicator id back in `alert.metadata.sightline_id` (the rule's
//! `metadata` keyword as EVE writes it: key -> list of strings); [`alert`]
//! reads it, so the detection run can turn the alert into a sighting of that
//! indicator directly instead of re-deriving it from a pattern.

use std::collections::BTreeMap;

use serde::Deserialize;
use sightline_matcher::Observation;
use sightline_matcher::{Object as Map, Value};

use super::de::{AnyStr, Str, Time};
use super::sco::{is_hostname, protocols, sco, set_str, set_u64, End, Scos};
use super::time::to_stix;
use super::{parse_json, EventError};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Eve<'a> {
    timestamp: Option<Time>,
    #[serde(borrow)]
    event_type: Option<Str<'a>>,
    #[serde(borrow)]
    src_ip: Option<Str<'a>>,
    src_port: Option<u16>,
    #[serde(borrow)]
    dest_ip: Option<Str<'a>>,
    dest_port: Option<u16>,
    #[serde(borrow)]
    proto: Option<Str<'a>>,
    #[serde(borrow)]
    app_proto: Option<Str<'a>>,
    flow: Option<Flow>,
    #[serde(borrow)]
    dns: Option<Dns<'a>>,
    #[serde(borrow)]
    http: Option<Http<'a>>,
    #[serde(borrow)]
    tls: Option<Tls<'a>>,
    #[serde(borrow)]
    fileinfo: Option<FileInfo<'a>>,
    alert: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Flow {
    pkts_toserver: Option<u64>,
    pkts_toclient: Option<u64>,
    bytes_toserver: Option<u64>,
    bytes_toclient: Option<u64>,
    start: Option<Time>,
    end: Option<Time>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Dns<'a> {
    /// v1 per-record fields (and v2's query records).
    #[serde(borrow)]
    rrname: Option<Str<'a>>,
    #[serde(borrow)]
    rrtype: Option<Str<'a>>,
    #[serde(borrow)]
    rdata: AnyStr<'a>,
    /// v2 detailed answers.
    #[serde(borrow)]
    answers: Option<Vec<Rr<'a>>>,
    /// v2 grouped answers: rrtype → values (strings for A/AAAA/CNAME/…).
    #[serde(borrow)]
    grouped: Option<BTreeMap<Str<'a>, Vec<AnyStr<'a>>>>,
    /// v3 (Suricata 8) queries.
    #[serde(borrow)]
    queries: Option<Vec<Rr<'a>>>,
    /// The DNS metadata of an `alert` event (Suricata 6/7).
    #[serde(borrow)]
    query: Option<Vec<Rr<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rr<'a> {
    #[serde(borrow)]
    rrname: Option<Str<'a>>,
    #[serde(borrow)]
    rrtype: Option<Str<'a>>,
    #[serde(borrow)]
    rdata: AnyStr<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Http<'a> {
    #[serde(borrow)]
    hostname: Option<Str<'a>>,
    http_port: Option<u16>,
    #[serde(borrow)]
    url: Option<Str<'a>>,
    #[serde(borrow)]
    http_user_agent: Option<Str<'a>>,
    #[serde(borrow)]
    http_method: Option<Str<'a>>,
    #[serde(borrow)]
    protocol: Option<Str<'a>>,
    #[serde(borrow)]
    http_refer: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Tls<'a> {
    #[serde(borrow)]
    sni: Option<Str<'a>>,
    #[serde(borrow)]
    subject: Option<Str<'a>>,
    #[serde(borrow)]
    issuerdn: Option<Str<'a>>,
    #[serde(borrow)]
    serial: Option<Str<'a>>,
    /// SHA-1 of the certificate, colon-separated hex.
    #[serde(borrow)]
    fingerprint: Option<Str<'a>>,
    notbefore: Option<Time>,
    notafter: Option<Time>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileInfo<'a> {
    #[serde(borrow)]
    filename: Option<Str<'a>>,
    #[serde(borrow)]
    md5: Option<Str<'a>>,
    #[serde(borrow)]
    sha1: Option<Str<'a>>,
    #[serde(borrow)]
    sha256: Option<Str<'a>>,
    size: Option<u64>,
    #[serde(borrow)]
    mimetype: Option<Str<'a>>,
}

/// The rule `metadata` key carrying the indicator id: what
/// `sightline export --format suricata` writes (`metadata: sightline_id
/// indicator--…`; the export crate's golden files and the round-trip test
/// `suricata_alerts` hold the two sides together).
pub const METADATA_KEY: &str = "sightline_id";

/// The most ids one alert's metadata is read for: a rule of ours names one
/// indicator; a list longer than this is not ours and is refused whole
/// rather than turned into that many sightings.
pub const MAX_ALERT_IDS: usize = 16;

/// An EVE `alert` that names indicators in its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// `alert.signature_id`, `gid`, `rev` of the rule, when they are numbers.
    pub sid: Option<u64>,
    pub gid: Option<u64>,
    pub rev: Option<u64>,
    /// The indicator ids named (well-formed, each once, in order).
    pub indicators: Vec<String>,
    /// Values of the metadata that were left out, and why.
    pub problems: Vec<AlertProblem>,
    /// The event, seen once at the alert's `timestamp` (not at its flow's
    /// start: the alert is the sighting's time).
    pub observation: Observation,
}

/// What is wrong with an alert's `metadata` (the line itself is fine: it is
/// still matched as an event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertProblem {
    #[error("`alert` is {found}, not an object")]
    AlertNotAnObject { found: &'static str },
    #[error("`alert.metadata` is {found}, not an object")]
    MetadataNotAnObject { found: &'static str },
    #[error("`alert.metadata.{METADATA_KEY}` is {found}, not a list of strings")]
    NotAList { found: &'static str },
    #[error("`alert.metadata.{METADATA_KEY}` has {len} values, more than the {MAX_ALERT_IDS} a rule of ours can carry: none used")]
    TooMany { len: usize },
    #[error("`alert.metadata.{METADATA_KEY}[{index}]` is {found}, not a string")]
    NotAString { index: usize, found: &'static str },
    #[error("`alert.metadata.{METADATA_KEY}[{index}]` is not an indicator id: {value:?}")]
    NotAnIndicator { index: usize, value: String },
}

impl AlertProblem {
    /// A short stable name for per-reason counts.
    pub fn kind(&self) -> &'static str {
        match self {
            AlertProblem::AlertNotAnObject { .. } => "alert not an object",
            AlertProblem::MetadataNotAnObject { .. } => "metadata not an object",
            AlertProblem::NotAList { .. } => "id not a list",
            AlertProblem::TooMany { .. } => "too many ids",
            AlertProblem::NotAString { .. } => "id not a string",
            AlertProblem::NotAnIndicator { .. } => "not an indicator id",
        }
    }
}

/// The alert section as read for its metadata: loosely, so a wrong shape
/// is a problem to report, not a line to skip.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AlertLine<'a> {
    timestamp: Option<Time>,
    #[serde(borrow)]
    event_type: Option<Str<'a>>,
    alert: Option<serde_json::Value>,
}

/// The JSON kind of `v`, for messages.
fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Whether `s` is a STIX indicator id (`indicator--` and a UUID).
fn is_indicator_id(s: &str) -> bool {
    s.starts_with("indicator--")
        && sightline_stix::StixId::parse(s).is_ok_and(|id| id.ty == "indicator")
}

/// Longest text of a bad value quoted in a problem.
const QUOTE: usize = 80;

/// The alert of an EVE line whose `alert.metadata` has [`METADATA_KEY`];
/// `None` for any other line (another event type, a rule without our
/// metadata, a line the adapter does not parse: those are handled as
/// events only). Lines without the key's text cost one substring search.
pub fn alert(line: &[u8]) -> Option<Alert> {
    memchr::memmem::find(line, METADATA_KEY.as_bytes())?;
    let text = std::str::from_utf8(line).ok()?;
    let a: AlertLine = serde_json::from_str(text).ok()?;
    if a.event_type.as_deref() != Some("alert") {
        return None;
    }
    let ts = a.timestamp?.0;
    let mut observation = parse(text).ok()?;
    observation.first_observed = ts;
    observation.last_observed = ts;
    observation.number_observed = 1;
    let mut out = Alert {
        sid: None,
        gid: None,
        rev: None,
        indicators: Vec::new(),
        problems: Vec::new(),
        observation,
    };
    let alert = match a.alert? {
        serde_json::Value::Object(m) => m,
        other => {
            out.problems.push(AlertProblem::AlertNotAnObject {
                found: kind_of(&other),
            });
            return Some(out);
        }
    };
    let num = |k: &str| alert.get(k).and_then(serde_json::Value::as_u64);
    out.sid = num("signature_id");
    out.gid = num("gid");
    out.rev = num("rev");
    let ids = match alert.get("metadata")? {
        serde_json::Value::Object(m) => m.get(METADATA_KEY)?,
        other => {
            out.problems.push(AlertProblem::MetadataNotAnObject {
                found: kind_of(other),
            });
            return Some(out);
        }
    };
    let list = match ids {
        serde_json::Value::Array(l) if l.len() > MAX_ALERT_IDS => {
            out.problems.push(AlertProblem::TooMany { len: l.len() });
            return Some(out);
        }
        serde_json::Value::Array(l) => l,
        other => {
            out.problems.push(AlertProblem::NotAList {
                found: kind_of(other),
            });
            return Some(out);
        }
    };
    for (index, v) in list.iter().enumerate() {
        match v {
            serde_json::Value::String(s) if is_indicator_id(s) => {
                if !out.indicators.contains(s) {
                    out.indicators.push(s.clone());
                }
            }
            serde_json::Value::String(s) => out.problems.push(AlertProblem::NotAnIndicator {
                index,
                value: s.chars().take(QUOTE).collect(),
            }),
            other => out.problems.push(AlertProblem::NotAString {
                index,
                found: kind_of(other),
            }),
        }
    }
    Some(out)
}

/// Parses one EVE line.
pub fn parse(text: &str) -> Result<Observation, EventError> {
    let e: &Eve = &parse_json(text)?;
    let et = e
        .event_type
        .as_deref()
        .ok_or_else(|| EventError::missing("event_type"))?;
    let ts = e
        .timestamp
        .ok_or_else(|| EventError::missing("timestamp"))?
        .0;
    // The section the event type promises must be there.
    let (needs, app) = match et {
        "flow" | "netflow" => ("flow", None),
        "dns" => ("dns", Some("dns")),
        "http" => ("http", Some("http")),
        "tls" => ("tls", Some("tls")),
        "fileinfo" => ("fileinfo", None),
        "alert" => ("alert", None),
        other => {
            return Err(EventError::Unsupported {
                what: format!("EVE event_type `{other}`"),
            })
        }
    };
    let present = match needs {
        "flow" => e.flow.is_some(),
        "dns" => e.dns.is_some(),
        "http" => e.http.is_some(),
        "tls" => e.tls.is_some(),
        "fileinfo" => e.fileinfo.is_some(),
        _ => e.alert.is_some(),
    };
    if !present {
        return Err(EventError::missing(needs));
    }
    let mut s = Scos::new();
    let mut first = ts;
    let mut last = ts;

    if let Some(d) = &e.dns {
        dns(d, &mut s);
    }
    if let Some(h) = &e.http {
        http(h, e, &mut s);
    }
    if let Some(t) = &e.tls {
        if let Some(n) = t.sni.as_deref().filter(|n| !n.is_empty()) {
            s.add_value("domain-name", n);
        }
        let mut c = sco("x509-certificate");
        for (k, v) in [
            ("subject", &t.subject),
            ("issuer", &t.issuerdn),
            ("serial_number", &t.serial),
        ] {
            if let Some(v) = v {
                set_str(&mut c, k, v);
            }
        }
        if let Some(fp) = &t.fingerprint {
            let mut h = Map::new();
            h.insert("SHA-1", Value::str(fp.replace(':', "")));
            c.insert("hashes", Value::Object(h));
        }
        if let Some(v) = t.notbefore {
            set_str(&mut c, "validity_not_before", &to_stix(v.0));
        }
        if let Some(v) = t.notafter {
            set_str(&mut c, "validity_not_after", &to_stix(v.0));
        }
        if c.len() > 1 {
            s.add(c);
        }
    }
    if let Some(f) = &e.fileinfo {
        let mut o = sco("file");
        let mut hashes = Map::new();
        for (k, v) in [("MD5", &f.md5), ("SHA-1", &f.sha1), ("SHA-256", &f.sha256)] {
            if let Some(v) = v {
                hashes.insert(k, Value::str(v.to_string()));
            }
        }
        if !hashes.is_empty() {
            o.insert("hashes", Value::Object(hashes));
        }
        if let Some(n) = &f.filename {
            // HTTP files are named by their URI path; `name` is the last part.
            let base = n.rsplit('/').next().filter(|b| !b.is_empty()).unwrap_or(n);
            set_str(&mut o, "name", base);
        }
        if let Some(n) = f.size {
            set_u64(&mut o, "size", n);
        }
        if let Some(m) = &f.mimetype {
            set_str(&mut o, "mime_type", m);
        }
        if o.len() > 1 {
            s.add(o);
        } else if et == "fileinfo" {
            return Err(EventError::missing("fileinfo.filename or a hash"));
        }
    }

    if let (Some(src_ip), Some(dst_ip)) = (&e.src_ip, &e.dest_ip) {
        let mut nt = s.flow(
            End {
                field: "src_ip",
                addr: src_ip,
                port: e.src_port,
            },
            End {
                field: "dest_ip",
                addr: dst_ip,
                port: e.dest_port,
            },
        )?;
        let app_proto = e.app_proto.as_deref().filter(|a| *a != "failed").or(app);
        nt.insert(
            "protocols",
            protocols(src_ip, e.proto.as_deref(), app_proto),
        );
        let mut start = ts;
        if let Some(f) = &e.flow {
            // A flow record is written when the flow ends; its own start and
            // end are when it was seen.
            if let Some(t) = f.start {
                start = t.0;
                first = t.0;
            }
            if let Some(t) = f.end {
                last = t.0;
                nt.insert("end", Value::str(to_stix(t.0)));
            }
            if f.start.is_some() && f.end.is_none() {
                last = ts;
            }
            for (k, v) in [
                ("src_byte_count", f.bytes_toserver),
                ("dst_byte_count", f.bytes_toclient),
                ("src_packets", f.pkts_toserver),
                ("dst_packets", f.pkts_toclient),
            ] {
                if let Some(v) = v {
                    set_u64(&mut nt, k, v);
                }
            }
        }
        nt.insert("start", Value::str(to_stix(start)));
        let key = s.add(nt);
        if let Some(h) = &e.http {
            if let Some(ext) = http_ext(h) {
                let mut exts = Map::new();
                exts.insert("http-request-ext", Value::Object(ext));
                if let Some(nt) = s.get_mut(&key) {
                    nt.insert("extensions", Value::Object(exts));
                }
            }
        }
    } else if e.src_ip.is_none() && s.is_empty() {
        return Err(EventError::missing("src_ip"));
    } else if s.is_empty() {
        return Err(EventError::missing("dest_ip"));
    }
    Ok(s.into_observation(first, last))
}

/// Adds the queried name and the answers (A/AAAA as addresses, names as
/// `domain-name`s, linked from the query by `resolves_to_refs`).
fn dns(d: &Dns, s: &mut Scos) {
    let mut names: Vec<&str> = Vec::new();
    if let Some(n) = d.rrname.as_deref() {
        names.push(n);
    }
    for q in d.queries.iter().chain(&d.query).flatten() {
        if let Some(n) = q.rrname.as_deref() {
            names.push(n);
        }
    }
    let mut answers: Vec<(Option<&str>, &str)> = Vec::new();
    // v1 answer records carry one rdata beside rrname.
    if let Some(rd) = d.rdata.0.as_deref() {
        answers.push((d.rrtype.as_deref(), rd));
    }
    for a in d.answers.iter().flatten() {
        if let Some(rd) = a.rdata.0.as_deref() {
            answers.push((a.rrtype.as_deref(), rd));
        }
    }
    for (ty, vals) in d.grouped.iter().flatten() {
        for v in vals {
            if let Some(rd) = v.0.as_deref() {
                answers.push((Some(&**ty), rd));
            }
        }
    }
    let mut keys = Vec::new();
    for n in names.iter().filter(|n| !n.is_empty()) {
        keys.push(s.add_value("domain-name", n));
    }
    let mut resolved = Vec::new();
    for (ty, rd) in answers {
        let key = match ty {
            Some("A" | "AAAA") | None => s.add_ip(rd),
            Some("CNAME" | "PTR" | "NS" | "MX") if is_hostname(rd) => {
                Some(s.add_value("domain-name", rd))
            }
            _ => None,
        };
        if let Some(k) = key {
            if !keys.contains(&k)
                && !resolved
                    .iter()
                    .any(|r: &Value| r.as_str() == Some(k.as_str()))
            {
                resolved.push(Value::str(k));
            }
        }
    }
    if let (Some(q), false) = (keys.first(), resolved.is_empty()) {
        if let Some(obj) = s.get_mut(q) {
            obj.insert("resolves_to_refs", Value::Array(resolved));
        }
    }
}

fn http(h: &Http, e: &Eve, s: &mut Scos) {
    let host = h.hostname.as_deref().filter(|h| !h.is_empty());
    if let Some(u) = h.url.as_deref().filter(|u| !u.is_empty()) {
        let value = if u.starts_with("http://") || u.starts_with("https://") {
            u.to_owned()
        } else {
            let hostpart = match (host, e.dest_ip.as_deref()) {
                (Some(h), _) => h.to_owned(),
                (None, Some(ip)) if ip.contains(':') => format!("[{ip}]"),
                (None, Some(ip)) => ip.to_owned(),
                (None, None) => String::new(),
            };
            let port = match h.http_port {
                Some(p) if p != 80 => format!(":{p}"),
                _ => String::new(),
            };
            let sep = if u.starts_with('/') { "" } else { "/" };
            format!("http://{hostpart}{port}{sep}{u}")
        };
        s.add_value("url", &value);
    }
    if let Some(hn) = host {
        if s.add_ip(hn).is_none() && is_hostname(hn) {
            s.add_value("domain-name", hn);
        }
    }
}

fn http_ext(h: &Http) -> Option<Map> {
    let mut ext = Map::new();
    set_str(
        &mut ext,
        "request_method",
        h.http_method.as_deref().unwrap_or("GET"),
    );
    set_str(&mut ext, "request_value", h.url.as_deref().unwrap_or("/"));
    if let Some(p) = &h.protocol {
        set_str(&mut ext, "request_version", &p.to_ascii_lowercase());
    }
    let mut headers = Map::new();
    for (k, v) in [
        ("Host", &h.hostname),
        ("User-Agent", &h.http_user_agent),
        ("Referer", &h.http_refer),
    ] {
        if let Some(v) = v {
            set_str(&mut headers, k, v);
        }
    }
    if !headers.is_empty() {
        ext.insert("request_header", Value::Object(headers));
    }
    Some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_versions() {
        let v1 = r#"{"timestamp":"2024-01-15T10:00:00.000000+0000","event_type":"dns","src_ip":"10.0.0.1","src_port":5000,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"answer","id":1,"rrname":"evil.example","rrtype":"A","ttl":60,"rdata":"192.0.2.7"}}"#;
        let o = parse(v1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.objects[0].1["value"], "evil.example");
        assert_eq!(o.objects[1].1["value"], "192.0.2.7");
        assert_eq!(o.objects[0].1["resolves_to_refs"], serde_json::json!(["1"]));
        let v2 = r#"{"timestamp":"2024-01-15T10:00:00.000000+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.53","proto":"UDP","dns":{"version":2,"type":"answer","rrname":"a.example","grouped":{"A":["192.0.2.1","192.0.2.2"],"CNAME":["b.example"],"MX":[{"preference":10}]}}}"#;
        let o = parse(v2).unwrap_or_else(|e| panic!("{e}"));
        let vals: Vec<_> = o
            .objects
            .iter()
            .filter_map(|(_, v)| v.get("value").cloned())
            .collect();
        assert!(vals.contains(&Value::from("192.0.2.2")), "{vals:?}");
        assert!(vals.contains(&Value::from("b.example")), "{vals:?}");
    }

    const ID: &str = "indicator--3c01ab7e-6b8a-4c1d-9e2f-0a1b2c3d4e5f";

    /// An EVE alert as Suricata writes one for a rule of `sightline export
    /// --format suricata`, with `metadata` replaced by `meta` (raw JSON).
    fn eve_alert(meta: &str) -> String {
        format!(
            r#"{{"timestamp":"2026-05-02T10:11:12.123456+0000","flow_id":1676750115612680,"event_type":"alert","src_ip":"10.0.0.5","src_port":53122,"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","app_proto":"dns","flow":{{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":70,"bytes_toclient":0,"start":"2026-05-02T10:11:10.000000+0000"}},"alert":{{"action":"allowed","gid":1,"signature_id":1900001,"rev":3,"signature":"SIGHTLINE IOC DNS evil.example","category":"A Network Trojan was detected","severity":1,"metadata":{meta}}},"dns":{{"version":3,"type":"request","id":16000,"queries":[{{"rrname":"evil.example","rrtype":"A"}}]}}}}"#
        )
    }

    fn alert_of(meta: &str) -> Alert {
        alert(eve_alert(meta).as_bytes()).unwrap_or_else(|| panic!("no alert: {meta}"))
    }

    /// Suricata's EVE format (`alert.metadata`: key -> list of strings, from
    /// the rule's `metadata` keyword) carries the indicator id back.
    #[test]
    fn an_alert_names_its_indicator() {
        let a = alert_of(&format!(
            r#"{{"sightline_id":["{ID}","{ID}"],"sightline_score":["80"]}}"#
        ));
        assert_eq!(a.indicators, vec![ID.to_owned()]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!((a.sid, a.gid, a.rev), (Some(1_900_001), Some(1), Some(3)));
        // The alert's own time, not the flow's start.
        let ts = crate::telemetry::time::parse_iso("2026-05-02T10:11:12.123456+0000")
            .unwrap_or_else(|| panic!("time"));
        assert_eq!(a.observation.first_observed, ts);
        assert_eq!(a.observation.last_observed, ts);
        // Its SCOs are the event's, as the adapter builds them.
        let o = parse(&eve_alert("{}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.observation.objects, o.objects);
    }

    /// Lines that are not an alert of ours are left to the event path.
    #[test]
    fn other_lines_are_not_alerts_of_ours() {
        for line in [
            eve_alert(r#"{"signature_severity":["Major"]}"#),
            eve_alert(r#"{"other":["sightline_id"]}"#),
            eve_alert("{}").replace(r#","metadata":{}"#, ""),
            // Another event type mentioning the key.
            r#"{"timestamp":"2026-05-02T10:11:12Z","event_type":"dns","src_ip":"10.0.0.5","dest_ip":"10.0.0.1","dns":{"rrname":"sightline_id.example"}}"#.to_owned(),
            // A line the adapter refuses (no timestamp).
            eve_alert(&format!(r#"{{"sightline_id":["{ID}"]}}"#)).replace(r#""timestamp":"2026-05-02T10:11:12.123456+0000","#, ""),
            "not json sightline_id".to_owned(),
            "{\"sightline_id\":1}".to_owned(),
        ] {
            assert_eq!(alert(line.as_bytes()), None, "{line}");
        }
        assert_eq!(alert(b"{\"sightline_id\":\"\xff\"}"), None);
    }

    /// Wrongly shaped metadata is reported value by value, never a panic,
    /// and good values beside bad ones are still used.
    #[test]
    fn bad_metadata_is_a_problem_not_a_panic() {
        let kinds = |a: &Alert| {
            a.problems
                .iter()
                .map(AlertProblem::kind)
                .collect::<Vec<_>>()
        };
        let a = alert_of(&format!(r#"{{"sightline_id":"{ID}"}}"#));
        assert!(a.indicators.is_empty());
        assert_eq!(kinds(&a), ["id not a list"]);
        assert_eq!(
            a.problems[0].to_string(),
            "`alert.metadata.sightline_id` is a string, not a list of strings"
        );
        let a = alert_of(&format!(
            r#"{{"sightline_id":[17,null,{{"a":1}},"malware--3c01ab7e-6b8a-4c1d-9e2f-0a1b2c3d4e5f","indicator--nope","{ID}"]}}"#
        ));
        assert_eq!(a.indicators, vec![ID.to_owned()]);
        assert_eq!(
            kinds(&a),
            [
                "id not a string",
                "id not a string",
                "id not a string",
                "not an indicator id",
                "not an indicator id"
            ]
        );
        assert!(
            a.problems[3]
                .to_string()
                .contains("[3]` is not an indicator id"),
            "{}",
            a.problems[3]
        );
        let a = alert_of(r#"{"sightline_id":12}"#);
        assert_eq!(kinds(&a), ["id not a list"]);
        let a = alert_of(r#"["sightline_id"]"#);
        assert_eq!(kinds(&a), ["metadata not an object"]);
        let huge: Vec<String> = (0..10_000).map(|_| format!("\"{ID}\"")).collect();
        let a = alert_of(&format!(r#"{{"sightline_id":[{}]}}"#, huge.join(",")));
        assert!(a.indicators.is_empty());
        assert_eq!(a.problems, vec![AlertProblem::TooMany { len: 10_000 }]);
        let long = "x".repeat(100_000);
        let a = alert_of(&format!(r#"{{"sightline_id":["{long}"]}}"#));
        match &a.problems[..] {
            [AlertProblem::NotAnIndicator { value, .. }] => assert_eq!(value.len(), QUOTE),
            other => panic!("{other:?}"),
        }
        let line = eve_alert("{}").replace(
            r#""alert":{"action""#,
            r#""alert":"sightline_id","x":{"action""#,
        );
        // The adapter accepts any `alert` value; the metadata reader says
        // what is wrong with it.
        let a = alert(line.as_bytes()).unwrap_or_else(|| panic!("{line}"));
        assert_eq!(kinds(&a), ["alert not an object"]);
        // A sid of the wrong type is left out, the ids still read.
        let a = alert(
            eve_alert(&format!(r#"{{"sightline_id":["{ID}"]}}"#))
                .replace("1900001", "\"1900001\"")
                .as_bytes(),
        )
        .unwrap_or_else(|| panic!("alert"));
        assert_eq!((a.sid, a.indicators.len()), (None, 1));
    }

    #[test]
    fn event_type_needs_its_section() {
        let e = parse(
            r#"{"timestamp":"2024-01-15T10:00:00Z","event_type":"http","src_ip":"10.0.0.1","dest_ip":"10.0.0.2"}"#,
        );
        assert_eq!(e.err(), Some(EventError::missing("http")));
        let e = parse(r#"{"timestamp":"2024-01-15T10:00:00Z","event_type":"stats","stats":{}}"#);
        assert!(matches!(e, Err(EventError::Unsupported { .. })));
    }
}
