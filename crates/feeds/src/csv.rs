//! CSV files and plain lists (abuse.ch style; MISP's CSV feed rules, digest
//! §4.3): `#` comments and blank lines skipped, a header row skipped, one
//! indicator per line from a column mapping (1-based columns: value, type
//! or a fixed type, first seen, description, confidence). Values are
//! refanged (`hxxp`, `[.]`, `(.)`, `[:]`, `[dot]`) and typed by their shape
//! when no type is given.
//!
//! Each line becomes an `indicator` with a STIX pattern whose id is a UUIDv5
//! of (feed, type, value), so a re-sync finds the same object: unchanged
//! lines are duplicates, a changed description or confidence is a new
//! version (`modified` now, `created` kept).

use serde::{Deserialize, Serialize};

/// The column mapping of a CSV feed. Columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvOptions {
    /// The field separator: one character, `\t` for a tab.
    pub delimiter: String,
    pub value_column: usize,
    /// A column holding each line's type (see [`IndicatorType::parse`]).
    pub type_column: Option<usize>,
    /// The type of every line (`auto`: by the value's shape). Used when no
    /// type column is given, or its cell is empty.
    pub fixed_type: Option<String>,
    pub first_seen_column: Option<usize>,
    pub description_column: Option<usize>,
    pub confidence_column: Option<usize>,
    /// The confidence of every line (0-100) when there is no column.
    pub confidence: Option<u8>,
    /// Skip the first line that is not a comment. Without it, a first line
    /// whose value cell is a plain word (`url`, `dst_ip`) is taken as a header.
    pub header: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: ",".into(),
            value_column: 1,
            type_column: None,
            fixed_type: None,
            first_seen_column: None,
            description_column: None,
            confidence_column: None,
            confidence: None,
            header: false,
        }
    }
}

impl CsvOptions {
    pub fn is_default(&self) -> bool {
        *self == CsvOptions::default()
    }

    pub(crate) fn delimiter_char(&self) -> Option<char> {
        if self.delimiter == "\\t" {
            return Some('\t');
        }
        let mut cs = self.delimiter.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.delimiter_char().is_none() {
            return Err(format!(
                "delimiter {:?} is not one character (or \\t)",
                self.delimiter
            ));
        }
        let cols = [
            Some(self.value_column),
            self.type_column,
            self.first_seen_column,
            self.description_column,
            self.confidence_column,
        ];
        if cols.iter().flatten().any(|&c| c == 0) {
            return Err("CSV columns are numbered from 1".into());
        }
        if let Some(t) = &self.fixed_type {
            if t != "auto" && IndicatorType::parse(t).is_none() {
                return Err(format!(
                    "unknown indicator type {t:?} ({})",
                    IndicatorType::NAMES
                ));
            }
        }
        if self.confidence.is_some_and(|c| c > 100) {
            return Err("confidence is 0-100".into());
        }
        Ok(())
    }
}

/// What a line's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorType {
    Ipv4,
    Ipv6,
    /// `1.2.3.4:443` (Feodo Tracker style).
    Ipv4Port,
    Domain,
    Url,
    Md5,
    Sha1,
    Sha256,
    Email,
}

impl IndicatorType {
    pub const NAMES: &'static str =
        "auto, ip, ipv4, ipv6, ip:port, domain, hostname, url, md5, sha1, sha256, hash, email";

    /// A type name as feeds write them. `ip` and `hash` are refined by the value.
    pub fn parse(s: &str) -> Option<IndicatorType> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "ipv4" | "ipv4-addr" | "ip" | "ip-dst" | "ip-src" | "dst_ip" | "src_ip" => {
                IndicatorType::Ipv4
            }
            "ipv6" | "ipv6-addr" => IndicatorType::Ipv6,
            "ip:port" | "ip-dst|port" | "ip_port" => IndicatorType::Ipv4Port,
            "domain" | "domain-name" | "hostname" | "fqdn" => IndicatorType::Domain,
            "url" | "uri" | "link" => IndicatorType::Url,
            "md5" | "md5_hash" => IndicatorType::Md5,
            "sha1" | "sha-1" | "sha1_hash" => IndicatorType::Sha1,
            "sha256" | "sha-256" | "sha256_hash" | "hash" => IndicatorType::Sha256,
            "email" | "email-addr" | "email-src" | "email-dst" => IndicatorType::Email,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorType::Ipv4 => "ipv4",
            IndicatorType::Ipv6 => "ipv6",
            IndicatorType::Ipv4Port => "ip:port",
            IndicatorType::Domain => "domain",
            IndicatorType::Url => "url",
            IndicatorType::Md5 => "md5",
            IndicatorType::Sha1 => "sha1",
            IndicatorType::Sha256 => "sha256",
            IndicatorType::Email => "email",
        }
    }

    /// The type of `v` by its shape, or None.
    pub fn detect(v: &str) -> Option<IndicatorType> {
        let hex = |n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_hexdigit());
        if hex(32) {
            return Some(IndicatorType::Md5);
        }
        if hex(40) {
            return Some(IndicatorType::Sha1);
        }
        if hex(64) {
            return Some(IndicatorType::Sha256);
        }
        if v.parse::<std::net::Ipv4Addr>().is_ok() {
            return Some(IndicatorType::Ipv4);
        }
        if v.parse::<std::net::Ipv6Addr>().is_ok() {
            return Some(IndicatorType::Ipv6);
        }
        if v.parse::<std::net::SocketAddrV4>().is_ok() {
            return Some(IndicatorType::Ipv4Port);
        }
        if let Some((scheme, rest)) = v.split_once("://") {
            let scheme_ok = !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if scheme_ok && !rest.is_empty() {
                return Some(IndicatorType::Url);
            }
            return None;
        }
        if let Some((local, domain)) = v.split_once('@') {
            if !local.is_empty() && is_domain(domain) {
                return Some(IndicatorType::Email);
            }
            return None;
        }
        if is_domain(v) {
            return Some(IndicatorType::Domain);
        }
        None
    }

    /// Whether `v` has this type's shape (what `detect` would accept).
    fn accepts(self, v: &str) -> bool {
        match self {
            IndicatorType::Domain => is_domain(v),
            IndicatorType::Url => IndicatorType::detect(v) == Some(IndicatorType::Url),
            t => IndicatorType::detect(v) == Some(t),
        }
    }
}

fn is_domain(v: &str) -> bool {
    let labels: Vec<&str> = v.trim_end_matches('.').split('.').collect();
    labels.len() >= 2
        && v.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80)
        })
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| !b.is_ascii_digit()))
}

/// Undoes the usual defanging: `hxxp(s)` -> `http(s)`, `[.]` `(.)` `{.}`
/// `[dot]` -> `.`, `[:]` -> `:`, `[@]` `[at]` -> `@`, `[://]` -> `://`.
pub fn refang(v: &str) -> String {
    let mut s = v.trim().to_owned();
    for (from, to) in [
        ("[://]", "://"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("[:]", ":"),
        ("[@]", "@"),
        ("[at]", "@"),
    ] {
        s = s.replace(from, to);
    }
    let lower = s.to_ascii_lowercase();
    for (from, to) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("hxxps[", "https["),
        ("hxxp[", "http["),
    ] {
        if lower.starts_with(from) {
            s = format!("{to}{}", &s[from.len()..]);
            break;
        }
    }
    s
}

/// Splits one CSV line: `"` quotes a field (`""` is a quote inside one).
pub(crate) fn split_line(line: &str, delim: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            c if c == delim && !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|f| f.trim().trim_matches('\'').trim().to_owned())
        .collect()
}

/// One line of a list, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub line: usize,
    pub value: String,
    pub ty: IndicatorType,
    pub first_seen: Option<String>,
    pub description: Option<String>,
    pub confidence: Option<u8>,
}

/// A line that could not be read, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub message: String,
}

/// Reads a list: the lines to convert and the lines refused.
pub fn read(text: &str, o: &CsvOptions) -> (Vec<Line>, Vec<BadLine>) {
    let delim = o.delimiter_char().unwrap_or(',');
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let t = raw.trim().trim_start_matches('\u{feff}');
        if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
            continue;
        }
        let cells = split_line(t, delim);
        let was_first = std::mem::replace(&mut first, false);
        if was_first && o.header {
            continue;
        }
        let cell = |c: Option<usize>| {
            c.and_then(|c| cells.get(c - 1))
                .map(String::as_str)
                .filter(|s| !s.is_empty())
        };
        let Some(raw_value) = cell(Some(o.value_column)) else {
            bad.push(BadLine {
                line: n,
                message: format!("no value in column {}", o.value_column),
            });
            continue;
        };
        let value = refang(raw_value);
        let named = cell(o.type_column).or(o.fixed_type.as_deref().filter(|t| *t != "auto"));
        let ty = match named {
            Some(name) => match IndicatorType::parse(name) {
                // `ip` and `hash` name families: the value says which.
                Some(t) => match IndicatorType::detect(&value) {
                    Some(d) if family(d) == family(t) => Some(d),
                    _ if t.accepts(&value) => Some(t),
                    _ => {
                        bad.push(BadLine {
                            line: n,
                            message: format!("{value:?} is not a {}", t.as_str()),
                        });
                        continue;
                    }
                },
                None => {
                    bad.push(BadLine {
                        line: n,
                        message: format!("unknown type {name:?} ({})", IndicatorType::NAMES),
                    });
                    continue;
                }
            },
            None => IndicatorType::detect(&value),
        };
        let Some(ty) = ty else {
            let word = value
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b' ' | b'-'));
            if was_first && word {
                continue; // a header row
            }
            bad.push(BadLine {
                line: n,
                message: format!("{value:?} is no IP, domain, URL, hash or email address"),
            });
            continue;
        };
        let confidence = match cell(o.confidence_column) {
            Some(c) => match c.parse::<u8>() {
                Ok(v) if v <= 100 => Some(v),
                _ => {
                    bad.push(BadLine {
                        line: n,
                        message: format!("confidence {c:?} is not 0-100"),
                    });
                    continue;
                }
            },
            None => o.confidence,
        };
        let first_seen = match cell(o.first_seen_column) {
            Some(s) => match stamp(s) {
                Some(ts) => Some(ts),
                None => {
                    bad.push(BadLine {
                        line: n,
                        message: format!("first seen {s:?} is not a date (YYYY-MM-DD[ HH:MM:SS])"),
                    });
                    continue;
                }
            },
            None => None,
        };
        good.push(Line {
            line: n,
            value,
            ty,
            first_seen,
            description: cell(o.description_column).map(str::to_owned),
            confidence,
        });
    }
    (good, bad)
}

fn family(t: IndicatorType) -> u8 {
    match t {
        IndicatorType::Ipv4 | IndicatorType::Ipv6 => 1,
        IndicatorType::Md5 | IndicatorType::Sha1 | IndicatorType::Sha256 => 2,
        _ => 0,
    }
}

/// A feed's date (`2024-01-31`, `2024-01-31 12:00:00`, RFC 3339) as a
/// STIX timestamp (UTC).
fn stamp(s: &str) -> Option<String> {
    let s = s.trim();
    let candidate = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else if s.len() == 19 && s.as_bytes().get(10) == Some(&b' ') {
        format!("{}T{}Z", &s[..10], &s[11..])
    } else {
        s.to_owned()
    };
    let ts = sightline_stix::Timestamp::parse(&candidate).ok()?;
    Some(ts.as_str().to_owned())
}

/// Escapes a pattern string literal (STIX 2.1 §9.4: `\` and `'`).
fn lit(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The STIX pattern of a line (digest §4.5's shapes).
pub fn pattern(ty: IndicatorType, v: &str) -> String {
    match ty {
        IndicatorType::Ipv4 => format!("[ipv4-addr:value = {}]", lit(v)),
        IndicatorType::Ipv6 => format!("[ipv6-addr:value = {}]", lit(v)),
        IndicatorType::Ipv4Port => {
            let (ip, port) = v.rsplit_once(':').unwrap_or((v, "0"));
            format!(
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = {} AND network-traffic:dst_port = {}]",
                lit(ip),
                port.parse::<u16>().unwrap_or(0)
            )
        }
        IndicatorType::Domain => format!("[domain-name:value = {}]", lit(&v.to_ascii_lowercase())),
        IndicatorType::Url => format!("[url:value = {}]", lit(v)),
        IndicatorType::Md5 => format!("[file:hashes.MD5 = {}]", lit(&v.to_ascii_lowercase())),
        IndicatorType::Sha1 => format!("[file:hashes.'SHA-1' = {}]", lit(&v.to_ascii_lowercase())),
        IndicatorType::Sha256 => {
            format!("[file:hashes.'SHA-256' = {}]", lit(&v.to_ascii_lowercase()))
        }
        IndicatorType::Email => format!("[email-addr:value = {}]", lit(v)),
    }
}

/// The indicator id of a line: UUIDv5 of (feed, type, value).
pub fn indicator_id(feed: &str, ty: IndicatorType, value: &str) -> String {
    let key = format!("csv\n{feed}\n{}\n{value}", ty.as_str());
    format!(
        "indicator--{}",
        uuid::Uuid::new_v5(&crate::namespace(), key.as_bytes())
    )
}

/// The indicator of a line, with `created`/`modified` given. The JSON is
/// built with sorted keys, so the same inputs give the same bytes.
pub fn indicator(feed: &str, l: &Line, created: &str, modified: &str) -> serde_json::Value {
    let mut o = serde_json::json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(feed, l.ty, &l.value),
        "created_by_ref": crate::feed_identity_id(feed),
        "created": created,
        "modified": modified,
        "name": l.value,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern(l.ty, &l.value),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": l.first_seen.as_deref().unwrap_or(created),
        "x_sightline_feed": feed,
    });
    if let Some(d) = &l.description {
        o["description"] = d.clone().into();
    }
    if let Some(c) = l.confidence {
        o["confidence"] = c.into();
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refanging() {
        assert_eq!(refang("hxxp://evil[.]example/a"), "http://evil.example/a");
        assert_eq!(
            refang("hXXps://evil(.)example[:]8443/"),
            "https://evil.example:8443/"
        );
        assert_eq!(refang("1.2.3[.]4"), "1.2.3.4");
        assert_eq!(refang("bad[dot]example"), "bad.example");
        assert_eq!(refang("a[@]b[.]example"), "a@b.example");
        assert_eq!(refang("hxxp[://]x[.]example"), "http://x.example");
    }

    #[test]
    fn detection() {
        use IndicatorType::*;
        for (v, t) in [
            ("1.2.3.4", Some(Ipv4)),
            ("2001:db8::1", Some(Ipv6)),
            ("1.2.3.4:443", Some(Ipv4Port)),
            ("evil.example", Some(Domain)),
            ("http://evil.example/x", Some(Url)),
            ("d41d8cd98f00b204e9800998ecf8427e", Some(Md5)),
            ("da39a3ee5e6b4b0d3255bfef95601890afd80709", Some(Sha1)),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Some(Sha256),
            ),
            ("a@evil.example", Some(Email)),
            ("url", None),
            ("1.2.3", None),
            ("999.1.1.1", None),
        ] {
            assert_eq!(IndicatorType::detect(v), t, "{v}");
        }
    }

    #[test]
    fn csv_with_header_comments_and_quotes() {
        let text = "# abuse.ch URLhaus\n\
            # id,dateadded,url\n\
            \"id\",\"dateadded\",\"url\",\"threat\"\n\
            \"1\",\"2024-01-31 12:00:00\",\"hxxp://evil[.]example/a.exe\",\"malware_download\"\n\
            \"2\",\"2024-02-01 00:00:00\",\"not a url\",\"x\"\n\
            \n";
        let o = CsvOptions {
            value_column: 3,
            first_seen_column: Some(2),
            description_column: Some(4),
            header: true,
            ..CsvOptions::default()
        };
        let (good, bad) = read(text, &o);
        assert_eq!(good.len(), 1, "{bad:?}");
        assert_eq!(good[0].value, "http://evil.example/a.exe");
        assert_eq!(good[0].ty, IndicatorType::Url);
        assert_eq!(good[0].first_seen.as_deref(), Some("2024-01-31T12:00:00Z"));
        assert_eq!(good[0].description.as_deref(), Some("malware_download"));
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 5);
    }

    #[test]
    fn plain_list_header_detected_and_typed_column() {
        let (good, bad) = read("ip\n1.2.3.4\n5.6.7[.]8\n", &CsvOptions::default());
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(good.len(), 2);
        let o = CsvOptions {
            type_column: Some(2),
            ..CsvOptions::default()
        };
        let (good, bad) = read("evil.example,domain\n1.2.3.4,hash\nabc,bogus\n", &o);
        assert_eq!(good.len(), 1);
        assert_eq!(bad.len(), 2, "{bad:?}");
    }

    #[test]
    fn patterns_escape_and_parse() {
        let p = pattern(IndicatorType::Url, "http://x.example/a'b\\c");
        assert_eq!(p, r"[url:value = 'http://x.example/a\'b\\c']");
        use sightline_stix::PatternChecker as _;
        for (t, v) in [
            (IndicatorType::Ipv4Port, "1.2.3.4:443"),
            (
                IndicatorType::Sha1,
                "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            ),
            (IndicatorType::Url, "http://x.example/a'b\\c"),
            (IndicatorType::Email, "a@b.example"),
        ] {
            let p = pattern(t, v);
            assert!(
                sightline_pattern::StixPatternChecker.check(&p).is_ok(),
                "{p}"
            );
        }
    }
}
