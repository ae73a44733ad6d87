//! Zeek JSON logs (`LogAscii::use_json=T`): conn, dns, http, files, ssl and
//! x509. One struct holds the fields of every kind, so a line is parsed once;
//! the kind comes from `_path` when present, else from which fields are there.

use serde::Deserialize;
use sightline_matcher::{Object as Map, Observation, Text, Value};

use super::de::{AnyStr, Str, Time};
use super::sco::{protocols, sco, set_str, set_u64, End, Scos};
use super::time::to_stix;
use super::{parse_json, EventError};

/// The Zeek logs the adapter understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeekKind {
    Conn,
    Dns,
    Http,
    Files,
    Ssl,
    X509,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record<'a> {
    #[serde(rename = "_path", borrow)]
    path: Option<Str<'a>>,
    ts: Option<Time>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Option<Str<'a>>,
    #[serde(rename = "id.orig_p")]
    orig_p: Option<u16>,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Option<Str<'a>>,
    #[serde(rename = "id.resp_p")]
    resp_p: Option<u16>,
    #[serde(borrow)]
    proto: Option<Str<'a>>,
    // conn
    #[serde(borrow)]
    service: Option<Str<'a>>,
    duration: Option<f64>,
    orig_bytes: Option<u64>,
    resp_bytes: Option<u64>,
    orig_pkts: Option<u64>,
    resp_pkts: Option<u64>,
    #[serde(borrow)]
    conn_state: Option<Str<'a>>,
    // dns
    #[serde(borrow)]
    query: Option<Str<'a>>,
    #[serde(borrow)]
    qtype_name: Option<Str<'a>>,
    #[serde(borrow)]
    answers: Option<Vec<Str<'a>>>,
    // http
    #[serde(borrow)]
    host: Option<Str<'a>>,
    #[serde(borrow)]
    uri: Option<Str<'a>>,
    #[serde(borrow)]
    method: Option<Str<'a>>,
    #[serde(borrow)]
    user_agent: Option<Str<'a>>,
    #[serde(borrow)]
    referrer: Option<Str<'a>>,
    /// HTTP version ("1.1") in http.log, TLS version in ssl.log.
    #[serde(borrow)]
    version: Option<Str<'a>>,
    request_body_len: Option<u64>,
    // files
    #[serde(borrow)]
    fuid: Option<Str<'a>>,
    #[serde(borrow)]
    filename: Option<Str<'a>>,
    #[serde(borrow)]
    mime_type: Option<Str<'a>>,
    total_bytes: Option<u64>,
    seen_bytes: Option<u64>,
    #[serde(borrow)]
    md5: Option<Str<'a>>,
    #[serde(borrow)]
    sha1: Option<Str<'a>>,
    #[serde(borrow)]
    sha256: Option<Str<'a>>,
    #[serde(borrow)]
    tx_hosts: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    rx_hosts: Option<Vec<Str<'a>>>,
    // ssl
    #[serde(borrow)]
    server_name: Option<Str<'a>>,
    #[serde(borrow)]
    cipher: Option<Str<'a>>,
    #[serde(borrow)]
    subject: Option<Str<'a>>,
    #[serde(borrow)]
    issuer: Option<Str<'a>>,
    // x509: the file id is `id` (older Zeek) or `fuid`; `id` is the conn
    // 4-tuple record in other logs, so any shape is accepted.
    #[serde(borrow)]
    id: AnyStr<'a>,
    #[serde(rename = "certificate.version")]
    cert_version: Option<u32>,
    #[serde(rename = "certificate.serial", borrow)]
    cert_serial: Option<Str<'a>>,
    #[serde(rename = "certificate.subject", borrow)]
    cert_subject: Option<Str<'a>>,
    #[serde(rename = "certificate.issuer", borrow)]
    cert_issuer: Option<Str<'a>>,
    #[serde(rename = "certificate.not_valid_before")]
    cert_not_before: Option<Time>,
    #[serde(rename = "certificate.not_valid_after")]
    cert_not_after: Option<Time>,
    #[serde(rename = "certificate.key_alg", borrow)]
    cert_key_alg: Option<Str<'a>>,
    #[serde(rename = "certificate.sig_alg", borrow)]
    cert_sig_alg: Option<Str<'a>>,
    #[serde(rename = "certificate.exponent", borrow)]
    cert_exponent: Option<Str<'a>>,
    #[serde(rename = "san.dns", borrow)]
    san_dns: Option<Vec<Str<'a>>>,
    /// SHA-256 of the certificate (Zeek ≥ 5.0, `X509::fingerprint`).
    #[serde(borrow)]
    fingerprint: Option<Str<'a>>,
}

impl Record<'_> {
    fn kind(&self) -> Result<ZeekKind, EventError> {
        if let Some(p) = &self.path {
            return match &**p {
                "conn" => Ok(ZeekKind::Conn),
                "dns" => Ok(ZeekKind::Dns),
                "http" => Ok(ZeekKind::Http),
                "files" => Ok(ZeekKind::Files),
                "ssl" => Ok(ZeekKind::Ssl),
                "x509" => Ok(ZeekKind::X509),
                other => Err(EventError::Unsupported {
                    what: format!("Zeek log `{other}`"),
                }),
            };
        }
        // No `_path`: the fields only one kind of log has.
        Ok(
            if self.cert_serial.is_some() || self.cert_subject.is_some() {
                ZeekKind::X509
            } else if self.method.is_some() || self.uri.is_some() {
                ZeekKind::Http
            } else if self.query.is_some() || self.qtype_name.is_some() || self.answers.is_some() {
                ZeekKind::Dns
            } else if self.fuid.is_some()
                && (self.md5.is_some()
                    || self.sha1.is_some()
                    || self.sha256.is_some()
                    || self.mime_type.is_some()
                    || self.seen_bytes.is_some())
            {
                ZeekKind::Files
            } else if self.server_name.is_some() || self.cipher.is_some() {
                ZeekKind::Ssl
            } else if self.conn_state.is_some() || self.orig_h.is_some() {
                ZeekKind::Conn
            } else {
                return Err(EventError::Unsupported {
                    what: "Zeek log: no `_path` and no fields of a known log".into(),
                });
            },
        )
    }

    fn ts(&self) -> Result<i64, EventError> {
        self.ts
            .map(|t| t.0)
            .ok_or_else(|| EventError::missing("ts"))
    }

    /// Adds the two endpoints and a `network-traffic` between them; `None`
    /// when the log has no connection 4-tuple.
    fn traffic(
        &self,
        s: &mut Scos,
        transport: Option<&str>,
        app: Option<&str>,
        ts: i64,
    ) -> Result<Option<Text>, EventError> {
        let (Some(oh), Some(rh)) = (&self.orig_h, &self.resp_h) else {
            return Ok(None);
        };
        let mut nt = s.flow(
            End {
                field: "id.orig_h",
                addr: oh,
                port: self.orig_p,
            },
            End {
                field: "id.resp_h",
                addr: rh,
                port: self.resp_p,
            },
        )?;
        let transport = self.proto.as_deref().or(transport);
        nt.push(Text::const_new("protocols"), protocols(oh, transport, app));
        nt.push(Text::const_new("start"), Value::str(to_stix(ts)));
        Ok(Some(s.add(nt)))
    }
}

/// Parses one Zeek JSON line; `hint` forces the log kind.
pub fn parse(text: &str, hint: Option<ZeekKind>) -> Result<Observation, EventError> {
    let r: &Record = &parse_json(text)?;
    let kind = match hint {
        Some(k) => k,
        None => r.kind()?,
    };
    let ts = r.ts()?;
    let mut s = Scos::new();
    let mut last = ts;
    match kind {
        ZeekKind::Conn => {
            if r.orig_h.is_none() {
                return Err(EventError::missing("id.orig_h"));
            }
            if r.resp_h.is_none() {
                return Err(EventError::missing("id.resp_h"));
            }
            let key = r
                .traffic(&mut s, None, r.service.as_deref(), ts)?
                .unwrap_or_default();
            if let Some(d) = r.duration {
                if (0.0..1e9).contains(&d) {
                    last = ts + (d * 1e6).round() as i64;
                } else {
                    return Err(EventError::bad(
                        "duration",
                        format!("{d} is not a duration in seconds"),
                    ));
                }
            }
            if let Some(nt) = s.get_mut(&key) {
                // Keys the flow does not have yet: push without a lookup.
                if last != ts {
                    nt.push(Text::const_new("end"), Value::str(to_stix(last)));
                }
                for (k, v) in [
                    ("src_byte_count", r.orig_bytes),
                    ("dst_byte_count", r.resp_bytes),
                    ("src_packets", r.orig_pkts),
                    ("dst_packets", r.resp_pkts),
                ] {
                    if let Some(v) = v {
                        nt.push(Text::const_new(k), Value::from(v));
                    }
                }
            }
        }
        ZeekKind::Dns => {
            let query = r.query.as_deref().filter(|q| !q.is_empty() && *q != "-");
            if query.is_none() && r.answers.is_none() {
                return Err(EventError::missing("query"));
            }
            let qkey = query.map(|q| s.add_value("domain-name", q));
            let mut resolved = Vec::new();
            for a in r.answers.iter().flatten() {
                if let Some(k) = s.add_ip(a) {
                    resolved.push(Value::str(k));
                } else if super::sco::is_hostname(a) {
                    resolved.push(Value::str(s.add_value("domain-name", a)));
                }
            }
            if let (Some(q), false) = (&qkey, resolved.is_empty()) {
                resolved.retain(|k| k.as_str() != Some(q.as_str()));
                if let Some(d) = s.get_mut(q) {
                    if !resolved.is_empty() {
                        d.insert("resolves_to_refs", Value::Array(resolved));
                    }
                }
            }
            r.traffic(&mut s, Some("udp"), Some("dns"), ts)?;
        }
        ZeekKind::Http => http(r, &mut s, ts)?,
        ZeekKind::Files => {
            let mut f = sco("file");
            let mut hashes = Map::new();
            for (k, v) in [("MD5", &r.md5), ("SHA-1", &r.sha1), ("SHA-256", &r.sha256)] {
                if let Some(v) = v {
                    hashes.insert(k, Value::str(v.to_string()));
                }
            }
            if hashes.is_empty() && r.filename.is_none() {
                return Err(EventError::missing("md5, sha1, sha256 or filename"));
            }
            if !hashes.is_empty() {
                f.insert("hashes", Value::Object(hashes));
            }
            if let Some(n) = &r.filename {
                set_str(&mut f, "name", n);
            }
            if let Some(n) = r.total_bytes.or(r.seen_bytes) {
                set_u64(&mut f, "size", n);
            }
            if let Some(m) = &r.mime_type {
                set_str(&mut f, "mime_type", m);
            }
            s.add(f);
            if r.traffic(&mut s, Some("tcp"), None, ts)?.is_none() {
                // Older files.log: the hosts that sent and received the file.
                let tx = r.tx_hosts.as_ref().and_then(|h| h.first());
                let rx = r.rx_hosts.as_ref().and_then(|h| h.first());
                if let (Some(tx), Some(rx)) = (tx, rx) {
                    if let (Some(src), Some(dst)) = (s.add_ip(tx), s.add_ip(rx)) {
                        let mut nt = sco("network-traffic");
                        set_str(&mut nt, "src_ref", &src);
                        set_str(&mut nt, "dst_ref", &dst);
                        nt.insert("protocols", protocols(tx, Some("tcp"), None));
                        s.add(nt);
                    }
                }
            }
        }
        ZeekKind::Ssl => {
            if let Some(n) = r
                .server_name
                .as_deref()
                .filter(|n| !n.is_empty() && *n != "-")
            {
                s.add_value("domain-name", n);
            }
            if r.subject.is_some() || r.issuer.is_some() {
                let mut c = sco("x509-certificate");
                if let Some(v) = &r.subject {
                    set_str(&mut c, "subject", v);
                }
                if let Some(v) = &r.issuer {
                    set_str(&mut c, "issuer", v);
                }
                s.add(c);
            }
            r.traffic(&mut s, Some("tcp"), Some("tls"), ts)?;
            if s.is_empty() {
                return Err(EventError::missing("server_name or id.orig_h/id.resp_h"));
            }
        }
        ZeekKind::X509 => {
            let mut c = sco("x509-certificate");
            if r.cert_serial.is_none() && r.cert_subject.is_none() {
                return Err(EventError::missing("certificate.serial"));
            }
            for (k, v) in [
                ("serial_number", &r.cert_serial),
                ("subject", &r.cert_subject),
                ("issuer", &r.cert_issuer),
                ("signature_algorithm", &r.cert_sig_alg),
                ("subject_public_key_algorithm", &r.cert_key_alg),
            ] {
                if let Some(v) = v {
                    set_str(&mut c, k, v);
                }
            }
            if let Some(v) = r.cert_version {
                set_str(&mut c, "version", &v.to_string());
            }
            if let Some(t) = r.cert_not_before {
                set_str(&mut c, "validity_not_before", &to_stix(t.0));
            }
            if let Some(t) = r.cert_not_after {
                set_str(&mut c, "validity_not_after", &to_stix(t.0));
            }
            if let Some(e) = r
                .cert_exponent
                .as_deref()
                .and_then(|e| e.parse::<u64>().ok())
            {
                set_u64(&mut c, "subject_public_key_exponent", e);
            }
            if let Some(fp) = &r.fingerprint {
                let mut h = Map::new();
                h.insert("SHA-256", Value::str(fp.to_string()));
                c.insert("hashes", Value::Object(h));
            }
            if let Some(names) = r.san_dns.as_ref().filter(|n| !n.is_empty()) {
                let san = names
                    .iter()
                    .map(|n| format!("DNS:{}", &**n))
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut ext = Map::new();
                ext.insert("subject_alternative_name", Value::str(san));
                c.insert("x509_v3_extensions", Value::Object(ext));
            }
            s.add(c);
        }
    }
    Ok(s.into_observation(ts, last))
}

/// http.log: the `url` (host + uri), the host's `domain-name`, and the
/// connection with an `http-request-ext` (STIX 2.1 §6.12.2).
fn http(r: &Record, s: &mut Scos, ts: i64) -> Result<(), EventError> {
    let host = r.host.as_deref().filter(|h| !h.is_empty() && *h != "-");
    let uri = r.uri.as_deref().filter(|u| !u.is_empty() && *u != "-");
    if let Some(u) = uri {
        let value = if u.starts_with("http://") || u.starts_with("https://") {
            // A proxy request carries the absolute URL.
            u.to_owned()
        } else {
            let h = match (host, r.resp_h.as_deref()) {
                (Some(h), _) => h.to_owned(),
                (None, Some(ip)) if ip.contains(':') => format!("[{ip}]"),
                (None, Some(ip)) => ip.to_owned(),
                (None, None) => return Err(EventError::missing("host")),
            };
            let sep = if u.starts_with('/') { "" } else { "/" };
            format!("http://{h}{sep}{u}")
        };
        s.add_value("url", &value);
    } else if host.is_none() {
        return Err(EventError::missing("uri"));
    }
    if let Some(h) = host {
        // The Host header may carry a port; the domain is the name before it.
        let name = match h.rsplit_once(':') {
            Some((n, p)) if !n.contains(':') && p.bytes().all(|c| c.is_ascii_digit()) => n,
            _ => h,
        };
        if s.add_ip(name).is_none() && super::sco::is_hostname(name) {
            s.add_value("domain-name", name);
        }
    }
    if let Some(key) = r.traffic(s, Some("tcp"), Some("http"), ts)? {
        let mut ext = Map::new();
        set_str(
            &mut ext,
            "request_method",
            r.method.as_deref().filter(|m| *m != "-").unwrap_or("GET"),
        );
        set_str(&mut ext, "request_value", uri.unwrap_or("/"));
        if let Some(v) = r.version.as_deref().filter(|v| *v != "-") {
            set_str(&mut ext, "request_version", &format!("http/{v}"));
        }
        let mut headers = Map::new();
        for (k, v) in [
            ("Host", host),
            ("User-Agent", r.user_agent.as_deref()),
            ("Referer", r.referrer.as_deref()),
        ] {
            if let Some(v) = v.filter(|v| *v != "-") {
                set_str(&mut headers, k, v);
            }
        }
        if !headers.is_empty() {
            ext.insert("request_header", Value::Object(headers));
        }
        if let Some(n) = r.request_body_len.filter(|n| *n > 0) {
            set_u64(&mut ext, "message_body_length", n);
        }
        let mut exts = Map::new();
        exts.insert("http-request-ext", Value::Object(ext));
        if let Some(nt) = s.get_mut(&key) {
            nt.insert("extensions", Value::Object(exts));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(line: &str) -> Observation {
        parse(line, None).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    #[test]
    fn kind_from_fields_without_path() {
        let o = obs(
            r#"{"ts":1700000000.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5353,"id.resp_h":"8.8.8.8","id.resp_p":53,"proto":"udp","query":"example.com","answers":["93.184.216.34"]}"#,
        );
        assert_eq!(o.objects[0].1["type"], "domain-name");
        assert_eq!(o.objects[0].1["resolves_to_refs"], serde_json::json!(["1"]));
        assert_eq!(o.first_observed, 1_700_000_000_500_000);
        let o = obs(
            r#"{"ts":1700000000,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","proto":"tcp","conn_state":"S0","duration":1.25}"#,
        );
        assert_eq!(o.last_observed - o.first_observed, 1_250_000);
    }

    #[test]
    fn unknown_log_is_unsupported_not_a_crash() {
        let e = parse(r#"{"_path":"weird","ts":1.0}"#, None);
        assert!(matches!(e, Err(EventError::Unsupported { .. })), "{e:?}");
        let e = parse(
            r#"{"_path":"conn","ts":1.0,"id.orig_h":"10.0.0.1","id.resp_h":"nope"}"#,
            None,
        );
        assert!(
            matches!(e, Err(EventError::BadValue { ref field, .. }) if field == "id.resp_h"),
            "{e:?}"
        );
        let e = parse(
            r#"{"_path":"conn","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2"}"#,
            None,
        );
        assert_eq!(e, Err(EventError::missing("ts")));
    }

    #[test]
    fn http_url_from_host_and_uri() {
        let o = obs(
            r#"{"_path":"http","ts":1.0,"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"2001:db8::1","id.resp_p":8080,"method":"POST","uri":"/a?b=c","version":"1.1","user_agent":"curl/8"}"#,
        );
        assert_eq!(o.objects[0].1["value"], "http://[2001:db8::1]/a?b=c");
        let nt = &o.objects.last().map(|p| p.1.clone()).unwrap_or_default();
        let ext = &nt["extensions"]["http-request-ext"];
        assert_eq!(ext["request_method"], "POST");
        assert_eq!(ext["request_header"]["User-Agent"], "curl/8");
    }
}
