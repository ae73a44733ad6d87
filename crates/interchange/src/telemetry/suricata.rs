//! Suricata EVE JSON: `flow`, `dns` (v1 one record per query/answer, v2
//! `answers`/`grouped`, v3 `queries`), `http`, `tls`, `fileinfo` and `alert`.
//! Every event gives the `network-traffic` of its 5-tuple; the application
//! sections present (an alert or fileinfo carries its `http`/`tls`/`dns`) add
//! their SCOs.

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
